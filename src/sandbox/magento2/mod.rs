//! A simulated Magento 2 (admin REST API, 2.4.9) for tests and the demo, serving any number of
//! stores from `scenario::MageStoreSpec`s on one loopback port: store `slug` lives at
//! `http://127.0.0.1:PORT/{slug}` (`/rest/{store_code}/V1/...` below it).
//!
//! It is an independent implementation: it never uses the client's types. It validates every
//! request against the Swagger contract turned into JSON Schema ([`contract`]), checks the
//! Integration's Bearer token, keeps state ([`state`]: products with stock, orders, invoices,
//! shipments with tracks, credit memos, comments), refuses what Magento refuses ([`ops`]) with
//! Magento's error body, and acts out [`Faults`] per endpoint (`orders.create`, `orders.list`,
//! `orders.get`, `orders.invoice`, `orders.cancel`, `orders.refund`, `comments.list`,
//! `comments.create`, `shipments.list`, `creditmemos.list`, `products.list`, `store.views`,
//! `directory.country`…).
//!
//! Control API (the warehouse, the merchant's staff, the test): ship with tracks, add a track
//! later, refund in the admin, cancel in the admin, add products, revoke the token, count calls,
//! list what the contract refused.

mod contract;
mod http;
mod ops;
mod render;
mod search;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::any;

pub use state::{MageCreditMemo, MageItem, MageOrder, MageProduct, MageShipment, MageTrack};

use self::http::Shared;
use self::state::MageStore;
use super::faults::Faults;
use super::scenario::MageStoreSpec;
use super::serve::{RunningServer, serve};
use super::shopify::SandboxError;

/// A running simulated Magento. Dropping it stops the server.
pub struct Magento2Sandbox {
    server: RunningServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for Magento2Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Magento2Sandbox")
            .field("addr", &self.server.addr)
            .finish_non_exhaustive()
    }
}

/// A track as the warehouse enters it: carrier code (`ups`, `custom`…), title, number.
#[derive(Debug, Clone)]
pub struct TrackSpec {
    pub carrier_code: String,
    pub title: String,
    pub number: String,
}

impl TrackSpec {
    pub fn new(carrier_code: &str, title: &str, number: &str) -> TrackSpec {
        TrackSpec {
            carrier_code: carrier_code.into(),
            title: title.into(),
            number: number.into(),
        }
    }
}

fn refused(what: String) -> SandboxError {
    SandboxError::Refused(what)
}

impl Magento2Sandbox {
    pub async fn start(
        stores: &[MageStoreSpec],
        addr: SocketAddr,
    ) -> Result<Magento2Sandbox, SandboxError> {
        Self::start_with(stores, addr, 0).await
    }

    pub async fn start_with(
        stores: &[MageStoreSpec],
        addr: SocketAddr,
        fault_seed: u64,
    ) -> Result<Magento2Sandbox, SandboxError> {
        contract::load();
        let shared = Arc::new(Shared {
            stores: Mutex::new(stores.iter().map(MageStore::from_spec).collect()),
            faults: Faults::new(fault_seed),
        });
        let router = Router::new()
            .route("/{site}/rest/V1/{*route}", any(http::handle_default))
            .route("/{site}/rest/{code}/V1/{*route}", any(http::handle))
            .with_state(shared.clone());
        let server = serve(router, addr).await?;
        Ok(Magento2Sandbox { server, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The site URL a client of `store` (by name or slug) uses.
    pub fn site_url(&self, store: &str) -> Result<String, SandboxError> {
        self.with_store(store, |s| format!("{}/{}", self.server.base_url(), s.slug))
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn with_store<T>(
        &self,
        store: &str,
        f: impl FnOnce(&mut MageStore) -> T,
    ) -> Result<T, SandboxError> {
        let mut stores = self.shared.stores();
        let found = stores
            .iter_mut()
            .find(|s| s.name == store || s.slug == store)
            .ok_or_else(|| SandboxError::UnknownStore(store.to_string()))?;
        Ok(f(found))
    }

    pub fn orders(&self, store: &str) -> Result<Vec<MageOrder>, SandboxError> {
        self.with_store(store, |s| s.orders.clone())
    }

    pub fn order(&self, store: &str, id: u64) -> Result<Option<MageOrder>, SandboxError> {
        self.with_store(store, |s| s.order(id).cloned())
    }

    /// The orders carrying this TikTok order id in `ext_order_id`.
    pub fn orders_for(&self, store: &str, tiktok_id: &str) -> Result<Vec<MageOrder>, SandboxError> {
        self.with_store(store, |s| {
            s.orders
                .iter()
                .filter(|o| o.ext_order_id.as_deref() == Some(tiktok_id))
                .cloned()
                .collect()
        })
    }

    pub fn shipments(&self, store: &str, order: u64) -> Result<Vec<MageShipment>, SandboxError> {
        self.with_store(store, |s| {
            s.shipments
                .iter()
                .filter(|x| x.order_id == order)
                .cloned()
                .collect()
        })
    }

    pub fn credit_memos(
        &self,
        store: &str,
        order: u64,
    ) -> Result<Vec<MageCreditMemo>, SandboxError> {
        self.with_store(store, |s| {
            s.memos
                .iter()
                .filter(|m| m.order_id == order)
                .cloned()
                .collect()
        })
    }

    /// The warehouse ships `items` (SKU, units; empty = everything left) with `tracks`, as the
    /// admin's "Ship" does; answers the shipment id. The order's `updated_at` moves.
    pub fn ship(
        &self,
        store: &str,
        order: u64,
        items: &[(&str, u32)],
        tracks: &[TrackSpec],
    ) -> Result<u64, SandboxError> {
        self.with_store(store, |s| {
            let now = chrono::Utc::now();
            let shipment_id = s.next_id();
            let track_ids: Vec<u64> = tracks.iter().map(|_| s.next_id()).collect();
            let o = s
                .order_mut(order)
                .ok_or_else(|| refused(format!("no order {order}")))?;
            if matches!(o.state.as_str(), "canceled" | "closed" | "holded") {
                return Err(refused(format!(
                    "order {order} is {}: it cannot be shipped",
                    o.state
                )));
            }
            let mut lines = Vec::new();
            for item in &mut o.items {
                let wanted = if items.is_empty() {
                    item.shippable()
                } else {
                    items
                        .iter()
                        .filter(|(sku, _)| *sku == item.sku)
                        .map(|(_, q)| f64::from(*q))
                        .sum::<f64>()
                        .min(item.shippable())
                };
                if wanted > 0.0 {
                    item.qty_shipped += wanted;
                    lines.push((item.item_id, wanted));
                }
            }
            if lines.is_empty() {
                return Err(refused(format!("order {order} has nothing left to ship")));
            }
            o.updated_at = now;
            o.settle_state();
            let tracks = tracks
                .iter()
                .zip(track_ids)
                .map(|(t, entity_id)| MageTrack {
                    entity_id,
                    track_number: t.number.clone(),
                    carrier_code: t.carrier_code.clone(),
                    title: t.title.clone(),
                    created_at: now,
                })
                .collect();
            s.shipments.push(MageShipment {
                entity_id: shipment_id,
                order_id: order,
                created_at: now,
                updated_at: now,
                items: lines,
                tracks,
            });
            Ok(shipment_id)
        })?
    }

    /// A track added to an existing shipment later. It moves neither the shipment's creation
    /// time nor the order's `updated_at` (magento2.md: unconfirmed; the sandbox takes the case
    /// that needs the client to look).
    pub fn add_track(
        &self,
        store: &str,
        shipment: u64,
        track: &TrackSpec,
    ) -> Result<(), SandboxError> {
        self.with_store(store, |s| {
            let id = s.next_id();
            let found = s
                .shipments
                .iter_mut()
                .find(|x| x.entity_id == shipment)
                .ok_or_else(|| refused(format!("no shipment {shipment}")))?;
            found.tracks.push(MageTrack {
                entity_id: id,
                track_number: track.number.clone(),
                carrier_code: track.carrier_code.clone(),
                title: track.title.clone(),
                created_at: chrono::Utc::now(),
            });
            Ok(())
        })?
    }

    /// Staff refund in the admin (an offline credit memo of `items`, or of everything
    /// refundable); answers the credit memo id.
    pub fn refund_in_admin(
        &self,
        store: &str,
        order: u64,
        items: &[(&str, u32)],
    ) -> Result<u64, SandboxError> {
        self.with_store(store, |s| {
            let o = s.order(order).ok_or_else(|| refused(format!("no order {order}")))?;
            let lines: Vec<serde_json::Value> = o
                .items
                .iter()
                .filter_map(|i| {
                    let qty = if items.is_empty() {
                        i.refundable()
                    } else {
                        items.iter().filter(|(sku, _)| *sku == i.sku).map(|(_, q)| f64::from(*q)).sum()
                    };
                    (qty > 0.0).then(|| serde_json::json!({ "order_item_id": i.item_id, "qty": qty }))
                })
                .collect();
            let body = serde_json::json!({ "items": lines, "notify": false, "arguments": { "shipping_amount": 0 } });
            let (status, answer) = ops::refund(s, order, &body, chrono::Utc::now(), false);
            answer.as_u64().filter(|_| status.is_success()).ok_or_else(|| refused(answer.to_string()))
        })?
    }

    /// Staff cancel in the admin. Magento's admin cannot cancel an invoiced order; an extension
    /// or a `POST /V1/orders` save still can set `canceled` (magento2.md), which is what this
    /// does then: state and status, no stock and no money.
    pub fn cancel_in_admin(&self, store: &str, order: u64) -> Result<(), SandboxError> {
        self.with_store(store, |s| {
            let now = chrono::Utc::now();
            let (status, answer) = ops::cancel(s, order, now);
            if !status.is_success() {
                return Err(refused(answer.to_string()));
            }
            if answer == serde_json::json!(false) {
                let o = s
                    .order_mut(order)
                    .ok_or_else(|| refused(format!("no order {order}")))?;
                o.state = "canceled".into();
                o.status = "canceled".into();
                o.updated_at = now;
            }
            Ok(())
        })?
    }

    /// Moves an order's creation and update times back by `by`.
    pub fn backdate(
        &self,
        store: &str,
        order: u64,
        by: chrono::Duration,
    ) -> Result<(), SandboxError> {
        self.with_store(store, |s| {
            let o = s
                .order_mut(order)
                .ok_or_else(|| refused(format!("no order {order}")))?;
            o.created_at -= by;
            o.updated_at -= by;
            Ok(())
        })?
    }

    /// The merchant adds a product (`simple`, or `configurable` for a parent); answers its id.
    pub fn add_product(
        &self,
        store: &str,
        sku: &str,
        type_id: &str,
        price: f64,
        qty: f64,
    ) -> Result<u64, SandboxError> {
        self.with_store(store, |s| {
            let id = s.next_id();
            s.products.push(MageProduct {
                id,
                sku: sku.into(),
                name: format!("{sku} product"),
                price,
                type_id: type_id.into(),
                status: 1,
                qty,
            });
            id
        })
    }

    /// Legacy stock of the products with this SKU.
    pub fn stock(&self, store: &str, sku: &str) -> Result<Vec<f64>, SandboxError> {
        self.with_store(store, |s| {
            s.products
                .iter()
                .filter(|p| p.sku.eq_ignore_ascii_case(sku))
                .map(|p| p.qty)
                .collect()
        })
    }

    /// A revoked token (`false`) is refused with 401.
    pub fn set_token_valid(&self, store: &str, valid: bool) -> Result<(), SandboxError> {
        self.with_store(store, |s| s.token_valid = valid)
    }

    /// Authenticated requests to `endpoint` (`orders.create`…).
    pub fn calls(&self, store: &str, endpoint: &str) -> Result<u32, SandboxError> {
        self.with_store(store, |s| s.calls.get(endpoint).copied().unwrap_or(0))
    }

    /// Every request the contract refused, as `endpoint: why`.
    pub fn refused(&self, store: &str) -> Result<Vec<String>, SandboxError> {
        self.with_store(store, |s| s.refused.clone())
    }

    pub fn shutdown(&self) {
        self.server.shutdown();
    }
}
