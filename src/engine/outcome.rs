//! A job's outcome applied to the store: under the order's lock, in one transaction, the job's
//! new state, the order's flow state, the cancellations it settles and the follow-up jobs it
//! causes. Transient failures back off exponentially with full jitter, at least as long as the
//! platform asked; permanent ones park the job as stuck with a reason a person can act on.

use crate::domain::cancellation::{CancelStatus, CancellationKey};
use crate::domain::job::{Job, JobKind, JobState};
use crate::domain::order::{Flow, FlowStatus};
use crate::domain::request::TargetOutcome;
use crate::platforms::ErrorClass;
use crate::store::{Change, StoreError};

use super::activity::Level;
use super::execute::{Effect, Failure};
use super::react::{self, merge_store, react_order, set_flow, store_label};
use super::runner::JobEnd;
use super::{Engine, LinkRuntime};

impl Engine {
    pub(super) async fn finish(
        &self,
        link: &LinkRuntime,
        job: Job,
        outcome: Result<Effect, Failure>,
    ) -> Result<JobEnd, StoreError> {
        let _guard = self.locks.lock(&job.order).await;
        let now = self.now();
        let settings = self.settings(&link.id);
        let mut job = self.store.job(job.id)?.unwrap_or(job);
        let Some(mut order) = self.store.order(&job.order)? else {
            job.state = JobState::Stuck {
                reason: "the order is no longer in orderdeck's store".into(),
            };
            self.store
                .apply_async(&Change {
                    jobs: vec![job],
                    ..Change::default()
                })
                .await?;
            return Ok(JobEnd::Stuck);
        };
        let flow = job.kind.flow();
        let mut change = Change::default();
        let cancellation_key = match &job.kind {
            JobKind::CancelInStore { cancellation } | JobKind::CancelOnTiktok { cancellation } => {
                Some(cancellation.clone())
            }
            JobKind::RespondBuyerCancel { cancel_id, .. } => {
                Some(CancellationKey::Tiktok(cancel_id.clone()))
            }
            _ => None,
        };
        let mut cancellation = match &cancellation_key {
            Some(key) => self.store.cancellation(key)?,
            None => None,
        };
        let settled = matches!(outcome, Ok(Effect::Settled { .. }));
        // What a create found in the store (a lost answer read back) may have changed there
        // since, e.g. staff cancelled it: that is news like any a poll brings.
        let mut store_events = Vec::new();
        let (end, detail) = match outcome {
            Ok(effect) => {
                job.state = JobState::Done { at: now };
                job.last_error = None;
                let detail = match effect {
                    Effect::InStore {
                        store,
                        found_existing,
                    } => {
                        let label = store_label(&store);
                        store_events = merge_store(&mut order, store, now);
                        set_flow(&mut order, Flow::Import, FlowStatus::Done { at: now }, now);
                        if found_existing {
                            format!("found store order {label} (an earlier attempt had created it)")
                        } else {
                            format!("created store order {label}")
                        }
                    }
                    Effect::TrackingPushed { number, provider } => {
                        order.pushed_tracking = Some(number.clone());
                        set_flow(
                            &mut order,
                            Flow::Tracking,
                            FlowStatus::Done { at: now },
                            now,
                        );
                        format!(
                            "tracking {} ({}) sent to TikTok",
                            crate::domain::text::sanitize(&number),
                            crate::domain::text::sanitize(&provider)
                        )
                    }
                    Effect::StoreCancelled { store, .. } => {
                        merge_store(&mut order, store, now);
                        set_flow(
                            &mut order,
                            Flow::Cancellation,
                            FlowStatus::Done { at: now },
                            now,
                        );
                        if let Some(c) = cancellation.as_mut() {
                            c.sync.status = FlowStatus::Done { at: now };
                        }
                        "store order cancelled (no store refund: TikTok refunds the buyer)"
                            .to_string()
                    }
                    Effect::TiktokCancelled { status, .. } => {
                        set_flow(
                            &mut order,
                            Flow::Cancellation,
                            FlowStatus::Done { at: now },
                            now,
                        );
                        if let Some(c) = cancellation.as_mut() {
                            c.tiktok_status = Some(status.clone());
                            c.sync.status = FlowStatus::Done { at: now };
                        }
                        format!("TikTok order cancelled ({status})")
                    }
                    Effect::Responded { approved, .. } => {
                        if let Some(c) = cancellation.as_mut() {
                            c.tiktok_status = Some(if approved {
                                CancelStatus::Success
                            } else {
                                CancelStatus::Withdrawn
                            });
                            c.updated_at = now;
                            let live = self.has_live_store_cancel(&order, &change)?;
                            let follow_up = react::react_tiktok_cancellation(
                                c,
                                &mut order,
                                &settings,
                                link.platform,
                                live,
                                now,
                            );
                            if follow_up.is_none()
                                && order.flows.cancellation.status == FlowStatus::Queued
                            {
                                // The flow went Queued while this answer was retried; with no
                                // store cancel to follow, it must not stay "in progress" (that
                                // would also hold back a later store → TikTok cancel).
                                let settled = match &c.sync.status {
                                    status @ (FlowStatus::NotApplicable { .. }
                                    | FlowStatus::Waiting { .. }
                                    | FlowStatus::Skipped { .. }) => status.clone(),
                                    _ => FlowStatus::NotApplicable {
                                        why: "the buyer's cancel request was answered; nothing to cancel in the store".into(),
                                    },
                                };
                                set_flow(&mut order, Flow::Cancellation, settled, now);
                            }
                            self.queue(
                                &mut change,
                                &order,
                                follow_up.into_iter().collect(),
                                job.request,
                            )?;
                        }
                        if approved {
                            "buyer cancel request approved on TikTok"
                        } else {
                            "buyer cancel request rejected on TikTok"
                        }
                        .to_string()
                    }
                    Effect::LabelSaved { path } => {
                        order.label_file = Some(path.clone());
                        set_flow(&mut order, Flow::Label, FlowStatus::Done { at: now }, now);
                        format!("label saved to {path}")
                    }
                    Effect::Settled { status } => {
                        set_flow(&mut order, flow, status.clone(), now);
                        if let Some(c) = cancellation.as_mut() {
                            c.sync.status = status.clone();
                        }
                        format!("nothing to do: {}", settled_why(&status))
                    }
                };
                if let Some(c) = cancellation.as_mut() {
                    c.sync.updated_at = Some(now);
                    c.sync.last_error = None;
                }
                (JobEnd::Done, detail)
            }
            Err(failure) => {
                let (end, detail) = self.on_failure(link, &mut job, failure, now);
                let flow_state = order.flows.get_mut(flow);
                flow_state.attempts = job.attempts;
                flow_state.last_error = job.last_error.clone();
                match &job.state {
                    JobState::Stuck { reason } => {
                        set_flow(
                            &mut order,
                            flow,
                            FlowStatus::Stuck {
                                reason: reason.clone(),
                            },
                            now,
                        );
                    }
                    _ => {
                        set_flow(&mut order, flow, FlowStatus::Queued, now);
                    }
                }
                if let Some(c) = cancellation.as_mut() {
                    c.sync.attempts = job.attempts;
                    c.sync.last_error = job.last_error.clone();
                    if let JobState::Stuck { reason } = &job.state {
                        c.sync.status = FlowStatus::Stuck {
                            reason: reason.clone(),
                        };
                    }
                    c.sync.updated_at = Some(now);
                }
                (end, detail)
            }
        };
        if job.kind == JobKind::Import && order.flows.import.status != FlowStatus::Queued {
            // A TikTok cancel that arrived while the order was being created waited for this
            // answer: it now applies to the store order made or found, or — when none was made
            // (cancelled first, or stuck) — is settled as never having reached the store, so no
            // cancellation stays "waiting for the store order" forever.
            self.react_pending_cancellations(link, &mut order, &settings, &mut change)?;
        }
        self.react_store_events(link, &mut order, store_events, &settings, &mut change)?;
        if end == JobEnd::Done {
            order.note(now, Some(flow), detail.clone());
            let mut follow_ups = react_order(&mut order, &settings, now);
            if settled {
                // The job just found nothing to do: queueing its kind again would loop.
                follow_ups.retain(|k| *k != job.kind);
            }
            self.queue(&mut change, &order, follow_ups, None)?;
        }
        // Until the commit below, so two jobs of one request cannot lose each other's outcome.
        let _request_guard = match job.request {
            Some(_) => Some(self.request_outcomes.lock().await),
            None => None,
        };
        if let Some(request_id) = job.request
            && let Some(mut request) = self.store.request(request_id)?
        {
            let outcome = match end {
                JobEnd::Done => TargetOutcome::Succeeded {
                    detail: detail.clone(),
                },
                JobEnd::Stuck => TargetOutcome::Failed {
                    error: detail.clone(),
                },
                JobEnd::Retrying => TargetOutcome::Queued { job: job.id },
            };
            request.record_outcome(&order.id, outcome, now);
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
        self.commit(&link.id, change).await?;
        Ok(end)
    }

    /// Retry with backoff, or park as stuck. Returns the end and a one-line description.
    fn on_failure(
        &self,
        link: &LinkRuntime,
        job: &mut Job,
        failure: Failure,
        now: crate::domain::clock::Timestamp,
    ) -> (JobEnd, String) {
        let (retry_after, reason) = match failure {
            Failure::Stuck(reason) => (None, reason),
            Failure::Store(e) => (Some(None), format!("orderdeck's store failed: {e}")),
            Failure::Platform(e) => {
                job.last_error = Some(e.to_flow_error(now));
                match &e.class {
                    ErrorClass::RetryLater { after } => (Some(*after), e.to_string()),
                    ErrorClass::Ambiguous => {
                        job.maybe_applied = true;
                        (
                            Some(None),
                            format!("{e} (may have been applied: it is read back before retrying)"),
                        )
                    }
                    ErrorClass::RefreshCredentials => (None, credentials_reason(link, &e)),
                    ErrorClass::Permanent => (None, e.to_string()),
                }
            }
        };
        job.attempts += 1;
        match retry_after {
            Some(asked) if !self.options.backoff.exhausted(job.attempts) => {
                let delay =
                    self.options
                        .backoff
                        .delay(job.attempts - 1, rand::random::<f64>(), asked);
                job.state = JobState::Ready;
                job.run_after = now + chrono::Duration::from_std(delay).unwrap_or_default();
                (
                    JobEnd::Retrying,
                    format!(
                        "retrying in {}: {reason}",
                        crate::domain::clock::human_duration(
                            chrono::Duration::from_std(delay).unwrap_or_default()
                        )
                    ),
                )
            }
            Some(_) => {
                let reason = format!("gave up after {} attempts: {reason}", job.attempts);
                job.state = JobState::Stuck {
                    reason: reason.clone(),
                };
                (JobEnd::Stuck, reason)
            }
            None => {
                job.state = JobState::Stuck {
                    reason: reason.clone(),
                };
                (JobEnd::Stuck, reason)
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
            let live = self.has_live_store_cancel(order, change)?;
            let job =
                react::react_tiktok_cancellation(&mut c, order, settings, link.platform, live, now);
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
        events: Vec<crate::domain::rules::cancel::StoreEvent>,
        settings: &crate::domain::settings::LinkSettings,
        change: &mut Change,
    ) -> Result<(), StoreError> {
        let now = self.now();
        for event in events {
            let Some(store) = &order.store else { break };
            let key = CancellationKey::Store(store.order_id.clone());
            let recorded = change.cancellations.iter().any(|c| c.key == key)
                || self
                    .store
                    .cancellation(&key)?
                    .is_some_and(|known| known.sync.status != FlowStatus::Idle);
            if recorded {
                break;
            }
            if let Some((c, job)) =
                react::react_store_event(event, order, settings, link.platform, now)
            {
                self.queue(change, order, job.into_iter().collect(), None)?;
                change.cancellations.push(c);
            }
        }
        Ok(())
    }
}

fn settled_why(status: &FlowStatus) -> String {
    match status {
        FlowStatus::Waiting { why }
        | FlowStatus::Skipped { why }
        | FlowStatus::NotApplicable { why } => why.clone(),
        FlowStatus::Stuck { reason } => reason.clone(),
        _ => "already done".into(),
    }
}

/// What to tell staff when a platform refuses the credentials even after a refresh.
fn credentials_reason(link: &LinkRuntime, e: &crate::platforms::PlatformError) -> String {
    match e.platform {
        crate::domain::platform::Platform::TiktokShop => format!(
            "TikTok refused shop {}'s credentials even after a token refresh ({e}): re-authorize the app for this shop and update its tokens in orderdeck.toml",
            link.shop
        ),
        platform => format!(
            "{platform} refused store {}'s credentials ({e}): update its access token in orderdeck.toml",
            link.store_name
        ),
    }
}
