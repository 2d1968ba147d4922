//! The sizes a request may have, checked before anything is read or written for it: texts a
//! person types (reasons, comments, filters), how many orders one request names, and settings
//! changes. An oversized request is answered with an error naming the field and its limit; when
//! it is a mutation it is also audited as refused, without its oversized text, through the
//! per-peer refusal counting (`refusals`), so no request can make the audit log grow by more
//! than a few hundred bytes.
//!
//! [`Limits`] also holds the service's per-peer state that bounds what clients cost: refusal
//! counts and the reads in flight (`reads`).

use crate::domain::audit::{Actor, AuditEntry, AuditOutcome};
use crate::domain::text::{sanitize, truncate};

use super::api::{Request, ServiceError};
use super::core::Service;
use super::reads::ReadGate;
use super::refusals::RefusalLog;

/// Longest reason (resync, decision, rejection, retry, settings change), in characters, and
/// most orders one request may name: the engine's own limits, checked here before anything.
pub use crate::engine::command::{MAX_REASON, MAX_TARGETS};
/// Longest comment to a buyer with a rejected cancel request, in characters.
pub const MAX_COMMENT: usize = 500;
/// Longest live filter, in bytes.
pub const MAX_FILTER_BYTES: usize = 512;
/// Most terms in a live filter (each term is checked against every order the view holds).
pub const MAX_FILTER_TERMS: usize = 16;
/// Longest order id or store order number asked for (`FindOrder`), in characters: the longest
/// identifier.
pub const MAX_ORDER_NAME: usize = 128;
/// Most keys one settings change may set.
pub const MAX_SETTING_CHANGES: usize = 64;
/// Longest setting key or value, in characters.
pub const MAX_SETTING_TEXT: usize = 512;
/// Targets an audited oversized request keeps (the rest are counted).
const AUDITED_TARGETS: usize = 20;

/// The service's state that bounds what clients cost.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    pub(crate) refusals: RefusalLog,
    pub(crate) reads: ReadGate,
}

impl Service {
    /// Refuses a request that is too large (see the module docs); called before anything else.
    pub(crate) async fn admit(
        &self,
        caller: &Actor,
        request: &Request,
    ) -> Result<(), ServiceError> {
        let Some(why) = oversize(request) else {
            return Ok(());
        };
        if let Some(action) = action(request) {
            let entry = AuditEntry::new(
                self.engine.now(),
                caller.clone(),
                action,
                audited_targets(request),
                AuditOutcome::Refused { why: why.clone() },
            );
            self.audit_refusal(entry).await;
        }
        Err(ServiceError::invalid(why))
    }
}

/// The first size of `request` over its limit, said so a person can fix it.
pub fn oversize(request: &Request) -> Option<String> {
    match request {
        Request::Orders(q) | Request::OrderCount(q) => filter(q.filter.as_deref()),
        Request::Cancellations(q) => filter(q.filter.as_deref()),
        Request::FindOrder { text: typed } => text("order name", Some(typed), MAX_ORDER_NAME),
        Request::Audit(q) | Request::Activity(q) => filter(q.filter.as_deref()),
        Request::Resync { orders, reason, .. } => {
            targets(orders.len()).or_else(|| text("reason", Some(reason), MAX_REASON))
        }
        Request::RetryStuck { orders, reason } => {
            targets(orders.len()).or_else(|| text("reason", reason.as_deref(), MAX_REASON))
        }
        Request::RetryCause { reason, .. } => text("reason", reason.as_deref(), MAX_REASON),
        Request::Decide { reason, .. } => text("reason", reason.as_deref(), MAX_REASON),
        Request::MarkParcelHandled { note, .. } => text("note", Some(note), MAX_REASON),
        Request::RespondBuyerCancel {
            reject_reason,
            comment,
            ..
        } => text("reject reason", reject_reason.as_deref(), MAX_REASON)
            .or_else(|| text("comment", comment.as_deref(), MAX_COMMENT)),
        Request::SetSettings {
            changes, reason, ..
        } => settings(changes).or_else(|| text("reason", reason.as_deref(), MAX_REASON)),
        _ => None,
    }
}

fn text(field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value?.trim();
    // A character is at least a byte: most texts are decided without counting.
    if value.len() <= max {
        return None;
    }
    let n = value.chars().count();
    (n > max).then(|| format!("the {field} is {n} characters long; at most {max} are allowed"))
}

fn targets(n: usize) -> Option<String> {
    (n > MAX_TARGETS)
        .then(|| format!("the request names {n} orders; at most {MAX_TARGETS} are allowed"))
}

fn filter(filter: Option<&str>) -> Option<String> {
    let filter = filter?;
    if filter.len() > MAX_FILTER_BYTES {
        return Some(format!(
            "the filter is {} bytes long; at most {MAX_FILTER_BYTES} are allowed",
            filter.len()
        ));
    }
    let terms = filter.split_whitespace().count();
    (terms > MAX_FILTER_TERMS)
        .then(|| format!("the filter has {terms} terms; at most {MAX_FILTER_TERMS} are allowed"))
}

fn settings(changes: &[(String, String)]) -> Option<String> {
    if changes.len() > MAX_SETTING_CHANGES {
        return Some(format!(
            "the change sets {} keys; at most {MAX_SETTING_CHANGES} are allowed",
            changes.len()
        ));
    }
    changes.iter().find_map(|(key, value)| {
        text("setting key", Some(key), MAX_SETTING_TEXT).or_else(|| {
            let field = format!("value of {}", truncate(&sanitize(key), 64));
            text(&field, Some(value), MAX_SETTING_TEXT)
        })
    })
}

/// The audit action of a mutation, as `mutations` names it; `None` for reads.
fn action(request: &Request) -> Option<&'static str> {
    Some(match request {
        Request::Resync { .. } => "resync.request",
        Request::Decide { approve: true, .. } => "request.approve",
        Request::Decide { approve: false, .. } => "request.reject",
        Request::RespondBuyerCancel { approve: true, .. } => "cancel.approve",
        Request::RespondBuyerCancel { approve: false, .. } => "cancel.reject",
        Request::ReprintLabel { .. } => "label.reprint",
        Request::RetryStuck { .. } => "job.retry",
        Request::MarkParcelHandled { .. } => "parcel.handled",
        Request::RetryCause { .. } => "job.retry_cause",
        Request::SetSettings { .. } => "settings.set",
        Request::SyncNow { .. } => "sync.run",
        _ => return None,
    })
}

/// The targets an oversized mutation is audited with: the first few, and how many more.
fn audited_targets(request: &Request) -> Vec<String> {
    let all: Vec<String> = match request {
        Request::Resync { orders, .. } | Request::RetryStuck { orders, .. } => {
            orders.iter().map(ToString::to_string).collect()
        }
        Request::Decide { request, .. } => vec![request.to_string()],
        Request::MarkParcelHandled { order, .. } => vec![order.to_string()],
        Request::RespondBuyerCancel { cancel_id, .. } => vec![cancel_id.to_string()],
        Request::SetSettings { link, .. } | Request::RetryCause { link, .. } => {
            vec![link.to_string()]
        }
        _ => Vec::new(),
    };
    let more = all.len().saturating_sub(AUDITED_TARGETS);
    let mut kept: Vec<String> = all.into_iter().take(AUDITED_TARGETS).collect();
    if more > 0 {
        kept.push(format!("… and {more} more"));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{LinkId, TiktokOrderId};
    use crate::domain::request::ResyncFlow;

    fn resync(orders: usize, reason: &str) -> Request {
        Request::Resync {
            orders: (0..orders)
                .map(|n| TiktokOrderId::new(format!("{}", 5_000_000 + n)).unwrap())
                .collect(),
            flow: ResyncFlow::Import,
            reason: reason.to_string(),
        }
    }

    #[test]
    fn each_oversized_field_is_named_with_its_limit() {
        let long = "é".repeat(MAX_REASON + 1);
        let why = oversize(&resync(1, &long)).unwrap();
        assert!(
            why.contains("reason is 501 characters") && why.contains("500"),
            "{why}"
        );
        // Characters, not bytes: 500 two-byte characters are fine.
        assert_eq!(oversize(&resync(1, &"é".repeat(MAX_REASON))), None);
        let why = oversize(&resync(MAX_TARGETS + 1, "ok")).unwrap();
        assert!(why.contains("501 orders"), "{why}");

        let comment = Request::RespondBuyerCancel {
            cancel_id: crate::domain::ids::CancelId::new("c1").unwrap(),
            approve: false,
            reject_reason: Some("reason_code".into()),
            comment: Some("x".repeat(MAX_COMMENT + 1)),
        };
        assert!(oversize(&comment).unwrap().contains("comment"));

        let settings = |changes: Vec<(String, String)>| Request::SetSettings {
            link: LinkId::new("uk").unwrap(),
            changes,
            expected_version: 1,
            reason: None,
        };
        let many = (0..=MAX_SETTING_CHANGES)
            .map(|n| (format!("k{n}"), "v".into()))
            .collect();
        assert!(oversize(&settings(many)).unwrap().contains("65 keys"));
        let value = vec![("carrier_map".into(), "x".repeat(MAX_SETTING_TEXT + 1))];
        let why = oversize(&settings(value)).unwrap();
        assert!(why.contains("value of carrier_map"), "{why}");
    }

    #[test]
    fn filters_are_bounded_in_bytes_and_terms() {
        let orders = |filter: String| {
            Request::Orders(crate::service::api::OrderQuery {
                filter: Some(filter),
                ..crate::service::api::OrderQuery::first_page(
                    crate::domain::triage::OrderView::All,
                    10,
                )
            })
        };
        let terms = vec!["a"; MAX_FILTER_TERMS + 1].join(" ");
        let why = oversize(&orders(terms)).unwrap();
        assert!(why.contains("17 terms; at most 16"), "{why}");
        let bytes = "a".repeat(MAX_FILTER_BYTES + 1);
        assert!(oversize(&orders(bytes)).unwrap().contains("513 bytes"));
        assert_eq!(
            oversize(&orders("store:uk status:stuck jumper".into())),
            None
        );
    }

    #[test]
    fn oversized_mutations_are_audited_with_a_few_targets() {
        let targets = audited_targets(&resync(MAX_TARGETS + 1, "ok"));
        assert_eq!(targets.len(), AUDITED_TARGETS + 1);
        assert_eq!(targets.last().unwrap(), "… and 481 more");
    }
}
