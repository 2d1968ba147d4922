//! The simulated site refuses what WooCommerce (and its contract) refuses, checked with raw
//! requests signed here by hand (OAuth 1.0a over plain http), independently of the client.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::Sha256;

use super::support::*;

const RAW: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `url` with the OAuth parameters and signature for `method`.
fn signed(h: &Harness, method: &str, url: &str, nonce: &str) -> String {
    let enc = |s: &str| utf8_percent_encode(s, RAW).to_string();
    let mut params = vec![
        (
            "oauth_consumer_key".to_string(),
            h.spec.consumer_key.clone(),
        ),
        ("oauth_nonce".to_string(), nonce.to_string()),
        (
            "oauth_signature_method".to_string(),
            "HMAC-SHA256".to_string(),
        ),
        (
            "oauth_timestamp".to_string(),
            chrono::Utc::now().timestamp().to_string(),
        ),
    ];
    params.sort();
    let joined: Vec<String> = params
        .iter()
        .map(|(k, v)| enc(&format!("{}={}", enc(k), enc(v))))
        .collect();
    let base = format!("{method}&{}&{}", enc(url), joined.join("%26"));
    let mut mac =
        Hmac::<Sha256>::new_from_slice(format!("{}&", h.spec.consumer_secret).as_bytes()).unwrap();
    mac.update(base.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    params.push(("oauth_signature".into(), signature));
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    format!("{url}?{}", query.join("&"))
}

async fn post(h: &Harness, route: &str, body: Value, nonce: &str) -> (u16, Value) {
    orderdeck::platforms::http::install_crypto_provider();
    let url = format!("{}/wp-json/{route}", h.sandbox.site_url(STORE).unwrap());
    let answer = reqwest::Client::new()
        .post(signed(h, "POST", &url, nonce))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test]
async fn the_contract_refuses_wrong_types_unknown_statuses_and_unknown_fields() {
    let h = harness().await;
    let (status, body) = post(
        &h,
        "wc/v3/orders",
        json!({ "line_items": [{ "product_id": 1, "quantity": 1, "total": 20.0 }] }),
        "n1",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "rest_invalid_param");
    assert_eq!(body["message"], "Invalid parameter(s): line_items");
    let why = body["data"]["params"]["line_items"].as_str().unwrap();
    assert!(why.starts_with("line_items[0][total]"), "{why}");

    let (status, body) = post(&h, "wc/v3/orders", json!({ "status": "shipped" }), "n2").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );
    let (status, _) = post(&h, "wc/v3/orders", json!({ "tiktok_id": "1" }), "n3").await;
    assert_eq!(status, 400, "unknown fields are refused by the contract");
    assert_eq!(h.sandbox.refused(STORE).unwrap().len(), 3);
    assert!(
        h.sandbox.orders(STORE).unwrap().is_empty(),
        "nothing was created"
    );

    // A valid one passes, and the same nonce twice is refused.
    let (status, body) = post(&h, "wc/v3/orders", json!({ "status": "pending" }), "n4").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(&h, "wc/v3/orders", json!({}), "n4").await;
    assert_eq!(status, 401);
    assert_eq!(
        body["message"],
        "Invalid nonce - nonce has already been used."
    );
}

#[tokio::test]
async fn unsigned_requests_meet_the_endpoints_permission_check() {
    let h = harness().await;
    orderdeck::platforms::http::install_crypto_provider();
    let site = h.sandbox.site_url(STORE).unwrap();
    let answer = reqwest::Client::new()
        .get(format!("{site}/wp-json/wc/v3/orders"))
        .basic_auth(&h.spec.consumer_key, Some(&h.spec.consumer_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status().as_u16(),
        401,
        "Basic is ignored over plain http"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "woocommerce_rest_cannot_view");
    assert_eq!(body["message"], "Sorry, you cannot list resources.");
    let answer = reqwest::Client::new()
        .get(format!("{site}/wp-json/wc/v3/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 404);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "rest_no_route");
}
