//! Manual resync: support asks, the request waits for an operator, the approved one runs and
//! its outcome is recorded on the request; a rejected one changes nothing. Everything audited.

use orderdeck::domain::access::Role;
use orderdeck::domain::ids::{RequestId, TiktokOrderId};
use orderdeck::domain::order::FlowStatus;
use orderdeck::domain::request::{RequestStatus, ResyncFlow, TargetOutcome};
use orderdeck::service::api::{
    AuditQuery, OrderColumn, Request, RequestQuery, Response, Sort, SortDir,
};

use crate::engine::support::*;

async fn ask(rig: &Rig, orders: &[&TiktokOrderId], flow: ResyncFlow, reason: &str) -> RequestId {
    let answer = rig
        .call(
            Role::Support,
            Request::Resync {
                orders: orders.iter().map(|id| (*id).clone()).collect(),
                flow,
                reason: reason.into(),
            },
        )
        .await;
    match answer {
        Ok(Response::Resync(outcome)) => {
            assert!(!outcome.running && outcome.jobs.is_empty(), "{outcome:?}");
            outcome.request
        }
        other => panic!("{other:?}"),
    }
}

async fn decide(rig: &Rig, request: RequestId, approve: bool, reason: Option<&str>) {
    let answer = rig
        .call(
            Role::Operator,
            Request::Decide {
                request,
                approve,
                reason: reason.map(str::to_string),
            },
        )
        .await;
    assert!(matches!(answer, Ok(Response::Done { .. })), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_resyncs_run_and_report_rejected_ones_do_nothing() {
    let mut rig = Rig::start().await;
    let imported = rig.paid_order(GB);
    let mut spec = rig.new_order(GB);
    set_lines(&mut spec, &[GHOST_SKU]);
    let stuck = rig.add(&spec);
    let cancelled = rig.paid_order(GB);
    rig.sync().await;
    rig.settings(GB, &[("cancel_tiktok_to_store", "off")]).await;
    rig.set
        .tiktok
        .cancel_order_as(cancelled.as_str(), "SYSTEM", "Auto-cancelled")
        .unwrap();
    rig.sync().await;
    let store = rig.store(GB);
    let creates = rig.set.shopify.calls(&store, "orderCreate").unwrap();

    // A re-create of an order already in the store: rejected, nothing happens.
    let rejected = ask(
        &rig,
        &[&imported],
        ResyncFlow::Import,
        "buyer says it is missing",
    )
    .await;
    // The stuck import again (its SKU is still unknown), and the skipped cancellation.
    let retry_import = ask(&rig, &[&stuck], ResyncFlow::Import, "catalog fixed?").await;
    let pending = match rig
        .call(
            Role::Viewer,
            Request::Requests(RequestQuery {
                pending_only: true,
                offset: 0,
                limit: 50,
                sort: Default::default(),
            }),
        )
        .await
    {
        Ok(Response::Requests(page)) => page.rows,
        other => panic!("{other:?}"),
    };
    let mut listed: Vec<RequestId> = pending.iter().map(|r| r.id).collect();
    listed.sort();
    assert_eq!(listed, vec![rejected, retry_import]);
    assert!(
        pending
            .iter()
            .all(|r| r.requested_by.user == "support-user")
    );
    rig.sync().await;
    assert_eq!(
        rig.set.shopify.calls(&store, "orderCreate").unwrap(),
        creates
    );

    decide(&rig, rejected, false, Some("it is in the store as #1001")).await;
    decide(&rig, retry_import, true, None).await;
    rig.sync().await;
    assert_eq!(
        rig.set.shopify.calls(&store, "orderCreate").unwrap(),
        creates
    );
    assert_eq!(rig.store_orders(GB, &imported).len(), 1);

    let read = |id| rig.engine().store().request(id).unwrap().unwrap();
    assert!(
        matches!(&read(rejected).status, RequestStatus::Rejected { reason, .. } if reason == "it is in the store as #1001"),
        "{:?}",
        read(rejected).status
    );
    assert!(read(rejected).outcomes.is_empty());
    let ran = read(retry_import);
    assert!(
        matches!(ran.status, RequestStatus::Finished { .. }),
        "{:?}",
        ran.status
    );
    let outcome = &ran.outcomes[&stuck];
    assert!(
        matches!(outcome, TargetOutcome::Failed { error } if error.contains(&format!("SKU {GHOST_SKU} has no variant"))),
        "{outcome:?}"
    );
    assert!(matches!(
        rig.order(&stuck).flows.import.status,
        FlowStatus::Stuck { .. }
    ));

    // Re-running the cancellation that was skipped, once the setting is back on.
    rig.settings(GB, &[("cancel_tiktok_to_store", "on")]).await;
    let recancel = ask(&rig, &[&cancelled], ResyncFlow::Cancel, "store still open").await;
    assert!(rig.store_order(GB, &cancelled).cancelled_at.is_none());
    decide(&rig, recancel, true, None).await;
    rig.sync().await;
    let store_order = rig.store_order(GB, &cancelled);
    assert!(store_order.cancelled_at.is_some());
    assert_eq!(store_order.cancel_requests.len(), 1);
    let outcome = &read(recancel).outcomes[&cancelled];
    assert!(
        matches!(outcome, TargetOutcome::Succeeded { .. }),
        "{outcome:?}"
    );

    let audit = rig.audit().await;
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.actor.user.as_str()))
        .collect();
    for expected in [
        ("resync.request", "support-user"),
        ("request.reject", "operator-user"),
        ("request.approve", "operator-user"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
}

/// The jobs of one request finish side by side, each under its own order's lock; every one of
/// them must still land its outcome on the shared request (none overwritten by another).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_many_orders_records_every_outcome() {
    let mut rig = Rig::start().await;
    let orders: Vec<TiktokOrderId> = (0..24).map(|_| rig.paid_order(GB)).collect();
    rig.sync().await;
    let targets: Vec<&TiktokOrderId> = orders.iter().collect();
    let request = ask(&rig, &targets, ResyncFlow::Tracking, "carrier says shipped").await;
    decide(&rig, request, true, None).await;
    rig.sync().await;

    let ran = rig.engine().store().request(request).unwrap().unwrap();
    let unsettled: Vec<_> = ran
        .outcomes
        .iter()
        .filter(|(_, outcome)| matches!(outcome, TargetOutcome::Queued { .. }))
        .collect();
    assert!(unsettled.is_empty(), "outcomes lost: {unsettled:?}");
    assert_eq!(ran.outcomes.len(), orders.len());
    assert!(
        matches!(ran.status, RequestStatus::Finished { .. }),
        "{:?}",
        ran.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_again_while_a_request_waits_says_which_one_waits() {
    let mut rig = Rig::start().await;
    let first = rig.paid_order(GB);
    let second = rig.paid_order(GB);
    rig.sync().await;
    let waiting = ask(&rig, &[&first], ResyncFlow::Import, "store lost it").await;

    let again = rig
        .call(
            Role::Support,
            Request::Resync {
                orders: vec![second.clone(), first.clone()],
                flow: ResyncFlow::Import,
                reason: "asking again".into(),
            },
        )
        .await;
    let message = format!("{again:?}");
    assert!(again.is_err(), "{message}");
    assert!(
        message.contains(&format!("{first} (request {waiting} asked by")),
        "{message}"
    );
    assert!(!message.contains(second.as_str()), "{message}");

    // Another flow of the same order, or the order once the request is decided, may be asked.
    ask(&rig, &[&first], ResyncFlow::Tracking, "tracking too").await;
    decide(&rig, waiting, false, Some("not needed")).await;
    ask(&rig, &[&first], ResyncFlow::Import, "now it is").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_and_activity_sort_by_any_column_they_show() {
    let mut rig = Rig::start().await;
    let a = rig.paid_order(GB);
    let b = rig.paid_order(GB);
    rig.sync().await;
    ask(&rig, &[&a], ResyncFlow::Import, "one").await;
    ask(&rig, &[&a, &b], ResyncFlow::Tracking, "two").await;
    ask(&rig, &[&b], ResyncFlow::Cancel, "three").await;
    let requests = |column, dir| {
        Request::Requests(RequestQuery {
            pending_only: true,
            offset: 0,
            limit: 10,
            sort: Sort { column, dir },
        })
    };
    let flows = |answer: Result<Response, _>| match answer {
        Ok(Response::Requests(page)) => page
            .rows
            .iter()
            .map(|r| r.flow.name().to_string())
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let by_flow = rig
        .call(Role::Viewer, requests(OrderColumn::Flow, SortDir::Asc))
        .await;
    assert_eq!(flows(by_flow), ["cancel", "import", "tracking"]);
    let by_targets = rig
        .call(Role::Viewer, requests(OrderColumn::Targets, SortDir::Desc))
        .await;
    assert_eq!(flows(by_targets)[0], "tracking");

    let activity = rig
        .call(
            Role::Viewer,
            Request::Activity(AuditQuery {
                since: None,
                filter: None,
                offset: 0,
                limit: 500,
                sort: Sort {
                    column: OrderColumn::Who,
                    dir: SortDir::Asc,
                },
            }),
        )
        .await;
    let Ok(Response::Activity(page)) = activity else {
        panic!("{activity:?}")
    };
    let who: Vec<&str> = page.rows.iter().map(|r| r.who.as_str()).collect();
    let mut sorted = who.clone();
    sorted.sort();
    assert_eq!(who, sorted);
    assert!(
        who.contains(&"orderdeck") && who.contains(&"support-user"),
        "{who:?}"
    );
}
