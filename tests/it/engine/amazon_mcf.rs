//! The engine with a link to an Amazon MCF seller: a paid TikTok order becomes exactly one
//! fulfillment order (units counted per SKU, the buyer's address, the link's shipping speed and
//! policy; found again, not made twice, after a dropped answer or any other fault), an unknown
//! SKU is stuck naming the SKU, each package reaches TikTok once with its provider (Amazon
//! Logistics stuck with why where TikTok lists no such provider), a TikTok cancel cancels it
//! while Amazon still can and is listed for a person to intercept the parcel once Amazon is
//! fulfilling it, a Seller Central cancel never reaches TikTok (the link has no such setting,
//! in the service or the CLI). The rig checks that Amazon's model refused no request sent.

use std::time::Duration;

use orderdeck::domain::access::Role;
use orderdeck::domain::cancellation::Direction;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::order::FlowStatus;
use orderdeck::domain::triage::OrderView;
use orderdeck::sandbox::amazon_mcf::{AmazonMcfSandbox, McfOrder};
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::service::api::{Request, Response, ServiceError};

use crate::engine::support::*;

const CREATE: &str = "createFulfillmentOrder";
const CANCEL: &str = "cancelFulfillmentOrder";

async fn rig() -> (Rig, usize) {
    Rig::with_store(Options {
        amazon: true,
        ..Options::default()
    })
    .await
}

fn amazon(rig: &Rig) -> &AmazonMcfSandbox {
    &rig.set.amazon[0]
}

/// The one fulfillment order made for `id` (its `sellerFulfillmentOrderId` is the TikTok id,
/// so there can be no second one under that id; the count of creates says none was refused).
fn fulfillment_order(rig: &Rig, id: &TiktokOrderId) -> McfOrder {
    amazon(rig)
        .order(id.as_str())
        .unwrap_or_else(|| panic!("Amazon has no fulfillment order {id}"))
}

async fn imported(rig: &mut Rig, shop: usize, skus: &[&str]) -> (TiktokOrderId, Vec<String>) {
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, skus);
    let lines = spec.lines.iter().map(|l| l.line_item_id.clone()).collect();
    let id = rig.add(&spec);
    rig.sync().await;
    fulfillment_order(rig, &id);
    (id, lines)
}

async fn stuck_reason(rig: &Rig, id: &TiktokOrderId) -> String {
    rig.view(OrderView::Stuck)
        .await
        .into_iter()
        .find(|row| &row.id == id)
        .map(|row| row.why)
        .unwrap_or_default()
}

/// Everything orderdeck could write, on Amazon and on TikTok.
fn writes(rig: &Rig) -> (u32, u32, usize, usize) {
    (
        amazon(rig).calls(CREATE),
        amazon(rig).calls(CANCEL),
        rig.set.tiktok.calls("mark_package_as_shipped"),
        rig.set.tiktok.calls("cancel_order"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_orders_become_one_fulfillment_order_each_and_a_quiet_rerun_writes_nothing() {
    let (mut rig, shop) = rig().await;
    let ImportMix {
        paid: id,
        paid_spec: spec,
        ghost,
        unpaid,
        on_hold,
    } = rig.add_import_mix(shop);
    // The first create's answer is lost after Amazon took the order.
    amazon(&rig)
        .faults()
        .inject(CREATE, FaultKind::DropAfterWrite, 1);
    rig.sync().await;
    rig.sync().await;

    let order = fulfillment_order(&rig, &id);
    assert_eq!(order.status, "Received");
    let items: Vec<(&str, u32)> = order
        .items
        .iter()
        .map(|i| (i.sku.as_str(), i.quantity))
        .collect();
    assert_eq!(
        items,
        vec![(KNOWN_SKU, 2), (OTHER_SKU, 1)],
        "one item per SKU, TikTok's per-unit lines counted"
    );
    let request = &order.request;
    assert_eq!(request["displayableOrderId"], id.as_str());
    assert_eq!(request["shippingSpeedCategory"], "Standard");
    assert_eq!(request["fulfillmentPolicy"], "FillOrKill");
    assert!(request.get("featureConstraints").is_none());
    let to = &request["destinationAddress"];
    assert_eq!(
        to["name"],
        format!("{} {}", spec.buyer.first_name, spec.buyer.last_name)
    );
    assert_eq!(to["addressLine1"], spec.buyer.address_line1.as_str());
    assert_eq!(to["city"], spec.buyer.city.as_str());
    assert_eq!(to["postalCode"], spec.buyer.postal_code.as_str());
    assert_eq!(to["countryCode"], "US");
    assert!(
        request.get("notificationEmails").is_none(),
        "the buyer's masked e-mail is never sent"
    );
    let ours = rig.order(&id);
    assert!(
        is_done(&ours.flows.import.status),
        "{:?}",
        ours.flows.import
    );
    assert_eq!(
        ours.store.as_ref().map(|s| s.order_id.as_str().to_string()),
        Some(id.as_str().to_string())
    );

    // Amazon refused the unknown SKU naming an item index: the stuck reason names the SKU.
    let reason = rig
        .order(&ghost)
        .flows
        .import
        .stuck_reason()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.contains(&format!(
            "SKU {GHOST_SKU} is not in Amazon's fulfillment inventory"
        )),
        "{reason}"
    );
    assert!(amazon(&rig).order(ghost.as_str()).is_none());
    for (waiting, words) in [(&unpaid, "UNPAID"), (&on_hold, "ON_HOLD")] {
        let status = rig.order(waiting).flows.import.status;
        assert!(
            matches!(&status, FlowStatus::Waiting { why } if why.contains(words)),
            "{waiting}: {status:?}"
        );
        assert!(amazon(&rig).order(waiting.as_str()).is_none());
    }
    // The dropped answer cost one create; the ghost order one refused create.
    assert_eq!(amazon(&rig).calls(CREATE), 2);

    // Nothing changed: another run writes nothing anywhere.
    let before = writes(&rig);
    rig.sync().await;
    rig.sync().await;
    assert_eq!(writes(&rig), before);
}

const KINDS: [FaultKind; 6] = [
    FaultKind::Latency(Duration::from_millis(300)),
    FaultKind::RateLimited,
    FaultKind::ServerError,
    FaultKind::Timeout,
    FaultKind::MalformedJson,
    FaultKind::DropAfterWrite,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_faults_of_every_kind_still_make_exactly_one_fulfillment_order() {
    let (mut rig, shop) = rig().await;
    for kind in KINDS {
        let before = amazon(&rig).orders().len();
        let id = rig.paid_order(shop);
        amazon(&rig).faults().inject(CREATE, kind, 1);
        rig.sync().await;
        rig.sync().await;
        let order = rig.order(&id);
        assert!(
            is_done(&order.flows.import.status),
            "{kind:?}: {:?}",
            order.flows.import
        );
        assert_eq!(amazon(&rig).orders().len(), before + 1, "{kind:?}");
        assert_eq!(fulfillment_order(&rig, &id).items[0].quantity, 1);
    }
    // A change poll that fails is retried from the same place: nothing is missed.
    let (id, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    amazon(&rig)
        .faults()
        .inject("listAllFulfillmentOrders", FaultKind::ServerError, 1);
    amazon(&rig)
        .ship(
            id.as_str(),
            &[("UPS", "1Z999AA10000000009", &[(KNOWN_SKU, 1)])],
        )
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 1, "{shipments:?}");

    // The access token expires mid-run: one new token, and the work goes on.
    let tokens = amazon(&rig).tokens_issued();
    amazon(&rig).expire_tokens();
    let after_expiry = rig.paid_order(shop);
    rig.sync().await;
    assert!(is_done(&rig.order(&after_expiry).flows.import.status));
    assert_eq!(amazon(&rig).tokens_issued(), tokens + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_faults_of_every_kind_still_cancel_once() {
    let (mut rig, shop) = rig().await;
    for kind in KINDS {
        let (id, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
        amazon(&rig).faults().inject(CANCEL, kind, 1);
        rig.set
            .tiktok
            .cancel_order_as(id.as_str(), "SYSTEM", "Auto-cancelled")
            .unwrap();
        rig.sync().await;
        rig.sync().await;
        rig.sync().await;
        assert_eq!(fulfillment_order(&rig, &id).status, "Cancelled", "{kind:?}");
        let flow = rig.order(&id).flows.cancellation.status;
        assert!(is_done(&flow), "{kind:?}: {flow:?}");
    }
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_package_reaches_tiktok_once_with_its_provider_and_amazon_logistics_waits_with_why() {
    let (mut rig, shop) = rig().await;
    let (id, lines) = imported(&mut rig, shop, &[KNOWN_SKU, KNOWN_SKU, OTHER_SKU]).await;
    amazon(&rig).set_status(id.as_str(), "Planning").unwrap();
    amazon(&rig).set_status(id.as_str(), "Processing").unwrap();
    // One shipment, two packages: the two jumpers with UPS, the other SKU with USPS.
    amazon(&rig)
        .ship(
            id.as_str(),
            &[
                ("UPS", "1Z999AA10000000001", &[(KNOWN_SKU, 2)]),
                ("USPS", "9400111202555842761234", &[(OTHER_SKU, 1)]),
            ],
        )
        .unwrap();
    assert_eq!(fulfillment_order(&rig, &id).status, "Complete");
    rig.sync().await;
    rig.sync().await;
    let shipments = rig.set.tiktok.shipments(id.as_str());
    assert_eq!(shipments.len(), 2, "{shipments:?}");
    let ups = shipments
        .iter()
        .find(|s| s.tracking_number == "1Z999AA10000000001")
        .expect("the UPS package");
    assert_eq!(ups.provider_id, rig.provider_id(shop, "UPS"));
    let mut in_ups = ups.line_ids.clone();
    in_ups.sort();
    let mut jumpers = lines[..2].to_vec();
    jumpers.sort();
    assert_eq!(in_ups, jumpers, "the package holds exactly its two units");
    let usps = shipments
        .iter()
        .find(|s| s.tracking_number == "9400111202555842761234")
        .expect("the USPS package");
    assert_eq!(usps.provider_id, rig.provider_id(shop, "USPS"));
    assert_eq!(usps.line_ids, vec![lines[2].clone()]);
    let pushed = rig.set.tiktok.tracking_writes(id.as_str());
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.tracking_writes(id.as_str()),
        pushed,
        "each package pushed once"
    );

    // Amazon Logistics, which this shop's TikTok lists no provider for: stuck, saying why.
    let (amzl, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    amazon(&rig)
        .ship(
            amzl.as_str(),
            &[("AMZL_US", "TBA304912345000", &[(KNOWN_SKU, 1)])],
        )
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    assert!(rig.set.tiktok.shipments(amzl.as_str()).is_empty());
    let listed = stuck_reason(&rig, &amzl).await;
    assert!(listed.contains("Amazon Logistics"), "{listed}");
    let why = rig
        .order(&amzl)
        .flows
        .tracking
        .stuck_reason()
        .unwrap_or_default()
        .to_string();
    assert!(
        why.contains("Amazon Logistics")
            && why.contains("will not take that tracking")
            && why.contains("block_amazon_logistics"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiktok_cancel_cancels_on_amazon_while_it_can_and_lists_the_parcel_to_intercept_after() {
    let (mut rig, shop) = rig().await;
    let (early, _) = imported(&mut rig, shop, &[KNOWN_SKU, OTHER_SKU]).await;
    amazon(&rig).set_status(early.as_str(), "Planning").unwrap();
    rig.set
        .tiktok
        .cancel_order_as(early.as_str(), "SYSTEM", "Seller did not ship in time")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    rig.sync().await;
    let order = fulfillment_order(&rig, &early);
    assert_eq!(order.status, "Cancelled");
    assert!(order.cancelled_by_api);
    assert_eq!(amazon(&rig).calls(CANCEL), 1);
    assert!(is_done(&rig.order(&early).flows.cancellation.status));
    // Orderdeck's own cancel, seen again by the change poll, does not go back to TikTok.
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);

    // Amazon started picking before TikTok's cancel arrived: nothing is sent to Amazon, and
    // the order is listed with what a person must do.
    let (late, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    amazon(&rig)
        .set_status(late.as_str(), "Processing")
        .unwrap();
    rig.set
        .tiktok
        .cancel_order_as(late.as_str(), "BUYER", "Ordered by mistake")
        .unwrap();
    rig.sync().await;
    rig.sync().await;
    assert_eq!(fulfillment_order(&rig, &late).status, "Processing");
    assert_eq!(
        amazon(&rig).calls(CANCEL),
        1,
        "no cancel Amazon would refuse"
    );
    let why = stuck_reason(&rig, &late).await;
    assert!(
        why.contains("Amazon is already fulfilling it: intercept the parcel"),
        "{why}"
    );
    assert!(why.contains("Processing"), "{why}");

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
    assert_eq!(fulfillment_order(&rig, &off).status, "Received");
    assert_eq!(amazon(&rig).calls(CANCEL), 1, "nothing more was written");
    assert_eq!(
        rig.order(&off).flows.cancellation.status,
        FlowStatus::Skipped {
            why: "cancel_tiktok_to_store is off for this link".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_central_cancel_never_reaches_tiktok_and_the_link_has_no_such_setting() {
    let (mut rig, shop) = rig().await;
    let (id, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    amazon(&rig).cancel_in_seller_central(id.as_str()).unwrap();
    rig.sync().await;
    rig.sync().await;
    assert_eq!(
        rig.set.tiktok.order_status(id.as_str()).as_deref(),
        Some("AWAITING_SHIPMENT")
    );
    assert_eq!(rig.set.tiktok.calls("cancel_order"), 0);
    let ours = rig.order(&id);
    assert!(
        ours.store
            .as_ref()
            .is_some_and(|s| s.cancelled_at.is_some()),
        "the Seller Central cancel is recorded: {:?}",
        ours.store
    );
    for c in rig.cancellations(&id) {
        assert!(
            !(c.direction == Direction::StoreToTiktok && is_done(&c.sync.status)),
            "{c:?}"
        );
    }

    // The service refuses the setting, naming Amazon and the setting…
    let link = rig.link(shop);
    let refused = rig
        .call(
            Role::Admin,
            Request::SetSettings {
                link: link.clone(),
                changes: vec![("cancel_store_to_tiktok".into(), "true".into())],
                expected_version: rig.engine().settings_record(&link).version,
                reason: Some("test".into()),
            },
        )
        .await;
    let said = match refused {
        Err(ServiceError::Invalid { message }) => message,
        other => panic!("accepted or refused otherwise: {other:?}"),
    };
    assert!(
        said.contains("cancel_store_to_tiktok") && said.contains("Amazon MCF"),
        "{said}"
    );
    // …and neither the console's form nor `settings show` offers it; the Amazon ones are there.
    let view = match rig
        .call(Role::Viewer, Request::Settings { link: link.clone() })
        .await
    {
        Ok(Response::Settings(view)) => view,
        other => panic!("settings: {other:?}"),
    };
    let keys: Vec<&str> = view.fields.iter().map(|(k, _, _)| k.as_str()).collect();
    assert!(!keys.contains(&"cancel_store_to_tiktok"), "{keys:?}");
    assert!(!keys.contains(&"default_cancel_reason"), "{keys:?}");
    for key in [
        "shipping_speed",
        "fulfillment_policy",
        "block_amazon_logistics",
    ] {
        assert!(keys.contains(&key), "{key}: {keys:?}");
    }

    // The command line says the same and changes nothing.
    rig.close();
    let config = rig.config_path.clone();
    let out = rig
        .cli(
            &config,
            &[
                "settings",
                "set",
                link.as_str(),
                "cancel_store_to_tiktok",
                "true",
            ],
        )
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cancel_store_to_tiktok: this setting does not exist for Amazon MCF links"),
        "{stderr}"
    );
    let shown = rig
        .cli_ok(&config, &["settings", "show", link.as_str()])
        .await;
    assert!(!shown.contains("cancel_store_to_tiktok"), "{shown}");
    assert!(shown.contains("shipping_speed"), "{shown}");
    rig.reopen();
    assert!(!rig.engine().settings(&link).cancel_store_to_tiktok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_links_speed_policy_and_amazon_logistics_block_go_with_new_orders() {
    let (mut rig, shop) = rig().await;
    rig.settings(
        shop,
        &[
            ("shipping_speed", "Expedited"),
            ("fulfillment_policy", "FillAllAvailable"),
            ("block_amazon_logistics", "on"),
        ],
    )
    .await;
    let (id, _) = imported(&mut rig, shop, &[KNOWN_SKU]).await;
    let order = fulfillment_order(&rig, &id);
    assert_eq!(order.request["shippingSpeedCategory"], "Expedited");
    assert_eq!(order.request["fulfillmentPolicy"], "FillAllAvailable");
    assert!(order.blocks_amazon_logistics(), "{}", order.request);
    // Amazon keeps it away from Amazon Logistics.
    assert!(
        amazon(&rig)
            .ship(id.as_str(), &[("AMZL_US", "TBA1", &[(KNOWN_SKU, 1)])])
            .is_err()
    );
}
