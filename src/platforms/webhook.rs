//! Store webhook authentication. Shopify and WooCommerce sign a delivery the same way: a header
//! holding base64(HMAC-SHA256(key = the webhook secret, message = the raw request body)); only
//! the header names differ (`X-Shopify-Hmac-Sha256` / `X-WC-Webhook-Signature`). BigCommerce
//! follows the Standard Webhooks scheme instead ([`verify_standard`]): the MAC covers
//! `{webhook-id}.{webhook-timestamp}.{body}`, so a delivery replayed later is refused by its
//! timestamp even though its signature is genuine.
//!
//! Invariants: the MAC is computed over the bytes exactly as received (never re-serialized
//! JSON); comparison is constant-time (`hmac`'s `verify_slice`); header names are matched
//! case-insensitively (proxies lower-case them); header values that reach logs are sanitized.
//! Deduplication on the delivery id is the caller's job: the id is returned for it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::Sha256;

use crate::domain::ids::StorefrontOrderId;
use crate::domain::platform::Platform;
use crate::domain::text;

/// Where one platform puts a delivery's signature, topic and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    pub signature: &'static str,
    pub topic: &'static str,
    /// The same event retried carries the same id.
    pub delivery: &'static str,
}

pub const SHOPIFY: Scheme = Scheme {
    signature: "X-Shopify-Hmac-Sha256",
    topic: "X-Shopify-Topic",
    delivery: "X-Shopify-Webhook-Id",
};

/// woocommerce.md: `X-WC-Webhook-Signature` = base64(HMAC-SHA256(raw body, secret)).
pub const WOOCOMMERCE: Scheme = Scheme {
    signature: "X-WC-Webhook-Signature",
    topic: "X-WC-Webhook-Topic",
    delivery: "X-WC-Webhook-Delivery-ID",
};

/// bigcommerce.md: the Standard Webhooks headers BigCommerce signs a delivery with.
pub const STANDARD_ID: &str = "webhook-id";
pub const STANDARD_TIMESTAMP: &str = "webhook-timestamp";
pub const STANDARD_SIGNATURE: &str = "webhook-signature";
/// How far a Standard Webhooks timestamp may be from now, either way (bigcommerce.md: 5 min).
pub const STANDARD_TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the {0} header is missing")]
    MissingSignature(&'static str),
    #[error("the signature header is not base64")]
    MalformedSignature,
    #[error("the webhook signature does not match the body")]
    BadSignature,
    #[error("the webhook secret is empty")]
    EmptySecret,
    #[error("the webhook-timestamp header is not unix seconds")]
    MalformedTimestamp,
    #[error("the webhook-timestamp is more than 5 minutes from now: a replay or a wrong clock")]
    StaleTimestamp,
}

/// The headers of an authenticated webhook, sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedWebhook {
    /// `orders/cancelled`, `order.updated`…
    pub topic: Option<String>,
    pub delivery_id: Option<String>,
}

/// Checks `signature_base64` against `body`.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    signature_base64: &str,
) -> Result<(), WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::EmptySecret);
    }
    let expected = BASE64
        .decode(signature_base64.trim())
        .map_err(|_| WebhookError::MalformedSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::EmptySecret)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| WebhookError::BadSignature)
}

/// Authenticates a webhook from its headers and raw body.
pub fn verify(
    scheme: Scheme,
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<VerifiedWebhook, WebhookError> {
    let signature = header(headers, scheme.signature)
        .ok_or(WebhookError::MissingSignature(scheme.signature))?;
    verify_signature(secret, body, signature)?;
    let shown = |name: &str| header(headers, name).map(|v| text::truncate(&text::sanitize(v), 255));
    Ok(VerifiedWebhook {
        topic: shown(scheme.topic),
        delivery_id: shown(scheme.delivery),
    })
}

/// Authenticates a Standard Webhooks delivery (BigCommerce): `webhook-signature` holds
/// space-separated `v1,<base64>` entries, one of which must be base64(HMAC-SHA256(secret,
/// "{webhook-id}.{webhook-timestamp}.{body}")); the timestamp must be within
/// [`STANDARD_TOLERANCE_SECONDS`] of `now_unix`. The delivery id is `webhook-id`; the topic is
/// in the body, not in a header, so the caller reads it there.
pub fn verify_standard(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> Result<VerifiedWebhook, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::EmptySecret);
    }
    let id = header(headers, STANDARD_ID).ok_or(WebhookError::MissingSignature(STANDARD_ID))?;
    let timestamp = header(headers, STANDARD_TIMESTAMP)
        .ok_or(WebhookError::MissingSignature(STANDARD_TIMESTAMP))?;
    let signatures = header(headers, STANDARD_SIGNATURE)
        .ok_or(WebhookError::MissingSignature(STANDARD_SIGNATURE))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::EmptySecret)?;
    for part in [id.as_bytes(), b".", timestamp.as_bytes(), b".", body] {
        mac.update(part);
    }
    // Entries of other versions (a future `v1a,…`) are skipped, as the scheme asks.
    let candidates: Vec<Vec<u8>> = signatures
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| BASE64.decode(b64).ok())
        .collect();
    if candidates.is_empty() {
        return Err(WebhookError::MalformedSignature);
    }
    if !candidates
        .iter()
        .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
    {
        return Err(WebhookError::BadSignature);
    }
    // Checked after the signature, so a forger cannot tell a good clock from a good MAC.
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::MalformedTimestamp)?;
    if (now_unix - sent).abs() > STANDARD_TOLERANCE_SECONDS {
        return Err(WebhookError::StaleTimestamp);
    }
    Ok(VerifiedWebhook {
        topic: None,
        delivery_id: Some(text::truncate(&text::sanitize(id), 255)),
    })
}

/// What a store's verified delivery asks orderdeck to read. A delivery is a hint, never the
/// truth: only the order it names is taken from it, and that order is then read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreNews {
    /// This store order changed.
    Order(StorefrontOrderId),
    /// Orders changed, the delivery does not say which one: read the store's changes.
    Orders,
    /// Nothing about orders (a product changed, an app was uninstalled).
    Nothing,
}

/// Reads which order a verified delivery of `platform`'s store is about (`topic` from its
/// header, where the platform sends one). `None` when the body is not what the platform sends.
/// - Shopify (REST-shaped payloads): `orders/*` carry the order as `id`; `fulfillments/*` and
///   `refunds/*` carry it as `order_id`. orderdeck names Shopify orders by their GID.
/// - WooCommerce: the order itself, `id` first (`order.deleted` sends `{id}` alone).
/// - BigCommerce: `{scope, data: {type: "order", id} | {type: "shipment", id, orderId}}`.
pub fn store_news(platform: Platform, topic: Option<&str>, body: &[u8]) -> Option<StoreNews> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let number = |value: &Value, field: &str| value.get(field).and_then(Value::as_u64);
    let news = |id: Option<String>| {
        id.and_then(|id| StorefrontOrderId::new(id).ok())
            .map_or(StoreNews::Orders, StoreNews::Order)
    };
    match platform {
        Platform::Shopify => {
            let field = if topic.is_some_and(|t| t.starts_with("orders/")) {
                "id"
            } else {
                "order_id"
            };
            Some(news(
                number(&body, field).map(|n| format!("gid://shopify/Order/{n}")),
            ))
        }
        Platform::Woocommerce => Some(news(number(&body, "id").map(|n| n.to_string()))),
        Platform::Bigcommerce => {
            let scope = body.get("scope")?.as_str()?;
            let data = body.get("data");
            let order = if scope.starts_with("store/order/") {
                data.and_then(|d| number(d, "id"))
            } else if scope.starts_with("store/shipment/") {
                data.and_then(|d| number(d, "orderId"))
            } else {
                return Some(StoreNews::Nothing);
            };
            Some(news(order.map(|n| n.to_string())))
        }
        _ => Some(StoreNews::Nothing),
    }
}

/// `HeaderMap` lookups ignore case already; this also tolerates maps built from raw pairs.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.as_str().eq_ignore_ascii_case(name))
        .and_then(|(_, value)| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    #[derive(serde::Deserialize)]
    struct Vectors {
        vectors: Vec<Vector>,
    }

    #[derive(serde::Deserialize)]
    struct Vector {
        secret: String,
        body: String,
        hmac_base64: String,
    }

    fn vectors() -> Vec<Vector> {
        let text = include_str!("../../tests/fixtures/shopify_webhook_vectors.json");
        serde_json::from_str::<Vectors>(text)
            .expect("the vector file is valid")
            .vectors
    }

    #[test]
    fn published_vectors_verify() {
        for v in vectors() {
            assert_eq!(
                verify_signature(v.secret.as_bytes(), v.body.as_bytes(), &v.hmac_base64),
                Ok(())
            );
        }
    }

    #[test]
    fn any_change_is_refused() {
        for v in vectors() {
            let secret = v.secret.as_bytes();
            let changed_body = format!("{} ", v.body);
            assert_eq!(
                verify_signature(secret, changed_body.as_bytes(), &v.hmac_base64),
                Err(WebhookError::BadSignature)
            );
            assert_eq!(
                verify_signature(b"other-secret", v.body.as_bytes(), &v.hmac_base64),
                Err(WebhookError::BadSignature)
            );
            assert_eq!(
                verify_signature(secret, v.body.as_bytes(), "not base64!"),
                Err(WebhookError::MalformedSignature)
            );
            assert_eq!(
                verify_signature(b"", v.body.as_bytes(), &v.hmac_base64),
                Err(WebhookError::EmptySecret)
            );
        }
    }

    /// bigcommerce.md: the Standard Webhooks reference library's vector. Its secret is
    /// `whsec_` + base64 of the key bytes.
    fn standard_vector() -> (Vec<u8>, HeaderMap, &'static [u8], i64) {
        let key = BASE64
            .decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
            .expect("the vector's secret is base64");
        let mut headers = HeaderMap::new();
        headers.insert(
            STANDARD_ID,
            HeaderValue::from_static("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"),
        );
        headers.insert(STANDARD_TIMESTAMP, HeaderValue::from_static("1649367553"));
        headers.insert(
            STANDARD_SIGNATURE,
            HeaderValue::from_static("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="),
        );
        let body: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
        (key, headers, body, 1_649_367_553)
    }

    #[test]
    fn the_standard_webhooks_vector_verifies_and_names_its_delivery() {
        let (key, headers, body, sent) = standard_vector();
        let verified = verify_standard(&key, &headers, body, sent + 60).unwrap();
        assert_eq!(
            verified.delivery_id.as_deref(),
            Some("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk")
        );
        // A key rotation sends two signatures: either may match.
        let mut rotated = headers.clone();
        rotated.insert(
            STANDARD_SIGNATURE,
            HeaderValue::from_static(
                "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
            ),
        );
        assert!(verify_standard(&key, &rotated, body, sent).is_ok());
    }

    #[test]
    fn a_standard_webhook_changed_replayed_or_unsigned_is_refused() {
        let (key, headers, body, sent) = standard_vector();
        let changed = br#"{"email":"test@example.com","username":"test_usr"}"#;
        assert_eq!(
            verify_standard(&key, &headers, changed, sent),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_standard(b"other", &headers, body, sent),
            Err(WebhookError::BadSignature)
        );
        let mut other_id = headers.clone();
        other_id.insert(STANDARD_ID, HeaderValue::from_static("msg_other"));
        assert_eq!(
            verify_standard(&key, &other_id, body, sent),
            Err(WebhookError::BadSignature),
            "the id is signed"
        );
        for late in [
            sent + STANDARD_TOLERANCE_SECONDS + 1,
            sent - STANDARD_TOLERANCE_SECONDS - 1,
        ] {
            assert_eq!(
                verify_standard(&key, &headers, body, late),
                Err(WebhookError::StaleTimestamp)
            );
        }
        let mut unversioned = headers.clone();
        unversioned.insert(
            STANDARD_SIGNATURE,
            HeaderValue::from_static("tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="),
        );
        assert_eq!(
            verify_standard(&key, &unversioned, body, sent),
            Err(WebhookError::MalformedSignature)
        );
        let mut unsigned = headers.clone();
        unsigned.remove(STANDARD_SIGNATURE);
        assert_eq!(
            verify_standard(&key, &unsigned, body, sent),
            Err(WebhookError::MissingSignature(STANDARD_SIGNATURE))
        );
        assert_eq!(
            verify_standard(b"", &headers, body, sent),
            Err(WebhookError::EmptySecret)
        );
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let v = &vectors()[0];
        for name in [
            "X-Shopify-Hmac-Sha256",
            "x-shopify-hmac-sha256",
            "X-SHOPIFY-HMAC-SHA256",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(&v.hmac_base64).unwrap(),
            );
            headers.insert(
                "X-Shopify-Topic",
                HeaderValue::from_static("orders/cancelled"),
            );
            headers.insert("x-shopify-webhook-id", HeaderValue::from_static("b54557e4"));
            let verified =
                verify(SHOPIFY, v.secret.as_bytes(), &headers, v.body.as_bytes()).unwrap();
            assert_eq!(verified.topic.as_deref(), Some("orders/cancelled"));
            assert_eq!(verified.delivery_id.as_deref(), Some("b54557e4"));
            // The same delivery under WooCommerce's names is looked for in its own headers.
            assert_eq!(
                verify(
                    WOOCOMMERCE,
                    v.secret.as_bytes(),
                    &headers,
                    v.body.as_bytes()
                ),
                Err(WebhookError::MissingSignature("X-WC-Webhook-Signature"))
            );
        }
        assert_eq!(
            verify(SHOPIFY, b"s", &HeaderMap::new(), b"{}"),
            Err(WebhookError::MissingSignature("X-Shopify-Hmac-Sha256"))
        );
    }

    #[test]
    fn a_delivery_names_the_store_order_it_is_about_as_each_platform_sends_it() {
        let order = |id: &str| Some(StoreNews::Order(StorefrontOrderId::new(id).unwrap()));
        let news = |platform, topic, body: &str| store_news(platform, topic, body.as_bytes());
        let gid = "gid://shopify/Order/820982911946154508";
        let cancelled = r#"{"id": 820982911946154508, "cancel_reason": "customer"}"#;
        assert_eq!(
            news(Platform::Shopify, Some("orders/cancelled"), cancelled),
            order(gid)
        );
        let fulfilled = r#"{"id": 123456, "order_id": 820982911946154508, "status": "success"}"#;
        assert_eq!(
            news(Platform::Shopify, Some("fulfillments/create"), fulfilled),
            order(gid),
            "a fulfillment's own id is not the order's"
        );
        assert_eq!(
            news(
                Platform::Shopify,
                Some("orders/updated"),
                r##"{"name": "#1001"}"##
            ),
            Some(StoreNews::Orders)
        );
        assert_eq!(
            news(
                Platform::Woocommerce,
                Some("order.updated"),
                r#"{"id": 136, "status": "cancelled"}"#
            ),
            order("136")
        );
        let shipment = r#"{"scope": "store/shipment/created", "store_id": "1",
            "data": {"type": "shipment", "id": 7, "orderId": 250}}"#;
        assert_eq!(news(Platform::Bigcommerce, None, shipment), order("250"));
        let status = r#"{"scope": "store/order/statusUpdated", "data": {"type": "order", "id": 251,
            "status": {"previous_status_id": 11, "new_status_id": 5}}}"#;
        assert_eq!(news(Platform::Bigcommerce, None, status), order("251"));
        let product = r#"{"scope": "store/product/updated", "data": {"type": "product", "id": 9}}"#;
        assert_eq!(
            news(Platform::Bigcommerce, None, product),
            Some(StoreNews::Nothing)
        );
        assert_eq!(news(Platform::Bigcommerce, None, r#"{"data": {}}"#), None);
        assert_eq!(news(Platform::Woocommerce, None, "not json"), None);
    }
}
