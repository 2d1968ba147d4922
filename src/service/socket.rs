//! `orderdeck serve`'s listener: a Unix socket (directory 0750, socket 0660) where each
//! connection is identified by its peer credentials and served concurrently. A client that
//! sends garbage gets an error line; one that vanishes mid-request just loses its answers;
//! neither affects other clients. A stale socket from a crashed daemon is replaced; a live one
//! is refused.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;

use super::Service;
use super::api::{Request, ServiceError};
use super::identity::Account;
use super::wire::{ClientMessage, MAX_LINE, ServerMessage};

/// Requests one connection may have in flight.
const IN_FLIGHT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "another orderdeck daemon is already serving {0}; use it (commands and consoles connect automatically) or stop it first"
    )]
    AlreadyRunning(PathBuf),
    #[error("cannot prepare the socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Binds the socket at `path`, replacing a stale one.
pub async fn bind(path: &Path) -> Result<UnixListener, ListenError> {
    let io = |source| ListenError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(dir)
            .map_err(io)?;
    }
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ListenError::AlreadyRunning(path.to_path_buf()));
        }
        tracing::info!(socket = %path.display(), "replacing a stale socket left by a daemon that did not shut down cleanly");
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    Ok(listener)
}

/// Accepts connections until `stop`.
pub async fn serve(listener: UnixListener, service: Arc<Service>, stop: CancellationToken) {
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let stream = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
        };
        let service = service.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            tokio::select! {
                _ = connection(stream, service) => {}
                _ = stop.cancelled() => {}
            }
        });
    }
    connections.close();
    connections.wait().await;
}

async fn connection(stream: UnixStream, service: Arc<Service>) {
    let account = match stream.peer_cred() {
        Ok(cred) => Account::lookup(cred.uid(), cred.gid()),
        Err(e) => {
            tracing::warn!("refusing a connection without peer credentials: {e}");
            return;
        }
    };
    let mut caller = account.actor(service.access(), None);
    let (read, write) = stream.into_split();
    let mut lines = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE));
    let (out, mut outbox) = mpsc::channel::<ServerMessage>(64);
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(write, LinesCodec::new_with_max_length(usize::MAX));
        while let Some(message) = outbox.recv().await {
            let line = message.to_line();
            if sink.send(line.trim_end()).await.is_err() {
                break;
            }
        }
    });
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    // Ends the subscription forwarder when the client goes away.
    let gone = CancellationToken::new();
    let _gone_on_exit = gone.clone().drop_guard();
    let mut subscribed = false;
    while let Some(line) = lines.next().await {
        let line = match line {
            Ok(line) => line,
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                let error =
                    ServiceError::invalid(format!("message longer than {MAX_LINE} bytes: ignored"));
                if out
                    .send(ServerMessage::Err { id: None, error })
                    .await
                    .is_err()
                {
                    break;
                }
                continue;
            }
            Err(LinesCodecError::Io(_)) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        let message: ClientMessage = match serde_json::from_str(&line) {
            Ok(m) => m,
            Err(e) => {
                let error = ServiceError::invalid(format!("not a request: {e}"));
                if out
                    .send(ServerMessage::Err { id: None, error })
                    .await
                    .is_err()
                {
                    break;
                }
                continue;
            }
        };
        if let Request::Hello { ssh_connection, .. } = &message.request {
            caller = account.actor(service.access(), ssh_connection.clone());
        }
        if matches!(message.request, Request::Subscribe) && !subscribed {
            subscribed = true;
            let mut events = service.engine().subscribe();
            let out = out.clone();
            let gone = gone.clone();
            tokio::spawn(async move {
                loop {
                    let received = tokio::select! {
                        _ = gone.cancelled() => break,
                        received = events.recv() => received,
                    };
                    match received {
                        Ok(event) => {
                            if out.send(ServerMessage::Event { event }).await.is_err() {
                                break;
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let (service, caller, out) = (service.clone(), caller.clone(), out.clone());
        tokio::spawn(async move {
            let id = message.id;
            let answer = match service.handle(&caller, message.request).await {
                Ok(ok) => ServerMessage::Ok { id, ok },
                Err(error) => ServerMessage::Err {
                    id: Some(id),
                    error,
                },
            };
            // The client may be gone; its answer is simply dropped.
            let _ = out.send(answer).await;
            drop(permit);
        });
    }
    gone.cancel();
    drop(out);
    let _ = writer.await;
}
