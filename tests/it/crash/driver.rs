//! The crash test's driver: the world around orderdeck. It plays the buyers (orders arrive,
//! get paid, ask to cancel), TikTok (cancels, expires tokens, arranges TikTok-shipped orders),
//! the warehouse (fulfils store orders with tracking), the store's staff (cancel in the admin)
//! and the operators (answer buyer requests over the daemon's socket), at random but seeded,
//! and never contradicts itself (a fulfilled order is not cancelled, and so on). What it did is
//! its [`Log`], which the checks hold the outcome against.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use orderdeck::domain::ids::CancelId;
use orderdeck::domain::rules::tracking::{ShipMethod, ship_method};
use orderdeck::sandbox::scenario::OrderSpec;
use orderdeck::sandbox::set::SandboxSet;
use orderdeck::sandbox::shopify::{SandboxOrder, SandboxTracking};
use orderdeck::sandbox::tiktok::{SEND_LONE_SURROGATE, SEND_NOT_UTF8};
use orderdeck::service::api::{Request, Response, ServiceError};
use orderdeck::service::client::Client;
use orderdeck::service::remote::RemoteClient;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::crash::{RELAYING_SHOP, SHOPS};

mod stores;

pub use stores::{Platform, platform_of};

/// The driver's pace.
pub const TICK: Duration = Duration::from_millis(120);
/// Carriers the warehouse writes (the config maps the first to TikTok's "Royal Mail").
const CARRIERS: [&str; 4] = ["Royal Mail Tracked 24", "DPD UK", "USPS", "J&T Express"];

/// What the driver did, so the outcome can be checked against it.
#[derive(Debug, Default)]
pub struct Log {
    /// Orders that were AWAITING_SHIPMENT at some point while orderdeck watched, whose SKUs the
    /// store has exactly once: each must reach the store, unless cancelled first.
    pub importable: BTreeSet<String>,
    /// Paid, but with a SKU the store lacks or has twice: must never reach the store.
    pub unimportable: BTreeSet<String>,
    /// Order → tracking number the warehouse fulfilled it with, and whether the seller ships.
    pub fulfilled: BTreeMap<String, (String, bool)>,
    /// Cancelled on TikTok (by TikTok, the seller, the buyer, or an approved buyer request).
    pub tiktok_cancelled: BTreeSet<String>,
    /// Cancelled in the store's admin, with whether it must reach TikTok (the link relays it;
    /// a bare Magento cancel never does, a Magento credit memo does).
    pub admin_cancelled: BTreeMap<String, bool>,
    /// TikTok-shipped orders whose shipment was arranged: their label must be saved.
    pub arranged: BTreeSet<String>,
    /// Buyer requests: cancel id → (order, answer: Some(approve?) or left unanswered).
    pub requests: BTreeMap<String, (String, Option<bool>)>,
    /// Requests whose answer orderdeck accepted.
    pub answered: BTreeSet<String>,
    /// Times a shop's access token was expired under orderdeck's feet.
    pub expired_tokens: usize,
    /// Orders TikTok still sends damaged (text that is not Unicode, an oversized package id):
    /// held for a person, never in the store.
    pub poisoned: BTreeSet<String>,
    /// Orders sent damaged first, then readable: imported once like any other.
    pub healed: BTreeSet<String>,
    /// Orders the warehouse ships in two parcels (one SKU first, the rest later): their
    /// tracking numbers so far, and whether the seller ships.
    pub split: BTreeMap<String, (Vec<String>, bool)>,
    /// Orders TikTok cancelled some line items of (the buyer keeps the rest): those items.
    pub part_cancelled: BTreeMap<String, Vec<String>>,
    /// Amazon orders TikTok cancelled once Amazon had started picking them: too late to
    /// cancel there, so they stay in Amazon and orderdeck lists them for a person.
    pub too_late: BTreeSet<String>,
}

pub struct Known {
    pub seller_ships: bool,
    pub importable: bool,
    /// TikTok's line items (one per unit).
    pub lines: Vec<String>,
    /// Its shop (and linked store), by index.
    pub shop: usize,
}

pub struct Driver {
    set: Arc<SandboxSet>,
    rng: ChaCha8Rng,
    pub known: BTreeMap<String, Known>,
    serial: usize,
    socket: PathBuf,
    pub client: Option<Arc<RemoteClient>>,
    pub log: Log,
    /// The readable version of each poisoned order, sent once TikTok "heals" it.
    healthy: BTreeMap<String, OrderSpec>,
}

/// Whether the store can take every SKU: none sold on TikTok only, and (but on Amazon, which
/// takes SKUs as they are) none the catalogue has twice.
fn importable(skus: impl IntoIterator<Item = String>, platform: Platform) -> bool {
    skus.into_iter()
        .all(|s| !s.starts_with("GHOST-") && (s != "DUP-001" || platform == Platform::AmazonMcf))
}

impl Driver {
    pub fn new(set: Arc<SandboxSet>, seed: u64, socket: PathBuf) -> Driver {
        let mut driver = Driver {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed),
            known: BTreeMap::new(),
            serial: 100_000,
            socket,
            client: None,
            log: Log::default(),
            healthy: BTreeMap::new(),
            set: set.clone(),
        };
        for order in &set.scenario.orders {
            driver.learn(order);
            if order.status == "AWAITING_SHIPMENT" {
                driver.paid(&order.id);
            }
            if let Some(c) = order
                .cancel
                .as_ref()
                .filter(|c| c.cancel_status == "CANCELLATION_REQUEST_PENDING")
            {
                let answer = driver.pick_answer();
                driver
                    .log
                    .requests
                    .insert(c.cancel_id.clone(), (order.id.clone(), answer));
            }
        }
        driver
    }

    fn learn(&mut self, spec: &OrderSpec) {
        let shop = self
            .set
            .scenario
            .shops
            .iter()
            .position(|s| s.name == spec.shop)
            .expect("a scenario shop");
        let skus = spec.lines.iter().map(|l| l.seller_sku.clone());
        self.known.insert(
            spec.id.clone(),
            Known {
                seller_ships: spec.shipping_type == "SELLER",
                importable: importable(skus, platform_of(&self.set, shop)),
                lines: spec.lines.iter().map(|l| l.line_item_id.clone()).collect(),
                shop,
            },
        );
    }

    fn paid(&mut self, id: &str) {
        if self.known[id].importable {
            self.log.importable.insert(id.to_string());
        } else {
            self.log.unimportable.insert(id.to_string());
        }
    }

    /// Approve, reject, or leave a buyer request for TikTok's deadline.
    fn pick_answer(&mut self) -> Option<bool> {
        match self.rng.random_range(0..100) {
            0..60 => Some(true),
            60..85 => Some(false),
            _ => None,
        }
    }

    fn status(&self, id: &str) -> String {
        self.set.tiktok.order_status(id).unwrap_or_default()
    }

    /// Something already happened to this order that the driver must not contradict.
    fn busy(&self, id: &str) -> bool {
        self.log.fulfilled.contains_key(id)
            || self.log.split.contains_key(id)
            || self.log.part_cancelled.contains_key(id)
            || self.log.tiktok_cancelled.contains(id)
            || self.log.admin_cancelled.contains_key(id)
            || self.log.arranged.contains(id)
            || self.log.too_late.contains(id)
            || self
                .set
                .tiktok
                .cancellations_of(id)
                .iter()
                .any(|c| c.status == "CANCELLATION_REQUEST_PENDING")
    }

    /// Store orders that are open and unfulfilled, with the TikTok order they were made for.
    fn open_store_orders(&self) -> Vec<(String, usize, SandboxOrder)> {
        let mut open = Vec::new();
        for (shop, store) in self.set.scenario.stores.iter().enumerate() {
            for order in self.set.shopify.orders(&store.name).unwrap_or_default() {
                if order.cancelled_at.is_none()
                    && order.fulfillments.is_empty()
                    && let Some(id) = order.source_identifier.clone()
                {
                    open.push((id, shop, order));
                }
            }
        }
        open
    }

    /// One of `candidates`, at random.
    fn pick<T: Clone>(&mut self, candidates: &[T]) -> Option<T> {
        candidates.choose(&mut self.rng).cloned()
    }

    pub async fn tick(&mut self) {
        let now = chrono::Utc::now().timestamp();
        if self.rng.random_bool(0.35) {
            self.serial += 1;
            let shop = self.rng.random_range(0..self.set.scenario.shops.len());
            let spec = self
                .set
                .scenario
                .new_order(&mut self.rng, shop, self.serial, now);
            self.set.tiktok.add_order(&spec);
            self.learn(&spec);
            self.paid(&spec.id);
        }
        self.poison_or_heal(now);
        if self.rng.random_bool(0.15) {
            let waiting: Vec<String> = self
                .known
                .keys()
                .filter(|id| matches!(self.status(id).as_str(), "ON_HOLD" | "UNPAID"))
                .cloned()
                .collect();
            if let Some(id) = self.pick(&waiting) {
                self.set.tiktok.set_order_status(&id, "AWAITING_SHIPMENT");
                self.paid(&id);
            }
        }
        let open: Vec<(String, usize, SandboxOrder)> = self
            .open_store_orders()
            .into_iter()
            .filter(|(id, _, order)| {
                self.known.contains_key(id)
                    && self.status(id) == "AWAITING_SHIPMENT"
                    && (!self.busy(id) || self.only_kept_units_left(id, order))
            })
            .collect();
        self.ship_in_two_parcels(&open);
        self.cancel_some_lines(&open);
        // Those just shipped in part or part-cancelled are not the warehouse's to ship whole now.
        let open: Vec<(String, usize, SandboxOrder)> = open
            .into_iter()
            .filter(|(id, _, order)| !self.busy(id) || self.only_kept_units_left(id, order))
            .collect();
        if self.rng.random_bool(0.6)
            && let Some((id, shop, order)) = self.pick(&open)
        {
            let number = format!("TRK{id}");
            let carrier = *CARRIERS.choose(&mut self.rng).expect("carriers");
            let tracking = SandboxTracking {
                company: Some(carrier.into()),
                number: Some(number.clone()),
                url: None,
            };
            let store = &self.set.scenario.stores[shop].name;
            if self.set.shopify.fulfil(store, &order.id, tracking).is_ok() {
                let seller = self.known[&id].seller_ships;
                self.log.fulfilled.insert(id, (number, seller));
            }
        }
        if self.rng.random_bool(0.15) {
            let tiktok_ships: Vec<_> = open
                .iter()
                .filter(|(id, _, _)| {
                    !self.known[id].seller_ships && !self.log.fulfilled.contains_key(id)
                })
                .cloned()
                .collect();
            if let Some((id, _, _)) = self.pick(&tiktok_ships) {
                self.set.tiktok.set_order_status(&id, "AWAITING_COLLECTION");
                self.log.arranged.insert(id);
            }
        }
        if self.rng.random_bool(0.15) {
            let cancellable: Vec<String> = self
                .known
                .keys()
                .filter(|id| self.status(id) == "AWAITING_SHIPMENT" && !self.busy(id))
                .cloned()
                .collect();
            if let Some(id) = self.pick(&cancellable) {
                let role = *["SYSTEM", "SELLER", "BUYER"]
                    .choose(&mut self.rng)
                    .expect("roles");
                if self
                    .set
                    .tiktok
                    .cancel_order_as(&id, role, "Cancelled by the crash test")
                    .is_some()
                {
                    self.log.tiktok_cancelled.insert(id);
                }
            }
        }
        let open: Vec<(String, usize, SandboxOrder)> = open
            .into_iter()
            .filter(|(id, _, _)| !self.busy(id))
            .collect();
        if self.rng.random_bool(0.12)
            && let Some((id, _, _)) = self.pick(&open)
            && let Some(cancel_id) = self.set.tiktok.request_buyer_cancel(
                &id,
                "ecom_order_to_ship_canceled_reason_better_price",
                "Found a better price",
                now + 86_400,
            )
        {
            let answer = self.pick_answer();
            self.log.requests.insert(cancel_id, (id, answer));
        }
        if self.rng.random_bool(0.08)
            && let Some((id, shop, order)) = self.pick(&open)
            && !self.busy(&id)
        {
            let store = &self.set.scenario.stores[shop].name;
            if self
                .set
                .shopify
                .cancel_in_admin(store, &order.id, "CUSTOMER")
                .is_ok()
            {
                self.log.admin_cancelled.insert(id, shop == RELAYING_SHOP);
            }
        }
        self.tick_stores();
        if self.rng.random_bool(0.02) {
            let shops = self.set.scenario.shops.len();
            let shop = &self.set.scenario.shops[self.rng.random_range(0..shops)].name;
            if self.set.tiktok.expire_access_token(shop) {
                self.log.expired_tokens += 1;
            }
        }
        self.answer_requests().await;
    }

    /// A part-cancelled order whose store order holds no more than TikTok still expects (the
    /// warehouse never ships a unit the buyer cancelled).
    fn only_kept_units_left(&self, id: &str, order: &SandboxOrder) -> bool {
        let Some(cancelled) = self.log.part_cancelled.get(id) else {
            return false;
        };
        let expected = self.known[id].lines.len() - cancelled.len();
        let held: u32 = order.lines.iter().map(|l| l.current_quantity).sum();
        !self.log.split.contains_key(id)
            && !self.log.fulfilled.contains_key(id)
            && !self.log.tiktok_cancelled.contains(id)
            && !self.log.admin_cancelled.contains_key(id)
            && held as usize == expected
    }

    /// The warehouse ships one SKU of a multi-SKU order first, and the rest a while later.
    fn ship_in_two_parcels(&mut self, open: &[(String, usize, SandboxOrder)]) {
        let first: Vec<_> = open
            .iter()
            // Shops that ship by package ship TikTok's packages whole (split ones are stuck
            // for a person, tested in `engine::split_shipments`).
            .filter(|(_, shop, _)| {
                ship_method(&self.set.scenario.shops[*shop].region)
                    == ShipMethod::MarkPackageShipped
            })
            .filter(|(id, _, order)| {
                !self.busy(id) && {
                    let skus: BTreeSet<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
                    skus.len() > 1
                }
            })
            .cloned()
            .collect();
        if self.rng.random_bool(0.25)
            && let Some((id, shop, order)) = self.pick(&first)
        {
            let line = &order.lines[0];
            let number = format!("TRK{id}A");
            let parcel = self.parcel(&number);
            let store = &self.set.scenario.stores[shop].name;
            let units = [(line.sku.as_str(), line.current_quantity)];
            if self
                .set
                .shopify
                .fulfil_units(store, &order.id, &units, parcel)
                .is_ok()
            {
                let seller = self.known[&id].seller_ships;
                self.log.split.insert(id, (vec![number], seller));
            }
        }
        let second: Vec<(String, usize)> = self
            .log
            .split
            .iter()
            .filter(|(_, (numbers, _))| numbers.len() == 1)
            .map(|(id, _)| (id.clone(), self.known[id].shop))
            // The other stores' second parcels leave in `stores::second_parcels`.
            .filter(|(_, shop)| platform_of(&self.set, *shop) == Platform::Shopify)
            .collect();
        if self.rng.random_bool(0.3)
            && let Some((id, shop)) = self.pick(&second)
        {
            let number = format!("TRK{id}B");
            let parcel = self.parcel(&number);
            let store = &self.set.scenario.stores[shop].name;
            let store_order = self
                .set
                .shopify
                .orders(store)
                .unwrap_or_default()
                .into_iter()
                .find(|o| o.source_identifier.as_deref() == Some(id.as_str()));
            if let Some(order) = store_order
                && self.set.shopify.fulfil(store, &order.id, parcel).is_ok()
                && let Some((numbers, _)) = self.log.split.get_mut(&id)
            {
                numbers.push(number);
            }
        }
    }

    /// TikTok cancels the last line item of `id`; the buyer keeps the rest.
    fn cancel_last_line(&mut self, id: String) {
        let last = vec![self.known[&id].lines.last().expect("lines").clone()];
        if self
            .set
            .tiktok
            .cancel_lines_as(&id, &last, "BUYER", "One was enough")
            .is_ok()
        {
            self.log.part_cancelled.insert(id, last);
        }
    }

    /// TikTok cancels the last line item of a multi-unit order; the buyer keeps the rest.
    fn cancel_some_lines(&mut self, open: &[(String, usize, SandboxOrder)]) {
        let candidates: Vec<String> = open
            .iter()
            .filter(|(id, _, _)| !self.busy(id) && self.known[id].lines.len() > 1)
            .map(|(id, _, _)| id.clone())
            .collect();
        if self.rng.random_bool(0.12)
            && let Some(id) = self.pick(&candidates)
        {
            self.cancel_last_line(id);
        }
    }

    fn parcel(&mut self, number: &str) -> SandboxTracking {
        let carrier = *CARRIERS.choose(&mut self.rng).expect("carriers");
        SandboxTracking {
            company: Some(carrier.into()),
            number: Some(number.into()),
            url: None,
        }
    }

    /// Now and then TikTok sends a new order damaged (half an emoji in the buyer's name, bytes
    /// that are not UTF-8 in a product name, a package id longer than any id), and now and then
    /// it sends a damaged one readable again.
    fn poison_or_heal(&mut self, now: i64) {
        if self.rng.random_bool(0.05) {
            self.serial += 1;
            let shop = self.rng.random_range(0..SHOPS);
            let healthy = self
                .set
                .scenario
                .new_order(&mut self.rng, shop, self.serial, now);
            let mut damaged = healthy.clone();
            match self.rng.random_range(0..3) {
                0 => damaged.buyer.first_name.push(SEND_LONE_SURROGATE),
                1 => damaged.lines[0].product_name.push(SEND_NOT_UTF8),
                _ => damaged.package_id = "9".repeat(80),
            }
            self.set.tiktok.add_order(&damaged);
            self.log.poisoned.insert(damaged.id.clone());
            self.healthy.insert(healthy.id.clone(), healthy);
        }
        let poisoned: Vec<String> = self.log.poisoned.iter().cloned().collect();
        if self.rng.random_bool(0.03)
            && let Some(id) = self.pick(&poisoned)
            && let Some(mut healthy) = self.healthy.remove(&id)
        {
            healthy.update_time = now;
            self.set.tiktok.add_order(&healthy);
            self.log.poisoned.remove(&id);
            self.log.healed.insert(id.clone());
            self.learn(&healthy);
            if healthy.status == "AWAITING_SHIPMENT" {
                self.paid(&id);
            }
        }
    }

    /// Operators answer buyer requests through the daemon (while one is up).
    async fn answer_requests(&mut self) {
        let due: Vec<(String, String, bool)> = self
            .log
            .requests
            .iter()
            .filter(|(cancel, _)| !self.log.answered.contains(*cancel))
            .filter_map(|(cancel, (order, answer))| {
                answer.map(|approve| (cancel.clone(), order.clone(), approve))
            })
            .take(3)
            .collect();
        for (cancel_id, order, approve) in due {
            let Some(client) = self.client().await else {
                return;
            };
            let request = Request::RespondBuyerCancel {
                cancel_id: CancelId::new(cancel_id.clone()).expect("cancel id"),
                approve,
                reject_reason: (!approve)
                    .then(|| "seller_reject_apply_product_has_been_packed".into()),
                comment: None,
            };
            let answer = tokio::time::timeout(Duration::from_secs(3), client.call(request)).await;
            match answer {
                Ok(Ok(Response::Done { .. })) => {}
                // An earlier try reached the daemon, which died before answering: orderdeck
                // holds the answer ("already answered"), or has already given it to TikTok.
                Ok(Err(ServiceError::Invalid { message }))
                    if message.contains("already answered")
                        || self.set.tiktok.cancellation_status(&cancel_id).as_deref()
                            == Some(if approve {
                                "CANCELLATION_REQUEST_SUCCESS"
                            } else {
                                "CANCELLATION_REQUEST_CANCEL"
                            }) => {}
                // Not known yet (not polled), or the daemon is down: later.
                Ok(Err(ServiceError::NotFound { .. } | ServiceError::Disconnected { .. }))
                | Err(_) => continue,
                Ok(other) => panic!("answering {cancel_id}: {other:?}"),
            }
            self.log.answered.insert(cancel_id);
            if approve {
                self.log.tiktok_cancelled.insert(order);
            }
        }
    }

    async fn client(&mut self) -> Option<Arc<RemoteClient>> {
        if self.client.is_none()
            && let Ok(Ok((client, _))) =
                tokio::time::timeout(Duration::from_secs(2), RemoteClient::connect(&self.socket))
                    .await
        {
            self.client = Some(client);
        }
        self.client.clone()
    }
}
