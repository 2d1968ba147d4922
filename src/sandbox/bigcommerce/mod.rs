//! A simulated BigCommerce (REST V2 orders, V3 catalog variants) for tests and the demo,
//! serving any number of stores from `scenario::BigStoreSpec`s on one loopback port: store
//! `hash` lives at `http://127.0.0.1:PORT/stores/{hash}/`, as on `api.bigcommerce.com`.
//!
//! It is an independent implementation: it never uses the client's types. It validates every
//! request against the published OpenAPI files with a JSON Schema validator ([`contract`]),
//! checks `X-Auth-Token`, `Accept` and `Content-Type`, enforces each store's request quota with
//! the real `X-Rate-Limit-*` headers, keeps state ([`state`]: catalog variants with stock,
//! orders with products, addresses, shipments, status, staff notes and `date_modified`), and
//! acts out [`Faults`] per endpoint (`variants.list`, `orders.list`, `orders.create`,
//! `orders.get`, `orders.update`, `products.list`, `shipments.list`, `addresses.list`,
//! `addresses.update`, `hooks.list`, `hooks.create`, `hooks.get`, `hooks.delete`; a
//! `RateLimited` fault closes the whole store's quota for a moment, as a real 429 does).
//! Hooks deliver the stores' order and shipment changes, signed as BigCommerce signs them
//! ([`hooks`]).
//!
//! Control API (the warehouse, the merchant's staff, the test): ship a parcel with its items
//! and tracking, cancel or refund in the control panel, set the store's restock setting,
//! revoke the token, count calls and 429s, list what the contract refused.

mod contract;
mod hooks;
mod http;
mod ops;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::any;

pub use hooks::BcHook;
pub use state::{BcLine, BcOrder, BcShipment, BcVariant, QuotaUse};

use self::http::Shared;
use self::state::BcStore;
use super::faults::Faults;
use super::scenario::BigStoreSpec;
use super::serve::{RunningServer, serve};
use super::shopify::SandboxError;

/// A running simulated BigCommerce. Dropping it stops the server.
pub struct BigcommerceSandbox {
    server: RunningServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for BigcommerceSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BigcommerceSandbox")
            .field("addr", &self.server.addr)
            .finish_non_exhaustive()
    }
}

/// A parcel the warehouse ships: its units per SKU (all that is left when empty) and tracking.
#[derive(Debug, Clone, Default)]
pub struct Parcel {
    pub units: Vec<(String, u64)>,
    pub tracking_number: String,
    /// Set in the control panel (`ups`, `upsready`, `carrier_3`…).
    pub shipping_provider: String,
    /// Set by shipping apps: an AfterShip slug, or empty.
    pub tracking_carrier: String,
}

impl BigcommerceSandbox {
    pub async fn start(
        stores: &[BigStoreSpec],
        addr: SocketAddr,
    ) -> Result<BigcommerceSandbox, SandboxError> {
        Self::start_with(stores, addr, 0).await
    }

    pub async fn start_with(
        stores: &[BigStoreSpec],
        addr: SocketAddr,
        fault_seed: u64,
    ) -> Result<BigcommerceSandbox, SandboxError> {
        contract::load();
        let shared = Arc::new(Shared {
            stores: Mutex::new(stores.iter().map(BcStore::from_spec).collect()),
            faults: Faults::new(fault_seed),
            fault_pause: Mutex::new(Duration::from_millis(400)),
        });
        let router = Router::new()
            .route("/stores/{hash}/{*route}", any(http::handle))
            .with_state(shared.clone());
        let server = serve(router, addr).await?;
        hooks::deliver_changes(Arc::downgrade(&shared));
        Ok(BigcommerceSandbox { server, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The `api_base` a client uses (the host; the store hash goes in the path).
    pub fn api_base(&self) -> String {
        self.server.base_url()
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// How long a `RateLimited` fault closes a store's quota (400 ms unless set).
    pub fn set_fault_pause(&self, pause: Duration) {
        *self
            .shared
            .fault_pause
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = pause;
    }

    fn with_store<T>(
        &self,
        store: &str,
        f: impl FnOnce(&mut BcStore) -> T,
    ) -> Result<T, SandboxError> {
        let mut stores = self.shared.stores();
        let found = stores
            .iter_mut()
            .find(|s| s.name == store || s.hash == store)
            .ok_or_else(|| SandboxError::UnknownStore(store.to_string()))?;
        Ok(f(found))
    }

    pub fn orders(&self, store: &str) -> Result<Vec<BcOrder>, SandboxError> {
        self.with_store(store, |s| s.orders.clone())
    }

    pub fn order(&self, store: &str, id: u64) -> Result<Option<BcOrder>, SandboxError> {
        self.with_store(store, |s| s.orders.iter().find(|o| o.id == id).cloned())
    }

    /// The orders carrying this TikTok order id in `external_order_id`.
    pub fn orders_for(&self, store: &str, tiktok_id: &str) -> Result<Vec<BcOrder>, SandboxError> {
        self.with_store(store, |s| {
            s.orders
                .iter()
                .filter(|o| o.external_order_id == tiktok_id)
                .cloned()
                .collect()
        })
    }

    /// The warehouse ships a parcel of the order; answers the shipment id.
    pub fn ship(&self, store: &str, order: u64, parcel: &Parcel) -> Result<u64, SandboxError> {
        self.with_store(store, |s| {
            let o = s
                .orders
                .iter()
                .find(|o| o.id == order)
                .ok_or_else(|| SandboxError::Refused(format!("no order {order}")))?;
            let mut items = Vec::new();
            if parcel.units.is_empty() {
                for l in &o.lines {
                    if l.quantity > l.quantity_shipped {
                        items.push((l.id, l.quantity - l.quantity_shipped));
                    }
                }
            }
            for (sku, quantity) in &parcel.units {
                let line =
                    o.lines.iter().find(|l| &l.sku == sku).ok_or_else(|| {
                        SandboxError::Refused(format!("order {order} has no {sku}"))
                    })?;
                items.push((line.id, *quantity));
            }
            let tracking = (
                parcel.tracking_number.as_str(),
                parcel.shipping_provider.as_str(),
                parcel.tracking_carrier.as_str(),
            );
            s.add_shipment(order, &items, tracking, chrono::Utc::now())
                .map_err(SandboxError::Refused)
        })?
    }

    /// Staff set the order's status in the control panel (5 cancels, 4 refunds…).
    pub fn set_status(&self, store: &str, order: u64, status_id: u64) -> Result<(), SandboxError> {
        self.with_store(store, |s| {
            if !s.orders.iter().any(|o| o.id == order) {
                return Err(SandboxError::Refused(format!("no order {order}")));
            }
            s.set_status(order, status_id, chrono::Utc::now());
            Ok(())
        })?
    }

    /// Staff cancel the order in the control panel.
    pub fn cancel_in_admin(&self, store: &str, order: u64) -> Result<(), SandboxError> {
        self.set_status(store, order, 5)
    }

    /// Staff refund the whole order in the control panel (status Refunded).
    pub fn refund_in_admin(&self, store: &str, order: u64) -> Result<(), SandboxError> {
        self.set_status(store, order, 4)
    }

    /// The store's `refund_order_stock_adjustment` inventory setting.
    pub fn set_restock_setting(&self, store: &str, restock: bool) -> Result<(), SandboxError> {
        self.with_store(store, |s| s.restock_on_cancel = restock)
    }

    /// Inventory of the variants with this SKU.
    pub fn stock(&self, store: &str, sku: &str) -> Result<Vec<i64>, SandboxError> {
        self.with_store(store, |s| {
            s.variants
                .iter()
                .filter(|v| v.sku == sku)
                .map(|v| v.inventory)
                .collect()
        })
    }

    pub fn variants(&self, store: &str) -> Result<Vec<BcVariant>, SandboxError> {
        self.with_store(store, |s| s.variants.clone())
    }

    /// A revoked token (`false`) is refused with 401.
    pub fn set_token_valid(&self, store: &str, valid: bool) -> Result<(), SandboxError> {
        self.with_store(store, |s| s.token_valid = valid)
    }

    /// An API account without the Orders modify scope: writes answer 403.
    pub fn set_read_only(&self, store: &str, read_only: bool) -> Result<(), SandboxError> {
        self.with_store(store, |s| s.read_only = read_only)
    }

    /// The store's quota: `quota` requests per `window`.
    pub fn set_quota(&self, store: &str, quota: u32, window: Duration) -> Result<(), SandboxError> {
        self.with_store(store, |s| {
            s.rate.quota = quota;
            s.rate.window = window;
            s.rate.started = None;
            s.rate.used = 0;
            s.rate.first_started = None;
            s.rate.served = 0;
        })
    }

    /// How the store's quota was used since it was set (`None` before its first request).
    pub fn quota_use(&self, store: &str) -> Result<Option<QuotaUse>, SandboxError> {
        self.with_store(store, |s| s.rate.usage())
    }

    /// Authenticated requests to `endpoint` (`orders.create`…) that the quota let through.
    pub fn calls(&self, store: &str, endpoint: &str) -> Result<u32, SandboxError> {
        self.with_store(store, |s| s.calls.get(endpoint).copied().unwrap_or(0))
    }

    /// Authenticated requests the quota let through, to every endpoint.
    pub fn requests(&self, store: &str) -> Result<u32, SandboxError> {
        self.with_store(store, |s| s.calls.values().sum())
    }

    /// 429s the store answered.
    pub fn throttled(&self, store: &str) -> Result<u32, SandboxError> {
        self.with_store(store, |s| s.throttled)
    }

    /// The hooks of the store's API account, as it holds them now.
    pub fn hooks(&self, store: &str) -> Result<Vec<BcHook>, SandboxError> {
        self.with_store(store, |s| s.hooks.clone())
    }

    /// Every request the contract refused, as `endpoint: why`.
    pub fn refused(&self, store: &str) -> Result<Vec<String>, SandboxError> {
        self.with_store(store, |s| s.refused.clone())
    }

    pub fn shutdown(&self) {
        self.server.shutdown();
    }
}
