//! The daemon's HTTP face: the platforms' webhooks (`POST /webhooks/...`, see `webhooks.rs`),
//! and monitoring from outside without a console: `GET /healthz` (200 when the store answers
//! and the engine runs, else 503 saying why) and `GET /metrics` (OpenMetrics text, which
//! Prometheus scrapes). It listens only when `[webhooks] listen` is set; put the merchant's
//! TLS reverse proxy in front. Per-link figures are read from the same overview the Stores view
//! shows, so the two never differ.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use super::api::Overview;
use super::core::Service;
use super::webhooks::{self, Inbox};

/// OpenMetrics, as `prometheus_client` writes it.
const METRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone)]
struct Face {
    service: Arc<Service>,
    inbox: Arc<Inbox>,
    /// Cancelled once the engine's task has ended.
    engine_stopped: CancellationToken,
}

/// Serves until `stop`; answers the address bound (port 0 picks one).
pub async fn serve(
    listen: SocketAddr,
    service: Arc<Service>,
    inbox: Arc<Inbox>,
    engine_stopped: CancellationToken,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    tokio::spawn({
        let inbox = inbox.clone();
        async move { inbox.learn_shop_ids().await }
    });
    let hooks = Router::new()
        .route("/webhooks/tiktok", post(webhooks::tiktok_route))
        .route("/webhooks/{platform}/{store}", post(webhooks::store_route))
        .with_state(inbox.clone());
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(Face {
            service,
            inbox,
            engine_stopped,
        })
        .merge(hooks);
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::warn!("the HTTP listener stopped: {e}");
        }
    });
    Ok((bound, task))
}

async fn healthz(State(face): State<Face>) -> Response {
    if face.engine_stopped.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the engine is not running\n",
        )
            .into_response();
    }
    match face.service.overview() {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store does not answer: {e}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(face): State<Face>) -> Response {
    let overview = match face.service.overview() {
        Ok(overview) => overview,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the store does not answer: {e}\n"),
            )
                .into_response();
        }
    };
    let engine = face.service.engine.clone();
    match render(
        &overview,
        &face.inbox,
        &engine,
        !face.engine_stopped.is_cancelled(),
    ) {
        Ok(text) => ([(header::CONTENT_TYPE, METRICS_TYPE)], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkLabels {
    link: String,
    platform: String,
}

/// One gauge per link and what it counts.
struct PerLink {
    name: &'static str,
    help: &'static str,
    value: fn(&super::api::LinkHealth) -> i64,
}

const PER_LINK: &[PerLink] = &[
    PerLink {
        name: "orderdeck_orders_pending",
        help: "Paid TikTok orders not in the store yet",
        value: |l| count(l.counts.pending),
    },
    PerLink {
        name: "orderdeck_orders_missing_tracking",
        help: "Seller-shipped orders without tracking past the link's threshold",
        value: |l| count(l.counts.missing_tracking),
    },
    PerLink {
        name: "orderdeck_orders_stuck",
        help: "Orders a person must act on",
        value: |l| count(l.counts.stuck),
    },
    PerLink {
        name: "orderdeck_parcels_after_cancel",
        help: "Parcels the store shipped before TikTok cancelled, not yet marked handled",
        value: |l| count(l.counts.parcels),
    },
    PerLink {
        name: "orderdeck_cancellations_waiting",
        help: "Buyer cancel requests waiting for the seller's answer",
        value: |l| count(l.counts.cancellations_waiting),
    },
    PerLink {
        name: "orderdeck_jobs_queued",
        help: "Jobs ready to run",
        value: |l| count(l.queue_depth),
    },
    PerLink {
        name: "orderdeck_poll_errors_last_hour",
        help: "Failed polls of the link in the last hour",
        value: |l| i64::from(l.errors_last_hour),
    },
    PerLink {
        name: "orderdeck_webhooks_verified",
        help: "Webhooks of the link verified since the daemon started",
        value: |l| l.webhooks.verified.try_into().unwrap_or(i64::MAX),
    },
    PerLink {
        name: "orderdeck_webhooks_refused",
        help: "Webhooks of the link refused (bad signature, malformed) since the daemon started",
        value: |l| l.webhooks.refused.try_into().unwrap_or(i64::MAX),
    },
    PerLink {
        name: "orderdeck_last_good_poll_timestamp_seconds",
        help: "When a poll of the link last succeeded (unix seconds; 0: never)",
        value: |l| l.last_poll_ok.map_or(0, |at| at.timestamp()),
    },
];

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The overview as OpenMetrics text.
fn render(
    overview: &Overview,
    inbox: &Inbox,
    engine: &crate::engine::Engine,
    engine_running: bool,
) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    inbox.register_metrics(&mut registry);
    engine.register_metrics(&mut registry);
    crate::platforms::metrics::register(&mut registry);
    for metric in PER_LINK {
        let family = Family::<LinkLabels, Gauge>::default();
        for link in &overview.links {
            let labels = LinkLabels {
                link: link.link.to_string(),
                platform: link.platform.to_string(),
            };
            family.get_or_create(&labels).set((metric.value)(link));
        }
        registry.register(metric.name, metric.help, family);
    }
    let due = Family::<LinkLabels, Gauge>::default();
    let deadline = engine.now() + chrono::Duration::hours(2);
    for link in &overview.links {
        let labels = LinkLabels {
            link: link.link.to_string(),
            platform: link.platform.to_string(),
        };
        // A store that cannot be read leaves the gauge out rather than saying zero.
        if let Ok(n) = engine
            .store()
            .awaiting_tracking_due_by(&link.link, deadline)
        {
            due.get_or_create(&labels).set(count(n));
        }
    }
    registry.register(
        "orderdeck_orders_awaiting_tracking_due_within_2h",
        "Orders without tracking whose TikTok ship-by deadline passes within 2 hours (or passed)",
        due,
    );
    let running = Gauge::<i64>::default();
    running.set(i64::from(engine_running));
    registry.register(
        "orderdeck_engine_running",
        "1 while the sync engine runs",
        running,
    );
    let requests = Gauge::<i64>::default();
    requests.set(count(overview.pending_requests));
    registry.register(
        "orderdeck_resync_requests_waiting",
        "Resync requests waiting for an operator",
        requests,
    );
    let mut text = String::new();
    encode(&mut text, &registry)?;
    Ok(text)
}
