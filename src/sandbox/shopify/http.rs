//! The HTTP face of the simulated Admin API:
//! `POST /{shop_domain}/admin/api/{version}/graphql.json` (the shop's host name becomes the
//! first path segment, since every store shares one loopback port).
//!
//! Order of checks, as Shopify answers them: unknown path or version → 404; token → 401;
//! unreadable body → 400; invalid document or variables → 200 with top-level `errors` and no
//! `data`; a root field the sandbox does not simulate → an error, never silence; then faults,
//! the cost bucket (`THROTTLED`, HTTP 200, no `data`, with `extensions.cost`), execution, and
//! `extensions.cost` on the answer. Every answer carries an `x-request-id`.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::executable::{Operation, OperationType};
use apollo_compiler::resolvers::Execution;
use apollo_compiler::response::JsonMap;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Release;
use super::cost;
use super::resolve::{Root, SIMULATED_MUTATIONS, SIMULATED_QUERIES};
use super::schema;
use super::state::World;
use crate::sandbox::faults::{FaultKind, Faults};
use crate::sandbox::serve::ConnectionKiller;

pub struct Shared {
    pub world: Mutex<World>,
    pub faults: Faults,
}

impl Shared {
    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";

struct Reply {
    request_id: String,
    version: String,
}

impl Reply {
    fn json(&self, status: StatusCode, body: &Value) -> Response {
        self.raw(status, "application/json; charset=utf-8", body.to_string())
    }

    fn raw(&self, status: StatusCode, content_type: &'static str, body: String) -> Response {
        (
            status,
            [
                ("content-type", content_type.to_string()),
                ("x-request-id", self.request_id.clone()),
                ("x-shopify-api-version", self.version.clone()),
            ],
            body,
        )
            .into_response()
    }

    fn errors(&self, errors: Vec<Value>) -> Response {
        self.json(StatusCode::OK, &json!({ "errors": errors }))
    }

    fn not_found(&self) -> Response {
        self.json(StatusCode::NOT_FOUND, &json!({ "errors": "Not Found" }))
    }

    fn bad_request(&self) -> Response {
        self.json(
            StatusCode::BAD_REQUEST,
            &json!({ "errors": { "query": "Required parameter missing or invalid" } }),
        )
    }
}

/// The body of a GraphQL request.
struct GraphqlRequest {
    query: String,
    operation_name: Option<String>,
    variables: JsonMap,
}

impl GraphqlRequest {
    fn parse(body: &[u8]) -> Option<GraphqlRequest> {
        let request: Value = serde_json::from_slice(body).ok()?;
        let variables = match request.get("variables") {
            None | Some(Value::Null) => JsonMap::new(),
            Some(v @ Value::Object(_)) => serde_json::from_value(v.clone()).ok()?,
            Some(_) => return None,
        };
        Some(GraphqlRequest {
            query: request.get("query")?.as_str()?.to_string(),
            operation_name: request
                .get("operationName")
                .and_then(Value::as_str)
                .map(str::to_string),
            variables,
        })
    }
}

/// Every early answer (a refusal, a fault) is the `Err` side.
type Step<T> = Result<T, Box<Response>>;

pub async fn graphql(
    State(shared): State<Arc<Shared>>,
    Path((shop, version)): Path<(String, String)>,
    Extension(killer): Extension<ConnectionKiller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = Reply {
        request_id: uuid::Uuid::new_v4().to_string(),
        version: version.clone(),
    };
    match serve_request(&shared, &shop, &version, &headers, &body, &reply).await {
        Ok((answer, fault, lost_create)) => match fault {
            Some(FaultKind::MalformedJson) => {
                let text = answer.to_string();
                let cut: String = text.chars().take(text.chars().count() / 2).collect();
                reply.raw(StatusCode::OK, "application/json; charset=utf-8", cut)
            }
            Some(FaultKind::DropAfterWrite) => killer.kill().await,
            _ if lost_create => reply.raw(
                StatusCode::BAD_GATEWAY,
                "text/html",
                "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
            ),
            _ => reply.json(StatusCode::OK, &answer),
        },
        Err(refused) => *refused,
    }
}

/// Everything up to the answer: `(answer, fault to act out on it, whether a create's answer
/// is to be lost)`.
async fn serve_request(
    shared: &Shared,
    shop: &str,
    version: &str,
    headers: &HeaderMap,
    body: &[u8],
    reply: &Reply,
) -> Step<(Value, Option<FaultKind>, bool)> {
    let release = Release::parse(version).ok_or_else(|| Box::new(reply.not_found()))?;
    let schema = schema::schema().map_err(|_| {
        reply.json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "errors": "schema unavailable" }),
        )
    })?;
    let store = authenticate(shared, shop, headers, reply)?;
    let request = GraphqlRequest::parse(body).ok_or_else(|| Box::new(reply.bad_request()))?;
    let prepared = schema::prepare(
        schema,
        &request.query,
        request.operation_name.as_deref(),
        &request.variables,
        release,
    )
    .map_err(|errors| Box::new(reply.errors(errors)))?;
    let document = &prepared.document;
    let operation = document
        .operations
        .get(prepared.operation_name.as_deref())
        .map_err(|e| reply.errors(vec![json!({ "message": e.message().to_string() })]))?;
    let (root_type, roots) =
        simulated_roots(operation, document).map_err(|e| reply.errors(vec![e]))?;
    {
        let mut world = shared.world();
        let calls = &mut world.stores[store].calls;
        for root in &roots {
            *calls.entry(root.clone()).or_default() += 1;
        }
    }
    let operation_key = roots.first().map_or("__typename", String::as_str);
    let fault = shared.faults.take(operation_key);
    act_out_before_execution(fault, reply).await?;

    let requested = cost::requested(schema, document, operation, &prepared.variables);
    if requested > cost::SINGLE_QUERY_MAX {
        return Err(Box::new(reply.errors(vec![json!({
            "message": format!("Query cost is {requested}, which exceeds the single query max cost limit ({}).", cost::SINGLE_QUERY_MAX),
            "extensions": { "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": cost::SINGLE_QUERY_MAX },
        })])));
    }
    let now = Instant::now();
    let mut world = shared.world();
    world.settle(now);
    let bucket = &mut world.stores[store].bucket;
    if fault == Some(FaultKind::RateLimited) || !bucket.try_charge(requested, now) {
        let status = bucket.status(now);
        world.stores[store].throttled += 1;
        return Err(Box::new(reply.json(
            StatusCode::OK,
            &json!({
                "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits" } }],
                "extensions": cost::extension(requested, None, status),
            }),
        )));
    }
    let response = Execution::new(schema, document)
        .operation(operation)
        .coerced_variable_values(&prepared.variables)
        .execute_sync(&Root {
            type_name: root_type,
            world: RefCell::new(&mut *world),
            store,
            release,
            now,
            wall: chrono::Utc::now(),
        })
        .map_err(|e| {
            let error = e.to_graphql_error(&document.sources);
            reply.errors(vec![serde_json::to_value(error).unwrap_or(Value::Null)])
        })?;
    let actual = cost::actual(
        schema,
        document,
        operation,
        &prepared.variables,
        response.data.as_ref(),
    );
    world.stores[store].points_charged += actual;
    let bucket = &mut world.stores[store].bucket;
    bucket.refund(requested - actual, now);
    let mut answer = json!({ "data": response.data });
    if !response.errors.is_empty() {
        answer["errors"] = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
    }
    answer["extensions"] = cost::extension(requested, Some(actual), bucket.status(now));
    let lost_create = operation_key == "orderCreate" && world.behaviour.order_create_ambiguous;
    Ok((answer, fault, lost_create))
}

/// The store the path names, if the request carries its token.
fn authenticate(shared: &Shared, shop: &str, headers: &HeaderMap, reply: &Reply) -> Step<usize> {
    let world = shared.world();
    let store = world
        .store_by_domain(shop)
        .ok_or_else(|| Box::new(reply.not_found()))?;
    let sent = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    let s = &world.stores[store];
    if !s.token_valid || sent != Some(s.token.as_str()) {
        return Err(Box::new(reply.json(
            StatusCode::UNAUTHORIZED,
            &json!({ "errors": INVALID_TOKEN }),
        )));
    }
    Ok(store)
}

/// The operation's root type and distinct root fields, or the error for one not simulated.
fn simulated_roots(
    operation: &Operation,
    document: &ExecutableDocument,
) -> Result<(&'static str, Vec<String>), Value> {
    let (root_type, simulated) = match operation.operation_type {
        OperationType::Query => ("QueryRoot", SIMULATED_QUERIES),
        OperationType::Mutation => ("Mutation", SIMULATED_MUTATIONS),
        OperationType::Subscription => ("Subscription", &[][..]),
    };
    let mut roots: Vec<String> = Vec::new();
    for field in operation.root_fields(document) {
        let name = field.name.to_string();
        if name != "__typename" && !roots.contains(&name) {
            roots.push(name);
        }
    }
    match roots.iter().find(|r| !simulated.contains(&r.as_str())) {
        Some(other) => Err(json!({
            "message": format!("{root_type}.{other} is not simulated by the orderdeck sandbox"),
            "extensions": { "code": "NOT_SIMULATED" },
        })),
        None => Ok((root_type, roots)),
    }
}

/// Faults that strike before anything runs: a slow answer, no answer, a 500.
async fn act_out_before_execution(fault: Option<FaultKind>, reply: &Reply) -> Step<()> {
    match fault {
        Some(FaultKind::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Timeout) => std::future::pending::<()>().await,
        Some(FaultKind::ServerError) => {
            let message = format!(
                "Internal error. Looks like something went wrong on our end.\nRequest ID: {} (include this in support requests).",
                reply.request_id
            );
            return Err(Box::new(reply.json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({ "errors": [{ "message": message,
                    "extensions": { "code": "INTERNAL_SERVER_ERROR", "requestId": reply.request_id } }] }),
            )));
        }
        _ => {}
    }
    Ok(())
}
