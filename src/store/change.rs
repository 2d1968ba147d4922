//! `Change`: everything one event writes, applied in ONE sled transaction over every tree —
//! records, the jobs they cause (transactional outbox), audit entries, watermarks, settings, and
//! every secondary index (the old record is read inside the transaction to drop stale entries).
//!
//! The closure may run more than once (sled retries on conflict), so it does nothing but sled
//! reads and writes and pure computation: values are encoded and index entries derived before
//! it starts. After commit the database is flushed before `apply` returns Ok, so a caller may
//! tell a person the write happened.
//!
//! Within one change, puts run in field order and removals after puts.

use std::collections::BTreeMap;

use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError, Transactional,
    TransactionalTree,
};

use super::blocks::{self, BlockedWrites, Starts};
use super::codec;
use super::index::{self, Entry};
use super::keys;
use super::rank;
use super::records::{LinkRecord, SettingsRecord, Watermark};
use super::{Result, Store, StoreError, TreeId, meta};
use crate::domain::audit::{Actor, AuditEntry};
use crate::domain::cancellation::Cancellation;
use crate::domain::clock::Timestamp;
use crate::domain::ids::{JobId, LinkId, TiktokOrderId};
use crate::domain::job::Job;
use crate::domain::order::Order;
use crate::domain::request::ResyncRequest;
use crate::domain::settings::LinkSettings;

/// What one event writes. Records replace the stored record with the same id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub links: Vec<LinkRecord>,
    pub settings: Vec<SettingsWrite>,
    pub orders: Vec<Order>,
    /// The platform's raw JSON of an order, for the order detail's "raw payload".
    pub payloads: Vec<(TiktokOrderId, serde_json::Value)>,
    pub cancellations: Vec<Cancellation>,
    /// New jobs (ids from [`Store::allocate_job_id`]) and updates of existing ones.
    pub jobs: Vec<Job>,
    /// New requests (ids from [`Store::allocate_request_id`]) and updates.
    pub requests: Vec<ResyncRequest>,
    /// Appended to the audit log in this order.
    pub audit: Vec<AuditEntry>,
    /// (link, stream name, watermark).
    pub watermarks: Vec<(LinkId, String, Watermark)>,
    /// Orders to forget (retention), with their raw payloads. Their jobs and cancellations are
    /// not touched: list those too if they should go.
    pub remove_orders: Vec<TiktokOrderId>,
    /// Finished jobs to forget (retention).
    pub remove_jobs: Vec<JobId>,
}

/// A settings write, refused with [`StoreError::StaleSettings`] unless the stored version is
/// still `expected_version` (0 = never written).
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsWrite {
    pub link: LinkId,
    pub expected_version: u64,
    pub settings: LinkSettings,
    pub at: Timestamp,
    pub by: Actor,
}

/// A record ready to write: key, encoded value, index entries it implies.
struct Put {
    tree: TreeId,
    key: Vec<u8>,
    value: Vec<u8>,
    entries: Vec<Entry>,
}

/// A change encoded outside the transaction.
struct Prepared<'a> {
    plain: Vec<(TreeId, Vec<u8>, Vec<u8>)>,
    indexed: Vec<Put>,
    removals: Vec<(TreeId, Vec<u8>)>,
    settings: &'a [SettingsWrite],
    audit: Vec<(Timestamp, Vec<u8>)>,
    job_high: Option<u64>,
    request_high: Option<u64>,
}

impl Prepared<'_> {
    /// About how many bytes the change puts in sled's log: its records, entries and audit.
    fn bytes(&self) -> u64 {
        let plain = self.plain.iter().map(|(_, k, v)| k.len() + v.len());
        let indexed = self.indexed.iter().map(|put| {
            let entries = put.entries.iter().map(|e| e.key.len() + e.value.len());
            put.key.len() + put.value.len() + entries.sum::<usize>()
        });
        let audit = self.audit.iter().map(|(_, value)| value.len());
        plain.chain(indexed).chain(audit).sum::<usize>() as u64
    }
}

type TxResult<T> = ConflictableTransactionResult<T, StoreError>;

impl Store {
    /// Applies `change` atomically and flushes (blocking on the fsync) before returning Ok.
    pub fn apply(&self, change: &Change) -> Result<()> {
        let shared = self.writes.read().unwrap_or_else(|e| e.into_inner());
        self.commit(change)?;
        drop(shared);
        self.flush()
    }

    /// `apply` for async callers: the transaction itself is in-memory and short; the flush is
    /// awaited, and shared with the other writers of the moment (group commit). While a check
    /// keeps writes out, the wait is a sleep, not a blocked thread: the daemon's workers go on
    /// answering reads.
    pub async fn apply_async(&self, change: &Change) -> Result<()> {
        loop {
            if let Some(_shared) = self.try_share_writes() {
                self.commit(change)?;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.group_flush
            .wait(|| async {
                // A handle of its own: the lock's guard cannot be held across the wait.
                let db = self.db().clone();
                db.flush_async()
                    .await
                    .map(drop)
                    .map_err(StoreError::sled("flushing to disk"))
            })
            .await
    }

    /// Settings write on its own; returns the stored record.
    pub fn put_settings(&self, write: SettingsWrite) -> Result<SettingsRecord> {
        let link = write.link.clone();
        self.apply(&Change {
            settings: vec![write],
            ..Change::default()
        })?;
        self.settings(&link)?.ok_or_else(|| {
            codec::corrupt(
                TreeId::Settings.name(),
                link.as_str().as_bytes(),
                "vanished after write",
            )
        })
    }

    /// Writes one link's record (and flushes).
    pub fn put_link(&self, record: LinkRecord) -> Result<()> {
        self.apply(&Change {
            links: vec![record],
            ..Change::default()
        })
    }

    /// Appends one audit entry (and flushes).
    pub fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        self.apply(&Change {
            audit: vec![entry],
            ..Change::default()
        })
    }

    /// `writes` shared, unless a check holds it.
    fn try_share_writes(&self) -> Option<std::sync::RwLockReadGuard<'_, ()>> {
        match self.writes.try_read() {
            Ok(shared) => Some(shared),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The transaction; callers hold `writes` shared.
    fn commit(&self, change: &Change) -> Result<()> {
        let prepared = prepare(change)?;
        loop {
            let starts = self.block_starts(&prepared)?;
            let done = self.trees().transaction(|tx| write(tx, &prepared, &starts));
            match done {
                // A record changed since `block_starts` read it: look the starts up again.
                Err(TransactionError::Abort(StoreError::Replan)) => continue,
                Err(TransactionError::Abort(e)) => return Err(e),
                Err(TransactionError::Storage(source)) => {
                    return Err(StoreError::Sled {
                        op: "committing a change",
                        source,
                    });
                }
                Ok(()) => {
                    self.wrote(prepared.bytes());
                    return Ok(());
                }
            }
        }
    }

    /// Where the transaction's writes into blocked indexes start (`blocks.rs`): the blocks
    /// covering the entries `prepared` adds or drops against the records stored now.
    fn block_starts(&self, prepared: &Prepared<'_>) -> Result<Starts> {
        let mut starts = Starts::default();
        let puts = prepared
            .indexed
            .iter()
            .map(|put| (put.tree, &put.key, put.entries.as_slice()));
        let removals = prepared
            .removals
            .iter()
            .map(|(tree, key)| (*tree, key, &[][..]));
        for (tree, key, new) in puts.chain(removals) {
            let blocked = index::INDEXED.iter().any(|(primary, indexes)| {
                *primary == tree && indexes.iter().any(|i| blocks::is_blocked(*i))
            });
            if !blocked {
                continue;
            }
            let stored = self
                .tree(tree)
                .get(key)
                .map_err(StoreError::sled("reading a record before changing it"))?;
            // One that does not decode fails the transaction itself, naming the record.
            let old = stored
                .and_then(|bytes| index::derive(tree, key, &bytes).ok())
                .map(|derived| derived.entries)
                .unwrap_or_default();
            let dropped = old.iter().filter(|o| !new.contains(o)).map(|e| (e, true));
            let added = new.iter().filter(|n| !old.contains(n)).map(|e| (e, false));
            for (entry, removing) in dropped.chain(added) {
                if blocks::is_blocked(entry.tree) {
                    let tree = self.tree(entry.tree);
                    starts.look_up(entry.tree, &tree, &entry.key, removing)?;
                }
                // An entry that does not parse fails the transaction itself.
                let ranks = TreeId::IdxRankCounts;
                let counters = rank::counters(entry.tree, &entry.key, &entry.value);
                for counter in counters.unwrap_or_default() {
                    starts.look_up(ranks, &self.tree(ranks), &counter.key, removing)?;
                }
            }
        }
        Ok(starts)
    }
}

fn prepare(change: &Change) -> Result<Prepared<'_>> {
    let mut plain = Vec::new();
    let mut indexed = Vec::new();
    let mut removals = Vec::new();
    for link in &change.links {
        let key = link.link.as_str().as_bytes().to_vec();
        let value = codec::encode(TreeId::Links.name(), &key, link)?;
        plain.push((TreeId::Links, key, value));
    }
    for (order, payload) in &change.payloads {
        let key = order.as_str().as_bytes().to_vec();
        let value = codec::encode(TreeId::Payloads.name(), &key, payload)?;
        plain.push((TreeId::Payloads, key, value));
    }
    for (link, stream, watermark) in &change.watermarks {
        let key = keys::watermark_key(link, stream);
        let value = codec::encode(TreeId::Meta.name(), &key, watermark)?;
        plain.push((TreeId::Meta, key, value));
    }
    for order in &change.orders {
        let key = order.id.as_str().as_bytes().to_vec();
        let value = codec::encode(TreeId::Orders.name(), &key, order)?;
        indexed.push(Put {
            tree: TreeId::Orders,
            key,
            value,
            entries: index::order_entries(order),
        });
    }
    for c in &change.cancellations {
        let key = keys::cancellation_key(&c.key);
        let value = codec::encode(TreeId::Cancellations.name(), &key, c)?;
        let entries = index::cancellation_entries(c);
        indexed.push(Put {
            tree: TreeId::Cancellations,
            key,
            value,
            entries,
        });
    }
    for job in &change.jobs {
        let key = keys::job_key(job.id).to_vec();
        let value = codec::encode(TreeId::Jobs.name(), &key, job)?;
        indexed.push(Put {
            tree: TreeId::Jobs,
            key,
            value,
            entries: index::job_entries(job),
        });
    }
    for request in &change.requests {
        let key = keys::request_key(request.id).to_vec();
        let value = codec::encode(TreeId::Requests.name(), &key, request)?;
        let entries = index::request_entries(request);
        indexed.push(Put {
            tree: TreeId::Requests,
            key,
            value,
            entries,
        });
    }
    for order in &change.remove_orders {
        let key = order.as_str().as_bytes().to_vec();
        removals.push((TreeId::Payloads, key.clone()));
        removals.push((TreeId::Orders, key));
    }
    for job in &change.remove_jobs {
        removals.push((TreeId::Jobs, keys::job_key(*job).to_vec()));
    }
    let audit = change
        .audit
        .iter()
        .map(|entry| {
            Ok((
                entry.at,
                codec::encode(TreeId::Audit.name(), b"(new entry)", entry)?,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(Prepared {
        plain,
        indexed,
        removals,
        settings: &change.settings,
        audit,
        job_high: change.jobs.iter().map(|j| j.id.0).max(),
        request_high: change.requests.iter().map(|r| r.id.0).max(),
    })
}

/// The transaction body: sled operations and pure computation only.
fn write(tx: &[TransactionalTree], p: &Prepared<'_>, starts: &Starts) -> TxResult<()> {
    let t = |id: TreeId| &tx[id as usize];
    for (tree, key, value) in &p.plain {
        t(*tree).insert(key.as_slice(), value.as_slice())?;
    }
    let mut counts = IndexDeltas::default();
    for put in &p.indexed {
        let old = t(put.tree).insert(put.key.as_slice(), put.value.as_slice())?;
        let old_entries = old_entries(put.tree, &put.key, old)?;
        sync_entries(tx, &old_entries, &put.entries, &mut counts)?;
    }
    for (tree, key) in &p.removals {
        let old = t(*tree).remove(key.as_slice())?;
        if index::INDEXED.iter().any(|(primary, _)| primary == tree) {
            sync_entries(tx, &old_entries(*tree, key, old)?, &[], &mut counts)?;
        }
    }
    write_counts(
        t(TreeId::IdxViewCounts),
        TreeId::IdxViewCounts,
        &counts.views,
    )?;
    counts.blocked.write_in(t, starts)?;
    for w in p.settings {
        write_settings(t(TreeId::Settings), w)?;
    }
    let meta = t(TreeId::Meta);
    if !p.audit.is_empty() {
        let mut seq = read_counter(meta, meta::AUDIT_SEQ)?;
        for (at, value) in &p.audit {
            seq += 1;
            t(TreeId::Audit).insert(&keys::audit_key(*at, seq)[..], value.as_slice())?;
        }
        write_counter(meta, meta::AUDIT_SEQ, seq)?;
    }
    // A durable job or request implies a durable high-water mark at least as high, so an id
    // handed out before a crash is never handed out again for a different record.
    for (key, high) in [
        (meta::JOB_ID_HIGH, p.job_high),
        (meta::REQUEST_ID_HIGH, p.request_high),
    ] {
        if let Some(high) = high
            && high > read_counter(meta, key)?
        {
            write_counter(meta, key, high)?;
        }
    }
    Ok(())
}

fn old_entries(tree: TreeId, key: &[u8], old: Option<sled::IVec>) -> TxResult<Vec<Entry>> {
    match old {
        // A record that no longer decodes cannot say which index entries to drop; refuse the
        // write rather than leave stray entries behind (the error names the record).
        Some(bytes) => index::derive(tree, key, &bytes)
            .map(|d| d.entries)
            .map_err(ConflictableTransactionError::Abort),
        None => Ok(Vec::new()),
    }
}

/// What one transaction's index entries add up to: the net change of each view's size
/// (`idx_view_counts`, by view prefix), and the edits of the blocked trees (`blocks.rs`): index
/// entries, and the net change of each rank bucket's count (`idx_rank_counts`, see `rank.rs`).
#[derive(Default)]
struct IndexDeltas {
    views: BTreeMap<Vec<u8>, i64>,
    blocked: BlockedWrites,
}

/// Removes entries the old record implied and the new one does not; writes new or changed ones;
/// tallies the counts of entries that appear or disappear. An entry whose value changed under
/// the same key (an order moved to another link) leaves one link's rank counts for another's.
fn sync_entries(
    tx: &[TransactionalTree],
    old: &[Entry],
    new: &[Entry],
    counts: &mut IndexDeltas,
) -> TxResult<()> {
    let same_key = |a: &Entry, b: &Entry| a.tree == b.tree && a.key == b.key;
    for stale in old.iter().filter(|o| !new.contains(o)) {
        if !new.iter().any(|n| same_key(n, stale)) {
            match stale.tree {
                tree if blocks::is_blocked(tree) => counts.blocked.of(tree).set(&stale.key, None),
                tree => drop(tx[tree as usize].remove(stale.key.as_slice())?),
            }
            tally_view(counts, stale, -1);
        }
        tally_ranks(counts, stale, -1)?;
    }
    for entry in new.iter().filter(|n| !old.contains(n)) {
        if !old.iter().any(|o| same_key(o, entry)) {
            tally_view(counts, entry, 1);
        }
        tally_ranks(counts, entry, 1)?;
        match entry.tree {
            tree if blocks::is_blocked(tree) => {
                counts.blocked.of(tree).set(&entry.key, Some(&entry.value));
            }
            tree => drop(tx[tree as usize].insert(entry.key.as_slice(), entry.value.as_slice())?),
        }
    }
    Ok(())
}

fn tally_view(counts: &mut IndexDeltas, entry: &Entry, delta: i64) {
    if entry.tree == TreeId::IdxViews
        && let Some(prefix) = keys::view_prefix_of(&entry.key)
    {
        *counts.views.entry(prefix.to_vec()).or_default() += delta;
    }
}

fn tally_ranks(counts: &mut IndexDeltas, entry: &Entry, delta: i64) -> TxResult<()> {
    let ranked = rank::counters(entry.tree, &entry.key, &entry.value)
        .map_err(ConflictableTransactionError::Abort)?;
    let ranks = counts.blocked.of(TreeId::IdxRankCounts);
    for counter in ranked {
        ranks.add(&counter.key, delta);
    }
    Ok(())
}

/// Applies the tallies to a count tree. A count that would go below zero was already wrong: it
/// stops at zero and the integrity check reports it, rather than refusing every write.
fn write_counts(
    tree: &TransactionalTree,
    id: TreeId,
    counts: &BTreeMap<Vec<u8>, i64>,
) -> TxResult<()> {
    for (key, delta) in counts.iter().filter(|(_, d)| **d != 0) {
        let current = match tree.get(key.as_slice())? {
            Some(bytes) => codec::parse_count(id.name(), key, &bytes)
                .map_err(ConflictableTransactionError::Abort)?,
            None => 0,
        };
        match current.saturating_add_signed(*delta) {
            0 => tree.remove(key.as_slice())?,
            next => tree.insert(key.as_slice(), codec::count_value(next))?,
        };
    }
    Ok(())
}

fn write_settings(tree: &TransactionalTree, w: &SettingsWrite) -> TxResult<()> {
    let name = TreeId::Settings.name();
    let key = w.link.as_str().as_bytes();
    let found = match tree.get(key)? {
        Some(bytes) => {
            codec::decode::<SettingsRecord>(name, key, &bytes)
                .map_err(ConflictableTransactionError::Abort)?
                .version
        }
        None => 0,
    };
    if found != w.expected_version {
        return Err(ConflictableTransactionError::Abort(
            StoreError::StaleSettings {
                link: w.link.clone(),
                expected: w.expected_version,
                found,
            },
        ));
    }
    let record = SettingsRecord {
        link: w.link.clone(),
        version: found + 1,
        settings: w.settings.clone(),
        updated_at: w.at,
        updated_by: w.by.clone(),
    };
    let value = codec::encode(name, key, &record).map_err(ConflictableTransactionError::Abort)?;
    tree.insert(key, value)?;
    Ok(())
}

pub(super) fn read_counter(meta: &TransactionalTree, key: &[u8]) -> TxResult<u64> {
    match meta.get(key)? {
        Some(bytes) => codec::decode(TreeId::Meta.name(), key, &bytes)
            .map_err(ConflictableTransactionError::Abort),
        None => Ok(0),
    }
}

pub(super) fn write_counter(meta: &TransactionalTree, key: &[u8], value: u64) -> TxResult<()> {
    let bytes = codec::encode(TreeId::Meta.name(), key, &value)
        .map_err(ConflictableTransactionError::Abort)?;
    meta.insert(key, bytes)?;
    Ok(())
}
