//! How to reach one seller's Amazon Multi-Channel Fulfillment: the Selling Partner API host of
//! the link's region, the Login with Amazon host, the LWA app credentials and refresh token, the
//! marketplace and the pacing Amazon publishes (2 requests/second, burst 30, per operation: `shared/platforms/amazon-mcf.md`).
//!
//! Invariants: the client secret and the refresh token never appear in `Debug` output or errors
//! (only short SHA-256 fingerprints do); both hosts are http(s) URLs without query or fragment,
//! so nothing can be smuggled into the routes built on them.

use std::fmt;

use crate::platforms::http::Timeouts;
use crate::platforms::rest;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the {0} URL {1:?} is not an http(s) URL without query or fragment")]
    Url(&'static str, String),
    #[error("the Amazon {0} is empty")]
    Empty(&'static str),
    #[error("the Amazon {0} contains characters not allowed in an HTTP request")]
    NotPlain(&'static str),
    #[error("the pacing needs a rate above 0 requests/second and a burst of at least 1")]
    Pacing,
}

/// Amazon's published default for every operation orderdeck uses: 2 requests/second.
pub const DEFAULT_RATE: f64 = 2.0;
/// Amazon's published default burst for those operations.
pub const DEFAULT_BURST: u32 = 30;

/// The connection settings of one Amazon MCF store.
#[derive(Clone)]
pub struct AmazonMcfConfig {
    /// The `[[stores]]` name, in every error that needs a person.
    pub store: String,
    /// `https://sellingpartnerapi-na.amazon.com` (a sandbox: `http://127.0.0.1:PORT/amazon`).
    pub api_base: String,
    /// `https://api.amazon.com` (a sandbox stands in for it too).
    pub auth_base: String,
    /// `amzn1.application-oa2-client.…`: not secret alone, kept out of logs all the same.
    pub client_id: String,
    pub client_secret: String,
    /// `Atzr|…`: does not expire unless the seller revokes the app.
    pub refresh_token: String,
    /// `marketplaceId` of every order (US: `ATVPDKIKX0DER`).
    pub marketplace_id: String,
    pub timeouts: Timeouts,
    /// Requests per second per operation, until Amazon's `x-amzn-RateLimit-Limit` says otherwise.
    pub rate: f64,
    pub burst: u32,
}

impl AmazonMcfConfig {
    pub fn new(
        store: impl Into<String>,
        api_base: impl Into<String>,
        auth_base: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
        marketplace_id: impl Into<String>,
    ) -> Self {
        AmazonMcfConfig {
            store: store.into(),
            api_base: api_base.into(),
            auth_base: auth_base.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
            marketplace_id: marketplace_id.into(),
            timeouts: Timeouts::default(),
            rate: DEFAULT_RATE,
            burst: DEFAULT_BURST,
        }
    }

    /// Checks every part that goes into a request; answers (API root, token URL).
    pub fn checked(&self) -> Result<(reqwest::Url, reqwest::Url), ConfigError> {
        for (what, value) in [
            ("LWA client id", &self.client_id),
            ("LWA client secret", &self.client_secret),
            ("refresh token", &self.refresh_token),
            ("marketplace id", &self.marketplace_id),
        ] {
            let value = value.trim();
            if value.is_empty() {
                return Err(ConfigError::Empty(what));
            }
            if !value.chars().all(|c| c.is_ascii_graphic()) {
                return Err(ConfigError::NotPlain(what));
            }
        }
        if !(self.rate.is_finite() && self.rate > 0.0) || self.burst == 0 {
            return Err(ConfigError::Pacing);
        }
        let api = base_url("Selling Partner API", &self.api_base)?;
        let auth = base_url("Login with Amazon", &self.auth_base)?;
        let token = auth
            .join("auth/o2/token")
            .map_err(|_| ConfigError::Url("Login with Amazon", self.auth_base.clone()))?;
        Ok((api, token))
    }

    /// First 8 hex digits of SHA-256(secret): tells credentials apart, useless to an attacker.
    pub fn secret_fingerprint(&self) -> String {
        rest::fingerprint(&self.client_secret)
    }
}

/// `base` with a trailing slash, so routes join below it (a sandbox serves under a path).
fn base_url(what: &'static str, base: &str) -> Result<reqwest::Url, ConfigError> {
    rest::api_root(base, "").map_err(|base| ConfigError::Url(what, base))
}

impl fmt::Debug for AmazonMcfConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmazonMcfConfig")
            .field("store", &self.store)
            .field("api_base", &self.api_base)
            .field("auth_base", &self.auth_base)
            .field(
                "client_secret",
                &format_args!("<fingerprint {}>", self.secret_fingerprint()),
            )
            .field("marketplace_id", &self.marketplace_id)
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(api: &str) -> AmazonMcfConfig {
        AmazonMcfConfig::new(
            "us-amazon",
            api,
            "https://api.amazon.com",
            "amzn1.application-oa2-client.abc",
            "very-secret-value",
            "Atzr|refresh-secret",
            "ATVPDKIKX0DER",
        )
    }

    #[test]
    fn hosts_are_checked_and_routes_join_below_them() {
        let (api, token) = config("http://127.0.0.1:9/amazon").checked().unwrap();
        assert_eq!(api.as_str(), "http://127.0.0.1:9/amazon/");
        assert_eq!(token.as_str(), "https://api.amazon.com/auth/o2/token");
        for bad in ["ftp://x.com", "https://x.com/?a=1", "x.com"] {
            assert!(
                matches!(config(bad).checked(), Err(ConfigError::Url(..))),
                "{bad}"
            );
        }
        let mut empty = config("https://sellingpartnerapi-na.amazon.com");
        empty.refresh_token = " ".into();
        assert_eq!(empty.checked(), Err(ConfigError::Empty("refresh token")));
        let mut fast = config("https://sellingpartnerapi-na.amazon.com");
        fast.rate = 0.0;
        assert_eq!(fast.checked(), Err(ConfigError::Pacing));
    }

    #[test]
    fn debug_never_shows_the_secrets() {
        let config = config("https://sellingpartnerapi-na.amazon.com");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("refresh-secret"), "{shown}");
        assert!(shown.contains(&config.secret_fingerprint()), "{shown}");
    }
}
