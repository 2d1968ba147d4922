//! Every GraphQL document the Shopify client sends, and the variables it builds for them,
//! validated against Shopify's real Admin API schema (2025-10 SDL from a live introspection).
//! A misspelled field, argument, enum value or input key fails here, before any store sees it.

use std::sync::OnceLock;

use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::rules::import::{
    DraftAddress, DraftLine, STORE_ORDER_TAG, StorefrontOrderDraft,
};
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::shopify::{mapping, queries};
use serde_json::{Value, json};

fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let sdl = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/platforms/shopify-admin-2025-10.graphql"
        ))
        .expect("the schema fixture is readable");
        Schema::parse_and_validate(sdl, "shopify-admin-2025-10.graphql")
            .expect("Shopify's schema is valid SDL")
    })
}

fn validate(name: &str, document: &str) -> Result<Valid<ExecutableDocument>, String> {
    ExecutableDocument::parse_and_validate(schema(), document, format!("{name}.graphql"))
        .map_err(|e| e.errors.to_string())
}

/// Validates the document and coerces `variables` against its operation's variable types.
fn check(name: &str, document: &str, variables: Value) {
    let doc = validate(name, document).unwrap_or_else(|e| panic!("{name}: {e}"));
    let operation = doc
        .operations
        .get(None)
        .unwrap_or_else(|_| panic!("{name}: one operation"));
    let map: JsonMap = serde_json::from_value(variables).expect("variables are an object");
    if let Err(e) = coerce_variable_values(schema(), operation, &map) {
        panic!("{name}: variables rejected: {}", e.message());
    }
}

#[test]
fn every_document_validates_against_the_real_schema() {
    let documents = queries::all_documents();
    assert!(documents.len() >= 7);
    for (name, document) in documents {
        if let Err(errors) = validate(&name, &document) {
            panic!("{name} is not valid against Shopify's schema:\n{errors}");
        }
    }
}

fn draft() -> StorefrontOrderDraft {
    StorefrontOrderDraft {
        tiktok_order_id: TiktokOrderId::new("576461413038785752").unwrap(),
        lines: vec![
            DraftLine {
                seller_sku: "CRO-00".into(),
                store_item_id: Some("gid://shopify/ProductVariant/44000000000".into()),
                title: "Crochet jumper — Red, S".into(),
                quantity: 2,
                unit_price: "19.99".into(),
            },
            DraftLine {
                seller_sku: "LIN-12".into(),
                store_item_id: Some("gid://shopify/ProductVariant/44000000012".into()),
                title: "Linen shirt".into(),
                quantity: 1,
                unit_price: "35.00".into(),
            },
        ],
        currency: "GBP".into(),
        address: DraftAddress {
            first_name: "Amara".into(),
            last_name: "Okafor".into(),
            address1: "12 High Street".into(),
            address2: "Flat 3".into(),
            city: "San Jose".into(),
            province: "CA".into(),
            country_code: "US".into(),
            zip: "95131".into(),
            phone: "(+1)408-***-123".into(),
        },
        note: Some("Please ship asap!".into()),
        tags: vec![STORE_ORDER_TAG.into(), "tiktok-us-shop2".into()],
        inventory: InventoryBehaviour::DecrementObeyingPolicy,
        amazon: Default::default(),
    }
}

#[test]
fn the_variables_the_client_builds_fit_the_input_types() {
    let mut uk = draft();
    uk.address.province = "Greater London".into();
    uk.address.country_code = "GB".into();
    for d in [draft(), uk] {
        let variables = mapping::order_create_variables(&d).expect("a complete draft");
        check("orderCreate", queries::ORDER_CREATE, variables);
    }
    let cancel = json!({"orderId": "gid://shopify/Order/1", "restock": true,
        "staffNote": mapping::staff_note("Cancelled on TikTok (buyer): Found a better price")});
    check("orderCancel", queries::ORDER_CANCEL, cancel.clone());
    check(
        "orderCancel legacy",
        queries::ORDER_CANCEL_BEFORE_2025_07,
        cancel,
    );
    check(
        "findOrder",
        queries::FIND_ORDER,
        json!({"query": queries::search_term("source_identifier", "576461413038785752")}),
    );
    check(
        "getOrder",
        queries::GET_ORDER,
        json!({"id": "gid://shopify/Order/1"}),
    );
    check(
        "orderDetail",
        queries::ORDER_DETAIL,
        json!({"id": "gid://shopify/Order/1"}),
    );
    check(
        "changedOrders",
        queries::CHANGED_ORDERS,
        json!({"query": "updated_at:>='2025-11-01T00:00:00Z' tag:\"TikTok Shop\"", "after": null}),
    );
    let order = json!({"id": "gid://shopify/Order/1"});
    check("orderLines", queries::ORDER_LINES, order.clone());
    check("orderEditBegin", queries::ORDER_EDIT_BEGIN, order);
    check(
        "orderEditSetQuantity",
        queries::ORDER_EDIT_SET_QUANTITY,
        json!({"id": "gid://shopify/CalculatedOrder/1", "lineItemId": "gid://shopify/CalculatedLineItem/2", "quantity": 1, "restock": false}),
    );
    check(
        "orderEditCommit",
        queries::ORDER_EDIT_COMMIT,
        json!({"id": "gid://shopify/CalculatedOrder/1", "staffNote": "Cancelled on TikTok (buyer)"}),
    );
    check(
        "lookupSkus",
        &queries::lookup_skus(2),
        json!({"q0": queries::search_term("sku", "CRO-00"), "q1": queries::search_term("sku", "DUP-001")}),
    );
}

#[test]
fn the_check_catches_misspellings() {
    // The validation above is only worth something if it fails on the mistakes it is for.
    let misspelled_field = queries::GET_ORDER.replace("cancelledAt", "canceledAt");
    let error = validate("misspelled", &misspelled_field).unwrap_err();
    assert!(error.contains("canceledAt"), "{error}");
    let misspelled_argument = queries::ORDER_CANCEL.replace("staffNote:", "staffNotes:");
    assert!(validate("argument", &misspelled_argument).is_err());
    let bad_enum = queries::ORDER_CANCEL.replace("reason: OTHER", "reason: TIKTOK");
    assert!(validate("enum", &bad_enum).is_err());

    let doc = validate("orderCreate", queries::ORDER_CREATE).unwrap();
    let operation = doc.operations.get(None).unwrap();
    let mut variables = mapping::order_create_variables(&draft()).unwrap();
    variables["options"]["inventoryBehavior"] = json!("BYPASS"); // American spelling
    let map: JsonMap = serde_json::from_value(variables).unwrap();
    assert!(coerce_variable_values(schema(), operation, &map).is_err());
}

#[test]
fn cost_hints_match_the_published_cost_rules() {
    use orderdeck::sandbox::shopify::cost;
    use queries::cost_hint;
    let sku_batch = queries::lookup_skus(queries::SKU_BATCH);
    let cases: [(&str, &str, f64); 9] = [
        (
            "orderCreate",
            queries::ORDER_CREATE,
            cost_hint::ORDER_CREATE,
        ),
        (
            "orderCancel",
            queries::ORDER_CANCEL,
            cost_hint::ORDER_CANCEL,
        ),
        (
            "orderCancel legacy",
            queries::ORDER_CANCEL_BEFORE_2025_07,
            cost_hint::ORDER_CANCEL,
        ),
        ("getOrder", queries::GET_ORDER, cost_hint::GET_ORDER),
        ("orderLines", queries::ORDER_LINES, cost_hint::ORDER_LINES),
        (
            "orderEditBegin",
            queries::ORDER_EDIT_BEGIN,
            cost_hint::ORDER_EDIT,
        ),
        ("findOrder", queries::FIND_ORDER, cost_hint::FIND_ORDER),
        (
            "changedOrders",
            queries::CHANGED_ORDERS,
            cost_hint::CHANGED_ORDERS,
        ),
        (
            "lookupSkus",
            &sku_batch,
            cost_hint::LOOKUP_SKU * queries::SKU_BATCH as f64,
        ),
    ];
    for (name, document, hint) in cases {
        let doc = validate(name, document).unwrap();
        let operation = doc.operations.get(None).unwrap();
        let computed = cost::requested(schema(), &doc, operation, &JsonMap::new());
        assert_eq!(hint, computed, "{name}: update its cost hint");
    }
}
