//! Shared set-up for the WooCommerce client tests: a simulated site on 127.0.0.1:0 seeded from
//! the deterministic scenario, clients pointed at it, and drafts of the kind the engine builds.

use orderdeck::domain::rules::import::StorefrontOrderDraft;
use orderdeck::platforms::woocommerce::{WoocommerceClient, WoocommerceConfig};
use orderdeck::sandbox::scenario::WooStoreSpec;
use orderdeck::sandbox::woocommerce::WoocommerceSandbox;

pub use crate::store_client::{self, loopback};

pub const STORE: &str = "us-woocommerce1";
/// SKUs of the seeded catalogue (the same generator as the Shopify stores').
pub const SKU_A: &str = "CRO-00";
pub const SKU_B: &str = "LIN-11";

pub struct Harness {
    pub sandbox: WoocommerceSandbox,
    pub spec: WooStoreSpec,
}

pub fn store_spec() -> WooStoreSpec {
    let scenario = store_client::scenario().with_woocommerce();
    scenario.woocommerce[0].clone()
}

pub async fn harness() -> Harness {
    let spec = store_spec();
    let sandbox = WoocommerceSandbox::start(std::slice::from_ref(&spec), loopback())
        .await
        .expect("the sandbox starts");
    Harness { sandbox, spec }
}

impl Harness {
    pub fn config(&self) -> WoocommerceConfig {
        let mut config = WoocommerceConfig::new(
            self.sandbox.site_url(STORE).expect("the store exists"),
            &self.spec.consumer_key,
            &self.spec.consumer_secret,
        );
        config.timeouts = store_client::TIMEOUTS;
        config
    }

    pub fn client(&self) -> WoocommerceClient {
        WoocommerceClient::new(&self.config()).expect("a valid config")
    }

    pub fn client_with_page_size(&self, page_size: u32) -> WoocommerceClient {
        let mut config = self.config();
        config.page_size = page_size;
        WoocommerceClient::new(&config).expect("a valid config")
    }

    /// A draft for `lines` of `(sku, quantity)`, each SKU resolved in the store.
    pub async fn draft(
        &self,
        client: &WoocommerceClient,
        tiktok_id: &str,
        lines: &[(&str, u32)],
    ) -> StorefrontOrderDraft {
        store_client::draft(client, tiktok_id, lines, "CA").await
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
