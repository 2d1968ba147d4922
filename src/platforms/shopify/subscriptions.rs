//! The app's webhook subscriptions on a Shopify store (`webhookSubscriptions`,
//! `webhookSubscriptionCreate`, `webhookSubscriptionDelete`), each an HTTPS `uri` with JSON
//! deliveries signed with the app's client secret.

use serde_json::{Value, json};

use super::ShopifyClient;
use super::classify::{self, Call};
use super::queries::{self, cost_hint};
use super::throttle::CostKey;
use crate::domain::text;
use crate::platforms::http::CallKind;
use crate::platforms::{PlatformError, Subscription};

const LIST: Call = Call {
    operation: "webhookSubscriptions",
    effect: CallKind::Read,
};
const CREATE: Call = Call {
    operation: "webhookSubscriptionCreate",
    effect: CallKind::Write,
};
const DELETE: Call = Call {
    operation: "webhookSubscriptionDelete",
    effect: CallKind::Write,
};

impl ShopifyClient {
    pub(super) async fn subscriptions(&self) -> Result<Vec<Subscription>, PlatformError> {
        let key = CostKey::one(LIST.operation, cost_hint::WEBHOOK_SUBSCRIPTIONS);
        let answer = self
            .inner
            .transport
            .execute(LIST, key, queries::WEBHOOK_SUBSCRIPTIONS, json!({}))
            .await?;
        let nodes = answer.root(LIST.operation, LIST)?.get("nodes");
        let nodes = nodes.and_then(Value::as_array).ok_or_else(|| {
            classify::unreadable(LIST, &answer.raw, "webhookSubscriptions has no nodes")
        })?;
        nodes
            .iter()
            .map(|node| {
                read(node).ok_or_else(|| {
                    classify::unreadable(
                        LIST,
                        &answer.raw,
                        "a subscription without id, topic or uri",
                    )
                })
            })
            .collect()
    }

    pub(super) async fn create_subscription(
        &self,
        topic: &str,
        uri: &str,
    ) -> Result<Subscription, PlatformError> {
        let key = CostKey::one(CREATE.operation, cost_hint::WEBHOOK_SUBSCRIPTION_WRITE);
        let variables = json!({"topic": topic, "uri": uri});
        let answer = self
            .inner
            .transport
            .execute(CREATE, key, queries::WEBHOOK_SUBSCRIPTION_CREATE, variables)
            .await?;
        let payload = answer.root(CREATE.operation, CREATE)?;
        if let Some(refused) = classify::user_errors(payload, "userErrors", &answer.raw, CREATE) {
            return Err(refused);
        }
        payload
            .get("webhookSubscription")
            .and_then(read)
            .ok_or_else(|| classify::unreadable(CREATE, &answer.raw, "no subscription answered"))
    }

    pub(super) async fn delete_subscription(&self, id: &str) -> Result<(), PlatformError> {
        let key = CostKey::one(DELETE.operation, cost_hint::WEBHOOK_SUBSCRIPTION_WRITE);
        let answer = self
            .inner
            .transport
            .execute(
                DELETE,
                key,
                queries::WEBHOOK_SUBSCRIPTION_DELETE,
                json!({"id": id}),
            )
            .await?;
        let payload = answer.root(DELETE.operation, DELETE)?;
        match classify::user_errors(payload, "userErrors", &answer.raw, DELETE) {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }
}

fn read(node: &Value) -> Option<Subscription> {
    let field = |name: &str| node.get(name).and_then(Value::as_str).map(text::sanitize);
    Some(Subscription {
        id: field("id")?,
        topic: field("topic")?,
        address: field("uri")?,
        // Shopify subscriptions have no switched-off state.
        active: true,
    })
}
