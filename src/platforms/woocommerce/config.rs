//! How to reach one WooCommerce store: the site URL (WordPress' home, where `/wp-json/` lives),
//! a REST API key pair (`ck_…` / `cs_…`, Read/Write) and timeouts.
//!
//! Invariants: the consumer secret never appears in `Debug` output or errors (only a short
//! SHA-256 fingerprint of it does); the site URL is http(s) without query or fragment, so
//! nothing can be smuggled into the routes built on it. The scheme decides the authentication
//! WooCommerce accepts: HTTP Basic over https, OAuth 1.0a one-legged signatures over plain http
//! (WooCommerce ignores Basic there).

use std::fmt;

use crate::platforms::http::Timeouts;
use crate::platforms::rest;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("site URL {0:?} is not an http(s) URL without query or fragment")]
    SiteUrl(String),
    #[error("the WooCommerce consumer key is empty")]
    EmptyKey,
    #[error("the WooCommerce consumer secret is empty")]
    EmptySecret,
    #[error("the WooCommerce {0} contains characters not allowed in an HTTP header")]
    NotHeaderSafe(&'static str),
}

/// How requests prove the key pair, as `class-wc-rest-authentication.php` checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Basic base64(ck:cs)`: only honoured over https.
    Basic,
    /// OAuth 1.0a "one-legged" (HMAC-SHA256 signature in the query string): plain http.
    OAuth1,
}

/// The connection settings of one store.
#[derive(Clone)]
pub struct WoocommerceConfig {
    /// `https://shop.example.com` (the sandbox: `http://127.0.0.1:PORT/site`).
    pub site_url: String,
    /// `ck_…`. Not secret on its own, but kept out of logs all the same.
    pub consumer_key: String,
    /// `cs_…`. Secret.
    pub consumer_secret: String,
    pub timeouts: Timeouts,
    /// Orders and products asked for per page: WordPress' largest, [`MAX_PAGE_SIZE`], unless a
    /// test wants to see paging.
    pub page_size: u32,
    /// The secret orderdeck's webhooks are created with (`orderdeck webhooks register`).
    pub webhook_secret: Option<String>,
}

/// WordPress answers `per_page` above 100 with 400 `rest_invalid_param`.
pub const MAX_PAGE_SIZE: u32 = 100;

impl WoocommerceConfig {
    pub fn new(
        site_url: impl Into<String>,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
    ) -> Self {
        WoocommerceConfig {
            site_url: site_url.into(),
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            timeouts: Timeouts::default(),
            page_size: MAX_PAGE_SIZE,
            webhook_secret: None,
        }
    }

    /// `{site}/wp-json/` (pretty permalinks), after checking every part that goes into it.
    pub fn api_root(&self) -> Result<reqwest::Url, ConfigError> {
        let key = self.consumer_key.trim();
        let secret = self.consumer_secret.trim();
        if key.is_empty() {
            return Err(ConfigError::EmptyKey);
        }
        if secret.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        if !header_safe(key) {
            return Err(ConfigError::NotHeaderSafe("consumer key"));
        }
        if !header_safe(secret) {
            return Err(ConfigError::NotHeaderSafe("consumer secret"));
        }
        rest::api_root(&self.site_url, "wp-json/").map_err(ConfigError::SiteUrl)
    }

    pub fn scheme(&self) -> AuthScheme {
        if self
            .site_url
            .trim()
            .to_ascii_lowercase()
            .starts_with("https:")
        {
            AuthScheme::Basic
        } else {
            AuthScheme::OAuth1
        }
    }

    /// First 8 hex digits of SHA-256(secret): enough to tell keys apart, useless to an attacker.
    pub fn secret_fingerprint(&self) -> String {
        rest::fingerprint(&self.consumer_secret)
    }
}

fn header_safe(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_graphic())
}

impl fmt::Debug for WoocommerceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WoocommerceConfig")
            .field("site_url", &self.site_url)
            .field(
                "consumer_secret",
                &format_args!("<fingerprint {}>", self.secret_fingerprint()),
            )
            .field("timeouts", &self.timeouts)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_is_built_from_checked_parts() {
        let config = WoocommerceConfig::new("https://shop.example.com/", "ck_1", "cs_2");
        assert_eq!(
            config.api_root().unwrap().as_str(),
            "https://shop.example.com/wp-json/"
        );
        assert_eq!(config.scheme(), AuthScheme::Basic);
        let plain = WoocommerceConfig::new("http://127.0.0.1:9/site", "ck_1", "cs_2");
        assert_eq!(
            plain.api_root().unwrap().as_str(),
            "http://127.0.0.1:9/site/wp-json/"
        );
        assert_eq!(plain.scheme(), AuthScheme::OAuth1);
        for bad in [
            "ftp://x.com",
            "https://x.com/?a=1",
            "https://x.com/#f",
            "x.com",
        ] {
            let config = WoocommerceConfig::new(bad, "ck", "cs");
            assert!(
                matches!(config.api_root(), Err(ConfigError::SiteUrl(_))),
                "{bad}"
            );
        }
        assert_eq!(
            WoocommerceConfig::new("https://x.com", " ", "cs").api_root(),
            Err(ConfigError::EmptyKey)
        );
        assert_eq!(
            WoocommerceConfig::new("https://x.com", "ck", "cs\n1").api_root(),
            Err(ConfigError::NotHeaderSafe("consumer secret"))
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let config = WoocommerceConfig::new("https://x.com", "ck_key", "cs_very_secret_value");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very_secret"), "{shown}");
        assert!(!shown.contains("ck_key"), "{shown}");
        assert!(shown.contains(&config.secret_fingerprint()), "{shown}");
    }
}
