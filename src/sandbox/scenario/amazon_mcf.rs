//! The Amazon MCF part of the scenario: one more US shop, linked to a simulated Amazon seller
//! whose stock sits in Amazon's warehouses (every catalogue SKU; `GHOST-…` SKUs are sold on
//! TikTok only, so Amazon refuses them), with its own seed orders whose buyers live in US
//! cities (Amazon needs a city on US addresses).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{AmazonSellerSpec, Scenario, catalog, magento2, order};

/// Sellable units of each SKU in Amazon's network: more than any demo sells.
const UNITS_IN_STOCK: u32 = 10_000;
/// Amazon's US marketplace.
pub const US_MARKETPLACE: &str = "ATVPDKIKX0DER";

impl Scenario {
    /// Adds one US shop linked to an Amazon MCF seller, with as many seed orders as the first
    /// shop has (the demo's and `orderdeck sandbox`'s world; earlier shops keep their indexes).
    pub fn with_amazon(mut self) -> Scenario {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0xa3a2);
        let s = self.shops.len();
        let n = self.amazon.len() + 1;
        let store_name = format!("us-mcf{n}");
        let products = catalog(&mut rng, s);
        let shop = self.us_shop(
            &mut rng,
            (
                format!("us-amazon{n}"),
                format!("Sandbox US Amazon MCF shop {n}"),
            ),
            ("a3a2", "4m4z0nmcf"),
            &store_name,
        );
        for o in 0..self.seeded_per_shop() {
            let mut spec = order(&mut rng, &shop, &products, s, o, self.now);
            magento2::us_buyer(&mut rng, &mut spec);
            self.orders.push(spec);
        }
        self.shops.push(shop);
        self.amazon.push(AmazonSellerSpec {
            name: store_name,
            lwa_client_id: format!(
                "amzn1.application-oa2-client.sandbox{n}{:016x}",
                rng.random::<u64>()
            ),
            lwa_client_secret: format!("sandbox-lwa-secret-{n}-{:016x}", rng.random::<u64>()),
            refresh_token: format!("Atzr|sandbox-refresh-{n}-{:016x}", rng.random::<u64>()),
            marketplace_id: US_MARKETPLACE.into(),
            stock: products
                .iter()
                .map(|p| (p.sku.clone(), UNITS_IN_STOCK))
                .collect(),
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
    fn the_amazon_shop_follows_the_others_with_us_buyers_and_stock_for_its_catalogue() {
        let base = Scenario::generate(
            3,
            Size {
                shops: 2,
                orders_per_shop: 5,
            },
            1_700_000_000,
        )
        .with_bigcommerce();
        let s = base.clone().with_amazon();
        assert_eq!(s.shops.len(), 4);
        assert_eq!(s.shops[3].name, "us-amazon1");
        assert_eq!(s.shops[3].store, s.amazon[0].name);
        let seeded: Vec<_> = s
            .orders
            .iter()
            .filter(|o| o.shop == s.shops[3].name)
            .collect();
        assert_eq!(seeded.len(), 5);
        assert!(
            seeded
                .iter()
                .filter(|o| !o.buyer.address_line1.is_empty())
                .all(|o| o.buyer.region_code == "US" && !o.buyer.city.is_empty())
        );
        assert_eq!(s.catalog_of(3).len(), s.amazon[0].products.len());
        assert!(
            s.amazon[0]
                .stock
                .iter()
                .all(|(sku, units)| !sku.starts_with("GHOST-") && *units > 0)
        );
        let ids: std::collections::HashSet<_> = s.shops.iter().map(|x| &x.shop_id).collect();
        assert_eq!(ids.len(), s.shops.len(), "shop ids stay unique");
        let unique: std::collections::HashSet<_> = s.orders.iter().map(|o| &o.id).collect();
        assert_eq!(unique.len(), s.orders.len(), "order ids stay unique");
    }
}
