//! Webhooks as hints: a verified webhook never carries the truth into orderdeck, it only says
//! "look at this now". The listener files a [`Hint`] and answers at once; a worker per link
//! drains what was filed for it and fetches from the platform, running exactly the decisions a
//! poll would (`ingest_orders`, `ingest_cancellations`, the store poll). Hints for one link
//! coalesce while a fetch runs, so a burst of webhooks about one order costs one read, and a
//! store's burst one poll. Polling stays the backstop: a hint lost in a crash is caught up.
//!
//! Also kept here, for the Stores view and `/metrics`: per link, when the last webhook came and
//! how many were verified or refused.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use futures::future::join_all;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::domain::clock::Timestamp;
use crate::domain::ids::{LinkId, StorefrontOrderId, TiktokOrderId};

use super::activity::Level;
use super::{Engine, LinkRuntime};

/// What a verified webhook asks the engine to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// TikTok says this order changed (status, package): read it again.
    TiktokOrder(TiktokOrderId),
    /// TikTok says a cancellation of this order changed: read its cancellations and the order.
    TiktokCancellation(TiktokOrderId),
    /// The store says this order of its changed: read it now.
    StoreOrder(StorefrontOrderId),
    /// The store says orders changed without saying which: read the store's changed orders now.
    StoreChanged,
}

/// What is waiting to be fetched for one link.
#[derive(Debug, Default)]
struct Pending {
    orders: BTreeSet<TiktokOrderId>,
    cancellations: BTreeSet<TiktokOrderId>,
    store_orders: BTreeSet<StorefrontOrderId>,
    /// The store's changes are to be read (which covers `store_orders`).
    store: bool,
    /// When the oldest hint still waiting arrived (for the webhook → commit latency).
    oldest: Option<Instant>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.cancellations.is_empty()
            && self.store_orders.is_empty()
            && !self.store
    }
}

/// Webhook deliveries of one link, as the Stores view shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookCounts {
    pub last_at: Option<Timestamp>,
    pub verified: u64,
    pub refused: u64,
}

/// The hint queue and the webhook counts, shared by the listener and the engine.
#[derive(Default)]
pub struct Hints {
    pending: Mutex<HashMap<LinkId, Pending>>,
    counts: Mutex<HashMap<LinkId, WebhookCounts>>,
    /// One wake-up per link; created on first use.
    wake: Mutex<HashMap<LinkId, Arc<Notify>>>,
    /// Seconds from a webhook's arrival to the commit of what it caused, newest last (bounded).
    latencies: Mutex<Vec<f64>>,
    /// Per link and stream, when the last hinted read started (see `poll_stream`).
    read_marks: Mutex<HashMap<(LinkId, &'static str), Timestamp>>,
}

/// Most latencies kept for `/metrics` between scrapes.
const LATENCIES_KEPT: usize = 10_000;
/// Most TikTok orders read in one call (Get Order Detail takes up to 50 ids).
const ORDERS_PER_READ: usize = 50;

impl Hints {
    fn waker(&self, link: &LinkId) -> Arc<Notify> {
        let mut wake = self.wake.lock().unwrap_or_else(|e| e.into_inner());
        wake.entry(link.clone()).or_default().clone()
    }

    /// Files a hint for `link` and wakes its worker.
    pub fn file(&self, link: &LinkId, hint: Hint) {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let entry = pending.entry(link.clone()).or_default();
            entry.oldest.get_or_insert_with(Instant::now);
            match hint {
                Hint::TiktokOrder(id) => {
                    entry.orders.insert(id);
                }
                Hint::TiktokCancellation(id) => {
                    entry.cancellations.insert(id);
                }
                Hint::StoreOrder(id) => {
                    entry.store_orders.insert(id);
                }
                Hint::StoreChanged => entry.store = true,
            }
        }
        self.waker(link).notify_one();
    }

    /// Counts a delivery for `link`: verified (and filed) or refused.
    pub fn count(&self, link: &LinkId, now: Timestamp, verified: bool) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let entry = counts.entry(link.clone()).or_default();
        if verified {
            entry.verified += 1;
            entry.last_at = Some(now);
        } else {
            entry.refused += 1;
        }
    }

    pub fn counts(&self, link: &LinkId) -> WebhookCounts {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(link).copied().unwrap_or_default()
    }

    /// The latencies measured since the last call, oldest first.
    pub fn take_latencies(&self) -> Vec<f64> {
        std::mem::take(&mut *self.latencies.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(super) fn read_mark(&self, link: &LinkId, stream: &'static str) -> Option<Timestamp> {
        let marks = self.read_marks.lock().unwrap_or_else(|e| e.into_inner());
        marks.get(&(link.clone(), stream)).copied()
    }

    pub(super) fn set_read_mark(&self, link: &LinkId, stream: &'static str, at: Timestamp) {
        let mut marks = self.read_marks.lock().unwrap_or_else(|e| e.into_inner());
        marks.insert((link.clone(), stream), at);
    }

    fn take(&self, link: &LinkId) -> Pending {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.remove(link).unwrap_or_default()
    }

    fn measured(&self, since: Instant) {
        let mut latencies = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
        if latencies.len() >= LATENCIES_KEPT {
            latencies.drain(..LATENCIES_KEPT / 2);
        }
        latencies.push(since.elapsed().as_secs_f64());
    }
}

impl Engine {
    pub fn hints(&self) -> &Hints {
        &self.hints
    }

    /// How long the link's poll waits after a good poll: its interval, or the slower one
    /// `[webhooks] poll_interval_while_healthy` allows while its webhooks arrive. The poll
    /// stays the backstop: once webhooks fall silent for that long, it speeds up again.
    pub fn poll_wait(&self, link: &LinkRuntime) -> std::time::Duration {
        let Some(slow) = self.options.poll_interval_while_healthy else {
            return link.poll_interval;
        };
        let recent = self.hints.counts(&link.id).last_at.is_some_and(|at| {
            chrono::Duration::from_std(slow).is_ok_and(|slow| self.now() - at < slow)
        });
        if recent {
            slow.max(link.poll_interval)
        } else {
            link.poll_interval
        }
    }

    /// The link's hint worker, until `stop`: waits for hints, then fetches what they name.
    pub(super) async fn follow_hints(&self, link: Arc<LinkRuntime>, stop: CancellationToken) {
        let wake = self.hints.waker(&link.id);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = wake.notified() => {}
            }
            let pending = self.hints.take(&link.id);
            if pending.is_empty() {
                continue;
            }
            self.fetch_hinted(&link, &pending).await;
            if let Some(since) = pending.oldest {
                self.hints.measured(since);
            }
        }
    }

    /// Runs now what hints ask for (tests and `sync_once` call it directly).
    pub async fn follow_hints_now(&self, link: &LinkRuntime) {
        let pending = self.hints.take(&link.id);
        if !pending.is_empty() {
            self.fetch_hinted(link, &pending).await;
        }
    }

    /// Everything a batch of hints names, read at once (the accounts' slots bound the calls in
    /// flight). An order whose cancellation changed is read after its cancellations, as a poll
    /// does, so TikTok showing it cancelled is already explained by the cancellation record.
    async fn fetch_hinted(&self, link: &LinkRuntime, pending: &Pending) {
        let cancellations = join_all(
            pending
                .cancellations
                .iter()
                .map(|order| self.reread_cancellations(link, order)),
        );
        let lone: Vec<TiktokOrderId> = pending
            .orders
            .difference(&pending.cancellations)
            .cloned()
            .collect();
        let orders = join_all(
            lone.chunks(ORDERS_PER_READ)
                .map(|batch| self.reread_orders(link, batch)),
        );
        let store = async {
            if pending.store {
                let read = self.poll_store(link, super::poll::Reach::Hint).await;
                read.map(drop).map_err(|why| format!("store orders: {why}"))
            } else {
                self.reread_store_orders(link, &pending.store_orders).await
            }
        };
        let (cancellations, orders, store) = tokio::join!(cancellations, orders, store);
        let cancelled: Vec<TiktokOrderId> = pending.cancellations.iter().cloned().collect();
        let after = join_all(
            cancelled
                .chunks(ORDERS_PER_READ)
                .map(|batch| self.reread_orders(link, batch)),
        )
        .await;
        let failures = cancellations
            .into_iter()
            .chain(orders)
            .chain(after)
            .chain([store])
            .filter_map(Result::err);
        for why in failures {
            // The poll catches up what a failed fetch missed; nothing is lost.
            self.activity.record(
                self.now(),
                Level::Warn,
                Some(&link.id),
                None,
                format!("a webhook's fetch failed (the next poll catches up): {why}"),
            );
        }
    }

    async fn reread_cancellations(
        &self,
        link: &LinkRuntime,
        order: &TiktokOrderId,
    ) -> Result<(), String> {
        let read = {
            let _slot = link.tiktok_slots.acquire().await;
            link.marketplace.cancellations_of_order(order).await
        };
        let ingested = match read {
            Ok(items) => self
                .ingest_cancellations(link, items)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        ingested.map_err(|why| format!("cancellations of order {order}: {why}"))
    }

    /// Reads each named store order (the store's slots bound the calls in flight) and runs on
    /// them what the store poll runs on its changes. An order that cannot be read now is left
    /// to the next poll; the others go on.
    async fn reread_store_orders(
        &self,
        link: &LinkRuntime,
        ids: &BTreeSet<StorefrontOrderId>,
    ) -> Result<(), String> {
        if ids.is_empty() {
            return Ok(());
        }
        let reads = join_all(ids.iter().map(|id| async move {
            let _slot = link.storefront_slots.acquire().await;
            link.storefront
                .get_change(id)
                .await
                .map_err(|why| format!("store order {id}: {why}"))
        }))
        .await;
        let (mut changes, mut failures) = (Vec::new(), Vec::new());
        for read in reads {
            match read {
                Ok(change) => changes.push(change),
                Err(why) => failures.push(why),
            }
        }
        if let Err(why) = self.ingest_store_changes(link, changes).await {
            failures.push(format!("store orders: {why}"));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }

    async fn reread_orders(&self, link: &LinkRuntime, ids: &[TiktokOrderId]) -> Result<(), String> {
        self.reread_orders_page(link, ids)
            .await
            .map_err(|why| format!("TikTok orders: {why}"))
    }

    async fn reread_orders_page(
        &self,
        link: &LinkRuntime,
        ids: &[TiktokOrderId],
    ) -> Result<(), super::poll::PollError> {
        let page = {
            let _slot = link.tiktok_slots.acquire().await;
            link.marketplace.order_details(ids).await?
        };
        self.ingest_orders(link, page.items).await?;
        self.hold_unreadable_orders(link, page.unreadable).await?;
        Ok(())
    }
}
