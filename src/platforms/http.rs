//! The HTTP plumbing every platform client shares: one `reqwest` client per platform account,
//! with timeouts (reqwest has none by default), a user agent, a tracing span per call with
//! secrets kept out, and the transport half of outcome classification. Platform-specific
//! classification (envelopes, error codes, GraphQL errors) lives with each client.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tracing::Instrument;

use super::error::{ErrorClass, PlatformError};
use crate::domain::platform::Platform;

pub const USER_AGENT: &str = concat!("orderdeck/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

/// Installs ring as the process's rustls provider (reqwest is built without one). Idempotent.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client for one platform account.
pub fn build_client(timeouts: Timeouts) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
}

/// What a call does to remote state: a lost answer to a write is `Ambiguous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Read,
    Write,
}

impl CallKind {
    /// What a lost, failed or unreadable answer means: a write may have run (read back before
    /// trying again); a read is retried, after `after` when the platform said.
    pub fn unknown_outcome(self, after: Option<Duration>) -> ErrorClass {
        match self {
            CallKind::Write => ErrorClass::Ambiguous,
            CallKind::Read => ErrorClass::RetryLater { after },
        }
    }
}

/// A response whose body has been read completely.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `request` and reads the whole body. Transport failures are classified here: nothing
/// sent (connect failed) is always safe to retry; a timeout or a connection lost after sending
/// is `Ambiguous` for a write and `RetryLater` for a read.
pub async fn send(
    client: &reqwest::Client,
    request: reqwest::Request,
    platform: Platform,
    operation: &'static str,
    effect: CallKind,
) -> Result<RawResponse, PlatformError> {
    let span = tracing::debug_span!("platform_call", %platform, operation, method = %request.method(), path = request.url().path());
    let started = std::time::Instant::now();
    let outcome = async {
        let response = client.execute(request).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>(RawResponse {
            status,
            headers,
            body,
        })
    }
    // `instrument`, not `enter`: a guard held across `.await` would leave the span entered on
    // whichever thread the task was suspended on. After the last `.await` entering is safe.
    .instrument(span.clone())
    .await;
    let _in_span = span.enter();
    super::metrics::call(platform, outcome.as_ref().ok().map(|raw| raw.status));
    match outcome {
        Ok(raw) => {
            tracing::debug!(
                status = raw.status,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "answered"
            );
            Ok(raw)
        }
        Err(err) => {
            let class = transport_class(&err, effect);
            tracing::debug!(
                ?class,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "transport failure"
            );
            Err(PlatformError::new(
                platform,
                operation,
                class,
                describe_transport(&err),
            ))
        }
    }
}

fn transport_class(err: &reqwest::Error, effect: CallKind) -> ErrorClass {
    if err.is_connect() || err.is_builder() {
        // Nothing reached the platform.
        return ErrorClass::RetryLater { after: None };
    }
    effect.unknown_outcome(None)
}

/// A message without the URL: query strings carry signatures and app keys.
fn describe_transport(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "timed out waiting for the platform"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "connection lost while reading the answer"
    } else {
        "connection failed"
    };
    let mut source = std::error::Error::source(err);
    let mut detail = None;
    while let Some(s) = source {
        detail = Some(s.to_string());
        source = s.source();
    }
    match detail {
        Some(detail) => format!("{what} ({detail})"),
        None => what.to_string(),
    }
}

/// Classification of a plain HTTP status when the body says nothing more specific.
pub fn status_class(
    status: u16,
    effect: CallKind,
    retry_after: Option<Duration>,
) -> Option<ErrorClass> {
    match status {
        200..=299 => None,
        401 => Some(ErrorClass::RefreshCredentials),
        429 | 503 => Some(ErrorClass::RetryLater { after: retry_after }),
        500..=599 if effect == CallKind::Write => Some(ErrorClass::Ambiguous),
        500..=599 => Some(ErrorClass::RetryLater { after: retry_after }),
        _ => Some(ErrorClass::Permanent),
    }
}

/// `Retry-After` in seconds, when a platform sends it.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        use ErrorClass::*;
        let table = [
            (200, CallKind::Write, None),
            (401, CallKind::Read, Some(RefreshCredentials)),
            (429, CallKind::Write, Some(RetryLater { after: None })),
            (503, CallKind::Read, Some(RetryLater { after: None })),
            (500, CallKind::Write, Some(Ambiguous)),
            (502, CallKind::Read, Some(RetryLater { after: None })),
            (404, CallKind::Read, Some(Permanent)),
        ];
        for (status, effect, expected) in table {
            assert_eq!(
                status_class(status, effect, None),
                expected,
                "{status} {effect:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_bounded() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "2.5".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(2500)));
        h.insert(reqwest::header::RETRY_AFTER, "99999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3600)));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
