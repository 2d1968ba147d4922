//! TikTok cancels on Magento (magento2.md, "Cancel (TikTok → store)"):
//!
//! - TikTok's reason goes on the order as a comment (`is_customer_notified: 0`), once.
//! - Nothing invoiced yet: `POST /V1/orders/{id}/cancel` (bare `true`/`false`); Magento puts the
//!   un-invoiced, unshipped units back in stock itself, whatever the link says.
//! - Invoiced and unshipped (every order orderdeck creates is invoiced in full): Magento cannot
//!   cancel it, so it is closed with an OFFLINE credit memo (`POST /V1/order/{id}/refund`, a
//!   record that moves no money; TikTok refunds the buyer), `return_to_stock_items` per the
//!   link's restock setting, `notify: false`, its comment marked as orderdeck's own so it is
//!   never relayed back to TikTok as the merchant's refund. Never `POST /V1/invoice/{id}/refund`
//!   (an online refund through the gateway).
//! - Shipped: refused with why; the parcel is gone and a person decides.
//!
//! A partial TikTok cancel ([`remove_units`]) is an offline credit memo of exactly those units.

use reqwest::Method;
use serde_json::{Value, json};

use super::read::{CLOSING_MEMO, Item, OWN_MEMO_MARK, ReadOrder, UNITS_MEMO};
use super::{CANCEL, COMMENT, Magento2Client, REFUND, UnitRemoval};
use crate::domain::order::{StorefrontOrder, StorefrontOrderStatus};
use crate::domain::rules::cancel::{
    self, STORE_NOTE_MAX, StorefrontCancelInstruction, StorefrontCancelled,
};
use crate::domain::text;
use crate::platforms::PlatformError;
use crate::platforms::error::ErrorClass;

fn label(read: &ReadOrder) -> String {
    read.store
        .name
        .clone()
        .unwrap_or_else(|| format!("{}", read.entity_id))
}

/// Adds TikTok's reason as an order comment unless an earlier attempt already added one (its
/// wording may differ: see [`cancel::is_store_note`]).
async fn comment_once(
    client: &Magento2Client,
    entity_id: u64,
    note: &str,
) -> Result<(), PlatformError> {
    let note = text::truncate(note.trim(), STORE_NOTE_MAX);
    if note.is_empty() {
        return Ok(());
    }
    let route = format!("orders/{entity_id}/comments");
    let existing = client
        .call(super::COMMENTS, Method::GET, &route, &[], None)
        .await?;
    let already = existing
        .body
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("comment").and_then(Value::as_str))
        .any(|c| c.trim() == note || cancel::is_store_note(c));
    if already {
        return Ok(());
    }
    let body = json!({ "statusHistory": {
        "comment": note, "is_customer_notified": 0, "is_visible_on_front": 0 } });
    client
        .call(COMMENT, Method::POST, &route, &[], Some(&body))
        .await
        .map(|_| ())
}

/// An offline credit memo of `items` (order item id, units), restocking them when asked.
async fn credit_memo(
    client: &Magento2Client,
    entity_id: u64,
    items: &[(u64, u32)],
    restock: bool,
    comment: String,
) -> Result<(), PlatformError> {
    let mut arguments =
        json!({ "shipping_amount": 0, "adjustment_positive": 0, "adjustment_negative": 0 });
    if restock {
        arguments["extension_attributes"] =
            json!({ "return_to_stock_items": items.iter().map(|(id, _)| *id).collect::<Vec<_>>() });
    }
    let body = json!({
        "items": items.iter().map(|(id, qty)| json!({ "order_item_id": id, "qty": qty })).collect::<Vec<_>>(),
        "notify": false,
        "appendComment": true,
        "comment": { "comment": text::truncate(&comment, 1000), "is_visible_on_front": 0 },
        "arguments": arguments,
    });
    client
        .call(
            REFUND,
            Method::POST,
            &format!("order/{entity_id}/refund"),
            &[],
            Some(&body),
        )
        .await
        .map(|_| ())
}

fn whole_units(qty: f64) -> u32 {
    if qty.is_finite() && qty > 0.0 {
        qty.floor() as u32
    } else {
        0
    }
}

pub(super) async fn cancel_order(
    client: &Magento2Client,
    entity_id: u64,
    instruction: &StorefrontCancelInstruction,
) -> Result<StorefrontCancelled, PlatformError> {
    let before = client.read_order(entity_id).await?;
    if before.store.status == StorefrontOrderStatus::Cancelled {
        return Ok(StorefrontCancelled {
            store: before.store,
            put_back: Vec::new(),
            shipped: Vec::new(),
        });
    }
    let shipped = before.shipped_units();
    // Closed with nothing shipped: the merchant's credit memos already took every unit back
    // (a refund this link relays to TikTok, whose cancel then comes back here): nothing is
    // left to cancel, and nothing to put back.
    if shipped.is_empty() && before.state == "closed" {
        return Ok(StorefrontCancelled {
            store: before.store,
            put_back: Vec::new(),
            shipped: Vec::new(),
        });
    }
    if !shipped.is_empty() || matches!(before.state.as_str(), "complete" | "closed") {
        return Err(CANCEL.refuse(format!(
            "Magento order {} has shipped ({}): it cannot be cancelled and a credit memo would not \
             bring the parcel back; stop the parcel with the carrier or expect a return, then close \
             the order in Magento by hand",
            label(&before),
            crate::domain::store_order::show_units(&shipped)
        )));
    }
    if matches!(before.state.as_str(), "holded" | "payment_review") {
        return Err(CANCEL.refuse(format!(
            "Magento order {} is {}: release it in the admin, then resync the cancellation",
            label(&before),
            text::sanitize(&before.state)
        )));
    }
    comment_once(client, entity_id, &instruction.note).await?;
    let live = before.store.current_units();
    let invoiced: Vec<&Item> = before
        .items
        .iter()
        .filter(|i| whole_units(i.refundable_unshipped()) > 0)
        .collect();
    if invoiced.is_empty() {
        let answer = client
            .call(
                CANCEL,
                Method::POST,
                &format!("orders/{entity_id}/cancel"),
                &[],
                None,
            )
            .await?;
        let after = client.read_order(entity_id).await?;
        if after.store.status != StorefrontOrderStatus::Cancelled {
            return Err(CANCEL.error(
                ErrorClass::Permanent,
                format!(
                    "Magento refused to cancel order {} (answered {}; it is {})",
                    label(&after),
                    answer.body,
                    text::sanitize(&after.state)
                ),
                &answer.raw,
            ));
        }
        // Magento's cancel returns un-invoiced, unshipped units to stock: there is no flag.
        return Ok(StorefrontCancelled {
            store: after.store,
            put_back: live,
            shipped: Vec::new(),
        });
    }
    let items: Vec<(u64, u32)> = invoiced
        .iter()
        .map(|i| (i.item_id, whole_units(i.refundable_unshipped())))
        .collect();
    let comment = format!(
        "{OWN_MEMO_MARK} {CLOSING_MEMO}: {}",
        instruction.note.trim()
    );
    credit_memo(client, entity_id, &items, instruction.restock, comment).await?;
    let after = client.read_order(entity_id).await?;
    let put_back = if instruction.restock {
        live
    } else {
        Vec::new()
    };
    Ok(StorefrontCancelled {
        store: after.store,
        put_back,
        shipped: Vec::new(),
    })
}

/// Units to take off, per line: what each SKU holds beyond what `removal` keeps, taken from
/// its lines in order. A SKU whose units to go have shipped (or were never invoiced) is refused.
fn units_to_remove(before: &ReadOrder, removal: &UnitRemoval) -> Result<Vec<(u64, u32)>, String> {
    let mut out = Vec::new();
    for keep in &removal.keep {
        let lines: Vec<&Item> = before.items.iter().filter(|i| i.sku == keep.sku).collect();
        let live: u32 = lines.iter().map(|i| whole_units(i.live())).sum();
        let mut excess = live.saturating_sub(keep.quantity);
        if excess == 0 {
            continue;
        }
        let removable: u32 = lines
            .iter()
            .map(|i| whole_units(i.refundable_unshipped()))
            .sum();
        if removable < excess {
            return Err(format!(
                "{excess} unit(s) of SKU {} cannot come off Magento order {}: only {removable} are invoiced and unshipped",
                text::sanitize(&keep.sku),
                label(before)
            ));
        }
        for line in lines {
            let take = excess.min(whole_units(line.refundable_unshipped()));
            if take > 0 {
                out.push((line.item_id, take));
                excess -= take;
            }
        }
    }
    Ok(out)
}

pub(super) async fn remove_units(
    client: &Magento2Client,
    entity_id: u64,
    removal: &UnitRemoval,
) -> Result<StorefrontOrder, PlatformError> {
    let before = client.read_order(entity_id).await?;
    let items = units_to_remove(&before, removal).map_err(|why| REFUND.refuse(why))?;
    if items.is_empty() {
        // Already applied (a re-run after a lost answer): the removal says what each SKU keeps.
        return Ok(before.store);
    }
    let comment = format!("{OWN_MEMO_MARK} {UNITS_MEMO}: {}", removal.note.trim());
    credit_memo(client, entity_id, &items, removal.restock, comment).await?;
    Ok(client.read_order(entity_id).await?.store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::StorefrontOrderId;
    use crate::domain::order::{StorefrontOrder, Units};

    fn item(item_id: u64, sku: &str, ordered: f64, shipped: f64) -> Item {
        Item {
            item_id,
            sku: sku.into(),
            ordered,
            invoiced: ordered,
            shipped,
            refunded: 0.0,
            canceled: 0.0,
        }
    }

    fn order(items: Vec<Item>) -> ReadOrder {
        ReadOrder {
            store: StorefrontOrder {
                order_id: StorefrontOrderId::new("7").unwrap(),
                name: Some("#TT1".into()),
                status: StorefrontOrderStatus::Open,
                fulfillments: vec![],
                lines: vec![],
                unit_count: None,
                cancelled_at: None,
                refunded: false,
                updated_at: chrono::DateTime::UNIX_EPOCH,
            },
            entity_id: 7,
            tiktok_order_id: None,
            state: "processing".into(),
            items,
            own_memos: vec![],
        }
    }

    #[test]
    fn removal_takes_exactly_the_excess_and_refuses_shipped_units() {
        let removal = |sku: &str, keep| UnitRemoval {
            keep: vec![Units {
                sku: sku.into(),
                quantity: keep,
            }],
            restock: true,
            note: "x".into(),
        };
        let o = order(vec![item(1, "A", 3.0, 0.0), item(2, "B", 2.0, 2.0)]);
        assert_eq!(units_to_remove(&o, &removal("A", 1)).unwrap(), vec![(1, 2)]);
        assert_eq!(units_to_remove(&o, &removal("A", 3)).unwrap(), vec![]);
        let refused = units_to_remove(&o, &removal("B", 1)).unwrap_err();
        assert!(refused.contains("SKU B"), "{refused}");
    }
}
