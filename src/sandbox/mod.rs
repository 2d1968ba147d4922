//! Simulated platforms on loopback, speaking the real wire formats of `shared/platforms/`:
//! they check signatures and tokens, enforce rate limits, keep state, and act out faults.
//! Built from the documented JSON shapes only — nothing here uses the clients' types, so a
//! misnamed field fails a test instead of agreeing with itself.
//!
//! A simulator, not production code: a broken invariant here should fail the test or demo
//! that met it at once, so it may unwrap and its request handlers may be long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

pub mod amazon_mcf;
pub mod bigcommerce;
pub mod faults;
pub mod living;
pub mod magento2;
pub mod scenario;
pub mod serve;
pub mod set;
pub mod shopify;
pub mod tiktok;
pub mod webhooks;
pub mod woocommerce;
