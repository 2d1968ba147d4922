//! TikTok's answers lost or damaged: a seller's answer to a buyer's cancel request whose reply
//! never arrived, a request answered meanwhile in Seller Center, and orders whose text is not
//! Unicode or whose ids are unusable, and a store tracking number with control characters. Each
//! must end the way a person would expect: the decision applied once, one bad order held for a
//! person while the rest sync, and platform text relayed exactly as received or not at all.

use orderdeck::domain::access::Role;
use orderdeck::domain::ids::{CancelId, TiktokOrderId};
use orderdeck::domain::triage::OrderView;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::tiktok::{SEND_LONE_SURROGATE, SEND_NOT_UTF8};
use orderdeck::service::api::{Request, Response};

use crate::engine::support::*;

const REJECT_REASON: &str = "seller_reject_apply_product_has_been_packed";

async fn imported(rig: &mut Rig) -> TiktokOrderId {
    let id = rig.paid_order(GB);
    rig.sync().await;
    rig.store_order(GB, &id);
    id
}

fn ask_to_cancel(rig: &Rig, id: &TiktokOrderId) -> CancelId {
    let cancel_id = rig
        .set
        .tiktok
        .request_buyer_cancel(
            id.as_str(),
            "ecom_order_to_ship_canceled_reason_better_price",
            "Found a better price",
            now() + 20 * 3600,
        )
        .expect("a buyer request opens");
    CancelId::new(cancel_id).expect("cancel id")
}

async fn answer(rig: &Rig, cancel_id: &CancelId, approve: bool) {
    let answer = rig
        .call(
            Role::Operator,
            Request::RespondBuyerCancel {
                cancel_id: cancel_id.clone(),
                approve,
                reject_reason: (!approve).then(|| REJECT_REASON.into()),
                comment: None,
            },
        )
        .await;
    assert!(matches!(answer, Ok(Response::Done { .. })), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_whose_answer_was_lost_is_read_back_not_sent_again() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig).await;
    let cancel_id = ask_to_cancel(&rig, &id);
    rig.sync().await;
    // TikTok takes the approval, then the connection drops before its answer.
    rig.set
        .tiktok
        .faults()
        .inject("approve_cancellation", FaultKind::DropAfterWrite, 1);
    answer(&rig, &cancel_id, true).await;
    rig.sync().await;
    rig.sync().await;

    assert_eq!(
        rig.set.tiktok.calls("approve_cancellation"),
        1,
        "the retry read the request back instead of approving again"
    );
    let order = rig.order(&id);
    assert_eq!(order.stuck_reason(), None, "{:#?}", order.timeline);
    assert!(
        order
            .timeline
            .iter()
            .any(|e| e.text.contains("buyer cancel request approved")),
        "{:#?}",
        order.timeline
    );
    // The cancel reached the store: the parcel does not ship.
    assert!(rig.store_order(GB, &id).cancelled_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_answered_meanwhile_in_seller_center_ends_by_what_tiktok_holds() {
    let mut rig = Rig::start().await;
    // (orderdeck's answer, Seller Center's answer, what the person is told when they differ)
    let cases = [
        (true, true, None),
        (false, false, None),
        (true, false, Some("rejected or withdrawn, not approved")),
        (false, true, Some("approved, not rejected")),
    ];
    let mut orders = Vec::new();
    for (ours, theirs, _) in cases {
        let id = imported(&mut rig).await;
        let cancel_id = ask_to_cancel(&rig, &id);
        rig.sync().await;
        answer(&rig, &cancel_id, ours).await;
        assert!(
            rig.set
                .tiktok
                .answer_in_seller_center(cancel_id.as_str(), theirs)
        );
        orders.push(id);
    }
    rig.sync().await;
    rig.sync().await;

    for ((ours, theirs, told), id) in cases.iter().zip(&orders) {
        let order = rig.order(id);
        let case = format!(
            "orderdeck {ours}, Seller Center {theirs}: {:#?}",
            order.timeline
        );
        // Nothing is left for a person: the decision that stands is TikTok's, and the
        // timeline says when it was not the one orderdeck was told to send.
        assert_eq!(order.stuck_reason(), None, "{case}");
        let said = |text: &str| order.timeline.iter().any(|e| e.text.contains(text));
        match told {
            None => assert!(!said("answered outside orderdeck"), "{case}"),
            Some(told) => assert!(said(told) && said("answered outside orderdeck"), "{case}"),
        }
        // Whoever decided, the store follows what TikTok holds: a cancelled order never ships.
        let store = rig.store_order(GB, id);
        assert_eq!(store.cancelled_at.is_some(), *theirs, "{case}");
        assert!(store.cancel_requests.len() <= 1, "{case}");
    }
}

/// An order of shop GB whose buyer's first name and first product name are `name`.
fn order_named(rig: &mut Rig, name: &str) -> orderdeck::sandbox::scenario::OrderSpec {
    let mut spec = rig.new_order(GB);
    spec.buyer.first_name = name.to_string();
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_damaged_order_is_held_with_its_field_while_the_others_sync() {
    let mut rig = Rig::start().await;
    let clean = rig.paid_order(GB);
    let half_emoji = order_named(&mut rig, &format!("Bob {SEND_LONE_SURROGATE}"));
    let half_emoji_id = rig.add(&half_emoji);
    let mut bad_bytes = rig.new_order(GB);
    bad_bytes.lines[0].product_name = format!("Mug {SEND_NOT_UTF8}");
    let bad_bytes_id = rig.add(&bad_bytes);
    let mut long_package = rig.new_order(GB);
    long_package.package_id = "9".repeat(80);
    let long_package_id = rig.add(&long_package);

    let summary = rig.sync().await;
    assert!(summary.poll_errors.is_empty(), "{summary:?}");
    rig.store_order(GB, &clean);
    let stuck = rig.view(OrderView::Stuck).await;
    // (order, the field named, the damage named)
    for (id, field, damage) in [
        (
            &half_emoji_id,
            "field recipient_address.",
            "holds a lone UTF-16 surrogate",
        ),
        (
            &bad_bytes_id,
            "field line_items[0].product_name",
            "holds bytes that are not UTF-8",
        ),
        (
            &long_package_id,
            "package id",
            "is longer than 64 characters",
        ),
    ] {
        assert!(
            rig.store_orders(GB, id).is_empty(),
            "{id} must not be imported"
        );
        let row = stuck
            .iter()
            .find(|r| &r.id == id)
            .unwrap_or_else(|| panic!("{id} is not listed as stuck: {stuck:#?}"));
        assert!(row.why.contains(field), "{id}: {}", row.why);
        assert!(row.why.contains(damage), "{id}: {}", row.why);
        assert!(!row.why.contains('\u{FFFD}'), "{}", row.why);
    }

    // TikTok sends the order readable again: it is imported once, and no longer held.
    let mut fixed = half_emoji.clone();
    fixed.buyer.first_name = "Bob 😀".into();
    fixed.update_time = now();
    rig.add(&fixed);
    rig.sync().await;
    rig.sync().await;
    let store = rig.store_order(GB, &half_emoji_id);
    assert!(
        format!("{store:?}").contains("Bob 😀"),
        "the name arrives as TikTok sent it"
    );
    let order = rig.order(&half_emoji_id);
    assert_eq!(order.stuck_reason(), None, "{:#?}", order.timeline);
    assert!(
        !rig.view(OrderView::Stuck)
            .await
            .iter()
            .any(|r| r.id == half_emoji_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_number_with_control_characters_is_refused_not_repaired() {
    let mut rig = Rig::start().await;
    let id = imported(&mut rig).await;
    rig.fulfil(GB, &id, "JD000\u{1b}[2J1234", "DPD UK");
    rig.sync().await;
    rig.sync().await;

    assert!(
        rig.set.tiktok.shipments(id.as_str()).is_empty(),
        "nothing, mangled or not, reached TikTok"
    );
    let order = rig.order(&id);
    let reason = order.stuck_reason().unwrap_or_default();
    assert!(
        reason.starts_with("tracking: the store's tracking number")
            && reason.contains("correct it in the store"),
        "{reason}"
    );
    assert!(!reason.contains('\u{1b}'), "{reason}");
}
