//! Shared set-up for the WooCommerce client tests: a simulated site on 127.0.0.1:0 seeded from
//! the deterministic scenario, clients pointed at it, and drafts of the kind the engine builds.

use std::net::SocketAddr;
use std::time::Duration;

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::rules::import::{
    DraftAddress, DraftLine, STORE_ORDER_TAG, SkuMatch, StorefrontOrderDraft,
};
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::http::Timeouts;
use orderdeck::platforms::woocommerce::{WoocommerceClient, WoocommerceConfig};
use orderdeck::sandbox::scenario::{Scenario, Size, WooStoreSpec};
use orderdeck::sandbox::woocommerce::WoocommerceSandbox;

pub const STORE: &str = "us-woocommerce1";
/// SKUs of the seeded catalogue (the same generator as the Shopify stores').
pub const SKU_A: &str = "CRO-00";
pub const SKU_B: &str = "LIN-11";

pub struct Harness {
    pub sandbox: WoocommerceSandbox,
    pub spec: WooStoreSpec,
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("a socket address")
}

pub fn store_spec() -> WooStoreSpec {
    let scenario = Scenario::generate(
        7,
        Size {
            shops: 1,
            orders_per_shop: 0,
        },
        1_760_000_000,
    )
    .with_woocommerce();
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
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(2),
        };
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

    /// The store item id of a seeded SKU, as `lookup_skus` answers it.
    pub async fn item(&self, client: &WoocommerceClient, sku: &str) -> String {
        match client
            .lookup_skus(&[sku.to_string()])
            .await
            .expect("lookup")
            .remove(sku)
        {
            Some(SkuMatch::One(id)) => id,
            other => panic!("{sku}: {other:?}"),
        }
    }

    /// A draft for `lines` of `(sku, quantity)`, each SKU resolved in the store.
    pub async fn draft(
        &self,
        client: &WoocommerceClient,
        tiktok_id: &str,
        lines: &[(&str, u32)],
    ) -> StorefrontOrderDraft {
        let mut draft_lines = Vec::new();
        for (sku, quantity) in lines {
            draft_lines.push(DraftLine {
                seller_sku: sku.to_string(),
                store_item_id: Some(self.item(client, sku).await),
                title: format!("{sku} title"),
                quantity: *quantity,
                unit_price: "12.50".into(),
            });
        }
        StorefrontOrderDraft {
            tiktok_order_id: TiktokOrderId::new(tiktok_id).expect("id"),
            lines: draft_lines,
            currency: "USD".into(),
            address: DraftAddress {
                first_name: "Amara".into(),
                last_name: "Okafor".into(),
                address1: "100 Market St".into(),
                address2: "Apt 4".into(),
                city: "San Jose".into(),
                province: "CA".into(),
                country_code: "US".into(),
                zip: "95113".into(),
                phone: "(+1)408-***-555".into(),
            },
            note: Some("Please ship asap!".into()),
            tags: vec![STORE_ORDER_TAG.into()],
            inventory: InventoryBehaviour::Bypass,
        }
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
