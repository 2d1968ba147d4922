//! How the fake service answers queries: paging, the documented filter (written again here,
//! not borrowed from the console, so a shared misreading cannot agree with itself), and the full
//! order behind a row, with a diagnosis, a job, a buyer cancel request and a raw payload that
//! holds a terminal escape (which must never reach the screen).

use chrono::Duration;
use orderdeck::domain::access::{Permission, Role};
use orderdeck::domain::cancellation::{
    CancelStatus, CancelType, Cancellation, CancellationKey, Direction,
};
use orderdeck::domain::ids::{CancelId, JobId, StorefrontOrderId};
use orderdeck::domain::job::{Job, JobKind, JobState};
use orderdeck::domain::order::*;
use orderdeck::domain::platform::Platform;
use orderdeck::domain::triage::StorefrontKnowledge;
use orderdeck::service::api::{
    CancellationRow, OrderColumn, OrderDetail, OrderRow, Paged, SortDir,
};
use orderdeck::service::sorting::Key;

use super::seed::{LINKS, now};

pub fn page<T>(rows: Vec<T>, offset: usize, limit: usize) -> Paged<T> {
    let total = rows.len();
    Paged {
        total,
        offset,
        rows: rows.into_iter().skip(offset).take(limit).collect(),
        counting: false,
    }
}

/// Sorts order rows by a column as the service's store indexes do (ties keep the seeded
/// order; a column rows do not have keeps it too).
pub fn sort_orders(rows: &mut [OrderRow], column: OrderColumn, dir: SortDir) {
    use OrderColumn::*;
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        Key::Time(at.map_or(i64::MAX, |t| t.timestamp()))
    };
    let key = |r: &OrderRow| -> Option<Key> {
        let text = |t: &str| Some(Key::Text(t.to_string()));
        match column {
            Id => text(r.id.as_str()),
            Link => text(r.link.as_str()),
            Status => text(&r.tiktok_status),
            Created => Some(time(Some(r.created_at))),
            ShipBy => Some(time(r.ship_by)),
            Paid => Some(time(Some(r.paid_at.unwrap_or(r.created_at)))),
            StoreOrder => text(r.store_order.as_deref().unwrap_or_default()),
            Why => text(&r.why),
            StorefrontSide => text(&format!(
                "{}\u{1}{}",
                r.knowledge.map(|k| k.describe()).unwrap_or_default(),
                r.why
            )),
            Skus => text(&r.skus),
            Buyer => text(&r.buyer),
            _ => None,
        }
    };
    rows.sort_by_cached_key(key);
    if dir == SortDir::Desc {
        rows.reverse();
    }
}

pub fn order_fields(r: &OrderRow) -> Vec<(&'static str, String)> {
    vec![
        ("id", r.id.to_string()),
        ("store", r.link.to_string()),
        (
            "status",
            format!("{} {} {}", r.tiktok_status, r.flows.join(" "), r.why),
        ),
        ("sku", r.skus.clone()),
        ("buyer", r.buyer.clone()),
        ("why", r.why.clone()),
        ("tracking", r.tracking.clone()),
        ("order", r.id.to_string()),
        ("order", r.store_order.clone().unwrap_or_default()),
    ]
}

pub fn cancel_fields(c: &CancellationRow) -> Vec<(&'static str, String)> {
    vec![
        ("id", c.order_id.to_string()),
        ("store", c.link.to_string()),
        ("status", c.sync.clone()),
        ("why", c.reason.clone()),
    ]
}

/// The documented filter: all terms must match; `field:value` looks at one field
/// (`link:` is `store:`), anything else at every field; lower-case terms ignore case.
/// `order:` is whole: the TikTok id or the store order number, `#` or not.
pub fn passes(filter: Option<&str>, fields: &[(&'static str, String)]) -> bool {
    let Some(filter) = filter else { return true };
    filter.split_whitespace().all(|term| {
        let (field, value) = match term.split_once(':') {
            Some((f, v))
                if fields
                    .iter()
                    .any(|(name, _)| *name == f || (f == "link" && *name == "store")) =>
            {
                (Some(if f == "link" { "store" } else { f }), v)
            }
            _ => (None, term),
        };
        if field == Some("order") {
            let bare = value.trim_start_matches('#');
            return fields
                .iter()
                .any(|(name, text)| *name == "order" && text.trim_start_matches('#') == bare);
        }
        let sensitive = value.chars().any(char::is_uppercase);
        fields
            .iter()
            .filter(|(name, _)| field.is_none_or(|f| f == *name))
            .any(|(_, text)| {
                if sensitive {
                    text.contains(value)
                } else {
                    text.to_lowercase().contains(value)
                }
            })
    })
}

/// A full order behind a row: TikTok and store sides, flows, a job, a timeline, a diagnosis
/// and a raw payload holding a terminal escape (which must never reach the screen).
pub fn detail_of(row: &OrderRow, role: Option<Role>) -> OrderDetail {
    let paid = row.paid_at.unwrap_or(row.created_at);
    let stuck = row.why.strip_prefix("stuck: ").map(str::to_string);
    let mut order = Order::new(
        row.id.clone(),
        row.link.clone(),
        TiktokSnapshot {
            status: OrderStatus::parse(&row.tiktok_status),
            shipping_type: ShippingType::parse(&row.shipping_type),
            fulfillment_type: FulfillmentType::BySeller,
            created_at: row.created_at,
            updated_at: paid,
            paid_at: row.paid_at,
            ship_by: row.ship_by,
            lines: group_line_items(&[LineUnit {
                id: "7001".into(),
                sku_id: "1729".into(),
                seller_sku: row.skus.split(' ').next().unwrap_or_default().into(),
                product_name: "Ghost jumper".into(),
                sku_name: "Grey, M".into(),
                sale_price: "19.99".into(),
                currency: "GBP".into(),
                cancelled: false,
            }]),
            recipient: Recipient {
                name: row.buyer.clone(),
                city: "London".into(),
                postal_code: "N1 9GU".into(),
                country_code: "GB".into(),
                address_lines: vec!["5800 Bristol Pkwy".into()],
                ..Recipient::default()
            },
            packages: Vec::new(),
            delivery_option_id: None,
            tracking_number: None,
            shipping_provider: None,
            buyer_message: Some("Please leave with the neighbour".into()),
            cancel_reason: None,
            cancellation_initiator: None,
            is_buyer_request_cancel: false,
            currency: "GBP".into(),
            total_amount: "19.99".into(),
        },
        paid,
    );
    // Past orders came whole (a preloaded history), with no events; live ones were queued.
    if !matches!(row.tiktok_status.as_str(), "DELIVERED" | "COMPLETED") {
        order.note(paid, Some(Flow::Import), "import queued");
    }
    if let Some(reason) = &stuck {
        order.flows.import = FlowState {
            status: FlowStatus::Stuck {
                reason: reason.clone(),
            },
            attempts: 3,
            last_error: Some(FlowError {
                at: now() - Duration::minutes(9),
                message: reason.clone(),
                code: Some("422".into()),
                request_id: Some("req-88f1".into()),
            }),
            updated_at: Some(now() - Duration::minutes(9)),
            waits_on: None,
        };
        order.note(
            now() - Duration::minutes(9),
            Some(Flow::Import),
            format!("import stuck: {reason}"),
        );
    }
    if order.tiktok.shipping_type == ShippingType::Seller {
        order.flows.label.status = FlowStatus::NotApplicable {
            why: "the seller ships this order".into(),
        };
    }
    let tracking_stuck = store_side(&mut order, row);
    let mut job = Job::new(
        JobId(812),
        row.id.clone(),
        row.link.clone(),
        JobKind::Import,
        paid,
    );
    job.attempts = 3;
    if let Some(reason) = &stuck {
        job.state = JobState::Stuck {
            reason: reason.clone(),
        };
    }
    let cancellation = Cancellation {
        key: CancellationKey::Tiktok(CancelId::new("4035500099").expect("id")),
        order_id: row.id.clone(),
        link: row.link.clone(),
        direction: Direction::TiktokToStore,
        initiator: Initiator::Buyer,
        cancel_type: CancelType::BuyerRequest,
        reason_code: Some("buyer_changed_mind".into()),
        reason_text: Some("Buyer changed their mind".into()),
        tiktok_status: Some(CancelStatus::Pending),
        seller_deadline: Some(now() + Duration::hours(4)),
        line_item_ids: Vec::new(),
        units: Vec::new(),
        restock: true,
        response: None,
        sync: FlowState::default(),
        created_at: now() - Duration::hours(1),
        updated_at: now() - Duration::hours(1),
    };
    // As the service offers them: a retry when something is stuck, a label when TikTok
    // ships, an answer to the buyer's cancel request every order here has.
    let tiktok_ships = order.tiktok.shipping_type == ShippingType::Tiktok;
    let actions = [
        ("resync", Permission::RequestResync, true),
        (
            "retry",
            Permission::RetryStuckJob,
            stuck.is_some() || tracking_stuck,
        ),
        ("reprint-label", Permission::ReprintLabel, tiktok_ships),
        ("approve-cancel", Permission::RespondBuyerCancel, true),
        ("reject-cancel", Permission::RespondBuyerCancel, true),
    ]
    .into_iter()
    .filter(|(_, p, applies)| *applies && role.is_some_and(|r| r.may(*p)))
    .map(|(name, _, _)| name.to_string())
    .collect();
    let diagnosis = match (&stuck, tracking_stuck) {
        (Some(reason), _) => vec![
            format!("Import is stuck: {reason}."),
            "Fix: create the variant in the store (or map the SKU), then retry (t).".into(),
        ],
        (None, true) => vec![
            format!("Tracking is stuck: {}.", row.why),
            "Fix: map the carrier in Settings (carrier mapping), then retry (t).".into(),
        ],
        (None, false) => Vec::new(),
    };
    OrderDetail {
        order,
        platform: LINKS
            .iter()
            .find(|l| l.0 == row.link.as_str())
            .map_or(Platform::Shopify, |l| l.3),
        cancellations: vec![cancellation],
        jobs: vec![job],
        pending_requests: super::seed::requests()
            .into_iter()
            .filter(|r| r.targets.contains(&row.id))
            .collect(),
        raw: Some(format!(
            "{{\n  \"id\": \"{}\",\n  \"status\": \"{}\",\n  \"buyer_message\": \"hi\u{1b}[31m there\u{7}\"\n}}",
            row.id, row.tiktok_status
        )),
        diagnosis,
        actions,
    }
}

/// The store side of an order already in the store, as its row's store knowledge says; returns
/// whether tracking is stuck (the store has a number TikTok did not get).
fn store_side(order: &mut Order, row: &OrderRow) -> bool {
    let Some(name) = &row.store_order else {
        return false;
    };
    let number = name.trim_start_matches('#');
    let tracking = Tracking {
        number: format!("RM{number}5GB"),
        carrier: Some("Royal Mail Tracked 48".into()),
        url: None,
    };
    let fulfillments = match row.knowledge {
        Some(StorefrontKnowledge::FulfilledWithoutTracking) => vec![(Vec::new(), "SUCCESS")],
        Some(StorefrontKnowledge::TrackingNotPushed) => vec![(vec![tracking], "SUCCESS")],
        _ => Vec::new(),
    };
    order.store = Some(StorefrontOrder {
        order_id: StorefrontOrderId::new(format!("gid://shopify/Order/5{number}")).expect("id"),
        name: Some(name.clone()),
        status: StorefrontOrderStatus::Open,
        fulfillments: fulfillments
            .into_iter()
            .map(|(tracking, status)| Fulfillment {
                id: format!("gid://shopify/Fulfillment/7{number}"),
                status: status.into(),
                created_at: Some(now() - Duration::hours(2)),
                tracking,
                lines: vec![],
            })
            .collect(),
        lines: vec![],
        unit_count: None,
        cancelled_at: None,
        refunded: false,
        updated_at: now() - Duration::hours(2),
    });
    order.flows.import.status = FlowStatus::Done {
        at: row.created_at + Duration::minutes(3),
    };
    let stuck = row.knowledge == Some(StorefrontKnowledge::TrackingNotPushed);
    if stuck {
        order.flows.tracking.status = FlowStatus::Stuck {
            reason: row.why.clone(),
        };
        order.note(
            now() - Duration::hours(2),
            Some(Flow::Tracking),
            format!("tracking stuck: {}", row.why),
        );
    }
    stuck
}
