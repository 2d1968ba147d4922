//! A finished job, applied to the order it ran for: the pure mapping from what the job did
//! (its [`JobEffect`], or why it failed) to the job's next state, the order's flow state, its
//! timeline and the cancellation it settles. The engine reads, locks and commits around it; every
//! decision about state is made here, so it is tested from tables without IO.

use crate::domain::rules::address::{ShipTo, changed_fields, ship_to};
use std::time::Duration;

use crate::domain::cancellation::{CancelStatus, Cancellation};
use crate::domain::clock::{Timestamp, human_duration};
use crate::domain::job::{Backoff, Job, JobState};
use crate::domain::order::Units;
use crate::domain::order::{Flow, FlowError, FlowStatus, Order, StorefrontOrder};
use crate::domain::reactor::{merge_store, set_flow, store_label};
use crate::domain::rules::cancel::{StorefrontCancelled, StorefrontEvent, show_units};
use crate::domain::rules::line_cancel::PartialCancel;
use crate::domain::rules::packages::PushedPackage;
use crate::domain::text::sanitize;

/// What a successful job changed remotely.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEffect {
    /// The store order exists (created now, or found after an uncertain earlier attempt).
    InStore {
        store: StorefrontOrder,
        found_existing: bool,
    },
    /// TikTok took one parcel: a new package, or a corrected number (`corrected_from`).
    TrackingPushed {
        package: PushedPackage,
        corrected_from: Option<String>,
        /// The units it holds, when not the whole order (for the timeline).
        units: Vec<Units>,
        /// The store's full read made to plan it, if one was.
        store: Option<StorefrontOrder>,
    },
    StoreCancelled {
        cancelled: StorefrontCancelled,
    },
    /// TikTok's cancelled units left the store order, which goes on with the rest.
    UnitsRemoved {
        store: StorefrontOrder,
        partial: PartialCancel,
    },
    /// The store order now has these shipping details.
    AddressUpdated {
        sent: Box<ShipTo>,
        store: StorefrontOrder,
    },
    TiktokCancelled {
        status: CancelStatus,
    },
    /// Units taken off in the store were cancelled on TikTok; the order goes on.
    TiktokUnitsCancelled {
        units: Vec<Units>,
        still_expected: Vec<Units>,
        status: CancelStatus,
        /// The store order as read to compare the units.
        store: StorefrontOrder,
    },
    /// TikTok took the seller's answer to a buyer's cancel request.
    Responded {
        approved: bool,
    },
    LabelSaved {
        path: String,
    },
    /// Nothing to do any more (the order changed since the job was queued), with the flow's state.
    Settled {
        status: FlowStatus,
    },
}

/// Why a job did not finish, as the state machine needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum JobFailure {
    /// A person must act; the reason says what.
    Stuck {
        reason: String,
        error: Option<FlowError>,
    },
    /// Worth another try: after `after` at the earliest when the platform said so. When
    /// `maybe_applied`, the write may have happened and must be read back first.
    Retry {
        reason: String,
        error: Option<FlowError>,
        after: Option<Duration>,
        maybe_applied: bool,
    },
}

/// How a run of a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    Done,
    Retrying,
    Stuck,
}

/// What applying an effect found: the line for the timeline and the store events it revealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub detail: String,
    pub store_events: Vec<StorefrontEvent>,
}

/// Applies a successful job's `effect`: the job is done, the flow moves on, the cancellation it
/// ran for is settled. A buyer-cancel answer's store follow-up is the reactor's to decide.
pub fn apply_effect(
    job: &mut Job,
    order: &mut Order,
    mut cancellation: Option<&mut Cancellation>,
    effect: JobEffect,
    now: Timestamp,
) -> Applied {
    job.state = JobState::Done { at: now };
    job.last_error = None;
    let flow = job.kind.flow();
    let done = FlowStatus::Done { at: now };
    let mut store_events = Vec::new();
    let detail = match effect {
        JobEffect::InStore {
            store,
            found_existing,
        } => {
            let label = store_label(&store);
            store_events = merge_store(order, store, now);
            // What the draft was built from; a later change on TikTok is measured against it.
            order.sent = Some(ship_to(order));
            set_flow(order, Flow::Import, done.clone(), now);
            if found_existing {
                format!("found store order {label} (an earlier attempt had created it)")
            } else {
                format!("created store order {label}")
            }
        }
        JobEffect::TrackingPushed {
            package,
            corrected_from,
            units,
            store,
        } => {
            if let Some(store) = store {
                store_events = merge_store(order, store, now);
            }
            let said = tracking_said(&package, corrected_from.as_deref(), &units);
            record_package(order, package);
            set_flow(order, Flow::Tracking, done.clone(), now);
            said
        }
        JobEffect::AddressUpdated { sent, store } => {
            let changed = order
                .sent
                .as_ref()
                .map(|before| changed_fields(before, &sent).join(", "))
                .unwrap_or_default();
            store_events = merge_store(order, store, now);
            order.sent = Some(*sent);
            set_flow(order, Flow::Address, done.clone(), now);
            format!("store order's shipping details updated ({changed})")
        }
        JobEffect::StoreCancelled { cancelled } => {
            let stock = cancelled.stock_note();
            merge_store(order, cancelled.store, now);
            set_flow(order, Flow::Cancellation, done.clone(), now);
            settle(cancellation.as_deref_mut(), done.clone());
            let said = "store order cancelled (no store refund: TikTok refunds the buyer)";
            if stock.is_empty() {
                said.to_string()
            } else {
                format!("{said}; {stock}")
            }
        }
        JobEffect::UnitsRemoved { store, partial } => {
            let said = partial.done(&store_label(&store));
            // orderdeck took these units off itself: nothing to relay back to TikTok.
            store_events = merge_store(order, store, now);
            store_events.retain(|e| !matches!(e, StorefrontEvent::UnitsRemoved { .. }));
            set_flow(order, Flow::Cancellation, goes_on(), now);
            settle(cancellation.as_deref_mut(), done.clone());
            said
        }
        JobEffect::TiktokUnitsCancelled {
            units,
            still_expected,
            status,
            store,
        } => {
            // The removal this relays was seen already: not news again.
            merge_store(order, store, now);
            set_flow(order, Flow::Cancellation, goes_on(), now);
            settle_on_tiktok(cancellation.as_deref_mut(), status, &units, done.clone());
            format!(
                "cancelled {} on TikTok (taken off the store order); TikTok still expects {}",
                show_units(&units),
                show_units(&still_expected)
            )
        }
        JobEffect::TiktokCancelled { status } => {
            set_flow(order, Flow::Cancellation, done.clone(), now);
            let said = format!("TikTok order cancelled ({status})");
            settle_on_tiktok(cancellation.as_deref_mut(), status, &[], done.clone());
            said
        }
        JobEffect::Responded { approved } => {
            if let Some(c) = cancellation.as_deref_mut() {
                c.tiktok_status = Some(if approved {
                    CancelStatus::Success
                } else {
                    CancelStatus::Withdrawn
                });
                c.updated_at = now;
            }
            let answer = if approved { "approved" } else { "rejected" };
            format!("buyer cancel request {answer} on TikTok")
        }
        JobEffect::LabelSaved { path } => {
            order.label_file = Some(path.clone());
            set_flow(order, Flow::Label, done.clone(), now);
            format!("label saved to {path}")
        }
        JobEffect::Settled { status } => {
            set_flow(order, flow, status.clone(), now);
            settle(cancellation.as_deref_mut(), status.clone());
            format!("nothing to do: {}", settled_why(&status))
        }
    };
    if let Some(c) = cancellation {
        c.sync.updated_at = Some(now);
        c.sync.last_error = None;
    }
    Applied {
        detail,
        store_events,
    }
}

impl JobEffect {
    /// A one-parcel order's tracking taken by TikTok (what most orders are).
    #[cfg(test)]
    pub fn whole_order_shipped(number: &str, provider: &str) -> JobEffect {
        JobEffect::TrackingPushed {
            package: PushedPackage {
                fulfillment_id: "gid://shopify/Fulfillment/1".into(),
                tracking_number: number.into(),
                provider: provider.into(),
                line_item_ids: vec!["li-1".into()],
                package_id: None,
                at: Timestamp::UNIX_EPOCH,
            },
            corrected_from: None,
            units: Vec::new(),
            store: None,
        }
    }
}

/// Records a parcel TikTok took, replacing what was recorded for the same store parcel.
fn record_package(order: &mut Order, package: PushedPackage) {
    order.pushed_tracking = Some(package.tracking_number.clone());
    match order
        .pushed_packages
        .iter_mut()
        .find(|p| p.fulfillment_id == package.fulfillment_id)
    {
        Some(recorded) => *recorded = package,
        None => order.pushed_packages.push(package),
    }
}

/// A cancellation TikTok took, with the status it answered (and the units, for a partial one).
fn settle_on_tiktok(
    cancellation: Option<&mut Cancellation>,
    status: CancelStatus,
    units: &[Units],
    done: FlowStatus,
) {
    if let Some(c) = cancellation {
        c.tiktok_status = Some(status);
        if !units.is_empty() {
            c.units = units.to_vec();
        }
        settle(Some(c), done);
    }
}

/// A partial cancel leaves the order going on: not "done" (a whole-order cancel may still
/// come, either way), only settled for now.
fn goes_on() -> FlowStatus {
    FlowStatus::NotApplicable {
        why: "part of the order was cancelled; it goes on with the rest".into(),
    }
}

/// "tracking 1Z… (UPS) sent to TikTok for 1 × SKU-RED (package 115…)", or the correction.
fn tracking_said(package: &PushedPackage, corrected_from: Option<&str>, units: &[Units]) -> String {
    let provider = if package.provider.is_empty() {
        String::new()
    } else {
        format!(" ({})", sanitize(&package.provider))
    };
    let number = sanitize(&package.tracking_number);
    if let Some(was) = corrected_from {
        return format!(
            "tracking corrected on TikTok: {} → {number}{provider}",
            sanitize(was)
        );
    }
    let mut said = format!("tracking {number}{provider} sent to TikTok");
    if !units.is_empty() {
        said.push_str(&format!(" for {}", show_units(units)));
        if let Some(id) = &package.package_id {
            said.push_str(&format!(" (package {})", sanitize(id.as_str())));
        }
    }
    said
}

/// After a buyer's cancel request was answered and no store cancel follows, the flow must not
/// stay "in progress" (that would also hold back a later store → TikTok cancel): it settles as
/// the cancellation did, or as not applicable.
pub fn settle_answered_request(order: &mut Order, cancellation: &Cancellation, now: Timestamp) {
    if order.flows.cancellation.status != FlowStatus::Queued {
        return;
    }
    let settled = match &cancellation.sync.status {
        status @ (FlowStatus::NotApplicable { .. }
        | FlowStatus::Waiting { .. }
        | FlowStatus::Skipped { .. }) => status.clone(),
        _ => FlowStatus::NotApplicable {
            why: "the buyer's cancel request was answered; nothing to cancel in the store".into(),
        },
    };
    set_flow(order, Flow::Cancellation, settled, now);
}

/// Applies a failed run: the job retries after a backoff (full jitter, `jitter` in [0, 1), at
/// least as long as the platform asked) until the backoff is exhausted, or is parked as stuck
/// with a reason a person can act on. The order's flow and the cancellation follow the job.
pub fn apply_failure(
    job: &mut Job,
    order: &mut Order,
    cancellation: Option<&mut Cancellation>,
    failure: JobFailure,
    backoff: &Backoff,
    jitter: f64,
    now: Timestamp,
) -> (JobEnd, String) {
    let (JobFailure::Stuck { error, .. } | JobFailure::Retry { error, .. }) = &failure;
    if error.is_some() {
        job.last_error = error.clone();
    }
    job.attempts += 1;
    let (end, detail) = match failure {
        JobFailure::Retry {
            reason,
            after,
            maybe_applied,
            ..
        } => {
            job.maybe_applied |= maybe_applied;
            if backoff.exhausted(job.attempts) {
                let reason = format!("gave up after {} attempts: {reason}", job.attempts);
                job.state = JobState::Stuck {
                    reason: reason.clone(),
                };
                (JobEnd::Stuck, reason)
            } else {
                let delay =
                    chrono::Duration::from_std(backoff.delay(job.attempts - 1, jitter, after))
                        .unwrap_or_default();
                job.requeue();
                job.run_after = now + delay;
                let when = match delay.num_seconds() {
                    0 => "now".to_string(),
                    _ => format!("in {}", human_duration(delay)),
                };
                (JobEnd::Retrying, format!("retrying {when}: {reason}"))
            }
        }
        JobFailure::Stuck { reason, .. } => {
            job.state = JobState::Stuck {
                reason: reason.clone(),
            };
            (JobEnd::Stuck, reason)
        }
    };
    let flow = job.kind.flow();
    let state = order.flows.get_mut(flow);
    state.attempts = job.attempts;
    state.last_error = job.last_error.clone();
    let status = match &job.state {
        JobState::Stuck { reason } => FlowStatus::Stuck {
            reason: reason.clone(),
        },
        _ => FlowStatus::Queued,
    };
    set_flow(order, flow, status.clone(), now);
    if let Some(c) = cancellation {
        c.sync.attempts = job.attempts;
        c.sync.last_error = job.last_error.clone();
        if let FlowStatus::Stuck { .. } = status {
            c.sync.status = status;
        }
        c.sync.updated_at = Some(now);
    }
    (end, detail)
}

fn settle(cancellation: Option<&mut Cancellation>, status: FlowStatus) {
    if let Some(c) = cancellation {
        c.sync.status = status;
    }
}

fn settled_why(status: &FlowStatus) -> String {
    match status {
        FlowStatus::Waiting { why }
        | FlowStatus::Skipped { why }
        | FlowStatus::NotApplicable { why } => why.clone(),
        FlowStatus::Stuck { reason } => reason.clone(),
        _ => "already done".into(),
    }
}

#[cfg(test)]
mod tests;
