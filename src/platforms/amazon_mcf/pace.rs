//! Pacing of Selling Partner API calls: Amazon meters each operation with its own token bucket
//! (per seller and app: rate 2/s, burst 30 by default). Every call takes a token from its
//! operation's bucket first and waits when there is none, so a busy link slows down instead of
//! collecting 429s. A 429 empties that bucket: the next call of the operation waits at least one
//! refill interval (1/rate), as amazon-mcf.md asks ("never retry a 429 sooner than the rate
//! allows"). A rate Amazon announces (`x-amzn-RateLimit-Limit`) replaces the configured one.
//!
//! The client's bucket keeps one token of the burst in reserve. Amazon's bucket starts when
//! the first call arrives, a network delay after the client's: at full pace, a later call
//! that travels faster than the first would reach an empty bucket (a 429). The reserve lets
//! arrivals drift by up to one refill interval (500 ms at 2/s) for one call of the burst.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One operation's bucket, with time passed in so it can be tested without sleeping.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    /// Tokens at `at`; negative when calls are already queued behind the empty bucket.
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Amazon's `rate` and `burst`, less the reserve token (a burst of 1 keeps its token).
    pub fn new(rate: f64, burst: u32, now: Instant) -> Bucket {
        let usable = f64::from(burst.saturating_sub(1).max(1));
        Bucket {
            rate,
            burst: usable,
            tokens: usable,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = self.at.max(now);
    }

    /// Reserves one token; answers how long to wait before sending.
    pub fn take(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }

    /// Amazon said the bucket is empty (429): nothing more until a token refills.
    pub fn exhausted(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = self.tokens.min(0.0);
    }

    /// How long until one token is there again (the least a 429 is waited out).
    pub fn refill_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate)
    }

    /// The rate Amazon announced for this seller and operation.
    pub fn set_rate(&mut self, rate: f64, now: Instant) {
        if rate.is_finite() && rate > 0.0 && (rate - self.rate).abs() > f64::EPSILON {
            self.refill(now);
            self.rate = rate;
        }
    }
}

/// The buckets of one store, one per operation.
#[derive(Debug)]
pub struct Pacer {
    rate: f64,
    burst: u32,
    buckets: Mutex<HashMap<&'static str, Bucket>>,
}

impl Pacer {
    pub fn new(rate: f64, burst: u32) -> Pacer {
        Pacer {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, operation: &'static str, f: impl FnOnce(&mut Bucket, Instant) -> T) -> T {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry(operation)
            .or_insert_with(|| Bucket::new(self.rate, self.burst, now));
        f(bucket, now)
    }

    /// Waits for a token of `operation`.
    pub async fn ready(&self, operation: &'static str) {
        let wait = self.with(operation, Bucket::take);
        if !wait.is_zero() {
            tracing::debug!(
                operation,
                wait_ms = wait.as_millis() as u64,
                "pacing Amazon calls"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// A 429 for `operation`: empties its bucket and answers the least wait before a retry.
    pub fn throttled(&self, operation: &'static str) -> Duration {
        self.with(operation, |bucket, now| {
            bucket.exhausted(now);
            bucket.refill_interval()
        })
    }

    /// `x-amzn-RateLimit-Limit` of a successful answer.
    pub fn announced(&self, operation: &'static str, header: Option<&str>) {
        if let Some(rate) = header.and_then(|h| h.trim().parse::<f64>().ok()) {
            self.with(operation, |bucket, now| bucket.set_rate(rate, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_then_calls_are_spaced_by_the_rate() {
        let start = Instant::now();
        // Amazon's burst of 4, one kept in reserve against network jitter.
        let mut bucket = Bucket::new(2.0, 4, start);
        for _ in 0..3 {
            assert_eq!(bucket.take(start), Duration::ZERO);
        }
        // The 4th and 5th queue behind the empty bucket: 0.5 s, then 1 s.
        assert_eq!(bucket.take(start), Duration::from_millis(500));
        assert_eq!(bucket.take(start), Duration::from_millis(1000));
        // Two seconds later four tokens refilled, two of them already promised.
        let later = start + Duration::from_secs(2);
        assert_eq!(bucket.take(later), Duration::ZERO);
        assert_eq!(bucket.take(later), Duration::ZERO);
        assert_eq!(bucket.take(later), Duration::from_millis(500));
    }

    #[test]
    fn a_429_empties_the_bucket_and_the_next_call_waits_a_refill() {
        let start = Instant::now();
        let mut bucket = Bucket::new(2.0, 30, start);
        bucket.exhausted(start);
        assert_eq!(bucket.refill_interval(), Duration::from_millis(500));
        assert_eq!(bucket.take(start), Duration::from_millis(500));
    }

    #[test]
    fn an_announced_rate_replaces_the_default() {
        let start = Instant::now();
        let mut bucket = Bucket::new(2.0, 1, start);
        bucket.set_rate(10.0, start);
        assert_eq!(bucket.take(start), Duration::ZERO);
        assert_eq!(bucket.take(start), Duration::from_millis(100));
        bucket.set_rate(f64::NAN, start);
        assert_eq!(bucket.refill_interval(), Duration::from_millis(100));
    }
}
