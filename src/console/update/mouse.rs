//! The mouse, when `[console] mouse` is on (the default): the wheel scrolls whatever is in
//! front (an overlay, the detail, a list), a click on a tab switches to it, a click on a row
//! selects it. Positions are read against the same layout the view draws (`view::layout`).

use super::navigate::{motion, switch_view};
use crate::console::action::Action;
use crate::console::effect::{Effect, Mouse, MouseKind};
use crate::console::state::{Overlay, State, View};
use crate::console::view;

/// Rows one notch of the wheel moves.
const WHEEL_STEP: usize = 3;

pub fn on_mouse(state: &mut State, mouse: Mouse) -> Vec<Effect> {
    if !state.mouse {
        return Vec::new();
    }
    match mouse.kind {
        MouseKind::WheelUp | MouseKind::WheelDown => wheel(state, mouse.kind == MouseKind::WheelUp),
        MouseKind::Click => click(state, mouse.column, mouse.row),
    }
}

fn wheel(state: &mut State, up: bool) -> Vec<Effect> {
    let action = if up { Action::Up } else { Action::Down };
    let mut effects = Vec::new();
    for _ in 0..WHEEL_STEP {
        effects.extend(match &state.overlay {
            Some(
                Overlay::Help { .. }
                | Overlay::Problems { .. }
                | Overlay::Row { .. }
                | Overlay::Messages { .. },
            ) => super::navigate::on_overlay(state, action),
            // A question waits for its answer; the wheel does not move what is behind it.
            Some(_) => return effects,
            None if state.line.is_some() || state.settings.editor.is_some() => return effects,
            None => motion(state, action),
        });
    }
    effects
}

fn click(state: &mut State, column: u16, row: u16) -> Vec<Effect> {
    if state.overlay.is_some() || state.line.is_some() {
        return Vec::new();
    }
    if let Some(view) = view::tab_at(state, column, row) {
        return switch_view(state, view);
    }
    if state.detail.is_some() {
        return Vec::new();
    }
    let Some(index) = view::row_at(state, row) else {
        return Vec::new();
    };
    let page = state.page_rows();
    match state.view {
        View::Stores => {
            let links = state.overview.as_ref().map_or(0, |o| o.links.len());
            if index < links {
                state.stores_selected = index;
            }
            Vec::new()
        }
        View::Settings => Vec::new(),
        _ => {
            let Some(list) = super::lists::list_of(state.view) else {
                return Vec::new();
            };
            let total = super::lists::with_list!(state, list, |l| l.total);
            if index >= total {
                return Vec::new();
            }
            super::lists::with_list!(state, list, |l| l.select(index, page));
            if list == crate::console::effect::ListId::Activity && index > 0 {
                state.follow = false;
            }
            super::lists::load_page(state, list, false)
        }
    }
}
