//! The sled store: the one place orderdeck's state lives. Invariants every writer relies on:
//!
//! - Each stored value is a format byte + an encoding (`codec.rs`); the shape of the domain
//!   types is versioned by `schema_version` in `meta` and moved forward by `migrate.rs` at open.
//!   A store written by a newer schema is refused, never misread.
//! - Every write goes through one multi-tree transaction (`change.rs`) that writes records, the
//!   jobs they cause (transactional outbox) and every secondary index (`index.rs`) together,
//!   then flushes before returning, so "Ok" means on disk.
//! - Index trees (`idx_*`, see `index.rs`) and the counts kept of them (`idx_view_counts`,
//!   `idx_rank_counts`) are derived data: `integrity.rs` checks them against the primary trees
//!   and `rebuild_indexes` regenerates them. The ones an order has many entries in are kept in
//!   blocks of neighbouring entries (`blocks.rs`): sled holds memory for every value it stores.
//! - Ids of jobs and requests come from counters in `meta` and are never reused, also across a
//!   crash: a change that writes a job raises the counter in the same transaction.
//! - The audit tree is append-only: there is no API to edit or remove an entry.
//! - One process owns the store (sled holds a file lock); a second open fails with
//!   [`StoreError::Locked`], which tells the user to go through the running daemon.
//! - sled 0.34 writes its recovery snapshot only while it opens, and an open replays every
//!   write since: the store reopens sled in place after every [`StoreConfig::reopen_after_bytes`]
//!   written ([`Store::reopen_if_due`]), so that an open after a crash stays short. Its handles
//!   sit behind a lock for that: every use of a tree holds a read guard ([`Store::tree`]), and
//!   whatever reads on (an iterator, a `blocks::Range`) holds its guard for as long.
//!
//! Opening: migrate, then check integrity (full after a crash, i.e. when the `clean_shutdown`
//! marker left by [`Store::close`] is missing; quick otherwise), then release jobs a dead
//! process left `Running`. [`Store::open_report`] says what happened. A full check takes about
//! 20 µs per order, so above [`StoreConfig::full_check_at_open`] orders the open runs the quick
//! one and leaves the full one to [`Store::run_deferred_check`], which the daemon runs in the
//! background while it serves; until one completes, a `full_check_pending` marker keeps it due
//! across restarts. Damaged indexes found by either check are rebuilt from the primary trees,
//! and the rebuild reported, never used as they are.

mod blocks;
mod bulk;
mod change;
mod codec;
mod group_flush;
mod index;
mod integrity;
mod keys;
mod lists;
mod migrate;
mod named;
mod rank;
mod read;
mod records;
mod views;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::domain::ids::{JobId, LinkId};

pub use change::{Change, SettingsWrite};
pub use integrity::{CheckDepth, IntegrityReport, Problem, RebuildReport};
pub use lists::{ListOrder, MatchedPage, OrderFilter};
pub use migrate::SCHEMA_VERSION;
pub use records::{AuditCursor, AuditRecord, LinkRecord, Page, SettingsRecord, Watermark};
pub use views::{CancellationScan, ViewCounts, ViewQuery};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store in {} is in use by another process, most likely `orderdeck serve`. \
         While the daemon runs, commands go through it automatically: check that it is healthy \
         and retry, or stop it before opening the store directly",
        data_dir.display()
    )]
    Locked { data_dir: PathBuf },
    #[error("cannot open the store in {}: {}", data_dir.display(), sled_text(source))]
    Open {
        data_dir: PathBuf,
        source: sled::Error,
    },
    #[error(
        "the store in {} was written by a newer orderdeck (schema version {found}; this \
         version understands up to {supported}); upgrade orderdeck, or restore a backup made \
         by this version",
        data_dir.display()
    )]
    NewerSchema {
        data_dir: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("migrating the store from schema version {from}: {why}")]
    Migration { from: u32, why: String },
    #[error("store tree {tree}, key {key}: cannot decode the record: {source}")]
    Decode {
        tree: &'static str,
        key: String,
        source: serde_json::Error,
    },
    #[error("store tree {tree}, key {key}: {what}")]
    Corrupt {
        tree: &'static str,
        key: String,
        what: String,
    },
    #[error("store tree {tree}, key {key}: cannot encode the record: {source}")]
    Encode {
        tree: &'static str,
        key: String,
        source: serde_json::Error,
    },
    #[error(
        "settings of link {link} were changed meanwhile (now version {found}, edited from \
         version {expected}); reload them and make the change again"
    )]
    StaleSettings {
        link: LinkId,
        expected: u64,
        found: u64,
    },
    #[error("store: {op}: {}", sled_text(source))]
    Sled {
        op: &'static str,
        source: sled::Error,
    },
    /// [`Store::reopen`] closed sled's files and could not open them again.
    #[error(
        "the store in {} was closed to write its snapshot and could not be opened again (the \
         log says why); everything was flushed before: restart orderdeck",
        data_dir.display()
    )]
    Closed { data_dir: PathBuf },
    /// sled cannot read its own files (cut short, overwritten): nothing orderdeck can repair.
    #[error(
        "the store in {} is damaged ({what}). Restore that directory from a backup while \
         orderdeck is stopped; `orderdeck serve` checks the store's integrity when it opens it",
        data_dir.display()
    )]
    Damaged { data_dir: PathBuf, what: String },
    /// A record changed between planning a write and its transaction, so the write must be
    /// planned again (`change.rs` does, so callers never see it).
    #[error("store: a record changed while a write was planned")]
    Replan,
}

impl StoreError {
    fn sled(op: &'static str) -> impl FnOnce(sled::Error) -> StoreError {
        move |source| StoreError::Sled { op, source }
    }

    /// Whether sled found its files damaged, which a retry or the daemon cannot help with.
    pub fn is_damaged(&self) -> bool {
        matches!(self, StoreError::Damaged { .. })
    }

    /// A corruption sled reports while the store in `data_dir` opens becomes [`Damaged`],
    /// which names the directory and says what to do.
    ///
    /// [`Damaged`]: StoreError::Damaged
    fn at_open(self, data_dir: &Path) -> StoreError {
        match self {
            StoreError::Sled { op, source } if is_corruption(&source) => StoreError::Damaged {
                data_dir: data_dir.to_path_buf(),
                what: format!("{op}: {}", sled_text(&source)),
            },
            StoreError::Open { source, .. } if is_corruption(&source) => StoreError::Damaged {
                data_dir: data_dir.to_path_buf(),
                what: sled_text(&source),
            },
            other => other,
        }
    }
}

fn is_corruption(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Corruption { .. })
}

/// sled's error for people: its corruption message carries a backtrace (empty in release
/// builds, `backtrace ()`) and a debug-printed pointer, neither of which helps anyone.
fn sled_text(error: &sled::Error) -> String {
    match error {
        sled::Error::Corruption { at: Some(at), .. } => {
            format!("sled read corrupted data at file offset {}", at.lid())
        }
        sled::Error::Corruption { at: None, .. } => "sled read corrupted data".into(),
        other => other.to_string(),
    }
}

/// Every tree. The discriminant indexes `Store::trees` and the transaction's view of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TreeId {
    Links,
    Settings,
    Orders,
    Payloads,
    Cancellations,
    Jobs,
    Requests,
    Audit,
    Meta,
    IdxViews,
    IdxViewCounts,
    IdxRankCounts,
    IdxOrderText,
    IdxOrderSort,
    IdxCancellations,
    IdxCancellationsOrder,
    IdxJobsDue,
    IdxJobsDueLink,
    IdxJobsOrder,
    IdxJobsRunning,
    IdxRequestsPending,
    IdxStuckCauses,
}

impl TreeId {
    pub const ALL: [TreeId; 22] = [
        TreeId::Links,
        TreeId::Settings,
        TreeId::Orders,
        TreeId::Payloads,
        TreeId::Cancellations,
        TreeId::Jobs,
        TreeId::Requests,
        TreeId::Audit,
        TreeId::Meta,
        TreeId::IdxViews,
        TreeId::IdxViewCounts,
        TreeId::IdxRankCounts,
        TreeId::IdxOrderText,
        TreeId::IdxOrderSort,
        TreeId::IdxCancellations,
        TreeId::IdxCancellationsOrder,
        TreeId::IdxJobsDue,
        TreeId::IdxJobsDueLink,
        TreeId::IdxJobsOrder,
        TreeId::IdxJobsRunning,
        TreeId::IdxRequestsPending,
        TreeId::IdxStuckCauses,
    ];

    /// The sled tree name (on disk).
    pub fn name(self) -> &'static str {
        match self {
            TreeId::Links => "links",
            TreeId::Settings => "settings",
            TreeId::Orders => "orders",
            TreeId::Payloads => "payloads",
            TreeId::Cancellations => "cancellations",
            TreeId::Jobs => "jobs",
            TreeId::Requests => "requests",
            TreeId::Audit => "audit",
            TreeId::Meta => "meta",
            TreeId::IdxViews => "idx_views",
            TreeId::IdxViewCounts => "idx_view_counts",
            TreeId::IdxRankCounts => "idx_rank_counts",
            TreeId::IdxOrderText => "idx_order_text",
            TreeId::IdxOrderSort => "idx_order_sort",
            TreeId::IdxCancellations => "idx_cancellations",
            TreeId::IdxCancellationsOrder => "idx_cancellations_order",
            TreeId::IdxJobsDue => "idx_jobs_due",
            TreeId::IdxJobsDueLink => "idx_jobs_due_link",
            TreeId::IdxJobsOrder => "idx_jobs_order",
            TreeId::IdxJobsRunning => "idx_jobs_running",
            TreeId::IdxRequestsPending => "idx_requests_pending",
            TreeId::IdxStuckCauses => "idx_stuck_causes",
        }
    }
}

/// Meta keys (other than watermarks, see `keys::watermark_key`).
pub(crate) mod meta {
    pub const SCHEMA_VERSION: &[u8] = b"schema_version";
    /// Present only while no process has the store open, i.e. after a clean `close`.
    pub const CLEAN_SHUTDOWN: &[u8] = b"clean_shutdown";
    /// Highest job / request id handed out or written (ids are never reused).
    pub const JOB_ID_HIGH: &[u8] = b"job_id_high";
    pub const REQUEST_ID_HIGH: &[u8] = b"request_id_high";
    /// Sequence of the last audit entry, ordering entries with equal timestamps.
    pub const AUDIT_SEQ: &[u8] = b"audit_seq";
    /// Present from an open after a crash that left the full check for later, until one ran.
    pub const FULL_CHECK_PENDING: &[u8] = b"full_check_pending";
}

/// Asks Linux not to back this process's memory with transparent huge pages. sled reads
/// pages into buffers it frees again soon after; where THP is set to "always" (as many
/// distributions ship) each 2 MB region such a buffer first touches becomes resident whole,
/// and stays so while any buffer in it lives. At a million orders that held ~45 MB more after
/// a few filters, and a full integrity check peaked at ~300 MB instead of ~270 (a bulk load
/// runs ~7% slower without them). Databases advise the same. Call it first thing, before the
/// store opens; elsewhere than Linux there is nothing to do.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // Refused only by kernels older than 3.15, which keep their default.
    let _ = nix::sys::prctl::set_thp_disable(true);
}

/// How long a reopen waits for sled's files to be let go (iterators finishing, sled's threads
/// closing them) before giving up.
const REOPEN_LOCK_WAIT: Duration = Duration::from_secs(30);

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The sled directory (inside the data dir).
    pub path: PathBuf,
    /// sled's page cache in bytes.
    pub cache_capacity: u64,
    /// How long to retry while another holder releases the lock before reporting
    /// [`StoreError::Locked`]: a store just closed (a daemon restarting, or a reopen in the same
    /// process) is released by sled's background threads a few milliseconds after the drop.
    pub lock_wait: Duration,
    /// The most orders for which an open after a crash checks in full before returning; a
    /// larger store opens after the quick check and owes [`Store::run_deferred_check`].
    pub full_check_at_open: usize,
    /// Bytes written since sled opened after which [`Store::reopen_if_due`] reopens it.
    pub reopen_after_bytes: u64,
}

impl StoreConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: path.into(),
            // sled's default is 1 GiB; orderdeck's working set (recent orders, indexes) is far
            // smaller and the daemon shares the host with the merchant's other tools. sled
            // holds several times this once a pass over every order filled it: the full check
            // of a million orders peaked at 270 MB with 32 MB and 314 MB with 64 MB (without
            // huge pages, see `without_huge_pages`), while a filtered page in buyer order that
            // looks up 9,000 texts took ~60 ms with 64 MB against ~90 ms with 32 MB, inside
            // its goal of 100 ms.
            cache_capacity: 32 * 1024 * 1024,
            lock_wait: Duration::from_secs(1),
            // ~1.5 s of checking: with the rest of a start, a daemon answers within 2 s.
            full_check_at_open: 50_000,
            // An open after a machine's crash read the log of a million orders' bulk load,
            // 3 to 6 s; a reopen takes about what an open after a crash would replay.
            reopen_after_bytes: 256 * 1024 * 1024,
        }
    }
}

/// What happened while opening.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// Schema version found on disk before migrating, when a migration ran.
    pub migrated_from: Option<u32>,
    pub integrity: IntegrityReport,
    /// The indexes rebuilt because the check found them damaged.
    pub rebuilt: Option<RebuildReport>,
    /// The full check was due but left for [`Store::run_deferred_check`] (a large store).
    pub deferred_check: bool,
    /// Jobs a previous process left `Running`, now `Ready` again (and `maybe_applied`).
    pub released_jobs: Vec<JobId>,
}

pub struct Store {
    /// `None` only if [`Store::reopen`] failed: sled is closed, and the process must restart.
    sled: parking_lot::RwLock<Option<Sled>>,
    config: StoreConfig,
    opened: OpenReport,
    group_flush: group_flush::GroupFlush,
    /// Commits share it; a check or rebuild that must see the trees still holds it alone.
    writes: std::sync::RwLock<()>,
    /// Bytes of records and entries written since sled last opened: about what an open after
    /// a crash would replay (see [`Store::reopen_if_due`]).
    written: AtomicU64,
}

/// sled's handles, opened and replaced together.
struct Sled {
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

impl Sled {
    fn open(config: &StoreConfig) -> Result<Sled> {
        let db = open_db(config)?;
        let trees = TreeId::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<sled::Result<Vec<_>>>()
            .map_err(|source| open_error(&config.path, source))?;
        Ok(Sled { db, trees })
    }
}

type Handle<'a, T> = parking_lot::MappedRwLockReadGuard<'a, T>;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.config.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(&StoreConfig::new(path.as_ref()))
    }

    pub fn open_with(config: &StoreConfig) -> Result<Store> {
        Store::open_migrating(config, migrate::STEPS)
    }

    /// `open_with` over an explicit table of migration steps (tests add their own).
    fn open_migrating(config: &StoreConfig, steps: &[migrate::Step]) -> Result<Store> {
        Store::open_checked(config, steps).map_err(|e| e.at_open(&config.path))
    }

    fn open_checked(config: &StoreConfig, steps: &[migrate::Step]) -> Result<Store> {
        let mut store = Store {
            sled: parking_lot::RwLock::new(Some(Sled::open(config)?)),
            config: config.clone(),
            opened: OpenReport::default(),
            group_flush: Default::default(),
            writes: Default::default(),
            written: Default::default(),
        };
        store.opened.migrated_from = migrate::run(&mut store, steps)?;
        let meta = store.tree(TreeId::Meta);
        let clean = meta
            .remove(meta::CLEAN_SHUTDOWN)
            .map_err(StoreError::sled("reading the shutdown marker"))?
            .is_some();
        let pending = meta
            .contains_key(meta::FULL_CHECK_PENDING)
            .map_err(StoreError::sled("reading the pending check marker"))?;
        drop(meta);
        let due = !clean || pending;
        let deferred = due && store.order_count()? > config.full_check_at_open;
        let (integrity, rebuilt) = if deferred {
            let marker = codec::encode(TreeId::Meta.name(), meta::FULL_CHECK_PENDING, &true)?;
            store
                .tree(TreeId::Meta)
                .insert(meta::FULL_CHECK_PENDING, marker)
                .map_err(StoreError::sled("writing the pending check marker"))?;
            (store.check(CheckDepth::Quick)?, None)
        } else if due {
            store.check_and_repair()?
        } else {
            (store.check(CheckDepth::Quick)?, None)
        };
        store.opened.integrity = integrity;
        store.opened.rebuilt = rebuilt;
        store.opened.deferred_check = deferred;
        store.opened.released_jobs = store.release_running_jobs()?;
        store.flush()?;
        Ok(store)
    }

    /// Marks a clean shutdown (so the next open runs the quick check) and flushes.
    pub fn close(self) -> Result<()> {
        if self.sled.read().is_none() {
            return Err(self.closed());
        }
        let marker = codec::encode(TreeId::Meta.name(), meta::CLEAN_SHUTDOWN, &true)?;
        self.tree(TreeId::Meta)
            .insert(meta::CLEAN_SHUTDOWN, marker)
            .map_err(StoreError::sled("writing the shutdown marker"))?;
        self.flush()
    }

    pub fn path(&self) -> &Path {
        &self.config.path
    }

    pub fn open_report(&self) -> &OpenReport {
        &self.opened
    }

    /// Runs the full check an open left for later (see the module docs), if one is due: writes
    /// wait meanwhile, reads do not. Damaged indexes are rebuilt. `None` when none was due.
    pub fn run_deferred_check(&self) -> Result<Option<(IntegrityReport, Option<RebuildReport>)>> {
        let meta = self.tree(TreeId::Meta);
        if !meta
            .contains_key(meta::FULL_CHECK_PENDING)
            .map_err(StoreError::sled("reading the pending check marker"))?
        {
            return Ok(None);
        }
        let done = self.check_and_repair()?;
        meta.remove(meta::FULL_CHECK_PENDING)
            .map_err(StoreError::sled("clearing the pending check marker"))?;
        self.flush()?;
        Ok(Some(done))
    }

    /// The full check with writes held back; if it finds an index or view count wrong, every
    /// index is rebuilt from the primary trees (before a write can use it).
    fn check_and_repair(&self) -> Result<(IntegrityReport, Option<RebuildReport>)> {
        let _alone = self.writes.write().unwrap_or_else(|e| e.into_inner());
        let report = self.check(CheckDepth::Full)?;
        let rebuilt = match report.problems.iter().any(Problem::is_in_an_index) {
            true => Some(self.rebuild_all()?),
            false => None,
        };
        Ok((report, rebuilt))
    }

    /// Closes sled's files and opens them again, which writes sled's recovery snapshot: sled
    /// 0.34 writes one only while opening, and an open replays every write since the last
    /// snapshot, so a daemon that ran for months, or a bulk load, left an open after a crash
    /// seconds of reading (a million orders' load: 3 to 6 s from a cold disk). Reads and
    /// writes wait meanwhile, for about as long as an open after a crash would replay (see
    /// [`Store::reopen_if_due`]); the store's integrity checks do not run again.
    ///
    /// If sled cannot be opened again the store is unusable and every later use panics with
    /// a message saying to restart: nothing is lost (all was flushed), and a restart opens it
    /// as after a crash.
    pub fn reopen(&self) -> Result<Duration> {
        let started = Instant::now();
        let mut sled = self.sled.write();
        if let Some(open) = sled.as_ref() {
            open.db
                .flush()
                .map_err(StoreError::sled("flushing before a reopen"))?;
        }
        // sled lets go of its files (and its lock) once every handle is gone: ours here, and
        // the ones its iterators hold, which only live under one of our guards.
        *sled = None;
        let config = StoreConfig {
            lock_wait: self.config.lock_wait.max(REOPEN_LOCK_WAIT),
            ..self.config.clone()
        };
        let opened = Sled::open(&config).inspect_err(|e| {
            tracing::error!(error = %e, "store: sled could not be opened again after a snapshot");
        })?;
        *sled = Some(opened);
        self.written.store(0, Ordering::Relaxed);
        Ok(started.elapsed())
    }

    /// [`Store::reopen`] once [`StoreConfig::reopen_after_bytes`] were written since sled last
    /// opened; how long it took, if it ran.
    pub fn reopen_if_due(&self) -> Result<Option<Duration>> {
        match self.written_since_open() >= self.config.reopen_after_bytes {
            true => self.reopen().map(Some),
            false => Ok(None),
        }
    }

    /// Bytes of records and entries written since sled last opened (its log holds more).
    pub fn written_since_open(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    fn wrote(&self, bytes: u64) {
        self.written.fetch_add(bytes, Ordering::Relaxed);
    }

    /// How many orders the store holds (the All view's kept count: one read).
    fn order_count(&self) -> Result<usize> {
        self.count_view(
            crate::domain::triage::OrderView::All,
            None,
            chrono::DateTime::UNIX_EPOCH,
            &|_| Default::default(),
        )
    }

    /// One tree, held until the guard drops: an iterator of sled's must not outlive it (it
    /// holds the tree itself, which keeps a reopen waiting on sled's file lock while holding
    /// ours).
    fn tree(&self, id: TreeId) -> Handle<'_, sled::Tree> {
        parking_lot::MappedRwLockReadGuard::map(self.trees(), |trees| &trees[id as usize])
    }

    /// Every tree, in [`TreeId`] order (for a transaction over all of them).
    fn trees(&self) -> Handle<'_, [sled::Tree]> {
        parking_lot::MappedRwLockReadGuard::map(self.sled(), |sled| sled.trees.as_slice())
    }

    fn db(&self) -> Handle<'_, sled::Db> {
        parking_lot::MappedRwLockReadGuard::map(self.sled(), |sled| &sled.db)
    }

    /// The handles, shared. Recursive: a thread holding one handle may take another while
    /// [`Store::reopen`] waits for the lock.
    fn sled(&self) -> Handle<'_, Sled> {
        parking_lot::RwLockReadGuard::map(self.sled.read_recursive(), |sled| match sled {
            Some(sled) => sled,
            None => panic!("{}", self.closed()),
        })
    }

    fn closed(&self) -> StoreError {
        StoreError::Closed {
            data_dir: self.config.path.clone(),
        }
    }

    fn flush(&self) -> Result<()> {
        self.db()
            .flush()
            .map(drop)
            .map_err(StoreError::sled("flushing to disk"))
    }
}

/// Opens sled, retrying a held lock for up to `lock_wait` (backing off from 5 ms).
fn open_db(config: &StoreConfig) -> Result<sled::Db> {
    let deadline = Instant::now() + config.lock_wait;
    let mut pause = Duration::from_millis(5);
    loop {
        let opened = sled::Config::new()
            .path(&config.path)
            .cache_capacity(config.cache_capacity)
            .open()
            .map_err(|source| open_error(&config.path, source));
        match opened {
            Err(StoreError::Locked { .. }) if Instant::now() < deadline => {
                std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// sled reports a held lock as an `Io` error with this text (fs2 `try_lock_exclusive` failing
/// with `WouldBlock`); nothing more structured reaches us.
fn open_error(data_dir: &Path, source: sled::Error) -> StoreError {
    match &source {
        sled::Error::Io(e)
            if e.kind() == std::io::ErrorKind::WouldBlock
                || e.to_string().contains("could not acquire lock") =>
        {
            StoreError::Locked {
                data_dir: data_dir.to_path_buf(),
            }
        }
        _ => StoreError::Open {
            data_dir: data_dir.to_path_buf(),
            source,
        },
    }
}
