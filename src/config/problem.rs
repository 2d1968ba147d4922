//! Problems found in a config file, each with the file, 1-based line and column, and a message
//! that says what to do. `check-config` prints them all, so nothing here stops at the first one:
//! loaders push into a [`Problems`] list and keep going.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a file: 1-based line and column (columns count characters, not bytes, so they
/// match what an editor shows for non-ASCII text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`; offsets past the end clamp to the end.
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

/// The positions of many offsets in one text, each found without rescanning the text: line
/// starts, and the number of characters before a checkpoint every [`LineIndex::STRIDE`] bytes,
/// are collected in one pass, so a position costs a binary search plus at most a stride of
/// counting. A file with a problem on each of its 20,000 lines is located in linear time.
#[derive(Debug, Clone)]
pub struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset of each line's first character; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// (byte offset at a character boundary, characters before it), ascending.
    checkpoints: Vec<(usize, usize)>,
}

impl<'t> LineIndex<'t> {
    const STRIDE: usize = 256;

    pub fn new(text: &'t str) -> LineIndex<'t> {
        let mut line_starts = vec![0];
        let mut checkpoints = vec![(0, 0)];
        let mut next_checkpoint = Self::STRIDE;
        for (chars, (at, c)) in text.char_indices().enumerate() {
            if at >= next_checkpoint {
                checkpoints.push((at, chars));
                next_checkpoint = at + Self::STRIDE;
            }
            if c == '\n' {
                line_starts.push(at + 1);
            }
        }
        LineIndex {
            text,
            line_starts,
            checkpoints,
        }
    }

    /// The same as [`Position::of_offset`] on this text.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // Lines starting at or before `offset`; the last of them holds it.
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let start = self.line_starts[line - 1];
        Position {
            line,
            column: self.chars_before(offset) - self.chars_before(start) + 1,
        }
    }

    /// Characters before byte `offset` (a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let k = self.checkpoints.partition_point(|(at, _)| *at <= offset) - 1;
        let (at, chars) = self.checkpoints[k];
        chars + self.text[at..offset].chars().count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The config cannot be used until this is fixed.
    Error,
    /// Worth knowing, but the config loads (e.g. a store without a connector yet).
    Warning,
}

/// One problem. `position` is `None` when it concerns the file as a whole (missing, unreadable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: PathBuf,
    pub position: Option<Position>,
    pub message: String,
}

impl Problem {
    pub fn error(file: &Path, position: Option<Position>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            file: file.to_path_buf(),
            position,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `FILE:LINE:COL: message`, the form editors and terminals turn into links.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(Position { line, column }) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        match self.severity {
            Severity::Error => write!(f, ": {}", self.message),
            Severity::Warning => write!(f, ": warning: {}", self.message),
        }
    }
}

/// Every problem of one load, in file order. Displays one problem per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Problem::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter().filter(|p| p.is_error())
    }

    /// File order, then errors before warnings at the same place; equal problems once.
    pub(crate) fn sorted(mut self) -> Problems {
        self.0.sort_by(|a, b| {
            (&a.file, a.position, a.severity, &a.message)
                .cmp(&(&b.file, b.position, b.severity, &b.message))
        });
        self.0.dedup();
        self
    }
}

impl std::error::Error for Problem {}

impl std::error::Error for Problems {}

impl From<Problem> for Problems {
    fn from(problem: Problem) -> Self {
        Problems(vec![problem])
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

pub use crate::domain::spelling::did_you_mean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nnäme = 2\n";
        assert_eq!(
            Position::of_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        let offset = text.find('=').unwrap();
        assert_eq!(
            Position::of_offset(text, offset),
            Position { line: 1, column: 3 }
        );
        let offset = text.rfind('=').unwrap();
        assert_eq!(
            Position::of_offset(text, offset),
            Position { line: 2, column: 6 }
        );
        assert_eq!(
            Position::of_offset(text, 999),
            Position { line: 3, column: 1 }
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// The index answers what a scan from the start would, for any text and offset.
        #[test]
        fn the_line_index_agrees_with_a_scan(
            text in "(\\PC|\n|é|ジ){0,700}",
            offsets in proptest::collection::vec(0usize..2200, 1..20),
        ) {
            let index = LineIndex::new(&text);
            for offset in offsets {
                proptest::prop_assert_eq!(index.position(offset), Position::of_offset(&text, offset));
            }
        }
    }

    #[test]
    fn display_is_file_line_column_message() {
        let mut p = Problem::error(
            Path::new("orderdeck.toml"),
            Some(Position {
                line: 12,
                column: 5,
            }),
            "unknown key \"x\"",
        );
        assert_eq!(p.to_string(), "orderdeck.toml:12:5: unknown key \"x\"");
        p.severity = Severity::Warning;
        p.position = None;
        assert_eq!(p.to_string(), "orderdeck.toml: warning: unknown key \"x\"");
    }

    #[test]
    fn problems_sort_by_place_and_print_one_per_line() {
        let at = |line| Some(Position { line, column: 1 });
        let f = Path::new("f.toml");
        let problems = Problems(vec![
            Problem::error(f, at(9), "late"),
            Problem::error(f, at(2), "early"),
            Problem::error(f, at(2), "early"),
        ])
        .sorted();
        assert_eq!(problems.to_string(), "f.toml:2:1: early\nf.toml:9:1: late");
        assert!(problems.has_errors());
    }
}
