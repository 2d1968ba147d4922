//! Issue 14's console habits, through the reducer against the fake service: the `:` history and
//! Tab cycling, sorting by the columns shown, confirmations whose default is no (listing their
//! targets, and asking for the count of a bulk write), the unsaved-settings question, a
//! `--readonly` console, the mouse, an Esc that arrives glued to the next key, ctrl-z, the
//! expanded row and the message history.

use orderdeck::console::effect::{Mouse, MouseKind};
use orderdeck::console::state::{Leave, Overlay};
use orderdeck::console::theme::Theme;
use orderdeck::console::{Effect, Event, View, handle_key, receive};
use orderdeck::domain::access::Role;
use orderdeck::service::api::{OrderColumn, Request};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::fake_client::FakeClient;
use super::{open, plain, press, render, seed, type_text};

fn line(state: &orderdeck::console::State) -> Option<String> {
    state.line.as_ref().map(|l| l.input.value().to_string())
}

#[tokio::test]
async fn the_command_line_keeps_a_history() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    for command in ["view missing", "link uk-shop1", "view pending"] {
        press(&client, &mut state, ":").await;
        type_text(&client, &mut state, command).await;
        press(&client, &mut state, "enter").await;
    }
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "vi").await;
    press(&client, &mut state, "up").await;
    assert_eq!(line(&state).as_deref(), Some("view pending"));
    press(&client, &mut state, "up up").await;
    assert_eq!(line(&state).as_deref(), Some("view missing"));
    press(&client, &mut state, "up").await;
    assert_eq!(
        line(&state).as_deref(),
        Some("view missing"),
        "the oldest stays"
    );
    press(&client, &mut state, "down down").await;
    assert_eq!(line(&state).as_deref(), Some("view pending"));
    press(&client, &mut state, "down").await;
    assert_eq!(
        line(&state).as_deref(),
        Some("vi"),
        "back to what was typed"
    );
}

#[tokio::test]
async fn tab_cycles_through_the_candidates_and_the_line_scrolls_to_them() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (64, 20), Theme::ansi16()).await;
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "s").await;
    press(&client, &mut state, "tab").await;
    assert_eq!(line(&state).as_deref(), Some("settings"));
    press(&client, &mut state, "tab tab").await;
    assert_eq!(line(&state).as_deref(), Some("stores"));
    press(&client, &mut state, "shift-tab").await;
    assert_eq!(line(&state).as_deref(), Some("sort"));
    press(&client, &mut state, "tab tab").await;
    assert_eq!(line(&state).as_deref(), Some("stuck"));
    press(&client, &mut state, "tab").await;
    assert_eq!(line(&state).as_deref(), Some("sync"));

    // Twenty candidates do not fit in 64 columns: the line scrolls to the one in the input.
    press(&client, &mut state, "esc :").await;
    press(&client, &mut state, "tab").await;
    assert_eq!(line(&state).as_deref(), Some("activity"));
    let footer = plain(&render(&state))
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    assert!(footer.contains('›') && !footer.contains('‹'), "{footer}");
    press(&client, &mut state, "shift-tab").await;
    assert_eq!(
        line(&state).as_deref(),
        Some("view"),
        "back round to the last"
    );
    let footer = plain(&render(&state))
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    assert!(
        footer.ends_with("view"),
        "the last candidate is on screen: {footer}"
    );
    assert!(
        footer.contains('‹'),
        "earlier candidates are out of sight: {footer}"
    );
}

#[tokio::test]
async fn sorting_offers_the_columns_shown_and_marks_the_sorted_one() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (200, 50), Theme::ansi16()).await;
    press(&client, &mut state, "2").await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        press(&client, &mut state, "s").await;
        seen.push(state.pending.sort);
    }
    assert_eq!(
        seen,
        [
            OrderColumn::Id,
            OrderColumn::Link,
            OrderColumn::Status,
            OrderColumn::StoreOrder,
            OrderColumn::Why,
            OrderColumn::Default,
        ],
        "every column shown, left to right, then the view's own order (by Paid)"
    );
    press(&client, &mut state, "s s s s s").await;
    assert_eq!(state.pending.sort, OrderColumn::Why);
    let screen = plain(&render(&state));
    assert!(screen.contains("Why it is not in the store ▲"), "{screen}");
    let asked = client.calls().into_iter().rev().find_map(|r| match r {
        Request::Orders(q) => Some(q.sort),
        _ => None,
    });
    assert_eq!(
        asked,
        Some(OrderColumn::Why),
        "the service sorts the whole list"
    );

    // Narrow, the hidden columns are not offered.
    let mut narrow = open(&client, (64, 20), Theme::ansi16()).await;
    press(&client, &mut narrow, "2 :").await;
    type_text(&client, &mut narrow, "sort ").await;
    let offered = narrow
        .line
        .as_ref()
        .map(|l| l.candidates.clone())
        .unwrap_or_default();
    assert_eq!(
        offered,
        ["default", "id", "link", "why"],
        "only what 64 columns show"
    );
    type_text(&client, &mut narrow, "status").await;
    press(&client, &mut narrow, "enter").await;
    assert_eq!(narrow.pending.sort, OrderColumn::Default);
    assert!(
        narrow
            .toasts
            .iter()
            .any(|t| t.text.contains("not a column shown here")),
        "{:?}",
        narrow.toasts
    );
}

#[tokio::test]
async fn enter_alone_never_confirms_a_write() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "2 j t").await;
    assert!(matches!(state.overlay, Some(Overlay::Confirm(_))));
    let screen = plain(&render(&state));
    assert!(screen.contains("Targets: 576461413039785755"), "{screen}");
    assert!(screen.contains("no (the default)"), "{screen}");
    press(&client, &mut state, "enter").await;
    assert!(state.overlay.is_none(), "enter answered no");
    assert!(client.mutations().is_empty(), "{:?}", client.mutations());
}

#[tokio::test]
async fn a_bulk_write_lists_ten_targets_and_asks_for_the_count() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "2").await;
    for _ in 0..12 {
        press(&client, &mut state, "space").await;
    }
    press(&client, &mut state, "t").await;
    let screen = plain(&render(&state));
    assert!(screen.contains("and 2 more"), "{screen}");
    assert!(screen.contains("type 12 to go ahead"), "{screen}");
    press(&client, &mut state, "y").await;
    type_text(&client, &mut state, "11").await;
    press(&client, &mut state, "enter").await;
    assert!(
        client.mutations().is_empty(),
        "a wrong count writes nothing"
    );
    assert!(plain(&render(&state)).contains("type 12 (the number of rows)"));
    press(&client, &mut state, "ctrl-u").await;
    type_text(&client, &mut state, "12").await;
    press(&client, &mut state, "enter").await;
    assert!(matches!(
        client.mutations().as_slice(),
        [Request::RetryStuck { orders, .. }] if orders.len() == 12
    ));
}

#[tokio::test]
async fn a_bulk_resync_asks_the_reason_then_the_count() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "2").await;
    for _ in 0..11 {
        press(&client, &mut state, "space").await;
    }
    press(&client, &mut state, "r").await;
    type_text(&client, &mut state, "SKU added this morning").await;
    press(&client, &mut state, "enter").await;
    assert!(client.mutations().is_empty());
    type_text(&client, &mut state, "11").await;
    press(&client, &mut state, "enter").await;
    assert!(matches!(
        client.mutations().as_slice(),
        [Request::Resync { orders, reason, .. }]
            if orders.len() == 11 && reason == "SKU added this morning"
    ));
}

async fn with_an_unsaved_change(client: &FakeClient) -> orderdeck::console::State {
    let mut state = open(client, (120, 36), Theme::ansi16()).await;
    press(client, &mut state, "8 j j j enter ctrl-u").await;
    type_text(client, &mut state, "12h").await;
    press(client, &mut state, "enter").await;
    assert_eq!(state.settings.changes().len(), 1);
    state
}

#[tokio::test]
async fn leaving_unsaved_settings_asks_save_discard_or_stay() {
    let client = FakeClient::new(Role::Operator);
    let mut state = with_an_unsaved_change(&client).await;
    let effects = press(&client, &mut state, "q").await;
    assert!(
        !effects.contains(&Effect::Quit),
        "not quit with changes unsaved"
    );
    assert!(matches!(
        state.overlay,
        Some(Overlay::Unsaved { then: Leave::Quit })
    ));
    press(&client, &mut state, "esc").await;
    assert!(
        state.overlay.is_none() && state.view == View::Settings,
        "stay"
    );
    assert_eq!(
        state.settings.changes().len(),
        1,
        "the change is still there"
    );

    press(&client, &mut state, "2").await;
    assert!(matches!(
        state.overlay,
        Some(Overlay::Unsaved {
            then: Leave::View(View::Pending)
        })
    ));
    press(&client, &mut state, "enter").await;
    assert_eq!(state.view, View::Settings, "enter stays too");

    press(&client, &mut state, "] d").await;
    assert!(state.settings.draft.is_none(), "discarded");
    assert_eq!(
        state.settings.link.as_ref().map(|l| l.as_str()),
        Some("us-shop2")
    );
}

#[tokio::test]
async fn saving_from_the_question_saves_then_goes_on() {
    let client = FakeClient::new(Role::Operator);
    let mut state = with_an_unsaved_change(&client).await;
    press(&client, &mut state, "3 w").await;
    assert!(
        matches!(state.overlay, Some(Overlay::Confirm(_))),
        "the diff is shown first"
    );
    press(&client, &mut state, "y").await;
    assert!(matches!(
        client.mutations().as_slice(),
        [Request::SetSettings { .. }]
    ));
    assert_eq!(
        state.view,
        View::Missing,
        "once saved, on to where the person was going"
    );
}

#[tokio::test]
async fn a_readonly_console_offers_nothing_that_writes() {
    let client = FakeClient::new(Role::Admin);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    state.session.readonly = true;
    press(&client, &mut state, "2 r t 7 space").await;
    assert!(state.overlay.is_none());
    assert!(client.mutations().is_empty());
    assert!(state.settings.draft.is_none());
    assert!(
        state.toasts.iter().any(|t| t.text.contains("--readonly")),
        "{:?}",
        state.toasts
    );
    let screen = plain(&render(&state));
    assert!(screen.contains("read-only (--readonly)"), "{screen}");
}

#[tokio::test]
async fn the_mouse_wheel_scrolls_and_a_click_selects() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    state.mouse = true;
    let mouse = |kind, column, row| Event::Mouse(Mouse { kind, column, row });
    // The tab bar: "2:Pending orders …" starts a few columns in.
    receive(&mut state, mouse(MouseKind::Click, 16, 1));
    assert_eq!(state.view, View::Pending);
    let effects = orderdeck::console::update::load_view(&mut state);
    orderdeck::console::settle(&client, &mut state, effects).await;
    receive(&mut state, mouse(MouseKind::WheelDown, 40, 10));
    assert_eq!(state.pending.selected, 3, "one notch, three rows");
    receive(&mut state, mouse(MouseKind::Click, 40, 4 + 5));
    assert_eq!(state.pending.selected, 5, "the fifth row below the titles");
    receive(&mut state, mouse(MouseKind::WheelUp, 40, 10));
    assert_eq!(state.pending.selected, 2);

    state.mouse = false;
    receive(&mut state, mouse(MouseKind::Click, 40, 4 + 7));
    assert_eq!(
        state.pending.selected, 2,
        "[console] mouse = false: ignored"
    );
}

#[tokio::test]
async fn an_esc_glued_to_the_next_key_is_two_keys() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "2 /").await;
    type_text(&client, &mut state, "stuck").await;
    // Esc then j over a laggy link: crossterm reports alt-j.
    let glued = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::ALT);
    let effects = handle_key(&mut state, &glued);
    orderdeck::console::settle(&client, &mut state, effects).await;
    assert!(state.line.is_none(), "the Esc closed the filter line");
    assert!(state.pending.filter.is_empty(), "and restored the filter");
    assert_eq!(state.pending.selected, 1, "and j moved down");
}

#[tokio::test]
async fn ctrl_z_asks_to_suspend() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let effects = press(&client, &mut state, "ctrl-z").await;
    assert_eq!(effects, [Effect::Suspend]);
}

#[tokio::test]
async fn the_selected_row_expands_whole() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (64, 20), Theme::ansi16()).await;
    press(&client, &mut state, "2 j j v").await;
    assert!(matches!(state.overlay, Some(Overlay::Row { .. })));
    let screen = plain(&render(&state));
    let why = seed::pending(14)[2].why.clone();
    let words: Vec<&str> = why.split(' ').collect();
    for word in words {
        assert!(
            screen.contains(word),
            "{word:?} of {why:?} not shown:\n{screen}"
        );
    }
    press(&client, &mut state, "esc").await;
    assert!(state.overlay.is_none());
}

#[tokio::test]
async fn every_message_can_be_read_again_whole() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (64, 20), Theme::ansi16()).await;
    let long = "could not reprint the label of 576461413038785752: TikTok answered 36009004 \
                (package not ready for shipping documents); try again after the package is arranged";
    orderdeck::console::update::toast(&mut state, orderdeck::console::theme::Level::Error, long);
    let screen = plain(&render(&state));
    assert!(
        screen.contains(":messages"),
        "a cut toast says where it is whole:\n{screen}"
    );
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "messages").await;
    press(&client, &mut state, "enter").await;
    assert!(matches!(state.overlay, Some(Overlay::Messages { .. })));
    let screen = plain(&render(&state));
    for word in ["36009004", "arranged"] {
        assert!(screen.contains(word), "{word} missing:\n{screen}");
    }
    assert!(
        state.toasts.iter().any(|t| t.text == long),
        "an error stays until dismissed"
    );
}

#[tokio::test]
async fn every_list_sorts_by_the_columns_it_shows() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    // (view key, first column `s` picks, its header, the request carries it)
    for (view, column, header) in [
        ("5", OrderColumn::Id, "Order ▲"),
        ("6", OrderColumn::Request, "Request ▲"),
        ("7", OrderColumn::When, "When ▲"),
    ] {
        press(&client, &mut state, view).await;
        client.forget_calls();
        press(&client, &mut state, "s").await;
        let screen = plain(&render(&state));
        assert!(screen.contains(header), "{view}: {screen}");
        let sent = client.calls();
        let sort = sent.iter().find_map(|r| match r {
            Request::Cancellations(q) => Some(q.sort),
            Request::Requests(q) if q.pending_only => Some(q.sort),
            Request::Activity(q) => Some(q.sort),
            _ => None,
        });
        assert_eq!(sort.map(|s| s.column), Some(column), "{view}: {sent:?}");
        press(&client, &mut state, "S").await;
        assert!(
            plain(&render(&state)).contains(&header.replace('▲', "▼")),
            "{view}"
        );
    }
    // A column a list does not show is refused by name.
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "sort ship-by").await;
    press(&client, &mut state, "enter").await;
    assert!(
        state
            .toasts
            .iter()
            .any(|t| t.text.contains("ship-by is not a column shown here")),
        "{:?}",
        state.toasts
    );
}
