//! What a cancel does with stock on Shopify. `orderCancel`'s `restock` is one flag for the
//! whole order and puts shipped units back too, while they are in a van. So an order the store
//! has shipped any of is cancelled with `restock: false`, and when the link restocks, its
//! unshipped units are first taken off with an order edit that restocks exactly them.
//!
//! Retrying after a lost answer is safe: what is left to take off is read afresh each time
//! (a committed edit leaves nothing editable), and an uncommitted edit session changes nothing.

use serde_json::{Value, json};

use super::classify::{self, Call};
use super::throttle::CostKey;
use super::{ShopifyClient, queries};
use crate::domain::ids::StorefrontOrderId;
use crate::domain::rules::cancel::Units;
use crate::platforms::PlatformError;
use crate::platforms::error::ErrorClass;
use crate::platforms::http::CallKind;

const LINES: Call = Call {
    operation: "order",
    effect: CallKind::Read,
};
const EDIT_BEGIN: Call = Call {
    operation: "orderEditBegin",
    effect: CallKind::Write,
};
const EDIT_SET: Call = Call {
    operation: "orderEditSetQuantity",
    effect: CallKind::Write,
};
const EDIT_COMMIT: Call = Call {
    operation: "orderEditCommit",
    effect: CallKind::Write,
};

/// Units per SKU: shipped, and still to ship.
#[derive(Debug, Default)]
pub(super) struct Shipment {
    pub shipped: Vec<Units>,
    pub unshipped: Vec<Units>,
}

fn add(units: &mut Vec<Units>, sku: &str, quantity: u32) {
    if quantity == 0 {
        return;
    }
    match units.iter_mut().find(|u| u.sku == sku) {
        Some(u) => u.quantity += quantity,
        None => units.push(Units {
            sku: sku.to_string(),
            quantity,
        }),
    }
}

fn count(value: &Value, key: &str) -> u32 {
    value
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

fn sku(value: &Value) -> &str {
    value
        .get("sku")
        .and_then(Value::as_str)
        .unwrap_or("(no SKU)")
}

impl ShopifyClient {
    /// Which units of the order shipped and which did not, as Shopify holds them now.
    pub(super) async fn shipment(&self, id: &StorefrontOrderId) -> Result<Shipment, PlatformError> {
        let answer = self
            .inner
            .transport
            .execute(
                LINES,
                CostKey::one("orderLines", queries::cost_hint::ORDER_LINES),
                queries::ORDER_LINES,
                json!({ "id": id.as_str() }),
            )
            .await?;
        let lines = &answer.data["order"]["lineItems"];
        let Some(nodes) = lines["nodes"].as_array() else {
            return Err(classify::unreadable(
                LINES,
                &answer.raw,
                &format!("Shopify answered no lines for order {id}"),
            ));
        };
        if lines["pageInfo"]["hasNextPage"] == Value::Bool(true) {
            return Err(LINES.error(
                ErrorClass::Permanent,
                format!("order {id} has more than 250 lines: cancel it in the Shopify admin, restocking only unshipped units"),
                &answer.raw,
            ));
        }
        let mut shipment = Shipment::default();
        for line in nodes {
            let current = count(line, "currentQuantity");
            let unshipped = count(line, "unfulfilledQuantity").min(current);
            add(&mut shipment.shipped, sku(line), current - unshipped);
            add(&mut shipment.unshipped, sku(line), unshipped);
        }
        Ok(shipment)
    }

    /// Takes every unshipped unit off the order, restocking them, with `note` for staff.
    /// Answers the units put back.
    pub(super) async fn take_off_unshipped(
        &self,
        id: &StorefrontOrderId,
        note: Option<String>,
    ) -> Result<Vec<Units>, PlatformError> {
        let begun = self
            .edit(
                EDIT_BEGIN,
                queries::ORDER_EDIT_BEGIN,
                json!({ "id": id.as_str() }),
            )
            .await?;
        let calculated = &begun["calculatedOrder"];
        let Some(edit) = calculated["id"].as_str() else {
            return Err(PlatformError::new(
                crate::domain::platform::Platform::Shopify,
                EDIT_BEGIN.operation,
                ErrorClass::Ambiguous,
                format!("Shopify began no edit of order {id}"),
            ));
        };
        let mut put_back = Vec::new();
        for line in calculated["lineItems"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let editable = count(line, "editableQuantity");
            let Some(line_id) = line["id"].as_str().filter(|_| editable > 0) else {
                continue;
            };
            let keep = count(line, "quantity").saturating_sub(editable);
            let variables = json!({ "id": edit, "lineItemId": line_id, "quantity": keep });
            self.edit(EDIT_SET, queries::ORDER_EDIT_SET_QUANTITY, variables)
                .await?;
            add(&mut put_back, sku(line), editable);
        }
        if put_back.is_empty() {
            return Ok(put_back);
        }
        let variables = json!({ "id": edit, "staffNote": note });
        self.edit(EDIT_COMMIT, queries::ORDER_EDIT_COMMIT, variables)
            .await?;
        Ok(put_back)
    }

    /// One order-edit mutation; its payload, or its user errors as a refusal.
    async fn edit(
        &self,
        call: Call,
        document: &str,
        variables: Value,
    ) -> Result<Value, PlatformError> {
        let answer = self
            .inner
            .transport
            .execute(
                call,
                CostKey::one(call.operation, queries::cost_hint::ORDER_EDIT),
                document,
                variables,
            )
            .await?;
        let payload = answer.root(call.operation, call)?;
        if let Some(refused) = classify::user_errors(payload, "userErrors", &answer.raw, call) {
            return Err(refused);
        }
        Ok(payload.clone())
    }
}
