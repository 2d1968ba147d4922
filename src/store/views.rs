//! The sizes of the triage views, and the Cancellations list as a range scan of its index. A
//! view's size is kept in `idx_view_counts` by every change, so a count costs one read.
//! Missing tracking also depends on the time (`triage::is_visible`): its count walks its
//! range, filtering with the paid-or-created instant and link kept in each `idx_views` value,
//! without decoding orders. Pages of the views themselves are in `lists.rs`.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};

use super::blocks;
use super::codec;
use super::keys;
use super::records::Page;
use super::{Result, Store, StoreError, TreeId};
use crate::domain::cancellation::Cancellation;
use crate::domain::clock::Timestamp;
use crate::domain::ids::LinkId;
use crate::domain::settings::LinkSettings;
use crate::domain::triage::OrderView;

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

impl Store {
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
        let mut walk = self.walk(&query, None, false, &[], settings);
        let mut total = 0;
        while walk.next_id()?.is_some() {
            total += 1;
        }
        Ok(total)
    }

    /// Orders of `link` awaiting tracking whose ship-by deadline is at or before `by` (passed
    /// ones included), whatever the link's display threshold: a range scan of the
    /// missing-tracking index, which is sorted by deadline. Orders without a deadline sort last
    /// and never count.
    pub fn awaiting_tracking_due_by(&self, link: &LinkId, by: Timestamp) -> Result<usize> {
        let start = keys::view_prefix(OrderView::MissingTracking, Some(link));
        let mut end = start.clone();
        end.extend_from_slice(&keys::i64_key(by.timestamp().saturating_add(1)));
        let (tree, mut due) = (TreeId::IdxViews, 0);
        for item in blocks::range(tree, self.tree(tree), Included(start), Excluded(end), false) {
            item?;
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
    pub(super) fn stored_count(&self, view: OrderView, link: Option<&LinkId>) -> Result<usize> {
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
