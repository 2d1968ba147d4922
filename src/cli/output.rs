//! Plain-text tables for the commands: columns padded to their widest cell (by display width),
//! the last column left unpadded, cells cut so one long reason cannot wrap the whole table.

use std::io::Write;

use unicode_width::UnicodeWidthStr;

use crate::domain::clock::Timestamp;
use crate::domain::text::{sanitize, truncate};

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
        self.rows.push(
            cells
                .into_iter()
                .map(|c| truncate(&sanitize(&c), MAX_CELL))
                .collect(),
        );
    }

    /// Prints the table, then `summary` on its own line.
    pub fn print(&self, summary: &str) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if !self.rows.is_empty() {
            let widths: Vec<usize> = (0..self.header.len())
                .map(|i| {
                    std::iter::once(&self.header)
                        .chain(&self.rows)
                        .map(|r| r[i].width())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            for row in std::iter::once(&self.header).chain(&self.rows) {
                let last = row.len() - 1;
                let line: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(i, cell)| {
                        if i == last {
                            cell.clone()
                        } else {
                            format!("{cell}{}", " ".repeat(widths[i] - cell.width()))
                        }
                    })
                    .collect();
                writeln!(out, "{}", line.join("  ").trim_end())?;
            }
        }
        writeln!(out, "{summary}")?;
        Ok(())
    }
}

/// A time as the tables show it (UTC, minutes).
pub fn when(at: Option<Timestamp>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}
