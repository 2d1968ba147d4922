//! Bulk import of orders the store does not hold yet (a preloaded history): one sled batch per
//! tree instead of one transaction over every tree, several times faster for thousands of
//! orders. Writes wait meanwhile (`Store::writes`), so view counts cannot race a change.
//!
//! The trees are written one after another, so a crash between two batches could leave an
//! order without some index entries. The `full_check_pending` marker is written (and flushed)
//! before the batches and cleared after them: after such a crash the next open owes the full
//! check, which finds the gap and rebuilds the indexes from the orders.

use std::collections::{BTreeMap, HashMap};

use super::codec;
use super::index::{self, Entry};
use super::keys;
use super::rank;
use super::text_blocks::TextChanges;
use super::{Change, Result, Store, StoreError, TreeId, meta};
use crate::domain::order::Order;

/// Entries a batch holds before it is written: a rebuild of a million orders' indexes must not
/// hold them all in memory at once.
const BATCH_ENTRIES: usize = 200_000;

/// Records and index entries written as one sled batch per tree (bulk imports and index
/// rebuilds, while writes wait), and what their index entries add to the kept counts.
#[derive(Default)]
pub(super) struct Batches {
    trees: HashMap<TreeId, sled::Batch>,
    held: usize,
    /// Entries added, over every write.
    pub entries: u64,
    /// `idx_views` entries added per view prefix (the keys of `idx_view_counts`), and rank
    /// buckets' entries (`idx_rank_counts`), since the last write.
    views: BTreeMap<Vec<u8>, u64>,
    ranks: BTreeMap<Vec<u8>, u64>,
    /// Order texts, written into their blocks (`text_blocks.rs`) with the rest.
    texts: TextChanges,
}

impl Batches {
    pub fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        self.trees.entry(tree).or_default().insert(key, value);
        self.held += 1;
    }

    pub fn add(&mut self, entry: Entry) -> Result<()> {
        if entry.tree == TreeId::IdxViews
            && let Some(prefix) = keys::view_prefix_of(&entry.key)
        {
            *self.views.entry(prefix.to_vec()).or_default() += 1;
        }
        for counter in rank::counters(entry.tree, &entry.key, &entry.value)? {
            *self.ranks.entry(counter.key).or_default() += 1;
        }
        self.entries += 1;
        match entry.tree {
            TreeId::IdxOrderText => {
                self.texts.set(&entry.key, Some(&entry.value));
                self.held += 1;
            }
            tree => self.put(tree, entry.key, entry.value),
        }
        Ok(())
    }

    /// Writes what is held once it is [`BATCH_ENTRIES`] or more.
    pub fn write_when_full(&mut self, store: &Store) -> Result<()> {
        match self.held + self.ranks.len() >= BATCH_ENTRIES {
            true => self.write(store),
            false => Ok(()),
        }
    }

    /// Writes every held batch, index trees before the primary ones (a crash between them
    /// leaves entries without records, which the full check reports and a rebuild drops), then
    /// adds the tallies to the stored counts.
    pub fn write(&mut self, store: &Store) -> Result<()> {
        let mut held: Vec<_> = self.trees.drain().collect();
        held.sort_by_key(|(tree, _)| index::owner(*tree).is_none());
        self.texts.write_batch(store.tree(TreeId::IdxOrderText))?;
        for (tree, batch) in held {
            store
                .tree(tree)
                .apply_batch(batch)
                .map_err(StoreError::sled("writing a batch"))?;
        }
        self.held = 0;
        for (tree, added) in [
            (TreeId::IdxViewCounts, std::mem::take(&mut self.views)),
            (TreeId::IdxRankCounts, std::mem::take(&mut self.ranks)),
        ] {
            add_to_counts(store, tree, added)?;
        }
        Ok(())
    }
}

/// Adds `added` to the counts stored in `tree`, in one batch.
fn add_to_counts(store: &Store, tree: TreeId, added: BTreeMap<Vec<u8>, u64>) -> Result<()> {
    let stored = store.tree(tree);
    let mut batch = sled::Batch::default();
    for (key, added) in added {
        let current = match stored
            .get(&key)
            .map_err(StoreError::sled("reading a kept count"))?
        {
            Some(bytes) => codec::parse_count(tree.name(), &key, &bytes)?,
            None => 0,
        };
        batch.insert(key, codec::count_value(current + added));
    }
    stored
        .apply_batch(batch)
        .map_err(StoreError::sled("writing kept counts"))
}

impl Store {
    /// Writes `orders` with their index entries and flushes once. Orders the store already
    /// holds go through an ordinary change instead (their old index entries must go).
    pub fn import_orders(&self, orders: &[Order]) -> Result<()> {
        let mut known = Vec::new();
        {
            let _alone = self.writes.write().unwrap_or_else(|e| e.into_inner());
            let tree = self.tree(TreeId::Orders);
            let mut fresh = Vec::new();
            for order in orders {
                let stored = tree
                    .contains_key(order.id.as_str())
                    .map_err(StoreError::sled("reading an order"))?;
                if stored {
                    known.push(order.clone());
                } else {
                    fresh.push(order);
                }
            }
            self.write_batches(&fresh)?;
        }
        if !known.is_empty() {
            self.apply(&Change {
                orders: known,
                ..Change::default()
            })?;
        }
        Ok(())
    }

    fn write_batches(&self, orders: &[&Order]) -> Result<()> {
        let mut batches = Batches::default();
        for order in orders {
            let key = order.id.as_str().as_bytes();
            let value = codec::encode(TreeId::Orders.name(), key, order)?;
            batches.put(TreeId::Orders, key.to_vec(), value);
            for entry in index::order_entries(order) {
                batches.add(entry)?;
            }
        }
        let meta = self.tree(TreeId::Meta);
        let owed = meta
            .contains_key(meta::FULL_CHECK_PENDING)
            .map_err(StoreError::sled("reading the pending check marker"))?;
        let marker = codec::encode(TreeId::Meta.name(), meta::FULL_CHECK_PENDING, &true)?;
        meta.insert(meta::FULL_CHECK_PENDING, marker)
            .map_err(StoreError::sled("writing the pending check marker"))?;
        self.flush()?;
        batches.write(self)?;
        if !owed {
            meta.remove(meta::FULL_CHECK_PENDING)
                .map_err(StoreError::sled("clearing the pending check marker"))?;
        }
        self.flush()
    }
}
