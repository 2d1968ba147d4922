//! The WooCommerce part of the scenario: one more US shop, linked to a simulated WooCommerce
//! site with the same kind of catalogue (small WordPress post ids) and its own seed orders.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Scenario, VariantSpec, WooStoreSpec, catalog, order};

impl Scenario {
    /// Adds one US shop linked to a WooCommerce site, with as many seed orders as the first
    /// shop has (the demo's and `orderdeck sandbox`'s world; the Shopify shops keep their
    /// indexes).
    pub fn with_woocommerce(mut self) -> Scenario {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x3003);
        let s = self.shops.len();
        let n = self.woocommerce.len() + 1;
        let name = format!("us-woo{n}");
        let store_name = format!("us-woocommerce{n}");
        let mut products = catalog(&mut rng, s);
        // WordPress post ids: small numbers, products first.
        for (i, product) in products.iter_mut().enumerate() {
            product.variant_id = 100 + i as u64;
        }
        let shop = self.us_shop(
            &mut rng,
            (name, format!("Sandbox US WooCommerce shop {n}")),
            ("a39d", "e59af819cc"),
            &store_name,
        );
        for o in 0..self.seeded_per_shop() {
            let mut spec = order(&mut rng, &shop, &products, s, o, self.now);
            spec.buyer.region_code = "US".into();
            spec.buyer.country = "United States".into();
            self.orders.push(spec);
        }
        self.shops.push(shop);
        self.woocommerce.push(WooStoreSpec {
            name: store_name,
            slug: format!("sandbox-woo-{n}"),
            consumer_key: format!("ck_sandbox{n}{:032x}", rng.random::<u128>()),
            consumer_secret: format!("cs_sandbox{n}{:032x}", rng.random::<u128>()),
            webhook_secret: format!("whsec-sandbox-woo-{n}"),
            products,
            first_order_number: super::FIRST_ORDER_NUMBER,
        });
        self
    }

    /// The catalogue of the store linked to shop `shop_index`, whichever platform it is on.
    pub fn catalog_of(&self, shop_index: usize) -> &[VariantSpec] {
        let store = &self.shops[shop_index].store;
        self.stores
            .iter()
            .find(|s| &s.name == store)
            .map(|s| s.variants.as_slice())
            .or_else(|| {
                self.woocommerce
                    .iter()
                    .find(|w| &w.name == store)
                    .map(|w| w.products.as_slice())
            })
            .or_else(|| {
                self.magento
                    .iter()
                    .find(|m| &m.name == store)
                    .map(|m| m.products.as_slice())
            })
            .or_else(|| {
                self.bigcommerce
                    .iter()
                    .find(|b| &b.name == store)
                    .map(|b| b.products.as_slice())
            })
            .or_else(|| {
                self.amazon
                    .iter()
                    .find(|a| &a.name == store)
                    .map(|a| a.products.as_slice())
            })
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::super::Size;
    use super::*;

    #[test]
    fn the_woocommerce_shop_follows_the_shopify_ones() {
        let base = Scenario::generate(
            3,
            Size {
                shops: 2,
                orders_per_shop: 5,
            },
            1_700_000_000,
        );
        let s = base.clone().with_woocommerce();
        assert_eq!(s.shops.len(), 3);
        assert_eq!(
            s.shops[..2].iter().map(|x| &x.name).collect::<Vec<_>>(),
            base.shops.iter().map(|x| &x.name).collect::<Vec<_>>()
        );
        assert_eq!(s.shops[2].store, s.woocommerce[0].name);
        assert_eq!(
            s.orders
                .iter()
                .filter(|o| o.shop == s.shops[2].name)
                .count(),
            5
        );
        assert_eq!(s.catalog_of(2).len(), s.woocommerce[0].products.len());
        assert!(s.catalog_of(2).iter().all(|p| p.variant_id < 1000));
        let unique: std::collections::HashSet<_> = s.orders.iter().map(|o| &o.id).collect();
        assert_eq!(unique.len(), s.orders.len(), "order ids stay unique");
    }
}
