//! What changes a simulated store: `orderCreate` and `orderCancel` as the Admin API performs
//! them (user errors included), the cancel job that applies later, and the control actions a
//! test or the demo plays — a warehouse fulfilling with tracking, staff cancelling in the admin.
//!
//! Invariants: a refused mutation changes nothing; an accepted cancel applies only when its job
//! runs (`World::settle`), so a read right after `orderCancel` may still see the order open;
//! every refund the store makes is recorded with its cause.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Release;
use super::state::{
    CancelRequest, CommittedEdit, FulfilledUnits, PendingCancel, RefundArgument, RefundRecord,
    RemovedUnits, SandboxFulfillment, SandboxLine, SandboxOrder, SandboxTracking, World,
};

/// Shopify's cap on `staffNote`.
const STAFF_NOTE_MAX: usize = 255;
const DEV_STORE_CREATES_PER_MINUTE: usize = 5;

fn user_error(field: &[&str], message: &str, code: Option<&str>) -> Value {
    json!({ "field": if field.is_empty() { Value::Null } else { json!(field) }, "message": message, "code": code })
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

impl World {
    /// Applies every cancel whose job is due.
    pub fn settle(&mut self, now: Instant) {
        for store in &mut self.stores {
            for order in &mut store.orders {
                let Some(pending) = order.pending_cancel.take_if(|p| p.due <= now) else {
                    continue;
                };
                let request = pending.request;
                order.cancelled_at = Some(pending.due_at);
                order.closed_at = Some(pending.due_at);
                order.updated_at = pending.due_at;
                order.cancel_reason = Some(request.reason.clone());
                order.staff_note = request.staff_note.clone();
                // One flag for the whole order: shipped units go back to stock too.
                if request.restock {
                    order.restocked = true;
                    for line in &order.lines {
                        if let Some(v) = store
                            .variants
                            .iter_mut()
                            .find(|v| v.gid() == line.variant_id)
                        {
                            v.inventory += i64::from(line.current_quantity);
                        }
                    }
                }
                if request.refund.refunds() {
                    let cause = match &request.refund {
                        RefundArgument::Refund(_) => "orderCancel(refund: true)",
                        RefundArgument::RefundMethod { .. } => "orderCancel(refundMethod: …)",
                        RefundArgument::Omitted => "orderCancel without refund or refundMethod",
                    };
                    let id = format!(
                        "gid://shopify/Refund/{}",
                        order.number * 10 + order.refunds.len() as u64
                    );
                    order.refunds.push(RefundRecord {
                        id,
                        created_at: pending.due_at,
                        amount: order.total(),
                        cause: cause.into(),
                    });
                }
                order.cancel_requests.push(request);
            }
        }
    }

    /// `orderCreate(order:, options:)` with coerced arguments; answers the payload.
    pub fn order_create(
        &mut self,
        store: usize,
        args: &Value,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> Value {
        let refuse = |errors: Vec<Value>| json!({ "order": null, "userErrors": errors });
        let input = args.get("order").cloned().unwrap_or(Value::Null);
        let options = args.get("options").cloned().unwrap_or(Value::Null);
        let dev_limit = self.behaviour.dev_store_create_limit;
        let s = &mut self.stores[store];
        while s
            .recent_creates
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            s.recent_creates.pop_front();
        }
        if dev_limit && s.recent_creates.len() >= DEV_STORE_CREATES_PER_MINUTE {
            return refuse(vec![user_error(
                &[],
                "Too many attempts. Please try again later.",
                None,
            )]);
        }
        let currency = text(&input, "currency").unwrap_or_else(|| "USD".into());
        let behaviour = text(&options, "inventoryBehaviour").unwrap_or_else(|| "BYPASS".into());
        let items = input
            .get("lineItems")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            return refuse(vec![user_error(
                &["order", "lineItems"],
                "Line items must have at least one item.",
                Some("INVALID"),
            )]);
        }
        let mut errors = Vec::new();
        let mut lines = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = i.to_string();
            let quantity = item.get("quantity").and_then(Value::as_i64).unwrap_or(0);
            if quantity < 1 {
                errors.push(user_error(
                    &["order", "lineItems", &at, "quantity"],
                    "Quantity must be greater than 0.",
                    Some("INVALID"),
                ));
                continue;
            }
            let Some(variant_id) = text(item, "variantId") else {
                errors.push(user_error(
                    &["order", "lineItems", &at, "variantId"],
                    "The sandbox only simulates line items with a variantId.",
                    Some("INVALID"),
                ));
                continue;
            };
            let Some(variant) = s.variants.iter().find(|v| v.gid() == variant_id) else {
                errors.push(user_error(
                    &["order", "lineItems", &at, "variantId"],
                    "Variant not found.",
                    Some("INVALID"),
                ));
                continue;
            };
            let shop_money = item.get("priceSet").and_then(|p| p.get("shopMoney"));
            if let Some(code) = shop_money
                .and_then(|m| text(m, "currencyCode"))
                .filter(|c| c != &currency)
            {
                errors.push(user_error(
                    &["order", "lineItems", &at, "priceSet"],
                    &format!("Price currency {code} does not match the order currency {currency}."),
                    Some("INVALID"),
                ));
                continue;
            }
            if behaviour == "DECREMENT_OBEYING_POLICY" && variant.inventory < quantity {
                errors.push(user_error(
                    &["order", "lineItems", &at],
                    "Unable to reserve inventory for this line item.",
                    Some("INVENTORY_CLAIM_FAILED"),
                ));
                continue;
            }
            lines.push(SandboxLine {
                id: String::new(),
                variant_id,
                sku: variant.sku.clone(),
                title: variant.title.clone(),
                quantity: quantity as u32,
                current_quantity: quantity as u32,
                price: shop_money
                    .and_then(|m| text(m, "amount"))
                    .unwrap_or_else(|| variant.price.clone()),
            });
        }
        if !errors.is_empty() {
            return refuse(errors);
        }
        for line in &mut lines {
            line.id = format!("gid://shopify/LineItem/{}", self.next_object_id + 1);
            self.next_object_id += 1;
        }
        let s = &mut self.stores[store];
        if behaviour != "BYPASS" {
            for line in &lines {
                if let Some(v) = s.variants.iter_mut().find(|v| v.gid() == line.variant_id) {
                    v.inventory -= i64::from(line.quantity);
                }
            }
        }
        s.recent_creates.push_back(now);
        let number = s.next_number;
        s.next_number += 1;
        self.next_order_id += 1;
        let order = SandboxOrder {
            id: format!("gid://shopify/Order/{}", self.next_order_id),
            number: number - 1000,
            name: format!("#{number}"),
            source_identifier: text(&input, "sourceIdentifier"),
            tags: input
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            note: text(&input, "note"),
            currency,
            financial_status: text(&input, "financialStatus").unwrap_or_else(|| "PENDING".into()),
            inventory_behaviour: behaviour,
            send_receipt: options
                .get("sendReceipt")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            send_fulfillment_receipt: options
                .get("sendFulfillmentReceipt")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            lines,
            shipping_address: input.get("shippingAddress").cloned().unwrap_or(Value::Null),
            fulfillments: Vec::new(),
            created_at: wall,
            updated_at: wall,
            closed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            staff_note: None,
            restocked: false,
            cancel_requests: Vec::new(),
            refunds: Vec::new(),
            edits: Vec::new(),
            pending_cancel: None,
        };
        let json = order.to_json();
        self.stores[store].orders.push(order);
        json!({ "order": json, "userErrors": [] })
    }

    /// `orderUpdate`: the fields of `OrderInput` the sandbox keeps (shipping address, note,
    /// tags) overwrite the order's, as Shopify documents; answers the payload.
    pub fn order_update(&mut self, store: usize, args: &Value, wall: DateTime<Utc>) -> Value {
        let input = args.get("input").cloned().unwrap_or(Value::Null);
        let order_id = text(&input, "id").unwrap_or_default();
        let Some(index) = self.stores[store].order_index(&order_id) else {
            let errors = vec![user_error(&["id"], "Order does not exist", None)];
            return json!({ "order": null, "userErrors": errors });
        };
        let order = &mut self.stores[store].orders[index];
        if let Some(address) = input.get("shippingAddress").filter(|a| !a.is_null()) {
            order.shipping_address = address.clone();
        }
        if input.get("note").is_some() {
            order.note = text(&input, "note");
        }
        if let Some(tags) = input.get("tags").and_then(Value::as_array) {
            order.tags = tags
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect();
        }
        order.updated_at = wall;
        json!({ "order": order.to_json(), "userErrors": [] })
    }

    /// `orderCancel` with coerced arguments; answers the payload (a job, or user errors).
    pub fn order_cancel(
        &mut self,
        store: usize,
        args: &Value,
        release: Release,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> Value {
        let refuse = |field: &[&str], message: &str, code: &str| {
            let errors = vec![user_error(field, message, Some(code))];
            json!({ "job": null, "orderCancelUserErrors": errors, "userErrors": errors })
        };
        let order_id = text(args, "orderId").unwrap_or_default();
        let Some(index) = self.stores[store].order_index(&order_id) else {
            return refuse(&["orderId"], "Order does not exist", "NOT_FOUND");
        };
        let staff_note = text(args, "staffNote");
        if staff_note
            .as_ref()
            .is_some_and(|n| n.chars().count() > STAFF_NOTE_MAX)
        {
            return refuse(
                &["staffNote"],
                "Staff note is too long (maximum is 255 characters)",
                "INVALID",
            );
        }
        let refund = match (
            args.get("refund").filter(|v| !v.is_null()),
            args.get("refundMethod").filter(|v| !v.is_null()),
        ) {
            (Some(_), Some(_)) if release.has_cancel_refund_method() => {
                return refuse(
                    &["refund"],
                    "Refund and refundMethod cannot both be present.",
                    "INVALID",
                );
            }
            (_, Some(method)) => RefundArgument::RefundMethod {
                original_payment_methods_refund: method
                    .get("originalPaymentMethodsRefund")
                    .and_then(Value::as_bool),
                store_credit: method
                    .get("storeCreditRefund")
                    .is_some_and(|c| !c.is_null()),
            },
            (Some(refund), None) => RefundArgument::Refund(refund.as_bool().unwrap_or(false)),
            (None, None) => RefundArgument::Omitted,
        };
        let order = &self.stores[store].orders[index];
        if order.cancelled_at.is_some() || order.pending_cancel.is_some() {
            return refuse(
                &["orderId"],
                "Cannot cancel an order that has already been canceled",
                "INVALID",
            );
        }
        let job_id = format!("gid://shopify/Job/{}", uuid::Uuid::new_v4());
        let delay = self.behaviour.cancel_delay;
        let request = CancelRequest {
            api_version: release.to_string(),
            reason: text(args, "reason").unwrap_or_else(|| "OTHER".into()),
            restock: args
                .get("restock")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            notify_customer: args
                .get("notifyCustomer")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            staff_note,
            refund,
        };
        self.stores[store].orders[index].pending_cancel = Some(PendingCancel {
            job_id: job_id.clone(),
            due: now + delay,
            due_at: wall + chrono::Duration::from_std(delay).unwrap_or_default(),
            request,
        });
        self.jobs.insert(job_id.clone(), (store, order_id));
        json!({ "job": { "id": job_id, "done": false }, "orderCancelUserErrors": [], "userErrors": [] })
    }

    /// A warehouse ships units of the order in one parcel: `units` as (SKU, quantity), or
    /// `None` for everything not shipped yet. Answers the fulfillment id.
    pub fn fulfil(
        &mut self,
        store: usize,
        order_id: &str,
        units: Option<&[(&str, u32)]>,
        tracking: SandboxTracking,
        wall: DateTime<Utc>,
    ) -> Result<String, String> {
        let id = format!("gid://shopify/Fulfillment/{}", self.next_id());
        let s = &mut self.stores[store];
        let index = s
            .order_index(order_id)
            .ok_or_else(|| format!("no order {order_id} in {}", s.name))?;
        let order = &mut s.orders[index];
        if order.cancelled_at.is_some() || order.pending_cancel.is_some() {
            return Err(format!("order {order_id} is cancelled"));
        }
        let mut lines = Vec::new();
        for line in &order.lines {
            let left = order.unfulfilled(line);
            let wanted = match units {
                None => left,
                Some(units) => units
                    .iter()
                    .filter(|(sku, _)| *sku == line.sku)
                    .map(|(_, n)| *n)
                    .sum(),
            };
            if wanted > left {
                return Err(format!(
                    "order {order_id} has {left} unshipped unit(s) of {}, not {wanted}",
                    line.sku
                ));
            }
            if wanted > 0 {
                lines.push(FulfilledUnits {
                    line_id: line.id.clone(),
                    quantity: wanted,
                });
            }
        }
        if lines.is_empty() {
            return Err(format!("order {order_id} has nothing left to ship"));
        }
        order.fulfillments.push(SandboxFulfillment {
            id: id.clone(),
            status: "SUCCESS".into(),
            created_at: wall,
            tracking: vec![tracking],
            lines,
        });
        order.updated_at = wall;
        Ok(id)
    }

    /// The warehouse corrects the tracking of the order's latest fulfillment (Shopify's
    /// `fulfillmentTrackingInfoUpdate`, as a shipping app calls it).
    pub fn update_tracking(
        &mut self,
        store: usize,
        order_id: &str,
        tracking: SandboxTracking,
        wall: DateTime<Utc>,
    ) -> Result<(), String> {
        let s = &mut self.stores[store];
        let index = s
            .order_index(order_id)
            .ok_or_else(|| format!("no order {order_id} in {}", s.name))?;
        let order = &mut s.orders[index];
        let fulfillment = order
            .fulfillments
            .iter_mut()
            .rev()
            .find(|f| f.status == "SUCCESS")
            .ok_or_else(|| format!("order {order_id} has no fulfillment to correct"))?;
        fulfillment.tracking = vec![tracking];
        order.updated_at = wall;
        Ok(())
    }

    /// Staff cancel the order in the Shopify admin (applies at once, never refunds).
    pub fn cancel_in_admin(
        &mut self,
        store: usize,
        order_id: &str,
        reason: &str,
        wall: DateTime<Utc>,
    ) -> Result<(), String> {
        let s = &mut self.stores[store];
        let index = s
            .order_index(order_id)
            .ok_or_else(|| format!("no order {order_id} in {}", s.name))?;
        let order = &mut s.orders[index];
        if order.cancelled_at.is_some() {
            return Err(format!("order {order_id} is already cancelled"));
        }
        order.pending_cancel = None;
        order.cancelled_at = Some(wall);
        order.closed_at = Some(wall);
        order.cancel_reason = Some(reason.to_string());
        order.updated_at = wall;
        Ok(())
    }

    /// Staff take `quantity` unshipped units of `sku` off the order in the Shopify admin (an
    /// order edit), restocking them; the order goes on.
    pub fn remove_in_admin(
        &mut self,
        store: usize,
        order_id: &str,
        sku: &str,
        quantity: u32,
        wall: DateTime<Utc>,
    ) -> Result<(), String> {
        let s = &mut self.stores[store];
        let index = s
            .order_index(order_id)
            .ok_or_else(|| format!("no order {order_id} in {}", s.name))?;
        let order = &s.orders[index];
        let line = order
            .lines
            .iter()
            .find(|l| l.sku == sku)
            .ok_or_else(|| format!("order {order_id} has no line of {sku}"))?;
        if order.unfulfilled(line) < quantity {
            return Err(format!(
                "only {} unshipped unit(s) of {sku}",
                order.unfulfilled(line)
            ));
        }
        let (line_id, variant) = (line.id.clone(), line.variant_id.clone());
        let order = &mut s.orders[index];
        if let Some(line) = order.lines.iter_mut().find(|l| l.id == line_id) {
            line.current_quantity -= quantity;
        }
        order.edits.push(CommittedEdit {
            staff_note: Some("removed in the admin".into()),
            notify_customer: false,
            removed: vec![RemovedUnits {
                sku: sku.to_string(),
                quantity,
                restocked: true,
            }],
        });
        order.updated_at = wall;
        if let Some(v) = s.variants.iter_mut().find(|v| v.gid() == variant) {
            v.inventory += i64::from(quantity);
        }
        Ok(())
    }
}
