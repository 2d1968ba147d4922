//! The simulated store's records as Magento's REST API shows them: orders
//! (`sales-data-order-interface`, the shipping address only inside
//! `extension_attributes.shipping_assignments`), shipments with tracks, invoices, credit memos
//! with comments, products, status history — times as `YYYY-MM-DD HH:MM:SS` UTC.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::state::{MageCreditMemo, MageInvoice, MageOrder, MageProduct, MageShipment};

pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn order(o: &MageOrder) -> Value {
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            json!({
                "item_id": i.item_id, "order_id": o.entity_id, "sku": i.sku, "name": i.name,
                "product_id": if i.product_id > 0 { json!(i.product_id) } else { Value::Null },
                "product_type": i.product_type, "price": i.price, "base_price": i.price,
                "row_total": i.row_total, "base_row_total": i.row_total,
                "qty_ordered": i.qty_ordered, "qty_invoiced": i.qty_invoiced,
                "qty_shipped": i.qty_shipped, "qty_refunded": i.qty_refunded,
                "qty_canceled": i.qty_canceled, "store_id": o.store_id,
                "created_at": time(o.created_at), "updated_at": time(o.updated_at),
            })
        })
        .collect();
    let histories: Vec<Value> = o
        .comments
        .iter()
        .rev()
        .map(|c| {
            comment(
                o.entity_id,
                c.entity_id,
                &c.comment,
                c.is_customer_notified,
                c.is_visible_on_front,
                &c.status,
                c.created_at,
            )
        })
        .collect();
    json!({
        "entity_id": o.entity_id, "increment_id": o.increment_id, "store_id": o.store_id,
        "ext_order_id": o.ext_order_id, "state": o.state, "status": o.status,
        "created_at": time(o.created_at), "updated_at": time(o.updated_at),
        "customer_email": o.customer_email, "customer_firstname": o.customer_firstname,
        "customer_lastname": o.customer_lastname, "customer_is_guest": 1,
        "order_currency_code": o.currency, "base_currency_code": o.currency,
        "grand_total": o.grand_total, "base_grand_total": o.grand_total,
        "total_invoiced": o.total_invoiced, "total_paid": o.total_invoiced,
        "total_refunded": o.total_refunded, "total_offline_refunded": o.total_refunded,
        "total_qty_ordered": o.items.iter().map(|i| i.qty_ordered).sum::<f64>(),
        "items": items,
        "billing_address": o.billing_address,
        "payment": { "method": o.payment_method, "account_status": null, "additional_information": [], "cc_last4": null },
        "status_histories": histories,
        "extension_attributes": { "shipping_assignments": [{
            "shipping": { "address": o.shipping_address, "method": "flatrate_flatrate" },
            "items": [],
        }]},
    })
}

#[allow(clippy::too_many_arguments)]
pub fn comment(
    parent: u64,
    id: u64,
    text: &str,
    notified: i64,
    visible: i64,
    status: &str,
    at: DateTime<Utc>,
) -> Value {
    json!({
        "entity_id": id, "parent_id": parent, "comment": text, "is_customer_notified": notified,
        "is_visible_on_front": visible, "status": status, "created_at": time(at), "entity_name": "order",
    })
}

pub fn shipment(s: &MageShipment, o: Option<&MageOrder>) -> Value {
    let sku = |item: u64| {
        o.and_then(|o| o.items.iter().find(|i| i.item_id == item))
            .map(|i| i.sku.clone())
    };
    json!({
        "entity_id": s.entity_id, "order_id": s.order_id, "increment_id": format!("{:09}", s.entity_id),
        "created_at": time(s.created_at), "updated_at": time(s.updated_at),
        "total_qty": s.items.iter().map(|(_, q)| q).sum::<f64>(),
        "items": s.items.iter().map(|(item, qty)| json!({
            "order_item_id": item, "qty": qty, "sku": sku(*item), "parent_id": s.entity_id })).collect::<Vec<_>>(),
        "tracks": s.tracks.iter().map(|t| json!({
            "entity_id": t.entity_id, "parent_id": s.entity_id, "order_id": s.order_id,
            "track_number": t.track_number, "carrier_code": t.carrier_code, "title": t.title,
            "created_at": time(t.created_at), "updated_at": time(t.created_at),
            "weight": null, "qty": null, "description": null })).collect::<Vec<_>>(),
        "comments": [],
        "packages": [],
    })
}

pub fn invoice(i: &MageInvoice) -> Value {
    json!({
        "entity_id": i.entity_id, "order_id": i.order_id, "created_at": time(i.created_at),
        "grand_total": i.grand_total, "state": 2,
        "total_qty": i.items.iter().map(|(_, q)| q).sum::<f64>(),
        "items": i.items.iter().map(|(item, qty)| json!({ "order_item_id": item, "qty": qty })).collect::<Vec<_>>(),
        "comments": [],
    })
}

pub fn memo(m: &MageCreditMemo) -> Value {
    json!({
        "entity_id": m.entity_id, "order_id": m.order_id, "invoice_id": null,
        "created_at": time(m.created_at), "updated_at": time(m.created_at),
        "grand_total": m.grand_total, "base_grand_total": m.grand_total, "state": 2,
        "items": m.items.iter().map(|(item, qty)| json!({
            "order_item_id": item, "qty": qty, "entity_id": item, "base_cost": 0, "base_price": 0 })).collect::<Vec<_>>(),
        "comments": m.comments.iter().enumerate().map(|(i, c)| json!({
            "entity_id": m.entity_id * 100 + i as u64, "parent_id": m.entity_id, "comment": c,
            "is_customer_notified": 0, "is_visible_on_front": 0, "created_at": time(m.created_at) })).collect::<Vec<_>>(),
    })
}

pub fn product(p: &MageProduct) -> Value {
    json!({
        "id": p.id, "sku": p.sku, "name": p.name, "price": p.price, "status": p.status,
        "type_id": p.type_id, "visibility": 4, "attribute_set_id": 4,
        "extension_attributes": { "stock_item": { "qty": p.qty, "is_in_stock": p.qty > 0.0 } },
    })
}
