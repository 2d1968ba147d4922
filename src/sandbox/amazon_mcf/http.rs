//! The HTTP face of the simulated Amazon: Login with Amazon's `POST /auth/o2/token` and the
//! Fulfillment Outbound operations under `/fba/outbound/2020-07-01/`, on one loopback port.
//!
//! Order of checks, as the Selling Partner API answers them: the access token
//! (`x-amz-access-token`: 403 `Unauthorized` with Amazon's `details` for a missing, unknown
//! or expired one), the operation's rate limit (token bucket; 429 `QuotaExceeded` without
//! `Retry-After`), the input against the contract (400 `InvalidInput`, recorded), faults, then
//! the work. Every answer carries `x-amzn-RequestId`; successes `x-amzn-RateLimit-Limit`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::contract;
use super::state::{Refusal, Seller, stamp};
use crate::sandbox::faults::{FaultKind, Faults};
use crate::sandbox::serve::ConnectionKiller;
use std::sync::Arc;

/// The LWA app and seller authorization the simulated Amazon accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

#[derive(Debug)]
pub struct World {
    pub seller: Seller,
    /// Access tokens issued, with when each stops working.
    pub tokens: HashMap<String, Instant>,
    pub issued: u32,
    pub revoked: bool,
    /// Requests the contract refused, with why.
    pub invalid: Vec<String>,
    pub calls: HashMap<&'static str, u32>,
    pub throttled: HashMap<&'static str, u32>,
    buckets: HashMap<&'static str, (f64, Instant)>,
    next_request: u64,
}

pub struct Shared {
    pub world: Mutex<World>,
    pub faults: Faults,
    pub credentials: Credentials,
    pub rate: f64,
    pub burst: u32,
    pub page_size: usize,
    pub token_life: std::time::Duration,
}

impl Shared {
    pub fn new(seller: Seller, credentials: Credentials, rate: f64, burst: u32) -> Shared {
        Shared {
            world: Mutex::new(World {
                seller,
                tokens: HashMap::new(),
                issued: 0,
                revoked: false,
                invalid: Vec::new(),
                calls: HashMap::new(),
                throttled: HashMap::new(),
                buckets: HashMap::new(),
                next_request: 0,
            }),
            faults: Faults::default(),
            credentials,
            rate,
            burst,
            page_size: 2,
            token_life: std::time::Duration::from_secs(3600),
        }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token from `endpoint`'s bucket; false when it is empty.
    fn admit(&self, world: &mut World, endpoint: &'static str) -> bool {
        let now = Instant::now();
        let (tokens, at) = world
            .buckets
            .entry(endpoint)
            .or_insert((f64::from(self.burst), now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate)
            .min(f64::from(self.burst));
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn amazon_error(status: u16, code: &str, message: &str, details: &str, request: u64) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        json!({"errors": [{"code": code, "message": message, "details": details}]}).to_string(),
    )
        .into_response();
    add_request_id(&mut response, request);
    response
}

fn add_request_id(response: &mut Response, request: u64) {
    response.headers_mut().insert(
        "x-amzn-RequestId",
        format!("a1b2c3d4-{request:012}").parse().unwrap(),
    );
}

/// `POST /auth/o2/token`.
pub async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form_ok = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let lwa = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            [("content-type", "application/json")],
            json!({"error": error, "error_description": description}).to_string(),
        )
            .into_response()
    };
    match shared.faults.take("token") {
        Some(FaultKind::ServerError) => {
            return lwa(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            );
        }
        Some(FaultKind::Timeout) => std::future::pending::<()>().await,
        Some(FaultKind::Latency(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let c = &shared.credentials;
    if !form_ok || form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        shared
            .world()
            .invalid
            .push("token: not a form with grant_type=refresh_token".into());
        return lwa(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter : grant_type",
        );
    }
    if form.get("client_id") != Some(&c.client_id)
        || form.get("client_secret") != Some(&c.client_secret)
    {
        return lwa(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let mut world = shared.world();
    if world.revoked || form.get("refresh_token") != Some(&c.refresh_token) {
        return lwa(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    world.issued += 1;
    let access = format!("Atza|sandbox-{}", world.issued);
    world
        .tokens
        .insert(access.clone(), Instant::now() + shared.token_life);
    let body = json!({
        "access_token": access, "refresh_token": c.refresh_token,
        "token_type": "bearer", "expires_in": shared.token_life.as_secs(),
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

enum Op {
    Create,
    List,
    Get(String),
    Cancel(String),
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Create => "createFulfillmentOrder",
            Op::List => "listAllFulfillmentOrders",
            Op::Get(_) => "getFulfillmentOrder",
            Op::Cancel(_) => "cancelFulfillmentOrder",
        }
    }
}

fn route(method: &Method, rest: &str) -> Option<Op> {
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    Some(match (method.as_str(), parts.as_slice()) {
        ("POST", ["fulfillmentOrders"]) => Op::Create,
        ("GET", ["fulfillmentOrders"]) => Op::List,
        ("GET", ["fulfillmentOrders", id]) => Op::Get((*id).to_string()),
        ("PUT", ["fulfillmentOrders", id, "cancel"]) => Op::Cancel((*id).to_string()),
        _ => return None,
    })
}

/// Every Fulfillment Outbound operation.
pub async fn api(
    State(shared): State<Arc<Shared>>,
    Extension(killer): Extension<ConnectionKiller>,
    method: Method,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = {
        let mut world = shared.world();
        world.next_request += 1;
        world.next_request
    };
    let Some(op) = route(&method, &rest) else {
        return amazon_error(404, "NotFound", "Resource not found", "", request);
    };
    let name = op.name();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    {
        let mut world = shared.world();
        *world.calls.entry(name).or_default() += 1;
        let token = headers
            .get("x-amz-access-token")
            .and_then(|v| v.to_str().ok());
        let denied = match token {
            None => Some("Access token is missing in the request header."),
            Some(t) => match world.tokens.get(t) {
                None => Some("The access token you provided is revoked, malformed or invalid."),
                Some(until) if *until <= Instant::now() => {
                    Some("The access token you provided has expired.")
                }
                Some(_) => None,
            },
        };
        if let Some(details) = denied {
            return amazon_error(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                details,
                request,
            );
        }
        if !shared.admit(&mut world, name) {
            *world.throttled.entry(name).or_default() += 1;
            return amazon_error(
                429,
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
                "",
                request,
            );
        }
        if let Err(why) = check(&op, &query, &headers, &body) {
            world.invalid.push(format!("{name}: {why}"));
            return amazon_error(400, "InvalidInput", &why, "", request);
        }
    }
    let fault = shared.faults.take(name);
    match fault {
        Some(FaultKind::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Timeout) => std::future::pending::<()>().await,
        Some(FaultKind::ServerError) => {
            return amazon_error(
                500,
                "InternalFailure",
                "We encountered an internal error. Please try again.",
                "",
                request,
            );
        }
        Some(FaultKind::RateLimited) => {
            return amazon_error(
                429,
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
                "",
                request,
            );
        }
        _ => {}
    }
    let answer = work(&shared, &op, &query, &body);
    let mut response = match answer {
        Ok(value) => {
            if fault == Some(FaultKind::DropAfterWrite) {
                return killer.kill().await;
            }
            let text = value.to_string();
            let text = if fault == Some(FaultKind::MalformedJson) {
                text.chars().take(text.len() / 2).collect()
            } else {
                text
            };
            let mut response =
                (StatusCode::OK, [("content-type", "application/json")], text).into_response();
            response.headers_mut().insert(
                "x-amzn-RateLimit-Limit",
                format!("{:.1}", shared.rate).parse().unwrap(),
            );
            response
        }
        Err((status, code, message)) => return amazon_error(status, code, &message, "", request),
    };
    add_request_id(&mut response, request);
    response
}

/// The request against the contract: body, path id, query parameters.
fn check(
    op: &Op,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(), String> {
    match op {
        Op::Create => {
            let json_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if !json_type {
                return Err("Content-Type must be application/json".into());
            }
            let body: Value =
                serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
            contract::check_create(&body)
        }
        Op::List => {
            for (key, value) in query {
                match key.as_str() {
                    "queryStartDate" => contract::check_date_time(key, value)?,
                    "nextToken" => {}
                    other => {
                        return Err(format!(
                            "{other} is not a parameter of listAllFulfillmentOrders"
                        ));
                    }
                }
            }
            Ok(())
        }
        Op::Get(id) | Op::Cancel(id) => {
            if !body.is_empty() {
                return Err("this operation takes no body".into());
            }
            contract::check_id(id)
        }
    }
}

fn work(
    shared: &Shared,
    op: &Op,
    query: &[(String, String)],
    body: &Bytes,
) -> Result<Value, Refusal> {
    let now = Utc::now();
    let mut world = shared.world();
    let seller = &mut world.seller;
    match op {
        Op::Create => {
            let body: Value = serde_json::from_slice(body).unwrap();
            seller.create(&body, now)?;
            Ok(json!({}))
        }
        Op::Get(id) => match seller.order(id) {
            Some(order) => Ok(json!({ "payload": order.render() })),
            // This API answers many bad lookups with 400 rather than its documented 404.
            None => Err((
                400,
                "InvalidInput",
                format!("Requested order {id} not found"),
            )),
        },
        Op::Cancel(id) => {
            seller.cancel(id, now)?;
            Ok(json!({}))
        }
        Op::List => {
            let get = |k: &str| {
                query
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
            };
            let (offset, start) = match get("nextToken") {
                Some(token) => {
                    let (offset, start) = token.split_once('|').ok_or((
                        400,
                        "InvalidInput",
                        "Invalid nextToken".to_string(),
                    ))?;
                    let offset: usize = offset
                        .parse()
                        .map_err(|_| (400, "InvalidInput", "Invalid nextToken".to_string()))?;
                    let start = DateTime::parse_from_rfc3339(start)
                        .map_err(|_| (400, "InvalidInput", "Invalid nextToken".to_string()))?;
                    (offset, start.with_timezone(&Utc))
                }
                None => {
                    let start = get("queryStartDate")
                        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                        .map(|t| t.with_timezone(&Utc));
                    (0, start.unwrap_or(now - chrono::Duration::days(1)))
                }
            };
            let changed = seller.changed_since(start);
            let page: Vec<Value> = changed
                .iter()
                .skip(offset)
                .take(shared.page_size)
                .map(|o| o.render_head())
                .collect();
            let mut payload = json!({ "fulfillmentOrders": page });
            if changed.len() > offset + shared.page_size {
                payload["nextToken"] =
                    json!(format!("{}|{}", offset + shared.page_size, stamp(start)));
            }
            Ok(json!({ "payload": payload }))
        }
    }
}
