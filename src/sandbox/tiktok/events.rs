//! Webhook subscriptions (`GET|PUT|DELETE /event/202309/webhooks`: one address per event
//! type and shop) and their deliveries: every 200 ms the world is compared with what was last
//! seen, and each order status change (type 1) and cancellation change (type 11) is sent,
//! signed with the shop's app secret, to the address subscribed to it.

use std::collections::HashMap;
use std::sync::Weak;

use serde_json::{Value, json};

use super::Shared;
use super::gate::ApiError;
use super::routes::Request;
use super::world::World;
use crate::sandbox::webhooks::{self, Delivery, Undeliverable};

pub const ORDER_STATUS_CHANGE: &str = "ORDER_STATUS_CHANGE";
pub const CANCELLATION_STATUS_CHANGE: &str = "CANCELLATION_STATUS_CHANGE";
/// The event types TikTok documents; others are refused.
const KNOWN: &[&str] = &[
    ORDER_STATUS_CHANGE,
    "PACKAGE_UPDATE",
    "SELLER_DEAUTHORIZATION",
    "UPCOMING_AUTHORIZATION_EXPIRATION",
    CANCELLATION_STATUS_CHANGE,
];

fn event_type(request: &Request) -> Result<String, ApiError> {
    match request.body.get("event_type").and_then(Value::as_str) {
        Some(event) if KNOWN.contains(&event) => Ok(event.to_string()),
        Some(event) => Err(ApiError::invalid(format!("Unknown event_type '{event}'."))),
        None => Err(ApiError::invalid("event_type is required.")),
    }
}

pub(super) fn list(world: &World, request: &Request) -> Result<Value, ApiError> {
    let hooks: Vec<Value> = world.shops[request.shop]
        .webhooks
        .iter()
        .map(|(event, address)| json!({"event_type": event, "address": address}))
        .collect();
    Ok(json!({ "webhooks": hooks }))
}

/// TikTok calls HTTPS addresses only; the sandbox also takes loopback ones, where the demo's
/// listener runs without TLS.
pub(super) fn update(world: &mut World, request: &Request) -> Result<Value, ApiError> {
    let event = event_type(request)?;
    let address = request
        .body
        .get("address")
        .and_then(Value::as_str)
        .unwrap_or("");
    match webhooks::check_destination(address, false) {
        Ok(()) => {}
        Err(Undeliverable::NotUrl) => {
            return Err(ApiError::invalid(format!(
                "address '{address}' is not a URL."
            )));
        }
        Err(_) => return Err(ApiError::invalid("The webhook address must use https.")),
    }
    world.shops[request.shop]
        .webhooks
        .insert(event, address.to_string());
    Ok(json!({}))
}

pub(super) fn delete(world: &mut World, request: &Request) -> Result<Value, ApiError> {
    let event = event_type(request)?;
    world.shops[request.shop].webhooks.remove(&event);
    Ok(json!({}))
}

/// What the watcher last saw of each order and cancellation.
#[derive(Default)]
struct Seen {
    orders: HashMap<String, (String, i64)>,
    cancellations: HashMap<String, (String, i64)>,
}

/// Delivers the world's changes to its subscribers until the sandbox is dropped. Changes are
/// tracked from the start, subscribed or not, so an order that arrives just after a
/// subscription is news, as it is on TikTok.
pub(super) fn deliver_changes(shared: Weak<Shared>) {
    let mut seen = Seen::default();
    webhooks::watch(move || {
        let shared = shared.upgrade()?;
        let world = shared.world();
        let mut found = Vec::new();
        for order in world.orders.values() {
            let now = (order.status.clone(), order.update_time);
            if seen.orders.insert(order.id.clone(), now.clone()).as_ref() == Some(&now) {
                continue;
            }
            let data = json!({"order_id": order.id, "order_status": order.status, "update_time": order.update_time});
            found.extend(event(&world, order.shop, ORDER_STATUS_CHANGE, 1, data));
        }
        for (id, cancel) in &world.cancellations {
            let now = (cancel.spec.cancel_status.clone(), cancel.update_time);
            if seen.cancellations.insert(id.clone(), now.clone()).as_ref() == Some(&now) {
                continue;
            }
            let data = json!({
                "order_id": cancel.order_id, "cancel_id": id,
                "cancel_status": cancel.spec.cancel_status, "cancellations_role": cancel.spec.role,
            });
            found.extend(event(
                &world,
                cancel.shop,
                CANCELLATION_STATUS_CHANGE,
                11,
                data,
            ));
        }
        Some(found)
    });
}

/// The delivery of one event to the shop's subscriber, if it has one.
fn event(
    world: &World,
    shop: usize,
    event: &str,
    kind: u32,
    data: Value,
) -> Option<(Delivery, String)> {
    let shop = &world.shops[shop];
    let address = shop.webhooks.get(event)?;
    let id = format!(
        "{}{:06}",
        chrono::Utc::now().timestamp_micros(),
        rand::random::<u32>() % 1_000_000
    );
    let delivery = webhooks::tiktok(
        &shop.spec.app_key,
        &shop.spec.app_secret,
        &id,
        &shop.spec.shop_id,
        kind,
        data,
    );
    Some((delivery, address.clone()))
}
