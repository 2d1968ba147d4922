//! orderdeck: keeps TikTok Shop orders flowing into a merchant's store and back, and gives the
//! people who keep that flow healthy one keyboard-driven console. See `DESIGN.md` for the layers;
//! each depends only on the ones below it: faces (console, cli) → service → engine → platforms
//! → store → domain. `config` (orderdeck.toml, secrets, paths) sits beside them, read by all.

pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
pub mod engine;
pub mod platforms;
pub mod sandbox;
pub mod service;
pub mod store;
