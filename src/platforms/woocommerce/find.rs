//! Finding the store order of a TikTok order: wc/v3 has no meta filter and `search` ignores
//! meta, so orders are listed by creation time (`after`, oldest first) and matched on the
//! TikTok id in their `meta_data`.
//!
//! The window: from shortly before the last create attempt for that TikTok order when there
//! was one (the read-back after a lost answer; known to this process, or recalled from the
//! engine's job record after a restart); otherwise [`super::FIND_LOOKBACK`]
//! back, once, after which an index of the TikTok ids seen is kept and only orders created
//! since the newest one listed are read — so the read-back before every first import costs one
//! short list, not a week of orders. An indexed order is read again before it is answered (it
//! may have been deleted since).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use super::{FIND_LOOKBACK, FIND_SLACK, LIST, READ, WoocommerceClient, mapping, rfc3339};
use crate::domain::ids::TiktokOrderId;
use crate::domain::order::StorefrontOrder;
use crate::platforms::PlatformError;
use crate::platforms::error::ErrorClass;

/// What this process knows about where to look.
#[derive(Debug, Default)]
pub(super) struct Finder {
    /// When this process last tried to create the order of each TikTok id.
    attempts: HashMap<String, DateTime<Utc>>,
    /// Orders listed so far, by TikTok id, from `from` on; `newest` is the latest creation
    /// time listed (where the next scan resumes, less the slack).
    from: Option<DateTime<Utc>>,
    newest: Option<DateTime<Utc>>,
    seen: HashMap<String, Vec<u64>>,
}

impl Finder {
    pub(super) fn attempted(&mut self, tiktok: &str, at: DateTime<Utc>) {
        self.attempts.insert(tiktok.to_string(), at);
    }

    /// An attempt known from the engine's records: what this process saw itself (an attempt at
    /// least as late, whose own read-back covered the earlier ones) wins.
    pub(super) fn recalled(&mut self, tiktok: &str, at: DateTime<Utc>) {
        self.attempts.entry(tiktok.to_string()).or_insert(at);
    }

    /// Where to start listing, and whether the listing extends the index.
    fn window(&self, tiktok: &str, now: DateTime<Utc>) -> (DateTime<Utc>, bool) {
        if let Some(at) = self.attempts.get(tiktok) {
            return (*at - FIND_SLACK, false);
        }
        match (self.from, self.newest) {
            (Some(_), Some(newest)) => (newest - FIND_SLACK, true),
            (Some(from), None) => (from, true),
            _ => (now - FIND_LOOKBACK, true),
        }
    }

    fn index(&mut self, after: DateTime<Utc>, orders: &[Value]) {
        self.from.get_or_insert(after);
        for order in orders {
            let created = order
                .get("date_created_gmt")
                .and_then(Value::as_str)
                .and_then(|d| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M:%S").ok())
                .map(|d| d.and_utc());
            if let Some(created) = created {
                self.newest = Some(self.newest.map_or(created, |n| n.max(created)));
            }
            if let (Some(tiktok), Some(id)) = (
                mapping::tiktok_id(order),
                order.get("id").and_then(Value::as_u64),
            ) {
                let ids = self.seen.entry(tiktok).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
}

fn id_of(order: &Value) -> Option<u64> {
    order.get("id").and_then(Value::as_u64)
}

pub(super) async fn find_order(
    client: &WoocommerceClient,
    tiktok: &TiktokOrderId,
) -> Result<Option<StorefrontOrder>, PlatformError> {
    let (after, indexed) = client.finder().window(tiktok.as_str(), Utc::now());
    let mut listed = Vec::new();
    let mut page = 1u64;
    let raw = loop {
        let query = [
            ("after", rfc3339(after)),
            ("orderby", "date".to_string()),
            ("order", "asc".to_string()),
            ("per_page", client.inner.page_size.to_string()),
            ("page", page.to_string()),
        ];
        let (orders, pages, raw) = client.list_orders(&query).await?;
        listed.extend(orders);
        if page >= pages {
            break raw;
        }
        page += 1;
    };
    let mut found: Vec<Value> = listed
        .iter()
        .filter(|o| mapping::tiktok_id(o).as_deref() == Some(tiktok.as_str()))
        .cloned()
        .collect();
    if indexed {
        let earlier: Vec<u64> = {
            let mut finder = client.finder();
            finder.index(after, &listed);
            finder
                .seen
                .get(tiktok.as_str())
                .cloned()
                .unwrap_or_default()
        };
        for id in earlier {
            if found.iter().any(|o| id_of(o) == Some(id)) {
                continue;
            }
            let route = format!("wc/v3/orders/{id}");
            match client
                .transport()
                .call(READ, Method::GET, &route, &[], None)
                .await
            {
                Ok(answer) => found.push(answer.body),
                // Deleted since it was listed: forget it.
                Err(e) if e.http_status == Some(404) => {
                    if let Some(ids) = client.finder().seen.get_mut(tiktok.as_str()) {
                        ids.retain(|i| *i != id);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    match found.as_slice() {
        [] => Ok(None),
        [order] => Ok(Some(client.complete(order, LIST, &raw).await?.store)),
        several => Err(LIST.error(
            ErrorClass::Permanent,
            format!(
                "TikTok order {tiktok} has several store orders ({}): cancel the duplicates in WooCommerce",
                several
                    .iter()
                    .filter_map(id_of)
                    .map(|id| format!("#{id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &raw,
        )),
    }
}
