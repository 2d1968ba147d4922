//! Translation between domain types and Shopify's wire shapes: a `StorefrontOrderDraft` becomes
//! `orderCreate` variables; an `Order` object (the `StoreOrder` fragment) becomes a
//! `StorefrontOrder`. Nothing Shopify-shaped leaves this module.
//!
//! Invariants: every line carries a variant id resolved beforehand (the line `sku` is only a
//! label on Shopify); the order is created paid, tagged, with the TikTok order id as
//! `sourceIdentifier`, without receipts; text read back is kept as Shopify holds it (trimmed):
//! it is sanitized where it is shown, never before it is relayed.

use crate::domain::rules::address::ShipTo;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::ids::{StorefrontOrderId, TiktokOrderId};
use crate::domain::order::{
    Fulfillment, StoreLine, StorefrontOrder, StorefrontOrderStatus, Tracking, Units,
};
use crate::domain::rules::cancel::STORE_NOTE_MAX;
use crate::domain::rules::import::{DraftAddress, StorefrontOrderDraft};
use crate::domain::text;

/// Why a draft cannot be sent: a caller bug (the SKU lookup was skipped), not a store answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("line {sku} has no Shopify variant id: resolve its SKU first")]
    NoVariant { sku: String },
    #[error("line {sku} has quantity 0")]
    NoQuantity { sku: String },
    #[error("the draft has no lines")]
    NoLines,
}

/// The `orderCreate` variables for a draft.
pub fn order_create_variables(draft: &StorefrontOrderDraft) -> Result<Value, DraftError> {
    if draft.lines.is_empty() {
        return Err(DraftError::NoLines);
    }
    // `CurrencyCode` is an enum of upper-case ISO 4217 codes.
    let currency = draft.currency.trim().to_uppercase();
    let mut lines = Vec::with_capacity(draft.lines.len());
    for line in &draft.lines {
        let sku = text::sanitize(&line.seller_sku);
        let variant_id = line
            .store_item_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| DraftError::NoVariant { sku: sku.clone() })?;
        if line.quantity == 0 {
            return Err(DraftError::NoQuantity { sku });
        }
        lines.push(json!({
            "variantId": variant_id,
            "quantity": line.quantity,
            // The price the buyer paid on TikTok, not the store's list price.
            "priceSet": { "shopMoney": { "amount": line.unit_price, "currencyCode": currency } },
        }));
    }
    let mut order = json!({
        "currency": currency,
        // TikTok collected the money.
        "financialStatus": "PAID",
        "sourceIdentifier": draft.tiktok_order_id.as_str(),
        "tags": draft.tags,
        "lineItems": lines,
        "shippingAddress": mailing_address(&draft.address),
    });
    if let Some(note) = draft.note.as_deref().filter(|n| !n.trim().is_empty()) {
        order["note"] = json!(note);
    }
    Ok(json!({
        "order": order,
        "options": {
            "inventoryBehaviour": draft.inventory.as_wire(),
            "sendReceipt": false,
            "sendFulfillmentReceipt": false,
        },
    }))
}

/// The `orderUpdate` input: the new shipping address, and the note only when it changed (it
/// overwrites whatever staff wrote there).
pub fn order_update_input(id: &StorefrontOrderId, to: &ShipTo, note: Option<&str>) -> Value {
    let mut input = json!({
        "id": id.as_str(),
        "shippingAddress": mailing_address(&to.address),
    });
    if let Some(note) = note {
        input["note"] = json!(note);
    }
    json!({ "input": input })
}

/// `MailingAddressInput`. TikTok gives the province as a name or a code depending on the
/// region: a code goes to `provinceCode`, a name to the (deprecated, still accepted) `province`,
/// which Shopify resolves by name; blank parts are left out.
fn mailing_address(address: &DraftAddress) -> Value {
    let mut fields = serde_json::Map::new();
    let mut put = |key: &str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            fields.insert(key.to_string(), json!(value));
        }
    };
    put("firstName", &address.first_name);
    put("lastName", &address.last_name);
    put("address1", &address.address1);
    put("address2", &address.address2);
    put("city", &address.city);
    put("zip", &address.zip);
    put("phone", &address.phone);
    put("countryCode", &address.country_code.to_uppercase());
    let province = address.province.trim();
    if is_province_code(province) {
        put("provinceCode", province);
    } else {
        put("province", province);
    }
    Value::Object(fields)
}

/// ISO 3166-2 subdivision codes are one to three letters or digits (`CA`, `ENG`, `JK`).
fn is_province_code(text: &str) -> bool {
    (1..=3).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The cancel's staff note, cut to Shopify's 255-character limit.
pub fn staff_note(note: &str) -> Option<String> {
    let note = note.trim();
    (!note.is_empty()).then(|| text::truncate(note, STORE_NOTE_MAX))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOrder {
    id: String,
    name: Option<String>,
    source_identifier: Option<String>,
    updated_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
    closed: bool,
    display_financial_status: Option<String>,
    #[serde(default)]
    fulfillments: Vec<WireFulfillment>,
    /// Only in the full read (`OrderDetail`).
    line_items: Option<Nodes<WireLine>>,
    current_subtotal_line_items_quantity: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLine {
    id: String,
    sku: Option<String>,
    current_quantity: u32,
}

#[derive(Debug, Deserialize)]
struct WireFulfilledLine {
    quantity: u32,
    #[serde(rename = "lineItem")]
    line_item: WireLineSku,
}

#[derive(Debug, Deserialize)]
struct WireLineSku {
    sku: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFulfillment {
    id: String,
    status: String,
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    tracking_info: Vec<WireTracking>,
    fulfillment_line_items: Option<Nodes<WireFulfilledLine>>,
}

#[derive(Debug, Deserialize)]
struct WireTracking {
    company: Option<String>,
    number: Option<String>,
    url: Option<String>,
}

/// A store order read back, with the TikTok order it was created for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOrder {
    pub store: StorefrontOrder,
    /// `sourceIdentifier` as Shopify holds it.
    pub source_identifier: Option<String>,
}

impl ReadOrder {
    /// The TikTok order, when `sourceIdentifier` is one (other apps set it too).
    pub fn tiktok_order_id(&self) -> Option<TiktokOrderId> {
        self.source_identifier
            .as_deref()
            .and_then(|id| TiktokOrderId::new(id).ok())
    }
}

/// Maps a `StoreOrder` fragment; the error says what was unreadable.
pub fn read_order(value: &Value) -> Result<ReadOrder, String> {
    let wire = WireOrder::deserialize(value).map_err(|e| {
        let id = value.get("id").and_then(Value::as_str).unwrap_or("?");
        text::sanitize(&format!("order {id}: {e}"))
    })?;
    let order_id = StorefrontOrderId::new(wire.id.as_str()).map_err(|e| e.to_string())?;
    let status = if wire.cancelled_at.is_some() {
        StorefrontOrderStatus::Cancelled
    } else if wire.closed {
        StorefrontOrderStatus::Closed
    } else {
        StorefrontOrderStatus::Open
    };
    let refunded = matches!(
        wire.display_financial_status.as_deref(),
        Some("REFUNDED" | "PARTIALLY_REFUNDED")
    );
    let fulfillments = wire
        .fulfillments
        .into_iter()
        .map(|f| Fulfillment {
            id: f.id,
            status: f.status,
            created_at: f.created_at,
            tracking: f
                .tracking_info
                .into_iter()
                .filter_map(|t| {
                    let number = clean(t.number)?;
                    Some(Tracking {
                        number,
                        carrier: clean(t.company),
                        url: clean(t.url),
                    })
                })
                .collect(),
            lines: f
                .fulfillment_line_items
                .map(|items| {
                    let mut tally = Vec::new();
                    for item in items.nodes {
                        let sku = clean(item.line_item.sku).unwrap_or_default();
                        Units::add(&mut tally, &sku, item.quantity);
                    }
                    tally
                })
                .unwrap_or_default(),
        })
        .collect();
    let lines = wire
        .line_items
        .map(|items| {
            items
                .nodes
                .into_iter()
                .map(|line| StoreLine {
                    id: line.id,
                    sku: clean(line.sku).unwrap_or_default(),
                    quantity: line.current_quantity,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ReadOrder {
        store: StorefrontOrder {
            order_id,
            name: clean(wire.name),
            status,
            fulfillments,
            lines,
            unit_count: wire.current_subtotal_line_items_quantity,
            cancelled_at: wire.cancelled_at,
            refunded,
            updated_at: wire.updated_at,
        },
        source_identifier: clean(wire.source_identifier),
    })
}

/// Trimmed, otherwise exactly as Shopify holds it (what is shown is sanitized where it is
/// shown; what is relayed must not be altered); blank becomes `None`.
fn clean(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::import::{DraftLine, STORE_ORDER_TAG};
    use crate::domain::settings::InventoryBehaviour;

    fn draft() -> StorefrontOrderDraft {
        StorefrontOrderDraft {
            tiktok_order_id: TiktokOrderId::new("576461413038785752").unwrap(),
            lines: vec![DraftLine {
                seller_sku: "CRO-00".into(),
                store_item_id: Some("gid://shopify/ProductVariant/44000000000".into()),
                title: "Crochet jumper — Red, S".into(),
                quantity: 2,
                unit_price: "19.99".into(),
            }],
            currency: "GBP".into(),
            address: DraftAddress {
                first_name: "Amara".into(),
                last_name: "Okafor".into(),
                address1: "12 High Street".into(),
                address2: String::new(),
                city: "London".into(),
                province: "Greater London".into(),
                country_code: "gb".into(),
                zip: "GB1 2AB".into(),
                phone: "(+44)7700-***-123".into(),
            },
            note: Some("Please ship asap!".into()),
            tags: vec![STORE_ORDER_TAG.into(), "tiktok-uk-shop1".into()],
            inventory: InventoryBehaviour::DecrementObeyingPolicy,
            amazon: Default::default(),
        }
    }

    #[test]
    fn drafts_become_paid_tagged_orders_without_receipts() {
        let vars = order_create_variables(&draft()).unwrap();
        let order = &vars["order"];
        assert_eq!(order["financialStatus"], "PAID");
        assert_eq!(order["sourceIdentifier"], "576461413038785752");
        assert_eq!(order["tags"][0], "TikTok Shop");
        assert_eq!(
            order["lineItems"][0]["variantId"],
            "gid://shopify/ProductVariant/44000000000"
        );
        assert_eq!(order["lineItems"][0]["quantity"], 2);
        assert_eq!(
            order["lineItems"][0]["priceSet"]["shopMoney"]["amount"],
            "19.99"
        );
        assert_eq!(order["shippingAddress"]["countryCode"], "GB");
        assert_eq!(order["shippingAddress"]["province"], "Greater London");
        assert!(order["shippingAddress"].get("address2").is_none());
        assert_eq!(
            vars["options"]["inventoryBehaviour"],
            "DECREMENT_OBEYING_POLICY"
        );
        assert_eq!(vars["options"]["sendReceipt"], false);
        assert!(
            order.get("sourceName").is_none(),
            "sourceName is for channel handles"
        );
    }

    #[test]
    fn province_codes_and_missing_variants() {
        let mut d = draft();
        d.address.province = "CA".into();
        let vars = order_create_variables(&d).unwrap();
        assert_eq!(vars["order"]["shippingAddress"]["provinceCode"], "CA");
        d.lines[0].store_item_id = None;
        assert_eq!(
            order_create_variables(&d),
            Err(DraftError::NoVariant {
                sku: "CRO-00".into()
            })
        );
    }

    #[test]
    fn orders_map_to_store_sides() {
        let wire = json!({
            "id": "gid://shopify/Order/6000000001", "name": "#1001",
            "sourceIdentifier": "576461413038785752", "updatedAt": "2025-11-02T10:00:00Z",
            "cancelledAt": null, "closed": false, "displayFinancialStatus": "PARTIALLY_REFUNDED",
            "fulfillments": [{"id": "gid://shopify/Fulfillment/1", "status": "SUCCESS",
                "createdAt": "2025-11-02T09:00:00Z",
                "trackingInfo": [{"company": "Royal Mail", "number": "JX1\u{1b}[2J", "url": null},
                                 {"company": null, "number": null, "url": null}]}]
        });
        let read = read_order(&wire).unwrap();
        assert_eq!(read.store.status, StorefrontOrderStatus::Open);
        assert!(read.store.refunded);
        assert_eq!(read.store.name.as_deref(), Some("#1001"));
        assert_eq!(
            read.tiktok_order_id().unwrap().as_str(),
            "576461413038785752"
        );
        let tracking = &read.store.fulfillments[0].tracking;
        assert_eq!(tracking.len(), 1, "entries without a number are dropped");
        // Kept as the store holds it: relayed exactly or refused, never silently repaired.
        assert_eq!(tracking[0].number, "JX1\u{1b}[2J");
        assert_eq!(tracking[0].carrier.as_deref(), Some("Royal Mail"));

        let mut cancelled = wire.clone();
        cancelled["cancelledAt"] = json!("2025-11-03T00:00:00Z");
        cancelled["closed"] = json!(true);
        assert_eq!(
            read_order(&cancelled).unwrap().store.status,
            StorefrontOrderStatus::Cancelled
        );
        let mut closed = wire;
        closed["closed"] = json!(true);
        assert_eq!(
            read_order(&closed).unwrap().store.status,
            StorefrontOrderStatus::Closed
        );
        assert!(read_order(&json!({"id": "gid://shopify/Order/1"})).is_err());
    }

    #[test]
    fn staff_notes_fit_shopify() {
        assert_eq!(staff_note("  "), None);
        assert_eq!(staff_note(&"x".repeat(300)).unwrap().chars().count(), 255);
    }
}
