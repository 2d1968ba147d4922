//! Classification of WooCommerce (WordPress REST) answers into [`ErrorClass`]es.
//!
//! Rules (from woocommerce.md, `class-wc-rest-authentication.php` and WordPress' REST server):
//! - Errors are `{"code", "message", "data": {"status"}}`; the code and message travel with
//!   every error, with `data.params` (which parameter failed, and why) appended for
//!   `rest_invalid_param` / `rest_missing_callback_param`.
//! - 401 (unknown key, wrong secret, read-only key writing) → `RefreshCredentials`, worded so
//!   staff know which keys in `orderdeck.toml` to fix; 403 (permissions, a WAF) → `Permanent`.
//! - 404 (`woocommerce_rest_shop_order_invalid_id`, `rest_no_route`), 400 (validation) and other
//!   4xx → `Permanent`: the same request fails the same way.
//! - 429 → `RetryLater` (hosts and security plugins add it; core has no rate limit), honouring
//!   `Retry-After`.
//! - 5xx, and any answer that is not JSON (a PHP fatal's HTML, a proxy page, PHP notices before
//!   the JSON): a read is retried; after a write what happened is unknown → `Ambiguous`.

use serde_json::Value;

use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, RawResponse};

pub use crate::platforms::rest::Call;

/// The answer's JSON body, or the classified failure.
pub fn classify(raw: &RawResponse, call: Call) -> Result<Value, PlatformError> {
    let body: Option<Value> = serde_json::from_slice(&raw.body).ok();
    if (200..300).contains(&raw.status) {
        return body.ok_or_else(|| {
            call.error(
                call.effect.unknown_outcome(None),
                format!(
                    "WooCommerce answered HTTP {} with a body that is not JSON (a PHP notice or a proxy page?)",
                    raw.status
                ),
                raw,
            )
        });
    }
    Err(classify_status(raw, body.as_ref(), call))
}

/// WordPress' error code, when the body is a REST error.
pub fn error_code(body: &Value) -> Option<&str> {
    body.get("code").and_then(Value::as_str)
}

fn classify_status(raw: &RawResponse, body: Option<&Value>, call: Call) -> PlatformError {
    let said = body.and_then(describe);
    let code = body.and_then(error_code).map(str::to_string);
    let said_or = |fallback: &str| said.clone().unwrap_or_else(|| fallback.to_string());
    let retry_after = http::retry_after(&raw.headers);
    let error = match raw.status {
        401 => call.error(
            ErrorClass::RefreshCredentials,
            format!(
                "WooCommerce refused the API key (HTTP 401: {}): check consumer_key and consumer_secret in orderdeck.toml (a Read/Write key from WooCommerce → Settings → Advanced → REST API)",
                said_or("no detail")
            ),
            raw,
        ),
        403 => call.error(
            ErrorClass::Permanent,
            format!(
                "access denied (HTTP 403): {}: the key's user needs to manage WooCommerce orders, or a security plugin blocks the API",
                said_or("no detail")
            ),
            raw,
        ),
        404 => call.error(
            ErrorClass::Permanent,
            format!("WooCommerce answered 404: {}", said_or("Not Found")),
            raw,
        ),
        429 => call.error(
            ErrorClass::RetryLater { after: retry_after },
            format!("throttled by the site (HTTP 429): {}", said_or("no detail")),
            raw,
        ),
        500..=599 => call.error(
            call.effect.unknown_outcome(retry_after),
            format!(
                "WooCommerce failed (HTTP {}): {}",
                raw.status,
                said_or(if body.is_some() {
                    "no detail"
                } else {
                    "the answer is not JSON (a PHP error page or a proxy)"
                })
            ),
            raw,
        ),
        status => call.error(
            ErrorClass::Permanent,
            format!(
                "WooCommerce refused the request (HTTP {status}): {}",
                said_or("no detail")
            ),
            raw,
        ),
    };
    match code {
        Some(code) => error.with_code(code),
        None => error,
    }
}

/// `message`, plus each failed parameter of a validation error
/// (`Invalid parameter(s): line_items (line_items[0][total] is not of type string.)`).
fn describe(body: &Value) -> Option<String> {
    let message = body.get("message").and_then(Value::as_str)?.to_string();
    let params = body.get("data").and_then(|d| d.get("params"));
    let detail = match params {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(param, why)| match why.as_str() {
                Some(why) => format!("{param}: {why}"),
                None => param.clone(),
            })
            .collect::<Vec<_>>(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Some(if detail.is_empty() {
        message
    } else {
        format!("{message} ({})", detail.join("; "))
    })
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

    const READ: Call = Call::read(Platform::Woocommerce, "get_order");
    const WRITE: Call = Call::write(Platform::Woocommerce, "create_order");

    #[test]
    fn statuses_map_to_classes_with_the_code_and_message() {
        use ErrorClass::*;
        let table = [
            (
                401,
                READ,
                r#"{"code":"woocommerce_rest_authentication_error","message":"Consumer secret is invalid.","data":{"status":401}}"#,
                RefreshCredentials,
                Some("woocommerce_rest_authentication_error"),
                "Consumer secret is invalid.",
            ),
            (
                403,
                READ,
                r#"{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":403}}"#,
                Permanent,
                Some("woocommerce_rest_cannot_view"),
                "cannot list",
            ),
            (
                404,
                READ,
                r#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#,
                Permanent,
                Some("woocommerce_rest_shop_order_invalid_id"),
                "Invalid ID.",
            ),
            (
                400,
                WRITE,
                r#"{"code":"rest_invalid_param","message":"Invalid parameter(s): line_items","data":{"status":400,"params":{"line_items":"line_items[0][total] is not of type string."}}}"#,
                Permanent,
                Some("rest_invalid_param"),
                "line_items[0][total] is not of type string.",
            ),
            (
                429,
                READ,
                "<html>slow down</html>",
                RetryLater { after: None },
                None,
                "429",
            ),
            (
                500,
                READ,
                "<html>There has been a critical error on this website.</html>",
                RetryLater { after: None },
                None,
                "not JSON",
            ),
            (
                502,
                WRITE,
                "<html>Bad Gateway</html>",
                Ambiguous,
                None,
                "502",
            ),
        ];
        for (status, call, body, class, code, words) in table {
            let err = classify(&raw(status, body), call).unwrap_err();
            assert_eq!(err.class, class, "{status}");
            assert_eq!(err.code.as_deref(), code, "{status}");
            assert!(err.message.contains(words), "{status}: {}", err.message);
            assert_eq!(err.http_status, Some(status));
        }
    }

    #[test]
    fn a_2xx_that_is_not_json_is_unknown_for_a_write() {
        let err = classify(&raw(201, "Notice: undefined index\n{\"id\":1}"), WRITE).unwrap_err();
        assert_eq!(err.class, ErrorClass::Ambiguous);
        let err = classify(&raw(200, "<html>"), READ).unwrap_err();
        assert_eq!(err.class, ErrorClass::RetryLater { after: None });
        assert_eq!(
            classify(&raw(200, "[]"), READ).unwrap(),
            serde_json::json!([])
        );
    }
}
