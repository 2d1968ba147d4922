//! Cancellations, both ways.
//! - TikTok → store (on by default): an approved buyer request, a system cancel or a seller cancel
//!   cancels the store order, restocking per setting, never refunding (TikTok refunds the buyer).
//!   Units the store already shipped are never put back in stock, whatever the setting: they
//!   come back with the parcel, if they do (`rules::parcel` lists the order for a person).
//! - Store → TikTok (opt-in, needs a default reason): the store's trigger — a cancel, or on
//!   Magento 2 a refund — cancels the TikTok order. Amazon MCF links are one-way.
//! - Buyer requests waiting for the seller are answered from the console before TikTok's deadline.

use crate::domain::cancellation::{
    CancelStatus, Cancellation, CancellationKey, Direction, SellerResponse,
};
use crate::domain::clock::Timestamp;
use crate::domain::order::{FlowStatus, Order, OrderStatus, StorefrontOrderStatus};
use crate::domain::platform::{Platform, RestockControl, StorefrontCancelTrigger};
use crate::domain::rules::line_cancel::{PartialCancel, partial_cancel};
use crate::domain::settings::LinkSettings;
pub use crate::domain::store_order::{Units, show_units};
use crate::domain::text;

/// Shopify caps `staffNote` at 255 characters; every store note is kept within it.
pub const STORE_NOTE_MAX: usize = 255;

/// How to cancel the store order. There is deliberately no refund field: orderdeck never refunds
/// on the store side, whatever the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorefrontCancelInstruction {
    /// Put the units the store has not shipped back in stock. Shipped units never go back,
    /// whatever this says: a connector checks what shipped at the moment it cancels.
    pub restock: bool,
    /// TikTok's reason, for the staff note / order comment (Shopify's reason is always `OTHER`).
    pub note: String,
}

/// A store cancel as the store confirmed it: its order after, and what became of the stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorefrontCancelled {
    pub store: crate::domain::order::StorefrontOrder,
    /// Unshipped units put back in stock.
    pub put_back: Vec<Units>,
    /// Units the store had shipped: left out of stock.
    pub shipped: Vec<Units>,
}

impl StorefrontCancelled {
    /// What the timeline says about stock, empty when nothing is known (an order found
    /// cancelled after a lost answer).
    /// A store that restocks every cancel (WooCommerce) puts shipped units back too: those are
    /// named, for a person to correct the stock if the parcel does not come back.
    pub fn stock_note(&self) -> String {
        let (mut kept_out, mut restocked_anyway) = (Vec::new(), Vec::new());
        for units in &self.shipped {
            let anyway = units.quantity.min(Units::of(&self.put_back, &units.sku));
            Units::add(&mut restocked_anyway, &units.sku, anyway);
            Units::add(&mut kept_out, &units.sku, units.quantity - anyway);
        }
        let mut parts = Vec::new();
        if !self.put_back.is_empty() {
            parts.push(format!("put back in stock: {}", show_units(&self.put_back)));
        }
        if !kept_out.is_empty() {
            parts.push(format!(
                "shipped, so not put back: {}",
                show_units(&kept_out)
            ));
        }
        if !restocked_anyway.is_empty() {
            parts.push(format!(
                "the store put back {} although shipped: correct the stock if the parcel does not come back",
                show_units(&restocked_anyway)
            ));
        }
        parts.join("; ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorefrontCancelDecision {
    CancelStore(StorefrontCancelInstruction),
    /// TikTok cancelled some units; the order goes on with the rest.
    RemoveUnits(PartialCancel),
    /// A buyer request the seller has not answered yet.
    WaitForSeller {
        deadline: Option<Timestamp>,
    },
    Wait {
        why: String,
    },
    Skip {
        why: String,
    },
    Nothing {
        why: String,
    },
}

pub fn decide_tiktok_to_store(
    c: &Cancellation,
    order: &Order,
    settings: &LinkSettings,
) -> StorefrontCancelDecision {
    use StorefrontCancelDecision::*;
    debug_assert_eq!(c.direction, Direction::TiktokToStore);
    if c.awaits_seller() {
        return WaitForSeller {
            deadline: c.seller_deadline,
        };
    }
    match &c.tiktok_status {
        Some(status) if status.is_effective() => {}
        Some(CancelStatus::Withdrawn) => {
            return Nothing {
                why: "the request was withdrawn or rejected: the order goes on".into(),
            };
        }
        other => {
            let shown = other
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into());
            return Wait {
                why: format!("TikTok has not confirmed the cancellation (status {shown})"),
            };
        }
    }
    match &c.sync.status {
        FlowStatus::Done { .. } => {
            return Nothing {
                why: "already applied to the store".into(),
            };
        }
        FlowStatus::Queued => {
            return Nothing {
                why: "store cancel already queued".into(),
            };
        }
        FlowStatus::Stuck { reason } => {
            return Nothing {
                why: format!("store cancel is stuck ({reason}); a resync re-runs it"),
            };
        }
        _ => {}
    }
    let Some(store) = &order.store else {
        if order.flows.import.status == FlowStatus::Queued {
            return Wait {
                why: "the store order is being created; it will be cancelled once it exists".into(),
            };
        }
        return Nothing {
            why: "the order never reached the store: nothing to cancel there".into(),
        };
    };
    if store.status == StorefrontOrderStatus::Cancelled {
        return Nothing {
            why: "already cancelled in the store".into(),
        };
    }
    if !settings.cancel_tiktok_to_store {
        return Skip {
            why: "cancel_tiktok_to_store is off for this link".into(),
        };
    }
    if let Some(partial) = partial_cancel(c, order, settings) {
        if partial.already_applied(store) {
            // Taken off in the store first (a store-side removal orderdeck relayed to TikTok).
            return Nothing {
                why: "those units are already off the store order".into(),
            };
        }
        return RemoveUnits(partial);
    }
    CancelStore(StorefrontCancelInstruction {
        restock: settings.restock_on_cancel,
        note: store_note(c),
    })
}

/// How every store note of a TikTok cancel begins.
const STORE_NOTE_HEAD: &str = "Cancelled on TikTok";

/// Whether `text` (an order's note or comment) is a TikTok cancel's note. A store takes one
/// whole-order cancel, so a connector that writes the note apart from the cancel itself writes
/// it only when no such note is there: a retry's note can differ from the first attempt's when
/// TikTok's record of who cancelled and why arrived in between.
pub fn is_store_note(text: &str) -> bool {
    text.trim_start().starts_with(STORE_NOTE_HEAD)
}

/// "Cancelled on TikTok (buyer): Order created by mistake [ecom_…]", at most 255 characters.
pub fn store_note(c: &Cancellation) -> String {
    let who = c.initiator.as_wire().to_lowercase();
    let mut note = format!("{STORE_NOTE_HEAD} ({})", text::sanitize(&who));
    if let Some(reason) = c.reason_text.as_deref().filter(|r| !r.trim().is_empty()) {
        note.push_str(": ");
        note.push_str(&text::sanitize(reason));
    }
    if let Some(code) = c.reason_code.as_deref().filter(|r| !r.trim().is_empty()) {
        note.push_str(&format!(" [{}]", text::sanitize(code)));
    }
    text::truncate(&note, STORE_NOTE_MAX)
}

/// What restocking means on this platform, for the order's timeline. `shipped`: the store has
/// shipped some of the order.
pub fn restock_explanation(platform: Platform, restock: bool, shipped: bool) -> String {
    let capabilities = platform.capabilities();
    if shipped && capabilities.restock == RestockControl::PerCancel {
        return if restock {
            "the store already shipped: only unshipped units go back in stock".into()
        } else {
            "the store already shipped; stock not put back (restock_on_cancel is off)".into()
        };
    }
    match capabilities.restock {
        RestockControl::PerCancel if restock => "stock put back".into(),
        RestockControl::PerCancel => "stock not put back (restock_on_cancel is off)".into(),
        RestockControl::Automatic => format!("{platform} puts stock back on every cancel"),
        RestockControl::StoreSetting => {
            format!("restocking follows the {platform} store's own setting")
        }
        RestockControl::NotApplicable => format!("{platform} manages its own stock"),
    }
}

/// A change the store reported that may mean "cancel this on TikTok".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorefrontEvent {
    OrderCancelled,
    Refunded,
    /// Units were taken off the order in the store (it goes on), leaving this many.
    UnitsRemoved {
        left: u32,
    },
}

impl StorefrontEvent {
    /// The record a store-side event on `order`'s store order is kept under: one per order for
    /// a cancel or a refund, one per removal for units taken off.
    pub fn key(self, order: &crate::domain::ids::TiktokOrderId) -> CancellationKey {
        match self {
            StorefrontEvent::UnitsRemoved { left } => {
                CancellationKey::StoreUnits(order.clone(), left)
            }
            StorefrontEvent::OrderCancelled | StorefrontEvent::Refunded => {
                CancellationKey::Store(order.clone())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TiktokCancelDecision {
    CancelTiktok {
        reason_code: String,
    },
    Skip {
        why: String,
    },
    /// The platform cannot do store → TikTok at all.
    Unsupported {
        why: String,
    },
    Nothing {
        why: String,
    },
}

pub fn decide_store_to_tiktok(
    event: StorefrontEvent,
    order: &Order,
    settings: &LinkSettings,
    platform: Platform,
) -> TiktokCancelDecision {
    use TiktokCancelDecision::*;
    let Some(trigger) = platform.capabilities().store_to_tiktok_trigger else {
        return Unsupported {
            why: format!("{platform} links sync cancellations TikTok → store only"),
        };
    };
    let fits = matches!(
        (trigger, event),
        (
            StorefrontCancelTrigger::OrderCancelled,
            StorefrontEvent::OrderCancelled | StorefrontEvent::UnitsRemoved { .. }
        ) | (StorefrontCancelTrigger::Refund, StorefrontEvent::Refunded)
    );
    if !fits {
        return Nothing {
            why: match trigger {
                StorefrontCancelTrigger::Refund => {
                    format!("on {platform} a refund (credit memo) cancels on TikTok, not a cancel")
                }
                StorefrontCancelTrigger::OrderCancelled => {
                    format!("on {platform} only a cancel of the order cancels on TikTok")
                }
            },
        };
    }
    if order.tiktok.status == OrderStatus::Cancelled {
        return Nothing {
            why: "already cancelled on TikTok".into(),
        };
    }
    if matches!(
        order.flows.cancellation.status,
        FlowStatus::Done { .. } | FlowStatus::Queued
    ) {
        return Nothing {
            why: "a cancellation of this order already ran or is queued".into(),
        };
    }
    if !matches!(
        order.tiktok.status,
        OrderStatus::Unpaid | OrderStatus::OnHold | OrderStatus::AwaitingShipment
    ) {
        return Skip {
            why: format!(
                "the TikTok order is already {}: TikTok no longer accepts a seller cancel",
                order.tiktok.status
            ),
        };
    }
    if !settings.cancel_store_to_tiktok {
        return Skip {
            why: "cancel_store_to_tiktok is off for this link".into(),
        };
    }
    match &settings.default_cancel_reason {
        Some(reason_code) => CancelTiktok {
            reason_code: reason_code.clone(),
        },
        None => Skip {
            why: "no default_cancel_reason is set for this link".into(),
        },
    }
}

/// Whether the seller may still answer this buyer request now.
pub fn check_seller_response(
    c: &Cancellation,
    response: &SellerResponse,
    now: Timestamp,
) -> Result<(), String> {
    if !c.awaits_seller() {
        let status = c
            .tiktok_status
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into());
        return Err(format!(
            "cancellation {} is not a buyer request waiting for the seller (status {status})",
            c.key
        ));
    }
    if let Some(deadline) = c.seller_deadline.filter(|d| *d <= now) {
        return Err(format!(
            "TikTok's deadline to answer cancellation {} passed at {}",
            c.key,
            deadline.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if let SellerResponse::Reject { reason, .. } = response
        && reason.trim().is_empty()
    {
        return Err("a rejection needs one of TikTok's reject reason codes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
