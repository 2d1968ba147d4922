//! What the simulated store does with a request that passed authentication and the contract:
//! list and page (`X-WP-Total`, `X-WP-TotalPages`, `Link`), create orders the way
//! `WC_REST_Orders_V2_Controller` does (SKU first, then product or variation id; an unknown
//! one makes a line without a product and is no error), update them, add notes and tracking
//! items. Each answer is `(status, body, extra headers)`; a refusal is a WordPress error body.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::render;
use super::state::{WooLine, WooOrder, WooStore, WooTracking};

pub type Answer = (StatusCode, Value, Vec<(&'static str, String)>);

pub fn error(status: StatusCode, code: &str, message: &str) -> Answer {
    (
        status,
        json!({ "code": code, "message": message, "data": { "status": status.as_u16() } }),
        Vec::new(),
    )
}

fn invalid_id() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.",
    )
}

/// RFC 3339 with an offset, or a local (site = UTC) time without one; seconds precision.
fn query_date(q: &Value, key: &str) -> Option<DateTime<Utc>> {
    let text = q.get(key)?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|n| n.and_utc())
        })
}

fn page_of(items: Vec<Value>, q: &Value, base: &str) -> Answer {
    let per_page = q
        .get("per_page")
        .and_then(Value::as_u64)
        .unwrap_or(10)
        .max(1);
    let page = q.get("page").and_then(Value::as_u64).unwrap_or(1).max(1);
    let offset = q.get("offset").and_then(Value::as_u64);
    let total = items.len() as u64;
    let pages = total.div_ceil(per_page);
    let start = offset.unwrap_or((page - 1) * per_page) as usize;
    let shown: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect();
    let mut headers = vec![
        ("x-wp-total", total.to_string()),
        ("x-wp-totalpages", pages.to_string()),
    ];
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{base}?page={}>; rel=\"prev\"", page - 1));
    }
    if page < pages {
        links.push(format!("<{base}?page={}>; rel=\"next\"", page + 1));
    }
    if !links.is_empty() {
        headers.push(("link", links.join(", ")));
    }
    (StatusCode::OK, Value::Array(shown), headers)
}

pub fn list_products(store: &WooStore, q: &Value, base: &str) -> Answer {
    let exact: Option<Vec<&str>> = q
        .get("sku")
        .and_then(Value::as_str)
        .map(|s| s.split(',').map(str::trim).collect());
    let partial = q.get("search_sku").and_then(Value::as_str);
    let found: Vec<Value> = store
        .products
        .iter()
        .filter(|p| match &exact {
            // An exact SKU search returns variations too; otherwise only top-level products.
            Some(skus) => skus.contains(&p.sku.as_str()),
            None => p.kind != "variation",
        })
        .filter(|p| partial.is_none_or(|s| p.sku.contains(s)))
        .map(render::product)
        .collect();
    page_of(found, q, base)
}

pub fn list_orders(store: &WooStore, q: &Value, site: &str, base: &str) -> Answer {
    let statuses: Vec<&str> = q
        .get("status")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| vec!["any"]);
    let after = query_date(q, "after");
    let before = query_date(q, "before");
    let modified_after = query_date(q, "modified_after");
    let modified_before = query_date(q, "modified_before");
    let include: Vec<u64> = q
        .get("include")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let mut orders: Vec<&WooOrder> = store
        .orders
        .iter()
        .filter(|o| {
            statuses
                .iter()
                .any(|s| *s == o.status || (*s == "any" && o.status != "trash"))
        })
        .filter(|o| after.is_none_or(|t| o.created > t))
        .filter(|o| before.is_none_or(|t| o.created < t))
        .filter(|o| modified_after.is_none_or(|t| o.modified > t))
        .filter(|o| modified_before.is_none_or(|t| o.modified < t))
        .filter(|o| include.is_empty() || include.contains(&o.id))
        .collect();
    match q.get("orderby").and_then(Value::as_str).unwrap_or("date") {
        "id" | "include" => orders.sort_by_key(|o| o.id),
        "modified" => orders.sort_by_key(|o| (o.modified, o.id)),
        _ => orders.sort_by_key(|o| (o.created, o.id)),
    }
    if q.get("order").and_then(Value::as_str) != Some("asc") {
        orders.reverse();
    }
    let rendered = orders.into_iter().map(|o| render::order(o, site)).collect();
    page_of(rendered, q, base)
}

/// A line of `POST /orders`: the product by `sku`, else `product_id`/`variation_id`.
fn new_line(store: &mut WooStore, item: &Value) -> Result<WooLine, Answer> {
    let sku = item.get("sku").and_then(Value::as_str);
    let product_id = item.get("product_id").and_then(Value::as_u64).unwrap_or(0);
    let variation_id = item
        .get("variation_id")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if sku.is_none() && product_id == 0 && variation_id == 0 {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_required_product_reference",
            "Product ID or SKU is required.",
        ));
    }
    let by_sku = sku.and_then(|s| store.product_by_sku(s)).map(|p| p.id);
    let resolved = by_sku
        .or_else(|| (variation_id > 0).then_some(variation_id))
        .or_else(|| (product_id > 0).then_some(product_id))
        .and_then(|id| store.product(id).cloned());
    let quantity = item.get("quantity").and_then(Value::as_i64).unwrap_or(1);
    let (product, variation, name, line_sku, price) = match &resolved {
        Some(p) if p.kind == "variation" => (
            p.parent_id,
            p.id,
            p.name.clone(),
            Some(p.sku.clone()),
            p.price.clone(),
        ),
        Some(p) => (
            p.id,
            0,
            p.name.clone(),
            Some(p.sku.clone()),
            p.price.clone(),
        ),
        // Unknown SKU or id: WooCommerce still makes the line, with no product and total 0.
        None => (0, 0, String::new(), None, "0".into()),
    };
    let catalogue = format!(
        "{:.2}",
        price.parse::<f64>().unwrap_or(0.0) * quantity as f64
    );
    let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
    let total = text("total").unwrap_or_else(|| catalogue.clone());
    Ok(WooLine {
        id: store.next_id(),
        product_id: product,
        variation_id: variation,
        sku: line_sku,
        name: text("name").unwrap_or(name),
        quantity,
        subtotal: text("subtotal").unwrap_or_else(|| total.clone()),
        total,
        reduced: 0,
    })
}

pub fn create_order(store: &mut WooStore, body: &Value, site: &str, now: DateTime<Utc>) -> Answer {
    let customer_id = body.get("customer_id").and_then(Value::as_i64).unwrap_or(0);
    if customer_id != 0 {
        return error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_customer_id",
            "Customer ID is invalid.",
        );
    }
    if let Some(lines) = body.get("shipping_lines").and_then(Value::as_array)
        && lines.iter().any(|l| l.get("method_id").is_none())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_shipping_item",
            "Shipping method ID is required.",
        );
    }
    let mut lines = Vec::new();
    for item in body
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match new_line(store, item) {
            Ok(line) => lines.push(line),
            Err(refused) => return refused,
        }
    }
    let id = store.next_id();
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut order = WooOrder {
        id,
        status: "pending".into(),
        currency: body
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or("USD")
            .to_string(),
        created_via: body
            .get("created_via")
            .and_then(Value::as_str)
            .unwrap_or("rest-api")
            .to_string(),
        created: now,
        modified: now,
        paid: None,
        customer_id,
        customer_note: text("customer_note"),
        billing: body.get("billing").cloned().unwrap_or(json!({})),
        shipping: body.get("shipping").cloned().unwrap_or(json!({})),
        payment_method: text("payment_method"),
        payment_method_title: text("payment_method_title"),
        transaction_id: text("transaction_id"),
        meta: Vec::new(),
        lines,
        notes: Vec::new(),
        trackings: Vec::new(),
        refunds: Vec::new(),
    };
    for m in body
        .get("meta_data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let meta_id = store.next_id();
        let key = m.get("key").and_then(Value::as_str).unwrap_or_default();
        order.meta.push((
            meta_id,
            key.to_string(),
            m.get("value").cloned().unwrap_or(Value::Null),
        ));
    }
    store.orders.push(order);
    if let Some(status) = body.get("status").and_then(Value::as_str) {
        store.set_status(id, status, now);
    }
    if body.get("set_paid").and_then(Value::as_bool) == Some(true) {
        let transaction = text("transaction_id");
        store.payment_complete(id, &transaction, now);
    }
    let order = store
        .orders
        .iter()
        .find(|o| o.id == id)
        .expect("just added");
    (
        StatusCode::CREATED,
        render::order(order, site),
        vec![("location", format!("{site}/wp-json/wc/v3/orders/{id}"))],
    )
}

pub fn get_order(store: &WooStore, id: u64, site: &str) -> Answer {
    match store
        .orders
        .iter()
        .find(|o| o.id == id && o.status != "trash")
    {
        Some(o) => (StatusCode::OK, render::order(o, site), Vec::new()),
        None => invalid_id(),
    }
}

pub fn update_order(
    store: &mut WooStore,
    id: u64,
    body: &Value,
    site: &str,
    now: DateTime<Utc>,
) -> Answer {
    let Some(order) = store.order_mut(id) else {
        return invalid_id();
    };
    for key in ["billing", "shipping"] {
        if let Some(Value::Object(fields)) = body.get(key) {
            let target = if key == "billing" {
                &mut order.billing
            } else {
                &mut order.shipping
            };
            for (k, v) in fields {
                target[k.as_str()] = v.clone();
            }
        }
    }
    if let Some(note) = body.get("customer_note").and_then(Value::as_str) {
        order.customer_note = note.to_string();
    }
    for line in body
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(line_id), Some(quantity)) = (
            line.get("id").and_then(Value::as_u64),
            line.get("quantity").and_then(Value::as_i64),
        ) else {
            continue;
        };
        if let Some(l) = order.lines.iter_mut().find(|l| l.id == line_id) {
            l.quantity = quantity;
        }
    }
    order.modified = now;
    if let Some(status) = body.get("status").and_then(Value::as_str) {
        store.set_status(id, status, now);
    }
    if body.get("set_paid").and_then(Value::as_bool) == Some(true) {
        store.payment_complete(id, "", now);
    }
    get_order(store, id, site)
}

pub fn list_notes(store: &WooStore, id: u64, q: &[(String, String)]) -> Answer {
    let Some(order) = store.orders.iter().find(|o| o.id == id) else {
        return error(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_order_invalid_id",
            "Invalid order ID.",
        );
    };
    let kind = q
        .iter()
        .find(|(k, _)| k == "type")
        .map_or("any", |(_, v)| v.as_str());
    let notes: Vec<Value> = order
        .notes
        .iter()
        .rev()
        .filter(|n| match kind {
            "customer" => n.customer_note,
            "internal" => !n.customer_note,
            _ => true,
        })
        .map(render::note)
        .collect();
    (StatusCode::OK, Value::Array(notes), Vec::new())
}

pub fn create_note(store: &mut WooStore, id: u64, body: &Value, now: DateTime<Utc>) -> Answer {
    if !store.orders.iter().any(|o| o.id == id) {
        return error(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_order_invalid_id",
            "Invalid order ID.",
        );
    }
    let text = body
        .get("note")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let customer = body
        .get("customer_note")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    store.add_note(id, text, customer, now);
    let order = store
        .orders
        .iter()
        .find(|o| o.id == id)
        .expect("checked above");
    let note = order.notes.last().expect("just added");
    (StatusCode::CREATED, render::note(note), Vec::new())
}

pub fn list_trackings(store: &WooStore, id: u64, site: &str) -> Answer {
    match store.orders.iter().find(|o| o.id == id) {
        Some(o) => (
            StatusCode::OK,
            Value::Array(
                o.trackings
                    .iter()
                    .map(|t| render::tracking(t, site, id))
                    .collect(),
            ),
            Vec::new(),
        ),
        None => invalid_id(),
    }
}

pub fn create_tracking(
    store: &mut WooStore,
    id: u64,
    body: &Value,
    site: &str,
    now: DateTime<Utc>,
) -> Answer {
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let shipped = chrono::NaiveDate::parse_from_str(&text("date_shipped"), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(now, |d| d.and_utc());
    let tracking = WooTracking {
        tracking_id: format!(
            "{:x}",
            md5ish(&format!("{id}{}{}", text("tracking_number"), now))
        ),
        provider: text("tracking_provider"),
        custom_provider: text("custom_tracking_provider"),
        custom_link: text("custom_tracking_link"),
        number: text("tracking_number"),
        date_shipped: shipped,
    };
    let Some(order) = store.order_mut(id) else {
        return invalid_id();
    };
    order.trackings.push(tracking.clone());
    (
        StatusCode::CREATED,
        render::tracking(&tracking, site, id),
        Vec::new(),
    )
}

/// A short stable hash for tracking ids (the extension uses md5 of number, provider and time).
fn md5ish(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
