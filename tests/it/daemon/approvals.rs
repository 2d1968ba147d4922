//! Approvals end to end: support asks for a resync (one order or a set) with a reason, an
//! operator approves or rejects it (a rejection needs a reason), approved requests run as jobs
//! and their outcome shows on the request; an operator's own resync runs at once, unless
//! `approvals.two_person` is on, and then nobody decides their own request.
//!
//! As root, people are unix users typing `orderdeck resync/approve/reject` against the daemon;
//! otherwise the same steps go to an in-process service as accounts mapped by `[access]`.

use std::sync::Arc;
use std::time::Duration;

use orderdeck::cli::runtime::{Local, close, open_local};
use orderdeck::config::Config;
use orderdeck::domain::audit::{Actor, AuditOutcome};
use orderdeck::domain::clock::SystemClock;
use orderdeck::domain::ids::{RequestId, TiktokOrderId};
use orderdeck::domain::request::{RequestStatus, ResyncFlow, ResyncRequest, TargetOutcome};
use orderdeck::domain::triage::OrderView;
use orderdeck::service::api::{
    AuditQuery, OrderQuery, Request, RequestQuery, Response, ServiceError,
};
use orderdeck::service::client::Client;
use orderdeck::service::identity::Account;
use orderdeck::service::remote::RemoteClient;
use tokio_util::sync::CancellationToken;

use crate::daemon::support::{self, Daemon, Options, Person, Team, eventually};

#[derive(Debug, Clone, Copy)]
enum Who {
    Support,
    Operator,
    /// Another operator (an admin).
    Admin,
}

/// Where the people work: the real daemon as unix users, or an in-process service.
enum Desk {
    Daemon {
        daemon: Daemon,
        team: Team,
        root: Arc<RemoteClient>,
    },
    InProcess {
        /// Keeps the simulated platforms and the temp dir alive.
        _sandbox: Daemon,
        local: Local,
        people: [Actor; 3],
    },
}

impl Desk {
    async fn open(two_person: bool) -> Desk {
        if let Some(team) = support::team() {
            let daemon = Daemon::start(Options {
                two_person,
                ..Options::default()
            })
            .await;
            let root = daemon.client().await;
            return Desk::Daemon { daemon, team, root };
        }
        support::note_single_uid("approvals", "the same steps run in-process");
        let daemon = Daemon::prepare(Options {
            access:
                "support = [\"@od-support\"]\noperator = [\"od-operator\"]\nadmin = [\"od-admin\"]"
                    .into(),
            two_person,
            ..Options::default()
        })
        .await;
        let config = Config::load(&daemon.config).expect("config loads");
        let local = open_local(&config, Arc::new(SystemClock), false).expect("store opens");
        for link in local.engine.links() {
            local.engine.poll_link(link).await;
        }
        let account = |uid, name: &str, groups: &[&str]| Account {
            uid,
            name: name.into(),
            groups: groups.iter().map(ToString::to_string).collect(),
        };
        let people = [
            account(50_002, "pat", &["od-support"]),
            account(50_003, "od-operator", &[]),
            account(50_004, "od-admin", &[]),
        ]
        .map(|a| a.actor(&config.access, None));
        Desk::InProcess {
            _sandbox: daemon,
            local,
            people,
        }
    }

    fn name(&self, who: Who) -> String {
        match self {
            Desk::Daemon { team, .. } => match who {
                Who::Support => team.support.name.clone(),
                Who::Operator => team.operator.name.clone(),
                Who::Admin => "root".into(),
            },
            Desk::InProcess { people, .. } => people[who as usize].user.clone(),
        }
    }

    fn person(team: &Team, who: Who) -> Option<Person> {
        match who {
            Who::Support => Some(team.support.clone()),
            Who::Operator => Some(team.operator.clone()),
            // The test's own user (root).
            Who::Admin => None,
        }
    }

    /// Reads and writes as the admin (state checks).
    async fn call(&self, request: Request) -> Result<Response, ServiceError> {
        match self {
            Desk::Daemon { root, .. } => root.call(request).await,
            Desk::InProcess { local, people, .. } => {
                local
                    .service
                    .handle(&people[Who::Admin as usize], request)
                    .await
            }
        }
    }

    async fn orders(&self, n: usize) -> Vec<TiktokOrderId> {
        if let Desk::Daemon { daemon, root, .. } = self {
            return daemon.orders(&**root, n).await;
        }
        match self
            .call(Request::Orders(OrderQuery::first_page(OrderView::All, 500)))
            .await
        {
            Ok(Response::Orders(page)) => {
                assert!(page.rows.len() >= n, "{} orders stored", page.rows.len());
                page.rows.into_iter().map(|r| r.id).collect()
            }
            other => panic!("orders: {other:?}"),
        }
    }

    /// `orderdeck resync … --flow import --reason …` as `who`: the request and whether it runs.
    async fn resync(
        &self,
        who: Who,
        orders: &[TiktokOrderId],
        reason: &str,
    ) -> Result<(RequestId, bool), String> {
        match self {
            Desk::Daemon { daemon, team, .. } => {
                let mut args = vec!["resync".to_string()];
                args.extend(orders.iter().map(ToString::to_string));
                args.extend(["--flow", "import", "--reason", reason].map(String::from));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = daemon.cli(Desk::person(team, who).as_ref(), &args).await;
                if !out.status.success() {
                    return Err(support::stderr(&out));
                }
                let text = support::stdout(&out);
                // Through the daemon: never the in-process note.
                assert!(!text.contains("no daemon is running"), "{text}");
                let id = text
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix('R').and_then(|n| n.parse().ok()))
                    .unwrap_or_else(|| panic!("no request id in {text:?}"));
                Ok((RequestId(id), text.contains("approved and running")))
            }
            Desk::InProcess { local, people, .. } => {
                let request = Request::Resync {
                    orders: orders.to_vec(),
                    flow: ResyncFlow::Import,
                    reason: reason.into(),
                };
                match local.service.handle(&people[who as usize], request).await {
                    Ok(Response::Resync(outcome)) => Ok((outcome.request, outcome.running)),
                    Ok(other) => panic!("resync: {other:?}"),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    /// `orderdeck approve R` / `orderdeck reject R --reason …` as `who`.
    async fn decide(
        &self,
        who: Who,
        id: RequestId,
        reject: Option<&str>,
    ) -> Result<String, String> {
        match self {
            Desk::Daemon { daemon, team, .. } => {
                let id = id.to_string();
                let args = match reject {
                    None => vec!["approve", &id],
                    Some(reason) => vec!["reject", &id, "--reason", reason],
                };
                let out = daemon.cli(Desk::person(team, who).as_ref(), &args).await;
                if out.status.success() {
                    Ok(support::stdout(&out))
                } else {
                    Err(support::stderr(&out))
                }
            }
            Desk::InProcess { local, people, .. } => {
                let request = Request::Decide {
                    request: id,
                    approve: reject.is_none(),
                    reason: reject.map(String::from),
                };
                match local.service.handle(&people[who as usize], request).await {
                    Ok(Response::Done { message }) => Ok(message),
                    Ok(other) => panic!("decide: {other:?}"),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    async fn request(&self, id: RequestId) -> ResyncRequest {
        let query = Request::Requests(RequestQuery {
            pending_only: false,
            offset: 0,
            limit: 500,
            sort: Default::default(),
        });
        match self.call(query).await {
            Ok(Response::Requests(page)) => page
                .rows
                .into_iter()
                .find(|r| r.id == id)
                .unwrap_or_else(|| panic!("{id} is not listed")),
            other => panic!("requests: {other:?}"),
        }
    }

    /// Waits until `id` has finished, running jobs in-process when there is no daemon.
    async fn finished(&self, id: RequestId) -> ResyncRequest {
        eventually(Duration::from_secs(30), "the request to finish", || async {
            if let Desk::InProcess { local, .. } = self {
                let engine = local.engine.clone();
                engine
                    .run_jobs(CancellationToken::new(), Some(Duration::ZERO))
                    .await;
            }
            let request = self.request(id).await;
            matches!(request.status, RequestStatus::Finished { .. }).then_some(request)
        })
        .await
    }

    async fn close(self) {
        if let Desk::InProcess { local, .. } = self {
            close(Some(local));
        }
    }
}

fn every_target_has_an_outcome(request: &ResyncRequest) {
    for target in &request.targets {
        assert!(
            matches!(
                request.outcomes.get(target),
                Some(TargetOutcome::Succeeded { .. } | TargetOutcome::Failed { .. })
            ),
            "{target}: {:?}",
            request.outcomes
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_asks_an_operator_decides_and_the_outcome_shows_on_the_request() {
    let desk = Desk::open(false).await;
    let orders = desk.orders(4).await;

    // Support asks for a set of orders: it waits for an operator, with the reason.
    let (asked, running) = desk
        .resync(
            Who::Support,
            &orders[0..2],
            "buyer says the order never arrived",
        )
        .await
        .expect("support may ask");
    assert!(!running);
    let pending = desk.request(asked).await;
    assert_eq!(pending.status, RequestStatus::Pending);
    assert_eq!(pending.targets, orders[0..2]);
    assert_eq!(pending.reason, "buyer says the order never arrived");
    assert_eq!(pending.requested_by.user, desk.name(Who::Support));
    if let Desk::Daemon { daemon, team, .. } = &desk {
        // Everyone with a role sees what waits: `orderdeck requests` as the viewer.
        let out = daemon
            .cli(Some(&team.viewer), &["requests", "--json"])
            .await;
        let listed: Vec<ResyncRequest> = serde_json::from_str(&support::stdout(&out))
            .unwrap_or_else(|e| panic!("{e}: {}", support::stderr(&out)));
        assert!(listed.iter().any(|r| r.id == asked), "{listed:?}");
    }

    // One order alone, rejected: a rejection needs a reason the requester will see.
    let (other, _) = desk
        .resync(Who::Support, &orders[2..3], "double-check the import")
        .await
        .unwrap();
    let bare = Request::Decide {
        request: other,
        approve: false,
        reason: None,
    };
    let refused = desk.call(bare).await;
    assert!(
        matches!(&refused, Err(ServiceError::Invalid { message }) if message.contains("needs a reason")),
        "{refused:?}"
    );
    desk.decide(
        Who::Operator,
        other,
        Some("already imported, see the store"),
    )
    .await
    .expect("an operator may reject");
    match desk.request(other).await.status {
        RequestStatus::Rejected { by, reason, .. } => {
            assert_eq!(by.user, desk.name(Who::Operator));
            assert_eq!(reason, "already imported, see the store");
        }
        status => panic!("{status:?}"),
    }

    // Approved: it runs as jobs, and each target's outcome lands on the request.
    let said = desk
        .decide(Who::Operator, asked, None)
        .await
        .expect("an operator may approve");
    assert!(
        said.contains(&format!("request {asked} approved")),
        "{said}"
    );
    let done = desk.finished(asked).await;
    every_target_has_an_outcome(&done);
    match &done.status {
        RequestStatus::Finished { approved_by, .. } => {
            assert_eq!(approved_by.user, desk.name(Who::Operator))
        }
        status => panic!("{status:?}"),
    }
    // Decided once: a second decision is refused as stale.
    let again = desk.decide(Who::Admin, asked, None).await.unwrap_err();
    assert!(again.contains("no longer pending"), "{again}");

    // An operator's own resync runs at once.
    let (own, running) = desk
        .resync(
            Who::Operator,
            &orders[3..4],
            "store order was deleted by mistake",
        )
        .await
        .unwrap();
    assert!(running, "without two_person an operator's own resync runs");
    every_target_has_an_outcome(&desk.finished(own).await);
    desk.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_person_approvals_nobody_decides_their_own_request() {
    let desk = Desk::open(true).await;
    let orders = desk.orders(2).await;
    let (own, running) = desk
        .resync(
            Who::Operator,
            &orders[0..1],
            "tracking never reached TikTok",
        )
        .await
        .unwrap();
    assert!(!running, "two_person: even an operator's resync waits");
    for reject in [None, Some("changed my mind")] {
        let refused = desk.decide(Who::Operator, own, reject).await.unwrap_err();
        assert!(
            refused.contains("refused") && refused.contains("is yours"),
            "{refused}"
        );
    }
    assert_eq!(desk.request(own).await.status, RequestStatus::Pending);
    // The refusals are audited as such.
    let audit = match desk
        .call(Request::Audit(AuditQuery {
            since: None,
            filter: Some(own.to_string()),
            offset: 0,
            limit: 50,
            sort: Default::default(),
        }))
        .await
    {
        Ok(Response::Audit(page)) => page.rows,
        other => panic!("audit: {other:?}"),
    };
    let refusals = audit
        .iter()
        .filter(|e| {
            e.actor.user == desk.name(Who::Operator)
                && matches!(&e.outcome, AuditOutcome::Refused { why } if why.contains("is yours"))
        })
        .count();
    assert_eq!(refusals, 2, "{audit:#?}");

    // Another operator approves it, and it runs.
    desk.decide(Who::Admin, own, None)
        .await
        .expect("a second person approves");
    let done = desk.finished(own).await;
    every_target_has_an_outcome(&done);
    // The admin's own request waits as well.
    let (admins, running) = desk
        .resync(Who::Admin, &orders[1..2], "re-create after a store restore")
        .await
        .unwrap();
    assert!(!running);
    assert_eq!(desk.request(admins).await.status, RequestStatus::Pending);
    desk.close().await;
}
