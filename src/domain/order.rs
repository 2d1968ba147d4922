//! An order as orderdeck knows it: the TikTok side (a snapshot of what TikTok last said), the
//! store side (what the store last said), and the state of each flow that connects them.
//! Everything here is plain data; the rules that move it live in `rules/`.

use serde::{Deserialize, Serialize};

use super::cause::StuckCause;
use super::clock::Timestamp;
use super::ids::{LinkId, PackageId, TiktokOrderId};
pub use super::store_order::{
    Fulfillment, StoreLine, StorefrontOrder, StorefrontOrderStatus, Tracking, Units,
};
use crate::open_enum;

open_enum!(
    /// TikTok's order status. The order webhook spells cancelled `CANCEL`.
    OrderStatus {
        Unpaid = "UNPAID",
        OnHold = "ON_HOLD",
        AwaitingShipment = "AWAITING_SHIPMENT",
        PartiallyShipping = "PARTIALLY_SHIPPING",
        AwaitingCollection = "AWAITING_COLLECTION",
        InTransit = "IN_TRANSIT",
        Delivered = "DELIVERED",
        Completed = "COMPLETED",
        Cancelled = "CANCELLED" | "CANCEL",
    }
);

open_enum!(
    /// Who buys the label: TikTok (`TIKTOK`) or the seller's own carrier (`SELLER`).
    ShippingType {
        Tiktok = "TIKTOK",
        Seller = "SELLER",
    }
);

open_enum!(
    /// Who fulfils: the seller's warehouse or TikTok's (FBT needs no fulfillment calls).
    FulfillmentType {
        BySeller = "FULFILLMENT_BY_SELLER",
        ByTiktok = "FULFILLMENT_BY_TIKTOK",
    }
);

open_enum!(
    /// Who cancelled: TikTok's `cancellation_initiator` / cancellation `role`.
    Initiator {
        Buyer = "BUYER",
        Seller = "SELLER",
        System = "SYSTEM",
    }
);

/// Units of one SKU. TikTok sends one line item per unit; orderdeck groups them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineGroup {
    pub sku_id: String,
    pub seller_sku: String,
    pub product_name: String,
    pub sku_name: String,
    pub quantity: u32,
    /// Decimal string as TikTok sent it.
    pub unit_price: String,
    pub currency: String,
    /// TikTok's line item ids for these units (needed to ship or cancel part of an order).
    pub line_item_ids: Vec<String>,
    /// Those of `line_item_ids` TikTok shows cancelled (a partial cancel); the order goes on
    /// with the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancelled_ids: Vec<String>,
}

impl LineGroup {
    /// Units still wanted: not cancelled.
    pub fn live_ids(&self) -> impl Iterator<Item = &String> {
        self.line_item_ids
            .iter()
            .filter(|id| !self.cancelled_ids.contains(id))
    }

    pub fn live_quantity(&self) -> u32 {
        u32::try_from(self.live_ids().count()).unwrap_or(u32::MAX)
    }
}

/// One unit as TikTok sends it, before grouping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineUnit {
    pub id: String,
    pub sku_id: String,
    pub seller_sku: String,
    pub product_name: String,
    pub sku_name: String,
    pub sale_price: String,
    pub currency: String,
    /// TikTok shows the unit cancelled (`display_status` `CANCELLED`).
    pub cancelled: bool,
}

/// Groups per-unit line items by SKU, keeping the order in which SKUs first appear.
pub fn group_line_items(units: &[LineUnit]) -> Vec<LineGroup> {
    let mut groups: Vec<LineGroup> = Vec::new();
    for unit in units {
        match groups.iter_mut().find(|g| g.sku_id == unit.sku_id) {
            Some(group) => {
                group.quantity += 1;
                group.line_item_ids.push(unit.id.clone());
                if unit.cancelled {
                    group.cancelled_ids.push(unit.id.clone());
                }
            }
            None => groups.push(LineGroup {
                sku_id: unit.sku_id.clone(),
                seller_sku: unit.seller_sku.trim().to_string(),
                product_name: unit.product_name.clone(),
                sku_name: unit.sku_name.clone(),
                quantity: 1,
                unit_price: unit.sale_price.clone(),
                currency: unit.currency.clone(),
                line_item_ids: vec![unit.id.clone()],
                cancelled_ids: if unit.cancelled {
                    vec![unit.id.clone()]
                } else {
                    Vec::new()
                },
            }),
        }
    }
    groups
}

/// The buyer's shipping address. Empty while the order is ON_HOLD.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    /// `address_line1..4`, blanks removed.
    pub address_lines: Vec<String>,
    pub city: String,
    /// State, province or county (the first administrative level below the country).
    pub province: String,
    pub postal_code: String,
    /// ISO country code (`region_code`).
    pub country_code: String,
    pub full_address: String,
}

impl Recipient {
    /// An address a store can ship to needs at least a street line and a country.
    pub fn is_shippable(&self) -> bool {
        !self.address_lines.is_empty() && !self.country_code.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub id: PackageId,
    pub tracking_number: Option<String>,
    /// The line items (units) it holds, as TikTok's line items say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_item_ids: Vec<String>,
}

/// What TikTok last told us about the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TiktokSnapshot {
    pub status: OrderStatus,
    pub shipping_type: ShippingType,
    pub fulfillment_type: FulfillmentType,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    /// The ship-by deadline (`rts_sla_time`, else `shipping_due_time`).
    pub ship_by: Option<Timestamp>,
    pub lines: Vec<LineGroup>,
    pub recipient: Recipient,
    pub packages: Vec<Package>,
    pub delivery_option_id: Option<String>,
    pub tracking_number: Option<String>,
    pub shipping_provider: Option<String>,
    pub buyer_message: Option<String>,
    pub cancel_reason: Option<String>,
    pub cancellation_initiator: Option<Initiator>,
    pub is_buyer_request_cancel: bool,
    pub currency: String,
    pub total_amount: String,
}

impl TiktokSnapshot {
    /// The units, per seller SKU, that these line items are.
    pub fn units_of(&self, line_item_ids: &[String]) -> Vec<Units> {
        let mut units = Vec::new();
        for group in &self.lines {
            let n = group
                .line_item_ids
                .iter()
                .filter(|id| line_item_ids.contains(id))
                .count();
            Units::add(
                &mut units,
                &group.seller_sku,
                u32::try_from(n).unwrap_or(u32::MAX),
            );
        }
        units
    }

    /// Nothing known yet: an order whose first version from TikTok could not be read.
    pub fn unknown(now: Timestamp) -> Self {
        TiktokSnapshot {
            status: OrderStatus::parse(""),
            shipping_type: ShippingType::parse(""),
            fulfillment_type: FulfillmentType::parse(""),
            created_at: now,
            updated_at: Timestamp::default(),
            paid_at: None,
            ship_by: None,
            lines: Vec::new(),
            recipient: Recipient::default(),
            packages: Vec::new(),
            delivery_option_id: None,
            tracking_number: None,
            shipping_provider: None,
            buyer_message: None,
            cancel_reason: None,
            cancellation_initiator: None,
            is_buyer_request_cancel: false,
            currency: String::new(),
            total_amount: String::new(),
        }
    }
}

/// The state of one flow (import, tracking, cancellation, label) for one order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FlowStatus {
    /// Nothing to do (yet) and nothing pending.
    #[default]
    Idle,
    /// Not applicable to this order, with why (e.g. "TikTok ships this order").
    NotApplicable {
        why: String,
    },
    /// Waiting for something outside orderdeck (e.g. "ON_HOLD: buyer-remorse window").
    Waiting {
        why: String,
    },
    /// A job is queued or retrying.
    Queued,
    Done {
        at: Timestamp,
    },
    /// Deliberately not done, with why (a setting is off, the platform cannot do it).
    Skipped {
        why: String,
    },
    /// A person must act: the reason says what and how.
    Stuck {
        reason: String,
    },
}

impl FlowStatus {
    /// Whether a flow may move from this state to `next`. `Idle` is where a flow starts and
    /// where only a resync puts it back (`reactor::reset_flow`); a finished flow runs again
    /// (`Queued`), is finished again, or ends with the order (`NotApplicable`), and never goes
    /// back to waiting, skipped or stuck without a run in between.
    pub fn may_become(&self, next: &FlowStatus) -> bool {
        match (self, next) {
            (_, FlowStatus::Idle) => false,
            (FlowStatus::Done { .. }, next) => matches!(
                next,
                FlowStatus::Queued | FlowStatus::Done { .. } | FlowStatus::NotApplicable { .. }
            ),
            _ => true,
        }
    }
}

/// The last error a flow met, as shown to staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowError {
    pub at: Timestamp,
    pub message: String,
    /// The platform's error code, if it sent one.
    pub code: Option<String>,
    /// The platform's request id, for support tickets with the platform.
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlowState {
    pub status: FlowStatus,
    pub attempts: u32,
    pub last_error: Option<FlowError>,
    pub updated_at: Option<Timestamp>,
    /// While stuck: what the flow waits on (the engine re-checks it and retries the flow once it
    /// is gone). Absent in orders written before causes were kept: those wait for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_on: Option<StuckCause>,
}

impl FlowState {
    pub fn is_done(&self) -> bool {
        matches!(self.status, FlowStatus::Done { .. })
    }

    pub fn stuck_reason(&self) -> Option<&str> {
        match &self.status {
            FlowStatus::Stuck { reason } => Some(reason),
            _ => None,
        }
    }

    /// What a stuck flow waits on; a stuck flow recorded without a cause waits for a person.
    pub fn stuck_on(&self) -> Option<&StuckCause> {
        match &self.status {
            FlowStatus::Stuck { .. } => Some(self.waits_on.as_ref().unwrap_or(&StuckCause::Person)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    Import,
    Tracking,
    Cancellation,
    Label,
    /// The store order's shipping details following TikTok's after import.
    Address,
}

impl Flow {
    pub const ALL: [Flow; 5] = [
        Flow::Import,
        Flow::Tracking,
        Flow::Cancellation,
        Flow::Label,
        Flow::Address,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flow::Import => "import",
            Flow::Tracking => "tracking",
            Flow::Cancellation => "cancellation",
            Flow::Label => "label",
            Flow::Address => "address",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Flows {
    pub import: FlowState,
    pub tracking: FlowState,
    pub cancellation: FlowState,
    pub label: FlowState,
    #[serde(default)]
    pub address: FlowState,
}

impl Flows {
    pub fn get(&self, flow: Flow) -> &FlowState {
        match flow {
            Flow::Import => &self.import,
            Flow::Tracking => &self.tracking,
            Flow::Cancellation => &self.cancellation,
            Flow::Label => &self.label,
            Flow::Address => &self.address,
        }
    }

    pub fn get_mut(&mut self, flow: Flow) -> &mut FlowState {
        match flow {
            Flow::Import => &mut self.import,
            Flow::Tracking => &mut self.tracking,
            Flow::Cancellation => &mut self.cancellation,
            Flow::Label => &mut self.label,
            Flow::Address => &mut self.address,
        }
    }

    /// The first stuck flow and its reason.
    pub fn stuck(&self) -> Option<(Flow, &str)> {
        Flow::ALL
            .into_iter()
            .find_map(|f| self.get(f).stuck_reason().map(|r| (f, r)))
    }
}

/// One line of an order's timeline, shown in the order detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub flow: Option<Flow>,
    pub text: String,
}

/// Timelines keep the most recent entries only, so one noisy order cannot grow without bound.
pub const TIMELINE_LIMIT: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: TiktokOrderId,
    pub link: LinkId,
    pub tiktok: TiktokSnapshot,
    /// `None` until orderdeck created or found the store order.
    pub store: Option<StorefrontOrder>,
    pub flows: Flows,
    /// Tracking number last pushed to TikTok (so a changed number is an update, not a re-ship).
    pub pushed_tracking: Option<String>,
    /// Each store parcel TikTok was told about, with the units it holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushed_packages: Vec<crate::domain::rules::packages::PushedPackage>,
    /// Where the last fetched label PDF was saved.
    pub label_file: Option<String>,
    pub first_seen: Timestamp,
    pub timeline: Vec<TimelineEntry>,
    /// Set while TikTok's latest version of the order cannot be read: the order keeps its last
    /// readable version (or none) and is listed as stuck until TikTok sends a readable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<UnreadableVersion>,
    /// The shipping details the store order was given (at creation, or by the last update), to
    /// tell a change on TikTok from what the store already has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<crate::domain::rules::address::ShipTo>,
    /// A parcel the store shipped before TikTok cancelled the order: listed for a person until
    /// they say how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel_after_cancel: Option<crate::domain::rules::parcel::ParcelAfterCancel>,
}

/// Why TikTok's latest version of an order could not be read (the field and the damage), and
/// since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableVersion {
    pub why: String,
    pub since: Timestamp,
}

impl Order {
    pub fn new(id: TiktokOrderId, link: LinkId, tiktok: TiktokSnapshot, now: Timestamp) -> Self {
        Order {
            id,
            link,
            tiktok,
            store: None,
            flows: Flows::default(),
            pushed_tracking: None,
            pushed_packages: Vec::new(),
            label_file: None,
            first_seen: now,
            timeline: Vec::new(),
            unreadable: None,
            sent: None,
            parcel_after_cancel: None,
        }
    }

    /// Why a person must look at the order: TikTok's version cannot be read, a parcel went out
    /// after TikTok cancelled, or a flow is stuck (`flow: reason`).
    pub fn stuck_reason(&self) -> Option<String> {
        if let Some(u) = &self.unreadable {
            return Some(format!("unreadable on TikTok: {}", u.why));
        }
        if let Some(parcel) = self.open_parcel() {
            return Some(parcel.instruction());
        }
        self.flows
            .stuck()
            .map(|(flow, reason)| format!("{}: {reason}", flow.name()))
    }

    /// The parcel shipped after TikTok cancelled, while nobody has said how it ended.
    pub fn open_parcel(&self) -> Option<&crate::domain::rules::parcel::ParcelAfterCancel> {
        self.parcel_after_cancel.as_ref().filter(|p| p.is_open())
    }

    /// Appends to the timeline, dropping the oldest entries beyond [`TIMELINE_LIMIT`].
    pub fn note(&mut self, at: Timestamp, flow: Option<Flow>, text: impl Into<String>) {
        self.timeline.push(TimelineEntry {
            at,
            flow,
            text: text.into(),
        });
        if self.timeline.len() > TIMELINE_LIMIT {
            let excess = self.timeline.len() - TIMELINE_LIMIT;
            self.timeline.drain(..excess);
        }
    }

    /// When the order was paid, falling back to creation for orders TikTok sent without `paid_time`.
    pub fn paid_or_created(&self) -> Timestamp {
        self.tiktok.paid_at.unwrap_or(self.tiktok.created_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, sku: &str) -> LineUnit {
        LineUnit {
            id: id.into(),
            sku_id: sku.into(),
            seller_sku: format!("{sku}-seller "),
            sale_price: "9.99".into(),
            currency: "GBP".into(),
            ..LineUnit::default()
        }
    }

    #[test]
    fn units_are_grouped_by_sku_in_first_seen_order() {
        let groups = group_line_items(&[
            unit("1", "B"),
            unit("2", "A"),
            unit("3", "B"),
            unit("4", "B"),
        ]);
        let summary: Vec<_> = groups
            .iter()
            .map(|g| (g.sku_id.as_str(), g.quantity, g.line_item_ids.len()))
            .collect();
        assert_eq!(summary, vec![("B", 3, 3), ("A", 1, 1)]);
        assert_eq!(groups[0].seller_sku, "B-seller", "seller SKU is trimmed");
    }

    #[test]
    fn flows_written_before_causes_were_kept_read_back_waiting_on_a_person() {
        let old = r#"{"status":{"state":"stuck","reason":"SKU X has no variant in store s"},"attempts":1,"last_error":null,"updated_at":null}"#;
        let state: FlowState = serde_json::from_str(old).unwrap();
        assert_eq!(state.waits_on, None);
        assert_eq!(state.stuck_on(), Some(&StuckCause::Person));
        // Nothing new is written for a flow without a cause, so older readers read it too.
        assert_eq!(serde_json::to_string(&state).unwrap(), old);
        assert_eq!(FlowState::default().stuck_on(), None);
    }

    #[test]
    fn order_status_accepts_the_webhook_spelling() {
        assert_eq!(OrderStatus::parse("CANCEL"), OrderStatus::Cancelled);
        assert_eq!(OrderStatus::parse("CANCELLED"), OrderStatus::Cancelled);
        assert_eq!(
            OrderStatus::parse("AWAITING_PICKUP"),
            OrderStatus::Unknown("AWAITING_PICKUP".into())
        );
    }
}
