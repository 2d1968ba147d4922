//! One REST round trip to a BigCommerce store: build the route under `/stores/{hash}/`, send
//! `X-Auth-Token`, `Accept: application/json` (and `Content-Type: application/json` with a
//! body: both are required header parameters), pass through the store's [`Gate`], classify the
//! answer.
//!
//! A 429 with `X-Rate-Limit-Time-Reset-Ms` closes the gate for every request to the store and
//! the request is sent again once it opens (BigCommerce did nothing with it, so even a write is
//! safe to repeat), at most [`MAX_THROTTLED`] times before it is handed back as `RetryLater`.
//! A 429 without the headers is platform load: handed back at once.
//!
//! Invariant: the token never leaves this module except in the sensitive header.

use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderValue};
use serde_json::Value;

use super::classify::{self, Call};
use super::config::{BigcommerceConfig, ConfigError};
use super::gate::{Gate, Limits};
use crate::domain::platform::Platform;
use crate::platforms::error::PlatformError;
use crate::platforms::http::{self, RawResponse};

/// 429s one request waits out before giving up (each is a full pause of the store).
pub const MAX_THROTTLED: u32 = 3;

/// A classified successful answer: its JSON (`None` for 204), and the raw response.
#[derive(Debug)]
pub struct Answer {
    pub body: Option<Value>,
    pub raw: RawResponse,
}

pub struct Transport {
    http: reqwest::Client,
    /// `{api_base}/stores/{hash}/`.
    root: reqwest::Url,
    token: HeaderValue,
    gate: Gate,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("root", &self.root.as_str())
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(http: reqwest::Client, config: &BigcommerceConfig) -> Result<Self, ConfigError> {
        let root = config.store_root()?;
        let mut token = HeaderValue::from_str(config.access_token.trim())
            .map_err(|_| ConfigError::NotHeaderSafe)?;
        token.set_sensitive(true);
        Ok(Transport {
            http,
            root,
            token,
            gate: Gate::default(),
        })
    }

    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Calls `route` (below `/stores/{hash}/`, e.g. `v2/orders/12`) with `query` and an
    /// optional JSON body.
    pub async fn call(
        &self,
        call: Call,
        method: Method,
        route: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, PlatformError> {
        let mut throttled = 0;
        loop {
            let permit = self.gate.acquire().await;
            let request = self.build(call, method.clone(), route, query, body)?;
            let raw = http::send(
                &self.http,
                request,
                Platform::Bigcommerce,
                call.operation,
                call.effect,
            )
            .await?;
            let limits = Limits::read(&raw.headers);
            if raw.status == 429 {
                if let Some(reset) = limits.reset {
                    self.gate.throttled(permit, reset, limits);
                    throttled += 1;
                    tracing::info!(
                        operation = call.operation,
                        reset_ms = reset.as_millis() as u64,
                        "store quota spent: every request to the store waits for the reset"
                    );
                    if throttled <= MAX_THROTTLED {
                        continue;
                    }
                } else {
                    self.gate.observe(permit, limits);
                }
            } else {
                self.gate.observe(permit, limits);
            }
            let body = classify::classify(&raw, call)?;
            return Ok(Answer { body, raw });
        }
    }

    fn build(
        &self,
        call: Call,
        method: Method,
        route: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<reqwest::Request, PlatformError> {
        let url = call.url(&self.root, route, query)?;
        let builder = self
            .http
            .request(method, url)
            .header("X-Auth-Token", self.token.clone())
            .header(ACCEPT, "application/json");
        call.request(builder, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::CONTENT_TYPE;

    #[test]
    fn requests_carry_the_token_and_the_json_headers() {
        crate::platforms::http::install_crypto_provider();
        let config = BigcommerceConfig::new("https://api.bigcommerce.com", "abc", "tok_1");
        let t = Transport::new(reqwest::Client::new(), &config).unwrap();
        let call = Call::read(Platform::Bigcommerce, "list_orders");
        let request = t
            .build(
                call,
                Method::GET,
                "v2/orders",
                &[("external_order_id", "5764 1".into())],
                None,
            )
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "https://api.bigcommerce.com/stores/abc/v2/orders?external_order_id=5764+1"
        );
        let token = request.headers().get("x-auth-token").unwrap();
        assert!(token.is_sensitive());
        assert_eq!(token.to_str().unwrap(), "tok_1");
        assert_eq!(request.headers()[ACCEPT], "application/json");
        assert!(request.headers().get(CONTENT_TYPE).is_none());
        let put = t
            .build(
                call,
                Method::PUT,
                "v2/orders/7",
                &[],
                Some(&serde_json::json!({"status_id": 5})),
            )
            .unwrap();
        assert_eq!(put.headers()[CONTENT_TYPE], "application/json");
        assert!(!format!("{t:?}").contains("tok_1"));
    }
}
