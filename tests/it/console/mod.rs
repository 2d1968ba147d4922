//! Console tests against a fake service: snapshots of every view, reducer behaviour, and the
//! bytes a frame costs. The fake (`fake_client`, `seed`) is test code only; the benchmark
//! borrows it by path.

mod approvals;
mod fake_client;
mod fake_query;
mod habits;
mod navigation;
mod orders_view;
mod reducer;
mod retry_cause;
mod runtime;
mod seed;
mod snapshots;

use orderdeck::console::keymap::Keymap;
use orderdeck::console::keys::{Key, KeyName, parse_seq};
use orderdeck::console::theme::Theme;
use orderdeck::console::{Action, Effect, State, handle_key, settle, start, update};
use orderdeck::service::api::{PROTOCOL_VERSION, Request, Response};
use orderdeck::service::client::Client;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthStr;

use fake_client::FakeClient;

/// A console as `client`'s user sees it after the first answers arrived.
pub async fn open(client: &FakeClient, size: (u16, u16), theme: Theme) -> State {
    let Ok(Response::Welcome(welcome)) = client
        .call(Request::Hello {
            protocol: PROTOCOL_VERSION,
            ssh_connection: None,
        })
        .await
    else {
        panic!("the fake says hello");
    };
    let mut state = State::new(&welcome, Keymap::defaults(), theme, seed::now(), size);
    let effects = start(&mut state);
    settle(client, &mut state, effects).await;
    state
}

/// Applies an action and runs what it asks for; returns the effects that are not calls.
pub async fn act(client: &FakeClient, state: &mut State, action: Action) -> Vec<Effect> {
    let effects = update(state, action);
    settle(client, state, effects).await
}

/// Presses keys written as in keymap.toml, space-separated (`"g g"`, `"ctrl-r"`).
pub async fn press(client: &FakeClient, state: &mut State, keys: &str) -> Vec<Effect> {
    let mut others = Vec::new();
    for key in parse_seq(keys).expect("test keys are valid") {
        let effects = handle_key(state, &event(key));
        others.extend(settle(client, state, effects).await);
    }
    others
}

/// Types text into whatever is being edited.
pub async fn type_text(client: &FakeClient, state: &mut State, text: &str) {
    for c in text.chars() {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let effects = handle_key(state, &key);
        settle(client, state, effects).await;
    }
}

/// The terminal's event for `key`.
pub fn event(key: Key) -> KeyEvent {
    let code = match key.name {
        KeyName::Char(c) => KeyCode::Char(c),
        KeyName::Space => KeyCode::Char(' '),
        KeyName::Enter => KeyCode::Enter,
        KeyName::Esc => KeyCode::Esc,
        KeyName::Tab if key.shift => KeyCode::BackTab,
        KeyName::Tab => KeyCode::Tab,
        KeyName::Backspace => KeyCode::Backspace,
        KeyName::Delete => KeyCode::Delete,
        KeyName::Insert => KeyCode::Insert,
        KeyName::Home => KeyCode::Home,
        KeyName::End => KeyCode::End,
        KeyName::PageUp => KeyCode::PageUp,
        KeyName::PageDown => KeyCode::PageDown,
        KeyName::Up => KeyCode::Up,
        KeyName::Down => KeyCode::Down,
        KeyName::Left => KeyCode::Left,
        KeyName::Right => KeyCode::Right,
        KeyName::F(n) => KeyCode::F(n),
    };
    let mut modifiers = KeyModifiers::NONE;
    if key.ctrl {
        modifiers |= KeyModifiers::CONTROL;
    }
    if key.alt {
        modifiers |= KeyModifiers::ALT;
    }
    if key.shift {
        modifiers |= KeyModifiers::SHIFT;
    }
    KeyEvent::new(code, modifiers)
}

/// The messages on screen, newest last.
pub fn toasts(state: &State) -> Vec<String> {
    state.toasts.iter().map(|t| t.text.clone()).collect()
}

pub fn render(state: &State) -> Buffer {
    let mut terminal =
        Terminal::new(TestBackend::new(state.width, state.height)).expect("test terminal");
    terminal
        .draw(|frame| orderdeck::console::draw(frame, state))
        .expect("draw");
    terminal.backend().buffer().clone()
}

/// The screen as text, one line per row, trailing spaces cut.
pub fn plain(buffer: &Buffer) -> String {
    let width = usize::from(buffer.area.width);
    let mut out = String::new();
    for cells in buffer.content.chunks(width) {
        let mut line = String::new();
        let mut skip = 0usize;
        for cell in cells {
            if skip == 0 {
                line.push_str(cell.symbol());
            }
            skip = skip.max(cell.symbol().width()).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The screen with styles: each row as runs of one style, `«fg/bg/modifiers»text`, so a
/// styled snapshot stays readable. Runs in the default style are written bare.
pub fn styled(buffer: &Buffer) -> String {
    let width = usize::from(buffer.area.width);
    let mut out = String::new();
    for cells in buffer.content.chunks(width) {
        let mut line = String::new();
        let mut current = String::new();
        let mut skip = 0usize;
        for cell in cells {
            if skip == 0 {
                let mut style = Vec::new();
                if cell.fg != ratatui::style::Color::Reset {
                    style.push(format!("{:?}", cell.fg));
                }
                if cell.bg != ratatui::style::Color::Reset {
                    style.push(format!("on {:?}", cell.bg));
                }
                if !cell.modifier.is_empty() {
                    style.push(
                        format!("{:?}", cell.modifier)
                            .replace("Modifier(", "")
                            .replace(')', ""),
                    );
                }
                let style = style.join(" ");
                if style != current {
                    line.push_str(&format!("«{style}»"));
                    current = style;
                }
                line.push_str(cell.symbol());
            }
            skip = skip.max(cell.symbol().width()).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
