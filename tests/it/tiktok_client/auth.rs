//! Tokens, signatures and clocks: what TikTok refuses and how the client reacts.

use std::sync::Arc;

use orderdeck::domain::FixedClock;
use orderdeck::platforms::tiktok::AppCredentials;
use orderdeck::platforms::{ErrorClass, Marketplace};

use crate::tiktok_client::support::*;

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_succeeds() {
    let sandbox = start(20).await;
    let client = sandbox.client(GB);
    client.search_orders(whole_history(), None).await.unwrap();
    let before = client.tokens();
    sandbox.tiktok.expire_access_token(&sandbox.shop(GB).name);

    // Many tasks meet the expired token at once; one refresh serves them all.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.search_orders(whole_history(), None).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().items.len(), 20);
    }
    assert_eq!(sandbox.tiktok.calls("refresh_token"), 1);
    let after = client.tokens();
    assert_ne!(after.access_token, before.access_token);
    assert_eq!(
        Some(after.access_token.clone()),
        sandbox.tiktok.access_token(&sandbox.shop(GB).name)
    );
    assert!(
        after.access_expires_at > before.access_expires_at,
        "absolute expiry from the answer"
    );
    assert_eq!(after.refresh_expires_at, before.refresh_expires_at);
}

#[tokio::test]
async fn an_explicit_refresh_hands_the_new_tokens_to_the_caller() {
    let sandbox = start(1).await;
    let client = sandbox.client(US);
    let tokens = client.refresh_tokens().await.unwrap();
    assert_eq!(tokens, client.tokens());
    assert_eq!(
        Some(tokens.access_token.clone()),
        sandbox.tiktok.access_token(&sandbox.shop(US).name)
    );
    assert!(
        !format!("{tokens:?}").contains("TTP_"),
        "tokens never show in Debug"
    );
}

#[tokio::test]
async fn a_refused_refresh_token_surfaces_as_permanent() {
    let sandbox = start(5).await;
    let mut config = sandbox.config(US);
    config.tokens.refresh_token = "TTP_not_a_refresh_token".into();
    let client = sandbox.client_with(config, Arc::new(orderdeck::domain::SystemClock));
    sandbox.tiktok.expire_access_token(&sandbox.shop(US).name);
    let e = client
        .search_orders(whole_history(), None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.class.clone(), e.code.as_deref(), e.operation),
        (ErrorClass::Permanent, Some("36004005"), "refresh_token")
    );
    assert!(
        e.message.contains("must authorize orderdeck again"),
        "{}",
        e.message
    );

    let client = sandbox.client(GB);
    sandbox.tiktok.expire_access_token(&sandbox.shop(GB).name);
    sandbox.tiktok.expire_authorization(&sandbox.shop(GB).name);
    let e = client
        .search_orders(whole_history(), None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.class.clone(), e.code.as_deref()),
        (ErrorClass::Permanent, Some("36004001"))
    );
}

#[tokio::test]
async fn a_wrong_app_secret_is_refused_with_106001_as_tiktok_does() {
    let sandbox = start(5).await;
    let mut config = sandbox.config(GB);
    config.app = AppCredentials::new(&sandbox.shop(GB).app_key, "not-the-secret");
    config.shop_cipher = Some(sandbox.shop(GB).cipher.clone());
    let client = sandbox.client_with(config, Arc::new(orderdeck::domain::SystemClock));
    let e = client
        .search_orders(whole_history(), None)
        .await
        .unwrap_err();
    assert_eq!(
        e.class,
        ErrorClass::Permanent,
        "HTTP 401 but not a token problem"
    );
    assert_eq!(
        (e.code.as_deref(), e.http_status),
        (Some("106001"), Some(401))
    );
    assert!(
        e.request_id.as_deref().is_some_and(|id| id.len() >= 20),
        "{e:?}"
    );
    assert!(
        e.message.contains("'sign' query parameter is invalid"),
        "{}",
        e.message
    );
    assert_eq!(sandbox.tiktok.calls("refresh_token"), 0);
}

#[tokio::test]
async fn a_clock_ten_minutes_slow_gets_36009004() {
    let sandbox = start(5).await;
    let slow = Arc::new(FixedClock::at_unix(now() - 600));
    let client = sandbox.client_with(sandbox.config(US), slow.clone());
    let e = client
        .search_orders(whole_history(), None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.class.clone(), e.code.as_deref()),
        (ErrorClass::Permanent, Some("36009004"))
    );
    assert!(e.message.contains("timestamp"), "{}", e.message);
    slow.set(orderdeck::domain::clock::from_unix(now()));
    client.search_orders(whole_history(), None).await.unwrap();
}
