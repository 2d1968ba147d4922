//! The WooCommerce client against the simulated WooCommerce on 127.0.0.1:0: every operation,
//! every fault with the class it must end in, and the contract's refusals.

mod faults;
mod operations;
mod support;
mod wire;
