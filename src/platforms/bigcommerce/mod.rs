//! BigCommerce, through its REST API (V2 orders, V3 catalog): the [`Storefront`] of a merchant's
//! BigCommerce store (`shared/platforms/bigcommerce.md`).
//!
//! - SKUs are resolved through the catalog first (`GET /v3/catalog/variants?sku=`, exact):
//!   orders are made of catalog lines (`product_id`, plus `variant_id` for a product with
//!   options), so stock moves; an unknown SKU is never sent as a custom line.
//! - Orders are created Awaiting Fulfillment with the TikTok order id in `external_order_id`.
//!   There is no idempotency key: [`Storefront::find_order`] filters on that id, and an answer
//!   listing two orders is never resolved by picking one.
//! - Tracking comes from shipments, each a parcel with its exact units.
//! - A cancel sets `status_id` 5 with TikTok's reason added to `staff_notes` (which a PUT
//!   replaces, so the old notes are sent back with it); restocking is the store's own setting.
//!   A shipped order (status 2, 3, 10, or with shipments) is not cancelled: BigCommerce would
//!   accept it without stopping the parcel, so the cancel is refused naming the parcel.
//! - Webhooks (`/v3/hooks`, [`hooks`]) only hint that an order changed; the poll's reads act.
//! - Every request to the store passes its [`gate::Gate`]: a 429 pauses them all.
//! - Every call is classified by [`classify`].

mod changes;
pub mod classify;
pub mod config;
pub mod gate;
mod hooks;
pub mod mapping;
mod transport;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

pub use config::{BigcommerceConfig, ConfigError};

use self::classify::Call;
use self::mapping::{ReadOrder, status};
use self::transport::{Answer, Transport};
use super::http;
use super::{Page, PlatformError, Storefront, StorefrontChange, Subscription};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{StorefrontOrderId, TiktokOrderId};
use crate::domain::order::StorefrontOrder;
use crate::domain::platform::Platform;
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::cancel::{StorefrontCancelInstruction, StorefrontCancelled};
use crate::domain::rules::import::{SkuMatch, StorefrontOrderDraft};
use crate::domain::text;
use crate::platforms::error::ErrorClass;

const LOOKUP: Call = Call::read(Platform::Bigcommerce, "list_variants");
const CREATE: Call = Call::write(Platform::Bigcommerce, "create_order");
const LIST: Call = Call::read(Platform::Bigcommerce, "list_orders");
const READ: Call = Call::read(Platform::Bigcommerce, "get_order");
const PRODUCTS: Call = Call::read(Platform::Bigcommerce, "list_order_products");
const SHIPMENTS: Call = Call::read(Platform::Bigcommerce, "list_shipments");
const ADDRESSES: Call = Call::read(Platform::Bigcommerce, "list_shipping_addresses");
const UPDATE: Call = Call::write(Platform::Bigcommerce, "update_order");
const UPDATE_ADDRESS: Call = Call::write(Platform::Bigcommerce, "update_shipping_address");

/// `staff_notes` orderdeck writes stay within this many characters (the field is a text
/// column; the whole history is sent back on every PUT).
const STAFF_NOTES_MAX: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for one store. Cheap to clone; clones share one connection pool and one gate.
#[derive(Debug, Clone)]
pub struct BigcommerceClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    page_size: u32,
    /// Secret; only whether it is set is used here (see [`hooks`]).
    webhook_secret: Option<String>,
}

fn order_route(id: &StorefrontOrderId, call: Call) -> Result<String, PlatformError> {
    let digits = id.as_str();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(PlatformError::new(
            Platform::Bigcommerce,
            call.operation,
            ErrorClass::Permanent,
            format!("{id} is not a BigCommerce order id (a number)"),
        ));
    }
    Ok(format!("v2/orders/{digits}"))
}

/// The list in a collection answer: `None` (204) is empty.
fn list_of(answer: &Answer, call: Call, what: &str) -> Result<Vec<Value>, PlatformError> {
    match &answer.body {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(call.unreadable(&answer.raw, &format!("the {what} are not a list"))),
    }
}

impl BigcommerceClient {
    pub fn new(config: &BigcommerceConfig) -> Result<BigcommerceClient, ClientError> {
        let client = http::build_client(config.timeouts)?;
        Ok(BigcommerceClient {
            inner: Arc::new(Inner {
                transport: Transport::new(client, config)?,
                page_size: config.page_size.clamp(1, config::MAX_PAGE_SIZE),
                webhook_secret: config.webhook_secret.clone(),
            }),
        })
    }

    fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// How many 429s the store answered this client (each paused every request to it).
    pub fn throttled_count(&self) -> u64 {
        self.transport().gate().throttled_count()
    }

    /// Every page of a V2 sub-collection (`products`, `shipments`): 204 or a short page ends it.
    async fn all_pages(&self, call: Call, route: &str) -> Result<Vec<Value>, PlatformError> {
        let mut out = Vec::new();
        let limit = self.inner.page_size;
        for page in 1u32.. {
            let query = [("page", page.to_string()), ("limit", limit.to_string())];
            let answer = self
                .transport()
                .call(call, Method::GET, route, &query, None)
                .await?;
            let items = list_of(&answer, call, call.operation)?;
            let full = items.len() >= limit as usize;
            out.extend(items);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// What an order resource needs besides itself: its products and shipments, always
    /// (`full`), or only when it has shipped (a poll: products `None`, no shipments).
    async fn parts(
        &self,
        order: &Value,
        full: bool,
    ) -> Result<(Option<Vec<Value>>, Vec<Value>), PlatformError> {
        let Some(id) = order.get("id").and_then(Value::as_u64) else {
            return Ok((None, Vec::new()));
        };
        let status_id = order.get("status_id").and_then(Value::as_u64).unwrap_or(0);
        let shipped = mapping::shipped_status(status_id)
            || order
                .get("items_shipped")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                > 0;
        if !(full || shipped) {
            return Ok((None, Vec::new()));
        }
        let products = self
            .all_pages(PRODUCTS, &format!("v2/orders/{id}/products"))
            .await?;
        let shipments = self
            .all_pages(SHIPMENTS, &format!("v2/orders/{id}/shipments"))
            .await?;
        Ok((Some(products), shipments))
    }

    /// An order resource read as the domain sees it, with its products and shipments.
    async fn complete(
        &self,
        order: &Value,
        call: Call,
        raw: &http::RawResponse,
        full: bool,
    ) -> Result<ReadOrder, PlatformError> {
        let (products, shipments) = self.parts(order, full).await?;
        mapping::read_order(order, products.as_deref(), &shipments)
            .map_err(|why| call.unreadable(raw, &why))
    }

    async fn read_order(&self, id: &StorefrontOrderId) -> Result<ReadOrder, PlatformError> {
        let route = order_route(id, READ)?;
        let answer = self
            .transport()
            .call(READ, Method::GET, &route, &[], None)
            .await?;
        let order = answer
            .body
            .as_ref()
            .ok_or_else(|| READ.unreadable(&answer.raw, "the order answer is empty"))?;
        self.complete(order, READ, &answer.raw, true).await
    }

    /// One page of `GET /v2/orders`; `None` for 204 (nothing matches, or past the end).
    async fn list_orders(
        &self,
        query: &[(&str, String)],
    ) -> Result<(Vec<Value>, http::RawResponse), PlatformError> {
        let answer = self
            .transport()
            .call(LIST, Method::GET, "v2/orders", query, None)
            .await?;
        let orders = list_of(&answer, LIST, "orders")?;
        Ok((orders, answer.raw))
    }

    /// The catalog variants carrying `sku` (every page).
    async fn variants_with(&self, sku: &str) -> Result<Vec<Value>, PlatformError> {
        let filter = [("sku", sku.to_string())];
        self.all_v3_pages(LOOKUP, "v3/catalog/variants", &filter, "variant")
            .await
    }

    /// Every item of a V3 collection (`{"data": […], "meta": {"pagination"}}`) matching
    /// `filter`, page by page until `total_pages`.
    async fn all_v3_pages(
        &self,
        call: Call,
        route: &str,
        filter: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<Value>, PlatformError> {
        let mut items = Vec::new();
        for page in 1u64.. {
            let mut query = filter.to_vec();
            query.push(("limit", self.inner.page_size.to_string()));
            query.push(("page", page.to_string()));
            let answer = self
                .transport()
                .call(call, Method::GET, route, &query, None)
                .await?;
            let body = answer.body.unwrap_or(Value::Null);
            let Some(found) = body.get("data").and_then(Value::as_array) else {
                return Err(
                    call.unreadable(&answer.raw, &format!("the {what} answer has no data list"))
                );
            };
            items.extend(found.iter().cloned());
            let pages = body
                .pointer("/meta/pagination/total_pages")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if page >= pages {
                break;
            }
        }
        Ok(items)
    }

    /// Refuses a cancel of an order that left the warehouse, naming the parcel to intercept.
    fn shipped_refusal(before: &ReadOrder) -> PlatformError {
        let parcel = before
            .store
            .first_tracking()
            .map(|t| {
                format!(
                    " ({} {})",
                    text::sanitize(t.carrier.as_deref().unwrap_or("carrier")),
                    text::sanitize(&t.number)
                )
            })
            .unwrap_or_default();
        PlatformError::new(
            Platform::Bigcommerce,
            UPDATE.operation,
            ErrorClass::Permanent,
            format!(
                "store order {} is {} in BigCommerce: not cancelled there, since that would not stop the parcel{parcel}; intercept it with the carrier, then cancel the order in BigCommerce",
                before.store.name.as_deref().unwrap_or("?"),
                text::sanitize(&before.status_name)
            ),
        )
    }
}

#[async_trait]
impl Storefront for BigcommerceClient {
    fn platform(&self) -> Platform {
        Platform::Bigcommerce
    }

    async fn lookup_skus(
        &self,
        skus: &[String],
    ) -> Result<HashMap<String, SkuMatch>, PlatformError> {
        let mut matches = HashMap::new();
        for sku in skus {
            if matches.contains_key(sku) {
                continue;
            }
            let trimmed = sku.trim();
            let found = if trimmed.is_empty() {
                SkuMatch::None
            } else {
                mapping::sku_match(&self.variants_with(trimmed).await?, trimmed)
            };
            matches.insert(sku.clone(), found);
        }
        Ok(matches)
    }

    async fn create_order(
        &self,
        draft: &StorefrontOrderDraft,
    ) -> Result<StorefrontOrder, PlatformError> {
        let body = mapping::order_create_body(draft).map_err(|e| {
            PlatformError::new(
                Platform::Bigcommerce,
                CREATE.operation,
                ErrorClass::Permanent,
                e.to_string(),
            )
        })?;
        let answer = self
            .transport()
            .call(CREATE, Method::POST, "v2/orders", &[], Some(&body))
            .await?;
        // The answer links to the lines instead of holding them; reading them now could fail
        // after the order exists, so the count comes from `items_total`.
        let order = answer
            .body
            .as_ref()
            .ok_or_else(|| CREATE.unreadable(&answer.raw, "the create answer is empty"))?;
        let read = mapping::read_order(order, None, &[])
            .map_err(|why| CREATE.unreadable(&answer.raw, &why))?;
        Ok(read.store)
    }

    async fn find_order(
        &self,
        tiktok_order_id: &TiktokOrderId,
    ) -> Result<Option<StorefrontOrder>, PlatformError> {
        let query = [("external_order_id", tiktok_order_id.as_str().to_string())];
        let (orders, raw) = self.list_orders(&query).await?;
        // Matched again here: an ignored filter would list every order.
        let found: Vec<&Value> = orders
            .iter()
            .filter(|o| mapping::tiktok_id(o).as_deref() == Some(tiktok_order_id.as_str()))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [order] => Ok(Some(self.complete(order, LIST, &raw, true).await?.store)),
            several => Err(LIST.error(
                ErrorClass::Permanent,
                format!(
                    "TikTok order {tiktok_order_id} has several store orders ({}): cancel the duplicates in BigCommerce",
                    several
                        .iter()
                        .filter_map(|o| o.get("id").and_then(Value::as_u64))
                        .map(|id| format!("#{id}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &raw,
            )),
        }
    }

    async fn get_change(&self, id: &StorefrontOrderId) -> Result<StorefrontChange, PlatformError> {
        let read = self.read_order(id).await?;
        Ok(StorefrontChange::with_tiktok_id(
            read.store,
            read.tiktok_order_id,
        ))
    }

    async fn cancel_order(
        &self,
        id: &StorefrontOrderId,
        instruction: &StorefrontCancelInstruction,
    ) -> Result<StorefrontCancelled, PlatformError> {
        let before = self.read_order(id).await?;
        if before.status_id == status::CANCELLED {
            return Ok(StorefrontCancelled {
                store: before.store,
                put_back: Vec::new(),
                shipped: Vec::new(),
            });
        }
        if mapping::shipped_status(before.status_id) || before.store.has_fulfillment() {
            return Err(Self::shipped_refusal(&before));
        }
        let route = order_route(id, UPDATE)?;
        let note = instruction.note.trim();
        let notes = match (before.staff_notes.trim(), note) {
            (old, "") => old.to_string(),
            ("", new) => new.to_string(),
            (old, new) => format!("{old}\n{new}"),
        };
        let mut body = json!({ "status_id": status::CANCELLED });
        if !notes.is_empty() {
            // Keep the newest end: the TikTok reason is what staff need now.
            let count = notes.chars().count();
            let kept: String = notes
                .chars()
                .skip(count.saturating_sub(STAFF_NOTES_MAX))
                .collect();
            body["staff_notes"] = json!(kept);
        }
        let answer = self
            .transport()
            .call(UPDATE, Method::PUT, &route, &[], Some(&body))
            .await?;
        let order = answer
            .body
            .as_ref()
            .ok_or_else(|| UPDATE.unreadable(&answer.raw, "the cancel answer is empty"))?;
        let after = self.complete(order, UPDATE, &answer.raw, true).await?;
        if after.status_id != status::CANCELLED {
            return Err(UPDATE.error(
                ErrorClass::Ambiguous,
                format!(
                    "BigCommerce accepted the cancel but order {id} is {}",
                    text::sanitize(&after.status_name)
                ),
                &answer.raw,
            ));
        }
        // Restocking is the store's `refund_order_stock_adjustment` setting, not this call's:
        // what it did is not known here (the timeline says whose setting decides).
        Ok(StorefrontCancelled {
            store: after.store,
            put_back: Vec::new(),
            shipped: Vec::new(),
        })
    }

    async fn update_ship_to(
        &self,
        id: &StorefrontOrderId,
        to: &ShipTo,
        note: Option<&str>,
    ) -> Result<StorefrontOrder, PlatformError> {
        let route = order_route(id, UPDATE_ADDRESS)?;
        let addresses = self
            .transport()
            .call(
                ADDRESSES,
                Method::GET,
                &format!("{route}/shipping_addresses"),
                &[],
                None,
            )
            .await?;
        let list = list_of(&addresses, ADDRESSES, "shipping addresses")?;
        let address_id = list
            .first()
            .and_then(|a| a.get("id"))
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                ADDRESSES.error(
                    ErrorClass::Permanent,
                    format!("store order {id} has no shipping address to update"),
                    &addresses.raw,
                )
            })?;
        self.transport()
            .call(
                UPDATE_ADDRESS,
                Method::PUT,
                &format!("{route}/shipping_addresses/{address_id}"),
                &[],
                Some(&mapping::ship_to_body(to)),
            )
            .await?;
        if let Some(note) = note {
            self.transport()
                .call(
                    UPDATE,
                    Method::PUT,
                    &route,
                    &[],
                    Some(&json!({ "customer_message": note })),
                )
                .await?;
        }
        self.get_order(id).await
    }

    async fn webhooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        self.list_hooks().await
    }

    async fn subscribe(&self, topic: &str, address: &str) -> Result<Subscription, PlatformError> {
        self.create_hook(topic, address).await
    }

    async fn unsubscribe(&self, subscription: &Subscription) -> Result<(), PlatformError> {
        self.delete_hook(&subscription.id).await
    }

    async fn changed_orders(
        &self,
        since: Timestamp,
        cursor: Option<String>,
    ) -> Result<Page<StorefrontChange>, PlatformError> {
        changes::changed_orders(self, since, cursor).await
    }
}
