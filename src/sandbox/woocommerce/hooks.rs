//! The simulated sites' webhooks (`/wc/v3/webhooks`, woocommerce.md "Webhooks"): list, create
//! (checked as `WC_REST_Webhooks_Controller::create_item` checks a topic and a delivery URL, then
//! pinged once with the unsigned `webhook_id=N` form, whose answer changes nothing), get, and
//! delete (`force=true` only: webhooks have no trash). Every 200 ms each site's orders are
//! compared with what was last seen, and each change goes to the active webhooks of its topic
//! (`order.created`, `order.updated`) with the order as `GET /orders/{id}` shows it, signed with
//! the webhook's own secret. As WooCommerce does, a failed delivery is not retried; it is
//! counted, and after 5 failures in a row the webhook is `disabled` (woocommerce.md), so it sends
//! nothing more until someone makes it active again (`orderdeck webhooks register` replaces it).
//!
//! Only what moves `date_modified` is news, as only an order save fires WooCommerce's hooks
//! (an order first seen with `date_modified` after `date_created` counts as created, then saved):
//! a Shipment Tracking item added alone sends nothing (the poll finds it).

use std::collections::HashMap;
use std::sync::Weak;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::http::Shared;
use super::ops::{self, Answer, error};
use super::render;
use super::state::WooStore;
use crate::sandbox::webhooks::{self, WooSender};

/// One webhook of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WooWebhook {
    pub id: u64,
    pub name: String,
    /// `active`, `paused` or `disabled`.
    pub status: String,
    pub topic: String,
    pub delivery_url: String,
    pub secret: String,
    pub created: DateTime<Utc>,
    /// Deliveries failed in a row (`failure_count`).
    pub failures: u32,
}

/// Failed deliveries in a row after which WooCommerce disables a webhook.
const MAX_FAILURES: u32 = 5;

impl WooWebhook {
    /// Counts a delivery's fate as `WC_Webhook` does: a success clears the count, the fifth
    /// failure in a row disables the webhook.
    fn answered(&mut self, taken: bool) {
        if taken {
            self.failures = 0;
        } else {
            self.failures += 1;
            if self.failures >= MAX_FAILURES {
                self.status = "disabled".to_string();
            }
        }
    }
}

impl WooWebhook {
    /// The `view` context; `edit` (a create's answer) adds the secret.
    fn render(&self, edit: bool) -> Value {
        let (resource, event) = self.topic.split_once('.').unwrap_or((&self.topic, ""));
        let mut hook = json!({
            "id": self.id, "name": self.name, "status": self.status, "topic": self.topic,
            "resource": resource, "event": event, "hooks": hooks_of(&self.topic),
            "delivery_url": self.delivery_url,
            "date_created": render::date(self.created), "date_created_gmt": render::date(self.created),
            "date_modified": render::date(self.created), "date_modified_gmt": render::date(self.created),
        });
        if edit {
            hook["secret"] = json!(self.secret);
        }
        hook
    }
}

/// The WordPress actions a topic listens to (`WC_Webhook::get_topic_hooks`), as `hooks` shows.
fn hooks_of(topic: &str) -> Vec<&'static str> {
    match topic {
        "order.created" => vec![
            "woocommerce_new_order",
            "woocommerce_rest_insert_shop_order_object",
        ],
        "order.updated" => vec![
            "woocommerce_update_order",
            "woocommerce_order_refunded",
            "woocommerce_rest_insert_shop_order_object",
        ],
        _ => Vec::new(),
    }
}

/// `wc_is_webhook_valid_topic`: `action.<hook>`, or a resource and an event WooCommerce knows.
fn valid_topic(topic: &str) -> bool {
    let topic = topic.to_ascii_lowercase();
    match topic.split_once('.') {
        Some(("action", hook)) => !hook.is_empty(),
        Some((resource, event)) => {
            matches!(resource, "coupon" | "customer" | "order" | "product")
                && matches!(event, "created" | "updated" | "deleted" | "restored")
        }
        None => false,
    }
}

/// `wc_is_valid_url`: an http or https URL (WooCommerce itself delivers to either).
fn valid_delivery_url(address: &str) -> bool {
    url::Url::parse(address).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

fn invalid_webhook_id() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_shop_webhook_invalid_id",
        "Invalid ID.",
    )
}

/// `GET /webhooks`.
pub fn list_webhooks(store: &WooStore) -> Answer {
    let hooks: Vec<Value> = store.webhooks.iter().map(|w| w.render(false)).collect();
    let total = hooks.len().to_string();
    (
        StatusCode::OK,
        Value::Array(hooks),
        vec![("x-wp-total", total), ("x-wp-totalpages", "1".into())],
    )
}

/// `POST /webhooks` with a body the contract accepted (`webhook_create`): answered 201, and
/// pinged once in the background (WooCommerce pings every webhook it creates and ignores the
/// answer).
pub fn create_webhook(store: &mut WooStore, body: &Value, now: DateTime<Utc>) -> Answer {
    let topic = body["topic"].as_str().unwrap_or_default();
    if !valid_topic(topic) {
        return error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_shop_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
        );
    }
    let delivery_url = body["delivery_url"].as_str().unwrap_or_default();
    if !valid_delivery_url(delivery_url) {
        return error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_shop_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        );
    }
    let id = store.next_id();
    let hook = WooWebhook {
        id,
        name: body["name"].as_str().map_or_else(
            || {
                format!(
                    "Webhook created on {}",
                    now.format("%B %-d, %Y @ %-I:%M %p")
                )
            },
            str::to_string,
        ),
        status: body["status"].as_str().unwrap_or("active").to_string(),
        topic: topic.to_ascii_lowercase(),
        delivery_url: delivery_url.to_string(),
        // `create_item`: without a secret, WordPress makes one (`wp_generate_password( 50 )`).
        secret: match body["secret"].as_str() {
            Some(secret) if !secret.is_empty() => secret.to_string(),
            _ => hex::encode(Sha256::digest(format!("{id}{now}").as_bytes()))[..50].to_string(),
        },
        created: now,
        failures: 0,
    };
    let answer = (StatusCode::CREATED, hook.render(true), Vec::new());
    store.webhooks.push(hook);
    let ping = webhooks::woocommerce_ping(&store.name, id);
    webhooks::deliver_once(ping, delivery_url.to_string());
    answer
}

/// `GET /webhooks/{id}`.
pub fn get_webhook(store: &WooStore, id: u64) -> Answer {
    match store.webhooks.iter().find(|w| w.id == id) {
        Some(hook) => (StatusCode::OK, hook.render(false), Vec::new()),
        None => invalid_webhook_id(),
    }
}

/// `DELETE /webhooks/{id}`: only with `force=true`; answered with the webhook deleted.
pub fn delete_webhook(store: &mut WooStore, id: u64, raw_query: &[(String, String)]) -> Answer {
    let force = raw_query
        .iter()
        .any(|(k, v)| k == "force" && matches!(v.as_str(), "true" | "1"));
    if !force {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        );
    }
    let Some(at) = store.webhooks.iter().position(|w| w.id == id) else {
        return invalid_webhook_id();
    };
    let hook = store.webhooks.remove(at);
    (StatusCode::OK, hook.render(true), Vec::new())
}

/// Delivers the sites' order changes to their webhooks until the sandbox is dropped. Changes
/// are tracked from the start, subscribed or not, so an order saved just after a webhook is
/// made is news.
pub(super) fn deliver_changes(shared: Weak<Shared>) {
    let mut seen: HashMap<(String, u64), DateTime<Utc>> = HashMap::new();
    let mut serial = 0u64;
    let counted = shared.clone();
    let scan = move || {
        let shared = shared.upgrade()?;
        let base = shared
            .base_url
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let stores = shared.stores();
        let mut found = Vec::new();
        for store in stores.iter() {
            let site = format!("{base}/{}", store.slug);
            for order in &store.orders {
                let before = seen.insert((store.slug.clone(), order.id), order.modified);
                // An order first seen already saved again (both within one scan) was also
                // updated: WooCommerce would have fired both.
                let topics: &[&str] = match before {
                    None if order.modified > order.created => &["order.created", "order.updated"],
                    None => &["order.created"],
                    Some(at) if at != order.modified => &["order.updated"],
                    Some(_) => continue,
                };
                let active = store
                    .webhooks
                    .iter()
                    .filter(|w| w.status == "active" && topics.contains(&w.topic.as_str()));
                for hook in active {
                    let topic = hook.topic.as_str();
                    serial += 1;
                    let (_, payload, _) = ops::get_order(store, order.id, &site);
                    let sender = WooSender {
                        store: &store.name,
                        site_url: &site,
                        webhook_id: hook.id,
                        secret: &hook.secret,
                    };
                    let delivery_id = format!("{:x}{serial:04x}", Utc::now().timestamp_micros());
                    let delivery = webhooks::woocommerce(sender, &delivery_id, topic, &payload);
                    let webhook = (store.slug.clone(), hook.id);
                    found.push((delivery, hook.delivery_url.clone(), webhook));
                }
            }
        }
        Some(found)
    };
    let send = move |(delivery, url, (slug, id)): (_, _, (String, u64))| {
        let shared = counted.clone();
        webhooks::deliver_answered(delivery, url, move |taken| {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let mut stores = shared.stores();
            let hook = stores
                .iter_mut()
                .filter(|s| s.slug == slug)
                .flat_map(|s| s.webhooks.iter_mut())
                .find(|w| w.id == id);
            if let Some(hook) = hook {
                hook.answered(taken);
            }
        });
    };
    webhooks::watch_with(scan, send);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_delivery_urls_are_checked_as_woocommerce_does() {
        assert!(valid_topic("order.updated"));
        assert!(valid_topic("Order.Created"));
        assert!(valid_topic("action.woocommerce_order_status_cancelled"));
        assert!(
            !valid_topic("order.cancelled"),
            "woocommerce.md: no such topic"
        );
        assert!(!valid_topic("orders/cancelled"));
        assert!(!valid_topic("action."));
        assert!(valid_delivery_url("http://shop.example.com/hook"));
        assert!(valid_delivery_url(
            "https://od.example.com/webhooks/woocommerce/us"
        ));
        assert!(!valid_delivery_url("ftp://od.example.com/"));
        assert!(!valid_delivery_url("od.example.com/hook"));
    }
}
