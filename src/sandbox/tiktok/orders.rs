//! Search Orders and Get Order Detail, plus the paging both searches share.
//!
//! Page tokens are opaque to the client and deliberately awkward: standard base64 that always
//! contains `+`, `/` and `=` padding, so a client that does not percent-encode them (or signs
//! the encoded form) fails its signature check here just as it would at TikTok. A token is
//! bound to the search it came from; replaying it with another filter is refused.

use std::hash::{Hash, Hasher};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::gate::ApiError;
use super::routes::{Request, int_field};
use super::world::{Order, World};

/// Encodes as `++/+` in base64: every token carries the characters that need encoding.
const TOKEN_MAGIC: [u8; 3] = [0xfb, 0xef, 0xfe];
pub const MAX_ORDER_PAGE: usize = 100;
pub const MAX_DETAIL_IDS: usize = 50;

/// One page of a sorted result set, with the paging fields TikTok adds.
pub(super) struct Paged {
    pub items: Vec<Value>,
    pub next_page_token: String,
    pub total_count: usize,
}

/// Sorts `(sort key, tie-breaker, item)` rows and cuts the page the request asks for. Only the
/// items on the page are rendered, so paging through a large shop stays linear.
pub(super) fn paginate<T>(
    request: &Request,
    mut rows: Vec<(i64, String, T)>,
    max_page: usize,
    required: bool,
    render: impl Fn(T) -> Value,
) -> Result<Paged, ApiError> {
    let size = match request.query.get("page_size") {
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max_page).contains(n)),
        None if !required => Some(max_page),
        None => None,
    }
    .ok_or_else(|| ApiError::invalid(format!("'page_size' must be between 1 and {max_page}.")))?;
    let descending = match request.query.get("sort_order").unwrap_or("DESC") {
        "ASC" => false,
        "DESC" => true,
        other => return Err(ApiError::invalid(format!("Unknown sort_order '{other}'."))),
    };
    let fingerprint = fingerprint(request);
    let offset = match request.query.get("page_token").filter(|t| !t.is_empty()) {
        Some(token) => read_token(token, fingerprint)?,
        None => 0,
    };
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    if descending {
        rows.reverse();
    }
    let total_count = rows.len();
    let end = (offset + size).min(total_count);
    let next_page_token = if end < total_count {
        write_token(end, fingerprint)
    } else {
        String::new()
    };
    let items = rows
        .into_iter()
        .skip(offset)
        .take(size)
        .map(|(_, _, item)| render(item))
        .collect();
    Ok(Paged {
        items,
        next_page_token,
        total_count,
    })
}

/// The sort key a search asked for (`create_time` unless it said `update_time`).
pub(super) fn sort_field(request: &Request) -> Result<&'static str, ApiError> {
    match request.query.get("sort_field").unwrap_or("create_time") {
        "create_time" => Ok("create_time"),
        "update_time" => Ok("update_time"),
        other => Err(ApiError::invalid(format!("Unknown sort_field '{other}'."))),
    }
}

/// `*_ge <= value < *_lt` for the time filters a search body may hold.
pub(super) fn in_window(request: &Request, prefix: &str, value: i64) -> Result<bool, ApiError> {
    let ge = int_field(&request.body, &format!("{prefix}_ge"))?;
    let lt = int_field(&request.body, &format!("{prefix}_lt"))?;
    Ok(ge.is_none_or(|ge| value >= ge) && lt.is_none_or(|lt| value < lt))
}

fn fingerprint(request: &Request) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    request.shop.hash(&mut hasher);
    serde_json::to_string(&request.body)
        .unwrap_or_default()
        .hash(&mut hasher);
    request.query.get("sort_field").hash(&mut hasher);
    request.query.get("sort_order").hash(&mut hasher);
    hasher.finish()
}

fn write_token(offset: usize, fingerprint: u64) -> String {
    let mut bytes = TOKEN_MAGIC.to_vec();
    bytes.extend_from_slice(&fingerprint.to_be_bytes());
    bytes.extend_from_slice(&(offset as u32).to_be_bytes());
    // One byte more makes 16: base64 then ends in `==`.
    bytes.push(0x01);
    STANDARD.encode(bytes)
}

fn read_token(token: &str, fingerprint: u64) -> Result<usize, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "The 'page_token' query parameter is invalid or belongs to another search.",
        )
    };
    let bytes = STANDARD.decode(token).map_err(|_| invalid())?;
    if bytes.len() != 16 || bytes[..3] != TOKEN_MAGIC {
        return Err(invalid());
    }
    let stored = u64::from_be_bytes(bytes[3..11].try_into().map_err(|_| invalid())?);
    if stored != fingerprint {
        return Err(invalid());
    }
    let offset = u32::from_be_bytes(bytes[11..15].try_into().map_err(|_| invalid())?);
    Ok(offset as usize)
}

/// A search hit: a simulated order, or a raw one a test planted as it is.
enum Found<'a> {
    Order(&'a Order),
    Raw(&'a Value),
}

pub(super) fn search(world: &World, request: &Request) -> Result<Value, ApiError> {
    let sort = sort_field(request)?;
    let status = request.body.get("order_status").and_then(Value::as_str);
    let shipping_type = request.body.get("shipping_type").and_then(Value::as_str);
    let buyer_cancel = request
        .body
        .get("is_buyer_request_cancel")
        .and_then(Value::as_bool);
    let mut rows = Vec::new();
    for order in world.orders.values().filter(|o| o.shop == request.shop) {
        let matches = status.is_none_or(|s| s == order.status)
            && shipping_type.is_none_or(|t| t == order.shipping_type)
            && buyer_cancel.is_none_or(|b| b == order.is_buyer_request_cancel)
            && in_window(request, "create_time", order.create_time)?
            && in_window(request, "update_time", order.update_time)?;
        if matches {
            let key = if sort == "update_time" {
                order.update_time
            } else {
                order.create_time
            };
            rows.push((key, order.id.clone(), Found::Order(order)));
        }
    }
    for raw in world.raw_orders.iter().filter(|r| r.shop == request.shop) {
        if in_window(request, "update_time", raw.update_time)? {
            rows.push((raw.update_time, raw.json.to_string(), Found::Raw(&raw.json)));
        }
    }
    let page = paginate(request, rows, MAX_ORDER_PAGE, true, |found| match found {
        Found::Order(order) => world.order_json(order),
        Found::Raw(json) => json.clone(),
    })?;
    Ok(
        json!({"orders": page.items, "next_page_token": page.next_page_token, "total_count": page.total_count}),
    )
}

pub(super) fn detail(world: &World, request: &Request) -> Result<Value, ApiError> {
    let ids: Vec<&str> = request
        .query
        .get("ids")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() > MAX_DETAIL_IDS {
        return Err(ApiError::invalid(format!(
            "'ids' accepts at most {MAX_DETAIL_IDS} order ids, got {}.",
            ids.len()
        )));
    }
    let mut orders: Vec<Value> = ids
        .iter()
        .filter_map(|id| world.orders.get(*id))
        .filter(|o| o.shop == request.shop)
        .map(|o| world.order_json(o))
        .collect();
    orders.extend(
        world
            .raw_orders
            .iter()
            .filter(|r| {
                r.shop == request.shop && r.json["id"].as_str().is_some_and(|id| ids.contains(&id))
            })
            .map(|r| r.json.clone()),
    );
    Ok(json!({ "orders": orders }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_need_encoding_and_bind_to_their_search() {
        let token = write_token(300, 42);
        assert!(
            token.contains('+') && token.contains('/') && token.ends_with("=="),
            "{token}"
        );
        assert_eq!(read_token(&token, 42).unwrap(), 300);
        assert!(read_token(&token, 43).is_err(), "another search");
        assert!(
            read_token(&token.replace('+', " "), 42).is_err(),
            "an unencoded + arrives as a space"
        );
        assert!(read_token("bm9wZQ==", 42).is_err());
    }
}
