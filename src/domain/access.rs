//! Roles and what each may do. The table is pure so it can be tested row by row; the service
//! resolves who is asking (from socket peer credentials) and consults it for every request.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Roles are ordered: each may do everything the previous one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Support,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Support, Role::Operator, Role::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Support => "support",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn may(self, permission: Permission) -> bool {
        self >= permission.minimum_role()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a face can ask the service to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Read,
    RequestResync,
    ReprintLabel,
    RetryStuckJob,
    MarkParcelHandled,
    DecideResyncRequest,
    RespondBuyerCancel,
    EditLinkSettings,
    RunSync,
    ChangeAccess,
    ChangeCredentials,
}

impl Permission {
    pub fn minimum_role(self) -> Role {
        match self {
            Permission::Read => Role::Viewer,
            Permission::RequestResync
            | Permission::ReprintLabel
            | Permission::RetryStuckJob
            | Permission::MarkParcelHandled => Role::Support,
            Permission::DecideResyncRequest
            | Permission::RespondBuyerCancel
            | Permission::EditLinkSettings
            | Permission::RunSync => Role::Operator,
            Permission::ChangeAccess | Permission::ChangeCredentials => Role::Admin,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Permission::Read => "read orders and activity",
            Permission::RequestResync => "ask for a resync",
            Permission::ReprintLabel => "reprint a label",
            Permission::RetryStuckJob => "retry a stuck job",
            Permission::MarkParcelHandled => "mark a parcel sent after a cancel as handled",
            Permission::DecideResyncRequest => "approve or reject resync requests",
            Permission::RespondBuyerCancel => "approve or reject buyer cancel requests",
            Permission::EditLinkSettings => "edit link settings",
            Permission::RunSync => "run a sync",
            Permission::ChangeAccess => "change access",
            Permission::ChangeCredentials => "change credentials",
        }
    }
}

/// Why a request was refused, worded for the person who was refused.
pub fn refusal(role: Option<Role>, permission: Permission) -> String {
    let needed = permission.minimum_role();
    match role {
        Some(role) => format!(
            "only {needed} and above may {}; you are {role}",
            permission.describe()
        ),
        None => format!(
            "you have no orderdeck role; to {} you need {needed} (ask an admin to add you to [access] in orderdeck.toml)",
            permission.describe()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_is_allowed_exactly_its_permissions() {
        use Permission::*;
        // (permission, viewer, support, operator, admin)
        let table = [
            (Read, true, true, true, true),
            (RequestResync, false, true, true, true),
            (ReprintLabel, false, true, true, true),
            (RetryStuckJob, false, true, true, true),
            (MarkParcelHandled, false, true, true, true),
            (DecideResyncRequest, false, false, true, true),
            (RespondBuyerCancel, false, false, true, true),
            (EditLinkSettings, false, false, true, true),
            (RunSync, false, false, true, true),
            (ChangeAccess, false, false, false, true),
            (ChangeCredentials, false, false, false, true),
        ];
        for (perm, viewer, support, operator, admin) in table {
            let got =
                [Role::Viewer, Role::Support, Role::Operator, Role::Admin].map(|r| r.may(perm));
            assert_eq!(got, [viewer, support, operator, admin], "{perm:?}");
        }
    }

    #[test]
    fn refusals_name_the_missing_role() {
        assert_eq!(
            refusal(Some(Role::Support), Permission::EditLinkSettings),
            "only operator and above may edit link settings; you are support"
        );
        assert!(refusal(None, Permission::Read).contains("no orderdeck role"));
    }
}
