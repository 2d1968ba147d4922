//! What a stuck flow waits on, as data: the reason text is for people, the cause is for the
//! engine, which re-checks each cause (not each order) and retries every flow waiting on it once
//! it is gone. A cause is never parsed back out of a reason; the rule or the executor that makes
//! the reason names the cause beside it ([`Blocked`]).
//!
//! Two kinds: causes the world can remove without touching the order (a SKU added in the store,
//! a carrier mapped, credentials renewed, a platform back up), and [`StuckCause::Person`]: the
//! order itself must change or be handled by hand (a validation error, an address the store
//! rejects, an ambiguous SKU). Those never retry by themselves.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::clock::Timestamp;
use super::ids::{ShopId, StorefrontId};
use super::job::Backoff;
use super::platform::Platform;
use super::text::{sanitize, thousands};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum StuckCause {
    /// A seller SKU has no variant in the store: gone once the store has one.
    MissingSku { store: StorefrontId, sku: String },
    /// The store's carrier name maps to none of TikTok's shipping providers on this link: gone
    /// when the link's `carrier_map` changes for it.
    UnmappedCarrier { carrier: String },
    /// The store refused its credentials: gone when a poll of the store succeeds.
    StoreCredentials { store: StorefrontId },
    /// TikTok refused the shop's credentials: gone when a poll of the shop succeeds.
    ShopCredentials { shop: ShopId },
    /// Retries ran out on transient errors of a platform: gone when a poll of it succeeds.
    Outage { platform: Platform },
    /// Nothing a machine can fix: a person acts on the order (and retries it).
    Person,
}

impl StuckCause {
    /// Whether the engine retries the flows waiting on this cause by itself once it is gone.
    pub fn resumes_by_itself(&self) -> bool {
        *self != StuckCause::Person
    }

    /// The cause in a few words, for lists ("SKU-LATE missing in store us-shopify").
    pub fn describe(&self) -> String {
        match self {
            StuckCause::MissingSku { store, sku } => {
                format!("SKU {} missing in store {store}", sanitize(sku))
            }
            StuckCause::UnmappedCarrier { carrier } => {
                format!("carrier '{}' not mapped (carrier_map)", sanitize(carrier))
            }
            StuckCause::StoreCredentials { store } => {
                format!("store {store} refuses its credentials")
            }
            StuckCause::ShopCredentials { shop } => format!("shop {shop} refuses its credentials"),
            StuckCause::Outage { platform } => format!("{platform} kept failing"),
            StuckCause::Person => "needs a person".into(),
        }
    }

    /// The diagnosis line: which kind of cause, and what ends it.
    pub fn diagnosis(&self) -> String {
        let ends = match self {
            StuckCause::Person => {
                return "a person must fix this; orderdeck does not retry it by itself".into();
            }
            StuckCause::MissingSku { store, sku } => {
                format!("SKU {} exists in store {store}", sanitize(sku))
            }
            StuckCause::UnmappedCarrier { carrier } => format!(
                "carrier_map in settings maps '{}' to a TikTok provider",
                sanitize(carrier)
            ),
            StuckCause::StoreCredentials { store } => {
                format!("store {store} accepts its credentials again")
            }
            StuckCause::ShopCredentials { shop } => {
                format!("shop {shop} accepts its credentials again")
            }
            StuckCause::Outage { platform } => format!("a poll of {platform} succeeds"),
        };
        format!(
            "waits on {}; orderdeck retries by itself once {ends}",
            self.describe()
        )
    }

    /// The timeline's line when the cause went away ("SKU-LATE now exists in store us-shopify").
    pub fn gone(&self) -> String {
        match self {
            StuckCause::MissingSku { store, sku } => {
                format!("{} now exists in store {store}", sanitize(sku))
            }
            StuckCause::UnmappedCarrier { carrier } => {
                format!("carrier_map now maps '{}'", sanitize(carrier))
            }
            StuckCause::StoreCredentials { store } => {
                format!("store {store} accepts its credentials again")
            }
            StuckCause::ShopCredentials { shop } => {
                format!("shop {shop} accepts its credentials again")
            }
            StuckCause::Outage { platform } => format!("{platform} answers again"),
            StuckCause::Person => "a person retried it".into(),
        }
    }
}

/// Why a flow cannot go on: the reason a person reads, and what it waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub reason: String,
    pub cause: StuckCause,
}

impl Blocked {
    pub fn on(cause: StuckCause, reason: impl Into<String>) -> Self {
        Blocked {
            reason: reason.into(),
            cause,
        }
    }

    /// A cause only a person can remove.
    pub fn person(reason: impl Into<String>) -> Self {
        Blocked::on(StuckCause::Person, reason)
    }
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// When a cause that news does not end (a missing SKU) is next looked at: `retry_initial`
/// after it was first seen, then doubling up to `retry_max`. No jitter: one check serves every
/// flow waiting on the cause, so there is no crowd of retries to spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CauseCheck {
    /// Checks made that found the cause still there.
    pub checks: u32,
    pub due: Timestamp,
}

impl CauseCheck {
    pub fn first(now: Timestamp, backoff: &Backoff) -> Self {
        CauseCheck {
            checks: 0,
            due: now + delay(0, backoff),
        }
    }

    pub fn is_due(&self, now: Timestamp) -> bool {
        self.due <= now
    }

    /// The cause was still there at `now`.
    pub fn still_there(self, now: Timestamp, backoff: &Backoff) -> Self {
        let checks = self.checks.saturating_add(1);
        CauseCheck {
            checks,
            due: now + delay(checks, backoff),
        }
    }
}

/// The Stores view's lines for one link: per kind of cause, how many orders wait and on what,
/// largest first ("12 orders wait on 3 SKUs: SKU-LATE (9), SKU-B (2), SKU-C (1)"). `waiting`
/// holds each cause with its count of orders.
pub fn summarize(waiting: &[(StuckCause, usize)]) -> Vec<String> {
    let mut sorted = waiting.to_vec();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let named = |what: &str, pick: fn(&StuckCause) -> Option<String>| {
        let of_kind: Vec<(String, usize)> = sorted
            .iter()
            .filter_map(|(c, n)| pick(c).map(|name| (name, *n)))
            .collect();
        let total: usize = of_kind.iter().map(|(_, n)| n).sum();
        let mut names: Vec<String> = of_kind
            .iter()
            .take(3)
            .map(|(name, n)| format!("{name} ({})", thousands(*n)))
            .collect();
        if of_kind.len() > 3 {
            names.push("…".into());
        }
        (total > 0).then(|| {
            format!(
                "{} on {} {what}{}: {}",
                orders(total, "waits", "wait"),
                of_kind.len(),
                if of_kind.len() == 1 { "" } else { "s" },
                names.join(", ")
            )
        })
    };
    let mut lines = Vec::new();
    lines.extend(named("SKU", |c| match c {
        StuckCause::MissingSku { sku, .. } => Some(sanitize(sku)),
        _ => None,
    }));
    lines.extend(named("carrier", |c| match c {
        StuckCause::UnmappedCarrier { carrier } => Some(format!("'{}'", sanitize(carrier))),
        _ => None,
    }));
    for (cause, n) in &sorted {
        match cause {
            StuckCause::MissingSku { .. } | StuckCause::UnmappedCarrier { .. } => {}
            StuckCause::Person => lines.push(format!("{} a person", orders(*n, "needs", "need"))),
            other => lines.push(format!(
                "{}: {}",
                orders(*n, "waits", "wait"),
                other.describe()
            )),
        }
    }
    lines
}

/// "1 order waits", "2,858 orders wait".
fn orders(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 order {one}")
    } else {
        format!("{} orders {many}", thousands(n))
    }
}

fn delay(checks: u32, backoff: &Backoff) -> chrono::Duration {
    let factor = 1u32.checked_shl(checks.min(31)).unwrap_or(u32::MAX);
    let wait = backoff
        .base
        .checked_mul(factor)
        .unwrap_or(Duration::MAX)
        .min(backoff.cap);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;

    fn store() -> StorefrontId {
        StorefrontId::new("us-shopify").unwrap()
    }

    #[test]
    fn only_person_causes_stay_stuck() {
        let table = [
            (
                StuckCause::MissingSku {
                    store: store(),
                    sku: "SKU-LATE".into(),
                },
                true,
                "SKU-LATE now exists in store us-shopify",
            ),
            (
                StuckCause::UnmappedCarrier {
                    carrier: "Evri".into(),
                },
                true,
                "carrier_map now maps 'Evri'",
            ),
            (
                StuckCause::StoreCredentials { store: store() },
                true,
                "store us-shopify accepts its credentials again",
            ),
            (
                StuckCause::Outage {
                    platform: Platform::Shopify,
                },
                true,
                "Shopify answers again",
            ),
            (StuckCause::Person, false, "a person retried it"),
        ];
        for (cause, automatic, gone) in table {
            assert_eq!(cause.resumes_by_itself(), automatic, "{cause:?}");
            assert_eq!(cause.gone(), gone);
            let diagnosis = cause.diagnosis();
            assert_eq!(
                diagnosis.contains("retries by itself"),
                automatic,
                "{diagnosis}"
            );
        }
    }

    #[test]
    fn untrusted_names_are_sanitized() {
        let cause = StuckCause::MissingSku {
            store: store(),
            sku: "A\u{1b}[2J".into(),
        };
        for text in [cause.describe(), cause.diagnosis(), cause.gone()] {
            assert!(!text.contains('\u{1b}'), "{text:?}");
        }
    }

    #[test]
    fn checks_back_off_from_initial_to_max_without_jitter() {
        let backoff = Backoff {
            base: Duration::from_secs(600),
            cap: Duration::from_secs(2400),
            max_attempts: 12,
        };
        let t0 = from_unix(1_000_000);
        let mut check = CauseCheck::first(t0, &backoff);
        let mut waits = vec![(check.due - t0).num_seconds()];
        for _ in 0..5 {
            let at = check.due;
            assert!(check.is_due(at) && !check.is_due(at - chrono::Duration::seconds(1)));
            check = check.still_there(at, &backoff);
            waits.push((check.due - at).num_seconds());
        }
        assert_eq!(waits, [600, 1200, 2400, 2400, 2400, 2400]);
    }

    #[test]
    fn the_stores_view_counts_orders_per_cause_largest_first() {
        let sku = |s: &str| StuckCause::MissingSku {
            store: store(),
            sku: s.into(),
        };
        let waiting = [
            (sku("SKU-B"), 2),
            (StuckCause::Person, 1),
            (sku("SKU-LATE"), 9),
            (
                StuckCause::UnmappedCarrier {
                    carrier: "Evri".into(),
                },
                3,
            ),
            (sku("SKU-C"), 1),
            (sku("SKU-D"), 1),
            (StuckCause::StoreCredentials { store: store() }, 4),
        ];
        assert_eq!(
            summarize(&waiting),
            [
                "13 orders wait on 4 SKUs: SKU-LATE (9), SKU-B (2), SKU-C (1), …",
                "3 orders wait on 1 carrier: 'Evri' (3)",
                "4 orders wait: store us-shopify refuses its credentials",
                "1 order needs a person",
            ]
        );
        assert!(summarize(&[]).is_empty());
        // A year of orders: counts read in thousands.
        assert_eq!(
            summarize(&[(StuckCause::Person, 2_858), (sku("JMP-7"), 1_204)]),
            [
                "1,204 orders wait on 1 SKU: JMP-7 (1,204)",
                "2,858 orders need a person"
            ]
        );
    }

    #[test]
    fn a_cause_reads_back_as_written() {
        let cause = StuckCause::ShopCredentials {
            shop: ShopId::new("gb-shop").unwrap(),
        };
        let json = serde_json::to_string(&cause).unwrap();
        assert_eq!(json, r#"{"cause":"shop_credentials","shop":"gb-shop"}"#);
        assert_eq!(serde_json::from_str::<StuckCause>(&json).unwrap(), cause);
    }
}
