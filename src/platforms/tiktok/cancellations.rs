//! Cancellations: Search Cancellations (window on `update_time`, at most 50 per page), the
//! seller's answer to a buyer request (approve / reject, each with an `idempotency_key` so a
//! retry after a lost answer cannot apply twice), and the seller's own cancel.
//!
//! Invariants: one unreadable cancellation never fails a page; both spellings of the withdrawn
//! status and both buyer-request types read as one value (the domain's open enums); approve
//! sends no body at all, so none is signed.

use reqwest::Method;

use super::client::{Call, TiktokClient};
use super::damage;
use super::envelope::decode;
use super::wire;
use crate::domain::cancellation::{CancelStatus, CancelType};
use crate::domain::clock::from_unix;
use crate::domain::ids::{CancelId, TiktokOrderId};
use crate::domain::order::Initiator;
use crate::domain::text;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::CallKind;
use crate::platforms::{Page, RemoteCancellation, SellerCancel, Unreadable, Window};

/// TikTok's maximum `page_size` for Search Cancellations.
pub const CANCELLATION_PAGE_SIZE: usize = 50;
const SELLER_RESPOND_CANCEL: &str = "SELLER_RESPOND_CANCEL";

impl TiktokClient {
    pub(super) async fn search_cancellations_page(
        &self,
        window: Window,
        page_token: Option<String>,
    ) -> Result<Page<RemoteCancellation>, PlatformError> {
        const OP: &str = "search_cancellations";
        let call = Call::window_search(
            OP,
            "/return_refund/202309/cancellations/search",
            CANCELLATION_PAGE_SIZE,
            window,
            page_token,
        );
        let list: wire::CancellationList = decode(self.call(call).await?, OP, CallKind::Read)?;
        Ok(Page::read(
            list.cancellations,
            list.next_page_token,
            read_cancellation,
        ))
    }

    /// Every cancellation of `order`, all pages. An unreadable one fails the read: the caller
    /// is deciding whether a write happened and must not decide from part of the answer.
    pub(super) async fn cancellations_of(
        &self,
        order: &TiktokOrderId,
    ) -> Result<Vec<RemoteCancellation>, PlatformError> {
        const OP: &str = "search_cancellations";
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut call = Call::new(
                OP,
                Method::POST,
                "/return_refund/202309/cancellations/search",
                &[],
            )
            .read_only()
            .query("page_size", CANCELLATION_PAGE_SIZE.to_string());
            if let Some(token) = token.take() {
                call = call.query("page_token", token);
            }
            let call = call.json(&wire::OrderCancellations {
                order_ids: [order.as_str()],
            });
            let list: wire::CancellationList = decode(self.call(call).await?, OP, CallKind::Read)?;
            let page = Page::read(list.cancellations, list.next_page_token, read_cancellation);
            if let Some(bad) = page.unreadable.first() {
                return Err(super::envelope::error(
                    OP,
                    ErrorClass::RetryLater { after: None },
                    format!("reading back the cancellations of order {order}: {bad}"),
                ));
            }
            found.extend(page.items);
            match page.next_page_token {
                Some(next) => token = Some(next),
                None => return Ok(found),
            }
        }
    }

    pub(super) async fn approve(
        &self,
        cancel_id: &CancelId,
        idempotency_key: &str,
    ) -> Result<(), PlatformError> {
        const OP: &str = "approve_cancellation";
        let call = Call::new(
            OP,
            Method::POST,
            "/return_refund/202309/cancellations/{}/approve",
            &[cancel_id.as_str()],
        )
        .query("idempotency_key", idempotency_key);
        self.call(call).await.map(|_| ())
    }

    pub(super) async fn reject(
        &self,
        cancel_id: &CancelId,
        idempotency_key: &str,
        reason: &str,
        comment: Option<&str>,
    ) -> Result<(), PlatformError> {
        const OP: &str = "reject_cancellation";
        let body = wire::RejectCancellation {
            reject_reason: reason,
            comment: comment.filter(|c| !c.trim().is_empty()),
        };
        let call = Call::new(
            OP,
            Method::POST,
            "/return_refund/202309/cancellations/{}/reject",
            &[cancel_id.as_str()],
        )
        .query("idempotency_key", idempotency_key)
        .json(&body);
        self.call(call).await.map(|_| ())
    }

    pub(super) async fn seller_cancel(
        &self,
        order: &TiktokOrderId,
        line_item_ids: &[String],
        reason_code: &str,
    ) -> Result<SellerCancel, PlatformError> {
        const OP: &str = "cancel_order";
        let body = wire::CancelOrder {
            order_id: order.as_str(),
            order_line_item_ids: line_item_ids,
            cancel_reason: reason_code,
        };
        let call =
            Call::new(OP, Method::POST, "/return_refund/202309/cancellations", &[]).json(&body);
        let answer = self.call(call).await?;
        let request_id = answer.request_id.clone();
        let created: wire::CancelCreated = decode(answer, OP, CallKind::Write)?;
        // TikTok accepted the cancel; without its id the engine must read the order back.
        let cancel_id = created
            .cancel_id
            .and_then(|id| CancelId::new(id).ok())
            .ok_or_else(|| {
                super::envelope::error(
                    OP,
                    ErrorClass::Ambiguous,
                    "TikTok accepted the cancel but sent no usable cancel_id",
                )
                .with_request_id(request_id)
            })?;
        Ok(SellerCancel {
            cancel_id,
            status: CancelStatus::parse(created.cancel_status.as_deref().unwrap_or_default()),
        })
    }
}

/// One cancellation of a search answer, or why it cannot be read (sanitized), with the order
/// it concerns when that much could be read.
pub(super) fn read_cancellation(raw: serde_json::Value) -> Result<RemoteCancellation, Unreadable> {
    let shown = || text::truncate(&text::sanitize(&raw.to_string()), 120);
    let order = raw
        .get("order_id")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| TiktokOrderId::new(id).ok());
    let unreadable = |why: String| Unreadable::new(order.clone(), why);
    if let Some(why) = damage::find(&raw) {
        return Err(unreadable(format!("a cancellation: {why}")));
    }
    let c: wire::Cancellation = serde_json::from_value(raw.clone())
        .map_err(|e| unreadable(format!("unreadable cancellation ({e}): {}", shown())))?;
    let cancel_id = c
        .cancel_id
        .as_deref()
        .ok_or_else(|| unreadable(format!("a cancellation without a cancel_id: {}", shown())))?;
    let cancel_id = CancelId::new(cancel_id)
        .map_err(|e| unreadable(format!("cancellation with an unusable id: {e}")))?;
    let order_id = c
        .order_id
        .as_deref()
        .ok_or_else(|| unreadable(format!("cancellation {cancel_id} names no order")))?;
    let order_id = TiktokOrderId::new(order_id)
        .map_err(|e| unreadable(format!("cancellation {cancel_id}: {e}")))?;
    let time = |t: Option<i64>| t.filter(|t| *t > 0).map(from_unix);
    let created_at = time(c.create_time)
        .or(time(c.update_time))
        .unwrap_or_default();
    let seller_deadline = c
        .seller_next_action_response
        .iter()
        .filter(|a| a.action.as_deref() == Some(SELLER_RESPOND_CANCEL))
        .find_map(|a| time(a.deadline));
    let blank_as_none = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    Ok(RemoteCancellation {
        cancel_id,
        order_id,
        cancel_type: CancelType::parse(c.cancel_type.as_deref().unwrap_or_default()),
        status: CancelStatus::parse(c.cancel_status.as_deref().unwrap_or_default()),
        role: Initiator::parse(c.role.as_deref().unwrap_or_default()),
        reason_code: blank_as_none(c.cancel_reason),
        reason_text: blank_as_none(c.cancel_reason_text),
        seller_deadline,
        line_item_ids: c
            .cancel_line_items
            .into_iter()
            .filter_map(|item| blank_as_none(item.order_line_item_id))
            .collect(),
        created_at,
        updated_at: time(c.update_time).unwrap_or(created_at),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::platforms::tiktok::test_samples::{assert_subset, request_body, response_data};

    #[test]
    fn the_official_sample_reads() {
        let raw = response_data("search_cancellations")["cancellations"][0].clone();
        let c = read_cancellation(raw).unwrap();
        assert_eq!(c.cancel_id.as_str(), "4035318504086604100");
        assert_eq!(c.order_id.as_str(), "577087614418520388");
        assert_eq!(
            c.cancel_type,
            CancelType::BuyerRequest,
            "REQUEST_CANCEL_REFUND"
        );
        assert_eq!(c.status, CancelStatus::Pending);
        assert_eq!(c.role, Initiator::Buyer);
        assert_eq!(
            c.reason_code.as_deref(),
            Some("ecom_order_to_ship_canceled_reason_created_by_mistakes")
        );
        assert_eq!(c.reason_text.as_deref(), Some("Order created by mistake"));
        assert_eq!(c.seller_deadline.map(|t| t.timestamp()), Some(1690554680));
        assert_eq!(c.created_at.timestamp(), 1690451136);
        let next = response_data("search_cancellations")["next_page_token"].clone();
        assert!(
            next.as_str().unwrap().contains('='),
            "tokens carry characters that need encoding"
        );
    }

    #[test]
    fn withdrawn_spellings_and_unknown_values() {
        for spelling in [
            "CANCELLATION_REQUEST_CANCEL",
            "CANCELLATION_REQUEST_CANCELLED",
        ] {
            let c = read_cancellation(json!({"cancel_id": "1", "order_id": 2, "cancel_status": spelling, "role": "ALIEN"})).unwrap();
            assert_eq!(c.status, CancelStatus::Withdrawn);
            assert_eq!(c.role, Initiator::Unknown("ALIEN".into()));
        }
    }

    #[test]
    fn unreadable_cancellations_say_why() {
        assert!(
            read_cancellation(json!({"order_id": "2"}))
                .unwrap_err()
                .why
                .contains("without a cancel_id")
        );
        assert!(
            read_cancellation(json!({"cancel_id": "1"}))
                .unwrap_err()
                .why
                .contains("names no order")
        );
        assert!(read_cancellation(json!({"cancel_id": "1", "order_id": "x1"})).is_err());
    }

    #[test]
    fn request_bodies_use_the_documented_field_names() {
        let reject = serde_json::to_value(wire::RejectCancellation {
            reject_reason: "r",
            comment: Some("c"),
        })
        .unwrap();
        assert_subset(&reject, &request_body("reject_cancellation"));
        let cancel = serde_json::to_value(wire::CancelOrder {
            order_id: "1",
            order_line_item_ids: &[],
            cancel_reason: "r",
        })
        .unwrap();
        assert_subset(&cancel, &request_body("cancel_order"));
        let partial = serde_json::to_value(wire::CancelOrder {
            order_id: "1",
            order_line_item_ids: &["2".to_string()],
            cancel_reason: "r",
        })
        .unwrap();
        assert_subset(&partial, &request_body("cancel_order"));
        let window = serde_json::to_value(wire::TimeWindow {
            update_time_ge: 1,
            update_time_lt: 2,
        })
        .unwrap();
        assert_subset(&window, &request_body("search_cancellations"));
        assert_subset(&window, &request_body("search_orders"));
    }

    #[test]
    fn the_official_cancel_answer_reads() {
        let created: wire::CancelCreated =
            serde_json::from_value(response_data("cancel_order")).unwrap();
        assert_eq!(created.cancel_id.as_deref(), Some("4035319218955782461"));
        assert_eq!(
            CancelStatus::parse(created.cancel_status.as_deref().unwrap()),
            CancelStatus::Success
        );
    }
}
