//! Triage: which list an order belongs on — pending (not in the store yet, and why), missing
//! tracking (seller-shipped, no tracking after the link's threshold), stuck (a flow needs a
//! person) — and where cancellations sort. Membership that does not depend on time is computed
//! once per write (`views_of`), so each list is a range scan of an index ordered by its sort
//! key; the time-dependent part (`is_visible`) filters during that scan.

use serde::{Deserialize, Serialize};

use super::cancellation::Cancellation;
use super::clock::Timestamp;
use super::order::{Flow, FlowStatus, FulfillmentType, Order, OrderStatus, ShippingType};
use super::settings::LinkSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderView {
    /// Not yet in the store, oldest payment first.
    Pending,
    /// Seller-shipped without tracking, by ship-by deadline.
    MissingTracking,
    /// A flow needs a person, longest stuck first.
    Stuck,
    /// Parcels the store shipped before TikTok cancelled, nobody having said how they ended;
    /// oldest first. Also on the Stuck list: this one is counted per link on its own.
    Parcels,
    /// Every order, newest first.
    All,
}

impl OrderView {
    pub const ALL: [OrderView; 5] = [
        OrderView::Pending,
        OrderView::MissingTracking,
        OrderView::Stuck,
        OrderView::Parcels,
        OrderView::All,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OrderView::Pending => "pending",
            OrderView::MissingTracking => "missing-tracking",
            OrderView::Stuck => "stuck",
            OrderView::Parcels => "parcels",
            OrderView::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<OrderView> {
        OrderView::ALL.into_iter().find(|v| v.name() == text)
    }
}

/// Index entries of an order: each view it may appear in, with the sort key (unix seconds;
/// ascending scan order). Pure function of the order, so indexes can be checked against it.
pub fn views_of(order: &Order) -> Vec<(OrderView, i64)> {
    let mut views = vec![(OrderView::All, -order.tiktok.created_at.timestamp())];
    if pending_reason(order).is_some() {
        views.push((OrderView::Pending, order.paid_or_created().timestamp()));
    }
    if awaits_tracking(order) {
        let deadline = order
            .tiktok
            .ship_by
            .map(|d| d.timestamp())
            .unwrap_or(i64::MAX);
        views.push((OrderView::MissingTracking, deadline));
    }
    if order.stuck_reason().is_some() {
        let since = Flow::ALL
            .into_iter()
            .filter(|f| order.flows.get(*f).stuck_reason().is_some())
            .filter_map(|f| order.flows.get(f).updated_at)
            .chain(order.unreadable.as_ref().map(|u| u.since))
            .chain(order.open_parcel().map(|p| p.raised_at))
            .min()
            .unwrap_or(order.first_seen);
        views.push((OrderView::Stuck, since.timestamp()));
    }
    if let Some(parcel) = order.open_parcel() {
        views.push((OrderView::Parcels, parcel.raised_at.timestamp()));
    }
    views
}

/// The time-dependent part of membership: a missing-tracking candidate is only listed once the
/// link's `missing_tracking_after` has passed since payment.
pub fn is_visible(order: &Order, view: OrderView, settings: &LinkSettings, now: Timestamp) -> bool {
    is_visible_since(view, order.paid_or_created(), settings, now)
}

/// [`is_visible`] from the order's `paid_or_created()` alone, so an index scan can filter with
/// the time it keeps beside each entry instead of decoding every order.
pub fn is_visible_since(
    view: OrderView,
    paid_or_created: Timestamp,
    settings: &LinkSettings,
    now: Timestamp,
) -> bool {
    match view {
        OrderView::MissingTracking => {
            let threshold = chrono::Duration::from_std(settings.missing_tracking_after)
                .unwrap_or(chrono::Duration::MAX);
            now.signed_duration_since(paid_or_created) >= threshold
        }
        _ => true,
    }
}

/// Why the order is not in the store yet, if it should be (or would be, but for a setting).
pub fn pending_reason(order: &Order) -> Option<String> {
    if order.store.is_some() || order.tiktok.fulfillment_type == FulfillmentType::ByTiktok {
        return None;
    }
    let import = &order.flows.import;
    let reason = match (&order.tiktok.status, &import.status) {
        (_, FlowStatus::Stuck { reason }) => format!("stuck: {reason}"),
        (_, FlowStatus::Done { .. } | FlowStatus::NotApplicable { .. }) => return None,
        (OrderStatus::Unpaid, _) => "waiting: UNPAID".into(),
        (OrderStatus::OnHold, _) => "waiting: ON_HOLD (buyer-remorse window)".into(),
        (OrderStatus::AwaitingShipment, FlowStatus::Skipped { why }) => format!("skipped: {why}"),
        (OrderStatus::AwaitingShipment, FlowStatus::Queued) => match &import.last_error {
            Some(e) => format!("retrying (attempt {}): {}", import.attempts, e.message),
            None => "import queued".into(),
        },
        (OrderStatus::AwaitingShipment, FlowStatus::Waiting { why }) => format!("waiting: {why}"),
        (OrderStatus::AwaitingShipment, _) => "not imported yet".into(),
        _ => return None,
    };
    Some(reason)
}

/// Seller-shipped, released for shipping, and no tracking on TikTok yet.
fn awaits_tracking(order: &Order) -> bool {
    order.tiktok.shipping_type == ShippingType::Seller
        && order.tiktok.fulfillment_type != FulfillmentType::ByTiktok
        && matches!(
            order.tiktok.status,
            OrderStatus::AwaitingShipment | OrderStatus::PartiallyShipping
        )
        && order.pushed_tracking.is_none()
        && !order.flows.tracking.is_done()
}

/// What is known about the store side of an order missing tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorefrontKnowledge {
    NeverReachedStore,
    NotFulfilled,
    FulfilledWithoutTracking,
    /// The store has a number that has not reached TikTok (see the tracking flow for why).
    TrackingNotPushed,
}

impl StorefrontKnowledge {
    pub fn of(order: &Order) -> StorefrontKnowledge {
        match &order.store {
            None => StorefrontKnowledge::NeverReachedStore,
            Some(s) if s.first_tracking().is_some() => StorefrontKnowledge::TrackingNotPushed,
            Some(s) if s.has_fulfillment() => StorefrontKnowledge::FulfilledWithoutTracking,
            Some(_) => StorefrontKnowledge::NotFulfilled,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            StorefrontKnowledge::NeverReachedStore => "never reached the store",
            StorefrontKnowledge::NotFulfilled => "in the store, not fulfilled",
            StorefrontKnowledge::FulfilledWithoutTracking => "fulfilled without tracking",
            StorefrontKnowledge::TrackingNotPushed => "store has tracking, not on TikTok",
        }
    }
}

/// Sort key of a cancellation in the Cancellations view: buyer requests waiting for the seller
/// first, by deadline; then everything else, most recently updated first.
pub fn cancellation_sort_key(c: &Cancellation) -> (u8, i64) {
    if c.awaits_seller() {
        (
            0,
            c.seller_deadline.map(|d| d.timestamp()).unwrap_or(i64::MAX),
        )
    } else {
        (1, -c.updated_at.timestamp())
    }
}

/// How urgent a deadline is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Overdue,
    /// Less than 6 hours left.
    Critical,
    /// Less than 24 hours left.
    Soon,
    Later,
}

pub fn urgency(deadline: Option<Timestamp>, now: Timestamp) -> Urgency {
    let Some(deadline) = deadline else {
        return Urgency::Later;
    };
    let left = deadline.signed_duration_since(now);
    if left <= chrono::Duration::zero() {
        Urgency::Overdue
    } else if left < chrono::Duration::hours(6) {
        Urgency::Critical
    } else if left < chrono::Duration::hours(24) {
        Urgency::Soon
    } else {
        Urgency::Later
    }
}

#[cfg(test)]
mod tests;
