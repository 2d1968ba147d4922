//! Layers over the view: help (built from the live keymap and the role, so it lists exactly
//! what the keys do for this person), the keymap problems panel, yes/no confirmations and
//! reason prompts.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::detail::wrap;
use super::{clean, key_label};
use crate::console::action::Scope;
use crate::console::command::COMMANDS;
use crate::console::effect::{Confirm, Prompt};
use crate::console::keys::seq_to_string;
use crate::console::state::{Overlay, State};
use crate::console::theme::Level;

/// The label in front of a prompt's input.
const REASON: &str = " Reason: ";

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
        Some(Overlay::Confirm(confirm)) => draw_confirm(frame, state, area, confirm),
        Some(Overlay::Prompt(prompt)) => {
            let (rect, lines, _) = prompt_layout(state, area, prompt);
            boxed(frame, state, rect, &prompt.title, lines);
        }
        None => {}
    }
}

/// Lines of the scrolling overlay that is open (0 if none).
pub fn line_count(state: &State) -> usize {
    match &state.overlay {
        Some(Overlay::Help { .. }) => help_lines(state).len(),
        Some(Overlay::Problems { .. }) => problem_lines(state).len(),
        _ => 0,
    }
}

/// The cursor inside an open reason prompt.
pub fn cursor(state: &State, area: Rect) -> Option<Position> {
    let Some(Overlay::Prompt(prompt)) = &state.overlay else {
        return None;
    };
    let (rect, _, input_line) = prompt_layout(state, area, prompt);
    let x = rect.x + 1 + REASON.len() as u16 + prompt.input.visual_cursor() as u16;
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
        for (keys, action) in entries {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<17}", keys.join(", ")), theme.key),
                Span::raw(format!("{:<19}", action.name())),
                Span::styled(action.describe().to_string(), theme.muted),
            ]));
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
        lines.push(Line::from(vec![
            Span::styled(format!("  {usage:<27}"), theme.key),
            Span::styled(command.help.to_string(), theme.muted),
        ]));
    }
    lines
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

fn answer_keys(state: &State) -> Line<'static> {
    let yes = key_label(
        state,
        &[Scope::Confirm],
        crate::console::action::Action::Confirm,
    );
    let no = key_label(
        state,
        &[Scope::Confirm],
        crate::console::action::Action::Back,
    );
    Line::from(vec![
        Span::styled(
            format!(" {} ", yes.unwrap_or_else(|| "?".into())),
            state.theme.key,
        ),
        Span::raw("yes   "),
        Span::styled(
            format!("{} ", no.unwrap_or_else(|| "?".into())),
            state.theme.key,
        ),
        Span::raw("no"),
    ])
}

fn draw_confirm(frame: &mut Frame, state: &State, area: Rect, confirm: &Confirm) {
    let width = 76.min(area.width.saturating_sub(4));
    let room = usize::from(width.saturating_sub(4));
    let mut lines = vec![Line::raw("")];
    for part in wrap(&clean(&confirm.question), room) {
        lines.push(Line::styled(
            format!(" {part}"),
            Style::new().patch(state.theme.table_header),
        ));
    }
    if !confirm.details.is_empty() {
        lines.push(Line::raw(""));
    }
    for detail in &confirm.details {
        for part in wrap(&clean(detail), room) {
            lines.push(Line::styled(format!(" {part}"), state.theme.muted));
        }
    }
    lines.push(Line::raw(""));
    lines.push(answer_keys(state));
    let rect = centered(area, width, lines.len() as u16 + 2);
    boxed(frame, state, rect, &confirm.title, lines);
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
    if let Some(note) = &prompt.note {
        for part in wrap(&clean(note), room) {
            lines.push(Line::styled(format!(" {part}"), theme.muted));
        }
    }
    lines.push(Line::raw(""));
    let input_line = lines.len();
    let input_room = room.saturating_sub(REASON.len());
    let scroll = prompt.input.visual_scroll(input_room);
    let shown: String = prompt.input.value().chars().skip(scroll).collect();
    lines.push(Line::from(vec![
        Span::styled(REASON, theme.key),
        Span::styled(shown, theme.input),
    ]));
    match &prompt.error {
        Some(error) => lines.push(Line::styled(format!(" {error}"), theme.level(Level::Error))),
        None => lines.push(Line::raw("")),
    }
    let submit = key_label(
        state,
        &[Scope::Input],
        crate::console::action::Action::Submit,
    );
    let cancel = key_label(state, &[Scope::Input], crate::console::action::Action::Back);
    lines.push(Line::from(vec![
        Span::styled(
            format!(" {} ", submit.unwrap_or_else(|| "?".into())),
            theme.key,
        ),
        Span::raw("confirm   "),
        Span::styled(
            format!("{} ", cancel.unwrap_or_else(|| "?".into())),
            theme.key,
        ),
        Span::raw("cancel"),
    ]));
    let rect = centered(area, width, lines.len() as u16 + 2);
    (rect, lines, input_line)
}
