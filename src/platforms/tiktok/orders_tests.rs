//! Order reading against TikTok's official samples and the lenient cases the samples do not
//! show (unknown values, missing ids, numbers for strings, nulls).

use serde_json::json;

use super::*;
use crate::platforms::tiktok::test_samples::response_data;

fn first_order(endpoint: &str) -> serde_json::Value {
    response_data(endpoint)["orders"][0].clone()
}

#[test]
fn the_official_search_sample_reads_completely() {
    let order = read_order(first_order("search_orders")).unwrap();
    assert_eq!(order.id.as_str(), "576461413038785752");
    let s = &order.snapshot;
    assert_eq!(s.status, OrderStatus::Unpaid);
    assert_eq!(s.shipping_type, ShippingType::Tiktok);
    assert_eq!(s.fulfillment_type, FulfillmentType::BySeller);
    assert_eq!(s.created_at.timestamp(), 1619611561);
    assert_eq!(s.updated_at.timestamp(), 1619621355);
    assert_eq!(s.paid_at.map(|t| t.timestamp()), Some(1619611563));
    assert_eq!(
        s.ship_by.map(|t| t.timestamp()),
        Some(1619611688),
        "rts_sla_time first"
    );
    assert_eq!(s.cancellation_initiator, Some(Initiator::Seller));
    assert_eq!(s.cancel_reason.as_deref(), Some("Pricing error"));
    assert_eq!(s.buyer_message.as_deref(), Some("Please ship asap!"));
    assert_eq!(s.delivery_option_id.as_deref(), Some("7091146663229654785"));
    assert_eq!(s.shipping_provider.as_deref(), Some("TT Virtual express"));
    assert_eq!(
        (s.currency.as_str(), s.total_amount.as_str()),
        ("IDR", "5000")
    );
    assert_eq!(s.lines.len(), 1);
    let line = &s.lines[0];
    assert_eq!(
        (line.sku_id.as_str(), line.seller_sku.as_str()),
        ("2729382476852921560", "red_iphone_256")
    );
    assert_eq!((line.quantity, line.unit_price.as_str()), (1, "0.01"));
    assert_eq!(line.line_item_ids, vec!["577086512123755123".to_string()]);
    assert_eq!(s.packages.len(), 1);
    assert_eq!(s.packages[0].id.as_str(), "1152321127278713123");
    assert_eq!(s.packages[0].tracking_number.as_deref(), Some("JX12345"));
    let r = &s.recipient;
    assert_eq!(
        r.address_lines,
        vec!["TikTok 5800 bristol Pkwy", "Suite 100"],
        "blank lines 3 and 4 dropped"
    );
    assert_eq!((r.city.as_str(), r.province.as_str()), ("Ribbleton", ""));
    assert_eq!(
        (r.country_code.as_str(), r.postal_code.as_str()),
        ("US", "95110")
    );
    assert_eq!(r.name, "David Kong");
    assert_eq!(order.raw["payment"]["tax"], "5000", "raw JSON kept whole");
}

#[test]
fn the_official_detail_sample_reads_with_all_four_lines() {
    let order = read_order(first_order("get_order_detail")).unwrap();
    assert_eq!(order.snapshot.recipient.address_lines.len(), 4);
    assert_eq!(order.snapshot.recipient.address_lines[2], "Vila Olímpia");
}

#[test]
fn units_group_by_sku_and_districts_give_city_and_province() {
    let unit = |id: &str, sku: &str| json!({"id": id, "sku_id": sku, "seller_sku": format!("{sku}-s"), "sale_price": "4.50"});
    let raw = json!({
        "id": 576461413038785999_u64,
        "status": "AWAITING_SHIPMENT",
        "shipping_due_time": "1700000000",
        "payment": {"currency": "GBP", "total_amount": "13.50"},
        "line_items": [unit("1", "A"), unit("2", "B"), unit("3", "A")],
        "recipient_address": {
            "address_line1": " 1 High Street ", "address_line2": null, "region_code": "gb",
            "district_info": [
                {"address_level": "L0", "address_level_name": "Country", "address_name": "United Kingdom"},
                {"address_level": "L1", "address_level_name": "County", "address_name": "Greater London"},
                {"address_level": "L3", "address_level_name": "Post town", "address_name": "Camden"},
                {"address_level": "L2", "address_level_name": "City", "address_name": "London"}
            ]
        }
    });
    let order = read_order(raw).unwrap();
    assert_eq!(
        order.id.as_str(),
        "576461413038785999",
        "numeric ids are tolerated"
    );
    let s = &order.snapshot;
    assert_eq!(
        s.ship_by.map(|t| t.timestamp()),
        Some(1_700_000_000),
        "shipping_due_time fallback"
    );
    let summary: Vec<_> = s
        .lines
        .iter()
        .map(|l| (l.sku_id.as_str(), l.quantity))
        .collect();
    assert_eq!(summary, vec![("A", 2), ("B", 1)]);
    assert_eq!(
        s.lines[0].currency, "GBP",
        "item currency falls back to the payment's"
    );
    let r = &s.recipient;
    assert_eq!(
        (
            r.city.as_str(),
            r.province.as_str(),
            r.country_code.as_str()
        ),
        ("London", "Greater London", "GB")
    );
    assert_eq!(r.address_lines, vec!["1 High Street"]);
}

#[test]
fn the_deepest_level_is_the_city_when_none_is_named() {
    let raw = json!({"id": "1", "recipient_address": {"district_info": [
        {"address_level": "L1", "address_name": "Jawa Barat"},
        {"address_level": "L2", "address_name": "Bandung"},
        {"address_level": "L3", "address_name": "Coblong"}
    ]}});
    let r = read_order(raw).unwrap().snapshot.recipient;
    assert_eq!(
        (r.city.as_str(), r.province.as_str()),
        ("Coblong", "Jawa Barat")
    );
}

#[test]
fn unknown_values_and_both_cancel_spellings_are_kept() {
    for (wire, expected) in [
        ("CANCEL", OrderStatus::Cancelled),
        ("CANCELLED", OrderStatus::Cancelled),
        (
            "AWAITING_PICKUP_V2",
            OrderStatus::Unknown("AWAITING_PICKUP_V2".into()),
        ),
    ] {
        let raw = json!({"id": "7", "status": wire, "shipping_type": "DRONE", "cancellation_initiator": "ROBOT"});
        let s = read_order(raw).unwrap().snapshot;
        assert_eq!(s.status, expected);
        assert_eq!(s.shipping_type, ShippingType::Unknown("DRONE".into()));
        assert_eq!(
            s.cancellation_initiator,
            Some(Initiator::Unknown("ROBOT".into()))
        );
    }
}

#[test]
fn a_bare_order_reads_with_defaults() {
    let s = read_order(json!({"id": "42", "line_items": null, "packages": null, "payment": null}))
        .unwrap()
        .snapshot;
    assert!(s.lines.is_empty() && s.packages.is_empty());
    assert_eq!(s.status, OrderStatus::Unknown(String::new()));
    assert!(s.ship_by.is_none() && s.paid_at.is_none());
    assert!(!s.is_buyer_request_cancel);
}

#[test]
fn unreadable_orders_say_why() {
    let no_id = read_order(json!({"status": "UNPAID", "update_time": 5})).unwrap_err();
    assert!(no_id.why.starts_with("an order without an id"), "{no_id}");
    assert_eq!(no_id.order, None);
    let bad_id = read_order(json!({"id": "12ab"})).unwrap_err();
    assert!(bad_id.why.contains("unusable id"), "{bad_id}");
    let hostile = read_order(json!({"id": "\u{1b}[2J"})).unwrap_err();
    assert!(!hostile.why.contains('\u{1b}'), "{hostile}");
    let broken = read_order(json!({"id": "9", "recipient_address": "not an object"})).unwrap_err();
    assert!(
        broken.why.starts_with("order 9 could not be read"),
        "{broken}"
    );
    // Once its id is read, the order can be held for a person instead of dropped.
    assert_eq!(broken.order.map(String::from).as_deref(), Some("9"));
}

#[test]
fn a_time_that_cannot_be_read_is_an_error_naming_the_order_and_the_field() {
    let why = read_order(json!({"id": "77", "rts_sla_time": "tomorrow"}))
        .unwrap_err()
        .why;
    assert!(why.contains("order 77"), "{why}");
    assert!(why.contains("rts_sla_time"), "{why}");
    assert!(why.contains("\"tomorrow\""), "{why}");
    // Numbers as strings, blanks and nulls still read: only a wrong value is refused.
    let s = read_order(
        json!({"id": "78", "paid_time": "1619611563", "rts_sla_time": "", "update_time": null}),
    )
    .unwrap()
    .snapshot;
    assert_eq!(s.paid_at.map(|t| t.timestamp()), Some(1619611563));
    assert_eq!(s.ship_by, None);
}
