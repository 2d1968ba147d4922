//! Pages of an order list in the order a person asks for, plain or filtered, as walks of an
//! index range: the view's own range of `idx_views`, or the view's range by one column in
//! `idx_order_sort` (which holds every link: its values name the link, so other links' orders
//! are skipped without decoding them). Descending is the same range read backwards. A page at
//! an offset starts where the list's rank counts (`rank.rs`) put that offset, read from the
//! list's nearer end, so any page costs about what the first does; missing tracking, which has
//! no rank counts, steps over the orders before the page.
//!
//! A filtered page first walks the list in order, checking each order's `idx_order_text`
//! (a cheap necessary condition) and decoding only the orders that pass it, and stops when the
//! page is full: with 1% of orders matching, a page of 50 reads ~5,000 texts. When
//! [`LOOKUP_BUDGET`] texts did not fill the page, matches are rare: one sequential read of
//! `idx_order_text` (its two halves on two threads) finds every candidate of the link asked
//! for; a few are decoded and placed by their index keys. Many, in the Orders view (the list of
//! a million orders) in its own order or by a time or id, sort by the places their text entry
//! gives them there; in any other list one read of the whole list (its two halves on two
//! threads again) meets them in list order. Matches cluster (a tracking prefix of some weeks
//! sits in the middle of a list sorted by time), so no walk from either end would do.
//! When the page fills before the list's end, the total is left to [`Store::count_matching`],
//! which a client runs after showing the page ("counting…").
//!
//! Reads are not snapshots: a page read while a change commits may show the count from before
//! and the orders from after it. The service tells clients to re-read after each change.

use std::collections::HashSet;
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::ops::ControlFlow;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;

use sled::IVec;

use super::blocks;
use super::codec;
use super::keys;
use super::rank;
use super::records::Page;
use super::{Handle, Result, Store, StoreError, TreeId, ViewQuery};
use crate::domain::clock::Timestamp;
use crate::domain::ids::LinkId;
use crate::domain::order::Order;
use crate::domain::order_sort::{OrderSort, sort_value};
use crate::domain::settings::LinkSettings;
use crate::domain::triage::{OrderView, is_visible, is_visible_since, views_of};

/// Texts a filtered page checks one by one, in list order, before reading every order's text
/// at once to find the rare matches. Tests switch after a few, so that the few orders of the
/// model test take both ways, which must agree.
const LOOKUP_BUDGET: usize = if cfg!(test) { 3 } else { 10_000 };

/// Candidates few enough to decode and sort in memory, whatever the list (a tracking number,
/// an order's id), rather than finding them in a read of the whole list. Tests take both ways.
const FEW_CANDIDATES: usize = if cfg!(test) { 2 } else { 50 };

/// Decoding a candidate to place it costs about what reading this many of a list's index
/// entries does (22 µs against 0.05 µs at a million orders), so more candidates than
/// `FEW_CANDIDATES` are still decoded rather than met in a read of the list when it is this
/// many times longer. Tests: both ways.
const DECODE_COST: usize = if cfg!(test) { 20 } else { 400 };

/// How many orders a count reads between asking whether it is still wanted (tests: a few, so
/// a handful of orders ask several times).
const WANTED_EVERY: usize = if cfg!(test) { 2 } else { 1_024 };

/// The orders of the link asked for (or of every link) whose text passed a filter's text check,
/// in id order: each id with its places in the Orders view.
type Candidates = Vec<(Vec<u8>, codec::OrderPlaces)>;

/// Ids to look up many times over. Hashed with foldhash: a page may look up every id of a long
/// list, and the ids come from the store, not an attacker.
type IdSet = HashSet<Vec<u8>, foldhash::fast::RandomState>;

/// How a list's orders follow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListOrder {
    /// A column, or the view's own order (`None`).
    pub column: Option<OrderSort>,
    pub descending: bool,
}

/// What a filter asks of an order.
pub struct OrderFilter<'a> {
    /// A necessary condition on the order's `listing::search_text`, given its UTF-8 bytes
    /// (checked without decoding the order, nor the text: the integrity check does that). Sync:
    /// a pass over every text runs on two threads.
    pub text: &'a (dyn Fn(&[u8]) -> bool + Sync),
    /// A necessary condition for `text` on any of the texts held whole among other bytes (a
    /// block of them): a pass skips a block it turns down without reading its texts one by
    /// one.
    pub any_text: &'a (dyn Fn(&[u8]) -> bool + Sync),
    /// The filter itself, on the decoded order.
    pub order: &'a dyn Fn(&Order) -> bool,
}

/// A page of a filtered list.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedPage {
    pub items: Vec<Order>,
    /// How many orders of the list match, when the walk reached the list's end; `None` when the
    /// page filled first ([`Store::count_matching`] counts them).
    pub total: Option<usize>,
}

/// Decides per index entry of a view's range whether its order is listed now, from the
/// entry's value alone. Settings are looked up once per link seen, not per entry.
struct Membership<'a> {
    view: OrderView,
    /// The link asked for, when the range holds every link's entries (`idx_order_sort`).
    link: Option<&'a [u8]>,
    now: Timestamp,
    lookup: &'a dyn Fn(&LinkId) -> LinkSettings,
    seen: Vec<(Vec<u8>, LinkSettings)>,
}

impl Membership<'_> {
    fn settings(&mut self, key: &[u8], link: &[u8]) -> Result<&LinkSettings> {
        let known = self
            .seen
            .iter()
            .position(|(name, _)| name.as_slice() == link);
        let at = match known {
            Some(at) => at,
            None => {
                let id = std::str::from_utf8(link)
                    .ok()
                    .and_then(|name| LinkId::new(name).ok())
                    .ok_or_else(|| {
                        codec::corrupt(TreeId::IdxViews.name(), key, "index names an invalid link")
                    })?;
                self.seen.push((link.to_vec(), (self.lookup)(&id)));
                self.seen.len() - 1
            }
        };
        Ok(&self.seen[at].1)
    }

    /// Whether an entry of the view's range (in `tree`) is of the link asked, and visible now.
    fn admits(&mut self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<bool> {
        if self.link.is_none() && self.view != OrderView::MissingTracking {
            return Ok(true);
        }
        let (paid_or_created, link) = codec::parse_view_value(tree.name(), key, value)?;
        if self.link.is_some_and(|l| l != link) {
            return Ok(false);
        }
        let (view, now) = (self.view, self.now);
        let settings = self.settings(key, link)?;
        Ok(is_visible_since(view, paid_or_created, settings, now))
    }
}

/// Where one list's index entries lie: a view's own range of `idx_views` (one per scope), or
/// its range by a column in `idx_order_sort`, which holds every link's entries.
struct ListRange<'a> {
    tree: TreeId,
    /// What every key of the list starts with.
    prefix: Vec<u8>,
    /// The view's own range: the length of its prefix (view code | scope).
    view_prefix: Option<usize>,
    /// The link asked for, when the range holds every link's entries.
    link: Option<&'a [u8]>,
}

impl<'a> ListRange<'a> {
    fn of(q: &ViewQuery<'a>, column: Option<OrderSort>) -> ListRange<'a> {
        match column {
            None => {
                let prefix = keys::view_prefix(q.view, q.link);
                ListRange {
                    tree: TreeId::IdxViews,
                    view_prefix: Some(prefix.len()),
                    prefix,
                    link: None,
                }
            }
            Some(column) => ListRange {
                tree: TreeId::IdxOrderSort,
                prefix: keys::sort_prefix(q.view, column.in_view(q.view)).to_vec(),
                view_prefix: None,
                link: q.link.map(|l| l.as_str().as_bytes()),
            },
        }
    }

    /// The first key after the list, if any key can be.
    fn end(&self) -> Option<Vec<u8>> {
        keys::after_prefix(&self.prefix)
    }

    /// The order an entry of the list is of.
    fn order_of<'k>(&self, key: &'k [u8]) -> Result<&'k [u8]> {
        let id = match self.view_prefix {
            Some(prefix) => key.get(prefix + 8..).filter(|id| !id.is_empty()),
            None => keys::order_of_sort_key(key),
        };
        id.ok_or_else(|| codec::corrupt(self.tree.name(), key, "index key names no order"))
    }

    /// Which of the list's entries `q` shows now.
    fn membership(
        &self,
        q: &ViewQuery<'_>,
        settings: &'a dyn Fn(&LinkId) -> LinkSettings,
    ) -> Membership<'a> {
        Membership {
            view: q.view,
            link: self.link,
            now: q.now,
            lookup: settings,
            seen: Vec::new(),
        }
    }
}

/// The order ids of one list, in the asked order.
pub(super) struct Walk<'a> {
    entries: Box<dyn Iterator<Item = Result<(sled::IVec, sled::IVec)>> + 'a>,
    list: ListRange<'a>,
    members: Membership<'a>,
}

/// One of sled's iterators with the handle of the tree it reads: sled's iterators hold the
/// tree themselves, so [`Store::reopen`] must wait until they are gone.
struct Holding<'a, I> {
    _handle: Handle<'a, sled::Tree>,
    items: I,
}

impl<I: Iterator> Iterator for Holding<'_, I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        self.items.next()
    }
}

impl Walk<'_> {
    /// The next order id of the list, or `None` at its end.
    pub(super) fn next_id(&mut self) -> Result<Option<IVec>> {
        for item in self.entries.by_ref() {
            let (key, value) = item?;
            if !self.members.admits(self.list.tree, &key, &value)? {
                continue;
            }
            let id = self.list.order_of(&key)?;
            return Ok(Some(blocks::within(&key, id)));
        }
        Ok(None)
    }

    /// Skips `n` orders; false if the list ended first.
    fn skip(&mut self, n: usize) -> Result<bool> {
        for _ in 0..n {
            if self.next_id()?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Where `order` sits in `q`'s list sorted by `column` (its key in the index walked), or `None`
/// when the list does not show it now (another view or link, or not yet visible).
fn list_position(
    order: &Order,
    q: &ViewQuery<'_>,
    column: Option<OrderSort>,
    settings: &dyn Fn(&LinkId) -> LinkSettings,
) -> Option<Vec<u8>> {
    let (_, sort) = views_of(order).into_iter().find(|(v, _)| *v == q.view)?;
    let shown = q.link.is_none_or(|link| *link == order.link)
        && is_visible(order, q.view, &settings(&order.link), q.now);
    shown.then(|| match column {
        None => keys::view_key(q.view, None, sort, &order.id),
        Some(column) => {
            let column = column.in_view(q.view);
            let value = sort_value(order, column, q.view);
            keys::sort_key((q.view, column), &value, order.tiktok.created_at, &order.id)
        }
    })
}

/// Counts a filtered list's matches and keeps those on the asked page.
struct Collect {
    offset: usize,
    limit: usize,
    matched: usize,
    items: Vec<Order>,
}

impl Collect {
    fn full(&self) -> bool {
        self.items.len() >= self.limit
    }
}

impl Store {
    /// Walks `q`'s list (view and link) by `column`, read backwards when `backwards`, from the
    /// first (backwards: last) entry whose key tail starts with `from` (empty: the list's end).
    pub(super) fn walk<'a>(
        &'a self,
        q: &ViewQuery<'a>,
        column: Option<OrderSort>,
        backwards: bool,
        from: &[u8],
        settings: &'a dyn Fn(&LinkId) -> LinkSettings,
    ) -> Walk<'a> {
        let list = ListRange::of(q, column);
        let (tree, prefix) = (list.tree, list.prefix.clone());
        let bucket = [&prefix[..], from].concat();
        let end = |bound: &[u8]| keys::after_prefix(bound).map_or(Unbounded, Excluded);
        let (lower, upper) = match backwards {
            true => (Included(prefix), end(&bucket)),
            false => (Included(bucket), end(&prefix)),
        };
        let entries: Box<dyn Iterator<Item = _>> = match tree {
            tree if blocks::is_blocked(tree) => Box::new(blocks::range(
                tree,
                self.tree(tree),
                lower,
                upper,
                backwards,
            )),
            _ => {
                let handle = self.tree(tree);
                let range = handle.range((lower, upper));
                let range: Box<dyn Iterator<Item = _>> = match backwards {
                    true => Box::new(range.rev()),
                    false => Box::new(range),
                };
                let entries = range.map(|item| item.map_err(StoreError::sled("walking a list")));
                Box::new(Holding {
                    _handle: handle,
                    items: entries,
                })
            }
        };
        Walk {
            entries,
            members: list.membership(q, settings),
            list,
        }
    }

    /// Where `q`'s list by `column` reaches its `offset`-th entry (read `backwards` or not):
    /// by the list's rank counts, or from its end for missing tracking, which has none.
    fn seek_in_list(
        &self,
        q: &ViewQuery<'_>,
        column: Option<OrderSort>,
        offset: usize,
        backwards: bool,
    ) -> Result<rank::Seek> {
        if q.view == OrderView::MissingTracking {
            return Ok(rank::Seek {
                bucket: Vec::new(),
                skip: offset,
            });
        }
        let list = match column {
            None => keys::rank_list_of_view(&keys::view_prefix(q.view, q.link)),
            Some(column) => keys::rank_list_of_sort(
                keys::sort_code(q.view, column.in_view(q.view)),
                q.link.map(|l| l.as_str().as_bytes()),
            ),
        };
        self.seek(&list, offset, backwards)
    }

    /// A page of a view in its own order, with the number of orders the whole view lists.
    /// `settings` gives a link's settings (the missing-tracking threshold).
    pub fn page_view(
        &self,
        query: &ViewQuery<'_>,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
    ) -> Result<Page<Order>> {
        self.page_sorted(query, ListOrder::default(), settings)
    }

    /// A page of a view in `order`, with the number of orders the whole view lists. A page in
    /// the second half of the list is read from its end.
    pub fn page_sorted(
        &self,
        q: &ViewQuery<'_>,
        order: ListOrder,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
    ) -> Result<Page<Order>> {
        let total = self.count_view(q.view, q.link, q.now, settings)?;
        let end = q.offset.saturating_add(q.limit).min(total);
        let from_end = q.offset > total / 2;
        let (skip, backwards) = match from_end {
            true => (total - end, !order.descending),
            false => (q.offset, order.descending),
        };
        let seek = self.seek_in_list(q, order.column, skip, backwards)?;
        let mut walk = self.walk(q, order.column, backwards, &seek.bucket, settings);
        let mut ids = Vec::new();
        if walk.skip(seek.skip)? {
            while ids.len() < end.saturating_sub(q.offset)
                && let Some(id) = walk.next_id()?
            {
                ids.push(id);
            }
        }
        if from_end {
            ids.reverse();
        }
        let items = self.listed(TreeId::Orders, ids)?;
        Ok(Page { total, items })
    }

    /// A page of the orders of `q`'s list that `filter` matches, in `order` (see the module
    /// docs for how it reads).
    pub fn page_matching(
        &self,
        q: &ViewQuery<'_>,
        order: ListOrder,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
        filter: &OrderFilter<'_>,
    ) -> Result<MatchedPage> {
        let mut walk = self.walk(q, order.column, order.descending, &[], settings);
        let mut page = Collect {
            offset: q.offset,
            limit: q.limit,
            matched: 0,
            items: Vec::new(),
        };
        let mut texts = blocks::Lookup::new(TreeId::IdxOrderText, self.tree(TreeId::IdxOrderText));
        let mut passed = Vec::new();
        for _ in 0..LOOKUP_BUDGET {
            let Some(id) = walk.next_id()? else {
                return Ok(MatchedPage {
                    total: Some(page.matched),
                    items: page.items,
                });
            };
            // A missing entry is the integrity check's to report; the order is not skipped.
            let may_match = match texts.get(&id)? {
                Some(bytes) => {
                    (filter.text)(codec::text_of(TreeId::IdxOrderText.name(), &id, bytes)?.text)
                }
                None => true,
            };
            if may_match {
                self.consider(&id, filter, &mut page)?;
                passed.push(id);
            }
            if page.full() {
                return Ok(MatchedPage {
                    items: page.items,
                    total: None,
                });
            }
        }
        let candidates = self.text_candidates(q.link, filter)?;
        // Missing tracking has no stored count; its list is short.
        let list_length = match q.view {
            OrderView::MissingTracking => 0,
            view => self.stored_count(view, q.link)?,
        };
        // Places in the Orders view ride with each text (`OrderText`), by the columns of times.
        let place = match q.view {
            OrderView::All => place_in_orders_view(order.column),
            _ => None,
        };
        let few = candidates.len() <= FEW_CANDIDATES
            || place.is_none() && candidates.len().saturating_mul(DECODE_COST) <= list_length;
        if few {
            return self.page_of_candidates(q, order, settings, filter, candidates);
        }
        // The walk so far met these; they are counted, and on the page if they fall there.
        let passed: HashSet<IVec> = passed.into_iter().collect();
        let candidates = candidates
            .into_iter()
            .filter(|(id, _)| !passed.contains(id.as_slice()));
        if let Some(place) = place {
            return self.finish_in_orders_view(order.descending, place, filter, candidates, page);
        }
        let candidates = candidates.map(|(id, _)| id).collect();
        self.finish_by_reading_the_list(q, order, settings, filter, candidates, page)
    }

    /// The rest of a filtered page of the Orders view in an order [`place_in_orders_view`]
    /// knows, whose many candidates were not met early: each candidate's place came with its
    /// text, so they sort into the list without reading it, and are decoded only as far as the
    /// page needs. (The walk so far met a front part of the list, and `candidates` holds none
    /// of it.)
    fn finish_in_orders_view(
        &self,
        descending: bool,
        place: Place,
        filter: &OrderFilter<'_>,
        candidates: impl Iterator<Item = (Vec<u8>, codec::OrderPlaces)>,
        page: Collect,
    ) -> Result<MatchedPage> {
        let mut placed: Vec<((i64, i64), Vec<u8>)> = candidates
            .map(|(id, places)| (place(&places), id))
            .collect();
        placed.sort_unstable();
        if descending {
            placed.reverse();
        }
        self.consider_in_order(placed.into_iter().map(|(_, id)| id), filter, page)
    }

    /// The rest of a filtered page whose many candidates were not met early: one read of the
    /// whole list, its halves on two threads (as the texts are read), finds where each
    /// candidate sits, and they are decoded in list order only as far as the page needs.
    /// Matches cluster (a tracking prefix of some weeks, a SKU sold for a season), so walking
    /// the list from either end may meet them only in its middle; and placing each candidate by
    /// decoding it costs [`DECODE_COST`] times what stepping over an entry here does.
    fn finish_by_reading_the_list(
        &self,
        q: &ViewQuery<'_>,
        order: ListOrder,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
        filter: &OrderFilter<'_>,
        candidates: IdSet,
        page: Collect,
    ) -> Result<MatchedPage> {
        let list = ListRange::of(q, order.column);
        let tree = self.tree(list.tree);
        let end = list.end();
        let read_half = |blocks: blocks::BlockRange| {
            let mut met = Vec::new();
            // It breaks off only at the list's end.
            let _ = blocks::for_each(
                list.tree,
                &tree,
                blocks,
                |_| true,
                |key, value| {
                    if key < list.prefix.as_slice() {
                        return Ok(ControlFlow::Continue(()));
                    }
                    if end.as_deref().is_some_and(|end| key >= end) {
                        return Ok(ControlFlow::Break(()));
                    }
                    if candidates.contains(list.order_of(key)?) {
                        met.push((key.to_vec(), value.to_vec()));
                    }
                    Ok(ControlFlow::Continue(()))
                },
            )?;
            Ok(met)
        };
        let halves = blocks::halves(&tree, &list.prefix, end.as_deref())?;
        let mut met: Vec<_> = on_two_threads(halves, &read_half)?
            .into_iter()
            .flatten()
            .collect();
        if order.descending {
            met.reverse();
        }
        let mut members = list.membership(q, settings);
        let mut listed = Vec::new();
        for (key, value) in met {
            if members.admits(list.tree, &key, &value)? {
                listed.push(list.order_of(&key)?.to_vec());
            }
        }
        self.consider_in_order(listed.into_iter(), filter, page)
    }

    /// Considers the candidates `listed` in list order until the page is full; the total is
    /// known when none was left unconsidered.
    fn consider_in_order(
        &self,
        mut listed: impl ExactSizeIterator<Item = Vec<u8>>,
        filter: &OrderFilter<'_>,
        mut page: Collect,
    ) -> Result<MatchedPage> {
        while !page.full()
            && let Some(id) = listed.next()
        {
            self.consider(&id, filter, &mut page)?;
        }
        Ok(MatchedPage {
            total: (listed.len() == 0).then_some(page.matched),
            items: page.items,
        })
    }

    /// How many orders of `q`'s list (view, link, time; its paging ignored) `filter` matches:
    /// one sequential read of every order's text, then each candidate decoded, in id order so
    /// that neighbours share the pages read (a filter matching 5% of a million orders decodes
    /// 50,000 orders, far more than the page cache holds).
    pub fn count_matching(
        &self,
        q: &ViewQuery<'_>,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
        filter: &OrderFilter<'_>,
    ) -> Result<usize> {
        Ok(self
            .count_matching_while(q, settings, filter, &|| true)?
            .unwrap_or_default())
    }

    /// [`Store::count_matching`], given up (`None`) once `wanted` says the count is not wanted
    /// any more (asked every [`WANTED_EVERY`] orders read): a console's filter changed.
    pub fn count_matching_while(
        &self,
        q: &ViewQuery<'_>,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
        filter: &OrderFilter<'_>,
        wanted: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<usize>> {
        let Some(candidates) = self.text_candidates_while(q.link, filter, wanted)? else {
            return Ok(None);
        };
        let mut count = 0;
        // In id order, as the texts are.
        for (n, (id, _)) in candidates.into_iter().enumerate() {
            if n.is_multiple_of(WANTED_EVERY) && !wanted() {
                return Ok(None);
            }
            let Some(order) = self.get::<Order>(TreeId::Orders, &id)? else {
                continue;
            };
            if list_position(&order, q, None, settings).is_some() && (filter.order)(&order) {
                count += 1;
            }
        }
        Ok(Some(count))
    }

    /// A filtered page from few candidates: each decoded, kept if on the list and matched, and
    /// put where the list's index would have it.
    fn page_of_candidates(
        &self,
        q: &ViewQuery<'_>,
        order: ListOrder,
        settings: &dyn Fn(&LinkId) -> LinkSettings,
        filter: &OrderFilter<'_>,
        candidates: Candidates,
    ) -> Result<MatchedPage> {
        let mut listed = Vec::new();
        // In id order (as the texts are), neighbours share the pages read.
        for (id, _) in candidates {
            let Some(found) = self.get::<Order>(TreeId::Orders, &id)? else {
                continue;
            };
            if let Some(position) = list_position(&found, q, order.column, settings)
                && (filter.order)(&found)
            {
                listed.push((position, id));
            }
        }
        listed.sort_unstable();
        if order.descending {
            listed.reverse();
        }
        let total = listed.len();
        // Only the page's orders are held decoded; one removed meanwhile is passed over.
        let mut items = Vec::new();
        for (_, id) in listed.into_iter().skip(q.offset).take(q.limit) {
            items.extend(self.get::<Order>(TreeId::Orders, &id)?);
        }
        Ok(MatchedPage {
            total: Some(total),
            items,
        })
    }

    /// Decodes the order `id` and, if the filter matches it, counts it and keeps it when it
    /// falls on the page. An order removed since its index entry was read is passed over.
    fn consider(&self, id: &[u8], filter: &OrderFilter<'_>, page: &mut Collect) -> Result<()> {
        let Some(order) = self.get::<Order>(TreeId::Orders, id)? else {
            return Ok(());
        };
        if (filter.order)(&order) {
            page.matched += 1;
            if page.matched > page.offset && !page.full() {
                page.items.push(order);
            }
        }
        Ok(())
    }

    /// Every order of `link` (or of every link) whose indexed text passes the filter's text
    /// check, in one sequential read of `idx_order_text`'s blocks.
    fn text_candidates(
        &self,
        link: Option<&LinkId>,
        filter: &OrderFilter<'_>,
    ) -> Result<Candidates> {
        Ok(self
            .text_candidates_while(link, filter, &|| true)?
            .unwrap_or_default())
    }

    /// [`Store::text_candidates`], given up (`None`) once `wanted` says so. The two halves of
    /// the texts are read on two threads (most of a pass is sled reading its pages), the front
    /// half's candidates put first.
    fn text_candidates_while(
        &self,
        link: Option<&LinkId>,
        filter: &OrderFilter<'_>,
        wanted: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Candidates>> {
        let tree = self.tree(TreeId::IdxOrderText);
        let link = link.map(|link| link.as_str().as_bytes());
        let text = filter.text;
        let passes = &|entry: &codec::OrderText<'_>| {
            link.is_none_or(|link| entry.link == link) && text(entry.text)
        };
        // Once one half hears the count is not wanted, the other stops without asking again.
        let given_up = AtomicBool::new(false);
        let wanted = &|| {
            let wanted = !given_up.load(Relaxed) && wanted();
            if !wanted {
                given_up.store(true, Relaxed);
            }
            wanted
        };
        let halves = blocks::halves(&tree, &[], None)?;
        let halves = on_two_threads(halves, &|blocks| {
            self.text_candidates_in(blocks, filter.any_text, passes, wanted)
        })?;
        Ok(halves
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|halves| halves.concat()))
    }

    /// [`Store::text_candidates_while`] over the texts of the blocks whose keys lie in `blocks`
    /// (those `any_text` turns down skipped whole).
    fn text_candidates_in(
        &self,
        blocks: blocks::BlockRange,
        any_text: &(dyn Fn(&[u8]) -> bool + Sync),
        passes: &(dyn Fn(&codec::OrderText<'_>) -> bool + Sync),
        wanted: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Candidates>> {
        let name = TreeId::IdxOrderText.name();
        let mut candidates = Candidates::default();
        let mut read = 0usize;
        let flow = blocks::for_each(
            TreeId::IdxOrderText,
            &self.tree(TreeId::IdxOrderText),
            blocks,
            any_text,
            |id, bytes| {
                read += 1;
                if read.is_multiple_of(WANTED_EVERY) && !wanted() {
                    return Ok(ControlFlow::Break(()));
                }
                let entry = codec::text_of(name, id, bytes)?;
                if passes(&entry) {
                    candidates.push((id.to_vec(), entry.places));
                }
                Ok(ControlFlow::Continue(()))
            },
        )?;
        Ok(flow.is_continue().then_some(candidates))
    }
}

/// What an order sorts by in a list of the Orders view before its id, from its text entry.
type Place = fn(&codec::OrderPlaces) -> (i64, i64);

/// How a candidate's place in the Orders view's list by `column` (`None`: its own order) follows
/// from its text entry: the list's value, then creation newest first, as `keys::sort_key` and
/// `views_of` order them (its id breaks ties). `None` for a column of texts: the list is read.
fn place_in_orders_view(column: Option<OrderSort>) -> Option<Place> {
    let place: Place = match column {
        None => |p| (p.sort, p.sort),
        Some(OrderSort::Created) => |p| (p.sort.saturating_neg(), p.sort),
        Some(OrderSort::ShipBy) => |p| (p.ship_by, p.sort),
        Some(OrderSort::Paid) => |p| (p.paid, p.sort),
        Some(OrderSort::Id) => |_| (0, 0),
        Some(_) => return None,
    };
    Some(place)
}

/// `pass` over each of `halves` (one or two ranges of blocks), the second on a thread of its
/// own; what each gave, in the halves' order.
fn on_two_threads<T: Send>(
    halves: Vec<blocks::BlockRange>,
    pass: &(dyn Fn(blocks::BlockRange) -> Result<T> + Sync),
) -> Result<Vec<T>> {
    let mut halves = halves.into_iter();
    std::thread::scope(|scope| {
        let front = halves.next();
        let back = halves.next().map(|back| scope.spawn(move || pass(back)));
        let front = front.map(pass).transpose();
        let back = back.map(|back| {
            back.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        Ok(front?.into_iter().chain(back.transpose()?).collect())
    })
}
