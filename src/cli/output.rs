//! What the commands print, and how. Everything goes through `writeln!` on a locked stdout so a
//! reader that went away (`orderdeck orders | head -1`) turns into an error the caller returns
//! (and [`super::fail`] ends quietly), never a panic. Tables pad columns to their widest cell
//! (by display width), leave the last column unpadded, and cut long cells with `…` only when a
//! person reads them on a terminal: piped output is always whole, for scripts.
//!
//! Text from a platform, a socket or a file may reach a command raw, so the sinks here are the
//! one place it is made safe, whatever a command prints: [`stdout`] and [`warn`] pass every
//! line through `domain::text::sanitize` (no escape sequence — clipboard write, window title,
//! cursor move — and no bidi override reaches the terminal), and `--json` ([`print_json`])
//! keeps the text exact but escapes the same characters (`\u009B`, `\u202E`; serde_json
//! escapes only C0). Commands never print to `std::io::stdout()` themselves. The log file is
//! written through [`CleanLog`], the same sanitizer per event.

use std::io::{self, IsTerminal, StdoutLock, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use tracing_subscriber::fmt::MakeWriter;
use unicode_width::UnicodeWidthStr;

use crate::domain::clock::Timestamp;
use crate::domain::text::{is_unsafe, sanitize, truncate};

/// The widest a cell is shown on a terminal, so one long reason cannot wrap the whole table.
const MAX_CELL: usize = 60;

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<'a>(header: impl IntoIterator<Item = &'a str>) -> Table {
        Table {
            header: header.into_iter().map(str::to_string).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = String>) {
        self.rows
            .push(cells.into_iter().map(|c| sanitize(&c)).collect());
    }

    /// Prints the table, then `summary` on its own line; cells are cut only on a terminal.
    pub fn print(&self, summary: &str) -> anyhow::Result<()> {
        let cut = std::io::stdout().is_terminal();
        let mut out = stdout();
        out.write_all(self.render(cut).as_bytes())?;
        writeln!(out, "{summary}")?;
        Ok(())
    }

    /// The table as text, one line per row (nothing without rows); `cut` shortens long cells.
    pub fn render(&self, cut: bool) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let shown = |cell: &String| {
            if cut {
                truncate(cell, MAX_CELL)
            } else {
                cell.clone()
            }
        };
        let lines: Vec<Vec<String>> = std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|row| row.iter().map(shown).collect())
            .collect();
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| lines.iter().map(|r| r[i].width()).max().unwrap_or(0))
            .collect();
        let mut text = String::new();
        for row in &lines {
            let last = row.len() - 1;
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| match i == last {
                    true => cell.clone(),
                    false => format!("{cell}{}", " ".repeat(widths[i] - cell.width())),
                })
                .collect();
            text.push_str(cells.join("  ").trim_end());
            text.push('\n');
        }
        text
    }
}

/// A time as the tables show it (UTC, minutes).
pub fn when(at: Option<Timestamp>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

/// A line for the person on stderr, sanitized. A stderr that is gone has nobody to tell:
/// never a panic.
pub fn warn(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{}", sanitize(&text.to_string()));
}

/// Stdout for people: every line written is sanitized before it reaches the terminal.
pub fn stdout() -> Clean<StdoutLock<'static>> {
    Clean::new(std::io::stdout().lock())
}

/// A writer that passes each complete line through `sanitize` (a partial line waits for its
/// end, or for `flush`/drop), so no write — however it splits a value — can slip a control
/// character or bidi override through. Line breaks are its own; a `\r` or tab in a value
/// becomes a space.
pub struct Clean<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> Clean<W> {
    pub fn new(inner: W) -> Clean<W> {
        Clean {
            inner,
            line: Vec::new(),
        }
    }

    fn emit(&mut self, newline: bool) -> io::Result<()> {
        let text = sanitize(&String::from_utf8_lossy(&self.line));
        self.line.clear();
        self.inner.write_all(text.as_bytes())?;
        if newline {
            self.inner.write_all(b"\n")?;
        }
        Ok(())
    }
}

impl<W: Write> Write for Clean<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for piece in buf.split_inclusive(|b| *b == b'\n') {
            match piece.strip_suffix(b"\n") {
                Some(rest) => {
                    self.line.extend_from_slice(rest);
                    self.emit(true)?;
                }
                None => self.line.extend_from_slice(piece),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            self.emit(false)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Clean<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The log's writer (a `tracing` `MakeWriter` over `M`): each event is held until it is
/// written whole, then sanitized as one line — its own line breaks too, so a value cannot
/// forge a log line — and ended with a line break. The log may be read with `tail -f` on a
/// terminal, so it is a text sink like stdout.
pub struct CleanLog<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for CleanLog<M> {
    type Writer = CleanEvent<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        CleanEvent {
            inner: self.0.make_writer(),
            event: Vec::new(),
        }
    }
}

/// One log event on its way to `W` (see [`CleanLog`]).
pub struct CleanEvent<W: Write> {
    inner: W,
    event: Vec<u8>,
}

impl<W: Write> Write for CleanEvent<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.event.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// The event is written when it is complete (on drop), never in pieces.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for CleanEvent<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.event);
        let mut line = sanitize(text.strip_suffix('\n').unwrap_or(&text));
        line.push('\n');
        // A log that cannot be written has nobody to tell.
        let _ = self.inner.write_all(line.as_bytes());
        let _ = self.inner.flush();
    }
}

/// `value` as indented JSON on stdout, then a line break.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write_json(&mut out, SafeJson(PrettyFormatter::new()), value)?;
    writeln!(out)?;
    Ok(())
}

/// `values` as JSON lines on stdout: one compact value per line.
pub fn print_json_lines<T: Serialize>(values: &[T]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for value in values {
        write_json(&mut out, SafeJson(CompactFormatter), value)?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_json<W: Write, F: Formatter, T: Serialize>(
    out: W,
    formatter: SafeJson<F>,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(out, formatter))
}

/// A JSON formatter that also escapes what [`is_unsafe`] names beyond C0 (DEL, C1 controls,
/// bidi marks): a script that prints a field, or `jq` on a terminal, shows `\u009B` instead of
/// obeying it. The text is unchanged for any JSON reader. Layout is `F`'s.
struct SafeJson<F>(F);

impl<F: Formatter> Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            self.0.write_string_fragment(writer, &rest[..at])?;
            // All of them are in the Basic Multilingual Plane: one \uXXXX each.
            write!(writer, "\\u{:04X}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_string_fragment(writer, rest)
    }

    // Layout is the wrapped formatter's (these are what `PrettyFormatter` overrides).
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Whether `error` is stdout's reader having gone away (a closed pipe), which ends a command
/// quietly: the reader asked for no more.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let kind = if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else {
            cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut table = Table::new(["ORDER", "WHY"]);
        table.row(["5764".to_string(), "x".repeat(80)]);
        table
    }

    #[test]
    fn cells_are_cut_on_a_terminal_only() {
        let cut = table().render(true);
        assert!(cut.contains(&format!("{}…", "x".repeat(59))), "{cut}");
        let whole = table().render(false);
        assert!(whole.contains(&"x".repeat(80)), "{whole}");
        assert!(!whole.contains('…'), "{whole}");
    }

    #[test]
    fn columns_are_padded_to_the_widest_cell() {
        assert_eq!(
            table().render(false).lines().next(),
            Some("ORDER  WHY"),
            "the header is padded to the widest ORDER cell"
        );
    }

    #[test]
    fn clean_lines_whatever_the_writes_split() {
        let hostile = "SKU\u{1b}]52;c;eA==\u{7}\u{9b}2J\u{202e}x\ttab\r\n";
        let mut out = Clean::new(Vec::new());
        // Byte by byte: escapes and multi-byte characters split across writes.
        for byte in format!("a {hostile}b\u{1b}").as_bytes() {
            out.write_all(&[*byte]).unwrap();
        }
        out.flush().unwrap();
        let text = String::from_utf8(out.inner.clone()).unwrap();
        assert_eq!(
            text,
            "a SKU\u{FFFD}]52;c;eA==\u{FFFD}\u{FFFD}2J\u{FFFD}x tab \nb\u{FFFD}"
        );
    }

    #[test]
    fn the_log_writes_each_event_as_one_clean_line() {
        let log = CleanLog(std::sync::Mutex::new(Vec::new()));
        for event in [
            "poll failed: Bob\nFORGED INFO line\u{1b}]0;x\u{7}\n",
            "second",
        ] {
            let mut writer = log.make_writer();
            // Written in pieces, as a formatter may.
            for piece in event.as_bytes().chunks(5) {
                writer.write_all(piece).unwrap();
            }
        }
        let written = log.0.lock().unwrap().clone();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            "poll failed: Bob FORGED INFO line\u{FFFD}]0;x\u{FFFD}\nsecond\n"
        );
    }

    fn json<F: Formatter>(formatter: F, value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        write_json(&mut out, SafeJson(formatter), value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_escapes_c1_controls_and_bidi_overrides_and_keeps_the_text() {
        let hostile = "a\u{9b}31m\u{85}b\u{202e}c\u{2066}d\u{7f}\u{1b}]52;c;eA==\u{7}é";
        let value = serde_json::json!({ hostile: [hostile, 1, null], "plain": "ジョン" });
        for text in [
            json(CompactFormatter, &value),
            json(PrettyFormatter::new(), &value),
        ] {
            assert!(!text.chars().any(|c| c != '\n' && is_unsafe(c)), "{text:?}");
            assert!(
                text.contains(r"a\u009B31m\u0085b\u202Ec\u2066d\u007F\u001b]52;c;eA==\u0007é"),
                "{text}"
            );
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value, "the text itself is unchanged");
        }
        assert_eq!(
            json(PrettyFormatter::new(), &serde_json::json!({"a": [1]})),
            "{\n  \"a\": [\n    1\n  ]\n}",
            "the wrapped formatter's layout"
        );
    }

    #[test]
    fn a_closed_pipe_is_recognised_through_the_chain() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(
            &anyhow::Error::from(pipe).context("printing")
        ));
        let json = serde_json::Error::io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&anyhow::Error::from(json)));
        let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(!is_broken_pipe(&anyhow::Error::from(other)));
    }
}
