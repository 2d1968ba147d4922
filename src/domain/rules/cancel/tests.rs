//! Table-driven tests of both cancellation directions and of answering buyer requests.

use super::*;
use crate::domain::cancellation::{CancelType, CancellationKey};
use crate::domain::ids::CancelId;
use crate::domain::order::{FlowState, Initiator, OrderStatus};
use crate::domain::rules::fixtures::*;

fn cancellation(kind: CancelType, status: CancelStatus, initiator: Initiator) -> Cancellation {
    Cancellation {
        key: CancellationKey::Tiktok(CancelId::new("4035318504086604100").unwrap()),
        order_id: paid().id,
        link: paid().link,
        direction: Direction::TiktokToStore,
        initiator,
        cancel_type: kind,
        reason_code: Some("ecom_order_to_ship_canceled_reason_created_by_mistakes".into()),
        reason_text: Some("Order created by mistake".into()),
        tiktok_status: Some(status),
        seller_deadline: Some(t(86_400)),
        line_item_ids: Vec::new(),
        units: Vec::new(),
        restock: true,
        response: None,
        sync: FlowState::default(),
        created_at: t(100),
        updated_at: t(100),
    }
}

fn kind(d: &StorefrontCancelDecision) -> &'static str {
    match d {
        StorefrontCancelDecision::CancelStore(_) => "cancel",
        StorefrontCancelDecision::RemoveUnits(_) => "remove units",
        StorefrontCancelDecision::WaitForSeller { .. } => "wait_seller",
        StorefrontCancelDecision::Wait { .. } => "wait",
        StorefrontCancelDecision::Skip { .. } => "skip",
        StorefrontCancelDecision::Nothing { .. } => "nothing",
    }
}

#[test]
fn tiktok_to_store_by_trigger_state_and_setting() {
    use CancelStatus::*;
    use CancelType::*;
    let on = LinkSettings::default();
    let off = LinkSettings {
        cancel_tiktok_to_store: false,
        ..LinkSettings::default()
    };
    let stored = in_store(paid(), vec![]);
    let mut cancelled_in_store = stored.clone();
    cancelled_in_store.store.as_mut().unwrap().status = StorefrontOrderStatus::Cancelled;
    let mut importing = paid();
    importing.flows.import.status = FlowStatus::Queued;
    // (cancel type, status, initiator, order, settings, expected)
    let table = [
        (
            BuyerRequest,
            Pending,
            Initiator::Buyer,
            &stored,
            &on,
            "wait_seller",
        ),
        (
            BuyerRequest,
            Success,
            Initiator::Buyer,
            &stored,
            &on,
            "cancel",
        ),
        (
            BuyerRequest,
            Complete,
            Initiator::Buyer,
            &stored,
            &on,
            "cancel",
        ),
        (
            BuyerRequest,
            Withdrawn,
            Initiator::Buyer,
            &stored,
            &on,
            "nothing",
        ),
        (Direct, Success, Initiator::System, &stored, &on, "cancel"),
        (Direct, Success, Initiator::Seller, &stored, &on, "cancel"),
        (Direct, Success, Initiator::System, &stored, &off, "skip"),
        (
            Direct,
            CancelStatus::Unknown("X".into()),
            Initiator::System,
            &stored,
            &on,
            "wait",
        ),
        (Direct, Success, Initiator::System, &paid(), &on, "nothing"),
        (Direct, Success, Initiator::System, &importing, &on, "wait"),
        (
            Direct,
            Success,
            Initiator::System,
            &cancelled_in_store,
            &on,
            "nothing",
        ),
    ];
    for (i, (ty, status, initiator, order, settings, expected)) in table.into_iter().enumerate() {
        let c = cancellation(ty, status, initiator);
        assert_eq!(
            kind(&decide_tiktok_to_store(&c, order, settings)),
            expected,
            "row {i}"
        );
    }
}

#[test]
fn tiktok_to_store_runs_once() {
    let stored = in_store(paid(), vec![]);
    for status in [
        FlowStatus::Done { at: t(1) },
        FlowStatus::Queued,
        FlowStatus::Stuck { reason: "x".into() },
    ] {
        let mut c = cancellation(CancelType::Direct, CancelStatus::Success, Initiator::System);
        c.sync.status = status.clone();
        assert_eq!(
            kind(&decide_tiktok_to_store(
                &c,
                &stored,
                &LinkSettings::default()
            )),
            "nothing",
            "{status:?}"
        );
    }
}

#[test]
fn restock_follows_the_setting_and_the_note_carries_tiktoks_reason() {
    let stored = in_store(paid(), vec![]);
    let c = cancellation(
        CancelType::BuyerRequest,
        CancelStatus::Success,
        Initiator::Buyer,
    );
    for restock in [true, false] {
        let settings = LinkSettings {
            restock_on_cancel: restock,
            ..LinkSettings::default()
        };
        let StorefrontCancelDecision::CancelStore(instruction) =
            decide_tiktok_to_store(&c, &stored, &settings)
        else {
            panic!("expected a cancel");
        };
        assert_eq!(instruction.restock, restock);
        assert_eq!(
            instruction.note,
            "Cancelled on TikTok (buyer): Order created by mistake [ecom_order_to_ship_canceled_reason_created_by_mistakes]"
        );
    }
    let mut long = c.clone();
    long.reason_text = Some("x".repeat(400));
    assert_eq!(store_note(&long).chars().count(), STORE_NOTE_MAX);
    let mut hostile = c;
    hostile.reason_text = Some("ok\u{1b}[2J".into());
    assert!(!store_note(&hostile).contains('\u{1b}'));
}

#[test]
fn restock_explanations_per_platform() {
    let table = [
        (Platform::Shopify, true, false, "stock put back"),
        (Platform::Shopify, false, false, "restock_on_cancel is off"),
        (
            Platform::Shopify,
            true,
            true,
            "already shipped: only unshipped units go back",
        ),
        (
            Platform::Shopify,
            false,
            true,
            "already shipped; stock not put back",
        ),
        (
            Platform::Woocommerce,
            false,
            false,
            "WooCommerce puts stock back on every cancel",
        ),
        (Platform::Magento2, true, false, "stock put back"),
        (Platform::Bigcommerce, true, false, "store's own setting"),
        (Platform::AmazonMcf, true, false, "manages its own stock"),
    ];
    for (platform, restock, shipped, words) in table {
        let text = restock_explanation(platform, restock, shipped);
        assert!(text.contains(words), "{platform}: {text}");
    }
}

fn store_to_tiktok_kind(d: &TiktokCancelDecision) -> &'static str {
    match d {
        TiktokCancelDecision::CancelTiktok { .. } => "cancel",
        TiktokCancelDecision::Skip { .. } => "skip",
        TiktokCancelDecision::Unsupported { .. } => "unsupported",
        TiktokCancelDecision::Nothing { .. } => "nothing",
    }
}

#[test]
fn store_to_tiktok_per_platform_trigger_and_setting() {
    use StorefrontEvent::*;
    let enabled = LinkSettings {
        cancel_store_to_tiktok: true,
        default_cancel_reason: Some("seller_cancel_reason_out_of_stock".into()),
        ..LinkSettings::default()
    };
    let disabled = LinkSettings::default();
    // (platform, event, settings, expected)
    let table = [
        (Platform::Shopify, OrderCancelled, &enabled, "cancel"),
        (Platform::Shopify, OrderCancelled, &disabled, "skip"),
        (Platform::Shopify, Refunded, &enabled, "nothing"),
        (Platform::Woocommerce, OrderCancelled, &enabled, "cancel"),
        (Platform::Bigcommerce, OrderCancelled, &enabled, "cancel"),
        (Platform::Magento2, OrderCancelled, &enabled, "nothing"),
        (Platform::Magento2, Refunded, &enabled, "cancel"),
        (Platform::Magento2, Refunded, &disabled, "skip"),
        (Platform::AmazonMcf, OrderCancelled, &enabled, "unsupported"),
        (Platform::AmazonMcf, Refunded, &enabled, "unsupported"),
    ];
    for (platform, event, settings, expected) in table {
        let order = in_store(paid(), vec![]);
        let decision = decide_store_to_tiktok(event, &order, settings, platform);
        assert_eq!(
            store_to_tiktok_kind(&decision),
            expected,
            "{platform} {event:?}"
        );
        if let TiktokCancelDecision::CancelTiktok { reason_code } = decision {
            assert_eq!(reason_code, "seller_cancel_reason_out_of_stock");
        }
    }
}

#[test]
fn store_to_tiktok_never_echoes_or_cancels_shipped_orders() {
    let enabled = LinkSettings {
        cancel_store_to_tiktok: true,
        default_cancel_reason: Some("seller_cancel_reason_out_of_stock".into()),
        ..LinkSettings::default()
    };
    let mut echoed = in_store(paid(), vec![]);
    echoed.tiktok.status = OrderStatus::Cancelled;
    let mut already = in_store(paid(), vec![]);
    already.flows.cancellation.status = FlowStatus::Done { at: t(9) };
    let mut shipped = in_store(paid(), vec![]);
    shipped.tiktok.status = OrderStatus::InTransit;
    for (order, expected) in [(echoed, "nothing"), (already, "nothing"), (shipped, "skip")] {
        let d = decide_store_to_tiktok(
            StorefrontEvent::OrderCancelled,
            &order,
            &enabled,
            Platform::Shopify,
        );
        assert_eq!(
            store_to_tiktok_kind(&d),
            expected,
            "{:?}",
            order.tiktok.status
        );
    }
}

#[test]
fn seller_responses_need_a_waiting_request_before_the_deadline() {
    let waiting = cancellation(
        CancelType::BuyerRequest,
        CancelStatus::Pending,
        Initiator::Buyer,
    );
    let reject = |reason: &str| SellerResponse::Reject {
        reason: reason.into(),
        comment: None,
    };
    // (cancellation, response, now, Ok or words)
    let table: Vec<(Cancellation, SellerResponse, i64, Result<(), &str>)> = vec![
        (waiting.clone(), SellerResponse::Approve, 3600, Ok(())),
        (
            waiting.clone(),
            reject("seller_reject_apply_product_has_been_packed"),
            3600,
            Ok(()),
        ),
        (
            waiting.clone(),
            reject(" "),
            3600,
            Err("needs one of TikTok's reject reason codes"),
        ),
        (
            waiting.clone(),
            SellerResponse::Approve,
            86_400,
            Err("deadline to answer"),
        ),
        (
            cancellation(
                CancelType::BuyerRequest,
                CancelStatus::Success,
                Initiator::Buyer,
            ),
            SellerResponse::Approve,
            3600,
            Err("not a buyer request waiting"),
        ),
        (
            cancellation(CancelType::Direct, CancelStatus::Pending, Initiator::System),
            SellerResponse::Approve,
            3600,
            Err("not a buyer request waiting"),
        ),
    ];
    for (i, (c, response, now, expected)) in table.into_iter().enumerate() {
        match (check_seller_response(&c, &response, t(now)), expected) {
            (Ok(()), Ok(())) => {}
            (Err(why), Err(words)) => assert!(why.contains(words), "row {i}: {why}"),
            (got, want) => panic!("row {i}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn the_stock_note_names_shipped_units_a_store_put_back_anyway() {
    let units = |list: &[(&str, u32)]| -> Vec<Units> {
        list.iter()
            .map(|(sku, quantity)| Units {
                sku: (*sku).into(),
                quantity: *quantity,
            })
            .collect()
    };
    let store =
        crate::domain::rules::fixtures::in_store(crate::domain::rules::fixtures::paid(), vec![])
            .store
            .unwrap();
    let shopify = StorefrontCancelled {
        store: store.clone(),
        put_back: units(&[("B", 1)]),
        shipped: units(&[("A", 2)]),
    };
    assert_eq!(
        shopify.stock_note(),
        "put back in stock: 1 × B; shipped, so not put back: 2 × A"
    );
    // WooCommerce restocks every unit of a cancelled order, shipped or not.
    let woocommerce = StorefrontCancelled {
        store,
        put_back: units(&[("A", 2), ("B", 1)]),
        shipped: units(&[("A", 2)]),
    };
    assert_eq!(
        woocommerce.stock_note(),
        "put back in stock: 2 × A, 1 × B; the store put back 2 × A although shipped: correct the stock if the parcel does not come back"
    );
}
