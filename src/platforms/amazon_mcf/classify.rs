//! Classification of Selling Partner API answers into [`ErrorClass`]es (amazon-mcf.md).
//!
//! - Errors are `{"errors": [{"code", "message", "details"}]}`; Amazon's `code` becomes the
//!   error's code and `message` (with `details` when given) its text, with `x-amzn-RequestId`.
//! - 400 (`InvalidInput`) and other 4xx → `Permanent`: the same request fails the same way.
//! - 401, and 403 `Unauthorized` (token expired, revoked, missing) → `RefreshCredentials`;
//!   the transport gets a new token once and repeats the call before anyone sees it.
//! - 429 (`QuotaExceeded`, no `Retry-After`) → `RetryLater` after at least one refill interval.
//! - 5xx and answers that are not JSON: a read is retried; after a write what happened is
//!   unknown → `Ambiguous` (read the order back before anything else).

use std::time::Duration;

use serde_json::Value;

use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::RawResponse;

/// The header every Selling Partner API answer carries.
pub const REQUEST_ID: &str = "x-amzn-requestid";

pub use crate::platforms::rest::Call;

/// Amazon's first error, as (`code`, "message (details)").
pub fn first_error(body: &Value) -> Option<(String, String)> {
    let error = body.get("errors")?.as_array()?.first()?;
    let code = error.get("code").and_then(Value::as_str).unwrap_or("");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    let details = error
        .get("details")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let text = match details {
        Some(details) => format!("{message} ({details})"),
        None => message.to_string(),
    };
    Some((code.to_string(), text))
}

/// The answer's JSON body, or the classified failure. `throttle_wait` is the least wait
/// before this operation may be called again after a 429 (its bucket's refill interval).
pub fn classify(
    raw: &RawResponse,
    call: Call,
    store: &str,
    throttle_wait: impl FnOnce() -> Duration,
) -> Result<Value, PlatformError> {
    let body: Option<Value> = serde_json::from_slice(&raw.body).ok();
    if (200..300).contains(&raw.status) {
        return body.ok_or_else(|| {
            call.error(
                call.effect.unknown_outcome(None),
                format!(
                    "Amazon answered HTTP {} with a body that is not JSON",
                    raw.status
                ),
                raw,
            )
        });
    }
    let said = body.as_ref().and_then(first_error);
    let text = said
        .as_ref()
        .map(|(_, text)| text.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "no detail".to_string());
    let class = match raw.status {
        401 | 403 => ErrorClass::RefreshCredentials,
        429 => ErrorClass::RetryLater {
            after: Some(throttle_wait()),
        },
        500..=599 => call.effect.unknown_outcome(None),
        _ => ErrorClass::Permanent,
    };
    let message = match raw.status {
        401 | 403 => format!(
            "Amazon refused the access token of store {store} (HTTP {}: {text}): if a new token does not help, check lwa_client_id, lwa_client_secret and refresh_token in orderdeck.toml, and that the seller still authorizes the app",
            raw.status
        ),
        429 => format!("Amazon's rate limit for this operation was reached (HTTP 429: {text})"),
        500..=599 => format!("Amazon failed (HTTP {}: {text})", raw.status),
        status => format!("Amazon refused the request (HTTP {status}: {text})"),
    };
    let error = call.error(class, message, raw);
    Err(match said {
        Some((code, _)) if !code.is_empty() => error.with_code(code),
        _ => error,
    })
}

/// Whether an error says the fulfillment order does not exist: a 404, or — since this API
/// answers many bad lookups with 400 `InvalidInput` — a 400 whose message says "not found".
/// Anything else is an error: never read an unexplained one as "not there, create it".
pub fn is_not_found(error: &PlatformError) -> bool {
    match error.http_status {
        Some(404) => true,
        Some(400) => error.message.to_ascii_lowercase().contains("not found"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::Platform;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn raw(status: u16, body: &str) -> RawResponse {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("req-1"));
        RawResponse {
            status,
            headers,
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    const READ: Call = Call::read(Platform::AmazonMcf, "getFulfillmentOrder");
    const WRITE: Call = Call::write(Platform::AmazonMcf, "createFulfillmentOrder");
    const HALF: fn() -> Duration = || Duration::from_millis(500);

    #[test]
    fn statuses_map_to_classes_with_code_message_and_request_id() {
        use ErrorClass::*;
        let table = [
            (
                400,
                WRITE,
                r#"{"errors":[{"code":"InvalidInput","message":"the SellerSKU for Item Id: 1 is invalid.","details":""}]}"#,
                Permanent,
                Some("InvalidInput"),
                "Item Id: 1 is invalid.",
            ),
            (
                403,
                READ,
                r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#,
                RefreshCredentials,
                Some("Unauthorized"),
                "has expired.)): if a new token",
            ),
            (
                429,
                READ,
                r#"{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}"#,
                RetryLater {
                    after: Some(Duration::from_millis(500)),
                },
                Some("QuotaExceeded"),
                "429",
            ),
            (
                503,
                READ,
                "<html>",
                RetryLater { after: None },
                None,
                "no detail",
            ),
            (
                500,
                WRITE,
                r#"{"errors":[{"code":"InternalFailure","message":"We encountered an internal error."}]}"#,
                Ambiguous,
                Some("InternalFailure"),
                "internal error",
            ),
            (
                404,
                READ,
                r#"{"errors":[{"code":"NotFound","message":"Requested order not found"}]}"#,
                Permanent,
                Some("NotFound"),
                "not found",
            ),
        ];
        for (status, call, body, class, code, words) in table {
            let err = classify(&raw(status, body), call, "us-amazon", HALF).unwrap_err();
            assert_eq!(err.class, class, "{status}");
            assert_eq!(err.code.as_deref(), code, "{status}");
            assert!(err.message.contains(words), "{status}: {}", err.message);
            assert_eq!(err.request_id.as_deref(), Some("req-1"));
            assert_eq!(err.http_status, Some(status));
        }
    }

    #[test]
    fn not_found_is_a_404_or_a_400_saying_so_and_nothing_else() {
        let err = |status, body| classify(&raw(status, body), READ, "s", HALF).unwrap_err();
        assert!(is_not_found(&err(404, "{}")));
        assert!(is_not_found(&err(
            400,
            r#"{"errors":[{"code":"InvalidInput","message":"Requested order not found"}]}"#
        )));
        assert!(!is_not_found(&err(
            400,
            r#"{"errors":[{"code":"InvalidInput","message":"Invalid sellerFulfillmentOrderId"}]}"#
        )));
        assert!(!is_not_found(&err(500, "{}")));
    }

    #[test]
    fn a_2xx_that_is_not_json_is_unknown_for_a_write() {
        let err = classify(&raw(200, "<html>"), WRITE, "s", HALF).unwrap_err();
        assert_eq!(err.class, ErrorClass::Ambiguous);
        assert_eq!(
            classify(&raw(200, "{}"), WRITE, "s", HALF).unwrap(),
            serde_json::json!({})
        );
    }
}
