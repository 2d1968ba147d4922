//! Every integration test in one binary, so CI compiles and links the test crate once. Each
//! module is what used to be a test binary of its own; they share nothing but this entry point.

// Test code: a panic is a failed test (the crate's lints deny these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod amazon_mcf_client;
mod bigcommerce_client;
mod cli_check_config;
mod cli_first_contact;
mod cli_pipes;
mod console;
mod crash;
mod daemon;
mod e2e;
mod engine;
mod magento2_client;
mod shopify_client;
mod shopify_documents;
pub mod store_client;
mod tiktok_client;
mod woocommerce_client;
