//! The per-link settings form as data. The form edits a draft copy of the link's settings;
//! every change goes through `LinkSettings::with_value`, so a refused value never reaches the
//! draft and the refusal (with its why) is shown inline. Which fields exist depends on the
//! link's platform (`SettingKey::applies_to`): an Amazon link has no store → TikTok section.

use tui_input::Input;

use crate::domain::ids::LinkId;
use crate::domain::platform::Platform;
use crate::domain::settings::{
    FulfillmentPolicy, InventoryBehaviour, KNOWN_SELLER_CANCEL_REASONS, LinkSettings, SettingKey,
    ShippingSpeed,
};
use crate::service::api::SettingsView;

/// Shown in the cancel reason choice list for "no reason set".
pub const NO_REASON: &str = "(none)";

/// One selectable line of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormRow {
    Field(SettingKey),
    Mapping { carrier: String, provider: String },
    AddMapping,
}

impl FormRow {
    /// The heading the row sits under.
    pub fn section(&self) -> &'static str {
        match self {
            FormRow::Field(SettingKey::ImportOrders | SettingKey::InventoryBehaviour) => "Import",
            FormRow::Field(
                SettingKey::ShippingSpeed
                | SettingKey::FulfillmentPolicy
                | SettingKey::BlockAmazonLogistics,
            ) => "Amazon fulfillment orders",
            FormRow::Field(SettingKey::SyncTracking | SettingKey::MissingTrackingAfter) => {
                "Tracking"
            }
            FormRow::Field(SettingKey::CancelTiktokToStore | SettingKey::RestockOnCancel) => {
                "Cancellations: TikTok → store"
            }
            FormRow::Field(SettingKey::CancelStoreToTiktok | SettingKey::DefaultCancelReason) => {
                "Cancellations: store → TikTok"
            }
            FormRow::Field(SettingKey::CarrierMap)
            | FormRow::Mapping { .. }
            | FormRow::AddMapping => "Carrier mapping: store carrier → TikTok provider",
        }
    }
}

/// The form's rows for a link to `platform`, section by section.
pub fn rows(platform: Platform, settings: &LinkSettings) -> Vec<FormRow> {
    use SettingKey::*;
    let mut rows: Vec<FormRow> = [
        ImportOrders,
        InventoryBehaviour,
        ShippingSpeed,
        FulfillmentPolicy,
        BlockAmazonLogistics,
        SyncTracking,
        MissingTrackingAfter,
        CancelTiktokToStore,
        RestockOnCancel,
        CancelStoreToTiktok,
        DefaultCancelReason,
    ]
    .into_iter()
    .filter(|k| k.applies_to(platform))
    .map(FormRow::Field)
    .collect();
    rows.extend(settings.carrier_map.iter().map(|(c, p)| FormRow::Mapping {
        carrier: c.clone(),
        provider: p.clone(),
    }));
    rows.push(FormRow::AddMapping);
    rows
}

/// How a field is edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Toggle,
    Text,
    Choice(Vec<String>),
}

pub fn kind(key: SettingKey, current: &LinkSettings) -> FieldKind {
    match key {
        SettingKey::MissingTrackingAfter | SettingKey::CarrierMap => FieldKind::Text,
        SettingKey::DefaultCancelReason => {
            let mut options = vec![NO_REASON.to_string()];
            options.extend(KNOWN_SELLER_CANCEL_REASONS.iter().map(|r| r.to_string()));
            // A code set elsewhere (another market's) stays choosable.
            if let Some(code) = &current.default_cancel_reason
                && !options.contains(code)
            {
                options.push(code.clone());
            }
            FieldKind::Choice(options)
        }
        SettingKey::InventoryBehaviour => choices(&InventoryBehaviour::ALL, |b| b.as_wire()),
        SettingKey::ShippingSpeed => choices(&ShippingSpeed::ALL, |s| s.as_wire()),
        SettingKey::FulfillmentPolicy => choices(&FulfillmentPolicy::ALL, |p| p.as_wire()),
        _ => FieldKind::Toggle,
    }
}

/// A choice list of a setting's fixed values, as `with_value` takes them.
fn choices<T: Copy>(all: &[T], spelling: impl Fn(T) -> &'static str) -> FieldKind {
    FieldKind::Choice(all.iter().map(|c| spelling(*c).to_string()).collect())
}

/// An edit in progress.
#[derive(Debug, Clone)]
pub enum Editor {
    Text {
        key: SettingKey,
        input: Input,
    },
    /// A carrier mapping typed as `STORE CARRIER=TIKTOK PROVIDER`; `original` is the carrier
    /// being edited (None when adding).
    Mapping {
        original: Option<String>,
        input: Input,
    },
    Choice {
        key: SettingKey,
        options: Vec<String>,
        selected: usize,
    },
}

#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    pub link: Option<LinkId>,
    /// The service's copy.
    pub loaded: Option<SettingsView>,
    /// The edited copy; `None` while nothing differs.
    pub draft: Option<LinkSettings>,
    pub selected: usize,
    pub editor: Option<Editor>,
    /// The last refusal, shown under the form.
    pub error: Option<String>,
    pub waiting_for: Option<u64>,
}

impl SettingsForm {
    /// The settings as the form shows them (the draft if any).
    pub fn current(&self) -> Option<&LinkSettings> {
        self.draft
            .as_ref()
            .or(self.loaded.as_ref().map(|v| &v.settings))
    }

    pub fn rows(&self) -> Vec<FormRow> {
        match (&self.loaded, self.current()) {
            (Some(view), Some(current)) => rows(view.platform, current),
            _ => Vec::new(),
        }
    }

    pub fn selected_row(&self) -> Option<FormRow> {
        self.rows().into_iter().nth(self.selected)
    }

    /// Unsaved changes: (key, before, after).
    pub fn changes(&self) -> Vec<(SettingKey, String, String)> {
        match (&self.loaded, &self.draft) {
            (Some(view), Some(draft)) => view.settings.diff(draft),
            _ => Vec::new(),
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.rows().len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Applies `value` to `key` through the domain's validation; a refusal is kept to show.
    pub fn apply(&mut self, key: SettingKey, value: &str) -> Result<(), String> {
        let (Some(view), Some(current)) = (&self.loaded, self.current()) else {
            return Err("the settings have not arrived yet".into());
        };
        let next = current
            .with_value(key, value, view.platform)
            .map_err(|e| e.to_string())?;
        self.set_draft(next);
        Ok(())
    }

    /// Replaces (or adds) a carrier mapping as one change, so a refusal leaves nothing half done.
    pub fn apply_mapping(&mut self, original: Option<&str>, text: &str) -> Result<(), String> {
        let (Some(view), Some(current)) = (&self.loaded, self.current()) else {
            return Err("the settings have not arrived yet".into());
        };
        let platform = view.platform;
        let carrier = text.split_once('=').map(|(c, _)| c.trim());
        if let Some((_, provider)) = text.split_once('=') {
            check_provider(provider.trim(), &view.providers)?;
        }
        let mut next = current.clone();
        if let Some(original) = original
            && carrier != Some(original)
        {
            next = next
                .with_value(SettingKey::CarrierMap, &format!("{original}="), platform)
                .map_err(|e| e.to_string())?;
        }
        let next = next
            .with_value(SettingKey::CarrierMap, text, platform)
            .map_err(|e| e.to_string())?;
        self.set_draft(next);
        // Stay on the mapping just written (its row moved if the carrier changed or is new).
        if let Some(carrier) = carrier {
            let rows = self.rows();
            let at = rows
                .iter()
                .position(|r| matches!(r, FormRow::Mapping { carrier: c, .. } if c == carrier));
            self.selected = at.unwrap_or(self.selected);
        }
        Ok(())
    }

    /// Tab in a carrier mapping: the TikTok provider after `=` completed from the shop's list,
    /// or, when it already names one, the next (or previous) one.
    pub fn complete_provider(&self, text: &str, forward: bool) -> Option<String> {
        let providers = &self.loaded.as_ref()?.providers;
        let (carrier, typed) = text.split_once('=').unwrap_or((text, ""));
        let typed = typed.trim();
        let chosen = match providers.iter().position(|p| p == typed) {
            Some(at) if forward => providers.get((at + 1) % providers.len()),
            Some(at) => providers.get((at + providers.len() - 1) % providers.len()),
            None => providers
                .iter()
                .find(|p| p.to_lowercase().starts_with(&typed.to_lowercase())),
        }?;
        Some(format!("{}={chosen}", carrier.trim_end()))
    }

    fn set_draft(&mut self, next: LinkSettings) {
        let same_as_loaded = self.loaded.as_ref().is_some_and(|v| v.settings == next);
        self.draft = (!same_as_loaded).then_some(next);
        self.error = None;
        self.move_by(0);
    }

    /// Takes the service's copy; the draft goes (it was saved, or the link changed).
    pub fn install(&mut self, view: SettingsView) {
        self.link = Some(view.link.clone());
        self.loaded = Some(view);
        self.draft = None;
        self.editor = None;
        self.waiting_for = None;
        self.move_by(0);
    }
}

/// The changes to send for `before` → `after`, as `(key, value)` in the form `with_value`
/// reads: carrier mappings one by one (`NAME=` removes), removals first.
pub fn service_changes(before: &LinkSettings, after: &LinkSettings) -> Vec<(String, String)> {
    let mut changes = Vec::new();
    for (key, _, after_text) in before.diff(after) {
        if key != SettingKey::CarrierMap {
            changes.push((key.name().to_string(), after_text));
            continue;
        }
        let map = key.name().to_string();
        for carrier in before.carrier_map.keys() {
            if !after.carrier_map.contains_key(carrier) {
                changes.push((map.clone(), format!("{carrier}=")));
            }
        }
        for (carrier, provider) in &after.carrier_map {
            if before.carrier_map.get(carrier) != Some(provider) {
                changes.push((map.clone(), format!("{carrier}={provider}")));
            }
        }
    }
    changes
}

/// A mapping must name a provider TikTok lists for the shop, when the list is known (removing
/// a mapping, `CARRIER=`, names none).
fn check_provider(provider: &str, providers: &[String]) -> Result<(), String> {
    if provider.is_empty()
        || providers.is_empty()
        || providers.iter().any(|p| p.eq_ignore_ascii_case(provider))
    {
        return Ok(());
    }
    let near = crate::domain::spelling::closest(provider, providers.iter().map(String::as_str), 3);
    Err(format!(
        "TikTok lists no shipping provider {:?} for this shop; closest: {} (Tab completes)",
        crate::domain::text::sanitize(provider),
        near.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_links_have_no_store_to_tiktok_section() {
        let settings = LinkSettings::default();
        let amazon = rows(Platform::AmazonMcf, &settings);
        let shopify = rows(Platform::Shopify, &settings);
        let has = |rows: &[FormRow], key| rows.contains(&FormRow::Field(key));
        assert!(!has(&amazon, SettingKey::CancelStoreToTiktok));
        assert!(!has(&amazon, SettingKey::DefaultCancelReason));
        assert!(has(&shopify, SettingKey::CancelStoreToTiktok));
        assert!(has(&shopify, SettingKey::InventoryBehaviour));
        assert!(!has(&amazon, SettingKey::InventoryBehaviour));
    }

    #[test]
    fn only_amazon_links_choose_shipping_speed_policy_and_amazon_logistics() {
        let settings = LinkSettings::default();
        let amazon_keys = [
            SettingKey::ShippingSpeed,
            SettingKey::FulfillmentPolicy,
            SettingKey::BlockAmazonLogistics,
        ];
        let amazon = rows(Platform::AmazonMcf, &settings);
        for key in amazon_keys {
            assert!(amazon.contains(&FormRow::Field(key)), "{key}");
            assert_eq!(FormRow::Field(key).section(), "Amazon fulfillment orders");
            for other in [Platform::Shopify, Platform::Bigcommerce] {
                assert!(!rows(other, &settings).contains(&FormRow::Field(key)));
            }
        }
        assert_eq!(
            kind(SettingKey::ShippingSpeed, &settings),
            FieldKind::Choice(vec![
                "Standard".into(),
                "Expedited".into(),
                "Priority".into()
            ])
        );
        assert_eq!(
            kind(SettingKey::FulfillmentPolicy, &settings),
            FieldKind::Choice(vec![
                "FillOrKill".into(),
                "FillAll".into(),
                "FillAllAvailable".into()
            ])
        );
        assert_eq!(
            kind(SettingKey::BlockAmazonLogistics, &settings),
            FieldKind::Toggle
        );
    }

    #[test]
    fn carrier_changes_go_one_mapping_at_a_time() {
        let mut before = LinkSettings::default();
        before.carrier_map.insert("DPD UK".into(), "DPD".into());
        before
            .carrier_map
            .insert("Royal Mail".into(), "Royal Mail".into());
        let mut after = before.clone();
        after.carrier_map.remove("DPD UK");
        after.carrier_map.insert("Evri".into(), "Hermes".into());
        after.missing_tracking_after = std::time::Duration::from_secs(12 * 3600);
        assert_eq!(
            service_changes(&before, &after),
            [
                ("missing_tracking_after".to_string(), "12h".to_string()),
                ("carrier_map".to_string(), "DPD UK=".to_string()),
                ("carrier_map".to_string(), "Evri=Hermes".to_string()),
            ]
        );
    }
}
