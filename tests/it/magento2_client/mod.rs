//! The Magento 2 client against the simulated Magento on 127.0.0.1:0: every operation, every
//! fault with the class it must end in, and the contract's refusals.

mod faults;
mod operations;
mod support;
mod wire;
