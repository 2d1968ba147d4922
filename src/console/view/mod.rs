//! Drawing: a pure function of the [`State`]. Same state, same cells — which is what makes
//! snapshots deterministic and lets the screen skip frames that would change nothing.
//! Invariant: every text that came from the service (and so, maybe, from a platform) passes
//! [`clean`] before it reaches a cell, so control characters never reach the terminal.

mod detail;
mod expand;
mod overlays;
mod settings;
mod stores;
mod tables;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::domain::clock::{Timestamp, human_duration};
use crate::domain::text::sanitize;

use super::action::{Action, Scope};
use super::keys::seq_to_string;
use super::state::{Connection, LineKind, Overlay, State, View};
use super::theme::Level;
use super::update::available;
use crate::domain::text::thousands;

pub use detail::line_count as detail_line_count;
pub use expand::lines as expanded_lines;
pub use overlays::line_count as overlay_line_count;
pub use tables::sort_columns_shown;

/// Below this the console shows only a "too small" message. Down to it (a split tmux pane)
/// every view works: fewer columns, shorter labels, a footer that keeps `?` and `q`.
pub const MIN_WIDTH: u16 = 64;
pub const MIN_HEIGHT: u16 = 20;

/// The screen row of a list's first row: header, tabs, the list's top border, column titles.
const FIRST_ROW: u16 = 4;

/// Lines around a list: header, tabs, footer, the list's two borders and its column titles.
const LIST_CHROME: u16 = 6;

/// Rows of a list that fit on a screen `height` lines tall.
pub fn list_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(LIST_CHROME).max(1))
}

pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, state, area);
        return;
    }
    let [header, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, state, header);
    draw_tabs(frame, state, tabs);
    if state.detail.is_some() {
        detail::draw(frame, state, body);
    } else {
        match state.view {
            View::Stores => stores::draw(frame, state, body),
            View::Settings => settings::draw(frame, state, body),
            _ => tables::draw(frame, state, body),
        }
    }
    draw_footer(frame, state, footer);
    draw_toasts(frame, state, body);
    overlays::draw(frame, state, area);
    if let Some(position) = cursor_position(state, area) {
        frame.set_cursor_position(position);
    }
}

/// Where the terminal cursor belongs (only while text is typed), so the screen can place it
/// without drawing twice.
pub fn cursor_position(state: &State, area: Rect) -> Option<Position> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    if let Some(position) = overlays::cursor(state, area) {
        return Some(position);
    }
    if let Some(line) = &state.line {
        let prefix = 2; // ":" or "/" and a space
        let x = area.x + prefix + line.input.visual_cursor() as u16;
        return Some(Position::new(x.min(area.right() - 1), area.bottom() - 1));
    }
    if state.view == View::Settings && state.detail.is_none() {
        return settings::cursor(state, area);
    }
    None
}

/// Untrusted text made safe for a cell.
pub fn clean(text: &str) -> String {
    sanitize(text)
}

/// "3h 12m" until `deadline`, or "2h late" after it.
pub fn left(now: Timestamp, deadline: Timestamp) -> String {
    let remaining = deadline.signed_duration_since(now);
    if remaining.num_seconds() >= 0 {
        human_duration(remaining)
    } else {
        format!("{} late", human_duration(-remaining))
    }
}

/// "3h 12m ago". The console's `now` moves a minute at a time (so an idle screen stays
/// still), which puts anything from the current minute up to 59 s "in the future": all of
/// that, and anything under a minute old, is "just now".
pub fn ago(now: Timestamp, then: Timestamp) -> String {
    let age = now.signed_duration_since(then);
    if age.num_seconds() < 60 {
        return "just now".into();
    }
    format!("{} ago", human_duration(age))
}

/// A short UTC time for lists: "11-20 14:05", or for a time more than about six months from
/// `now` its date with the year, "2025-12-09" (as `ls -l` does): a year-old order's month and
/// day alone would read as this year's.
pub fn stamp(now: Timestamp, at: Timestamp) -> String {
    let far = now.signed_duration_since(at).num_days().abs() > 182;
    let format = if far { "%Y-%m-%d" } else { "%m-%d %H:%M" };
    at.format(format).to_string()
}

/// `text` in `width` columns of the terminal: whole if it fits, else as much as fits before
/// a "…".
pub fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    match width {
        0 => String::new(),
        _ => format!("{}…", cut_to_width(text, width - 1)),
    }
}

/// A full UTC time: "2026-11-20 14:05 UTC".
pub fn full_stamp(at: Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The key bound to `action` where keys are looked up now, as the footer and help spell it.
pub fn key_label(state: &State, chain: &[Scope], action: Action) -> Option<String> {
    state
        .keymap
        .key_for(chain, action)
        .map(|keys| seq_to_string(keys))
}

fn too_small(frame: &mut Frame, state: &State, area: Rect) {
    let quit = key_label(state, Scope::CHAIN_LIST, Action::Quit).unwrap_or_else(|| ":q".into());
    let lines = vec![
        Line::styled("Terminal too small", state.theme.title),
        Line::raw(format!(
            "orderdeck needs {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}.",
            area.width, area.height
        )),
        Line::raw("Enlarge the window or use a smaller font."),
        Line::styled(format!("{quit} quits"), state.theme.muted),
    ];
    let top = area.height.saturating_sub(lines.len() as u16) / 2;
    let rect = Rect::new(area.x, area.y + top, area.width, area.height - top);
    frame.render_widget(
        Paragraph::new(lines).alignment(ratatui::layout::Alignment::Center),
        rect,
    );
}

/// The tab a click at (`column`, `row`) lands on.
pub fn tab_at(state: &State, column: u16, row: u16) -> Option<View> {
    if row != 1 || state.width < MIN_WIDTH || state.height < MIN_HEIGHT {
        return None;
    }
    let mut x = 0usize;
    for (view, gap, label) in tab_labels(state, state.width) {
        let start = x + gap.len();
        x = start + label.width();
        if (start..x).contains(&usize::from(column)) {
            return Some(view);
        }
    }
    None
}

/// The row of the list (or of the Stores table) a click on screen row `row` lands on.
pub fn row_at(state: &State, row: u16) -> Option<usize> {
    let last = state.height.checked_sub(3)?;
    if row < FIRST_ROW || row > last {
        return None;
    }
    let offset = usize::from(row - FIRST_ROW);
    let top = match state.view {
        View::Pending => state.pending.top,
        View::Missing => state.missing.top,
        View::Stuck => state.stuck.top,
        View::Cancellations => state.cancellations.top,
        View::Approvals => state.approvals.top,
        View::Activity => state.activity.top,
        View::Orders => state.orders.top,
        View::Stores => 0,
        View::Settings => return None,
    };
    Some(top + offset)
}

fn draw_header(frame: &mut Frame, state: &State, area: Rect) {
    let theme = &state.theme;
    let session = &state.session;
    let role = session.role.map_or("no role", |r| r.name());
    let mut left = vec![Span::styled(" orderdeck ", theme.brand)];
    if let Some(badge) = &state.badge {
        left.push(Span::raw(" "));
        left.push(Span::styled(
            format!(" {} ", clean(&badge.text)),
            theme.badge(badge.colour),
        ));
    }
    left.push(Span::styled(
        format!(" {} · {role}", clean(&session.user)),
        theme.header,
    ));
    if session.readonly {
        left.push(Span::styled(" 🔒 read-only (--readonly)", theme.lock));
    } else if session.read_only() {
        left.push(Span::styled(" 🔒 read-only", theme.lock));
    }
    let scope = state
        .link
        .as_ref()
        .map_or("all links".to_string(), |l| format!("link {l}"));
    left.push(Span::styled(format!(" · {scope}"), theme.header));
    let right = match &state.connection {
        // In-process (no daemon): nothing polls, so what is shown is only as fresh as the
        // last sync someone ran.
        Connection::Live if !session.daemon => {
            let text = if area.width >= 110 {
                "○ no daemon: showing the store as of the last sync "
            } else {
                "○ no daemon: store as of the last sync "
            };
            Span::styled(text, theme.level(Level::Warning))
        }
        Connection::Live => Span::styled("● live ", theme.level(Level::Success)),
        Connection::Reconnecting { reason } => Span::styled(
            format!("⟳ reconnecting… ({}) ", clean(reason)),
            theme.level(Level::Warning),
        ),
    };
    draw_split(frame, area, Line::from(left), Line::from(right));
}

/// A line with `left` flush left and `right` flush right (right wins when they collide).
fn draw_split(frame: &mut Frame, area: Rect, left: Line, right: Line) {
    let right_width = (right.width() as u16).min(area.width);
    frame.render_widget(left, area);
    let right_area = Rect::new(area.right() - right_width, area.y, right_width, 1);
    frame.render_widget(Clear, right_area);
    frame.render_widget(right, right_area);
}

fn tab_count(state: &State, view: View) -> Option<usize> {
    let overview = state.overview.as_ref()?;
    if view == View::Approvals {
        return Some(overview.pending_requests);
    }
    let links = overview
        .links
        .iter()
        .filter(|l| state.link.as_ref().is_none_or(|want| *want == l.link));
    Some(match view {
        View::Pending => links.map(|l| l.counts.pending).sum(),
        View::Missing => links.map(|l| l.counts.missing_tracking).sum(),
        View::Stuck => links.map(|l| l.counts.stuck).sum(),
        View::Cancellations => links.map(|l| l.counts.cancellations_waiting).sum(),
        View::Orders => links.map(|l| l.counts.all).sum(),
        _ => return None,
    })
}

/// The tab bar's labels, as wide as fits: full titles, then short ones, then — right to left —
/// three letters, then one, for tabs not shown, then their counts rounded (`1.2M`), and last the
/// shown tab's the same way (the box below names it), rather than cut its count short. Numbers
/// stay, so each tab can still be told by its key. Each with the gap before it.
fn tab_labels(state: &State, room: u16) -> Vec<(View, &'static str, String)> {
    let label = |view: View, name: &str, count: &dyn Fn(usize) -> String| {
        let count = tab_count(state, view).map_or(String::new(), |n| format!(" {}", count(n)));
        format!("{}:{name}{count}", view.index() + 1)
    };
    let width = |labels: &[String], gap: &str| -> usize {
        labels.iter().map(|l| l.width() + gap.len()).sum()
    };
    let room = usize::from(room);
    let exact = |n: usize| thousands(n);
    let mut labels: Vec<String> = View::ALL
        .iter()
        .map(|v| label(*v, v.title(), &exact))
        .collect();
    let mut gap = "  ";
    if width(&labels, gap) >= room {
        labels = View::ALL
            .iter()
            .map(|v| label(*v, v.short(), &exact))
            .collect();
    }
    if width(&labels, gap) >= room {
        gap = " ";
    }
    let rounded = |n: usize| rounded_count(n);
    let stages: [(usize, &dyn Fn(usize) -> String); 3] = [(3, &exact), (1, &exact), (1, &rounded)];
    for (letters, count) in stages {
        for view in View::ALL.into_iter().rev() {
            if width(&labels, gap) < room {
                break;
            }
            if view != state.view {
                let short: String = view.short().chars().take(letters).collect();
                labels[view.index()] = label(view, &short, count);
            }
        }
    }
    let shown = state.view;
    for letters in [usize::MAX, 3, 1] {
        if width(&labels, gap) < room {
            break;
        }
        let short: String = shown.short().chars().take(letters).collect();
        labels[shown.index()] = label(shown, &short, &rounded);
    }
    View::ALL
        .into_iter()
        .zip(labels)
        .map(|(view, text)| (view, if view == View::Stores { " " } else { gap }, text))
        .collect()
}

/// A count in four characters or so, for a crowded tab bar: `9,999`, `12k`, `1.2M`.
fn rounded_count(n: usize) -> String {
    match n {
        0..10_000 => thousands(n),
        10_000..1_000_000 => format!("{}k", n / 1_000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

fn draw_tabs(frame: &mut Frame, state: &State, area: Rect) {
    let mut spans = Vec::new();
    for (view, gap, text) in tab_labels(state, area.width) {
        let style = if view == state.view {
            state.theme.tab_active
        } else {
            state.theme.tab
        };
        spans.push(Span::raw(gap));
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Line::from(spans), area);
}

/// Footer priorities per context: the first ones that fit are shown.
fn footer_actions(state: &State) -> &'static [Action] {
    use Action::*;
    if state.overlay.is_some() {
        return &[Down, Up, Back];
    }
    if state.detail.is_some() {
        return &[
            Resync,
            RetryStuck,
            ParcelHandled,
            ReprintLabel,
            ApproveCancel,
            RejectCancel,
            CopyId,
            Back,
            Help,
        ];
    }
    match state.view {
        View::Stores => &[Open, EditSettings, SyncNow, CopyId, CommandMode, Help, Quit],
        View::Pending | View::Missing | View::Stuck | View::Orders => &[
            Resync,
            RetryStuck,
            ReprintLabel,
            ToggleMark,
            Open,
            Filter,
            SortNext,
            CommandMode,
            Help,
            Quit,
        ],
        View::Cancellations => &[
            ApproveCancel,
            RejectCancel,
            Resync,
            ToggleMark,
            Open,
            Filter,
            CommandMode,
            Help,
            Quit,
        ],
        View::Approvals => &[
            ApproveRequest,
            RejectRequest,
            ToggleMark,
            Open,
            CommandMode,
            Help,
            Quit,
        ],
        View::Activity => &[Follow, Filter, Open, CopyId, CommandMode, Help, Quit],
        View::Settings => &[
            EditField,
            ToggleField,
            SaveSettings,
            RevertSettings,
            NextLink,
            CommandMode,
            Help,
            Quit,
        ],
    }
}

/// In an order's detail, an action on the order is hinted only when the service offers it for
/// this order: no "t retry" when nothing is stuck, no "p label" when the seller ships, no
/// "a approve" without a buyer's cancel request.
fn offered_in_detail(state: &State, action: Action) -> bool {
    use Action::*;
    let Some(data) = state.detail.as_ref().and_then(|d| d.data.as_ref()) else {
        return true;
    };
    let on_the_order = matches!(
        action,
        Resync | RetryStuck | ParcelHandled | ReprintLabel | ApproveCancel | RejectCancel
    );
    !on_the_order || data.actions.iter().any(|name| name == action.name())
}

fn draw_footer(frame: &mut Frame, state: &State, area: Rect) {
    let theme = &state.theme;
    if let Some(line) = &state.line {
        let sigil = match line.kind {
            LineKind::Filter { .. } => "/",
            LineKind::Command => ":",
        };
        let width = usize::from(area.width.saturating_sub(2));
        let scroll = line.input.visual_scroll(width);
        let shown: String = line.input.value().chars().skip(scroll).collect();
        let mut spans = vec![
            Span::styled(format!("{sigil} "), theme.key),
            Span::styled(shown.clone(), theme.input),
        ];
        let room = usize::from(area.width).saturating_sub(2 + shown.width() + 3);
        spans.extend(candidate_spans(state, line, room));
        frame.render_widget(Line::from(spans), area);
        return;
    }
    if !state.typed.is_empty() {
        let typed = seq_to_string(&state.typed);
        frame.render_widget(
            Line::from(vec![
                Span::styled(format!(" {typed} …"), theme.key),
                Span::styled("  waiting for the next key of a chord", theme.muted),
            ]),
            area,
        );
        return;
    }
    if matches!(
        state.overlay,
        Some(Overlay::Confirm(_) | Overlay::Prompt(_))
    ) {
        // The dialog names its own keys.
        return;
    }
    let chain = super::update::chain(state);
    let hint = |action: Action| {
        let key = key_label(state, chain, action)?;
        let label = if state.overlay.is_some() && action == Action::Back {
            "close"
        } else {
            action.label()
        };
        Some((key, label))
    };
    // Help and quit are always offered, so they are counted first and drawn last.
    let (help, quit) = if state.overlay.is_none() {
        (hint(Action::Help), hint(Action::Quit))
    } else {
        (None, None)
    };
    let width = |(key, label): &(String, &str)| key.width() + label.width() + 3;
    let mut used = help.as_ref().map_or(0, width) + quit.as_ref().map_or(0, width);
    let mut hints = Vec::new();
    for action in footer_actions(state) {
        let always = matches!(action, Action::Help | Action::Quit);
        if always || available(state, *action).is_err() || !offered_in_detail(state, *action) {
            continue;
        }
        let Some(entry) = hint(*action) else {
            continue;
        };
        if used + width(&entry) > usize::from(area.width) {
            break;
        }
        used += width(&entry);
        hints.push(entry);
    }
    hints.extend(quit);
    hints.extend(help);
    let spans: Vec<Span> = hints
        .into_iter()
        .flat_map(|(key, label)| {
            [
                Span::styled(format!(" {key}"), theme.key),
                Span::styled(format!(" {label} "), Style::new()),
            ]
        })
        .collect();
    frame.render_widget(Line::from(spans), area);
}

/// The completion candidates after the typed text, in `room` columns: scrolled so the one Tab
/// put in place is on screen (highlighted), with ‹ and › where more are out of sight.
fn candidate_spans(
    state: &State,
    line: &crate::console::state::InputLine,
    room: usize,
) -> Vec<Span<'static>> {
    let theme = &state.theme;
    let candidates = &line.candidates;
    if candidates.is_empty() || room < 8 {
        return Vec::new();
    }
    let focus = line.cycling.unwrap_or(0);
    let width = |i: usize| candidates[i].width() + 2;
    // Start at the focus and take candidates to its left while they fit, then to its right.
    let (mut first, mut last) = (focus, focus);
    let mut used = width(focus) + 4;
    while first > 0 && used + width(first - 1) <= room {
        first -= 1;
        used += width(first);
    }
    while last + 1 < candidates.len() && used + width(last + 1) <= room {
        last += 1;
        used += width(last);
    }
    let mut spans = vec![Span::styled(
        if first > 0 { " ‹ " } else { "   " },
        theme.muted,
    )];
    for (i, candidate) in candidates.iter().enumerate().take(last + 1).skip(first) {
        let style = if line.cycling == Some(i) {
            theme.selected
        } else {
            theme.muted
        };
        spans.push(Span::styled(candidate.clone(), style));
        spans.push(Span::raw("  "));
    }
    if last + 1 < candidates.len() {
        spans.push(Span::styled("›", theme.muted));
    }
    spans
}

fn draw_toasts(frame: &mut Frame, state: &State, body: Rect) {
    let dismiss = key_label(state, &[Scope::Global], Action::DismissToasts);
    let max_width = body.width.saturating_sub(4);
    let mut y = body.bottom().saturating_sub(2);
    for toast in state.toasts.iter().rev() {
        if y <= body.y + 1 {
            break;
        }
        let sign = match toast.level {
            Level::Info => "·",
            Level::Success => "✓",
            Level::Warning => "!",
            Level::Error => "✗",
        };
        let mut text = format!(" {sign} {} ", clean(&toast.text));
        // The hint only where it fits: the message matters more than how to clear it.
        if let (true, Some(key)) = (toast.stays, &dismiss) {
            let hint = format!("({key} dismisses) ");
            if text.width() + hint.width() <= usize::from(max_width) {
                text.push_str(&hint);
            }
        }
        let text = if text.width() > usize::from(max_width) {
            // Cut, but never lost: the history has it whole.
            let tail = " … :messages ";
            let keep = usize::from(max_width).saturating_sub(tail.width());
            format!("{}{tail}", cut_to_width(&text, keep))
        } else {
            text
        };
        let width = (text.width() as u16).min(max_width);
        let rect = Rect::new(body.right().saturating_sub(width + 1), y, width, 1);
        frame.render_widget(Clear, rect);
        frame.render_widget(Span::styled(text, state.theme.toast(toast.level)), rect);
        y -= 1;
    }
}

/// The longest start of `text` at most `width` columns wide.
fn cut_to_width(text: &str, width: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|c| {
            used += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
            used <= width
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;

    #[test]
    fn a_cell_longer_than_its_column_ends_in_an_ellipsis_within_it() {
        assert_eq!(cut("#1002", 8), "#1002");
        assert_eq!(cut("#TT576405000003850840", 8), "#TT5764…");
        assert_eq!(cut("12345678", 8), "12345678");
        // Wide characters count as two columns, and never half of one shows.
        assert_eq!(cut("田中太郎様", 6), "田中…");
        assert_eq!(cut("田中太郎様", 5), "田中…");
        assert_eq!(cut("anything", 1), "…");
        assert_eq!(cut("anything", 0), "");
    }

    #[test]
    fn a_list_time_shows_its_year_once_it_is_half_a_year_away() {
        // 2026-12-04 04:48 UTC.
        let now = from_unix(1_796_359_680);
        let days = |n: i64| now - chrono::Duration::days(n);
        assert_eq!(stamp(now, days(2)), "12-02 04:48");
        assert_eq!(stamp(now, days(150)), "07-07 04:48");
        assert_eq!(
            stamp(now, days(360)),
            "2025-12-09",
            "not this year's December"
        );
        assert_eq!(stamp(now, now + chrono::Duration::days(200)), "2027-06-22");
    }
}
