//! Model-based property test: random sequences of changes, settings writes, id allocations,
//! clean reopens and crashes, applied both to the store and to a plain in-memory model
//! (BTreeMaps and a Vec). After every step every read API must agree with the model, every view
//! must list what `views_of` + `is_visible` say in sort-key order, and the full integrity check
//! must find nothing. A crash (drop without `close`) must bring `Running` jobs back `Ready`.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::ops::{self, ChangeSpec, LINKS, ORDER_IDS, Op, STREAMS, SettingsSpec, hours};
use super::verify::verify;
use super::*;
use crate::domain::job::JobState;
use crate::domain::settings::LinkSettings;
use crate::store::{
    Change, CheckDepth, LinkRecord, SettingsRecord, SettingsWrite, StoreError, Watermark,
};

/// What the store should hold, kept the simplest way.
#[derive(Debug, Default)]
pub struct Model {
    pub orders: BTreeMap<TiktokOrderId, Order>,
    pub payloads: BTreeMap<TiktokOrderId, serde_json::Value>,
    pub cancellations: BTreeMap<CancellationKey, Cancellation>,
    pub jobs: BTreeMap<JobId, Job>,
    pub requests: BTreeMap<RequestId, ResyncRequest>,
    /// In insertion order.
    pub audit: Vec<AuditEntry>,
    pub settings: BTreeMap<LinkId, SettingsRecord>,
    pub links: BTreeMap<LinkId, LinkRecord>,
    pub watermarks: BTreeMap<(LinkId, String), Watermark>,
    pub job_high: u64,
    pub request_high: u64,
}

impl Model {
    pub fn settings_of(&self, link: &LinkId) -> LinkSettings {
        self.settings
            .get(link)
            .map(|r| r.settings.clone())
            .unwrap_or_default()
    }

    fn settings_version(&self, link: &LinkId) -> u64 {
        self.settings.get(link).map_or(0, |r| r.version)
    }

    /// What opening does to jobs a dead process left running.
    fn release_running(&mut self) -> Vec<JobId> {
        let mut released = Vec::new();
        for job in self.jobs.values_mut() {
            if let JobState::Running { since } = job.state {
                job.state = JobState::Ready;
                job.last_attempt_at = Some(since);
                job.maybe_applied = true;
                released.push(job.id);
            }
        }
        released
    }
}

fn settings_write(spec: &SettingsSpec, model: &Model, step: usize) -> SettingsWrite {
    let link = link(LINKS[spec.link]);
    let current = model.settings_version(&link);
    SettingsWrite {
        expected_version: if spec.stale { current + 1 } else { current },
        settings: LinkSettings {
            missing_tracking_after: std::time::Duration::from_secs(spec.threshold_hours * 3600),
            ..LinkSettings::default()
        },
        at: hours(step as i64),
        by: operator(),
        link,
    }
}

/// Builds the change (allocating ids for new jobs and requests as the engine would) and the
/// model's expectation of it.
fn build_change(spec: &ChangeSpec, store: &Store, model: &mut Model, step: usize) -> Change {
    let mut change = Change {
        orders: spec.orders.iter().map(|o| o.build()).collect(),
        cancellations: spec.cancellations.iter().map(|c| c.build()).collect(),
        audit: spec
            .audit
            .iter()
            .map(|h| audit(hours(*h), &format!("test.step{step}")))
            .collect(),
        ..Change::default()
    };
    for j in &spec.jobs {
        let id = match &j.existing {
            Some(ix) if !model.jobs.is_empty() => {
                *model.jobs.keys().nth(ix.index(model.jobs.len())).unwrap()
            }
            _ => allocate_job(store, model),
        };
        change.jobs.push(j.build(id));
    }
    for r in &spec.requests {
        let id = match &r.existing {
            Some(ix) if !model.requests.is_empty() => *model
                .requests
                .keys()
                .nth(ix.index(model.requests.len()))
                .unwrap(),
            _ => allocate_request(store, model),
        };
        change.requests.push(r.build(id));
    }
    change.settings.extend(
        spec.settings
            .as_ref()
            .map(|s| settings_write(s, model, step)),
    );
    if let Some((l, stream, h)) = spec.watermark {
        let mark = Watermark {
            at: hours(h),
            cursor: Some(format!("cursor-{step}")),
        };
        change
            .watermarks
            .push((link(LINKS[l]), STREAMS[stream].into(), mark));
    }
    if let Some((o, marker)) = spec.payload {
        let json = serde_json::json!({"order_id": ORDER_IDS[o], "marker": marker, "line_items": [{"id": "li-1"}]});
        change.payloads.push((order_id(ORDER_IDS[o]), json));
    }
    if let Some(l) = spec.link_record {
        change.links.push(link_record(LINKS[l], hours(step as i64)));
    }
    change.remove_orders = spec
        .remove_orders
        .iter()
        .map(|o| order_id(ORDER_IDS[*o]))
        .collect();
    if !model.jobs.is_empty() {
        let ids: Vec<JobId> = model.jobs.keys().copied().collect();
        change.remove_jobs = spec
            .remove_jobs
            .iter()
            .map(|ix| ids[ix.index(ids.len())])
            .collect();
    }
    change
}

fn allocate_job(store: &Store, model: &mut Model) -> JobId {
    let id = store.allocate_job_id().unwrap();
    assert_eq!(
        id.0,
        model.job_high + 1,
        "job ids are handed out in sequence"
    );
    model.job_high = id.0;
    id
}

fn allocate_request(store: &Store, model: &mut Model) -> RequestId {
    let id = store.allocate_request_id().unwrap();
    assert_eq!(
        id.0,
        model.request_high + 1,
        "request ids are handed out in sequence"
    );
    model.request_high = id.0;
    id
}

/// The model's version of `apply`: the same writes in the same order (puts, then removals).
fn apply_to_model(change: &Change, model: &mut Model) {
    for l in &change.links {
        model.links.insert(l.link.clone(), l.clone());
    }
    for w in &change.settings {
        let version = model.settings_version(&w.link) + 1;
        let record = SettingsRecord {
            link: w.link.clone(),
            version,
            settings: w.settings.clone(),
            updated_at: w.at,
            updated_by: w.by.clone(),
        };
        model.settings.insert(w.link.clone(), record);
    }
    for o in &change.orders {
        model.orders.insert(o.id.clone(), o.clone());
    }
    for (id, json) in &change.payloads {
        model.payloads.insert(id.clone(), json.clone());
    }
    for c in &change.cancellations {
        model.cancellations.insert(c.key.clone(), c.clone());
    }
    for j in &change.jobs {
        model.job_high = model.job_high.max(j.id.0);
        model.jobs.insert(j.id, j.clone());
    }
    for r in &change.requests {
        model.request_high = model.request_high.max(r.id.0);
        model.requests.insert(r.id, r.clone());
    }
    model.audit.extend(change.audit.iter().cloned());
    for (l, stream, mark) in &change.watermarks {
        model
            .watermarks
            .insert((l.clone(), stream.clone()), mark.clone());
    }
    for id in &change.remove_orders {
        model.orders.remove(id);
        model.payloads.remove(id);
    }
    for id in &change.remove_jobs {
        model.jobs.remove(id);
    }
}

fn step(op: &Op, store: &mut Option<Store>, dir: &std::path::Path, model: &mut Model, step: usize) {
    let Some(current) = store.as_ref() else {
        unreachable!("the store is open between steps")
    };
    match op {
        Op::Apply(spec) => {
            let change = build_change(spec, current, model, step);
            let stale = change
                .settings
                .iter()
                .any(|w| w.expected_version != model.settings_version(&w.link));
            match current.apply(&change) {
                Ok(()) if !stale => apply_to_model(&change, model),
                Err(StoreError::StaleSettings { .. }) if stale => {} // nothing of it was written
                other => panic!("apply returned {other:?}, stale settings: {stale}"),
            }
        }
        Op::Settings(spec) => {
            let write = settings_write(spec, model, step);
            match current.put_settings(write.clone()) {
                Ok(record) if !spec.stale => {
                    apply_to_model(
                        &Change {
                            settings: vec![write],
                            ..Change::default()
                        },
                        model,
                    );
                    assert_eq!(Some(&record), model.settings.get(&record.link));
                }
                Err(StoreError::StaleSettings { .. }) if spec.stale => {}
                other => panic!("put_settings returned {other:?}, stale: {}", spec.stale),
            }
        }
        Op::AllocateJobId => drop(allocate_job(current, model)),
        Op::AllocateRequestId => drop(allocate_request(current, model)),
        Op::Reopen | Op::Crash => {
            let old = store.take().expect("open");
            let depth = if matches!(op, Op::Reopen) {
                old.close().unwrap();
                CheckDepth::Quick
            } else {
                drop(old);
                CheckDepth::Full
            };
            let reopened = store.insert(open(dir));
            let released = model.release_running();
            let report = reopened.open_report();
            assert_eq!(report.integrity.depth, depth);
            assert!(
                report.integrity.is_clean(),
                "{:?}",
                report.integrity.problems
            );
            assert_eq!(report.released_jobs, released);
        }
    }
}

/// Times at which the views and due jobs are read, one per step in turn: before, around and
/// well after the missing-tracking thresholds and the jobs' due times.
const NOWS: [i64; 4] = [0, 3, 30, 100];

fn run(ops: &[Op]) {
    let dir = tempdir();
    let mut store = Some(open(dir.path()));
    let mut model = Model::default();
    for (i, op) in ops.iter().enumerate() {
        step(op, &mut store, dir.path(), &mut model, i);
        let now = hours(NOWS[i % NOWS.len()]);
        verify(store.as_ref().expect("open"), &model, now);
    }
    store.take().expect("open").close().unwrap();
}

/// 80 sequences of up to 90 operations: about 3,600 operations, 15 s of one core in a debug
/// build. `PROPTEST_CASES=1000` makes a longer soak.
#[test]
fn store_agrees_with_the_model() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(80);
    let config = ProptestConfig {
        cases,
        max_shrink_iters: 2_000,
        // Failures print the minimal sequence; no regression file inside `src/`.
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let started = std::time::Instant::now();
    let executed = std::cell::Cell::new(0usize);
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(ops::op(), 1..90), |ops| {
        run(&ops);
        executed.set(executed.get() + ops.len());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "model test: {} operations in {cases} sequences, {:.1?}",
        executed.get(),
        started.elapsed()
    );
}
