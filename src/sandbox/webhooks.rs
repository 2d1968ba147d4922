//! Webhook deliveries as the simulated platforms send them: the body, and the headers each
//! platform signs it with (tiktok-shop.md, shopify.md, woocommerce.md, bigcommerce.md). Written
//! from the platforms' descriptions, independently of orderdeck's verifiers, so a test that
//! delivers through here checks orderdeck against the platforms' scheme, not against itself.
//!
//! Also what every simulated platform's subscription API shares: which addresses it takes
//! ([`check_destination`]), and sending in the background with retries ([`deliver`], [`watch`]).

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

/// Which WooCommerce webhook sends a delivery, and from which site.
#[derive(Debug, Clone, Copy)]
pub struct WooSender<'a> {
    /// The `[[stores]]` name the delivery's path names.
    pub store: &'a str,
    /// The site's URL (`X-WC-Webhook-Source`).
    pub site_url: &'a str,
    pub webhook_id: u64,
    /// The webhook's own `secret`.
    pub secret: &'a str,
}

/// WooCommerce: `X-WC-Webhook-Signature` = base64 HMAC-SHA256(secret, body), with the topic
/// (`order.updated`) and its resource and event, the webhook's id and the delivery's.
pub fn woocommerce(
    sender: WooSender<'_>,
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
    let mut delivery = body_signed(
        &names,
        sender.store,
        sender.secret,
        delivery_id,
        topic,
        payload,
    );
    let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
    delivery.headers.extend([
        (
            "X-WC-Webhook-Source".into(),
            format!("{}/", sender.site_url.trim_end_matches('/')),
        ),
        ("X-WC-Webhook-Resource".into(), resource.into()),
        ("X-WC-Webhook-Event".into(), event.into()),
        ("X-WC-Webhook-ID".into(), sender.webhook_id.to_string()),
        (
            "User-Agent".into(),
            "WooCommerce/10.3.0 Hookshot (WordPress/6.8.3)".into(),
        ),
    ]);
    delivery
}

/// WooCommerce's creation ping: an unsigned form `webhook_id=N`, nothing else.
pub fn woocommerce_ping(store: &str, webhook_id: u64) -> Delivery {
    Delivery {
        path: format!("/webhooks/woocommerce/{store}"),
        headers: vec![
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            (
                "User-Agent".into(),
                "WooCommerce/10.3.0 Hookshot (WordPress/6.8.3)".into(),
            ),
        ],
        body: format!("webhook_id={webhook_id}").into_bytes(),
    }
}

/// BigCommerce, by the Standard Webhooks scheme: `webhook-signature` = `v1,` + base64
/// HMAC-SHA256(the API account's client secret, "{webhook-id}.{webhook-timestamp}.{body}").
/// A retry of the same message keeps its id (and here its timestamp).
pub fn bigcommerce(
    store: &str,
    client_secret: &str,
    message_id: &str,
    timestamp: i64,
    payload: &Value,
) -> Delivery {
    let body = payload.to_string().into_bytes();
    let stamp = timestamp.to_string();
    let signed = mac(
        client_secret.as_bytes(),
        &[message_id.as_bytes(), b".", stamp.as_bytes(), b".", &body],
    );
    let signature = base64::engine::general_purpose::STANDARD.encode(signed);
    Delivery {
        path: format!("/webhooks/bigcommerce/{store}"),
        headers: vec![
            ("webhook-id".into(), message_id.into()),
            ("webhook-timestamp".into(), stamp),
            ("webhook-signature".into(), format!("v1,{signature}")),
            ("Content-Type".into(), "application/json".into()),
        ],
        body,
    }
}

/// Why a platform would not deliver to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeliverable {
    NotUrl,
    NotHttps,
    /// BigCommerce: "Destination URL must be served on port 443".
    NotPort443,
}

/// Whether a platform would deliver to `address`: the platforms call HTTPS only (BigCommerce
/// on port 443 only); the sandbox also takes plain http on loopback, any port, where the demo's
/// and the tests' listener runs without TLS.
pub fn check_destination(address: &str, port_443_only: bool) -> Result<(), Undeliverable> {
    let url = url::Url::parse(address).map_err(|_| Undeliverable::NotUrl)?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if loopback && matches!(url.scheme(), "http" | "https") {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(Undeliverable::NotHttps);
    }
    if port_443_only && url.port_or_known_default() != Some(443) {
        return Err(Undeliverable::NotPort443);
    }
    Ok(())
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

/// A client per delivery: a pooled one would be tied to the runtime that first used it.
fn delivery_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

/// Sends `delivery` to `url` in the background as the platforms do: retried one, two, four…
/// seconds apart until the receiver answers 2xx.
pub fn deliver(delivery: Delivery, url: String) {
    let http = delivery_client();
    tokio::spawn(async move {
        for attempt in 0..ATTEMPTS {
            if let Ok(200..=299) = delivery.send_to(&http, &url).await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1 << attempt)).await;
        }
    });
}

/// Sends `delivery` to `url` once in the background, whatever the answer (a ping).
pub fn deliver_once(delivery: Delivery, url: String) {
    deliver_answered(delivery, url, |_| {});
}

/// Sends `delivery` once in the background and tells `answered` whether the receiver took it
/// (2xx): for a platform that does not retry but counts failures (WooCommerce).
pub fn deliver_answered(
    delivery: Delivery,
    url: String,
    answered: impl FnOnce(bool) + Send + 'static,
) {
    let http = delivery_client();
    tokio::spawn(async move {
        let taken = matches!(delivery.send_to(&http, &url).await, Ok(200..=299));
        answered(taken);
    });
}

/// Runs `scan` every 200 ms and delivers what it finds with retries ([`deliver`]), until it
/// answers `None` (its sandbox is gone). A scan compares the world with what it saw last, as a
/// platform's event bus reports each change once.
pub fn watch(scan: impl FnMut() -> Option<Vec<(Delivery, String)>> + Send + 'static) {
    watch_with(scan, |(delivery, url)| deliver(delivery, url));
}

/// [`watch`], each find handed to `send`: for a platform that delivers its own way.
pub fn watch_with<T: Send + 'static>(
    mut scan: impl FnMut() -> Option<Vec<T>> + Send + 'static,
    send: impl Fn(T) + Send + 'static,
) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let Some(found) = scan() else { return };
            found.into_iter().for_each(&send);
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
    fn bigcommerce_signs_as_the_standard_webhooks_vector() {
        // bigcommerce.md: secret `whsec_` + base64 of the key bytes.
        let key = base64::engine::general_purpose::STANDARD
            .decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
            .unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        let id = b"msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
        let signed = mac(&key, &[id, b".", b"1649367553", b".", body]);
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(signed),
            "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn platforms_deliver_to_https_and_the_sandbox_also_to_loopback() {
        assert_eq!(check_destination("https://od.example.com/h", true), Ok(()));
        assert_eq!(
            check_destination("https://od.example.com:443/h", true),
            Ok(())
        );
        assert_eq!(
            check_destination("https://od.example.com:8443/h", true),
            Err(Undeliverable::NotPort443)
        );
        assert_eq!(
            check_destination("https://od.example.com:8443/h", false),
            Ok(())
        );
        assert_eq!(
            check_destination("http://od.example.com/h", false),
            Err(Undeliverable::NotHttps)
        );
        assert_eq!(check_destination("http://127.0.0.1:8787/h", true), Ok(()));
        assert_eq!(
            check_destination("not a url", false),
            Err(Undeliverable::NotUrl)
        );
        assert_eq!(
            check_destination("ftp://127.0.0.1/h", false),
            Err(Undeliverable::NotHttps)
        );
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
