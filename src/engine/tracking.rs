//! The tracking executor: tells TikTok about one store parcel per run — a new package holding
//! exactly the units that parcel ships, or a corrected number for a package TikTok has — and
//! returns what TikTok took, so it is recorded before the next parcel goes (the rules queue the
//! next run). Which units a parcel holds is read from the store's full order when TikTok's
//! order has more than one unit; what TikTok already holds is read back from TikTok after a
//! lost answer or an "already shipped" refusal, so no unit is ever shipped twice.

use crate::domain::clock::Timestamp;
use crate::domain::ids::PackageId;
use crate::domain::job::Job;
use crate::domain::order::{Flow, FlowStatus, Order, TiktokSnapshot};
use crate::domain::outcome::JobEffect;
use crate::domain::rules::packages::{
    PackageWork, PushedPackage, check_correction, legacy_package,
};
use crate::domain::rules::tracking::{
    ShipMethod, ShippingProvider, TrackingDecision, check_pushable, decide_tracking,
    resolve_provider, ship_method,
};
use crate::domain::text::sanitize;
use crate::platforms::tiktok::classify::codes;

use super::execute::{Failure, JobResult, as_if_idle, on_tiktok, refused_with, settled};
use super::{Engine, LinkRuntime};

impl Engine {
    pub(super) async fn run_tracking(
        &self,
        link: &LinkRuntime,
        job: &Job,
        order: &Order,
    ) -> JobResult {
        let settings = self.settings(&link.id);
        let mut order = as_if_idle(order, Flow::Tracking);
        let detail = self.read_parcels(link, &order).await?;
        if let Some(store) = &detail {
            order.store = Some(store.clone());
        }
        let work = match decide_tracking(&order, &settings) {
            TrackingDecision::Push { mut work } => work.remove(0),
            // A resync re-sends the number of the order's one parcel even if TikTok has it.
            TrackingDecision::Nothing { why } => match resend(&order) {
                Some(work) if job.request.is_some() => work,
                _ => return settled(FlowStatus::NotApplicable { why }),
            },
            TrackingDecision::Wait { why } => return settled(FlowStatus::Waiting { why }),
            TrackingDecision::Skip { why } => return settled(FlowStatus::Skipped { why }),
        };
        check_pushable(work.number()).map_err(Failure::Stuck)?;
        let _slot = link.tiktok_slots.acquire().await;
        if job.maybe_applied
            && let Some(current) = on_tiktok(link, &order.id).await?
            && let Some(package) = taken_by_tiktok(&current, &work)
        {
            return Ok(pushed(&order, work, package, None, detail, self.now()));
        }
        let provider = self.provider_for(link, &order, work.carrier()).await?;
        let package = match &work {
            PackageWork::Correct { pushed, .. } => {
                let parcels = order.pushed_packages.len().max(1);
                check_correction(pushed, work.number(), parcels, self.now())
                    .map_err(Failure::Stuck)?;
                link.marketplace
                    .update_shipping_info(&order.id, work.number(), &provider.id)
                    .await?;
                pushed.package_id.clone()
            }
            PackageWork::Ship { line_item_ids, .. } => {
                let package = match tiktok_package(&order.tiktok, line_item_ids, &link.region) {
                    Ok(package) => package,
                    // The packages kept may predate a partial cancel orderdeck learnt of from
                    // its cancellation record: TikTok's order as it is now decides before a
                    // person is asked to split a package.
                    Err(kept) => match on_tiktok(link, &order.id).await? {
                        Some(current) => tiktok_package(&current, line_item_ids, &link.region)?,
                        None => return Err(kept),
                    },
                };
                let number = work.number();
                match link
                    .marketplace
                    .ship(
                        &order.id,
                        package.as_ref(),
                        line_item_ids,
                        number,
                        &provider.id,
                    )
                    .await
                {
                    Ok(shipped) => shipped.package_id.or(package),
                    // Shipped already: by us (a lost answer) or by someone else. TikTok knows which.
                    Err(e) if refused_with(&e, codes::ALREADY_SHIPPED) => {
                        let current = on_tiktok(link, &order.id).await?.ok_or(e)?;
                        taken_by_tiktok(&current, &work).ok_or_else(|| {
                            Failure::Stuck(already_shipped_otherwise(&current, number))
                        })?
                    }
                    Err(e) => return Err(Failure::Platform(e)),
                }
            }
        };
        let now = self.now();
        Ok(pushed(&order, work, package, Some(provider), detail, now))
    }

    /// The store's full order when TikTok's has more than one unit and some parcel does not say
    /// which units it holds (polls read less, to stay cheap).
    async fn read_parcels(
        &self,
        link: &LinkRuntime,
        order: &Order,
    ) -> Result<Option<crate::domain::order::StorefrontOrder>, Failure> {
        let Some(store) = &order.store else {
            return Ok(None);
        };
        let units: u32 = order.tiktok.lines.iter().map(|l| l.live_quantity()).sum();
        let unknown = store
            .live_fulfillments()
            .any(|f| f.lines.is_empty() && f.tracking_number().is_some());
        if units <= 1 || !unknown {
            return Ok(None);
        }
        let _slot = link.storefront_slots.acquire().await;
        Ok(Some(link.storefront.order_detail(&store.order_id).await?))
    }

    /// TikTok's shipping provider for the store's carrier: from the cached list, else from a
    /// fresh one before calling the order stuck.
    async fn provider_for(
        &self,
        link: &LinkRuntime,
        order: &Order,
        carrier: Option<&str>,
    ) -> Result<ShippingProvider, Failure> {
        let settings = self.settings(&link.id);
        let delivery_option = order.tiktok.delivery_option_id.clone().ok_or_else(|| {
            Failure::Stuck(
                "TikTok sent no delivery_option_id, so its shipping providers cannot be listed"
                    .into(),
            )
        })?;
        let cached = self
            .shipping_providers(link, &delivery_option, false)
            .await?;
        if let Ok(provider) = resolve_provider(carrier, &settings, &cached) {
            return Ok(provider.clone());
        }
        let fresh = self
            .shipping_providers(link, &delivery_option, true)
            .await?;
        resolve_provider(carrier, &settings, &fresh)
            .cloned()
            .map_err(Failure::Blocked)
    }
}

/// What a resync re-sends: the current number of the order's one parcel, as a correction.
fn resend(order: &Order) -> Option<PackageWork> {
    let store = order.store.as_ref()?;
    let mut parcels = store.live_fulfillments();
    let parcel = parcels.next()?;
    if parcels.next().is_some() || order.pushed_packages.len() > 1 {
        return None;
    }
    let tracking = parcel.tracking_number()?;
    let pushed = order
        .pushed_packages
        .first()
        .cloned()
        .or_else(|| legacy_package(order, parcel))?;
    Some(PackageWork::Correct {
        fulfillment_id: parcel.id.clone(),
        number: tracking.number.trim().to_string(),
        carrier: tracking.carrier.clone(),
        pushed,
    })
}

/// The TikTok package to ship. Regions that ship by package ship the package TikTok made at
/// payment, which must hold exactly the parcel's units (TikTok cannot ship part of one there);
/// elsewhere TikTok makes the package from the line items sent.
fn tiktok_package(
    tiktok: &TiktokSnapshot,
    line_item_ids: &[String],
    region: &str,
) -> Result<Option<PackageId>, Failure> {
    if ship_method(region) == ShipMethod::MarkPackageShipped {
        return Ok(tiktok.packages.first().map(|p| p.id.clone()));
    }
    let untracked: Vec<_> = tiktok
        .packages
        .iter()
        .filter(|p| p.tracking_number.is_none())
        .collect();
    let exact = untracked.iter().find(|p| {
        p.line_item_ids.is_empty() && untracked.len() == 1
            || (p.line_item_ids.len() == line_item_ids.len()
                && p.line_item_ids.iter().all(|id| line_item_ids.contains(id)))
    });
    match exact {
        Some(package) => Ok(Some(package.id.clone())),
        None => Err(Failure::Stuck(format!(
            "the store shipped line items {} in one parcel, but TikTok packed this order as {}: \
             in region {} a package ships whole, so ship the parcels as TikTok packed them or \
             split the package in TikTok Seller Center",
            sanitize(&line_item_ids.join(", ")),
            untracked
                .iter()
                .map(|p| format!(
                    "{} ({})",
                    sanitize(p.id.as_str()),
                    sanitize(&p.line_item_ids.join(", "))
                ))
                .collect::<Vec<_>>()
                .join(", "),
            sanitize(region)
        ))),
    }
}

/// Whether TikTok already holds this parcel's number, and in which package.
fn taken_by_tiktok(current: &TiktokSnapshot, work: &PackageWork) -> Option<Option<PackageId>> {
    let number = work.number();
    if let Some(package) = current
        .packages
        .iter()
        .find(|p| p.tracking_number.as_deref() == Some(number))
    {
        return Some(Some(package.id.clone()));
    }
    (current.tracking_number.as_deref() == Some(number)).then_some(None)
}

fn already_shipped_otherwise(current: &TiktokSnapshot, number: &str) -> String {
    let theirs: Vec<String> = current
        .packages
        .iter()
        .filter_map(|p| p.tracking_number.as_deref())
        .chain(current.tracking_number.as_deref())
        .map(sanitize)
        .collect();
    format!(
        "TikTok already has tracking {} for these units, not the store's {}: correct it with a \
         tracking resync",
        if theirs.is_empty() {
            "(none shown)".to_string()
        } else {
            theirs.join(", ")
        },
        sanitize(number)
    )
}

/// The effect of a parcel TikTok took: the package as recorded, with the store's full read
/// when one was made (so the order detail shows which units each parcel holds).
fn pushed(
    order: &Order,
    work: PackageWork,
    package_id: Option<PackageId>,
    provider: Option<ShippingProvider>,
    store: Option<crate::domain::order::StorefrontOrder>,
    now: Timestamp,
) -> JobEffect {
    let whole = |ids: &[String]| {
        let live = order.tiktok.lines.iter().flat_map(|l| l.live_ids()).count();
        ids.len() == live
    };
    let provider_name = |fallback: &str| {
        provider
            .as_ref()
            .map_or_else(|| fallback.to_string(), |p| p.name.clone())
    };
    let (package, corrected_from, units) = match work {
        PackageWork::Ship {
            fulfillment_id,
            number,
            line_item_ids,
            units,
            ..
        } => {
            let units = if whole(&line_item_ids) {
                Vec::new()
            } else {
                units
            };
            let package = PushedPackage {
                fulfillment_id,
                tracking_number: number,
                provider: provider_name(""),
                line_item_ids,
                package_id,
                at: now,
            };
            (package, None, units)
        }
        PackageWork::Correct { number, pushed, .. } => {
            let was = pushed.tracking_number.clone();
            let package = PushedPackage {
                tracking_number: number,
                provider: provider_name(&pushed.provider),
                package_id: package_id.or(pushed.package_id.clone()),
                ..pushed
            };
            (package, Some(was), Vec::new())
        }
    };
    JobEffect::TrackingPushed {
        package,
        corrected_from,
        units,
        store,
    }
}
