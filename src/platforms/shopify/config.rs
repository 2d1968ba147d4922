//! How to reach one Shopify store: shop domain, Admin API access token, pinned API version,
//! an optional base URL (the sandbox, a proxy) and timeouts.
//!
//! Invariants: the token never appears in `Debug` output or errors (only a short SHA-256
//! fingerprint does); the shop domain is a plain host name, so it can never smuggle a path or a
//! query into the endpoint URL; the API version is a real `YYYY-MM` release no older than
//! 2024-10, the first one with `orderCreate`.

use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::platforms::http::Timeouts;

/// The version orderdeck is written and tested against.
pub const DEFAULT_API_VERSION: ApiVersion = ApiVersion {
    year: 2025,
    month: 10,
};

/// `orderCreate` exists from 2024-10 on.
const OLDEST_SUPPORTED: ApiVersion = ApiVersion {
    year: 2024,
    month: 10,
};

/// From 2025-07 `orderCancel(refund:)` is deprecated in favour of `refundMethod`.
const REFUND_METHOD_SINCE: ApiVersion = ApiVersion {
    year: 2025,
    month: 7,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("shop domain {0:?} is not a host name like example.myshopify.com")]
    ShopDomain(String),
    #[error("the Shopify access token is empty")]
    EmptyToken,
    #[error("API version {0:?} is not a Shopify release like 2025-10")]
    VersionFormat(String),
    #[error("API version {0} is older than 2024-10, the first with orderCreate")]
    VersionTooOld(ApiVersion),
    #[error("api_base {0:?} is not an http(s) URL without query or fragment")]
    ApiBase(String),
}

/// A Shopify API release (`2025-10`). Releases are quarterly: January, April, July, October.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    year: u16,
    month: u8,
}

impl ApiVersion {
    pub fn parse(text: &str) -> Result<ApiVersion, ConfigError> {
        let bad = || ConfigError::VersionFormat(crate::domain::text::sanitize(text));
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: u16 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        if !matches!(month, 1 | 4 | 7 | 10) {
            return Err(bad());
        }
        let version = ApiVersion { year, month };
        if version < OLDEST_SUPPORTED {
            return Err(ConfigError::VersionTooOld(version));
        }
        Ok(version)
    }

    /// Whether `orderCancel` takes `refundMethod` (and deprecates the boolean `refund`).
    pub fn has_cancel_refund_method(self) -> bool {
        self >= REFUND_METHOD_SINCE
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The connection settings of one store.
#[derive(Clone)]
pub struct ShopifyConfig {
    /// `example.myshopify.com`.
    pub shop_domain: String,
    /// Admin API access token (`shpat_…`). Secret.
    pub access_token: String,
    pub api_version: ApiVersion,
    /// Replaces `https://{shop_domain}` (the sandbox, a recording proxy).
    pub api_base: Option<String>,
    pub timeouts: Timeouts,
    /// How long `cancel_order` keeps re-reading the order for Shopify's asynchronous cancel job
    /// before answering `Ambiguous` ("accepted, not yet applied").
    pub cancel_confirm_within: Duration,
}

impl ShopifyConfig {
    pub fn new(shop_domain: impl Into<String>, access_token: impl Into<String>) -> Self {
        ShopifyConfig {
            shop_domain: shop_domain.into(),
            access_token: access_token.into(),
            api_version: DEFAULT_API_VERSION,
            api_base: None,
            timeouts: Timeouts::default(),
            cancel_confirm_within: Duration::from_secs(10),
        }
    }

    /// The GraphQL endpoint, after checking every part that goes into it.
    pub fn endpoint(&self) -> Result<reqwest::Url, ConfigError> {
        if !is_host_name(&self.shop_domain) {
            return Err(ConfigError::ShopDomain(crate::domain::text::sanitize(
                &self.shop_domain,
            )));
        }
        if self.access_token.trim().is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        let base = match &self.api_base {
            Some(base) => base.trim_end_matches('/').to_string(),
            None => format!("https://{}", self.shop_domain),
        };
        let bad_base = || ConfigError::ApiBase(crate::domain::text::sanitize(&base));
        let url = reqwest::Url::parse(&format!(
            "{base}/admin/api/{}/graphql.json",
            self.api_version
        ))
        .map_err(|_| bad_base())?;
        if !matches!(url.scheme(), "http" | "https")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(bad_base());
        }
        Ok(url)
    }

    /// First 8 hex digits of SHA-256(token): enough to tell tokens apart, useless to an attacker.
    pub fn token_fingerprint(&self) -> String {
        let digest = Sha256::digest(self.access_token.as_bytes());
        hex::encode(&digest[..4])
    }
}

impl fmt::Debug for ShopifyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopifyConfig")
            .field("shop_domain", &self.shop_domain)
            .field(
                "access_token",
                &format_args!("<fingerprint {}>", self.token_fingerprint()),
            )
            .field("api_version", &format_args!("{}", self.api_version))
            .field("api_base", &self.api_base)
            .field("timeouts", &self.timeouts)
            .field("cancel_confirm_within", &self.cancel_confirm_within)
            .finish()
    }
}

/// A DNS host name: labels of letters, digits and inner hyphens.
fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(ApiVersion::parse("2025-10").unwrap(), DEFAULT_API_VERSION);
        assert_eq!(ApiVersion::parse("2024-10").unwrap().to_string(), "2024-10");
        assert!(
            !ApiVersion::parse("2025-04")
                .unwrap()
                .has_cancel_refund_method()
        );
        assert!(
            ApiVersion::parse("2025-07")
                .unwrap()
                .has_cancel_refund_method()
        );
        for bad in ["2025-13", "2025-05", "25-10", "latest", "2025-1", ""] {
            assert!(
                matches!(ApiVersion::parse(bad), Err(ConfigError::VersionFormat(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            ApiVersion::parse("2024-07"),
            Err(ConfigError::VersionTooOld(_))
        ));
    }

    #[test]
    fn endpoint_is_built_from_checked_parts() {
        let mut config = ShopifyConfig::new("demo.myshopify.com", "shpat_secret");
        assert_eq!(
            config.endpoint().unwrap().as_str(),
            "https://demo.myshopify.com/admin/api/2025-10/graphql.json"
        );
        config.api_base = Some("http://127.0.0.1:4000/demo.myshopify.com/".into());
        assert_eq!(
            config.endpoint().unwrap().as_str(),
            "http://127.0.0.1:4000/demo.myshopify.com/admin/api/2025-10/graphql.json"
        );
        for domain in ["evil.com/x?", "a..b", "-a.com", "", "a b.com"] {
            let config = ShopifyConfig::new(domain, "t");
            assert!(
                matches!(config.endpoint(), Err(ConfigError::ShopDomain(_))),
                "{domain}"
            );
        }
        let mut config = ShopifyConfig::new("demo.myshopify.com", "t");
        config.api_base = Some("ftp://example.com".into());
        assert!(matches!(config.endpoint(), Err(ConfigError::ApiBase(_))));
        assert_eq!(
            ShopifyConfig::new("demo.myshopify.com", " ").endpoint(),
            Err(ConfigError::EmptyToken)
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let config = ShopifyConfig::new("demo.myshopify.com", "shpat_very_secret_value");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very_secret"), "{shown}");
        assert!(shown.contains(&config.token_fingerprint()), "{shown}");
        assert_eq!(config.token_fingerprint().len(), 8);
    }
}
