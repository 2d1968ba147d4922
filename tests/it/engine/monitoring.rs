//! The daemon's HTTP face: `/healthz` says whether the sync runs, `/metrics` counts per link
//! what the Stores view shows, in the OpenMetrics text Prometheus scrapes.

use crate::engine::support::*;

/// `GET path` from the HTTP face over this rig's service, with the engine running or not:
/// (status, content type, body).
pub async fn scrape(rig: &Rig, path: &str, engine_running: bool) -> (u16, String, String) {
    let stop = tokio_util::sync::CancellationToken::new();
    let engine_stopped = tokio_util::sync::CancellationToken::new();
    if !engine_running {
        engine_stopped.cancel();
    }
    let (bound, task) = orderdeck::service::http::serve(
        "127.0.0.1:0".parse().unwrap(),
        rig.service().clone(),
        orderdeck::service::webhooks::Inbox::new(rig.engine().clone(), &rig.config),
        engine_stopped,
        stop.clone(),
    )
    .await
    .expect("listens");
    let answer = reqwest::get(format!("http://{bound}{path}"))
        .await
        .expect("answers");
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = answer.text().await.expect("a body");
    stop.cancel();
    task.await.unwrap();
    (status, kind, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_whether_the_engine_runs_and_metrics_count_per_link() {
    let mut rig = Rig::start().await;
    rig.paid_order(GB);
    rig.sync().await;

    let (status, _, body) = scrape(&rig, "/healthz", true).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _, body) = scrape(&rig, "/healthz", false).await;
    assert_eq!(status, 503);
    assert!(body.contains("the engine is not running"), "{body}");

    let (status, kind, body) = scrape(&rig, "/metrics", true).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let link = rig.link(GB);
    for (name, value) in [
        ("orderdeck_orders_stuck", "0"),
        ("orderdeck_parcels_after_cancel", "0"),
        ("orderdeck_orders_pending", "0"),
    ] {
        let line = format!("{name}{{link=\"{link}\",platform=\"Shopify\"}} {value}");
        assert!(body.lines().any(|l| l == line), "{line} in:\n{body}");
    }
    assert!(body.contains("orderdeck_engine_running 1"), "{body}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    let (status, _, _) = scrape(&rig, "/nothing", true).await;
    assert_eq!(status, 404);
}
