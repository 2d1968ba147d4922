//! Cancelled after shipping: the store order is cancelled without putting shipped units back
//! in stock, the order is listed for a person with the carrier and tracking to intercept, the
//! tracking never goes to TikTok, and the order leaves the list only when a person says how
//! the parcel ended (audited).

use orderdeck::domain::access::Role;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::rules::parcel::ParcelOutcome;
use orderdeck::domain::triage::OrderView;
use orderdeck::service::api::{Request, Response};

use crate::engine::monitoring::scrape;
use crate::engine::support::*;

/// An imported GB order of 2 × KNOWN_SKU and 1 × OTHER_SKU.
async fn imported(rig: &mut Rig) -> TiktokOrderId {
    let mut spec = rig.new_order(GB);
    set_lines(&mut spec, &[KNOWN_SKU, KNOWN_SKU, OTHER_SKU]);
    let id = rig.add(&spec);
    rig.sync().await;
    rig.store_order(GB, &id);
    id
}

/// The warehouse ships `units` (SKU, quantity) of the store order, or all of it, in one UPS parcel.
fn ship(rig: &Rig, id: &TiktokOrderId, units: Option<&[(&str, u32)]>, number: &str) {
    let (store, order) = (rig.store(GB), rig.store_order(GB, id).id);
    let parcel = tracking(number, "UPS");
    let shopify = &rig.set.shopify;
    match units {
        None => shopify.fulfil(&store, &order, parcel),
        Some(units) => shopify.fulfil_units(&store, &order, units, parcel),
    }
    .expect("shipped");
}

fn stock(rig: &Rig, sku: &str) -> i64 {
    rig.set.shopify.inventory(&rig.store(GB), sku).unwrap()[0]
}

fn pushed_to_tiktok(rig: &Rig) -> usize {
    [
        "mark_package_as_shipped",
        "ship_package",
        "update_shipping_info",
    ]
    .iter()
    .map(|call| rig.set.tiktok.calls(call))
    .sum()
}

async fn stuck_reason(rig: &Rig, id: &TiktokOrderId) -> Option<String> {
    rig.view(OrderView::Stuck)
        .await
        .into_iter()
        .find(|row| &row.id == id)
        .map(|row| row.why)
}

/// The GB link's count of parcels to stop, as the Stores view shows it.
async fn parcels(rig: &Rig) -> usize {
    match rig.call(Role::Viewer, Request::Overview).await {
        Ok(Response::Overview(o)) => o.links[GB].counts.parcels,
        other => panic!("{other:?}"),
    }
}

async fn mark(rig: &Rig, role: Role, id: &TiktokOrderId, note: &str) -> Result<Response, String> {
    rig.call(
        role,
        Request::MarkParcelHandled {
            order: id.clone(),
            outcome: ParcelOutcome::Intercepted,
            note: note.into(),
        },
    )
    .await
    .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_after_the_store_shipped_stops_the_loss_and_waits_for_a_person() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig).await;
    ship(&rig, &id, None, "1Z999AA10000000077");
    let before = (stock(&rig, KNOWN_SKU), stock(&rig, OTHER_SKU));
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "BUYER", "Ordered by mistake")
        .unwrap();
    rig.sync().await;

    let store = rig.store_order(GB, &id);
    assert!(store.cancelled_at.is_some(), "the store order is cancelled");
    assert!(
        !store.cancel_requests[0].restock,
        "{:?}",
        store.cancel_requests
    );
    assert!(store.refunds.is_empty());
    assert_eq!(
        (stock(&rig, KNOWN_SKU), stock(&rig, OTHER_SKU)),
        before,
        "shipped units stay out of stock although restock_on_cancel is on"
    );
    assert_eq!(
        pushed_to_tiktok(&rig),
        0,
        "no tracking for a cancelled order"
    );
    let why = stuck_reason(&rig, &id).await.expect("listed as stuck");
    assert!(
        why.starts_with("TikTok cancelled and refunded after the store shipped: intercept the parcel with UPS, tracking 1Z999AA10000000077, or expect a return (cancelled by the buyer at "),
        "{why}"
    );
    let order = rig.order(&id);
    assert!(
        order.timeline.iter().any(|e| e
            .text
            .contains("shipped, so not put back: 2 × CRO-00, 1 × CRO-01")),
        "{:#?}",
        order.timeline
    );

    assert_eq!(parcels(&rig).await, 1, "counted for the link on its own");
    assert_eq!(rig.view(OrderView::Parcels).await[0].id, id);
    let scraped = scrape(&rig, "/metrics", true).await;
    let line = format!(
        "orderdeck_parcels_after_cancel{{link=\"{}\",platform=\"Shopify\"}} 1",
        rig.link(GB)
    );
    assert!(
        scraped.2.lines().any(|l| l == line),
        "{line} in:\n{}",
        scraped.2
    );

    // Quiet re-runs change nothing; a viewer may not close it, an empty note is refused.
    rig.sync().await;
    assert_eq!(
        rig.set
            .shopify
            .calls(&rig.store(GB), "orderCancel")
            .unwrap(),
        1
    );
    assert!(stuck_reason(&rig, &id).await.is_some());
    let refused = mark(&rig, Role::Viewer, &id, "UPS ticket 42")
        .await
        .unwrap_err();
    assert!(
        refused.contains("mark a parcel sent after a cancel as handled"),
        "{refused}"
    );
    let empty = mark(&rig, Role::Support, &id, "  ").await.unwrap_err();
    assert!(empty.contains("a note is required"), "{empty}");
    assert!(stuck_reason(&rig, &id).await.is_some());

    mark(
        &rig,
        Role::Support,
        &id,
        "UPS ticket 42, parcel back by Friday",
    )
    .await
    .unwrap();
    assert_eq!(stuck_reason(&rig, &id).await, None, "handled: off the list");
    assert_eq!(parcels(&rig).await, 0);
    let again = mark(&rig, Role::Support, &id, "twice").await.unwrap_err();
    assert!(again.contains("already marked intercepted"), "{again}");
    let audit = rig.audit().await;
    let handled: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "parcel.handled")
        .collect();
    assert_eq!(handled.len(), 4, "every attempt is audited: {handled:#?}");
    assert!(
        handled
            .iter()
            .any(|e| e.reason.as_deref() == Some("UPS ticket 42, parcel back by Friday"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_shipped_order_puts_back_only_the_units_still_in_the_warehouse() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig).await;
    ship(&rig, &id, Some(&[(KNOWN_SKU, 1)]), "1Z999AA10000000078");
    let before = (stock(&rig, KNOWN_SKU), stock(&rig, OTHER_SKU));
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "SYSTEM", "Seller did not ship in time")
        .unwrap();
    rig.sync().await;

    assert!(rig.store_order(GB, &id).cancelled_at.is_some());
    assert_eq!(
        (stock(&rig, KNOWN_SKU), stock(&rig, OTHER_SKU)),
        (before.0 + 1, before.1 + 1),
        "the two unshipped units go back, the shipped one does not"
    );
    let why = stuck_reason(&rig, &id).await.expect("listed as stuck");
    assert!(why.contains("tracking 1Z999AA10000000078"), "{why}");
    assert_eq!(pushed_to_tiktok(&rig), 0);

    // Support closes it from a shell; a misspelt outcome is refused by name.
    rig.close();
    let me = orderdeck::service::identity::Account::current().name;
    let support = rig.config_with_access("support.toml", &format!("support = [\"{me}\"]\n"));
    let typo = rig
        .cli(
            &support,
            &["handled", id.as_str(), "--outcome", "lost", "--note", "x"],
        )
        .await;
    assert!(!typo.status.success());
    let said = String::from_utf8_lossy(&typo.stderr);
    assert!(said.contains("\"lost\" is not an outcome"), "{said}");
    let said = rig
        .cli_ok(
            &support,
            &[
                "handled",
                id.as_str(),
                "--outcome",
                "returned",
                "--note",
                "RMA 4411",
            ],
        )
        .await;
    assert!(said.contains("marked returned"), "{said}");
    let stuck = rig
        .cli_ok(&support, &["orders", "--view", "stuck", "--json"])
        .await;
    assert!(!stuck.contains(id.as_str()), "{stuck}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_before_shipping_restocks_per_the_setting_and_lists_nothing() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig).await;
    let before = (stock(&rig, KNOWN_SKU), stock(&rig, OTHER_SKU));
    rig.set
        .tiktok
        .cancel_order_as(id.as_str(), "BUYER", "Ordered by mistake")
        .unwrap();
    rig.sync().await;

    let store = rig.store_order(GB, &id);
    assert!(store.cancelled_at.is_some());
    assert!(store.cancel_requests[0].restock);
    assert!(store.edits.is_empty());
    assert_eq!(
        (stock(&rig, KNOWN_SKU), stock(&rig, OTHER_SKU)),
        (before.0 + 2, before.1 + 1)
    );
    assert_eq!(stuck_reason(&rig, &id).await, None);
    assert!(rig.order(&id).parcel_after_cancel.is_none());
}
