//! The engine with a link to a BigCommerce store: a paid TikTok order becomes exactly one
//! BigCommerce order of catalog lines (found again, not made twice, after a dropped answer),
//! each shipment reaches TikTok as its own package with its provider, a TikTok cancel cancels
//! it once (never a shipped one, and not relayed back), a store-side cancel reaches TikTok only
//! when the link says so and a refund alone never does, and the simulated store refused no
//! request orderdeck sent.

use orderdeck::domain::cancellation::Direction;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::order::FlowStatus;
use orderdeck::sandbox::bigcommerce::{BcOrder, Parcel};
use orderdeck::sandbox::faults::FaultKind;

use crate::engine::support::*;

async fn rig() -> (Rig, usize) {
    Rig::with_store(Options {
        bigcommerce: true,
        ..Options::default()
    })
    .await
}

fn store(rig: &Rig) -> String {
    rig.set.scenario.bigcommerce[0].name.clone()
}

/// The one BigCommerce order made for `id`.
fn big_order(rig: &Rig, id: &TiktokOrderId) -> BcOrder {
    let mut found = rig
        .set
        .bigcommerce
        .orders_for(&store(rig), id.as_str())
        .unwrap();
    assert_eq!(found.len(), 1, "store orders for {id}: {found:#?}");
    found.remove(0)
}

fn calls(rig: &Rig, endpoint: &str) -> u32 {
    rig.set.bigcommerce.calls(&store(rig), endpoint).unwrap()
}

fn assert_no_refusals(rig: &Rig) {
    let refused = rig.set.bigcommerce.refused(&store(rig)).unwrap();
    assert!(refused.is_empty(), "the store refused: {refused:#?}");
}

fn ship(rig: &Rig, order: u64, units: &[(&str, u64)], number: &str, provider: &str, carrier: &str) {
    let parcel = Parcel {
        units: units.iter().map(|(s, q)| (s.to_string(), *q)).collect(),
        tracking_number: number.into(),
        shipping_provider: provider.into(),
        tracking_carrier: carrier.into(),
    };
    rig.set
        .bigcommerce
        .ship(&store(rig), order, &parcel)
        .expect("shipped");
}

async fn imported(rig: &mut Rig, shop: usize, skus: &[&str]) -> (TiktokOrderId, Vec<String>) {
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, skus);
    let lines = spec.lines.iter().map(|l| l.line_item_id.clone()).collect();
    let id = rig.add(&spec);
    rig.sync().await;
    big_order(rig, &id);
    (id, lines)
}

async fn stuck_reason(rig: &Rig, id: &TiktokOrderId) -> String {
    rig.view(orderdeck::domain::triage::OrderView::Stuck)
        .await
        .into_iter()
        .find(|row| &row.id == id)
        .map(|row| row.why)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_orders_become_one_bigcommerce_order_each_and_a_quiet_rerun_writes_nothing() {
    let (mut rig, shop) = rig().await;
    let ImportMix {
        paid: id,
        paid_spec: spec,
        ghost,
        unpaid,
        on_hold,
    } = rig.add_import_mix(shop);
    // The first create's answer is lost after BigCommerce made the order.
    rig.set
        .bigcommerce
        .faults()
        .inject("orders.create", FaultKind::DropAfterWrite, 1);
    rig.sync().await;
    rig.sync().await;

    let order = big_order(&rig, &id);
    assert_eq!(order.status_id, 11, "Awaiting Fulfillment");
    let lines: Vec<(&str, u64)> = order
        .lines
        .iter()
        .map(|l| (l.sku.as_str(), l.quantity))
        .collect();
    assert_eq!(
        lines,
        vec![(KNOWN_SKU, 2), (OTHER_SKU, 1)],
        "one line per SKU, units counted"
    );
    let to = &order.addresses[0].1;
    assert_eq!(to["street_1"], spec.buyer.address_line1.as_str());
    assert_eq!(to["zip"], spec.buyer.postal_code.as_str());
    assert_eq!(to["first_name"], spec.buyer.first_name.as_str());
    assert_eq!(order.billing["street_1"], spec.buyer.address_line1.as_str());
    assert_eq!(
        calls(&rig, "orders.create"),
        1,
        "found again, not made twice"
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

    // An unknown SKU is stuck naming it; nothing was sent to BigCommerce for it.
    let reason = rig
        .order(&ghost)
        .flows
        .import
        .stuck_reason()
        .unwrap_or_default()
        .to_string();
    assert!(reason.contains(GHOST_SKU), "{reason}");
    assert!(
        rig.set
            .bigcommerce
            .orders_for(&store(&rig), ghost.as_str())
            .unwrap()
            .is_empty()
    );
    for (waiting, words) in [(&unpaid, "UNPAID"), (&on_hold, "ON_HOLD")] {
        let status = rig.order(waiting).flows.import.status;
        assert!(
            matches!(&status, FlowStatus::Waiting { why } if why.contains(words)),
            "{waiting}: {status:?}"
        );
        assert!(
            rig.set
                .bigcommerce
                .orders_for(&store(&rig), waiting.as_str())
                .unwrap()
                .is_empty()
        );
    }

    // Nothing changed: another run writes nothing anywhere.
    let writes = |rig: &Rig| {
        (
            calls(rig, "orders.create"),
            calls(rig, "orders.update"),
            calls(rig, "addresses.update"),
            rig.set.tiktok.calls("mark_package_as_shipped"),
            rig.set.tiktok.calls("cancel_order"),
        )
    };
    let before = writes(&rig);
    rig.sync().await;
    rig.sync().await;
    assert_eq!(writes(&rig), before);
    assert_no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_shipment_reaches_tiktok_once_as_its_own_package_with_its_provider() {
    let (mut rig, shop) = rig().await;
    let (id, lines) = imported(&mut rig, shop, &[KNOWN_SKU, KNOWN_SKU, OTHER_SKU]).await;
    let order = big_order(&rig, &id);
    // Shipped from the control panel with BigCommerce's own provider code.
    ship(
        &rig,
        order.id,
        &[(KNOWN_SKU, 2)],
        "1Z999AA10000000001",
        "upsready",
        "",
    );
    rig.sync().await;
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 1, "{shipments:?}");
    assert_eq!(shipments[0].tracking_number, "1Z999AA10000000001");
    assert_eq!(
        shipments[0].provider_id,
        rig.provider_id(shop, "UPS"),
        "upsready is UPS"
    );
    let mut first = shipments[0].line_ids.clone();
    first.sort();
    let mut known = lines[..2].to_vec();
    known.sort();
    assert_eq!(first, known, "the parcel holds exactly its two units");

    // The rest leaves later; a shipping app names the carrier by its AfterShip slug.
    ship(&rig, order.id, &[], "7489001234", "", "fedex");
    rig.sync().await;
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 2, "{shipments:?}");
    let second = shipments
        .iter()
        .find(|s| s.tracking_number == "7489001234")
        .expect("pushed");
    assert_eq!(second.provider_id, rig.provider_id(shop, "FedEx"));
    assert_eq!(second.line_ids, vec![lines[2].clone()]);
    let writes = rig.set.tiktok.tracking_writes(id.as_str());
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.tracking_writes(id.as_str()),
        writes,
        "each parcel pushed once"
    );
    assert_no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiktok_cancel_cancels_the_store_order_once_when_the_link_says_so_and_never_a_shipped_one()
 {
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
    // `settings show` says BigCommerce's store-wide setting decides, not a toggle.
    let restock = view
        .fields
        .iter()
        .find(|(key, _, _)| key == "restock_on_cancel")
        .map(|(_, value, _)| value.clone())
        .unwrap_or_default();
    assert!(restock.starts_with("store-wide"), "{restock}");
    let (on, _) = imported(&mut rig, shop, &[KNOWN_SKU, OTHER_SKU]).await;
    let stock = rig.set.bigcommerce.stock(&store(&rig), KNOWN_SKU).unwrap()[0];
    rig.set
        .tiktok
        .cancel_order_as(on.as_str(), "SYSTEM", "Seller did not ship in time")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.sync().await;
    let order = big_order(&rig, &on);
    assert_eq!(order.status_id, 5);
    let notes = &order.staff_notes;
    assert_eq!(notes.matches("Cancelled on TikTok").count(), 1, "{notes}");
    assert!(notes.contains("Seller did not ship in time"), "{notes}");
    assert_eq!(calls(&rig, "orders.update"), 1);
    assert_eq!(
        rig.set.bigcommerce.stock(&store(&rig), KNOWN_SKU).unwrap()[0],
        stock + 1,
        "the store's inventory setting put the unit back"
    );
    assert!(is_done(&rig.order(&on).flows.cancellation.status));
    // orderdeck's own cancel does not go back to TikTok.
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    assert!(
        rig.cancellations(&on)
            .iter()
            .all(|c| c.direction != Direction::StoreToTiktok)
    );

    // Shipped before TikTok's cancel arrived: not cancelled in BigCommerce, listed with why.
    let (shipped, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    let order = big_order(&rig, &shipped);
    ship(&rig, order.id, &[], "9400111202555", "usps", "");
    rig.set
        .tiktok
        .cancel_order_as(shipped.as_str(), "BUYER", "Ordered by mistake")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    assert_eq!(
        big_order(&rig, &shipped).status_id,
        2,
        "a shipped order stays shipped"
    );
    assert_eq!(calls(&rig, "orders.update"), 1);
    let why = stuck_reason(&rig, &shipped).await;
    assert!(why.contains("intercept"), "{why}");
    assert!(why.contains("9400111202555"), "{why}");

    // With the setting off, TikTok's cancel is recorded as skipped and nothing is written.
    rig.settings(shop, &[("cancel_tiktok_to_store", "off")])
        .await;
    let (off, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    rig.set
        .tiktok
        .cancel_order_as(off.as_str(), "SYSTEM", "Auto-cancelled")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    assert_eq!(big_order(&rig, &off).status_id, 11);
    assert_eq!(calls(&rig, "orders.update"), 1, "nothing more was written");
    assert_eq!(
        rig.order(&off).flows.cancellation.status,
        FlowStatus::Skipped {
            why: "cancel_tiktok_to_store is off for this link".into()
        }
    );
    assert_no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_cancel_reaches_tiktok_only_when_the_link_says_so_and_a_refund_alone_never() {
    let (mut rig, shop) = rig().await;
    let (while_off, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    let store_id = big_order(&rig, &while_off).id;
    rig.set
        .bigcommerce
        .cancel_in_admin(&store(&rig), store_id)
        .unwrap();
    rig.sync().await;
    rig.assert_store_cancel_skipped(&while_off);

    rig.relay_store_cancels(shop).await;
    let (while_on, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    // A refund alone is not the trigger; the order reaching Cancelled (5) is.
    let store_id = big_order(&rig, &while_on).id;
    rig.set
        .bigcommerce
        .refund_in_admin(&store(&rig), store_id)
        .unwrap();
    rig.sync().await;
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    assert!(
        rig.order(&while_on).store.is_some_and(|s| s.refunded),
        "the refund was seen"
    );
    rig.set
        .bigcommerce
        .cancel_in_admin(&store(&rig), store_id)
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.assert_cancelled_once_on_tiktok(&while_on);
    // TikTok's record of that cancel is not sent back to the store, cancelled there already.
    assert_eq!(calls(&rig, "orders.update"), 0);
    assert_no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyers_new_address_reaches_the_bigcommerce_order_once() {
    let (mut rig, shop) = rig().await;
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, &[KNOWN_SKU]);
    let id = rig.add(&spec);
    rig.sync().await;
    spec.buyer.address_line1 = "22 Acacia Avenue".into();
    spec.buyer.address_line2 = String::new();
    spec.buyer.postal_code = "95014".into();
    spec.update_time = now();
    rig.add(&spec);
    rig.sync().await;
    rig.sync().await;

    let order = big_order(&rig, &id);
    let to = &order.addresses[0].1;
    assert_eq!(to["street_1"], "22 Acacia Avenue");
    assert_eq!(to["street_2"], "", "a line the buyer removed goes");
    assert_eq!(to["zip"], "95014");
    assert_eq!(calls(&rig, "addresses.update"), 1);
    assert!(is_done(&rig.order(&id).flows.address.status));
    assert_no_refusals(&rig);
}
