//! Split shipments: each store parcel reaches TikTok as its own package holding exactly its
//! units, with its own tracking number and carrier; a parcel shipped later is pushed later; no
//! unit ships twice; a corrected number goes to TikTok inside its window and for a one-parcel
//! order only, and otherwise the order is stuck with why.

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::order::FlowStatus;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::store::Change;

use crate::engine::support::*;

/// The warehouse ships `units` of the store order in one parcel.
fn ship(rig: &Rig, id: &TiktokOrderId, units: &[(&str, u32)], number: &str, carrier: &str) {
    let (store, order) = (rig.store(GB), rig.store_order(GB, id).id);
    rig.set
        .shopify
        .fulfil_units(&store, &order, units, tracking(number, carrier))
        .expect("shipped");
}

fn provider(rig: &Rig, name: &str) -> String {
    rig.set.scenario.shops[GB]
        .providers
        .iter()
        .find(|(_, n)| n == name)
        .map(|(id, _)| id.clone())
        .unwrap()
}

/// TikTok's packages with tracking: (number, provider id, line ids sorted).
fn packages(rig: &Rig, id: &TiktokOrderId) -> Vec<(String, String, Vec<String>)> {
    let mut list: Vec<_> = rig
        .set
        .tiktok
        .shipments(id.as_str())
        .into_iter()
        .map(|s| {
            let mut lines = s.line_ids;
            lines.sort();
            (s.tracking_number, s.provider_id.unwrap_or_default(), lines)
        })
        .collect();
    list.sort();
    list
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn tiktok_writes(rig: &Rig) -> (usize, usize) {
    (
        rig.set.tiktok.calls("mark_package_as_shipped"),
        rig.set.tiktok.calls("update_shipping_info"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_parcels_become_two_packages_and_a_later_parcel_is_pushed_later() {
    let mut rig = Rig::start().await;
    let (id, known, other) = two_skus_imported(&mut rig, GB).await;
    ship(&rig, &id, &[(KNOWN_SKU, 2)], "1Z999AA10000000001", "UPS");
    rig.sync().await;

    assert_eq!(
        packages(&rig, &id),
        [(
            "1Z999AA10000000001".to_string(),
            provider(&rig, "UPS"),
            sorted(known.clone())
        )],
        "the first parcel holds only the two units it ships"
    );
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("PARTIALLY_SHIPPING")
    );

    // The other unit ships a day later, with another carrier.
    ship(
        &rig,
        &id,
        &[(OTHER_SKU, 1)],
        "9400100000000000000002",
        "USPS",
    );
    rig.sync().await;
    let mut expected = vec![
        (
            "1Z999AA10000000001".to_string(),
            provider(&rig, "UPS"),
            sorted(known),
        ),
        (
            "9400100000000000000002".to_string(),
            provider(&rig, "USPS"),
            other,
        ),
    ];
    expected.sort();
    assert_eq!(packages(&rig, &id), expected);
    assert_eq!(tiktok_writes(&rig), (2, 0));
    let body = rig.set.tiktok.last_body("mark_package_as_shipped").unwrap();
    assert_eq!(
        body["order_line_item_ids"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );

    let order = rig.order(&id);
    assert_eq!(order.pushed_packages.len(), 2);
    assert!(is_done(&order.flows.tracking.status));
    assert!(
        order.timeline.iter().any(|e| e
            .text
            .contains("tracking 9400100000000000000002 (USPS) sent to TikTok for 1 × CRO-01")),
        "{:#?}",
        order.timeline
    );

    // A quiet re-run writes nothing.
    rig.sync().await;
    rig.sync().await;
    assert_eq!(tiktok_writes(&rig), (2, 0));

    // `orderdeck order` shows each package with the units it holds.
    rig.close();
    let me = orderdeck::service::identity::Account::current().name;
    let config = rig.config_with_access("support.toml", &format!("support = [\"{me}\"]\n"));
    let said = rig.cli_ok(&config, &["order", id.as_str()]).await;
    assert!(
        said.contains("1Z999AA10000000001 (UPS)  2 × CRO-00"),
        "{said}"
    );
    assert!(
        said.contains("9400100000000000000002 (USPS)  1 × CRO-01"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_parcel_for_everything_is_one_package_for_every_unit() {
    let mut rig = Rig::start().await;
    let (id, known, other) = two_skus_imported(&mut rig, GB).await;
    ship(
        &rig,
        &id,
        &[(KNOWN_SKU, 2), (OTHER_SKU, 1)],
        "1Z999AA10000000003",
        "UPS",
    );
    rig.sync().await;
    let all = sorted(known.into_iter().chain(other).collect());
    assert_eq!(
        packages(&rig, &id),
        [("1Z999AA10000000003".to_string(), provider(&rig, "UPS"), all)]
    );
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("IN_TRANSIT")
    );
    assert_eq!(tiktok_writes(&rig), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_number_goes_inside_the_window_and_is_stuck_with_why_after_it() {
    let mut rig = Rig::start().await;
    let (id, _, _) = two_skus_imported(&mut rig, GB).await;
    ship(
        &rig,
        &id,
        &[(KNOWN_SKU, 2), (OTHER_SKU, 1)],
        "1Z999AA10000000004",
        "UPS",
    );
    rig.sync().await;
    let store = (rig.store(GB), rig.store_order(GB, &id).id);

    // Corrected soon after: TikTok takes it.
    rig.set
        .shopify
        .update_tracking(&store.0, &store.1, tracking("1Z999AA10000000005", "UPS"))
        .unwrap();
    rig.sync().await;
    assert_eq!(tiktok_writes(&rig), (1, 1));
    assert_eq!(packages(&rig, &id)[0].0, "1Z999AA10000000005");

    // The parcel went out four days ago; the store corrects its number again: too late.
    let mut order = rig.order(&id);
    order.pushed_packages[0].at = chrono::Utc::now() - chrono::Duration::days(4);
    rig.engine()
        .store()
        .apply(&Change {
            orders: vec![order],
            ..Change::default()
        })
        .unwrap();
    rig.set
        .shopify
        .update_tracking(&store.0, &store.1, tracking("1Z999AA10000000006", "UPS"))
        .unwrap();
    rig.sync().await;
    assert_eq!(tiktok_writes(&rig), (1, 1), "no write after the window");
    let order = rig.order(&id);
    let FlowStatus::Stuck { reason } = &order.flows.tracking.status else {
        panic!("{:?}", order.flows.tracking.status)
    };
    assert!(
        reason.contains(
            "from 1Z999AA10000000005 to 1Z999AA10000000006 more than 72 hours after it shipped"
        ),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_number_on_one_of_two_parcels_is_stuck_naming_the_package() {
    let mut rig = Rig::start().await;
    let (id, _, _) = two_skus_imported(&mut rig, GB).await;
    ship(&rig, &id, &[(KNOWN_SKU, 2)], "1Z999AA10000000007", "UPS");
    rig.sync().await;
    ship(&rig, &id, &[(OTHER_SKU, 1)], "1Z999AA10000000008", "UPS");
    rig.sync().await;
    let store = (rig.store(GB), rig.store_order(GB, &id).id);
    rig.set
        .shopify
        .update_tracking(&store.0, &store.1, tracking("1Z999AA10000000009", "UPS"))
        .unwrap();
    rig.sync().await;

    assert_eq!(tiktok_writes(&rig), (2, 0));
    let order = rig.order(&id);
    let FlowStatus::Stuck { reason } = &order.flows.tracking.status else {
        panic!("{:?}", order.flows.tracking.status)
    };
    assert!(
        reason.contains(
            "one of this order's 2 parcels from 1Z999AA10000000008 to 1Z999AA10000000009"
        ),
        "{reason}"
    );
    assert!(reason.contains("in TikTok Seller Center"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_that_ships_by_package_is_told_to_ship_tiktoks_packages_whole() {
    let mut rig = Rig::with(Options {
        shops: 3,
        ..Options::default()
    })
    .await;
    assert_eq!(rig.set.scenario.shops[ID].region, "ID");
    let (id, _, _) = two_skus_imported(&mut rig, ID).await;
    let (store, order) = (rig.store(ID), rig.store_order(ID, &id).id);
    rig.set
        .shopify
        .fulfil_units(
            &store,
            &order,
            &[(KNOWN_SKU, 2)],
            tracking("SCP0012345", "SiCepat"),
        )
        .unwrap();
    rig.sync().await;

    assert_eq!(
        rig.set.tiktok.calls("ship_package"),
        0,
        "no package shipped in part"
    );
    let order = rig.order(&id);
    let FlowStatus::Stuck { reason } = &order.flows.tracking.status else {
        panic!("{:?}", order.flows.tracking.status)
    };
    assert!(
        reason.contains("in region ID a package ships whole, so ship the parcels as TikTok packed them or split the package in TikTok Seller Center"),
        "{reason}"
    );
}

/// A unit TikTok cancelled is no longer the package's to ship: the store's one parcel of
/// everything left ships TikTok's package whole. Also when the partial cancel reached
/// orderdeck only through TikTok's cancellation record (its order poll failing), so the
/// packages kept still hold the cancelled unit: TikTok's current order decides before a person
/// is asked to split a package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_that_ships_by_package_ships_it_once_the_cancelled_unit_left_the_store() {
    for (polls_fail, number) in [(false, "SCP0012346"), (true, "SCP0012347")] {
        let mut rig = Rig::with(Options {
            shops: 3,
            ..Options::default()
        })
        .await;
        let (id, _, other) = two_skus_imported(&mut rig, ID).await;
        if polls_fail {
            let polls = rig.set.tiktok.faults();
            polls.sometimes("search_orders", FaultKind::ServerError, 1.0);
        }
        rig.set
            .tiktok
            .cancel_lines_as(id.as_str(), &other, "BUYER", "One was enough")
            .expect("cancelled on TikTok");
        rig.sync().await;
        let (store, order) = (rig.store(ID), rig.store_order(ID, &id));
        assert!(
            order
                .lines
                .iter()
                .all(|l| l.sku != OTHER_SKU || l.current_quantity == 0),
            "the cancelled unit left the store order: {:?}",
            order.lines
        );
        let kept = rig.order(&id).tiktok.packages;
        let stale = kept
            .iter()
            .any(|p| other.iter().all(|unit| p.line_item_ids.contains(unit)));
        assert_eq!(
            stale, polls_fail,
            "orderdeck's copy of the packages: {kept:?}"
        );
        rig.set
            .shopify
            .fulfil(&store, &order.id, tracking(number, "SiCepat"))
            .unwrap();
        rig.sync().await;

        assert_eq!(
            rig.set.tiktok.calls("ship_package"),
            1,
            "polls fail: {polls_fail}"
        );
        let shipped = rig.set.tiktok.shipments(id.as_str());
        assert!(
            shipped.iter().any(|s| s.tracking_number == number),
            "{shipped:?}"
        );
        let tracking = rig.order(&id).flows.tracking;
        assert!(is_done(&tracking.status), "{tracking:?}");
    }
}
