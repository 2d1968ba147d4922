//! Per-link settings: the operational switches an operator edits live (stored in sled,
//! versioned and audited), as opposed to `orderdeck.toml`, which holds connections.
//! Every refusal explains itself and names the key at fault.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::platform::{Platform, RestockControl};
use super::text;

/// Shopify's `OrderCreateOptionsInput.inventoryBehaviour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InventoryBehaviour {
    Bypass,
    DecrementIgnoringPolicy,
    DecrementObeyingPolicy,
}

impl InventoryBehaviour {
    pub const ALL: [InventoryBehaviour; 3] = [
        InventoryBehaviour::Bypass,
        InventoryBehaviour::DecrementIgnoringPolicy,
        InventoryBehaviour::DecrementObeyingPolicy,
    ];

    pub fn as_wire(self) -> &'static str {
        match self {
            InventoryBehaviour::Bypass => "BYPASS",
            InventoryBehaviour::DecrementIgnoringPolicy => "DECREMENT_IGNORING_POLICY",
            InventoryBehaviour::DecrementObeyingPolicy => "DECREMENT_OBEYING_POLICY",
        }
    }
}

/// Amazon MCF `shippingSpeedCategory` of the fulfillment orders a link creates.
/// `ScheduledDelivery` is Japan-only and never offered for TikTok orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ShippingSpeed {
    #[default]
    Standard,
    Expedited,
    Priority,
}

impl ShippingSpeed {
    pub const ALL: [ShippingSpeed; 3] = [
        ShippingSpeed::Standard,
        ShippingSpeed::Expedited,
        ShippingSpeed::Priority,
    ];

    pub fn as_wire(self) -> &'static str {
        match self {
            ShippingSpeed::Standard => "Standard",
            ShippingSpeed::Expedited => "Expedited",
            ShippingSpeed::Priority => "Priority",
        }
    }
}

/// Amazon MCF `fulfillmentPolicy`: what Amazon does when some units cannot be fulfilled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FulfillmentPolicy {
    /// Amazon's default: nothing ships unless everything can.
    #[default]
    FillOrKill,
    /// Ships what it can now and the rest when it can.
    FillAll,
    /// Ships what it can and cancels the rest.
    FillAllAvailable,
}

impl FulfillmentPolicy {
    pub const ALL: [FulfillmentPolicy; 3] = [
        FulfillmentPolicy::FillOrKill,
        FulfillmentPolicy::FillAll,
        FulfillmentPolicy::FillAllAvailable,
    ];

    pub fn as_wire(self) -> &'static str {
        match self {
            FulfillmentPolicy::FillOrKill => "FillOrKill",
            FulfillmentPolicy::FillAll => "FillAll",
            FulfillmentPolicy::FillAllAvailable => "FillAllAvailable",
        }
    }
}

/// What an Amazon MCF link asks of every fulfillment order it creates (its settings, carried
/// by the draft so the connector needs no settings of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AmazonOrderOptions {
    pub shipping_speed: ShippingSpeed,
    pub fulfillment_policy: FulfillmentPolicy,
    /// Ask Amazon not to deliver with Amazon Logistics (`BLOCK_AMZL`), whose tracking a
    /// TikTok shop may not take.
    pub block_amazon_logistics: bool,
}

/// TikTok seller cancel reason codes offered in the console's choice list. Others that follow
/// TikTok's `seller_cancel_` naming are accepted too (codes differ by market).
pub const KNOWN_SELLER_CANCEL_REASONS: &[&str] = &[
    "seller_cancel_reason_out_of_stock",
    "seller_cancel_reason_wrong_price",
    "seller_cancel_paid_reason_address_not_deliver",
    "seller_cancel_paid_reason_buyer_requested_cancellation",
    "seller_cancel_reason_out_of_stock_uk",
    "seller_cancel_reason_wrong_price_uk",
    "seller_cancel_paid_reason_address_not_deliver_uk",
    "seller_cancel_paid_reason_buyer_requested_cancellation_uk",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSettings {
    pub import_orders: bool,
    pub sync_tracking: bool,
    pub cancel_tiktok_to_store: bool,
    pub restock_on_cancel: bool,
    pub cancel_store_to_tiktok: bool,
    pub default_cancel_reason: Option<String>,
    #[serde(with = "humantime_serde_compat")]
    pub missing_tracking_after: Duration,
    /// Store carrier name → TikTok shipping provider (name or id), checked before TikTok's list.
    pub carrier_map: BTreeMap<String, String>,
    pub inventory_behaviour: InventoryBehaviour,
    /// Amazon MCF links only; records stored before these existed read as the defaults.
    pub shipping_speed: ShippingSpeed,
    pub fulfillment_policy: FulfillmentPolicy,
    pub block_amazon_logistics: bool,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings {
            import_orders: true,
            sync_tracking: true,
            cancel_tiktok_to_store: true,
            restock_on_cancel: true,
            cancel_store_to_tiktok: false,
            default_cancel_reason: None,
            missing_tracking_after: Duration::from_secs(24 * 3600),
            carrier_map: BTreeMap::new(),
            inventory_behaviour: InventoryBehaviour::DecrementObeyingPolicy,
            shipping_speed: ShippingSpeed::default(),
            fulfillment_policy: FulfillmentPolicy::default(),
            block_amazon_logistics: false,
        }
    }
}

/// The user-facing keys, in the order forms and `settings show` list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SettingKey {
    ImportOrders,
    SyncTracking,
    CancelTiktokToStore,
    RestockOnCancel,
    CancelStoreToTiktok,
    DefaultCancelReason,
    MissingTrackingAfter,
    CarrierMap,
    InventoryBehaviour,
    ShippingSpeed,
    FulfillmentPolicy,
    BlockAmazonLogistics,
}

impl SettingKey {
    pub const ALL: [SettingKey; 12] = [
        SettingKey::ImportOrders,
        SettingKey::SyncTracking,
        SettingKey::CancelTiktokToStore,
        SettingKey::RestockOnCancel,
        SettingKey::CancelStoreToTiktok,
        SettingKey::DefaultCancelReason,
        SettingKey::MissingTrackingAfter,
        SettingKey::CarrierMap,
        SettingKey::InventoryBehaviour,
        SettingKey::ShippingSpeed,
        SettingKey::FulfillmentPolicy,
        SettingKey::BlockAmazonLogistics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SettingKey::ImportOrders => "import_orders",
            SettingKey::SyncTracking => "sync_tracking",
            SettingKey::CancelTiktokToStore => "cancel_tiktok_to_store",
            SettingKey::RestockOnCancel => "restock_on_cancel",
            SettingKey::CancelStoreToTiktok => "cancel_store_to_tiktok",
            SettingKey::DefaultCancelReason => "default_cancel_reason",
            SettingKey::MissingTrackingAfter => "missing_tracking_after",
            SettingKey::CarrierMap => "carrier_map",
            SettingKey::InventoryBehaviour => "inventory_behaviour",
            SettingKey::ShippingSpeed => "shipping_speed",
            SettingKey::FulfillmentPolicy => "fulfillment_policy",
            SettingKey::BlockAmazonLogistics => "block_amazon_logistics",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            SettingKey::ImportOrders => "Create paid TikTok orders in the store",
            SettingKey::SyncTracking => {
                "Push the store's tracking numbers to TikTok (seller-shipped orders)"
            }
            SettingKey::CancelTiktokToStore => "Cancel the store order when TikTok cancels",
            SettingKey::RestockOnCancel => "Put stock back when orderdeck cancels a store order",
            SettingKey::CancelStoreToTiktok => {
                "Cancel the TikTok order when the store order is cancelled"
            }
            SettingKey::DefaultCancelReason => {
                "TikTok seller reason code used for store → TikTok cancels"
            }
            SettingKey::MissingTrackingAfter => {
                "List an order as missing tracking this long after payment"
            }
            SettingKey::CarrierMap => {
                "Store carrier name → TikTok shipping provider (NAME=PROVIDER)"
            }
            SettingKey::InventoryBehaviour => "Shopify stock handling for created orders",
            SettingKey::ShippingSpeed => {
                "Amazon shipping speed of created fulfillment orders (Standard, Expedited, Priority)"
            }
            SettingKey::FulfillmentPolicy => {
                "What Amazon does when not every unit can ship (FillOrKill, FillAll, FillAllAvailable)"
            }
            SettingKey::BlockAmazonLogistics => {
                "Ask Amazon not to deliver with Amazon Logistics (BLOCK_AMZL; Amazon charges extra)"
            }
        }
    }

    pub fn parse(name: &str) -> Result<SettingKey, SettingsError> {
        SettingKey::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| SettingsError::UnknownKey {
                key: text::sanitize(name),
            })
    }

    /// What the platform does whatever this key says, when it cannot honour the key: shown in
    /// place of the value, and no toggle is offered (WooCommerce restocks on every cancel; its
    /// API has no way not to).
    pub fn fixed_on(self, platform: Platform) -> Option<String> {
        match self {
            SettingKey::RestockOnCancel
                if platform.capabilities().restock == RestockControl::Automatic =>
            {
                Some(format!(
                    "always ({})",
                    super::rules::cancel::restock_explanation(platform, true, false)
                ))
            }
            // BigCommerce has no per-cancel choice: its inventory settings decide for the store.
            SettingKey::RestockOnCancel
                if platform.capabilities().restock == RestockControl::StoreSetting =>
            {
                Some(format!(
                    "store-wide ({}: Settings → Inventory in BigCommerce)",
                    super::rules::cancel::restock_explanation(platform, true, false)
                ))
            }
            _ => None,
        }
    }

    /// Keys that exist for a link to this store platform. Amazon has no store → TikTok section;
    /// `inventory_behaviour` is a Shopify option.
    pub fn applies_to(self, platform: Platform) -> bool {
        match self {
            SettingKey::CancelStoreToTiktok | SettingKey::DefaultCancelReason => {
                platform.supports_store_to_tiktok()
            }
            SettingKey::InventoryBehaviour => platform == Platform::Shopify,
            SettingKey::ShippingSpeed
            | SettingKey::FulfillmentPolicy
            | SettingKey::BlockAmazonLogistics => platform == Platform::AmazonMcf,
            _ => true,
        }
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown setting {key:?}; known settings: {}", known_key_names())]
    UnknownKey { key: String },
    #[error("{key}: {why}")]
    Refused { key: SettingKey, why: String },
}

fn known_key_names() -> String {
    SettingKey::ALL.map(SettingKey::name).join(", ")
}

impl SettingsError {
    fn refused(key: SettingKey, why: impl Into<String>) -> Self {
        SettingsError::Refused {
            key,
            why: why.into(),
        }
    }

    pub fn key(&self) -> Option<SettingKey> {
        match self {
            SettingsError::Refused { key, .. } => Some(*key),
            SettingsError::UnknownKey { .. } => None,
        }
    }
}

const MIN_MISSING_TRACKING: Duration = Duration::from_secs(3600);
const MAX_MISSING_TRACKING: Duration = Duration::from_secs(30 * 86_400);
const MAX_CARRIER_NAME: usize = 100;

impl LinkSettings {
    /// Every problem with these settings for a link to `platform`, each naming its key.
    pub fn validate(&self, platform: Platform) -> Vec<SettingsError> {
        use SettingKey::*;
        let mut problems = Vec::new();
        if self.cancel_store_to_tiktok && !platform.supports_store_to_tiktok() {
            problems.push(SettingsError::refused(
                CancelStoreToTiktok,
                format!("{platform} links sync cancellations TikTok → store only; this setting does not exist for them"),
            ));
        }
        if platform.supports_store_to_tiktok() {
            match &self.default_cancel_reason {
                Some(code) => {
                    if let Err(why) = check_reason_code(code) {
                        problems.push(SettingsError::refused(DefaultCancelReason, why));
                    }
                }
                None if self.cancel_store_to_tiktok => problems.push(SettingsError::refused(
                    CancelStoreToTiktok,
                    "cannot be turned on until default_cancel_reason holds a TikTok seller cancel reason code, e.g. seller_cancel_reason_out_of_stock",
                )),
                None => {}
            }
        } else if self.default_cancel_reason.is_some() {
            problems.push(SettingsError::refused(
                DefaultCancelReason,
                format!("{platform} links have no store → TikTok cancellation, so no reason code"),
            ));
        }
        if self.missing_tracking_after < MIN_MISSING_TRACKING
            || self.missing_tracking_after > MAX_MISSING_TRACKING
        {
            problems.push(SettingsError::refused(
                MissingTrackingAfter,
                format!(
                    "{} is out of range; use between 1h and 30d",
                    humantime::format_duration(self.missing_tracking_after)
                ),
            ));
        }
        for (store_carrier, provider) in &self.carrier_map {
            if let Err(why) = check_carrier_entry(store_carrier, provider) {
                problems.push(SettingsError::refused(CarrierMap, why));
            }
        }
        let defaults = LinkSettings::default();
        if self.inventory_behaviour != defaults.inventory_behaviour && platform != Platform::Shopify
        {
            problems.push(SettingsError::refused(
                InventoryBehaviour,
                format!("applies to Shopify links only, not {platform}"),
            ));
        }
        if platform != Platform::AmazonMcf {
            for (key, changed) in [
                (
                    ShippingSpeed,
                    self.shipping_speed != defaults.shipping_speed,
                ),
                (
                    FulfillmentPolicy,
                    self.fulfillment_policy != defaults.fulfillment_policy,
                ),
                (
                    BlockAmazonLogistics,
                    self.block_amazon_logistics != defaults.block_amazon_logistics,
                ),
            ] {
                if changed {
                    problems.push(SettingsError::refused(
                        key,
                        format!("applies to Amazon MCF links only, not {platform}"),
                    ));
                }
            }
        }
        problems
    }

    /// Sets one key from text (as typed on the command line or in a form) and checks the result
    /// as a whole. Returns the new settings; `self` is untouched on refusal.
    pub fn with_value(
        &self,
        key: SettingKey,
        value: &str,
        platform: Platform,
    ) -> Result<LinkSettings, SettingsError> {
        if !key.applies_to(platform) {
            return Err(SettingsError::refused(
                key,
                format!("this setting does not exist for {platform} links"),
            ));
        }
        let mut next = self.clone();
        let value = value.trim();
        match key {
            SettingKey::ImportOrders => next.import_orders = parse_bool(key, value)?,
            SettingKey::SyncTracking => next.sync_tracking = parse_bool(key, value)?,
            SettingKey::CancelTiktokToStore => {
                next.cancel_tiktok_to_store = parse_bool(key, value)?
            }
            SettingKey::RestockOnCancel => next.restock_on_cancel = parse_bool(key, value)?,
            SettingKey::CancelStoreToTiktok => {
                next.cancel_store_to_tiktok = parse_bool(key, value)?
            }
            SettingKey::DefaultCancelReason => {
                next.default_cancel_reason = if value.is_empty() {
                    None
                } else {
                    Some(value.to_string())
                };
                if next.default_cancel_reason.is_none() && next.cancel_store_to_tiktok {
                    return Err(SettingsError::refused(
                        key,
                        "cannot be cleared while cancel_store_to_tiktok is on; turn that off first",
                    ));
                }
            }
            SettingKey::MissingTrackingAfter => {
                next.missing_tracking_after = humantime::parse_duration(value).map_err(|e| {
                    SettingsError::refused(
                        key,
                        format!(
                            "{:?} is not a duration ({e}); write e.g. 24h, 90m, 2d",
                            text::sanitize(value)
                        ),
                    )
                })?;
            }
            SettingKey::CarrierMap => {
                let (carrier, provider) = value.split_once('=').ok_or_else(|| {
                    SettingsError::refused(key, "write STORE CARRIER=TIKTOK PROVIDER to add a mapping, or STORE CARRIER= to remove one")
                })?;
                let (carrier, provider) = (carrier.trim(), provider.trim());
                if provider.is_empty() {
                    if next.carrier_map.remove(carrier).is_none() {
                        return Err(SettingsError::refused(
                            key,
                            format!(
                                "no mapping for carrier {:?} to remove",
                                text::sanitize(carrier)
                            ),
                        ));
                    }
                } else {
                    check_carrier_entry(carrier, provider)
                        .map_err(|why| SettingsError::refused(key, why))?;
                    next.carrier_map
                        .insert(carrier.to_string(), provider.to_string());
                }
            }
            SettingKey::InventoryBehaviour => {
                next.inventory_behaviour = parse_choice(
                    key,
                    value,
                    &InventoryBehaviour::ALL,
                    InventoryBehaviour::as_wire,
                )?;
            }
            SettingKey::ShippingSpeed => {
                next.shipping_speed =
                    parse_choice(key, value, &ShippingSpeed::ALL, ShippingSpeed::as_wire)?;
            }
            SettingKey::FulfillmentPolicy => {
                next.fulfillment_policy = parse_choice(
                    key,
                    value,
                    &FulfillmentPolicy::ALL,
                    FulfillmentPolicy::as_wire,
                )?;
            }
            SettingKey::BlockAmazonLogistics => {
                next.block_amazon_logistics = parse_bool(key, value)?;
            }
        }
        match next.validate(platform).into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(next),
        }
    }

    /// Adds (or replaces) one `carrier_map` entry in place, checked on its own. For loading a
    /// whole map: `with_value` clones and revalidates every setting per call, which makes
    /// thousands of entries quadratic. The names are trimmed as `with_value` trims them, and a
    /// carrier name with `=` is refused, since `NAME=PROVIDER` could not spell it.
    pub fn add_carrier(&mut self, carrier: &str, provider: &str) -> Result<(), SettingsError> {
        let (carrier, provider) = (carrier.trim(), provider.trim());
        if carrier.contains('=') {
            return Err(SettingsError::refused(
                SettingKey::CarrierMap,
                format!(
                    "store carrier name {:?} contains \"=\", which separates carrier and provider",
                    text::sanitize(carrier)
                ),
            ));
        }
        check_carrier_entry(carrier, provider)
            .map_err(|why| SettingsError::refused(SettingKey::CarrierMap, why))?;
        self.carrier_map
            .insert(carrier.to_string(), provider.to_string());
        Ok(())
    }

    /// The value of one key as text, in the form `with_value` accepts.
    pub fn value_text(&self, key: SettingKey) -> String {
        let on_off = |b: bool| if b { "on" } else { "off" }.to_string();
        match key {
            SettingKey::ImportOrders => on_off(self.import_orders),
            SettingKey::SyncTracking => on_off(self.sync_tracking),
            SettingKey::CancelTiktokToStore => on_off(self.cancel_tiktok_to_store),
            SettingKey::RestockOnCancel => on_off(self.restock_on_cancel),
            SettingKey::CancelStoreToTiktok => on_off(self.cancel_store_to_tiktok),
            SettingKey::DefaultCancelReason => {
                self.default_cancel_reason.clone().unwrap_or_default()
            }
            SettingKey::MissingTrackingAfter => {
                humantime::format_duration(self.missing_tracking_after).to_string()
            }
            SettingKey::CarrierMap => self
                .carrier_map
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            SettingKey::InventoryBehaviour => self.inventory_behaviour.as_wire().to_string(),
            SettingKey::ShippingSpeed => self.shipping_speed.as_wire().to_string(),
            SettingKey::FulfillmentPolicy => self.fulfillment_policy.as_wire().to_string(),
            SettingKey::BlockAmazonLogistics => on_off(self.block_amazon_logistics),
        }
    }

    /// What an Amazon link's fulfillment orders ask of Amazon.
    pub fn amazon_order_options(&self) -> AmazonOrderOptions {
        AmazonOrderOptions {
            shipping_speed: self.shipping_speed,
            fulfillment_policy: self.fulfillment_policy,
            block_amazon_logistics: self.block_amazon_logistics,
        }
    }

    /// The keys whose values differ, with before and after as text (for confirmation and audit).
    pub fn diff(&self, after: &LinkSettings) -> Vec<(SettingKey, String, String)> {
        SettingKey::ALL
            .into_iter()
            .map(|k| (k, self.value_text(k), after.value_text(k)))
            .filter(|(_, before, after)| before != after)
            .collect()
    }
}

fn parse_bool(key: SettingKey, value: &str) -> Result<bool, SettingsError> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(SettingsError::refused(
            key,
            format!(
                "{:?} is not on/off (also accepted: true/false, yes/no)",
                text::sanitize(value)
            ),
        )),
    }
}

/// One of a setting's fixed values, as its wire spelling says it (case ignored), or a refusal
/// listing them all.
fn parse_choice<T: Copy>(
    key: SettingKey,
    value: &str,
    choices: &[T],
    spelling: impl Fn(T) -> &'static str,
) -> Result<T, SettingsError> {
    choices
        .iter()
        .copied()
        .find(|c| spelling(*c).eq_ignore_ascii_case(value))
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|c| spelling(*c)).collect();
            SettingsError::refused(
                key,
                format!(
                    "{:?} is not one of {}",
                    text::sanitize(value),
                    names.join(", ")
                ),
            )
        })
}

/// TikTok seller cancel reasons are lower-case codes starting `seller_cancel_`.
pub fn check_reason_code(code: &str) -> Result<(), String> {
    let well_formed = code.starts_with("seller_cancel_")
        && code.len() <= 100
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a TikTok seller cancel reason code (they look like seller_cancel_reason_out_of_stock)",
            text::sanitize(code)
        ))
    }
}

fn check_carrier_entry(carrier: &str, provider: &str) -> Result<(), String> {
    for (what, value) in [("store carrier", carrier), ("TikTok provider", provider)] {
        if value.trim().is_empty() {
            return Err(format!("{what} name is empty"));
        }
        if value.chars().count() > MAX_CARRIER_NAME {
            return Err(format!(
                "{what} name is longer than {MAX_CARRIER_NAME} characters"
            ));
        }
        if text::needs_sanitizing(value) {
            return Err(format!(
                "{what} name {:?} contains control characters",
                text::sanitize(value)
            ));
        }
    }
    Ok(())
}

/// Durations as humantime text (`"24h"`) in stored JSON and TOML.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!("{text:?} is not a duration ({e}); write e.g. 24h"))
        })
    }
}

#[cfg(test)]
mod tests;
