//! The Settings view: the links down the left, the selected link's form on the right, grouped
//! in sections (an Amazon link has no store → TikTok section), changed values starred, the
//! field being edited shown as an input (or a choice list), and under the form the selected
//! field's description and, when a value was refused, the refusal and why.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Padding, Paragraph, Wrap};

use crate::domain::access::{Permission, refusal};
use crate::domain::settings::SettingKey;

use super::{clean, cut};
use crate::console::effect::counted;
use crate::console::settings_form::{Editor, FieldKind, FormRow, kind};
use crate::console::state::State;
use crate::console::theme::Level;

const LINKS_WIDTH: u16 = 18;
/// Width of the key column in the form.
const KEY_WIDTH: usize = 25;
/// Lines under the form for the description and a refusal.
const NOTES: u16 = 4;

fn areas(area: Rect) -> (Rect, Rect, Rect) {
    let [links, form] =
        Layout::horizontal([Constraint::Length(LINKS_WIDTH), Constraint::Fill(1)]).areas(area);
    let [form, notes] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(NOTES)]).areas(form);
    (links, form, notes)
}

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let theme = &state.theme;
    let (links_area, form_area, notes_area) = areas(area);
    let form = &state.settings;
    let links: Vec<Line> = state
        .overview
        .iter()
        .flat_map(|o| o.links.iter())
        .map(|l| {
            let chosen = form.link.as_ref() == Some(&l.link);
            let style = if chosen { theme.selected } else { Style::new() };
            Line::styled(format!(" {:<16}", clean(l.link.as_str())), style)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(links).block(
            Block::bordered()
                .border_style(theme.border)
                .title(Span::styled(" Links ", theme.title)),
        ),
        links_area,
    );
    let title = match &form.loaded {
        Some(view) => format!(
            " {} · {} · version {} ",
            view.link, view.platform, view.version
        ),
        None => " Settings ".to_string(),
    };
    let changes = form.changes().len();
    let status = if !state.session.may(Permission::EditLinkSettings) {
        Span::styled(
            format!(
                " read-only: {} ",
                refusal(state.session.role, Permission::EditLinkSettings)
            ),
            theme.lock,
        )
    } else if changes > 0 {
        Span::styled(
            format!(" ● {} not saved ", counted(changes, "change", "changes")),
            theme.level(Level::Warning),
        )
    } else {
        Span::raw("")
    };
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
        .title_bottom(status);
    let inner = block.inner(form_area);
    frame.render_widget(block, form_area);
    let Some(current) = form.current() else {
        frame.render_widget(Span::styled("loading…", theme.muted), inner);
        return;
    };
    let lines = form_lines(state, current, usize::from(inner.width));
    let selected_line = lines
        .iter()
        .position(|(row, _)| *row == Some(form.selected))
        .unwrap_or(0);
    let page = usize::from(inner.height);
    let scroll = selected_line.saturating_sub(page.saturating_sub(1));
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(scroll)
        .take(page)
        .map(|(_, l)| l)
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
    draw_notes(frame, state, notes_area);
    if let Some(Editor::Choice {
        options, selected, ..
    }) = &form.editor
    {
        draw_choices(frame, state, form_area, options, *selected);
    }
}

/// What the link's store does whatever `key` says, when it cannot honour it.
fn fixed(state: &State, key: crate::domain::settings::SettingKey) -> Option<String> {
    let platform = state.settings.loaded.as_ref()?.platform;
    key.fixed_on(platform)
}

/// Every line of the form with the index of the row it shows (None for headings), `width`
/// columns wide: a value longer than its room ends in "…" (the one being edited scrolls).
fn form_lines(
    state: &State,
    current: &crate::domain::settings::LinkSettings,
    width: usize,
) -> Vec<(Option<usize>, Line<'static>)> {
    let theme = &state.theme;
    let form = &state.settings;
    let loaded = form.loaded.as_ref().map(|v| &v.settings);
    let mut out = Vec::new();
    let mut section = "";
    for (i, row) in form.rows().into_iter().enumerate() {
        if row.section() != section {
            section = row.section();
            if !out.is_empty() {
                out.push((None, Line::raw("")));
            }
            out.push((None, Line::styled(section.to_string(), theme.title)));
        }
        let (key, value, changed) = match &row {
            FormRow::Field(key) if fixed(state, *key).is_some() => (
                key.name().to_string(),
                fixed(state, *key).unwrap_or_default(),
                false,
            ),
            FormRow::Field(key) => {
                let value = current.value_text(*key);
                let changed = loaded.is_some_and(|l| l.value_text(*key) != value);
                let value = if value.is_empty() {
                    "(none)".to_string()
                } else {
                    value
                };
                (key.name().to_string(), value, changed)
            }
            FormRow::Mapping { carrier, provider } => {
                let changed = loaded.is_some_and(|l| l.carrier_map.get(carrier) != Some(provider));
                (format!("  {carrier}"), format!("→ {provider}"), changed)
            }
            FormRow::AddMapping => ("  + add a mapping".to_string(), String::new(), false),
        };
        let editing = i == form.selected && form.editor.is_some();
        let value = match (&form.editor, editing) {
            // Completion puts TikTok's provider names into the input: shown, they are cleaned.
            (Some(Editor::Text { input, .. } | Editor::Mapping { input, .. }), true) => {
                clean(input.value())
            }
            // The marks, the key and a space before it.
            _ => cut(&clean(&value), width.saturating_sub(KEY_WIDTH + 3)),
        };
        let selected = i == form.selected;
        let style = if selected {
            theme.selected
        } else {
            Style::new()
        };
        let value_style = match (&row, editing) {
            (_, true) => theme.input,
            (FormRow::Field(k), _) if kind(*k, current) == FieldKind::Toggle && value == "on" => {
                theme.level(Level::Success)
            }
            _ => Style::new(),
        };
        out.push((
            Some(i),
            Line::from(vec![
                Span::styled(if changed { "*" } else { " " }, theme.level(Level::Warning)),
                Span::styled(if selected { "›" } else { " " }, theme.key),
                Span::styled(format!("{:<KEY_WIDTH$}", clean(&key)), style),
                Span::raw(" "),
                Span::styled(
                    value,
                    value_style.patch(if editing { Style::new() } else { style }),
                ),
            ]),
        ));
    }
    out
}

fn draw_notes(frame: &mut Frame, state: &State, area: Rect) {
    let theme = &state.theme;
    let form = &state.settings;
    let mut lines = Vec::new();
    let about = match form.selected_row() {
        Some(FormRow::Field(key)) => key.description().to_string(),
        Some(FormRow::Mapping { .. } | FormRow::AddMapping) => {
            SettingKey::CarrierMap.description().to_string()
        }
        None => String::new(),
    };
    lines.push(Line::styled(about, theme.muted));
    if let Some(error) = &form.error {
        lines.push(Line::styled(
            format!("refused: {}", clean(error)),
            theme.level(Level::Error),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::new().padding(Padding::horizontal(1))),
        area,
    );
}

fn draw_choices(frame: &mut Frame, state: &State, form: Rect, options: &[String], selected: usize) {
    let theme = &state.theme;
    let height = (options.len() as u16 + 2).min(form.height);
    let width = options
        .iter()
        .map(|o| o.len() as u16)
        .max()
        .unwrap_or(10)
        .max(24)
        + 4;
    let area = Rect::new(
        form.x + (form.width.saturating_sub(width)) / 2,
        form.y + (form.height.saturating_sub(height)) / 2,
        width.min(form.width),
        height,
    );
    let lines: Vec<Line> = options
        .iter()
        .enumerate()
        .map(|(i, option)| {
            let style = if i == selected {
                theme.selected
            } else {
                theme.dialog
            };
            Line::styled(format!(" {option} "), style)
        })
        .collect();
    frame.render_widget(ratatui::widgets::Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_style(theme.border)
                .title(Span::styled(" choose ", theme.title)),
        ),
        area,
    );
}

/// The cursor while a text field or a mapping is being edited.
pub fn cursor(state: &State, screen: Rect) -> Option<Position> {
    let form = &state.settings;
    let Some(Editor::Text { input, .. } | Editor::Mapping { input, .. }) = &form.editor else {
        return None;
    };
    let current = form.current()?;
    let body = Rect::new(
        screen.x,
        screen.y + 2,
        screen.width,
        screen.height.saturating_sub(3),
    );
    let (_, form_area, _) = areas(body);
    let inner = Block::bordered().inner(form_area);
    let lines = form_lines(state, current, usize::from(inner.width));
    let line = lines
        .iter()
        .position(|(row, _)| *row == Some(form.selected))?;
    let page = usize::from(inner.height);
    let scroll = line.saturating_sub(page.saturating_sub(1));
    let x = inner.x + 2 + KEY_WIDTH as u16 + 1 + input.visual_cursor() as u16;
    let y = inner.y + (line - scroll) as u16;
    Some(Position::new(x.min(inner.right().saturating_sub(1)), y))
}
