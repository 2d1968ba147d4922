//! How to reach one BigCommerce store: the API host (`https://api.bigcommerce.com` unless a
//! sandbox overrides it), the store hash (the path segment of the store's API path), a
//! store-level API account's access token, and timeouts.
//!
//! Invariants: the token never appears in `Debug` output or errors (only a short SHA-256
//! fingerprint of it does); the store hash is plain letters and digits and the host is http(s)
//! without query or fragment, so nothing can be smuggled into the routes built on them.

use std::fmt;

use crate::platforms::http::Timeouts;
use crate::platforms::rest;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("api_base {0:?} is not an http(s) URL without query or fragment")]
    ApiBase(String),
    #[error("store_hash {0:?} is not the store's API path segment (letters and digits)")]
    StoreHash(String),
    #[error("the BigCommerce access token is empty")]
    EmptyToken,
    #[error("the BigCommerce access token contains characters not allowed in an HTTP header")]
    NotHeaderSafe,
}

/// BigCommerce's API host.
pub const DEFAULT_API_BASE: &str = "https://api.bigcommerce.com";
/// `limit` of order and variant lists: 250 is the usual ceiling (larger is 413).
pub const MAX_PAGE_SIZE: u32 = 250;

/// The connection settings of one store.
#[derive(Clone)]
pub struct BigcommerceConfig {
    /// `https://api.bigcommerce.com` (the sandbox: `http://127.0.0.1:PORT`).
    pub api_base: String,
    pub store_hash: String,
    /// `X-Auth-Token`. Secret.
    pub access_token: String,
    pub timeouts: Timeouts,
    /// Orders and variants asked for per page: [`MAX_PAGE_SIZE`] unless a test wants paging.
    pub page_size: u32,
    /// The client secret BigCommerce signs webhook deliveries with. Secret. Only its presence
    /// matters here: webhooks are not registered for a listener that could verify none of them.
    pub webhook_secret: Option<String>,
}

impl BigcommerceConfig {
    pub fn new(
        api_base: impl Into<String>,
        store_hash: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Self {
        BigcommerceConfig {
            api_base: api_base.into(),
            store_hash: store_hash.into(),
            access_token: access_token.into(),
            timeouts: Timeouts::default(),
            page_size: MAX_PAGE_SIZE,
            webhook_secret: None,
        }
    }

    /// `{api_base}/stores/{hash}/`, after checking every part that goes into it.
    pub fn store_root(&self) -> Result<reqwest::Url, ConfigError> {
        let token = self.access_token.trim();
        if token.is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        if !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ConfigError::NotHeaderSafe);
        }
        let hash = self.store_hash.trim();
        if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ConfigError::StoreHash(crate::domain::text::sanitize(hash)));
        }
        rest::api_root(&self.api_base, &format!("stores/{hash}/")).map_err(ConfigError::ApiBase)
    }

    /// First 8 hex digits of SHA-256(token): enough to tell tokens apart, useless to an attacker.
    pub fn token_fingerprint(&self) -> String {
        rest::fingerprint(self.access_token.trim())
    }
}

impl fmt::Debug for BigcommerceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BigcommerceConfig")
            .field("api_base", &self.api_base)
            .field("store_hash", &self.store_hash)
            .field(
                "access_token",
                &format_args!("<fingerprint {}>", self.token_fingerprint()),
            )
            .field("timeouts", &self.timeouts)
            .field("page_size", &self.page_size)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<set>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_root_is_built_from_checked_parts() {
        let config = BigcommerceConfig::new(DEFAULT_API_BASE, "abc123", "tok");
        assert_eq!(
            config.store_root().unwrap().as_str(),
            "https://api.bigcommerce.com/stores/abc123/"
        );
        let sandbox = BigcommerceConfig::new("http://127.0.0.1:9/", "s1", "tok");
        assert_eq!(
            sandbox.store_root().unwrap().as_str(),
            "http://127.0.0.1:9/stores/s1/"
        );
        for bad in ["abc/../x", "", "a b"] {
            let config = BigcommerceConfig::new(DEFAULT_API_BASE, bad, "tok");
            assert!(
                matches!(config.store_root(), Err(ConfigError::StoreHash(_))),
                "{bad}"
            );
        }
        for bad in ["ftp://x.com", "https://x.com/?a=1", "x.com"] {
            let config = BigcommerceConfig::new(bad, "s", "tok");
            assert!(
                matches!(config.store_root(), Err(ConfigError::ApiBase(_))),
                "{bad}"
            );
        }
        assert_eq!(
            BigcommerceConfig::new(DEFAULT_API_BASE, "s", " ").store_root(),
            Err(ConfigError::EmptyToken)
        );
        assert_eq!(
            BigcommerceConfig::new(DEFAULT_API_BASE, "s", "a\nb").store_root(),
            Err(ConfigError::NotHeaderSafe)
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let mut config = BigcommerceConfig::new(DEFAULT_API_BASE, "s", "very_secret_token");
        config.webhook_secret = Some("client_secret_value".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("very_secret"), "{shown}");
        assert!(!shown.contains("client_secret_value"), "{shown}");
        assert!(shown.contains(&config.token_fingerprint()), "{shown}");
    }
}
