//! What one client may hold of the daemon before anything it sends is read: connections per
//! uid and in all, the longest line of a peer `[access]` gives no role, and how long a line may
//! stay unfinished. The uid comes from the socket's peer credentials, so a seat is taken before
//! the account is looked up or a byte is buffered.
//!
//! Invariant: a [`Seat`] is held for a connection's whole life and given back when it ends, so
//! the counts are exactly the connections being served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The socket's limits; [`Default`] is what `orderdeck serve` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketLimits {
    /// Connections one uid may have open at once (consoles, commands, scripts).
    pub per_uid: usize,
    /// Connections open at once, everyone together.
    pub total: usize,
    /// The longest line of a peer without a role: everything such a peer may ask but `hello`
    /// is refused, and `hello` is short.
    pub line_without_role: usize,
    /// How long a line may stay unfinished (from when it is first seen) before the
    /// connection is closed; checked at that interval, so a line may last up to twice this.
    pub unfinished_line: Duration,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            per_uid: 16,
            total: 128,
            line_without_role: 4096,
            unfinished_line: Duration::from_secs(10),
        }
    }
}

/// Connections open, per uid and in all.
#[derive(Debug, Default)]
struct Open {
    per_uid: HashMap<u32, usize>,
    total: usize,
}

/// The connection counts of one listener.
#[derive(Debug, Clone)]
pub(crate) struct Seats {
    limits: SocketLimits,
    open: Arc<Mutex<Open>>,
}

/// One connection's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Seat {
    uid: u32,
    open: Arc<Mutex<Open>>,
}

impl Seats {
    pub(crate) fn new(limits: SocketLimits) -> Seats {
        Seats {
            limits,
            open: Arc::default(),
        }
    }

    /// A place for a connection of `uid`, or why there is none (said to the client).
    pub(crate) fn take(&self, uid: u32) -> Result<Seat, String> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.per_uid.get(&uid).copied().unwrap_or_default();
        if mine >= self.limits.per_uid {
            return Err(format!(
                "too many connections from uid {uid}: at most {} at once; close a console or command first",
                self.limits.per_uid
            ));
        }
        if open.total >= self.limits.total {
            return Err(format!(
                "the daemon serves at most {} connections at once and all are taken; try again later",
                self.limits.total
            ));
        }
        *open.per_uid.entry(uid).or_default() += 1;
        open.total += 1;
        Ok(Seat {
            uid,
            open: self.open.clone(),
        })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_uid.get_mut(&self.uid) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_uid.remove(&self.uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_counted_per_uid_and_in_all_and_given_back() {
        let seats = Seats::new(SocketLimits {
            per_uid: 2,
            total: 3,
            ..SocketLimits::default()
        });
        let a1 = seats.take(1).unwrap();
        let _a2 = seats.take(1).unwrap();
        let per_uid = seats.take(1).unwrap_err();
        assert!(
            per_uid.contains("uid 1") && per_uid.contains("at most 2"),
            "{per_uid}"
        );
        let _b1 = seats.take(2).unwrap();
        let total = seats.take(3).unwrap_err();
        assert!(total.contains("at most 3 connections"), "{total}");
        drop(a1);
        let _again = seats.take(1).unwrap();
        assert_eq!(seats.open.lock().unwrap().total, 3);
    }
}
