//! A simulated WooCommerce (REST API wc/v3 with the Shipment Tracking extension) for tests and
//! the demo, serving any number of sites from `scenario::WooStoreSpec`s on one loopback port:
//! site `slug` lives at `http://127.0.0.1:PORT/{slug}`.
//!
//! It is an independent implementation: it never uses the client's types. It validates every
//! request against the wc/v3 contract with a JSON Schema validator ([`contract`]), checks OAuth
//! 1.0a signatures as WooCommerce does over plain http, keeps state ([`state`]: products with
//! stock, orders with lines, meta, notes and tracking items, stock taken and given back as
//! WooCommerce does), and acts out [`Faults`] per endpoint (`orders.create`, `orders.list`,
//! `orders.get`, `orders.update`, `notes.list`, `notes.create`, `trackings.list`,
//! `trackings.create`, `products.list`, `webhooks.list`, `webhooks.create`, `webhooks.get`,
//! `webhooks.delete`).
//!
//! Webhooks (`/wc/v3/webhooks`) deliver the sites' order changes, signed as WooCommerce signs
//! them ([`hooks`]).
//!
//! Control API (the warehouse, the merchant's staff, the test): ship an order with a tracking
//! item, cancel it in the admin, add products, revoke the key, count calls, list what the
//! contract refused and the webhooks a site holds.

mod contract;
mod hooks;
mod http;
mod ops;
mod render;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{any, get};

pub use hooks::WooWebhook;
pub use state::{WooLine, WooNote, WooOrder, WooProduct, WooTracking};

use self::http::Shared;
use self::state::WooStore;
use super::faults::Faults;
use super::scenario::WooStoreSpec;
use super::serve::{RunningServer, serve};
use super::shopify::SandboxError;

/// A running simulated WooCommerce. Dropping it stops the server.
pub struct WoocommerceSandbox {
    server: RunningServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for WoocommerceSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WoocommerceSandbox")
            .field("addr", &self.server.addr)
            .finish_non_exhaustive()
    }
}

impl WoocommerceSandbox {
    pub async fn start(
        stores: &[WooStoreSpec],
        addr: SocketAddr,
    ) -> Result<WoocommerceSandbox, SandboxError> {
        Self::start_with(stores, addr, 0).await
    }

    pub async fn start_with(
        stores: &[WooStoreSpec],
        addr: SocketAddr,
        fault_seed: u64,
    ) -> Result<WoocommerceSandbox, SandboxError> {
        contract::load();
        let shared = Arc::new(Shared {
            stores: Mutex::new(stores.iter().map(WooStore::from_spec).collect()),
            faults: Faults::new(fault_seed),
            base_url: Mutex::new(String::new()),
        });
        let router = Router::new()
            .route("/{site}/wp-json/", get(http::index))
            .route("/{site}/wp-json/{*route}", any(http::handle))
            .with_state(shared.clone());
        let server = serve(router, addr).await?;
        *shared.base_url.lock().unwrap_or_else(|e| e.into_inner()) = server.base_url();
        hooks::deliver_changes(Arc::downgrade(&shared));
        Ok(WoocommerceSandbox { server, shared })
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
        f: impl FnOnce(&mut WooStore) -> T,
    ) -> Result<T, SandboxError> {
        let mut stores = self.shared.stores();
        let found = stores
            .iter_mut()
            .find(|s| s.name == store || s.slug == store)
            .ok_or_else(|| SandboxError::UnknownStore(store.to_string()))?;
        Ok(f(found))
    }

    /// Every order of the store, as it holds them now.
    pub fn orders(&self, store: &str) -> Result<Vec<WooOrder>, SandboxError> {
        self.with_store(store, |s| s.orders.clone())
    }

    pub fn order(&self, store: &str, id: u64) -> Result<Option<WooOrder>, SandboxError> {
        self.with_store(store, |s| s.orders.iter().find(|o| o.id == id).cloned())
    }

    /// The orders carrying this TikTok order id in their meta.
    pub fn orders_for(&self, store: &str, tiktok_id: &str) -> Result<Vec<WooOrder>, SandboxError> {
        self.with_store(store, |s| {
            s.orders
                .iter()
                .filter(|o| o.meta_text("_tiktok_order_id").as_deref() == Some(tiktok_id))
                .cloned()
                .collect()
        })
    }

    /// The warehouse adds a Shipment Tracking item (a predefined provider's name, or a custom
    /// one when `custom`); answers its `tracking_id`. Neither the status nor `date_modified`
    /// moves, as with orders kept as posts.
    pub fn ship(
        &self,
        store: &str,
        order: u64,
        provider: &str,
        number: &str,
        custom: bool,
    ) -> Result<String, SandboxError> {
        self.with_store(store, |s| {
            let now = chrono::Utc::now();
            let id = format!("{:x}", s.next_id().wrapping_mul(2_654_435_761));
            let o = s
                .order_mut(order)
                .ok_or_else(|| SandboxError::Refused(format!("no order {order}")))?;
            o.trackings.push(WooTracking {
                tracking_id: id.clone(),
                provider: if custom {
                    String::new()
                } else {
                    provider.to_string()
                },
                custom_provider: if custom {
                    provider.to_string()
                } else {
                    String::new()
                },
                custom_link: String::new(),
                number: number.to_string(),
                date_shipped: now,
            });
            Ok(id)
        })?
    }

    /// Staff change the order's status in the admin (`cancelled`, `completed`…), with the
    /// status note and stock rules of a real save.
    pub fn set_status(&self, store: &str, order: u64, status: &str) -> Result<(), SandboxError> {
        self.with_store(store, |s| {
            if s.order_mut(order).is_none() {
                return Err(SandboxError::Refused(format!("no order {order}")));
            }
            s.set_status(order, status, chrono::Utc::now());
            Ok(())
        })?
    }

    /// Moves an order's creation and modification times back by `by`, as if it had been made
    /// that long ago.
    pub fn backdate(
        &self,
        store: &str,
        order: u64,
        by: chrono::Duration,
    ) -> Result<(), SandboxError> {
        self.with_store(store, |s| {
            let o = s
                .order_mut(order)
                .ok_or_else(|| SandboxError::Refused(format!("no order {order}")))?;
            o.created -= by;
            o.modified -= by;
            Ok(())
        })?
    }

    /// Staff cancel the order in the admin.
    pub fn cancel_in_admin(&self, store: &str, order: u64) -> Result<(), SandboxError> {
        self.set_status(store, order, "cancelled")
    }

    /// The merchant adds a simple product with managed stock; answers its id.
    pub fn add_product(
        &self,
        store: &str,
        sku: &str,
        name: &str,
        price: &str,
        stock: i64,
    ) -> Result<u64, SandboxError> {
        self.with_store(store, |s| {
            let id = s.next_id();
            s.products.push(WooProduct {
                id,
                parent_id: 0,
                kind: "simple".into(),
                name: name.to_string(),
                sku: sku.to_string(),
                price: price.to_string(),
                manage_stock: true,
                stock,
            });
            id
        })
    }

    /// A variable product with one variation of this SKU; answers (parent, variation).
    pub fn add_variation(
        &self,
        store: &str,
        sku: &str,
        name: &str,
        price: &str,
        stock: i64,
    ) -> Result<(u64, u64), SandboxError> {
        self.with_store(store, |s| {
            let parent = s.next_id();
            let variation = s.next_id();
            for (id, parent_id, kind, sku) in [
                (parent, 0, "variable", ""),
                (variation, parent, "variation", sku),
            ] {
                s.products.push(WooProduct {
                    id,
                    parent_id,
                    kind: kind.into(),
                    name: name.to_string(),
                    sku: sku.to_string(),
                    price: price.to_string(),
                    manage_stock: kind == "variation",
                    stock,
                });
            }
            (parent, variation)
        })
    }

    /// Stock of the products with this SKU.
    pub fn stock(&self, store: &str, sku: &str) -> Result<Vec<i64>, SandboxError> {
        self.with_store(store, |s| {
            s.products
                .iter()
                .filter(|p| p.sku == sku)
                .map(|p| p.stock)
                .collect()
        })
    }

    /// A revoked key (`false`) is refused: "Consumer key is invalid.".
    pub fn set_key_valid(&self, store: &str, valid: bool) -> Result<(), SandboxError> {
        self.with_store(store, |s| s.key_valid = valid)
    }

    /// A Read-only key: writes are refused with 401.
    pub fn set_read_only(&self, store: &str, read_only: bool) -> Result<(), SandboxError> {
        self.with_store(store, |s| s.read_only = read_only)
    }

    /// Authenticated requests to `endpoint` (`orders.create`…).
    pub fn calls(&self, store: &str, endpoint: &str) -> Result<u32, SandboxError> {
        self.with_store(store, |s| s.calls.get(endpoint).copied().unwrap_or(0))
    }

    /// The webhooks of the site, as it holds them now.
    pub fn webhooks(&self, store: &str) -> Result<Vec<WooWebhook>, SandboxError> {
        self.with_store(store, |s| s.webhooks.clone())
    }

    /// Every request the contract refused, as `endpoint: why`.
    pub fn refused(&self, store: &str) -> Result<Vec<String>, SandboxError> {
        self.with_store(store, |s| s.refused.clone())
    }

    pub fn shutdown(&self) {
        self.server.shutdown();
    }
}
