//! Which webhooks orderdeck wants from each platform, where they are delivered, and what
//! `orderdeck webhooks register` must do given what a platform already holds. Registering is
//! idempotent: a subscription already pointing at orderdeck is kept, never doubled.

use crate::domain::platform::Platform;

/// The topics orderdeck subscribes to, in each platform's own spelling. A platform missing here
/// has no webhooks orderdeck can register (its links are polled).
pub fn topics(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::TiktokShop => &["ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE"],
        Platform::Shopify => &[
            "ORDERS_CANCELLED",
            "ORDERS_UPDATED",
            "FULFILLMENTS_CREATE",
            "FULFILLMENTS_UPDATE",
        ],
        // woocommerce.md: no `order.cancelled`; a cancel, a refund and a status change all
        // come as `order.updated`.
        Platform::Woocommerce => &["order.updated"],
        // bigcommerce.md: a cancel is `store/order/statusUpdated`, a parcel a shipment scope.
        Platform::Bigcommerce => &[
            "store/order/created",
            "store/order/updated",
            "store/order/statusUpdated",
            "store/shipment/created",
            "store/shipment/updated",
        ],
        Platform::Magento2 | Platform::AmazonMcf => &[],
    }
}

/// The listener's route for a platform's deliveries (`store`: the `[[stores]]` name).
pub fn route(platform: Platform, store: &str) -> String {
    match platform {
        Platform::TiktokShop => "/webhooks/tiktok".to_string(),
        other => format!("/webhooks/{}/{store}", other.config_name()),
    }
}

/// What `register` does about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A subscription of this topic already delivers to orderdeck.
    Keep,
    /// Subscribe (on TikTok this replaces another address for the topic).
    Create,
}

/// For each wanted topic, whether a subscription delivering it to `address` exists.
pub fn plan<'a>(
    wanted: &'a [&'a str],
    existing: &[(String, String)],
    address: &str,
) -> Vec<(&'a str, Step)> {
    wanted
        .iter()
        .map(|topic| {
            let held = existing
                .iter()
                .any(|(t, a)| t.eq_ignore_ascii_case(topic) && a == address);
            (*topic, if held { Step::Keep } else { Step::Create })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_already_delivering_to_orderdeck_is_kept_and_others_are_made() {
        let here = "https://od.example.com/webhooks/tiktok";
        let existing = vec![
            ("ORDER_STATUS_CHANGE".to_string(), here.to_string()),
            (
                "CANCELLATION_STATUS_CHANGE".to_string(),
                "https://old.example.com/hook".to_string(),
            ),
        ];
        assert_eq!(
            plan(topics(Platform::TiktokShop), &existing, here),
            [
                ("ORDER_STATUS_CHANGE", Step::Keep),
                ("CANCELLATION_STATUS_CHANGE", Step::Create)
            ]
        );
        assert!(topics(Platform::AmazonMcf).is_empty());
        assert_eq!(
            route(Platform::Bigcommerce, "us"),
            "/webhooks/bigcommerce/us"
        );
        assert_eq!(route(Platform::Shopify, "uk"), "/webhooks/shopify/uk");
        assert_eq!(
            route(Platform::Woocommerce, "us"),
            "/webhooks/woocommerce/us"
        );
    }
}
