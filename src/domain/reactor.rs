//! The reactor: after anything about an order changes (a new TikTok snapshot, a store update, a
//! cancellation, a finished job), apply the seed rules and say which jobs to queue. It updates
//! flow states and the timeline in place and allocates nothing: the caller writes the order and
//! the jobs in one transaction. A decision is only noted on the timeline when it changes, so a
//! poll that sees the same order again leaves no trace.

use crate::domain::cancellation::{
    CancelStatus, CancelType, Cancellation, CancellationKey, Direction,
};
use crate::domain::clock::Timestamp;
use crate::domain::job::JobKind;
use crate::domain::order::{
    Flow, FlowState, FlowStatus, Initiator, Order, OrderStatus, StorefrontOrder,
};
use crate::domain::platform::Platform;
use crate::domain::rules::address::{AddressDecision, decide_address, ship_to};
use crate::domain::rules::cancel::{
    self, StorefrontCancelDecision, StorefrontEvent, TiktokCancelDecision,
};
use crate::domain::rules::import::{ImportDecision, decide_import};
use crate::domain::rules::label::{LabelDecision, decide_label};
use crate::domain::rules::line_cancel::partial_cancel;
use crate::domain::rules::parcel::parcel_after_cancel;
use crate::domain::rules::tracking::{TrackingDecision, decide_tracking};
use crate::domain::settings::LinkSettings;

mod merge;
pub use merge::{hold_unreadable, merge_snapshot, merge_store};

/// Sets a flow's status, noting the change on the timeline. Returns whether it changed. A move
/// the flow's state machine does not allow ([`FlowStatus::may_become`]) is a bug: it fails
/// debug builds (every test) and is refused, and noted, in release.
pub fn set_flow(order: &mut Order, flow: Flow, status: FlowStatus, now: Timestamp) -> bool {
    let state = order.flows.get_mut(flow);
    if state.status == status {
        return false;
    }
    if !state.status.may_become(&status) {
        debug_assert!(
            false,
            "illegal {} transition {:?} → {status:?}",
            flow.name(),
            state.status
        );
        order.note(
            now,
            Some(flow),
            format!(
                "orderdeck refused to move {} from {} to {} (a bug: please report it)",
                flow.name(),
                state_name(&order.flows.get(flow).status),
                state_name(&status)
            ),
        );
        return false;
    }
    state.status = status.clone();
    state.updated_at = Some(now);
    if !matches!(status, FlowStatus::Queued) {
        state.attempts = 0;
    }
    // What a flow waits on belongs to its being stuck; whoever makes it stuck names it again.
    if !matches!(status, FlowStatus::Stuck { .. }) {
        state.waits_on = None;
    }
    if let Some(text) = describe(flow, &status) {
        order.note(now, Some(flow), text);
    }
    true
}

/// Puts a flow back to `Idle` so its rule decides afresh: only a person's resync does this.
pub fn reset_flow(order: &mut Order, flow: Flow, now: Timestamp) {
    let state = order.flows.get_mut(flow);
    if state.status != FlowStatus::Idle {
        state.status = FlowStatus::Idle;
        state.updated_at = Some(now);
        state.attempts = 0;
        state.waits_on = None;
    }
}

fn state_name(status: &FlowStatus) -> &'static str {
    match status {
        FlowStatus::Idle => "idle",
        FlowStatus::NotApplicable { .. } => "not applicable",
        FlowStatus::Waiting { .. } => "waiting",
        FlowStatus::Queued => "queued",
        FlowStatus::Done { .. } => "done",
        FlowStatus::Skipped { .. } => "skipped",
        FlowStatus::Stuck { .. } => "stuck",
    }
}

fn describe(flow: Flow, status: &FlowStatus) -> Option<String> {
    let name = flow.name();
    Some(match status {
        FlowStatus::Idle => return None,
        FlowStatus::Queued => format!("{name} queued"),
        FlowStatus::Done { .. } => format!("{name} done"),
        FlowStatus::NotApplicable { why } => format!("{name} not applicable: {why}"),
        FlowStatus::Waiting { why } => format!("{name} waiting: {why}"),
        FlowStatus::Skipped { why } => format!("{name} skipped: {why}"),
        FlowStatus::Stuck { reason } => format!("{name} stuck: {reason}"),
    })
}

/// A stuck import or tracking push whose cause went away with the order (TikTok cancelled it,
/// TikTok already has the number) settles by itself: nothing is left for a person to fix, so it
/// leaves the Stuck and Pending lists. A cause that is still there keeps the flow stuck.
fn settle_obsolete_stuck(order: &mut Order, settings: &LinkSettings, now: Timestamp) {
    for flow in [Flow::Import, Flow::Tracking] {
        if order.flows.get(flow).stuck_reason().is_none() {
            continue;
        }
        let mut undecided = order.clone();
        undecided.flows.get_mut(flow).status = FlowStatus::Idle;
        let why = match flow {
            Flow::Import if order.store.is_none() => match decide_import(&undecided, settings) {
                ImportDecision::Nothing { why } => Some(why),
                _ => None,
            },
            Flow::Tracking => match decide_tracking(&undecided, settings) {
                TrackingDecision::Nothing { why } => Some(why),
                _ => None,
            },
            _ => None,
        };
        if let Some(why) = why {
            order.note(now, Some(flow), format!("no longer stuck: {why}"));
            set_flow(order, flow, FlowStatus::NotApplicable { why }, now);
        }
    }
}

/// A buyer's change of the shipping details after import goes to the store order, as a job.
fn react_address(order: &mut Order, now: Timestamp, jobs: &mut Vec<JobKind>) {
    // Orders imported before orderdeck kept what it sent: what TikTok shows now is the base.
    if order.store.is_some() && order.sent.is_none() {
        order.sent = Some(ship_to(order));
        return;
    }
    if let AddressDecision::Update { changed } = decide_address(order) {
        order.note(
            now,
            Some(Flow::Address),
            format!(
                "the buyer changed the {} on TikTok: updating the store order",
                changed.join(", ")
            ),
        );
        set_flow(order, Flow::Address, FlowStatus::Queued, now);
        jobs.push(JobKind::UpdateAddress);
    }
}

pub fn store_label(store: &StorefrontOrder) -> String {
    crate::domain::text::sanitize(store.name.as_deref().unwrap_or(store.order_id.as_str()))
}

/// Import, tracking, label and shipping-details rules for one order. Returns the jobs to queue.
pub fn react_order(order: &mut Order, settings: &LinkSettings, now: Timestamp) -> Vec<JobKind> {
    settle_obsolete_stuck(order, settings, now);
    if let Some(parcel) = parcel_after_cancel(order, now) {
        order.note(now, None, parcel.instruction());
        order.parcel_after_cancel = Some(parcel);
    }
    let mut jobs = Vec::new();
    react_address(order, now, &mut jobs);
    match decide_import(order, settings) {
        ImportDecision::Create => {
            set_flow(order, Flow::Import, FlowStatus::Queued, now);
            jobs.push(JobKind::Import);
        }
        ImportDecision::Wait { why } => {
            set_flow(order, Flow::Import, FlowStatus::Waiting { why }, now);
        }
        ImportDecision::Skip { why } => {
            set_flow(order, Flow::Import, FlowStatus::Skipped { why }, now);
        }
        ImportDecision::Nothing { why } => {
            // Only settle flows that had nothing going on; queued/stuck/done keep their state.
            if matches!(
                order.flows.import.status,
                FlowStatus::Idle | FlowStatus::Waiting { .. } | FlowStatus::Skipped { .. }
            ) && order.store.is_none()
            {
                set_flow(order, Flow::Import, FlowStatus::NotApplicable { why }, now);
            }
        }
    }
    match decide_tracking(order, settings) {
        TrackingDecision::Push { .. } => {
            set_flow(order, Flow::Tracking, FlowStatus::Queued, now);
            jobs.push(JobKind::PushTracking);
        }
        TrackingDecision::Wait { why } => {
            set_flow(order, Flow::Tracking, FlowStatus::Waiting { why }, now);
        }
        TrackingDecision::Skip { why } => {
            set_flow(order, Flow::Tracking, FlowStatus::Skipped { why }, now);
        }
        TrackingDecision::Nothing { why } => {
            if matches!(
                order.flows.tracking.status,
                FlowStatus::Idle | FlowStatus::Waiting { .. } | FlowStatus::Skipped { .. }
            ) {
                set_flow(
                    order,
                    Flow::Tracking,
                    FlowStatus::NotApplicable { why },
                    now,
                );
            }
        }
    }
    match decide_label(order, false) {
        LabelDecision::Fetch { .. } => {
            set_flow(order, Flow::Label, FlowStatus::Queued, now);
            jobs.push(JobKind::FetchLabel);
        }
        LabelDecision::Wait { why } => {
            if !matches!(order.flows.label.status, FlowStatus::Done { .. }) {
                set_flow(order, Flow::Label, FlowStatus::Waiting { why }, now);
            }
        }
        LabelDecision::Nothing { why } => {
            if matches!(
                order.flows.label.status,
                FlowStatus::Idle | FlowStatus::Waiting { .. }
            ) && order.label_file.is_none()
            {
                set_flow(order, Flow::Label, FlowStatus::NotApplicable { why }, now);
            }
        }
    }
    jobs
}

/// A TikTok cancellation (record or seen on the order): decide the store side.
/// `live_store_cancel` says a store cancel job for this order is already queued.
pub fn react_tiktok_cancellation(
    c: &mut Cancellation,
    order: &mut Order,
    settings: &LinkSettings,
    platform: Platform,
    live_store_cancel: bool,
    now: Timestamp,
) -> Option<JobKind> {
    // TikTok lists every unit of a whole-order cancel too: only units the buyer keeps others
    // of make it partial. Decided when first seen (a later cancel of the rest does not make
    // this one whole).
    if c.units.is_empty() {
        c.units = partial_cancel(c, order, settings)
            .map(|p| p.cancelled)
            .unwrap_or_default();
    }
    let sync = |c: &mut Cancellation, status: FlowStatus| {
        if c.sync.status != status {
            c.sync.status = status;
            c.sync.updated_at = Some(now);
            c.updated_at = now;
        }
    };
    match cancel::decide_tiktok_to_store(c, order, settings) {
        StorefrontCancelDecision::CancelStore(instruction) if !live_store_cancel => {
            c.restock = instruction.restock;
            sync(c, FlowStatus::Queued);
            set_flow(order, Flow::Cancellation, FlowStatus::Queued, now);
            order.note(
                now,
                Some(Flow::Cancellation),
                format!(
                    "TikTok cancelled ({}): cancelling the store order; {}",
                    c.initiator,
                    cancel::restock_explanation(
                        platform,
                        instruction.restock,
                        order.store.as_ref().is_some_and(|s| s.has_fulfillment())
                    )
                ),
            );
            Some(JobKind::CancelInStore {
                cancellation: c.key.clone(),
            })
        }
        StorefrontCancelDecision::RemoveUnits(partial) => {
            c.restock = partial.removal.restock;
            sync(c, FlowStatus::Queued);
            set_flow(order, Flow::Cancellation, FlowStatus::Queued, now);
            order.note(
                now,
                Some(Flow::Cancellation),
                format!(
                    "TikTok cancelled {} ({}): taking them off the store order; TikTok still expects {}",
                    cancel::show_units(&partial.cancelled),
                    c.initiator,
                    cancel::show_units(&partial.still_expected)
                ),
            );
            Some(JobKind::CancelInStore {
                cancellation: c.key.clone(),
            })
        }
        StorefrontCancelDecision::CancelStore(_) => {
            sync(
                c,
                FlowStatus::NotApplicable {
                    why: "another cancellation of this order is already being applied".into(),
                },
            );
            None
        }
        StorefrontCancelDecision::WaitForSeller { .. } => {
            sync(
                c,
                FlowStatus::Waiting {
                    why: "buyer request waiting for the seller's answer".into(),
                },
            );
            None
        }
        StorefrontCancelDecision::Wait { why } => {
            sync(c, FlowStatus::Waiting { why });
            None
        }
        StorefrontCancelDecision::Skip { why } => {
            if c.sync.status != (FlowStatus::Skipped { why: why.clone() }) {
                order.note(
                    now,
                    Some(Flow::Cancellation),
                    format!("TikTok cancellation not applied to the store: {why}"),
                );
            }
            set_flow(
                order,
                Flow::Cancellation,
                FlowStatus::Skipped { why: why.clone() },
                now,
            );
            sync(c, FlowStatus::Skipped { why });
            None
        }
        StorefrontCancelDecision::Nothing { why } => {
            if matches!(c.sync.status, FlowStatus::Idle | FlowStatus::Waiting { .. }) {
                sync(c, FlowStatus::NotApplicable { why });
            }
            None
        }
    }
}

/// The cancellation record for an order TikTok shows as cancelled without a record we know.
pub fn cancellation_from_order(order: &Order, restock: bool, now: Timestamp) -> Cancellation {
    Cancellation {
        key: CancellationKey::TiktokOrder(order.id.clone()),
        order_id: order.id.clone(),
        link: order.link.clone(),
        direction: Direction::TiktokToStore,
        initiator: order
            .tiktok
            .cancellation_initiator
            .clone()
            .unwrap_or(Initiator::System),
        cancel_type: CancelType::Direct,
        reason_code: None,
        reason_text: order.tiktok.cancel_reason.clone(),
        tiktok_status: Some(CancelStatus::Complete),
        seller_deadline: None,
        line_item_ids: Vec::new(),
        units: Vec::new(),
        restock,
        response: None,
        sync: FlowState::default(),
        created_at: now,
        updated_at: now,
    }
}

/// A store-side event (cancel, refund): decide whether to cancel on TikTok. Returns the
/// cancellation record to keep (also when skipped or unsupported, so it shows with why) and the
/// job to queue.
pub fn react_store_event(
    event: StorefrontEvent,
    order: &mut Order,
    settings: &LinkSettings,
    platform: Platform,
    now: Timestamp,
) -> Option<(Cancellation, Option<JobKind>)> {
    let store = order.store.as_ref()?;
    if let StorefrontEvent::UnitsRemoved { left } = event {
        let expected: u32 = order.tiktok.lines.iter().map(|l| l.live_quantity()).sum();
        if left >= expected {
            // TikTok already expects no more than the store holds (its own cancel, applied).
            return None;
        }
    }
    let mut c = Cancellation {
        key: event.key(&order.id),
        order_id: order.id.clone(),
        link: order.link.clone(),
        direction: Direction::StoreToTiktok,
        initiator: Initiator::Seller,
        cancel_type: CancelType::Direct,
        reason_code: settings.default_cancel_reason.clone(),
        reason_text: Some(match event {
            StorefrontEvent::OrderCancelled => {
                format!("store order {} cancelled", store_label(store))
            }
            StorefrontEvent::Refunded => format!("store order {} refunded", store_label(store)),
            StorefrontEvent::UnitsRemoved { left } => format!(
                "units taken off store order {} ({left} left)",
                store_label(store)
            ),
        }),
        tiktok_status: None,
        seller_deadline: None,
        line_item_ids: Vec::new(),
        units: Vec::new(),
        restock: false,
        response: None,
        sync: FlowState {
            updated_at: Some(now),
            ..FlowState::default()
        },
        created_at: now,
        updated_at: now,
    };
    let job = match cancel::decide_store_to_tiktok(event, order, settings, platform) {
        TiktokCancelDecision::CancelTiktok { reason_code } => {
            c.reason_code = Some(reason_code);
            c.sync.status = FlowStatus::Queued;
            set_flow(order, Flow::Cancellation, FlowStatus::Queued, now);
            Some(JobKind::CancelOnTiktok {
                cancellation: c.key.clone(),
            })
        }
        TiktokCancelDecision::Skip { why } => {
            order.note(
                now,
                Some(Flow::Cancellation),
                format!("store cancellation not sent to TikTok: {why}"),
            );
            c.sync.status = FlowStatus::Skipped { why };
            None
        }
        TiktokCancelDecision::Unsupported { why } => {
            c.sync.status = FlowStatus::NotApplicable {
                why: format!("not supported: {why}"),
            };
            None
        }
        // An echo of a TikTok cancel, or an event that is not this platform's trigger: no record.
        TiktokCancelDecision::Nothing { .. } => return None,
    };
    Some((c, job))
}

/// Whether TikTok shows the order cancelled, for orders without a known cancellation record.
pub fn tiktok_cancelled(order: &Order) -> bool {
    order.tiktok.status == OrderStatus::Cancelled
}

#[cfg(test)]
mod tests;
