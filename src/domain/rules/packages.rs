//! Split shipments: each store fulfillment is one parcel, and becomes its own TikTok package
//! holding exactly the units it ships, with its own tracking number. Store lines map to TikTok's
//! per-unit line items by SKU and count. A unit is never shipped twice: units in a package
//! orderdeck pushed, or that TikTok already shows in a tracked package (pushed by someone else,
//! or by a lost answer), or that TikTok cancelled, are not offered again. A fulfillment that
//! arrives later is planned later; a tracking number changed in the store is a correction of
//! the package it went out as.

use serde::{Deserialize, Serialize};

use crate::domain::clock::Timestamp;
use crate::domain::ids::PackageId;
use crate::domain::order::{Fulfillment, LineGroup, Order, Units};
use crate::domain::text;

/// How long after shipping TikTok accepts a corrected tracking number (its US window).
pub const CORRECTION_WINDOW_HOURS: i64 = 72;

/// A parcel orderdeck told TikTok about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedPackage {
    /// The store fulfillment (parcel) it stands for.
    pub fulfillment_id: String,
    pub tracking_number: String,
    /// TikTok's shipping provider, by name.
    pub provider: String,
    /// TikTok's line items it holds.
    pub line_item_ids: Vec<String>,
    /// TikTok's package, when TikTok said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<PackageId>,
    /// When TikTok took it (the correction window runs from here).
    pub at: Timestamp,
}

/// One thing to tell TikTok about one parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageWork {
    /// A parcel TikTok has not heard of: ship these units with this tracking.
    Ship {
        fulfillment_id: String,
        number: String,
        carrier: Option<String>,
        line_item_ids: Vec<String>,
        /// The same units per SKU, for the timeline.
        units: Vec<Units>,
    },
    /// The store changed the tracking number of a parcel TikTok already has.
    Correct {
        fulfillment_id: String,
        number: String,
        carrier: Option<String>,
        pushed: PushedPackage,
    },
}

impl PackageWork {
    pub fn number(&self) -> &str {
        match self {
            PackageWork::Ship { number, .. } | PackageWork::Correct { number, .. } => number,
        }
    }

    pub fn carrier(&self) -> Option<&str> {
        match self {
            PackageWork::Ship { carrier, .. } | PackageWork::Correct { carrier, .. } => {
                carrier.as_deref()
            }
        }
    }
}

/// What is left to tell TikTok, parcel by parcel, in the order the store shipped them.
/// A fulfillment whose lines are not known (a cheap read) stands for every unit still to ship.
pub fn plan_packages(order: &Order) -> Vec<PackageWork> {
    let Some(store) = &order.store else {
        return Vec::new();
    };
    let mut taken = shipped_ids(order);
    let mut work = Vec::new();
    let mut fulfillments: Vec<&Fulfillment> = store.live_fulfillments().collect();
    fulfillments.sort_by_key(|f| f.created_at);
    for fulfillment in fulfillments {
        let Some(tracking) = fulfillment.tracking_number() else {
            continue;
        };
        let number = tracking.number.trim().to_string();
        let carrier = tracking.carrier.clone();
        if let Some(pushed) = order
            .pushed_packages
            .iter()
            .find(|p| p.fulfillment_id == fulfillment.id)
        {
            if pushed.tracking_number != number && !on_tiktok(order, &number) {
                work.push(PackageWork::Correct {
                    fulfillment_id: fulfillment.id.clone(),
                    number,
                    carrier,
                    pushed: pushed.clone(),
                });
            }
            continue;
        }
        if on_tiktok(order, &number) {
            continue;
        }
        if let Some(legacy) = legacy_package(order, fulfillment) {
            if legacy.tracking_number != number {
                work.push(PackageWork::Correct {
                    fulfillment_id: fulfillment.id.clone(),
                    number,
                    carrier,
                    pushed: legacy,
                });
            }
            continue;
        }
        let (line_item_ids, units) = assign(&order.tiktok.lines, fulfillment, &taken);
        if line_item_ids.is_empty() {
            // Every unit it holds is shipped already (or TikTok does not expect it).
            continue;
        }
        taken.extend(line_item_ids.iter().cloned());
        work.push(PackageWork::Ship {
            fulfillment_id: fulfillment.id.clone(),
            number,
            carrier,
            line_item_ids,
            units,
        });
    }
    work
}

/// Whether TikTok already holds this tracking number (on the order, or on one of its packages):
/// pushed by orderdeck, by someone in Seller Center, or by a write whose answer was lost.
fn on_tiktok(order: &Order, number: &str) -> bool {
    order
        .pushed_packages
        .iter()
        .any(|p| p.tracking_number == number)
        || order.pushed_tracking.as_deref() == Some(number)
        || order.tiktok.tracking_number.as_deref().map(str::trim) == Some(number)
        || order
            .tiktok
            .packages
            .iter()
            .any(|p| p.tracking_number.as_deref().map(str::trim) == Some(number))
}

/// An order tracked before orderdeck kept packages: its one pushed number stands for the
/// store's only parcel, so a changed number there is a correction, not a second shipment.
pub fn legacy_package(order: &Order, fulfillment: &Fulfillment) -> Option<PushedPackage> {
    let number = order.pushed_tracking.clone()?;
    let store = order.store.as_ref()?;
    (order.pushed_packages.is_empty() && store.live_fulfillments().count() == 1).then(|| {
        PushedPackage {
            fulfillment_id: fulfillment.id.clone(),
            tracking_number: number,
            provider: order.tiktok.shipping_provider.clone().unwrap_or_default(),
            line_item_ids: order
                .tiktok
                .lines
                .iter()
                .flat_map(|l| l.live_ids().cloned())
                .collect(),
            package_id: order.tiktok.packages.first().map(|p| p.id.clone()),
            at: fulfillment.created_at.unwrap_or(order.first_seen),
        }
    })
}

/// TikTok line items that must not ship again: in a package orderdeck pushed, in a package
/// TikTok shows tracked, or cancelled.
fn shipped_ids(order: &Order) -> Vec<String> {
    let mut ids: Vec<String> = order
        .pushed_packages
        .iter()
        .flat_map(|p| p.line_item_ids.iter().cloned())
        .collect();
    for package in &order.tiktok.packages {
        if package.tracking_number.is_some() {
            ids.extend(package.line_item_ids.iter().cloned());
        }
    }
    for line in &order.tiktok.lines {
        ids.extend(line.cancelled_ids.iter().cloned());
    }
    ids
}

/// The TikTok units a parcel ships: per SKU as many not-yet-shipped units as the parcel holds
/// (SKUs compared as the store and TikTok spell them, ignoring case and outer spaces); every
/// unit still to ship when the parcel's lines are not known.
fn assign(
    lines: &[LineGroup],
    fulfillment: &Fulfillment,
    taken: &[String],
) -> (Vec<String>, Vec<Units>) {
    let free = |group: &LineGroup| {
        group
            .live_ids()
            .filter(|id| !taken.contains(id))
            .cloned()
            .collect::<Vec<_>>()
    };
    let mut ids = Vec::new();
    let mut units = Vec::new();
    for group in lines {
        let available = free(group);
        let wanted = if fulfillment.lines.is_empty() {
            available.len()
        } else {
            fulfillment
                .lines
                .iter()
                .filter(|u| same_sku(&u.sku, &group.seller_sku))
                .map(|u| u.quantity as usize)
                .sum()
        };
        let chosen: Vec<String> = available.into_iter().take(wanted).collect();
        Units::add(
            &mut units,
            &group.seller_sku,
            u32::try_from(chosen.len()).unwrap_or(u32::MAX),
        );
        ids.extend(chosen);
    }
    (ids, units)
}

fn same_sku(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Whether a correction still reaches TikTok, or why not.
pub fn check_correction(
    pushed: &PushedPackage,
    number: &str,
    packages_on_order: usize,
    now: Timestamp,
) -> Result<(), String> {
    let was = text::sanitize(&pushed.tracking_number);
    let now_number = text::sanitize(number);
    if now - pushed.at > chrono::Duration::hours(CORRECTION_WINDOW_HOURS) {
        return Err(format!(
            "the store changed the tracking of a parcel from {was} to {now_number} more than \
             {CORRECTION_WINDOW_HOURS} hours after it shipped ({}): TikTok no longer takes \
             corrections; correct it in TikTok Seller Center or with TikTok support",
            pushed.at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if packages_on_order > 1 {
        return Err(format!(
            "the store changed the tracking of one of this order's {packages_on_order} parcels \
             from {was} to {now_number}: TikTok's Update Shipping Info corrects an order, not \
             one package; correct package {} in TikTok Seller Center",
            pushed
                .package_id
                .as_ref()
                .map_or_else(|| "?".to_string(), |p| text::sanitize(p.as_str()))
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{LineUnit, Tracking, group_line_items};
    use crate::domain::rules::fixtures::{in_store, paid, t};

    fn unit(id: &str, sku: &str) -> LineUnit {
        LineUnit {
            id: id.into(),
            sku_id: format!("id-{sku}"),
            seller_sku: sku.into(),
            ..LineUnit::default()
        }
    }

    fn parcel(id: &str, number: &str, at: i64, lines: &[(&str, u32)]) -> Fulfillment {
        Fulfillment {
            id: id.into(),
            status: "SUCCESS".into(),
            created_at: Some(t(at)),
            tracking: vec![Tracking {
                number: number.into(),
                carrier: Some("UPS".into()),
                url: None,
            }],
            lines: lines
                .iter()
                .map(|(sku, quantity)| Units {
                    sku: (*sku).into(),
                    quantity: *quantity,
                })
                .collect(),
        }
    }

    /// RED × 2 and BLUE × 1, as TikTok sends them: one line item per unit.
    fn two_skus(parcels: Vec<Fulfillment>) -> Order {
        let mut order = in_store(paid(), parcels);
        order.tiktok.lines =
            group_line_items(&[unit("r1", "RED"), unit("b1", "BLUE"), unit("r2", "RED")]);
        order.tiktok.packages.clear();
        order
    }

    fn shipped(work: &[PackageWork]) -> Vec<(String, Vec<String>)> {
        work.iter()
            .map(|w| match w {
                PackageWork::Ship {
                    number,
                    line_item_ids,
                    ..
                } => (number.clone(), line_item_ids.clone()),
                PackageWork::Correct { number, .. } => (format!("fix {number}"), vec![]),
            })
            .collect()
    }

    fn pushed(fulfillment: &str, number: &str, ids: &[&str], at: i64) -> PushedPackage {
        PushedPackage {
            fulfillment_id: fulfillment.into(),
            tracking_number: number.into(),
            provider: "UPS".into(),
            line_item_ids: ids.iter().map(|s| (*s).to_string()).collect(),
            package_id: Some(PackageId::new(format!("pkg-{number}")).unwrap()),
            at: t(at),
        }
    }

    #[test]
    fn two_parcels_become_two_packages_with_their_own_units() {
        let order = two_skus(vec![
            parcel("F2", "USPS-2", 200, &[("blue", 1)]),
            parcel("F1", "UPS-1", 100, &[("RED", 2)]),
        ]);
        assert_eq!(
            shipped(&plan_packages(&order)),
            [
                (
                    "UPS-1".to_string(),
                    vec!["r1".to_string(), "r2".to_string()]
                ),
                ("USPS-2".to_string(), vec!["b1".to_string()]),
            ]
        );
    }

    #[test]
    fn a_parcel_of_unknown_lines_takes_what_is_still_to_ship_and_nothing_ships_twice() {
        let mut order = two_skus(vec![
            parcel("F1", "UPS-1", 100, &[("RED", 1)]),
            parcel("F2", "UPS-2", 200, &[]),
        ]);
        assert_eq!(
            shipped(&plan_packages(&order)),
            [
                ("UPS-1".to_string(), vec!["r1".to_string()]),
                (
                    "UPS-2".to_string(),
                    vec!["r2".to_string(), "b1".to_string()]
                ),
            ]
        );
        // Once both are pushed, a re-plan finds nothing; a third parcel of the same units too.
        order.pushed_packages = vec![
            pushed("F1", "UPS-1", &["r1"], 100),
            pushed("F2", "UPS-2", &["b1", "r2"], 200),
        ];
        order
            .store
            .as_mut()
            .unwrap()
            .fulfillments
            .push(parcel("F3", "UPS-3", 300, &[("RED", 1)]));
        assert!(plan_packages(&order).is_empty());
    }

    #[test]
    fn cancelled_units_and_units_tiktok_shows_tracked_are_not_shipped() {
        let mut order = two_skus(vec![parcel("F1", "UPS-1", 100, &[])]);
        order.tiktok.lines[0].cancelled_ids = vec!["r2".into()];
        order.tiktok.packages = vec![crate::domain::order::Package {
            id: PackageId::new("pkg-x").unwrap(),
            tracking_number: Some("BYHAND".into()),
            line_item_ids: vec!["b1".into()],
        }];
        assert_eq!(
            shipped(&plan_packages(&order)),
            [("UPS-1".to_string(), vec!["r1".to_string()])]
        );
    }

    #[test]
    fn a_number_tiktok_already_has_is_not_pushed_and_a_changed_one_is_a_correction() {
        let mut order = two_skus(vec![parcel("F1", "UPS-1", 100, &[])]);
        order.tiktok.tracking_number = Some("UPS-1".into());
        assert!(plan_packages(&order).is_empty());

        let mut order = two_skus(vec![parcel("F1", "UPS-9", 100, &[])]);
        order.pushed_packages = vec![pushed("F1", "UPS-1", &["r1", "b1", "r2"], 100)];
        assert_eq!(
            shipped(&plan_packages(&order)),
            [("fix UPS-9".into(), vec![])]
        );

        // Tracked before packages were kept: the one pushed number is that parcel's.
        let mut legacy = two_skus(vec![parcel("F1", "UPS-9", 100, &[])]);
        legacy.pushed_tracking = Some("UPS-1".into());
        assert_eq!(
            shipped(&plan_packages(&legacy)),
            [("fix UPS-9".into(), vec![])]
        );
    }

    #[test]
    fn corrections_within_the_window_of_a_one_package_order_only() {
        let p = pushed("F1", "UPS-1", &["r1"], 0);
        assert_eq!(check_correction(&p, "UPS-9", 1, t(71 * 3600)), Ok(()));
        let late = check_correction(&p, "UPS-9", 1, t(73 * 3600)).unwrap_err();
        assert!(
            late.contains("more than 72 hours after it shipped"),
            "{late}"
        );
        let several = check_correction(&p, "UPS-9", 2, t(3600)).unwrap_err();
        assert!(
            several.contains("correct package pkg-UPS-1 in TikTok Seller Center"),
            "{several}"
        );
    }
}
