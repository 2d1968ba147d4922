//! The change poll: orders orderdeck created that changed since a watermark, in two passes
//! joined by one cursor (`m:N`, then `o:N`):
//!
//! 1. `modified_after` the watermark (strict `>`, so one second earlier), oldest change first,
//!    paged by `X-WP-TotalPages`;
//! 2. the open ones (`processing`, `on-hold`) created within [`super::FIND_LOOKBACK`] of it,
//!    because adding a Shipment Tracking item moves neither the status nor (on stores keeping
//!    orders as posts) `date_modified`: their tracking is read on every poll.
//!
//! Orders without orderdeck's TikTok id meta are left out; one that cannot be read is reported
//! with why (and its TikTok id when that much could be read), never failing the page.

use futures::StreamExt;
use serde_json::Value;

use super::{WoocommerceClient, mapping, rfc3339};
use crate::domain::clock::Timestamp;
use crate::domain::ids::TiktokOrderId;
use crate::platforms::{Page, PlatformError, StorefrontChange, Unreadable};

/// Tracking reads of one page in flight at once: a poll of many open orders stays quick without
/// crowding the site.
const TRACKING_READS_AT_ONCE: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Modified,
    Open,
}

fn parse_cursor(cursor: Option<&str>) -> (Pass, u64) {
    let parsed = cursor.and_then(|c| {
        let (pass, page) = c.split_once(':')?;
        let page = page.parse::<u64>().ok().filter(|p| *p >= 1)?;
        match pass {
            "m" => Some((Pass::Modified, page)),
            "o" => Some((Pass::Open, page)),
            _ => None,
        }
    });
    parsed.unwrap_or((Pass::Modified, 1))
}

pub(super) async fn changed_orders(
    client: &WoocommerceClient,
    since: Timestamp,
    cursor: Option<String>,
) -> Result<Page<StorefrontChange>, PlatformError> {
    let (pass, page) = parse_cursor(cursor.as_deref());
    let per_page = client.inner.page_size.to_string();
    let mut query = vec![
        ("per_page", per_page),
        ("page", page.to_string()),
        ("order", "asc".to_string()),
    ];
    match pass {
        Pass::Modified => {
            query.push((
                "modified_after",
                rfc3339(since - chrono::Duration::seconds(1)),
            ));
            query.push(("orderby", "modified".to_string()));
        }
        Pass::Open => {
            query.push(("status", "processing,on-hold".to_string()));
            query.push(("after", rfc3339(since - super::FIND_LOOKBACK)));
            query.push(("orderby", "date".to_string()));
        }
    }
    let (orders, pages, _) = client.list_orders(&query).await?;
    // Each order's tracking is a call of its own: a few at once, in page order.
    let orders: Vec<(Value, String)> = orders
        .into_iter()
        .filter_map(|order| mapping::tiktok_id(&order).map(|tiktok| (order, tiktok)))
        .collect();
    let ids: Vec<Option<u64>> = orders
        .iter()
        .map(|(order, _)| order.get("id").and_then(Value::as_u64))
        .collect();
    let trackings: Vec<Option<Result<Vec<Value>, PlatformError>>> = futures::stream::iter(ids)
        .map(|id| async move {
            match id {
                Some(id) => Some(client.trackings(id).await),
                None => None,
            }
        })
        .buffered(TRACKING_READS_AT_ONCE)
        .collect()
        .await;
    let mut out = Page {
        items: Vec::with_capacity(orders.len()),
        next_page_token: None,
        unreadable: Vec::new(),
    };
    for ((order, tiktok), trackings) in orders.into_iter().zip(trackings) {
        let tiktok_order_id = TiktokOrderId::new(tiktok.clone()).ok();
        let Some(trackings) = trackings else {
            out.unreadable.push(Unreadable::new(
                tiktok_order_id,
                format!(
                    "order of TikTok order {} has no numeric id",
                    crate::domain::text::sanitize(&tiktok)
                ),
            ));
            continue;
        };
        // A failed tracking read fails the page (it is retried); an unreadable order does not.
        match mapping::read_order(&order, &trackings?) {
            Ok(read) => out.items.push(StorefrontChange {
                tiktok_order_id,
                store: read.store,
            }),
            Err(why) => out.unreadable.push(Unreadable::new(tiktok_order_id, why)),
        }
    }
    out.next_page_token = match pass {
        Pass::Modified if page < pages => Some(format!("m:{}", page + 1)),
        Pass::Modified => Some("o:1".to_string()),
        Pass::Open if page < pages => Some(format!("o:{}", page + 1)),
        Pass::Open => None,
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_starts_over() {
        assert_eq!(parse_cursor(None), (Pass::Modified, 1));
        assert_eq!(parse_cursor(Some("m:3")), (Pass::Modified, 3));
        assert_eq!(parse_cursor(Some("o:2")), (Pass::Open, 2));
        assert_eq!(parse_cursor(Some("o:0")), (Pass::Modified, 1));
        assert_eq!(parse_cursor(Some("x")), (Pass::Modified, 1));
    }
}
