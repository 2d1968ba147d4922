//! Serving the bound socket: each connection is identified by its peer credentials (never by a
//! name the client sends) and served concurrently, up to [`IN_FLIGHT`] requests at once.
//!
//! Invariants:
//! - what a client can make the daemon hold is bounded before its account is even looked up
//!   (see `admission`): a seat per connection (per uid and in all; one too many is told why
//!   and closed), lines of at most [`MAX_LINE`] bytes, or [`SocketLimits::line_without_role`]
//!   for a peer without a role, and a line left unfinished closes its connection;
//! - a client that sends garbage or an oversized line gets an error line and stays connected;
//!   one that vanishes mid-request loses its answers (and a half-sent request is never run);
//!   none of this touches other connections;
//! - a subscriber that falls behind is told that everything changed, never silently skipped;
//! - at shutdown the socket file goes first (new clients see at once that no daemon is there),
//!   no new request is read, and requests in flight get [`SHUTDOWN_GRACE`] to finish and
//!   answer before they are dropped.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf, UCred};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Service;
use super::admission::{Seat, Seats, SocketLimits};
use super::api::{Notification, Request, ServiceError};
use super::identity::Account;
use super::socket::Listener;
use super::wire::{ClientMessage, Frame, LineDecoder, MAX_LINE, ServerMessage, parse_line};
use crate::domain::audit::Actor;
use crate::engine::Engine;

/// Requests one connection may have in flight.
const IN_FLIGHT: usize = 16;

/// How long shutdown waits for requests in flight before dropping them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Accepts connections until `stop`, then shuts down as the module docs say.
pub async fn serve(listener: Listener, service: Arc<Service>, stop: CancellationToken) {
    serve_with(listener, service, stop, SocketLimits::default()).await
}

/// [`serve`] with other limits than the daemon's (tests use small ones).
pub async fn serve_with(
    listener: Listener,
    service: Arc<Service>,
    stop: CancellationToken,
    limits: SocketLimits,
) {
    let seats = Seats::new(limits.clone());
    let tasks = TaskTracker::new();
    let abort = CancellationToken::new();
    loop {
        let stream = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Usually out of file descriptors: pause rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // The seat is taken here, in the order connections arrive, before anything is read.
        let (cred, seat) = match seat(&stream, &seats) {
            Ok(Some(seated)) => seated,
            Ok(None) => continue,
            Err(why) => {
                tasks.spawn(turn_away(stream, why));
                continue;
            }
        };
        let conn = Connection {
            service: service.clone(),
            stop: stop.clone(),
            abort: abort.clone(),
            tasks: tasks.clone(),
            limits: limits.clone(),
        };
        let abort = abort.clone();
        tasks.spawn(async move {
            tokio::select! {
                _ = conn.run(stream, cred) => {}
                _ = abort.cancelled() => {}
            }
            drop(seat);
        });
    }
    drop(listener);
    tasks.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("requests still running at shutdown were dropped");
        abort.cancel();
        tasks.wait().await;
    }
    // Refusals still being counted are written now rather than lost with the process.
    service.flush_refusals().await;
}

/// What every connection shares.
struct Connection {
    service: Arc<Service>,
    /// The daemon is stopping: read no more requests.
    stop: CancellationToken,
    /// The grace is over: drop what still runs.
    abort: CancellationToken,
    tasks: TaskTracker,
    limits: SocketLimits,
}

impl Connection {
    async fn run(self, stream: UnixStream, cred: UCred) {
        let (uid, gid) = (cred.uid(), cred.gid());
        // The user database may be remote (NSS, LDAP): keep it off the async threads.
        let Ok(account) = tokio::task::spawn_blocking(move || Account::lookup(uid, gid)).await
        else {
            return;
        };
        let (read, write) = stream.into_split();
        let (out, outbox) = mpsc::channel::<ServerMessage>(64);
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        // Ends the subscription forwarder, also when this future is dropped.
        let gone = CancellationToken::new();
        let _gone_on_drop = gone.clone().drop_guard();
        let reading = async {
            self.read_requests(read, &account, &out, &slots, &gone)
                .await;
            // Requests in flight finish and answer before the connection closes.
            let _ = slots.acquire_many(IN_FLIGHT as u32).await;
            gone.cancel();
            drop(out);
        };
        tokio::join!(reading, write_answers(write, outbox));
    }

    async fn read_requests(
        &self,
        read: OwnedReadHalf,
        account: &Account,
        out: &mpsc::Sender<ServerMessage>,
        slots: &Arc<Semaphore>,
        gone: &CancellationToken,
    ) {
        let service = &self.service;
        let mut caller = account.actor(service.access(), None);
        let max = match caller.role {
            Some(_) => MAX_LINE,
            None => self.limits.line_without_role,
        };
        let mut frames = FramedRead::new(read, LineDecoder::new(max));
        let mut subscribed = false;
        loop {
            let frame = tokio::select! {
                _ = self.stop.cancelled() => return,
                frame = next_line(&mut frames, self.limits.unfinished_line) => frame,
            };
            let line = match frame {
                Next::Gone => return,
                Next::Unfinished => {
                    let why = format!(
                        "a message was left unfinished for {:?}: closing the connection",
                        self.limits.unfinished_line
                    );
                    let _ = refuse(out, None, why).await;
                    return;
                }
                Next::Frame(Frame::Line(line)) => line,
                Next::Frame(Frame::TooLong) => {
                    let mut why = format!("message longer than {max} bytes: ignored");
                    if caller.role.is_none() {
                        why.push_str(" (the most a user without a role in [access] may send)");
                    }
                    if refuse(out, None, why).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let message: ClientMessage = match parse_line(&line) {
                Ok(m) => m,
                Err(unreadable) => {
                    if refuse(out, unreadable.id, unreadable.why).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            if let Request::Hello { ssh_connection, .. } = &message.request {
                caller = account.actor(service.access(), ssh_connection.clone());
            }
            if matches!(message.request, Request::Subscribe) && !subscribed {
                subscribed = true;
                let forward = forward_events(service.engine().clone(), out.clone(), gone.clone());
                self.tasks.spawn(forward);
            }
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            self.tasks.spawn(answer(
                service.clone(),
                caller.clone(),
                message,
                out.clone(),
                self.abort.clone(),
                permit,
            ));
        }
    }
}

/// The peer's credentials and a seat for its connection; `None` for a peer without
/// credentials (dropped), `Err` with what to tell one that gets no seat.
fn seat(stream: &UnixStream, seats: &Seats) -> Result<Option<(UCred, Seat)>, String> {
    let cred = match stream.peer_cred() {
        Ok(cred) => cred,
        Err(e) => {
            tracing::warn!("refusing a connection without peer credentials: {e}");
            return Ok(None);
        }
    };
    Ok(Some((cred, seats.take(cred.uid())?)))
}

/// What reading a connection's next line came to.
enum Next {
    Frame(Frame),
    /// The client closed the connection (or reading failed).
    Gone,
    /// A line was begun and not finished in time.
    Unfinished,
}

/// The next line, or [`Next::Unfinished`] once a line has stayed unfinished for `limit` (the
/// check runs every `limit`, so a line is given between `limit` and twice that). A client that
/// sends nothing at all may stay connected (an idle console).
async fn next_line(frames: &mut FramedRead<OwnedReadHalf, LineDecoder>, limit: Duration) -> Next {
    let mut unfinished_since: Option<Instant> = None;
    loop {
        let unfinished = frames.decoder().is_discarding() || !frames.read_buffer().is_empty();
        unfinished_since = match (unfinished, unfinished_since) {
            (false, _) => None,
            (true, since) => Some(since.unwrap_or_else(Instant::now)),
        };
        if unfinished_since.is_some_and(|since| since.elapsed() >= limit) {
            return Next::Unfinished;
        }
        let wait = unfinished_since.map_or(limit, |since| limit.saturating_sub(since.elapsed()));
        tokio::select! {
            // Cancel-safe: bytes read so far stay in the FramedRead's buffer.
            frame = frames.next() => return match frame {
                Some(Ok(frame)) => Next::Frame(frame),
                None | Some(Err(_)) => Next::Gone,
            },
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Tells a client that gets no seat why, then closes its connection. What the client sent
/// meanwhile (its hello) is read and dropped for a moment first: closing a Unix socket with
/// unread bytes would reset it, and the client could lose the explanation. Bounded in time
/// and bytes, so a turned-away client holds next to nothing.
async fn turn_away(mut stream: UnixStream, why: String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tracing::warn!("{why}");
    let line = ServerMessage::Err {
        id: None,
        error: ServiceError::Refused { message: why },
    }
    .to_line();
    let said = async {
        stream.write_all(line.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => left = left.saturating_sub(n),
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), said).await;
}

async fn refuse(
    out: &mpsc::Sender<ServerMessage>,
    id: Option<u64>,
    why: String,
) -> Result<(), mpsc::error::SendError<ServerMessage>> {
    out.send(ServerMessage::Err {
        id,
        error: ServiceError::invalid(why),
    })
    .await
}

async fn answer(
    service: Arc<Service>,
    caller: Actor,
    message: ClientMessage,
    out: mpsc::Sender<ServerMessage>,
    abort: CancellationToken,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let id = message.id;
    let result = tokio::select! {
        result = service.answer(&caller, message.request) => result,
        _ = abort.cancelled() => return,
    };
    let answer = match result {
        Ok(ok) => ServerMessage::Ok { id, ok },
        Err(error) => ServerMessage::Err {
            id: Some(id),
            error,
        },
    };
    // The client may be gone; its answer is simply dropped.
    let _ = out.send(answer).await;
    drop(permit);
}

async fn write_answers(write: OwnedWriteHalf, mut outbox: mpsc::Receiver<ServerMessage>) {
    let mut sink = FramedWrite::new(write, LinesCodec::new());
    while let Some(message) = outbox.recv().await {
        let line = message.to_line();
        if sink.send(line.trim_end()).await.is_err() {
            // Gone: dropping the outbox makes every later send fail at once.
            return;
        }
    }
}

/// Pushes change notifications to a subscribed client until it goes away.
async fn forward_events(
    engine: Arc<Engine>,
    out: mpsc::Sender<ServerMessage>,
    gone: CancellationToken,
) {
    let mut events = engine.subscribe();
    loop {
        let received = tokio::select! {
            _ = gone.cancelled() => return,
            received = events.recv() => received,
        };
        let batch = match received {
            Ok(event) => vec![event],
            // Notifications were missed: say that everything changed, topic by topic.
            Err(broadcast::error::RecvError::Lagged(_)) => everything_changed(&engine),
            Err(broadcast::error::RecvError::Closed) => return,
        };
        for event in batch {
            if out.send(ServerMessage::Event { event }).await.is_err() {
                return;
            }
        }
    }
}

/// What a subscriber that missed notifications is told: one of each topic, at the current
/// generation, so it re-asks for whatever it shows.
pub(crate) fn everything_changed(engine: &Engine) -> Vec<Notification> {
    let generation = engine.generation();
    let mut all: Vec<Notification> = engine
        .links()
        .iter()
        .flat_map(|l| {
            [
                Notification::Orders {
                    link: l.id.clone(),
                    generation,
                },
                Notification::Settings {
                    link: l.id.clone(),
                    generation,
                },
            ]
        })
        .collect();
    all.extend([
        Notification::Requests { generation },
        Notification::Audit { generation },
        Notification::Health { generation },
    ]);
    all
}
