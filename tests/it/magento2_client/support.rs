//! Shared set-up for the Magento client tests: a simulated store on 127.0.0.1:0 seeded from the
//! deterministic scenario, clients pointed at it, and drafts of the kind the engine builds.

use orderdeck::domain::rules::import::StorefrontOrderDraft;
use orderdeck::platforms::magento2::{Magento2Client, Magento2Config};
use orderdeck::sandbox::magento2::Magento2Sandbox;
use orderdeck::sandbox::scenario::MageStoreSpec;

pub use crate::store_client::{self, loopback};

pub const STORE: &str = "us-magento1";
/// SKUs of the seeded catalogue (the same generator as the other stores').
pub const SKU_A: &str = "CRO-00";
pub const SKU_B: &str = "LIN-11";

pub struct Harness {
    pub sandbox: Magento2Sandbox,
    pub spec: MageStoreSpec,
}

pub fn store_spec() -> MageStoreSpec {
    let scenario = store_client::scenario().with_magento();
    scenario.magento[0].clone()
}

pub async fn harness() -> Harness {
    let spec = store_spec();
    let sandbox = Magento2Sandbox::start(std::slice::from_ref(&spec), loopback())
        .await
        .expect("the sandbox starts");
    Harness { sandbox, spec }
}

impl Harness {
    pub fn config(&self) -> Magento2Config {
        let mut config = Magento2Config::new(
            STORE,
            self.sandbox.site_url(STORE).expect("the store exists"),
            &self.spec.access_token,
        );
        config.timeouts = store_client::TIMEOUTS;
        config
    }

    pub fn client(&self) -> Magento2Client {
        Magento2Client::new(&self.config()).expect("a valid config")
    }

    pub fn client_with_page_size(&self, page_size: u32) -> Magento2Client {
        let mut config = self.config();
        config.page_size = page_size;
        Magento2Client::new(&config).expect("a valid config")
    }

    /// A draft for `lines` of `(sku, quantity)`, each SKU resolved in the store.
    pub async fn draft(
        &self,
        client: &Magento2Client,
        tiktok_id: &str,
        lines: &[(&str, u32)],
    ) -> StorefrontOrderDraft {
        store_client::draft(client, tiktok_id, lines, "California").await
    }

    /// Every request so far met the contract.
    pub fn assert_no_refusals(&self) {
        let refused = self.sandbox.refused(STORE).expect("store");
        assert!(refused.is_empty(), "the sandbox refused: {refused:#?}");
    }

    pub fn stock(&self, sku: &str) -> f64 {
        self.sandbox.stock(STORE, sku).expect("store")[0]
    }

    /// The entity id of the one order of a TikTok order.
    pub fn only_order(&self, tiktok_id: &str) -> u64 {
        let orders = self.sandbox.orders_for(STORE, tiktok_id).expect("store");
        assert_eq!(orders.len(), 1, "one store order for {tiktok_id}");
        orders[0].entity_id
    }
}
