//! The service: the one API every face uses (see [`api`]). Served in-process for tests and
//! single-user use ([`inproc`]), or over a Unix socket by `orderdeck serve`; roles and audit
//! live here.

mod admission;
pub mod api;
pub mod client;
mod connection;
mod core;
mod detail;
mod find;
pub mod http;
pub mod identity;
pub mod inproc;
mod limits;
mod mutations;
mod pages;
mod reads;
mod refusals;
pub mod remote;
pub mod rows;
pub mod socket;
pub mod sorting;
pub mod webhooks;
mod wire;

pub use core::Service;
