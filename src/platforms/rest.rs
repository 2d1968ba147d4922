//! What the REST store clients (WooCommerce, Magento 2, BigCommerce, Amazon MCF) share about one
//! call: the platform, the operation every error of it names, whether it writes — and how its
//! errors are built, with the request id the platform's answers carry, so that staff can quote
//! it to the platform's support — and how a request is put together below the store's root:
//! the route, the query, a JSON body. Each client adds its own authentication, and its
//! `classify` decides an answer's class. Their configs share how the API root is checked and
//! how a secret is shown.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::{ErrorClass, PlatformError};
use super::http::{CallKind, RawResponse};
use crate::domain::platform::Platform;

/// One REST call, as building and classifying its answer need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub platform: Platform,
    /// What the call does (`list_orders`, `createFulfillmentOrder`…): the `operation` of every
    /// error, and Amazon's rate-limit bucket.
    pub operation: &'static str,
    pub effect: CallKind,
}

impl Call {
    pub const fn read(platform: Platform, operation: &'static str) -> Call {
        Call {
            platform,
            operation,
            effect: CallKind::Read,
        }
    }

    pub const fn write(platform: Platform, operation: &'static str) -> Call {
        Call {
            platform,
            operation,
            effect: CallKind::Write,
        }
    }

    /// An error about `raw`, the platform's answer, with its request id and HTTP status.
    pub fn error(
        &self,
        class: ErrorClass,
        message: impl AsRef<str>,
        raw: &RawResponse,
    ) -> PlatformError {
        PlatformError::new(self.platform, self.operation, class, message)
            .with_request_id(raw.header(request_id_header(self.platform)))
            .with_status(raw.status)
    }

    /// A refusal decided before anything was sent (a route or body that cannot be built).
    pub fn refuse(&self, message: impl AsRef<str>) -> PlatformError {
        PlatformError::new(
            self.platform,
            self.operation,
            ErrorClass::Permanent,
            message,
        )
    }

    /// An answer that parsed but lacks what was asked for: for a write, whether it ran is
    /// unknown (read back before trying again); a read is retried.
    pub fn unreadable(&self, raw: &RawResponse, what: &str) -> PlatformError {
        self.error(self.effect.unknown_outcome(None), what, raw)
    }

    /// `route` below `root` (which ends in `/`), refused naming the route when it cannot be one.
    pub fn route(&self, root: &reqwest::Url, route: &str) -> Result<reqwest::Url, PlatformError> {
        root.join(route)
            .map_err(|e| self.refuse(format!("could not build the route {route}: {e}")))
    }

    /// `route` below `root` with `query` appended.
    pub fn url<K: AsRef<str>, V: AsRef<str>>(
        &self,
        root: &reqwest::Url,
        route: &str,
        query: &[(K, V)],
    ) -> Result<reqwest::Url, PlatformError> {
        let mut url = self.route(root, route)?;
        append_query(&mut url, query);
        Ok(url)
    }

    /// The request, with `body` as JSON when there is one.
    pub fn request(
        &self,
        builder: reqwest::RequestBuilder,
        body: Option<&Value>,
    ) -> Result<reqwest::Request, PlatformError> {
        let builder = match body {
            Some(body) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string()),
            None => builder,
        };
        builder
            .build()
            .map_err(|e| self.refuse(format!("could not build the request: {e}")))
    }
}

/// Appends `query` to `url` (leaving a URL without parameters without a bare `?`).
pub fn append_query<K: AsRef<str>, V: AsRef<str>>(url: &mut reqwest::Url, query: &[(K, V)]) {
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
    }
}

/// `{base}/{below}` (`below` empty or ending in `/`), the root every route of a store joins:
/// an http(s) URL with a host and no query or fragment, so nothing can be smuggled into the
/// routes built on it. Otherwise the base as written, sanitized, for the config error.
pub fn api_root(base: &str, below: &str) -> Result<reqwest::Url, String> {
    let base = base.trim().trim_end_matches('/');
    let bad = || crate::domain::text::sanitize(base);
    let url = reqwest::Url::parse(&format!("{base}/{below}")).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
        || url.host_str().is_none()
    {
        return Err(bad());
    }
    Ok(url)
}

/// First 8 hex digits of SHA-256(secret): enough to tell secrets apart in `Debug` output and
/// errors, useless to an attacker.
pub fn fingerprint(secret: &str) -> String {
    hex::encode(&Sha256::digest(secret.as_bytes())[..4])
}

/// The header a platform's answers name the request in.
fn request_id_header(platform: Platform) -> &'static str {
    match platform {
        Platform::AmazonMcf => "x-amzn-requestid",
        _ => "x-request-id",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn answer(status: u16, header: &str) -> RawResponse {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::HeaderName::from_bytes(header.as_bytes()).unwrap(),
            "req-7".parse().unwrap(),
        );
        RawResponse {
            status,
            headers,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn errors_carry_the_platforms_request_id_and_status() {
        let create = Call::write(Platform::AmazonMcf, "createFulfillmentOrder");
        let err = create.error(
            ErrorClass::Permanent,
            "refused",
            &answer(400, "x-amzn-RequestId"),
        );
        assert_eq!(
            (err.request_id.as_deref(), err.http_status),
            (Some("req-7"), Some(400))
        );
        let list = Call::read(Platform::Bigcommerce, "list_orders");
        let err = list.error(
            ErrorClass::Permanent,
            "refused",
            &answer(404, "X-Request-Id"),
        );
        assert_eq!(err.request_id.as_deref(), Some("req-7"));
        assert_eq!(err.operation, "list_orders");
    }

    #[test]
    fn an_api_root_is_http_with_a_host_and_nothing_after_the_path() {
        assert_eq!(
            api_root(" https://shop.example.com/ ", "rest/default/V1/")
                .unwrap()
                .as_str(),
            "https://shop.example.com/rest/default/V1/"
        );
        assert_eq!(
            api_root("http://127.0.0.1:9/site", "").unwrap().as_str(),
            "http://127.0.0.1:9/site/"
        );
        for bad in [
            "ftp://shop.example.com",
            "https://shop.example.com/?a=1",
            "shop",
            "https://x/#f",
        ] {
            assert!(api_root(bad, "wp-json/").is_err(), "{bad}");
        }
        assert_eq!(fingerprint("tok").len(), 8);
        assert_ne!(fingerprint("tok"), fingerprint("tok2"));
    }

    #[test]
    fn an_unreadable_write_is_ambiguous_and_an_unreadable_read_is_retried() {
        let raw = answer(200, "x-request-id");
        let write = Call::write(Platform::Woocommerce, "create_order");
        assert_eq!(write.unreadable(&raw, "no id").class, ErrorClass::Ambiguous);
        let read = Call::read(Platform::Magento2, "search_orders");
        assert_eq!(
            read.unreadable(&raw, "no items").class,
            ErrorClass::RetryLater { after: None }
        );
        assert_eq!(read.refuse("bad route").class, ErrorClass::Permanent);
    }
}
