//! The part of Shopify's search syntax (`query:` arguments) the sandbox understands, and the
//! opaque cursors of its connections.
//!
//! Syntax: space-separated terms, all of which must match (`AND` is accepted and implied);
//! a term is `field:value` or `field:<op>value` with `op` one of `> >= < <=`; a value is bare or
//! quoted with `"` or `'`, where `\` escapes the next character; `-field:value` negates.
//! `OR`, parentheses and free-text words are not simulated: they are refused, never guessed at.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub field: String,
    pub comparison: Comparison,
    pub value: String,
    pub negated: bool,
}

impl Term {
    /// Compares a timestamp against the term's value (RFC 3339 or a `YYYY-MM-DD` date).
    pub fn matches_time(&self, at: DateTime<Utc>) -> Result<bool, String> {
        let wanted = parse_time(&self.value)?;
        let hit = match self.comparison {
            Comparison::Equal => at == wanted,
            Comparison::Greater => at > wanted,
            Comparison::GreaterOrEqual => at >= wanted,
            Comparison::Less => at < wanted,
            Comparison::LessOrEqual => at <= wanted,
        };
        Ok(hit != self.negated)
    }

    /// Case-insensitive equality, as Shopify's keyword filters behave.
    pub fn matches_text(&self, text: &str) -> bool {
        (self.comparison == Comparison::Equal && text.eq_ignore_ascii_case(&self.value))
            != self.negated
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| format!("{text:?} is not a time the sandbox understands"))
}

/// Parses a search string into terms.
pub fn parse(query: &str) -> Result<Vec<Term>, String> {
    let mut terms = Vec::new();
    let mut chars = query.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Ok(terms);
        };
        if first == '(' || first == ')' {
            return Err("grouping with parentheses is not simulated".into());
        }
        let negated = first == '-';
        if negated {
            chars.next();
        }
        let mut field = String::new();
        while let Some(&c) = chars.peek() {
            if c == ':' || c.is_whitespace() {
                break;
            }
            field.push(c);
            chars.next();
        }
        if chars.peek() != Some(&':') {
            match field.as_str() {
                "AND" => continue,
                "OR" | "NOT" => return Err(format!("the {field} connective is not simulated")),
                _ => return Err(format!("free-text search ({field:?}) is not simulated")),
            }
        }
        chars.next();
        let mut comparison = Comparison::Equal;
        for (text, op) in [
            (">=", Comparison::GreaterOrEqual),
            ("<=", Comparison::LessOrEqual),
            (">", Comparison::Greater),
            ("<", Comparison::Less),
        ] {
            let mut ahead = chars.clone();
            if text.chars().all(|t| ahead.next() == Some(t)) {
                comparison = op;
                chars = ahead;
                break;
            }
        }
        let mut value = String::new();
        match chars.peek().copied() {
            Some(quote @ ('"' | '\'')) => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted value".into()),
                        Some('\\') => value.extend(chars.next()),
                        Some(c) if c == quote => break,
                        Some(c) => value.push(c),
                    }
                }
            }
            _ => {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    chars.next();
                    if c == '\\' {
                        value.extend(chars.next());
                    } else {
                        value.push(c);
                    }
                }
            }
        }
        terms.push(Term {
            field,
            comparison,
            value,
            negated,
        });
    }
}

/// A position in a sorted list: the sort value and the id of the last item seen, like
/// Shopify's base64 JSON cursors.
pub fn encode_cursor(sort_value: i64, id: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!(r#"{{"last_id":{id},"last_value":{sort_value}}}"#))
}

pub fn decode_cursor(cursor: &str) -> Result<(i64, u64), String> {
    let invalid = || "Invalid cursor for current pagination sort.".to_string();
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let id = value.get("last_id").and_then(serde_json::Value::as_u64);
    let sort = value.get("last_value").and_then(serde_json::Value::as_i64);
    id.zip(sort)
        .map(|(id, sort)| (sort, id))
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_with_quotes_escapes_and_comparisons() {
        let terms = parse(
            r#"updated_at:>='2025-11-01T00:00:00Z' tag:"TikTok Shop" sku:"A\"B\\C" AND -tag:x"#,
        )
        .unwrap();
        assert_eq!(terms.len(), 4);
        assert_eq!(terms[0].comparison, Comparison::GreaterOrEqual);
        assert_eq!(terms[0].value, "2025-11-01T00:00:00Z");
        assert_eq!(terms[1].value, "TikTok Shop");
        assert_eq!(terms[2].value, r#"A"B\C"#);
        assert!(terms[3].negated);
        assert!(terms[1].matches_text("tiktok shop"));
        assert!(!terms[3].matches_text("x"));
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        for query in ["sku:a OR sku:b", "(sku:a)", "jumper", "sku:\"open"] {
            assert!(parse(query).is_err(), "{query}");
        }
    }

    #[test]
    fn times_compare() {
        let term = &parse("updated_at:>2025-11-01").unwrap()[0];
        let at = DateTime::parse_from_rfc3339("2025-11-01T00:00:01Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(term.matches_time(at).unwrap());
        assert!(
            parse("updated_at:soon").unwrap()[0]
                .matches_time(at)
                .is_err()
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(-5, 42)), Ok((-5, 42)));
        assert!(decode_cursor("bm9wZQ").is_err());
        assert!(decode_cursor("!!").is_err());
    }
}
