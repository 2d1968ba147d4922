//! The derived trees whose entries are stored in blocks, 64 to 128 neighbouring entries to a
//! value: `idx_views` (each list in its own order), `idx_order_sort` (each list by every
//! column), `idx_order_text` (the orders' list texts) and `idx_rank_counts` (each list's
//! bucket counts). sled's cost per value, not per byte, bounds both what a pass over a tree
//! costs (the texts of a million orders: 1.1 s at one per value, 0.14 s at 16 to 32, 0.05 s at
//! 64 to 128) and the memory an open store holds: sled keeps ~45 bytes per value from the
//! moment it opens a store, and these were 16 values per order (the sort entries alone held
//! 400 MB at a million orders).
//! Neighbouring entries share a block, so a list read in index order, or the texts a filtered
//! page checks in list order (ids follow creation), come from a few blocks read once.
//!
//! Logically each tree still holds one entry per key: `index::order_entries` and `rank.rs`
//! derive those, and the write path, bulk batches, the integrity check and the rebuild hand
//! them here (a value to set, or for counts an amount to add), which stores them in their
//! blocks; readers get them back one by one ([`get`], [`Range`]).
//!
//! The blocks cut the key space into ranges: the first block's key is empty, each block's
//! `upper` is the next block's key, the last has none, and a block holds the keys in
//! `key..upper`. A block that grows past [`MOST`] entries is split in the same write into
//! blocks of [`SPLIT_TO`], each keyed by its first entry; one left empty goes, the block before
//! it taking over its range. So a block key read before a write names a block whose chain of
//! `upper`s leads to the one covering a key, or one gone since. Writes inside a transaction use
//! that: sled transactions cannot read ranges, so the block to start from is looked up before
//! the transaction ([`Starts`]), and the chain is followed inside it (a start gone since makes
//! the write look its starts up again).
//!
//! A block's layout: `upper` (a byte 0 for none, or 1, its length as u16 BE and its bytes);
//! then each entry in key order: key length (u16 BE), key, value length (u32 BE), value (the
//! entry's value as `codec` encodes it). Stored, it is packed (`codec::pack_into`):
//! `FORMAT_BLOCK`, the layout's length (u32 BE), then the layout compressed in LZ4's block
//! format. Neighbouring entries repeat most of their bytes (ids, times, a link's name, the
//! words of a status), so a block packs to a third or less: what sled keeps in memory of a
//! pass over every text (190 MB unpacked at a million orders) and what a bulk load writes
//! shrink alike, for the ~5 GB/s one core unpacks at (a change repacks the few blocks it
//! touches).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::ops::ControlFlow;

use sled::IVec;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::codec::{self, FORMAT_BLOCK};
use super::index;
use super::{Handle, Result, StoreError, TreeId};

/// The most entries a block keeps before it is split. A pass over a list or the texts costs
/// per block more than per byte (sled finds each value from its root): at a million orders,
/// blocks of 64 to 128 read the texts in a third of the time blocks of 16 to 32 did, while a
/// change rewrites a few kilobytes more. Tests keep them small, so that a few orders split them.
const MOST: usize = if cfg!(test) { 32 } else { 128 };
/// The entries of each block a split makes (the last may hold fewer).
const SPLIT_TO: usize = MOST / 2;

/// The trees stored in blocks.
pub const BLOCKED: [TreeId; 4] = [
    TreeId::IdxViews,
    TreeId::IdxOrderText,
    TreeId::IdxOrderSort,
    TreeId::IdxRankCounts,
];

pub fn is_blocked(tree: TreeId) -> bool {
    BLOCKED.contains(&tree)
}

/// One block, read.
#[derive(Debug, PartialEq)]
pub struct Block<'a> {
    /// The next block's key; `None` for the last block.
    pub upper: Option<&'a [u8]>,
    /// `(key, value)` of each entry, in key order.
    pub entries: Vec<(&'a [u8], &'a [u8])>,
}

/// Reads the block of `tree` stored under `key` (unpacked into `layout`), checking its format,
/// every length, that its entries are in order, within `key..upper`, and each a valid entry of
/// `tree`.
pub fn parse<'a>(
    tree: TreeId,
    key: &[u8],
    stored: &[u8],
    layout: &'a mut Vec<u8>,
) -> Result<Block<'a>> {
    unpack_into(tree, key, stored, layout)?;
    parse_layout(tree, key, layout, true)
}

/// [`parse`] for readers, which check each entry they use as they use it (a list's walk its
/// value, a filter its text): the block's shape only, not every entry's value a second time.
fn read<'a>(tree: TreeId, key: &[u8], stored: &[u8], layout: &'a mut Vec<u8>) -> Result<Block<'a>> {
    unpack_into(tree, key, stored, layout)?;
    parse_layout(tree, key, layout, false)
}

/// The block stored under `key`, unpacked into memory of its own: readers that hand its
/// entries on as `IVec`s share it ([`within`]).
fn unpacked(tree: TreeId, key: &[u8], stored: &[u8]) -> Result<IVec> {
    let mut layout = Vec::new();
    unpack_into(tree, key, stored, &mut layout)?;
    Ok(IVec::from(layout))
}

/// A block of `tree` packed for storing (see the module's doc).
pub(super) fn pack(tree: TreeId, layout: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![FORMAT_BLOCK];
    codec::pack_into(tree.name(), b"", layout, &mut out)?;
    Ok(out)
}

/// Unpacks the block stored under `key` into `layout` (its memory reused across blocks).
pub(super) fn unpack_into(
    tree: TreeId,
    key: &[u8],
    stored: &[u8],
    layout: &mut Vec<u8>,
) -> Result<()> {
    let packed = codec::body(tree.name(), key, stored, FORMAT_BLOCK)?;
    codec::unpack_into(tree.name(), key, packed, layout)
}

/// Reads a block's layout (unpacked): its `upper` and entries, and with `check_entries` each
/// entry's value as `tree` encodes it.
fn parse_layout<'a>(
    tree: TreeId,
    key: &[u8],
    layout: &'a [u8],
    check_entries: bool,
) -> Result<Block<'a>> {
    let bad = |what: String| codec::corrupt(tree.name(), key, what);
    let (upper, mut rest) = match layout.split_first() {
        Some((0, rest)) => (None, rest),
        Some((1, rest)) => {
            let (upper, rest) =
                take(rest, 2).ok_or_else(|| bad("a block's upper bound is cut short".into()))?;
            if upper <= key {
                return Err(bad("a block's upper bound is not above its key".into()));
            }
            (Some(upper), rest)
        }
        _ => return Err(bad("a block has no upper bound".into())),
    };
    let mut entries: Vec<(&[u8], &[u8])> = Vec::new();
    while !rest.is_empty() {
        let (entry, after) =
            take(rest, 2).ok_or_else(|| bad("a block ends inside an entry".into()))?;
        // A damaged block may hold any bytes: shown escaped, never raw.
        let wrong = |what: &str| bad(format!("entry {} {what}", super::keys::show(entry)));
        let (value, after) = take(after, 4).ok_or_else(|| wrong("is cut short"))?;
        if entry < key || upper.is_some_and(|upper| entry >= upper) {
            return Err(wrong("is outside the block's range"));
        }
        if entries.last().is_some_and(|(last, _)| *last >= entry) {
            return Err(wrong("is out of order"));
        }
        if check_entries {
            check_entry(tree, entry, value).map_err(|what| wrong(&what))?;
        }
        entries.push((entry, value));
        rest = after;
    }
    Ok(Block { upper, entries })
}

/// Checks one entry of a block of `tree`: its key's shape and its value's encoding.
fn check_entry(tree: TreeId, key: &[u8], value: &[u8]) -> std::result::Result<(), String> {
    let shaped = match tree {
        TreeId::IdxRankCounts => super::keys::parse_rank_key(key).is_some(),
        index => index::primary_key_of(index, key).is_some(),
    };
    if !shaped {
        return Err(format!("does not parse as a {} entry", tree.name()));
    }
    let checked = match tree {
        TreeId::IdxRankCounts => codec::parse_count(tree.name(), key, value).map(drop),
        index => index::check_value(index, key, value),
    };
    checked.map_err(|e| match e {
        StoreError::Corrupt { what, .. } => what,
        other => other.to_string(),
    })
}

/// Splits a length-prefixed field (`width` bytes of big-endian length) off the front of `bytes`.
fn take(bytes: &[u8], width: usize) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_at_checked(width)?;
    let len = len.iter().fold(0usize, |n, b| n << 8 | usize::from(*b));
    rest.split_at_checked(len)
}

/// A block to write: its key and value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// An entry's value in a block being written: bytes from the stored block or a change, or a
/// count just added to.
#[derive(Clone, Copy)]
enum Value<'a> {
    Bytes(&'a [u8]),
    Count([u8; codec::COUNT_LEN]),
}

impl Value<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Value::Bytes(bytes) => bytes,
            Value::Count(count) => count,
        }
    }
}

/// A block's entries as written, in key order.
type Entries<'a> = Vec<(&'a [u8], Value<'a>)>;

fn encode(tree: TreeId, upper: Option<&[u8]>, entries: &[(&[u8], Value<'_>)]) -> Result<Vec<u8>> {
    let too_long = |key: &[u8]| codec::corrupt(tree.name(), key, "too long to index");
    let mut out = Vec::new();
    match upper {
        None => out.push(0),
        Some(upper) => {
            let len = u16::try_from(upper.len()).map_err(|_| too_long(upper))?;
            out.push(1);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(upper);
        }
    }
    for (key, value) in entries {
        let value = value.bytes();
        let key_len = u16::try_from(key.len()).map_err(|_| too_long(key))?;
        let value_len = u32::try_from(value.len()).map_err(|_| too_long(key))?;
        out.extend_from_slice(&key_len.to_be_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&value_len.to_be_bytes());
        out.extend_from_slice(value);
    }
    pack(tree, &out)
}

/// A block being changed: its range's end, its layout as stored (unpacked, checked when read)
/// and which of the settled edits fall in its range.
struct Changing {
    upper: Option<Vec<u8>>,
    layout: Vec<u8>,
    edits: std::ops::Range<usize>,
}

impl Changing {
    /// The first block of a tree that has none yet: empty, its range everything.
    fn first() -> Changing {
        Changing {
            upper: None,
            layout: vec![0],
            edits: 0..0,
        }
    }

    /// Its entries with `edits` (this block's run of the settled edits) made: one pass merging
    /// two runs in key order.
    fn merged<'a>(
        &'a self,
        tree: TreeId,
        key: &[u8],
        edits: &[(&'a [u8], Folded<'a>)],
    ) -> Result<Entries<'a>> {
        let stored = parse_layout(tree, key, &self.layout, false)?.entries;
        let mut out = Vec::with_capacity(stored.len() + edits.len());
        let mut stored = stored.into_iter().peekable();
        for &(key, edit) in edits {
            while let Some((before, value)) = stored.next_if(|(found, _)| *found < key) {
                out.push((before, Value::Bytes(value)));
            }
            let current = stored.next_if(|(found, _)| *found == key).map(|(_, v)| v);
            let value = match edit {
                Folded::Set(value) => value.map(Value::Bytes),
                Folded::Add(delta) => {
                    let count = match current {
                        Some(bytes) => codec::parse_count(tree.name(), key, bytes)?,
                        None => 0,
                    };
                    match count.saturating_add_signed(delta) {
                        0 => None,
                        next => Some(Value::Count(codec::count_bytes(next))),
                    }
                }
            };
            out.extend(value.map(|value| (key, value)));
        }
        out.extend(stored.map(|(key, value)| (key, Value::Bytes(value))));
        Ok(out)
    }

    /// Whether `edits` leave it without entries: only when they are at least as many as its
    /// entries (each would have to remove one).
    fn left_empty(&self, tree: TreeId, key: &[u8], edits: &[(&[u8], Folded<'_>)]) -> Result<bool> {
        let stored = parse_layout(tree, key, &self.layout, false)?.entries.len();
        Ok(stored <= edits.len() && self.merged(tree, key, edits)?.is_empty())
    }

    /// The block as `(key, value)` pairs to write: itself, and the blocks split off it when it
    /// grew past [`MOST`].
    fn written(&self, tree: TreeId, key: &[u8], entries: &Entries<'_>) -> Result<Vec<KeyValue>> {
        if entries.len() <= MOST {
            let value = encode(tree, self.upper.as_deref(), entries)?;
            return Ok(vec![(key.to_vec(), value)]);
        }
        let chunks: Vec<_> = entries.chunks(SPLIT_TO).collect();
        let mut keys = vec![key.to_vec()];
        keys.extend(chunks[1..].iter().map(|chunk| chunk[0].0.to_vec()));
        let mut uppers: Vec<Option<&[u8]>> = keys[1..].iter().map(|k| Some(k.as_slice())).collect();
        uppers.push(self.upper.as_deref());
        let values = chunks
            .iter()
            .zip(&uppers)
            .map(|(chunk, upper)| encode(tree, *upper, chunk))
            .collect::<Result<Vec<_>>>()?;
        Ok(keys.into_iter().zip(values).collect())
    }
}

/// What a rewrite writes: blocks `(key, value)` in key order, and the keys of blocks removed.
struct Rewritten {
    written: Vec<KeyValue>,
    removed: Vec<Vec<u8>>,
}

/// Reads the block `key` of `tree` to change it; `None` when there is none, except that the
/// first block of a tree with none yet reads as empty.
fn load<E>(
    tree: TreeId,
    key: &[u8],
    read: &mut impl FnMut(&[u8]) -> std::result::Result<Option<IVec>, E>,
    fail: &impl Fn(StoreError) -> E,
) -> std::result::Result<Option<Changing>, E> {
    Ok(match read(key)? {
        Some(bytes) => {
            let mut layout = Vec::new();
            let upper = parse(tree, key, &bytes, &mut layout)
                .map_err(fail)?
                .upper
                .map(<[u8]>::to_vec);
            Some(Changing {
                upper,
                layout,
                edits: 0..0,
            })
        }
        None if key.is_empty() => Some(Changing::first()),
        None => None,
    })
}

/// What becomes of one entry. A tree takes one kind: counts are only added to, index entries
/// only set.
#[derive(Debug)]
enum Edit {
    /// Its new value, or `None` to remove it.
    Set(Option<Vec<u8>>),
    /// An amount added to a count (`codec::count_value`); a count that reaches zero goes.
    Add(i64),
}

/// The edits of one entry folded into one, borrowing the value set.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Folded<'a> {
    Set(Option<&'a [u8]>),
    Add(i64),
}

impl<'a> Folded<'a> {
    fn of(edit: &'a Edit) -> Folded<'a> {
        match edit {
            Edit::Set(value) => Folded::Set(value.as_deref()),
            Edit::Add(delta) => Folded::Add(*delta),
        }
    }

    /// This edit followed by `later`.
    fn then(self, later: Folded<'a>) -> Folded<'a> {
        match (self, later) {
            (Folded::Add(mine), Folded::Add(theirs)) => Folded::Add(mine + theirs),
            (_, later) => later,
        }
    }
}

/// Entries to write into one blocked tree, gathered unordered: they are put in order once,
/// when written, and each block merges its run of them in one pass.
#[derive(Debug)]
pub struct BlockChanges {
    tree: TreeId,
    changes: Vec<(Vec<u8>, Edit)>,
}

impl BlockChanges {
    pub fn new(tree: TreeId) -> BlockChanges {
        debug_assert!(is_blocked(tree));
        BlockChanges {
            tree,
            changes: Vec::new(),
        }
    }

    /// Changes setting `entries` (of equal keys the last wins).
    pub fn setting(tree: TreeId, entries: Vec<(Vec<u8>, Vec<u8>)>) -> BlockChanges {
        let changes = entries.into_iter();
        BlockChanges {
            tree,
            changes: changes.map(|(k, v)| (k, Edit::Set(Some(v)))).collect(),
        }
    }

    /// Changes adding each amount to the count under its key.
    pub fn adding(tree: TreeId, counts: impl IntoIterator<Item = (Vec<u8>, i64)>) -> BlockChanges {
        let changes = counts.into_iter();
        BlockChanges {
            tree,
            changes: changes.map(|(k, delta)| (k, Edit::Add(delta))).collect(),
        }
    }

    pub fn set(&mut self, key: &[u8], value: Option<&[u8]>) {
        let value = value.map(<[u8]>::to_vec);
        self.changes.push((key.to_vec(), Edit::Set(value)));
    }

    /// Adds `delta` to the count stored under `key`.
    pub fn add(&mut self, key: &[u8], delta: i64) {
        self.changes.push((key.to_vec(), Edit::Add(delta)));
    }

    pub fn tree(&self) -> TreeId {
        self.tree
    }

    /// The changes gathered (a key changed twice counts twice).
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes in key order, one per key (a key's edits folded in the order they came),
    /// leaving out those that change nothing (an amount of zero).
    fn settled(&self) -> Vec<(&[u8], Folded<'_>)> {
        let mut edits: Vec<(&[u8], Folded<'_>)> = self
            .changes
            .iter()
            .map(|(key, edit)| (key.as_slice(), Folded::of(edit)))
            .collect();
        // A stable sort keeps a key's edits in the order they came.
        edits.sort_by(|a, b| a.0.cmp(b.0));
        edits.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 = earlier.1.then(later.1);
            }
            same
        });
        edits.retain(|(_, edit)| *edit != Folded::Add(0));
        edits
    }

    /// Makes the changes through `read` (a block by its key); returns the blocks to write, in
    /// key order, and those to remove. The changes go in key order, a run at a time: the block
    /// covering a run's first key is found from `start(key)` (a block key at or below it) by
    /// following `upper`s, and takes every key below its `upper`, merged with its entries in
    /// one pass when written.
    ///
    /// A block left empty is removed when the block before it is known (`before(block)` for
    /// one a search started at, else the block whose `upper` led to it) and still names it as
    /// the next: that one takes over its range. Lists whose orders come and go (pending,
    /// stuck, a status) would otherwise keep a trail of empty blocks that every walk from
    /// their old end steps over.
    fn rewrite<E>(
        &self,
        mut start: impl FnMut(&[u8]) -> std::result::Result<Vec<u8>, E>,
        mut before: impl FnMut(&[u8]) -> Option<Vec<u8>>,
        mut read: impl FnMut(&[u8]) -> std::result::Result<Option<IVec>, E>,
        fail: impl Fn(StoreError) -> E,
    ) -> std::result::Result<Rewritten, E> {
        let tree = self.tree;
        let edits = self.settled();
        let mut changing: BTreeMap<Vec<u8>, Changing> = BTreeMap::new();
        // The block before each block reached, when known.
        let mut previous: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut next = 0;
        while let Some(&(key, _)) = edits.get(next) {
            let mut at = start(key)?;
            if let Some(block_before) = before(&at) {
                previous.entry(at.clone()).or_insert(block_before);
            }
            if !changing.contains_key(&at) {
                // A start looked up before a transaction names a block another one removed
                // since: the caller plans again.
                let found = load(tree, &at, &mut read, &fail)?;
                changing.insert(at.clone(), found.ok_or_else(|| fail(StoreError::Replan))?);
            }
            let block = loop {
                let block = match changing.entry(at.clone()) {
                    Entry::Occupied(block) => block.into_mut(),
                    Entry::Vacant(vacant) => {
                        let found = load(tree, &at, &mut read, &fail)?.ok_or_else(|| {
                            fail(codec::corrupt(
                                tree.name(),
                                &at,
                                "a block names this block as the next, but it is missing",
                            ))
                        })?;
                        vacant.insert(found)
                    }
                };
                match &block.upper {
                    Some(upper) if key >= upper.as_slice() => {
                        let upper = upper.clone();
                        previous.insert(upper.clone(), at);
                        at = upper;
                    }
                    _ => break block,
                }
            };
            let below = |(key, _): &(&[u8], Folded<'_>)| {
                block.upper.as_deref().is_none_or(|upper| *key < upper)
            };
            let end = next + edits[next..].partition_point(below);
            // Keys come in order and blocks' ranges do not overlap: one run a block.
            debug_assert!(block.edits.is_empty());
            block.edits = next..end;
            next = end;
        }
        let mut removed = Vec::new();
        let mut empty = Vec::new();
        for (key, block) in &changing {
            if !key.is_empty()
                && block
                    .left_empty(tree, key, &edits[block.edits.clone()])
                    .map_err(&fail)?
            {
                empty.push(key.clone());
            }
        }
        for gone in empty {
            let Some(mut prior) = previous.get(&gone).cloned() else {
                continue;
            };
            // The block before may have gone already: its own range went to the one before it.
            while removed.contains(&prior) {
                match previous.get(&prior) {
                    Some(earlier) => prior = earlier.clone(),
                    None => break,
                }
            }
            if removed.contains(&prior) {
                continue;
            }
            let upper = changing[&gone].upper.clone();
            let prior_block = match changing.entry(prior.clone()) {
                Entry::Occupied(block) => block.into_mut(),
                Entry::Vacant(vacant) => match load(tree, &prior, &mut read, &fail)? {
                    Some(found) => vacant.insert(found),
                    None => continue,
                },
            };
            if prior_block.upper.as_deref() == Some(gone.as_slice()) {
                prior_block.upper = upper;
                changing.remove(&gone);
                removed.push(gone);
            }
        }
        let mut written = Vec::new();
        for (key, block) in &changing {
            let write = || {
                let entries = block.merged(tree, key, &edits[block.edits.clone()])?;
                block.written(tree, key, &entries)
            };
            written.extend(write().map_err(&fail)?);
        }
        Ok(Rewritten { written, removed })
    }

    /// Writes the changes inside a transaction (the write path), starting from `starts`. A key
    /// `starts` does not name, or a start block gone since (a record changed between the
    /// lookup and the transaction), fails with [`StoreError::Replan`]: the caller looks the
    /// starts up again.
    pub fn write_in(
        &self,
        tree: &TransactionalTree,
        starts: &Starts,
    ) -> std::result::Result<(), ConflictableTransactionError<StoreError>> {
        if self.is_empty() {
            return Ok(());
        }
        let start = |key: &[u8]| {
            starts
                .blocks
                .get(&(self.tree, key.to_vec()))
                .cloned()
                .ok_or(ConflictableTransactionError::Abort(StoreError::Replan))
        };
        let before = |block: &[u8]| starts.before.get(&(self.tree, block.to_vec())).cloned();
        let read = |key: &[u8]| tree.get(key).map_err(ConflictableTransactionError::from);
        let done = self.rewrite(start, before, read, ConflictableTransactionError::Abort)?;
        for (key, value) in done.written {
            tree.insert(key, value)?;
        }
        for key in done.removed {
            tree.remove(key)?;
        }
        Ok(())
    }

    /// Writes the changes plainly (bulk imports and rebuilds, while writes wait) and forgets
    /// them. Blocks are written last first, so each is in place before the one that names it
    /// as the next: a crash midway leaves no chain pointing at a missing block.
    pub fn write_plainly(&mut self, tree: &sled::Tree) -> Result<()> {
        let start = |key: &[u8]| {
            Ok(covering(tree, key)?
                .map(|(block, _)| block.to_vec())
                .unwrap_or_default())
        };
        let before = |block: &[u8]| preceding(tree, block).ok().flatten();
        let read = |key: &[u8]| tree.get(key).map_err(StoreError::sled("reading a block"));
        let done = self.rewrite(start, before, read, |e| e)?;
        self.changes.clear();
        for (key, value) in done.written.into_iter().rev() {
            tree.insert(key, value)
                .map_err(StoreError::sled("writing a block"))?;
        }
        for key in done.removed {
            tree.remove(key)
                .map_err(StoreError::sled("removing an empty block"))?;
        }
        Ok(())
    }
}

/// Changes to every blocked tree, each kept apart.
#[derive(Debug, Default)]
pub struct BlockedWrites(BTreeMap<TreeId, BlockChanges>);

impl BlockedWrites {
    pub fn of(&mut self, tree: TreeId) -> &mut BlockChanges {
        self.0
            .entry(tree)
            .or_insert_with(|| BlockChanges::new(tree))
    }

    /// Writes every tree's changes inside a transaction (see [`BlockChanges::write_in`]).
    pub fn write_in<'t>(
        &self,
        tx: impl Fn(TreeId) -> &'t TransactionalTree,
        starts: &Starts,
    ) -> std::result::Result<(), ConflictableTransactionError<StoreError>> {
        self.0
            .values()
            .try_for_each(|changes| changes.write_in(tx(changes.tree), starts))
    }
}

/// Where the search for each key a transaction writes starts (see [`BlockChanges::write_in`]),
/// and the block before each such start, so that a block the write leaves empty can go.
#[derive(Debug, Default)]
pub struct Starts {
    blocks: BTreeMap<(TreeId, Vec<u8>), Vec<u8>>,
    before: BTreeMap<(TreeId, Vec<u8>), Vec<u8>>,
}

impl Starts {
    /// Looks up the block covering `key` in `tree` as it is now, and when the write may leave
    /// it empty (`removing`), the block before it.
    pub fn look_up(
        &mut self,
        tree_id: TreeId,
        tree: &sled::Tree,
        key: &[u8],
        removing: bool,
    ) -> Result<()> {
        let block = match self.blocks.entry((tree_id, key.to_vec())) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(vacant) => {
                let block = covering(tree, key)?.map(|(block, _)| block.to_vec());
                vacant.insert(block.unwrap_or_default()).clone()
            }
        };
        if removing
            && !block.is_empty()
            && let Entry::Vacant(vacant) = self.before.entry((tree_id, block.clone()))
            && let Some(prior) = preceding(tree, &block)?
        {
            vacant.insert(prior);
        }
        Ok(())
    }
}

/// The block covering `key`: the one with the greatest key at or below it.
fn covering(tree: &sled::Tree, key: &[u8]) -> Result<Option<(IVec, IVec)>> {
    tree.range(..=key)
        .next_back()
        .transpose()
        .map_err(StoreError::sled("finding a block"))
}

/// The key of the block before the block `key`.
fn preceding(tree: &sled::Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
    let found = tree.range(..key).next_back().transpose();
    let found = found.map_err(StoreError::sled("finding a block"))?;
    Ok(found.map(|(block, _)| block.to_vec()))
}

/// The value stored for `key` in the blocked `tree`, if any.
pub fn get(tree_id: TreeId, tree: &sled::Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some((block_key, bytes)) = covering(tree, key)? else {
        return Ok(None);
    };
    let mut layout = Vec::new();
    let block = read(tree_id, &block_key, &bytes, &mut layout)?;
    Ok(block
        .entries
        .binary_search_by(|(found, _)| (*found).cmp(key))
        .ok()
        .map(|at| block.entries[at].1.to_vec()))
}

/// Looks entries of a blocked tree up one by one, keeping the block read last: keys looked up
/// in about their order (a list's orders, whose ids follow creation) mostly share it. Keys in
/// another order (a list by buyer) each unpack a block of their own, so only the entries' places
/// are kept, not copies of them.
pub struct Lookup<'a> {
    tree_id: TreeId,
    /// Held for as long as the lookup lives: `Store::reopen` waits for it.
    tree: Handle<'a, sled::Tree>,
    /// The block read last: its key and `upper`; `None` before the first read, or when the
    /// tree has no blocks.
    last: Option<(IVec, Option<Vec<u8>>)>,
    /// Its layout, unpacked.
    layout: Vec<u8>,
    /// Where each of its entries' key and value lie in `layout`, in key order.
    entries: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

impl<'a> Lookup<'a> {
    pub fn new(tree_id: TreeId, tree: Handle<'a, sled::Tree>) -> Lookup<'a> {
        Lookup {
            tree_id,
            tree,
            last: None,
            layout: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// The value stored for `key`, if any.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<&[u8]>> {
        let covered = self.last.as_ref().is_some_and(|(block, upper)| {
            block.as_ref() <= key && upper.as_ref().is_none_or(|upper| key < upper.as_slice())
        });
        if !covered {
            self.last = None;
            self.entries.clear();
            let Some((block, stored)) = covering(&self.tree, key)? else {
                return Ok(None);
            };
            unpack_into(self.tree_id, &block, &stored, &mut self.layout)?;
            let read = parse_layout(self.tree_id, &block, &self.layout, false)?;
            let start = self.layout.as_ptr() as usize;
            let place = |part: &[u8]| {
                let at = part.as_ptr() as usize - start;
                at..at + part.len()
            };
            let entries = read.entries.iter().map(|(k, v)| (place(k), place(v)));
            self.entries.extend(entries);
            self.last = Some((block, read.upper.map(<[u8]>::to_vec)));
        }
        let layout = &self.layout;
        Ok(self
            .entries
            .binary_search_by(|(found, _)| layout[found.clone()].cmp(key))
            .ok()
            .map(|at| &layout[self.entries[at].1.clone()]))
    }
}

/// Calls `f` with every `(key, value)` of the blocks of `tree` whose keys lie in `blocks`, in
/// key order, until it says to stop; a block whose unpacked bytes `may_hold` turns down is
/// passed over whole. Blocks split a tree's entries without overlap, so passes over
/// neighbouring ranges of blocks meet every entry once.
pub fn for_each(
    tree_id: TreeId,
    tree: &sled::Tree,
    blocks: BlockRange,
    may_hold: impl Fn(&[u8]) -> bool,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<ControlFlow<()>>,
) -> Result<ControlFlow<()>> {
    let mut layout = Vec::new();
    for item in tree.range::<Vec<u8>, _>(blocks) {
        let (key, bytes) = item.map_err(StoreError::sled("reading blocks"))?;
        unpack_into(tree_id, &key, &bytes, &mut layout)?;
        if !may_hold(&layout) {
            continue;
        }
        for (key, value) in parse_layout(tree_id, &key, &layout, false)?.entries {
            if f(key, value)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// A range of block keys, for [`for_each`].
pub type BlockRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The blocks of `tree` holding its entries from `start` up to `end` (the tree's end when
/// `None`) as two neighbouring ranges of block keys, split about halfway, so that two threads
/// share a pass over them (see [`for_each`]); one range when they are fewer than three blocks.
/// The split is the [`midpoint`] of the first block key after `start` and the last before
/// `end`: halves as even as the keys are spread (order ids and times are, well enough). The
/// first and last blocks may hold entries outside the range, for the caller to pass over.
pub fn halves(tree: &sled::Tree, start: &[u8], end: Option<&[u8]>) -> Result<Vec<BlockRange>> {
    let failed = "finding the middle of a list";
    let first = covering(tree, start)?.map_or_else(Vec::new, |(block, _)| block.to_vec());
    let upper = end.map_or(Unbounded, |end| Excluded(end.to_vec()));
    let after_first = (Excluded(start.to_vec()), upper.clone());
    let mut inside = tree.range::<Vec<u8>, _>(after_first);
    let second = inside
        .next()
        .transpose()
        .map_err(StoreError::sled(failed))?;
    let last = inside
        .next_back()
        .transpose()
        .map_err(StoreError::sled(failed))?;
    Ok(match (second, last) {
        (Some((low, _)), Some((high, _))) if low < high => {
            let half = midpoint(&low, &high);
            vec![
                (Included(first), Excluded(half.clone())),
                (Included(half), upper),
            ]
        }
        _ => vec![(Included(first), upper)],
    })
}

/// `(low + high) / 2`: as decimal numbers when both are digits of one length (TikTok's order
/// ids), or else as big-endian numbers of the longer one's length (the shorter padded with
/// zero bytes).
fn midpoint(low: &[u8], high: &[u8]) -> Vec<u8> {
    let width = low.len();
    let decimal = |key: &[u8]| {
        let digits = std::str::from_utf8(key).ok()?;
        (key.len() == width && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse::<u128>().ok())?
    };
    if let (Some(low), Some(high)) = (decimal(low), decimal(high)) {
        let middle = low / 2 + high / 2 + (low % 2 + high % 2) / 2;
        return format!("{middle:0width$}").into_bytes();
    }
    let len = low.len().max(high.len());
    let digit = |key: &[u8], at: usize| u16::from(key.get(at).copied().unwrap_or(0));
    let mut sum = vec![0u16; len];
    let mut carry = 0;
    for at in (0..len).rev() {
        let total = digit(low, at) + digit(high, at) + carry;
        sum[at] = total & 0xff;
        carry = total >> 8;
    }
    let mut half = Vec::with_capacity(len);
    let mut rest = carry;
    for digit in sum {
        let value = rest << 8 | digit;
        half.push(u8::try_from(value / 2).unwrap_or(u8::MAX));
        rest = value % 2;
    }
    half
}

/// The entries of a blocked tree between two bounds, in key order or backwards: what a plain
/// tree's `range` gives.
pub struct Range<'a> {
    tree_id: TreeId,
    /// Held for as long as the range lives, as [`Lookup`]'s.
    tree: Handle<'a, sled::Tree>,
    /// The blocks to read, once the first was looked up.
    blocks: Option<Blocks>,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    backwards: bool,
    /// The entries of the block read last, still to give, in the order given.
    ready: VecDeque<(IVec, IVec)>,
    done: bool,
}

/// Blocks as sled reads them, `(key, value)`.
type Blocks = Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>>>;

/// [`Range`] over the blocked `tree` from `lower` to `upper`.
pub fn range<'a>(
    tree_id: TreeId,
    tree: Handle<'a, sled::Tree>,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    backwards: bool,
) -> Range<'a> {
    Range {
        tree_id,
        tree,
        blocks: None,
        lower,
        upper,
        backwards,
        ready: VecDeque::new(),
        done: false,
    }
}

/// Whether `key` lies outside `bound`: below it for a lower bound (`lower`), above it for an
/// upper one.
fn outside(bound: &Bound<Vec<u8>>, key: &[u8], lower: bool) -> bool {
    match bound {
        Bound::Unbounded => false,
        Bound::Included(at) if lower => key < at.as_slice(),
        Bound::Excluded(at) if lower => key <= at.as_slice(),
        Bound::Included(at) => key > at.as_slice(),
        Bound::Excluded(at) => key >= at.as_slice(),
    }
}

impl Range<'_> {
    /// Whether `key` lies past the end the range is read towards.
    fn past_end(&self, key: &[u8]) -> bool {
        match self.backwards {
            true => outside(&self.lower, key, true),
            false => outside(&self.upper, key, false),
        }
    }

    /// Whether `key` lies before the start the range is read from.
    fn before_start(&self, key: &[u8]) -> bool {
        match self.backwards {
            true => outside(&self.upper, key, false),
            false => outside(&self.lower, key, true),
        }
    }

    /// The blocks the range lies in, in the order read.
    fn blocks(&self) -> Result<Blocks> {
        Ok(if self.backwards {
            // Every block starting below the upper bound, the last first.
            Box::new(
                self.tree
                    .range::<Vec<u8>, _>((Bound::Unbounded, self.upper.clone()))
                    .rev(),
            )
        } else {
            // From the block covering the lower bound on.
            let first = match &self.lower {
                Bound::Included(key) | Bound::Excluded(key) => covering(&self.tree, key)?
                    .map(|(block, _)| block.to_vec())
                    .unwrap_or_default(),
                Bound::Unbounded => Vec::new(),
            };
            Box::new(self.tree.range(first..))
        })
    }

    /// Reads the next block's entries within the range into `ready`.
    fn fill(&mut self) -> Result<()> {
        while self.ready.is_empty() && !self.done {
            if self.blocks.is_none() {
                self.blocks = Some(self.blocks()?);
            }
            let Some(item) = self.blocks.as_mut().and_then(Iterator::next) else {
                self.done = true;
                break;
            };
            let (key, bytes) = item.map_err(StoreError::sled("reading blocks"))?;
            let layout = unpacked(self.tree_id, &key, &bytes)?;
            let mut entries = parse_layout(self.tree_id, &key, &layout, false)?.entries;
            if self.backwards {
                entries.reverse();
            }
            for (key, value) in entries {
                if self.before_start(key) {
                    continue;
                }
                if self.past_end(key) {
                    self.done = true;
                    break;
                }
                self.ready
                    .push_back((within(&layout, key), within(&layout, value)));
            }
        }
        Ok(())
    }
}

/// `part` (a slice of `bytes`) as an `IVec` sharing `bytes`' memory: an entry or an id given
/// costs no copy.
pub(super) fn within(bytes: &IVec, part: &[u8]) -> IVec {
    let offset = part.as_ptr() as usize - bytes.as_ptr() as usize;
    bytes.subslice(offset, part.len())
}

impl Iterator for Range<'_> {
    type Item = Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.fill() {
            self.done = true;
            self.ready.clear();
            return Some(Err(e));
        }
        self.ready.pop_front().map(Ok)
    }
}

/// The integrity check's view of the chain of blocks, fed each block in key order: the first
/// block's key is empty and each next block's key is the `upper` of the one before.
#[derive(Debug)]
pub struct Chain {
    /// The key the next block must have; `None` once the last block was seen.
    next: Option<Vec<u8>>,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            next: Some(Vec::new()),
        }
    }
}

impl Chain {
    /// Takes the next block; says what is wrong if it does not follow the one before.
    pub fn follow(&mut self, key: &[u8], block: &Block<'_>) -> Option<String> {
        let wrong = match &self.next {
            Some(next) if next.as_slice() == key => None,
            Some(next) => Some(format!(
                "the block before ends at {}, not at this block",
                super::keys::show(next)
            )),
            None => Some("a block after the last one".to_string()),
        };
        self.next = block.upper.map(<[u8]>::to_vec);
        wrong
    }

    /// After the last block: what is wrong if the chain promised more.
    pub fn end(&self) -> Option<(Vec<u8>, String)> {
        match &self.next {
            Some(next) if !next.is_empty() => Some((
                next.clone(),
                "missing; the block before names it as the next".to_string(),
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: TreeId = TreeId::IdxOrderText;

    /// A handle to a tree held as the store holds its own.
    fn handle(held: &parking_lot::RwLock<sled::Tree>) -> Handle<'_, sled::Tree> {
        parking_lot::RwLockReadGuard::map(held.read_recursive(), |tree| tree)
    }

    fn text(t: &str) -> Vec<u8> {
        codec::text_value(&codec::OrderText {
            places: Default::default(),
            link: b"uk",
            text: t.as_bytes(),
        })
    }

    /// Writes `changes` into the blocks `store` holds (as `(key, value)`), plainly.
    fn apply(store: &mut BTreeMap<Vec<u8>, Vec<u8>>, changes: &[(&str, Option<&str>)]) {
        let mut texts = BlockChanges::new(TREE);
        for (id, t) in changes {
            texts.set(id.as_bytes(), t.map(text).as_deref());
        }
        let start = |id: &[u8]| {
            Ok(store
                .range(..=id.to_vec())
                .next_back()
                .map(|(k, _)| k.clone())
                .unwrap_or_default())
        };
        let before = |block: &[u8]| {
            store
                .range(..block.to_vec())
                .next_back()
                .map(|(k, _)| k.clone())
        };
        let read =
            |key: &[u8]| Ok::<_, StoreError>(store.get(key).map(|v| IVec::from(v.as_slice())));
        let done = texts.rewrite(start, before, read, |e| e).unwrap();
        store.extend(done.written);
        for gone in done.removed {
            store.remove(&gone);
        }
    }

    /// Every `(id, text)` in the blocks, checking the chain.
    fn read_all(store: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<(String, String)> {
        let mut chain = Chain::default();
        let mut all = Vec::new();
        let mut layout = Vec::new();
        for (key, value) in store {
            let block = parse(TREE, key, value, &mut layout).unwrap();
            assert_eq!(chain.follow(key, &block), None, "{key:?}");
            assert!(block.entries.len() <= MOST);
            for (id, v) in block.entries {
                let t = codec::parse_text_value("t", id, v).unwrap();
                all.push((String::from_utf8(id.to_vec()).unwrap(), t.to_string()));
            }
        }
        assert_eq!(chain.end(), None);
        all
    }

    #[test]
    fn blocks_split_as_they_grow_and_keep_every_text_in_id_order() {
        let mut store = BTreeMap::new();
        // Ascending, as new orders come, then older ones among them, in two writes.
        let ids: Vec<String> = (0..200).map(|n| format!("{:05}", 1_000 + n * 2)).collect();
        let first: Vec<(&str, Option<&str>)> =
            ids.iter().map(|id| (id.as_str(), Some("a"))).collect();
        apply(&mut store, &first);
        let odd: Vec<String> = (0..200).map(|n| format!("{:05}", 1_001 + n * 2)).collect();
        let second: Vec<(&str, Option<&str>)> =
            odd.iter().map(|id| (id.as_str(), Some("b"))).collect();
        apply(&mut store, &second);
        let all = read_all(&store);
        assert_eq!(all.len(), 400);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(
            store.len() >= 400 / MOST && store.len() <= 400 / SPLIT_TO + 2,
            "{} blocks for 400 texts",
            store.len()
        );
        assert!(
            store.contains_key(&Vec::new()),
            "the first block's key is empty"
        );

        // One changed, one removed, one smaller than every id: only they change.
        apply(
            &mut store,
            &[
                ("01000", Some("changed")),
                ("01001", None),
                ("00001", Some("c")),
            ],
        );
        let all = read_all(&store);
        assert_eq!(all.len(), 400);
        assert_eq!(all[0], ("00001".to_string(), "c".to_string()));
        assert_eq!(all[1], ("01000".to_string(), "changed".to_string()));
        assert_eq!(all[2].0, "01002");
    }

    #[test]
    fn a_write_planned_before_a_split_follows_the_chain_to_its_block() {
        let mut store = BTreeMap::new();
        let ids: Vec<String> = (0..MOST).map(|n| format!("{n:03}")).collect();
        let all: Vec<(&str, Option<&str>)> =
            ids.iter().map(|id| (id.as_str(), Some("a"))).collect();
        apply(&mut store, &all);
        assert_eq!(store.len(), 1);
        // Planned against the one block; meanwhile it splits.
        let mut late = BlockChanges::new(TREE);
        late.set(b"030", Some(&text("late")));
        apply(&mut store, &[("100", Some("x")), ("101", Some("x"))]);
        assert!(store.len() > 1);
        let read =
            |key: &[u8]| Ok::<_, StoreError>(store.get(key).map(|v| IVec::from(v.as_slice())));
        let done = late
            .rewrite(|_| Ok(Vec::new()), |_| None, read, |e| e)
            .unwrap();
        store.extend(done.written);
        assert!(read_all(&store).contains(&("030".to_string(), "late".to_string())));
    }

    #[test]
    fn a_keys_changes_in_one_write_count_in_the_order_they_came() {
        let mut store = BTreeMap::new();
        let ids: Vec<String> = (0..100).map(|n| format!("{n:03}")).collect();
        let all: Vec<(&str, Option<&str>)> =
            ids.iter().map(|id| (id.as_str(), Some("a"))).collect();
        apply(&mut store, &all);
        // Unordered, and some keys twice: the later change wins, a removal too.
        apply(
            &mut store,
            &[
                ("050", Some("first")),
                ("010", None),
                ("050", Some("second")),
                ("120", Some("new")),
                ("010", Some("back")),
                ("020", Some("gone soon")),
                ("020", None),
            ],
        );
        let all = read_all(&store);
        let text = |id: &str| all.iter().find(|(i, _)| i == id).map(|(_, t)| t.as_str());
        assert_eq!(text("050"), Some("second"));
        assert_eq!(text("010"), Some("back"));
        assert_eq!(text("020"), None);
        assert_eq!(text("120"), Some("new"));
        assert_eq!(all.len(), 100);
    }

    #[test]
    fn blocks_left_empty_go_and_the_block_before_takes_their_range() {
        let mut store = BTreeMap::new();
        let ids: Vec<String> = (0..200).map(|n| format!("{n:03}")).collect();
        let all: Vec<(&str, Option<&str>)> =
            ids.iter().map(|id| (id.as_str(), Some("a"))).collect();
        apply(&mut store, &all);
        let blocks = store.len();
        // The orders of a list leave it from its old end, as pending orders are imported.
        let gone: Vec<(&str, Option<&str>)> =
            ids[..120].iter().map(|id| (id.as_str(), None)).collect();
        apply(&mut store, &gone);
        assert!(
            store.len() <= blocks - 120 / SPLIT_TO + 1,
            "{} blocks of {blocks} left",
            store.len()
        );
        assert!(store.contains_key(&Vec::new()), "the first block stays");
        let left = read_all(&store);
        assert_eq!(left.len(), 80);
        assert_eq!(left[0].0, "120");
        // The ranges are whole again: an id before every other goes to the first block.
        apply(&mut store, &[("050", Some("back"))]);
        assert_eq!(read_all(&store)[0], ("050".to_string(), "back".to_string()));
    }

    #[test]
    fn a_damaged_block_is_refused_naming_what_is_wrong() {
        let mut store = BTreeMap::new();
        apply(&mut store, &[("10", Some("ann")), ("20", Some("bob"))]);
        let stored = store[&Vec::new()].clone();
        let why = |key: &[u8], stored: &[u8]| {
            let refused = parse(TREE, key, stored, &mut Vec::new()).unwrap_err();
            let why = refused.to_string();
            assert!(why.contains(TREE.name()), "{why}");
            why
        };
        // Its packing damaged: cut short, claiming a length its bytes do not unpack to (or
        // more than any could), or written as something else.
        assert!(why(b"", &stored[..stored.len() - 1]).contains("unpack"));
        let with_length = |len: u32| {
            let mut damaged = stored.clone();
            damaged[1..5].copy_from_slice(&len.to_be_bytes());
            damaged
        };
        let len = u32::from_be_bytes(stored[1..5].try_into().unwrap());
        assert!(why(b"", &with_length(len + 1)).contains("shorter than their length"));
        assert!(why(b"", &with_length(u32::MAX)).contains("more than they can unpack to"));
        let mut unpacked_as_written = vec![codec::FORMAT_INDEX];
        unpacked_as_written.extend_from_slice(&stored[1..]);
        assert!(why(b"", &unpacked_as_written).contains("format byte 2, expected 3"));

        // Its layout damaged, packed as any block is.
        let mut layout = Vec::new();
        unpack_into(TREE, b"", &stored, &mut layout).unwrap();
        let packed = |layout: &[u8]| pack(TREE, layout).unwrap();
        assert!(why(b"", &packed(&layout[..layout.len() - 1])).contains("cut short"));
        assert!(why(b"", &packed(&layout[..3])).contains("ends inside an entry"));
        assert!(why(b"15", &stored).contains("outside the block's range"));
        // The two entries swapped.
        let entry = 2 + 2 + 4 + text("ann").len();
        let mut swapped = layout[..1].to_vec();
        swapped.extend_from_slice(&layout[1 + entry..]);
        swapped.extend_from_slice(&layout[1..1 + entry]);
        assert!(why(b"", &packed(&swapped)).contains("out of order"));
        // A chain with a gap.
        let mut chain = Chain::default();
        let gap = encode(TREE, Some(b"50"), &[]).unwrap();
        assert_eq!(
            chain.follow(b"", &parse(TREE, b"", &gap, &mut layout).unwrap()),
            None
        );
        assert!(chain.end().is_some_and(|(key, _)| key == b"50"));
        let late = encode(TREE, None, &[]).unwrap();
        assert!(
            chain
                .follow(b"60", &parse(TREE, b"60", &late, &mut layout).unwrap())
                .is_some_and(|w| w.contains("ends at 50"))
        );
    }

    #[test]
    fn a_pass_over_order_ids_splits_halfway_between_the_first_and_last_block() {
        assert_eq!(midpoint(b"100", b"300"), b"200");
        assert_eq!(midpoint(b"0099", b"0101"), b"0100");
        assert_eq!(midpoint(b"a", b"c"), b"b");
        // The shorter key is read as padded with zero bytes.
        assert_eq!(midpoint(b"2", b"4\x02"), b"3\x01");
        assert_eq!(midpoint(&[0xff], &[0xff]), [0xff]);

        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        let whole = |tree: &sled::Tree| halves(tree, b"", None).unwrap();
        assert_eq!(whole(&tree).len(), 1, "no blocks");
        let ids: Vec<String> = (0..2_000u64)
            .map(|n| (100_000_000_000_000_000 + n * 7_919).to_string())
            .collect();
        let mut changes = BlockChanges::new(TREE);
        for id in &ids[..3] {
            changes.set(id.as_bytes(), Some(&text(id)));
        }
        changes.write_plainly(&tree).unwrap();
        assert_eq!(whole(&tree).len(), 1, "one block");
        let mut changes = BlockChanges::new(TREE);
        for id in &ids {
            changes.set(id.as_bytes(), Some(&text(id)));
        }
        changes.write_plainly(&tree).unwrap();
        let halves: [BlockRange; 2] = whole(&tree).try_into().unwrap();
        let [(_, Bound::Excluded(half)), (Bound::Included(second), _)] = halves else {
            panic!("two halves, the first ending where the second starts: {halves:?}");
        };
        assert_eq!(half, second);
        let before = ids
            .iter()
            .filter(|id| id.as_bytes() < half.as_slice())
            .count();
        assert!(
            (800..1_200).contains(&before),
            "{before} of 2000 ids before the middle"
        );
    }

    proptest::proptest! {
        /// A blocked tree read between any two bounds, either way, gives what one value per
        /// entry would: written in two rounds (the second splitting and emptying blocks the
        /// first made), read against a plain map of the same entries.
        #[test]
        fn a_range_of_blocks_reads_like_a_range_of_entries(
            first in proptest::collection::btree_set(0u16..600, 0..150),
            second in proptest::collection::vec((0u16..600, proptest::bool::ANY), 0..150),
            bounds in proptest::collection::vec((0u8..3, 0u16..620, 0u8..3, 0u16..620), 8),
        ) {
            let db = sled::Config::new().temporary(true).open().unwrap();
            let held = parking_lot::RwLock::new(db.open_tree("t").unwrap());
            let tree = held.read().clone();
            let key = |n: u16| format!("{n:04}").into_bytes();
            let mut plain = BTreeMap::new();
            let mut changes = BlockChanges::new(TREE);
            for n in first {
                changes.set(&key(n), Some(&text(&n.to_string())));
                plain.insert(key(n), text(&n.to_string()));
            }
            changes.write_plainly(&tree).unwrap();
            let mut changes = BlockChanges::new(TREE);
            for (n, keep) in second {
                let value = keep.then(|| text(&format!("{n} again")));
                changes.set(&key(n), value.as_deref());
                match value {
                    Some(value) => plain.insert(key(n), value),
                    None => plain.remove(&key(n)),
                };
            }
            changes.write_plainly(&tree).unwrap();

            // A pass over the halves of a range meets each of its entries once, in order: the
            // whole tree, and the range between the first two bounds drawn.
            let (start, end) = (key(bounds[0].1), key(bounds[0].3));
            for (start, end) in [(Vec::new(), None), (start.clone(), Some(end.clone()))] {
                let inside = |k: &[u8]| k >= start.as_slice() && end.as_ref().is_none_or(|end| k < end.as_slice());
                let mut met = Vec::new();
                for half in halves(&tree, &start, end.as_deref()).unwrap() {
                    let flow = for_each(TREE, &tree, half, |_| true, |k, v| {
                        if inside(k) {
                            met.push((k.to_vec(), v.to_vec()));
                        }
                        Ok(ControlFlow::Continue(()))
                    });
                    assert!(flow.unwrap().is_continue());
                }
                let every: Vec<(Vec<u8>, Vec<u8>)> = plain.iter().filter(|(k, _)| inside(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
                proptest::prop_assert_eq!(met, every);
            }

            let bound = |kind: u8, n: u16| match kind {
                0 => Bound::Unbounded,
                1 => Bound::Included(key(n)),
                _ => Bound::Excluded(key(n)),
            };
            for (lower_kind, lower, upper_kind, upper) in bounds {
                let (lower, upper) = (bound(lower_kind, lower), bound(upper_kind, upper));
                let (from, to) = (lower.as_ref().map(|k| k.as_slice()), upper.as_ref().map(|k| k.as_slice()));
                let valid = match (from, to) {
                    (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a < b,
                    _ => true,
                };
                if !valid {
                    continue; // a plain map refuses such a range
                }
                let expected: Vec<(Vec<u8>, Vec<u8>)> = plain
                    .range::<[u8], _>((from, to))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for backwards in [false, true] {
                    let read: Vec<(Vec<u8>, Vec<u8>)> =
                        range(TREE, handle(&held), lower.clone(), upper.clone(), backwards)
                            .map(|item| item.map(|(k, v)| (k.to_vec(), v.to_vec())))
                            .collect::<Result<_>>()
                            .unwrap();
                    let mut want = expected.clone();
                    if backwards {
                        want.reverse();
                    }
                    proptest::prop_assert_eq!(read, want, "{:?}..{:?} backwards {}", lower, upper, backwards);
                }
            }
        }
    }
}
