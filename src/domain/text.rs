//! Text shown to people. Untrusted text: everything a platform sends (names, addresses,
//! reasons, error messages) may hold control characters or terminal escape sequences.
//! `sanitize` is applied before such text is shown or logged; it keeps printable Unicode and
//! replaces the rest so nothing is silently lost. And counts, grouped in thousands.

/// Replaces control characters (C0, DEL, C1, and the bidi overrides that can disguise text) with
/// `\u{FFFD}`-free visible escapes: a newline or tab becomes a space, anything else `�`.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_unsafe(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Like [`sanitize`] but keeps line breaks, for multi-line views such as a raw payload.
pub fn sanitize_multiline(text: &str) -> String {
    text.lines().map(sanitize).collect::<Vec<_>>().join("\n")
}

/// True when `text` would be changed by [`sanitize`].
pub fn needs_sanitizing(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\n' | '\r' | '\t') || is_unsafe(c))
}

/// True for the characters [`sanitize`] does not keep: control characters (C0 with line breaks
/// and tabs, DEL, C1) and the bidi marks, embeddings, overrides and isolates. Output that must
/// keep text intact (JSON) escapes exactly these instead.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200E}' | '\u{200F}'            // LRM, RLM
            | '\u{202A}'..='\u{202E}'          // embeddings and overrides
            | '\u{2066}'..='\u{2069}'          // isolates
        )
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// 12431 → "12,431".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_431), "12,431");
        assert_eq!(thousands(100_000), "100,000");
    }

    #[test]
    fn escape_sequences_never_survive() {
        let hostile = "Bob\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m";
        let clean = sanitize(hostile);
        assert!(!clean.chars().any(|c| c.is_control()), "{clean:?}");
        assert!(clean.starts_with("Bob"));
    }

    #[test]
    fn printable_unicode_is_kept() {
        assert_eq!(sanitize("ジョン Müller ✓"), "ジョン Müller ✓");
        assert!(!needs_sanitizing("ジョン Müller ✓"));
    }

    #[test]
    fn line_breaks_become_spaces_or_are_kept_when_asked() {
        assert_eq!(sanitize("a\nb\tc"), "a b c");
        assert_eq!(sanitize_multiline("a\nb\u{1b}"), "a\nb\u{FFFD}");
    }

    #[test]
    fn bidi_overrides_are_replaced() {
        assert_eq!(sanitize("x\u{202E}y"), "x\u{FFFD}y");
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
