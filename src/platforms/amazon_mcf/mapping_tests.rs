//! Tests of [`super`]: create bodies checked against Amazon's own contract file, and reads of
//! fulfillment orders in every shape the contract allows.

use super::*;
use crate::domain::ids::TiktokOrderId;
use crate::domain::rules::import::{DraftAddress, DraftLine, STORE_ORDER_TAG};
use crate::domain::settings::InventoryBehaviour;

const CONTRACT: &str = include_str!(
    "../../../tests/fixtures/platforms/amazon-mcf-fulfillment-outbound-2020-07-01.json"
);

/// Checks `instance` against `#/definitions/{name}` of the Swagger file, as draft-4 JSON Schema.
fn check(name: &str, instance: &Value) -> Result<(), String> {
    let document: Value = serde_json::from_str(CONTRACT).unwrap();
    let schema = json!({
        "definitions": document["definitions"],
        "$ref": format!("#/definitions/{name}"),
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    match validator.iter_errors(instance).next() {
        None => Ok(()),
        Some(e) => Err(format!("{}: {e}", e.instance_path())),
    }
}

fn line(sku: &str, quantity: u32) -> DraftLine {
    DraftLine {
        seller_sku: sku.into(),
        store_item_id: None,
        title: "Crochet jumper".into(),
        quantity,
        unit_price: "12.50".into(),
    }
}

fn draft(lines: Vec<DraftLine>) -> StorefrontOrderDraft {
    StorefrontOrderDraft {
        tiktok_order_id: TiktokOrderId::new("576461413038785752").unwrap(),
        lines,
        currency: "USD".into(),
        address: DraftAddress {
            first_name: "Amara".into(),
            last_name: "Okafor".into(),
            address1: "1 Main St".into(),
            address2: "Apt 2".into(),
            city: "Austin".into(),
            province: "TX".into(),
            country_code: "us".into(),
            zip: "78701".into(),
            phone: "(+1)512-555-0100".into(),
        },
        note: Some("please gift wrap".into()),
        tags: vec![STORE_ORDER_TAG.into()],
        inventory: InventoryBehaviour::Bypass,
        amazon: Default::default(),
    }
}

fn config() -> AmazonMcfConfig {
    AmazonMcfConfig::new(
        "us-amazon",
        "https://sellingpartnerapi-na.amazon.com",
        "https://api.amazon.com",
        "amzn1.application-oa2-client.x",
        "secret",
        "Atzr|r",
        "ATVPDKIKX0DER",
    )
}

fn at() -> Timestamp {
    DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn the_create_body_is_valid_against_amazons_contract_and_counts_units_per_sku() {
    let request = create_request(
        &draft(vec![line("CRO-00", 1), line("HAT-1", 1), line("CRO-00", 1)]),
        &config(),
        at(),
    )
    .unwrap();
    let body = &request.body;
    check("CreateFulfillmentOrderRequest", body).unwrap();
    assert_eq!(body["sellerFulfillmentOrderId"], "576461413038785752");
    assert_eq!(body["displayableOrderId"], "576461413038785752");
    assert_eq!(body["displayableOrderDate"], "2026-11-21T10:00:00Z");
    assert_eq!(body["displayableOrderComment"], ORDER_COMMENT);
    assert_eq!(body["shippingSpeedCategory"], "Standard");
    assert_eq!(body["fulfillmentPolicy"], "FillOrKill");
    assert_eq!(body["marketplaceId"], "ATVPDKIKX0DER");
    assert_eq!(
        body["items"],
        json!([
            {"sellerSku": "CRO-00", "sellerFulfillmentOrderItemId": "1", "quantity": 2},
            {"sellerSku": "HAT-1", "sellerFulfillmentOrderItemId": "2", "quantity": 1},
        ])
    );
    assert_eq!(
        body["destinationAddress"],
        json!({
            "name": "Amara Okafor", "addressLine1": "1 Main St", "addressLine2": "Apt 2",
            "city": "Austin", "stateOrRegion": "TX", "postalCode": "78701",
            "countryCode": "US", "phone": "(+1)512-555-0100",
        })
    );
    // Nothing the contract does not name, and no e-mail, price or note.
    for absent in [
        "notificationEmails",
        "paymentInformation",
        "codSettings",
        "featureConstraints",
    ] {
        assert!(body.get(absent).is_none(), "{absent}");
    }
    assert_eq!(request.item_skus["2"], "HAT-1");
}

#[test]
fn the_links_speed_policy_and_amazon_logistics_block_reach_the_create_body() {
    use crate::domain::settings::{AmazonOrderOptions, FulfillmentPolicy, ShippingSpeed};
    let mut draft = draft(vec![line("CRO-00", 1)]);
    draft.amazon = AmazonOrderOptions {
        shipping_speed: ShippingSpeed::Expedited,
        fulfillment_policy: FulfillmentPolicy::FillAllAvailable,
        block_amazon_logistics: true,
    };
    let body = create_request(&draft, &config(), at()).unwrap().body;
    check("CreateFulfillmentOrderRequest", &body).unwrap();
    assert_eq!(body["shippingSpeedCategory"], "Expedited");
    assert_eq!(body["fulfillmentPolicy"], "FillAllAvailable");
    assert_eq!(
        body["featureConstraints"],
        json!([{"featureName": "BLOCK_AMZL", "featureFulfillmentPolicy": "Required"}])
    );
}

#[test]
fn the_contract_check_refuses_what_amazon_refuses() {
    // The test's own validator must be able to fail: a body without items is invalid.
    let mut body = create_request(&draft(vec![line("A", 1)]), &config(), at())
        .unwrap()
        .body;
    body.as_object_mut().unwrap().remove("items");
    assert!(check("CreateFulfillmentOrderRequest", &body).is_err());
    body["items"] = json!([{"sellerSku": "A", "quantity": 1}]);
    assert!(check("CreateFulfillmentOrderRequest", &body).is_err());
}

#[test]
fn drafts_amazon_cannot_take_are_refused_with_why() {
    let mut no_city = draft(vec![line("A", 1)]);
    no_city.address.city.clear();
    let why = create_request(&no_city, &config(), at()).unwrap_err();
    assert!(why.contains("city"), "{why}");
    let long = "S".repeat(51);
    let why = create_request(&draft(vec![line(&long, 1)]), &config(), at()).unwrap_err();
    assert!(why.contains("50 characters"), "{why}");
    let why = create_request(&draft(vec![line("A", 251)]), &config(), at()).unwrap_err();
    assert!(why.contains("250 units"), "{why}");
}

#[test]
fn an_unknown_sku_is_named_from_the_item_id_amazon_gives() {
    let skus: HashMap<String, String> = [
        ("1".to_string(), "CRO-00".to_string()),
        ("2".into(), "HAT-1".into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        refused_sku("the SellerSKU for Item Id: 2 is invalid.", &skus).as_deref(),
        Some("HAT-1")
    );
    assert_eq!(refused_sku("Invalid postal code", &skus), None);
    assert_eq!(
        refused_sku("the SellerSKU for Item Id: 9 is invalid.", &skus),
        None
    );
}

fn payload(status: &str, shipments: Value) -> Value {
    json!({
        "fulfillmentOrder": {
            "sellerFulfillmentOrderId": "576461413038785752",
            "marketplaceId": "ATVPDKIKX0DER",
            "displayableOrderId": "576461413038785752",
            "displayableOrderDate": "2026-11-21T10:00:00Z",
            "displayableOrderComment": ORDER_COMMENT,
            "shippingSpeedCategory": "Standard",
            "destinationAddress": {"name": "A", "addressLine1": "1", "postalCode": "7", "countryCode": "US"},
            "receivedDate": "2026-11-21T10:01:00Z",
            "fulfillmentOrderStatus": status,
            "statusUpdatedDate": "2026-11-22T08:00:00Z",
        },
        "fulfillmentOrderItems": [
            {"sellerSku": "CRO-00", "sellerFulfillmentOrderItemId": "1", "quantity": 3, "cancelledQuantity": 1, "unfulfillableQuantity": 0},
            {"sellerSku": "HAT-1", "sellerFulfillmentOrderItemId": "2", "quantity": 1, "cancelledQuantity": 0, "unfulfillableQuantity": 0},
        ],
        "fulfillmentShipments": shipments,
        "returnItems": [],
        "returnAuthorizations": [],
    })
}

#[test]
fn a_split_shipment_gives_one_fulfillment_per_package_with_its_exact_units() {
    let shipments = json!([
        {
            "amazonShipmentId": "DKMKLXt", "fulfillmentCenterId": "PHX3",
            "fulfillmentShipmentStatus": "SHIPPED", "shippingDate": "2026-11-22T07:00:00Z",
            "fulfillmentShipmentItem": [
                {"sellerSku": "CRO-00", "sellerFulfillmentOrderItemId": "1", "quantity": 2, "packageNumber": 1},
                {"sellerSku": "HAT-1", "sellerFulfillmentOrderItemId": "2", "quantity": 1, "packageNumber": 2},
            ],
            "fulfillmentShipmentPackage": [
                {"packageNumber": 1, "carrierCode": "UPS", "trackingNumber": "1Z999"},
                {"packageNumber": 2, "carrierCode": "USPS", "trackingNumber": "9400\u{1b}[2J1"},
            ],
        },
        {
            "amazonShipmentId": "Xpending", "fulfillmentCenterId": "PHX3",
            "fulfillmentShipmentStatus": "PENDING",
            "fulfillmentShipmentItem": [],
        },
    ]);
    let read = read_order(&payload("Complete", shipments.clone())).unwrap();
    assert!(check("GetFulfillmentOrderResult", &payload("Complete", shipments)).is_ok());
    assert_eq!(read.store.status, StorefrontOrderStatus::Closed);
    assert_eq!(read.wire_status, "Complete");
    assert_eq!(read.comment, ORDER_COMMENT);
    assert_eq!(read.store.order_id.as_str(), "576461413038785752");
    let got: Vec<(String, Option<String>, Vec<Units>)> = read
        .store
        .fulfillments
        .iter()
        .map(|f| {
            (
                f.tracking[0].number.clone(),
                f.tracking[0].carrier.clone(),
                f.lines.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "1Z999".into(),
                Some("UPS".into()),
                vec![Units {
                    sku: "CRO-00".into(),
                    quantity: 2
                }]
            ),
            (
                // As Amazon wrote it: the tracking rule refuses it, nothing repairs it.
                "9400\u{1b}[2J1".into(),
                Some("USPS".into()),
                vec![Units {
                    sku: "HAT-1".into(),
                    quantity: 1
                }]
            ),
        ]
    );
    // Lines count what is still on the order: a cancelled unit is not.
    assert_eq!(read.store.units_now(), Some(3));
}

#[test]
fn statuses_say_open_cancelled_or_closed_and_when_a_cancel_is_possible() {
    for (status, expected, cancellable) in [
        ("New", StorefrontOrderStatus::Open, false),
        ("Received", StorefrontOrderStatus::Open, true),
        ("Planning", StorefrontOrderStatus::Open, true),
        ("Processing", StorefrontOrderStatus::Open, false),
        ("Unfulfillable", StorefrontOrderStatus::Open, false),
        ("CompletePartialled", StorefrontOrderStatus::Closed, false),
        ("Cancelled", StorefrontOrderStatus::Cancelled, false),
    ] {
        let read = read_order(&payload(status, json!([]))).unwrap();
        assert_eq!(read.store.status, expected, "{status}");
        assert_eq!(read.cancellable(), cancellable, "{status}");
        assert_eq!(
            read.store.cancelled_at.is_some(),
            status == "Cancelled",
            "{status}"
        );
        assert!(read.store.fulfillments.is_empty());
    }
    let mut broken = payload("Received", json!([]));
    broken["fulfillmentOrder"]
        .as_object_mut()
        .unwrap()
        .remove("fulfillmentOrderStatus");
    assert!(
        read_order(&broken)
            .unwrap_err()
            .contains("fulfillmentOrderStatus")
    );
}
