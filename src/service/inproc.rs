//! The in-process binding: a [`Client`] that calls the service directly, for tests and for
//! commands run without a daemon. It identifies its caller the same way the daemon does (see
//! `identity`), so in-process use grants nothing the daemon would not.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::Service;
use super::api::{Request, Response, ServiceError};
use super::client::{Client, ClientEvent};
use crate::domain::audit::Actor;

pub struct InProcessClient {
    service: Arc<Service>,
    caller: Actor,
    events: broadcast::Sender<ClientEvent>,
}

impl InProcessClient {
    pub fn new(service: Arc<Service>, caller: Actor) -> Arc<InProcessClient> {
        let (events, _) = broadcast::channel(256);
        let mut notifications = service.engine().subscribe();
        let forward = events.clone();
        tokio::spawn(async move {
            loop {
                match notifications.recv().await {
                    Ok(n) => {
                        let _ = forward.send(ClientEvent::Changed(n));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Arc::new(InProcessClient {
            service,
            caller,
            events,
        })
    }

    pub fn caller(&self) -> &Actor {
        &self.caller
    }
}

#[async_trait]
impl Client for InProcessClient {
    async fn call(&self, request: Request) -> Result<Response, ServiceError> {
        self.service.handle(&self.caller, request).await
    }

    fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }
}
