//! The reducer: the only code that changes a [`State`]. A key becomes an [`Action`] through the
//! live keymap ([`handle_key`]); [`update`] applies an action and [`receive`] applies anything
//! else (answers, notifications, timers), each returning the [`Effect`]s to run. Role gating
//! happens here, once, before any action runs: an action the role may not take does nothing
//! but say why. Writes never leave without a confirmation (see `effect::Mutation`).

mod find;
mod input;
mod lists;
mod mouse;
mod mutate;
mod navigate;
mod receive;
mod settings;

use ratatui::crossterm::event::KeyEvent;

use super::action::{Action, Scope};
use super::effect::{Effect, Event};
use super::keymap::Resolution;
use super::keys::{Key, KeyName, split_unbound_alt};
use super::state::{MESSAGES_KEPT, Message, Overlay, State, Toast, View};
use super::theme::Level;
use crate::domain::order::ShippingType;

pub use input::paste;
pub use lists::load_view;
pub use receive::receive;

/// How long a message that is not an error stays.
const TOAST_SECONDS: u64 = 5;

/// The first requests: the overview (tab counts, links) and the view shown.
pub fn start(state: &mut State) -> Vec<Effect> {
    if !state.problems.is_empty() {
        state.overlay = Some(Overlay::Problems { scroll: 0 });
    }
    let mut effects = lists::load_overview(state);
    effects.extend(load_view(state));
    effects
}

/// Where keys are looked up now, most specific scope first.
pub fn chain(state: &State) -> &'static [Scope] {
    match &state.overlay {
        Some(Overlay::Confirm(confirm)) if confirm.typed.is_some() => {
            return Scope::CHAIN_INPUT;
        }
        Some(Overlay::Confirm(_) | Overlay::Unsaved { .. }) => return Scope::CHAIN_CONFIRM,
        Some(Overlay::Prompt(_)) => return Scope::CHAIN_INPUT,
        Some(
            Overlay::Help { .. }
            | Overlay::Problems { .. }
            | Overlay::Row { .. }
            | Overlay::Messages { .. }
            | Overlay::Targets { .. },
        ) => return Scope::CHAIN_LIST,
        None => {}
    }
    if state.line.is_some() || (state.view == View::Settings && state.settings.editor.is_some()) {
        return Scope::CHAIN_INPUT;
    }
    if state.detail.is_some() {
        return Scope::CHAIN_DETAIL;
    }
    state.view.chain()
}

/// A key press: resolved through the keymap (chords included); keys no binding claims are
/// typed into whatever text is being edited. An Alt chord nothing binds is Esc and then the
/// key (see `keys::split_unbound_alt`): over a laggy link the two arrive together.
pub fn handle_key(state: &mut State, event: &KeyEvent) -> Vec<Effect> {
    state.revision += 1;
    let Some(key) = Key::from_event(event) else {
        return Vec::new();
    };
    let chain = chain(state);
    let with_typed = |key: Key| -> Vec<Key> {
        let mut keys = state.typed.clone();
        keys.push(key);
        keys
    };
    let split = split_unbound_alt(key, |k| {
        state.keymap.resolve(chain, &with_typed(*k)) != Resolution::Unbound
    });
    if let [esc, plain] = split.as_slice() {
        let mut effects = press(
            state,
            *esc,
            &KeyEvent::from(ratatui::crossterm::event::KeyCode::Esc),
        );
        let mut event = *event;
        event
            .modifiers
            .remove(ratatui::crossterm::event::KeyModifiers::ALT);
        effects.extend(press(state, *plain, &event));
        return effects;
    }
    press(state, key, event)
}

/// One key, resolved along the current chain.
fn press(state: &mut State, key: Key, event: &KeyEvent) -> Vec<Effect> {
    let chain = chain(state);
    let mut typed = std::mem::take(&mut state.typed);
    let chord_was_pending = !typed.is_empty();
    typed.push(key);
    match state.keymap.resolve(chain, &typed) {
        Resolution::Action(action) => update(state, action),
        Resolution::Pending => {
            state.typed = typed;
            Vec::new()
        }
        // Esc only abandons the chord; any other key that breaks a chord counts on its own.
        Resolution::Unbound if chord_was_pending && key.name == KeyName::Esc => Vec::new(),
        Resolution::Unbound if chord_was_pending => handle_key(state, event),
        Resolution::Unbound => input::type_key(state, event),
    }
}

/// Applies one action.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    state.revision += 1;
    // Whatever came after an enter typed ahead of the rows takes its place.
    state.open_when_shown = None;
    if let Some(permission) = action.permission()
        && !state.session.may(permission)
    {
        let why = state.session.refusal(permission);
        return toast(state, Level::Warning, why);
    }
    if state.overlay.is_some() {
        return navigate::on_overlay(state, action);
    }
    if state.line.is_some() || (state.view == View::Settings && state.settings.editor.is_some()) {
        return input::on_text(state, action);
    }
    use Action::*;
    match action {
        Quit => navigate::quit(state),
        Suspend => vec![Effect::Suspend],
        Messages => {
            state.overlay = Some(Overlay::Messages { scroll: 0 });
            Vec::new()
        }
        Help => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        Back => navigate::back(state),
        CommandMode => input::open_command(state),
        ViewStores => navigate::switch_view(state, View::Stores),
        ViewPending => navigate::switch_view(state, View::Pending),
        ViewMissing => navigate::switch_view(state, View::Missing),
        ViewStuck => navigate::switch_view(state, View::Stuck),
        ViewCancellations => navigate::switch_view(state, View::Cancellations),
        ViewApprovals => navigate::switch_view(state, View::Approvals),
        ViewActivity => navigate::switch_view(state, View::Activity),
        ViewSettings => navigate::switch_view(state, View::Settings),
        ViewOrders => navigate::switch_view(state, View::Orders),
        NextView | PrevView => {
            let step = if action == NextView {
                1
            } else {
                View::ALL.len() - 1
            };
            let next = View::ALL[(state.view.index() + step) % View::ALL.len()];
            navigate::switch_view(state, next)
        }
        Refresh => navigate::refresh(state),
        Redraw => vec![Effect::Redraw],
        DismissToasts => {
            state.toasts.clear();
            Vec::new()
        }
        Up | Down | PageUp | PageDown | Top | Bottom => navigate::motion(state, action),
        Filter => input::open_filter(state),
        ToggleMark | ClearMarks | Open | ExpandRow | CopyId | SortNext | SortReverse | Follow
        | EditSettings => navigate::on_list(state, action),
        Resync | RetryStuck | RetryCause | ReprintLabel | ParcelHandled | ApproveCancel
        | RejectCancel | ApproveRequest | RejectRequest | SyncNow => mutate::start(state, action),
        PrevLink | NextLink | EditField | ToggleField | DeleteMapping | SaveSettings
        | RevertSettings => settings::on_form(state, action),
        // Only meaningful while typing or answering a question, handled above.
        Submit | Complete | CompletePrev | Confirm | Discard => Vec::new(),
    }
}

/// Whether `action` would do something here, and if not, why. The footer offers only
/// actions for which this is `Ok`.
pub fn available(state: &State, action: Action) -> Result<(), String> {
    if let Some(permission) = action.permission()
        && !state.session.may(permission)
    {
        return Err(state.session.refusal(permission));
    }
    use Action::*;
    let view = state.view;
    let in_detail = state.detail.is_some();
    let orders = state.order_list(view).is_some();
    let applies = match action {
        Filter => orders || matches!(view, View::Cancellations | View::Activity),
        ToggleMark | ClearMarks => orders || matches!(view, View::Cancellations | View::Approvals),
        SortNext | SortReverse => lists::list_of(view).is_some(),
        Resync => in_detail || orders || view == View::Cancellations,
        RetryStuck => in_detail || orders,
        RetryCause => in_detail || view == View::Stores,
        ReprintLabel if !tiktok_ships(state) => {
            return Err(
                "label: only orders TikTok ships have a TikTok label (the seller ships this one)"
                    .into(),
            );
        }
        ReprintLabel => true,
        ParcelHandled => open_parcel(state),
        ApproveCancel | RejectCancel => in_detail || view == View::Cancellations,
        ApproveRequest | RejectRequest => view == View::Approvals,
        Follow => view == View::Activity,
        EditSettings | SyncNow => view == View::Stores,
        Open => view != View::Settings,
        ExpandRow => !in_detail && view != View::Settings,
        _ => true,
    };
    if applies {
        Ok(())
    } else {
        Err(format!("{} does nothing here", action.label()))
    }
}

/// Whether the open order has a parcel shipped after TikTok's cancel that nobody closed.
fn open_parcel(state: &State) -> bool {
    state
        .detail
        .as_ref()
        .and_then(|d| d.data.as_ref())
        .is_some_and(|d| d.order.open_parcel().is_some())
}

/// Whether the order at hand (the open detail, else the selected row) is one TikTok ships,
/// the only kind with a label to reprint.
fn tiktok_ships(state: &State) -> bool {
    if let Some(detail) = &state.detail {
        return detail
            .data
            .as_ref()
            .is_some_and(|d| d.order.tiktok.shipping_type == ShippingType::Tiktok);
    }
    if !matches!(state.view, View::Pending | View::Missing | View::Orders) {
        return false;
    }
    state
        .order_list(state.view)
        .and_then(|list| list.selected_row())
        .is_some_and(|row| row.shipping_type == ShippingType::Tiktok.as_wire())
}

/// Shows a message; anything but an error fades by itself.
pub fn toast(state: &mut State, level: Level, text: impl Into<String>) -> Vec<Effect> {
    let stays = level == Level::Error;
    let id = push_toast(state, level, text.into(), stays);
    if stays {
        return Vec::new();
    }
    vec![Effect::Later {
        after: std::time::Duration::from_secs(TOAST_SECONDS),
        event: Event::ExpireToast(id),
    }]
}

/// Shows a message that stays until dismissed, whatever its level.
pub fn notice(state: &mut State, level: Level, text: impl Into<String>) {
    push_toast(state, level, text.into(), true);
}

fn push_toast(state: &mut State, level: Level, text: String, stays: bool) -> u64 {
    const KEEP: usize = 4;
    remember(state, level, &text);
    let id = state.next_id();
    state.toasts.push(Toast {
        id,
        level,
        text,
        stays,
    });
    if state.toasts.len() > KEEP {
        state.toasts.remove(0);
    }
    id
}

/// Keeps `text` in the message history, whole, for `:messages` (toasts are cut to the width
/// and fade; the history is where they can be read again).
pub fn remember(state: &mut State, level: Level, text: &str) {
    state.messages.push(Message {
        at: state.now,
        level,
        text: text.to_string(),
    });
    if state.messages.len() > MESSAGES_KEPT {
        state.messages.remove(0);
    }
}
