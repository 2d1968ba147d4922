//! Store tests: builders of realistic records shared by the targeted tests (`targeted.rs`,
//! `lifecycle.rs`) and the model-based property test (`model.rs`).

mod job_lifecycle;
mod lifecycle;
mod model;
mod ops;
mod targeted;
mod verify;

use std::ops::Bound::Unbounded;
use std::path::Path;

use tempfile::TempDir;

use super::{LinkRecord, Store, StoreConfig, TreeId, ViewQuery, blocks};
use crate::domain::audit::{Actor, AuditEntry, AuditOutcome};
use crate::domain::cancellation::{
    CancelStatus, CancelType, Cancellation, CancellationKey, Direction,
};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{CancelId, JobId, LinkId, RequestId, TiktokOrderId};
use crate::domain::job::{Job, JobKind};
use crate::domain::order::{FlowState, Initiator, Order, OrderStatus, ShippingType};
use crate::domain::request::{RequestStatus, ResyncFlow, ResyncRequest};
use crate::domain::rules::fixtures;

/// A directory for a test store. The model test flushes thousands of times; on tmpfs an fsync
/// is free, so prefer `/dev/shm` when the host has it (the code path is the same).
pub fn tempdir() -> TempDir {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new()
        .prefix("orderdeck-store-")
        .tempdir_in(shm);
    match builder {
        Ok(dir) if shm.is_dir() => dir,
        _ => tempfile::tempdir().expect("a temporary directory"),
    }
}

/// The Orders view's list (every order, every link) at time 0.
pub fn every_order(offset: usize, limit: usize) -> ViewQuery<'static> {
    ViewQuery {
        view: crate::domain::triage::OrderView::All,
        link: None,
        offset,
        limit,
        now: fixtures::t(0),
    }
}

pub fn config(dir: &Path) -> StoreConfig {
    StoreConfig {
        path: dir.join("store"),
        cache_capacity: 4 * 1024 * 1024,
        ..StoreConfig::new(dir.join("store"))
    }
}

/// Every entry of `index` as `(key, value)`, in key order, however the tree stores them.
pub fn index_entries(store: &Store, index: TreeId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let entries: Box<dyn Iterator<Item = _>> = match blocks::is_blocked(index) {
        true => Box::new(blocks::range(
            index,
            store.tree(index),
            Unbounded,
            Unbounded,
            false,
        )),
        false => Box::new(
            store
                .tree(index)
                .iter()
                .map(|item| item.map_err(super::StoreError::sled("reading an index"))),
        ),
    };
    entries
        .map(|item| item.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
        .collect()
}

/// Writes (or, with `None`, removes) one entry of `index` behind the store's back, as damage
/// would.
pub fn set_index_entry(store: &Store, index: TreeId, key: &[u8], value: Option<&[u8]>) {
    let tree = store.tree(index);
    if blocks::is_blocked(index) {
        let mut changes = blocks::BlockChanges::new(index);
        changes.set(key, value);
        return changes.write_plainly(&tree).unwrap();
    }
    match value {
        Some(value) => drop(tree.insert(key, value).unwrap()),
        None => drop(tree.remove(key).unwrap()),
    }
}

/// Writes `orders` in one change.
pub fn put_orders(store: &Store, orders: &[Order]) {
    let change = super::Change {
        orders: orders.to_vec(),
        ..super::Change::default()
    };
    store.apply(&change).expect("orders written");
}

pub fn open(dir: &Path) -> Store {
    Store::open_with(&config(dir)).expect("store opens")
}

pub fn link(name: &str) -> LinkId {
    LinkId::new(name).expect("valid link name")
}

pub fn order_id(id: &str) -> TiktokOrderId {
    TiktokOrderId::new(id).expect("valid order id")
}

/// A paid, seller-shipped order (from the rule fixtures) with its own id and link.
pub fn order(id: &str, link_name: &str) -> Order {
    let mut order = fixtures::paid();
    order.id = order_id(id);
    order.link = link(link_name);
    order
}

/// A store at `dir` holding `count` orders, ids from `first_id` up, created `apart` seconds
/// after one another, of `links` in turn.
pub fn store_of_orders(
    dir: &Path,
    (first_id, count): (i64, i64),
    apart: i64,
    links: &[&str],
) -> Store {
    let store = open(dir);
    let orders: Vec<Order> = (0..count)
        .map(|n| {
            let link = links[n as usize % links.len()];
            let mut o = order(&format!("{}", first_id + n), link);
            o.tiktok.created_at = fixtures::t(n * apart);
            o
        })
        .collect();
    store
        .apply(&super::Change {
            orders,
            ..super::Change::default()
        })
        .expect("orders stored");
    store
}

/// An order TikTok ships, already in the store: listed only in the All view.
pub fn shipped_by_tiktok(id: &str, link_name: &str) -> Order {
    let mut order = fixtures::in_store(
        fixtures::order(OrderStatus::AwaitingShipment, ShippingType::Tiktok),
        vec![],
    );
    order.id = order_id(id);
    order.link = link(link_name);
    order
}

pub fn job(id: u64, order: &Order, at: Timestamp) -> Job {
    Job::new(
        JobId(id),
        order.id.clone(),
        order.link.clone(),
        JobKind::Import,
        at,
    )
}

pub fn buyer_request(cancel_id: &str, order: &Order, deadline: Option<Timestamp>) -> Cancellation {
    Cancellation {
        key: CancellationKey::Tiktok(CancelId::new(cancel_id).expect("valid cancel id")),
        order_id: order.id.clone(),
        link: order.link.clone(),
        direction: Direction::TiktokToStore,
        initiator: Initiator::Buyer,
        cancel_type: CancelType::BuyerRequest,
        reason_code: Some("buyer_cancel_reason_changed_mind".into()),
        reason_text: Some("No longer needed".into()),
        tiktok_status: Some(CancelStatus::Pending),
        seller_deadline: deadline,
        line_item_ids: Vec::new(),
        units: Vec::new(),
        restock: true,
        response: None,
        sync: FlowState::default(),
        created_at: fixtures::t(600),
        updated_at: fixtures::t(600),
    }
}

pub fn operator() -> Actor {
    Actor {
        user: "alice".into(),
        uid: 1001,
        role: Some(crate::domain::access::Role::Operator),
        from: Some("10.0.0.5 52100 10.0.0.1 22".into()),
    }
}

pub fn audit(at: Timestamp, action: &str) -> AuditEntry {
    AuditEntry::new(
        at,
        operator(),
        action,
        vec!["576461413038785752".into()],
        AuditOutcome::Ok { detail: None },
    )
}

pub fn request(id: u64, targets: &[&Order], at: Timestamp) -> ResyncRequest {
    ResyncRequest {
        id: RequestId(id),
        targets: targets.iter().map(|o| o.id.clone()).collect(),
        flow: ResyncFlow::Import,
        reason: "customer called: order missing in Shopify".into(),
        requested_by: operator(),
        requested_at: at,
        status: RequestStatus::Pending,
        outcomes: Default::default(),
    }
}

/// A Shopify link polled at `at`, its TikTok token valid for a day.
pub fn link_record(name: &str, at: Timestamp) -> LinkRecord {
    LinkRecord {
        link: link(name),
        shop: crate::domain::ids::ShopId::new(format!("{name}-shop")).expect("valid shop name"),
        store: crate::domain::ids::StorefrontId::new(format!("{name}-shopify"))
            .expect("valid store name"),
        platform: crate::domain::platform::Platform::Shopify,
        last_poll: Some(at),
        last_error: None,
        token_expires_at: Some(at + chrono::Duration::days(1)),
        authorization_expires_at: None,
        updated_at: at,
    }
}
