//! The outcome classification every platform call ends in. The engine decides what to do from
//! the class alone: wait and retry, refresh credentials once, park the job for a person, or —
//! when a write may have happened — read the remote state back before anything else.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::clock::Timestamp;
use crate::domain::order::FlowError;
use crate::domain::platform::Platform;
use crate::domain::text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum ErrorClass {
    /// Transient (rate limited, overloaded, connection refused before sending). `after` is the
    /// delay the platform asked for, if it said.
    RetryLater { after: Option<Duration> },
    /// Credentials expired or were revoked: refresh once, then retry.
    RefreshCredentials,
    /// Will fail the same way again; a person must act on the message.
    Permanent,
    /// The write may have been applied (timeout or reset after sending, 5xx on a write): read
    /// the remote state back before retrying.
    Ambiguous,
}

/// A failed platform call, with everything staff need to act or to open a ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlatformError {
    pub platform: Platform,
    /// The API operation (`search_orders`, `orderCreate`...).
    pub operation: &'static str,
    pub class: ErrorClass,
    /// The platform's own error code (`36009002`, `THROTTLED`, `userErrors[].code`...).
    pub code: Option<String>,
    /// Sanitized: safe for terminals and logs.
    pub message: String,
    /// The platform's request id (TikTok `request_id`, Shopify `x-request-id`).
    pub request_id: Option<String>,
    pub http_status: Option<u16>,
}

impl PlatformError {
    pub fn new(
        platform: Platform,
        operation: &'static str,
        class: ErrorClass,
        message: impl AsRef<str>,
    ) -> Self {
        PlatformError {
            platform,
            operation,
            class,
            code: None,
            message: text::truncate(&text::sanitize(message.as_ref()), 500),
            request_id: None,
            http_status: None,
        }
    }

    pub fn with_code(mut self, code: impl AsRef<str>) -> Self {
        self.code = Some(text::truncate(&text::sanitize(code.as_ref()), 64));
        self
    }

    pub fn with_request_id(mut self, request_id: Option<impl AsRef<str>>) -> Self {
        self.request_id = request_id.map(|id| text::truncate(&text::sanitize(id.as_ref()), 128));
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub fn is_ambiguous(&self) -> bool {
        self.class == ErrorClass::Ambiguous
    }

    /// The form kept on an order's flow and shown to staff.
    pub fn to_flow_error(&self, at: Timestamp) -> FlowError {
        FlowError {
            at,
            message: format!("{} {}: {}", self.platform, self.operation, self.message),
            code: self.code.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.platform, self.operation, self.message)?;
        if let Some(code) = &self.code {
            write!(f, " (code {code})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_code_and_request_id_and_is_sanitized() {
        let e = PlatformError::new(
            Platform::TiktokShop,
            "search_orders",
            ErrorClass::Permanent,
            "bad\u{1b}[2J sign",
        )
        .with_code("106001")
        .with_request_id(Some("2022030707490001"));
        assert_eq!(
            e.to_string(),
            "TikTok Shop search_orders: bad\u{FFFD}[2J sign (code 106001) [request 2022030707490001]"
        );
    }
}
