//! Shared set-up for the BigCommerce client tests: a simulated store on 127.0.0.1:0 seeded
//! from the deterministic scenario, clients pointed at it, and drafts of the kind the engine
//! builds.

use orderdeck::domain::ids::StorefrontOrderId;
use orderdeck::domain::rules::import::StorefrontOrderDraft;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::bigcommerce::{BigcommerceClient, BigcommerceConfig};
use orderdeck::sandbox::bigcommerce::{BcOrder, BigcommerceSandbox, Parcel};
use orderdeck::sandbox::scenario::BigStoreSpec;

pub use crate::store_client::{self, loopback};

pub const STORE: &str = "us-bigcommerce1";
/// A simple product (its base variant) and a product with an option, in the seeded catalogue.
pub const SKU_A: &str = "CRO-00";
pub const SKU_B: &str = "CRO-01";

pub struct Harness {
    pub sandbox: BigcommerceSandbox,
    pub spec: BigStoreSpec,
}

pub async fn harness() -> Harness {
    let scenario = store_client::scenario().with_bigcommerce();
    let spec = scenario.bigcommerce[0].clone();
    let sandbox = BigcommerceSandbox::start(std::slice::from_ref(&spec), loopback())
        .await
        .expect("the sandbox starts");
    Harness { sandbox, spec }
}

impl Harness {
    pub fn config(&self) -> BigcommerceConfig {
        let mut config = BigcommerceConfig::new(
            self.sandbox.api_base(),
            &self.spec.store_hash,
            &self.spec.access_token,
        );
        config.timeouts = store_client::TIMEOUTS;
        config
    }

    pub fn client(&self) -> BigcommerceClient {
        BigcommerceClient::new(&self.config()).expect("a valid config")
    }

    pub fn client_with_page_size(&self, page_size: u32) -> BigcommerceClient {
        let mut config = self.config();
        config.page_size = page_size;
        BigcommerceClient::new(&config).expect("a valid config")
    }

    /// The store item id of a seeded SKU, as `lookup_skus` answers it.
    pub async fn item(&self, client: &BigcommerceClient, sku: &str) -> String {
        store_client::item(client, sku).await
    }

    /// A draft for `lines` of `(sku, quantity)`, each SKU resolved in the store.
    pub async fn draft(
        &self,
        client: &BigcommerceClient,
        tiktok_id: &str,
        lines: &[(&str, u32)],
    ) -> StorefrontOrderDraft {
        store_client::draft(client, tiktok_id, lines, "California").await
    }

    /// Creates the order of `tiktok_id` and answers the simulated store's record of it.
    pub async fn created(
        &self,
        client: &BigcommerceClient,
        tiktok_id: &str,
        lines: &[(&str, u32)],
    ) -> BcOrder {
        let draft = self.draft(client, tiktok_id, lines).await;
        let made = client.create_order(&draft).await.expect("created");
        self.record(made.order_id.as_str())
    }

    pub fn record(&self, id: &str) -> BcOrder {
        let id: u64 = id.parse().expect("a numeric id");
        self.sandbox
            .order(STORE, id)
            .unwrap()
            .expect("the order exists")
    }

    /// The warehouse ships `units` (all that is left when empty) with tracking.
    pub fn ship(
        &self,
        order: u64,
        units: &[(&str, u64)],
        number: &str,
        provider: &str,
        carrier: &str,
    ) {
        let parcel = Parcel {
            units: units.iter().map(|(s, q)| (s.to_string(), *q)).collect(),
            tracking_number: number.into(),
            shipping_provider: provider.into(),
            tracking_carrier: carrier.into(),
        };
        self.sandbox.ship(STORE, order, &parcel).expect("shipped");
    }

    /// Every request so far met the contract.
    pub fn assert_no_refusals(&self) {
        let refused = self.sandbox.refused(STORE).expect("store");
        assert!(refused.is_empty(), "the sandbox refused: {refused:#?}");
    }

    pub fn stock(&self, sku: &str) -> i64 {
        self.sandbox.stock(STORE, sku).expect("store")[0]
    }
}

pub fn store_id(id: u64) -> StorefrontOrderId {
    StorefrontOrderId::new(id.to_string()).expect("id")
}
