//! Reading one keymap file: entries with their places, and the problems found on the way,
//! worded for the person who wrote the file and located by file, line and column so an editor
//! can jump there (`keymap.toml:12:3: ...`). A TOML syntax error blanks out the line at fault
//! and reading starts again, so one typo costs one line, not the whole file. Every entry that
//! cannot be used (unknown section, key or action, a key bound twice) becomes a problem.

use std::fmt;

use toml_edit::{Document, Item};

use crate::config::LineIndex;
use crate::console::action::{Action, Scope};
use crate::console::keys::{KeySeq, parse_seq, seq_to_string};
use crate::domain::spelling::did_you_mean;

/// A place in a keymap file; line and column count from 1, 0 means "the whole file".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The line and column of byte `offset` in `text` (columns count characters).
    pub fn at(file: &str, text: &str, offset: usize) -> Location {
        let before = text.get(..offset.min(text.len())).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        Location {
            file: file.to_string(),
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }

    pub fn problem(&self, kind: ProblemKind) -> KeymapProblem {
        KeymapProblem {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            kind,
        }
    }
}

/// One problem in a keymap file. The entry at fault is skipped; the default for that key stays.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KeymapProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: ProblemKind,
}

impl KeymapProblem {
    pub fn whole_file(file: &str, kind: ProblemKind) -> KeymapProblem {
        KeymapProblem {
            file: file.to_string(),
            line: 0,
            column: 0,
            kind,
        }
    }
}

impl fmt::Display for KeymapProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.kind)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.kind
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    Unreadable(String),
    /// A byte that is not UTF-8, at the problem's place; the whole file is skipped.
    NotUtf8,
    /// Not valid TOML; the line is skipped and the rest of the file still read.
    Syntax(String),
    /// A binding outside any section.
    OutsideSection,
    UnknownScope {
        name: String,
    },
    UnknownKey {
        spelling: String,
    },
    UnknownAction {
        name: String,
    },
    NotAnActionName,
    ActionNotInScope {
        action: Action,
        scope: Scope,
    },
    BoundTwice {
        key: String,
        scope: Scope,
        first_line: usize,
    },
    ShadowsChord {
        key: String,
        key_scope: Scope,
        chord: String,
        chord_scope: Scope,
        skipped: String,
    },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Unreadable(why) => write!(f, "cannot read the keymap ({why})"),
            ProblemKind::NotUtf8 => write!(
                f,
                "not UTF-8 text, so the whole file is skipped; save it as UTF-8"
            ),
            ProblemKind::Syntax(why) => write!(f, "not valid TOML, line skipped: {why}"),
            ProblemKind::OutsideSection => write!(
                f,
                "bindings belong in a section such as [global] or [list]; skipped"
            ),
            ProblemKind::UnknownScope { name } => {
                write!(f, "unknown section [{name}]")?;
                let names = Scope::ALL.map(Scope::name);
                match did_you_mean(name, names.iter().copied()) {
                    Some(s) => write!(f, " (did you mean [{s}]?)"),
                    None => write!(f, "; sections are {}", names.join(", ")),
                }
            }
            ProblemKind::UnknownKey { spelling } => write!(
                f,
                "unknown key name {spelling:?} (write keys like ctrl-r, g g, enter, space, shift-tab, pgup, f5)"
            ),
            ProblemKind::UnknownAction { name } => {
                write!(f, "unknown action {name:?}")?;
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                match did_you_mean(name, names.iter().copied()) {
                    Some(s) => write!(f, " (did you mean {s:?}?)"),
                    None => write!(f, " (see `?` in the console for the action names)"),
                }
            }
            ProblemKind::NotAnActionName => {
                write!(
                    f,
                    "a binding's value is an action name in quotes, or \"none\""
                )
            }
            ProblemKind::ActionNotInScope { action, scope } => {
                let homes: Vec<&str> = Scope::ALL
                    .into_iter()
                    .filter(|s| action.allowed_in(*s))
                    .map(Scope::name)
                    .collect();
                write!(
                    f,
                    "{:?} does nothing in [{scope}]; it belongs in [{}]",
                    action.name(),
                    homes.join("], [")
                )
            }
            ProblemKind::BoundTwice {
                key,
                scope,
                first_line,
            } => write!(
                f,
                "{key:?} is bound twice in [{scope}] (first on line {first_line}); this one is skipped"
            ),
            ProblemKind::ShadowsChord {
                key,
                key_scope,
                chord,
                chord_scope,
                skipped,
            } => write!(
                f,
                "{key:?} in [{key_scope}] hides the chord {chord:?} in [{chord_scope}]; {skipped:?} is skipped"
            ),
        }
    }
}

/// Syntax errors after which a file is given up on; each one costs a re-parse.
const MAX_SYNTAX_ERRORS: usize = 20;

/// One usable binding from a file; `action: None` means the file unbinds the key ("none").
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub scope: Scope,
    pub keys: KeySeq,
    pub action: Option<Action>,
    pub location: Location,
    /// From the user's file rather than the shipped one.
    pub user: bool,
}

pub(super) fn read_entries(
    file: &str,
    text: &str,
    user: bool,
    problems: &mut Vec<KeymapProblem>,
) -> Vec<Entry> {
    let mut text = text.to_string();
    for _ in 0..MAX_SYNTAX_ERRORS {
        match Document::parse(text.as_str()) {
            Ok(doc) => return entries_of(file, &text, &doc, user, problems),
            Err(error) => {
                let Some(span) = error.span() else {
                    problems.push(KeymapProblem::whole_file(
                        file,
                        ProblemKind::Syntax(first_line(error.message())),
                    ));
                    return Vec::new();
                };
                let location = Location::at(file, &text, span.start);
                problems.push(location.problem(ProblemKind::Syntax(first_line(error.message()))));
                text = blank_line(&text, span.start);
            }
        }
    }
    Vec::new()
}

fn entries_of(
    file: &str,
    text: &str,
    doc: &Document<&str>,
    user: bool,
    problems: &mut Vec<KeymapProblem>,
) -> Vec<Entry> {
    let root = doc.as_table();
    // Every entry keeps its place: found through an index, not by rescanning the text.
    let lines = LineIndex::new(text);
    let at = |span: Option<std::ops::Range<usize>>| {
        let position = lines.position(span.map(|s| s.start).unwrap_or(0));
        Location {
            file: file.to_string(),
            line: position.line,
            column: position.column,
        }
    };
    let mut entries: Vec<Entry> = Vec::new();
    for (section, item) in root.iter() {
        let section_span = root.get_key_value(section).and_then(|(k, _)| k.span());
        let Some(table) = item.as_table_like() else {
            problems.push(at(section_span).problem(ProblemKind::OutsideSection));
            continue;
        };
        let Some(scope) = Scope::parse(section) else {
            problems.push(at(section_span).problem(ProblemKind::UnknownScope {
                name: section.to_string(),
            }));
            continue;
        };
        for (key_text, value) in table.iter() {
            let key_span = table.get_key_value(key_text).and_then(|(k, _)| k.span());
            let location = at(key_span);
            let Some(keys) = parse_seq(key_text).ok() else {
                problems.push(location.problem(ProblemKind::UnknownKey {
                    spelling: key_text.to_string(),
                }));
                continue;
            };
            let action = match action_of(value, scope) {
                Ok(action) => action,
                Err(kind) => {
                    problems.push(at(value.span()).problem(kind));
                    continue;
                }
            };
            if let Some(first) = entries.iter().find(|e| e.scope == scope && e.keys == keys) {
                problems.push(location.problem(ProblemKind::BoundTwice {
                    key: seq_to_string(&keys),
                    scope,
                    first_line: first.location.line,
                }));
                continue;
            }
            entries.push(Entry {
                scope,
                keys,
                action,
                location,
                user,
            });
        }
    }
    entries
}

fn action_of(value: &Item, scope: Scope) -> Result<Option<Action>, ProblemKind> {
    let name = value.as_str().ok_or(ProblemKind::NotAnActionName)?;
    if name.is_empty() || name == "none" {
        return Ok(None);
    }
    let action = Action::parse(name).ok_or_else(|| ProblemKind::UnknownAction {
        name: name.to_string(),
    })?;
    if !action.allowed_in(scope) {
        return Err(ProblemKind::ActionNotInScope { action, scope });
    }
    Ok(Some(action))
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

/// `text` with the line holding byte `offset` replaced by spaces (offsets elsewhere unchanged).
fn blank_line(text: &str, offset: usize) -> String {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[start..]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.extend(text[start..end].chars().map(|_| ' '));
    out.push_str(&text[end..]);
    out
}
