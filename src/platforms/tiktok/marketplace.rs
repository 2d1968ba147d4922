//! [`Marketplace`] for [`TiktokClient`]: the engine's view of one TikTok shop. Each method is
//! one documented TikTok operation (see the sibling modules); nothing here adds behaviour.

use async_trait::async_trait;

use super::client::TiktokClient;
use crate::domain::ids::{CancelId, PackageId, TiktokOrderId};
use crate::domain::rules::tracking::ShippingProvider;
use crate::platforms::{
    LabelDocument, Marketplace, Page, PlatformError, RemoteCancellation, RemoteOrder, SellerCancel,
    Shipped, Subscription, Tokens, Window,
};

#[async_trait]
impl Marketplace for TiktokClient {
    async fn search_orders(
        &self,
        window: Window,
        page_token: Option<String>,
    ) -> Result<Page<RemoteOrder>, PlatformError> {
        self.search_orders_page(window, page_token).await
    }

    async fn shop_id(&self) -> Result<String, PlatformError> {
        Ok(TiktokClient::shop_id(self).await?.to_string())
    }

    async fn webhooks(&self) -> Result<Vec<Subscription>, PlatformError> {
        TiktokClient::webhooks(self).await
    }

    async fn subscribe(&self, topic: &str, address: &str) -> Result<Subscription, PlatformError> {
        self.put_webhook(topic, address).await
    }

    async fn unsubscribe(&self, subscription: &Subscription) -> Result<(), PlatformError> {
        self.delete_webhook(&subscription.topic).await
    }

    /// Any number of ids: batches of 50 go out one after another.
    async fn order_details(
        &self,
        ids: &[TiktokOrderId],
    ) -> Result<Page<RemoteOrder>, PlatformError> {
        self.order_details_batched(ids).await
    }

    async fn shipping_providers(
        &self,
        delivery_option_id: &str,
    ) -> Result<Vec<ShippingProvider>, PlatformError> {
        self.providers(delivery_option_id).await
    }

    async fn ship(
        &self,
        order: &TiktokOrderId,
        package: Option<&PackageId>,
        line_item_ids: &[String],
        tracking_number: &str,
        provider_id: &str,
    ) -> Result<Shipped, PlatformError> {
        self.ship_order(order, package, line_item_ids, tracking_number, provider_id)
            .await
    }

    async fn update_shipping_info(
        &self,
        order: &TiktokOrderId,
        tracking_number: &str,
        provider_id: &str,
    ) -> Result<(), PlatformError> {
        self.update_tracking(order, tracking_number, provider_id)
            .await
    }

    async fn shipping_document(&self, package: &PackageId) -> Result<LabelDocument, PlatformError> {
        self.label(package).await
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>, PlatformError> {
        self.download_document(url).await
    }

    async fn search_cancellations(
        &self,
        window: Window,
        page_token: Option<String>,
    ) -> Result<Page<RemoteCancellation>, PlatformError> {
        self.search_cancellations_page(window, page_token).await
    }

    async fn cancellations_of_order(
        &self,
        order: &TiktokOrderId,
    ) -> Result<Vec<RemoteCancellation>, PlatformError> {
        self.cancellations_of(order).await
    }

    async fn approve_cancellation(
        &self,
        cancel_id: &CancelId,
        idempotency_key: &str,
    ) -> Result<(), PlatformError> {
        self.approve(cancel_id, idempotency_key).await
    }

    async fn reject_cancellation(
        &self,
        cancel_id: &CancelId,
        idempotency_key: &str,
        reason: &str,
        comment: Option<&str>,
    ) -> Result<(), PlatformError> {
        self.reject(cancel_id, idempotency_key, reason, comment)
            .await
    }

    async fn cancel_order(
        &self,
        order: &TiktokOrderId,
        line_item_ids: &[String],
        reason_code: &str,
    ) -> Result<SellerCancel, PlatformError> {
        self.seller_cancel(order, line_item_ids, reason_code).await
    }

    async fn refresh_tokens(&self) -> Result<Tokens, PlatformError> {
        self.refresh_now().await
    }

    fn tokens(&self) -> Tokens {
        self.current_tokens()
    }
}
