//! What the commands print, and how. Everything goes through `writeln!` on a locked stdout so a
//! reader that went away (`orderdeck orders | head -1`) turns into an error the caller returns
//! (and [`super::fail`] ends quietly), never a panic. Tables pad columns to their widest cell
//! (by display width), leave the last column unpadded, and cut long cells with `…` only when a
//! person reads them on a terminal: piped output is always whole, for scripts.

use std::io::{IsTerminal, Write};

use unicode_width::UnicodeWidthStr;

use crate::domain::clock::Timestamp;
use crate::domain::text::{sanitize, truncate};

/// The widest a cell is shown on a terminal, so one long reason cannot wrap the whole table.
const MAX_CELL: usize = 60;

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<const N: usize>(header: [&str; N]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows
            .push(cells.into_iter().map(|c| sanitize(&c)).collect());
    }

    /// Prints the table, then `summary` on its own line; cells are cut only on a terminal.
    pub fn print(&self, summary: &str) -> anyhow::Result<()> {
        let cut = std::io::stdout().is_terminal();
        let mut out = std::io::stdout().lock();
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

/// A line for the person on stderr. A stderr that is gone has nobody to tell: never a panic.
pub fn warn(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{text}");
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
