//! `searchCriteria` applied to the simulated store's rows as Magento's collections apply them:
//! groups AND-ed, filters in a group OR-ed, every condition type, sort orders, and paging by
//! `pageSize` with a `currentPage` past the end clamped to the last page (magento2.md). A filter
//! or sort on a column the entity does not have is Magento's 500 with a report id.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::contract::Criteria;
use super::ops::{Answer, internal};

pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// How MySQL compares a column with a filter value, near enough: integers exactly (TikTok ids
/// do not fit a float), other numbers as numbers, text case-insensitively.
fn compare(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    if let (Ok(x), Ok(y)) = (a.parse::<i128>(), b.parse::<i128>()) {
        return Some(x.cmp(&y));
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y),
        _ => Some(a.to_lowercase().cmp(&b.to_lowercase())),
    }
}

fn matches(row: &Value, (field, value, condition): &(String, String, String)) -> bool {
    let have = row.get(field).and_then(text);
    let cmp = |h: &str, v: &str| compare(h, v);
    use std::cmp::Ordering::*;
    let ord = have.as_deref().and_then(|h| cmp(h, value));
    match condition.as_str() {
        "null" => have.is_none(),
        "notnull" => have.is_some(),
        "eq" | "finset" => ord == Some(Equal),
        "neq" | "nfinset" => have.is_some() && ord != Some(Equal),
        "gt" => ord == Some(Greater),
        "gteq" | "moreq" | "from" => matches!(ord, Some(Greater | Equal)),
        "lt" => ord == Some(Less),
        "lteq" | "to" => matches!(ord, Some(Less | Equal)),
        "in" | "nin" => {
            let hit = have
                .as_deref()
                .is_some_and(|h| value.split(',').any(|v| cmp(h, v) == Some(Equal)));
            (condition == "in") == hit && have.is_some()
        }
        "like" | "nlike" => {
            let pattern = value.to_lowercase();
            let h = have.unwrap_or_default().to_lowercase();
            let parts: Vec<&str> = pattern.split('%').collect();
            let hit = if parts.len() == 1 {
                h == pattern
            } else {
                let mut rest = h.as_str();
                let mut ok = rest.starts_with(parts[0]);
                rest = rest.get(parts[0].len()..).unwrap_or("");
                for part in &parts[1..parts.len() - 1] {
                    match rest.find(part) {
                        Some(at) if ok => rest = &rest[at + part.len()..],
                        _ => ok = false,
                    }
                }
                ok && rest.ends_with(parts[parts.len() - 1])
            };
            (condition == "like") == hit
        }
        _ => false,
    }
}

/// `{items, search_criteria, total_count}` of `rows` (in primary-key order) under `criteria`;
/// a filter or sort on a column the entity does not have is Magento's 500.
pub fn search(rows: Vec<Value>, criteria: &Criteria, columns: &[&str], report: u64) -> Answer {
    let unknown = criteria
        .groups
        .iter()
        .flatten()
        .map(|(f, _, _)| f)
        .chain(criteria.sort.iter().map(|(f, _)| f))
        .any(|f| !columns.contains(&f.as_str()));
    if unknown {
        return internal(report);
    }
    let mut rows: Vec<Value> = rows
        .into_iter()
        .filter(|row| {
            criteria
                .groups
                .iter()
                .all(|group| group.is_empty() || group.iter().any(|f| matches(row, f)))
        })
        .collect();
    for (field, direction) in criteria.sort.iter().rev() {
        rows.sort_by(|a, b| {
            let (a, b) = (
                a.get(field).and_then(text).unwrap_or_default(),
                b.get(field).and_then(text).unwrap_or_default(),
            );
            let ord = compare(&a, &b).unwrap_or(std::cmp::Ordering::Equal);
            if direction == "DESC" {
                ord.reverse()
            } else {
                ord
            }
        });
    }
    let total = rows.len();
    let items: Vec<Value> = match criteria.page_size.filter(|s| *s > 0) {
        Some(size) => {
            let size = size as usize;
            let pages = total.div_ceil(size).max(1);
            // A page past the end is clamped to the last one (magento2.md).
            let page = (criteria.current_page.unwrap_or(1).max(1) as usize).min(pages);
            rows.into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect()
        }
        None => rows,
    };
    let echo = json!({
        "filter_groups": criteria.groups.iter().map(|g| json!({ "filters": g.iter().map(|(f, v, c)| json!({"field": f, "value": v, "condition_type": c})).collect::<Vec<_>>() })).collect::<Vec<_>>(),
        "page_size": criteria.page_size, "current_page": criteria.current_page,
    });
    (
        StatusCode::OK,
        json!({ "items": items, "search_criteria": echo, "total_count": total }),
    )
}
