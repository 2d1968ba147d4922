//! TikTok access tokens expiring mid-run: the next call refreshes once and goes on, the new
//! tokens are kept (0600) in the data dir's `tokens/`, and a new engine starts with them. An
//! authorization that ended is reported on the link and parks the jobs that need TikTok.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_kept_and_used_by_the_next_engine() {
    let mut rig = Rig::start().await;
    let shop = rig.set.scenario.shops[GB].name.clone();
    let id = rig.paid_order(GB);
    rig.sync().await;
    rig.fulfil(GB, &id, "JD0000000042", "DPD UK");
    // The poll sees the fulfillment and queues the push; then the token dies mid-run, so the
    // push itself is the first call to meet the expired token.
    let link = rig.engine().links()[0].clone();
    rig.engine().poll_link(&link).await;
    assert!(rig.set.tiktok.expire_access_token(&shop));
    let report = rig
        .engine()
        .run_jobs(CancellationToken::new(), Some(Duration::from_secs(5)))
        .await;
    assert_eq!(report.done, 1, "{report:?}");
    assert_eq!(
        rig.set.tiktok.shipments(id.as_str())[0].tracking_number,
        "JD0000000042"
    );
    assert_eq!(rig.set.tiktok.calls("refresh_token"), 1);

    // The daemon is restarted: the refreshed token was kept, so no refresh is needed.
    rig.reopen();
    let current = rig.set.tiktok.access_token(&shop).unwrap();
    assert_eq!(
        rig.engine().links()[0].marketplace.tokens().access_token,
        current
    );
    let saved = rig.data_dir().join("tokens").join(format!("{shop}.json"));
    let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", saved.display());
    assert!(std::fs::read_to_string(&saved).unwrap().contains(&current));

    let next = rig.paid_order(GB);
    let summary = rig.sync().await;
    assert!(summary.poll_errors.is_empty(), "{summary:?}");
    rig.store_order(GB, &next);
    assert_eq!(rig.set.tiktok.calls("refresh_token"), 1);

    // Expiring again during polls: one refresh, and the polls go on.
    assert!(rig.set.tiktok.expire_access_token(&shop));
    let after = rig.paid_order(GB);
    let summary = rig.sync().await;
    assert!(summary.poll_errors.is_empty(), "{summary:?}");
    rig.store_order(GB, &after);
    assert_eq!(rig.set.tiktok.calls("refresh_token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_authorization_is_reported_and_stops_the_jobs_that_need_it() {
    let mut rig = Rig::start().await;
    let shop = rig.set.scenario.shops[GB].name.clone();
    let id = rig.paid_order(GB);
    rig.sync().await;
    rig.fulfil(GB, &id, "JD0000000099", "DPD UK");
    let link = rig.engine().links()[0].clone();
    rig.engine().poll_link(&link).await;
    // The seller's authorization ends: the access token dies and cannot be refreshed.
    assert!(rig.set.tiktok.expire_authorization(&shop));
    assert!(rig.set.tiktok.expire_access_token(&shop));
    let summary = rig.sync().await;

    assert!(
        summary
            .poll_errors
            .iter()
            .any(|e| e.contains("TikTok orders")),
        "{summary:?}"
    );
    let order = rig.order(&id);
    let orderdeck::domain::order::FlowStatus::Stuck { reason } = &order.flows.tracking.status
    else {
        panic!("{:?}", order.flows.tracking)
    };
    assert!(
        reason.contains("must authorize orderdeck again"),
        "{reason}"
    );
    let overview = match rig
        .call(
            orderdeck::domain::access::Role::Viewer,
            orderdeck::service::api::Request::Overview,
        )
        .await
    {
        Ok(orderdeck::service::api::Response::Overview(o)) => o,
        other => panic!("{other:?}"),
    };
    let health = &overview.links[0];
    assert!(health.last_poll_error.is_some(), "{health:?}");
    assert_eq!(health.stuck_jobs, 1);
}
