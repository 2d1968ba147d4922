//! The Magento 2 part of the scenario: one more US shop, linked to a simulated Magento store
//! with the same kind of catalogue (entity ids in the thousands) and its own seed orders, whose
//! buyers live in US states Magento's directory knows.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{MageStoreSpec, OrderSpec, Scenario, catalog, order};

/// US cities and their states, as TikTok's district level L1 names them.
const US_CITIES: &[(&str, &str)] = &[
    ("San Jose", "California"),
    ("Austin", "Texas"),
    ("Brooklyn", "New York"),
    ("Portland", "Oregon"),
];

/// A buyer in a US state Magento's directory knows (its region id is required on US addresses).
pub(super) fn us_buyer(rng: &mut ChaCha8Rng, spec: &mut OrderSpec) {
    let (city, state) = *US_CITIES.choose(rng).expect("cities");
    spec.buyer.city = city.into();
    spec.buyer.state = state.into();
    spec.buyer.postal_code = format!("{:05}", rng.random_range(10_000..99_999));
    spec.buyer.region_code = "US".into();
    spec.buyer.country = "United States".into();
}

impl Scenario {
    /// Adds one US shop linked to a Magento store, with as many seed orders as the first shop
    /// has (the demo's and `orderdeck sandbox`'s world; earlier shops keep their indexes).
    pub fn with_magento(mut self) -> Scenario {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x4004);
        let s = self.shops.len();
        let n = self.magento.len() + 1;
        let name = format!("us-mage{n}");
        let store_name = format!("us-magento{n}");
        let mut products = catalog(&mut rng, s);
        for (i, product) in products.iter_mut().enumerate() {
            product.variant_id = 2000 + i as u64;
        }
        let shop = self.us_shop(
            &mut rng,
            (name, format!("Sandbox US Magento shop {n}")),
            ("a39d", "e59af819cc"),
            &store_name,
        );
        for o in 0..self.seeded_per_shop() {
            let mut spec = order(&mut rng, &shop, &products, s, o, self.now);
            us_buyer(&mut rng, &mut spec);
            self.orders.push(spec);
        }
        self.shops.push(shop);
        self.magento.push(MageStoreSpec {
            name: store_name,
            slug: format!("sandbox-magento-{n}"),
            access_token: format!("{:032x}", rng.random::<u128>()),
            products,
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::Size;
    use super::*;

    #[test]
    fn the_magento_shop_follows_the_others() {
        let base = Scenario::generate(
            3,
            Size {
                shops: 2,
                orders_per_shop: 5,
            },
            1_700_000_000,
        )
        .with_woocommerce();
        let s = base.clone().with_magento();
        assert_eq!(s.shops.len(), 4);
        assert_eq!(s.shops[3].store, s.magento[0].name);
        assert_eq!(
            s.orders
                .iter()
                .filter(|o| o.shop == s.shops[3].name)
                .count(),
            5
        );
        assert_eq!(s.catalog_of(3).len(), s.magento[0].products.len());
        let unique: std::collections::HashSet<_> = s.orders.iter().map(|o| &o.id).collect();
        assert_eq!(unique.len(), s.orders.len(), "order ids stay unique");
        let unique_shops: std::collections::HashSet<_> =
            s.shops.iter().map(|x| &x.shop_id).collect();
        assert_eq!(unique_shops.len(), s.shops.len());
    }
}
