//! Stuck work whose cause went away with the order settles by itself on the next poll: an
//! import stuck on a missing SKU of an order TikTok then cancelled, a tracking push stuck on an
//! unmapped carrier of an order whose number TikTok already has. Nothing is left for a person,
//! so the order leaves Stuck and Pending; a cause that is still there keeps it stuck.

use orderdeck::domain::order::FlowStatus;
use orderdeck::domain::triage::OrderView;

use crate::engine::support::*;

fn listed(
    rows: &[orderdeck::service::api::OrderRow],
    id: &orderdeck::domain::ids::TiktokOrderId,
) -> bool {
    rows.iter().any(|r| &r.id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_import_of_an_order_tiktok_cancelled_leaves_stuck_and_pending() {
    let mut rig = Rig::start().await;
    let mut spec = rig.new_order(GB);
    set_lines(&mut spec, &[GHOST_SKU]);
    let cancelled = rig.add(&spec);
    let mut spec = rig.new_order(GB);
    set_lines(&mut spec, &[GHOST_SKU]);
    let still_stuck = rig.add(&spec);
    rig.sync().await;
    for id in [&cancelled, &still_stuck] {
        assert!(rig.order(id).flows.import.stuck_reason().is_some());
        assert!(listed(&rig.view(OrderView::Stuck).await, id));
        assert!(listed(&rig.view(OrderView::Pending).await, id));
    }

    rig.set
        .tiktok
        .cancel_order_as(cancelled.as_str(), "BUYER", "Changed my mind")
        .expect("cancelled on TikTok");
    rig.sync().await;

    let order = rig.order(&cancelled);
    assert!(
        matches!(order.flows.import.status, FlowStatus::NotApplicable { .. }),
        "{:?}",
        order.flows.import
    );
    assert!(
        order
            .timeline
            .iter()
            .any(|e| e.text.starts_with("no longer stuck: cancelled on TikTok")),
        "{:#?}",
        order.timeline
    );
    assert!(!listed(&rig.view(OrderView::Stuck).await, &cancelled));
    assert!(!listed(&rig.view(OrderView::Pending).await, &cancelled));
    assert!(rig.store_orders(GB, &cancelled).is_empty());
    // The other order's cause is still there: it stays stuck for a person.
    assert!(listed(&rig.view(OrderView::Stuck).await, &still_stuck));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_tracking_push_settles_once_tiktok_has_the_number() {
    let mut rig = Rig::start().await;
    let mut spec = rig.new_order(GB);
    let id = rig.add(&spec);
    rig.sync().await;
    rig.fulfil(GB, &id, "HP400000004", "Hermes Parcelnet");
    rig.sync().await;
    assert!(rig.order(&id).flows.tracking.stuck_reason().is_some());
    assert!(listed(&rig.view(OrderView::Stuck).await, &id));

    // Someone ships it in Seller Center with the store's number.
    spec.status = "IN_TRANSIT".into();
    spec.tracking_number = Some("HP400000004".into());
    spec.update_time = now();
    rig.add(&spec);
    rig.sync().await;

    let order = rig.order(&id);
    assert!(
        matches!(
            order.flows.tracking.status,
            FlowStatus::NotApplicable { .. }
        ),
        "{:?}",
        order.flows.tracking
    );
    assert!(!listed(&rig.view(OrderView::Stuck).await, &id));
    assert_eq!(
        rig.set.tiktok.tracking_writes(id.as_str()),
        0,
        "orderdeck pushed nothing"
    );
}
