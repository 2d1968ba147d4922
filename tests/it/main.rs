//! Every integration test in one binary, so CI compiles and links the test crate once. Each
//! module is what used to be a test binary of its own; they share nothing but this entry point.

mod cli_check_config;
mod cli_first_contact;
mod cli_pipes;
mod console;
mod crash;
mod daemon;
mod e2e;
mod engine;
mod shopify_client;
mod shopify_documents;
mod tiktok_client;
