//! Labels: when TikTok ships (`shipping_type = TIKTOK`) TikTok makes the label; orderdeck fetches
//! the shipping document right away (its URL lives 24 h) so staff can reprint it from one place.

use crate::domain::ids::PackageId;
use crate::domain::order::{FlowStatus, Order, OrderStatus, ShippingType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelDecision {
    Fetch { package: PackageId },
    Wait { why: String },
    Nothing { why: String },
}

/// Whether a label exists to fetch, on demand (`reprint`) or automatically once TikTok has one.
pub fn decide_label(order: &Order, reprint: bool) -> LabelDecision {
    use LabelDecision::*;
    if order.tiktok.shipping_type != ShippingType::Tiktok {
        return Nothing {
            why: "the seller ships this order with their own carrier: TikTok has no label for it"
                .into(),
        };
    }
    if order.tiktok.status == OrderStatus::Cancelled {
        return Nothing {
            why: "cancelled on TikTok".into(),
        };
    }
    let Some(package) = order.tiktok.packages.first() else {
        return Wait {
            why: "TikTok has not created a package yet: arrange shipment first".into(),
        };
    };
    if !reprint {
        if order.label_file.is_some() {
            return Nothing {
                why: "label already saved".into(),
            };
        }
        if matches!(
            order.flows.label.status,
            FlowStatus::Queued | FlowStatus::Stuck { .. }
        ) {
            return Nothing {
                why: "label fetch already queued or stuck".into(),
            };
        }
        if !matches!(
            order.tiktok.status,
            OrderStatus::AwaitingCollection | OrderStatus::PartiallyShipping
        ) {
            return Wait {
                why: format!(
                    "TikTok generates the label once shipment is arranged (status is {})",
                    order.tiktok.status
                ),
            };
        }
    }
    Fetch {
        package: package.id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::fixtures::*;

    #[test]
    fn label_decisions() {
        let tiktok = |status| order(status, ShippingType::Tiktok);
        let mut saved = tiktok(OrderStatus::AwaitingCollection);
        saved.label_file = Some("/data/labels/1.pdf".into());
        let mut no_package = tiktok(OrderStatus::AwaitingCollection);
        no_package.tiktok.packages.clear();
        // (order, reprint, expected)
        let table = [
            (
                order(OrderStatus::AwaitingCollection, ShippingType::Seller),
                false,
                "nothing",
            ),
            (
                order(OrderStatus::AwaitingCollection, ShippingType::Seller),
                true,
                "nothing",
            ),
            (tiktok(OrderStatus::AwaitingShipment), false, "wait"),
            (tiktok(OrderStatus::AwaitingShipment), true, "fetch"),
            (tiktok(OrderStatus::AwaitingCollection), false, "fetch"),
            (tiktok(OrderStatus::Cancelled), true, "nothing"),
            (saved.clone(), false, "nothing"),
            (saved, true, "fetch"),
            (no_package, true, "wait"),
        ];
        for (i, (o, reprint, expected)) in table.iter().enumerate() {
            let got = match decide_label(o, *reprint) {
                LabelDecision::Fetch { .. } => "fetch",
                LabelDecision::Wait { .. } => "wait",
                LabelDecision::Nothing { .. } => "nothing",
            };
            assert_eq!(got, *expected, "row {i}");
        }
    }
}
