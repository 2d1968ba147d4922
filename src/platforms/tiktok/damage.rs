//! Text in a TikTok answer that is not Unicode: bytes that are not UTF-8, or a `\uD83D` escape
//! without its other half (half an emoji). serde_json refuses either anywhere in a body, so one
//! damaged buyer name would fail the whole page and stop the shop. [`mark`] rewrites each
//! damaged spot as a marker character, the body then parses, and [`find`] names the field of
//! the one record that holds a marker, so that record alone is held for a person.
//!
//! The markers are Unicode noncharacters (U+FDD0, U+FDD1): valid in a Rust string, never
//! meaningful text, so a record holding one is unreadable by construction.

use serde_json::Value;

/// Stands where the answer had bytes that are not UTF-8.
const NOT_UTF8: char = '\u{FDD0}';
/// Stands where the answer had a `\uD800`–`\uDFFF` escape without its pair.
const LONE_SURROGATE: char = '\u{FDD1}';

/// The body with every damaged spot replaced by a marker, or `None` when nothing was damaged.
pub(super) fn mark(body: &[u8]) -> Option<Vec<u8>> {
    let mut text = String::with_capacity(body.len());
    let mut damaged = false;
    for chunk in body.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            text.push(NOT_UTF8);
            damaged = true;
        }
    }
    let (text, lone) = mark_lone_surrogates(&text);
    (damaged || lone).then(|| text.into_bytes())
}

/// Replaces `\uXXXX` escapes of unpaired surrogates with the marker's own escape. A surrogate
/// pair (high then low) is kept; `\\u` is an escaped backslash followed by a `u`, not an escape.
fn mark_lone_surrogates(text: &str) -> (String, bool) {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    let mut plain_from = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = escaped_unit(bytes, i) else {
            i += 2; // `\\`, `\"`, `\n` …: two bytes, never the start of another escape
            continue;
        };
        let high = (0xD800..0xDC00).contains(&unit);
        let low = (0xDC00..0xE000).contains(&unit);
        if high && escaped_unit(bytes, i + 6).is_some_and(|u| (0xDC00..0xE000).contains(&u)) {
            i += 12;
        } else if high || low {
            out.push_str(&text[plain_from..i]);
            out.push_str(&format!("\\u{:04X}", u32::from(LONE_SURROGATE)));
            changed = true;
            i += 6;
            plain_from = i;
        } else {
            i += 6;
        }
    }
    out.push_str(&text[plain_from..]);
    (out, changed)
}

/// The UTF-16 unit of a `\uXXXX` escape starting at `at`, if one does.
fn escaped_unit(bytes: &[u8], at: usize) -> Option<u32> {
    let escape = bytes.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u32::from_str_radix(hex, 16).ok()
}

/// The first field of `value` (a path like `line_items[1].product_name`) holding damaged text,
/// with what the damage was.
pub(super) fn find(value: &Value) -> Option<String> {
    let mut path = String::new();
    find_in(value, &mut path).map(|what| format!("field {path} holds {what}"))
}

fn find_in(value: &Value, path: &mut String) -> Option<&'static str> {
    match value {
        Value::String(s) => damage_of(s),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find_in(item, path);
            if found.is_none() {
                path.truncate(len);
            }
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&crate::domain::text::sanitize(name));
            let found = damage_of(name).or_else(|| find_in(item, path));
            if found.is_none() {
                path.truncate(len);
            }
            found
        }),
        _ => None,
    }
}

fn damage_of(text: &str) -> Option<&'static str> {
    if text.contains(NOT_UTF8) {
        Some("bytes that are not UTF-8")
    } else if text.contains(LONE_SURROGATE) {
        Some("a lone UTF-16 surrogate (half of an emoji)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &[u8]) -> Value {
        let marked = mark(body).unwrap_or_else(|| body.to_vec());
        serde_json::from_slice(&marked).unwrap()
    }

    #[test]
    fn clean_answers_and_surrogate_pairs_are_left_alone() {
        assert_eq!(mark(br#"{"name":"Bob \ud83d\ude00 \u00e9"}"#), None);
        assert_eq!(mark("{\"name\":\"Zoë 😀\"}".as_bytes()), None);
        assert_eq!(
            mark(br#"{"name":"a \\ud83d b"}"#),
            None,
            "an escaped backslash"
        );
    }

    #[test]
    fn a_lone_surrogate_is_found_in_its_field() {
        let body =
            br#"{"orders":[{"id":"1"},{"id":"2","recipient_address":{"name":"Bob \ud83d"}}]}"#;
        assert!(serde_json::from_slice::<Value>(body).is_err());
        let value = parse(body);
        assert_eq!(find(&value["orders"][0]), None);
        assert_eq!(
            find(&value["orders"][1]).as_deref(),
            Some("field recipient_address.name holds a lone UTF-16 surrogate (half of an emoji)")
        );
        let low_first = parse(br#"{"a":["\udc00\ud83d"]}"#);
        assert!(find(&low_first).is_some());
    }

    /// How a record's name is damaged on the wire, if at all.
    #[derive(Debug, Clone, Copy)]
    enum Damage {
        None,
        LoneHigh,
        LoneLow,
        NotUtf8,
    }

    fn damage() -> impl proptest::strategy::Strategy<Value = Damage> {
        proptest::prop_oneof![
            4 => proptest::strategy::Just(Damage::None),
            1 => proptest::strategy::Just(Damage::LoneHigh),
            1 => proptest::strategy::Just(Damage::LoneLow),
            1 => proptest::strategy::Just(Damage::NotUtf8),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 256,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Whatever text the records hold (emoji pairs, escapes, quotes, backslashes) and
        /// whichever are damaged, the marked answer parses and exactly the damaged records are
        /// found, at their field.
        #[test]
        fn exactly_the_damaged_records_are_found(
            records in proptest::collection::vec(("\\PC{0,12}", damage()), 1..8),
        ) {
            let mut body = b"{\"orders\":[".to_vec();
            for (i, (name, damage)) in records.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                let clean = serde_json::to_string(name).unwrap();
                body.extend_from_slice(b"{\"id\":\"1\",\"name\":");
                body.extend_from_slice(&clean.as_bytes()[..clean.len() - 1]);
                match damage {
                    Damage::None => {}
                    Damage::LoneHigh => body.extend_from_slice(br"\ud83d"),
                    Damage::LoneLow => body.extend_from_slice(br"\ude00 x"),
                    Damage::NotUtf8 => body.extend_from_slice(&[0xff]),
                }
                body.extend_from_slice(b"\"}");
            }
            body.extend_from_slice(b"]}");
            let value = parse(&body);
            for (i, (_, damage)) in records.iter().enumerate() {
                let found = find(&value["orders"][i]);
                match damage {
                    Damage::None => proptest::prop_assert_eq!(found, None),
                    _ => proptest::prop_assert!(
                        found.as_deref().is_some_and(|f| f.starts_with("field name holds")),
                        "{:?}", found
                    ),
                }
            }
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_found_in_their_field() {
        let body =
            b"{\"line_items\":[{\"product_name\":\"ok\"},{\"product_name\":\"Mug \xff\xfe\"}]}";
        let value = parse(body);
        assert_eq!(
            find(&value).as_deref(),
            Some("field line_items[1].product_name holds bytes that are not UTF-8")
        );
    }
}
