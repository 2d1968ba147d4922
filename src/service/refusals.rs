//! Refusals, counted per peer (uid) and rate-limited in the audit log. Within a window of
//! [`WINDOW`] from a peer's first refusal, its first [`BURST`] refusals are written as they come;
//! the rest are only counted, and written as ONE entry with the count (action by action) when
//! the window ends, or when the daemon stops. A flood of refused requests costs the audit log
//! a handful of entries; a person refused now and then still finds each refusal in full.
//!
//! The window is real time (tokio's clock), not the engine's: it bounds a rate, it says nothing
//! about when anything happened. Summaries are written by a task holding only a weak reference
//! to the engine, so a pending summary never keeps the store open.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::core::Service;
use crate::domain::audit::{Actor, AuditEntry, AuditOutcome};
use crate::engine::Engine;

/// How long a peer's refusals are counted together.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// Refusals per peer and window written one by one before the rest are counted.
pub(crate) const BURST: u32 = 10;
/// The action of a summary entry.
pub(crate) const SUMMARY_ACTION: &str = "refusals.counted";

/// Per-peer windows. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub(crate) struct RefusalLog {
    peers: Arc<Mutex<HashMap<u32, Peer>>>,
}

#[derive(Debug)]
struct Peer {
    started: Instant,
    written: u32,
    counted: Option<Counted>,
}

/// Refusals of one peer not written one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counted {
    /// The peer as last seen (its `from` may change between connections).
    actor: Actor,
    total: u64,
    actions: BTreeMap<String, u64>,
}

/// What to do with one refusal.
#[derive(Debug, PartialEq, Eq)]
struct Admitted {
    /// Write this refusal's own entry.
    write: bool,
    /// The peer's previous window ended with these refusals counted: write their summary.
    ended: Option<Counted>,
    /// The first refusal counted in this window: summarize the window when it ends
    /// (its start identifies it).
    summarize_at: Option<(Instant, Instant)>,
}

impl RefusalLog {
    fn admit(&self, actor: &Actor, action: &str, now: Instant) -> Admitted {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let peer = peers.entry(actor.uid).or_insert_with(|| Peer::new(now));
        let mut ended = None;
        if now >= peer.started + WINDOW {
            ended = peer.counted.take();
            *peer = Peer::new(now);
        }
        if peer.written < BURST {
            peer.written += 1;
            return Admitted {
                write: true,
                ended,
                summarize_at: None,
            };
        }
        let first = peer.counted.is_none();
        let counted = peer.counted.get_or_insert_with(|| Counted {
            actor: actor.clone(),
            total: 0,
            actions: BTreeMap::new(),
        });
        counted.actor = actor.clone();
        counted.total += 1;
        *counted.actions.entry(action.to_string()).or_default() += 1;
        Admitted {
            write: false,
            ended,
            summarize_at: first.then(|| (peer.started, peer.started + WINDOW)),
        }
    }

    /// The refusals counted in the window of `uid` that began at `started`, if it is still
    /// the current one (a refusal after its end may have summarized it already).
    fn take_window(&self, uid: u32, started: Instant) -> Option<Counted> {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.get(&uid)?.started != started {
            return None;
        }
        peers.remove(&uid).and_then(|peer| peer.counted)
    }

    /// Every count not yet written, and a fresh start for everyone.
    fn take_all(&self) -> Vec<Counted> {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.drain().filter_map(|(_, peer)| peer.counted).collect()
    }
}

impl Peer {
    fn new(now: Instant) -> Peer {
        Peer {
            started: now,
            written: 0,
            counted: None,
        }
    }
}

impl Counted {
    fn summary(self, engine: &Engine) -> AuditEntry {
        let actions: Vec<String> = self
            .actions
            .iter()
            .map(|(action, n)| format!("{action} ×{n}"))
            .collect();
        let why = format!(
            "{} more refusal(s) of {} (uid {}) within {} s, counted rather than logged one by one: {}",
            self.total,
            self.actor.user,
            self.actor.uid,
            WINDOW.as_secs(),
            actions.join(", ")
        );
        AuditEntry::new(
            engine.now(),
            self.actor,
            SUMMARY_ACTION,
            Vec::new(),
            AuditOutcome::Refused { why },
        )
    }
}

impl Service {
    /// Audits the refusal `entry`, or counts it (see the module docs).
    pub(crate) async fn audit_refusal(&self, entry: AuditEntry) {
        let log = &self.limits.refusals;
        let admitted = log.admit(&entry.actor, &entry.action, Instant::now());
        if let Some(counted) = admitted.ended {
            self.engine
                .record_audit(counted.summary(&self.engine))
                .await;
        }
        let uid = entry.actor.uid;
        if admitted.write {
            self.engine.record_audit(entry).await;
        }
        let Some((started, end)) = admitted.summarize_at else {
            return;
        };
        tracing::warn!(
            uid,
            "more than {BURST} refusals within {} s: further ones are counted, not logged one by one",
            WINDOW.as_secs()
        );
        // Without a runtime (never in practice) the count waits for the peer's next refusal
        // or for the daemon's stop.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (log, engine) = (log.clone(), Arc::downgrade(&self.engine));
        runtime.spawn(async move {
            tokio::time::sleep_until(end).await;
            if let Some(engine) = engine.upgrade()
                && let Some(counted) = log.take_window(uid, started)
            {
                engine.record_audit(counted.summary(&engine)).await;
            }
        });
    }

    /// Writes every count not written yet (at shutdown).
    pub(crate) async fn flush_refusals(&self) {
        for counted in self.limits.refusals.take_all() {
            self.engine
                .record_audit(counted.summary(&self.engine))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(uid: u32) -> Actor {
        Actor {
            user: format!("u{uid}"),
            uid,
            role: None,
            from: None,
        }
    }

    #[test]
    fn a_burst_is_written_the_rest_counted_once_per_window() {
        let log = RefusalLog::default();
        let t0 = Instant::now();
        for _ in 0..BURST {
            assert!(log.admit(&actor(1), "resync.request", t0).write);
        }
        let first = log.admit(&actor(1), "resync.request", t0);
        assert!(!first.write);
        assert_eq!(first.summarize_at, Some((t0, t0 + WINDOW)));
        let second = log.admit(&actor(1), "job.retry", t0 + Duration::from_secs(1));
        assert_eq!((second.write, second.summarize_at), (false, None));
        // Another peer has its own window.
        assert!(log.admit(&actor(2), "job.retry", t0).write);

        let counted = log.take_window(1, t0).expect("counted");
        assert_eq!(counted.total, 2);
        assert_eq!(counted.actions["resync.request"], 1);
        assert_eq!(counted.actions["job.retry"], 1);
        assert_eq!(log.take_window(1, t0), None, "taken once");
    }

    #[test]
    fn a_refusal_after_the_window_summarizes_it_and_starts_anew() {
        let log = RefusalLog::default();
        let t0 = Instant::now();
        for _ in 0..BURST + 3 {
            log.admit(&actor(1), "settings.set", t0);
        }
        let later = t0 + WINDOW + Duration::from_secs(1);
        let next = log.admit(&actor(1), "settings.set", later);
        assert!(next.write);
        assert_eq!(next.ended.map(|c| c.total), Some(3));
        // The old window's timer finds nothing left to write.
        assert_eq!(log.take_window(1, t0), None);
        assert!(
            log.take_all().is_empty(),
            "nothing counted in the new window"
        );
    }
}
