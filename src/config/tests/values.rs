//! Tests of values: link settings against the store's platform, secrets and file modes, URLs,
//! times, regions, paths, engine tuning and access.

use std::path::Path;
use std::time::Duration;

use crate::domain::access::Role;
use crate::domain::platform::Platform;
use crate::domain::settings::InventoryBehaviour;

use super::super::*;
use super::{FILE, MINIMAL, env, load, problems, with};

#[test]
fn settings_are_validated_against_the_store_platform() {
    let no_reason = with_settings("shopify", "cancel_store_to_tiktok = true\n");
    let got = problems(&no_reason);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("cancel_store_to_tiktok: cannot be turned on until default_cancel_reason"),
        "{}",
        got[0]
    );

    // The reason may come after the switch in the file.
    let ordered = with_settings(
        "shopify",
        "cancel_store_to_tiktok = true\ndefault_cancel_reason = \"seller_cancel_reason_out_of_stock\"\n",
    );
    let config = load(&ordered).unwrap();
    assert!(config.links[0].settings.cancel_store_to_tiktok);

    let amazon = with_settings(
        "amazon_mcf",
        "default_cancel_reason = \"seller_cancel_reason_out_of_stock\"\n",
    );
    let got = problems(&amazon);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].contains(":1: [links.settings] of [[links]] \"uk\": default_cancel_reason: this setting does not exist for Amazon MCF links"), "{}", got[0]);
}

#[test]
fn settings_keys_and_value_types_are_checked() {
    let text = with_settings(
        "shopify",
        "import_order = true\nmissing_tracking_after = 24\ncarrier_map = \"DPD=DPD\"\ninventory_behaviour = \"bypass\"\n",
    );
    let got = problems(&text);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(got[0].contains("unknown setting \"import_order\" in [links.settings] of [[links]] \"uk\" (did you mean \"import_orders\"?)"), "{}", got[0]);
    assert!(
        got[1].contains("missing_tracking_after must be text or true/false, not integer"),
        "{}",
        got[1]
    );
    assert!(got[2].contains("carrier_map must be a table"), "{}", got[2]);
    let ok = with_settings(
        "shopify",
        "inventory_behaviour = \"bypass\"\ncarrier_map = { \"Royal Mail\" = \"RM\" }\n",
    );
    let settings = load(&ok).unwrap().links[0].settings.clone();
    assert_eq!(settings.inventory_behaviour, InventoryBehaviour::Bypass);
    assert_eq!(
        settings.carrier_map.get("Royal Mail").map(String::as_str),
        Some("RM")
    );
}

/// A config whose one store is of `platform`, with `settings` under the link.
fn with_settings(platform: &str, settings: &str) -> String {
    let store = match platform {
        "amazon_mcf" => {
            "[[stores]]\nname = \"main\"\nplatform = \"amazon_mcf\"\nlwa_client_id = \"amzn1.x\"\nlwa_client_secret = \"s\"\nrefresh_token = \"r\"\nmarketplace_id = \"ATVPDKIKX0DER\"\nregion = \"na\"\n"
        }
        _ => {
            "[[stores]]\nname = \"main\"\nplatform = \"shopify\"\nshop_domain = \"acme.myshopify.com\"\naccess_token = \"shpat_1\"\n"
        }
    };
    let shop = &MINIMAL[..MINIMAL.find("[[stores]]").unwrap()];
    format!(
        "{shop}{store}[[links]]\nshop = \"uk\"\nstore = \"main\"\n[links.settings]\n{settings}[access]\nadmin = [\"ann\"]\n"
    )
}

#[test]
fn amazon_stores_load_with_the_region_host_and_no_warning() {
    let config = load(&with_settings("amazon_mcf", "")).unwrap();
    assert_eq!(config.stores[0].platform(), Platform::AmazonMcf);
    assert_eq!(
        config.stores[0].api_base.as_str(),
        "https://sellingpartnerapi-na.amazon.com/"
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn literal_secrets_need_a_private_file() {
    let got = Config::parse(MINIMAL, Path::new(FILE), 0o644, &env()).unwrap_err();
    let lines: Vec<String> = got.0.iter().map(ToString::to_string).collect();
    // Four literal secrets, each refused where it is written.
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert_eq!(
        lines[0],
        "orderdeck.toml:4:14: \"app_secret\" in [[shops]] \"uk\" is a literal secret, but orderdeck.toml is readable by group or others (mode 644); run `chmod 600 orderdeck.toml`, or write the value as env:NAME or file:PATH"
    );
    // env: and file: secrets do not care about the mode.
    let indirect = MINIMAL
        .replace("\"s1\"", "\"env:UK_TOKEN\"")
        .replace("\"t1\"", "\"env:UK_TOKEN\"")
        .replace("\"r1\"", "\"env:UK_TOKEN\"")
        .replace("\"shpat_1\"", "\"env:UK_TOKEN\"");
    let config = Config::parse(&indirect, Path::new(FILE), 0o644, &env()).unwrap();
    assert_eq!(config.shops[0].access_token.expose(), "from-env");
}

#[test]
fn unresolvable_secrets_name_key_place_and_source() {
    let text = MINIMAL
        .replace("\"t1\"", "\"env:NOT_SET_ANYWHERE\"")
        .replace("\"r1\"", "\"file:/nonexistent/orderdeck-token\"");
    let got = problems(&text);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(
        got[0],
        "orderdeck.toml:5:16: \"access_token\" in [[shops]] \"uk\": environment variable NOT_SET_ANYWHERE is not set"
    );
    assert!(got[1].starts_with("orderdeck.toml:6:17: \"refresh_token\" in [[shops]] \"uk\": cannot read secret file /nonexistent/orderdeck-token"), "{}", got[1]);
}

#[test]
fn urls_times_and_regions_are_checked() {
    let text = MINIMAL.replace(
        "region = \"gb\"",
        "region = \"GBR\"\napi_base = \"open-api.tiktokglobalshop.com\"\naccess_token_expires_at = 1767225600000\nrefresh_token_expires_at = 2026-12-31T00:00:00Z",
    );
    let got = problems(&text);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[0].ends_with(
            "7:10: \"region\" in [[shops]] \"uk\": \"GBR\" is not a two-letter country code such as \"GB\", \"US\", \"ID\""
        ),
        "{}",
        got[0]
    );
    assert!(
        got[1].contains(
            "\"api_base\" in [[shops]] \"uk\": \"open-api.tiktokglobalshop.com\" is not a URL"
        ),
        "{}",
        got[1]
    );
    assert!(got[2].contains("looks like milliseconds"), "{}", got[2]);
    let text = MINIMAL.replace(
        "region = \"gb\"",
        "region = \"GB\"\nrefresh_token_expires_at = 2026-12-31T00:00:00Z",
    );
    let expiry = load(&text).unwrap().shops[0]
        .refresh_token_expires_at
        .unwrap();
    assert_eq!(expiry.timestamp(), 1_798_675_200);
}

#[test]
fn paths_engine_and_access_are_checked() {
    let text = with(
        "default_role = \"boss\"\nviewer = [\"two words\"]\n\
         [paths]\nlabel_print_command = \"lp\"\n\
         [engine]\nconcurrency_per_account = 0\nconnect_timeout = \"40s\"\nrequest_timeout = \"20s\"\n",
    );
    let got = problems(&text);
    assert_eq!(got.len(), 5, "{got:#?}");
    assert!(
        got[0].contains("\"default_role\" in [access]: \"boss\" is not a role"),
        "{}",
        got[0]
    );
    assert!(
        got[1].contains("\"viewer\" in [access]: \"two words\" is not a valid user name"),
        "{}",
        got[1]
    );
    assert!(got[2].contains("must contain {file}"), "{}", got[2]);
    assert!(
        got[3].contains("\"concurrency_per_account\" in [engine] must be between 1 and 32"),
        "{}",
        got[3]
    );
    assert!(
        got[4].contains("\"connect_timeout\" in [engine] is longer than request_timeout"),
        "{}",
        got[4]
    );
}

#[test]
fn retry_waits_are_tunable_within_bounds() {
    let config = load(&with(
        "[engine]\nretry_initial = \"50ms\"\nretry_max = \"2s\"\n",
    ))
    .unwrap();
    assert_eq!(config.engine.retry_initial, Duration::from_millis(50));
    assert_eq!(config.engine.retry_max, Duration::from_secs(2));
    let defaults = load(MINIMAL).unwrap();
    assert_eq!(defaults.engine.retry_initial, Duration::from_secs(2));
    assert_eq!(defaults.engine.retry_max, Duration::from_secs(15 * 60));

    let got = problems(&with(
        "[engine]\nretry_initial = \"1ms\"\nretry_max = \"1s\"\n",
    ));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("\"retry_initial\" in [engine] is 1ms"),
        "{}",
        got[0]
    );
    let got = problems(&with(
        "[engine]\nretry_initial = \"5s\"\nretry_max = \"1s\"\n",
    ));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("\"retry_max\" in [engine] is shorter than retry_initial"),
        "{}",
        got[0]
    );
}

#[test]
fn socket_falls_back_to_the_data_dir_and_relative_paths_follow_the_config() {
    let mut env = env();
    env.vars.remove("XDG_RUNTIME_DIR");
    let text = with("[paths]\ndata_dir = \"state\"\n");
    let config = Config::parse(
        &text,
        Path::new("/etc/orderdeck/orderdeck.toml"),
        0o600,
        &env,
    )
    .unwrap();
    assert_eq!(config.paths.data_dir, Path::new("/etc/orderdeck/state"));
    assert_eq!(
        config.paths.socket,
        Path::new("/etc/orderdeck/state/orderdeck.sock")
    );
}

#[test]
fn socket_group_names_a_group_and_needs_a_socket_outside_the_data_dir() {
    let text = with(
        "[paths]\nsocket = \"/run/orderdeck/orderdeck.sock\"\nsocket_group = \"orderdeck-team\"\n",
    );
    let config = load(&text).unwrap();
    assert_eq!(config.paths.socket_group.as_deref(), Some("orderdeck-team"));
    assert_eq!(load(MINIMAL).unwrap().paths.socket_group, None);

    // MINIMAL has 20 lines: [paths] is line 21.
    let got = problems(&with(
        "[paths]\nsocket_group = \"two words\"\nsocket_gruop = \"x\"\n",
    ));
    assert_eq!(
        got,
        [
            "orderdeck.toml:22:16: \"socket_group\" in [paths]: \"two words\" is not a unix group name",
            "orderdeck.toml:23:1: unknown key \"socket_gruop\" in [paths] (did you mean \"socket_group\"?)",
        ]
    );

    // Without XDG_RUNTIME_DIR the socket defaults into the data dir, which stays private.
    let mut env = env();
    env.vars.remove("XDG_RUNTIME_DIR");
    let text = with("[paths]\nsocket_group = \"ops\"\n");
    let got = Config::parse(&text, Path::new(FILE), 0o600, &env).unwrap_err();
    let got: Vec<String> = got.errors().map(ToString::to_string).collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("orderdeck.toml:22:16: \"socket_group\" in [paths] needs the socket outside the data dir"),
        "{}",
        got[0]
    );
}

#[test]
fn access_resolves_roles_and_warns_when_nobody_has_any() {
    let text = with("operator = [\"@ops\"]\nviewer = [\"ann\"]\n");
    let config = load(&text).unwrap();
    assert_eq!(config.access.role_for("ann", &["ops"]), Some(Role::Admin));
    assert_eq!(
        config.access.role_for("bob", &["ops"]),
        Some(Role::Operator)
    );
    assert_eq!(config.access.role_for("eve", &["staff"]), None);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(
        config.warnings[0]
            .message
            .contains("ann is listed as viewer and as admin")
    );

    let nobody = MINIMAL.replace("[access]\nadmin = [\"ann\"]\n", "");
    let config = load(&nobody).unwrap();
    assert!(
        config.warnings[0]
            .to_string()
            .contains("there is no [access] section")
    );
}
