//! TikTok's shipping providers per delivery option, kept for an hour. Every tracking push needs
//! the list and it rarely changes, so asking for it per order would double the calls to a
//! rate-limited API. A carrier that does not map is checked against a fresh list once before the
//! order is called stuck, so a provider TikTok just added is found. The names the shop's
//! lists hold are also what a `carrier_map` is checked against and completed from.

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

impl Engine {
    /// Every provider name TikTok listed for `link`'s shop, over all its delivery options,
    /// sorted; empty until one list was fetched (see [`Engine::load_provider_names`]).
    pub fn provider_names(&self, link: &LinkRuntime) -> Vec<String> {
        let lists = self
            .providers
            .lists
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<String> = lists
            .iter()
            .filter(|((shop, _), _)| *shop == link.shop)
            .flat_map(|(_, (_, list))| list.iter().map(|p| p.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The shop's provider names, asking TikTok for the list of a delivery option one of the
    /// link's recent orders uses when none is known yet. Empty when the link has no such order.
    pub(crate) async fn load_provider_names(
        &self,
        link: &LinkRuntime,
    ) -> Result<Vec<String>, super::OperationError> {
        let names = self.provider_names(link);
        if !names.is_empty() {
            return Ok(names);
        }
        let query = crate::store::ViewQuery {
            view: crate::domain::triage::OrderView::All,
            link: Some(&link.id),
            offset: 0,
            limit: 50,
            now: self.now(),
        };
        let settings = self.settings(&link.id);
        let recent = self.store.page_view(&query, &|_| settings.clone())?;
        let Some(option) = recent
            .items
            .iter()
            .find_map(|o| o.tiktok.delivery_option_id.clone())
        else {
            return Ok(Vec::new());
        };
        self.shipping_providers(link, &option, false)
            .await
            .map_err(|e| super::OperationError::Platform(e.to_string()))?;
        Ok(self.provider_names(link))
    }
}
