//! Text from outside never reaches a terminal as a command: an order, its cancellation, a
//! resync request and audit entries whose every text field ends in an escape corpus (OSC 52
//! clipboard write, OSC 0 title, a lone CR, CSI, the one-byte C1 CSI, a bidi override, a lone ESC) are
//! printed by the real binary as tables, as the order detail and as JSON, drawn by the console
//! in every view, row and detail, and written to the log. No output may hold a control
//! character other than its own line breaks, nor a bidi override; JSON must still carry the
//! exact text, escaped.

use std::sync::{Arc, Mutex};

use orderdeck::cli::runtime::log_layer;
use orderdeck::console::keymap::Keymap;
use orderdeck::console::theme::Theme;
use orderdeck::console::{Action, State, draw, settle, start, update};
use orderdeck::domain::access::Role;
use orderdeck::domain::audit::{AuditEntry, AuditOutcome};
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::request::ResyncFlow;
use orderdeck::service::api::{PROTOCOL_VERSION, Request, Response};
use orderdeck::service::client::Client;
use orderdeck::store::Change;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

use crate::engine::support::*;

/// OSC 52 (write the clipboard), OSC 0 (window title), a lone CR (overwrites the line so far),
/// CSI (clear screen), C1 CSI (0x9b), right-to-left override, and a lone ESC.
const CORPUS: &str =
    "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}]0;pwned\u{7}\rOK\u{1b}[2J\u{9b}31m\u{202e}gpj.exe\u{1b}";

/// `value` with [`CORPUS`] appended to every string its type accepts so changed (ids and
/// times refuse it, and stay as they were), and the JSON paths of the strings changed.
fn poisoned<T: Serialize + DeserializeOwned>(value: &T) -> (T, Vec<String>) {
    let mut json = serde_json::to_value(value).unwrap();
    let mut changed = Vec::new();
    let mut paths = Vec::new();
    string_paths(&json, String::new(), &mut paths);
    for path in paths {
        let leaf = json.pointer_mut(&path).unwrap();
        let before = leaf.clone();
        *leaf = Value::String(format!("{}{CORPUS}", before.as_str().unwrap()));
        if serde_json::from_value::<T>(json.clone()).is_ok() {
            changed.push(path);
        } else {
            *json.pointer_mut(&path).unwrap() = before;
        }
    }
    (serde_json::from_value(json).unwrap(), changed)
}

fn string_paths(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::String(_) => out.push(at),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_paths(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                string_paths(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// Fails when `output` holds a control character (line breaks aside) or a bidi mark.
fn assert_clean(what: &str, output: &str) {
    let bad: Vec<(usize, char)> = output
        .char_indices()
        .filter(|(_, c)| *c != '\n' && orderdeck::domain::text::is_unsafe(*c))
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {} unsafe character(s), first {:?} in:\n{}",
        bad.len(),
        bad[0],
        output.escape_debug()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escape_corpus_in_every_field_reaches_no_output_raw() {
    let mut rig = Rig::start().await;
    let imported = rig.paid_order(GB);
    let mut spec = rig.new_order(GB);
    set_lines(&mut spec, &[GHOST_SKU]);
    let stuck = rig.add(&spec);
    rig.sync().await;
    rig.fulfil(GB, &imported, "TRK-1", "Royal Mail");
    rig.set
        .tiktok
        .request_buyer_cancel(imported.as_str(), "reason", "Wrong size", now() + 36_000)
        .unwrap();
    rig.sync().await;
    let answer = rig
        .call(
            Role::Support,
            Request::Resync {
                orders: vec![stuck.clone()],
                flow: ResyncFlow::Import,
                reason: "please".into(),
            },
        )
        .await;
    assert!(matches!(answer, Ok(Response::Resync(_))), "{answer:?}");

    let store = rig.engine().store().clone();
    let mut change = Change::default();
    let mut fields = Vec::new();
    for id in [&imported, &stuck] {
        let (order, changed) = poisoned(&rig.order(id));
        fields.extend(changed.into_iter().map(|p| format!("order{p}")));
        change.orders.push(order);
        for cancellation in rig.cancellations(id) {
            let (cancellation, changed) = poisoned(&cancellation);
            fields.extend(changed.into_iter().map(|p| format!("cancellation{p}")));
            change.cancellations.push(cancellation);
        }
        let payload = serde_json::json!({ "buyer_message": CORPUS, CORPUS: [CORPUS] });
        change.payloads.push((id.clone(), payload));
    }
    for request in store.requests(true, 0, 10).unwrap().items {
        let (request, changed) = poisoned(&request);
        fields.extend(changed.into_iter().map(|p| format!("request{p}")));
        change.requests.push(request);
    }
    let mut entry = AuditEntry::new(
        chrono::Utc::now(),
        actor(Role::Support),
        "resync.request",
        vec![stuck.to_string()],
        AuditOutcome::Refused { why: "x".into() },
    )
    .with_reason(Some("r".into()));
    entry.actor.from = Some("203.0.113.9 5555 10.0.0.1 22".into());
    let (entry, changed) = poisoned(&entry);
    fields.extend(changed.into_iter().map(|p| format!("audit{p}")));
    change.audit.push(entry);
    store.apply(&change).unwrap();
    drop(store);
    the_console_draws_it_clean(&rig).await;
    the_log_writes_it_clean(&change);
    // The fields the issue names, and the kinds of text a platform sends, are among them.
    for field in [
        "order/tiktok/lines/0/seller_sku",
        "order/tiktok/lines/0/product_name",
        "order/tiktok/total_amount",
        "order/tiktok/currency",
        "order/tiktok/status",
        "order/tiktok/recipient/name",
        "order/store/name",
        "order/store/fulfillments/0/tracking/0/number",
        "order/flows/import/status/reason",
        "order/timeline/0/text",
        "cancellation/reason_text",
        "request/reason",
        "audit/actor/user",
        "audit/reason",
        "audit/outcome/why",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:#?}"
        );
    }
    rig.close();

    let config = rig.config_path.clone();
    let (imported, stuck) = (imported.as_str(), stuck.as_str());
    let commands: [&[&str]; 12] = [
        &["orders"],
        &["orders", "--view", "stuck"],
        &["orders", "--view", "cancellations"],
        &["order", imported],
        &["order", stuck],
        &["requests"],
        &["audit"],
        &["orders", "--json"],
        &["orders", "--view", "cancellations", "--json"],
        &["order", imported, "--json"],
        &["requests", "--json"],
        &["audit", "--json"],
    ];
    for args in commands {
        let out = rig.cli(&config, args).await;
        let (stdout, stderr) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        assert!(out.status.success(), "{args:?}: {stderr}");
        let what = format!("orderdeck {}", args.join(" "));
        assert_clean(&what, &stdout);
        assert_clean(&what, &stderr);
        // The text around the escapes is still shown, so nothing was silently dropped.
        assert!(stdout.contains("ZXZpbA=="), "{what}:\n{stdout}");
    }

    // JSON keeps the exact text for scripts: the escapes are escaped, not replaced.
    let detail: Value =
        serde_json::from_str(&rig.cli_ok(&config, &["order", imported, "--json"]).await).unwrap();
    let line = &detail["order"]["tiktok"]["lines"][0];
    assert!(
        line["seller_sku"].as_str().unwrap().ends_with(CORPUS),
        "{line}"
    );
    assert!(
        detail["order"]["tiktok"]["currency"]
            .as_str()
            .unwrap()
            .ends_with(CORPUS)
    );
    let text = rig.cli_ok(&config, &["audit", "--json"]).await;
    assert!(text.contains(r"\u009B31m\u202Egpj.exe\u001b"), "{text}");
}

/// Every console view, each of its first rows expanded and opened as a detail, drawn as a
/// terminal would show it: no cell holds an unsafe character, and the text around the escapes
/// is on screen.
async fn the_console_draws_it_clean(rig: &Rig) {
    let client = rig.client(Role::Operator);
    let hello = Request::Hello {
        protocol: PROTOCOL_VERSION,
        ssh_connection: None,
    };
    let Ok(Response::Welcome(welcome)) = client.call(hello).await else {
        panic!("hello");
    };
    let mut state = State::new(
        &welcome,
        Keymap::defaults(),
        Theme::ansi16(),
        chrono::Utc::now(),
        (160, 48),
    );
    let effects = start(&mut state);
    settle(client.as_ref(), &mut state, effects).await;
    let mut screens = Vec::new();
    let views = [
        Action::ViewStores,
        Action::ViewPending,
        Action::ViewMissing,
        Action::ViewCancellations,
        Action::ViewApprovals,
        Action::ViewActivity,
        Action::ViewSettings,
    ];
    for view in views {
        let mut steps = vec![view];
        for _ in 0..3 {
            steps.extend([Action::ExpandRow, Action::Back, Action::Open, Action::Back]);
            steps.push(Action::Down);
        }
        for action in steps {
            let effects = update(&mut state, action);
            settle(client.as_ref(), &mut state, effects).await;
            screens.push((format!("{view:?} then {action:?}"), screen(&state)));
        }
    }
    for (what, text) in &screens {
        assert_clean(&format!("console: {what}"), text);
    }
    assert!(
        screens.iter().any(|(_, text)| text.contains("ZXZpbA==")),
        "the poisoned text is shown somewhere"
    );
}

/// The console's screen as a terminal shows it: every cell's symbol, row by row.
fn screen(state: &State) -> String {
    let mut terminal = Terminal::new(TestBackend::new(state.width, state.height)).unwrap();
    terminal.draw(|frame| draw(frame, state)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for row in buffer.content.chunks(usize::from(buffer.area.width)) {
        text.extend(row.iter().map(|cell| cell.symbol()));
        text.push('\n');
    }
    text
}

/// Every text of the poisoned records logged as the daemon logs (`log_layer`): each event is
/// one clean line.
fn the_log_writes_it_clean(change: &Change) {
    let mut texts = Vec::new();
    let records = [
        serde_json::to_value(&change.orders).unwrap(),
        serde_json::to_value(&change.cancellations).unwrap(),
        serde_json::to_value(&change.requests).unwrap(),
        serde_json::to_value(&change.audit).unwrap(),
    ];
    for record in &records {
        let mut paths = Vec::new();
        string_paths(record, String::new(), &mut paths);
        texts.extend(
            paths
                .iter()
                .map(|p| record.pointer(p).unwrap().as_str().unwrap()),
        );
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = Captured(log.clone());
    let subscriber = tracing_subscriber::registry().with(log_layer(move || writer.clone()));
    tracing::subscriber::with_default(subscriber, || {
        for text in &texts {
            tracing::warn!(field = %text, "poll failed: {text}");
        }
    });
    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert_clean("log", &log);
    assert_eq!(log.lines().count(), texts.len(), "one line per event");
    assert!(log.contains("ZXZpbA=="));
}

/// A log file in memory.
#[derive(Clone)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_poisoning_changes_only_what_its_type_accepts() {
    let id = TiktokOrderId::new("576").unwrap();
    let (same, changed) = poisoned(&id);
    assert_eq!(same, id);
    assert!(changed.is_empty());
    let (text, changed) = poisoned(&vec!["a".to_string()]);
    assert_eq!(text, [format!("a{CORPUS}")]);
    assert_eq!(changed, ["/0"]);
}
