//! The sync engine end to end, against the simulated TikTok Shop and Shopify on loopback: every
//! rule of "What flows" in DESIGN.md as a user would notice it (what reaches the store, what
//! TikTok sees, what the lists say and why), every fault the sandbox can act out on the writes
//! and the polls, token expiry, and the headless commands of the real binary.

mod address;
mod after_shipping;
mod amazon_mcf;
mod bigcommerce;
pub(super) mod cancel;
mod cli;
mod damaged_answers;
mod faults;
mod hostile_text;
mod import;
mod labels;
mod line_cancels;
mod magento2;
pub mod monitoring;
mod requests;
mod resume;
mod settling;
mod split_shipments;
mod support;
mod tokens;
mod tracking;
mod webhooks;
mod woocommerce;
