//! Shopify, through the GraphQL Admin API (the REST Admin API is legacy): the [`Storefront`]
//! of a merchant's Shopify store.
//!
//! - SKUs are resolved to variant ids (`productVariants`, exact matches only): the line `sku`
//!   of `orderCreate` is only a label on Shopify.
//! - Orders are created paid, tagged `TikTok Shop`, with the TikTok order id as
//!   `sourceIdentifier`. `orderCreate` has no idempotency key: after an `Ambiguous` failure the
//!   engine calls [`Storefront::find_order`] (`source_identifier:` search) before creating again.
//! - Cancels use reason `OTHER`, TikTok's reason as staff note, the link's restock flag, and
//!   never refund (TikTok refunds the buyer). The cancel job is asynchronous: success is
//!   reported only once a re-read shows `cancelledAt`.
//! - Every call is paced by the store's cost bucket ([`throttle`]) and classified by
//!   [`classify`].

mod cancel;
pub mod classify;
pub mod config;
pub mod mapping;
pub mod queries;
mod stock;
mod subscriptions;
pub mod throttle;
mod transport;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::SecondsFormat;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

pub use config::{ApiVersion, ConfigError, DEFAULT_API_VERSION, ShopifyConfig};
pub use throttle::BucketSnapshot;

use self::classify::Call;
use self::mapping::ReadOrder;
use self::throttle::CostKey;
use self::transport::Transport;
use super::http::{self, CallKind};
use super::{
    Page, PlatformError, Storefront, StorefrontChange, Subscription, UnitRemoval, Unreadable,
};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{StorefrontOrderId, TiktokOrderId};
use crate::domain::order::{StorefrontOrder, StorefrontOrderStatus};
use crate::domain::platform::Platform;
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::cancel::{StorefrontCancelInstruction, StorefrontCancelled};
use crate::domain::rules::import::{STORE_ORDER_TAG, SkuMatch, StorefrontOrderDraft};
use crate::platforms::error::ErrorClass;

const LOOKUP: Call = Call {
    operation: "productVariants",
    effect: CallKind::Read,
};
const CREATE: Call = Call {
    operation: "orderCreate",
    effect: CallKind::Write,
};
const SEARCH: Call = Call {
    operation: "orders",
    effect: CallKind::Read,
};
/// How much of an order a read asks for: polls and read-backs need status, fulfillments and
/// tracking (3 points); split shipments and line edits also need the lines (357 requested).
#[derive(Debug, Clone, Copy)]
enum Depth {
    Summary,
    Full,
}

const READ: Call = Call {
    operation: "order",
    effect: CallKind::Read,
};
const UPDATE: Call = Call {
    operation: "orderUpdate",
    effect: CallKind::Write,
};

/// A pacing wait longer than this is reported as `RetryLater` instead of slept through.
const MAX_PACING_WAIT: Duration = Duration::from_secs(30);
/// First and longest pause between re-reads while a cancel job runs.

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the access token contains characters not allowed in an HTTP header")]
    TokenNotHeaderSafe,
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for one store. Cheap to clone; clones share one connection pool and one cost bucket.
#[derive(Debug, Clone)]
pub struct ShopifyClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    version: ApiVersion,
    cancel_confirm_within: Duration,
}

impl ShopifyClient {
    pub fn new(config: &ShopifyConfig) -> Result<ShopifyClient, ClientError> {
        let endpoint = config.endpoint()?;
        let token = HeaderValue::from_str(config.access_token.trim())
            .map_err(|_| ClientError::TokenNotHeaderSafe)?;
        let client = http::build_client(config.timeouts)?;
        Ok(ShopifyClient {
            inner: Arc::new(Inner {
                transport: Transport::new(client, endpoint, token, MAX_PACING_WAIT),
                version: config.api_version,
                cancel_confirm_within: config.cancel_confirm_within,
            }),
        })
    }

    pub fn api_version(&self) -> ApiVersion {
        self.inner.version
    }

    /// The store's cost bucket as last modelled (`None` before the first answer).
    pub fn bucket(&self) -> Option<BucketSnapshot> {
        self.inner.transport.bucket()
    }

    async fn read_order(&self, id: &StorefrontOrderId) -> Result<ReadOrder, PlatformError> {
        self.read_order_as(id, Depth::Summary).await
    }

    async fn read_order_as(
        &self,
        id: &StorefrontOrderId,
        depth: Depth,
    ) -> Result<ReadOrder, PlatformError> {
        if !id.as_str().starts_with("gid://shopify/Order/") {
            return Err(PlatformError::new(
                Platform::Shopify,
                READ.operation,
                ErrorClass::Permanent,
                format!("{id} is not a Shopify order id (gid://shopify/Order/…)"),
            ));
        }
        let answer = self
            .inner
            .transport
            .execute(
                READ,
                match depth {
                    Depth::Summary => CostKey::one("getOrder", queries::cost_hint::GET_ORDER),
                    Depth::Full => CostKey::one("orderDetail", queries::cost_hint::ORDER_DETAIL),
                },
                match depth {
                    Depth::Summary => queries::GET_ORDER,
                    Depth::Full => queries::ORDER_DETAIL,
                },
                json!({ "id": id.as_str() }),
            )
            .await?;
        match answer.data.get("order") {
            Some(order @ Value::Object(_)) => mapping::read_order(order)
                .map_err(|why| classify::unreadable(READ, &answer.raw, &why)),
            _ => Err(READ
                .error(
                    ErrorClass::Permanent,
                    format!(
                        "order {id} is not in the store (deleted, or older than 60 days without read_all_orders)"
                    ),
                    &answer.raw,
                )
                .with_code("NOT_FOUND")),
        }
    }
}

fn is_variant_gid(id: &str) -> bool {
    id.strip_prefix("gid://shopify/ProductVariant/")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[async_trait]
impl Storefront for ShopifyClient {
    fn platform(&self) -> Platform {
        Platform::Shopify
    }

    async fn lookup_skus(
        &self,
        skus: &[String],
    ) -> Result<HashMap<String, SkuMatch>, PlatformError> {
        let mut matches = HashMap::new();
        let mut wanted: Vec<&String> = Vec::new();
        for sku in skus {
            if sku.trim().is_empty() {
                matches.insert(sku.clone(), SkuMatch::None);
            } else if !wanted.contains(&sku) {
                wanted.push(sku);
            }
        }
        for batch in wanted.chunks(queries::SKU_BATCH) {
            let variables: serde_json::Map<String, Value> = batch
                .iter()
                .enumerate()
                .map(|(i, sku)| {
                    let term = queries::search_term("sku", sku.trim());
                    (queries::sku_variable(i), json!(term))
                })
                .collect();
            let key = CostKey {
                operation: "lookupSkus",
                units: batch.len() as u32,
                hint_per_unit: queries::cost_hint::LOOKUP_SKU,
            };
            let document = queries::lookup_skus(batch.len());
            let answer = self
                .inner
                .transport
                .execute(LOOKUP, key, &document, Value::Object(variables))
                .await?;
            for (i, sku) in batch.iter().enumerate() {
                let found = answer.root(&queries::sku_alias(i), LOOKUP)?;
                let exact: Vec<&str> = found
                    .get("nodes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|v| {
                        v.get("sku").and_then(Value::as_str).map(str::trim) == Some(sku.trim())
                    })
                    .filter_map(|v| v.get("id").and_then(Value::as_str))
                    .collect();
                // The id goes into orders and onto screens: it must be a plain GID.
                if let Some(odd) = exact.iter().find(|id| !is_variant_gid(id)) {
                    return Err(classify::unreadable(
                        LOOKUP,
                        &answer.raw,
                        &format!("variant id {odd:?} is not a ProductVariant GID"),
                    ));
                }
                let answer_for_sku = match exact.as_slice() {
                    [] => SkuMatch::None,
                    [id] => SkuMatch::One((*id).to_string()),
                    several => SkuMatch::Many(several.len()),
                };
                matches.insert((*sku).clone(), answer_for_sku);
            }
        }
        Ok(matches)
    }

    async fn create_order(
        &self,
        draft: &StorefrontOrderDraft,
    ) -> Result<StorefrontOrder, PlatformError> {
        let variables = mapping::order_create_variables(draft).map_err(|e| {
            PlatformError::new(
                Platform::Shopify,
                CREATE.operation,
                ErrorClass::Permanent,
                e.to_string(),
            )
        })?;
        let answer = self
            .inner
            .transport
            .execute(
                CREATE,
                CostKey::one("orderCreate", queries::cost_hint::ORDER_CREATE),
                queries::ORDER_CREATE,
                variables,
            )
            .await?;
        let payload = answer.root("orderCreate", CREATE)?;
        if let Some(refused) = classify::user_errors(payload, "userErrors", &answer.raw, CREATE) {
            return Err(refused);
        }
        let order = payload
            .get("order")
            .filter(|o| o.is_object())
            .ok_or_else(|| {
                classify::unreadable(
                    CREATE,
                    &answer.raw,
                    "orderCreate answered no order and no error",
                )
            })?;
        mapping::read_order(order)
            .map(|read| read.store)
            .map_err(|why| classify::unreadable(CREATE, &answer.raw, &why))
    }

    async fn find_order(
        &self,
        tiktok_order_id: &TiktokOrderId,
    ) -> Result<Option<StorefrontOrder>, PlatformError> {
        let query = queries::search_term("source_identifier", tiktok_order_id.as_str());
        let answer = self
            .inner
            .transport
            .execute(
                SEARCH,
                CostKey::one("findOrder", queries::cost_hint::FIND_ORDER),
                queries::FIND_ORDER,
                json!({ "query": query }),
            )
            .await?;
        let orders = answer.root("orders", SEARCH)?;
        let mut found = Vec::new();
        for node in orders
            .get("nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let read = mapping::read_order(node)
                .map_err(|why| classify::unreadable(SEARCH, &answer.raw, &why))?;
            // The search is tokenised: keep only the order created for exactly this id.
            if read.source_identifier.as_deref() == Some(tiktok_order_id.as_str()) {
                found.push(read.store);
            }
        }
        match found.len() {
            0 | 1 => Ok(found.pop()),
            _ => Err(SEARCH.error(
                ErrorClass::Permanent,
                format!(
                    "TikTok order {tiktok_order_id} has several store orders ({}): cancel the duplicates in Shopify",
                    found
                        .iter()
                        .map(|s| s.name.clone().unwrap_or_else(|| s.order_id.to_string()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &answer.raw,
            )),
        }
    }

    async fn get_change(&self, id: &StorefrontOrderId) -> Result<StorefrontChange, PlatformError> {
        let read = self.read_order(id).await?;
        Ok(StorefrontChange {
            tiktok_order_id: read.tiktok_order_id(),
            store: read.store,
        })
    }

    async fn order_detail(&self, id: &StorefrontOrderId) -> Result<StorefrontOrder, PlatformError> {
        self.read_order_as(id, Depth::Full)
            .await
            .map(|read| read.store)
    }

    async fn cancel_order(
        &self,
        id: &StorefrontOrderId,
        instruction: &StorefrontCancelInstruction,
    ) -> Result<StorefrontCancelled, PlatformError> {
        let now = self.read_order(id).await?.store;
        let cancelled = |store, put_back, shipped| StorefrontCancelled {
            store,
            put_back,
            shipped,
        };
        if now.status == StorefrontOrderStatus::Cancelled {
            return Ok(cancelled(now, Vec::new(), Vec::new()));
        }
        // Nothing shipped: one cancel restocks everything or nothing, as the link says. (A
        // fulfillment created in the moment between this read and the cancel would be put
        // back too; Shopify offers no cancel conditional on it.)
        if !now.has_fulfillment() {
            let store = self
                .cancel_whole(id, instruction.restock, &instruction.note)
                .await?;
            return Ok(cancelled(store, Vec::new(), Vec::new()));
        }
        let shipment = self.shipment(id).await?;
        let put_back = if instruction.restock && !shipment.unshipped.is_empty() {
            self.take_off_unshipped(id, mapping::staff_note(&instruction.note))
                .await?
        } else {
            Vec::new()
        };
        let store = self.cancel_whole(id, false, &instruction.note).await?;
        Ok(cancelled(store, put_back, shipment.shipped))
    }

    async fn remove_units(
        &self,
        id: &StorefrontOrderId,
        removal: &UnitRemoval,
    ) -> Result<StorefrontOrder, PlatformError> {
        self.take_off_to_keep(id, removal).await?;
        self.order_detail(id).await
    }

    async fn update_ship_to(
        &self,
        id: &StorefrontOrderId,
        to: &ShipTo,
        note: Option<&str>,
    ) -> Result<StorefrontOrder, PlatformError> {
        let answer = self
            .inner
            .transport
            .execute(
                UPDATE,
                CostKey::one("orderUpdate", queries::cost_hint::ORDER_UPDATE),
                queries::ORDER_UPDATE,
                mapping::order_update_input(id, to, note),
            )
            .await?;
        let payload = answer.root("orderUpdate", UPDATE)?;
        if let Some(refused) = classify::user_errors(payload, "userErrors", &answer.raw, UPDATE) {
            return Err(refused);
        }
        let order = payload
            .get("order")
            .filter(|o| o.is_object())
            .ok_or_else(|| {
                classify::unreadable(UPDATE, &answer.raw, "orderUpdate answered no order")
            })?;
        mapping::read_order(order)
            .map(|read| read.store)
            .map_err(|why| classify::unreadable(UPDATE, &answer.raw, &why))
    }

    async fn webhooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        self.subscriptions().await
    }

    async fn subscribe(&self, topic: &str, address: &str) -> Result<Subscription, PlatformError> {
        self.create_subscription(topic, address).await
    }

    async fn unsubscribe(&self, subscription: &Subscription) -> Result<(), PlatformError> {
        self.delete_subscription(&subscription.id).await
    }

    async fn changed_orders(
        &self,
        since: Timestamp,
        cursor: Option<String>,
    ) -> Result<Page<StorefrontChange>, PlatformError> {
        // `>=`: the contract is "changed at or after `since`"; seconds are Shopify's precision.
        let query = format!(
            "updated_at:>='{}' {}",
            since.to_rfc3339_opts(SecondsFormat::Secs, true),
            queries::search_term("tag", STORE_ORDER_TAG)
        );
        let answer = self
            .inner
            .transport
            .execute(
                SEARCH,
                CostKey::one("changedOrders", queries::cost_hint::CHANGED_ORDERS),
                queries::CHANGED_ORDERS,
                json!({ "query": query, "after": cursor }),
            )
            .await?;
        let orders = answer.root("orders", SEARCH)?;
        let mut page = Page {
            items: Vec::with_capacity(queries::CHANGED_ORDERS_PAGE),
            next_page_token: None,
            unreadable: Vec::new(),
        };
        for node in orders
            .get("nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match mapping::read_order(node) {
                Ok(read) => page.items.push(StorefrontChange {
                    tiktok_order_id: read.tiktok_order_id(),
                    store: read.store,
                }),
                Err(why) => page.unreadable.push(Unreadable::new(None, why)),
            }
        }
        let info = orders.get("pageInfo");
        let has_next = info
            .and_then(|i| i.get("hasNextPage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if has_next {
            let cursor = info
                .and_then(|i| i.get("endCursor"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    classify::unreadable(SEARCH, &answer.raw, "hasNextPage without an endCursor")
                })?;
            page.next_page_token = Some(cursor.to_string());
        }
        Ok(page)
    }
}
