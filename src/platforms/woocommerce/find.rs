//! Finding the store order of a TikTok order: wc/v3 has no meta filter and `search` ignores
//! meta, so orders are listed by creation time (`after`, oldest first) and matched on the
//! TikTok id in their `meta_data`.
//!
//! The window: from shortly before the last create attempt for that TikTok order when there
//! was one (the read-back after a lost answer; known to this process, or recalled from the
//! engine's job record after a restart). Otherwise an index of the TikTok ids seen is kept:
//! built once from [`super::FIND_LOOKBACK`] back, then extended by listing only orders created
//! since the newest one listed, less [`INDEX_OVERLAP`]. One listing runs at a time: finds that
//! arrive while one runs wait for the next, which covers them all, so a burst of imports costs
//! two listings rather than one each. An indexed order is read again before it is answered (it
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
use crate::platforms::http::RawResponse;

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
    /// Index listings started so far, and the number of the last one finished: a find that
    /// arrived when `started` was N is covered once listing N + 1 has finished.
    started: u64,
    finished: u64,
}

/// How far before the newest order listed the index's next listing starts: an order is
/// stamped `date_created` when its save begins and listed once the save ends, so one stamped
/// a moment earlier than the newest seen may appear later. Saves take seconds, not a minute.
const INDEX_OVERLAP: chrono::Duration = chrono::Duration::minutes(1);

impl Finder {
    pub(super) fn attempted(&mut self, tiktok: &str, at: DateTime<Utc>) {
        self.attempts.insert(tiktok.to_string(), at);
    }

    /// An attempt known from the engine's records: what this process saw itself (an attempt at
    /// least as late, whose own read-back covered the earlier ones) wins.
    pub(super) fn recalled(&mut self, tiktok: &str, at: DateTime<Utc>) {
        self.attempts.entry(tiktok.to_string()).or_insert(at);
    }

    /// Where an index listing starts.
    fn index_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match (self.from, self.newest) {
            (Some(_), Some(newest)) => newest - INDEX_OVERLAP,
            (Some(from), None) => from,
            _ => now - FIND_LOOKBACK,
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
    let attempted = client.finder().attempts.get(tiktok.as_str()).copied();
    let found = match attempted {
        Some(at) => {
            let (listed, raw) = list_created_after(client, at - FIND_SLACK).await?;
            listed
                .into_iter()
                .filter(|o| mapping::tiktok_id(o).as_deref() == Some(tiktok.as_str()))
                .map(|o| (o, raw.clone()))
                .collect()
        }
        None => {
            refresh_index(client).await?;
            read_indexed(client, tiktok).await?
        }
    };
    match found.as_slice() {
        [] => Ok(None),
        [(order, raw)] => Ok(Some(client.complete(order, LIST, raw).await?.store)),
        several => Err(LIST.error(
            ErrorClass::Permanent,
            format!(
                "TikTok order {tiktok} has several store orders ({}): cancel the duplicates in WooCommerce",
                several
                    .iter()
                    .filter_map(|(o, _)| id_of(o))
                    .map(|id| format!("#{id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &several[0].1,
        )),
    }
}

/// Every order created after `after`, oldest first, page by page; with the last page's answer.
async fn list_created_after(
    client: &WoocommerceClient,
    after: DateTime<Utc>,
) -> Result<(Vec<Value>, RawResponse), PlatformError> {
    let mut listed = Vec::new();
    let mut page = 1u64;
    loop {
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
            return Ok((listed, raw));
        }
        page += 1;
    }
}

/// Brings the index up to at least the moment of the call: waits for the listing under way
/// (which may have started too early to cover this find), then lists unless another listing
/// that started after the call has finished meanwhile.
async fn refresh_index(client: &WoocommerceClient) -> Result<(), PlatformError> {
    let arrived_at = client.finder().started;
    let _one_at_a_time = client.inner.index_listing.lock().await;
    let from = {
        let mut finder = client.finder();
        if finder.finished > arrived_at {
            return Ok(());
        }
        finder.started += 1;
        finder.index_from(Utc::now())
    };
    let (listed, _) = list_created_after(client, from).await?;
    let mut finder = client.finder();
    finder.index(from, &listed);
    finder.finished = finder.started;
    Ok(())
}

/// The indexed orders of `tiktok`, each read again (one deleted since is forgotten).
async fn read_indexed(
    client: &WoocommerceClient,
    tiktok: &TiktokOrderId,
) -> Result<Vec<(Value, RawResponse)>, PlatformError> {
    let ids = client
        .finder()
        .seen
        .get(tiktok.as_str())
        .cloned()
        .unwrap_or_default();
    let mut found = Vec::new();
    for id in ids {
        let route = format!("wc/v3/orders/{id}");
        match client
            .transport()
            .call(READ, Method::GET, &route, &[], None)
            .await
        {
            Ok(answer) => found.push((answer.body, answer.raw)),
            Err(e) if e.http_status == Some(404) => {
                if let Some(ids) = client.finder().seen.get_mut(tiktok.as_str()) {
                    ids.retain(|i| *i != id);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}
