//! Client-side pacing: TikTok allows 50 requests per second per API per (app, shop) and sends
//! no `Retry-After`, so the client spaces its own calls instead of discovering the limit by 429s.
//!
//! One [`Pacer`] belongs to one shop's client and is shared by every task using that client.
//! Each API (path template) has a lane remembering its departures of the last second (plus a
//! margin for network jitter). A caller departs when the lane holds fewer than `per_window`
//! of them and at least `min_gap` has passed since the last one: so no one-second window ever
//! holds more than 47 calls (at the default 47.5/s, under TikTok's 50), and a caller that woke
//! late (a busy machine) does not cost throughput — the next ones catch up, within the window.
//! Only the wait is serialized; the HTTP calls themselves overlap freely. A 429 that still
//! happens holds the lane back for a jittered pause.

use std::collections::{HashMap, VecDeque};
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
/// The window TikTok counts in, plus room for calls that travel at different speeds (two calls
/// sent 1.02 s apart could arrive less than a second apart).
const WINDOW: Duration = Duration::from_millis(1020);

#[derive(Debug)]
pub struct Pacer {
    /// The nominal spacing (1 / rate).
    interval: Duration,
    /// Calls allowed per window.
    per_window: usize,
    /// Smallest spacing between two departures: smooths bursts to half the nominal spacing.
    min_gap: Duration,
    lanes: Mutex<HashMap<&'static str, Arc<Lane>>>,
}

#[derive(Debug, Default)]
struct Lane {
    /// Departures within the last `WINDOW`, oldest first; held by the caller whose turn it is.
    recent: tokio::sync::Mutex<VecDeque<Instant>>,
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
        let interval = Duration::from_secs_f64(1.0 / rate);
        Pacer {
            interval,
            per_window: (rate.floor() as usize).max(1),
            min_gap: interval / 2,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's turn on `api`. A caller dropped while waiting leaves the queue
    /// without departing.
    pub async fn wait(&self, api: &'static str) {
        let lane = self.lane(api);
        let mut recent = lane.recent.lock().await;
        loop {
            let now = Instant::now();
            while recent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= WINDOW)
            {
                recent.pop_front();
            }
            let resume = *lane.resume_at.lock().unwrap_or_else(|e| e.into_inner());
            let window_full = (recent.len() >= self.per_window)
                .then(|| recent.front().map(|t| *t + WINDOW))
                .flatten();
            let spaced = recent.back().map(|t| *t + self.min_gap);
            match [resume, window_full, spaced].into_iter().flatten().max() {
                Some(not_before) if not_before > now => {
                    crate::platforms::metrics::rate_limit_wait(
                        crate::domain::platform::Platform::TiktokShop,
                        not_before - now,
                    );
                    tokio::time::sleep_until(not_before).await;
                }
                _ => break,
            }
        }
        recent.push_back(Instant::now());
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
    async fn a_burst_from_many_tasks_never_fills_a_second_per_api() {
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
            for pair in times.windows(2) {
                assert!(pair[1] - pair[0] >= pacer.min_gap, "{api}: {pair:?}");
            }
            for (i, t) in times.iter().enumerate() {
                let in_window = times[i..].iter().take_while(|u| **u - *t < WINDOW).count();
                assert!(in_window <= 47, "{api}: {in_window} calls within a window");
            }
            // Independent APIs do not slow each other: 100 calls need two full windows plus the
            // spacing of the last few, not more.
            let last = *times.last().unwrap();
            assert!(last <= WINDOW * 2 + pacer.min_gap * 8, "{api}: {last:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_caller_costs_no_throughput_but_never_clumps() {
        let pacer = Pacer::default();
        pacer.wait("detail").await;
        // The machine stalls for 100 ms before the next callers run: they catch up, each at
        // least the minimum gap after the one before.
        tokio::time::advance(Duration::from_millis(100)).await;
        let woke = Instant::now();
        pacer.wait("detail").await;
        let second = Instant::now();
        pacer.wait("detail").await;
        assert_eq!(second, woke, "the late caller leaves at once");
        // Tokio's timer fires on whole milliseconds.
        let gap = Instant::now() - second;
        assert!(
            gap >= pacer.min_gap && gap < pacer.min_gap + Duration::from_millis(1),
            "{gap:?}"
        );
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
        let pacer = Pacer::default();
        let per_second = 1.0 / pacer.interval().as_secs_f64();
        assert!((47.0..48.0).contains(&per_second), "{per_second}");
        assert_eq!(pacer.per_window, 47);
    }
}
