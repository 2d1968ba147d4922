//! What a face holds: a [`Client`] of the service, in-process or over the daemon's socket. The
//! console and the CLI know only this trait and the types in [`super::api`].

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::api::{Notification, Request, Response, ServiceError};

/// Something that happened to the connection or the data behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Data changed: re-ask for what is shown if it is affected.
    Changed(Notification),
    /// The daemon went away; the client keeps trying to reconnect.
    Disconnected { reason: String },
    /// Connected again (after a daemon restart): re-ask for everything shown.
    Reconnected,
}

#[async_trait]
pub trait Client: Send + Sync {
    async fn call(&self, request: Request) -> Result<Response, ServiceError>;
    /// Events from now on. Slow receivers may miss some (`Lagged`): treat that as "everything changed".
    fn events(&self) -> broadcast::Receiver<ClientEvent>;
}
