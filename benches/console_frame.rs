//! Frame time of the console over a 100,000-row list. The fake service holds the 100,000 rows;
//! the console holds only the page on screen plus a little, as it does against the daemon.
//! Prints medians and the 99th percentile of: a selection move drawn through the real
//! `Screen` (render, diff, write), a full repaint, a reducer step alone, and a page jump that
//! needs a new page from the service. `cargo bench --bench console_frame`.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orderdeck::console::keymap::Keymap;
use orderdeck::console::theme::Theme;
use orderdeck::console::{Action, Screen, State, settle, start, update};
use orderdeck::domain::access::Role;
use orderdeck::service::api::{PROTOCOL_VERSION, Request, Response};
use orderdeck::service::client::Client;

#[path = "../tests/it/console/seed.rs"]
mod seed;
// Shared with the integration tests, which use parts the benchmark does not.
#[allow(dead_code)]
#[path = "../tests/it/console/fake_client.rs"]
mod fake_client;
#[path = "../tests/it/console/fake_query.rs"]
mod fake_query;

const ROWS: usize = 100_000;
const SIZE: (u16, u16) = (200, 50);

#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{what:<44} median {:>8.1} µs   p99 {:>8.1} µs   ({} runs)",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        samples.len()
    );
}

async fn open(client: &fake_client::FakeClient) -> State {
    let Ok(Response::Welcome(welcome)) = client
        .call(Request::Hello {
            protocol: PROTOCOL_VERSION,
            ssh_connection: None,
        })
        .await
    else {
        panic!("the fake says hello");
    };
    let mut state = State::new(
        &welcome,
        Keymap::defaults(),
        Theme::ansi16(),
        seed::now(),
        SIZE,
    );
    let effects = start(&mut state);
    settle(client, &mut state, effects).await;
    let effects = update(&mut state, Action::ViewPending);
    settle(client, &mut state, effects).await;
    state
}

fn main() -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let client = fake_client::FakeClient::with_sizes(Some(Role::Operator), ROWS, 12);
    let mut state = runtime.block_on(open(&client));
    assert_eq!(state.pending.total, ROWS);
    println!(
        "{ROWS} rows in the service, {} held by the console, screen {}x{}",
        state.pending.rows.len(),
        SIZE.0,
        SIZE.1
    );
    let counter = Counter::default();
    let mut screen = Screen::new(counter.clone(), SIZE)?;
    screen.draw(&state)?;

    // A step down then up, so every frame really changes two rows.
    let mut moves = Vec::new();
    counter.0.store(0, Ordering::Relaxed);
    for i in 0..4_000 {
        let action = if i % 2 == 0 { Action::Down } else { Action::Up };
        let effects = update(&mut state, action);
        runtime.block_on(settle(&client, &mut state, effects));
        let started = Instant::now();
        screen.draw(&state)?;
        moves.push(started.elapsed());
    }
    let bytes = counter.0.load(Ordering::Relaxed) / moves.len();
    report("selection move: render + diff + write", moves);
    println!("{:<44} {bytes} bytes per frame", "");

    let mut repaints = Vec::new();
    for _ in 0..300 {
        screen.repaint();
        let started = Instant::now();
        screen.draw(&state)?;
        repaints.push(started.elapsed());
    }
    report("full repaint", repaints);

    let mut steps = Vec::new();
    for i in 0..20_000 {
        let action = if i % 2 == 0 { Action::Down } else { Action::Up };
        let started = Instant::now();
        let effects = update(&mut state, action);
        steps.push(started.elapsed());
        runtime.block_on(settle(&client, &mut state, effects));
    }
    report("reducer step (no drawing)", steps);

    let mut jumps = Vec::new();
    counter.0.store(0, Ordering::Relaxed);
    for i in 0..300 {
        let action = if i % 50 < 25 {
            Action::PageDown
        } else {
            Action::PageUp
        };
        let started = Instant::now();
        let effects = update(&mut state, action);
        runtime.block_on(settle(&client, &mut state, effects));
        screen.draw(&state)?;
        jumps.push(started.elapsed());
    }
    let bytes = counter.0.load(Ordering::Relaxed) / jumps.len();
    report("page jump: new page from the fake + frame", jumps);
    println!("{:<44} {bytes} bytes per frame", "");
    println!(
        "still held after paging: {} rows of {}",
        state.pending.rows.len(),
        state.pending.total
    );
    Ok(())
}
