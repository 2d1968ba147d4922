//! The model test's oracle: every read API of the store compared with the in-memory model.
//! Expected lists are computed from the domain's own rules (`views_of`, `is_visible`,
//! `cancellation_sort_key`) and plain sorting, never from the store's key layouts, so a layout
//! that orders or scopes entries wrongly cannot agree with itself.

use std::collections::BTreeMap;

use super::model::Model;
use super::ops::{LINKS, ORDER_IDS, STREAMS, hours};
use super::*;
use crate::domain::job::JobState;
use crate::domain::order_sort::{OrderSort, sort_value};
use crate::domain::triage::{OrderView, cancellation_sort_key, is_visible, views_of};
use crate::store::{CancellationScan, CheckDepth, ListOrder, OrderFilter, ViewQuery};

/// Every read API against the model, at time `now`.
pub fn verify(store: &Store, model: &Model, now: Timestamp) {
    // jobs_of over every order id reads every job (all belong to those orders), so missing,
    // extra or stale jobs show there; point reads cover the newest ids and one past them.
    for id in ORDER_IDS.map(order_id) {
        assert_eq!(
            store.order(&id).unwrap().as_ref(),
            model.orders.get(&id),
            "order {id}"
        );
        assert_eq!(
            store.payload(&id).unwrap().as_ref(),
            model.payloads.get(&id),
            "payload {id}"
        );
        let jobs: Vec<&Job> = model.jobs.values().filter(|j| j.order == id).collect();
        let stored = store.jobs_of(&id).unwrap();
        assert_eq!(stored.iter().collect::<Vec<_>>(), jobs, "jobs of {id}");
        let live: Vec<&Job> = jobs.into_iter().filter(|j| j.is_live()).collect();
        assert_eq!(
            store.live_jobs_of(&id).unwrap().iter().collect::<Vec<_>>(),
            live
        );
    }
    assert_eq!(store.jobs_of(&order_id("3")).unwrap(), []);
    for (key, c) in &model.cancellations {
        assert_eq!(store.cancellation(key).unwrap().as_ref(), Some(c));
    }
    for id in model.job_high.saturating_sub(1)..=model.job_high + 1 {
        assert_eq!(
            store.job(JobId(id)).unwrap().as_ref(),
            model.jobs.get(&JobId(id))
        );
    }
    for id in model.request_high.saturating_sub(1)..=model.request_high + 1 {
        let id = RequestId(id);
        assert_eq!(store.request(id).unwrap().as_ref(), model.requests.get(&id));
    }
    for l in LINKS.map(link) {
        assert_eq!(store.settings(&l).unwrap().as_ref(), model.settings.get(&l));
        assert_eq!(store.link(&l).unwrap().as_ref(), model.links.get(&l));
        for stream in STREAMS {
            let key = (l.clone(), stream.to_string());
            assert_eq!(
                store.watermark(&l, stream).unwrap().as_ref(),
                model.watermarks.get(&key)
            );
        }
    }
    assert_eq!(
        store.links().unwrap(),
        model.links.values().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        store.all_settings().unwrap(),
        model.settings.values().cloned().collect::<Vec<_>>()
    );
    verify_views(store, model, now);
    verify_sorted(store, model, now);
    verify_lists(store, model, now);
    // The full check covers the quick one's checks; reopening runs the quick one.
    let report = store.check(CheckDepth::Full).unwrap();
    assert!(report.is_clean(), "{:#?}", report.problems);
}

fn verify_views(store: &Store, model: &Model, now: Timestamp) {
    let lookup = |l: &LinkId| model.settings_of(l);
    let links = LINKS.map(link);
    for scope in std::iter::once(None).chain(links.iter().map(Some)) {
        let mut counts = BTreeMap::new();
        for view in OrderView::ALL {
            let mut expected: Vec<(i64, &str, &Order)> = model
                .orders
                .values()
                .filter(|o| scope.is_none_or(|l| *l == o.link))
                .filter(|o| is_visible(o, view, &model.settings_of(&o.link), now))
                .flat_map(|o| {
                    views_of(o)
                        .into_iter()
                        .filter(|(v, _)| *v == view)
                        .map(move |(_, sort)| (sort, o.id.as_str(), o))
                })
                .collect();
            expected.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            let expected: Vec<&Order> = expected.into_iter().map(|(_, _, o)| o).collect();
            let query = ViewQuery {
                view,
                link: scope,
                offset: 0,
                limit: 100,
                now,
            };
            let page = store.page_view(&query, &lookup).unwrap();
            assert_eq!(page.total, expected.len(), "{view:?} {scope:?}");
            assert_eq!(
                page.items.iter().collect::<Vec<_>>(),
                expected,
                "{view:?} {scope:?}"
            );
            // Every offset: pages past the first are found by the rank counts.
            for offset in 0..=expected.len() {
                let window = ViewQuery {
                    offset,
                    limit: 2,
                    ..query
                };
                let window = store.page_view(&window, &lookup).unwrap();
                let want: Vec<&Order> = expected.iter().skip(offset).take(2).copied().collect();
                assert_eq!(
                    window.items.iter().collect::<Vec<_>>(),
                    want,
                    "{view:?} {scope:?} window at {offset}"
                );
            }
            counts.insert(view, expected.len());
        }
        assert_eq!(store.counts(scope, now, &lookup).unwrap(), counts);
        for awaiting_seller_only in [false, true] {
            let mut expected: Vec<&Cancellation> = model
                .cancellations
                .values()
                .filter(|c| scope.is_none_or(|l| *l == c.link))
                .filter(|c| !awaiting_seller_only || c.awaits_seller())
                .collect();
            expected.sort_by(|a, b| {
                (cancellation_sort_key(a), &a.key).cmp(&(cancellation_sort_key(b), &b.key))
            });
            let query = CancellationScan {
                link: scope,
                awaiting_seller_only,
                offset: 0,
                limit: 100,
            };
            let page = store.cancellations(&query).unwrap();
            assert_eq!(page.total, expected.len());
            assert_eq!(
                page.items.iter().collect::<Vec<_>>(),
                expected,
                "{scope:?} {awaiting_seller_only}"
            );
        }
    }
}

/// The orders `view` lists in `scope` now, by the model.
fn listed<'m>(
    model: &'m Model,
    view: OrderView,
    scope: Option<&LinkId>,
    now: Timestamp,
) -> Vec<&'m Order> {
    model
        .orders
        .values()
        .filter(|o| scope.is_none_or(|l| *l == o.link))
        .filter(|o| views_of(o).iter().any(|(v, _)| *v == view))
        .filter(|o| is_visible(o, view, &model.settings_of(&o.link), now))
        .collect()
}

/// Every list by one column (the next on each call, so a run goes round them all), both
/// ways, as whole pages, a window at every offset, and filtered: ordered by the column's
/// `sort_value`, ties newest first, then by id.
fn verify_sorted(store: &Store, model: &Model, now: Timestamp) {
    static ROUND: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let round = ROUND.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let column = OrderSort::ALL[round % OrderSort::ALL.len()];
    let lookup = |l: &LinkId| model.settings_of(l);
    let uk2 = link(LINKS[1]);
    for scope in [None, Some(link(LINKS[0]))] {
        for view in OrderView::ALL {
            let mut expected = listed(model, view, scope.as_ref(), now);
            expected.sort_by_key(|o| {
                let newest_first = std::cmp::Reverse(o.tiktok.created_at);
                (sort_value(o, column, view), newest_first, o.id.clone())
            });
            for descending in [false, true] {
                if descending {
                    expected.reverse();
                }
                let order = ListOrder {
                    column: Some(column),
                    descending,
                };
                let what = format!("{view:?} {scope:?} by {column:?} desc {descending}");
                let query = |offset, limit| ViewQuery {
                    view,
                    link: scope.as_ref(),
                    offset,
                    limit,
                    now,
                };
                let total = expected.len();
                let windows = (0..=total).map(|offset| (offset, 2));
                for (offset, limit) in std::iter::once((0, 100)).chain(windows) {
                    let page = store
                        .page_sorted(&query(offset, limit), order, &lookup)
                        .unwrap();
                    let want: Vec<&Order> =
                        expected.iter().skip(offset).take(limit).copied().collect();
                    assert_eq!(page.total, total, "{what}");
                    let at = format!("{what} at {offset}");
                    assert_eq!(page.items.iter().collect::<Vec<_>>(), want, "{at}");
                }
                // A filter whose text check lets more through than it matches.
                let text = |text: &[u8]| memchr::memmem::find(text, b"uk").is_some();
                let of_uk2 = |o: &Order| o.link == uk2;
                let filter = OrderFilter {
                    text: &text,
                    any_text: &text,
                    order: &of_uk2,
                };
                let matching: Vec<&Order> =
                    expected.iter().copied().filter(|o| of_uk2(o)).collect();
                let page = store
                    .page_matching(&query(0, 100), order, &lookup, &filter)
                    .unwrap();
                assert_eq!(page.items.iter().collect::<Vec<_>>(), matching, "{what}");
                assert_eq!(page.total, Some(matching.len()), "{what}");
                let first = store
                    .page_matching(&query(1, 1), order, &lookup, &filter)
                    .unwrap();
                let want: Vec<&Order> = matching.iter().skip(1).take(1).copied().collect();
                assert_eq!(first.items.iter().collect::<Vec<_>>(), want, "{what}");
                assert!(first.total.is_none_or(|t| t == matching.len()), "{what}");
                let counted = store.count_matching(&query(0, 0), &lookup, &filter);
                assert_eq!(counted.unwrap(), matching.len(), "{what}");
            }
        }
    }
}

fn verify_lists(store: &Store, model: &Model, now: Timestamp) {
    let mut due: Vec<&Job> = model
        .jobs
        .values()
        .filter(|j| j.state == JobState::Ready && j.run_after <= now)
        .collect();
    due.sort_by_key(|j| (j.run_after, j.id));
    assert_eq!(
        store.due_jobs(now, 100).unwrap().iter().collect::<Vec<_>>(),
        due
    );
    assert_eq!(
        store.due_jobs(now, 1).unwrap().first(),
        due.first().copied()
    );
    for pending_only in [false, true] {
        let expected: Vec<&ResyncRequest> = model
            .requests
            .values()
            .rev()
            .filter(|r| !pending_only || r.is_pending())
            .collect();
        let page = store.requests(pending_only, 0, 100).unwrap();
        assert_eq!(
            (page.total, page.items.iter().collect::<Vec<_>>()),
            (expected.len(), expected)
        );
    }
    let mut audit: Vec<&AuditEntry> = model.audit.iter().collect();
    audit.sort_by_key(|e| e.at); // stable: insertion order among equal times
    let since = hours(1);
    let since_expected: Vec<&AuditEntry> =
        audit.iter().copied().filter(|e| e.at >= since).collect();
    let since_got: Vec<AuditEntry> = store
        .audit_since(since, 1000)
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    assert_eq!(since_got.iter().collect::<Vec<_>>(), since_expected);
    audit.reverse();
    let newest: Vec<AuditEntry> = store
        .audit_page(None, 1000)
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    assert_eq!(newest.iter().collect::<Vec<_>>(), audit);
}
