//! Each role may do exactly what it should (a table over roles × mutations), a refusal names
//! the role that is missing, and every refusal is in the audit log with who, uid and from where.
//! As root the callers are real unix users talking to the real daemon; otherwise the same
//! mapping (account → `[access]` → role → `Service::handle`) runs in-process.

use std::sync::Arc;

use orderdeck::cli::runtime::{close, open_local};
use orderdeck::config::Config;
use orderdeck::domain::audit::{Actor, AuditEntry, AuditOutcome};
use orderdeck::domain::clock::SystemClock;
use orderdeck::domain::ids::{CancelId, LinkId, RequestId, TiktokOrderId};
use orderdeck::domain::request::ResyncFlow;
use orderdeck::service::Service;
use orderdeck::service::api::{AuditQuery, Request, Response, ServiceError};
use orderdeck::service::client::Client;
use orderdeck::service::identity::Account;

use crate::daemon::support::{self, Daemon, Options, Person, SSH_FROM};

/// The mutations, each with its audit action and the least role allowed to ask for it.
const MUTATIONS: [(&str, &str); 7] = [
    ("resync", "resync.request"),
    ("decide", "request.approve"),
    ("respond to a buyer cancel", "cancel.approve"),
    ("reprint a label", "label.reprint"),
    ("retry stuck jobs", "job.retry"),
    ("edit link settings", "settings.set"),
    ("sync now", "sync.run"),
];

/// Who may: (viewer, support, operator, admin, no role), in the order of [`MUTATIONS`].
const ALLOWED: [[bool; 5]; 7] = [
    [false, true, true, true, false],
    [false, false, true, true, false],
    [false, false, true, true, false],
    [false, true, true, true, false],
    [false, true, true, true, false],
    [false, false, true, true, false],
    [false, false, true, true, false],
];

/// The role a refusal must name for each mutation.
const NEEDED: [&str; 7] = [
    "support", "operator", "operator", "support", "support", "operator", "operator",
];

fn requests(order: &TiktokOrderId, link: &LinkId, settings_version: u64) -> Vec<Request> {
    // Targets that do not exist where that is enough to pass (or fail) the role gate: the
    // table is about the gate; the approvals tests cover what allowed requests do.
    let ghost = TiktokOrderId::new("1").unwrap();
    vec![
        Request::Resync {
            orders: vec![order.clone()],
            flow: ResyncFlow::Tracking,
            reason: "customer says tracking is missing".into(),
        },
        Request::Decide {
            request: RequestId(999_999),
            approve: true,
            reason: None,
        },
        Request::RespondBuyerCancel {
            cancel_id: CancelId::new("no-such-cancel").unwrap(),
            approve: true,
            reject_reason: None,
            comment: None,
        },
        Request::ReprintLabel {
            order: ghost.clone(),
            print: false,
        },
        Request::RetryStuck {
            orders: vec![ghost],
            reason: Some("SKU added to the store".into()),
        },
        Request::SetSettings {
            link: link.clone(),
            changes: vec![("restock_on_cancel".into(), "off".into())],
            expected_version: settings_version,
            reason: Some("warehouse restocks by hand".into()),
        },
        Request::SyncNow { link: None },
    ]
}

/// Checks one caller's answers against its column of [`ALLOWED`]; returns the refused actions.
fn check_column(
    who: &str,
    column: usize,
    answers: &[Result<Response, ServiceError>],
) -> Vec<&'static str> {
    let mut refused = Vec::new();
    for (row, answer) in answers.iter().enumerate() {
        let (name, action) = MUTATIONS[row];
        let allowed = ALLOWED[row][column];
        match answer {
            Err(ServiceError::Refused { message }) => {
                assert!(!allowed, "{who} was refused to {name}: {message}");
                assert!(
                    message.contains(&format!("{} and above", NEEDED[row]))
                        || message.contains(&format!("you need {}", NEEDED[row])),
                    "{who}, {name}: the refusal must name the missing role: {message}"
                );
                refused.push(action);
            }
            other => assert!(allowed, "{who} was allowed to {name}: {other:?}"),
        }
    }
    refused
}

fn audited_refusal<'a>(
    audit: &'a [AuditEntry],
    user: &str,
    action: &str,
) -> Option<&'a AuditEntry> {
    audit.iter().find(|e| {
        e.actor.user == user
            && e.action == action
            && matches!(e.outcome, AuditOutcome::Refused { .. })
    })
}

async fn audit_of(client: &dyn Client) -> Vec<AuditEntry> {
    match client
        .call(Request::Audit(AuditQuery {
            since: None,
            filter: None,
            offset: 0,
            limit: 500,
            sort: Default::default(),
        }))
        .await
    {
        Ok(Response::Audit(page)) => page.rows,
        other => panic!("audit: {other:?}"),
    }
}

async fn settings_version(client: &dyn Client, link: &LinkId) -> u64 {
    match client.call(Request::Settings { link: link.clone() }).await {
        Ok(Response::Settings(view)) => view.version,
        other => panic!("settings: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_may_do_exactly_its_mutations_and_refusals_are_audited() {
    let Some(team) = support::team() else {
        support::note_single_uid("roles", "the same role mapping runs in-process");
        return in_process_table().await;
    };
    let daemon = Daemon::start(Options::default()).await;
    let root = daemon.client().await;
    let orders = daemon.orders(&*root, 3).await;
    let link = LinkId::new(daemon.set.scenario.shops[0].name.clone()).unwrap();
    let root_person = Person {
        name: "root".into(),
        uid: 0,
        gid: 0,
    };
    // Columns: viewer, support, operator, admin, no role.
    let people = [
        &team.viewer,
        &team.support,
        &team.operator,
        &root_person,
        &team.nobody,
    ];
    let mut refusals = Vec::new();
    for (column, person) in people.into_iter().enumerate() {
        let version = settings_version(&*root, &link).await;
        let mut asked = vec![Request::Overview];
        asked.extend(requests(&orders[column % orders.len()], &link, version));
        let answers = daemon.as_user(person, &asked).await;
        // Reading: every role; no role, no reading (and a read refusal is not audited).
        match (&answers[0], column) {
            (Err(ServiceError::Refused { message }), 4) => {
                assert!(message.contains("no orderdeck role"), "{message}")
            }
            (Ok(Response::Overview(_)), 0..=3) => {}
            (other, _) => panic!("{} reading: {other:?}", person.name),
        }
        for action in check_column(&person.name, column, &answers[1..]) {
            refusals.push((person.clone(), action));
        }
    }
    // 7 for the viewer, 4 for support, 7 for no role.
    assert_eq!(refusals.len(), 18, "{refusals:?}");
    let audit = audit_of(&*root).await;
    for (person, action) in &refusals {
        let entry = audited_refusal(&audit, &person.name, action)
            .unwrap_or_else(|| panic!("{} refused {action} is not audited", person.name));
        assert_eq!(entry.actor.uid, person.uid);
        assert_eq!(entry.actor.from.as_deref(), Some(SSH_FROM));
    }
    // Allowed requests are audited too, with their outcome (here: the target does not exist).
    let failed = audit
        .iter()
        .find(|e| e.actor.user == "sys" && e.action == "label.reprint")
        .expect("the operator's reprint is audited");
    assert!(
        matches!(failed.outcome, AuditOutcome::Failed { .. }),
        "{failed:?}"
    );
    // Settings changes record before and after.
    let change = audit
        .iter()
        .find(|e| e.actor.user == "sys" && e.action == "settings.set")
        .expect("the operator's settings change is audited");
    assert!(
        matches!(change.outcome, AuditOutcome::Ok { .. }),
        "{change:?}"
    );
    assert_eq!(
        change.before,
        Some(serde_json::json!({"restock_on_cancel": "on"}))
    );
    assert_eq!(
        change.after,
        Some(serde_json::json!({"restock_on_cancel": "off"}))
    );

    // `orderdeck audit` reads the same log, here as the viewer through the daemon.
    let out = daemon
        .cli(Some(&team.viewer), &["audit", "--json", "--since", "1h"])
        .await;
    assert!(out.status.success(), "{}", support::stderr(&out));
    let lines: Vec<AuditEntry> = support::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON entry per line"))
        .collect();
    assert_eq!(lines.len(), audit.len());
    assert!(audited_refusal(&lines, "nobody", "sync.run").is_some());
    let table = daemon.cli(Some(&team.viewer), &["audit"]).await;
    let table = support::stdout(&table);
    assert!(
        table.contains("nobody (65534)") && table.contains("refused: you have no orderdeck role"),
        "{table}"
    );
    assert!(table.contains("203.0.113.7"), "{table}");
    // Someone with no role cannot read it.
    let out = daemon.cli(Some(&team.nobody), &["audit"]).await;
    assert!(!out.status.success());
    assert!(
        support::stderr(&out).contains("no orderdeck role"),
        "{}",
        support::stderr(&out)
    );
}

/// Without root: the same accounts-to-roles mapping and service, called in-process.
async fn in_process_table() {
    let access = "viewer = [\"od-viewer\"]\nsupport = [\"@od-support\"]\noperator = [\"od-operator\"]\nadmin = [\"od-admin\"]";
    let daemon = Daemon::prepare(Options {
        access: access.into(),
        ..Options::default()
    })
    .await;
    let config = Config::load(&daemon.config).expect("config loads");
    let local = open_local(&config, Arc::new(SystemClock), false).expect("store opens");
    let service: Arc<Service> = local.service.clone();
    for link in local.engine.links() {
        local.engine.poll_link(link).await;
    }
    let account = |uid, name: &str, groups: &[&str]| Account {
        uid,
        name: name.into(),
        groups: groups.iter().map(ToString::to_string).collect(),
    };
    let people: [Actor; 5] = [
        account(50_001, "od-viewer", &[]),
        account(50_002, "pat", &["od-support"]),
        account(50_003, "od-operator", &[]),
        account(50_004, "od-admin", &[]),
        account(50_005, "stranger", &["users"]),
    ]
    .map(|a| a.actor(&config.access, Some(SSH_FROM.into())));
    let link = local.engine.links()[0].id.clone();
    let order = TiktokOrderId::new(daemon.set.scenario.orders[0].id.clone()).unwrap();
    let mut refusals = Vec::new();
    for (column, actor) in people.iter().enumerate() {
        let version = match service
            .handle(&people[3], Request::Settings { link: link.clone() })
            .await
        {
            Ok(Response::Settings(view)) => view.version,
            other => panic!("settings: {other:?}"),
        };
        let mut answers = Vec::new();
        for request in requests(&order, &link, version) {
            answers.push(service.handle(actor, request).await);
        }
        for action in check_column(&actor.user, column, &answers) {
            refusals.push((actor.user.clone(), action));
        }
    }
    assert_eq!(refusals.len(), 18, "{refusals:?}");
    let audit = match service
        .handle(
            &people[3],
            Request::Audit(AuditQuery {
                since: None,
                filter: None,
                offset: 0,
                limit: 500,
                sort: Default::default(),
            }),
        )
        .await
    {
        Ok(Response::Audit(page)) => page.rows,
        other => panic!("audit: {other:?}"),
    };
    for (user, action) in &refusals {
        assert!(
            audited_refusal(&audit, user, action).is_some(),
            "{user} {action}"
        );
    }
    drop(service);
    close(Some(local));
}
