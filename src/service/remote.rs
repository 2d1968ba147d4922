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
        let me = Arc::downgrade(self);
        tokio::spawn(async move { read_loop(me, reader).await });
        let hello = Request::Hello {
            protocol: PROTOCOL_VERSION,
            ssh_connection: std::env::var("SSH_CONNECTION").ok(),
        };
        match self.call(hello).await? {
            Response::Welcome(w) if w.protocol == PROTOCOL_VERSION => Ok(w),
            Response::Welcome(w) => Err(ServiceError::invalid(format!(
                "the daemon speaks protocol {} and this orderdeck speaks {PROTOCOL_VERSION}: run the same version on both sides",
                w.protocol
            ))),
            other => Err(ServiceError::internal(format!(
                "the daemon answered hello with an unexpected {:?} response",
                other.kind()
            ))),
        }
    }

    /// After a drop: fail what was in flight, report it, and retry until the daemon is back.
    fn lost(self: &Arc<Self>, why: String) {
        for (_, waiter) in self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
        {
            let _ = waiter.send(Err(disconnected(&self.path, &why)));
        }
        let _ = self.events.send(ClientEvent::Disconnected { reason: why });
        // Weak: a client nobody holds any more stops trying.
        let client = Arc::downgrade(self);
        tokio::spawn(async move {
            if let Some(me) = client.upgrade() {
                *me.writer.lock().await = None;
            }
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

async fn read_loop(
    client: std::sync::Weak<RemoteClient>,
    mut reader: FramedRead<tokio::net::unix::OwnedReadHalf, LinesCodec>,
) {
    // What the daemon said last without naming a request (e.g. why it turned the connection
    // away): the best explanation of a close that follows.
    let mut notice: Option<String> = None;
    let why = loop {
        let line = match reader.next().await {
            Some(Ok(line)) => line,
            Some(Err(e)) => break format!("read failed: {e}"),
            None => match notice {
                Some(notice) => break format!("the daemon closed the connection: {notice}"),
                None => break "the daemon closed the connection".to_string(),
            },
        };
        let Some(client) = client.upgrade() else {
            return;
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
    };
    if let Some(client) = client.upgrade() {
        client.lost(why);
    }
}

impl RemoteClient {
    fn answer(&self, id: u64, result: Result<Response, ServiceError>) {
        if let Some(waiter) = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
        {
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
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, tx);
        {
            let mut writer = self.writer.lock().await;
            let sent = match writer.as_mut() {
                Some(w) => w.send(line).await.map_err(|e| e.to_string()),
                None => Err("reconnecting".to_string()),
            };
            if let Err(why) = sent {
                self.pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
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
