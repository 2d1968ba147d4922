//! A simulated TikTok Shop on loopback: the API host and the auth host, speaking TikTok's
//! documented wire format (`shared/platforms/tiktok-shop.md`, `tiktok-samples.json`).
//!
//! It checks what TikTok checks (app key, timestamp window, signature, access token, shop
//! cipher, documented parameters, 50 requests per second per API per shop), keeps state
//! seeded from a [`Scenario`], acts out faults armed per endpoint in [`Faults`] (endpoint names
//! are the keys of `tiktok-samples.json`, plus `update_shipping_info`, `refresh_token` and
//! `get_token`), and offers a control API for tests and the demo.
//!
//! Two listeners, so a client that sends an API call to the auth host (or the reverse) gets a
//! 404 as it would from TikTok: [`TiktokSandbox::api_base`] and [`TiktokSandbox::auth_base`].
//! Independent of the client by design: nothing here uses `crate::platforms` or domain types.

mod auth;
mod cancellations;
mod events;

/// Text the simulated TikTok sends damaged, as real answers sometimes are: a Rust string cannot
/// hold half an emoji or bytes that are not UTF-8, so a test writes these stand-ins in any
/// field and the answer carries a lone `\ud83d` escape, or the bytes `FF FE`, in their place.
pub const SEND_LONE_SURROGATE: char = '\u{10FFFD}';
pub const SEND_NOT_UTF8: char = '\u{10FFFC}';
mod fulfillment;
mod gate;
mod orders;
mod routes;
mod world;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use axum::response::Response;
use serde_json::Value;

pub use gate::RATE_LIMIT;

use super::faults::Faults;
use super::scenario::{OrderSpec, Scenario};
use super::serve::{RunningServer, serve};
use gate::ApiError;
use world::{RawOrder, World, unix_now};

const ARRIVALS_KEPT: std::time::Duration = std::time::Duration::from_secs(600);

/// State shared by both listeners' handlers.
pub(crate) struct Shared {
    world: Mutex<World>,
    faults: Faults,
    request_seq: AtomicU64,
    api_base: OnceLock<String>,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a call of `name` and keeps its body; answers its arrival time.
    fn record(&self, name: &'static str, body: Option<&[u8]>) -> Instant {
        let arrival = Instant::now();
        let mut world = self.world();
        let stats = world.calls.entry(name).or_default();
        stats.count += 1;
        // Arrivals feed the rate report; ten minutes of them bound the memory of a long demo.
        while stats
            .arrivals
            .front()
            .is_some_and(|t| arrival.duration_since(*t) > ARRIVALS_KEPT)
        {
            stats.arrivals.pop_front();
        }
        stats.arrivals.push_back(arrival);
        stats.last_body = body.and_then(|b| serde_json::from_slice(b).ok());
        arrival
    }

    /// The envelope with a fresh request id, counting 429s.
    fn answer(&self, name: &'static str, outcome: Result<Value, ApiError>) -> Response {
        if matches!(&outcome, Err(e) if e.http == axum::http::StatusCode::TOO_MANY_REQUESTS) {
            self.world().calls.entry(name).or_default().answered_429 += 1;
        }
        routes::envelope(self.request_id(), outcome)
    }

    /// Shaped like TikTok's (a UTC time stamp, then 20 hex digits) and unique per answer.
    fn request_id(&self) -> String {
        let seq = self.request_seq.fetch_add(1, Ordering::Relaxed);
        format!("{}{seq:020X}", chrono::Utc::now().format("%Y%m%d%H%M%S"))
    }

    fn api_base(&self) -> String {
        self.api_base.get().cloned().unwrap_or_default()
    }
}

/// How one API was called: for pacing and fault assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateReport {
    pub calls: usize,
    /// The most calls that arrived within any one second (of the last ten minutes).
    pub max_in_any_second: usize,
    pub answered_429: usize,
}

/// A package's seller tracking as the sandbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub package_id: String,
    pub tracking_number: String,
    pub provider_id: Option<String>,
    /// The line items (units) the package holds.
    pub line_ids: Vec<String>,
}

/// A cancellation as the sandbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationRecord {
    pub cancel_id: String,
    /// `CANCEL` or `BUYER_CANCEL`.
    pub cancel_type: String,
    pub status: String,
    /// `BUYER`, `SELLER` or `SYSTEM`.
    pub role: String,
    /// The reason code.
    pub reason: String,
    pub created_at: i64,
}

/// A running simulated TikTok Shop. Dropping it stops both listeners.
pub struct TiktokSandbox {
    shared: Arc<Shared>,
    api: RunningServer,
    auth: RunningServer,
}

impl TiktokSandbox {
    /// The API host listens on `addr` (port 0: any free port), the auth host on any free port
    /// of the same address.
    pub async fn start(scenario: &Scenario, addr: SocketAddr) -> std::io::Result<TiktokSandbox> {
        let shared = Arc::new(Shared {
            world: Mutex::new(World::seed(scenario)),
            faults: Faults::new(scenario.seed),
            request_seq: AtomicU64::new(1),
            api_base: OnceLock::new(),
        });
        let api = serve(routes::api_router(shared.clone()), addr).await?;
        let auth = serve(
            routes::auth_router(shared.clone()),
            SocketAddr::new(addr.ip(), 0),
        )
        .await?;
        // Set before anyone knows the address, so every document URL points here.
        let _ = shared.api_base.set(api.base_url());
        events::deliver_changes(Arc::downgrade(&shared));
        Ok(TiktokSandbox { shared, api, auth })
    }

    pub fn api_base(&self) -> String {
        self.api.base_url()
    }

    pub fn auth_base(&self) -> String {
        self.auth.base_url()
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Adds (or replaces) an order; false when its shop is unknown.
    pub fn add_order(&self, spec: &OrderSpec) -> bool {
        self.shared.world().add_order(spec)
    }

    /// Lists `order` verbatim in the shop's searches (and details, when it has a string id),
    /// e.g. one without an id. Its `update_time` places it in search windows (now if absent).
    pub fn inject_raw_order(&self, shop: &str, order: Value) -> bool {
        let mut world = self.shared.world();
        let Some(shop) = world.shop_index(shop) else {
            return false;
        };
        let update_time = order["update_time"].as_i64().unwrap_or_else(unix_now);
        world.raw_orders.push(RawOrder {
            shop,
            update_time,
            json: order,
        });
        true
    }

    /// Sets an order's status to any text (known or not), as TikTok moves it on
    /// (e.g. ON_HOLD → AWAITING_SHIPMENT).
    pub fn set_order_status(&self, order_id: &str, status: &str) -> bool {
        let mut world = self.shared.world();
        let Some(order) = world.orders.get_mut(order_id) else {
            return false;
        };
        order.status = status.to_string();
        order.update_time = unix_now();
        true
    }

    /// Cancels an order outright on behalf of `initiator` (`SYSTEM` for TikTok's own
    /// auto-cancel, `BUYER`, `SELLER`); answers the new cancel id.
    pub fn cancel_order_as(
        &self,
        order_id: &str,
        initiator: &str,
        reason_text: &str,
    ) -> Option<String> {
        let reason = format!("{}_cancel_sandbox", initiator.to_ascii_lowercase());
        self.shared
            .world()
            .cancel_by(order_id, initiator, &reason, reason_text, unix_now())
    }

    /// An order's line items (one per unit), cancelled or not.
    pub fn line_ids(&self, order_id: &str) -> Vec<String> {
        let world = self.shared.world();
        world
            .orders
            .get(order_id)
            .map(|o| o.lines.iter().map(|l| l.id.clone()).collect())
            .unwrap_or_default()
    }

    /// Cancels some line items of an order on behalf of `initiator`, the order going on with
    /// the others; answers the new cancel id, or TikTok's refusal.
    pub fn cancel_lines_as(
        &self,
        order_id: &str,
        line_ids: &[String],
        initiator: &str,
        reason_text: &str,
    ) -> Result<String, String> {
        let reason = format!("{}_cancel_sandbox", initiator.to_ascii_lowercase());
        self.shared
            .world()
            .cancel_lines_by(
                order_id,
                line_ids,
                initiator,
                &reason,
                reason_text,
                unix_now(),
            )
            .map_err(|e| format!("{e:?}"))
    }

    /// A buyer asks to cancel; the seller must answer before `deadline` (unix seconds).
    pub fn request_buyer_cancel(
        &self,
        order_id: &str,
        reason: &str,
        reason_text: &str,
        deadline: i64,
    ) -> Option<String> {
        self.shared
            .world()
            .open_buyer_request(order_id, reason, reason_text, deadline, unix_now())
    }

    /// The seller answers a pending buyer request in Seller Center, outside orderdeck; false
    /// when the request is not pending.
    pub fn answer_in_seller_center(&self, cancel_id: &str, approve: bool) -> bool {
        let mut world = self.shared.world();
        let pending = world
            .cancellations
            .get(cancel_id)
            .is_some_and(|c| c.spec.cancel_status == "CANCELLATION_REQUEST_PENDING");
        if pending {
            let now = unix_now();
            if approve {
                cancellations::grant(&mut world, cancel_id, now);
            } else {
                cancellations::refuse(&mut world, cancel_id, now);
            }
        }
        pending
    }

    /// The shop's access token stops working now (the next call gets `105002`).
    pub fn expire_access_token(&self, shop: &str) -> bool {
        let mut world = self.shared.world();
        let Some(index) = world.shop_index(shop) else {
            return false;
        };
        world.shops[index].access_expires_at = unix_now() - 1;
        true
    }

    /// The seller's authorization ends: refreshing fails with `36004001`.
    pub fn expire_authorization(&self, shop: &str) -> bool {
        let mut world = self.shared.world();
        let Some(index) = world.shop_index(shop) else {
            return false;
        };
        world.shops[index].refresh_expires_at = unix_now() - 1;
        true
    }

    /// A single-use auth code, as TikTok sends to the app's redirect after the seller agrees.
    pub fn issue_auth_code(&self, shop: &str) -> Option<String> {
        let mut world = self.shared.world();
        let index = world.shop_index(shop)?;
        let code = format!("sbx_code_{}", uuid::Uuid::new_v4().simple());
        world.auth_codes.insert(code.clone(), index);
        Some(code)
    }

    /// The shop's current access token (it changes on refresh).
    pub fn access_token(&self, shop: &str) -> Option<String> {
        let world = self.shared.world();
        world
            .shop_index(shop)
            .map(|i| world.shops[i].access_token.clone())
    }

    pub fn order_status(&self, order_id: &str) -> Option<String> {
        self.shared
            .world()
            .orders
            .get(order_id)
            .map(|o| o.status.clone())
    }

    pub fn cancellation_status(&self, cancel_id: &str) -> Option<String> {
        self.shared
            .world()
            .cancellations
            .get(cancel_id)
            .map(|c| c.spec.cancel_status.clone())
    }

    /// Seller tracking writes TikTok accepted for an order (ship, mark shipped, corrections):
    /// one per push, so a doubled push shows.
    pub fn tracking_writes(&self, order_id: &str) -> u32 {
        self.shared
            .world()
            .tracking_writes
            .get(order_id)
            .copied()
            .unwrap_or(0)
    }

    /// Every cancellation of an order, oldest first.
    pub fn cancellations_of(&self, order_id: &str) -> Vec<CancellationRecord> {
        let world = self.shared.world();
        let mut list: Vec<CancellationRecord> = world
            .cancellations
            .values()
            .filter(|c| c.order_id == order_id)
            .map(|c| CancellationRecord {
                cancel_id: c.spec.cancel_id.clone(),
                cancel_type: c.spec.cancel_type.clone(),
                status: c.spec.cancel_status.clone(),
                role: c.spec.role.clone(),
                reason: c.spec.reason.clone(),
                created_at: c.spec.create_time,
            })
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.cancel_id).cmp(&(b.created_at, &b.cancel_id)));
        list
    }

    /// The tracking pushed for an order, package by package.
    pub fn shipments(&self, order_id: &str) -> Vec<Shipment> {
        let world = self.shared.world();
        let Some(order) = world.orders.get(order_id) else {
            return Vec::new();
        };
        order
            .packages
            .iter()
            .filter_map(|p| {
                Some(Shipment {
                    package_id: p.id.clone(),
                    tracking_number: p.tracking_number.clone()?,
                    provider_id: p.provider_id.clone(),
                    line_ids: p.line_ids.clone(),
                })
            })
            .collect()
    }

    /// Calls of `endpoint` so far, whatever their answer.
    pub fn calls(&self, endpoint: &str) -> usize {
        self.shared
            .world()
            .calls
            .get(endpoint)
            .map_or(0, |s| s.count)
    }

    /// The JSON body of the last call of `endpoint`.
    pub fn last_body(&self, endpoint: &str) -> Option<Value> {
        self.shared
            .world()
            .calls
            .get(endpoint)
            .and_then(|s| s.last_body.clone())
    }

    pub fn rate_report(&self, endpoint: &str) -> RateReport {
        let world = self.shared.world();
        let Some(stats) = world.calls.get(endpoint) else {
            return RateReport {
                calls: 0,
                max_in_any_second: 0,
                answered_429: 0,
            };
        };
        RateReport {
            calls: stats.count,
            max_in_any_second: gate::max_in_any_second(&stats.arrivals),
            answered_429: stats.answered_429,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use serde_json::Value;

    /// `data` of an endpoint's official response sample.
    pub fn sample_response(endpoint: &str) -> Value {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/platforms/tiktok-samples.json"
        ));
        let all: Value = serde_json::from_str(text).expect("samples parse");
        all["endpoints"][endpoint]["response_body"]["data"].clone()
    }

    /// Every field the sandbox renders exists, with the same JSON kind, in the sample.
    pub fn assert_documented(ours: &Value, sample: &Value, at: &str) {
        match (ours, sample) {
            (Value::Object(ours), Value::Object(sample)) => {
                for (key, value) in ours {
                    let documented = sample
                        .get(key)
                        .unwrap_or_else(|| panic!("{at}.{key} is not in the official sample"));
                    assert_documented(value, documented, &format!("{at}.{key}"));
                }
            }
            (Value::Array(ours), Value::Array(sample)) => {
                if let (Some(first), Some(documented)) = (ours.first(), sample.first()) {
                    assert_documented(first, documented, &format!("{at}[]"));
                }
            }
            (ours, sample) => {
                let kind = |v: &Value| std::mem::discriminant(v);
                assert_eq!(
                    kind(ours),
                    kind(sample),
                    "{at}: {ours} is not the sample's kind ({sample})"
                );
            }
        }
    }
}
