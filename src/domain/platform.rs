//! The six platforms orderdeck speaks to and what each can do. Rules consult this table rather
//! than matching on platform names, so a new connector is one row here, not edits across the engine.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    TiktokShop,
    Shopify,
    Woocommerce,
    Magento2,
    Bigcommerce,
    AmazonMcf,
}

/// What, on the store side, means "the merchant cancelled this order" for store → TikTok sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorefrontCancelTrigger {
    /// The store order was cancelled.
    OrderCancelled,
    /// A refund (Magento 2 credit memo) was issued; a cancel alone does not count.
    Refund,
}

/// How restocking is controlled when orderdeck cancels a store order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestockControl {
    /// A flag on each cancel call (Shopify `restock`).
    PerCancel,
    /// The store always restocks on cancel (WooCommerce).
    Automatic,
    /// A store-wide setting outside orderdeck (BigCommerce).
    StoreSetting,
    /// The fulfillment network owns stock (Amazon MCF).
    NotApplicable,
}

/// One row of the capability table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub display_name: &'static str,
    /// A store platform a link can point at (false only for TikTok Shop itself).
    pub is_store: bool,
    /// orderdeck has a working connector for it today.
    pub connector_available: bool,
    /// The store side of store → TikTok cancellation; `None` means one-way only.
    pub store_to_tiktok_trigger: Option<StorefrontCancelTrigger>,
    pub restock: RestockControl,
    /// The store accepts a free-text cancel reason; otherwise orderdeck sends a fixed reason and
    /// keeps TikTok's reason in a note.
    pub free_text_cancel_reason: bool,
    /// A store order can only be cancelled in early states (Amazon MCF: `Received`/`Planning`).
    pub cancel_only_before_processing: bool,
    /// SKUs must be resolved to the store's own product/variant ids before creating an order.
    pub needs_sku_lookup: bool,
    /// The connector can take units off an order without cancelling it (`remove_units`).
    pub edits_lines: bool,
}

impl Platform {
    pub const ALL: [Platform; 6] = [
        Platform::TiktokShop,
        Platform::Shopify,
        Platform::Woocommerce,
        Platform::Magento2,
        Platform::Bigcommerce,
        Platform::AmazonMcf,
    ];

    pub const STORES: [Platform; 5] = [
        Platform::Shopify,
        Platform::Woocommerce,
        Platform::Magento2,
        Platform::Bigcommerce,
        Platform::AmazonMcf,
    ];

    pub const fn capabilities(self) -> Capabilities {
        use RestockControl::*;
        use StorefrontCancelTrigger::*;
        match self {
            Platform::TiktokShop => Capabilities {
                display_name: "TikTok Shop",
                is_store: false,
                connector_available: true,
                store_to_tiktok_trigger: None,
                restock: NotApplicable,
                free_text_cancel_reason: false,
                cancel_only_before_processing: false,
                needs_sku_lookup: false,
                edits_lines: false,
            },
            Platform::Shopify => Capabilities {
                display_name: "Shopify",
                is_store: true,
                connector_available: true,
                store_to_tiktok_trigger: Some(OrderCancelled),
                restock: PerCancel,
                free_text_cancel_reason: false,
                cancel_only_before_processing: false,
                needs_sku_lookup: true,
                edits_lines: true,
            },
            Platform::Woocommerce => Capabilities {
                display_name: "WooCommerce",
                is_store: true,
                connector_available: true,
                store_to_tiktok_trigger: Some(OrderCancelled),
                restock: Automatic,
                free_text_cancel_reason: true,
                cancel_only_before_processing: false,
                // An unknown `line_items[].sku` is not refused: it makes a line with no product.
                needs_sku_lookup: true,
                // woocommerce.md documents no line edit: `remove_units` keeps the default.
                edits_lines: false,
            },
            Platform::Magento2 => Capabilities {
                display_name: "Magento 2",
                is_store: true,
                connector_available: true,
                // A credit memo, not a cancel: an invoiced order cannot be cancelled.
                store_to_tiktok_trigger: Some(Refund),
                // `return_to_stock_items` on each offline credit memo orderdeck makes (orders it
                // creates are invoiced, so that is how they close).
                restock: PerCancel,
                // TikTok's reason goes on the order as a comment.
                free_text_cancel_reason: true,
                cancel_only_before_processing: false,
                // `POST /V1/orders` saves an unknown SKU as a line with no product.
                needs_sku_lookup: true,
                // A partial TikTok cancel is an offline credit memo of those units.
                edits_lines: true,
            },
            Platform::Bigcommerce => Capabilities {
                display_name: "BigCommerce",
                is_store: true,
                connector_available: true,
                // `status_id` 5; a refund (4, 14) alone is not the trigger.
                store_to_tiktok_trigger: Some(OrderCancelled),
                // `refund_order_stock_adjustment` in the store's inventory settings decides.
                restock: StoreSetting,
                // TikTok's reason goes in `staff_notes`.
                free_text_cancel_reason: true,
                cancel_only_before_processing: false,
                // `POST /v2/orders` needs product_id/variant_id from the V3 catalog.
                needs_sku_lookup: true,
                // bigcommerce.md documents no line edit: `remove_units` keeps the default.
                edits_lines: false,
            },
            Platform::AmazonMcf => Capabilities {
                display_name: "Amazon MCF",
                is_store: true,
                connector_available: true,
                // One way only: a Seller Central cancel is recorded, never relayed to TikTok.
                store_to_tiktok_trigger: None,
                restock: NotApplicable,
                // amazon-mcf.md: `cancelFulfillmentOrder` takes no body, so no reason at all.
                free_text_cancel_reason: false,
                cancel_only_before_processing: true,
                // Amazon takes seller SKUs as they are; an unknown one is refused by item index.
                needs_sku_lookup: false,
                // Item changes go through `updateFulfillmentOrder`, which orderdeck does not use.
                edits_lines: false,
            },
        }
    }

    /// Whether links to this store may sync cancellations store → TikTok at all.
    pub fn supports_store_to_tiktok(self) -> bool {
        self.capabilities().store_to_tiktok_trigger.is_some()
    }

    /// The spelling used in `orderdeck.toml` and on the command line.
    pub fn config_name(self) -> &'static str {
        match self {
            Platform::TiktokShop => "tiktok_shop",
            Platform::Shopify => "shopify",
            Platform::Woocommerce => "woocommerce",
            Platform::Magento2 => "magento2",
            Platform::Bigcommerce => "bigcommerce",
            Platform::AmazonMcf => "amazon_mcf",
        }
    }

    pub fn from_config_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.config_name() == name)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.capabilities().display_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_table_matches_the_platform_facts() {
        // (platform, is_store, store→TikTok trigger, restock, free-text reason)
        let table = [
            (
                Platform::TiktokShop,
                false,
                None,
                RestockControl::NotApplicable,
                false,
            ),
            (
                Platform::Shopify,
                true,
                Some(StorefrontCancelTrigger::OrderCancelled),
                RestockControl::PerCancel,
                false,
            ),
            (
                Platform::Woocommerce,
                true,
                Some(StorefrontCancelTrigger::OrderCancelled),
                RestockControl::Automatic,
                true,
            ),
            (
                Platform::Magento2,
                true,
                Some(StorefrontCancelTrigger::Refund),
                RestockControl::PerCancel,
                true,
            ),
            (
                Platform::Bigcommerce,
                true,
                Some(StorefrontCancelTrigger::OrderCancelled),
                RestockControl::StoreSetting,
                true,
            ),
            (
                Platform::AmazonMcf,
                true,
                None,
                RestockControl::NotApplicable,
                false,
            ),
        ];
        for (platform, is_store, trigger, restock, free_text) in table {
            let caps = platform.capabilities();
            assert_eq!(caps.is_store, is_store, "{platform}");
            assert_eq!(caps.store_to_tiktok_trigger, trigger, "{platform}");
            assert_eq!(caps.restock, restock, "{platform}");
            assert_eq!(caps.free_text_cancel_reason, free_text, "{platform}");
        }
    }

    #[test]
    fn config_names_round_trip() {
        for p in Platform::ALL {
            assert_eq!(Platform::from_config_name(p.config_name()), Some(p));
        }
        assert_eq!(Platform::from_config_name("magento"), None);
    }

    #[test]
    fn woocommerce_has_a_connector_that_resolves_skus_first() {
        let caps = Platform::Woocommerce.capabilities();
        assert!(caps.connector_available);
        // An unknown `line_items[].sku` makes a line with no product instead of an error.
        assert!(caps.needs_sku_lookup);
    }

    #[test]
    fn magento_has_a_connector_that_resolves_skus_and_takes_units_off() {
        let caps = Platform::Magento2.capabilities();
        assert!(caps.connector_available);
        assert!(caps.needs_sku_lookup);
        assert!(caps.edits_lines);
        assert_eq!(
            caps.store_to_tiktok_trigger,
            Some(StorefrontCancelTrigger::Refund)
        );
    }

    #[test]
    fn bigcommerce_has_a_connector_that_resolves_skus_in_its_catalog() {
        let caps = Platform::Bigcommerce.capabilities();
        assert!(caps.connector_available);
        assert!(caps.needs_sku_lookup);
        assert_eq!(caps.restock, RestockControl::StoreSetting);
        assert!(!caps.edits_lines);
    }

    #[test]
    fn amazon_has_a_connector_that_takes_skus_as_they_are_and_cancels_only_early() {
        let caps = Platform::AmazonMcf.capabilities();
        assert!(caps.connector_available);
        assert!(!caps.needs_sku_lookup);
        assert!(caps.cancel_only_before_processing);
        assert_eq!(caps.restock, RestockControl::NotApplicable);
    }

    #[test]
    fn every_store_platform_has_a_connector() {
        assert!(
            Platform::STORES
                .into_iter()
                .all(|p| p.capabilities().connector_available)
        );
    }

    #[test]
    fn only_amazon_is_one_way() {
        let one_way: Vec<_> = Platform::STORES
            .into_iter()
            .filter(|p| !p.supports_store_to_tiktok())
            .collect();
        assert_eq!(one_way, vec![Platform::AmazonMcf]);
    }
}
