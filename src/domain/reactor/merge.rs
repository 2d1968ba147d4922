//! Merging what a platform says into the order: TikTok's newer snapshot (or its unreadable
//! version, held), and the store's latest read with the events it reveals (a cancel, a refund,
//! units taken off, a new tracking number), each noted on the timeline once.

use super::store_label;
use crate::domain::clock::Timestamp;
use crate::domain::order::{
    Flow, Order, StorefrontOrder, StorefrontOrderStatus, TiktokSnapshot, UnreadableVersion,
};
use crate::domain::rules::cancel::StorefrontEvent;

/// Takes a newer TikTok snapshot. Older or identical snapshots are ignored (polls overlap).
pub fn merge_snapshot(order: &mut Order, snapshot: TiktokSnapshot, now: Timestamp) -> bool {
    if snapshot.updated_at < order.tiktok.updated_at || snapshot == order.tiktok {
        return false;
    }
    if order.unreadable.take().is_some() {
        order.note(
            now,
            None,
            "TikTok sent a readable version: the order is no longer held",
        );
    }
    if snapshot.status != order.tiktok.status {
        order.note(
            now,
            None,
            format!(
                "TikTok status {} → {}",
                order.tiktok.status, snapshot.status
            ),
        );
    }
    order.tiktok = snapshot;
    true
}

/// TikTok sent a version of the order that cannot be read (`why` names the field): keep the
/// last readable version, and list the order as stuck until a readable one arrives. Returns
/// whether anything changed (the same damage seen again changes nothing).
pub fn hold_unreadable(order: &mut Order, why: &str, now: Timestamp) -> bool {
    if order.unreadable.as_ref().is_some_and(|u| u.why == why) {
        return false;
    }
    let kept = if order.tiktok.updated_at == Timestamp::default() {
        "nothing is imported"
    } else {
        "orderdeck keeps working from the last version it could read"
    };
    order.note(
        now,
        None,
        format!("TikTok sent a version of this order that cannot be read ({why}); {kept} until TikTok sends a readable one"),
    );
    order.unreadable = Some(UnreadableVersion {
        why: why.to_string(),
        since: now,
    });
    true
}

/// Takes the store's latest view of its order; returns the store events it reveals.
pub fn merge_store(
    order: &mut Order,
    mut store: StorefrontOrder,
    now: Timestamp,
) -> Vec<StorefrontEvent> {
    let before = order.store.take();
    if let Some(before) = &before {
        keep_known_lines(&mut store, before);
    }
    if before
        .as_ref()
        .is_some_and(|s| s.updated_at > store.updated_at || *s == store)
    {
        order.store = before;
        return Vec::new();
    }
    let was_cancelled = before
        .as_ref()
        .is_some_and(|s| s.status == StorefrontOrderStatus::Cancelled);
    let was_refunded = before.as_ref().is_some_and(|s| s.refunded);
    let had_tracking: Vec<String> = before
        .iter()
        .flat_map(|s| s.live_fulfillments())
        .filter_map(|f| f.tracking_number())
        .map(|t| t.number.clone())
        .collect();
    let mut events = Vec::new();
    if store.status == StorefrontOrderStatus::Cancelled && !was_cancelled {
        order.note(
            now,
            None,
            format!("store order {} cancelled", store_label(&store)),
        );
        events.push(StorefrontEvent::OrderCancelled);
    }
    let units_before = before.as_ref().and_then(StorefrontOrder::units_now);
    if let (Some(was), Some(left)) = (units_before, store.units_now())
        && left < was
        && left > 0
        && store.status != StorefrontOrderStatus::Cancelled
    {
        order.note(
            now,
            None,
            format!(
                "{} unit(s) taken off store order {} ({left} left)",
                was - left,
                store_label(&store)
            ),
        );
        events.push(StorefrontEvent::UnitsRemoved { left });
    }
    if store.refunded && !was_refunded {
        order.note(
            now,
            None,
            format!("store order {} refunded", store_label(&store)),
        );
        events.push(StorefrontEvent::Refunded);
    }
    for t in store
        .live_fulfillments()
        .filter_map(|f| f.tracking_number())
        .filter(|t| !had_tracking.contains(&t.number))
    {
        order.note(
            now,
            Some(Flow::Tracking),
            format!(
                "store has tracking {}",
                crate::domain::text::sanitize(&t.number)
            ),
        );
    }
    order.store = Some(store);
    events
}

/// A poll reads less than a full read (Shopify's leaves out lines, to stay cheap): what the
/// last full read said about the order's lines and each parcel's units stays until a read that
/// says them again.
fn keep_known_lines(store: &mut StorefrontOrder, before: &StorefrontOrder) {
    if store.lines.is_empty() {
        store.lines.clone_from(&before.lines);
    }
    for fulfillment in &mut store.fulfillments {
        if fulfillment.lines.is_empty()
            && let Some(known) = before.fulfillments.iter().find(|f| f.id == fulfillment.id)
        {
            fulfillment.lines.clone_from(&known.lines);
        }
    }
}
