//! `[[stores]]`: the merchant's stores. Each platform has its own credentials, so an entry is
//! read according to its `platform` key, and a key of another platform is an unknown key that
//! says which platform it belongs to. Platforms without a connector yet load with a warning.

use std::ops::Range;

use url::Url;

use crate::domain::ids::StorefrontId;
use crate::domain::platform::Platform;

use super::problem::did_you_mean;
use super::reader::{Loader, Section, check_url, plain_text};
use super::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorefrontConfig {
    pub name: StorefrontId,
    /// Where API calls go: the platform's host by default, a sandbox when overridden.
    pub api_base: Url,
    pub credentials: StorefrontCredentials,
}

impl StorefrontConfig {
    pub fn platform(&self) -> Platform {
        match self.credentials {
            StorefrontCredentials::Shopify(_) => Platform::Shopify,
            StorefrontCredentials::Woocommerce(_) => Platform::Woocommerce,
            StorefrontCredentials::Magento2(_) => Platform::Magento2,
            StorefrontCredentials::Bigcommerce(_) => Platform::Bigcommerce,
            StorefrontCredentials::AmazonMcf(_) => Platform::AmazonMcf,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorefrontCredentials {
    Shopify(ShopifyStore),
    Woocommerce(WoocommerceStore),
    Magento2(Magento2Store),
    Bigcommerce(BigcommerceStore),
    AmazonMcf(AmazonMcfStore),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyStore {
    /// The permanent `*.myshopify.com` host (custom domains do not serve the Admin API).
    pub shop_domain: String,
    pub access_token: Secret,
    /// Admin API version, pinned (`2025-10`).
    pub api_version: String,
    /// Verifies webhook HMACs; polling alone needs none.
    pub webhook_secret: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WoocommerceStore {
    pub consumer_key: Secret,
    pub consumer_secret: Secret,
    /// The `secret` orderdeck's webhooks are created with; verifies `X-WC-Webhook-Signature`.
    pub webhook_secret: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magento2Store {
    pub access_token: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigcommerceStore {
    pub store_hash: String,
    pub access_token: Secret,
    /// The client secret of the API account (or app) the token belongs to: BigCommerce signs
    /// every webhook delivery with it. Polling alone needs none.
    pub webhook_secret: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmazonMcfStore {
    pub lwa_client_id: String,
    pub lwa_client_secret: Secret,
    pub refresh_token: Secret,
    pub marketplace_id: String,
    /// Selling Partner API region: `na`, `eu` or `fe`.
    pub region: String,
    /// The Login with Amazon host (`https://api.amazon.com`); a sandbox stands in for it in tests.
    pub auth_base: Url,
}

/// Where Login with Amazon exchanges the refresh token for an access token.
pub const DEFAULT_LWA_AUTH_BASE: &str = "https://api.amazon.com";

pub const DEFAULT_SHOPIFY_API_VERSION: &str = "2025-10";

/// Each platform's own keys, besides `name`, `platform` and `api_base`.
fn platform_keys(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Shopify => &[
            "shop_domain",
            "access_token",
            "api_version",
            "webhook_secret",
        ],
        Platform::Woocommerce => &["consumer_key", "consumer_secret", "webhook_secret"],
        Platform::Magento2 => &["access_token"],
        Platform::Bigcommerce => &["store_hash", "access_token", "webhook_secret"],
        Platform::AmazonMcf => &[
            "lwa_client_id",
            "lwa_client_secret",
            "refresh_token",
            "marketplace_id",
            "region",
            "auth_base",
        ],
        Platform::TiktokShop => &[],
    }
}

/// Every `[[stores]]` entry that loads, plus (name, platform) of every entry that has a name,
/// loaded or not, so links to a broken store are not also reported as links to a missing one.
pub(crate) fn read_stores(
    ld: &mut Loader<'_>,
    root: &mut Section<'_, '_>,
) -> (Vec<StorefrontConfig>, Vec<(String, Option<Platform>)>) {
    let mut stores = Vec::new();
    let mut declared: Vec<(String, Option<Platform>, Range<usize>)> = Vec::new();
    for (number, span, table) in super::reader::array_of_tables(ld, root, "stores") {
        let mut section = Section::new(format!("[[stores]] #{number}"), span, table);
        let name = section.required_string(ld, "name");
        if let Some((raw, span)) = &name {
            if let Some((_, _, first)) = declared.iter().find(|(n, _, _)| n == raw) {
                let line = ld.position(first).line;
                ld.error(span, format!("store name \"{raw}\" is already used by the [[stores]] entry at line {line}"));
            }
            section.label = format!("[[stores]] \"{raw}\"");
        }
        let platform = read_platform(ld, &mut section);
        if let Some((raw, _)) = &name {
            declared.push((raw.to_string(), platform, section.span.clone()));
        }
        let name = name.and_then(|(raw, span)| {
            StorefrontId::new(raw)
                .map_err(|e| ld.error(&span, format!("\"name\" in {}: {e}", section.label)))
                .ok()
        });
        // Without a platform the entry's keys cannot be judged; the platform problem is enough.
        let Some(platform) = platform else { continue };
        let credentials = read_credentials(ld, &mut section, platform);
        let api_base = if section.get("api_base").is_some() {
            section.checked(ld, "api_base", true, check_url)
        } else if matches!(platform, Platform::Woocommerce | Platform::Magento2) {
            // They run on the merchant's own site: there is no default host.
            section.missing(ld, "api_base");
            None
        } else {
            let default = credentials.as_ref().and_then(default_api_base);
            default.and_then(|base| check_url(&base).ok())
        };
        section.finish(ld, |key| {
            let owners: Vec<&str> = Platform::STORES
                .into_iter()
                .filter(|p| platform_keys(*p).contains(&key))
                .map(Platform::config_name)
                .collect();
            (!owners.is_empty()).then(|| {
                format!(
                    "{key} belongs to {} stores; this one is {}",
                    owners.join(" and "),
                    platform.config_name()
                )
            })
        });
        if let (Some(name), Some(api_base), Some(credentials)) = (name, api_base, credentials) {
            stores.push(StorefrontConfig {
                name,
                api_base,
                credentials,
            });
        }
    }
    let declared = declared.into_iter().map(|(n, p, _)| (n, p)).collect();
    (stores, declared)
}

/// The platform's own API host; WooCommerce and Magento have none (the merchant's site).
fn default_api_base(credentials: &StorefrontCredentials) -> Option<String> {
    match credentials {
        StorefrontCredentials::Shopify(s) => Some(format!("https://{}", s.shop_domain)),
        StorefrontCredentials::Bigcommerce(_) => Some("https://api.bigcommerce.com".into()),
        StorefrontCredentials::AmazonMcf(a) => {
            Some(format!("https://sellingpartnerapi-{}.amazon.com", a.region))
        }
        StorefrontCredentials::Woocommerce(_) | StorefrontCredentials::Magento2(_) => None,
    }
}

fn read_platform(ld: &mut Loader<'_>, section: &mut Section<'_, '_>) -> Option<Platform> {
    let (text, span) = section.required_string(ld, "platform")?;
    let names = Platform::STORES.map(Platform::config_name);
    match Platform::from_config_name(text) {
        Some(Platform::TiktokShop) => {
            ld.error(
                &span,
                format!(
                    "{} names TikTok Shop: TikTok shops go under [[shops]]",
                    section.label
                ),
            );
            None
        }
        Some(platform) => {
            if !platform.capabilities().connector_available {
                ld.warn(&span, format!(
                    "{} is {platform}: orderdeck has no {platform} connector yet, so its links are checked but do not sync",
                    section.label
                ));
            }
            Some(platform)
        }
        None => {
            let near = did_you_mean(text, names)
                .map(|n| format!(" (did you mean \"{n}\"?)"))
                .unwrap_or_default();
            ld.error(
                &span,
                format!(
                    "\"platform\" in {}: {text:?} is not a store platform{near}; use one of {}",
                    section.label,
                    names.join(", ")
                ),
            );
            None
        }
    }
}

fn read_credentials(
    ld: &mut Loader<'_>,
    s: &mut Section<'_, '_>,
    platform: Platform,
) -> Option<StorefrontCredentials> {
    Some(match platform {
        Platform::Shopify => {
            let shop_domain = s.checked(ld, "shop_domain", true, check_shop_domain);
            let access_token = s.secret(ld, "access_token", true);
            let api_version = if s.get("api_version").is_some() {
                s.checked(ld, "api_version", true, check_api_version)
            } else {
                Some(DEFAULT_SHOPIFY_API_VERSION.to_string())
            };
            let webhook_secret = s.secret(ld, "webhook_secret", false);
            StorefrontCredentials::Shopify(ShopifyStore {
                shop_domain: shop_domain?,
                access_token: access_token?,
                api_version: api_version?,
                webhook_secret,
            })
        }
        Platform::Woocommerce => {
            let consumer_key = s.secret(ld, "consumer_key", true);
            let consumer_secret = s.secret(ld, "consumer_secret", true);
            let webhook_secret = s.secret(ld, "webhook_secret", false);
            StorefrontCredentials::Woocommerce(WoocommerceStore {
                consumer_key: consumer_key?,
                consumer_secret: consumer_secret?,
                webhook_secret,
            })
        }
        Platform::Magento2 => StorefrontCredentials::Magento2(Magento2Store {
            access_token: s.secret(ld, "access_token", true)?,
        }),
        Platform::Bigcommerce => {
            let store_hash = s.checked(ld, "store_hash", true, |t| {
                plain_text(t, "the store hash from the API path /stores/{hash}/")
            });
            let access_token = s.secret(ld, "access_token", true);
            let webhook_secret = s.secret(ld, "webhook_secret", false);
            StorefrontCredentials::Bigcommerce(BigcommerceStore {
                store_hash: store_hash?,
                access_token: access_token?,
                webhook_secret,
            })
        }
        Platform::AmazonMcf => {
            let lwa_client_id = s.checked(ld, "lwa_client_id", true, |t| {
                plain_text(t, "the LWA client id (amzn1.application-oa2-client.…)")
            });
            let lwa_client_secret = s.secret(ld, "lwa_client_secret", true);
            let refresh_token = s.secret(ld, "refresh_token", true);
            let marketplace_id = s.checked(ld, "marketplace_id", true, |t| {
                plain_text(t, "a marketplace id such as ATVPDKIKX0DER")
            });
            let region = s.checked(ld, "region", true, |t| match t {
                "na" | "eu" | "fe" => Ok(t.to_string()),
                _ => Err(format!(
                    "{t:?} is not a Selling Partner API region; use na, eu or fe"
                )),
            });
            let auth_base = s.url(ld, "auth_base", DEFAULT_LWA_AUTH_BASE);
            StorefrontCredentials::AmazonMcf(AmazonMcfStore {
                lwa_client_id: lwa_client_id?,
                lwa_client_secret: lwa_client_secret?,
                refresh_token: refresh_token?,
                marketplace_id: marketplace_id?,
                region: region?,
                auth_base: auth_base?,
            })
        }
        Platform::TiktokShop => return None,
    })
}

fn check_shop_domain(text: &str) -> Result<String, String> {
    if text.contains("://") || text.contains('/') {
        return Err(format!(
            "{text:?}: write only the host, e.g. \"my-shop.myshopify.com\""
        ));
    }
    let text = text.to_ascii_lowercase();
    let shop = text.strip_suffix(".myshopify.com").unwrap_or("");
    if shop.is_empty() || !shop.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "{text:?} is not a myshopify.com domain; the Admin API needs the shop's permanent \
             domain (Settings → Domains), e.g. \"my-shop.myshopify.com\", not a custom domain"
        ));
    }
    Ok(text)
}

/// Shopify releases quarterly: `YYYY-01`, `-04`, `-07`, `-10`, or `unstable`.
fn check_api_version(text: &str) -> Result<String, String> {
    let quarterly = text.len() == 7
        && text[..4].chars().all(|c| c.is_ascii_digit())
        && matches!(&text[4..], "-01" | "-04" | "-07" | "-10");
    if quarterly || text == "unstable" {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{text:?} is not a Shopify API version; they look like \"{DEFAULT_SHOPIFY_API_VERSION}\""
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domains_must_be_permanent_myshopify_hosts() {
        assert_eq!(
            check_shop_domain("My-Shop.myshopify.com").unwrap(),
            "my-shop.myshopify.com"
        );
        for bad in [
            "https://x.myshopify.com",
            "shop.example.com",
            ".myshopify.com",
            "x.myshopify.com/admin",
            "a_b.myshopify.com",
        ] {
            assert!(check_shop_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn api_versions_are_quarterly_releases() {
        for good in ["2025-10", "2024-01", "unstable"] {
            assert!(check_api_version(good).is_ok(), "{good}");
        }
        for bad in ["2025-11", "2025-1", "25-10", "latest", "2025-10 "] {
            assert!(check_api_version(bad).is_err(), "{bad}");
        }
    }
}
