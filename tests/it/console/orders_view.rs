//! The Orders view (every order, newest first) and `:order` by what a customer quotes: the
//! view asks the service for the every-order list, sorts and filters it there, shows a filtered
//! page before its count and keeps answering keys while the count follows; `:order` opens the
//! one order a TikTok id or store number names, lists several, and says so when none. An
//! order's detail reads right for a year-old order and hints only the keys that apply to it.

use std::collections::VecDeque;

use orderdeck::console::theme::Theme;
use orderdeck::console::{Effect, Event, State, View, handle_key, receive};
use orderdeck::domain::access::Role;
use orderdeck::domain::triage::OrderView;
use orderdeck::service::api::{OrderColumn, OrderQuery, Request, SortDir};

use super::fake_client::FakeClient;
use super::{event, open, plain, press, render, seed, toasts, type_text};

/// The last order list query `client` received.
fn last_query(client: &FakeClient) -> OrderQuery {
    client
        .calls()
        .into_iter()
        .rev()
        .find_map(|r| match r {
            Request::Orders(q) => Some(q),
            _ => None,
        })
        .expect("an order list was asked for")
}

/// Runs what `effects` ask of `client`, except counts: those stay on their way (returned), as
/// the count of a filter over a million orders does while its first page is already shown.
async fn settle_before_counts(
    client: &FakeClient,
    state: &mut State,
    effects: Vec<Effect>,
) -> Vec<Effect> {
    let mut queue: VecDeque<Effect> = effects.into();
    let mut counts = Vec::new();
    while let Some(effect) = queue.pop_front() {
        match effect {
            Effect::Call {
                request: Request::OrderCount(_),
                ..
            } => counts.push(effect),
            Effect::Call { ticket, request } => {
                let result = orderdeck::service::client::Client::call(client, request).await;
                queue.extend(receive(state, Event::Reply { ticket, result }));
            }
            _ => {}
        }
    }
    counts
}

/// Presses `keys` (as in keymap.toml), answering everything but counts; returns the counts
/// asked for.
pub async fn press_before_counts(
    client: &FakeClient,
    state: &mut State,
    keys: &str,
) -> Vec<Effect> {
    let mut counts = Vec::new();
    for key in orderdeck::console::keys::parse_seq(keys).expect("test keys are valid") {
        let effects = handle_key(state, &event(key));
        counts.extend(settle_before_counts(client, state, effects).await);
    }
    counts
}

/// Types `text` into the open line, answering everything but counts; returns the counts asked
/// for.
pub async fn type_before_counts(client: &FakeClient, state: &mut State, text: &str) -> Vec<Effect> {
    let mut counts = Vec::new();
    for c in text.chars() {
        let key =
            ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char(c));
        let effects = handle_key(state, &key);
        counts.extend(settle_before_counts(client, state, effects).await);
    }
    counts
}

#[tokio::test]
async fn every_order_is_listed_newest_first_with_its_count_in_the_tab() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "view orders").await;
    press(&client, &mut state, "enter").await;
    assert_eq!(state.view, View::Orders);
    assert_eq!(last_query(&client).view, OrderView::All);
    let rows = &state.orders.rows;
    assert_eq!(
        state.orders.total,
        14 + 12 + 8,
        "pending, missing tracking and past"
    );
    assert!(rows.windows(2).all(|w| w[0].created_at >= w[1].created_at));
    let screen = plain(&render(&state));
    assert!(screen.contains("9:Orders 34"), "{screen}");
    assert!(
        screen.contains("Created ▼"),
        "its own order is marked: {screen}"
    );
    // The key reaches it too, from anywhere.
    press(&client, &mut state, "2 9").await;
    assert_eq!(state.view, View::Orders);
}

#[tokio::test]
async fn a_narrow_tab_bar_rounds_the_shown_tabs_count_rather_than_cut_it() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (64, 20), Theme::ansi16()).await;
    press(&client, &mut state, "9").await;
    // A store of a hundred thousand orders, a few thousand in each list.
    let overview = state.overview.as_mut().expect("the overview came");
    for (n, link) in overview.links.iter_mut().enumerate() {
        link.counts.pending = 2_517 + n;
        link.counts.missing_tracking = 463;
        link.counts.stuck = 2_006;
        link.counts.all = 100_291 + n;
    }
    let screen = plain(&render(&state));
    let tabs = screen.lines().nth(1).unwrap_or_default();
    let all: usize = state
        .overview
        .iter()
        .flat_map(|o| &o.links)
        .map(|l| l.counts.all)
        .sum();
    let rounded = format!("{}k", all / 1_000);
    assert!(
        tabs.contains(&format!("9:O {rounded}")) || tabs.contains(&format!("9:Orders {rounded}")),
        "the count shown whole, rounded: {tabs}"
    );
}

#[tokio::test]
async fn a_delivered_orders_ship_by_is_a_date_not_a_countdown() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    // The oldest order of all: delivered weeks ago, its ship-by long past.
    press(&client, &mut state, "9 G enter").await;
    let screen = plain(&render(&state));
    let ship_by = screen
        .lines()
        .find(|l| l.contains("Ship by"))
        .expect("its ship-by is shown");
    assert!(
        screen.contains("DELIVERED") || screen.contains("COMPLETED"),
        "{screen}"
    );
    assert!(ship_by.contains("UTC"), "{ship_by}");
    assert!(
        !ship_by.contains("late") && !ship_by.contains('('),
        "{ship_by}"
    );
    // It came with a preloaded history: its timeline says it has nothing, not a bare heading.
    press(&client, &mut state, "G").await;
    let end = plain(&render(&state));
    assert!(end.contains("nothing recorded"), "{end}");
    // One still to ship counts down.
    press(&client, &mut state, "esc 2 enter").await;
    let screen = plain(&render(&state));
    let ship_by = screen.lines().find(|l| l.contains("Ship by")).unwrap_or("");
    assert!(ship_by.contains('('), "{screen}");
}

#[tokio::test]
async fn each_column_shown_sorts_both_ways_by_the_service() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "9 :").await;
    type_text(&client, &mut state, "sort buyer desc").await;
    press(&client, &mut state, "enter").await;
    let q = last_query(&client);
    assert_eq!(
        (q.view, q.sort, q.dir),
        (OrderView::All, OrderColumn::Buyer, SortDir::Desc)
    );
    let buyers: Vec<&str> = state.orders.rows.iter().map(|r| r.buyer.as_str()).collect();
    assert!(buyers.windows(2).all(|w| w[0] >= w[1]), "{buyers:?}");
    assert!(plain(&render(&state)).contains("Buyer ▼"));
    // `s` steps through the columns on screen, left to right, after the view's own order.
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "sort default asc").await;
    press(&client, &mut state, "enter s").await;
    assert_eq!(last_query(&client).sort, OrderColumn::Id);
    press(&client, &mut state, "s S").await;
    let q = last_query(&client);
    assert_eq!((q.sort, q.dir), (OrderColumn::StoreOrder, SortDir::Desc));

    // At 64 columns Why is not on screen, so it is not offered.
    let mut narrow = open(&client, (64, 20), Theme::ansi16()).await;
    press(&client, &mut narrow, "9 :").await;
    type_text(&client, &mut narrow, "sort why").await;
    press(&client, &mut narrow, "enter").await;
    let said = toasts(&narrow).join("\n");
    assert!(said.contains("why is not a column shown here"), "{said}");
}

/// Support types whatever the customer reads out: each reaches the order through the service's
/// filter on the every-order list.
#[tokio::test]
async fn the_filter_finds_an_order_by_anything_a_customer_quotes() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "9").await;
    let past = seed::history();
    let quotes = [
        past[1].id.to_string(),
        "#989".to_string(),
        "order:989".to_string(),
        "tracking:RM000004411GB".to_string(),
    ];
    for quote in quotes {
        press(&client, &mut state, "esc /").await;
        type_text(&client, &mut state, &quote).await;
        press(&client, &mut state, "enter").await;
        assert_eq!(last_query(&client).filter.as_deref(), Some(quote.as_str()));
        let ids: Vec<String> = state.orders.rows.iter().map(|r| r.id.to_string()).collect();
        assert_eq!(ids, [past[1].id.to_string()], "{quote}");
    }
    press(&client, &mut state, "esc /").await;
    type_text(&client, &mut state, "buyer:jones sku:ghost").await;
    press(&client, &mut state, "enter").await;
    assert_eq!(
        state.orders.rows.len(),
        2,
        "one pending, one missing tracking"
    );
    assert!(
        state
            .orders
            .rows
            .iter()
            .all(|r| r.buyer == "Liam Jones" && r.skus.contains("GHOST"))
    );
}

/// A filter over many orders shows its first page with "counting…"; keys are answered while the
/// count is on its way, and the count replaces the guess when it comes.
#[tokio::test]
async fn a_filtered_page_shows_counting_and_keys_are_never_kept_waiting() {
    let client = FakeClient::with_sizes(Some(Role::Viewer), 300, 12);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let mut counts = press_before_counts(&client, &mut state, "9 /").await;
    counts.extend(type_before_counts(&client, &mut state, "uk-shop1").await);
    counts.extend(press_before_counts(&client, &mut state, "enter").await);
    assert!(state.orders.counting && state.orders.counting_for.is_some());
    assert!(plain(&render(&state)).contains("counting…"));
    counts.extend(press_before_counts(&client, &mut state, "j j").await);
    assert_eq!(
        state.orders.selected, 2,
        "moved while the count is on its way"
    );
    // The counts arrive (the older ones, for filters typed over since, are dropped).
    orderdeck::console::settle(&client, &mut state, counts).await;
    let screen = plain(&render(&state));
    assert!(
        !screen.contains("counting…") && screen.contains("of 109"),
        "{screen}"
    );
}

/// Typing a filter over a million orders: each key's filtered page is a scan at the service, so
/// keys typed while one is on its way ask nothing; its answer asks for the filter as typed by
/// then. One scan in flight, and the last key's page comes after at most two, not one per key.
#[tokio::test]
async fn typing_a_filter_keeps_one_scan_in_flight_and_asks_for_the_last_one_typed() {
    let client = FakeClient::with_sizes(Some(Role::Viewer), 300, 12);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, "9 /").await;
    let filtered_pages = |effects: &[Effect]| -> Vec<(u64, Option<String>)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Call {
                    ticket,
                    request: Request::Orders(q),
                } => Some((ticket.id, q.filter.clone())),
                _ => None,
            })
            .collect()
    };
    let mut asked = Vec::new();
    for c in "uk-shop1".chars() {
        let key =
            ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char(c));
        asked.extend(handle_key(&mut state, &key));
    }
    let first = filtered_pages(&asked);
    assert_eq!(
        first.iter().map(|(_, f)| f.as_deref()).collect::<Vec<_>>(),
        [Some("u")],
        "only the first key's page is asked while it is on its way"
    );
    assert!(state.orders.owed);
    // Its answer is of a filter typed over since: not shown; the filter as typed now is asked.
    let Some(Effect::Call { ticket, request }) = asked.into_iter().find(|e| {
        matches!(
            e,
            Effect::Call {
                request: Request::Orders(_),
                ..
            }
        )
    }) else {
        unreachable!("asked above")
    };
    let result = orderdeck::service::client::Client::call(&client, request).await;
    let next = receive(&mut state, Event::Reply { ticket, result });
    let second = filtered_pages(&next);
    assert_eq!(
        second.iter().map(|(_, f)| f.as_deref()).collect::<Vec<_>>(),
        [Some("uk-shop1")]
    );
    assert!(
        state.orders.stale,
        "the old filter's rows were not installed"
    );
    let mut counts = settle_before_counts(&client, &mut state, next).await;
    assert!(
        state
            .orders
            .rows
            .iter()
            .all(|r| r.link.as_str() == "uk-shop1"),
        "the last filter's page is shown"
    );
    assert_eq!(counts.len(), 1, "one count, of the last filter");

    // The filter changes while that count is on its way: the new filter is counted at once
    // (the service stops the older count), and the older answer, coming last, is dropped.
    let erase = vec!["backspace"; "uk-shop1".len()].join(" ");
    counts.extend(press_before_counts(&client, &mut state, &erase).await);
    counts.extend(type_before_counts(&client, &mut state, "shop").await);
    assert_eq!(state.orders.filter, "shop");
    assert!(state.orders.counting, "shop fills a page: it is counted");
    let counted = |e: &Effect| match e {
        Effect::Call {
            request: Request::OrderCount(q),
            ..
        } => q.clone(),
        _ => unreachable!("only counts are kept"),
    };
    let newest = counted(counts.last().unwrap());
    assert_eq!(newest.filter.as_deref(), Some("shop"));
    let Ok(orderdeck::service::api::Response::OrderCount { total: expected }) =
        orderdeck::service::client::Client::call(&client, Request::OrderCount(newest)).await
    else {
        unreachable!("the fake service counts")
    };
    counts.reverse();
    orderdeck::console::settle(&client, &mut state, counts).await;
    assert!(!state.orders.counting && state.orders.counting_for.is_none());
    assert_eq!(
        state.orders.total, expected,
        "the newest filter's count, not uk-shop1's (109)"
    );
    assert_ne!(expected, 109);
}

#[tokio::test]
async fn order_opens_the_one_order_a_store_number_names() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "order #1003").await;
    press(&client, &mut state, "enter").await;
    let asked = client.calls();
    assert!(asked.contains(&Request::FindOrder {
        text: "#1003".into()
    }));
    let detail = state.detail.as_ref().expect("the detail opens");
    assert_eq!(detail.id, seed::order_id(seed::MISSING_BASE + 2));
    assert!(detail.data.is_some());
    // A TikTok id still opens its order.
    press(&client, &mut state, "esc :").await;
    type_text(&client, &mut state, &format!("o {}", seed::order_id(4))).await;
    press(&client, &mut state, "enter").await;
    assert_eq!(
        state.detail.as_ref().map(|d| d.id.clone()),
        Some(seed::order_id(4))
    );
}

#[tokio::test]
async fn a_number_two_stores_gave_lists_both_and_an_unknown_one_is_named() {
    let client = FakeClient::new(Role::Viewer);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "order 1002").await;
    press(&client, &mut state, "enter").await;
    assert!(state.detail.is_none());
    assert_eq!(state.view, View::Orders);
    assert_eq!(state.orders.filter, "order:1002");
    let links: Vec<&str> = state.orders.rows.iter().map(|r| r.link.as_str()).collect();
    assert_eq!(links, ["us-shop2", "uk-shop1"], "newest first");
    assert!(
        toasts(&state)
            .iter()
            .any(|t| t.contains("\"1002\" names 2 orders"))
    );

    press(&client, &mut state, ":").await;
    type_text(&client, &mut state, "order #4242").await;
    press(&client, &mut state, "enter").await;
    let said = toasts(&state).join("\n");
    assert!(said.contains("no order is named \"#4242\""), "{said}");
    assert_eq!(state.view, View::Orders, "nothing moved");
}

#[tokio::test]
async fn an_orders_detail_hints_only_the_keys_that_apply_to_it() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let footer = |state: &State| {
        let screen = plain(&render(state));
        screen.lines().last().unwrap_or_default().to_string()
    };
    // Pending's first three: stuck (the seller ships), waiting on hold, retrying (TikTok ships).
    press(&client, &mut state, "2 enter").await;
    let stuck = footer(&state);
    assert!(
        stuck.contains("t retry") && !stuck.contains("p label"),
        "{stuck}"
    );
    press(&client, &mut state, "esc j enter").await;
    let waiting = footer(&state);
    assert!(
        !waiting.contains("t retry") && !waiting.contains("p label"),
        "{waiting}"
    );
    assert!(
        waiting.contains("r resync") && waiting.contains("a approve"),
        "{waiting}"
    );
    press(&client, &mut state, "esc j enter").await;
    let tiktok_ships = footer(&state);
    assert!(
        tiktok_ships.contains("p label") && !tiktok_ships.contains("t retry"),
        "{tiktok_ships}"
    );
}
