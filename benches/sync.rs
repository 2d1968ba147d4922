//! Sync throughput against the simulated platforms, with realistic latency on every call.
//! Imports N orders (Shopify-bound: the store's cost bucket), then pushes their tracking once the
//! warehouses fulfil them (TikTok-bound: 50 requests per second per API per shop), and prints
//! orders per second and the achieved request rate as a share of each platform's limit.
//!
//! `cargo bench --bench sync` (ORDERS=10000 SHOPS=4 LATENCY_MS=60 to change the defaults).

// Benchmark code: a panic is a failed run (the crate's lints deny these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use orderdeck::cli::runtime::open_local;
use orderdeck::config::Config;
use orderdeck::domain::clock::SystemClock;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::sandbox::scenario::{Scenario, Size};
use orderdeck::sandbox::set::SandboxSet;
use orderdeck::sandbox::shopify::{BucketLimits, SandboxTracking};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Shopify Plus-sized buckets (a standard plan restores 100 points/s; 10,000 orders there take
/// half an hour whatever the client does).
const BUCKET: BucketLimits = BucketLimits {
    maximum_available: 2000.0,
    restore_rate: 1000.0,
};
const TIKTOK_LIMIT: f64 = 50.0;

fn main() -> anyhow::Result<()> {
    let orders = env("ORDERS", 10_000) as usize;
    let shops = env("SHOPS", 4) as usize;
    let latency = Duration::from_millis(env("LATENCY_MS", 60));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(orders, shops, latency))
}

async fn run(orders: usize, shops: usize, latency: Duration) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let scenario = Scenario::generate(
        7,
        Size {
            shops,
            orders_per_shop: 0,
        },
        now,
    );
    let set = SandboxSet::start(scenario.clone(), [127, 0, 0, 1].into()).await?;
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
    for serial in 0..orders {
        let shop = serial % shops;
        let mut spec = scenario.new_order(&mut rng, shop, serial, now - 120);
        spec.shipping_type = "SELLER".into();
        // Only SKUs the store has: this measures throughput, not stuck orders.
        let known = &scenario.stores[shop].variants[0];
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
    set.tiktok
        .faults()
        .sometimes("*", FaultKind::Latency(latency), 1.0);
    set.shopify
        .faults()
        .sometimes("*", FaultKind::Latency(latency), 1.0);

    let dir = tempfile::tempdir()?;
    let me = orderdeck::service::identity::Account::current().name;
    let toml = set.config_toml(
        &dir.path().join("data"),
        &dir.path().join("od.sock"),
        &format!("admin = [\"{me}\"]"),
    )?;
    // Throughput, not stock: the simulated stores would run out of stock long before 10,000.
    let toml = toml.replace(
        "[links.settings]\n",
        "[links.settings]\ninventory_behaviour = \"BYPASS\"\n",
    );
    let toml = format!("{toml}\n[engine]\nconcurrency_per_account = 16\n");
    let path = dir.path().join("orderdeck.toml");
    std::fs::write(&path, toml)?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let config = Config::load(&path)?;
    let local = open_local(&config, Arc::new(SystemClock), false)?;
    let engine = local.engine.clone();

    println!(
        "sync bench: {orders} orders over {shops} shop/store pairs, {} ms latency per call",
        latency.as_millis()
    );
    let (poll_time, import_time, imported) = phase(&engine).await;
    let created: usize = scenario
        .stores
        .iter()
        .map(|s| set.shopify.orders(&s.name).map(|o| o.len()).unwrap_or(0))
        .sum();
    let create_calls: u32 = scenario
        .stores
        .iter()
        .map(|s| set.shopify.calls(&s.name, "orderCreate").unwrap_or(0))
        .sum();
    let throttled: u32 = scenario
        .stores
        .iter()
        .map(|s| set.shopify.throttled(&s.name).unwrap_or(0))
        .sum();
    println!(
        "import: poll {:.1} s, then {created} store orders in {:.1} s = {:.0} orders/s ({} jobs, {} stuck); orderCreate calls {create_calls}, THROTTLED {throttled}",
        poll_time.as_secs_f64(),
        import_time.as_secs_f64(),
        created as f64 / import_time.as_secs_f64(),
        imported.ran,
        imported.stuck
    );

    let points: f64 = scenario
        .stores
        .iter()
        .map(|s| set.shopify.points_charged(&s.name).unwrap_or(0.0))
        .sum();
    // The most a store allows over the phase: its full bucket, then the restore rate.
    let allowed =
        shops as f64 * (BUCKET.maximum_available + BUCKET.restore_rate * import_time.as_secs_f64());
    println!(
        "import: Shopify cost {points:.0} points = {:.0} points/s = {:.2} of the limit ({shops} stores × a {} point bucket, then {} points/s)",
        points / import_time.as_secs_f64(),
        points / allowed,
        BUCKET.maximum_available,
        BUCKET.restore_rate
    );
    report_stuck(&engine)?;

    for store in &scenario.stores {
        for order in set.shopify.orders(&store.name)? {
            let tracking = SandboxTracking {
                company: Some("Royal Mail".into()),
                number: Some(format!("RM{}GB", order.number)),
                url: None,
            };
            set.shopify.fulfil(&store.name, &order.id, tracking)?;
        }
    }
    let (push_poll_time, push_time, pushed) = phase(&engine).await;
    // US/UK/EU shops mark packages shipped, SEA/LATAM shops ship them: one API per shop.
    let mark = set.tiktok.rate_report("mark_package_as_shipped");
    let ship = set.tiktok.rate_report("ship_package");
    let providers = set.tiktok.rate_report("get_shipping_providers");
    let rate = (mark.calls + ship.calls) as f64 / push_time.as_secs_f64();
    println!(
        "tracking: poll {:.1} s, then {} pushed in {:.1} s = {:.0} orders/s; shipping APIs {:.1} req/s = {:.2} of the limit ({shops} shops × {TIKTOK_LIMIT}/s); busiest second {} calls to one endpoint (its shops together); 429s {} (providers API: {} calls, {} 429s)",
        push_poll_time.as_secs_f64(),
        pushed.done,
        push_time.as_secs_f64(),
        pushed.done as f64 / push_time.as_secs_f64(),
        rate,
        rate / (TIKTOK_LIMIT * shops as f64),
        mark.max_in_any_second.max(ship.max_in_any_second),
        mark.answered_429 + ship.answered_429,
        providers.calls,
        providers.answered_429
    );
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
