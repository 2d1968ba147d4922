//! The terminal, economically. A frame is written only when the state moved on AND the cells
//! differ from what the terminal shows: an idle console writes nothing, and a change writes
//! only the cells that changed, wrapped in synchronized output so the terminal shows whole
//! frames. The cursor is only touched when it must be. [`TerminalGuard`] puts the terminal
//! into raw mode and the alternate screen and always puts it back: on drop, on panic, and for
//! as long as the console is suspended (ctrl-z). Mouse reporting, when asked for, is only
//! clicks and the wheel (not every move, which would flood a slow link).

use std::io::{self, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::cursor::{Hide, MoveTo, Show};
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, Clear, ClearType, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{execute, queue};
use ratatui::layout::{Position, Rect};
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::state::State;
use super::view;

pub struct Screen<W: Write> {
    terminal: Terminal<CrosstermBackend<W>>,
    /// The state revision last drawn: the same revision draws nothing.
    drawn: Option<u64>,
    /// The cells the terminal shows.
    shown: Option<Buffer>,
    /// Where the cursor is shown (None: hidden), as the terminal has it.
    cursor: Option<Position>,
    repaint: bool,
}

impl<W: Write> Screen<W> {
    /// A screen of `width`×`height` on `writer`; the cursor is assumed hidden.
    pub fn new(writer: W, (width, height): (u16, u16)) -> io::Result<Screen<W>> {
        let terminal = Terminal::with_options(
            CrosstermBackend::new(writer),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, width, height)),
            },
        )?;
        Ok(Screen {
            terminal,
            drawn: None,
            shown: None,
            cursor: None,
            repaint: false,
        })
    }

    /// Draws `state` if it changed anything on screen; returns whether bytes were written.
    pub fn draw(&mut self, state: &State) -> io::Result<bool> {
        if !self.repaint && self.drawn == Some(state.revision) {
            return Ok(false);
        }
        self.drawn = Some(state.revision);
        let area = Rect::new(0, 0, state.width, state.height);
        if self.terminal.get_frame().area() != area {
            self.terminal.resize(area)?;
            self.shown = None;
        }
        if std::mem::take(&mut self.repaint) {
            queue!(self.terminal.backend_mut(), Clear(ClearType::All))?;
            // Swapping twice empties both buffers, so the next diff covers every cell.
            self.terminal.swap_buffers();
            self.terminal.swap_buffers();
            self.shown = None;
        }
        let mut frame = self.terminal.get_frame();
        view::draw(&mut frame, state);
        let cursor = view::cursor_position(state, area);
        let buffer = self.terminal.current_buffer_mut();
        if self.shown.as_ref() == Some(buffer) && self.cursor == cursor {
            buffer.reset();
            return Ok(false);
        }
        self.shown = Some(buffer.clone());
        let backend = self.terminal.backend_mut();
        queue!(backend, BeginSynchronizedUpdate)?;
        self.terminal.flush()?;
        let backend = self.terminal.backend_mut();
        match (cursor, self.cursor) {
            // Drawing moved the terminal's cursor: put it back where typing happens.
            (Some(at), shown) => {
                queue!(backend, MoveTo(at.x, at.y))?;
                if shown.is_none() {
                    queue!(backend, Show)?;
                }
            }
            (None, Some(_)) => queue!(backend, Hide)?,
            (None, None) => {}
        }
        self.cursor = cursor;
        queue!(backend, EndSynchronizedUpdate)?;
        self.terminal.swap_buffers();
        self.terminal.backend_mut().flush()?;
        Ok(true)
    }

    /// Clears the terminal and writes every cell on the next draw (after line noise).
    pub fn repaint(&mut self) {
        self.repaint = true;
    }

    /// Puts `text` on the clipboard of the terminal the person sits at, through OSC 52 (which
    /// travels over SSH; inside tmux it needs `set-clipboard on`).
    pub fn copy(&mut self, text: &str) -> io::Result<()> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        let backend = self.terminal.backend_mut();
        write!(backend, "\x1b]52;c;{encoded}\x07")?;
        backend.flush()
    }
}

/// Raw mode, the alternate screen, bracketed paste (and the mouse, when asked) for as long as
/// it lives.
pub struct TerminalGuard {
    mouse: bool,
}

/// Mouse reporting of presses, releases and the wheel (1000) in SGR coordinates (1006): not
/// crossterm's `EnableMouseCapture`, which also asks for every move of the pointer.
const MOUSE_ON: &str = "\x1b[?1000h\x1b[?1006h";
const MOUSE_OFF: &str = "\x1b[?1006l\x1b[?1000l";

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        install_panic_hook();
        let guard = TerminalGuard { mouse };
        guard.take()?;
        Ok(guard)
    }

    fn take(&self) -> io::Result<()> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        MOUSE.store(self.mouse, Ordering::SeqCst);
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen, Hide, EnableBracketedPaste)?;
        if self.mouse {
            out.write_all(MOUSE_ON.as_bytes())?;
            out.flush()?;
        }
        Ok(())
    }

    /// ctrl-z: gives the terminal back, stops the process group as the shell's job control
    /// expects (SIGTSTP), and takes the terminal again once continued (`fg`). The caller
    /// repaints. (A process group with no shell to return to is not stopped by the kernel; the
    /// terminal is simply given back and taken again.)
    pub fn suspend(&self) -> io::Result<()> {
        restore();
        let stopped =
            nix::sys::signal::killpg(nix::unistd::getpgrp(), nix::sys::signal::Signal::SIGTSTP);
        if let Err(e) = stopped {
            tracing::warn!("could not stop for ctrl-z: {e}");
        }
        self.take()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Whether the console holds the terminal (so a panic knows whether to give it back).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether mouse reporting is on (so giving the terminal back turns it off).
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Gives the terminal back. Errors are ignored: after a hangup there is no terminal to fix.
fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    if MOUSE.swap(false, Ordering::SeqCst) {
        let _ = io::stdout().write_all(MOUSE_OFF.as_bytes());
    }
    let _ = execute!(
        io::stdout(),
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
}

/// A panic must not leave the person's terminal in raw mode on the alternate screen; the
/// message is printed after the terminal is restored, where it can be read.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
