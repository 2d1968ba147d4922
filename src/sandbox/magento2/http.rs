//! The HTTP face of the simulated stores: `/{site}/rest/{store_code}/V1/{route}` (and
//! `/{site}/rest/V1/{route}`, the default store view) on one loopback port, each site's path
//! prefix standing for its own host.
//!
//! Order of checks, as Magento answers them: a store code or route that does not exist → 404
//! `Request does not match any route.`; the Bearer token (401 `The consumer isn't authorized to
//! access %resources.`); the input: `searchCriteria` read and checked, a body only with
//! `Content-Type: application/json` and checked against the contract ([`contract`]); then
//! faults, then the work ([`ops`]).

use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::contract::{self, Criteria};
use super::ops::{self, Answer, fail};
use super::render;
use super::search;
use super::state::{MageStore, STORE_VIEWS};
use crate::sandbox::faults::{FaultKind, Faults};
use crate::sandbox::serve::ConnectionKiller;

pub struct Shared {
    pub stores: Mutex<Vec<MageStore>>,
    pub faults: Faults,
}

impl Shared {
    pub fn stores(&self) -> std::sync::MutexGuard<'_, Vec<MageStore>> {
        self.stores.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a request asks for, by the name faults and call counts use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    ListProducts,
    GetProduct(String),
    StoreViews,
    Country(String),
    CreateOrder(&'static str),
    ListOrders,
    GetOrder(u64),
    CancelOrder(u64),
    ListComments(u64),
    AddComment(u64),
    Invoice(u64),
    Refund(u64),
    ListShipments,
    GetShipment(u64),
    ListMemos,
    GetMemo(u64),
    ListInvoices,
}

impl Endpoint {
    pub fn name(&self) -> &'static str {
        match self {
            Endpoint::ListProducts => "products.list",
            Endpoint::GetProduct(_) => "products.get",
            Endpoint::StoreViews => "store.views",
            Endpoint::Country(_) => "directory.country",
            Endpoint::CreateOrder(_) => "orders.create",
            Endpoint::ListOrders => "orders.list",
            Endpoint::GetOrder(_) => "orders.get",
            Endpoint::CancelOrder(_) => "orders.cancel",
            Endpoint::ListComments(_) => "comments.list",
            Endpoint::AddComment(_) => "comments.create",
            Endpoint::Invoice(_) => "orders.invoice",
            Endpoint::Refund(_) => "orders.refund",
            Endpoint::ListShipments => "shipments.list",
            Endpoint::GetShipment(_) => "shipments.get",
            Endpoint::ListMemos => "creditmemos.list",
            Endpoint::GetMemo(_) => "creditmemos.get",
            Endpoint::ListInvoices => "invoices.list",
        }
    }

    /// The contract operation whose body this request carries.
    fn body_operation(&self) -> Option<&'static str> {
        match self {
            Endpoint::CreateOrder(op) => Some(op),
            Endpoint::AddComment(_) => Some("POST /V1/orders/{id}/comments"),
            Endpoint::Invoice(_) => Some("POST /V1/order/{orderId}/invoice"),
            Endpoint::Refund(_) => Some("POST /V1/order/{orderId}/refund"),
            _ => None,
        }
    }

    fn lists(&self) -> bool {
        matches!(
            self,
            Endpoint::ListProducts
                | Endpoint::ListOrders
                | Endpoint::ListShipments
                | Endpoint::ListMemos
                | Endpoint::ListInvoices
        )
    }
}

fn route(method: &Method, route: &str) -> Option<Endpoint> {
    let parts: Vec<&str> = route.trim_matches('/').split('/').collect();
    let (get, post) = (*method == Method::GET, *method == Method::POST);
    let id = |s: &str| s.parse::<u64>().ok();
    Some(match parts.as_slice() {
        ["products"] if get => Endpoint::ListProducts,
        ["products", sku] if get => Endpoint::GetProduct((*sku).to_string()),
        ["store", "storeViews"] if get => Endpoint::StoreViews,
        ["directory", "countries", c] if get => Endpoint::Country((*c).to_string()),
        ["orders"] if post => Endpoint::CreateOrder("POST /V1/orders"),
        ["orders", "create"] if *method == Method::PUT => {
            Endpoint::CreateOrder("PUT /V1/orders/create")
        }
        ["orders"] if get => Endpoint::ListOrders,
        ["orders", n] if get => Endpoint::GetOrder(id(n)?),
        ["orders", n, "cancel"] if post => Endpoint::CancelOrder(id(n)?),
        ["orders", n, "comments"] if get => Endpoint::ListComments(id(n)?),
        ["orders", n, "comments"] if post => Endpoint::AddComment(id(n)?),
        ["order", n, "invoice"] if post => Endpoint::Invoice(id(n)?),
        ["order", n, "refund"] if post => Endpoint::Refund(id(n)?),
        ["shipments"] if get => Endpoint::ListShipments,
        ["shipment", n] if get => Endpoint::GetShipment(id(n)?),
        ["creditmemos"] if get => Endpoint::ListMemos,
        ["creditmemo", n] if get => Endpoint::GetMemo(id(n)?),
        ["invoices"] if get => Endpoint::ListInvoices,
        _ => return None,
    })
}

fn reply((status, body): Answer) -> Response {
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn no_route() -> Response {
    reply(fail(
        StatusCode::NOT_FOUND,
        "Request does not match any route.",
        json!([]),
    ))
}

/// `/{site}/rest/V1/{route}`: the default store view.
pub async fn handle_default(
    state: State<Arc<Shared>>,
    Path((site, rest)): Path<(String, String)>,
    killer: Extension<ConnectionKiller>,
    method: Method,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        state,
        Path((site, "default".into(), rest)),
        killer,
        method,
        query,
        headers,
        body,
    )
    .await
}

pub async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((site, code, rest)): Path<(String, String, String)>,
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
    let known_code = code == "all" || STORE_VIEWS.iter().any(|(_, c, _)| *c == code);
    let Some(endpoint) = route(&method, &rest).filter(|_| known_code) else {
        return no_route();
    };
    let input = {
        let mut stores = shared.stores();
        let Some(store) = stores.iter_mut().find(|s| s.slug == site) else {
            return no_route();
        };
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !store.token_valid || bearer != Some(store.access_token.as_str()) {
            return reply(fail(
                StatusCode::UNAUTHORIZED,
                "The consumer isn't authorized to access %resources.",
                json!({ "resources": "Magento_Sales::actions_view" }),
            ));
        }
        *store.calls.entry(endpoint.name().to_string()).or_default() += 1;
        match checked_input(&endpoint, &headers, &body, &query) {
            Ok(input) => input,
            Err((why, answer)) => {
                store.refused.push(format!("{}: {why}", endpoint.name()));
                return reply(answer);
            }
        }
    };
    let fault = shared.faults.take(endpoint.name());
    match fault {
        Some(FaultKind::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Timeout) => std::future::pending::<()>().await,
        Some(FaultKind::ServerError) => return reply(ops::internal(0x5e)),
        Some(FaultKind::RateLimited) => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                "<h1>429 Too Many Requests</h1>",
            )
                .into_response();
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
        let answer = execute(store, &endpoint, &input);
        if answer.0 == StatusCode::INTERNAL_SERVER_ERROR && input.criteria.is_some() {
            // A filter or sort on a column that does not exist: a client bug.
            store.refused.push(format!(
                "{}: a filter or sort on an unknown column",
                endpoint.name()
            ));
        }
        answer
    };
    match fault {
        Some(FaultKind::DropAfterWrite) => killer.kill().await,
        Some(FaultKind::MalformedJson) => {
            let text = answer.1.to_string();
            let cut: String = text.chars().take(text.chars().count() / 2).collect();
            (
                answer.0,
                [("content-type", "application/json; charset=utf-8")],
                cut,
            )
                .into_response()
        }
        _ => reply(answer),
    }
}

struct Input {
    criteria: Option<Criteria>,
    body: Value,
}

fn checked_input(
    endpoint: &Endpoint,
    headers: &HeaderMap,
    body: &[u8],
    query: &[(String, String)],
) -> Result<Input, (String, Answer)> {
    let invalid = |i: contract::Invalid| {
        (
            i.message.clone(),
            fail(StatusCode::BAD_REQUEST, &i.message, i.parameters),
        )
    };
    let criteria = if endpoint.lists() {
        Some(contract::criteria(query).map_err(invalid)?)
    } else {
        None
    };
    let Some(operation) = endpoint.body_operation() else {
        return Ok(Input {
            criteria,
            body: Value::Null,
        });
    };
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !body.is_empty() && !json_type {
        let why = "Content-Type header is empty.".to_string();
        return Err((why.clone(), fail(StatusCode::BAD_REQUEST, &why, json!([]))));
    }
    let parsed: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|_| {
            let why = "Decoding error: the body is not JSON".to_string();
            (why.clone(), fail(StatusCode::BAD_REQUEST, &why, json!([])))
        })?
    };
    let body = contract::check_body(operation, &parsed).map_err(invalid)?;
    Ok(Input { criteria, body })
}

const ORDER_COLUMNS: &[&str] = &[
    "entity_id",
    "increment_id",
    "ext_order_id",
    "state",
    "status",
    "created_at",
    "updated_at",
    "store_id",
    "customer_email",
    "grand_total",
    "total_refunded",
];
const DOCUMENT_COLUMNS: &[&str] = &[
    "entity_id",
    "order_id",
    "created_at",
    "updated_at",
    "invoice_id",
    "increment_id",
];
const PRODUCT_COLUMNS: &[&str] = &[
    "entity_id",
    "sku",
    "name",
    "type_id",
    "status",
    "price",
    "created_at",
    "updated_at",
];

fn execute(store: &mut MageStore, endpoint: &Endpoint, input: &Input) -> Answer {
    let now = chrono::Utc::now();
    let criteria = input.criteria.clone().unwrap_or_default();
    let report = store.next_id();
    match endpoint {
        Endpoint::ListProducts => {
            let rows = store.products.iter().map(|p| {
                let mut row = render::product(p);
                row["entity_id"] = json!(p.id);
                row
            });
            let (status, mut body) = search::search(rows.collect(), &criteria, PRODUCT_COLUMNS, report);
            for item in body["items"].as_array_mut().into_iter().flatten() {
                item.as_object_mut().map(|o| o.remove("entity_id"));
            }
            (status, body)
        }
        Endpoint::GetProduct(sku) => match store.products.iter().find(|p| p.sku.eq_ignore_ascii_case(sku)) {
            Some(p) => (StatusCode::OK, render::product(p)),
            None => fail(StatusCode::NOT_FOUND, "The product that was requested doesn't exist. Verify the product and try again.", json!([])),
        },
        Endpoint::StoreViews => (
            StatusCode::OK,
            STORE_VIEWS.iter().map(|(id, code, name)| json!({"id": id, "code": code, "name": name, "website_id": 1, "store_group_id": 1, "is_active": 1})).collect(),
        ),
        Endpoint::Country(id) => ops::country(id),
        Endpoint::CreateOrder(_) => ops::save_order(store, &input.body, now),
        Endpoint::ListOrders => search::search(store.orders.iter().map(render::order).collect(), &criteria, ORDER_COLUMNS, report),
        Endpoint::GetOrder(id) => store.order(*id).map_or_else(ops::no_entity, |o| (StatusCode::OK, render::order(o))),
        Endpoint::CancelOrder(id) => ops::cancel(store, *id, now),
        Endpoint::ListComments(id) => match store.order(*id) {
            Some(o) => {
                let items: Vec<Value> = render::order(o)["status_histories"].as_array().cloned().unwrap_or_default();
                (StatusCode::OK, json!({ "total_count": items.len(), "items": items, "search_criteria": {} }))
            }
            None => ops::no_entity(),
        },
        Endpoint::AddComment(id) => ops::add_comment(store, *id, &input.body, now),
        Endpoint::Invoice(id) => ops::invoice(store, *id, &input.body, now),
        Endpoint::Refund(id) => ops::refund(store, *id, &input.body, now, false),
        Endpoint::ListShipments => {
            let rows = store.shipments.iter().map(|s| render::shipment(s, store.order(s.order_id))).collect();
            search::search(rows, &criteria, DOCUMENT_COLUMNS, report)
        }
        Endpoint::GetShipment(id) => store
            .shipments
            .iter()
            .find(|s| s.entity_id == *id)
            .map_or_else(ops::no_entity, |s| (StatusCode::OK, render::shipment(s, store.order(s.order_id)))),
        Endpoint::ListMemos => search::search(store.memos.iter().map(render::memo).collect(), &criteria, DOCUMENT_COLUMNS, report),
        Endpoint::GetMemo(id) => store.memos.iter().find(|m| m.entity_id == *id).map_or_else(ops::no_entity, |m| (StatusCode::OK, render::memo(m))),
        Endpoint::ListInvoices => search::search(store.invoices.iter().map(render::invoice).collect(), &criteria, DOCUMENT_COLUMNS, report),
    }
}
