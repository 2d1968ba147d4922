//! The TikTok Shop client against the simulated TikTok Shop on 127.0.0.1: every operation, every
//! fault kind with the class the engine gets, token expiry and refresh, signature and clock
//! refusals, paging, batching, lenient reading, and pacing under a burst.

mod auth;
mod cancellations;
mod faults;
mod operations;
mod pacing;
mod paging;
mod support;
