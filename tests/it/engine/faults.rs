//! Every fault the sandbox acts out — latency, rate limit, 5xx, no answer, malformed JSON, and
//! the connection dropped after the write was applied — on each remote write (orderCreate,
//! mark shipped, orderCancel, TikTok seller cancel, approving a buyer request) and on the
//! polls. The engine must recover on its own, and never write twice.

use std::time::Duration;

use orderdeck::domain::access::Role;
use orderdeck::domain::ids::{CancelId, TiktokOrderId};
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::shopify::BucketLimits;
use orderdeck::service::api::{CancellationQuery, Request, Response};

use crate::engine::support::*;

const KINDS: [FaultKind; 6] = [
    FaultKind::Latency(Duration::from_millis(300)),
    FaultKind::RateLimited,
    FaultKind::ServerError,
    FaultKind::Timeout,
    FaultKind::MalformedJson,
    FaultKind::DropAfterWrite,
];

/// `n` paid seller-shipped orders, imported.
async fn imported(rig: &mut Rig, n: usize) -> Vec<TiktokOrderId> {
    let ids: Vec<TiktokOrderId> = (0..n).map(|_| rig.paid_order(GB)).collect();
    rig.sync().await;
    for id in &ids {
        rig.store_order(GB, id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_create_faults_still_make_exactly_one_store_order() {
    let mut rig = Rig::start().await;
    for kind in KINDS {
        let id = rig.paid_order(GB);
        rig.set.shopify.faults().inject("orderCreate", kind, 1);
        rig.sync().await;
        let found = rig.store_orders(GB, &id);
        assert_eq!(found.len(), 1, "{kind:?}: {found:#?}");
        let order = rig.order(&id);
        assert!(
            is_done(&order.flows.import.status),
            "{kind:?}: {:?}",
            order.flows.import
        );
        assert_eq!(
            order.store.map(|s| s.order_id.to_string()),
            Some(found[0].id.clone()),
            "{kind:?}"
        );
    }
    // Answers lost on every create (applied, then HTTP 502) still give one order each.
    rig.set.shopify.set_order_create_ambiguous(true);
    let lost = rig.paid_order(GB);
    rig.sync().await;
    rig.set.shopify.set_order_create_ambiguous(false);
    rig.sync().await;
    assert_eq!(rig.store_orders(GB, &lost).len(), 1);
    assert!(is_done(&rig.order(&lost).flows.import.status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_push_faults_still_ship_exactly_once() {
    let mut rig = Rig::start().await;
    let ids = imported(&mut rig, KINDS.len()).await;
    for (n, (kind, id)) in KINDS.into_iter().zip(&ids).enumerate() {
        let number = format!("JD{n:010}");
        rig.fulfil(GB, id, &number, "DPD UK");
        rig.set
            .tiktok
            .faults()
            .inject("mark_package_as_shipped", kind, 1);
        rig.sync().await;
        let shipments = rig.set.tiktok.shipments(id.as_str());
        assert_eq!(shipments.len(), 1, "{kind:?}: {shipments:?}");
        assert_eq!(shipments[0].tracking_number, number, "{kind:?}");
        assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 1, "{kind:?}");
        let order = rig.order(id);
        assert!(
            is_done(&order.flows.tracking.status),
            "{kind:?}: {:?}",
            order.flows.tracking
        );
    }
    assert_eq!(rig.set.tiktok.calls("update_shipping_info"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_cancel_faults_still_cancel_exactly_once() {
    let mut rig = Rig::start().await;
    let ids = imported(&mut rig, KINDS.len()).await;
    for (kind, id) in KINDS.into_iter().zip(&ids) {
        rig.set
            .tiktok
            .cancel_order_as(id.as_str(), "SYSTEM", "Auto-cancelled")
            .unwrap();
        rig.set.shopify.faults().inject("orderCancel", kind, 1);
        rig.sync().await;
        let store = rig.store_order(GB, id);
        assert!(store.cancelled_at.is_some(), "{kind:?}: {store:#?}");
        assert_eq!(store.cancel_requests.len(), 1, "{kind:?}");
        assert!(store.refunds.is_empty(), "{kind:?}");
        let order = rig.order(id);
        assert!(
            is_done(&order.flows.cancellation.status),
            "{kind:?}: {:?}",
            order.flows.cancellation
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiktok_cancel_faults_still_cancel_exactly_once() {
    let mut rig = Rig::start().await;
    rig.settings(
        GB,
        &[
            (
                "default_cancel_reason",
                "seller_cancel_reason_out_of_stock_uk",
            ),
            ("cancel_store_to_tiktok", "on"),
        ],
    )
    .await;
    let ids = imported(&mut rig, KINDS.len()).await;
    let store = rig.store(GB);
    for (kind, id) in KINDS.into_iter().zip(&ids) {
        let store_id = rig.store_order(GB, id).id;
        rig.set
            .shopify
            .cancel_in_admin(&store, &store_id, "CUSTOMER")
            .unwrap();
        rig.set.tiktok.faults().inject("cancel_order", kind, 1);
        rig.sync().await;
        assert_eq!(
            rig.set.tiktok.order_status(id.as_str()).as_deref(),
            Some("CANCELLED"),
            "{kind:?}"
        );
        let on_tiktok = rig.set.tiktok.cancellations_of(id.as_str());
        assert_eq!(on_tiktok.len(), 1, "{kind:?}: {on_tiktok:?}");
        let order = rig.order(id);
        assert!(
            is_done(&order.flows.cancellation.status),
            "{kind:?}: {:?}",
            order.flows.cancellation
        );
    }
    rig.sync().await;
    assert_eq!(rig.set.shopify.calls(&store, "orderCancel").unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_faults_apply_the_answer_once() {
    let mut rig = Rig::start().await;
    let ids = imported(&mut rig, KINDS.len()).await;
    for (kind, id) in KINDS.into_iter().zip(&ids) {
        let cancel_id = rig
            .set
            .tiktok
            .request_buyer_cancel(id.as_str(), "reason", "Changed my mind", now() + 86_400)
            .unwrap();
        rig.sync().await;
        let answer = rig
            .call(
                Role::Operator,
                Request::RespondBuyerCancel {
                    cancel_id: CancelId::new(cancel_id.clone()).unwrap(),
                    approve: true,
                    reject_reason: None,
                    comment: None,
                },
            )
            .await;
        assert!(matches!(answer, Ok(Response::Done { .. })), "{answer:?}");
        rig.set
            .tiktok
            .faults()
            .inject("approve_cancellation", kind, 1);
        rig.sync().await;
        assert_eq!(
            rig.set.tiktok.cancellation_status(&cancel_id).as_deref(),
            Some("CANCELLATION_REQUEST_SUCCESS"),
            "{kind:?}"
        );
        let store = rig.store_order(GB, id);
        assert!(store.cancelled_at.is_some(), "{kind:?}");
        assert_eq!(store.cancel_requests.len(), 1, "{kind:?}");
        let order = rig.order(id);
        assert!(
            is_done(&order.flows.cancellation.status),
            "{kind:?}: {:?}",
            order.flows.cancellation
        );
    }
}

/// A failed poll shows (the Stores view reports the error) unless the fault only slowed it.
fn noticed(kind: FaultKind, errors: &[String]) -> bool {
    matches!(kind, FaultKind::Latency(_)) || !errors.is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_order_polls_are_reported_and_retried_without_losing_an_order() {
    let mut rig = Rig::start().await;
    for kind in KINDS {
        let id = rig.paid_order(GB);
        rig.set.tiktok.faults().inject("search_orders", kind, 1);
        let summary = rig.sync().await;
        assert!(noticed(kind, &summary.poll_errors), "{kind:?}: {summary:?}");
        rig.sync().await;
        assert_eq!(rig.store_orders(GB, &id).len(), 1, "{kind:?}");
        assert!(is_done(&rig.order(&id).flows.import.status), "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_cancellation_polls_are_reported_and_retried_without_losing_a_request() {
    let mut rig = Rig::start().await;
    let ids = imported(&mut rig, KINDS.len()).await;
    for (kind, id) in KINDS.into_iter().zip(&ids) {
        // A buyer request: only the cancellations poll carries its deadline.
        let deadline = now() + 30 * 3600;
        let cancel_id = rig
            .set
            .tiktok
            .request_buyer_cancel(id.as_str(), "reason", "Changed my mind", deadline)
            .unwrap();
        rig.set
            .tiktok
            .faults()
            .inject("search_cancellations", kind, 1);
        let summary = rig.sync().await;
        assert!(noticed(kind, &summary.poll_errors), "{kind:?}: {summary:?}");
        rig.sync().await;
        let waiting = match rig
            .call(
                Role::Viewer,
                Request::Cancellations(CancellationQuery {
                    link: None,
                    filter: Some(cancel_id.clone()),
                    waiting_only: true,
                    offset: 0,
                    limit: 10,
                    sort: Default::default(),
                }),
            )
            .await
        {
            Ok(Response::Cancellations(page)) => page.rows,
            other => panic!("{other:?}"),
        };
        assert_eq!(waiting.len(), 1, "{kind:?}");
        assert_eq!(
            waiting[0].seller_deadline.map(|d| d.timestamp()),
            Some(deadline),
            "{kind:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_store_polls_are_reported_and_retried_without_losing_a_fulfillment() {
    let mut rig = Rig::start().await;
    // A Shopify Plus bucket: the client keeps the cost of a lost query debited (Shopify may
    // have charged it), and a standard bucket would refill it for seconds on each fault.
    rig.set
        .shopify
        .set_bucket(
            &rig.store(GB),
            BucketLimits {
                maximum_available: 10_000.0,
                restore_rate: 500.0,
            },
        )
        .unwrap();
    let ids = imported(&mut rig, KINDS.len()).await;
    for (kind, id) in KINDS.into_iter().zip(&ids) {
        let number = format!("EV{}", id.as_str());
        rig.fulfil(GB, id, &number, "Evri");
        rig.set.shopify.faults().inject("orders", kind, 1);
        let summary = rig.sync().await;
        assert!(noticed(kind, &summary.poll_errors), "{kind:?}: {summary:?}");
        rig.sync().await;
        let shipments = rig.set.tiktok.shipments(id.as_str());
        assert_eq!(shipments.len(), 1, "{kind:?}");
        assert_eq!(shipments[0].tracking_number, number, "{kind:?}");
        assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 1, "{kind:?}");
        assert_eq!(rig.store_orders(GB, id).len(), 1, "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_that_had_to_be_retried_leaves_the_order_settled() {
    let mut rig = Rig::start().await;
    let ids = imported(&mut rig, 1).await;
    let id = &ids[0];
    let cancel_id = rig
        .set
        .tiktok
        .request_buyer_cancel(id.as_str(), "reason", "Changed my mind", now() + 86_400)
        .unwrap();
    rig.sync().await;
    let answer = rig
        .call(
            Role::Operator,
            Request::RespondBuyerCancel {
                cancel_id: CancelId::new(cancel_id.clone()).unwrap(),
                approve: false,
                reject_reason: Some("seller_reject_apply_product_has_been_packed".into()),
                comment: None,
            },
        )
        .await;
    assert!(matches!(answer, Ok(Response::Done { .. })), "{answer:?}");
    rig.set
        .tiktok
        .faults()
        .inject("reject_cancellation", FaultKind::ServerError, 1);
    rig.sync().await;
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.cancellation_status(&cancel_id).as_deref(),
        Some("CANCELLATION_REQUEST_CANCEL")
    );
    let order = rig.order(id);
    assert!(
        !matches!(
            order.flows.cancellation.status,
            orderdeck::domain::order::FlowStatus::Queued
        ),
        "the order still shows a cancellation in progress: {:?}",
        order.flows.cancellation
    );
    let rows = rig.view(orderdeck::domain::triage::OrderView::All).await;
    assert_ne!(rows[0].flows[2], "retry", "{:?}", rows[0]);
    assert_ne!(rows[0].flows[2], "queued", "{:?}", rows[0]);

    // The order goes on: a later store cancel is still relayed to TikTok when enabled.
    rig.settings(
        GB,
        &[
            (
                "default_cancel_reason",
                "seller_cancel_reason_out_of_stock_uk",
            ),
            ("cancel_store_to_tiktok", "on"),
        ],
    )
    .await;
    let store_id = rig.store_order(GB, id).id;
    rig.set
        .shopify
        .cancel_in_admin(&rig.store(GB), &store_id, "CUSTOMER")
        .unwrap();
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("CANCELLED")
    );
}
