//! Tracking: seller-shipped orders get the store's tracking on TikTok once the store fulfils,
//! with the carrier mapped through the link's `carrier_map` or TikTok's provider list (an
//! unmapped carrier is stuck with the fix spelled out); `sync_tracking` off is recorded as
//! skipped; a corrected number goes as an update; SEA shops ship with `self_shipment`; the
//! missing-tracking list shows what is known, by ship-by deadline.

use orderdeck::domain::access::Role;
use orderdeck::domain::ids::{RequestId, TiktokOrderId};
use orderdeck::domain::order::{FlowStatus, OrderStatus};
use orderdeck::domain::request::{RequestStatus, ResyncFlow, TargetOutcome};
use orderdeck::domain::triage::{OrderView, StorefrontKnowledge};
use orderdeck::service::api::{Request, Response};

use crate::engine::support::*;

/// The provider id TikTok lists under `name` for shop `shop`.
fn provider(rig: &Rig, shop: usize, name: &str) -> String {
    rig.set.scenario.shops[shop]
        .providers
        .iter()
        .find(|(_, n)| n == name)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no provider {name}"))
}

/// Imports a new seller-shipped order of `shop` and answers its id.
async fn imported(rig: &mut Rig, shop: usize) -> TiktokOrderId {
    let id = rig.paid_order(shop);
    rig.sync().await;
    rig.store_order(shop, &id);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stores_tracking_reaches_tiktok_once_the_store_fulfils() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig, GB).await;
    assert_eq!(
        rig.order(&id).flows.tracking.status,
        FlowStatus::Waiting {
            why: "the store has not fulfilled the order".into()
        }
    );
    assert!(rig.set.tiktok.shipments(id.as_str()).is_empty());

    rig.fulfil(GB, &id, "JD0001234567", "DPD UK");
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 1, "{shipments:?}");
    assert_eq!(shipments[0].tracking_number, "JD0001234567");
    assert_eq!(
        shipments[0].provider_id.as_deref(),
        Some(provider(&rig, GB, "DPD UK").as_str())
    );
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("IN_TRANSIT")
    );
    let order = rig.order(&id);
    assert!(is_done(&order.flows.tracking.status), "{:?}", order.flows);
    assert_eq!(order.pushed_tracking.as_deref(), Some("JD0001234567"));

    rig.sync().await;
    rig.sync().await;
    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 1);
    assert_eq!(rig.set.tiktok.calls("update_shipping_info"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carriers_map_through_carrier_map_first_and_unmapped_ones_are_stuck_with_the_fix() {
    let mut rig = Rig::start().await;
    // The generated config maps "Royal Mail Tracked 24" to TikTok's "Royal Mail".
    let by_config = imported(&mut rig, GB).await;
    let by_setting = imported(&mut rig, GB).await;
    let by_name = imported(&mut rig, GB).await;
    let unmapped = imported(&mut rig, GB).await;
    rig.settings(GB, &[("carrier_map", "Speedy Freight=Evri")])
        .await;
    rig.fulfil(GB, &by_config, "RM100000001GB", "Royal Mail Tracked 24");
    rig.fulfil(GB, &by_setting, "SF200000002", "Speedy Freight");
    rig.fulfil(GB, &by_name, "US300000003", "usps");
    rig.fulfil(GB, &unmapped, "HP400000004", "Hermes Parcelnet");
    rig.sync().await;

    for (id, name) in [
        (&by_config, "Royal Mail"),
        (&by_setting, "Evri"),
        (&by_name, "USPS"),
    ] {
        let shipments = rig.set.tiktok.shipments(id.as_str());
        assert_eq!(shipments.len(), 1, "{id}: {shipments:?}");
        assert_eq!(
            shipments[0].provider_id.as_deref(),
            Some(provider(&rig, GB, name).as_str()),
            "{id} should ship with {name}"
        );
    }
    assert!(rig.set.tiktok.shipments(unmapped.as_str()).is_empty());
    let reason = "carrier 'Hermes Parcelnet' has no TikTok shipping provider: map it in settings (carrier_map)";
    assert_eq!(
        rig.order(&unmapped).flows.tracking.status,
        FlowStatus::Stuck {
            reason: reason.into()
        }
    );
    let stuck = rig.view(OrderView::Stuck).await;
    assert_eq!(stuck.len(), 1, "{stuck:#?}");
    assert_eq!(stuck[0].why, format!("tracking: {reason}"));

    // The fix, spelled out in the reason: map the carrier. The stuck push waits on that
    // mapping, so it goes again by itself (see `resume.rs`); nobody needs to retry it.
    rig.settings(GB, &[("carrier_map", "Hermes Parcelnet=Evri")])
        .await;
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(unmapped.as_str());
    assert_eq!(
        shipments[0].provider_id.as_deref(),
        Some(provider(&rig, GB, "Evri").as_str())
    );
    assert!(rig.view(OrderView::Stuck).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_sync_off_records_the_order_as_skipped_with_why_and_on_again_pushes_it() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig, GB).await;
    rig.settings(GB, &[("sync_tracking", "off")]).await;
    rig.fulfil(GB, &id, "JD0009999999", "DPD UK");
    rig.sync().await;
    assert!(rig.set.tiktok.shipments(id.as_str()).is_empty());
    assert_eq!(
        rig.order(&id).flows.tracking.status,
        FlowStatus::Skipped {
            why: "sync_tracking is off for this link".into()
        }
    );
    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 0);

    // Back on: the tracking that was skipped goes now.
    rig.settings(GB, &[("sync_tracking", "on")]).await;
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.shipments(id.as_str())[0].tracking_number,
        "JD0009999999"
    );
    assert!(is_done(&rig.order(&id).flows.tracking.status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_skipped_while_off_goes_once_on_however_recently_paid() {
    // The polls no longer re-read the fulfilled order when the setting changes back.
    let mut rig = Rig::with(Options {
        shops: 1,
        overlap: Some(std::time::Duration::ZERO),
        ..Options::default()
    })
    .await;
    rig.settings(GB, &[("sync_tracking", "off")]).await;
    let id = imported(&mut rig, GB).await;
    rig.fulfil(GB, &id, "JD0007777777", "DPD UK");
    rig.sync().await;
    // Store polls ask "changed at or after" in whole seconds: one second on, they no longer
    // return the fulfilled order.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    rig.sync().await;
    assert!(matches!(
        rig.order(&id).flows.tracking.status,
        FlowStatus::Skipped { .. }
    ));

    // Paid minutes ago: not yet on the missing-tracking list, but its tracking must go.
    rig.settings(GB, &[("sync_tracking", "on")]).await;
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 1, "{:?}", rig.order(&id).flows.tracking);
    assert_eq!(shipments[0].tracking_number, "JD0007777777");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_tracking_number_goes_to_tiktok_as_an_update() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig, GB).await;
    rig.fulfil(GB, &id, "JD0000000001", "DPD UK");
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.shipments(id.as_str())[0].tracking_number,
        "JD0000000001"
    );

    // The warehouse typed the number wrong and corrects it in the store.
    let store_id = rig.store_order(GB, &id).id;
    rig.set
        .shopify
        .update_tracking(&rig.store(GB), &store_id, tracking("JD0000000002", "Evri"))
        .unwrap();
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 1);
    assert_eq!(shipments[0].tracking_number, "JD0000000002");
    assert_eq!(
        shipments[0].provider_id.as_deref(),
        Some(provider(&rig, GB, "Evri").as_str())
    );
    assert_eq!(rig.set.tiktok.calls("mark_package_as_shipped"), 1);
    assert_eq!(rig.set.tiktok.calls("update_shipping_info"), 1);
    assert_eq!(
        rig.order(&id).pushed_tracking.as_deref(),
        Some("JD0000000002")
    );

    // Support asks to push it again (TikTok support lost it); an operator approves.
    let answer = rig
        .call(
            Role::Support,
            Request::Resync {
                orders: vec![id.clone()],
                flow: ResyncFlow::Tracking,
                reason: "buyer says the tracking link is dead".into(),
            },
        )
        .await;
    let Ok(Response::Resync(outcome)) = answer else {
        panic!("{answer:?}")
    };
    assert!(!outcome.running, "support requests wait for an operator");
    let request: RequestId = outcome.request;
    rig.sync().await;
    assert_eq!(rig.set.tiktok.calls("update_shipping_info"), 1);
    let answer = rig
        .call(
            Role::Operator,
            Request::Decide {
                request,
                approve: true,
                reason: None,
            },
        )
        .await;
    assert!(matches!(answer, Ok(Response::Done { .. })), "{answer:?}");
    rig.sync().await;
    assert_eq!(rig.set.tiktok.calls("update_shipping_info"), 2);
    assert_eq!(rig.set.tiktok.calls("mark_package_as_shipped"), 1);
    let request = rig.engine().store().request(request).unwrap().unwrap();
    assert!(
        matches!(request.status, RequestStatus::Finished { .. }),
        "{:?}",
        request.status
    );
    let outcome = &request.outcomes[&id];
    assert!(
        matches!(outcome, TargetOutcome::Succeeded { detail } if detail.contains("JD0000000002")),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sea_shops_ship_packages_with_self_shipment() {
    let mut rig = Rig::with(Options {
        shops: 3,
        ..Options::default()
    })
    .await;
    assert_eq!(rig.set.scenario.shops[ID].region, "ID");
    let id = imported(&mut rig, ID).await;
    rig.fulfil(ID, &id, "SCP0012345", "SiCepat");
    rig.sync().await;

    assert_eq!(rig.set.tiktok.calls("ship_package"), 1);
    assert_eq!(rig.set.tiktok.calls("mark_package_as_shipped"), 0);
    let body = rig.set.tiktok.last_body("ship_package").unwrap();
    assert_eq!(body["self_shipment"]["tracking_number"], "SCP0012345");
    assert_eq!(
        body["self_shipment"]["shipping_provider_id"],
        provider(&rig, ID, "SiCepat").as_str()
    );
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments[0].tracking_number, "SCP0012345");
    assert!(is_done(&rig.order(&id).flows.tracking.status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tracking_lists_what_is_known_by_ship_by_deadline() {
    let mut rig = Rig::start().await;
    let two_days_ago = now() - 2 * 86_400;
    let add = |rig: &mut Rig, ship_in_hours: i64, skus: &[&str], shipping: &str| {
        let mut spec = rig.new_order(GB);
        spec.create_time = two_days_ago - 60;
        spec.paid_time = Some(two_days_ago);
        spec.rts_sla_time = now() + ship_in_hours * 3600;
        spec.shipping_type = shipping.into();
        set_lines(&mut spec, skus);
        rig.add(&spec)
    };
    let never_in_store = add(&mut rig, 30, &[GHOST_SKU], "SELLER");
    let not_fulfilled = add(&mut rig, 5, &[KNOWN_SKU], "SELLER");
    let no_number = add(&mut rig, -2, &[KNOWN_SKU], "SELLER");
    let pushed = add(&mut rig, 1, &[KNOWN_SKU], "SELLER");
    let tiktok_ships = add(&mut rig, 2, &[KNOWN_SKU], "TIKTOK");
    let fresh = rig.paid_order(GB);
    rig.sync().await;
    rig.fulfil(GB, &no_number, "", "DPD UK");
    rig.fulfil(GB, &pushed, "JD0000000777", "DPD UK");
    rig.sync().await;

    let rows = rig.view(OrderView::MissingTracking).await;
    let listed: Vec<(&TiktokOrderId, Option<StorefrontKnowledge>, &str)> = rows
        .iter()
        .map(|r| (&r.id, r.knowledge, r.why.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                &no_number,
                Some(StorefrontKnowledge::FulfilledWithoutTracking),
                "fulfilled without tracking"
            ),
            (
                &not_fulfilled,
                Some(StorefrontKnowledge::NotFulfilled),
                "in the store, not fulfilled"
            ),
            (
                &never_in_store,
                Some(StorefrontKnowledge::NeverReachedStore),
                "never reached the store"
            ),
        ],
        "not listed: {pushed} (tracking on TikTok), {tiktok_ships} (TikTok ships), {fresh} (paid minutes ago)"
    );
    assert!(rows[0].ship_by < rows[1].ship_by && rows[1].ship_by < rows[2].ship_by);
    assert_eq!(rows[0].urgency, orderdeck::domain::triage::Urgency::Overdue);
    assert!(rows.iter().all(|r| r.tiktok_status == "AWAITING_SHIPMENT"));
    rig.sync().await;
    assert_eq!(rig.order(&pushed).tiktok.status, OrderStatus::InTransit);
    assert_eq!(rig.view(OrderView::MissingTracking).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_map_names_only_providers_tiktok_lists_for_the_shop() {
    let mut rig = Rig::start().await;
    imported(&mut rig, GB).await;
    let link = rig.link(GB);
    let set = |value: &str| Request::SetSettings {
        link: link.clone(),
        changes: vec![("carrier_map".into(), value.into())],
        expected_version: rig.engine().settings_record(&link).version,
        reason: Some("mapping".into()),
    };

    let refused = rig
        .call(Role::Operator, set("Hermes Parcelnet=Royal Mial"))
        .await;
    let message = format!("{refused:?}");
    assert!(refused.is_err(), "{message}");
    assert!(
        message.contains("no shipping provider \\\"Royal Mial\\\"")
            && message.contains("closest: Royal Mail"),
        "{message}"
    );
    assert!(
        !rig.engine()
            .settings(&link)
            .carrier_map
            .contains_key("Hermes Parcelnet")
    );

    // Names are matched as TikTok spells them, whatever the case; the form offers them.
    let view = rig
        .settings(GB, &[("carrier_map", "Hermes Parcelnet=evri")])
        .await;
    assert!(
        view.providers.iter().any(|p| p == "Evri"),
        "{:?}",
        view.providers
    );
    rig.fulfil(
        GB,
        &rig.view(OrderView::All).await[0].id.clone(),
        "HP400000004",
        "Hermes Parcelnet",
    );
    rig.sync().await;
    assert_eq!(rig.view(OrderView::Stuck).await.len(), 0);
}
