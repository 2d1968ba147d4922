//! The order detail: both sides of one order (TikTok's and the store's), each flow's state,
//! why it is stuck and what would fix it, cancellations, jobs, what this person may do, the
//! timeline (newest first) and the raw TikTok payload. Built as a list of lines wrapped to the
//! screen width, so the reducer can count them to clamp scrolling.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::domain::job::JobState;
use crate::domain::order::{Flow, FlowStatus, Order, OrderStatus};
use crate::domain::store_order::show_units;
use crate::domain::text::sanitize_multiline;
use crate::domain::triage::urgency;
use crate::service::api::OrderDetail;

use super::{ago, clean, full_stamp, key_label, left, stamp};
use crate::console::action::{Action, Scope};
use crate::console::state::State;
use crate::console::theme::Level;

/// Width of the label column.
const LABEL: usize = 14;

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let Some(detail) = &state.detail else {
        return;
    };
    let theme = &state.theme;
    let title = match &detail.data {
        Some(d) => format!(
            " Order {} · {} · {} ",
            detail.id,
            clean(d.order.link.as_str()),
            d.platform
        ),
        None => format!(" Order {} ", detail.id),
    };
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    let inner = block.inner(area);
    let lines = lines(state, inner.width);
    let page = usize::from(inner.height);
    let scroll = detail.scroll.min(lines.len().saturating_sub(page));
    let status = format!(
        " lines {}–{} of {} ",
        scroll + 1,
        (scroll + page).min(lines.len()),
        lines.len()
    );
    let block = block.title_bottom(Span::styled(status, theme.muted));
    frame.render_widget(block, area);
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(page).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// How many lines the detail has at the current width (for scrolling).
pub fn line_count(state: &State) -> usize {
    lines(state, state.width.saturating_sub(2)).len()
}

fn lines(state: &State, width: u16) -> Vec<Line<'static>> {
    let Some(detail) = &state.detail else {
        return Vec::new();
    };
    let theme = &state.theme;
    let mut doc = Doc {
        lines: Vec::new(),
        width: usize::from(width),
        label: theme.muted,
        heading: theme.title,
    };
    match (&detail.data, &detail.error) {
        (_, Some(error)) => doc.text(
            &format!("could not load: {error}"),
            theme.level(Level::Error),
        ),
        (None, None) => doc.text("loading…", theme.muted),
        (Some(data), None) => order(state, &mut doc, data),
    }
    doc.lines
}

fn order(state: &State, doc: &mut Doc, data: &OrderDetail) {
    // What is wrong comes first: it is why the order was opened.
    diagnosis(state, doc, data);
    waiting_requests(state, doc, data);
    tiktok(state, doc, data);
    store(state, doc, data);
    flows(state, doc, data);
    cancellations_and_jobs(state, doc, data);
    actions(state, doc, data);
    timeline_and_raw(state, doc, data);
}

/// Why it is stuck, or what it waits for, with what would fix it.
fn diagnosis(state: &State, doc: &mut Doc, data: &OrderDetail) {
    let theme = &state.theme;
    let o: &Order = &data.order;
    if !data.diagnosis.is_empty() {
        doc.heading(if o.stuck_reason().is_some() {
            "Why it is stuck and what would fix it"
        } else {
            "What it is waiting for"
        });
        for line in &data.diagnosis {
            doc.bullet(line, theme.level(Level::Warning));
        }
    }
}

/// Resync requests for this order that wait for an operator: asking again would only repeat
/// them.
fn waiting_requests(state: &State, doc: &mut Doc, data: &OrderDetail) {
    if data.pending_requests.is_empty() {
        return;
    }
    doc.heading("Waiting for approval");
    for r in &data.pending_requests {
        doc.bullet(
            &format!(
                "{} {} resync asked by {} {}: {}",
                r.id,
                r.flow.name(),
                clean(&r.requested_by.user),
                ago(state.now, r.requested_at),
                clean(&r.reason)
            ),
            state.theme.level(Level::Warning),
        );
    }
}

/// The order as TikTok has it: status, dates, buyer, items, total.
fn tiktok(state: &State, doc: &mut Doc, data: &OrderDetail) {
    let theme = &state.theme;
    let now = state.now;
    let o: &Order = &data.order;
    let t = &o.tiktok;
    doc.heading("TikTok");
    doc.field(
        "Status",
        &format!(
            "{} · {} ships · {}",
            t.status, t.shipping_type, t.fulfillment_type
        ),
        Style::new(),
    );
    doc.field("Created", &full_stamp(t.created_at), Style::new());
    if let Some(paid) = t.paid_at {
        doc.field(
            "Paid",
            &format!("{} ({})", full_stamp(paid), ago(now, paid)),
            Style::new(),
        );
    }
    if let Some(ship_by) = t.ship_by {
        // Once it has shipped (or will not), its deadline is history, not a countdown.
        let settled = matches!(
            t.status,
            OrderStatus::AwaitingCollection
                | OrderStatus::InTransit
                | OrderStatus::Delivered
                | OrderStatus::Completed
                | OrderStatus::Cancelled
        );
        match settled {
            true => doc.field("Ship by", &full_stamp(ship_by), Style::new()),
            false => doc.field(
                "Ship by",
                &format!("{} ({})", full_stamp(ship_by), left(now, ship_by)),
                theme.urgency(urgency(Some(ship_by), now)),
            ),
        }
    }
    let r = &t.recipient;
    let place = [
        r.city.as_str(),
        r.postal_code.as_str(),
        r.country_code.as_str(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    // TikTok withholds the name in some regions and states.
    let buyer = [r.name.as_str(), place.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    doc.field("Buyer", &buyer, Style::new());
    for line in &t.lines {
        let cancelled = match line.cancelled_ids.len() {
            0 => String::new(),
            n => format!(" · {n} cancelled"),
        };
        doc.field(
            "Item",
            &format!(
                "{}× {} — {}{} at {} {}{cancelled}",
                line.quantity,
                line.seller_sku,
                line.product_name,
                bracketed(&line.sku_name),
                line.unit_price,
                line.currency
            ),
            Style::new(),
        );
    }
    doc.field(
        "Total",
        &format!("{} {}", t.total_amount, t.currency),
        Style::new(),
    );
    if let Some(message) = &t.buyer_message {
        doc.field("Buyer note", message, Style::new());
    }
    if let Some(reason) = &t.cancel_reason {
        doc.field("Cancel reason", reason, theme.level(Level::Warning));
    }
}

/// The store's order: status, fulfillments and what was sent back.
fn store(state: &State, doc: &mut Doc, data: &OrderDetail) {
    let theme = &state.theme;
    let o: &Order = &data.order;
    doc.heading(&format!("Store ({})", data.platform));
    match &o.store {
        None => doc.text("Not in the store yet.", theme.muted),
        Some(s) => {
            let name = s.name.clone().unwrap_or_default();
            doc.field("Order", &format!("{name} {}", s.order_id), Style::new());
            doc.field("Status", &s.status.to_string(), Style::new());
            for f in &s.fulfillments {
                let tracking: Vec<String> = f
                    .tracking
                    .iter()
                    .map(|t| {
                        format!(
                            "{}{}",
                            t.number,
                            bracketed(t.carrier.as_deref().unwrap_or(""))
                        )
                    })
                    .collect();
                let units = if f.lines.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", show_units(&f.lines))
                };
                doc.field(
                    "Fulfillment",
                    &format!("{} {}{units}", f.status, tracking.join(", ")),
                    Style::new(),
                );
            }
            if s.fulfillments.is_empty() {
                doc.field("Fulfillment", "none yet", theme.muted);
            }
        }
    }
    if o.pushed_packages.is_empty() {
        let pushed = o.pushed_tracking.clone().unwrap_or_else(|| "—".into());
        doc.field("Tracking sent", &pushed, Style::new());
    }
    // Each parcel TikTok was told about, with the units it holds.
    for package in &o.pushed_packages {
        let id = package
            .package_id
            .as_ref()
            .map(|p| format!(" · package {p}"))
            .unwrap_or_default();
        doc.field(
            "TikTok package",
            &format!(
                "{} ({}) · {}{id}",
                package.tracking_number,
                package.provider,
                show_units(&o.tiktok.units_of(&package.line_item_ids))
            ),
            Style::new(),
        );
    }
    if let Some(label) = &o.label_file {
        doc.field("Label", label, Style::new());
    }
}

/// Each flow's state, attempts and last error.
fn flows(state: &State, doc: &mut Doc, data: &OrderDetail) {
    let theme = &state.theme;
    let now = state.now;
    let o: &Order = &data.order;
    doc.heading("Flows");
    for flow in Flow::ALL {
        let state_of = o.flows.get(flow);
        let (text, level) = match &state_of.status {
            FlowStatus::Idle => ("idle".to_string(), Level::Info),
            FlowStatus::NotApplicable { why } => (format!("not applicable: {why}"), Level::Info),
            FlowStatus::Waiting { why } => (format!("waiting: {why}"), Level::Warning),
            FlowStatus::Queued => ("queued".to_string(), Level::Info),
            FlowStatus::Done { at } => (format!("done {}", ago(now, *at)), Level::Success),
            FlowStatus::Skipped { why } => (format!("skipped: {why}"), Level::Info),
            FlowStatus::Stuck { reason } => (format!("STUCK: {reason}"), Level::Error),
        };
        let mut text = text;
        if state_of.attempts > 0 {
            text.push_str(&format!(" · {} attempts", state_of.attempts));
        }
        if let Some(error) = &state_of.last_error {
            text.push_str(&format!(
                " · last error {}: {}",
                ago(now, error.at),
                error.message
            ));
            if let Some(code) = &error.code {
                text.push_str(&format!(" (code {code})"));
            }
        }
        doc.field(flow.name(), &text, theme.level(level));
    }
}

/// The order's cancellations and jobs.
fn cancellations_and_jobs(state: &State, doc: &mut Doc, data: &OrderDetail) {
    let now = state.now;
    if !data.cancellations.is_empty() {
        doc.heading("Cancellations");
        for c in &data.cancellations {
            let mut text = format!(
                "{} · {} · {} · by {}",
                c.key,
                c.direction.label(),
                c.what(),
                c.initiator
            );
            if let Some(status) = &c.tiktok_status {
                text.push_str(&format!(" · {status}"));
            }
            if let (true, Some(deadline)) = (c.awaits_seller(), c.seller_deadline) {
                text.push_str(&format!(" · answer within {}", left(now, deadline)));
            }
            doc.text(&text, Style::new());
        }
    }
    if !data.jobs.is_empty() {
        doc.heading("Jobs");
        for job in &data.jobs {
            let state_text = match &job.state {
                JobState::Ready => "ready".to_string(),
                JobState::Running { since } => format!("running since {}", stamp(now, *since)),
                JobState::Done { at } => format!("done {}", ago(now, *at)),
                JobState::Stuck { reason } => format!("stuck: {reason}"),
            };
            let mut text = format!(
                "{} {} · {state_text} · {} attempts",
                job.id,
                job.kind.describe(),
                job.attempts
            );
            if job.maybe_applied {
                text.push_str(" · may have been applied: read back before retrying");
            }
            doc.text(&text, Style::new());
        }
    }
}

/// What this person may do now, with the keys that do it.
fn actions(state: &State, doc: &mut Doc, data: &OrderDetail) {
    let theme = &state.theme;
    doc.heading("What you can do");
    let chain = Scope::CHAIN_DETAIL;
    let offered: Vec<String> = data
        .actions
        .iter()
        .map(|name| match Action::parse(name) {
            Some(action) => match key_label(state, chain, action) {
                Some(key) => format!("{key} {}", action.label()),
                None => format!(":{name}"),
            },
            None => clean(name),
        })
        .collect();
    if offered.is_empty() {
        doc.text("Nothing: you can look, not change.", theme.muted);
    } else {
        doc.text(&offered.join(" · "), theme.key);
    }
}

/// The timeline, newest first, then TikTok's raw payload.
fn timeline_and_raw(state: &State, doc: &mut Doc, data: &OrderDetail) {
    let theme = &state.theme;
    let o: &Order = &data.order;
    doc.heading("Timeline (newest first)");
    if o.timeline.is_empty() {
        // A preloaded or imported past order: its history came whole, with no events.
        doc.text("nothing recorded", theme.muted);
    }
    for entry in o.timeline.iter().rev() {
        let flow = entry.flow.map_or("", |f| f.name());
        doc.text(
            &format!("{}  {flow:<12} {}", stamp(state.now, entry.at), entry.text),
            Style::new(),
        );
    }
    if let Some(raw) = &data.raw {
        doc.heading("Raw TikTok payload");
        for line in sanitize_multiline(&pretty_json(raw)).lines() {
            doc.code(line, theme.muted);
        }
    }
}

/// Lines being built, wrapped to the width.
struct Doc {
    lines: Vec<Line<'static>>,
    width: usize,
    label: Style,
    heading: Style,
}

impl Doc {
    fn heading(&mut self, text: &str) {
        if !self.lines.is_empty() {
            self.lines.push(Line::raw(""));
        }
        self.lines.push(Line::styled(clean(text), self.heading));
    }

    /// `Label         value`, the value wrapped under itself.
    fn field(&mut self, label: &str, value: &str, style: Style) {
        let room = self.width.saturating_sub(LABEL + 2).max(10);
        for (i, part) in wrap(&clean(value), room).into_iter().enumerate() {
            let label = if i == 0 { clean(label) } else { String::new() };
            self.lines.push(Line::from(vec![
                Span::styled(format!("  {label:<LABEL$}"), self.label),
                Span::styled(part, style),
            ]));
        }
    }

    /// A line of code (the raw payload): its indentation kept, a long line wrapped under its
    /// own indentation, nothing trimmed.
    fn code(&mut self, text: &str, style: Style) {
        let indent = text.len() - text.trim_start_matches(' ').len();
        let room = self.width.saturating_sub(2 + indent).max(10);
        for part in wrap(&clean(text.trim_start_matches(' ')), room) {
            self.lines.push(Line::from(Span::styled(
                format!("  {}{part}", " ".repeat(indent)),
                style,
            )));
        }
    }

    /// An item of a list; one indented with spaces (a diagnosis's cause and fix) belongs to
    /// the item before it. Wrapped lines hang under the text, not under the bullet.
    fn bullet(&mut self, text: &str, style: Style) {
        let item = text.trim_start_matches(' ');
        let marker = if item.len() < text.len() {
            "    – "
        } else {
            "  • "
        };
        let hang = " ".repeat(marker.width());
        let room = self.width.saturating_sub(marker.width()).max(10);
        for (i, part) in wrap(&clean(item), room).into_iter().enumerate() {
            let lead = if i == 0 { marker } else { hang.as_str() };
            self.lines
                .push(Line::from(Span::styled(format!("{lead}{part}"), style)));
        }
    }

    fn text(&mut self, text: &str, style: Style) {
        let room = self.width.saturating_sub(2).max(10);
        for part in wrap(&clean(text), room) {
            self.lines
                .push(Line::from(Span::styled(format!("  {part}"), style)));
        }
    }
}

/// `raw` indented two spaces per level when it is JSON (a compact payload becomes readable);
/// anything else as it came.
fn pretty_json(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| raw.to_string())
}

/// Splits `text` into pieces at most `width` columns wide, at spaces where possible.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let needed = if line.is_empty() {
            word.width()
        } else {
            line.width() + 1 + word.width()
        };
        if needed <= width {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if line.width() + c.width().unwrap_or(0) > width {
                out.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    out.push(line);
    out
}

/// " (text)" after a name, or nothing when there is no text (a product without variants, a
/// tracking number without a carrier).
fn bracketed(text: &str) -> String {
    match text.trim() {
        "" => String::new(),
        text => format!(" ({text})"),
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn a_diagnosis_cause_and_fix_sit_under_their_item_wrapped_under_their_text() {
        let mut doc = super::Doc {
            lines: Vec::new(),
            width: 34,
            label: Default::default(),
            heading: Default::default(),
        };
        let style = ratatui::style::Style::new();
        doc.bullet("import is stuck: SKU GHOST-5 is missing", style);
        doc.bullet("  cause: waits on SKU GHOST-5 in the store", style);
        let lines: Vec<String> = doc.lines.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "  • import is stuck: SKU GHOST-5",
                "    is missing",
                "    – cause: waits on SKU GHOST-5",
                "      in the store",
            ]
        );
    }

    #[test]
    fn an_empty_variant_or_carrier_leaves_no_empty_brackets() {
        assert_eq!(super::bracketed(""), "");
        assert_eq!(super::bracketed("  "), "");
        assert_eq!(super::bracketed("Red, S"), " (Red, S)");
    }

    #[test]
    fn compact_json_is_indented_and_other_text_left_alone() {
        assert_eq!(
            super::pretty_json(r#"{"id":"5764","lines":[{"sku":"A"}]}"#),
            "{\n  \"id\": \"5764\",\n  \"lines\": [\n    {\n      \"sku\": \"A\"\n    }\n  ]\n}"
        );
        assert_eq!(super::pretty_json("not json {"), "not json {");
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_inside_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }
}
