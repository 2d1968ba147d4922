//! `[[links]]`: which shop feeds which store, how often to poll, and the link's initial
//! settings. Invariants checked here: a link names a declared shop and store; link names are
//! unique; a shop feeds at most one store (one TikTok order → at most one store order).
//! `[links.settings]` is validated by the domain's own `LinkSettings::with_value` against the
//! store's platform, so the config accepts exactly what the console would.

use std::ops::Range;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use crate::domain::ids::{LinkId, ShopId, StorefrontId};
use crate::domain::platform::Platform;
use crate::domain::settings::{LinkSettings, SettingKey};

use super::problem::did_you_mean;
use super::reader::{Loader, Section};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    pub name: LinkId,
    pub shop: ShopId,
    pub store: StorefrontId,
    pub poll_interval: Duration,
    /// The settings a new link starts with. Once the link exists, the store's copy (edited in
    /// the console, versioned, audited) is the truth; this is only the seed.
    pub settings: LinkSettings,
}

pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// Names declared by the `[[shops]]` and `[[stores]]` entries, broken ones included.
pub(crate) struct Declared<'a> {
    pub shops: &'a [String],
    pub stores: &'a [(String, Option<Platform>)],
}

pub(crate) fn read_links(
    ld: &mut Loader<'_>,
    root: &mut Section<'_, '_>,
    declared: &Declared<'_>,
) -> Vec<LinkConfig> {
    let mut links = Vec::new();
    // Names and shops of earlier links, with their headers, for duplicates.
    let mut names: Vec<(String, Range<usize>)> = Vec::new();
    let mut linked_shops: Vec<(String, Range<usize>)> = Vec::new();
    for (number, span, table) in super::reader::array_of_tables(ld, root, "links") {
        let mut section = Section::new(format!("[[links]] #{number}"), span.clone(), table);
        let shop = section.required_string(ld, "shop");
        let explicit_name = section.string(ld, "name");
        let (name_text, name_span) = match (&explicit_name, &shop) {
            (Some((text, span)), _) | (None, Some((text, span))) => {
                (Some(text.to_string()), span.clone())
            }
            (None, None) => (None, span.clone()),
        };
        if let Some(name) = &name_text {
            section.label = format!("[[links]] \"{name}\"");
            if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
                let line = ld.position(first).line;
                let fix = if explicit_name.is_some() {
                    ""
                } else {
                    " (it defaults to the shop's name; set name = \"…\" to tell them apart)"
                };
                ld.error(
                    &name_span,
                    format!("link name \"{name}\" is already used by the link at line {line}{fix}"),
                );
            }
            names.push((name.clone(), section.span.clone()));
        }
        let name = name_text.and_then(|text| {
            LinkId::new(text)
                .map_err(|e| ld.error(&name_span, format!("\"name\" in {}: {e}", section.label)))
                .ok()
        });
        let shop = shop.and_then(|(shop, span)| {
            if let Some((_, first)) = linked_shops.iter().find(|(s, _)| s == shop) {
                let line = ld.position(first).line;
                let message = format!(
                    "shop \"{shop}\" is already linked by the link at line {line}; a shop feeds \
                     one store, or its orders would be created twice"
                );
                ld.error(&span, message);
            }
            linked_shops.push((shop.to_string(), section.span.clone()));
            let names = declared.shops.iter().map(String::as_str);
            reference(ld, &section.label, "shop", "[[shops]]", shop, &span, names)?;
            ShopId::new(shop).ok()
        });
        let store = section
            .required_string(ld, "store")
            .and_then(|(store, span)| {
                let names = declared.stores.iter().map(|(n, _)| n.as_str());
                reference(
                    ld,
                    &section.label,
                    "store",
                    "[[stores]]",
                    store,
                    &span,
                    names,
                )?;
                Some((
                    StorefrontId::new(store).ok()?,
                    declared.stores.iter().find(|(n, _)| n == store)?.1,
                ))
            });
        let poll_interval = section.duration(
            ld,
            "poll_interval",
            DEFAULT_POLL_INTERVAL,
            Duration::from_secs(1)..=Duration::from_secs(3600),
        );
        let settings = match section.table(ld, "settings") {
            Some((table, _)) => {
                let platform = store.as_ref().and_then(|(_, p)| *p);
                read_settings(
                    ld,
                    &format!("[links.settings] of {}", section.label),
                    table,
                    platform,
                )
            }
            None => LinkSettings::default(),
        };
        section.finish(ld, |_| None);
        if let (Some(name), Some(shop), Some((store, _))) = (name, shop, store) {
            links.push(LinkConfig {
                name,
                shop,
                store,
                poll_interval,
                settings,
            });
        }
    }
    links
}

/// Checks that `value` names a declared entry; the error suggests the nearest name.
fn reference<'a>(
    ld: &mut Loader<'_>,
    label: &str,
    key: &str,
    section_name: &str,
    value: &str,
    span: &Range<usize>,
    declared: impl Iterator<Item = &'a str> + Clone,
) -> Option<()> {
    if declared.clone().any(|n| n == value) {
        return Some(());
    }
    let hint = match did_you_mean(value, declared.clone()) {
        Some(near) => format!(" (did you mean \"{near}\"?)"),
        None => {
            let all: Vec<&str> = declared.collect();
            if all.is_empty() {
                format!("; there are no {section_name} entries")
            } else {
                format!("; declared: {}", all.join(", "))
            }
        }
    };
    ld.error(
        span,
        format!("\"{key}\" in {label}: no {section_name} entry is named \"{value}\"{hint}"),
    );
    None
}

/// `[links.settings]`: user-facing setting keys with text or boolean values, and `carrier_map`
/// as a table. What is valid depends on the store's platform (Amazon links have no
/// store → TikTok keys at all), so `platform` is `None` only when the store is unknown.
fn read_settings(
    ld: &mut Loader<'_>,
    label: &str,
    table: &DeTable<'_>,
    platform: Option<Platform>,
) -> LinkSettings {
    let mut entries: Vec<(SettingKey, String, Range<usize>, Range<usize>)> = Vec::new();
    // (carrier, provider, where the provider is): added one by one once the rest is set.
    let mut carriers: Vec<(&str, &str, Range<usize>)> = Vec::new();
    for (key, value) in table.iter() {
        let (name, key_span, value_span) = (key.get_ref().as_ref(), key.span(), value.span());
        let Ok(setting) = SettingKey::parse(name) else {
            let near = did_you_mean(name, SettingKey::ALL.map(SettingKey::name))
                .map(|n| format!(" (did you mean \"{n}\"?)"))
                .unwrap_or_default();
            ld.error(
                &key_span,
                format!("unknown setting \"{name}\" in {label}{near}"),
            );
            continue;
        };
        match (setting, value.get_ref()) {
            (SettingKey::CarrierMap, DeValue::Table(map)) => {
                for (carrier, provider) in map.iter() {
                    let carrier = carrier.get_ref();
                    match provider.get_ref().as_str() {
                        Some(p) if !p.trim().is_empty() => {
                            carriers.push((carrier, p, provider.span()));
                        }
                        _ => ld.error(
                            &provider.span(),
                            format!(
                                "{label}: carrier_map: carrier \"{carrier}\" needs the TikTok \
                                 shipping provider's name or id as text"
                            ),
                        ),
                    }
                }
            }
            (SettingKey::CarrierMap, _) => ld.error(
                &value_span,
                format!(
                    "{label}: carrier_map must be a table of store carrier = TikTok provider, \
                     e.g. carrier_map = {{ \"Royal Mail\" = \"Royal Mail Tracked\" }}"
                ),
            ),
            (_, DeValue::Boolean(b)) => {
                entries.push((setting, b.to_string(), key_span, value_span));
            }
            (_, DeValue::String(text)) => {
                entries.push((setting, text.to_string(), key_span, value_span));
            }
            (_, other) => ld.error(
                &value_span,
                format!(
                    "{label}: {name} must be text or true/false, not {} (durations are text, \
                     e.g. \"24h\")",
                    other.type_str()
                ),
            ),
        }
    }
    let mut settings = LinkSettings::default();
    // Each value is applied to settings that are valid so far, and `with_value` refuses turning
    // cancel_store_to_tiktok on before a reason code is set: so the reason goes first, whatever
    // order the file lists them in.
    entries.sort_by_key(|(key, ..)| *key != SettingKey::DefaultCancelReason);
    for (key, text, key_span, value_span) in entries {
        // When the store is unknown (reported already), keys that mean the same on every
        // platform can still be judged; the others wait until the store is fixed.
        let Some(platform) = platform.or_else(|| {
            Platform::STORES
                .iter()
                .all(|p| key.applies_to(*p))
                .then_some(Platform::Shopify)
        }) else {
            continue;
        };
        let at = if key.applies_to(platform) {
            value_span
        } else {
            key_span
        };
        match settings.with_value(key, &text, platform) {
            Ok(next) => settings = next,
            Err(e) => ld.error(&at, format!("{label}: {e}")),
        }
    }
    // Carriers last and in place: each is checked on its own (the map exists on every
    // platform), so thousands of them cost no more than reading them.
    for (carrier, provider, at) in carriers {
        if let Err(e) = settings.add_carrier(carrier, provider) {
            ld.error(&at, format!("{label}: {e}"));
        }
    }
    settings
}
