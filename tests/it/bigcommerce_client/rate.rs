//! The store's quota is the store's: after one 429 every other request to that store waits
//! for `X-Rate-Limit-Time-Reset-Ms` too (no second 429), and once `Requests-Left` reaches 0
//! the client pauses before the store has to say no. Nothing is lost: every call succeeds.

use std::time::{Duration, Instant};

use orderdeck::platforms::Storefront;
use orderdeck::sandbox::faults::FaultKind;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_one_429_every_request_to_the_store_waits_for_the_reset() {
    let h = harness().await;
    let client = h.client();
    let order = h
        .created(&client, "576400000000000401", &[(SKU_A, 1)])
        .await;
    let pause = Duration::from_millis(700);
    h.sandbox.set_fault_pause(pause);
    h.sandbox
        .faults()
        .inject("orders.get", FaultKind::RateLimited, 1);
    let started = Instant::now();
    let first = {
        let client = client.clone();
        tokio::spawn(async move { client.get_order(&store_id(order.id)).await })
    };
    // The other requests start after the 429 came back, while the store is paused.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let others: Vec<_> = (0..4)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                let skus = [if n % 2 == 0 { SKU_A } else { SKU_B }.to_string()];
                let found = client.lookup_skus(&skus).await;
                (found, Instant::now())
            })
        })
        .collect();
    first.await.unwrap().expect("waited out and answered");
    for other in others {
        let (found, at) = other.await.unwrap();
        found.expect("answered");
        assert!(
            at - started >= pause,
            "sent only after the reset: {:?}",
            at - started
        );
    }
    assert_eq!(h.sandbox.throttled(STORE).unwrap(), 1, "no second 429");
    assert_eq!(client.throttled_count(), 1);
    h.assert_no_refusals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_pauses_the_client_before_the_store_says_no() {
    let h = harness().await;
    let window = Duration::from_millis(600);
    h.sandbox.set_quota(STORE, 4, window).unwrap();
    let client = h.client();
    client.lookup_skus(&[SKU_A.to_string()]).await.unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..11)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                let sku = if n % 2 == 0 { SKU_A } else { SKU_B };
                client.lookup_skus(&[sku.to_string()]).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every lookup answered");
    }
    // 12 requests at 4 per window: at least two windows after the first.
    assert!(started.elapsed() >= window, "{:?}", started.elapsed());
    assert_eq!(
        h.sandbox.throttled(STORE).unwrap(),
        0,
        "paced, never refused"
    );
    assert_eq!(h.sandbox.calls(STORE, "variants.list").unwrap(), 12);
}
