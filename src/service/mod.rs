//! The service: the one API every face uses (see [`api`]). Served in-process for tests and
//! single-user use, or over a Unix socket by `orderdeck serve`; roles and audit live here.

pub mod api;
pub mod client;
