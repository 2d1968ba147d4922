//! Cancelled after shipping: TikTok cancelled (and so refunded) an order whose parcel the store
//! had already shipped. Cancelling the store order does not stop a parcel in a van, so the order
//! is listed for a person with what to do — intercept it with the carrier, or expect a return —
//! until they say how it ended (audited). The tracking is never pushed to TikTok for such an
//! order (`rules::tracking` says nothing for a cancelled order), and the store cancel never puts
//! shipped units back in stock (`rules::cancel`): they come back with the parcel, if they do.

use serde::{Deserialize, Serialize};

use crate::domain::clock::Timestamp;
use crate::domain::order::{Initiator, Order, OrderStatus};
use crate::domain::text::sanitize;

/// A parcel on its way to a buyer TikTok has refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelAfterCancel {
    /// The store's carrier name for the shipment, as the store holds it.
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    /// The carrier's tracking page, when the store has one.
    pub tracking_url: Option<String>,
    /// When TikTok's order last changed, i.e. when it was cancelled.
    pub cancelled_at: Timestamp,
    pub initiator: Option<Initiator>,
    /// When orderdeck saw it: the order is listed as stuck since then.
    pub raised_at: Timestamp,
    /// How a person ended it; the order leaves the Stuck list once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled: Option<ParcelHandled>,
}

/// How a parcel sent after the cancel ended, as the person who dealt with it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParcelOutcome {
    /// The carrier stopped it and it comes back.
    Intercepted,
    /// It reached the buyer and came back (or a return is arranged).
    Returned,
    /// Neither: the loss is accepted.
    WrittenOff,
}

impl ParcelOutcome {
    pub const ALL: [ParcelOutcome; 3] = [
        ParcelOutcome::Intercepted,
        ParcelOutcome::Returned,
        ParcelOutcome::WrittenOff,
    ];

    /// The spelling in commands, the audit log and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ParcelOutcome::Intercepted => "intercepted",
            ParcelOutcome::Returned => "returned",
            ParcelOutcome::WrittenOff => "written-off",
        }
    }

    pub fn parse(text: &str) -> Result<ParcelOutcome, String> {
        ParcelOutcome::ALL
            .into_iter()
            .find(|o| o.name() == text.trim())
            .ok_or_else(|| {
                format!(
                    "{:?} is not an outcome: use intercepted, returned or written-off",
                    sanitize(text)
                )
            })
    }
}

/// One typed line, outcome first: `returned RMA 4411` → (returned, "RMA 4411").
pub fn parse_answer(line: &str) -> Result<(ParcelOutcome, String), String> {
    let line = line.trim();
    let (word, note) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let outcome = ParcelOutcome::parse(word)?;
    let note = note.trim();
    if note.is_empty() {
        return Err(format!(
            "after {} say what was done (carrier ticket, return number…)",
            outcome.name()
        ));
    }
    Ok((outcome, note.to_string()))
}

/// Who said how it ended, when, and their note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelHandled {
    pub outcome: ParcelOutcome,
    pub note: String,
    pub by: String,
    pub at: Timestamp,
}

impl ParcelAfterCancel {
    pub fn is_open(&self) -> bool {
        self.handled.is_none()
    }

    /// What a person must do, with the facts they need to do it.
    pub fn instruction(&self) -> String {
        let carrier = self.carrier.as_deref().map(sanitize);
        let tracking = self.tracking_number.as_deref().map(sanitize);
        let stop = match (carrier, tracking) {
            (Some(carrier), Some(number)) => {
                format!("intercept the parcel with {carrier}, tracking {number}")
            }
            (None, Some(number)) => format!("intercept the parcel (tracking {number})"),
            (Some(carrier), None) => {
                format!("intercept the parcel with {carrier} (the store has no tracking number)")
            }
            (None, None) => "find and intercept the parcel (the store has no tracking)".into(),
        };
        let who = self
            .initiator
            .as_ref()
            .map(|i| format!(" by the {}", sanitize(&i.as_wire().to_lowercase())))
            .unwrap_or_default();
        format!(
            "TikTok cancelled and refunded after the store shipped: {stop}, or expect a return (cancelled{who} at {})",
            self.cancelled_at.format("%Y-%m-%d %H:%M UTC")
        )
    }
}

/// A parcel to stop, if TikTok cancelled the whole order after the store shipped part or all
/// of it and nobody has been told yet. The first shipment's tracking is named (orders with
/// several parcels list the rest in the order's detail).
pub fn parcel_after_cancel(order: &Order, now: Timestamp) -> Option<ParcelAfterCancel> {
    if order.parcel_after_cancel.is_some() || order.tiktok.status != OrderStatus::Cancelled {
        return None;
    }
    let store = order.store.as_ref().filter(|s| s.has_fulfillment())?;
    let tracking = store.first_tracking();
    Some(ParcelAfterCancel {
        carrier: tracking.and_then(|t| t.carrier.clone()),
        tracking_number: tracking.map(|t| t.number.clone()),
        tracking_url: tracking.and_then(|t| t.url.clone()),
        cancelled_at: order.tiktok.updated_at,
        initiator: order.tiktok.cancellation_initiator.clone(),
        raised_at: now,
        handled: None,
    })
}

/// Records how the parcel ended; refused when there is no open one (nothing to mark, or
/// marked already: the first person's word stands and the audit log has both attempts).
pub fn mark_handled(order: &mut Order, handled: ParcelHandled) -> Result<(), String> {
    let Some(parcel) = order.parcel_after_cancel.as_mut() else {
        return Err(format!(
            "order {} has no parcel shipped after a TikTok cancel",
            order.id
        ));
    };
    if let Some(done) = &parcel.handled {
        return Err(format!(
            "the parcel of order {} was already marked {} by {}",
            order.id,
            done.outcome.name(),
            sanitize(&done.by)
        ));
    }
    let text = format!(
        "parcel marked {} by {}: {}",
        handled.outcome.name(),
        sanitize(&handled.by),
        sanitize(&handled.note)
    );
    let at = handled.at;
    parcel.handled = Some(handled);
    order.note(at, None, text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{Fulfillment, StorefrontOrderStatus, Tracking};
    use crate::domain::rules::fixtures::{in_store, paid, t};

    fn shipped(number: &str, carrier: Option<&str>) -> Order {
        let mut order = in_store(paid(), vec![]);
        let store = order.store.as_mut().unwrap();
        store.fulfillments.push(Fulfillment {
            id: "F1".into(),
            status: "SUCCESS".into(),
            created_at: None,
            tracking: vec![Tracking {
                number: number.into(),
                carrier: carrier.map(str::to_string),
                url: Some(format!("https://track.example/{number}")),
            }],
            lines: vec![],
        });
        order
    }

    #[test]
    fn a_cancel_after_the_store_shipped_names_carrier_and_tracking() {
        let mut order = shipped("1Z999AA10000000077", Some("UPS"));
        assert_eq!(parcel_after_cancel(&order, t(5)), None, "not cancelled");
        order.tiktok.status = OrderStatus::Cancelled;
        order.tiktok.cancellation_initiator = Some(Initiator::Buyer);
        let parcel = parcel_after_cancel(&order, t(5)).expect("a parcel to stop");
        let said = parcel.instruction();
        assert!(
            said.starts_with("TikTok cancelled and refunded after the store shipped: intercept the parcel with UPS, tracking 1Z999AA10000000077, or expect a return (cancelled by the buyer at "),
            "{said}"
        );
        assert_eq!(
            parcel.tracking_url.as_deref(),
            Some("https://track.example/1Z999AA10000000077")
        );
        order.parcel_after_cancel = Some(parcel);
        assert_eq!(parcel_after_cancel(&order, t(6)), None, "raised once");
    }

    #[test]
    fn a_cancel_before_shipping_leaves_no_parcel() {
        let mut order = in_store(paid(), vec![]);
        order.tiktok.status = OrderStatus::Cancelled;
        assert_eq!(parcel_after_cancel(&order, t(5)), None);
        let mut cancelled_fulfillment = shipped("X1", None);
        cancelled_fulfillment.tiktok.status = OrderStatus::Cancelled;
        cancelled_fulfillment.store.as_mut().unwrap().fulfillments[0].status = "CANCELLED".into();
        cancelled_fulfillment.store.as_mut().unwrap().status = StorefrontOrderStatus::Cancelled;
        assert_eq!(parcel_after_cancel(&cancelled_fulfillment, t(5)), None);
    }

    #[test]
    fn marking_handled_once_closes_it_and_a_second_mark_is_refused() {
        let mut order = shipped("1Z1", Some("UPS"));
        order.tiktok.status = OrderStatus::Cancelled;
        let handled = |by: &str| ParcelHandled {
            outcome: ParcelOutcome::Intercepted,
            note: "UPS ticket 42".into(),
            by: by.into(),
            at: t(9),
        };
        let none = mark_handled(&mut order, handled("ana")).unwrap_err();
        assert!(none.contains("has no parcel"), "{none}");
        order.parcel_after_cancel = parcel_after_cancel(&order, t(5));
        mark_handled(&mut order, handled("ana")).unwrap();
        assert!(!order.parcel_after_cancel.as_ref().unwrap().is_open());
        let again = mark_handled(&mut order, handled("bo")).unwrap_err();
        assert!(
            again.contains("already marked intercepted by ana"),
            "{again}"
        );
        assert!(
            order
                .timeline
                .iter()
                .any(|e| e.text == "parcel marked intercepted by ana: UPS ticket 42")
        );
    }

    #[test]
    fn outcomes_parse_by_name_and_refuse_others_by_name() {
        for outcome in ParcelOutcome::ALL {
            assert_eq!(ParcelOutcome::parse(outcome.name()), Ok(outcome));
        }
        let refused = ParcelOutcome::parse("lost").unwrap_err();
        assert!(refused.contains("\"lost\" is not an outcome"), "{refused}");
        assert_eq!(
            parse_answer("  written-off  parcel lost by DPD "),
            Ok((ParcelOutcome::WrittenOff, "parcel lost by DPD".into()))
        );
        assert!(
            parse_answer("returned")
                .unwrap_err()
                .contains("after returned say what")
        );
        assert!(
            parse_answer("gone RMA 1")
                .unwrap_err()
                .contains("\"gone\" is not an outcome")
        );
    }
}
