//! `FindOrder`: the orders a person names by what a customer quotes, a TikTok order id or a
//! store order number (`#1002`, `1002`). A TikTok id is one point read; a store number is one
//! short range of the store's index by store order (`Store::orders_by_store_number`), so naming
//! an order costs the same at a thousand orders or a million. Rows are those of the every-order
//! list, as the Orders view shows them.

use super::api::{MAX_FOUND, OrderRow, Paged, ServiceError};
use super::core::Service;
use super::rows::order_row;
use crate::domain::ids::TiktokOrderId;
use crate::domain::triage::OrderView;

impl Service {
    /// The order with TikTok id `text`, else the orders whose store order number it is.
    pub(super) fn find_order(&self, text: &str) -> Result<Paged<OrderRow>, ServiceError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServiceError::invalid(
                "name an order: a TikTok order id or a store order number such as #1002",
            ));
        }
        let store = self.engine.store();
        let by_id = match TiktokOrderId::new(text) {
            Ok(id) => store.order(&id).map_err(ServiceError::internal)?,
            Err(_) => None,
        };
        let orders = match by_id {
            Some(order) => vec![order],
            None => store
                .orders_by_store_number(text, MAX_FOUND)
                .map_err(ServiceError::internal)?,
        };
        let now = self.engine.now();
        Ok(Paged {
            total: orders.len(),
            offset: 0,
            rows: orders
                .iter()
                .map(|o| order_row(o, OrderView::All, now))
                .collect(),
            counting: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::config::AccessConfig;
    use crate::domain::access::Role;
    use crate::domain::audit::Actor;
    use crate::domain::clock::FixedClock;
    use crate::domain::ids::LinkId;
    use crate::domain::order::Order;
    use crate::domain::rules::fixtures::{in_store, paid, t};
    use crate::engine::{Engine, EngineOptions};
    use crate::service::Service;
    use crate::service::api::{Request, Response};
    use crate::store::Store;

    use super::*;

    fn numbered(id: &str, link: &str, number: &str) -> Order {
        let mut order = in_store(paid(), vec![]);
        order.id = TiktokOrderId::new(id).unwrap();
        order.link = LinkId::new(link).unwrap();
        if let Some(store) = &mut order.store {
            store.name = Some(number.into());
        }
        order
    }

    async fn find(service: &Service, text: &str) -> Result<Vec<String>, ServiceError> {
        let viewer = Actor {
            user: "sam".into(),
            uid: 1002,
            role: Some(Role::Viewer),
            from: None,
        };
        let request = Request::FindOrder { text: text.into() };
        match service.handle(&viewer, request).await? {
            Response::Orders(page) => Ok(page.rows.iter().map(|r| r.id.to_string()).collect()),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_order_is_found_by_its_tiktok_id_or_its_store_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store")).unwrap();
        store
            .import_orders(&[
                numbered("1002", "uk", "#7"),
                numbered("576461413038785001", "uk", "#1002"),
                numbered("576461413038785002", "us", "1002"),
                numbered("576461413038785003", "us", "#1003"),
            ])
            .unwrap();
        let clock = Arc::new(FixedClock::new(t(0)));
        let options = EngineOptions::in_data_dir(dir.path());
        let engine = Engine::new(Arc::new(store), clock, Vec::new(), options);
        let service = Service::new(engine, AccessConfig::default(), false, false);

        let mut both = find(&service, "#1002").await.unwrap();
        both.sort();
        assert_eq!(both, ["576461413038785001", "576461413038785002"]);
        assert_eq!(
            find(&service, "#1003").await.unwrap(),
            ["576461413038785003"]
        );
        assert_eq!(
            find(&service, "1002").await.unwrap(),
            ["1002"],
            "a TikTok id comes before a store number"
        );
        assert!(find(&service, "#1004").await.unwrap().is_empty());
        assert!(find(&service, "  ").await.is_err());
        assert!(find(&service, &"9".repeat(200)).await.is_err(), "too long");
    }
}
