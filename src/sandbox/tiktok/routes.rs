//! The simulated hosts' routes and the one path every API request takes: record the call,
//! verify it ([`gate`]), rate-limit it, act out an armed fault, run the endpoint, answer in
//! TikTok's envelope `{code, message, request_id, data}` with a fresh `request_id`.
//!
//! Invariants: a fault that "drops after write" applies the endpoint's change first; a timeout
//! or server error applies nothing; the world lock is never held across an `await`.
//!
//! [`gate`]: super::gate

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::gate::{self, ApiError, Query};
use super::world::unix_now;
use super::{Shared, auth, cancellations, events, fulfillment, orders};
use crate::sandbox::faults::FaultKind;
use crate::sandbox::serve::ConnectionKiller;

/// The endpoints, named as in `tiktok-samples.json` (these names arm faults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    GetAuthorizedShops,
    SearchOrders,
    GetOrderDetail,
    GetShippingProviders,
    MarkPackageAsShipped,
    ShipPackage,
    UpdateShippingInfo,
    GetPackageShippingDocument,
    SearchCancellations,
    ApproveCancellation,
    RejectCancellation,
    CancelOrder,
    GetShopWebhooks,
    UpdateShopWebhook,
    DeleteShopWebhook,
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        use Endpoint::*;
        match self {
            GetAuthorizedShops => "get_authorized_shops",
            SearchOrders => "search_orders",
            GetOrderDetail => "get_order_detail",
            GetShippingProviders => "get_shipping_providers",
            MarkPackageAsShipped => "mark_package_as_shipped",
            ShipPackage => "ship_package",
            UpdateShippingInfo => "update_shipping_info",
            GetPackageShippingDocument => "get_package_shipping_document",
            SearchCancellations => "search_cancellations",
            ApproveCancellation => "approve_cancellation",
            RejectCancellation => "reject_cancellation",
            CancelOrder => "cancel_order",
            GetShopWebhooks => "get_shop_webhooks",
            UpdateShopWebhook => "update_shop_webhook",
            DeleteShopWebhook => "delete_shop_webhook",
        }
    }

    pub fn shop_scoped(self) -> bool {
        self != Endpoint::GetAuthorizedShops
    }

    /// The endpoint's own query parameters: (allowed, required).
    pub fn query_params(self) -> (&'static [&'static str], &'static [&'static str]) {
        use Endpoint::*;
        match self {
            SearchOrders => (
                &["page_size", "page_token", "sort_field", "sort_order"],
                &["page_size"],
            ),
            SearchCancellations => (
                &["page_size", "page_token", "sort_field", "sort_order"],
                &[],
            ),
            GetOrderDetail => (&["ids"], &["ids"]),
            GetPackageShippingDocument => (
                &["document_type", "document_size", "document_format"],
                &["document_type"],
            ),
            ApproveCancellation | RejectCancellation => (&["idempotency_key"], &[]),
            _ => (&[], &[]),
        }
    }

    /// Documented request body fields.
    pub fn body_fields(self) -> &'static [&'static str] {
        use Endpoint::*;
        match self {
            SearchOrders => &[
                "order_status",
                "create_time_ge",
                "create_time_lt",
                "update_time_ge",
                "update_time_lt",
                "shipping_type",
                "buyer_user_id",
                "is_buyer_request_cancel",
                "warehouse_ids",
            ],
            MarkPackageAsShipped => &[
                "order_line_item_ids",
                "tracking_number",
                "shipping_provider_id",
            ],
            ShipPackage => &["handover_method", "pickup_slot", "self_shipment"],
            UpdateShippingInfo => &["tracking_number", "shipping_provider_id"],
            SearchCancellations => &[
                "cancel_ids",
                "order_ids",
                "buyer_user_ids",
                "cancel_types",
                "cancel_status",
                "create_time_ge",
                "create_time_lt",
                "update_time_ge",
                "update_time_lt",
                "locale",
            ],
            RejectCancellation => &["reject_reason", "comment", "images"],
            CancelOrder => &["order_id", "skus", "order_line_item_ids", "cancel_reason"],
            UpdateShopWebhook => &["address", "event_type"],
            DeleteShopWebhook => &["event_type"],
            _ => &[],
        }
    }
}

/// A verified request, as endpoint code sees it.
pub struct Request<'a> {
    pub shop: usize,
    pub param: Option<&'a str>,
    pub query: &'a Query,
    pub body: serde_json::Map<String, Value>,
    pub now: i64,
}

pub fn api_router(shared: Arc<Shared>) -> Router {
    use Endpoint::*;
    // Each route carries its endpoint as an extension; one handler serves them all.
    let get_ = |endpoint: Endpoint| get(handle).layer(Extension(endpoint));
    let post_ = |endpoint: Endpoint| post(handle).layer(Extension(endpoint));
    let put_ = |endpoint: Endpoint| put(handle).layer(Extension(endpoint));
    let delete_ = |endpoint: Endpoint| delete(handle).layer(Extension(endpoint));
    Router::new()
        .route("/authorization/202309/shops", get_(GetAuthorizedShops))
        .route("/order/202309/orders/search", post_(SearchOrders))
        .route("/order/202309/orders", get_(GetOrderDetail))
        .route("/order/202507/orders", get_(GetOrderDetail))
        .route(
            "/logistics/202309/delivery_options/{id}/shipping_providers",
            get_(GetShippingProviders),
        )
        .route(
            "/fulfillment/202309/orders/{id}/packages",
            post_(MarkPackageAsShipped),
        )
        .route("/fulfillment/202309/packages/{id}/ship", post_(ShipPackage))
        .route(
            "/fulfillment/202309/orders/{id}/shipping_info/update",
            post_(UpdateShippingInfo),
        )
        .route(
            "/fulfillment/202309/packages/{id}/shipping_documents",
            get_(GetPackageShippingDocument),
        )
        .route(
            "/return_refund/202309/cancellations/search",
            post_(SearchCancellations),
        )
        .route(
            "/return_refund/202309/cancellations/{id}/approve",
            post_(ApproveCancellation),
        )
        .route(
            "/return_refund/202309/cancellations/{id}/reject",
            post_(RejectCancellation),
        )
        .route("/return_refund/202309/cancellations", post_(CancelOrder))
        .route(
            "/event/202309/webhooks",
            get_(GetShopWebhooks)
                .merge(put_(UpdateShopWebhook))
                .merge(delete_(DeleteShopWebhook)),
        )
        .route(
            fulfillment::DOCUMENT_ROUTE,
            get(fulfillment::serve_document),
        )
        .fallback(not_found)
        .with_state(shared)
}

pub fn auth_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v2/token/get", get(auth::get_token))
        .route("/api/v2/token/refresh", get(auth::refresh_token))
        .fallback(not_found)
        .with_state(shared)
}

/// What an unknown path gets from TikTok's front end: a bare 404, no envelope.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain")],
        "404 page not found",
    )
        .into_response()
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    Extension(endpoint): Extension<Endpoint>,
    path_params: RawPathParams,
    State(shared): State<Arc<Shared>>,
    Extension(killer): Extension<ConnectionKiller>,
    uri: Uri,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let param = path_params
        .iter()
        .next()
        .map(|(_, value)| value.to_string());
    let now = unix_now();
    let query = Query::parse(raw_query.as_deref());
    let path = percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .into_owned();
    let arrival = shared.record(endpoint.name(), Some(&body));
    let admitted = {
        let mut world = shared.world();
        gate::verify(&world, endpoint, &path, &query, &headers, &body, now).and_then(|shop| {
            world
                .limiter
                .admit(shop, endpoint.name(), arrival)
                .map(|()| shop)
        })
    };
    let shop = match admitted {
        Ok(shop) => shop,
        Err(refusal) => return shared.answer(endpoint.name(), Err(refusal)),
    };
    let fault = shared.faults.take(endpoint.name());
    if let Some(early) = act_out(&shared, endpoint.name(), fault).await {
        return early;
    }
    let outcome = gate::body_object(endpoint, &body).and_then(|fields| {
        let request = Request {
            shop,
            param: param.as_deref(),
            query: &query,
            body: fields,
            now,
        };
        let mut world = shared.world();
        run(&mut world, &shared, endpoint, &request)
    });
    if fault == Some(FaultKind::DropAfterWrite) {
        return killer.kill().await;
    }
    shared.answer(endpoint.name(), outcome)
}

fn run(
    world: &mut super::world::World,
    shared: &Shared,
    endpoint: Endpoint,
    request: &Request,
) -> Result<Value, ApiError> {
    use Endpoint::*;
    match endpoint {
        GetAuthorizedShops => auth::authorized_shops(world, request),
        SearchOrders => orders::search(world, request),
        GetOrderDetail => orders::detail(world, request),
        GetShippingProviders => fulfillment::providers(world, request),
        MarkPackageAsShipped => fulfillment::mark_shipped(world, request),
        ShipPackage => fulfillment::ship_package(world, request),
        UpdateShippingInfo => fulfillment::update_shipping_info(world, request),
        GetPackageShippingDocument => {
            fulfillment::shipping_document(world, request, &shared.api_base())
        }
        SearchCancellations => cancellations::search(world, request),
        ApproveCancellation => cancellations::approve(world, request),
        RejectCancellation => cancellations::reject(world, request),
        CancelOrder => cancellations::seller_cancel(world, request),
        GetShopWebhooks => events::list(world, request),
        UpdateShopWebhook => events::update(world, request),
        DeleteShopWebhook => events::delete(world, request),
    }
}

/// Acts out an armed fault: sleeps for latency and returns `None` to go on, or returns the
/// answer that replaces the endpoint's (a timeout never returns). `DropAfterWrite` goes on:
/// the caller applies the write, then drops the connection.
pub async fn act_out(
    shared: &Shared,
    name: &'static str,
    fault: Option<FaultKind>,
) -> Option<Response> {
    match fault? {
        FaultKind::Latency(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        FaultKind::RateLimited => Some(shared.answer(name, Err(gate::rate_limited()))),
        FaultKind::ServerError => {
            let error = ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                36009003,
                "Internal error, please try again later.",
            );
            Some(shared.answer(name, Err(error)))
        }
        FaultKind::Timeout => std::future::pending().await,
        FaultKind::MalformedJson => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"code":0,"data":{"orders":[{"id":"5764"#,
            )
                .into_response(),
        ),
        FaultKind::DropAfterWrite => None,
    }
}

/// The envelope; errors carry `data: null` as TikTok's do.
pub fn envelope(request_id: String, outcome: Result<Value, ApiError>) -> Response {
    let (status, body) = match outcome {
        Ok(data) => (
            StatusCode::OK,
            json!({"code": 0, "message": "Success", "request_id": request_id, "data": data}),
        ),
        Err(e) => (
            e.http,
            json!({"code": e.code, "message": e.message, "request_id": request_id, "data": null}),
        ),
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        with_damage(body.to_string()),
    )
        .into_response()
}

/// The answer's bytes, with the stand-ins of [`super::SEND_LONE_SURROGATE`] and
/// [`super::SEND_NOT_UTF8`] turned into the damage they stand for.
fn with_damage(text: String) -> Vec<u8> {
    if !text.contains([super::SEND_LONE_SURROGATE, super::SEND_NOT_UTF8]) {
        return text.into_bytes();
    }
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            super::SEND_LONE_SURROGATE => bytes.extend_from_slice(br"\ud83d"),
            super::SEND_NOT_UTF8 => bytes.extend_from_slice(&[0xff, 0xfe]),
            c => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    bytes
}

/// Reads a required string field of a body.
pub fn field<'a>(
    body: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, ApiError> {
    match body.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None => Err(ApiError::invalid(format!("'{name}' is required."))),
        Some(_) => Err(ApiError::invalid(format!("'{name}' must be a string."))),
    }
}

/// Reads an optional integer field (unix seconds).
pub fn int_field(
    body: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<i64>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("'{name}' must be an integer."))),
    }
}

/// Reads an optional list of strings.
pub fn string_list(
    body: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid(format!("'{name}' must hold strings.")))
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(ApiError::invalid(format!("'{name}' must be a list."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sandbox accepts exactly the documented body fields and query parameters: what it
    /// refuses as unknown is what TikTok does not document.
    #[test]
    fn accepted_fields_are_the_documented_ones() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/platforms/tiktok-samples.json"
        ));
        let samples: Value = serde_json::from_str(text).unwrap();
        use Endpoint::*;
        for endpoint in [
            GetAuthorizedShops,
            SearchOrders,
            GetOrderDetail,
            GetShippingProviders,
            MarkPackageAsShipped,
            ShipPackage,
            GetPackageShippingDocument,
            SearchCancellations,
            ApproveCancellation,
            RejectCancellation,
            CancelOrder,
        ] {
            let sample = &samples["endpoints"][endpoint.name()];
            let mut documented_body: Vec<&str> = sample["request_body"]
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let mut ours = endpoint.body_fields().to_vec();
            documented_body.sort();
            ours.sort();
            assert_eq!(ours, documented_body, "{} body", endpoint.name());
            let mut documented_query: Vec<&str> = sample["query_params"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|p| p["name"].as_str())
                .filter(|n| !["app_key", "sign", "timestamp", "shop_cipher"].contains(n))
                .collect();
            let mut allowed = endpoint.query_params().0.to_vec();
            documented_query.sort();
            allowed.sort();
            assert_eq!(allowed, documented_query, "{} query", endpoint.name());
            assert_eq!(
                endpoint.shop_scoped(),
                sample["query_params"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == "shop_cipher")
            );
        }
    }
}
