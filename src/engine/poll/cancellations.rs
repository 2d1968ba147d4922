//! The TikTok cancellations stream: records by update-time window, each applied once to its
//! order (the store side follows a TikTok cancel; a buyer's request waits for the seller), and
//! an order TikTok shows cancelled that no record explains yet.

use std::collections::HashSet;

use crate::domain::cancellation::{Cancellation, CancellationKey, Direction};
use crate::domain::clock::Timestamp;
use crate::domain::ids::TiktokOrderId;
use crate::domain::job::JobKind;
use crate::domain::order::{Flow, FlowState, Order};
use crate::domain::reactor::{self, cancellation_from_order};
use crate::platforms::RemoteCancellation;
use crate::store::{Change, StoreError};

use super::super::activity::Level;
use super::super::{Engine, LinkRuntime};
use super::{PollError, TIKTOK_CANCELLATIONS};

impl Engine {
    /// TikTok shows the order cancelled: make sure the store side follows, even when no
    /// cancellation record explains it (auto-cancels).
    pub(super) fn cancellation_seen_on_order(
        &self,
        link: &LinkRuntime,
        order: &mut Order,
        settings: &crate::domain::settings::LinkSettings,
        change: &mut Change,
    ) -> Result<(), StoreError> {
        let known = self.store.cancellations_of(&order.id)?;
        let covered = known.iter().any(|c| {
            c.direction == Direction::TiktokToStore
                && c.tiktok_status.as_ref().is_some_and(|s| s.is_effective())
        }) || change.cancellations.iter().any(|c| c.order_id == order.id);
        if covered {
            return Ok(());
        }
        let mut c = cancellation_from_order(order, settings.restock_on_cancel, self.now());
        let job = self.react_to_tiktok_cancel(link, &mut c, order, settings, change, self.now())?;
        self.queue(change, order, job.into_iter().collect(), None)?;
        change.cancellations.push(c);
        Ok(())
    }

    /// TikTok showed the order cancelled before this record of the cancel arrived, and
    /// orderdeck is already applying it as a cancel of the order: the record only explains
    /// that same cancellation (who, why), so it is folded into it, one row per cancellation.
    fn explained_by_record(
        &self,
        rc: &RemoteCancellation,
        key: &CancellationKey,
        change: &Change,
    ) -> Result<Option<Cancellation>, StoreError> {
        if !rc.status.is_effective() || self.store.cancellation(key)?.is_some() {
            return Ok(None);
        }
        let order_key = CancellationKey::TiktokOrder(rc.order_id.clone());
        let pending = change
            .cancellations
            .iter()
            .rev()
            .find(|c| c.key == order_key);
        let Some(mut explained) = pending
            .cloned()
            .map_or_else(|| self.store.cancellation(&order_key), |c| Ok(Some(c)))?
        else {
            return Ok(None);
        };
        explained.initiator = rc.role.clone();
        explained.cancel_type = rc.cancel_type.clone();
        explained.reason_code = rc.reason_code.clone().or(explained.reason_code);
        explained.reason_text = rc.reason_text.clone().or(explained.reason_text);
        explained.tiktok_status = Some(rc.status.clone());
        explained.updated_at = self.now();
        Ok(Some(explained))
    }

    /// The store side of a TikTok cancellation (`reactor::react_tiktok_cancellation`), told
    /// whether a store cancel of the order is already queued, in the store or in `change`.
    pub(crate) fn react_to_tiktok_cancel(
        &self,
        link: &LinkRuntime,
        c: &mut Cancellation,
        order: &mut Order,
        settings: &crate::domain::settings::LinkSettings,
        change: &Change,
        now: Timestamp,
    ) -> Result<Option<JobKind>, StoreError> {
        let live = self.has_live_store_cancel(order, change)?;
        Ok(reactor::react_tiktok_cancellation(
            c,
            order,
            settings,
            link.platform,
            live,
            now,
        ))
    }

    fn has_live_store_cancel(&self, order: &Order, change: &Change) -> Result<bool, StoreError> {
        let is_store_cancel = |k: &JobKind| matches!(k, JobKind::CancelInStore { .. });
        Ok(self
            .store
            .live_jobs_of(&order.id)?
            .iter()
            .any(|j| is_store_cancel(&j.kind))
            || change
                .jobs
                .iter()
                .any(|j| j.order == order.id && j.is_live() && is_store_cancel(&j.kind)))
    }

    pub(super) async fn poll_tiktok_cancellations(
        &self,
        link: &LinkRuntime,
    ) -> Result<usize, PollError> {
        self.poll_stream(
            link,
            TIKTOK_CANCELLATIONS,
            super::Reach::Poll,
            |window, token| {
                Box::pin(async move {
                    let _slot = link.tiktok_slots.acquire().await;
                    link.marketplace.search_cancellations(window, token).await
                })
            },
            |items, _| Box::pin(self.ingest_cancellations(link, items)),
        )
        .await
    }

    /// Cancellations of orders orderdeck has not seen yet fetch those orders first.
    pub(crate) async fn ingest_cancellations(
        &self,
        link: &LinkRuntime,
        items: Vec<RemoteCancellation>,
    ) -> Result<(), PollError> {
        let mut unknown: Vec<TiktokOrderId> = Vec::new();
        for rc in &items {
            if self.store.order(&rc.order_id)?.is_none() && !unknown.contains(&rc.order_id) {
                unknown.push(rc.order_id.clone());
            }
        }
        for batch in unknown.chunks(50) {
            let details = {
                let _slot = link.tiktok_slots.acquire().await;
                link.marketplace.order_details(batch).await?
            };
            self.ingest_orders(link, details.items).await?;
            self.hold_unreadable_orders(link, details.unreadable)
                .await?;
        }
        let ids: Vec<TiktokOrderId> = items
            .iter()
            .map(|c| c.order_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let _guard = self.locks.lock_many(&ids).await;
        let settings = self.settings(&link.id);
        let now = self.now();
        let mut change = Change::default();
        let mut orders: Vec<Order> = Vec::new();
        for rc in items {
            let position = match orders.iter().position(|o| o.id == rc.order_id) {
                Some(p) => p,
                None => match self.store.order(&rc.order_id)? {
                    Some(o) if o.link == link.id => {
                        orders.push(o);
                        orders.len() - 1
                    }
                    // Another link's order, or one TikTok did not send when asked: say so
                    // rather than let the cancellation vanish.
                    other => {
                        let whose = other.map_or("TikTok sent no details of it".to_string(), |o| {
                            format!("the order belongs to link {}", o.link)
                        });
                        self.activity.record(
                            now,
                            Level::Warn,
                            Some(&link.id),
                            Some(&rc.order_id),
                            format!("cancellation {} not applied here: {whose}", rc.cancel_id),
                        );
                        continue;
                    }
                },
            };
            let order = &mut orders[position];
            let key = CancellationKey::Tiktok(rc.cancel_id.clone());
            if let Some(explained) = self.explained_by_record(&rc, &key, &change)? {
                change.cancellations.push(explained);
                continue;
            }
            let mut c = match self.store.cancellation(&key)? {
                Some(c) => c,
                None => {
                    order.note(
                        now,
                        Some(Flow::Cancellation),
                        format!(
                            "{} asked to cancel ({}){}",
                            rc.role,
                            rc.cancel_type,
                            deadline_text(rc.seller_deadline)
                        ),
                    );
                    new_cancellation(&rc, link, settings.restock_on_cancel, now)
                }
            };
            if c.tiktok_status.as_ref() != Some(&rc.status) {
                if c.tiktok_status.is_some() {
                    order.note(
                        now,
                        Some(Flow::Cancellation),
                        format!("TikTok cancellation {} is now {}", rc.cancel_id, rc.status),
                    );
                }
                c.tiktok_status = Some(rc.status.clone());
                c.updated_at = now;
            }
            c.seller_deadline = rc.seller_deadline;
            c.reason_code = rc.reason_code.clone().or(c.reason_code);
            c.reason_text = rc.reason_text.clone().or(c.reason_text);
            let job = self.react_to_tiktok_cancel(link, &mut c, order, &settings, &change, now)?;
            self.queue(&mut change, order, job.into_iter().collect(), None)?;
            change.cancellations.push(c);
        }
        change.orders = orders;
        self.commit(change).await?;
        Ok(())
    }
}

fn new_cancellation(
    rc: &RemoteCancellation,
    link: &LinkRuntime,
    restock: bool,
    now: Timestamp,
) -> Cancellation {
    Cancellation {
        key: CancellationKey::Tiktok(rc.cancel_id.clone()),
        order_id: rc.order_id.clone(),
        link: link.id.clone(),
        direction: Direction::TiktokToStore,
        initiator: rc.role.clone(),
        cancel_type: rc.cancel_type.clone(),
        reason_code: rc.reason_code.clone(),
        reason_text: rc.reason_text.clone(),
        tiktok_status: Some(rc.status.clone()),
        seller_deadline: rc.seller_deadline,
        line_item_ids: rc.line_item_ids.clone(),
        units: Vec::new(),
        restock,
        response: None,
        sync: FlowState::default(),
        created_at: rc.created_at.min(now),
        updated_at: now,
    }
}

fn deadline_text(deadline: Option<Timestamp>) -> String {
    deadline
        .map(|d| format!(", seller must answer by {}", d.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default()
}
