//! Authorization: the app's credentials, the auth host's token endpoints (get by auth code,
//! refresh), and Get Authorized Shops, which yields the `shop_cipher` every shop-scoped call
//! needs.
//!
//! Invariants: the token endpoints are unsigned GETs carrying `app_secret` in the query (that is
//! TikTok's design), so their URLs are never logged and their transport errors never quote
//! them; `*_expire_in` are absolute unix times; `/authorization/*` is called without
//! `shop_cipher`. A refused refresh is `Permanent`: only the seller can authorize again.

use std::fmt;
use std::sync::Arc;

use percent_encoding::utf8_percent_encode;
use reqwest::Method;
use sha2::{Digest, Sha256};

use super::client::{Call, TiktokClient};
use super::envelope::{decode, error, interpret};
use super::wire;
use crate::domain::Clock;
use crate::domain::clock::from_unix;
use crate::domain::platform::Platform;
use crate::domain::text;
use crate::platforms::Tokens;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, CallKind};

/// The app's key and secret from Partner Center. The secret is only readable inside this
/// module tree and shows as a fingerprint in Debug output.
#[derive(Clone)]
pub struct AppCredentials {
    pub app_key: String,
    app_secret: String,
}

impl AppCredentials {
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<String>) -> Self {
        AppCredentials {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
        }
    }

    /// The first 8 hex digits of SHA-256(secret): enough to tell two secrets apart on screen.
    pub fn secret_fingerprint(&self) -> String {
        hex::encode(&Sha256::digest(self.app_secret.as_bytes())[..4])
    }

    pub(super) fn secret(&self) -> &str {
        &self.app_secret
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_key", &self.app_key)
            .field("app_secret_fingerprint", &self.secret_fingerprint())
            .finish()
    }
}

/// What the auth host grants: tokens and who the seller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub tokens: Tokens,
    pub open_id: Option<String>,
    pub seller_name: Option<String>,
    pub seller_base_region: Option<String>,
}

/// One shop an authorization covers (`GET /authorization/202309/shops`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedShop {
    pub id: String,
    pub name: String,
    pub region: String,
    pub seller_type: Option<String>,
    pub cipher: String,
    pub code: Option<String>,
}

/// The auth host (`auth.tiktok-shops.com`). Usable alone to exchange an auth code before a
/// shop's client exists.
pub struct TiktokAuth {
    http: reqwest::Client,
    app: AppCredentials,
    base: String,
    clock: Arc<dyn Clock>,
}

impl TiktokAuth {
    pub fn new(
        app: AppCredentials,
        auth_base: impl Into<String>,
        timeouts: http::Timeouts,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PlatformError> {
        let http = http::build_client(timeouts).map_err(|_| {
            error(
                "build_client",
                ErrorClass::Permanent,
                "could not build the HTTP client (TLS setup)",
            )
        })?;
        Ok(Self::with_http(http, app, auth_base.into(), clock))
    }

    pub(super) fn with_http(
        http: reqwest::Client,
        app: AppCredentials,
        base: String,
        clock: Arc<dyn Clock>,
    ) -> Self {
        TiktokAuth {
            http,
            app,
            base: base.trim_end_matches('/').to_string(),
            clock,
        }
    }

    pub(super) fn app_key(&self) -> &str {
        &self.app.app_key
    }

    pub(super) fn app_secret(&self) -> &str {
        self.app.secret()
    }

    /// `GET /api/v2/token/get`: the seller authorized the app and TikTok sent an auth code.
    /// Codes are single-use, so a lost answer is ambiguous.
    pub async fn exchange_auth_code(&self, auth_code: &str) -> Result<Grant, PlatformError> {
        self.token_call(
            "get_token",
            "/api/v2/token/get",
            ("auth_code", auth_code),
            "authorized_code",
            CallKind::Write,
        )
        .await
    }

    /// `GET /api/v2/token/refresh`. Refreshing again with the same refresh token is harmless,
    /// so a lost answer is a plain retry.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Grant, PlatformError> {
        self.token_call(
            "refresh_token",
            "/api/v2/token/refresh",
            ("refresh_token", refresh_token),
            "refresh_token",
            CallKind::Read,
        )
        .await
    }

    async fn token_call(
        &self,
        operation: &'static str,
        path: &str,
        credential: (&str, &str),
        grant_type: &str,
        effect: CallKind,
    ) -> Result<Grant, PlatformError> {
        let mut url = format!("{}{path}?", self.base);
        for (key, value) in [
            ("app_key", self.app_key()),
            ("app_secret", self.app.secret()),
            credential,
            ("grant_type", grant_type),
        ] {
            url.push_str(key);
            url.push('=');
            url.extend(utf8_percent_encode(value, super::client::ENCODE));
            url.push('&');
        }
        url.pop();
        let request = self.http.request(Method::GET, url).build().map_err(|_| {
            error(
                operation,
                ErrorClass::Permanent,
                "could not build the request (check auth_base in the configuration)",
            )
        })?;
        let raw = http::send(&self.http, request, Platform::TiktokShop, operation, effect).await?;
        let answer = interpret(&raw, operation, effect).map_err(refused_authorization)?;
        let request_id = answer.request_id.clone();
        let grant: wire::TokenGrant = decode(answer, operation, CallKind::Read)?;
        let (Some(access_token), Some(refresh_token)) = (grant.access_token, grant.refresh_token)
        else {
            return Err(error(
                operation,
                ErrorClass::RetryLater { after: None },
                "the token answer holds no tokens",
            )
            .with_request_id(request_id));
        };
        Ok(Grant {
            tokens: Tokens {
                access_token,
                access_expires_at: grant.access_token_expire_in.map(|t| self.expiry(t)),
                refresh_token,
                refresh_expires_at: grant.refresh_token_expire_in.map(|t| self.expiry(t)),
            },
            open_id: grant.open_id,
            seller_name: grant.seller_name.map(|s| text::sanitize(&s)),
            seller_base_region: grant.seller_base_region,
        })
    }

    /// `*_expire_in` are absolute unix times. A value before 2001 cannot be one, so it is read
    /// as the duration some older documents describe rather than as an expiry in 1970.
    fn expiry(&self, value: i64) -> crate::domain::Timestamp {
        const YEAR_2001: i64 = 978_307_200;
        if value < YEAR_2001 {
            self.clock.now() + chrono::Duration::seconds(value.max(0))
        } else {
            from_unix(value)
        }
    }
}

/// The auth host answers a refused refresh token or auth code with a business code: nothing
/// orderdeck can retry its way out of.
fn refused_authorization(mut e: PlatformError) -> PlatformError {
    if e.class == ErrorClass::RefreshCredentials {
        e.class = ErrorClass::Permanent;
    }
    e
}

impl TiktokClient {
    /// `GET /authorization/202309/shops` (never with `shop_cipher`).
    pub async fn authorized_shops(&self) -> Result<Vec<AuthorizedShop>, PlatformError> {
        const OP: &str = "get_authorized_shops";
        let call = Call::new(OP, Method::GET, "/authorization/202309/shops", &[]);
        let answer = self.call_with(call, None).await?;
        let shops: wire::AuthorizedShops = decode(answer, OP, CallKind::Read)?;
        Ok(shops
            .shops
            .into_iter()
            .filter_map(|s| {
                Some(AuthorizedShop {
                    id: s.id?,
                    cipher: s.cipher?,
                    name: text::sanitize(&s.name.unwrap_or_default()),
                    region: s.region.unwrap_or_default(),
                    seller_type: s.seller_type,
                    code: s.code,
                })
            })
            .collect())
    }

    /// The configured cipher, or the one Get Authorized Shops gives for this shop (looked up
    /// once, by one task, however many ask at the same time).
    pub(super) async fn shop_cipher(&self) -> Result<&str, PlatformError> {
        let cipher = self
            .shop_cipher
            .get_or_try_init(|| async {
                let shops = self.authorized_shops().await?;
                pick_shop(&shops, self.shop_id.as_deref(), &self.region)
                    .map(|shop| shop.cipher.clone())
            })
            .await?;
        Ok(cipher)
    }

    /// The shop's TikTok id, which webhooks carry in `shop_id`: the configured one, else the
    /// authorized shop whose cipher this client uses, else the shop `pick_shop` would choose.
    /// Looked up once.
    pub(super) async fn shop_id(&self) -> Result<&str, PlatformError> {
        let id = self
            .learned_shop_id
            .get_or_try_init(|| async {
                if let Some(id) = &self.shop_id {
                    return Ok(id.clone());
                }
                let shops = self.authorized_shops().await?;
                let in_use = self
                    .shop_cipher
                    .get()
                    .and_then(|cipher| shops.iter().find(|s| &s.cipher == cipher));
                match in_use {
                    Some(shop) => Ok(shop.id.clone()),
                    None => pick_shop(&shops, None, &self.region).map(|shop| shop.id.clone()),
                }
            })
            .await?;
        Ok(id)
    }
}

/// The shop this client is for: by id when configured, else the only shop of the region, else
/// the only shop. Never a guess among several.
fn pick_shop<'a>(
    shops: &'a [AuthorizedShop],
    shop_id: Option<&str>,
    region: &str,
) -> Result<&'a AuthorizedShop, PlatformError> {
    let refuse = |why: String| error("get_authorized_shops", ErrorClass::Permanent, why);
    if let Some(id) = shop_id {
        return shops.iter().find(|s| s.id == id).ok_or_else(|| {
            refuse(format!(
                "the authorization does not cover shop {}: the seller must authorize it",
                text::sanitize(id)
            ))
        });
    }
    let in_region: Vec<_> = shops
        .iter()
        .filter(|s| s.region.eq_ignore_ascii_case(region))
        .collect();
    match (in_region.as_slice(), shops) {
        ([one], _) => Ok(one),
        ([], [one]) => Ok(one),
        ([], []) => Err(refuse("the authorization covers no shop".into())),
        _ => Err(refuse(format!(
            "the authorization covers {} shops: set shop_id in the configuration to choose one",
            shops.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(id: &str, region: &str) -> AuthorizedShop {
        AuthorizedShop {
            id: id.into(),
            name: id.into(),
            region: region.into(),
            seller_type: None,
            cipher: format!("c-{id}"),
            code: None,
        }
    }

    #[test]
    fn shop_choice_never_guesses() {
        let shops = [shop("1", "GB"), shop("2", "US"), shop("3", "US")];
        assert_eq!(pick_shop(&shops, None, "gb").unwrap().id, "1");
        assert_eq!(pick_shop(&shops, Some("3"), "GB").unwrap().id, "3");
        assert!(
            pick_shop(&shops, None, "US")
                .unwrap_err()
                .message
                .contains("set shop_id")
        );
        assert!(pick_shop(&shops, Some("9"), "GB").is_err());
        assert_eq!(pick_shop(&shops[..1], None, "DE").unwrap().id, "1");
        assert!(pick_shop(&[], None, "GB").is_err());
    }

    #[test]
    fn the_official_shops_sample_reads() {
        let data = crate::platforms::tiktok::test_samples::response_data("get_authorized_shops");
        let shops: wire::AuthorizedShops = serde_json::from_value(data).unwrap();
        let shop = &shops.shops[0];
        assert_eq!(shop.id.as_deref(), Some("7000714532876273420"));
        assert_eq!(
            shop.cipher.as_deref(),
            Some("GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3")
        );
        assert_eq!(shop.region.as_deref(), Some("GB"));
        assert_eq!(shop.seller_type.as_deref(), Some("CROSS_BORDER"));
    }

    #[test]
    fn debug_shows_a_fingerprint_not_the_secret() {
        let app = AppCredentials::new("29a39d", "e59af819cc");
        let shown = format!("{app:?}");
        assert!(!shown.contains("e59af819cc"), "{shown}");
        assert!(shown.contains(&app.secret_fingerprint()));
        assert_eq!(app.secret_fingerprint().len(), 8);
    }

    #[test]
    fn token_grants_parse_with_absolute_expiries() {
        let data = serde_json::json!({
            "access_token": "ROW_a", "access_token_expire_in": 1_782_408_746_i64,
            "refresh_token": "ROW_r", "refresh_token_expire_in": 4_903_858_076_i64,
            "open_id": "o", "seller_name": "Origeens", "seller_base_region": "FR"
        });
        let grant: wire::TokenGrant = serde_json::from_value(data).unwrap();
        assert_eq!(grant.access_token_expire_in, Some(1_782_408_746));
        http::install_crypto_provider();
        let auth = TiktokAuth::with_http(
            reqwest::Client::new(),
            AppCredentials::new("k", "s"),
            "http://x/".into(),
            Arc::new(crate::domain::FixedClock::at_unix(1_700_000_000)),
        );
        assert_eq!(auth.expiry(1_782_408_746).timestamp(), 1_782_408_746);
        assert_eq!(
            auth.expiry(604_800).timestamp(),
            1_700_604_800,
            "a duration is not a 1970 expiry"
        );
        assert_eq!(auth.base, "http://x");
    }
}
