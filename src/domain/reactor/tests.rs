//! The reactor end to end on plain values: which jobs each change causes, and what is recorded
//! when a rule says wait, skip or nothing.

use super::*;
use crate::domain::ids::{CancelId, StorefrontOrderId, TiktokOrderId};
use crate::domain::order::ShippingType;
use crate::domain::rules::fixtures::*;

fn kinds(jobs: &[JobKind]) -> Vec<&'static str> {
    jobs.iter().map(|j| j.describe()).collect()
}

#[test]
fn a_paid_order_queues_one_import_and_seeing_it_again_queues_nothing() {
    let mut order = paid();
    let settings = LinkSettings::default();
    assert_eq!(
        kinds(&react_order(&mut order, &settings, t(10))),
        ["create store order"]
    );
    assert_eq!(order.flows.import.status, FlowStatus::Queued);
    let timeline = order.timeline.len();
    assert!(react_order(&mut order, &settings, t(20)).is_empty());
    assert_eq!(
        order.timeline.len(),
        timeline,
        "no timeline noise on a repeat poll"
    );
}

#[test]
fn on_hold_waits_then_imports_when_released() {
    let mut order = paid();
    order.tiktok.status = OrderStatus::OnHold;
    let settings = LinkSettings::default();
    assert!(react_order(&mut order, &settings, t(1)).is_empty());
    assert!(
        matches!(&order.flows.import.status, FlowStatus::Waiting { why } if why.contains("ON_HOLD"))
    );
    let mut released = order.tiktok.clone();
    released.status = OrderStatus::AwaitingShipment;
    released.updated_at = t(3600);
    assert!(merge_snapshot(&mut order, released, t(3600)));
    assert_eq!(
        kinds(&react_order(&mut order, &settings, t(3600))),
        ["create store order"]
    );
}

#[test]
fn a_setting_that_is_off_is_recorded_as_skipped_with_why() {
    let mut order = paid();
    let settings = LinkSettings {
        import_orders: false,
        ..LinkSettings::default()
    };
    assert!(react_order(&mut order, &settings, t(1)).is_empty());
    assert!(
        matches!(&order.flows.import.status, FlowStatus::Skipped { why } if why == "import_orders is off for this link")
    );
    assert!(
        order
            .timeline
            .iter()
            .any(|e| e.text == "import skipped: import_orders is off for this link")
    );
}

#[test]
fn older_snapshots_from_overlapping_polls_are_ignored() {
    let mut order = paid();
    let mut older = order.tiktok.clone();
    older.updated_at = t(-100);
    older.status = OrderStatus::OnHold;
    assert!(!merge_snapshot(&mut order, older, t(1)));
    assert_eq!(order.tiktok.status, OrderStatus::AwaitingShipment);
}

#[test]
fn store_tracking_queues_a_push_unless_tiktok_ships() {
    let settings = LinkSettings::default();
    let mut seller = in_store(paid(), vec![]);
    let store = StorefrontOrder {
        fulfillments: vec![fulfilled("RM1", Some("Royal Mail"))],
        updated_at: t(7200),
        ..seller.store.clone().unwrap()
    };
    assert!(merge_store(&mut seller, store.clone(), t(7200)).is_empty());
    assert_eq!(
        kinds(&react_order(&mut seller, &settings, t(7200))),
        ["push tracking to TikTok"]
    );

    let mut tiktok = in_store(
        order(OrderStatus::AwaitingCollection, ShippingType::Tiktok),
        vec![],
    );
    merge_store(&mut tiktok, store, t(7200));
    assert_eq!(
        kinds(&react_order(&mut tiktok, &settings, t(7200))),
        ["fetch shipping label"]
    );
    assert!(matches!(
        tiktok.flows.tracking.status,
        FlowStatus::NotApplicable { .. }
    ));
}

fn tiktok_cancel(status: CancelStatus) -> Cancellation {
    Cancellation {
        key: CancellationKey::Tiktok(CancelId::new("77").unwrap()),
        tiktok_status: Some(status),
        ..cancellation_from_order(&paid(), true, t(0))
    }
}

#[test]
fn an_effective_tiktok_cancel_cancels_the_store_order_once() {
    let settings = LinkSettings::default();
    let mut order = in_store(paid(), vec![]);
    let mut c = tiktok_cancel(CancelStatus::Success);
    let job = react_tiktok_cancellation(
        &mut c,
        &mut order,
        &settings,
        Platform::Shopify,
        false,
        t(5),
    );
    assert!(matches!(job, Some(JobKind::CancelInStore { .. })));
    assert_eq!(c.sync.status, FlowStatus::Queued);
    let mut second = tiktok_cancel(CancelStatus::Complete);
    second.key = CancellationKey::TiktokOrder(order.id.clone());
    assert!(
        react_tiktok_cancellation(
            &mut second,
            &mut order,
            &settings,
            Platform::Shopify,
            true,
            t(6)
        )
        .is_none()
    );
    assert!(matches!(
        second.sync.status,
        FlowStatus::NotApplicable { .. }
    ));
}

#[test]
fn a_tiktok_cancel_with_the_setting_off_is_recorded_as_skipped() {
    let settings = LinkSettings {
        cancel_tiktok_to_store: false,
        ..LinkSettings::default()
    };
    let mut order = in_store(paid(), vec![]);
    let mut c = tiktok_cancel(CancelStatus::Success);
    assert!(
        react_tiktok_cancellation(
            &mut c,
            &mut order,
            &settings,
            Platform::Shopify,
            false,
            t(5)
        )
        .is_none()
    );
    assert!(
        matches!(&c.sync.status, FlowStatus::Skipped { why } if why.contains("cancel_tiktok_to_store is off"))
    );
    assert!(
        order
            .timeline
            .iter()
            .any(|e| e.text.contains("not applied to the store"))
    );
}

#[test]
fn store_cancels_relay_to_tiktok_only_when_enabled_and_supported() {
    let enabled = LinkSettings {
        cancel_store_to_tiktok: true,
        default_cancel_reason: Some("seller_cancel_reason_out_of_stock".into()),
        ..LinkSettings::default()
    };
    let disabled = LinkSettings::default();
    // (platform, event, settings, expected: None = no record, Some(job queued?))
    let table = [
        (
            Platform::Shopify,
            StorefrontEvent::OrderCancelled,
            &enabled,
            Some(true),
        ),
        (
            Platform::Shopify,
            StorefrontEvent::OrderCancelled,
            &disabled,
            Some(false),
        ),
        (
            Platform::Magento2,
            StorefrontEvent::OrderCancelled,
            &enabled,
            None,
        ),
        (
            Platform::Magento2,
            StorefrontEvent::Refunded,
            &enabled,
            Some(true),
        ),
        (
            Platform::AmazonMcf,
            StorefrontEvent::OrderCancelled,
            &enabled,
            Some(false),
        ),
    ];
    for (platform, event, settings, expected) in table {
        let mut order = in_store(paid(), vec![]);
        let got = react_store_event(event, &mut order, settings, platform, t(9));
        assert_eq!(
            got.as_ref().map(|(_, job)| job.is_some()),
            expected,
            "{platform} {event:?}"
        );
        if let Some((c, _)) = got {
            assert_eq!(c.direction, Direction::StoreToTiktok);
            if platform == Platform::AmazonMcf {
                assert!(
                    matches!(&c.sync.status, FlowStatus::NotApplicable { why } if why.starts_with("not supported"))
                );
            }
        }
    }
}

#[test]
fn a_store_cancel_caused_by_tiktok_does_not_echo_back() {
    let enabled = LinkSettings {
        cancel_store_to_tiktok: true,
        default_cancel_reason: Some("seller_cancel_reason_out_of_stock".into()),
        ..LinkSettings::default()
    };
    let mut order = in_store(paid(), vec![]);
    order.tiktok.status = OrderStatus::Cancelled;
    let mut cancelled = order.store.clone().unwrap();
    cancelled.status = crate::domain::order::StorefrontOrderStatus::Cancelled;
    cancelled.updated_at = t(999);
    let events = merge_store(&mut order, cancelled, t(999));
    assert_eq!(events, [StorefrontEvent::OrderCancelled]);
    assert!(
        react_store_event(events[0], &mut order, &enabled, Platform::Shopify, t(999)).is_none()
    );
}

#[test]
fn store_cancels_in_two_stores_numbering_orders_alike_stay_apart() {
    // WooCommerce, Magento and BigCommerce number orders per store: each has an order 1001.
    let enabled = LinkSettings {
        cancel_store_to_tiktok: true,
        default_cancel_reason: Some("seller_cancel_reason_out_of_stock".into()),
        ..LinkSettings::default()
    };
    let keys = ["576461413038785752", "576461413038785753"].map(|id| {
        let mut order = in_store(paid(), vec![]);
        order.id = TiktokOrderId::new(id).unwrap();
        order.store.as_mut().unwrap().order_id = StorefrontOrderId::new("1001").unwrap();
        let (c, job) = react_store_event(
            StorefrontEvent::OrderCancelled,
            &mut order,
            &enabled,
            Platform::Bigcommerce,
            t(9),
        )
        .expect("the cancel is recorded");
        assert_eq!(
            job,
            Some(JobKind::CancelOnTiktok {
                cancellation: c.key.clone()
            })
        );
        c.key
    });
    assert_ne!(keys[0], keys[1], "one record would hide the other's cancel");
}
