//! Platform clients behind two contracts the engine depends on: [`Marketplace`] (TikTok Shop)
//! and [`Storefront`] (the merchant's store). Clients speak each platform's real wire format and
//! translate to and from domain types at this boundary; no wire type leaks above it.
//!
//! The storefront contract is shaped by all five store platforms in `shared/platforms/stores.md`:
//! SKU lookup is optional (only Shopify and BigCommerce need it), "find by TikTok order id" maps
//! to each platform's own external-id field, cancel carries a restock flag that some stores
//! ignore and never a refund, and change detection is a cursor-paged "changed since" poll that
//! reports fulfillments with tracking, cancels and refunds (Magento's store → TikTok trigger).

pub mod amazon_mcf;
pub mod bigcommerce;
pub mod error;
pub mod http;
pub mod magento2;
pub mod metrics;
pub mod rest;
pub mod shopify;
pub mod tiktok;
pub mod webhook;
pub mod woocommerce;

use std::collections::HashMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::domain::rules::line_cancel::UnitRemoval;
pub use error::{ErrorClass, PlatformError};

use crate::domain::cancellation::{CancelStatus, CancelType};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{CancelId, PackageId, StorefrontOrderId, TiktokOrderId};
use crate::domain::order::{Initiator, StorefrontOrder, TiktokSnapshot};
use crate::domain::platform::Platform;
use crate::domain::rules::address::ShipTo;
use crate::domain::rules::cancel::{StorefrontCancelInstruction, StorefrontCancelled};
use crate::domain::rules::import::{SkuMatch, StorefrontOrderDraft};
use crate::domain::rules::tracking::ShippingProvider;

/// A half-open time window `[from, to)` for polling by update time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// An order as TikTok sent it: the domain snapshot plus the raw JSON for the detail view.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOrder {
    pub id: TiktokOrderId,
    pub snapshot: TiktokSnapshot,
    pub raw: serde_json::Value,
}

/// A page of results. Items the platform sent that could not be understood (no id, a field of
/// the wrong type, text that is not Unicode) are reported in `unreadable` instead of failing the
/// whole page: one bad record never stops a shop.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
    pub unreadable: Vec<Unreadable>,
}

/// A record that could not be read, with the TikTok order it concerns when that much could be
/// read (so the engine can hold that order for a person instead of dropping it) and why
/// (sanitized, naming the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub order: Option<TiktokOrderId>,
    pub why: String,
}

impl Unreadable {
    pub fn new(order: Option<TiktokOrderId>, why: impl Into<String>) -> Self {
        Unreadable {
            order,
            why: why.into(),
        }
    }
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

impl<T> Page<T> {
    /// Reads each raw item of a page; one that cannot be read is reported with why, never
    /// failing the page. An empty token means the last page.
    pub fn read<R>(
        raws: Vec<R>,
        next_page_token: Option<String>,
        read: impl Fn(R) -> Result<T, Unreadable>,
    ) -> Page<T> {
        let mut page = Page {
            items: Vec::with_capacity(raws.len()),
            next_page_token: next_page_token.filter(|t| !t.is_empty()),
            unreadable: Vec::new(),
        };
        for raw in raws {
            match read(raw) {
                Ok(item) => page.items.push(item),
                Err(why) => page.unreadable.push(why),
            }
        }
        page
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteCancellation {
    pub cancel_id: CancelId,
    pub order_id: TiktokOrderId,
    pub cancel_type: CancelType,
    pub status: CancelStatus,
    pub role: Initiator,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
    /// `seller_next_action_response[].deadline` for `SELLER_RESPOND_CANCEL`.
    pub seller_deadline: Option<Timestamp>,
    /// `cancel_line_items[].order_line_item_id`: the units it cancels.
    pub line_item_ids: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The package TikTok made when the seller's tracking was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped {
    pub package_id: Option<PackageId>,
    /// TikTok's `warning.message` (e.g. "match more than one provider"), sanitized.
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelDocument {
    pub url: String,
    pub tracking_number: Option<String>,
}

/// One webhook subscription as a platform lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subscription {
    /// What removes it: the platform's id (TikTok: the event type itself).
    pub id: String,
    /// The platform's name for the event (`ORDER_STATUS_CHANGE`, `ORDERS_CANCELLED`,
    /// `order.updated`).
    pub topic: String,
    /// Where deliveries go.
    pub address: String,
    /// False when the platform switched it off: WooCommerce disables a webhook after 5 failed
    /// deliveries in a row, BigCommerce deactivates a hook after about 48 h of failures.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerCancel {
    pub cancel_id: CancelId,
    pub status: CancelStatus,
}

/// Access and refresh tokens with their absolute expiry times.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub access_expires_at: Option<Timestamp>,
    pub refresh_token: String,
    /// The end of the seller's authorization: shown in the console and warned ahead of.
    pub refresh_expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

/// TikTok Shop, for one shop.
#[async_trait]
pub trait Marketplace: Send + Sync {
    /// Orders updated in `window`, one page (TikTok's `page_token` paging).
    async fn search_orders(
        &self,
        window: Window,
        page_token: Option<String>,
    ) -> Result<Page<RemoteOrder>, PlatformError>;
    /// Full details of any number of orders (one page, no token); an order TikTok sends
    /// unreadable is in `unreadable`, with its id when that could be read.
    async fn order_details(
        &self,
        ids: &[TiktokOrderId],
    ) -> Result<Page<RemoteOrder>, PlatformError>;
    /// The shop's TikTok id, as webhooks name it (`shop_id`).
    async fn shop_id(&self) -> Result<String, PlatformError>;
    /// The shop's webhook subscriptions (one per event type).
    async fn webhooks(&self) -> Result<Vec<Subscription>, PlatformError>;
    /// Sends `topic` (an event type) to `address`, replacing any other address for it.
    async fn subscribe(&self, topic: &str, address: &str) -> Result<Subscription, PlatformError>;
    async fn unsubscribe(&self, subscription: &Subscription) -> Result<(), PlatformError>;
    async fn shipping_providers(
        &self,
        delivery_option_id: &str,
    ) -> Result<Vec<ShippingProvider>, PlatformError>;
    /// Marks the order shipped with the seller's tracking, by the method the shop's region uses.
    async fn ship(
        &self,
        order: &TiktokOrderId,
        package: Option<&PackageId>,
        line_item_ids: &[String],
        tracking_number: &str,
        provider_id: &str,
    ) -> Result<Shipped, PlatformError>;
    /// Corrects the tracking of an order already shipped.
    async fn update_shipping_info(
        &self,
        order: &TiktokOrderId,
        tracking_number: &str,
        provider_id: &str,
    ) -> Result<(), PlatformError>;
    async fn shipping_document(&self, package: &PackageId) -> Result<LabelDocument, PlatformError>;
    /// Downloads a document URL returned by TikTok (the label PDF).
    async fn download(&self, url: &str) -> Result<Vec<u8>, PlatformError>;
    async fn search_cancellations(
        &self,
        window: Window,
        page_token: Option<String>,
    ) -> Result<Page<RemoteCancellation>, PlatformError>;
    /// Every cancellation of one order, as TikTok holds them now (a read-back after a lost
    /// answer to a seller's response).
    async fn cancellations_of_order(
        &self,
        order: &TiktokOrderId,
    ) -> Result<Vec<RemoteCancellation>, PlatformError>;
    async fn approve_cancellation(
        &self,
        cancel_id: &CancelId,
        idempotency_key: &str,
    ) -> Result<(), PlatformError>;
    async fn reject_cancellation(
        &self,
        cancel_id: &CancelId,
        idempotency_key: &str,
        reason: &str,
        comment: Option<&str>,
    ) -> Result<(), PlatformError>;
    /// Seller cancel with a reason code: of the whole order, or of `line_item_ids` only (a
    /// partial cancel, which TikTok takes in the US and UK).
    async fn cancel_order(
        &self,
        order: &TiktokOrderId,
        line_item_ids: &[String],
        reason_code: &str,
    ) -> Result<SellerCancel, PlatformError>;
    /// Refreshes the access token; the caller persists the new tokens.
    async fn refresh_tokens(&self) -> Result<Tokens, PlatformError>;
    /// Current tokens (expiry shown on the Stores view).
    fn tokens(&self) -> Tokens;
}

/// A store order that changed, with the TikTok order it was created for (when it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorefrontChange {
    pub tiktok_order_id: Option<TiktokOrderId>,
    pub store: StorefrontOrder,
}

impl StorefrontChange {
    /// A store order with the TikTok id its store holds for it, when that is one (other apps
    /// fill the same fields).
    pub fn with_tiktok_id(store: StorefrontOrder, tiktok: Option<String>) -> StorefrontChange {
        StorefrontChange {
            tiktok_order_id: tiktok.and_then(|id| TiktokOrderId::new(id).ok()),
            store,
        }
    }
}

/// The merchant's store.
#[async_trait]
pub trait Storefront: Send + Sync {
    fn platform(&self) -> Platform;
    /// Resolves seller SKUs to the store's item ids. Stores that accept SKUs directly answer
    /// an empty map (see `Capabilities::needs_sku_lookup`).
    async fn lookup_skus(
        &self,
        skus: &[String],
    ) -> Result<HashMap<String, SkuMatch>, PlatformError>;
    /// Creates the order (paid, tagged, with the TikTok id in the store's external-id field).
    /// Not idempotent on most stores: after an `Ambiguous` failure call `find_order` first.
    async fn create_order(
        &self,
        draft: &StorefrontOrderDraft,
    ) -> Result<StorefrontOrder, PlatformError>;
    /// The store order created for a TikTok order, if any.
    async fn find_order(
        &self,
        tiktok_order_id: &TiktokOrderId,
    ) -> Result<Option<StorefrontOrder>, PlatformError>;
    /// A create for this TikTok order may have been sent from `at` on, as the engine's durable
    /// job record says (also after a restart, when the client remembers nothing). Stores that
    /// find orders only by listing them start the next `find_order` from shortly before it;
    /// the others look the order up by its id and need nothing.
    fn recall_create_attempt(&self, _tiktok_order_id: &TiktokOrderId, _at: Timestamp) {}
    /// The store order as it stands now, with the TikTok order it was created for: what a
    /// store's webhook about one order asks the engine to read (the change poll reads the same
    /// for many orders at once).
    async fn get_change(&self, id: &StorefrontOrderId) -> Result<StorefrontChange, PlatformError>;
    async fn get_order(&self, id: &StorefrontOrderId) -> Result<StorefrontOrder, PlatformError> {
        self.get_change(id).await.map(|change| change.store)
    }
    /// Cancels without refunding and returns the store's state once the cancel is confirmed,
    /// with what became of the stock: unshipped units go back per `instruction.restock`,
    /// shipped ones never (read what shipped at the moment of the cancel, not before).
    /// Cancelling an order that is already cancelled succeeds.
    async fn cancel_order(
        &self,
        id: &StorefrontOrderId,
        instruction: &StorefrontCancelInstruction,
    ) -> Result<StorefrontCancelled, PlatformError>;
    /// Replaces the store order's shipping address (and its note, when `note` is given) with
    /// `to`'s; answers the store's state after. Writing the same details twice changes nothing,
    /// so a retry after a lost answer needs no read-back.
    async fn update_ship_to(
        &self,
        id: &StorefrontOrderId,
        to: &ShipTo,
        note: Option<&str>,
    ) -> Result<StorefrontOrder, PlatformError>;
    /// Takes units off the order as `removal` says, without refunding and without telling the
    /// customer, and answers the store's state after. Only unshipped units can go: a SKU whose
    /// units to remove have shipped is refused (`Permanent`, naming the SKU). Stores with no
    /// way to edit an order keep this default, and the engine lists the order for a person.
    async fn remove_units(
        &self,
        id: &StorefrontOrderId,
        removal: &UnitRemoval,
    ) -> Result<StorefrontOrder, PlatformError> {
        let _ = (id, removal);
        Err(PlatformError::new(
            self.platform(),
            "remove_units",
            ErrorClass::Permanent,
            format!(
                "{} cannot take lines off an order through its API",
                self.platform().capabilities().display_name
            ),
        ))
    }
    /// The store's webhook subscriptions. Stores without webhooks orderdeck can register keep
    /// these defaults, which say so.
    async fn webhooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        Err(self.no_webhooks("webhooks"))
    }
    async fn subscribe(&self, topic: &str, address: &str) -> Result<Subscription, PlatformError> {
        let _ = (topic, address);
        Err(self.no_webhooks("subscribe"))
    }
    async fn unsubscribe(&self, subscription: &Subscription) -> Result<(), PlatformError> {
        let _ = subscription;
        Err(self.no_webhooks("unsubscribe"))
    }
    fn no_webhooks(&self, operation: &'static str) -> PlatformError {
        PlatformError::new(
            self.platform(),
            operation,
            ErrorClass::Permanent,
            format!(
                "{} has no webhooks orderdeck can register: its links are polled",
                self.platform().capabilities().display_name
            ),
        )
    }
    /// The order in full: lines as they stand now and the units each fulfillment holds
    /// (polls may leave those out to stay cheap; see `StorefrontOrder::lines`).
    async fn order_detail(&self, id: &StorefrontOrderId) -> Result<StorefrontOrder, PlatformError> {
        self.get_order(id).await
    }
    /// Orders orderdeck created that changed at or after `since`, one page at a time.
    async fn changed_orders(
        &self,
        since: Timestamp,
        cursor: Option<String>,
    ) -> Result<Page<StorefrontChange>, PlatformError>;
}
