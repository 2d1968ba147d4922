//! The engine with a link to a Magento store: a paid TikTok order becomes exactly one invoiced
//! Magento order (found again, not made twice, after a lost answer), its shipments' tracks reach
//! TikTok as packages, a TikTok cancel closes it once with an offline credit memo (not relayed
//! back), a shipped one is stuck with why, and only the merchant's credit memo — never a cancel
//! alone — reaches TikTok, when the link says so. The simulated store refuses no request.

use orderdeck::domain::cancellation::Direction;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::order::FlowStatus;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::magento2::{MageOrder, TrackSpec};

use crate::engine::support::*;

async fn rig() -> (Rig, usize) {
    Rig::with_store(Options {
        magento: true,
        ..Options::default()
    })
    .await
}

fn site(rig: &Rig) -> String {
    rig.set.scenario.magento[0].name.clone()
}

/// The one Magento order made for `id`.
fn mage_order(rig: &Rig, id: &TiktokOrderId) -> MageOrder {
    let mut found = rig.set.magento.orders_for(&site(rig), id.as_str()).unwrap();
    assert_eq!(found.len(), 1, "store orders for {id}: {found:#?}");
    found.remove(0)
}

fn no_refusals(rig: &Rig) {
    let refused = rig.set.magento.refused(&site(rig)).unwrap();
    assert!(
        refused.is_empty(),
        "the simulated Magento refused: {refused:#?}"
    );
}

async fn imported(rig: &mut Rig, shop: usize) -> TiktokOrderId {
    let id = rig.paid_order(shop);
    rig.sync().await;
    mage_order(rig, &id);
    id
}

/// Writes the store and TikTok have seen, to compare across a quiet sync.
fn writes(rig: &Rig) -> Vec<u32> {
    let s = site(rig);
    let mut out: Vec<u32> = [
        "orders.create",
        "orders.invoice",
        "orders.cancel",
        "orders.refund",
        "comments.create",
    ]
    .iter()
    .map(|e| rig.set.magento.calls(&s, e).unwrap())
    .collect();
    out.push(rig.set.tiktok.calls("mark_package_as_shipped") as u32);
    out.push(rig.set.tiktok.calls("cancel_order") as u32);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_becomes_one_invoiced_magento_order_and_its_parcels_become_packages() {
    let (mut rig, shop) = rig().await;
    let ImportMix {
        paid: id,
        paid_spec: spec,
        ghost,
        unpaid,
        on_hold,
    } = rig.add_import_mix(shop);
    // The first save's answer is lost after Magento stored the order.
    rig.set
        .magento
        .faults()
        .inject("orders.create", FaultKind::DropAfterWrite, 1);
    rig.sync().await;
    rig.sync().await;

    let order = mage_order(&rig, &id);
    assert_eq!(order.state, "processing", "invoiced means paid");
    assert!(order.total_invoiced > 0.0 && (order.total_invoiced - order.grand_total).abs() < 1e-9);
    let lines: Vec<(&str, f64)> = order
        .items
        .iter()
        .map(|i| (i.sku.as_str(), i.qty_ordered))
        .collect();
    assert_eq!(lines, vec![(KNOWN_SKU, 2.0), (OTHER_SKU, 1.0)]);
    assert_eq!(order.ext_order_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        order.shipping_address["street"][0],
        spec.buyer.address_line1.as_str()
    );
    assert_eq!(order.shipping_address["city"], spec.buyer.city.as_str());
    assert!(
        order.shipping_address["region_id"].is_u64(),
        "{}",
        order.shipping_address
    );
    assert_eq!(order.notified, 0, "no e-mail to the buyer");
    assert_eq!(
        rig.set.magento.calls(&site(&rig), "orders.create").unwrap(),
        1
    );
    let ours = rig.order(&id);
    assert!(
        is_done(&ours.flows.import.status),
        "{:?}",
        ours.flows.import
    );

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
            .magento
            .orders_for(&site(&rig), ghost.as_str())
            .unwrap()
            .is_empty()
    );
    for (waiting, words) in [(&unpaid, "UNPAID"), (&on_hold, "ON_HOLD")] {
        assert!(
            rig.set
                .magento
                .orders_for(&site(&rig), waiting.as_str())
                .unwrap()
                .is_empty()
        );
        let status = rig.order(waiting).flows.import.status;
        assert!(
            matches!(&status, FlowStatus::Waiting { why } if why.contains(words)),
            "{status:?}"
        );
    }

    // Two parcels, two carriers: two TikTok packages, each with its own tracking, pushed once.
    rig.set
        .magento
        .ship(
            &site(&rig),
            order.entity_id,
            &[(KNOWN_SKU, 2)],
            &[TrackSpec::new(
                "ups",
                "United Parcel Service",
                "1Z999AA10000000001",
            )],
        )
        .unwrap();
    rig.sync().await;
    rig.set
        .magento
        .ship(
            &site(&rig),
            order.entity_id,
            &[(OTHER_SKU, 1)],
            &[TrackSpec::new("custom", "usps", "9400100000000000000002")],
        )
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    let mut packages: Vec<(String, Option<String>, usize)> = rig
        .set
        .tiktok
        .shipments(id.as_str())
        .into_iter()
        .map(|s| (s.tracking_number, s.provider_id, s.line_ids.len()))
        .collect();
    packages.sort();
    assert_eq!(
        packages,
        vec![
            (
                "1Z999AA10000000001".to_string(),
                rig.provider_id(shop, "UPS"),
                2
            ),
            (
                "9400100000000000000002".to_string(),
                rig.provider_id(shop, "USPS"),
                1
            ),
        ]
    );
    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 2);
    // A quiet re-run writes nothing anywhere.
    let before = writes(&rig);
    rig.sync().await;
    rig.sync().await;
    assert_eq!(writes(&rig), before);
    no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiktok_cancel_closes_the_order_with_an_offline_credit_memo_never_relayed_back() {
    let (mut rig, shop) = rig().await;
    rig.relay_store_cancels(shop).await;
    for restock in [true, false] {
        rig.settings(
            shop,
            &[("restock_on_cancel", if restock { "on" } else { "off" })],
        )
        .await;
        let id = imported(&mut rig, shop).await;
        let stock = rig.set.magento.stock(&site(&rig), KNOWN_SKU).unwrap()[0];
        rig.set
            .tiktok
            .cancel_order_as(id.as_str(), "SYSTEM", "Seller did not ship in time")
            .unwrap();
        rig.sync().await;
        rig.sync().await;
        rig.sync().await;

        let order = mage_order(&rig, &id);
        assert_eq!(order.state, "closed", "restock {restock}");
        let memos = rig
            .set
            .magento
            .credit_memos(&site(&rig), order.entity_id)
            .unwrap();
        assert_eq!(memos.len(), 1, "one credit memo: {memos:#?}");
        assert!(!memos[0].online, "offline: it moves no money");
        let comments: Vec<&str> = order
            .comments
            .iter()
            .filter(|c| c.comment.starts_with("Cancelled on TikTok"))
            .map(|c| c.comment.as_str())
            .collect();
        assert_eq!(comments.len(), 1, "{comments:?}");
        assert!(
            comments[0].contains("Seller did not ship in time"),
            "{comments:?}"
        );
        let expected = if restock { stock + 1.0 } else { stock };
        assert_eq!(
            rig.set.magento.stock(&site(&rig), KNOWN_SKU).unwrap()[0],
            expected,
            "restock {restock}"
        );
        assert!(is_done(&rig.order(&id).flows.cancellation.status));
        // orderdeck's own credit memo is not the merchant's refund: nothing goes to TikTok.
        assert!(
            rig.cancellations(&id)
                .iter()
                .all(|c| c.direction != Direction::StoreToTiktok),
            "{:#?}",
            rig.cancellations(&id)
        );
        assert_eq!(rig.order(&id).store.map(|s| s.refunded), Some(false));
    }
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    assert_eq!(
        rig.set.magento.calls(&site(&rig), "orders.refund").unwrap(),
        2
    );
    no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipped_order_is_stuck_with_why_and_the_setting_off_skips() {
    let (mut rig, shop) = rig().await;
    let shipped = imported(&mut rig, shop).await;
    let entity = mage_order(&rig, &shipped).entity_id;
    rig.set.magento.ship(&site(&rig), entity, &[], &[]).unwrap();
    rig.sync().await;
    rig.set
        .tiktok
        .cancel_order_as(shipped.as_str(), "BUYER", "Changed my mind")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    let status = rig.order(&shipped).flows.cancellation.status;
    let FlowStatus::Stuck { reason } = &status else {
        panic!("{status:?}")
    };
    assert!(reason.contains("has shipped"), "{reason}");
    assert!(
        rig.set
            .magento
            .credit_memos(&site(&rig), entity)
            .unwrap()
            .is_empty()
    );

    rig.settings(shop, &[("cancel_tiktok_to_store", "off")])
        .await;
    let kept = imported(&mut rig, shop).await;
    rig.set
        .tiktok
        .cancel_order_as(kept.as_str(), "BUYER", "Changed my mind")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    assert_eq!(mage_order(&rig, &kept).state, "processing");
    let record = rig
        .cancellations(&kept)
        .into_iter()
        .find(|c| c.direction == Direction::TiktokToStore)
        .expect("recorded");
    assert_eq!(
        record.sync.status,
        FlowStatus::Skipped {
            why: "cancel_tiktok_to_store is off for this link".into()
        }
    );
    assert_eq!(
        rig.set.magento.calls(&site(&rig), "orders.refund").unwrap(),
        0
    );
    no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_merchants_credit_memo_reaches_tiktok_and_only_when_the_link_says_so() {
    let (mut rig, shop) = rig().await;
    let while_off = imported(&mut rig, shop).await;
    let entity = mage_order(&rig, &while_off).entity_id;
    rig.set
        .magento
        .refund_in_admin(&site(&rig), entity, &[])
        .unwrap();
    rig.sync().await;
    rig.assert_store_cancel_skipped(&while_off);

    rig.relay_store_cancels(shop).await;
    // A cancel alone (an extension setting `canceled`) is not the trigger on Magento.
    let cancelled = imported(&mut rig, shop).await;
    let entity = mage_order(&rig, &cancelled).entity_id;
    rig.set
        .magento
        .cancel_in_admin(&site(&rig), entity)
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.order_status(cancelled.as_str()).as_deref(),
        Some("AWAITING_SHIPMENT")
    );
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);

    let refunded = imported(&mut rig, shop).await;
    let entity = mage_order(&rig, &refunded).entity_id;
    rig.set
        .magento
        .refund_in_admin(&site(&rig), entity, &[])
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.assert_cancelled_once_on_tiktok(&refunded);
    // TikTok's record of that cancel does not come back to the store, refunded already.
    rig.sync().await;
    assert_eq!(
        rig.set.magento.calls(&site(&rig), "orders.refund").unwrap(),
        0
    );
    assert_eq!(
        rig.set.magento.calls(&site(&rig), "orders.cancel").unwrap(),
        0
    );
    no_refusals(&rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_line_tiktok_cancel_takes_exactly_that_unit_off_with_a_credit_memo() {
    let (mut rig, shop) = rig().await;
    rig.relay_store_cancels(shop).await;
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, &[KNOWN_SKU, KNOWN_SKU, OTHER_SKU]);
    let cancelled = vec![spec.lines[2].line_item_id.clone()];
    let id = rig.add(&spec);
    rig.sync().await;
    rig.set
        .tiktok
        .cancel_lines_as(id.as_str(), &cancelled, "BUYER", "Did not need it")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.sync().await;

    let order = mage_order(&rig, &id);
    assert_eq!(order.state, "processing", "never a whole-order cancel");
    let left: Vec<(&str, f64)> = order
        .items
        .iter()
        .map(|i| (i.sku.as_str(), i.qty_ordered - i.qty_refunded))
        .collect();
    assert_eq!(left, vec![(KNOWN_SKU, 2.0), (OTHER_SKU, 0.0)]);
    let memos = rig
        .set
        .magento
        .credit_memos(&site(&rig), order.entity_id)
        .unwrap();
    assert_eq!(memos.len(), 1, "{memos:#?}");
    // Its own credit memo, and the units it took off, are not relayed back to TikTok.
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("AWAITING_SHIPMENT")
    );
    no_refusals(&rig);
}
