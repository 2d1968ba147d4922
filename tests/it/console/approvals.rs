//! Approvals as the people on both ends meet them: Enter on a request lists its orders to open
//! one, the asker is told when their request is decided (whoever decided it, wherever), and an
//! order's detail shows the request that waits for it.

use orderdeck::console::state::Overlay;
use orderdeck::console::theme::Theme;
use orderdeck::console::{Action, Event, State, receive, settle};
use orderdeck::domain::access::Role;
use orderdeck::domain::ids::RequestId;
use orderdeck::domain::request::RequestStatus;
use orderdeck::service::api::Notification;
use orderdeck::service::client::ClientEvent;

use super::fake_client::FakeClient;
use super::{act, open, plain, press, render, seed, toasts, type_text};

/// The daemon says requests changed; the debounce fires; what the console asks is answered.
async fn requests_changed(client: &FakeClient, state: &mut State) {
    let n = Notification::Requests { generation: 2 };
    receive(state, Event::Client(ClientEvent::Changed(n)));
    let effects = receive(state, Event::RefreshChanged);
    settle(client, state, effects).await;
}

#[tokio::test]
async fn enter_on_a_request_lists_its_orders_and_opens_the_one_chosen() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    act(&client, &mut state, Action::ViewApprovals).await;
    let rows = state.approvals.rows.clone();
    let two = rows.iter().position(|r| r.targets.len() == 2).expect("R41");
    let one = rows.iter().position(|r| r.targets.len() == 1).expect("R42");

    for _ in 0..two {
        press(&client, &mut state, "j").await;
    }
    press(&client, &mut state, "enter").await;
    assert!(
        matches!(&state.overlay, Some(Overlay::Targets { selected: 0, .. })),
        "{:?}",
        state.overlay
    );
    let screen = plain(&render(&state));
    for target in &rows[two].targets {
        assert!(screen.contains(target.as_str()), "{screen}");
    }
    press(&client, &mut state, "j enter").await;
    assert!(state.overlay.is_none());
    assert_eq!(
        state.detail.as_ref().map(|d| &d.id),
        Some(&rows[two].targets[1])
    );

    press(&client, &mut state, "esc").await;
    assert!(state.detail.is_none());
    press(&client, &mut state, "g g").await;
    for _ in 0..one {
        press(&client, &mut state, "j").await;
    }
    press(&client, &mut state, "enter").await;
    assert!(state.overlay.is_none(), "one order opens at once");
    assert_eq!(
        state.detail.as_ref().map(|d| &d.id),
        Some(&rows[one].targets[0])
    );
}

#[tokio::test]
async fn the_asker_is_told_when_their_request_is_approved_or_rejected() {
    for (status, told) in [
        (
            RequestStatus::Running {
                approved_by: seed::actor("alice", 1001, Role::Operator),
                at: seed::now(),
            },
            "your resync request R44 was approved by alice",
        ),
        (
            RequestStatus::Rejected {
                by: seed::actor("alice", 1001, Role::Operator),
                at: seed::now(),
                reason: "already shipped".into(),
            },
            "your resync request R44 was rejected by alice: already shipped",
        ),
    ] {
        let client = FakeClient::new(Role::Support);
        let mut state = open(&client, (120, 36), Theme::ansi16()).await;
        press(&client, &mut state, "3 r").await;
        type_text(&client, &mut state, "warehouse shipped it").await;
        press(&client, &mut state, "enter").await;

        // Other requests changing tell the asker nothing.
        requests_changed(&client, &mut state).await;
        assert!(!toasts(&state).iter().any(|t| t.contains("your resync")));

        client.decide_elsewhere(RequestId(44), status);
        requests_changed(&client, &mut state).await;
        assert!(
            toasts(&state).iter().any(|t| t == told),
            "{:?}",
            toasts(&state)
        );
        // Told once.
        let before = state.messages.len();
        requests_changed(&client, &mut state).await;
        assert_eq!(state.messages.len(), before);
    }
}

#[tokio::test]
async fn the_detail_shows_the_request_waiting_for_the_order() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    // The first pending order is a target of R41.
    press(&client, &mut state, "2 enter").await;
    let screen = plain(&render(&state));
    assert!(screen.contains("Waiting for approval"), "{screen}");
    assert!(
        screen.contains("R41 import resync asked by bob"),
        "{screen}"
    );
}
