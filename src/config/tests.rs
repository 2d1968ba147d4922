//! Whole-file tests of `Config::parse`: one rule per test, each asserting the exact message or
//! its key parts with `file:line:column`, plus the shipped example config. This file covers
//! structure (unknown keys, missing keys, references, duplicates, syntax); `values` covers
//! what individual values may be.

mod files;
mod values;

use std::path::Path;
use std::time::Duration;

use crate::domain::access::Role;
use crate::domain::settings::{FulfillmentPolicy, ShippingSpeed};

use super::*;

pub(super) const FILE: &str = "orderdeck.toml";

/// Line 1 is `[[shops]]`; literal secrets, so the file mode matters.
pub(super) const MINIMAL: &str = r#"[[shops]]
name = "uk"
app_key = "key"
app_secret = "s1"
access_token = "t1"
refresh_token = "r1"
region = "gb"

[[stores]]
name = "main"
platform = "shopify"
shop_domain = "acme.myshopify.com"
access_token = "shpat_1"

[[links]]
shop = "uk"
store = "main"

[access]
admin = ["ann"]
"#;

pub(super) fn env() -> Environment {
    Environment {
        vars: [
            ("UK_TOKEN", "from-env"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into_iter()
        .collect(),
        home_dir: Some("/home/ann".into()),
        data_dir: Some("/home/ann/.local/share".into()),
        config_dir: Some("/home/ann/.config".into()),
    }
}

pub(super) fn load(text: &str) -> Result<Config, Problems> {
    Config::parse(text, Path::new(FILE), 0o600, &env())
}

/// Every error, displayed (warnings have tests of their own).
pub(super) fn problems(text: &str) -> Vec<String> {
    match load(text) {
        Ok(config) => panic!("loaded, warnings: {:?}", config.warnings),
        Err(problems) => problems.errors().map(ToString::to_string).collect(),
    }
}

pub(super) fn with(extra: &str) -> String {
    format!("{MINIMAL}{extra}")
}

#[test]
fn minimal_config_loads_with_defaults() {
    let config = load(MINIMAL).unwrap();
    let shop = &config.shops[0];
    assert_eq!(shop.region, "GB");
    assert_eq!(
        shop.api_base.as_str(),
        "https://open-api.tiktokglobalshop.com/"
    );
    assert_eq!(shop.auth_base.as_str(), "https://auth.tiktok-shops.com/");
    assert_eq!(shop.app_secret.expose(), "s1");
    let store = &config.stores[0];
    assert_eq!(store.api_base.as_str(), "https://acme.myshopify.com/");
    let StorefrontCredentials::Shopify(shopify) = &store.credentials else {
        panic!()
    };
    assert_eq!(shopify.api_version, "2025-10");
    let link = &config.links[0];
    assert_eq!(link.name.as_str(), "uk");
    assert_eq!(link.poll_interval, Duration::from_secs(60));
    assert_eq!(
        link.settings,
        crate::domain::settings::LinkSettings::default()
    );
    assert_eq!(
        config.paths.data_dir,
        Path::new("/home/ann/.local/share/orderdeck")
    );
    assert_eq!(
        config.paths.socket,
        Path::new("/run/user/1000/orderdeck/orderdeck.sock")
    );
    assert_eq!(config.engine, EngineConfig::default());
    assert!(!config.approvals.two_person);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn three_distinct_mistakes_are_all_reported_in_file_order() {
    let text = r#"[[shops]]
name = "uk"
app_key = "key"
app_secret = "s1"
access_token = "t1"
refresh_token = "r1"
region = "GB"
shop_chiper = "GCP_1"

[[stores]]
name = "main"
platform = "shopify"
shop_domain = "acme.myshopify.com"
access_token = "shpat_1"

[[links]]
shop = "uk"
store = "mian"

[links.settings]
missing_tracking_after = "soon"

[access]
admin = ["ann"]
"#;
    let got = problems(text);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(
        got[0],
        r#"orderdeck.toml:8:1: unknown key "shop_chiper" in [[shops]] "uk" (did you mean "shop_cipher"?)"#
    );
    assert_eq!(
        got[1],
        r#"orderdeck.toml:18:9: "store" in [[links]] "uk": no [[stores]] entry is named "mian" (did you mean "main"?)"#
    );
    assert!(
        got[2].starts_with(r#"orderdeck.toml:21:26: [links.settings] of [[links]] "uk": missing_tracking_after: "soon" is not a duration"#),
        "{}",
        got[2]
    );
}

#[test]
fn unknown_keys_everywhere_are_errors_with_suggestions() {
    let text = with("[approvals]\ntwo_persons = true\n[engine]\ntimeout = \"5s\"\n[shop]\n");
    let got = problems(&text);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[0]
            .ends_with(r#"unknown key "two_persons" in [approvals] (did you mean "two_person"?)"#),
        "{}",
        got[0]
    );
    assert!(
        got[1].ends_with(r#"unknown key "timeout" in [engine]"#),
        "{}",
        got[1]
    );
    assert!(
        got[2].ends_with(r#"unknown key "shop" in the top level (did you mean "shops"?)"#),
        "{}",
        got[2]
    );
}

#[test]
fn a_key_of_another_platform_says_whose_it_is() {
    let text = MINIMAL.replace(
        "access_token = \"shpat_1\"",
        "access_token = \"shpat_1\"\nconsumer_key = \"ck_1\"",
    );
    let got = problems(&text);
    assert_eq!(
        got,
        [
            r#"orderdeck.toml:14:1: unknown key "consumer_key" in [[stores]] "main" (consumer_key belongs to woocommerce stores; this one is shopify)"#
        ]
    );
}

#[test]
fn missing_keys_point_at_the_entry_header() {
    let text = MINIMAL.replace("region = \"gb\"\n", "");
    assert_eq!(
        problems(&text),
        [r#"orderdeck.toml:1:1: [[shops]] "uk" is missing "region""#]
    );
}

#[test]
fn duplicate_names_and_a_shop_linked_twice_are_errors() {
    let text = with(
        "[[shops]]\nname = \"uk\"\napp_key = \"k\"\napp_secret = \"s\"\naccess_token = \"t\"\nrefresh_token = \"r\"\nregion = \"GB\"\n\
         [[links]]\nshop = \"uk\"\nstore = \"main\"\n",
    );
    let got = problems(&text);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[0].contains("shop name \"uk\" is already used by the [[shops]] entry at line 1"),
        "{}",
        got[0]
    );
    assert!(got[1].contains("link name \"uk\" is already used by the link at line 15 (it defaults to the shop's name"), "{}", got[1]);
    assert!(
        got[2].contains("shop \"uk\" is already linked by the link at line 15"),
        "{}",
        got[2]
    );
}

#[test]
fn links_name_declared_shops_even_broken_ones() {
    // The shop exists but lacks a key: the link must not also claim it does not exist.
    let text = MINIMAL.replace("app_key = \"key\"\n", "");
    assert_eq!(
        problems(&text),
        [r#"orderdeck.toml:1:1: [[shops]] "uk" is missing "app_key""#]
    );
    let text = MINIMAL.replace("shop = \"uk\"", "shop = \"de\"");
    let got = problems(&text);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].ends_with(r#"no [[shops]] entry is named "de"; declared: uk"#),
        "{}",
        got[0]
    );
}

#[test]
fn platforms_are_named_exactly() {
    let got = problems(&MINIMAL.replace("platform = \"shopify\"", "platform = \"shopfiy\""));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("orderdeck.toml:11:12: \"platform\" in [[stores]] \"main\": \"shopfiy\" is not a store platform (did you mean \"shopify\"?)"), "{}", got[0]);
    let got = problems(&MINIMAL.replace("platform = \"shopify\"", "platform = \"tiktok_shop\""));
    assert!(
        got[0].contains("TikTok shops go under [[shops]]"),
        "{}",
        got[0]
    );
    // WooCommerce runs on the merchant's own site: no default api_base.
    let woo = MINIMAL.replace(
        "platform = \"shopify\"\nshop_domain = \"acme.myshopify.com\"\naccess_token = \"shpat_1\"",
        "platform = \"woocommerce\"\nconsumer_key = \"ck_1\"\nconsumer_secret = \"cs_1\"",
    );
    assert_eq!(
        problems(&woo),
        [r#"orderdeck.toml:9:1: [[stores]] "main" is missing "api_base""#]
    );
}

#[test]
fn syntax_errors_are_reported_once_per_line() {
    let got = problems("[[shops]]\nname = \"uk\nregion = GB\n");
    assert!(got.len() >= 2, "{got:#?}");
    assert!(
        got.iter().all(|p| p.contains(": TOML syntax: ")),
        "{got:#?}"
    );
    assert!(got[0].starts_with("orderdeck.toml:2:"), "{}", got[0]);
    let lines: Vec<&str> = got.iter().map(|p| p.split(':').nth(1).unwrap()).collect();
    let mut unique = lines.clone();
    unique.dedup();
    assert_eq!(lines, unique);
}

#[test]
fn sections_of_the_wrong_shape_say_how_to_write_them() {
    let got = problems(&MINIMAL.replace("[[links]]", "[links]"));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("\"links\" must be a list of tables: write each entry under [[links]]"),
        "{}",
        got[0]
    );
}

#[test]
fn the_example_config_loads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/us-access-token"), "us-access\n").unwrap();
    std::fs::write(dir.path().join("secrets/us-refresh-token"), "us-refresh\n").unwrap();
    let mut env = env();
    for var in [
        "ORDERDECK_TIKTOK_APP_SECRET",
        "ORDERDECK_UK_ACCESS_TOKEN",
        "ORDERDECK_UK_REFRESH_TOKEN",
        "ORDERDECK_SHOPIFY_TOKEN",
        "ORDERDECK_LWA_CLIENT_SECRET",
        "ORDERDECK_LWA_REFRESH_TOKEN",
    ] {
        env.vars.insert(var.into(), format!("value-of-{var}"));
    }
    let text = include_str!("../../tests/fixtures/orderdeck.toml");
    let source = dir.path().join("orderdeck.toml");
    let config = Config::parse(text, &source, 0o644, &env).unwrap();
    assert_eq!(
        (config.shops.len(), config.stores.len(), config.links.len()),
        (2, 2, 2)
    );
    assert_eq!(config.shops[1].access_token.expose(), "us-access");
    let uk = &config.links[0];
    assert!(uk.settings.cancel_store_to_tiktok);
    assert_eq!(uk.settings.carrier_map.len(), 2);
    assert_eq!(config.links[1].name.as_str(), "us-amazon");
    assert_eq!(config.links[1].poll_interval, Duration::from_secs(120));
    let amazon = &config.links[1].settings;
    assert_eq!(amazon.shipping_speed, ShippingSpeed::Expedited);
    assert_eq!(amazon.fulfillment_policy, FulfillmentPolicy::FillAll);
    assert_eq!(
        config.access.role_for("alice", &["warehouse"]),
        Some(Role::Operator)
    );
    assert_eq!(
        config.paths.socket,
        Path::new("/run/orderdeck/orderdeck.sock")
    );
    assert_eq!(
        config.webhooks.listen,
        Some("127.0.0.1:8787".parse().unwrap())
    );
    assert_eq!(
        config.webhooks.poll_interval_while_healthy,
        Some(std::time::Duration::from_secs(600))
    );
    // Every store in it has a connector: nothing to warn about.
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}
