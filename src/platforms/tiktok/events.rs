//! TikTok's webhook subscriptions for one shop (`/event/202309/webhooks`): one address per
//! event type, so putting an address again is harmless and replaces any other.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Call, TiktokClient};
use super::envelope::decode;
use crate::domain::text;
use crate::platforms::http::CallKind;
use crate::platforms::{PlatformError, Subscription};

const API: &str = "/event/202309/webhooks";

#[derive(Serialize)]
struct Update<'a> {
    address: &'a str,
    event_type: &'a str,
}

#[derive(Serialize)]
struct Delete<'a> {
    event_type: &'a str,
}

#[derive(Deserialize, Default)]
struct List {
    #[serde(default)]
    webhooks: Vec<Webhook>,
}

#[derive(Deserialize)]
struct Webhook {
    event_type: String,
    address: String,
}

impl TiktokClient {
    /// Get Shop Webhooks.
    pub(super) async fn webhooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        const OP: &str = "get_shop_webhooks";
        let answer = self.call(Call::new(OP, Method::GET, API, &[])).await?;
        let list: List = decode(answer, OP, CallKind::Read)?;
        Ok(list
            .webhooks
            .into_iter()
            .map(|w| Subscription {
                id: text::sanitize(&w.event_type),
                topic: text::sanitize(&w.event_type),
                address: text::sanitize(&w.address),
                // TikTok lists only what it sends.
                active: true,
            })
            .collect())
    }

    /// Update Shop Webhook: `event_type` now goes to `address`.
    pub(super) async fn put_webhook(
        &self,
        event_type: &str,
        address: &str,
    ) -> Result<Subscription, PlatformError> {
        let call = Call::new("update_shop_webhook", Method::PUT, API, &[]).json(&Update {
            address,
            event_type,
        });
        self.call(call).await?;
        Ok(Subscription {
            id: event_type.to_string(),
            topic: event_type.to_string(),
            address: address.to_string(),
            active: true,
        })
    }

    /// Delete Shop Webhook: TikTok stops sending `event_type`.
    pub(super) async fn delete_webhook(&self, event_type: &str) -> Result<(), PlatformError> {
        let call =
            Call::new("delete_shop_webhook", Method::DELETE, API, &[]).json(&Delete { event_type });
        self.call(call).await.map(drop)
    }
}
