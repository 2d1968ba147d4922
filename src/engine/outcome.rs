//! A job's outcome applied to the store: under the order's lock, in one transaction, the job's
//! new state, the order's flow state, the cancellations it settles and the follow-up jobs it
//! causes. The state itself is decided by the domain ([`crate::domain::outcome`]); this module
//! reads, locks, classifies platform errors, merges request outcomes and commits.

use crate::domain::cancellation::CancellationKey;
use crate::domain::job::{Job, JobKind, JobState};
use crate::domain::order::{FlowStatus, Order};
use crate::domain::outcome::{
    JobEffect, JobEnd, JobFailure, apply_effect, apply_failure, settle_answered_request,
};
use crate::domain::reactor;
use crate::domain::request::TargetOutcome;
use crate::domain::rules::cancel::StorefrontEvent;
use crate::domain::settings::LinkSettings;
use crate::platforms::{ErrorClass, PlatformError};
use crate::store::{Change, StoreError};

use super::activity::Level;
use super::execute::{Failure, JobResult};
use super::{Engine, LinkRuntime};

impl Engine {
    /// Records how `job` ran on the order the run read (`seen`) and what follows from it.
    pub(super) async fn finish(
        &self,
        link: &LinkRuntime,
        job: Job,
        result: JobResult,
        seen: Option<Order>,
    ) -> Result<JobEnd, StoreError> {
        let _guard = self.locks.lock(&job.order).await;
        let now = self.now();
        let settings = self.settings(&link.id);
        let mut job = self.store.job(job.id)?.unwrap_or(job);
        let Some(mut order) = self.store.order(&job.order)? else {
            job.state = JobState::Stuck {
                reason: "the order is no longer in orderdeck's store".into(),
            };
            self.commit(Change {
                jobs: vec![job],
                ..Change::default()
            })
            .await?;
            return Ok(JobEnd::Stuck);
        };
        let changed_meanwhile = seen.as_ref() != Some(&order);
        let mut change = Change::default();
        let mut cancellation = match cancellation_key(&job.kind) {
            Some(key) => self.store.cancellation(&key)?,
            None => None,
        };
        let settled = matches!(result, Ok(JobEffect::Settled { .. }));
        let answered = matches!(result, Ok(JobEffect::Responded { .. }));
        let mut store_events = Vec::new();
        let (end, detail) = match result {
            Ok(effect) => {
                let applied =
                    apply_effect(&mut job, &mut order, cancellation.as_mut(), effect, now);
                if answered && let Some(c) = cancellation.as_mut() {
                    // The answer's consequence in the store (a cancel, or nothing).
                    let follow_up =
                        self.react_to_tiktok_cancel(link, c, &mut order, &settings, &change, now)?;
                    if follow_up.is_none() {
                        settle_answered_request(&mut order, c, now);
                    }
                    self.queue(
                        &mut change,
                        &order,
                        follow_up.into_iter().collect(),
                        job.request,
                    )?;
                }
                store_events = applied.store_events;
                (JobEnd::Done, applied.detail)
            }
            Err(failure) => {
                let cause = super::resume::cause_of(link, &failure);
                let ended = apply_failure(
                    &mut job,
                    &mut order,
                    cancellation.as_mut(),
                    self.job_failure(link, failure, now),
                    &self.options.backoff,
                    rand::random::<f64>(),
                    now,
                );
                if ended.0 == JobEnd::Stuck {
                    order.flows.get_mut(job.kind.flow()).waits_on = Some(cause);
                }
                ended
            }
        };
        let ran = Ran {
            end,
            settled,
            changed_meanwhile,
            detail: &detail,
            store_events,
        };
        self.follow_up(link, &job, &mut order, &settings, ran, &mut change)?;
        // Until the commit below, so two jobs of one request cannot lose each other's outcome.
        let _request_guard = match job.request {
            Some(_) => Some(self.request_outcomes.lock().await),
            None => None,
        };
        if let Some(request_id) = job.request
            && let Some(mut request) = self.store.request(request_id)?
        {
            request.record_outcome(&order.id, target_outcome(end, &job, &detail), now);
            change.requests.push(request);
        }
        let level = match end {
            JobEnd::Done => Level::Info,
            JobEnd::Retrying => Level::Warn,
            JobEnd::Stuck => Level::Error,
        };
        self.activity.record(
            now,
            level,
            Some(&link.id),
            Some(&order.id),
            format!("{}: {detail}", job.kind.describe()),
        );
        change.cancellations.extend(cancellation);
        change.jobs.push(job);
        change.orders.push(order);
        self.commit(change).await?;
        Ok(end)
    }

    /// What follows a run on the order itself: cancellations that waited for an import's
    /// answer, store events the run revealed, and the rules applied again after a success.
    fn follow_up(
        &self,
        link: &LinkRuntime,
        job: &Job,
        order: &mut Order,
        settings: &LinkSettings,
        ran: Ran<'_>,
        change: &mut Change,
    ) -> Result<(), StoreError> {
        let now = self.now();
        if job.kind == JobKind::Import && order.flows.import.status != FlowStatus::Queued {
            // A TikTok cancel that arrived while the order was being created waited for this
            // answer: it now applies to the store order made or found, or — when none was made
            // (cancelled first, or stuck) — is settled as never having reached the store, so no
            // cancellation stays "waiting for the store order" forever.
            self.react_pending_cancellations(link, order, settings, change)?;
        }
        // What a create found in the store (a lost answer read back) may have changed there
        // since, e.g. staff cancelled it: that is news like any a poll brings.
        self.react_store_events(link, order, ran.store_events, settings, change)?;
        if ran.end == JobEnd::Done {
            order.note(now, Some(job.kind.flow()), ran.detail.to_string());
            let mut follow_ups = self.react(order, settings, change)?;
            if ran.settled && !ran.changed_meanwhile {
                // The job just found nothing to do on this very order: queueing its kind
                // again would loop. News that came meanwhile is another matter.
                follow_ups.retain(|k| *k != job.kind);
            }
            self.queue(change, order, follow_ups, None)?;
        }
        Ok(())
    }

    /// A failure as the job's state machine sees it: retry (after how long, read back first?)
    /// or stuck, with the reason staff read.
    fn job_failure(
        &self,
        link: &LinkRuntime,
        failure: Failure,
        now: crate::domain::clock::Timestamp,
    ) -> JobFailure {
        match failure {
            Failure::Stuck(reason) => JobFailure::Stuck {
                reason,
                error: None,
            },
            Failure::Blocked(blocked) => JobFailure::Stuck {
                reason: blocked.reason,
                error: None,
            },
            Failure::Store(e) => JobFailure::Retry {
                reason: format!("orderdeck's store failed: {e}"),
                error: None,
                after: None,
                maybe_applied: false,
            },
            Failure::Platform(e) => {
                let error = Some(e.to_flow_error(now));
                match &e.class {
                    ErrorClass::RetryLater { after } => JobFailure::Retry {
                        reason: e.to_string(),
                        error,
                        after: *after,
                        maybe_applied: false,
                    },
                    ErrorClass::Ambiguous => JobFailure::Retry {
                        reason: format!(
                            "{e} (may have been applied: it is read back before retrying)"
                        ),
                        error,
                        after: None,
                        maybe_applied: true,
                    },
                    ErrorClass::RefreshCredentials => JobFailure::Stuck {
                        reason: credentials_reason(link, &e),
                        error,
                    },
                    ErrorClass::Permanent => JobFailure::Stuck {
                        reason: e.to_string(),
                        error,
                    },
                }
            }
        }
    }

    /// TikTok cancellations of the order decided while its store order was unknown — waiting
    /// for the create, or settled as "never reached the store" — decided again now that the
    /// create has answered or the store order was found. Re-deciding the others changes nothing.
    pub(super) fn react_pending_cancellations(
        &self,
        link: &LinkRuntime,
        order: &mut crate::domain::order::Order,
        settings: &crate::domain::settings::LinkSettings,
        change: &mut Change,
    ) -> Result<(), StoreError> {
        let now = self.now();
        for mut c in self.store.cancellations_of(&order.id)? {
            if c.direction != crate::domain::cancellation::Direction::TiktokToStore
                || !matches!(
                    c.sync.status,
                    FlowStatus::Idle
                        | FlowStatus::Waiting { .. }
                        | FlowStatus::NotApplicable { .. }
                )
            {
                continue;
            }
            let job = self.react_to_tiktok_cancel(link, &mut c, order, settings, change, now)?;
            self.queue(change, order, job.into_iter().collect(), None)?;
            change.cancellations.push(c);
        }
        Ok(())
    }

    /// Store events (cancel, refund) seen on an order's store side, wherever it was read: a
    /// store → TikTok cancellation per the link's settings, unless one is already on record.
    pub(super) fn react_store_events(
        &self,
        link: &LinkRuntime,
        order: &mut crate::domain::order::Order,
        events: Vec<crate::domain::rules::cancel::StorefrontEvent>,
        settings: &crate::domain::settings::LinkSettings,
        change: &mut Change,
    ) -> Result<(), StoreError> {
        let now = self.now();
        for event in events {
            if order.store.is_none() {
                break;
            }
            let key = event.key(&order.id);
            let recorded = change.cancellations.iter().any(|c| c.key == key)
                || self
                    .store
                    .cancellation(&key)?
                    .is_some_and(|known| known.sync.status != FlowStatus::Idle);
            if recorded {
                break;
            }
            if let Some((c, job)) =
                reactor::react_store_event(event, order, settings, link.platform, now)
            {
                self.queue(change, order, job.into_iter().collect(), None)?;
                change.cancellations.push(c);
            }
        }
        Ok(())
    }
}

/// What to tell staff when a platform refuses the credentials even after a refresh.
fn credentials_reason(link: &LinkRuntime, e: &PlatformError) -> String {
    match e.platform {
        crate::domain::platform::Platform::TiktokShop => format!(
            "TikTok refused shop {}'s credentials even after a token refresh ({e}): re-authorize the app for this shop and update its tokens in orderdeck.toml",
            link.shop
        ),
        platform => format!(
            "{platform} refused store {}'s credentials ({e}): update its access token in orderdeck.toml",
            link.storefront_name
        ),
    }
}

/// How a run ended, for what follows it.
struct Ran<'a> {
    end: JobEnd,
    /// The job found nothing to do.
    settled: bool,
    /// Something else changed the order while the job ran (a poll brought a new parcel).
    changed_meanwhile: bool,
    detail: &'a str,
    store_events: Vec<StorefrontEvent>,
}

/// The cancellation a job runs for, if any.
fn cancellation_key(kind: &JobKind) -> Option<CancellationKey> {
    match kind {
        JobKind::CancelInStore { cancellation } | JobKind::CancelOnTiktok { cancellation } => {
            Some(cancellation.clone())
        }
        JobKind::RespondBuyerCancel { cancel_id, .. } => {
            Some(CancellationKey::Tiktok(cancel_id.clone()))
        }
        _ => None,
    }
}

/// A run's end, as its resync request records it for the order.
fn target_outcome(end: JobEnd, job: &Job, detail: &str) -> TargetOutcome {
    match end {
        JobEnd::Done => TargetOutcome::Succeeded {
            detail: detail.to_string(),
        },
        JobEnd::Stuck => TargetOutcome::Failed {
            error: detail.to_string(),
        },
        JobEnd::Retrying => TargetOutcome::Queued { job: job.id },
    }
}
