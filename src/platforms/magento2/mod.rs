//! Magento 2 / Adobe Commerce, through the admin REST API (`/rest/{store_code}/V1/…`) with an
//! Integration's Bearer token: the [`Storefront`] of a merchant's Magento store
//! (`shared/platforms/magento2.md`).
//!
//! - SKUs are resolved first (`GET /V1/products`, `sku in …`): `POST /V1/orders` checks nothing
//!   and saves an unknown SKU as a line with no product. A configurable parent never matches.
//! - An order is saved with `POST /V1/orders` (TikTok's prices, `ext_order_id` = the TikTok id,
//!   a guest with no real e-mail, Purchase Order payment naming TikTok Shop, no e-mail sent),
//!   then invoiced in full offline (`notify: false`): paid means invoiced. Anything failing
//!   after the save is `Ambiguous`; [`Storefront::find_order`] finds the order by
//!   `ext_order_id` and finishes the invoice if it is missing, so one TikTok order never makes
//!   two store orders.
//! - Shipments are fulfillments with exact lines and tracks ([`read`]); credit memos orderdeck
//!   did not make are the merchant's refund, the store → TikTok trigger on Magento.
//! - TikTok cancels go through [`cancel`]; the change poll is [`changes`].

mod cancel;
mod changes;
pub mod classify;
pub mod config;
pub mod mapping;
pub mod read;
mod transport;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

pub use config::{ConfigError, Magento2Config};

use self::classify::Call;
use self::read::ReadOrder;
use self::transport::{Search, Transport};
use super::http;
use super::{Page, PlatformError, Storefront, StorefrontChange, UnitRemoval};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{StorefrontOrderId, TiktokOrderId};
use crate::domain::order::StorefrontOrder;
use crate::domain::platform::Platform;
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::cancel::{StorefrontCancelInstruction, StorefrontCancelled};
use crate::domain::rules::import::{SkuMatch, StorefrontOrderDraft};
use crate::platforms::error::ErrorClass;

const fn read(operation: &'static str) -> Call {
    Call::read(Platform::Magento2, operation)
}
const fn write(operation: &'static str) -> Call {
    Call::write(Platform::Magento2, operation)
}

const PRODUCTS: Call = read("search_products");
const STORE_VIEWS: Call = read("list_store_views");
const COUNTRY: Call = read("get_country");
const CREATE: Call = write("create_order");
const INVOICE: Call = write("invoice_order");
const ORDERS: Call = read("search_orders");
const ORDER: Call = read("get_order");
const SHIPMENTS: Call = read("search_shipments");
const MEMOS: Call = read("search_creditmemos");
const CANCEL: Call = write("cancel_order");
const COMMENT: Call = write("add_order_comment");
const COMMENTS: Call = read("list_order_comments");
const REFUND: Call = write("refund_order_offline");
const UPDATE_SHIP_TO: Call = write("update_ship_to");

/// SKUs asked for in one catalogue search (`sku in A,B,…`).
const SKU_BATCH: usize = 50;
/// How far back the change poll re-reads open imported orders: adding a track to a shipment
/// may not move the order's `updated_at` (unconfirmed, magento2.md), and a TikTok order must
/// ship within days.
pub const OPEN_LOOKBACK: chrono::Duration = chrono::Duration::days(7);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for one store. Cheap to clone; clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Magento2Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    page_size: u32,
    store_code: String,
    /// The store view's id (`store_id` of new orders), read once.
    store_id: Mutex<Option<u64>>,
    /// Countries' directory entries, read once each.
    countries: Mutex<HashMap<String, Value>>,
}

/// `{entity_id}` of a store order id, or a refusal naming it.
fn entity(id: &StorefrontOrderId, call: Call) -> Result<u64, PlatformError> {
    id.as_str()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| call.refuse(format!("{id} is not a Magento order id (an entity_id)")))
}

/// Any failure after the order was saved: the order exists, so the engine must read back.
fn after_save(e: PlatformError, entity_id: u64) -> PlatformError {
    let mut e = e;
    e.class = ErrorClass::Ambiguous;
    e.message = format!(
        "order {entity_id} was saved but not finished: {}",
        e.message
    );
    e
}

impl Magento2Client {
    pub fn new(config: &Magento2Config) -> Result<Magento2Client, ClientError> {
        let client = http::build_client(config.timeouts)?;
        Ok(Magento2Client {
            inner: Arc::new(Inner {
                transport: Transport::new(client, config)?,
                page_size: config.page_size.clamp(1, config::MAX_PAGE_SIZE),
                store_code: config.store_code.trim().to_string(),
                store_id: Mutex::new(None),
                countries: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    fn search(&self) -> Search<'static> {
        Search::new(self.inner.page_size)
    }

    async fn call(
        &self,
        call: Call,
        method: Method,
        route: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<transport::Answer, PlatformError> {
        self.transport()
            .call(call, method, route, query, body)
            .await
    }

    /// Every row of a list, paged by `total_count` (a page past the end repeats the last one).
    async fn list_all(
        &self,
        call: Call,
        route: &str,
        search: Search<'_>,
    ) -> Result<Vec<Value>, PlatformError> {
        let mut rows = Vec::new();
        let mut page = 1u32;
        loop {
            let (items, total) = self
                .list_page(call, route, &search.clone().page(page))
                .await?;
            let got = items.len();
            rows.extend(items);
            if got == 0 || rows.len() as u64 >= total {
                return Ok(rows);
            }
            page += 1;
        }
    }

    /// One page of a list: its rows and `total_count`.
    async fn list_page(
        &self,
        call: Call,
        route: &str,
        search: &Search<'_>,
    ) -> Result<(Vec<Value>, u64), PlatformError> {
        let answer = self
            .call(call, Method::GET, route, &search.query(), None)
            .await?;
        let total = answer.body.get("total_count").and_then(Value::as_u64);
        match (answer.body.get("items"), total) {
            (Some(Value::Array(items)), Some(total)) => Ok((items.clone(), total)),
            // An empty result may come with `items: null`.
            (Some(Value::Null) | None, Some(total)) => Ok((Vec::new(), total)),
            _ => Err(call.unreadable(
                &answer.raw,
                &format!("the {route} list has no items and total_count"),
            )),
        }
    }

    /// The shipments and credit memos of these orders (one list each, all pages).
    async fn documents(&self, orders: &[u64]) -> Result<(Vec<Value>, Vec<Value>), PlatformError> {
        if orders.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let ids = orders
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let shipments = self
            .list_all(
                SHIPMENTS,
                "shipments",
                self.search().and("order_id", ids.clone(), "in"),
            )
            .await?;
        let memos = self
            .list_all(
                MEMOS,
                "creditmemos",
                self.search().and("order_id", ids, "in"),
            )
            .await?;
        Ok((shipments, memos))
    }

    /// Orders as read, each with its documents; one that cannot be read is `Err(why)`.
    async fn complete(
        &self,
        orders: &[Value],
    ) -> Result<Vec<(Value, Result<ReadOrder, String>)>, PlatformError> {
        let ids: Vec<u64> = orders
            .iter()
            .filter_map(|o| read::id(o.get("entity_id")))
            .collect();
        let (shipments, memos) = self.documents(&ids).await?;
        Ok(orders
            .iter()
            .map(|o| (o.clone(), read::read_order(o, &shipments, &memos)))
            .collect())
    }

    async fn read_order(&self, entity_id: u64) -> Result<ReadOrder, PlatformError> {
        let answer = self
            .call(
                ORDER,
                Method::GET,
                &format!("orders/{entity_id}"),
                &[],
                None,
            )
            .await?;
        let (shipments, memos) = self.documents(&[entity_id]).await?;
        read::read_order(&answer.body, &shipments, &memos)
            .map_err(|why| ORDER.unreadable(&answer.raw, &why))
    }

    /// The store view's id for new orders (the repository does not fill it in).
    async fn store_id(&self) -> Result<u64, PlatformError> {
        if let Some(id) = *self
            .inner
            .store_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            return Ok(id);
        }
        let answer = self
            .call(STORE_VIEWS, Method::GET, "store/storeViews", &[], None)
            .await?;
        let code = &self.inner.store_code;
        let id = answer
            .body
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v.get("code").and_then(Value::as_str) == Some(code.as_str()))
            .and_then(|v| read::id(v.get("id")))
            .ok_or_else(|| {
                STORE_VIEWS.refuse(format!(
                    "Magento store {} has no store view with code {code:?}",
                    self.transport().store()
                ))
            })?;
        *self
            .inner
            .store_id
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(id);
        Ok(id)
    }

    /// The region of a draft's address, from the site's directory.
    async fn region(
        &self,
        draft: &StorefrontOrderDraft,
    ) -> Result<Option<mapping::Region>, PlatformError> {
        let country = draft.address.country_code.trim().to_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(COUNTRY.refuse(format!(
                "TikTok order {}: country {:?} is not a two-letter code",
                draft.tiktok_order_id,
                crate::domain::text::sanitize(&country)
            )));
        }
        let cached = self
            .inner
            .countries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&country)
            .cloned();
        let entry = match cached {
            Some(entry) => entry,
            None => {
                let answer = self
                    .call(
                        COUNTRY,
                        Method::GET,
                        &format!("directory/countries/{country}"),
                        &[],
                        None,
                    )
                    .await?;
                self.inner
                    .countries
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(country.clone(), answer.body.clone());
                answer.body
            }
        };
        mapping::region_in(&entry, &draft.address.province)
            .map_err(|why| CREATE.refuse(format!("TikTok order {}: {why}", draft.tiktok_order_id)))
    }

    /// Invoices everything left to invoice, offline, telling nobody.
    async fn invoice(&self, entity_id: u64) -> Result<(), PlatformError> {
        self.call(
            INVOICE,
            Method::POST,
            &format!("order/{entity_id}/invoice"),
            &[],
            Some(&json!({ "capture": true, "notify": false })),
        )
        .await
        .map(|_| ())
    }

    /// Reads an order found by `ext_order_id`, invoicing it first when an earlier attempt
    /// saved it but did not get to invoice it.
    async fn finish(&self, read: ReadOrder) -> Result<ReadOrder, PlatformError> {
        if read.state == "new" && !read.fully_invoiced() {
            self.invoice(read.entity_id).await?;
            return self.read_order(read.entity_id).await;
        }
        Ok(read)
    }
}

#[async_trait]
impl Storefront for Magento2Client {
    fn platform(&self) -> Platform {
        Platform::Magento2
    }

    async fn lookup_skus(
        &self,
        skus: &[String],
    ) -> Result<HashMap<String, SkuMatch>, PlatformError> {
        let mut matches = HashMap::new();
        let mut wanted: Vec<&String> = Vec::new();
        for sku in skus {
            let trimmed = sku.trim();
            if trimmed.is_empty() || trimmed.contains(',') {
                // `in` splits on commas: such a SKU goes alone, by `eq`.
                if !trimmed.is_empty() {
                    let found = self
                        .list_all(
                            PRODUCTS,
                            "products",
                            self.search().and("sku", trimmed, "eq"),
                        )
                        .await?;
                    matches.insert(sku.clone(), mapping::sku_match(&found, sku));
                } else {
                    matches.insert(sku.clone(), SkuMatch::None);
                }
                continue;
            }
            if !wanted.contains(&sku) {
                wanted.push(sku);
            }
        }
        for batch in wanted.chunks(SKU_BATCH) {
            let list = batch.iter().map(|s| s.trim()).collect::<Vec<_>>().join(",");
            let found = self
                .list_all(PRODUCTS, "products", self.search().and("sku", list, "in"))
                .await?;
            for sku in batch {
                matches.insert((*sku).clone(), mapping::sku_match(&found, sku));
            }
        }
        Ok(matches)
    }

    async fn create_order(
        &self,
        draft: &StorefrontOrderDraft,
    ) -> Result<StorefrontOrder, PlatformError> {
        let store_id = self.store_id().await?;
        let region = self.region(draft).await?;
        let body = mapping::order_body(draft, store_id, region.as_ref())
            .map_err(|e| CREATE.refuse(format!("TikTok order {}: {e}", draft.tiktok_order_id)))?;
        let saved = match self
            .call(CREATE, Method::POST, "orders", &[], Some(&body))
            .await
        {
            Ok(answer) => answer,
            Err(e)
                if e.http_status == Some(400)
                    && e.message.contains("Unique constraint violation") =>
            {
                // An earlier attempt saved it (its answer was lost): that order is the one.
                return match self.find_order(&draft.tiktok_order_id).await? {
                    Some(found) => Ok(found),
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let entity_id = read::id(saved.body.get("entity_id")).ok_or_else(|| {
            CREATE.unreadable(&saved.raw, "Magento answered the save without an entity_id")
        })?;
        self.invoice(entity_id)
            .await
            .map_err(|e| after_save(e, entity_id))?;
        let after = self
            .read_order(entity_id)
            .await
            .map_err(|e| after_save(e, entity_id))?;
        Ok(after.store)
    }

    async fn find_order(
        &self,
        tiktok_order_id: &TiktokOrderId,
    ) -> Result<Option<StorefrontOrder>, PlatformError> {
        let found = self
            .list_all(
                ORDERS,
                "orders",
                self.search()
                    .and("ext_order_id", tiktok_order_id.as_str(), "eq"),
            )
            .await?;
        match found.as_slice() {
            [] => Ok(None),
            [order] => {
                let entity_id = read::id(order.get("entity_id")).ok_or_else(|| {
                    ORDERS.refuse(format!("the order of TikTok order {tiktok_order_id} has no entity_id"))
                })?;
                let read = self.read_order(entity_id).await?;
                Ok(Some(self.finish(read).await?.store))
            }
            several => Err(ORDERS.refuse(format!(
                "TikTok order {tiktok_order_id} has several store orders ({}): cancel the duplicates in Magento",
                several
                    .iter()
                    .map(|o| format!("#{}", o.get("increment_id").and_then(Value::as_str).unwrap_or("?")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    async fn get_change(&self, id: &StorefrontOrderId) -> Result<StorefrontChange, PlatformError> {
        let read = self.read_order(entity(id, ORDER)?).await?;
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
        cancel::cancel_order(self, entity(id, CANCEL)?, instruction).await
    }

    async fn update_ship_to(
        &self,
        id: &StorefrontOrderId,
        _to: &ShipTo,
        _note: Option<&str>,
    ) -> Result<StorefrontOrder, PlatformError> {
        // magento2-admin-2.4.9.json has no operation that edits a placed order's address
        // (`POST /V1/orders` with `entity_id` updates columns, not the shipping assignment).
        Err(UPDATE_SHIP_TO.refuse(format!(
            "Magento's API cannot change the shipping address of order {id}: edit it in the admin \
             (Sales → Orders → the order → Address → Edit)"
        )))
    }

    async fn remove_units(
        &self,
        id: &StorefrontOrderId,
        removal: &UnitRemoval,
    ) -> Result<StorefrontOrder, PlatformError> {
        cancel::remove_units(self, entity(id, REFUND)?, removal).await
    }

    async fn changed_orders(
        &self,
        since: Timestamp,
        cursor: Option<String>,
    ) -> Result<Page<StorefrontChange>, PlatformError> {
        changes::changed_orders(self, since, cursor).await
    }
}
