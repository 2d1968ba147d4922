//! A year of past orders, made up: what `orderdeck demo --orders N` preloads so anyone can feel
//! the console at a million orders, and what `benches/store.rs` measures the store with. Most
//! orders are delivered, in the store and tracked; one in fifty is stuck (a SKU the store lacks),
//! and the newest few are paid and waiting for tracking. Buyers, SKUs, store order numbers and
//! tracking numbers vary, so filters and sorts have something to find.
//!
//! Loading goes in batches of [`BATCH`] orders through `Store::import_orders` (bulk inserts
//! per tree, one flush), never a flush per order.

use chrono::Duration;

use crate::domain::clock::Timestamp;
use crate::domain::ids::{LinkId, PackageId, StorefrontOrderId, TiktokOrderId};
use crate::domain::order::{
    FlowStatus, FulfillmentType, LineUnit, Order, OrderStatus, Package, Recipient, ShippingType,
    TiktokSnapshot, group_line_items,
};
use crate::domain::store_order::{Fulfillment, StorefrontOrder, StorefrontOrderStatus, Tracking};
use crate::sandbox::scenario::FIRST_ORDER_NUMBER;
use crate::store::Store;

/// Orders per import while loading: each import flushes twice (see `Store::import_orders`), so
/// fewer, larger ones save a million-order load hundreds of fsyncs.
pub const BATCH: usize = 10_000;

const FIRST_NAMES: [&str; 10] = [
    "David", "Amara", "Chen", "Sofia", "Liam", "Priya", "Mateo", "Hannah", "Yusuf", "Elif",
];
const LAST_NAMES: [&str; 10] = [
    "Kong", "Okafor", "Wei", "Rossi", "Murphy", "Shah", "Garcia", "Schmidt", "Demir", "Novak",
];
const PRODUCTS: [&str; 5] = [
    "Crochet jumper",
    "Linen shirt",
    "Wool hat",
    "Denim jacket",
    "Silk scarf",
];

/// The past orders of `links`, `count` of them, the newest at `end`.
#[derive(Debug, Clone)]
pub struct History {
    pub links: Vec<LinkId>,
    pub count: u64,
    pub end: Timestamp,
}

/// The most orders one store numbered of `count` past orders over `links` links (they take
/// the orders in turn).
pub fn orders_per_store(count: u64, links: usize) -> u64 {
    count.div_ceil(links.max(1) as u64)
}

impl History {
    /// The seconds between two orders: a year's worth spread evenly, at least one.
    fn spacing(&self) -> i64 {
        (365 * 86_400 / self.count.max(1) as i64).max(1)
    }

    /// The number the store gave the `n`-th order: each store counts its own from
    /// [`FIRST_ORDER_NUMBER`], oldest first, as a store's numbers grow with time; the simulated
    /// stores number their new orders after them (`Scenario::after_history`).
    fn store_number(&self, n: u64) -> u64 {
        FIRST_ORDER_NUMBER + n / self.links.len().max(1) as u64
    }

    /// The `n`-th order (0 is the oldest). Ids are eighteen digits, as TikTok's are, starting
    /// with 1, so the made-up orders never meet the simulated shops' own.
    pub fn order(&self, n: u64) -> Result<Order, crate::domain::ids::IdError> {
        let age = (self.count - 1 - n.min(self.count - 1)) as i64;
        let created = self.end - Duration::seconds(age * self.spacing());
        let newest = age < (self.count as i64 / 200).max(1);
        let buyer = (
            FIRST_NAMES[n as usize % 10],
            LAST_NAMES[n as usize / 10 % 10],
        );
        let sku = format!("JMP-{}", n % 500);
        let snapshot = TiktokSnapshot {
            status: if newest {
                OrderStatus::AwaitingShipment
            } else {
                OrderStatus::Delivered
            },
            shipping_type: if n.is_multiple_of(4) {
                ShippingType::Tiktok
            } else {
                ShippingType::Seller
            },
            fulfillment_type: FulfillmentType::BySeller,
            created_at: created,
            updated_at: created,
            paid_at: Some(created + Duration::seconds(40)),
            ship_by: Some(created + Duration::days(3)),
            lines: group_line_items(&[LineUnit {
                id: format!("li-{n}"),
                sku_id: format!("sku-{}", n % 500),
                seller_sku: sku.clone(),
                product_name: PRODUCTS[n as usize % PRODUCTS.len()].into(),
                sku_name: "Red, M".into(),
                sale_price: "19.99".into(),
                currency: "GBP".into(),
                cancelled: false,
            }]),
            recipient: Recipient {
                name: format!("{} {}", buyer.0, buyer.1),
                first_name: buyer.0.into(),
                last_name: buyer.1.into(),
                phone: "(+44)7700-***-123".into(),
                address_lines: vec!["5800 Bristol Pkwy".into()],
                city: "London".into(),
                province: "Greater London".into(),
                postal_code: "N1 9GU".into(),
                country_code: "GB".into(),
                full_address: "5800 Bristol Pkwy, London N1 9GU".into(),
            },
            packages: vec![Package {
                id: PackageId::new(format!("pkg-{n}"))?,
                tracking_number: None,
                line_item_ids: Vec::new(),
            }],
            delivery_option_id: None,
            tracking_number: None,
            shipping_provider: None,
            buyer_message: None,
            cancel_reason: None,
            cancellation_initiator: None,
            is_buyer_request_cancel: false,
            currency: "GBP".into(),
            total_amount: "19.99".into(),
        };
        let id = TiktokOrderId::new(format!("1{n:017}"))?;
        let link = self.links[n as usize % self.links.len()].clone();
        let mut order = Order::new(id, link, snapshot, created);
        if n.is_multiple_of(50) {
            order.flows.import.status = FlowStatus::Stuck {
                reason: format!("SKU {sku} has no variant in the store"),
            };
            order.flows.import.updated_at = Some(created);
        } else if !newest {
            let tracking = format!("RM{n:09}GB");
            order.store = Some(StorefrontOrder {
                order_id: StorefrontOrderId::new(format!("{}", 100_000 + n))?,
                name: Some(format!("#{}", self.store_number(n))),
                status: StorefrontOrderStatus::Closed,
                fulfillments: vec![Fulfillment {
                    id: format!("f-{n}"),
                    status: "SUCCESS".into(),
                    created_at: Some(created + Duration::days(1)),
                    tracking: vec![Tracking {
                        number: tracking.clone(),
                        carrier: Some("Royal Mail".into()),
                        url: None,
                    }],
                    lines: Vec::new(),
                }],
                lines: Vec::new(),
                unit_count: None,
                cancelled_at: None,
                refunded: false,
                updated_at: created + Duration::days(1),
            });
            order.pushed_tracking = Some(tracking);
            order.flows.import.status = FlowStatus::Done { at: created };
            order.flows.tracking.status = FlowStatus::Done { at: created };
        }
        Ok(order)
    }

    /// Writes every order, [`BATCH`] to a change; `progress` hears how many are in so far.
    pub fn load(&self, store: &Store, progress: &mut dyn FnMut(u64)) -> anyhow::Result<()> {
        let mut n = 0;
        while n < self.count {
            let end = (n + BATCH as u64).min(self.count);
            let orders = (n..end)
                .map(|n| self.order(n))
                .collect::<Result<Vec<_>, _>>()?;
            store.import_orders(&orders)?;
            n = end;
            progress(n);
        }
        // The load ends with sled's snapshot: an open after a crash replays none of it, and
        // sled lets go of the memory the load took (a million orders: 300 MB → 140 MB).
        store.reopen()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;
    use crate::domain::listing::{search_text, tracking};
    use crate::domain::triage::{OrderView, views_of};

    fn history(count: u64) -> History {
        History {
            links: vec![LinkId::new("uk").unwrap(), LinkId::new("de").unwrap()],
            count,
            end: from_unix(1_800_000_000),
        }
    }

    /// Each store numbers its past orders from #1001 up, oldest first, and the simulated
    /// stores number their new ones after those: `:order #1002` names one order per store,
    /// where a preloaded demo had a past and a new #1002 in the same shop.
    #[test]
    fn each_store_numbers_its_past_orders_and_the_living_world_goes_on_after_them() {
        use crate::sandbox::scenario::{Scenario, Size};
        let h = history(1_001);
        let mut numbers: std::collections::BTreeMap<LinkId, Vec<u64>> = Default::default();
        for n in 0..h.count {
            let order = h.order(n).unwrap();
            // The stuck and the newest are not in their store.
            if let Some(name) = order.store.and_then(|s| s.name) {
                let number = name.strip_prefix('#').and_then(|n| n.parse().ok()).unwrap();
                numbers.entry(order.link).or_default().push(number);
            }
        }
        let last_past = FIRST_ORDER_NUMBER + (h.count - 1) / 2;
        for numbers in numbers.values() {
            assert!(
                numbers.windows(2).all(|w| w[0] < w[1]),
                "each once, growing"
            );
            assert!(numbers[0] >= FIRST_ORDER_NUMBER && numbers[numbers.len() - 1] <= last_past);
        }
        // Its first order is stuck before the store: the second is #1002.
        assert_eq!(numbers[&LinkId::new("uk").unwrap()][..2], [1002, 1003]);
        let per_store = orders_per_store(h.count, h.links.len());
        let size = Size {
            shops: 2,
            orders_per_shop: 0,
        };
        let scenario = Scenario::generate(7, size, 1_800_000_000)
            .with_woocommerce()
            .with_bigcommerce()
            .after_history(per_store);
        let firsts = [
            scenario.stores[0].first_order_number,
            scenario.woocommerce[0].first_order_number,
            scenario.bigcommerce[0].first_order_number,
        ];
        assert!(
            firsts.iter().all(|first| *first == last_past + 1),
            "{firsts:?} after #{last_past}"
        );
    }

    #[test]
    fn orders_are_a_year_old_at_most_and_the_newest_ends_the_history() {
        let h = history(1_000);
        let oldest = h.order(0).unwrap();
        let newest = h.order(999).unwrap();
        assert_eq!(newest.tiktok.created_at, h.end);
        assert!(h.end - oldest.tiktok.created_at <= Duration::days(365));
        assert_ne!(oldest.link, h.order(1).unwrap().link, "links take turns");
    }

    #[test]
    fn most_are_done_some_stuck_the_newest_wait_for_tracking() {
        let h = history(1_000);
        let on = |view: OrderView| {
            (0..1_000)
                .filter(|n| {
                    let order = h.order(*n).unwrap();
                    views_of(&order).iter().any(|(v, _)| *v == view)
                })
                .count()
        };
        assert_eq!(on(OrderView::All), 1_000);
        assert_eq!(on(OrderView::Stuck), 20);
        assert!((1..=5).contains(&on(OrderView::MissingTracking)));
        let shipped = h.order(7).unwrap();
        assert_eq!(tracking(&shipped), "RM000000007GB");
        // Its store's fourth: the two links take the orders in turn.
        assert!(search_text(&shipped).contains("#1004"));
    }
}
