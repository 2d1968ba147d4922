//! Fulfillment on the simulated TikTok: shipping providers, the seller's tracking (Mark
//! Package As Shipped for US/UK/EU shops, Ship Package with `self_shipment` for SEA/LATAM),
//! corrections, and labels for orders TikTok ships — whose `doc_url` points back at this
//! sandbox, which serves a small valid PDF there for 24 hours.
//!
//! Invariants: an order is shipped at most once (`21011020` after that); a tracking number
//! belongs to one order of a shop (`21011025`); providers come from the shop's delivery option.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::gate::ApiError;
use super::routes::{Request, field, string_list};
use super::world::{Order, Package, World, unix_now};

/// Where labels are served (outside the API's paths, like TikTok's document host).
pub const DOCUMENT_ROUTE: &str = "/sandbox/documents/{file}";
const DOCUMENT_LIFETIME: i64 = 24 * 3600;
/// Regions whose sellers ship with Ship Package (`self_shipment`).
const SHIP_PACKAGE_REGIONS: [&str; 12] = [
    "ID", "MY", "PH", "SG", "TH", "VN", "MX", "BR", "CO", "CL", "PE", "AR",
];
const DOCUMENT_TYPES: [&str; 4] = [
    "SHIPPING_LABEL",
    "PACKING_SLIP",
    "SHIPPING_LABEL_AND_PACKING_SLIP",
    "SHIPPING_LABEL_PICTURE",
];

pub(super) fn providers(world: &World, request: &Request) -> Result<Value, ApiError> {
    let shop = &world.shops[request.shop].spec;
    if request.param != Some(shop.delivery_option_id.as_str()) {
        return Err(ApiError::invalid("Unknown delivery_option_id."));
    }
    let list: Vec<Value> = shop
        .providers
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    Ok(json!({ "shipping_providers": list }))
}

pub(super) fn mark_shipped(world: &mut World, request: &Request) -> Result<Value, ApiError> {
    let order_id = request.param.unwrap_or_default();
    let order = order_in_shop(world, request.shop, order_id)?;
    let region = &world.shops[request.shop].spec.region;
    if ships_by_package(region) {
        return Err(ApiError::invalid(format!(
            "Mark Package As Shipped is not available in region {region}: use Ship Package."
        )));
    }
    check_shippable(order)?;
    let (tracking, provider) = seller_tracking(world, request.shop, order_id, &request.body)?;
    let unshipped: Vec<String> = order
        .packages
        .iter()
        .filter(|p| p.tracking_number.is_none())
        .flat_map(|p| p.line_ids.clone())
        .collect();
    let wanted = string_list(&request.body, "order_line_item_ids")?.unwrap_or_default();
    let wanted = if wanted.is_empty() {
        unshipped.clone()
    } else {
        wanted
    };
    if let Some(stray) = wanted
        .iter()
        .find(|id| !order.lines.iter().any(|l| &l.id == *id))
    {
        return Err(ApiError::invalid(format!(
            "Line item {stray} is not part of order {order_id}."
        )));
    }
    if let Some(cancelled) = wanted
        .iter()
        .find(|id| order.lines.iter().any(|l| &l.id == *id && l.cancelled))
    {
        return Err(ApiError::business(
            21011041,
            format!("Line item {cancelled} has been cancelled."),
        ));
    }
    if wanted.iter().any(|id| !unshipped.contains(id)) {
        return Err(ApiError::business(
            21011020,
            "The package has already been shipped.",
        ));
    }
    let split_id = world.next_id("1153");
    let order = world.orders.get_mut(order_id).expect("checked above");
    let whole = order.packages.iter_mut().find(|p| {
        p.tracking_number.is_none()
            && p.line_ids.len() == wanted.len()
            && p.line_ids.iter().all(|id| wanted.contains(id))
    });
    // A package shipped whole keeps its id; shipping some of its lines splits them off.
    let package_id = match whole {
        Some(package) => {
            package.tracking_number = Some(tracking);
            package.provider_id = Some(provider);
            package.id.clone()
        }
        None => {
            for package in &mut order.packages {
                package.line_ids.retain(|id| !wanted.contains(id));
            }
            order.packages.retain(|p| !p.line_ids.is_empty());
            order.packages.push(Package {
                id: split_id.clone(),
                line_ids: wanted.clone(),
                tracking_number: Some(tracking),
                provider_id: Some(provider),
            });
            split_id
        }
    };
    settle_shipped(order, "IN_TRANSIT", request.now);
    world.count_tracking_write(order_id);
    Ok(json!({"order_id": order_id, "order_line_item_ids": wanted, "package_id": package_id}))
}

pub(super) fn ship_package(world: &mut World, request: &Request) -> Result<Value, ApiError> {
    let package_id = request.param.unwrap_or_default();
    let order_id = order_of_package(world, request.shop, package_id)?;
    let region = &world.shops[request.shop].spec.region;
    if !ships_by_package(region) {
        return Err(ApiError::invalid(format!(
            "Ship Package with self_shipment is not available in region {region}: use Mark Package As Shipped."
        )));
    }
    check_shippable(&world.orders[&order_id])?;
    match field(&request.body, "handover_method")? {
        "PICKUP" | "DROP_OFF" => {}
        other => {
            return Err(ApiError::invalid(format!(
                "Unknown handover_method '{other}'."
            )));
        }
    }
    let Some(Value::Object(shipment)) = request.body.get("self_shipment") else {
        return Err(ApiError::invalid(
            "'self_shipment' is required for seller shipping.",
        ));
    };
    let (tracking, provider) = seller_tracking(world, request.shop, &order_id, shipment)?;
    let order = world.orders.get_mut(&order_id).expect("found above");
    if let Some(package) = order.packages.iter_mut().find(|p| p.id == package_id) {
        package.tracking_number = Some(tracking);
        package.provider_id = Some(provider);
    }
    settle_shipped(order, "AWAITING_COLLECTION", request.now);
    world.count_tracking_write(&order_id);
    Ok(json!({}))
}

pub(super) fn update_shipping_info(
    world: &mut World,
    request: &Request,
) -> Result<Value, ApiError> {
    let order_id = request.param.unwrap_or_default();
    let order = order_in_shop(world, request.shop, order_id)?;
    if order.status == "CANCELLED" {
        return Err(ApiError::business(
            21011041,
            "The order has been cancelled.",
        ));
    }
    if !order.packages.iter().any(|p| p.tracking_number.is_some()) {
        return Err(ApiError::invalid(
            "The order has not been shipped yet: mark it shipped first.",
        ));
    }
    let (tracking, provider) = seller_tracking(world, request.shop, order_id, &request.body)?;
    let order = world.orders.get_mut(order_id).expect("checked above");
    if let Some(package) = order
        .packages
        .iter_mut()
        .find(|p| p.tracking_number.is_some())
    {
        package.tracking_number = Some(tracking);
        package.provider_id = Some(provider);
    }
    order.update_time = request.now;
    world.count_tracking_write(order_id);
    Ok(json!({}))
}

pub(super) fn shipping_document(
    world: &mut World,
    request: &Request,
    api_base: &str,
) -> Result<Value, ApiError> {
    let package_id = request.param.unwrap_or_default();
    let order_id = order_of_package(world, request.shop, package_id)?;
    let document_type = request.query.get("document_type").unwrap_or_default();
    if !DOCUMENT_TYPES.contains(&document_type) {
        return Err(ApiError::invalid(format!(
            "Unknown document_type '{document_type}'."
        )));
    }
    if let Some(size) = request
        .query
        .get("document_size")
        .filter(|s| !["A6", "A5"].contains(s))
    {
        return Err(ApiError::invalid(format!(
            "Unknown document_size '{size}'."
        )));
    }
    let order = &world.orders[&order_id];
    if order.shipping_type != "TIKTOK" {
        return Err(ApiError::business(
            21008017,
            "Shipping documents are only available for orders shipped by TikTok.",
        ));
    }
    match order.status.as_str() {
        "CANCELLED" => {
            return Err(ApiError::business(
                21023059,
                "The package has been cancelled.",
            ));
        }
        "UNPAID" | "ON_HOLD" | "AWAITING_SHIPMENT" => {
            return Err(ApiError::business(
                21023035,
                "Please arrange shipment first.",
            ));
        }
        _ => {}
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    world.documents.insert(
        token.clone(),
        (package_id.to_string(), request.now + DOCUMENT_LIFETIME),
    );
    let order = world.orders.get_mut(&order_id).expect("found above");
    let package = order
        .packages
        .iter_mut()
        .find(|p| p.id == package_id)
        .expect("found above");
    // TikTok's carrier numbers the parcel when it makes the label.
    let tracking = package
        .tracking_number
        .get_or_insert_with(|| format!("TT{}", &package_id[package_id.len().saturating_sub(10)..]))
        .clone();
    Ok(
        json!({"doc_url": format!("{api_base}/sandbox/documents/{token}.pdf"), "tracking_number": tracking}),
    )
}

/// The label behind a `doc_url`. Expired or unknown links get a 403, as from an object store.
pub(super) async fn serve_document(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
) -> Response {
    let found = {
        let mut world = shared.world();
        world.calls.entry("download_document").or_default().count += 1;
        let token = file.trim_end_matches(".pdf");
        world
            .documents
            .get(token)
            .filter(|(_, expires)| *expires > unix_now())
            .map(|(package, _)| package.clone())
    };
    match found {
        Some(package) => (
            [(header::CONTENT_TYPE, "application/pdf")],
            label_pdf(&package),
        )
            .into_response(),
        None => (
            StatusCode::FORBIDDEN,
            "AccessDenied: the document link is unknown or expired",
        )
            .into_response(),
    }
}

fn ships_by_package(region: &str) -> bool {
    SHIP_PACKAGE_REGIONS.contains(&region.to_ascii_uppercase().as_str())
}

fn order_in_shop<'a>(world: &'a World, shop: usize, order_id: &str) -> Result<&'a Order, ApiError> {
    world
        .orders
        .get(order_id)
        .filter(|o| o.shop == shop)
        .ok_or_else(|| ApiError::invalid(format!("Order {order_id} does not exist.")))
}

fn order_of_package(world: &World, shop: usize, package_id: &str) -> Result<String, ApiError> {
    world
        .orders
        .values()
        .find(|o| o.shop == shop && o.packages.iter().any(|p| p.id == package_id))
        .map(|o| o.id.clone())
        .ok_or_else(|| ApiError::invalid(format!("Package {package_id} does not exist.")))
}

fn check_shippable(order: &Order) -> Result<(), ApiError> {
    match order.status.as_str() {
        "CANCELLED" => Err(ApiError::business(
            21011041,
            "The order has been cancelled.",
        )),
        "UNPAID" | "ON_HOLD" => Err(ApiError::invalid(format!(
            "The order cannot be shipped in status {}.",
            order.status
        ))),
        _ if order.is_buyer_request_cancel => Err(ApiError::business(
            21011007,
            "The order has a pending after-sale request.",
        )),
        _ if order.packages.iter().all(|p| p.tracking_number.is_some()) => Err(ApiError::business(
            21011020,
            "The package has already been shipped.",
        )),
        _ => Ok(()),
    }
}

/// `tracking_number` and `shipping_provider_id` of a body, checked against the shop.
fn seller_tracking(
    world: &World,
    shop: usize,
    order_id: &str,
    body: &serde_json::Map<String, Value>,
) -> Result<(String, String), ApiError> {
    let tracking = field(body, "tracking_number")?.trim();
    let provider = field(body, "shipping_provider_id")?;
    if !world.shops[shop]
        .spec
        .providers
        .iter()
        .any(|(id, _)| id == provider)
    {
        return Err(ApiError::business(
            21011022,
            "Invalid shipping provider for the order's delivery option.",
        ));
    }
    let well_formed = (4..=40).contains(&tracking.len())
        && tracking
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !well_formed {
        return Err(ApiError::business(21011022, "Invalid tracking number."));
    }
    let used_elsewhere = world.orders.values().any(|o| {
        o.shop == shop
            && o.id != order_id
            && o.packages
                .iter()
                .any(|p| p.tracking_number.as_deref() == Some(tracking))
    });
    if used_elsewhere {
        return Err(ApiError::business(
            21011025,
            "The tracking number has already been used by another order.",
        ));
    }
    Ok((tracking.to_string(), provider.to_string()))
}

/// Every package tracked: the order moves on; some: it is partially shipping.
fn settle_shipped(order: &mut Order, when_complete: &str, now: i64) {
    order.status = if order.packages.iter().all(|p| p.tracking_number.is_some()) {
        when_complete
    } else {
        "PARTIALLY_SHIPPING"
    }
    .to_string();
    order.update_time = now;
}

/// A one-page A6 PDF with correct cross-reference offsets.
fn label_pdf(package_id: &str) -> Vec<u8> {
    let text: String = package_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let content = format!(
        "BT /F1 14 Tf 20 380 Td (TikTok Shop sandbox label) Tj 0 -24 Td (Package {text}) Tj ET"
    );
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref_at = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_is_a_pdf_whose_offsets_point_at_its_objects() {
        let pdf = label_pdf("1152321127278713123");
        let text = String::from_utf8(pdf.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4") && text.ends_with("%%EOF\n"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[startxref..].starts_with("xref"));
        for (i, line) in text[startxref..].lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                text[offset..].starts_with(&format!("{} 0 obj", i + 1)),
                "object {}",
                i + 1
            );
        }
    }
}
