//! `[access]`: which unix users and groups hold which role. The service learns who is asking
//! from socket peer credentials and asks [`AccessConfig::role_for`], a pure function, so the
//! whole policy is testable here without sockets. No entry and no `default_role` means no access.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::access::Role;

use super::reader::{Loader, Section};

/// Someone named in `[access]`: a unix user (`alice`) or a unix group (`@support-team`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    User(String),
    Group(String),
}

impl Principal {
    /// `@name` is a group, anything else a user. Names must be non-empty and free of
    /// whitespace and control characters (unix names never contain them).
    pub fn parse(text: &str) -> Result<Principal, String> {
        let (name, group) = match text.strip_prefix('@') {
            Some(name) => (name, true),
            None => (text, false),
        };
        if name.is_empty() {
            return Err(format!("{text:?} is not a user or @group name"));
        }
        if name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@' || c == ':')
        {
            return Err(format!(
                "{:?} is not a valid {} name",
                crate::domain::text::sanitize(text),
                if group { "group" } else { "user" }
            ));
        }
        Ok(if group {
            Principal::Group(name.to_string())
        } else {
            Principal::User(name.to_string())
        })
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(name) => f.write_str(name),
            Principal::Group(name) => write!(f, "@{name}"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessConfig {
    /// Each role's users and groups, as listed.
    pub members: BTreeMap<Role, Vec<Principal>>,
    /// The role of someone matched by no entry; `None` refuses them.
    pub default_role: Option<Role>,
}

impl AccessConfig {
    /// The role of unix user `user`, member of `groups`: the highest role any entry gives them,
    /// else `default_role`. An explicit entry wins over the default even when lower, so listing
    /// someone as `viewer` can restrict them below a generous default.
    pub fn role_for<G: AsRef<str>>(&self, user: &str, groups: &[G]) -> Option<Role> {
        let matches = |p: &Principal| match p {
            Principal::User(name) => name == user,
            Principal::Group(name) => groups.iter().any(|g| g.as_ref() == name),
        };
        self.members
            .iter()
            .filter(|(_, principals)| principals.iter().any(matches))
            .map(|(role, _)| *role)
            .max()
            .or(self.default_role)
    }

    pub fn is_empty(&self) -> bool {
        self.default_role.is_none() && self.members.values().all(Vec::is_empty)
    }
}

pub(crate) fn read_access(ld: &mut Loader<'_>, section: Option<Section<'_, '_>>) -> AccessConfig {
    let mut access = AccessConfig::default();
    let Some(mut section) = section else {
        ld.file_warning(format!("there is no [access] section: {NOBODY_ADMITTED}"));
        return access;
    };
    // Where each principal was first listed, to point out one listed under two roles.
    let mut first_seen: BTreeMap<Principal, Role> = BTreeMap::new();
    for role in Role::ALL {
        for (text, span) in section.string_list(ld, role.name()) {
            let principal = match Principal::parse(text) {
                Ok(p) => p,
                Err(why) => {
                    ld.error(&span, format!("\"{}\" in [access]: {why}", role.name()));
                    continue;
                }
            };
            match first_seen.get(&principal) {
                Some(earlier) if *earlier == role => {}
                Some(earlier) => ld.warn(
                    &span,
                    format!("{principal} is listed as {earlier} and as {role}; the higher role ({role}) applies"),
                ),
                None => {
                    first_seen.insert(principal.clone(), role);
                }
            }
            let members = access.members.entry(role).or_default();
            if !members.contains(&principal) {
                members.push(principal);
            }
        }
    }
    if let Some((text, span)) = section.string(ld, "default_role") {
        match Role::parse(text) {
            Some(role) => access.default_role = Some(role),
            None => ld.error(
                &span,
                format!(
                    "\"default_role\" in [access]: {text:?} is not a role; use viewer, \
                     support, operator or admin, or leave it out to refuse unlisted users"
                ),
            ),
        }
    }
    if access.is_empty() {
        let header = section.span.clone();
        ld.warn(
            &header,
            format!("[access] names nobody and has no default_role: {NOBODY_ADMITTED}"),
        );
    }
    section.finish(ld, |_| None);
    access
}

const NOBODY_ADMITTED: &str = "every console and CLI user will be refused; add e.g. \
                               admin = [\"your-unix-user\"] under [access]";

#[cfg(test)]
mod tests {
    use super::*;

    fn access(entries: &[(Role, &[&str])], default_role: Option<Role>) -> AccessConfig {
        AccessConfig {
            members: entries
                .iter()
                .map(|(role, names)| {
                    let principals = names.iter().map(|n| Principal::parse(n).unwrap()).collect();
                    (*role, principals)
                })
                .collect(),
            default_role,
        }
    }

    #[test]
    fn highest_matching_role_wins() {
        let a = access(
            &[
                (Role::Viewer, &["alice", "@staff"]),
                (Role::Operator, &["@ops"]),
                (Role::Admin, &["root-ann"]),
            ],
            None,
        );
        let none: [&str; 0] = [];
        // (user, groups, expected)
        let table: &[(&str, &[&str], Option<Role>)] = &[
            ("alice", &[], Some(Role::Viewer)),
            ("alice", &["ops"], Some(Role::Operator)),
            ("bob", &["staff"], Some(Role::Viewer)),
            ("bob", &["staff", "ops"], Some(Role::Operator)),
            ("root-ann", &["staff"], Some(Role::Admin)),
            ("mallory", &["wheel"], None),
            // A group entry does not match a user of the same name, nor the reverse.
            ("ops", &[], None),
            ("carol", &["alice"], None),
        ];
        for (user, groups, expected) in table {
            assert_eq!(a.role_for(user, groups), *expected, "{user} {groups:?}");
        }
        assert_eq!(a.role_for("mallory", &none), None);
    }

    #[test]
    fn default_role_applies_only_to_the_unlisted() {
        let a = access(&[(Role::Viewer, &["intern"])], Some(Role::Support));
        assert_eq!(a.role_for("stranger", &["x"]), Some(Role::Support));
        assert_eq!(a.role_for("intern", &["x"]), Some(Role::Viewer));
    }

    #[test]
    fn principals_parse_users_and_groups() {
        assert_eq!(
            Principal::parse("alice"),
            Ok(Principal::User("alice".into()))
        );
        assert_eq!(
            Principal::parse("@support-team"),
            Ok(Principal::Group("support-team".into()))
        );
        assert_eq!(Principal::parse("@ops").unwrap().to_string(), "@ops");
        for bad in ["", "@", "two words", "a:b", "@@x", "tab\there"] {
            assert!(Principal::parse(bad).is_err(), "{bad:?}");
        }
    }
}
