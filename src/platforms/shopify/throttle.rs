//! Cost-based pacing for Shopify's leaky bucket, one [`CostPacer`] per app and store, shared by
//! every task calling that store.
//!
//! Shopify charges each query its `requestedQueryCost` up front (refunding down to
//! `actualQueryCost` afterwards) and answers `THROTTLED` when the bucket holds less than that.
//! The pacer keeps a local model of the bucket — points available at an instant, refilling at
//! `restoreRate` up to `maximumAvailable` — and admits a request only when the model predicts
//! the request's cost (plus a safety point) is there. Invariants:
//! - Every admitted request is debited its estimated cost at once, so concurrent tasks see
//!   each other's spending before Shopify does.
//! - Every response's `extensions.cost` corrects the model: the estimate becomes the cost
//!   Shopify charged, and the model never claims more than Shopify last reported.
//! - Until the first response tells the bucket's size, one request at a time probes it; until
//!   an operation has been charged once, one request of it at a time goes, estimated at the
//!   hint its document's cost rules give ([`CostKey::hint_per_unit`]).
//! - Waiters are admitted in arrival order (a FIFO gate), so nobody starves under load.
//!
//! With these, once the bucket is known a burst is spread over time instead of being throttled.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Kept free on top of each estimate: the bucket is reported in whole points.
const SAFETY_POINTS: f64 = 1.0;
/// How often a waiter re-checks when it cannot compute a wait (unknown bucket, zero rate).
const RECHECK: Duration = Duration::from_millis(250);

/// Shopify's `extensions.cost`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryCost {
    pub requested: f64,
    /// `None` when nothing ran (a `THROTTLED` answer).
    pub actual: Option<f64>,
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

/// What a request will cost: per operation, learnt per unit (a SKU batch of five costs five
/// units of `lookupSkus`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostKey {
    pub operation: &'static str,
    pub units: u32,
    /// Points per unit assumed until Shopify has charged the operation once: its document's
    /// cost under Shopify's published rules.
    pub hint_per_unit: f64,
}

impl CostKey {
    pub fn one(operation: &'static str, hint: f64) -> CostKey {
        CostKey {
            operation,
            units: 1,
            hint_per_unit: hint,
        }
    }
}

/// The bucket as last modelled, for status displays and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketSnapshot {
    pub maximum_available: f64,
    pub available_now: f64,
    pub restore_rate: f64,
}

#[derive(Debug, Clone, Copy)]
struct Model {
    maximum: f64,
    restore_rate: f64,
    available: f64,
    at: Instant,
}

impl Model {
    fn predicted(&self, now: Instant) -> f64 {
        let refilled = self.available
            + self.restore_rate * now.saturating_duration_since(self.at).as_secs_f64();
        refilled.min(self.maximum)
    }
}

#[derive(Debug, Default)]
struct State {
    model: Option<Model>,
    probe_in_flight: bool,
    /// Estimates debited for requests not answered yet, by admission id.
    in_flight: HashMap<u64, f64>,
    next_id: u64,
    per_unit_cost: HashMap<&'static str, f64>,
    /// Operations whose first request is out and whose cost is not known yet.
    probing_operations: HashSet<&'static str>,
}

enum Decision {
    Go {
        id: u64,
        debited: f64,
        /// This request probes the bucket (`bucket`) or its operation's cost (`operation`).
        bucket: bool,
        operation: bool,
    },
    Wait(Duration),
}

impl State {
    fn estimate(&self, key: CostKey, maximum: f64) -> f64 {
        let per_unit = self
            .per_unit_cost
            .get(key.operation)
            .copied()
            .unwrap_or(key.hint_per_unit);
        (per_unit * f64::from(key.units)).min(maximum)
    }

    fn decide(&mut self, key: CostKey, now: Instant) -> Decision {
        let id = self.next_id;
        let cost_known = self.per_unit_cost.contains_key(key.operation);
        if !cost_known && self.probing_operations.contains(key.operation) {
            return Decision::Wait(RECHECK);
        }
        let Some(model) = self.model else {
            if self.probe_in_flight {
                return Decision::Wait(RECHECK);
            }
            self.probe_in_flight = true;
            self.probing_operations.insert(key.operation);
            self.next_id += 1;
            return Decision::Go {
                id,
                debited: 0.0,
                bucket: true,
                operation: true,
            };
        };
        let estimate = self.estimate(key, model.maximum);
        let needed = (estimate + SAFETY_POINTS).min(model.maximum);
        let predicted = model.predicted(now);
        if predicted >= needed {
            self.model = Some(Model {
                available: predicted - estimate,
                at: now,
                ..model
            });
            self.in_flight.insert(id, estimate);
            if !cost_known {
                self.probing_operations.insert(key.operation);
            }
            self.next_id += 1;
            return Decision::Go {
                id,
                debited: estimate,
                bucket: false,
                operation: !cost_known,
            };
        }
        if model.restore_rate <= 0.0 {
            return Decision::Wait(RECHECK);
        }
        Decision::Wait(Duration::from_secs_f64(
            (needed - predicted) / model.restore_rate,
        ))
    }

    fn observe(&mut self, key: CostKey, id: u64, debited: f64, cost: &QueryCost, now: Instant) {
        if cost.requested.is_finite() && cost.requested >= 0.0 && key.units > 0 {
            self.per_unit_cost
                .insert(key.operation, cost.requested / f64::from(key.units));
        }
        self.in_flight.remove(&id);
        let reported = cost.currently_available;
        let available = match self.model {
            // Our debit becomes what Shopify actually kept (nothing at all when throttled).
            Some(model) => {
                let charged = cost.actual.unwrap_or(0.0);
                (model.predicted(now) + debited - charged).min(reported)
            }
            // First sight of the bucket: requests still in flight will be charged too.
            None => reported - self.in_flight.values().sum::<f64>(),
        };
        self.model = Some(Model {
            maximum: cost.maximum_available,
            restore_rate: cost.restore_rate,
            available,
            at: now,
        });
    }
}

/// The pacer of one app-and-store bucket.
#[derive(Debug)]
pub struct CostPacer {
    gate: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    changed: Notify,
    max_wait: Duration,
}

impl CostPacer {
    /// `max_wait`: a wait longer than this is not slept; `admit` answers it instead, so the
    /// caller can report `RetryLater` rather than hold a worker.
    pub fn new(max_wait: Duration) -> CostPacer {
        CostPacer {
            gate: tokio::sync::Mutex::new(()),
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            max_wait,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the bucket can take a request of this kind, or answers how long it would
    /// take when that is more than `max_wait`.
    pub async fn admit(&self, key: CostKey) -> Result<Permit<'_>, Duration> {
        let _turn = self.gate.lock().await;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before looking at the state, so an observation in between still wakes us.
            changed.as_mut().enable();
            let decision = self.state().decide(key, Instant::now());
            match decision {
                Decision::Go {
                    id,
                    debited,
                    bucket,
                    operation,
                } => {
                    return Ok(Permit {
                        pacer: self,
                        key,
                        id,
                        debited,
                        probes_bucket: bucket,
                        probes_operation: operation,
                        settled: false,
                    });
                }
                Decision::Wait(wait) if wait > self.max_wait => return Err(wait),
                Decision::Wait(wait) => {
                    crate::platforms::metrics::rate_limit_wait(
                        crate::domain::platform::Platform::Shopify,
                        wait,
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = &mut changed => {}
                    }
                }
            }
        }
    }

    pub fn snapshot(&self) -> Option<BucketSnapshot> {
        let model = self.state().model?;
        Some(BucketSnapshot {
            maximum_available: model.maximum,
            available_now: model.predicted(Instant::now()),
            restore_rate: model.restore_rate,
        })
    }
}

/// An admitted request. Report Shopify's cost with [`Permit::observe`]; dropped without a cost
/// (the request failed in transit), its debit stays, since Shopify may have charged it.
#[derive(Debug)]
pub struct Permit<'a> {
    pacer: &'a CostPacer,
    key: CostKey,
    id: u64,
    debited: f64,
    probes_bucket: bool,
    probes_operation: bool,
    settled: bool,
}

impl Permit<'_> {
    pub fn observe(mut self, cost: &QueryCost) {
        self.pacer
            .state()
            .observe(self.key, self.id, self.debited, cost, Instant::now());
        self.settle();
    }

    fn settle(&mut self) {
        if self.settled {
            return;
        }
        self.settled = true;
        {
            let mut state = self.pacer.state();
            state.in_flight.remove(&self.id);
            if self.probes_bucket {
                state.probe_in_flight = false;
            }
            if self.probes_operation {
                state.probing_operations.remove(self.key.operation);
            }
        }
        self.pacer.changed.notify_waiters();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.settle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(requested: f64, actual: f64, available: f64) -> QueryCost {
        QueryCost {
            requested,
            actual: Some(actual),
            maximum_available: 100.0,
            currently_available: available,
            restore_rate: 50.0,
        }
    }

    const KEY: CostKey = CostKey {
        operation: "order",
        units: 1,
        hint_per_unit: 10.0,
    };

    #[tokio::test(start_paused = true)]
    async fn one_probe_until_the_bucket_is_known() {
        let pacer = CostPacer::new(Duration::from_secs(60));
        let probe = pacer.admit(KEY).await.unwrap();
        // A second request waits for the probe's answer...
        let second = tokio::time::timeout(Duration::from_secs(1), pacer.admit(KEY)).await;
        assert!(second.is_err(), "admitted before the bucket was known");
        probe.observe(&cost(10.0, 10.0, 90.0));
        // ...and then goes at once.
        let started = Instant::now();
        let _second = pacer.admit(KEY).await.unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn paces_at_the_restore_rate_once_the_bucket_runs_low() {
        let pacer = CostPacer::new(Duration::from_secs(60));
        pacer
            .admit(KEY)
            .await
            .unwrap()
            .observe(&cost(40.0, 40.0, 60.0));
        let started = Instant::now();
        // 60 available: one 40-point request now, the next needs 41 → (41 - 20) / 50 s later.
        for _ in 0..2 {
            let permit = pacer.admit(KEY).await.unwrap();
            drop(permit); // lost in transit: the debit stays
        }
        let waited = started.elapsed().as_secs_f64();
        assert!((waited - 21.0 / 50.0).abs() < 0.01, "{waited}");
    }

    #[tokio::test(start_paused = true)]
    async fn refunds_and_lower_reports_correct_the_model() {
        let pacer = CostPacer::new(Duration::from_secs(60));
        pacer
            .admit(KEY)
            .await
            .unwrap()
            .observe(&cost(40.0, 40.0, 100.0));
        let permit = pacer.admit(KEY).await.unwrap();
        // Charged 40 up front, 5 in the end: the 35-point refund is available again.
        permit.observe(&cost(40.0, 5.0, 95.0));
        let seen = pacer.snapshot().unwrap().available_now;
        assert!((seen - 95.0).abs() < 0.01, "{seen}");
        // Another app instance spent points: Shopify's lower figure wins.
        pacer
            .admit(KEY)
            .await
            .unwrap()
            .observe(&cost(40.0, 40.0, 10.0));
        assert!(pacer.snapshot().unwrap().available_now <= 10.0 + 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_operation_goes_one_at_a_time_at_its_hint_until_charged() {
        let pacer = CostPacer::new(Duration::from_secs(60));
        pacer
            .admit(KEY)
            .await
            .unwrap()
            .observe(&cost(10.0, 10.0, 100.0));
        let create = CostKey::one("orderCreate", 10.0);
        let first = pacer.admit(create).await.unwrap();
        let second = tokio::time::timeout(Duration::from_secs(1), pacer.admit(create)).await;
        assert!(second.is_err(), "a second unpriced request went out");
        first.observe(&cost(12.0, 12.0, 88.0));
        let started = Instant::now();
        let _second = pacer.admit(create).await.unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!((pacer.snapshot().unwrap().available_now - 76.0).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn long_waits_are_refused_not_slept() {
        let pacer = CostPacer::new(Duration::from_secs(1));
        pacer
            .admit(KEY)
            .await
            .unwrap()
            .observe(&cost(10.0, 10.0, 0.0));
        // A 100-point hint on an empty bucket: (100 - 0) / 50 = 2 s, more than max_wait.
        let refused = pacer
            .admit(CostKey::one("orders", 100.0))
            .await
            .unwrap_err();
        assert_eq!(refused, Duration::from_secs(2));
        // Known cost 10 + 1: 0.22 s.
        let started = Instant::now();
        let _permit = pacer.admit(KEY).await.unwrap();
        assert!((started.elapsed().as_secs_f64() - 0.22).abs() < 0.01);
    }

    #[tokio::test(start_paused = true)]
    async fn units_scale_the_learnt_cost() {
        let pacer = CostPacer::new(Duration::from_secs(60));
        let five = CostKey {
            operation: "lookup_skus",
            units: 5,
            hint_per_unit: 20.0,
        };
        pacer
            .admit(five)
            .await
            .unwrap()
            .observe(&cost(60.0, 15.0, 85.0));
        let state = pacer.state();
        assert_eq!(
            state.estimate(
                CostKey {
                    operation: "lookup_skus",
                    units: 2,
                    hint_per_unit: 20.0,
                },
                100.0
            ),
            24.0
        );
    }
}
