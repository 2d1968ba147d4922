//! Moving around: Esc backs out one level at a time, the filter line and command completion,
//! paging that asks only for the rows on screen, old answers dropped, notifications debounced,
//! reconnection, and chords.

use orderdeck::console::state::Overlay;
use orderdeck::console::theme::Theme;
use orderdeck::console::{Action, Effect, Event, View, receive, settle, update};
use orderdeck::domain::access::Role;
use orderdeck::service::api::{Notification, OrderQuery, Request, Response};
use orderdeck::service::client::ClientEvent;

use super::fake_client::FakeClient;
use super::{act, open, plain, press, render, seed, toasts, type_text};

#[tokio::test]
async fn escape_backs_out_one_level_at_a_time() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "link uk-shop1").await;
    press(&client, &mut state, "enter 2 space /").await;
    type_text(&client, &mut state, "GHOST").await;
    press(&client, &mut state, "enter enter ?").await;
    assert!(matches!(state.overlay, Some(Overlay::Help { .. })));
    press(&client, &mut state, "esc").await;
    assert!(state.overlay.is_none() && state.detail.is_some());
    press(&client, &mut state, "esc").await;
    assert!(state.detail.is_none() && state.pending.filter == "GHOST");
    press(&client, &mut state, "esc").await;
    assert!(state.pending.filter.is_empty() && !state.pending.marks.is_empty());
    press(&client, &mut state, "esc").await;
    assert!(state.pending.marks.is_empty() && state.link.is_some());
    press(&client, &mut state, "esc").await;
    assert!(state.link.is_none());
}

#[tokio::test]
async fn escape_in_the_filter_line_restores_the_filter() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "2 /").await;
    type_text(&client, &mut state, "stuck").await;
    assert_eq!(state.pending.total, 6, "the filter applies while typing");
    press(&client, &mut state, "esc").await;
    assert!(state.line.is_none() && state.pending.filter.is_empty());
    assert_eq!(state.pending.total, 14);
}

#[tokio::test]
async fn command_and_filter_completion() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "vi").await;
    press(&client, &mut state, "tab").await;
    assert_eq!(state.line.as_ref().map(|l| l.input.value()), Some("view "));
    type_text(&client, &mut state, "mi").await;
    press(&client, &mut state, "tab enter").await;
    assert_eq!(state.view, View::Missing);

    press(&client, &mut state, "/").await;
    type_text(&client, &mut state, "sto").await;
    press(&client, &mut state, "tab").await;
    assert_eq!(state.line.as_ref().map(|l| l.input.value()), Some("store:"));
    type_text(&client, &mut state, "uk").await;
    press(&client, &mut state, "tab enter").await;
    assert_eq!(state.missing.filter, "store:uk-shop1 ");
    assert!(
        state
            .missing
            .rows
            .iter()
            .all(|r| r.link.as_str() == "uk-shop1")
    );

    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "vew").await;
    press(&client, &mut state, "enter").await;
    assert!(
        toasts(&state)
            .iter()
            .any(|t| t.contains("did you mean \"view\""))
    );
}

fn order_queries(client: &FakeClient) -> Vec<OrderQuery> {
    client
        .calls()
        .into_iter()
        .filter_map(|r| match r {
            Request::Orders(q) => Some(q),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn paging_asks_only_for_the_rows_on_screen() {
    let client = FakeClient::with_sizes(Some(Role::Operator), 12_431, 12);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    client.forget_calls();
    act(&client, &mut state, Action::ViewPending).await;
    let page = state.page_rows();
    assert_eq!(page, 30);
    let first = order_queries(&client);
    assert_eq!(
        (first[0].offset, first[0].limit),
        (0, 50),
        "the screen plus a little"
    );
    assert!(plain(&render(&state)).contains("showing 1–30 of 12,431"));

    client.forget_calls();
    press(&client, &mut state, "j").await;
    assert!(
        order_queries(&client).is_empty(),
        "a step inside the loaded rows asks nothing"
    );

    press(&client, &mut state, "pgdown").await;
    assert!(
        order_queries(&client).is_empty(),
        "the prefetched rows cover one page down"
    );
    press(&client, &mut state, "pgdown").await;
    let asked = order_queries(&client);
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].offset <= state.pending.top && asked[0].limit == 50,
        "{:?}",
        asked[0]
    );

    press(&client, &mut state, "G").await;
    assert_eq!(state.pending.selected, 12_430);
    assert!(plain(&render(&state)).contains("showing 12,402–12,431 of 12,431"));
    press(&client, &mut state, "g g").await;
    assert_eq!(state.pending.selected, 0);
    assert!(
        state.pending.rows.len() <= 50,
        "never more than a page and a little is held"
    );
}

#[tokio::test]
async fn an_older_answer_never_replaces_a_newer_page() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let old = update(&mut state, Action::ViewPending);
    let new = update(&mut state, Action::Refresh);
    let call = |effects: &[Effect]| {
        effects.iter().rev().find_map(|e| match e {
            Effect::Call {
                ticket,
                request: Request::Orders(q),
            } => Some((ticket.clone(), q.clone())),
            _ => None,
        })
    };
    let ((old_ticket, _), (new_ticket, query)) =
        (call(&old).expect("old"), call(&new).expect("new"));
    let mut answer = |ticket, rows| {
        let mut page = orderdeck::service::api::Paged {
            total: rows,
            offset: 0,
            rows: seed::pending(rows),
            counting: false,
        };
        page.rows.truncate(query.limit);
        receive(
            &mut state,
            Event::Reply {
                ticket,
                result: Ok(orderdeck::service::api::Response::Orders(page)),
            },
        )
    };
    answer(new_ticket, 3);
    answer(old_ticket, 9);
    assert_eq!(state.pending.total, 3);
}

/// A filtered list of a million orders answers its page before its count: the page shows at
/// once with "counting…", the console asks for the count, and the total replaces it.
#[tokio::test]
async fn a_filtered_page_shows_first_and_its_count_follows() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let asked = update(&mut state, Action::ViewPending);
    let ticket = asked
        .iter()
        .find_map(|e| match e {
            Effect::Call {
                ticket,
                request: Request::Orders(_),
            } => Some(ticket.clone()),
            _ => None,
        })
        .expect("a page is asked for");
    let page = orderdeck::service::api::Paged {
        total: 40,
        offset: 0,
        rows: seed::pending(40),
        counting: true,
    };
    let effects = receive(
        &mut state,
        Event::Reply {
            ticket,
            result: Ok(Response::Orders(page)),
        },
    );
    assert!(plain(&render(&state)).contains("counting…"));
    let count = effects
        .iter()
        .find_map(|e| match e {
            Effect::Call {
                ticket,
                request: Request::OrderCount(q),
            } => Some((ticket.clone(), q.clone())),
            _ => None,
        })
        .expect("the count is asked for");
    assert_eq!(count.1.view, orderdeck::domain::triage::OrderView::Pending);
    receive(
        &mut state,
        Event::Reply {
            ticket: count.0,
            result: Ok(Response::OrderCount { total: 12_345 }),
        },
    );
    let screen = plain(&render(&state));
    assert!(
        screen.contains("of 12,345") && !screen.contains("counting…"),
        "{screen}"
    );
}

#[tokio::test]
async fn notifications_are_debounced_and_refresh_only_what_is_shown() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    act(&client, &mut state, Action::ViewMissing).await;
    let link = seed::link("uk-shop1");
    let mut armed = Vec::new();
    for generation in 1..=5 {
        let n = Notification::Orders {
            link: link.clone(),
            generation,
        };
        armed.extend(receive(&mut state, Event::Client(ClientEvent::Changed(n))));
    }
    assert!(matches!(
        armed.as_slice(),
        [Effect::Later {
            event: Event::RefreshChanged,
            ..
        }]
    ));
    let refresh = receive(&mut state, Event::RefreshChanged);
    let asked: Vec<_> = refresh
        .iter()
        .filter_map(|e| match e {
            Effect::Call { request, .. } => Some(request.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(matches!(asked[0], Request::Overview));
    assert!(
        matches!(&asked[1], Request::Orders(q) if q.view == orderdeck::domain::triage::OrderView::MissingTracking)
    );
}

#[tokio::test]
async fn losing_the_daemon_shows_and_coming_back_refreshes_everything() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    act(&client, &mut state, Action::ViewApprovals).await;
    receive(
        &mut state,
        Event::Client(ClientEvent::Disconnected {
            reason: "daemon restarting".into(),
        }),
    );
    assert!(plain(&render(&state)).contains("reconnecting… (daemon restarting)"));
    let effects = receive(&mut state, Event::Client(ClientEvent::Reconnected));
    let asked: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Call { request, .. } => Some(request.clone()),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            asked.as_slice(),
            [
                Request::Hello { .. },
                Request::Subscribe,
                Request::Overview,
                Request::Requests(_)
            ]
        ),
        "{asked:?}"
    );
    assert!(plain(&render(&state)).contains("● live"));
}

#[tokio::test]
async fn chords_and_their_interruption() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "2 G").await;
    press(&client, &mut state, "g").await;
    assert!(plain(&render(&state)).contains("g …"));
    press(&client, &mut state, "esc").await;
    assert!(state.typed.is_empty() && state.pending.selected == 13);
    press(&client, &mut state, "g k").await;
    assert_eq!(
        state.pending.selected, 12,
        "a key that breaks a chord still counts"
    );
    press(&client, &mut state, "g g").await;
    assert_eq!(state.pending.selected, 0);
}

#[tokio::test]
async fn activity_reads_people_and_engine_filters_follows_and_opens_orders() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    client.forget_calls();
    press(&client, &mut state, "7").await;
    assert!(
        client
            .calls()
            .iter()
            .any(|r| matches!(r, Request::Activity(q) if q.offset == 0 && q.filter.is_none())),
        "{:?}",
        client.calls()
    );
    let screen = plain(&render(&state));
    assert!(
        screen.contains("orderdeck") && screen.contains("bob"),
        "{screen}"
    );
    assert!(!screen.contains('\u{1b}'), "platform text is cleaned");

    press(&client, &mut state, "/").await;
    type_text(&client, &mut state, "stuck").await;
    press(&client, &mut state, "enter").await;
    assert!(matches!(
        client.calls().last(),
        Some(Request::Activity(q)) if q.filter.as_deref() == Some("stuck")
    ));
    assert!(state.activity.total > 0);
    assert!(state.activity.rows.iter().all(|r| r.text.contains("stuck")));

    // Following: engine events come with order changes, so those refresh the list too.
    press(&client, &mut state, "f").await;
    client.forget_calls();
    let n = Notification::Orders {
        link: seed::link("uk-shop1"),
        generation: 9,
    };
    receive(&mut state, Event::Client(ClientEvent::Changed(n)));
    let refresh = receive(&mut state, Event::RefreshChanged);
    assert!(
        refresh.iter().any(|e| matches!(
            e,
            Effect::Call {
                request: Request::Activity(_),
                ..
            }
        )),
        "{refresh:?}"
    );

    // Not following: the status line says there is something new instead.
    press(&client, &mut state, "f").await;
    let n = Notification::Health { generation: 10 };
    receive(&mut state, Event::Client(ClientEvent::Changed(n)));
    let refresh = receive(&mut state, Event::RefreshChanged);
    assert!(!refresh.iter().any(|e| matches!(
        e,
        Effect::Call {
            request: Request::Activity(_),
            ..
        }
    )));
    assert!(plain(&render(&state)).contains("new activity above"));

    press(&client, &mut state, "enter").await;
    let opened = state.detail.as_ref().map(|d| d.id.clone());
    assert_eq!(opened, Some(seed::order_id(0)), "the row's order opens");
}

#[tokio::test]
async fn approvals_offer_no_filter_the_service_would_ignore() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "6 /").await;
    assert!(state.line.is_none());
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "filter bob").await;
    press(&client, &mut state, "enter").await;
    assert!(state.approvals.filter.is_empty());
    assert_eq!(
        toasts(&state)
            .iter()
            .filter(|t| *t == "this view has no filter")
            .count(),
        2
    );
}

/// "4 enter" arriving together over a slow link: the Stuck list's page is not in yet when
/// enter comes. Its selected row opens once the page arrives; a key typed in between cancels.
#[tokio::test]
async fn enter_typed_ahead_of_the_rows_opens_the_row_once_it_shows() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let mut unanswered = Vec::new();
    for key in orderdeck::console::keys::parse_seq("4 enter").expect("keys") {
        unanswered.extend(orderdeck::console::handle_key(
            &mut state,
            &super::event(key),
        ));
    }
    assert!(state.detail.is_none());
    let said = toasts(&state);
    assert!(
        said.iter().any(|t| t.contains("on its way")),
        "not 'this row names no order': {said:?}"
    );
    settle(&client, &mut state, unanswered).await;
    let opened = state.detail.as_ref().map(|d| d.id.clone());
    let first = state.stuck.row(0).map(|r| r.id.clone());
    assert!(first.is_some(), "the Stuck list has rows");
    assert_eq!(opened, first, "the first stuck order opened");

    // Typed on: another key after enter leaves the list as it is.
    press(&client, &mut state, "esc 1").await;
    let mut unanswered = Vec::new();
    for key in orderdeck::console::keys::parse_seq("9 enter j").expect("keys") {
        unanswered.extend(orderdeck::console::handle_key(
            &mut state,
            &super::event(key),
        ));
    }
    settle(&client, &mut state, unanswered).await;
    assert!(state.orders.row(1).is_some(), "the Orders view has rows");
    assert!(state.detail.is_none(), "j came after enter");
}
