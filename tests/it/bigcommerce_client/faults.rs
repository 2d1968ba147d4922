//! Every fault the sandbox acts out, and every refusal BigCommerce answers, ends in the class
//! the engine acts on, carrying BigCommerce's message; a create whose answer is lost is found
//! again, never made twice.

use std::time::Duration;

use orderdeck::domain::ids::{StorefrontOrderId, TiktokOrderId};
use orderdeck::platforms::Storefront;
use orderdeck::platforms::bigcommerce::BigcommerceClient;
use orderdeck::platforms::error::ErrorClass;
use orderdeck::sandbox::faults::FaultKind;

use super::support::*;

#[tokio::test]
async fn credentials_problems_say_what_to_fix() {
    let h = harness().await;
    let mut config = h.config();
    config.access_token = "wrong".into();
    let wrong = BigcommerceClient::new(&config).unwrap();
    let e = wrong.lookup_skus(&[SKU_A.into()]).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials, "{e}");
    assert!(e.message.contains("not a valid combination"), "{e}");
    assert!(e.message.contains("access_token"), "says what to fix: {e}");
    assert_eq!(e.http_status, Some(401));
    assert!(
        !e.to_string().contains(&h.spec.access_token),
        "no token in errors"
    );

    let client = h.client();
    let draft = h.draft(&client, "576400000000000201", &[(SKU_A, 1)]).await;
    h.sandbox.set_read_only(STORE, true).unwrap();
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials, "{e}");
    assert!(e.message.contains("required scope"), "{e}");
    assert!(e.message.contains("Orders modify"), "{e}");
    h.sandbox.set_read_only(STORE, false).unwrap();
    h.sandbox.set_token_valid(STORE, false).unwrap();
    let e = client.find_order(&draft.tiktok_order_id).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::RefreshCredentials);
    assert!(h.sandbox.orders(STORE).unwrap().is_empty());
}

#[tokio::test]
async fn not_found_and_refused_creates_are_permanent_with_bigcommerces_message() {
    let h = harness().await;
    let client = h.client();
    let e = client
        .get_order(&StorefrontOrderId::new("999999").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("The requested resource was not found."),
        "{e}"
    );
    assert_eq!(e.http_status, Some(404));

    let mut draft = h.draft(&client, "576400000000000202", &[(SKU_A, 1)]).await;
    draft.lines[0].store_item_id = Some("99999".into());
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent, "{e}");
    assert!(e.message.contains("product 99999 does not exist"), "{e}");
    assert_eq!(e.http_status, Some(400));
    // A product with options needs its variant: naming the product alone is refused.
    let b = h.item(&client, SKU_B).await;
    draft.lines[0].store_item_id = b.split('/').next().map(str::to_string);
    let e = client.create_order(&draft).await.unwrap_err();
    assert!(e.message.contains("variant_id is required"), "{e}");
    assert!(h.sandbox.orders(STORE).unwrap().is_empty());
}

#[tokio::test]
async fn reads_retry_and_writes_become_ambiguous() {
    let h = harness().await;
    let client = h.client();
    // Reads of an order that exists (a 204 has no body to garble).
    let existing = h
        .created(&client, "576400000000000209", &[(SKU_A, 1)])
        .await;
    let tiktok = TiktokOrderId::new(existing.external_order_id.clone()).unwrap();
    let draft = h.draft(&client, "576400000000000203", &[(SKU_A, 1)]).await;
    let faults = h.sandbox.faults();
    for (kind, read_class) in [
        (
            FaultKind::ServerError,
            ErrorClass::RetryLater { after: None },
        ),
        (
            FaultKind::MalformedJson,
            ErrorClass::RetryLater { after: None },
        ),
        (FaultKind::Timeout, ErrorClass::RetryLater { after: None }),
    ] {
        faults.inject("orders.list", kind, 1);
        let e = client.find_order(&tiktok).await.unwrap_err();
        assert_eq!(e.class, read_class, "{kind:?}: {e}");
    }
    faults.inject("orders.create", FaultKind::ServerError, 1);
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    assert!(
        h.sandbox
            .orders_for(STORE, "576400000000000203")
            .unwrap()
            .is_empty(),
        "a 500 applied nothing"
    );
    faults.inject("orders.create", FaultKind::Timeout, 1);
    let e = client.create_order(&draft).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    faults.inject(
        "orders.create",
        FaultKind::Latency(Duration::from_millis(200)),
        1,
    );
    client
        .create_order(&draft)
        .await
        .expect("slow but answered");
    assert_eq!(
        h.sandbox
            .orders_for(STORE, "576400000000000203")
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_found_again_and_not_made_twice() {
    let h = harness().await;
    let client = h.client();
    for (n, kind) in [FaultKind::DropAfterWrite, FaultKind::MalformedJson]
        .into_iter()
        .enumerate()
    {
        let id = format!("57640000000000021{n}");
        let draft = h.draft(&client, &id, &[(SKU_A, 2), (SKU_B, 1)]).await;
        h.sandbox.faults().inject("orders.create", kind, 1);
        let e = client.create_order(&draft).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Ambiguous, "{kind:?}: {e}");
        // The read-back the engine does before trying again.
        let found = client
            .find_order(&TiktokOrderId::new(&id).unwrap())
            .await
            .unwrap()
            .expect("the order was made");
        assert_eq!(found.units_now(), Some(3));
        assert_eq!(h.sandbox.orders_for(STORE, &id).unwrap().len(), 1);
    }
    h.assert_no_refusals();
}

#[tokio::test]
async fn a_lost_cancel_answer_is_settled_by_reading_the_status_back() {
    let h = harness().await;
    let client = h.client();
    let order = h
        .created(&client, "576400000000000204", &[(SKU_A, 1)])
        .await;
    let instruction = orderdeck::domain::rules::cancel::StorefrontCancelInstruction {
        restock: false,
        note: "Cancelled on TikTok".into(),
    };
    h.sandbox
        .faults()
        .inject("orders.update", FaultKind::DropAfterWrite, 1);
    let e = client
        .cancel_order(&store_id(order.id), &instruction)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Ambiguous, "{e}");
    let again = client
        .cancel_order(&store_id(order.id), &instruction)
        .await
        .unwrap();
    assert!(again.store.cancelled_at.is_some());
    assert_eq!(
        h.sandbox.calls(STORE, "orders.update").unwrap(),
        1,
        "one cancel, not two"
    );
    assert_eq!(
        h.record(&order.id.to_string())
            .staff_notes
            .matches("Cancelled on TikTok")
            .count(),
        1
    );
}
