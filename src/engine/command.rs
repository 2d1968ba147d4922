//! The engine's command API: everything a person can ask the engine to do, as data. The
//! service decides who may (roles, the two-person rule) and prepares the audit entry;
//! [`Engine::execute`] carries the command out and writes that entry, completed with what
//! happened, in the same group-flushed commit as the change it caused. A command that fails is
//! audited by the caller as failed; nothing here writes outside [`Engine::commit`].

use std::sync::Arc;
use std::time::Duration;

use crate::domain::audit::{Actor, AuditEntry, AuditOutcome};
use crate::domain::cancellation::SellerResponse;
use crate::domain::ids::{CancelId, JobId, LinkId, RequestId, TiktokOrderId};
use crate::domain::request::{
    RequestStatus, ResyncFlow, ResyncRequest, TargetOutcome, check_decision,
};
use crate::domain::rules::parcel::{self, ParcelHandled, ParcelOutcome};
use crate::store::{Change, SettingsRecord};

use super::{Engine, OperationError, SyncSummary};

/// Most orders one command may name (a marked set is usually far smaller).
pub const MAX_TARGETS: usize = 500;
/// Most characters of a reason a person types.
pub const MAX_REASON: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A resync someone asked for: started at once when `runs_now`, else filed for an operator.
    Resync {
        orders: Vec<TiktokOrderId>,
        flow: ResyncFlow,
        reason: String,
        runs_now: bool,
    },
    /// An operator's approval or rejection of a filed resync request.
    Decide {
        request: RequestId,
        approve: bool,
        reason: Option<String>,
        two_person: bool,
    },
    /// The seller's answer to a buyer's cancel request, sent to TikTok by a job.
    RespondBuyerCancel {
        cancel_id: CancelId,
        response: SellerResponse,
    },
    /// Puts the stuck jobs of these orders back in the queue.
    RetryStuck { orders: Vec<TiktokOrderId> },
    /// Puts back in the queue the stuck jobs of every order of `link` waiting on `cause`.
    RetryCause {
        link: LinkId,
        cause: crate::domain::cause::StuckCause,
    },
    /// Fetches a TikTok label now, saves it, and prints it when asked.
    ReprintLabel { order: TiktokOrderId, print: bool },
    /// Records how a parcel shipped after TikTok's cancel ended; the order leaves Stuck.
    MarkParcelHandled {
        order: TiktokOrderId,
        outcome: ParcelOutcome,
        note: String,
    },
    /// Changes a link's settings (key, value text), refused if they changed since version.
    SetSettings {
        link: LinkId,
        changes: Vec<(String, String)>,
        expected_version: u64,
    },
    /// Polls every link, then runs the resulting jobs until none is due within `horizon`:
    /// for a process that has no job runner of its own running (no daemon).
    SyncNow { horizon: Duration },
    /// Polls every link now and wakes the running job runner: inside the daemon, which must
    /// not start a second runner.
    PollNow,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Resync {
        request: ResyncRequest,
        running: bool,
    },
    Done {
        message: String,
    },
    Label {
        path: String,
        printed: bool,
    },
    Settings(SettingsRecord),
    Sync(SyncSummary),
}

impl Engine {
    /// Carries out `command` for `by`, writing `audit` (completed with what happened) in the
    /// commit of the change it causes.
    pub async fn execute(
        self: &Arc<Self>,
        command: Command,
        by: &Actor,
        audit: AuditEntry,
    ) -> Result<Outcome, OperationError> {
        match command {
            Command::Resync {
                orders,
                flow,
                reason,
                runs_now,
            } => self.resync(orders, flow, reason, runs_now, by, audit).await,
            Command::Decide {
                request,
                approve,
                reason,
                two_person,
            } => {
                self.decide(request, approve, reason, two_person, by, audit)
                    .await
            }
            Command::RespondBuyerCancel {
                cancel_id,
                response,
            } => {
                let job = self
                    .respond_buyer_cancel(&cancel_id, response, by, vec![audit])
                    .await?;
                Ok(Outcome::Done {
                    message: format!("answer to cancellation {cancel_id} queued ({job})"),
                })
            }
            Command::RetryStuck { orders } => self.retry_orders(&orders, audit).await,
            Command::MarkParcelHandled {
                order,
                outcome,
                note,
            } => {
                self.mark_parcel_handled(&order, outcome, note, by, audit)
                    .await
            }
            Command::RetryCause { link, cause } => self.retry_cause(&link, &cause, audit).await,
            Command::ReprintLabel { order, print } => {
                let detail = if print { "printed" } else { "saved" };
                let (path, printed) = self
                    .reprint_label(&order, print, vec![with_detail(audit, detail)])
                    .await?;
                Ok(Outcome::Label { path, printed })
            }
            Command::SetSettings {
                link,
                changes,
                expected_version,
            } => self
                .set_settings(&link, &changes, expected_version, by, audit)
                .await
                .map(Outcome::Settings),
            Command::SyncNow { horizon } => {
                let summary = self.sync_once(horizon).await;
                self.audit_sync(summary, audit).await
            }
            Command::PollNow => {
                let summary = self.poll_now().await;
                self.audit_sync(summary, audit).await
            }
        }
    }

    /// Writes one audit entry on its own (a refusal, or a command that failed).
    pub async fn record_audit(&self, entry: AuditEntry) {
        let change = Change {
            audit: vec![entry],
            ..Change::default()
        };
        if let Err(e) = self.commit(change).await {
            self.audit_lost(&e);
        }
    }

    async fn audit_sync(
        &self,
        summary: SyncSummary,
        audit: AuditEntry,
    ) -> Result<Outcome, OperationError> {
        let detail = format!(
            "{} jobs run, {} stuck",
            summary.jobs_run, summary.jobs_stuck
        );
        self.commit(Change {
            audit: vec![with_detail(audit, detail)],
            ..Change::default()
        })
        .await?;
        Ok(Outcome::Sync(summary))
    }

    async fn resync(
        &self,
        orders: Vec<TiktokOrderId>,
        flow: ResyncFlow,
        reason: String,
        runs_now: bool,
        by: &Actor,
        audit: AuditEntry,
    ) -> Result<Outcome, OperationError> {
        let orders = self.checked_resync(orders, &reason)?;
        if !runs_now {
            self.refuse_second_request(&orders, flow)?;
        }
        let id = self.store.allocate_request_id()?;
        let request = ResyncRequest {
            id,
            targets: orders,
            flow,
            reason,
            requested_by: by.clone(),
            requested_at: self.now(),
            status: RequestStatus::Pending,
            outcomes: Default::default(),
        };
        if !runs_now {
            let audit = with_detail(audit, format!("request {id} waits for an operator"));
            self.commit(Change {
                requests: vec![request.clone()],
                audit: vec![audit],
                ..Change::default()
            })
            .await?;
            return Ok(Outcome::Resync {
                request,
                running: false,
            });
        }
        let role = by.role.unwrap_or(crate::domain::access::Role::Viewer);
        let audit = with_detail(audit, format!("request {id} runs now ({role} request)"));
        let request = self.start_resync(request, by.clone(), vec![audit]).await?;
        Ok(Outcome::Resync {
            request,
            running: true,
        })
    }

    /// A request that waits for approval is refused for an order that already has one waiting
    /// for the same flow: the approver would be asked twice for one thing.
    fn refuse_second_request(
        &self,
        orders: &[TiktokOrderId],
        flow: ResyncFlow,
    ) -> Result<(), OperationError> {
        let mut waiting = Vec::new();
        for order in orders {
            if let Some(r) = self
                .store
                .pending_requests_of(order)?
                .into_iter()
                .find(|r| r.flow == flow)
            {
                waiting.push(format!(
                    "{order} (request {} asked by {})",
                    r.id,
                    crate::domain::text::sanitize(&r.requested_by.user)
                ));
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        Err(OperationError::Invalid(format!(
            "a resync of the {} is already waiting for approval for {}: approve or reject it first",
            flow.name(),
            waiting.join(", ")
        )))
    }

    /// The orders a resync names, each once, once the request is known to be well formed.
    fn checked_resync(
        &self,
        orders: Vec<TiktokOrderId>,
        reason: &str,
    ) -> Result<Vec<TiktokOrderId>, OperationError> {
        if orders.is_empty() {
            return Err(OperationError::Invalid(
                "a resync needs at least one order".into(),
            ));
        }
        if orders.len() > MAX_TARGETS {
            return Err(OperationError::Invalid(format!(
                "a resync may name at most {MAX_TARGETS} orders, not {}",
                orders.len()
            )));
        }
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(OperationError::Invalid(format!(
                "a resync needs a reason (1 to {MAX_REASON} characters)"
            )));
        }
        let mut missing = Vec::new();
        for id in &orders {
            if self.store.order(id)?.is_none() {
                missing.push(id.to_string());
            }
        }
        if !missing.is_empty() {
            return Err(OperationError::NotFound(format!(
                "not in orderdeck's store: {}",
                missing.join(", ")
            )));
        }
        let mut seen = std::collections::HashSet::new();
        Ok(orders
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect())
    }

    async fn decide(
        &self,
        id: RequestId,
        approve: bool,
        reason: Option<String>,
        two_person: bool,
        by: &Actor,
        audit: AuditEntry,
    ) -> Result<Outcome, OperationError> {
        // The request's state is read, checked and changed as one step, so two operators
        // deciding at once cannot both run (or run and reject) it.
        let _deciding = self.decisions.lock().await;
        let request = self
            .store
            .request(id)?
            .ok_or_else(|| OperationError::NotFound(format!("request {id} does not exist")))?;
        if let Err(why) = check_decision(&request, by, two_person) {
            // A request no longer pending is a stale view; one's own request under the
            // two-person rule is a refusal like a missing role.
            return Err(if request.is_pending() {
                OperationError::Refused(why)
            } else {
                OperationError::Invalid(why)
            });
        }
        if approve {
            let detail = format!(
                "{} order(s), {}",
                request.targets.len(),
                request.flow.name()
            );
            let started = self
                .start_resync(request, by.clone(), vec![with_detail(audit, detail)])
                .await?;
            return Ok(Outcome::Done {
                message: format!(
                    "request {id} approved: {} job(s) queued",
                    queued_jobs(&started).len()
                ),
            });
        }
        let Some(why) = reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
            return Err(OperationError::Invalid(
                "a rejection needs a reason the requester will see".into(),
            ));
        };
        let mut request = request;
        request.status = RequestStatus::Rejected {
            by: by.clone(),
            at: self.now(),
            reason: why.to_string(),
        };
        self.commit(Change {
            requests: vec![request],
            audit: vec![audit.with_reason(Some(why.to_string()))],
            ..Change::default()
        })
        .await?;
        Ok(Outcome::Done {
            message: format!("request {id} rejected"),
        })
    }

    /// Retries each order's stuck jobs, auditing each order on its own: one order without a
    /// stuck job does not hold back the others.
    async fn retry_orders(
        &self,
        orders: &[TiktokOrderId],
        audit: AuditEntry,
    ) -> Result<Outcome, OperationError> {
        let mut retried = 0;
        let mut problems = Vec::new();
        for id in orders.iter().take(MAX_TARGETS) {
            let mut entry = audit.clone();
            entry.targets = vec![id.to_string()];
            match self.retry_stuck(id, vec![entry.clone()]).await {
                Ok(n) => retried += n,
                Err(e) => {
                    entry.outcome = AuditOutcome::Failed {
                        error: e.to_string(),
                    };
                    self.record_audit(entry).await;
                    problems.push(e.to_string());
                }
            }
        }
        if retried == 0 && !problems.is_empty() {
            return Err(OperationError::AuditedPerTarget(problems.join("; ")));
        }
        let mut message = format!("{retried} stuck job(s) queued again");
        if !problems.is_empty() {
            message.push_str(&format!("; not retried: {}", problems.join("; ")));
        }
        Ok(Outcome::Done { message })
    }
}

impl Engine {
    async fn mark_parcel_handled(
        &self,
        id: &TiktokOrderId,
        outcome: ParcelOutcome,
        note: String,
        by: &Actor,
        audit: AuditEntry,
    ) -> Result<Outcome, OperationError> {
        if note.trim().is_empty() {
            return Err(OperationError::Invalid(
                "say how the parcel was handled: a note is required (carrier ticket, return number…)"
                    .into(),
            ));
        }
        let _guard = self.locks.lock(id).await;
        let mut order = self.store.order(id)?.ok_or_else(|| {
            OperationError::NotFound(format!("order {id} is not in orderdeck's store"))
        })?;
        let handled = ParcelHandled {
            outcome,
            note: note.trim().to_string(),
            by: by.user.clone(),
            at: self.now(),
        };
        parcel::mark_handled(&mut order, handled).map_err(OperationError::Invalid)?;
        self.commit(Change {
            orders: vec![order],
            audit: vec![with_detail(audit, outcome.name())],
            ..Change::default()
        })
        .await?;
        Ok(Outcome::Done {
            message: format!("parcel of order {id} marked {}", outcome.name()),
        })
    }
}

/// `audit` with what happened.
fn with_detail(mut audit: AuditEntry, detail: impl Into<String>) -> AuditEntry {
    audit.outcome = AuditOutcome::Ok {
        detail: Some(detail.into()),
    };
    audit
}

/// The jobs a resync request queued.
pub fn queued_jobs(request: &ResyncRequest) -> Vec<JobId> {
    request
        .outcomes
        .values()
        .filter_map(|o| match o {
            TargetOutcome::Queued { job } => Some(*job),
            _ => None,
        })
        .collect()
}
