//! Every client operation against the sandbox, answered the way TikTok answers.

use orderdeck::domain::ids::{PackageId, TiktokOrderId};
use orderdeck::domain::order::{OrderStatus, ShippingType};
use orderdeck::platforms::tiktok::classify::already_done;
use orderdeck::platforms::tiktok::{AppCredentials, TiktokAuth};
use orderdeck::platforms::{ErrorClass, Marketplace, PlatformError};

use crate::tiktok_client::support::*;

fn id(text: &str) -> TiktokOrderId {
    TiktokOrderId::new(text).unwrap()
}

fn code(e: &PlatformError) -> i64 {
    e.code
        .as_deref()
        .and_then(|c| c.parse().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_shop_cipher_is_discovered_once_and_never_sent_to_authorization() {
    let sandbox = start(20).await;
    let client = sandbox.client(GB);
    let shops = client.authorized_shops().await.unwrap();
    assert_eq!(shops.len(), 1);
    assert_eq!(shops[0].cipher, sandbox.shop(GB).cipher);
    assert_eq!(shops[0].id, sandbox.shop(GB).shop_id);
    for _ in 0..3 {
        client.search_orders(whole_history(), None).await.unwrap();
    }
    // One explicit call, one discovery; the sandbox refuses `shop_cipher` on /authorization/*.
    assert_eq!(sandbox.tiktok.calls("get_authorized_shops"), 2);
}

#[tokio::test]
async fn search_and_detail_read_orders_as_the_sandbox_holds_them() {
    let sandbox = start(40).await;
    let client = sandbox.client(US);
    // One window: asking the clock twice could straddle a second.
    let window = whole_history();
    let page = client.search_orders(window, None).await.unwrap();
    assert_eq!(page.items.len(), 40);
    assert!(page.unreadable.is_empty());
    assert!(page.next_page_token.is_none());
    let body = sandbox.tiktok.last_body("search_orders").unwrap();
    assert_eq!(body["update_time_ge"], window.from.timestamp(), "{body}");
    let spec = sandbox.shippable(US);
    let details = client.order_details(&[id(&spec.id)]).await.unwrap().items;
    assert_eq!(details.len(), 1);
    let order = &details[0];
    assert_eq!(order.id.as_str(), spec.id);
    assert_eq!(order.snapshot.status, OrderStatus::AwaitingShipment);
    assert_eq!(order.snapshot.shipping_type, ShippingType::Seller);
    let units: u32 = order.snapshot.lines.iter().map(|l| l.quantity).sum();
    assert_eq!(
        units as usize,
        spec.lines.len(),
        "one line item per unit, grouped"
    );
    assert_eq!(order.snapshot.recipient.country_code, "US");
    assert_eq!(order.snapshot.recipient.city, spec.buyer.city);
    assert_eq!(order.snapshot.recipient.province, spec.buyer.state);
    assert_eq!(order.snapshot.packages[0].id.as_str(), spec.package_id);
    assert_eq!(
        order.snapshot.ship_by.map(|t| t.timestamp()),
        Some(spec.rts_sla_time)
    );
    assert_eq!(order.raw["id"], spec.id.as_str());
}

#[tokio::test]
async fn shipping_providers_of_the_delivery_option() {
    let sandbox = start(5).await;
    let providers = sandbox
        .client(GB)
        .shipping_providers(&sandbox.shop(GB).delivery_option_id)
        .await
        .unwrap();
    let names: Vec<_> = providers.iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"Royal Mail"), "{names:?}");
    assert_eq!(providers.len(), sandbox.shop(GB).providers.len());
}

#[tokio::test]
async fn marking_shipped_in_the_uk_pushes_tracking_once() {
    let sandbox = start(60).await;
    let client = sandbox.client(GB);
    let spec = sandbox.shippable(GB);
    let shipped = client
        .ship(
            &id(&spec.id),
            None,
            &[],
            "RM123456789GB",
            &sandbox.provider(GB),
        )
        .await
        .unwrap();
    assert_eq!(
        shipped.package_id.as_ref().map(PackageId::as_str),
        Some(spec.package_id.as_str())
    );
    let shipments = sandbox.tiktok.shipments(&spec.id);
    assert_eq!(shipments[0].tracking_number, "RM123456789GB");
    assert_eq!(
        shipments[0].provider_id.as_deref(),
        Some(sandbox.provider(GB).as_str())
    );
    assert_eq!(
        sandbox.tiktok.order_status(&spec.id).as_deref(),
        Some("IN_TRANSIT")
    );
    assert_eq!(sandbox.tiktok.calls("ship_package"), 0, "GB ships by order");

    let again = client
        .ship(
            &id(&spec.id),
            None,
            &[],
            "RM123456789GB",
            &sandbox.provider(GB),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (again.class.clone(), code(&again)),
        (ErrorClass::Permanent, 21011020)
    );
    assert!(already_done(code(&again)));
    assert!(again.request_id.is_some());

    let other = sandbox.order(GB, |o| {
        o.status == "AWAITING_SHIPMENT" && o.cancel.is_none() && o.id != spec.id
    });
    let bad_provider = client
        .ship(&id(&other.id), None, &[], "RM000000001GB", "42")
        .await
        .unwrap_err();
    assert_eq!(code(&bad_provider), 21011022);
    assert!(
        bad_provider
            .message
            .contains("tracking number or the shipping provider"),
        "{}",
        bad_provider.message
    );
    let duplicate = client
        .ship(
            &id(&other.id),
            None,
            &[],
            "RM123456789GB",
            &sandbox.provider(GB),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&duplicate), 21011025);
}

#[tokio::test]
async fn shipping_part_of_an_order_splits_a_package() {
    let sandbox = start(80).await;
    let client = sandbox.client(US);
    let spec = sandbox.order(US, |o| {
        o.status == "AWAITING_SHIPMENT" && o.cancel.is_none() && o.lines.len() >= 2
    });
    let first_unit = vec![spec.lines[0].line_item_id.clone()];
    let shipped = client
        .ship(
            &id(&spec.id),
            None,
            &first_unit,
            "1Z999AA10123456784",
            &sandbox.provider(US),
        )
        .await
        .unwrap();
    assert_ne!(
        shipped.package_id.as_ref().map(PackageId::as_str),
        Some(spec.package_id.as_str()),
        "a new package"
    );
    assert_eq!(
        sandbox.tiktok.last_body("mark_package_as_shipped").unwrap()["order_line_item_ids"][0],
        first_unit[0].as_str()
    );
    assert_eq!(
        sandbox.tiktok.order_status(&spec.id).as_deref(),
        Some("PARTIALLY_SHIPPING")
    );
    let order = client
        .order_details(&[id(&spec.id)])
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(order.snapshot.packages.len(), 2);
}

#[tokio::test]
async fn south_east_asian_shops_ship_the_package_with_self_shipment() {
    let sandbox = start(60).await;
    let client = sandbox.client(ID);
    let spec = sandbox.shippable(ID);
    let package = PackageId::new(&spec.package_id).unwrap();
    let shipped = client
        .ship(
            &id(&spec.id),
            Some(&package),
            &[],
            "JX0000012345",
            &sandbox.provider(ID),
        )
        .await
        .unwrap();
    assert_eq!(shipped.package_id, Some(package));
    let body = sandbox.tiktok.last_body("ship_package").unwrap();
    assert_eq!(body["handover_method"], "DROP_OFF");
    assert_eq!(body["self_shipment"]["tracking_number"], "JX0000012345");
    assert_eq!(
        sandbox.tiktok.order_status(&spec.id).as_deref(),
        Some("AWAITING_COLLECTION")
    );
    assert_eq!(sandbox.tiktok.calls("mark_package_as_shipped"), 0);

    let before = sandbox.tiktok.calls("ship_package");
    let no_package = client
        .ship(&id(&spec.id), None, &[], "JX1", &sandbox.provider(ID))
        .await
        .unwrap_err();
    assert_eq!(no_package.class, ErrorClass::Permanent);
    assert_eq!(
        sandbox.tiktok.calls("ship_package"),
        before,
        "refused before sending"
    );
}

#[tokio::test]
async fn tracking_is_corrected_after_shipping() {
    let sandbox = start(60).await;
    let client = sandbox.client(GB);
    let spec = sandbox.shippable(GB);
    let not_yet = client
        .update_shipping_info(&id(&spec.id), "RM1", &sandbox.provider(GB))
        .await
        .unwrap_err();
    assert_eq!(not_yet.class, ErrorClass::Permanent);
    client
        .ship(
            &id(&spec.id),
            None,
            &[],
            "RM111111111GB",
            &sandbox.provider(GB),
        )
        .await
        .unwrap();
    client
        .update_shipping_info(&id(&spec.id), "RM222222222GB", &sandbox.provider(GB))
        .await
        .unwrap();
    assert_eq!(
        sandbox.tiktok.shipments(&spec.id)[0].tracking_number,
        "RM222222222GB"
    );
}

#[tokio::test]
async fn labels_exist_for_tiktok_shipped_orders_and_download_as_pdf() {
    let sandbox = start(120).await;
    let client = sandbox.client(GB);
    let spec = sandbox.order(GB, |o| {
        o.shipping_type == "TIKTOK" && o.status == "AWAITING_COLLECTION"
    });
    let label = client
        .shipping_document(&PackageId::new(&spec.package_id).unwrap())
        .await
        .unwrap();
    assert!(
        label.url.starts_with(&sandbox.tiktok.api_base()),
        "{}",
        label.url
    );
    assert!(label.tracking_number.is_some());
    let pdf = client.download(&label.url).await.unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.ends_with(b"%%EOF\n"));

    let seller = sandbox.order(GB, |o| {
        o.shipping_type == "SELLER" && o.status == "AWAITING_COLLECTION"
    });
    let e = client
        .shipping_document(&PackageId::new(&seller.package_id).unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        (e.class.clone(), code(&e)),
        (ErrorClass::Permanent, 21008017)
    );
    let unarranged = sandbox.order(GB, |o| {
        o.shipping_type == "TIKTOK" && o.status == "AWAITING_SHIPMENT"
    });
    let e = client
        .shipping_document(&PackageId::new(&unarranged.package_id).unwrap())
        .await
        .unwrap_err();
    assert_eq!(code(&e), 21023035);
    let expired = client
        .download(&format!(
            "{}/sandbox/documents/nope.pdf",
            sandbox.tiktok.api_base()
        ))
        .await
        .unwrap_err();
    assert_eq!(
        expired.class,
        ErrorClass::Permanent,
        "a 403 from the document host"
    );
    let plain_http = client
        .download("http://example.com/label.pdf")
        .await
        .unwrap_err();
    assert!(plain_http.message.contains("not https"));
}

#[tokio::test]
async fn an_auth_code_is_exchanged_once_for_tokens() {
    let sandbox = start(1).await;
    let shop = sandbox.shop(US);
    let auth = TiktokAuth::new(
        AppCredentials::new(&shop.app_key, &shop.app_secret),
        sandbox.tiktok.auth_base(),
        Default::default(),
        std::sync::Arc::new(orderdeck::domain::SystemClock),
    )
    .unwrap();
    let code_ = sandbox.tiktok.issue_auth_code(&shop.name).unwrap();
    let grant = auth.exchange_auth_code(&code_).await.unwrap();
    assert_eq!(
        Some(grant.tokens.access_token.clone()),
        sandbox.tiktok.access_token(&shop.name)
    );
    assert_eq!(
        grant.tokens.refresh_expires_at.map(|t| t.timestamp()),
        Some(shop.refresh_expires_at)
    );
    assert_eq!(grant.seller_base_region.as_deref(), Some("US"));
    let reused = auth.exchange_auth_code(&code_).await.unwrap_err();
    assert_eq!(
        (reused.class.clone(), code(&reused)),
        (ErrorClass::Permanent, 36004004)
    );
}

#[tokio::test]
async fn a_call_to_the_wrong_host_gets_a_bare_404() {
    let sandbox = start(1).await;
    let shop = sandbox.shop(US);
    // The token endpoint lives on the auth host; the API host does not know it.
    let misdirected = TiktokAuth::new(
        AppCredentials::new(&shop.app_key, &shop.app_secret),
        sandbox.tiktok.api_base(),
        Default::default(),
        std::sync::Arc::new(orderdeck::domain::SystemClock),
    )
    .unwrap();
    let e = misdirected.refresh(&shop.refresh_token).await.unwrap_err();
    assert_eq!(
        (e.class.clone(), e.http_status),
        (ErrorClass::Permanent, Some(404))
    );
    assert!(
        e.message.contains("without a TikTok envelope"),
        "{}",
        e.message
    );
}
