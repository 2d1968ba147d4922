//! Classification table tests: every status, code and payload shape Shopify answers with.

use super::*;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;

const WRITE: Call = Call {
    operation: "orderCreate",
    effect: CallKind::Write,
};
const READ: Call = Call {
    operation: "orders",
    effect: CallKind::Read,
};

fn raw(status: u16, body: &Value) -> RawResponse {
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", HeaderValue::from_static("req-42"));
    RawResponse {
        status,
        headers,
        body: bytes::Bytes::from(body.to_string()),
    }
}

fn class_of(status: u16, body: Option<Value>, call: Call) -> PlatformError {
    let r = raw(status, body.as_ref().unwrap_or(&Value::Null));
    classify(&r, body.as_ref(), call).unwrap_err()
}

fn cost(requested: u32, available: u32) -> Value {
    json!({"cost": {"requestedQueryCost": requested, "actualQueryCost": null,
        "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": 50.0}}})
}

#[test]
fn statuses_and_top_level_codes_are_classified() {
    use ErrorClass::*;
    let throttled = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(152, 52)});
    let ise = json!({"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]});
    let invalid = json!({"errors": [{"message": "Field 'nam' doesn't exist on type 'Order'",
        "extensions": {"code": "undefinedField"}}]});
    type Row = (u16, Option<Value>, Call, ErrorClass, Option<&'static str>);
    let table: Vec<Row> = vec![
        (
            401,
            Some(json!({"errors": "[API] Invalid API key or access token"})),
            READ,
            RefreshCredentials,
            None,
        ),
        (
            403,
            Some(
                json!({"errors": "[API] This action requires merchant approval for read_orders scope."}),
            ),
            READ,
            Permanent,
            Some("ACCESS_DENIED"),
        ),
        (
            402,
            Some(json!({"errors": "Unavailable Shop"})),
            WRITE,
            Permanent,
            None,
        ),
        (
            423,
            Some(json!({"errors": "Locked"})),
            READ,
            Permanent,
            None,
        ),
        (
            404,
            Some(json!({"errors": "Not Found"})),
            READ,
            Permanent,
            None,
        ),
        (
            200,
            Some(throttled.clone()),
            READ,
            RetryLater {
                after: Some(Duration::from_secs(2)),
            },
            Some("THROTTLED"),
        ),
        (
            429,
            Some(throttled),
            WRITE,
            RetryLater {
                after: Some(Duration::from_secs(2)),
            },
            Some("THROTTLED"),
        ),
        (
            200,
            Some(ise.clone()),
            WRITE,
            Ambiguous,
            Some("INTERNAL_SERVER_ERROR"),
        ),
        (
            200,
            Some(ise),
            READ,
            RetryLater { after: None },
            Some("INTERNAL_SERVER_ERROR"),
        ),
        (500, None, WRITE, Ambiguous, None),
        (502, None, READ, RetryLater { after: None }, None),
        (200, None, WRITE, Ambiguous, None),
        (200, None, READ, RetryLater { after: None }, None),
        (200, Some(invalid), WRITE, Permanent, Some("undefinedField")),
        (200, Some(json!({"data": null})), WRITE, Ambiguous, None),
    ];
    for (status, body, call, class, code) in table {
        let err = class_of(status, body.clone(), call);
        assert_eq!(err.class, class, "{status} {body:?}");
        assert_eq!(err.code.as_deref(), code, "{status} {body:?}");
        assert_eq!(err.request_id.as_deref(), Some("req-42"));
        assert_eq!(err.http_status, Some(status));
    }
}

#[test]
fn a_mutation_that_partly_ran_is_ambiguous() {
    let body = json!({"data": {"orderCreate": {"order": {"id": "gid://shopify/Order/1"}}},
        "errors": [{"message": "boom", "path": ["orderCreate", "order", "name"]}]});
    assert_eq!(
        class_of(200, Some(body.clone()), WRITE).class,
        ErrorClass::Ambiguous
    );
    assert_eq!(class_of(200, Some(body), READ).class, ErrorClass::Permanent);
}

#[test]
fn user_errors_name_field_code_and_message_and_are_sanitized() {
    let payload = json!({"userErrors": [
        {"field": ["order", "lineItems", "0", "variantId"], "message": "Variant \u{1b}[31mnot found", "code": "INVALID"},
        {"field": null, "message": "Order is invalid", "code": null}]});
    let err = user_errors(&payload, "userErrors", &raw(200, &payload), WRITE).unwrap();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.code.as_deref(), Some("INVALID"));
    assert_eq!(
        err.message,
        "order.lineItems.0.variantId: Variant \u{FFFD}[31mnot found [INVALID]; Order is invalid"
    );
    assert!(
        user_errors(
            &json!({"userErrors": []}),
            "userErrors",
            &raw(200, &payload),
            WRITE
        )
        .is_none()
    );
}

#[test]
fn the_dev_store_create_limit_is_retried_after_a_minute() {
    let payload = json!({"userErrors": [{"field": null, "message": "Too many attempts. Please try again later.", "code": null}]});
    let err = user_errors(&payload, "userErrors", &raw(200, &payload), WRITE).unwrap();
    assert_eq!(
        err.class,
        ErrorClass::RetryLater {
            after: Some(Duration::from_secs(60))
        }
    );
}

#[test]
fn cost_is_read_from_extensions() {
    let body = json!({"data": {}, "extensions": {"cost": {"requestedQueryCost": 12, "actualQueryCost": 3,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1997, "restoreRate": 100.0}}}});
    let cost = query_cost(&body).unwrap();
    assert_eq!(
        (cost.requested, cost.actual, cost.currently_available),
        (12.0, Some(3.0), 1997.0)
    );
    assert_eq!(throttle_wait(&json!({"extensions": cost_value(0)})), None);
}

fn cost_value(rate: u32) -> Value {
    json!({"cost": {"requestedQueryCost": 10, "throttleStatus": {"maximumAvailable": 1.0, "currentlyAvailable": 0, "restoreRate": rate}}})
}
