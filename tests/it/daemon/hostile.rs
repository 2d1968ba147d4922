//! A local user abusing the socket, against a daemon served from this process: its store opened
//! here and served on a runtime of its own, on a thread of its own (as `orderdeck serve` runs
//! apart from its clients), with limits small enough to reach. Connections are capped per uid
//! and in all, a peer without a role may only send short lines, and a line left unfinished
//! closes its connection, while idle clients stay. `floods` uses the same server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use orderdeck::cli::runtime::{Local, open_local};
use orderdeck::config::Config;
use orderdeck::domain::clock::SystemClock;
use orderdeck::service::Service;
use orderdeck::service::api::{PROTOCOL_VERSION, Request, Response};
use orderdeck::service::client::Client;
use orderdeck::service::remote::RemoteClient;
use orderdeck::service::socket::{self, SocketLimits};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::sync::CancellationToken;

use crate::daemon::support::{Daemon, Options, current_user, eventually};

/// A prepared daemon whose store this process opens, with `access` as its `[access]`.
pub async fn open_here(access: String, orders_per_shop: usize) -> (Daemon, Local) {
    let daemon = Daemon::prepare(Options {
        access,
        orders_per_shop,
        ..Options::default()
    })
    .await;
    let config = Config::load(&daemon.config).expect("config loads");
    let local = open_local(&config, Arc::new(SystemClock), false).expect("store opens");
    (daemon, local)
}

pub fn viewer() -> String {
    format!("viewer = [\"{}\"]", current_user())
}

/// The socket served on a current-thread runtime of its own until [`Server::stop`].
pub struct Server {
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub async fn start(socket: &Path, service: Arc<Service>, limits: SocketLimits) -> Server {
        let stop = CancellationToken::new();
        let (bound, is_bound) = tokio::sync::oneshot::channel();
        let (path, stopping) = (socket.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let (listener, _lock) = socket::bind(&path, None).await.expect("binds");
                let _ = bound.send(());
                socket::serve_with(listener, service, stopping, limits).await;
            });
        });
        is_bound.await.expect("the server thread binds");
        Server {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops serving (clients are dropped, counted refusals written) and waits for the end.
    pub async fn stop(mut self) {
        self.stop.cancel();
        let thread = self.thread.take().expect("running");
        tokio::task::spawn_blocking(move || thread.join().expect("the server thread ends"))
            .await
            .unwrap();
    }
}

/// A client speaking the wire protocol by hand.
pub struct Raw {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Raw {
    pub async fn connect(socket: &PathBuf) -> Raw {
        let (read, write) = UnixStream::connect(socket)
            .await
            .expect("connects")
            .into_split();
        Raw {
            read: BufReader::new(read),
            write,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.write.write_all(bytes).await.expect("written");
    }

    /// The next line, or `None` once the daemon closed the connection.
    pub async fn line(&mut self) -> Option<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(20), self.read.read_line(&mut line))
            .await
            .expect("the daemon answers or closes within 20 s")
            .expect("readable");
        (n > 0).then(|| serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
    }

    pub async fn error(&mut self) -> String {
        let answer = self.line().await.expect("an answer, not a close");
        answer["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error: {answer}"))
            .to_string()
    }
}

fn hello(id: u64, ssh_connection: Option<String>) -> Vec<u8> {
    let request = Request::Hello {
        protocol: PROTOCOL_VERSION,
        ssh_connection,
    };
    let mut line = serde_json::to_vec(&serde_json::json!({"id": id, "request": request})).unwrap();
    line.push(b'\n');
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_per_uid_and_in_all() {
    let (daemon, local) = open_here(viewer(), 2).await;
    let limits = SocketLimits {
        per_uid: 3,
        ..SocketLimits::default()
    };
    let server = Server::start(&daemon.socket, local.service.clone(), limits).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let (client, _) = RemoteClient::connect(&daemon.socket)
            .await
            .expect("within the cap");
        held.push(client);
    }
    let Err(turned_away) = RemoteClient::connect(&daemon.socket).await else {
        panic!("a fourth connection of the same uid was served");
    };
    let said = turned_away.to_string();
    assert!(
        said.contains("too many connections from uid") && said.contains("at most 3"),
        "{said}"
    );
    // The seats held still work, and one given back is free again.
    assert!(matches!(
        held[0].call(Request::Overview).await,
        Ok(Response::Overview(_))
    ));
    held.pop();
    let again = eventually(Duration::from_secs(20), "a seat given back", || async {
        RemoteClient::connect(&daemon.socket).await.ok()
    })
    .await;
    drop((again, held));
    server.stop().await;

    // Everyone together: a cap on the sum, said as such.
    let limits = SocketLimits {
        total: 2,
        ..SocketLimits::default()
    };
    let server = Server::start(&daemon.socket, local.service.clone(), limits).await;
    let _one = Raw::connect(&daemon.socket).await;
    let _two = Raw::connect(&daemon.socket).await;
    let mut three = Raw::connect(&daemon.socket).await;
    let said = three.error().await;
    assert!(said.contains("at most 2 connections at once"), "{said}");
    assert!(three.line().await.is_none(), "turned away, then closed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_without_a_role_may_only_send_short_lines() {
    // The test's user is in no role: everything but hello is refused, and hello is short.
    let (daemon, local) = open_here("viewer = [\"someone-else\"]".into(), 2).await;
    let limits = SocketLimits::default();
    let cap = limits.line_without_role;
    let server = Server::start(&daemon.socket, local.service.clone(), limits).await;
    let mut raw = Raw::connect(&daemon.socket).await;
    raw.send(&hello(1, Some("x".repeat(cap + 1)))).await;
    let said = raw.error().await;
    assert!(
        said.contains(&format!("longer than {cap} bytes")) && said.contains("without a role"),
        "{said}"
    );
    // Also while the line is still coming: nothing over the cap is kept.
    raw.send(&vec![b' '; 3 * cap]).await;
    assert!(raw.error().await.contains("longer than"));
    raw.send(b"\n").await;
    raw.send(&hello(2, None)).await;
    let welcome = raw.line().await.expect("an answer");
    assert_eq!(welcome["id"], 2, "{welcome}");
    assert!(welcome["ok"]["role"].is_null(), "{welcome}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_line_closes_its_connection_and_idle_clients_stay() {
    let (daemon, local) = open_here(viewer(), 2).await;
    let limits = SocketLimits {
        unfinished_line: Duration::from_millis(300),
        ..SocketLimits::default()
    };
    let server = Server::start(&daemon.socket, local.service.clone(), limits).await;
    let mut idle = Raw::connect(&daemon.socket).await;
    idle.send(&hello(1, None)).await;
    assert_eq!(idle.line().await.expect("welcome")["id"], 1);

    let mut slow = Raw::connect(&daemon.socket).await;
    slow.send(br#"{"id":2,"request":{"type":"over"#).await;
    let said = slow.error().await;
    assert!(said.contains("left unfinished"), "{said}");
    assert!(slow.line().await.is_none(), "closed");

    // A line over the cap is not kept while it is skipped, but must end all the same.
    let mut long = Raw::connect(&daemon.socket).await;
    long.send(&vec![b'{'; 1024 * 1024 + 10]).await;
    assert!(long.error().await.contains("longer than"));
    assert!(long.error().await.contains("left unfinished"));
    assert!(long.line().await.is_none(), "closed");

    // The idle client (nothing unfinished) outlived both.
    idle.send(br#"{"id":3,"request":{"type":"overview"}}"#)
        .await;
    idle.send(b"\n").await;
    assert_eq!(idle.line().await.expect("an answer")["id"], 3);
    server.stop().await;
}
