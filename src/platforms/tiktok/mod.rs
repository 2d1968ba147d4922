//! TikTok Shop Partner API (202309 paths), one client per shop, behind [`Marketplace`].
//!
//! Wire facts live in `shared/platforms/tiktok-shop.md`; official samples in
//! `tests/fixtures/platforms/tiktok-samples.json`. The layers of this module:
//! - [`sign`]: request signing and webhook verification;
//! - [`client`]: configuration and the single call path (pace → sign → send → read the
//!   envelope → classify, refreshing an expired token once); [`pacer`], `envelope` and
//!   [`classify`] are its parts;
//! - [`auth`], `orders`, `fulfillment`, `cancellations`: one module per API family, each
//!   reading TikTok's JSON (`wire`) into domain types at this boundary;
//! - `marketplace`: the [`Marketplace`] implementation.
//!
//! [`Marketplace`]: crate::platforms::Marketplace

pub mod auth;
mod cancellations;
pub mod classify;
pub mod client;
mod damage;
mod envelope;
mod events;
mod fulfillment;
mod marketplace;
mod orders;
pub mod pacer;
pub mod sign;
mod wire;

pub use auth::{AppCredentials, AuthorizedShop, Grant, TiktokAuth};
pub use cancellations::CANCELLATION_PAGE_SIZE;
pub use client::{TiktokClient, TiktokConfig};
pub use orders::{DETAIL_BATCH, SEARCH_PAGE_SIZE};

/// The official samples, for tests that check our reading and writing against them.
#[cfg(test)]
pub(crate) mod test_samples {
    use serde_json::Value;

    fn endpoint(name: &str) -> Value {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/platforms/tiktok-samples.json"
        ));
        let all: Value = serde_json::from_str(text).expect("samples parse");
        all["endpoints"][name].clone()
    }

    pub fn response_data(name: &str) -> Value {
        endpoint(name)["response_body"]["data"].clone()
    }

    pub fn request_body(name: &str) -> Value {
        endpoint(name)["request_body"].clone()
    }

    /// Every key of `ours` (recursively, through objects and first array elements) exists in
    /// `documented`.
    pub fn assert_subset(ours: &Value, documented: &Value) {
        match (ours, documented) {
            (Value::Object(ours), Value::Object(documented)) => {
                for (key, value) in ours {
                    let doc = documented
                        .get(key)
                        .unwrap_or_else(|| panic!("`{key}` is not a documented field"));
                    assert_subset(value, doc);
                }
            }
            (Value::Array(ours), Value::Array(documented)) => {
                if let (Some(first), Some(doc)) = (ours.first(), documented.first()) {
                    assert_subset(first, doc);
                }
            }
            _ => {}
        }
    }
}
