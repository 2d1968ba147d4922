//! Cancellations on the simulated TikTok: search, the seller's answer to buyer requests
//! (approve, reject), the seller's own cancel with reason-code rules per status and market,
//! and the control-side events (a buyer asks to cancel, TikTok cancels an order itself).
//!
//! Invariants: an `idempotency_key` replays the first answer given for it and never applies
//! twice; a key reused for another request is refused; a rejected request reads
//! `CANCELLATION_REQUEST_CANCEL` (the second documented spelling of "withdrawn"); approving
//! cancels the order.

use serde_json::{Value, json};

use super::gate::ApiError;
use super::orders::{in_window, paginate, sort_field};
use super::routes::{Request, field, string_list};
use super::world::{Cancellation, Replay, World};
use crate::sandbox::scenario::CancelSpec;

pub const MAX_CANCELLATION_PAGE: usize = 50;
const PENDING: &str = "CANCELLATION_REQUEST_PENDING";
const SUCCESS: &str = "CANCELLATION_REQUEST_SUCCESS";
const WITHDRAWN: &str = "CANCELLATION_REQUEST_CANCEL";
/// Seller cancel reasons (US spelling); UK shops use the same codes with `_uk`.
const SELLER_REASONS: [&str; 4] = [
    "seller_cancel_reason_out_of_stock",
    "seller_cancel_reason_wrong_price",
    "seller_cancel_paid_reason_address_not_deliver",
    "seller_cancel_paid_reason_buyer_requested_cancellation",
];

pub(super) fn search(world: &World, request: &Request) -> Result<Value, ApiError> {
    let sort = sort_field(request)?;
    let filter = |name| string_list(&request.body, name);
    let (ids, orders, types, statuses) = (
        filter("cancel_ids")?,
        filter("order_ids")?,
        filter("cancel_types")?,
        filter("cancel_status")?,
    );
    let listed = |list: &Option<Vec<String>>, value: &str| {
        list.as_ref().is_none_or(|l| l.iter().any(|v| v == value))
    };
    let mut rows = Vec::new();
    for c in world
        .cancellations
        .values()
        .filter(|c| c.shop == request.shop)
    {
        let matches = listed(&ids, &c.spec.cancel_id)
            && listed(&orders, &c.order_id)
            && listed(&types, &c.spec.cancel_type)
            && listed(&statuses, &c.spec.cancel_status)
            && in_window(request, "create_time", c.spec.create_time)?
            && in_window(request, "update_time", c.update_time)?;
        if matches {
            let key = if sort == "update_time" {
                c.update_time
            } else {
                c.spec.create_time
            };
            rows.push((key, c.spec.cancel_id.clone(), c));
        }
    }
    let page = paginate(request, rows, MAX_CANCELLATION_PAGE, false, |c| {
        world.cancellation_json(c)
    })?;
    Ok(
        json!({"cancellations": page.items, "next_page_token": page.next_page_token, "total_count": page.total_count}),
    )
}

pub(super) fn approve(world: &mut World, request: &Request) -> Result<Value, ApiError> {
    idempotent(world, request, "approve", |world, cancel_id| {
        pending_buyer_request(world, request.shop, cancel_id)?;
        grant(world, cancel_id, request.now);
        Ok(json!({}))
    })
}

pub(super) fn reject(world: &mut World, request: &Request) -> Result<Value, ApiError> {
    idempotent(world, request, "reject", |world, cancel_id| {
        field(&request.body, "reject_reason")?;
        if request.body.get("comment").is_some_and(|c| !c.is_string()) {
            return Err(ApiError::invalid("'comment' must be a string."));
        }
        pending_buyer_request(world, request.shop, cancel_id)?;
        refuse(world, cancel_id, request.now);
        Ok(json!({}))
    })
}

/// The seller's approval of a pending buyer request, from the API or Seller Center: the
/// request succeeds and the order is cancelled.
pub(super) fn grant(world: &mut World, cancel_id: &str, now: i64) {
    let Some(cancel) = world.cancellations.get_mut(cancel_id) else {
        return;
    };
    cancel.spec.cancel_status = SUCCESS.into();
    cancel.update_time = now;
    let (order_id, role, reason) = (
        cancel.order_id.clone(),
        cancel.spec.role.clone(),
        cancel.spec.reason_text.clone(),
    );
    if let Some(order) = world.orders.get_mut(&order_id) {
        order.status = "CANCELLED".into();
        order.cancellation_initiator = Some(role);
        order.cancel_reason = Some(reason);
        order.is_buyer_request_cancel = false;
        order.update_time = now;
    }
}

/// The seller's rejection of a pending buyer request: the request reads withdrawn and the
/// order goes on.
pub(super) fn refuse(world: &mut World, cancel_id: &str, now: i64) {
    let Some(cancel) = world.cancellations.get_mut(cancel_id) else {
        return;
    };
    cancel.spec.cancel_status = WITHDRAWN.into();
    cancel.update_time = now;
    let order_id = cancel.order_id.clone();
    if let Some(order) = world.orders.get_mut(&order_id) {
        order.is_buyer_request_cancel = false;
        order.update_time = now;
    }
}

pub(super) fn seller_cancel(world: &mut World, request: &Request) -> Result<Value, ApiError> {
    let order_id = field(&request.body, "order_id")?;
    let reason = field(&request.body, "cancel_reason")?;
    let order = world
        .orders
        .get(order_id)
        .filter(|o| o.shop == request.shop)
        .ok_or_else(|| ApiError::invalid(format!("Order {order_id} does not exist.")))?;
    let partial = match string_list(&request.body, "order_line_item_ids")? {
        Some(lines)
            if !order
                .lines
                .iter()
                .all(|l| l.cancelled || lines.contains(&l.id)) =>
        {
            Some(lines)
        }
        _ => None,
    };
    match order.status.as_str() {
        "CANCELLED" => {
            return Err(ApiError::business(
                25001011,
                "The order has already been cancelled.",
            ));
        }
        "COMPLETED" | "DELIVERED" => {
            return Err(ApiError::business(
                25001051,
                "The order has been completed.",
            ));
        }
        "AWAITING_COLLECTION" | "IN_TRANSIT" | "PARTIALLY_SHIPPING" => {
            return Err(ApiError::business(
                25001045,
                "The order has been shipped and cannot be cancelled.",
            ));
        }
        _ => {}
    }
    let region = world.shops[request.shop].spec.region.as_str();
    if !reason_allowed(reason, region, order.status != "UNPAID") {
        return Err(ApiError::business(
            25001021,
            format!(
                "The cancel reason is not supported for the order status {}.",
                order.status
            ),
        ));
    }
    let cancel_id = match partial {
        Some(lines) => {
            if !["US", "GB", "UK"].contains(&region) {
                return Err(ApiError::invalid(format!(
                    "Partial cancellation is not available in region {region}."
                )));
            }
            world.cancel_lines_by(
                order_id,
                &lines,
                "SELLER",
                reason,
                &reason_text(reason),
                request.now,
            )?
        }
        None => world
            .cancel_by(
                order_id,
                "SELLER",
                reason,
                &reason_text(reason),
                request.now,
            )
            .expect("order exists"),
    };
    Ok(json!({"cancel_id": cancel_id, "cancel_status": SUCCESS}))
}

impl World {
    /// TikTok (`SYSTEM`), the buyer or the seller cancels an order outright.
    pub fn cancel_by(
        &mut self,
        order_id: &str,
        role: &str,
        reason: &str,
        reason_text: &str,
        now: i64,
    ) -> Option<String> {
        let shop = self.orders.get(order_id)?.shop;
        // The buyer's pending request has nothing left to decide.
        for pending in self
            .cancellations
            .values_mut()
            .filter(|c| c.order_id == order_id && c.spec.cancel_status == PENDING)
        {
            pending.spec.cancel_status = WITHDRAWN.into();
            pending.update_time = now;
        }
        let cancel_id = self.record_cancel(shop, order_id, (role, reason, reason_text), &[], now);
        let order = self.orders.get_mut(order_id)?;
        order.status = "CANCELLED".into();
        order.cancellation_initiator = Some(role.into());
        order.cancel_reason = Some(reason_text.into());
        order.is_buyer_request_cancel = false;
        order.update_time = now;
        Some(cancel_id)
    }

    /// Some line items are cancelled and the order goes on with the others; when none is left
    /// the order is cancelled as a whole. Lines already shipped or cancelled are refused.
    pub fn cancel_lines_by(
        &mut self,
        order_id: &str,
        line_ids: &[String],
        role: &str,
        reason: &str,
        reason_text: &str,
        now: i64,
    ) -> Result<String, ApiError> {
        let order = self
            .orders
            .get(order_id)
            .ok_or_else(|| ApiError::invalid(format!("Order {order_id} does not exist.")))?;
        for id in line_ids {
            let line = order.lines.iter().find(|l| &l.id == id).ok_or_else(|| {
                ApiError::invalid(format!("Line item {id} is not part of order {order_id}."))
            })?;
            if line.cancelled {
                return Err(ApiError::business(
                    25001011,
                    format!("Line item {id} has already been cancelled."),
                ));
            }
            if order
                .packages
                .iter()
                .any(|p| p.tracking_number.is_some() && p.line_ids.contains(id))
            {
                return Err(ApiError::business(
                    25001045,
                    format!("Line item {id} has been shipped and cannot be cancelled."),
                ));
            }
        }
        let shop = order.shop;
        let cancel_id =
            self.record_cancel(shop, order_id, (role, reason, reason_text), line_ids, now);
        let order = self.orders.get_mut(order_id).expect("found above");
        for line in order.lines.iter_mut().filter(|l| line_ids.contains(&l.id)) {
            line.cancelled = true;
        }
        // TikTok re-packs: cancelled units leave their (unshipped) package.
        for package in order
            .packages
            .iter_mut()
            .filter(|p| p.tracking_number.is_none())
        {
            package.line_ids.retain(|id| !line_ids.contains(id));
        }
        order.packages.retain(|p| !p.line_ids.is_empty());
        order.update_time = now;
        if order.lines.iter().all(|l| l.cancelled) {
            order.status = "CANCELLED".into();
            order.cancellation_initiator = Some(role.into());
            order.cancel_reason = Some(reason_text.into());
        }
        Ok(cancel_id)
    }

    /// A cancellation TikTok applied at once (`CANCEL`, `SUCCESS`) of the whole order or of
    /// `line_ids`: (role, reason code, reason text).
    fn record_cancel(
        &mut self,
        shop: usize,
        order_id: &str,
        (role, reason, reason_text): (&str, &str, &str),
        line_ids: &[String],
        now: i64,
    ) -> String {
        let cancel_id = self.next_id("4035");
        let spec = CancelSpec {
            cancel_id: cancel_id.clone(),
            cancel_type: "CANCEL".into(),
            cancel_status: SUCCESS.into(),
            role: role.into(),
            reason: reason.into(),
            reason_text: reason_text.into(),
            create_time: now,
            deadline: None,
        };
        let cancellation = Cancellation {
            shop,
            order_id: order_id.into(),
            spec,
            update_time: now,
            line_ids: line_ids.to_vec(),
        };
        self.cancellations.insert(cancel_id.clone(), cancellation);
        cancel_id
    }

    /// The buyer asks to cancel; the seller must answer before `deadline`.
    pub fn open_buyer_request(
        &mut self,
        order_id: &str,
        reason: &str,
        reason_text: &str,
        deadline: i64,
        now: i64,
    ) -> Option<String> {
        let shop = self
            .orders
            .get(order_id)
            .filter(|o| o.status != "CANCELLED")?
            .shop;
        let cancel_id = self.next_id("4035");
        let spec = CancelSpec {
            cancel_id: cancel_id.clone(),
            cancel_type: "BUYER_CANCEL".into(),
            cancel_status: PENDING.into(),
            role: "BUYER".into(),
            reason: reason.into(),
            reason_text: reason_text.into(),
            create_time: now,
            deadline: Some(deadline),
        };
        self.cancellations.insert(
            cancel_id.clone(),
            Cancellation {
                shop,
                order_id: order_id.into(),
                spec,
                update_time: now,
                line_ids: Vec::new(),
            },
        );
        let order = self.orders.get_mut(order_id)?;
        order.is_buyer_request_cancel = true;
        order.update_time = now;
        Some(cancel_id)
    }
}

/// Runs `apply` once per idempotency key and replays its answer for the same key.
fn idempotent(
    world: &mut World,
    request: &Request,
    action: &'static str,
    apply: impl FnOnce(&mut World, &str) -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    let cancel_id = request.param.unwrap_or_default();
    let key = request
        .query
        .get("idempotency_key")
        .filter(|k| !k.is_empty());
    if let Some(key) = key
        && let Some(first) = world.idempotency.get(&(request.shop, key.to_string()))
    {
        if first.action != action || first.cancel_id != cancel_id {
            return Err(ApiError::invalid(
                "The idempotency_key was already used for another request.",
            ));
        }
        return first.answer.clone();
    }
    let answer = apply(world, cancel_id);
    if let Some(key) = key {
        let replay = Replay {
            action,
            cancel_id: cancel_id.to_string(),
            answer: answer.clone(),
        };
        world
            .idempotency
            .insert((request.shop, key.to_string()), replay);
    }
    answer
}

fn pending_buyer_request(world: &World, shop: usize, cancel_id: &str) -> Result<(), ApiError> {
    let cancel = world
        .cancellations
        .get(cancel_id)
        .filter(|c| c.shop == shop)
        .ok_or_else(|| ApiError::invalid(format!("Cancellation {cancel_id} does not exist.")))?;
    if !matches!(
        cancel.spec.cancel_type.as_str(),
        "BUYER_CANCEL" | "REQUEST_CANCEL_REFUND"
    ) {
        return Err(ApiError::invalid(
            "Only buyer cancellation requests take the seller's answer.",
        ));
    }
    // Approved, rejected or withdrawn: TikTok's "already handled", whatever the new answer.
    match cancel.spec.cancel_status.as_str() {
        PENDING => Ok(()),
        _ => Err(ApiError::business(
            25020010,
            "The cancellation request has already been handled.",
        )),
    }
}

/// Codes differ by market (UK adds `_uk`); `paid` reasons need a paid order.
fn reason_allowed(reason: &str, region: &str, paid: bool) -> bool {
    let base = if region.eq_ignore_ascii_case("GB") {
        match reason.strip_suffix("_uk") {
            Some(base) => base,
            None => return false,
        }
    } else {
        reason
    };
    SELLER_REASONS.contains(&base) && (paid || !base.starts_with("seller_cancel_paid_reason_"))
}

fn reason_text(reason: &str) -> String {
    let words = reason
        .trim_end_matches("_uk")
        .trim_start_matches("seller_cancel_paid_reason_")
        .trim_start_matches("seller_cancel_reason_")
        .replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_depend_on_market_and_payment() {
        assert!(reason_allowed(
            "seller_cancel_reason_out_of_stock",
            "US",
            false
        ));
        assert!(
            !reason_allowed("seller_cancel_reason_out_of_stock", "GB", true),
            "UK needs _uk"
        );
        assert!(reason_allowed(
            "seller_cancel_reason_out_of_stock_uk",
            "GB",
            true
        ));
        assert!(
            !reason_allowed("seller_cancel_paid_reason_address_not_deliver", "US", false),
            "unpaid"
        );
        assert!(reason_allowed(
            "seller_cancel_paid_reason_address_not_deliver",
            "US",
            true
        ));
        assert!(!reason_allowed("because", "US", true));
        assert_eq!(
            reason_text("seller_cancel_paid_reason_address_not_deliver_uk"),
            "Address not deliver"
        );
    }
}
