//! Classification of Shopify Admin API answers into [`ErrorClass`]es, and the reading of
//! `extensions.cost` that pacing and retry delays depend on.
//!
//! Rules (from shopify.dev and recorded answers):
//! - HTTP 401: the token is invalid or revoked → `RefreshCredentials`. 403 (`ACCESS_DENIED`,
//!   a missing scope), 402 (shop frozen for an unpaid bill), 423 (shop locked) and other 4xx →
//!   `Permanent`, with Shopify's own words.
//! - `THROTTLED` (usually HTTP 200 without `data`, sometimes 429) → `RetryLater`, after
//!   `(requestedQueryCost - currentlyAvailable) / restoreRate` seconds.
//! - 5xx, `INTERNAL_SERVER_ERROR`, a 2xx whose body is not JSON: the write may have happened,
//!   so `Ambiguous` for a mutation; a read is simply retried (`RetryLater`).
//! - Other top-level errors (validation, `MAX_COST_EXCEEDED`) → `Permanent`: nothing ran, and
//!   the same document would fail the same way.
//! - `userErrors` (HTTP 200) → `Permanent`, naming each field path, code and message.
//!
//! Every error carries Shopify's `x-request-id`; every text from Shopify is sanitized by
//! [`PlatformError::new`] before it can reach a log or a terminal.

use std::time::Duration;

use serde_json::Value;

use crate::domain::platform::Platform;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, CallKind, RawResponse};
use crate::platforms::shopify::throttle::QueryCost;

/// Dev and trial stores accept five `orderCreate` a minute and answer the sixth with this.
const TOO_MANY_ATTEMPTS: &str = "too many attempts";
const DEV_STORE_CREATE_WINDOW: Duration = Duration::from_secs(60);

/// One GraphQL call, as classification needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// The root field (`orderCreate`, `orders`…), the `operation` of every error.
    pub operation: &'static str,
    pub effect: CallKind,
}

impl Call {
    pub fn error(
        &self,
        class: ErrorClass,
        message: impl AsRef<str>,
        raw: &RawResponse,
    ) -> PlatformError {
        PlatformError::new(Platform::Shopify, self.operation, class, message)
            .with_request_id(raw.header("x-request-id"))
            .with_status(raw.status)
    }
}

/// An answer that parsed but lacks what the document asked for: for a write, whether it ran
/// is unknown; a read is retried.
pub fn unreadable(call: Call, raw: &RawResponse, what: &str) -> PlatformError {
    call.error(call.effect.unknown_outcome(None), what, raw)
}

/// `extensions.cost`, when the answer has one.
pub fn query_cost(body: &Value) -> Option<QueryCost> {
    let cost = body.get("extensions")?.get("cost")?;
    let status = cost.get("throttleStatus")?;
    let number = |v: &Value, key: &str| v.get(key).and_then(Value::as_f64);
    Some(QueryCost {
        requested: number(cost, "requestedQueryCost")?,
        actual: number(cost, "actualQueryCost"),
        maximum_available: number(status, "maximumAvailable")?,
        currently_available: number(status, "currentlyAvailable")?,
        restore_rate: number(status, "restoreRate")?,
    })
}

/// How long until the bucket holds what the throttled query asked for.
pub fn throttle_wait(body: &Value) -> Option<Duration> {
    let cost = query_cost(body)?;
    if cost.restore_rate <= 0.0 {
        return None;
    }
    let seconds = ((cost.requested - cost.currently_available) / cost.restore_rate).max(0.0);
    seconds
        .is_finite()
        .then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// Turns an answer into its `data` object, or the classified failure.
pub fn classify(
    raw: &RawResponse,
    body: Option<&Value>,
    call: Call,
) -> Result<Value, PlatformError> {
    if !(200..300).contains(&raw.status) {
        return Err(classify_status(raw, body, call));
    }
    let Some(body) = body else {
        return Err(call.error(
            call.effect.unknown_outcome(None),
            format!(
                "Shopify answered HTTP {} with a body that is not JSON",
                raw.status
            ),
            raw,
        ));
    };
    let errors = top_level_errors(body);
    if !errors.is_empty() {
        return Err(classify_errors(raw, body, &errors, call));
    }
    match body.get("data") {
        Some(data @ Value::Object(_)) => Ok(data.clone()),
        _ => Err(call.error(
            call.effect.unknown_outcome(None),
            "Shopify answered without data or errors",
            raw,
        )),
    }
}

fn classify_status(raw: &RawResponse, body: Option<&Value>, call: Call) -> PlatformError {
    let said = body.and_then(error_text);
    let said_or = |fallback: &str| said.clone().unwrap_or_else(|| fallback.to_string());
    match raw.status {
        401 => call.error(
            ErrorClass::RefreshCredentials,
            said_or("Shopify refused the access token (HTTP 401)"),
            raw,
        ),
        402 => call.error(
            ErrorClass::Permanent,
            format!(
                "the shop is frozen (HTTP 402 Payment Required): the merchant must settle their Shopify bill ({})",
                said_or("no detail")
            ),
            raw,
        ),
        403 => call
            .error(
                ErrorClass::Permanent,
                format!(
                    "access denied (HTTP 403): {}",
                    said_or("the app lacks a scope")
                ),
                raw,
            )
            .with_code("ACCESS_DENIED"),
        404 => call.error(
            ErrorClass::Permanent,
            format!(
                "Shopify answered 404 ({}): check the shop domain and the API version",
                said_or("Not Found")
            ),
            raw,
        ),
        423 => call.error(
            ErrorClass::Permanent,
            format!(
                "the shop is locked (HTTP 423): {}",
                said_or("contact Shopify support")
            ),
            raw,
        ),
        429 => call
            .error(
                ErrorClass::RetryLater {
                    after: body
                        .and_then(throttle_wait)
                        .or_else(|| http::retry_after(&raw.headers)),
                },
                said_or("throttled (HTTP 429)"),
                raw,
            )
            .with_code("THROTTLED"),
        500..=599 => call.error(
            call.effect.unknown_outcome(http::retry_after(&raw.headers)),
            format!(
                "Shopify failed (HTTP {}): {}",
                raw.status,
                said_or("no detail")
            ),
            raw,
        ),
        status => call.error(
            ErrorClass::Permanent,
            format!(
                "Shopify refused the request (HTTP {status}): {}",
                said_or("no detail")
            ),
            raw,
        ),
    }
}

fn classify_errors(raw: &RawResponse, body: &Value, errors: &[Value], call: Call) -> PlatformError {
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("extensions")?.get("code")?.as_str())
        .collect();
    let message = errors
        .iter()
        .take(3)
        .filter_map(|e| e.get("message").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("; ");
    let has = |code: &str| codes.contains(&code);
    let class = if has("THROTTLED") {
        ErrorClass::RetryLater {
            after: throttle_wait(body),
        }
    } else if has("INTERNAL_SERVER_ERROR") {
        call.effect.unknown_outcome(None)
    } else if has("ACCESS_DENIED") {
        // A missing scope: nothing ran, and nothing will until the merchant grants it.
        ErrorClass::Permanent
    } else if call.effect == CallKind::Write && has_some_data(body) {
        // Part of the mutation ran before the error: what was written is unknown.
        ErrorClass::Ambiguous
    } else {
        ErrorClass::Permanent
    };
    let error = call.error(class, message, raw);
    match codes.first() {
        Some(code) => error.with_code(code),
        None => error,
    }
}

/// The `userErrors` (or `orderCancelUserErrors`) of a mutation payload as one error, or `None`
/// when the list is empty.
pub fn user_errors(
    payload: &Value,
    key: &str,
    raw: &RawResponse,
    call: Call,
) -> Option<PlatformError> {
    let errors = payload.get(key)?.as_array()?;
    if errors.is_empty() {
        return None;
    }
    let described: Vec<String> = errors.iter().map(describe_user_error).collect();
    let throttled = errors.iter().any(|e| {
        e.get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| m.to_lowercase().contains(TOO_MANY_ATTEMPTS))
    });
    let class = if throttled {
        ErrorClass::RetryLater {
            after: Some(DEV_STORE_CREATE_WINDOW),
        }
    } else {
        ErrorClass::Permanent
    };
    let error = call.error(class, described.join("; "), raw);
    match errors
        .iter()
        .find_map(|e| e.get("code").and_then(Value::as_str))
    {
        Some(code) => Some(error.with_code(code)),
        None => Some(error),
    }
}

/// `order.lineItems.0.variantId: Variant not found [INVALID]`.
fn describe_user_error(error: &Value) -> String {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("(no message)");
    let field = error
        .get("field")
        .and_then(Value::as_array)
        .map(|path| {
            path.iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .filter(|path| !path.is_empty());
    let code = error.get("code").and_then(Value::as_str);
    match (field, code) {
        (Some(field), Some(code)) => format!("{field}: {message} [{code}]"),
        (Some(field), None) => format!("{field}: {message}"),
        (None, Some(code)) => format!("{message} [{code}]"),
        (None, None) => message.to_string(),
    }
}

fn top_level_errors(body: &Value) -> Vec<Value> {
    match body.get("errors") {
        Some(Value::Array(errors)) => errors.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![serde_json::json!({ "message": error_value_text(other) })],
    }
}

/// Shopify's `errors` as text: a string (`"[API] Invalid API key…"`), a list of `{message}`,
/// or an object of lists (`{"query": ["Required parameter missing"]}`).
fn error_text(body: &Value) -> Option<String> {
    body.get("errors").map(error_value_text)
}

fn error_value_text(errors: &Value) -> String {
    match errors {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item.get("message").and_then(Value::as_str) {
                Some(message) => message.to_string(),
                None => error_value_text(item),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| format!("{key}: {}", error_value_text(value)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn has_some_data(body: &Value) -> bool {
    body.get("data")
        .and_then(Value::as_object)
        .is_some_and(|data| data.values().any(|v| !v.is_null()))
}

#[cfg(test)]
mod tests;
