//! The engine with a link to a WooCommerce site: a paid TikTok order becomes exactly one
//! WooCommerce order (found again, not made twice, after a lost answer), its Shipment Tracking
//! reaches TikTok, a TikTok cancel cancels it once (and is not relayed back), and a store-side
//! cancel reaches TikTok only when the link says so.

use orderdeck::domain::cancellation::Direction;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::woocommerce::WooOrder;

use crate::engine::support::*;

async fn rig() -> (Rig, usize) {
    Rig::with_store(Options {
        woocommerce: true,
        ..Options::default()
    })
    .await
}

fn site(rig: &Rig) -> String {
    rig.set.scenario.woocommerce[0].name.clone()
}

/// The one WooCommerce order made for `id`.
fn woo_order(rig: &Rig, id: &TiktokOrderId) -> WooOrder {
    let mut found = rig
        .set
        .woocommerce
        .orders_for(&site(rig), id.as_str())
        .unwrap();
    assert_eq!(found.len(), 1, "store orders for {id}: {found:#?}");
    found.remove(0)
}

async fn imported(rig: &mut Rig, shop: usize) -> TiktokOrderId {
    let id = rig.paid_order(shop);
    rig.sync().await;
    woo_order(rig, &id);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_becomes_one_woocommerce_order_and_its_tracking_reaches_tiktok() {
    let (mut rig, shop) = rig().await;
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, &[KNOWN_SKU, KNOWN_SKU, "LIN-11"]);
    let id = rig.add(&spec);
    let ghost = {
        let mut spec = rig.new_order(shop);
        set_lines(&mut spec, &[GHOST_SKU]);
        rig.add(&spec)
    };
    // The first create's answer is lost after WooCommerce made the order.
    rig.set
        .woocommerce
        .faults()
        .inject("orders.create", FaultKind::DropAfterWrite, 1);
    rig.sync().await;
    rig.sync().await;

    let order = woo_order(&rig, &id);
    assert_eq!(order.status, "processing");
    let lines: Vec<(Option<&str>, i64, &str)> = order
        .lines
        .iter()
        .map(|l| (l.sku.as_deref(), l.quantity, l.total.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![(Some(KNOWN_SKU), 2, "43.00"), (Some("LIN-11"), 1, "21.50")]
    );
    assert_eq!(
        order.shipping["address_1"],
        spec.buyer.address_line1.as_str()
    );
    let ours = rig.order(&id);
    assert!(
        is_done(&ours.flows.import.status),
        "{:?}",
        ours.flows.import
    );
    assert_eq!(
        ours.store.as_ref().map(|s| s.order_id.as_str().to_string()),
        Some(order.id.to_string())
    );
    // An unknown SKU is stuck naming it; nothing was sent to WooCommerce for it.
    let stuck = rig.order(&ghost);
    let reason = stuck
        .flows
        .import
        .stuck_reason()
        .unwrap_or_default()
        .to_string();
    assert!(reason.contains(GHOST_SKU), "{reason}");
    assert!(
        rig.set
            .woocommerce
            .orders_for(&site(&rig), ghost.as_str())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        rig.set
            .woocommerce
            .calls(&site(&rig), "orders.create")
            .unwrap(),
        1
    );

    rig.set
        .woocommerce
        .ship(&site(&rig), order.id, "Fedex", "7489001234", false)
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 1, "{shipments:?}");
    assert_eq!(shipments[0].tracking_number, "7489001234");
    let fedex = rig.set.scenario.shops[shop]
        .providers
        .iter()
        .find(|(_, name)| name == "FedEx")
        .map(|(id, _)| id.clone());
    assert_eq!(shipments[0].provider_id, fedex, "Fedex matches FedEx");
    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 1);
    assert!(rig.set.woocommerce.refused(&site(&rig)).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiktok_cancel_cancels_the_woocommerce_order_once_and_is_not_relayed_back() {
    let (mut rig, shop) = rig().await;
    let view = rig
        .settings(
            shop,
            &[
                ("default_cancel_reason", US_REASON),
                ("cancel_store_to_tiktok", "on"),
            ],
        )
        .await;
    // `settings show` says what WooCommerce does instead of a restock toggle.
    let restock = view
        .fields
        .iter()
        .find(|(key, _, _)| key == "restock_on_cancel")
        .map(|(_, value, _)| value.as_str());
    assert_eq!(
        restock,
        Some("always (WooCommerce puts stock back on every cancel)")
    );
    let id = imported(&mut rig, shop).await;
    let stock = rig.set.woocommerce.stock(&site(&rig), KNOWN_SKU).unwrap()[0];
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "SYSTEM", "Seller did not ship in time")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.sync().await;

    let order = woo_order(&rig, &id);
    assert_eq!(order.status, "cancelled");
    let notes: Vec<&str> = order
        .notes
        .iter()
        .filter(|n| n.note.starts_with("Cancelled on TikTok"))
        .map(|n| n.note.as_str())
        .collect();
    assert_eq!(notes.len(), 1, "one note: {notes:?}");
    assert!(
        notes[0].starts_with("Cancelled on TikTok (system): Seller did not ship in time"),
        "{notes:?}"
    );
    assert!(order.notes.iter().all(|n| !n.customer_note));
    assert_eq!(
        rig.set.woocommerce.stock(&site(&rig), KNOWN_SKU).unwrap()[0],
        stock + 1
    );
    assert_eq!(
        rig.set
            .woocommerce
            .calls(&site(&rig), "orders.update")
            .unwrap(),
        1
    );
    assert!(is_done(&rig.order(&id).flows.cancellation.status));
    // orderdeck's own cancel does not go back to TikTok.
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    assert!(
        rig.cancellations(&id)
            .iter()
            .all(|c| c.direction != Direction::StoreToTiktok),
        "{:#?}",
        rig.cancellations(&id)
    );
    assert!(rig.set.woocommerce.refused(&site(&rig)).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_cancel_reaches_tiktok_only_when_the_link_says_so() {
    let (mut rig, shop) = rig().await;
    let while_off = imported(&mut rig, shop).await;
    let store_id = woo_order(&rig, &while_off).id;
    rig.set
        .woocommerce
        .cancel_in_admin(&site(&rig), store_id)
        .unwrap();
    rig.sync().await;
    rig.assert_store_cancel_skipped(&while_off);

    rig.relay_store_cancels(shop).await;
    let while_on = imported(&mut rig, shop).await;
    // A refund alone is not the trigger; the order becoming `cancelled` is.
    let store_id = woo_order(&rig, &while_on).id;
    rig.set
        .woocommerce
        .set_status(&site(&rig), store_id, "refunded")
        .unwrap();
    rig.sync().await;
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    let refunded = rig.order(&while_on).store.is_some_and(|s| s.refunded);
    assert!(refunded, "the refund was seen, and is not the trigger");
    rig.set
        .woocommerce
        .cancel_in_admin(&site(&rig), store_id)
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.assert_cancelled_once_on_tiktok(&while_on);
    // TikTok's record of that cancel is not sent back to the store, cancelled there already.
    assert_eq!(
        rig.set
            .woocommerce
            .calls(&site(&rig), "orders.update")
            .unwrap(),
        0
    );
    assert!(rig.set.woocommerce.refused(&site(&rig)).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_line_tiktok_cancel_lists_the_order_with_what_to_remove_and_cancels_nothing() {
    let (mut rig, shop) = rig().await;
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, &[KNOWN_SKU, KNOWN_SKU, "LIN-11"]);
    let cancelled = vec![spec.lines[2].line_item_id.clone()];
    let id = rig.add(&spec);
    rig.sync().await;
    rig.set
        .tiktok
        .cancel_lines_as(id.as_str(), &cancelled, "BUYER", "Did not need the linen")
        .unwrap();
    rig.sync().await;

    let order = woo_order(&rig, &id);
    assert_eq!(order.status, "processing", "never a whole-order cancel");
    let why = rig
        .view(orderdeck::domain::triage::OrderView::Stuck)
        .await
        .into_iter()
        .find(|row| row.id == id)
        .map(|row| row.why)
        .expect("listed for a person");
    let store_id = woo_order(&rig, &id).id;
    assert!(
        why.contains(&format!(
            "remove 1 × LIN-11 from store order #{store_id}; TikTok still expects 2 × {KNOWN_SKU}"
        )),
        "{why}"
    );
}
