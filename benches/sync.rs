//! Sync throughput against the simulated platforms, with realistic latency on every call.
//! Imports N orders into the stores of the chosen platforms, then pushes their tracking once the
//! warehouses ship them (TikTok-bound: 50 requests per second per API per shop), and prints
//! orders per second and, per platform, the achieved request rate as a share of its limit
//! (Shopify's cost bucket, BigCommerce's request quota; WooCommerce and Magento sites publish
//! none, so their figure is requests per second).
//!
//! `cargo bench --bench sync` (ORDERS=10000 SHOPS=4 LATENCY_MS=60
//! PLATFORMS=shopify,woocommerce,magento2,bigcommerce,amazon_mcf to change the defaults; SHOPS counts the
//! shop/store pairs of each platform).

// Benchmark code: a panic is a failed run (the crate's lints deny these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::env_count;
use orderdeck::cli::runtime::open_local;
use orderdeck::config::Config;
use orderdeck::domain::clock::SystemClock;
use orderdeck::sandbox::amazon_mcf::AmazonMcfSandbox;
use orderdeck::sandbox::bigcommerce::Parcel;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::magento2::TrackSpec;
use orderdeck::sandbox::scenario::{Scenario, Size};
use orderdeck::sandbox::set::SandboxSet;
use orderdeck::sandbox::shopify::{BucketLimits, SandboxTracking};

/// Shopify Plus-sized buckets (a standard plan restores 100 points/s; 10,000 orders there take
/// half an hour whatever the client does).
const BUCKET: BucketLimits = BucketLimits {
    maximum_available: 2000.0,
    restore_rate: 1000.0,
};
const TIKTOK_LIMIT: f64 = 50.0;
/// Amazon's createFulfillmentOrder rate: per second, and the burst (amazon-mcf.md).
const AMAZON_CREATE: (f64, f64) = (2.0, 30.0);
/// A BigCommerce Pro store's quota (bigcommerce.md: 450 requests per 30 s, every app's together).
const BIGCOMMERCE_PRO: (u32, Duration) = (450, Duration::from_secs(30));

/// What the import phase did on one platform's stores.
#[derive(Debug, Default)]
struct Imported {
    made: usize,
    creates: u32,
    throttled: u32,
    /// Shopify: cost points charged; BigCommerce: requests served (both count against limits);
    /// Amazon: fulfillment orders accepted (the creates its bucket let through).
    cost: f64,
    /// BigCommerce: the requests its quota offered from the first window to the current one,
    /// that one counted as far as it was used (the work, not the pace, ended there).
    offered: f64,
    /// When the first and the last store orders were made.
    first: Option<chrono::DateTime<chrono::Utc>>,
    last: Option<chrono::DateTime<chrono::Utc>>,
}

/// The simulated Amazon seller of the scenario's Amazon store `name`.
fn amazon<'a>(set: &'a SandboxSet, name: &str) -> &'a AmazonMcfSandbox {
    let at = set
        .scenario
        .amazon
        .iter()
        .position(|a| a.name == name)
        .expect("an Amazon store of the scenario");
    &set.amazon[at]
}

/// A store platform the bench drives: its shop/store pairs, what it made, how it ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StorePlatform {
    Shopify,
    Woocommerce,
    Magento2,
    Bigcommerce,
    AmazonMcf,
}

impl StorePlatform {
    const ALL: [StorePlatform; 5] = [
        StorePlatform::Shopify,
        StorePlatform::Woocommerce,
        StorePlatform::Magento2,
        StorePlatform::Bigcommerce,
        StorePlatform::AmazonMcf,
    ];

    fn name(self) -> &'static str {
        match self {
            StorePlatform::Shopify => "shopify",
            StorePlatform::Woocommerce => "woocommerce",
            StorePlatform::Magento2 => "magento2",
            StorePlatform::Bigcommerce => "bigcommerce",
            StorePlatform::AmazonMcf => "amazon_mcf",
        }
    }

    /// `PLATFORMS`, a comma-separated list of names (default: Shopify alone).
    fn chosen() -> anyhow::Result<Vec<StorePlatform>> {
        let list = std::env::var("PLATFORMS").unwrap_or_else(|_| "shopify".into());
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                StorePlatform::ALL
                    .into_iter()
                    .find(|p| p.name() == name)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "PLATFORMS: unknown platform {name:?}; known: shopify, woocommerce, magento2, bigcommerce, amazon_mcf"
                        )
                    })
            })
            .collect()
    }

    /// The names of this platform's stores in the scenario.
    fn stores(self, scenario: &Scenario) -> Vec<String> {
        match self {
            StorePlatform::Shopify => scenario.stores.iter().map(|s| s.name.clone()).collect(),
            StorePlatform::Woocommerce => scenario
                .woocommerce
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            StorePlatform::Magento2 => scenario.magento.iter().map(|s| s.name.clone()).collect(),
            StorePlatform::Bigcommerce => scenario
                .bigcommerce
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            StorePlatform::AmazonMcf => scenario.amazon.iter().map(|s| s.name.clone()).collect(),
        }
    }

    /// What the import phase did on this platform's stores.
    fn imported(self, set: &SandboxSet) -> anyhow::Result<Imported> {
        let mut out = Imported::default();
        for store in self.stores(&set.scenario) {
            let store = store.as_str();
            // Each store's order creation times, with its calls counted on the way.
            let created: Vec<chrono::DateTime<chrono::Utc>> = match self {
                StorePlatform::Shopify => {
                    out.creates += set.shopify.calls(store, "orderCreate")?;
                    out.throttled += set.shopify.throttled(store)?;
                    out.cost += set.shopify.points_charged(store)?;
                    set.shopify
                        .orders(store)?
                        .iter()
                        .map(|o| o.created_at)
                        .collect()
                }
                StorePlatform::Woocommerce => {
                    out.creates += set.woocommerce.calls(store, "orders.create")?;
                    set.woocommerce
                        .orders(store)?
                        .iter()
                        .map(|o| o.created)
                        .collect()
                }
                StorePlatform::Magento2 => {
                    out.creates += set.magento.calls(store, "orders.create")?;
                    set.magento
                        .orders(store)?
                        .iter()
                        .map(|o| o.created_at)
                        .collect()
                }
                StorePlatform::Bigcommerce => {
                    out.creates += set.bigcommerce.calls(store, "orders.create")?;
                    out.throttled += set.bigcommerce.throttled(store)?;
                    if let Some(quota) = set.bigcommerce.quota_use(store)? {
                        let windows = (quota.current_window - quota.first_window).as_secs_f64()
                            / quota.window.as_secs_f64();
                        out.cost += quota.served as f64;
                        out.offered +=
                            f64::from(quota.quota) * windows + f64::from(quota.used_in_current);
                    }
                    set.bigcommerce
                        .orders(store)?
                        .iter()
                        .map(|o| o.created)
                        .collect()
                }
                StorePlatform::AmazonMcf => {
                    let seller = amazon(set, store);
                    out.creates += seller.calls("createFulfillmentOrder");
                    out.throttled += seller.throttled();
                    let accepted: Vec<_> = seller.orders().iter().map(|o| o.received).collect();
                    out.cost += accepted.len() as f64;
                    accepted
                }
            };
            out.made += created.len();
            out.first = out.first.into_iter().chain(created.iter().copied()).min();
            out.last = out.last.max(created.into_iter().max());
        }
        Ok(out)
    }

    /// The load over `busy` (from the first create to the platform's last) as a share of what
    /// the platform allows, where it publishes a limit.
    fn load(self, imported: &Imported, stores: usize, busy: Duration) -> String {
        let seconds = busy.as_secs_f64();
        let stores = stores as f64;
        match self {
            StorePlatform::Shopify => format!(
                "cost {:.0} points/s = {:.2} of the limit (a {} point bucket, then {} points/s per store)",
                imported.cost / seconds,
                imported.cost
                    / (stores * (BUCKET.maximum_available + BUCKET.restore_rate * seconds)),
                BUCKET.maximum_available,
                BUCKET.restore_rate
            ),
            StorePlatform::Bigcommerce => {
                // Windows open at their first request: the store offered its quota each window
                // from the run's first request on; the last window only held what work was left.
                let (quota, window) = BIGCOMMERCE_PRO;
                format!(
                    "{:.1} requests/s = {:.2} of what the quota offered ({quota} per {} s per store; {:.0} served of {:.0})",
                    imported.cost / seconds,
                    imported.cost / imported.offered,
                    window.as_secs(),
                    imported.cost,
                    imported.offered
                )
            }
            StorePlatform::AmazonMcf => {
                // createFulfillmentOrder: a burst of 30, then 2 per second (amazon-mcf.md), from
                // the first create to the last; what it let through over what it could have.
                let allowed = stores * (AMAZON_CREATE.1 + AMAZON_CREATE.0 * seconds);
                format!(
                    "{:.1} accepted creates/s = {:.2} of createFulfillmentOrder's rate ({} per s after a burst of {})",
                    imported.cost / seconds,
                    imported.cost / allowed,
                    AMAZON_CREATE.0,
                    AMAZON_CREATE.1
                )
            }
            StorePlatform::Woocommerce | StorePlatform::Magento2 => {
                "a self-hosted site publishes no rate limit".into()
            }
        }
    }

    /// The warehouses ship every order of this platform's stores, each with its tracking number.
    fn ship_all(self, set: &SandboxSet) -> anyhow::Result<()> {
        for store in self.stores(&set.scenario) {
            let store = store.as_str();
            match self {
                StorePlatform::Shopify => {
                    for order in set.shopify.orders(store)? {
                        let tracking = SandboxTracking {
                            company: Some("Royal Mail".into()),
                            number: Some(format!("RM{}GB", order.number)),
                            url: None,
                        };
                        set.shopify.fulfil(store, &order.id, tracking)?;
                    }
                }
                StorePlatform::Woocommerce => {
                    for order in set.woocommerce.orders(store)? {
                        let number = format!("1Z{:016}", order.id);
                        set.woocommerce
                            .ship(store, order.id, "UPS", &number, false)?;
                    }
                }
                StorePlatform::Magento2 => {
                    for order in set.magento.orders(store)? {
                        let number = format!("1Z{:016}", order.entity_id);
                        let track = TrackSpec::new("ups", "United Parcel Service", &number);
                        set.magento.ship(store, order.entity_id, &[], &[track])?;
                    }
                }
                StorePlatform::Bigcommerce => {
                    for order in set.bigcommerce.orders(store)? {
                        let parcel = Parcel {
                            units: Vec::new(),
                            tracking_number: format!("1Z{:016}", order.id),
                            shipping_provider: "ups".into(),
                            tracking_carrier: String::new(),
                        };
                        set.bigcommerce.ship(store, order.id, &parcel)?;
                    }
                }
                StorePlatform::AmazonMcf => {
                    let seller = amazon(set, store);
                    for order in seller.orders() {
                        let number = format!("1Z{}", order.id);
                        let units: Vec<(&str, u32)> = order
                            .items
                            .iter()
                            .map(|i| (i.sku.as_str(), i.quantity))
                            .collect();
                        seller.ship(&order.id, &[("UPS", &number, &units)])?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let orders = env_count("ORDERS", 10_000) as usize;
    let shops = env_count("SHOPS", 4) as usize;
    let latency = Duration::from_millis(env_count("LATENCY_MS", 60));
    let platforms = StorePlatform::chosen()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(orders, shops, latency, &platforms))
}

/// `shops` shop/store pairs of each platform (the scenario always has a first Shopify pair; it
/// gets no orders unless Shopify is chosen).
fn scenario(shops: usize, platforms: &[StorePlatform], now: i64) -> Scenario {
    let shopify = if platforms.contains(&StorePlatform::Shopify) {
        shops
    } else {
        1
    };
    let mut scenario = Scenario::generate(
        7,
        Size {
            shops: shopify,
            orders_per_shop: 0,
        },
        now,
    );
    for platform in platforms {
        for _ in 0..shops {
            scenario = match platform {
                StorePlatform::Shopify => scenario,
                StorePlatform::Woocommerce => scenario.with_woocommerce(),
                StorePlatform::Magento2 => scenario.with_magento(),
                StorePlatform::Bigcommerce => scenario.with_bigcommerce(),
                StorePlatform::AmazonMcf => scenario.with_amazon(),
            };
        }
    }
    scenario
}

async fn run(
    orders: usize,
    shops: usize,
    latency: Duration,
    platforms: &[StorePlatform],
) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let scenario = scenario(shops, platforms, now);
    let loaded: Vec<usize> = platforms
        .iter()
        .flat_map(|p| p.stores(&scenario))
        .filter_map(|store| scenario.shops.iter().position(|s| s.store == store))
        .collect();
    let set = SandboxSet::start(scenario.clone(), [127, 0, 0, 1].into()).await?;
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
    for serial in 0..orders {
        let shop = loaded[serial % loaded.len()];
        let mut spec = scenario.new_order(&mut rng, shop, serial, now - 120);
        spec.shipping_type = "SELLER".into();
        // Only SKUs the store has: this measures throughput, not stuck orders.
        let known = &scenario.catalog_of(shop)[0];
        for line in &mut spec.lines {
            if line.seller_sku.starts_with("GHOST") || line.seller_sku.starts_with("DUP") {
                line.seller_sku = known.sku.clone();
            }
        }
        set.tiktok.add_order(&spec);
    }
    for store in &scenario.stores {
        set.shopify.set_bucket(&store.name, BUCKET)?;
    }
    for store in &scenario.bigcommerce {
        set.bigcommerce
            .set_quota(&store.name, BIGCOMMERCE_PRO.0, BIGCOMMERCE_PRO.1)?;
    }
    let slow = FaultKind::Latency(latency);
    set.tiktok.faults().sometimes("*", slow, 1.0);
    set.shopify.faults().sometimes("*", slow, 1.0);
    set.woocommerce.faults().sometimes("*", slow, 1.0);
    set.magento.faults().sometimes("*", slow, 1.0);
    set.bigcommerce.faults().sometimes("*", slow, 1.0);
    for seller in &set.amazon {
        seller.faults().sometimes("*", slow, 1.0);
    }

    let dir = tempfile::tempdir()?;
    let me = orderdeck::service::identity::Account::current().name;
    let toml = set.config_toml(
        &dir.path().join("data"),
        &dir.path().join("od.sock"),
        &format!("admin = [\"{me}\"]"),
    )?;
    // Throughput, not stock: the simulated Shopify stores would run out of stock long before
    // 10,000 (the other platforms' order APIs do not check stock, so have no such setting).
    let shopify_stores = StorePlatform::Shopify.stores(&scenario);
    let toml = toml
        .split_inclusive("[[links]]\n")
        .map(|section| {
            let shopify = shopify_stores
                .iter()
                .any(|store| section.contains(&format!("store = \"{store}\"\n")));
            if shopify {
                section.replace(
                    "[links.settings]\n",
                    "[links.settings]\ninventory_behaviour = \"BYPASS\"\n",
                )
            } else {
                section.to_string()
            }
        })
        .collect::<String>();
    let toml = format!("{toml}\n[engine]\nconcurrency_per_account = 16\n");
    let path = dir.path().join("orderdeck.toml");
    std::fs::write(&path, toml)?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let config = Config::load(&path)?;
    let local = open_local(&config, Arc::new(SystemClock), false)?;
    let engine = local.engine.clone();

    let names: Vec<&str> = platforms.iter().map(|p| p.name()).collect();
    println!(
        "sync bench: {orders} orders over {} shop/store pairs ({shops} per platform: {}), {} ms latency per call",
        loaded.len(),
        names.join(", "),
        latency.as_millis()
    );
    let started = chrono::Utc::now();
    let (poll_time, import_time, imported) = phase(&engine).await;
    let creating_from = started + chrono::Duration::from_std(poll_time)?;
    let mut created = 0;
    for platform in platforms {
        let done = platform.imported(&set)?;
        created += done.made;
        // Amazon's create bucket is drawn on from the first create, which waits for a read
        // of its own: that is where the time it allowed starts. The other platforms count
        // every request of the import, its reads before the first create included.
        let since = match platform {
            StorePlatform::AmazonMcf => done.first.unwrap_or(creating_from),
            _ => creating_from,
        };
        let busy = done
            .last
            .and_then(|last| (last - since).to_std().ok())
            .unwrap_or(import_time)
            .max(Duration::from_secs(1));
        println!(
            "import {}: {} store orders in {:.1} s = {:.0} orders/s, {} create calls, {} throttled; {}",
            platform.name(),
            done.made,
            busy.as_secs_f64(),
            done.made as f64 / busy.as_secs_f64(),
            done.creates,
            done.throttled,
            platform.load(&done, platform.stores(&set.scenario).len(), busy)
        );
    }
    println!(
        "import: poll {:.1} s, then {created} store orders in {:.1} s = {:.0} orders/s ({} jobs, {} stuck)",
        poll_time.as_secs_f64(),
        import_time.as_secs_f64(),
        created as f64 / import_time.as_secs_f64(),
        imported.ran,
        imported.stuck
    );
    report_stuck(&engine)?;

    for platform in platforms {
        platform.ship_all(&set)?;
    }
    let (push_poll_time, push_time, pushed) = phase(&engine).await;
    // US/UK/EU shops mark packages shipped, SEA/LATAM shops ship them: one API per shop.
    let mark = set.tiktok.rate_report("mark_package_as_shipped");
    let ship = set.tiktok.rate_report("ship_package");
    let providers = set.tiktok.rate_report("get_shipping_providers");
    let rate = (mark.calls + ship.calls) as f64 / push_time.as_secs_f64();
    println!(
        "tracking: poll {:.1} s, then {} pushed in {:.1} s = {:.0} orders/s; shipping APIs {:.1} req/s = {:.2} of the limit ({} shops × {TIKTOK_LIMIT}/s); busiest second {} calls to one endpoint (its shops together); 429s {} (providers API: {} calls, {} 429s)",
        push_poll_time.as_secs_f64(),
        pushed.done,
        push_time.as_secs_f64(),
        pushed.done as f64 / push_time.as_secs_f64(),
        rate,
        rate / (TIKTOK_LIMIT * loaded.len() as f64),
        loaded.len(),
        mark.max_in_any_second.max(ship.max_in_any_second),
        mark.answered_429 + ship.answered_429,
        providers.calls,
        providers.answered_429
    );
    report_stuck(&engine)?;
    let total = poll_time + import_time + push_poll_time + push_time;
    println!(
        "end to end: {orders} orders imported and tracked in {:.1} s = {:.0} orders/s",
        total.as_secs_f64(),
        orders as f64 / total.as_secs_f64()
    );
    Ok(())
}

/// One sync: every link polled (timed), then the jobs that result run until none is due
/// (timed apart, so the request rates are those of the job runner).
async fn phase(
    engine: &Arc<orderdeck::engine::Engine>,
) -> (Duration, Duration, orderdeck::engine::RunReport) {
    let started = Instant::now();
    futures::future::join_all(engine.links().iter().map(|link| engine.poll_link(link))).await;
    let polled = started.elapsed();
    let started = Instant::now();
    let report = engine
        .run_jobs(
            tokio_util::sync::CancellationToken::new(),
            Some(Duration::from_secs(5)),
        )
        .await;
    (polled, started.elapsed(), report)
}

/// The reasons orders got stuck, most common first (a bench with stuck orders measures less).
fn report_stuck(engine: &orderdeck::engine::Engine) -> anyhow::Result<()> {
    use orderdeck::domain::triage::OrderView;
    let query = orderdeck::store::ViewQuery {
        view: OrderView::Stuck,
        link: None,
        offset: 0,
        limit: usize::MAX,
        now: engine.now(),
    };
    let page = engine
        .store()
        .page_view(&query, &engine.settings_lookup())?;
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for order in &page.items {
        if let Some((_, reason)) = order.flows.stuck() {
            *reasons
                .entry(reason.chars().take(90).collect())
                .or_default() += 1;
        }
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (reason, n) in reasons.iter().take(5) {
        println!("  stuck ×{n}: {reason}");
    }
    Ok(())
}
