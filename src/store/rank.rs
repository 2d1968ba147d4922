//! Rank counts (`idx_rank_counts`): how many entries of each order list fall in each bucket of
//! its index range, so that a page at any offset skips whole buckets by their counts instead of
//! stepping over every order before it (a million-order list's middle page read 500,000 index
//! entries before these).
//!
//! A *list* is a view's own range of `idx_views` (one per scope, as the keys have it) or one
//! list by one column in `idx_order_sort`, counted globally and per link since that range holds
//! every link's entries. A *bucket* is a prefix of an entry's key tail (the key after the
//! list's prefix). Each entry is counted at a few levels, each cutting its tail longer than the
//! one before ([`cuts`]), so a list's buckets form a shallow tree: level 1 splits the list,
//! level 2 each level-1 bucket, and so on. Within one bucket either every entry has a next cut
//! or none has, and no child is a prefix of another, so a bucket's children cover it exactly.
//!
//! [`Store::seek`] finds offset N by reading, level by level, the children of the bucket found
//! so far (in the list's direction), subtracting their counts until the one holding N; the walk
//! starts at the deepest bucket found and steps over what is left (a few hundred entries). The
//! cuts follow the key's shape, so that buckets hold hundreds, not hundreds of thousands:
//! times by 2^24 s and 2^16 s (then by creation time when the time is missing); words
//! (status, SKU, buyer) by their first bytes, the whole text, then creation time within one
//! text; identifiers (order id, store order number) by every third byte up to the 15th.
//!
//! Missing tracking is not counted: whether an order is listed there depends on the time, so
//! its (short) list is walked. Counts change in the transaction that changes the index
//! (`change.rs`); bulk writes add theirs (`bulk.rs`); the full integrity check compares them
//! with counts streamed from the index itself, and a rebuild regenerates them.

use std::collections::HashMap;
use std::ops::Bound::{Excluded, Included, Unbounded};

use super::blocks;
use super::codec;
use super::keys;
use super::{Result, Store, TreeId};
use crate::domain::order_sort::OrderSort;
use crate::domain::triage::OrderView;

/// How a list's key tail is cut into buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `idx_views`: sort time (8 bytes) | order id.
    ViewTime,
    /// A time column: time (8 bytes) | created | order id.
    Time,
    /// Text shared by many orders (status, why, SKUs, buyer): text | SEP | created | order id.
    Words,
    /// Text nearly unique per order (its id, the store's order number).
    Identifier,
}

fn shape_of(column: OrderSort) -> Shape {
    match column {
        OrderSort::Created | OrderSort::ShipBy | OrderSort::Paid => Shape::Time,
        OrderSort::Id | OrderSort::StoreOrder => Shape::Identifier,
        OrderSort::Link
        | OrderSort::Status
        | OrderSort::Why
        | OrderSort::StorefrontSide
        | OrderSort::Skus
        | OrderSort::Buyer => Shape::Words,
    }
}

/// A time's 8 bytes cut after 5 and 6: buckets of 2^24 s (~194 days) and 2^16 s (~18 h). At a
/// million orders a year an 18-hour bucket holds ~2,000 of them, which a page steps over in a
/// few milliseconds; a finer cut (256 s) held about one order per link, a count per order kept
/// and rewritten for nothing (half of all counts at that size).
const TIME_CUTS: [usize; 2] = [5, 6];
/// The creation time (negated, 8 bytes) after a text's `SEP` cut after 6: ~18 h buckets.
const CREATED_CUT: usize = 6;
/// Text prefixes of words, before the whole text.
const WORD_CUTS: [usize; 3] = [2, 4, 8];
/// Text prefixes of identifiers: digits vary late in an order id. None past 15: TikTok's ids
/// have 18 digits, and a cut at 18 made a bucket of every order (a count per order kept for
/// nothing); a bucket of 15 digits holds at most a thousand.
const IDENTIFIER_CUTS: [usize; 5] = [3, 6, 9, 12, 15];

/// The lengths of `tail`'s bucket prefixes, one per level, increasing.
fn cuts(shape: Shape, tail: &[u8]) -> Vec<usize> {
    // A text's cut never passes its end (the `SEP` included), so an entry whose text is
    // shorter than a cut is bucketed by its whole text at that level.
    let text_cuts = |prefixes: &[usize]| {
        let end = tail
            .iter()
            .position(|b| *b == keys::SEP)
            .unwrap_or(tail.len());
        let mut out: Vec<usize> = prefixes.iter().map(|c| (*c).min(end + 1)).collect();
        out.dedup();
        (out, end + 1)
    };
    let mut out = match shape {
        Shape::ViewTime => TIME_CUTS.to_vec(),
        Shape::Time => {
            let mut out = TIME_CUTS.to_vec();
            // A missing time is i64::MAX: every such entry shares one bucket, split by creation.
            if tail.get(..7).is_some_and(|t| t.iter().all(|b| *b == 0xff)) {
                out.extend([8 + CREATED_CUT, 8 + CREATED_CUT + 1]);
            }
            out
        }
        Shape::Identifier => text_cuts(&IDENTIFIER_CUTS).0,
        Shape::Words => {
            let (mut out, text) = text_cuts(&WORD_CUTS);
            if out.last() != Some(&text) {
                out.push(text);
            }
            out.push(text + CREATED_CUT);
            out
        }
    };
    // Keys always run on past their last cut (creation time, order id); a damaged one must not
    // make a bucket of the whole key.
    out.retain(|c| *c < tail.len());
    out
}

/// The lists an index entry is counted in, with the length of the list's prefix in its key.
fn lists_of(tree: TreeId, key: &[u8], value: &[u8]) -> Result<Vec<(Vec<u8>, Shape, usize)>> {
    match tree {
        TreeId::IdxViews => {
            let Some(prefix) = keys::view_prefix_of(key) else {
                return Err(codec::corrupt(tree.name(), key, "not a view key"));
            };
            let counted = keys::view_of_code(key[0]) != Some(OrderView::MissingTracking);
            Ok(match counted {
                true => vec![(
                    keys::rank_list_of_view(prefix),
                    Shape::ViewTime,
                    prefix.len(),
                )],
                false => Vec::new(),
            })
        }
        TreeId::IdxOrderSort => {
            let code = *key.first().unwrap_or(&0);
            let Some((view, column)) = keys::sort_range_of_code(code) else {
                return Err(codec::corrupt(tree.name(), key, "not a sort key"));
            };
            if view == OrderView::MissingTracking {
                return Ok(Vec::new());
            }
            let (_, link) = codec::parse_view_value(tree.name(), key, value)?;
            let shape = shape_of(column);
            Ok([None, Some(link)]
                .map(|scope| (keys::rank_list_of_sort(code, scope), shape, 1))
                .into())
        }
        _ => Ok(Vec::new()),
    }
}

/// One count an index entry adds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: Vec<u8>,
    /// The length of its `list | level` prefix: entries read in index order meet each such
    /// stream's buckets one run after another.
    pub stream: usize,
}

/// The counts an entry of `tree` adds one to: none for trees without rank counts.
pub fn counters(tree: TreeId, key: &[u8], value: &[u8]) -> Result<Vec<Counter>> {
    let mut out = Vec::new();
    for (list, shape, prefix) in lists_of(tree, key, value)? {
        let tail = &key[prefix..];
        for (level, cut) in (1..).zip(cuts(shape, tail)) {
            out.push(Counter {
                key: keys::rank_key(&list, level, &tail[..cut]),
                stream: list.len() + 1,
            });
        }
    }
    Ok(out)
}

/// Counts from index entries read in key order, holding only the current bucket of each
/// stream: a finished bucket's count goes to `done` as the next one starts.
#[derive(Default)]
pub struct Streamed {
    current: HashMap<Vec<u8>, (Vec<u8>, u64)>,
}

impl Streamed {
    pub fn add(&mut self, counters: Vec<Counter>, done: &mut dyn FnMut(&[u8], u64)) {
        for Counter { key, stream } in counters {
            match self.current.get_mut(&key[..stream]) {
                Some((bucket, count)) if *bucket == key => *count += 1,
                Some(run) => {
                    let (finished, count) = std::mem::replace(run, (key, 1));
                    done(&finished, count);
                }
                None => {
                    self.current.insert(key[..stream].to_vec(), (key, 1));
                }
            }
        }
    }

    pub fn finish(self, done: &mut dyn FnMut(&[u8], u64)) {
        for (key, count) in self.current.into_values() {
            done(&key, count);
        }
    }
}

/// Where a walk starts to reach an offset: the first (or, read backwards, last) entry whose
/// key tail starts with `bucket`, then `skip` entries further.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Seek {
    pub bucket: Vec<u8>,
    pub skip: usize,
}

impl Store {
    /// Finds the bucket of `list` (an `idx_rank_counts` list) holding its `offset`-th entry,
    /// read forwards or `backwards`. Counts that do not add up (a change committing meanwhile)
    /// leave the walk to the whole list, which is slower, never wrong.
    pub(super) fn seek(&self, list: &[u8], offset: usize, backwards: bool) -> Result<Seek> {
        let tree = TreeId::IdxRankCounts;
        let mut at = Seek {
            bucket: Vec::new(),
            skip: offset,
        };
        for level in 1..=u8::MAX {
            let prefix = keys::rank_key(list, level, &at.bucket);
            let end = keys::after_prefix(&prefix).map_or(Unbounded, Excluded);
            let children = blocks::range(tree, self.tree(tree), Included(prefix), end, backwards);
            let mut any = false;
            let mut found = None;
            for item in children {
                let (key, value) = item?;
                any = true;
                let count = codec::parse_count(tree.name(), &key, &value)? as usize;
                if at.skip < count {
                    found = Some(key[list.len() + 1..].to_vec());
                    break;
                }
                at.skip -= count;
            }
            match (any, found) {
                (false, _) => break,
                (true, Some(bucket)) => at.bucket = bucket,
                (true, None) => {
                    return Ok(Seek {
                        bucket: Vec::new(),
                        skip: offset,
                    });
                }
            }
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;
    use crate::domain::ids::TiktokOrderId;
    use crate::domain::order_sort::SortValue;

    fn sort_tail(column: OrderSort, value: SortValue, created: i64, id: &str) -> Vec<u8> {
        let key = keys::sort_key(
            (OrderView::All, column),
            &value,
            from_unix(created),
            &TiktokOrderId::new(id).unwrap(),
        );
        key[1..].to_vec()
    }

    fn buckets(shape: Shape, tail: &[u8]) -> Vec<Vec<u8>> {
        cuts(shape, tail)
            .iter()
            .map(|c| tail[..*c].to_vec())
            .collect()
    }

    #[test]
    fn a_text_is_cut_at_its_prefixes_then_whole_then_by_creation() {
        let words = |text: &str| {
            let tail = sort_tail(OrderSort::Buyer, SortValue::Text(text.into()), 9, "77");
            buckets(Shape::Words, &tail)
        };
        let anna = words("Anna Kong");
        assert_eq!(
            anna[..3],
            [b"An".to_vec(), b"Anna".to_vec(), b"Anna Kon".to_vec()]
        );
        assert_eq!(anna[3], b"Anna Kong\0");
        assert_eq!(anna[4].len(), 10 + CREATED_CUT);
        // Shorter than a cut: the whole text stands for it, and comes once.
        assert_eq!(
            words("A"),
            [b"A\0".to_vec(), [&b"A\0"[..], &anna[4][10..]].concat()]
        );
        let empty = words("");
        assert_eq!(empty[0], b"\0");
        // A bucket of one level is never a prefix of another's at that level.
        let ann = words("Ann");
        assert_eq!(ann[1], b"Ann\0");
        assert!(!anna[1].starts_with(&ann[1]) && !ann[1].starts_with(&anna[1]));
    }

    #[test]
    fn times_are_cut_into_shrinking_spans_and_missing_ones_by_creation() {
        let tail = sort_tail(OrderSort::ShipBy, SortValue::Time(1_700_000_000), 5, "1");
        assert_eq!(cuts(Shape::Time, &tail), TIME_CUTS);
        let missing = sort_tail(OrderSort::ShipBy, SortValue::Time(i64::MAX), 5, "1");
        assert_eq!(cuts(Shape::Time, &missing), [5, 6, 14, 15]);
        let id = sort_tail(OrderSort::Id, SortValue::Text("12345".into()), 5, "12345");
        assert_eq!(cuts(Shape::Identifier, &id), [3, 6]);
    }

    #[test]
    fn sort_entries_count_in_both_scopes_and_missing_tracking_in_none() {
        let value = codec::view_value(from_unix(3), "uk");
        let key = keys::sort_key(
            (OrderView::Stuck, OrderSort::Created),
            &SortValue::Time(3),
            from_unix(3),
            &TiktokOrderId::new("5").unwrap(),
        );
        let counted = counters(TreeId::IdxOrderSort, &key, &value).unwrap();
        assert_eq!(counted.len(), 2 * TIME_CUTS.len());
        for counter in &counted {
            let parsed = keys::parse_rank_key(&counter.key).unwrap();
            assert_eq!(parsed.view, OrderView::Stuck);
            assert_eq!(parsed.list.len() + 1, counter.stream);
        }
        let missing = keys::sort_key(
            (OrderView::MissingTracking, OrderSort::Created),
            &SortValue::Time(3),
            from_unix(3),
            &TiktokOrderId::new("5").unwrap(),
        );
        assert!(
            counters(TreeId::IdxOrderSort, &missing, &value)
                .unwrap()
                .is_empty()
        );
        assert!(
            counters(TreeId::IdxJobsDue, b"k", b"\x02")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn streamed_counts_close_each_bucket_when_the_next_starts() {
        let counter = |level: u8, bucket: &[u8]| Counter {
            key: keys::rank_key(b"s\x44\x00", level, bucket),
            stream: 4,
        };
        let mut got = Vec::new();
        let mut streamed = Streamed::default();
        let mut done = |key: &[u8], count| got.push((key.to_vec(), count));
        for bucket in [&b"a"[..], b"a", b"b"] {
            streamed.add(vec![counter(1, bucket), counter(2, b"x")], &mut done);
        }
        streamed.finish(&mut done);
        got.sort();
        assert_eq!(
            got,
            [
                (counter(1, b"a").key, 2),
                (counter(1, b"b").key, 1),
                (counter(2, b"x").key, 3)
            ]
        );
    }
}
