//! Every `Storefront` operation of the BigCommerce client against the simulated store: SKU
//! lookup through the catalog, create with catalog lines, find by `external_order_id`,
//! shipments as parcels, cancel, the change poll, address updates.

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::order::{StorefrontOrderStatus, Units};
use orderdeck::domain::rules::address::ShipTo;
use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::domain::rules::import::SkuMatch;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::error::ErrorClass;

use super::support::*;

fn tiktok(id: &str) -> TiktokOrderId {
    TiktokOrderId::new(id).unwrap()
}

#[tokio::test]
async fn skus_resolve_to_products_and_variants_exactly() {
    let h = harness().await;
    let client = h.client();
    let skus: Vec<String> = [SKU_A, SKU_B, "GHOST-003", "DUP-001", " ", "CRO-0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let found = client.lookup_skus(&skus).await.unwrap();
    let variants = h.sandbox.variants(STORE).unwrap();
    let a = variants.iter().find(|v| v.sku == SKU_A).unwrap();
    let b = variants.iter().find(|v| v.sku == SKU_B).unwrap();
    assert!(a.options.is_empty() && !b.options.is_empty());
    // A simple product is named by its product alone, an option combination by its variant.
    assert_eq!(found[SKU_A], SkuMatch::One(a.product_id.to_string()));
    assert_eq!(
        found[SKU_B],
        SkuMatch::One(format!("{}/{}", b.product_id, b.id))
    );
    assert_eq!(found["GHOST-003"], SkuMatch::None);
    assert_eq!(found["DUP-001"], SkuMatch::Many(2));
    assert_eq!(found[" "], SkuMatch::None);
    assert_eq!(found["CRO-0"], SkuMatch::None, "exact, not a prefix");
    h.assert_no_refusals();
}

#[tokio::test]
async fn an_order_is_created_paid_with_catalog_lines_and_found_by_its_tiktok_id() {
    let h = harness().await;
    let client = h.client();
    let (a, b) = (h.stock(SKU_A), h.stock(SKU_B));
    let draft = h
        .draft(&client, "576400000000000101", &[(SKU_A, 2), (SKU_B, 1)])
        .await;
    let made = client.create_order(&draft).await.unwrap();
    assert_eq!(made.status, StorefrontOrderStatus::Open);
    assert_eq!(made.units_now(), Some(3));
    let order = h.record(made.order_id.as_str());
    assert_eq!(
        order.status_id, 11,
        "Awaiting Fulfillment: TikTok collected the money"
    );
    assert_eq!(order.external_order_id, "576400000000000101");
    assert_eq!(order.customer_id, 0);
    assert_eq!(order.customer_message, "Please ship asap!");
    let lines: Vec<(&str, u64, &str)> = order
        .lines
        .iter()
        .map(|l| (l.sku.as_str(), l.quantity, l.price_inc_tax.as_str()))
        .collect();
    assert_eq!(lines, vec![(SKU_A, 2, "12.5000"), (SKU_B, 1, "12.5000")]);
    assert_eq!(order.addresses[0].1["street_1"], "100 Market St");
    assert_eq!(order.addresses[0].1["state"], "California");
    assert_eq!(order.billing["zip"], "95113");
    assert_eq!(
        (h.stock(SKU_A), h.stock(SKU_B)),
        (a - 2, b - 1),
        "catalog stock moved"
    );

    let found = client
        .find_order(&tiktok("576400000000000101"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.order_id, made.order_id);
    assert_eq!(
        found.current_units(),
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
    assert_eq!(
        client
            .find_order(&tiktok("576400000000000199"))
            .await
            .unwrap(),
        None
    );
    h.assert_no_refusals();
}

#[tokio::test]
async fn two_orders_for_one_tiktok_order_are_never_resolved_by_picking_one() {
    let h = harness().await;
    let client = h.client();
    let first = h
        .created(&client, "576400000000000102", &[(SKU_A, 1)])
        .await;
    let second = h
        .created(&client, "576400000000000102", &[(SKU_A, 1)])
        .await;
    let e = client
        .find_order(&tiktok("576400000000000102"))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains(&format!("#{}", first.id)), "{e}");
    assert!(e.message.contains(&format!("#{}", second.id)), "{e}");
}

#[tokio::test]
async fn each_shipment_is_a_parcel_with_its_units_and_carrier() {
    let h = harness().await;
    let client = h.client();
    let order = h
        .created(&client, "576400000000000103", &[(SKU_A, 2), (SKU_B, 1)])
        .await;
    h.ship(order.id, &[(SKU_A, 2)], "1Z999", "upsready", "");
    let store = client.get_order(&store_id(order.id)).await.unwrap();
    assert_eq!(
        h.record(&order.id.to_string()).status_id,
        3,
        "Partially Shipped"
    );
    assert_eq!(store.fulfillments.len(), 1);
    let first = &store.fulfillments[0];
    assert_eq!(
        first.lines,
        vec![Units {
            sku: SKU_A.into(),
            quantity: 2
        }]
    );
    assert_eq!(first.tracking[0].number, "1Z999");
    assert_eq!(first.tracking[0].carrier.as_deref(), Some("upsready"));

    // A shipping app sets tracking_carrier, which wins over the provider.
    h.ship(order.id, &[], "7489", "fedex", "dhl");
    let store = client.get_order(&store_id(order.id)).await.unwrap();
    assert_eq!(h.record(&order.id.to_string()).status_id, 2, "Shipped");
    let second = &store.fulfillments[1];
    assert_eq!(
        second.lines,
        vec![Units {
            sku: SKU_B.into(),
            quantity: 1
        }]
    );
    assert_eq!(second.tracking[0].carrier.as_deref(), Some("dhl"));
    h.assert_no_refusals();
}

#[tokio::test]
async fn a_cancel_is_status_5_with_the_reason_added_to_the_staff_notes_once() {
    let h = harness().await;
    let client = h.client();
    let order = h
        .created(&client, "576400000000000104", &[(SKU_A, 2)])
        .await;
    let stock = h.stock(SKU_A);
    let instruction = StorefrontCancelInstruction {
        restock: true,
        note: "Cancelled on TikTok (buyer): No longer needed".into(),
    };
    let done = client
        .cancel_order(&store_id(order.id), &instruction)
        .await
        .unwrap();
    assert_eq!(done.store.status, StorefrontOrderStatus::Cancelled);
    let record = h.record(&order.id.to_string());
    assert_eq!(record.status_id, 5);
    assert_eq!(
        record.staff_notes,
        "TikTok Shop order 576400000000000104\nCancelled on TikTok (buyer): No longer needed",
        "the old notes are kept: a PUT replaces them"
    );
    assert_eq!(h.stock(SKU_A), stock + 2, "the store's setting restocks");
    // Cancelling again writes nothing.
    client
        .cancel_order(&store_id(order.id), &instruction)
        .await
        .unwrap();
    assert_eq!(h.sandbox.calls(STORE, "orders.update").unwrap(), 1);

    // With the store's inventory setting off, nothing comes back, whatever the link says.
    h.sandbox.set_restock_setting(STORE, false).unwrap();
    let other = h
        .created(&client, "576400000000000105", &[(SKU_A, 1)])
        .await;
    let stock = h.stock(SKU_A);
    client
        .cancel_order(&store_id(other.id), &instruction)
        .await
        .unwrap();
    assert_eq!(h.stock(SKU_A), stock);
    h.assert_no_refusals();
}

#[tokio::test]
async fn a_shipped_order_is_not_cancelled_and_the_refusal_names_the_parcel() {
    let h = harness().await;
    let client = h.client();
    let order = h
        .created(&client, "576400000000000106", &[(SKU_A, 2)])
        .await;
    h.ship(order.id, &[(SKU_A, 1)], "9400111", "usps", "");
    let instruction = StorefrontCancelInstruction {
        restock: true,
        note: "Cancelled on TikTok".into(),
    };
    let e = client
        .cancel_order(&store_id(order.id), &instruction)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("Partially Shipped"), "{e}");
    assert!(e.message.contains("usps 9400111"), "{e}");
    assert_eq!(h.record(&order.id.to_string()).status_id, 3);
    assert_eq!(h.sandbox.calls(STORE, "orders.update").unwrap(), 0);
}

#[tokio::test]
async fn the_change_poll_pages_and_rereads_partly_shipped_orders() {
    let h = harness().await;
    let client = h.client_with_page_size(2);
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let mut ids = Vec::new();
    for n in 0..3 {
        let o = h
            .created(
                &client,
                &format!("57640000000000011{n}"),
                &[(SKU_A, 1), (SKU_B, 1)],
            )
            .await;
        ids.push(o.id);
    }
    h.ship(ids[0], &[(SKU_A, 1)], "1Z1", "ups", "");
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = client.changed_orders(since, cursor.clone()).await.unwrap();
        pages += 1;
        assert!(page.unreadable.is_empty(), "{:?}", page.unreadable);
        seen.extend(page.items);
        cursor = page.next_page_token;
        if cursor.is_none() {
            break;
        }
    }
    assert!(pages >= 3, "{pages} pages");
    let first: Vec<_> = seen
        .iter()
        .filter(|c| c.store.order_id.as_str() == ids[0].to_string())
        .collect();
    assert_eq!(first.len(), 2, "once modified, once as Partially Shipped");
    assert_eq!(
        first[0].store.fulfillments[0].lines,
        vec![Units {
            sku: SKU_A.into(),
            quantity: 1
        }]
    );
    assert_eq!(
        first[0].tiktok_order_id.as_ref().map(|t| t.as_str()),
        Some("576400000000000110")
    );
    let unshipped = seen
        .iter()
        .find(|c| c.store.order_id.as_str() == ids[1].to_string())
        .unwrap();
    assert_eq!(
        unshipped.store.units_now(),
        Some(2),
        "a cheap read still counts units"
    );
    assert!(unshipped.store.fulfillments.is_empty());
    // Nothing changed since now.
    let later = chrono::Utc::now() + chrono::Duration::seconds(2);
    let page = client.changed_orders(later, None).await.unwrap();
    assert!(page.items.is_empty());
    h.assert_no_refusals();
}

#[tokio::test]
async fn a_new_shipping_address_replaces_the_old_one() {
    let h = harness().await;
    let client = h.client();
    let order = h
        .created(&client, "576400000000000107", &[(SKU_A, 1)])
        .await;
    let mut draft = h.draft(&client, "576400000000000107", &[(SKU_A, 1)]).await;
    draft.address.address1 = "5 New Road".into();
    draft.address.address2 = String::new();
    let to = ShipTo {
        address: draft.address.clone(),
        note: Some("Ring twice".into()),
    };
    client
        .update_ship_to(&store_id(order.id), &to, Some("Ring twice"))
        .await
        .unwrap();
    let record = h.record(&order.id.to_string());
    assert_eq!(record.addresses[0].1["street_1"], "5 New Road");
    assert_eq!(
        record.addresses[0].1["street_2"], "",
        "a line the buyer removed goes"
    );
    assert_eq!(record.customer_message, "Ring twice");
    h.assert_no_refusals();
}

#[tokio::test]
async fn hooks_are_listed_made_and_deleted_and_never_made_without_the_secret_to_verify_them() {
    let h = harness().await;
    let without_secret = h.client();
    let destination = "https://od.example.com/webhooks/bigcommerce/us";
    let refused = without_secret
        .subscribe("store/order/statusUpdated", destination)
        .await
        .unwrap_err();
    assert_eq!(refused.class, ErrorClass::Permanent);
    assert!(refused.message.contains("webhook_secret"), "{refused}");
    assert!(
        h.sandbox.hooks(STORE).unwrap().is_empty(),
        "nothing was sent"
    );

    let mut config = h.config();
    config.webhook_secret = Some(h.spec.client_secret.clone());
    config.page_size = 2; // the list pages
    let client = orderdeck::platforms::bigcommerce::BigcommerceClient::new(&config).unwrap();
    let scopes = [
        "store/order/updated",
        "store/order/statusUpdated",
        "store/shipment/created",
    ];
    for scope in scopes {
        let made = client.subscribe(scope, destination).await.unwrap();
        assert_eq!(
            (made.topic.as_str(), made.address.as_str()),
            (scope, destination)
        );
    }
    let listed = client.webhooks().await.unwrap();
    let topics: Vec<&str> = listed.iter().map(|s| s.topic.as_str()).collect();
    assert_eq!(topics, scopes, "every page");

    // BigCommerce delivers to https on port 443 only.
    let elsewhere = client
        .subscribe("store/order/updated", "https://od.example.com:8443/hooks")
        .await
        .unwrap_err();
    assert_eq!(elsewhere.class, ErrorClass::Permanent);
    assert!(elsewhere.message.contains("443"), "{elsewhere}");

    client.unsubscribe(&listed[0]).await.unwrap();
    let left = h.sandbox.hooks(STORE).unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|hook| hook.is_active));
    let gone = client.unsubscribe(&listed[0]).await.unwrap_err();
    assert!(gone.message.contains("not found"), "{gone}");
    h.assert_no_refusals();
}
