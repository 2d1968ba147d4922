//! Job executors: each reads what it needs, makes the platform calls (no lock held), and returns
//! a [`JobEffect`] or a [`Failure`]; `outcome::finish` then applies it under the order's lock.
//! Creates and cancels whose earlier attempt may have been applied (`maybe_applied`) read the
//! remote state back first, so a retry never doubles a write.

use std::collections::HashMap;

use crate::domain::cancellation::{CancelStatus, CancellationKey, SellerResponse};
use crate::domain::ids::{CancelId, TiktokOrderId};
use crate::domain::job::{Job, JobKind};
use crate::domain::order::{Flow, FlowStatus, Order, OrderStatus, StorefrontOrderStatus};
use crate::domain::outcome::JobEffect;
use crate::domain::platform::StorefrontCancelTrigger;
use crate::domain::reactor::store_label;
use crate::domain::rules::address::{changed_fields, ship_to};
use crate::domain::rules::cancel::{
    StorefrontCancelDecision, StorefrontCancelled, StorefrontEvent, TiktokCancelDecision,
    decide_store_to_tiktok, decide_tiktok_to_store,
};
use crate::domain::rules::import::{ImportDecision, decide_import, draft_store_order};
use crate::domain::rules::label::{LabelDecision, decide_label};
use crate::domain::rules::line_cancel::PartialCancel;
use crate::domain::text::sanitize;
use crate::platforms::tiktok::classify::codes;
use crate::platforms::{ErrorClass, PlatformError};
use crate::store::StoreError;

use super::{Engine, LinkRuntime};

#[derive(Debug)]
pub(crate) enum Failure {
    Platform(PlatformError),
    /// A person must act; the reason says what.
    Stuck(String),
    /// Stuck until its cause is gone (which may need no person: see `resume.rs`).
    Blocked(crate::domain::cause::Blocked),
    Store(StoreError),
}

impl From<PlatformError> for Failure {
    fn from(e: PlatformError) -> Self {
        Failure::Platform(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

pub(crate) type JobResult = Result<JobEffect, Failure>;

/// The job found nothing to do now: the flow settles in `status`.
pub(super) fn settled(status: FlowStatus) -> JobResult {
    Ok(JobEffect::Settled { status })
}

/// Whether TikTok refused with `code` (one of `classify::codes`): "already shipped", "already
/// cancelled" and "already handled" mean the write may be in place already, and TikTok's state
/// says whether it is (25001051, "completed", is a refusal: a completed order cannot be cancelled).
pub(super) fn refused_with(error: &PlatformError, code: i64) -> bool {
    error.code.as_deref() == Some(code.to_string().as_str())
}

/// The order as the rules see it when deciding for the job that is running: the job itself is
/// what the flow's `Queued` refers to, so the rules must not answer "already queued".
pub(super) fn as_if_idle(order: &Order, flow: Flow) -> Order {
    let mut order = order.clone();
    let state = order.flows.get_mut(flow);
    if matches!(state.status, FlowStatus::Queued | FlowStatus::Stuck { .. }) {
        state.status = FlowStatus::Idle;
    }
    order
}

/// TikTok's order as it is now (a read-back); `None` when TikTok sent it unreadable or not at all.
pub(super) async fn on_tiktok(
    link: &LinkRuntime,
    id: &TiktokOrderId,
) -> Result<Option<crate::domain::order::TiktokSnapshot>, PlatformError> {
    let page = link
        .marketplace
        .order_details(std::slice::from_ref(id))
        .await?;
    Ok(page.items.into_iter().next().map(|o| o.snapshot))
}

impl Engine {
    /// Runs `job`; answers with the order as the run read it, by which `finish` knows whether
    /// anything changed the order meanwhile.
    pub(crate) async fn execute_job(
        &self,
        link: &LinkRuntime,
        job: &Job,
    ) -> (JobResult, Option<Order>) {
        let order = match self.store.order(&job.order) {
            Ok(Some(order)) => order,
            Ok(None) => {
                let missing = format!("order {} is not in orderdeck's store", job.order);
                return (Err(Failure::Stuck(missing)), None);
            }
            Err(e) => return (Err(e.into()), None),
        };
        let result = self.run_job(link, job, &order).await;
        (result, Some(order))
    }

    async fn run_job(&self, link: &LinkRuntime, job: &Job, order: &Order) -> JobResult {
        match &job.kind {
            JobKind::Import => self.run_import(link, job, order).await,
            JobKind::PushTracking => self.run_tracking(link, job, order).await,
            JobKind::CancelInStore { cancellation } => {
                self.run_store_cancel(link, job, order, cancellation).await
            }
            JobKind::CancelOnTiktok { cancellation } => {
                self.run_tiktok_cancel(link, job, order, cancellation).await
            }
            JobKind::RespondBuyerCancel {
                cancel_id,
                response,
            } => self.run_response(link, job, cancel_id, response).await,
            JobKind::FetchLabel => self
                .run_label(link, order, job.request.is_some())
                .await
                .map(|path| JobEffect::LabelSaved { path }),
            JobKind::UpdateAddress => self.run_address(link, job, order).await,
        }
    }

    async fn run_import(&self, link: &LinkRuntime, job: &Job, order: &Order) -> JobResult {
        if let Some(store) = &order.store {
            return Ok(JobEffect::InStore {
                store: store.clone(),
                found_existing: true,
            });
        }
        // Always read back before creating: an earlier attempt, a crash, a resync or a store
        // restored from backup may already have made the store order, and no store offers an
        // idempotent create. One TikTok order → at most one store order.
        {
            let _slot = link.storefront_slots.acquire().await;
            if let Some(at) = job.last_attempt_at {
                link.storefront.recall_create_attempt(&order.id, at);
            }
            if let Some(store) = link.storefront.find_order(&order.id).await? {
                return Ok(JobEffect::InStore {
                    store,
                    found_existing: true,
                });
            }
        }
        let settings = self.settings(&link.id);
        match decide_import(&as_if_idle(order, Flow::Import), &settings) {
            ImportDecision::Create => {}
            // A stuck import re-run by a resync: the order is otherwise ready.
            ImportDecision::Nothing { .. }
                if job.request.is_some()
                    && order.tiktok.status == OrderStatus::AwaitingShipment => {}
            ImportDecision::Wait { why } => return settled(FlowStatus::Waiting { why }),
            ImportDecision::Skip { why } => return settled(FlowStatus::Skipped { why }),
            ImportDecision::Nothing { why } => return settled(FlowStatus::NotApplicable { why }),
        }
        let _slot = link.storefront_slots.acquire().await;
        let skus = if link.platform.capabilities().needs_sku_lookup {
            let wanted: Vec<String> = order
                .tiktok
                .lines
                .iter()
                .map(|l| l.seller_sku.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            link.storefront.lookup_skus(&wanted).await?
        } else {
            HashMap::new()
        };
        let draft = draft_store_order(
            order,
            &link.storefront_name,
            link.platform,
            &skus,
            &settings,
        )
        .map_err(Failure::Blocked)?;
        let store = link.storefront.create_order(&draft).await?;
        Ok(JobEffect::InStore {
            store,
            found_existing: false,
        })
    }

    async fn run_store_cancel(
        &self,
        link: &LinkRuntime,
        job: &Job,
        order: &Order,
        key: &CancellationKey,
    ) -> JobResult {
        let c = self.store.cancellation(key)?.ok_or_else(|| {
            Failure::Stuck(format!("cancellation {key} is not in orderdeck's store"))
        })?;
        let settings = self.settings(&link.id);
        let mut c_for_decision = c.clone();
        // The job itself is what "queued" refers to: decide as if nothing were running.
        c_for_decision.sync.status = FlowStatus::Idle;
        let instruction = match decide_tiktok_to_store(&c_for_decision, order, &settings) {
            StorefrontCancelDecision::CancelStore(instruction) => instruction,
            StorefrontCancelDecision::RemoveUnits(partial) => {
                return self.remove_cancelled_units(link, order, partial).await;
            }
            StorefrontCancelDecision::Skip { why } => return settled(FlowStatus::Skipped { why }),
            StorefrontCancelDecision::Nothing { why } | StorefrontCancelDecision::Wait { why } => {
                return settled(FlowStatus::NotApplicable { why });
            }
            StorefrontCancelDecision::WaitForSeller { .. } => {
                return settled(FlowStatus::Waiting {
                    why: "buyer request waiting for the seller's answer".into(),
                });
            }
        };
        let store_id = order
            .store
            .as_ref()
            .map(|s| s.order_id.clone())
            .ok_or_else(|| Failure::Stuck("the order never reached the store".into()))?;
        let _slot = link.storefront_slots.acquire().await;
        if job.maybe_applied {
            let current = link.storefront.get_order(&store_id).await?;
            if current.cancelled_at.is_some() {
                // What the lost attempt did with the stock is not known: say nothing of it.
                return Ok(JobEffect::StoreCancelled {
                    cancelled: StorefrontCancelled {
                        store: current,
                        put_back: Vec::new(),
                        shipped: Vec::new(),
                    },
                });
            }
        }
        let cancelled = link
            .storefront
            .cancel_order(&store_id, &instruction)
            .await?;
        Ok(JobEffect::StoreCancelled { cancelled })
    }

    /// TikTok cancelled some units: exactly those leave the store order, which goes on. Safe to
    /// re-run after a lost answer (the removal says what each SKU keeps).
    async fn remove_cancelled_units(
        &self,
        link: &LinkRuntime,
        order: &Order,
        partial: PartialCancel,
    ) -> JobResult {
        let store = order
            .store
            .as_ref()
            .ok_or_else(|| Failure::Stuck("the order never reached the store".into()))?;
        if !link.platform.capabilities().edits_lines {
            return Err(Failure::Stuck(partial.instruction(&store_label(store))));
        }
        let _slot = link.storefront_slots.acquire().await;
        let store = link
            .storefront
            .remove_units(&store.order_id, &partial.removal)
            .await?;
        Ok(JobEffect::UnitsRemoved { store, partial })
    }

    async fn run_tiktok_cancel(
        &self,
        link: &LinkRuntime,
        job: &Job,
        order: &Order,
        key: &CancellationKey,
    ) -> JobResult {
        if self.store.cancellation(key)?.is_none() {
            return Err(Failure::Stuck(format!(
                "cancellation {key} is not in orderdeck's store"
            )));
        }
        if let CancellationKey::StoreUnits(_, left) = key {
            return self.run_tiktok_units_cancel(link, job, order, *left).await;
        }
        let settings = self.settings(&link.id);
        let _slot = link.tiktok_slots.acquire().await;
        if job.maybe_applied {
            let current = on_tiktok(link, &order.id).await?;
            if current.is_some_and(|o| o.status == OrderStatus::Cancelled) {
                return Ok(JobEffect::TiktokCancelled {
                    status: CancelStatus::Success,
                });
            }
        }
        let undecided = as_if_idle(order, Flow::Cancellation);
        // The job was queued because this platform's trigger happened; decide again with it, as
        // settings or the TikTok order may have changed since.
        let event = match link.platform.capabilities().store_to_tiktok_trigger {
            Some(StorefrontCancelTrigger::Refund) => StorefrontEvent::Refunded,
            _ => StorefrontEvent::OrderCancelled,
        };
        let reason = match decide_store_to_tiktok(event, &undecided, &settings, link.platform) {
            TiktokCancelDecision::CancelTiktok { reason_code } => reason_code,
            TiktokCancelDecision::Skip { why } => return settled(FlowStatus::Skipped { why }),
            TiktokCancelDecision::Unsupported { why } | TiktokCancelDecision::Nothing { why } => {
                return settled(FlowStatus::NotApplicable { why });
            }
        };
        match link.marketplace.cancel_order(&order.id, &[], &reason).await {
            Ok(done) => Ok(JobEffect::TiktokCancelled {
                status: done.status,
            }),
            Err(e) if refused_with(&e, codes::ALREADY_CANCELLED) => {
                Ok(JobEffect::TiktokCancelled {
                    status: CancelStatus::Complete,
                })
            }
            Err(e) => Err(Failure::Platform(e)),
        }
    }

    async fn run_response(
        &self,
        link: &LinkRuntime,
        job: &Job,
        cancel_id: &CancelId,
        response: &SellerResponse,
    ) -> JobResult {
        // Stable across retries, so TikTok applies the answer once.
        let key = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("orderdeck/{}/{}", cancel_id, job.id).as_bytes(),
        )
        .to_string();
        let approve = matches!(response, SellerResponse::Approve);
        let _slot = link.tiktok_slots.acquire().await;
        // An earlier attempt's answer was lost: TikTok may have taken it. Ask before sending the
        // decision again, so a retry never meets "already handled" as a failure.
        if job.maybe_applied
            && let Some(settled) = self
                .response_on_tiktok(link, &job.order, cancel_id, approve)
                .await?
        {
            return settled;
        }
        let sent = match response {
            SellerResponse::Approve => link.marketplace.approve_cancellation(cancel_id, &key).await,
            SellerResponse::Reject { reason, comment } => {
                link.marketplace
                    .reject_cancellation(cancel_id, &key, reason, comment.as_deref())
                    .await
            }
        };
        match sent {
            Ok(()) => Ok(JobEffect::Responded { approved: approve }),
            // Answered already, by an attempt whose answer was lost or by someone in Seller
            // Center: TikTok's state says whether the decision that stands is this one.
            Err(e) if refused_with(&e, codes::CANCEL_REQUEST_HANDLED) => self
                .response_on_tiktok(link, &job.order, cancel_id, approve)
                .await?
                .unwrap_or(Err(Failure::Platform(e))),
            Err(e) => Err(Failure::Platform(e)),
        }
    }

    /// How TikTok holds the buyer's request now: `None` while it still awaits an answer (send
    /// it); done when the decision that stands is `approve`'s; when someone answered otherwise
    /// in Seller Center, that answer stands and the flow says so (the order's own status then
    /// carries a cancel to the store, so a cancelled order never ships).
    async fn response_on_tiktok(
        &self,
        link: &LinkRuntime,
        order: &TiktokOrderId,
        cancel_id: &CancelId,
        approve: bool,
    ) -> Result<Option<JobResult>, Failure> {
        let all = link.marketplace.cancellations_of_order(order).await?;
        let Some(found) = all.iter().find(|c| &c.cancel_id == cancel_id) else {
            return Err(Failure::Stuck(format!(
                "TikTok does not list cancellation {cancel_id} of order {order} any more: \
                 check the request in Seller Center"
            )));
        };
        let granted = matches!(found.status, CancelStatus::Success | CancelStatus::Complete);
        let refused = found.status == CancelStatus::Withdrawn;
        let answered_otherwise = |why: &str| {
            Some(settled(FlowStatus::Skipped {
                why: format!("TikTok shows the buyer's request {why}: answered outside orderdeck"),
            }))
        };
        Ok(match (approve, granted, refused) {
            (_, false, false) => None,
            (true, true, _) | (false, _, true) => {
                Some(Ok(JobEffect::Responded { approved: approve }))
            }
            (true, false, true) => answered_otherwise(
                "rejected or withdrawn, not approved: the order stays open and ships",
            ),
            (false, true, _) => answered_otherwise(
                "approved, not rejected: the order is cancelled on TikTok and in the store",
            ),
        })
    }

    /// Gives the store order TikTok's newest shipping details, read when the job runs (the
    /// buyer may have changed them again meanwhile). Once the store has shipped, the parcel is
    /// with the carrier: a person must redirect it, so the order is stuck saying so; that
    /// person's retry (the job comes back with its error kept and its attempts reset) is their
    /// acknowledgment, and the flow is then recorded as handled.
    async fn run_address(&self, link: &LinkRuntime, job: &Job, order: &Order) -> JobResult {
        let (Some(store), Some(sent)) = (&order.store, &order.sent) else {
            return settled(FlowStatus::NotApplicable {
                why: "the order is not in the store".into(),
            });
        };
        let now = ship_to(order);
        let changed = changed_fields(sent, &now);
        if changed.is_empty() {
            return settled(FlowStatus::NotApplicable {
                why: "the store order already has TikTok's shipping details".into(),
            });
        }
        let _slot = link.storefront_slots.acquire().await;
        let current = link.storefront.get_order(&store.order_id).await?;
        if current.status == StorefrontOrderStatus::Cancelled {
            return settled(FlowStatus::NotApplicable {
                why: "the store order is cancelled".into(),
            });
        }
        if current.has_fulfillment() {
            if job.attempts == 0 && job.last_error.is_some() {
                return settled(FlowStatus::Skipped {
                    why: "shipped before the buyer's change: handled by a person".into(),
                });
            }
            let tracking = current
                .first_tracking()
                .map(|t| {
                    format!(
                        " ({} {})",
                        sanitize(t.carrier.as_deref().unwrap_or("carrier")),
                        sanitize(&t.number)
                    )
                })
                .unwrap_or_default();
            return Err(Failure::Stuck(format!(
                "the buyer changed the {} after the store shipped it: contact the carrier{tracking} \
                 to redirect the parcel, then retry to mark it handled",
                changed.join(", ")
            )));
        }
        let note = changed
            .contains(&"buyer message")
            .then(|| now.note.as_deref().unwrap_or_default());
        let store = link
            .storefront
            .update_ship_to(&store.order_id, &now, note)
            .await?;
        Ok(JobEffect::AddressUpdated {
            sent: Box::new(now),
            store,
        })
    }

    /// Fetches the label PDF and saves it in the data dir; returns the path.
    pub(crate) async fn run_label(
        &self,
        link: &LinkRuntime,
        order: &Order,
        reprint: bool,
    ) -> Result<String, Failure> {
        let package = match decide_label(&as_if_idle(order, Flow::Label), reprint) {
            LabelDecision::Fetch { package } => package,
            LabelDecision::Wait { why } | LabelDecision::Nothing { why } => {
                return Err(Failure::Stuck(why));
            }
        };
        let (document, pdf) = {
            let _slot = link.tiktok_slots.acquire().await;
            let document = link.marketplace.shipping_document(&package).await?;
            let pdf = link.marketplace.download(&document.url).await?;
            (document, pdf)
        };
        if !pdf.starts_with(b"%PDF") {
            return Err(Failure::Platform(PlatformError::new(
                link.platform,
                "download_label",
                ErrorClass::RetryLater { after: None },
                "the label document is not a PDF (TikTok may still be generating it)",
            )));
        }
        let path = super::labels::save_label(&self.options.label_dir, order, &package, &pdf)
            .map_err(|e| Failure::Stuck(format!("could not save the label: {e}")))?;
        tracing::info!(order = %order.id, tracking = ?document.tracking_number.as_deref().map(crate::domain::text::sanitize), "label saved");
        Ok(path)
    }
}
