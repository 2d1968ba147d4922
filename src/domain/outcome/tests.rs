//! The effect → state table and the failure → retry/stuck table, as a person would read them on
//! the order: which flow moved where, what the job became, what the cancellation says.

use std::time::Duration;

use super::*;
use crate::domain::cancellation::CancelStatus;
use crate::domain::ids::JobId;
use crate::domain::job::JobKind;
use crate::domain::order::{FlowError, FlowStatus, StorefrontOrderStatus};
use crate::domain::reactor::cancellation_from_order;
use crate::domain::rules::cancel::StorefrontCancelled;
use crate::domain::rules::fixtures::{fulfilled, in_store, paid, t};

fn job_of(order: &Order, kind: JobKind) -> Job {
    Job::new(JobId(7), order.id.clone(), order.link.clone(), kind, t(0))
}

fn queued(mut order: Order, flow: Flow) -> Order {
    order.flows.get_mut(flow).status = FlowStatus::Queued;
    order
}

#[test]
fn each_effect_finishes_the_job_and_moves_its_flow() {
    let now = t(100);
    let store = in_store(paid(), vec![]).store.unwrap();
    let mut cancelled_store = store.clone();
    cancelled_store.status = StorefrontOrderStatus::Cancelled;
    cancelled_store.updated_at = t(90);
    // (job kind, flow, effect, flow status after, detail starts with)
    let table: Vec<(JobKind, Flow, JobEffect, FlowStatus, &str)> = vec![
        (
            JobKind::Import,
            Flow::Import,
            JobEffect::InStore {
                store: store.clone(),
                found_existing: false,
            },
            FlowStatus::Done { at: now },
            "created store order #1001",
        ),
        (
            JobKind::Import,
            Flow::Import,
            JobEffect::InStore {
                store: store.clone(),
                found_existing: true,
            },
            FlowStatus::Done { at: now },
            "found store order #1001 (an earlier attempt",
        ),
        (
            JobKind::PushTracking,
            Flow::Tracking,
            JobEffect::whole_order_shipped("1Z999", "UPS"),
            FlowStatus::Done { at: now },
            "tracking 1Z999 (UPS) sent to TikTok",
        ),
        (
            JobKind::FetchLabel,
            Flow::Label,
            JobEffect::LabelSaved {
                path: "/labels/1.pdf".into(),
            },
            FlowStatus::Done { at: now },
            "label saved to /labels/1.pdf",
        ),
        (
            JobKind::PushTracking,
            Flow::Tracking,
            JobEffect::Settled {
                status: FlowStatus::NotApplicable {
                    why: "TikTok cancelled it".into(),
                },
            },
            FlowStatus::NotApplicable {
                why: "TikTok cancelled it".into(),
            },
            "nothing to do: TikTok cancelled it",
        ),
    ];
    for (kind, flow, effect, after, detail) in table {
        let mut order = queued(paid(), flow);
        let mut job = job_of(&order, kind.clone());
        job.last_error = Some(FlowError {
            at: t(1),
            message: "earlier timeout".into(),
            code: None,
            request_id: None,
        });
        let applied = apply_effect(&mut job, &mut order, None, effect, now);
        assert_eq!(job.state, JobState::Done { at: now }, "{kind:?}");
        assert_eq!(
            job.last_error, None,
            "{kind:?}: a success clears the last error"
        );
        assert_eq!(order.flows.get(flow).status, after, "{kind:?}");
        assert!(
            applied.detail.starts_with(detail),
            "{kind:?}: {}",
            applied.detail
        );
    }
}

#[test]
fn a_pushed_tracking_number_is_remembered_so_a_change_is_an_update() {
    let mut order = queued(
        in_store(paid(), vec![fulfilled("1Z1", Some("UPS"))]),
        Flow::Tracking,
    );
    let mut job = job_of(&order, JobKind::PushTracking);
    let effect = JobEffect::whole_order_shipped("1Z1", "UPS");
    apply_effect(&mut job, &mut order, None, effect, t(10));
    assert_eq!(order.pushed_tracking.as_deref(), Some("1Z1"));
}

#[test]
fn cancelling_effects_settle_their_cancellation() {
    let now = t(100);
    let base = in_store(paid(), vec![]);
    let mut c = cancellation_from_order(&base, true, t(50));
    let mut order = queued(base.clone(), Flow::Cancellation);
    let key = c.key.clone();
    let mut job = job_of(&order, JobKind::CancelInStore { cancellation: key });
    let mut store = base.store.clone().unwrap();
    store.status = StorefrontOrderStatus::Cancelled;
    store.updated_at = t(99);
    apply_effect(
        &mut job,
        &mut order,
        Some(&mut c),
        JobEffect::StoreCancelled {
            cancelled: StorefrontCancelled {
                store,
                put_back: Vec::new(),
                shipped: Vec::new(),
            },
        },
        now,
    );
    assert_eq!(c.sync.status, FlowStatus::Done { at: now });
    assert_eq!(c.sync.updated_at, Some(now));
    assert_eq!(
        order.flows.cancellation.status,
        FlowStatus::Done { at: now }
    );
    assert_eq!(
        order.store.as_ref().map(|s| s.status.clone()),
        Some(StorefrontOrderStatus::Cancelled)
    );

    let mut c = cancellation_from_order(&base, true, t(50));
    let mut order = queued(base.clone(), Flow::Cancellation);
    let mut job = job_of(
        &order,
        JobKind::CancelOnTiktok {
            cancellation: c.key.clone(),
        },
    );
    let effect = JobEffect::TiktokCancelled {
        status: CancelStatus::Success,
    };
    let applied = apply_effect(&mut job, &mut order, Some(&mut c), effect, now);
    assert_eq!(c.tiktok_status, Some(CancelStatus::Success));
    assert_eq!(c.sync.status, FlowStatus::Done { at: now });
    assert!(
        applied.detail.starts_with("TikTok order cancelled"),
        "{}",
        applied.detail
    );
}

#[test]
fn an_answered_buyer_request_records_tiktoks_status_and_settles_a_queued_flow() {
    let base = in_store(paid(), vec![]);
    for (approved, status) in [
        (true, CancelStatus::Success),
        (false, CancelStatus::Withdrawn),
    ] {
        let mut c = cancellation_from_order(&base, true, t(50));
        let mut order = queued(base.clone(), Flow::Cancellation);
        let mut job = job_of(&order, JobKind::FetchLabel);
        apply_effect(
            &mut job,
            &mut order,
            Some(&mut c),
            JobEffect::Responded { approved },
            t(70),
        );
        assert_eq!(c.tiktok_status, Some(status));
        settle_answered_request(&mut order, &c, t(70));
        assert!(
            matches!(
                order.flows.cancellation.status,
                FlowStatus::NotApplicable { .. }
            ),
            "{:?}",
            order.flows.cancellation.status
        );
    }
}

#[test]
fn failures_retry_with_backoff_until_exhausted_then_stick() {
    let backoff = Backoff {
        base: Duration::from_secs(2),
        cap: Duration::from_secs(60),
        max_attempts: 3,
    };
    let mut order = queued(paid(), Flow::Import);
    let mut job = job_of(&order, JobKind::Import);
    let retry = || JobFailure::Retry {
        reason: "503 from the store".into(),
        error: None,
        after: Some(Duration::from_secs(30)),
        maybe_applied: false,
    };
    let (end, detail) = apply_failure(&mut job, &mut order, None, retry(), &backoff, 0.0, t(0));
    assert_eq!(end, JobEnd::Retrying);
    assert_eq!(job.state, JobState::Ready);
    assert_eq!(job.run_after, t(30), "never sooner than the platform asked");
    assert_eq!(detail, "retrying in 30s: 503 from the store");
    assert_eq!(order.flows.import.status, FlowStatus::Queued);
    assert_eq!(order.flows.import.attempts, 1);

    apply_failure(&mut job, &mut order, None, retry(), &backoff, 0.5, t(30));
    let (end, detail) = apply_failure(&mut job, &mut order, None, retry(), &backoff, 0.5, t(60));
    assert_eq!(end, JobEnd::Stuck);
    assert!(
        detail.starts_with("gave up after 3 attempts: 503"),
        "{detail}"
    );
    assert!(matches!(job.state, JobState::Stuck { .. }));
    assert!(matches!(
        order.flows.import.status,
        FlowStatus::Stuck { .. }
    ));
}

#[test]
fn an_ambiguous_failure_is_read_back_and_a_permanent_one_sticks_with_its_error() {
    let backoff = Backoff::default();
    let mut order = queued(paid(), Flow::Import);
    let mut job = job_of(&order, JobKind::Import);
    let error = FlowError {
        at: t(0),
        message: "connection reset".into(),
        code: None,
        request_id: Some("req-1".into()),
    };
    let ambiguous = JobFailure::Retry {
        reason: "connection reset".into(),
        error: Some(error.clone()),
        after: None,
        maybe_applied: true,
    };
    apply_failure(&mut job, &mut order, None, ambiguous, &backoff, 0.1, t(0));
    assert!(
        job.maybe_applied,
        "the create may have happened: read back first"
    );
    assert_eq!(order.flows.import.last_error, Some(error.clone()));

    let base = in_store(paid(), vec![]);
    let mut c = cancellation_from_order(&base, true, t(50));
    let mut order = queued(base, Flow::Cancellation);
    let mut job = job_of(
        &order,
        JobKind::CancelInStore {
            cancellation: c.key.clone(),
        },
    );
    let stuck = JobFailure::Stuck {
        reason: "the store refused the cancel".into(),
        error: Some(error),
    };
    let (end, _) = apply_failure(
        &mut job,
        &mut order,
        Some(&mut c),
        stuck,
        &backoff,
        0.1,
        t(5),
    );
    assert_eq!(end, JobEnd::Stuck);
    assert_eq!(
        c.sync.status,
        FlowStatus::Stuck {
            reason: "the store refused the cancel".into()
        }
    );
    assert_eq!(
        c.sync
            .last_error
            .as_ref()
            .and_then(|e| e.request_id.as_deref()),
        Some("req-1")
    );
}

#[test]
fn a_retry_whose_jittered_wait_is_nothing_says_now() {
    let mut order = queued(paid(), Flow::Import);
    let mut job = job_of(&order, JobKind::Import);
    let failure = JobFailure::Retry {
        reason: "503 from the store".into(),
        error: None,
        after: None,
        maybe_applied: false,
    };
    let backoff = Backoff::default();
    let (end, detail) = apply_failure(&mut job, &mut order, None, failure, &backoff, 0.0, t(0));
    assert_eq!(end, JobEnd::Retrying);
    assert_eq!(detail, "retrying now: 503 from the store");
}
