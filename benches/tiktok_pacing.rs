//! Pacing under a burst: 1,000 Get Order Detail calls started at once against the TikTok
//! sandbox on loopback, through one shop's client. Prints the achieved rate and its ratio to
//! TikTok's 50 requests/second, the 429s the sandbox answered, the most calls it saw in any one
//! second, and per-call latency (which, in a burst, is mostly time spent waiting for a slot).
//! Then 50 unhurried calls give the plain round-trip for comparison.
//!
//! Run: `cargo bench --bench tiktok_pacing`.

// Benchmark code: a panic is a failed run (the crate's lints deny these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use orderdeck::domain::clock::from_unix;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::{Clock, SystemClock};
use orderdeck::platforms::tiktok::pacer::TIKTOK_LIMIT_PER_SECOND;
use orderdeck::platforms::tiktok::{AppCredentials, TiktokClient, TiktokConfig};
use orderdeck::platforms::{Marketplace, Tokens};
use orderdeck::sandbox::scenario::{Scenario, Size};
use orderdeck::sandbox::tiktok::TiktokSandbox;

const BURST: usize = 1_000;
const UNHURRIED: usize = 50;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let scenario = Scenario::generate(
        5,
        Size {
            shops: 1,
            orders_per_shop: 200,
        },
        SystemClock.now().timestamp(),
    );
    let sandbox = TiktokSandbox::start(&scenario, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("sandbox starts");
    let shop = &scenario.shops[0];
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
    config.api_base = sandbox.api_base();
    config.auth_base = sandbox.auth_base();
    config.shop_cipher = Some(shop.cipher.clone());
    let client = Arc::new(TiktokClient::new(config, Arc::new(SystemClock)).expect("client"));
    let ids: Vec<TiktokOrderId> = scenario
        .orders
        .iter()
        .map(|o| TiktokOrderId::new(&o.id).expect("id"))
        .collect();

    let started = Instant::now();
    let tasks: Vec<_> = (0..BURST)
        .map(|i| {
            let client = client.clone();
            let id = ids[i % ids.len()].clone();
            tokio::spawn(async move {
                let begun = Instant::now();
                let outcome = client.order_details(&[id]).await;
                (begun.elapsed(), outcome.is_ok())
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(BURST);
    let mut failures = 0;
    for task in tasks {
        let (latency, ok) = task.await.expect("task");
        latencies.push(latency);
        failures += usize::from(!ok);
    }
    let elapsed = started.elapsed();
    let report = sandbox.rate_report("get_order_detail");
    let rate = BURST as f64 / elapsed.as_secs_f64();

    println!("tiktok pacing: burst of {BURST} get_order_detail calls from {BURST} tasks");
    println!("  wall time            {:>9.2} s", elapsed.as_secs_f64());
    println!("  achieved rate        {rate:>9.2} req/s");
    println!(
        "  ratio to the limit   {:>9.3} (of {TIKTOK_LIMIT_PER_SECOND} req/s)",
        rate / TIKTOK_LIMIT_PER_SECOND
    );
    println!("  most in any second   {:>9}", report.max_in_any_second);
    println!("  429 answers          {:>9}", report.answered_429);
    println!("  failed calls         {failures:>9}");
    println!(
        "  latency p50          {:>9.1} ms (includes waiting for a slot)",
        percentile(&mut latencies, 0.50)
    );
    println!(
        "  latency p99          {:>9.1} ms",
        percentile(&mut latencies, 0.99)
    );

    let mut round_trips = Vec::with_capacity(UNHURRIED);
    for id in ids.iter().take(UNHURRIED) {
        // Slower than the pacer's interval, so no call waits for a slot.
        tokio::time::sleep(Duration::from_millis(25)).await;
        let begun = Instant::now();
        client
            .order_details(std::slice::from_ref(id))
            .await
            .expect("unhurried call");
        round_trips.push(begun.elapsed());
    }
    println!("unhurried: {UNHURRIED} calls, 25 ms apart");
    println!(
        "  round trip p50       {:>9.2} ms",
        percentile(&mut round_trips, 0.50)
    );
    println!(
        "  round trip p99       {:>9.2} ms",
        percentile(&mut round_trips, 0.99)
    );
}

fn percentile(samples: &mut [Duration], quantile: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * quantile).round() as usize;
    samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
