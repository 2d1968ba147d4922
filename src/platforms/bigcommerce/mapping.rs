//! Translation between domain types and BigCommerce's wire shapes: a `StorefrontOrderDraft`
//! becomes a `POST /v2/orders` body; an order with its products and shipments becomes a
//! `StorefrontOrder`; catalog variants become `SkuMatch`es. Nothing BigCommerce-shaped leaves
//! this module.
//!
//! Invariants: every line is a catalog line naming the product resolved beforehand
//! (`product_id`, plus `variant_id` for a product with options), never a custom line, which
//! moves no stock; line prices go as numbers, both `price_inc_tax` and `price_ex_tax` (a pair
//! is overridden together or not at all); the TikTok order id goes in `external_order_id`
//! (`external_id` is read-only and refused); orders are created Awaiting Fulfillment (11),
//! TikTok having collected the money; each shipment is one parcel with its exact units.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::domain::ids::StorefrontOrderId;
use crate::domain::order::{
    Fulfillment, StoreLine, StorefrontOrder, StorefrontOrderStatus, Tracking, Units,
};
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::import::{DraftAddress, STORE_ORDER_TAG, SkuMatch, StorefrontOrderDraft};
use crate::domain::text;

/// `status_id` values orderdeck reads or writes (`GET /v2/order_statuses`).
pub mod status {
    pub const SHIPPED: u64 = 2;
    pub const PARTIALLY_SHIPPED: u64 = 3;
    pub const REFUNDED: u64 = 4;
    pub const CANCELLED: u64 = 5;
    pub const DECLINED: u64 = 6;
    pub const COMPLETED: u64 = 10;
    pub const AWAITING_FULFILLMENT: u64 = 11;
    pub const PARTIALLY_REFUNDED: u64 = 14;
}

/// Why a draft cannot be sent: a caller bug (the SKU lookup was skipped), not a store answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("line {sku} has no BigCommerce product id: resolve its SKU first")]
    NoProduct { sku: String },
    #[error("line {sku} has quantity 0")]
    NoQuantity { sku: String },
    #[error("line {sku}: price {price:?} is not a decimal amount")]
    Price { sku: String, price: String },
    #[error("the draft has no lines")]
    NoLines,
    #[error(
        "the recipient's postal code {0:?} is shorter than the two characters BigCommerce needs"
    )]
    Zip(String),
}

/// The store item id of a catalog variant: `{product_id}` for a product's base variant (no
/// options: the product alone names it), `{product_id}/{variant_id}` for an option combination.
pub fn item_id(variant: &Value) -> Option<String> {
    let product = variant.get("product_id")?.as_u64().filter(|id| *id > 0)?;
    let id = variant.get("id")?.as_u64().filter(|id| *id > 0)?;
    let options = variant
        .get("option_values")
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty());
    Some(if options {
        format!("{product}/{id}")
    } else {
        product.to_string()
    })
}

/// The variants of a `GET /v3/catalog/variants?sku=` answer that carry exactly `sku`.
pub fn sku_match(variants: &[Value], sku: &str) -> SkuMatch {
    let ids: Vec<String> = variants
        .iter()
        .filter(|v| v.get("sku").and_then(Value::as_str).map(str::trim) == Some(sku.trim()))
        .filter_map(item_id)
        .collect();
    match ids.as_slice() {
        [] => SkuMatch::None,
        [one] => SkuMatch::One(one.clone()),
        several => SkuMatch::Many(several.len()),
    }
}

fn product_reference(item: &str) -> Option<Map<String, Value>> {
    let number = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
    let mut out = Map::new();
    match item.split_once('/') {
        Some((product, variant)) => {
            out.insert("product_id".into(), json!(number(product)?));
            out.insert("variant_id".into(), json!(number(variant)?));
        }
        None => {
            out.insert("product_id".into(), json!(number(item)?));
        }
    }
    Some(out)
}

/// A decimal amount as a JSON number (`"12.50"` → `12.5`); `None` unless it is plain digits.
pub fn amount(text: &str) -> Option<Value> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 6 {
        return None;
    }
    serde_json::from_str::<serde_json::Number>(text)
        .ok()
        .map(Value::Number)
}

/// `billingAddress_Base` / `shippingAddress_Base` from TikTok's recipient. Blanks are left out
/// of a new order, and sent empty in a replacement (else the old line would stay).
fn address(address: &DraftAddress, replace: bool) -> Value {
    let mut fields = Map::new();
    let mut put = |key: &str, value: &str| {
        let value = value.trim();
        if replace || !value.is_empty() {
            fields.insert(key.to_string(), json!(value));
        }
    };
    put("first_name", &address.first_name);
    put("last_name", &address.last_name);
    put("street_1", &address.address1);
    put("street_2", &address.address2);
    put("city", &address.city);
    put("state", &address.province);
    put("zip", &address.zip);
    put("country_iso2", &address.country_code.to_uppercase());
    put("phone", &address.phone);
    Value::Object(fields)
}

/// The `POST /v2/orders` body for a draft: catalog lines at TikTok's prices, the recipient as
/// billing and shipping address (TikTok gives no billing address), a guest order, paid
/// (Awaiting Fulfillment), the TikTok order id in `external_order_id`.
pub fn order_create_body(draft: &StorefrontOrderDraft) -> Result<Value, DraftError> {
    if draft.lines.is_empty() {
        return Err(DraftError::NoLines);
    }
    if draft.address.zip.trim().chars().count() < 2 {
        return Err(DraftError::Zip(text::sanitize(draft.address.zip.trim())));
    }
    let mut products = Vec::with_capacity(draft.lines.len());
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
        let price = amount(&line.unit_price).ok_or_else(|| DraftError::Price {
            sku: sku.clone(),
            price: text::sanitize(&line.unit_price),
        })?;
        item.insert("quantity".into(), json!(line.quantity));
        // The buyer paid TikTok's price, not the catalogue's; TikTok's price is what was paid.
        item.insert("price_inc_tax".into(), price.clone());
        item.insert("price_ex_tax".into(), price);
        products.push(Value::Object(item));
    }
    let to = address(&draft.address, false);
    let mut body = json!({
        "status_id": status::AWAITING_FULFILLMENT,
        "customer_id": 0,
        "payment_method": STORE_ORDER_TAG,
        "external_order_id": draft.tiktok_order_id.as_str(),
        "staff_notes": format!("{STORE_ORDER_TAG} order {}", draft.tiktok_order_id),
        "billing_address": to.clone(),
        "shipping_addresses": [to],
        "products": products,
    });
    if let Some(note) = draft.note.as_deref().filter(|n| !n.trim().is_empty()) {
        body["customer_message"] = json!(note);
    }
    Ok(body)
}

/// The `PUT /v2/orders/{id}/shipping_addresses/{address}` body for TikTok's new details.
pub fn ship_to_body(to: &ShipTo) -> Value {
    address(&to.address, true)
}

/// An order as read: the domain view and what the client needs besides.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOrder {
    pub store: StorefrontOrder,
    pub tiktok_order_id: Option<String>,
    pub status_id: u64,
    /// BigCommerce's name for the status (`Awaiting Fulfillment`…), for messages.
    pub status_name: String,
    /// Notes are replaced, not appended, by a PUT: a new line goes after these.
    pub staff_notes: String,
}

/// `date_modified` / `date_created`: RFC 2822 (`Tue, 05 Mar 2019 21:40:11 +0000`).
pub fn rfc2822(value: Option<&Value>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value?.as_str()?.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The TikTok order id an order carries in `external_order_id`, if any.
pub fn tiktok_id(order: &Value) -> Option<String> {
    match order.get("external_order_id")? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// Whether BigCommerce says some of the order left the warehouse.
pub fn shipped_status(status_id: u64) -> bool {
    matches!(
        status_id,
        status::SHIPPED | status::PARTIALLY_SHIPPED | status::COMPLETED
    )
}

/// Reads an order with its products and shipments. `products: None` (a cheap poll read):
/// the lines are left out and the unit count comes from `items_total`; shipments are then
/// read only when there are some, with their products.
pub fn read_order(
    order: &Value,
    products: Option<&[Value]>,
    shipments: &[Value],
) -> Result<ReadOrder, String> {
    let id = order
        .get("id")
        .and_then(Value::as_u64)
        .ok_or("the order has no numeric id")?;
    let order_id = StorefrontOrderId::new(id.to_string()).map_err(|e| e.to_string())?;
    let status_id = order
        .get("status_id")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("order {id} has no status_id"))?;
    let updated_at = rfc2822(order.get("date_modified"))
        .or_else(|| rfc2822(order.get("date_created")))
        .ok_or_else(|| format!("order {id}: date_modified is not an RFC 2822 date"))?;
    let status = match status_id {
        status::CANCELLED => StorefrontOrderStatus::Cancelled,
        status::REFUNDED | status::DECLINED | status::COMPLETED => StorefrontOrderStatus::Closed,
        _ => StorefrontOrderStatus::Open,
    };
    let mut lines = Vec::new();
    for (i, product) in products.unwrap_or_default().iter().enumerate() {
        let line_id = product
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("order {id}: product {i} has no id"))?;
        let quantity = product
            .get("quantity")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("order {id}: product {i} has no quantity"))?;
        lines.push(StoreLine {
            id: line_id.to_string(),
            sku: text_field(product, "sku").unwrap_or_default().to_string(),
            quantity: u32::try_from(quantity).unwrap_or(u32::MAX),
        });
    }
    let fulfillments = shipments
        .iter()
        .enumerate()
        .map(|(i, s)| fulfillment(s, i, &lines))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|why| format!("order {id}: {why}"))?;
    let refunded_amount = text_field(order, "refunded_amount")
        .and_then(|a| a.parse::<f64>().ok())
        .unwrap_or(0.0);
    let refunded =
        matches!(status_id, status::REFUNDED | status::PARTIALLY_REFUNDED) || refunded_amount > 0.0;
    let unit_count = match products {
        Some(_) => None,
        None => order
            .get("items_total")
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
    };
    let store = StorefrontOrder {
        order_id,
        name: Some(format!("#{id}")),
        cancelled_at: (status == StorefrontOrderStatus::Cancelled).then_some(updated_at),
        status,
        fulfillments,
        lines,
        unit_count,
        refunded,
        updated_at,
    };
    Ok(ReadOrder {
        store,
        tiktok_order_id: tiktok_id(order),
        status_id,
        status_name: text_field(order, "status").unwrap_or("unknown").to_string(),
        staff_notes: order
            .get("staff_notes")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

fn text_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// One shipment: a parcel with its tracking and its exact units (`items[]` name order
/// products). The carrier is `tracking_carrier` when set (an AfterShip slug, set by shipping
/// apps), else `shipping_provider` (set in the control panel).
fn fulfillment(shipment: &Value, index: usize, lines: &[StoreLine]) -> Result<Fulfillment, String> {
    let id = shipment
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("shipment {index} has no id"))?;
    let mut units = Vec::new();
    for item in shipment
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let product = item.get("order_product_id").and_then(Value::as_u64);
        let quantity = item.get("quantity").and_then(Value::as_u64).unwrap_or(0);
        let sku = product
            .and_then(|p| lines.iter().find(|l| l.id == p.to_string()))
            .map(|l| l.sku.clone())
            .ok_or_else(|| {
                format!(
                    "shipment {id} names order product {product:?}, which the order does not list"
                )
            })?;
        Units::add(
            &mut units,
            &sku,
            u32::try_from(quantity).unwrap_or(u32::MAX),
        );
    }
    let carrier = text_field(shipment, "tracking_carrier")
        .or_else(|| text_field(shipment, "shipping_provider"))
        .map(str::to_string);
    let url = text_field(shipment, "tracking_link")
        .or_else(|| text_field(shipment, "generated_tracking_link"))
        .map(str::to_string);
    let tracking = text_field(shipment, "tracking_number")
        .map(|number| Tracking {
            number: number.to_string(),
            carrier,
            url,
        })
        .into_iter()
        .collect();
    Ok(Fulfillment {
        id: id.to_string(),
        status: "shipped".into(),
        created_at: rfc2822(shipment.get("date_created")),
        tracking,
        lines: units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TiktokOrderId;
    use crate::domain::rules::import::DraftLine;
    use crate::domain::settings::InventoryBehaviour;

    fn draft(items: &[Option<&str>]) -> StorefrontOrderDraft {
        StorefrontOrderDraft {
            tiktok_order_id: TiktokOrderId::new("576461413038785752").unwrap(),
            lines: items
                .iter()
                .enumerate()
                .map(|(i, item)| DraftLine {
                    seller_sku: format!("SKU-{i}"),
                    store_item_id: item.map(str::to_string),
                    title: "Jumper".into(),
                    quantity: 2,
                    unit_price: "12.50".into(),
                })
                .collect(),
            currency: "USD".into(),
            address: DraftAddress {
                first_name: "Ada".into(),
                last_name: "Byron".into(),
                address1: "1 Main St".into(),
                city: "Austin".into(),
                province: "Texas".into(),
                country_code: "us".into(),
                zip: "78701".into(),
                ..DraftAddress::default()
            },
            note: Some("Leave at the door".into()),
            tags: vec![STORE_ORDER_TAG.into()],
            inventory: InventoryBehaviour::Bypass,
            amazon: Default::default(),
        }
    }

    #[test]
    fn the_create_body_has_catalog_lines_and_the_tiktok_id() {
        let body = order_create_body(&draft(&[Some("31"), Some("32/77")])).unwrap();
        assert_eq!(
            body["products"][0],
            json!({"product_id": 31, "quantity": 2, "price_inc_tax": 12.5, "price_ex_tax": 12.5})
        );
        assert_eq!(body["products"][1]["variant_id"], 77);
        assert_eq!(body["status_id"], 11);
        assert_eq!(body["external_order_id"], "576461413038785752");
        assert!(body.get("external_id").is_none());
        assert_eq!(body["billing_address"]["country_iso2"], "US");
        assert_eq!(body["shipping_addresses"][0]["street_1"], "1 Main St");
        assert!(body["shipping_addresses"][0].get("street_2").is_none());
        assert_eq!(body["customer_message"], "Leave at the door");
        assert_eq!(
            order_create_body(&draft(&[None])),
            Err(DraftError::NoProduct {
                sku: "SKU-0".into()
            })
        );
        let mut short = draft(&[Some("1")]);
        short.address.zip = "9".into();
        assert!(matches!(order_create_body(&short), Err(DraftError::Zip(_))));
    }

    #[test]
    fn amounts_are_plain_decimals() {
        assert_eq!(amount("12.50"), Some(json!(12.5)));
        assert_eq!(amount("7"), Some(json!(7)));
        assert_eq!(amount("-1"), None);
        assert_eq!(amount("1e3"), None);
        assert_eq!(amount(""), None);
    }

    #[test]
    fn variants_match_exact_skus_and_name_their_product() {
        let variants = [
            json!({"id": 5, "product_id": 3, "sku": "A", "option_values": []}),
            json!({"id": 6, "product_id": 4, "sku": "B", "option_values": [{"id": 1, "option_id": 2}]}),
            json!({"id": 7, "product_id": 4, "sku": "BB", "option_values": [{"id": 1, "option_id": 2}]}),
        ];
        assert_eq!(sku_match(&variants, "A"), SkuMatch::One("3".into()));
        assert_eq!(sku_match(&variants, "B"), SkuMatch::One("4/6".into()));
        assert_eq!(sku_match(&variants, "C"), SkuMatch::None);
        let twice = [
            variants[0].clone(),
            json!({"id": 9, "product_id": 8, "sku": "A", "option_values": []}),
        ];
        assert_eq!(sku_match(&twice, "A"), SkuMatch::Many(2));
    }

    #[test]
    fn shipments_are_parcels_with_their_units() {
        let order = json!({"id": 100, "status_id": 3, "status": "Partially Shipped",
            "date_modified": "Tue, 05 Mar 2019 21:40:11 +0000", "external_order_id": "5764",
            "staff_notes": "x", "items_total": 3});
        let products = [
            json!({"id": 1, "sku": "A", "quantity": 2}),
            json!({"id": 2, "sku": "B", "quantity": 1}),
        ];
        let shipments = [
            json!({"id": 9, "tracking_number": "1Z9", "tracking_carrier": "",
            "shipping_provider": "upsready", "items": [{"order_product_id": 1, "product_id": 31, "quantity": 2}],
            "date_created": "Wed, 06 Mar 2019 10:00:00 +0000"}),
        ];
        let read = read_order(&order, Some(&products), &shipments).unwrap();
        assert_eq!(read.tiktok_order_id.as_deref(), Some("5764"));
        assert_eq!(read.store.status, StorefrontOrderStatus::Open);
        assert_eq!(read.store.name.as_deref(), Some("#100"));
        let f = &read.store.fulfillments[0];
        assert_eq!(
            f.lines,
            vec![Units {
                sku: "A".into(),
                quantity: 2
            }]
        );
        assert_eq!(f.tracking[0].carrier.as_deref(), Some("upsready"));
        assert_eq!(read.store.units_now(), Some(3));
        let cheap = read_order(&order, None, &[]).unwrap();
        assert!(cheap.store.lines.is_empty());
        assert_eq!(cheap.store.units_now(), Some(3));
        let bad = [json!({"id": 9, "items": [{"order_product_id": 99, "quantity": 1}]})];
        assert!(read_order(&order, Some(&products), &bad).is_err());
        let cancelled =
            json!({"id": 1, "status_id": 5, "date_modified": "Tue, 05 Mar 2019 21:40:11 +0000"});
        let read = read_order(&cancelled, None, &[]).unwrap();
        assert_eq!(read.store.status, StorefrontOrderStatus::Cancelled);
        assert!(read.store.cancelled_at.is_some());
    }
}
