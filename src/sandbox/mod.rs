//! Simulated platforms on loopback, speaking the real wire formats of `shared/platforms/`:
//! they check signatures and tokens, enforce rate limits, keep state, and act out faults.
//! Built from the documented JSON shapes only — nothing here uses the clients' types, so a
//! misnamed field fails a test instead of agreeing with itself.

pub mod faults;
pub mod living;
pub mod scenario;
pub mod serve;
pub mod set;
pub mod shopify;
pub mod tiktok;
