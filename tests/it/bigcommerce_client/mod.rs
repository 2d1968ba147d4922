//! The BigCommerce client against the simulated BigCommerce on 127.0.0.1:0: every operation,
//! every fault with the class it must end in, the wire format the contract demands, and the
//! store-wide pause after a 429.

mod faults;
mod operations;
mod rate;
mod support;
mod wire;
