//! What changed, told to every face that subscribed: a topic and a generation number, never the
//! data (clients re-ask for what they show). Topics are derived from the committed [`Change`]
//! itself, so no write path can forget to tell, or tell about a link it did not touch.

use serde::{Deserialize, Serialize};

use crate::domain::ids::LinkId;
use crate::store::Change;

/// What changed; clients re-ask for what they show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "topic", rename_all = "snake_case")]
pub enum Notification {
    Orders { link: LinkId, generation: u64 },
    Requests { generation: u64 },
    Audit { generation: u64 },
    Settings { link: LinkId, generation: u64 },
    Health { generation: u64 },
}

/// A notification before it is given its generation number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    Orders(LinkId),
    Requests,
    Audit,
    Settings(LinkId),
    Health,
}

impl Topic {
    pub fn at(self, generation: u64) -> Notification {
        match self {
            Topic::Orders(link) => Notification::Orders { link, generation },
            Topic::Requests => Notification::Requests { generation },
            Topic::Audit => Notification::Audit { generation },
            Topic::Settings(link) => Notification::Settings { link, generation },
            Topic::Health => Notification::Health { generation },
        }
    }

    /// Every topic a committed change touches, each once, in a stable order.
    pub fn of(change: &Change) -> Vec<Topic> {
        let mut topics = Vec::new();
        let mut add = |topic: Topic| {
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        };
        let links = change
            .orders
            .iter()
            .map(|o| &o.link)
            .chain(change.cancellations.iter().map(|c| &c.link));
        for link in links {
            add(Topic::Orders(link.clone()));
        }
        for write in &change.settings {
            add(Topic::Settings(write.link.clone()));
        }
        if !change.requests.is_empty() {
            add(Topic::Requests);
        }
        if !change.audit.is_empty() {
            add(Topic::Audit);
        }
        if !change.links.is_empty() {
            add(Topic::Health);
        }
        topics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{Order, OrderStatus, ShippingType};
    use crate::domain::rules::fixtures;

    fn order_of_link(id: &str, link: &LinkId) -> Order {
        let mut order = fixtures::order(OrderStatus::AwaitingShipment, ShippingType::Seller);
        order.id = crate::domain::ids::TiktokOrderId::new(id).unwrap();
        order.link = link.clone();
        order
    }

    #[test]
    fn a_change_names_each_link_it_touched_once_and_nothing_it_did_not() {
        let a = LinkId::new("uk").unwrap();
        let b = LinkId::new("us").unwrap();
        let orders: Vec<Order> = vec![
            order_of_link("1", &a),
            order_of_link("2", &b),
            order_of_link("3", &a),
        ];
        let change = Change {
            orders,
            ..Change::default()
        };
        assert_eq!(Topic::of(&change), vec![Topic::Orders(a), Topic::Orders(b)]);
        assert!(Topic::of(&Change::default()).is_empty());
        let watermark_only = Change {
            watermarks: vec![(
                LinkId::new("uk").unwrap(),
                "orders".into(),
                crate::store::Watermark {
                    at: chrono::Utc::now(),
                    cursor: None,
                },
            )],
            ..Change::default()
        };
        assert!(
            Topic::of(&watermark_only).is_empty(),
            "a watermark is nobody's news"
        );
    }
}
