//! Deterministic seed data for the simulated platforms: several TikTok shops, each linked to a
//! Shopify store, thousands of orders in every status, a catalog with a few SKUs the store does
//! not have (and one it has twice), both shipping types, and buyer cancel requests with
//! deadlines. Plain wire-level values (strings, unix seconds): each simulated platform seeds
//! its own state from this, and nothing here is a client or domain type.

mod amazon_mcf;
mod bigcommerce;
mod magento2;
mod woocommerce;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    /// Unix seconds the scenario was generated for ("now").
    pub now: i64,
    pub shops: Vec<ShopSpec>,
    pub stores: Vec<StoreSpec>,
    /// WooCommerce sites; their shops follow the Shopify ones in `shops`.
    pub woocommerce: Vec<WooStoreSpec>,
    /// Magento stores; their shops follow the WooCommerce ones in `shops`.
    pub magento: Vec<MageStoreSpec>,
    /// BigCommerce stores; their shops follow the others in `shops`.
    pub bigcommerce: Vec<BigStoreSpec>,
    /// Amazon MCF sellers; their shops follow the others in `shops`.
    pub amazon: Vec<AmazonSellerSpec>,
    pub orders: Vec<OrderSpec>,
}

#[derive(Debug, Clone)]
pub struct ShopSpec {
    /// orderdeck's name for the shop (and its link).
    pub name: String,
    pub shop_id: String,
    pub shop_name: String,
    pub cipher: String,
    pub region: String,
    pub app_key: String,
    pub app_secret: String,
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    /// The store this shop is linked to.
    pub store: String,
    pub delivery_option_id: String,
    /// TikTok shipping providers for that delivery option: (id, name).
    pub providers: Vec<(String, String)>,
    pub currency: String,
}

/// The number a new store gives its first order (Shopify's `#1001`).
pub const FIRST_ORDER_NUMBER: u64 = 1001;

#[derive(Debug, Clone)]
pub struct StoreSpec {
    pub name: String,
    /// `x.myshopify.com`.
    pub shop_domain: String,
    pub access_token: String,
    pub webhook_secret: String,
    pub variants: Vec<VariantSpec>,
    /// The number its next order gets: [`FIRST_ORDER_NUMBER`], or past a history
    /// ([`Scenario::after_history`]).
    pub first_order_number: u64,
}

/// A simulated WooCommerce site.
#[derive(Debug, Clone)]
pub struct WooStoreSpec {
    pub name: String,
    /// The site's path on the sandbox's port (`http://127.0.0.1:PORT/{slug}`).
    pub slug: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The `secret` orderdeck creates its webhooks with (its `webhook_secret`).
    pub webhook_secret: String,
    /// Simple products: `variant_id` is the product id.
    pub products: Vec<VariantSpec>,
    /// The least id (its number) its next order gets, as [`StoreSpec::first_order_number`].
    pub first_order_number: u64,
}

/// A simulated Magento 2 store.
#[derive(Debug, Clone)]
pub struct MageStoreSpec {
    pub name: String,
    /// The site's path on the sandbox's port (`http://127.0.0.1:PORT/{slug}`).
    pub slug: String,
    /// The Integration's access token.
    pub access_token: String,
    /// Simple products: `variant_id` is the product's entity id.
    pub products: Vec<VariantSpec>,
}

/// A simulated BigCommerce store.
#[derive(Debug, Clone)]
pub struct BigStoreSpec {
    pub name: String,
    /// The store's API path segment (`/stores/{store_hash}/`).
    pub store_hash: String,
    pub access_token: String,
    /// The API account's client secret: signs webhook deliveries (orderdeck's `webhook_secret`).
    pub client_secret: String,
    /// Catalog variants: `variant_id` is the variant's id; every other product has options.
    pub products: Vec<VariantSpec>,
    /// Requests per window (Standard plan: 150 per 30 s).
    pub quota: u32,
    pub window_ms: u64,
    /// The least id (its number) its next order gets, as [`StoreSpec::first_order_number`].
    pub first_order_number: u64,
}

/// A simulated Amazon MCF seller (a Login with Amazon app and the seller's authorization).
#[derive(Debug, Clone)]
pub struct AmazonSellerSpec {
    pub name: String,
    pub lwa_client_id: String,
    pub lwa_client_secret: String,
    pub refresh_token: String,
    pub marketplace_id: String,
    /// Sellable units per SKU in Amazon's warehouses.
    pub stock: Vec<(String, u32)>,
    /// What the shop sells (`variant_id` unused: Amazon takes SKUs).
    pub products: Vec<VariantSpec>,
}

#[derive(Debug, Clone)]
pub struct VariantSpec {
    pub sku: String,
    /// Numeric part of `gid://shopify/ProductVariant/{id}`.
    pub variant_id: u64,
    pub product_title: String,
    pub price: String,
}

#[derive(Debug, Clone)]
pub struct LineSpec {
    pub line_item_id: String,
    pub sku_id: String,
    pub seller_sku: String,
    pub product_name: String,
    pub sku_name: String,
    pub sale_price: String,
}

#[derive(Debug, Clone)]
pub struct BuyerSpec {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub region_code: String,
    pub country: String,
}

#[derive(Debug, Clone)]
pub struct CancelSpec {
    pub cancel_id: String,
    /// `BUYER_CANCEL` (needs the seller's answer) or `CANCEL`.
    pub cancel_type: String,
    pub cancel_status: String,
    /// `BUYER`, `SELLER` or `SYSTEM`.
    pub role: String,
    pub reason: String,
    pub reason_text: String,
    pub create_time: i64,
    /// Seller response deadline, for buyer requests.
    pub deadline: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct OrderSpec {
    pub shop: String,
    pub id: String,
    pub status: String,
    /// `SELLER` or `TIKTOK`.
    pub shipping_type: String,
    pub create_time: i64,
    pub update_time: i64,
    pub paid_time: Option<i64>,
    pub rts_sla_time: i64,
    /// One entry per unit (TikTok sends no quantity).
    pub lines: Vec<LineSpec>,
    pub buyer: BuyerSpec,
    pub buyer_message: Option<String>,
    pub package_id: String,
    /// Set once shipped.
    pub tracking_number: Option<String>,
    pub cancel: Option<CancelSpec>,
}

/// How big a scenario to build.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub shops: usize,
    pub orders_per_shop: usize,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            shops: 3,
            orders_per_shop: 1000,
        }
    }
}

const REGIONS: &[(&str, &str, &str)] = &[
    ("GB", "GBP", "United Kingdom"),
    ("US", "USD", "United States"),
    ("ID", "IDR", "Indonesia"),
];
const PRODUCTS: &[&str] = &[
    "Crochet jumper",
    "Linen shirt",
    "Wool beanie",
    "Canvas tote",
    "Silk scarf",
    "Denim jacket",
    "Running socks",
    "Leather belt",
];
const VARIANTS: &[&str] = &["Red, S", "Red, M", "Blue, M", "Blue, L", "Black, XL"];
const FIRST: &[&str] = &[
    "David", "Amara", "Li", "Sofia", "Tom", "Priya", "Jonas", "Mei", "Kwame", "Olga",
];
const LAST: &[&str] = &[
    "Kong", "Okafor", "Wei", "Rossi", "Baker", "Shah", "Berg", "Tanaka", "Mensah", "Ivanova",
];
const STREETS: &[&str] = &[
    "Bristol Pkwy",
    "High Street",
    "Station Road",
    "Jalan Sudirman",
    "Market St",
    "Church Lane",
];
const CITIES: &[(&str, &str)] = &[
    ("London", "Greater London"),
    ("Manchester", "Greater Manchester"),
    ("San Jose", "CA"),
    ("Austin", "TX"),
    ("Jakarta", "DKI Jakarta"),
];
const PROVIDERS: &[&str] = &[
    "Royal Mail",
    "DPD UK",
    "Evri",
    "USPS",
    "UPS",
    "FedEx",
    "J&T Express",
    "SiCepat",
];
const BUYER_REASONS: &[(&str, &str)] = &[
    (
        "ecom_order_to_ship_canceled_reason_created_by_mistakes",
        "Order created by mistake",
    ),
    (
        "ecom_order_to_ship_canceled_reason_better_price",
        "Found a better price",
    ),
    (
        "ecom_order_to_ship_canceled_reason_change_address",
        "Need to change shipping address",
    ),
];
/// Order statuses with their weight in the mix.
const STATUS_MIX: &[(&str, u32)] = &[
    ("UNPAID", 4),
    ("ON_HOLD", 5),
    ("AWAITING_SHIPMENT", 50),
    ("AWAITING_COLLECTION", 10),
    ("IN_TRANSIT", 10),
    ("DELIVERED", 6),
    ("COMPLETED", 5),
    ("CANCELLED", 10),
];

impl Scenario {
    /// The same seed, size and `now` always give the same scenario.
    pub fn generate(seed: u64, size: Size, now: i64) -> Scenario {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut shops = Vec::new();
        let mut stores = Vec::new();
        let mut orders = Vec::new();
        for s in 0..size.shops {
            let (region, currency, _) = REGIONS[s % REGIONS.len()];
            let name = format!("{}-shop{}", region.to_lowercase(), s + 1);
            let store_name = format!("{}-shopify{}", region.to_lowercase(), s + 1);
            let variants = catalog(&mut rng, s);
            shops.push(ShopSpec {
                name: name.clone(),
                shop_id: format!("749554073536577{:04}", s + 1),
                shop_name: format!("Sandbox {region} shop {}", s + 1),
                cipher: format!("GCP_sandbox{s}AAAAAh00qsWgtvOiGFNqyubMt{s}"),
                region: region.to_string(),
                app_key: format!("sbx{s}a39d"),
                app_secret: format!("sandbox-secret-{s}-e59af819cc"),
                access_token: format!("TTP_sandbox_access_{s}_{:08x}", rng.random::<u32>()),
                refresh_token: format!("TTP_sandbox_refresh_{s}_{:08x}", rng.random::<u32>()),
                access_expires_at: now + 6 * 86_400,
                refresh_expires_at: now + (20 + 40 * s as i64) * 86_400,
                store: store_name.clone(),
                delivery_option_id: format!("70911466632296{:05}", s + 1),
                providers: tiktok_providers(),
                currency: currency.to_string(),
            });
            stores.push(StoreSpec {
                name: store_name,
                shop_domain: format!("sandbox-{}-{}.myshopify.com", region.to_lowercase(), s + 1),
                access_token: format!(
                    "shpat_sandbox_{s}_{:012x}",
                    rng.random::<u64>() & 0xffff_ffff_ffff
                ),
                webhook_secret: format!("whsec-sandbox-{s}"),
                variants: variants.clone(),
                first_order_number: FIRST_ORDER_NUMBER,
            });
            for o in 0..size.orders_per_shop {
                orders.push(order(&mut rng, &shops[s], &variants, s, o, now));
            }
        }
        Scenario {
            seed,
            now,
            shops,
            stores,
            woocommerce: Vec::new(),
            magento: Vec::new(),
            bigcommerce: Vec::new(),
            amazon: Vec::new(),
            orders,
        }
    }

    /// One more order for a shop, as the demo's living scenario adds them.
    pub fn new_order(
        &self,
        rng: &mut ChaCha8Rng,
        shop_index: usize,
        serial: usize,
        now: i64,
    ) -> OrderSpec {
        let shop = &self.shops[shop_index];
        let variants = self.catalog_of(shop_index);
        let mut spec = order(rng, shop, variants, shop_index, serial, now);
        spec.status = "AWAITING_SHIPMENT".into();
        spec.create_time = now - 60;
        spec.paid_time = Some(now - 30);
        spec.update_time = now;
        spec.rts_sla_time = now + 2 * 86_400;
        spec.tracking_number = None;
        spec.cancel = None;
        // Magento's directory knows US states by name; Amazon needs a city on US addresses.
        let mut needs_us_city =
            (self.magento.iter().map(|m| &m.name)).chain(self.amazon.iter().map(|a| &a.name));
        if needs_us_city.any(|store| *store == shop.store) {
            magento2::us_buyer(rng, &mut spec);
        }
        spec
    }
}

impl Scenario {
    /// Stores that already numbered `orders_per_store` orders each (`orderdeck demo --orders`
    /// preloads them, `cli::history`): their new orders are numbered after those.
    pub fn after_history(mut self, orders_per_store: u64) -> Scenario {
        let next = FIRST_ORDER_NUMBER + orders_per_store;
        let shopify = self.stores.iter_mut().map(|s| &mut s.first_order_number);
        let woo = self
            .woocommerce
            .iter_mut()
            .map(|s| &mut s.first_order_number);
        let big = self
            .bigcommerce
            .iter_mut()
            .map(|s| &mut s.first_order_number);
        for number in shopify.chain(woo).chain(big) {
            *number = next;
        }
        self
    }

    /// One more US shop (its ids follow the others'), linked to `store`, with TikTok's usual
    /// shipping providers; `app` and `secret` tell its TikTok app credentials apart.
    fn us_shop(
        &self,
        rng: &mut ChaCha8Rng,
        (name, shop_name): (String, String),
        (app, secret): (&str, &str),
        store: &str,
    ) -> ShopSpec {
        let s = self.shops.len();
        ShopSpec {
            shop_id: format!("749554073536577{:04}", s + 1),
            shop_name,
            cipher: format!("GCP_sandbox{s}AAAAAh00qsWgtvOiGFNqyubMt{s}"),
            region: "US".into(),
            app_key: format!("sbx{s}{app}"),
            app_secret: format!("sandbox-secret-{s}-{secret}"),
            access_token: format!("TTP_sandbox_access_{s}_{:08x}", rng.random::<u32>()),
            refresh_token: format!("TTP_sandbox_refresh_{s}_{:08x}", rng.random::<u32>()),
            access_expires_at: self.now + 6 * 86_400,
            refresh_expires_at: self.now + 60 * 86_400,
            store: store.to_string(),
            delivery_option_id: format!("70911466632296{:05}", s + 1),
            providers: tiktok_providers(),
            currency: "USD".into(),
            name,
        }
    }

    /// How many seed orders the first shop has: a store added later gets as many.
    fn seeded_per_shop(&self) -> usize {
        self.orders
            .iter()
            .filter(|o| o.shop == self.shops[0].name)
            .count()
    }
}

/// The shipping providers TikTok lists for every simulated shop's delivery option: (id, name).
fn tiktok_providers() -> Vec<(String, String)> {
    PROVIDERS
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("66176750211194{:05}", i + 1), p.to_string()))
        .collect()
}

/// About 40 variants; SKU `DUP-…` exists twice and `GHOST-…` SKUs are sold on TikTok only.
fn catalog(rng: &mut ChaCha8Rng, shop: usize) -> Vec<VariantSpec> {
    let mut variants = Vec::new();
    for (p, product) in PRODUCTS.iter().enumerate() {
        for (v, variant) in VARIANTS.iter().enumerate() {
            variants.push(VariantSpec {
                sku: format!("{}-{}{}", &product[..3].to_uppercase(), p, v),
                variant_id: 44_000_000_000 + (shop * 1000 + p * 10 + v) as u64,
                product_title: format!("{product} ({variant})"),
                price: format!(
                    "{}.{:02}",
                    rng.random_range(8..60),
                    rng.random_range(0..100)
                ),
            });
        }
    }
    for copy in 0..2 {
        variants.push(VariantSpec {
            sku: "DUP-001".into(),
            variant_id: 44_900_000_000 + (shop * 10 + copy) as u64,
            product_title: "Gift card (duplicated SKU)".into(),
            price: "10.00".into(),
        });
    }
    variants
}

fn order(
    rng: &mut ChaCha8Rng,
    shop: &ShopSpec,
    variants: &[VariantSpec],
    s: usize,
    o: usize,
    now: i64,
) -> OrderSpec {
    let total: u32 = STATUS_MIX.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    let status = STATUS_MIX
        .iter()
        .find(|(_, w)| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .map(|(s, _)| *s)
        .unwrap_or("AWAITING_SHIPMENT");
    let created = now - rng.random_range(600..14 * 86_400);
    let paid = (status != "UNPAID").then(|| created + rng.random_range(5..600));
    let id = format!("5764{:02}{:012}", s + 1, o as u64 * 7919 + 1_000_000);
    let unit_count = rng.random_range(1..=4);
    let mut lines = Vec::new();
    for u in 0..unit_count {
        let (sku, name, price) = match rng.random_range(0..100) {
            0..=2 => (
                format!("GHOST-{:03}", rng.random_range(0..20)),
                "Limited drop".to_string(),
                "15.00".to_string(),
            ),
            3 => (
                "DUP-001".to_string(),
                "Gift card".to_string(),
                "10.00".to_string(),
            ),
            _ => {
                let v = variants[..variants.len() - 2]
                    .choose(rng)
                    .expect("catalog is not empty");
                (v.sku.clone(), v.product_title.clone(), v.price.clone())
            }
        };
        // Same SKU twice in a row is common (2 units of one item).
        let sku = if u > 0 && rng.random_bool(0.3) {
            lines
                .last()
                .map(|l: &LineSpec| l.seller_sku.clone())
                .unwrap_or(sku)
        } else {
            sku
        };
        lines.push(LineSpec {
            line_item_id: format!("{id}{u:02}"),
            sku_id: format!(
                "17295{}",
                sku.bytes().map(u64::from).sum::<u64>() * 1_000_003
            ),
            product_name: name.split(" (").next().unwrap_or(&name).to_string(),
            sku_name: name
                .split(" (")
                .nth(1)
                .map(|v| v.trim_end_matches(')').to_string())
                .unwrap_or_default(),
            seller_sku: sku,
            sale_price: price,
        });
    }
    let (city, state) = *CITIES.choose(rng).expect("cities");
    let (region, _, country) = REGIONS[s % REGIONS.len()];
    let first = *FIRST.choose(rng).expect("names");
    let last = *LAST.choose(rng).expect("names");
    let on_hold = status == "ON_HOLD";
    let buyer = BuyerSpec {
        first_name: if on_hold { String::new() } else { first.into() },
        last_name: if on_hold { String::new() } else { last.into() },
        phone: format!("(+44)7700-***-{:03}", rng.random_range(0..1000)),
        address_line1: if on_hold {
            String::new()
        } else {
            format!(
                "{} {}",
                rng.random_range(1..999),
                STREETS.choose(rng).expect("streets")
            )
        },
        address_line2: if rng.random_bool(0.2) {
            format!("Flat {}", rng.random_range(1..40))
        } else {
            String::new()
        },
        city: city.into(),
        state: state.into(),
        postal_code: format!(
            "{}{} {}AB",
            region,
            rng.random_range(1..20),
            rng.random_range(1..9)
        ),
        region_code: region.into(),
        country: country.into(),
    };
    let shipped = matches!(status, "IN_TRANSIT" | "DELIVERED" | "COMPLETED");
    let shipping_type = if rng.random_bool(0.6) {
        "SELLER"
    } else {
        "TIKTOK"
    };
    let cancel = match status {
        "CANCELLED" => {
            let (reason, text) = *BUYER_REASONS.choose(rng).expect("reasons");
            let role = *["BUYER", "SYSTEM", "SELLER"].choose(rng).expect("roles");
            Some(CancelSpec {
                cancel_id: format!("40353{:014}", o as u64 * 31 + s as u64),
                cancel_type: if role == "BUYER" {
                    "BUYER_CANCEL"
                } else {
                    "CANCEL"
                }
                .into(),
                cancel_status: "CANCELLATION_REQUEST_COMPLETE".into(),
                role: role.into(),
                reason: reason.into(),
                reason_text: text.into(),
                create_time: created + 3600,
                deadline: None,
            })
        }
        "AWAITING_SHIPMENT" if rng.random_bool(0.08) => {
            let (reason, text) = *BUYER_REASONS.choose(rng).expect("reasons");
            Some(CancelSpec {
                cancel_id: format!("40353{:014}", o as u64 * 31 + s as u64),
                cancel_type: "BUYER_CANCEL".into(),
                cancel_status: "CANCELLATION_REQUEST_PENDING".into(),
                role: "BUYER".into(),
                reason: reason.into(),
                reason_text: text.into(),
                create_time: now - rng.random_range(60..20 * 3600),
                deadline: Some(now + rng.random_range(3600..48 * 3600)),
            })
        }
        _ => None,
    };
    OrderSpec {
        shop: shop.name.clone(),
        id: id.clone(),
        status: status.into(),
        shipping_type: shipping_type.into(),
        create_time: created,
        update_time: cancel
            .as_ref()
            .map(|c| c.create_time)
            .unwrap_or(created + 700)
            .min(now),
        paid_time: paid,
        rts_sla_time: paid.unwrap_or(created) + rng.random_range(2..5) * 86_400,
        lines,
        buyer,
        buyer_message: rng
            .random_bool(0.15)
            .then(|| "Please ship asap!".to_string()),
        package_id: format!("11523{:014}", o as u64 * 13 + s as u64),
        tracking_number: shipped
            .then(|| format!("JX{:010}", rng.random_range(0..10_000_000_000u64))),
        cancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_scenario() {
        let a = Scenario::generate(
            42,
            Size {
                shops: 2,
                orders_per_shop: 50,
            },
            1_700_000_000,
        );
        let b = Scenario::generate(
            42,
            Size {
                shops: 2,
                orders_per_shop: 50,
            },
            1_700_000_000,
        );
        let ids = |s: &Scenario| {
            s.orders
                .iter()
                .map(|o| (o.id.clone(), o.status.clone(), o.lines.len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(
            ids(&a),
            ids(&Scenario::generate(
                43,
                Size {
                    shops: 2,
                    orders_per_shop: 50
                },
                1_700_000_000
            ))
        );
    }

    #[test]
    fn the_mix_covers_what_the_sync_must_handle() {
        let s = Scenario::generate(7, Size::default(), 1_700_000_000);
        assert_eq!(s.orders.len(), 3000);
        let unique_ids: std::collections::HashSet<_> = s.orders.iter().map(|o| &o.id).collect();
        assert_eq!(unique_ids.len(), s.orders.len(), "order ids are unique");
        for status in STATUS_MIX.iter().map(|(s, _)| *s) {
            assert!(s.orders.iter().any(|o| o.status == status), "{status}");
        }
        for shipping in ["SELLER", "TIKTOK"] {
            assert!(s.orders.iter().any(|o| o.shipping_type == shipping));
        }
        assert!(
            s.orders
                .iter()
                .any(|o| o.lines.iter().any(|l| l.seller_sku.starts_with("GHOST-"))),
            "unknown SKUs"
        );
        assert!(
            s.orders
                .iter()
                .any(|o| o.lines.iter().any(|l| l.seller_sku == "DUP-001")),
            "ambiguous SKUs"
        );
        let waiting = s
            .orders
            .iter()
            .filter(|o| o.cancel.as_ref().is_some_and(|c| c.deadline.is_some()))
            .count();
        assert!(
            waiting > 20,
            "buyer requests waiting for the seller: {waiting}"
        );
        assert!(
            s.shops.iter().any(|sh| sh.region == "ID"),
            "a SEA shop (ship package with self_shipment)"
        );
    }
}
