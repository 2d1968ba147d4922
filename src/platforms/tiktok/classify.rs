//! What a TikTok answer means for the engine. TikTok puts its verdict in the envelope
//! `{code, message, request_id, data}` whatever the HTTP status (a bad sign is HTTP 401 with
//! code `106001`, which must not be mistaken for an expired token), so the code decides first
//! and the HTTP status only where the code says nothing specific.
//!
//! Invariants: a write that may have reached TikTok's backend (5xx, internal error, gateway
//! timeout) is `Ambiguous`, never `RetryLater`, because retrying a ship or a cancel blindly can
//! apply it twice. Codes meaning "this is already done" are still errors here: the engine reads
//! [`already_done`] and decides.

use crate::platforms::error::ErrorClass;
use crate::platforms::http::CallKind;

/// Codes the client reacts to itself.
pub mod codes {
    pub const OK: i64 = 0;
    pub const ACCESS_TOKEN_INVALID: i64 = 105001;
    pub const ACCESS_TOKEN_EXPIRED: i64 = 105002;
    pub const MISSING_SCOPE: i64 = 105005;
    pub const BAD_SIGN: i64 = 106001;
    pub const TOKEN_SHOP_MISMATCH: i64 = 101000;
    pub const RATE_LIMITED: i64 = 36009002;
    pub const INTERNAL_ERROR: i64 = 36009003;
    pub const INVALID_PARAMETER: i64 = 36009004;
    pub const GATEWAY_TIMEOUT: i64 = 36009007;
    pub const DOCUMENT_GENERATING: i64 = 11034037;
    pub const ALREADY_SHIPPED: i64 = 21011020;
    pub const ALREADY_CANCELLED: i64 = 25001011;
    pub const CANCEL_REQUEST_HANDLED: i64 = 25020010;
    pub const REFRESH_TOKEN_EXPIRED: i64 = 36004001;
    pub const AUTH_CODE_INVALID: i64 = 36004004;
    pub const AUTHORIZATION_NOT_FOUND: i64 = 36004005;
}

/// The class of an answer, or `None` when it is a success.
pub fn classify(http_status: u16, code: i64, effect: CallKind) -> Option<ErrorClass> {
    use codes::*;
    let retry = ErrorClass::RetryLater { after: None };
    let server_trouble = effect.unknown_outcome(None);
    let http_ok = (200..300).contains(&http_status);
    Some(match code {
        OK if http_ok => return None,
        RATE_LIMITED | DOCUMENT_GENERATING => retry,
        INTERNAL_ERROR | GATEWAY_TIMEOUT => server_trouble,
        // An invalid token is usually one replaced by a refresh elsewhere; one refresh tells.
        ACCESS_TOKEN_EXPIRED | ACCESS_TOKEN_INVALID => ErrorClass::RefreshCredentials,
        _ if http_status == 429 => retry,
        _ if http_status >= 500 => server_trouble,
        // 106001, 105005, 101000, 36009004, auth-host codes, business codes 21…/25…/11…,
        // and anything new: a person reads the message.
        _ => ErrorClass::Permanent,
    })
}

/// A sentence for staff, appended to TikTok's own message.
pub fn explain(code: i64) -> Option<&'static str> {
    Some(match code {
        106001 => "TikTok refused the request signature: check the app key and app secret",
        105001 => "TikTok does not accept the access token",
        105002 => "the access token expired and could not be renewed",
        105005 => {
            "the app lacks the API permission package for this call: enable it in Partner Center and have the seller authorize again"
        }
        101000 => "the access token does not belong to this shop (shop cipher mismatch)",
        36009002 => "rate limited by TikTok; orderdeck slows down and retries",
        36009003 => "TikTok had an internal error",
        36009004 => {
            "TikTok refused a request parameter (when it is the timestamp, check the system clock)"
        }
        36009007 => "TikTok timed out internally",
        36004001 => {
            "the seller's authorization has expired: the seller must authorize orderdeck again"
        }
        36004004 => "the authorization code is invalid, expired or already used",
        36004005 => {
            "TikTok has no authorization for this refresh token: the seller must authorize orderdeck again"
        }
        21011020 => "the order is already shipped on TikTok",
        21011022 => "TikTok rejected the tracking number or the shipping provider",
        21011025 => "this tracking number is already used on another TikTok order",
        21004015 => "the tracking number does not match the shipping provider's format",
        21011007 => "a buyer after-sale request is pending: answer it before shipping",
        21011041 => "the order is cancelled on TikTok",
        11034002 | 21008017 => {
            "shipping documents exist only for orders TikTok ships (shipping type TIKTOK)"
        }
        21023035 => "arrange the shipment on TikTok first: the label exists after that",
        11034037 => "TikTok is still generating the document; orderdeck retries",
        21023059 => "the package is cancelled",
        25001021 => "this cancel reason is not allowed for the order's status or market",
        25001045 => "the order has shipped and can no longer be cancelled",
        25001011 => "the order is already cancelled on TikTok",
        25001051 => "the order is completed and can no longer be cancelled",
        25020010 => "the buyer's cancel request was already answered",
        _ => return None,
    })
}

/// Codes meaning the requested change is already in place on TikTok, so the operation can be
/// counted as done after reading the order back: `21011020` (ship: already shipped) and
/// `25001011` (seller cancel: already cancelled). `25001051` (completed) and `25001045`
/// (shipped) are refusals, not done.
pub fn already_done(code: i64) -> bool {
    matches!(code, codes::ALREADY_SHIPPED | codes::ALREADY_CANCELLED)
}

/// TikTok's message with the staff explanation, when there is one.
pub fn describe(code: i64, tiktok_message: &str) -> String {
    let tiktok_message = tiktok_message.trim();
    match (explain(code), tiktok_message.is_empty()) {
        (Some(why), true) => why.to_string(),
        (Some(why), false) => format!("{tiktok_message} — {why}"),
        (None, true) => format!("TikTok answered code {code} without a message"),
        (None, false) => tiktok_message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallKind::*;
    use ErrorClass::*;

    #[test]
    fn classification_table() {
        let retry = Some(RetryLater { after: None });
        // (HTTP status, code, effect, expected)
        let table = [
            (200, 0, Read, None),
            (200, 0, Write, None),
            (429, 36009002, Read, retry.clone()),
            (429, 36009002, Write, retry.clone()),
            (200, 36009002, Write, retry.clone()),
            (429, 12345, Read, retry.clone()),
            (503, 0, Read, retry.clone()),
            (503, 0, Write, Some(Ambiguous)),
            (500, 36009003, Read, retry.clone()),
            (500, 36009003, Write, Some(Ambiguous)),
            (200, 36009007, Read, retry.clone()),
            (200, 36009007, Write, Some(Ambiguous)),
            (401, 105002, Read, Some(RefreshCredentials)),
            (401, 105002, Write, Some(RefreshCredentials)),
            (401, 105001, Read, Some(RefreshCredentials)),
            (401, 106001, Read, Some(Permanent)),
            (200, 105005, Read, Some(Permanent)),
            (200, 101000, Read, Some(Permanent)),
            (400, 36009004, Read, Some(Permanent)),
            (200, 21011020, Write, Some(Permanent)),
            (200, 25001045, Write, Some(Permanent)),
            (200, 11034037, Read, retry.clone()),
            (200, 36004005, Read, Some(Permanent)),
            (404, 0, Read, Some(Permanent)),
            (200, 99999999, Read, Some(Permanent)),
        ];
        for (status, code, effect, expected) in table {
            assert_eq!(
                classify(status, code, effect),
                expected,
                "HTTP {status}, code {code}, {effect:?}"
            );
        }
    }

    #[test]
    fn every_code_named_in_the_platform_notes_is_explained() {
        for code in [
            21011020, 21011022, 21011025, 21004015, 21011007, 21011041, 11034002, 21008017,
            21023035, 11034037, 21023059, 25001021, 25001045, 25001011, 25001051, 106001, 105002,
            105005, 101000, 36009004,
        ] {
            assert!(explain(code).is_some(), "{code}");
        }
    }

    #[test]
    fn descriptions_keep_tiktoks_words_first() {
        assert_eq!(
            describe(21011020, "Package has been shipped"),
            "Package has been shipped — the order is already shipped on TikTok"
        );
        assert_eq!(describe(77, " odd "), "odd");
        assert_eq!(
            describe(77, ""),
            "TikTok answered code 77 without a message"
        );
    }

    #[test]
    fn only_true_completions_count_as_already_done() {
        assert!(already_done(21011020));
        assert!(already_done(25001011));
        assert!(!already_done(25001051));
        assert!(!already_done(25001045));
    }
}
