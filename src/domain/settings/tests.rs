//! Table-driven tests of link settings: defaults, setting each key from text, and every refusal.

use super::*;

#[test]
fn defaults_are_the_seeds() {
    let s = LinkSettings::default();
    let shown: Vec<_> = SettingKey::ALL
        .into_iter()
        .map(|k| (k.name(), s.value_text(k)))
        .collect();
    let expected = [
        ("import_orders", "on"),
        ("sync_tracking", "on"),
        ("cancel_tiktok_to_store", "on"),
        ("restock_on_cancel", "on"),
        ("cancel_store_to_tiktok", "off"),
        ("default_cancel_reason", ""),
        ("missing_tracking_after", "1day"),
        ("carrier_map", ""),
        ("inventory_behaviour", "DECREMENT_OBEYING_POLICY"),
        ("shipping_speed", "Standard"),
        ("fulfillment_policy", "FillOrKill"),
        ("block_amazon_logistics", "off"),
    ];
    assert_eq!(shown, expected.map(|(k, v)| (k, v.to_string())).to_vec());
    for platform in Platform::STORES {
        assert!(
            s.validate(platform).is_empty(),
            "defaults are valid for {platform}"
        );
    }
}

#[test]
fn setting_values_from_text() {
    // (platform, key, value, expected text after)
    let table = [
        (Platform::Shopify, "import_orders", "off", "off"),
        (Platform::Shopify, "sync_tracking", "false", "off"),
        (Platform::Woocommerce, "restock_on_cancel", "no", "off"),
        (Platform::Magento2, "cancel_tiktok_to_store", "0", "off"),
        (
            Platform::Shopify,
            "missing_tracking_after",
            "36h",
            "1day 12h",
        ),
        (
            Platform::Bigcommerce,
            "default_cancel_reason",
            "seller_cancel_reason_out_of_stock",
            "seller_cancel_reason_out_of_stock",
        ),
        (
            Platform::Shopify,
            "carrier_map",
            "Royal Mail Tracked = Royal Mail",
            "Royal Mail Tracked=Royal Mail",
        ),
        (Platform::Shopify, "inventory_behaviour", "bypass", "BYPASS"),
        (
            Platform::AmazonMcf,
            "shipping_speed",
            "expedited",
            "Expedited",
        ),
        (
            Platform::AmazonMcf,
            "shipping_speed",
            " Priority ",
            "Priority",
        ),
        (
            Platform::AmazonMcf,
            "fulfillment_policy",
            "fillallavailable",
            "FillAllAvailable",
        ),
        (Platform::AmazonMcf, "block_amazon_logistics", "on", "on"),
    ];
    for (platform, key, value, expected) in table {
        let key = SettingKey::parse(key).unwrap();
        let next = LinkSettings::default()
            .with_value(key, value, platform)
            .unwrap();
        assert_eq!(next.value_text(key), expected, "{platform} {key}={value}");
    }
}

#[test]
#[allow(clippy::too_many_lines, reason = "one table of every refusal")]
fn every_refusal_names_its_key_and_says_why() {
    let with_reason = LinkSettings {
        default_cancel_reason: Some("seller_cancel_reason_out_of_stock".into()),
        ..LinkSettings::default()
    };
    let store_to_tiktok_on = LinkSettings {
        cancel_store_to_tiktok: true,
        ..with_reason.clone()
    };
    // (start, platform, key, value, words the refusal must contain)
    let table: Vec<(LinkSettings, Platform, &str, &str, &str)> = vec![
        (
            LinkSettings::default(),
            Platform::Shopify,
            "cancel_store_to_tiktok",
            "on",
            "until default_cancel_reason holds",
        ),
        (
            LinkSettings::default(),
            Platform::AmazonMcf,
            "cancel_store_to_tiktok",
            "on",
            "does not exist for Amazon MCF",
        ),
        (
            LinkSettings::default(),
            Platform::AmazonMcf,
            "default_cancel_reason",
            "seller_cancel_reason_out_of_stock",
            "does not exist for Amazon MCF",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "default_cancel_reason",
            "out of stock",
            "not a TikTok seller cancel reason code",
        ),
        (
            store_to_tiktok_on,
            Platform::Shopify,
            "default_cancel_reason",
            "",
            "turn that off first",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "import_orders",
            "maybe",
            "not on/off",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "missing_tracking_after",
            "soon",
            "not a duration",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "missing_tracking_after",
            "5m",
            "between 1h and 30d",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "missing_tracking_after",
            "90d",
            "between 1h and 30d",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "carrier_map",
            "Royal Mail",
            "STORE CARRIER=TIKTOK PROVIDER",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "carrier_map",
            "=USPS",
            "store carrier name is empty",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "carrier_map",
            "DHL=",
            "no mapping for carrier",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "carrier_map",
            "DHL\u{1b}[2J=DHL",
            "control characters",
        ),
        (
            LinkSettings::default(),
            Platform::Woocommerce,
            "inventory_behaviour",
            "BYPASS",
            "does not exist for WooCommerce",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "inventory_behaviour",
            "SOMETIMES",
            "\"SOMETIMES\" is not one of BYPASS, DECREMENT_IGNORING_POLICY, DECREMENT_OBEYING_POLICY",
        ),
        (
            LinkSettings::default(),
            Platform::AmazonMcf,
            "shipping_speed",
            "Overnight",
            "\"Overnight\" is not one of Standard, Expedited, Priority",
        ),
        (
            LinkSettings::default(),
            Platform::AmazonMcf,
            "shipping_speed",
            "ScheduledDelivery",
            "is not one of Standard, Expedited, Priority",
        ),
        (
            LinkSettings::default(),
            Platform::AmazonMcf,
            "fulfillment_policy",
            "FillSome",
            "\"FillSome\" is not one of FillOrKill, FillAll, FillAllAvailable",
        ),
        (
            LinkSettings::default(),
            Platform::AmazonMcf,
            "block_amazon_logistics",
            "please",
            "not on/off",
        ),
        (
            LinkSettings::default(),
            Platform::Shopify,
            "shipping_speed",
            "Expedited",
            "does not exist for Shopify",
        ),
        (
            LinkSettings::default(),
            Platform::Bigcommerce,
            "fulfillment_policy",
            "FillAll",
            "does not exist for BigCommerce",
        ),
        (
            LinkSettings::default(),
            Platform::Woocommerce,
            "block_amazon_logistics",
            "on",
            "does not exist for WooCommerce",
        ),
    ];
    for (start, platform, key_name, value, words) in table {
        let key = SettingKey::parse(key_name).unwrap();
        let err = start.with_value(key, value, platform).unwrap_err();
        assert_eq!(err.key(), Some(key), "{key_name}={value}");
        let text = err.to_string();
        assert!(text.starts_with(key_name), "{text}");
        assert!(
            text.contains(words),
            "{key_name}={value} on {platform}: {text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}

#[test]
fn store_to_tiktok_can_be_enabled_once_a_reason_is_set() {
    for platform in [
        Platform::Shopify,
        Platform::Woocommerce,
        Platform::Magento2,
        Platform::Bigcommerce,
    ] {
        let s = LinkSettings::default()
            .with_value(
                SettingKey::DefaultCancelReason,
                "seller_cancel_reason_out_of_stock_uk",
                platform,
            )
            .unwrap()
            .with_value(SettingKey::CancelStoreToTiktok, "on", platform)
            .unwrap();
        assert!(s.cancel_store_to_tiktok, "{platform}");
    }
}

#[test]
fn unknown_keys_list_the_known_ones() {
    let err = SettingKey::parse("import").unwrap_err().to_string();
    assert!(err.contains("unknown setting \"import\""), "{err}");
    assert!(err.contains("missing_tracking_after"), "{err}");
}

#[test]
fn amazon_forms_have_no_store_to_tiktok_keys() {
    let amazon: Vec<_> = SettingKey::ALL
        .into_iter()
        .filter(|k| k.applies_to(Platform::AmazonMcf))
        .map(SettingKey::name)
        .collect();
    assert!(!amazon.contains(&"cancel_store_to_tiktok"));
    assert!(!amazon.contains(&"default_cancel_reason"));
    assert!(amazon.contains(&"cancel_tiktok_to_store"));
    for key in [
        "shipping_speed",
        "fulfillment_policy",
        "block_amazon_logistics",
    ] {
        assert!(amazon.contains(&key), "{key}");
        for other in Platform::STORES
            .into_iter()
            .filter(|p| *p != Platform::AmazonMcf)
        {
            assert!(
                !SettingKey::parse(key).unwrap().applies_to(other),
                "{key} on {other}"
            );
        }
    }
}

#[test]
fn an_amazon_link_refuses_store_to_tiktok_naming_amazon_and_the_setting() {
    let err = LinkSettings::default()
        .with_value(SettingKey::CancelStoreToTiktok, "true", Platform::AmazonMcf)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cancel_store_to_tiktok: this setting does not exist for Amazon MCF links"
    );
    // Even a record that somehow holds it (written by hand) is refused as a whole.
    let forced = LinkSettings {
        cancel_store_to_tiktok: true,
        default_cancel_reason: Some("seller_cancel_reason_out_of_stock".into()),
        ..LinkSettings::default()
    };
    let problems: Vec<String> = forced
        .validate(Platform::AmazonMcf)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        problems.iter().any(|p| p.starts_with(
            "cancel_store_to_tiktok: Amazon MCF links sync cancellations TikTok → store only"
        )),
        "{problems:?}"
    );
}

#[test]
fn amazon_order_options_come_from_the_links_settings() {
    let s = LinkSettings::default()
        .with_value(SettingKey::ShippingSpeed, "Priority", Platform::AmazonMcf)
        .unwrap()
        .with_value(
            SettingKey::FulfillmentPolicy,
            "FillAll",
            Platform::AmazonMcf,
        )
        .unwrap()
        .with_value(SettingKey::BlockAmazonLogistics, "yes", Platform::AmazonMcf)
        .unwrap();
    assert_eq!(
        s.amazon_order_options(),
        AmazonOrderOptions {
            shipping_speed: ShippingSpeed::Priority,
            fulfillment_policy: FulfillmentPolicy::FillAll,
            block_amazon_logistics: true,
        }
    );
    assert_eq!(
        LinkSettings::default().amazon_order_options(),
        AmazonOrderOptions {
            shipping_speed: ShippingSpeed::Standard,
            fulfillment_policy: FulfillmentPolicy::FillOrKill,
            block_amazon_logistics: false,
        }
    );
}

#[test]
fn diff_lists_only_changed_keys() {
    let before = LinkSettings::default();
    let after = before
        .with_value(SettingKey::ImportOrders, "off", Platform::Shopify)
        .unwrap()
        .with_value(SettingKey::CarrierMap, "Royal Mail=RM", Platform::Shopify)
        .unwrap();
    let diff = before.diff(&after);
    assert_eq!(
        diff,
        vec![
            (SettingKey::ImportOrders, "on".into(), "off".into()),
            (SettingKey::CarrierMap, "".into(), "Royal Mail=RM".into()),
        ]
    );
}

#[test]
fn stored_json_round_trips_and_refuses_unknown_fields() {
    let s = LinkSettings::default()
        .with_value(SettingKey::MissingTrackingAfter, "12h", Platform::Shopify)
        .unwrap();
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        json.contains("\"missing_tracking_after\":\"12h\""),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<LinkSettings>(&json).unwrap(), s);
    assert!(serde_json::from_str::<LinkSettings>(r#"{"import":true}"#).is_err());
    let partial: LinkSettings = serde_json::from_str(r#"{"import_orders":false}"#).unwrap();
    assert!(
        !partial.import_orders && partial.sync_tracking,
        "missing keys take defaults"
    );
}

#[test]
fn records_stored_before_the_amazon_settings_read_with_their_defaults() {
    // A whole record as orderdeck stored it before shipping_speed, fulfillment_policy and
    // block_amazon_logistics existed.
    let stored = r#"{"import_orders":true,"sync_tracking":false,"cancel_tiktok_to_store":true,
        "restock_on_cancel":true,"cancel_store_to_tiktok":false,"default_cancel_reason":null,
        "missing_tracking_after":"1day","carrier_map":{"AMZL_US":"Amazon Logistics"},
        "inventory_behaviour":"DECREMENT_OBEYING_POLICY"}"#;
    let read: LinkSettings = serde_json::from_str(stored).unwrap();
    assert!(!read.sync_tracking);
    assert_eq!(read.carrier_map.len(), 1);
    assert_eq!(read.shipping_speed, ShippingSpeed::Standard);
    assert_eq!(read.fulfillment_policy, FulfillmentPolicy::FillOrKill);
    assert!(!read.block_amazon_logistics);
    assert!(read.validate(Platform::AmazonMcf).is_empty());
    // And the new shape round-trips with its values.
    let set = read
        .with_value(SettingKey::ShippingSpeed, "Expedited", Platform::AmazonMcf)
        .unwrap();
    let json = serde_json::to_string(&set).unwrap();
    assert!(json.contains("\"shipping_speed\":\"Expedited\""), "{json}");
    assert_eq!(serde_json::from_str::<LinkSettings>(&json).unwrap(), set);
}

#[test]
fn a_restock_setting_woocommerce_cannot_honour_says_what_it_does() {
    assert_eq!(
        SettingKey::RestockOnCancel
            .fixed_on(Platform::Woocommerce)
            .as_deref(),
        Some("always (WooCommerce puts stock back on every cancel)")
    );
    for platform in [Platform::Shopify, Platform::Magento2] {
        assert_eq!(SettingKey::RestockOnCancel.fixed_on(platform), None);
    }
    assert_eq!(
        SettingKey::SyncTracking.fixed_on(Platform::Woocommerce),
        None
    );
}

#[test]
fn a_restock_setting_bigcommerce_keeps_store_wide_says_where_it_is() {
    assert_eq!(
        SettingKey::RestockOnCancel
            .fixed_on(Platform::Bigcommerce)
            .as_deref(),
        Some(
            "store-wide (restocking follows the BigCommerce store's own setting: \
             Settings → Inventory in BigCommerce)"
        )
    );
    assert_eq!(
        SettingKey::CancelStoreToTiktok.fixed_on(Platform::Bigcommerce),
        None
    );
}
