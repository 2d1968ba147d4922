//! The BigCommerce part of the scenario: one more US shop, linked to a simulated BigCommerce
//! store with the same kind of catalogue (variant ids of its own, every other product with an
//! option) and its own seed orders.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{BigStoreSpec, Scenario, catalog, order};

/// Standard and Plus plans: 150 requests per 30 s window.
pub const STANDARD_QUOTA: u32 = 150;
pub const STANDARD_WINDOW_MS: u64 = 30_000;

impl Scenario {
    /// Adds one US shop linked to a BigCommerce store, with as many seed orders as the first
    /// shop has (the demo's and `orderdeck sandbox`'s world; earlier shops keep their indexes).
    pub fn with_bigcommerce(mut self) -> Scenario {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0xb16c);
        let s = self.shops.len();
        let n = self.bigcommerce.len() + 1;
        let name = format!("us-big{n}");
        let store_name = format!("us-bigcommerce{n}");
        let mut products = catalog(&mut rng, s);
        for (i, product) in products.iter_mut().enumerate() {
            product.variant_id = 300 + i as u64;
        }
        let shop = self.us_shop(
            &mut rng,
            (name, format!("Sandbox US BigCommerce shop {n}")),
            ("b16c", "b16c0mm3rc"),
            &store_name,
        );
        for o in 0..self.seeded_per_shop() {
            let mut spec = order(&mut rng, &shop, &products, s, o, self.now);
            spec.buyer.region_code = "US".into();
            spec.buyer.country = "United States".into();
            self.orders.push(spec);
        }
        self.shops.push(shop);
        let store_hash = format!("sbx{n}{:08x}", rng.random::<u32>());
        self.bigcommerce.push(BigStoreSpec {
            name: store_name,
            // Derived, not drawn: the values drawn after it stay what they were.
            client_secret: format!("sandbox-client-secret-{store_hash}"),
            store_hash,
            access_token: format!("sandbox{n}{:031x}", rng.random::<u128>() >> 4),
            products,
            quota: STANDARD_QUOTA,
            window_ms: STANDARD_WINDOW_MS,
            first_order_number: super::FIRST_ORDER_NUMBER,
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::Size;
    use super::*;

    #[test]
    fn the_bigcommerce_shop_follows_the_others() {
        let base = Scenario::generate(
            3,
            Size {
                shops: 2,
                orders_per_shop: 5,
            },
            1_700_000_000,
        );
        let s = base.clone().with_woocommerce().with_bigcommerce();
        assert_eq!(s.shops.len(), 4);
        assert_eq!(s.shops[3].store, s.bigcommerce[0].name);
        assert_eq!(
            s.orders
                .iter()
                .filter(|o| o.shop == s.shops[3].name)
                .count(),
            5
        );
        assert_eq!(s.catalog_of(3).len(), s.bigcommerce[0].products.len());
        assert!(
            s.bigcommerce[0]
                .store_hash
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
        let ids: std::collections::HashSet<_> = s.shops.iter().map(|x| &x.shop_id).collect();
        assert_eq!(ids.len(), s.shops.len(), "shop ids stay unique");
        let unique: std::collections::HashSet<_> = s.orders.iter().map(|o| &o.id).collect();
        assert_eq!(unique.len(), s.orders.len(), "order ids stay unique");
    }
}
