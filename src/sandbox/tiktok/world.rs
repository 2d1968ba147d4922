//! The simulated TikTok Shop's state: shops with their tokens, orders with packages, and
//! cancellations, seeded from a [`Scenario`] and rendered to JSON in TikTok's documented shapes
//! (field names checked against the official samples in this module's tests).
//!
//! Invariants: every change to an order moves its `update_time` to now (the client polls by
//! it); an ON_HOLD order never shows its address; an order's line items are one per unit.
//! Nothing here knows the client or the domain types.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::gate::Limiter;
use crate::sandbox::scenario::{BuyerSpec, CancelSpec, OrderSpec, Scenario, ShopSpec};

pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[derive(Debug)]
pub(super) struct Shop {
    pub spec: ShopSpec,
    /// Live tokens (the spec's, until refreshed or expired by the control API).
    pub access_token: String,
    pub access_expires_at: i64,
    pub refresh_token: String,
    pub refresh_expires_at: i64,
    /// Event type → the address its webhooks go to.
    pub webhooks: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(super) struct Line {
    pub id: String,
    pub sku_id: String,
    pub seller_sku: String,
    pub product_name: String,
    pub sku_name: String,
    pub sale_price: String,
    /// Cancelled on its own (a partial cancel); the order goes on with the others.
    pub cancelled: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Package {
    pub id: String,
    pub line_ids: Vec<String>,
    pub tracking_number: Option<String>,
    pub provider_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Order {
    pub shop: usize,
    pub id: String,
    pub status: String,
    pub shipping_type: String,
    pub create_time: i64,
    pub update_time: i64,
    pub paid_time: Option<i64>,
    pub rts_sla_time: i64,
    pub lines: Vec<Line>,
    pub buyer: BuyerSpec,
    pub buyer_message: Option<String>,
    pub packages: Vec<Package>,
    pub cancel_reason: Option<String>,
    pub cancellation_initiator: Option<String>,
    pub is_buyer_request_cancel: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Cancellation {
    pub shop: usize,
    pub order_id: String,
    pub spec: CancelSpec,
    pub update_time: i64,
    /// The line items it cancels; empty for the whole order.
    pub line_ids: Vec<String>,
}

/// An order injected verbatim (for lenient-parsing tests): listed by search as it is.
#[derive(Debug, Clone)]
pub(super) struct RawOrder {
    pub shop: usize,
    pub update_time: i64,
    pub json: Value,
}

/// What an idempotency key was first used for, and the answer it got.
#[derive(Debug, Clone)]
pub(super) struct Replay {
    pub action: &'static str,
    pub cancel_id: String,
    pub answer: Result<Value, super::gate::ApiError>,
}

/// Per endpoint: what tests ask about.
#[derive(Debug, Default)]
pub(super) struct CallStats {
    pub count: usize,
    pub last_body: Option<Value>,
    pub arrivals: std::collections::VecDeque<std::time::Instant>,
    pub answered_429: usize,
}

#[derive(Debug, Default)]
pub(super) struct World {
    pub shops: Vec<Shop>,
    pub orders: BTreeMap<String, Order>,
    pub raw_orders: Vec<RawOrder>,
    pub cancellations: BTreeMap<String, Cancellation>,
    /// (shop, idempotency key) → the first answer given for it.
    pub idempotency: HashMap<(usize, String), Replay>,
    /// Document token → (package id, expiry).
    pub documents: HashMap<String, (String, i64)>,
    /// Single-use auth codes → shop.
    pub auth_codes: HashMap<String, usize>,
    pub calls: HashMap<&'static str, CallStats>,
    /// Order id → seller tracking writes TikTok accepted (ship, mark shipped, update).
    pub tracking_writes: HashMap<String, u32>,
    pub limiter: Limiter,
    serial: u64,
}

impl World {
    pub fn seed(scenario: &Scenario) -> World {
        let mut world = World::default();
        for spec in &scenario.shops {
            world.shops.push(Shop {
                access_token: spec.access_token.clone(),
                access_expires_at: spec.access_expires_at,
                refresh_token: spec.refresh_token.clone(),
                refresh_expires_at: spec.refresh_expires_at,
                webhooks: Default::default(),
                spec: spec.clone(),
            });
        }
        for order in &scenario.orders {
            world.add_order(order);
        }
        world
    }

    pub fn shop_index(&self, name: &str) -> Option<usize> {
        self.shops.iter().position(|s| s.spec.name == name)
    }

    /// Adds (or replaces) an order from its scenario spec, with its cancellation if any.
    pub fn add_order(&mut self, spec: &OrderSpec) -> bool {
        let Some(shop) = self.shop_index(&spec.shop) else {
            return false;
        };
        let provider_id = self.shops[shop]
            .spec
            .providers
            .first()
            .map(|(id, _)| id.clone());
        let lines: Vec<Line> = spec
            .lines
            .iter()
            .map(|l| Line {
                id: l.line_item_id.clone(),
                sku_id: l.sku_id.clone(),
                seller_sku: l.seller_sku.clone(),
                product_name: l.product_name.clone(),
                sku_name: l.sku_name.clone(),
                sale_price: l.sale_price.clone(),
                cancelled: false,
            })
            .collect();
        let shipped = spec.tracking_number.is_some();
        let package = Package {
            id: spec.package_id.clone(),
            line_ids: lines.iter().map(|l| l.id.clone()).collect(),
            tracking_number: spec.tracking_number.clone(),
            provider_id: if shipped { provider_id } else { None },
        };
        let cancel = spec.cancel.clone();
        let cancelled = spec.status == "CANCELLED";
        self.orders.insert(
            spec.id.clone(),
            Order {
                shop,
                id: spec.id.clone(),
                status: spec.status.clone(),
                shipping_type: spec.shipping_type.clone(),
                create_time: spec.create_time,
                update_time: spec.update_time,
                paid_time: spec.paid_time,
                rts_sla_time: spec.rts_sla_time,
                buyer: with_hidden_address(&spec.buyer, &spec.id),
                lines,
                buyer_message: spec.buyer_message.clone(),
                packages: vec![package],
                cancel_reason: cancel
                    .as_ref()
                    .filter(|_| cancelled)
                    .map(|c| c.reason_text.clone()),
                cancellation_initiator: cancel
                    .as_ref()
                    .filter(|_| cancelled)
                    .map(|c| c.role.clone()),
                is_buyer_request_cancel: cancel
                    .as_ref()
                    .is_some_and(|c| c.cancel_status == "CANCELLATION_REQUEST_PENDING"),
            },
        );
        if let Some(c) = cancel {
            self.cancellations.insert(
                c.cancel_id.clone(),
                Cancellation {
                    shop,
                    order_id: spec.id.clone(),
                    update_time: spec.update_time.max(c.create_time),
                    spec: c,
                    line_ids: Vec::new(),
                },
            );
        }
        true
    }

    pub fn count_tracking_write(&mut self, order_id: &str) {
        *self
            .tracking_writes
            .entry(order_id.to_string())
            .or_default() += 1;
    }

    /// A fresh numeric id (19 digits, like TikTok's).
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!(
            "{prefix}{:0width$}",
            self.serial,
            width = 19usize.saturating_sub(prefix.len())
        )
    }

    pub fn order_json(&self, order: &Order) -> Value {
        let shop = &self.shops[order.shop].spec;
        let tracked = order.packages.iter().find(|p| p.tracking_number.is_some());
        let provider_id = tracked.and_then(|p| p.provider_id.clone());
        let provider_name = provider_id
            .as_ref()
            .and_then(|id| shop.providers.iter().find(|(p, _)| p == id))
            .map(|(_, n)| n.clone());
        let package_of = |line: &str| {
            order
                .packages
                .iter()
                .find(|p| p.line_ids.iter().any(|l| l == line))
        };
        let display_status = if order.status == "AWAITING_SHIPMENT" {
            "TO_SHIP"
        } else {
            order.status.as_str()
        };
        let line_items: Vec<Value> = order
            .lines
            .iter()
            .map(|l| {
                let package = package_of(&l.id);
                json!({
                    "id": l.id, "sku_id": l.sku_id, "seller_sku": l.seller_sku, "product_name": l.product_name,
                    "sku_name": l.sku_name, "sale_price": l.sale_price, "original_price": l.sale_price,
                    "currency": shop.currency,
                    "display_status": if l.cancelled { "CANCELLED" } else { display_status },
                    "package_id": package.map(|p| p.id.clone()).unwrap_or_default(),
                    "tracking_number": package.and_then(|p| p.tracking_number.clone()).unwrap_or_default(),
                    "shipping_provider_id": package.and_then(|p| p.provider_id.clone()).unwrap_or_default(),
                })
            })
            .collect();
        let total = sum_prices(order.lines.iter().map(|l| l.sale_price.as_str()));
        let mut out = json!({
            "id": order.id,
            "status": order.status,
            "create_time": order.create_time,
            "update_time": order.update_time,
            "rts_sla_time": order.rts_sla_time,
            "shipping_due_time": order.rts_sla_time,
            "fulfillment_type": "FULFILLMENT_BY_SELLER",
            "shipping_type": order.shipping_type,
            "delivery_option_id": shop.delivery_option_id,
            "is_buyer_request_cancel": order.is_buyer_request_cancel,
            "is_on_hold_order": order.status == "ON_HOLD",
            "tracking_number": tracked.and_then(|p| p.tracking_number.clone()).unwrap_or_default(),
            "shipping_provider_id": provider_id.unwrap_or_default(),
            "shipping_provider": provider_name.unwrap_or_default(),
            "packages": order.packages.iter().map(|p| json!({"id": p.id})).collect::<Vec<_>>(),
            "payment": {"currency": shop.currency, "sub_total": total, "shipping_fee": "0.00", "total_amount": total},
            "recipient_address": address_json(&order.buyer, order.status == "ON_HOLD"),
            "line_items": line_items,
        });
        let fields = out.as_object_mut().expect("built as an object");
        if let Some(paid) = order.paid_time {
            fields.insert("paid_time".into(), json!(paid));
        }
        if let Some(message) = &order.buyer_message {
            fields.insert("buyer_message".into(), json!(message));
        }
        if let Some(reason) = &order.cancel_reason {
            fields.insert("cancel_reason".into(), json!(reason));
        }
        if let Some(initiator) = &order.cancellation_initiator {
            fields.insert("cancellation_initiator".into(), json!(initiator));
        }
        out
    }

    pub fn cancellation_json(&self, cancel: &Cancellation) -> Value {
        let shop = &self.shops[cancel.shop].spec;
        let order = self.orders.get(&cancel.order_id);
        let lines: Vec<&Line> = order
            .map(|o| {
                o.lines
                    .iter()
                    .filter(|l| cancel.line_ids.is_empty() || cancel.line_ids.contains(&l.id))
                    .collect()
            })
            .unwrap_or_default();
        let refund = |amount: String| json!({"currency": shop.currency, "refund_total": amount});
        let c = &cancel.spec;
        let mut out = json!({
            "cancel_id": c.cancel_id,
            "order_id": cancel.order_id,
            "cancel_type": c.cancel_type,
            "cancel_status": c.cancel_status,
            "role": c.role,
            "cancel_reason": c.reason,
            "cancel_reason_text": c.reason_text,
            "create_time": c.create_time,
            "update_time": cancel.update_time,
            "refund_amount": refund(sum_prices(lines.iter().map(|l| l.sale_price.as_str()))),
            "cancel_line_items": lines.iter().enumerate().map(|(i, l)| json!({
                "cancel_line_item_id": format!("{}{i:02}", c.cancel_id),
                "order_line_item_id": l.id, "sku_id": l.sku_id, "sku_name": l.sku_name,
                "product_name": l.product_name, "seller_sku": l.seller_sku,
                "refund_amount": refund(l.sale_price.clone()),
            })).collect::<Vec<_>>(),
        });
        if let (Some(deadline), "CANCELLATION_REQUEST_PENDING") =
            (c.deadline, c.cancel_status.as_str())
        {
            out["seller_next_action_response"] =
                json!([{"action": "SELLER_RESPOND_CANCEL", "deadline": deadline}]);
        }
        out
    }
}

/// ON_HOLD orders of the scenario come without an address (TikTok hides it). The buyer did
/// give one: make one up from the id, shown once the order leaves ON_HOLD.
fn with_hidden_address(buyer: &BuyerSpec, order_id: &str) -> BuyerSpec {
    let mut buyer = buyer.clone();
    let tail = &order_id[order_id.len().saturating_sub(4)..];
    if buyer.address_line1.trim().is_empty() {
        buyer.address_line1 = format!("{} Hidden Lane", tail.trim_start_matches('0'));
    }
    if buyer.first_name.is_empty() {
        buyer.first_name = "Buyer".into();
        buyer.last_name = tail.to_string();
    }
    buyer
}

fn address_json(buyer: &BuyerSpec, hidden: bool) -> Value {
    let shown = |s: &str| if hidden { String::new() } else { s.to_string() };
    let name = format!("{} {}", buyer.first_name, buyer.last_name);
    let lines = [buyer.address_line1.as_str(), buyer.address_line2.as_str()];
    let full = [
        lines[0],
        lines[1],
        &buyer.city,
        &buyer.state,
        &buyer.postal_code,
    ]
    .iter()
    .filter(|s| !s.trim().is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(", ");
    json!({
        "name": shown(name.trim()), "first_name": shown(&buyer.first_name), "last_name": shown(&buyer.last_name),
        "phone_number": buyer.phone, "full_address": shown(&full),
        "address_line1": shown(lines[0]), "address_line2": shown(lines[1]), "address_line3": "", "address_line4": "",
        "postal_code": buyer.postal_code, "region_code": buyer.region_code,
        "district_info": [
            {"address_level": "L0", "address_level_name": "Country", "address_name": buyer.country},
            {"address_level": "L1", "address_level_name": "State", "address_name": buyer.state},
            {"address_level": "L2", "address_level_name": "City", "address_name": buyer.city},
        ],
    })
}

/// Sums decimal strings with two places ("12.5" and "3.05" → "15.55"); garbage counts as 0.
fn sum_prices<'a>(prices: impl Iterator<Item = &'a str>) -> String {
    let cents: i64 = prices
        .map(|p| {
            let (whole, frac) = p.trim().split_once('.').unwrap_or((p.trim(), ""));
            let frac = format!("{frac:0<2}");
            whole.parse::<i64>().unwrap_or(0) * 100 + frac[..2].parse::<i64>().unwrap_or(0)
        })
        .sum();
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scenario::Size;
    use crate::sandbox::tiktok::tests_support::{assert_documented, sample_response};

    fn world() -> World {
        World::seed(&Scenario::generate(
            3,
            Size {
                shops: 3,
                orders_per_shop: 60,
            },
            1_700_000_000,
        ))
    }

    #[test]
    fn rendered_orders_use_only_documented_fields() {
        let world = world();
        let sample = &sample_response("get_order_detail")["orders"][0];
        for order in world.orders.values() {
            assert_documented(&world.order_json(order), sample, "order");
        }
    }

    #[test]
    fn rendered_cancellations_use_only_documented_fields() {
        let world = world();
        let sample = &sample_response("search_cancellations")["cancellations"][0];
        assert!(!world.cancellations.is_empty());
        for cancel in world.cancellations.values() {
            assert_documented(&world.cancellation_json(cancel), sample, "cancellation");
        }
    }

    #[test]
    fn on_hold_orders_hide_the_address_until_released() {
        let mut world = world();
        let id = world
            .orders
            .values()
            .find(|o| o.status == "ON_HOLD")
            .map(|o| o.id.clone())
            .unwrap();
        let hidden = world.order_json(&world.orders[&id]);
        assert_eq!(hidden["recipient_address"]["address_line1"], "");
        world.orders.get_mut(&id).unwrap().status = "AWAITING_SHIPMENT".into();
        let shown = world.order_json(&world.orders[&id]);
        assert_ne!(shown["recipient_address"]["address_line1"], "");
        assert_ne!(shown["recipient_address"]["name"], "");
    }

    #[test]
    fn prices_sum_in_cents() {
        assert_eq!(sum_prices(["12.5", "3.05", "1"].into_iter()), "16.55");
        assert_eq!(sum_prices(["x"].into_iter()), "0.00");
    }
}
