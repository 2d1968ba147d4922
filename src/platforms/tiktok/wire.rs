//! TikTok's JSON shapes, as the client reads and writes them. Field names are exactly the
//! documented ones (`tiktok-samples.json`); nothing above this module sees these types.
//!
//! Reading is lenient on purpose: every field is optional, a `null` reads like a missing
//! field, ids are accepted as strings or numbers, times as numbers or numeric strings, and enum
//! values stay text until the domain's open enums read them. A shape this lenient parse still
//! rejects is genuinely unreadable.

use serde::{Deserialize, Deserializer, Serialize};

/// `{code, message, request_id, data}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Envelope {
    #[serde(deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrderList {
    #[serde(deserialize_with = "null_as_default")]
    pub orders: Vec<serde_json::Value>,
    #[serde(deserialize_with = "lenient_string")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Order {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub create_time: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub update_time: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub paid_time: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub rts_sla_time: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub shipping_due_time: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub buyer_message: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_reason: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cancellation_initiator: Option<String>,
    pub is_buyer_request_cancel: Option<bool>,
    #[serde(deserialize_with = "lenient_string")]
    pub fulfillment_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub shipping_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub delivery_option_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub shipping_provider: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub tracking_number: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub packages: Vec<PackageRef>,
    pub payment: Option<Payment>,
    pub recipient_address: Option<Address>,
    #[serde(deserialize_with = "null_as_default")]
    pub line_items: Vec<LineItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PackageRef {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Payment {
    #[serde(deserialize_with = "lenient_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub total_amount: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Address {
    #[serde(deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub first_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub last_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub phone_number: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub full_address: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub address_line1: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub address_line2: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub address_line3: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub address_line4: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub postal_code: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub region_code: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub post_town: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub district_info: Vec<District>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct District {
    #[serde(deserialize_with = "lenient_string")]
    pub address_level: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub address_level_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub address_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LineItem {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub sku_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub seller_sku: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub product_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub sku_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub sale_price: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub package_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub tracking_number: Option<String>,
    /// Per unit: `TO_SHIP`, `CANCELLED`…
    #[serde(deserialize_with = "lenient_string")]
    pub display_status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CancellationList {
    #[serde(deserialize_with = "null_as_default")]
    pub cancellations: Vec<serde_json::Value>,
    #[serde(deserialize_with = "lenient_string")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Cancellation {
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub order_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_status: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub role: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_reason: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_reason_text: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub create_time: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub update_time: Option<i64>,
    #[serde(deserialize_with = "null_as_default")]
    pub seller_next_action_response: Vec<NextAction>,
    #[serde(deserialize_with = "null_as_default")]
    pub cancel_line_items: Vec<CancelLineItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CancelLineItem {
    #[serde(deserialize_with = "lenient_string")]
    pub order_line_item_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextAction {
    #[serde(deserialize_with = "lenient_string")]
    pub action: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub deadline: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShippingProviders {
    #[serde(deserialize_with = "null_as_default")]
    pub shipping_providers: Vec<Named>,
}

/// `{id, name}`: a shipping provider.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Named {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub name: Option<String>,
}

/// Mark Package As Shipped's `data`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShippedPackage {
    #[serde(deserialize_with = "lenient_string")]
    pub package_id: Option<String>,
    pub warning: Option<Warning>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Warning {
    #[serde(deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShippingDocument {
    #[serde(deserialize_with = "lenient_string")]
    pub doc_url: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub tracking_number: Option<String>,
}

/// Cancel Order's `data`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CancelCreated {
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cancel_status: Option<String>,
}

/// The auth host's token `data` (get and refresh). The `*_expire_in` values are absolute
/// unix times, not durations.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenGrant {
    #[serde(deserialize_with = "lenient_string")]
    pub access_token: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub access_token_expire_in: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub refresh_token: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub refresh_token_expire_in: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub open_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub seller_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub seller_base_region: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuthorizedShops {
    #[serde(deserialize_with = "null_as_default")]
    pub shops: Vec<Shop>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Shop {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub region: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub seller_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub cipher: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub code: Option<String>,
}

/// Request bodies. Optional members are omitted, never sent as `null`.
#[derive(Debug, Serialize)]
pub struct TimeWindow {
    pub update_time_ge: i64,
    pub update_time_lt: i64,
}

#[derive(Debug, Serialize)]
pub struct OrderCancellations<'a> {
    pub order_ids: [&'a str; 1],
}

#[derive(Debug, Serialize)]
pub struct MarkShipped<'a> {
    pub tracking_number: &'a str,
    pub shipping_provider_id: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub order_line_item_ids: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct ShipPackage<'a> {
    pub handover_method: &'static str,
    pub self_shipment: SelfShipment<'a>,
}

/// Also the body of Update Shipping Info, which has the same two fields.
#[derive(Debug, Serialize)]
pub struct SelfShipment<'a> {
    pub tracking_number: &'a str,
    pub shipping_provider_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct RejectCancellation<'a> {
    pub reject_reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct CancelOrder<'a> {
    pub order_id: &'a str,
    /// Only for a partial cancel; absent cancels the whole order.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub order_line_item_ids: &'a [String],
    pub cancel_reason: &'a str,
}

/// A string, or a number written as one (TikTok ids are strings; some SDKs saw numbers).
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// A number, or a string holding one (unix seconds, codes).
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    // Lenient about the form (a number or a numeric string), never about the value: a time
    // that cannot be read is an error naming it, not a field silently left empty.
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, not {n}"))),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
        serde_json::Value::String(s) => s.trim().parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "expected a whole number, not \"{}\"",
                crate::domain::text::truncate(&crate::domain::text::sanitize(&s), 40)
            ))
        }),
        other => Err(serde::de::Error::custom(format!(
            "expected a whole number, not {}",
            crate::domain::text::truncate(&crate::domain::text::sanitize(&other.to_string()), 40)
        ))),
    }
}

/// A list where `null` (or a stray non-list) reads as empty.
fn null_as_default<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match serde_json::Value::deserialize(d)? {
        value @ serde_json::Value::Array(_) => {
            serde_json::from_value(value).map_err(serde::de::Error::custom)
        }
        _ => Ok(Vec::new()),
    }
}
