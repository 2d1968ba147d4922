//! `[[shops]]`: the TikTok Shop shops orderdeck reads orders from, with the app credentials and
//! the seller's tokens. Token expiries are absolute instants (TikTok's `*_expire_in` fields are
//! unix timestamps, not durations); the console warns ahead of the refresh token's end, which is
//! the end of the seller's authorization.

use std::ops::Range;

use url::Url;

use crate::domain::Timestamp;
use crate::domain::ids::ShopId;

use super::reader::{Loader, Section, Value, plain_text};
use super::secret::Secret;

pub const DEFAULT_TIKTOK_API_BASE: &str = "https://open-api.tiktokglobalshop.com";
pub const DEFAULT_TIKTOK_AUTH_BASE: &str = "https://auth.tiktok-shops.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopConfig {
    pub name: ShopId,
    pub app_key: String,
    pub app_secret: Secret,
    pub access_token: Secret,
    pub refresh_token: Secret,
    pub access_token_expires_at: Option<Timestamp>,
    pub refresh_token_expires_at: Option<Timestamp>,
    /// Sent with shop-scoped calls; discovered with Get Authorized Shops when absent.
    pub shop_cipher: Option<String>,
    /// ISO 3166 country code, upper case ("GB", "US", "ID"): decides how packages are shipped.
    pub region: String,
    pub api_base: Url,
    pub auth_base: Url,
}

/// Every `[[shops]]` entry that loads, plus the name of every entry that has one (even those
/// too broken to load), so links can tell "no such shop" from "that shop has problems".
pub(crate) fn read_shops(
    ld: &mut Loader<'_>,
    root: &mut Section<'_, '_>,
) -> (Vec<ShopConfig>, Vec<String>) {
    let mut shops = Vec::new();
    let mut names: Vec<(String, Range<usize>)> = Vec::new();
    for (number, span, table) in super::reader::array_of_tables(ld, root, "shops") {
        let mut section = Section::new(format!("[[shops]] #{number}"), span, table);
        let name = section.required_string(ld, "name");
        if let Some((raw, span)) = &name {
            if let Some((_, first)) = names.iter().find(|(n, _)| n == raw) {
                let line = ld.position(first).line;
                ld.error(
                    span,
                    format!(
                        "shop name \"{raw}\" is already used by the [[shops]] entry at line {line}"
                    ),
                );
            }
            names.push((raw.to_string(), section.span.clone()));
            section.label = format!("[[shops]] \"{raw}\"");
        }
        let name = name.and_then(|(raw, span)| {
            ShopId::new(raw)
                .map_err(|e| ld.error(&span, format!("\"name\" in {}: {e}", section.label)))
                .ok()
        });
        let app_key = section.checked(ld, "app_key", true, |key| {
            plain_text(key, "the app key from TikTok Shop Partner Center")
        });
        let app_secret = section.secret(ld, "app_secret", true);
        let access_token = section.secret(ld, "access_token", true);
        let refresh_token = section.secret(ld, "refresh_token", true);
        let access_token_expires_at = section
            .get("access_token_expires_at")
            .and_then(|v| timestamp(ld, &section.label, "access_token_expires_at", v));
        let refresh_token_expires_at = section
            .get("refresh_token_expires_at")
            .and_then(|v| timestamp(ld, &section.label, "refresh_token_expires_at", v));
        let shop_cipher = section.checked(ld, "shop_cipher", false, |cipher| {
            plain_text(
                cipher,
                "a cipher from Get Authorized Shops (leave it out to discover it)",
            )
        });
        let region = section.checked(ld, "region", true, |region| {
            if region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()) {
                Ok(region.to_ascii_uppercase())
            } else {
                Err(format!(
                    "{region:?} is not a two-letter country code such as \"GB\", \"US\", \"ID\""
                ))
            }
        });
        let api_base = section.url(ld, "api_base", DEFAULT_TIKTOK_API_BASE);
        let auth_base = section.url(ld, "auth_base", DEFAULT_TIKTOK_AUTH_BASE);
        section.finish(ld, |_| None);
        if let (
            Some(name),
            Some(app_key),
            Some(app_secret),
            Some(access_token),
            Some(refresh_token),
            Some(region),
            Some(api_base),
            Some(auth_base),
        ) = (
            name,
            app_key,
            app_secret,
            access_token,
            refresh_token,
            region,
            api_base,
            auth_base,
        ) {
            shops.push(ShopConfig {
                name,
                app_key,
                app_secret,
                access_token,
                refresh_token,
                access_token_expires_at,
                refresh_token_expires_at,
                shop_cipher,
                region,
                api_base,
                auth_base,
            });
        }
    }
    (shops, names.into_iter().map(|(n, _)| n).collect())
}

/// Unix seconds (as TikTok sends them), an RFC 3339 string, or a TOML date-time with offset.
fn timestamp(ld: &mut Loader<'_>, label: &str, key: &str, value: &Value<'_>) -> Option<Timestamp> {
    let parsed = match value.get_ref() {
        toml::de::DeValue::Integer(int) => i64::from_str_radix(int.as_str(), int.radix())
            .map_err(|_| "is out of range".to_string())
            .and_then(from_unix_seconds),
        toml::de::DeValue::String(text) => parse_rfc3339(text),
        toml::de::DeValue::Datetime(datetime) => parse_rfc3339(&datetime.to_string()),
        other => Err(format!(
            "must be unix seconds or an RFC 3339 time, not {}",
            other.type_str()
        )),
    };
    parsed
        .map_err(|why| ld.error(&value.span(), format!("\"{key}\" in {label} {why}")))
        .ok()
}

fn from_unix_seconds(secs: i64) -> Result<Timestamp, String> {
    // Milliseconds are the usual slip when copying from a JSON payload or a browser console.
    if secs > 100_000_000_000 {
        return Err(format!(
            "is {secs}, which looks like milliseconds; TikTok's expiries are unix seconds"
        ));
    }
    if secs <= 0 {
        return Err(format!("is {secs}; write unix seconds, e.g. 1767225600"));
    }
    chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| "is out of range".to_string())
}

fn parse_rfc3339(text: &str) -> Result<Timestamp, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| {
            format!(
                "{text:?} is not an RFC 3339 time with offset ({e}), e.g. \"2026-01-01T00:00:00Z\""
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_and_rfc3339_agree() {
        let a = from_unix_seconds(1_767_225_600).unwrap();
        let b = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let c = parse_rfc3339("2026-01-01 01:00:00+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
    }

    #[test]
    fn milliseconds_and_local_times_are_refused() {
        let err = from_unix_seconds(1_767_225_600_000).unwrap_err();
        assert!(err.contains("milliseconds"), "{err}");
        assert!(from_unix_seconds(0).is_err());
        assert!(parse_rfc3339("2026-01-01T00:00:00").is_err());
        assert!(parse_rfc3339("next tuesday").is_err());
    }
}
