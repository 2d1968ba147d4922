//! One client's action is seen by another within one second: a subscribed client is told what
//! changed (with a generation number) and re-asks. This is the behaviour bound, the one
//! time bound in these tests; the figures are printed for the record.

use std::time::{Duration, Instant};

use orderdeck::domain::request::RequestStatus;
use orderdeck::service::api::{Notification, Request, RequestQuery, Response};
use orderdeck::service::client::{Client, ClientEvent};
use tokio::sync::broadcast;

use crate::daemon::support::{self, Daemon, Options};

/// The requirement: another client sees a change within one second.
const SEEN_WITHIN: Duration = Duration::from_secs(1);

/// Waits for the next `Requests` notification; returns when it came and its generation.
async fn next_requests_change(events: &mut broadcast::Receiver<ClientEvent>) -> (Instant, u64) {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(ClientEvent::Changed(Notification::Requests { generation })) => {
                    return (Instant::now(), generation);
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => panic!("events closed"),
            }
        }
    };
    // Far beyond the bound: only keeps a broken daemon from hanging the test.
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a Requests notification")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_by_one_client_reaches_a_subscribed_client_within_a_second() {
    let team = support::team();
    if team.is_none() {
        support::note_single_uid("notify", "the other client is a command of the same user");
    }
    let daemon = Daemon::start(Options::default()).await;
    let watcher = daemon.client().await;
    let mut events = watcher.events();
    assert_eq!(
        watcher.call(Request::Subscribe).await,
        Ok(Response::Subscribed)
    );
    let orders = daemon.orders(&*watcher, 2).await;
    let before = match watcher.call(Request::Overview).await {
        Ok(Response::Overview(o)) => o.generation,
        other => panic!("{other:?}"),
    };

    // Another user's command: from starting the process to the watcher being told.
    let actor = team.as_ref().map(|t| &t.support);
    let id = orders[0].to_string();
    let args = [
        "resync",
        &id,
        "--flow",
        "tracking",
        "--reason",
        "buyer asked twice",
    ];
    let started = Instant::now();
    let (out, (seen_at, generation)) =
        tokio::join!(daemon.cli(actor, &args), next_requests_change(&mut events));
    assert!(out.status.success(), "{}", support::stderr(&out));
    let from_command = seen_at - started;
    assert!(generation > before, "{generation} after {before}");

    // The watcher re-asks and sees the new request, by the other user.
    let page = match watcher
        .call(Request::Requests(RequestQuery {
            pending_only: false,
            offset: 0,
            limit: 50,
            sort: Default::default(),
        }))
        .await
    {
        Ok(Response::Requests(page)) => page,
        other => panic!("{other:?}"),
    };
    let newest = page.rows.iter().max_by_key(|r| r.id).expect("a request");
    let expected_user = match &team {
        Some(t) => t.support.name.clone(),
        None => support::current_user(),
    };
    assert_eq!(newest.requested_by.user, expected_user);
    if team.is_some() {
        assert_eq!(newest.status, RequestStatus::Pending);
    }

    // The same over two connections of one process: the daemon's own share of the delay.
    let other = daemon.client().await;
    let started = Instant::now();
    let (answer, (seen_at, _)) = tokio::join!(
        other.call(Request::Resync {
            orders: vec![orders[1].clone()],
            flow: orderdeck::domain::request::ResyncFlow::Tracking,
            reason: "second look".into(),
        }),
        next_requests_change(&mut events)
    );
    assert!(answer.is_ok(), "{answer:?}");
    let client_to_client = seen_at - started;
    eprintln!(
        "notification latency: {from_command:?} from starting another user's command, {client_to_client:?} from another connection's request"
    );
    assert!(from_command < SEEN_WITHIN, "seen after {from_command:?}");
    assert!(
        client_to_client < SEEN_WITHIN,
        "seen after {client_to_client:?}"
    );
}
