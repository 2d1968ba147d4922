//! The Shopify client against the simulated Shopify Admin API on 127.0.0.1:0: every
//! operation, every fault with the class it must end in, the wire-level refusals, and pacing.

mod faults;
mod line_edits;
pub(crate) mod operations;
mod support;
mod wire;
