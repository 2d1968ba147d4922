//! Webhook subscriptions of the simulated stores (`webhookSubscriptions`,
//! `webhookSubscriptionCreate`, `webhookSubscriptionDelete`) and their deliveries: every
//! 200 ms each store's orders are compared with what was last seen, and each change is sent as
//! Shopify names it (`orders/cancelled`, `fulfillments/create`, `fulfillments/update`,
//! `orders/updated`) with a REST-shaped snake_case payload, signed with the store's secret.

use std::collections::HashMap;
use std::sync::Weak;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Shared;
use super::state::{SandboxOrder, World};
use crate::sandbox::webhooks::{self, Delivery, Undeliverable};

/// One subscription: `WebhookSubscriptionTopic` and where it delivers.
#[derive(Debug, Clone)]
pub struct HookSubscription {
    pub id: String,
    pub topic: String,
    pub uri: String,
    pub created_at: DateTime<Utc>,
}

impl HookSubscription {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id, "topic": self.topic, "uri": self.uri, "callbackUrl": self.uri,
            "format": "JSON", "createdAt": self.created_at.to_rfc3339(),
            "updatedAt": self.created_at.to_rfc3339(), "includeFields": [], "metafieldNamespaces": [],
        })
    }
}

/// The topics a change of the order stands for, in Shopify's delivery spelling.
const TOPICS: [(&str, &str); 4] = [
    ("ORDERS_CANCELLED", "orders/cancelled"),
    ("FULFILLMENTS_CREATE", "fulfillments/create"),
    ("FULFILLMENTS_UPDATE", "fulfillments/update"),
    ("ORDERS_UPDATED", "orders/updated"),
];

impl World {
    pub fn webhook_subscriptions(&self, store: usize) -> Value {
        let nodes: Vec<Value> = self.stores[store]
            .subscriptions
            .iter()
            .map(HookSubscription::to_json)
            .collect();
        json!({ "nodes": nodes, "edges": [], "pageInfo": {"hasNextPage": false, "hasPreviousPage": false} })
    }

    /// Shopify takes an `https` uri (the sandbox also takes loopback `http`, where the demo's
    /// listener runs) and refuses a second subscription of a topic to the same address.
    pub fn webhook_subscription_create(
        &mut self,
        store: usize,
        args: &Value,
        wall: DateTime<Utc>,
    ) -> Value {
        let topic = args["topic"].as_str().unwrap_or_default().to_string();
        let uri = args["webhookSubscription"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let refuse = |message: &str| json!({"webhookSubscription": null, "userErrors": [{"field": ["webhookSubscription", "uri"], "message": message}]});
        match webhooks::check_destination(&uri, false) {
            Ok(()) => {}
            Err(Undeliverable::NotUrl) => return refuse("Address is invalid"),
            Err(_) => return refuse("Address protocol http:// is not supported"),
        }
        let subscriptions = &mut self.stores[store].subscriptions;
        if subscriptions
            .iter()
            .any(|s| s.topic == topic && s.uri == uri)
        {
            return refuse("Address for this topic has already been taken");
        }
        self.next_object_id += 1;
        let created = HookSubscription {
            id: format!("gid://shopify/WebhookSubscription/{}", self.next_object_id),
            topic,
            uri,
            created_at: wall,
        };
        let answer = created.to_json();
        self.stores[store].subscriptions.push(created);
        json!({"webhookSubscription": answer, "userErrors": []})
    }

    pub fn webhook_subscription_delete(&mut self, store: usize, args: &Value) -> Value {
        let id = args["id"].as_str().unwrap_or_default();
        let subscriptions = &mut self.stores[store].subscriptions;
        match subscriptions.iter().position(|s| s.id == id) {
            Some(at) => {
                subscriptions.remove(at);
                json!({"deletedWebhookSubscriptionId": id, "userErrors": []})
            }
            None => json!({
                "deletedWebhookSubscriptionId": null,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}]
            }),
        }
    }
}

/// What the watcher last saw of an order: when it changed, whether it was cancelled, and its
/// fulfillments with their tracking numbers.
#[derive(Clone, PartialEq, Eq)]
struct Seen {
    updated_at: DateTime<Utc>,
    cancelled: bool,
    fulfillments: Vec<(String, Vec<Option<String>>)>,
}

impl Seen {
    fn of(order: &SandboxOrder) -> Seen {
        Seen {
            updated_at: order.updated_at,
            cancelled: order.cancelled_at.is_some(),
            fulfillments: order
                .fulfillments
                .iter()
                .map(|f| {
                    (
                        f.id.clone(),
                        f.tracking.iter().map(|t| t.number.clone()).collect(),
                    )
                })
                .collect(),
        }
    }
}

fn legacy(gid: &str) -> u64 {
    gid.rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_default()
}

/// Delivers the stores' changes to their subscribers until the sandbox is dropped. Changes are
/// tracked from the start, subscribed or not, so an order changed just after a subscription is
/// news.
pub(super) fn deliver_changes(shared: Weak<Shared>) {
    let mut seen: HashMap<(usize, String), Seen> = HashMap::new();
    let mut serial = 0u64;
    webhooks::watch(move || {
        let shared = shared.upgrade()?;
        let world = shared.world();
        let mut found = Vec::new();
        for (index, store) in world.stores.iter().enumerate() {
            for order in &store.orders {
                let now = Seen::of(order);
                let before = seen.insert((index, order.id.clone()), now.clone());
                if before.as_ref() != Some(&now) && !store.subscriptions.is_empty() {
                    found.extend(changes(store, order, before.as_ref(), &now, &mut serial));
                }
            }
        }
        Some(found)
    })
}

/// The deliveries one change of `order` makes, to each subscription of its topics.
fn changes(
    store: &super::state::Store,
    order: &SandboxOrder,
    before: Option<&Seen>,
    now: &Seen,
    serial: &mut u64,
) -> Vec<(Delivery, String)> {
    let order_id = legacy(&order.id);
    let mut events: Vec<(&str, Value)> = Vec::new();
    if now.cancelled && !before.is_some_and(|b| b.cancelled) {
        events.push(("ORDERS_CANCELLED", json!({"id": order_id, "admin_graphql_api_id": order.id, "name": order.name, "cancelled_at": order.cancelled_at, "cancel_reason": order.cancel_reason})));
    }
    for (id, numbers) in &now.fulfillments {
        let earlier = before.and_then(|b| b.fulfillments.iter().find(|(f, _)| f == id));
        let topic = match earlier {
            None => "FULFILLMENTS_CREATE",
            Some((_, old)) if old != numbers => "FULFILLMENTS_UPDATE",
            Some(_) => continue,
        };
        let number = numbers.iter().flatten().next();
        events.push((topic, json!({"id": legacy(id), "admin_graphql_api_id": id, "order_id": order_id, "status": "success", "tracking_number": number})));
    }
    events.push(("ORDERS_UPDATED", json!({"id": order_id, "admin_graphql_api_id": order.id, "name": order.name, "updated_at": order.updated_at})));
    let mut out = Vec::new();
    for (topic, payload) in events {
        let Some((_, header)) = TOPICS.iter().find(|(t, _)| *t == topic) else {
            continue;
        };
        for subscription in store.subscriptions.iter().filter(|s| s.topic == topic) {
            *serial += 1;
            let id = format!("{}-{serial}", Utc::now().timestamp_micros());
            let delivery =
                webhooks::shopify(&store.name, &store.webhook_secret, &id, header, &payload);
            out.push((delivery, subscription.uri.clone()));
        }
    }
    out
}
