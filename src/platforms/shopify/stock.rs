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
use super::{ShopifyClient, mapping, queries};
use crate::domain::ids::StorefrontOrderId;
use crate::domain::order::Units;
use crate::domain::platform::Platform;
use crate::platforms::error::ErrorClass;
use crate::platforms::http::CallKind;
use crate::platforms::{PlatformError, UnitRemoval};

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

/// A line of an order edit: `editable` of its `quantity` units can still be taken off (the
/// rest shipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CalculatedLine {
    id: String,
    sku: String,
    quantity: u32,
    editable: u32,
}

impl CalculatedLine {
    fn read(line: &Value) -> Option<CalculatedLine> {
        Some(CalculatedLine {
            id: line["id"].as_str()?.to_string(),
            sku: sku(line).to_string(),
            quantity: count(line, "quantity"),
            editable: count(line, "editableQuantity"),
        })
    }
}

/// Per SKU, the units to take off so it comes down to `keep` (a SKU not listed keeps all),
/// taken from the lines that can still give them up; refused, naming the SKU, when some of
/// them shipped (nothing is staged then).
fn removals_to_keep<'a>(
    lines: &'a [CalculatedLine],
    keep: &[Units],
) -> Result<Vec<(&'a CalculatedLine, u32)>, String> {
    let mut plan = Vec::new();
    for target in keep {
        let same = |l: &&CalculatedLine| l.sku.trim().eq_ignore_ascii_case(target.sku.trim());
        let current: u32 = lines.iter().filter(same).map(|l| l.quantity).sum();
        let mut left = current.saturating_sub(target.quantity);
        for line in lines.iter().filter(same) {
            let units = left.min(line.editable);
            if units > 0 {
                plan.push((line, units));
                left -= units;
            }
        }
        if left > 0 {
            return Err(format!(
                "{left} × {} cannot leave the order: the store shipped it",
                crate::domain::text::sanitize(&target.sku)
            ));
        }
    }
    Ok(plan)
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
            Units::add(&mut shipment.shipped, sku(line), current - unshipped);
            Units::add(&mut shipment.unshipped, sku(line), unshipped);
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
        self.take_off(id, true, note, |lines| {
            Ok(lines
                .iter()
                .filter(|l| l.editable > 0)
                .map(|l| (l, l.editable))
                .collect())
        })
        .await
    }

    /// Takes units off the order so each SKU comes down to what `removal` keeps, without
    /// refunding or telling the customer. Nothing left to take off (a re-run after a lost
    /// answer) commits nothing.
    pub(super) async fn take_off_to_keep(
        &self,
        id: &StorefrontOrderId,
        removal: &UnitRemoval,
    ) -> Result<Vec<Units>, PlatformError> {
        let note = mapping::staff_note(&removal.note);
        self.take_off(id, removal.restock, note, |lines| {
            removals_to_keep(lines, &removal.keep).map_err(|why| {
                PlatformError::new(
                    Platform::Shopify,
                    EDIT_SET.operation,
                    ErrorClass::Permanent,
                    format!("order {id}: {why}"),
                )
            })
        })
        .await
    }

    /// One order edit: begun, the units `plan` picks from its calculated lines staged off
    /// (restocked or not), committed with `note`. Answers the units taken off.
    async fn take_off(
        &self,
        id: &StorefrontOrderId,
        restock: bool,
        note: Option<String>,
        plan: impl FnOnce(&[CalculatedLine]) -> Result<Vec<(&CalculatedLine, u32)>, PlatformError>,
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
                Platform::Shopify,
                EDIT_BEGIN.operation,
                ErrorClass::Ambiguous,
                format!("Shopify began no edit of order {id}"),
            ));
        };
        let lines: Vec<CalculatedLine> = calculated["lineItems"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(CalculatedLine::read)
            .collect();
        let mut taken_off = Vec::new();
        for (line, units) in plan(&lines)? {
            let variables = json!({ "id": edit, "lineItemId": line.id,
                "quantity": line.quantity.saturating_sub(units), "restock": restock });
            self.edit(EDIT_SET, queries::ORDER_EDIT_SET_QUANTITY, variables)
                .await?;
            Units::add(&mut taken_off, &line.sku, units);
        }
        if taken_off.is_empty() {
            // The session is left uncommitted: it changes nothing and expires.
            return Ok(taken_off);
        }
        let variables = json!({ "id": edit, "staffNote": note });
        self.edit(EDIT_COMMIT, queries::ORDER_EDIT_COMMIT, variables)
            .await?;
        Ok(taken_off)
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
