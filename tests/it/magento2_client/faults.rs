//! Every fault the sandbox acts out, and every refusal Magento answers, ends in the class the
//! engine acts on, with Magento's message (placeholders substituted) and what to fix.

use std::time::Duration;

use orderdeck::domain::ids::StorefrontOrderId;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::error::ErrorClass;
use orderdeck::platforms::magento2::Magento2Client;
use orderdeck::sandbox::faults::FaultKind;

use super::support::*;

#[tokio::test]
async fn a_wrong_or_revoked_token_names_the_store_and_the_fix() {
    let h = harness().await;
    let mut config = h.config();
    config.access_token = "wrong-token".into();
    let wrong = Magento2Client::new(&config).unwrap();
    let e = wrong.lookup_skus(&[SKU_A.into()]).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials, "{e}");
    assert!(e.message.contains(STORE), "names the store: {e}");
    assert!(e.message.contains("access_token"), "says what to fix: {e}");
    assert!(
        e.message.contains("Magento_Sales::actions_view"),
        "parameters substituted: {e}"
    );
    assert_eq!(e.http_status, Some(401));
    let client = h.client();
    h.sandbox.set_token_valid(STORE, false).unwrap();
    let e = client
        .get_order(&StorefrontOrderId::new("1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials);
}

#[tokio::test]
async fn not_found_and_validation_are_permanent_with_magentos_words() {
    let h = harness().await;
    let client = h.client();
    let e = client
        .get_order(&StorefrontOrderId::new("999999").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message
            .contains("The entity that was requested doesn't exist"),
        "{e}"
    );
    assert_eq!(e.http_status, Some(404));
    let e = client
        .get_order(&StorefrontOrderId::new("gid://x").unwrap())
        .await
        .unwrap_err();
    assert!(e.message.contains("not a Magento order id"), "{e}");

    let mut draft = h.draft(&client, "576400000000000202", &[(SKU_A, 1)]).await;
    draft.address.province = "Narnia".into();
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent, "{e}");
    assert!(e.message.contains("Narnia"), "{e}");
    let mut draft = h.draft(&client, "576400000000000203", &[(SKU_A, 1)]).await;
    draft.address.city = String::new();
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent, "{e}");
    // 2.4.9 checks the billing address first (magento2.md).
    assert!(e.message.contains("Please provide billing address"), "{e}");
    assert!(h.sandbox.orders(STORE).unwrap().is_empty());
    h.assert_no_refusals();
}

#[tokio::test]
async fn reads_retry_and_writes_become_ambiguous() {
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000204", &[(SKU_A, 1)]).await;
    let faults = h.sandbox.faults();
    for (endpoint, kind, class) in [
        (
            "products.list",
            FaultKind::ServerError,
            ErrorClass::RetryLater { after: None },
        ),
        (
            "products.list",
            FaultKind::RateLimited,
            ErrorClass::RetryLater {
                after: Some(Duration::from_secs(1)),
            },
        ),
        (
            "products.list",
            FaultKind::MalformedJson,
            ErrorClass::RetryLater { after: None },
        ),
        (
            "products.list",
            FaultKind::Timeout,
            ErrorClass::RetryLater { after: None },
        ),
    ] {
        faults.inject(endpoint, kind, 1);
        let e = client.lookup_skus(&[SKU_A.into()]).await.unwrap_err();
        assert_eq!(e.class, class, "{kind:?}");
    }
    faults.inject(
        "products.list",
        FaultKind::Latency(Duration::from_millis(50)),
        1,
    );
    client.lookup_skus(&[SKU_A.into()]).await.unwrap();
    for kind in [
        FaultKind::ServerError,
        FaultKind::MalformedJson,
        FaultKind::Timeout,
    ] {
        faults.inject("orders.create", kind, 1);
        let e = client.create_order(&draft).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Ambiguous, "{kind:?}: {e}");
    }
    // The 500 applied nothing; the malformed answer and the timeout may have: read back.
    let found = client.find_order(&draft.tiktok_order_id).await.unwrap();
    assert!(found.is_some());
    assert_eq!(
        h.sandbox
            .orders_for(STORE, "576400000000000204")
            .unwrap()
            .len(),
        1
    );
    faults.inject("orders.create", FaultKind::RateLimited, 1);
    let draft = h.draft(&client, "576400000000000205", &[(SKU_A, 1)]).await;
    let e = client.create_order(&draft).await.unwrap_err();
    assert!(matches!(e.class, ErrorClass::RetryLater { .. }), "{e}");
    assert!(
        h.sandbox
            .orders_for(STORE, "576400000000000205")
            .unwrap()
            .is_empty()
    );
    h.assert_no_refusals();
}
