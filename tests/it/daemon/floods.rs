//! Floods through the socket, against a daemon served from this process (see `hostile`): huge
//! or repeated refused requests cost the audit log a few small entries, huge entries stored
//! before that cannot hide the audit log from `orderdeck audit`, filters are bounded, and heavy
//! filtered reads leave a plain page answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use orderdeck::domain::audit::{Actor, AuditEntry, AuditOutcome};
use orderdeck::domain::clock::{Clock, SystemClock};
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::request::ResyncFlow;
use orderdeck::domain::triage::OrderView;
use orderdeck::service::api::{
    AuditQuery, CancellationQuery, OrderColumn, OrderQuery, Request, Response, ServiceError,
    SortDir,
};
use orderdeck::service::client::Client;
use orderdeck::service::remote::RemoteClient;
use orderdeck::service::socket::SocketLimits;
use orderdeck::store::{Change, Store};
use serde_json::Value;

use crate::daemon::hostile::{Server, open_here, viewer};
use crate::daemon::support::{eventually, stderr, stdout};

const MAX_LINE: usize = 1024 * 1024;

/// The audit log's entries and their size as JSON.
fn audit_size(store: &Store) -> (usize, usize) {
    let records = store.audit_page(None, usize::MAX).expect("audit readable");
    let bytes = records
        .iter()
        .map(|r| serde_json::to_vec(&r.entry).unwrap().len())
        .sum();
    (records.len(), bytes)
}

fn resync(order: &TiktokOrderId, reason: String) -> Request {
    Request::Resync {
        orders: vec![order.clone()],
        flow: ResyncFlow::Tracking,
        reason,
    }
}

/// 40 refused resyncs with 1 MB reasons grew the data dir by 95 MB before. Now the size check
/// stores none of the text, and past 10 entries a minute a peer's refusals are counted: 80 of
/// them become 10 entries and one with the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refusals_costs_the_audit_log_a_few_small_entries() {
    let (daemon, local) = open_here(viewer(), 2).await;
    let store = local.engine.store().clone();
    let server = Server::start(
        &daemon.socket,
        local.service.clone(),
        SocketLimits::default(),
    )
    .await;
    let (client, _) = RemoteClient::connect(&daemon.socket)
        .await
        .expect("connects");
    let order = TiktokOrderId::new(daemon.set.scenario.orders[0].id.clone()).unwrap();
    let before = audit_size(&store);

    let mut answers = Vec::new();
    // Each line just under the message limit.
    for _ in 0..40 {
        answers.push(client.call(resync(&order, "x".repeat(1_000_000))).await);
    }
    for n in 0..40 {
        answers.push(client.call(resync(&order, format!("flood {n}"))).await);
    }
    let after = audit_size(&store);
    let grown = (after.0 - before.0, after.1 - before.1);
    assert!(
        grown.0 <= 10 && grown.1 <= 8 * 1024,
        "the audit log grew by {} entries, {} bytes",
        grown.0,
        grown.1
    );
    for answer in &answers[..40] {
        assert!(
            matches!(answer, Err(ServiceError::Invalid { message })
                if message.contains("reason is 1000000 characters long; at most 500")),
            "{answer:?}"
        );
    }
    for answer in &answers[40..] {
        assert!(
            matches!(answer, Err(ServiceError::Refused { .. })),
            "{answer:?}"
        );
    }

    // Stopping writes the count still pending (else written when the minute is over).
    drop(client);
    server.stop().await;
    let entries = store.audit_page(None, usize::MAX).unwrap();
    assert_eq!(entries.len() - before.0, 11);
    let summary = &entries[0].entry;
    assert_eq!(summary.action, "refusals.counted");
    let AuditOutcome::Refused { why } = &summary.outcome else {
        panic!("{summary:?}");
    };
    assert!(
        why.contains("70 more refusal(s)") && why.contains("resync.request ×70"),
        "{why}"
    );
}

/// Entries as daemons before the size checks stored them (1 MiB reasons): the answer to one
/// page of them was 42 MB, more than a message may hold, so `orderdeck audit` failed. Now
/// pages stop before the limit and long texts are cut, visibly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orderdeck_audit_pages_through_huge_entries() {
    let (daemon, local) = open_here(viewer(), 2).await;
    let store = local.engine.store().clone();
    let mallory = Actor {
        user: "mallory".into(),
        uid: 4242,
        role: None,
        from: None,
    };
    for n in 0..40 {
        let entry = AuditEntry::new(
            SystemClock.now(),
            mallory.clone(),
            "resync.request",
            vec![format!("57600000000000{n:04}")],
            AuditOutcome::Refused {
                why: "no role".into(),
            },
        )
        .with_reason(Some(format!("huge-{n}:{}", "x".repeat(MAX_LINE))));
        store
            .apply(&Change {
                audit: vec![entry],
                ..Change::default()
            })
            .unwrap();
    }
    let server = Server::start(
        &daemon.socket,
        local.service.clone(),
        SocketLimits::default(),
    )
    .await;

    let json = daemon.cli(None, &["audit", "--json"]).await;
    assert!(json.status.success(), "{}", stderr(&json));
    let entries: Vec<Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 40, "every entry once");
    for (n, entry) in entries.iter().rev().enumerate() {
        let reason = entry["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("huge-{n}:")),
            "{}",
            &reason[..20]
        );
        assert!(reason.ends_with("more characters not shown)"), "entry {n}");
    }
    let table = daemon.cli(None, &["audit"]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    assert_eq!(stdout(&table).matches("mallory").count(), 40);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_are_bounded_in_size_and_terms_with_the_limit_named() {
    let (daemon, local) = open_here(viewer(), 2).await;
    let server = Server::start(
        &daemon.socket,
        local.service.clone(),
        SocketLimits::default(),
    )
    .await;
    let (client, _) = RemoteClient::connect(&daemon.socket)
        .await
        .expect("connects");
    let orders = |filter: String| {
        Request::Orders(OrderQuery {
            filter: Some(filter),
            ..OrderQuery::first_page(OrderView::All, 50)
        })
    };
    let huge = vec!["x"; 200_000].join(" ");
    let terms = vec!["x"; 17].join(" ");
    let audit = |filter: &str| AuditQuery {
        since: None,
        filter: Some(filter.to_string()),
        offset: 0,
        limit: 50,
        sort: Default::default(),
    };
    let cases = [
        (
            orders(huge.clone()),
            "the filter is 399999 bytes long; at most 512",
        ),
        (orders(terms.clone()), "the filter has 17 terms; at most 16"),
        (Request::Audit(audit(&terms)), "at most 16"),
        (Request::Activity(audit(&huge)), "at most 512"),
        (
            Request::Cancellations(CancellationQuery {
                link: None,
                filter: Some(terms),
                waiting_only: false,
                offset: 0,
                limit: 50,
                sort: Default::default(),
            }),
            "at most 16",
        ),
    ];
    for (request, said) in cases {
        let answer = client.call(request).await;
        assert!(
            matches!(&answer, Err(ServiceError::Invalid { message }) if message.contains(said)),
            "{answer:?}"
        );
    }
    // A filter a person types is fine.
    let answer = client.call(orders("status:awaiting".into())).await;
    assert!(matches!(answer, Ok(Response::Orders(_))), "{answer:?}");
    server.stop().await;
}

/// Orders the heavy reads walk, each decoded and matched.
const SEEDED: usize = 3_000;

/// 16 heavy filtered reads (the longest filter allowed, over every order, re-sorted) and then a
/// plain page: the plain page is answered while heavy reads are still waiting, where before it
/// waited for every one of them (they ran on the threads that answer everyone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_filters_leave_a_plain_page_answered() {
    let (daemon, local) = open_here(viewer(), 4).await;
    for link in local.engine.links() {
        local.engine.poll_link(link).await;
    }
    let store = local.engine.store().clone();
    let base = daemon
        .set
        .scenario
        .orders
        .iter()
        .find_map(|o| store.order(&TiktokOrderId::new(o.id.clone()).ok()?).ok()?)
        .expect("an order polled");
    let copies: Vec<_> = (0..SEEDED)
        .map(|n| {
            let mut order = base.clone();
            order.id = TiktokOrderId::new(format!("9{n:017}")).unwrap();
            order
        })
        .collect();
    for chunk in copies.chunks(500) {
        store
            .apply(&Change {
                orders: chunk.to_vec(),
                ..Change::default()
            })
            .unwrap();
    }
    let server = Server::start(
        &daemon.socket,
        local.service.clone(),
        SocketLimits::default(),
    )
    .await;
    let (heavy_client, _) = RemoteClient::connect(&daemon.socket)
        .await
        .expect("connects");
    let (plain_client, _) = RemoteClient::connect(&daemon.socket)
        .await
        .expect("connects");
    let link = base.link.to_string();
    // A filtered page answers once it is full; its count reads every matching order.
    let heavy = Request::OrderCount(OrderQuery {
        filter: Some(vec![link.as_str(); 16].join(" ")),
        sort: OrderColumn::Id,
        dir: SortDir::Desc,
        ..OrderQuery::first_page(OrderView::All, 50)
    });

    let finished = Arc::new(AtomicUsize::new(0));
    let heavies = tokio::spawn({
        let finished = finished.clone();
        async move {
            let mut calls: FuturesUnordered<_> =
                (0..16).map(|_| heavy_client.call(heavy.clone())).collect();
            while let Some(answer) = calls.next().await {
                match answer {
                    Ok(Response::OrderCount { total }) => assert!(total > SEEDED, "{total}"),
                    other => panic!("{other:?}"),
                }
                finished.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    // Once one heavy read is answered, the daemon is busy with the others.
    eventually(Duration::from_secs(60), "a heavy read answered", || async {
        (finished.load(Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    let plain = plain_client
        .call(Request::Orders(OrderQuery::first_page(OrderView::All, 50)))
        .await;
    let heavy_done = finished.load(Ordering::SeqCst);
    assert!(matches!(plain, Ok(Response::Orders(_))), "{plain:?}");
    assert!(
        heavy_done < 16,
        "the plain page was answered only after all {heavy_done} heavy reads"
    );
    heavies.await.expect("every heavy read is answered");
    eprintln!("plain page answered after {heavy_done} of 16 heavy reads");
    server.stop().await;
}
