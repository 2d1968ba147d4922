//! One GraphQL round trip to a store: wait for the cost bucket, POST `{"query", "variables"}`
//! with the access token, feed `extensions.cost` back to the pacer, classify the answer.
//!
//! Invariants: the token header is marked sensitive (never printed by `Debug` or traces); the
//! pacer sees the cost of every answer that carries one, throttled or not, so its model never
//! drifts; a request lost in transit keeps its debit (Shopify may have charged it).

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use crate::domain::platform::Platform;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, RawResponse};
use crate::platforms::shopify::classify::{self, Call};
use crate::platforms::shopify::throttle::{BucketSnapshot, CostKey, CostPacer};

const TOKEN_HEADER: &str = "X-Shopify-Access-Token";

/// A classified successful answer: its `data`, and the raw response for the request id.
#[derive(Debug)]
pub struct Answer {
    pub data: Value,
    pub raw: RawResponse,
}

impl Answer {
    /// `data[key]` as an object, or the failure to read it.
    pub fn root(&self, key: &str, call: Call) -> Result<&Value, PlatformError> {
        match self.data.get(key) {
            Some(value @ Value::Object(_)) => Ok(value),
            _ => Err(classify::unreadable(
                call,
                &self.raw,
                &format!("Shopify answered without {key}"),
            )),
        }
    }
}

pub struct Transport {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    token: HeaderValue,
    pacer: CostPacer,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("endpoint", &self.endpoint.as_str())
            .field("pacer", &self.pacer)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(
        http: reqwest::Client,
        endpoint: reqwest::Url,
        mut token: HeaderValue,
        max_pacing_wait: Duration,
    ) -> Transport {
        token.set_sensitive(true);
        Transport {
            http,
            endpoint,
            token,
            pacer: CostPacer::new(max_pacing_wait),
        }
    }

    pub fn bucket(&self) -> Option<BucketSnapshot> {
        self.pacer.snapshot()
    }

    pub async fn execute(
        &self,
        call: Call,
        key: CostKey,
        document: &str,
        variables: Value,
    ) -> Result<Answer, PlatformError> {
        let queued = tokio::time::Instant::now();
        let permit = self.pacer.admit(key).await.map_err(|wait| {
            PlatformError::new(
                Platform::Shopify,
                call.operation,
                ErrorClass::RetryLater { after: Some(wait) },
                format!(
                    "the store's API cost bucket needs {:.1}s to refill; not sent",
                    wait.as_secs_f64()
                ),
            )
            .with_code("THROTTLED")
        })?;
        let waited = queued.elapsed();
        if !waited.is_zero() {
            tracing::debug!(
                operation = call.operation,
                waited_ms = waited.as_millis() as u64,
                "paced by the store's cost bucket"
            );
        }
        let request = self
            .http
            .post(self.endpoint.clone())
            .header(TOKEN_HEADER, self.token.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(json!({ "query": document, "variables": variables }).to_string())
            .build()
            .map_err(|e| {
                PlatformError::new(
                    Platform::Shopify,
                    call.operation,
                    ErrorClass::Permanent,
                    format!("could not build the request: {e}"),
                )
            })?;
        let raw = http::send(
            &self.http,
            request,
            Platform::Shopify,
            call.operation,
            call.effect,
        )
        .await?;
        let body: Option<Value> = serde_json::from_slice(&raw.body).ok();
        match body.as_ref().and_then(classify::query_cost) {
            Some(cost) => permit.observe(&cost),
            None => drop(permit),
        }
        let data = classify::classify(&raw, body.as_ref(), call)?;
        Ok(Answer { data, raw })
    }
}
