//! Translation between orderdeck's domain and Amazon's Fulfillment Outbound 2020-07-01 wire
//! format (`shared/platforms/amazon-mcf.md`): the `createFulfillmentOrder` body of a draft, and
//! a `getFulfillmentOrder` / `listAllFulfillmentOrders` record as a [`StorefrontOrder`].
//!
//! A fulfillment order is keyed by the TikTok order id (`sellerFulfillmentOrderId` =
//! `displayableOrderId`), which is what makes "one TikTok order, one fulfillment order" exact.
//! Every field sent is one the contract names; MCF takes no price, payment or tag.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::config::AmazonMcfConfig;
use crate::domain::clock::Timestamp;
use crate::domain::ids::StorefrontOrderId;
use crate::domain::order::{StorefrontOrder, StorefrontOrderStatus};
use crate::domain::rules::import::StorefrontOrderDraft;
use crate::domain::store_order::{Fulfillment, StoreLine, Tracking, Units};
use crate::domain::text;

/// `displayableOrderComment` (required, printed on the packing slip). Also how a change poll
/// tells orderdeck's fulfillment orders from the seller's other MCF orders.
pub const ORDER_COMMENT: &str = "Thank you for your TikTok Shop order";
/// The `featureConstraints` feature that keeps Amazon Logistics (AMZL) from delivering an order.
pub const BLOCK_AMAZON_LOGISTICS: &str = "BLOCK_AMZL";
/// `sellerFulfillmentOrderId` / `displayableOrderId` at most 40 characters.
const ORDER_ID_MAX: usize = 40;
/// `sellerSku` at most 50 characters.
const SKU_MAX: usize = 50;
/// At most 100 items and 250 units per fulfillment order.
const ITEMS_MAX: usize = 100;
const UNITS_MAX: u32 = 250;

/// The create body and, for each `sellerFulfillmentOrderItemId`, its SKU (Amazon's refusal of
/// an unknown SKU names the item id only).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRequest {
    pub body: Value,
    pub item_skus: HashMap<String, String>,
}

/// The body of `createFulfillmentOrder`, or why this draft cannot be one (a person fixes it).
pub fn create_request(
    draft: &StorefrontOrderDraft,
    config: &AmazonMcfConfig,
    ordered_at: Timestamp,
) -> Result<CreateRequest, String> {
    let id = draft.tiktok_order_id.as_str();
    if id.is_empty() || id.len() > ORDER_ID_MAX || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "TikTok order id {} cannot be an Amazon displayableOrderId (1-40 letters and digits)",
            text::sanitize(id)
        ));
    }
    // One item per SKU, its quantity the units TikTok sent for it (one line per unit).
    let mut units: Vec<Units> = Vec::new();
    for line in &draft.lines {
        let sku = line.seller_sku.trim();
        if sku.chars().count() > SKU_MAX {
            return Err(format!(
                "SKU {} is longer than Amazon's 50 characters",
                text::sanitize(sku)
            ));
        }
        Units::add(&mut units, sku, line.quantity);
    }
    let total: u32 = units.iter().map(|u| u.quantity).sum();
    if units.is_empty() || units.len() > ITEMS_MAX || total > UNITS_MAX {
        return Err(format!(
            "{} SKUs and {total} units: Amazon takes 1-{ITEMS_MAX} SKUs and at most {UNITS_MAX} units per fulfillment order",
            units.len()
        ));
    }
    let mut item_skus = HashMap::new();
    let items: Vec<Value> = units
        .iter()
        .enumerate()
        .map(|(n, u)| {
            let item_id = (n + 1).to_string();
            item_skus.insert(item_id.clone(), u.sku.clone());
            json!({
                "sellerSku": u.sku,
                "sellerFulfillmentOrderItemId": item_id,
                "quantity": u.quantity,
            })
        })
        .collect();
    let options = &draft.amazon;
    let mut body = json!({
        "marketplaceId": config.marketplace_id.trim(),
        "sellerFulfillmentOrderId": id,
        "displayableOrderId": id,
        "displayableOrderDate": ordered_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "displayableOrderComment": ORDER_COMMENT,
        "shippingSpeedCategory": options.shipping_speed.as_wire(),
        "fulfillmentPolicy": options.fulfillment_policy.as_wire(),
        "destinationAddress": address(draft)?,
        "items": items,
    });
    if options.block_amazon_logistics {
        // `Required`: Amazon refuses the order rather than deliver it with Amazon Logistics.
        body["featureConstraints"] = json!([
            {"featureName": BLOCK_AMAZON_LOGISTICS, "featureFulfillmentPolicy": "Required"},
        ]);
    }
    Ok(CreateRequest { body, item_skus })
}

/// The fulfillment order Amazon just accepted, as a read would show it: the request's fields
/// and items, `New` since `at` (Amazon answers a create with `{}` alone). Reading it back
/// instead would spend a getFulfillmentOrder token — that operation has the same 2/s as the
/// creates, and the engine already spends one on the read before each create.
pub fn accepted_order(request: &CreateRequest, at: Timestamp) -> Result<ReadOrder, String> {
    let mut order = request.body.clone();
    let at = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    order["fulfillmentOrderStatus"] = json!("New");
    order["receivedDate"] = json!(at);
    order["statusUpdatedDate"] = json!(at);
    read_order(&json!({
        "fulfillmentOrder": order,
        "fulfillmentOrderItems": request.body["items"],
    }))
}

/// `destinationAddress` from the TikTok recipient. The buyer's masked TikTok e-mail is never
/// sent (amazon-mcf.md: no `notificationEmails`).
fn address(draft: &StorefrontOrderDraft) -> Result<Value, String> {
    let a = &draft.address;
    let country = a.country_code.trim().to_ascii_uppercase();
    let name = format!("{} {}", a.first_name.trim(), a.last_name.trim())
        .trim()
        .to_string();
    let mut address = serde_json::Map::new();
    for (key, value, required) in [
        ("name", name.as_str(), true),
        ("addressLine1", a.address1.trim(), true),
        ("addressLine2", a.address2.trim(), false),
        ("city", a.city.trim(), country != "JP"),
        ("stateOrRegion", a.province.trim(), false),
        ("postalCode", a.zip.trim(), true),
        ("countryCode", country.as_str(), true),
        ("phone", a.phone.trim(), false),
    ] {
        if value.is_empty() {
            if required {
                return Err(format!(
                    "the TikTok recipient has no {key}, which Amazon requires"
                ));
            }
            continue;
        }
        address.insert(key.into(), Value::String(value.to_string()));
    }
    Ok(Value::Object(address))
}

/// The SKU Amazon refused, from its message "the SellerSKU for Item Id: <id> is invalid."
/// and the request's item map.
pub fn refused_sku(message: &str, item_skus: &HashMap<String, String>) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    if !lower.contains("sellersku") {
        return None;
    }
    let at = lower.find("item id:")? + "item id:".len();
    let id: String = message[at..]
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    item_skus
        .get(id.trim_end_matches('.'))
        .or_else(|| item_skus.get(&id))
        .cloned()
}

/// A fulfillment order as orderdeck reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOrder {
    pub store: StorefrontOrder,
    /// `fulfillmentOrderStatus` as Amazon wrote it (`Received`, `Processing`…).
    pub wire_status: String,
    pub comment: String,
}

impl ReadOrder {
    /// Amazon takes a seller's cancel only while the order is `Received` or `Planning`.
    pub fn cancellable(&self) -> bool {
        matches!(self.wire_status.as_str(), "Received" | "Planning")
    }
}

fn string<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn time(v: &Value, key: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(string(v, key)?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn quantity(v: &Value, key: &str) -> u32 {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|q| u32::try_from(q).ok())
        .unwrap_or(0)
}

/// The `fulfillmentOrder` of a list page, or the whole `payload` of getFulfillmentOrder (with
/// items and shipments), read as the domain sees it. Errors name the field.
pub fn read_order(payload: &Value) -> Result<ReadOrder, String> {
    let order = payload.get("fulfillmentOrder").unwrap_or(payload);
    let id = string(order, "sellerFulfillmentOrderId")
        .ok_or("the fulfillment order has no sellerFulfillmentOrderId")?;
    let order_id = StorefrontOrderId::new(id)
        .map_err(|e| format!("sellerFulfillmentOrderId {}: {e}", text::sanitize(id)))?;
    let wire_status = string(order, "fulfillmentOrderStatus")
        .ok_or_else(|| {
            format!(
                "fulfillment order {} has no fulfillmentOrderStatus",
                text::sanitize(id)
            )
        })?
        .to_string();
    let updated_at = time(order, "statusUpdatedDate")
        .or_else(|| time(order, "receivedDate"))
        .ok_or_else(|| {
            format!(
                "fulfillment order {} has no readable statusUpdatedDate",
                text::sanitize(id)
            )
        })?;
    let status = match wire_status.as_str() {
        "Cancelled" => StorefrontOrderStatus::Cancelled,
        "Complete" | "CompletePartialled" => StorefrontOrderStatus::Closed,
        // New … Processing, and Unfulfillable / Invalid (a person must act; TikTok still
        // expects the parcel) are all still open.
        _ => StorefrontOrderStatus::Open,
    };
    let lines = payload
        .get("fulfillmentOrderItems")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| StoreLine {
                    id: string(item, "sellerFulfillmentOrderItemId")
                        .unwrap_or_default()
                        .to_string(),
                    sku: string(item, "sellerSku").unwrap_or_default().to_string(),
                    quantity: quantity(item, "quantity")
                        .saturating_sub(quantity(item, "cancelledQuantity")),
                })
                .collect()
        })
        .unwrap_or_default();
    let fulfillments = payload
        .get("fulfillmentShipments")
        .and_then(Value::as_array)
        .map(|shipments| shipments.iter().flat_map(parcels).collect())
        .unwrap_or_default();
    Ok(ReadOrder {
        store: StorefrontOrder {
            order_id,
            name: string(order, "displayableOrderId").map(text::sanitize),
            cancelled_at: (status == StorefrontOrderStatus::Cancelled).then_some(updated_at),
            status,
            fulfillments,
            lines,
            unit_count: None,
            refunded: false,
            updated_at,
        },
        wire_status,
        comment: string(order, "displayableOrderComment")
            .unwrap_or_default()
            .to_string(),
    })
}

/// A `SHIPPED` shipment as fulfillments, one per package with the units packed in it (each
/// package is a TikTok package with its own tracking). `PENDING` shipments have not left and
/// cancelled ones (Amazon re-plans those) never will: neither counts.
fn parcels(shipment: &Value) -> Vec<Fulfillment> {
    if string(shipment, "fulfillmentShipmentStatus") != Some("SHIPPED") {
        return Vec::new();
    }
    let shipment_id = string(shipment, "amazonShipmentId").unwrap_or_default();
    let shipped_at = time(shipment, "shippingDate");
    let items: Vec<&Value> = shipment
        .get("fulfillmentShipmentItem")
        .and_then(Value::as_array)
        .map(|items| items.iter().collect())
        .unwrap_or_default();
    let packages: Vec<&Value> = shipment
        .get("fulfillmentShipmentPackage")
        .and_then(Value::as_array)
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    let units_of = |number: Option<u64>| {
        let mut tally = Vec::new();
        for item in &items {
            let in_package = item.get("packageNumber").and_then(Value::as_u64);
            // An item without a package number is in the shipment's only package.
            if number.is_none()
                || in_package == number
                || (in_package.is_none() && packages.len() == 1)
            {
                Units::add(
                    &mut tally,
                    string(item, "sellerSku").unwrap_or_default(),
                    quantity(item, "quantity"),
                );
            }
        }
        tally
    };
    if packages.is_empty() {
        return vec![Fulfillment {
            id: shipment_id.to_string(),
            status: "SHIPPED".into(),
            created_at: shipped_at,
            tracking: Vec::new(),
            lines: units_of(None),
        }];
    }
    packages
        .iter()
        .map(|package| {
            let number = package.get("packageNumber").and_then(Value::as_u64);
            let tracking = string(package, "trackingNumber")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                // Kept as Amazon wrote them: a number with control characters is refused
                // before it reaches TikTok (`check_pushable`), never repaired into another.
                .map(|t| Tracking {
                    number: t.to_string(),
                    carrier: string(package, "carrierCode").map(str::to_string),
                    url: None,
                });
            Fulfillment {
                id: format!("{shipment_id}/{}", number.unwrap_or(0)),
                status: "SHIPPED".into(),
                created_at: shipped_at,
                tracking: tracking.into_iter().collect(),
                lines: units_of(number.or(Some(u64::MAX))),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
