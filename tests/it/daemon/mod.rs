//! The daemon end to end: the real `orderdeck serve` as a child process against simulated
//! platforms, with clients as different unix users where the machine allows (root), roles,
//! approvals, audit, notifications, hostile clients, crashes and clean shutdown. See `support`
//! for how a daemon and its clients are set up. `hostile` and `floods` serve the store from the
//! test's own process instead, with limits small enough to reach.

mod activity;
mod approvals;
mod floods;
mod hostile;
mod lifecycle;
mod notify;
mod parity;
mod robustness;
mod roles;
mod support;

/// Not a test of its own: the body of a client process that the other tests start as another
/// unix user (it does nothing unless that process's environment asks for it).
#[test]
fn client_process() {
    if let Ok(spec) = std::env::var(support::CLIENT_ENV) {
        support::client_process(&spec);
    }
}
