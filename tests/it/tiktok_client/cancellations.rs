//! Cancellations both ways: the seller's answer to buyer requests (idempotent), the seller's
//! own cancel under TikTok's reason and status rules, and TikTok's own cancels.

use orderdeck::domain::cancellation::{CancelStatus, CancelType};
use orderdeck::domain::ids::{CancelId, TiktokOrderId};
use orderdeck::domain::order::{Initiator, OrderStatus};
use orderdeck::platforms::tiktok::classify::already_done;
use orderdeck::platforms::{Marketplace, PlatformError};

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
async fn buyer_requests_are_approved_and_rejected_idempotently() {
    let sandbox = start(40).await;
    let client = sandbox.client(US);
    let deadline = now() + 86_400;
    let first = sandbox.shippable(US).id.clone();
    let second = sandbox
        .order(US, |o| {
            o.status == "AWAITING_SHIPMENT" && o.cancel.is_none() && o.id != first
        })
        .id
        .clone();
    let reason = "ecom_order_to_ship_canceled_reason_created_by_mistakes";
    let approve_id = sandbox
        .tiktok
        .request_buyer_cancel(&first, reason, "Order created by mistake", deadline)
        .unwrap();
    let reject_id = sandbox
        .tiktok
        .request_buyer_cancel(&second, reason, "Order created by mistake", deadline)
        .unwrap();

    let page = client
        .search_cancellations(whole_history(), None)
        .await
        .unwrap();
    let pending = page
        .items
        .iter()
        .find(|c| c.cancel_id.as_str() == approve_id)
        .unwrap();
    assert_eq!(
        (pending.status.clone(), pending.cancel_type.clone()),
        (CancelStatus::Pending, CancelType::BuyerRequest)
    );
    assert_eq!(
        pending.seller_deadline.map(|t| t.timestamp()),
        Some(deadline)
    );
    assert_eq!(pending.role, Initiator::Buyer);

    let key = "5f0c6c1e-approve-0001";
    client
        .approve_cancellation(&CancelId::new(&approve_id).unwrap(), key)
        .await
        .unwrap();
    client
        .approve_cancellation(&CancelId::new(&approve_id).unwrap(), key)
        .await
        .unwrap();
    assert_eq!(
        sandbox.tiktok.cancellation_status(&approve_id).as_deref(),
        Some("CANCELLATION_REQUEST_SUCCESS")
    );
    assert_eq!(
        sandbox.tiktok.order_status(&first).as_deref(),
        Some("CANCELLED")
    );
    let fresh_key = client
        .approve_cancellation(&CancelId::new(&approve_id).unwrap(), "another-key")
        .await
        .unwrap_err();
    assert_eq!(
        code(&fresh_key),
        25020010,
        "without the key's replay the request is already handled"
    );

    client
        .reject_cancellation(
            &CancelId::new(&reject_id).unwrap(),
            "reject-0001",
            "seller_reject_apply_product_has_been_packed",
            Some("packed"),
        )
        .await
        .unwrap();
    assert_eq!(
        sandbox.tiktok.last_body("reject_cancellation").unwrap()["comment"],
        "packed"
    );
    let page = client
        .search_cancellations(whole_history(), None)
        .await
        .unwrap();
    let rejected = page
        .items
        .iter()
        .find(|c| c.cancel_id.as_str() == reject_id)
        .unwrap();
    assert_eq!(
        rejected.status,
        CancelStatus::Withdrawn,
        "CANCELLATION_REQUEST_CANCEL"
    );
    assert_eq!(
        sandbox.tiktok.order_status(&second).as_deref(),
        Some("AWAITING_SHIPMENT")
    );
}

#[tokio::test]
async fn seller_cancels_follow_tiktoks_reason_and_status_rules() {
    let sandbox = start(80).await;
    let us = sandbox.client(US);
    let order = sandbox.shippable(US).id.clone();
    let cancel = us
        .cancel_order(&id(&order), &[], "seller_cancel_reason_out_of_stock")
        .await
        .unwrap();
    assert_eq!(cancel.status, CancelStatus::Success);
    assert_eq!(
        sandbox
            .tiktok
            .cancellation_status(cancel.cancel_id.as_str())
            .as_deref(),
        Some("CANCELLATION_REQUEST_SUCCESS")
    );
    let again = us
        .cancel_order(&id(&order), &[], "seller_cancel_reason_out_of_stock")
        .await
        .unwrap_err();
    assert_eq!(code(&again), 25001011);
    assert!(already_done(code(&again)));
    let shipped = sandbox.order(US, |o| o.status == "IN_TRANSIT").id.clone();
    assert_eq!(
        code(
            &us.cancel_order(&id(&shipped), &[], "seller_cancel_reason_out_of_stock")
                .await
                .unwrap_err()
        ),
        25001045
    );

    let gb = sandbox.client(GB);
    let uk_order = sandbox.shippable(GB).id.clone();
    let us_spelling = gb
        .cancel_order(&id(&uk_order), &[], "seller_cancel_reason_out_of_stock")
        .await
        .unwrap_err();
    assert_eq!(code(&us_spelling), 25001021);
    assert!(
        us_spelling
            .message
            .contains("not allowed for the order's status or market")
    );
    gb.cancel_order(&id(&uk_order), &[], "seller_cancel_reason_out_of_stock_uk")
        .await
        .unwrap();
}

#[tokio::test]
async fn tiktoks_own_cancel_reads_as_a_system_cancellation() {
    let sandbox = start(30).await;
    let client = sandbox.client(GB);
    let order = sandbox.shippable(GB).id.clone();
    let cancel_id = sandbox
        .tiktok
        .cancel_order_as(&order, "SYSTEM", "Seller did not ship in time")
        .unwrap();
    let page = client
        .search_cancellations(whole_history(), None)
        .await
        .unwrap();
    let cancel = page
        .items
        .iter()
        .find(|c| c.cancel_id.as_str() == cancel_id)
        .unwrap();
    assert_eq!(
        (
            cancel.role.clone(),
            cancel.cancel_type.clone(),
            cancel.status.clone()
        ),
        (Initiator::System, CancelType::Direct, CancelStatus::Success)
    );
    let detail = client
        .order_details(&[id(&order)])
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(detail.snapshot.status, OrderStatus::Cancelled);
    assert_eq!(
        detail.snapshot.cancellation_initiator,
        Some(Initiator::System)
    );
    assert_eq!(
        detail.snapshot.cancel_reason.as_deref(),
        Some("Seller did not ship in time")
    );
}
