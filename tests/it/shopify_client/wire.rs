//! The sandbox at the wire, with raw requests: it refuses what Shopify refuses, in Shopify's
//! shapes, and executes what Shopify executes (aliases, fragments, `__typename`, arguments).

use serde_json::{Value, json};

use crate::shopify_client::support::{Harness, STORE, harness};

async fn post(
    h: &Harness,
    version: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let base = h.sandbox.api_base(STORE).unwrap();
    // reqwest is built without a TLS provider of its own; orderdeck installs ring.
    orderdeck::platforms::http::install_crypto_provider();
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{base}/admin/api/{version}/graphql.json"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header("X-Shopify-Access-Token", token);
    }
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn graphql(h: &Harness, version: &str, query: &str, variables: Value) -> Value {
    let token = h.spec.access_token.clone();
    let (status, headers, body) = post(
        h,
        version,
        Some(&token),
        json!({ "query": query, "variables": variables }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-request-id"));
    body
}

#[tokio::test]
async fn a_misspelled_field_is_refused_like_shopify_refuses_it() {
    let h = harness().await;
    let body = graphql(
        &h,
        "2025-10",
        "query Probe($id: ID!) {\n  order(id: $id) {\n    id\n    nam\n  }\n}",
        json!({"id": "gid://shopify/Order/1"}),
    )
    .await;
    assert_eq!(
        body,
        json!({"errors": [{
            "message": "Field 'nam' doesn't exist on type 'Order'",
            "locations": [{"line": 4, "column": 5}],
            "path": ["query Probe", "order", "nam"],
            "extensions": {"code": "undefinedField", "typeName": "Order", "fieldName": "nam"}
        }]})
    );
}

#[tokio::test]
async fn version_specific_cancel_arguments_are_enforced() {
    let h = harness().await;
    let with_method = "mutation { orderCancel(orderId: \"gid://shopify/Order/1\", reason: OTHER, restock: true, refundMethod: {originalPaymentMethodsRefund: false}) { job { id } } }";
    let old = graphql(&h, "2024-10", with_method, json!({})).await;
    assert_eq!(
        old["errors"][0]["extensions"]["code"], "argumentNotAccepted",
        "{old}"
    );
    assert_eq!(
        old["errors"][0]["message"],
        "Field 'orderCancel' doesn't accept argument 'refundMethod'"
    );
    assert_eq!(
        old["errors"][0]["extensions"]["argumentName"],
        "refundMethod"
    );
    // ...and the same document is fine on 2025-10 (the order does not exist: a user error).
    let new = graphql(
        &h,
        "2025-10",
        &with_method.replace("job { id }", "orderCancelUserErrors { code message }"),
        json!({}),
    )
    .await;
    assert_eq!(
        new["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"], "NOT_FOUND",
        "{new}"
    );

    let without_refund = "mutation { orderCancel(orderId: \"gid://shopify/Order/1\", reason: OTHER, restock: true) { job { id } } }";
    let old = graphql(&h, "2024-10", without_refund, json!({})).await;
    assert_eq!(
        old["errors"][0]["extensions"]["code"], "missingRequiredArguments",
        "{old}"
    );

    let client = h.client();
    let order = h.create(&client, "576420000000000001").await;
    let both = format!(
        "mutation {{ orderCancel(orderId: \"{order}\", reason: OTHER, restock: true, refund: false, refundMethod: {{originalPaymentMethodsRefund: false}}) {{ orderCancelUserErrors {{ field message code }} }} }}"
    );
    let body = graphql(&h, "2025-10", &both, json!({})).await;
    assert_eq!(
        body["data"]["orderCancel"]["orderCancelUserErrors"][0],
        json!({"field": ["refund"], "message": "Refund and refundMethod cannot both be present.", "code": "INVALID"})
    );
}

#[tokio::test]
async fn throttled_answers_have_shopify_shape_and_cost() {
    let h = harness().await;
    h.sandbox.drain_bucket(STORE).unwrap();
    let body = graphql(
        &h,
        "2025-10",
        "{ orders(first: 10) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"][0]["message"], "Throttled");
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 12, "2 + 10 orders × 1");
    assert_eq!(cost["actualQueryCost"], Value::Null);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 1000.0);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 50.0);
}

#[tokio::test]
async fn queries_are_projected_with_aliases_fragments_and_typename_and_charged_their_actual_cost() {
    let h = harness().await;
    let query = r#"
        query Lookup($a: String!, $b: String!) {
          one: productVariants(first: 5, query: $a) { nodes { __typename ...V } }
          dup: productVariants(first: 5, query: $b) { edges { cursor node { sku } } pageInfo { hasNextPage } }
        }
        fragment V on ProductVariant { id sku price }"#;
    let body = graphql(
        &h,
        "2025-10",
        query,
        json!({"a": "sku:\"CRO-00\"", "b": "sku:DUP-001"}),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let one = &body["data"]["one"]["nodes"];
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["__typename"], "ProductVariant");
    assert_eq!(one[0]["sku"], "CRO-00");
    assert_eq!(
        one[0].as_object().unwrap().len(),
        4,
        "only what was selected: {}",
        one[0]
    );
    assert_eq!(body["data"]["dup"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"]["dup"]["pageInfo"]["hasNextPage"], false);
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 14, "2 × (2 + 5 × 1)");
    assert_eq!(cost["actualQueryCost"], 7, "(2 + 1) + (2 + 2)");
}

#[tokio::test]
async fn requests_shopify_would_not_serve_are_refused() {
    let h = harness().await;
    let token = h.spec.access_token.clone();
    let query = json!({"query": "{ orders(first: 1) { nodes { id } } }"});

    let (status, _, body) = post(&h, "2025-10", None, query.clone()).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        )
    );
    let (status, _, _) = post(&h, "2023-04", Some(&token), query.clone()).await;
    assert_eq!(status, 404);
    let (status, _, body) = post(&h, "2025-10", Some(&token), json!({"variables": {}})).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"errors": {"query": "Required parameter missing or invalid"}})
        )
    );

    let body = graphql(&h, "2025-10", "{ shop { name } }", json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_SIMULATED",
        "{body}"
    );
    let body = graphql(&h, "2025-10", "{ orders(first: 1 { id }", json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PARSE_ERROR",
        "{body}"
    );
    let body = graphql(&h, "2025-10", "{ orders(first: 250) { nodes { fulfillments { trackingInfo { number } } lineItems(first: 250) { nodes { id } } } } }", json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED",
        "{body}"
    );
    let body = graphql(
        &h,
        "2025-10",
        "{ orders(first: 5, query: \"jumper\") { nodes { id } } }",
        json!({}),
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("free-text search"),
        "{body}"
    );

    // A misspelled input field in the variables is refused before anything runs.
    let create = "mutation C($order: OrderCreateOrderInput!) { orderCreate(order: $order) { userErrors { message } } }";
    let body = graphql(
        &h,
        "2025-10",
        create,
        json!({"order": {"lineItems": [], "sourceIdentifer": "1"}}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_VARIABLE",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("sourceIdentifer"),
        "{body}"
    );
    assert_eq!(h.sandbox.orders(STORE).unwrap().len(), 0);
}

#[tokio::test]
async fn cancel_jobs_finish_later_and_a_store_refund_would_be_recorded() {
    let h = harness().await;
    let client = h.client();
    let order = h.create(&client, "576420000000000002").await;
    // What orderdeck never sends: a cancel that refunds on the store.
    let cancel = format!(
        "mutation {{ orderCancel(orderId: \"{order}\", reason: CUSTOMER, restock: false, refund: true) {{ job {{ id done }} orderCancelUserErrors {{ message }} }} }}"
    );
    let body = graphql(&h, "2025-10", &cancel, json!({})).await;
    let job = &body["data"]["orderCancel"]["job"];
    assert_eq!(job["done"], false, "{body}");
    let poll = format!(
        "{{ job(id: \"{}\") {{ done }} }}",
        job["id"].as_str().unwrap()
    );
    let mut done = false;
    for _ in 0..50 {
        let body = graphql(&h, "2025-10", &poll, json!({})).await;
        done = body["data"]["job"]["done"] == true;
        if done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(done, "the cancel job finished");
    let held = h.sandbox.order(STORE, &order).unwrap().unwrap();
    assert!(held.cancelled_at.is_some());
    assert_eq!(
        held.refunds.len(),
        1,
        "the sandbox records refunds, so none means none"
    );
    assert_eq!(held.refunds[0].cause, "orderCancel(refund: true)");
}
