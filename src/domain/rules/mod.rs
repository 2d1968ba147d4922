//! The seed rules of DESIGN.md "What flows", each a pure decision:
//! (event, order, link settings, platform capabilities) → what the engine should do and why.
//! The engine only executes decisions; it never re-derives a rule. Each module holds one flow
//! and its table-driven tests.

pub mod address;
pub mod cancel;
pub mod import;
pub mod label;
pub mod line_cancel;
pub mod packages;
pub mod parcel;
pub mod tracking;

#[cfg(test)]
pub(crate) mod fixtures;
