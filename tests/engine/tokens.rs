//! TikTok access tokens expiring mid-run: the next call refreshes once and goes on, the new
//! tokens are kept (0600) in the data dir's `tokens/`, and a new engine starts with them.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::support::*;

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
