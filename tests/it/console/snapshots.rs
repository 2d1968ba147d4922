//! What the console looks like and what it costs on the wire. Snapshots of every view and
//! dialog at 120×36, 80×24 and 64×20 (a split pane, the smallest size it works at; plain
//! text), the "too small" screen below that, and one styled snapshot per theme — fixed clock and seeded data, so they only change when the console does; stored
//! in the top-level `snapshots/` directory. Then the bytes frames cost: an idle console writes
//! nothing, and moving the selection writes only the two rows that changed.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use orderdeck::console::keymap::Keymap;
use orderdeck::console::theme::Theme;
use orderdeck::console::{Action, Event, Screen, State, receive};
use orderdeck::domain::access::Role;
use orderdeck::service::client::ClientEvent;

use super::fake_client::FakeClient;
use super::orders_view::{press_before_counts, type_before_counts};
use super::{act, open, plain, press, render, seed, styled, type_text};

const SIZES: [(u16, u16); 3] = [(120, 36), (80, 24), (64, 20)];

fn check(name: &str, text: String) {
    insta::with_settings!({
        snapshot_path => "../../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Builds the scene `setup` describes at both sizes and snapshots each.
async fn scene<F>(name: &str, role: Role, setup: F)
where
    F: AsyncFn(&FakeClient, &mut State),
{
    for (width, height) in SIZES {
        let client = FakeClient::new(role);
        let mut state = open(&client, (width, height), Theme::ansi16()).await;
        setup(&client, &mut state).await;
        check(
            &format!("console_{name}_{width}x{height}"),
            plain(&render(&state)),
        );
    }
}

#[tokio::test]
async fn stores() {
    scene("stores", Role::Operator, async |c, s| {
        press(c, s, "j").await;
    })
    .await;
}

#[tokio::test]
async fn pending() {
    scene("pending", Role::Operator, async |c, s| {
        press(c, s, "2 j").await;
    })
    .await;
}

#[tokio::test]
async fn missing_tracking_with_marks() {
    scene("missing", Role::Operator, async |c, s| {
        press(c, s, "3 space j space").await;
    })
    .await;
}

#[tokio::test]
async fn cancellations() {
    scene("cancellations", Role::Operator, async |c, s| {
        press(c, s, "5").await;
    })
    .await;
}

#[tokio::test]
async fn approvals() {
    scene("approvals", Role::Operator, async |c, s| {
        press(c, s, "6").await;
    })
    .await;
}

#[tokio::test]
async fn activity_following() {
    scene("activity", Role::Operator, async |c, s| {
        press(c, s, "7 f").await;
    })
    .await;
}

#[tokio::test]
async fn every_order() {
    scene("orders", Role::Operator, async |c, s| {
        press(c, s, "9 j").await;
    })
    .await;
}

/// A filter over many orders: its first page at once, its count still on its way.
#[tokio::test]
async fn every_order_filtered_while_counting() {
    for (width, height) in SIZES {
        let client = FakeClient::with_sizes(Some(Role::Operator), 300, 12);
        let mut state = open(&client, (width, height), Theme::ansi16()).await;
        press_before_counts(&client, &mut state, "9 /").await;
        type_before_counts(&client, &mut state, "uk-shop1").await;
        press_before_counts(&client, &mut state, "enter").await;
        check(
            &format!("console_orders_counting_{width}x{height}"),
            plain(&render(&state)),
        );
    }
}

#[tokio::test]
async fn order_by_its_store_number() {
    scene("order_number", Role::Operator, async |c, s| {
        press(c, s, ":").await;
        type_text(c, s, "order #1003").await;
        press(c, s, "enter").await;
    })
    .await;
}

#[tokio::test]
async fn order_number_two_stores_gave() {
    scene("order_number_ambiguous", Role::Operator, async |c, s| {
        press(c, s, ":").await;
        type_text(c, s, "order 1002").await;
        press(c, s, "enter").await;
    })
    .await;
}

#[tokio::test]
async fn order_number_nobody_gave() {
    scene("order_number_not_found", Role::Operator, async |c, s| {
        press(c, s, "9 :").await;
        type_text(c, s, "order #4242").await;
        press(c, s, "enter").await;
    })
    .await;
}

#[tokio::test]
async fn settings_shopify() {
    scene("settings", Role::Operator, async |c, s| {
        press(c, s, "8 j j").await;
    })
    .await;
}

#[tokio::test]
async fn settings_amazon_has_no_store_to_tiktok_section() {
    scene("settings_amazon", Role::Operator, async |c, s| {
        press(c, s, "8 ] ]").await;
    })
    .await;
}

#[tokio::test]
async fn settings_amazon_offers_its_shipping_speeds() {
    // The second row of an Amazon link is shipping_speed: enter opens Amazon's three speeds.
    scene("settings_amazon_speed", Role::Operator, async |c, s| {
        press(c, s, "8 ] ] j enter").await;
    })
    .await;
}

#[tokio::test]
async fn settings_woocommerce_restocks_always_and_offers_no_toggle() {
    // The fifth row is restock_on_cancel; space on it only says why nothing changes.
    scene("settings_woocommerce", Role::Operator, async |c, s| {
        press(c, s, "8 ] j j j j space").await;
    })
    .await;
}

#[tokio::test]
async fn settings_refusal_is_shown_inline() {
    // cancel_store_to_tiktok cannot be turned on before a default cancel reason is chosen.
    scene("settings_error", Role::Operator, async |c, s| {
        press(c, s, "8 j j j j j j space").await;
    })
    .await;
}

#[tokio::test]
async fn settings_save_shows_the_diff() {
    scene("settings_save", Role::Operator, async |c, s| {
        press(c, s, "8 j j j enter ctrl-u").await;
        type_text(c, s, "12h").await;
        press(c, s, "enter G enter").await;
        type_text(c, s, "Evri=Hermes").await;
        press(c, s, "enter w").await;
    })
    .await;
}

#[tokio::test]
async fn settings_read_only_for_support() {
    scene("settings_support", Role::Support, async |c, s| {
        press(c, s, "8").await;
    })
    .await;
}

#[tokio::test]
async fn order_detail() {
    scene("detail", Role::Support, async |c, s| {
        press(c, s, "2 enter").await;
    })
    .await;
}

#[tokio::test]
async fn order_detail_of_an_order_missing_tracking() {
    // The third row: the store holds a tracking number whose carrier has no TikTok mapping.
    scene("detail_missing", Role::Operator, async |c, s| {
        press(c, s, "3 j j enter").await;
    })
    .await;
}

#[tokio::test]
async fn order_detail_scrolled_to_the_raw_payload() {
    scene("detail_bottom", Role::Operator, async |c, s| {
        press(c, s, "2 enter G").await;
    })
    .await;
}

#[tokio::test]
async fn help_from_the_live_keymap() {
    scene("help", Role::Operator, async |c, s| {
        press(c, s, "3 ?").await;
    })
    .await;
}

#[tokio::test]
async fn help_for_a_viewer_offers_nothing_that_writes() {
    scene("help_viewer", Role::Viewer, async |c, s| {
        press(c, s, "3 ?").await;
    })
    .await;
}

#[tokio::test]
async fn resync_prompt_names_the_hidden_marks() {
    scene("confirm_resync", Role::Support, async |c, s| {
        press(c, s, "2 space space space /").await;
        type_text(c, s, "store:uk").await;
        press(c, s, "enter r").await;
        type_text(c, s, "customer called").await;
    })
    .await;
}

#[tokio::test]
async fn approve_request_asks_first() {
    scene("confirm_approve", Role::Operator, async |c, s| {
        press(c, s, "6 a").await;
    })
    .await;
}

#[tokio::test]
async fn live_filter() {
    scene("filter", Role::Operator, async |c, s| {
        press(c, s, "2 /").await;
        type_text(c, s, "status:stuck").await;
    })
    .await;
}

#[tokio::test]
async fn command_completion() {
    scene("command", Role::Operator, async |c, s| {
        press(c, s, ":").await;
        type_text(c, s, "view m").await;
    })
    .await;
}

#[tokio::test]
async fn viewer_sees_a_lock_and_is_told_why_keys_do_nothing() {
    scene("viewer", Role::Viewer, async |c, s| {
        press(c, s, "3 r").await;
    })
    .await;
}

#[tokio::test]
async fn reconnecting_is_visible_and_errors_stay() {
    scene("reconnecting", Role::Operator, async |c, s| {
        act(c, s, Action::ViewPending).await;
        receive(
            s,
            Event::Client(ClientEvent::Disconnected {
                reason: "daemon restarting".into(),
            }),
        );
        c.set_offline(true);
        press(c, s, "t y").await;
    })
    .await;
}

#[tokio::test]
async fn without_a_daemon_the_header_says_what_is_shown() {
    for (width, height) in SIZES {
        let client = FakeClient::new(Role::Operator).without_daemon();
        let state = open(&client, (width, height), Theme::ansi16()).await;
        check(
            &format!("console_no_daemon_{width}x{height}"),
            plain(&render(&state)),
        );
    }
}

#[tokio::test]
async fn keymap_problems_at_startup() {
    for (width, height) in SIZES {
        let client = FakeClient::new(Role::Operator);
        let mut state = open(&client, (width, height), Theme::ansi16()).await;
        let user =
            "[global]\n\"ctlr-r\" = \"refresh\"\n\"R\" = \"resynk\"\n[list]\n\"g\" = \"top\"\n";
        let (keymap, problems) = Keymap::with_overrides("~/.config/orderdeck/keymap.toml", user);
        state.keymap = keymap;
        state.problems = problems;
        orderdeck::console::start(&mut state);
        check(
            &format!("console_keymap_problems_{width}x{height}"),
            plain(&render(&state)),
        );
    }
}

#[tokio::test]
async fn expanded_row() {
    scene("expanded_row", Role::Operator, async |c, s| {
        press(c, s, "2 j j v").await;
    })
    .await;
}

#[tokio::test]
async fn message_history() {
    scene("messages", Role::Operator, async |c, s| {
        press(c, s, "2 j j p k k").await;
        receive(
            s,
            Event::Client(ClientEvent::Disconnected {
                reason: "daemon restarting".into(),
            }),
        );
        c.set_offline(true);
        press(c, s, "t y").await;
        press(c, s, ":").await;
        type_text(c, s, "messages").await;
        press(c, s, "enter").await;
    })
    .await;
}

#[tokio::test]
async fn confirmation_lists_its_targets_and_asks_for_the_count() {
    scene("confirm_bulk", Role::Operator, async |c, s| {
        press(c, s, "2").await;
        for _ in 0..12 {
            press(c, s, "space").await;
        }
        press(c, s, "t").await;
        type_text(c, s, "1").await;
    })
    .await;
}

#[tokio::test]
async fn confirmation_lists_its_target() {
    scene("confirm_retry", Role::Operator, async |c, s| {
        press(c, s, "2 j t").await;
    })
    .await;
}

#[tokio::test]
async fn unsaved_settings_question() {
    scene("unsaved", Role::Operator, async |c, s| {
        press(c, s, "8 j j j enter ctrl-u").await;
        type_text(c, s, "12h").await;
        press(c, s, "enter q").await;
    })
    .await;
}

#[tokio::test]
async fn readonly_header_with_an_environment_label() {
    scene("readonly", Role::Admin, async |c, s| {
        s.session.readonly = true;
        s.badge = Some(orderdeck::console::Badge {
            text: "PROD EU".into(),
            colour: Some(ratatui::style::Color::Red),
        });
        press(c, s, "2").await;
    })
    .await;
}

#[tokio::test]
async fn too_small() {
    for (width, height) in [(63, 20), (64, 19)] {
        let client = FakeClient::new(Role::Operator);
        let state = open(&client, (width, height), Theme::ansi16()).await;
        check(
            &format!("console_too_small_{width}x{height}"),
            plain(&render(&state)),
        );
    }
}

#[tokio::test]
async fn styled_in_16_colours_and_without_colour() {
    for theme in [Theme::ansi16(), Theme::monochrome()] {
        let client = FakeClient::new(Role::Operator);
        let name = if theme.name == "monochrome" {
            "no_color"
        } else {
            "ansi16"
        };
        let mut state = open(&client, (80, 24), theme).await;
        press(&client, &mut state, "3 space j").await;
        check(
            &format!("console_styled_{name}_80x24"),
            styled(&render(&state)),
        );
    }
}

/// A terminal that only counts what it is sent.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::SeqCst);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn idle_writes_nothing_and_a_selection_move_writes_little() {
    let client = FakeClient::with_sizes(Some(Role::Operator), 5_000, 12);
    let mut state = open(&client, (200, 50), Theme::ansi16()).await;
    act(&client, &mut state, Action::ViewPending).await;
    let counter = Counter::default();
    let mut screen = Screen::new(counter.clone(), (200, 50)).expect("screen");

    assert!(screen.draw(&state).expect("draw"));
    let first = counter.take();

    // Nothing changed: not a byte.
    assert!(!screen.draw(&state).expect("draw"));
    assert_eq!(counter.take(), 0, "an idle redraw writes nothing");

    // Something arrived that changes nothing on screen (the same minute again): still nothing.
    receive(&mut state, Event::Tick(seed::now()));
    assert!(!screen.draw(&state).expect("draw"));
    assert_eq!(
        counter.take(),
        0,
        "a frame identical to the last one writes nothing"
    );

    act(&client, &mut state, Action::Down).await;
    assert!(screen.draw(&state).expect("draw"));
    let moved = counter.take();
    println!("first frame at 200x50: {first} bytes; selection moved one row: {moved} bytes");
    assert!(moved < 600, "moving the selection wrote {moved} bytes");
}

#[tokio::test]
async fn a_resize_redraws_everything_once() {
    let client = FakeClient::new(Role::Operator);
    let mut state = open(&client, (120, 36), Theme::ansi16()).await;
    let counter = Counter::default();
    let mut screen = Screen::new(counter.clone(), (120, 36)).expect("screen");
    screen.draw(&state).expect("draw");
    counter.take();
    receive(
        &mut state,
        Event::Resize {
            width: 100,
            height: 30,
        },
    );
    assert!(screen.draw(&state).expect("draw"));
    assert!(counter.take() > 1_000);
    assert!(!screen.draw(&state).expect("draw"));
    assert_eq!(counter.take(), 0);
}
