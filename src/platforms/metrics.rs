//! What the platform clients count for `/metrics`: every call by platform and status class
//! (counted in `http::send`, which every call passes through), and the waits the clients' own
//! rate limiters impose before a call. Process-wide, as the clients' connection pools are.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::domain::platform::Platform;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    platform: &'static str,
    /// `2xx`, `4xx`, `429`, `5xx`, or `transport` (no HTTP answer).
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabel {
    platform: &'static str,
}

#[derive(Default)]
struct PlatformMetrics {
    calls: Family<CallLabels, Counter>,
    waits: Family<PlatformLabel, Counter>,
    waited_seconds: Family<PlatformLabel, Counter<f64>>,
}

static METRICS: LazyLock<PlatformMetrics> = LazyLock::new(PlatformMetrics::default);

/// Counts one call: `status` is the HTTP status, `None` when no answer came.
pub fn call(platform: Platform, status: Option<u16>) {
    let class = match status {
        None => "transport",
        Some(429) => "429",
        Some(200..=299) => "2xx",
        Some(500..=599) => "5xx",
        Some(_) => "4xx",
    };
    let labels = CallLabels {
        platform: platform.config_name(),
        class,
    };
    METRICS.calls.get_or_create(&labels).inc();
}

/// Counts a wait a client's rate limiter imposed before a call.
pub fn rate_limit_wait(platform: Platform, waited: Duration) {
    if waited.is_zero() {
        return;
    }
    let labels = PlatformLabel {
        platform: platform.config_name(),
    };
    METRICS.waits.get_or_create(&labels).inc();
    METRICS
        .waited_seconds
        .get_or_create(&labels)
        .inc_by(waited.as_secs_f64());
}

pub fn register(registry: &mut Registry) {
    registry.register(
        "orderdeck_platform_calls",
        "Calls to the platforms by status class (transport: no answer)",
        METRICS.calls.clone(),
    );
    registry.register(
        "orderdeck_rate_limit_waits",
        "Times a client waited for a platform's rate limit before calling",
        METRICS.waits.clone(),
    );
    registry.register(
        "orderdeck_rate_limit_wait_seconds",
        "Seconds spent waiting for platforms' rate limits",
        METRICS.waited_seconds.clone(),
    );
}
