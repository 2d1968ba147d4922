//! The simulated platforms (TikTok Shop, Shopify, and WooCommerce, Magento, BigCommerce and
//! Amazon MCF when the scenario has such stores) started together from one scenario, and the
//! `orderdeck.toml` that points orderdeck at them. Used by `orderdeck sandbox`, `orderdeck demo`
//! and the end-to-end tests (which load the generated config like a user's, so config parsing
//! is exercised too).

use std::fmt::Write;
use std::net::SocketAddr;
use std::path::Path;

use super::amazon_mcf::{AmazonMcfSandbox, AmazonSpec, Credentials};
use super::bigcommerce::BigcommerceSandbox;
use super::magento2::Magento2Sandbox;
use super::scenario::Scenario;
use super::shopify::{SandboxError, ShopifySandbox};
use super::tiktok::TiktokSandbox;
use super::woocommerce::WoocommerceSandbox;

pub struct SandboxSet {
    pub scenario: Scenario,
    pub tiktok: TiktokSandbox,
    pub shopify: ShopifySandbox,
    /// Serves the scenario's WooCommerce sites (none unless `Scenario::with_woocommerce`).
    pub woocommerce: WoocommerceSandbox,
    /// Serves the scenario's Magento stores (none unless `Scenario::with_magento`).
    pub magento: Magento2Sandbox,
    /// Serves the scenario's BigCommerce stores (none unless `Scenario::with_bigcommerce`).
    pub bigcommerce: BigcommerceSandbox,
    /// One simulated Amazon per seller of the scenario, in its order (each serves both the
    /// Selling Partner API and Login with Amazon on its own port).
    pub amazon: Vec<AmazonMcfSandbox>,
}

impl SandboxSet {
    /// Starts them all on `ip` (port 0: any free ports).
    pub async fn start(
        scenario: Scenario,
        ip: std::net::IpAddr,
    ) -> Result<SandboxSet, SandboxError> {
        let tiktok = TiktokSandbox::start(&scenario, SocketAddr::new(ip, 0))
            .await
            .map_err(SandboxError::Io)?;
        let shopify = ShopifySandbox::start(&scenario.stores, SocketAddr::new(ip, 0)).await?;
        let woocommerce =
            WoocommerceSandbox::start(&scenario.woocommerce, SocketAddr::new(ip, 0)).await?;
        let magento = Magento2Sandbox::start(&scenario.magento, SocketAddr::new(ip, 0)).await?;
        let bigcommerce =
            BigcommerceSandbox::start(&scenario.bigcommerce, SocketAddr::new(ip, 0)).await?;
        let mut amazon = Vec::with_capacity(scenario.amazon.len());
        for seller in &scenario.amazon {
            let mut spec = AmazonSpec::new(&[]);
            spec.credentials = Credentials {
                client_id: seller.lwa_client_id.clone(),
                client_secret: seller.lwa_client_secret.clone(),
                refresh_token: seller.refresh_token.clone(),
            };
            spec.stock.clone_from(&seller.stock);
            amazon.push(AmazonMcfSandbox::start(&spec, SocketAddr::new(ip, 0)).await?);
        }
        Ok(SandboxSet {
            scenario,
            tiktok,
            shopify,
            woocommerce,
            magento,
            bigcommerce,
            amazon,
        })
    }

    /// Every request a simulated store refused for breaking its platform's published contract,
    /// as `store: endpoint: why` (orderdeck's clients should have sent none).
    pub fn contract_refusals(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |store: &str, refused: Result<Vec<String>, SandboxError>| match refused {
            Ok(list) => out.extend(list.into_iter().map(|why| format!("{store}: {why}"))),
            Err(e) => out.push(format!("{store}: {e}")),
        };
        for store in &self.scenario.woocommerce {
            add(&store.name, self.woocommerce.refused(&store.name));
        }
        for store in &self.scenario.magento {
            add(&store.name, self.magento.refused(&store.name));
        }
        for store in &self.scenario.bigcommerce {
            add(&store.name, self.bigcommerce.refused(&store.name));
        }
        for (seller, amazon) in self.scenario.amazon.iter().zip(&self.amazon) {
            add(&seller.name, Ok(amazon.invalid_requests()));
        }
        out
    }

    /// The simulated Amazon of the scenario's seller `store`.
    pub fn amazon_of(&self, store: &str) -> Option<&AmazonMcfSandbox> {
        let index = self.scenario.amazon.iter().position(|a| a.name == store)?;
        self.amazon.get(index)
    }

    /// An `orderdeck.toml` for these sandboxes. It holds the sandbox's (fake) credentials as
    /// literals, so write it with mode 0600.
    pub fn config_toml(
        &self,
        data_dir: &Path,
        socket: &Path,
        extra_access: &str,
    ) -> Result<String, SandboxError> {
        let mut out = String::from(
            "# orderdeck.toml for the built-in sandbox (simulated TikTok Shop and stores on loopback).\n",
        );
        out.push_str(
            "# The credentials below are the sandbox's own test values, not real secrets.\n\n",
        );
        for shop in &self.scenario.shops {
            let _ = writeln!(
                out,
                "[[shops]]\nname = \"{}\"\napp_key = \"{}\"\napp_secret = \"{}\"",
                shop.name, shop.app_key, shop.app_secret
            );
            let _ = writeln!(
                out,
                "access_token = \"{}\"\nrefresh_token = \"{}\"",
                shop.access_token, shop.refresh_token
            );
            let _ = writeln!(
                out,
                "access_token_expires_at = {}\nrefresh_token_expires_at = {}",
                shop.access_expires_at, shop.refresh_expires_at
            );
            let _ = writeln!(
                out,
                "region = \"{}\"\napi_base = \"{}\"\nauth_base = \"{}\"\n",
                shop.region,
                self.tiktok.api_base(),
                self.tiktok.auth_base()
            );
        }
        for store in &self.scenario.stores {
            let _ = writeln!(
                out,
                "[[stores]]\nname = \"{}\"\nplatform = \"shopify\"\nshop_domain = \"{}\"",
                store.name, store.shop_domain
            );
            let _ = writeln!(
                out,
                "access_token = \"{}\"\nwebhook_secret = \"{}\"\napi_base = \"{}\"\n",
                store.access_token,
                store.webhook_secret,
                self.shopify.api_base(&store.name)?
            );
        }
        for site in &self.scenario.woocommerce {
            // `api_base` is the site's URL: WooCommerce runs on the merchant's own site.
            let _ = writeln!(
                out,
                "[[stores]]\nname = \"{}\"\nplatform = \"woocommerce\"\napi_base = \"{}\"",
                site.name,
                self.woocommerce.site_url(&site.name)?
            );
            let _ = writeln!(
                out,
                "consumer_key = \"{}\"\nconsumer_secret = \"{}\"\nwebhook_secret = \"{}\"\n",
                site.consumer_key, site.consumer_secret, site.webhook_secret
            );
        }
        for site in &self.scenario.magento {
            // `api_base` is the site's URL; the store view is the default one.
            let _ = writeln!(
                out,
                "[[stores]]\nname = \"{}\"\nplatform = \"magento2\"\napi_base = \"{}\"\naccess_token = \"{}\"\n",
                site.name,
                self.magento.site_url(&site.name)?,
                site.access_token
            );
        }
        for store in &self.scenario.bigcommerce {
            let _ = writeln!(
                out,
                "[[stores]]\nname = \"{}\"\nplatform = \"bigcommerce\"\nstore_hash = \"{}\"",
                store.name, store.store_hash
            );
            let _ = writeln!(
                out,
                "access_token = \"{}\"\nwebhook_secret = \"{}\"\napi_base = \"{}\"\n",
                store.access_token,
                store.client_secret,
                self.bigcommerce.api_base()
            );
        }
        for (seller, sandbox) in self.scenario.amazon.iter().zip(&self.amazon) {
            // Both hosts are the simulated Amazon: the Selling Partner API and Login with Amazon.
            let _ = writeln!(
                out,
                "[[stores]]\nname = \"{}\"\nplatform = \"amazon_mcf\"\nregion = \"na\"\nmarketplace_id = \"{}\"",
                seller.name, seller.marketplace_id
            );
            let _ = writeln!(
                out,
                "lwa_client_id = \"{}\"\nlwa_client_secret = \"{}\"\nrefresh_token = \"{}\"",
                seller.lwa_client_id, seller.lwa_client_secret, seller.refresh_token
            );
            let _ = writeln!(
                out,
                "api_base = \"{base}\"\nauth_base = \"{base}\"\n",
                base = sandbox.base_url()
            );
        }
        for shop in &self.scenario.shops {
            let _ = writeln!(
                out,
                "[[links]]\nshop = \"{}\"\nstore = \"{}\"\npoll_interval = \"5s\"\n",
                shop.name, shop.store
            );
            let _ = writeln!(
                out,
                "[links.settings]\ncarrier_map = {{ \"Royal Mail Tracked 24\" = \"Royal Mail\" }}\n"
            );
        }
        let _ = writeln!(out, "[access]\n{extra_access}\n");
        let _ = writeln!(
            out,
            "[paths]\ndata_dir = \"{}\"\nsocket = \"{}\"",
            data_dir.display(),
            socket.display()
        );
        Ok(out)
    }
}
