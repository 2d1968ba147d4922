//! The sync engine: pollers turn platform changes into jobs (through the [`react`]or), and the
//! job runner executes them after the commit that created them, retrying with backoff.

pub mod react;
