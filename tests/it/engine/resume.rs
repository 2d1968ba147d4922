//! Stuck work resumes by itself once its cause is gone (issue #19): orders stuck on a SKU the
//! store lacks are imported once it exists, each exactly once, with one lookup per SKU per
//! re-check and re-checks spaced by the engine's backoff; orders that met refused credentials
//! go on once a poll of the store succeeds; a carrier_map change releases the tracking pushes
//! waiting on it; causes only a person can fix stay stuck, and the diagnosis says which is which.
//!
//! The backoff test runs the engine on a clock it moves itself (`retry_initial` 10 minutes,
//! `retry_max` 40): time never passes on its own there, so which syncs re-check is exact.

use std::sync::Arc;
use std::time::Duration;

use orderdeck::domain::FixedClock;
use orderdeck::domain::access::Role;
use orderdeck::domain::cause::StuckCause;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::job::JobState;
use orderdeck::domain::order::FlowStatus;
use orderdeck::domain::triage::OrderView;
use orderdeck::service::api::{Request, Response, WaitingOn};

use crate::engine::support::*;

const LATE_SKU: &str = "SKU-LATE";

/// Retries as fast as the usual rig, re-checks of causes ten minutes apart at first.
const SLOW_CHECKS: &str = "[engine]\nrequest_timeout = \"1s\"\nconnect_timeout = \"1s\"\n\
                           retry_initial = \"10m\"\nretry_max = \"40m\"\n";

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

/// Adds a paid order of `shop` with these SKUs and answers its id.
fn order_with(rig: &mut Rig, shop: usize, skus: &[&str]) -> TiktokOrderId {
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, skus);
    rig.add(&spec)
}

fn lookups(rig: &Rig) -> u32 {
    rig.set
        .shopify
        .calls(&rig.store(GB), "productVariants")
        .expect("store exists")
}

fn import_waits_on(rig: &Rig, id: &TiktokOrderId) -> Option<StuckCause> {
    rig.order(id).flows.import.stuck_on().cloned()
}

async fn diagnosis(rig: &Rig, id: &TiktokOrderId) -> Vec<String> {
    match rig
        .call(Role::Viewer, Request::Order { id: id.clone() })
        .await
    {
        Ok(Response::Order(detail)) => detail.diagnosis,
        other => panic!("order {id}: {other:?}"),
    }
}

/// One shop on an engine clock the test moves, with slow cause checks. The clock starts a
/// minute ahead of the wall clock, so orders added now are inside the first poll's window.
async fn rig_on_a_fixed_clock() -> (Rig, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(
        chrono::Utc::now() + chrono::Duration::minutes(1),
    ));
    let rig = Rig::with(Options {
        shops: 1,
        engine: Some(SLOW_CHECKS),
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    (rig, clock)
}

/// What the Stores view shows the first link's stuck orders wait on.
async fn waiting(rig: &Rig) -> Vec<WaitingOn> {
    match rig.call(Role::Viewer, Request::Overview).await {
        Ok(Response::Overview(overview)) => overview.links[GB].waiting.clone(),
        other => panic!("overview: {other:?}"),
    }
}

fn timeline_says(rig: &Rig, id: &TiktokOrderId, words: &str) -> bool {
    rig.order(id)
        .timeline
        .iter()
        .any(|e| e.text.contains(words))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_stuck_on_a_missing_sku_import_by_themselves_once_it_exists_and_only_once() {
    let (mut rig, clock) = rig_on_a_fixed_clock().await;
    let ids: Vec<TiktokOrderId> = (0..4)
        .map(|_| order_with(&mut rig, GB, &[LATE_SKU]))
        .collect();
    rig.sync().await;
    let store = rig.store(GB);
    let missing = StuckCause::MissingSku {
        store: orderdeck::domain::ids::StorefrontId::new(store.clone()).unwrap(),
        sku: LATE_SKU.into(),
    };
    for id in &ids {
        assert_eq!(import_waits_on(&rig, id), Some(missing.clone()), "{id}");
    }
    // The Stores view's data: what the link's stuck orders wait on.
    assert_eq!(
        waiting(&rig).await,
        [WaitingOn {
            cause: missing.clone(),
            orders: 4
        }]
    );

    // Each sync re-checks what is due: the first re-check comes `retry_initial` after the cause
    // was first seen, then the waits double up to `retry_max`; each re-check of the four
    // orders' one SKU is one lookup. (minutes the clock moves, lookups that sync makes)
    let steps = [
        (0, 0),
        (10, 1),
        (10, 0),
        (10, 1),
        (20, 0),
        (20, 1),
        (40, 1),
        (39, 0),
    ];
    for (i, (advance, expected)) in steps.into_iter().enumerate() {
        clock.advance(minutes(advance));
        let before = lookups(&rig);
        rig.sync().await;
        assert_eq!(lookups(&rig) - before, expected, "step {i} (+{advance}m)");
    }
    for id in &ids {
        assert!(
            rig.store_orders(GB, id).is_empty(),
            "{id} imported too soon"
        );
        assert_eq!(import_waits_on(&rig, id), Some(missing.clone()), "{id}");
    }

    // The merchant adds the SKU; nobody presses retry. The next re-check finds it.
    rig.set
        .shopify
        .add_variant(&store, LATE_SKU, "Late jumper (Red, S)")
        .expect("variant added");
    clock.advance(minutes(1));
    let before = lookups(&rig);
    rig.sync().await;
    // One re-check lookup, then each resumed import looks its lines up as it creates.
    assert_eq!(lookups(&rig) - before, 1 + 4);
    rig.sync().await;
    for id in &ids {
        let order = rig.order(id);
        assert!(
            is_done(&order.flows.import.status),
            "{id}: {:?}",
            order.flows
        );
        assert_eq!(order.flows.import.waits_on, None);
        rig.store_order(GB, id);
        assert!(
            timeline_says(&rig, id, &format!("{LATE_SKU} now exists in store {store}")),
            "{id}: {:#?}",
            order.timeline
        );
    }
    assert!(rig.view(OrderView::Stuck).await.is_empty());
    assert!(waiting(&rig).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn causes_a_machine_cannot_fix_stay_stuck_and_the_diagnosis_says_so() {
    let (mut rig, clock) = rig_on_a_fixed_clock().await;
    let ambiguous = order_with(&mut rig, GB, &[DUP_SKU]);
    let missing = order_with(&mut rig, GB, &[GHOST_SKU]);
    rig.sync().await;
    assert_eq!(import_waits_on(&rig, &ambiguous), Some(StuckCause::Person));
    let person = diagnosis(&rig, &ambiguous).await;
    assert!(
        person
            .iter()
            .any(|l| l.contains("a person must fix this; orderdeck does not retry it by itself")),
        "{person:#?}"
    );
    let automatic = diagnosis(&rig, &missing).await;
    assert!(
        automatic.iter().any(|l| l.contains(&format!(
            "waits on SKU {GHOST_SKU} missing in store {}; orderdeck retries by itself once",
            rig.store(GB)
        ))),
        "{automatic:#?}"
    );

    rig.set
        .shopify
        .add_variant(&rig.store(GB), GHOST_SKU, "Ghost (One size)")
        .expect("variant added");
    for _ in 0..4 {
        clock.advance(minutes(40));
        rig.sync().await;
    }
    rig.store_order(GB, &missing);
    // The ambiguous one was never run again: its one job is still stuck after its one attempt.
    assert!(rig.store_orders(GB, &ambiguous).is_empty());
    let jobs = rig.engine().store().jobs_of(&ambiguous).expect("jobs read");
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    assert!(matches!(jobs[0].state, JobState::Stuck { .. }), "{jobs:#?}");
    assert_eq!(jobs[0].attempts, 1);
    assert!(!timeline_says(&rig, &ambiguous, "resumed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_stuck_on_refused_credentials_flow_again_once_the_store_accepts_them() {
    let mut rig = Rig::start().await;
    let store = rig.store(GB);
    rig.set
        .shopify
        .set_token_valid(&store, false)
        .expect("token revoked");
    let id = rig.paid_order(GB);
    rig.sync().await;
    let order = rig.order(&id);
    assert!(
        matches!(order.flows.import.status, FlowStatus::Stuck { .. }),
        "{:?}",
        order.flows
    );
    assert_eq!(
        import_waits_on(&rig, &id),
        Some(StuckCause::StoreCredentials {
            store: orderdeck::domain::ids::StorefrontId::new(store.clone()).unwrap()
        })
    );
    // Still refused: the store's poll fails, and the order stays where it is.
    rig.sync().await;
    assert!(rig.store_orders(GB, &id).is_empty());

    rig.set
        .shopify
        .set_token_valid(&store, true)
        .expect("token restored");
    rig.sync().await;
    let order = rig.order(&id);
    assert!(is_done(&order.flows.import.status), "{:?}", order.flows);
    rig.store_order(GB, &id);
    assert!(
        timeline_says(
            &rig,
            &id,
            &format!("store {store} accepts its credentials again")
        ),
        "{:#?}",
        order.timeline
    );
    rig.sync().await;
    rig.store_order(GB, &id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carrier_map_change_releases_the_tracking_pushes_waiting_on_it() {
    let mut rig = Rig::start().await;
    let ids: Vec<TiktokOrderId> = (0..3).map(|_| rig.paid_order(GB)).collect();
    let other = rig.paid_order(GB);
    rig.sync().await;
    for (n, id) in ids.iter().enumerate() {
        rig.fulfil(GB, id, &format!("HP40000000{n}"), "Hermes Parcelnet");
    }
    rig.fulfil(GB, &other, "QX500000009", "Quixotic Couriers");
    rig.sync().await;
    for id in ids.iter().chain([&other]) {
        assert!(
            matches!(
                tracking_cause(&rig, id),
                Some(StuckCause::UnmappedCarrier { .. })
            ),
            "{id}: {:?}",
            rig.order(id).flows.tracking
        );
    }

    rig.settings(GB, &[("carrier_map", "Hermes Parcelnet=Evri")])
        .await;
    rig.sync().await;
    for id in &ids {
        assert_eq!(rig.set.tiktok.shipments(id.as_str()).len(), 1, "{id}");
        assert!(is_done(&rig.order(id).flows.tracking.status), "{id}");
        assert!(timeline_says(
            &rig,
            id,
            "carrier_map now maps 'Hermes Parcelnet'"
        ));
    }
    // A carrier the change does not map still waits.
    assert!(rig.set.tiktok.shipments(other.as_str()).is_empty());
    assert!(matches!(
        tracking_cause(&rig, &other),
        Some(StuckCause::UnmappedCarrier { .. })
    ));
}

fn tracking_cause(rig: &Rig, id: &TiktokOrderId) -> Option<StuckCause> {
    rig.order(id).flows.tracking.stuck_on().cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_retries_everything_waiting_on_a_cause_in_one_audited_request() {
    // Re-checks ten minutes apart: only the person's request can move these orders here.
    let mut rig = Rig::with(Options {
        shops: 1,
        engine: Some(SLOW_CHECKS),
        ..Options::default()
    })
    .await;
    let ids: Vec<TiktokOrderId> = (0..3)
        .map(|_| order_with(&mut rig, GB, &[GHOST_SKU]))
        .collect();
    let ambiguous = order_with(&mut rig, GB, &[DUP_SKU]);
    rig.sync().await;
    let store = rig.store(GB);
    rig.set
        .shopify
        .add_variant(&store, GHOST_SKU, "Ghost (One size)")
        .expect("variant added");
    let cause = waiting(&rig)
        .await
        .into_iter()
        .find(|w| w.orders == 3)
        .expect("three orders wait on the ghost SKU")
        .cause;
    let retry = |role| {
        rig.call(
            role,
            Request::RetryCause {
                link: rig.link(GB),
                cause: cause.clone(),
                reason: Some("added the SKU".into()),
            },
        )
    };
    let refused = retry(Role::Viewer).await;
    assert!(refused.is_err(), "{refused:?}");
    let answer = retry(Role::Support).await;
    assert!(
        matches!(&answer, Ok(Response::Done { message }) if message.starts_with("3 stuck job(s) queued again")),
        "{answer:?}"
    );
    rig.sync().await;
    for id in &ids {
        rig.store_order(GB, id);
        assert!(timeline_says(
            &rig,
            id,
            "retried by support-user (all waiting on SKU GHOST-003"
        ));
    }
    assert!(rig.store_orders(GB, &ambiguous).is_empty());
    let audit = rig
        .engine()
        .store()
        .audit_page(None, 50)
        .expect("audit reads");
    assert!(
        audit
            .iter()
            .any(|r| r.entry.action == "job.retry_cause" && r.entry.actor.user == "support-user"),
        "{audit:#?}"
    );
    // Nothing waits on it any more: a second press is refused, not silently done.
    assert!(retry(Role::Support).await.is_err());
    // Orders that need a person share no cause: never retried all at once.
    let person = rig
        .call(
            Role::Support,
            Request::RetryCause {
                link: rig.link(GB),
                cause: StuckCause::Person,
                reason: None,
            },
        )
        .await;
    assert!(person.is_err(), "{person:?}");
    assert!(rig.store_orders(GB, &ambiguous).is_empty());
}
