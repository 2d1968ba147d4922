//! A simulated Amazon Multi-Channel Fulfillment (Selling Partner API, Fulfillment Outbound
//! 2020-07-01) with its Login with Amazon token endpoint, for tests and the demo: one seller on
//! one loopback port, serving both hosts (`api_base` = `auth_base` = [`AmazonMcfSandbox::base_url`]).
//!
//! It is an independent implementation: it never uses the client's types. It validates every
//! request against Amazon's model ([`contract`]), issues and checks access tokens (they
//! expire), meters each operation with its own token bucket and answers 429 like Amazon, keeps
//! state ([`state`]: stock, fulfillment orders, shipments with packages), refuses what Amazon
//! refuses, and acts out [`Faults`] per operation (`token`, `createFulfillmentOrder`,
//! `getFulfillmentOrder`, `listAllFulfillmentOrders`, `cancelFulfillmentOrder`).
//!
//! Controls (the fulfillment network, Seller Central, the test): move an order to a status,
//! ship packages with tracking, cancel in Seller Central, expire or revoke tokens, count calls
//! and 429s, list what the contract refused.

mod contract;
mod http;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{any, post};

pub use http::Credentials;
pub use state::{McfItem, McfOrder, McfPackage, McfShipment, PackageSpec, is_amazon_logistics};

use self::http::Shared;
use self::state::Seller;
use super::faults::Faults;
use super::serve::{RunningServer, serve};
use super::shopify::SandboxError;

/// What the simulated seller starts with.
#[derive(Debug, Clone)]
pub struct AmazonSpec {
    pub credentials: Credentials,
    /// Sellable stock per SKU in Amazon's network.
    pub stock: Vec<(String, u32)>,
    /// Requests/second and burst of every operation (Amazon: 2 and 30).
    pub rate: f64,
    pub burst: u32,
    /// Fulfillment orders per `listAllFulfillmentOrders` page (Amazon's own choice).
    pub page_size: usize,
    /// How long an access token works (Amazon: 3600 s).
    pub token_life: std::time::Duration,
}

impl AmazonSpec {
    pub fn new(stock: &[(&str, u32)]) -> AmazonSpec {
        AmazonSpec {
            credentials: Credentials {
                client_id: "amzn1.application-oa2-client.sandbox".into(),
                client_secret: "sandbox-lwa-secret".into(),
                refresh_token: "Atzr|sandbox-refresh".into(),
            },
            stock: stock.iter().map(|(s, q)| ((*s).to_string(), *q)).collect(),
            rate: 2.0,
            burst: 30,
            page_size: 2,
            token_life: std::time::Duration::from_secs(3600),
        }
    }
}

/// A running simulated Amazon. Dropping it stops the server.
pub struct AmazonMcfSandbox {
    server: RunningServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for AmazonMcfSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmazonMcfSandbox")
            .field("addr", &self.server.addr)
            .finish_non_exhaustive()
    }
}

impl AmazonMcfSandbox {
    pub async fn start(
        spec: &AmazonSpec,
        addr: SocketAddr,
    ) -> Result<AmazonMcfSandbox, SandboxError> {
        contract::load();
        let stock: Vec<(&str, u32)> = spec.stock.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        let mut shared = Shared::new(
            Seller::new(&stock),
            spec.credentials.clone(),
            spec.rate,
            spec.burst,
        );
        shared.page_size = spec.page_size.max(1);
        shared.token_life = spec.token_life;
        let shared = Arc::new(shared);
        let router = Router::new()
            .route("/auth/o2/token", post(http::token))
            .route("/fba/outbound/2020-07-01/{*rest}", any(http::api))
            .with_state(shared.clone());
        let server = serve(router, addr).await?;
        Ok(AmazonMcfSandbox { server, shared })
    }

    /// Both the Selling Partner API host and the Login with Amazon host.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    pub fn orders(&self) -> Vec<McfOrder> {
        self.shared.world().seller.orders.clone()
    }

    pub fn order(&self, id: &str) -> Option<McfOrder> {
        self.shared.world().seller.order(id).cloned()
    }

    /// The fulfillment network moves the order on (`Planning`, `Processing`, `Unfulfillable`…).
    pub fn set_status(&self, id: &str, status: &str) -> Result<(), SandboxError> {
        let mut world = self.shared.world();
        let order = world
            .seller
            .order_mut(id)
            .ok_or_else(|| SandboxError::Refused(format!("no order {id}")))?;
        order.status = status.to_string();
        order.status_updated = chrono::Utc::now();
        Ok(())
    }

    /// The warehouse ships one shipment of `packages` (carrier code, tracking, units per SKU).
    pub fn ship(&self, id: &str, packages: &[PackageSpec<'_>]) -> Result<String, SandboxError> {
        self.shared
            .world()
            .seller
            .ship(id, packages, chrono::Utc::now())
            .map_err(SandboxError::Refused)
    }

    /// The seller creates a fulfillment order of another channel in Seller Central (one unit of
    /// `sku`, a packing-slip comment of its own): not orderdeck's.
    pub fn create_in_seller_central(&self, id: &str, sku: &str) -> Result<(), SandboxError> {
        let body = serde_json::json!({
            "sellerFulfillmentOrderId": id, "displayableOrderId": id,
            "displayableOrderDate": state::stamp(chrono::Utc::now()),
            "displayableOrderComment": "Thanks for shopping with us",
            "shippingSpeedCategory": "Standard",
            "destinationAddress": {"name": "B", "addressLine1": "2 Elm St", "city": "Austin", "postalCode": "78701", "countryCode": "US"},
            "items": [{"sellerSku": sku, "sellerFulfillmentOrderItemId": "1", "quantity": 1}],
        });
        self.shared
            .world()
            .seller
            .create(&body, chrono::Utc::now())
            .map_err(|(_, _, why)| SandboxError::Refused(why))
    }

    /// The seller cancels in Seller Central (not through the API).
    pub fn cancel_in_seller_central(&self, id: &str) -> Result<(), SandboxError> {
        let mut world = self.shared.world();
        world
            .seller
            .cancel(id, chrono::Utc::now())
            .map_err(|(_, _, why)| SandboxError::Refused(why))?;
        if let Some(order) = world.seller.order_mut(id) {
            order.cancelled_by_api = false;
        }
        Ok(())
    }

    /// Every access token issued so far stops working (as an hour passing would).
    pub fn expire_tokens(&self) {
        let past = std::time::Instant::now();
        for until in self.shared.world().tokens.values_mut() {
            *until = past;
        }
    }

    /// The seller revokes the app: the refresh token no longer gives access tokens.
    pub fn revoke(&self) {
        let mut world = self.shared.world();
        world.revoked = true;
        world.tokens.clear();
    }

    /// Access tokens issued so far.
    pub fn tokens_issued(&self) -> u32 {
        self.shared.world().issued
    }

    /// Calls of an operation that reached the API (including refused ones).
    pub fn calls(&self, operation: &str) -> u32 {
        self.shared
            .world()
            .calls
            .iter()
            .filter(|(k, _)| **k == operation)
            .map(|(_, n)| *n)
            .sum()
    }

    /// 429s the rate limit gave (injected faults not counted).
    pub fn throttled(&self) -> u32 {
        self.shared.world().throttled.values().sum()
    }

    /// Requests the contract refused, with why.
    pub fn invalid_requests(&self) -> Vec<String> {
        self.shared.world().invalid.clone()
    }
}
