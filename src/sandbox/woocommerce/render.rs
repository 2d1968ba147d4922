//! The simulated store's resources as wc/v3 JSON, field for field as the contract's `order`,
//! `product`, `order_note` and `shipment_tracking_item` describe them: `*_gmt` dates without an
//! offset, money as strings, meta scalars as strings, and the Shipment Tracking extension's own
//! meta (`_wc_shipment_tracking_items`, dates as unix timestamps) among the order's meta.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::state::{WooNote, WooOrder, WooProduct, WooTracking};

/// Site time (the sandbox's sites run on UTC) without an offset, as WordPress writes dates.
pub fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn money(value: f64) -> String {
    format!("{value:.2}")
}

fn amount(text: &str) -> f64 {
    text.trim().parse().unwrap_or(0.0)
}

pub fn product(p: &WooProduct) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "slug": p.name.to_lowercase().replace(' ', "-"),
        "type": p.kind,
        "status": "publish",
        "sku": p.sku,
        "price": p.price,
        "regular_price": p.price,
        "sale_price": "",
        "parent_id": p.parent_id,
        "manage_stock": p.manage_stock,
        "stock_quantity": if p.manage_stock { json!(p.stock) } else { Value::Null },
        "stock_status": if !p.manage_stock || p.stock > 0 { "instock" } else { "outofstock" },
    })
}

pub fn note(n: &WooNote) -> Value {
    json!({
        "id": n.id,
        "author": n.author,
        "date_created": date(n.at),
        "date_created_gmt": date(n.at),
        "note": n.note,
        "customer_note": n.customer_note,
    })
}

pub fn tracking(t: &WooTracking, site: &str, order: u64) -> Value {
    json!({
        "tracking_id": t.tracking_id,
        "tracking_provider": t.display_provider(),
        "tracking_link": t.custom_link,
        "tracking_number": t.number,
        "date_shipped": t.date_shipped.format("%Y-%m-%d").to_string(),
        "_links": { "self": [{ "href": format!("{site}/wp-json/wc-shipment-tracking/v3/orders/{order}/shipment-trackings/{}", t.tracking_id) }] },
    })
}

fn meta_value(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Array(_) | Value::Object(_) | Value::Null => value.clone(),
        other => Value::String(other.to_string()),
    }
}

pub fn order(o: &WooOrder, site: &str) -> Value {
    let total: f64 = o.lines.iter().map(|l| amount(&l.total)).sum();
    let mut meta: Vec<Value> = o
        .meta
        .iter()
        .map(|(id, key, value)| json!({ "id": id, "key": key, "value": meta_value(value) }))
        .collect();
    if !o.trackings.is_empty() {
        let raw: Vec<Value> = o
            .trackings
            .iter()
            .map(|t| {
                json!({
                    "tracking_provider": t.provider,
                    "custom_tracking_provider": t.custom_provider,
                    "custom_tracking_link": t.custom_link,
                    "tracking_number": t.number,
                    "date_shipped": t.date_shipped.timestamp().to_string(),
                    "tracking_id": t.tracking_id,
                })
            })
            .collect();
        meta.push(
            json!({ "id": o.id * 10 + 1, "key": "_wc_shipment_tracking_items", "value": raw }),
        );
    }
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            let quantity = l.quantity.max(1) as f64;
            json!({
                "id": l.id,
                "name": l.name,
                "product_id": l.product_id,
                "variation_id": l.variation_id,
                "quantity": l.quantity,
                "tax_class": "",
                "subtotal": l.subtotal,
                "subtotal_tax": "0.00",
                "total": l.total,
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
                "sku": l.sku,
                "price": amount(&l.total) / quantity,
                "parent_name": Value::Null,
            })
        })
        .collect();
    let paid = o.paid.map(date);
    let completed = (o.status == "completed").then(|| date(o.modified));
    let mut billing = address(&o.billing, true);
    if billing.get("email") == Some(&Value::Null) {
        billing["email"] = json!("");
    }
    let mut head = json!({
        "id": o.id,
        "parent_id": 0,
        "number": o.id.to_string(),
        "order_key": format!("wc_order_{:x}", o.id * 7919),
        "created_via": o.created_via,
        "version": "9.4.0",
        "status": o.status,
        "currency": o.currency,
        "date_created": date(o.created),
        "date_created_gmt": date(o.created),
        "date_modified": date(o.modified),
        "date_modified_gmt": date(o.modified),
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "0.00",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": money(total),
        "total_tax": "0.00",
    });
    let rest = json!({
        "prices_include_tax": false,
        "customer_id": o.customer_id,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": o.customer_note,
        "billing": billing,
        "shipping": address(&o.shipping, false),
        "payment_method": o.payment_method,
        "payment_method_title": o.payment_method_title,
        "transaction_id": o.transaction_id,
        "date_paid": paid,
        "date_paid_gmt": paid,
        "date_completed": completed,
        "date_completed_gmt": completed,
        "cart_hash": "",
        "meta_data": meta,
        "line_items": lines,
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": o
            .refunds
            .iter()
            .map(|(id, reason, amount)| json!({ "id": id, "reason": reason, "total": format!("-{amount}") }))
            .collect::<Vec<_>>(),
        "payment_url": format!("{site}/checkout/order-pay/{}/", o.id),
        "is_editable": matches!(o.status.as_str(), "pending" | "on-hold" | "auto-draft"),
        "needs_payment": o.status == "pending",
        "needs_processing": true,
        "_links": { "self": [{ "href": format!("{site}/wp-json/wc/v3/orders/{}", o.id) }] },
    });
    if let (Value::Object(head), Value::Object(tail)) = (&mut head, rest) {
        head.extend(tail);
    }
    head
}

/// Every field of a billing/shipping address, empty where unset (as WooCommerce answers).
fn address(stored: &Value, billing: bool) -> Value {
    let mut keys = vec![
        "first_name",
        "last_name",
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
    ];
    if billing {
        keys.push("email");
    }
    keys.push("phone");
    let mut out = serde_json::Map::new();
    for key in keys {
        let value = stored.get(key).cloned().unwrap_or(json!(""));
        out.insert(key.to_string(), value);
    }
    Value::Object(out)
}
