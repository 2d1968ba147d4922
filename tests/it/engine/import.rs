//! Import: paid orders only, one TikTok order → exactly one store order (also after another
//! sync and after orderdeck's store is lost), unknown and ambiguous SKUs stuck with the reason,
//! and `import_orders` off recorded as skipped.

use orderdeck::domain::job::JobState;
use orderdeck::domain::order::{FlowStatus, OrderStatus};
use orderdeck::domain::triage::OrderView;

use crate::engine::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_paid_orders_are_imported_and_on_hold_ones_once_released() {
    let mut rig = Rig::start().await;
    let mut unpaid = rig.new_order(GB);
    unpaid.status = "UNPAID".into();
    unpaid.paid_time = None;
    let unpaid = rig.add(&unpaid);
    let mut on_hold = rig.new_order(GB);
    on_hold.status = "ON_HOLD".into();
    let on_hold = rig.add(&on_hold);
    let paid = rig.paid_order(GB);

    let summary = rig.sync().await;
    assert!(summary.poll_errors.is_empty(), "{summary:?}");

    let store = rig.store_order(GB, &paid);
    assert_eq!(store.financial_status, "PAID");
    assert!(store.tags.iter().any(|t| t == "TikTok Shop"), "{store:?}");
    assert_eq!(store.lines.len(), 1);
    assert_eq!(store.lines[0].sku, KNOWN_SKU);
    let order = rig.order(&paid);
    assert!(is_done(&order.flows.import.status), "{:?}", order.flows);
    assert_eq!(
        order.store.as_ref().and_then(|s| s.name.clone()),
        Some(store.name.clone())
    );

    for (id, words) in [(&unpaid, "UNPAID"), (&on_hold, "ON_HOLD")] {
        assert!(
            rig.store_orders(GB, id).is_empty(),
            "{id} reached the store"
        );
        let status = rig.order(id).flows.import.status;
        assert!(
            matches!(&status, FlowStatus::Waiting { why } if why.contains(words)),
            "{id}: {status:?}"
        );
    }
    let pending = rig.view(OrderView::Pending).await;
    let reasons: Vec<(&str, &str)> = pending
        .iter()
        .map(|r| (r.id.as_str(), r.why.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (unpaid.as_str(), "waiting: UNPAID"),
            (on_hold.as_str(), "waiting: ON_HOLD (buyer-remorse window)"),
        ]
    );

    // TikTok releases the order after the buyer-remorse window.
    rig.set
        .tiktok
        .set_order_status(on_hold.as_str(), "AWAITING_SHIPMENT");
    rig.sync().await;
    let store = rig.store_order(GB, &on_hold);
    assert!(
        store.shipping_address["address1"]
            .as_str()
            .is_some_and(|a| !a.is_empty()),
        "the address TikTok hid while ON_HOLD reaches the store: {:?}",
        store.shipping_address
    );
    assert!(is_done(&rig.order(&on_hold).flows.import.status));
    assert!(rig.store_orders(GB, &unpaid).is_empty());
    assert_eq!(rig.order(&unpaid).tiktok.status, OrderStatus::Unpaid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tiktok_order_makes_one_store_order_even_after_orderdecks_store_is_lost() {
    let mut rig = Rig::start().await;
    let id = rig.paid_order(GB);
    rig.sync().await;
    rig.sync().await;
    assert_eq!(rig.store_orders(GB, &id).len(), 1);

    rig.wipe_store();
    rig.sync().await;
    let found = rig.store_orders(GB, &id);
    assert_eq!(found.len(), 1, "{found:#?}");
    let order = rig.order(&id);
    assert!(is_done(&order.flows.import.status), "{:?}", order.flows);
    assert_eq!(
        order.store.as_ref().map(|s| s.order_id.as_str()),
        Some(found[0].id.as_str())
    );
    // The importer read the store back by sourceIdentifier instead of creating again.
    assert_eq!(
        rig.set
            .shopify
            .calls(&rig.store(GB), "orderCreate")
            .unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_ambiguous_skus_are_stuck_with_the_reason() {
    let mut rig = Rig::start().await;
    let mut ghost = rig.new_order(GB);
    set_lines(&mut ghost, &[KNOWN_SKU, GHOST_SKU]);
    let ghost = rig.add(&ghost);
    let mut dup = rig.new_order(GB);
    set_lines(&mut dup, &[DUP_SKU]);
    let dup = rig.add(&dup);
    rig.sync().await;

    let store = rig.store(GB);
    let expected = [
        (
            &ghost,
            format!("SKU {GHOST_SKU} has no variant in store {store}"),
        ),
        (
            &dup,
            format!("SKU {DUP_SKU} matches 2 variants in store {store}: make the SKU unique there"),
        ),
    ];
    for (id, reason) in &expected {
        assert!(rig.store_orders(GB, id).is_empty());
        let status = rig.order(id).flows.import.status;
        assert_eq!(
            status,
            FlowStatus::Stuck {
                reason: reason.clone()
            },
            "{id}"
        );
    }
    assert_eq!(rig.set.shopify.calls(&store, "orderCreate").unwrap(), 0);

    let stuck = rig.view(OrderView::Stuck).await;
    for (id, reason) in &expected {
        let row = stuck
            .iter()
            .find(|r| &r.id == *id)
            .unwrap_or_else(|| panic!("{id} is not on the stuck list: {stuck:#?}"));
        assert_eq!(row.why, format!("import: {reason}"));
        assert_eq!(row.flows[0], "stuck");
    }
    // Stuck stays stuck: another sync does not try again on its own.
    rig.sync().await;
    assert_eq!(rig.set.shopify.calls(&store, "orderCreate").unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_off_records_the_order_as_skipped_with_why() {
    let mut rig = Rig::start().await;
    rig.settings(GB, &[("import_orders", "off")]).await;
    let id = rig.paid_order(GB);
    rig.sync().await;

    assert!(rig.store_orders(GB, &id).is_empty());
    assert_eq!(
        rig.order(&id).flows.import.status,
        FlowStatus::Skipped {
            why: "import_orders is off for this link".into()
        }
    );
    let pending = rig.view(OrderView::Pending).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].why,
        "skipped: import_orders is off for this link"
    );

    // Turning it back on reconsiders the skipped order.
    rig.settings(GB, &[("import_orders", "on")]).await;
    rig.sync().await;
    rig.store_order(GB, &id);
    assert!(is_done(&rig.order(&id).flows.import.status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_asked_for_while_the_daemon_runs_never_runs_a_job_twice() {
    let mut rig = Rig::start().await;
    // A Plus bucket: two pollers and thirty creates at once would otherwise be paced for seconds.
    rig.set
        .shopify
        .set_bucket(
            &rig.store(GB),
            orderdeck::sandbox::shopify::BucketLimits {
                maximum_available: 10_000.0,
                restore_rate: 500.0,
            },
        )
        .unwrap();
    let ids: Vec<_> = (0..30).map(|_| rig.paid_order(GB)).collect();
    // The daemon's loop, and an operator's "sync now" (or a timer's `sync --once`) at once.
    let stop = tokio_util::sync::CancellationToken::new();
    let daemon = tokio::spawn(rig.engine().clone().run(stop.clone()));
    // Every create fails once (not applied), so both runners wait for the same retry times.
    rig.set.shopify.faults().inject(
        "orderCreate",
        orderdeck::sandbox::faults::FaultKind::ServerError,
        30,
    );
    rig.sync().await;
    rig.sync().await;
    stop.cancel();
    daemon.await.unwrap();
    for id in &ids {
        assert_eq!(rig.store_orders(GB, id).len(), 1, "{id}");
    }
    assert_eq!(
        rig.set
            .shopify
            .calls(&rig.store(GB), "orderCreate")
            .unwrap(),
        60
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_a_link_removed_from_the_config_are_parked_with_why_and_others_run() {
    let mut rig = Rig::with(Options {
        shops: 2,
        ..Options::default()
    })
    .await;
    let kept = rig.paid_order(0);
    let orphaned = rig.paid_order(1);
    // Both imports are queued; then the second link leaves orderdeck.toml.
    for link in rig.engine().links().to_vec() {
        rig.engine().poll_link(&link).await;
    }
    let removed = rig.link(1);
    rig.config.links.retain(|l| l.name != removed);
    rig.reopen();
    rig.sync().await;

    assert!(is_done(&rig.order(&kept).flows.import.status));
    let jobs = rig.engine().store().jobs_of(&orphaned).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(
        matches!(&jobs[0].state, JobState::Stuck { reason } if reason == &format!("link {removed} is no longer in orderdeck.toml")),
        "{:?}",
        jobs[0].state
    );
    assert!(rig.store_orders(1, &orphaned).is_empty());
}

/// A store that numbered orders before orderdeck came (the demo's preloaded history) numbers
/// the orders orderdeck creates after those, on each platform that numbers its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_with_a_past_number_new_orders_after_it() {
    let mut rig = Rig::with(Options {
        shops: 1,
        woocommerce: true,
        bigcommerce: true,
        history: 500,
        ..Options::default()
    })
    .await;
    let shops = rig.set.scenario.shops.len();
    let ids: Vec<_> = (0..shops).map(|shop| rig.paid_order(shop)).collect();
    rig.sync().await;
    let numbers: Vec<String> = ids
        .iter()
        .map(|id| {
            let store = rig.order(id).store.expect("imported");
            store.name.expect("the store numbered it")
        })
        .collect();
    for number in &numbers {
        let n: u64 = number.trim_start_matches('#').parse().expect("a number");
        assert!(
            n >= 1501,
            "{number} comes after the store's 500 past orders"
        );
    }
    assert_eq!(
        numbers[0], "#1501",
        "Shopify counts its orders on from its last"
    );
}
