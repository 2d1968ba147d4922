//! Shared set-up for the Amazon MCF client tests: a simulated seller with stock, clients
//! pointed at it (both hosts), and drafts of the kind the engine builds.

use std::net::SocketAddr;
use std::time::Duration;

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::rules::import::{
    DraftAddress, DraftLine, STORE_ORDER_TAG, StorefrontOrderDraft,
};
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::amazon_mcf::{AmazonMcfClient, AmazonMcfConfig};
use orderdeck::platforms::http::Timeouts;
use orderdeck::sandbox::amazon_mcf::{AmazonMcfSandbox, AmazonSpec};

pub const SKU_A: &str = "CRO-00";
pub const SKU_B: &str = "LIN-11";

pub struct Harness {
    pub sandbox: AmazonMcfSandbox,
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("a socket address")
}

pub async fn harness_with(adjust: impl FnOnce(&mut AmazonSpec)) -> Harness {
    let mut spec = AmazonSpec::new(&[(SKU_A, 50), (SKU_B, 50)]);
    adjust(&mut spec);
    let sandbox = AmazonMcfSandbox::start(&spec, loopback())
        .await
        .expect("the sandbox starts");
    Harness { sandbox }
}

pub async fn harness() -> Harness {
    harness_with(|_| {}).await
}

impl Harness {
    pub fn config(&self) -> AmazonMcfConfig {
        let c = self.sandbox.credentials();
        let mut config = AmazonMcfConfig::new(
            "us-amazon",
            self.sandbox.base_url(),
            self.sandbox.base_url(),
            &c.client_id,
            &c.client_secret,
            &c.refresh_token,
            "ATVPDKIKX0DER",
        );
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(2),
        };
        config
    }

    pub fn client(&self) -> AmazonMcfClient {
        AmazonMcfClient::new(&self.config()).expect("a valid config")
    }

    /// Every request so far was one the contract accepts.
    pub fn assert_all_valid(&self) {
        assert_eq!(self.sandbox.invalid_requests(), Vec::<String>::new());
    }
}

pub fn tiktok(id: &str) -> TiktokOrderId {
    TiktokOrderId::new(id).unwrap()
}

/// A draft with one TikTok line per unit, as the engine groups them (quantity per SKU).
pub fn draft(id: &str, lines: &[(&str, u32)]) -> StorefrontOrderDraft {
    StorefrontOrderDraft {
        tiktok_order_id: tiktok(id),
        lines: lines
            .iter()
            .map(|(sku, quantity)| DraftLine {
                seller_sku: (*sku).into(),
                store_item_id: None,
                title: "Crochet jumper".into(),
                quantity: *quantity,
                unit_price: "12.50".into(),
            })
            .collect(),
        currency: "USD".into(),
        address: DraftAddress {
            first_name: "Amara".into(),
            last_name: "Okafor".into(),
            address1: "1 Main St".into(),
            address2: String::new(),
            city: "Austin".into(),
            province: "TX".into(),
            country_code: "US".into(),
            zip: "78701".into(),
            phone: "(+1)512-555-0100".into(),
        },
        note: None,
        tags: vec![STORE_ORDER_TAG.into()],
        inventory: InventoryBehaviour::Bypass,
        amazon: Default::default(),
    }
}
