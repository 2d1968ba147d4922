//! The change poll: orders carrying a TikTok order id that changed since a watermark, in two
//! passes joined by one cursor (`m:N`, then `p:N`):
//!
//! 1. `min_date_modified` one second before the watermark (times have one-second resolution;
//!    the engine dedupes), sorted by `date_modified` (ascending by default: the contract's
//!    `sort` enum has no `:asc` suffix), paged by `page`/`limit` until a short page or 204;
//! 2. the Partially Shipped ones (status 3) created within [`LOOKBACK`] of it: a later shipment
//!    of such an order need not move its status or `date_modified`, so their shipments are read
//!    on every poll.
//!
//! An order is read cheaply (its unit count from `items_total`) unless it has shipped, when its
//! products and shipments are read too. Orders without an `external_order_id` are left out; one
//! that cannot be read is reported with why (and its TikTok id when that much could be read),
//! never failing the page.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{BigcommerceClient, mapping};
use crate::domain::clock::Timestamp;
use crate::domain::ids::TiktokOrderId;
use crate::platforms::{Page, PlatformError, StorefrontChange, Unreadable};

/// How far back a Partially Shipped order is still re-read: a TikTok order must ship within
/// days, so later shipments of older orders no longer matter to TikTok.
pub const LOOKBACK: chrono::Duration = chrono::Duration::days(14);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Modified,
    PartlyShipped,
}

fn parse_cursor(cursor: Option<&str>) -> (Pass, u64) {
    let parsed = cursor.and_then(|c| {
        let (pass, page) = c.split_once(':')?;
        let page = page.parse::<u64>().ok().filter(|p| *p >= 1)?;
        match pass {
            "m" => Some((Pass::Modified, page)),
            "p" => Some((Pass::PartlyShipped, page)),
            _ => None,
        }
    });
    parsed.unwrap_or((Pass::Modified, 1))
}

/// RFC 2822, as BigCommerce writes its own dates.
fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

pub(super) async fn changed_orders(
    client: &BigcommerceClient,
    since: Timestamp,
    cursor: Option<String>,
) -> Result<Page<StorefrontChange>, PlatformError> {
    let (pass, page) = parse_cursor(cursor.as_deref());
    let limit = client.inner.page_size;
    let mut query = vec![("page", page.to_string()), ("limit", limit.to_string())];
    match pass {
        Pass::Modified => {
            query.push((
                "min_date_modified",
                rfc2822(since - chrono::Duration::seconds(1)),
            ));
            query.push(("sort", "date_modified".to_string()));
        }
        Pass::PartlyShipped => {
            query.push(("status_id", mapping::status::PARTIALLY_SHIPPED.to_string()));
            query.push(("min_date_created", rfc2822(since - LOOKBACK)));
            query.push(("sort", "id".to_string()));
        }
    }
    let (orders, _) = client.list_orders(&query).await?;
    let full = orders.len() >= limit as usize;
    let mut out = Page {
        items: Vec::with_capacity(orders.len()),
        next_page_token: None,
        unreadable: Vec::new(),
    };
    for order in &orders {
        let Some(tiktok) = mapping::tiktok_id(order) else {
            continue;
        };
        let tiktok_order_id = TiktokOrderId::new(tiktok.clone()).ok();
        if order.get("id").and_then(Value::as_u64).is_none() {
            out.unreadable.push(Unreadable::new(
                tiktok_order_id,
                format!(
                    "BigCommerce order of TikTok order {} has no numeric id",
                    crate::domain::text::sanitize(&tiktok)
                ),
            ));
            continue;
        }
        // A failed read of products or shipments fails the page (it is retried); an order
        // that cannot be understood does not.
        let (products, shipments) = client.parts(order, false).await?;
        match mapping::read_order(order, products.as_deref(), &shipments) {
            Ok(read) => out.items.push(StorefrontChange {
                tiktok_order_id,
                store: read.store,
            }),
            Err(why) => out.unreadable.push(Unreadable::new(tiktok_order_id, why)),
        }
    }
    out.next_page_token = match pass {
        Pass::Modified if full => Some(format!("m:{}", page + 1)),
        Pass::Modified => Some("p:1".to_string()),
        Pass::PartlyShipped if full => Some(format!("p:{}", page + 1)),
        Pass::PartlyShipped => None,
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
        assert_eq!(parse_cursor(Some("p:2")), (Pass::PartlyShipped, 2));
        assert_eq!(parse_cursor(Some("p:0")), (Pass::Modified, 1));
        assert_eq!(parse_cursor(Some("x")), (Pass::Modified, 1));
    }

    #[test]
    fn dates_are_rfc_2822_in_utc() {
        let at = DateTime::parse_from_rfc3339("2019-03-05T21:40:11Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc2822(at), "Tue, 05 Mar 2019 21:40:11 +0000");
    }
}
