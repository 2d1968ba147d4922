//! Who is asking. The daemon reads the peer's uid and gid from the socket (never a name the
//! client sends), looks the account up in the system's user and group databases, and maps it to
//! a role through `[access]`. In-process use (no daemon) goes through the same mapping with the
//! process's own uid, so a command cannot do more in-process than through the daemon.

use nix::unistd::{Gid, Group, Uid, User};

use crate::config::AccessConfig;
use crate::domain::audit::Actor;

/// A unix account as the system knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub name: String,
    pub groups: Vec<String>,
}

impl Account {
    /// Looks up `uid` (and its groups, primary `gid` included). Accounts without a name are
    /// named `uid:<n>` and match no `[access]` entry.
    pub fn lookup(uid: u32, gid: u32) -> Account {
        let user = User::from_uid(Uid::from_raw(uid)).ok().flatten();
        let name = user
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("uid:{uid}"));
        let mut gids = vec![Gid::from_raw(gid)];
        if let Some(user) = &user
            && let Ok(cname) = std::ffi::CString::new(user.name.clone())
            && let Ok(list) = nix::unistd::getgrouplist(&cname, user.gid)
        {
            gids.extend(list);
        }
        gids.sort_by_key(|g| g.as_raw());
        gids.dedup();
        let groups = gids
            .into_iter()
            .filter_map(|g| Group::from_gid(g).ok().flatten().map(|g| g.name))
            .collect();
        Account { uid, name, groups }
    }

    /// The current process's account.
    pub fn current() -> Account {
        Account::lookup(Uid::current().as_raw(), Gid::current().as_raw())
    }

    /// The actor this account acts as, with the role `[access]` gives it.
    pub fn actor(&self, access: &AccessConfig, from: Option<String>) -> Actor {
        Actor {
            user: self.name.clone(),
            uid: self.uid,
            role: access.role_for(&self.name, &self.groups),
            from: from
                .map(|f| crate::domain::text::truncate(&crate::domain::text::sanitize(&f), 100)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_found_with_its_groups() {
        let root = Account::lookup(0, 0);
        assert_eq!(root.name, "root");
        assert!(root.groups.iter().any(|g| g == "root"), "{:?}", root.groups);
    }

    #[test]
    fn unknown_uids_get_a_placeholder_name() {
        let ghost = Account::lookup(987_654, 987_654);
        assert_eq!(ghost.name, "uid:987654");
    }
}
