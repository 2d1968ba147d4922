//! Every Storefront operation against the simulated store, checking both what the client
//! answers and what the store recorded.

use std::collections::HashSet;

use orderdeck::domain::ids::{StorefrontOrderId, TiktokOrderId};
use orderdeck::domain::order::StorefrontOrderStatus;
use orderdeck::domain::rules::cancel::{StorefrontCancelInstruction, Units};
use orderdeck::domain::rules::import::SkuMatch;
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::shopify::ShopifyClient;
use orderdeck::platforms::{ErrorClass, Storefront};
use orderdeck::sandbox::shopify::{RefundArgument, SandboxOptions, SandboxTracking};

use crate::shopify_client::support::{Harness, STORE, harness, harness_with};

#[tokio::test]
async fn skus_resolve_to_one_none_or_many() {
    let h = harness().await;
    let client = h.client();
    let skus: Vec<String> = [
        "CRO-00",
        "GHOST-007",
        "DUP-001",
        "  ",
        r#"A"B\C OR sku:CRO-00"#,
        "LIN-12",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let found = client.lookup_skus(&skus).await.unwrap();
    assert_eq!(found["CRO-00"], SkuMatch::One(h.variant_id("CRO-00")));
    assert_eq!(found["LIN-12"], SkuMatch::One(h.variant_id("LIN-12")));
    assert_eq!(found["GHOST-007"], SkuMatch::None);
    assert_eq!(found["DUP-001"], SkuMatch::Many(2));
    assert_eq!(found["  "], SkuMatch::None);
    // Quotes, backslashes and search operators in a SKU are searched for literally.
    assert_eq!(found[r#"A"B\C OR sku:CRO-00"#], SkuMatch::None);
    // Five SKUs to look up, one batched request.
    assert_eq!(h.sandbox.calls(STORE, "productVariants").unwrap(), 1);
}

#[tokio::test]
async fn orders_are_created_paid_tagged_and_findable() {
    let h = harness().await;
    let client = h.client();
    let stock_before = h.sandbox.inventory(STORE, "CRO-00").unwrap()[0];
    let created = client
        .create_order(&h.draft("576400000000000001", "CRO-00", 2))
        .await
        .unwrap();
    assert_eq!(created.status, StorefrontOrderStatus::Open);
    assert_eq!(created.name.as_deref(), Some("#1001"));
    assert!(created.fulfillments.is_empty());

    let held = h
        .sandbox
        .order(STORE, created.order_id.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(
        held.source_identifier.as_deref(),
        Some("576400000000000001")
    );
    assert_eq!(held.financial_status, "PAID");
    assert_eq!(held.tags, vec!["TikTok Shop", "tiktok-gb-shop1"]);
    assert_eq!(held.inventory_behaviour, "DECREMENT_OBEYING_POLICY");
    assert!(!held.send_receipt && !held.send_fulfillment_receipt);
    assert_eq!(held.lines[0].variant_id, h.variant_id("CRO-00"));
    assert_eq!(
        (held.lines[0].quantity, held.lines[0].price.as_str()),
        (2, "19.99")
    );
    assert_eq!(held.shipping_address["countryCode"], "GB");
    assert_eq!(held.note.as_deref(), Some("Please ship asap!"));
    assert_eq!(
        h.sandbox.inventory(STORE, "CRO-00").unwrap()[0],
        stock_before - 2
    );

    let id = TiktokOrderId::new("576400000000000001").unwrap();
    let found = client.find_order(&id).await.unwrap().expect("found");
    assert_eq!(found.order_id, created.order_id);
    let absent = TiktokOrderId::new("576400000000000999").unwrap();
    assert_eq!(client.find_order(&absent).await.unwrap(), None);
}

#[tokio::test]
async fn store_refusals_are_permanent_with_shopify_words() {
    let h = harness().await;
    let client = h.client();
    let mut draft = h.draft("576400000000000002", "CRO-00", 1);
    draft.lines[0].store_item_id = Some("gid://shopify/ProductVariant/1".into());
    let err = client.create_order(&draft).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.code.as_deref(), Some("INVALID"));
    assert!(
        err.message
            .contains("order.lineItems.0.variantId: Variant not found"),
        "{}",
        err.message
    );
    assert!(err.request_id.is_some());

    let missing = StorefrontOrderId::new("gid://shopify/Order/42").unwrap();
    let err = client.get_order(&missing).await.unwrap_err();
    assert_eq!(
        (err.class, err.code.as_deref()),
        (ErrorClass::Permanent, Some("NOT_FOUND"))
    );
}

#[tokio::test]
async fn fulfilments_come_back_with_tracking() {
    let h = harness().await;
    let client = h.client();
    let id = h.create(&client, "576400000000000003").await;
    h.sandbox
        .fulfil(
            STORE,
            &id,
            SandboxTracking {
                company: Some("Royal Mail".into()),
                number: Some("JX0123456789GB".into()),
                url: Some("https://www.royalmail.com/track?id=JX0123456789GB".into()),
            },
        )
        .unwrap();
    let store = client
        .get_order(&StorefrontOrderId::new(id).unwrap())
        .await
        .unwrap();
    let tracking = store.first_tracking().expect("tracking");
    assert_eq!(tracking.number, "JX0123456789GB");
    assert_eq!(tracking.carrier.as_deref(), Some("Royal Mail"));
    assert_eq!(store.fulfillments[0].status, "SUCCESS");
}

fn instruction(restock: bool) -> StorefrontCancelInstruction {
    StorefrontCancelInstruction {
        restock,
        note: "Cancelled on TikTok (buyer): Found a better price [ecom_order_to_ship_canceled_reason_better_price]".into(),
    }
}

#[tokio::test]
async fn cancels_send_other_the_note_restock_and_never_a_refund_in_every_version() {
    for (version, expected) in [
        (
            "2025-10",
            RefundArgument::RefundMethod {
                original_payment_methods_refund: Some(false),
                store_credit: false,
            },
        ),
        (
            "2025-07",
            RefundArgument::RefundMethod {
                original_payment_methods_refund: Some(false),
                store_credit: false,
            },
        ),
        ("2025-04", RefundArgument::Refund(false)),
        ("2024-10", RefundArgument::Refund(false)),
    ] {
        let h = harness().await;
        let client = h.client_for(version);
        let id = h.create(&client, "576400000000000004").await;
        let stock = h.sandbox.inventory(STORE, "CRO-00").unwrap()[0];
        let cancelled = client
            .cancel_order(
                &StorefrontOrderId::new(id.clone()).unwrap(),
                &instruction(true),
            )
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(
            cancelled.store.status,
            StorefrontOrderStatus::Cancelled,
            "{version}"
        );
        assert!(cancelled.store.cancelled_at.is_some());

        let held = h.sandbox.order(STORE, &id).unwrap().unwrap();
        let request = &held.cancel_requests[0];
        assert_eq!(request.api_version, version);
        assert_eq!(request.reason, "OTHER");
        assert!(request.restock && !request.notify_customer);
        assert_eq!(
            request.staff_note.as_deref(),
            Some(instruction(true).note.as_str())
        );
        assert_eq!(request.refund, expected, "{version}");
        assert!(
            held.refunds.is_empty(),
            "{version}: the store refunded {:?}",
            held.refunds
        );
        assert!(held.restocked);
        assert_eq!(h.sandbox.inventory(STORE, "CRO-00").unwrap()[0], stock + 1);
    }
}

#[tokio::test]
async fn cancelling_twice_succeeds() {
    let h = harness().await;
    let client = h.client();
    let id = StorefrontOrderId::new(h.create(&client, "576400000000000005").await).unwrap();
    client.cancel_order(&id, &instruction(false)).await.unwrap();
    let again = client.cancel_order(&id, &instruction(false)).await.unwrap();
    assert_eq!(again.store.status, StorefrontOrderStatus::Cancelled);
    let held = h.sandbox.order(STORE, id.as_str()).unwrap().unwrap();
    assert_eq!(
        held.cancel_requests.len(),
        1,
        "the second cancel changed nothing"
    );
    assert!(!held.restocked);
}

pub(super) fn tracking(number: &str) -> SandboxTracking {
    SandboxTracking {
        company: Some("UPS".into()),
        number: Some(number.into()),
        url: None,
    }
}

/// An order of 2 × CRO-00 and 1 × CRO-01; answers its id.
pub(super) async fn two_lines(
    h: &Harness,
    client: &ShopifyClient,
    tiktok_id: &str,
) -> StorefrontOrderId {
    let mut draft = h.draft(tiktok_id, "CRO-00", 2);
    draft.lines.extend(h.draft(tiktok_id, "CRO-01", 1).lines);
    let store = client.create_order(&draft).await.unwrap();
    store.order_id
}

fn units(list: &[Units]) -> Vec<(&str, u32)> {
    list.iter().map(|u| (u.sku.as_str(), u.quantity)).collect()
}

#[tokio::test]
async fn a_partly_shipped_order_puts_back_only_its_unshipped_units() {
    let h = harness().await;
    let client = h.client();
    let id = two_lines(&h, &client, "576400000000000006").await;
    h.sandbox
        .fulfil_units(STORE, id.as_str(), &[("CRO-00", 1)], tracking("1Z999"))
        .unwrap();
    let stock = |sku| h.sandbox.inventory(STORE, sku).unwrap()[0];
    let before = (stock("CRO-00"), stock("CRO-01"));
    let mut asked = instruction(true);
    asked.note = "Cancelled on TikTok (buyer)".into();
    let done = client.cancel_order(&id, &asked).await.unwrap();
    assert_eq!(done.store.status, StorefrontOrderStatus::Cancelled);
    assert_eq!(units(&done.shipped), [("CRO-00", 1)]);
    assert_eq!(units(&done.put_back), [("CRO-00", 1), ("CRO-01", 1)]);
    assert_eq!(
        (stock("CRO-00"), stock("CRO-01")),
        (before.0 + 1, before.1 + 1),
        "the shipped unit stays out of stock"
    );
    let held = h.sandbox.order(STORE, id.as_str()).unwrap().unwrap();
    let edit = &held.edits[0];
    assert!(
        !edit.notify_customer,
        "the buyer is told by TikTok, not the store"
    );
    assert_eq!(
        edit.staff_note.as_deref(),
        Some("Cancelled on TikTok (buyer)")
    );
    assert!(
        !held.cancel_requests[0].restock,
        "the cancel itself restocks nothing"
    );
}

#[tokio::test]
async fn a_shipped_order_is_cancelled_without_restocking_whatever_the_setting() {
    let h = harness().await;
    let client = h.client();
    let id = two_lines(&h, &client, "576400000000000016").await;
    h.sandbox
        .fulfil(STORE, id.as_str(), tracking("1Z998"))
        .unwrap();
    let stock = |sku| h.sandbox.inventory(STORE, sku).unwrap()[0];
    let before = (stock("CRO-00"), stock("CRO-01"));
    let done = client.cancel_order(&id, &instruction(true)).await.unwrap();
    assert_eq!(done.store.status, StorefrontOrderStatus::Cancelled);
    assert_eq!(units(&done.shipped), [("CRO-00", 2), ("CRO-01", 1)]);
    assert!(done.put_back.is_empty());
    assert_eq!((stock("CRO-00"), stock("CRO-01")), before);
    let held = h.sandbox.order(STORE, id.as_str()).unwrap().unwrap();
    assert!(held.edits.is_empty(), "nothing was left to take off");
}

#[tokio::test]
async fn an_order_cancelled_in_the_admin_counts_as_cancelled() {
    let h = harness().await;
    let client = h.client();
    let id = h.create(&client, "576400000000000007").await;
    h.sandbox.cancel_in_admin(STORE, &id, "CUSTOMER").unwrap();
    let store = client
        .cancel_order(&StorefrontOrderId::new(id).unwrap(), &instruction(true))
        .await
        .unwrap();
    assert_eq!(store.store.status, StorefrontOrderStatus::Cancelled);
}

#[tokio::test]
async fn changed_orders_page_through_everything_orderdeck_created() {
    // A roomy bucket: this test is about paging, not pacing.
    let h = harness_with(SandboxOptions {
        bucket: orderdeck::sandbox::shopify::BucketLimits {
            maximum_available: 100_000.0,
            restore_rate: 10_000.0,
        },
        ..SandboxOptions::default()
    })
    .await;
    let client = h.client();
    let since = chrono::Utc::now() - chrono::Duration::seconds(2);
    let created = 230;
    let ids: Vec<String> = (0..created).map(|i| format!("5765{i:014}")).collect();
    for chunk in ids.chunks(10) {
        let creates = chunk.iter().map(|id| {
            let mut draft = h.draft(id, "LIN-12", 1);
            // More orders than the variant has stock.
            draft.inventory = InventoryBehaviour::Bypass;
            let client = client.clone();
            async move { client.create_order(&draft).await }
        });
        for created in futures::future::join_all(creates).await {
            created.expect("created");
        }
    }
    let mut untagged = h.draft("576599999999999999", "CRO-00", 1);
    untagged.tags = vec!["wholesale".into()];
    client.create_order(&untagged).await.unwrap();

    let mut seen = HashSet::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = client.changed_orders(since, cursor.take()).await.unwrap();
        pages += 1;
        assert!(page.unreadable.is_empty());
        for change in page.items {
            let tiktok = change.tiktok_order_id.expect("mapped back to TikTok");
            assert!(seen.insert(tiktok.to_string()), "{tiktok} twice");
        }
        match page.next_page_token {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), created);
    assert!(
        !seen.contains("576599999999999999"),
        "untagged orders are not orderdeck's"
    );
    let later = client
        .changed_orders(chrono::Utc::now() + chrono::Duration::seconds(5), None)
        .await
        .unwrap();
    assert!(later.items.is_empty() && later.next_page_token.is_none());
}

#[tokio::test]
async fn a_revoked_token_asks_for_new_credentials() {
    let h = harness().await;
    let client = h.client();
    h.sandbox.set_token_valid(STORE, false).unwrap();
    let err = client
        .lookup_skus(&["CRO-00".to_string()])
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RefreshCredentials);
    assert_eq!(err.http_status, Some(401));
    assert!(
        err.message.contains("Invalid API key or access token"),
        "{}",
        err.message
    );
    let mut wrong = h.config("2025-10");
    wrong.access_token = "shpat_wrong".into();
    let other = orderdeck::platforms::shopify::ShopifyClient::new(&wrong).unwrap();
    h.sandbox.set_token_valid(STORE, true).unwrap();
    let err = other
        .find_order(&TiktokOrderId::new("1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RefreshCredentials);
}

#[tokio::test]
async fn a_development_store_refuses_a_sixth_create_in_a_minute_for_a_while() {
    let h = harness().await;
    h.sandbox.set_dev_store_create_limit(true);
    let client = h.client();
    for i in 0..5 {
        h.create(&client, &format!("57644000000000000{i}")).await;
    }
    let err = client
        .create_order(&h.draft("576440000000000009", "CRO-00", 1))
        .await
        .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::RetryLater {
            after: Some(std::time::Duration::from_secs(60))
        },
        "{err}"
    );
    assert_eq!(h.sandbox.orders(STORE).unwrap().len(), 5);
}
