//! Paging through page tokens that need encoding, batching of detail calls, and reading a page
//! that holds orders the client cannot fully understand.

use std::collections::HashSet;

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::order::OrderStatus;
use orderdeck::platforms::Marketplace;
use serde_json::json;

use crate::tiktok_client::support::*;

#[tokio::test]
async fn search_pages_through_tokens_holding_plus_and_slash() {
    let sandbox = start(450).await;
    let client = sandbox.client(GB);
    // Every page of one search asks the same window (a token belongs to its search).
    let window = whole_history();
    let (mut seen, mut pages, mut token) = (HashSet::new(), 0, None);
    loop {
        let page = client.search_orders(window, token.take()).await.unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|o| o.id.clone()));
        match page.next_page_token {
            Some(next) => {
                assert!(
                    next.contains('+') && next.contains('/') && next.ends_with('='),
                    "{next}"
                );
                token = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(pages, 5, "450 orders at 100 a page");
    assert_eq!(seen.len(), 450, "every order once");
    assert_eq!(sandbox.tiktok.calls("search_orders"), 5);
}

#[tokio::test]
async fn cancellations_page_fifty_at_a_time() {
    let sandbox = start(450).await;
    let client = sandbox.client(US);
    let window = whole_history();
    let (mut count, mut pages, mut token) = (0, 0, None);
    loop {
        let page = client
            .search_cancellations(window, token.take())
            .await
            .unwrap();
        assert!(page.items.len() <= 50);
        count += page.items.len();
        pages += 1;
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    let expected = sandbox
        .scenario
        .orders
        .iter()
        .filter(|o| o.shop == sandbox.shop(US).name && o.cancel.is_some())
        .count();
    assert_eq!(count, expected);
    assert_eq!(pages, expected.div_ceil(50));
}

#[tokio::test]
async fn details_of_120_orders_take_three_calls() {
    let sandbox = start(130).await;
    let client = sandbox.client(US);
    let ids: Vec<TiktokOrderId> = sandbox
        .scenario
        .orders
        .iter()
        .filter(|o| o.shop == sandbox.shop(US).name)
        .take(120)
        .map(|o| TiktokOrderId::new(&o.id).unwrap())
        .collect();
    let orders = client.order_details(&ids).await.unwrap().items;
    assert_eq!(orders.len(), 120);
    assert_eq!(sandbox.tiktok.calls("get_order_detail"), 3);
    let returned: HashSet<_> = orders.iter().map(|o| o.id.clone()).collect();
    assert_eq!(returned, ids.into_iter().collect());
}

#[tokio::test]
async fn a_page_with_an_unknown_status_and_an_order_without_id_still_reads() {
    let sandbox = start(30).await;
    let client = sandbox.client(GB);
    let odd = sandbox
        .order(GB, |o| o.status == "AWAITING_SHIPMENT")
        .id
        .clone();
    sandbox.tiktok.set_order_status(&odd, "AWAITING_PICKUP_V2");
    let shop = sandbox.shop(GB).name.clone();
    sandbox.tiktok.inject_raw_order(
        &shop,
        json!({"status": "UNPAID", "update_time": now() - 60, "line_items": []}),
    );
    let page = client.search_orders(whole_history(), None).await.unwrap();
    assert_eq!(page.items.len(), 30);
    assert_eq!(page.unreadable.len(), 1);
    assert!(
        page.unreadable[0].why.starts_with("an order without an id"),
        "{}",
        page.unreadable[0]
    );
    let read = page.items.iter().find(|o| o.id.as_str() == odd).unwrap();
    assert_eq!(
        read.snapshot.status,
        OrderStatus::Unknown("AWAITING_PICKUP_V2".into())
    );
}
