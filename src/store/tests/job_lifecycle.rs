//! The job lifecycle against a model: random queues, claims, outcomes (every effect of the flows
//! it covers, retries with and without a possibly-applied write, stuck), retries of stuck jobs,
//! clean reopens and crashes, written through the real store with the domain's own outcome
//! mapping ([`crate::domain::outcome`]). After every step the store must hold what a plain
//! model says, every flow and job must only have moved along a legal transition, a queued flow
//! must have exactly one live job, and a crash must bring running jobs back ready and marked
//! "read back first".

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;

use super::{open, order, tempdir};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{JobId, TiktokOrderId};
use crate::domain::job::{Backoff, Job, JobKind, JobState};
use crate::domain::order::{Flow, FlowStatus, Order};
use crate::domain::outcome::{JobEffect, JobFailure, apply_effect, apply_failure};
use crate::domain::reactor::set_flow;
use crate::domain::rules::fixtures::{in_store, t};
use crate::store::{Change, Store};

const ORDERS: usize = 3;
const KINDS: [JobKind; 3] = [JobKind::Import, JobKind::PushTracking, JobKind::FetchLabel];

#[derive(Debug, Clone)]
enum Outcome {
    Success {
        found_existing: bool,
    },
    Retry {
        maybe_applied: bool,
        after_secs: u64,
    },
    Stuck,
}

#[derive(Debug, Clone)]
enum Op {
    Queue {
        order: usize,
        kind: usize,
    },
    /// Claims the `pick`-th ready job (modulo how many there are).
    Claim {
        pick: usize,
    },
    /// Finishes the `pick`-th running job.
    Finish {
        pick: usize,
        outcome: Outcome,
    },
    RetryStuck {
        order: usize,
    },
    Reopen,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    let outcome = prop_oneof![
        3 => any::<bool>().prop_map(|found_existing| Outcome::Success { found_existing }),
        3 => (any::<bool>(), 0u64..120).prop_map(|(maybe_applied, after_secs)| Outcome::Retry {
            maybe_applied,
            after_secs
        }),
        1 => Just(Outcome::Stuck),
    ];
    prop_oneof![
        4 => (0..ORDERS, 0..KINDS.len()).prop_map(|(order, kind)| Op::Queue { order, kind }),
        4 => any::<usize>().prop_map(|pick| Op::Claim { pick }),
        5 => (any::<usize>(), outcome).prop_map(|(pick, outcome)| Op::Finish { pick, outcome }),
        1 => (0..ORDERS).prop_map(|order| Op::RetryStuck { order }),
        1 => Just(Op::Reopen),
        1 => Just(Op::Crash),
    ]
}

/// The model: what each job should be, kept the plainest way, and the flows it implies.
#[derive(Default)]
struct Model {
    jobs: BTreeMap<JobId, Job>,
    orders: BTreeMap<TiktokOrderId, Order>,
}

const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(2),
    cap: Duration::from_secs(60),
    max_attempts: 4,
};

fn ids() -> Vec<TiktokOrderId> {
    (0..ORDERS)
        .map(|i| TiktokOrderId::new(format!("57{i}")).expect("valid id"))
        .collect()
}

fn live(job: &Job) -> bool {
    matches!(job.state, JobState::Ready | JobState::Running { .. })
}

#[allow(
    clippy::too_many_lines,
    reason = "one arm per operation, read top to bottom"
)]
fn step(
    op: &Op,
    store: &mut Option<Store>,
    dir: &std::path::Path,
    model: &mut Model,
    now: Timestamp,
) {
    let current = store.as_ref().expect("open");
    let ids = ids();
    let write = |order: &Order, job: &Job| {
        current
            .apply(&Change {
                orders: vec![order.clone()],
                jobs: vec![job.clone()],
                ..Change::default()
            })
            .expect("a change applies");
    };
    match op {
        Op::Queue { order, kind } => {
            let kind = KINDS[*kind].clone();
            let id = &ids[*order];
            let busy = model.jobs.values().any(|j| {
                &j.order == id
                    && j.kind.flow() == kind.flow()
                    && (live(j) || matches!(j.state, JobState::Stuck { .. }))
            });
            if busy {
                return; // the engine queues a flow's job only when none is live or stuck
            }
            let mut o = model.orders[id].clone();
            set_flow(&mut o, kind.flow(), FlowStatus::Queued, now);
            let job = Job::new(
                current.allocate_job_id().expect("id"),
                id.clone(),
                o.link.clone(),
                kind,
                now,
            );
            write(&o, &job);
            model.jobs.insert(job.id, job);
            model.orders.insert(id.clone(), o);
        }
        Op::Claim { pick } => {
            let ready: Vec<JobId> = model
                .jobs
                .values()
                .filter(|j| j.state == JobState::Ready && j.run_after <= now)
                .map(|j| j.id)
                .collect();
            let stored: Vec<JobId> = current
                .due_jobs(now, usize::MAX)
                .expect("due jobs")
                .iter()
                .map(|j| j.id)
                .collect();
            let mut sorted = ready.clone();
            sorted.sort();
            let mut stored_sorted = stored.clone();
            stored_sorted.sort();
            assert_eq!(
                stored_sorted, sorted,
                "the store's due jobs are the model's"
            );
            let Some(id) = ready.get(pick % ready.len().max(1)).copied() else {
                return;
            };
            let mut job = model.jobs[&id].clone();
            job.state = JobState::Running { since: now };
            current
                .apply(&Change {
                    jobs: vec![job.clone()],
                    ..Change::default()
                })
                .expect("claim");
            model.jobs.insert(id, job);
        }
        Op::Finish { pick, outcome } => {
            let running: Vec<JobId> = model
                .jobs
                .values()
                .filter(|j| matches!(j.state, JobState::Running { .. }))
                .map(|j| j.id)
                .collect();
            let Some(id) = running.get(pick % running.len().max(1)).copied() else {
                return;
            };
            let mut job = model.jobs[&id].clone();
            let mut o = model.orders[&job.order].clone();
            finish(&mut job, &mut o, outcome, now);
            write(&o, &job);
            model.jobs.insert(id, job);
            model.orders.insert(o.id.clone(), o);
        }
        Op::RetryStuck { order } => {
            let id = &ids[*order];
            let mut o = model.orders[id].clone();
            let mut change = Change::default();
            for job in model.jobs.values_mut().filter(|j| &j.order == id) {
                if let JobState::Stuck { .. } = job.state {
                    job.state = JobState::Ready;
                    job.attempts = 0;
                    job.run_after = now;
                    set_flow(&mut o, job.kind.flow(), FlowStatus::Queued, now);
                    change.jobs.push(job.clone());
                }
            }
            if change.jobs.is_empty() {
                return;
            }
            change.orders.push(o.clone());
            current.apply(&change).expect("retry");
            model.orders.insert(id.clone(), o);
        }
        Op::Reopen | Op::Crash => {
            let old = store.take().expect("open");
            if matches!(op, Op::Reopen) {
                old.close().expect("closes");
            } else {
                drop(old);
            }
            let reopened = store.insert(open(dir));
            let mut released = Vec::new();
            for job in model.jobs.values_mut() {
                if let JobState::Running { since } = job.state {
                    job.state = JobState::Ready;
                    job.last_attempt_at = Some(since);
                    job.maybe_applied = true;
                    released.push(job.id);
                }
            }
            assert_eq!(reopened.open_report().released_jobs, released);
        }
    }
}

/// Runs the domain's outcome mapping for one finished job and checks what a person would see.
fn finish(job: &mut Job, o: &mut Order, outcome: &Outcome, now: Timestamp) {
    let flow = job.kind.flow();
    let attempts_before = job.attempts;
    match outcome {
        Outcome::Success { found_existing } => {
            let effect = match job.kind {
                JobKind::Import => JobEffect::InStore {
                    store: in_store(o.clone(), vec![]).store.expect("store side"),
                    found_existing: *found_existing,
                },
                JobKind::PushTracking => {
                    JobEffect::whole_order_shipped("1Z999AA10000000077", "UPS")
                }
                _ => JobEffect::LabelSaved {
                    path: format!("/labels/{}.pdf", job.order),
                },
            };
            apply_effect(job, o, None, effect, now);
            assert_eq!(job.state, JobState::Done { at: now });
            assert_eq!(o.flows.get(flow).status, FlowStatus::Done { at: now });
        }
        Outcome::Retry {
            maybe_applied,
            after_secs,
        } => {
            let was_applied = job.maybe_applied;
            let failure = JobFailure::Retry {
                reason: "503".into(),
                error: None,
                after: Some(Duration::from_secs(*after_secs)),
                maybe_applied: *maybe_applied,
            };
            apply_failure(job, o, None, failure, &BACKOFF, 0.5, now);
            assert_eq!(job.attempts, attempts_before + 1);
            assert_eq!(
                job.maybe_applied,
                was_applied || *maybe_applied,
                "a possibly applied write stays marked until it succeeds"
            );
            if job.attempts >= BACKOFF.max_attempts {
                assert!(matches!(job.state, JobState::Stuck { .. }));
                assert!(matches!(o.flows.get(flow).status, FlowStatus::Stuck { .. }));
            } else {
                assert_eq!(job.state, JobState::Ready);
                assert!(job.run_after >= now + chrono::Duration::seconds(*after_secs as i64));
                assert_eq!(o.flows.get(flow).status, FlowStatus::Queued);
            }
        }
        Outcome::Stuck => {
            let failure = JobFailure::Stuck {
                reason: "the store has no variant with SKU ABC-1".into(),
                error: None,
            };
            apply_failure(job, o, None, failure, &BACKOFF, 0.5, now);
            assert!(matches!(job.state, JobState::Stuck { .. }));
        }
    }
}

/// Job states may only move Ready → Running → (Done | Ready | Stuck), Stuck → Ready, and a
/// running job back to Ready when its process died; Done is final.
fn legal_job_move(before: &JobState, after: &JobState) -> bool {
    use JobState::*;
    match (before, after) {
        (a, b) if a == b => true,
        (Ready, Running { .. }) => true,
        (Running { .. }, Done { .. } | Ready | Stuck { .. }) => true,
        (Stuck { .. }, Ready) => true,
        _ => false,
    }
}

fn verify(store: &Store, model: &Model, before: &Model) {
    for (id, job) in &model.jobs {
        assert_eq!(
            store.job(*id).expect("read").as_ref(),
            Some(job),
            "job {id}"
        );
        if let Some(old) = before.jobs.get(id) {
            assert!(
                legal_job_move(&old.state, &job.state),
                "job {id}: {:?} → {:?}",
                old.state,
                job.state
            );
        }
    }
    for (id, o) in &model.orders {
        let stored = store.order(id).expect("read").expect("order kept");
        assert_eq!(&stored.flows, &o.flows, "flows of {id}");
        for flow in [Flow::Import, Flow::Tracking, Flow::Label] {
            let old = &before.orders[id].flows.get(flow).status;
            let new = &o.flows.get(flow).status;
            assert!(
                old == new || old.may_become(new),
                "{id} {}: {old:?} → {new:?}",
                flow.name()
            );
            let live_jobs = model
                .jobs
                .values()
                .filter(|j| &j.order == id && j.kind.flow() == flow && live(j))
                .count();
            let queued = *new == FlowStatus::Queued;
            assert_eq!(
                live_jobs,
                usize::from(queued),
                "{id} {}: a queued flow has exactly one live job, any other none ({new:?})",
                flow.name()
            );
        }
    }
}

fn run(ops: &[Op]) {
    let dir = tempdir();
    let mut store = Some(open(dir.path()));
    let mut model = Model::default();
    let mut seed = Change::default();
    for (i, id) in ids().iter().enumerate() {
        let o = order(id.as_str(), if i % 2 == 0 { "uk" } else { "us" });
        model.orders.insert(id.clone(), o.clone());
        seed.orders.push(o);
    }
    store.as_ref().expect("open").apply(&seed).expect("seed");
    for (i, op) in ops.iter().enumerate() {
        let before = Model {
            jobs: model.jobs.clone(),
            orders: model.orders.clone(),
        };
        // Time moves a minute a step, so backoffs expire and due jobs come and go.
        let now = t(60 * i as i64);
        step(op, &mut store, dir.path(), &mut model, now);
        verify(store.as_ref().expect("open"), &model, &before);
    }
    store.take().expect("open").close().expect("closes");
}

/// 80 sequences of up to 80 steps: about 3,200 steps through the real store.
/// `PROPTEST_CASES=1000` makes a longer soak.
#[test]
fn jobs_move_only_along_legal_transitions_through_crashes() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(80);
    let config = ProptestConfig {
        cases,
        max_shrink_iters: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let executed = std::cell::Cell::new(0usize);
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(op(), 1..80), |ops| {
        run(&ops);
        executed.set(executed.get() + ops.len());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "job lifecycle model: {} steps in {cases} sequences",
        executed.get()
    );
}
