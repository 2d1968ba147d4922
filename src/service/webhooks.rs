//! The platforms' webhooks, as the daemon's HTTP face receives them: `POST /webhooks/tiktok`
//! and `POST /webhooks/{shopify|woocommerce|bigcommerce}/{store}`. Each delivery is verified
//! before anything else (nothing unverified starts a platform call), read no further than
//! 1 MiB, deduplicated on its delivery id, and turned into a hint for the engine
//! (`engine/hints.rs`): the answer goes back at once, the fetch runs after, so TikTok's 3 s
//! limit always holds.
//!
//! Refusals are counted (per link when the link is known, per platform always), never logged
//! one line each: a flood of bad requests must not fill the log.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use crate::config::{Config, StorefrontCredentials};
use crate::domain::ids::LinkId;
use crate::domain::platform::Platform;
use crate::engine::{Engine, Hint};
use crate::platforms::tiktok::sign::verify_webhook;
use crate::platforms::webhook::{self, StoreNews};

/// Bodies larger than this are refused (413) without being read whole.
pub const MAX_BODY: usize = 1 << 20;
/// Delivery ids remembered for deduplication (the oldest are forgotten first).
const SEEN_KEPT: usize = 100_000;
/// How long a delivery may wait for orderdeck to learn which shop an id names.
const LEARN_WAIT: Duration = Duration::from_secs(2);

/// What became of one delivery, as `/metrics` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Verified,
    Duplicate,
    BadSignature,
    Malformed,
    UnknownTarget,
    TooLarge,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Duplicate => "duplicate",
            Verdict::BadSignature => "bad_signature",
            Verdict::Malformed => "malformed",
            Verdict::UnknownTarget => "unknown_target",
            Verdict::TooLarge => "too_large",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Verdict::Verified | Verdict::Duplicate => StatusCode::OK,
            Verdict::BadSignature => StatusCode::UNAUTHORIZED,
            Verdict::Malformed => StatusCode::BAD_REQUEST,
            Verdict::UnknownTarget => StatusCode::NOT_FOUND,
            Verdict::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub platform: String,
    pub verdict: String,
}

/// One TikTok app: webhooks of every shop it is authorized for are signed with its secret.
struct TiktokApp {
    app_key: String,
    app_secret: String,
    links: Vec<LinkId>,
}

/// One `[[stores]]` entry that can receive webhooks.
struct StoreHooks {
    platform: Platform,
    secret: Option<String>,
    links: Vec<LinkId>,
}

/// Remembers recent delivery ids: a platform retrying a delivery it thinks was lost changes
/// nothing the second time.
#[derive(Default)]
struct Seen {
    order: VecDeque<String>,
    ids: HashSet<String>,
}

impl Seen {
    /// True the first time an id is offered.
    fn first(&mut self, id: String) -> bool {
        if self.ids.contains(&id) {
            return false;
        }
        if self.order.len() >= SEEN_KEPT
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        self.order.push_back(id.clone());
        self.ids.insert(id);
        true
    }
}

/// Everything the webhook routes need, shared by the HTTP tasks.
pub struct Inbox {
    engine: Arc<Engine>,
    apps: Vec<TiktokApp>,
    stores: HashMap<String, StoreHooks>,
    /// TikTok shop id → link, learned through Get Authorized Shops.
    shop_ids: tokio::sync::Mutex<HashMap<String, LinkId>>,
    seen: Mutex<Seen>,
    deliveries: Family<DeliveryLabels, Counter>,
    /// Seconds from a webhook's arrival to the commit of what its fetch found.
    to_commit: Histogram,
}

impl Inbox {
    /// The secrets and links of `config`, for the links the engine runs.
    pub fn new(engine: Arc<Engine>, config: &Config) -> Arc<Inbox> {
        let mut apps: Vec<TiktokApp> = Vec::new();
        let mut stores: HashMap<String, StoreHooks> = HashMap::new();
        for link in engine.links() {
            if let Some(shop) = config.shop(&link.shop) {
                match apps.iter_mut().find(|a| a.app_key == shop.app_key) {
                    Some(app) => app.links.push(link.id.clone()),
                    None => apps.push(TiktokApp {
                        app_key: shop.app_key.clone(),
                        app_secret: shop.app_secret.expose().to_string(),
                        links: vec![link.id.clone()],
                    }),
                }
            }
            if let Some(store) = config.store(&link.storefront_name) {
                let secret = match &store.credentials {
                    StorefrontCredentials::Shopify(s) => s.webhook_secret.as_ref(),
                    StorefrontCredentials::Woocommerce(s) => s.webhook_secret.as_ref(),
                    StorefrontCredentials::Bigcommerce(s) => s.webhook_secret.as_ref(),
                    _ => None,
                };
                stores
                    .entry(store.name.to_string())
                    .or_insert_with(|| StoreHooks {
                        platform: store.platform(),
                        secret: secret.map(|s| s.expose().to_string()),
                        links: Vec::new(),
                    })
                    .links
                    .push(link.id.clone());
            }
        }
        // Every platform that can deliver starts at zero, so a rate over the first deliveries
        // (and an alert on refusals) has a series to work on from the start.
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let platforms = (!apps.is_empty())
            .then_some(Platform::TiktokShop)
            .into_iter()
            .chain(stores.values().map(|s| s.platform));
        for platform in platforms {
            for verdict in [Verdict::Verified, Verdict::BadSignature] {
                let labels = DeliveryLabels {
                    platform: platform.config_name().to_string(),
                    verdict: verdict.label().to_string(),
                };
                deliveries.get_or_create(&labels).inc_by(0);
            }
        }
        Arc::new(Inbox {
            engine,
            apps,
            stores,
            shop_ids: tokio::sync::Mutex::new(HashMap::new()),
            seen: Mutex::new(Seen::default()),
            deliveries,
            to_commit: Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0]),
        })
    }

    /// Asks every link's shop for its id (called once at start, and again on a miss).
    pub async fn learn_shop_ids(&self) {
        let mut known = self.shop_ids.lock().await;
        for link in self.engine.links() {
            if known.values().any(|l| l == &link.id) {
                continue;
            }
            if let Ok(Ok(id)) = tokio::time::timeout(LEARN_WAIT, link.marketplace.shop_id()).await {
                known.insert(id, link.id.clone());
            }
        }
    }

    async fn link_of_shop(&self, shop_id: &str) -> Option<LinkId> {
        if let Some(link) = self.shop_ids.lock().await.get(shop_id) {
            return Some(link.clone());
        }
        self.learn_shop_ids().await;
        self.shop_ids.lock().await.get(shop_id).cloned()
    }

    /// The delivery counts and the webhook → commit latencies measured since the last scrape.
    pub(crate) fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        for seconds in self.engine.hints().take_latencies() {
            self.to_commit.observe(seconds);
        }
        registry.register(
            "orderdeck_webhook_deliveries",
            "Webhook deliveries by platform and what became of them",
            self.deliveries.clone(),
        );
        registry.register(
            "orderdeck_webhook_to_commit_seconds",
            "From a webhook's arrival to the commit of what the fetch it caused found",
            self.to_commit.clone(),
        );
    }

    /// Counts a delivery to `platform` (`None`: a route naming no platform orderdeck knows).
    fn tally(&self, platform: Option<Platform>, verdict: Verdict, links: &[LinkId]) -> StatusCode {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                platform: platform
                    .map_or("unknown", Platform::config_name)
                    .to_string(),
                verdict: verdict.label().to_string(),
            })
            .inc();
        let now = self.engine.now();
        let hints = self.engine.hints();
        match verdict {
            Verdict::Verified | Verdict::Duplicate => {
                links.iter().for_each(|l| hints.count(l, now, true));
            }
            _ => links.iter().for_each(|l| hints.count(l, now, false)),
        }
        verdict.status()
    }

    fn first_delivery(&self, platform: Platform, id: Option<&str>) -> bool {
        let Some(id) = id else {
            return true;
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.first(format!("{}:{id}", platform.config_name()))
    }

    /// `POST /webhooks/tiktok`.
    async fn tiktok(&self, headers: &HeaderMap, body: &[u8]) -> StatusCode {
        let platform = Platform::TiktokShop;
        let authorization = webhook::header(headers, "Authorization").unwrap_or_default();
        let Some(app) = self
            .apps
            .iter()
            .find(|a| verify_webhook(&a.app_key, &a.app_secret, body, authorization))
        else {
            return self.tally(Some(platform), Verdict::BadSignature, &[]);
        };
        let Ok(event) = serde_json::from_slice::<TiktokEvent>(body) else {
            return self.tally(Some(platform), Verdict::Malformed, &app.links);
        };
        let link = match self.link_of_shop(&event.shop_id).await {
            Some(link) if app.links.contains(&link) => link,
            _ => return self.tally(Some(platform), Verdict::UnknownTarget, &[]),
        };
        let links = std::slice::from_ref(&link);
        if !self.first_delivery(platform, event.tts_notification_id.as_deref()) {
            return self.tally(Some(platform), Verdict::Duplicate, links);
        }
        let order = event
            .data
            .and_then(|d| d.order_id)
            .and_then(|id| crate::domain::ids::TiktokOrderId::new(id).ok());
        let hint = match (event.kind, order) {
            (1 | 4, Some(order)) => Some(Hint::TiktokOrder(order)),
            (11, Some(order)) => Some(Hint::TiktokCancellation(order)),
            (1 | 4 | 11, None) => return self.tally(Some(platform), Verdict::Malformed, links),
            (6 | 7, _) => {
                self.engine.activity().record(
                    self.engine.now(),
                    crate::engine::activity::Level::Warn,
                    Some(&link),
                    None,
                    if event.kind == 6 {
                        "TikTok says the seller took back orderdeck's authorization: authorize again"
                    } else {
                        "TikTok says the authorization expires soon: the seller should renew it"
                    },
                );
                None
            }
            _ => None,
        };
        if let Some(hint) = hint {
            self.engine.hints().file(&link, hint);
        }
        self.tally(Some(platform), Verdict::Verified, links)
    }

    /// `POST /webhooks/{platform}/{store}`.
    async fn store(
        &self,
        platform_name: &str,
        store: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> StatusCode {
        let platform = Platform::from_config_name(platform_name);
        let target = self
            .stores
            .get(store)
            .filter(|s| Some(s.platform) == platform);
        let (Some(platform), Some(target)) = (platform, target) else {
            return self.tally(platform, Verdict::UnknownTarget, &[]);
        };
        if platform == Platform::Woocommerce && is_creation_ping(headers, body) {
            // woocommerce.md: creating a webhook sends an unsigned `webhook_id=N` form, which
            // needs a 2xx or the webhook is not saved. It asks for nothing.
            return StatusCode::OK;
        }
        let secret = target.secret.as_deref().unwrap_or_default().as_bytes();
        let verified = match platform {
            Platform::Shopify => webhook::verify(webhook::SHOPIFY, secret, headers, body),
            Platform::Woocommerce => webhook::verify(webhook::WOOCOMMERCE, secret, headers, body),
            Platform::Bigcommerce => {
                webhook::verify_standard(secret, headers, body, self.engine.now().timestamp())
            }
            _ => return self.tally(Some(platform), Verdict::UnknownTarget, &[]),
        };
        let Ok(verified) = verified else {
            return self.tally(Some(platform), Verdict::BadSignature, &target.links);
        };
        let Some(news) = webhook::store_news(platform, verified.topic.as_deref(), body) else {
            return self.tally(Some(platform), Verdict::Malformed, &target.links);
        };
        if !self.first_delivery(platform, verified.delivery_id.as_deref()) {
            return self.tally(Some(platform), Verdict::Duplicate, &target.links);
        }
        let hint = match news {
            StoreNews::Order(order) => Some(Hint::StoreOrder(order)),
            StoreNews::Orders => Some(Hint::StoreChanged),
            StoreNews::Nothing => None,
        };
        if let Some(hint) = hint {
            for link in &target.links {
                self.engine.hints().file(link, hint.clone());
            }
        }
        self.tally(Some(platform), Verdict::Verified, &target.links)
    }
}

/// `{"type", "tts_notification_id", "shop_id", "timestamp", "data"}` (tiktok-shop.md).
#[derive(serde::Deserialize)]
struct TiktokEvent {
    #[serde(rename = "type")]
    kind: u32,
    tts_notification_id: Option<String>,
    shop_id: String,
    data: Option<TiktokEventData>,
}

#[derive(serde::Deserialize)]
struct TiktokEventData {
    order_id: Option<String>,
}

fn is_creation_ping(headers: &HeaderMap, body: &[u8]) -> bool {
    webhook::header(headers, webhook::WOOCOMMERCE.signature).is_none()
        && body
            .strip_prefix(b"webhook_id=")
            .is_some_and(|rest| !rest.is_empty() && rest.iter().all(u8::is_ascii_digit))
}

/// Reads at most [`MAX_BODY`] bytes; a longer body is refused without reading the rest (and
/// one announced longer by its `Content-Length`, without reading any of it).
async fn read_body(headers: &HeaderMap, body: Body) -> Option<axum::body::Bytes> {
    let announced =
        webhook::header(headers, "Content-Length").and_then(|n| n.parse::<usize>().ok());
    if announced.is_some_and(|n| n > MAX_BODY) {
        return None;
    }
    to_bytes(body, MAX_BODY).await.ok()
}

pub(crate) async fn tiktok_route(
    State(inbox): State<Arc<Inbox>>,
    headers: HeaderMap,
    body: Body,
) -> StatusCode {
    match read_body(&headers, body).await {
        Some(body) => inbox.tiktok(&headers, &body).await,
        None => inbox.tally(Some(Platform::TiktokShop), Verdict::TooLarge, &[]),
    }
}

pub(crate) async fn store_route(
    State(inbox): State<Arc<Inbox>>,
    Path((platform, store)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> StatusCode {
    match read_body(&headers, body).await {
        Some(body) => inbox.store(&platform, &store, &headers, &body).await,
        None => inbox.tally(
            Platform::from_config_name(&platform),
            Verdict::TooLarge,
            &[],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_id_counts_once_and_the_oldest_are_forgotten_first() {
        let mut seen = Seen::default();
        assert!(seen.first("a".into()));
        assert!(!seen.first("a".into()));
        for n in 0..SEEN_KEPT {
            seen.first(n.to_string());
        }
        assert!(seen.first("a".into()), "forgotten after {SEEN_KEPT} others");
        assert_eq!(seen.ids.len(), SEEN_KEPT);
    }

    #[test]
    fn only_an_unsigned_webhook_id_form_is_woocommerces_ping() {
        let none = HeaderMap::new();
        assert!(is_creation_ping(&none, b"webhook_id=12"));
        assert!(!is_creation_ping(&none, b"webhook_id="));
        assert!(!is_creation_ping(&none, b"{\"id\":12}"));
        let mut signed = HeaderMap::new();
        signed.insert("x-wc-webhook-signature", "abc".parse().unwrap());
        assert!(!is_creation_ping(&signed, b"webhook_id=12"));
    }
}
