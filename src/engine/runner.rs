//! The job runner: claims due jobs (marking them `Running`), executes them concurrently — each
//! platform account's semaphore bounds its calls in flight — and applies each outcome under the
//! order's lock in one transaction with the follow-up jobs it causes. Transient failures back off
//! exponentially with full jitter, at least as long as the platform asked; permanent ones park
//! the job as stuck with a reason a person can act on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::domain::cancellation::{CancelStatus, CancellationKey};
use crate::domain::ids::LinkId;
use crate::domain::job::{Job, JobKind, JobState};
use crate::domain::order::{Flow, FlowStatus};
use crate::domain::request::TargetOutcome;
use crate::platforms::ErrorClass;
use crate::store::{Change, StoreError};

use super::activity::Level;
use super::execute::{Effect, Failure};
use super::react::{self, merge_store, react_order, set_flow, store_label};
use super::{Engine, LinkRuntime};

/// How long running jobs may take to finish when the engine stops; the rest are released at
/// the next start (and read back before they write again).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub ran: usize,
    pub done: usize,
    pub retrying: usize,
    pub stuck: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobEnd {
    Done,
    Retrying,
    Stuck,
}

impl Engine {
    /// Runs jobs until `stop`. With `idle_horizon`, returns as soon as nothing is running and no
    /// job is due within that horizon (`sync --once`).
    pub async fn run_jobs(
        self: &Arc<Self>,
        stop: CancellationToken,
        idle_horizon: Option<Duration>,
    ) -> RunReport {
        let mut report = RunReport::default();
        let mut tasks: JoinSet<JobEnd> = JoinSet::new();
        let mut running = InFlight::default();
        let capacity = self.options.batch.max(1);
        loop {
            if !stop.is_cancelled() && tasks.len() < capacity {
                match self.claim(capacity - tasks.len(), &running).await {
                    Ok(jobs) => {
                        for (link, job) in jobs {
                            let engine = self.clone();
                            let id = link.id.clone();
                            let task = tasks.spawn(async move { engine.run_one(&link, job).await });
                            running.start(task.id(), id);
                        }
                    }
                    Err(e) => {
                        self.activity.record(
                            self.now(),
                            Level::Error,
                            None,
                            None,
                            format!("could not claim jobs: {e}"),
                        );
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            if tasks.is_empty() {
                if stop.is_cancelled() {
                    break;
                }
                let wait = match self.next_due_in() {
                    Ok(Some(wait)) => wait,
                    Ok(None) => Duration::from_secs(3600),
                    Err(_) => Duration::from_secs(1),
                };
                if let Some(horizon) = idle_horizon
                    && wait > horizon
                {
                    break;
                }
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = self.jobs_written.notified() => {}
                    _ = tokio::time::sleep(wait.min(Duration::from_secs(1))) => {}
                }
                continue;
            }
            tokio::select! {
                Some(joined) = tasks.join_next_with_id() => {
                    // Take every job that finished meanwhile before claiming again: claims are
                    // flushed, so under load each claim then covers many free slots at once.
                    tally(&mut report, running.end(joined));
                    while let Some(joined) = tasks.try_join_next_with_id() {
                        tally(&mut report, running.end(joined));
                    }
                }
                _ = self.jobs_written.notified(), if tasks.len() < capacity => {}
                _ = tokio::time::sleep(Duration::from_millis(500)), if tasks.len() < capacity => {}
                _ = stop.cancelled() => {
                    let drain = async { while let Some(joined) = tasks.join_next_with_id().await { tally(&mut report, running.end(joined)) } };
                    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
                        tracing::warn!(left = tasks.len(), "jobs still running at shutdown are released for the next start");
                        tasks.abort_all();
                    }
                    break;
                }
            }
        }
        report
    }

    /// How long until the earliest ready job is due (zero if one is due now).
    fn next_due_in(&self) -> Result<Option<Duration>, StoreError> {
        let far = self.now() + chrono::Duration::days(3650);
        Ok(self.store.due_jobs(far, 1)?.first().map(|job| {
            (job.run_after - self.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
        }))
    }

    /// Marks up to `limit` due jobs `Running`, in due order but skipping links that already
    /// have as many jobs in flight as their accounts allow: otherwise a burst of one link's jobs
    /// would fill every slot and leave the other links idle behind it. Two runners may be at
    /// work (the daemon's, and a `sync_once` an operator asked for), so reading the due jobs and
    /// marking them is one step: a job claimed twice would be run twice.
    async fn claim(
        &self,
        limit: usize,
        running: &InFlight,
    ) -> Result<Vec<(Arc<LinkRuntime>, Job)>, StoreError> {
        let _one_claim_at_a_time = self.claiming.lock().await;
        let now = self.now();
        let due = self.store.due_jobs(now, limit.saturating_mul(CLAIM_SCAN))?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut change = Change::default();
        let mut claimed: Vec<(Arc<LinkRuntime>, Job)> = Vec::new();
        for mut job in due {
            if claimed.len() == limit {
                break;
            }
            match self.link(&job.link).cloned() {
                Some(link) => {
                    let batch = claimed.iter().filter(|(l, _)| l.id == link.id).count();
                    if running.of(&link.id) + batch >= link.max_in_flight {
                        continue;
                    }
                    job.state = JobState::Running { since: now };
                    change.jobs.push(job.clone());
                    claimed.push((link, job));
                }
                None => {
                    job.state = JobState::Stuck {
                        reason: format!("link {} is no longer in orderdeck.toml", job.link),
                    };
                    change.jobs.push(job);
                }
            }
        }
        self.store.apply_async(&change).await?;
        Ok(claimed)
    }

    async fn run_one(&self, link: &LinkRuntime, job: Job) -> JobEnd {
        let outcome = self.execute(link, &job).await;
        // The client may have refreshed the TikTok token on the way.
        self.save_tokens_if_changed(link);
        match self.finish(link, job.clone(), outcome).await {
            Ok(end) => end,
            Err(e) => {
                // The job stays Running in the store and is released at the next start.
                self.activity.record(
                    self.now(),
                    Level::Error,
                    Some(&link.id),
                    Some(&job.order),
                    format!(
                        "could not record the result of {}: {e}",
                        job.kind.describe()
                    ),
                );
                JobEnd::Retrying
            }
        }
    }

    async fn finish(
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
                        merge_store(&mut order, store, now);
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
        if end == JobEnd::Done {
            order.note(now, Some(flow), detail.clone());
            let mut follow_ups = react_order(&mut order, &settings, now);
            if settled {
                // The job just found nothing to do: queueing its kind again would loop.
                follow_ups.retain(|k| *k != job.kind);
            }
            self.queue(&mut change, &order, follow_ups, None)?;
        }
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
}

/// How many due jobs a claim looks through per free slot, to find ones of idle links.
const CLAIM_SCAN: usize = 8;

/// Jobs in flight per link, by task.
#[derive(Default)]
struct InFlight {
    tasks: HashMap<tokio::task::Id, LinkId>,
    per_link: HashMap<LinkId, usize>,
}

impl InFlight {
    fn start(&mut self, task: tokio::task::Id, link: LinkId) {
        *self.per_link.entry(link.clone()).or_default() += 1;
        self.tasks.insert(task, link);
    }

    /// Forgets a finished task (also one that panicked), returning its result.
    fn end(
        &mut self,
        joined: Result<(tokio::task::Id, JobEnd), tokio::task::JoinError>,
    ) -> Result<JobEnd, tokio::task::JoinError> {
        let task = match &joined {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        if let Some(link) = self.tasks.remove(&task)
            && let Some(n) = self.per_link.get_mut(&link)
        {
            *n = n.saturating_sub(1);
        }
        joined.map(|(_, end)| end)
    }

    fn of(&self, link: &LinkId) -> usize {
        self.per_link.get(link).copied().unwrap_or_default()
    }
}

fn tally(report: &mut RunReport, joined: Result<JobEnd, tokio::task::JoinError>) {
    report.ran += 1;
    match joined {
        Ok(JobEnd::Done) => report.done += 1,
        Ok(JobEnd::Retrying) | Err(_) => report.retrying += 1,
        Ok(JobEnd::Stuck) => report.stuck += 1,
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

impl Engine {
    /// The daemon's engine: one poll loop per link (on its interval; a failed poll is retried
    /// sooner, with backoff, and never skips its window) and the job runner, until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut pollers = JoinSet::new();
        for link in self.links.clone() {
            let (engine, stop) = (self.clone(), stop.clone());
            pollers.spawn(async move {
                let mut failures = 0u32;
                loop {
                    let summary = tokio::select! {
                        _ = stop.cancelled() => break,
                        summary = engine.poll_link(&link) => summary,
                    };
                    failures = if summary.errors.is_empty() {
                        0
                    } else {
                        failures + 1
                    };
                    let wait = match failures {
                        0 => link.poll_interval,
                        n => link
                            .poll_interval
                            .min(Duration::from_secs(5u64 << n.min(6))),
                    };
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            });
        }
        self.run_jobs(stop, None).await;
        while pollers.join_next().await.is_some() {}
    }
}
