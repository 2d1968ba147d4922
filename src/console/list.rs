//! One paged list as the console holds it: only the rows around what is on screen (the page
//! the service sent), the total, the selection as an absolute index, the scroll position, the
//! filter and sort the service applies, and the marked rows. Invariants: `selected < total`
//! (or 0 when empty); `top <= selected < top + page`; marks survive paging and filtering: each
//! keeps a copy of its row, to act on it and to tell whether the current filter still shows it.
//!
//! Filter text as typed after `/`: words and `field:value` terms (`store:uk status:stuck
//! jumper`), case-smart (a term with a capital letter matches case-sensitively). The service
//! applies filters to lists; the console reads them only to tell which marked rows the current
//! filter hides (for confirmations) and to complete field names. Unknown fields are plain text.

use std::collections::BTreeMap;

use crate::domain::ids::LinkId;
use crate::domain::listing;
use crate::domain::request::ResyncRequest;
use crate::service::api::{ActivityItem, CancellationRow, OrderColumn, OrderRow, Paged, SortDir};
use crate::service::rows::ORDER_FIELD;

/// Rows fetched beyond each edge of the screen, so a step or two of scrolling needs no request.
pub const PREFETCH: usize = 10;

/// What a list's selection holds (see [`List::selection`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Row,
    OnItsWay,
    Nothing,
}

/// A row kind the console can list.
pub trait Row {
    /// Stable identity, for marks.
    fn key(&self) -> String;
    fn link(&self) -> Option<&LinkId>;
    /// The fields a filter term can match.
    fn haystack(&self) -> Haystack;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T> {
    pub rows: Vec<T>,
    /// Index of `rows[0]` in the whole list.
    pub offset: usize,
    pub total: usize,
    /// An answer has arrived at least once.
    pub loaded: bool,
    /// The rows answer an older query (the filter or sort changed since); they stay on screen
    /// until the new answer comes, rather than blanking the list on every keystroke.
    pub stale: bool,
    pub selected: usize,
    pub top: usize,
    pub filter: String,
    pub sort: OrderColumn,
    pub dir: SortDir,
    /// Marked rows by key, as they were when marked.
    pub marks: BTreeMap<String, T>,
    /// The request whose answer this list waits for; older answers are dropped.
    pub waiting_for: Option<u64>,
    /// A scanning request (a filtered page) was wanted while `waiting_for` was on its way: it
    /// is asked when that answer comes, so typing a filter keeps one scan in flight, not one
    /// per key queued behind each other at the service.
    pub owed: bool,
    pub error: Option<String>,
    /// The service is still counting the list (a filtered order list): `total` counts the
    /// rows read so far.
    pub counting: bool,
    /// The count this list waits for; older answers are dropped (and the service stops an
    /// older count once the filter changed).
    pub counting_for: Option<u64>,
    /// The count of the list as filtered and sorted now, once the service gave it.
    pub counted: Option<usize>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            rows: Vec::new(),
            offset: 0,
            total: 0,
            loaded: false,
            stale: false,
            selected: 0,
            top: 0,
            filter: String::new(),
            sort: OrderColumn::Default,
            dir: SortDir::Asc,
            marks: BTreeMap::new(),
            waiting_for: None,
            owed: false,
            error: None,
            counting: false,
            counting_for: None,
            counted: None,
        }
    }
}

impl<T: Row + Clone> List<T> {
    pub fn row(&self, index: usize) -> Option<&T> {
        index
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(i))
    }

    pub fn selected_row(&self) -> Option<&T> {
        self.row(self.selected)
    }

    /// Moves the selection to `index` (clamped) and scrolls so it stays on a `page`-row screen.
    pub fn select(&mut self, index: usize, page: usize) {
        self.selected = index.min(self.total.saturating_sub(1));
        let page = page.max(1);
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + page {
            self.top = self.selected + 1 - page;
        }
        // Never leave blank space below the last row when the list could fill the screen.
        self.top = self.top.min(self.total.saturating_sub(page));
    }

    /// What is selected: a row, one still on its way (no answer yet, or its page not in), or
    /// nothing (the list is empty).
    pub fn selection(&self) -> Selection {
        match (self.loaded, self.selected_row()) {
            (true, Some(_)) => Selection::Row,
            (true, None) if self.total == 0 => Selection::Nothing,
            _ => Selection::OnItsWay,
        }
    }

    pub fn move_by(&mut self, delta: isize, page: usize) {
        let index = self.selected.saturating_add_signed(delta);
        self.select(index, page);
    }

    /// The window to ask for when the screen shows rows that are not loaded: the screen plus
    /// [`PREFETCH`] rows each side. `None` when everything shown is at hand.
    pub fn window_needed(&self, page: usize) -> Option<(usize, usize)> {
        let limit = page + 2 * PREFETCH;
        if !self.loaded {
            return Some((self.top.saturating_sub(PREFETCH), limit));
        }
        let shown_end = (self.top + page).min(self.total);
        let loaded_end = self.offset + self.rows.len();
        let covered = self.top >= self.offset && shown_end <= loaded_end;
        (!covered).then(|| (self.top.saturating_sub(PREFETCH), limit))
    }

    /// The window currently loaded (or the first page), to ask for again after a change.
    pub fn window_again(&self, page: usize) -> (usize, usize) {
        (self.top.saturating_sub(PREFETCH), page + 2 * PREFETCH)
    }

    /// Takes a page from the service. The selected row stays selected where it went, when the
    /// page holds it: orders arriving above it in a live list do not move the selection to
    /// another order under someone reading it (unless the rows answer a new filter or sort,
    /// which starts at the top).
    pub fn install(&mut self, paged: Paged<T>, page: usize) {
        let followed = match self.stale {
            true => None,
            false => self.selected_row().map(Row::key).and_then(|key| {
                let at = paged.rows.iter().position(|row| row.key() == key)?;
                Some(paged.offset + at)
            }),
        };
        self.rows = paged.rows;
        self.offset = paged.offset;
        self.total = paged.total;
        // Further pages of a list still being counted say only how far they read.
        self.counting = paged.counting && self.counted.is_none();
        if paged.counting
            && let Some(counted) = self.counted
        {
            self.total = counted.max(paged.total);
        }
        self.loaded = true;
        self.stale = false;
        self.waiting_for = None;
        self.error = None;
        self.select(followed.unwrap_or(self.selected), page);
    }

    /// Back to the first row, for a new filter or sort; the rows are replaced when the answer
    /// comes.
    pub fn restart(&mut self) {
        self.selected = 0;
        self.top = 0;
        self.stale = true;
        self.counted = None;
        self.counting_for = None;
    }

    /// The service's count of the list, as filtered and sorted now.
    pub fn install_count(&mut self, total: usize, page: usize) {
        self.counted = Some(total);
        self.counting = false;
        self.counting_for = None;
        self.total = total;
        self.select(self.selected, page);
    }

    /// Marks or unmarks the selected row; returns whether it is now marked.
    pub fn toggle_mark(&mut self) -> Option<bool> {
        let row = self.selected_row()?.clone();
        let key = row.key();
        if self.marks.remove(&key).is_some() {
            return Some(false);
        }
        self.marks.insert(key, row);
        Some(true)
    }

    pub fn is_marked(&self, row: &T) -> bool {
        !self.marks.is_empty() && self.marks.contains_key(&row.key())
    }

    /// What an action applies to: the marked rows if any (with how many of them the filter
    /// hides), else the selected row.
    pub fn chosen(&self, link: Option<&LinkId>) -> (Vec<T>, usize) {
        if self.marks.is_empty() {
            (self.selected_row().cloned().into_iter().collect(), 0)
        } else {
            (
                self.marks.values().cloned().collect(),
                self.hidden_marks(link),
            )
        }
    }

    /// Marked rows the current filter (or the link the console is narrowed to) does not show.
    pub fn hidden_marks(&self, link: Option<&LinkId>) -> usize {
        self.marks
            .values()
            .filter(|row| {
                let link_hides =
                    matches!((link, row.link()), (Some(want), Some(has)) if want != has);
                link_hides || !matches(&self.filter, &row.haystack())
            })
            .count()
    }
}

/// Field names a filter may use, with what they match (shown by completion).
pub const FIELDS: &[(&str, &str)] = &[
    ("store:", "link or store name"),
    ("link:", "link name"),
    (
        "status:",
        "TikTok status, flow states, stuck/waiting/retrying",
    ),
    ("id:", "TikTok order id"),
    ("sku:", "seller SKU"),
    ("buyer:", "buyer name"),
    ("why:", "why the row is listed"),
    (
        "order:",
        "the order named whole: TikTok id or store number (#1001)",
    ),
];

/// The fields of one row as the matcher sees them: `(field, text)`.
pub type Haystack = Vec<(&'static str, String)>;

/// Whether a row with these fields passes `filter`: every term must match.
pub fn matches(filter: &str, fields: &[(&'static str, String)]) -> bool {
    filter
        .split_whitespace()
        .all(|term| term_matches(term, fields))
}

fn term_matches(term: &str, fields: &[(&'static str, String)]) -> bool {
    if let Some((field, value)) = term.split_once(':') {
        if field == ORDER_FIELD {
            // Whole, as the service matches it (`listing::names_order`).
            return fields
                .iter()
                .filter(|(name, _)| *name == "id" || *name == ORDER_FIELD)
                .any(|(name, text)| match *name {
                    "id" => text == value,
                    _ => !value.is_empty() && listing::same_number(text, value),
                });
        }
        let field = if field == "store" { "link" } else { field };
        if FIELDS.iter().any(|(f, _)| f.trim_end_matches(':') == field) {
            return fields
                .iter()
                .filter(|(name, _)| *name == field)
                .any(|(_, text)| contains_smart(text, value));
        }
    }
    fields.iter().any(|(_, text)| contains_smart(text, term))
}

/// Substring match that ignores case unless the needle has a capital letter.
pub fn contains_smart(haystack: &str, needle: &str) -> bool {
    if needle.chars().any(char::is_uppercase) {
        haystack.contains(needle)
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

/// Candidates for the last word of a filter: field names, or link names after `store:`/`link:`.
pub fn complete_filter(filter: &str, links: &[String]) -> Vec<String> {
    let word = filter.rsplit(' ').next().unwrap_or("");
    if let Some((field, value)) = word.split_once(':') {
        if matches!(field, "store" | "link") {
            return links
                .iter()
                .filter(|l| l.starts_with(value))
                .map(|l| format!("{field}:{l}"))
                .collect();
        }
        return Vec::new();
    }
    FIELDS
        .iter()
        .map(|(f, _)| f.to_string())
        .filter(|f| f.starts_with(word))
        .collect()
}

impl Row for OrderRow {
    fn key(&self) -> String {
        self.id.to_string()
    }

    fn link(&self) -> Option<&LinkId> {
        Some(&self.link)
    }

    fn haystack(&self) -> Haystack {
        vec![
            ("id", self.id.to_string()),
            ("link", self.link.to_string()),
            (
                "status",
                format!("{} {}", self.tiktok_status, self.flows.join(" ")),
            ),
            ("status", self.why.clone()),
            ("sku", self.skus.clone()),
            ("buyer", self.buyer.clone()),
            ("why", self.why.clone()),
            ("order", self.store_order.clone().unwrap_or_default()),
        ]
    }
}

impl Row for CancellationRow {
    fn key(&self) -> String {
        self.key.to_string()
    }

    fn link(&self) -> Option<&LinkId> {
        Some(&self.link)
    }

    fn haystack(&self) -> Haystack {
        vec![
            ("id", self.order_id.to_string()),
            ("link", self.link.to_string()),
            (
                "status",
                format!(
                    "{} {}",
                    self.tiktok_status.clone().unwrap_or_default(),
                    self.sync
                ),
            ),
            ("why", self.reason.clone()),
            ("sku", self.what.clone()),
        ]
    }
}

impl Row for ResyncRequest {
    fn key(&self) -> String {
        self.id.to_string()
    }

    fn link(&self) -> Option<&LinkId> {
        None
    }

    fn haystack(&self) -> Haystack {
        Vec::new()
    }
}

impl Row for ActivityItem {
    /// Activity rows are never marked; the key only has to tell two rows apart.
    fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.at.timestamp_millis(),
            self.source,
            self.who,
            self.text
        )
    }

    fn link(&self) -> Option<&LinkId> {
        self.link.as_ref()
    }

    fn haystack(&self) -> Haystack {
        vec![
            (
                "id",
                self.order
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            (
                "link",
                self.link
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            ("status", format!("{} {}", self.source, self.level)),
            ("why", format!("{} {}", self.who, self.text)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Haystack {
        vec![
            ("id", "576461413038785752".into()),
            ("link", "uk-shop1".into()),
            ("status", "AWAITING_SHIPMENT stuck".into()),
            (
                "why",
                "SKU GHOST-003 has no variant in store uk-shopify1".into(),
            ),
            ("order", "#1001".into()),
        ]
    }

    /// A row known only by its id, as a live list of orders newest first holds them.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Named(&'static str);

    impl Row for Named {
        fn key(&self) -> String {
            self.0.to_string()
        }
        fn link(&self) -> Option<&LinkId> {
            None
        }
        fn haystack(&self) -> Haystack {
            vec![("id", self.0.into())]
        }
    }

    fn page_of(rows: &[&'static str]) -> Paged<Named> {
        Paged {
            total: rows.len(),
            offset: 0,
            rows: rows.iter().copied().map(Named).collect(),
            counting: false,
        }
    }

    #[test]
    fn the_selected_order_stays_selected_when_new_ones_arrive_above_it() {
        let mut list = List::default();
        list.install(page_of(&["d", "c", "b", "a"]), 10);
        list.select(1, 10);
        assert_eq!(list.selected_row(), Some(&Named("c")));
        // Two orders come in while someone reads "c".
        list.install(page_of(&["f", "e", "d", "c", "b", "a"]), 10);
        assert_eq!(list.selected_row(), Some(&Named("c")));
        // Once it leaves the list (resynced out of Stuck, say), the row in its place is.
        list.install(page_of(&["f", "e", "d", "b", "a"]), 10);
        assert_eq!(list.selected_row(), Some(&Named("b")));
        // A new filter or sort starts at the top, whatever it holds.
        list.restart();
        list.install(page_of(&["a", "b", "f"]), 10);
        assert_eq!(list.selected_row(), Some(&Named("a")));
    }

    #[test]
    fn terms_all_have_to_match() {
        let table = [
            ("", true),
            ("store:uk", true),
            ("store:us", false),
            ("status:stuck ghost", true),
            ("status:stuck Ghost", false),
            ("GHOST", true),
            ("5764614", true),
            ("order:576461413038785752", true),
            ("order:5764614", false),
            ("order:#1001", true),
            ("order:1001", true),
            ("order:#100", false),
            ("colour:red", false),
        ];
        for (filter, expected) in table {
            assert_eq!(matches(filter, &row()), expected, "{filter:?}");
        }
    }

    #[test]
    fn completion_offers_fields_then_links() {
        assert_eq!(complete_filter("jumper st", &[]), ["store:", "status:"]);
        let links = ["uk-shop1".to_string(), "us-shop2".to_string()];
        assert_eq!(
            complete_filter("store:u", &links),
            ["store:uk-shop1", "store:us-shop2"]
        );
        assert_eq!(complete_filter("store:uk", &links), ["store:uk-shop1"]);
    }
}
