//! Orders for rule tests: one realistic paid, seller-shipped order and small builders around it.

use crate::domain::clock::{Timestamp, from_unix};
use crate::domain::ids::{LinkId, PackageId, StorefrontOrderId, TiktokOrderId};
use crate::domain::order::*;

pub const PAID_AT: i64 = 1_700_000_000;

pub fn t(offset_secs: i64) -> Timestamp {
    from_unix(PAID_AT + offset_secs)
}

pub fn order(status: OrderStatus, shipping: ShippingType) -> Order {
    let snapshot = TiktokSnapshot {
        status,
        shipping_type: shipping,
        fulfillment_type: FulfillmentType::BySeller,
        created_at: t(-60),
        updated_at: t(0),
        paid_at: Some(t(0)),
        ship_by: Some(t(3 * 86_400)),
        lines: group_line_items(&[LineUnit {
            id: "li-1".into(),
            sku_id: "sku-1".into(),
            seller_sku: "ABC-1".into(),
            product_name: "Crochet jumper".into(),
            sku_name: "Red, M".into(),
            sale_price: "19.99".into(),
            currency: "GBP".into(),
            cancelled: false,
        }]),
        recipient: Recipient {
            name: "David Kong".into(),
            first_name: "David".into(),
            last_name: "Kong".into(),
            phone: "(+44)7700-***-123".into(),
            address_lines: vec!["5800 Bristol Pkwy".into()],
            city: "London".into(),
            province: "Greater London".into(),
            postal_code: "N1 9GU".into(),
            country_code: "GB".into(),
            full_address: "5800 Bristol Pkwy, London N1 9GU".into(),
        },
        packages: vec![Package {
            id: PackageId::new("pkg-1").unwrap(),
            tracking_number: None,
            line_item_ids: vec!["li-1".into()],
        }],
        delivery_option_id: Some("7091146663229654785".into()),
        tracking_number: None,
        shipping_provider: None,
        buyer_message: None,
        cancel_reason: None,
        cancellation_initiator: None,
        is_buyer_request_cancel: false,
        currency: "GBP".into(),
        total_amount: "19.99".into(),
    };
    Order::new(
        TiktokOrderId::new("576461413038785752").unwrap(),
        LinkId::new("uk").unwrap(),
        snapshot,
        t(5),
    )
}

pub fn paid() -> Order {
    order(OrderStatus::AwaitingShipment, ShippingType::Seller)
}

pub fn in_store(mut o: Order, fulfillments: Vec<Fulfillment>) -> Order {
    o.store = Some(StorefrontOrder {
        order_id: StorefrontOrderId::new("gid://shopify/Order/1001").unwrap(),
        name: Some("#1001".into()),
        status: StorefrontOrderStatus::Open,
        fulfillments,
        lines: vec![],
        unit_count: None,
        cancelled_at: None,
        refunded: false,
        updated_at: t(60),
    });
    o.flows.import.status = FlowStatus::Done { at: t(60) };
    o
}

pub fn fulfilled(number: &str, carrier: Option<&str>) -> Fulfillment {
    Fulfillment {
        id: "gid://shopify/Fulfillment/1".into(),
        status: "SUCCESS".into(),
        created_at: Some(t(3600)),
        tracking: vec![Tracking {
            number: number.into(),
            carrier: carrier.map(Into::into),
            url: None,
        }],
        lines: vec![],
    }
}
