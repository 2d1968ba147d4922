//! The socket binding's client side: a [`Client`] talking to `orderdeck serve`. Answers are
//! matched to requests by id, so calls run concurrently on one connection. When the daemon goes
//! away, calls in flight fail with `Disconnected`, the client reports it as an event and keeps
//! reconnecting; once back it says `Reconnected` so faces re-ask for what they show.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::{SinkExt, StreamExt};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{broadcast, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec};

use super::api::{PROTOCOL_VERSION, Request, Response, ServiceError, Welcome};
use super::client::{Client, ClientEvent};
use super::wire::{ClientMessage, MAX_LINE, ServerMessage};

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Response, ServiceError>>>>>;

pub struct RemoteClient {
    path: PathBuf,
    next_id: AtomicU64,
    pending: Pending,
    writer: tokio::sync::Mutex<Option<FramedWrite<OwnedWriteHalf, LinesCodec>>>,
    events: broadcast::Sender<ClientEvent>,
    subscribed: std::sync::atomic::AtomicBool,
}

fn disconnected(path: &Path, why: impl std::fmt::Display) -> ServiceError {
    ServiceError::Disconnected {
        message: format!(
            "the orderdeck daemon at {} is not reachable ({why})",
            path.display()
        ),
    }
}

impl RemoteClient {
    /// Connects and says hello; fails if no daemon answers at `path`.
    pub async fn connect(path: &Path) -> Result<(Arc<RemoteClient>, Welcome), ServiceError> {
        let (events, _) = broadcast::channel(256);
        let client = Arc::new(RemoteClient {
            path: path.to_path_buf(),
            next_id: AtomicU64::new(1),
            pending: Arc::default(),
            writer: tokio::sync::Mutex::new(None),
            events,
            subscribed: Default::default(),
        });
        let welcome = client.open().await?;
        Ok((client, welcome))
    }

    async fn open(self: &Arc<Self>) -> Result<Welcome, ServiceError> {
        let stream = UnixStream::connect(&self.path)
            .await
            .map_err(|e| disconnected(&self.path, e))?;
        let (read, write) = stream.into_split();
        *self.writer.lock().await = Some(FramedWrite::new(write, LinesCodec::new()));
        let reader = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE));
        // Until the daemon welcomes us, the connection's end is this call's to report; after,
        // it is a drop that `lost` reconnects from.
        let (ended, why_ended) = oneshot::channel();
        let opening = Arc::new(Mutex::new(Some(ended)));
        let me = Arc::downgrade(self);
        tokio::spawn(watch_connection(me, reader, opening.clone()));
        let hello = Request::Hello {
            protocol: PROTOCOL_VERSION,
            ssh_connection: std::env::var("SSH_CONNECTION").ok(),
        };
        let answer = self.call(hello).await;
        if let Ok(Response::Welcome(w)) = &answer
            && w.protocol == PROTOCOL_VERSION
            && lock(&opening).take().is_some()
        {
            return Ok(w.clone());
        }
        // Not opened. Without a writer the daemon sees the close; a daemon that turned us away
        // said why before closing, and its words beat a broken pipe.
        *self.writer.lock().await = None;
        let daemon_said = tokio::time::timeout(Duration::from_secs(2), why_ended)
            .await
            .ok()
            .and_then(Result::ok);
        match answer {
            Ok(Response::Welcome(w)) if w.protocol != PROTOCOL_VERSION => {
                Err(ServiceError::invalid(format!(
                    "the daemon speaks protocol {} and this orderdeck speaks {PROTOCOL_VERSION}: run the same version on both sides",
                    w.protocol
                )))
            }
            Ok(Response::Welcome(_)) | Err(ServiceError::Disconnected { .. }) => Err(disconnected(
                &self.path,
                daemon_said.unwrap_or_else(|| "the daemon closed the connection".into()),
            )),
            Ok(other) => Err(ServiceError::internal(format!(
                "the daemon answered hello with an unexpected {:?} response",
                other.kind()
            ))),
            Err(other) => Err(other),
        }
    }

    /// After a drop: report it and retry until the daemon is back.
    fn lost(self: &Arc<Self>, why: String) {
        let _ = self.events.send(ClientEvent::Disconnected { reason: why });
        // Weak: a client nobody holds any more stops trying.
        let client = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(200);
            loop {
                tokio::time::sleep(wait).await;
                let Some(me) = client.upgrade() else { break };
                if me.open().await.is_ok() {
                    if me.subscribed.load(Ordering::Relaxed) {
                        let _ = me.call(Request::Subscribe).await;
                    }
                    let _ = me.events.send(ClientEvent::Reconnected);
                    break;
                }
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        });
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads one connection to its end, then closes it for every call: the writer goes first, so a
/// call either is waiting and hears why, or finds no connection; none waits forever. The end is
/// told to `open` while the hello is under way (`opening` still holds its sender), else to `lost`.
async fn watch_connection(
    client: std::sync::Weak<RemoteClient>,
    reader: FramedRead<tokio::net::unix::OwnedReadHalf, LinesCodec>,
    opening: Arc<Mutex<Option<oneshot::Sender<String>>>>,
) {
    let why = read_loop(client.clone(), reader).await;
    let Some(client) = client.upgrade() else {
        return;
    };
    *client.writer.lock().await = None;
    for (_, waiter) in lock(&client.pending).drain() {
        let _ = waiter.send(Err(disconnected(&client.path, &why)));
    }
    let told_opener = lock(&opening).take().map(|opener| opener.send(why.clone()));
    if told_opener.is_none() {
        client.lost(why);
    }
}

/// Hands each line from the daemon to its call or to the event stream; returns why the
/// connection ended.
async fn read_loop(
    client: std::sync::Weak<RemoteClient>,
    mut reader: FramedRead<tokio::net::unix::OwnedReadHalf, LinesCodec>,
) -> String {
    // What the daemon said last without naming a request (e.g. why it turned the connection
    // away): the best explanation of a close that follows.
    let mut notice: Option<String> = None;
    loop {
        let ended = match reader.next().await {
            Some(Ok(line)) => Ok(line),
            Some(Err(e)) => Err(format!("read failed: {e}")),
            None => Err("the daemon closed the connection".to_string()),
        };
        let line = match (ended, &notice) {
            (Ok(line), _) => line,
            (Err(why), Some(notice)) => return format!("{why}: {notice}"),
            (Err(why), None) => return why,
        };
        let Some(client) = client.upgrade() else {
            return "nobody holds the client any more".into();
        };
        match serde_json::from_str::<ServerMessage>(&line) {
            Ok(ServerMessage::Ok { id, ok }) => client.answer(id, Ok(ok)),
            Ok(ServerMessage::Err {
                id: Some(id),
                error,
            }) => client.answer(id, Err(error)),
            Ok(ServerMessage::Err { id: None, error }) => {
                let said = crate::domain::text::sanitize(&error.to_string());
                tracing::warn!("daemon: {said}");
                notice = Some(said);
            }
            Ok(ServerMessage::Event { event }) => {
                let _ = client.events.send(ClientEvent::Changed(event));
            }
            Err(e) => tracing::warn!(
                "unreadable line from the daemon: {}",
                crate::domain::text::sanitize(&e.to_string())
            ),
        }
    }
}

impl RemoteClient {
    fn answer(&self, id: u64, result: Result<Response, ServiceError>) {
        if let Some(waiter) = lock(&self.pending).remove(&id) {
            let _ = waiter.send(result);
        }
    }
}

#[async_trait]
impl Client for RemoteClient {
    async fn call(&self, request: Request) -> Result<Response, ServiceError> {
        if matches!(request, Request::Subscribe) {
            self.subscribed.store(true, Ordering::Relaxed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let line = serde_json::to_string(&ClientMessage { id, request })
            .map_err(ServiceError::internal)?;
        // The daemon cannot tell which request an over-long line was, so it could not answer
        // this call: refuse it here.
        if line.len() > MAX_LINE {
            return Err(ServiceError::invalid(format!(
                "the request is {} bytes, more than the {MAX_LINE} a message may hold",
                line.len()
            )));
        }
        let (tx, rx) = oneshot::channel();
        {
            // Registered under the writer's lock: the connection's end takes the same lock
            // before failing what waits, so this call is either failed by it or finds no writer.
            let mut writer = self.writer.lock().await;
            lock(&self.pending).insert(id, tx);
            let sent = match writer.as_mut() {
                Some(w) => w.send(line).await.map_err(|e| e.to_string()),
                None => Err("reconnecting".to_string()),
            };
            if let Err(why) = sent {
                lock(&self.pending).remove(&id);
                return Err(disconnected(&self.path, why));
            }
        }
        rx.await
            .unwrap_or_else(|_| Err(disconnected(&self.path, "connection lost")))
    }

    fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::UnixListener;

    /// A daemon that turns every connection away at once, before or after the client's hello
    /// arrives: however the two race, the client says why in the daemon's words.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_turned_away_says_the_daemons_reason_however_the_close_races() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let listener = UnixListener::bind(&path).unwrap();
        let reason = "too many connections from uid 7: at most 3 at once";
        let notice = ServerMessage::Err {
            id: None,
            error: ServiceError::Refused {
                message: reason.into(),
            },
        }
        .to_line();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream.write_all(notice.as_bytes()).await;
                drop(stream);
            }
        });
        for attempt in 0..200 {
            let Err(error) = RemoteClient::connect(&path).await else {
                panic!("attempt {attempt}: a turned-away connection was welcomed");
            };
            assert!(
                error.to_string().contains(reason),
                "attempt {attempt}: {error}"
            );
        }
    }
}
