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
    let mut due_soon = rig.new_order(GB);
    due_soon.rts_sla_time = now() + 3600;
    rig.add(&due_soon);
    let mut due_later = rig.new_order(GB);
    due_later.rts_sla_time = now() + 3 * 3600;
    rig.add(&due_later);
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
    // What happened since the start: two orders imported, each job done once, and the calls they
    // took (process-wide: other tests' calls count too, so only their presence is certain).
    for line in [
        format!("orderdeck_orders_imported_total{{link=\"{link}\"}} 2"),
        "orderdeck_jobs_total{kind=\"import\",outcome=\"done\"} 2".to_string(),
        "orderdeck_job_seconds_count{kind=\"import\"} 2".to_string(),
        // Neither has tracking; only one is due to ship within two hours.
        format!(
            "orderdeck_orders_awaiting_tracking_due_within_2h{{link=\"{link}\",platform=\"Shopify\"}} 1"
        ),
    ] {
        assert!(body.lines().any(|l| l == line), "{line} in:\n{body}");
    }
    for prefix in [
        "orderdeck_platform_calls_total{platform=\"shopify\",class=\"2xx\"} ",
        "orderdeck_platform_calls_total{platform=\"tiktok_shop\",class=\"2xx\"} ",
        "orderdeck_webhook_to_commit_seconds_count ",
    ] {
        assert!(
            body.lines().any(|l| l.starts_with(prefix)),
            "{prefix} in:\n{body}"
        );
    }
    assert!(body.ends_with("# EOF\n"), "{body}");
    // Every metric the shipped alert rules use is one the daemon serves.
    let rules = include_str!("../../../docs/prometheus/orderdeck-alerts.yml");
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("orderdeck_") {
            let served = format!("# TYPE {} ", word.trim_end_matches("_total"));
            assert!(body.contains(&served), "{word} (alert rules) in:\n{body}");
        }
    }
    let (status, _, _) = scrape(&rig, "/nothing", true).await;
    assert_eq!(status, 404);
}
