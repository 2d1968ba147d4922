//! The reducer's promises about writes: confirmations name the count and the marked rows the
//! filter hides, roles gate what is offered (and say why), results come back as toasts,
//! settings are validated inline and saved after the diff, and every action is reachable.

use orderdeck::console::command;
use orderdeck::console::keymap::Keymap;
use orderdeck::console::state::Overlay;
use orderdeck::console::theme::Theme;
use orderdeck::console::update::available;
use orderdeck::console::{Action, Effect, View, update};
use orderdeck::domain::access::Role;
use orderdeck::domain::request::ResyncFlow;
use orderdeck::domain::rules::parcel::ParcelOutcome;
use orderdeck::service::api::Request;

use super::fake_client::FakeClient;
use super::{act, open, plain, press, render, seed, toasts, type_text};

fn question(state: &orderdeck::console::State) -> String {
    match &state.overlay {
        Some(Overlay::Prompt(p)) => p.question.clone(),
        Some(Overlay::Confirm(c)) => c.question.clone(),
        other => panic!("no question open: {other:?}"),
    }
}

#[tokio::test]
async fn confirmation_counts_the_marked_rows_the_filter_hides() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    // Rows 0, 1, 2 belong to uk-shop1, us-shop2, de-shop3; the filter keeps only uk-shop1.
    press(&client, &mut state, "2 space space space /").await;
    type_text(&client, &mut state, "store:uk").await;
    press(&client, &mut state, "enter r").await;
    assert_eq!(
        question(&state),
        "Resync 3 orders (2 marked orders hidden by the filter)?"
    );

    // No reason, no resync.
    press(&client, &mut state, "enter").await;
    assert!(client.mutations().is_empty());
    type_text(&client, &mut state, "customer called").await;
    press(&client, &mut state, "enter").await;
    let Some(Request::Resync {
        orders,
        flow,
        reason,
    }) = client.mutations().pop()
    else {
        panic!("a resync was sent: {:?}", client.mutations());
    };
    assert_eq!(
        orders,
        [seed::order_id(0), seed::order_id(1), seed::order_id(2)]
    );
    assert_eq!(
        (flow, reason.as_str()),
        (ResyncFlow::Import, "customer called")
    );
    assert!(state.pending.marks.is_empty(), "acted-on marks are cleared");
    assert!(
        toasts(&state).iter().any(|t| t.contains("running")),
        "{:?}",
        toasts(&state)
    );
}

#[tokio::test]
async fn without_marks_the_selected_row_is_the_target() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "2 j t").await;
    assert_eq!(question(&state), "Retry the stuck jobs of 1 order?");
    press(&client, &mut state, "y").await;
    assert!(matches!(
        client.mutations().as_slice(),
        [Request::RetryStuck { orders, .. }] if orders == &[seed::order_id(1)]
    ));
}

#[tokio::test]
async fn a_support_resync_becomes_a_request_and_says_so() {
    let client = FakeClient::new(Role::Support);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "3 r").await;
    match &state.overlay {
        Some(Overlay::Prompt(p)) => {
            assert_eq!(p.title, "Request a resync");
            assert!(
                p.note
                    .as_deref()
                    .unwrap_or("")
                    .contains("an operator must approve")
            );
        }
        other => panic!("{other:?}"),
    }
    type_text(&client, &mut state, "warehouse shipped it").await;
    press(&client, &mut state, "enter").await;
    assert!(
        toasts(&state)
            .iter()
            .any(|t| t.contains("R44") && t.contains("waits for an operator")),
        "{:?}",
        toasts(&state)
    );
}

#[tokio::test]
async fn a_viewer_is_offered_nothing_that_writes() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    for view in [
        View::Pending,
        View::Missing,
        View::Cancellations,
        View::Approvals,
        View::Stores,
    ] {
        act(&client, &mut state, view_action(view)).await;
        for action in Action::ALL {
            if action.permission().is_some() {
                assert!(
                    available(&state, *action).is_err(),
                    "{action} offered in {view:?}"
                );
                let effects = update(&mut state, *action);
                assert!(
                    !effects.iter().any(|e| matches!(e, Effect::Call { .. })),
                    "{action} made a call"
                );
                assert!(state.overlay.is_none(), "{action} asked a question");
            }
        }
        let footer = plain(&render(&state));
        let footer = footer.lines().last().unwrap_or("");
        for word in ["resync", "retry", "approve", "reject", "label", "sync now"] {
            assert!(
                !footer.contains(word),
                "{word} in the footer of {view:?}: {footer}"
            );
        }
    }
    assert!(client.mutations().is_empty());
    assert!(toasts(&state).iter().any(|t| t.contains("you are viewer")));
}

fn view_action(view: View) -> Action {
    match view {
        View::Stores => Action::ViewStores,
        View::Pending => Action::ViewPending,
        View::Missing => Action::ViewMissing,
        View::Stuck => Action::ViewStuck,
        View::Cancellations => Action::ViewCancellations,
        View::Approvals => Action::ViewApprovals,
        View::Activity => Action::ViewActivity,
        View::Settings => Action::ViewSettings,
        View::Orders => Action::ViewOrders,
    }
}

#[tokio::test]
async fn copy_label_and_buyer_cancel() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let others = press(&client, &mut state, "2 y").await;
    assert!(others.contains(&Effect::Copy(seed::order_id(0).to_string())));

    // The first order's seller ships it: it has no TikTok label, so none is fetched.
    press(&client, &mut state, "p").await;
    assert!(
        toasts(&state)
            .iter()
            .any(|t| t.contains("only orders TikTok ships have a TikTok label"))
    );
    assert!(client.mutations().is_empty());
    // The third is one TikTok ships: its label is saved (no printer configured is no failure).
    press(&client, &mut state, "j j p").await;
    let path = format!(
        "saved to /var/lib/orderdeck/labels/{}.pdf",
        seed::order_id(2)
    );
    assert!(toasts(&state).iter().any(|t| t.contains(&path)));
    press(&client, &mut state, "k k").await;

    press(&client, &mut state, "5 j a").await;
    assert_eq!(question(&state), "Approve 1 buyer cancel request?");
    press(&client, &mut state, "y").await;
    assert!(matches!(
        client.mutations().last(),
        Some(Request::RespondBuyerCancel { approve: true, .. })
    ));

    press(&client, &mut state, "j j a").await;
    assert!(state.overlay.is_none());
    assert!(
        toasts(&state)
            .iter()
            .any(|t| t.contains("no buyer cancel request waiting"))
    );
}

#[tokio::test]
async fn a_parcel_shipped_before_the_cancel_is_closed_from_the_detail_with_outcome_and_note() {
    let client = FakeClient::new(Role::Support);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    // Nothing to close on an ordinary order.
    press(&client, &mut state, "2 enter h").await;
    assert!(state.overlay.is_none());
    assert!(
        toasts(&state)
            .iter()
            .any(|t| t.contains("handled does nothing here"))
    );

    client.ship_then_cancel(seed::order_id(1));
    press(&client, &mut state, "esc j enter h").await;
    assert_eq!(
        question(&state),
        format!("How did the parcel of {} end?", seed::order_id(1))
    );
    let asked = plain(&render(&state));
    assert!(
        asked.contains("parcel with UPS, tracking 1Z999AA10000000077"),
        "{asked}"
    );
    type_text(&client, &mut state, "lost it").await;
    press(&client, &mut state, "enter").await;
    let Some(Overlay::Prompt(prompt)) = &state.overlay else {
        panic!("the prompt stays open: {:?}", state.overlay)
    };
    assert!(
        prompt
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("\"lost\" is not an outcome"),
        "{:?}",
        prompt.error
    );
    assert!(client.mutations().is_empty());
    press(&client, &mut state, "ctrl-u").await;
    type_text(&client, &mut state, "returned RMA 4411").await;
    press(&client, &mut state, "enter").await;
    assert!(matches!(
        client.mutations().last(),
        Some(Request::MarkParcelHandled { order, outcome: ParcelOutcome::Returned, note })
            if *order == seed::order_id(1) && note == "RMA 4411"
    ));
    assert!(toasts(&state).iter().any(|t| t.contains("marked returned")));
}

#[tokio::test]
async fn settings_are_validated_inline_and_saved_after_the_diff() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "8 j j j enter ctrl-u").await;
    type_text(&client, &mut state, "5m").await;
    press(&client, &mut state, "enter").await;
    let error = state.settings.error.clone().unwrap_or_default();
    assert!(
        error.contains("out of range; use between 1h and 30d"),
        "{error}"
    );
    assert!(
        state.settings.editor.is_some(),
        "the field stays open to fix"
    );
    press(&client, &mut state, "ctrl-u").await;
    type_text(&client, &mut state, "12h").await;
    press(&client, &mut state, "enter w").await;
    assert_eq!(question(&state), "Save 1 change to uk-shop1 (version 7)?");
    press(&client, &mut state, "y").await;
    assert!(matches!(
        client.mutations().as_slice(),
        [Request::SetSettings { changes, expected_version: 7, .. }]
            if changes == &[("missing_tracking_after".to_string(), "12h".to_string())]
    ));
    assert_eq!(state.settings.loaded.as_ref().map(|v| v.version), Some(8));
    assert!(state.settings.draft.is_none());
}

#[tokio::test]
async fn support_cannot_edit_settings_and_is_told_why() {
    let client = FakeClient::new(Role::Support);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "8 space").await;
    assert!(state.settings.draft.is_none());
    assert!(
        toasts(&state)
            .iter()
            .any(|t| t == "only operator and above may edit link settings; you are support")
    );
}

#[test]
fn every_action_has_a_key_or_a_command() {
    let keymap = Keymap::defaults();
    for action in Action::ALL {
        assert!(
            keymap.binds(*action) || command::reaches(*action),
            "{action} has neither a key nor a command"
        );
    }
}

#[tokio::test]
async fn carrier_mappings_complete_and_check_tiktok_providers() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    // The last row of the form adds a mapping.
    press(&client, &mut state, "8 G enter").await;
    type_text(&client, &mut state, "Hermes Parcelnet=roy").await;
    press(&client, &mut state, "tab").await;
    let typed = |state: &orderdeck::console::State| match &state.settings.editor {
        Some(orderdeck::console::settings_form::Editor::Mapping { input, .. }) => {
            input.value().to_string()
        }
        other => panic!("no mapping editor: {other:?}"),
    };
    assert_eq!(typed(&state), "Hermes Parcelnet=Royal Mail");
    press(&client, &mut state, "tab").await;
    assert_eq!(typed(&state), "Hermes Parcelnet=Royal Mail Tracked");
    press(&client, &mut state, "shift-tab").await;
    assert_eq!(typed(&state), "Hermes Parcelnet=Royal Mail");
    press(&client, &mut state, "enter").await;
    assert!(
        state.settings.editor.is_none(),
        "{:?}",
        state.settings.error
    );

    // A provider TikTok does not list is refused where it is typed, with the closest ones.
    press(&client, &mut state, "G enter").await;
    type_text(&client, &mut state, "Speedy Freight=Royal Mial").await;
    press(&client, &mut state, "enter").await;
    let error = state.settings.error.clone().unwrap_or_default();
    assert!(
        error.contains("no shipping provider \"Royal Mial\"")
            && error.contains("closest: Royal Mail"),
        "{error}"
    );
    assert!(
        state.settings.editor.is_some(),
        "the mapping stays open to fix"
    );
}
