//! The in-process binding: a [`Client`] that calls the service directly, for tests and for
//! commands run without a daemon. It behaves like the socket binding: it identifies its caller
//! the same way the daemon does (see `identity`), so in-process use grants nothing the daemon
//! would not, and it delivers change notifications only after `Subscribe`, as the daemon does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::Service;
use super::api::{Request, Response, ServiceError};
use super::client::{Client, ClientEvent};
use super::connection::everything_changed;
use crate::domain::audit::Actor;

pub struct InProcessClient {
    service: Arc<Service>,
    caller: Actor,
    events: broadcast::Sender<ClientEvent>,
    subscribed: AtomicBool,
}

impl InProcessClient {
    pub fn new(service: Arc<Service>, caller: Actor) -> Arc<InProcessClient> {
        let (events, _) = broadcast::channel(256);
        Arc::new(InProcessClient {
            service,
            caller,
            events,
            subscribed: AtomicBool::new(false),
        })
    }

    pub fn caller(&self) -> &Actor {
        &self.caller
    }

    /// Forwards the engine's notifications to this client's receivers from now on.
    fn start_forwarding(&self) {
        let engine = self.service.engine();
        let mut notifications = engine.subscribe();
        // Weak: the engine owns the sender, so a strong reference here would keep it (and the
        // store) alive for good; its drop ends this task instead.
        let engine = Arc::downgrade(engine);
        let forward = self.events.clone();
        tokio::spawn(async move {
            loop {
                match notifications.recv().await {
                    Ok(n) => {
                        let _ = forward.send(ClientEvent::Changed(n));
                    }
                    // Missed notifications: everything changed, said as the daemon says it.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let Some(engine) = engine.upgrade() else {
                            break;
                        };
                        for n in everything_changed(&engine) {
                            let _ = forward.send(ClientEvent::Changed(n));
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }
}

#[async_trait]
impl Client for InProcessClient {
    async fn call(&self, request: Request) -> Result<Response, ServiceError> {
        if matches!(request, Request::Subscribe) && !self.subscribed.swap(true, Ordering::AcqRel) {
            self.start_forwarding();
        }
        self.service.answer(&self.caller, request).await
    }

    fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }
}
