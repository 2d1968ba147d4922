//! The wire format the contract demands, seen from the simulated store: what it refuses (no
//! `Accept`, a body without `Content-Type`, the read-only `external_id`, a sort the contract
//! does not list) and that the client's own requests are never among the refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};

use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::platforms::Storefront;

use super::support::*;

async fn raw(
    h: &Harness,
    method: reqwest::Method,
    route: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let url = format!(
        "{}/stores/{}/{route}",
        h.sandbox.api_base(),
        h.spec.store_hash
    );
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("X-Auth-Token", &h.spec.access_token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_store_refuses_what_bigcommerce_refuses() {
    let h = harness().await;
    let json = [
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    ];
    let html = [("Accept", "text/html")];
    let (status, headers, _) = raw(&h, reqwest::Method::GET, "v2/orders", &html, None).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    for name in [
        "x-rate-limit-requests-left",
        "x-rate-limit-time-reset-ms",
        "x-rate-limit-time-window-ms",
        "x-rate-limit-requests-quota",
    ] {
        assert!(headers.contains_key(name), "{name} on every answer");
    }
    let (status, _, body) = raw(&h, reqwest::Method::GET, "v2/orders", &json[..1], None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "no orders: 204, not []");
    assert!(body.is_empty());
    let order = json!({"billing_address": {"zip": "95113"}, "products": [{"product_id": 100, "quantity": 1}]});
    let (status, _, _) = raw(
        &h,
        reqwest::Method::POST,
        "v2/orders",
        &json[..1],
        Some(order.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut read_only = order.clone();
    read_only["external_id"] = json!("576400000000000301");
    let (status, _, body) = raw(
        &h,
        reqwest::Method::POST,
        "v2/orders",
        &json,
        Some(read_only),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("The field 'external_id' cannot be written to"),
        "{body}"
    );
    let (status, _, _) = raw(
        &h,
        reqwest::Method::GET,
        "v2/orders?sort=date_modified:asc",
        &json[..1],
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the contract's sort enum has no :asc"
    );
    let (status, _, _) = raw(
        &h,
        reqwest::Method::GET,
        "v2/orders?limit=500",
        &json[..1],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _, body) = raw(&h, reqwest::Method::POST, "v2/orders", &json, Some(order)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        h.sandbox.refused(STORE).unwrap().len(),
        5,
        "each refusal is recorded"
    );
}

#[tokio::test]
async fn every_request_of_the_client_meets_the_contract() {
    let h = harness().await;
    let client = h.client_with_page_size(1);
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let order = h
        .created(&client, "576400000000000302", &[(SKU_A, 2), (SKU_B, 1)])
        .await;
    h.ship(order.id, &[(SKU_A, 1)], "1Z1", "ups", "");
    client.get_order(&store_id(order.id)).await.unwrap();
    let mut cursor = None;
    loop {
        let page = client.changed_orders(since, cursor).await.unwrap();
        cursor = page.next_page_token;
        if cursor.is_none() {
            break;
        }
    }
    let other = h
        .created(&client, "576400000000000303", &[(SKU_B, 1)])
        .await;
    let instruction = StorefrontCancelInstruction {
        restock: true,
        note: "Cancelled on TikTok".into(),
    };
    client
        .cancel_order(&store_id(other.id), &instruction)
        .await
        .unwrap();
    h.assert_no_refusals();
    for endpoint in [
        "variants.list",
        "orders.create",
        "orders.list",
        "orders.get",
        "orders.update",
        "products.list",
        "shipments.list",
    ] {
        assert!(
            h.sandbox.calls(STORE, endpoint).unwrap() > 0,
            "{endpoint} was exercised"
        );
    }
}
