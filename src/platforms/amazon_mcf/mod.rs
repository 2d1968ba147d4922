//! Amazon Multi-Channel Fulfillment through the Selling Partner API (Fulfillment Outbound
//! 2020-07-01): the [`Storefront`] of a seller whose stock sits in Amazon's warehouses
//! (`shared/platforms/amazon-mcf.md`).
//!
//! - A TikTok order becomes one fulfillment order whose `sellerFulfillmentOrderId` is the TikTok
//!   order id: creates are not idempotent, but that id makes the read-back exact, so a lost
//!   answer or a refused duplicate never yields a second parcel. Amazon takes SKUs directly
//!   (no lookup); its refusal of one names an item index, which is turned back into the SKU.
//! - Tracking comes from `SHIPPED` shipments, one fulfillment per package with its own units.
//! - Cancel runs one way only, TikTok → Amazon, and only while the order is `Received` or
//!   `Planning`; later the parcel is on its way and the cancel is refused with why, for a
//!   person to intercept it. Amazon owns the stock: there is nothing to restock.
//! - Changes are polled (`listAllFulfillmentOrders`, `queryStartDate` + `nextToken`) and read
//!   in full; only fulfillment orders orderdeck created (its packing-slip comment) count.
//! - Calls are paced per operation and carry a Login with Amazon token ([`transport`]).

pub mod classify;
pub mod config;
pub mod mapping;
mod pace;
mod transport;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde_json::Value;

pub use config::{AmazonMcfConfig, ConfigError};

use self::classify::Call;
use self::mapping::ReadOrder;
use self::transport::Transport;
use super::http;
use super::{Page, PlatformError, Storefront, StorefrontChange, Unreadable};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{StorefrontOrderId, TiktokOrderId};
use crate::domain::order::{StorefrontOrder, StorefrontOrderStatus};
use crate::domain::platform::Platform;
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::cancel::{StorefrontCancelInstruction, StorefrontCancelled};
use crate::domain::rules::import::{SkuMatch, StorefrontOrderDraft};
use crate::domain::text;
use crate::platforms::error::ErrorClass;

const CREATE: Call = Call::write(Platform::AmazonMcf, "createFulfillmentOrder");
const GET: Call = Call::read(Platform::AmazonMcf, "getFulfillmentOrder");
const LIST: Call = Call::read(Platform::AmazonMcf, "listAllFulfillmentOrders");
const CANCEL: Call = Call::write(Platform::AmazonMcf, "cancelFulfillmentOrder");

const ORDERS: &str = "fba/outbound/2020-07-01/fulfillmentOrders";
/// A path segment: everything but `A-Z a-z 0-9 - _ . ~` is escaped (`+` and spaces are
/// known trouble in `sellerFulfillmentOrderId`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// How long a `New` order (not yet validated by Amazon) is waited on before a cancel.
const NEW_ORDER_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for one seller's MCF. Cheap to clone; clones share the connection pool, the access
/// token and the rate-limit buckets.
#[derive(Debug, Clone)]
pub struct AmazonMcfClient {
    inner: std::sync::Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    config: AmazonMcfConfig,
}

fn order_route(id: &str) -> String {
    format!("{ORDERS}/{}", utf8_percent_encode(id, SEGMENT))
}

impl AmazonMcfClient {
    pub fn new(config: &AmazonMcfConfig) -> Result<AmazonMcfClient, ClientError> {
        let client = http::build_client(config.timeouts)?;
        Ok(AmazonMcfClient {
            inner: std::sync::Arc::new(Inner {
                transport: Transport::new(client, config)?,
                config: config.clone(),
            }),
        })
    }

    fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// `getFulfillmentOrder`, read as the domain sees it.
    async fn read(&self, id: &str) -> Result<ReadOrder, PlatformError> {
        let answer = self
            .transport()
            .call(GET, Method::GET, &order_route(id), &[], None)
            .await?;
        let payload = answer
            .body
            .get("payload")
            .ok_or_else(|| GET.unreadable(&answer.raw, "Amazon answered without a payload"))?;
        mapping::read_order(payload).map_err(|why| GET.unreadable(&answer.raw, &why))
    }

    /// The fulfillment order with this id, or none when Amazon says it has none (and only then).
    async fn find(&self, id: &str) -> Result<Option<ReadOrder>, PlatformError> {
        match self.read(id).await {
            Ok(read) => Ok(Some(read)),
            Err(e) if classify::is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Why a cancel cannot be applied any more, for the person who must intercept the parcel.
    fn too_late(read: &ReadOrder) -> PlatformError {
        let tracking: Vec<String> = read
            .store
            .live_fulfillments()
            .filter_map(|f| f.tracking_number())
            .map(|t| match &t.carrier {
                Some(carrier) => {
                    format!("{} {}", text::sanitize(carrier), text::sanitize(&t.number))
                }
                None => text::sanitize(&t.number),
            })
            .collect();
        let tracking = if tracking.is_empty() {
            String::new()
        } else {
            format!(", tracking {}", tracking.join(", "))
        };
        PlatformError::new(
            Platform::AmazonMcf,
            CANCEL.operation,
            ErrorClass::Permanent,
            format!(
                "Amazon is already fulfilling it: intercept the parcel (fulfillment order {} is {}{tracking})",
                read.store.order_id,
                text::sanitize(&read.wire_status)
            ),
        )
    }
}

#[async_trait]
impl Storefront for AmazonMcfClient {
    fn platform(&self) -> Platform {
        Platform::AmazonMcf
    }

    /// Amazon takes seller SKUs directly: nothing to resolve.
    async fn lookup_skus(
        &self,
        _skus: &[String],
    ) -> Result<HashMap<String, SkuMatch>, PlatformError> {
        Ok(HashMap::new())
    }

    async fn create_order(
        &self,
        draft: &StorefrontOrderDraft,
    ) -> Result<StorefrontOrder, PlatformError> {
        let id = draft.tiktok_order_id.as_str();
        let permanent = |why: String| {
            PlatformError::new(
                Platform::AmazonMcf,
                CREATE.operation,
                ErrorClass::Permanent,
                why,
            )
        };
        // The draft carries no TikTok create time; the packing slip shows when orderdeck sent it.
        let sent_at = Utc::now();
        let request =
            mapping::create_request(draft, &self.inner.config, sent_at).map_err(permanent)?;
        let sent = self
            .transport()
            .call(CREATE, Method::POST, ORDERS, &[], Some(&request.body))
            .await;
        match sent {
            // Accepted: the order is what was sent. No read-back (see `accepted_order`); the
            // change poll reads Amazon's own view as soon as its status moves.
            Ok(answer) => mapping::accepted_order(&request, sent_at)
                .map(|accepted| accepted.store)
                .map_err(|why| CREATE.unreadable(&answer.raw, &why)),
            Err(e) if e.http_status == Some(400) => {
                if let Some(sku) = mapping::refused_sku(&e.message, &request.item_skus) {
                    let mut refusal = permanent(format!(
                        "SKU {} is not in Amazon's fulfillment inventory: {}",
                        text::sanitize(&sku),
                        e.message
                    ));
                    refusal.code = e.code;
                    refusal.request_id = e.request_id;
                    refusal.http_status = e.http_status;
                    return Err(refusal);
                }
                // A duplicate is refused with 400 too: if the order exists, this is it.
                match self.find(id).await? {
                    Some(existing) => Ok(existing.store),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn find_order(
        &self,
        tiktok_order_id: &TiktokOrderId,
    ) -> Result<Option<StorefrontOrder>, PlatformError> {
        Ok(self
            .find(tiktok_order_id.as_str())
            .await?
            .map(|read| read.store))
    }

    /// The fulfillment order's id is the TikTok order's (`sellerFulfillmentOrderId`).
    async fn get_change(&self, id: &StorefrontOrderId) -> Result<StorefrontChange, PlatformError> {
        let read = self.read(id.as_str()).await?;
        Ok(StorefrontChange {
            tiktok_order_id: TiktokOrderId::new(id.as_str()).ok(),
            store: read.store,
        })
    }

    /// Amazon's cancel takes no reason, restock or refund option: TikTok's reason stays in
    /// orderdeck's timeline, and Amazon keeps its own stock.
    async fn cancel_order(
        &self,
        id: &StorefrontOrderId,
        _instruction: &StorefrontCancelInstruction,
    ) -> Result<StorefrontCancelled, PlatformError> {
        let cancelled = |read: ReadOrder| StorefrontCancelled {
            store: read.store,
            put_back: Vec::new(),
            shipped: Vec::new(),
        };
        let before = self.read(id.as_str()).await?;
        if before.store.status == StorefrontOrderStatus::Cancelled {
            return Ok(cancelled(before));
        }
        if before.wire_status == "New" {
            return Err(PlatformError::new(
                Platform::AmazonMcf,
                CANCEL.operation,
                ErrorClass::RetryLater {
                    after: Some(NEW_ORDER_WAIT),
                },
                format!(
                    "Amazon has not validated fulfillment order {id} yet (New); a cancel waits for that"
                ),
            ));
        }
        if !before.cancellable() {
            return Err(Self::too_late(&before));
        }
        let route = format!("{}/cancel", order_route(id.as_str()));
        if let Err(e) = self
            .transport()
            .call(CANCEL, Method::PUT, &route, &[], None)
            .await
        {
            // Refused: picking may have started between the read and the cancel.
            if e.http_status == Some(400) {
                let now = self.read(id.as_str()).await?;
                if !now.cancellable() && now.store.status != StorefrontOrderStatus::Cancelled {
                    return Err(Self::too_late(&now));
                }
            }
            return Err(e);
        }
        let after = self.read(id.as_str()).await?;
        if after.store.status != StorefrontOrderStatus::Cancelled {
            return Err(PlatformError::new(
                Platform::AmazonMcf,
                CANCEL.operation,
                ErrorClass::Ambiguous,
                format!(
                    "Amazon accepted the cancel but fulfillment order {id} is {}",
                    text::sanitize(&after.wire_status)
                ),
            ));
        }
        Ok(cancelled(after))
    }

    async fn update_ship_to(
        &self,
        id: &StorefrontOrderId,
        _to: &ShipTo,
        _note: Option<&str>,
    ) -> Result<StorefrontOrder, PlatformError> {
        Err(PlatformError::new(
            Platform::AmazonMcf,
            "updateFulfillmentOrder",
            ErrorClass::Permanent,
            format!(
                "orderdeck does not change the address of Amazon fulfillment order {id}: change it in Seller Central before Amazon starts fulfilling it"
            ),
        ))
    }

    async fn changed_orders(
        &self,
        since: Timestamp,
        cursor: Option<String>,
    ) -> Result<Page<StorefrontChange>, PlatformError> {
        // A next page is asked for with its token alone, as Amazon requires.
        let query = match cursor {
            Some(token) => vec![("nextToken", token)],
            None => vec![(
                "queryStartDate",
                since.to_rfc3339_opts(SecondsFormat::Secs, true),
            )],
        };
        let answer = self
            .transport()
            .call(LIST, Method::GET, ORDERS, &query, None)
            .await?;
        let payload = answer.body.get("payload");
        let listed = payload
            .and_then(|p| p.get("fulfillmentOrders"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let next = payload
            .and_then(|p| p.get("nextToken"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut page = Page {
            items: Vec::new(),
            next_page_token: next.filter(|t| !t.is_empty()),
            unreadable: Vec::new(),
        };
        for raw in listed {
            let listed = match mapping::read_order(&raw) {
                Ok(read) => read,
                Err(why) => {
                    page.unreadable.push(Unreadable::new(None, why));
                    continue;
                }
            };
            // The seller's other MCF orders (other channels, Seller Central) are not ours.
            if listed.comment != mapping::ORDER_COMMENT {
                continue;
            }
            let tiktok = TiktokOrderId::new(listed.store.order_id.as_str()).ok();
            // The list leaves out items and shipments: read each changed order in full.
            match self.find(listed.store.order_id.as_str()).await? {
                Some(read) => page.items.push(StorefrontChange {
                    tiktok_order_id: tiktok,
                    store: read.store,
                }),
                None => page.unreadable.push(Unreadable::new(
                    tiktok,
                    format!(
                        "Amazon listed fulfillment order {} but does not show it",
                        listed.store.order_id
                    ),
                )),
            }
        }
        Ok(page)
    }
}
