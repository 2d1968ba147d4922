//! A sandbox per test, seeded deterministically for "now", and clients for its shops.

use std::sync::Arc;
use std::time::Duration;

use orderdeck::domain::clock::from_unix;
use orderdeck::domain::{Clock, SystemClock};
use orderdeck::platforms::http::Timeouts;
use orderdeck::platforms::tiktok::{AppCredentials, TiktokClient, TiktokConfig};
use orderdeck::platforms::{Tokens, Window};
use orderdeck::sandbox::scenario::{OrderSpec, Scenario, ShopSpec, Size};
use orderdeck::sandbox::tiktok::TiktokSandbox;

/// Shop indexes of the generated scenario (regions cycle GB, US, ID).
pub const GB: usize = 0;
pub const US: usize = 1;
pub const ID: usize = 2;

pub struct Sandbox {
    pub tiktok: TiktokSandbox,
    pub scenario: Scenario,
}

pub fn now() -> i64 {
    SystemClock.now().timestamp()
}

/// Everything the scenario holds, by update time.
pub fn whole_history() -> Window {
    Window {
        from: from_unix(now() - 60 * 86_400),
        to: from_unix(now() + 3600),
    }
}

pub async fn start(orders_per_shop: usize) -> Sandbox {
    let scenario = Scenario::generate(
        11,
        Size {
            shops: 3,
            orders_per_shop,
        },
        now(),
    );
    let tiktok = TiktokSandbox::start(&scenario, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("sandbox starts");
    Sandbox { tiktok, scenario }
}

impl Sandbox {
    pub fn shop(&self, index: usize) -> &ShopSpec {
        &self.scenario.shops[index]
    }

    pub fn config(&self, index: usize) -> TiktokConfig {
        let shop = self.shop(index);
        let tokens = Tokens {
            access_token: shop.access_token.clone(),
            access_expires_at: Some(from_unix(shop.access_expires_at)),
            refresh_token: shop.refresh_token.clone(),
            refresh_expires_at: Some(from_unix(shop.refresh_expires_at)),
        };
        let mut config = TiktokConfig::new(
            AppCredentials::new(&shop.app_key, &shop.app_secret),
            tokens,
            &shop.region,
        );
        config.api_base = self.tiktok.api_base();
        config.auth_base = self.tiktok.auth_base();
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(5),
        };
        config
    }

    pub fn client(&self, index: usize) -> Arc<TiktokClient> {
        self.client_with(self.config(index), Arc::new(SystemClock))
    }

    pub fn client_with(&self, config: TiktokConfig, clock: Arc<dyn Clock>) -> Arc<TiktokClient> {
        Arc::new(TiktokClient::new(config, clock).expect("client builds"))
    }

    /// The first order of a shop matching `pred`.
    pub fn order(&self, index: usize, pred: impl Fn(&OrderSpec) -> bool) -> &OrderSpec {
        let shop = &self.shop(index).name;
        self.scenario
            .orders
            .iter()
            .find(|o| &o.shop == shop && pred(o))
            .expect("the scenario has such an order")
    }

    /// A paid, seller-shipped order waiting for tracking, without a buyer request pending.
    pub fn shippable(&self, index: usize) -> &OrderSpec {
        self.order(index, |o| {
            o.status == "AWAITING_SHIPMENT" && o.shipping_type == "SELLER" && o.cancel.is_none()
        })
    }

    pub fn provider(&self, index: usize) -> String {
        self.shop(index).providers[0].0.clone()
    }
}
