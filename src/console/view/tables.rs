//! The paged list views: Pending orders, Missing tracking, Stuck, Orders (every order),
//! Cancellations, Approvals, Activity.
//! Each shows only the rows on screen (from the page the service sent), columns chosen by
//! priority to fit the width, a ▲/▼ on the sorted column, and a status line saying which rows
//! are shown of how many, the filter, and the marks (with how many the filter hides). In the
//! order lists every column shown can be sorted by, and only those are offered
//! ([`sort_columns_shown`]).

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row as TableRow, Table};

use crate::service::api::{OrderColumn, SortDir};

use super::{ago, clean, cut, left, stamp};
use crate::console::effect::counted;
use crate::console::list::{List, Row};
use crate::console::state::{State, View};
use crate::console::theme::Level;
use crate::domain::text::thousands;

/// A column: its title, width, how much it matters when space is short (0 = always shown),
/// whether it takes the space left over, and the sort key it shows.
pub struct Col {
    pub title: &'static str,
    pub width: u16,
    pub priority: u8,
    pub fill: bool,
    pub sort: Option<OrderColumn>,
}

const fn col(title: &'static str, width: u16, priority: u8) -> Col {
    Col {
        title,
        width,
        priority,
        fill: false,
        sort: None,
    }
}

const fn fill(title: &'static str, width: u16, priority: u8) -> Col {
    Col {
        title,
        width,
        priority,
        fill: true,
        sort: None,
    }
}

const fn sorted(mut c: Col, sort: OrderColumn) -> Col {
    c.sort = Some(sort);
    c
}

/// A list's own order, as a column and the direction it runs in (a list asked for its own order
/// "descending" runs the other way).
type OwnOrder = (OrderColumn, SortDir);

/// A cell of a list row: its text and style. [`draw_list`] cuts the text to its column with
/// "…" when it is longer, so a clipped store number or cause never reads as whole.
struct Field {
    text: String,
    style: Style,
}

impl Field {
    fn style(self, style: Style) -> Field {
        Field { style, ..self }
    }
}

impl<S: Into<String>> From<S> for Field {
    fn from(text: S) -> Field {
        Field {
            text: text.into(),
            style: Style::new(),
        }
    }
}

/// A dash for a field nothing fills (a buyer TikTok does not name before payment), as for
/// an order not in the store yet: a blank cell reads as a drawing fault.
fn or_dash(text: String) -> String {
    match text.trim().is_empty() {
        true => "—".into(),
        false => text,
    }
}

/// Which columns fit in `width`: the least important go first.
pub fn fit(cols: &[Col], width: u16) -> Vec<bool> {
    let mut keep = vec![true; cols.len()];
    let need = |keep: &[bool]| -> u16 {
        cols.iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.width + 1)
            .sum()
    };
    let mut by_priority: Vec<usize> = (0..cols.len()).collect();
    by_priority.sort_by_key(|i| std::cmp::Reverse(cols[*i].priority));
    for i in by_priority {
        if need(&keep) <= width || cols[i].priority == 0 {
            break;
        }
        keep[i] = false;
    }
    keep
}

pub fn widths(cols: &[Col], keep: &[bool]) -> Vec<Constraint> {
    cols.iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| {
            if c.fill {
                Constraint::Min(c.width)
            } else {
                Constraint::Length(c.width)
            }
        })
        .collect()
}

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    match state.view {
        View::Pending => orders(frame, state, area, &state.pending, View::Pending),
        View::Missing => orders(frame, state, area, &state.missing, View::Missing),
        View::Stuck => orders(frame, state, area, &state.stuck, View::Stuck),
        View::Orders => every_order(frame, state, area),
        View::Cancellations => cancellations(frame, state, area),
        View::Approvals => approvals(frame, state, area),
        _ => activity(frame, state, area),
    }
}

/// The Pending list's columns; the view's own order is by when the order was paid.
fn pending_cols() -> [Col; 7] {
    order_cols("Why it is not in the store")
}

/// The Stuck list's columns; its own order is longest stuck first.
fn stuck_cols() -> [Col; 7] {
    order_cols("What a person must do")
}

/// The columns Pending and Stuck share; they differ in what the last one says about the order.
fn order_cols(why: &'static str) -> [Col; 7] {
    [
        col("", 1, 0),
        sorted(col("Order", 18, 0), OrderColumn::Id),
        sorted(col("Link", 10, 2), OrderColumn::Link),
        sorted(col("TikTok status", 17, 4), OrderColumn::Status),
        sorted(col("Paid", 11, 3), OrderColumn::Paid),
        sorted(col("Store", 8, 5), OrderColumn::StoreOrder),
        sorted(fill(why, 20, 0), OrderColumn::Why),
    ]
}

/// The Orders view's own order: newest first.
const EVERY_ORDER_DEFAULT: OwnOrder = (OrderColumn::Created, SortDir::Desc);

/// The Orders view's columns: what support needs to find the order a customer calls about
/// (TikTok id, store order number, buyer, which link, when), then where it stands. Each is a
/// column the store indexes the every-order list by, so each sorts a million orders as a range
/// scan.
fn every_order_cols() -> [Col; 9] {
    [
        col("", 1, 0),
        sorted(col("Order", 18, 0), OrderColumn::Id),
        sorted(col("Store", 8, 0), OrderColumn::StoreOrder),
        sorted(col("Buyer", 16, 0), OrderColumn::Buyer),
        sorted(col("Created", 11, 1), OrderColumn::Created),
        sorted(col("TikTok status", 17, 2), OrderColumn::Status),
        // Kept before Created on a narrow screen: one store number can name orders of
        // several stores (`:order #1024`), and only the link tells them apart.
        sorted(col("Link", 10, 0), OrderColumn::Link),
        sorted(fill("Why", 20, 3), OrderColumn::Why),
        sorted(col("SKUs", 16, 4), OrderColumn::Skus),
    ]
}

/// The Missing tracking list's columns; its own order is by ship-by deadline.
fn missing_cols() -> [Col; 8] {
    [
        col("", 1, 0),
        sorted(col("Order", 18, 0), OrderColumn::Id),
        sorted(col("Link", 10, 3), OrderColumn::Link),
        sorted(col("Ship by", 12, 0), OrderColumn::ShipBy),
        sorted(col("Store", 7, 4), OrderColumn::StoreOrder),
        sorted(fill("Store side", 26, 0), OrderColumn::StorefrontSide),
        sorted(col("SKUs", 16, 5), OrderColumn::Skus),
        sorted(col("Buyer", 14, 6), OrderColumn::Buyer),
    ]
}

/// What the sort key cycles through in the order list shown: the view's own order first, then
/// each column on screen at this width, left to right. Empty where nothing sorts.
/// The Cancellations list's columns; its own order is the index's (newest first).
fn cancellation_cols() -> [Col; 9] {
    [
        col("", 1, 0),
        sorted(col("Order", 18, 0), OrderColumn::Id),
        sorted(col("Link", 10, 4), OrderColumn::Link),
        sorted(col("Direction", 14, 2), OrderColumn::Direction),
        sorted(col("By", 6, 5), OrderColumn::Initiator),
        col("What", 11, 3),
        sorted(col("Answer by", 10, 0), OrderColumn::Deadline),
        sorted(fill("Sync", 20, 0), OrderColumn::Sync),
        sorted(col("Reason", 26, 3), OrderColumn::Reason),
    ]
}

/// The Approvals list's columns; its own order is newest request first.
fn approval_cols() -> [Col; 7] {
    [
        col("", 1, 0),
        sorted(col("Request", 9, 0), OrderColumn::Request),
        sorted(col("Asked by", 16, 0), OrderColumn::Requester),
        sorted(col("Asked", 9, 2), OrderColumn::Asked),
        sorted(col("Flow", 8, 1), OrderColumn::Flow),
        sorted(col("Targets", 28, 3), OrderColumn::Targets),
        sorted(fill("Reason", 16, 0), OrderColumn::Reason),
    ]
}

/// The Activity list's columns; its own order is by time, newest first.
fn activity_cols() -> [Col; 5] {
    [
        sorted(col("When", 11, 0), OrderColumn::When),
        sorted(col("Who", 12, 0), OrderColumn::Who),
        sorted(col("Link", 10, 3), OrderColumn::Link),
        sorted(col("Order", 18, 2), OrderColumn::Id),
        sorted(fill("What happened", 24, 0), OrderColumn::Text),
    ]
}

pub fn sort_columns_shown(state: &State) -> Vec<OrderColumn> {
    let inner = state.width.saturating_sub(2);
    let (cols, default): (Vec<Col>, Option<OrderColumn>) = match state.view {
        View::Pending => (pending_cols().into(), Some(OrderColumn::Paid)),
        View::Missing => (missing_cols().into(), Some(OrderColumn::ShipBy)),
        View::Stuck => (stuck_cols().into(), None),
        View::Orders => (every_order_cols().into(), Some(EVERY_ORDER_DEFAULT.0)),
        View::Cancellations => (cancellation_cols().into(), None),
        View::Approvals => (approval_cols().into(), None),
        View::Activity => (activity_cols().into(), None),
        View::Stores | View::Settings => return Vec::new(),
    };
    let keep = fit(&cols, inner);
    let shown = cols
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .filter_map(|(c, _)| c.sort)
        .filter(|c| Some(*c) != default);
    std::iter::once(OrderColumn::Default).chain(shown).collect()
}

fn orders(
    frame: &mut Frame,
    state: &State,
    area: Rect,
    list: &List<crate::service::api::OrderRow>,
    view: View,
) {
    let now = state.now;
    let theme = &state.theme;
    if view != View::Missing {
        let (cols, default) = if view == View::Pending {
            (pending_cols(), Some((OrderColumn::Paid, SortDir::Asc)))
        } else {
            (stuck_cols(), None)
        };
        draw_list(frame, state, area, list, &cols, default, |row| {
            vec![
                Field::from(clean(row.id.as_str())),
                Field::from(clean(row.link.as_str())),
                Field::from(clean(&row.tiktok_status)),
                Field::from(ago(now, row.paid_at.unwrap_or(row.created_at))),
                Field::from(clean(row.store_order.as_deref().unwrap_or("—"))),
                Field::from(clean(&row.why)),
            ]
        });
    } else {
        draw_list(
            frame,
            state,
            area,
            list,
            &missing_cols(),
            Some((OrderColumn::ShipBy, SortDir::Asc)),
            |row| {
                let ship_by = row.ship_by.map_or("—".to_string(), |d| left(now, d));
                let store_side = row
                    .knowledge
                    .map(|k| k.describe().to_string())
                    .unwrap_or_else(|| clean(&row.why));
                vec![
                    Field::from(clean(row.id.as_str())),
                    Field::from(clean(row.link.as_str())),
                    Field::from(ship_by).style(theme.urgency(row.urgency)),
                    Field::from(clean(row.store_order.as_deref().unwrap_or("—"))),
                    Field::from(store_side),
                    Field::from(clean(&row.skus)),
                    Field::from(or_dash(clean(&row.buyer))),
                ]
            },
        );
    }
}

/// The Orders view: every order, newest first.
fn every_order(frame: &mut Frame, state: &State, area: Rect) {
    let cols = every_order_cols();
    let own = Some(EVERY_ORDER_DEFAULT);
    draw_list(frame, state, area, &state.orders, &cols, own, |row| {
        vec![
            Field::from(clean(row.id.as_str())),
            Field::from(clean(row.store_order.as_deref().unwrap_or("—"))),
            Field::from(or_dash(clean(&row.buyer))),
            Field::from(stamp(state.now, row.created_at)),
            Field::from(clean(&row.tiktok_status)),
            Field::from(clean(row.link.as_str())),
            Field::from(clean(&row.why)),
            Field::from(clean(&row.skus)),
        ]
    });
}

fn cancellations(frame: &mut Frame, state: &State, area: Rect) {
    let now = state.now;
    let theme = &state.theme;
    let cols = cancellation_cols();
    draw_list(
        frame,
        state,
        area,
        &state.cancellations,
        &cols,
        None,
        |row| {
            let deadline = match (row.awaits_seller, row.seller_deadline) {
                (true, Some(d)) => left(now, d),
                _ => "—".to_string(),
            };
            let sync = clean(&row.sync);
            let sync_style = if sync.starts_with("failed") {
                theme.level(Level::Error)
            } else if sync.starts_with("done") {
                theme.level(Level::Success)
            } else if sync.starts_with("waiting") {
                theme.level(Level::Warning)
            } else {
                Style::new()
            };
            vec![
                Field::from(clean(row.order_id.as_str())),
                Field::from(clean(row.link.as_str())),
                Field::from(clean(&row.direction)),
                Field::from(clean(&row.initiator)),
                Field::from(clean(&row.what)),
                Field::from(deadline).style(theme.urgency(row.urgency)),
                Field::from(sync).style(sync_style),
                Field::from(clean(&row.reason)),
            ]
        },
    );
}

fn approvals(frame: &mut Frame, state: &State, area: Rect) {
    let now = state.now;
    let cols = approval_cols();
    draw_list(frame, state, area, &state.approvals, &cols, None, |row| {
        let who = match row.requested_by.role {
            Some(role) => format!("{} ({role})", clean(&row.requested_by.user)),
            None => clean(&row.requested_by.user),
        };
        let first = row
            .targets
            .first()
            .map(|t| t.to_string())
            .unwrap_or_default();
        let targets = match row.targets.len() {
            1 => first,
            n => format!("{}: {first}, …", counted(n, "order", "orders")),
        };
        vec![
            Field::from(row.id.to_string()),
            Field::from(who),
            Field::from(ago(now, row.requested_at)),
            Field::from(row.flow.name()),
            Field::from(targets),
            Field::from(clean(&row.reason)),
        ]
    });
}

/// People's actions and the engine's events in one list, newest first: who did it (the
/// engine is `orderdeck`), where, to which order, and what came of it, coloured by level.
fn activity(frame: &mut Frame, state: &State, area: Rect) {
    let theme = &state.theme;
    let cols = activity_cols();
    draw_list(frame, state, area, &state.activity, &cols, None, |row| {
        let level = if row.level.is_error() {
            Some(Level::Error)
        } else if row.level.is_warning() {
            Some(Level::Warning)
        } else {
            None
        };
        let who = if row.source == "engine" {
            Field::from(clean(&row.who)).style(theme.muted)
        } else {
            Field::from(clean(&row.who))
        };
        let what = Field::from(clean(&row.text));
        vec![
            Field::from(stamp(state.now, row.at)),
            who,
            Field::from(
                row.link
                    .as_ref()
                    .map_or(String::new(), |l| clean(l.as_str())),
            ),
            Field::from(
                row.order
                    .as_ref()
                    .map_or(String::new(), |o| clean(o.as_str())),
            ),
            match level {
                Some(level) => what.style(theme.level(level)),
                None => what,
            },
        ]
    });
}

/// Draws a list in a bordered block: column titles, the rows on screen (placeholders for rows
/// still on their way) and the status line. `cells` gives a row's cells after the mark column
/// when the first column is the (untitled, one wide) mark column.
fn draw_list<T: Row + Clone>(
    frame: &mut Frame,
    state: &State,
    area: Rect,
    list: &List<T>,
    cols: &[Col],
    own_order: Option<OwnOrder>,
    cells: impl Fn(&T) -> Vec<Field>,
) {
    let theme = &state.theme;
    let markable = cols.first().is_some_and(|c| c.title.is_empty());
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(
            format!(" {} ", state.view.title()),
            theme.title,
        ))
        .title_bottom(status(state, list));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let keep = fit(cols, inner.width);
    let widths = widths(cols, &keep);
    // The widths the table will give its columns (it lays them out the same way).
    let room: Vec<usize> = Layout::horizontal(widths.clone())
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, inner.width, 1))
        .iter()
        .map(|column| usize::from(column.width))
        .collect();
    let (sort_here, dir) = match (list.sort, own_order) {
        (OrderColumn::Default, Some((column, SortDir::Asc))) => (Some(column), list.dir),
        (OrderColumn::Default, Some((column, SortDir::Desc))) => {
            (Some(column), list.dir.reversed())
        }
        (OrderColumn::Default, None) => (None, list.dir),
        (column, _) => (Some(column), list.dir),
    };
    let arrow = match dir {
        SortDir::Asc => " ▲",
        SortDir::Desc => " ▼",
    };
    let header = TableRow::new(cols.iter().zip(&keep).filter(|(_, k)| **k).map(|(c, _)| {
        let marked = c.sort.is_some() && c.sort == sort_here;
        Cell::from(format!("{}{}", c.title, if marked { arrow } else { "" }))
    }))
    .style(theme.table_header);
    let page = usize::from(inner.height.saturating_sub(1));
    let end = (list.top + page).min(list.total);
    let rows = (list.top..end).map(|index| {
        let Some(row) = list.row(index) else {
            return TableRow::new([Cell::from(""), Cell::from("…")]).style(theme.muted);
        };
        let marked = list.is_marked(row);
        let mut all = Vec::with_capacity(cols.len());
        if markable {
            all.push(Field::from(if marked { "●" } else { " " }));
        }
        all.extend(cells(row));
        let kept = all
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .zip(&room)
            .map(|((field, _), room)| Cell::from(cut(&field.text, *room)).style(field.style));
        let style = match (index == list.selected, marked) {
            (true, _) => theme.selected,
            (false, true) => theme.marked,
            _ => Style::new(),
        };
        TableRow::new(kept).style(style)
    });
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, inner);
    if list.loaded && !list.stale && list.total == 0 {
        let text = if list.filter.is_empty() {
            "Nothing here.".to_string()
        } else {
            format!("Nothing matches {:?}.", list.filter)
        };
        let rect = Rect::new(inner.x, inner.y + inner.height / 2, inner.width, 1);
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.muted)).alignment(Alignment::Center),
            rect,
        );
    }
}

/// "showing 1–18 of 12,431 · filter store:uk · 3 marked (1 hidden by the filter)".
fn status<T: Row + Clone>(state: &State, list: &List<T>) -> Line<'static> {
    let theme = &state.theme;
    let mut spans = vec![Span::raw(" ")];
    if let Some(error) = &list.error {
        spans.push(Span::styled(
            format!("could not load: {} ", clean(error)),
            theme.level(Level::Error),
        ));
        return Line::from(spans);
    }
    if !list.loaded {
        spans.push(Span::styled("loading… ", theme.muted));
        return Line::from(spans);
    }
    let shown_end = (list.top + state.page_rows()).min(list.total);
    let range = if list.total == 0 {
        "showing 0 of 0".to_string()
    } else {
        format!(
            "showing {}–{} of {}",
            thousands(list.top + 1),
            thousands(shown_end),
            thousands(list.total)
        )
    };
    spans.push(Span::raw(range));
    if list.counting {
        spans.push(Span::styled(" · counting…", theme.muted));
    }
    if list.stale {
        spans.push(Span::styled(" · loading…", theme.muted));
    }
    if !list.filter.is_empty() {
        spans.push(Span::raw(" · filter "));
        spans.push(Span::styled(clean(&list.filter), theme.key));
    }
    if !list.marks.is_empty() {
        let hidden = list.hidden_marks(state.link.as_ref());
        let mut text = format!(" · {} marked", thousands(list.marks.len()));
        if hidden > 0 {
            text.push_str(&format!(" ({hidden} hidden by the filter)"));
        }
        spans.push(Span::styled(text, theme.marked));
    }
    if state.view == View::Activity {
        if state.follow {
            spans.push(Span::styled(" · following", theme.level(Level::Success)));
        } else if state.activity_unseen {
            spans.push(Span::styled(
                " · new activity above",
                theme.level(Level::Warning),
            ));
        }
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::or_dash;

    #[test]
    fn a_field_nothing_fills_shows_a_dash() {
        assert_eq!(or_dash(String::new()), "—");
        assert_eq!(or_dash("  ".into()), "—");
        assert_eq!(or_dash("Olga Baker".into()), "Olga Baker");
    }
}
