//! Units taken off an order in the store → those units cancelled on TikTok (a seller's partial
//! cancel, which TikTok takes in the US and UK), when the link relays store-side cancels. What
//! to cancel is worked out afresh from both sides at run time: per SKU, the units TikTok still
//! expects beyond what the store order holds now. So orderdeck's own removals (made because
//! TikTok cancelled those units) are never relayed back, and a re-run after a lost answer finds
//! TikTok already agreeing.

use crate::domain::cancellation::CancelStatus;
use crate::domain::job::Job;
use crate::domain::order::{Flow, FlowStatus, Order, TiktokSnapshot, Units};
use crate::domain::outcome::JobEffect;
use crate::domain::rules::cancel::{
    StorefrontEvent, TiktokCancelDecision, decide_store_to_tiktok, show_units,
};
use crate::domain::store_order::StorefrontOrder;
use crate::domain::text::sanitize;
use crate::platforms::tiktok::classify::codes;

use super::execute::{Failure, JobResult, as_if_idle, on_tiktok, refused_with, settled};
use super::{Engine, LinkRuntime};

/// Regions where TikTok takes a seller's cancel of some line items.
const PARTIAL_CANCEL_REGIONS: &[&str] = &["US", "GB", "UK"];

impl Engine {
    pub(super) async fn run_tiktok_units_cancel(
        &self,
        link: &LinkRuntime,
        _job: &Job,
        order: &Order,
        left: u32,
    ) -> JobResult {
        let settings = self.settings(&link.id);
        let undecided = as_if_idle(order, Flow::Cancellation);
        let event = StorefrontEvent::UnitsRemoved { left };
        let reason = match decide_store_to_tiktok(event, &undecided, &settings, link.platform) {
            TiktokCancelDecision::CancelTiktok { reason_code } => reason_code,
            TiktokCancelDecision::Skip { why } => return settled(FlowStatus::Skipped { why }),
            TiktokCancelDecision::Unsupported { why } | TiktokCancelDecision::Nothing { why } => {
                return settled(FlowStatus::NotApplicable { why });
            }
        };
        let store_id = order
            .store
            .as_ref()
            .map(|s| s.order_id.clone())
            .ok_or_else(|| Failure::Stuck("the order never reached the store".into()))?;
        let store = {
            let _slot = link.storefront_slots.acquire().await;
            link.storefront.order_detail(&store_id).await?
        };
        let _slot = link.tiktok_slots.acquire().await;
        let tiktok = on_tiktok(link, &order.id).await?.ok_or_else(|| {
            Failure::Stuck("TikTok's order could not be read to compare its units".into())
        })?;
        let excess = units_beyond_the_store(&tiktok, &store);
        if excess.ids.is_empty() {
            return settled(FlowStatus::NotApplicable {
                why: "the store and TikTok agree on the units left".into(),
            });
        }
        let region = link.region.trim().to_ascii_uppercase();
        if !PARTIAL_CANCEL_REGIONS.contains(&region.as_str()) {
            return Err(Failure::Stuck(format!(
                "{} taken off store order {} but TikTok takes a seller's partial cancel only in \
                 the US and the UK (this shop: {}): cancel them in TikTok Seller Center, or put \
                 them back in the store",
                show_units(&excess.units),
                sanitize(store.name.as_deref().unwrap_or(store.order_id.as_str())),
                sanitize(&region)
            )));
        }
        let status = match link
            .marketplace
            .cancel_order(&order.id, &excess.ids, &reason)
            .await
        {
            Ok(done) => done.status,
            Err(e) if refused_with(&e, codes::ALREADY_CANCELLED) => CancelStatus::Complete,
            Err(e) => return Err(Failure::Platform(e)),
        };
        Ok(JobEffect::TiktokUnitsCancelled {
            units: excess.units,
            still_expected: excess.still_expected,
            status,
            store,
        })
    }
}

/// TikTok's units beyond what the store order holds, per SKU (the last unshipped ones).
struct Excess {
    ids: Vec<String>,
    units: Vec<Units>,
    still_expected: Vec<Units>,
}

fn units_beyond_the_store(tiktok: &TiktokSnapshot, store: &StorefrontOrder) -> Excess {
    let held = store.current_units();
    let shipped: Vec<&String> = tiktok
        .packages
        .iter()
        .filter(|p| p.tracking_number.is_some())
        .flat_map(|p| p.line_item_ids.iter())
        .collect();
    let mut excess = Excess {
        ids: Vec::new(),
        units: Vec::new(),
        still_expected: Vec::new(),
    };
    for group in &tiktok.lines {
        let in_store: u32 = held
            .iter()
            .filter(|u| u.sku.trim().eq_ignore_ascii_case(group.seller_sku.trim()))
            .map(|u| u.quantity)
            .sum();
        let live: Vec<&String> = group.live_ids().collect();
        let over = live
            .len()
            .saturating_sub(usize::try_from(in_store).unwrap_or(usize::MAX));
        let chosen: Vec<String> = live
            .iter()
            .rev()
            .filter(|id| !shipped.contains(id))
            .take(over)
            .map(|id| (*id).clone())
            .collect();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Units::add(&mut excess.units, &group.seller_sku, count(chosen.len()));
        Units::add(
            &mut excess.still_expected,
            &group.seller_sku,
            count(live.len() - chosen.len()),
        );
        excess.ids.extend(chosen);
    }
    excess
}
