//! Classification of BigCommerce answers into [`ErrorClass`]es (bigcommerce.md, "Errors").
//!
//! - V2 error bodies are arrays `[{"status", "message", "details"?}]`; V3 ones are objects
//!   `{"status", "title", "type", "errors"?}`. Every message (and each field of V3's `errors`)
//!   travels with the error, for staff.
//! - 401 (token missing or invalid) and 403 (missing scope, store owner changed) end the
//!   link's authorization → `RefreshCredentials`, worded so staff know what to fix.
//! - 429 → `RetryLater` after `X-Rate-Limit-Time-Reset-Ms` (the transport waits it out first).
//! - 500, 502–504 and answers that are not JSON: a read is retried; after a write what
//!   happened is unknown → `Ambiguous`. Every other status is permanent.
//! - 204 is an empty success (`GET /v2/orders` with nothing matching, an order without
//!   shipments), not an error.

use serde_json::Value;

use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::RawResponse;

pub use crate::platforms::rest::Call;

/// The answer's JSON body (`None` for 204 or an empty 2xx), or the classified failure.
pub fn classify(raw: &RawResponse, call: Call) -> Result<Option<Value>, PlatformError> {
    let blank = raw.body.iter().all(u8::is_ascii_whitespace);
    if (200..300).contains(&raw.status) {
        if raw.status == 204 || blank {
            return Ok(None);
        }
        return serde_json::from_slice(&raw.body).map(Some).map_err(|_| {
            call.error(
                call.effect.unknown_outcome(None),
                format!(
                    "BigCommerce answered HTTP {} with a body that is not JSON",
                    raw.status
                ),
                raw,
            )
        });
    }
    let body: Option<Value> = serde_json::from_slice(&raw.body).ok();
    Err(classify_status(raw, body.as_ref(), call))
}

fn classify_status(raw: &RawResponse, body: Option<&Value>, call: Call) -> PlatformError {
    let said = body.and_then(describe);
    let said_or = |fallback: &str| said.clone().unwrap_or_else(|| fallback.to_string());
    let reset = super::gate::Limits::read(&raw.headers).reset;
    match raw.status {
        401 => call.error(
            ErrorClass::RefreshCredentials,
            format!(
                "BigCommerce refused the access token (HTTP 401: {}): check access_token and store_hash in orderdeck.toml (a store-level API account's token)",
                said_or("no detail")
            ),
            raw,
        ),
        403 => call.error(
            ErrorClass::RefreshCredentials,
            format!(
                "BigCommerce denied access (HTTP 403: {}): the API account needs the Orders modify and Products read-only scopes, or the store owner changed",
                said_or("no detail")
            ),
            raw,
        ),
        404 => call.error(
            ErrorClass::Permanent,
            format!("BigCommerce answered 404: {}", said_or("Not Found")),
            raw,
        ),
        429 => call.error(
            ErrorClass::RetryLater { after: reset },
            format!(
                "the store's API quota is spent (HTTP 429): {}",
                said_or("no detail")
            ),
            raw,
        ),
        500 | 502..=504 => call.error(
            call.effect.unknown_outcome(None),
            format!(
                "BigCommerce failed (HTTP {}): {}",
                raw.status,
                said_or(if body.is_some() {
                    "no detail"
                } else {
                    "the answer is not JSON"
                })
            ),
            raw,
        ),
        status => call.error(
            ErrorClass::Permanent,
            format!(
                "BigCommerce refused the request (HTTP {status}): {}",
                said_or("no detail")
            ),
            raw,
        ),
    }
}

/// The messages of a V2 error array, or a V3 error's title with each field's error.
fn describe(body: &Value) -> Option<String> {
    match body {
        Value::Array(items) => {
            let messages: Vec<String> = items
                .iter()
                .filter_map(|item| {
                    let message = item.get("message")?.as_str()?.to_string();
                    Some(match item.get("details") {
                        Some(details) if !details.is_null() => format!("{message} ({details})"),
                        _ => message,
                    })
                })
                .collect();
            (!messages.is_empty()).then(|| messages.join("; "))
        }
        Value::Object(map) => {
            let title = map.get("title").and_then(Value::as_str)?.to_string();
            let fields: Vec<String> = match map.get("errors") {
                Some(Value::Object(errors)) => errors
                    .iter()
                    .map(|(field, why)| match why.as_str() {
                        Some(why) => format!("{field}: {why}"),
                        None => field.clone(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Some(if fields.is_empty() {
                title
            } else {
                format!("{title} ({})", fields.join("; "))
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::Platform;
    use reqwest::header::HeaderMap;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    const READ: Call = Call::read(Platform::Bigcommerce, "get_order");
    const WRITE: Call = Call::write(Platform::Bigcommerce, "create_order");

    #[test]
    fn statuses_map_to_classes_with_the_message() {
        use ErrorClass::*;
        let table = [
            (
                401,
                READ,
                r#"{"status":401,"title":"Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store.","type":"/api-docs/getting-started/api-status-codes"}"#,
                RefreshCredentials,
                "access_token",
            ),
            (
                403,
                WRITE,
                r#"[{"status":403,"message":"You don't have a required scope to access the endpoint"}]"#,
                RefreshCredentials,
                "required scope",
            ),
            (
                404,
                READ,
                r#"[{"status":404,"message":"The requested resource was not found."}]"#,
                Permanent,
                "not found",
            ),
            (
                400,
                WRITE,
                r#"[{"status":400,"message":"The field 'external_id' cannot be written to. Please remove it from your request before trying again."}]"#,
                Permanent,
                "external_id",
            ),
            (
                422,
                WRITE,
                r#"{"status":422,"title":"JSON data is missing or invalid","type":"x","errors":{"products[0].quantity":"must be an integer"}}"#,
                Permanent,
                "products[0].quantity: must be an integer",
            ),
            (429, READ, "", RetryLater { after: None }, "429"),
            (500, READ, "<html>", RetryLater { after: None }, "not JSON"),
            (502, WRITE, "<html>Bad Gateway</html>", Ambiguous, "502"),
            (
                503,
                READ,
                r#"[{"status":503,"message":"Store is down for maintenance"}]"#,
                RetryLater { after: None },
                "maintenance",
            ),
            (
                507,
                WRITE,
                r#"[{"status":507,"message":"Plan limit reached"}]"#,
                Permanent,
                "Plan limit",
            ),
        ];
        for (status, call, body, class, words) in table {
            let err = classify(&raw(status, body), call).unwrap_err();
            assert_eq!(err.class, class, "{status}");
            assert!(err.message.contains(words), "{status}: {}", err.message);
            assert_eq!(err.http_status, Some(status));
            assert_eq!(err.platform, Platform::Bigcommerce);
        }
    }

    #[test]
    fn no_content_is_an_empty_success_and_junk_is_unknown_for_a_write() {
        assert_eq!(classify(&raw(204, ""), READ).unwrap(), None);
        assert_eq!(
            classify(&raw(200, "[]"), READ).unwrap(),
            Some(serde_json::json!([]))
        );
        let err = classify(&raw(201, "{\"id\":"), WRITE).unwrap_err();
        assert_eq!(err.class, ErrorClass::Ambiguous);
        let err = classify(&raw(200, "<html>"), READ).unwrap_err();
        assert_eq!(err.class, ErrorClass::RetryLater { after: None });
    }
}
