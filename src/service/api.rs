//! The service API: the one vocabulary every face (console, CLI) uses, in-process or over the
//! daemon's socket. Requests are data, so role checks, confirmation counts and audit sit in one
//! place. Lists are always paged: a face never receives a whole table. Change notifications
//! say what changed (with a generation number), never the data; clients re-ask for what they show.

use serde::{Deserialize, Serialize};

use crate::domain::access::Role;
use crate::domain::audit::AuditEntry;
use crate::domain::cancellation::{Cancellation, CancellationKey};
use crate::domain::cause::StuckCause;
use crate::domain::clock::Timestamp;
use crate::domain::ids::{CancelId, JobId, LinkId, RequestId, TiktokOrderId};
use crate::domain::job::Job;
use crate::domain::order::Order;
use crate::domain::platform::Platform;
use crate::domain::request::{ResyncFlow, ResyncRequest};
use crate::domain::rules::parcel::ParcelOutcome;
use crate::domain::settings::LinkSettings;
use crate::domain::triage::{OrderView, StorefrontKnowledge, Urgency};

// Told by the engine, carried on the wire as they are.
pub use crate::engine::{Notification, SyncSummary};

/// Bumped when a request or response changes incompatibly; client and daemon compare it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The most rows one page may hold.
pub const MAX_PAGE: usize = 500;

/// The most orders [`Request::FindOrder`] lists: one number in this many stores is already
/// more than a person reads through.
pub const MAX_FOUND: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// First request on a connection: who am I, and what may I do. `ssh_connection` is the
    /// client's `SSH_CONNECTION`, recorded in audit entries as information only.
    Hello {
        protocol: u32,
        ssh_connection: Option<String>,
    },
    Overview,
    Orders(OrderQuery),
    /// How many orders an order list holds, filter included (its paging ignored): what
    /// follows an `Orders` page marked `counting`.
    OrderCount(OrderQuery),
    Cancellations(CancellationQuery),
    Requests(RequestQuery),
    Order {
        id: TiktokOrderId,
    },
    /// The orders `text` names whole: the order with that TikTok id, else every order whose
    /// store order number it is (`#1002` or `1002`; one number may be in several stores).
    /// Answered as rows of the every-order list, newest first, at most [`MAX_FOUND`].
    FindOrder {
        text: String,
    },
    Audit(AuditQuery),
    /// Audit entries and engine events together, newest first (the Activity view).
    Activity(AuditQuery),
    Settings {
        link: LinkId,
    },
    // --- mutations: audited whether allowed or refused ---
    Resync {
        orders: Vec<TiktokOrderId>,
        flow: ResyncFlow,
        reason: String,
    },
    Decide {
        request: RequestId,
        approve: bool,
        reason: Option<String>,
    },
    RespondBuyerCancel {
        cancel_id: CancelId,
        approve: bool,
        reject_reason: Option<String>,
        comment: Option<String>,
    },
    ReprintLabel {
        order: TiktokOrderId,
        print: bool,
    },
    RetryStuck {
        orders: Vec<TiktokOrderId>,
        reason: Option<String>,
    },
    /// How a parcel the store shipped before TikTok's cancel ended (intercepted, returned,
    /// written off), with a note: the order leaves the Stuck list.
    MarkParcelHandled {
        order: TiktokOrderId,
        outcome: ParcelOutcome,
        note: String,
    },
    /// Retries every stuck order of `link` waiting on `cause` (see `LinkHealth::waiting`).
    RetryCause {
        link: LinkId,
        cause: StuckCause,
        reason: Option<String>,
    },
    SetSettings {
        link: LinkId,
        changes: Vec<(String, String)>,
        expected_version: u64,
        reason: Option<String>,
    },
    SyncNow {
        link: Option<LinkId>,
    },
    /// Keep sending notifications on this connection.
    Subscribe,
}

impl Request {
    /// Whether the request changes anything (and so is audited). Exhaustive on purpose: a new
    /// request must say which it is.
    pub fn is_mutation(&self) -> bool {
        match self {
            Request::Hello { .. }
            | Request::Overview
            | Request::Orders(_)
            | Request::OrderCount(_)
            | Request::Cancellations(_)
            | Request::Requests(_)
            | Request::Order { .. }
            | Request::FindOrder { .. }
            | Request::Audit(_)
            | Request::Activity(_)
            | Request::Settings { .. }
            | Request::Subscribe => false,
            Request::Resync { .. }
            | Request::Decide { .. }
            | Request::RespondBuyerCancel { .. }
            | Request::ReprintLabel { .. }
            | Request::RetryStuck { .. }
            | Request::MarkParcelHandled { .. }
            | Request::RetryCause { .. }
            | Request::SetSettings { .. }
            | Request::SyncNow { .. } => true,
        }
    }

    /// Whether the request walks a whole view or log rather than reading one page of an index:
    /// a filter, or `since`. The service caps how many run at once; a console keeps one of
    /// them in flight per list.
    pub fn scans(&self) -> bool {
        let filtered =
            |filter: &Option<String>| filter.as_deref().is_some_and(|f| !f.trim().is_empty());
        match self {
            // A sorted order list is a range of an index, as its own order is.
            Request::Orders(q) | Request::OrderCount(q) => filtered(&q.filter),
            Request::Cancellations(q) => filtered(&q.filter),
            Request::Audit(q) | Request::Activity(q) => filtered(&q.filter) || q.since.is_some(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

impl SortDir {
    /// The other direction.
    pub fn reversed(self) -> SortDir {
        match self {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        }
    }
}

/// A column a list can be sorted by. The order lists use the first group; Cancellations,
/// Approvals and Activity add their own columns (and share `Id`, `Link`, `Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OrderColumn {
    /// The view's own order (deadline, age...).
    #[default]
    Default,
    Id,
    Link,
    Status,
    Created,
    ShipBy,
    /// When it was paid (when it was created, for orders not paid yet).
    Paid,
    /// The store's order name or id.
    StoreOrder,
    /// Why it is on the list.
    Why,
    /// What the store side knows (missing tracking), then why. (Named `store_side` on the wire
    /// since before the storefront rename.)
    #[serde(rename = "store_side")]
    StorefrontSide,
    Skus,
    Buyer,
    /// Cancellations: which way, who asked, the seller's deadline, the sync state.
    Direction,
    Initiator,
    Deadline,
    Sync,
    /// Cancellations and approvals: the reason given.
    Reason,
    /// Approvals: the request id, who asked, when, which flow, its orders.
    Request,
    Requester,
    Asked,
    Flow,
    Targets,
    /// Activity: when, who, what happened.
    When,
    Who,
    Text,
}

/// How a list other than the order lists is sorted (its own order unless asked otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Sort {
    pub column: OrderColumn,
    pub dir: SortDir,
}

impl Sort {
    /// The list's own order, as the service gives it without sorting.
    pub fn is_default(self) -> bool {
        self == Sort::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    pub view: OrderView,
    pub link: Option<LinkId>,
    /// Substring (case-smart) and `field:value` terms, e.g. `store:uk status:stuck jumper`.
    pub filter: Option<String>,
    pub sort: OrderColumn,
    pub dir: SortDir,
    pub offset: usize,
    pub limit: usize,
}

impl OrderQuery {
    pub fn first_page(view: OrderView, limit: usize) -> Self {
        OrderQuery {
            view,
            link: None,
            filter: None,
            sort: OrderColumn::Default,
            dir: SortDir::Asc,
            offset: 0,
            limit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationQuery {
    pub link: Option<LinkId>,
    pub filter: Option<String>,
    pub waiting_only: bool,
    pub offset: usize,
    pub limit: usize,
    #[serde(default)]
    pub sort: Sort,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestQuery {
    pub pending_only: bool,
    pub offset: usize,
    pub limit: usize,
    #[serde(default)]
    pub sort: Sort,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub since: Option<Timestamp>,
    pub filter: Option<String>,
    pub offset: usize,
    pub limit: usize,
    #[serde(default)]
    pub sort: Sort,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Welcome(Welcome),
    Overview(Overview),
    Orders(Paged<OrderRow>),
    /// The answer to [`Request::OrderCount`].
    OrderCount {
        total: usize,
    },
    Cancellations(Paged<CancellationRow>),
    Requests(Paged<ResyncRequest>),
    Order(Box<OrderDetail>),
    Audit(Paged<AuditEntry>),
    Activity(Paged<ActivityItem>),
    Settings(SettingsView),
    Resync(ResyncOutcome),
    Done {
        message: String,
    },
    Label {
        path: String,
        printed: bool,
    },
    Sync(SyncSummary),
    Subscribed,
}

impl Response {
    /// The answer's kind as it is named on the wire (`"sync"`, `"label"` …), for messages that
    /// must name an unexpected answer without dumping it.
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
            .unwrap_or_else(|| "unknown".into())
    }
}

/// One line of the Activity view: a person's action (audit) or something the engine did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityItem {
    pub at: Timestamp,
    /// `audit` or `engine`.
    pub source: String,
    pub level: ActivityLevel,
    /// Who (a unix user, or `orderdeck` for the engine).
    pub who: String,
    pub link: Option<LinkId>,
    pub order: Option<TiktokOrderId>,
    /// Sanitized one-line description.
    pub text: String,
}

/// How an Activity line reads: an engine event's level, or an audit entry's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityLevel {
    Info,
    Warn,
    Error,
    Ok,
    Refused,
    Failed,
}

impl ActivityLevel {
    pub const ALL: [ActivityLevel; 6] = [
        ActivityLevel::Info,
        ActivityLevel::Warn,
        ActivityLevel::Error,
        ActivityLevel::Ok,
        ActivityLevel::Refused,
        ActivityLevel::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ActivityLevel::Info => "info",
            ActivityLevel::Warn => "warn",
            ActivityLevel::Error => "error",
            ActivityLevel::Ok => "ok",
            ActivityLevel::Refused => "refused",
            ActivityLevel::Failed => "failed",
        }
    }

    /// Something went wrong: an engine error, or a person's request that failed.
    pub fn is_error(self) -> bool {
        matches!(self, ActivityLevel::Error | ActivityLevel::Failed)
    }

    /// Worth a look: an engine warning, or a request refused.
    pub fn is_warning(self) -> bool {
        matches!(self, ActivityLevel::Warn | ActivityLevel::Refused)
    }
}

impl std::fmt::Display for ActivityLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ActivityLevel {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ActivityLevel::ALL
            .into_iter()
            .find(|l| l.name() == name)
            .ok_or_else(|| format!("no activity level is named \"{name}\""))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    pub user: String,
    pub uid: u32,
    pub role: Option<Role>,
    pub two_person: bool,
    pub daemon: bool,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paged<T> {
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<T>,
    /// The total is not known yet (a filtered order list whose page filled before its end):
    /// `total` counts what was read so far, and [`Request::OrderCount`] gives the real one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counting: bool,
}

/// One line of an order list: enough to draw it without loading the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: TiktokOrderId,
    pub link: LinkId,
    pub tiktok_status: String,
    pub shipping_type: String,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub ship_by: Option<Timestamp>,
    pub urgency: Urgency,
    pub store_order: Option<String>,
    pub store_status: Option<String>,
    /// Short states of import / tracking / cancellation / label.
    pub flows: [String; 4],
    /// Why it is on this list (pending reason, stuck reason, store knowledge...). Sanitized.
    pub why: String,
    pub knowledge: Option<StorefrontKnowledge>,
    pub skus: String,
    pub buyer: String,
    pub total: String,
    /// Every tracking number the order carries, space-separated (empty in answers of
    /// daemons from before it was sent).
    #[serde(default)]
    pub tracking: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRow {
    pub key: CancellationKey,
    pub order_id: TiktokOrderId,
    pub link: LinkId,
    pub direction: String,
    pub initiator: String,
    /// "whole order", or the units of a partial cancel ("1 × SKU-BLUE").
    pub what: String,
    pub tiktok_status: Option<String>,
    pub reason: String,
    pub seller_deadline: Option<Timestamp>,
    pub urgency: Urgency,
    pub awaits_seller: bool,
    /// done, queued, failed, skipped (with why), not supported, waiting.
    pub sync: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHealth {
    pub link: LinkId,
    pub shop: String,
    pub store: String,
    pub platform: Platform,
    pub region: String,
    pub last_poll_ok: Option<Timestamp>,
    pub last_poll_error: Option<String>,
    pub errors_last_hour: u32,
    pub queue_depth: usize,
    pub stuck_jobs: usize,
    pub access_expires_at: Option<Timestamp>,
    pub authorization_expires_at: Option<Timestamp>,
    pub counts: ViewCounts,
    /// What the link's stuck orders wait on, with how many orders wait on each.
    #[serde(default)]
    pub waiting: Vec<WaitingOn>,
    /// Webhooks since the daemon started: the last one, verified and refused counts.
    #[serde(default)]
    pub webhooks: crate::engine::WebhookCounts,
}

/// Stuck orders of a link waiting on one cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingOn {
    pub cause: StuckCause,
    pub orders: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ViewCounts {
    pub pending: usize,
    pub missing_tracking: usize,
    pub stuck: usize,
    /// Parcels shipped before TikTok cancelled, not yet marked handled.
    #[serde(default)]
    pub parcels: usize,
    pub cancellations_waiting: usize,
    pub all: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub now: Timestamp,
    pub links: Vec<LinkHealth>,
    pub pending_requests: usize,
    pub generation: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDetail {
    pub order: Order,
    pub platform: Platform,
    pub cancellations: Vec<Cancellation>,
    pub jobs: Vec<Job>,
    /// The raw TikTok payload, pretty-printed and sanitized.
    pub raw: Option<String>,
    /// Why it is stuck and what would fix it.
    pub diagnosis: Vec<String>,
    /// What this user may do to it now, by command name (`resync`, `retry`, `reprint-label`,
    /// `parcel-handled`, `approve-cancel`, `reject-cancel`: the console's `:` commands).
    pub actions: Vec<String>,
    /// Resync requests naming this order that wait for an operator's decision.
    #[serde(default)]
    pub pending_requests: Vec<ResyncRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub link: LinkId,
    pub platform: Platform,
    pub version: u64,
    pub settings: LinkSettings,
    /// (key, value text, description) for the keys that exist on this platform.
    pub fields: Vec<(String, String, String)>,
    /// The shipping providers TikTok lists for the link's shop (what `carrier_map` may name;
    /// empty until orderdeck has fetched a list).
    #[serde(default)]
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResyncOutcome {
    pub request: RequestId,
    /// True when it runs now; false when it waits for an operator.
    pub running: bool,
    pub jobs: Vec<JobId>,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceError {
    /// The caller's role does not allow it (audited).
    #[error("refused: {message}")]
    Refused { message: String },
    /// The request itself is wrong (unknown id, bad value); the message names the culprit.
    #[error("{message}")]
    Invalid { message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    /// orderdeck itself failed (store, engine).
    #[error("internal error: {message}")]
    Internal { message: String },
    /// The daemon could not be reached or went away.
    #[error("{message}")]
    Disconnected { message: String },
}

impl ServiceError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ServiceError::NotFound {
            message: message.into(),
        }
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        ServiceError::Internal {
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_columns_keep_their_wire_names() {
        let names: Vec<String> = [
            OrderColumn::Default,
            OrderColumn::ShipBy,
            OrderColumn::StoreOrder,
            OrderColumn::StorefrontSide,
        ]
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
        assert_eq!(
            names,
            [
                "\"default\"",
                "\"ship_by\"",
                "\"store_order\"",
                "\"store_side\""
            ]
        );
    }
}
