//! Records the store keeps beside the domain types: a link's operational state, versioned link
//! settings, poll watermarks, and the shapes reads return (pages, audit records with cursors).
//! They are stored as JSON like everything else, so adding an optional field needs no
//! migration; renaming or retyping one does.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::domain::audit::{Actor, AuditEntry};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{LinkId, ShopId, StorefrontId};
use crate::domain::order::FlowError;
use crate::domain::platform::Platform;
use crate::domain::settings::LinkSettings;

/// A link's health as the engine last saw it (the Stores view). Connections and credentials
/// live in `orderdeck.toml`; this is what happened when orderdeck used them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub link: LinkId,
    pub shop: ShopId,
    pub store: StorefrontId,
    pub platform: Platform,
    /// When the last poll of either side finished.
    #[serde(default)]
    pub last_poll: Option<Timestamp>,
    /// The last poll's failure, cleared by the next success.
    #[serde(default)]
    pub last_error: Option<FlowError>,
    /// When the TikTok access token expires (refresh before it does).
    #[serde(default)]
    pub token_expires_at: Option<Timestamp>,
    /// When the seller's authorization of the app expires (a person must re-authorize).
    #[serde(default)]
    pub authorization_expires_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// A link's settings and who last changed them. `version` counts writes (1 = first write); a
/// write names the version it was edited from and is refused if another landed meanwhile, so
/// two operators editing the same form cannot silently overwrite each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsRecord {
    pub link: LinkId,
    pub version: u64,
    pub settings: LinkSettings,
    pub updated_at: Timestamp,
    pub updated_by: Actor,
}

impl SettingsRecord {
    /// What a link that was never configured runs with: defaults, version 0.
    pub fn defaults(link: LinkId) -> SettingsRecord {
        SettingsRecord {
            link,
            version: 0,
            settings: LinkSettings::default(),
            updated_at: chrono::DateTime::UNIX_EPOCH,
            updated_by: Actor::engine(),
        }
    }
}

/// How far a poller has read one stream of one link (e.g. TikTok orders by `update_time`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// Everything updated before this has been seen.
    pub at: Timestamp,
    /// The platform's continuation token, for streams paged by cursor.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total: usize,
    pub items: Vec<T>,
}

/// Where an audit entry sits in the log: pass it back to page further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuditCursor(pub(super) [u8; 16]);

impl AuditCursor {
    /// The entry's position among entries with the same timestamp (and overall: it never
    /// repeats or goes backwards).
    pub fn sequence(&self) -> u64 {
        keys::trailing_u64(&self.0).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub cursor: AuditCursor,
    pub entry: AuditEntry,
}

/// Stored JSON as schema version 1 writes it. If one of these stops decoding, the change needs
/// a migration step (`migrate.rs`), not an edit of the sample.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;

    #[test]
    fn link_records_without_optional_fields_decode() {
        let v1 = r#"{"link":"uk","shop":"uk-shop","store":"uk-shopify","platform":"shopify",
            "updated_at":"2023-11-14T22:13:20Z"}"#;
        let record: LinkRecord = serde_json::from_str(v1).expect("v1 link record");
        assert_eq!(record.platform, Platform::Shopify);
        assert_eq!((record.last_poll, record.token_expires_at), (None, None));
    }

    #[test]
    fn settings_records_keep_their_v1_shape() {
        let v1 = r#"{"link":"uk","version":3,
            "settings":{"import_orders":true,"sync_tracking":false,"missing_tracking_after":"12h"},
            "updated_at":"2023-11-14T22:13:20Z",
            "updated_by":{"user":"alice","uid":1001,"role":"operator","from":null}}"#;
        let record: SettingsRecord = serde_json::from_str(v1).expect("v1 settings record");
        assert_eq!(record.version, 3);
        assert!(!record.settings.sync_tracking);
        assert_eq!(record.settings.missing_tracking_after.as_secs(), 12 * 3600);
        assert_eq!(record.updated_at, from_unix(1_700_000_000));
        let back: SettingsRecord =
            serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn never_written_settings_are_defaults_at_version_zero() {
        let record = SettingsRecord::defaults(LinkId::new("de").unwrap());
        assert_eq!(
            (record.version, record.settings),
            (0, LinkSettings::default())
        );
        assert!(record.updated_by.is_engine());
    }

    #[test]
    fn watermarks_without_a_cursor_decode() {
        let mark: Watermark = serde_json::from_str(r#"{"at":"2023-11-14T22:13:20Z"}"#).unwrap();
        assert_eq!(
            mark,
            Watermark {
                at: from_unix(1_700_000_000),
                cursor: None
            }
        );
    }

    #[test]
    fn audit_cursors_expose_their_sequence() {
        let cursor = AuditCursor(keys::audit_key(from_unix(5), 42));
        assert_eq!(cursor.sequence(), 42);
    }
}
