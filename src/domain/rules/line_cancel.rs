//! Partial cancellations, TikTok → store: TikTok cancelled some units of an order and the buyer
//! still wants the rest (the order stays AWAITING_SHIPMENT). Exactly the cancelled units leave
//! the store order, the platform's way, and the order ships the rest; never a whole-order
//! cancel. When the last units are cancelled the whole order is cancelled as before.
//!
//! The removal is expressed as what each SKU keeps (TikTok's units not cancelled), so running it
//! again after a lost answer finds nothing left to take off.

use crate::domain::cancellation::Cancellation;
use crate::domain::order::{LineGroup, Order, Units};
use crate::domain::rules::cancel::store_note;
use crate::domain::settings::LinkSettings;
use crate::domain::store_order::{StorefrontOrder, show_units};
use crate::domain::text;

/// Units to take off a store order without cancelling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRemoval {
    /// Per SKU, the units the order keeps. A SKU at or below its target is left alone; a SKU
    /// of the order that is not listed keeps all its units.
    pub keep: Vec<Units>,
    /// Put the removed units back in stock (the link's `restock_on_cancel`).
    pub restock: bool,
    /// TikTok's reason, for the store's staff note / order comment.
    pub note: String,
}

/// A cancellation of some of an order's units, as the store must apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialCancel {
    pub removal: UnitRemoval,
    /// The units TikTok cancelled, per SKU.
    pub cancelled: Vec<Units>,
    /// What TikTok still expects to ship.
    pub still_expected: Vec<Units>,
}

impl PartialCancel {
    /// What a person does where the store offers no way to edit an order.
    pub fn instruction(&self, store_order: &str) -> String {
        format!(
            "TikTok cancelled part of the order: remove {} from store order {}; TikTok still \
             expects {} (the store cannot take lines off an order through its API)",
            show_units(&self.cancelled),
            text::sanitize(store_order),
            show_units(&self.still_expected)
        )
    }

    /// Whether the store order, as last read in full, already holds no more than it keeps.
    pub fn already_applied(&self, store: &StorefrontOrder) -> bool {
        !store.lines.is_empty()
            && self
                .removal
                .keep
                .iter()
                .all(|keep| units_of(store, &keep.sku) <= keep.quantity)
    }

    /// The timeline's words once the store took the units off.
    pub fn done(&self, store_order: &str) -> String {
        format!(
            "took {} off store order {} ({}; no store refund: TikTok refunds the buyer); TikTok \
             still expects {}",
            show_units(&self.cancelled),
            text::sanitize(store_order),
            if self.removal.restock {
                "put back in stock"
            } else {
                "not restocked"
            },
            show_units(&self.still_expected)
        )
    }
}

fn units_of(store: &StorefrontOrder, sku: &str) -> u32 {
    store
        .lines
        .iter()
        .filter(|l| l.sku.trim().eq_ignore_ascii_case(sku.trim()))
        .map(|l| l.quantity)
        .sum()
}

/// The partial cancel `c` makes of `order`, or `None` when it cancels every unit still wanted
/// (a whole-order cancel) or names no units (a whole-order cancel as TikTok sends most).
pub fn partial_cancel(
    c: &Cancellation,
    order: &Order,
    settings: &LinkSettings,
) -> Option<PartialCancel> {
    if c.line_item_ids.is_empty() {
        return None;
    }
    let gone = |group: &LineGroup, id: &String| {
        c.line_item_ids.contains(id) || group.cancelled_ids.contains(id)
    };
    let mut keep = Vec::new();
    let mut still_expected = Vec::new();
    let mut cancelled = Vec::new();
    for group in &order.tiktok.lines {
        let kept = group.line_item_ids.iter().filter(|id| !gone(group, id));
        let kept = u32::try_from(kept.count()).unwrap_or(u32::MAX);
        let by_this = group
            .line_item_ids
            .iter()
            .filter(|id| c.line_item_ids.contains(id))
            .count();
        Units::add(
            &mut cancelled,
            &group.seller_sku,
            u32::try_from(by_this).unwrap_or(u32::MAX),
        );
        Units::add(&mut still_expected, &group.seller_sku, kept);
        // Every SKU is listed, kept or not: its target is what TikTok still wants.
        keep.push(Units {
            sku: group.seller_sku.clone(),
            quantity: kept,
        });
    }
    if still_expected.is_empty() {
        return None;
    }
    Some(PartialCancel {
        removal: UnitRemoval {
            keep,
            restock: settings.restock_on_cancel,
            note: store_note(c),
        },
        cancelled,
        still_expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{LineUnit, group_line_items};
    use crate::domain::rules::fixtures::{in_store, paid, t};

    fn order() -> Order {
        let unit = |id: &str, sku: &str| LineUnit {
            id: id.into(),
            sku_id: format!("id-{sku}"),
            seller_sku: sku.into(),
            ..LineUnit::default()
        };
        let mut order = in_store(paid(), vec![]);
        order.tiktok.lines =
            group_line_items(&[unit("r1", "RED"), unit("b1", "BLUE"), unit("r2", "RED")]);
        order
    }

    fn cancelling(ids: &[&str]) -> Cancellation {
        let mut c = crate::domain::reactor::cancellation_from_order(&order(), true, t(0));
        c.line_item_ids = ids.iter().map(|s| (*s).to_string()).collect();
        c
    }

    #[test]
    fn one_cancelled_unit_leaves_the_rest_expected() {
        let settings = LinkSettings::default();
        let partial = partial_cancel(&cancelling(&["b1"]), &order(), &settings).unwrap();
        assert_eq!(show_units(&partial.cancelled), "1 × BLUE");
        assert_eq!(show_units(&partial.still_expected), "2 × RED");
        assert_eq!(
            partial.removal.keep,
            [
                Units {
                    sku: "RED".into(),
                    quantity: 2
                },
                Units {
                    sku: "BLUE".into(),
                    quantity: 0
                }
            ]
        );
        assert!(
            partial
                .instruction("#1004")
                .starts_with("TikTok cancelled part of the order: remove 1 × BLUE from store order #1004; TikTok still expects 2 × RED"),
        );
    }

    #[test]
    fn the_last_units_or_no_units_named_mean_the_whole_order() {
        let settings = LinkSettings::default();
        let mut order = order();
        order.tiktok.lines[0].cancelled_ids = vec!["r1".into(), "r2".into()];
        assert_eq!(
            partial_cancel(&cancelling(&["b1"]), &order, &settings),
            None
        );
        assert_eq!(
            partial_cancel(&cancelling(&[]), &self::order(), &settings),
            None
        );
        assert_eq!(
            partial_cancel(&cancelling(&["r1", "b1", "r2"]), &self::order(), &settings),
            None
        );
    }
}
