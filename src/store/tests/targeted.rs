//! Targeted tests of the store's promises: one transaction per change, stale settings refused,
//! audit order under equal timestamps, decode errors that name tree and key, view and list
//! ordering, bulk imports, and watermarks, links and payloads. (Schema refusal and the migration hook are
//! tested in `migrate.rs`.)

use super::*;
use crate::domain::clock::from_unix;
use crate::domain::job::JobState;
use crate::domain::order::FlowStatus;
use crate::domain::rules::fixtures::t;
use crate::domain::settings::LinkSettings;
use crate::domain::triage::OrderView;
use crate::store::{
    CancellationScan, Change, CheckDepth, SettingsWrite, StoreError, TreeId, ViewQuery,
};

fn defaults(_: &LinkId) -> LinkSettings {
    LinkSettings::default()
}

#[test]
fn a_change_and_its_jobs_commit_together_or_not_at_all() {
    let dir = tempdir();
    let store = open(dir.path());
    let order = order("1001", "uk");
    let job_id = store.allocate_job_id().unwrap();
    let refused = Change {
        orders: vec![order.clone()],
        jobs: vec![job(job_id.0, &order, t(0))],
        settings: vec![SettingsWrite {
            link: link("uk"),
            expected_version: 3, // never written: the stored version is 0
            settings: LinkSettings::default(),
            at: t(0),
            by: operator(),
        }],
        ..Change::default()
    };
    let err = store.apply(&refused).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::StaleSettings {
                expected: 3,
                found: 0,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(store.order(&order.id).unwrap(), None);
    assert_eq!(store.job(job_id).unwrap(), None);
    assert!(store.due_jobs(t(10), 10).unwrap().is_empty());

    let accepted = Change {
        settings: vec![],
        ..refused
    };
    store.apply(&accepted).unwrap();
    assert_eq!(store.order(&order.id).unwrap(), Some(order.clone()));
    assert_eq!(
        store.due_jobs(t(10), 10).unwrap(),
        vec![job(job_id.0, &order, t(0))]
    );
    assert_eq!(store.live_jobs_of(&order.id).unwrap().len(), 1);
}

#[test]
fn stale_settings_versions_are_refused() {
    let dir = tempdir();
    let store = open(dir.path());
    let uk = link("uk");
    assert_eq!(store.settings(&uk).unwrap(), None);
    let write = |expected, hours: u64| SettingsWrite {
        link: uk.clone(),
        expected_version: expected,
        settings: LinkSettings {
            missing_tracking_after: std::time::Duration::from_secs(hours * 3600),
            ..LinkSettings::default()
        },
        at: t(hours as i64),
        by: operator(),
    };
    let first = store.put_settings(write(0, 12)).unwrap();
    assert_eq!(
        (first.version, first.updated_by.user.as_str()),
        (1, "alice")
    );
    let second = store.put_settings(write(1, 36)).unwrap();
    assert_eq!(second.version, 2);
    // a form opened at version 1 is saved after someone else saved version 2
    let err = store.put_settings(write(1, 48)).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            StoreError::StaleSettings {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("uk") && text.contains("reload"), "{text}");
    assert_eq!(store.settings(&uk).unwrap(), Some(second));
}

#[test]
fn audit_keeps_insertion_order_among_equal_timestamps() {
    let dir = tempdir();
    let store = open(dir.path());
    let same = t(100);
    let actions = [
        "settings.set",
        "request.approve",
        "resync.request",
        "cancel.approve",
    ];
    store
        .apply(&Change {
            audit: actions[..2].iter().map(|a| audit(same, a)).collect(),
            ..Change::default()
        })
        .unwrap();
    store
        .append_audit(audit(t(50), "earlier.by.clock"))
        .unwrap();
    for action in &actions[2..] {
        store.append_audit(audit(same, action)).unwrap();
    }
    let oldest_first: Vec<_> = store
        .audit_since(t(0), 100)
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert_eq!(
        oldest_first,
        [
            "earlier.by.clock",
            "settings.set",
            "request.approve",
            "resync.request",
            "cancel.approve"
        ]
    );
    // newest first, two per page, following cursors
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = store.audit_page(before, 2).unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.cursor);
        pages.extend(page.into_iter().map(|r| r.entry.action));
    }
    let mut newest_first = oldest_first.clone();
    newest_first.reverse();
    assert_eq!(pages, newest_first);
    assert_eq!(store.audit_since(same, 100).unwrap().len(), 4);
}

#[test]
fn decode_errors_name_the_tree_and_key() {
    let dir = tempdir();
    let store = open(dir.path());
    store
        .tree(TreeId::Orders)
        .insert(
            "576461413038785752",
            &b"\x01{\"id\":\"576461413038785752\",\"link\":"[..],
        )
        .unwrap();
    let err = store.order(&order_id("576461413038785752")).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, StoreError::Decode { tree: "orders", .. }),
        "{text}"
    );
    assert!(
        text.contains("576461413038785752") && text.contains("EOF"),
        "{text}"
    );
    let report = store.check(crate::store::CheckDepth::Full).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].tree, "orders");
    assert_eq!(report.problems[0].key, "576461413038785752");
}

#[test]
fn views_page_in_sort_order_and_filter_missing_tracking_by_time() {
    let dir = tempdir();
    let store = open(dir.path());
    // paid 0h, 10h and 30h ago (relative to now = paid + 40h); ship-by decides the order
    let mut orders = Vec::new();
    for (i, (paid_h, ship_by_h)) in [(40, 72), (30, 48), (10, 50)].into_iter().enumerate() {
        let mut o = order(&format!("{}", 100 + i), if i == 2 { "de" } else { "uk" });
        o.tiktok.paid_at = Some(t(0) + chrono::Duration::hours(40 - paid_h));
        o.tiktok.ship_by = Some(t(0) + chrono::Duration::hours(ship_by_h));
        orders.push(o);
    }
    orders.push(shipped_by_tiktok("200", "uk"));
    store
        .apply(&Change {
            orders: orders.clone(),
            ..Change::default()
        })
        .unwrap();
    let now = t(0) + chrono::Duration::hours(40);
    let ids = |view, link: Option<&LinkId>, offset, limit| {
        let query = ViewQuery {
            view,
            link,
            offset,
            limit,
            now,
        };
        let page = store.page_view(&query, &defaults).unwrap();
        (
            page.total,
            page.items
                .iter()
                .map(|o| o.id.to_string())
                .collect::<Vec<_>>(),
        )
    };
    // default threshold 24h: order 102 (paid 10h ago) is not listed yet
    assert_eq!(
        ids(OrderView::MissingTracking, None, 0, 10),
        (2, vec!["101".into(), "100".into()])
    );
    assert_eq!(
        ids(OrderView::MissingTracking, None, 1, 10),
        (2, vec!["100".into()])
    );
    let short = |l: &LinkId| LinkSettings {
        missing_tracking_after: std::time::Duration::from_secs(if l.as_str() == "de" {
            3600
        } else {
            86_400
        }),
        ..LinkSettings::default()
    };
    let de = link("de");
    let query = ViewQuery {
        view: OrderView::MissingTracking,
        link: Some(&de),
        offset: 0,
        limit: 5,
        now,
    };
    assert_eq!(store.page_view(&query, &short).unwrap().total, 1);
    assert_eq!(
        store
            .count_view(OrderView::MissingTracking, None, now, &short)
            .unwrap(),
        3
    );
    // All: newest created first; every order created at the same time, so by id
    assert_eq!(
        ids(OrderView::All, None, 0, 2),
        (4, vec!["100".into(), "101".into()])
    );
    let counts = store.counts(Some(&link("uk")), now, &defaults).unwrap();
    assert_eq!(counts[&OrderView::All], 3);
    assert_eq!(counts[&OrderView::Pending], 2);
    assert_eq!(counts[&OrderView::Stuck], 0);
}

#[test]
fn order_moves_between_views_and_links_without_leftovers() {
    let dir = tempdir();
    let store = open(dir.path());
    let mut o = order("1", "uk");
    store
        .apply(&Change {
            orders: vec![o.clone()],
            ..Change::default()
        })
        .unwrap();
    o.link = link("de");
    o.flows.import.status = FlowStatus::Stuck {
        reason: "SKU ABC-1 unknown".into(),
    };
    o.flows.import.updated_at = Some(t(30));
    store
        .apply(&Change {
            orders: vec![o.clone()],
            ..Change::default()
        })
        .unwrap();
    let count = |view, l: Option<&str>| {
        let l = l.map(link);
        store.count_view(view, l.as_ref(), t(0), &defaults).unwrap()
    };
    assert_eq!(count(OrderView::All, Some("uk")), 0);
    assert_eq!(count(OrderView::Stuck, Some("de")), 1);
    store
        .apply(&Change {
            remove_orders: vec![o.id.clone()],
            ..Change::default()
        })
        .unwrap();
    assert_eq!(count(OrderView::All, None), 0);
    assert!(
        store
            .check(crate::store::CheckDepth::Full)
            .unwrap()
            .is_clean()
    );
}

#[test]
fn what_a_stuck_flow_waits_on_is_kept_and_listed_by_link_and_cause() {
    use crate::domain::cause::StuckCause;
    use crate::domain::order::Flow;
    let dir = tempdir();
    let store = open(dir.path());
    // A SKU as a platform may send it: quotes, a separator byte, a newline.
    let sku = "ABC-1 \"x\"\u{0}\n";
    let missing = StuckCause::MissingSku {
        store: crate::domain::ids::StorefrontId::new("s").unwrap(),
        sku: sku.into(),
    };
    let mut o = order("1", "uk");
    o.flows.import.status = FlowStatus::Stuck {
        reason: "SKU ABC-1 has no variant in store s".into(),
    };
    o.flows.import.waits_on = Some(missing.clone());
    // Another link's stuck order, and a second flow of the first waiting on a person.
    let mut other = order("2", "us");
    other.flows.tracking.status = FlowStatus::Stuck {
        reason: "refused".into(),
    };
    let write = |orders: Vec<crate::domain::order::Order>| {
        store
            .apply(&Change {
                orders,
                ..Change::default()
            })
            .unwrap()
    };
    write(vec![o.clone(), other.clone()]);
    assert_eq!(store.order(&o.id).unwrap().as_ref(), Some(&o));
    let stuck = || {
        store
            .count_view(OrderView::Stuck, None, t(0), &defaults)
            .unwrap()
    };
    let flows = |name: &str| store.stuck_flows(&link(name)).unwrap();
    assert_eq!(stuck(), 2);
    assert_eq!(flows("uk"), [(missing.clone(), o.id.clone(), Flow::Import)]);
    assert_eq!(
        flows("us"),
        [(StuckCause::Person, other.id.clone(), Flow::Tracking)]
    );
    // Another cause, then none: the order stays listed as stuck while a flow is.
    o.flows.label.status = FlowStatus::Stuck {
        reason: "no label".into(),
    };
    o.flows.import.waits_on = Some(StuckCause::Person);
    write(vec![o.clone()]);
    assert_eq!(stuck(), 2);
    assert_eq!(
        flows("uk"),
        [
            (StuckCause::Person, o.id.clone(), Flow::Import),
            (StuckCause::Person, o.id.clone(), Flow::Label)
        ]
    );
    o.flows.import.status = FlowStatus::Queued;
    o.flows.import.waits_on = None;
    o.flows.label.status = FlowStatus::Queued;
    write(vec![o.clone()]);
    assert_eq!(stuck(), 1);
    assert!(flows("uk").is_empty());
    assert!(
        store
            .check(crate::store::CheckDepth::Full)
            .unwrap()
            .is_clean()
    );
}

#[test]
fn cancellations_list_awaiting_seller_first_by_deadline() {
    let dir = tempdir();
    let store = open(dir.path());
    let o = order("1", "uk");
    let late = buyer_request("c-late", &o, Some(t(7200)));
    let soon = buyer_request("c-soon", &o, Some(t(3600)));
    let mut answered = buyer_request("c-done", &o, Some(t(60)));
    answered.tiktok_status = Some(CancelStatus::Success);
    store
        .apply(&Change {
            cancellations: vec![late, soon, answered],
            ..Change::default()
        })
        .unwrap();
    let list = |awaiting_seller_only| {
        let q = CancellationScan {
            link: None,
            awaiting_seller_only,
            offset: 0,
            limit: 10,
        };
        let page = store.cancellations(&q).unwrap();
        (
            page.total,
            page.items
                .iter()
                .map(|c| c.key.to_string())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        list(false).1,
        ["tiktok:c-soon", "tiktok:c-late", "tiktok:c-done"]
    );
    assert_eq!(
        list(true),
        (2, vec!["tiktok:c-soon".into(), "tiktok:c-late".into()])
    );
}

#[test]
fn requests_list_newest_first_and_pending_only() {
    let dir = tempdir();
    let store = open(dir.path());
    let o = order("1", "uk");
    let ids: Vec<_> = (0..3)
        .map(|_| store.allocate_request_id().unwrap())
        .collect();
    assert_eq!(ids, [RequestId(1), RequestId(2), RequestId(3)]);
    let mut requests: Vec<_> = ids
        .iter()
        .map(|id| request(id.0, &[&o], t(id.0 as i64)))
        .collect();
    requests[1].status = RequestStatus::Rejected {
        by: operator(),
        at: t(9),
        reason: "duplicate".into(),
    };
    store
        .apply(&Change {
            requests,
            ..Change::default()
        })
        .unwrap();
    let all = store.requests(false, 0, 10).unwrap();
    assert_eq!(
        all.items.iter().map(|r| r.id.0).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    let pending = store.requests(true, 1, 10).unwrap();
    assert_eq!((pending.total, pending.items[0].id), (2, RequestId(1)));
}

#[test]
fn watermarks_links_and_payloads_round_trip() {
    let dir = tempdir();
    let store = open(dir.path());
    let uk = link("uk");
    let record = link_record("uk", t(5));
    let mark = crate::store::Watermark {
        at: from_unix(1_700_000_123),
        cursor: Some("page-2".into()),
    };
    let payload = serde_json::json!({"order_id": "1", "status": "AWAITING_SHIPMENT"});
    store
        .apply(&Change {
            links: vec![record.clone()],
            watermarks: vec![(uk.clone(), "tiktok.orders".into(), mark.clone())],
            payloads: vec![(order_id("1"), payload.clone())],
            ..Change::default()
        })
        .unwrap();
    assert_eq!(store.links().unwrap(), vec![record.clone()]);
    let polled = LinkRecord {
        last_poll: Some(t(65)),
        ..record
    };
    store.put_link(polled.clone()).unwrap();
    assert_eq!(store.link(&uk).unwrap(), Some(polled));
    assert_eq!(store.watermark(&uk, "tiktok.orders").unwrap(), Some(mark));
    assert_eq!(store.watermark(&uk, "shopify.orders").unwrap(), None);
    assert_eq!(store.payload(&order_id("1")).unwrap(), Some(payload));
    let done = Job {
        state: JobState::Done { at: t(9) },
        ..job(4, &order("1", "uk"), t(0))
    };
    store
        .apply(&Change {
            jobs: vec![done],
            ..Change::default()
        })
        .unwrap();
    assert_eq!(
        store.allocate_job_id().unwrap(),
        JobId(5),
        "written ids raise the counter"
    );
}

#[test]
fn each_links_due_jobs_are_read_apart_in_due_order() {
    let dir = tempdir();
    let store = open(dir.path());
    let (uk, us) = (order("1", "uk"), order("2", "us"));
    let mut running = job(6, &uk, t(0));
    running.state = JobState::Running { since: t(0) };
    store
        .apply(&Change {
            orders: vec![uk.clone(), us.clone()],
            jobs: vec![
                job(1, &uk, t(2)),
                job(2, &uk, t(1)),
                job(3, &us, t(3)),
                job(4, &uk, t(4)),
                job(5, &us, t(50)), // not due yet
                running,
            ],
            ..Change::default()
        })
        .unwrap();
    let ids = |jobs: Vec<Job>| jobs.iter().map(|j| j.id.0).collect::<Vec<_>>();
    assert_eq!(
        ids(store.due_jobs_of_link(&link("uk"), t(10), 10).unwrap()),
        [2, 1, 4]
    );
    assert_eq!(
        ids(store.due_jobs_of_link(&link("uk"), t(10), 2).unwrap()),
        [2, 1]
    );
    assert_eq!(
        ids(store.due_jobs_of_link(&link("us"), t(10), 10).unwrap()),
        [3]
    );
    // A link whose name starts another's sees only its own.
    assert!(
        store
            .due_jobs_of_link(&link("u"), t(10), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.links_with_ready_jobs().unwrap(),
        [link("uk"), link("us")]
    );
    // A damaged entry between them does not hide the links after it.
    store
        .tree(TreeId::IdxJobsDueLink)
        .insert(b"uk\x01garbage", &b"\x02"[..])
        .unwrap();
    assert_eq!(
        store.links_with_ready_jobs().unwrap(),
        [link("uk"), link("us")]
    );
}

/// A bulk import leaves the store as changes would have: indexes, counts, pages, a clean full
/// check; an order it already held is replaced, its old list entries gone.
#[test]
fn a_bulk_import_indexes_and_counts_like_changes() {
    let dir = tempdir();
    let store = open(dir.path());
    let held = order("1", "uk");
    store
        .apply(&Change {
            orders: vec![held.clone()],
            ..Change::default()
        })
        .unwrap();
    let mut shipped = held.clone();
    shipped.pushed_tracking = Some("RM1GB".into());
    shipped.flows.tracking.status = FlowStatus::Done { at: t(9) };
    let imported = [shipped, order("2", "uk"), order("3", "de")];
    store.import_orders(&imported).unwrap();

    let report = store.check(CheckDepth::Full).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    let count = |view| store.count_view(view, None, t(0), &defaults).unwrap();
    assert_eq!(count(OrderView::All), 3);
    assert_eq!(count(OrderView::Pending), 3);
    let query = ViewQuery {
        view: OrderView::All,
        link: Some(&imported[1].link),
        offset: 0,
        limit: 10,
        now: t(0),
    };
    let page = store.page_view(&query, &defaults).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(store.order(&held.id).unwrap().as_ref(), Some(&imported[0]));
    assert!(
        !store
            .tree(TreeId::Meta)
            .contains_key(crate::store::meta::FULL_CHECK_PENDING)
            .unwrap(),
        "a finished import owes no check"
    );
}

/// A console's filter changed while its count ran: the count stops part way (reading no more
/// orders) and says it was given up rather than answering a wrong total.
#[test]
fn a_count_no_longer_wanted_stops_and_says_so() {
    let dir = tempdir();
    let store = open(dir.path());
    let orders: Vec<_> = (0..10)
        .map(|n| order(&format!("{}", 900 + n), "uk"))
        .collect();
    store
        .apply(&Change {
            orders,
            ..Change::default()
        })
        .unwrap();
    let query = every_order(0, 0);
    let any = |_: &[u8]| true;
    let filter = crate::store::OrderFilter {
        text: &any,
        any_text: &any,
        order: &|_| true,
    };
    let whole = store.count_matching_while(&query, &defaults, &filter, &|| true);
    assert_eq!(whole.unwrap(), Some(10));
    for asked_until in [1, 3, 8] {
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let wanted = || asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1 < asked_until;
        let stopped = store.count_matching_while(&query, &defaults, &filter, &wanted);
        assert_eq!(stopped.unwrap(), None, "stopped at the {asked_until}th ask");
        assert_eq!(asked.into_inner(), asked_until, "no ask after it said no");
    }
}

/// Matches that cluster at either end of a list or in its middle, or sit alone, are paged in
/// the list's order whichever way it is read, of every link or of one: however many candidates
/// there are (decoded, placed by their text, or met in a read of the whole list on two
/// threads), no match is lost or out of place.
#[test]
fn a_filtered_page_finds_matches_clustered_anywhere_in_list_order() {
    use crate::domain::ids::LinkId;
    use crate::domain::order_sort::OrderSort;
    use crate::store::{ListOrder, OrderFilter};
    let dir = tempdir();
    // Enough orders that each list spans several blocks, and a read of it splits in two.
    let store = store_of_orders(dir.path(), (7000, 300), 60, &["uk", "de", "de"]);
    // The oldest ten, a run in the middle, one alone, and the newest three.
    let chosen: Vec<String> = (0..10)
        .chain(140..160)
        .chain([231])
        .chain(297..300)
        .map(|n| format!("{}", 7000 + n))
        .collect();
    let text = |text: &[u8]| {
        chosen
            .iter()
            .any(|id| memchr::memmem::find(text, id.as_bytes()).is_some())
    };
    let chosen_order = |o: &Order| chosen.iter().any(|id| id == o.id.as_str());
    let filter = OrderFilter {
        text: &text,
        any_text: &text,
        order: &chosen_order,
    };
    let de = LinkId::new("de").unwrap();
    for link in [None, Some(&de)] {
        let query = |offset, limit| ViewQuery {
            link,
            ..every_order(offset, limit)
        };
        // Places in the Orders view come with the texts for its own order, the times (all
        // orders here share a ship-by and a payment time: ties) and the id; a link is read.
        let columns = [
            None,
            Some(OrderSort::Created),
            Some(OrderSort::ShipBy),
            Some(OrderSort::Paid),
            Some(OrderSort::Id),
            Some(OrderSort::Link),
        ];
        for column in columns {
            for descending in [false, true] {
                let order = ListOrder { column, descending };
                let listed = store.page_sorted(&query(0, 1000), order, &defaults);
                let expected: Vec<Order> = listed
                    .unwrap()
                    .items
                    .into_iter()
                    .filter(|o| chosen_order(o))
                    .collect();
                let what = format!("{link:?} by {column:?}, descending {descending}");
                assert!(expected.len() >= 10, "{what}: {}", expected.len());
                let whole = store.page_matching(&query(0, 1000), order, &defaults, &filter);
                let whole = whole.unwrap();
                assert_eq!(whole.items, expected, "{what}");
                assert_eq!(whole.total, Some(expected.len()), "{what}");
                for offset in (0..=expected.len()).step_by(4) {
                    let page = store.page_matching(&query(offset, 3), order, &defaults, &filter);
                    let page = page.unwrap();
                    let want: Vec<Order> = expected.iter().skip(offset).take(3).cloned().collect();
                    assert_eq!(page.items, want, "{what} at {offset}");
                    assert!(
                        page.total.is_none_or(|t| t == expected.len()),
                        "{what} at {offset}: {:?}",
                        page.total
                    );
                }
            }
        }
    }
}

#[test]
fn writers_racing_on_one_order_leave_its_sorted_entries_exact() {
    // Each change plans where its sorted entries go from the order as stored before its
    // transaction; a change committed meanwhile moves them, and the plan is made again.
    let dir = tempdir();
    let store = open(dir.path());
    let first = order("9", "uk");
    let neighbours: Vec<Order> = (0..60)
        .map(|n| order(&format!("{}", 100 + n), "uk"))
        .collect();
    put_orders(&store, &neighbours);
    std::thread::scope(|scope| {
        for writer in 0..2 {
            let (store, first) = (&store, &first);
            scope.spawn(move || {
                for n in 0..40 {
                    let mut renamed = first.clone();
                    renamed.tiktok.recipient.name = format!("Buyer {n:02} of writer {writer}");
                    put_orders(store, &[renamed]);
                }
            });
        }
    });
    let report = store.check(CheckDepth::Full).unwrap();
    assert!(report.is_clean(), "{:#?}", report.problems);
    let by_buyer = crate::store::ListOrder {
        column: Some(crate::domain::order_sort::OrderSort::Buyer),
        descending: true,
    };
    let page = store
        .page_sorted(&every_order(0, 100), by_buyer, &defaults)
        .unwrap();
    assert_eq!(page.total, 61);
    let nines: Vec<&Order> = page.items.iter().filter(|o| o.id.as_str() == "9").collect();
    assert_eq!(nines.len(), 1, "listed once");
    assert!(
        nines[0]
            .tiktok
            .recipient
            .name
            .starts_with("Buyer 39 of writer")
    );
}

#[test]
fn orders_leaving_a_list_leave_no_trail_of_empty_blocks() {
    // Pending orders leave their list from its old end as they are imported: the blocks they
    // leave empty go, so a walk from that end does not step over them (one change each, as the
    // engine writes them).
    let dir = tempdir();
    let store = open(dir.path());
    let orders: Vec<Order> = (0..200)
        .map(|n| {
            let mut o = order(&format!("{}", 1_000 + n), "uk");
            o.tiktok.paid_at = Some(t(n));
            o
        })
        .collect();
    put_orders(&store, &orders);
    let pending = |store: &Store| {
        store
            .count_view(OrderView::Pending, None, t(0), &defaults)
            .unwrap()
    };
    assert_eq!(pending(&store), 200);
    for o in &orders[..180] {
        put_orders(
            &store,
            &[crate::domain::rules::fixtures::in_store(o.clone(), vec![])],
        );
    }
    assert_eq!(pending(&store), 20);
    assert!(store.check(CheckDepth::Full).unwrap().is_clean());
    let mut layout = Vec::new();
    for tree in crate::store::blocks::BLOCKED {
        for item in store.tree(tree).iter() {
            let (key, value) = item.unwrap();
            let block = crate::store::blocks::parse(tree, &key, &value, &mut layout).unwrap();
            assert!(
                key.is_empty() || !block.entries.is_empty(),
                "{} keeps an empty block {}",
                tree.name(),
                crate::store::keys::show(&key)
            );
        }
    }
    let first = store
        .page_view(
            &ViewQuery {
                view: OrderView::Pending,
                link: None,
                offset: 0,
                limit: 1,
                now: t(0),
            },
            &defaults,
        )
        .unwrap();
    assert_eq!(first.items[0].id.as_str(), "1180");
}
