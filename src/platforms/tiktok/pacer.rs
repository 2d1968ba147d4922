//! Client-side pacing: TikTok allows 50 requests per second per API per (app, shop) and sends
//! no `Retry-After`, so the client spaces its own calls instead of discovering the limit by 429s.
//!
//! One [`Pacer`] belongs to one shop's client and is shared by every task using that client.
//! Each API (path template) has a "next free slot": a caller takes the slot and moves it on by
//! one interval, then sleeps until its slot. Calls of one API are thus at least `interval`
//! apart, so no one-second window holds more than `ceil(1s / interval)` of them (48 at the
//! default 47.5/s, leaving room for scheduling and network jitter under TikTok's 50). Slots are
//! handed out under a lock but awaited outside it, so waiting tasks never block each other.
//! A 429 that still happens pushes that API's next slot back by a jittered pause.

use std::collections::HashMap;
use std::sync::Mutex;
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

#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next_slot: Mutex<HashMap<&'static str, Instant>>,
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
            next_slot: Mutex::new(HashMap::new()),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's slot of `api`. A caller dropped while waiting gives up its slot
    /// (the next caller does not move up): pacing errs on the slow side, never the fast one.
    pub async fn wait(&self, api: &'static str) {
        let slot = self.take_slot(api, Instant::now());
        tokio::time::sleep_until(slot).await;
    }

    /// TikTok answered 429 anyway: hold further calls of `api` back for a jittered pause.
    /// Returns the pause.
    pub fn back_off(&self, api: &'static str) -> Duration {
        let jitter = rand::rng().random_range(Duration::ZERO..=BACKOFF_JITTER);
        let pause = BACKOFF + jitter;
        let resume = Instant::now() + pause;
        let mut slots = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        let next = slots.entry(api).or_insert(resume);
        *next = (*next).max(resume);
        pause
    }

    fn take_slot(&self, api: &'static str, now: Instant) -> Instant {
        let mut slots = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        let next = slots.entry(api).or_insert(now);
        // An idle API does not bank unused slots: a burst after a quiet spell is still spaced.
        let slot = (*next).max(now);
        *next = slot + self.interval;
        slot
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

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
            // Tokio's timer wakes on whole milliseconds, so gaps may look up to 1 ms short.
            let tick = Duration::from_millis(1);
            for pair in times.windows(2) {
                assert!(
                    pair[1] - pair[0] + tick >= pacer.interval(),
                    "{api}: {pair:?}"
                );
            }
            // No window of one second holds more than the limit allows.
            for (i, t) in times.iter().enumerate() {
                let in_window = times[i..]
                    .iter()
                    .take_while(|u| **u - *t < Duration::from_secs(1))
                    .count();
                assert!(in_window <= 48, "{api}: {in_window} calls within a second");
            }
            // Independent APIs do not slow each other: each finishes in ~100 intervals.
            let last = *times.last().unwrap();
            assert!(last < pacer.interval() * 101, "{api}: {last:?}");
        }
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
