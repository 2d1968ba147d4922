//! "Retry all waiting on this cause" (issue #19), through the reducer against the fake service:
//! in Stores it takes the cause most of the selected link's stuck orders wait on, names it in
//! a confirmation whose default is no, and sends one request for the whole cause; people who
//! may not retry are not offered it.

use orderdeck::console::state::Overlay;
use orderdeck::console::theme::Theme;
use orderdeck::domain::access::Role;
use orderdeck::domain::cause::StuckCause;
use orderdeck::service::api::Request;

use super::fake_client::FakeClient;
use super::{open, plain, press, render};

#[tokio::test]
async fn stores_retries_everything_waiting_on_the_links_largest_cause_after_asking() {
    let client = FakeClient::new(Role::Support);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "T").await;
    assert!(matches!(state.overlay, Some(Overlay::Confirm(_))));
    let screen = plain(&render(&state));
    for words in [
        "Retry the stuck jobs of the 1 order of uk-shop1 waiting on SKU GHOST-003",
        "missing in store uk-shopify1?",
    ] {
        assert!(screen.contains(words), "{words}\n{screen}");
    }
    assert!(client.mutations().is_empty(), "nothing sent before yes");
    press(&client, &mut state, "y").await;
    let sent = client.mutations();
    assert!(
        matches!(
            sent.as_slice(),
            [Request::RetryCause { link, cause: StuckCause::MissingSku { sku, .. }, .. }]
                if link.as_str() == "uk-shop1" && sku == "GHOST-003"
        ),
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_viewer_is_not_offered_it() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    assert!(!plain(&render(&state)).contains("retry cause"));
    press(&client, &mut state, "T").await;
    assert!(state.overlay.is_none());
    assert!(client.mutations().is_empty());
}
