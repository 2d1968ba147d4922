//! The daemon's socket protocol: JSON lines. A client sends `{"id": N, "request": {...}}`; the
//! daemon answers `{"id": N, "ok": {...}}` or `{"id": N, "error": {...}}` (possibly out of order)
//! and, after `Subscribe`, pushes `{"event": {...}}` lines. Lines are capped at [`MAX_LINE`]:
//! a longer one is answered with an error and skipped, without hurting the connection.

use serde::{Deserialize, Serialize};

use super::api::{Notification, Request, Response, ServiceError};

/// The largest message either side accepts.
pub const MAX_LINE: usize = 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct ClientMessage {
    pub id: u64,
    pub request: Request,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerMessage {
    Ok {
        id: u64,
        ok: Response,
    },
    Err {
        id: Option<u64>,
        error: ServiceError,
    },
    Event {
        event: Notification,
    },
}

impl ServerMessage {
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"id":null,"error":{{"kind":"internal","message":"could not encode the answer: {e}"}}}}"#)
        });
        line.push('\n');
        line
    }
}
