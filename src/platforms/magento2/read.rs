//! Reading Magento's answers as the domain sees them: an order with its shipments (each one a
//! fulfillment with exact lines and its tracks) and its credit memos becomes a
//! `StorefrontOrder`.
//!
//! - Lines are the top-level items (children of a configurable carry `parent_item_id`), each
//!   with `qty_ordered - qty_canceled - qty_refunded` units still on the order.
//! - A track's carrier is its `carrier_code` (`ups`, `usps`, `fedex`, `dhl`), or for `custom`
//!   ("Custom Value") the company typed into `title` (magento2.md).
//! - Credit memos orderdeck made carry [`OWN_MEMO_MARK`] in their comment: they never count as
//!   the merchant's refund (the store → TikTok trigger), and one that closed the order for a
//!   TikTok cancel makes the order read as cancelled.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::domain::ids::StorefrontOrderId;
use crate::domain::order::{
    Fulfillment, StoreLine, StorefrontOrder, StorefrontOrderStatus, Tracking, Units,
};

/// Starts the comment of every credit memo orderdeck makes.
pub const OWN_MEMO_MARK: &str = "[orderdeck]";
/// Follows the mark on a credit memo closing an order TikTok cancelled whole.
pub const CLOSING_MEMO: &str = "order cancelled on TikTok";
/// Follows the mark on a credit memo of units TikTok cancelled.
pub const UNITS_MEMO: &str = "units cancelled on TikTok";

/// One order line as cancel and credit memo logic need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub item_id: u64,
    pub sku: String,
    pub ordered: f64,
    pub invoiced: f64,
    pub shipped: f64,
    pub refunded: f64,
    pub canceled: f64,
}

impl Item {
    /// Units still on the order.
    pub fn live(&self) -> f64 {
        (self.ordered - self.canceled - self.refunded).max(0.0)
    }

    /// Units that can still go on a credit memo: invoiced, not refunded, not shipped.
    pub fn refundable_unshipped(&self) -> f64 {
        (self.invoiced - self.refunded - self.shipped).max(0.0)
    }
}

/// An order as read: the domain view and what the connector needs besides.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOrder {
    pub store: StorefrontOrder,
    pub entity_id: u64,
    pub tiktok_order_id: Option<String>,
    /// Magento's `state` (`new`, `processing`, `complete`, `closed`, `canceled`, `holded`…).
    pub state: String,
    pub items: Vec<Item>,
    /// Ids of credit memos orderdeck made for this order.
    pub own_memos: Vec<u64>,
}

impl ReadOrder {
    /// Every unit is invoiced (the order is paid).
    pub fn fully_invoiced(&self) -> bool {
        self.items
            .iter()
            .all(|i| i.invoiced + 1e-9 >= i.ordered - i.canceled)
    }

    pub fn shipped_units(&self) -> Vec<Units> {
        let mut out = Vec::new();
        for item in &self.items {
            Units::add(&mut out, &item.sku, round(item.shipped));
        }
        out
    }
}

fn round(qty: f64) -> u32 {
    if qty.is_finite() && qty > 0.0 {
        qty.round().min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

/// Magento's `YYYY-MM-DD HH:MM:SS`, UTC.
pub fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// The filter value for a time: `YYYY-MM-DD HH:MM:SS`.
pub fn wire_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A number Magento sends as a number or, from some versions, a numeric string.
pub fn qty(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

pub fn id(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

/// The TikTok order id in `ext_order_id`, when it is there.
pub fn tiktok_id(order: &Value) -> Option<String> {
    order
        .get("ext_order_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A credit memo orderdeck made, and whether it closed the order.
fn own_memo(memo: &Value) -> Option<bool> {
    memo.get("comments")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|c| c.get("comment").and_then(Value::as_str))
        .find_map(|c| {
            let rest = c.trim().strip_prefix(OWN_MEMO_MARK)?.trim_start();
            Some(rest.starts_with(CLOSING_MEMO))
        })
}

/// Reads an order with the shipments and credit memos listed for it (others are ignored).
pub fn read_order(
    order: &Value,
    shipments: &[Value],
    memos: &[Value],
) -> Result<ReadOrder, String> {
    let entity_id = id(order.get("entity_id")).ok_or("the order has no entity_id")?;
    let order_id = StorefrontOrderId::new(entity_id.to_string()).map_err(|e| e.to_string())?;
    let state = order
        .get("state")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("order {entity_id} has no state"))?
        .to_string();
    let updated_at = time(order.get("updated_at"))
        .or_else(|| time(order.get("created_at")))
        .ok_or_else(|| format!("order {entity_id}: updated_at is not a date"))?;
    let mut items = Vec::new();
    let mut lines = Vec::new();
    for (i, item) in order
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if id(item.get("parent_item_id")).is_some() {
            continue;
        }
        let item_id = id(item.get("item_id"))
            .ok_or_else(|| format!("order {entity_id}: items[{i}] has no item_id"))?;
        let read = Item {
            item_id,
            sku: item
                .get("sku")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string(),
            ordered: qty(item.get("qty_ordered")),
            invoiced: qty(item.get("qty_invoiced")),
            shipped: qty(item.get("qty_shipped")),
            refunded: qty(item.get("qty_refunded")),
            canceled: qty(item.get("qty_canceled")),
        };
        lines.push(StoreLine {
            id: item_id.to_string(),
            sku: read.sku.clone(),
            quantity: round(read.live()),
        });
        items.push(read);
    }
    let mine = |v: &Value| id(v.get("order_id")) == Some(entity_id);
    let mut fulfillments = Vec::new();
    for shipment in shipments.iter().filter(|s| mine(s)) {
        fulfillments.push(
            fulfillment(shipment, &items).map_err(|why| format!("order {entity_id}: {why}"))?,
        );
    }
    let (mut own_memos, mut refunded, mut closed_by_us) = (Vec::new(), false, None);
    for memo in memos.iter().filter(|m| mine(m)) {
        match own_memo(memo) {
            Some(closing) => {
                own_memos.extend(id(memo.get("entity_id")));
                if closing {
                    closed_by_us = closed_by_us
                        .or(time(memo.get("created_at")))
                        .or(Some(updated_at));
                }
            }
            None => refunded = true,
        }
    }
    let status = match state.as_str() {
        "canceled" => StorefrontOrderStatus::Cancelled,
        _ if closed_by_us.is_some() => StorefrontOrderStatus::Cancelled,
        "complete" | "closed" => StorefrontOrderStatus::Closed,
        _ => StorefrontOrderStatus::Open,
    };
    let cancelled_at = match status {
        StorefrontOrderStatus::Cancelled => closed_by_us.or(Some(updated_at)),
        _ => None,
    };
    let store = StorefrontOrder {
        order_id,
        name: order
            .get("increment_id")
            .and_then(Value::as_str)
            .map(|n| format!("#{}", n.trim())),
        status,
        fulfillments,
        lines,
        unit_count: None,
        cancelled_at,
        refunded,
        updated_at,
    };
    Ok(ReadOrder {
        store,
        entity_id,
        tiktok_order_id: tiktok_id(order),
        state,
        items,
        own_memos,
    })
}

/// One shipment: its items (by `order_item_id`, with the order line's SKU) and its tracks.
fn fulfillment(shipment: &Value, items: &[Item]) -> Result<Fulfillment, String> {
    let shipment_id = id(shipment.get("entity_id")).ok_or("a shipment has no entity_id")?;
    let mut lines = Vec::new();
    for item in shipment
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(line) =
            id(item.get("order_item_id")).and_then(|i| items.iter().find(|x| x.item_id == i))
        else {
            // A child of a configurable line: its parent's line is counted.
            continue;
        };
        Units::add(&mut lines, &line.sku, round(qty(item.get("qty"))));
    }
    let field = |t: &Value, key: &str| {
        t.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let tracking = shipment
        .get("tracks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let number = field(t, "track_number")?;
            let code = field(t, "carrier_code");
            let carrier = match code.as_deref() {
                None | Some("custom") => field(t, "title").or(code),
                Some(_) => code,
            };
            Some(Tracking {
                number,
                carrier,
                url: None,
            })
        })
        .collect();
    Ok(Fulfillment {
        id: shipment_id.to_string(),
        status: "shipped".into(),
        created_at: time(shipment.get("created_at")),
        tracking,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(state: &str) -> Value {
        json!({"entity_id": 7, "increment_id": "TT5764", "state": state, "ext_order_id": "5764",
            "updated_at": "2026-11-03 10:00:00",
            "items": [
                {"item_id": 70, "sku": "CRO-00", "qty_ordered": 3, "qty_invoiced": 3, "qty_shipped": 1, "qty_refunded": 1, "qty_canceled": 0},
                {"item_id": 71, "sku": "LIN-11", "qty_ordered": 1, "qty_invoiced": 1, "qty_shipped": 0, "qty_refunded": 0, "qty_canceled": 0},
                {"item_id": 72, "sku": "LIN-11-RED", "qty_ordered": 1, "parent_item_id": 71}]})
    }

    #[test]
    fn lines_shipments_and_tracks_read_exactly() {
        let shipments = [
            json!({"entity_id": 9, "order_id": 7, "created_at": "2026-11-03 09:00:00",
            "items": [{"order_item_id": 70, "qty": 1}],
            "tracks": [{"track_number": "1Z9", "carrier_code": "ups", "title": "United Parcel Service"},
                       {"track_number": "RM1", "carrier_code": "custom", "title": "Royal Mail Tracked 24"},
                       {"track_number": " ", "carrier_code": "dhl", "title": "DHL"}]}),
            json!({"entity_id": 10, "order_id": 8, "items": [], "tracks": []}),
        ];
        let read = read_order(&order("processing"), &shipments, &[]).unwrap();
        assert_eq!(read.store.name.as_deref(), Some("#TT5764"));
        assert_eq!(read.tiktok_order_id.as_deref(), Some("5764"));
        assert_eq!(read.store.lines.len(), 2);
        assert_eq!(read.store.lines[0].quantity, 2);
        assert_eq!(read.store.fulfillments.len(), 1);
        let f = &read.store.fulfillments[0];
        assert_eq!(
            f.lines,
            vec![Units {
                sku: "CRO-00".into(),
                quantity: 1
            }]
        );
        let carriers: Vec<_> = f.tracking.iter().map(|t| t.carrier.as_deref()).collect();
        assert_eq!(carriers, vec![Some("ups"), Some("Royal Mail Tracked 24")]);
        assert_eq!(read.store.status, StorefrontOrderStatus::Open);
        assert!(!read.store.refunded);
    }

    #[test]
    fn own_credit_memos_are_not_the_merchants_refund() {
        let own = json!({"entity_id": 3, "order_id": 7, "created_at": "2026-11-03 11:00:00",
            "comments": [{"comment": format!("{OWN_MEMO_MARK} {CLOSING_MEMO}: buyer asked")}]});
        let read = read_order(&order("closed"), &[], std::slice::from_ref(&own)).unwrap();
        assert!(!read.store.refunded);
        assert_eq!(read.own_memos, vec![3]);
        assert_eq!(read.store.status, StorefrontOrderStatus::Cancelled);
        assert!(read.store.cancelled_at.is_some());
        let theirs = json!({"entity_id": 4, "order_id": 7, "comments": []});
        let read = read_order(&order("closed"), &[], &[theirs]).unwrap();
        assert!(read.store.refunded);
        assert_eq!(read.store.status, StorefrontOrderStatus::Closed);
        let read = read_order(&order("canceled"), &[], &[]).unwrap();
        assert_eq!(read.store.status, StorefrontOrderStatus::Cancelled);
        assert!(read_order(&json!({"entity_id": 1}), &[], &[]).is_err());
    }
}
