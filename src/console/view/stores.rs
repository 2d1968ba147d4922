//! The Stores view: one row per link with its health — last successful poll, last webhook,
//! errors in the last hour, queue depth, stuck jobs, TikTok token and authorization expiry
//! (warned a week ahead, alarmed a day ahead) and the count in each triage list — and a panel with the
//! selected link's details, including the last poll error and what its stuck orders wait on
//! ("12 orders wait on 3 SKUs: SKU-LATE (9), …"), so support fixes causes, not orders.

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row as TableRow, Table, Wrap};

use crate::domain::cause::{StuckCause, summarize};
use crate::domain::clock::{Timestamp, human_duration};
use crate::service::api::LinkHealth;

use super::tables::{Col, fit, widths};
use super::{ago, clean};
use crate::console::effect::counted;
use crate::console::state::State;
use crate::console::theme::Level;
use crate::domain::text::thousands;

/// How worrying an expiry is: red within a day (or gone), yellow within a week.
pub fn expiry(now: Timestamp, at: Option<Timestamp>) -> (String, Level) {
    let Some(at) = at else {
        return ("—".into(), Level::Info);
    };
    let left = at.signed_duration_since(now);
    if left <= Duration::zero() {
        return (
            format!("expired {} ago", human_duration(-left)),
            Level::Error,
        );
    }
    let level = if left < Duration::days(1) {
        Level::Error
    } else if left < Duration::days(7) {
        Level::Warning
    } else {
        Level::Success
    };
    (format!("in {}", human_duration(left)), level)
}

/// The table's narrow cells say "expired"; the panel says how long ago.
fn short((text, level): (String, Level)) -> (String, Level) {
    if text.starts_with("expired") {
        ("expired".into(), level)
    } else {
        (text, level)
    }
}

fn poll(now: Timestamp, link: &LinkHealth) -> (String, Level) {
    match (link.last_poll_ok, &link.last_poll_error) {
        (Some(at), None) => (ago(now, at), Level::Success),
        (Some(at), Some(_)) => (ago(now, at), Level::Warning),
        (None, _) => ("never".into(), Level::Error),
    }
}

/// The link's webhooks since the daemon started, when it has had any.
pub fn webhooks(now: Timestamp, link: &LinkHealth) -> Option<String> {
    let w = link.webhooks;
    if w.verified + w.refused == 0 {
        return None;
    }
    let last = w.last_at.map_or("none verified".into(), |at| {
        format!("last {}", ago(now, at))
    });
    Some(format!(
        "{last} · {} verified · {} refused",
        thousands(usize::try_from(w.verified).unwrap_or(usize::MAX)),
        thousands(usize::try_from(w.refused).unwrap_or(usize::MAX))
    ))
}

const fn c(title: &'static str, width: u16, priority: u8) -> Col {
    Col {
        title,
        width,
        priority,
        fill: false,
        sort: None,
    }
}

/// What the link's stuck orders wait on, a line per kind of cause (see `cause::summarize`).
fn waiting_lines(link: &LinkHealth) -> Vec<String> {
    let counts: Vec<(StuckCause, usize)> = link
        .waiting
        .iter()
        .map(|w| (w.cause.clone(), w.orders))
        .collect();
    summarize(&counts)
}

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let theme = &state.theme;
    let selected = state
        .overview
        .as_ref()
        .and_then(|o| o.links.get(state.stores_selected));
    // The panel grows by the lines saying what stuck orders wait on, so support sees causes.
    let waiting = selected.map(waiting_lines).unwrap_or_default();
    let hooked = selected.is_some_and(|l| webhooks(state.now, l).is_some());
    let panel_height = 7 + waiting.len().min(5) as u16 + u16::from(hooked);
    let [table_area, panel_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(panel_height)]).areas(area);
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(" Stores ", theme.title));
    let inner = block.inner(table_area);
    frame.render_widget(block, table_area);
    let Some(overview) = &state.overview else {
        frame.render_widget(Span::styled("loading…", theme.muted), inner);
        return;
    };
    let cols = [
        c("Link", 12, 0),
        c("Store", 11, 4),
        c("Last poll", 9, 0),
        c("Webhook", 9, 7),
        c("Err/h", 5, 3),
        c("Queue", 6, 5),
        c("Stuck", 6, 6),
        c("Token", 10, 0),
        c("Auth", 10, 0),
        c("Pending", 7, 1),
        c("Missing", 7, 1),
        c("Cancels", 7, 2),
    ];
    let keep = fit(&cols, inner.width);
    let header = TableRow::new(
        cols.iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| Cell::from(c.title)),
    )
    .style(theme.table_header);
    let now = state.now;
    let rows = overview.links.iter().enumerate().map(|(i, link)| {
        let (poll_text, poll_level) = poll(now, link);
        let (token, token_level) = short(expiry(now, link.access_expires_at));
        let (auth, auth_level) = short(expiry(now, link.authorization_expires_at));
        let errors_level = if link.errors_last_hour > 0 {
            Level::Warning
        } else {
            Level::Info
        };
        let cells = [
            Cell::from(clean(link.link.as_str())),
            Cell::from(link.platform.to_string()),
            Cell::from(poll_text).style(theme.level(poll_level)),
            Cell::from(link.webhooks.last_at.map_or("—".into(), |at| ago(now, at))),
            Cell::from(link.errors_last_hour.to_string()).style(theme.level(errors_level)),
            Cell::from(thousands(link.queue_depth)),
            Cell::from(thousands(link.stuck_jobs)),
            Cell::from(token).style(theme.level(token_level)),
            Cell::from(auth).style(theme.level(auth_level)),
            Cell::from(thousands(link.counts.pending)),
            Cell::from(thousands(link.counts.missing_tracking)),
            Cell::from(thousands(link.counts.cancellations_waiting)),
        ];
        let kept = cells
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c);
        let style = if i == state.stores_selected {
            theme.selected
        } else {
            Style::new()
        };
        TableRow::new(kept).style(style)
    });
    frame.render_widget(
        Table::new(rows, widths(&cols, &keep))
            .header(header)
            .column_spacing(1),
        inner,
    );
    if let Some(link) = selected {
        draw_panel(frame, state, panel_area, link, waiting);
    }
}

fn draw_panel(
    frame: &mut Frame,
    state: &State,
    area: Rect,
    link: &LinkHealth,
    waiting: Vec<String>,
) {
    let theme = &state.theme;
    let now = state.now;
    let (token, token_level) = expiry(now, link.access_expires_at);
    let (auth, auth_level) = expiry(now, link.authorization_expires_at);
    let mut lines = vec![Line::from(vec![
        Span::styled("TikTok ", theme.muted),
        Span::raw(clean(&link.shop)),
        Span::styled(" → ", theme.muted),
        Span::raw(format!("{} {}", link.platform, clean(&link.store))),
        Span::styled(format!(" · region {}", clean(&link.region)), theme.muted),
    ])];
    let mut health = vec![Span::styled("Last good poll ", theme.muted)];
    match link.last_poll_ok {
        Some(at) => health.push(Span::raw(ago(now, at))),
        None => health.push(Span::styled("never", theme.level(Level::Error))),
    }
    health.push(Span::styled(
        format!(
            // Jobs, not orders: the counts line below says how many orders are stuck.
            " · {} in the last hour · jobs: {} queued, {} stuck",
            counted(link.errors_last_hour as usize, "error", "errors"),
            thousands(link.queue_depth),
            thousands(link.stuck_jobs)
        ),
        theme.muted,
    ));
    lines.push(Line::from(health));
    if let Some(webhooks) = webhooks(now, link) {
        lines.push(Line::from(vec![
            Span::styled("Webhooks ", theme.muted),
            Span::raw(webhooks),
        ]));
    }
    if let Some(error) = &link.last_poll_error {
        lines.push(Line::from(vec![
            Span::styled("Last poll error ", theme.muted),
            Span::styled(clean(error), theme.level(Level::Error)),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled("Access token ", theme.muted),
        Span::styled(token, theme.level(token_level)),
        Span::styled(" · authorization ", theme.muted),
        Span::styled(auth, theme.level(auth_level)),
    ]));
    let counts = link.counts;
    // Parcels after a cancel are among the stuck, named apart: each is money on its way out.
    let parcels = match counts.parcels {
        0 => String::new(),
        1 => " (1 parcel to stop)".into(),
        n => format!(" ({} parcels to stop)", thousands(n)),
    };
    lines.push(Line::styled(
        format!(
            "{} pending · {} missing tracking · {} stuck{parcels} · {} cancellations waiting · {} orders",
            thousands(counts.pending),
            thousands(counts.missing_tracking),
            thousands(counts.stuck),
            thousands(counts.cancellations_waiting),
            thousands(counts.all)
        ),
        theme.muted,
    ));
    lines.extend(
        waiting
            .into_iter()
            .map(|text| Line::styled(clean(&text), theme.level(Level::Warning))),
    );
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(
            format!(" {} ", clean(link.link.as_str())),
            theme.title,
        ));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;

    #[test]
    fn expiry_warns_a_week_ahead_and_alarms_a_day_ahead() {
        let now = from_unix(1_000_000);
        let at = |hours: i64| Some(now + Duration::hours(hours));
        let table = [
            (at(24 * 30), Level::Success),
            (at(24 * 6), Level::Warning),
            (at(20), Level::Error),
            (at(-2), Level::Error),
            (None, Level::Info),
        ];
        for (when, level) in table {
            assert_eq!(expiry(now, when).1, level, "{when:?}");
        }
        assert_eq!(expiry(now, at(-2)).0, "expired 2h 0m ago");
    }
}
