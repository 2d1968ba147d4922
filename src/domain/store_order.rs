//! The store side of an order: what the merchant's store last said about its copy — status,
//! lines as they stand now, and fulfillments with the units and tracking each holds. Plain data,
//! normalised across the five store platforms by their clients.

use serde::{Deserialize, Serialize};

use super::clock::Timestamp;
use super::ids::StorefrontOrderId;
use super::text;
use crate::open_enum;

open_enum!(
    /// The store order's state, normalised across platforms.
    StorefrontOrderStatus {
        Open = "open",
        Cancelled = "cancelled",
        Closed = "closed",
    }
);

/// A tracking number the store holds for a fulfillment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    /// The store's carrier name (mapped to a TikTok shipping provider before pushing).
    pub carrier: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfillment {
    pub id: String,
    /// The store's own status text (e.g. Shopify `SUCCESS`), for display.
    pub status: String,
    pub created_at: Option<Timestamp>,
    pub tracking: Vec<Tracking>,
    /// The units this fulfillment holds, per SKU. Empty when the store did not say (a record
    /// kept before orderdeck read fulfillment lines): then it stands for the whole order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Units>,
}

impl Fulfillment {
    /// Not cancelled or failed: its units left (or are leaving) the warehouse.
    pub fn is_live(&self) -> bool {
        !matches!(self.status.as_str(), "CANCELLED" | "ERROR" | "FAILURE")
    }

    /// The first non-blank tracking number.
    pub fn tracking_number(&self) -> Option<&Tracking> {
        self.tracking.iter().find(|t| !t.number.trim().is_empty())
    }
}

/// One line of the store order as it stands now, after edits and removals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreLine {
    /// The store's id for the line (what an edit or a credit memo names).
    pub id: String,
    /// Empty for a line the store holds without a SKU.
    pub sku: String,
    /// Units still on the order (Shopify `currentQuantity`): removed units are not counted.
    pub quantity: u32,
}

/// Units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    pub sku: String,
    pub quantity: u32,
}

impl Units {
    /// Adds `quantity` units of `sku` to a per-SKU tally, keeping first-seen order.
    pub fn add(tally: &mut Vec<Units>, sku: &str, quantity: u32) {
        if quantity == 0 {
            return;
        }
        match tally.iter_mut().find(|u| u.sku == sku) {
            Some(units) => units.quantity += quantity,
            None => tally.push(Units {
                sku: sku.to_string(),
                quantity,
            }),
        }
    }

    /// The units of `sku` in a tally (0 when absent).
    pub fn of(tally: &[Units], sku: &str) -> u32 {
        tally
            .iter()
            .filter(|u| u.sku == sku)
            .map(|u| u.quantity)
            .sum()
    }
}

/// "2 × SKU-A, 1 × SKU-B".
pub fn show_units(units: &[Units]) -> String {
    units
        .iter()
        .map(|u| format!("{} × {}", u.quantity, text::sanitize(&u.sku)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the store last told us about its copy of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontOrder {
    pub order_id: StorefrontOrderId,
    /// The store's human name (`#1001`).
    pub name: Option<String>,
    pub status: StorefrontOrderStatus,
    pub fulfillments: Vec<Fulfillment>,
    /// The order's lines as they stand now. Empty in records kept before orderdeck read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<StoreLine>,
    /// Units still on the order, when a read says so without its lines (Shopify's polls read
    /// `currentSubtotalLineItemsQuantity`, which costs nothing): a drop means units were
    /// taken off in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_count: Option<u32>,
    pub cancelled_at: Option<Timestamp>,
    /// A refund (Magento credit memo) exists on the store side.
    pub refunded: bool,
    pub updated_at: Timestamp,
}

impl StorefrontOrder {
    /// The first tracking number of a fulfillment that is not cancelled or failed.
    pub fn first_tracking(&self) -> Option<&Tracking> {
        self.live_fulfillments()
            .find_map(Fulfillment::tracking_number)
    }

    pub fn has_fulfillment(&self) -> bool {
        self.live_fulfillments().next().is_some()
    }

    pub fn live_fulfillments(&self) -> impl Iterator<Item = &Fulfillment> {
        self.fulfillments.iter().filter(|f| f.is_live())
    }

    /// Units still on the order, from its lines or its count.
    pub fn units_now(&self) -> Option<u32> {
        if self.lines.is_empty() {
            self.unit_count
        } else {
            Some(self.lines.iter().map(|l| l.quantity).sum())
        }
    }

    /// Units still on the order, per SKU.
    pub fn current_units(&self) -> Vec<Units> {
        let mut tally = Vec::new();
        for line in &self.lines {
            Units::add(&mut tally, &line.sku, line.quantity);
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_tracking_ignores_cancelled_fulfillments() {
        let t = |n: &str| Tracking {
            number: n.into(),
            carrier: Some("UPS".into()),
            url: None,
        };
        let store = StorefrontOrder {
            order_id: StorefrontOrderId::new("gid://shopify/Order/1").unwrap(),
            name: None,
            status: StorefrontOrderStatus::Open,
            fulfillments: vec![
                Fulfillment {
                    id: "f1".into(),
                    status: "CANCELLED".into(),
                    created_at: None,
                    tracking: vec![t("OLD")],
                    lines: vec![],
                },
                Fulfillment {
                    id: "f2".into(),
                    status: "SUCCESS".into(),
                    created_at: None,
                    tracking: vec![t(" "), t("NEW")],
                    lines: vec![],
                },
            ],
            lines: vec![],
            unit_count: None,
            cancelled_at: None,
            refunded: false,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        assert_eq!(
            store.first_tracking().map(|t| t.number.as_str()),
            Some("NEW")
        );
    }
}
