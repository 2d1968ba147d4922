//! Keys as the keymap spells them. One canonical spelling (`ctrl-r`, `G`, `space`, `shift-tab`,
//! `pgup`, `f5`; chords as space-separated keys, `g g`) and a lenient reader that also accepts
//! the spellings people bring from other tools (`C-r`, `<C-r>`, `Ctrl+R`, `<Enter>`, `Return`,
//! `Space`, `PageUp`). Terminal key events are normalised the same way, so a binding and a key
//! press compare equal exactly when they mean the same key.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key without modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyName {
    /// A printable character other than space; letters keep their case (`G` is shift-g).
    Char(char),
    Space,
    Enter,
    Esc,
    Tab,
    Backspace,
    Delete,
    Insert,
    Home,
    End,
    PageUp,
    PageDown,
    Up,
    Down,
    Left,
    Right,
    F(u8),
}

/// A key with its modifiers, normalised: a character carries its own case and never `shift`;
/// `ctrl` with a letter always uses the lower-case letter (terminals cannot tell them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub name: KeyName,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// One or more keys typed in a row (`g g`).
pub type KeySeq = Vec<Key>;

const NAMED: &[(&str, KeyName)] = &[
    ("space", KeyName::Space),
    ("spc", KeyName::Space),
    ("enter", KeyName::Enter),
    ("return", KeyName::Enter),
    ("ret", KeyName::Enter),
    ("cr", KeyName::Enter),
    ("esc", KeyName::Esc),
    ("escape", KeyName::Esc),
    ("tab", KeyName::Tab),
    ("backspace", KeyName::Backspace),
    ("bs", KeyName::Backspace),
    ("delete", KeyName::Delete),
    ("del", KeyName::Delete),
    ("insert", KeyName::Insert),
    ("ins", KeyName::Insert),
    ("home", KeyName::Home),
    ("end", KeyName::End),
    ("pgup", KeyName::PageUp),
    ("pageup", KeyName::PageUp),
    ("page-up", KeyName::PageUp),
    ("prior", KeyName::PageUp),
    ("pgdown", KeyName::PageDown),
    ("pgdn", KeyName::PageDown),
    ("pagedown", KeyName::PageDown),
    ("page-down", KeyName::PageDown),
    ("next", KeyName::PageDown),
    ("up", KeyName::Up),
    ("down", KeyName::Down),
    ("left", KeyName::Left),
    ("right", KeyName::Right),
];

/// Modifier prefixes, lower-case, longest first so `ctrl-` wins over `c-`.
const MODIFIERS: &[(&str, Modifier)] = &[
    ("control-", Modifier::Ctrl),
    ("control+", Modifier::Ctrl),
    ("ctrl-", Modifier::Ctrl),
    ("ctrl+", Modifier::Ctrl),
    ("c-", Modifier::Ctrl),
    ("meta-", Modifier::Alt),
    ("meta+", Modifier::Alt),
    ("alt-", Modifier::Alt),
    ("alt+", Modifier::Alt),
    ("opt-", Modifier::Alt),
    ("a-", Modifier::Alt),
    ("m-", Modifier::Alt),
    ("shift-", Modifier::Shift),
    ("shift+", Modifier::Shift),
    ("s-", Modifier::Shift),
];

#[derive(Debug, Clone, Copy)]
enum Modifier {
    Ctrl,
    Alt,
    Shift,
}

impl Key {
    pub fn plain(name: KeyName) -> Key {
        Key {
            name,
            ctrl: false,
            alt: false,
            shift: false,
        }
    }

    pub fn char(c: char) -> Key {
        Key::plain(KeyName::Char(c)).normalized()
    }

    /// Reads one key in any accepted spelling.
    pub fn parse(text: &str) -> Result<Key, String> {
        let inner = text
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .filter(|t| !t.is_empty())
            .unwrap_or(text);
        let mut key = Key::plain(KeyName::Space);
        let mut rest = inner;
        // A lone "-" or "+" after a modifier is the key itself, not another separator.
        while rest.chars().count() > 2 {
            let lower = rest.to_ascii_lowercase();
            let Some((prefix, modifier)) = MODIFIERS.iter().find(|(p, _)| lower.starts_with(p))
            else {
                break;
            };
            match modifier {
                Modifier::Ctrl => key.ctrl = true,
                Modifier::Alt => key.alt = true,
                Modifier::Shift => key.shift = true,
            }
            rest = &rest[prefix.len()..];
        }
        key.name = parse_name(rest).ok_or_else(|| format!("unknown key name {text:?}"))?;
        Ok(key.normalized())
    }

    /// The key a terminal event stands for, or `None` for keys the console never binds.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let name = match event.code {
            KeyCode::Char(' ') => KeyName::Space,
            KeyCode::Char(c) => KeyName::Char(c),
            KeyCode::Enter => KeyName::Enter,
            KeyCode::Esc => KeyName::Esc,
            KeyCode::Tab => KeyName::Tab,
            KeyCode::BackTab => {
                return Some(Key {
                    shift: true,
                    ..Key::plain(KeyName::Tab)
                });
            }
            KeyCode::Backspace => KeyName::Backspace,
            KeyCode::Delete => KeyName::Delete,
            KeyCode::Insert => KeyName::Insert,
            KeyCode::Home => KeyName::Home,
            KeyCode::End => KeyName::End,
            KeyCode::PageUp => KeyName::PageUp,
            KeyCode::PageDown => KeyName::PageDown,
            KeyCode::Up => KeyName::Up,
            KeyCode::Down => KeyName::Down,
            KeyCode::Left => KeyName::Left,
            KeyCode::Right => KeyName::Right,
            KeyCode::F(n) => KeyName::F(n),
            _ => return None,
        };
        let m = event.modifiers;
        Some(
            Key {
                name,
                ctrl: m.contains(KeyModifiers::CONTROL),
                alt: m.contains(KeyModifiers::ALT),
                shift: m.contains(KeyModifiers::SHIFT),
            }
            .normalized(),
        )
    }

    fn normalized(mut self) -> Key {
        if let KeyName::Char(c) = self.name {
            if self.ctrl {
                self.name = KeyName::Char(c.to_ascii_lowercase());
            } else if self.shift {
                self.name = KeyName::Char(c.to_ascii_uppercase());
            }
            self.shift = false;
        }
        self
    }
}

fn parse_name(text: &str) -> Option<KeyName> {
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return match c {
            ' ' => Some(KeyName::Space),
            c if c.is_control() => None,
            c => Some(KeyName::Char(c)),
        };
    }
    let lower = text.to_ascii_lowercase();
    if let Some((_, name)) = NAMED.iter().find(|(n, _)| *n == lower) {
        return Some(*name);
    }
    lower
        .strip_prefix('f')
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=24).contains(n))
        .map(KeyName::F)
}

/// How an Alt chord is read. A terminal sends Alt-j as Esc followed by `j`, and crossterm reads
/// Esc and a key that arrive in one read as that chord. Over a laggy link (SSH, mobile) a
/// person's Esc and the key after it travel in one packet, so "Esc, then j" would become an
/// Alt-j nothing is bound to and both keys would be lost. Like vim with a short `ttimeoutlen`,
/// orderdeck takes such a chord as the two keys it most likely was: an Alt chord is kept only
/// when `bound` says a binding wants it; otherwise it is Esc followed by the key alone.
pub fn split_unbound_alt(key: Key, bound: impl Fn(&Key) -> bool) -> Vec<Key> {
    let splittable = key.alt && !key.ctrl && matches!(key.name, KeyName::Char(_));
    if !splittable || bound(&key) {
        return vec![key];
    }
    let plain = Key { alt: false, ..key };
    vec![Key::plain(KeyName::Esc), plain]
}

/// Reads a whole binding: one key, or a chord of space-separated keys. A string that is just
/// a space is the space key.
pub fn parse_seq(text: &str) -> Result<KeySeq, String> {
    if text == " " {
        return Ok(vec![Key::plain(KeyName::Space)]);
    }
    let keys: Vec<Key> = text
        .split_whitespace()
        .map(Key::parse)
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err("empty key".into());
    }
    Ok(keys)
}

/// The canonical spelling of a chord.
pub fn seq_to_string(seq: &[Key]) -> String {
    seq.iter().map(Key::to_string).collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.name {
            KeyName::Char(c) => write!(f, "{c}"),
            KeyName::F(n) => write!(f, "f{n}"),
            named => {
                let (text, _) = NAMED
                    .iter()
                    .find(|(_, n)| *n == named)
                    .copied()
                    .unwrap_or(("?", named));
                f.write_str(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        seq_to_string(&parse_seq(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    #[test]
    fn other_spellings_normalise_to_the_canonical_one() {
        let table = [
            ("ctrl-r", "ctrl-r"),
            ("C-r", "ctrl-r"),
            ("<C-r>", "ctrl-r"),
            ("Ctrl+R", "ctrl-r"),
            ("control-r", "ctrl-r"),
            ("<Enter>", "enter"),
            ("Return", "enter"),
            ("<CR>", "enter"),
            ("Space", "space"),
            (" ", "space"),
            ("PageUp", "pgup"),
            ("<PageDown>", "pgdown"),
            ("<S-Tab>", "shift-tab"),
            ("shift-g", "G"),
            ("G", "G"),
            ("g g", "g g"),
            ("F5", "f5"),
            ("alt+x", "alt-x"),
            ("M-x", "alt-x"),
            ("ctrl--", "ctrl--"),
            ("?", "?"),
        ];
        for (written, canonical) in table {
            assert_eq!(canon(written), canonical, "{written}");
        }
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(Key::parse("ctlr-r").is_err());
        assert!(Key::parse("pagedwn").is_err());
        assert!(parse_seq("").is_err());
    }

    #[test]
    fn an_unbound_alt_chord_is_esc_then_the_key() {
        let key = |text: &str| Key::parse(text).unwrap();
        let nothing_bound = |_: &Key| false;
        assert_eq!(
            split_unbound_alt(key("alt-j"), nothing_bound),
            [key("esc"), key("j")]
        );
        assert_eq!(
            split_unbound_alt(key("alt-G"), nothing_bound),
            [key("esc"), key("G")]
        );
        // A chord someone bound stays a chord.
        let alt_j_bound = |k: &Key| *k == key("alt-j");
        assert_eq!(split_unbound_alt(key("alt-j"), alt_j_bound), [key("alt-j")]);
        // Keys without Alt, and Alt with keys a typed Esc never precedes, are left alone.
        assert_eq!(split_unbound_alt(key("j"), nothing_bound), [key("j")]);
        assert_eq!(
            split_unbound_alt(key("alt-up"), nothing_bound),
            [key("alt-up")]
        );
        assert_eq!(
            split_unbound_alt(key("ctrl-alt-x"), nothing_bound),
            [key("ctrl-alt-x")]
        );
    }

    #[test]
    fn terminal_events_match_bindings() {
        let event = |code, modifiers| Key::from_event(&KeyEvent::new(code, modifiers));
        assert_eq!(
            event(KeyCode::Char('G'), KeyModifiers::SHIFT),
            Key::parse("G").ok()
        );
        assert_eq!(
            event(KeyCode::Char('r'), KeyModifiers::CONTROL),
            Key::parse("ctrl-r").ok()
        );
        assert_eq!(
            event(KeyCode::BackTab, KeyModifiers::SHIFT),
            Key::parse("shift-tab").ok()
        );
        assert_eq!(
            event(KeyCode::Char(' '), KeyModifiers::NONE),
            Key::parse("space").ok()
        );
    }
}
