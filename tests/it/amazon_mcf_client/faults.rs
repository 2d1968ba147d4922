//! Faults, tokens and rate limits: every fault kind ends in the class the engine needs, a lost
//! answer to a create never makes a second fulfillment order, an expired token is renewed
//! once, and pacing keeps a busy client under Amazon's limits.

use std::time::{Duration, Instant};

use orderdeck::platforms::{ErrorClass, Storefront};
use orderdeck::sandbox::faults::FaultKind;

use super::support::*;

#[tokio::test]
async fn a_dropped_connection_after_create_is_ambiguous_and_the_read_back_finds_the_one_order() {
    let h = harness().await;
    let client = h.client();
    h.sandbox
        .faults()
        .inject("createFulfillmentOrder", FaultKind::DropAfterWrite, 1);
    let d = draft("576400000000000201", &[(SKU_A, 1)]);
    let err = client.create_order(&d).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Ambiguous, "{err}");
    // What the engine does next: read back, and only create when there is nothing.
    let found = client.find_order(&d.tiktok_order_id).await.unwrap();
    assert!(found.is_some());
    // Even a blind retry answers the same order.
    client.create_order(&d).await.unwrap();
    assert_eq!(h.sandbox.orders().len(), 1);
    h.assert_all_valid();
}

#[tokio::test]
async fn every_fault_kind_ends_in_its_class() {
    let h = harness().await;
    let client = h.client();
    let d = draft("576400000000000202", &[(SKU_A, 1)]);
    let existing = tiktok("576400000000000212");
    client
        .create_order(&draft(existing.as_str(), &[(SKU_B, 1)]))
        .await
        .unwrap();
    let table = [
        (
            "createFulfillmentOrder",
            FaultKind::ServerError,
            ErrorClass::Ambiguous,
        ),
        (
            "createFulfillmentOrder",
            FaultKind::Timeout,
            ErrorClass::Ambiguous,
        ),
        (
            "getFulfillmentOrder",
            FaultKind::ServerError,
            ErrorClass::RetryLater { after: None },
        ),
        (
            "getFulfillmentOrder",
            FaultKind::Timeout,
            ErrorClass::RetryLater { after: None },
        ),
        (
            "getFulfillmentOrder",
            FaultKind::MalformedJson,
            ErrorClass::RetryLater { after: None },
        ),
    ];
    for (operation, kind, class) in table {
        h.sandbox.faults().inject(operation, kind, 1);
        let err = if operation == "createFulfillmentOrder" {
            client.create_order(&d).await.unwrap_err()
        } else {
            client.find_order(&existing).await.unwrap_err()
        };
        assert_eq!(err.class, class, "{operation} {kind:?}: {err}");
        h.sandbox.faults().clear();
    }
    // A server error on create applied nothing; a timeout did not either (never answered).
    assert!(h.sandbox.order(d.tiktok_order_id.as_str()).is_none());
    // An injected 429 waits at least one refill interval (2/s → 500 ms).
    h.sandbox
        .faults()
        .inject("getFulfillmentOrder", FaultKind::RateLimited, 1);
    let err = client.find_order(&d.tiktok_order_id).await.unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::RetryLater {
            after: Some(Duration::from_millis(500))
        }
    );
    assert_eq!(err.code.as_deref(), Some("QuotaExceeded"));
    // Latency alone changes nothing.
    h.sandbox.faults().inject(
        "getFulfillmentOrder",
        FaultKind::Latency(Duration::from_millis(50)),
        1,
    );
    assert!(client.find_order(&existing).await.unwrap().is_some());
    // A failing token endpoint is retried later, and names the store.
    let fresh = h.client();
    h.sandbox
        .faults()
        .inject("token", FaultKind::ServerError, 1);
    let err = fresh.find_order(&d.tiktok_order_id).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::RetryLater { after: None });
    assert!(err.message.contains("us-amazon"), "{}", err.message);
    h.assert_all_valid();
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_mid_run_and_a_revoked_app_parks_with_why() {
    let h = harness().await;
    let client = h.client();
    client
        .create_order(&draft("576400000000000203", &[(SKU_A, 1)]))
        .await
        .unwrap();
    assert_eq!(h.sandbox.tokens_issued(), 1);
    h.sandbox.expire_tokens();
    let found = client
        .find_order(&tiktok("576400000000000203"))
        .await
        .unwrap();
    assert!(found.is_some());
    assert_eq!(h.sandbox.tokens_issued(), 2);
    h.sandbox.revoke();
    let err = client
        .find_order(&tiktok("576400000000000203"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RefreshCredentials);
    assert_eq!(err.code.as_deref(), Some("invalid_grant"));
    assert!(
        err.message.contains("authorize the app again"),
        "{}",
        err.message
    );
    h.assert_all_valid();
}

#[tokio::test]
async fn a_token_close_to_expiry_is_renewed_before_it_is_used() {
    // Tokens living 30 s are within the client's renew-ahead minute: each call gets a new one.
    let h = harness_with(|spec| spec.token_life = Duration::from_secs(30)).await;
    let client = h.client();
    client
        .find_order(&tiktok("576400000000000204"))
        .await
        .unwrap();
    client
        .find_order(&tiktok("576400000000000204"))
        .await
        .unwrap();
    assert_eq!(h.sandbox.tokens_issued(), 2);
    assert_eq!(
        h.sandbox.calls("getFulfillmentOrder"),
        2,
        "no call was refused"
    );
}

#[tokio::test]
async fn pacing_keeps_a_burst_under_amazons_limit_with_no_429() {
    // Amazon allows 4 at once then 10/s here; the client is told the same rate and burst.
    let h = harness_with(|spec| {
        spec.rate = 10.0;
        spec.burst = 4;
    })
    .await;
    let mut config = h.config();
    config.rate = 10.0;
    config.burst = 4;
    let client = orderdeck::platforms::amazon_mcf::AmazonMcfClient::new(&config).unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.find_order(&tiktok("576400000000000205")).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), None);
    }
    assert_eq!(h.sandbox.throttled(), 0, "no 429");
    // 3 at once (one of the 4 kept in reserve), 9 more at 10/s: at least 0.8 s (the last
    // one leaves at 0.9 s).
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_real_429_is_waited_out_with_no_lost_work() {
    // The client believes in Amazon's default burst of 30; this seller gets only 2.
    let h = harness_with(|spec| {
        spec.rate = 10.0;
        spec.burst = 2;
    })
    .await;
    let client = h.client();
    let mut waited = 0;
    let mut done = 0;
    while done < 5 {
        match client.find_order(&tiktok("576400000000000206")).await {
            Ok(None) => done += 1,
            Err(e) => {
                let ErrorClass::RetryLater { after: Some(after) } = e.class else {
                    panic!("{e}");
                };
                assert!(after >= Duration::from_millis(100), "{after:?}");
                waited += 1;
                tokio::time::sleep(after).await;
            }
            Ok(Some(_)) => unreachable!(),
        }
    }
    assert!(waited >= 1 && h.sandbox.throttled() as usize == waited);
    // After a 429 the client's bucket is empty: the next calls are paced, not refused again.
    let throttled = h.sandbox.throttled();
    client
        .find_order(&tiktok("576400000000000206"))
        .await
        .unwrap();
    assert!(h.sandbox.throttled() <= throttled + 1);
}
