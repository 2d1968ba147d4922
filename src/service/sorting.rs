//! Sorting a list by one of its displayed columns: each kind of row says what a column holds
//! as a comparable [`Key`]; a column the row does not have keeps the list's own order. Sorting
//! is stable, so rows equal in the column stay in the list's own order. Order lists, which may
//! hold a million orders, are sorted by the store's indexes instead ([`order_sort`]).

use super::api::{ActivityItem, CancellationRow, OrderColumn, Sort, SortDir};
use crate::domain::order_sort::OrderSort;
use crate::domain::request::ResyncRequest;

/// What a cell is compared by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Text(String),
    /// Unix seconds; a missing time sorts last.
    Time(i64),
    Number(u64),
}

fn text(value: impl ToString) -> Option<Key> {
    Some(Key::Text(value.to_string()))
}

fn time(at: Option<crate::domain::clock::Timestamp>) -> Option<Key> {
    Some(Key::Time(at.map_or(i64::MAX, |t| t.timestamp())))
}

/// A row of a list that can be sorted.
pub trait Sortable {
    /// The row's key in `column`, `None` when the row has no such column.
    fn key(&self, column: OrderColumn) -> Option<Key>;
}

/// Sorts `rows` as `sort` asks (the list's own order when it is the default).
pub fn sort<T: Sortable>(rows: &mut [T], sort: Sort) {
    if sort.column != OrderColumn::Default {
        rows.sort_by_cached_key(|row| row.key(sort.column));
    }
    if sort.dir == SortDir::Desc {
        rows.reverse();
    }
}

/// The store's sort column for an order list's `column`; `None` keeps the list's own order
/// (the default, or a column order rows do not have).
pub fn order_sort(column: OrderColumn) -> Option<OrderSort> {
    use OrderColumn::*;
    Some(match column {
        Id => OrderSort::Id,
        Link => OrderSort::Link,
        Status => OrderSort::Status,
        Created => OrderSort::Created,
        ShipBy => OrderSort::ShipBy,
        Paid => OrderSort::Paid,
        StoreOrder => OrderSort::StoreOrder,
        Why => OrderSort::Why,
        StorefrontSide => OrderSort::StorefrontSide,
        Skus => OrderSort::Skus,
        Buyer => OrderSort::Buyer,
        Default | Direction | Initiator | Deadline | Sync | Reason | Request | Requester
        | Asked | Flow | Targets | When | Who | Text => return None,
    })
}

impl Sortable for CancellationRow {
    fn key(&self, column: OrderColumn) -> Option<Key> {
        use OrderColumn::*;
        match column {
            Id => text(&self.order_id),
            Link => text(&self.link),
            Direction => text(&self.direction),
            Initiator => text(&self.initiator),
            Deadline => time(self.seller_deadline),
            Sync => text(&self.sync),
            Reason => text(&self.reason),
            _ => None,
        }
    }
}

impl Sortable for ResyncRequest {
    fn key(&self, column: OrderColumn) -> Option<Key> {
        use OrderColumn::*;
        match column {
            Request => Some(Key::Number(self.id.0)),
            Requester => text(&self.requested_by.user),
            Asked => time(Some(self.requested_at)),
            Flow => text(self.flow.name()),
            Targets => Some(Key::Number(self.targets.len() as u64)),
            Reason => text(&self.reason),
            _ => None,
        }
    }
}

impl Sortable for ActivityItem {
    fn key(&self, column: OrderColumn) -> Option<Key> {
        use OrderColumn::*;
        match column {
            When => time(Some(self.at)),
            Who => text(&self.who),
            Link => text(
                self.link
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            Id => text(
                self.order
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            Text => text(&self.text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;

    fn item(at: i64, who: &str) -> ActivityItem {
        ActivityItem {
            at: from_unix(at),
            source: "audit".into(),
            level: super::super::api::ActivityLevel::Info,
            who: who.into(),
            link: None,
            order: None,
            text: String::new(),
        }
    }

    #[test]
    fn columns_sort_stably_and_either_way() {
        let mut rows = vec![item(3, "bob"), item(1, "alice"), item(2, "bob")];
        let by = |column, dir| Sort { column, dir };
        sort(&mut rows, by(OrderColumn::Who, SortDir::Asc));
        let seen: Vec<i64> = rows.iter().map(|r| r.at.timestamp()).collect();
        assert_eq!(seen, [1, 3, 2], "equal names keep their order");
        sort(&mut rows, by(OrderColumn::When, SortDir::Desc));
        let seen: Vec<i64> = rows.iter().map(|r| r.at.timestamp()).collect();
        assert_eq!(seen, [3, 2, 1]);
        // A column the rows do not have leaves them as they are.
        sort(&mut rows, by(OrderColumn::ShipBy, SortDir::Asc));
        let seen: Vec<i64> = rows.iter().map(|r| r.at.timestamp()).collect();
        assert_eq!(seen, [3, 2, 1]);
    }
}
