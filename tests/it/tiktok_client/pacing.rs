//! The one burst test: 1,000 calls of one API from many tasks stay under TikTok's 50 requests
//! per second without a single 429. It counts calls per window; it does not time anything
//! (`benches/tiktok_pacing.rs` reports the figures). It takes about 21 seconds.

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::platforms::Marketplace;
use orderdeck::sandbox::tiktok::RATE_LIMIT;

use crate::tiktok_client::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_a_thousand_detail_calls_is_paced_under_the_limit() {
    let sandbox = start(50).await;
    let client = sandbox.client(US);
    let ids: Vec<TiktokOrderId> = sandbox
        .scenario
        .orders
        .iter()
        .filter(|o| o.shop == sandbox.shop(US).name)
        .map(|o| TiktokOrderId::new(&o.id).unwrap())
        .collect();
    const TASKS: usize = 100;
    const CALLS_PER_TASK: usize = 10;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let client = client.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            for c in 0..CALLS_PER_TASK {
                let id = &ids[(t * CALLS_PER_TASK + c) % ids.len()];
                client
                    .order_details(std::slice::from_ref(id))
                    .await
                    .expect("no call fails");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let report = sandbox.tiktok.rate_report("get_order_detail");
    assert_eq!(report.calls, TASKS * CALLS_PER_TASK);
    assert_eq!(report.answered_429, 0);
    assert!(report.max_in_any_second <= RATE_LIMIT, "{report:?}");
}
