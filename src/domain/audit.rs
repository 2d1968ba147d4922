//! Who did what: the audit entry every mutating request appends (allowed or refused), and the
//! actor that identifies a person from their unix account.

use serde::{Deserialize, Serialize};

use super::access::Role;
use super::clock::Timestamp;

/// A person, as the service identified them from socket peer credentials (never from a name
/// the client sent), or the engine itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub uid: u32,
    pub role: Option<Role>,
    /// The client's `SSH_CONNECTION`, informational only (the client could lie about it).
    pub from: Option<String>,
}

impl Actor {
    /// The engine acting on its own (polls, scheduled jobs).
    pub fn engine() -> Actor {
        Actor {
            user: "orderdeck".into(),
            uid: u32::MAX,
            role: None,
            from: None,
        }
    }

    pub fn is_engine(&self) -> bool {
        self.uid == u32::MAX && self.user == "orderdeck"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Done, with a short description of what happened.
    Ok { detail: Option<String> },
    /// Refused before anything happened (role, validation).
    Refused { why: String },
    /// Attempted and failed.
    Failed { error: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: Actor,
    /// A dotted verb: `resync.request`, `request.approve`, `settings.set`, `cancel.approve`...
    pub action: String,
    /// Order ids, request ids, link names the action touched.
    pub targets: Vec<String>,
    /// The reason the person typed, if any.
    pub reason: Option<String>,
    pub outcome: AuditOutcome,
    /// For settings changes: values before and after (key → text).
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new(
        at: Timestamp,
        actor: Actor,
        action: impl Into<String>,
        targets: Vec<String>,
        outcome: AuditOutcome,
    ) -> Self {
        AuditEntry {
            at,
            actor,
            action: action.into(),
            targets,
            reason: None,
            outcome,
            before: None,
            after: None,
        }
    }

    pub fn with_reason(mut self, reason: Option<String>) -> Self {
        self.reason = reason;
        self
    }
}
