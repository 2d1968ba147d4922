//! Pollers: per link, TikTok orders and TikTok cancellations by update-time window, and the
//! store's changed orders. Each window starts `overlap` before the stored watermark (TikTok can
//! return updates just outside the asked window) and results are deduplicated by update time.
//! The watermark only moves after every page of a window was written, so a failed poll is
//! retried from the same place: a window is never skipped.

use futures::future::BoxFuture;

use crate::domain::clock::Timestamp;
use crate::domain::ids::TiktokOrderId;
use crate::domain::order::{Flow, FlowStatus, Order, TiktokSnapshot};
use crate::platforms::{Page, PlatformError, RemoteOrder, StorefrontChange, Unreadable, Window};
use crate::store::{Change, LinkRecord, StoreError, Watermark};

use super::activity::Level;
use super::{Engine, LinkRuntime};
use crate::domain::reactor::{self, merge_snapshot, merge_store};

pub const TIKTOK_ORDERS: &str = "tiktok_orders";
pub const TIKTOK_CANCELLATIONS: &str = "tiktok_cancellations";
pub const STORE_ORDERS: &str = "store_orders";

/// Hinted reads re-read this much before the previous one: a platform's search can lag its
/// writes by a moment. Kept short because under a stream of webhooks every hinted read pays
/// for its overlap again (at 100 webhooks/s, 30 s meant ~8 pages of 100 per read); a change
/// that shows later than this is caught by the next poll, which keeps its own watermark.
const HINT_OVERLAP: chrono::Duration = chrono::Duration::seconds(5);

/// Who asked for a read: the link's poll, or a webhook (see `poll_stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    Poll,
    Hint,
}

/// What one poll of one link saw.
#[derive(Debug, Default, Clone)]
pub struct PollSummary {
    pub orders: usize,
    pub cancellations: usize,
    pub store_changes: usize,
    pub errors: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PollError {
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Engine {
    /// Polls the three streams of one link; a failure of one does not stop the others. The
    /// link's health (last poll, last error, token expiry) is recorded either way.
    ///
    /// Cancellations go first: an order TikTok shows cancelled is then already explained by
    /// its cancellation record, so it is applied as that one cancellation, not also as an
    /// unexplained cancel of the order (one row per cancellation).
    pub async fn poll_link(&self, link: &LinkRuntime) -> PollSummary {
        let mut summary = PollSummary::default();
        self.refresh_tokens_if_due(link).await;
        match self.poll_tiktok_cancellations(link).await {
            Ok(n) => summary.cancellations = n,
            Err(e) => summary.errors.push(format!("TikTok cancellations: {e}")),
        }
        match self.poll_tiktok_orders(link).await {
            Ok(n) => summary.orders = n,
            Err(e) => summary.errors.push(format!("TikTok orders: {e}")),
        }
        let tiktok = summary.errors.is_empty();
        let store = match self.poll_store(link, Reach::Poll).await {
            Ok(n) => {
                summary.store_changes = n;
                true
            }
            Err(e) => {
                summary.errors.push(format!("store orders: {e}"));
                false
            }
        };
        self.save_tokens_if_changed(link);
        self.record_health(link, &summary).await;
        self.recheck_causes(link, super::resume::PollNews { tiktok, store })
            .await;
        summary
    }

    async fn record_health(&self, link: &LinkRuntime, summary: &PollSummary) {
        let now = self.now();
        let previous = self.store.link(&link.id).ok().flatten();
        let tokens = link.marketplace.tokens();
        let last_error = summary
            .errors
            .first()
            .map(|message| crate::domain::order::FlowError {
                at: now,
                message: message.clone(),
                code: None,
                request_id: None,
            });
        for error in &summary.errors {
            self.activity.record(
                now,
                Level::Error,
                Some(&link.id),
                None,
                format!("poll failed: {error}"),
            );
        }
        let record = LinkRecord {
            link: link.id.clone(),
            shop: link.shop.clone(),
            store: link.storefront_name.clone(),
            platform: link.platform,
            last_poll: if summary.errors.is_empty() {
                Some(now)
            } else {
                previous.as_ref().and_then(|p| p.last_poll)
            },
            last_error,
            token_expires_at: tokens.access_expires_at,
            authorization_expires_at: tokens.refresh_expires_at,
            updated_at: now,
        };
        let change = Change {
            links: vec![record],
            ..Change::default()
        };
        if let Err(e) = self.commit(change).await {
            self.activity.record(
                now,
                Level::Error,
                Some(&link.id),
                None,
                format!("could not record the link's health: {e}"),
            );
        }
    }

    fn window(&self, link: &LinkRuntime, stream: &str) -> Result<(Window, Timestamp), StoreError> {
        let now = self.now();
        let overlap = chrono::Duration::from_std(self.options.overlap).unwrap_or_default();
        let from = match self.store.watermark(&link.id, stream)? {
            Some(mark) => mark.at - overlap,
            None => {
                now - chrono::Duration::from_std(self.options.initial_lookback).unwrap_or_default()
            }
        };
        Ok((
            Window {
                from,
                to: now + chrono::Duration::seconds(1),
            },
            now,
        ))
    }

    async fn advance(
        &self,
        link: &LinkRuntime,
        stream: &str,
        to: Timestamp,
    ) -> Result<(), StoreError> {
        let mark = Watermark {
            at: to,
            cursor: None,
        };
        self.commit(Change {
            watermarks: vec![(link.id.clone(), stream.to_string(), mark)],
            ..Change::default()
        })
        .await
    }

    async fn poll_tiktok_orders(&self, link: &LinkRuntime) -> Result<usize, PollError> {
        self.poll_stream(
            link,
            TIKTOK_ORDERS,
            Reach::Poll,
            |window, token| {
                Box::pin(async move {
                    let _slot = link.tiktok_slots.acquire().await;
                    link.marketplace.search_orders(window, token).await
                })
            },
            |items, unreadable| {
                Box::pin(async move {
                    self.ingest_orders(link, items).await?;
                    Ok(self.hold_unreadable_orders(link, unreadable).await?)
                })
            },
        )
        .await
    }

    /// Pages through one stream's window, writing each page before asking for the next, then
    /// moves the stream's watermark. Items the platform sent but orderdeck cannot read are
    /// reported in Activity and handed to `ingest` with the page; they never fail the page.
    ///
    /// A read a webhook asked for (`Reach::Hint`) starts a little before the previous such read
    /// instead, and leaves the stored watermark alone: the polls stay a complete backstop
    /// however many hinted reads ran between them.
    async fn poll_stream<'a, T>(
        &self,
        link: &LinkRuntime,
        stream: &'static str,
        reach: Reach,
        fetch: impl Fn(Window, Option<String>) -> BoxFuture<'a, Result<Page<T>, PlatformError>>,
        ingest: impl Fn(Vec<T>, Vec<Unreadable>) -> BoxFuture<'a, Result<(), PollError>>,
    ) -> Result<usize, PollError> {
        let (mut window, started) = self.window(link, stream)?;
        if reach == Reach::Hint
            && let Some(previous) = self.hints.read_mark(&link.id, stream)
        {
            window.from = window.from.max(previous - HINT_OVERLAP);
        }
        let mut token = None;
        let mut seen = 0;
        loop {
            let page = fetch(window, token.take()).await?;
            for why in &page.unreadable {
                self.activity.record(
                    self.now(),
                    Level::Warn,
                    Some(&link.id),
                    None,
                    format!("{stream}: the platform sent a record orderdeck cannot read: {why}"),
                );
            }
            seen += page.items.len();
            ingest(page.items, page.unreadable).await?;
            match page.next_page_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
        match reach {
            Reach::Poll => self.advance(link, stream, started).await?,
            Reach::Hint => self.hints.set_read_mark(&link.id, stream, started),
        }
        Ok(seen)
    }

    /// Writes a page of TikTok orders and the jobs they cause, in one transaction.
    pub(crate) async fn ingest_orders(
        &self,
        link: &LinkRuntime,
        orders: Vec<RemoteOrder>,
    ) -> Result<(), StoreError> {
        if orders.is_empty() {
            return Ok(());
        }
        let ids: Vec<TiktokOrderId> = orders.iter().map(|o| o.id.clone()).collect();
        let _guard = self.locks.lock_many(&ids).await;
        let settings = self.settings(&link.id);
        let now = self.now();
        let mut change = Change::default();
        for remote in orders {
            let mut order = match self.store.order(&remote.id)? {
                Some(existing) if existing.link != link.id => {
                    self.activity.record(
                        now,
                        Level::Warn,
                        Some(&link.id),
                        Some(&remote.id),
                        format!("order belongs to link {}; ignored here", existing.link),
                    );
                    continue;
                }
                Some(mut existing) => {
                    if !merge_snapshot(&mut existing, remote.snapshot, now) {
                        continue;
                    }
                    existing
                }
                None => {
                    let status = remote.snapshot.status.clone();
                    let mut order =
                        Order::new(remote.id.clone(), link.id.clone(), remote.snapshot, now);
                    order.note(now, None, format!("first seen on TikTok ({status})"));
                    order
                }
            };
            let jobs = self.react(&mut order, &settings, &mut change)?;
            self.queue(&mut change, &order, jobs, None)?;
            if reactor::tiktok_cancelled(&order) {
                self.cancellation_seen_on_order(link, &mut order, &settings, &mut change)?;
            }
            change.payloads.push((order.id.clone(), remote.raw));
            change.orders.push(order);
        }
        self.commit(change).await
    }

    /// Orders TikTok sent in a form that cannot be read are held, stuck with why, never
    /// dropped: a new one is recorded with nothing but its id, a known one keeps its last
    /// readable version (see `reactor::hold_unreadable`).
    pub(crate) async fn hold_unreadable_orders(
        &self,
        link: &LinkRuntime,
        unreadable: Vec<Unreadable>,
    ) -> Result<(), StoreError> {
        let held: Vec<(TiktokOrderId, String)> = unreadable
            .into_iter()
            .filter_map(|u| Some((u.order?, u.why)))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        let ids: Vec<TiktokOrderId> = held.iter().map(|(id, _)| id.clone()).collect();
        let _guard = self.locks.lock_many(&ids).await;
        let now = self.now();
        let mut change = Change::default();
        for (id, why) in held {
            let mut order = match self.store.order(&id)? {
                Some(existing) if existing.link != link.id => {
                    self.activity.record(
                        now,
                        Level::Warn,
                        Some(&link.id),
                        Some(&id),
                        format!(
                            "order belongs to link {}; ignored here: {why}",
                            existing.link
                        ),
                    );
                    continue;
                }
                Some(existing) => existing,
                None => Order::new(id, link.id.clone(), TiktokSnapshot::unknown(now), now),
            };
            if reactor::hold_unreadable(&mut order, &why, now) {
                change.orders.push(order);
            }
        }
        self.commit(change).await
    }

    pub(crate) async fn poll_store(
        &self,
        link: &LinkRuntime,
        reach: Reach,
    ) -> Result<usize, PollError> {
        self.poll_stream(
            link,
            STORE_ORDERS,
            reach,
            |window, cursor| {
                Box::pin(async move {
                    let _slot = link.storefront_slots.acquire().await;
                    link.storefront.changed_orders(window.from, cursor).await
                })
            },
            |items, _| Box::pin(async move { Ok(self.ingest_store_changes(link, items).await?) }),
        )
        .await
    }

    /// Runs on store orders read from the store (a page of its changes, or the orders a
    /// webhook named) the decisions a poll makes: merge, react, queue the jobs.
    pub(super) async fn ingest_store_changes(
        &self,
        link: &LinkRuntime,
        items: Vec<StorefrontChange>,
    ) -> Result<(), StoreError> {
        let ids: Vec<TiktokOrderId> = items
            .iter()
            .filter_map(|c| c.tiktok_order_id.clone())
            .collect();
        let _guard = self.locks.lock_many(&ids).await;
        let settings = self.settings(&link.id);
        let now = self.now();
        let mut change = Change::default();
        for item in items {
            let Some(id) = item.tiktok_order_id else {
                continue;
            };
            let Some(mut order) = self.store.order(&id)? else {
                continue;
            };
            if order.link != link.id {
                continue;
            }
            let first_sight = order.store.is_none();
            let events = merge_store(&mut order, item.store, now);
            if order.store.is_some() && !order.flows.import.is_done() {
                // Created by an earlier attempt whose answer was lost: it is in the store now.
                reactor::set_flow(&mut order, Flow::Import, FlowStatus::Done { at: now }, now);
            }
            if first_sight && order.store.is_some() {
                // A TikTok cancel waiting for this store order need not wait for the create
                // job (which may be stuck after losing its answers): cancel it now.
                self.react_pending_cancellations(link, &mut order, &settings, &mut change)?;
            }
            let jobs = self.react(&mut order, &settings, &mut change)?;
            self.queue(&mut change, &order, jobs, None)?;
            self.react_store_events(link, &mut order, events, &settings, &mut change)?;
            change.orders.push(order);
        }
        self.commit(change).await
    }
}

mod cancellations;
