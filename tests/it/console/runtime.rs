//! The console's loop on a terminal it does not own: frames wrapped in synchronized output,
//! silence when idle, notifications reaching the screen, and a clean end on quit, on end of
//! input and on a read error (the dead-tty case).

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orderdeck::console::theme::ColorMode;
use orderdeck::console::{ConsoleOptions, View, run_on};
use orderdeck::domain::access::Role;
use orderdeck::domain::clock::FixedClock;
use orderdeck::service::client::ClientEvent;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::fake_client::FakeClient;
use super::seed;

/// Everything the console wrote, shared with the test.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<Vec<u8>>>);

impl Output {
    fn len(&self) -> usize {
        self.0.lock().expect("output").len()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("output")).into_owned()
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("output").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Running {
    client: Arc<FakeClient>,
    keys: mpsc::UnboundedSender<io::Result<TermEvent>>,
    output: Output,
    console: JoinHandle<anyhow::Result<()>>,
}

fn start() -> Running {
    start_with(None)
}

fn start_with(notice: Option<String>) -> Running {
    let client = Arc::new(FakeClient::new(Role::Operator));
    let (keys, input) = mpsc::unbounded_channel();
    let output = Output::default();
    let options = ConsoleOptions {
        clock: Arc::new(FixedClock::at_unix(seed::NOW_UNIX)),
        keymap: None,
        colors: ColorMode::Ansi16,
        view: View::Pending,
        link: None,
        notice,
        readonly: false,
        badge: None,
        mouse: false,
    };
    let console = tokio::spawn(run_on(
        client.clone(),
        options,
        input,
        output.clone(),
        (120, 36),
    ));
    Running {
        client,
        keys,
        output,
        console,
    }
}

fn key(c: char) -> io::Result<TermEvent> {
    Ok(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

async fn wait_for(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn ended(console: JoinHandle<anyhow::Result<()>>) {
    let result = tokio::time::timeout(Duration::from_secs(5), console)
        .await
        .expect("the console ends")
        .expect("the console task did not panic");
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn frames_are_whole_idle_is_silent_and_q_quits() {
    let run = start();
    wait_for("the first page", || {
        run.output.text().contains("showing 1–14 of 14")
    })
    .await;
    let text = run.output.text();
    assert_eq!(
        text.matches("\x1b[?2026h").count(),
        text.matches("\x1b[?2026l").count(),
        "every frame is wrapped in synchronized output"
    );
    let idle = run.output.len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(run.output.len(), idle, "an idle console writes nothing");

    run.keys.send(key('j')).expect("send");
    wait_for("the move to be drawn", || run.output.len() > idle).await;
    assert!(run.output.len() - idle < 600);
    run.keys.send(key('q')).expect("send");
    ended(run.console).await;
}

#[tokio::test]
async fn a_burst_of_keys_costs_few_frames() {
    let run = start();
    wait_for("the first page", || {
        run.output.text().contains("showing 1–14 of 14")
    })
    .await;
    let frames = |text: &str| text.matches("\x1b[?2026h").count();
    let before = frames(&run.output.text());
    for _ in 0..40 {
        run.keys.send(key('j')).expect("send");
        run.keys.send(key('k')).expect("send");
    }
    run.keys.send(key('j')).expect("send");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let drawn = frames(&run.output.text()) - before;
    assert!(drawn <= 3, "81 keys drew {drawn} frames");
    run.keys.send(key('q')).expect("send");
    ended(run.console).await;
}

#[tokio::test]
async fn notifications_reach_the_screen() {
    let run = start();
    wait_for("the first page", || {
        run.output.text().contains("showing 1–14 of 14")
    })
    .await;
    run.client.send(ClientEvent::Disconnected {
        reason: "daemon restarting".into(),
    });
    wait_for("the reconnecting state", || {
        run.output.text().contains("reconnecting")
    })
    .await;
    run.client.send(ClientEvent::Reconnected);
    wait_for("the reconnection", || {
        run.output.text().contains("reconnected")
    })
    .await;
    run.keys.send(key('q')).expect("send");
    ended(run.console).await;
}

#[tokio::test]
async fn the_end_of_input_ends_the_console() {
    let run = start();
    wait_for("the first page", || {
        run.output.text().contains("showing 1–14 of 14")
    })
    .await;
    drop(run.keys);
    ended(run.console).await;
}

#[tokio::test]
async fn a_read_error_ends_the_console() {
    let run = start();
    wait_for("the first page", || {
        run.output.text().contains("showing 1–14 of 14")
    })
    .await;
    run.keys
        .send(Err(io::Error::other("input/output error")))
        .expect("send");
    ended(run.console).await;
}

#[tokio::test]
async fn a_notice_stays_until_dismissed() {
    let run = start_with(Some(
        "operator console: orderdeck --config /tmp/od.toml".into(),
    ));
    wait_for("the notice", || {
        run.output
            .text()
            .contains("operator console: orderdeck --config /tmp/od.toml (d dismisses)")
    })
    .await;
    let shown = run.output.len();
    run.keys.send(key('d')).expect("send");
    wait_for("the notice to go", || run.output.len() > shown).await;
    run.keys.send(key('q')).expect("send");
    ended(run.console).await;
}
