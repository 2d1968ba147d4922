//! One REST round trip to a Magento 2 store: build the route under `/rest/{store_code}/V1/`,
//! authenticate with the Integration's token as a Bearer token, send JSON with
//! `Content-Type: application/json` whenever there is a body (Magento answers 400 `Content-Type
//! header is empty.` otherwise; a bodiless POST such as cancel sends none), classify the answer.
//! Also builds `searchCriteria` query strings, spelt as the contract spells them.
//!
//! Invariants: the token leaves this module only inside the sensitive `Authorization` header;
//! no URL with a query is logged.

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::Value;

use super::classify::{self, Call};
use super::config::{ConfigError, Magento2Config};
use crate::domain::platform::Platform;
use crate::platforms::error::PlatformError;
use crate::platforms::http::{self, RawResponse};

/// A classified successful answer: its JSON, and the raw response.
#[derive(Debug)]
pub struct Answer {
    pub body: Value,
    pub raw: RawResponse,
}

pub struct Transport {
    http: reqwest::Client,
    /// `{site}/rest/{store_code}/V1/`.
    root: reqwest::Url,
    bearer: HeaderValue,
    /// orderdeck's name for the store, for errors.
    store: String,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("root", &self.root.as_str())
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(http: reqwest::Client, config: &Magento2Config) -> Result<Self, ConfigError> {
        let root = config.api_root()?;
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", config.access_token.trim()))
            .map_err(|_| ConfigError::NotHeaderSafe)?;
        bearer.set_sensitive(true);
        Ok(Transport {
            http,
            root,
            bearer,
            store: config.store.clone(),
        })
    }

    pub fn store(&self) -> &str {
        &self.store
    }

    /// Calls `route` (below `/V1/`, e.g. `orders/12`) with `query` and an optional JSON body.
    pub async fn call(
        &self,
        call: Call,
        method: Method,
        route: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Answer, PlatformError> {
        let request = self.build(call, method, route, query, body)?;
        let raw = http::send(
            &self.http,
            request,
            Platform::Magento2,
            call.operation,
            call.effect,
        )
        .await?;
        let body = classify::classify(&raw, call, &self.store)?;
        Ok(Answer { body, raw })
    }

    fn build(
        &self,
        call: Call,
        method: Method,
        route: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<reqwest::Request, PlatformError> {
        let url = call.url(&self.root, route, query)?;
        let builder = self
            .http
            .request(method, url)
            .header(AUTHORIZATION, self.bearer.clone());
        call.request(builder, body)
    }
}

/// One filter: `field`, `value`, `condition_type`.
pub type Filter<'a> = (&'a str, String, &'a str);

/// A `searchCriteria`: groups AND-ed, the filters of a group OR-ed (magento2.md).
#[derive(Debug, Clone, Default)]
pub struct Search<'a> {
    pub groups: Vec<Vec<Filter<'a>>>,
    pub sort: Option<(&'a str, &'a str)>,
    pub page_size: u32,
    pub page: u32,
}

impl<'a> Search<'a> {
    pub fn new(page_size: u32) -> Self {
        Search {
            groups: Vec::new(),
            sort: None,
            page_size,
            page: 1,
        }
    }

    /// Adds a group of one filter.
    pub fn and(mut self, field: &'a str, value: impl Into<String>, condition: &'a str) -> Self {
        self.groups.push(vec![(field, value.into(), condition)]);
        self
    }

    pub fn sorted(mut self, field: &'a str, direction: &'a str) -> Self {
        self.sort = Some((field, direction));
        self
    }

    pub fn page(mut self, page: u32) -> Self {
        self.page = page.max(1);
        self
    }

    /// The query pairs, in the contract's spelling (`filterGroups`, `conditionType`…).
    pub fn query(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            for (f, (field, value, condition)) in group.iter().enumerate() {
                let key =
                    |part: &str| format!("searchCriteria[filterGroups][{g}][filters][{f}][{part}]");
                out.push((key("field"), (*field).to_string()));
                out.push((key("value"), value.clone()));
                out.push((key("conditionType"), (*condition).to_string()));
            }
        }
        if let Some((field, direction)) = self.sort {
            out.push(("searchCriteria[sortOrders][0][field]".into(), field.into()));
            out.push((
                "searchCriteria[sortOrders][0][direction]".into(),
                direction.into(),
            ));
        }
        out.push((
            "searchCriteria[pageSize]".into(),
            self.page_size.to_string(),
        ));
        out.push(("searchCriteria[currentPage]".into(), self.page.to_string()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::CONTENT_TYPE;

    #[test]
    fn bearer_token_and_store_code_path() {
        crate::platforms::http::install_crypto_provider();
        let config = Magento2Config::new("m1", "https://shop.example.com", "tok123");
        let t = Transport::new(reqwest::Client::new(), &config).unwrap();
        let call = Call::read(Platform::Magento2, "search_orders");
        let query = Search::new(50)
            .and("ext_order_id", "5764", "eq")
            .sorted("updated_at", "ASC")
            .query();
        let request = t.build(call, Method::GET, "orders", &query, None).unwrap();
        assert!(
            request
                .url()
                .as_str()
                .starts_with("https://shop.example.com/rest/default/V1/orders?searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=ext_order_id"),
            "{}",
            request.url()
        );
        let auth = request.headers().get(AUTHORIZATION).unwrap();
        assert!(auth.is_sensitive());
        assert_eq!(auth.to_str().unwrap(), "Bearer tok123");
        assert!(request.headers().get(CONTENT_TYPE).is_none());
        let pairs: Vec<(String, String)> = request.url().query_pairs().into_owned().collect();
        assert!(pairs.contains(&("searchCriteria[pageSize]".into(), "50".into())));
        assert!(pairs.contains(&(
            "searchCriteria[sortOrders][0][direction]".into(),
            "ASC".into()
        )));
    }
}
