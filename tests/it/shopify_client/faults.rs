//! Each fault the sandbox can act out, and the class the client must end in. The one that
//! matters most: a create whose answer is lost is `Ambiguous` (never retried blindly), the
//! order exists, and `find_order` finds exactly that one. Also throttling: what a `THROTTLED`
//! answer says, and that pacing keeps a burst from ever getting one.

use std::time::{Duration, Instant};

use orderdeck::domain::ids::{StorefrontOrderId, TiktokOrderId};
use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::platforms::http::Timeouts;
use orderdeck::platforms::shopify::ShopifyClient;
use orderdeck::platforms::{ErrorClass, Storefront};
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::shopify::{BucketLimits, SandboxOptions};

use crate::shopify_client::support::{STORE, harness, harness_with};

/// After a lost create: the store has exactly one order for the TikTok order, and the client
/// finds it.
async fn exactly_one_order_exists(
    h: &crate::shopify_client::support::Harness,
    client: &ShopifyClient,
    tiktok: &str,
) {
    let held: Vec<_> = h
        .sandbox
        .orders(STORE)
        .unwrap()
        .into_iter()
        .filter(|o| o.source_identifier.as_deref() == Some(tiktok))
        .collect();
    assert_eq!(held.len(), 1, "the write was applied once");
    let found = client
        .find_order(&TiktokOrderId::new(tiktok).unwrap())
        .await
        .unwrap()
        .expect("find_order sees the order the lost answer created");
    assert_eq!(found.order_id.as_str(), held[0].id);
}

#[tokio::test]
async fn a_create_dropped_after_the_write_is_ambiguous_and_found_again() {
    let h = harness().await;
    let client = h.client();
    h.sandbox
        .faults()
        .inject("orderCreate", FaultKind::DropAfterWrite, 1);
    let err = client
        .create_order(&h.draft("576410000000000001", "CRO-00", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Ambiguous, "{err}");
    assert_eq!(
        h.sandbox.calls(STORE, "orderCreate").unwrap(),
        1,
        "not retried"
    );
    exactly_one_order_exists(&h, &client, "576410000000000001").await;
}

#[tokio::test]
async fn a_create_that_times_out_is_ambiguous() {
    let h = harness().await;
    let mut config = h.config("2025-10");
    config.timeouts = Timeouts {
        connect: Duration::from_secs(1),
        request: Duration::from_millis(300),
    };
    let client = ShopifyClient::new(&config).unwrap();
    h.sandbox
        .faults()
        .inject("orderCreate", FaultKind::Timeout, 1);
    let err = client
        .create_order(&h.draft("576410000000000002", "CRO-00", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Ambiguous, "{err}");
    assert!(err.message.contains("timed out"), "{}", err.message);
    // This time nothing was written, and the read-back says so.
    let found = client
        .find_order(&TiktokOrderId::new("576410000000000002").unwrap())
        .await
        .unwrap();
    assert_eq!(found, None);
}

#[tokio::test]
async fn server_errors_are_ambiguous_on_writes_and_retried_on_reads() {
    let h = harness().await;
    let client = h.client();
    h.sandbox
        .faults()
        .inject("productVariants", FaultKind::ServerError, 1);
    let err = client.lookup_skus(&["CRO-00".into()]).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::RetryLater { after: None });
    assert_eq!(err.http_status, Some(500));
    assert!(err.request_id.is_some());

    h.sandbox
        .faults()
        .inject("orderCreate", FaultKind::ServerError, 1);
    let err = client
        .create_order(&h.draft("576410000000000003", "CRO-00", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Ambiguous);
    // A 500 from Shopify applied nothing; the read-back is what tells the engine so.
    let found = client
        .find_order(&TiktokOrderId::new("576410000000000003").unwrap())
        .await
        .unwrap();
    assert_eq!(found, None);
}

#[tokio::test]
async fn malformed_json_is_ambiguous_on_writes_and_retried_on_reads() {
    let h = harness().await;
    let client = h.client();
    h.sandbox
        .faults()
        .inject("orderCreate", FaultKind::MalformedJson, 1);
    let err = client
        .create_order(&h.draft("576410000000000004", "CRO-00", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Ambiguous, "{err}");
    exactly_one_order_exists(&h, &client, "576410000000000004").await;

    h.sandbox
        .faults()
        .inject("order", FaultKind::MalformedJson, 1);
    let id = StorefrontOrderId::new(h.sandbox.orders(STORE).unwrap()[0].id.clone()).unwrap();
    let err = client.get_order(&id).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::RetryLater { after: None });
}

#[tokio::test]
async fn a_lost_create_answer_behind_a_gateway_is_ambiguous() {
    let h = harness().await;
    let client = h.client();
    h.sandbox.set_order_create_ambiguous(true);
    let err = client
        .create_order(&h.draft("576410000000000005", "CRO-00", 1))
        .await
        .unwrap_err();
    h.sandbox.set_order_create_ambiguous(false);
    assert_eq!(
        (err.class.clone(), err.http_status),
        (ErrorClass::Ambiguous, Some(502))
    );
    exactly_one_order_exists(&h, &client, "576410000000000005").await;
}

#[tokio::test]
async fn throttled_answers_say_when_the_bucket_will_hold_the_query() {
    // A slow refill, so the wait is well above timing noise: 5 points per second.
    let h = harness_with(SandboxOptions {
        bucket: BucketLimits {
            maximum_available: 100.0,
            restore_rate: 5.0,
        },
        ..SandboxOptions::default()
    })
    .await;
    let client = h.client();
    let id = StorefrontOrderId::new("gid://shopify/Order/1").unwrap();
    // Another app empties the bucket before this client has seen it: its first request goes.
    h.sandbox.drain_bucket(STORE).unwrap();
    let err = client.get_order(&id).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("THROTTLED"));
    // getOrder costs 3 (order, fulfillments, trackingInfo): (3 - 0) / 5 s.
    assert_eq!(
        err.class,
        ErrorClass::RetryLater {
            after: Some(Duration::from_millis(600))
        }
    );
    assert_eq!(h.sandbox.throttled(STORE).unwrap(), 1);
}

#[tokio::test]
async fn an_injected_throttle_is_retried_later() {
    let h = harness().await;
    let client = h.client();
    h.sandbox
        .faults()
        .inject("productVariants", FaultKind::RateLimited, 1);
    let err = client.lookup_skus(&["CRO-00".into()]).await.unwrap_err();
    assert!(
        matches!(err.class, ErrorClass::RetryLater { after: Some(_) }),
        "{err:?}"
    );
    assert_eq!(err.code.as_deref(), Some("THROTTLED"));
    // The next call goes through.
    assert!(client.lookup_skus(&["CRO-00".into()]).await.is_ok());
}

#[tokio::test]
async fn latency_is_waited_out() {
    let h = harness().await;
    let client = h.client();
    h.sandbox.faults().inject(
        "productVariants",
        FaultKind::Latency(Duration::from_millis(300)),
        1,
    );
    let started = Instant::now();
    client.lookup_skus(&["CRO-00".into()]).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_is_retried_even_for_writes() {
    let h = harness().await;
    let mut config = h.config("2025-10");
    // Nothing listens on port 1.
    config.api_base = Some(format!("http://127.0.0.1:1/{}", h.spec.shop_domain));
    let client = ShopifyClient::new(&config).unwrap();
    let err = client
        .create_order(&h.draft("576410000000000006", "CRO-00", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RetryLater { after: None }, "{err}");
}

#[tokio::test]
async fn a_cancel_job_that_does_not_finish_in_time_is_ambiguous() {
    let h = harness_with(SandboxOptions {
        cancel_delay: Duration::from_secs(30),
        ..SandboxOptions::default()
    })
    .await;
    let mut config = h.config("2025-10");
    config.cancel_confirm_within = Duration::from_millis(400);
    let client = ShopifyClient::new(&config).unwrap();
    let id = StorefrontOrderId::new(h.create(&client, "576410000000000007").await).unwrap();
    let instruction = StorefrontCancelInstruction {
        restock: true,
        note: "Cancelled on TikTok (system)".into(),
    };
    let err = client.cancel_order(&id, &instruction).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Ambiguous, "{err}");
    assert!(
        err.message.contains("not cancelled after"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_cancel_dropped_after_the_write_is_ambiguous_and_safe_to_repeat() {
    let h = harness().await;
    let client = h.client();
    let id = StorefrontOrderId::new(h.create(&client, "576410000000000008").await).unwrap();
    let instruction = StorefrontCancelInstruction {
        restock: false,
        note: "Cancelled on TikTok (seller)".into(),
    };
    h.sandbox
        .faults()
        .inject("orderCancel", FaultKind::DropAfterWrite, 1);
    let err = client.cancel_order(&id, &instruction).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Ambiguous);
    // The engine retries the cancel: the store says it is already cancelled, which succeeds.
    let store = client.cancel_order(&id, &instruction).await.unwrap();
    assert!(store.store.cancelled_at.is_some());
    let held = h.sandbox.order(STORE, id.as_str()).unwrap().unwrap();
    assert_eq!(held.cancel_requests.len(), 1);
    assert!(held.refunds.is_empty());
}

// Pacing: with a small bucket, a burst of concurrent calls is spread over time by the client
// and never throttled by the store once the client has seen the bucket.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_paced_and_never_throttled_once_the_bucket_is_known() {
    let h = harness_with(SandboxOptions {
        bucket: BucketLimits {
            maximum_available: 100.0,
            restore_rate: 50.0,
        },
        ..SandboxOptions::default()
    })
    .await;
    let client = h.client();
    let order = StorefrontOrderId::new(h.create(&client, "576430000000000001").await).unwrap();
    // The first answer told the client the bucket's size; the store sees every request.
    assert!(client.bucket().is_some());
    let burst = 40;
    let calls = (0..burst).map(|i| {
        let client = client.clone();
        let order = order.clone();
        async move {
            if i % 4 == 0 {
                // 5 SKUs: 5 × (2 + 10) = 60 points, well over half the bucket.
                let skus: Vec<String> = ["CRO-00", "CRO-01", "CRO-02", "LIN-12", "DUP-001"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                client.lookup_skus(&skus).await.map(|_| ())
            } else {
                client.get_order(&order).await.map(|_| ())
            }
        }
    });
    // 10 × 60 + 30 × 3 = 690 points requested through a 100-point bucket: without pacing most
    // of the burst would be throttled. (How long it takes is the benchmark's business.)
    let results = futures::future::join_all(calls).await;
    for result in &results {
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!(
        h.sandbox.throttled(STORE).unwrap(),
        0,
        "throttled after the bucket was known"
    );
    let sent = h.sandbox.calls(STORE, "order").unwrap()
        + h.sandbox.calls(STORE, "productVariants").unwrap();
    assert_eq!(sent, burst, "every call went out exactly once");
}
