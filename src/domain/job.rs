//! Jobs: the engine's outbox. A state change and the job it causes are written together; the
//! runner picks due jobs, calls the platform after the commit, and records the result.
//! Retry timing (exponential backoff with full jitter) is a pure function here.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cancellation::{CancellationKey, SellerResponse};
use super::clock::Timestamp;
use super::ids::{CancelId, JobId, LinkId, RequestId, TiktokOrderId};
use super::order::{Flow, FlowError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// Create the store order (after checking none exists).
    Import,
    /// Send the store's tracking number to TikTok.
    PushTracking,
    /// Cancel the store order because TikTok cancelled.
    CancelInStore { cancellation: CancellationKey },
    /// Cancel the TikTok order because the store cancelled.
    CancelOnTiktok { cancellation: CancellationKey },
    /// Answer a buyer's cancel request on TikTok.
    RespondBuyerCancel {
        cancel_id: CancelId,
        response: SellerResponse,
    },
    /// Download the TikTok shipping label.
    FetchLabel,
    /// Give the store order TikTok's new shipping details (the buyer changed them).
    UpdateAddress,
}

impl JobKind {
    pub fn flow(&self) -> Flow {
        match self {
            JobKind::Import => Flow::Import,
            JobKind::PushTracking => Flow::Tracking,
            JobKind::CancelInStore { .. }
            | JobKind::CancelOnTiktok { .. }
            | JobKind::RespondBuyerCancel { .. } => Flow::Cancellation,
            JobKind::FetchLabel => Flow::Label,
            JobKind::UpdateAddress => Flow::Address,
        }
    }

    /// A stable snake_case name for metrics labels.
    pub fn metric_name(&self) -> &'static str {
        match self {
            JobKind::Import => "import",
            JobKind::PushTracking => "push_tracking",
            JobKind::CancelInStore { .. } => "cancel_in_store",
            JobKind::CancelOnTiktok { .. } => "cancel_on_tiktok",
            JobKind::RespondBuyerCancel { .. } => "respond_buyer_cancel",
            JobKind::FetchLabel => "fetch_label",
            JobKind::UpdateAddress => "update_address",
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            JobKind::Import => "create store order",
            JobKind::PushTracking => "push tracking to TikTok",
            JobKind::CancelInStore { .. } => "cancel store order",
            JobKind::CancelOnTiktok { .. } => "cancel TikTok order",
            JobKind::RespondBuyerCancel {
                response: SellerResponse::Approve,
                ..
            } => "approve buyer cancel request",
            JobKind::RespondBuyerCancel { .. } => "reject buyer cancel request",
            JobKind::FetchLabel => "fetch shipping label",
            JobKind::UpdateAddress => "update store shipping details",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_after`.
    Ready,
    /// Claimed by a runner; released back to `Ready` if the process dies.
    Running {
        since: Timestamp,
    },
    Done {
        at: Timestamp,
    },
    /// Failed permanently; a person must act (retry from the console once fixed).
    Stuck {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub order: TiktokOrderId,
    pub link: LinkId,
    pub kind: JobKind,
    pub state: JobState,
    pub attempts: u32,
    pub run_after: Timestamp,
    pub created_at: Timestamp,
    pub last_error: Option<FlowError>,
    /// The last attempt may have written remotely (timeout, reset, 5xx on a write): read the
    /// remote state back before trying again.
    pub maybe_applied: bool,
    /// The resync request that caused this job, if any.
    pub request: Option<RequestId>,
    /// When the last attempt that went back to `Ready` began: its claim, committed before any
    /// platform call, so it survives a crash. A store that finds orders only by listing them
    /// (WooCommerce) reads back from shortly before it instead of its whole look-back window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<Timestamp>,
}

impl Job {
    pub fn new(
        id: JobId,
        order: TiktokOrderId,
        link: LinkId,
        kind: JobKind,
        now: Timestamp,
    ) -> Job {
        Job {
            id,
            order,
            link,
            kind,
            state: JobState::Ready,
            attempts: 0,
            run_after: now,
            created_at: now,
            last_error: None,
            maybe_applied: false,
            request: None,
            last_attempt_at: None,
        }
    }

    /// Back to `Ready` after an attempt (a retry, or a process that died mid-run), keeping
    /// when the attempt began.
    pub fn requeue(&mut self) {
        if let JobState::Running { since } = self.state {
            self.last_attempt_at = Some(since);
        }
        self.state = JobState::Ready;
    }

    pub fn is_live(&self) -> bool {
        matches!(self.state, JobState::Ready | JobState::Running { .. })
    }
}

/// Backoff policy for transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// After this many attempts a transient failure is parked as stuck.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(15 * 60),
            max_attempts: 12,
        }
    }
}

impl Backoff {
    /// Delay before attempt `attempt + 1` ("full jitter": uniform in `[0, min(cap, base·2^attempt)]`,
    /// `jitter` being that uniform draw in `[0, 1)`), never less than what the platform asked for.
    pub fn delay(&self, attempt: u32, jitter: f64, platform_asked: Option<Duration>) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.min(30)))
            .min(self.cap);
        let jittered = ceiling.mul_f64(jitter.clamp(0.0, 1.0));
        jittered.max(platform_asked.unwrap_or_default())
    }

    pub fn exhausted(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_the_platform() {
        let b = Backoff::default();
        // (attempt, jitter, platform asked, expected)
        let table = [
            (0, 1.0, None, Duration::from_secs(2)),
            (3, 1.0, None, Duration::from_secs(16)),
            (3, 0.5, None, Duration::from_secs(8)),
            (3, 0.0, None, Duration::ZERO),
            (40, 1.0, None, Duration::from_secs(900)),
            (
                0,
                0.1,
                Some(Duration::from_secs(30)),
                Duration::from_secs(30),
            ),
            (
                10,
                1.0,
                Some(Duration::from_secs(30)),
                Duration::from_secs(900),
            ),
        ];
        for (attempt, jitter, asked, expected) in table {
            assert_eq!(
                b.delay(attempt, jitter, asked),
                expected,
                "attempt {attempt} jitter {jitter}"
            );
        }
        assert!(!b.exhausted(11) && b.exhausted(12));
    }
}
