//! Triage views and the Cancellations list as range scans of their indexes, in sort-key order;
//! an order is decoded only when it is on the requested page. A view's size is kept in
//! `idx_view_counts` by every change, so counts and the first page of a view of 100k orders
//! cost a few index reads. Missing tracking also depends on the time (`triage::is_visible`):
//! its scan filters with the paid-or-created instant and link kept in each `idx_views` value,
//! without decoding orders. A filtered list checks each order's `idx_order_text` first and
//! decodes only the orders the filter may match.
//!
//! Reads are not snapshots: a page read while a change commits may show the count from before
//! and the orders from after it. The service tells clients to re-read after each change.

use std::collections::BTreeMap;

use super::codec;
use super::keys;
use super::records::Page;
use super::{Result, Store, StoreError, TreeId};
use crate::domain::cancellation::Cancellation;
use crate::domain::clock::Timestamp;
use crate::domain::ids::LinkId;
use crate::domain::order::Order;
use crate::domain::settings::LinkSettings;
use crate::domain::triage::{OrderView, is_visible_since};

/// The order id in a view key: `prefix | sort key (8 bytes) | order id`.
fn order_of(prefix: &[u8], key: &[u8]) -> Result<Vec<u8>> {
    key.get(prefix.len() + 8..)
        .filter(|id| !id.is_empty())
        .map(<[u8]>::to_vec)
        .ok_or_else(|| codec::corrupt(TreeId::IdxViews.name(), key, "view key has no order id"))
}

/// One page of a triage view.
#[derive(Debug, Clone, Copy)]
pub struct ViewQuery<'a> {
    pub view: OrderView,
    /// One link, or every link.
    pub link: Option<&'a LinkId>,
    pub offset: usize,
    pub limit: usize,
    pub now: Timestamp,
}

/// One page of the Cancellations list.
#[derive(Debug, Clone, Copy)]
pub struct CancellationScan<'a> {
    pub link: Option<&'a LinkId>,
    /// Only buyer requests still waiting for the seller's answer.
    pub awaiting_seller_only: bool,
    pub offset: usize,
    pub limit: usize,
}

/// Orders per view, as the dashboard shows them.
pub type ViewCounts = BTreeMap<OrderView, usize>;

/// Decides per index entry whether the order is listed now. Settings are looked up once per
/// link seen, not per entry.
struct Visibility<'a> {
    view: OrderView,
    now: Timestamp,
    lookup: &'a dyn Fn(&LinkId) -> LinkSettings,
    seen: Vec<(Vec<u8>, LinkSettings)>,
}

impl Visibility<'_> {
    fn visible(&mut self, key: &[u8], value: &[u8]) -> Result<bool> {
        if self.view != OrderView::MissingTracking {
            return Ok(true);
        }
        let tree = TreeId::IdxViews.name();
        let (paid_or_created, link) = codec::parse_view_value(tree, key, value)?;
        let settings = match self.seen.iter().find(|(name, _)| name.as_slice() == link) {
            Some((_, settings)) => settings,
            None => {
                let id = std::str::from_utf8(link)
                    .ok()
                    .and_then(|name| LinkId::new(name).ok())
                    .ok_or_else(|| {
                        codec::corrupt(tree, key, "index value names an invalid link")
                    })?;
                self.seen.push((link.to_vec(), (self.lookup)(&id)));
                &self.seen[self.seen.len() - 1].1
            }
        };
        Ok(is_visible_since(
            self.view,
            paid_or_created,
            settings,
            self.now,
        ))
    }
}

impl Store {
    /// A page of a view, in its sort order, with the number of orders listed in the whole
    /// view. `settings` gives a link's settings (the missing-tracking threshold).
    pub fn page_view(
        &self,
        query: &ViewQuery<'_>,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
    ) -> Result<Page<Order>> {
        let (total, ids) = if query.view == OrderView::MissingTracking {
            self.scan_visible(query, settings, true)?
        } else {
            (
                self.stored_count(query.view, query.link)?,
                self.page_keys(query)?,
            )
        };
        let items = self.listed(TreeId::Orders, ids)?;
        Ok(Page { total, items })
    }

    /// Every order of a view (offset and limit ignored) whose `idx_order_text` passes `may_match`,
    /// in the view's order. Orders that fail are never decoded, so a selective filter over a
    /// large view costs an index walk.
    pub fn view_matching(
        &self,
        query: &ViewQuery<'_>,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
        may_match: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Order>> {
        let whole = ViewQuery {
            offset: 0,
            limit: usize::MAX,
            ..*query
        };
        let ids = if query.view == OrderView::MissingTracking {
            self.scan_visible(&whole, settings, true)?.1
        } else {
            self.page_keys(&whole)?
        };
        let texts = self.tree(TreeId::IdxOrderText);
        let name = TreeId::IdxOrderText.name();
        let mut matching = Vec::new();
        for id in ids {
            let text = texts
                .get(&id)
                .map_err(StoreError::sled("reading an order's list text"))?;
            // A missing entry is the integrity check's to report; the order is not skipped.
            let keep = match &text {
                Some(bytes) => may_match(codec::parse_text_value(name, &id, bytes)?),
                None => true,
            };
            if keep {
                matching.push(id);
            }
        }
        self.listed(TreeId::Orders, matching)
    }

    /// How many orders a view lists now: a stored count, except for missing tracking, whose
    /// membership depends on the time and walks its (short) index range.
    pub fn count_view(
        &self,
        view: OrderView,
        link: Option<&LinkId>,
        now: Timestamp,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
    ) -> Result<usize> {
        if view != OrderView::MissingTracking {
            return self.stored_count(view, link);
        }
        let query = ViewQuery {
            view,
            link,
            offset: 0,
            limit: 0,
            now,
        };
        self.scan_visible(&query, settings, false)
            .map(|(total, _)| total)
    }

    /// Orders of `link` awaiting tracking whose ship-by deadline is at or before `by` (passed
    /// ones included), whatever the link's display threshold: a range scan of the
    /// missing-tracking index, which is sorted by deadline. Orders without a deadline sort last
    /// and never count.
    pub fn awaiting_tracking_due_by(&self, link: &LinkId, by: Timestamp) -> Result<usize> {
        let start = keys::view_prefix(OrderView::MissingTracking, Some(link));
        let mut end = start.clone();
        end.extend_from_slice(&keys::i64_key(by.timestamp().saturating_add(1)));
        let mut due = 0;
        for item in self.tree(TreeId::IdxViews).range(start..end) {
            item.map_err(StoreError::sled("scanning a view"))?;
            due += 1;
        }
        Ok(due)
    }

    /// Every view's count, for one link or all.
    pub fn counts(
        &self,
        link: Option<&LinkId>,
        now: Timestamp,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
    ) -> Result<ViewCounts> {
        OrderView::ALL
            .into_iter()
            .map(|view| Ok((view, self.count_view(view, link, now, settings)?)))
            .collect()
    }

    /// The size of a view's index range, kept by every change in `idx_view_counts`.
    fn stored_count(&self, view: OrderView, link: Option<&LinkId>) -> Result<usize> {
        let tree = TreeId::IdxViewCounts;
        let key = keys::view_prefix(view, link);
        match self
            .tree(tree)
            .get(&key)
            .map_err(StoreError::sled("reading a view count"))?
        {
            Some(bytes) => codec::parse_count(tree.name(), &key, &bytes).map(|n| n as usize),
            None => Ok(0),
        }
    }

    /// The order keys on the requested page of a view every index entry of which is listed.
    fn page_keys(&self, q: &ViewQuery<'_>) -> Result<Vec<Vec<u8>>> {
        let prefix = keys::view_prefix(q.view, q.link);
        self.tree(TreeId::IdxViews)
            .scan_prefix(&prefix)
            .skip(q.offset)
            .take(q.limit)
            .map(|item| {
                let (key, _) = item.map_err(StoreError::sled("scanning a view"))?;
                order_of(&prefix, &key)
            })
            .collect()
    }

    /// Walks a view's index range filtering by visibility: the count of visible entries and,
    /// if `collect`, the order keys of those on the requested page.
    fn scan_visible(
        &self,
        q: &ViewQuery<'_>,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
        collect: bool,
    ) -> Result<(usize, Vec<Vec<u8>>)> {
        let prefix = keys::view_prefix(q.view, q.link);
        let mut visibility = Visibility {
            view: q.view,
            now: q.now,
            lookup: settings,
            seen: Vec::new(),
        };
        let mut total = 0;
        let mut ids = Vec::new();
        for item in self.tree(TreeId::IdxViews).scan_prefix(&prefix) {
            let (key, value) = item.map_err(StoreError::sled("scanning a view"))?;
            if !visibility.visible(&key, &value)? {
                continue;
            }
            if collect && total >= q.offset && ids.len() < q.limit {
                ids.push(order_of(&prefix, &key)?);
            }
            total += 1;
        }
        Ok((total, ids))
    }

    /// A page of cancellations: buyer requests awaiting the seller first (by deadline), then
    /// the rest, most recently updated first.
    pub fn cancellations(&self, q: &CancellationScan<'_>) -> Result<Page<Cancellation>> {
        let index = TreeId::IdxCancellations;
        let group = q.awaiting_seller_only.then_some(0);
        let mut total = 0;
        let mut keys_on_page = Vec::new();
        for item in self
            .tree(index)
            .scan_prefix(keys::cancellation_prefix(q.link, group))
        {
            let (key, _) = item.map_err(StoreError::sled("scanning cancellations"))?;
            if total >= q.offset && keys_on_page.len() < q.limit {
                let primary = keys::cancellation_of_index_key(&key).ok_or_else(|| {
                    codec::corrupt(index.name(), &key, "cancellation index key does not parse")
                })?;
                keys_on_page.push(primary.to_vec());
            }
            total += 1;
        }
        let items = self.listed(TreeId::Cancellations, keys_on_page)?;
        Ok(Page { total, items })
    }
}
