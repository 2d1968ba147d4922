//! The terminal console: an operations screen for people keeping TikTok Shop orders flowing
//! into stores, built to feel quick over a slow SSH link.
//!
//! It is a client of the service only (`service::api`, `service::client`) and of the pure
//! `domain` types; it never touches the store, the engine or a platform. The shape:
//! keys → [`Action`] (through the live [`keymap`]) → [`update()`] changes the [`State`] and
//! returns [`Effect`]s (service calls as data) → the loop in [`run`] runs them and feeds
//! answers back through [`receive`]; [`draw`] is a pure function of the state and the
//! [`Screen`] writes only what changed. Confirmation, role gating and what gets audited are
//! decided in one place, the reducer.
//!
//! Start it with [`run`] on a [`Client`]; [`check_keymap`] is for `orderdeck check-config`.
//!
//! [`run`] is the console's one loop, and the only place it does IO. It waits for anything (a
//! key, an answer, a notification, a timer, a signal), then drains everything else already
//! waiting so a burst costs one frame, then draws — at most ~60 frames a second, and only when
//! something changed. It ends cleanly on quit, SIGHUP, SIGTERM, SIGINT, and on end-of-file or
//! a read error from the terminal (crossterm would otherwise spin on a dead tty). Service calls
//! run as tasks; their answers come back as events, so a slow daemon never freezes the keys.
//! On ctrl-z it gives the terminal back and stops like any job (`fg` resumes it, repainted).
//! With the mouse on, the wheel and clicks arrive as events like the keys.

pub mod action;
pub mod command;
pub mod effect;
pub mod keymap;
pub mod keys;
pub mod list;
pub mod screen;
pub mod settings_form;
pub mod state;
pub mod theme;
pub mod update;
pub mod view;

pub use action::{Action, Scope};
pub use effect::{Effect, Event};
pub use keymap::{KeymapProblem, check_keymap, check_keymap_text};
pub use screen::Screen;
pub use state::{Badge, State, View};
pub use theme::ColorMode;
pub use update::{handle_key, receive, start, update};
pub use view::draw;

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use ratatui::crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::domain::clock::{Clock, SystemClock, Timestamp, from_unix};
use crate::domain::ids::LinkId;
use crate::service::api::{PROTOCOL_VERSION, Request, Response};
use crate::service::client::{Client, ClientEvent};

use keymap::{Keymap, user_keymap_path};
use screen::TerminalGuard;

/// The shortest time between two frames (~60 fps).
const FRAME: Duration = Duration::from_millis(16);

/// How the console starts.
pub struct ConsoleOptions {
    /// "Now", for deadlines and ages (a fixed clock for demos and tests).
    pub clock: Arc<dyn Clock>,
    /// The user's keymap; `None` uses only the shipped keys.
    pub keymap: Option<PathBuf>,
    pub colors: ColorMode,
    pub view: View,
    /// Start narrowed to one link.
    pub link: Option<LinkId>,
    /// A message shown from the start until dismissed (the demo says how to attach to it).
    pub notice: Option<String>,
    /// `--readonly`: offer nothing that writes, whatever the role.
    pub readonly: bool,
    /// The header's environment label (`[console] label` and `colour`).
    pub badge: Option<Badge>,
    /// Take mouse events (`[console] mouse`, on by default).
    pub mouse: bool,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            clock: Arc::new(SystemClock),
            keymap: user_keymap_path(),
            colors: ColorMode::Auto,
            view: View::Stores,
            link: None,
            notice: None,
            readonly: false,
            badge: None,
            mouse: true,
        }
    }
}

/// Runs the console on this process's terminal until the person quits or the terminal goes.
/// The service is greeted before the terminal is taken over, so "cannot reach the daemon"
/// prints as a plain error.
pub async fn run(client: Arc<dyn Client>, options: ConsoleOptions) -> anyhow::Result<()> {
    let size = ratatui::crossterm::terminal::size().context("the console needs a terminal")?;
    let started = begin(client.as_ref(), &options, size).await?;
    let guard = TerminalGuard::enter(options.mouse).context("cannot take over the terminal")?;
    let output = BufWriter::with_capacity(1 << 16, io::stdout());
    let screen = Screen::new(output, size)?;
    let console = Loop {
        client,
        clock: options.clock,
        screen,
        terminal: Some(guard),
    };
    console
        .run(
            started.state,
            started.notifications,
            started.effects,
            read_terminal(),
        )
        .await
}

/// Terminal input as the console reads it: key, resize and paste events, ending (channel
/// closed) or failing when the terminal goes away.
pub type TerminalInput = mpsc::UnboundedReceiver<io::Result<TermEvent>>;

/// The console on any terminal: events from `input`, frames to `output`, `size` to start
/// with. For an embedding that owns the terminal itself (a pty in an end-to-end harness) and
/// for tests; [`run`] is this on the process's own terminal, in raw mode.
pub async fn run_on<W: Write>(
    client: Arc<dyn Client>,
    options: ConsoleOptions,
    input: TerminalInput,
    output: W,
    size: (u16, u16),
) -> anyhow::Result<()> {
    let started = begin(client.as_ref(), &options, size).await?;
    drive(client, options.clock, started, input, output, size).await
}

/// What the console knows before its first frame.
struct Started {
    state: State,
    notifications: tokio::sync::broadcast::Receiver<ClientEvent>,
    /// Effects owed from starting (a warning that fades).
    effects: Vec<Effect>,
}

/// Greets the service, subscribes to changes and builds the first state.
async fn begin(
    client: &dyn Client,
    options: &ConsoleOptions,
    size: (u16, u16),
) -> anyhow::Result<Started> {
    let (keymap, problems) = Keymap::load(options.keymap.as_deref());
    let hello = client
        .call(Request::Hello {
            protocol: PROTOCOL_VERSION,
            ssh_connection: std::env::var("SSH_CONNECTION").ok(),
        })
        .await
        .context("cannot reach the orderdeck service")?;
    let Response::Welcome(welcome) = hello else {
        bail!("the orderdeck service did not say hello");
    };
    if welcome.protocol != PROTOCOL_VERSION {
        bail!(
            "the orderdeck service speaks protocol {} and this console {PROTOCOL_VERSION}; use the same version of both",
            welcome.protocol
        );
    }
    // Subscribe before the first load, so no change between the two is missed. Without
    // notifications the console still works (ctrl-r refreshes), so a refusal is only a warning.
    let notifications = client.events();
    let subscribed = client.call(Request::Subscribe).await;
    let theme = options
        .colors
        .theme(std::env::var_os("NO_COLOR").as_deref());
    let mut state = State::new(&welcome, keymap, theme, minute(options.clock.now()), size);
    state.problems = problems;
    state.view = options.view;
    state.link = options.link.clone();
    state.session.readonly = options.readonly;
    state.badge = options.badge.clone();
    state.mouse = options.mouse;
    if let Some(notice) = &options.notice {
        update::notice(&mut state, theme::Level::Info, notice.clone());
    }
    let effects = match subscribed {
        Ok(_) => Vec::new(),
        Err(e) => update::toast(
            &mut state,
            theme::Level::Warning,
            format!("live updates are off: {e}"),
        ),
    };
    Ok(Started {
        state,
        notifications,
        effects,
    })
}

async fn drive<W: Write>(
    client: Arc<dyn Client>,
    clock: Arc<dyn Clock>,
    started: Started,
    input: TerminalInput,
    output: W,
    size: (u16, u16),
) -> anyhow::Result<()> {
    let screen = Screen::new(output, size)?;
    let console = Loop {
        client,
        clock,
        screen,
        terminal: None,
    };
    console
        .run(started.state, started.notifications, started.effects, input)
        .await
}

/// Runs effects one at a time until no call is left, feeding each answer back: the console
/// without a terminal or timers, for tests, benchmarks and scripted checks. Returns the
/// effects that are not calls (copies, timers, quit), in order.
pub async fn settle(client: &dyn Client, state: &mut State, effects: Vec<Effect>) -> Vec<Effect> {
    let mut queue: VecDeque<Effect> = effects.into();
    let mut others = Vec::new();
    while let Some(effect) = queue.pop_front() {
        match effect {
            Effect::Call { ticket, request } => {
                let result = client.call(request).await;
                queue.extend(receive(state, Event::Reply { ticket, result }));
            }
            other => others.push(other),
        }
    }
    others
}

/// `at` without seconds: what the screen shows only changes once a minute.
fn minute(at: Timestamp) -> Timestamp {
    let secs = at.timestamp();
    from_unix(secs - secs.rem_euclid(60))
}

struct Loop<W: Write> {
    client: Arc<dyn Client>,
    clock: Arc<dyn Clock>,
    screen: Screen<W>,
    /// The process's own terminal, when the console took it over (so it can be suspended).
    terminal: Option<TerminalGuard>,
}

/// What one wake-up brought.
enum Wake {
    Effects(Vec<Effect>),
    Exit,
}

impl<W: Write> Loop<W> {
    async fn run(
        mut self,
        mut state: State,
        mut notifications: tokio::sync::broadcast::Receiver<ClientEvent>,
        mut first: Vec<Effect>,
        mut input: TerminalInput,
    ) -> anyhow::Result<()> {
        let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
        let mut hangup = signal(SignalKind::hangup())?;
        let mut terminate = signal(SignalKind::terminate())?;
        // In raw mode ctrl-c is a key; a SIGINT can still come from `kill -INT`, and must not
        // leave the terminal raw on the alternate screen.
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut clock_tick = tokio::time::interval(Duration::from_secs(60));
        let mut notifications_open = true;
        let mut last_frame: Option<Instant> = None;
        let mut frame_due: Option<Instant> = Some(Instant::now());
        first.extend(start(&mut state));
        if self.execute(first, &events_tx) {
            return Ok(());
        }
        loop {
            let frame_wait = async {
                match frame_due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let wake = tokio::select! {
                _ = hangup.recv() => Wake::Exit,
                _ = terminate.recv() => Wake::Exit,
                _ = interrupt.recv() => Wake::Exit,
                event = input.recv() => terminal_event(&mut state, event),
                Some(event) = events.recv() => Wake::Effects(receive(&mut state, event)),
                notification = notifications.recv(), if notifications_open => {
                    Wake::Effects(notified(&mut state, notification, &mut notifications_open))
                }
                _ = clock_tick.tick() => Wake::Effects(Vec::new()),
                () = frame_wait => Wake::Effects(Vec::new()),
            };
            let mut effects = match wake {
                Wake::Exit => return Ok(()),
                Wake::Effects(effects) => effects,
            };
            // Coalesce: take everything that is already waiting before drawing once.
            while let Ok(event) = input.try_recv() {
                match terminal_event(&mut state, Some(event)) {
                    Wake::Exit => return Ok(()),
                    Wake::Effects(more) => effects.extend(more),
                }
            }
            while let Ok(event) = events.try_recv() {
                effects.extend(receive(&mut state, event));
            }
            while notifications_open {
                let next = match notifications.try_recv() {
                    Ok(event) => Ok(event),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                    Err(TryRecvError::Closed) => Err(RecvError::Closed),
                };
                effects.extend(notified(&mut state, next, &mut notifications_open));
            }
            let now = minute(self.clock.now());
            if now != state.now {
                effects.extend(receive(&mut state, Event::Tick(now)));
            }
            if self.execute(effects, &events_tx) {
                return Ok(());
            }
            let due = last_frame.map_or(Instant::now(), |at| at + FRAME);
            if Instant::now() >= due {
                if self.screen.draw(&state)? {
                    last_frame = Some(Instant::now());
                }
                frame_due = None;
            } else {
                frame_due = Some(due);
            }
        }
    }

    /// Starts what the effects ask for; returns true when the console should end.
    fn execute(&mut self, effects: Vec<Effect>, events: &mpsc::UnboundedSender<Event>) -> bool {
        let mut quit = false;
        for effect in effects {
            match effect {
                Effect::Call { ticket, request } => {
                    let client = Arc::clone(&self.client);
                    let events = events.clone();
                    tokio::spawn(async move {
                        let result = client.call(request).await;
                        // The loop may have ended; nobody waits for this answer then.
                        let _ = events.send(Event::Reply { ticket, result });
                    });
                }
                Effect::Later { after, event } => {
                    let events = events.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let _ = events.send(event);
                    });
                }
                Effect::Copy(text) => {
                    if let Err(e) = self.screen.copy(&text) {
                        tracing::warn!("copy to the clipboard failed: {e}");
                    }
                }
                Effect::Redraw => self.screen.repaint(),
                Effect::Suspend => match &self.terminal {
                    Some(guard) => {
                        if let Err(e) = guard.suspend() {
                            tracing::warn!("suspending failed: {e}");
                        }
                        self.screen.repaint();
                    }
                    None => {
                        tracing::info!("ctrl-z ignored: the console does not own this terminal")
                    }
                },
                Effect::Quit => quit = true,
            }
        }
        quit
    }
}

/// Terminal input, read by its own task. Crossterm's `EventStream` only remembers the first
/// waker it was polled with, so it must never be polled speculatively (to coalesce a burst);
/// a channel can be drained freely. The task ends at the first read error or end of input,
/// which is what keeps a dead tty from spinning.
fn read_terminal() -> TerminalInput {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = EventStream::new();
        while let Some(event) = stream.next().await {
            let failed = event.is_err();
            if tx.send(event).is_err() || failed {
                break;
            }
        }
    });
    rx
}

/// `None`: the terminal's input ended (the reading task stopped).
fn terminal_event(state: &mut State, event: Option<io::Result<TermEvent>>) -> Wake {
    match event {
        Some(Ok(TermEvent::Key(key)))
            if matches!(key.kind, KeyEventKind::Press | KeyEventKind::Repeat) =>
        {
            Wake::Effects(handle_key(state, &key))
        }
        Some(Ok(TermEvent::Resize(width, height))) => {
            Wake::Effects(receive(state, Event::Resize { width, height }))
        }
        Some(Ok(TermEvent::Paste(text))) => Wake::Effects(receive(state, Event::Paste(text))),
        Some(Ok(TermEvent::Mouse(mouse))) => match mouse_event(&mouse) {
            Some(mouse) => Wake::Effects(receive(state, Event::Mouse(mouse))),
            None => Wake::Effects(Vec::new()),
        },
        Some(Ok(_)) => Wake::Effects(Vec::new()),
        // End of input or a read error: the terminal is gone (an SSH session that dropped).
        Some(Err(e)) => {
            tracing::info!("terminal read failed, leaving: {e}");
            Wake::Exit
        }
        None => Wake::Exit,
    }
}

/// The mouse events the console uses: a left click, the wheel. Moves and drags are dropped
/// before they touch the state (so they never cost a frame).
fn mouse_event(event: &ratatui::crossterm::event::MouseEvent) -> Option<effect::Mouse> {
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    let kind = match event.kind {
        MouseEventKind::Down(MouseButton::Left) => effect::MouseKind::Click,
        MouseEventKind::ScrollUp => effect::MouseKind::WheelUp,
        MouseEventKind::ScrollDown => effect::MouseKind::WheelDown,
        _ => return None,
    };
    Some(effect::Mouse {
        kind,
        column: event.column,
        row: event.row,
    })
}

fn notified(
    state: &mut State,
    notification: Result<ClientEvent, RecvError>,
    open: &mut bool,
) -> Vec<Effect> {
    match notification {
        Ok(event) => receive(state, Event::Client(event)),
        Err(RecvError::Lagged(_)) => receive(state, Event::Lagged),
        Err(RecvError::Closed) => {
            // A closed channel answers at once forever: stop listening instead of spinning.
            *open = false;
            receive(
                state,
                Event::Client(ClientEvent::Disconnected {
                    reason: "the service stopped sending changes".into(),
                }),
            )
        }
    }
}
