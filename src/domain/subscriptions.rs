//! Which webhooks orderdeck wants from each platform, where they are delivered, and what
//! `orderdeck webhooks register` must do given what a platform already holds. Registering is
//! idempotent: a subscription already pointing at orderdeck is kept, never doubled; one the
//! platform switched off after failed deliveries is replaced, since it would send nothing.

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
    /// The subscriptions of this topic to orderdeck are all switched off: remove them, then
    /// subscribe again.
    Renew,
}

/// A subscription a platform holds, as the plan sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<'a> {
    pub topic: &'a str,
    pub address: &'a str,
    /// False when the platform switched it off.
    pub active: bool,
}

/// For each wanted topic, whether a subscription delivering it to `address` exists, and
/// whether it still delivers.
pub fn plan<'a>(
    wanted: &'a [&'a str],
    existing: &[Held<'_>],
    address: &str,
) -> Vec<(&'a str, Step)> {
    wanted
        .iter()
        .map(|topic| {
            let ours: Vec<&Held> = existing
                .iter()
                .filter(|h| h.topic.eq_ignore_ascii_case(topic) && h.address == address)
                .collect();
            let step = if ours.is_empty() {
                Step::Create
            } else if ours.iter().any(|h| h.active) {
                Step::Keep
            } else {
                Step::Renew
            };
            (*topic, step)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_already_delivering_to_orderdeck_is_kept_and_others_are_made() {
        let here = "https://od.example.com/webhooks/tiktok";
        let held = |topic, address| Held {
            topic,
            address,
            active: true,
        };
        let existing = [
            held("ORDER_STATUS_CHANGE", here),
            held("CANCELLATION_STATUS_CHANGE", "https://old.example.com/hook"),
        ];
        assert_eq!(
            plan(topics(Platform::TiktokShop), &existing, here),
            [
                ("ORDER_STATUS_CHANGE", Step::Keep),
                ("CANCELLATION_STATUS_CHANGE", Step::Create)
            ]
        );
        assert!(topics(Platform::AmazonMcf).is_empty());

        let woo = "https://od.example.com/webhooks/woocommerce/us";
        let disabled = Held {
            topic: "order.updated",
            address: woo,
            active: false,
        };
        let wanted = topics(Platform::Woocommerce);
        assert_eq!(
            plan(wanted, &[disabled], woo),
            [("order.updated", Step::Renew)]
        );
        let active = Held {
            active: true,
            ..disabled
        };
        assert_eq!(
            plan(wanted, &[disabled, active], woo),
            [("order.updated", Step::Keep)],
            "one that still delivers is enough"
        );
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
