//! The HTTP face of the simulated stores: `ANY /stores/{hash}/{v2|v3}/…` on one loopback port,
//! one store per hash, as on `api.bigcommerce.com`: V2 orders, V3 catalog variants and hooks.
//!
//! Order of checks, as BigCommerce answers them: unknown route → 404; `X-Auth-Token` (401;
//! a write without the Orders modify scope → 403); the store's quota (429 with the
//! `X-Rate-Limit-*` headers, which every answer carries); `Accept` (406) and `Content-Type`
//! with a body (415); then the contract: query parameters coerced and checked, the body checked
//! against its request schema (400); then faults, then the work.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ops::{self, Answer, v2_error, v3_error};
use super::state::BcStore;
use super::{contract, hooks};
use crate::sandbox::faults::{FaultKind, Faults};
use crate::sandbox::serve::ConnectionKiller;

pub struct Shared {
    pub stores: Mutex<Vec<BcStore>>,
    pub faults: Faults,
    /// How long a `RateLimited` fault closes the store's quota.
    pub fault_pause: Mutex<Duration>,
}

impl Shared {
    pub fn stores(&self) -> std::sync::MutexGuard<'_, Vec<BcStore>> {
        self.stores.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a request asks for, by the name faults and call counts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    ListVariants,
    ListOrders,
    CreateOrder,
    GetOrder(u64),
    UpdateOrder(u64),
    ListProducts(u64),
    ListShipments(u64),
    ListAddresses(u64),
    UpdateAddress(u64, u64),
    ListHooks,
    CreateHook,
    GetHook(u64),
    DeleteHook(u64),
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::ListVariants => "variants.list",
            Endpoint::ListOrders => "orders.list",
            Endpoint::CreateOrder => "orders.create",
            Endpoint::GetOrder(_) => "orders.get",
            Endpoint::UpdateOrder(_) => "orders.update",
            Endpoint::ListProducts(_) => "products.list",
            Endpoint::ListShipments(_) => "shipments.list",
            Endpoint::ListAddresses(_) => "addresses.list",
            Endpoint::UpdateAddress(..) => "addresses.update",
            Endpoint::ListHooks => "hooks.list",
            Endpoint::CreateHook => "hooks.create",
            Endpoint::GetHook(_) => "hooks.get",
            Endpoint::DeleteHook(_) => "hooks.delete",
        }
    }

    /// Order writes, which need the Orders modify scope (hooks need no scope).
    fn writes(self) -> bool {
        matches!(
            self,
            Endpoint::CreateOrder | Endpoint::UpdateOrder(_) | Endpoint::UpdateAddress(..)
        )
    }

    fn v3(self) -> bool {
        matches!(
            self,
            Endpoint::ListVariants
                | Endpoint::ListHooks
                | Endpoint::CreateHook
                | Endpoint::GetHook(_)
                | Endpoint::DeleteHook(_)
        )
    }

    /// The contract's schema for the body, and the operation whose query it checks.
    fn contract(self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            Endpoint::ListVariants => (None, Some("getVariants")),
            Endpoint::ListOrders => (None, Some("getOrders")),
            Endpoint::CreateOrder => (Some("order_Post"), None),
            Endpoint::UpdateOrder(_) => (Some("order_Put"), None),
            Endpoint::ListProducts(_) => (None, Some("getOrderProducts")),
            Endpoint::ListShipments(_) => (None, Some("getOrderShipments")),
            Endpoint::UpdateAddress(..) => (Some("shippingAddress_Put"), None),
            Endpoint::ListHooks => (None, Some("getWebhooks")),
            Endpoint::CreateHook => (Some("webhook_Base"), None),
            Endpoint::GetOrder(_)
            | Endpoint::ListAddresses(_)
            | Endpoint::GetHook(_)
            | Endpoint::DeleteHook(_) => (None, None),
        }
    }

    /// A body the contract refuses: V3 hooks answer 422 naming the fields, the rest 400.
    fn refused_body(self, message: &str) -> Answer {
        match self {
            Endpoint::CreateHook => {
                let (status, body) = v3_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "JSON data is missing or invalid",
                );
                let mut body = body.unwrap_or_default();
                body["errors"] = json!({ "body": message });
                (status, Some(body))
            }
            _ => self.error(StatusCode::BAD_REQUEST, message),
        }
    }

    fn error(self, status: StatusCode, message: &str) -> Answer {
        if self.v3() {
            v3_error(status, message)
        } else {
            v2_error(status, message)
        }
    }
}

fn route(method: &Method, rest: &str) -> Option<Endpoint> {
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let (get, post, put, delete) = (
        *method == Method::GET,
        *method == Method::POST,
        *method == Method::PUT,
        *method == Method::DELETE,
    );
    let id = |s: &str| s.parse::<u64>().ok();
    match parts.as_slice() {
        ["v3", "catalog", "variants"] if get => Some(Endpoint::ListVariants),
        ["v3", "hooks"] if get => Some(Endpoint::ListHooks),
        ["v3", "hooks"] if post => Some(Endpoint::CreateHook),
        ["v3", "hooks", n] if get => id(n).map(Endpoint::GetHook),
        ["v3", "hooks", n] if delete => id(n).map(Endpoint::DeleteHook),
        ["v2", "orders"] if get => Some(Endpoint::ListOrders),
        ["v2", "orders"] if post => Some(Endpoint::CreateOrder),
        ["v2", "orders", n] if get => id(n).map(Endpoint::GetOrder),
        ["v2", "orders", n] if put => id(n).map(Endpoint::UpdateOrder),
        ["v2", "orders", n, "products"] if get => id(n).map(Endpoint::ListProducts),
        ["v2", "orders", n, "shipments"] if get => id(n).map(Endpoint::ListShipments),
        ["v2", "orders", n, "shipping_addresses"] if get => id(n).map(Endpoint::ListAddresses),
        ["v2", "orders", n, "shipping_addresses", a] if put => {
            Some(Endpoint::UpdateAddress(id(n)?, id(a)?))
        }
        _ => None,
    }
}

/// The `X-Rate-Limit-*` headers: where the store's quota stands.
type Limits = [(&'static str, String); 4];

fn reply((status, body): Answer, limits: Option<&Limits>) -> Response {
    let mut response = match body {
        Some(body) => (
            status,
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response(),
        None => status.into_response(),
    };
    for (name, value) in limits.into_iter().flatten() {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

/// Counts one request against the store's window: whether it may go (not when the quota is
/// spent or a 429 fault paused it), with the headers either way.
fn take_quota(store: &mut BcStore, now: Instant) -> (bool, Limits) {
    let rate = &mut store.rate;
    if rate.started.is_none_or(|s| now >= s + rate.window) {
        rate.started = Some(now);
        rate.first_started.get_or_insert(now);
        rate.used = 0;
    }
    let window_end = rate.started.map_or(now, |s| s + rate.window);
    let paused = rate.paused_until.filter(|p| now < *p);
    let allowed = paused.is_none() && rate.used < rate.quota;
    if allowed {
        rate.used += 1;
        rate.served += 1;
    }
    // A fault's pause is its own; otherwise the quota comes back when the window ends.
    let reset = paused.unwrap_or(window_end) - now;
    let limits = [
        (
            "x-rate-limit-time-window-ms",
            rate.window.as_millis().to_string(),
        ),
        ("x-rate-limit-time-reset-ms", reset.as_millis().to_string()),
        ("x-rate-limit-requests-quota", rate.quota.to_string()),
        (
            "x-rate-limit-requests-left",
            if paused.is_some() {
                0
            } else {
                rate.quota - rate.used
            }
            .to_string(),
        ),
    ];
    (allowed, limits)
}

#[allow(clippy::too_many_arguments)]
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((hash, rest)): Path<(String, String)>,
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
    let not_found = || {
        reply(
            v2_error(
                StatusCode::NOT_FOUND,
                "The requested resource was not found.",
            ),
            None,
        )
    };
    let Some(endpoint) = route(&method, &rest) else {
        return not_found();
    };
    let base = format!(
        "http://{}/stores/{hash}",
        headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
    );
    let (limits, input) = {
        let mut stores = shared.stores();
        let Some(store) = stores.iter_mut().find(|s| s.hash == hash) else {
            return not_found();
        };
        let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok());
        if token != Some(store.token.as_str()) || !store.token_valid {
            return reply(
                v3_error(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store.",
                ),
                None,
            );
        }
        let limits = match take_quota(store, Instant::now()) {
            (true, limits) => limits,
            (false, limits) => {
                store.throttled += 1;
                return reply(
                    endpoint.error(StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
                    Some(&limits),
                );
            }
        };
        *store.calls.entry(endpoint.name().to_string()).or_default() += 1;
        if endpoint.writes() && store.read_only {
            return reply(
                endpoint.error(
                    StatusCode::FORBIDDEN,
                    "You don't have a required scope to access the endpoint",
                ),
                Some(&limits),
            );
        }
        match checked_input(endpoint, &headers, &body, &query) {
            Ok((input, unknown)) => {
                for key in unknown {
                    store.refused.push(format!("{}: query parameter {key:?} is not in the contract (BigCommerce ignores it)", endpoint.name()));
                }
                (limits, input)
            }
            Err(refused) => {
                let why = refused.1.as_ref().map_or(String::new(), Value::to_string);
                store.refused.push(format!("{}: {why}", endpoint.name()));
                return reply(refused, Some(&limits));
            }
        }
    };
    let fault = shared.faults.take(endpoint.name());
    match fault {
        Some(FaultKind::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Timeout) => std::future::pending::<()>().await,
        Some(FaultKind::ServerError) => {
            return reply((StatusCode::INTERNAL_SERVER_ERROR, None), Some(&limits));
        }
        Some(FaultKind::RateLimited) => {
            let pause = *shared.fault_pause.lock().unwrap_or_else(|e| e.into_inner());
            let mut stores = shared.stores();
            let Some(store) = stores.iter_mut().find(|s| s.hash == hash) else {
                return not_found();
            };
            store.rate.paused_until = Some(Instant::now() + pause);
            store.throttled += 1;
            let (_, limits) = take_quota(store, Instant::now());
            return reply(
                endpoint.error(StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
                Some(&limits),
            );
        }
        _ => {}
    }
    let answer = {
        let mut stores = shared.stores();
        let Some(store) = stores.iter_mut().find(|s| s.hash == hash) else {
            return not_found();
        };
        execute(store, endpoint, &input, &base)
    };
    match fault {
        Some(FaultKind::DropAfterWrite) => killer.kill().await,
        Some(FaultKind::MalformedJson) => {
            let text = answer.1.map(|b| b.to_string()).unwrap_or_default();
            let cut: String = text.chars().take(text.chars().count() / 2).collect();
            let mut response =
                (answer.0, [("content-type", "application/json")], cut).into_response();
            for (name, value) in &limits {
                if let Ok(value) = HeaderValue::from_str(value) {
                    response.headers_mut().insert(*name, value);
                }
            }
            response
        }
        _ => reply(answer, Some(&limits)),
    }
}

/// The request's input: coerced query parameters and the body.
struct Input {
    query: Value,
    body: Value,
}

fn checked_input(
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: &[u8],
    query: &[(String, String)],
) -> Result<(Input, Vec<String>), Answer> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let accept = header("accept").unwrap_or_default();
    if !(accept.contains("application/json") || accept.contains("*/*")) {
        return Err(endpoint.error(
            StatusCode::NOT_ACCEPTABLE,
            "The Accept header must be application/json.",
        ));
    }
    let (body_schema, query_operation) = endpoint.contract();
    let (query, unknown) = match query_operation {
        Some(operation) => contract::coerce_query(operation, query)
            .map_err(|invalid| endpoint.error(StatusCode::BAD_REQUEST, &invalid.message))?,
        None => (json!({}), query.iter().map(|(k, _)| k.clone()).collect()),
    };
    if query
        .get("limit")
        .and_then(Value::as_f64)
        .is_some_and(|l| l > 250.0)
    {
        return Err(endpoint.error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The limit is larger than 250.",
        ));
    }
    let body = match body_schema {
        None => json!({}),
        Some(schema) => {
            if !header("content-type").is_some_and(|c| c.starts_with("application/json")) {
                return Err(endpoint.error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "The Content-Type header must be application/json.",
                ));
            }
            let parsed: Value = serde_json::from_slice(body).map_err(|_| {
                endpoint.error(
                    StatusCode::BAD_REQUEST,
                    "The request body is not valid JSON.",
                )
            })?;
            if !parsed.is_object() {
                return Err(endpoint.error(
                    StatusCode::BAD_REQUEST,
                    "The request body must be a JSON object.",
                ));
            }
            contract::check(schema, &parsed)
                .map_err(|invalid| endpoint.refused_body(&invalid.message))?;
            parsed
        }
    };
    Ok((Input { query, body }, unknown))
}

fn execute(store: &mut BcStore, endpoint: Endpoint, input: &Input, base: &str) -> Answer {
    let now = chrono::Utc::now();
    let (q, body) = (&input.query, &input.body);
    match endpoint {
        Endpoint::ListVariants => ops::list_variants(store, q),
        Endpoint::ListOrders => ops::list_orders(store, q, base),
        Endpoint::CreateOrder => ops::create_order(store, body, base, now),
        Endpoint::GetOrder(id) => ops::get_order(store, id, base),
        Endpoint::UpdateOrder(id) => ops::update_order(store, id, body, base, now),
        Endpoint::ListProducts(id) => ops::list_products(store, id, q),
        Endpoint::ListShipments(id) => ops::list_shipments(store, id, q),
        Endpoint::ListAddresses(id) => ops::list_addresses(store, id),
        Endpoint::UpdateAddress(id, address) => ops::update_address(store, id, address, body, now),
        Endpoint::ListHooks => hooks::list_hooks(store, q),
        Endpoint::CreateHook => hooks::create_hook(store, body, now),
        Endpoint::GetHook(id) => hooks::get_hook(store, id),
        Endpoint::DeleteHook(id) => hooks::delete_hook(store, id),
    }
}
