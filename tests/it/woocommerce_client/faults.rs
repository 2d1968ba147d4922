//! Every fault the sandbox acts out, and every refusal WooCommerce answers, ends in the class
//! the engine acts on, carrying WooCommerce's code and message.

use std::time::Duration;

use orderdeck::domain::ids::{StorefrontOrderId, TiktokOrderId};
use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::error::ErrorClass;
use orderdeck::platforms::woocommerce::WoocommerceClient;
use orderdeck::sandbox::faults::FaultKind;

use super::support::*;

#[tokio::test]
async fn credentials_problems_name_woocommerces_words() {
    let h = harness().await;
    let mut config = h.config();
    config.consumer_secret = "cs_wrong".into();
    let wrong = WoocommerceClient::new(&config).unwrap();
    let e = wrong.lookup_skus(&[SKU_A.into()]).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials, "{e}");
    assert_eq!(
        e.code.as_deref(),
        Some("woocommerce_rest_authentication_error")
    );
    assert!(e.message.contains("Invalid signature"), "{e}");
    assert!(
        e.message.contains("consumer_secret"),
        "says what to fix: {e}"
    );
    assert_eq!(e.http_status, Some(401));

    let client = h.client();
    let draft = h.draft(&client, "576400000000000201", &[(SKU_A, 1)]).await;
    h.sandbox.set_read_only(STORE, true).unwrap();
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials, "{e}");
    assert!(e.message.contains("does not have write permissions"), "{e}");
    h.sandbox.set_read_only(STORE, false).unwrap();

    h.sandbox.set_key_valid(STORE, false).unwrap();
    let e = client.lookup_skus(&[SKU_A.into()]).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials);
    assert!(e.message.contains("Consumer key is invalid."), "{e}");
    assert!(h.sandbox.orders(STORE).unwrap().is_empty());
}

#[tokio::test]
async fn not_found_and_validation_are_permanent_with_code_and_message() {
    let h = harness().await;
    let client = h.client();
    let e = client
        .get_order(&StorefrontOrderId::new("999999").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(
        e.code.as_deref(),
        Some("woocommerce_rest_shop_order_invalid_id")
    );
    assert!(e.message.contains("Invalid ID."), "{e}");
    assert_eq!(e.http_status, Some(404));

    let mut draft = h.draft(&client, "576400000000000202", &[(SKU_A, 1)]).await;
    draft.currency = "XYZ".into();
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent, "{e}");
    assert_eq!(e.code.as_deref(), Some("rest_invalid_param"));
    assert!(e.message.contains("Invalid parameter(s): currency"), "{e}");
    assert!(h.sandbox.orders(STORE).unwrap().is_empty());
}

#[tokio::test]
async fn reads_retry_and_writes_become_ambiguous() {
    let h = harness().await;
    let client = h.client();
    let draft = h.draft(&client, "576400000000000203", &[(SKU_A, 1)]).await;
    let faults = h.sandbox.faults();

    faults.inject("products.list", FaultKind::RateLimited, 1);
    let e = client.lookup_skus(&[SKU_A.into()]).await.unwrap_err();
    assert_eq!(
        e.class,
        ErrorClass::RetryLater {
            after: Some(Duration::from_secs(1))
        }
    );
    assert_eq!(e.http_status, Some(429));

    faults.inject("orders.list", FaultKind::ServerError, 1);
    let tiktok = TiktokOrderId::new("576400000000000203").unwrap();
    let e = client.find_order(&tiktok).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RetryLater { after: None }, "{e}");

    faults.inject("orders.create", FaultKind::ServerError, 1);
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    assert!(e.message.contains("not JSON"), "{e}");
    assert!(client.find_order(&tiktok).await.unwrap().is_none());

    faults.inject("orders.create", FaultKind::Timeout, 1);
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");

    faults.inject("orders.create", FaultKind::MalformedJson, 1);
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    let made = client.find_order(&tiktok).await.unwrap().expect("applied");

    faults.inject(
        "orders.get",
        FaultKind::Latency(Duration::from_millis(50)),
        1,
    );
    assert_eq!(client.get_order(&made.order_id).await.unwrap(), made);

    faults.inject("orders.update", FaultKind::DropAfterWrite, 1);
    let instruction = StorefrontCancelInstruction {
        restock: true,
        note: "Cancelled on TikTok (seller)".into(),
    };
    let e = client
        .cancel_order(&made.order_id, &instruction)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    let retried = client
        .cancel_order(&made.order_id, &instruction)
        .await
        .unwrap();
    assert!(
        retried.put_back.is_empty(),
        "the lost attempt's stock is not claimed"
    );
    let id: u64 = made.order_id.as_str().parse().unwrap();
    let order = h.sandbox.order(STORE, id).unwrap().unwrap();
    let notes = order
        .notes
        .iter()
        .filter(|n| n.note == instruction.note)
        .count();
    assert_eq!(notes, 1, "the retry adds no second note");
    h.assert_no_refusals();
}

#[tokio::test]
async fn an_answer_that_is_not_an_order_is_unknown_not_a_crash() {
    let h = harness().await;
    let client = h.client();
    h.sandbox
        .faults()
        .inject("orders.list", FaultKind::MalformedJson, 1);
    let e = client
        .changed_orders(chrono::Utc::now(), None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::RetryLater { after: None }, "{e}");
}
