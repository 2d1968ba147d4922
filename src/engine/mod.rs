//! The sync engine: pollers turn platform changes into jobs (through the domain's [`crate::domain::reactor`]), and the
//! job runner executes them after the commit that created them, retrying with backoff.
//!
//! Invariants:
//! - every state change and the jobs it causes are written in one store transaction
//!   ([`crate::store::Change`]); HTTP calls happen after the commit, never inside it;
//! - every read-modify-write of an order holds that order's lock ([`locks`]);
//! - a job is claimed by one runner only, though two may run at once (the daemon's loop and
//!   a `sync_once` someone asked for);
//! - a job that may have written remotely (`maybe_applied`) reads the remote state back before
//!   it writes again: one TikTok order never makes two store orders.

pub mod activity;
pub mod command;
mod execute;
mod hints;
mod labels;
pub mod locks;
mod metrics;
pub mod notification;
mod operations;
mod outcome;
mod poll;
mod providers;
mod resume;
mod runner;
mod store_units;
mod tokens;
mod tracking;
pub mod wiring;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, broadcast};

pub use activity::{Activity, EngineEvent};
pub use command::{Command, Outcome};
pub use hints::{Hint, Hints, WebhookCounts};
pub use notification::{Notification, Topic};
pub use operations::{OperationError, SyncSummary};
pub use poll::PollSummary;
pub use resume::Waiting;
pub use runner::RunReport;

use crate::domain::clock::{Clock, Timestamp};
use crate::domain::ids::{LinkId, ShopId, StorefrontId};
use crate::domain::job::Backoff;
use crate::domain::platform::Platform;
use crate::domain::settings::LinkSettings;
use crate::platforms::{Marketplace, Storefront, Tokens};
use crate::store::{SettingsRecord, Store};

/// One link as the engine runs it: its two platform clients and limits.
pub struct LinkRuntime {
    pub id: LinkId,
    pub shop: ShopId,
    pub storefront_name: StorefrontId,
    pub platform: Platform,
    pub region: String,
    pub poll_interval: Duration,
    pub marketplace: Arc<dyn Marketplace>,
    pub storefront: Arc<dyn Storefront>,
    /// Calls in flight to the TikTok shop account / the store account.
    pub tiktok_slots: Arc<Semaphore>,
    pub storefront_slots: Arc<Semaphore>,
    /// The most jobs of this link the runner has in flight at once (the accounts' limit).
    pub max_in_flight: usize,
    /// The settings to write when the store has none yet (from `orderdeck.toml`).
    pub initial_settings: LinkSettings,
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub backoff: Backoff,
    /// How far back the first poll of a link reads.
    pub initial_lookback: Duration,
    /// Polls re-read this much before the last watermark (TikTok results can lag the window).
    pub overlap: Duration,
    /// Where label PDFs are saved.
    pub label_dir: PathBuf,
    /// Where refreshed TikTok tokens are kept (private files in the data dir).
    pub token_dir: PathBuf,
    /// `lp -d labels {file}`-style command, run for `--print`.
    pub print_command: Option<String>,
    /// Jobs claimed per runner pass.
    pub batch: usize,
    /// A link whose last verified webhook is more recent than this is polled this often
    /// instead (never more often than its own interval); `None`: webhooks never slow a poll.
    pub poll_interval_while_healthy: Option<Duration>,
}

impl EngineOptions {
    pub fn in_data_dir(data_dir: &std::path::Path) -> Self {
        EngineOptions {
            backoff: Backoff::default(),
            initial_lookback: Duration::from_secs(14 * 86_400),
            overlap: Duration::from_secs(5 * 60),
            label_dir: data_dir.join("labels"),
            token_dir: data_dir.join("tokens"),
            print_command: None,
            batch: 64,
            poll_interval_while_healthy: None,
        }
    }

    /// The options `orderdeck.toml` asks for: data dir, print command and retry waits.
    pub fn from_config(config: &crate::config::Config) -> Self {
        let mut options = EngineOptions::in_data_dir(&config.paths.data_dir);
        options.print_command = config.paths.label_print_command.clone();
        options.poll_interval_while_healthy = config.webhooks.poll_interval_while_healthy;
        options.backoff = Backoff {
            base: config.engine.retry_initial,
            cap: config.engine.retry_max,
            ..Backoff::default()
        };
        options
    }
}

pub struct Engine {
    pub(crate) store: Arc<Store>,
    pub(crate) clock: Arc<dyn Clock>,
    links: Vec<Arc<LinkRuntime>>,
    pub(crate) options: EngineOptions,
    pub(crate) locks: locks::OrderLocks,
    pub(crate) activity: Activity,
    /// Woken whenever jobs are written, so the runner does not wait for its next tick.
    pub(crate) jobs_written: Notify,
    /// Held from reading due jobs to marking them running: the daemon's runner and a
    /// `sync_once` asked for meanwhile run side by side, and must never claim the same job.
    pub(crate) claiming: tokio::sync::Mutex<()>,
    /// Held while a job's result is merged into its resync request, until committed: the jobs
    /// of one request finish under different order locks, yet each reads, changes and writes
    /// the same request record. Taken after the order lock, never before.
    pub(crate) request_outcomes: tokio::sync::Mutex<()>,
    /// Serializes approvals and rejections of resync requests (see `command::decide`).
    pub(crate) decisions: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    notifications: broadcast::Sender<Notification>,
    /// The tokens last written to `token_dir`, per shop (`None`: no file yet).
    saved_tokens: std::sync::Mutex<HashMap<ShopId, Option<Tokens>>>,
    providers: providers::ProviderCache,
    /// When each waiting cause is next re-checked (see `resume.rs`).
    causes: resume::CauseSchedule,
    /// What webhooks asked to look at, and their counts per link (see `hints.rs`).
    hints: Hints,
    metrics: metrics::EngineMetrics,
}

impl Engine {
    pub fn new(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        links: Vec<LinkRuntime>,
        options: EngineOptions,
    ) -> Arc<Engine> {
        let (notifications, _) = broadcast::channel(1024);
        Arc::new(Engine {
            store,
            clock,
            links: links.into_iter().map(Arc::new).collect(),
            options,
            locks: locks::OrderLocks::default(),
            activity: Activity::default(),
            jobs_written: Notify::new(),
            claiming: tokio::sync::Mutex::new(()),
            request_outcomes: tokio::sync::Mutex::new(()),
            decisions: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(1),
            notifications,
            saved_tokens: std::sync::Mutex::new(HashMap::new()),
            providers: providers::ProviderCache::default(),
            causes: resume::CauseSchedule::default(),
            hints: Hints::default(),
            metrics: metrics::EngineMetrics::default(),
        })
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn links(&self) -> &[Arc<LinkRuntime>] {
        &self.links
    }

    pub fn link(&self, id: &LinkId) -> Option<&Arc<LinkRuntime>> {
        self.links.iter().find(|l| &l.id == id)
    }

    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    /// The link's current settings: stored ones, else the config's initial settings.
    pub fn settings(&self, link: &LinkId) -> LinkSettings {
        self.settings_record(link).settings
    }

    pub fn settings_record(&self, link: &LinkId) -> SettingsRecord {
        match self.store.settings(link) {
            Ok(Some(record)) => record,
            Ok(None) | Err(_) => {
                let mut record = SettingsRecord::defaults(link.clone());
                if let Some(l) = self.link(link) {
                    record.settings = l.initial_settings.clone();
                }
                record
            }
        }
    }

    /// A lookup for store reads that need every link's settings.
    pub fn settings_lookup(&self) -> impl Fn(&LinkId) -> LinkSettings + '_ {
        let cache: HashMap<LinkId, LinkSettings> = self
            .links
            .iter()
            .map(|l| (l.id.clone(), self.settings(&l.id)))
            .collect();
        move |link: &LinkId| cache.get(link).cloned().unwrap_or_default()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.notifications.subscribe()
    }

    /// Adds the engine's counters to a `/metrics` scrape.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.metrics.register(registry);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Tells subscribers something changed (they re-ask for what they show).
    fn notify(&self, make: impl FnOnce(u64) -> Notification) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        // No subscribers is fine: nobody is looking.
        let _ = self.notifications.send(make(generation));
    }
}
