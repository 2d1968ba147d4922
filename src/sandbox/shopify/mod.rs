//! A simulated Shopify Admin GraphQL API for tests and the demo, serving any number of stores
//! from `scenario::StoreSpec`s on one loopback port.
//!
//! It is an independent implementation: it never uses the client's documents or types. It
//! validates every request against Shopify's real schema (`schema`), executes the root
//! fields it simulates (`productVariants`, `orders`, `order`, `orderCreate`, `orderCancel`,
//! `job`) over its own state ([`state`], `reads`, `mutations`) and projects the results
//! through the request's selection set (`resolve`); it charges a real cost bucket ([`cost`])
//! and acts out [`Faults`] per operation (`http`).
//!
//! Control API (the warehouse, the merchant's staff, the test): fulfil with tracking, cancel in
//! the admin, revoke the token, count calls, list orders with every cancel request and refund,
//! resize or drain the bucket, make `orderCreate` answers go missing.

pub mod cost;
mod edits;
mod hooks;
mod http;
mod mutations;
mod reads;
mod resolve;
mod schema;
mod search;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;

pub use cost::BucketLimits;
pub use state::{
    CancelRequest, CommittedEdit, RefundArgument, RefundRecord, RemovedUnits, SandboxFulfillment,
    SandboxLine, SandboxOrder, SandboxTracking,
};

use self::http::Shared;
use self::state::{Behaviour, Store, World};
use super::faults::Faults;
use super::scenario::StoreSpec;
use super::serve::{RunningServer, serve};

/// An Admin API release the sandbox answers (`/admin/api/{release}/graphql.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    year: u16,
    month: u8,
}

impl Release {
    /// Releases Shopify supported when the schema was captured.
    const SUPPORTED: [(u16, u8); 6] = [
        (2024, 10),
        (2025, 1),
        (2025, 4),
        (2025, 7),
        (2025, 10),
        (2026, 1),
    ];

    pub fn parse(text: &str) -> Option<Release> {
        let (year, month) = text.split_once('-')?;
        let release = (year.parse().ok()?, month.parse().ok()?);
        (month.len() == 2 && Self::SUPPORTED.contains(&release)).then_some(Release {
            year: release.0,
            month: release.1,
        })
    }

    /// `orderCancel(refundMethod:)` exists, and `refund` is optional and deprecated.
    pub fn has_cancel_refund_method(self) -> bool {
        (self.year, self.month) >= (2025, 7)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("{0}")]
    Schema(String),
    #[error("could not serve: {0}")]
    Io(#[from] std::io::Error),
    #[error("no simulated store is called {0:?}")]
    UnknownStore(String),
    #[error("{0}")]
    Refused(String),
}

/// How the sandbox behaves beyond the scenario.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Every store's bucket (Shopify standard plan: 1000 points, 50 per second).
    pub bucket: BucketLimits,
    /// How long Shopify's cancel job takes before `cancelledAt` is set.
    pub cancel_delay: Duration,
    /// Development stores accept only five `orderCreate` a minute.
    pub dev_store_create_limit: bool,
    pub fault_seed: u64,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            bucket: BucketLimits::default(),
            cancel_delay: Duration::from_millis(50),
            dev_store_create_limit: false,
            fault_seed: 0,
        }
    }
}

/// A running simulated Shopify. Dropping it stops the server.
pub struct ShopifySandbox {
    server: RunningServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for ShopifySandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopifySandbox")
            .field("addr", &self.server.addr)
            .finish_non_exhaustive()
    }
}

impl ShopifySandbox {
    pub async fn start(
        stores: &[StoreSpec],
        addr: SocketAddr,
    ) -> Result<ShopifySandbox, SandboxError> {
        Self::start_with(stores, addr, SandboxOptions::default()).await
    }

    pub async fn start_with(
        stores: &[StoreSpec],
        addr: SocketAddr,
        options: SandboxOptions,
    ) -> Result<ShopifySandbox, SandboxError> {
        // Parse the 3 MB schema now rather than in the first request.
        schema::schema().map_err(SandboxError::Schema)?;
        let world = World::new(
            stores
                .iter()
                .map(|s| Store::from_spec(s, options.bucket))
                .collect(),
            Behaviour {
                cancel_delay: options.cancel_delay,
                dev_store_create_limit: options.dev_store_create_limit,
                order_create_ambiguous: false,
            },
        );
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            faults: Faults::new(options.fault_seed),
        });
        let router = Router::new()
            .route(
                "/{shop}/admin/api/{version}/graphql.json",
                post(http::graphql),
            )
            .with_state(shared.clone());
        let server = serve(router, addr).await?;
        hooks::deliver_changes(Arc::downgrade(&shared));
        Ok(ShopifySandbox { server, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The base URL a client of `store` (by name or shop domain) uses in place of
    /// `https://{shop_domain}`.
    pub fn api_base(&self, store: &str) -> Result<String, SandboxError> {
        let world = self.shared.world();
        let index = Self::index(&world, store)?;
        Ok(format!(
            "{}/{}",
            self.server.base_url(),
            world.stores[index].domain
        ))
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn index(world: &World, store: &str) -> Result<usize, SandboxError> {
        world
            .store_by_name(store)
            .ok_or_else(|| SandboxError::UnknownStore(store.to_string()))
    }

    /// Runs `f` on the store after applying due cancel jobs.
    fn with_store<T>(
        &self,
        store: &str,
        f: impl FnOnce(&mut World, usize) -> T,
    ) -> Result<T, SandboxError> {
        let mut world = self.shared.world();
        world.settle(Instant::now());
        let index = Self::index(&world, store)?;
        Ok(f(&mut world, index))
    }

    /// Every order of the store, as it holds them now.
    pub fn orders(&self, store: &str) -> Result<Vec<SandboxOrder>, SandboxError> {
        self.with_store(store, |w, i| w.stores[i].orders.clone())
    }

    pub fn order(&self, store: &str, id: &str) -> Result<Option<SandboxOrder>, SandboxError> {
        self.with_store(store, |w, i| {
            w.stores[i].orders.iter().find(|o| o.id == id).cloned()
        })
    }

    /// A warehouse ships everything left of the order with this tracking; answers the
    /// fulfillment id.
    pub fn fulfil(
        &self,
        store: &str,
        order_id: &str,
        tracking: SandboxTracking,
    ) -> Result<String, SandboxError> {
        self.with_store(store, |w, i| {
            w.fulfil(i, order_id, None, tracking, chrono::Utc::now())
        })?
        .map_err(SandboxError::Refused)
    }

    /// A warehouse ships some units, `(SKU, quantity)`, in one parcel with this tracking.
    pub fn fulfil_units(
        &self,
        store: &str,
        order_id: &str,
        units: &[(&str, u32)],
        tracking: SandboxTracking,
    ) -> Result<String, SandboxError> {
        self.with_store(store, |w, i| {
            w.fulfil(i, order_id, Some(units), tracking, chrono::Utc::now())
        })?
        .map_err(SandboxError::Refused)
    }

    /// The warehouse corrects the tracking of the order's latest fulfillment.
    pub fn update_tracking(
        &self,
        store: &str,
        order_id: &str,
        tracking: SandboxTracking,
    ) -> Result<(), SandboxError> {
        self.with_store(store, |w, i| {
            w.update_tracking(i, order_id, tracking, chrono::Utc::now())
        })?
        .map_err(SandboxError::Refused)
    }

    /// Staff cancel the order in the Shopify admin, with a `cancelReason` like `CUSTOMER`.
    pub fn cancel_in_admin(
        &self,
        store: &str,
        order_id: &str,
        reason: &str,
    ) -> Result<(), SandboxError> {
        self.with_store(store, |w, i| {
            w.cancel_in_admin(i, order_id, reason, chrono::Utc::now())
        })?
        .map_err(SandboxError::Refused)
    }

    /// Staff take unshipped units of a SKU off the order in the Shopify admin.
    pub fn remove_in_admin(
        &self,
        store: &str,
        order_id: &str,
        sku: &str,
        quantity: u32,
    ) -> Result<(), SandboxError> {
        self.with_store(store, |w, i| {
            w.remove_in_admin(i, order_id, sku, quantity, chrono::Utc::now())
        })?
        .map_err(SandboxError::Refused)
    }

    /// A revoked token (`false`) is answered HTTP 401.
    pub fn set_token_valid(&self, store: &str, valid: bool) -> Result<(), SandboxError> {
        self.with_store(store, |w, i| w.stores[i].token_valid = valid)
    }

    /// Requests whose root fields included `operation` (`orderCreate`, `orders`…).
    pub fn calls(&self, store: &str, operation: &str) -> Result<u32, SandboxError> {
        self.with_store(store, |w, i| {
            w.stores[i].calls.get(operation).copied().unwrap_or(0)
        })
    }

    /// Requests answered `THROTTLED`.
    pub fn throttled(&self, store: &str) -> Result<u32, SandboxError> {
        self.with_store(store, |w, i| w.stores[i].throttled)
    }

    /// Query cost points charged so far (what Shopify's bucket actually gave).
    pub fn points_charged(&self, store: &str) -> Result<f64, SandboxError> {
        self.with_store(store, |w, i| w.stores[i].points_charged)
    }

    pub fn set_bucket(&self, store: &str, limits: BucketLimits) -> Result<(), SandboxError> {
        self.with_store(store, |w, i| {
            w.stores[i].bucket.set_limits(limits, Instant::now())
        })
    }

    /// Empties the bucket, as another app's burst on the same store would.
    pub fn drain_bucket(&self, store: &str) -> Result<(), SandboxError> {
        self.with_store(store, |w, i| w.stores[i].bucket.drain(Instant::now()))
    }

    /// The merchant adds a product with one variant of this SKU; answers the variant's GID.
    pub fn add_variant(&self, store: &str, sku: &str, title: &str) -> Result<String, SandboxError> {
        self.with_store(store, |w, i| {
            let variants = &mut w.stores[i].variants;
            // Product ids are variant id / 10 (see `Variant::to_json`): a fresh product each.
            let id = variants.iter().map(|v| v.id).max().unwrap_or(0) / 10 * 10 + 10;
            let variant = state::Variant {
                id,
                sku: sku.to_string(),
                title: title.to_string(),
                price: "10.00".into(),
                inventory: 100,
            };
            let gid = variant.gid();
            variants.push(variant);
            gid
        })
    }

    /// Stock of the variants with this SKU.
    pub fn inventory(&self, store: &str, sku: &str) -> Result<Vec<i64>, SandboxError> {
        self.with_store(store, |w, i| {
            w.stores[i]
                .variants
                .iter()
                .filter(|v| v.sku == sku)
                .map(|v| v.inventory)
                .collect()
        })
    }

    /// While on, every `orderCreate` is applied and then answered HTTP 502: the order exists,
    /// the client cannot know it.
    pub fn set_order_create_ambiguous(&self, on: bool) {
        self.shared.world().behaviour.order_create_ambiguous = on;
    }

    pub fn set_dev_store_create_limit(&self, on: bool) {
        self.shared.world().behaviour.dev_store_create_limit = on;
    }

    pub fn shutdown(&self) {
        self.server.shutdown();
    }
}
