//! Shopify cost pacing under a burst: N concurrent `get_order` calls through one client against
//! the sandbox's cost bucket, once the client has seen the bucket. Prints the points per second
//! achieved against the restore rate, how many answers were THROTTLED, and the latency of a call
//! (queueing for points included). For contrast, the same burst sent raw, without pacing.
//!
//! `cargo bench --bench shopify_pacing`; `BURST`, `BUCKET_MAX` and `RESTORE_RATE` override the
//! defaults (150 calls, 100 points, 50 points/s).

// Benchmark code: a panic is a failed run (the crate's lints deny these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::time::{Duration, Instant};

use orderdeck::domain::ids::{StorefrontOrderId, TiktokOrderId};
use orderdeck::domain::rules::import::{
    DraftAddress, DraftLine, STORE_ORDER_TAG, StorefrontOrderDraft,
};
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::shopify::{ShopifyClient, ShopifyConfig, queries};
use orderdeck::sandbox::scenario::{Scenario, Size};
use orderdeck::sandbox::shopify::{BucketLimits, SandboxOptions, ShopifySandbox};

fn env_or(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let burst = env_or("BURST", 150.0) as usize;
    let limits = BucketLimits {
        maximum_available: env_or("BUCKET_MAX", 100.0),
        restore_rate: env_or("RESTORE_RATE", 50.0),
    };
    let scenario = Scenario::generate(
        7,
        Size {
            shops: 1,
            orders_per_shop: 0,
        },
        1_760_000_000,
    );
    let spec = scenario.stores[0].clone();
    let schema_started = Instant::now();
    let sandbox = ShopifySandbox::start_with(
        std::slice::from_ref(&spec),
        "127.0.0.1:0".parse().expect("address"),
        SandboxOptions {
            bucket: limits,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox");
    println!(
        "sandbox start (schema parse included): {:?}",
        schema_started.elapsed()
    );
    let mut config = ShopifyConfig::new(&spec.shop_domain, &spec.access_token);
    config.api_base = Some(sandbox.api_base(&spec.name).expect("store"));
    let client = ShopifyClient::new(&config).expect("client");

    let variant = &spec.variants[0];
    let draft = StorefrontOrderDraft {
        tiktok_order_id: TiktokOrderId::new("576499999999999999").expect("id"),
        lines: vec![DraftLine {
            seller_sku: variant.sku.clone(),
            store_item_id: Some(format!(
                "gid://shopify/ProductVariant/{}",
                variant.variant_id
            )),
            title: variant.product_title.clone(),
            quantity: 1,
            unit_price: variant.price.clone(),
        }],
        currency: "GBP".into(),
        address: DraftAddress {
            address1: "1 High Street".into(),
            country_code: "GB".into(),
            ..DraftAddress::default()
        },
        note: None,
        tags: vec![STORE_ORDER_TAG.into()],
        inventory: InventoryBehaviour::Bypass,
        amazon: Default::default(),
    };
    let order = client.create_order(&draft).await.expect("order").order_id;
    client
        .get_order(&order)
        .await
        .expect("first read: the bucket and the read's cost are known");
    // Let the bucket fill so every run starts alike.
    tokio::time::sleep(Duration::from_secs_f64(
        limits.maximum_available / limits.restore_rate,
    ))
    .await;

    let (requested, actual) = probe_cost(&sandbox, &spec.name, &spec.access_token, &order).await;
    // Let the bucket fill again after the probe.
    tokio::time::sleep(Duration::from_secs_f64(
        limits.maximum_available / limits.restore_rate,
    ))
    .await;
    let throttled_before = sandbox.throttled(&spec.name).expect("store");
    let started = Instant::now();
    let calls = (0..burst).map(|_| {
        let client = client.clone();
        let order = order.clone();
        async move {
            let begun = Instant::now();
            let outcome = client.get_order(&order).await;
            (begun.elapsed(), outcome.is_ok())
        }
    });
    let results = futures::future::join_all(calls).await;
    let elapsed = started.elapsed();
    let throttled = sandbox.throttled(&spec.name).expect("store") - throttled_before;
    let failed = results.iter().filter(|(_, ok)| !ok).count();
    let mut latencies: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    latencies.sort();
    // Shopify keeps the actual cost: points asked for but not used are refunded.
    let points = burst as f64 * actual;
    let rate = points / elapsed.as_secs_f64();
    // What the bucket allows in that time: its content at the start plus the refill.
    let ceiling = (limits.maximum_available + limits.restore_rate * elapsed.as_secs_f64())
        / elapsed.as_secs_f64();
    println!(
        "paced burst: {burst} get_order, requested {requested} / actual {actual} points each, bucket {} points, restore {}/s",
        limits.maximum_available, limits.restore_rate
    );
    println!(
        "  elapsed {elapsed:.2?}, achieved {rate:.1} points/s (restore rate {:.1}/s, ceiling with the initial bucket {ceiling:.1}/s, {:.0}% of it)",
        limits.restore_rate,
        100.0 * rate / ceiling
    );
    println!("  throttled {throttled}, failed {failed}");
    println!(
        "  latency p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );

    // The same burst without pacing, straight at the endpoint, after the bucket refilled.
    tokio::time::sleep(Duration::from_secs_f64(
        limits.maximum_available / limits.restore_rate,
    ))
    .await;
    let raw_throttled =
        unpaced_burst(&sandbox, &spec.name, &spec.access_token, &order, burst).await;
    println!("unpaced burst: {raw_throttled} of {burst} THROTTLED");
}

/// `(requestedQueryCost, actualQueryCost)` of one `getOrder`, sent raw.
async fn probe_cost(
    sandbox: &ShopifySandbox,
    store: &str,
    token: &str,
    order: &StorefrontOrderId,
) -> (f64, f64) {
    let url = format!(
        "{}/admin/api/2025-10/graphql.json",
        sandbox.api_base(store).expect("store")
    );
    let body =
        serde_json::json!({ "query": queries::GET_ORDER, "variables": { "id": order.as_str() } });
    let answer: serde_json::Value = reqwest::Client::new()
        .post(&url)
        .header("X-Shopify-Access-Token", token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let cost = &answer["extensions"]["cost"];
    let number = |key: &str| cost[key].as_f64().expect("cost figures");
    (number("requestedQueryCost"), number("actualQueryCost"))
}

async fn unpaced_burst(
    sandbox: &ShopifySandbox,
    store: &str,
    token: &str,
    order: &StorefrontOrderId,
    burst: usize,
) -> usize {
    let url = format!(
        "{}/admin/api/2025-10/graphql.json",
        sandbox.api_base(store).expect("store")
    );
    let http = reqwest::Client::new();
    let body =
        serde_json::json!({ "query": queries::GET_ORDER, "variables": { "id": order.as_str() } })
            .to_string();
    let calls = (0..burst).map(|_| {
        let request = http
            .post(&url)
            .header("X-Shopify-Access-Token", token)
            .header("content-type", "application/json")
            .body(body.clone());
        async move {
            let text = request.send().await.ok()?.text().await.ok()?;
            Some(text.contains("\"THROTTLED\""))
        }
    });
    futures::future::join_all(calls)
        .await
        .into_iter()
        .filter(|t| *t == Some(true))
        .count()
}
