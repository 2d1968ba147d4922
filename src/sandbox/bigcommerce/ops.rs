//! What the simulated store does with a request that passed authentication, the quota and the
//! contract: list and page (204 with no body when nothing matches, as BigCommerce answers),
//! create orders of catalog lines the way `POST /v2/orders` checks them (the product must
//! exist; a product with options needs its variant), update status and notes, read products,
//! shipments and addresses. Each answer is `(status, body)`; `None` is an empty body.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::state::{BcLine, BcOrder, BcShipment, BcStore, BcVariant, status_name};

pub type Answer = (StatusCode, Option<Value>);

/// A V2 error: a JSON array of `{status, message}`.
pub fn v2_error(status: StatusCode, message: &str) -> Answer {
    (
        status,
        Some(json!([{ "status": status.as_u16(), "message": message }])),
    )
}

/// A V3 error object.
pub fn v3_error(status: StatusCode, title: &str) -> Answer {
    (
        status,
        Some(json!({ "status": status.as_u16(), "title": title,
            "type": "/api-docs/getting-started/api-status-codes" })),
    )
}

fn not_found() -> Answer {
    v2_error(
        StatusCode::NOT_FOUND,
        "The requested resource was not found.",
    )
}

pub fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// RFC 2822 or ISO 8601, as the order filters take them.
fn query_date(q: &Value, key: &str) -> Option<DateTime<Utc>> {
    let text = q.get(key)?.as_str()?.trim();
    DateTime::parse_from_rfc2822(text)
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn page_and_limit(q: &Value, default_limit: u64) -> (u64, u64) {
    let number = |key: &str| q.get(key).and_then(Value::as_f64).map(|n| n as u64);
    (
        number("page").unwrap_or(1).max(1),
        number("limit").unwrap_or(default_limit).max(1),
    )
}

fn render_variant(v: &BcVariant) -> Value {
    let price: f64 = v.price.parse().unwrap_or(0.0);
    json!({
        "id": v.id, "product_id": v.product_id, "sku": v.sku,
        "sku_id": if v.options.is_empty() { Value::Null } else { json!(v.id + 10_000) },
        "price": price, "calculated_price": price, "sale_price": Value::Null,
        "inventory_level": v.inventory, "purchasing_disabled": false, "upc": "",
        "option_values": v.options.iter().map(|o| json!({
            "id": o.value_id, "label": o.label, "option_id": o.option_id,
            "option_display_name": o.display_name,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /v3/catalog/variants`: `sku` is an exact match.
pub fn list_variants(store: &BcStore, q: &Value) -> Answer {
    let sku = q.get("sku").and_then(Value::as_str);
    let id = q.get("id").and_then(Value::as_u64);
    let products: Option<Vec<u64>> = q
        .get("product_id:in")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect());
    let found: Vec<&BcVariant> = store
        .variants
        .iter()
        .filter(|v| sku.is_none_or(|s| v.sku == s))
        .filter(|v| id.is_none_or(|i| v.id == i))
        .filter(|v| products.as_ref().is_none_or(|p| p.contains(&v.product_id)))
        .collect();
    let rendered: Vec<Value> = found.iter().map(|v| render_variant(v)).collect();
    (StatusCode::OK, Some(v3_page(&rendered, q, 50)))
}

/// One page of a V3 collection: `{"data": […], "meta": {"pagination": {…, "links"}}}`, paged by
/// the query's `page` and `limit`.
pub fn v3_page(all: &[Value], q: &Value, default_limit: u64) -> Value {
    let (page, limit) = page_and_limit(q, default_limit);
    let total = all.len() as u64;
    let pages = total.div_ceil(limit).max(1);
    let data: Vec<&Value> = all
        .iter()
        .skip(((page - 1) * limit) as usize)
        .take(limit as usize)
        .collect();
    let mut links = Map::new();
    links.insert(
        "current".into(),
        json!(format!("?page={page}&limit={limit}")),
    );
    if page < pages {
        links.insert(
            "next".into(),
            json!(format!("?page={}&limit={limit}", page + 1)),
        );
    }
    if page > 1 {
        links.insert(
            "previous".into(),
            json!(format!("?page={}&limit={limit}", page - 1)),
        );
    }
    json!({
        "data": data,
        "meta": { "pagination": { "total": total, "count": data.len(), "per_page": limit,
            "current_page": page, "total_pages": pages, "links": links } },
    })
}

pub fn render_order(o: &BcOrder, base: &str) -> Value {
    let total = format!("{:.4}", o.total());
    json!({
        "id": o.id, "customer_id": o.customer_id, "channel_id": 1,
        "date_created": rfc2822(o.created), "date_modified": rfc2822(o.modified),
        "date_shipped": o.shipments.last().map_or(String::new(), |s| rfc2822(s.created)),
        "status_id": o.status_id, "status": status_name(o.status_id),
        "subtotal_ex_tax": total, "subtotal_inc_tax": total, "total_ex_tax": total,
        "total_inc_tax": total, "total_tax": "0.0000",
        "items_total": o.items_total(), "items_shipped": o.items_shipped(),
        "payment_method": o.payment_method, "payment_status": "",
        "refunded_amount": o.refunded_amount, "order_is_digital": false,
        "currency_code": "USD", "default_currency_code": "USD",
        "staff_notes": o.staff_notes, "customer_message": o.customer_message,
        "external_source": Value::Null, "external_id": Value::Null,
        "external_order_id": o.external_order_id, "is_deleted": false,
        "order_source": "external", "billing_address": o.billing,
        "products": { "url": format!("{base}/v2/orders/{}/products", o.id), "resource": format!("/orders/{}/products", o.id) },
        "shipping_addresses": { "url": format!("{base}/v2/orders/{}/shipping_addresses", o.id), "resource": format!("/orders/{}/shipping_addresses", o.id) },
        "coupons": { "url": format!("{base}/v2/orders/{}/coupons", o.id), "resource": format!("/orders/{}/coupons", o.id) },
    })
}

/// `GET /v2/orders` with its filters; 204 when nothing matches (or past the last page).
pub fn list_orders(store: &BcStore, q: &Value, base: &str) -> Answer {
    let text = |key: &str| q.get(key).and_then(Value::as_str);
    let number = |key: &str| q.get(key).and_then(Value::as_u64);
    let (min_modified, max_modified) = (
        query_date(q, "min_date_modified"),
        query_date(q, "max_date_modified"),
    );
    let (min_created, max_created) = (
        query_date(q, "min_date_created"),
        query_date(q, "max_date_created"),
    );
    let mut orders: Vec<&BcOrder> = store
        .orders
        .iter()
        .filter(|o| text("external_order_id").is_none_or(|id| o.external_order_id == id))
        .filter(|o| number("status_id").is_none_or(|s| o.status_id == s))
        .filter(|o| number("min_id").is_none_or(|m| o.id >= m))
        .filter(|o| number("max_id").is_none_or(|m| o.id <= m))
        .filter(|o| min_modified.is_none_or(|m| o.modified >= m))
        .filter(|o| max_modified.is_none_or(|m| o.modified <= m))
        .filter(|o| min_created.is_none_or(|m| o.created >= m))
        .filter(|o| max_created.is_none_or(|m| o.created <= m))
        .collect();
    match text("sort").unwrap_or("id") {
        "date_modified" => orders.sort_by_key(|o| (o.modified, o.id)),
        "date_created" => orders.sort_by_key(|o| (o.created, o.id)),
        "status_id" => orders.sort_by_key(|o| (o.status_id, o.id)),
        _ => orders.sort_by_key(|o| o.id),
    }
    let (page, limit) = page_and_limit(q, 50);
    let shown: Vec<Value> = orders
        .iter()
        .skip(((page - 1) * limit) as usize)
        .take(limit as usize)
        .map(|o| render_order(o, base))
        .collect();
    if shown.is_empty() {
        return (StatusCode::NO_CONTENT, None);
    }
    (StatusCode::OK, Some(Value::Array(shown)))
}

pub fn get_order(store: &BcStore, id: u64, base: &str) -> Answer {
    match store.orders.iter().find(|o| o.id == id) {
        Some(o) => (StatusCode::OK, Some(render_order(o, base))),
        None => not_found(),
    }
}

fn money(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => n.as_f64().map(|f| format!("{f:.4}")),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| format!("{f:.4}")),
        _ => None,
    }
}

/// One line of a create: a catalog line (the product must exist; a product with options needs
/// `variant_id` or `product_options`) or a custom line (name and both prices).
fn line_of(store: &BcStore, index: usize, line: &Value, id: u64) -> Result<BcLine, Answer> {
    let refuse = |m: String| Err(v2_error(StatusCode::BAD_REQUEST, &m));
    let quantity = line.get("quantity").and_then(Value::as_u64).unwrap_or(0);
    if quantity == 0 {
        return refuse(format!("products[{index}].quantity must be at least 1"));
    }
    let (inc, ex) = (
        money(line.get("price_inc_tax")),
        money(line.get("price_ex_tax")),
    );
    if inc.is_some() != ex.is_some() {
        return refuse(format!(
            "products[{index}]: price_inc_tax and price_ex_tax must be set together"
        ));
    }
    let Some(product_id) = line.get("product_id").and_then(Value::as_u64) else {
        let name = line.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() || inc.is_none() {
            return refuse(format!(
                "products[{index}]: a custom product needs name, price_inc_tax and price_ex_tax"
            ));
        }
        return Ok(BcLine {
            id,
            product_id: 0,
            variant_id: 0,
            sku: line
                .get("sku")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            name: name.into(),
            quantity,
            quantity_shipped: 0,
            price_inc_tax: inc.clone().unwrap_or_default(),
            price_ex_tax: ex.unwrap_or_default(),
        });
    };
    let of_product: Vec<&BcVariant> = store
        .variants
        .iter()
        .filter(|v| v.product_id == product_id)
        .collect();
    if of_product.is_empty() {
        return refuse(format!(
            "products[{index}]: product {product_id} does not exist"
        ));
    }
    let variant = match line.get("variant_id").and_then(Value::as_u64) {
        Some(v) => match of_product.iter().find(|x| x.id == v) {
            Some(found) => *found,
            None => {
                return refuse(format!(
                    "products[{index}]: variant {v} is not a variant of product {product_id}"
                ));
            }
        },
        None => {
            let chosen: Vec<(u64, String)> = line
                .get("product_options")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|o| {
                    Some((
                        o.get("id")?.as_u64()?,
                        o.get("value")?.as_str()?.to_string(),
                    ))
                })
                .collect();
            let matching = of_product.iter().find(|v| {
                v.options
                    .iter()
                    .all(|o| chosen.contains(&(o.option_id, o.value_id.to_string())))
            });
            match matching {
                Some(v) if v.options.is_empty() || !chosen.is_empty() => *v,
                _ => {
                    return refuse(format!(
                        "products[{index}]: product {product_id} has options: product_options or variant_id is required"
                    ));
                }
            }
        }
    };
    Ok(BcLine {
        id,
        product_id,
        variant_id: variant.id,
        sku: variant.sku.clone(),
        name: variant.name.clone(),
        quantity,
        quantity_shipped: 0,
        price_inc_tax: inc
            .unwrap_or_else(|| format!("{:.4}", variant.price.parse::<f64>().unwrap_or(0.0))),
        price_ex_tax: ex
            .unwrap_or_else(|| format!("{:.4}", variant.price.parse::<f64>().unwrap_or(0.0))),
    })
}

/// `POST /v2/orders`, after the contract check.
pub fn create_order(store: &mut BcStore, body: &Value, base: &str, now: DateTime<Utc>) -> Answer {
    let refuse = |m: &str| v2_error(StatusCode::BAD_REQUEST, m);
    if body.get("consignments").is_some()
        && (body.get("products").is_some() || body.get("shipping_addresses").is_some())
    {
        return refuse(
            "An order has either consignments or products and shipping_addresses, not both.",
        );
    }
    let Some(billing) = body.get("billing_address") else {
        return refuse("The field 'billing_address' is required.");
    };
    if billing
        .get("zip")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .chars()
        .count()
        < 2
    {
        return refuse("The billing address must include a ZIP code of two or more characters.");
    }
    let Some(products) = body
        .get("products")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    else {
        return refuse("The field 'products' is required.");
    };
    let status_id = body.get("status_id").and_then(Value::as_u64).unwrap_or(1);
    if status_id > 14 {
        return refuse("The status_id is not a valid order status.");
    }
    let mut lines = Vec::new();
    for (i, line) in products.iter().enumerate() {
        let id = store.next_id();
        match line_of(store, i, line, id) {
            Ok(line) => lines.push(line),
            Err(refused) => return refused,
        }
    }
    let id = store.next_id();
    let mut addresses = Vec::new();
    for address in body
        .get("shipping_addresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        addresses.push((store.next_id(), address.clone()));
    }
    for line in &lines {
        store.adjust_stock(line.variant_id, line.quantity as i64);
    }
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let order = BcOrder {
        id,
        status_id,
        created: now,
        modified: now,
        external_order_id: text("external_order_id"),
        staff_notes: text("staff_notes"),
        customer_message: text("customer_message"),
        payment_method: text("payment_method"),
        customer_id: body.get("customer_id").and_then(Value::as_i64).unwrap_or(0),
        billing: billing.clone(),
        addresses,
        lines,
        shipments: Vec::new(),
        refunded_amount: "0.0000".into(),
    };
    let rendered = render_order(&order, base);
    store.orders.push(order);
    (StatusCode::CREATED, Some(rendered))
}

/// `PUT /v2/orders/{id}`: status, notes, message, billing address.
pub fn update_order(
    store: &mut BcStore,
    id: u64,
    body: &Value,
    base: &str,
    now: DateTime<Utc>,
) -> Answer {
    if !store.orders.iter().any(|o| o.id == id) {
        return not_found();
    }
    if let Some(status) = body.get("status_id").and_then(Value::as_u64) {
        if status > 14 {
            return v2_error(
                StatusCode::BAD_REQUEST,
                "The status_id is not a valid order status.",
            );
        }
        store.set_status(id, status, now);
    }
    let Some(o) = store.order_mut(id) else {
        return not_found();
    };
    if let Some(notes) = body.get("staff_notes").and_then(Value::as_str) {
        o.staff_notes = notes.to_string();
    }
    if let Some(message) = body.get("customer_message").and_then(Value::as_str) {
        o.customer_message = message.to_string();
    }
    if let (Some(Value::Object(new)), Value::Object(old)) =
        (body.get("billing_address"), &mut o.billing)
    {
        old.extend(new.clone());
    }
    o.modified = now;
    get_order(store, id, base)
}

fn render_line(o: &BcOrder, l: &BcLine) -> Value {
    let total = |price: &str| {
        format!(
            "{:.4}",
            price.parse::<f64>().unwrap_or(0.0) * l.quantity as f64
        )
    };
    json!({
        "id": l.id, "order_id": o.id, "product_id": l.product_id, "variant_id": l.variant_id,
        "order_address_id": o.addresses.first().map_or(0, |(a, _)| *a),
        "name": l.name, "sku": l.sku, "type": "physical",
        "base_price": l.price_ex_tax, "price_ex_tax": l.price_ex_tax, "price_inc_tax": l.price_inc_tax,
        "total_ex_tax": total(&l.price_ex_tax), "total_inc_tax": total(&l.price_inc_tax),
        "quantity": l.quantity, "quantity_shipped": l.quantity_shipped,
        "is_refunded": false, "quantity_refunded": 0, "product_options": [],
    })
}

fn paged(items: Vec<Value>, q: &Value) -> Answer {
    let (page, limit) = page_and_limit(q, 50);
    let shown: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * limit) as usize)
        .take(limit as usize)
        .collect();
    if shown.is_empty() {
        return (StatusCode::NO_CONTENT, None);
    }
    (StatusCode::OK, Some(Value::Array(shown)))
}

pub fn list_products(store: &BcStore, id: u64, q: &Value) -> Answer {
    let Some(o) = store.orders.iter().find(|o| o.id == id) else {
        return not_found();
    };
    paged(o.lines.iter().map(|l| render_line(o, l)).collect(), q)
}

fn render_shipment(o: &BcOrder, s: &BcShipment) -> Value {
    json!({
        "id": s.id, "order_id": o.id, "customer_id": o.customer_id,
        "order_address_id": s.order_address_id, "date_created": rfc2822(s.created),
        "tracking_number": s.tracking_number, "merchant_shipping_cost": "0.0000",
        "shipping_method": "", "shipping_provider": s.shipping_provider,
        "tracking_carrier": s.tracking_carrier, "tracking_link": s.tracking_link,
        "comments": "", "billing_address": o.billing,
        "shipping_address": o.addresses.first().map_or(Value::Null, |(_, a)| a.clone()),
        "items": s.items.iter().map(|(order_product, product, quantity)| json!({
            "order_product_id": order_product, "product_id": product, "quantity": quantity,
        })).collect::<Vec<_>>(),
        "shipping_provider_display_name": s.shipping_provider.to_uppercase(),
        "generated_tracking_link": "",
    })
}

/// `GET /v2/orders/{id}/shipments`: 204 with no body when there is none.
pub fn list_shipments(store: &BcStore, id: u64, q: &Value) -> Answer {
    let Some(o) = store.orders.iter().find(|o| o.id == id) else {
        return not_found();
    };
    paged(
        o.shipments.iter().map(|s| render_shipment(o, s)).collect(),
        q,
    )
}

fn render_address(o: &BcOrder, id: u64, address: &Value) -> Value {
    let mut out = address.clone();
    if let Value::Object(map) = &mut out {
        map.insert("id".into(), json!(id));
        map.insert("order_id".into(), json!(o.id));
        map.insert("items_total".into(), json!(o.items_total()));
        map.insert("items_shipped".into(), json!(o.items_shipped()));
    }
    out
}

pub fn list_addresses(store: &BcStore, id: u64) -> Answer {
    let Some(o) = store.orders.iter().find(|o| o.id == id) else {
        return not_found();
    };
    let all: Vec<Value> = o
        .addresses
        .iter()
        .map(|(a, v)| render_address(o, *a, v))
        .collect();
    (StatusCode::OK, Some(Value::Array(all)))
}

pub fn update_address(
    store: &mut BcStore,
    id: u64,
    address: u64,
    body: &Value,
    now: DateTime<Utc>,
) -> Answer {
    let Some(o) = store.order_mut(id) else {
        return not_found();
    };
    let Some(index) = o.addresses.iter().position(|(a, _)| *a == address) else {
        return not_found();
    };
    if let (Value::Object(old), Value::Object(new)) = (&mut o.addresses[index].1, body) {
        old.extend(new.clone());
    }
    o.modified = now;
    let o = &*o;
    (
        StatusCode::OK,
        Some(render_address(o, address, &o.addresses[index].1)),
    )
}
