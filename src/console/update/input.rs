//! Typing: the filter line (applied live, as the person types), the command line (with
//! completion), reason prompts and settings fields. Keys the keymap does not claim while text
//! is being edited go to the `tui-input` buffer; pasted text is sanitised before it lands.

use ratatui::crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};

use super::lists::{list_of, load_page, open_detail, with_list};
use super::navigate::{motion, narrowed, switch_view};
use super::{settings, toast, update};
use crate::console::action::Action;
use crate::console::command::{self, Command, Known};
use crate::console::effect::Effect;
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
    state.line = Some(InputLine {
        kind: LineKind::Filter {
            before: before.clone(),
        },
        input: Input::new(before),
        candidates: Vec::new(),
    });
    Vec::new()
}

pub fn open_command(state: &mut State) -> Vec<Effect> {
    state.line = Some(InputLine {
        kind: LineKind::Command,
        input: Input::default(),
        candidates: Vec::new(),
    });
    Vec::new()
}

/// The buffer keys and pastes go to, if any.
fn target(state: &mut State) -> Option<&mut Input> {
    if let Some(Overlay::Prompt(prompt)) = &mut state.overlay {
        return Some(&mut prompt.input);
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
    if let Some(Overlay::Prompt(prompt)) = &mut state.overlay {
        prompt.error = None;
        return Vec::new();
    }
    state.settings.error = None;
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
    if matches!(state.overlay, Some(Overlay::Prompt(_))) {
        return on_prompt(state, action);
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
                match command::parse(&value) {
                    Ok(command) => run_command(state, command),
                    Err(why) => toast(state, Level::Warning, why),
                }
            }
            (LineKind::Command, Action::Back) => {
                state.line = None;
                Vec::new()
            }
            (LineKind::Command, Action::Complete) => {
                let completed =
                    command::apply_completion(&value, &command::complete(&value, &known(state)));
                let candidates = command::complete(&completed, &known(state));
                set_line(state, completed, candidates);
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
    }
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
            let mutation = prompt.mutation.clone();
            state.overlay = None;
            return super::mutate::run(state, &mutation, Some(reason));
        }
        _ => {}
    }
    Vec::new()
}

fn on_editor(state: &mut State, action: Action) -> Vec<Effect> {
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

pub fn run_command(state: &mut State, command: Command) -> Vec<Effect> {
    match command {
        Command::Run(action) => update(state, action),
        Command::View(view) => switch_view(state, view),
        Command::Order(id) => open_detail(state, id),
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
            let Some(list) =
                list_of(state.view).filter(|_| matches!(state.view, View::Pending | View::Missing))
            else {
                return toast(state, Level::Info, "only order lists can be sorted");
            };
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
