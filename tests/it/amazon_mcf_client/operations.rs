//! Every Storefront operation of the Amazon MCF client against the simulated Amazon.

use orderdeck::domain::ids::StorefrontOrderId;
use orderdeck::domain::order::StorefrontOrderStatus;
use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::domain::store_order::Units;
use orderdeck::platforms::{ErrorClass, Storefront};

use super::support::*;

fn instruction() -> StorefrontCancelInstruction {
    StorefrontCancelInstruction {
        restock: true,
        note: "Buyer changed their mind".into(),
    }
}

#[tokio::test]
async fn an_order_is_created_once_keyed_by_the_tiktok_id_and_found_by_it() {
    let h = harness().await;
    let client = h.client();
    let made = client
        .create_order(&draft("576400000000000001", &[(SKU_A, 2), (SKU_B, 1)]))
        .await
        .unwrap();
    assert_eq!(made.order_id.as_str(), "576400000000000001");
    assert_eq!(made.status, StorefrontOrderStatus::Open);
    assert_eq!(
        made.current_units(),
        vec![
            Units {
                sku: SKU_A.into(),
                quantity: 2
            },
            Units {
                sku: SKU_B.into(),
                quantity: 1
            },
        ]
    );
    let stored = h.sandbox.order("576400000000000001").unwrap();
    assert_eq!(stored.request["destinationAddress"]["city"], "Austin");
    assert_eq!(stored.request["displayableOrderId"], "576400000000000001");
    let found = client
        .find_order(&tiktok("576400000000000001"))
        .await
        .unwrap();
    // What the create answered is the order Amazon shows (but for Amazon's own timestamps).
    let found = found.expect("found by the TikTok id");
    assert_eq!(
        (&found.order_id, &found.name, found.status, &found.lines),
        (&made.order_id, &made.name, made.status, &made.lines)
    );
    assert_eq!(
        client
            .find_order(&tiktok("576400000000000999"))
            .await
            .unwrap(),
        None
    );
    // A second create of the same TikTok order is refused by Amazon and answers the first.
    let again = client
        .create_order(&draft("576400000000000001", &[(SKU_A, 2), (SKU_B, 1)]))
        .await
        .unwrap();
    assert_eq!(again.order_id, made.order_id);
    assert_eq!(h.sandbox.orders().len(), 1);
    // One token for all of it.
    assert_eq!(h.sandbox.tokens_issued(), 1);
    h.assert_all_valid();
}

#[tokio::test]
async fn an_unknown_sku_is_refused_naming_the_sku_not_the_item_index() {
    let h = harness().await;
    let err = h
        .client()
        .create_order(&draft("576400000000000002", &[(SKU_A, 1), ("NOPE-9", 1)]))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message
            .contains("SKU NOPE-9 is not in Amazon's fulfillment inventory"),
        "{}",
        err.message
    );
    assert_eq!(err.code.as_deref(), Some("InvalidInput"));
    assert!(err.request_id.is_some());
    assert!(h.sandbox.orders().is_empty());
    h.assert_all_valid();
}

#[tokio::test]
async fn a_split_shipment_gives_one_fulfillment_per_package_with_tracking() {
    let h = harness().await;
    let client = h.client();
    let made = client
        .create_order(&draft("576400000000000003", &[(SKU_A, 2), (SKU_B, 1)]))
        .await
        .unwrap();
    h.sandbox
        .set_status("576400000000000003", "Processing")
        .unwrap();
    h.sandbox
        .ship(
            "576400000000000003",
            &[
                ("UPS", "1Z999AA10123456784", &[(SKU_A, 2)]),
                ("USPS", "9400111899223197428490", &[(SKU_B, 1)]),
            ],
        )
        .unwrap();
    let read = client.get_order(&made.order_id).await.unwrap();
    assert_eq!(read.status, StorefrontOrderStatus::Closed);
    let parcels: Vec<(String, Option<String>, Vec<Units>)> = read
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
        parcels,
        vec![
            (
                "1Z999AA10123456784".into(),
                Some("UPS".into()),
                vec![Units {
                    sku: SKU_A.into(),
                    quantity: 2
                }]
            ),
            (
                "9400111899223197428490".into(),
                Some("USPS".into()),
                vec![Units {
                    sku: SKU_B.into(),
                    quantity: 1
                }]
            ),
        ]
    );
    h.assert_all_valid();
}

#[tokio::test]
async fn a_cancel_works_while_amazon_can_and_is_refused_with_why_after() {
    let h = harness().await;
    let client = h.client();
    let early = client
        .create_order(&draft("576400000000000004", &[(SKU_A, 1)]))
        .await
        .unwrap();
    h.sandbox
        .set_status("576400000000000004", "Planning")
        .unwrap();
    let done = client
        .cancel_order(&early.order_id, &instruction())
        .await
        .unwrap();
    assert_eq!(done.store.status, StorefrontOrderStatus::Cancelled);
    assert!(done.put_back.is_empty() && done.shipped.is_empty());
    assert!(
        h.sandbox
            .order("576400000000000004")
            .unwrap()
            .cancelled_by_api
    );
    // Cancelling again succeeds without calling Amazon.
    let calls = h.sandbox.calls("cancelFulfillmentOrder");
    client
        .cancel_order(&early.order_id, &instruction())
        .await
        .unwrap();
    assert_eq!(h.sandbox.calls("cancelFulfillmentOrder"), calls);

    let late = client
        .create_order(&draft("576400000000000005", &[(SKU_A, 1)]))
        .await
        .unwrap();
    h.sandbox
        .set_status("576400000000000005", "Processing")
        .unwrap();
    h.sandbox
        .ship("576400000000000005", &[("UPS", "1ZLATE", &[(SKU_A, 1)])])
        .unwrap();
    let err = client
        .cancel_order(&late.order_id, &instruction())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message
            .contains("Amazon is already fulfilling it: intercept the parcel"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("Complete") && err.message.contains("UPS 1ZLATE"),
        "{}",
        err.message
    );
    // Processing is never asked: Amazon would refuse.
    assert_eq!(h.sandbox.calls("cancelFulfillmentOrder"), calls);
    h.assert_all_valid();
}

#[tokio::test]
async fn changes_are_paged_with_next_token_and_other_channels_orders_left_out() {
    let h = harness().await;
    let client = h.client();
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    for n in 1..=5 {
        client
            .create_order(&draft(&format!("57640000000000010{n}"), &[(SKU_A, 1)]))
            .await
            .unwrap();
    }
    h.sandbox
        .cancel_in_seller_central("576400000000000103")
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = client.changed_orders(since, cursor).await.unwrap();
        pages += 1;
        assert!(page.unreadable.is_empty());
        seen.extend(
            page.items
                .into_iter()
                .map(|c| (c.tiktok_order_id.unwrap().to_string(), c.store.status)),
        );
        cursor = page.next_page_token;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3, "6 listed, page size 2");
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(seen.len(), 5);
    assert_eq!(
        seen[2],
        (
            "576400000000000103".into(),
            StorefrontOrderStatus::Cancelled
        )
    );
    h.assert_all_valid();
}

#[tokio::test]
async fn an_address_change_is_refused_with_why() {
    let h = harness().await;
    let id = StorefrontOrderId::new("576400000000000006").unwrap();
    let to = orderdeck::domain::rules::address::ShipTo {
        address: draft("576400000000000006", &[]).address,
        note: None,
    };
    let err = h.client().update_ship_to(&id, &to, None).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("Seller Central"), "{}", err.message);
}
