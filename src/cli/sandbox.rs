//! `orderdeck sandbox`: the simulated TikTok Shop, Shopify, WooCommerce, Magento, BigCommerce and
//! Amazon MCF (with its Login with Amazon token endpoint) on loopback, seeded from a
//! deterministic scenario, until Ctrl-C. Prints the `orderdeck.toml` that points orderdeck at
//! them (its credentials are the sandbox's own test values).

use std::io::Write as _;

use crate::sandbox::scenario::{Scenario, Size};
use crate::sandbox::set::SandboxSet;

pub async fn run(seed: u64, orders_per_shop: usize) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let scenario = Scenario::generate(
        seed,
        Size {
            shops: 3,
            orders_per_shop,
        },
        now,
    )
    .with_woocommerce()
    .with_magento()
    .with_bigcommerce()
    .with_amazon();
    let set = SandboxSet::start(scenario, [127, 0, 0, 1].into()).await?;
    let data_dir = std::env::temp_dir().join("orderdeck-sandbox");
    let me = crate::service::identity::Account::current().name;
    let snippet = set.config_toml(
        &data_dir,
        &data_dir.join("orderdeck.sock"),
        &format!("admin = [\"{me}\"]"),
    )?;
    writeln!(super::output::stdout(), "{snippet}")?;
    let amazon: Vec<String> = set.amazon.iter().map(|a| a.base_url()).collect();
    super::output::warn(format_args!(
        "orderdeck sandbox: TikTok Shop API {} (auth {}), Shopify {}, WooCommerce {}, Magento {}, BigCommerce {}, Amazon MCF {} (Login with Amazon at the same address). \
         Save the config above (chmod 600), add yourself to [access], then run orderdeck with --config. Ctrl-C stops.",
        set.tiktok.api_base(),
        set.tiktok.auth_base(),
        set.shopify.addr(),
        set.woocommerce.addr(),
        set.magento.addr(),
        set.bigcommerce.api_base(),
        amazon.join(", ")
    ));
    tokio::signal::ctrl_c().await?;
    Ok(())
}
