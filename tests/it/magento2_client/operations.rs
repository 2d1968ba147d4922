//! Every storefront operation against the simulated Magento: SKU lookup, the paid order and its
//! read-back, cancels (offline credit memo, Magento's cancel, shipped refused), unit removal,
//! shipments with tracks, and the change poll.

use orderdeck::domain::ids::{StorefrontOrderId, TiktokOrderId};
use orderdeck::domain::order::{StorefrontOrderStatus, Units};
use orderdeck::domain::rules::address::ShipTo;
use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::domain::rules::import::SkuMatch;
use orderdeck::platforms::error::ErrorClass;
use orderdeck::platforms::{Storefront, UnitRemoval};
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::magento2::TrackSpec;

use super::support::*;
use crate::store_client::{cancel_notes_before_and_after_the_record, tiktok_cancel_notes};

fn store_id(id: u64) -> StorefrontOrderId {
    StorefrontOrderId::new(id.to_string()).unwrap()
}

fn cancel(restock: bool) -> StorefrontCancelInstruction {
    StorefrontCancelInstruction {
        restock,
        note: "Cancelled on TikTok (buyer): Ordered by mistake".into(),
    }
}

#[tokio::test]
async fn skus_resolve_to_sellable_products_only() {
    let h = harness().await;
    h.sandbox
        .add_product(STORE, "CFG-PARENT", "configurable", 10.0, 0.0)
        .unwrap();
    let client = h.client_with_page_size(2);
    let skus: Vec<String> = h
        .spec
        .products
        .iter()
        .map(|p| p.sku.clone())
        .chain(["CFG-PARENT".into(), "NOPE-1".into()])
        .collect();
    let found = client.lookup_skus(&skus).await.unwrap();
    for p in &h.spec.products {
        let expected = if h.spec.products.iter().filter(|q| q.sku == p.sku).count() > 1 {
            SkuMatch::Many(h.spec.products.iter().filter(|q| q.sku == p.sku).count())
        } else {
            SkuMatch::One(p.variant_id.to_string())
        };
        assert_eq!(found[&p.sku], expected, "{}", p.sku);
    }
    assert_eq!(
        found["CFG-PARENT"],
        SkuMatch::None,
        "a configurable parent never matches"
    );
    assert_eq!(found["NOPE-1"], SkuMatch::None);
    assert!(
        h.sandbox.calls(STORE, "products.list").unwrap() > 1,
        "paged by total_count"
    );
    h.assert_no_refusals();
}

#[tokio::test]
async fn an_order_is_saved_paid_with_the_tiktok_id_and_no_email() {
    let h = harness().await;
    let client = h.client();
    let stock = h.stock(SKU_A);
    let draft = h
        .draft(&client, "576400000000000101", &[(SKU_A, 3), (SKU_B, 1)])
        .await;
    let created = client.create_order(&draft).await.unwrap();
    let id = h.only_order("576400000000000101");
    assert_eq!(created.order_id.as_str(), id.to_string());
    assert_eq!(created.name.as_deref(), Some("#TT576400000000000101"));
    assert_eq!(
        created.current_units(),
        vec![
            Units {
                sku: SKU_A.into(),
                quantity: 3
            },
            Units {
                sku: SKU_B.into(),
                quantity: 1
            }
        ]
    );
    assert_eq!(created.status, StorefrontOrderStatus::Open);
    let order = h.sandbox.order(STORE, id).unwrap().unwrap();
    assert_eq!(order.state, "processing", "invoiced means paid");
    assert!((order.total_invoiced - 50.0).abs() < 1e-9 && (order.grand_total - 50.0).abs() < 1e-9);
    assert_eq!(order.payment_method, "purchaseorder");
    assert_eq!(order.notified, 0, "no e-mail to the buyer");
    assert_eq!(order.shipping_address["region_id"], 12);
    assert_eq!(
        order.shipping_address["street"],
        serde_json::json!(["100 Market St", "Apt 4"])
    );
    assert_eq!(
        order.items[0].product_id,
        draft.lines[0]
            .store_item_id
            .as_deref()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    );
    assert!(order.comments[0].comment.contains("Please ship asap!"));
    assert_eq!(h.stock(SKU_A), stock, "Magento's save reserves no stock");
    let found = client
        .find_order(&draft.tiktok_order_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert_eq!(
        client
            .find_order(&TiktokOrderId::new("576400000000009999").unwrap())
            .await
            .unwrap(),
        None
    );
    h.assert_no_refusals();
}

#[tokio::test]
async fn a_lost_answer_leaves_one_order_and_find_finishes_its_invoice() {
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000102", &[(SKU_A, 1)]).await;
    h.sandbox
        .faults()
        .inject("orders.invoice", FaultKind::ServerError, 1);
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    let id = h.only_order("576400000000000102");
    assert_eq!(h.sandbox.order(STORE, id).unwrap().unwrap().state, "new");
    let found = client
        .find_order(&draft.tiktok_order_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.order_id.as_str(), id.to_string());
    assert_eq!(
        h.sandbox.order(STORE, id).unwrap().unwrap().state,
        "processing"
    );

    let draft = h.draft(&client, "576400000000000103", &[(SKU_B, 2)]).await;
    h.sandbox
        .faults()
        .inject("orders.create", FaultKind::DropAfterWrite, 1);
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    // A careless retry meets the order number's unique key and answers the order made.
    let again = client.create_order(&draft).await.unwrap();
    let id = h.only_order("576400000000000103");
    assert_eq!(again.order_id.as_str(), id.to_string());
    assert_eq!(
        h.sandbox.order(STORE, id).unwrap().unwrap().state,
        "processing"
    );
    h.assert_no_refusals();
}

#[tokio::test]
async fn tiktok_cancels_close_invoiced_orders_with_an_offline_credit_memo() {
    let h = harness().await;
    let client = h.client();
    for (tiktok, restock) in [("576400000000000111", true), ("576400000000000112", false)] {
        let stock = h.stock(SKU_A);
        let draft = h.draft(&client, tiktok, &[(SKU_A, 2)]).await;
        let created = client.create_order(&draft).await.unwrap();
        let done = client
            .cancel_order(&created.order_id, &cancel(restock))
            .await
            .unwrap();
        assert_eq!(
            done.store.status,
            StorefrontOrderStatus::Cancelled,
            "{tiktok}"
        );
        assert!(done.store.cancelled_at.is_some());
        assert!(
            !done.store.refunded,
            "orderdeck's own credit memo is not the merchant's refund"
        );
        let id = h.only_order(tiktok);
        let memos = h.sandbox.credit_memos(STORE, id).unwrap();
        assert_eq!(memos.len(), 1);
        assert!(!memos[0].online, "offline: no money moves");
        let order = h.sandbox.order(STORE, id).unwrap().unwrap();
        assert_eq!(order.state, "closed");
        assert_eq!(order.notified, 0);
        assert!(
            order
                .comments
                .iter()
                .any(|c| c.comment.contains("Ordered by mistake") && c.is_customer_notified == 0)
        );
        let expected = if restock { stock + 2.0 } else { stock };
        assert_eq!(h.stock(SKU_A), expected, "restock {restock}");
        assert_eq!(done.put_back.is_empty(), !restock);
        // Cancelling again changes nothing.
        let again = client
            .cancel_order(&created.order_id, &cancel(restock))
            .await
            .unwrap();
        assert_eq!(again.store.status, StorefrontOrderStatus::Cancelled);
        assert_eq!(h.sandbox.credit_memos(STORE, id).unwrap().len(), 1);
    }
    h.assert_no_refusals();
}

#[tokio::test]
async fn shipped_orders_are_refused_with_why_and_uninvoiced_ones_are_cancelled() {
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000121", &[(SKU_A, 2)]).await;
    let created = client.create_order(&draft).await.unwrap();
    let id = h.only_order("576400000000000121");
    h.sandbox
        .ship(
            STORE,
            id,
            &[(SKU_A, 1)],
            &[TrackSpec::new("ups", "United Parcel Service", "1Z1")],
        )
        .unwrap();
    let e = client
        .cancel_order(&created.order_id, &cancel(true))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("has shipped (1 × CRO-00)"), "{e}");
    assert!(h.sandbox.credit_memos(STORE, id).unwrap().is_empty());

    let draft = h.draft(&client, "576400000000000122", &[(SKU_B, 1)]).await;
    h.sandbox
        .faults()
        .inject("orders.invoice", FaultKind::ServerError, 1);
    client.create_order(&draft).await.unwrap_err();
    let id = h.only_order("576400000000000122");
    let stock = h.stock(SKU_B);
    let done = client
        .cancel_order(&store_id(id), &cancel(false))
        .await
        .unwrap();
    assert_eq!(done.store.status, StorefrontOrderStatus::Cancelled);
    assert_eq!(
        h.sandbox.order(STORE, id).unwrap().unwrap().state,
        "canceled"
    );
    assert_eq!(
        h.stock(SKU_B),
        stock + 1.0,
        "Magento's cancel restocks whatever the link says"
    );
    h.assert_no_refusals();
}

#[tokio::test]
async fn an_order_the_merchant_refunded_in_full_is_already_cancelled() {
    // The link relays the refund to TikTok, whose cancel then comes back to the store.
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000131", &[(SKU_A, 2)]).await;
    let created = client.create_order(&draft).await.unwrap();
    let id = h.only_order("576400000000000131");
    h.sandbox.refund_in_admin(STORE, id, &[]).unwrap();
    assert_eq!(h.sandbox.order(STORE, id).unwrap().unwrap().state, "closed");
    let done = client
        .cancel_order(&created.order_id, &cancel(true))
        .await
        .unwrap();
    assert!(done.put_back.is_empty() && done.shipped.is_empty());
    assert_eq!(
        h.sandbox.credit_memos(STORE, id).unwrap().len(),
        1,
        "no credit memo of orderdeck's beside the merchant's"
    );
    h.assert_no_refusals();
}

#[tokio::test]
async fn units_come_off_with_an_offline_credit_memo_once() {
    let h = harness().await;
    let client = h.client();
    let draft = h
        .draft(&client, "576400000000000131", &[(SKU_A, 3), (SKU_B, 1)])
        .await;
    let created = client.create_order(&draft).await.unwrap();
    let removal = UnitRemoval {
        keep: vec![Units {
            sku: SKU_A.into(),
            quantity: 1,
        }],
        restock: true,
        note: "TikTok cancelled 2 units".into(),
    };
    let after = client
        .remove_units(&created.order_id, &removal)
        .await
        .unwrap();
    assert_eq!(
        after.current_units(),
        vec![
            Units {
                sku: SKU_A.into(),
                quantity: 1
            },
            Units {
                sku: SKU_B.into(),
                quantity: 1
            }
        ]
    );
    assert!(!after.refunded);
    assert_eq!(after.status, StorefrontOrderStatus::Open);
    let again = client
        .remove_units(&created.order_id, &removal)
        .await
        .unwrap();
    assert_eq!(again.current_units(), after.current_units());
    assert_eq!(h.sandbox.calls(STORE, "orders.refund").unwrap(), 1);
    let id = h.only_order("576400000000000131");
    h.sandbox.ship(STORE, id, &[(SKU_B, 1)], &[]).unwrap();
    let e = client
        .remove_units(
            &created.order_id,
            &UnitRemoval {
                keep: vec![Units {
                    sku: SKU_B.into(),
                    quantity: 0,
                }],
                restock: false,
                note: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("SKU LIN-11"), "{e}");
    h.assert_no_refusals();
}

#[tokio::test]
async fn split_shipments_are_fulfillments_with_exact_lines_and_tracks() {
    let h = harness().await;
    let client = h.client();
    let draft = h
        .draft(&client, "576400000000000141", &[(SKU_A, 2), (SKU_B, 1)])
        .await;
    let created = client.create_order(&draft).await.unwrap();
    let id = h.only_order("576400000000000141");
    h.sandbox
        .ship(
            STORE,
            id,
            &[(SKU_A, 2)],
            &[TrackSpec::new("fedex", "Federal Express", "FX1")],
        )
        .unwrap();
    let second = h
        .sandbox
        .ship(
            STORE,
            id,
            &[(SKU_B, 1)],
            &[TrackSpec::new("custom", "Royal Mail Tracked 24", "RM1")],
        )
        .unwrap();
    let read = client.get_order(&created.order_id).await.unwrap();
    assert_eq!(read.fulfillments.len(), 2);
    assert_eq!(
        read.fulfillments[0].lines,
        vec![Units {
            sku: SKU_A.into(),
            quantity: 2
        }]
    );
    assert_eq!(
        read.fulfillments[0].tracking[0].carrier.as_deref(),
        Some("fedex")
    );
    assert_eq!(
        read.fulfillments[1].tracking[0].carrier.as_deref(),
        Some("Royal Mail Tracked 24")
    );
    assert_eq!(
        read.status,
        StorefrontOrderStatus::Closed,
        "complete once all shipped"
    );
    h.sandbox
        .add_track(
            STORE,
            second,
            &TrackSpec::new("usps", "United States Postal Service", "94001"),
        )
        .unwrap();
    let read = client.order_detail(&created.order_id).await.unwrap();
    assert_eq!(read.fulfillments[1].tracking.len(), 2);
    h.assert_no_refusals();
}

#[tokio::test]
async fn the_change_poll_pages_and_sees_tracks_and_refunds() {
    let h = harness().await;
    let client = h.client_with_page_size(2);
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let mut ids = Vec::new();
    for n in 0..5 {
        let tiktok = format!("57640000000000015{n}");
        let draft = h.draft(&client, &tiktok, &[(SKU_A, 1)]).await;
        client.create_order(&draft).await.unwrap();
        ids.push(h.only_order(&tiktok));
    }
    let poll = |since| {
        let client = client.clone();
        async move {
            let (mut seen, mut cursor) = (Vec::new(), None);
            loop {
                let page = client.changed_orders(since, cursor).await.unwrap();
                assert!(page.unreadable.is_empty());
                seen.extend(page.items);
                match page.next_page_token {
                    Some(next) => cursor = Some(next),
                    None => return seen,
                }
            }
        }
    };
    let seen = poll(since).await;
    for id in &ids {
        assert!(
            seen.iter()
                .any(|c| c.store.order_id.as_str() == id.to_string()),
            "{id}"
        );
    }
    assert!(seen.iter().all(|c| c.tiktok_order_id.is_some()));
    // A track added to a shipment later, on an order not otherwise touched, is still seen.
    let shipment = h.sandbox.ship(STORE, ids[0], &[], &[]).unwrap();
    let later = chrono::Utc::now() + chrono::Duration::seconds(30);
    h.sandbox
        .add_track(
            STORE,
            shipment,
            &TrackSpec::new("ups", "United Parcel Service", "1ZLATE"),
        )
        .unwrap();
    let seen = poll(later).await;
    let first = seen
        .iter()
        .find(|c| c.store.order_id.as_str() == ids[0].to_string());
    assert!(first.is_some_and(|c| {
        c.store
            .first_tracking()
            .is_some_and(|t| t.number == "1ZLATE")
    }));
    h.sandbox.refund_in_admin(STORE, ids[1], &[]).unwrap();
    let seen = poll(since).await;
    let refunded = seen
        .iter()
        .find(|c| c.store.order_id.as_str() == ids[1].to_string())
        .unwrap();
    assert!(
        refunded.store.refunded,
        "the merchant's credit memo is the store → TikTok trigger"
    );
    h.assert_no_refusals();
}

#[tokio::test]
async fn the_ship_to_cannot_change_through_the_api() {
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000161", &[(SKU_A, 1)]).await;
    let created = client.create_order(&draft).await.unwrap();
    let to = ShipTo {
        address: draft.address.clone(),
        note: None,
    };
    let e = client
        .update_ship_to(&created.order_id, &to, None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("edit it in the admin"), "{e}");
}

/// The first attempt commented and then failed; before the retry TikTok's record said who
/// cancelled, so the retry's note reads differently. The order still gets one TikTok comment and
/// one credit memo.
#[tokio::test]
async fn a_retried_cancel_whose_note_changed_comments_once() {
    let h = harness().await;
    let client = h.client();
    let draft = h
        .draft(&client, "576400000000000141", &[(SKU_A, 1), (SKU_B, 2)])
        .await;
    let created = client.create_order(&draft).await.unwrap();
    let id = h.only_order("576400000000000141");
    let [first, explained] = cancel_notes_before_and_after_the_record();
    h.sandbox
        .faults()
        .inject("orders.refund", FaultKind::ServerError, 1);
    client
        .cancel_order(&created.order_id, &first)
        .await
        .unwrap_err();
    let done = client
        .cancel_order(&created.order_id, &explained)
        .await
        .unwrap();
    assert_eq!(done.store.status, StorefrontOrderStatus::Cancelled);
    let order = h.sandbox.order(STORE, id).unwrap().unwrap();
    let comments = order.comments.iter().map(|c| c.comment.as_str());
    assert_eq!(tiktok_cancel_notes(comments), [first.note.as_str()]);
    assert_eq!(h.sandbox.credit_memos(STORE, id).unwrap().len(), 1);
    assert_eq!(order.state, "closed");
}
