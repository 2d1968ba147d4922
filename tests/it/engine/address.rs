//! Changes after import: a buyer's new shipping details reach the store order before the parcel
//! leaves, once; a change that only looks different writes nothing; a change after the store
//! shipped is listed for a person with what to do, and leaves the list when they say it is done.

use orderdeck::domain::access::Role;
use orderdeck::domain::order::FlowStatus;
use orderdeck::domain::triage::OrderView;
use orderdeck::sandbox::scenario::OrderSpec;
use orderdeck::service::api::{Request, Response};

use crate::engine::support::*;

/// A two-line order of GB, imported; answers its spec (to change it on TikTok) and id.
async fn imported(rig: &mut Rig) -> (OrderSpec, orderdeck::domain::ids::TiktokOrderId) {
    let mut spec = rig.new_order(GB);
    set_lines(&mut spec, &[KNOWN_SKU, KNOWN_SKU]);
    let id = rig.add(&spec);
    rig.sync().await;
    rig.store_order(GB, &id);
    (spec, id)
}

/// The buyer edits the order on TikTok (which bumps its update time).
fn edit(rig: &Rig, spec: &mut OrderSpec, change: impl FnOnce(&mut OrderSpec)) {
    change(spec);
    spec.update_time = now();
    rig.add(spec);
}

fn updates(rig: &Rig) -> u32 {
    rig.set
        .shopify
        .calls(&rig.store(GB), "orderUpdate")
        .expect("store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_address_before_shipment_reaches_the_store_order_once() {
    let mut rig = Rig::start().await;
    let (mut spec, id) = imported(&mut rig).await;
    edit(&rig, &mut spec, |s| {
        s.buyer.address_line1 = "22 Acacia Avenue".into();
        s.buyer.postal_code = "N1 1AA".into();
    });
    rig.sync().await;

    let store = rig.store_order(GB, &id);
    assert_eq!(store.shipping_address["address1"], "22 Acacia Avenue");
    assert_eq!(store.shipping_address["zip"], "N1 1AA");
    assert_eq!(updates(&rig), 1);
    let order = rig.order(&id);
    assert!(
        is_done(&order.flows.address.status),
        "{:?}",
        order.flows.address
    );
    let said = |text: &str| order.timeline.iter().any(|e| e.text.contains(text));
    assert!(
        said("the buyer changed the address line 1, postcode on TikTok"),
        "{:#?}",
        order.timeline
    );
    assert!(said(
        "store order's shipping details updated (address line 1, postcode)"
    ));

    // Quiet re-runs write nothing more.
    rig.sync().await;
    rig.sync().await;
    assert_eq!(updates(&rig), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differences_that_only_look_like_changes_write_nothing() {
    let mut rig = Rig::start().await;
    let (mut spec, id) = imported(&mut rig).await;
    edit(&rig, &mut spec, |s| {
        s.buyer.address_line1 = format!("  {}  ", s.buyer.address_line1.replace(' ', "  "));
        s.buyer.region_code = s.buyer.region_code.to_lowercase();
        s.buyer.phone = "(+44)7700*****23".into();
    });
    rig.sync().await;
    rig.sync().await;
    assert_eq!(updates(&rig), 0);
    assert_eq!(rig.order(&id).flows.address.status, FlowStatus::Idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_after_the_store_shipped_is_listed_for_a_person_until_handled() {
    let mut rig = Rig::start().await;
    let (mut spec, id) = imported(&mut rig).await;
    rig.fulfil(GB, &id, "JD0000000777", "DPD UK");
    edit(&rig, &mut spec, |s| s.buyer.city = "Manchester".into());
    rig.sync().await;

    assert_eq!(updates(&rig), 0, "nothing is written to a shipped order");
    let stuck = rig.view(OrderView::Stuck).await;
    let row = stuck
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {stuck:#?}"));
    assert!(
        row.why
            .starts_with("address: the buyer changed the city after the store shipped it")
            && row
                .why
                .contains("contact the carrier (DPD UK JD0000000777)"),
        "{}",
        row.why
    );

    // The person redirected the parcel and says so with a retry: it leaves the list.
    let retried = rig
        .call(
            Role::Support,
            Request::RetryStuck {
                orders: vec![id.clone()],
                reason: Some("asked DPD to redirect".into()),
            },
        )
        .await;
    assert!(matches!(retried, Ok(Response::Done { .. })), "{retried:?}");
    rig.sync().await;
    assert!(!rig.view(OrderView::Stuck).await.iter().any(|r| r.id == id));
    assert!(
        matches!(&rig.order(&id).flows.address.status, FlowStatus::Skipped { why } if why.contains("handled by a person")),
        "{:?}\n{:#?}\n{:#?}",
        rig.order(&id).flows.address,
        rig.order(&id).timeline,
        rig.engine().store().jobs_of(&id).unwrap()
    );
    assert_eq!(updates(&rig), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_whose_answer_was_lost_is_sent_again_harmlessly() {
    let mut rig = Rig::start().await;
    let (mut spec, id) = imported(&mut rig).await;
    rig.set.shopify.faults().inject(
        "orderUpdate",
        orderdeck::sandbox::faults::FaultKind::DropAfterWrite,
        1,
    );
    edit(&rig, &mut spec, |s| s.buyer.postal_code = "N1 1AA".into());
    rig.sync().await;
    rig.sync().await;

    // The same details written twice leave one address; the flow is done once.
    assert_eq!(rig.store_order(GB, &id).shipping_address["zip"], "N1 1AA");
    let order = rig.order(&id);
    assert!(
        is_done(&order.flows.address.status),
        "{:?}",
        order.flows.address
    );
    let updated = order
        .timeline
        .iter()
        .filter(|e| e.text.starts_with("store order's shipping details updated"))
        .count();
    assert_eq!(updated, 1, "{:#?}", order.timeline);
}
