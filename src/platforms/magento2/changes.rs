//! The change poll: orders orderdeck created (`ext_order_id` set) that changed since a
//! watermark, in two passes joined by one cursor (`u:N`, then `o:N`), each page read with its
//! shipments and credit memos in one list each:
//!
//! 1. `updated_at gteq` the watermark less [`OVERLAP`] (times have one-second resolution;
//!    magento2.md: "keep an overlap, use gteq, and dedupe by entity id" — a re-read order that
//!    did not change merges as nothing), sorted `updated_at ASC`, paged by `total_count`. An
//!    order's `updated_at` moves on invoice, shipment, comment, cancel and credit memo.
//! 2. the ones not cancelled or closed (`new`, `processing`, `complete` — a shipped order is
//!    `complete` before its tracking number is typed in) created within
//!    [`super::OPEN_LOOKBACK`]: whether a track added to an existing shipment moves the order's
//!    `updated_at` is unconfirmed, so their shipments are read on every poll.
//!
//! One order that cannot be read is reported with why (and its TikTok id when that much could
//! be read), never failing the page.

use chrono::Duration;

use super::read::{self, wire_time};
use super::{Magento2Client, OPEN_LOOKBACK, ORDERS};
use crate::domain::clock::Timestamp;
use crate::domain::ids::TiktokOrderId;
use crate::platforms::{Page, PlatformError, StorefrontChange, Unreadable};

/// How far before the watermark the first pass looks again.
pub const OVERLAP: Duration = Duration::seconds(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Updated,
    Open,
}

fn parse_cursor(cursor: Option<&str>) -> (Pass, u32) {
    let parsed = cursor.and_then(|c| {
        let (pass, page) = c.split_once(':')?;
        let page = page.parse::<u32>().ok().filter(|p| *p >= 1)?;
        match pass {
            "u" => Some((Pass::Updated, page)),
            "o" => Some((Pass::Open, page)),
            _ => None,
        }
    });
    parsed.unwrap_or((Pass::Updated, 1))
}

pub(super) async fn changed_orders(
    client: &Magento2Client,
    since: Timestamp,
    cursor: Option<String>,
) -> Result<Page<StorefrontChange>, PlatformError> {
    let (pass, page) = parse_cursor(cursor.as_deref());
    let search = client.search().and("ext_order_id", "", "notnull");
    let search = match pass {
        Pass::Updated => search
            .and("updated_at", wire_time(since - OVERLAP), "gteq")
            .sorted("updated_at", "ASC"),
        Pass::Open => search
            .and("state", "new,processing,complete", "in")
            .and("created_at", wire_time(since - OPEN_LOOKBACK), "gteq")
            .sorted("entity_id", "ASC"),
    }
    .page(page);
    let (orders, total) = client.list_page(ORDERS, "orders", &search).await?;
    let more = u64::from(page) * u64::from(client.inner.page_size) < total && !orders.is_empty();
    let mut out = Page {
        items: Vec::with_capacity(orders.len()),
        next_page_token: None,
        unreadable: Vec::new(),
    };
    for (order, read) in client.complete(&orders).await? {
        let Some(tiktok) = read::tiktok_id(&order) else {
            continue;
        };
        let tiktok_order_id = TiktokOrderId::new(tiktok).ok();
        match read {
            Ok(read) => out.items.push(StorefrontChange {
                tiktok_order_id,
                store: read.store,
            }),
            Err(why) => out.unreadable.push(Unreadable::new(tiktok_order_id, why)),
        }
    }
    out.next_page_token = match pass {
        Pass::Updated if more => Some(format!("u:{}", page + 1)),
        Pass::Updated => Some("o:1".to_string()),
        Pass::Open if more => Some(format!("o:{}", page + 1)),
        Pass::Open => None,
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_starts_over() {
        assert_eq!(parse_cursor(None), (Pass::Updated, 1));
        assert_eq!(parse_cursor(Some("u:3")), (Pass::Updated, 3));
        assert_eq!(parse_cursor(Some("o:2")), (Pass::Open, 2));
        assert_eq!(parse_cursor(Some("o:0")), (Pass::Updated, 1));
        assert_eq!(parse_cursor(Some("m:1")), (Pass::Updated, 1));
    }
}
