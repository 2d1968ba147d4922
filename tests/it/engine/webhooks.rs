//! Webhooks as the daemon receives them: verified first, a hint to fetch now (never the truth),
//! deduplicated, counted; whatever they miss the poll catches up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use orderdeck::sandbox::webhooks::{self, Delivery};
use orderdeck::service::webhooks::Inbox;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::engine::support::*;

/// The daemon's HTTP face over this rig, stopped when dropped.
struct Listener {
    base: String,
    stop: CancellationToken,
    http: reqwest::Client,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Listener {
    async fn start(rig: &Rig) -> Listener {
        Listener::start_at(rig, "127.0.0.1:0".parse().unwrap()).await
    }

    async fn start_at(rig: &Rig, listen: SocketAddr) -> Listener {
        let stop = CancellationToken::new();
        let inbox = Inbox::new(rig.engine().clone(), &rig.config);
        let (bound, task): (SocketAddr, _) = orderdeck::service::http::serve(
            listen,
            rig.service().clone(),
            inbox,
            CancellationToken::new(),
            stop.clone(),
        )
        .await
        .expect("listens");
        Listener {
            base: format!("http://{bound}"),
            stop,
            http: reqwest::Client::new(),
            task: Some(task),
        }
    }

    /// Stops listening and lets go of the engine (and so of the store).
    async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    async fn send(&self, delivery: &Delivery) -> u16 {
        delivery
            .send(&self.http, &self.base)
            .await
            .expect("answers")
    }

    /// Announces a 2 MiB body, sends 1 KiB of it and reads the answer: the listener must
    /// answer without waiting for the rest.
    async fn announce_huge_body(&self, path: &str) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self.base.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(address)
            .await
            .expect("connects");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            2 << 20
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&[b' '; 1024]).await.unwrap();
        let mut answer = vec![0; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
            .await
            .expect("answered before the body was sent")
            .unwrap();
        let status = String::from_utf8_lossy(&answer[..read]).to_string();
        status
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    async fn metrics(&self) -> String {
        let answer = self.http.get(format!("{}/metrics", self.base)).send().await;
        answer.expect("answers").text().await.expect("a body")
    }
}

/// TikTok's order status webhook for `order` of shop `shop`, signed with its app's secret.
fn order_changed(rig: &Rig, shop: usize, notification: &str, order: &str) -> Delivery {
    let spec = &rig.set.scenario.shops[shop];
    webhooks::tiktok(
        &spec.app_key,
        &spec.app_secret,
        notification,
        &spec.shop_id,
        1,
        json!({"order_id": order, "order_status": "AWAITING_SHIPMENT", "update_time": now()}),
    )
}

/// The webhook secret of the store shop `shop` is linked to.
fn store_secret(rig: &Rig, shop: usize) -> String {
    let name = rig.store(shop);
    let spec = rig.set.scenario.stores.iter().find(|s| s.name == name);
    spec.expect("a Shopify store").webhook_secret.clone()
}

/// Runs the jobs due now, without polling.
async fn run_jobs(rig: &Rig) {
    let engine: &Arc<orderdeck::engine::Engine> = rig.engine();
    tokio::time::timeout(
        Duration::from_secs(60),
        engine.run_jobs(CancellationToken::new(), Some(Duration::from_secs(2))),
    )
    .await
    .expect("the jobs end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiktok_order_webhook_brings_the_order_into_the_store_without_a_poll() {
    let mut rig = Rig::start().await;
    let listener = Listener::start(&rig).await;
    let id = rig.paid_order(GB);
    let searches = rig.set.tiktok.calls("search_orders");

    let status = listener
        .send(&order_changed(&rig, GB, "n-1", id.as_str()))
        .await;
    assert_eq!(status, 200);
    rig.engine()
        .follow_hints_now(&rig.engine().links()[0].clone())
        .await;
    run_jobs(&rig).await;

    assert_eq!(
        rig.store_orders(GB, &id).len(),
        1,
        "one store order, made now"
    );
    assert_eq!(
        rig.set.tiktok.calls("search_orders"),
        searches,
        "the webhook read that order only: no poll ran"
    );
    let health = rig.engine().hints().counts(&rig.link(GB));
    assert_eq!((health.verified, health.refused), (1, 0));
    assert!(health.last_at.is_some());
    let metrics = listener.metrics().await;
    let line =
        "orderdeck_webhook_deliveries_total{platform=\"tiktok_shop\",verdict=\"verified\"} 1";
    assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_delivery_changes_nothing_and_the_poll_catches_up_what_never_came() {
    let mut rig = Rig::start().await;
    let listener = Listener::start(&rig).await;
    let id = rig.paid_order(GB);
    let link = rig.engine().links()[0].clone();
    let delivery = order_changed(&rig, GB, "n-7", id.as_str());
    assert_eq!(listener.send(&delivery).await, 200);
    rig.engine().follow_hints_now(&link).await;
    let reads = rig.set.tiktok.calls("get_order_detail");

    // TikTok retries a delivery it thinks was lost: answered, and nothing is read again.
    assert_eq!(listener.send(&delivery).await, 200);
    rig.engine().follow_hints_now(&link).await;
    assert_eq!(rig.set.tiktok.calls("get_order_detail"), reads);
    run_jobs(&rig).await;
    assert_eq!(rig.store_orders(GB, &id).len(), 1);

    // An order whose webhook never arrived (the daemon was down) comes with the next poll.
    let missed = rig.paid_order(GB);
    drop(listener);
    rig.sync().await;
    assert_eq!(rig.store_orders(GB, &missed).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_unknown_targets_and_oversized_bodies_are_refused_and_start_no_call() {
    let mut rig = Rig::start().await;
    let listener = Listener::start(&rig).await;
    let id = rig.paid_order(GB);
    let link = rig.engine().links()[0].clone();
    let reads = rig.set.tiktok.calls("get_order_detail");

    let mut forged = order_changed(&rig, GB, "n-2", id.as_str());
    forged.headers[0].1 = "0".repeat(64);
    assert_eq!(listener.send(&forged).await, 401);
    let mut unsigned = forged.clone();
    unsigned.headers.remove(0);
    assert_eq!(listener.send(&unsigned).await, 401);

    let spec = &rig.set.scenario.shops[GB];
    let stranger = webhooks::tiktok(
        &spec.app_key,
        &spec.app_secret,
        "n-3",
        "7000000000000000999",
        1,
        json!({"order_id": id.as_str()}),
    );
    assert_eq!(
        listener.send(&stranger).await,
        404,
        "a shop orderdeck does not run"
    );

    let store = rig.store(GB);
    let secret = store_secret(&rig, GB);
    let nowhere = webhooks::shopify(
        "no-such-store",
        &secret,
        "w-1",
        "orders/updated",
        &json!({}),
    );
    assert_eq!(listener.send(&nowhere).await, 404);
    let wrong_key = webhooks::shopify(
        &store,
        "not-the-secret",
        "w-2",
        "orders/updated",
        &json!({}),
    );
    assert_eq!(listener.send(&wrong_key).await, 401);

    assert_eq!(listener.announce_huge_body("/webhooks/tiktok").await, 413);

    rig.engine().follow_hints_now(&link).await;
    assert_eq!(
        rig.set.tiktok.calls("get_order_detail"),
        reads,
        "nothing was fetched"
    );
    assert!(rig.engine().store().order(&id).unwrap().is_none());
    let health = rig.engine().hints().counts(&rig.link(GB));
    assert_eq!(
        (health.verified, health.refused),
        (0, 1),
        "the store's bad signature"
    );
    let metrics = listener.metrics().await;
    for (platform, verdict, n) in [
        ("tiktok_shop", "bad_signature", 2),
        ("tiktok_shop", "unknown_target", 1),
        ("tiktok_shop", "too_large", 1),
        ("shopify", "unknown_target", 1),
        ("shopify", "bad_signature", 1),
    ] {
        let line = format!(
            "orderdeck_webhook_deliveries_total{{platform=\"{platform}\",verdict=\"{verdict}\"}} {n}"
        );
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopify_fulfillment_webhook_sends_the_tracking_to_tiktok_without_waiting_for_the_poll() {
    let mut rig = Rig::start().await;
    let id = rig.paid_order(GB);
    rig.sync().await;
    let listener = Listener::start(&rig).await;
    rig.fulfil(GB, &id, "RM123456785GB", "Royal Mail Tracked 24");
    let store = rig.store(GB);
    let secret = store_secret(&rig, GB);
    let order = rig.store_order(GB, &id);
    let payload = json!({"id": 1, "order_id": order.id, "status": "success"});
    let delivery = webhooks::shopify(&store, &secret, "w-9", "fulfillments/create", &payload);

    assert_eq!(listener.send(&delivery).await, 200);
    rig.engine()
        .follow_hints_now(&rig.engine().links()[0].clone())
        .await;
    run_jobs(&rig).await;

    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 1);
    let health = rig.engine().hints().counts(&rig.link(GB));
    assert_eq!((health.verified, health.refused), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_serves_on_after_ten_thousand_malformed_requests() {
    let mut rig = Rig::start().await;
    let listener = Arc::new(Listener::start(&rig).await);
    let id = rig.paid_order(GB);
    let mut senders = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let listener = listener.clone();
        senders.spawn(async move {
            for n in 0..1250 {
                let junk = Delivery {
                    path: if n % 2 == 0 {
                        "/webhooks/tiktok".into()
                    } else {
                        "/webhooks/shopify/x".into()
                    },
                    headers: vec![("Authorization".into(), format!("{worker}-{n} not-hex"))],
                    body: vec![0xff, b'{', (n % 256) as u8],
                };
                let status = listener.send(&junk).await;
                assert!(status == 401 || status == 404, "{status}");
            }
        });
    }
    while let Some(done) = senders.join_next().await {
        done.unwrap();
    }
    let status = listener
        .send(&order_changed(&rig, GB, "n-ok", id.as_str()))
        .await;
    assert_eq!(status, 200, "still serving");
    rig.engine()
        .follow_hints_now(&rig.engine().links()[0].clone())
        .await;
    assert!(rig.engine().store().order(&id).unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_webhooks_arrive_the_poll_slows_to_the_configured_interval() {
    let mut rig = Rig::with(Options {
        paths: "[webhooks]\nlisten = \"127.0.0.1:0\"\npoll_interval_while_healthy = \"10m\"".into(),
        ..Options::default()
    })
    .await;
    let link = rig.engine().links()[0].clone();
    assert_eq!(
        rig.engine().poll_wait(&link),
        Duration::from_secs(5),
        "no webhook yet"
    );
    let listener = Listener::start(&rig).await;
    let id = rig.paid_order(GB);
    assert_eq!(
        listener
            .send(&order_changed(&rig, GB, "n-1", id.as_str()))
            .await,
        200
    );
    assert_eq!(rig.engine().poll_wait(&link), Duration::from_secs(600));
}

/// `orderdeck webhooks ACTION --json` with the rig's config (the engine closed meanwhile), as
/// (topic, state) pairs.
async fn webhooks_cli(rig: &mut Rig, action: &str) -> Vec<(String, String)> {
    rig.close();
    let config = rig.config_path.clone();
    let out = rig.cli_ok(&config, &["webhooks", action, "--json"]).await;
    rig.reopen();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON rows");
    rows.iter()
        .map(|r| {
            (
                r["topic"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Waits until the link has counted `n` verified webhooks (the platforms deliver on their own).
async fn verified(rig: &Rig, n: u64) {
    let link = rig.link(GB);
    for _ in 0..200 {
        if rig.engine().hints().counts(&link).verified >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} webhooks were not delivered within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_webhooks_are_delivered_by_the_platforms_and_removed_again() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut rig = Rig::with(Options {
        paths: format!(
            "[webhooks]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\""
        ),
        ..Options::default()
    })
    .await;
    let registered = webhooks_cli(&mut rig, "register").await;
    let created = |state: &str| registered.iter().filter(|(_, s)| s == state).count();
    assert_eq!(
        (created("created"), registered.len()),
        (6, 6),
        "{registered:?}"
    );
    let again = webhooks_cli(&mut rig, "register").await;
    assert!(
        again.iter().all(|(_, s)| s == "kept"),
        "registering twice changes nothing: {again:?}"
    );

    let listener = Listener::start_at(&rig, format!("127.0.0.1:{port}").parse().unwrap()).await;
    let link = rig.engine().links()[0].clone();
    // TikTok tells of a new paid order; the daemon reads it and makes the store order.
    let id = rig.paid_order(GB);
    verified(&rig, 1).await;
    rig.engine().follow_hints_now(&link).await;
    run_jobs(&rig).await;
    assert_eq!(rig.store_orders(GB, &id).len(), 1);
    // The warehouse ships: Shopify tells, the tracking goes to TikTok without a poll.
    let before = rig.engine().hints().counts(&rig.link(GB)).verified;
    rig.fulfil(GB, &id, "RM123456785GB", "Royal Mail Tracked 24");
    verified(&rig, before + 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rig.engine().follow_hints_now(&link).await;
    run_jobs(&rig).await;
    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 1);
    assert_eq!(rig.set.tiktok.calls("search_orders"), 0, "no poll ran");

    listener.stop().await;
    let removed = webhooks_cli(&mut rig, "remove").await;
    assert_eq!(
        removed.iter().filter(|(_, s)| s == "removed").count(),
        6,
        "{removed:?}"
    );
    let left = webhooks_cli(&mut rig, "list").await;
    assert!(left.iter().all(|(_, s)| s != "orderdeck"), "{left:?}");
}
