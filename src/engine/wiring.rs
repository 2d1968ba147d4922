//! From `orderdeck.toml` to running links: one TikTok client per shop and one store client per
//! store (shared by links that use the same account, as are their concurrency limits). Tokens
//! refreshed by an earlier run (kept in the data dir) win over the config's when they are newer.
//! Every store platform the config accepts has a connector; a link whose shop or store is not
//! configured is reported and left out.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::{Config, StorefrontConfig, StorefrontCredentials};
use crate::domain::clock::Clock;
use crate::domain::ids::{ShopId, StorefrontId};
use crate::platforms::amazon_mcf::{AmazonMcfClient, AmazonMcfConfig};
use crate::platforms::bigcommerce::{BigcommerceClient, BigcommerceConfig};
use crate::platforms::http::Timeouts;
use crate::platforms::magento2::{Magento2Client, Magento2Config};
use crate::platforms::shopify::{ApiVersion, ShopifyClient, ShopifyConfig};
use crate::platforms::tiktok::{AppCredentials, TiktokClient, TiktokConfig};
use crate::platforms::woocommerce::{WoocommerceClient, WoocommerceConfig};
use crate::platforms::{Marketplace, Storefront, Tokens};

use super::{LinkRuntime, tokens};

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("shop {shop}: {message}")]
    Shop { shop: ShopId, message: String },
    #[error("store {store}: {message}")]
    Store {
        store: StorefrontId,
        message: String,
    },
}

/// The links orderdeck can run, and a line for each it cannot.
/// One TikTok shop's client, the limit on its calls in flight, and its region.
type ShopClient = (Arc<dyn Marketplace>, Arc<Semaphore>, String);

pub struct Wired {
    pub links: Vec<LinkRuntime>,
    pub skipped: Vec<String>,
    /// Problems that do not stop a link (a damaged saved-tokens file), for Activity.
    pub problems: Vec<String>,
}

pub fn build_links(
    config: &Config,
    clock: Arc<dyn Clock>,
    token_dir: &Path,
) -> Result<Wired, WiringError> {
    let timeouts = Timeouts {
        connect: config.engine.connect_timeout,
        request: config.engine.request_timeout,
    };
    let slots = || {
        Arc::new(Semaphore::new(
            config.engine.concurrency_per_account as usize,
        ))
    };
    let mut marketplaces: HashMap<ShopId, ShopClient> = HashMap::new();
    let mut storefronts: HashMap<StorefrontId, (Arc<dyn Storefront>, Arc<Semaphore>)> =
        HashMap::new();
    let mut wired = Wired {
        links: Vec::new(),
        skipped: Vec::new(),
        problems: Vec::new(),
    };
    for link in &config.links {
        let (Some(shop), Some(store)) = (config.shop(&link.shop), config.store(&link.store)) else {
            wired.skipped.push(format!(
                "link {}: its shop or store is not configured",
                link.name
            ));
            continue;
        };
        if !storefronts.contains_key(&store.name) {
            storefronts.insert(store.name.clone(), (storefront(store, timeouts)?, slots()));
        }
        if !marketplaces.contains_key(&shop.name) {
            let mut tiktok = TiktokConfig::new(
                AppCredentials::new(shop.app_key.clone(), shop.app_secret.expose()),
                shop_tokens(shop, token_dir, &mut wired.problems),
                shop.region.clone(),
            );
            tiktok.shop_cipher = shop.shop_cipher.clone();
            tiktok.api_base = shop.api_base.as_str().trim_end_matches('/').to_string();
            tiktok.auth_base = shop.auth_base.as_str().trim_end_matches('/').to_string();
            tiktok.timeouts = timeouts;
            let client =
                TiktokClient::new(tiktok, clock.clone()).map_err(|e| WiringError::Shop {
                    shop: shop.name.clone(),
                    message: e.to_string(),
                })?;
            marketplaces.insert(
                shop.name.clone(),
                (Arc::new(client), slots(), shop.region.clone()),
            );
        }
        let (marketplace, tiktok_slots, region) = marketplaces[&shop.name].clone();
        let (storefront, storefront_slots) = storefronts[&store.name].clone();
        wired.links.push(LinkRuntime {
            id: link.name.clone(),
            shop: shop.name.clone(),
            storefront_name: store.name.clone(),
            platform: store.platform(),
            region,
            poll_interval: link.poll_interval,
            marketplace,
            storefront,
            tiktok_slots,
            storefront_slots,
            max_in_flight: config.engine.concurrency_per_account as usize,
            initial_settings: link.settings.clone(),
        });
    }
    Ok(wired)
}

/// The config's tokens, unless an earlier run saved a newer pair.
fn shop_tokens(
    shop: &crate::config::ShopConfig,
    token_dir: &Path,
    problems: &mut Vec<String>,
) -> Tokens {
    let configured = Tokens {
        access_token: shop.access_token.expose().to_string(),
        access_expires_at: shop.access_token_expires_at,
        refresh_token: shop.refresh_token.expose().to_string(),
        refresh_expires_at: shop.refresh_token_expires_at,
    };
    match tokens::load(token_dir, &shop.name) {
        Ok(Some(saved)) if saved.access_expires_at > configured.access_expires_at => saved,
        Ok(_) => configured,
        Err(why) => {
            problems.push(format!("shop {}: {why}", shop.name));
            configured
        }
    }
}

fn storefront(
    store: &StorefrontConfig,
    timeouts: Timeouts,
) -> Result<Arc<dyn Storefront>, WiringError> {
    let err = |message: String| WiringError::Store {
        store: store.name.clone(),
        message,
    };
    match &store.credentials {
        StorefrontCredentials::Shopify(shopify) => {
            let mut config =
                ShopifyConfig::new(shopify.shop_domain.clone(), shopify.access_token.expose());
            config.api_version =
                ApiVersion::parse(&shopify.api_version).map_err(|e| err(e.to_string()))?;
            config.api_base = Some(store.api_base.as_str().trim_end_matches('/').to_string());
            config.timeouts = timeouts;
            let client = ShopifyClient::new(&config).map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(client))
        }
        StorefrontCredentials::Woocommerce(woo) => {
            // `api_base` is the merchant's site URL (WooCommerce has no platform host).
            let mut config = WoocommerceConfig::new(
                store.api_base.as_str(),
                woo.consumer_key.expose(),
                woo.consumer_secret.expose(),
            );
            config.timeouts = timeouts;
            config.webhook_secret = woo.webhook_secret.as_ref().map(|s| s.expose().to_string());
            let client = WoocommerceClient::new(&config).map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(client))
        }
        StorefrontCredentials::Magento2(magento) => {
            // `api_base` is the merchant's site URL; the store view is the default one.
            let mut config = Magento2Config::new(
                store.name.as_str(),
                store.api_base.as_str(),
                magento.access_token.expose(),
            );
            config.timeouts = timeouts;
            let client = Magento2Client::new(&config).map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(client))
        }
        StorefrontCredentials::Bigcommerce(big) => {
            let mut config = BigcommerceConfig::new(
                store.api_base.as_str(),
                big.store_hash.clone(),
                big.access_token.expose(),
            );
            config.timeouts = timeouts;
            config.webhook_secret = big.webhook_secret.as_ref().map(|s| s.expose().to_string());
            let client = BigcommerceClient::new(&config).map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(client))
        }
        StorefrontCredentials::AmazonMcf(amazon) => {
            // `api_base` is the region's Selling Partner API host, `auth_base` Login with
            // Amazon's: both a sandbox in tests, like a TikTok shop's.
            let mut config = AmazonMcfConfig::new(
                store.name.as_str(),
                store.api_base.as_str(),
                amazon.auth_base.as_str(),
                amazon.lwa_client_id.as_str(),
                amazon.lwa_client_secret.expose(),
                amazon.refresh_token.expose(),
                amazon.marketplace_id.as_str(),
            );
            config.timeouts = timeouts;
            let client = AmazonMcfClient::new(&config).map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(client))
        }
    }
}
