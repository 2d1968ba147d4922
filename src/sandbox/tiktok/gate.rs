//! What the simulated TikTok checks before it looks at a request's meaning, in TikTok's order:
//! the app key, the timestamp window, the signature (recomputed by this module's own code, not
//! the client's), the access token, the shop cipher, the request's parameters and body fields
//! (unknown ones are refused, so a misnamed field fails loudly), and the rate limit.
//!
//! Invariants: query values are decoded the way TikTok's servers decode them (`+` is a space),
//! so a client that forgets to percent-encode a page token is caught by its signature; the rate
//! limit is at most [`RATE_LIMIT`] accepted requests in any one-second window per API per shop.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::Sha256;

use super::routes::Endpoint;
use super::world::World;

/// Requests per second per API per shop.
pub const RATE_LIMIT: usize = 50;
const TIMESTAMP_PAST: i64 = 300;
const TIMESTAMP_FUTURE: i64 = 30;
/// Parameters every API call may carry; each endpoint adds its own.
const COMMON_PARAMS: [&str; 4] = ["app_key", "timestamp", "sign", "shop_cipher"];

/// A refusal in TikTok's envelope terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub http: StatusCode,
    pub code: i64,
    pub message: String,
}

impl ApiError {
    pub fn new(http: StatusCode, code: i64, message: impl Into<String>) -> Self {
        ApiError {
            http,
            code,
            message: message.into(),
        }
    }

    /// `36009004`: TikTok's catch-all for a parameter it does not accept.
    pub fn invalid(message: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            36009004,
            format!("Invalid parameter. {message}"),
        )
    }

    /// A business refusal: HTTP 200 with a non-zero code, as TikTok answers them.
    pub fn business(code: i64, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::OK, code, message)
    }
}

/// Query parameters, decoded.
#[derive(Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Query(
            raw.unwrap_or_default()
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The sandbox's own rendering of TikTok's signing rule.
pub fn expected_sign(app_secret: &str, path: &str, query: &Query, body: &[u8]) -> String {
    let mut pairs: Vec<&(String, String)> = query
        .0
        .iter()
        .filter(|(k, _)| k != "sign" && k != "access_token")
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut text = Vec::with_capacity(body.len() + 256);
    text.extend_from_slice(app_secret.as_bytes());
    text.extend_from_slice(path.as_bytes());
    for (k, v) in pairs {
        text.extend_from_slice(k.as_bytes());
        text.extend_from_slice(v.as_bytes());
    }
    text.extend_from_slice(body);
    text.extend_from_slice(app_secret.as_bytes());
    let mut mac = <Hmac<Sha256>>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(&text);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks credentials and scope; answers the index of the shop the call acts for.
pub fn verify(
    world: &World,
    endpoint: Endpoint,
    path: &str,
    query: &Query,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<usize, ApiError> {
    let unauthorized = |code, message: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, message);
    let app_key = query.get("app_key").unwrap_or_default();
    let Some(app) = world.shops.iter().find(|s| s.spec.app_key == app_key) else {
        return Err(unauthorized(
            106001,
            "Invalid credentials. The 'app_key' query parameter is invalid.",
        ));
    };
    let timestamp = query.get("timestamp").and_then(|t| t.parse::<i64>().ok());
    match timestamp {
        Some(t) if (now - TIMESTAMP_PAST..=now + TIMESTAMP_FUTURE).contains(&t) => {}
        _ => {
            return Err(ApiError::invalid(
                "The 'timestamp' query parameter is missing or outside the accepted window (5 minutes before to 30 seconds after TikTok's clock).",
            ));
        }
    }
    if query.get("sign") != Some(expected_sign(&app.spec.app_secret, path, query, body).as_str()) {
        return Err(unauthorized(
            106001,
            "Invalid credentials. The 'sign' query parameter is invalid.",
        ));
    }
    let token = headers
        .get("x-tts-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(shop) = world
        .shops
        .iter()
        .position(|s| s.spec.app_key == app_key && !token.is_empty() && s.access_token == token)
    else {
        return Err(unauthorized(
            105001,
            "Invalid credentials. The 'x-tts-access-token' header is invalid.",
        ));
    };
    if world.shops[shop].access_expires_at <= now {
        return Err(unauthorized(
            105002,
            "access token is expired, please refresh it",
        ));
    }
    match (endpoint.shop_scoped(), query.get("shop_cipher")) {
        (true, None) => {
            return Err(ApiError::invalid(
                "The 'shop_cipher' query parameter is required.",
            ));
        }
        (true, Some(cipher)) if cipher != world.shops[shop].spec.cipher => {
            return Err(ApiError::business(
                101000,
                "The access token does not match the shop_cipher.",
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::invalid(
                "The 'shop_cipher' query parameter is not accepted by authorization APIs.",
            ));
        }
        _ => {}
    }
    check_params(endpoint, query)?;
    Ok(shop)
}

/// Refuses query parameters the endpoint does not document and requires the ones it needs.
fn check_params(endpoint: Endpoint, query: &Query) -> Result<(), ApiError> {
    let (allowed, required) = endpoint.query_params();
    if let Some((unknown, _)) = query
        .0
        .iter()
        .find(|(k, _)| !COMMON_PARAMS.contains(&k.as_str()) && !allowed.contains(&k.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "Unknown query parameter '{unknown}'."
        )));
    }
    match required
        .iter()
        .find(|r| query.get(r).is_none_or(str::is_empty))
    {
        Some(missing) => Err(ApiError::invalid(format!(
            "The '{missing}' query parameter is required."
        ))),
        None => Ok(()),
    }
}

/// The JSON body as an object whose fields are all documented for the endpoint.
pub fn body_object(
    endpoint: Endpoint,
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if body.is_empty() {
        return Ok(serde_json::Map::new());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid("The request body is not valid JSON."))?;
    let serde_json::Value::Object(fields) = value else {
        return Err(ApiError::invalid("The request body must be a JSON object."));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !endpoint.body_fields().contains(&k.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "Unknown field '{unknown}' in the request body."
        )));
    }
    Ok(fields)
}

/// Sliding one-second windows of accepted requests per (shop, API).
#[derive(Debug, Default)]
pub struct Limiter {
    windows: HashMap<(usize, &'static str), VecDeque<Instant>>,
}

impl Limiter {
    /// Admits the request arriving `at`, or refuses it with TikTok's rate-limit answer.
    pub fn admit(&mut self, shop: usize, api: &'static str, at: Instant) -> Result<(), ApiError> {
        let window = self.windows.entry((shop, api)).or_default();
        while window
            .front()
            .is_some_and(|t| at.duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= RATE_LIMIT {
            return Err(rate_limited());
        }
        window.push_back(at);
        Ok(())
    }
}

pub fn rate_limited() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        36009002,
        "Too many requests. The API rate limit has been exceeded, please try again later.",
    )
}

/// The largest number of `arrivals` (sorted or not) inside any one-second window.
pub fn max_in_any_second<'a>(arrivals: impl IntoIterator<Item = &'a Instant>) -> usize {
    let mut sorted: Vec<Instant> = arrivals.into_iter().copied().collect();
    sorted.sort();
    let mut start = 0;
    let mut best = 0;
    for end in 0..sorted.len() {
        while sorted[end].duration_since(sorted[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_signs_the_published_vectors_too() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tiktok_sign_vectors.json"
        ));
        let vectors: serde_json::Value = serde_json::from_str(text).unwrap();
        for v in vectors["request_sign"].as_array().unwrap() {
            let query = Query(
                v["query"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect(),
            );
            let sign = expected_sign(
                v["app_secret"].as_str().unwrap(),
                v["path"].as_str().unwrap(),
                &query,
                v["body"].as_str().unwrap().as_bytes(),
            );
            assert_eq!(sign, v["sign"].as_str().unwrap());
        }
    }

    #[test]
    fn queries_decode_like_tiktok_servers() {
        let q = Query::parse(Some("page_token=ab%2Fc%2Bd%3D&raw=a+b&flag"));
        assert_eq!(q.get("page_token"), Some("ab/c+d="));
        assert_eq!(q.get("raw"), Some("a b"), "an unencoded + is a space");
        assert_eq!(q.get("flag"), Some(""));
    }

    #[test]
    fn fifty_per_second_per_api_and_shop() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        for i in 0..50 {
            assert!(limiter.admit(0, "a", t0 + Duration::from_millis(i)).is_ok());
        }
        assert_eq!(
            limiter
                .admit(0, "a", t0 + Duration::from_millis(999))
                .unwrap_err()
                .code,
            36009002
        );
        assert!(limiter.admit(0, "b", t0).is_ok(), "another API");
        assert!(limiter.admit(1, "a", t0).is_ok(), "another shop");
        assert!(
            limiter
                .admit(0, "a", t0 + Duration::from_millis(1000))
                .is_ok(),
            "the window slid"
        );
    }

    #[test]
    fn window_counting() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert_eq!(
            max_in_any_second(&[at(0), at(500), at(999), at(1000), at(1998)]),
            3
        );
        assert_eq!(max_in_any_second(std::iter::empty()), 0);
    }
}
