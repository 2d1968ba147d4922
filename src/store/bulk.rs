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
use super::index;
use super::keys;
use super::{Change, Result, Store, StoreError, TreeId, meta};
use crate::domain::order::Order;

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
        let mut batches: HashMap<TreeId, sled::Batch> = HashMap::new();
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for order in orders {
            let key = order.id.as_str().as_bytes();
            let value = codec::encode(TreeId::Orders.name(), key, order)?;
            batches
                .entry(TreeId::Orders)
                .or_default()
                .insert(key, value);
            for entry in index::order_entries(order) {
                if entry.tree == TreeId::IdxViews
                    && let Some(prefix) = keys::view_prefix_of(&entry.key)
                {
                    *counts.entry(prefix.to_vec()).or_default() += 1;
                }
                batches
                    .entry(entry.tree)
                    .or_default()
                    .insert(entry.key, entry.value);
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
        for (tree, batch) in batches {
            self.tree(tree)
                .apply_batch(batch)
                .map_err(StoreError::sled("importing orders"))?;
        }
        let name = TreeId::IdxViewCounts.name();
        let stored = self.tree(TreeId::IdxViewCounts);
        for (prefix, added) in counts {
            let current = match stored
                .get(&prefix)
                .map_err(StoreError::sled("reading a view count"))?
            {
                Some(bytes) => codec::parse_count(name, &prefix, &bytes)?,
                None => 0,
            };
            stored
                .insert(prefix, codec::count_value(current + added))
                .map_err(StoreError::sled("writing a view count"))?;
        }
        if !owed {
            meta.remove(meta::FULL_CHECK_PENDING)
                .map_err(StoreError::sled("clearing the pending check marker"))?;
        }
        self.flush()
    }
}
