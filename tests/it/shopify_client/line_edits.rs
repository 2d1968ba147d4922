//! Line-level edits on Shopify: the full read says which units each parcel holds, and units
//! leave an order by target (what each SKU keeps) with an order edit that never notifies the
//! customer, so a re-run takes nothing more off and a shipped unit is refused before anything
//! is staged.

use orderdeck::domain::order::Units;
use orderdeck::platforms::{ErrorClass, Storefront, UnitRemoval};

use crate::shopify_client::operations::{tracking, two_lines};
use crate::shopify_client::support::{STORE, harness};

fn keep(list: &[(&str, u32)]) -> Vec<Units> {
    list.iter()
        .map(|(sku, quantity)| Units {
            sku: (*sku).into(),
            quantity: *quantity,
        })
        .collect()
}

#[tokio::test]
async fn the_full_read_says_which_units_each_parcel_holds() {
    let h = harness().await;
    let client = h.client();
    let id = two_lines(&h, &client, "576400000000000031").await;
    h.sandbox
        .fulfil_units(STORE, id.as_str(), &[("CRO-00", 2)], tracking("1Z901"))
        .unwrap();
    h.sandbox
        .fulfil_units(STORE, id.as_str(), &[("CRO-01", 1)], tracking("1Z902"))
        .unwrap();
    let order = client.order_detail(&id).await.unwrap();
    let parcels: Vec<(String, Vec<Units>)> = order
        .fulfillments
        .iter()
        .map(|f| (f.tracking[0].number.clone(), f.lines.clone()))
        .collect();
    assert_eq!(
        parcels,
        [
            ("1Z901".to_string(), keep(&[("CRO-00", 2)])),
            ("1Z902".to_string(), keep(&[("CRO-01", 1)])),
        ]
    );
    assert_eq!(order.current_units(), keep(&[("CRO-00", 2), ("CRO-01", 1)]));
    // The cheap read used by polls leaves lines out.
    assert!(client.get_order(&id).await.unwrap().lines.is_empty());
}

#[tokio::test]
async fn units_leave_by_target_and_a_rerun_takes_nothing_more() {
    let h = harness().await;
    let client = h.client();
    let id = two_lines(&h, &client, "576400000000000032").await;
    let stock = |sku| h.sandbox.inventory(STORE, sku).unwrap()[0];
    let before = stock("CRO-00");
    let removal = UnitRemoval {
        keep: keep(&[("CRO-00", 1), ("CRO-01", 1)]),
        restock: false,
        note: "Cancelled on TikTok (buyer): one was enough".into(),
    };
    let after = client.remove_units(&id, &removal).await.unwrap();
    assert_eq!(after.current_units(), keep(&[("CRO-00", 1), ("CRO-01", 1)]));
    assert_eq!(stock("CRO-00"), before, "restock off: nothing goes back");
    let held = h.sandbox.order(STORE, id.as_str()).unwrap().unwrap();
    assert_eq!(held.edits.len(), 1);
    assert!(!held.edits[0].notify_customer);
    assert_eq!(
        held.edits[0].staff_note.as_deref(),
        Some("Cancelled on TikTok (buyer): one was enough")
    );
    assert!(held.refunds.is_empty());

    // The answer was lost; the engine runs it again.
    let again = client.remove_units(&id, &removal).await.unwrap();
    assert_eq!(again.current_units(), after.current_units());
    let held = h.sandbox.order(STORE, id.as_str()).unwrap().unwrap();
    assert_eq!(held.edits.len(), 1, "nothing more was taken off");
}

#[tokio::test]
async fn a_shipped_unit_is_refused_naming_its_sku_and_nothing_is_staged() {
    let h = harness().await;
    let client = h.client();
    let id = two_lines(&h, &client, "576400000000000033").await;
    h.sandbox
        .fulfil_units(STORE, id.as_str(), &[("CRO-01", 1)], tracking("1Z903"))
        .unwrap();
    let removal = UnitRemoval {
        keep: keep(&[("CRO-00", 2), ("CRO-01", 0)]),
        restock: true,
        note: "Cancelled on TikTok (buyer)".into(),
    };
    let refused = client.remove_units(&id, &removal).await.unwrap_err();
    assert_eq!(refused.class, ErrorClass::Permanent);
    assert!(
        refused
            .message
            .contains("1 × CRO-01 cannot leave the order: the store shipped it"),
        "{refused}"
    );
    let held = h.sandbox.order(STORE, id.as_str()).unwrap().unwrap();
    assert!(held.edits.is_empty());
    assert_eq!(
        held.lines.iter().map(|l| l.current_quantity).sum::<u32>(),
        3
    );
}
