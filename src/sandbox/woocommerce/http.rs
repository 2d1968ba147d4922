//! The HTTP face of the simulated sites: `ANY /{site}/wp-json/{route}` on one loopback port
//! (each site's path prefix stands for its own host). Served over plain HTTP, so requests
//! authenticate as WooCommerce requires there: OAuth 1.0a one-legged, signature in the query
//! string (HTTP Basic is ignored on http, as `class-wc-rest-authentication.php` does).
//!
//! Order of checks, as WordPress answers them: unknown route → 404 `rest_no_route`;
//! authentication (401s worded like WooCommerce's); then the contract: query parameters
//! coerced and checked, the JSON body read only with `Content-Type: application/json` and
//! checked against its request schema (400 `rest_invalid_param`); then faults, then the work.

use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::Sha256;

use super::ops::{self, Answer, error};
use super::state::WooStore;
use super::{contract, hooks};
use crate::sandbox::faults::{FaultKind, Faults};
use crate::sandbox::serve::ConnectionKiller;

pub struct Shared {
    pub stores: Mutex<Vec<WooStore>>,
    pub faults: Faults,
    pub base_url: Mutex<String>,
}

impl Shared {
    pub fn stores(&self) -> std::sync::MutexGuard<'_, Vec<WooStore>> {
        self.stores.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a request asks for, by the name faults and call counts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    ListProducts,
    ListOrders,
    CreateOrder,
    GetOrder(u64),
    UpdateOrder(u64),
    ListNotes(u64),
    CreateNote(u64),
    ListTrackings(u64),
    CreateTracking(u64),
    ListWebhooks,
    CreateWebhook,
    GetWebhook(u64),
    DeleteWebhook(u64),
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ListProducts => "products.list",
            Endpoint::ListOrders => "orders.list",
            Endpoint::CreateOrder => "orders.create",
            Endpoint::GetOrder(_) => "orders.get",
            Endpoint::UpdateOrder(_) => "orders.update",
            Endpoint::ListNotes(_) => "notes.list",
            Endpoint::CreateNote(_) => "notes.create",
            Endpoint::ListTrackings(_) => "trackings.list",
            Endpoint::CreateTracking(_) => "trackings.create",
            Endpoint::ListWebhooks => "webhooks.list",
            Endpoint::CreateWebhook => "webhooks.create",
            Endpoint::GetWebhook(_) => "webhooks.get",
            Endpoint::DeleteWebhook(_) => "webhooks.delete",
        }
    }

    fn writes(self) -> bool {
        matches!(
            self,
            Endpoint::CreateOrder
                | Endpoint::UpdateOrder(_)
                | Endpoint::CreateNote(_)
                | Endpoint::CreateTracking(_)
                | Endpoint::CreateWebhook
                | Endpoint::DeleteWebhook(_)
        )
    }

    /// The contract's schema for the body, when the request has one.
    fn body_schema(self) -> Option<&'static str> {
        match self {
            Endpoint::CreateOrder => Some("order_create"),
            Endpoint::UpdateOrder(_) => Some("order_update"),
            Endpoint::CreateNote(_) => Some("order_note_create"),
            Endpoint::CreateTracking(_) => Some("shipment_tracking_create"),
            Endpoint::CreateWebhook => Some("webhook_create"),
            _ => None,
        }
    }

    /// The 401 an unauthenticated request gets: the endpoint's own permission check.
    fn permission_error(self) -> (&'static str, &'static str) {
        match self {
            Endpoint::ListProducts
            | Endpoint::ListOrders
            | Endpoint::ListNotes(_)
            | Endpoint::ListTrackings(_)
            | Endpoint::ListWebhooks => (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            ),
            Endpoint::GetOrder(_) | Endpoint::GetWebhook(_) => (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot view this resource.",
            ),
            Endpoint::CreateOrder
            | Endpoint::CreateNote(_)
            | Endpoint::CreateTracking(_)
            | Endpoint::CreateWebhook => (
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            ),
            Endpoint::UpdateOrder(_) => (
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            ),
            Endpoint::DeleteWebhook(_) => (
                "woocommerce_rest_cannot_delete",
                "Sorry, you are not allowed to delete this resource.",
            ),
        }
    }
}

fn route(method: &Method, route: &str) -> Option<Endpoint> {
    let parts: Vec<&str> = route.trim_matches('/').split('/').collect();
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let edit = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    let id = |s: &str| s.parse::<u64>().ok();
    match parts.as_slice() {
        ["wc", "v3", "products"] if get => Some(Endpoint::ListProducts),
        ["wc", "v3", "orders"] if get => Some(Endpoint::ListOrders),
        ["wc", "v3", "orders"] if post => Some(Endpoint::CreateOrder),
        ["wc", "v3", "orders", n] if get => id(n).map(Endpoint::GetOrder),
        ["wc", "v3", "orders", n] if edit => id(n).map(Endpoint::UpdateOrder),
        ["wc", "v3", "orders", n, "notes"] if get => id(n).map(Endpoint::ListNotes),
        ["wc", "v3", "orders", n, "notes"] if post => id(n).map(Endpoint::CreateNote),
        ["wc", "v3", "webhooks"] if get => Some(Endpoint::ListWebhooks),
        ["wc", "v3", "webhooks"] if post => Some(Endpoint::CreateWebhook),
        ["wc", "v3", "webhooks", n] if get => id(n).map(Endpoint::GetWebhook),
        ["wc", "v3", "webhooks", n] if *method == Method::DELETE => {
            id(n).map(Endpoint::DeleteWebhook)
        }
        [ns, v, "orders", n, "shipment-trackings"]
            if matches!(
                (*ns, *v),
                ("wc-shipment-tracking", "v3") | ("wc", "v1" | "v2" | "v3")
            ) =>
        {
            match () {
                () if get => id(n).map(Endpoint::ListTrackings),
                () if post => id(n).map(Endpoint::CreateTracking),
                () => None,
            }
        }
        _ => None,
    }
}

fn reply((status, body, headers): Answer) -> Response {
    let mut response = (
        status,
        [("content-type", "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response();
    for (name, value) in headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn html(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "text/html; charset=UTF-8")],
        format!("<!DOCTYPE html><html><body>{text}</body></html>"),
    )
        .into_response()
}

/// `GET /{site}/wp-json/`: the index, without authentication.
pub async fn index(State(shared): State<Arc<Shared>>, Path(site): Path<String>) -> Response {
    if !shared.stores().iter().any(|s| s.slug == site) {
        return reply(error(
            StatusCode::NOT_FOUND,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        ));
    }
    reply((
        StatusCode::OK,
        json!({ "name": site, "namespaces": ["wp/v2", "wc/v3", "wc-shipment-tracking/v3"] }),
        Vec::new(),
    ))
}

#[allow(clippy::too_many_arguments)]
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((site, rest)): Path<(String, String)>,
    Extension(killer): Extension<ConnectionKiller>,
    method: Method,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    // `_method=PUT` (or the override header) on a POST.
    let method = match query
        .iter()
        .find(|(k, _)| k == "_method")
        .map(|(_, v)| v.to_uppercase())
        .or_else(|| {
            headers
                .get("x-http-method-override")
                .and_then(|v| v.to_str().ok())
                .map(str::to_uppercase)
        }) {
        Some(m) if method == Method::POST => m.parse().unwrap_or(method),
        _ => method,
    };
    let no_route = || {
        reply(error(
            StatusCode::NOT_FOUND,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        ))
    };
    let Some(endpoint) = route(&method, &rest) else {
        return no_route();
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let site_url = format!("http://{host}/{site}");
    let prepared = {
        let mut stores = shared.stores();
        let Some(store) = stores.iter_mut().find(|s| s.slug == site) else {
            return no_route();
        };
        if let Err(refused) = authenticate(
            store,
            endpoint,
            &method,
            &format!("{site_url}/wp-json/{rest}"),
            &query,
        ) {
            return reply(refused);
        }
        *store.calls.entry(endpoint.name().to_string()).or_default() += 1;
        match checked_input(endpoint, &headers, &body, &query) {
            Ok(input) => input,
            Err(refused) => {
                store
                    .refused
                    .push(format!("{}: {}", endpoint.name(), refused.1));
                return reply(refused);
            }
        }
    };
    let fault = shared.faults.take(endpoint.name());
    match fault {
        Some(FaultKind::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Timeout) => std::future::pending::<()>().await,
        Some(FaultKind::ServerError) => {
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<p>There has been a critical error on this website.</p>",
            );
        }
        Some(FaultKind::RateLimited) => {
            let mut response = html(
                StatusCode::TOO_MANY_REQUESTS,
                "<h1>429 Too Many Requests</h1>",
            );
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            return response;
        }
        _ => {}
    }
    let answer = {
        let mut stores = shared.stores();
        let Some(store) = stores.iter_mut().find(|s| s.slug == site) else {
            return no_route();
        };
        execute(store, endpoint, &prepared, &query, &site_url)
    };
    match fault {
        Some(FaultKind::DropAfterWrite) => killer.kill().await,
        Some(FaultKind::MalformedJson) => {
            let text = answer.1.to_string();
            let cut: String = text.chars().take(text.chars().count() / 2).collect();
            (
                answer.0,
                [("content-type", "application/json; charset=UTF-8")],
                cut,
            )
                .into_response()
        }
        _ => reply(answer),
    }
}

/// The request's input as the work needs it: coerced query parameters and the body.
struct Input {
    query: Value,
    body: Value,
}

fn checked_input(
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: &[u8],
    query: &[(String, String)],
) -> Result<Input, Answer> {
    let invalid = |invalid: contract::Invalid| {
        let (status, mut body, headers) = error(
            StatusCode::BAD_REQUEST,
            "rest_invalid_param",
            &format!("Invalid parameter(s): {}", invalid.param),
        );
        body["data"]["params"] = json!({ invalid.param.clone(): invalid.message });
        body["data"]["details"] = json!({});
        (status, body, headers)
    };
    let query = match endpoint {
        Endpoint::ListOrders => {
            contract::coerce_query("orders_collection_params", query).map_err(invalid)?
        }
        Endpoint::ListProducts => {
            contract::coerce_query("products_collection_params", query).map_err(invalid)?
        }
        _ => json!({}),
    };
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    let body = match endpoint.body_schema() {
        // WordPress reads the body only as JSON; anything else is as if nothing were sent.
        Some(_) if !json_body || body.is_empty() => json!({}),
        Some(_) => serde_json::from_slice(body).map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "rest_invalid_json",
                "Invalid JSON body passed.",
            )
        })?,
        None => json!({}),
    };
    if let Some(schema) = endpoint.body_schema() {
        if !body.is_object() {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "rest_invalid_json",
                "Invalid JSON body passed.",
            ));
        }
        if schema == "order_note_create" && body.get("note").is_none() {
            let (status, mut refused, headers) = error(
                StatusCode::BAD_REQUEST,
                "rest_missing_callback_param",
                "Missing parameter(s): note",
            );
            refused["data"]["params"] = json!(["note"]);
            return Err((status, refused, headers));
        }
        contract::check(schema, &body).map_err(invalid)?;
    }
    Ok(Input { query, body })
}

fn execute(
    store: &mut WooStore,
    endpoint: Endpoint,
    input: &Input,
    raw_query: &[(String, String)],
    site: &str,
) -> Answer {
    let now = chrono::Utc::now();
    let (q, body) = (&input.query, &input.body);
    match endpoint {
        Endpoint::ListProducts => {
            ops::list_products(store, q, &format!("{site}/wp-json/wc/v3/products"))
        }
        Endpoint::ListOrders => {
            ops::list_orders(store, q, site, &format!("{site}/wp-json/wc/v3/orders"))
        }
        Endpoint::CreateOrder => ops::create_order(store, body, site, now),
        Endpoint::GetOrder(id) => ops::get_order(store, id, site),
        Endpoint::UpdateOrder(id) => ops::update_order(store, id, body, site, now),
        Endpoint::ListNotes(id) => ops::list_notes(store, id, raw_query),
        Endpoint::CreateNote(id) => ops::create_note(store, id, body, now),
        Endpoint::ListTrackings(id) => ops::list_trackings(store, id, site),
        Endpoint::CreateTracking(id) => ops::create_tracking(store, id, body, site, now),
        Endpoint::ListWebhooks => hooks::list_webhooks(store),
        Endpoint::CreateWebhook => hooks::create_webhook(store, body, now),
        Endpoint::GetWebhook(id) => hooks::get_webhook(store, id),
        Endpoint::DeleteWebhook(id) => hooks::delete_webhook(store, id, raw_query),
    }
}

/// PHP's `rawurlencode`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `WC_REST_Authentication` over plain http: OAuth 1.0a, HMAC-SHA1 or HMAC-SHA256.
fn authenticate(
    store: &mut WooStore,
    endpoint: Endpoint,
    method: &Method,
    url: &str,
    query: &[(String, String)],
) -> Result<(), Answer> {
    let param = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let auth_error = |message: &str| {
        error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            message,
        )
    };
    let (code, message) = endpoint.permission_error();
    let oauth_keys = [
        "oauth_consumer_key",
        "oauth_timestamp",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
    ];
    if oauth_keys.iter().all(|k| param(k).is_none()) {
        // No authentication at all: an anonymous visitor meets the endpoint's permission check.
        return Err(error(StatusCode::UNAUTHORIZED, code, message));
    }
    if let Some(missing) = oauth_keys.iter().find(|k| param(k).is_none()) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_missing_parameter",
            &format!("Missing OAuth parameter {missing}"),
        ));
    }
    if param("oauth_consumer_key") != Some(store.consumer_key.as_str()) || !store.key_valid {
        return Err(auth_error("Consumer key is invalid."));
    }
    let algorithm = param("oauth_signature_method").unwrap_or_default();
    if !matches!(algorithm, "HMAC-SHA1" | "HMAC-SHA256") {
        return Err(auth_error(
            "Invalid signature - signature method is invalid.",
        ));
    }
    if algorithm != "HMAC-SHA256" {
        // The sandbox carries no SHA-1; orderdeck signs with SHA-256.
        return Err(auth_error(
            "Invalid signature - signature method is invalid.",
        ));
    }
    let encode = |s: &str| utf8_percent_encode(s, RFC3986).to_string();
    let mut params: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    params.sort();
    let joined: Vec<String> = params
        .iter()
        .map(|(k, v)| encode(&format!("{k}={v}")))
        .collect();
    let base = format!("{}&{}&{}", method.as_str(), encode(url), joined.join("%26"));
    let mut mac = Hmac::<Sha256>::new_from_slice(format!("{}&", store.consumer_secret).as_bytes())
        .expect("any key");
    mac.update(base.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if param("oauth_signature") != Some(expected.as_str()) {
        return Err(auth_error(
            "Invalid signature - provided signature does not match.",
        ));
    }
    let timestamp: i64 = param("oauth_timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 15 * 60 {
        return Err(auth_error("Invalid timestamp."));
    }
    let nonce = format!("{timestamp}:{}", param("oauth_nonce").unwrap_or_default());
    if store.nonces.contains(&nonce) {
        return Err(auth_error("Invalid nonce - nonce has already been used."));
    }
    store.nonces.push(nonce);
    if store.nonces.len() > 10_000 {
        store.nonces.drain(..5_000);
    }
    if endpoint.writes() && store.read_only {
        return Err(auth_error(
            "The API key provided does not have write permissions.",
        ));
    }
    Ok(())
}
