//! The simulated stores' state: products with SKUs and stock, orders with lines, meta, notes
//! and Shipment Tracking items, and what WooCommerce does on each status change (a system note,
//! stock taken once on `processing`/`completed`/`on-hold`, given back on `cancelled`/`pending`,
//! `date_modified` moved on every save but not by notes or tracking items — posts storage).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::sandbox::scenario::WooStoreSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct WooProduct {
    pub id: u64,
    pub parent_id: u64,
    /// `simple`, `variable` or `variation`.
    pub kind: String,
    pub name: String,
    pub sku: String,
    pub price: String,
    pub manage_stock: bool,
    pub stock: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WooLine {
    pub id: u64,
    /// 0 for a line whose SKU or id matched no product.
    pub product_id: u64,
    pub variation_id: u64,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: i64,
    pub subtotal: String,
    pub total: String,
    /// Units taken from stock for this line (`_reduced_stock`).
    pub reduced: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WooNote {
    pub id: u64,
    pub note: String,
    pub customer_note: bool,
    /// `system` unless `added_by_user`.
    pub author: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WooTracking {
    pub tracking_id: String,
    /// A predefined provider's name, or empty with `custom_provider` set.
    pub provider: String,
    pub custom_provider: String,
    pub custom_link: String,
    pub number: String,
    pub date_shipped: DateTime<Utc>,
}

impl WooTracking {
    /// The name the REST route shows: the predefined provider, else the custom one.
    pub fn display_provider(&self) -> &str {
        if self.provider.is_empty() {
            &self.custom_provider
        } else {
            &self.provider
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WooOrder {
    pub id: u64,
    pub status: String,
    pub currency: String,
    pub created_via: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub paid: Option<DateTime<Utc>>,
    pub customer_id: i64,
    pub customer_note: String,
    pub billing: Value,
    pub shipping: Value,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    /// `(id, key, value)` as stored.
    pub meta: Vec<(u64, String, Value)>,
    pub lines: Vec<WooLine>,
    pub notes: Vec<WooNote>,
    pub trackings: Vec<WooTracking>,
    /// `(id, reason, amount)` of each refund.
    pub refunds: Vec<(u64, String, String)>,
}

impl WooOrder {
    /// A meta value as the REST API shows it: scalars as strings.
    pub fn meta_text(&self, key: &str) -> Option<String> {
        self.meta
            .iter()
            .find(|(_, k, _)| k == key)
            .map(|(_, _, v)| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }
}

pub struct WooStore {
    pub name: String,
    /// The first path segment of the site's URL on the shared port.
    pub slug: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub key_valid: bool,
    pub read_only: bool,
    pub products: Vec<WooProduct>,
    pub orders: Vec<WooOrder>,
    /// Requests per endpoint name (`orders.create`…).
    pub calls: HashMap<String, u32>,
    /// Every request the contract refused, as `endpoint: why`.
    pub refused: Vec<String>,
    /// OAuth nonces already used (WooCommerce keeps them 15 minutes).
    pub nonces: Vec<String>,
    pub webhooks: Vec<super::hooks::WooWebhook>,
    next_id: u64,
}

impl WooStore {
    pub fn from_spec(spec: &WooStoreSpec) -> WooStore {
        let products: Vec<WooProduct> = spec
            .products
            .iter()
            .map(|p| WooProduct {
                id: p.variant_id,
                parent_id: 0,
                kind: "simple".into(),
                name: p.product_title.clone(),
                sku: p.sku.clone(),
                price: p.price.clone(),
                manage_stock: true,
                stock: 100,
            })
            .collect();
        let next_id = products.iter().map(|p| p.id).max().unwrap_or(0) + 1;
        WooStore {
            name: spec.name.clone(),
            slug: spec.slug.clone(),
            consumer_key: spec.consumer_key.clone(),
            consumer_secret: spec.consumer_secret.clone(),
            key_valid: true,
            read_only: false,
            products,
            orders: Vec::new(),
            calls: HashMap::new(),
            refused: Vec::new(),
            nonces: Vec::new(),
            webhooks: Vec::new(),
            // Ids are handed out after a raise: the next order's is at least its first number.
            next_id: next_id
                .max(1000)
                .max(spec.first_order_number.saturating_sub(1)),
        }
    }

    /// WordPress' post ids are shared by products, orders, notes and items: one counter.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn order_mut(&mut self, id: u64) -> Option<&mut WooOrder> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    pub fn product(&self, id: u64) -> Option<&WooProduct> {
        self.products.iter().find(|p| p.id == id)
    }

    /// `wc_get_product_id_by_sku`: the first product with the SKU.
    pub fn product_by_sku(&self, sku: &str) -> Option<&WooProduct> {
        self.products
            .iter()
            .find(|p| !sku.is_empty() && p.sku == sku)
    }

    pub fn add_note(&mut self, order: u64, note: String, customer_note: bool, now: DateTime<Utc>) {
        let id = self.next_id();
        if let Some(o) = self.order_mut(order) {
            o.notes.push(WooNote {
                id,
                note,
                customer_note,
                author: "system".into(),
                at: now,
            });
        }
    }

    /// `$order->set_status()` then save: the status note and the stock rules.
    pub fn set_status(&mut self, order: u64, status: &str, now: DateTime<Utc>) {
        let Some(index) = self.orders.iter().position(|o| o.id == order) else {
            return;
        };
        let from = self.orders[index].status.clone();
        self.orders[index].modified = now;
        if from == status {
            return;
        }
        self.orders[index].status = status.to_string();
        // `status_transition`: entering a paid status sets the payment date once.
        if matches!(status, "processing" | "completed") && self.orders[index].paid.is_none() {
            self.orders[index].paid = Some(now);
        }
        let note = format!(
            "Order status changed from {} to {}.",
            status_label(&from),
            status_label(status)
        );
        self.add_note(order, note, false, now);
        match status {
            "processing" | "completed" | "on-hold" => self.reduce_stock(index, now),
            "cancelled" | "pending" => self.restore_stock(index, now),
            "refunded" => self.refund_remaining(index, now),
            _ => {}
        }
    }

    /// `payment_complete()`: from a payable status to `processing`, paid now.
    pub fn payment_complete(&mut self, order: u64, transaction_id: &str, now: DateTime<Utc>) {
        let Some(o) = self.order_mut(order) else {
            return;
        };
        if !matches!(
            o.status.as_str(),
            "pending" | "on-hold" | "failed" | "cancelled"
        ) {
            return;
        }
        if !transaction_id.is_empty() {
            o.transaction_id = transaction_id.to_string();
        }
        o.paid = Some(now);
        self.set_status(order, "processing", now);
    }

    /// Entering `refunded` refunds what is left, with no gateway call ("Order fully refunded.").
    fn refund_remaining(&mut self, index: usize, now: DateTime<Utc>) {
        let total: f64 = self.orders[index]
            .lines
            .iter()
            .map(|l| l.total.parse::<f64>().unwrap_or(0.0))
            .sum();
        let refunded: f64 = self.orders[index]
            .refunds
            .iter()
            .map(|(_, _, amount)| amount.parse::<f64>().unwrap_or(0.0))
            .sum();
        if total - refunded <= 0.0 {
            return;
        }
        let id = self.next_id();
        let order = self.orders[index].id;
        self.orders[index].refunds.push((
            id,
            "Order fully refunded.".into(),
            format!("{:.2}", total - refunded),
        ));
        self.add_note(order, "Order status set to refunded.".into(), false, now);
    }

    fn reduce_stock(&mut self, index: usize, now: DateTime<Utc>) {
        let mut changed = Vec::new();
        let lines = self.orders[index].lines.clone();
        for (i, line) in lines.iter().enumerate() {
            let item = if line.variation_id > 0 {
                line.variation_id
            } else {
                line.product_id
            };
            if line.reduced > 0 || item == 0 {
                continue;
            }
            let Some(p) = self
                .products
                .iter_mut()
                .find(|p| p.id == item && p.manage_stock)
            else {
                continue;
            };
            let before = p.stock;
            p.stock -= line.quantity;
            changed.push(format!("{} ({}) {}→{}", p.name, p.sku, before, p.stock));
            self.orders[index].lines[i].reduced = line.quantity;
        }
        if !changed.is_empty() {
            let id = self.orders[index].id;
            self.add_note(
                id,
                format!("Stock levels reduced: {}", changed.join(", ")),
                false,
                now,
            );
        }
    }

    fn restore_stock(&mut self, index: usize, now: DateTime<Utc>) {
        let mut changed = Vec::new();
        let lines = self.orders[index].lines.clone();
        for (i, line) in lines.iter().enumerate() {
            let item = if line.variation_id > 0 {
                line.variation_id
            } else {
                line.product_id
            };
            if line.reduced <= 0 {
                continue;
            }
            let Some(p) = self
                .products
                .iter_mut()
                .find(|p| p.id == item && p.manage_stock)
            else {
                continue;
            };
            let before = p.stock;
            p.stock += line.reduced;
            changed.push(format!("{} ({}) {}→{}", p.name, p.sku, before, p.stock));
            self.orders[index].lines[i].reduced = 0;
        }
        if !changed.is_empty() {
            let id = self.orders[index].id;
            self.add_note(
                id,
                format!("Stock levels increased: {}", changed.join(", ")),
                false,
                now,
            );
        }
    }
}

pub fn status_label(status: &str) -> String {
    match status {
        "pending" => "Pending payment".into(),
        "on-hold" => "On hold".into(),
        "checkout-draft" => "Draft".into(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                .unwrap_or_default()
        }
    }
}
