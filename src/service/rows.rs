//! List rows and the live filter. A row carries what a list draws, already sanitized, so a face
//! never needs the whole order to show a line. The filter is case-smart (a term with a capital
//! letter matches case-sensitively) and understands `field:value` terms:
//! `link:` (or `store:`), `status:`, `sku:`, `buyer:`, `tracking:`, `id:`, `ship:`, `flow:`, and
//! `order:`, which unlike the others matches whole: the order's TikTok id or its store order
//! number, `#` or not (`order:1002` is `#1002`, never `#10020`; see `listing::names_order`).

use memchr::memmem;

use crate::domain::cancellation::Cancellation;
use crate::domain::clock::Timestamp;
use crate::domain::listing;
use crate::domain::order::{FlowStatus, Order};
use crate::domain::text::{sanitize, truncate};
use crate::domain::triage::{OrderView, StorefrontKnowledge, urgency};

use super::api::{CancellationRow, OrderRow};

pub fn order_row(order: &Order, view: OrderView, now: Timestamp) -> OrderRow {
    let knowledge = (view == OrderView::MissingTracking).then(|| StorefrontKnowledge::of(order));
    let f = &order.flows;
    OrderRow {
        id: order.id.clone(),
        link: order.link.clone(),
        tiktok_status: order.tiktok.status.to_string(),
        shipping_type: order.tiktok.shipping_type.to_string(),
        created_at: order.tiktok.created_at,
        paid_at: order.tiktok.paid_at,
        ship_by: order.tiktok.ship_by,
        urgency: urgency(order.tiktok.ship_by, now),
        store_order: listing::store_order(order),
        store_status: order.store.as_ref().map(|s| s.status.to_string()),
        flows: [&f.import, &f.tracking, &f.cancellation, &f.label]
            .map(|s| listing::flow_word(s).to_string()),
        why: listing::why(order, view),
        knowledge,
        skus: listing::skus(order),
        buyer: listing::buyer(order),
        tracking: listing::tracking(order),
        total: sanitize(&format!(
            "{} {}",
            order.tiktok.total_amount, order.tiktok.currency
        )),
    }
}

pub fn cancellation_row(c: &Cancellation, now: Timestamp) -> CancellationRow {
    let sync = match &c.sync.status {
        FlowStatus::Skipped { why } => format!("skipped: {why}"),
        FlowStatus::NotApplicable { why } if why.starts_with("not supported") => why.clone(),
        FlowStatus::NotApplicable { why } => format!("n/a: {why}"),
        FlowStatus::Stuck { reason } => format!("failed: {reason}"),
        // The row says whose answer it is (`awaits_seller`, the deadline): the stored reason
        // ("buyer request waiting for the seller's answer") would not fit the column.
        FlowStatus::Waiting { .. } if c.awaits_seller() => "waiting: your answer".into(),
        FlowStatus::Waiting { why } => format!("waiting: {why}"),
        FlowStatus::Queued if c.sync.last_error.is_some() => "retrying".into(),
        FlowStatus::Queued => "queued".into(),
        FlowStatus::Done { .. } => "done".into(),
        FlowStatus::Idle => "-".into(),
    };
    let reason = [c.reason_text.as_deref(), c.reason_code.as_deref()]
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    CancellationRow {
        key: c.key.clone(),
        order_id: c.order_id.clone(),
        link: c.link.clone(),
        direction: c.direction.label().to_string(),
        initiator: c.initiator.to_string(),
        what: truncate(&c.what(), 120),
        tiktok_status: c.tiktok_status.as_ref().map(|s| s.to_string()),
        reason: truncate(&sanitize(reason), 120),
        seller_deadline: c.seller_deadline,
        urgency: if c.awaits_seller() {
            urgency(c.seller_deadline, now)
        } else {
            crate::domain::triage::Urgency::Later
        },
        awaits_seller: c.awaits_seller(),
        sync: truncate(&sanitize(&sync), 200),
    }
}

/// The filter field naming one order whole (see the module docs).
pub const ORDER_FIELD: &str = "order";

/// Necessary conditions for [`Filter::matches_order`] over orders' stored
/// `listing::search_text`s (UTF-8 bytes): on one order's text, and on bytes holding many.
pub struct PreCheck {
    terms: Vec<PreTerm>,
}

enum PreTerm {
    /// The term's folded value occurs in the text.
    Within(memmem::Finder<'static>),
    /// A line of the text is this one, with or without a `#` (an `order:` term, which asks for
    /// a field whole); searched for as it is in bytes holding many texts.
    Line(String, memmem::Finder<'static>),
}

impl PreCheck {
    /// Whether the order whose stored text is `text` may match: every term's folded value
    /// occurs in it, an `order:` term's as a whole line.
    pub fn text(&self, text: &[u8]) -> bool {
        self.terms.iter().all(|term| match term {
            PreTerm::Within(needle) => needle.find(text).is_some(),
            PreTerm::Line(line, _) => listing::may_name_order(text, line),
        })
    }

    /// Whether any of the texts held whole in `texts` (among other bytes: a block of them)
    /// may pass [`PreCheck::text`]: every term's value occurs somewhere in it. One search over
    /// a block of a hundred texts instead of one per text, for a filter whose terms are rare.
    pub fn any_text(&self, texts: &[u8]) -> bool {
        self.terms.iter().all(|term| match term {
            PreTerm::Within(needle) | PreTerm::Line(_, needle) => needle.find(texts).is_some(),
        })
    }
}

/// A parsed live filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    terms: Vec<(Option<String>, String)>,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .map(|term| match term.split_once(':') {
                Some((field, value)) if !field.is_empty() && !value.is_empty() => {
                    (Some(field.to_lowercase()), value.to_string())
                }
                _ => (None, term.to_string()),
            })
            .collect();
        Filter { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The filter's cheap checks on orders' stored texts (see [`PreCheck`]), each term's
    /// searcher prepared once: they run over every order of a long list.
    pub fn pre_check(&self) -> PreCheck {
        let terms = self
            .terms
            .iter()
            .map(|(field, value)| match field.as_deref() {
                Some(ORDER_FIELD) => {
                    let line = listing::naming_line(value);
                    let needle = memmem::Finder::new(&line).into_owned();
                    PreTerm::Line(line, needle)
                }
                _ => PreTerm::Within(memmem::Finder::new(&listing::fold(value)).into_owned()),
            })
            .collect();
        PreCheck { terms }
    }

    pub fn matches_order(&self, row: &OrderRow) -> bool {
        self.terms.iter().all(|(field, value)| {
            if field.as_deref() == Some(ORDER_FIELD) {
                return listing::names_order(row.id.as_str(), row.store_order.as_deref(), value);
            }
            let fields: Vec<&str> = match field.as_deref() {
                Some("link" | "store") => {
                    vec![row.link.as_str(), row.store_order.as_deref().unwrap_or("")]
                }
                Some("status") => vec![
                    &row.tiktok_status,
                    &row.why,
                    row.flows[0].as_str(),
                    row.flows[1].as_str(),
                    row.flows[2].as_str(),
                    row.flows[3].as_str(),
                ],
                Some("sku") => vec![&row.skus],
                Some("buyer") => vec![&row.buyer],
                Some("tracking") => vec![&row.tracking],
                Some("id") => vec![row.id.as_str()],
                Some("ship") => vec![&row.shipping_type],
                Some("flow") => row.flows.iter().map(String::as_str).collect(),
                Some(_) => vec![],
                None => vec![
                    row.id.as_str(),
                    row.link.as_str(),
                    &row.tiktok_status,
                    row.store_order.as_deref().unwrap_or(""),
                    &row.skus,
                    &row.buyer,
                    &row.tracking,
                    &row.why,
                ],
            };
            fields.iter().any(|f| contains_smart(f, value))
        })
    }

    pub fn matches_cancellation(&self, row: &CancellationRow) -> bool {
        self.terms.iter().all(|(field, value)| {
            let key = row.key.to_string();
            let fields: Vec<&str> = match field.as_deref() {
                Some("link" | "store") => vec![row.link.as_str()],
                Some("status") => vec![row.tiktok_status.as_deref().unwrap_or(""), &row.sync],
                Some("id") => vec![row.order_id.as_str(), &key],
                Some(_) => vec![],
                None => vec![
                    row.order_id.as_str(),
                    &key,
                    row.link.as_str(),
                    &row.direction,
                    &row.initiator,
                    &row.reason,
                    &row.sync,
                    row.tiktok_status.as_deref().unwrap_or(""),
                ],
            };
            fields.iter().any(|f| contains_smart(f, value))
        })
    }

    pub fn matches_text(&self, text: &str) -> bool {
        self.terms
            .iter()
            .all(|(_, value)| contains_smart(text, value))
    }
}

/// Substring match, case-insensitive unless the needle has a capital letter.
fn contains_smart(haystack: &str, needle: &str) -> bool {
    if needle.chars().any(char::is_uppercase) {
        haystack.contains(needle)
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::FlowStatus;
    use crate::domain::rules::fixtures::*;

    fn row_of(order: &Order) -> OrderRow {
        order_row(order, OrderView::All, t(0))
    }

    /// A buyer request's sync waits for the seller: the list says so in its 20 columns, where
    /// the stored reason read "waiting: buyer reque…".
    #[test]
    fn a_buyer_request_waits_for_your_answer() {
        use crate::domain::cancellation::*;
        use crate::domain::ids::CancelId;
        use crate::domain::order::Initiator;
        let order = paid();
        let mut request = Cancellation {
            key: CancellationKey::Tiktok(CancelId::new("7001").unwrap()),
            order_id: order.id.clone(),
            link: order.link.clone(),
            direction: Direction::TiktokToStore,
            initiator: Initiator::Buyer,
            cancel_type: CancelType::BuyerRequest,
            reason_code: None,
            reason_text: Some("No longer needed".into()),
            tiktok_status: Some(CancelStatus::Pending),
            seller_deadline: Some(t(3600)),
            line_item_ids: Vec::new(),
            units: Vec::new(),
            restock: true,
            response: None,
            sync: Default::default(),
            created_at: t(0),
            updated_at: t(0),
        };
        request.sync.status = FlowStatus::Waiting {
            why: "buyer request waiting for the seller's answer".into(),
        };
        assert_eq!(
            cancellation_row(&request, t(60)).sync,
            "waiting: your answer"
        );
        // Once answered, whatever it waits on is its own.
        request.tiktok_status = Some(CancelStatus::Success);
        request.sync.status = FlowStatus::Waiting {
            why: "the store order".into(),
        };
        assert_eq!(
            cancellation_row(&request, t(60)).sync,
            "waiting: the store order"
        );
    }

    #[test]
    fn filters_by_field_and_case_smart_substring() {
        let mut stuck = paid();
        stuck.flows.import.status = FlowStatus::Stuck {
            reason: "SKU ABC-1 has no variant in store uk-shopify".into(),
        };
        let row = row_of(&stuck);
        // (filter, matches)
        let table = [
            ("", true),
            ("abc-1", true),
            ("ABC-1", true),
            ("Abc-1", false),
            ("link:uk", true),
            ("store:us", false),
            ("status:stuck", true),
            ("status:stuck link:uk", true),
            ("status:stuck link:us", false),
            ("sku:ABC", true),
            ("buyer:david", true),
            ("tracking:RM", false),
            ("id:5764614", true),
            ("ship:tiktok", false),
            ("nonsense:x", false),
        ];
        for (filter, expected) in table {
            assert_eq!(
                Filter::parse(filter).matches_order(&row),
                expected,
                "{filter:?}"
            );
        }
    }

    #[test]
    fn support_finds_an_order_by_its_tracking_number() {
        let mut shipped = in_store(paid(), vec![fulfilled("RM123GB", Some("Royal Mail"))]);
        shipped.pushed_tracking = Some("RM123GB".into());
        let row = row_of(&shipped);
        assert_eq!(row.tracking, "RM123GB", "each number once");
        for filter in ["tracking:RM123", "rm123gb", "tracking:123"] {
            assert!(Filter::parse(filter).matches_order(&row), "{filter}");
        }
        assert!(!Filter::parse("tracking:RM999").matches_order(&row));
        assert!(!Filter::parse("tracking:RM").matches_order(&row_of(&paid())));
    }

    /// What a customer quotes on the phone finds their order in the Orders view (every order):
    /// its TikTok id, its store number (`#1001`, or `order:1001` whole), their name, a SKU, the
    /// tracking number; the pre-check on the stored text lets each through.
    #[test]
    fn support_finds_an_order_by_whatever_the_customer_quotes() {
        let mut shipped = in_store(paid(), vec![fulfilled("RM123GB", Some("Royal Mail"))]);
        shipped.pushed_tracking = Some("RM123GB".into());
        let row = order_row(&shipped, OrderView::All, t(0));
        let text = listing::search_text(&shipped);
        let quoted = [
            "576461413038785752",
            "id:5764614130",
            "#1001",
            "order:#1001",
            "order:1001",
            "order:576461413038785752",
            "buyer:david",
            "David",
            "sku:ABC-1",
            "tracking:RM123GB",
            "rm123",
        ];
        // The text among others in a block, its first line right after another's bytes.
        let block = [b"\x00\x12uk".as_slice(), text.as_bytes(), b"\x00\x05other"].concat();
        for filter in quoted {
            let filter_of = Filter::parse(filter);
            assert!(filter_of.matches_order(&row), "{filter} misses the row");
            let pre = filter_of.pre_check();
            assert!(pre.text(text.as_bytes()), "{filter} skips the stored text");
            assert!(pre.any_text(&block), "{filter} skips the block");
        }
        for filter in [
            "order:#100",
            "order:10010",
            "order:#1001 buyer:eve",
            "#1002",
        ] {
            let filter_of = Filter::parse(filter);
            assert!(!filter_of.matches_order(&row), "{filter} matches");
        }
        assert!(!Filter::parse("order:#10").pre_check().text(text.as_bytes()));
        assert!(!Filter::parse("eve").pre_check().any_text(&block));
    }

    #[test]
    fn rows_say_why_and_never_carry_control_characters() {
        let mut o = paid();
        o.tiktok.recipient.name = "Eve\u{1b}]52;c;x\u{7}".into();
        o.flows.import.status = FlowStatus::Stuck {
            reason: "bad\u{1b}[2J".into(),
        };
        let row = row_of(&o);
        assert!(!row.buyer.chars().any(char::is_control) && !row.why.chars().any(char::is_control));
        assert!(row.why.starts_with("import: bad"), "{}", row.why);
        assert_eq!(row.flows[0], "stuck");
    }

    /// The store skips orders whose indexed text fails `pre_check`: that must never hide an
    /// order the filter matches. Every token of every filterable field of every view's row, in
    /// its own, lower and upper case, bare and behind each field name, is tried.
    #[test]
    fn the_pre_check_never_hides_a_match() {
        let mut stuck = paid();
        stuck.tiktok.recipient.name = "ΟΔΥΣΣΕΥΣ Παπας \u{1b}[2J".into();
        stuck.flows.import.status = FlowStatus::Stuck {
            reason: format!("SKU ÄBC-1 has no variant {}", "x".repeat(300)),
        };
        stuck.tiktok.lines[0].quantity = 3;
        let mut held = order(
            crate::domain::order::OrderStatus::OnHold,
            crate::domain::order::ShippingType::Seller,
        );
        held.flows.import.status = FlowStatus::Waiting {
            why: "ON_HOLD window".into(),
        };
        let unfulfilled = in_store(paid(), vec![]);
        let shipped = in_store(paid(), vec![fulfilled("RM1GB", Some("Royal Mail"))]);
        let fields = [
            "",
            "link:",
            "store:",
            "status:",
            "sku:",
            "buyer:",
            "tracking:",
            "id:",
            "ship:",
            "flow:",
            "order:",
        ];
        // A block of texts: each behind another's bytes.
        let block = |text: &str| [b"\x01uk".as_slice(), text.as_bytes(), b"\x02de"].concat();
        for o in [stuck, held, unfulfilled, shipped] {
            let text = listing::search_text(&o);
            for view in OrderView::ALL {
                let row = order_row(&o, view, t(0));
                let shown = [
                    vec![row.id.as_str(), row.link.as_str(), &row.tiktok_status],
                    vec![&row.shipping_type, row.store_order.as_deref().unwrap_or("")],
                    vec![&row.skus, &row.buyer, &row.why, &row.tracking],
                    row.flows.iter().map(String::as_str).collect(),
                ]
                .concat();
                for token in shown.iter().flat_map(|f| f.split_whitespace()) {
                    for form in [
                        token.to_string(),
                        token.to_lowercase(),
                        token.to_uppercase(),
                    ] {
                        for field in fields {
                            let filter = Filter::parse(&format!("{field}{form}"));
                            if filter.matches_order(&row) {
                                let pre = filter.pre_check();
                                assert!(
                                    pre.text(text.as_bytes()) && pre.any_text(&block(&text)),
                                    "{field}{form} matches the {view:?} row but not {text:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
