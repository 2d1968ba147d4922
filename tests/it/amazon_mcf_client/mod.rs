//! The Amazon MCF client against the simulated Amazon (Selling Partner API and Login with
//! Amazon) on 127.0.0.1:0: every operation, the token's life, the rate limits, every fault with
//! the class it must end in, and the contract's refusals.

mod faults;
mod operations;
mod support;
