//! WooCommerce webhooks (`/wc/v3/webhooks`): created with the store's `webhook_secret`, which
//! signs every delivery, and deleted for good (`force=true`; WooCommerce keeps no trash for
//! them).

use reqwest::Method;
use serde_json::{Value, json};

use super::WoocommerceClient;
use super::classify::Call;
use crate::domain::platform::Platform;
use crate::domain::text;
use crate::platforms::error::ErrorClass;
use crate::platforms::{PlatformError, Subscription};

const LIST: Call = Call::read(Platform::Woocommerce, "list_webhooks");
const CREATE: Call = Call::write(Platform::Woocommerce, "create_webhook");
const DELETE: Call = Call::write(Platform::Woocommerce, "delete_webhook");

impl WoocommerceClient {
    pub(super) async fn list_webhooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        let query = [("per_page", "100".to_string())];
        let answer = self
            .transport()
            .call(LIST, Method::GET, "wc/v3/webhooks", &query, None)
            .await?;
        let hooks = answer
            .body
            .as_array()
            .ok_or_else(|| unreadable(LIST, "not a list"))?;
        hooks
            .iter()
            .map(|hook| read(hook).ok_or_else(|| unreadable(LIST, "a webhook without id or topic")))
            .collect()
    }

    pub(super) async fn create_webhook(
        &self,
        topic: &str,
        delivery_url: &str,
    ) -> Result<Subscription, PlatformError> {
        let Some(secret) = self.inner.webhook_secret.as_deref() else {
            return Err(PlatformError::new(
                Platform::Woocommerce,
                CREATE.operation,
                ErrorClass::Permanent,
                "set webhook_secret for this store in orderdeck.toml first: it signs every delivery",
            ));
        };
        let body = json!({
            "name": format!("orderdeck {topic}"),
            "topic": topic,
            "delivery_url": delivery_url,
            "secret": secret,
            "status": "active",
        });
        let answer = self
            .transport()
            .call(CREATE, Method::POST, "wc/v3/webhooks", &[], Some(&body))
            .await?;
        read(&answer.body).ok_or_else(|| unreadable(CREATE, "the answer is not a webhook"))
    }

    pub(super) async fn delete_webhook(&self, id: &str) -> Result<(), PlatformError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(unreadable(DELETE, "a webhook id is a number"));
        }
        let route = format!("wc/v3/webhooks/{id}");
        let query = [("force", "true".to_string())];
        self.transport()
            .call(DELETE, Method::DELETE, &route, &query, None)
            .await
            .map(drop)
    }
}

fn read(hook: &Value) -> Option<Subscription> {
    Some(Subscription {
        id: hook.get("id")?.as_u64()?.to_string(),
        topic: text::sanitize(hook.get("topic")?.as_str()?),
        address: text::sanitize(
            hook.get("delivery_url")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        // `paused` or `disabled` (after 5 failed deliveries) send nothing.
        active: hook.get("status").and_then(Value::as_str) == Some("active"),
    })
}

fn unreadable(call: Call, why: &str) -> PlatformError {
    PlatformError::new(
        Platform::Woocommerce,
        call.operation,
        ErrorClass::Permanent,
        format!("WooCommerce's webhooks answer cannot be read: {why}"),
    )
}
