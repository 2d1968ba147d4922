//! TikTok Shop request signing and webhook verification (`shared/platforms/tiktok-shop.md`).
//!
//! Invariants: the signed text is `secret + path + sorted(key + value) + body + secret`, keys
//! sorted by byte order with `sign` and `access_token` left out; values are the DECODED query
//! values (a page token holding `/` or `+` is signed as is and percent-encoded only on the wire);
//! the body is the exact bytes sent, and nothing at all when no body is sent. Comparison of a
//! webhook signature is constant-time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Query parameters that never take part in the signature.
const UNSIGNED_PARAMS: [&str; 2] = ["sign", "access_token"];

/// The `sign` query parameter for a request.
///
/// `params` are the query parameters as decoded values; `body` is `Some` exactly when a body is
/// sent, holding the bytes that go on the wire.
pub fn sign_request(
    app_secret: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<&[u8]>,
) -> String {
    let mut signed: Vec<&(&str, &str)> = params
        .iter()
        .filter(|(key, _)| !UNSIGNED_PARAMS.contains(key))
        .collect();
    // `str` ordering is byte order, which is what TikTok specifies.
    signed.sort_by(|a, b| a.0.cmp(b.0));

    let mut mac = new_mac(app_secret);
    mac.update(app_secret.as_bytes());
    mac.update(path.as_bytes());
    for (key, value) in signed {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    if let Some(body) = body {
        mac.update(body);
    }
    mac.update(app_secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a webhook's `Authorization` header: lowercase hex HMAC-SHA256 keyed with the app
/// secret over `app_key + raw body`. Upper-case hex is accepted; anything that is not 64 hex
/// digits is refused without computing anything.
pub fn verify_webhook(
    app_key: &str,
    app_secret: &str,
    raw_body: &[u8],
    authorization: &str,
) -> bool {
    let Ok(claimed) = hex::decode(authorization.trim()) else {
        return false;
    };
    let mut mac = new_mac(app_secret);
    mac.update(app_key.as_bytes());
    mac.update(raw_body);
    // `verify_slice` compares in constant time and refuses a wrong length.
    mac.verify_slice(&claimed).is_ok()
}

#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length: this cannot fail"
)]
fn new_mac(app_secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(app_secret.as_bytes()).expect("HMAC accepts any key length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vectors {
        request_sign: Vec<RequestVector>,
        webhook_authorization: Vec<WebhookVector>,
    }

    #[derive(serde::Deserialize)]
    struct RequestVector {
        source: String,
        app_secret: String,
        path: String,
        query: std::collections::BTreeMap<String, String>,
        body: String,
        sign: String,
    }

    #[derive(serde::Deserialize)]
    struct WebhookVector {
        app_key: String,
        app_secret: String,
        body: String,
        authorization: String,
    }

    fn vectors() -> Vectors {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tiktok_sign_vectors.json"
        ));
        serde_json::from_str(text).expect("vector file parses")
    }

    #[test]
    fn every_published_request_vector_matches() {
        let vectors = vectors();
        assert!(!vectors.request_sign.is_empty());
        for v in &vectors.request_sign {
            let params: Vec<(&str, &str)> = v
                .query
                .iter()
                .map(|(k, val)| (k.as_str(), val.as_str()))
                .collect();
            let body = (!v.body.is_empty()).then_some(v.body.as_bytes());
            assert_eq!(
                sign_request(&v.app_secret, &v.path, &params, body),
                v.sign,
                "{}",
                v.source
            );
        }
    }

    #[test]
    fn sign_and_access_token_are_left_out_and_order_does_not_matter() {
        let v = &vectors().request_sign[0];
        let with_extras = [
            ("timestamp", "1623812664"),
            ("sign", "whatever"),
            ("access_token", "secret-token"),
            ("app_key", "29a39d"),
        ];
        assert_eq!(
            sign_request(&v.app_secret, &v.path, &with_extras, None),
            v.sign
        );
    }

    #[test]
    fn a_sent_body_is_signed_and_an_unsent_one_is_not() {
        let params = [("app_key", "k"), ("timestamp", "1")];
        let none = sign_request("s", "/p", &params, None);
        let empty_braces = sign_request("s", "/p", &params, Some(b"{}"));
        assert_ne!(none, empty_braces, "`{{}}` is only signed when it is sent");
        assert_eq!(none, sign_request("s", "/p", &params, Some(b"")));
    }

    #[test]
    fn page_tokens_are_signed_decoded() {
        let decoded = [("page_token", "ab/c+d=="), ("app_key", "k")];
        let encoded = [("page_token", "ab%2Fc%2Bd%3D%3D"), ("app_key", "k")];
        assert_ne!(
            sign_request("s", "/p", &decoded, None),
            sign_request("s", "/p", &encoded, None)
        );
    }

    #[test]
    fn webhook_vector_verifies_and_tampering_fails() {
        for v in vectors().webhook_authorization {
            let body = v.body.as_bytes();
            assert!(verify_webhook(
                &v.app_key,
                &v.app_secret,
                body,
                &v.authorization
            ));
            assert!(verify_webhook(
                &v.app_key,
                &v.app_secret,
                body,
                &v.authorization.to_uppercase()
            ));
            let mut tampered = body.to_vec();
            tampered[10] ^= 1;
            assert!(!verify_webhook(
                &v.app_key,
                &v.app_secret,
                &tampered,
                &v.authorization
            ));
            assert!(!verify_webhook(&v.app_key, "wrong", body, &v.authorization));
            assert!(!verify_webhook(
                &v.app_key,
                &v.app_secret,
                body,
                &v.authorization[..62]
            ));
            assert!(!verify_webhook(&v.app_key, &v.app_secret, body, "not hex"));
        }
    }
}
