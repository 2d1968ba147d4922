//! The simulated stores' webhooks (`/v3/hooks`, bigcommerce.md "Webhooks"): the hooks of the
//! API account (list with its filters, create, get, delete) and their deliveries. Every 200 ms
//! each store's orders are compared with what was last seen, and each change is sent as
//! BigCommerce sends it: ids only (`store/order/created`, `store/order/updated`,
//! `store/order/statusUpdated` with the old and new status, `store/shipment/created` with its
//! order), signed by the Standard Webhooks scheme with the account's client secret, to every
//! active hook of that scope (or its `/*` wildcard).
//!
//! BigCommerce retries a failed delivery after 60 s, 180 s, 300 s…; the sandbox keeps the same
//! message (id and timestamp) but retries within seconds (`webhooks::deliver`). Shipments are
//! never edited here, so no `store/shipment/updated` is sent.

use std::collections::HashMap;
use std::sync::Weak;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::http::Shared;
use super::ops::{Answer, v3_error, v3_page};
use super::state::{BcOrder, BcStore};
use crate::sandbox::webhooks::{self, Delivery, Undeliverable};

/// One hook of the store's API account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BcHook {
    pub id: u64,
    pub scope: String,
    pub destination: String,
    pub is_active: bool,
    /// Custom headers, sent back with every delivery.
    pub headers: Option<Map<String, Value>>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The order and shipment scopes BigCommerce documents (and their wildcards). The sandbox
/// simulates only these; a hook of another scope is refused as unknown.
const SCOPES: &[&str] = &[
    "store/order/*",
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/statusUpdated",
    "store/order/message/created",
    "store/order/refund/created",
    "store/shipment/*",
    "store/shipment/created",
    "store/shipment/updated",
    "store/shipment/deleted",
];

impl BcHook {
    fn render(&self, store: &BcStore) -> Value {
        json!({
            "id": self.id, "client_id": store.client_id, "store_hash": store.hash,
            "scope": self.scope, "destination": self.destination, "is_active": self.is_active,
            "headers": self.headers, "created_at": self.created_at, "updated_at": self.updated_at,
        })
    }

    /// Whether an event of `scope` goes to this hook.
    fn covers(&self, scope: &str) -> bool {
        self.is_active
            && match self.scope.strip_suffix('*') {
                Some(prefix) => scope.starts_with(prefix),
                None => self.scope == scope,
            }
    }
}

/// The 422 BigCommerce answers a hook it cannot take, with the field at fault.
fn unprocessable(field: &str, why: &str) -> Answer {
    let (status, body) = v3_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "JSON data is missing or invalid",
    );
    let mut body = body.unwrap_or_default();
    body["errors"] = json!({ field: why });
    (status, Some(body))
}

fn hook_not_found(id: u64) -> Answer {
    v3_error(
        StatusCode::NOT_FOUND,
        &format!("Webhook with id [{id}] not found"),
    )
}

/// `GET /v3/hooks`: the account's hooks, filtered by `is_active`, `scope` and `destination`.
pub fn list_hooks(store: &BcStore, q: &Value) -> Answer {
    let active = q.get("is_active").and_then(Value::as_bool);
    let scope = q.get("scope").and_then(Value::as_str);
    let destination = q.get("destination").and_then(Value::as_str);
    let hooks: Vec<Value> = store
        .hooks
        .iter()
        .filter(|h| active.is_none_or(|a| h.is_active == a))
        .filter(|h| scope.is_none_or(|s| h.scope == s))
        .filter(|h| destination.is_none_or(|d| h.destination == d))
        .map(|h| h.render(store))
        .collect();
    (StatusCode::OK, Some(v3_page(&hooks, q, 50)))
}

/// `POST /v3/hooks` with a body the contract accepted (`webhook_Base`). BigCommerce keeps no
/// rule against a second hook of one scope and destination: both deliver.
pub fn create_hook(store: &mut BcStore, body: &Value, now: DateTime<Utc>) -> Answer {
    let scope = body["scope"].as_str().unwrap_or_default();
    if !SCOPES.contains(&scope) {
        return unprocessable("scope", &format!("{scope} is not a webhook scope"));
    }
    let destination = body["destination"].as_str().unwrap_or_default();
    match webhooks::check_destination(destination, true) {
        Ok(()) => {}
        Err(Undeliverable::NotUrl) => return unprocessable("destination", "not a URL"),
        Err(Undeliverable::NotHttps | Undeliverable::NotPort443) => {
            return unprocessable(
                "destination",
                "the destination must be served over HTTPS on port 443",
            );
        }
    }
    let hook = BcHook {
        id: store.next_id(),
        scope: scope.to_string(),
        destination: destination.to_string(),
        is_active: body
            .get("is_active")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        headers: body.get("headers").and_then(Value::as_object).cloned(),
        created_at: now.timestamp(),
        updated_at: now.timestamp(),
    };
    let answer = json!({ "data": hook.render(store), "meta": {} });
    store.hooks.push(hook);
    (StatusCode::OK, Some(answer))
}

/// `GET /v3/hooks/{id}`.
pub fn get_hook(store: &BcStore, id: u64) -> Answer {
    match store.hooks.iter().find(|h| h.id == id) {
        Some(hook) => (
            StatusCode::OK,
            Some(json!({ "data": hook.render(store), "meta": {} })),
        ),
        None => hook_not_found(id),
    }
}

/// `DELETE /v3/hooks/{id}`: answered with the hook deleted.
pub fn delete_hook(store: &mut BcStore, id: u64) -> Answer {
    let Some(at) = store.hooks.iter().position(|h| h.id == id) else {
        return hook_not_found(id);
    };
    let hook = store.hooks.remove(at);
    (
        StatusCode::OK,
        Some(json!({ "data": hook.render(store), "meta": {} })),
    )
}

/// What the watcher last saw of an order.
#[derive(Clone, PartialEq, Eq)]
struct Seen {
    status_id: u64,
    modified: DateTime<Utc>,
    shipments: Vec<u64>,
    /// Changed since it was made (an order first seen this way was also updated).
    touched: bool,
}

impl Seen {
    fn of(order: &BcOrder) -> Seen {
        Seen {
            status_id: order.status_id,
            modified: order.modified,
            shipments: order.shipments.iter().map(|s| s.id).collect(),
            touched: order.modified > order.created,
        }
    }
}

/// Delivers the stores' changes to their hooks until the sandbox is dropped. Changes are
/// tracked from the start, hooked or not, so an order changed just after a hook is made is
/// news.
pub(super) fn deliver_changes(shared: Weak<Shared>) {
    let mut seen: HashMap<(String, u64), Seen> = HashMap::new();
    let mut serial = 0u64;
    webhooks::watch(move || {
        let shared = shared.upgrade()?;
        let stores = shared.stores();
        let mut found = Vec::new();
        for store in stores.iter() {
            for order in &store.orders {
                let now = Seen::of(order);
                let before = seen.insert((store.hash.clone(), order.id), now.clone());
                if before.as_ref() != Some(&now) && store.hooks.iter().any(|h| h.is_active) {
                    let events = events(order.id, before.as_ref(), &now);
                    found.extend(deliveries(store, &events, &mut serial));
                }
            }
        }
        Some(found)
    })
}

/// The (scope, data) events one change of an order makes.
fn events(order: u64, before: Option<&Seen>, now: &Seen) -> Vec<(&'static str, Value)> {
    let mut events = Vec::new();
    match before {
        None => {
            events.push(("store/order/created", json!({"type": "order", "id": order})));
            // Made and changed between two looks: the change is news too (its previous status
            // is not known here, so it goes as an update).
            if now.touched {
                events.push(("store/order/updated", json!({"type": "order", "id": order})));
            }
        }
        Some(before) => {
            if before.status_id != now.status_id {
                events.push((
                    "store/order/statusUpdated",
                    json!({"type": "order", "id": order, "status": {
                        "previous_status_id": before.status_id, "new_status_id": now.status_id}}),
                ));
            }
            events.push(("store/order/updated", json!({"type": "order", "id": order})));
        }
    }
    for shipment in &now.shipments {
        if !before.is_some_and(|b| b.shipments.contains(shipment)) {
            events.push((
                "store/shipment/created",
                json!({"type": "shipment", "id": shipment, "orderId": order}),
            ));
        }
    }
    events
}

/// Each event, signed, to each active hook that covers its scope.
fn deliveries(
    store: &BcStore,
    events: &[(&'static str, Value)],
    serial: &mut u64,
) -> Vec<(Delivery, String)> {
    let now = Utc::now().timestamp();
    let mut out = Vec::new();
    for (scope, data) in events {
        // `hash` identifies the event for deduplication; BigCommerce's is a SHA-1 of it.
        let hash: String = hex::encode(Sha256::digest(data.to_string().as_bytes()))
            .chars()
            .take(40)
            .collect();
        let payload = json!({
            "scope": scope, "store_id": store.store_id, "data": data, "hash": hash,
            "created_at": now, "producer": format!("stores/{}", store.hash),
        });
        for hook in store.hooks.iter().filter(|h| h.covers(scope)) {
            *serial += 1;
            let id = format!("msg_{}{serial}", Utc::now().timestamp_micros());
            let mut delivery =
                webhooks::bigcommerce(&store.name, &store.client_secret, &id, now, &payload);
            for (name, value) in hook.headers.iter().flatten() {
                if let Some(value) = value.as_str() {
                    delivery.headers.push((name.clone(), value.to_string()));
                }
            }
            out.push((delivery, hook.destination.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(scope: &str, active: bool) -> BcHook {
        BcHook {
            id: 1,
            scope: scope.into(),
            destination: "https://od.example.com/webhooks/bigcommerce/us".into(),
            is_active: active,
            headers: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_hook_takes_its_own_scope_or_its_wildcards_while_active() {
        assert!(hook("store/order/statusUpdated", true).covers("store/order/statusUpdated"));
        assert!(!hook("store/order/statusUpdated", true).covers("store/order/updated"));
        assert!(hook("store/order/*", true).covers("store/order/updated"));
        assert!(!hook("store/order/*", true).covers("store/shipment/created"));
        assert!(!hook("store/order/updated", false).covers("store/order/updated"));
    }

    #[test]
    fn a_cancel_is_a_status_update_and_a_parcel_a_shipment_of_its_order() {
        let at = Utc::now();
        let before = Seen {
            status_id: 11,
            modified: at,
            shipments: vec![],
            touched: false,
        };
        let cancelled = Seen {
            status_id: 5,
            modified: at + chrono::Duration::seconds(1),
            shipments: vec![],
            touched: true,
        };
        let scopes = |events: Vec<(&str, Value)>| -> Vec<String> {
            events.into_iter().map(|(s, _)| s.to_string()).collect()
        };
        let made = events(250, Some(&before), &cancelled);
        assert_eq!(
            made[0].1["status"],
            json!({"previous_status_id": 11, "new_status_id": 5})
        );
        assert_eq!(
            scopes(made),
            ["store/order/statusUpdated", "store/order/updated"]
        );
        let shipped = Seen {
            shipments: vec![7],
            ..before.clone()
        };
        let made = events(250, Some(&before), &shipped);
        assert_eq!(
            made[1].1,
            json!({"type": "shipment", "id": 7, "orderId": 250})
        );
        assert_eq!(scopes(events(250, None, &before)), ["store/order/created"]);
        assert_eq!(
            scopes(events(250, None, &cancelled)),
            ["store/order/created", "store/order/updated"],
            "made and cancelled between two looks"
        );
    }
}
