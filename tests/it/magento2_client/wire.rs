//! The wire as Magento reads it: the sandbox refuses what Magento's input reader refuses, so a
//! misnamed field fails a test instead of agreeing with itself.

use serde_json::{Value, json};

use super::support::*;

async fn send(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    json_type: bool,
) -> (u16, Value) {
    let url = format!(
        "{}/rest/default/V1/{path}",
        h.sandbox.site_url(STORE).unwrap()
    );
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(&h.spec.access_token);
    if let Some(body) = body {
        if json_type {
            request = request.header("content-type", "application/json");
        }
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn magentos_input_reader_is_simulated() {
    let h = harness().await;
    let (status, body) = send(
        &h,
        reqwest::Method::POST,
        "orders",
        Some(json!({"entity": {"shipping_address": {}}})),
        true,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("\"shipping_address\" is not supported"),
        "{body}"
    );
    let (status, body) = send(
        &h,
        reqwest::Method::GET,
        "orders?ext_order_id=1",
        None,
        false,
    )
    .await;
    assert_eq!(status, 400, "searchCriteria is required: {body}");
    let (status, body) = send(
        &h,
        reqwest::Method::POST,
        "orders/1/comments",
        Some(json!({"statusHistory": {"comment": "x"}})),
        false,
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Content-Type header is empty."))
    );
    let (status, _) = send(
        &h,
        reqwest::Method::POST,
        "orders/1/comments",
        Some(json!({"statusHistory": {"comment": "x", "is_customer_notified": true}})),
        true,
    )
    .await;
    assert_eq!(status, 400, "a JSON boolean is not an integer flag");
    let (status, body) = send(&h, reqwest::Method::GET, "orders?searchCriteria[filterGroups][0][filters][0][field]=no_such_column&searchCriteria[filterGroups][0][filters][0][value]=1", None, false).await;
    assert_eq!(status, 500);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Report ID: webapi-"),
        "{body}"
    );
    let url = format!(
        "{}/rest/nosuchstore/V1/orders?searchCriteria=",
        h.sandbox.site_url(STORE).unwrap()
    );
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(&h.spec.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Request does not match any route.");
    assert_eq!(h.sandbox.refused(STORE).unwrap().len(), 5);
    let (status, body) = send(&h, reqwest::Method::POST, "orders/999/cancel", None, false).await;
    assert_eq!(status, 404, "a bodiless POST needs no Content-Type: {body}");
}
