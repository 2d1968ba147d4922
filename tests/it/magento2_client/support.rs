//! Shared set-up for the Magento client tests: a simulated store on 127.0.0.1:0 seeded from the
//! deterministic scenario, clients pointed at it, and drafts of the kind the engine builds.

use std::net::SocketAddr;
use std::time::Duration;

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::rules::import::{
    DraftAddress, DraftLine, STORE_ORDER_TAG, SkuMatch, StorefrontOrderDraft,
};
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::http::Timeouts;
use orderdeck::platforms::magento2::{Magento2Client, Magento2Config};
use orderdeck::sandbox::magento2::Magento2Sandbox;
use orderdeck::sandbox::scenario::{MageStoreSpec, Scenario, Size};

pub const STORE: &str = "us-magento1";
/// SKUs of the seeded catalogue (the same generator as the other stores').
pub const SKU_A: &str = "CRO-00";
pub const SKU_B: &str = "LIN-11";

pub struct Harness {
    pub sandbox: Magento2Sandbox,
    pub spec: MageStoreSpec,
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("a socket address")
}

pub fn store_spec() -> MageStoreSpec {
    let scenario = Scenario::generate(
        7,
        Size {
            shops: 1,
            orders_per_shop: 0,
        },
        1_760_000_000,
    )
    .with_magento();
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
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(2),
        };
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

    /// The store item id of a seeded SKU, as `lookup_skus` answers it.
    pub async fn item(&self, client: &Magento2Client, sku: &str) -> String {
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
        client: &Magento2Client,
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
                province: "California".into(),
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
