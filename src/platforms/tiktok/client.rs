//! The client of one TikTok shop: configuration, and the one path every API call takes —
//! pace, sign, send, read the envelope, classify, and on an expired token refresh once and
//! retry once.
//!
//! Invariants: a JSON body is serialized once and the same bytes are signed and sent; values
//! are signed decoded and percent-encoded only on the wire; `shop_cipher` goes to shop-scoped
//! calls and never to `/authorization/*`; the app secret, tokens, `sign` and query strings
//! never reach a log or an error message; at most one token refresh runs at a time.

use std::sync::{Arc, RwLock};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use tracing::Instrument;

use super::auth::{AppCredentials, TiktokAuth};
use super::envelope::{Answer, error, interpret};
use super::pacer::Pacer;
use super::sign::sign_request;
use super::wire;
use crate::domain::Clock;
use crate::domain::platform::Platform;
use crate::domain::text;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, CallKind, Timeouts};
use crate::platforms::{Tokens, Window};

pub const API_HOST: &str = "https://open-api.tiktokglobalshop.com";
pub const AUTH_HOST: &str = "https://auth.tiktok-shops.com";

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (so `+` and `/` in
/// page tokens survive servers that read `+` as a space).
pub(super) const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One shop's connection. Debug output never shows the app secret or the tokens.
#[derive(Debug, Clone)]
pub struct TiktokConfig {
    pub app: AppCredentials,
    pub tokens: Tokens,
    /// TikTok's shop id, to pick the shop when one authorization covers several.
    pub shop_id: Option<String>,
    /// Discovered with Get Authorized Shops on first use when not configured.
    pub shop_cipher: Option<String>,
    /// The shop's region (`GB`, `US`, `ID`...): decides how packages are marked shipped.
    pub region: String,
    pub api_base: String,
    pub auth_base: String,
    pub timeouts: Timeouts,
}

impl TiktokConfig {
    /// A configuration against TikTok's production hosts.
    pub fn new(app: AppCredentials, tokens: Tokens, region: impl Into<String>) -> Self {
        TiktokConfig {
            app,
            tokens,
            shop_id: None,
            shop_cipher: None,
            region: region.into(),
            api_base: API_HOST.to_string(),
            auth_base: AUTH_HOST.to_string(),
            timeouts: Timeouts::default(),
        }
    }
}

/// TikTok Shop for one shop. Share it (`Arc`) between tasks: pacing and token refresh are
/// coordinated inside.
pub struct TiktokClient {
    pub(super) http: reqwest::Client,
    pub(super) auth: TiktokAuth,
    pub(super) region: String,
    pub(super) shop_id: Option<String>,
    api_base: String,
    tokens: RwLock<Tokens>,
    pub(super) shop_cipher: tokio::sync::OnceCell<String>,
    /// The shop's TikTok id (webhooks name shops by it): configured or learned once.
    pub(super) learned_shop_id: tokio::sync::OnceCell<String>,
    refresh_gate: tokio::sync::Mutex<()>,
    pacer: Pacer,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TiktokClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TiktokClient")
            .field("app_key", &self.auth.app_key())
            .field("region", &self.region)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// One API call, before signing. Paths are kept twice: decoded for the signature, encoded for
/// the wire; `api` (the path template) names the API for pacing and logs.
#[derive(Debug)]
pub(super) struct Call {
    pub operation: &'static str,
    pub api: &'static str,
    pub method: Method,
    pub signed_path: String,
    pub wire_path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    pub effect: CallKind,
}

impl Call {
    /// `api` is the path with `{}` where each of `params` goes.
    pub fn new(
        operation: &'static str,
        method: Method,
        api: &'static str,
        params: &[&str],
    ) -> Self {
        let (mut signed_path, mut wire_path) = (String::new(), String::new());
        let mut params = params.iter();
        for (i, piece) in api.split("{}").enumerate() {
            if i > 0 {
                let value = params.next().copied().unwrap_or_default();
                signed_path.push_str(value);
                wire_path.extend(utf8_percent_encode(value, ENCODE));
            }
            signed_path.push_str(piece);
            wire_path.push_str(piece);
        }
        let effect = if method == Method::GET {
            CallKind::Read
        } else {
            CallKind::Write
        };
        Call {
            operation,
            api,
            method,
            signed_path,
            wire_path,
            query: Vec::new(),
            body: None,
            effect,
        }
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// A POST that only reads (the search endpoints).
    pub fn read_only(mut self) -> Self {
        self.effect = CallKind::Read;
        self
    }

    /// A search POST: one page of `page_size` items updated in `window`, oldest first,
    /// continuing from `page_token` when there is one.
    pub fn window_search(
        operation: &'static str,
        api: &'static str,
        page_size: usize,
        window: Window,
        page_token: Option<String>,
    ) -> Self {
        let mut call = Call::new(operation, Method::POST, api, &[])
            .read_only()
            .query("page_size", page_size.to_string())
            .query("sort_field", "update_time")
            .query("sort_order", "ASC");
        if let Some(token) = page_token.filter(|t| !t.is_empty()) {
            call = call.query("page_token", token);
        }
        call.json(&wire::TimeWindow {
            update_time_ge: window.from.timestamp(),
            update_time_lt: window.to.timestamp(),
        })
    }

    pub fn json(mut self, body: &impl Serialize) -> Self {
        #[expect(
            clippy::expect_used,
            reason = "the bodies are plain structs of strings and numbers: serializing cannot fail"
        )]
        let bytes = serde_json::to_vec(body).expect("request bodies serialize");
        self.body = Some(bytes);
        self
    }
}

impl TiktokClient {
    pub fn new(config: TiktokConfig, clock: Arc<dyn Clock>) -> Result<Self, PlatformError> {
        let http = http::build_client(config.timeouts).map_err(|_| {
            PlatformError::new(
                Platform::TiktokShop,
                "build_client",
                ErrorClass::Permanent,
                "could not build the HTTP client (TLS setup)",
            )
        })?;
        let shop_cipher = tokio::sync::OnceCell::new_with(config.shop_cipher);
        Ok(TiktokClient {
            auth: TiktokAuth::with_http(http.clone(), config.app, config.auth_base, clock.clone()),
            http,
            region: config.region,
            shop_id: config.shop_id,
            api_base: config.api_base.trim_end_matches('/').to_string(),
            tokens: RwLock::new(config.tokens),
            shop_cipher,
            learned_shop_id: tokio::sync::OnceCell::new(),
            refresh_gate: tokio::sync::Mutex::new(()),
            pacer: Pacer::default(),
            clock,
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub(super) fn current_tokens(&self) -> Tokens {
        self.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn access_token(&self) -> String {
        self.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .access_token
            .clone()
    }

    pub(super) fn set_tokens(&self, tokens: Tokens) {
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = tokens;
    }

    /// Refreshes with the current refresh token and keeps the new tokens.
    pub(super) async fn refresh_now(&self) -> Result<Tokens, PlatformError> {
        let _one_at_a_time = self.refresh_gate.lock().await;
        self.refresh_locked().await
    }

    async fn refresh_locked(&self) -> Result<Tokens, PlatformError> {
        let refresh_token = self.current_tokens().refresh_token;
        let grant = self.auth.refresh(&refresh_token).await?;
        self.set_tokens(grant.tokens.clone());
        Ok(grant.tokens)
    }

    /// A shop-scoped call (sends `shop_cipher`, discovering it first if needed).
    pub(super) async fn call(&self, call: Call) -> Result<Answer, PlatformError> {
        let cipher = self.shop_cipher().await?;
        self.call_with(call, Some(cipher)).await
    }

    /// Sends `call`; on `RefreshCredentials` refreshes once (unless another task already did)
    /// and retries once. A second refusal is returned as it is.
    pub(super) async fn call_with(
        &self,
        call: Call,
        cipher: Option<&str>,
    ) -> Result<Answer, PlatformError> {
        let token = self.access_token();
        match self.attempt(&call, cipher, &token).await {
            Err(e) if e.class == ErrorClass::RefreshCredentials => {
                self.refresh_unless_done(&token).await?;
                self.attempt(&call, cipher, &self.access_token()).await
            }
            outcome => outcome,
        }
    }

    async fn refresh_unless_done(&self, rejected_token: &str) -> Result<(), PlatformError> {
        let _one_at_a_time = self.refresh_gate.lock().await;
        if self.access_token() != rejected_token {
            return Ok(());
        }
        self.refresh_locked().await.map(|_| ())
    }

    async fn attempt(
        &self,
        call: &Call,
        cipher: Option<&str>,
        token: &str,
    ) -> Result<Answer, PlatformError> {
        self.pacer.wait(call.api).await;
        let request = self.signed_request(call, cipher, token)?;
        let span = tracing::info_span!(
            "tiktok_call",
            operation = call.operation,
            api = call.api,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let outcome = self
            .send_and_read(call, request)
            .instrument(span.clone())
            .await;
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        if let Err(e) = &outcome
            && (e.http_status == Some(429) || e.code.as_deref() == Some("36009002"))
        {
            let pause = self.pacer.back_off(call.api);
            let pause_ms = pause.as_millis() as u64;
            tracing::warn!(parent: &span, pause_ms, "rate limited despite pacing; backing off");
        }
        outcome
    }

    /// Sends and reads the envelope, noting status and `request_id` on the current span.
    async fn send_and_read(
        &self,
        call: &Call,
        request: reqwest::Request,
    ) -> Result<Answer, PlatformError> {
        let (operation, effect) = (call.operation, call.effect);
        let raw = http::send(&self.http, request, Platform::TiktokShop, operation, effect).await?;
        let span = tracing::Span::current();
        span.record("status", raw.status);
        let outcome = interpret(&raw, operation, effect);
        let request_id = match &outcome {
            Ok(answer) => answer.request_id.as_deref(),
            Err(e) => e.request_id.as_deref(),
        };
        span.record("request_id", text::sanitize(request_id.unwrap_or_default()));
        if let Err(e) = &outcome {
            let code = e.code.as_deref().unwrap_or_default();
            tracing::warn!(class = ?e.class, code, "TikTok refused the call");
        }
        outcome
    }

    fn signed_request(
        &self,
        call: &Call,
        cipher: Option<&str>,
        token: &str,
    ) -> Result<reqwest::Request, PlatformError> {
        let timestamp = self.clock.now().timestamp().to_string();
        let mut params: Vec<(&str, &str)> =
            vec![("app_key", self.auth.app_key()), ("timestamp", &timestamp)];
        if let Some(cipher) = cipher {
            params.push(("shop_cipher", cipher));
        }
        params.extend(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        let sign = sign_request(
            self.auth.app_secret(),
            &call.signed_path,
            &params,
            call.body.as_deref(),
        );
        let mut url = format!("{}{}?", self.api_base, call.wire_path);
        for (key, value) in &params {
            url.push_str(key);
            url.push('=');
            url.extend(utf8_percent_encode(value, ENCODE));
            url.push('&');
        }
        url.push_str("sign=");
        url.push_str(&sign);
        let mut builder = self
            .http
            .request(call.method.clone(), url)
            .header("x-tts-access-token", token)
            .header(CONTENT_TYPE, "application/json");
        if let Some(body) = &call.body {
            builder = builder.body(body.clone());
        }
        builder.build().map_err(|_| {
            // reqwest's message would quote the URL, which holds the signature.
            error(
                call.operation,
                ErrorClass::Permanent,
                "could not build the request (check api_base in the configuration)",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_signed_decoded_and_sent_encoded() {
        let call = Call::new(
            "x",
            Method::GET,
            "/fulfillment/202309/packages/{}/shipping_documents",
            &["a/b c"],
        );
        assert_eq!(
            call.signed_path,
            "/fulfillment/202309/packages/a/b c/shipping_documents"
        );
        assert_eq!(
            call.wire_path,
            "/fulfillment/202309/packages/a%2Fb%20c/shipping_documents"
        );
        assert_eq!(call.effect, CallKind::Read);
        let search = Call::new("s", Method::POST, "/order/202309/orders/search", &[]).read_only();
        assert_eq!(search.effect, CallKind::Read);
        assert_eq!(
            Call::new("w", Method::POST, "/a", &[]).effect,
            CallKind::Write
        );
    }
}
