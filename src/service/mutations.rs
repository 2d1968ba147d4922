//! Mutating requests: role check, validation, the engine call, and the audit entry — written in
//! the same transaction as the change when it succeeds, on its own when it is refused or fails.
//! Every entry says who (unix user and uid), from where (SSH_CONNECTION, informational), when,
//! what, on which targets, why (the reason typed) and the outcome.

use std::collections::BTreeMap;

use crate::domain::access::Permission;
use crate::domain::audit::{Actor, AuditEntry, AuditOutcome};
use crate::domain::cancellation::SellerResponse;
use crate::domain::ids::{CancelId, LinkId, RequestId, TiktokOrderId};
use crate::domain::request::{
    RequestStatus, ResyncFlow, ResyncPath, ResyncRequest, TargetOutcome, check_decision,
    resync_path,
};
use crate::engine::OperationError;
use crate::store::Change;

use super::api::*;
use super::core::Service;

/// Most orders one request may name (a marked set is usually far smaller).
const MAX_TARGETS: usize = 500;
const MAX_REASON: usize = 500;

impl Service {
    pub(crate) async fn mutate(
        &self,
        caller: &Actor,
        request: Request,
    ) -> Result<Response, ServiceError> {
        match request {
            Request::Resync {
                orders,
                flow,
                reason,
            } => self.resync(caller, orders, flow, reason).await,
            Request::Decide {
                request,
                approve,
                reason,
            } => self.decide(caller, request, approve, reason).await,
            Request::RespondBuyerCancel {
                cancel_id,
                approve,
                reject_reason,
                comment,
            } => {
                self.respond(caller, cancel_id, approve, reject_reason, comment)
                    .await
            }
            Request::ReprintLabel { order, print } => self.reprint(caller, order, print).await,
            Request::RetryStuck { orders, reason } => self.retry(caller, orders, reason).await,
            Request::SetSettings {
                link,
                changes,
                expected_version,
                reason,
            } => {
                self.set_settings(caller, link, changes, expected_version, reason)
                    .await
            }
            Request::SyncNow { link } => self.sync_now(caller, link).await,
            other => Err(ServiceError::invalid(format!(
                "{other:?} is not a mutation"
            ))),
        }
    }

    fn entry(
        &self,
        caller: &Actor,
        action: &str,
        targets: Vec<String>,
        reason: Option<&str>,
        outcome: AuditOutcome,
    ) -> AuditEntry {
        AuditEntry::new(self.engine.now(), caller.clone(), action, targets, outcome)
            .with_reason(reason.map(str::to_string))
    }

    /// Audits a failure on its own and returns the error to send.
    fn failed(
        &self,
        caller: &Actor,
        action: &str,
        targets: Vec<String>,
        reason: Option<&str>,
        error: ServiceError,
    ) -> ServiceError {
        let entry = self.entry(
            caller,
            action,
            targets,
            reason,
            AuditOutcome::Failed {
                error: error.to_string(),
            },
        );
        if let Err(e) = self.engine.store().append_audit(entry) {
            tracing::error!("could not audit a failed request: {e}");
        }
        self.engine
            .notify(|generation| Notification::Audit { generation });
        error
    }

    async fn resync(
        &self,
        caller: &Actor,
        orders: Vec<TiktokOrderId>,
        flow: ResyncFlow,
        reason: String,
    ) -> Result<Response, ServiceError> {
        let action = "resync.request";
        let targets: Vec<String> = orders.iter().map(ToString::to_string).collect();
        self.require(
            caller,
            Permission::RequestResync,
            action,
            &targets,
            Some(&reason),
        )?;
        let reason = reason.trim().to_string();
        let check = || -> Result<(), ServiceError> {
            if orders.is_empty() {
                return Err(ServiceError::invalid("a resync needs at least one order"));
            }
            if orders.len() > MAX_TARGETS {
                return Err(ServiceError::invalid(format!(
                    "a resync may name at most {MAX_TARGETS} orders, not {}",
                    orders.len()
                )));
            }
            if reason.is_empty() || reason.chars().count() > MAX_REASON {
                return Err(ServiceError::invalid(format!(
                    "a resync needs a reason (1 to {MAX_REASON} characters)"
                )));
            }
            let missing: Vec<String> = orders
                .iter()
                .filter(|id| !matches!(self.engine.store().order(id), Ok(Some(_))))
                .map(ToString::to_string)
                .collect();
            if !missing.is_empty() {
                return Err(ServiceError::not_found(format!(
                    "not in orderdeck's store: {}",
                    missing.join(", ")
                )));
            }
            Ok(())
        };
        if let Err(e) = check() {
            return Err(self.failed(caller, action, targets, Some(&reason), e));
        }
        // The same order named twice is one target (and one job).
        let mut seen = std::collections::HashSet::new();
        let orders: Vec<TiktokOrderId> = orders
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        let id = self
            .engine
            .store()
            .allocate_request_id()
            .map_err(ServiceError::internal)?;
        let request = ResyncRequest {
            id,
            targets: orders,
            flow,
            reason: reason.clone(),
            requested_by: caller.clone(),
            requested_at: self.engine.now(),
            status: RequestStatus::Pending,
            outcomes: BTreeMap::new(),
        };
        let role = caller.role.unwrap_or(crate::domain::access::Role::Viewer);
        match resync_path(role, self.two_person) {
            ResyncPath::NeedsApproval => {
                let audit = self.entry(
                    caller,
                    action,
                    targets,
                    Some(&reason),
                    AuditOutcome::Ok {
                        detail: Some(format!("request {id} waits for an operator")),
                    },
                );
                self.engine
                    .store()
                    .apply(&Change {
                        requests: vec![request],
                        audit: vec![audit],
                        ..Change::default()
                    })
                    .map_err(ServiceError::internal)?;
                self.engine
                    .notify(|generation| Notification::Requests { generation });
                self.engine
                    .notify(|generation| Notification::Audit { generation });
                Ok(Response::Resync(ResyncOutcome {
                    request: id,
                    running: false,
                    jobs: Vec::new(),
                }))
            }
            ResyncPath::RunsNow => {
                let audit = self.entry(
                    caller,
                    action,
                    targets.clone(),
                    Some(&reason),
                    AuditOutcome::Ok {
                        detail: Some(format!("request {id} runs now ({role} request)")),
                    },
                );
                let started = self
                    .engine
                    .start_resync(request, caller.clone(), vec![audit])
                    .await
                    .map_err(|e| {
                        self.failed(caller, action, targets, Some(&reason), operation_error(e))
                    })?;
                Ok(Response::Resync(ResyncOutcome {
                    request: id,
                    running: true,
                    jobs: queued_jobs(&started),
                }))
            }
        }
    }

    async fn decide(
        &self,
        caller: &Actor,
        id: RequestId,
        approve: bool,
        reason: Option<String>,
    ) -> Result<Response, ServiceError> {
        let action = if approve {
            "request.approve"
        } else {
            "request.reject"
        };
        let targets = vec![id.to_string()];
        self.require(
            caller,
            Permission::DecideResyncRequest,
            action,
            &targets,
            reason.as_deref(),
        )?;
        let _deciding = self.decisions.lock().await;
        let store = self.engine.store();
        let request = match store.request(id) {
            Ok(Some(r)) => r,
            Ok(None) => {
                return Err(self.failed(
                    caller,
                    action,
                    targets,
                    reason.as_deref(),
                    ServiceError::not_found(format!("request {id} does not exist")),
                ));
            }
            Err(e) => return Err(ServiceError::internal(e)),
        };
        if let Err(why) = check_decision(&request, caller, self.two_person) {
            // A request no longer pending is a stale view; one's own request under the
            // two-person rule is a refusal like a missing role, audited as such.
            return Err(if request.is_pending() {
                self.refused(caller, action, targets, reason.as_deref(), why)
            } else {
                self.failed(
                    caller,
                    action,
                    targets,
                    reason.as_deref(),
                    ServiceError::invalid(why),
                )
            });
        }
        if approve {
            let audit = self.entry(
                caller,
                action,
                targets.clone(),
                reason.as_deref(),
                AuditOutcome::Ok {
                    detail: Some(format!(
                        "{} order(s), {}",
                        request.targets.len(),
                        request.flow.name()
                    )),
                },
            );
            let started = self
                .engine
                .start_resync(request, caller.clone(), vec![audit])
                .await
                .map_err(|e| {
                    self.failed(
                        caller,
                        action,
                        targets,
                        reason.as_deref(),
                        operation_error(e),
                    )
                })?;
            return Ok(Response::Done {
                message: format!(
                    "request {id} approved: {} job(s) queued",
                    queued_jobs(&started).len()
                ),
            });
        }
        let Some(why) = reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
            return Err(self.failed(
                caller,
                action,
                targets,
                None,
                ServiceError::invalid("a rejection needs a reason the requester will see"),
            ));
        };
        let mut request = request;
        request.status = RequestStatus::Rejected {
            by: caller.clone(),
            at: self.engine.now(),
            reason: why.to_string(),
        };
        let audit = self.entry(
            caller,
            action,
            targets,
            Some(why),
            AuditOutcome::Ok { detail: None },
        );
        store
            .apply(&Change {
                requests: vec![request],
                audit: vec![audit],
                ..Change::default()
            })
            .map_err(ServiceError::internal)?;
        self.engine
            .notify(|generation| Notification::Requests { generation });
        self.engine
            .notify(|generation| Notification::Audit { generation });
        Ok(Response::Done {
            message: format!("request {id} rejected"),
        })
    }

    async fn respond(
        &self,
        caller: &Actor,
        cancel_id: CancelId,
        approve: bool,
        reject_reason: Option<String>,
        comment: Option<String>,
    ) -> Result<Response, ServiceError> {
        let action = if approve {
            "cancel.approve"
        } else {
            "cancel.reject"
        };
        let targets = vec![cancel_id.to_string()];
        self.require(
            caller,
            Permission::RespondBuyerCancel,
            action,
            &targets,
            reject_reason.as_deref(),
        )?;
        let response = if approve {
            SellerResponse::Approve
        } else {
            SellerResponse::Reject {
                reason: reject_reason.clone().unwrap_or_default(),
                comment: comment.map(|c| crate::domain::text::truncate(&c, 500)),
            }
        };
        let audit = self.entry(
            caller,
            action,
            targets.clone(),
            reject_reason.as_deref(),
            AuditOutcome::Ok { detail: None },
        );
        match self
            .engine
            .respond_buyer_cancel(&cancel_id, response, caller, vec![audit])
            .await
        {
            Ok(job) => Ok(Response::Done {
                message: format!("answer to cancellation {cancel_id} queued ({job})"),
            }),
            Err(e) => Err(self.failed(
                caller,
                action,
                targets,
                reject_reason.as_deref(),
                operation_error(e),
            )),
        }
    }

    async fn reprint(
        &self,
        caller: &Actor,
        order: TiktokOrderId,
        print: bool,
    ) -> Result<Response, ServiceError> {
        let action = "label.reprint";
        let targets = vec![order.to_string()];
        self.require(caller, Permission::ReprintLabel, action, &targets, None)?;
        let audit = self.entry(
            caller,
            action,
            targets.clone(),
            None,
            AuditOutcome::Ok {
                detail: Some(if print { "printed" } else { "saved" }.into()),
            },
        );
        match self.engine.reprint_label(&order, print, vec![audit]).await {
            Ok((path, printed)) => Ok(Response::Label { path, printed }),
            Err(e) => Err(self.failed(caller, action, targets, None, operation_error(e))),
        }
    }

    async fn retry(
        &self,
        caller: &Actor,
        orders: Vec<TiktokOrderId>,
        reason: Option<String>,
    ) -> Result<Response, ServiceError> {
        let action = "job.retry";
        let targets: Vec<String> = orders.iter().map(ToString::to_string).collect();
        self.require(
            caller,
            Permission::RetryStuckJob,
            action,
            &targets,
            reason.as_deref(),
        )?;
        let mut retried = 0;
        let mut problems = Vec::new();
        for id in orders.iter().take(MAX_TARGETS) {
            let audit = self.entry(
                caller,
                action,
                vec![id.to_string()],
                reason.as_deref(),
                AuditOutcome::Ok { detail: None },
            );
            match self.engine.retry_stuck(id, vec![audit]).await {
                Ok(n) => retried += n,
                Err(e) => problems.push(
                    self.failed(
                        caller,
                        action,
                        vec![id.to_string()],
                        reason.as_deref(),
                        operation_error(e),
                    )
                    .to_string(),
                ),
            }
        }
        if retried == 0 && !problems.is_empty() {
            return Err(ServiceError::invalid(problems.join("; ")));
        }
        let mut message = format!("{retried} stuck job(s) queued again");
        if !problems.is_empty() {
            message.push_str(&format!("; not retried: {}", problems.join("; ")));
        }
        Ok(Response::Done { message })
    }

    async fn set_settings(
        &self,
        caller: &Actor,
        link: LinkId,
        changes: Vec<(String, String)>,
        expected_version: u64,
        reason: Option<String>,
    ) -> Result<Response, ServiceError> {
        let action = "settings.set";
        let targets = vec![link.to_string()];
        self.require(
            caller,
            Permission::EditLinkSettings,
            action,
            &targets,
            reason.as_deref(),
        )?;
        let make_audit = |before: &crate::domain::settings::LinkSettings,
                          after: &crate::domain::settings::LinkSettings| {
            let diff = before.diff(after);
            let side =
                |pick: fn(&(crate::domain::settings::SettingKey, String, String)) -> &String| {
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
            let mut entry = self.entry(
                caller,
                action,
                targets.clone(),
                reason.as_deref(),
                AuditOutcome::Ok {
                    detail: Some(format!("{} key(s) changed", diff.len())),
                },
            );
            entry.before = Some(side(|d| &d.1));
            entry.after = Some(side(|d| &d.2));
            vec![entry]
        };
        match self
            .engine
            .set_settings(&link, &changes, expected_version, caller, make_audit)
            .await
        {
            Ok(_) => self.settings_view(&link).map(Response::Settings),
            Err(e) => Err(self.failed(
                caller,
                action,
                targets,
                reason.as_deref(),
                operation_error(e),
            )),
        }
    }

    async fn sync_now(
        &self,
        caller: &Actor,
        link: Option<LinkId>,
    ) -> Result<Response, ServiceError> {
        let action = "sync.run";
        let targets: Vec<String> = link.iter().map(ToString::to_string).collect();
        self.require(caller, Permission::RunSync, action, &targets, None)?;
        let summary = if self.daemon {
            self.poll_now().await
        } else {
            self.engine
                .sync_once(std::time::Duration::from_secs(30))
                .await
        };
        let audit = self.entry(
            caller,
            action,
            targets,
            None,
            AuditOutcome::Ok {
                detail: Some(format!(
                    "{} jobs run, {} stuck",
                    summary.jobs_run, summary.jobs_stuck
                )),
            },
        );
        self.engine
            .store()
            .append_audit(audit)
            .map_err(ServiceError::internal)?;
        self.engine
            .notify(|generation| Notification::Audit { generation });
        Ok(Response::Sync(summary))
    }
}

impl Service {
    /// `sync` inside the daemon: poll every link now and wake the daemon's job runner, rather
    /// than start a second runner that could claim the same jobs.
    async fn poll_now(&self) -> SyncSummary {
        let links = self.engine.links();
        let polls =
            futures::future::join_all(links.iter().map(|link| self.engine.poll_link(link))).await;
        self.engine.jobs_written.notify_one();
        let mut summary = SyncSummary {
            links: links.len(),
            ..SyncSummary::default()
        };
        for (link, poll) in links.iter().zip(polls) {
            summary.orders_seen += poll.orders;
            summary.cancellations_seen += poll.cancellations;
            summary.store_changes_seen += poll.store_changes;
            summary
                .poll_errors
                .extend(poll.errors.into_iter().map(|e| format!("{}: {e}", link.id)));
        }
        let far = self.engine.now() + chrono::Duration::days(3650);
        summary.jobs_waiting = self
            .engine
            .store()
            .due_jobs(far, usize::MAX)
            .map(|j| j.len())
            .unwrap_or_default();
        summary
    }
}

fn queued_jobs(request: &ResyncRequest) -> Vec<crate::domain::ids::JobId> {
    request
        .outcomes
        .values()
        .filter_map(|o| match o {
            TargetOutcome::Queued { job } => Some(*job),
            _ => None,
        })
        .collect()
}

pub(crate) fn operation_error(e: OperationError) -> ServiceError {
    match e {
        OperationError::Invalid(message) | OperationError::Platform(message) => {
            ServiceError::Invalid { message }
        }
        OperationError::NotFound(message) => ServiceError::NotFound { message },
        OperationError::Store(e) => ServiceError::internal(e),
    }
}
