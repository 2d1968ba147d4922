//! Table-driven tests of triage membership, sort keys and urgency over a fixed clock.

use super::*;
use crate::domain::cancellation::{CancelStatus, CancelType, CancellationKey, Direction};
use crate::domain::clock::{Clock, FixedClock};
use crate::domain::ids::CancelId;
use crate::domain::order::{FlowError, FlowState, Initiator};
use crate::domain::rules::fixtures::*;

fn views(order: &Order) -> Vec<OrderView> {
    views_of(order).into_iter().map(|(v, _)| v).collect()
}

#[test]
fn membership_by_order_state() {
    use OrderView::*;
    let mut on_hold = paid();
    on_hold.tiktok.status = OrderStatus::OnHold;
    let mut stuck = paid();
    stuck.flows.import.status = FlowStatus::Stuck {
        reason: "SKU ABC-1 has no variant in store uk-shopify".into(),
    };
    stuck.flows.import.updated_at = Some(t(120));
    let mut tracking_stuck = in_store(paid(), vec![fulfilled("RM1", Some("Royal Mailx"))]);
    tracking_stuck.flows.tracking.status = FlowStatus::Stuck {
        reason: "carrier".into(),
    };
    let mut pushed = in_store(paid(), vec![fulfilled("RM1", Some("Royal Mail"))]);
    pushed.pushed_tracking = Some("RM1".into());
    pushed.flows.tracking.status = FlowStatus::Done { at: t(7200) };
    let tiktok_ships = in_store(
        order(OrderStatus::AwaitingShipment, ShippingType::Tiktok),
        vec![],
    );
    let mut fbt = paid();
    fbt.tiktok.fulfillment_type = FulfillmentType::ByTiktok;
    let mut shipped = in_store(paid(), vec![]);
    shipped.tiktok.status = OrderStatus::InTransit;
    let mut cancelled_early = paid();
    cancelled_early.tiktok.status = OrderStatus::Cancelled;
    cancelled_early.flows.import.status = FlowStatus::NotApplicable {
        why: "cancelled".into(),
    };
    // (name, order, views)
    let table = [
        (
            "paid, not imported",
            paid(),
            vec![All, Pending, MissingTracking],
        ),
        ("on hold", on_hold, vec![All, Pending]),
        (
            "import stuck",
            stuck,
            vec![All, Pending, MissingTracking, Stuck],
        ),
        (
            "imported, not fulfilled",
            in_store(paid(), vec![]),
            vec![All, MissingTracking],
        ),
        (
            "tracking stuck",
            tracking_stuck,
            vec![All, MissingTracking, Stuck],
        ),
        ("tracking pushed", pushed, vec![All]),
        ("TikTok ships", tiktok_ships, vec![All]),
        ("FBT", fbt, vec![All]),
        ("shipped", shipped, vec![All]),
        ("cancelled before import", cancelled_early, vec![All]),
    ];
    for (name, order, expected) in table {
        assert_eq!(views(&order), expected, "{name}");
    }
}

#[test]
fn pending_reasons_say_why() {
    let mut retrying = paid();
    retrying.flows.import = FlowState {
        status: FlowStatus::Queued,
        attempts: 2,
        last_error: Some(FlowError {
            at: t(1),
            message: "Shopify throttled".into(),
            code: None,
            request_id: None,
        }),
        updated_at: Some(t(1)),
        waits_on: None,
    };
    let mut skipped = paid();
    skipped.flows.import.status = FlowStatus::Skipped {
        why: "import_orders is off for this link".into(),
    };
    let mut unpaid = paid();
    unpaid.tiktok.status = OrderStatus::Unpaid;
    let table = [
        (paid(), "not imported yet"),
        (retrying, "retrying (attempt 2): Shopify throttled"),
        (skipped, "skipped: import_orders is off for this link"),
        (unpaid, "waiting: UNPAID"),
    ];
    for (order, expected) in table {
        assert_eq!(pending_reason(&order).as_deref(), Some(expected));
    }
}

#[test]
fn missing_tracking_appears_after_the_threshold() {
    let order = in_store(paid(), vec![]);
    let settings = LinkSettings::default(); // 24h
    let clock = FixedClock::new(t(0));
    // (seconds after payment, visible)
    for (after, visible) in [
        (0, false),
        (23 * 3600, false),
        (24 * 3600, true),
        (72 * 3600, true),
    ] {
        clock.set(t(after));
        assert_eq!(
            is_visible(&order, OrderView::MissingTracking, &settings, clock.now()),
            visible,
            "{after}s"
        );
        assert!(is_visible(
            &order,
            OrderView::Pending,
            &settings,
            clock.now()
        ));
    }
}

#[test]
fn missing_tracking_sorts_by_ship_by_deadline() {
    let mut early = in_store(paid(), vec![]);
    early.tiktok.ship_by = Some(t(3600));
    let mut none = in_store(paid(), vec![]);
    none.tiktok.ship_by = None;
    let key = |o: &Order| {
        views_of(o)
            .into_iter()
            .find(|(v, _)| *v == OrderView::MissingTracking)
            .unwrap()
            .1
    };
    assert!(key(&early) < key(&in_store(paid(), vec![])));
    assert_eq!(key(&none), i64::MAX, "orders without a deadline sort last");
}

#[test]
fn store_knowledge_of_missing_tracking_orders() {
    let table = [
        (paid(), StorefrontKnowledge::NeverReachedStore),
        (in_store(paid(), vec![]), StorefrontKnowledge::NotFulfilled),
        (
            in_store(paid(), vec![fulfilled("", None)]),
            StorefrontKnowledge::FulfilledWithoutTracking,
        ),
        (
            in_store(paid(), vec![fulfilled("RM1", Some("X"))]),
            StorefrontKnowledge::TrackingNotPushed,
        ),
    ];
    for (order, expected) in table {
        assert_eq!(StorefrontKnowledge::of(&order), expected);
    }
}

#[test]
fn waiting_buyer_requests_sort_first_by_deadline() {
    let base = Cancellation {
        key: CancellationKey::Tiktok(CancelId::new("1").unwrap()),
        order_id: paid().id,
        link: paid().link,
        direction: Direction::TiktokToStore,
        initiator: Initiator::Buyer,
        cancel_type: CancelType::BuyerRequest,
        reason_code: None,
        reason_text: None,
        tiktok_status: Some(CancelStatus::Pending),
        seller_deadline: Some(t(7200)),
        line_item_ids: Vec::new(),
        units: Vec::new(),
        restock: true,
        response: None,
        sync: FlowState::default(),
        created_at: t(0),
        updated_at: t(10),
    };
    let sooner = Cancellation {
        seller_deadline: Some(t(3600)),
        line_item_ids: Vec::new(),
        units: Vec::new(),
        ..base.clone()
    };
    let done = Cancellation {
        tiktok_status: Some(CancelStatus::Success),
        updated_at: t(99_999),
        ..base.clone()
    };
    let mut keys = [
        ("done", cancellation_sort_key(&done)),
        ("later", cancellation_sort_key(&base)),
        ("sooner", cancellation_sort_key(&sooner)),
    ];
    keys.sort_by_key(|(_, k)| *k);
    assert_eq!(keys.map(|(n, _)| n), ["sooner", "later", "done"]);
}

#[test]
fn urgency_bands() {
    let now = t(0);
    let table = [
        (Some(t(-1)), Urgency::Overdue),
        (Some(t(0)), Urgency::Overdue),
        (Some(t(5 * 3600)), Urgency::Critical),
        (Some(t(23 * 3600)), Urgency::Soon),
        (Some(t(48 * 3600)), Urgency::Later),
        (None, Urgency::Later),
    ];
    for (deadline, expected) in table {
        assert_eq!(urgency(deadline, now), expected, "{deadline:?}");
    }
}

#[test]
fn view_names_round_trip() {
    for v in OrderView::ALL {
        assert_eq!(OrderView::parse(v.name()), Some(v));
    }
}
