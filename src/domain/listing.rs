//! What an order's line in a list says, and the text a live filter can match in it.
//!
//! The service draws rows from these pieces; the store indexes [`search_text`] beside each order
//! so a filtered list skips orders without decoding them. Invariant: every string a row of any
//! view can show in a filterable field is in `search_text` (folded by [`fold`]), so a filter
//! term whose folded form is absent cannot match the order.

use super::order::{FlowState, FlowStatus, Order};
use super::text::{sanitize, truncate};
use super::triage::{OrderView, StorefrontKnowledge, pending_reason};

// The longest `why`, SKU list and buyer name a row carries.
const WHY_CHARS: usize = 200;
const SKUS_CHARS: usize = 120;
const BUYER_CHARS: usize = 60;
const TRACKING_CHARS: usize = 120;

/// The views whose rows differ in what they say (Stuck says what All says).
const WORDINGS: [OrderView; 3] = [
    OrderView::Pending,
    OrderView::MissingTracking,
    OrderView::All,
];

/// A flow's state in one word.
pub fn flow_word(state: &FlowState) -> &'static str {
    match state.status {
        FlowStatus::Idle => "-",
        FlowStatus::NotApplicable { .. } => "n/a",
        FlowStatus::Waiting { .. } => "wait",
        FlowStatus::Queued if state.last_error.is_some() => "retry",
        FlowStatus::Queued => "queued",
        FlowStatus::Done { .. } => "done",
        FlowStatus::Skipped { .. } => "skipped",
        FlowStatus::Stuck { .. } => "stuck",
    }
}

/// Why the order is on `view`'s list, sanitized and cut to 200 characters.
pub fn why(order: &Order, view: OrderView) -> String {
    let why = match view {
        OrderView::Pending => pending_reason(order).unwrap_or_default(),
        OrderView::MissingTracking => StorefrontKnowledge::of(order).describe().to_string(),
        OrderView::Stuck | OrderView::Parcels | OrderView::All => order
            .stuck_reason()
            .or_else(|| pending_reason(order))
            .unwrap_or_default(),
    };
    truncate(&sanitize(&why), WHY_CHARS)
}

/// The SKUs with their quantities (`3×DEN-54 CAN-34`), sanitized and cut to 120 characters.
pub fn skus(order: &Order) -> String {
    let skus = order
        .tiktok
        .lines
        .iter()
        .map(|l| {
            if l.quantity > 1 {
                format!("{}×{}", l.quantity, l.seller_sku)
            } else {
                l.seller_sku.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    truncate(&sanitize(&skus), SKUS_CHARS)
}

pub fn buyer(order: &Order) -> String {
    truncate(&sanitize(&order.tiktok.recipient.name), BUYER_CHARS)
}

/// Every tracking number the order carries (pushed to TikTok, on TikTok's packages, on the
/// store's fulfillments), each once, sanitized and cut to 120 characters.
pub fn tracking(order: &Order) -> String {
    let tiktok = order.tiktok.packages.iter().map(|p| &p.tracking_number);
    let store = order
        .store
        .iter()
        .flat_map(|s| &s.fulfillments)
        .flat_map(|f| &f.tracking)
        .map(|t| Some(&t.number));
    let mut numbers: Vec<&str> = [&order.pushed_tracking, &order.tiktok.tracking_number]
        .into_iter()
        .chain(tiktok)
        .map(Option::as_ref)
        .chain(store)
        .flatten()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    numbers.retain(|n| seen.insert(*n));
    truncate(&sanitize(&numbers.join(" ")), TRACKING_CHARS)
}

/// The store's name for the order (`#1024`), else its id.
pub fn store_order(order: &Order) -> Option<String> {
    order
        .store
        .as_ref()
        .map(|s| sanitize(s.name.as_deref().unwrap_or(s.order_id.as_str())))
}

/// Whether `typed` names the order whole: its TikTok id, or its store order number with or
/// without the `#` stores write before it (`#1002` and `1002` name the same store order).
/// Exact, so `#1002` never names `#10020`: this is how support finds the one order a customer
/// quotes (the `order:` filter term, `:order` in the console).
pub fn names_order(id: &str, store_order: Option<&str>, typed: &str) -> bool {
    let typed = typed.trim();
    !typed.is_empty() && (id == typed || store_order.is_some_and(|name| same_number(name, typed)))
}

/// Whether two store order numbers are the same, `#` or not.
pub fn same_number(a: &str, b: &str) -> bool {
    without_hash(a.trim()) == without_hash(b.trim())
}

/// The spellings a store order number may be stored under when `typed` names it: as typed,
/// and with the `#` added or taken away (see [`names_order`]).
pub fn store_order_spellings(typed: &str) -> [String; 2] {
    let bare = without_hash(typed.trim());
    [format!("#{bare}"), bare.to_string()]
}

fn without_hash(name: &str) -> &str {
    name.strip_prefix('#').unwrap_or(name)
}

/// The line of an order's [`search_text`] that `typed` asks for when it names an order whole
/// (see [`names_order`]): folded, without the `#`.
pub fn naming_line(typed: &str) -> String {
    fold(without_hash(typed.trim()))
}

/// A cheap necessary condition for [`names_order`] over the order's [`search_text`], whose
/// lines are its fields: some line is `line` (a [`naming_line`]), with or without a `#`.
pub fn may_name_order(search_text: &[u8], line: &str) -> bool {
    search_text
        .split(|b| *b == b'\n')
        .any(|field| field.strip_prefix(b"#").unwrap_or(field) == line.as_bytes())
}

/// Every filterable string of the order's rows in any view, one per line, folded.
pub fn search_text(order: &Order) -> String {
    let f = &order.flows;
    let mut parts = vec![
        order.id.as_str().to_string(),
        order.link.as_str().to_string(),
        order.tiktok.status.to_string(),
        order.tiktok.shipping_type.to_string(),
        store_order(order).unwrap_or_default(),
        skus(order),
        buyer(order),
        tracking(order),
    ];
    parts.extend(
        [&f.import, &f.tracking, &f.cancellation, &f.label].map(|s| flow_word(s).to_string()),
    );
    parts.extend(WORDINGS.map(|view| why(order, view)));
    fold(&parts.join("\n"))
}

/// Case folding for the filter's pre-check: each character lowercased on its own, and the final
/// sigma written as any other. A case-sensitive match and a `to_lowercase` match (which spells
/// a word-final Σ as ς) both survive folding both sides, so folding never hides a match.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::fixtures::{fulfilled, in_store, paid};

    #[test]
    fn an_order_is_named_by_its_tiktok_id_or_its_whole_store_number() {
        let mut order = in_store(paid(), vec![fulfilled("RM1GB", None)]);
        if let Some(store) = &mut order.store {
            store.name = Some("#1002".into());
        }
        let id = order.id.to_string();
        let name = store_order(&order);
        let text = search_text(&order);
        // (typed, names the order)
        let table = [
            ("#1002", true),
            ("1002", true),
            (" #1002 ", true),
            (id.as_str(), true),
            ("#100", false),
            ("#10020", false),
            ("", false),
        ];
        for (typed, expected) in table {
            assert_eq!(
                names_order(&id, name.as_deref(), typed),
                expected,
                "{typed:?}"
            );
            if expected {
                let line = naming_line(typed);
                assert!(
                    may_name_order(text.as_bytes(), &line),
                    "{typed:?} in {text:?}"
                );
            }
        }
        assert!(!names_order(&id, None, "1002"), "an order not in a store");
        assert_eq!(store_order_spellings("1002"), ["#1002", "1002"]);
        assert_eq!(store_order_spellings("#1002"), ["#1002", "1002"]);
    }
}
