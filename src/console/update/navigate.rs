//! Moving around: switching views, backing out one level at a time, scrolling and selecting,
//! marking, opening or expanding a row, copying its id, sorting (by the columns on screen) and
//! following. Nothing here writes — but leaving the settings form with changes not saved (or
//! quitting then) first asks whether to save, discard or stay.

use crate::domain::ids::TiktokOrderId;
use crate::service::api::OrderColumn;

use super::lists::{list_of, load_overview, load_page, load_view, open_detail, with_list};
use super::{input, toast};
use crate::console::action::Action;
use crate::console::effect::{Effect, ListId};
use crate::console::list::{List, Row, Selection};
use crate::console::state::{Leave, Overlay, State, View};
use crate::console::theme::Level;
use crate::console::view;

pub fn switch_view(state: &mut State, view: View) -> Vec<Effect> {
    if view != View::Settings && stopped_by_unsaved(state, Leave::View(view)) {
        return Vec::new();
    }
    state.detail = None;
    state.view = view;
    let mut effects = if view == View::Stores {
        load_overview(state)
    } else {
        Vec::new()
    };
    if view == View::Activity && state.follow {
        state.activity.select(0, state.page_rows());
    }
    state.activity_unseen = false;
    effects.extend(load_view(state));
    effects
}

/// Quitting: at once, unless settings edits would be lost.
pub fn quit(state: &mut State) -> Vec<Effect> {
    if stopped_by_unsaved(state, Leave::Quit) {
        return Vec::new();
    }
    vec![Effect::Quit]
}

/// Whether leaving the settings form for `then` must first ask about its unsaved changes (and
/// so asks, by opening the question).
pub fn stopped_by_unsaved(state: &mut State, then: Leave) -> bool {
    let editing = state.view == View::Settings && state.detail.is_none();
    if !editing || state.settings.changes().is_empty() {
        return false;
    }
    state.settings.editor = None;
    state.overlay = Some(Overlay::Unsaved { then });
    true
}

/// Goes where the person was going before the unsaved-changes question.
pub fn leave(state: &mut State, then: Leave) -> Vec<Effect> {
    match then {
        Leave::Quit => vec![Effect::Quit],
        Leave::View(view) => switch_view(state, view),
        Leave::Link(link) => super::settings::show_link(state, Some(link)),
    }
}

/// The unsaved-changes question: save (then go on once saved), discard (and go on), or stay.
fn on_unsaved(state: &mut State, action: Action, then: Leave) -> Vec<Effect> {
    match action {
        Action::SaveSettings => {
            state.overlay = None;
            state.after_save = Some(then);
            super::settings::on_form(state, Action::SaveSettings)
        }
        Action::Discard => {
            state.overlay = None;
            state.settings.draft = None;
            state.settings.error = None;
            leave(state, then)
        }
        Action::Back => {
            state.overlay = None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub fn refresh(state: &mut State) -> Vec<Effect> {
    let mut effects = load_overview(state);
    effects.extend(load_view(state));
    effects
}

/// Esc: closes the innermost thing open — the detail, then the filter, the marks, a settings
/// refusal, and last the narrowing to one link.
pub fn back(state: &mut State) -> Vec<Effect> {
    if state.detail.take().is_some() {
        return match list_of(state.view) {
            Some(list) => load_page(state, list, false),
            None => Vec::new(),
        };
    }
    if let Some(list) = list_of(state.view) {
        let had_filter = with_list!(state, list, |l| !l.filter.is_empty());
        if had_filter {
            with_list!(state, list, |l| {
                l.filter.clear();
                l.restart();
            });
            return load_page(state, list, true);
        }
        let had_marks = with_list!(state, list, |l| !std::mem::take(&mut l.marks).is_empty());
        if had_marks {
            return Vec::new();
        }
    }
    if state.settings.error.take().is_some() {
        return Vec::new();
    }
    if state.link.take().is_some() {
        return narrowed(state);
    }
    Vec::new()
}

/// After the link narrowing changed: every list starts again from the top.
pub fn narrowed(state: &mut State) -> Vec<Effect> {
    for list in [
        ListId::Pending,
        ListId::Missing,
        ListId::Stuck,
        ListId::Cancellations,
        ListId::Approvals,
        ListId::Activity,
        ListId::Orders,
    ] {
        with_list!(state, list, |l| l.restart());
    }
    load_view(state)
}

pub fn motion(state: &mut State, action: Action) -> Vec<Effect> {
    let page = state.page_rows();
    let delta: isize = match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -(page as isize),
        Action::PageDown => page as isize,
        Action::Top => isize::MIN / 2,
        _ => isize::MAX / 2,
    };
    if state.view == View::Settings && state.detail.is_none() {
        state.settings.move_by(delta);
        return Vec::new();
    }
    if state.detail.is_some() {
        let last = view::detail_line_count(state).saturating_sub(page);
        if let Some(detail) = &mut state.detail {
            detail.scroll = detail.scroll.saturating_add_signed(delta).min(last);
        }
        return Vec::new();
    }
    let Some(list) = list_of(state.view) else {
        let links = state.overview.as_ref().map_or(0, |o| o.links.len());
        state.stores_selected = state
            .stores_selected
            .saturating_add_signed(delta)
            .min(links.saturating_sub(1));
        return Vec::new();
    };
    with_list!(state, list, |l| l.move_by(delta, page));
    if list == ListId::Activity && state.activity.selected > 0 {
        state.follow = false;
    }
    load_page(state, list, false)
}

/// Keys while help, the problems panel, an expanded row, the messages or a question is open.
pub fn on_overlay(state: &mut State, action: Action) -> Vec<Effect> {
    match (&state.overlay, action) {
        (Some(Overlay::Prompt(_)), _) => return input::on_text(state, action),
        (Some(Overlay::Confirm(confirm)), _) if confirm.typed.is_some() => {
            return input::on_text(state, action);
        }
        (Some(Overlay::Confirm(confirm)), Action::Confirm) => {
            let (mutation, reason) = (confirm.mutation.clone(), confirm.reason.clone());
            state.overlay = None;
            return super::mutate::run(state, &mutation, reason);
        }
        (Some(Overlay::Confirm(_)), Action::Back) => {
            state.overlay = None;
            // Not saved after all: nowhere to go on to.
            state.after_save = None;
        }
        (Some(Overlay::Unsaved { then }), _) => {
            let then = then.clone();
            return on_unsaved(state, action, then);
        }
        (
            Some(
                Overlay::Help { .. }
                | Overlay::Problems { .. }
                | Overlay::Row { .. }
                | Overlay::Messages { .. },
            ),
            _,
        ) => {
            return scroll_overlay(state, action);
        }
        (Some(Overlay::Targets { .. }), _) => return on_targets(state, action),
        _ => {}
    }
    Vec::new()
}

/// Help and the problems panel scroll like a list.
fn scroll_overlay(state: &mut State, action: Action) -> Vec<Effect> {
    let last = view::overlay_line_count(state).saturating_sub(state.page_rows());
    let Some(
        Overlay::Help { scroll }
        | Overlay::Problems { scroll }
        | Overlay::Row { scroll }
        | Overlay::Messages { scroll },
    ) = &mut state.overlay
    else {
        return Vec::new();
    };
    match action {
        Action::Back | Action::Help | Action::ExpandRow | Action::Messages => {
            state.overlay = None;
        }
        Action::Quit => {
            state.overlay = None;
            return quit(state);
        }
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::Down => *scroll = (*scroll + 1).min(last),
        Action::PageUp => *scroll = scroll.saturating_sub(10),
        Action::PageDown => *scroll = (*scroll + 10).min(last),
        Action::Top => *scroll = 0,
        Action::Bottom => *scroll = last,
        _ => {}
    }
    Vec::new()
}

/// A request's orders: move, open one (the overlay closes, so Esc in the detail comes back to
/// the approvals), or close.
fn on_targets(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Overlay::Targets { request, selected }) = &mut state.overlay else {
        return Vec::new();
    };
    let last = request.targets.len().saturating_sub(1);
    match action {
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Down => *selected = (*selected + 1).min(last),
        Action::PageUp => *selected = selected.saturating_sub(10),
        Action::PageDown => *selected = (*selected + 10).min(last),
        Action::Top => *selected = 0,
        Action::Bottom => *selected = last,
        Action::Open => {
            let id = request.targets.get(*selected).cloned();
            state.overlay = None;
            if let Some(id) = id {
                return open_detail(state, id);
            }
        }
        Action::Back | Action::ExpandRow => state.overlay = None,
        Action::Quit => {
            state.overlay = None;
            return quit(state);
        }
        _ => {}
    }
    Vec::new()
}

pub fn on_list(state: &mut State, action: Action) -> Vec<Effect> {
    if let Err(why) = super::available(state, action) {
        return toast(state, Level::Info, why);
    }
    let page = state.page_rows();
    let list = list_of(state.view);
    match (action, list) {
        (Action::ToggleMark, Some(list)) => {
            with_list!(state, list, |l| {
                l.toggle_mark();
                l.move_by(1, page);
            });
            load_page(state, list, false)
        }
        (Action::ClearMarks, Some(list)) => {
            with_list!(state, list, |l| l.marks.clear());
            Vec::new()
        }
        (Action::Open, _) => open(state),
        (Action::ExpandRow, _) => {
            if view::expanded_lines(state, 80).is_empty() {
                return toast(state, Level::Info, "no row is selected");
            }
            state.overlay = Some(Overlay::Row { scroll: 0 });
            Vec::new()
        }
        (Action::CopyId, _) => copy_id(state),
        (Action::SortNext | Action::SortReverse, Some(list)) => {
            let shown = view::sort_columns_shown(state);
            with_list!(state, list, |l| {
                if action == Action::SortNext {
                    l.sort = next_column(l.sort, &shown);
                } else {
                    l.dir = l.dir.reversed();
                }
                l.restart();
            });
            load_page(state, list, true)
        }
        (Action::Follow, _) => {
            state.follow = !state.follow;
            state.activity_unseen = false;
            if !state.follow {
                return toast(state, Level::Info, "stopped following activity");
            }
            state.activity.select(0, page);
            let mut effects = load_page(state, ListId::Activity, true);
            effects.extend(toast(state, Level::Info, "following new activity"));
            effects
        }
        (Action::EditSettings, _) => {
            let link = state
                .overview
                .as_ref()
                .and_then(|o| o.links.get(state.stores_selected))
                .map(|l| l.link.clone());
            super::settings::show_link(state, link)
        }
        _ => Vec::new(),
    }
}

/// The next column to sort by among those on screen (`shown`, left to right, the view's own
/// order first), after `column`; back to the view's own order after the last.
fn next_column(column: OrderColumn, shown: &[OrderColumn]) -> OrderColumn {
    let at = shown.iter().position(|c| *c == column);
    match at {
        Some(i) if i + 1 < shown.len() => shown[i + 1],
        _ => shown.first().copied().unwrap_or(OrderColumn::Default),
    }
}

/// Enter: an order's detail from any list; in Stores, narrows the lists to the link.
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    let order: Option<TiktokOrderId> = match state.view {
        View::Stores => {
            let link = state
                .overview
                .as_ref()
                .and_then(|o| o.links.get(state.stores_selected))
                .map(|l| l.link.clone());
            let Some(link) = link else {
                return Vec::new();
            };
            state.link = Some(link);
            state.view = View::Pending;
            return narrowed(state);
        }
        View::Pending | View::Missing | View::Stuck | View::Orders => state
            .order_list(state.view)
            .and_then(|list| list.selected_row())
            .map(|r| r.id.clone()),
        View::Cancellations => state
            .cancellations
            .selected_row()
            .map(|r| r.order_id.clone()),
        View::Approvals => {
            let Some(request) = state.approvals.selected_row().cloned() else {
                return Vec::new();
            };
            if request.targets.len() > 1 {
                state.overlay = Some(Overlay::Targets {
                    request: Box::new(request),
                    selected: 0,
                });
                return Vec::new();
            }
            request.targets.first().cloned()
        }
        View::Activity => state.activity.selected_row().and_then(|r| r.order.clone()),
        View::Settings => None,
    };
    if let Some(id) = order {
        return open_detail(state, id);
    }
    // Keys typed ahead over a slow link can come before the rows do ("4 enter").
    let why = match selection_in(state, state.view) {
        Selection::OnItsWay => {
            state.open_when_shown = Some(state.view);
            "the list is on its way: its row opens once it shows (any key cancels)"
        }
        Selection::Nothing => "nothing to open: the list is empty",
        Selection::Row => "this row names no order to open",
    };
    toast(state, Level::Info, why)
}

/// What `view`'s list has selected; a view without a list, a row.
pub(super) fn selection_in(state: &State, view: View) -> Selection {
    match view {
        View::Cancellations => state.cancellations.selection(),
        View::Approvals => state.approvals.selection(),
        View::Activity => state.activity.selection(),
        view => state
            .order_list(view)
            .map_or(Selection::Row, List::selection),
    }
}

/// `y`: the id of the detail's order, the marked rows or the selected row, via OSC 52.
fn copy_id(state: &mut State) -> Vec<Effect> {
    let ids: Vec<String> = if let Some(detail) = &state.detail {
        vec![detail.id.to_string()]
    } else {
        match state.view {
            View::Stores => state
                .overview
                .as_ref()
                .and_then(|o| o.links.get(state.stores_selected))
                .map(|l| vec![l.link.to_string()])
                .unwrap_or_default(),
            View::Pending => ids_of(&state.pending, |r| r.id.to_string()),
            View::Missing => ids_of(&state.missing, |r| r.id.to_string()),
            View::Stuck => ids_of(&state.stuck, |r| r.id.to_string()),
            View::Orders => ids_of(&state.orders, |r| r.id.to_string()),
            View::Cancellations => ids_of(&state.cancellations, |r| r.order_id.to_string()),
            View::Approvals => ids_of(&state.approvals, |r| r.id.to_string()),
            View::Activity => ids_of(&state.activity, |r| {
                r.order
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .into_iter()
            .filter(|id| !id.is_empty())
            .collect(),
            View::Settings => Vec::new(),
        }
    };
    let text = ids.join(" ");
    if text.is_empty() {
        return toast(state, Level::Info, "nothing to copy here");
    }
    let said = match ids.as_slice() {
        [one] => format!("copied {one}"),
        many => format!("copied {} ids", many.len()),
    };
    let mut effects = vec![Effect::Copy(text)];
    effects.extend(toast(state, Level::Success, said));
    effects
}

fn ids_of<T: Row + Clone>(
    list: &crate::console::list::List<T>,
    id: impl Fn(&T) -> String,
) -> Vec<String> {
    let (rows, _) = list.chosen(None);
    rows.iter().map(id).collect()
}
