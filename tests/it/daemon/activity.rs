//! The Activity view pages through the whole audit log, not just its newest entries: audit
//! entries and engine events are merged by time at any depth, filtered or not.

use orderdeck::domain::audit::{Actor, AuditEntry, AuditOutcome};
use orderdeck::domain::clock::{Clock, SystemClock};
use orderdeck::engine::activity::Level;
use orderdeck::service::api::{ActivityItem, AuditQuery, Request, Response};
use orderdeck::service::client::Client;
use orderdeck::store::Change;

use crate::daemon::support::Daemon;

/// More than one service page (500) of audit entries.
const ENTRIES: usize = 600;

async fn page(
    client: &dyn Client,
    filter: Option<&str>,
    offset: usize,
) -> (usize, Vec<ActivityItem>) {
    match client
        .call(Request::Activity(AuditQuery {
            since: None,
            filter: filter.map(str::to_string),
            offset,
            limit: 50,
            sort: Default::default(),
        }))
        .await
    {
        Ok(Response::Activity(page)) => (page.total, page.rows),
        other => panic!("{other:?}"),
    }
}

/// The entry numbers of the audit rows, in the order shown.
fn numbers(rows: &[ActivityItem]) -> Vec<usize> {
    rows.iter()
        .map(|r| {
            assert_eq!(r.source, "audit", "{r:?}");
            let n = r.text.split("entry-").nth(1).expect("an entry number");
            n.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_activity_pages_still_show_the_audit_log() {
    let (_sandbox, local, client) = Daemon::viewer_in_process().await;
    // Engine events (now) are newer than every planted audit entry (2020).
    for i in 0..3 {
        local.engine.activity().record(
            SystemClock.now(),
            Level::Warn,
            None,
            None,
            format!("engine event {i}"),
        );
    }
    let start = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let audit = (0..ENTRIES)
        .map(|i| {
            AuditEntry::new(
                start + chrono::Duration::minutes(i as i64),
                Actor::engine(),
                "bulk.test",
                vec![format!("entry-{i}")],
                AuditOutcome::Ok { detail: None },
            )
        })
        .collect();
    local
        .engine
        .store()
        .apply(&Change {
            audit,
            ..Change::default()
        })
        .expect("audit written");
    let (total, first) = page(client.as_ref(), None, 0).await;
    let engine_events = total - ENTRIES;
    assert!(engine_events >= 3, "engine events and audit: {total}");
    assert!(
        first[..engine_events].iter().all(|r| r.source == "engine"),
        "{first:?}"
    );

    // The oldest 50 audit entries, past the first 500 of the log.
    let (_, deepest) = page(client.as_ref(), None, engine_events + ENTRIES - 50).await;
    assert_eq!(numbers(&deepest), (0..50).rev().collect::<Vec<_>>());

    // Filtered to the audit entries, the same depth is reached by offset alone.
    let (matching, filtered) = page(client.as_ref(), Some("bulk.test"), ENTRIES - 50).await;
    assert_eq!(matching, ENTRIES);
    assert_eq!(numbers(&filtered), (0..50).rev().collect::<Vec<_>>());
}
