//! From domain to Magento's wire shapes: a `StorefrontOrderDraft` becomes the `{"entity": …}` of
//! `POST /V1/orders`, catalogue search results become `SkuMatch`es, US state names become the
//! site's own region ids. Reading orders back is [`super::read`]. Nothing Magento-shaped leaves.
//!
//! Invariants: every line names the product resolved beforehand (`product_id`), because
//! `OrderRepository::save` checks nothing and would save an unknown SKU as a line with no
//! product; TikTok's prices and totals are kept exactly (summed in integer minor units, never
//! added as floats); the order is a guest order with `ext_order_id` = the TikTok order id and a
//! deterministic `increment_id`, so a second save of the same TikTok order is refused by the
//! database (`Unique constraint violation found`) even in a race.

use serde_json::{Map, Value, json};

use crate::domain::rules::import::{DraftAddress, STORE_ORDER_TAG, SkuMatch, StorefrontOrderDraft};
use crate::domain::text;

/// `payment.method` of every order orderdeck creates. magento2.md: an unknown code saves, "but
/// every later invoice or credit memo fails with 500", so it must be an offline method every
/// site has installed: Purchase Order, whose `po_number` names TikTok Shop and the order for
/// staff (`Purchase Order Number: TikTok Shop 5764…` on the order page).
pub const PAYMENT_METHOD: &str = "purchaseorder";
/// The shipping method of the shipping assignment (Flat Rate, in every install). What the
/// buyer paid TikTok for shipping is not the merchant's to charge again: the amount is 0.
pub const SHIPPING_METHOD: &str = "flatrate_flatrate";
/// Prefix of the order number (`increment_id`) orderdeck gives: `TT` + the TikTok order id.
pub const INCREMENT_PREFIX: &str = "TT";

/// Why a draft cannot be sent: a caller bug or data Magento cannot take, not a store answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("line {sku} has no Magento product id: resolve its SKU first")]
    NoProduct { sku: String },
    #[error("line {sku} has quantity 0")]
    NoQuantity { sku: String },
    #[error("line {sku}: price {price:?} is not a decimal amount")]
    Price { sku: String, price: String },
    #[error("the draft has no lines")]
    NoLines,
}

/// The customer e-mail of an order orderdeck creates. Magento requires one on the order and on
/// both addresses (magento2.md: a missing `email` → `We can't save the address`), and TikTok
/// gives sellers no buyer e-mail. `example.com` is reserved (RFC 2606): nothing sent to it
/// reaches anyone, and the save route sends no order e-mail anyway.
pub fn buyer_email(tiktok_order_id: &str) -> String {
    format!("tiktok-{tiktok_order_id}@example.com")
}

/// The order number orderdeck gives a TikTok order's store order.
pub fn increment_id(tiktok_order_id: &str) -> String {
    format!("{INCREMENT_PREFIX}{tiktok_order_id}")
}

/// Product types an order line can be: a configurable parent, a bundle or a group is not
/// sellable itself (its children are), so it never counts as a match (magento2.md).
fn sellable(product: &Value) -> bool {
    !matches!(
        product.get("type_id").and_then(Value::as_str),
        Some("configurable" | "bundle" | "grouped")
    )
}

/// The products of a search that carry `sku` (SKUs are unique case-insensitively in Magento's
/// catalogue, and `eq`/`in` compare that way) and can be put on an order.
pub fn sku_match(products: &[Value], sku: &str) -> SkuMatch {
    let wanted = sku.trim().to_lowercase();
    let ids: Vec<String> = products
        .iter()
        .filter(|p| {
            p.get("sku")
                .and_then(Value::as_str)
                .is_some_and(|s| s.trim().to_lowercase() == wanted)
        })
        .filter(|p| sellable(p))
        .filter_map(|p| p.get("id").and_then(Value::as_u64).filter(|id| *id > 0))
        .map(|id| id.to_string())
        .collect();
    match ids.as_slice() {
        [] => SkuMatch::None,
        [one] => SkuMatch::One(one.clone()),
        several => SkuMatch::Many(several.len()),
    }
}

/// A decimal amount in minor units of its own precision: `"12.50"` → (1250, 2).
fn decimal(amount: &str) -> Option<(u128, usize)> {
    let amount = amount.trim();
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 6
    {
        return None;
    }
    Some((format!("{whole}{fraction}").parse().ok()?, fraction.len()))
}

/// Minor units at `scale` decimals as a JSON number (the wire is JSON numbers; the shortest
/// float that prints back as the same decimal is what goes, so nothing is rounded on the way).
fn number(units: u128, scale: usize) -> Value {
    let digits = format!("{units:0>width$}", width = scale + 1);
    let (w, f) = digits.split_at(digits.len() - scale);
    let text = if scale == 0 {
        w.to_string()
    } else {
        format!("{w}.{f}")
    };
    text.parse::<f64>().map(Value::from).unwrap_or(Value::Null)
}

/// A region of the site's directory (`GET /V1/directory/countries/{id}` → `available_regions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub id: Option<u64>,
    pub code: Option<String>,
    pub name: String,
}

/// The region of `province` (a code such as `CA` or a name such as `California`) in a country's
/// `available_regions`; `None` when the country lists none (free-text regions).
pub fn region_in(country: &Value, province: &str) -> Result<Option<Region>, String> {
    let regions = match country.get("available_regions") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        _ => return Ok(None),
    };
    let wanted = province.trim().to_lowercase();
    let text = |r: &Value, key: &str| {
        r.get(key)
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
    };
    regions
        .iter()
        .find(|r| {
            [text(r, "code"), text(r, "name")]
                .iter()
                .flatten()
                .any(|s| s.to_lowercase() == wanted)
        })
        .map(|r| {
            Some(Region {
                id: match r.get("id") {
                    Some(Value::String(s)) => s.trim().parse().ok(),
                    Some(Value::Number(n)) => n.as_u64(),
                    _ => None,
                },
                code: text(r, "code"),
                name: text(r, "name").unwrap_or_default(),
            })
        })
        .ok_or_else(|| {
            format!(
                "region {:?} is not one of the {} regions Magento knows for {}",
                text::sanitize(province),
                regions.len(),
                text::sanitize(&text(country, "id").unwrap_or_default())
            )
        })
}

/// An order address: `billing` or `shipping`. TikTok masks phone numbers; they go as they come
/// (magento2.md), and a missing one is refused by Magento's address validator, so a blank
/// becomes `-`.
pub fn address(address: &DraftAddress, kind: &str, email: &str, region: Option<&Region>) -> Value {
    let or_dash = |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    let mut street = vec![address.address1.trim().to_string()];
    if !address.address2.trim().is_empty() {
        street.push(address.address2.trim().to_string());
    }
    let mut out = json!({
        "address_type": kind,
        "firstname": or_dash(&address.first_name),
        "lastname": or_dash(&address.last_name),
        "street": street,
        "city": address.city.trim(),
        "postcode": address.zip.trim(),
        "country_id": address.country_code.trim().to_uppercase(),
        "telephone": or_dash(&address.phone),
        "email": email,
    });
    match region {
        Some(region) => {
            out["region"] = json!(region.name);
            if let Some(code) = &region.code {
                out["region_code"] = json!(code);
            }
            if let Some(id) = region.id {
                out["region_id"] = json!(id);
            }
        }
        None if !address.province.trim().is_empty() => {
            out["region"] = json!(address.province.trim());
        }
        None => {}
    }
    out
}

/// The `POST /V1/orders` body: a new, pending guest order in `store_id` at TikTok's prices;
/// invoicing it (offline, in full) is the next call.
pub fn order_body(
    draft: &StorefrontOrderDraft,
    store_id: u64,
    region: Option<&Region>,
) -> Result<Value, DraftError> {
    if draft.lines.is_empty() {
        return Err(DraftError::NoLines);
    }
    let tiktok = draft.tiktok_order_id.as_str();
    let email = buyer_email(tiktok);
    let currency = draft.currency.trim().to_uppercase();
    let mut items = Vec::with_capacity(draft.lines.len());
    let (mut subtotal, mut scale, mut qty) = (0u128, 0usize, 0u64);
    let mut rows = Vec::new();
    for line in &draft.lines {
        let sku = text::sanitize(&line.seller_sku);
        let product_id = line
            .store_item_id
            .as_deref()
            .and_then(|id| id.trim().parse::<u64>().ok())
            .filter(|id| *id > 0)
            .ok_or_else(|| DraftError::NoProduct { sku: sku.clone() })?;
        if line.quantity == 0 {
            return Err(DraftError::NoQuantity { sku });
        }
        let (unit, unit_scale) = decimal(&line.unit_price).ok_or_else(|| DraftError::Price {
            sku: sku.clone(),
            price: text::sanitize(&line.unit_price),
        })?;
        scale = scale.max(unit_scale);
        rows.push((line, product_id, unit, unit_scale));
    }
    for (line, product_id, unit, unit_scale) in rows {
        // Every amount at the order's largest precision, so the sum is exact.
        let unit = unit * 10u128.pow((scale - unit_scale) as u32);
        let row = unit * u128::from(line.quantity);
        subtotal += row;
        qty += u64::from(line.quantity);
        items.push(json!({
            "sku": line.seller_sku.trim(),
            "name": line.title.trim(),
            "product_id": product_id,
            "product_type": "simple",
            "store_id": store_id,
            "qty_ordered": line.quantity,
            "price": number(unit, scale),
            "base_price": number(unit, scale),
            "original_price": number(unit, scale),
            "base_original_price": number(unit, scale),
            "row_total": number(row, scale),
            "base_row_total": number(row, scale),
        }));
    }
    let total = number(subtotal, scale);
    let mut history = format!("{STORE_ORDER_TAG} order {tiktok}");
    if let Some(note) = draft
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        history.push_str(&format!(". Buyer's message: {note}"));
    }
    let mut entity = Map::new();
    for (key, value) in [
        ("store_id", json!(store_id)),
        ("ext_order_id", json!(tiktok)),
        ("increment_id", json!(increment_id(tiktok))),
        ("state", json!("new")),
        ("status", json!("pending")),
        ("customer_is_guest", json!(1)),
        ("customer_email", json!(email)),
        ("customer_firstname", json!(draft.address.first_name.trim())),
        ("customer_lastname", json!(draft.address.last_name.trim())),
        ("order_currency_code", json!(currency)),
        ("base_currency_code", json!(currency)),
        ("subtotal", total.clone()),
        ("base_subtotal", total.clone()),
        ("shipping_amount", json!(0)),
        ("base_shipping_amount", json!(0)),
        ("grand_total", total.clone()),
        ("base_grand_total", total),
        ("total_qty_ordered", json!(qty)),
        ("shipping_description", json!(STORE_ORDER_TAG)),
        ("items", Value::Array(items)),
        (
            "billing_address",
            address(&draft.address, "billing", &email, region),
        ),
        (
            "payment",
            json!({ "method": PAYMENT_METHOD, "po_number": format!("{STORE_ORDER_TAG} {tiktok}") }),
        ),
        (
            "extension_attributes",
            json!({ "shipping_assignments": [{ "shipping": {
                "address": address(&draft.address, "shipping", &email, region),
                "method": SHIPPING_METHOD,
            }}]}),
        ),
        (
            "status_histories",
            json!([{ "comment": text::truncate(&history, 1000), "is_customer_notified": 0, "is_visible_on_front": 0 }]),
        ),
    ] {
        entity.insert(key.to_string(), value);
    }
    Ok(json!({ "entity": entity }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TiktokOrderId;
    use crate::domain::rules::import::DraftLine;
    use crate::domain::settings::InventoryBehaviour;

    fn draft(item: Option<&str>) -> StorefrontOrderDraft {
        let line = |sku: &str, quantity, price: &str| DraftLine {
            seller_sku: sku.into(),
            store_item_id: item.map(str::to_string),
            title: format!("{sku} title"),
            quantity,
            unit_price: price.into(),
        };
        StorefrontOrderDraft {
            tiktok_order_id: TiktokOrderId::new("576461413038785752").unwrap(),
            lines: vec![line("CRO-00", 2, "12.5"), line("LIN-11", 1, "0.05")],
            currency: "usd".into(),
            address: DraftAddress {
                first_name: "Amara".into(),
                last_name: "Okafor".into(),
                address1: "100 Market St".into(),
                city: "San Jose".into(),
                province: "California".into(),
                country_code: "us".into(),
                zip: "95113".into(),
                phone: "(+1)408-***-0199".into(),
                ..DraftAddress::default()
            },
            note: Some("ring twice".into()),
            tags: vec![STORE_ORDER_TAG.into()],
            inventory: InventoryBehaviour::Bypass,
            amazon: Default::default(),
        }
    }

    #[test]
    fn the_order_body_keeps_tiktoks_prices_exactly() {
        let ca = Region {
            id: Some(12),
            code: Some("CA".into()),
            name: "California".into(),
        };
        let body = order_body(&draft(Some("31")), 1, Some(&ca)).unwrap();
        let e = &body["entity"];
        assert_eq!(e["ext_order_id"], "576461413038785752");
        assert_eq!(e["increment_id"], "TT576461413038785752");
        assert_eq!(e["grand_total"], json!(25.05));
        assert_eq!(e["items"][0]["row_total"], json!(25.0));
        assert_eq!(e["items"][1]["price"], json!(0.05));
        assert_eq!(e["items"][0]["product_id"], 31);
        assert_eq!(e["total_qty_ordered"], 3);
        assert_eq!(e["payment"]["method"], PAYMENT_METHOD);
        let ship = &e["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"];
        assert_eq!(ship["region_id"], 12);
        assert_eq!(ship["street"], json!(["100 Market St"]));
        assert_eq!(ship["country_id"], "US");
        assert_eq!(ship["telephone"], "(+1)408-***-0199");
        assert!(e.get("shipping_address").is_none());
        assert!(
            e["status_histories"][0]["comment"]
                .as_str()
                .unwrap()
                .contains("ring twice")
        );
        assert_eq!(e["status_histories"][0]["is_customer_notified"], 0);
        assert_eq!(
            order_body(&draft(None), 1, None),
            Err(DraftError::NoProduct {
                sku: "CRO-00".into()
            })
        );
    }

    #[test]
    fn regions_resolve_by_code_or_name() {
        let us = json!({"id": "US", "available_regions": [
            {"id": "12", "code": "CA", "name": "California"},
            {"id": "43", "code": "NY", "name": "New York"}]});
        assert_eq!(region_in(&us, "ca").unwrap().unwrap().id, Some(12));
        assert_eq!(
            region_in(&us, "New York").unwrap().unwrap().code.as_deref(),
            Some("NY")
        );
        assert!(region_in(&us, "Narnia").unwrap_err().contains("Narnia"));
        assert_eq!(
            region_in(&json!({"id": "GB"}), "Greater London").unwrap(),
            None
        );
    }

    #[test]
    fn configurable_parents_never_match() {
        let products = [
            json!({"id": 5, "sku": "A", "type_id": "configurable"}),
            json!({"id": 6, "sku": "a", "type_id": "simple"}),
            json!({"id": 7, "sku": "AB", "type_id": "simple"}),
        ];
        assert_eq!(sku_match(&products, "A"), SkuMatch::One("6".into()));
        assert_eq!(sku_match(&products, "B"), SkuMatch::None);
        let dup = [json!({"id": 1, "sku": "D"}), json!({"id": 2, "sku": "D"})];
        assert_eq!(sku_match(&dup, "D"), SkuMatch::Many(2));
    }
}
