//! Cancellations in both directions. A TikTok cancellation (buyer request, seller or system
//! cancel) is keyed by TikTok's `cancel_id`; a store-side cancel that orderdeck relays to TikTok is
//! keyed by the store order. Each carries the state of syncing it to the other side.

use serde::{Deserialize, Serialize};

use super::clock::Timestamp;
use super::ids::{CancelId, LinkId, TiktokOrderId};
use super::order::{FlowState, Initiator};
use crate::open_enum;

open_enum!(
    /// TikTok's `cancel_status`; the withdrawn status has two documented spellings.
    CancelStatus {
        /// Waiting for the seller to approve or reject (buyer requests).
        Pending = "CANCELLATION_REQUEST_PENDING",
        Success = "CANCELLATION_REQUEST_SUCCESS",
        /// The request was withdrawn or rejected; the order goes on.
        Withdrawn = "CANCELLATION_REQUEST_CANCELLED" | "CANCELLATION_REQUEST_CANCEL",
        Complete = "CANCELLATION_REQUEST_COMPLETE",
    }
);

impl CancelStatus {
    /// The order is (or is about to be) cancelled on TikTok.
    pub fn is_effective(&self) -> bool {
        matches!(self, CancelStatus::Success | CancelStatus::Complete)
    }
}

open_enum!(
    /// TikTok's `cancel_type`: a direct cancel, or a buyer request the seller must review.
    /// The reference's sample also shows `REQUEST_CANCEL_REFUND` for buyer requests.
    CancelType {
        Direct = "CANCEL",
        BuyerRequest = "BUYER_CANCEL" | "REQUEST_CANCEL_REFUND",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    TiktokToStore,
    StoreToTiktok,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::TiktokToStore => "TikTok → store",
            Direction::StoreToTiktok => "store → TikTok",
        }
    }
}

/// The key of a cancellation record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum CancellationKey {
    /// A TikTok cancellation record (`cancel_id`).
    Tiktok(CancelId),
    /// TikTok cancelled the order and orderdeck saw it on the order itself, without a
    /// cancellation record (e.g. an auto-cancel).
    TiktokOrder(TiktokOrderId),
    /// The store cancelled (or refunded) the store order of this TikTok order; relayed
    /// store → TikTok. Named by the TikTok order, not the store's id: WooCommerce, Magento and
    /// BigCommerce number orders from 1 in every store, so store ids repeat across links.
    Store(TiktokOrderId),
    /// Units taken off the store order of this TikTok order (the order goes on): one per count
    /// of units left, so polls seeing the same removal again find the same record.
    StoreUnits(TiktokOrderId, u32),
}

impl std::fmt::Display for CancellationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CancellationKey::Tiktok(id) => write!(f, "tiktok:{id}"),
            CancellationKey::TiktokOrder(id) => write!(f, "order:{id}"),
            CancellationKey::Store(id) => write!(f, "store:{id}"),
            CancellationKey::StoreUnits(id, left) => write!(f, "store:{id}#{left}"),
        }
    }
}

/// The seller's answer to a buyer's cancel request, once given through orderdeck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum SellerResponse {
    Approve,
    Reject {
        reason: String,
        comment: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    pub key: CancellationKey,
    pub order_id: TiktokOrderId,
    pub link: LinkId,
    pub direction: Direction,
    /// Who asked for it on the originating side (`Seller` for store-side cancels).
    pub initiator: Initiator,
    pub cancel_type: CancelType,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
    /// TikTok's status (for store → TikTok, the status TikTok answered with once sent).
    pub tiktok_status: Option<CancelStatus>,
    /// TikTok's deadline for the seller's answer to a buyer request.
    pub seller_deadline: Option<Timestamp>,
    /// TikTok's line items (units) it cancels; empty when it is the whole order (and in records
    /// kept before orderdeck read them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_item_ids: Vec<String>,
    /// The units a partial cancel covers, per SKU, once known; empty for a whole order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<super::store_order::Units>,
    /// Whether stock goes back on the store side (from the link's settings when it was decided).
    pub restock: bool,
    /// The seller's answer requested through orderdeck, if any.
    pub response: Option<SellerResponse>,
    /// State of applying this cancellation to the other side.
    pub sync: FlowState,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Cancellation {
    /// What it cancels: "whole order", or the units of a partial cancel ("1 × SKU-BLUE").
    pub fn what(&self) -> String {
        if !self.units.is_empty() {
            super::store_order::show_units(&self.units)
        } else if matches!(self.key, CancellationKey::StoreUnits(..)) {
            "some units".into()
        } else {
            "whole order".into()
        }
    }

    /// A buyer request still waiting for the seller's answer.
    pub fn awaits_seller(&self) -> bool {
        self.direction == Direction::TiktokToStore
            && self.cancel_type == CancelType::BuyerRequest
            && self.tiktok_status == Some(CancelStatus::Pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_withdrawn_spellings_parse() {
        assert_eq!(
            CancelStatus::parse("CANCELLATION_REQUEST_CANCEL"),
            CancelStatus::Withdrawn
        );
        assert_eq!(
            CancelStatus::parse("CANCELLATION_REQUEST_CANCELLED"),
            CancelStatus::Withdrawn
        );
    }

    #[test]
    fn effective_statuses() {
        let table = [
            ("CANCELLATION_REQUEST_PENDING", false),
            ("CANCELLATION_REQUEST_SUCCESS", true),
            ("CANCELLATION_REQUEST_COMPLETE", true),
            ("CANCELLATION_REQUEST_CANCEL", false),
            ("SOMETHING_NEW", false),
        ];
        for (wire, effective) in table {
            assert_eq!(
                CancelStatus::parse(wire).is_effective(),
                effective,
                "{wire}"
            );
        }
    }

    #[test]
    fn buyer_request_sample_spelling_is_a_buyer_request() {
        assert_eq!(
            CancelType::parse("REQUEST_CANCEL_REFUND"),
            CancelType::BuyerRequest
        );
        assert_eq!(CancelType::parse("BUYER_CANCEL"), CancelType::BuyerRequest);
        assert_eq!(CancelType::parse("CANCEL"), CancelType::Direct);
    }
}
