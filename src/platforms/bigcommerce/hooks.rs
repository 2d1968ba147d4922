//! BigCommerce webhooks (`/v3/hooks`, bigcommerce.md "Webhooks"): one hook per scope and
//! destination, listed page by page, created active, deleted by id. BigCommerce signs every
//! delivery with the API account's client secret, which orderdeck cannot choose: a hook is only
//! created once `webhook_secret` holds it, so the listener can verify what arrives.

use reqwest::Method;
use serde_json::{Value, json};

use super::BigcommerceClient;
use super::classify::Call;
use crate::domain::platform::Platform;
use crate::domain::text;
use crate::platforms::error::ErrorClass;
use crate::platforms::{PlatformError, Subscription};

const LIST: Call = Call::read(Platform::Bigcommerce, "list_hooks");
const CREATE: Call = Call::write(Platform::Bigcommerce, "create_hook");
const DELETE: Call = Call::write(Platform::Bigcommerce, "delete_hook");

const ROUTE: &str = "v3/hooks";

impl BigcommerceClient {
    /// Every hook of the API account on this store (every page).
    pub(super) async fn list_hooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        let hooks = self.all_v3_pages(LIST, ROUTE, &[], "hooks").await?;
        hooks
            .iter()
            .map(|hook| {
                read(hook).ok_or_else(|| {
                    PlatformError::new(
                        Platform::Bigcommerce,
                        LIST.operation,
                        ErrorClass::Permanent,
                        "BigCommerce listed a hook without id or scope",
                    )
                })
            })
            .collect()
    }

    /// Creates an active hook of `scope` delivering to `destination`.
    pub(super) async fn create_hook(
        &self,
        scope: &str,
        destination: &str,
    ) -> Result<Subscription, PlatformError> {
        if self.inner.webhook_secret.is_none() {
            return Err(PlatformError::new(
                Platform::Bigcommerce,
                CREATE.operation,
                ErrorClass::Permanent,
                "set webhook_secret for this store in orderdeck.toml first: the client secret of \
                 the API account, with which BigCommerce signs every delivery",
            ));
        }
        let body = json!({ "scope": scope, "destination": destination, "is_active": true });
        let answer = self
            .transport()
            .call(CREATE, Method::POST, ROUTE, &[], Some(&body))
            .await?;
        answer
            .body
            .as_ref()
            .and_then(|b| b.get("data"))
            .and_then(read)
            .ok_or_else(|| CREATE.unreadable(&answer.raw, "the answer is not a hook"))
    }

    pub(super) async fn delete_hook(&self, id: &str) -> Result<(), PlatformError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(PlatformError::new(
                Platform::Bigcommerce,
                DELETE.operation,
                ErrorClass::Permanent,
                format!(
                    "{} is not a BigCommerce hook id (a number)",
                    text::sanitize(id)
                ),
            ));
        }
        self.transport()
            .call(DELETE, Method::DELETE, &format!("{ROUTE}/{id}"), &[], None)
            .await
            .map(drop)
    }
}

/// A hook of `data`: `{id, scope, destination, is_active, …}`.
fn read(hook: &Value) -> Option<Subscription> {
    Some(Subscription {
        id: hook.get("id")?.as_u64()?.to_string(),
        topic: text::sanitize(hook.get("scope")?.as_str()?),
        address: text::sanitize(
            hook.get("destination")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        active: hook.get("is_active").and_then(Value::as_bool) == Some(true),
    })
}
