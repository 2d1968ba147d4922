//! The driver's WooCommerce, Magento, BigCommerce and Amazon MCF side: each store's warehouse
//! ships the orders orderdeck imported (Magento, BigCommerce and Amazon now and then in two
//! parcels, by items or by units; a WooCommerce tracking item stands for the whole order), staff
//! cancel in the admin (Magento: a credit memo, the store → TikTok trigger, or a bare cancel,
//! which must not relay; Amazon: Seller Central, which never relays), TikTok cancels units of
//! Magento orders (a credit memo orderdeck makes, never relayed back), TikTok cancels Amazon
//! orders Amazon has started picking (too late: orderdeck must list them, not cancel), and
//! TikTok arranges the shipment of orders it ships itself.

use orderdeck::sandbox::amazon_mcf::{AmazonMcfSandbox, McfOrder};
use orderdeck::sandbox::bigcommerce::Parcel;
use orderdeck::sandbox::magento2::TrackSpec;
use orderdeck::sandbox::set::SandboxSet;
use rand::Rng;
use rand::seq::IndexedRandom;

use super::Driver;

/// Carriers each warehouse writes, all of them mapped to a TikTok provider.
const WOO_CARRIERS: [&str; 3] = ["USPS", "UPS", "Fedex"];
const MAGE_CARRIERS: [(&str, &str); 3] = [
    ("ups", "United Parcel Service"),
    ("usps", "United States Postal Service"),
    ("fedex", "Federal Express"),
];
const BIG_CARRIERS: [(&str, &str); 3] = [("usps", ""), ("upsready", ""), ("", "fedex")];
/// Amazon's `carrierCode`s (Amazon Logistics left out: TikTok may not take its tracking).
const AMAZON_CARRIERS: [&str; 2] = ["UPS", "USPS"];

/// The platform of the store a shop is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Shopify,
    Woocommerce,
    Magento,
    Bigcommerce,
    AmazonMcf,
}

pub fn platform_of(set: &SandboxSet, shop: usize) -> Platform {
    let store = &set.scenario.shops[shop].store;
    if set.scenario.woocommerce.iter().any(|s| &s.name == store) {
        Platform::Woocommerce
    } else if set.scenario.magento.iter().any(|s| &s.name == store) {
        Platform::Magento
    } else if set.scenario.bigcommerce.iter().any(|s| &s.name == store) {
        Platform::Bigcommerce
    } else if set.amazon_of(store).is_some() {
        Platform::AmazonMcf
    } else {
        Platform::Shopify
    }
}

/// An imported store order the warehouse or staff may act on: its TikTok order, the
/// store's order id (Amazon's is the TikTok order id), and its SKUs with the units left to ship.
#[derive(Debug, Clone)]
struct Open {
    id: String,
    store: String,
    order: u64,
    units: Vec<(String, u32)>,
}

impl Driver {
    /// One beat of the non-Shopify stores.
    pub(super) fn tick_stores(&mut self) {
        let woo = self.open_woocommerce();
        let mage = self.open_magento();
        let big = self.open_bigcommerce();
        let amazon = self.open_amazon();
        self.cancel_magento_units(&mage);
        let mage: Vec<Open> = mage.into_iter().filter(|o| self.ready(o)).collect();
        self.amazon_moves_on(&amazon);
        // Those just cancelled too late are not the warehouse's or staff's to touch.
        let amazon: Vec<Open> = amazon.into_iter().filter(|o| self.ready(o)).collect();
        // Amazon's access tokens lapse under orderdeck's feet now and then.
        if self.rng.random_bool(0.02) {
            for seller in &self.set.amazon {
                seller.expire_tokens();
                self.log.expired_tokens += 1;
            }
        }
        for (platform, open) in [
            (Platform::Woocommerce, woo),
            (Platform::Magento, mage),
            (Platform::Bigcommerce, big),
            (Platform::AmazonMcf, amazon),
        ] {
            if self.rng.random_bool(0.5)
                && let Some(order) = self.pick(&open)
            {
                self.ship(platform, &order);
            }
            let untouched: Vec<Open> = open.into_iter().filter(|o| !self.busy(&o.id)).collect();
            if self.rng.random_bool(0.1)
                && let Some(order) = self.pick(&untouched)
            {
                self.cancel_in_admin(platform, &order);
            }
            let tiktok_ships: Vec<Open> = untouched
                .into_iter()
                .filter(|o| !self.busy(&o.id) && !self.known[&o.id].seller_ships)
                .collect();
            if self.rng.random_bool(0.05)
                && let Some(order) = self.pick(&tiktok_ships)
            {
                self.set
                    .tiktok
                    .set_order_status(&order.id, "AWAITING_COLLECTION");
                self.log.arranged.insert(order.id);
            }
        }
        self.second_parcels();
    }

    /// Known, still awaiting shipment on TikTok, and untouched (or part-cancelled, with the
    /// store holding just the units the buyer kept).
    fn ready(&self, open: &Open) -> bool {
        self.known.contains_key(&open.id)
            && self.status(&open.id) == "AWAITING_SHIPMENT"
            && (!self.busy(&open.id) || self.only_kept_units_in_magento(open))
    }

    fn only_kept_units_in_magento(&self, open: &Open) -> bool {
        let Some(cancelled) = self.log.part_cancelled.get(&open.id) else {
            return false;
        };
        let left: u32 = open.units.iter().map(|(_, q)| q).sum();
        !self.log.split.contains_key(&open.id)
            && !self.log.fulfilled.contains_key(&open.id)
            && !self.log.tiktok_cancelled.contains(&open.id)
            && !self.log.admin_cancelled.contains_key(&open.id)
            && left as usize == self.known[&open.id].lines.len() - cancelled.len()
    }

    fn shops_on(&self, platform: Platform) -> Vec<(usize, String)> {
        (0..self.set.scenario.shops.len())
            .filter(|shop| platform_of(&self.set, *shop) == platform)
            .map(|shop| (shop, self.set.scenario.shops[shop].store.clone()))
            .collect()
    }

    fn open_woocommerce(&self) -> Vec<Open> {
        let mut open = Vec::new();
        for (_, store) in self.shops_on(Platform::Woocommerce) {
            for o in self.set.woocommerce.orders(&store).unwrap_or_default() {
                if o.status == "processing"
                    && o.trackings.is_empty()
                    && let Some(id) = o.meta_text("_tiktok_order_id")
                {
                    let units = o
                        .lines
                        .iter()
                        .map(|l| (l.sku.clone().unwrap_or_default(), l.quantity as u32))
                        .collect();
                    open.push(Open {
                        id,
                        store: store.clone(),
                        order: o.id,
                        units,
                    });
                }
            }
        }
        open.into_iter().filter(|o| self.ready(o)).collect()
    }

    /// Magento orders with nothing shipped yet (the part-cancel filter comes later).
    fn open_magento(&self) -> Vec<Open> {
        let mut open = Vec::new();
        for (_, store) in self.shops_on(Platform::Magento) {
            for o in self.set.magento.orders(&store).unwrap_or_default() {
                if o.state == "processing"
                    && o.items.iter().all(|i| i.qty_shipped == 0.0)
                    && let Some(id) = o.ext_order_id.clone()
                    && self.known.contains_key(&id)
                {
                    let units = o
                        .items
                        .iter()
                        .filter(|i| i.shippable() > 0.0)
                        .map(|i| (i.sku.clone(), i.shippable() as u32))
                        .collect();
                    open.push(Open {
                        id,
                        store: store.clone(),
                        order: o.entity_id,
                        units,
                    });
                }
            }
        }
        open
    }

    fn open_bigcommerce(&self) -> Vec<Open> {
        let mut open = Vec::new();
        for (_, store) in self.shops_on(Platform::Bigcommerce) {
            for o in self.set.bigcommerce.orders(&store).unwrap_or_default() {
                if o.status_id == 11 && o.items_shipped() == 0 && !o.external_order_id.is_empty() {
                    let units = o.lines.iter().map(|l| (l.sku.clone(), l.quantity as u32));
                    open.push(Open {
                        id: o.external_order_id.clone(),
                        store: store.clone(),
                        order: o.id,
                        units: units.collect(),
                    });
                }
            }
        }
        open.into_iter().filter(|o| self.ready(o)).collect()
    }

    /// Amazon orders orderdeck made that Amazon could still cancel (`Received`, `Planning`).
    fn open_amazon(&self) -> Vec<Open> {
        let mut open = Vec::new();
        for (_, store) in self.shops_on(Platform::AmazonMcf) {
            let Some(seller) = self.set.amazon_of(&store) else {
                continue;
            };
            for o in seller.orders() {
                if matches!(o.status.as_str(), "Received" | "Planning") && o.shipments.is_empty() {
                    open.push(Open {
                        id: o.id.clone(),
                        store: store.clone(),
                        order: 0,
                        units: o
                            .items
                            .iter()
                            .map(|i| (i.sku.clone(), i.quantity))
                            .collect(),
                    });
                }
            }
        }
        open.into_iter().filter(|o| self.ready(o)).collect()
    }

    /// Amazon's network plans an order (still cancellable); TikTok cancels one Amazon can still
    /// cancel, or one Amazon has just started picking: too late there, so orderdeck must list
    /// it for a person.
    fn amazon_moves_on(&mut self, open: &[Open]) {
        let received: Vec<Open> = open
            .iter()
            .filter(|o| self.amazon_status(o).as_deref() == Some("Received"))
            .cloned()
            .collect();
        if self.rng.random_bool(0.2)
            && let Some(order) = self.pick(&received)
        {
            self.amazon_seller(&order)
                .set_status(&order.id, "Planning")
                .expect("an Amazon order");
        }
        for picking in [false, true] {
            let untouched: Vec<Open> = open.iter().filter(|o| self.ready(o)).cloned().collect();
            if !self.rng.random_bool(0.08) {
                continue;
            }
            let Some(order) = self.pick(&untouched) else {
                continue;
            };
            if picking {
                self.amazon_seller(&order)
                    .set_status(&order.id, "Processing")
                    .expect("an Amazon order");
            }
            let role = *["SYSTEM", "BUYER"].choose(&mut self.rng).expect("roles");
            if self
                .set
                .tiktok
                .cancel_order_as(&order.id, role, "Cancelled by the crash test")
                .is_some()
            {
                let log = if picking {
                    &mut self.log.too_late
                } else {
                    &mut self.log.tiktok_cancelled
                };
                log.insert(order.id.clone());
            }
        }
    }

    fn amazon_seller(&self, open: &Open) -> &AmazonMcfSandbox {
        self.set.amazon_of(&open.store).expect("an Amazon seller")
    }

    fn amazon_status(&self, open: &Open) -> Option<String> {
        let order = self.set.amazon_of(&open.store)?.order(&open.id)?;
        Some(order.status)
    }

    /// The warehouse ships the order: whole, or (Magento, BigCommerce, Amazon, more than one
    /// SKU) its first SKU now and the rest later.
    fn ship(&mut self, platform: Platform, open: &Open) {
        let seller = self.known[&open.id].seller_ships;
        let split = platform != Platform::Woocommerce
            && open.units.len() > 1
            && !self.log.part_cancelled.contains_key(&open.id)
            && self.rng.random_bool(0.3);
        let number = format!("TRK{}{}", open.id, if split { "A" } else { "" });
        let first = [open.units[0].clone()];
        let units: &[(String, u32)] = if split { &first } else { &[] };
        if self.ship_units(platform, open, units, &number) {
            if split {
                self.log
                    .split
                    .insert(open.id.clone(), (vec![number], seller));
            } else {
                self.log.fulfilled.insert(open.id.clone(), (number, seller));
            }
        }
    }

    /// One parcel of `units` (none: everything left), tracked by `number`.
    fn ship_units(
        &mut self,
        platform: Platform,
        open: &Open,
        units: &[(String, u32)],
        number: &str,
    ) -> bool {
        let (store, order) = (open.store.as_str(), open.order);
        match platform {
            Platform::Woocommerce => {
                let carrier = *WOO_CARRIERS.choose(&mut self.rng).expect("carriers");
                self.set
                    .woocommerce
                    .ship(store, order, carrier, number, false)
                    .is_ok()
            }
            Platform::Magento => {
                let (code, title) = *MAGE_CARRIERS.choose(&mut self.rng).expect("carriers");
                let track = TrackSpec::new(code, title, number);
                let items: Vec<(&str, u32)> =
                    units.iter().map(|(sku, q)| (sku.as_str(), *q)).collect();
                self.set
                    .magento
                    .ship(store, order, &items, &[track])
                    .is_ok()
            }
            Platform::Bigcommerce => {
                let (provider, carrier) = *BIG_CARRIERS.choose(&mut self.rng).expect("carriers");
                let parcel = Parcel {
                    units: units
                        .iter()
                        .map(|(s, q)| (s.clone(), u64::from(*q)))
                        .collect(),
                    tracking_number: number.to_string(),
                    shipping_provider: provider.to_string(),
                    tracking_carrier: carrier.to_string(),
                };
                self.set.bigcommerce.ship(store, order, &parcel).is_ok()
            }
            Platform::AmazonMcf => {
                let carrier = *AMAZON_CARRIERS.choose(&mut self.rng).expect("carriers");
                let seller = self.amazon_seller(open);
                let left = match units {
                    [] => seller
                        .order(&open.id)
                        .map(|o| units_left(&o))
                        .unwrap_or_default(),
                    some => some.to_vec(),
                };
                let units: Vec<(&str, u32)> =
                    left.iter().map(|(sku, q)| (sku.as_str(), *q)).collect();
                seller.ship(&open.id, &[(carrier, number, &units)]).is_ok()
            }
            Platform::Shopify => unreachable!("Shopify ships in the driver's main beat"),
        }
    }

    /// The second parcel of an order split on Magento, BigCommerce or Amazon: everything left.
    fn second_parcels(&mut self) {
        let second: Vec<String> = self
            .log
            .split
            .iter()
            .filter(|(id, (numbers, _))| {
                numbers.len() == 1
                    && platform_of(&self.set, self.known[*id].shop) != Platform::Shopify
            })
            .map(|(id, _)| id.clone())
            .collect();
        if !self.rng.random_bool(0.3) {
            return;
        }
        let Some(id) = self.pick(&second) else { return };
        let shop = self.known[&id].shop;
        let platform = platform_of(&self.set, shop);
        let store = self.set.scenario.shops[shop].store.clone();
        let order = match platform {
            // Amazon's fulfillment order is keyed by the TikTok order id.
            Platform::AmazonMcf => Some(0),
            Platform::Magento => self
                .set
                .magento
                .orders_for(&store, &id)
                .ok()
                .and_then(|o| o.first().map(|o| o.entity_id)),
            _ => self
                .set
                .bigcommerce
                .orders_for(&store, &id)
                .ok()
                .and_then(|o| o.first().map(|o| o.id)),
        };
        let Some(order) = order else { return };
        let open = Open {
            id: id.clone(),
            store,
            order,
            units: Vec::new(),
        };
        let number = format!("TRK{id}B");
        if self.ship_units(platform, &open, &[], &number)
            && let Some((numbers, _)) = self.log.split.get_mut(&id)
        {
            numbers.push(number);
        }
    }

    /// Staff cancel in the admin. On Magento that is a credit memo of everything (the trigger)
    /// or, now and then, a bare cancel, which TikTok must never hear of.
    fn cancel_in_admin(&mut self, platform: Platform, open: &Open) {
        let (store, order) = (open.store.as_str(), open.order);
        let relays = match platform {
            Platform::Woocommerce => self
                .set
                .woocommerce
                .cancel_in_admin(store, order)
                .map(|()| true),
            Platform::Magento if self.rng.random_bool(0.4) => self
                .set
                .magento
                .cancel_in_admin(store, order)
                .map(|()| false),
            Platform::Magento => self
                .set
                .magento
                .refund_in_admin(store, order, &[])
                .map(|_| true),
            Platform::Bigcommerce => self
                .set
                .bigcommerce
                .cancel_in_admin(store, order)
                .map(|()| true),
            // Amazon has no store → TikTok direction: a Seller Central cancel stays there.
            Platform::AmazonMcf => self
                .amazon_seller(open)
                .cancel_in_seller_central(&open.id)
                .map(|()| false),
            Platform::Shopify => unreachable!("Shopify's staff cancel in the driver's main beat"),
        };
        if let Ok(relays) = relays {
            self.log.admin_cancelled.insert(open.id.clone(), relays);
        }
    }

    /// TikTok cancels the last line item of a multi-unit Magento order; the buyer keeps the rest.
    fn cancel_magento_units(&mut self, open: &[Open]) {
        let candidates: Vec<String> = open
            .iter()
            .filter(|o| {
                self.status(&o.id) == "AWAITING_SHIPMENT"
                    && !self.busy(&o.id)
                    && self.known[&o.id].lines.len() > 1
            })
            .map(|o| o.id.clone())
            .collect();
        if self.rng.random_bool(0.2)
            && let Some(id) = self.pick(&candidates)
        {
            self.cancel_last_line(id);
        }
    }
}

/// The units of an Amazon order no shipment has taken yet.
fn units_left(order: &McfOrder) -> Vec<(String, u32)> {
    order
        .items
        .iter()
        .map(|item| {
            let shipped: u32 = order
                .shipments
                .iter()
                .flat_map(|s| &s.items)
                .filter(|(sku, ..)| *sku == item.sku)
                .map(|(_, _, units, _)| units)
                .sum();
            (item.sku.clone(), item.quantity - item.cancelled - shipped)
        })
        .filter(|(_, units)| *units > 0)
        .collect()
}
