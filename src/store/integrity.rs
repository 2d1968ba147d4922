//! Integrity check and index rebuild.
//!
//! - Quick (independent of the store's size): every `meta` value decodes, the first and last
//!   value of every tree have a known format byte (and index entries a well-formed key and
//!   value), and the id counters are ahead of the last ids on disk.
//! - Full: every value of every tree has a known format byte; every record decodes and sits
//!   under its own key (raw payloads and audit entries: header only, they are only displayed);
//!   counters are ahead of every id; every index agrees with its primary tree, and every view
//!   count with its index. Index agreement is first checked with an order-independent digest
//!   (count + wrapping sum of a 64-bit hash of each key and value) of the entries the records
//!   imply versus the entries present, which needs no memory per entry; only when an index's
//!   digests differ does a second pass name each missing, stale or stray entry.
//!
//! Open runs the full check after a crash (no `clean_shutdown` marker), when an interrupted
//! transaction or write could have left anything behind, and the quick one after a clean
//! close, when every transaction completed (so a CLI command opening the store does not pay
//! for a scan). 100k orders: quick in ~35 µs, full in 2.5–3 s on a busy 2-core VM (see
//! `benches/store.rs`). Problems are reported, not fatal: reads of a bad record fail with its
//! tree and key, and `rebuild_indexes` regenerates every index and count from the primary trees.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use super::blocks;
use super::bulk::Batches;
use super::codec;
use super::index::{self, INDEXED};
use super::keys;
use super::rank;
use super::records::{LinkRecord, SettingsRecord};
use super::{Result, Store, StoreError, TreeId, meta};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckDepth {
    #[default]
    Quick,
    Full,
}

/// One thing wrong, with the tree and key at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub tree: &'static str,
    pub key: String,
    pub what: String,
}

impl Problem {
    /// Whether the problem is in derived data (an index or a view count), which a rebuild
    /// regenerates from the primary trees.
    pub fn is_in_an_index(&self) -> bool {
        TreeId::ALL.iter().any(|t| {
            t.name() == self.tree
                && (index::owner(*t).is_some()
                    || matches!(t, TreeId::IdxViewCounts | TreeId::IdxRankCounts))
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tree {}, key {}: {}", self.tree, self.key, self.what)
    }
}

#[derive(Debug, Clone, Default)]
pub struct IntegrityReport {
    pub depth: CheckDepth,
    /// Values examined, over every tree.
    pub values: u64,
    pub problems: Vec<Problem>,
    pub elapsed: Duration,
}

impl IntegrityReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct RebuildReport {
    pub entries: u64,
    /// Records that could not be decoded, so have no index entries.
    pub skipped: Vec<Problem>,
    pub elapsed: Duration,
}

/// Order-independent fingerprint of a set of (key, value) pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Digest {
    count: u64,
    sum: u64,
}

impl Digest {
    fn add(&mut self, key: &[u8], value: &[u8]) {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        value.hash(&mut h);
        self.count += 1;
        self.sum = self.sum.wrapping_add(h.finish());
    }
}

fn problem(tree: TreeId, key: &[u8], what: impl Into<String>) -> Problem {
    Problem {
        tree: tree.name(),
        key: keys::show(key),
        what: what.into(),
    }
}

/// A decoding error as a problem (the error already knows its tree and key).
fn problem_of(tree: TreeId, key: &[u8], err: StoreError) -> Problem {
    let what = match err {
        StoreError::Decode { source, .. } => format!("cannot decode: {source}"),
        StoreError::Corrupt { what, .. } => what,
        other => other.to_string(),
    };
    problem(tree, key, what)
}

/// Accumulates a full scan.
#[derive(Default)]
struct Scan {
    /// Digests of the index entries the records imply, and of those present.
    expected: HashMap<TreeId, Digest>,
    actual: HashMap<TreeId, Digest>,
    /// View sizes the records imply, and those stored, by view prefix.
    expected_counts: BTreeMap<Vec<u8>, u64>,
    actual_counts: BTreeMap<Vec<u8>, u64>,
    /// Highest job id, request id and audit sequence seen, to check the counters.
    highs: HashMap<&'static [u8], u64>,
    /// Rank counts of the index entries met so far (their digest goes to `expected`).
    ranks: rank::Streamed,
    /// The blocks of each blocked index met so far, which must follow each other
    /// (`blocks.rs`).
    chains: HashMap<TreeId, blocks::Chain>,
}

/// The id counter a key of `tree` must stay under, with the id the key holds.
fn counted_id(tree: TreeId, key: &[u8]) -> Option<(&'static [u8], u64)> {
    let counter = match tree {
        TreeId::Jobs => meta::JOB_ID_HIGH,
        TreeId::Requests => meta::REQUEST_ID_HIGH,
        TreeId::Audit => meta::AUDIT_SEQ,
        _ => return None,
    };
    keys::trailing_u64(key).map(|id| (counter, id))
}

/// The format and shape checks every value gets, by tree.
fn check_header(tree: TreeId, key: &[u8], value: &[u8]) -> Result<(), Problem> {
    if blocks::is_blocked(tree) {
        // A block of entries (`blocks.rs`), each checked as it is read.
        return blocks::parse(tree, key, value, &mut Vec::new())
            .map(drop)
            .map_err(|e| problem_of(tree, key, e));
    }
    if index::owner(tree).is_some() {
        if index::primary_key_of(tree, key).is_none() {
            return Err(problem(
                tree,
                key,
                format!("key does not parse as a {} entry", tree.name()),
            ));
        }
        return index::check_value(tree, key, value).map_err(|e| problem_of(tree, key, e));
    }
    match tree {
        TreeId::IdxViewCounts => {
            if keys::view_prefix_of(key) != Some(key) {
                return Err(problem(tree, key, "key is not a view prefix"));
            }
            codec::parse_count(tree.name(), key, value).map(drop)
        }
        TreeId::Audit if key.len() != 16 => {
            return Err(problem(tree, key, "audit key is not 16 bytes"));
        }
        _ => codec::json_of(tree.name(), key, value).map(drop),
    }
    .map_err(|e| problem_of(tree, key, e))
}

impl Store {
    pub fn check(&self, depth: CheckDepth) -> Result<IntegrityReport> {
        let started = Instant::now();
        let mut report = IntegrityReport {
            depth,
            ..IntegrityReport::default()
        };
        let highs = match depth {
            CheckDepth::Quick => self.quick_check(&mut report)?,
            CheckDepth::Full => self.full_check(&mut report)?,
        };
        self.check_counters(&highs, &mut report.problems)?;
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Meta in full, the two ends of every other tree; returns the last ids.
    fn quick_check(&self, report: &mut IntegrityReport) -> Result<HashMap<&'static [u8], u64>> {
        let mut highs = HashMap::new();
        for tree in TreeId::ALL {
            if tree == TreeId::Meta {
                for item in self.tree(tree).iter() {
                    let (key, value) = item.map_err(StoreError::sled("checking integrity"))?;
                    report.values += 1;
                    if let Err(e) = codec::decode::<serde_json::Value>(tree.name(), &key, &value) {
                        report.problems.push(problem_of(tree, &key, e));
                    }
                }
                continue;
            }
            let t = self.tree(tree);
            let first = t.first().map_err(StoreError::sled("checking integrity"))?;
            let last = t.last().map_err(StoreError::sled("checking integrity"))?;
            let ends = match (first, last) {
                (Some(f), Some(l)) if f.0 != l.0 => vec![f, l],
                (first, _) => first.into_iter().collect(),
            };
            for (key, value) in ends {
                report.values += 1;
                report
                    .problems
                    .extend(check_header(tree, &key, &value).err());
                // Audit keys sort by time, not sequence: the last is a lower bound of the highest.
                highs.extend(counted_id(tree, &key));
            }
        }
        Ok(highs)
    }

    /// Every value of every tree; returns the highest ids.
    fn full_check(&self, report: &mut IntegrityReport) -> Result<HashMap<&'static [u8], u64>> {
        let mut scan = Scan::default();
        for tree in TreeId::ALL {
            for item in self.tree(tree).iter() {
                let (key, value) = item.map_err(StoreError::sled("checking integrity"))?;
                report.values += 1;
                scan.visit(tree, &key, &value, &mut report.problems);
            }
        }
        scan.finish_ranks();
        for (tree, chain) in &scan.chains {
            if let Some((key, what)) = chain.end() {
                report.problems.push(problem(*tree, &key, what));
            }
        }
        let ranks = TreeId::IdxRankCounts;
        if scan.expected.get(&ranks).copied().unwrap_or_default()
            != scan.actual.get(&ranks).copied().unwrap_or_default()
        {
            self.explain_ranks(&mut report.problems)?;
        }
        let prefixes: std::collections::BTreeSet<&Vec<u8>> = scan
            .expected_counts
            .keys()
            .chain(scan.actual_counts.keys())
            .collect();
        for prefix in prefixes {
            let want = scan.expected_counts.get(prefix).copied().unwrap_or(0);
            let stored = scan.actual_counts.get(prefix).copied().unwrap_or(0);
            if want != stored {
                report.problems.push(problem(
                    TreeId::IdxViewCounts,
                    prefix,
                    format!("count is {stored}, but the view holds {want} orders"),
                ));
            }
        }
        for (primary, indexes) in INDEXED {
            for index in indexes {
                let want = scan.expected.get(index).copied().unwrap_or_default();
                if scan.actual.get(index).copied().unwrap_or_default() != want {
                    self.explain_index(primary, *index, &mut report.problems)?;
                }
            }
        }
        Ok(scan.highs)
    }

    fn check_counters(
        &self,
        highs: &HashMap<&'static [u8], u64>,
        problems: &mut Vec<Problem>,
    ) -> Result<()> {
        for (counter, high) in highs {
            let stored: u64 = match self.get(TreeId::Meta, counter) {
                Ok(stored) => stored.unwrap_or(0),
                Err(e) => {
                    problems.push(problem_of(TreeId::Meta, counter, e));
                    continue;
                }
            };
            if stored < *high {
                problems.push(problem(
                    TreeId::Meta,
                    counter,
                    format!(
                        "counter is {stored} but {high} is already in use; new ids would collide"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Second pass over one index whose digest disagreed: names each wrong entry.
    fn explain_index(
        &self,
        primary: TreeId,
        index: TreeId,
        problems: &mut Vec<Problem>,
    ) -> Result<()> {
        let (primary_tree, index_tree) = (self.tree(primary), self.tree(index));
        for item in primary_tree.iter() {
            let (key, bytes) = item.map_err(StoreError::sled("explaining an index problem"))?;
            let Ok(derived) = index::derive(primary, &key, &bytes) else {
                continue; // reported by the first pass
            };
            for entry in derived.entries.iter().filter(|e| e.tree == index) {
                let record = format!("{} record {}", primary.name(), keys::show(&key));
                let stored = match index {
                    index if blocks::is_blocked(index) => {
                        match blocks::get(index, &index_tree, &entry.key) {
                            Ok(text) => text,
                            Err(_) => continue, // its block's damage was reported by the first pass
                        }
                    }
                    _ => index_tree
                        .get(&entry.key)
                        .map_err(StoreError::sled("reading an index"))?
                        .map(|v| v.to_vec()),
                };
                match stored {
                    None => problems.push(problem(
                        index,
                        &entry.key,
                        format!("missing; {record} implies it"),
                    )),
                    Some(v) if v != entry.value => problems.push(problem(
                        index,
                        &entry.key,
                        format!("value disagrees with {record}"),
                    )),
                    Some(_) => {}
                }
            }
        }
        let mut explain_stored = |key: &[u8]| -> Result<()> {
            let Some(pk) = index::primary_key_of(index, key) else {
                return Ok(()); // reported by the first pass
            };
            let record = format!("{} record {}", primary.name(), keys::show(&pk));
            let what = match primary_tree
                .get(&pk)
                .map_err(StoreError::sled("reading a record"))?
            {
                None => Some(format!("points to {record}, which does not exist")),
                Some(bytes) => match index::derive(primary, &pk, &bytes) {
                    Err(_) => Some(format!("points to {record}, which cannot be decoded")),
                    Ok(d) if !d.entries.iter().any(|e| e.tree == index && e.key == key) => {
                        Some(format!("stale; {record} no longer implies it"))
                    }
                    Ok(_) => None,
                },
            };
            problems.extend(what.map(|what| problem(index, key, what)));
            Ok(())
        };
        if blocks::is_blocked(index) {
            // A damaged block was reported by the first pass; its entries cannot be named.
            let mut layout = Vec::new();
            for item in index_tree.iter() {
                let (block, value) =
                    item.map_err(StoreError::sled("explaining an index problem"))?;
                let entries = blocks::parse(index, &block, &value, &mut layout).map(|b| b.entries);
                for (id, _) in entries.unwrap_or_default() {
                    explain_stored(id)?;
                }
            }
            return Ok(());
        }
        for item in index_tree.iter() {
            let (key, _) = item.map_err(StoreError::sled("explaining an index problem"))?;
            explain_stored(&key)?;
        }
        Ok(())
    }

    /// Second pass when the rank counts disagree with their indexes: counts every bucket from
    /// the indexes (memory per bucket: only a damaged store pays it) and names each wrong count.
    fn explain_ranks(&self, problems: &mut Vec<Problem>) -> Result<()> {
        let mut expected = BTreeMap::new();
        let mut layout = Vec::new();
        for index in [TreeId::IdxViews, TreeId::IdxOrderSort] {
            for item in self.tree(index).iter() {
                let (block, value) = item.map_err(StoreError::sled("explaining rank counts"))?;
                // A damaged block, or an entry that does not parse, was reported by the first
                // pass.
                let entries = blocks::parse(index, &block, &value, &mut layout).map(|b| b.entries);
                for (key, value) in entries.unwrap_or_default() {
                    for counter in rank::counters(index, key, value).unwrap_or_default() {
                        *expected.entry(counter.key).or_insert(0u64) += 1;
                    }
                }
            }
        }
        let tree = TreeId::IdxRankCounts;
        let mut stored_counts = Vec::new();
        for item in self.tree(tree).iter() {
            let (block, value) = item.map_err(StoreError::sled("explaining rank counts"))?;
            // A damaged block was reported by the first pass.
            let entries = blocks::parse(tree, &block, &value, &mut layout).map(|b| b.entries);
            for (key, value) in entries.unwrap_or_default() {
                // Each parsed as a count with its block.
                let stored = codec::parse_count(tree.name(), key, value).unwrap_or_default();
                stored_counts.push((key.to_vec(), stored));
            }
        }
        for (key, stored) in stored_counts {
            match expected.remove(&key) {
                Some(want) if want == stored => {}
                Some(want) => problems.push(problem(
                    tree,
                    &key,
                    format!("count is {stored}, but its bucket holds {want} index entries"),
                )),
                None => problems.push(problem(tree, &key, "counts a bucket with no entries")),
            }
        }
        for (key, want) in expected {
            problems.push(problem(
                tree,
                &key,
                format!("missing; its bucket holds {want} index entries"),
            ));
        }
        Ok(())
    }

    /// Regenerates every index from the primary trees, then flushes. Records that cannot be
    /// decoded are skipped and reported (they need a person, not a rebuild).
    pub fn rebuild_indexes(&mut self) -> Result<RebuildReport> {
        self.rebuild_all()
    }

    /// `rebuild_indexes` for a caller that already keeps writes out (`Store::writes`).
    pub(super) fn rebuild_all(&self) -> Result<RebuildReport> {
        let started = Instant::now();
        let mut report = RebuildReport::default();
        let mut batches = Batches::default();
        for counts in [TreeId::IdxViewCounts, TreeId::IdxRankCounts] {
            self.tree(counts)
                .clear()
                .map_err(StoreError::sled("clearing kept counts"))?;
        }
        for (primary, indexes) in INDEXED {
            for index in indexes {
                self.tree(*index)
                    .clear()
                    .map_err(StoreError::sled("clearing an index"))?;
            }
            for item in self.tree(primary).iter() {
                let (key, bytes) = item.map_err(StoreError::sled("rebuilding indexes"))?;
                match index::derive(primary, &key, &bytes) {
                    Ok(derived) => {
                        for entry in derived.entries {
                            batches.add(entry)?;
                        }
                    }
                    Err(e) => report.skipped.push(problem_of(primary, &key, e)),
                }
                batches.write_when_full(self)?;
            }
        }
        batches.write(self)?;
        self.flush()?;
        report.entries = batches.entries;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

impl Scan {
    fn visit(&mut self, tree: TreeId, key: &[u8], value: &[u8], problems: &mut Vec<Problem>) {
        if let Some((counter, id)) = counted_id(tree, key) {
            let high = self.highs.entry(counter).or_default();
            *high = (*high).max(id);
        }
        if blocks::is_blocked(tree) {
            // A block parsed once here (its check is `check_header`'s); its entries are the index's.
            match blocks::parse(tree, key, value, &mut Vec::new()) {
                Ok(block) => {
                    if let Some(what) = self.chains.entry(tree).or_default().follow(key, &block) {
                        problems.push(problem(tree, key, what));
                    }
                    let indexed = index::owner(tree).is_some();
                    for (key, value) in block.entries {
                        self.actual.entry(tree).or_default().add(key, value);
                        if indexed {
                            self.stream_ranks(tree, key, value, problems);
                        }
                    }
                }
                Err(e) => problems.push(problem_of(tree, key, e)),
            }
            return;
        }
        if let Err(p) = check_header(tree, key, value) {
            problems.push(p);
            return;
        }
        if index::owner(tree).is_some() {
            self.actual.entry(tree).or_default().add(key, value);
            self.stream_ranks(tree, key, value, problems);
            return;
        }
        let name = tree.name();
        let own_key = match tree {
            TreeId::IdxViewCounts => {
                // check_header parsed it already
                let count = codec::parse_count(name, key, value).unwrap_or_default();
                self.actual_counts.insert(key.to_vec(), count);
                Ok(None)
            }
            TreeId::Orders | TreeId::Cancellations | TreeId::Jobs | TreeId::Requests => {
                index::derive(tree, key, value).map(|derived| {
                    for entry in &derived.entries {
                        self.expected
                            .entry(entry.tree)
                            .or_default()
                            .add(&entry.key, &entry.value);
                        if entry.tree == TreeId::IdxViews
                            && let Some(prefix) = keys::view_prefix_of(&entry.key)
                        {
                            *self.expected_counts.entry(prefix.to_vec()).or_default() += 1;
                        }
                    }
                    Some(derived.own_key)
                })
            }
            TreeId::Links => codec::decode::<LinkRecord>(name, key, value)
                .map(|r| Some(r.link.as_str().as_bytes().to_vec())),
            TreeId::Settings => codec::decode::<SettingsRecord>(name, key, value)
                .map(|r| Some(r.link.as_str().as_bytes().to_vec())),
            TreeId::Meta => codec::decode::<serde_json::Value>(name, key, value).map(|_| None),
            // Raw payloads and the audit log can be large and are only displayed: their header
            // is enough here, and a bad one fails with its key when shown.
            _ => Ok(None),
        };
        match own_key {
            Ok(Some(own)) if own != key => problems.push(problem(
                tree,
                key,
                format!(
                    "record is stored under the wrong key (its id is {})",
                    keys::show(&own)
                ),
            )),
            Ok(_) => {}
            Err(e) => problems.push(problem_of(tree, key, e)),
        }
    }

    /// Feeds an index entry to the rank counts its index implies (entries arrive in key order).
    fn stream_ranks(
        &mut self,
        tree: TreeId,
        key: &[u8],
        value: &[u8],
        problems: &mut Vec<Problem>,
    ) {
        let expected = self.expected.entry(TreeId::IdxRankCounts).or_default();
        match rank::counters(tree, key, value) {
            Ok(counters) => self.ranks.add(counters, &mut |bucket, count| {
                expected.add(bucket, &codec::count_value(count));
            }),
            Err(e) => problems.push(problem_of(tree, key, e)),
        }
    }

    /// The rank counts of the last buckets, once every index entry was met.
    fn finish_ranks(&mut self) {
        let expected = self.expected.entry(TreeId::IdxRankCounts).or_default();
        std::mem::take(&mut self.ranks).finish(&mut |bucket, count| {
            expected.add(bucket, &codec::count_value(count));
        });
    }
}
