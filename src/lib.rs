//! orderdeck: keeps TikTok Shop orders flowing into a merchant's store and back, and gives the
//! people who keep that flow healthy one keyboard-driven console. `ARCHITECTURE.md` at the
//! repository root is the map: faces (console, cli) → service → engine → platforms | store (two
//! siblings) → domain (pure, no IO). `config` (orderdeck.toml, secrets, paths) and `sandbox`
//! (simulated platforms) sit beside them.

pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
pub mod engine;
pub mod platforms;
pub mod sandbox;
pub mod service;
pub mod store;
