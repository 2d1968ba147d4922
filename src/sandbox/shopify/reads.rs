//! The simulated `orders` and `productVariants` connections: search filter, sort key, Relay
//! paging (`first`/`after`, at most 250 per page) and cursors.
//!
//! Invariants: a filter, sort key or paging form the sandbox does not simulate is refused with
//! a message (a field error), never silently ignored; items are ordered by (sort value, id), so
//! pages never repeat or skip an item that did not change.

use serde_json::{Value, json};

use super::search::{self, Comparison, Term};
use super::state::{SandboxOrder, Store, Variant};

/// Shopify's largest page.
const MAX_PAGE: i64 = 250;

/// `orders(first, after, sortKey, reverse, query)`.
pub fn orders(store: &Store, args: &Value) -> Result<Value, String> {
    let terms = parse_query(args)?;
    let sort_key = args
        .get("sortKey")
        .and_then(Value::as_str)
        .unwrap_or("PROCESSED_AT");
    let mut items = Vec::new();
    for order in &store.orders {
        if matches_all(&terms, |t| order_matches(order, t))? {
            let sort = match sort_key {
                "UPDATED_AT" => order.updated_at.timestamp_millis(),
                "CREATED_AT" | "PROCESSED_AT" => order.created_at.timestamp_millis(),
                "ID" => legacy_id(&order.id),
                "ORDER_NUMBER" => order.number as i64,
                other => return Err(format!("sortKey {other} is not simulated")),
            };
            items.push((sort, legacy_id(&order.id) as u64, order));
        }
    }
    page(items, args, SandboxOrder::to_json)
}

/// `productVariants(first, after, query)`, sorted by id.
pub fn product_variants(store: &Store, args: &Value) -> Result<Value, String> {
    let terms = parse_query(args)?;
    if let Some(key) = args
        .get("sortKey")
        .and_then(Value::as_str)
        .filter(|k| *k != "ID")
    {
        return Err(format!("sortKey {key} is not simulated"));
    }
    let mut items = Vec::new();
    for variant in &store.variants {
        if matches_all(&terms, |t| variant_matches(variant, t))? {
            items.push((variant.id as i64, variant.id, variant));
        }
    }
    page(items, args, Variant::to_json)
}

fn parse_query(args: &Value) -> Result<Vec<Term>, String> {
    match args.get("query").and_then(Value::as_str) {
        Some(query) => search::parse(query),
        None => Ok(Vec::new()),
    }
}

fn matches_all(
    terms: &[Term],
    mut one: impl FnMut(&Term) -> Result<bool, String>,
) -> Result<bool, String> {
    for term in terms {
        if !one(term)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn order_matches(order: &SandboxOrder, term: &Term) -> Result<bool, String> {
    match term.field.as_str() {
        "source_identifier" => {
            Ok(term.matches_text(order.source_identifier.as_deref().unwrap_or("")))
        }
        "name" => {
            Ok(term.matches_text(&order.name)
                || term.matches_text(order.name.trim_start_matches('#')))
        }
        "tag" => Ok(order
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&term.value))
            != term.negated),
        "tag_not" => Ok(order
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&term.value))
            == term.negated),
        "updated_at" => term.matches_time(order.updated_at),
        "created_at" | "processed_at" => term.matches_time(order.created_at),
        "id" => matches_number(term, legacy_id(&order.id)),
        "sku" => Ok(order
            .lines
            .iter()
            .any(|l| l.sku.eq_ignore_ascii_case(&term.value))
            != term.negated),
        "status" => {
            let open = order.closed_at.is_none() && order.cancelled_at.is_none();
            let hit = match term.value.to_ascii_lowercase().as_str() {
                "open" => open,
                "closed" => order.closed_at.is_some(),
                "cancelled" => order.cancelled_at.is_some(),
                "not_closed" => order.closed_at.is_none(),
                other => return Err(format!("status:{other} is not a known order status")),
            };
            Ok(hit != term.negated)
        }
        other => Err(format!("the {other} filter of orders is not simulated")),
    }
}

fn variant_matches(variant: &Variant, term: &Term) -> Result<bool, String> {
    match term.field.as_str() {
        "sku" => Ok(term.matches_text(&variant.sku)),
        "id" => matches_number(term, variant.id as i64),
        other => Err(format!(
            "the {other} filter of productVariants is not simulated"
        )),
    }
}

fn matches_number(term: &Term, value: i64) -> Result<bool, String> {
    let wanted: i64 = term
        .value
        .parse()
        .map_err(|_| format!("{:?} is not a number", term.value))?;
    let hit = match term.comparison {
        Comparison::Equal => value == wanted,
        Comparison::Greater => value > wanted,
        Comparison::GreaterOrEqual => value >= wanted,
        Comparison::Less => value < wanted,
        Comparison::LessOrEqual => value <= wanted,
    };
    Ok(hit != term.negated)
}

/// The number at the end of a GID.
fn legacy_id(gid: &str) -> i64 {
    gid.rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// One page of `(sort value, id, item)` items as a connection object. Only the items shown are
/// rendered, so paging through a large store stays linear.
fn page<T>(
    mut items: Vec<(i64, u64, &T)>,
    args: &Value,
    render: impl Fn(&T) -> Value,
) -> Result<Value, String> {
    if args.get("last").is_some_and(|v| !v.is_null())
        || args.get("before").is_some_and(|v| !v.is_null())
    {
        return Err("backward paging (last/before) is not simulated".into());
    }
    let first = args
        .get("first")
        .and_then(Value::as_i64)
        .ok_or("you must provide one of first or last")?;
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(format!("first must be between 0 and {MAX_PAGE}"));
    }
    let reverse = args
        .get("reverse")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    items.sort_by_key(|(sort, id, _)| (*sort, *id));
    if reverse {
        items.reverse();
    }
    let after = match args.get("after").and_then(Value::as_str) {
        Some(cursor) => Some(search::decode_cursor(cursor)?),
        None => None,
    };
    let remaining: Vec<_> = items
        .into_iter()
        .filter(|(sort, id, _)| match after {
            None => true,
            Some(position) if reverse => (*sort, *id) < position,
            Some(position) => (*sort, *id) > position,
        })
        .collect();
    let has_next = remaining.len() as i64 > first;
    let shown: Vec<_> = remaining
        .into_iter()
        .take(first as usize)
        .map(|(sort, id, item)| (sort, id, render(item)))
        .collect();
    let cursors: Vec<String> = shown
        .iter()
        .map(|(sort, id, _)| search::encode_cursor(*sort, *id))
        .collect();
    Ok(json!({
        "edges": shown.iter().zip(&cursors).map(|((_, _, node), cursor)| json!({ "cursor": cursor, "node": node })).collect::<Vec<_>>(),
        "nodes": shown.iter().map(|(_, _, node)| node.clone()).collect::<Vec<_>>(),
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": after.is_some(),
            "startCursor": cursors.first(),
            "endCursor": cursors.last(),
        },
    }))
}
