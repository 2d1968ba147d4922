//! What the simulated Magento does with each request, after authentication and the contract
//! check: searches over rendered rows (`searchCriteria` filters, sort, paging clamped to the
//! last page), the order save with its business validation, invoices, cancels, comments and
//! offline credit memos, refusing what Magento refuses in its words (magento2.md).

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::render;
use super::search::text;
use super::state::{
    MageComment, MageCreditMemo, MageInvoice, MageItem, MageOrder, MageStore, PAYMENT_METHODS,
};

pub type Answer = (StatusCode, Value);

pub fn fail(status: StatusCode, message: &str, parameters: Value) -> Answer {
    (
        status,
        json!({ "message": message, "parameters": parameters }),
    )
}

pub fn no_entity() -> Answer {
    fail(
        StatusCode::NOT_FOUND,
        "The entity that was requested doesn't exist. Verify the entity and try again.",
        json!([]),
    )
}

/// A 500 as Magento gives it: the detail goes to its log, the answer only names the report.
pub fn internal(report: u64) -> Answer {
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!(
            "Internal Error. Details are available in Magento log file. Report ID: webapi-{report:x}"
        ),
        json!([]),
    )
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(text)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key)
        .and_then(text)
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0)
}

/// The order address validator: what is missing, in Magento's words.
fn address_problems(address: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (key, label) in [
        ("firstname", "First Name"),
        ("lastname", "Last Name"),
        ("city", "City"),
        ("postcode", "Zip/Postal Code"),
        ("country_id", "Country"),
        ("telephone", "Phone Number"),
        ("email", "Email"),
    ] {
        if str_of(address, key).is_empty() {
            out.push(format!("\"{label}\" is required. Enter and try again."));
        }
    }
    let street_ok = address
        .get("street")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|l| l.as_str().is_some_and(|l| !l.trim().is_empty()))
        });
    if !street_ok {
        out.push("\"Street Address\" is required. Enter and try again.".into());
    }
    if str_of(address, "country_id") == "US" && address.get("region_id").and_then(text).is_none() {
        out.push("\"regionId\" is required. Enter and try again.".into());
    }
    out
}

/// `POST /V1/orders`: stores what it is given, after the checks 2.4.9 makes.
pub fn save_order(store: &mut MageStore, body: &Value, now: DateTime<Utc>) -> Answer {
    let e = &body["entity"];
    if let Some(id) = e.get("entity_id").and_then(Value::as_u64) {
        let Some(order) = store.order_mut(id) else {
            return no_entity();
        };
        // A save with `entity_id` updates the columns given and runs no cancel or refund logic.
        for key in ["ext_order_id", "state", "status"] {
            if let Some(v) = e.get(key).and_then(text) {
                match key {
                    "ext_order_id" => order.ext_order_id = Some(v),
                    "state" => order.state = v,
                    _ => order.status = v,
                }
            }
        }
        order.updated_at = now;
        return (StatusCode::OK, render::order(order));
    }
    let items = e
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if items.is_empty() {
        return fail(
            StatusCode::BAD_REQUEST,
            "Please specify order items.",
            json!([]),
        );
    }
    let billing = e.get("billing_address").cloned().unwrap_or(Value::Null);
    if billing.is_null() || !address_problems(&billing).is_empty() {
        return fail(
            StatusCode::BAD_REQUEST,
            "Please provide billing address for the order.",
            json!([]),
        );
    }
    let shipping =
        e["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"].clone();
    let problems = if shipping.is_null() {
        vec!["no shipping address".to_string()]
    } else {
        address_problems(&shipping)
    };
    if !problems.is_empty() {
        let detail = problems.join("\n");
        return fail(
            StatusCode::BAD_REQUEST,
            &format!("We can't save the address:\n{detail}"),
            json!([detail]),
        );
    }
    let store_id = e.get("store_id").and_then(Value::as_u64).unwrap_or(0);
    let increment = str_of(e, "increment_id");
    if !increment.is_empty()
        && store
            .orders
            .iter()
            .any(|o| o.increment_id == increment && o.store_id == store_id)
    {
        return fail(
            StatusCode::BAD_REQUEST,
            "Unique constraint violation found",
            json!([]),
        );
    }
    let entity_id = store.next_id();
    let mut lines = Vec::new();
    for item in &items {
        let item_id = store.next_id();
        lines.push(MageItem {
            item_id,
            sku: str_of(item, "sku"),
            name: str_of(item, "name"),
            product_id: item.get("product_id").and_then(Value::as_u64).unwrap_or(0),
            product_type: item
                .get("product_type")
                .and_then(Value::as_str)
                .unwrap_or("simple")
                .to_string(),
            price: num(item, "price"),
            row_total: num(item, "row_total"),
            qty_ordered: num(item, "qty_ordered"),
            qty_invoiced: 0.0,
            qty_shipped: 0.0,
            qty_refunded: 0.0,
            qty_canceled: 0.0,
        });
    }
    let mut comments = Vec::new();
    for h in e
        .get("status_histories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        comments.push(MageComment {
            entity_id: store.next_id(),
            comment: str_of(h, "comment"),
            is_customer_notified: h
                .get("is_customer_notified")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            is_visible_on_front: h
                .get("is_visible_on_front")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            status: "pending".into(),
            created_at: now,
        });
    }
    let order = MageOrder {
        entity_id,
        increment_id: if increment.is_empty() {
            format!("{:09}", entity_id)
        } else {
            increment
        },
        store_id,
        ext_order_id: Some(str_of(e, "ext_order_id")).filter(|s| !s.is_empty()),
        state: Some(str_of(e, "state"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "new".into()),
        status: Some(str_of(e, "status"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "pending".into()),
        created_at: now,
        updated_at: now,
        customer_email: str_of(e, "customer_email"),
        customer_firstname: str_of(e, "customer_firstname"),
        customer_lastname: str_of(e, "customer_lastname"),
        currency: str_of(e, "order_currency_code"),
        grand_total: num(e, "grand_total"),
        total_invoiced: 0.0,
        total_refunded: 0.0,
        payment_method: str_of(&e["payment"], "method"),
        billing_address: billing,
        shipping_address: shipping,
        items: lines,
        comments,
        notified: 0,
    };
    let rendered = render::order(&order);
    store.orders.push(order);
    (StatusCode::OK, rendered)
}

fn payment_installed(order: &MageOrder) -> bool {
    PAYMENT_METHODS.contains(&order.payment_method.as_str())
}

/// `POST /V1/order/{id}/invoice`: everything left (no `items`), paid at once (offline).
pub fn invoice(store: &mut MageStore, id: u64, body: &Value, now: DateTime<Utc>) -> Answer {
    let invoice_id = store.next_id();
    let Some(order) = store.order_mut(id) else {
        return no_entity();
    };
    if !payment_installed(order) {
        return internal(invoice_id);
    }
    if !order.can_invoice() {
        let message = if order.state == "canceled" || order.state == "holded" {
            format!(
                "Invoice Document Validation Error(s):\nAn invoice cannot be created when an order has a status of {}",
                order.status
            )
        } else {
            "Invoice Document Validation Error(s):\nThe order does not allow an invoice to be created.".to_string()
        };
        return fail(StatusCode::BAD_REQUEST, &message, json!([]));
    }
    let mut items = Vec::new();
    let mut total = 0.0;
    for item in &mut order.items {
        let qty = item.invoiceable();
        if qty > 0.0 {
            item.qty_invoiced += qty;
            total += item.price * qty;
            items.push((item.item_id, qty));
        }
    }
    order.total_invoiced += total;
    if body.get("notify").and_then(Value::as_bool) == Some(true) {
        order.notified += 1;
    }
    order.updated_at = now;
    order.settle_state();
    store.invoices.push(MageInvoice {
        entity_id: invoice_id,
        order_id: id,
        created_at: now,
        grand_total: total,
        items,
    });
    (StatusCode::OK, json!(invoice_id))
}

/// `POST /V1/orders/{id}/cancel`: bare `false` when `canCancel()` refuses.
pub fn cancel(store: &mut MageStore, id: u64, now: DateTime<Utc>) -> Answer {
    let Some(order) = store.order_mut(id) else {
        return no_entity();
    };
    if !order.can_cancel() {
        return (StatusCode::OK, json!(false));
    }
    let mut back = Vec::new();
    for item in &mut order.items {
        let qty = item.invoiceable();
        item.qty_canceled += qty;
        // The un-invoiced units go back to stock; nothing moves money.
        back.push((item.sku.clone(), qty));
    }
    order.state = "canceled".into();
    order.status = "canceled".into();
    order.updated_at = now;
    for (sku, qty) in back {
        store.restock(&sku, qty);
    }
    (StatusCode::OK, json!(true))
}

/// `POST /V1/orders/{id}/comments`: the status is kept.
pub fn add_comment(store: &mut MageStore, id: u64, body: &Value, now: DateTime<Utc>) -> Answer {
    let comment_id = store.next_id();
    let Some(order) = store.order_mut(id) else {
        return no_entity();
    };
    let h = &body["statusHistory"];
    let notified = h
        .get("is_customer_notified")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if notified == 1 {
        order.notified += 1;
    }
    order.comments.push(MageComment {
        entity_id: comment_id,
        comment: str_of(h, "comment"),
        is_customer_notified: notified,
        is_visible_on_front: h
            .get("is_visible_on_front")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        status: order.status.clone(),
        created_at: now,
    });
    order.updated_at = now;
    (StatusCode::OK, json!(true))
}

/// `POST /V1/order/{id}/refund`: an offline credit memo of invoiced, unrefunded units.
pub fn refund(
    store: &mut MageStore,
    id: u64,
    body: &Value,
    now: DateTime<Utc>,
    online: bool,
) -> Answer {
    let memo_id = store.next_id();
    let Some(order) = store.order_mut(id) else {
        return no_entity();
    };
    if !payment_installed(order) {
        return internal(memo_id);
    }
    let refuse = |why: &str| {
        fail(
            StatusCode::BAD_REQUEST,
            &format!("Creditmemo Document Validation Error(s):\n{why}"),
            json!([]),
        )
    };
    if matches!(order.state.as_str(), "canceled" | "holded" | "closed") {
        return refuse(&format!(
            "A creditmemo can not be created when an order has a status of {}",
            order.status
        ));
    }
    if !order.can_creditmemo() {
        return refuse("The order does not allow a creditmemo to be created.");
    }
    let asked: Vec<(u64, f64)> = match body.get("items").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|i| (i["order_item_id"].as_u64().unwrap_or(0), num(i, "qty")))
            .collect(),
        _ => order
            .items
            .iter()
            .map(|i| (i.item_id, i.refundable()))
            .filter(|(_, q)| *q > 0.0)
            .collect(),
    };
    let mut total = num(&body["arguments"], "shipping_amount");
    for (item_id, qty) in &asked {
        let Some(item) = order.items.iter().find(|i| i.item_id == *item_id) else {
            return refuse(&format!(
                "The creditmemo contains product item id {item_id} that is not part of the original order."
            ));
        };
        if *qty > item.refundable() + 1e-9 || *qty < 0.0 {
            return refuse(&format!(
                "The quantity to creditmemo must not be greater than the unrefunded quantity for product SKU \"{}\".",
                item.sku
            ));
        }
        total += item.price * qty;
    }
    if total > order.total_invoiced - order.total_refunded + 1e-6 {
        return fail(
            StatusCode::BAD_REQUEST,
            &format!(
                "The most money available to refund is {:.2}.",
                order.total_invoiced - order.total_refunded
            ),
            json!([]),
        );
    }
    let restock: Vec<u64> = body["arguments"]["extension_attributes"]["return_to_stock_items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let mut back = Vec::new();
    for (item_id, qty) in &asked {
        if let Some(item) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
            item.qty_refunded += qty;
            if restock.contains(item_id) {
                back.push((item.sku.clone(), *qty));
            }
        }
    }
    order.total_refunded += total;
    if body.get("notify").and_then(Value::as_bool) == Some(true) {
        order.notified += 1;
    }
    order.updated_at = now;
    order.settle_state();
    let comments = body["comment"]
        .get("comment")
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    store.memos.push(MageCreditMemo {
        entity_id: memo_id,
        order_id: id,
        created_at: now,
        grand_total: total,
        items: asked,
        comments,
        online,
    });
    for (sku, qty) in back {
        store.restock(&sku, qty);
    }
    (StatusCode::OK, json!(memo_id))
}

/// `GET /V1/directory/countries/{id}`: the US with Magento's region ids; other countries list
/// no regions (free-text region).
pub fn country(id: &str) -> Answer {
    const US: &[(&str, &str)] = &[
        ("AL", "Alabama"),
        ("AK", "Alaska"),
        ("AS", "American Samoa"),
        ("AZ", "Arizona"),
        ("AR", "Arkansas"),
        ("AE", "Armed Forces Africa"),
        ("AA", "Armed Forces Americas"),
        ("AE", "Armed Forces Canada"),
        ("AE", "Armed Forces Europe"),
        ("AE", "Armed Forces Middle East"),
        ("AP", "Armed Forces Pacific"),
        ("CA", "California"),
        ("CO", "Colorado"),
        ("CT", "Connecticut"),
        ("DE", "Delaware"),
        ("DC", "District of Columbia"),
        ("FM", "Federated States Of Micronesia"),
        ("FL", "Florida"),
        ("GA", "Georgia"),
        ("GU", "Guam"),
        ("HI", "Hawaii"),
        ("ID", "Idaho"),
        ("IL", "Illinois"),
        ("IN", "Indiana"),
        ("IA", "Iowa"),
        ("KS", "Kansas"),
        ("KY", "Kentucky"),
        ("LA", "Louisiana"),
        ("ME", "Maine"),
        ("MH", "Marshall Islands"),
        ("MD", "Maryland"),
        ("MA", "Massachusetts"),
        ("MI", "Michigan"),
        ("MN", "Minnesota"),
        ("MS", "Mississippi"),
        ("MO", "Missouri"),
        ("MT", "Montana"),
        ("NE", "Nebraska"),
        ("NV", "Nevada"),
        ("NH", "New Hampshire"),
        ("NJ", "New Jersey"),
        ("NM", "New Mexico"),
        ("NY", "New York"),
        ("NC", "North Carolina"),
        ("ND", "North Dakota"),
        ("MP", "Northern Mariana Islands"),
        ("OH", "Ohio"),
        ("OK", "Oklahoma"),
        ("OR", "Oregon"),
        ("PW", "Palau"),
        ("PA", "Pennsylvania"),
        ("PR", "Puerto Rico"),
        ("RI", "Rhode Island"),
        ("SC", "South Carolina"),
        ("SD", "South Dakota"),
        ("TN", "Tennessee"),
        ("TX", "Texas"),
        ("UT", "Utah"),
        ("VT", "Vermont"),
        ("VI", "Virgin Islands"),
        ("VA", "Virginia"),
        ("WA", "Washington"),
        ("WV", "West Virginia"),
        ("WI", "Wisconsin"),
        ("WY", "Wyoming"),
    ];
    let id = id.to_uppercase();
    if id.len() != 2 || !id.chars().all(|c| c.is_ascii_alphabetic()) {
        return fail(
            StatusCode::NOT_FOUND,
            "Requested country is not available.",
            json!([]),
        );
    }
    let mut out = json!({ "id": id, "two_letter_abbreviation": id, "full_name_english": id });
    if id == "US" {
        out["full_name_english"] = json!("United States");
        out["available_regions"] = US
            .iter()
            .enumerate()
            .map(|(i, (code, name))| json!({ "id": (i + 1).to_string(), "code": code, "name": name }))
            .collect();
    }
    (StatusCode::OK, out)
}
