//! Deterministic, realistic rows for the fake service: three links (a Shopify, a WooCommerce
//! and an Amazon MCF store), pending orders with the reasons support staff really see, orders
//! missing tracking around their ship-by deadlines, cancellations in both directions, pending
//! resync requests and activity (people's actions and the engine's events). Times are
//! relative to [`NOW`]. One buyer name and one engine event carry an escape sequence, as
//! hostile platform text would.

use std::collections::BTreeMap;

use chrono::Duration;
use orderdeck::domain::access::Role;
use orderdeck::domain::audit::Actor;
use orderdeck::domain::cancellation::CancellationKey;
use orderdeck::domain::cause::StuckCause;
use orderdeck::domain::clock::{Timestamp, from_unix};
use orderdeck::domain::ids::{CancelId, LinkId, RequestId, StorefrontId, TiktokOrderId};
use orderdeck::domain::platform::Platform;
use orderdeck::domain::request::{RequestStatus, ResyncFlow, ResyncRequest};
use orderdeck::domain::triage::{StorefrontKnowledge, urgency};
use orderdeck::service::api::{
    ActivityItem, CancellationRow, LinkHealth, OrderRow, ViewCounts, WaitingOn,
};

/// 2026-11-20 12:00:00 UTC: the fixed "now" of every snapshot.
pub const NOW_UNIX: i64 = 1_795_176_000;

pub fn now() -> Timestamp {
    from_unix(NOW_UNIX)
}

fn at(minutes: i64) -> Timestamp {
    now() + Duration::minutes(minutes)
}

pub fn link(name: &str) -> LinkId {
    LinkId::new(name).expect("seed link names are valid")
}

/// Where the missing-tracking and cancellation orders start among the seeded ids, far enough
/// apart that even 100,000 pending orders never share an id with them.
pub const MISSING_BASE: usize = 10_000_000;
pub const CANCELLED_BASE: usize = 20_000_000;
pub const HISTORY_BASE: usize = 30_000_000;

/// The i-th seeded TikTok order id (18 digits, like TikTok's).
pub fn order_id(i: usize) -> TiktokOrderId {
    TiktokOrderId::new((576_461_413_038_785_752u64 + i as u64 * 1_000_003).to_string())
        .expect("digits")
}

pub const LINKS: [(&str, &str, &str, Platform, &str); 3] = [
    (
        "uk-shop1",
        "UK Shop",
        "uk-shopify1",
        Platform::Shopify,
        "GB",
    ),
    (
        "us-shop2",
        "US Shop",
        "us-woo2",
        Platform::Woocommerce,
        "US",
    ),
    (
        "de-shop3",
        "DE Shop",
        "de-amazon3",
        Platform::AmazonMcf,
        "DE",
    ),
];

pub fn links(
    pending: &[OrderRow],
    missing: &[OrderRow],
    history: &[OrderRow],
    cancels: &[CancellationRow],
) -> Vec<LinkHealth> {
    let count = |rows: &[OrderRow], l: &str| rows.iter().filter(|r| r.link.as_str() == l).count();
    LINKS
        .iter()
        .enumerate()
        .map(|(i, (name, shop, store, platform, region))| {
            let waiting = cancels
                .iter()
                .filter(|c| c.link.as_str() == *name && c.awaits_seller)
                .count();
            let counts = ViewCounts {
                pending: count(pending, name),
                missing_tracking: count(missing, name),
                stuck: count(pending, name) / 3,
                parcels: usize::from(i == 0),
                cancellations_waiting: waiting,
                all: count(pending, name) + count(missing, name) + count(history, name),
            };
            let (poll_ok, error, errors, queue, stuck, access, auth) = match i {
                0 => (
                    Some(at(-2)),
                    None,
                    0,
                    3,
                    2,
                    Some(at(5 * 1440 + 180)),
                    Some(at(300 * 1440)),
                ),
                1 => (
                    Some(at(-14)),
                    Some("TikTok 429 THROTTLED: rate limit exceeded, retry after 30s".to_string()),
                    7,
                    41,
                    1,
                    Some(at(20 * 60)),
                    Some(at(12 * 1440)),
                ),
                _ => (
                    Some(at(-1)),
                    None,
                    0,
                    0,
                    0,
                    Some(at(-120)),
                    Some(at(3 * 1440)),
                ),
            };
            LinkHealth {
                link: link(name),
                shop: shop.to_string(),
                store: store.to_string(),
                platform: *platform,
                region: region.to_string(),
                last_poll_ok: poll_ok,
                last_poll_error: error,
                errors_last_hour: errors,
                queue_depth: queue,
                stuck_jobs: stuck,
                access_expires_at: access,
                authorization_expires_at: auth,
                counts,
                waiting: waiting_on(i, store),
                webhooks: webhook_counts(i),
            }
        })
        .collect()
}

/// The first link receives webhooks (and refused a few forged ones); the others only poll.
fn webhook_counts(link: usize) -> orderdeck::engine::WebhookCounts {
    if link != 0 {
        return orderdeck::engine::WebhookCounts::default();
    }
    orderdeck::engine::WebhookCounts {
        last_at: Some(at(-1)),
        verified: 1284,
        refused: 3,
    }
}

/// What the first link's two stuck orders wait on: a SKU its store lacks, and a person.
fn waiting_on(link: usize, store: &str) -> Vec<WaitingOn> {
    if link != 0 {
        return Vec::new();
    }
    let sku = StuckCause::MissingSku {
        store: StorefrontId::new(store).expect("store name"),
        sku: "GHOST-003".into(),
    };
    vec![
        WaitingOn {
            cause: sku,
            orders: 1,
        },
        WaitingOn {
            cause: StuckCause::Person,
            orders: 1,
        },
    ]
}

const BUYERS: [&str; 8] = [
    "Amelia Hughes",
    "Jack Thompson",
    "Evil\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7} Corp",
    "Noah Williams",
    "Sophie Brown",
    "Liam Jones",
    "Mia Davies",
    "Oscar Evans",
];

const SKUS: [&str; 5] = [
    "GHOST-003",
    "TEE-BLK-M",
    "MUG-11OZ",
    "HOODIE-GRY-L",
    "SOCK-3PK",
];

fn pending_reason(i: usize, link: &str) -> (String, &'static str) {
    let store = LINKS
        .iter()
        .find(|l| l.0 == link)
        .map_or("the store", |l| l.2);
    match i % 8 {
        0 => (
            format!("stuck: SKU GHOST-003 has no variant in store {store}"),
            "AWAITING_SHIPMENT",
        ),
        1 => ("waiting: ON_HOLD (buyer-remorse window)".into(), "ON_HOLD"),
        2 => (
            "retrying (attempt 3): Shopify 502 Bad Gateway".into(),
            "AWAITING_SHIPMENT",
        ),
        3 => (
            "stuck: the shipping address has no street line".into(),
            "AWAITING_SHIPMENT",
        ),
        4 => ("waiting: UNPAID".into(), "UNPAID"),
        5 => (
            format!("stuck: store auth expired; reconnect {store} in orderdeck.toml"),
            "AWAITING_SHIPMENT",
        ),
        6 => ("import queued".into(), "AWAITING_SHIPMENT"),
        _ => (
            "skipped: import_orders is off for this link".into(),
            "AWAITING_SHIPMENT",
        ),
    }
}

/// Orders not in the store yet, oldest payment first.
pub fn pending(count: usize) -> Vec<OrderRow> {
    (0..count)
        .map(|i| {
            let link_name = LINKS[i % 3].0;
            let (why, status) = pending_reason(i, link_name);
            let paid = at(-(((count - i) as i64) * 37 + 10));
            let stuck = why.starts_with("stuck");
            OrderRow {
                id: order_id(i),
                link: link(link_name),
                tiktok_status: status.into(),
                // Every fourth order from the third on is one TikTok ships (it has a label).
                shipping_type: if i % 4 == 2 { "TIKTOK" } else { "SELLER" }.into(),
                created_at: paid - Duration::minutes(2),
                paid_at: (status != "UNPAID").then_some(paid),
                ship_by: Some(paid + Duration::days(3)),
                urgency: urgency(Some(paid + Duration::days(3)), now()),
                store_order: None,
                store_status: None,
                flows: [
                    if stuck { "stuck" } else { "queued" }.into(),
                    "idle".into(),
                    "idle".into(),
                    "n/a".into(),
                ],
                why,
                knowledge: Some(StorefrontKnowledge::NeverReachedStore),
                skus: SKUS[i % SKUS.len()].into(),
                buyer: BUYERS[i % BUYERS.len()].into(),
                total: format!("{}.99 GBP", 10 + i % 40),
                tracking: String::new(),
            }
        })
        .collect()
}

/// Seller-shipped orders without tracking, by ship-by deadline.
pub fn missing(count: usize) -> Vec<OrderRow> {
    let mut rows = missing_unsorted(count);
    rows.sort_by_key(|r| r.ship_by);
    rows
}

fn missing_unsorted(count: usize) -> Vec<OrderRow> {
    let hours = [-3i64, 2, 5, 9, 20, 30, 44, 60, 70, 90];
    let knowledge = [
        StorefrontKnowledge::NotFulfilled,
        StorefrontKnowledge::FulfilledWithoutTracking,
        StorefrontKnowledge::TrackingNotPushed,
        StorefrontKnowledge::NeverReachedStore,
    ];
    (0..count)
        .map(|i| {
            let ship_by = at(hours[i % hours.len()] * 60 + (i / hours.len()) as i64 * 600);
            let known = knowledge[i % knowledge.len()];
            let in_store = known != StorefrontKnowledge::NeverReachedStore;
            let why = match known {
                StorefrontKnowledge::TrackingNotPushed => {
                    "carrier \"Royal Mail Tracked 48\" has no TikTok provider mapping".to_string()
                }
                other => other.describe().to_string(),
            };
            OrderRow {
                id: order_id(MISSING_BASE + i),
                link: link(LINKS[i % 2].0),
                tiktok_status: "AWAITING_SHIPMENT".into(),
                shipping_type: "SELLER".into(),
                created_at: ship_by - Duration::days(3),
                paid_at: Some(ship_by - Duration::days(3)),
                ship_by: Some(ship_by),
                urgency: urgency(Some(ship_by), now()),
                store_order: in_store.then(|| format!("#{}", 1001 + i)),
                store_status: in_store.then(|| "open".to_string()),
                flows: ["done".into(), "idle".into(), "idle".into(), "n/a".into()],
                why,
                knowledge: Some(known),
                skus: format!("{} ×{}", SKUS[i % SKUS.len()], 1 + i % 3),
                buyer: BUYERS[(i + 3) % BUYERS.len()].into(),
                total: format!("{}.50 GBP", 12 + i % 30),
                tracking: String::new(),
            }
        })
        .collect()
}

/// Orders of the past weeks, delivered and tracked: listed only in the Orders view (every
/// order), below the newer ones. The first is the UK shop's `#1002`, a number the US shop's
/// store gave one of its own orders too (see [`missing`]).
pub fn history() -> Vec<OrderRow> {
    (0..8)
        .map(|i| {
            let link_name = LINKS[i % 3].0;
            let created = at(-((i as i64 + 2) * 3 * 1440 + 95));
            OrderRow {
                id: order_id(HISTORY_BASE + i),
                link: link(link_name),
                tiktok_status: if i % 4 == 3 { "COMPLETED" } else { "DELIVERED" }.into(),
                shipping_type: "SELLER".into(),
                created_at: created,
                paid_at: Some(created + Duration::minutes(1)),
                ship_by: Some(created + Duration::days(3)),
                urgency: orderdeck::domain::triage::Urgency::Later,
                store_order: Some(format!("#{}", if i == 0 { 1002 } else { 990 - i })),
                store_status: Some("closed".into()),
                flows: ["done".into(), "done".into(), "-".into(), "n/a".into()],
                why: String::new(),
                knowledge: None,
                skus: SKUS[(i + 1) % SKUS.len()].into(),
                buyer: BUYERS[(i + 5) % BUYERS.len()].into(),
                total: format!("{}.00 GBP", 20 + i),
                tracking: format!("RM{:09}GB", 4_410 + i),
            }
        })
        .collect()
}

pub fn cancellations() -> Vec<CancellationRow> {
    let row = |i: usize,
               link_name: &str,
               direction: &str,
               initiator: &str,
               status: Option<&str>,
               reason: &str,
               deadline: Option<i64>,
               awaits: bool,
               sync: &str| {
        let deadline = deadline.map(at);
        let key = if direction.starts_with("store") {
            CancellationKey::Store(order_id(CANCELLED_BASE + i))
        } else {
            CancellationKey::Tiktok(CancelId::new(format!("40355{i:04}")).expect("id"))
        };
        CancellationRow {
            key,
            order_id: order_id(CANCELLED_BASE + i),
            link: link(link_name),
            direction: direction.into(),
            initiator: initiator.into(),
            // One partial cancel among whole-order ones.
            what: if i == 3 {
                "1 × JMP-BLU".into()
            } else {
                "whole order".into()
            },
            tiktok_status: status.map(str::to_string),
            reason: reason.into(),
            seller_deadline: deadline,
            urgency: if awaits {
                urgency(deadline, now())
            } else {
                orderdeck::domain::triage::Urgency::Later
            },
            awaits_seller: awaits,
            sync: sync.into(),
        }
    };
    vec![
        row(
            0,
            "uk-shop1",
            "TikTok → store",
            "BUYER",
            Some("CANCELLATION_REQUEST_PENDING"),
            "Buyer changed their mind",
            Some(4 * 60),
            true,
            "waiting for the seller's answer",
        ),
        row(
            1,
            "us-shop2",
            "TikTok → store",
            "BUYER",
            Some("CANCELLATION_REQUEST_PENDING"),
            "Ordered the wrong size",
            Some(30 * 60),
            true,
            "waiting for the seller's answer",
        ),
        row(
            2,
            "uk-shop1",
            "TikTok → store",
            "SYSTEM",
            Some("CANCELLATION_REQUEST_COMPLETE"),
            "Auto-cancelled: not shipped in time",
            None,
            false,
            "done: store order #0998 cancelled, restocked",
        ),
        row(
            3,
            "uk-shop1",
            "TikTok → store",
            "BUYER",
            Some("CANCELLATION_REQUEST_SUCCESS"),
            "Delivery too slow",
            None,
            false,
            "failed: Shopify 422 order is already fulfilled",
        ),
        row(
            4,
            "us-shop2",
            "store → TikTok",
            "SELLER",
            None,
            "Cancelled in WooCommerce",
            None,
            false,
            "skipped: cancel_store_to_tiktok is off",
        ),
        row(
            5,
            "de-shop3",
            "store → TikTok",
            "SELLER",
            None,
            "Cancelled in Seller Central",
            None,
            false,
            "not supported: Amazon MCF links sync TikTok → store only",
        ),
    ]
}

pub fn actor(user: &str, uid: u32, role: Role) -> Actor {
    Actor {
        user: user.into(),
        uid,
        role: Some(role),
        from: Some("10.0.4.17 51022 10.0.0.5 22".into()),
    }
}

pub fn requests() -> Vec<ResyncRequest> {
    let request =
        |id: u64, targets: Vec<TiktokOrderId>, flow, reason: &str, by: Actor, minutes: i64| {
            ResyncRequest {
                id: RequestId(id),
                targets,
                flow,
                reason: reason.into(),
                requested_by: by,
                requested_at: at(-minutes),
                status: RequestStatus::Pending,
                outcomes: BTreeMap::new(),
            }
        };
    vec![
        request(
            41,
            vec![order_id(0), order_id(3)],
            ResyncFlow::Import,
            "customer called: order never arrived in Shopify",
            actor("bob", 1002, Role::Support),
            25,
        ),
        request(
            42,
            vec![order_id(MISSING_BASE + 2)],
            ResyncFlow::Tracking,
            "warehouse added the tracking late",
            actor("carol", 1003, Role::Support),
            12,
        ),
        request(
            43,
            vec![order_id(CANCELLED_BASE + 3)],
            ResyncFlow::Cancel,
            "store cancel failed, order is back in stock",
            actor("alice", 1001, Role::Operator),
            3,
        ),
    ]
}

/// The Activity view's rows, newest first: people's actions (as the service words audit
/// entries) between the engine's events, one of which carries a terminal escape in text that
/// came from a platform.
pub fn activity() -> Vec<ActivityItem> {
    let people = [
        (
            "alice",
            "ok",
            "settings.set uk-shop1: missing_tracking_after 1day → 12h",
            None,
        ),
        (
            "bob",
            "ok",
            "resync.request 576461413038785752 (customer called): R41",
            Some(0),
        ),
        (
            "dave",
            "refused",
            "cancel.approve 576461413040785758: only operator and above may approve or reject buyer cancel requests; you are viewer",
            Some(2),
        ),
        ("alice", "ok", "request.approve R40: 2 jobs queued", None),
        (
            "carol",
            "ok",
            "label.reprint 576461413039785755: printed",
            Some(1),
        ),
    ];
    let engine = [
        (
            "info",
            Some("uk-shop1"),
            None,
            "polled uk-shop1: 12 orders, 3 store changes, 4 jobs",
        ),
        (
            "info",
            Some("uk-shop1"),
            Some(3),
            "created store order #1042 (gid://shopify/Order/5512)",
        ),
        (
            "error",
            Some("uk-shop1"),
            Some(0),
            "import stuck: SKU GHOST-003 has no variant in store uk-shopify1",
        ),
        (
            "warn",
            Some("us-shop2"),
            None,
            "poll failed (will retry in 10s): TikTok 429 THROTTLED\u{1b}[2J",
        ),
        (
            "info",
            Some("de-shop3"),
            Some(5),
            "tracking JX0012345678 (Royal Mail) sent to TikTok",
        ),
        (
            "info",
            Some("us-shop2"),
            None,
            "access token refreshed; expires in 7d",
        ),
    ];
    (0..30)
        .map(|i| {
            let at = at(-(i as i64) * 7 - 1);
            if i % 3 == 1 {
                let (user, level, text, order) = people[(i / 3) % people.len()];
                ActivityItem {
                    at,
                    source: "audit".into(),
                    level: level.parse().expect("a level"),
                    who: user.into(),
                    link: None,
                    order: order.map(order_id),
                    text: text.into(),
                }
            } else {
                let (level, link_name, order, text) = engine[i % engine.len()];
                ActivityItem {
                    at,
                    source: "engine".into(),
                    level: level.parse().expect("a level"),
                    who: "orderdeck".into(),
                    link: link_name.map(link),
                    order: order.map(order_id),
                    text: text.into(),
                }
            }
        })
        .collect()
}
