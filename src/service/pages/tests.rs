//! Pages of every paged list stay within a message, hold at least one row, and page through
//! every row exactly once; oversized rows are shortened, visibly.

use std::collections::BTreeMap;

use super::*;
use crate::domain::audit::{Actor, AuditOutcome};
use crate::domain::cancellation::CancellationKey;
use crate::domain::clock::from_unix;
use crate::domain::ids::{CancelId, LinkId, RequestId, TiktokOrderId};
use crate::domain::request::{RequestStatus, ResyncFlow};
use crate::domain::triage::Urgency;
use crate::service::api::MAX_PAGE;
use crate::service::wire::ServerMessage;

fn id(n: usize) -> TiktokOrderId {
    TiktokOrderId::new(format!("{}", 576_000_000_000u64 + n as u64)).unwrap()
}

fn actor() -> Actor {
    Actor {
        user: "mallory".into(),
        uid: 1001,
        role: None,
        from: None,
    }
}

fn audit_entry(n: usize, text: usize) -> AuditEntry {
    AuditEntry::new(
        from_unix(1_700_000_000 + n as i64),
        actor(),
        "resync.request",
        vec![id(n).to_string()],
        AuditOutcome::Refused {
            why: "viewer may not".into(),
        },
    )
    .with_reason(Some("r".repeat(text)))
}

fn order_row(n: usize, text: usize) -> OrderRow {
    OrderRow {
        id: id(n),
        link: LinkId::new("uk").unwrap(),
        tiktok_status: "AWAITING_SHIPMENT".into(),
        shipping_type: "SELLER".into(),
        created_at: from_unix(1_700_000_000),
        paid_at: None,
        ship_by: None,
        urgency: Urgency::Later,
        store_order: None,
        store_status: None,
        flows: ["-".into(), "-".into(), "-".into(), "-".into()],
        why: "w".repeat(text),
        knowledge: None,
        skus: "JMP-1".into(),
        buyer: "b".repeat(text),
        total: "19.99 GBP".into(),
        tracking: String::new(),
    }
}

fn cancellation_row(n: usize, text: usize) -> CancellationRow {
    CancellationRow {
        key: CancellationKey::Tiktok(CancelId::new(format!("c{n}")).unwrap()),
        order_id: id(n),
        link: LinkId::new("uk").unwrap(),
        direction: "tiktok → store".into(),
        initiator: "buyer".into(),
        what: "whole order".into(),
        tiktok_status: None,
        reason: "r".repeat(text),
        seller_deadline: None,
        urgency: Urgency::Later,
        awaits_seller: true,
        sync: "s".repeat(text),
    }
}

fn request(n: usize, text: usize) -> ResyncRequest {
    ResyncRequest {
        id: format!("R{n}").parse::<RequestId>().unwrap(),
        targets: vec![id(n)],
        flow: ResyncFlow::Import,
        reason: "r".repeat(text),
        requested_by: actor(),
        requested_at: from_unix(1_700_000_000),
        status: RequestStatus::Pending,
        outcomes: BTreeMap::new(),
    }
}

fn activity(n: usize, text: usize) -> ActivityItem {
    ActivityItem {
        at: from_unix(1_700_000_000 + n as i64),
        source: "engine".into(),
        level: crate::service::api::ActivityLevel::Info,
        who: "orderdeck".into(),
        link: None,
        order: Some(id(n)),
        text: "t".repeat(text),
    }
}

/// Pages through `all` as a client does (`offset` = rows so far, `limit` = `MAX_PAGE`); checks
/// each answer fits a message, and returns the rows received and how many pages it took.
fn page_through<T: Row + Clone>(all: &[T], wrap: fn(Paged<T>) -> Response) -> (Vec<T>, usize) {
    let mut got: Vec<T> = Vec::new();
    let mut pages = 0;
    while got.len() < all.len() {
        let offset = got.len();
        let rows = all.iter().skip(offset).take(MAX_PAGE).cloned().collect();
        let page = fit(wrap(Paged {
            total: all.len(),
            offset,
            rows,
            counting: false,
        }));
        let line = ServerMessage::Ok { id: 1, ok: page }.to_line();
        assert!(line.len() <= MAX_LINE, "{} bytes", line.len());
        let back: ServerMessage = serde_json::from_str(&line).unwrap();
        let ServerMessage::Ok { ok, .. } = back else {
            panic!("not an answer: {}", &line[..200.min(line.len())]);
        };
        let rows = rows_of::<T>(ok);
        assert!(!rows.is_empty(), "an empty page at offset {offset}");
        got.extend(rows);
        pages += 1;
    }
    (got, pages)
}

fn rows_of<T: Row>(response: Response) -> Vec<T> {
    let value = match response {
        Response::Orders(p) => serde_json::to_value(p.rows),
        Response::Cancellations(p) => serde_json::to_value(p.rows),
        Response::Requests(p) => serde_json::to_value(p.rows),
        Response::Audit(p) => serde_json::to_value(p.rows),
        Response::Activity(p) => serde_json::to_value(p.rows),
        other => panic!("not a page: {other:?}"),
    };
    serde_json::from_value(value.unwrap()).unwrap()
}

/// Full pages of rows of about 4 KiB (2 MB a page unbounded): every list pages through all
/// of them, each page within a message, none cut.
#[test]
fn every_paged_list_stops_before_the_message_limit_and_pages_on() {
    fn check<T: Row + Clone + PartialEq + std::fmt::Debug>(
        make: fn(usize, usize) -> T,
        wrap: fn(Paged<T>) -> Response,
    ) {
        let all: Vec<T> = (0..MAX_PAGE * 2).map(|n| make(n, 2_000)).collect();
        let (got, pages) = page_through(&all, wrap);
        assert_eq!(got, all, "every row once, in order, unchanged");
        assert!(pages >= 3, "{pages} pages");
    }
    check(order_row, Response::Orders);
    check(cancellation_row, Response::Cancellations);
    check(request, Response::Requests);
    check(audit_entry, Response::Audit);
    check(activity, Response::Activity);
}

/// Entries written before reasons were bounded (1 MiB each, 40 of them: 42 MB in one answer
/// before): shortened with a note, so they page like any other.
#[test]
fn huge_audit_entries_are_shortened_visibly() {
    let mut all: Vec<AuditEntry> = (0..40).map(|n| audit_entry(n, MAX_LINE)).collect();
    all.push(audit_entry(40, 30));
    let (got, pages) = page_through(&all, Response::Audit);
    assert_eq!(pages, 1);
    let reason = got[0].reason.as_deref().unwrap();
    assert!(reason.len() < ROW_BYTES, "{}", reason.len());
    assert!(
        reason.ends_with(&format!(
            "… ({} more characters not shown)",
            MAX_LINE - 2048
        )),
        "{}",
        &reason[reason.len() - 60..]
    );
    assert_eq!(got[0].targets, all[0].targets, "identifiers are never cut");
    assert_eq!(got[40], all[40], "a small entry is untouched");

    // An entry naming 60,000 orders (refused before the count was checked) keeps a few.
    let mut many = audit_entry(0, 10);
    many.targets = (0..60_000).map(|n| id(n).to_string()).collect();
    let (got, _) = page_through(&[many], Response::Audit);
    assert_eq!(got[0].targets.len(), KEPT_TARGETS + 1);
    assert_eq!(got[0].targets[KEPT_TARGETS], "… and 59950 more");
}
