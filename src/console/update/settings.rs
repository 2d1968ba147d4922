//! The settings form's actions: choosing the link, moving between fields, editing (toggles,
//! text fields, choice lists, carrier mappings), reverting, and saving — which shows the diff
//! and asks before anything is sent. Editing needs the operator role (checked in `update`).

use tui_input::Input;

use super::lists::load_settings;
use super::navigate::switch_view;
use super::toast;
use crate::console::action::Action;
use crate::console::effect::{Confirm, Effect, Mutation, counted};
use crate::console::settings_form::{Editor, FieldKind, FormRow, NO_REASON, kind, service_changes};
use crate::console::state::{Leave, Overlay, State, View};
use crate::console::theme::Level;
use crate::domain::ids::LinkId;
use crate::domain::settings::SettingKey;

/// Opens the Settings view on `link` (or the link already chosen).
pub fn show_link(state: &mut State, link: Option<LinkId>) -> Vec<Effect> {
    if let Some(link) = link
        && state.settings.link.as_ref() != Some(&link)
    {
        if super::navigate::stopped_by_unsaved(state, Leave::Link(link.clone())) {
            return Vec::new();
        }
        state.settings.link = Some(link);
        state.settings.loaded = None;
        state.settings.selected = 0;
    }
    switch_view(state, View::Settings)
}

pub fn on_form(state: &mut State, action: Action) -> Vec<Effect> {
    if state.view != View::Settings {
        return Vec::new();
    }
    match action {
        Action::PrevLink | Action::NextLink => step_link(state, action == Action::NextLink),
        Action::EditField => edit(state),
        Action::ToggleField => match state.settings.selected_row() {
            Some(FormRow::Field(key)) if kind_of(state, key) == Some(FieldKind::Toggle) => {
                toggle(state, key)
            }
            _ => edit(state),
        },
        Action::DeleteMapping => match state.settings.selected_row() {
            Some(FormRow::Mapping { carrier, .. }) => {
                if let Err(why) = state
                    .settings
                    .apply(SettingKey::CarrierMap, &format!("{carrier}="))
                {
                    state.settings.error = Some(why);
                }
                Vec::new()
            }
            _ => toast(state, Level::Info, "select a carrier mapping to delete"),
        },
        Action::RevertSettings => {
            let dropped = state.settings.changes().len();
            state.settings.draft = None;
            state.settings.error = None;
            if dropped == 0 {
                return Vec::new();
            }
            toast(
                state,
                Level::Info,
                format!("dropped {}", counted(dropped, "change", "changes")),
            )
        }
        Action::SaveSettings => save(state),
        _ => Vec::new(),
    }
}

fn step_link(state: &mut State, forward: bool) -> Vec<Effect> {
    let names = state.link_names();
    if names.is_empty() {
        return Vec::new();
    }
    let current = state
        .settings
        .link
        .as_ref()
        .and_then(|l| names.iter().position(|n| *n == l.as_str()))
        .unwrap_or(0);
    let next = if forward {
        (current + 1) % names.len()
    } else {
        (current + names.len() - 1) % names.len()
    };
    let link = LinkId::new(names[next].as_str()).ok();
    if link == state.settings.link {
        return Vec::new();
    }
    if let Some(next) = &link
        && super::navigate::stopped_by_unsaved(state, Leave::Link(next.clone()))
    {
        return Vec::new();
    }
    state.settings.link = link;
    state.settings.loaded = None;
    state.settings.selected = 0;
    state.settings.error = None;
    load_settings(state)
}

fn kind_of(state: &State, key: SettingKey) -> Option<FieldKind> {
    state.settings.current().map(|current| kind(key, current))
}

/// Refuses to edit a setting the link's store cannot honour, saying what it does instead.
fn refuse_fixed(state: &mut State, key: SettingKey) -> bool {
    let platform = state.settings.loaded.as_ref().map(|v| v.platform);
    match platform.and_then(|p| key.fixed_on(p)) {
        Some(what) => {
            state.settings.error = Some(format!("{key}: {what}; nothing to change"));
            true
        }
        None => false,
    }
}

fn toggle(state: &mut State, key: SettingKey) -> Vec<Effect> {
    if refuse_fixed(state, key) {
        return Vec::new();
    }
    let Some(current) = state.settings.current() else {
        return Vec::new();
    };
    let next = if current.value_text(key) == "on" {
        "off"
    } else {
        "on"
    };
    if let Err(why) = state.settings.apply(key, next) {
        state.settings.error = Some(why);
    }
    Vec::new()
}

fn edit(state: &mut State) -> Vec<Effect> {
    let Some(current) = state.settings.current().cloned() else {
        return Vec::new();
    };
    let editor = match state.settings.selected_row() {
        Some(FormRow::Field(key)) => match kind(key, &current) {
            FieldKind::Toggle => return toggle(state, key),
            FieldKind::Text => Editor::Text {
                key,
                input: Input::new(current.value_text(key)),
            },
            FieldKind::Choice(options) => {
                let value = current.value_text(key);
                let shown = if value.is_empty() {
                    NO_REASON.to_string()
                } else {
                    value
                };
                let selected = options.iter().position(|o| *o == shown).unwrap_or(0);
                Editor::Choice {
                    key,
                    options,
                    selected,
                }
            }
        },
        Some(FormRow::Mapping { carrier, provider }) => Editor::Mapping {
            input: Input::new(format!("{carrier}={provider}")),
            original: Some(carrier),
        },
        Some(FormRow::AddMapping) => Editor::Mapping {
            original: None,
            input: Input::default(),
        },
        None => return Vec::new(),
    };
    state.settings.error = None;
    state.settings.editor = Some(editor);
    Vec::new()
}

fn save(state: &mut State) -> Vec<Effect> {
    let (Some(view), Some(draft)) = (&state.settings.loaded, &state.settings.draft) else {
        return toast(state, Level::Info, "nothing to save");
    };
    let diff = view.settings.diff(draft);
    let changes = service_changes(&view.settings, draft);
    // Carrier mappings are listed one by one, as they will be sent.
    let show = |text: &str| {
        if text.is_empty() {
            "(none)".to_string()
        } else {
            text.to_string()
        }
    };
    let mut details: Vec<String> = diff
        .iter()
        .filter(|(key, _, _)| *key != SettingKey::CarrierMap)
        .map(|(key, before, after)| format!("{key}: {} → {}", show(before), show(after)))
        .collect();
    details.extend(
        changes
            .iter()
            .filter(|(key, _)| key == SettingKey::CarrierMap.name())
            .map(|(_, value)| match value.strip_suffix('=') {
                Some(carrier) => format!("carrier_map: remove {carrier}"),
                None => format!("carrier_map: set {}", value.replacen('=', " → ", 1)),
            }),
    );
    let count = details.len();
    let link = view.link.clone();
    let question = format!(
        "Save {} to {link} (version {})?",
        counted(count, "change", "changes"),
        view.version
    );
    let mutation = Mutation::SaveSettings {
        link,
        changes,
        version: view.version,
    };
    state.overlay = Some(Overlay::Confirm(Confirm::new(
        "Save settings",
        question,
        details,
        mutation,
    )));
    Vec::new()
}
