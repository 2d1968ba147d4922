//! The demo's living scenario: the simulated world moving on by itself, one [`Living::beat`]
//! every few seconds, through the sandboxes' control APIs only (as buyers, TikTok, a warehouse
//! and a flaky network would). Each beat may bring new paid orders (some with SKUs the store
//! does not have, some held ON_HOLD first), release held orders, have the warehouse fulfil
//! store orders (with a mapped carrier, an unmapped one, or no tracking at all; sometimes a
//! multi-item order in two parcels), have Amazon's network move fulfillment orders from
//! Received to Complete, have a buyer drop one item of several, open buyer
//! cancel requests with deadlines, cancel the odd order as TikTok's SYSTEM, and arm a few API
//! faults (latency, rate limits, 5xx). Deterministic for a seed, apart from wall-clock time.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::amazon_mcf::{AmazonMcfSandbox, McfOrder, PackageSpec, is_amazon_logistics};
use super::faults::FaultKind;
use super::scenario::{BuyerSpec, OrderSpec};
use super::set::SandboxSet;
use super::shopify::SandboxTracking;
use crate::domain::rules::tracking::{ShipMethod, ship_method};

/// How a warehouse names carriers: the first is in the demo's `carrier_map`, the next two are
/// TikTok provider names as they are, the last is mapped nowhere.
const CARRIERS: [&str; 4] = [
    "Royal Mail Tracked 24",
    "DPD UK",
    "Evri",
    "Parcelforce Express 48",
];
/// Shipment Tracking provider names a WooCommerce warehouse picks: predefined US ones as the
/// extension spells them (`Fedex` matches TikTok's `FedEx` case-insensitively) and one the
/// demo's TikTok lists no provider for (`DHL US`: stuck until mapped in carrier_map).
const WOO_CARRIERS: [&str; 4] = ["USPS", "UPS", "Fedex", "DHL US"];
/// Magento tracks a warehouse enters: core carriers by code and title (`ups` matches TikTok's
/// `UPS` case-insensitively), and a `custom` one whose title names a company the demo's TikTok
/// lists no provider for (`OnTrac`: stuck until mapped in carrier_map).
const MAGE_CARRIERS: [(&str, &str); 4] = [
    ("ups", "United Parcel Service"),
    ("usps", "United States Postal Service"),
    ("fedex", "Federal Express"),
    ("custom", "OnTrac"),
];
/// How a BigCommerce warehouse names the carrier of a shipment: (`shipping_provider`,
/// `tracking_carrier`). The control panel sets BigCommerce's provider code (`upsready` is UPS),
/// shipping apps an AfterShip slug; `carrier_7`, a third-party provider, is mapped nowhere
/// (stuck until carrier_map names it).
const BIG_CARRIERS: [(&str, &str); 4] = [
    ("usps", ""),
    ("upsready", ""),
    ("", "fedex"),
    ("carrier_7", ""),
];
/// Carrier codes Amazon's warehouse ships with: two TikTok providers as they are (case aside),
/// and Amazon Logistics, whose tracking the demo's TikTok takes from no provider (stuck with
/// why, unless the link blocks Amazon Logistics, when the warehouse uses the others).
const AMAZON_CARRIERS: [&str; 3] = ["UPS", "USPS", "AMZL_US"];
const CANCEL_REASONS: [(&str, &str); 3] = [
    (
        "ecom_order_to_ship_canceled_reason_better_price",
        "Found a better price",
    ),
    (
        "ecom_order_to_ship_canceled_reason_change_address",
        "Need to change shipping address",
    ),
    (
        "ecom_order_to_ship_canceled_reason_created_by_mistakes",
        "Order created by mistake",
    ),
];
/// Orders stay held at least this many beats before TikTok releases them.
const HOLD_BEATS: u64 = 4;
/// A spell of API trouble every this many beats (the first one early, so it is seen), each
/// of another kind.
const FAULT_EVERY: u64 = 6;

pub struct Living {
    rng: ChaCha8Rng,
    beats: u64,
    /// Id serial for new orders, past every seeded one.
    serial: usize,
    /// Held orders as they will look once released (buyer and address known), with the beat
    /// they were held at.
    held: Vec<(OrderSpec, u64)>,
    /// Paid orders a buyer or TikTok may still cancel.
    open: Vec<String>,
}

impl Living {
    /// Starts from the scenario the sandboxes were seeded with.
    pub fn new(set: &SandboxSet, seed: u64) -> Living {
        let scenario = &set.scenario;
        let held = scenario
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status == "ON_HOLD")
            .map(|(i, o)| {
                let mut released = o.clone();
                released.buyer = borrowed_buyer(set, &o.shop, i);
                (released, 0)
            })
            .collect();
        let open = scenario
            .orders
            .iter()
            .filter(|o| o.status == "AWAITING_SHIPMENT" && o.cancel.is_none())
            .map(|o| o.id.clone())
            .collect();
        Living {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x11fe),
            beats: 0,
            serial: scenario.orders.len(),
            held,
            open,
        }
    }

    /// One step of the world at `now` (unix seconds); says what happened, one line each.
    pub fn beat(&mut self, set: &SandboxSet, now: i64) -> Vec<String> {
        self.beats += 1;
        let mut said = Vec::new();
        for _ in 0..self.rng.random_range(1..=2) {
            said.push(self.new_order(set, now));
        }
        if self.rng.random_bool(0.6) {
            said.extend(self.release_held(set, now));
        }
        for _ in 0..self.rng.random_range(0..=2) {
            said.extend(self.fulfil(set));
        }
        if self.rng.random_bool(0.3) {
            said.extend(self.buyer_cancel(set, now));
        }
        if self.rng.random_bool(0.08) {
            said.extend(self.system_cancel(set));
        }
        if self.beats % FAULT_EVERY == FAULT_EVERY / 2 {
            said.push(self.fault(set));
        }
        said
    }

    fn new_order(&mut self, set: &SandboxSet, now: i64) -> String {
        let shop = self.rng.random_range(0..set.scenario.shops.len());
        let mut spec = set
            .scenario
            .new_order(&mut self.rng, shop, self.serial, now);
        self.serial += 1;
        // An order generated as held comes without a buyer; paid orders always have one.
        if spec.buyer.first_name.is_empty() {
            spec.buyer = borrowed_buyer(set, &spec.shop, self.serial);
        }
        if self.rng.random_bool(0.15)
            && let Some(line) = spec.lines.first_mut()
        {
            line.seller_sku = format!("GHOST-{:03}", self.rng.random_range(0..20));
            line.product_name = "Limited drop".into();
            line.sku_name = String::new();
        }
        if self.rng.random_bool(0.2) {
            let mut held = spec.clone();
            held.status = "ON_HOLD".into();
            hide_buyer(&mut held.buyer);
            set.tiktok.add_order(&held);
            let said = format!("new order {} on {}, held ON_HOLD", spec.id, spec.shop);
            self.held.push((spec, self.beats));
            return said;
        }
        set.tiktok.add_order(&spec);
        self.open.push(spec.id.clone());
        let sku = spec.lines.first().map_or("", |l| l.seller_sku.as_str());
        format!("new paid order {} on {} ({sku})", spec.id, spec.shop)
    }

    /// TikTok releases the longest-held order: it becomes payable-to-ship, buyer shown.
    fn release_held(&mut self, set: &SandboxSet, now: i64) -> Option<String> {
        let due = self
            .held
            .iter()
            .position(|(_, at)| self.beats >= at + HOLD_BEATS)?;
        let (mut spec, _) = self.held.remove(due);
        if set.tiktok.order_status(&spec.id).as_deref() != Some("ON_HOLD") {
            return None;
        }
        spec.status = "AWAITING_SHIPMENT".into();
        spec.update_time = now;
        set.tiktok.add_order(&spec);
        self.open.push(spec.id.clone());
        Some(format!("{} released from ON_HOLD", spec.id))
    }

    /// The warehouse ships a store order that has no fulfillment yet.
    fn fulfil(&mut self, set: &SandboxSet) -> Option<String> {
        let (shopify, sites) = (set.scenario.stores.len(), set.scenario.woocommerce.len());
        let (mages, bigs) = (set.scenario.magento.len(), set.scenario.bigcommerce.len());
        let amazons = set.scenario.amazon.len();
        // Only a world with other stores draws here, so Shopify-only worlds move as before.
        if sites + mages + bigs + amazons > 0 {
            let pick = self
                .rng
                .random_range(0..shopify + sites + mages + bigs + amazons);
            if pick >= shopify + sites + mages + bigs {
                return self.advance_amazon(set);
            }
            if pick >= shopify + sites + mages {
                return self.ship_bigcommerce(set);
            }
            if pick >= shopify + sites {
                return self.ship_magento(set);
            }
            if pick >= shopify {
                return self.ship_woocommerce(set);
            }
        }
        let index = self.rng.random_range(0..shopify.max(1));
        let store = set.scenario.stores.get(index)?.name.clone();
        // Shops that ship by package ship TikTok's packages whole: their warehouses do too.
        let splits = set
            .scenario
            .shops
            .get(index)
            .is_some_and(|shop| ship_method(&shop.region) == ShipMethod::MarkPackageShipped);
        let orders = set.shopify.orders(&store).ok()?;
        let waiting: Vec<_> = orders
            .iter()
            .filter(|o| o.cancelled_at.is_none() && o.lines.iter().any(|l| o.unfulfilled(l) > 0))
            .collect();
        let order = waiting.choose(&mut self.rng)?;
        let unshipped: Vec<_> = order
            .lines
            .iter()
            .filter(|l| order.unfulfilled(l) > 0)
            .collect();
        let tracking = match self.rng.random_range(0..10) {
            // A warehouse system that never shares tracking.
            0..=1 => SandboxTracking {
                company: None,
                number: None,
                url: None,
            },
            pick => SandboxTracking {
                company: Some(CARRIERS[pick % CARRIERS.len()].to_string()),
                number: Some(format!(
                    "JX{:010}",
                    self.rng.random_range(0..10_000_000_000u64)
                )),
                url: None,
            },
        };
        // Now and then a multi-item order leaves in two parcels: one line first.
        if splits && unshipped.len() > 1 && self.rng.random_bool(0.3) {
            let line = unshipped[0];
            let units = [(line.sku.as_str(), order.unfulfilled(line))];
            set.shopify
                .fulfil_units(&store, &order.id, &units, tracking)
                .ok()?;
            return Some(format!(
                "warehouse shipped part of {} in {store} ({} × {}; the rest follows)",
                order.name, units[0].1, line.sku
            ));
        }
        let said = format!(
            "warehouse fulfilled {} in {store} ({})",
            order.name,
            tracking.company.as_deref().unwrap_or("no tracking")
        );
        set.shopify.fulfil(&store, &order.id, tracking).ok()?;
        Some(said)
    }

    /// A WooCommerce warehouse adds a Shipment Tracking item to an imported, unshipped order.
    fn ship_woocommerce(&mut self, set: &SandboxSet) -> Option<String> {
        let site = set.scenario.woocommerce.choose(&mut self.rng)?.name.clone();
        let orders = set.woocommerce.orders(&site).ok()?;
        let waiting: Vec<_> = orders
            .iter()
            .filter(|o| {
                o.status == "processing"
                    && o.trackings.is_empty()
                    && o.meta_text("_tiktok_order_id").is_some()
            })
            .collect();
        let order = waiting.choose(&mut self.rng)?;
        let carrier = *WOO_CARRIERS.choose(&mut self.rng)?;
        let number = format!("9400{:018}", self.rng.random_range(0..10u64.pow(18)));
        set.woocommerce
            .ship(&site, order.id, carrier, &number, false)
            .ok()?;
        Some(format!(
            "warehouse shipped WooCommerce order #{} in {site} ({carrier})",
            order.id
        ))
    }

    /// A Magento warehouse ships an imported, unshipped order with a track: a core carrier's
    /// code, or `custom` with the company typed in; now and then a multi-item order leaves in
    /// two shipments (one line first).
    fn ship_magento(&mut self, set: &SandboxSet) -> Option<String> {
        let site = set.scenario.magento.choose(&mut self.rng)?.name.clone();
        let orders = set.magento.orders(&site).ok()?;
        let waiting: Vec<_> = orders
            .iter()
            .filter(|o| {
                o.state == "processing"
                    && o.ext_order_id.is_some()
                    && o.items.iter().any(|i| i.shippable() > 0.0)
            })
            .collect();
        let order = waiting.choose(&mut self.rng)?;
        let (code, title) = *MAGE_CARRIERS.choose(&mut self.rng)?;
        let number = format!("1Z{:016}", self.rng.random_range(0..10u64.pow(16)));
        let track = crate::sandbox::magento2::TrackSpec::new(code, title, &number);
        let open: Vec<_> = order.items.iter().filter(|i| i.shippable() > 0.0).collect();
        if open.len() > 1 && self.rng.random_bool(0.3) {
            let first = open[0];
            let units = [(first.sku.as_str(), first.shippable() as u32)];
            set.magento
                .ship(&site, order.entity_id, &units, &[track])
                .ok()?;
            return Some(format!(
                "warehouse shipped part of Magento order #{} in {site} ({title}; the rest follows)",
                order.increment_id
            ));
        }
        set.magento
            .ship(&site, order.entity_id, &[], &[track])
            .ok()?;
        Some(format!(
            "warehouse shipped Magento order #{} in {site} ({title})",
            order.increment_id
        ))
    }

    /// A BigCommerce warehouse ships an imported order that has not fully left, in one parcel
    /// with tracking (its shop is in the US, where TikTok's packages ship whole).
    fn ship_bigcommerce(&mut self, set: &SandboxSet) -> Option<String> {
        let store = set.scenario.bigcommerce.choose(&mut self.rng)?.name.clone();
        let orders = set.bigcommerce.orders(&store).ok()?;
        let waiting: Vec<_> = orders
            .iter()
            .filter(|o| matches!(o.status_id, 11 | 3) && !o.external_order_id.is_empty())
            .collect();
        let order = waiting.choose(&mut self.rng)?;
        let (provider, carrier) = *BIG_CARRIERS.choose(&mut self.rng)?;
        let parcel = crate::sandbox::bigcommerce::Parcel {
            units: Vec::new(),
            tracking_number: format!("1Z{:016}", self.rng.random_range(0..10u64.pow(16))),
            shipping_provider: provider.to_string(),
            tracking_carrier: carrier.to_string(),
        };
        set.bigcommerce.ship(&store, order.id, &parcel).ok()?;
        Some(format!(
            "warehouse shipped BigCommerce order #{} in {store} ({})",
            order.id,
            if carrier.is_empty() {
                provider
            } else {
                carrier
            }
        ))
    }

    /// Amazon's fulfillment network moves one open fulfillment order a step on: Received →
    /// Planning → Processing → shipped (Complete), in one package, or in two when it holds
    /// several SKUs and the warehouse splits it.
    fn advance_amazon(&mut self, set: &SandboxSet) -> Option<String> {
        let seller = set.scenario.amazon.choose(&mut self.rng)?.name.clone();
        let amazon = set.amazon_of(&seller)?;
        let orders = amazon.orders();
        let open: Vec<_> = orders
            .iter()
            .filter(|o| matches!(o.status.as_str(), "Received" | "Planning" | "Processing"))
            .collect();
        let order = open.choose(&mut self.rng)?;
        let next = match order.status.as_str() {
            "Received" => "Planning",
            "Planning" => "Processing",
            _ => return self.ship_amazon(amazon, order, &seller),
        };
        amazon.set_status(&order.id, next).ok()?;
        Some(format!(
            "Amazon moved fulfillment order {} of {seller} to {next}",
            order.id
        ))
    }

    /// The warehouse ships every unit left: one package, or (now and then, for several SKUs)
    /// the first SKU in one package and the rest in another, each with its own carrier.
    fn ship_amazon(
        &mut self,
        amazon: &AmazonMcfSandbox,
        order: &McfOrder,
        seller: &str,
    ) -> Option<String> {
        let units: Vec<(&str, u32)> = order
            .items
            .iter()
            .map(|i| (i.sku.as_str(), i.quantity - i.cancelled))
            .filter(|(_, q)| *q > 0)
            .collect();
        let contents: Vec<&[(&str, u32)]> = if units.len() > 1 && self.rng.random_bool(0.3) {
            vec![&units[..1], &units[1..]]
        } else {
            vec![&units[..]]
        };
        let carriers: Vec<&str> = AMAZON_CARRIERS
            .into_iter()
            .filter(|c| !(order.blocks_amazon_logistics() && is_amazon_logistics(c)))
            .collect();
        let labels: Vec<(&str, String)> = contents
            .iter()
            .map(|_| {
                let carrier = *carriers.choose(&mut self.rng).expect("carriers");
                let number = if is_amazon_logistics(carrier) {
                    format!("TBA{:012}", self.rng.random_range(0..10u64.pow(12)))
                } else {
                    format!("1Z{:016}", self.rng.random_range(0..10u64.pow(16)))
                };
                (carrier, number)
            })
            .collect();
        let packages: Vec<PackageSpec<'_>> = labels
            .iter()
            .zip(&contents)
            .map(|((carrier, number), units)| (*carrier, number.as_str(), *units))
            .collect();
        amazon.ship(&order.id, &packages).ok()?;
        let carriers: Vec<&str> = labels.iter().map(|(carrier, _)| *carrier).collect();
        Some(format!(
            "Amazon shipped fulfillment order {} of {seller} ({})",
            order.id,
            carriers.join(" + ")
        ))
    }

    fn buyer_cancel(&mut self, set: &SandboxSet, now: i64) -> Option<String> {
        let order = self.take_open(set)?;
        // Some buyers drop one item of several and keep the rest.
        let lines = set.tiktok.line_ids(&order);
        if lines.len() > 1 && self.rng.random_bool(0.3) {
            let last = vec![lines[lines.len() - 1].clone()];
            set.tiktok
                .cancel_lines_as(&order, &last, "BUYER", "Only needed one")
                .ok()?;
            return Some(format!(
                "buyer cancelled one item of {order}, keeping the rest"
            ));
        }
        let (reason, text) = *CANCEL_REASONS.choose(&mut self.rng)?;
        let deadline = now + self.rng.random_range(2 * 3600..40 * 3600);
        set.tiktok
            .request_buyer_cancel(&order, reason, text, deadline)?;
        Some(format!("buyer asked to cancel {order} ({text})"))
    }

    fn system_cancel(&mut self, set: &SandboxSet) -> Option<String> {
        let order = self.take_open(set)?;
        set.tiktok
            .cancel_order_as(&order, "SYSTEM", "Auto-cancelled: not shipped in time")?;
        Some(format!("TikTok cancelled {order} (SYSTEM)"))
    }

    /// A random open order that TikTok still has awaiting shipment; it leaves the open list.
    fn take_open(&mut self, set: &SandboxSet) -> Option<String> {
        while !self.open.is_empty() {
            let index = self.rng.random_range(0..self.open.len());
            let order = self.open.swap_remove(index);
            if set.tiktok.order_status(&order).as_deref() == Some("AWAITING_SHIPMENT") {
                return Some(order);
            }
        }
        None
    }

    /// A short spell of trouble on one platform; the engine retries through it.
    fn fault(&mut self, set: &SandboxSet) -> String {
        let tiktok = set.tiktok.faults();
        let shopify = set.shopify.faults();
        match (self.beats / FAULT_EVERY) % 4 {
            0 => {
                let delay = std::time::Duration::from_millis(self.rng.random_range(400..1500));
                tiktok.inject("*", FaultKind::Latency(delay), 3);
                format!("TikTok slows down ({} ms, 3 calls)", delay.as_millis())
            }
            1 if !set.amazon.is_empty() => {
                tiktok.inject("*", FaultKind::RateLimited, 2);
                // Amazon's 429 has no Retry-After: the client waits out the operation's rate.
                for amazon in &set.amazon {
                    amazon.faults().inject("*", FaultKind::RateLimited, 1);
                }
                "TikTok answers 429 (2 calls); Amazon answers 429 (1 call)".into()
            }
            1 => {
                tiktok.inject("*", FaultKind::RateLimited, 2);
                "TikTok answers 429 (2 calls)".into()
            }
            2 if !set.scenario.bigcommerce.is_empty() => {
                shopify.inject("*", FaultKind::RateLimited, 2);
                // A BigCommerce 429 pauses every request to that store until its reset.
                set.bigcommerce
                    .faults()
                    .inject("*", FaultKind::RateLimited, 1);
                "Shopify throttles (2 calls); BigCommerce answers 429 (1 call)".into()
            }
            2 => {
                shopify.inject("*", FaultKind::RateLimited, 2);
                "Shopify throttles (2 calls)".into()
            }
            _ => {
                shopify.inject("*", FaultKind::ServerError, 1);
                "Shopify answers 500 (1 call)".into()
            }
        }
    }
}

/// A buyer of the same shop from the seeded orders: the name and address TikTok shows once
/// an order is no longer held.
fn borrowed_buyer(set: &SandboxSet, shop: &str, pick: usize) -> BuyerSpec {
    let known: Vec<&BuyerSpec> = set
        .scenario
        .orders
        .iter()
        .filter(|o| o.shop == shop && !o.buyer.first_name.is_empty())
        .map(|o| &o.buyer)
        .collect();
    match known.get(pick % known.len().max(1)) {
        Some(buyer) => (*buyer).clone(),
        None => BuyerSpec {
            first_name: "Sam".into(),
            last_name: "Taylor".into(),
            phone: "(+44)7700-***-000".into(),
            address_line1: "1 High Street".into(),
            address_line2: String::new(),
            city: "London".into(),
            state: "Greater London".into(),
            postal_code: "N1 9GU".into(),
            region_code: "GB".into(),
            country: "United Kingdom".into(),
        },
    }
}

/// TikTok hides who bought a held order.
fn hide_buyer(buyer: &mut BuyerSpec) {
    buyer.first_name.clear();
    buyer.last_name.clear();
    buyer.address_line1.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scenario::{Scenario, Size};

    #[tokio::test]
    async fn the_world_moves_on_every_beat() {
        let now = chrono::Utc::now().timestamp();
        let scenario = Scenario::generate(
            3,
            Size {
                shops: 2,
                orders_per_shop: 20,
            },
            now,
        );
        let set = SandboxSet::start(scenario, [127, 0, 0, 1].into())
            .await
            .expect("sandboxes start");
        let mut living = Living::new(&set, 3);
        let said: Vec<String> = (0..30).flat_map(|_| living.beat(&set, now)).collect();
        for what in ["new paid order", "held ON_HOLD", "released from ON_HOLD"] {
            assert!(said.iter().any(|s| s.contains(what)), "{what}: {said:#?}");
        }
        assert!(
            said.iter().any(|s| s.contains("GHOST-")),
            "some new orders sell SKUs the store does not have"
        );
        assert!(said.iter().any(|s| s.contains("buyer asked to cancel")));
        for fault in [
            "TikTok slows down",
            "TikTok answers 429",
            "Shopify throttles",
            "Shopify answers 500",
        ] {
            assert!(said.iter().any(|s| s.contains(fault)), "{fault}: {said:#?}");
        }
    }

    #[tokio::test]
    async fn amazon_moves_fulfillment_orders_from_received_to_complete_with_tracking() {
        let now = chrono::Utc::now().timestamp();
        let size = Size {
            shops: 1,
            orders_per_shop: 0,
        };
        let scenario = Scenario::generate(3, size, now).with_amazon();
        let seller = scenario.amazon[0].name.clone();
        let sku = scenario.amazon[0].products[1].sku.clone();
        let set = SandboxSet::start(scenario, [127, 0, 0, 1].into())
            .await
            .expect("sandboxes start");
        let amazon = set.amazon_of(&seller).expect("the seller's Amazon");
        amazon
            .create_in_seller_central("576400000000000902", &sku)
            .expect("created");
        let mut living = Living::new(&set, 3);
        let mut said = Vec::new();
        for _ in 0..3 {
            said.push(living.advance_amazon(&set).expect("an order to move on"));
        }
        assert!(said[0].ends_with("to Planning"), "{said:?}");
        assert!(said[1].ends_with("to Processing"), "{said:?}");
        assert!(
            said[2].contains("Amazon shipped fulfillment order"),
            "{said:?}"
        );
        let order = amazon.order("576400000000000902").expect("the order");
        assert_eq!(order.status, "Complete");
        let package = &order.shipments[0].packages[0];
        assert!(AMAZON_CARRIERS.contains(&package.carrier.as_str()));
        assert!(!package.tracking.is_empty());
        assert_eq!(living.advance_amazon(&set), None, "nothing left to move");
    }

    #[tokio::test]
    async fn a_bigcommerce_warehouse_ships_imported_orders_with_tracking() {
        use crate::domain::rules::import::{DraftAddress, DraftLine, SkuMatch};
        use crate::platforms::Storefront;
        use crate::platforms::bigcommerce::{BigcommerceClient, BigcommerceConfig};
        let now = chrono::Utc::now().timestamp();
        let size = Size {
            shops: 1,
            orders_per_shop: 0,
        };
        let scenario = Scenario::generate(3, size, now).with_bigcommerce();
        let spec = scenario.bigcommerce[0].clone();
        let set = SandboxSet::start(scenario, [127, 0, 0, 1].into())
            .await
            .expect("sandboxes start");
        let config = BigcommerceConfig::new(
            set.bigcommerce.api_base(),
            &spec.store_hash,
            &spec.access_token,
        );
        let client = BigcommerceClient::new(&config).expect("client");
        let sku = spec.products[1].sku.clone();
        let found = client.lookup_skus(std::slice::from_ref(&sku)).await;
        let Ok(Some(SkuMatch::One(item))) = found.map(|mut m| m.remove(&sku)) else {
            panic!("{sku} is in the catalog");
        };
        let draft = crate::domain::rules::import::StorefrontOrderDraft {
            tiktok_order_id: crate::domain::ids::TiktokOrderId::new("576400000000000901")
                .expect("id"),
            lines: vec![DraftLine {
                seller_sku: sku,
                store_item_id: Some(item),
                title: "x".into(),
                quantity: 2,
                unit_price: "9.99".into(),
            }],
            currency: "USD".into(),
            address: DraftAddress {
                zip: "95113".into(),
                country_code: "US".into(),
                ..DraftAddress::default()
            },
            note: None,
            tags: Vec::new(),
            inventory: crate::domain::settings::InventoryBehaviour::Bypass,
            amazon: Default::default(),
        };
        client.create_order(&draft).await.expect("created");
        let mut living = Living::new(&set, 3);
        let said = living.ship_bigcommerce(&set).expect("something to ship");
        assert!(
            said.contains("warehouse shipped BigCommerce order"),
            "{said}"
        );
        let orders = set.bigcommerce.orders(&spec.name).expect("store");
        assert_eq!(orders[0].status_id, 2, "shipped whole");
        assert!(orders[0].shipments[0].tracking_number.starts_with("1Z"));
        assert_eq!(living.ship_bigcommerce(&set), None, "nothing left to ship");
    }
}
