//! Typing: the filter line (applied live, as the person types), the command line (with a
//! history on Up/Down and completion: Tab completes what the candidates share, then cycles
//! through them), reason prompts, the count typed to confirm a bulk write, and settings fields.
//! Keys the keymap does not claim while text is being edited go to the `tui-input` buffer;
//! pasted text is sanitised before it lands.

use ratatui::crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};

use super::lists::{list_of, load_page, with_list};
use super::navigate::{motion, narrowed, switch_view};
use super::{settings, toast, update};
use crate::console::action::Action;
use crate::console::command::{self, Command, Known};
use crate::console::effect::{Confirm, Effect};
use crate::console::list;
use crate::console::settings_form::{Editor, NO_REASON};
use crate::console::state::{InputLine, LineKind, Overlay, State, View};
use crate::console::theme::Level;
use crate::domain::text::sanitize;

pub fn open_filter(state: &mut State) -> Vec<Effect> {
    // Approvals is a list, but the service does not filter requests: a filter there would
    // only claim to narrow it.
    let Some(list) =
        list_of(state.view).filter(|_| super::available(state, Action::Filter).is_ok())
    else {
        return toast(state, Level::Info, "this view has no filter");
    };
    let before = with_list!(state, list, |l| l.filter.clone());
    state.line = Some(InputLine::new(
        LineKind::Filter {
            before: before.clone(),
        },
        before,
    ));
    Vec::new()
}

pub fn open_command(state: &mut State) -> Vec<Effect> {
    state.line = Some(InputLine::new(LineKind::Command, String::new()));
    Vec::new()
}

/// Commands the history keeps; the oldest go first.
const HISTORY_KEPT: usize = 100;

/// The buffer keys and pastes go to, if any.
fn target(state: &mut State) -> Option<&mut Input> {
    match &mut state.overlay {
        Some(Overlay::Prompt(prompt)) => return Some(&mut prompt.input),
        Some(Overlay::Confirm(Confirm {
            typed: Some(typed), ..
        })) => return Some(&mut typed.input),
        _ => {}
    }
    if let Some(line) = &mut state.line {
        return Some(&mut line.input);
    }
    match &mut state.settings.editor {
        Some(Editor::Text { input, .. } | Editor::Mapping { input, .. })
            if state.view == View::Settings =>
        {
            Some(input)
        }
        _ => None,
    }
}

pub fn type_key(state: &mut State, event: &KeyEvent) -> Vec<Effect> {
    let Some(request) = to_input_request(&TermEvent::Key(*event)) else {
        return Vec::new();
    };
    edit(state, request)
}

pub fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    state.revision += 1;
    let mut effects = Vec::new();
    for c in sanitize(text).chars() {
        effects = edit(state, InputRequest::InsertChar(c));
    }
    effects
}

fn edit(state: &mut State, request: InputRequest) -> Vec<Effect> {
    let Some(input) = target(state) else {
        return Vec::new();
    };
    if input.handle(request).is_none_or(|changed| !changed.value) {
        return Vec::new();
    }
    edited(state)
}

/// After the text changed: the filter applies at once, the command's candidates follow.
fn edited(state: &mut State) -> Vec<Effect> {
    match &mut state.overlay {
        Some(Overlay::Prompt(prompt)) => {
            prompt.error = None;
            return Vec::new();
        }
        Some(Overlay::Confirm(Confirm {
            typed: Some(typed), ..
        })) => {
            typed.error = None;
            return Vec::new();
        }
        _ => {}
    }
    state.settings.error = None;
    if let Some(line) = &mut state.line {
        // Typing ends cycling and history browsing: the text is the person's again.
        line.cycling = None;
        line.history = None;
    }
    let Some(line) = &state.line else {
        return Vec::new();
    };
    let value = line.input.value().to_string();
    match line.kind {
        LineKind::Command => {
            let candidates = command::complete(&value, &known(state));
            if let Some(line) = &mut state.line {
                line.candidates = candidates;
            }
            Vec::new()
        }
        LineKind::Filter { .. } => apply_filter(state, value),
    }
}

fn apply_filter(state: &mut State, value: String) -> Vec<Effect> {
    let Some(list) = list_of(state.view) else {
        return Vec::new();
    };
    with_list!(state, list, |l| {
        l.filter = value;
        l.restart();
    });
    load_page(state, list, true)
}

fn known(state: &State) -> Known {
    Known {
        sort_columns: crate::console::view::sort_columns_shown(state)
            .into_iter()
            .map(|c| command::column_name(c).to_string())
            .collect(),
        links: state.link_names(),
        orders: state
            .pending
            .rows
            .iter()
            .chain(state.missing.rows.iter())
            .map(|r| r.id.to_string())
            .collect(),
    }
}

/// Submit, Complete, Back and Up/Down while text is edited.
pub fn on_text(state: &mut State, action: Action) -> Vec<Effect> {
    match &state.overlay {
        Some(Overlay::Prompt(_)) => return on_prompt(state, action),
        Some(Overlay::Confirm(_)) => return on_typed_count(state, action),
        _ => {}
    }
    if let Some(line) = &state.line {
        let kind = line.kind.clone();
        let value = line.input.value().to_string();
        return match (kind, action) {
            (LineKind::Filter { .. }, Action::Submit) => {
                state.line = None;
                Vec::new()
            }
            (LineKind::Filter { before }, Action::Back) => {
                state.line = None;
                if before != value {
                    return apply_filter(state, before);
                }
                Vec::new()
            }
            (LineKind::Filter { .. }, Action::Complete) => {
                let candidates = list::complete_filter(&value, &state.link_names());
                let completed = command::apply_completion(&value, &candidates);
                set_line(state, completed.clone(), candidates);
                apply_filter(state, completed)
            }
            (LineKind::Filter { .. }, Action::Up | Action::Down) => motion(state, action),
            (LineKind::Command, Action::Submit) => {
                state.line = None;
                remember_command(state, &value);
                match command::parse(&value) {
                    Ok(command) => run_command(state, command),
                    Err(why) => toast(state, Level::Warning, why),
                }
            }
            (LineKind::Command, Action::Back) => {
                state.line = None;
                Vec::new()
            }
            (LineKind::Command, Action::Complete | Action::CompletePrev) => {
                complete_command(state, &value, action == Action::Complete);
                Vec::new()
            }
            (LineKind::Command, Action::Up | Action::Down) => {
                browse_history(state, action == Action::Up);
                Vec::new()
            }
            _ => Vec::new(),
        };
    }
    on_editor(state, action)
}

fn set_line(state: &mut State, text: String, candidates: Vec<String>) {
    if let Some(line) = &mut state.line {
        line.input = Input::new(text);
        line.candidates = candidates;
        line.cycling = None;
    }
}

/// Tab: first completes as far as the candidates agree; when that adds nothing, each Tab puts
/// the next candidate in place (shift-tab the previous one), keeping the list to cycle in.
fn complete_command(state: &mut State, value: &str, forward: bool) {
    let Some(line) = &mut state.line else {
        return;
    };
    if let Some(at) = line.cycling {
        let count = line.candidates.len();
        let next = if forward {
            (at + 1) % count
        } else {
            (at + count - 1) % count
        };
        let text = command::replace_last_word(value, &line.candidates[next]);
        line.input = Input::new(text);
        line.cycling = Some(next);
        return;
    }
    let known = known(state);
    let candidates = command::complete(value, &known);
    let completed = command::apply_completion(value, &candidates);
    if completed != value || candidates.len() < 2 {
        let next = command::complete(&completed, &known);
        set_line(state, completed, next);
        return;
    }
    let first = if forward { 0 } else { candidates.len() - 1 };
    let text = command::replace_last_word(value, &candidates[first]);
    if let Some(line) = &mut state.line {
        line.input = Input::new(text);
        line.candidates = candidates;
        line.cycling = Some(first);
    }
}

fn remember_command(state: &mut State, value: &str) {
    let value = value.trim();
    if value.is_empty() || state.command_history.last().is_some_and(|l| l == value) {
        return;
    }
    state.command_history.push(value.to_string());
    if state.command_history.len() > HISTORY_KEPT {
        state.command_history.remove(0);
    }
}

/// Up: the command before the one shown (from the newest); Down: the next, and past the
/// newest, what was being typed.
fn browse_history(state: &mut State, older: bool) {
    let history = &state.command_history;
    let Some(line) = &mut state.line else {
        return;
    };
    let (at, typed) = match (&line.history, older) {
        (None, false) => return,
        (None, true) if history.is_empty() => return,
        (None, true) => (history.len() - 1, line.input.value().to_string()),
        (Some((at, typed)), true) => (at.saturating_sub(1), typed.clone()),
        (Some((at, typed)), false) if at + 1 >= history.len() => {
            line.input = Input::new(typed.clone());
            line.history = None;
            line.candidates.clear();
            return;
        }
        (Some((at, typed)), false) => (at + 1, typed.clone()),
    };
    line.input = Input::new(history[at].clone());
    line.history = Some((at, typed));
    line.candidates.clear();
    line.cycling = None;
}

/// Enter in a bulk write's confirmation: runs only when the typed count is the count.
fn on_typed_count(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Overlay::Confirm(confirm)) = &mut state.overlay else {
        return Vec::new();
    };
    match action {
        Action::Back => state.overlay = None,
        Action::Submit => {
            let count = confirm.mutation.count();
            let Some(typed) = &mut confirm.typed else {
                return Vec::new();
            };
            let digits: String = typed.input.value().chars().filter(|c| *c != ',').collect();
            if digits.trim().parse::<usize>().ok() != Some(count) {
                typed.error = Some(format!(
                    "type {count} (the number of rows) to go ahead, or esc to leave it"
                ));
                return Vec::new();
            }
            let (mutation, reason) = (confirm.mutation.clone(), confirm.reason.clone());
            state.overlay = None;
            return super::mutate::run(state, &mutation, reason);
        }
        _ => {}
    }
    Vec::new()
}

fn on_prompt(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Overlay::Prompt(prompt)) = &mut state.overlay else {
        return Vec::new();
    };
    match action {
        Action::Back => state.overlay = None,
        Action::Submit => {
            let reason = sanitize(prompt.input.value().trim());
            if prompt.required && reason.is_empty() {
                prompt.error = Some("a reason is required: it goes into the audit log".into());
                return Vec::new();
            }
            if let Err(why) = prompt.mutation.check_reason(&reason) {
                prompt.error = Some(why);
                return Vec::new();
            }
            let mutation = prompt.mutation.clone();
            let confirm = Confirm::new(
                &prompt.title,
                prompt.question.clone(),
                prompt.note.iter().cloned().collect(),
                mutation.clone(),
            );
            if confirm.typed.is_some() {
                // A reason is not a count: a bulk write still asks for the number.
                state.overlay = Some(Overlay::Confirm(Confirm {
                    reason: Some(reason),
                    ..confirm
                }));
                return Vec::new();
            }
            state.overlay = None;
            return super::mutate::run(state, &mutation, Some(reason));
        }
        _ => {}
    }
    Vec::new()
}

fn on_editor(state: &mut State, action: Action) -> Vec<Effect> {
    if matches!(action, Action::Complete | Action::CompletePrev) {
        complete_mapping(state, action == Action::Complete);
        return Vec::new();
    }
    let form = &mut state.settings;
    let Some(editor) = &mut form.editor else {
        return Vec::new();
    };
    match (action, editor) {
        (Action::Back, _) => {
            form.editor = None;
            form.error = None;
        }
        (Action::Up, Editor::Choice { selected, .. }) => *selected = selected.saturating_sub(1),
        (
            Action::Down,
            Editor::Choice {
                selected, options, ..
            },
        ) => {
            *selected = (*selected + 1).min(options.len().saturating_sub(1));
        }
        (Action::Submit, editor) => {
            let result = match editor.clone() {
                Editor::Text { key, input } => form.apply(key, input.value()),
                Editor::Mapping { original, input } => {
                    if original.is_none() && input.value().trim().is_empty() {
                        Ok(())
                    } else {
                        form.apply_mapping(original.as_deref(), input.value())
                    }
                }
                Editor::Choice {
                    key,
                    options,
                    selected,
                } => {
                    let choice = options.get(selected).map_or("", String::as_str);
                    form.apply(key, if choice == NO_REASON { "" } else { choice })
                }
            };
            match result {
                Ok(()) => form.editor = None,
                Err(why) => form.error = Some(why),
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Tab in a carrier mapping completes the TikTok provider from the shop's list.
fn complete_mapping(state: &mut State, forward: bool) {
    let form = &mut state.settings;
    let Some(Editor::Mapping { input, .. }) = &form.editor else {
        return;
    };
    let completed = form.complete_provider(input.value(), forward);
    if let (Some(completed), Some(Editor::Mapping { input, .. })) = (completed, &mut form.editor) {
        *input = Input::new(completed);
    }
}

pub fn run_command(state: &mut State, command: Command) -> Vec<Effect> {
    match command {
        Command::Run(action) => update(state, action),
        Command::View(view) => switch_view(state, view),
        Command::Order(named) => super::find::find_order(state, named),
        Command::Link(link) => {
            if let Some(name) = &link
                && !state.link_names().contains(&name.to_string())
            {
                let known = state.link_names().join(", ");
                return toast(
                    state,
                    Level::Warning,
                    format!("no link named {name} (links: {known})"),
                );
            }
            state.link = link;
            state.detail = None;
            narrowed(state)
        }
        Command::Sort(column, dir) => {
            let Some(list) = list_of(state.view) else {
                return toast(state, Level::Info, "only lists can be sorted");
            };
            let shown = crate::console::view::sort_columns_shown(state);
            if !shown.contains(&column) {
                let names: Vec<&str> = shown.iter().map(|c| command::column_name(*c)).collect();
                return toast(
                    state,
                    Level::Warning,
                    format!(
                        "{} is not a column shown here; sort by {}",
                        command::column_name(column),
                        names.join(", ")
                    ),
                );
            }
            with_list!(state, list, |l| {
                l.sort = column;
                l.dir = dir.unwrap_or(l.dir);
                l.restart();
            });
            load_page(state, list, true)
        }
        Command::Filter(text) => {
            if list_of(state.view).is_none() || super::available(state, Action::Filter).is_err() {
                return toast(state, Level::Info, "this view has no filter");
            }
            apply_filter(state, text)
        }
        Command::Settings(link) => settings::show_link(state, link),
        Command::Sync(link) => match super::available(state, Action::SyncNow) {
            Err(why)
                if Action::SyncNow
                    .permission()
                    .is_some_and(|p| !state.session.may(p)) =>
            {
                toast(state, Level::Warning, why)
            }
            _ => super::mutate::ask_sync(state, link),
        },
    }
}
