//! Webhooks as the daemon receives them: verified first, a hint to fetch now (never the truth),
//! deduplicated, counted; whatever they miss the poll catches up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use orderdeck::domain::ids::{LinkId, TiktokOrderId};
use orderdeck::engine::LinkRuntime;
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

/// `orderdeck webhooks ACTION --json [--link L]` with the rig's config (the engine closed
/// meanwhile), as (topic, state) pairs.
async fn webhooks_cli(rig: &mut Rig, action: &str, link: Option<&LinkId>) -> Vec<(String, String)> {
    rig.close();
    let config = rig.config_path.clone();
    let mut args = vec!["webhooks", action, "--json"];
    let link = link.map(ToString::to_string);
    if let Some(link) = &link {
        args.extend(["--link", link.as_str()]);
    }
    let out = rig.cli_ok(&config, &args).await;
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

/// Waits until the link of `shop` has counted `n` verified webhooks (the platforms deliver on
/// their own).
async fn verified(rig: &Rig, shop: usize, n: u64) {
    let link = rig.link(shop);
    for _ in 0..200 {
        if rig.engine().hints().counts(&link).verified >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} webhooks were not delivered within 10 s");
}

/// A free loopback port, and the `[webhooks]` section that listens there and tells the
/// platforms to call it. The port is found below Linux's ephemeral range (32768–60999): the
/// suite's own outgoing connections take their local ports there, and one could take this port
/// between the check and the listener's start.
fn webhooks_section() -> (u16, String) {
    let port = std::iter::repeat_with(|| 20_000 + rand::random::<u16>() % 12_000)
        .take(1_000)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free loopback port below the ephemeral range");
    let section = format!(
        "[webhooks]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\""
    );
    (port, section)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_webhooks_are_delivered_by_the_platforms_and_removed_again() {
    let (port, paths) = webhooks_section();
    let mut rig = Rig::with(Options {
        paths,
        ..Options::default()
    })
    .await;
    let registered = webhooks_cli(&mut rig, "register", None).await;
    let created = |state: &str| registered.iter().filter(|(_, s)| s == state).count();
    assert_eq!(
        (created("created"), registered.len()),
        (6, 6),
        "{registered:?}"
    );
    let again = webhooks_cli(&mut rig, "register", None).await;
    assert!(
        again.iter().all(|(_, s)| s == "kept"),
        "registering twice changes nothing: {again:?}"
    );

    let listener = Listener::start_at(&rig, format!("127.0.0.1:{port}").parse().unwrap()).await;
    let link = rig.engine().links()[0].clone();
    // TikTok tells of a new paid order; the daemon reads it and makes the store order.
    let id = rig.paid_order(GB);
    verified(&rig, GB, 1).await;
    rig.engine().follow_hints_now(&link).await;
    run_jobs(&rig).await;
    assert_eq!(rig.store_orders(GB, &id).len(), 1);
    // The warehouse ships: Shopify tells, the tracking goes to TikTok without a poll.
    let before = rig.engine().hints().counts(&rig.link(GB)).verified;
    rig.fulfil(GB, &id, "RM123456785GB", "Royal Mail Tracked 24");
    verified(&rig, GB, before + 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rig.engine().follow_hints_now(&link).await;
    run_jobs(&rig).await;
    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 1);
    assert_eq!(rig.set.tiktok.calls("search_orders"), 0, "no poll ran");

    listener.stop().await;
    let removed = webhooks_cli(&mut rig, "remove", None).await;
    assert_eq!(
        removed.iter().filter(|(_, s)| s == "removed").count(),
        6,
        "{removed:?}"
    );
    let left = webhooks_cli(&mut rig, "list", None).await;
    assert!(left.iter().all(|(_, s)| s != "orderdeck"), "{left:?}");
}

/// A store platform whose simulated sites take webhook subscriptions and deliver, as these
/// tests drive it: one more US shop, linked to one store of that platform.
#[derive(Debug, Clone, Copy)]
enum StoreKind {
    Woocommerce,
    Bigcommerce,
}

impl StoreKind {
    async fn rig(self, paths: String) -> (Rig, usize) {
        Rig::with_store(Options {
            paths,
            woocommerce: matches!(self, StoreKind::Woocommerce),
            bigcommerce: matches!(self, StoreKind::Bigcommerce),
            ..Options::default()
        })
        .await
    }

    fn store(self, rig: &Rig) -> String {
        match self {
            StoreKind::Woocommerce => rig.set.scenario.woocommerce[0].name.clone(),
            StoreKind::Bigcommerce => rig.set.scenario.bigcommerce[0].name.clone(),
        }
    }

    /// The topics orderdeck subscribes the store to.
    fn topics(self) -> usize {
        match self {
            StoreKind::Woocommerce => 1,
            StoreKind::Bigcommerce => 5,
        }
    }

    /// The subscriptions the store holds.
    fn subscriptions(self, rig: &Rig) -> usize {
        let store = self.store(rig);
        match self {
            StoreKind::Woocommerce => rig.set.woocommerce.webhooks(&store).unwrap().len(),
            StoreKind::Bigcommerce => rig.set.bigcommerce.hooks(&store).unwrap().len(),
        }
    }

    /// The id of the one store order made for `id`.
    fn order_of(self, rig: &Rig, id: &TiktokOrderId) -> u64 {
        let store = self.store(rig);
        let ids: Vec<u64> = match self {
            StoreKind::Woocommerce => {
                let orders = rig.set.woocommerce.orders_for(&store, id.as_str()).unwrap();
                orders.iter().map(|o| o.id).collect()
            }
            StoreKind::Bigcommerce => {
                let orders = rig.set.bigcommerce.orders_for(&store, id.as_str()).unwrap();
                orders.iter().map(|o| o.id).collect()
            }
        };
        assert_eq!(ids.len(), 1, "store orders for {id}: {ids:?}");
        ids[0]
    }

    /// Staff cancel the order in the store's admin.
    fn cancel_in_admin(self, rig: &Rig, order: u64) {
        let store = self.store(rig);
        match self {
            StoreKind::Woocommerce => rig.set.woocommerce.cancel_in_admin(&store, order),
            StoreKind::Bigcommerce => rig.set.bigcommerce.cancel_in_admin(&store, order),
        }
        .expect("cancelled in the admin");
    }

    fn calls(self, rig: &Rig, endpoint: &str) -> u32 {
        let store = self.store(rig);
        match self {
            StoreKind::Woocommerce => rig.set.woocommerce.calls(&store, endpoint),
            StoreKind::Bigcommerce => rig.set.bigcommerce.calls(&store, endpoint),
        }
        .unwrap()
    }

    fn refused(self, rig: &Rig) -> Vec<String> {
        let store = self.store(rig);
        match self {
            StoreKind::Woocommerce => rig.set.woocommerce.refused(&store),
            StoreKind::Bigcommerce => rig.set.bigcommerce.refused(&store),
        }
        .unwrap()
    }
}

fn runtime_of(rig: &Rig, shop: usize) -> Arc<LinkRuntime> {
    let id = rig.link(shop);
    let links = rig.engine().links();
    links
        .iter()
        .find(|l| l.id == id)
        .expect("the shop's link runs")
        .clone()
}

const US_REASON: &str = "seller_cancel_reason_out_of_stock";

/// Registers the store's webhooks twice (one subscription per topic stays), cancels an order in
/// the store's admin, and follows only what the store's delivery hints: the cancel reaches
/// TikTok with no poll. Removing takes the subscriptions away again.
async fn a_store_cancel_arrives_by_webhook_and_reaches_tiktok_without_a_poll(kind: StoreKind) {
    let (port, paths) = webhooks_section();
    let (mut rig, shop) = kind.rig(paths).await;
    let link = rig.link(shop);
    rig.settings(
        shop,
        &[
            ("default_cancel_reason", US_REASON),
            ("cancel_store_to_tiktok", "on"),
        ],
    )
    .await;
    let id = rig.paid_order(shop);
    rig.sync().await;
    let store_order = kind.order_of(&rig, &id);

    let wanted = 2 + kind.topics(); // TikTok's two, and the store's
    let registered = webhooks_cli(&mut rig, "register", Some(&link)).await;
    let created = registered.iter().filter(|(_, s)| s == "created").count();
    assert_eq!(
        (created, registered.len()),
        (wanted, wanted),
        "{registered:?}"
    );
    let again = webhooks_cli(&mut rig, "register", Some(&link)).await;
    assert!(
        again.iter().all(|(_, s)| s == "kept"),
        "registering twice changes nothing: {again:?}"
    );
    assert_eq!(kind.subscriptions(&rig), kind.topics(), "one per topic");

    let listener = Listener::start_at(&rig, format!("127.0.0.1:{port}").parse().unwrap()).await;
    let searches = rig.set.tiktok.calls("search_orders");
    let listed = kind.calls(&rig, "orders.list");
    kind.cancel_in_admin(&rig, store_order);
    // Only hints are followed here: the store's delivery is what sends the engine to the store.
    let runtime = runtime_of(&rig, shop);
    let cancelled_on_tiktok =
        || rig.set.tiktok.order_status(id.as_str()).as_deref() == Some("CANCELLED");
    for _ in 0..100 {
        rig.engine().follow_hints_now(&runtime).await;
        run_jobs(&rig).await;
        if cancelled_on_tiktok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cancelled_on_tiktok(), "the store cancel reached TikTok");
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 1);
    assert_eq!(
        rig.set.tiktok.calls("search_orders"),
        searches,
        "no poll ran"
    );
    assert_eq!(
        kind.calls(&rig, "orders.list"),
        listed,
        "the delivery named its order, which was read alone: the store's changes were not listed"
    );
    assert!(kind.refused(&rig).is_empty(), "{:?}", kind.refused(&rig));

    listener.stop().await;
    let removed = webhooks_cli(&mut rig, "remove", Some(&link)).await;
    let gone = removed.iter().filter(|(_, s)| s == "removed").count();
    assert_eq!(gone, wanted, "{removed:?}");
    assert_eq!(kind.subscriptions(&rig), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bigcommerce_cancel_arrives_by_webhook_and_reaches_tiktok_without_a_poll() {
    a_store_cancel_arrives_by_webhook_and_reaches_tiktok_without_a_poll(StoreKind::Bigcommerce)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woocommerce_cancel_arrives_by_webhook_and_reaches_tiktok_without_a_poll() {
    a_store_cancel_arrives_by_webhook_and_reaches_tiktok_without_a_poll(StoreKind::Woocommerce)
        .await;
}

/// WooCommerce does not retry a delivery: after 5 failed in a row (the listener was down) it
/// disables the webhook, which then sends nothing. `webhooks list` says so, and `register`
/// replaces it rather than calling it kept; deliveries then flow again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_woocommerce_switched_off_is_listed_so_and_renewed_by_register() {
    let kind = StoreKind::Woocommerce;
    let (port, paths) = webhooks_section();
    let (mut rig, shop) = kind.rig(paths).await;
    let link = rig.link(shop);
    let id = rig.paid_order(shop);
    rig.sync().await;
    let order = kind.order_of(&rig, &id);
    let store = kind.store(&rig);
    webhooks_cli(&mut rig, "register", Some(&link)).await;
    let status = || {
        rig.set.woocommerce.webhooks(&store).unwrap()[0]
            .status
            .clone()
    };

    // Nothing listens yet: each save's delivery fails.
    for save in 0..60 {
        if status() == "disabled" {
            break;
        }
        let next = if save % 2 == 0 {
            "on-hold"
        } else {
            "processing"
        };
        rig.set.woocommerce.set_status(&store, order, next).unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status(), "disabled", "after 5 failed deliveries");
    let listed = webhooks_cli(&mut rig, "list", Some(&link)).await;
    assert!(
        listed.contains(&(
            "order.updated".to_string(),
            "orderdeck, switched off".to_string()
        )),
        "{listed:?}"
    );

    let renewed = webhooks_cli(&mut rig, "register", Some(&link)).await;
    assert!(
        renewed.contains(&(
            "order.updated".to_string(),
            "renewed (it was switched off)".to_string()
        )),
        "{renewed:?}"
    );
    let hooks = rig.set.woocommerce.webhooks(&store).unwrap();
    assert_eq!(
        hooks.len(),
        1,
        "the switched-off webhook was replaced, not doubled"
    );
    assert_eq!(hooks[0].status, "active");

    let _listener = Listener::start_at(&rig, format!("127.0.0.1:{port}").parse().unwrap()).await;
    let before = rig.engine().hints().counts(&link).verified;
    rig.set
        .woocommerce
        .set_status(&store, order, "on-hold")
        .unwrap();
    verified(&rig, shop, before + 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_stale_bigcommerce_delivery_is_refused_and_starts_no_call() {
    let kind = StoreKind::Bigcommerce;
    let (mut rig, shop) = kind.rig(String::new()).await;
    let listener = Listener::start(&rig).await;
    let id = rig.paid_order(shop);
    rig.sync().await;
    let store = kind.store(&rig);
    let secret = rig.set.scenario.bigcommerce[0].client_secret.clone();
    let order = kind.order_of(&rig, &id);
    let payload = json!({
        "scope": "store/order/statusUpdated", "store_id": "1001", "hash": "0f1e",
        "data": {"type": "order", "id": order, "status": {"previous_status_id": 11, "new_status_id": 5}},
        "created_at": now(), "producer": format!("stores/{store}"),
    });
    let runtime = runtime_of(&rig, shop);
    // The order the delivery names is read by itself (`orders.get`), or with the store's
    // changes (`orders.list`).
    let reads = || {
        ["orders.get", "orders.list"]
            .iter()
            .map(|endpoint| rig.set.bigcommerce.calls(&store, endpoint).unwrap())
            .sum::<u32>()
    };
    let before = reads();

    let forged = webhooks::bigcommerce(&store, "not-the-client-secret", "msg_1", now(), &payload);
    assert_eq!(listener.send(&forged).await, 401);
    let stale = webhooks::bigcommerce(&store, &secret, "msg_2", now() - 600, &payload);
    assert_eq!(
        listener.send(&stale).await,
        401,
        "a replay from ten minutes ago"
    );
    let mut unsigned = webhooks::bigcommerce(&store, &secret, "msg_3", now(), &payload);
    unsigned
        .headers
        .retain(|(name, _)| name != "webhook-signature");
    assert_eq!(listener.send(&unsigned).await, 401);
    rig.engine().follow_hints_now(&runtime).await;
    assert_eq!(reads(), before, "nothing unverified reached the store");

    let genuine = webhooks::bigcommerce(&store, &secret, "msg_4", now(), &payload);
    assert_eq!(listener.send(&genuine).await, 200);
    rig.engine().follow_hints_now(&runtime).await;
    let after = reads();
    assert!(
        after > before,
        "the genuine delivery sent the engine to the store"
    );
    assert_eq!(listener.send(&genuine).await, 200, "BigCommerce's retry");
    rig.engine().follow_hints_now(&runtime).await;
    assert_eq!(reads(), after, "a retried delivery changes nothing");

    let health = rig.engine().hints().counts(&rig.link(shop));
    assert_eq!((health.verified, health.refused), (2, 3));
    let metrics = listener.metrics().await;
    for (verdict, n) in [("bad_signature", 3), ("verified", 1), ("duplicate", 1)] {
        let line = format!(
            "orderdeck_webhook_deliveries_total{{platform=\"bigcommerce\",verdict=\"{verdict}\"}} {n}"
        );
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_platforms_all_take_their_subscriptions_and_magento_stays_polled() {
    let (_, paths) = webhooks_section();
    let mut rig = Rig::with(Options {
        shops: 1,
        paths,
        woocommerce: true,
        magento: true,
        bigcommerce: true,
        ..Options::default()
    })
    .await;
    rig.close();
    let config = rig.config_path.clone();
    let out = rig
        .cli_ok(&config, &["webhooks", "register", "--json"])
        .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON rows");
    let states = |platform: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["platform"] == platform)
            .map(|r| r["state"].as_str().unwrap().to_string())
            .collect()
    };
    // Four shops (the GB one, and one per added store), two TikTok topics each.
    assert_eq!(states("tiktok_shop"), vec!["created"; 8], "{out}");
    assert_eq!(states("shopify"), vec!["created"; 4], "{out}");
    assert_eq!(states("woocommerce"), vec!["created"; 1], "{out}");
    assert_eq!(states("bigcommerce"), vec!["created"; 5], "{out}");
    assert_eq!(
        states("magento2"),
        vec!["polled (no webhooks to register)"],
        "{out}"
    );
}
