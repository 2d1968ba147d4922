//! The order detail: everything known about one order, the diagnosis of what it waits for or
//! why it is stuck (with what would fix it), and what this person may do to it now.

use crate::domain::access::Permission;
use crate::domain::audit::Actor;
use crate::domain::cause::StuckCause;
use crate::domain::ids::TiktokOrderId;
use crate::domain::order::{Flow, FlowStatus, ShippingType};
use crate::domain::text::{sanitize, sanitize_multiline, truncate};

use super::api::{OrderDetail, ServiceError};
use super::core::Service;

/// Raw payloads larger than this are cut in the detail view.
const RAW_LIMIT: usize = 64 * 1024;

impl Service {
    pub(crate) fn detail(
        &self,
        caller: &Actor,
        id: &TiktokOrderId,
    ) -> Result<OrderDetail, ServiceError> {
        let store = self.engine.store();
        let order = store
            .order(id)
            .map_err(ServiceError::internal)?
            .ok_or_else(|| {
                ServiceError::not_found(format!("order {id} is not in orderdeck's store"))
            })?;
        let platform = self
            .engine
            .link(&order.link)
            .map(|l| l.platform)
            .unwrap_or(crate::domain::platform::Platform::Shopify);
        let cancellations = store.cancellations_of(id).map_err(ServiceError::internal)?;
        let jobs = store.jobs_of(id).map_err(ServiceError::internal)?;
        let raw = store.payload(id).map_err(ServiceError::internal)?.map(|v| {
            truncate(
                &sanitize_multiline(&serde_json::to_string_pretty(&v).unwrap_or_default()),
                RAW_LIMIT,
            )
        });
        let mut diagnosis = Vec::new();
        if let Some(unreadable) = &order.unreadable {
            diagnosis.push(format!(
                "TikTok's latest version of this order cannot be read: {}",
                sanitize(&unreadable.why)
            ));
            diagnosis.push(
                "  fix: nothing to retry here; orderdeck reads it again whenever TikTok updates \
                 the order (ask TikTok support to correct the field if it stays)"
                    .into(),
            );
        }
        if let Some(parcel) = &order.parcel_after_cancel {
            match &parcel.handled {
                None => {
                    diagnosis.push(parcel.instruction());
                    if let Some(url) = &parcel.tracking_url {
                        diagnosis.push(format!("  track it: {}", sanitize(url)));
                    }
                    diagnosis.push(
                        "  then: mark it handled (intercepted, returned or written off) with a note"
                            .into(),
                    );
                }
                Some(done) => diagnosis.push(format!(
                    "parcel sent after the cancel: {} by {} ({})",
                    done.outcome.name(),
                    sanitize(&done.by),
                    sanitize(&done.note)
                )),
            }
        }
        for flow in Flow::ALL {
            let state = order.flows.get(flow);
            match &state.status {
                FlowStatus::Stuck { reason } => {
                    diagnosis.push(format!("{} is stuck: {}", flow.name(), sanitize(reason)));
                    let cause = state.stuck_on().unwrap_or(&StuckCause::Person);
                    diagnosis.push(format!("  cause: {}", cause.diagnosis()));
                    diagnosis.push(format!("  fix: {}", fix_hint(reason, cause)));
                }
                FlowStatus::Waiting { why } => {
                    diagnosis.push(format!("{} waits: {}", flow.name(), sanitize(why)))
                }
                FlowStatus::Skipped { why } => {
                    diagnosis.push(format!("{} skipped: {}", flow.name(), sanitize(why)))
                }
                FlowStatus::Queued => {
                    if let Some(e) = &state.last_error {
                        diagnosis.push(format!(
                            "{} retrying (attempt {}): {}",
                            flow.name(),
                            state.attempts,
                            sanitize(&e.message)
                        ));
                    }
                }
                _ => {}
            }
            if let Some(e) = &state.last_error
                && let Some(request_id) = &e.request_id
            {
                diagnosis.push(format!("  platform request id: {}", sanitize(request_id)));
            }
        }
        let may = |p: Permission| caller.role.is_some_and(|r| r.may(p));
        let mut actions = Vec::new();
        if may(Permission::RequestResync) {
            actions.push("resync".to_string());
        }
        if may(Permission::RetryStuckJob) && order.flows.stuck().is_some() {
            actions.push("retry".to_string());
        }
        if may(Permission::MarkParcelHandled) && order.open_parcel().is_some() {
            actions.push("parcel-handled".to_string());
        }
        if may(Permission::ReprintLabel) && order.tiktok.shipping_type == ShippingType::Tiktok {
            actions.push("reprint-label".to_string());
        }
        if may(Permission::RespondBuyerCancel) && cancellations.iter().any(|c| c.awaits_seller()) {
            actions.extend(["approve-cancel", "reject-cancel"].map(String::from));
        }
        let pending_requests = store
            .pending_requests_of(id)
            .map_err(ServiceError::internal)?;
        Ok(OrderDetail {
            order,
            platform,
            cancellations,
            jobs,
            raw,
            diagnosis,
            actions,
            pending_requests,
        })
    }
}

/// What a person can do about a stuck flow: for a cause the engine re-checks, remove it (the
/// flow then goes on by itself); for the others, from the reason.
fn fix_hint(reason: &str, cause: &StuckCause) -> &'static str {
    match cause {
        StuckCause::MissingSku { .. } => {
            return "add the SKU to the store (or fix the seller SKU on TikTok): the order is \
                    then created by itself";
        }
        StuckCause::UnmappedCarrier { .. } => {
            return "map the store's carrier to a TikTok shipping provider in Settings \
                    (carrier_map): the tracking then goes by itself";
        }
        StuckCause::StoreCredentials { .. } | StuckCause::ShopCredentials { .. } => {
            return "update the credentials in orderdeck.toml and restart the daemon: what \
                    waits on them goes on after the next good poll";
        }
        StuckCause::Outage { .. } => {
            return "nothing, unless it lasts: it goes on by itself after the next good poll";
        }
        StuckCause::Person => {}
    }
    if reason.contains("matches") && reason.contains("variants") {
        "make the SKU unique in the store (or fix the seller SKU on TikTok), then retry the stuck job"
    } else if reason.contains("carrier") {
        "map the store's carrier to a TikTok shipping provider in Settings (carrier_map), then retry"
    } else if reason.contains("credentials") || reason.contains("re-authorize") {
        "update the credentials in orderdeck.toml and restart the daemon, then retry"
    } else if reason.contains("address") {
        "the buyer's address is incomplete on TikTok: contact the buyer or TikTok support"
    } else {
        "fix the cause named above, then retry the stuck job (or ask for a resync)"
    }
}
