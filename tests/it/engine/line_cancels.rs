//! Line-level cancellations, TikTok → store: exactly the cancelled units leave the store order
//! (Shopify: an order edit, restocked per the link's setting, no refund, no e-mail, TikTok's
//! reason in the staff note), the order goes on and its tracking reaches TikTok for the units
//! kept; when the last units are cancelled the whole order is cancelled, once; a re-run
//! writes nothing.

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::order::FlowStatus;

use crate::engine::cancel::cancellation_rows;
use crate::engine::support::*;

fn stock(rig: &Rig, sku: &str) -> i64 {
    rig.set.shopify.inventory(&rig.store(GB), sku).unwrap()[0]
}

/// Units left on the store order per SKU (`currentQuantity`).
fn store_units(rig: &Rig, id: &TiktokOrderId) -> Vec<(String, u32)> {
    rig.store_order(GB, id)
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.current_quantity))
        .collect()
}

/// Staff take one unit of OTHER_SKU off the store order in the Shopify admin.
fn remove_one_in_admin(rig: &Rig, shop: usize, id: &TiktokOrderId) {
    let store_id = rig.store_order(shop, id).id;
    rig.set
        .shopify
        .remove_in_admin(&rig.store(shop), &store_id, OTHER_SKU, 1)
        .unwrap();
}

fn edits_begun(rig: &Rig) -> u32 {
    rig.set
        .shopify
        .calls(&rig.store(GB), "orderEditBegin")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_line_cancel_takes_exactly_that_line_off_and_the_rest_ships() {
    let mut rig = Rig::start().await;
    let (id, known, other) = two_skus_imported(&mut rig, GB).await;
    let before = stock(&rig, OTHER_SKU);
    rig.set
        .tiktok
        .cancel_lines_as(
            id.as_str(),
            &other,
            "BUYER",
            "Changed my mind about the blue one",
        )
        .unwrap();
    rig.sync().await;

    let store = rig.store_order(GB, &id);
    assert!(store.cancelled_at.is_none(), "the order goes on");
    assert!(store.cancel_requests.is_empty());
    assert!(store.refunds.is_empty(), "{:?}", store.refunds);
    assert_eq!(
        store_units(&rig, &id),
        [(KNOWN_SKU.to_string(), 2), (OTHER_SKU.to_string(), 0)]
    );
    assert_eq!(store.edits.len(), 1);
    let edit = &store.edits[0];
    assert!(!edit.notify_customer);
    assert!(
        edit.staff_note
            .as_deref()
            .is_some_and(|n| n.contains("Changed my mind about the blue one")),
        "{edit:?}"
    );
    assert_eq!(
        stock(&rig, OTHER_SKU),
        before + 1,
        "restock_on_cancel is on"
    );
    let order = rig.order(&id);
    assert!(
        order.timeline.iter().any(|e| e.text.starts_with(&format!(
            "took 1 × {OTHER_SKU} off store order {} (put back in stock",
            store.name
        ))),
        "{:#?}",
        order.timeline
    );
    assert!(order.timeline.iter().any(|e| {
        e.text
            .contains(&format!("TikTok still expects 2 × {KNOWN_SKU}"))
    }),);
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("AWAITING_SHIPMENT")
    );
    // The Cancellations list says it is a partial cancel, and of what.
    let rows = cancellation_rows(&rig, false).await;
    let row = rows.iter().find(|r| r.order_id == id).expect("listed");
    assert_eq!(row.what, format!("1 × {OTHER_SKU}"));
    assert!(row.sync.starts_with("done"), "{row:?}");

    // The warehouse ships what is left; TikTok gets it for exactly the units kept.
    let (shop, store_id) = (rig.store(GB), store.id.clone());
    rig.set
        .shopify
        .fulfil(&shop, &store_id, tracking("1Z999AA10000000010", "UPS"))
        .unwrap();
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 1, "{shipments:?}");
    let mut shipped = shipments[0].line_ids.clone();
    shipped.sort();
    let mut expected = known;
    expected.sort();
    assert_eq!(shipped, expected);
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("IN_TRANSIT")
    );

    // A quiet re-run edits nothing and pushes nothing.
    let begun = edits_begun(&rig);
    rig.sync().await;
    rig.sync().await;
    assert_eq!(edits_begun(&rig), begun);
    assert_eq!(rig.set.tiktok.calls("mark_package_as_shipped"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_lines_cancelled_cancel_the_store_order_once() {
    let mut rig = Rig::start().await;
    let (id, known, other) = two_skus_imported(&mut rig, GB).await;
    rig.settings(GB, &[("restock_on_cancel", "false")]).await;
    let before = stock(&rig, OTHER_SKU);
    rig.set
        .tiktok
        .cancel_lines_as(id.as_str(), &other, "BUYER", "Wrong colour")
        .unwrap();
    rig.sync().await;
    assert_eq!(
        store_units(&rig, &id),
        [(KNOWN_SKU.to_string(), 2), (OTHER_SKU.to_string(), 0)]
    );
    assert_eq!(stock(&rig, OTHER_SKU), before, "restock_on_cancel is off");

    rig.set
        .tiktok
        .cancel_lines_as(id.as_str(), &known, "BUYER", "Changed my mind")
        .unwrap();
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("CANCELLED")
    );
    rig.sync().await;
    rig.sync().await;
    let store = rig.store_order(GB, &id);
    assert!(store.cancelled_at.is_some());
    assert_eq!(store.cancel_requests.len(), 1, "cancelled once");
    assert_eq!(store.edits.len(), 1, "no edit for the last lines");
    assert!(store.refunds.is_empty());
    // TikTok lists every unit of a whole cancel too: the list still says what each covered.
    let mut what: Vec<String> = cancellation_rows(&rig, false)
        .await
        .into_iter()
        .filter(|r| r.order_id == id)
        .map(|r| r.what)
        .collect();
    what.sort();
    assert_eq!(
        what,
        [format!("1 × {OTHER_SKU}"), "whole order".to_string()]
    );
}

const UK_REASON: &str = "seller_cancel_reason_out_of_stock_uk";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_removed_in_the_store_is_cancelled_on_tiktok_when_the_link_relays() {
    let mut rig = Rig::start().await;
    rig.settings(
        GB,
        &[
            ("default_cancel_reason", UK_REASON),
            ("cancel_store_to_tiktok", "on"),
        ],
    )
    .await;
    let (id, _, other) = two_skus_imported(&mut rig, GB).await;
    remove_one_in_admin(&rig, GB, &id);
    rig.sync().await;

    assert_eq!(rig.set.tiktok.calls("cancel_order"), 1);
    let body = rig.set.tiktok.last_body("cancel_order").unwrap();
    assert_eq!(body["order_line_item_ids"], serde_json::json!(other));
    assert_eq!(body["cancel_reason"], UK_REASON);
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("AWAITING_SHIPMENT"),
        "the buyer still gets the rest"
    );
    let order = rig.order(&id);
    assert!(
        order.timeline.iter().any(|e| e.text
            == format!(
                "cancelled 1 × {OTHER_SKU} on TikTok (taken off the store order); TikTok still expects 2 × {KNOWN_SKU}"
            )),
        "{:#?}",
        order.timeline
    );

    // TikTok's own record of that cancel comes back on the next polls: nothing is relayed
    // back to the store, and nothing is cancelled twice.
    let edits = edits_begun(&rig);
    rig.sync().await;
    rig.sync().await;
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 1);
    assert_eq!(edits_begun(&rig), edits);
    let store = rig.store_order(GB, &id);
    assert!(store.cancelled_at.is_none());
    assert_eq!(store.edits.len(), 1, "only the admin's own edit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_removed_in_the_store_stays_on_tiktok_when_the_link_does_not_relay() {
    let mut rig = Rig::start().await;
    let (id, _, _) = two_skus_imported(&mut rig, GB).await;
    remove_one_in_admin(&rig, GB, &id);
    rig.sync().await;
    rig.sync().await;

    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    let order = rig.order(&id);
    assert!(
        order.timeline.iter().any(|e| e.text
            == "store cancellation not sent to TikTok: cancel_store_to_tiktok is off for this link"),
        "{:#?}",
        order.timeline
    );
    assert!(
        order
            .timeline
            .iter()
            .any(|e| e.text.starts_with("1 unit(s) taken off store order")),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_the_us_and_uk_a_store_side_removal_is_listed_with_why() {
    let mut rig = Rig::with(Options {
        shops: 3,
        ..Options::default()
    })
    .await;
    rig.settings(
        ID,
        &[
            ("default_cancel_reason", "seller_cancel_reason_out_of_stock"),
            ("cancel_store_to_tiktok", "on"),
        ],
    )
    .await;
    let (id, _, _) = two_skus_imported(&mut rig, ID).await;
    remove_one_in_admin(&rig, ID, &id);
    rig.sync().await;

    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    let order = rig.order(&id);
    let FlowStatus::Stuck { reason } = &order.flows.cancellation.status else {
        panic!("{:?}", order.flows.cancellation.status)
    };
    assert!(
        reason.contains(&format!(
            "1 × {OTHER_SKU} taken off store order {} but TikTok takes a seller's partial cancel only in the US and the UK (this shop: ID)"
        , rig.store_order(ID, &id).name)),
        "{reason}"
    );
}
