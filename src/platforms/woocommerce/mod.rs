//! WooCommerce, through its REST API (wc/v3) and the Shipment Tracking extension's routes: the
//! [`Storefront`] of a merchant's WooCommerce site (`shared/platforms/woocommerce.md`).
//!
//! - SKUs are resolved first (`GET /products?sku=`, exact): `POST /orders` takes an unknown SKU
//!   without complaint and makes a line with no product, so orderdeck never sends a bare SKU.
//! - Orders are created paid (`set_paid`), with the TikTok order id in `meta_data`. There is no
//!   idempotency key and no meta filter: [`Storefront::find_order`] lists the orders created
//!   since shortly before the last attempt (or within [`FIND_LOOKBACK`], then incrementally)
//!   and matches the meta ([`find`]).
//! - Tracking comes from the Shipment Tracking extension; each tracking item is one
//!   fulfillment standing for the whole order. Adding one does not move `date_modified`, so a
//!   change poll also re-reads the open imported orders ([`changes`]).
//! - A cancel sets status `cancelled` after a private note with TikTok's reason; WooCommerce
//!   puts back whatever stock it took, shipped or not, and the answer says both.
//! - Every call is classified by [`classify`].

mod changes;
pub mod classify;
pub mod config;
mod find;
pub mod mapping;
mod transport;
mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};

pub use config::{AuthScheme, ConfigError, WoocommerceConfig};

use self::classify::Call;
use self::mapping::ReadOrder;
use self::transport::Transport;
use super::http;
use super::{Page, PlatformError, Storefront, StorefrontChange, Subscription};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{StorefrontOrderId, TiktokOrderId};
use crate::domain::order::{StorefrontOrder, StorefrontOrderStatus};
use crate::domain::platform::Platform;
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::cancel::{
    self, STORE_NOTE_MAX, StorefrontCancelInstruction, StorefrontCancelled,
};
use crate::domain::rules::import::{SkuMatch, StorefrontOrderDraft};
use crate::domain::text;
use crate::platforms::error::ErrorClass;

const LOOKUP: Call = Call::read(Platform::Woocommerce, "list_products");
const CREATE: Call = Call::write(Platform::Woocommerce, "create_order");
const LIST: Call = Call::read(Platform::Woocommerce, "list_orders");
const READ: Call = Call::read(Platform::Woocommerce, "get_order");
const TRACKINGS: Call = Call::read(Platform::Woocommerce, "list_shipment_trackings");
const UPDATE: Call = Call::write(Platform::Woocommerce, "update_order");
const NOTES: Call = Call::read(Platform::Woocommerce, "list_order_notes");
const ADD_NOTE: Call = Call::write(Platform::Woocommerce, "create_order_note");

/// SKUs asked for in one product search (`sku=A,B,…`).
const SKU_BATCH: usize = 20;
/// How far before the last create attempt `find_order` looks (clock skew between hosts).
const FIND_SLACK: chrono::Duration = chrono::Duration::minutes(10);
/// Without an attempt known to this process (a restart), how far back `find_order` looks: a
/// TikTok order must ship within days, so an import is never retried later than this.
pub const FIND_LOOKBACK: chrono::Duration = chrono::Duration::days(7);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for one store. Cheap to clone; clones share one connection pool.
#[derive(Debug, Clone)]
pub struct WoocommerceClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    /// Orders and products per page (WordPress allows 1..=100).
    page_size: u32,
    /// Where a read-back looks for an order ([`find`]).
    finder: Mutex<find::Finder>,
    /// Held while the finder's index is extended by a listing (one at a time).
    index_listing: tokio::sync::Mutex<()>,
    webhook_secret: Option<String>,
}

/// `after` / `modified_after` values: RFC 3339 with an explicit offset, second precision.
fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn order_route(id: &StorefrontOrderId, operation: &'static str) -> Result<String, PlatformError> {
    let digits = id.as_str();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(PlatformError::new(
            Platform::Woocommerce,
            operation,
            ErrorClass::Permanent,
            format!("{id} is not a WooCommerce order id (a number)"),
        ));
    }
    Ok(format!("wc/v3/orders/{digits}"))
}

impl WoocommerceClient {
    pub fn new(config: &WoocommerceConfig) -> Result<WoocommerceClient, ClientError> {
        let client = http::build_client(config.timeouts)?;
        Ok(WoocommerceClient {
            inner: Arc::new(Inner {
                transport: Transport::new(client, config)?,
                page_size: config.page_size.clamp(1, config::MAX_PAGE_SIZE),
                finder: Mutex::new(find::Finder::default()),
                index_listing: tokio::sync::Mutex::new(()),
                webhook_secret: config.webhook_secret.clone(),
            }),
        })
    }

    fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    fn finder(&self) -> std::sync::MutexGuard<'_, find::Finder> {
        self.inner.finder.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The order's Shipment Tracking items; none when the extension is not installed
    /// (`404 rest_no_route`): then the store has no tracking to give.
    async fn trackings(&self, order: u64) -> Result<Vec<Value>, PlatformError> {
        let route = format!("wc-shipment-tracking/v3/orders/{order}/shipment-trackings");
        match self
            .transport()
            .call(TRACKINGS, Method::GET, &route, &[], None)
            .await
        {
            Ok(answer) => match answer.body {
                Value::Array(items) => Ok(items),
                _ => {
                    Err(TRACKINGS.unreadable(&answer.raw, "the shipment trackings are not a list"))
                }
            },
            Err(e) if e.http_status == Some(404) && e.code.as_deref() == Some("rest_no_route") => {
                tracing::debug!(order, "no Shipment Tracking extension: no tracking");
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// An order resource with its tracking items, read as the domain sees it.
    async fn complete(
        &self,
        order: &Value,
        call: Call,
        raw: &http::RawResponse,
    ) -> Result<ReadOrder, PlatformError> {
        let id = order
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| call.unreadable(raw, "WooCommerce answered an order without an id"))?;
        let trackings = self.trackings(id).await?;
        mapping::read_order(order, &trackings).map_err(|why| call.unreadable(raw, &why))
    }

    async fn read_order(&self, id: &StorefrontOrderId) -> Result<ReadOrder, PlatformError> {
        let route = order_route(id, READ.operation)?;
        let answer = self
            .transport()
            .call(READ, Method::GET, &route, &[], None)
            .await?;
        self.complete(&answer.body, READ, &answer.raw).await
    }

    /// One page of `GET /orders`, with `X-WP-TotalPages`.
    async fn list_orders(
        &self,
        query: &[(&str, String)],
    ) -> Result<(Vec<Value>, u64, http::RawResponse), PlatformError> {
        let answer = self
            .transport()
            .call(LIST, Method::GET, "wc/v3/orders", query, None)
            .await?;
        let pages = answer.header_number("x-wp-totalpages").unwrap_or(1);
        match answer.body {
            Value::Array(orders) => Ok((orders, pages, answer.raw)),
            _ => Err(LIST.unreadable(&answer.raw, "the order list is not a list")),
        }
    }

    /// Adds TikTok's reason as a private note, unless an earlier attempt already added one (its
    /// wording may differ: see [`cancel::is_store_note`]).
    async fn add_private_note(&self, route: &str, note: &str) -> Result<(), PlatformError> {
        let note = text::truncate(note.trim(), STORE_NOTE_MAX);
        if note.is_empty() {
            return Ok(());
        }
        let notes_route = format!("{route}/notes");
        let existing = self
            .transport()
            .call(
                NOTES,
                Method::GET,
                &notes_route,
                &[("type", "internal".into())],
                None,
            )
            .await?;
        let already = existing.body.as_array().is_some_and(|notes| {
            notes
                .iter()
                .filter_map(|n| n.get("note").and_then(Value::as_str))
                .any(|n| n.trim() == note || cancel::is_store_note(n))
        });
        if already {
            return Ok(());
        }
        self.transport()
            .call(
                ADD_NOTE,
                Method::POST,
                &notes_route,
                &[],
                Some(&json!({ "note": note, "customer_note": false })),
            )
            .await?;
        Ok(())
    }

    /// Products carrying any of `skus` exactly (several pages if WooCommerce says so).
    async fn products_with(&self, filter: (&str, String)) -> Result<Vec<Value>, PlatformError> {
        let mut products = Vec::new();
        let mut page = 1u64;
        loop {
            let query = [
                filter.clone(),
                ("per_page", self.inner.page_size.to_string()),
                ("page", page.to_string()),
            ];
            let answer = self
                .transport()
                .call(LOOKUP, Method::GET, "wc/v3/products", &query, None)
                .await?;
            let pages = answer.header_number("x-wp-totalpages").unwrap_or(1);
            match answer.body {
                Value::Array(found) => products.extend(found),
                _ => {
                    return Err(LOOKUP.unreadable(&answer.raw, "the product list is not a list"));
                }
            }
            if page >= pages {
                return Ok(products);
            }
            page += 1;
        }
    }
}

#[async_trait]
impl Storefront for WoocommerceClient {
    fn platform(&self) -> Platform {
        Platform::Woocommerce
    }

    async fn lookup_skus(
        &self,
        skus: &[String],
    ) -> Result<HashMap<String, SkuMatch>, PlatformError> {
        let mut matches = HashMap::new();
        let mut batched: Vec<&String> = Vec::new();
        let mut alone: Vec<&String> = Vec::new();
        for sku in skus {
            let trimmed = sku.trim();
            if trimmed.is_empty() {
                matches.insert(sku.clone(), SkuMatch::None);
                continue;
            }
            if batched.contains(&sku) || alone.contains(&sku) {
                continue;
            }
            if trimmed.contains(',') {
                // `sku=` splits on commas: look such a SKU up by partial match, keep exact ones.
                alone.push(sku);
            } else {
                batched.push(sku);
            }
        }
        for batch in batched.chunks(SKU_BATCH) {
            let list = batch.iter().map(|s| s.trim()).collect::<Vec<_>>().join(",");
            let products = self.products_with(("sku", list)).await?;
            for sku in batch {
                matches.insert((*sku).clone(), mapping::sku_match(&products, sku));
            }
        }
        for sku in alone {
            let products = self
                .products_with(("search_sku", sku.trim().to_string()))
                .await?;
            matches.insert(sku.clone(), mapping::sku_match(&products, sku));
        }
        Ok(matches)
    }

    async fn create_order(
        &self,
        draft: &StorefrontOrderDraft,
    ) -> Result<StorefrontOrder, PlatformError> {
        let body = mapping::order_create_body(draft).map_err(|e| {
            PlatformError::new(
                Platform::Woocommerce,
                CREATE.operation,
                ErrorClass::Permanent,
                e.to_string(),
            )
        })?;
        // Noted before sending: a read-back after a lost answer starts looking from here.
        self.finder()
            .attempted(draft.tiktok_order_id.as_str(), Utc::now());
        let answer = self
            .transport()
            .call(CREATE, Method::POST, "wc/v3/orders", &[], Some(&body))
            .await?;
        let read = mapping::read_order(&answer.body, &[])
            .map_err(|why| CREATE.unreadable(&answer.raw, &why))?;
        Ok(read.store)
    }

    fn recall_create_attempt(&self, tiktok_order_id: &TiktokOrderId, at: Timestamp) {
        self.finder().recalled(tiktok_order_id.as_str(), at);
    }

    async fn find_order(
        &self,
        tiktok_order_id: &TiktokOrderId,
    ) -> Result<Option<StorefrontOrder>, PlatformError> {
        find::find_order(self, tiktok_order_id).await
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
        if before.store.status == StorefrontOrderStatus::Cancelled {
            return Ok(StorefrontCancelled {
                store: before.store,
                put_back: Vec::new(),
                shipped: Vec::new(),
            });
        }
        let route = order_route(id, UPDATE.operation)?;
        self.add_private_note(&route, &instruction.note).await?;
        // WooCommerce restocks on entering `cancelled`, whatever the link says (no flag exists);
        // it cannot know a parcel left, so shipped units come back into stock as well.
        let taken = mapping::units_taken(&before);
        let shipped = if before.store.has_fulfillment() {
            before.store.current_units()
        } else {
            Vec::new()
        };
        let answer = self
            .transport()
            .call(
                UPDATE,
                Method::PUT,
                &route,
                &[],
                Some(&json!({ "status": "cancelled" })),
            )
            .await?;
        let after = self.complete(&answer.body, UPDATE, &answer.raw).await?;
        if after.store.status != StorefrontOrderStatus::Cancelled {
            return Err(UPDATE.error(
                ErrorClass::Ambiguous,
                format!(
                    "WooCommerce accepted the cancel but order {id} is {}",
                    text::sanitize(&after.wire_status)
                ),
                &answer.raw,
            ));
        }
        Ok(StorefrontCancelled {
            store: after.store,
            put_back: taken,
            shipped,
        })
    }

    async fn update_ship_to(
        &self,
        id: &StorefrontOrderId,
        to: &ShipTo,
        note: Option<&str>,
    ) -> Result<StorefrontOrder, PlatformError> {
        let route = order_route(id, UPDATE.operation)?;
        let body = mapping::ship_to_body(to, note);
        let answer = self
            .transport()
            .call(UPDATE, Method::PUT, &route, &[], Some(&body))
            .await?;
        Ok(self
            .complete(&answer.body, UPDATE, &answer.raw)
            .await?
            .store)
    }

    async fn webhooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        self.list_webhooks().await
    }

    async fn subscribe(&self, topic: &str, address: &str) -> Result<Subscription, PlatformError> {
        self.create_webhook(topic, address).await
    }

    async fn unsubscribe(&self, subscription: &Subscription) -> Result<(), PlatformError> {
        self.delete_webhook(&subscription.id).await
    }

    async fn changed_orders(
        &self,
        since: Timestamp,
        cursor: Option<String>,
    ) -> Result<Page<StorefrontChange>, PlatformError> {
        changes::changed_orders(self, since, cursor).await
    }
}
