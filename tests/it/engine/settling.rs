//! Stuck work whose cause went away with the order settles by itself on the next poll: an
//! import stuck on a missing SKU of an order TikTok then cancelled, a tracking push stuck on an
//! unmapped carrier of an order whose number TikTok already has. Nothing is left for a person,
//! so the order leaves Stuck and Pending, and its stuck job ends with it; a cause that is still
//! there keeps it stuck. A create that gave up on lost answers reads the store back first.

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::job::JobState;
use orderdeck::domain::order::FlowStatus;
use orderdeck::domain::triage::OrderView;
use orderdeck::sandbox::faults::FaultKind;

use crate::engine::support::*;

fn listed(
    rows: &[orderdeck::service::api::OrderRow],
    id: &orderdeck::domain::ids::TiktokOrderId,
) -> bool {
    rows.iter().any(|r| &r.id == id)
}

/// The reasons of the order's jobs that are stuck.
fn stuck_jobs(rig: &Rig, id: &TiktokOrderId) -> Vec<String> {
    let jobs = rig.engine().store().jobs_of(id).unwrap();
    jobs.into_iter()
        .filter_map(|job| match job.state {
            JobState::Stuck { reason } => Some(reason),
            _ => None,
        })
        .collect()
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
    assert_eq!(stuck_jobs(&rig, &cancelled), Vec::<String>::new());
    // The other order's cause is still there: it stays stuck for a person.
    assert!(listed(&rig.view(OrderView::Stuck).await, &still_stuck));
    assert_eq!(stuck_jobs(&rig, &still_stuck).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_gave_up_on_lost_answers_reads_the_store_back_once_tiktok_cancels() {
    let mut rig = Rig::start().await;
    let id = rig.paid_order(GB);
    // Every create fails in a way that may have made the order, until the job gives up.
    rig.set
        .shopify
        .faults()
        .sometimes("orderCreate", FaultKind::ServerError, 1.0);
    for _ in 0..5 {
        rig.sync().await;
        if rig.order(&id).flows.import.stuck_reason().is_some() {
            break;
        }
    }
    let reasons = stuck_jobs(&rig, &id);
    assert!(
        reasons.len() == 1 && reasons[0].contains("may have been applied"),
        "{reasons:?}"
    );
    rig.set.shopify.faults().clear();
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "BUYER", "Changed my mind")
        .expect("cancelled on TikTok");
    rig.sync().await;

    let order = rig.order(&id);
    assert!(
        order
            .timeline
            .iter()
            .any(|e| e.text.contains("reading it back")),
        "{:#?}",
        order.timeline
    );
    assert!(
        matches!(order.flows.import.status, FlowStatus::NotApplicable { .. }),
        "{:?}",
        order.flows.import
    );
    assert_eq!(stuck_jobs(&rig, &id), Vec::<String>::new());
    assert!(rig.store_orders(GB, &id).is_empty());
    assert!(!listed(&rig.view(OrderView::Stuck).await, &id));
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
    assert_eq!(stuck_jobs(&rig, &id), Vec::<String>::new());
    assert_eq!(
        rig.set.tiktok.tracking_writes(id.as_str()),
        0,
        "orderdeck pushed nothing"
    );
}
