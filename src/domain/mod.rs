//! Pure types and rules: orders, flows, cancellations, settings, triage, roles. No IO — no
//! tokio, reqwest or sled — so every rule is a function that tests can call with a table.

pub mod access;
pub mod audit;
pub mod cancellation;
pub mod cause;
pub mod clock;
pub mod ids;
pub mod job;
pub mod listing;
pub mod order;
pub mod order_sort;
pub mod outcome;
pub mod platform;
pub mod reactor;
pub mod request;
pub mod rules;
pub mod settings;
pub mod spelling;
pub mod store_order;
pub mod subscriptions;
pub mod text;
pub mod triage;
mod wire_enum;

pub use clock::{Clock, FixedClock, SystemClock, Timestamp};
