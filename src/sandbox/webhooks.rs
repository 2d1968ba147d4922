//! Webhook deliveries as the simulated platforms send them: the body, and the headers each
//! platform signs it with (tiktok-shop.md, shopify.md, woocommerce.md). Written from the
//! platforms' descriptions, independently of orderdeck's verifiers, so a test that delivers
//! through here checks orderdeck against the platforms' scheme, not against itself.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// One webhook request: where it goes (a path under the listener), headers and raw body.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes a key of any length: this `else` never runs.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// TikTok: `Authorization` = lowercase hex HMAC-SHA256(app_secret, app_key + body).
/// `kind` 1 is an order status change, 11 a cancellation status change.
pub fn tiktok(
    app_key: &str,
    app_secret: &str,
    notification_id: &str,
    shop_id: &str,
    kind: u32,
    data: Value,
) -> Delivery {
    let body = json!({
        "type": kind,
        "tts_notification_id": notification_id,
        "shop_id": shop_id,
        "timestamp": chrono::Utc::now().timestamp(),
        "data": data,
    })
    .to_string()
    .into_bytes();
    let signature = hex::encode(mac(app_secret.as_bytes(), &[app_key.as_bytes(), &body]));
    Delivery {
        path: "/webhooks/tiktok".into(),
        headers: vec![
            ("Authorization".into(), signature),
            ("Content-Type".into(), "application/json".into()),
        ],
        body,
    }
}

/// Header names of a store whose deliveries carry base64 HMAC-SHA256(secret, body): the
/// signature, the topic and the delivery id.
struct BodySigned {
    platform: &'static str,
    signature: &'static str,
    topic: &'static str,
    delivery: &'static str,
}

fn body_signed(
    names: &BodySigned,
    store: &str,
    secret: &str,
    delivery_id: &str,
    topic: &str,
    payload: &Value,
) -> Delivery {
    let body = payload.to_string().into_bytes();
    let signature =
        base64::engine::general_purpose::STANDARD.encode(mac(secret.as_bytes(), &[&body]));
    Delivery {
        path: format!("/webhooks/{}/{store}", names.platform),
        headers: vec![
            (names.signature.into(), signature),
            (names.topic.into(), topic.into()),
            (names.delivery.into(), delivery_id.into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body,
    }
}

/// Shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256(secret, body), with topic and id.
pub fn shopify(
    store: &str,
    secret: &str,
    webhook_id: &str,
    topic: &str,
    payload: &Value,
) -> Delivery {
    let names = BodySigned {
        platform: "shopify",
        signature: "X-Shopify-Hmac-Sha256",
        topic: "X-Shopify-Topic",
        delivery: "X-Shopify-Webhook-Id",
    };
    body_signed(&names, store, secret, webhook_id, topic, payload)
}

/// WooCommerce: `X-WC-Webhook-Signature` = base64 HMAC-SHA256(secret, body).
pub fn woocommerce(
    store: &str,
    secret: &str,
    delivery_id: &str,
    topic: &str,
    payload: &Value,
) -> Delivery {
    let names = BodySigned {
        platform: "woocommerce",
        signature: "X-WC-Webhook-Signature",
        topic: "X-WC-Webhook-Topic",
        delivery: "X-WC-Webhook-Delivery-ID",
    };
    body_signed(&names, store, secret, delivery_id, topic, payload)
}

impl Delivery {
    /// Sends it to `base` (`http://host:port`); answers the HTTP status.
    pub async fn send(&self, http: &reqwest::Client, base: &str) -> Result<u16, reqwest::Error> {
        self.send_to(http, &format!("{base}{}", self.path)).await
    }

    async fn send_to(&self, http: &reqwest::Client, url: &str) -> Result<u16, reqwest::Error> {
        let mut request = http.post(url).body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        Ok(request.send().await?.status().as_u16())
    }
}

/// Tries a delivery gets before the simulated platform gives up (the real ones retry for
/// hours; the poll catches up what is given up).
const ATTEMPTS: u32 = 5;

/// Sends `delivery` to `url` in the background as the platforms do: retried one, two, four…
/// seconds apart until the receiver answers 2xx.
pub fn deliver(delivery: Delivery, url: String) {
    // A client per delivery: a pooled one would be tied to the runtime that first used it.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    tokio::spawn(async move {
        for attempt in 0..ATTEMPTS {
            if let Ok(200..=299) = delivery.send_to(&http, &url).await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1 << attempt)).await;
        }
    });
}

/// Runs `scan` every 200 ms and delivers what it finds, until it answers `None` (its sandbox
/// is gone). A scan compares the world with what it saw last, as a platform's event bus
/// reports each change once.
pub fn watch(mut scan: impl FnMut() -> Option<Vec<(Delivery, String)>> + Send + 'static) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let Some(found) = scan() else { return };
            for (delivery, url) in found {
                deliver(delivery, url);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vectors {
        webhook_authorization: Vec<TiktokVector>,
    }

    #[derive(serde::Deserialize)]
    struct TiktokVector {
        app_key: String,
        app_secret: String,
        body: String,
        authorization: String,
    }

    #[test]
    fn tiktok_signatures_match_the_published_vectors() {
        let text = include_str!("../../tests/fixtures/tiktok_sign_vectors.json");
        let vectors: Vectors = serde_json::from_str(text).unwrap();
        for v in vectors.webhook_authorization {
            let signed = hex::encode(mac(
                v.app_secret.as_bytes(),
                &[v.app_key.as_bytes(), v.body.as_bytes()],
            ));
            assert_eq!(signed, v.authorization.to_lowercase());
        }
    }
}
