//! Order edits as the Admin API performs them: `orderEditBegin` opens a session on a
//! calculated copy of the order, `orderEditSetQuantity` stages a new quantity for one of its
//! lines, `orderEditCommit` applies what was staged. Shopify's rules that matter to a client:
//! only unfulfilled units can be edited (a line never drops below what shipped), calculated
//! line ids are not the order's line ids, nothing changes until the commit, and a session is
//! committed once.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::state::{CommittedEdit, RemovedUnits, SandboxOrder, World, connection};

/// An edit begun and not committed yet.
#[derive(Debug, Clone)]
pub(crate) struct EditSession {
    store: usize,
    order_id: String,
    /// Staged quantities by the order's line id, with whether removed units are restocked.
    staged: Vec<(String, u32, bool)>,
}

fn error(field: &str, message: &str) -> Value {
    json!([{ "field": [field], "message": message }])
}

/// The calculated line standing for an order line: same number, its own type.
fn calculated_id(line_id: &str) -> String {
    let number = line_id.rsplit('/').next().unwrap_or_default();
    format!("gid://shopify/CalculatedLineItem/{number}")
}

fn calculated_order(id: &str, order: &SandboxOrder, session: &EditSession) -> Value {
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            let shipped = order.fulfilled(&line.id);
            let editable_before = order.unfulfilled(line);
            let staged = session.staged.iter().find(|(l, _, _)| *l == line.id);
            let quantity = staged.map_or(line.current_quantity, |(_, q, _)| *q);
            json!({
                "id": calculated_id(&line.id), "sku": line.sku, "title": line.title,
                "quantity": quantity,
                "editableQuantity": quantity.saturating_sub(shipped),
                "editableQuantityBeforeChanges": editable_before,
                "restockable": true,
                "restocking": staged.is_some_and(|(_, _, restock)| *restock),
            })
        })
        .collect();
    json!({ "id": id, "committed": false, "lineItems": connection(lines),
            "originalOrder": order.to_json() })
}

impl World {
    /// `orderEditBegin(id:)`.
    pub fn order_edit_begin(&mut self, store: usize, args: &Value) -> Value {
        let refuse = |errors: Value| json!({ "calculatedOrder": null, "userErrors": errors });
        let order_id = args.get("id").and_then(Value::as_str).unwrap_or_default();
        let Some(index) = self.stores[store].order_index(order_id) else {
            return refuse(error("id", "The order does not exist."));
        };
        let id = format!("gid://shopify/CalculatedOrder/{}", self.next_id());
        let order = &self.stores[store].orders[index];
        if order.cancelled_at.is_some() || order.pending_cancel.is_some() {
            return refuse(error("id", "The order is canceled and can't be edited."));
        }
        let session = EditSession {
            store,
            order_id: order_id.to_string(),
            staged: Vec::new(),
        };
        let answer = calculated_order(&id, order, &session);
        self.edit_sessions.insert(id, session);
        json!({ "calculatedOrder": answer, "userErrors": [] })
    }

    /// `orderEditSetQuantity(id:, lineItemId:, quantity:, restock:)`.
    pub fn order_edit_set_quantity(&mut self, store: usize, args: &Value) -> Value {
        let refuse = |errors: Value| json!({ "calculatedOrder": null, "calculatedLineItem": null, "userErrors": errors });
        let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
        let line = args
            .get("lineItemId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let quantity = args.get("quantity").and_then(Value::as_i64).unwrap_or(-1);
        let restock = args
            .get("restock")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // Ids are per shop: another store's session does not exist here.
        let Some(session) = self
            .edit_sessions
            .get(id)
            .filter(|e| e.store == store)
            .cloned()
        else {
            return refuse(error("id", "The calculated order does not exist."));
        };
        let s = &self.stores[session.store];
        let Some(order) = s.orders.iter().find(|o| o.id == session.order_id) else {
            return refuse(error("id", "The calculated order does not exist."));
        };
        let Some(target) = order.lines.iter().find(|l| calculated_id(&l.id) == line) else {
            return refuse(error(
                "lineItemId",
                "The line item does not exist on the calculated order.",
            ));
        };
        let Ok(quantity) = u32::try_from(quantity) else {
            return refuse(error(
                "quantity",
                "Quantity must be greater than or equal to 0.",
            ));
        };
        let shipped = order.fulfilled(&target.id);
        if quantity < shipped {
            return refuse(error(
                "quantity",
                &format!("Quantity can't be less than the fulfilled quantity ({shipped})."),
            ));
        }
        let target_id = target.id.clone();
        let mut session = session;
        session.staged.retain(|(l, _, _)| *l != target_id);
        session.staged.push((target_id.clone(), quantity, restock));
        let calculated = calculated_order(id, order, &session);
        let line_json = calculated["lineItems"]["nodes"]
            .as_array()
            .and_then(|nodes| nodes.iter().find(|n| n["id"] == line))
            .cloned()
            .unwrap_or(Value::Null);
        self.edit_sessions.insert(id.to_string(), session);
        json!({ "calculatedOrder": calculated, "calculatedLineItem": line_json, "userErrors": [] })
    }

    /// `orderEditCommit(id:, notifyCustomer:, staffNote:)`: applies what was staged.
    pub fn order_edit_commit(&mut self, store: usize, args: &Value, wall: DateTime<Utc>) -> Value {
        let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
        let mine = self.edit_sessions.get(id).is_some_and(|e| e.store == store);
        let Some(session) = self.edit_sessions.remove(id).filter(|_| mine) else {
            let errors = error("id", "The calculated order does not exist or is committed.");
            return json!({ "order": null, "userErrors": errors });
        };
        let s = &mut self.stores[session.store];
        let Some(index) = s.order_index(&session.order_id) else {
            let errors = error("id", "The order does not exist.");
            return json!({ "order": null, "userErrors": errors });
        };
        let mut removed = Vec::new();
        for (line_id, quantity, restock) in &session.staged {
            let order = &mut s.orders[index];
            let Some(line) = order.lines.iter_mut().find(|l| l.id == *line_id) else {
                continue;
            };
            let taken = line.current_quantity.saturating_sub(*quantity);
            line.current_quantity = *quantity;
            if taken == 0 {
                continue;
            }
            let (sku, variant) = (line.sku.clone(), line.variant_id.clone());
            if *restock && let Some(v) = s.variants.iter_mut().find(|v| v.gid() == variant) {
                v.inventory += i64::from(taken);
            }
            removed.push(RemovedUnits {
                sku,
                quantity: taken,
                restocked: *restock,
            });
        }
        let order = &mut s.orders[index];
        order.edits.push(CommittedEdit {
            staff_note: args
                .get("staffNote")
                .and_then(Value::as_str)
                .map(str::to_string),
            notify_customer: args
                .get("notifyCustomer")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            removed,
        });
        order.updated_at = wall;
        json!({ "order": order.to_json(), "successMessages": ["Order updated"], "userErrors": [] })
    }
}
