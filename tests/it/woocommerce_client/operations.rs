//! Each `Storefront` operation of the WooCommerce client against the simulated site.

use std::collections::HashSet;

use orderdeck::domain::ids::{StorefrontOrderId, TiktokOrderId};
use orderdeck::domain::order::{StorefrontOrderStatus, Units};
use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::domain::rules::import::SkuMatch;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::error::ErrorClass;
use orderdeck::sandbox::faults::FaultKind;

use super::support::*;
use crate::store_client::{cancel_notes_before_and_after_the_record, tiktok_cancel_notes};

fn units(list: &[(&str, u32)]) -> Vec<Units> {
    list.iter()
        .map(|(sku, quantity)| Units {
            sku: sku.to_string(),
            quantity: *quantity,
        })
        .collect()
}

#[tokio::test]
async fn sku_lookup_finds_one_none_or_several_and_variations() {
    let h = harness().await;
    let client = h.client();
    let (parent, variation) = h
        .sandbox
        .add_variation(STORE, "TEE-RED-M", "Tee", "9.00", 5)
        .unwrap();
    let wanted: Vec<String> = [SKU_A, "GHOST-404", "DUP-001", "TEE-RED-M", " "]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let found = client.lookup_skus(&wanted).await.unwrap();
    let product = h.spec.products.iter().find(|p| p.sku == SKU_A).unwrap();
    assert_eq!(found[SKU_A], SkuMatch::One(product.variant_id.to_string()));
    assert_eq!(found["GHOST-404"], SkuMatch::None);
    assert_eq!(found["DUP-001"], SkuMatch::Many(2));
    assert_eq!(
        found["TEE-RED-M"],
        SkuMatch::One(format!("{parent}/{variation}"))
    );
    assert_eq!(found[" "], SkuMatch::None);
    // One search for every SKU of the order.
    assert_eq!(h.sandbox.calls(STORE, "products.list").unwrap(), 1);
    h.assert_no_refusals();
}

#[tokio::test]
async fn a_multi_line_order_is_created_paid_and_reads_back_exactly() {
    let h = harness().await;
    let client = h.client();
    let (stock_a, stock_b) = (h.stock(SKU_A), h.stock(SKU_B));
    let draft = h
        .draft(&client, "576400000000000001", &[(SKU_A, 2), (SKU_B, 1)])
        .await;
    let created = client.create_order(&draft).await.unwrap();
    assert_eq!(created.status, StorefrontOrderStatus::Open);
    assert_eq!(created.current_units(), units(&[(SKU_A, 2), (SKU_B, 1)]));
    assert_eq!(client.get_order(&created.order_id).await.unwrap(), created);

    let id: u64 = created.order_id.as_str().parse().unwrap();
    let order = h.sandbox.order(STORE, id).unwrap().unwrap();
    assert_eq!(
        order.status, "processing",
        "set_paid moved it to processing"
    );
    assert!(order.paid.is_some());
    assert_eq!(
        order.meta_text("_tiktok_order_id").as_deref(),
        Some("576400000000000001")
    );
    assert_eq!(order.transaction_id, "576400000000000001");
    assert_eq!(order.payment_method_title, "TikTok Shop");
    assert_eq!(order.customer_note, "Please ship asap!");
    assert!(order.billing.get("email").is_none(), "no one to e-mail");
    assert_eq!(order.shipping["state"], "CA");
    assert_eq!(order.shipping["address_2"], "Apt 4");
    let lines: Vec<(Option<&str>, i64, &str)> = order
        .lines
        .iter()
        .map(|l| (l.sku.as_deref(), l.quantity, l.total.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![(Some(SKU_A), 2, "25.00"), (Some(SKU_B), 1, "12.50")]
    );
    assert!(order.lines.iter().all(|l| l.product_id > 0));
    assert_eq!(h.stock(SKU_A), stock_a - 2);
    assert_eq!(h.stock(SKU_B), stock_b - 1);
    h.assert_no_refusals();
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_found_and_never_made_twice() {
    let h = harness().await;
    let client = h.client();
    let tiktok = TiktokOrderId::new("576400000000000002").unwrap();
    let draft = h.draft(&client, tiktok.as_str(), &[(SKU_A, 1)]).await;
    assert_eq!(client.find_order(&tiktok).await.unwrap(), None);
    h.sandbox
        .faults()
        .inject("orders.create", FaultKind::DropAfterWrite, 1);
    let lost = client.create_order(&draft).await.unwrap_err();
    assert_eq!(lost.class, ErrorClass::Ambiguous, "{lost}");

    let found = client.find_order(&tiktok).await.unwrap().expect("found");
    let in_store = h.sandbox.orders_for(STORE, tiktok.as_str()).unwrap();
    assert_eq!(in_store.len(), 1);
    assert_eq!(found.order_id.as_str(), in_store[0].id.to_string());
    // A fresh client (a restarted daemon) finds it too, by its wider window.
    let restarted = h.client();
    assert_eq!(
        restarted
            .find_order(&tiktok)
            .await
            .unwrap()
            .map(|o| o.order_id),
        Some(found.order_id)
    );
    assert_eq!(h.sandbox.calls(STORE, "orders.create").unwrap(), 1);
    h.assert_no_refusals();
}

#[tokio::test]
async fn after_a_restart_one_week_is_listed_once_then_only_newer_orders() {
    let h = harness().await;
    let client = h.client();
    let mut made = Vec::new();
    for n in 0..5 {
        let tiktok = format!("5764000000000003{n:02}");
        let draft = h.draft(&client, &tiktok, &[(SKU_A, 1)]).await;
        let id: u64 = client
            .create_order(&draft)
            .await
            .unwrap()
            .order_id
            .as_str()
            .parse()
            .unwrap();
        let days = if n == 4 { 1 } else { 2 };
        h.sandbox
            .backdate(STORE, id, chrono::Duration::days(days))
            .unwrap();
        made.push((TiktokOrderId::new(tiktok).unwrap(), id));
    }
    // A restarted daemon knows no attempt: its first read-back lists the week (3 pages of 2).
    let restarted = h.client_with_page_size(2);
    let lists = || h.sandbox.calls(STORE, "orders.list").unwrap();
    let before = lists();
    let found = restarted.find_order(&made[0].0).await.unwrap().unwrap();
    assert_eq!(found.order_id.as_str(), made[0].1.to_string());
    assert_eq!(lists() - before, 3);
    // The next one lists only what is newer than the newest seen, and finds an older order
    // from what the first listing saw (read again, in case it was deleted since).
    let before = lists();
    let found = restarted.find_order(&made[2].0).await.unwrap().unwrap();
    assert_eq!(found.order_id.as_str(), made[2].1.to_string());
    assert_eq!(lists() - before, 1);
    let unknown = TiktokOrderId::new("576400000000000999").unwrap();
    assert_eq!(restarted.find_order(&unknown).await.unwrap(), None);
    h.assert_no_refusals();
}

#[tokio::test]
async fn after_a_restart_a_recalled_attempt_lists_only_from_shortly_before_it() {
    let h = harness().await;
    let client = h.client();
    for n in 0..5 {
        let tiktok = format!("5764000000000004{n:02}");
        let draft = h.draft(&client, &tiktok, &[(SKU_A, 1)]).await;
        let made = client.create_order(&draft).await.unwrap();
        let id = made.order_id.as_str().parse().unwrap();
        h.sandbox
            .backdate(STORE, id, chrono::Duration::days(2))
            .unwrap();
    }
    let tiktok = TiktokOrderId::new("576400000000000499").unwrap();
    let draft = h.draft(&client, tiktok.as_str(), &[(SKU_A, 2)]).await;
    let attempt = chrono::Utc::now();
    h.sandbox
        .faults()
        .inject("orders.create", FaultKind::DropAfterWrite, 1);
    let lost = client.create_order(&draft).await.unwrap_err();
    assert_eq!(lost.class, ErrorClass::Ambiguous, "{lost}");

    // The daemon restarted: its new client knows only what the job record says.
    let restarted = h.client_with_page_size(2);
    restarted.recall_create_attempt(&tiktok, attempt);
    let lists = || h.sandbox.calls(STORE, "orders.list").unwrap();
    let before = lists();
    let found = restarted.find_order(&tiktok).await.unwrap().expect("found");
    let in_store = h.sandbox.orders_for(STORE, tiktok.as_str()).unwrap();
    assert_eq!(found.order_id.as_str(), in_store[0].id.to_string());
    assert_eq!(lists() - before, 1, "one page, not the week's three");
    assert_eq!(h.sandbox.calls(STORE, "orders.create").unwrap(), 6);
    h.assert_no_refusals();
}

/// A burst of imports reads back before each create: twenty finds at once share the index's
/// listings (one under way, one after it), instead of listing the store twenty times, and each
/// still finds its own order.
#[tokio::test]
async fn concurrent_finds_share_one_listing_of_the_store() {
    let h = harness().await;
    let client = h.client();
    let mut made = Vec::new();
    for n in 0..20 {
        let tiktok = format!("5764000000000005{n:02}");
        let draft = h.draft(&client, &tiktok, &[(SKU_A, 1)]).await;
        let order = client.create_order(&draft).await.unwrap();
        made.push((TiktokOrderId::new(tiktok).unwrap(), order.order_id));
    }
    // A new process: it has made no attempt and keeps no index yet.
    let restarted = h.client_with_page_size(100);
    let lists = || h.sandbox.calls(STORE, "orders.list").unwrap();
    let before = lists();
    let found = futures::future::join_all(made.iter().map(|(t, _)| restarted.find_order(t))).await;
    for ((tiktok, order), found) in made.iter().zip(found) {
        let found = found.unwrap().unwrap_or_else(|| panic!("{tiktok} found"));
        assert_eq!(&found.order_id, order, "{tiktok}");
    }
    assert!(lists() - before <= 2, "{} listings", lists() - before);
    h.assert_no_refusals();
}

#[tokio::test]
async fn two_tracking_items_are_two_fulfillments_of_the_whole_order() {
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000003", &[(SKU_A, 2)]).await;
    let created = client.create_order(&draft).await.unwrap();
    let id: u64 = created.order_id.as_str().parse().unwrap();
    assert!(!created.has_fulfillment());
    h.sandbox
        .ship(STORE, id, "Fedex", "7489001", false)
        .unwrap();
    h.sandbox
        .ship(STORE, id, "Royal Mail Tracked 24", "RM123GB", true)
        .unwrap();
    let read = client.get_order(&created.order_id).await.unwrap();
    let seen: Vec<(Option<&str>, &str)> = read
        .fulfillments
        .iter()
        .map(|f| {
            assert!(
                f.lines.is_empty(),
                "a tracking item stands for the whole order"
            );
            let t = &f.tracking[0];
            (t.carrier.as_deref(), t.number.as_str())
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (Some("Fedex"), "7489001"),
            (Some("Royal Mail Tracked 24"), "RM123GB")
        ]
    );
    assert_eq!(read.first_tracking().unwrap().number, "7489001");
    h.assert_no_refusals();
}

#[tokio::test]
async fn cancel_leaves_a_private_note_puts_stock_back_and_succeeds_twice() {
    let h = harness().await;
    let client = h.client();
    let before = h.stock(SKU_A);
    let draft = h.draft(&client, "576400000000000004", &[(SKU_A, 2)]).await;
    let created = client.create_order(&draft).await.unwrap();
    assert_eq!(h.stock(SKU_A), before - 2);
    let instruction = StorefrontCancelInstruction {
        restock: true,
        note: "Cancelled on TikTok (buyer): Found a better price".into(),
    };
    let cancelled = client
        .cancel_order(&created.order_id, &instruction)
        .await
        .unwrap();
    assert_eq!(cancelled.store.status, StorefrontOrderStatus::Cancelled);
    assert!(cancelled.store.cancelled_at.is_some());
    assert_eq!(cancelled.put_back, units(&[(SKU_A, 2)]));
    assert!(cancelled.shipped.is_empty());
    assert_eq!(h.stock(SKU_A), before, "WooCommerce restocks on cancel");
    let id: u64 = created.order_id.as_str().parse().unwrap();
    let order = h.sandbox.order(STORE, id).unwrap().unwrap();
    assert_eq!(order.status, "cancelled");
    let note = order
        .notes
        .iter()
        .find(|n| n.note == instruction.note)
        .expect("TikTok's reason is a note");
    assert!(!note.customer_note, "private: the buyer is not e-mailed");

    let again = client
        .cancel_order(&created.order_id, &instruction)
        .await
        .unwrap();
    assert_eq!(again.store.status, StorefrontOrderStatus::Cancelled);
    assert!(again.put_back.is_empty());
    assert_eq!(h.sandbox.calls(STORE, "orders.update").unwrap(), 1);
    assert_eq!(h.stock(SKU_A), before);
    h.assert_no_refusals();
}

#[tokio::test]
async fn cancelling_a_shipped_order_says_what_had_shipped() {
    let h = harness().await;
    let client = h.client();
    let draft = h
        .draft(&client, "576400000000000005", &[(SKU_A, 1), (SKU_B, 2)])
        .await;
    let created = client.create_order(&draft).await.unwrap();
    let id: u64 = created.order_id.as_str().parse().unwrap();
    h.sandbox.ship(STORE, id, "UPS", "1Z999", false).unwrap();
    let cancelled = client
        .cancel_order(
            &created.order_id,
            &StorefrontCancelInstruction {
                restock: false,
                note: "Cancelled on TikTok (system)".into(),
            },
        )
        .await
        .unwrap();
    // WooCommerce puts everything back whatever the link says; the parcel is still out.
    assert_eq!(cancelled.put_back, units(&[(SKU_A, 1), (SKU_B, 2)]));
    assert_eq!(cancelled.shipped, units(&[(SKU_A, 1), (SKU_B, 2)]));
}

#[tokio::test]
async fn changed_orders_pages_through_every_imported_order() {
    let h = harness().await;
    let client = h.client_with_page_size(2);
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    let mut ids = HashSet::new();
    for n in 0..5 {
        let tiktok = format!("5764000000000001{n:02}");
        let draft = h.draft(&client, &tiktok, &[(SKU_A, 1)]).await;
        client.create_order(&draft).await.unwrap();
        ids.insert(tiktok);
    }
    let mut seen = HashSet::new();
    let mut cursors = Vec::new();
    let mut cursor = None;
    loop {
        let page = client.changed_orders(since, cursor.clone()).await.unwrap();
        assert!(page.unreadable.is_empty());
        assert!(page.items.len() <= 2);
        for change in page.items {
            seen.insert(change.tiktok_order_id.unwrap().as_str().to_string());
        }
        match page.next_page_token {
            Some(next) => {
                cursors.push(next.clone());
                cursor = Some(next);
            }
            None => break,
        }
        assert!(cursors.len() < 20, "paging ends: {cursors:?}");
    }
    assert_eq!(seen, ids);
    assert_eq!(
        cursors,
        ["m:2", "m:3", "o:1", "o:2", "o:3"],
        "three pages of changes, then three of open orders"
    );
    // Nothing changed since: the first pass finds nothing (the open orders follow it).
    let later = client
        .changed_orders(chrono::Utc::now() + chrono::Duration::seconds(5), None)
        .await
        .unwrap();
    assert!(later.items.is_empty());
    h.assert_no_refusals();
}

#[tokio::test]
async fn ship_to_updates_replace_the_shipping_address() {
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000006", &[(SKU_A, 1)]).await;
    let created = client.create_order(&draft).await.unwrap();
    let mut to = orderdeck::domain::rules::address::ShipTo {
        address: draft.address.clone(),
        note: None,
    };
    to.address.address1 = "1 Infinite Loop".into();
    client
        .update_ship_to(&created.order_id, &to, Some("Leave at the door"))
        .await
        .unwrap();
    let id: u64 = created.order_id.as_str().parse().unwrap();
    let order = h.sandbox.order(STORE, id).unwrap().unwrap();
    assert_eq!(order.shipping["address_1"], "1 Infinite Loop");
    assert_eq!(order.customer_note, "Leave at the door");
    assert!(
        client
            .get_order(&StorefrontOrderId::new("gid://shopify/Order/1").unwrap())
            .await
            .is_err()
    );
    h.assert_no_refusals();
}

/// The first attempt left its note and then failed; before the retry TikTok's record said who
/// cancelled, so the retry's note reads differently. The order still gets one TikTok note.
#[tokio::test]
async fn a_retried_cancel_whose_note_changed_leaves_one_note() {
    let h = harness().await;
    let client = h.client();
    let draft = h
        .draft(&client, "576400000000000014", &[(SKU_A, 1), (SKU_B, 1)])
        .await;
    let created = client.create_order(&draft).await.unwrap();
    let [first, explained] = cancel_notes_before_and_after_the_record();
    h.sandbox
        .faults()
        .inject("orders.update", FaultKind::ServerError, 1);
    client
        .cancel_order(&created.order_id, &first)
        .await
        .unwrap_err();
    let done = client
        .cancel_order(&created.order_id, &explained)
        .await
        .unwrap();
    assert_eq!(done.store.status, StorefrontOrderStatus::Cancelled);
    let id: u64 = created.order_id.as_str().parse().unwrap();
    let order = h.sandbox.order(STORE, id).unwrap().unwrap();
    let notes = order.notes.iter().map(|n| n.note.as_str());
    assert_eq!(tiktok_cancel_notes(notes), [first.note.as_str()]);
}
