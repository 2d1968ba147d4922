//! The simulated stores' state: catalog variants with SKUs and stock (a simple product's base
//! variant, or one variant per option combination), orders with their products, addresses,
//! shipments, status, staff notes and `date_modified`, the store's inventory setting, and the
//! request quota of the current window.
//!
//! What BigCommerce does on each change, as bigcommerce.md describes it: a shipment moves the
//! order to Shipped (2) when every unit has shipped, else Partially Shipped (3) — and a later
//! shipment that leaves it Partially Shipped moves neither status nor `date_modified`; entering
//! Cancelled (5) puts unshipped units back in stock only when the store's
//! `refund_order_stock_adjustment` setting says so; a refund is status 4 and moves no stock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::Digest;

use crate::sandbox::scenario::BigStoreSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct BcOption {
    pub value_id: u64,
    pub label: String,
    pub option_id: u64,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BcVariant {
    pub id: u64,
    pub product_id: u64,
    pub sku: String,
    pub name: String,
    pub price: String,
    /// Empty for a product's base variant.
    pub options: Vec<BcOption>,
    pub inventory: i64,
}

/// One order product.
#[derive(Debug, Clone, PartialEq)]
pub struct BcLine {
    pub id: u64,
    pub product_id: u64,
    pub variant_id: u64,
    pub sku: String,
    pub name: String,
    pub quantity: u64,
    pub quantity_shipped: u64,
    pub price_inc_tax: String,
    pub price_ex_tax: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BcShipment {
    pub id: u64,
    pub order_address_id: u64,
    pub created: DateTime<Utc>,
    pub tracking_number: String,
    pub shipping_provider: String,
    pub tracking_carrier: String,
    pub tracking_link: String,
    /// `(order_product_id, product_id, quantity)`.
    pub items: Vec<(u64, u64, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BcOrder {
    pub id: u64,
    pub status_id: u64,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub external_order_id: String,
    pub staff_notes: String,
    pub customer_message: String,
    pub payment_method: String,
    pub customer_id: i64,
    pub billing: Value,
    /// `(id, address)`.
    pub addresses: Vec<(u64, Value)>,
    pub lines: Vec<BcLine>,
    pub shipments: Vec<BcShipment>,
    pub refunded_amount: String,
}

impl BcOrder {
    pub fn total(&self) -> f64 {
        self.lines
            .iter()
            .map(|l| l.price_inc_tax.parse::<f64>().unwrap_or(0.0) * l.quantity as f64)
            .sum()
    }

    pub fn items_total(&self) -> u64 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    pub fn items_shipped(&self) -> u64 {
        self.lines.iter().map(|l| l.quantity_shipped).sum()
    }
}

/// `GET /v2/order_statuses`' names.
pub fn status_name(status_id: u64) -> &'static str {
    match status_id {
        0 => "Incomplete",
        1 => "Pending",
        2 => "Shipped",
        3 => "Partially Shipped",
        4 => "Refunded",
        5 => "Cancelled",
        6 => "Declined",
        7 => "Awaiting Payment",
        8 => "Awaiting Pickup",
        9 => "Awaiting Shipment",
        10 => "Completed",
        11 => "Awaiting Fulfillment",
        12 => "Manual Verification Required",
        13 => "Disputed",
        14 => "Partially Refunded",
        _ => "Unknown",
    }
}

/// The request quota of one store: `quota` requests per `window`, counted from the window's
/// first request; a 429 fault closes it for `fault_pause`.
#[derive(Debug, Clone)]
pub struct Quota {
    pub quota: u32,
    pub window: std::time::Duration,
    pub started: Option<std::time::Instant>,
    pub used: u32,
    pub paused_until: Option<std::time::Instant>,
    /// When the first window opened (since the quota was set) and requests served since.
    pub first_started: Option<std::time::Instant>,
    pub served: u64,
}

/// How a store's quota was used since it was set, for a measure of the share a client used:
/// windows open at their first request, so the store offered `quota` per `window` from
/// `first_window` to `current_window`, and the current window as far as it was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUse {
    pub quota: u32,
    pub window: std::time::Duration,
    pub first_window: std::time::Instant,
    pub current_window: std::time::Instant,
    pub used_in_current: u32,
    pub served: u64,
}

impl Quota {
    pub fn usage(&self) -> Option<QuotaUse> {
        Some(QuotaUse {
            quota: self.quota,
            window: self.window,
            first_window: self.first_started?,
            current_window: self.started?,
            used_in_current: self.used,
            served: self.served,
        })
    }
}

pub struct BcStore {
    pub name: String,
    pub hash: String,
    /// The numeric id deliveries carry in `store_id`.
    pub store_id: String,
    pub token: String,
    /// The API account the token belongs to: its hooks are the ones listed, and its client
    /// secret signs their deliveries.
    pub client_id: String,
    pub client_secret: String,
    pub hooks: Vec<super::hooks::BcHook>,
    pub token_valid: bool,
    /// The API account lacks the Orders modify scope: writes answer 403.
    pub read_only: bool,
    /// `refund_order_stock_adjustment` of `/v3/settings/inventory`.
    pub restock_on_cancel: bool,
    pub variants: Vec<BcVariant>,
    pub orders: Vec<BcOrder>,
    pub calls: HashMap<String, u32>,
    /// Every request the contract refused (and every query parameter BigCommerce would
    /// ignore), as `endpoint: why`.
    pub refused: Vec<String>,
    /// 429s answered.
    pub throttled: u32,
    pub rate: Quota,
    next_id: u64,
}

impl BcStore {
    pub fn from_spec(spec: &BigStoreSpec) -> BcStore {
        let variants: Vec<BcVariant> = spec
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let i = i as u64;
                // Every other product has an option (a size), so both kinds of line are made.
                let options = if i % 2 == 1 {
                    vec![BcOption {
                        value_id: 500 + i,
                        label: "M".into(),
                        option_id: 400 + i,
                        display_name: "Size".into(),
                    }]
                } else {
                    Vec::new()
                };
                BcVariant {
                    id: p.variant_id,
                    product_id: 100 + i,
                    sku: p.sku.clone(),
                    name: p.product_title.clone(),
                    price: p.price.clone(),
                    options,
                    inventory: 100,
                }
            })
            .collect();
        let digest = sha2::Sha256::digest(spec.store_hash.as_bytes());
        BcStore {
            name: spec.name.clone(),
            hash: spec.store_hash.clone(),
            store_id: (u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
                % 10_000_000)
                .to_string(),
            token: spec.access_token.clone(),
            client_id: format!("{:x}", digest).chars().take(31).collect(),
            client_secret: spec.client_secret.clone(),
            hooks: Vec::new(),
            token_valid: true,
            read_only: false,
            restock_on_cancel: true,
            variants,
            orders: Vec::new(),
            calls: HashMap::new(),
            refused: Vec::new(),
            throttled: 0,
            rate: Quota {
                quota: spec.quota,
                window: std::time::Duration::from_millis(spec.window_ms),
                started: None,
                used: 0,
                paused_until: None,
                first_started: None,
                served: 0,
            },
            // Ids are handed out after a raise: the first order's is its first number.
            next_id: spec.first_order_number.saturating_sub(1),
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn order_mut(&mut self, id: u64) -> Option<&mut BcOrder> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    /// Takes (or, negative, gives back) `quantity` units of a variant.
    pub fn adjust_stock(&mut self, variant: u64, quantity: i64) {
        if let Some(v) = self.variants.iter_mut().find(|v| v.id == variant) {
            v.inventory -= quantity;
        }
    }

    /// A status change, as a save in the control panel or a PUT does it.
    pub fn set_status(&mut self, order: u64, status_id: u64, now: DateTime<Utc>) {
        let restock = self.restock_on_cancel;
        let Some(o) = self.order_mut(order) else {
            return;
        };
        let from = o.status_id;
        o.modified = now;
        o.status_id = status_id;
        if status_id == 5 && from != 5 && restock {
            let back: Vec<(u64, i64)> = o
                .lines
                .iter()
                .map(|l| {
                    (
                        l.variant_id,
                        (l.quantity - l.quantity_shipped.min(l.quantity)) as i64,
                    )
                })
                .collect();
            for (variant, units) in back {
                self.adjust_stock(variant, -units);
            }
        }
        if status_id == 4
            && let Some(o) = self.order_mut(order)
        {
            o.refunded_amount = format!("{:.4}", o.total());
        }
    }

    /// Adds a shipment of `items` (`(order_product_id, quantity)`), moving the status.
    pub fn add_shipment(
        &mut self,
        order: u64,
        items: &[(u64, u64)],
        tracking: (&str, &str, &str),
        now: DateTime<Utc>,
    ) -> Result<u64, String> {
        let id = self.next_id();
        let o = self
            .order_mut(order)
            .ok_or_else(|| format!("no order {order}"))?;
        let mut shipped = Vec::new();
        for (product, quantity) in items {
            let line = o
                .lines
                .iter_mut()
                .find(|l| l.id == *product)
                .ok_or_else(|| format!("order {order} has no order product {product}"))?;
            if line.quantity_shipped + quantity > line.quantity {
                return Err(format!(
                    "order product {product}: only {} left to ship",
                    line.quantity - line.quantity_shipped
                ));
            }
            line.quantity_shipped += quantity;
            shipped.push((*product, line.product_id, *quantity));
        }
        let (number, provider, carrier) = tracking;
        o.shipments.push(BcShipment {
            id,
            order_address_id: o.addresses.first().map_or(0, |(a, _)| *a),
            created: now,
            tracking_number: number.to_string(),
            shipping_provider: provider.to_string(),
            tracking_carrier: carrier.to_string(),
            tracking_link: String::new(),
            items: shipped,
        });
        let status = if o.items_shipped() >= o.items_total() {
            2
        } else {
            3
        };
        if status != o.status_id {
            o.status_id = status;
            o.modified = now;
        }
        Ok(id)
    }
}
