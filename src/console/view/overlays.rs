//! Layers over the view: help (built from the live keymap and the role, so it lists exactly
//! what the keys do for this person), the keymap problems panel, the selected row expanded,
//! the message history, a request's orders to open one, yes/no confirmations (listing their targets; no is the default, and a
//! bulk write asks for its count), reason prompts and the unsaved-settings question.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::detail::wrap;
use super::{clean, key_label};
use crate::console::action::Scope;
use crate::console::command::COMMANDS;
use crate::console::effect::{Confirm, Mutation, Prompt, listed};
use crate::console::keys::seq_to_string;
use crate::console::state::{Overlay, State};
use crate::console::theme::Level;

/// The label in front of a prompt's input.
/// The label in front of the count a bulk write asks for.
const COUNT: &str = " Count: ";

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    match &state.overlay {
        Some(Overlay::Help { scroll }) => {
            let title = format!(
                " Help · {} ",
                state.session.role.map_or("no role", |r| r.name())
            );
            scrolled(frame, state, area, &title, help_lines(state), *scroll);
        }
        Some(Overlay::Problems { scroll }) => {
            scrolled(
                frame,
                state,
                area,
                " Keymap problems ",
                problem_lines(state),
                *scroll,
            );
        }
        Some(Overlay::Row { scroll }) => {
            let title = format!(" {} · selected row ", state.view.title());
            scrolled(frame, state, area, &title, row_lines(state), *scroll);
        }
        Some(Overlay::Messages { scroll }) => {
            scrolled(
                frame,
                state,
                area,
                " Messages (newest first) ",
                message_lines(state),
                *scroll,
            );
        }
        Some(Overlay::Confirm(confirm)) => {
            let (rect, lines, _) = confirm_layout(state, area, confirm);
            boxed(frame, state, rect, &confirm.title, lines);
        }
        Some(Overlay::Prompt(prompt)) => {
            let (rect, lines, _) = prompt_layout(state, area, prompt);
            boxed(frame, state, rect, &prompt.title, lines);
        }
        Some(Overlay::Unsaved { .. }) => draw_unsaved(frame, state, area),
        Some(Overlay::Targets { request, selected }) => {
            let title = format!(
                " {} · {} resync of {} orders · enter opens ",
                request.id,
                request.flow.name(),
                request.targets.len()
            );
            let page = usize::from(area.height.saturating_sub(4));
            let scroll = (selected + 1).saturating_sub(page);
            scrolled(
                frame,
                state,
                area,
                &title,
                request_target_lines(state, request, *selected),
                scroll,
            );
        }
        None => {}
    }
}

/// Lines of the scrolling overlay that is open (0 if none).
pub fn line_count(state: &State) -> usize {
    match &state.overlay {
        Some(Overlay::Help { .. }) => help_lines(state).len(),
        Some(Overlay::Problems { .. }) => problem_lines(state).len(),
        Some(Overlay::Row { .. }) => row_lines(state).len(),
        Some(Overlay::Messages { .. }) => message_lines(state).len(),
        _ => 0,
    }
}

/// The inner width of the help-like boxes on this screen.
fn room(state: &State) -> u16 {
    overlay_width(state.width).saturating_sub(2)
}

fn row_lines(state: &State) -> Vec<Line<'static>> {
    super::expand::lines(state, room(state))
}

/// A request's orders, the selected one marked.
fn request_target_lines(
    state: &State,
    request: &crate::domain::request::ResyncRequest,
    selected: usize,
) -> Vec<Line<'static>> {
    request
        .targets
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let style = if i == selected {
                state.theme.selected
            } else {
                Style::default()
            };
            Line::styled(format!(" {id}"), style)
        })
        .collect()
}

/// Every message of the session, newest first, wrapped whole under its time and sign.
fn message_lines(state: &State) -> Vec<Line<'static>> {
    if state.messages.is_empty() {
        return vec![Line::styled(" No messages yet.", state.theme.muted)];
    }
    let width = usize::from(room(state)).saturating_sub(10).max(10);
    let mut lines = Vec::new();
    for message in state.messages.iter().rev() {
        let style = state.theme.level(message.level);
        for (i, part) in wrap(&clean(&message.text), width).into_iter().enumerate() {
            let head = if i == 0 {
                format!(" {} {} ", message.at.format("%H:%M"), sign(message.level))
            } else {
                " ".repeat(9)
            };
            lines.push(Line::from(vec![
                Span::styled(head, state.theme.muted),
                Span::styled(part, style),
            ]));
        }
    }
    lines
}

/// The mark in front of a message of this level (as its toast showed it).
pub fn sign(level: Level) -> &'static str {
    match level {
        Level::Info => "·",
        Level::Success => "✓",
        Level::Warning => "!",
        Level::Error => "✗",
    }
}

/// The cursor inside an open reason prompt, or in a bulk confirmation's count.
pub fn cursor(state: &State, area: Rect) -> Option<Position> {
    let (rect, input_line, label, cursor) = match &state.overlay {
        Some(Overlay::Prompt(prompt)) => {
            let (rect, _, line) = prompt_layout(state, area, prompt);
            (
                rect,
                line,
                prompt.mutation.input_label(),
                prompt.input.visual_cursor(),
            )
        }
        Some(Overlay::Confirm(confirm)) => {
            let typed = confirm.typed.as_ref()?;
            let (rect, _, line) = confirm_layout(state, area, confirm);
            (rect, line?, COUNT, typed.input.visual_cursor())
        }
        _ => return None,
    };
    let x = rect.x + 1 + label.len() as u16 + cursor as u16;
    Some(Position::new(
        x.min(rect.right() - 2),
        rect.y + 1 + input_line as u16,
    ))
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width.saturating_sub(2));
    let height = height.min(area.height.saturating_sub(2));
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

fn boxed(frame: &mut Frame, state: &State, rect: Rect, title: &str, lines: Vec<Line>) {
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_style(state.theme.border)
        .title(Span::styled(format!(" {title} "), state.theme.title));
    frame.render_widget(
        Paragraph::new(lines).style(state.theme.dialog).block(block),
        rect,
    );
}

/// Width of the help and problems boxes on a screen this wide.
fn overlay_width(screen: u16) -> u16 {
    100.min(screen.saturating_sub(2))
}

fn scrolled(
    frame: &mut Frame,
    state: &State,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    scroll: usize,
) {
    let rect = centered(
        area,
        overlay_width(area.width),
        area.height.saturating_sub(2),
    );
    let page = usize::from(rect.height.saturating_sub(2));
    let scroll = scroll.min(lines.len().saturating_sub(page));
    let total = lines.len();
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(page).collect();
    frame.render_widget(Clear, rect);
    let close = key_label(
        state,
        Scope::CHAIN_LIST,
        crate::console::action::Action::Back,
    )
    .unwrap_or_else(|| "esc".into());
    let block = Block::bordered()
        .border_style(state.theme.border)
        .title(Span::styled(title.to_string(), state.theme.title))
        .title_bottom(Span::styled(
            format!(
                " {}–{} of {total} · {close} closes ",
                scroll + 1,
                (scroll + page).min(total)
            ),
            state.theme.muted,
        ));
    frame.render_widget(Paragraph::new(shown).block(block), rect);
}

/// Where keys are looked up under the overlay: what help describes.
fn beneath(state: &State) -> &'static [Scope] {
    if state.detail.is_some() {
        Scope::CHAIN_DETAIL
    } else {
        state.view.chain()
    }
}

/// What a scope's section in help is called.
fn scope_heading(state: &State, scope: Scope) -> String {
    let place = match scope {
        Scope::Global => "Everywhere".to_string(),
        Scope::List => "In every list".to_string(),
        Scope::Detail => "In the order detail".to_string(),
        Scope::Input => "While typing".to_string(),
        Scope::Confirm => "When asked to confirm".to_string(),
        _ => format!("In {}", state.view.title()),
    };
    format!("{place} [{scope}]")
}

/// Help: every binding that takes effect here and that this person's role may use, grouped
/// by keymap section (so it is clear where to override it), keys of one action together;
/// then the commands.
fn help_lines(state: &State) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let mut lines = Vec::new();
    let mut chain: Vec<Scope> = beneath(state).to_vec();
    chain.extend([Scope::Input, Scope::Confirm]);
    let effective = state.keymap.effective(&chain);
    let width = usize::from(room(state));
    for scope in chain {
        let mut entries: Vec<(Vec<String>, crate::console::action::Action)> = Vec::new();
        for (_, binding) in effective.iter().filter(|(s, _)| *s == scope) {
            let permitted = binding
                .action
                .permission()
                .is_none_or(|p| state.session.may(p));
            if !permitted {
                continue;
            }
            let keys = seq_to_string(&binding.keys);
            match entries.iter_mut().find(|(_, a)| *a == binding.action) {
                Some((all, _)) => all.push(keys),
                None => entries.push((vec![keys], binding.action)),
            }
        }
        if entries.is_empty() {
            continue;
        }
        lines.push(Line::styled(scope_heading(state, scope), theme.title));
        // Narrow screens drop the action's keymap name: the description is what matters.
        let wide = state.width >= 100;
        for (keys, action) in entries {
            let mut spans = vec![Span::styled(
                format!("  {:<17}", keys.join(", ")),
                theme.key,
            )];
            if wide {
                spans.push(Span::raw(format!("{:<19}", action.name())));
            }
            lines.extend(hanging(spans, action.describe(), theme.muted, width));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled("Commands (type : first)", theme.title));
    for command in COMMANDS {
        let permitted = command
            .reaches
            .iter()
            .all(|a| a.permission().is_none_or(|p| state.session.may(p)));
        if !permitted {
            continue;
        }
        let usage = format!(":{} {}", command.name, command.args);
        let spans = vec![Span::styled(format!("  {usage:<27}"), theme.key)];
        lines.extend(hanging(spans, command.help, theme.muted, width));
    }
    lines
}

/// `lead` (keys or a command, padded to a column) then `text` wrapped to `width`, its further
/// lines under its first: a description cut at the box's edge would hide what a key does.
fn hanging(lead: Vec<Span<'static>>, text: &str, style: Style, width: usize) -> Vec<Line<'static>> {
    let indent: usize = lead.iter().map(Span::width).sum();
    let mut pieces = wrap(text, width.saturating_sub(indent).max(12)).into_iter();
    let mut first = lead;
    first.push(Span::styled(pieces.next().unwrap_or_default(), style));
    std::iter::once(Line::from(first))
        .chain(pieces.map(|piece| {
            Line::from(vec![
                Span::raw(" ".repeat(indent)),
                Span::styled(piece, style),
            ])
        }))
        .collect()
}

fn problem_lines(state: &State) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::styled(
            "These keymap entries were skipped; the shipped keys stay in their place.",
            state.theme.muted,
        ),
        Line::raw(""),
    ];
    let room = usize::from(overlay_width(state.width).saturating_sub(2));
    for problem in &state.problems {
        for part in wrap(&clean(&problem.to_string()), room) {
            lines.push(Line::styled(part, state.theme.level(Level::Warning)));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Fix the file and restart, or run `orderdeck check-config` to list these again.",
        state.theme.muted,
    ));
    lines
}

/// "y yes   n/enter/esc no (the default)": enter alone answers no.
fn answer_keys(state: &State) -> Line<'static> {
    use crate::console::action::Action;
    let keys = |action| {
        let chain = [Scope::Confirm];
        let bound: Vec<String> = state
            .keymap
            .effective(&chain)
            .into_iter()
            .filter(|(_, b)| b.action == action)
            .map(|(_, b)| seq_to_string(&b.keys))
            .filter(|k| k != "ctrl-c")
            .collect();
        if bound.is_empty() {
            "?".to_string()
        } else {
            bound.join("/")
        }
    };
    Line::from(vec![
        Span::styled(format!(" {} ", keys(Action::Confirm)), state.theme.key),
        Span::raw("yes   "),
        Span::styled(format!("{} ", keys(Action::Back)), state.theme.key),
        Span::raw("no (the default)"),
    ])
}

/// Lines naming what a write acts on: the ids, the first ten and how many more.
fn target_lines(state: &State, mutation: &Mutation, room: usize) -> Vec<Line<'static>> {
    let targets = mutation.targets();
    if targets.is_empty() {
        return Vec::new();
    }
    let text = format!("Targets: {}", listed(&targets));
    wrap(&clean(&text), room)
        .into_iter()
        .map(|part| Line::styled(format!(" {part}"), state.theme.input))
        .collect()
}

/// The confirmation's box, its lines and (for a bulk write) which line holds the count.
fn confirm_layout(
    state: &State,
    area: Rect,
    confirm: &Confirm,
) -> (Rect, Vec<Line<'static>>, Option<usize>) {
    let theme = &state.theme;
    let width = 76.min(area.width.saturating_sub(4));
    let room = usize::from(width.saturating_sub(4));
    let mut lines = vec![Line::raw("")];
    for part in wrap(&clean(&confirm.question), room) {
        lines.push(Line::styled(
            format!(" {part}"),
            Style::new().patch(theme.table_header),
        ));
    }
    lines.extend(target_lines(state, &confirm.mutation, room));
    if !confirm.details.is_empty() {
        lines.push(Line::raw(""));
    }
    for detail in &confirm.details {
        for part in wrap(&clean(detail), room) {
            lines.push(Line::styled(format!(" {part}"), theme.muted));
        }
    }
    lines.push(Line::raw(""));
    let mut input_line = None;
    match &confirm.typed {
        None => lines.push(answer_keys(state)),
        Some(typed) => {
            let count = confirm.mutation.count();
            lines.push(Line::styled(
                format!(" This writes to {count} rows: type {count} to go ahead."),
                theme.level(Level::Warning),
            ));
            input_line = Some(lines.len());
            lines.push(Line::from(vec![
                Span::styled(COUNT, theme.key),
                Span::styled(typed.input.value().to_string(), theme.input),
            ]));
            match &typed.error {
                Some(error) => {
                    lines.push(Line::styled(format!(" {error}"), theme.level(Level::Error)))
                }
                None => lines.push(input_keys(state, "confirm")),
            }
        }
    }
    let rect = centered(area, width, lines.len() as u16 + 2);
    (rect, lines, input_line)
}

/// "enter confirm   esc cancel" under a typed answer.
fn input_keys(state: &State, submit_label: &str) -> Line<'static> {
    use crate::console::action::Action;
    let theme = &state.theme;
    let submit = key_label(state, &[Scope::Input], Action::Submit);
    let cancel = key_label(state, &[Scope::Input], Action::Back);
    Line::from(vec![
        Span::styled(
            format!(" {} ", submit.unwrap_or_else(|| "?".into())),
            theme.key,
        ),
        Span::raw(format!("{submit_label}   ")),
        Span::styled(
            format!("{} ", cancel.unwrap_or_else(|| "?".into())),
            theme.key,
        ),
        Span::raw("cancel"),
    ])
}

/// Leaving the settings form with changes: save, discard, or stay.
fn draw_unsaved(frame: &mut Frame, state: &State, area: Rect) {
    use crate::console::action::Action;
    let theme = &state.theme;
    let changes = state.settings.changes().len();
    let link = state
        .settings
        .link
        .as_ref()
        .map_or("this link".to_string(), |l| l.to_string());
    let key = |action| key_label(state, &[Scope::Confirm], action).unwrap_or_else(|| "?".into());
    let width = 60.min(area.width.saturating_sub(4));
    let room = usize::from(width.saturating_sub(4));
    let mut lines = vec![Line::raw("")];
    let question = format!(
        "{} to {link} not saved. Save before leaving?",
        crate::console::effect::counted(changes, "change", "changes")
    );
    for part in wrap(&question, room) {
        lines.push(Line::styled(format!(" {part}"), theme.table_header));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(format!(" {} ", key(Action::SaveSettings)), theme.key),
        Span::raw("save   "),
        Span::styled(format!("{} ", key(Action::Discard)), theme.key),
        Span::raw("discard   "),
        Span::styled(format!("{} ", key(Action::Back)), theme.key),
        Span::raw("stay"),
    ]));
    let rect = centered(area, width, lines.len() as u16 + 2);
    boxed(frame, state, rect, "Unsaved changes", lines);
}

/// The prompt's box, its lines, and which line holds the input.
fn prompt_layout(state: &State, area: Rect, prompt: &Prompt) -> (Rect, Vec<Line<'static>>, usize) {
    let theme = &state.theme;
    let width = 76.min(area.width.saturating_sub(4));
    let room = usize::from(width.saturating_sub(4));
    let mut lines = vec![Line::raw("")];
    for part in wrap(&clean(&prompt.question), room) {
        lines.push(Line::styled(format!(" {part}"), theme.table_header));
    }
    lines.extend(target_lines(state, &prompt.mutation, room));
    if let Some(note) = &prompt.note {
        for part in wrap(&clean(note), room) {
            lines.push(Line::styled(format!(" {part}"), theme.muted));
        }
    }
    lines.push(Line::raw(""));
    let input_line = lines.len();
    let label = prompt.mutation.input_label();
    let input_room = room.saturating_sub(label.len());
    let scroll = prompt.input.visual_scroll(input_room);
    let shown: String = prompt.input.value().chars().skip(scroll).collect();
    lines.push(Line::from(vec![
        Span::styled(label, theme.key),
        Span::styled(shown, theme.input),
    ]));
    match &prompt.error {
        Some(error) => lines.push(Line::styled(format!(" {error}"), theme.level(Level::Error))),
        None => lines.push(Line::raw("")),
    }
    lines.push(input_keys(state, "confirm"));
    let rect = centered(area, width, lines.len() as u16 + 2);
    (rect, lines, input_line)
}
