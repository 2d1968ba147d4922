//! TikTok's answer envelope `{code, message, request_id, data}`: read whatever the HTTP
//! status, classified (see [`classify`]), and `data` read into its wire shape.
//!
//! Invariants: the code decides before the HTTP status; an answer that is not an envelope is
//! `Ambiguous` for a write and `RetryLater` for a read when it came with a 2xx, and classified by
//! its status otherwise; a write TikTok accepted (code 0) is never turned into a failure because
//! its `data` is odd.
//!
//! [`classify`]: super::classify

use serde::de::DeserializeOwned;

use super::classify::{self, codes};
use super::damage;
use super::wire;
use crate::domain::platform::Platform;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{CallKind, RawResponse};

/// A successful answer's `data` and `request_id`.
#[derive(Debug)]
pub(super) struct Answer {
    pub data: serde_json::Value,
    pub request_id: Option<String>,
}

/// Reads a complete HTTP answer: envelope first, whatever the status.
pub(super) fn interpret(
    raw: &RawResponse,
    operation: &'static str,
    effect: CallKind,
) -> Result<Answer, PlatformError> {
    let envelope = read_envelope(&raw.body);
    let Ok(envelope) = envelope else {
        let (class, message) = if (200..300).contains(&raw.status) {
            (
                malformed_class(effect),
                format!(
                    "the answer was not a TikTok envelope ({} bytes): {}",
                    raw.body.len(),
                    envelope.err().unwrap_or_default()
                ),
            )
        } else {
            let class =
                classify::classify(raw.status, codes::OK, effect).unwrap_or(ErrorClass::Permanent);
            (
                class,
                format!("HTTP {} without a TikTok envelope", raw.status),
            )
        };
        return Err(error(operation, class, message).with_status(raw.status));
    };
    let code = envelope.code.unwrap_or_default();
    match classify::classify(raw.status, code, effect) {
        None => Ok(Answer {
            data: envelope.data.unwrap_or(serde_json::Value::Null),
            request_id: envelope.request_id,
        }),
        Some(class) => Err(error(
            operation,
            class,
            classify::describe(code, envelope.message.as_deref().unwrap_or_default()),
        )
        .with_code(code.to_string())
        .with_request_id(envelope.request_id)
        .with_status(raw.status)),
    }
}

/// The envelope of `body`, or what failed to parse (sanitized). Text that is not Unicode is
/// marked (see [`damage`]) so that only the record holding it is unreadable, not the answer.
fn read_envelope(body: &[u8]) -> Result<wire::Envelope, String> {
    let parsed = match serde_json::from_slice::<wire::Envelope>(body) {
        Err(e) if e.is_syntax() => match damage::mark(body) {
            Some(marked) => serde_json::from_slice(&marked),
            None => Err(e),
        },
        other => other,
    };
    match parsed {
        Ok(envelope) if envelope.code.is_some() => Ok(envelope),
        Ok(_) => Err("it has no `code`".into()),
        Err(e) => Err(crate::domain::text::sanitize(&e.to_string())),
    }
}

/// Reads `data` into its wire shape. A successful write is done even when its `data` is
/// unreadable, so writes fall back to an empty shape; a read retries.
pub(super) fn decode<T: DeserializeOwned + Default>(
    answer: Answer,
    operation: &'static str,
    effect: CallKind,
) -> Result<T, PlatformError> {
    if answer.data.is_null() {
        return Ok(T::default());
    }
    match serde_json::from_value(answer.data) {
        Ok(value) => Ok(value),
        Err(err) if effect == CallKind::Write => {
            let err = crate::domain::text::sanitize(&err.to_string());
            tracing::warn!(operation, %err, "write succeeded but its data was unreadable");
            Ok(T::default())
        }
        Err(err) => Err(error(
            operation,
            malformed_class(effect),
            format!("unreadable data: {err}"),
        )
        .with_request_id(answer.request_id)),
    }
}

fn malformed_class(effect: CallKind) -> ErrorClass {
    effect.unknown_outcome(None)
}

pub(super) fn error(
    operation: &'static str,
    class: ErrorClass,
    message: impl AsRef<str>,
) -> PlatformError {
    PlatformError::new(Platform::TiktokShop, operation, class, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn the_envelope_decides_before_the_http_status() {
        let bad_sign = r#"{"code":106001,"data":null,"message":"Invalid credentials. The 'sign' query parameter is invalid.","request_id":"2026RID"}"#;
        let e = interpret(&raw(401, bad_sign), "get_authorized_shops", CallKind::Read).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(e.code.as_deref(), Some("106001"));
        assert_eq!(e.request_id.as_deref(), Some("2026RID"));
        assert!(
            e.message.contains("check the app key and app secret"),
            "{}",
            e.message
        );
        assert_eq!(e.http_status, Some(401));

        let ok = interpret(
            &raw(
                200,
                r#"{"code":0,"message":"Success","request_id":"r","data":{"a":1}}"#,
            ),
            "x",
            CallKind::Read,
        )
        .unwrap();
        assert_eq!(ok.data["a"], 1);
    }

    #[test]
    fn answers_that_are_not_envelopes() {
        let truncated = raw(200, r#"{"code":0,"data":{"orders":["#);
        assert_eq!(
            interpret(&truncated, "ship", CallKind::Write)
                .unwrap_err()
                .class,
            ErrorClass::Ambiguous
        );
        assert_eq!(
            interpret(&truncated, "search", CallKind::Read)
                .unwrap_err()
                .class,
            ErrorClass::RetryLater { after: None }
        );
        let gateway = raw(502, "<html>bad gateway</html>");
        assert_eq!(
            interpret(&gateway, "ship", CallKind::Write)
                .unwrap_err()
                .class,
            ErrorClass::Ambiguous
        );
        let not_found = raw(404, "404 page not found");
        assert_eq!(
            interpret(&not_found, "x", CallKind::Read)
                .unwrap_err()
                .class,
            ErrorClass::Permanent
        );
    }

    #[test]
    fn unreadable_data_retries_a_read_but_not_a_write() {
        let answer = || Answer {
            data: serde_json::json!({"orders": 5, "next_page_token": []}),
            request_id: None,
        };
        let list: wire::OrderList = decode(answer(), "search_orders", CallKind::Read).unwrap();
        assert!(
            list.orders.is_empty(),
            "a stray type inside data is lenient"
        );
        let answer = || Answer {
            data: serde_json::json!("a string"),
            request_id: None,
        };
        assert!(decode::<wire::OrderList>(answer(), "search_orders", CallKind::Read).is_err());
        assert!(decode::<wire::ShippedPackage>(answer(), "ship", CallKind::Write).is_ok());
    }
}
