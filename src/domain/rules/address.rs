//! Changes after import: what the store must know to ship (the recipient, the address, the phone,
//! the buyer's message) as it was sent, and whether TikTok's latest version differs from it in a
//! way that matters. A buyer may change the address of an unshipped order on TikTok; the store
//! order must follow before the parcel leaves, and only then.
//!
//! Only real changes count: whitespace, the case of the country code, a field TikTok now shows
//! masked (`J*** S***`) or no longer shows at all are not changes, so a quiet re-run writes nothing.

use serde::{Deserialize, Serialize};

use crate::domain::order::{FlowStatus, Order, OrderStatus, StorefrontOrderStatus};
use crate::domain::rules::import::DraftAddress;

/// What the store was given to ship with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShipTo {
    pub address: DraftAddress,
    /// The buyer's message.
    pub note: Option<String>,
}

/// The shipping details of `order` as the store should have them now.
pub fn ship_to(order: &Order) -> ShipTo {
    let r = &order.tiktok.recipient;
    let (first_name, last_name) = if r.first_name.is_empty() && r.last_name.is_empty() {
        split_name(&r.name)
    } else {
        (r.first_name.clone(), r.last_name.clone())
    };
    ShipTo {
        address: DraftAddress {
            first_name,
            last_name,
            address1: r.address_lines.first().cloned().unwrap_or_default(),
            address2: r
                .address_lines
                .iter()
                .skip(1)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            city: r.city.clone(),
            province: r.province.clone(),
            country_code: r.country_code.clone(),
            zip: r.postal_code.clone(),
            phone: r.phone.clone(),
        },
        note: order
            .tiktok
            .buyer_message
            .clone()
            .filter(|m| !m.trim().is_empty()),
    }
}

fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_string(), last.to_string()),
        None => (String::new(), name.to_string()),
    }
}

/// The fields of `now` that differ from what was `sent`, by the names a person reads.
pub fn changed_fields(sent: &ShipTo, now: &ShipTo) -> Vec<&'static str> {
    let (a, b) = (&sent.address, &now.address);
    let pairs = [
        ("first name", &a.first_name, &b.first_name),
        ("last name", &a.last_name, &b.last_name),
        ("address line 1", &a.address1, &b.address1),
        ("address line 2", &a.address2, &b.address2),
        ("city", &a.city, &b.city),
        ("region", &a.province, &b.province),
        ("postcode", &a.zip, &b.zip),
        ("phone", &a.phone, &b.phone),
    ];
    let mut changed: Vec<&'static str> = pairs
        .into_iter()
        .filter(|(_, was, is)| differs(was, is))
        .map(|(name, _, _)| name)
        .collect();
    if differs(
        &a.country_code.to_uppercase(),
        &b.country_code.to_uppercase(),
    ) {
        changed.push("country");
    }
    let note = |n: &Option<String>| n.clone().unwrap_or_default();
    if differs(&note(&sent.note), &note(&now.note)) {
        changed.push("buyer message");
    }
    changed
}

/// Whether a field really changed: spacing does not count, and neither does a value TikTok now
/// masks or no longer sends (it hides personal data on some answers and after a while).
fn differs(was: &str, is: &str) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let is = squeeze(is);
    !is.is_empty() && !is.contains('*') && squeeze(was) != is
}

/// What a new TikTok version of an imported order asks of the store order's shipping details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressDecision {
    /// These fields changed: the store order must be updated (or, if it shipped, a person told).
    Update {
        changed: Vec<&'static str>,
    },
    Nothing,
}

pub fn decide_address(order: &Order) -> AddressDecision {
    let (Some(store), Some(sent)) = (&order.store, &order.sent) else {
        return AddressDecision::Nothing;
    };
    let live = store.status == StorefrontOrderStatus::Open
        && order.tiktok.status != OrderStatus::Cancelled
        && order.tiktok.recipient.is_shippable();
    // Queued: the job takes the newest details when it runs. Stuck: a person has it. Skipped:
    // the store shipped first and a person has handled it with the carrier.
    let idle = !matches!(
        order.flows.address.status,
        FlowStatus::Queued | FlowStatus::Stuck { .. } | FlowStatus::Skipped { .. }
    );
    let changed = changed_fields(sent, &ship_to(order));
    if live && idle && !changed.is_empty() {
        AddressDecision::Update { changed }
    } else {
        AddressDecision::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent() -> ShipTo {
        ShipTo {
            address: DraftAddress {
                first_name: "Amelia".into(),
                last_name: "Hughes".into(),
                address1: "1 Upper Street".into(),
                address2: "Flat 2".into(),
                city: "London".into(),
                province: "England".into(),
                country_code: "GB".into(),
                zip: "N1 9GU".into(),
                phone: "+44 7700 900123".into(),
            },
            note: Some("Leave with the neighbour".into()),
        }
    }

    #[test]
    fn only_real_changes_count() {
        let mut now = sent();
        assert!(changed_fields(&sent(), &now).is_empty());
        // Spacing, the country code's case, masked and withheld fields: no change.
        now.address.address1 = "1  Upper Street ".into();
        now.address.country_code = "gb".into();
        now.address.phone = "(+44)7700*****23".into();
        now.address.first_name = "A*****".into();
        now.address.last_name = String::new();
        assert_eq!(changed_fields(&sent(), &now), Vec::<&str>::new());
        // A new street and postcode, and a new message: those, by name.
        now.address.address1 = "22 Acacia Avenue".into();
        now.address.zip = "N1 1AA".into();
        now.note = Some("Ring twice".into());
        assert_eq!(
            changed_fields(&sent(), &now),
            ["address line 1", "postcode", "buyer message"]
        );
        now.address.country_code = "IE".into();
        assert!(changed_fields(&sent(), &now).contains(&"country"));
    }
}
