//! Cancellations both ways. TikTok → store on an approved buyer request, a SYSTEM and a SELLER
//! cancel: Shopify reason `OTHER`, TikTok's reason in the staff note, restock per setting, never
//! a store refund. Buyer requests wait, listed with TikTok's deadline, for an operator's answer.
//! Store → TikTok only when enabled, with the link's default reason, and never as an echo.

use orderdeck::domain::access::Role;
use orderdeck::domain::cancellation::{CancellationKey, Direction};
use orderdeck::domain::ids::{CancelId, TiktokOrderId};
use orderdeck::domain::order::FlowStatus;
use orderdeck::domain::triage::Urgency;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::service::api::{
    CancellationQuery, CancellationRow, OrderColumn, Request, Response, Sort, SortDir,
};

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::support::*;

const UK_REASON: &str = "seller_cancel_reason_out_of_stock_uk";

async fn imported(rig: &mut Rig) -> TiktokOrderId {
    let id = rig.paid_order(GB);
    rig.sync().await;
    rig.store_order(GB, &id);
    id
}

pub(super) async fn cancellation_rows(rig: &Rig, waiting_only: bool) -> Vec<CancellationRow> {
    let answer = rig
        .call(
            Role::Viewer,
            Request::Cancellations(CancellationQuery {
                link: None,
                filter: None,
                waiting_only,
                offset: 0,
                limit: 100,
                sort: Default::default(),
            }),
        )
        .await;
    match answer {
        Ok(Response::Cancellations(page)) => page.rows,
        other => panic!("{other:?}"),
    }
}

/// The store order of `id` was cancelled by orderdeck exactly once, as TikTok asked: reason
/// `OTHER`, TikTok's reason in the staff note, restocked or not, and no money moved.
fn assert_cancelled_once(rig: &Rig, id: &TiktokOrderId, note: &str, restock: bool) {
    let store = rig.store_order(GB, id);
    assert!(store.cancelled_at.is_some(), "{id}: {store:#?}");
    assert_eq!(store.cancel_requests.len(), 1, "{id}: {store:#?}");
    let request = &store.cancel_requests[0];
    assert_eq!(request.reason, "OTHER");
    assert!(!request.notify_customer);
    assert_eq!(request.restock, restock, "{id}");
    assert_eq!(store.restocked, restock, "{id}");
    assert!(!request.refund.refunds(), "{id}: {:?}", request.refund);
    assert!(store.refunds.is_empty(), "{id} was refunded: {store:#?}");
    let staff_note = request.staff_note.as_deref().unwrap_or_default();
    assert!(staff_note.contains(note), "{id}: staff note {staff_note:?}");
    let order = rig.order(id);
    assert!(
        is_done(&order.flows.cancellation.status),
        "{id}: {:?}",
        order.flows.cancellation
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiktok_cancels_cancel_the_store_order_with_restock_and_no_refund() {
    let mut rig = Rig::start().await;
    let system = imported(&mut rig).await;
    let seller = imported(&mut rig).await;
    let buyer = imported(&mut rig).await;
    let store = rig.store(GB);
    assert_eq!(rig.set.shopify.inventory(&store, KNOWN_SKU).unwrap(), [97]);

    rig.set
        .tiktok
        .cancel_order_as(system.as_str(), "SYSTEM", "Seller did not ship in time")
        .unwrap();
    rig.set
        .tiktok
        .cancel_order_as(seller.as_str(), "SELLER", "Out of stock")
        .unwrap();
    rig.set
        .tiktok
        .cancel_order_as(buyer.as_str(), "BUYER", "Ordered by mistake")
        .unwrap();
    rig.sync().await;

    assert_cancelled_once(
        &rig,
        &system,
        "Cancelled on TikTok (system): Seller did not ship in time",
        true,
    );
    assert_cancelled_once(
        &rig,
        &seller,
        "Cancelled on TikTok (seller): Out of stock",
        true,
    );
    assert_cancelled_once(
        &rig,
        &buyer,
        "Cancelled on TikTok (buyer): Ordered by mistake",
        true,
    );
    assert_eq!(rig.set.shopify.inventory(&store, KNOWN_SKU).unwrap(), [100]);

    rig.sync().await;
    assert_eq!(rig.set.shopify.calls(&store, "orderCancel").unwrap(), 3);
    // Nothing went back to TikTok: those orders were cancelled there already.
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restock_follows_the_link_setting() {
    let mut rig = Rig::start().await;
    rig.settings(GB, &[("restock_on_cancel", "off")]).await;
    let id = imported(&mut rig).await;
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "SYSTEM", "Auto-cancelled")
        .unwrap();
    rig.sync().await;
    assert_cancelled_once(&rig, &id, "Auto-cancelled", false);
    assert_eq!(
        rig.set
            .shopify
            .inventory(&rig.store(GB), KNOWN_SKU)
            .unwrap(),
        [99]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiktok_to_store_off_is_recorded_as_skipped_with_why() {
    let mut rig = Rig::start().await;
    rig.settings(GB, &[("cancel_tiktok_to_store", "off")]).await;
    let id = imported(&mut rig).await;
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "SYSTEM", "Auto-cancelled")
        .unwrap();
    rig.sync().await;
    rig.sync().await;

    let store = rig.store_order(GB, &id);
    assert!(store.cancelled_at.is_none());
    assert_eq!(
        rig.set
            .shopify
            .calls(&rig.store(GB), "orderCancel")
            .unwrap(),
        0
    );
    let why = "cancel_tiktok_to_store is off for this link";
    assert_eq!(
        rig.order(&id).flows.cancellation.status,
        FlowStatus::Skipped { why: why.into() }
    );
    let rows = cancellation_rows(&rig, false).await;
    assert!(
        rows.iter()
            .any(|r| r.order_id == id && r.sync == format!("skipped: {why}")),
        "{rows:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyer_requests_wait_with_their_deadline_for_an_operators_answer() {
    let mut rig = Rig::start().await;
    let approved = imported(&mut rig).await;
    let rejected = imported(&mut rig).await;
    let deadline = now() + 20 * 3600;
    let ask = |id: &TiktokOrderId| {
        CancelId::new(
            rig.set
                .tiktok
                .request_buyer_cancel(
                    id.as_str(),
                    "ecom_order_to_ship_canceled_reason_better_price",
                    "Found a better price",
                    deadline,
                )
                .unwrap(),
        )
        .unwrap()
    };
    let (approve_id, reject_id) = (ask(&approved), ask(&rejected));
    rig.sync().await;

    let waiting = cancellation_rows(&rig, true).await;
    assert_eq!(waiting.len(), 2, "{waiting:#?}");
    for row in &waiting {
        assert!(row.awaits_seller);
        assert_eq!(row.initiator, "BUYER");
        assert_eq!(
            row.seller_deadline.map(|d| d.timestamp()),
            Some(deadline),
            "{row:?}"
        );
        assert_eq!(row.urgency, Urgency::Soon);
        assert_eq!(row.reason, "Found a better price");
    }
    for id in [&approved, &rejected] {
        assert!(rig.store_order(GB, id).cancelled_at.is_none());
    }

    // Support may look but not answer.
    let refused = rig
        .call(
            Role::Support,
            Request::RespondBuyerCancel {
                cancel_id: approve_id.clone(),
                approve: true,
                reject_reason: None,
                comment: None,
            },
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");

    for (cancel_id, approve) in [(&approve_id, true), (&reject_id, false)] {
        let answer = rig
            .call(
                Role::Operator,
                Request::RespondBuyerCancel {
                    cancel_id: cancel_id.clone(),
                    approve,
                    reject_reason: (!approve)
                        .then(|| "seller_reject_apply_product_has_been_packed".into()),
                    comment: (!approve).then(|| "Already packed".into()),
                },
            )
            .await;
        assert!(matches!(answer, Ok(Response::Done { .. })), "{answer:?}");
    }
    rig.sync().await;
    rig.sync().await;

    assert_eq!(
        rig.set
            .tiktok
            .cancellation_status(approve_id.as_str())
            .as_deref(),
        Some("CANCELLATION_REQUEST_SUCCESS")
    );
    assert_eq!(
        rig.set.tiktok.order_status(approved.as_str()).as_deref(),
        Some("CANCELLED")
    );
    assert_cancelled_once(
        &rig,
        &approved,
        "Cancelled on TikTok (buyer): Found a better price",
        true,
    );

    assert_eq!(
        rig.set
            .tiktok
            .cancellation_status(reject_id.as_str())
            .as_deref(),
        Some("CANCELLATION_REQUEST_CANCEL")
    );
    assert!(rig.store_order(GB, &rejected).cancelled_at.is_none());
    assert_eq!(
        rig.set.tiktok.order_status(rejected.as_str()).as_deref(),
        Some("AWAITING_SHIPMENT")
    );
    assert_eq!(rig.set.tiktok.calls("approve_cancellation"), 1);
    assert_eq!(rig.set.tiktok.calls("reject_cancellation"), 1);
    assert!(cancellation_rows(&rig, true).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_cancels_reach_tiktok_only_when_enabled_and_never_echo() {
    let mut rig = Rig::start().await;
    let store = rig.store(GB);
    let while_off = imported(&mut rig).await;
    rig.set
        .shopify
        .cancel_in_admin(&store, &rig.store_order(GB, &while_off).id, "CUSTOMER")
        .unwrap();
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.order_status(while_off.as_str()).as_deref(),
        Some("AWAITING_SHIPMENT")
    );
    let record = rig
        .cancellations(&while_off)
        .into_iter()
        .find(|c| c.direction == Direction::StoreToTiktok)
        .expect("the store cancel is recorded");
    assert_eq!(
        record.sync.status,
        FlowStatus::Skipped {
            why: "cancel_store_to_tiktok is off for this link".into()
        }
    );

    rig.settings(
        GB,
        &[
            ("default_cancel_reason", UK_REASON),
            ("cancel_store_to_tiktok", "on"),
        ],
    )
    .await;
    let while_on = imported(&mut rig).await;
    rig.set
        .shopify
        .cancel_in_admin(&store, &rig.store_order(GB, &while_on).id, "CUSTOMER")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.order_status(while_on.as_str()).as_deref(),
        Some("CANCELLED")
    );
    let on_tiktok = rig.set.tiktok.cancellations_of(while_on.as_str());
    assert_eq!(on_tiktok.len(), 1, "{on_tiktok:?}");
    assert_eq!(on_tiktok[0].role, "SELLER");
    assert_eq!(on_tiktok[0].reason, UK_REASON);
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 1);
    let order = rig.order(&while_on);
    assert!(
        is_done(&order.flows.cancellation.status),
        "{:?}",
        order.flows
    );
    // TikTok's record of that cancel is not sent back to the store, already cancelled there.
    assert_eq!(rig.set.shopify.calls(&store, "orderCancel").unwrap(), 0);
    assert!(rig.store_order(GB, &while_on).cancel_requests.is_empty());

    // A TikTok cancel reaches the store, and the store's cancel does not go back to TikTok.
    let from_tiktok = imported(&mut rig).await;
    rig.set
        .tiktok
        .cancel_order_as(from_tiktok.as_str(), "SYSTEM", "Auto-cancelled")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.sync().await;
    assert_cancelled_once(&rig, &from_tiktok, "Auto-cancelled", true);
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 1);
    assert_eq!(
        rig.set.tiktok.cancellations_of(from_tiktok.as_str()).len(),
        1
    );
    assert!(
        rig.cancellations(&from_tiktok)
            .iter()
            .all(|c| c.direction == Direction::TiktokToStore),
        "{:#?}",
        rig.cancellations(&from_tiktok)
    );
    assert!(
        !rig.cancellations(&from_tiktok)
            .iter()
            .any(|c| matches!(c.key, CancellationKey::Store(_)))
    );

    // The store cancel skipped while relaying was off goes when an operator re-runs it.
    let answer = rig
        .call(
            Role::Operator,
            Request::Resync {
                orders: vec![while_off.clone()],
                flow: orderdeck::domain::request::ResyncFlow::Cancel,
                reason: "relay it now".into(),
            },
        )
        .await;
    assert!(
        matches!(&answer, Ok(Response::Resync(outcome)) if outcome.running && outcome.jobs.len() == 1),
        "{answer:?}"
    );
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.order_status(while_off.as_str()).as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(
        rig.set.tiktok.cancellations_of(while_off.as_str())[0].reason,
        UK_REASON
    );
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 2);
}

/// Retries far apart, so a test can act between a lost answer and its read-back.
const SLOW_RETRIES: &str = "[engine]\nrequest_timeout = \"1s\"\nconnect_timeout = \"1s\"\n\
                            retry_initial = \"5s\"\nretry_max = \"5s\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_cancel_first_seen_by_a_create_read_back_is_relayed() {
    let mut rig = Rig::with(Options {
        shops: 1,
        engine: Some(SLOW_RETRIES),
        ..Options::default()
    })
    .await;
    rig.settings(
        GB,
        &[
            ("default_cancel_reason", UK_REASON),
            ("cancel_store_to_tiktok", "on"),
        ],
    )
    .await;
    let id = rig.paid_order(GB);
    // The create is applied in the store, but its answer is lost.
    rig.set
        .shopify
        .faults()
        .inject("orderCreate", FaultKind::DropAfterWrite, 1);
    rig.engine().sync_once(Duration::ZERO).await;
    assert!(
        rig.order(&id).store.is_none(),
        "the read-back is not due yet"
    );
    // Staff cancel it in the admin before the read-back: that read-back, not a poll, is where
    // orderdeck first sees the store order, already cancelled.
    let store = rig.store(GB);
    rig.set
        .shopify
        .cancel_in_admin(&store, &rig.store_order(GB, &id).id, "CUSTOMER")
        .unwrap();
    rig.engine()
        .run_jobs(CancellationToken::new(), Some(Duration::from_secs(10)))
        .await;

    assert_eq!(rig.store_orders(GB, &id).len(), 1);
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("CANCELLED"),
        "{:#?}",
        rig.order(&id).timeline
    );
    let on_tiktok = rig.set.tiktok.cancellations_of(id.as_str());
    assert_eq!(on_tiktok.len(), 1, "{on_tiktok:?}");
    assert_eq!(
        (on_tiktok[0].role.as_str(), on_tiktok[0].reason.as_str()),
        ("SELLER", UK_REASON)
    );
    // A later poll sees the same cancel again and relays nothing more.
    rig.sync().await;
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 1);
    assert!(rig.store_order(GB, &id).cancel_requests.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_that_arrives_before_the_create_ran_is_settled_not_left_waiting() {
    let mut rig = Rig::start().await;
    let link = rig.engine().links()[0].clone();
    let id = rig.paid_order(GB);
    // The import is queued but has not run when TikTok cancels.
    rig.engine().poll_link(&link).await;
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "SYSTEM", "Auto-cancelled")
        .unwrap();
    rig.sync().await;
    rig.sync().await;

    assert!(rig.store_orders(GB, &id).is_empty());
    let cancellations = rig.cancellations(&id);
    assert!(!cancellations.is_empty());
    for c in &cancellations {
        assert!(
            matches!(&c.sync.status, FlowStatus::NotApplicable { why } if why.contains("never reached the store")),
            "{c:#?}"
        );
    }
    let rows = cancellation_rows(&rig, false).await;
    assert!(
        rows.iter().all(|r| !r.sync.starts_with("waiting")),
        "{rows:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_order_found_after_tiktok_cancelled_is_cancelled_too() {
    let mut rig = Rig::start().await;
    let id = rig.paid_order(GB);
    rig.sync().await;
    rig.store_order(GB, &id);
    // orderdeck loses track of the store order: its store is lost, and the store cannot be
    // read, so the import gives up without finding what it made.
    rig.wipe_store();
    rig.set
        .shopify
        .faults()
        .inject("orders", FaultKind::ServerError, 1000);
    rig.sync().await;
    assert!(
        matches!(rig.order(&id).flows.import.status, FlowStatus::Stuck { .. }),
        "{:?}",
        rig.order(&id).flows.import
    );
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "SYSTEM", "Auto-cancelled")
        .unwrap();
    rig.sync().await;
    // The store is readable again: the poll that finds the order cancels it, however long
    // ago TikTok's cancel was (not only while polls still re-read it).
    rig.set.shopify.faults().clear();
    rig.sync().await;
    assert_cancelled_once(&rig, &id, "Auto-cancelled", true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cancellation_is_one_row_however_orderdeck_first_saw_it() {
    let mut rig = Rig::start().await;
    // Seen on the order and in the cancellation search in the same poll.
    let by_system = imported(&mut rig).await;
    rig.set
        .tiktok
        .cancel_order_as(by_system.as_str(), "SYSTEM", "Not shipped in time")
        .unwrap();
    // A buyer request, approved by an operator: the order turns CANCELLED on TikTok.
    let by_buyer = imported(&mut rig).await;
    let cancel_id = CancelId::new(
        rig.set
            .tiktok
            .request_buyer_cancel(
                by_buyer.as_str(),
                "ecom_order_to_ship_canceled_reason_better_price",
                "Found a better price",
                now() + 3600,
            )
            .unwrap(),
    )
    .unwrap();
    // TikTok shows the order cancelled first; the record saying who and why comes later.
    let record_later = imported(&mut rig).await;
    rig.set
        .tiktok
        .set_order_status(record_later.as_str(), "CANCELLED");
    rig.sync().await;
    rig.set
        .tiktok
        .cancel_order_as(record_later.as_str(), "SYSTEM", "Not shipped in time")
        .unwrap();
    let answer = rig
        .call(
            Role::Operator,
            Request::RespondBuyerCancel {
                cancel_id,
                approve: true,
                reject_reason: None,
                comment: None,
            },
        )
        .await;
    assert!(answer.is_ok(), "{answer:?}");
    rig.sync().await;
    rig.sync().await;

    let rows = cancellation_rows(&rig, false).await;
    for (id, initiator) in [
        (&by_system, "SYSTEM"),
        (&by_buyer, "BUYER"),
        (&record_later, "SYSTEM"),
    ] {
        let mine: Vec<_> = rows.iter().filter(|r| &r.order_id == id).collect();
        assert_eq!(mine.len(), 1, "{id}: {mine:#?}");
        assert_eq!(mine[0].sync, "done", "{id}: {mine:#?}");
        assert_eq!(mine[0].initiator, initiator, "{id}: {mine:#?}");
        assert_cancelled_once(&rig, id, "", true);
    }
    assert_eq!(
        rows.iter()
            .find(|r| r.order_id == record_later)
            .map(|r| r.reason.as_str()),
        Some("Not shipped in time"),
        "the late record says why"
    );
    // Sorted by who asked, through the service, as the console's `s` asks for it.
    let answer = rig
        .call(
            Role::Viewer,
            Request::Cancellations(CancellationQuery {
                link: None,
                filter: None,
                waiting_only: false,
                offset: 0,
                limit: 100,
                sort: Sort {
                    column: OrderColumn::Initiator,
                    dir: SortDir::Desc,
                },
            }),
        )
        .await;
    let Ok(Response::Cancellations(page)) = answer else {
        panic!("{answer:?}")
    };
    let initiators: Vec<&str> = page.rows.iter().map(|r| r.initiator.as_str()).collect();
    assert_eq!(initiators, ["SYSTEM", "SYSTEM", "BUYER"]);
}
