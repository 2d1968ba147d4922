//! Shared set-up for the Shopify client tests: a sandbox on 127.0.0.1:0 seeded from the
//! deterministic scenario, clients pointed at it, and drafts of the kind the engine builds.

use std::net::SocketAddr;
use std::time::Duration;

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::rules::import::{
    DraftAddress, DraftLine, STORE_ORDER_TAG, StorefrontOrderDraft,
};
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::http::Timeouts;
use orderdeck::platforms::shopify::{ApiVersion, ShopifyClient, ShopifyConfig};
use orderdeck::sandbox::scenario::{Scenario, Size, StoreSpec};
use orderdeck::sandbox::shopify::{SandboxOptions, ShopifySandbox};

pub const STORE: &str = "gb-shopify1";

pub struct Harness {
    pub sandbox: ShopifySandbox,
    pub spec: StoreSpec,
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("a socket address")
}

pub fn store_spec() -> StoreSpec {
    let scenario = Scenario::generate(
        7,
        Size {
            shops: 1,
            orders_per_shop: 0,
        },
        1_760_000_000,
    );
    scenario.stores[0].clone()
}

pub async fn harness() -> Harness {
    harness_with(SandboxOptions::default()).await
}

pub async fn harness_with(options: SandboxOptions) -> Harness {
    let spec = store_spec();
    let sandbox = ShopifySandbox::start_with(std::slice::from_ref(&spec), loopback(), options)
        .await
        .expect("the sandbox starts");
    Harness { sandbox, spec }
}

impl Harness {
    pub fn config(&self, version: &str) -> ShopifyConfig {
        let mut config = ShopifyConfig::new(&self.spec.shop_domain, &self.spec.access_token);
        config.api_version = ApiVersion::parse(version).expect("a supported version");
        config.api_base = Some(self.sandbox.api_base(STORE).expect("the store exists"));
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(5),
        };
        config.cancel_confirm_within = Duration::from_secs(3);
        config
    }

    pub fn client(&self) -> ShopifyClient {
        ShopifyClient::new(&self.config("2025-10")).expect("a valid config")
    }

    pub fn client_for(&self, version: &str) -> ShopifyClient {
        ShopifyClient::new(&self.config(version)).expect("a valid config")
    }

    pub fn variant_id(&self, sku: &str) -> String {
        let variant = self
            .spec
            .variants
            .iter()
            .find(|v| v.sku == sku)
            .expect("the SKU is in the catalog");
        format!("gid://shopify/ProductVariant/{}", variant.variant_id)
    }

    /// A draft of one line of `sku`, for TikTok order `tiktok_id`.
    pub fn draft(&self, tiktok_id: &str, sku: &str, quantity: u32) -> StorefrontOrderDraft {
        StorefrontOrderDraft {
            tiktok_order_id: TiktokOrderId::new(tiktok_id).expect("digits"),
            lines: vec![DraftLine {
                seller_sku: sku.into(),
                store_item_id: Some(self.variant_id(sku)),
                title: "Crochet jumper — Red, S".into(),
                quantity,
                unit_price: "19.99".into(),
            }],
            currency: "GBP".into(),
            address: DraftAddress {
                first_name: "Amara".into(),
                last_name: "Okafor".into(),
                address1: "12 High Street".into(),
                address2: "Flat 3".into(),
                city: "London".into(),
                province: "Greater London".into(),
                country_code: "GB".into(),
                zip: "GB1 2AB".into(),
                phone: "(+44)7700-***-123".into(),
            },
            note: Some("Please ship asap!".into()),
            tags: vec![STORE_ORDER_TAG.into(), "tiktok-gb-shop1".into()],
            inventory: InventoryBehaviour::DecrementObeyingPolicy,
            amazon: Default::default(),
        }
    }

    /// Creates an order through the client and answers its Shopify id.
    pub async fn create(&self, client: &ShopifyClient, tiktok_id: &str) -> String {
        let store = client
            .create_order(&self.draft(tiktok_id, "CRO-00", 1))
            .await
            .expect("the order is created");
        store.order_id.to_string()
    }
}
