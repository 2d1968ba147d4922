//! Each fault kind the sandbox can act out, and the class the engine gets for it: a write that
//! may have happened is `Ambiguous`, a read that failed is `RetryLater`.

use std::time::Duration;

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::platforms::http::Timeouts;
use orderdeck::platforms::{ErrorClass, Marketplace};
use orderdeck::sandbox::faults::FaultKind;

use crate::tiktok_client::support::*;

const RETRY: ErrorClass = ErrorClass::RetryLater { after: None };

fn id(text: &str) -> TiktokOrderId {
    TiktokOrderId::new(text).unwrap()
}

#[tokio::test]
async fn a_connection_dropped_after_shipping_is_ambiguous_and_the_ship_happened() {
    let sandbox = start(40).await;
    let client = sandbox.client(GB);
    let spec = sandbox.shippable(GB);
    sandbox
        .tiktok
        .faults()
        .inject("mark_package_as_shipped", FaultKind::DropAfterWrite, 1);
    let e = client
        .ship(
            &id(&spec.id),
            None,
            &[],
            "RM555555555GB",
            &sandbox.provider(GB),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    assert_eq!(
        sandbox.tiktok.shipments(&spec.id)[0].tracking_number,
        "RM555555555GB",
        "applied before the drop"
    );
    // Reading back is how the engine resolves it.
    let order = client
        .order_details(&[id(&spec.id)])
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(
        order.snapshot.tracking_number.as_deref(),
        Some("RM555555555GB")
    );
}

#[tokio::test]
async fn a_connection_dropped_during_a_search_is_retried_later() {
    let sandbox = start(10).await;
    let client = sandbox.client(US);
    sandbox
        .tiktok
        .faults()
        .inject("search_orders", FaultKind::DropAfterWrite, 1);
    assert_eq!(
        client
            .search_orders(whole_history(), None)
            .await
            .unwrap_err()
            .class,
        RETRY
    );
    assert_eq!(
        client
            .search_orders(whole_history(), None)
            .await
            .unwrap()
            .items
            .len(),
        10
    );
}

#[tokio::test]
async fn a_timeout_is_ambiguous_for_a_write_and_retried_for_a_read() {
    let sandbox = start(40).await;
    let mut config = sandbox.config(US);
    config.timeouts = Timeouts {
        connect: Duration::from_secs(1),
        request: Duration::from_millis(300),
    };
    let client = sandbox.client_with(config, std::sync::Arc::new(orderdeck::domain::SystemClock));
    let spec = sandbox.shippable(US);
    client.search_orders(whole_history(), None).await.unwrap();

    sandbox
        .tiktok
        .faults()
        .inject("cancel_order", FaultKind::Timeout, 1);
    let e = client
        .cancel_order(&id(&spec.id), &[], "seller_cancel_reason_out_of_stock")
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous);
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert_eq!(
        sandbox.tiktok.order_status(&spec.id).as_deref(),
        Some("AWAITING_SHIPMENT"),
        "a timeout applies nothing"
    );

    sandbox
        .tiktok
        .faults()
        .inject("get_order_detail", FaultKind::Timeout, 1);
    assert_eq!(
        client
            .order_details(&[id(&spec.id)])
            .await
            .unwrap_err()
            .class,
        RETRY
    );
}

#[tokio::test]
async fn malformed_json_is_ambiguous_for_a_write_and_retried_for_a_read() {
    let sandbox = start(40).await;
    let client = sandbox.client(US);
    let spec = sandbox.shippable(US);
    sandbox
        .tiktok
        .faults()
        .inject("mark_package_as_shipped", FaultKind::MalformedJson, 1);
    let e = client
        .ship(
            &id(&spec.id),
            None,
            &[],
            "1Z999AA10000000001",
            &sandbox.provider(US),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous);
    assert_eq!(e.http_status, Some(200));
    sandbox
        .tiktok
        .faults()
        .inject("search_orders", FaultKind::MalformedJson, 1);
    assert_eq!(
        client
            .search_orders(whole_history(), None)
            .await
            .unwrap_err()
            .class,
        RETRY
    );
}

#[tokio::test]
async fn a_server_error_is_ambiguous_for_a_write_and_retried_for_a_read() {
    let sandbox = start(40).await;
    let client = sandbox.client(GB);
    let spec = sandbox.shippable(GB);
    sandbox
        .tiktok
        .faults()
        .inject("mark_package_as_shipped", FaultKind::ServerError, 1);
    let e = client
        .ship(
            &id(&spec.id),
            None,
            &[],
            "RM666666666GB",
            &sandbox.provider(GB),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.class.clone(), e.code.as_deref(), e.http_status),
        (ErrorClass::Ambiguous, Some("36009003"), Some(500))
    );
    assert!(e.request_id.is_some());
    assert!(
        sandbox.tiktok.shipments(&spec.id).is_empty(),
        "nothing applied, but the client cannot know"
    );
    sandbox
        .tiktok
        .faults()
        .inject("get_shipping_providers", FaultKind::ServerError, 1);
    let read = client
        .shipping_providers(&sandbox.shop(GB).delivery_option_id)
        .await
        .unwrap_err();
    assert_eq!(read.class, RETRY);
}

#[tokio::test]
async fn rate_limited_answers_are_retried_later() {
    let sandbox = start(10).await;
    let client = sandbox.client(US);
    sandbox
        .tiktok
        .faults()
        .inject("search_cancellations", FaultKind::RateLimited, 1);
    let e = client
        .search_cancellations(whole_history(), None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.class.clone(), e.code.as_deref(), e.http_status),
        (RETRY, Some("36009002"), Some(429))
    );
    assert_eq!(
        sandbox
            .tiktok
            .rate_report("search_cancellations")
            .answered_429,
        1
    );
    // The pacer holds the next call back about a second, then it goes through.
    let started = std::time::Instant::now();
    client
        .search_cancellations(whole_history(), None)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn latency_only_slows_the_answer() {
    let sandbox = start(10).await;
    let client = sandbox.client(US);
    sandbox.tiktok.faults().inject(
        "get_order_detail",
        FaultKind::Latency(Duration::from_millis(150)),
        1,
    );
    let spec = sandbox.order(US, |_| true);
    let started = std::time::Instant::now();
    assert_eq!(
        client
            .order_details(&[id(&spec.id)])
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
}
