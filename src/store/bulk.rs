//! Bulk import of orders the store does not hold yet (a preloaded history), and index
//! rebuilds: entries gathered per tree and inserted plainly instead of one transaction over
//! every tree, several times faster for thousands of orders, and on two threads (a sled batch
//! would take sled's one process-wide write lock and leave the second core idle). Writes wait
//! meanwhile (`Store::writes`), so view counts cannot race a change.
//!
//! Nothing here is atomic, so a crash midway could leave an order without some index entries.
//! The `full_check_pending` marker is written (and flushed) before the entries and cleared
//! after them: after such a crash the next open owes the full check, which finds the gap and
//! rebuilds the indexes from the orders.

use std::collections::{BTreeMap, HashMap};

use super::blocks::{self, BlockChanges};
use super::codec;
use super::index::{self, Entry};
use super::keys;
use super::rank;
use super::{Change, Result, Store, StoreError, TreeId, meta};
use crate::domain::order::Order;

/// Entries a batch holds before it is written: a rebuild of a million orders' indexes must not
/// hold them all in memory at once.
const BATCH_ENTRIES: usize = 200_000;

/// One tree's entries (key, value) waiting to be inserted.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Amounts to add to rank buckets' counts, by bucket key. A batch adds to the same few
/// buckets hundreds of thousands of times: hashing each key once beats ordering it among the
/// rest (about a fifth of a bulk load went to that).
type RankCounts = HashMap<Vec<u8>, i64, foldhash::fast::RandomState>;

/// Records and index entries held per tree until written (bulk imports and index rebuilds,
/// while writes wait), and what their index entries add to the kept counts. Entries are
/// gathered as they come and put in order once, when written.
#[derive(Default)]
pub(super) struct Batches {
    /// Every tree's entries, the blocked ones (`blocks.rs`) too.
    trees: HashMap<TreeId, Entries>,
    /// Entries in `trees`, and their bytes.
    held: usize,
    held_bytes: u64,
    /// Entries added, over every write.
    pub entries: u64,
    /// `idx_views` entries added per view prefix (the keys of `idx_view_counts`) since the
    /// last write.
    views: BTreeMap<Vec<u8>, u64>,
    /// What the index entries add to their rank buckets' counts (`idx_rank_counts`).
    ranks: RankCounts,
}

impl Batches {
    pub fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        self.held_bytes += (key.len() + value.len()) as u64;
        self.trees.entry(tree).or_default().push((key, value));
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
        self.put(entry.tree, entry.key, entry.value);
        Ok(())
    }

    /// The records and index entries of orders the store does not hold yet.
    fn of_new_orders(orders: &[&Order]) -> Result<Batches> {
        let mut batches = Batches::default();
        for order in orders {
            let key = order.id.as_str().as_bytes();
            let value = codec::encode(TreeId::Orders.name(), key, order)?;
            batches.put(TreeId::Orders, key.to_vec(), value);
            for entry in index::order_entries(order) {
                batches.add(entry)?;
            }
        }
        Ok(batches)
    }

    /// Takes what `later` holds too (written after what this one held).
    fn absorb(&mut self, later: Batches) {
        for (tree, entries) in later.trees {
            self.trees.entry(tree).or_default().extend(entries);
        }
        self.held += later.held;
        self.held_bytes += later.held_bytes;
        self.entries += later.entries;
        for (key, added) in later.views {
            *self.views.entry(key).or_default() += added;
        }
        for (key, added) in later.ranks {
            *self.ranks.entry(key).or_default() += added;
        }
    }

    /// Writes what is held once it is [`BATCH_ENTRIES`] or more.
    pub fn write_when_full(&mut self, store: &Store) -> Result<()> {
        match self.held + self.ranks.len() >= BATCH_ENTRIES {
            true => self.write(store),
            false => Ok(()),
        }
    }

    /// Writes everything held and adds the tallies to the stored counts: each tree is a job,
    /// and two threads take them, the largest first, so that neither core waits on the other
    /// for long (a sled batch would take sled's one process-wide write lock). Which lands
    /// first does not matter: until a write ends, the store owes the full check (see
    /// `write_batches`), which finds any half-written batch.
    pub fn write(&mut self, store: &Store) -> Result<()> {
        let mut jobs: Vec<Job> = self
            .trees
            .drain()
            .map(|(tree, entries)| match blocks::is_blocked(tree) {
                true => Job::Blocks(BlockChanges::setting(tree, entries)),
                false => Job::Plain(tree, entries),
            })
            .collect();
        let ranks = std::mem::take(&mut self.ranks);
        jobs.push(Job::Blocks(BlockChanges::adding(
            TreeId::IdxRankCounts,
            ranks,
        )));
        jobs.push(Job::ViewCounts(std::mem::take(&mut self.views)));
        // Taken from the end: the largest first.
        jobs.sort_by_key(Job::size);
        let queue = std::sync::Mutex::new(jobs);
        let work = || -> Result<()> {
            loop {
                let job = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                match job {
                    Some(job) => job.run(store)?,
                    None => return Ok(()),
                }
            }
        };
        std::thread::scope(|scope| {
            let beside = scope.spawn(work);
            let here = work();
            let beside = beside
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            here.and(beside)
        })?;
        store.wrote(std::mem::take(&mut self.held_bytes));
        self.held = 0;
        Ok(())
    }
}

/// One tree's part of a batch's write.
enum Job {
    /// Entries of a blocked tree (`blocks.rs`), or amounts added to its counts.
    Blocks(BlockChanges),
    /// Entries of a tree with a value for each (records and the other indexes).
    Plain(TreeId, Entries),
    /// What the batch adds to each view's count (`idx_view_counts`).
    ViewCounts(BTreeMap<Vec<u8>, u64>),
}

impl Job {
    /// About how long it takes, for taking the longest first: its entries.
    fn size(&self) -> usize {
        match self {
            Job::Blocks(changes) => changes.len(),
            Job::Plain(_, entries) => entries.len(),
            Job::ViewCounts(counts) => counts.len(),
        }
    }

    fn run(self, store: &Store) -> Result<()> {
        match self {
            Job::Blocks(mut changes) => changes.write_plainly(&store.tree(changes.tree())),
            Job::Plain(tree, entries) => insert_all(&store.tree(tree), entries),
            Job::ViewCounts(counts) => add_to_view_counts(store, counts),
        }
    }
}

/// Inserts entries in key order (as a sled batch would: neighbours share the nodes rewritten,
/// which makes a smaller log and a faster write; of equal keys the last put wins).
fn insert_all(tree: &sled::Tree, mut entries: Entries) -> Result<()> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, value) in entries {
        tree.insert(key, value)
            .map_err(StoreError::sled("writing an entry"))?;
    }
    Ok(())
}

/// Adds `added` to the views' counts (`idx_view_counts`).
fn add_to_view_counts(store: &Store, added: BTreeMap<Vec<u8>, u64>) -> Result<()> {
    let tree = TreeId::IdxViewCounts;
    let stored = store.tree(tree);
    for (key, added) in added {
        let current = match stored
            .get(&key)
            .map_err(StoreError::sled("reading a kept count"))?
        {
            Some(bytes) => codec::parse_count(tree.name(), &key, &bytes)?,
            None => 0,
        };
        stored
            .insert(key, codec::count_value(current + added))
            .map_err(StoreError::sled("writing a kept count"))?;
    }
    Ok(())
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
        self.reopen_if_due().map(drop)
    }

    fn write_batches(&self, orders: &[&Order]) -> Result<()> {
        // Encoding the orders and deriving their entries is a fifth of a load: half of them
        // on each core.
        let (first, second) = orders.split_at(orders.len() / 2);
        let mut batches = std::thread::scope(|scope| {
            let second = scope.spawn(|| Batches::of_new_orders(second));
            let first = Batches::of_new_orders(first);
            let second = second
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            first.and_then(|mut first| {
                first.absorb(second?);
                Ok(first)
            })
        })?;
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
