//! Translation between domain types and WooCommerce's wire shapes (wc/v3): a
//! `StorefrontOrderDraft` becomes a `POST /orders` body; an order resource and its Shipment
//! Tracking items become a `StorefrontOrder`; product search results become `SkuMatch`es.
//! Nothing WooCommerce-shaped leaves this module.
//!
//! Invariants: every line names the product resolved beforehand (`product_id`, plus
//! `variation_id` for a variation) and never a bare `sku`, since an unknown SKU makes WooCommerce
//! create a line without a product and answer 201; money goes as strings (a number is refused);
//! no billing e-mail is sent, so WooCommerce has no one to e-mail about the order; the TikTok
//! order id is kept in the order's `meta_data` under [`TIKTOK_ID_META`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use crate::domain::ids::StorefrontOrderId;
use crate::domain::order::{
    Fulfillment, StoreLine, StorefrontOrder, StorefrontOrderStatus, Tracking, Units,
};
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::import::{DraftAddress, STORE_ORDER_TAG, SkuMatch, StorefrontOrderDraft};
use crate::domain::text;

/// The order meta key holding the TikTok order id (underscore: hidden from the admin's custom
/// fields box, still returned in `meta_data`).
pub const TIKTOK_ID_META: &str = "_tiktok_order_id";
/// `payment_method` of every order orderdeck creates; its title names TikTok Shop for staff.
pub const PAYMENT_METHOD: &str = "tiktok_shop";

/// Why a draft cannot be sent: a caller bug (the SKU lookup was skipped), not a store answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("line {sku} has no WooCommerce product id: resolve its SKU first")]
    NoProduct { sku: String },
    #[error("line {sku} has quantity 0")]
    NoQuantity { sku: String },
    #[error("line {sku}: price {price:?} is not a decimal amount")]
    Price { sku: String, price: String },
    #[error("the draft has no lines")]
    NoLines,
}

/// The store item id of a product search result: `{id}` for a simple product,
/// `{parent}/{variation}` for a variation (an order line needs both).
pub fn item_id(product: &Value) -> Option<String> {
    let id = product.get("id")?.as_u64().filter(|id| *id > 0)?;
    let parent = product
        .get("parent_id")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let variation = product.get("type").and_then(Value::as_str) == Some("variation");
    Some(if variation && parent > 0 {
        format!("{parent}/{id}")
    } else {
        id.to_string()
    })
}

/// The products of a search that carry exactly `sku` and can be put on an order (a variable
/// product's parent cannot: its variations are the items).
pub fn sku_match(products: &[Value], sku: &str) -> SkuMatch {
    let ids: Vec<String> = products
        .iter()
        .filter(|p| p.get("sku").and_then(Value::as_str).map(str::trim) == Some(sku.trim()))
        .filter(|p| p.get("type").and_then(Value::as_str) != Some("variable"))
        .filter_map(item_id)
        .collect();
    match ids.as_slice() {
        [] => SkuMatch::None,
        [one] => SkuMatch::One(one.clone()),
        several => SkuMatch::Many(several.len()),
    }
}

/// `{"product_id"}` or `{"product_id", "variation_id"}` for a store item id.
fn product_reference(item: &str) -> Option<Map<String, Value>> {
    let number = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
    let mut out = Map::new();
    match item.split_once('/') {
        Some((parent, variation)) => {
            out.insert("product_id".into(), json!(number(parent)?));
            out.insert("variation_id".into(), json!(number(variation)?));
        }
        None => {
            out.insert("product_id".into(), json!(number(item)?));
        }
    }
    Some(out)
}

/// `unit × quantity` as a decimal string with the unit's decimals (`"12.50" × 3 = "37.50"`);
/// money never goes through a float.
pub fn line_total(unit: &str, quantity: u32) -> Option<String> {
    let unit = unit.trim();
    let (whole, fraction) = unit.split_once('.').unwrap_or((unit, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 6
    {
        return None;
    }
    let scaled: u128 = format!("{whole}{fraction}").parse().ok()?;
    let total = scaled.checked_mul(u128::from(quantity))?;
    let digits = total.to_string();
    if fraction.is_empty() {
        return Some(digits);
    }
    let padded = format!("{digits:0>width$}", width = fraction.len() + 1);
    let (w, f) = padded.split_at(padded.len() - fraction.len());
    Some(format!("{w}.{f}"))
}

/// The `billing`/`shipping` object of an address; blank parts are left out.
fn address(address: &DraftAddress, with_phone: bool) -> Value {
    let mut fields = Map::new();
    let mut put = |key: &str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            fields.insert(key.to_string(), json!(value));
        }
    };
    put("first_name", &address.first_name);
    put("last_name", &address.last_name);
    put("address_1", &address.address1);
    put("address_2", &address.address2);
    put("city", &address.city);
    put("state", &address.province);
    put("postcode", &address.zip);
    put("country", &address.country_code.to_uppercase());
    if with_phone {
        put("phone", &address.phone);
    }
    Value::Object(fields)
}

/// The `POST /orders` body for a draft: `processing` (paid, not yet shipped: entering it sets
/// `date_paid` and reduces stock once) and `set_paid` (`payment_complete`, which leaves a
/// `processing` order as it is; without the status, an order of virtual items would become
/// `completed`), the TikTok order id in `meta_data` and as `transaction_id`, TikTok's prices as
/// line totals.
pub fn order_create_body(draft: &StorefrontOrderDraft) -> Result<Value, DraftError> {
    if draft.lines.is_empty() {
        return Err(DraftError::NoLines);
    }
    let mut lines = Vec::with_capacity(draft.lines.len());
    for line in &draft.lines {
        let sku = text::sanitize(&line.seller_sku);
        let mut item = line
            .store_item_id
            .as_deref()
            .and_then(product_reference)
            .ok_or_else(|| DraftError::NoProduct { sku: sku.clone() })?;
        if line.quantity == 0 {
            return Err(DraftError::NoQuantity { sku });
        }
        let total =
            line_total(&line.unit_price, line.quantity).ok_or_else(|| DraftError::Price {
                sku: sku.clone(),
                price: text::sanitize(&line.unit_price),
            })?;
        item.insert("quantity".into(), json!(line.quantity));
        // The buyer paid TikTok's price, not the catalogue's.
        item.insert("subtotal".into(), json!(total));
        item.insert("total".into(), json!(total));
        lines.push(Value::Object(item));
    }
    let mut body = json!({
        "status": "processing",
        "set_paid": true,
        "currency": draft.currency.trim().to_uppercase(),
        "customer_id": 0,
        "payment_method": PAYMENT_METHOD,
        "payment_method_title": STORE_ORDER_TAG,
        "transaction_id": draft.tiktok_order_id.as_str(),
        "billing": address(&draft.address, true),
        "shipping": address(&draft.address, true),
        "meta_data": [{ "key": TIKTOK_ID_META, "value": draft.tiktok_order_id.as_str() }],
        "line_items": lines,
    });
    if let Some(note) = draft.note.as_deref().filter(|n| !n.trim().is_empty()) {
        body["customer_note"] = json!(note);
    }
    Ok(body)
}

/// The `PUT /orders/{id}` body replacing the shipping address (and the buyer's message).
pub fn ship_to_body(to: &ShipTo, note: Option<&str>) -> Value {
    let mut body = json!({ "shipping": address(&to.address, true) });
    if let Some(note) = note {
        body["customer_note"] = json!(note);
    }
    body
}

/// An order as read: the domain view, and the TikTok id it carries (if orderdeck made it).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOrder {
    pub store: StorefrontOrder,
    pub tiktok_order_id: Option<String>,
    /// WooCommerce's own status (`processing`, `on-hold`…), which says whether stock was taken.
    pub wire_status: String,
}

/// A `*_gmt` date (`2025-11-03T10:00:00`, UTC without an offset).
fn gmt(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// The TikTok order id in an order's `meta_data` (scalar values come back as strings).
pub fn tiktok_id(order: &Value) -> Option<String> {
    order
        .get("meta_data")?
        .as_array()?
        .iter()
        .find(|m| m.get("key").and_then(Value::as_str) == Some(TIKTOK_ID_META))
        .and_then(|m| match m.get("value")? {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
}

/// Reads an order resource; `trackings` are its Shipment Tracking items, each of which stands
/// for the whole order (the extension records no lines).
pub fn read_order(order: &Value, trackings: &[Value]) -> Result<ReadOrder, String> {
    let id = order
        .get("id")
        .and_then(Value::as_u64)
        .ok_or("the order has no numeric id")?;
    let order_id = StorefrontOrderId::new(id.to_string()).map_err(|e| e.to_string())?;
    let wire_status = order
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("order {id} has no status"))?
        .to_string();
    let updated_at = gmt(order.get("date_modified_gmt"))
        .or_else(|| gmt(order.get("date_created_gmt")))
        .ok_or_else(|| format!("order {id}: date_modified_gmt is not a date"))?;
    let status = match wire_status.as_str() {
        "cancelled" => StorefrontOrderStatus::Cancelled,
        "completed" | "refunded" | "failed" | "trash" => StorefrontOrderStatus::Closed,
        // Plugins add statuses of their own: anything else is "not cancelled".
        _ => StorefrontOrderStatus::Open,
    };
    let mut lines = Vec::new();
    for (i, line) in order
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let line_id = line
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("order {id}: line_items[{i}] has no id"))?;
        let quantity = line
            .get("quantity")
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("order {id}: line_items[{i}].quantity is not a number"))?;
        lines.push(StoreLine {
            id: line_id.to_string(),
            sku: line
                .get("sku")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string(),
            quantity: u32::try_from(quantity.max(0)).unwrap_or(u32::MAX),
        });
    }
    let fulfillments = trackings
        .iter()
        .enumerate()
        .map(|(i, t)| fulfillment(t, i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|why| format!("order {id}: {why}"))?;
    let refunded = order
        .get("refunds")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty());
    let store = StorefrontOrder {
        order_id,
        name: order
            .get("number")
            .and_then(Value::as_str)
            .map(|n| format!("#{}", n.trim())),
        cancelled_at: (status == StorefrontOrderStatus::Cancelled).then_some(updated_at),
        status,
        fulfillments,
        lines,
        // Every read has the lines: the count is theirs.
        unit_count: None,
        refunded,
        updated_at,
    };
    Ok(ReadOrder {
        store,
        tiktok_order_id: tiktok_id(order),
        wire_status,
    })
}

/// One Shipment Tracking item: `{tracking_id, tracking_provider, tracking_link,
/// tracking_number, date_shipped: "Y-m-d"}`.
fn fulfillment(item: &Value, index: usize) -> Result<Fulfillment, String> {
    let field = |key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let id = field("tracking_id")
        .ok_or_else(|| format!("shipment tracking item {index} has no tracking_id"))?;
    let created_at = field("date_shipped")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    let tracking = field("tracking_number")
        .map(|number| Tracking {
            number: number.to_string(),
            carrier: field("tracking_provider").map(str::to_string),
            url: field("tracking_link").map(str::to_string),
        })
        .into_iter()
        .collect();
    Ok(Fulfillment {
        id: id.to_string(),
        status: "shipped".into(),
        created_at,
        tracking,
        lines: Vec::new(),
    })
}

/// Units of an order's lines that WooCommerce took from stock: every line with a SKU, once the
/// order reached a status that reduces stock (`wc-stock-functions.php`).
pub fn units_taken(read: &ReadOrder) -> Vec<Units> {
    if !matches!(
        read.wire_status.as_str(),
        "processing" | "completed" | "on-hold"
    ) {
        return Vec::new();
    }
    read.store
        .current_units()
        .into_iter()
        .filter(|u| !u.sku.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TiktokOrderId;
    use crate::domain::rules::import::DraftLine;
    use crate::domain::settings::InventoryBehaviour;

    #[test]
    fn totals_are_decimal_exact() {
        assert_eq!(line_total("12.50", 3).as_deref(), Some("37.50"));
        assert_eq!(line_total("0.05", 2).as_deref(), Some("0.10"));
        assert_eq!(line_total("7", 2).as_deref(), Some("14"));
        assert_eq!(line_total("19.99", 1).as_deref(), Some("19.99"));
        assert_eq!(line_total("-1.00", 1), None);
        assert_eq!(line_total("1e3", 1), None);
        assert_eq!(line_total("", 1), None);
    }

    fn draft(item: Option<&str>) -> StorefrontOrderDraft {
        StorefrontOrderDraft {
            tiktok_order_id: TiktokOrderId::new("576461413038785752").unwrap(),
            lines: vec![DraftLine {
                seller_sku: "CRO-00".into(),
                store_item_id: item.map(str::to_string),
                title: "Crochet jumper".into(),
                quantity: 2,
                unit_price: "12.50".into(),
            }],
            currency: "gbp".into(),
            address: DraftAddress {
                first_name: "Amara".into(),
                last_name: "Okafor".into(),
                address1: "1 High Street".into(),
                city: "London".into(),
                country_code: "gb".into(),
                zip: "N1 1AA".into(),
                ..DraftAddress::default()
            },
            note: None,
            tags: vec![STORE_ORDER_TAG.into()],
            inventory: InventoryBehaviour::Bypass,
            amazon: Default::default(),
        }
    }

    #[test]
    fn the_create_body_names_products_never_bare_skus() {
        let body = order_create_body(&draft(Some("31/45"))).unwrap();
        let line = &body["line_items"][0];
        assert_eq!(line["product_id"], 31);
        assert_eq!(line["variation_id"], 45);
        assert_eq!(line["total"], "25.00");
        assert!(line.get("sku").is_none());
        assert_eq!(body["set_paid"], true);
        assert_eq!(body["status"], "processing");
        assert_eq!(body["currency"], "GBP");
        assert!(body["billing"].get("email").is_none());
        assert_eq!(body["meta_data"][0]["key"], TIKTOK_ID_META);
        assert_eq!(body["shipping"]["country"], "GB");
        assert!(body["shipping"].get("address_2").is_none());
        assert_eq!(
            order_create_body(&draft(None)),
            Err(DraftError::NoProduct {
                sku: "CRO-00".into()
            })
        );
    }

    #[test]
    fn orders_and_tracking_items_read_back() {
        let order = json!({
            "id": 12, "number": "12", "status": "cancelled",
            "date_modified_gmt": "2025-11-03T10:00:00",
            "meta_data": [{"id": 1, "key": TIKTOK_ID_META, "value": "5764"}],
            "line_items": [{"id": 7, "sku": "CRO-00", "quantity": 2}, {"id": 8, "sku": null, "quantity": 1}],
            "refunds": [],
        });
        let trackings = [json!({"tracking_id": "abc", "tracking_provider": "Fedex",
            "tracking_link": "", "tracking_number": "1Z9", "date_shipped": "2025-11-02"})];
        let read = read_order(&order, &trackings).unwrap();
        assert_eq!(read.tiktok_order_id.as_deref(), Some("5764"));
        assert_eq!(read.store.status, StorefrontOrderStatus::Cancelled);
        assert!(read.store.cancelled_at.is_some());
        assert_eq!(read.store.name.as_deref(), Some("#12"));
        assert_eq!(read.store.lines[1].sku, "");
        let f = &read.store.fulfillments[0];
        assert_eq!(f.tracking[0].carrier.as_deref(), Some("Fedex"));
        assert_eq!(f.tracking[0].url, None);
        assert!(f.lines.is_empty());
        assert!(read_order(&json!({"id": "x"}), &[]).is_err());
    }

    #[test]
    fn sku_matches_skip_variable_parents() {
        let products = [
            json!({"id": 5, "sku": "A", "type": "variable", "parent_id": 0}),
            json!({"id": 6, "sku": "A", "type": "variation", "parent_id": 5}),
            json!({"id": 7, "sku": "AB", "type": "simple", "parent_id": 0}),
        ];
        assert_eq!(sku_match(&products, "A"), SkuMatch::One("5/6".into()));
        assert_eq!(sku_match(&products, "B"), SkuMatch::None);
        let dup = [json!({"id": 1, "sku": "D"}), json!({"id": 2, "sku": "D"})];
        assert_eq!(sku_match(&dup, "D"), SkuMatch::Many(2));
    }
}
