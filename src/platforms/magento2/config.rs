//! How to reach one Magento 2 store: the site URL (where `/rest/` lives), the store view's code
//! (in every path: `/rest/{store_code}/V1/...`), an Integration's access token, and timeouts.
//!
//! Invariants: the token never appears in `Debug` output or errors (only a short SHA-256
//! fingerprint of it does); the site URL is http(s) without query or fragment and the store
//! code is a plain identifier, so nothing can be smuggled into the routes built on them.

use std::fmt;

use crate::platforms::http::Timeouts;
use crate::platforms::rest;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("site URL {0:?} is not an http(s) URL without query or fragment")]
    SiteUrl(String),
    #[error("the Magento access token is empty")]
    EmptyToken,
    #[error("the Magento access token contains characters not allowed in an HTTP header")]
    NotHeaderSafe,
    #[error("store code {0:?} is not a Magento store code (letters, digits, underscores)")]
    StoreCode(String),
}

/// The connection settings of one store.
#[derive(Clone)]
pub struct Magento2Config {
    /// orderdeck's name for the store (`orderdeck.toml`), named in every auth error.
    pub store: String,
    /// `https://shop.example.com` (the sandbox: `http://127.0.0.1:PORT/site`).
    pub site_url: String,
    /// Integration access token (System → Extensions → Integrations). Secret.
    pub access_token: String,
    /// The store view orders are made in. magento2.md: "The config has no store-code key: use
    /// the default" — the store view Magento installs is `default` (id 1).
    pub store_code: String,
    pub timeouts: Timeouts,
    /// Rows per list page (`searchCriteria[pageSize]`): [`DEFAULT_PAGE_SIZE`] unless a test
    /// wants to see paging. Sites with input limiting allow at most 300.
    pub page_size: u32,
}

pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The most rows a site with input limiting answers per page (magento2.md).
pub const MAX_PAGE_SIZE: u32 = 300;
pub const DEFAULT_STORE_CODE: &str = "default";

impl Magento2Config {
    pub fn new(
        store: impl Into<String>,
        site_url: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Self {
        Magento2Config {
            store: store.into(),
            site_url: site_url.into(),
            access_token: access_token.into(),
            store_code: DEFAULT_STORE_CODE.into(),
            timeouts: Timeouts::default(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// `{site}/rest/{store_code}/V1/`, after checking every part that goes into it.
    pub fn api_root(&self) -> Result<reqwest::Url, ConfigError> {
        let token = self.access_token.trim();
        if token.is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        if !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ConfigError::NotHeaderSafe);
        }
        let code = self.store_code.trim();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConfigError::StoreCode(crate::domain::text::sanitize(code)));
        }
        rest::api_root(&self.site_url, &format!("rest/{code}/V1/")).map_err(ConfigError::SiteUrl)
    }

    /// First 8 hex digits of SHA-256(token): enough to tell tokens apart, useless to an attacker.
    pub fn token_fingerprint(&self) -> String {
        rest::fingerprint(self.access_token.trim())
    }
}

impl fmt::Debug for Magento2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Magento2Config")
            .field("store", &self.store)
            .field("site_url", &self.site_url)
            .field("store_code", &self.store_code)
            .field(
                "access_token",
                &format_args!("<fingerprint {}>", self.token_fingerprint()),
            )
            .field("timeouts", &self.timeouts)
            .field("page_size", &self.page_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_has_the_store_code_in_the_path() {
        let config = Magento2Config::new("m", "https://shop.example.com/", "tok");
        assert_eq!(
            config.api_root().unwrap().as_str(),
            "https://shop.example.com/rest/default/V1/"
        );
        let mut other = Magento2Config::new("m", "http://127.0.0.1:9/site", "tok");
        other.store_code = "en_us".into();
        assert_eq!(
            other.api_root().unwrap().as_str(),
            "http://127.0.0.1:9/site/rest/en_us/V1/"
        );
        other.store_code = "../all".into();
        assert!(matches!(other.api_root(), Err(ConfigError::StoreCode(_))));
        for bad in [
            "ftp://x.com",
            "https://x.com/?a=1",
            "https://x.com/#f",
            "x.com",
        ] {
            let config = Magento2Config::new("m", bad, "tok");
            assert!(
                matches!(config.api_root(), Err(ConfigError::SiteUrl(_))),
                "{bad}"
            );
        }
        assert_eq!(
            Magento2Config::new("m", "https://x.com", " ").api_root(),
            Err(ConfigError::EmptyToken)
        );
        assert_eq!(
            Magento2Config::new("m", "https://x.com", "a\nb").api_root(),
            Err(ConfigError::NotHeaderSafe)
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let config = Magento2Config::new("m", "https://x.com", "very_secret_token_value");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very_secret"), "{shown}");
        assert!(shown.contains(&config.token_fingerprint()), "{shown}");
    }
}
