//! The store's request quota, shared by every request a client sends to that store.
//!
//! BigCommerce counts every request of every app against one quota per store, refilled each
//! window (150 per 30 s on Standard plans), and says where it stands on every answer:
//! `X-Rate-Limit-Requests-Left`, `X-Rate-Limit-Time-Reset-Ms`, `X-Rate-Limit-Requests-Quota`,
//! `X-Rate-Limit-Time-Window-Ms`. A 429 means "nothing more until the reset", for the whole
//! store — so the pause is kept here, where every request waits for it, not with the request
//! that met it.
//!
//! Invariants: a request is sent only while the gate believes the store has room: once
//! `Requests-Left` reaches 0 (or a 429 arrives) nothing is sent until the reset; requests sent
//! since the last answer are counted against what it said (each takes one from `left` before it
//! goes), so a burst of concurrent requests cannot overrun the quota it was told about. When
//! nothing is known (the first request, answers without the headers) requests go.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// The longest one pause lasts, whatever a header says (the documented window is 30 s).
pub const MAX_PAUSE: Duration = Duration::from_secs(60);
/// How often a request waiting for the first answer of a new window looks again.
const POLL: Duration = Duration::from_millis(20);

/// What an answer said about the quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub left: Option<u32>,
    pub reset: Option<Duration>,
    pub quota: Option<u32>,
    pub window: Option<Duration>,
}

impl Limits {
    /// The `X-Rate-Limit-*` headers of an answer (names are case-insensitive).
    pub fn read(headers: &HeaderMap) -> Limits {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let millis = |name: &str| number(name).map(|ms| Duration::from_millis(ms).min(MAX_PAUSE));
        Limits {
            left: number("x-rate-limit-requests-left")
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            reset: millis("x-rate-limit-time-reset-ms"),
            quota: number("x-rate-limit-requests-quota")
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            window: millis("x-rate-limit-time-window-ms"),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Requests the store still takes before `reset_at`, less those sent since it said so;
    /// `None`: not known, requests go.
    left: Option<u32>,
    /// When the window `left` belongs to ends; `None` once it has ended and no answer of the
    /// next one has arrived.
    reset_at: Option<Instant>,
    quota: Option<u32>,
    window: Option<Duration>,
    in_flight: u32,
    /// 429s met, for the figures a bench or a test reads.
    throttled: u64,
}

/// One store's gate. Every request holds a [`Permit`] from [`Gate::acquire`] while it is out.
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<State>,
}

/// A request's place in the quota; hand it back with what the answer said.
#[derive(Debug)]
pub struct Permit<'a> {
    gate: &'a Gate,
    open: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.open {
            // No answer (a transport failure): the request is no longer out.
            let mut state = self.gate.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the store has room for one more request, and takes it.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                if state.reset_at.is_some_and(|at| now >= at) {
                    // A new window: the full quota, when the store has said what it is.
                    state.reset_at = None;
                    state.left = state.quota;
                }
                let wait = match state.left {
                    None => None,
                    Some(left) if left > 0 => {
                        state.left = Some(left - 1);
                        None
                    }
                    // Spent, and nothing out that will tell when the window ends: one goes
                    // (its answer says where the quota stands); the rest wait for that answer.
                    Some(_) if state.reset_at.is_none() && state.in_flight == 0 => None,
                    Some(_) => Some(state.reset_at.map_or(POLL, |at| at - now)),
                };
                if wait.is_none() {
                    state.in_flight += 1;
                }
                wait
            };
            match wait {
                None => {
                    return Permit {
                        gate: self,
                        open: true,
                    };
                }
                Some(wait) => tokio::time::sleep(wait.min(MAX_PAUSE)).await,
            }
        }
    }

    /// Records what an answer said about the quota.
    pub fn observe(&self, mut permit: Permit<'_>, limits: Limits) {
        permit.open = false;
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.quota = limits.quota.or(state.quota);
        state.window = limits.window.or(state.window);
        let (Some(left), Some(reset)) = (limits.left, limits.reset) else {
            return;
        };
        let end = Instant::now() + reset;
        // Answers of one window end at (nearly) the same instant; a later window ends at least
        // most of a window later.
        let slack = state.window.map_or(Duration::from_millis(100), |w| w / 2);
        let new_window = state.reset_at.is_none_or(|at| end > at + slack);
        if new_window {
            state.reset_at = Some(end);
            // Requests still out may land in this window after this answer was counted.
            state.left = Some(left.saturating_sub(state.in_flight));
        } else {
            state.left = Some(state.left.map_or(left, |mine| mine.min(left)));
        }
    }

    /// A 429: nothing goes to the store for `reset`.
    pub fn throttled(&self, mut permit: Permit<'_>, reset: Duration, limits: Limits) {
        permit.open = false;
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.throttled += 1;
        state.quota = limits.quota.or(state.quota);
        state.window = limits.window.or(state.window);
        let end = Instant::now() + reset.min(MAX_PAUSE);
        state.reset_at = Some(state.reset_at.map_or(end, |at| at.max(end)));
        state.left = Some(0);
    }

    /// How many 429s this store answered so far.
    pub fn throttled_count(&self) -> u64 {
        self.lock().throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(left: u32, reset_ms: u64) -> Limits {
        Limits {
            left: Some(left),
            reset: Some(Duration::from_millis(reset_ms)),
            quota: Some(3),
            window: Some(Duration::from_millis(400)),
        }
    }

    #[test]
    fn headers_are_read_case_insensitively_and_bounded() {
        let mut h = HeaderMap::new();
        h.insert("X-Rate-Limit-Requests-Left", "7".parse().unwrap());
        h.insert("x-rate-limit-time-reset-ms", "999999999".parse().unwrap());
        h.insert("X-Rate-Limit-Requests-Quota", "150".parse().unwrap());
        h.insert("X-Rate-Limit-Time-Window-Ms", "30000".parse().unwrap());
        let l = Limits::read(&h);
        assert_eq!(l.left, Some(7));
        assert_eq!(l.reset, Some(MAX_PAUSE));
        assert_eq!(l.quota, Some(150));
        assert_eq!(l.window, Some(Duration::from_secs(30)));
        assert_eq!(Limits::read(&HeaderMap::new()), Limits::default());
    }

    #[tokio::test(start_paused = true)]
    async fn no_request_goes_once_the_store_says_none_are_left() {
        let gate = Gate::default();
        let started = Instant::now();
        let first = gate.acquire().await;
        gate.observe(first, limits(0, 300));
        let second = gate.acquire().await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        // A new window: the quota is known, so three go and the fourth waits for an answer.
        gate.observe(second, limits(2, 400));
        let _a = gate.acquire().await;
        let _b = gate.acquire().await;
        let waited = Instant::now();
        let _c = gate.acquire().await;
        assert!(
            waited.elapsed() >= Duration::from_millis(390),
            "{:?}",
            waited.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_request() {
        let gate = Gate::default();
        let permit = gate.acquire().await;
        gate.throttled(permit, Duration::from_millis(500), Limits::default());
        let started = Instant::now();
        let _next = gate.acquire().await;
        assert!(started.elapsed() >= Duration::from_millis(500));
        assert_eq!(gate.throttled_count(), 1);
    }
}
