//! TikTok's shipping providers per delivery option, kept for an hour. Every tracking push needs
//! the list and it rarely changes, so asking for it per order would double the calls to a
//! rate-limited API. A carrier that does not map is checked against a fresh list once before the
//! order is called stuck, so a provider TikTok just added is found.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::clock::Timestamp;
use crate::domain::ids::ShopId;
use crate::domain::rules::tracking::ShippingProvider;
use crate::platforms::PlatformError;

use super::{Engine, LinkRuntime};

const KEEP: chrono::Duration = chrono::Duration::hours(1);

/// A shop and one of its delivery options.
type Key = (ShopId, String);
/// When a list was fetched, and the list.
type Fetched = (Timestamp, Arc<Vec<ShippingProvider>>);

#[derive(Default)]
pub struct ProviderCache {
    lists: Mutex<HashMap<Key, Fetched>>,
}

impl Engine {
    /// The providers of `delivery_option`, from the cache unless it is older than an hour or
    /// `fresh` is asked for.
    pub(crate) async fn shipping_providers(
        &self,
        link: &LinkRuntime,
        delivery_option: &str,
        fresh: bool,
    ) -> Result<Arc<Vec<ShippingProvider>>, PlatformError> {
        let key = (link.shop.clone(), delivery_option.to_string());
        let now = self.now();
        if !fresh {
            let lists = self
                .providers
                .lists
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some((at, list)) = lists.get(&key)
                && now - *at < KEEP
            {
                return Ok(list.clone());
            }
        }
        let list = Arc::new(link.marketplace.shipping_providers(delivery_option).await?);
        self.providers
            .lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (now, list.clone()));
        Ok(list)
    }
}
