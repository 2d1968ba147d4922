//! The live keymap: the shipped `keymap.toml` (embedded) with the user's file laid over it per
//! key. Invariants: every binding in a [`Keymap`] names a known key and an action allowed in
//! its scope; no binding in any resolution chain is a prefix of another (so a chord can always
//! be typed); each problem found on the way is kept as a [`KeymapProblem`] with file, line and
//! column, never silently dropped. Help and the footer read bindings from here, so they always
//! show what the keys really do.

mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use read::{KeymapProblem, ProblemKind};

use super::action::{Action, Scope};
use super::keys::{Key, KeySeq};
use crate::config::{MAX_TEXT_FILE, ReadError, read_text};
use read::{Entry, Location, read_entries};

/// The shipped default keymap.
pub const DEFAULT_KEYMAP: &str = include_str!("../../../keymap.toml");

/// How the built-in file is named in problem reports.
const DEFAULT_NAME: &str = "keymap.toml (built-in)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: KeySeq,
    pub action: Action,
}

/// What typing a key (after the keys already typed) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Action(Action),
    /// The keys so far start a chord: wait for the next one.
    Pending,
    Unbound,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keymap {
    /// Bindings per scope in file order (defaults first), which is also help's order.
    scopes: BTreeMap<Scope, Vec<Binding>>,
}

impl Keymap {
    /// The shipped defaults alone.
    pub fn defaults() -> Keymap {
        build(DEFAULT_KEYMAP, None).0
    }

    /// Defaults with the user's file (if it exists) laid over them.
    pub fn load(user_file: Option<&Path>) -> (Keymap, Vec<KeymapProblem>) {
        match user_file {
            Some(path) if path.exists() => match read_keymap(path) {
                Ok(text) => build(DEFAULT_KEYMAP, Some((&path.display().to_string(), &text))),
                Err(problem) => (Keymap::defaults(), vec![problem]),
            },
            _ => build(DEFAULT_KEYMAP, None),
        }
    }

    /// Defaults with `text` (named `name` in reports) laid over them.
    pub fn with_overrides(name: &str, text: &str) -> (Keymap, Vec<KeymapProblem>) {
        build(DEFAULT_KEYMAP, Some((name, text)))
    }

    pub fn resolve(&self, chain: &[Scope], typed: &[Key]) -> Resolution {
        let bindings = || chain.iter().flat_map(|s| self.in_scope(*s));
        if let Some(b) = bindings().find(|b| b.keys == typed) {
            return Resolution::Action(b.action);
        }
        if bindings().any(|b| b.keys.len() > typed.len() && b.keys.starts_with(typed)) {
            return Resolution::Pending;
        }
        Resolution::Unbound
    }

    /// The bindings that take effect along `chain`, most specific scope first; a key bound in
    /// a more specific scope hides the same key further down.
    pub fn effective(&self, chain: &[Scope]) -> Vec<(Scope, &Binding)> {
        let mut seen: Vec<&KeySeq> = Vec::new();
        let mut out = Vec::new();
        for scope in chain {
            for binding in self.in_scope(*scope) {
                if !seen.contains(&&binding.keys) {
                    seen.push(&binding.keys);
                    out.push((*scope, binding));
                }
            }
        }
        out
    }

    /// The first key bound to `action` along `chain`.
    pub fn key_for(&self, chain: &[Scope], action: Action) -> Option<&KeySeq> {
        self.effective(chain)
            .into_iter()
            .find(|(_, b)| b.action == action)
            .map(|(_, b)| &b.keys)
    }

    /// Whether `action` is bound anywhere.
    pub fn binds(&self, action: Action) -> bool {
        self.scopes.values().flatten().any(|b| b.action == action)
    }

    fn in_scope(&self, scope: Scope) -> &[Binding] {
        self.scopes
            .get(&scope)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// Where the user's keymap lives: `<config dir>/orderdeck/keymap.toml`.
pub fn user_keymap_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("orderdeck").join("keymap.toml"))
}

/// The problems a keymap file would cause if loaded over the shipped defaults, for
/// `orderdeck check-config`. A missing or unreadable file is itself a problem.
pub fn check_keymap(path: &Path) -> Vec<KeymapProblem> {
    match read_keymap(path) {
        Ok(text) => check_keymap_text(&path.display().to_string(), &text),
        Err(problem) => vec![problem],
    }
}

/// The user's keymap file as text: a regular file of bounded size (a FIFO or a device at the
/// path would hang the console's start), in UTF-8 (the first byte that is not is located).
fn read_keymap(path: &Path) -> Result<String, KeymapProblem> {
    let file = path.display().to_string();
    match read_text(path, MAX_TEXT_FILE) {
        Ok(read) => Ok(read.text),
        Err(ReadError::NotUtf8 { position }) => Err(Location {
            file,
            line: position.line,
            column: position.column,
        }
        .problem(ProblemKind::NotUtf8)),
        Err(e) => Err(KeymapProblem::whole_file(
            &file,
            ProblemKind::Unreadable(e.to_string()),
        )),
    }
}

/// Like [`check_keymap`] for text already in memory, reported under `name`.
pub fn check_keymap_text(name: &str, text: &str) -> Vec<KeymapProblem> {
    build(DEFAULT_KEYMAP, Some((name, text))).1
}

/// Reads the defaults and the overrides, merges them per (scope, key) and removes bindings
/// that would make a chord untypable.
fn build(default_text: &str, user: Option<(&str, &str)>) -> (Keymap, Vec<KeymapProblem>) {
    let mut problems = Vec::new();
    let mut merged: Vec<Entry> = read_entries(DEFAULT_NAME, default_text, false, &mut problems)
        .into_iter()
        .filter_map(|e| e.action.is_some().then_some(e))
        .collect();
    if let Some((name, text)) = user {
        for entry in read_entries(name, text, true, &mut problems) {
            let same_key = merged
                .iter()
                .position(|m| m.scope == entry.scope && m.keys == entry.keys);
            match (same_key, entry.action) {
                (Some(i), Some(_)) => merged[i] = entry,
                (Some(i), None) => {
                    merged.remove(i);
                }
                (None, Some(_)) => merged.push(entry),
                (None, None) => {}
            }
        }
    }
    remove_shadowed(&mut merged, &mut problems);
    let mut keymap = Keymap::default();
    for entry in merged {
        if let Some(action) = entry.action {
            keymap.scopes.entry(entry.scope).or_default().push(Binding {
                keys: entry.keys,
                action,
            });
        }
    }
    (keymap, problems)
}

/// Within every resolution chain, a binding that is a strict prefix of another would make the
/// longer one untypable. The user's entry gives way to a default; between two entries of the
/// same file the shorter one (the `g` next to `g g`) is skipped.
fn remove_shadowed(entries: &mut Vec<Entry>, problems: &mut Vec<KeymapProblem>) {
    loop {
        let Some((victim, problem)) = find_shadow(entries) else {
            return;
        };
        problems.push(problem);
        entries.remove(victim);
    }
}

fn find_shadow(entries: &[Entry]) -> Option<(usize, KeymapProblem)> {
    for chain in Scope::chains() {
        let in_chain: Vec<usize> = (0..entries.len())
            .filter(|i| chain.contains(&entries[*i].scope))
            .collect();
        for &short in &in_chain {
            for &long in &in_chain {
                let (s, l) = (&entries[short], &entries[long]);
                if s.keys.len() < l.keys.len() && l.keys.starts_with(&s.keys) {
                    let victim = if l.user && !s.user { long } else { short };
                    let kind = ProblemKind::ShadowsChord {
                        key: super::keys::seq_to_string(&s.keys),
                        key_scope: s.scope,
                        chord: super::keys::seq_to_string(&l.keys),
                        chord_scope: l.scope,
                        skipped: super::keys::seq_to_string(&entries[victim].keys),
                    };
                    return Some((victim, entries[victim].location.problem(kind)));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
