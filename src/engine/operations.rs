//! What people ask the engine to do (through the service, which checks roles and writes the
//! audit entry passed in here, in the same transaction): run a resync, answer a buyer's cancel
//! request, retry stuck jobs, change a link's settings (label reprints are in `labels.rs`); plus
//! `sync_once` and the small write helpers every engine path shares.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::audit::{Actor, AuditEntry};
use crate::domain::cancellation::{CancellationKey, Direction, SellerResponse};
use crate::domain::ids::{CancelId, JobId, LinkId, TiktokOrderId};
use crate::domain::job::{Job, JobKind, JobState};
use crate::domain::order::{Flow, FlowStatus, Order};
use crate::domain::request::{RequestStatus, ResyncFlow, ResyncRequest, TargetOutcome};
use crate::domain::rules::cancel::check_seller_response;
use crate::domain::settings::{LinkSettings, SettingKey};
use crate::domain::triage::OrderView;
use crate::store::{Change, SettingsRecord, SettingsWrite, StoreError, ViewQuery};

use super::notification::Topic;
use super::{Engine, LinkRuntime};
use crate::domain::reactor::{self, react_order, set_flow};

#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    /// The request names something wrong; the message says what.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A platform call made on the spot (label reprint) failed.
    #[error("{0}")]
    Platform(String),
    /// A rule said no to this person (the two-person rule): audited as a refusal.
    #[error("{0}")]
    Refused(String),
    /// Every target failed, and each failure was already audited on its own.
    #[error("{0}")]
    AuditedPerTarget(String),
}

/// What one `sync` or `poll now` saw and did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncSummary {
    pub links: usize,
    pub orders_seen: usize,
    pub cancellations_seen: usize,
    pub store_changes_seen: usize,
    pub jobs_run: usize,
    pub jobs_done: usize,
    pub jobs_stuck: usize,
    pub jobs_waiting: usize,
    pub poll_errors: Vec<String>,
}

impl Engine {
    /// Adds jobs for `order` to `change`, allocating their ids.
    pub(crate) fn queue(
        &self,
        change: &mut Change,
        order: &Order,
        kinds: Vec<JobKind>,
        request: Option<crate::domain::ids::RequestId>,
    ) -> Result<Vec<JobId>, StoreError> {
        let now = self.now();
        kinds
            .into_iter()
            .map(|kind| {
                let id = self.store.allocate_job_id()?;
                let mut job = Job::new(id, order.id.clone(), order.link.clone(), kind, now);
                job.request = request;
                change.jobs.push(job);
                Ok(id)
            })
            .collect()
    }

    /// Applies the order rules ([`react_order`]) and answers the jobs they ask for, ending the
    /// stuck jobs of any flow the rules settled so the job list agrees with the order: a stuck
    /// import or tracking push whose cause went away (TikTok cancelled the order, TikTok has the
    /// number) is done. Except a create whose lost answer may have made the store order: that
    /// job runs again, as a person's retry would, and reads the store back — an order TikTok
    /// cancelled must not ship from a store order nobody knows of.
    pub(crate) fn react(
        &self,
        order: &mut Order,
        settings: &LinkSettings,
        change: &mut Change,
    ) -> Result<Vec<JobKind>, StoreError> {
        let now = self.now();
        let stuck_before: Vec<Flow> = [Flow::Import, Flow::Tracking]
            .into_iter()
            .filter(|flow| order.flows.get(*flow).stuck_reason().is_some())
            .collect();
        let jobs = react_order(order, settings, now);
        let settled: Vec<Flow> = stuck_before
            .into_iter()
            .filter(|flow| order.flows.get(*flow).stuck_reason().is_none())
            .collect();
        if settled.is_empty() {
            return Ok(jobs);
        }
        let read_back = |job: &Job| job.kind == JobKind::Import && job.maybe_applied;
        if settled.contains(&Flow::Import) && self.reopen_stuck(order, change, read_back)? > 0 {
            order.note(
                now,
                Some(Flow::Import),
                "but the last create may have reached the store: reading it back first",
            );
        }
        for mut job in self.store.jobs_of(&order.id)? {
            if matches!(job.state, JobState::Stuck { .. })
                && settled.contains(&job.kind.flow())
                && !read_back(&job)
            {
                job.state = JobState::Done { at: now };
                change.jobs.push(job);
            }
        }
        Ok(jobs)
    }

    /// Applies a change (group-flushed: acknowledged only once on disk), then wakes the runner
    /// for the jobs it made ready and tells subscribers what it touched. Every engine write
    /// ends here.
    pub(crate) async fn commit(&self, change: Change) -> Result<(), StoreError> {
        if change == Change::default() {
            return Ok(());
        }
        self.store.apply_async(&change).await?;
        if change.jobs.iter().any(|j| j.state == JobState::Ready) {
            self.jobs_written.notify_one();
        }
        for topic in Topic::of(&change) {
            self.notify(|generation| topic.at(generation));
        }
        Ok(())
    }

    /// An audit entry that could not be written is an error people must see, not a log line.
    pub(crate) fn audit_lost(&self, e: &StoreError) {
        tracing::error!("could not write to the audit log: {e}");
        self.activity.record(
            self.now(),
            super::activity::Level::Error,
            None,
            None,
            format!("could not write to the audit log: {e}"),
        );
    }

    pub(super) fn runtime(&self, link: &LinkId) -> Result<Arc<LinkRuntime>, OperationError> {
        self.link(link).cloned().ok_or_else(|| {
            OperationError::NotFound(format!("link {link} is not in orderdeck.toml"))
        })
    }

    /// Polls every link once, then runs jobs until none is due within `horizon`.
    pub async fn sync_once(self: &Arc<Self>, horizon: Duration) -> SyncSummary {
        let mut summary = self.poll_all().await;
        let report = self.run_jobs(CancellationToken::new(), Some(horizon)).await;
        summary.jobs_run = report.ran;
        summary.jobs_done = report.done;
        summary.jobs_stuck = report.stuck;
        summary.jobs_waiting = self.store.ready_job_count().unwrap_or_default();
        summary
    }

    /// Polls every link now and wakes the job runner already running (the daemon's), rather
    /// than start a second runner that could claim the same jobs.
    pub async fn poll_now(&self) -> SyncSummary {
        let mut summary = self.poll_all().await;
        self.jobs_written.notify_one();
        summary.jobs_waiting = self.store.ready_job_count().unwrap_or_default();
        summary
    }

    async fn poll_all(&self) -> SyncSummary {
        let polls =
            futures::future::join_all(self.links.iter().map(|link| self.poll_link(link))).await;
        let mut summary = SyncSummary {
            links: self.links.len(),
            ..SyncSummary::default()
        };
        for (link, poll) in self.links.iter().zip(polls) {
            summary.orders_seen += poll.orders;
            summary.cancellations_seen += poll.cancellations;
            summary.store_changes_seen += poll.store_changes;
            summary
                .poll_errors
                .extend(poll.errors.into_iter().map(|e| format!("{}: {e}", link.id)));
        }
        summary
    }

    /// Starts an approved resync: one job per target (and per cancellation for `cancel`).
    pub async fn start_resync(
        &self,
        mut request: ResyncRequest,
        approved_by: Actor,
        audit: Vec<AuditEntry>,
    ) -> Result<ResyncRequest, OperationError> {
        let now = self.now();
        let _guard = self.locks.lock_many(&request.targets).await;
        let mut change = Change {
            audit,
            ..Change::default()
        };
        request.status = RequestStatus::Running {
            approved_by,
            at: now,
        };
        for id in request.targets.clone() {
            let Some(mut order) = self.store.order(&id)? else {
                request.record_outcome(
                    &id,
                    TargetOutcome::Failed {
                        error: format!("order {id} is not in orderdeck's store"),
                    },
                    now,
                );
                continue;
            };
            let link = self.runtime(&order.link)?;
            let settings = self.settings(&link.id);
            let jobs = match request.flow {
                ResyncFlow::Import => self.resync_flow(
                    &mut order,
                    Flow::Import,
                    JobKind::Import,
                    &request,
                    &mut change,
                )?,
                ResyncFlow::Tracking => self.resync_flow(
                    &mut order,
                    Flow::Tracking,
                    JobKind::PushTracking,
                    &request,
                    &mut change,
                )?,
                ResyncFlow::Cancel => {
                    self.resync_cancel(&link, &mut order, &settings, &request, &mut change)?
                }
            };
            let outcome = match jobs.first() {
                Some(job) => TargetOutcome::Queued { job: *job },
                None => TargetOutcome::Succeeded {
                    detail: "nothing to re-run".into(),
                },
            };
            request.record_outcome(&id, outcome, now);
            order.note(
                now,
                None,
                format!(
                    "resync of {} approved ({})",
                    request.flow.name(),
                    crate::domain::text::sanitize(&request.reason)
                ),
            );
            change.orders.push(order);
        }
        change.requests.push(request.clone());
        self.commit(change).await?;
        Ok(request)
    }

    fn resync_flow(
        &self,
        order: &mut Order,
        flow: Flow,
        kind: JobKind,
        request: &ResyncRequest,
        change: &mut Change,
    ) -> Result<Vec<JobId>, StoreError> {
        if self
            .store
            .live_jobs_of(&order.id)?
            .iter()
            .any(|j| j.kind == kind)
        {
            return Ok(Vec::new());
        }
        set_flow(order, flow, FlowStatus::Queued, self.now());
        self.queue(change, order, vec![kind], Some(request.id))
    }

    fn resync_cancel(
        &self,
        link: &LinkRuntime,
        order: &mut Order,
        settings: &LinkSettings,
        request: &ResyncRequest,
        change: &mut Change,
    ) -> Result<Vec<JobId>, StoreError> {
        let now = self.now();
        let mut jobs = Vec::new();
        let mut known = self.store.cancellations_of(&order.id)?;
        if known.is_empty() && reactor::tiktok_cancelled(order) {
            known.push(reactor::cancellation_from_order(
                order,
                settings.restock_on_cancel,
                now,
            ));
        }
        for mut c in known {
            if matches!(c.sync.status, FlowStatus::Done { .. } | FlowStatus::Queued) {
                continue;
            }
            c.sync = Default::default();
            reactor::reset_flow(order, Flow::Cancellation, now);
            let kind = match c.direction {
                Direction::TiktokToStore => {
                    self.react_to_tiktok_cancel(link, &mut c, order, settings, change, now)?
                }
                Direction::StoreToTiktok => {
                    use crate::domain::rules::cancel::StorefrontEvent;
                    let event = match (&c.key, link.platform.capabilities().store_to_tiktok_trigger)
                    {
                        (CancellationKey::StoreUnits(_, left), _) => {
                            StorefrontEvent::UnitsRemoved { left: *left }
                        }
                        (_, Some(crate::domain::platform::StorefrontCancelTrigger::Refund)) => {
                            StorefrontEvent::Refunded
                        }
                        _ => StorefrontEvent::OrderCancelled,
                    };
                    reactor::react_store_event(event, order, settings, link.platform, now).and_then(
                        |(fresh, job)| {
                            c.sync = fresh.sync;
                            c.reason_code = fresh.reason_code;
                            job
                        },
                    )
                }
            };
            jobs.extend(self.queue(change, order, kind.into_iter().collect(), Some(request.id))?);
            change.cancellations.push(c);
        }
        Ok(jobs)
    }

    /// Queues the seller's answer to a buyer's cancel request.
    pub async fn respond_buyer_cancel(
        &self,
        cancel_id: &CancelId,
        response: SellerResponse,
        by: &Actor,
        audit: Vec<AuditEntry>,
    ) -> Result<JobId, OperationError> {
        let key = CancellationKey::Tiktok(cancel_id.clone());
        let c = self.store.cancellation(&key)?.ok_or_else(|| {
            OperationError::NotFound(format!(
                "cancellation {cancel_id} is not known to orderdeck"
            ))
        })?;
        let _guard = self.locks.lock(&c.order_id).await;
        let mut c = self.store.cancellation(&key)?.unwrap_or(c);
        let now = self.now();
        check_seller_response(&c, &response, now).map_err(OperationError::Invalid)?;
        if c.response.is_some() {
            return Err(OperationError::Invalid(format!(
                "cancellation {cancel_id} was already answered through orderdeck"
            )));
        }
        let mut order = self.store.order(&c.order_id)?.ok_or_else(|| {
            OperationError::NotFound(format!("order {} is not in orderdeck's store", c.order_id))
        })?;
        let answer = match &response {
            SellerResponse::Approve => "approve".to_string(),
            SellerResponse::Reject { reason, .. } => {
                format!("reject ({})", crate::domain::text::sanitize(reason))
            }
        };
        order.note(
            now,
            Some(Flow::Cancellation),
            format!("{} chose to {answer} the buyer's cancel request", by.user),
        );
        c.response = Some(response.clone());
        c.updated_at = now;
        let mut change = Change {
            audit,
            ..Change::default()
        };
        let ids = self.queue(
            &mut change,
            &order,
            vec![JobKind::RespondBuyerCancel {
                cancel_id: cancel_id.clone(),
                response,
            }],
            None,
        )?;
        change.cancellations.push(c);
        change.orders.push(order);
        self.commit(change).await?;
        ids.first().copied().ok_or_else(|| {
            OperationError::Invalid(format!("no job was queued for cancellation {cancel_id}"))
        })
    }

    /// Puts an order's stuck jobs back in the queue (after someone fixed the cause).
    pub async fn retry_stuck(
        &self,
        id: &TiktokOrderId,
        audit: Vec<AuditEntry>,
    ) -> Result<usize, OperationError> {
        let _guard = self.locks.lock(id).await;
        let mut order = self.store.order(id)?.ok_or_else(|| {
            OperationError::NotFound(format!("order {id} is not in orderdeck's store"))
        })?;
        let mut change = Change {
            audit,
            ..Change::default()
        };
        let retried = self.reopen_stuck(&mut order, &mut change, |_| true)?;
        if retried == 0 {
            return Err(OperationError::Invalid(format!(
                "order {id} has no stuck job to retry"
            )));
        }
        order.note(self.now(), None, format!("{retried} stuck job(s) retried"));
        change.orders.push(order);
        self.commit(change).await?;
        Ok(retried)
    }

    /// Reopens the order's stuck jobs that `which` picks, as a person's retry does: each job
    /// (the same job, so its write still happens once) is ready again with its attempts reset,
    /// its flow and cancellation queued. Answers how many; the caller holds the order's lock,
    /// writes the order and commits `change`.
    pub(super) fn reopen_stuck(
        &self,
        order: &mut Order,
        change: &mut Change,
        which: impl Fn(&Job) -> bool,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        let before = change.jobs.len();
        for mut job in self.store.jobs_of(&order.id)? {
            if let JobState::Stuck { reason } = &job.state
                && which(&job)
            {
                // The reopened job remembers why it was stuck: its next run may need to know
                // that a person has looked (see `run_address`).
                job.last_error
                    .get_or_insert_with(|| crate::domain::order::FlowError {
                        at: now,
                        message: reason.clone(),
                        code: None,
                        request_id: None,
                    });
                job.state = JobState::Ready;
                job.attempts = 0;
                job.run_after = now;
                set_flow(order, job.kind.flow(), FlowStatus::Queued, now);
                if let JobKind::CancelInStore { cancellation }
                | JobKind::CancelOnTiktok { cancellation } = &job.kind
                    && let Some(mut c) = self.store.cancellation(cancellation)?
                {
                    c.sync.status = FlowStatus::Queued;
                    change.cancellations.push(c);
                }
                change.jobs.push(job);
            }
        }
        Ok(change.jobs.len() - before)
    }

    /// Applies `changes` (key, value text) to a link's settings, refusing the whole set with the
    /// first problem, and audits what changed (before and after) in the same commit. Orders
    /// waiting on the old values are reconsidered.
    pub async fn set_settings(
        &self,
        link: &LinkId,
        changes: &[(String, String)],
        expected_version: u64,
        by: &Actor,
        audit: AuditEntry,
    ) -> Result<SettingsRecord, OperationError> {
        let runtime = self.runtime(link)?;
        let current = self.settings_record(link);
        if current.version != expected_version {
            return Err(OperationError::Invalid(format!(
                "the settings of {link} changed since you loaded them (version {} now, yours {expected_version}): reload and try again",
                current.version
            )));
        }
        let mut next = current.settings.clone();
        for (key, value) in changes {
            let key = SettingKey::parse(key).map_err(|e| OperationError::Invalid(e.to_string()))?;
            next = next
                .with_value(key, value, runtime.platform)
                .map_err(|e| OperationError::Invalid(e.to_string()))?;
        }
        self.check_new_providers(&runtime, &current.settings, &next)
            .await?;
        let write = SettingsWrite {
            link: link.clone(),
            expected_version,
            settings: next.clone(),
            at: self.now(),
            by: by.clone(),
        };
        let change = Change {
            settings: vec![write],
            audit: vec![settings_audit(audit, &current.settings, &next)],
            ..Change::default()
        };
        self.commit(change).await.map_err(|e| match e {
            StoreError::StaleSettings { .. } => OperationError::Invalid(format!(
                "the settings of {link} changed meanwhile: reload and try again"
            )),
            other => OperationError::Store(other),
        })?;
        self.reconsider(&runtime).await?;
        self.settings_news(link, &current.settings, &next).await?;
        Ok(self.settings_record(link))
    }

    /// A `carrier_map` entry must name a shipping provider TikTok lists for the link's shop:
    /// a typo would otherwise show only at the next tracking push, as a stuck order. Checked
    /// against the shop's known lists (fetched once if none is known); when the link has no
    /// order yet to ask with, the entry is taken as written.
    async fn check_new_providers(
        &self,
        link: &LinkRuntime,
        before: &LinkSettings,
        after: &LinkSettings,
    ) -> Result<(), OperationError> {
        let added: Vec<(&String, &String)> = after
            .carrier_map
            .iter()
            .filter(|(carrier, provider)| before.carrier_map.get(*carrier) != Some(*provider))
            .collect();
        if added.is_empty() {
            return Ok(());
        }
        let known = self.load_provider_names(link).await?;
        if known.is_empty() {
            return Ok(());
        }
        for (carrier, provider) in added {
            if known
                .iter()
                .any(|k| k.eq_ignore_ascii_case(provider.trim()))
            {
                continue;
            }
            let near =
                crate::domain::spelling::closest(provider, known.iter().map(String::as_str), 3);
            return Err(OperationError::Invalid(format!(
                "carrier_map {}={}: TikTok lists no shipping provider {:?} for shop {}; closest: {}",
                crate::domain::text::sanitize(carrier),
                crate::domain::text::sanitize(provider),
                crate::domain::text::sanitize(provider),
                link.shop,
                near.join(", ")
            )));
        }
        Ok(())
    }

    /// Re-applies the rules to a link's pending and missing-tracking orders (after a settings change).
    async fn reconsider(&self, link: &LinkRuntime) -> Result<(), StoreError> {
        let settings = self.settings(&link.id);
        // Every missing-tracking candidate, not only those past the list's threshold: the
        // threshold decides when staff see an order, not whether its tracking may go (an
        // order fulfilled while sync_tracking was off would otherwise stay skipped).
        let any_age = LinkSettings {
            missing_tracking_after: Duration::ZERO,
            ..settings.clone()
        };
        let now = self.now();
        for view in [OrderView::Pending, OrderView::MissingTracking] {
            let query = ViewQuery {
                view,
                link: Some(&link.id),
                offset: 0,
                limit: 10_000,
                now,
            };
            let page = self.store.page_view(&query, &|_| any_age.clone())?;
            for chunk in page.items.chunks(100) {
                let ids: Vec<TiktokOrderId> = chunk.iter().map(|o| o.id.clone()).collect();
                let _guard = self.locks.lock_many(&ids).await;
                let mut change = Change::default();
                for id in &ids {
                    let Some(mut order) = self.store.order(id)? else {
                        continue;
                    };
                    let before = order.clone();
                    let jobs = self.react(&mut order, &settings, &mut change)?;
                    self.queue(&mut change, &order, jobs, None)?;
                    if order != before {
                        change.orders.push(order);
                    }
                }
                self.commit(change).await?;
            }
        }
        Ok(())
    }
}

/// The audit entry of a settings change: which keys changed, with their values before and after.
fn settings_audit(
    mut audit: AuditEntry,
    before: &LinkSettings,
    after: &LinkSettings,
) -> AuditEntry {
    let diff = before.diff(after);
    let side = |pick: fn(&(SettingKey, String, String)) -> &String| {
        serde_json::Value::Object(
            diff.iter()
                .map(|d| {
                    (
                        d.0.name().to_string(),
                        serde_json::Value::String(pick(d).clone()),
                    )
                })
                .collect(),
        )
    };
    audit.outcome = crate::domain::audit::AuditOutcome::Ok {
        detail: Some(format!("{} key(s) changed", diff.len())),
    };
    audit.before = Some(side(|d| &d.1));
    audit.after = Some(side(|d| &d.2));
    audit
}
