//! Cancelling a Shopify order whole: `orderCancel` (reason `OTHER`, TikTok's reason as staff
//! note, the link's restock flag, never a refund), confirmed by reading the order back because
//! Shopify applies the cancel in a background job.

use std::time::Duration;

use serde_json::{Value, json};

use super::ShopifyClient;
use super::classify::{self, Call};
use super::mapping;
use super::queries;
use super::throttle::CostKey;
use crate::domain::ids::StorefrontOrderId;
use crate::domain::order::{StorefrontOrder, StorefrontOrderStatus};
use crate::domain::platform::Platform;
use crate::domain::text;
use crate::platforms::PlatformError;
use crate::platforms::error::ErrorClass;
use crate::platforms::http::CallKind;

const CANCEL: Call = Call {
    operation: "orderCancel",
    effect: CallKind::Write,
};
const CONFIRM_FIRST_PAUSE: Duration = Duration::from_millis(100);
const CONFIRM_MAX_PAUSE: Duration = Duration::from_secs(1);

impl ShopifyClient {
    /// Re-reads the order until Shopify's cancel job has applied, within the configured time.
    /// `orderCancel` of the whole order, confirmed by reading it back.
    pub(super) async fn cancel_whole(
        &self,
        id: &StorefrontOrderId,
        restock: bool,
        note: &str,
    ) -> Result<StorefrontOrder, PlatformError> {
        let variables = json!({
            "orderId": id.as_str(),
            "restock": restock,
            "staffNote": mapping::staff_note(note),
        });
        let answer = self
            .inner
            .transport
            .execute(
                CANCEL,
                CostKey::one("orderCancel", queries::cost_hint::ORDER_CANCEL),
                queries::order_cancel(self.inner.version),
                variables,
            )
            .await?;
        let payload = answer.root("orderCancel", CANCEL)?;
        if let Some(refused) =
            classify::user_errors(payload, "orderCancelUserErrors", &answer.raw, CANCEL)
        {
            if says_already_cancelled(payload) {
                return self.confirm_cancel(id, None).await;
            }
            // Refused for another reason; but if the order is cancelled by now (in the admin,
            // or by an earlier attempt whose answer was lost), that is the outcome we wanted.
            return match self.read_order(id).await {
                Ok(read) if read.store.status == StorefrontOrderStatus::Cancelled => Ok(read.store),
                _ => Err(refused),
            };
        }
        let job = payload
            .get("job")
            .and_then(|job| job.get("id"))
            .and_then(Value::as_str);
        self.confirm_cancel(id, job).await
    }

    async fn confirm_cancel(
        &self,
        id: &StorefrontOrderId,
        job: Option<&str>,
    ) -> Result<StorefrontOrder, PlatformError> {
        let started = tokio::time::Instant::now();
        let mut pause = CONFIRM_FIRST_PAUSE;
        loop {
            match self.read_order(id).await {
                Ok(read) if read.store.status == StorefrontOrderStatus::Cancelled => {
                    return Ok(read.store);
                }
                Ok(_) => {}
                // The cancel was accepted: whatever stops us reading, its outcome is unknown.
                Err(e) => {
                    return Err(PlatformError {
                        class: ErrorClass::Ambiguous,
                        operation: CANCEL.operation,
                        message: text::truncate(
                            &format!(
                                "cancel accepted, but reading the order back failed: {}",
                                e.message
                            ),
                            500,
                        ),
                        ..e
                    });
                }
            }
            if started.elapsed() + pause > self.inner.cancel_confirm_within {
                return Err(PlatformError::new(
                    Platform::Shopify,
                    CANCEL.operation,
                    ErrorClass::Ambiguous,
                    format!(
                        "Shopify accepted the cancel (job {}) but order {id} is not cancelled after {:.1}s",
                        job.unwrap_or("unknown"),
                        started.elapsed().as_secs_f64()
                    ),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(CONFIRM_MAX_PAUSE);
        }
    }
}

/// "Cannot cancel an order that has already been canceled" (Shopify has spelt it both ways).
fn says_already_cancelled(payload: &Value) -> bool {
    payload
        .get("orderCancelUserErrors")
        .and_then(Value::as_array)
        .is_some_and(|errors| {
            errors.iter().any(|e| {
                e.get("message")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase)
                    .is_some_and(|m| {
                        m.contains("already been canceled") || m.contains("already been cancelled")
                    })
            })
        })
}
