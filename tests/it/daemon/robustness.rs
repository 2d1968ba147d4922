//! Hostile or broken clients: garbage, a request the daemon does not know, bytes that are not
//! UTF-8, a line over 1 MiB, a request cut off by a disconnect, a client that leaves while its
//! request runs. Each is answered (or ignored) without hurting the daemon or the other clients.

use std::time::Duration;

use orderdeck::service::api::{AuditQuery, Request, Response};
use orderdeck::service::client::{Client, ClientEvent};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::daemon::support::{Daemon, Options};

const MAX_LINE: usize = 1024 * 1024;

struct Raw {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Raw {
    async fn connect(daemon: &Daemon) -> Raw {
        let (read, write) = UnixStream::connect(&daemon.socket)
            .await
            .expect("connects")
            .into_split();
        Raw {
            read: BufReader::new(read),
            write,
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.write.write_all(bytes).await.expect("written");
    }

    async fn answer(&mut self) -> Value {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.read.read_line(&mut line))
            .await
            .expect("an answer")
            .expect("readable");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }
}

fn error_message(answer: &Value) -> &str {
    answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error: {answer}"))
}

/// The other client is still served.
async fn others_are_served(other: &dyn Client) {
    assert!(
        matches!(
            other.call(Request::Overview).await,
            Ok(Response::Overview(_))
        ),
        "the other client was not answered"
    );
}

async fn audit_mentions(client: &dyn Client, text: &str) -> usize {
    match client
        .call(Request::Audit(AuditQuery {
            since: None,
            filter: Some(text.into()),
            offset: 0,
            limit: 50,
            sort: Default::default(),
        }))
        .await
    {
        Ok(Response::Audit(page)) => page.total,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_clients_do_not_hurt_the_daemon_or_the_others() {
    let daemon = Daemon::start(Options::default()).await;
    let other = daemon.client().await;
    let mut other_events = other.events();
    let orders = daemon.orders(&*other, 1).await;

    let mut raw = Raw::connect(&daemon).await;
    raw.send(b"hello there\n").await;
    let answer = raw.answer().await;
    assert!(
        answer["id"].is_null() && error_message(&answer).contains("not a request"),
        "{answer}"
    );

    // Parses as a message but names no known request: answered under its own id.
    raw.send(br#"{"id":41,"request":{"type":"launch_missiles"}}"#)
        .await;
    raw.send(b"\n").await;
    let answer = raw.answer().await;
    assert_eq!(answer["id"], 41, "{answer}");
    assert!(error_message(&answer).contains("not a request"), "{answer}");

    raw.send(&[0xff, 0xfe, 0x00, b'{', b'\n']).await;
    let answer = raw.answer().await;
    assert!(error_message(&answer).contains("not a request"), "{answer}");

    // Over the cap: an error, and the connection goes on.
    let mut huge = vec![b'x'; MAX_LINE + 10];
    huge.push(b'\n');
    raw.send(&huge).await;
    let answer = raw.answer().await;
    assert!(
        error_message(&answer).contains("longer than 1048576 bytes"),
        "{answer}"
    );
    raw.send(br#"{"id":42,"request":{"type":"hello","protocol":1,"ssh_connection":null}}"#)
        .await;
    raw.send(b"\n").await;
    let answer = raw.answer().await;
    assert_eq!(answer["id"], 42, "{answer}");
    assert_eq!(answer["ok"]["type"], "welcome", "{answer}");
    others_are_served(&*other).await;

    // A complete request whose newline never came: the client vanished mid-request, and what
    // it did not finish sending is not run.
    let mut cut = Raw::connect(&daemon).await;
    let request = serde_json::json!({
        "id": 1,
        "request": {"type": "resync", "orders": [orders[0]], "flow": "tracking", "reason": "cut-off-request"}
    });
    cut.send(request.to_string().as_bytes()).await;
    drop(cut);
    // Half a line over the cap, then gone.
    let mut flood = Raw::connect(&daemon).await;
    flood.send(&vec![b'{'; 2 * MAX_LINE]).await;
    drop(flood);
    // A client that asks and leaves before the answer: the request still runs; only the
    // answer is lost.
    let mut leaver = Raw::connect(&daemon).await;
    leaver
        .send(br#"{"id":7,"request":{"type":"sync_now","link":null}}"#)
        .await;
    leaver.send(b"\n").await;
    drop(leaver);

    others_are_served(&*other).await;
    crate::daemon::support::eventually(
        Duration::from_secs(20),
        "the abandoned sync to run",
        || async {
            let runs = match other
                .call(Request::Audit(AuditQuery {
                    since: None,
                    filter: Some("sync.run".into()),
                    offset: 0,
                    limit: 10,
                    sort: Default::default(),
                }))
                .await
            {
                Ok(Response::Audit(page)) => page.total,
                other => panic!("{other:?}"),
            };
            (runs == 1).then_some(())
        },
    )
    .await;
    assert_eq!(audit_mentions(&*other, "cut-off-request").await, 0);
    // The first raw connection survived all of it.
    raw.send(br#"{"id":43,"request":{"type":"overview"}}"#)
        .await;
    raw.send(b"\n").await;
    assert_eq!(raw.answer().await["id"], 43);
    // And the other client never lost its connection.
    while let Ok(event) = other_events.try_recv() {
        assert!(
            !matches!(event, ClientEvent::Disconnected { .. }),
            "{event:?}"
        );
    }
}
