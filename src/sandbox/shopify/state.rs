//! The simulated stores' data: catalog (variants by SKU, including the duplicated one), orders
//! with their fulfillments, cancels and refunds, and the bookkeeping tests assert on (calls per
//! operation, throttled answers, every cancel request and which refund argument it used).
//!
//! Invariants: order ids are `gid://shopify/Order/N`, unique across stores, names `#1001…` per
//! store; `updatedAt` moves on every change; an order's full JSON (`Order::to_json`) is built
//! from the documented `Order` shape only, and the GraphQL layer projects it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::cost::{Bucket, BucketLimits};
use crate::sandbox::scenario::StoreSpec;

/// How `orderCancel` was told to treat the money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundArgument {
    /// `refundMethod` (2025-07+).
    RefundMethod {
        original_payment_methods_refund: Option<bool>,
        store_credit: bool,
    },
    /// The boolean `refund` (required before 2025-07, deprecated after).
    Refund(bool),
    /// Neither: the sandbox takes this as a refund to the original payment methods, so a
    /// client that forgets to opt out of refunding is caught.
    Omitted,
}

impl RefundArgument {
    pub fn refunds(&self) -> bool {
        match self {
            RefundArgument::RefundMethod {
                original_payment_methods_refund,
                store_credit,
            } => *original_payment_methods_refund == Some(true) || *store_credit,
            RefundArgument::Refund(refund) => *refund,
            RefundArgument::Omitted => true,
        }
    }
}

/// One `orderCancel` the store accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    pub api_version: String,
    pub reason: String,
    pub restock: bool,
    pub notify_customer: bool,
    pub staff_note: Option<String>,
    pub refund: RefundArgument,
}

/// Money sent back to the buyer by the store. orderdeck must never cause one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub amount: String,
    /// What asked for it (`refund: true`, `refundMethod`, an omitted refund argument).
    pub cause: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxTracking {
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxFulfillment {
    pub id: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub tracking: Vec<SandboxTracking>,
    /// The order's lines this parcel holds (`fulfillmentLineItems`).
    pub lines: Vec<FulfilledUnits>,
}

/// Units of one order line in one fulfillment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilledUnits {
    pub line_id: String,
    pub quantity: u32,
}

/// A committed order edit, as Shopify records it on the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedEdit {
    pub staff_note: Option<String>,
    pub notify_customer: bool,
    pub removed: Vec<RemovedUnits>,
}

/// Units an edit took off a line, and whether they went back to stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedUnits {
    pub sku: String,
    pub quantity: u32,
    pub restocked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLine {
    pub id: String,
    pub variant_id: String,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    /// `currentQuantity`: the quantity less what order edits removed.
    pub current_quantity: u32,
    pub price: String,
}

/// An order as the simulated store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxOrder {
    pub id: String,
    pub number: u64,
    pub name: String,
    pub source_identifier: Option<String>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub currency: String,
    /// `OrderCreateFinancialStatus` as sent (`PAID`), or `PENDING`.
    pub financial_status: String,
    pub inventory_behaviour: String,
    pub send_receipt: bool,
    pub send_fulfillment_receipt: bool,
    pub lines: Vec<SandboxLine>,
    /// `MailingAddressInput` as received.
    pub shipping_address: Value,
    pub fulfillments: Vec<SandboxFulfillment>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub staff_note: Option<String>,
    pub restocked: bool,
    pub cancel_requests: Vec<CancelRequest>,
    pub refunds: Vec<RefundRecord>,
    pub edits: Vec<CommittedEdit>,
    pub(crate) pending_cancel: Option<PendingCancel>,
}

/// An accepted cancel whose job has not run yet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PendingCancel {
    pub job_id: String,
    pub due: Instant,
    pub due_at: DateTime<Utc>,
    pub request: CancelRequest,
}

pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl SandboxOrder {
    pub fn total(&self) -> String {
        let cents: i64 = self
            .lines
            .iter()
            .map(|l| cents(&l.price) * i64::from(l.quantity))
            .sum();
        format!("{}.{:02}", cents / 100, cents % 100)
    }

    fn display_financial_status(&self) -> &str {
        if self.refunds.is_empty() {
            &self.financial_status
        } else {
            "REFUNDED"
        }
    }

    /// Units of a line in successful fulfillments.
    pub fn fulfilled(&self, line_id: &str) -> u32 {
        self.fulfillments
            .iter()
            .filter(|f| f.status == "SUCCESS")
            .flat_map(|f| &f.lines)
            .filter(|u| u.line_id == line_id)
            .map(|u| u.quantity)
            .sum()
    }

    /// Units of a line still to ship (`unfulfilledQuantity`).
    pub fn unfulfilled(&self, line: &SandboxLine) -> u32 {
        line.current_quantity
            .saturating_sub(self.fulfilled(&line.id))
    }

    fn display_fulfillment_status(&self) -> &'static str {
        let shipped = self.fulfillments.iter().any(|f| f.status == "SUCCESS");
        let left = self.lines.iter().any(|l| self.unfulfilled(l) > 0);
        match (shipped, left) {
            (false, _) => "UNFULFILLED",
            (true, true) => "PARTIALLY_FULFILLED",
            (true, false) => "FULFILLED",
        }
    }

    /// The full `Order` object; requests see the fields they select.
    pub fn to_json(&self) -> Value {
        let money = |amount: &str| {
            json!({ "shopMoney": { "amount": amount, "currencyCode": self.currency },
                    "presentmentMoney": { "amount": amount, "currencyCode": self.currency } })
        };
        let legacy_id = self.id.rsplit('/').next().unwrap_or_default();
        let mut address = self.shipping_address.clone();
        if let Value::Object(fields) = &mut address {
            if let Some(code) = fields.remove("countryCode") {
                fields.insert("countryCodeV2".into(), code);
            }
            fields.insert(
                "id".into(),
                json!(format!("gid://shopify/MailingAddress/{legacy_id}")),
            );
        }
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({ "id": l.id, "sku": l.sku, "title": l.title, "name": l.title, "quantity": l.quantity,
                        "currentQuantity": l.current_quantity,
                        "unfulfilledQuantity": self.unfulfilled(l),
                        "fulfillableQuantity": self.unfulfilled(l),
                        "originalUnitPriceSet": money(&l.price),
                        "variant": { "id": l.variant_id, "sku": l.sku, "title": l.title } })
            })
            .collect();
        json!({
            "id": self.id, "legacyResourceId": legacy_id, "name": self.name, "number": self.number,
            "sourceIdentifier": self.source_identifier, "tags": self.tags, "note": self.note,
            "createdAt": time(self.created_at), "processedAt": time(self.created_at),
            "updatedAt": time(self.updated_at),
            "cancelledAt": self.cancelled_at.map(time), "cancelReason": self.cancel_reason,
            "closed": self.closed_at.is_some(), "closedAt": self.closed_at.map(time),
            "currencyCode": self.currency, "presentmentCurrencyCode": self.currency,
            "displayFinancialStatus": self.display_financial_status(),
            "displayFulfillmentStatus": self.display_fulfillment_status(),
            "currentSubtotalLineItemsQuantity": self.lines.iter().map(|l| l.current_quantity).sum::<u32>(),
            "test": false, "confirmed": true,
            "totalPriceSet": money(&self.total()),
            "shippingAddress": if address.is_object() { address } else { Value::Null },
            "lineItems": connection(lines),
            "fulfillments": self.fulfillments.iter().map(|f| json!({
                "id": f.id, "name": format!("{}-F", self.name), "status": f.status,
                "createdAt": time(f.created_at), "updatedAt": time(f.created_at),
                "trackingInfo": f.tracking.iter().map(|t| json!({
                    "company": t.company, "number": t.number, "url": t.url })).collect::<Vec<_>>(),
                "fulfillmentLineItems": connection(f.lines.iter().map(|u| {
                    let sku = self.lines.iter().find(|l| l.id == u.line_id).map(|l| l.sku.clone());
                    json!({ "id": format!("{}-{}", f.id, u.line_id.rsplit('/').next().unwrap_or_default()),
                            "quantity": u.quantity, "lineItem": { "id": u.line_id, "sku": sku } })
                }).collect()),
            })).collect::<Vec<_>>(),
            "refunds": self.refunds.iter().map(|r| json!({
                "id": r.id, "legacyResourceId": r.id.rsplit('/').next().unwrap_or_default(),
                "createdAt": time(r.created_at), "note": r.cause,
                "totalRefundedSet": money(&r.amount) })).collect::<Vec<_>>(),
        })
    }
}

/// A connection object holding every item; the GraphQL layer slices it by `first`.
pub fn connection(items: Vec<Value>) -> Value {
    json!({
        "edges": items.iter().enumerate().map(|(i, node)| json!({ "cursor": i.to_string(), "node": node })).collect::<Vec<_>>(),
        "nodes": items,
        "pageInfo": { "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null },
    })
}

fn cents(price: &str) -> i64 {
    let (whole, fraction) = price.split_once('.').unwrap_or((price, "0"));
    let fraction: String = fraction.chars().chain("00".chars()).take(2).collect();
    whole.parse::<i64>().unwrap_or(0) * 100 + fraction.parse::<i64>().unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub id: u64,
    pub sku: String,
    pub title: String,
    pub price: String,
    pub inventory: i64,
}

impl Variant {
    pub fn gid(&self) -> String {
        format!("gid://shopify/ProductVariant/{}", self.id)
    }

    pub fn to_json(&self) -> Value {
        let product = self.title.split(" (").next().unwrap_or(&self.title);
        json!({
            "id": self.gid(), "legacyResourceId": self.id.to_string(), "sku": self.sku,
            "title": self.title, "displayName": self.title, "price": self.price,
            "inventoryQuantity": self.inventory,
            "product": { "id": format!("gid://shopify/Product/{}", self.id / 10), "title": product },
        })
    }
}

/// Stock every variant starts with.
const INITIAL_STOCK: i64 = 100;

/// One simulated store.
#[derive(Debug)]
pub struct Store {
    pub name: String,
    pub domain: String,
    pub token: String,
    pub token_valid: bool,
    pub variants: Vec<Variant>,
    pub orders: Vec<SandboxOrder>,
    pub bucket: Bucket,
    /// Requests per root field (`orderCreate`, `orders`…), counted once per request.
    pub calls: BTreeMap<String, u32>,
    pub throttled: u32,
    /// Query cost points charged (after refunds), for measuring the achieved rate.
    pub points_charged: f64,
    pub(crate) recent_creates: VecDeque<Instant>,
    pub(crate) next_number: u64,
    /// Signs webhook deliveries (the app's client secret).
    pub webhook_secret: String,
    pub subscriptions: Vec<super::hooks::HookSubscription>,
}

impl Store {
    pub fn from_spec(spec: &StoreSpec, limits: BucketLimits) -> Store {
        Store {
            name: spec.name.clone(),
            domain: spec.shop_domain.clone(),
            token: spec.access_token.clone(),
            token_valid: true,
            variants: spec
                .variants
                .iter()
                .map(|v| Variant {
                    id: v.variant_id,
                    sku: v.sku.clone(),
                    title: v.product_title.clone(),
                    price: v.price.clone(),
                    inventory: INITIAL_STOCK,
                })
                .collect(),
            orders: Vec::new(),
            bucket: Bucket::full(limits),
            calls: BTreeMap::new(),
            throttled: 0,
            points_charged: 0.0,
            recent_creates: VecDeque::new(),
            next_number: spec.first_order_number,
            webhook_secret: spec.webhook_secret.clone(),
            subscriptions: Vec::new(),
        }
    }

    pub fn order_index(&self, id: &str) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }
}

/// Behaviour switches of the whole sandbox.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// How long an accepted cancel takes to apply (Shopify runs it as a job).
    pub cancel_delay: Duration,
    /// Development stores accept five `orderCreate` a minute.
    pub dev_store_create_limit: bool,
    /// Every `orderCreate` is applied, then answered HTTP 502 (the answer is lost).
    pub order_create_ambiguous: bool,
}

/// Everything the sandbox knows, behind one lock.
#[derive(Debug)]
pub struct World {
    pub stores: Vec<Store>,
    pub behaviour: Behaviour,
    pub(crate) next_order_id: u64,
    pub(crate) next_object_id: u64,
    /// Cancel jobs: job id → (store, order id).
    pub(crate) jobs: HashMap<String, (usize, String)>,
    /// Order edits begun and not committed, by calculated order id.
    pub(crate) edit_sessions: HashMap<String, super::edits::EditSession>,
}

impl World {
    pub fn new(stores: Vec<Store>, behaviour: Behaviour) -> World {
        World {
            stores,
            behaviour,
            next_order_id: 6_100_000_001,
            next_object_id: 7_100_000_001,
            jobs: HashMap::new(),
            edit_sessions: HashMap::new(),
        }
    }

    pub fn store_by_domain(&self, domain: &str) -> Option<usize> {
        self.stores.iter().position(|s| s.domain == domain)
    }

    pub fn store_by_name(&self, name: &str) -> Option<usize> {
        self.stores
            .iter()
            .position(|s| s.name == name || s.domain == name)
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_object_id += 1;
        self.next_object_id
    }

    /// `job(id)`: done once the cancel it runs has applied.
    pub fn job_json(&self, id: &str) -> Option<Value> {
        let (store, order) = self.jobs.get(id)?;
        let done = self.stores[*store]
            .orders
            .iter()
            .find(|o| &o.id == order)
            .is_none_or(|o| o.pending_cancel.as_ref().is_none_or(|p| p.job_id != id));
        Some(json!({ "id": id, "done": done }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_sum_in_cents() {
        assert_eq!(cents("19.99"), 1999);
        assert_eq!(cents("10"), 1000);
        assert_eq!(cents("0.5"), 50);
    }

    #[test]
    fn refund_arguments_say_whether_money_moves() {
        let none = RefundArgument::RefundMethod {
            original_payment_methods_refund: Some(false),
            store_credit: false,
        };
        assert!(!none.refunds());
        assert!(!RefundArgument::Refund(false).refunds());
        assert!(RefundArgument::Refund(true).refunds());
        assert!(RefundArgument::Omitted.refunds());
    }
}
