//! The columns an order list sorts by, and what each compares. The store keeps, for every list
//! an order is on, one index entry per column ordered by [`sort_value`], so sorting a million
//! orders by any column is a range scan; these functions are the one definition both the index
//! and its checks use. Values are the row's text as that list words it (`listing::why` differs
//! by list), so the index of a list sorts exactly what the list shows.

use super::clock::Timestamp;
use super::listing;
use super::order::Order;
use super::triage::{OrderView, StorefrontKnowledge};

/// A displayed column of an order list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderSort {
    Id,
    Link,
    Status,
    Created,
    ShipBy,
    /// When it was paid (when it was created, for orders not paid yet).
    Paid,
    StoreOrder,
    Why,
    /// What the store side knows, then why (Missing tracking; elsewhere the same as `Why`).
    StorefrontSide,
    Skus,
    Buyer,
}

impl OrderSort {
    pub const ALL: [OrderSort; 11] = [
        OrderSort::Id,
        OrderSort::Link,
        OrderSort::Status,
        OrderSort::Created,
        OrderSort::ShipBy,
        OrderSort::Paid,
        OrderSort::StoreOrder,
        OrderSort::Why,
        OrderSort::StorefrontSide,
        OrderSort::Skus,
        OrderSort::Buyer,
    ];

    /// The column `view`'s rows are really compared by: what the store side knows is shown on
    /// Missing tracking only; elsewhere rows compare by why alone.
    pub fn in_view(self, view: OrderView) -> OrderSort {
        match self {
            OrderSort::StorefrontSide if view != OrderView::MissingTracking => OrderSort::Why,
            column => column,
        }
    }

    /// The columns `view`'s list is indexed by (each column's [`OrderSort::in_view`], once).
    pub fn indexed_in(view: OrderView) -> impl Iterator<Item = OrderSort> {
        OrderSort::ALL
            .into_iter()
            .filter(move |c| c.in_view(view) == *c)
    }

    /// Whether the column compares times ([`SortValue::Time`]) rather than texts.
    pub fn compares_times(self) -> bool {
        matches!(
            self,
            OrderSort::Created | OrderSort::ShipBy | OrderSort::Paid
        )
    }
}

/// What a row is compared by in one column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortValue {
    /// The row's text as shown (sanitized, so free of control characters).
    Text(String),
    /// Unix seconds; a missing time is `i64::MAX`, so it sorts last.
    Time(i64),
}

fn time(at: Option<Timestamp>) -> SortValue {
    SortValue::Time(at.map_or(i64::MAX, |t| t.timestamp()))
}

/// What `order`'s row in `view`'s list compares by in `column`.
pub fn sort_value(order: &Order, column: OrderSort, view: OrderView) -> SortValue {
    let text = SortValue::Text;
    match column.in_view(view) {
        OrderSort::Id => text(order.id.as_str().to_string()),
        OrderSort::Link => text(order.link.as_str().to_string()),
        OrderSort::Status => text(order.tiktok.status.to_string()),
        OrderSort::Created => time(Some(order.tiktok.created_at)),
        OrderSort::ShipBy => time(order.tiktok.ship_by),
        OrderSort::Paid => time(Some(order.paid_or_created())),
        OrderSort::StoreOrder => text(listing::store_order(order).unwrap_or_default()),
        OrderSort::Why => text(listing::why(order, view)),
        // U+0001 ends the first part: it sorts below every character a sanitized text holds.
        OrderSort::StorefrontSide => text(format!(
            "{}\u{1}{}",
            StorefrontKnowledge::of(order).describe(),
            listing::why(order, view)
        )),
        OrderSort::Skus => text(listing::skus(order)),
        OrderSort::Buyer => text(listing::buyer(order)),
    }
}

/// What `order` compares by in a column of times ([`OrderSort::compares_times`]): unix
/// seconds; `None` in a column of texts.
pub fn time_value(order: &Order, column: OrderSort) -> Option<i64> {
    match sort_value(order, column, OrderView::All) {
        SortValue::Time(secs) => Some(secs),
        SortValue::Text(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::fixtures;

    #[test]
    fn the_store_side_is_a_column_of_missing_tracking_only() {
        let missing: Vec<OrderSort> = OrderSort::indexed_in(OrderView::MissingTracking).collect();
        assert_eq!(missing, OrderSort::ALL);
        let stuck: Vec<OrderSort> = OrderSort::indexed_in(OrderView::Stuck).collect();
        assert_eq!(stuck.len(), OrderSort::ALL.len() - 1);
        assert!(!stuck.contains(&OrderSort::StorefrontSide));
        assert_eq!(
            OrderSort::StorefrontSide.in_view(OrderView::Stuck),
            OrderSort::Why
        );
    }

    #[test]
    fn each_list_sorts_why_as_it_words_it() {
        let order = fixtures::paid();
        let pending = sort_value(&order, OrderSort::Why, OrderView::Pending);
        let missing = sort_value(&order, OrderSort::Why, OrderView::MissingTracking);
        assert_ne!(pending, missing);
        assert_eq!(
            sort_value(&order, OrderSort::StorefrontSide, OrderView::Pending),
            pending
        );
    }

    #[test]
    fn missing_times_sort_last() {
        let mut order = fixtures::paid();
        order.tiktok.ship_by = None;
        let value = sort_value(&order, OrderSort::ShipBy, OrderView::All);
        assert_eq!(value, SortValue::Time(i64::MAX));
        assert!(SortValue::Time(0) < value);
    }
}
