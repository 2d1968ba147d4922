//! Manual resync requests: support staff ask, an operator approves or rejects, the engine runs
//! the approved ones as jobs and records each target's outcome on the request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::access::Role;
use super::audit::Actor;
use super::clock::Timestamp;
use super::ids::{JobId, RequestId, TiktokOrderId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResyncFlow {
    /// Create the store order again (after reading back that none exists).
    Import,
    /// Push the store's tracking to TikTok again.
    Tracking,
    /// Run the order's cancellation sync again.
    Cancel,
}

impl ResyncFlow {
    pub fn name(self) -> &'static str {
        match self {
            ResyncFlow::Import => "import",
            ResyncFlow::Tracking => "tracking",
            ResyncFlow::Cancel => "cancel",
        }
    }

    pub fn parse(text: &str) -> Option<ResyncFlow> {
        [ResyncFlow::Import, ResyncFlow::Tracking, ResyncFlow::Cancel]
            .into_iter()
            .find(|f| f.name() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Rejected {
        by: Actor,
        at: Timestamp,
        reason: String,
    },
    /// Approved (or run at once for an operator); jobs are running.
    Running {
        approved_by: Actor,
        at: Timestamp,
    },
    /// Every target's job finished (see `outcomes` for each result).
    Finished {
        approved_by: Actor,
        at: Timestamp,
        finished_at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TargetOutcome {
    Queued { job: JobId },
    Succeeded { detail: String },
    Failed { error: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResyncRequest {
    pub id: RequestId,
    pub targets: Vec<TiktokOrderId>,
    pub flow: ResyncFlow,
    pub reason: String,
    pub requested_by: Actor,
    pub requested_at: Timestamp,
    pub status: RequestStatus,
    pub outcomes: BTreeMap<TiktokOrderId, TargetOutcome>,
}

impl ResyncRequest {
    pub fn is_pending(&self) -> bool {
        matches!(self.status, RequestStatus::Pending)
    }

    /// Marks one target's result and finishes the request once no target is still queued.
    pub fn record_outcome(
        &mut self,
        order: &TiktokOrderId,
        outcome: TargetOutcome,
        now: Timestamp,
    ) {
        self.outcomes.insert(order.clone(), outcome);
        let all_done = self.targets.iter().all(|t| {
            matches!(
                self.outcomes.get(t),
                Some(TargetOutcome::Succeeded { .. } | TargetOutcome::Failed { .. })
            )
        });
        if let (true, RequestStatus::Running { approved_by, at }) = (all_done, &self.status) {
            self.status = RequestStatus::Finished {
                approved_by: approved_by.clone(),
                at: *at,
                finished_at: now,
            };
        }
    }
}

/// What happens when someone with `role` asks for a resync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResyncPath {
    /// Becomes a pending request for an operator.
    NeedsApproval,
    /// Runs at once (an operator's own request without two-person approval).
    RunsNow,
}

pub fn resync_path(role: Role, two_person: bool) -> ResyncPath {
    if role >= Role::Operator && !two_person {
        ResyncPath::RunsNow
    } else {
        ResyncPath::NeedsApproval
    }
}

/// Whether `approver` may approve or reject `request`. Role checks happen in the service;
/// this rule covers the request's state and the two-person rule.
pub fn check_decision(
    request: &ResyncRequest,
    approver: &Actor,
    two_person: bool,
) -> Result<(), String> {
    if !request.is_pending() {
        return Err(format!("request {} is no longer pending", request.id));
    }
    if two_person && approver.uid == request.requested_by.uid {
        return Err(format!(
            "request {} is yours; with approvals.two_person on, another operator must decide it",
            request.id
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;

    fn actor(user: &str, uid: u32, role: Role) -> Actor {
        Actor {
            user: user.into(),
            uid,
            role: Some(role),
            from: None,
        }
    }

    fn request(by: &Actor) -> ResyncRequest {
        ResyncRequest {
            id: RequestId(3),
            targets: vec![
                TiktokOrderId::new("1").unwrap(),
                TiktokOrderId::new("2").unwrap(),
            ],
            flow: ResyncFlow::Import,
            reason: "customer called".into(),
            requested_by: by.clone(),
            requested_at: from_unix(0),
            status: RequestStatus::Pending,
            outcomes: BTreeMap::new(),
        }
    }

    #[test]
    fn who_needs_approval() {
        // (role, two_person, path)
        let table = [
            (Role::Viewer, false, ResyncPath::NeedsApproval),
            (Role::Support, false, ResyncPath::NeedsApproval),
            (Role::Support, true, ResyncPath::NeedsApproval),
            (Role::Operator, false, ResyncPath::RunsNow),
            (Role::Operator, true, ResyncPath::NeedsApproval),
            (Role::Admin, false, ResyncPath::RunsNow),
            (Role::Admin, true, ResyncPath::NeedsApproval),
        ];
        for (role, two_person, path) in table {
            assert_eq!(
                resync_path(role, two_person),
                path,
                "{role} two_person={two_person}"
            );
        }
    }

    #[test]
    fn decisions_follow_state_and_the_two_person_rule() {
        let alice = actor("alice", 1001, Role::Operator);
        let bob = actor("bob", 1002, Role::Operator);
        let mine = request(&alice);
        // (request, approver, two_person, allowed)
        let table = [
            (&mine, &alice, false, true),
            (&mine, &alice, true, false),
            (&mine, &bob, true, true),
        ];
        for (req, approver, two_person, allowed) in table {
            assert_eq!(
                check_decision(req, approver, two_person).is_ok(),
                allowed,
                "{} two_person={two_person}",
                approver.user
            );
        }
        let mut done = request(&alice);
        done.status = RequestStatus::Running {
            approved_by: bob.clone(),
            at: from_unix(1),
        };
        assert!(
            check_decision(&done, &bob, false)
                .unwrap_err()
                .contains("no longer pending")
        );
    }

    #[test]
    fn request_finishes_when_every_target_has_an_outcome() {
        let bob = actor("bob", 1002, Role::Operator);
        let mut req = request(&bob);
        req.status = RequestStatus::Running {
            approved_by: bob.clone(),
            at: from_unix(1),
        };
        let (one, two) = (req.targets[0].clone(), req.targets[1].clone());
        req.record_outcome(&one, TargetOutcome::Queued { job: JobId(1) }, from_unix(2));
        req.record_outcome(
            &two,
            TargetOutcome::Succeeded {
                detail: "created #1001".into(),
            },
            from_unix(2),
        );
        assert!(matches!(req.status, RequestStatus::Running { .. }));
        req.record_outcome(
            &one,
            TargetOutcome::Failed {
                error: "SKU X unknown".into(),
            },
            from_unix(3),
        );
        assert!(
            matches!(req.status, RequestStatus::Finished { finished_at, .. } if finished_at == from_unix(3))
        );
    }
}
