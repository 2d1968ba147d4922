//! Client-side pacing: TikTok allows 50 requests per second per API per (app, shop) and sends
//! no `Retry-After`, so the client spaces its own calls instead of discovering the limit by 429s.
//!
//! One [`Pacer`] belongs to one shop's client and is shared by every task using that client.
//! Each API (path template) has a lane: callers queue on it in FIFO order, and each one's slot
//! is one `interval` after the previous caller's slot. A caller that wakes more than a few
//! milliseconds late (a stalled machine) departs when it wakes and the next slot counts from then,
//! so late callers never catch up in a clump: no one-second window holds more than
//! `ceil(1s / interval)` departures (48 at the default 47.5/s, leaving room for network jitter
//! under TikTok's 50). Only the wait is serialized; the HTTP calls themselves overlap freely.
//! A 429 that still happens holds the lane back for a jittered pause.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// TikTok's documented limit per API per (app, shop).
pub const TIKTOK_LIMIT_PER_SECOND: f64 = 50.0;
/// The share of the limit the pacer aims at.
pub const TARGET_SHARE: f64 = 0.95;
/// Pause after a 429 before the next call of that API, plus up to [`BACKOFF_JITTER`].
const BACKOFF: Duration = Duration::from_secs(1);
const BACKOFF_JITTER: Duration = Duration::from_millis(250);
/// How late a wake may be and still keep the schedule. Tokio's timer fires on whole
/// milliseconds and a loaded runtime adds a little; departures trail their slots by at most this,
/// so a one-second window holds at most `floor((1s + 5ms) / interval) + 1` = 48 of them.
const ON_TIME: Duration = Duration::from_millis(5);

#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    lanes: Mutex<HashMap<&'static str, Arc<Lane>>>,
}

#[derive(Debug, Default)]
struct Lane {
    /// When the last caller left; held by the caller whose turn it is.
    last_departure: tokio::sync::Mutex<Option<Instant>>,
    /// No departure before this (set after a 429).
    resume_at: Mutex<Option<Instant>>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::per_second(TIKTOK_LIMIT_PER_SECOND * TARGET_SHARE)
    }
}

impl Pacer {
    /// A pacer allowing `rate` calls per second per API (clamped to a sane range).
    pub fn per_second(rate: f64) -> Self {
        let rate = if rate.is_finite() {
            rate.clamp(0.1, 10_000.0)
        } else {
            1.0
        };
        Pacer {
            interval: Duration::from_secs_f64(1.0 / rate),
            lanes: Mutex::new(HashMap::new()),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's turn on `api`. A caller dropped while waiting leaves the queue
    /// without departing, so the spacing still counts from the last real departure.
    pub async fn wait(&self, api: &'static str) {
        let lane = self.lane(api);
        let mut last_departure = lane.last_departure.lock().await;
        let spaced = last_departure.map(|left| left + self.interval);
        let resume = *lane.resume_at.lock().unwrap_or_else(|e| e.into_inner());
        let target = spaced.max(resume);
        if let Some(not_before) = target {
            tokio::time::sleep_until(not_before).await;
        }
        let now = Instant::now();
        // A wake within `ON_TIME` of the target keeps the schedule (else timer rounding would
        // slow every call); a later one (a stalled machine) restarts the spacing from now, so
        // nobody catches up in a clump.
        *last_departure = Some(match target {
            Some(target) if now.duration_since(target) <= ON_TIME => target,
            _ => now,
        });
    }

    /// TikTok answered 429 anyway: hold further calls of `api` back for a jittered pause.
    /// Returns the pause.
    pub fn back_off(&self, api: &'static str) -> Duration {
        let jitter = rand::rng().random_range(Duration::ZERO..=BACKOFF_JITTER);
        let pause = BACKOFF + jitter;
        let until = Instant::now() + pause;
        let lane = self.lane(api);
        let mut resume = lane.resume_at.lock().unwrap_or_else(|e| e.into_inner());
        *resume = (*resume).max(Some(until));
        pause
    }

    fn lane(&self, api: &'static str) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        lanes.entry(api).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_from_many_tasks_is_spaced_per_api() {
        let pacer = Arc::new(Pacer::default());
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let pacer = pacer.clone();
            let api = if i % 2 == 0 { "detail" } else { "search" };
            tasks.push(tokio::spawn(async move {
                pacer.wait(api).await;
                (api, Instant::now() - start)
            }));
        }
        let mut by_api: HashMap<&str, Vec<Duration>> = HashMap::new();
        for task in tasks {
            let (api, at) = task.await.unwrap();
            by_api.entry(api).or_default().push(at);
        }
        for (api, mut times) in by_api {
            times.sort();
            assert_eq!(times.len(), 100);
            // A departure may trail its slot by up to `ON_TIME`.
            for pair in times.windows(2) {
                assert!(
                    pair[1] - pair[0] + ON_TIME >= pacer.interval(),
                    "{api}: {pair:?}"
                );
            }
            for (i, t) in times.iter().enumerate() {
                let in_window = times[i..]
                    .iter()
                    .take_while(|u| **u - *t < Duration::from_secs(1))
                    .count();
                assert!(in_window <= 48, "{api}: {in_window} calls within a second");
            }
            // Independent APIs do not slow each other, and rounding does not pile up: each lane
            // needs 99 intervals, give or take the timer's rounding.
            let last = *times.last().unwrap();
            assert!(last <= pacer.interval() * 99 + ON_TIME, "{api}: {last:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_caller_does_not_let_the_next_one_catch_up() {
        let pacer = Pacer::default();
        pacer.wait("detail").await;
        let first = Instant::now();
        // The machine stalls for 100 ms before the next caller runs.
        tokio::time::advance(Duration::from_millis(100)).await;
        pacer.wait("detail").await;
        pacer.wait("detail").await;
        assert!(Instant::now() - first >= Duration::from_millis(100) + pacer.interval());
    }

    #[tokio::test(start_paused = true)]
    async fn back_off_delays_the_next_call_of_that_api_only() {
        let pacer = Pacer::default();
        let start = Instant::now();
        let pause = pacer.back_off("detail");
        assert!(pause >= BACKOFF && pause <= BACKOFF + BACKOFF_JITTER);
        pacer.wait("search").await;
        assert!(Instant::now() - start < Duration::from_millis(1));
        pacer.wait("detail").await;
        assert!(Instant::now() - start >= pause);
    }

    #[test]
    fn default_rate_is_under_the_limit() {
        let per_second = 1.0 / Pacer::default().interval().as_secs_f64();
        assert!((47.0..48.0).contains(&per_second), "{per_second}");
    }
}
