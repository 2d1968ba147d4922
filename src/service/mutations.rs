//! Mutations are policy here and work in the engine. Each mutating request becomes a [`Plan`]:
//! the permission it needs, the audited action name, its targets and reason, and the engine
//! [`Command`] that carries it out. [`Service::audited`] is the one path every plan takes:
//! role check (a refusal is audited), the engine's `execute` (which writes the audit entry in
//! the commit of its change), or an audited failure. Every entry says who (unix user and uid),
//! from where (SSH_CONNECTION, informational), when, what, on which targets, why and the outcome.

use crate::domain::access::{Permission, Role};
use crate::domain::audit::{Actor, AuditEntry, AuditOutcome};
use crate::domain::cancellation::SellerResponse;
use crate::domain::ids::{CancelId, LinkId, RequestId, TiktokOrderId};
use crate::domain::request::{ResyncFlow, ResyncPath, resync_path};
use crate::domain::rules::parcel::ParcelOutcome;
use crate::engine::command::{MAX_REASON, queued_jobs};
use crate::engine::{Command, OperationError, Outcome};

use super::api::*;
use super::core::Service;

/// A mutating request as the engine will run it, with what the audit needs.
pub(crate) struct Plan {
    permission: Permission,
    action: &'static str,
    targets: Vec<String>,
    reason: Option<String>,
    command: Command,
}

impl Service {
    pub(crate) fn plan_resync(
        &self,
        caller: &Actor,
        orders: Vec<TiktokOrderId>,
        flow: ResyncFlow,
        reason: String,
    ) -> Plan {
        let role = caller.role.unwrap_or(Role::Viewer);
        let reason = reason.trim().to_string();
        Plan {
            permission: Permission::RequestResync,
            action: "resync.request",
            targets: ids(&orders),
            reason: Some(reason.clone()),
            command: Command::Resync {
                orders,
                flow,
                reason,
                runs_now: resync_path(role, self.two_person) == ResyncPath::RunsNow,
            },
        }
    }

    pub(crate) fn plan_decide(
        &self,
        request: RequestId,
        approve: bool,
        reason: Option<String>,
    ) -> Plan {
        Plan {
            permission: Permission::DecideResyncRequest,
            action: if approve {
                "request.approve"
            } else {
                "request.reject"
            },
            targets: vec![request.to_string()],
            reason: reason.clone(),
            command: Command::Decide {
                request,
                approve,
                reason,
                two_person: self.two_person,
            },
        }
    }

    pub(crate) fn plan_buyer_cancel_answer(
        cancel_id: CancelId,
        approve: bool,
        reject_reason: Option<String>,
        comment: Option<String>,
    ) -> Plan {
        let response = if approve {
            SellerResponse::Approve
        } else {
            SellerResponse::Reject {
                reason: reject_reason.clone().unwrap_or_default(),
                comment: comment.map(|c| crate::domain::text::truncate(&c, MAX_REASON)),
            }
        };
        Plan {
            permission: Permission::RespondBuyerCancel,
            action: if approve {
                "cancel.approve"
            } else {
                "cancel.reject"
            },
            targets: vec![cancel_id.to_string()],
            reason: reject_reason,
            command: Command::RespondBuyerCancel {
                cancel_id,
                response,
            },
        }
    }

    pub(crate) fn plan_reprint(order: TiktokOrderId, print: bool) -> Plan {
        Plan {
            permission: Permission::ReprintLabel,
            action: "label.reprint",
            targets: vec![order.to_string()],
            reason: None,
            command: Command::ReprintLabel { order, print },
        }
    }

    pub(crate) fn plan_retry(orders: Vec<TiktokOrderId>, reason: Option<String>) -> Plan {
        Plan {
            permission: Permission::RetryStuckJob,
            action: "job.retry",
            targets: ids(&orders),
            reason,
            command: Command::RetryStuck { orders },
        }
    }

    pub(crate) fn plan_parcel_handled(
        order: TiktokOrderId,
        outcome: ParcelOutcome,
        note: String,
    ) -> Plan {
        Plan {
            permission: Permission::MarkParcelHandled,
            action: "parcel.handled",
            targets: vec![order.to_string()],
            reason: Some(note.clone()),
            command: Command::MarkParcelHandled {
                order,
                outcome,
                note,
            },
        }
    }

    /// Same permission as a retry: it is one, of every order waiting on the cause.
    pub(crate) fn plan_retry_cause(
        link: LinkId,
        cause: crate::domain::cause::StuckCause,
        reason: Option<String>,
    ) -> Plan {
        Plan {
            permission: Permission::RetryStuckJob,
            action: "job.retry_cause",
            targets: vec![link.to_string(), cause.describe()],
            reason,
            command: Command::RetryCause { link, cause },
        }
    }

    pub(crate) fn plan_settings(
        link: LinkId,
        changes: Vec<(String, String)>,
        expected_version: u64,
        reason: Option<String>,
    ) -> Plan {
        Plan {
            permission: Permission::EditLinkSettings,
            action: "settings.set",
            targets: vec![link.to_string()],
            reason,
            command: Command::SetSettings {
                link,
                changes,
                expected_version,
            },
        }
    }

    pub(crate) fn plan_sync(&self, link: Option<LinkId>) -> Plan {
        Plan {
            permission: Permission::RunSync,
            action: "sync.run",
            targets: link.iter().map(ToString::to_string).collect(),
            reason: None,
            // Inside the daemon its own runner takes the jobs: a second one could claim them twice.
            command: if self.daemon {
                Command::PollNow
            } else {
                Command::SyncNow {
                    horizon: std::time::Duration::from_secs(30),
                }
            },
        }
    }

    /// The one path of every mutation: role check, the engine's command, and its audit entry
    /// whatever the outcome.
    pub(crate) async fn audited(
        &self,
        caller: &Actor,
        plan: Plan,
    ) -> Result<Response, ServiceError> {
        let Plan {
            permission,
            action,
            targets,
            reason,
            command,
        } = plan;
        let reason = reason.as_deref();
        if let Err(why) = self.may(caller, permission) {
            return Err(self.refused(caller, action, targets, reason, why).await);
        }
        let audit = AuditEntry::new(
            self.engine.now(),
            caller.clone(),
            action,
            targets.clone(),
            AuditOutcome::Ok { detail: None },
        )
        .with_reason(reason.map(str::to_string));
        match self.engine.execute(command, caller, audit).await {
            Ok(outcome) => self.response(outcome),
            Err(OperationError::Refused(why)) => {
                Err(self.refused(caller, action, targets, reason, why).await)
            }
            Err(OperationError::AuditedPerTarget(message)) => Err(ServiceError::invalid(message)),
            Err(e) => {
                let error = operation_error(e);
                let entry = AuditEntry::new(
                    self.engine.now(),
                    caller.clone(),
                    action,
                    targets,
                    AuditOutcome::Failed {
                        error: error.to_string(),
                    },
                )
                .with_reason(reason.map(str::to_string));
                self.engine.record_audit(entry).await;
                Err(error)
            }
        }
    }

    fn response(&self, outcome: Outcome) -> Result<Response, ServiceError> {
        Ok(match outcome {
            Outcome::Resync { request, running } => Response::Resync(ResyncOutcome {
                request: request.id,
                running,
                jobs: queued_jobs(&request),
            }),
            Outcome::Done { message } => Response::Done { message },
            Outcome::Label { path, printed } => Response::Label { path, printed },
            Outcome::Settings(record) => Response::Settings(self.settings_view(&record.link)?),
            Outcome::Sync(summary) => Response::Sync(summary),
        })
    }
}

fn ids(orders: &[TiktokOrderId]) -> Vec<String> {
    orders.iter().map(ToString::to_string).collect()
}

pub(crate) fn operation_error(e: OperationError) -> ServiceError {
    match e {
        OperationError::Invalid(message)
        | OperationError::Platform(message)
        | OperationError::AuditedPerTarget(message) => ServiceError::Invalid { message },
        OperationError::Refused(message) => ServiceError::Refused { message },
        OperationError::NotFound(message) => ServiceError::NotFound { message },
        OperationError::Store(e) => ServiceError::internal(e),
    }
}
