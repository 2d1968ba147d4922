//! `idx_order_text` as it is stored: the orders' list texts (`listing::search_text`) in blocks
//! of neighbouring order ids, about 16 to a block, so a filter's pass over every text reads a
//! sixteenth of the values. sled's cost per value read, not the bytes, bounds that pass: over a
//! million orders, 1.1 s for one value per order, 0.14 s for the same texts 16 to a value.
//! Neighbouring ids share a block, so the texts a filtered page checks in list order (ids
//! follow creation) come from a few blocks read once, as they did from neighbouring entries.
//!
//! Logically the index still holds one entry per order (key: order id, value:
//! `codec::text_value`): `index::order_entries` derives those, and the write path, bulk batches,
//! the integrity check and the rebuild hand them here, which stores them in their blocks.
//!
//! The blocks cut the id space into ranges: the first block's key is empty, each block's
//! `upper` is the next block's key, the last has none, and a block holds the ids in
//! `key..upper`. A block that grows past [`MOST`] entries is split in the same write into
//! blocks of [`SPLIT_TO`], each keyed by its first id; blocks are never removed (one left
//! empty still covers its range), so a block key read before a write still names a block
//! whose chain of `upper`s leads to the one covering an id. Writes inside a transaction use
//! that: sled transactions cannot read ranges, so the block to start from is looked up before
//! the transaction, and the chain is followed inside it.
//!
//! A block's value: `FORMAT_INDEX`; `upper` (a byte 0 for none, or 1, its length as u16 BE and
//! its bytes); then each entry in id order: id length (u16 BE), id, value length (u32 BE),
//! value.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::ops::ControlFlow;

use sled::IVec;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::codec::{self, FORMAT_INDEX};
use super::{Result, StoreError, TreeId};

/// The most entries a block keeps before it is split.
const MOST: usize = 32;
/// The entries of each block a split makes (the last may hold fewer).
const SPLIT_TO: usize = 16;

const TREE: TreeId = TreeId::IdxOrderText;

/// One block, read.
#[derive(Debug, PartialEq)]
pub struct Block<'a> {
    /// The next block's key; `None` for the last block.
    pub upper: Option<&'a [u8]>,
    /// `(order id, text value)` in id order.
    pub entries: Vec<(&'a [u8], &'a [u8])>,
}

/// Reads the block stored under `key`, checking its format, every length, that its entries
/// are in order, each a valid text, and all within `key..upper`.
pub fn parse<'a>(key: &[u8], value: &'a [u8]) -> Result<Block<'a>> {
    let bad = |what: String| codec::corrupt(TREE.name(), key, what);
    let rest = codec::body(TREE.name(), key, value, FORMAT_INDEX)?;
    let (upper, mut rest) = match rest.split_first() {
        Some((0, rest)) => (None, rest),
        Some((1, rest)) => {
            let (upper, rest) = take(rest, 2)
                .ok_or_else(|| bad("a text block's upper bound is cut short".into()))?;
            if upper <= key {
                return Err(bad("a text block's upper bound is not above its key".into()));
            }
            (Some(upper), rest)
        }
        _ => return Err(bad("a text block has no upper bound".into())),
    };
    let mut entries: Vec<(&[u8], &[u8])> = Vec::new();
    while !rest.is_empty() {
        let (id, after) =
            take(rest, 2).ok_or_else(|| bad("a text block ends inside an entry".into()))?;
        // A damaged block may hold any bytes: shown escaped, never raw.
        let order = super::keys::show(id);
        let (value, after) =
            take(after, 4).ok_or_else(|| bad(format!("the text of order {order} is cut short")))?;
        if id < key || upper.is_some_and(|upper| id >= upper) {
            return Err(bad(format!(
                "the text of order {order} is outside the block's range"
            )));
        }
        if entries.last().is_some_and(|(last, _)| *last >= id) {
            return Err(bad(format!("the text of order {order} is out of order")));
        }
        codec::parse_text_value(TREE.name(), id, value)?;
        entries.push((id, value));
        rest = after;
    }
    Ok(Block { upper, entries })
}

/// Splits a length-prefixed field (`width` bytes of big-endian length) off the front of `bytes`.
fn take(bytes: &[u8], width: usize) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_at_checked(width)?;
    let len = len.iter().fold(0usize, |n, b| n << 8 | usize::from(*b));
    rest.split_at_checked(len)
}

fn encode(upper: Option<&[u8]>, entries: &[(&[u8], &[u8])]) -> Result<Vec<u8>> {
    let too_long = |id: &[u8], what: &str| {
        codec::corrupt(
            TREE.name(),
            id,
            format!("the order's {what} is too long to index"),
        )
    };
    let mut out = vec![FORMAT_INDEX];
    match upper {
        None => out.push(0),
        Some(upper) => {
            let len = u16::try_from(upper.len()).map_err(|_| too_long(upper, "id"))?;
            out.push(1);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(upper);
        }
    }
    for (id, value) in entries {
        let id_len = u16::try_from(id.len()).map_err(|_| too_long(id, "id"))?;
        let value_len = u32::try_from(value.len()).map_err(|_| too_long(id, "list text"))?;
        out.extend_from_slice(&id_len.to_be_bytes());
        out.extend_from_slice(id);
        out.extend_from_slice(&value_len.to_be_bytes());
        out.extend_from_slice(value);
    }
    Ok(out)
}

/// A block to write: its key and value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// A block being changed: its range's end and its entries.
struct Changing {
    upper: Option<Vec<u8>>,
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Changing {
    /// The block as `(key, value)` pairs to write: itself, and the blocks split off it when it
    /// grew past [`MOST`].
    fn written(self, key: Vec<u8>) -> Result<Vec<KeyValue>> {
        let entries: Vec<(&[u8], &[u8])> = self
            .entries
            .iter()
            .map(|(id, value)| (id.as_slice(), value.as_slice()))
            .collect();
        if entries.len() <= MOST {
            return Ok(vec![(key, encode(self.upper.as_deref(), &entries)?)]);
        }
        let chunks: Vec<&[(&[u8], &[u8])]> = entries.chunks(SPLIT_TO).collect();
        let mut keys = vec![key];
        keys.extend(chunks[1..].iter().map(|chunk| chunk[0].0.to_vec()));
        let mut uppers: Vec<Option<&[u8]>> = keys[1..].iter().map(|k| Some(k.as_slice())).collect();
        uppers.push(self.upper.as_deref());
        let values = chunks
            .iter()
            .zip(&uppers)
            .map(|(chunk, upper)| encode(*upper, chunk))
            .collect::<Result<Vec<_>>>()?;
        Ok(keys.into_iter().zip(values).collect())
    }
}

/// Order texts to write: an id to its new value, or `None` to remove it.
#[derive(Debug, Default)]
pub struct TextChanges(BTreeMap<Vec<u8>, Option<Vec<u8>>>);

impl TextChanges {
    pub fn set(&mut self, id: &[u8], value: Option<&[u8]>) {
        self.0.insert(id.to_vec(), value.map(<[u8]>::to_vec));
    }

    /// Takes `later`'s changes too; of two for one id, `later`'s wins.
    pub fn absorb(&mut self, later: TextChanges) {
        self.0.extend(later.0);
    }

    /// Makes the changes through `read` (a block by its key), starting each id's search at
    /// `start(id)` (a block key at or below it) and following `upper`s; returns the blocks to
    /// write.
    fn rewrite<E>(
        &self,
        start: impl Fn(&[u8]) -> Vec<u8>,
        mut read: impl FnMut(&[u8]) -> std::result::Result<Option<IVec>, E>,
        fail: impl Fn(StoreError) -> E,
    ) -> std::result::Result<Vec<KeyValue>, E> {
        let mut changing: BTreeMap<Vec<u8>, Changing> = BTreeMap::new();
        for (id, value) in &self.0 {
            let mut key = start(id);
            loop {
                let block = match changing.entry(key.clone()) {
                    Entry::Occupied(block) => block.into_mut(),
                    Entry::Vacant(vacant) => vacant.insert(match read(&key)? {
                        Some(bytes) => {
                            let block = parse(&key, &bytes).map_err(&fail)?;
                            Changing {
                                upper: block.upper.map(<[u8]>::to_vec),
                                entries: block
                                    .entries
                                    .into_iter()
                                    .map(|(id, v)| (id.to_vec(), v.to_vec()))
                                    .collect(),
                            }
                        }
                        // The first block, in a store that has none yet.
                        None if key.is_empty() => Changing {
                            upper: None,
                            entries: BTreeMap::new(),
                        },
                        None => {
                            return Err(fail(codec::corrupt(
                                TREE.name(),
                                &key,
                                "a text block names this block as the next, but it is missing",
                            )));
                        }
                    }),
                };
                match &block.upper {
                    Some(upper) if id.as_slice() >= upper.as_slice() => key = upper.clone(),
                    _ => {
                        match value {
                            Some(value) => block.entries.insert(id.clone(), value.clone()),
                            None => block.entries.remove(id),
                        };
                        break;
                    }
                }
            }
        }
        let mut written = Vec::new();
        for (key, block) in changing {
            written.extend(block.written(key).map_err(&fail)?);
        }
        Ok(written)
    }

    /// The key of the block covering each id as `tree` is now, for [`TextChanges::write_in`]
    /// (a transaction cannot look it up).
    pub fn starts(ids: impl Iterator<Item = Vec<u8>>, tree: &sled::Tree) -> Result<Starts> {
        let mut starts = BTreeMap::new();
        for id in ids {
            let key = covering(tree, &id)?.map(|(key, _)| key.to_vec());
            starts.insert(id, key.unwrap_or_default());
        }
        Ok(Starts(starts))
    }

    /// Writes the changes inside a transaction (the write path), starting from `starts`
    /// (an id it does not name starts at the first block).
    pub fn write_in(
        &self,
        tree: &TransactionalTree,
        starts: &Starts,
    ) -> std::result::Result<(), ConflictableTransactionError<StoreError>> {
        if self.0.is_empty() {
            return Ok(());
        }
        let start = |id: &[u8]| starts.0.get(id).cloned().unwrap_or_default();
        let read = |key: &[u8]| tree.get(key).map_err(ConflictableTransactionError::from);
        for (key, value) in self.rewrite(start, read, ConflictableTransactionError::Abort)? {
            tree.insert(key, value)?;
        }
        Ok(())
    }

    /// Writes the changes as one batch (bulk imports and rebuilds, while writes wait), and
    /// forgets them.
    pub fn write_batch(&mut self, tree: &sled::Tree) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let starts = Self::starts(self.0.keys().cloned(), tree)?;
        let start = |id: &[u8]| starts.0.get(id).cloned().unwrap_or_default();
        let read = |key: &[u8]| {
            tree.get(key)
                .map_err(StoreError::sled("reading a block of order texts"))
        };
        let mut batch = sled::Batch::default();
        for (key, value) in self.rewrite(start, read, |e| e)? {
            batch.insert(key, value);
        }
        self.0.clear();
        tree.apply_batch(batch)
            .map_err(StoreError::sled("writing blocks of order texts"))
    }
}

/// Where each id's block search starts (see [`TextChanges::starts`]).
#[derive(Debug, Default)]
pub struct Starts(BTreeMap<Vec<u8>, Vec<u8>>);

/// The block covering `id`: the one with the greatest key at or below it.
fn covering(tree: &sled::Tree, id: &[u8]) -> Result<Option<(IVec, IVec)>> {
    tree.range(..=id)
        .next_back()
        .transpose()
        .map_err(StoreError::sled("finding a block of order texts"))
}

/// The text value stored for order `id`, if any.
pub fn get(tree: &sled::Tree, id: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some((key, bytes)) = covering(tree, id)? else {
        return Ok(None);
    };
    let block = parse(&key, &bytes)?;
    Ok(block
        .entries
        .binary_search_by(|(found, _)| (*found).cmp(id))
        .ok()
        .map(|at| block.entries[at].1.to_vec()))
}

/// Calls `f` with every `(order id, text value)`, in id order, until it says to stop.
pub fn for_each(
    tree: &sled::Tree,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<ControlFlow<()>>,
) -> Result<ControlFlow<()>> {
    for item in tree.iter() {
        let (key, bytes) = item.map_err(StoreError::sled("reading the orders' list texts"))?;
        for (id, value) in parse(&key, &bytes)?.entries {
            if f(id, value)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
    }
    Ok(ControlFlow::Continue(()))
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

    fn text(t: &str) -> Vec<u8> {
        codec::text_value(t)
    }

    /// Writes `changes` into the blocks `store` holds (as `(key, value)`), plainly.
    fn apply(store: &mut BTreeMap<Vec<u8>, Vec<u8>>, changes: &[(&str, Option<&str>)]) {
        let mut texts = TextChanges::default();
        for (id, t) in changes {
            texts.set(id.as_bytes(), t.map(text).as_deref());
        }
        let start = |id: &[u8]| {
            store
                .range(..=id.to_vec())
                .next_back()
                .map(|(k, _)| k.clone())
                .unwrap_or_default()
        };
        let read =
            |key: &[u8]| Ok::<_, StoreError>(store.get(key).map(|v| IVec::from(v.as_slice())));
        let written = texts.rewrite(start, read, |e| e).unwrap();
        store.extend(written);
    }

    /// Every `(id, text)` in the blocks, checking the chain.
    fn read_all(store: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<(String, String)> {
        let mut chain = Chain::default();
        let mut all = Vec::new();
        for (key, value) in store {
            let block = parse(key, value).unwrap();
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
        let mut late = TextChanges::default();
        late.set(b"030", Some(&text("late")));
        apply(&mut store, &[("100", Some("x")), ("101", Some("x"))]);
        assert!(store.len() > 1);
        let read =
            |key: &[u8]| Ok::<_, StoreError>(store.get(key).map(|v| IVec::from(v.as_slice())));
        let written = late.rewrite(|_| Vec::new(), read, |e| e).unwrap();
        store.extend(written);
        assert!(read_all(&store).contains(&("030".to_string(), "late".to_string())));
    }

    #[test]
    fn a_damaged_block_is_refused_naming_what_is_wrong() {
        let mut store = BTreeMap::new();
        apply(&mut store, &[("10", Some("ann")), ("20", Some("bob"))]);
        let block = store[&Vec::new()].clone();
        let why = |key: &[u8], bytes: &[u8]| parse(key, bytes).unwrap_err().to_string();
        assert!(why(b"", &block[..block.len() - 1]).contains("cut short"));
        assert!(why(b"", &block[..4]).contains("ends inside an entry"));
        assert!(why(b"15", &block).contains("outside the block's range"));
        // The two entries swapped.
        let entry = 2 + 2 + 4 + text("ann").len();
        let mut swapped = block[..2].to_vec();
        swapped.extend_from_slice(&block[2 + entry..]);
        swapped.extend_from_slice(&block[2..2 + entry]);
        assert!(why(b"", &swapped).contains("out of order"));
        // A chain with a gap.
        let mut chain = Chain::default();
        let gap = encode(Some(b"50"), &[]).unwrap();
        assert_eq!(chain.follow(b"", &parse(b"", &gap).unwrap()), None);
        assert!(chain.end().is_some_and(|(key, _)| key == b"50"));
        let late = encode(None, &[]).unwrap();
        assert!(
            chain
                .follow(b"60", &parse(b"60", &late).unwrap())
                .is_some_and(|w| w.contains("ends at 50"))
        );
    }
}
