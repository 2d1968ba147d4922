//! Classification of Magento 2 REST answers into [`ErrorClass`]es (magento2.md, "How Magento
//! reads a request").
//!
//! - Errors are `{"message": "...%1... %name...", "parameters": [..] | {..}}` (plus `errors[]`
//!   when several): the placeholders are substituted before the message travels anywhere.
//! - 401 (wrong or missing token, a missing ACL grant, Bearer use of integration tokens not
//!   allowed) → `RefreshCredentials`, naming the store and what to fix in Magento's admin.
//! - 400 (validation, business refusals), 404 (no route, no such entity) and other 4xx →
//!   `Permanent`: the same request fails the same way.
//! - 429 (backpressure, a CDN) → `RetryLater`, honouring `Retry-After`.
//! - 5xx (`Internal Error. ... Report ID: webapi-...`, a maintenance page in HTML) and any answer
//!   that is not JSON: a read is retried; after a write what happened is unknown → `Ambiguous`.

use serde_json::Value;

use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, RawResponse};

pub use crate::platforms::rest::Call;

/// The answer's JSON body (bare `true`, an integer id, or an object), or the classified failure.
pub fn classify(raw: &RawResponse, call: Call, store: &str) -> Result<Value, PlatformError> {
    let body: Option<Value> = serde_json::from_slice(&raw.body).ok();
    if (200..300).contains(&raw.status) {
        return body.ok_or_else(|| {
            call.error(
                call.effect.unknown_outcome(None),
                format!(
                    "Magento answered HTTP {} with a body that is not JSON (a PHP notice or a proxy page?)",
                    raw.status
                ),
                raw,
            )
        });
    }
    Err(classify_status(raw, body.as_ref(), call, store))
}

fn classify_status(
    raw: &RawResponse,
    body: Option<&Value>,
    call: Call,
    store: &str,
) -> PlatformError {
    let said = body.and_then(describe);
    let said_or = |fallback: &str| said.clone().unwrap_or_else(|| fallback.to_string());
    let retry_after = http::retry_after(&raw.headers);
    match raw.status {
        401 => call.error(
            ErrorClass::RefreshCredentials,
            format!(
                "Magento store {store} refused the access token (HTTP 401: {}): check access_token in \
                 orderdeck.toml is the Integration's Access Token, the integration is granted Sales → \
                 Operations → Orders and Catalog → Products, and 'Allow OAuth Access Tokens to be used \
                 as standalone Bearer tokens' is Yes (Stores → Configuration → Services → OAuth)",
                said_or("no detail")
            ),
            raw,
        ),
        404 => call.error(
            ErrorClass::Permanent,
            format!("Magento store {store} answered 404: {}", said_or("Not Found")),
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
                "Magento failed (HTTP {}): {}",
                raw.status,
                said_or(if body.is_some() {
                    "no detail"
                } else {
                    "the answer is not JSON (maintenance mode, a PHP error page or a proxy)"
                })
            ),
            raw,
        ),
        status => call.error(
            ErrorClass::Permanent,
            format!(
                "Magento refused the request (HTTP {status}): {}",
                said_or("no detail")
            ),
            raw,
        ),
    }
}

/// `message` with its `parameters` put in (`%1` from a list, `%name` from an object), followed
/// by each of `errors[]` when there are several.
pub fn describe(body: &Value) -> Option<String> {
    let mut text = substitute(body)?;
    let others: Vec<String> = body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(substitute)
        .filter(|e| *e != text)
        .collect();
    if !others.is_empty() {
        text = format!("{text} ({})", others.join("; "));
    }
    Some(text)
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn substitute(error: &Value) -> Option<String> {
    let mut message = error.get("message")?.as_str()?.to_string();
    match error.get("parameters") {
        Some(Value::Array(list)) => {
            // From the highest index down, so `%1` does not eat the start of `%10`.
            for (i, value) in list.iter().enumerate().rev() {
                message = message.replace(&format!("%{}", i + 1), &scalar(value));
            }
        }
        Some(Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
            for key in keys {
                message = message.replace(&format!("%{key}"), &scalar(&map[key]));
            }
        }
        _ => {}
    }
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::Platform;
    use reqwest::header::HeaderMap;
    use serde_json::json;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    const READ: Call = Call::read(Platform::Magento2, "get_order");
    const WRITE: Call = Call::write(Platform::Magento2, "create_order");

    #[test]
    fn placeholders_are_substituted() {
        let named = json!({"message": "The consumer isn't authorized to access %resources.",
            "parameters": {"resources": "Magento_Sales::actions_view"}});
        assert_eq!(
            describe(&named).unwrap(),
            "The consumer isn't authorized to access Magento_Sales::actions_view."
        );
        let listed = json!({"message": "A %1 of %10", "parameters": ["one", "", "", "", "", "", "", "", "", "ten"]});
        assert_eq!(describe(&listed).unwrap(), "A one of ten");
        let several = json!({"message": "Invalid", "errors": [
            {"message": "\"%fieldName\" is required.", "parameters": {"fieldName": "sku"}}]});
        assert_eq!(
            describe(&several).unwrap(),
            "Invalid (\"sku\" is required.)"
        );
    }

    #[test]
    fn statuses_map_to_classes() {
        use ErrorClass::*;
        let table = [
            (
                401,
                READ,
                r#"{"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"Magento_Sales::sales"}}"#,
                RefreshCredentials,
                "store m1 refused the access token",
            ),
            (
                400,
                WRITE,
                r#"{"message":"\"%fieldName\" is not supported. Correct the field name and try again.","parameters":{"fieldName":"shipping_address"}}"#,
                Permanent,
                "\"shipping_address\" is not supported",
            ),
            (
                404,
                READ,
                r#"{"message":"Request does not match any route."}"#,
                Permanent,
                "does not match any route",
            ),
            (
                429,
                READ,
                "<html>slow</html>",
                RetryLater { after: None },
                "429",
            ),
            (
                500,
                READ,
                r#"{"message":"Internal Error. Details are available in Magento log file. Report ID: webapi-1"}"#,
                RetryLater { after: None },
                "Report ID: webapi-1",
            ),
            (
                503,
                WRITE,
                "<html>maintenance</html>",
                Ambiguous,
                "not JSON",
            ),
        ];
        for (status, call, body, class, words) in table {
            let err = classify(&raw(status, body), call, "m1").unwrap_err();
            assert_eq!(err.class, class, "{status}");
            assert!(err.message.contains(words), "{status}: {}", err.message);
            assert_eq!(err.http_status, Some(status));
        }
    }

    #[test]
    fn bare_answers_are_json_and_garbage_is_unknown() {
        assert_eq!(
            classify(&raw(200, "true"), WRITE, "m").unwrap(),
            json!(true)
        );
        assert_eq!(classify(&raw(200, "17"), WRITE, "m").unwrap(), json!(17));
        let err = classify(&raw(200, "{\"entity_id\": 1"), WRITE, "m").unwrap_err();
        assert_eq!(err.class, ErrorClass::Ambiguous);
        let err = classify(&raw(200, "<html>"), READ, "m").unwrap_err();
        assert_eq!(err.class, ErrorClass::RetryLater { after: None });
    }
}
