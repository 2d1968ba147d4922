//! The simulated Magento stores' state, on the sandbox's own types: products with stock, orders
//! with items (ordered, invoiced, shipped, refunded, canceled quantities), status history
//! comments, invoices, shipments with tracks, and credit memos. What Magento does to them lives
//! in `ops`; how they look on the wire in `render`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::sandbox::scenario::MageStoreSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct MageProduct {
    pub id: u64,
    pub sku: String,
    pub name: String,
    pub price: f64,
    /// `simple`, `configurable`, `virtual`…
    pub type_id: String,
    /// 1 enabled, 2 disabled.
    pub status: u8,
    /// Legacy stock (`cataloginventory_stock_item.qty`).
    pub qty: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MageItem {
    pub item_id: u64,
    pub sku: String,
    pub name: String,
    /// 0 when the save named no product (Magento checks nothing).
    pub product_id: u64,
    pub product_type: String,
    pub price: f64,
    pub row_total: f64,
    pub qty_ordered: f64,
    pub qty_invoiced: f64,
    pub qty_shipped: f64,
    pub qty_refunded: f64,
    pub qty_canceled: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MageComment {
    pub entity_id: u64,
    pub comment: String,
    pub is_customer_notified: i64,
    pub is_visible_on_front: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MageOrder {
    pub entity_id: u64,
    pub increment_id: String,
    pub store_id: u64,
    pub ext_order_id: Option<String>,
    pub state: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub customer_email: String,
    pub customer_firstname: String,
    pub customer_lastname: String,
    pub currency: String,
    pub grand_total: f64,
    pub total_invoiced: f64,
    pub total_refunded: f64,
    pub payment_method: String,
    /// The addresses as saved (already checked by the address validator).
    pub billing_address: Value,
    pub shipping_address: Value,
    pub items: Vec<MageItem>,
    /// Newest last here; rendered newest first, as Magento does.
    pub comments: Vec<MageComment>,
    /// Requests that would have e-mailed the customer (`notify: true` on an invoice or credit
    /// memo, `is_customer_notified: 1` on a comment): the sandbox sends nothing and counts them.
    pub notified: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MageTrack {
    pub entity_id: u64,
    pub track_number: String,
    pub carrier_code: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MageShipment {
    pub entity_id: u64,
    pub order_id: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// (order item id, qty).
    pub items: Vec<(u64, f64)>,
    pub tracks: Vec<MageTrack>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MageInvoice {
    pub entity_id: u64,
    pub order_id: u64,
    pub created_at: DateTime<Utc>,
    pub grand_total: f64,
    pub items: Vec<(u64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MageCreditMemo {
    pub entity_id: u64,
    pub order_id: u64,
    pub created_at: DateTime<Utc>,
    pub grand_total: f64,
    pub items: Vec<(u64, f64)>,
    pub comments: Vec<String>,
    /// Made through `POST /V1/invoice/{id}/refund` (money through the gateway).
    pub online: bool,
}

#[derive(Debug)]
pub struct MageStore {
    pub name: String,
    pub slug: String,
    pub access_token: String,
    pub token_valid: bool,
    pub products: Vec<MageProduct>,
    pub orders: Vec<MageOrder>,
    pub invoices: Vec<MageInvoice>,
    pub shipments: Vec<MageShipment>,
    pub memos: Vec<MageCreditMemo>,
    next_id: u64,
    /// Authenticated requests per endpoint name.
    pub calls: HashMap<String, u32>,
    /// Every request the contract (or Magento's input reader) refused, as `endpoint: why`.
    pub refused: Vec<String>,
}

/// Store views of every simulated site: the one Magento installs.
pub const STORE_VIEWS: &[(u64, &str, &str)] = &[(1, "default", "Default Store View")];
/// Offline payment methods installed on every simulated site.
pub const PAYMENT_METHODS: &[&str] = &[
    "checkmo",
    "banktransfer",
    "cashondelivery",
    "purchaseorder",
    "free",
];

impl MageStore {
    pub fn from_spec(spec: &MageStoreSpec) -> MageStore {
        let mut store = MageStore {
            name: spec.name.clone(),
            slug: spec.slug.clone(),
            access_token: spec.access_token.clone(),
            token_valid: true,
            products: Vec::new(),
            orders: Vec::new(),
            invoices: Vec::new(),
            shipments: Vec::new(),
            memos: Vec::new(),
            next_id: 1000,
            calls: HashMap::new(),
            refused: Vec::new(),
        };
        for p in &spec.products {
            store.products.push(MageProduct {
                id: p.variant_id,
                sku: p.sku.clone(),
                name: p.product_title.clone(),
                price: p.price.parse().unwrap_or(0.0),
                type_id: "simple".into(),
                status: 1,
                qty: 100.0,
            });
        }
        store
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn order(&self, id: u64) -> Option<&MageOrder> {
        self.orders.iter().find(|o| o.entity_id == id)
    }

    pub fn order_mut(&mut self, id: u64) -> Option<&mut MageOrder> {
        self.orders.iter_mut().find(|o| o.entity_id == id)
    }

    /// Puts units back in stock (a cancel, or a credit memo's `return_to_stock_items`).
    pub fn restock(&mut self, sku: &str, qty: f64) {
        if let Some(p) = self
            .products
            .iter_mut()
            .find(|p| p.sku.eq_ignore_ascii_case(sku))
        {
            p.qty += qty;
        }
    }
}

impl MageItem {
    pub fn invoiceable(&self) -> f64 {
        (self.qty_ordered - self.qty_invoiced - self.qty_canceled).max(0.0)
    }

    pub fn refundable(&self) -> f64 {
        (self.qty_invoiced - self.qty_refunded).max(0.0)
    }

    pub fn shippable(&self) -> f64 {
        (self.qty_ordered - self.qty_shipped - self.qty_refunded - self.qty_canceled).max(0.0)
    }
}

impl MageOrder {
    /// `Order::canCancel()`: not in a final or frozen state, and something not yet invoiced.
    pub fn can_cancel(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "canceled" | "holded" | "payment_review" | "complete" | "closed"
        ) && self.items.iter().any(|i| i.invoiceable() > 0.0)
    }

    pub fn can_invoice(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "canceled" | "holded" | "payment_review" | "complete" | "closed"
        ) && self.items.iter().any(|i| i.invoiceable() > 0.0)
    }

    pub fn can_creditmemo(&self) -> bool {
        !matches!(self.state.as_str(), "canceled" | "holded" | "closed")
            && self.total_invoiced - self.total_refunded > 0.0001
    }

    /// The state after a document: `closed` once everything invoiced is refunded and nothing
    /// is left to ship or invoice; `complete` once everything left has shipped; else
    /// `processing` when something is invoiced or shipped.
    pub fn settle_state(&mut self) {
        if matches!(self.state.as_str(), "canceled" | "holded") {
            return;
        }
        let live: f64 = self
            .items
            .iter()
            .map(|i| i.qty_ordered - i.qty_canceled - i.qty_refunded)
            .sum();
        let unshipped: f64 = self.items.iter().map(MageItem::shippable).sum();
        let uninvoiced: f64 = self.items.iter().map(MageItem::invoiceable).sum();
        let state = if live <= 0.0 && self.total_refunded > 0.0 {
            "closed"
        } else if unshipped <= 0.0 && uninvoiced <= 0.0 {
            "complete"
        } else if self.total_invoiced > 0.0 {
            // Shipping before invoicing keeps `new` (magento2.md).
            "processing"
        } else {
            "new"
        };
        self.state = state.to_string();
        self.status = if state == "new" {
            "pending".into()
        } else {
            state.into()
        };
    }
}
