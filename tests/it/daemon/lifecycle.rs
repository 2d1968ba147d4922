//! The daemon's life: one per socket (a second `serve` is refused with a clear error), a clean
//! stop on SIGTERM (exit 0, socket removed, store closed so the next open finds no crash), and a
//! crash (SIGKILL) that loses nothing: pending requests stay pending, jobs that were running are
//! released and run after the restart, whose stale socket is replaced. With no daemon, commands
//! open the store themselves and say that queued jobs wait for the next sync.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use orderdeck::domain::ids::{JobId, TiktokOrderId};
use orderdeck::domain::job::JobState;
use orderdeck::domain::request::{RequestStatus, ResyncFlow};
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::service::api::{Request, RequestQuery, Response};
use orderdeck::service::client::{Client, ClientEvent};
use orderdeck::store::{CheckDepth, Store};

use crate::daemon::support::{self, Daemon, Options, eventually};

/// Every job of `orders` with its state, as the daemon reports them.
async fn jobs(client: &dyn Client, orders: &[TiktokOrderId]) -> BTreeMap<JobId, JobState> {
    let mut all = BTreeMap::new();
    for id in orders {
        match client.call(Request::Order { id: id.clone() }).await {
            Ok(Response::Order(detail)) => {
                all.extend(detail.jobs.into_iter().map(|j| (j.id, j.state)));
            }
            other => panic!("order {id}: {other:?}"),
        }
    }
    all
}

fn live(state: &JobState) -> bool {
    matches!(state, JobState::Ready | JobState::Running { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_and_a_second_daemon_is_refused() {
    let mut daemon = Daemon::start(Options::default()).await;
    let client = daemon.client().await;
    let mut events = client.events();
    let orders = daemon.orders(&*client, 3).await;

    // The socket: 0660 in a 0750 directory, both given to the socket group.
    let socket = std::fs::metadata(&daemon.socket).unwrap();
    let dir = std::fs::metadata(daemon.socket.parent().unwrap()).unwrap();
    assert!(socket.file_type().is_socket());
    assert_eq!(socket.permissions().mode() & 0o777, 0o660);
    assert_eq!(dir.permissions().mode() & 0o777, 0o750);
    if let Some(team) = &daemon.team {
        let gid = nix::unistd::Group::from_name(&team.group)
            .unwrap()
            .unwrap()
            .gid
            .as_raw();
        assert_eq!((socket.gid(), dir.gid()), (gid, gid));
    }

    // A second daemon on the same config is refused, clearly, and leaves the first one be.
    let second = tokio::process::Command::from(daemon.serve_command())
        .output()
        .await
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let said = support::stderr(&second);
    assert!(
        said.contains("another orderdeck daemon is already serving")
            && said.contains("orderdeck.sock"),
        "{said}"
    );
    assert!(matches!(
        client.call(Request::Overview).await,
        Ok(Response::Overview(_))
    ));

    let started = Instant::now();
    let status = daemon.stop_with(Signal::SIGTERM).await;
    let took = started.elapsed();
    eprintln!("SIGTERM to exit: {} ms", took.as_millis());
    assert_eq!(status.code(), Some(0), "{}", daemon.log(1));
    assert!(!daemon.socket.exists(), "the socket is removed");
    let log = daemon.log(1);
    assert!(log.contains("store closed cleanly"), "{log}");
    // The connected client was told.
    let told = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(ClientEvent::Disconnected { .. }) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(told.is_ok(), "the client saw the daemon go");
    drop(client);

    // The next open finds a clean shutdown: quick check, nothing to release.
    let store = Store::open(daemon.data_dir.join("store")).expect("the store opens");
    assert_eq!(store.open_report().integrity.depth, CheckDepth::Quick);
    assert!(store.open_report().released_jobs.is_empty());
    store.close().unwrap();

    // No daemon: the command opens the store itself and says when its jobs will run.
    let mut args = vec!["resync".to_string()];
    args.extend(orders.iter().map(ToString::to_string));
    args.extend(["--flow", "import", "--reason", "re-create after restore"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = daemon.cli_as_owner(&args).await;
    assert!(out.status.success(), "{}", support::stderr(&out));
    let text = support::stdout(&out);
    assert!(text.contains("approved and running"), "{text}");
    assert!(
        text.contains("no daemon is running: the job(s) run at the next `orderdeck sync --once`"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_pending_request_and_no_queued_job() {
    // Two-person mode, so the test user's own resync stays pending whatever its role.
    let mut daemon = Daemon::prepare(Options {
        two_person: true,
        ..Options::default()
    })
    .await;
    // A slow store: imports are claimed (Running) and wait on it when the daemon dies.
    daemon
        .set
        .shopify
        .faults()
        .sometimes("*", FaultKind::Latency(Duration::from_secs(4)), 1.0);
    daemon.spawn().await;
    let client = daemon.client().await;
    let orders = daemon.orders(&*client, 5).await;
    let request = match client
        .call(Request::Resync {
            orders: orders[0..2].to_vec(),
            flow: ResyncFlow::Import,
            reason: "check before the crash".into(),
        })
        .await
    {
        Ok(Response::Resync(outcome)) if !outcome.running => outcome.request,
        other => panic!("{other:?}"),
    };
    let before = eventually(Duration::from_secs(20), "a running job", || async {
        let jobs = jobs(&*client, &orders).await;
        jobs.values()
            .any(|s| matches!(s, JobState::Running { .. }))
            .then_some(jobs)
    })
    .await;
    let running = before
        .values()
        .filter(|s| matches!(s, JobState::Running { .. }))
        .count();
    let queued: Vec<JobId> = before
        .iter()
        .filter(|(_, s)| live(s))
        .map(|(id, _)| *id)
        .collect();
    drop(client);

    let status = daemon.stop_with(Signal::SIGKILL).await;
    assert_eq!(status.signal(), Some(9));
    assert!(daemon.socket.exists(), "a crash leaves its socket behind");
    daemon.set.shopify.faults().clear();
    daemon.spawn().await;

    // The restart replaced the stale socket, noticed the crash and released the jobs.
    let log = daemon.log(2);
    assert!(log.contains("replacing a stale socket"), "{log}");
    assert!(log.contains("integrity=Full"), "{log}");
    let released: usize = log
        .split("released_jobs=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        released >= running,
        "released {released}, {running} were running"
    );

    let client = daemon.client().await;
    let pending = match client
        .call(Request::Requests(RequestQuery {
            pending_only: true,
            offset: 0,
            limit: 50,
            sort: Default::default(),
        }))
        .await
    {
        Ok(Response::Requests(page)) => page.rows,
        other => panic!("{other:?}"),
    };
    let kept = pending
        .iter()
        .find(|r| r.id == request)
        .expect("still there");
    assert_eq!(kept.status, RequestStatus::Pending);
    assert_eq!(kept.reason, "check before the crash");
    // Every job that was queued or running ran to an end.
    let after = eventually(
        Duration::from_secs(30),
        "the released jobs to run",
        || async {
            let jobs = jobs(&*client, &orders).await;
            queued
                .iter()
                .all(|id| jobs.get(id).is_some_and(|s| !live(s)))
                .then_some(jobs)
        },
    )
    .await;
    eprintln!(
        "SIGKILL with {running} running and {} queued job(s): all ran after the restart ({:?})",
        queued.len(),
        queued.iter().map(|id| &after[id]).collect::<Vec<_>>()
    );
}
