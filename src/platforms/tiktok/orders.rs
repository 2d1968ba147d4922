//! Orders: Search Orders (paged by `page_token`, window on `update_time`) and Get Order Detail
//! (at most 50 ids per call), and the reading of TikTok's order JSON into the domain snapshot.
//!
//! Invariants: one order that cannot be read never fails a page — it is reported in
//! `Page::unreadable` with the reason; unknown enum values are kept as `Unknown`; line items
//! arrive one per unit and are grouped by SKU here; the raw JSON travels with every order.

use reqwest::Method;

use super::client::{Call, TiktokClient};
use super::damage;
use super::envelope::decode;
use super::wire;
use crate::domain::clock::{Timestamp, from_unix};
use crate::domain::ids::{PackageId, TiktokOrderId};
use crate::domain::order::{
    FulfillmentType, Initiator, LineUnit, OrderStatus, Package, Recipient, ShippingType,
    TiktokSnapshot, group_line_items,
};
use crate::domain::text;
use crate::platforms::error::PlatformError;
use crate::platforms::http::CallKind;
use crate::platforms::{Page, RemoteOrder, Unreadable, Window};

/// TikTok's maximum `page_size` for Search Orders.
pub const SEARCH_PAGE_SIZE: usize = 100;
/// TikTok's maximum number of ids per Get Order Detail call.
pub const DETAIL_BATCH: usize = 50;

impl TiktokClient {
    pub(super) async fn search_orders_page(
        &self,
        window: Window,
        page_token: Option<String>,
    ) -> Result<Page<RemoteOrder>, PlatformError> {
        const OP: &str = "search_orders";
        let call = Call::window_search(
            OP,
            "/order/202309/orders/search",
            SEARCH_PAGE_SIZE,
            window,
            page_token,
        );
        let list: wire::OrderList = decode(self.call(call).await?, OP, CallKind::Read)?;
        Ok(Page::read(list.orders, list.next_page_token, read_order))
    }

    /// Details of any number of orders, fetched [`DETAIL_BATCH`] at a time, as one page.
    pub(super) async fn order_details_batched(
        &self,
        ids: &[TiktokOrderId],
    ) -> Result<Page<RemoteOrder>, PlatformError> {
        const OP: &str = "get_order_detail";
        let mut all = Page::read(Vec::new(), None, read_order);
        for batch in ids.chunks(DETAIL_BATCH) {
            let joined = batch
                .iter()
                .map(TiktokOrderId::as_str)
                .collect::<Vec<_>>()
                .join(",");
            let call = Call::new(OP, Method::GET, "/order/202309/orders", &[]).query("ids", joined);
            let list: wire::OrderList = decode(self.call(call).await?, OP, CallKind::Read)?;
            let page = Page::read(list.orders, None, read_order);
            all.items.extend(page.items);
            all.unreadable.extend(page.unreadable);
        }
        Ok(all)
    }
}

/// One order of a search or detail answer, or why it cannot be read (sanitized, for staff),
/// with its id when the id itself could be read.
pub(super) fn read_order(raw: serde_json::Value) -> Result<RemoteOrder, Unreadable> {
    let id = match raw.get("id") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => {
            return Err(Unreadable::new(
                None,
                format!("an order without an id: {}", snippet(&raw)),
            ));
        }
    };
    let order_id = TiktokOrderId::new(id.as_str())
        .map_err(|e| Unreadable::new(None, format!("order with an unusable id: {e}")))?;
    let unreadable = |why: String| Unreadable::new(Some(order_id.clone()), why);
    if let Some(why) = damage::find(&raw) {
        return Err(unreadable(format!("order {order_id}: {why}")));
    }
    let wire: wire::Order = serde_path_to_error::deserialize(&raw).map_err(|e| {
        unreadable(format!(
            "order {order_id} could not be read: field {}: {}",
            text::sanitize(&e.path().to_string()),
            text::sanitize(&e.inner().to_string())
        ))
    })?;
    let snapshot = snapshot(wire).map_err(|why| unreadable(format!("order {order_id}: {why}")))?;
    Ok(RemoteOrder {
        id: order_id,
        snapshot,
        raw,
    })
}

fn snapshot(order: wire::Order) -> Result<TiktokSnapshot, String> {
    let time = |t: Option<i64>| t.filter(|t| *t > 0).map(from_unix);
    let updated_at = time(order.update_time);
    let created_at: Timestamp = time(order.create_time).or(updated_at).unwrap_or_default();
    let packages = packages(&order)?;
    let payment = order.payment.unwrap_or_default();
    let currency = payment.currency.unwrap_or_default();
    let units: Vec<LineUnit> = order
        .line_items
        .iter()
        .map(|item| LineUnit {
            id: item.id.clone().unwrap_or_default(),
            sku_id: item.sku_id.clone().unwrap_or_default(),
            seller_sku: item.seller_sku.clone().unwrap_or_default(),
            product_name: item.product_name.clone().unwrap_or_default(),
            sku_name: item.sku_name.clone().unwrap_or_default(),
            sale_price: item.sale_price.clone().unwrap_or_default(),
            currency: item.currency.clone().unwrap_or_else(|| currency.clone()),
            cancelled: item.display_status.as_deref().map(str::trim) == Some("CANCELLED"),
        })
        .collect();
    Ok(TiktokSnapshot {
        status: OrderStatus::parse(order.status.as_deref().unwrap_or_default()),
        shipping_type: ShippingType::parse(order.shipping_type.as_deref().unwrap_or_default()),
        fulfillment_type: FulfillmentType::parse(
            order.fulfillment_type.as_deref().unwrap_or_default(),
        ),
        created_at,
        updated_at: updated_at.unwrap_or(created_at),
        paid_at: time(order.paid_time),
        ship_by: time(order.rts_sla_time).or(time(order.shipping_due_time)),
        lines: group_line_items(&units),
        recipient: recipient(order.recipient_address.unwrap_or_default()),
        packages,
        delivery_option_id: non_blank(order.delivery_option_id),
        tracking_number: non_blank(order.tracking_number),
        shipping_provider: non_blank(order.shipping_provider),
        buyer_message: non_blank(order.buyer_message),
        cancel_reason: non_blank(order.cancel_reason),
        cancellation_initiator: non_blank(order.cancellation_initiator)
            .map(|i| Initiator::parse(&i)),
        is_buyer_request_cancel: order.is_buyer_request_cancel.unwrap_or(false),
        currency,
        total_amount: payment.total_amount.unwrap_or_default(),
    })
}

/// Packages with the tracking number their line items carry (or the order's, for a single
/// package).
fn packages(order: &wire::Order) -> Result<Vec<Package>, String> {
    let single = order.packages.len() == 1;
    order
        .packages
        .iter()
        .filter_map(|p| non_blank(p.id.clone()))
        .map(|id| {
            let tracking = order
                .line_items
                .iter()
                .filter(|item| item.package_id.as_deref() == Some(id.as_str()))
                .find_map(|item| non_blank(item.tracking_number.clone()))
                .or_else(|| {
                    single
                        .then(|| non_blank(order.tracking_number.clone()))
                        .flatten()
                });
            let line_item_ids = order
                .line_items
                .iter()
                .filter(|item| item.package_id.as_deref() == Some(id.as_str()))
                .filter_map(|item| non_blank(item.id.clone()))
                .collect();
            let id = PackageId::new(id).map_err(|e| e.to_string())?;
            Ok(Package {
                id,
                tracking_number: tracking,
                line_item_ids,
            })
        })
        .collect()
}

/// The address: street lines without blanks, province from district level L1, city from the
/// level TikTok names "City"/"Town" (else `post_town`, else the deepest level below L1).
fn recipient(address: wire::Address) -> Recipient {
    let level = |d: &wire::District| {
        d.address_level
            .as_deref()
            .and_then(|l| l.trim().strip_prefix(['L', 'l']))
            .and_then(|n| n.parse::<u8>().ok())
    };
    let named = |d: &wire::District| non_blank(d.address_name.clone());
    let districts = &address.district_info;
    let province = districts
        .iter()
        .find(|d| level(d) == Some(1))
        .and_then(named)
        .unwrap_or_default();
    let city = districts
        .iter()
        .find(|d| {
            d.address_level_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case("city") || n.eq_ignore_ascii_case("town"))
        })
        .and_then(named)
        .or_else(|| non_blank(address.post_town.clone()))
        .or_else(|| {
            districts
                .iter()
                .filter(|d| level(d).is_some_and(|l| l >= 2))
                .max_by_key(|d| level(d))
                .and_then(named)
        })
        .unwrap_or_default();
    let address_lines = [
        &address.address_line1,
        &address.address_line2,
        &address.address_line3,
        &address.address_line4,
    ]
    .into_iter()
    .filter_map(|line| non_blank(line.clone()))
    .collect();
    Recipient {
        name: address.name.unwrap_or_default(),
        first_name: address.first_name.unwrap_or_default(),
        last_name: address.last_name.unwrap_or_default(),
        phone: address.phone_number.unwrap_or_default(),
        address_lines,
        city,
        province,
        postal_code: address.postal_code.unwrap_or_default(),
        country_code: address
            .region_code
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase(),
        full_address: address.full_address.unwrap_or_default(),
    }
}

fn non_blank(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn snippet(raw: &serde_json::Value) -> String {
    text::truncate(&text::sanitize(&raw.to_string()), 120)
}

#[cfg(test)]
#[path = "orders_tests.rs"]
mod tests;
