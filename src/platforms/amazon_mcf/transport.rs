//! One Selling Partner API round trip: a Login with Amazon access token (cached and renewed a
//! minute before `expires_in` runs out, and once more when Amazon calls it expired or invalid),
//! the operation's rate-limit token, `x-amz-access-token`, JSON bodies, classification.
//!
//! Invariants: the client secret and the refresh token only travel in the token request's
//! body; the access token only in its header (marked sensitive); no URL or token is logged.
//! Token renewals are serialized, so a burst of calls after expiry makes one token request.

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use super::classify::{self, Call};
use super::config::{AmazonMcfConfig, ConfigError};
use super::pace::Pacer;
use crate::domain::platform::Platform;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, RawResponse};

/// Renew this long before Amazon's expiry, so no call leaves with a token about to lapse.
const RENEW_AHEAD: Duration = Duration::from_secs(60);
/// The header Amazon announces an operation's rate in.
const RATE_HEADER: &str = "x-amzn-ratelimit-limit";
const TOKEN: Call = Call::read(Platform::AmazonMcf, "lwaToken");

/// A classified successful answer: its JSON, and the raw response for headers.
#[derive(Debug)]
pub struct Answer {
    pub body: Value,
    pub raw: RawResponse,
}

struct Cached {
    header: HeaderValue,
    renew_at: Instant,
    /// Counts tokens obtained: a call that saw token N refused renews only if N is current.
    generation: u64,
}

pub struct Transport {
    http: reqwest::Client,
    /// The Selling Partner API host, ending in `/`.
    root: reqwest::Url,
    token_url: reqwest::Url,
    store: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
    token: tokio::sync::Mutex<Option<Cached>>,
    pacer: Pacer,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("root", &self.root.as_str())
            .field("store", &self.store)
            .field("pacer", &self.pacer)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(http: reqwest::Client, config: &AmazonMcfConfig) -> Result<Self, ConfigError> {
        let (root, token_url) = config.checked()?;
        Ok(Transport {
            http,
            root,
            token_url,
            store: config.store.clone(),
            client_id: config.client_id.trim().to_string(),
            client_secret: config.client_secret.trim().to_string(),
            refresh_token: config.refresh_token.trim().to_string(),
            token: tokio::sync::Mutex::new(None),
            pacer: Pacer::new(config.rate, config.burst),
        })
    }

    /// Calls `route` (below the host, e.g. `fba/outbound/2020-07-01/fulfillmentOrders`).
    pub async fn call(
        &self,
        call: Call,
        method: Method,
        route: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, PlatformError> {
        let mut refused = None;
        loop {
            let (token, generation) = self.access_token(refused).await?;
            self.pacer.ready(call.operation).await;
            let request = self.build(call, method.clone(), route, query, body, token)?;
            let raw = http::send(
                &self.http,
                request,
                Platform::AmazonMcf,
                call.operation,
                call.effect,
            )
            .await?;
            if (200..300).contains(&raw.status) {
                self.pacer
                    .announced(call.operation, raw.header(RATE_HEADER));
            }
            match classify::classify(&raw, call, &self.store, || {
                self.pacer.throttled(call.operation)
            }) {
                Ok(body) => return Ok(Answer { body, raw }),
                // A refused token did nothing: a write is safe to repeat with a new one.
                Err(e) if e.class == ErrorClass::RefreshCredentials && refused.is_none() => {
                    tracing::debug!(store = %self.store, "Amazon refused the access token; renewing once");
                    refused = Some(generation);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn build(
        &self,
        call: Call,
        method: Method,
        route: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        token: HeaderValue,
    ) -> Result<reqwest::Request, PlatformError> {
        let url = call.url(&self.root, route, query)?;
        let builder = self
            .http
            .request(method, url)
            .header("x-amz-access-token", token)
            .header(reqwest::header::ACCEPT, "application/json");
        call.request(builder, body)
    }

    /// The cached access token and its generation, or a new one when it is about to lapse or
    /// Amazon refused generation `refused` (unless another call has renewed it since).
    async fn access_token(
        &self,
        refused: Option<u64>,
    ) -> Result<(HeaderValue, u64), PlatformError> {
        let mut cached = self.token.lock().await;
        let mut generation = 0;
        if let Some(token) = cached.as_ref() {
            generation = token.generation;
            let fresh = token.renew_at > Instant::now();
            if fresh && refused != Some(token.generation) {
                return Ok((token.header.clone(), token.generation));
            }
        }
        let (header, expires_in) = self.request_token().await?;
        let generation = generation + 1;
        *cached = Some(Cached {
            header: header.clone(),
            renew_at: Instant::now() + expires_in.saturating_sub(RENEW_AHEAD),
            generation,
        });
        Ok((header, generation))
    }

    /// `POST /auth/o2/token` with the refresh-token grant.
    async fn request_token(&self) -> Result<(HeaderValue, Duration), PlatformError> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", &self.refresh_token)
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", &self.client_secret)
            .finish();
        let request = self
            .http
            .post(self.token_url.clone())
            .header(
                CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(form)
            .build()
            .map_err(|e| {
                PlatformError::new(
                    Platform::AmazonMcf,
                    TOKEN.operation,
                    ErrorClass::Permanent,
                    format!("could not build the token request: {e}"),
                )
            })?;
        let raw = http::send(
            &self.http,
            request,
            Platform::AmazonMcf,
            TOKEN.operation,
            TOKEN.effect,
        )
        .await?;
        read_token(&raw, &self.store)
    }
}

/// Login with Amazon's answer: the access token as a sensitive header value and its lifetime,
/// or why there is none, worded for the person who fixes it.
pub fn read_token(
    raw: &RawResponse,
    store: &str,
) -> Result<(HeaderValue, Duration), PlatformError> {
    let body: Option<Value> = serde_json::from_slice(&raw.body).ok();
    let field = |name: &str| {
        body.as_ref()
            .and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if !(200..300).contains(&raw.status) {
        let code = field("error");
        let said = field("error_description").unwrap_or_else(|| "no detail".into());
        let (class, advice) = match (raw.status, code.as_deref()) {
            (400, Some("invalid_grant")) => (
                ErrorClass::RefreshCredentials,
                "the seller's authorization ended: authorize the app again in Seller Central and put the new refresh_token in orderdeck.toml",
            ),
            (400 | 401, Some("invalid_client")) => (
                ErrorClass::RefreshCredentials,
                "check lwa_client_id and lwa_client_secret in orderdeck.toml",
            ),
            (429 | 500..=599, _) => (ErrorClass::RetryLater { after: None }, "will try again"),
            _ => (
                ErrorClass::Permanent,
                "check the store's auth_base and credentials in orderdeck.toml",
            ),
        };
        let error = TOKEN.error(
            class,
            format!(
                "Login with Amazon gave store {store} no access token (HTTP {}: {said}): {advice}",
                raw.status
            ),
            raw,
        );
        return Err(match code {
            Some(code) => error.with_code(code),
            None => error,
        });
    }
    let token = field("access_token").filter(|t| !t.is_empty());
    let expires_in = body
        .as_ref()
        .and_then(|b| b.get("expires_in"))
        .and_then(Value::as_u64);
    let (Some(token), Some(expires_in)) = (token, expires_in) else {
        return Err(TOKEN.error(
            ErrorClass::RetryLater { after: None },
            format!("Login with Amazon answered store {store} without access_token and expires_in"),
            raw,
        ));
    };
    let mut header = HeaderValue::from_str(&token).map_err(|_| {
        TOKEN.error(
            ErrorClass::Permanent,
            "Login with Amazon answered an access token that cannot go in a header",
            raw,
        )
    })?;
    header.set_sensitive(true);
    Ok((header, Duration::from_secs(expires_in)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn a_token_answer_gives_a_sensitive_header_and_its_lifetime() {
        let (header, life) = read_token(
            &raw(
                200,
                r#"{"access_token":"Atza|abc","refresh_token":"Atzr|x","token_type":"bearer","expires_in":3600}"#,
            ),
            "us-amazon",
        )
        .unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().unwrap(), "Atza|abc");
        assert_eq!(life, Duration::from_secs(3600));
    }

    #[test]
    fn token_errors_name_the_store_and_what_to_fix() {
        let err = read_token(
            &raw(
                400,
                r#"{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}"#,
            ),
            "us-amazon",
        )
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::RefreshCredentials);
        assert_eq!(err.code.as_deref(), Some("invalid_grant"));
        assert!(err.message.contains("us-amazon"), "{}", err.message);
        assert!(
            err.message.contains("authorize the app again"),
            "{}",
            err.message
        );
        let err = read_token(
            &raw(
                401,
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
            ),
            "us-amazon",
        )
        .unwrap_err();
        assert!(err.message.contains("lwa_client_secret"), "{}", err.message);
        let err = read_token(&raw(503, "<html>"), "us-amazon").unwrap_err();
        assert_eq!(err.class, ErrorClass::RetryLater { after: None });
        let err = read_token(&raw(200, r#"{"token_type":"bearer"}"#), "s").unwrap_err();
        assert_eq!(err.class, ErrorClass::RetryLater { after: None });
    }
}
