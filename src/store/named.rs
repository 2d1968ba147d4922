//! Finding the orders a store order number names (`#1002`, what a customer reads off their
//! confirmation email). The every-order list's index by store order (`idx_order_sort`) holds
//! each order's number as its value, so the orders with one number are one short range of it:
//! found in the time of a page, however many orders the store holds, without reading their
//! texts. Both spellings of a number are looked up (`#1002` and `1002`, see
//! `listing::names_order`): stores differ in whether they write the `#`.

use std::ops::Bound::{Excluded, Included, Unbounded};

use super::{Result, Store, TreeId, blocks, codec, keys};
use crate::domain::clock::from_unix;
use crate::domain::ids::TiktokOrderId;
use crate::domain::listing;
use crate::domain::order::Order;
use crate::domain::order_sort::{OrderSort, SortValue};
use crate::domain::triage::OrderView;

impl Store {
    /// The orders whose store order number is `number`, `#` or not, newest first, at most
    /// `limit` of them.
    pub fn orders_by_store_number(&self, number: &str, limit: usize) -> Result<Vec<Order>> {
        let mut found: Vec<Order> = Vec::new();
        for spelling in listing::store_order_spellings(number) {
            let Some(prefix) = number_prefix(&spelling) else {
                continue;
            };
            let tree = TreeId::IdxOrderSort;
            let end = keys::after_prefix(&prefix).map_or(Unbounded, Excluded);
            for item in blocks::range(tree, self.tree(tree), Included(prefix), end, false) {
                if found.len() >= limit {
                    break;
                }
                let (key, _) = item?;
                let id = keys::order_of_sort_key(&key).ok_or_else(|| {
                    codec::corrupt(
                        TreeId::IdxOrderSort.name(),
                        &key,
                        "index key names no order",
                    )
                })?;
                let Some(order) = self.get::<Order>(TreeId::Orders, id)? else {
                    continue;
                };
                // A key keeps a number's first bytes only: a longer one sharing them is another.
                let name = listing::store_order(&order);
                if listing::names_order(order.id.as_str(), name.as_deref(), number) {
                    found.push(order);
                }
            }
        }
        found.sort_by_key(|o| std::cmp::Reverse(o.tiktok.created_at));
        Ok(found)
    }
}

/// The first bytes of the index keys of every order whose store order is shown as `text`: a
/// key as `keys::sort_key` writes it (so the text is cut and escaped exactly as it is indexed),
/// less the creation time and order id that end it.
fn number_prefix(text: &str) -> Option<Vec<u8>> {
    // Any valid id does: its bytes are cut off again.
    let probe = TiktokOrderId::new("0").ok()?;
    let mut key = keys::sort_key(
        (OrderView::All, OrderSort::StoreOrder),
        &SortValue::Text(text.to_string()),
        from_unix(0),
        &probe,
    );
    key.truncate(key.len() - 8 - probe.as_str().len());
    Some(key)
}

#[cfg(test)]
mod tests {
    use crate::store::tests::{open, shipped_by_tiktok, tempdir};

    use super::*;

    fn numbered(id: &str, link: &str, number: &str, age: i64) -> Order {
        let mut order = shipped_by_tiktok(id, link);
        order.tiktok.created_at -= chrono::Duration::days(age);
        if let Some(store) = &mut order.store {
            store.name = Some(number.into());
        }
        order
    }

    #[test]
    fn a_number_finds_its_orders_in_every_store_and_no_longer_number() {
        let dir = tempdir();
        let store = open(dir.path());
        store
            .import_orders(&[
                numbered("1", "uk", "#1002", 3),
                numbered("2", "us", "1002", 1),
                numbered("3", "uk", "#10020", 0),
                numbered("4", "uk", "#1003", 0),
            ])
            .unwrap();
        let ids = |number: &str| -> Vec<String> {
            let found = store.orders_by_store_number(number, 10).unwrap();
            found.iter().map(|o| o.id.to_string()).collect()
        };
        assert_eq!(ids("#1002"), ["2", "1"], "both stores, newest first");
        assert_eq!(ids("1002"), ["2", "1"]);
        assert_eq!(ids("#10020"), ["3"]);
        assert!(ids("#100").is_empty());
        assert!(ids("#9999").is_empty());
        assert_eq!(store.orders_by_store_number("1002", 1).unwrap().len(), 1);
    }
}
