//! What the benchmarks share: their settings, read from the environment, and the made-up
//! history the store and console benches load.

// Each benchmark uses a part of this.
#![allow(dead_code)]

use orderdeck::cli::history::History;
use orderdeck::domain::clock::from_unix;
use orderdeck::domain::ids::LinkId;

/// The daemon's allocator (see `src/main.rs`), so the figures are the daemon's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A count from the environment (`ORDERS=1_000_000` is read as a million), or `default`.
pub fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A year of `ORDERS` made-up orders (or `default_orders`) over `LINKS` links (default 10),
/// ending at a fixed moment so every run loads the same store.
pub fn made_up_history(default_orders: u64) -> History {
    let links = env_count("LINKS", 10).max(1);
    History {
        links: (0..links)
            .map(|n| LinkId::new(format!("shop{n}")).expect("a link id"))
            .collect(),
        count: env_count("ORDERS", default_orders),
        end: from_unix(1_790_000_000),
    }
}
