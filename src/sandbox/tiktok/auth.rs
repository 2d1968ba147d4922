//! The simulated auth host (`/api/v2/token/get`, `/api/v2/token/refresh`: unsigned GETs with
//! the app secret in the query) and Get Authorized Shops on the API host.
//!
//! Invariants: `*_expire_in` are absolute unix times; a refresh issues a new access token and
//! the old one stops working at once (a client still sending it is caught); auth codes are
//! single-use; refusals use the codes TikTok's auth host is seen to answer (`36004005` unknown
//! refresh token, `36004001` expired authorization, `36004004` bad auth code), over HTTP 200.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::gate::{ApiError, Query};
use super::routes::Request;
use super::world::{World, unix_now};
use crate::sandbox::serve::ConnectionKiller;

/// Access tokens live about a week.
const ACCESS_LIFETIME: i64 = 7 * 86_400;

pub(super) fn authorized_shops(world: &World, request: &Request) -> Result<Value, ApiError> {
    let shop = &world.shops[request.shop].spec;
    Ok(json!({"shops": [{
        "id": shop.shop_id, "name": shop.shop_name, "region": shop.region,
        "seller_type": if shop.region == "GB" { "CROSS_BORDER" } else { "LOCAL" },
        "cipher": shop.cipher, "code": format!("{}SBX{}", shop.region, &shop.shop_id[shop.shop_id.len().saturating_sub(4)..]),
    }]}))
}

pub(super) async fn get_token(
    state: State<Arc<Shared>>,
    killer: axum::Extension<ConnectionKiller>,
    query: RawQuery,
) -> Response {
    token_endpoint("get_token", "authorized_code", state, killer, query).await
}

pub(super) async fn refresh_token(
    state: State<Arc<Shared>>,
    killer: axum::Extension<ConnectionKiller>,
    query: RawQuery,
) -> Response {
    token_endpoint("refresh_token", "refresh_token", state, killer, query).await
}

async fn token_endpoint(
    name: &'static str,
    grant_type: &str,
    State(shared): State<Arc<Shared>>,
    axum::Extension(killer): axum::Extension<ConnectionKiller>,
    RawQuery(raw): RawQuery,
) -> Response {
    shared.record(name, None);
    let fault = shared.faults.take(name);
    if let Some(early) = super::routes::act_out(&shared, name, fault).await {
        return early;
    }
    let query = Query::parse(raw.as_deref());
    let outcome = {
        let mut world = shared.world();
        grant(&mut world, &query, grant_type, unix_now())
    };
    if fault == Some(crate::sandbox::faults::FaultKind::DropAfterWrite) {
        return killer.kill().await;
    }
    shared.answer(name, outcome)
}

fn grant(world: &mut World, query: &Query, grant_type: &str, now: i64) -> Result<Value, ApiError> {
    let refused = |code, message: &str| ApiError::new(StatusCode::OK, code, message);
    let app_key = query.get("app_key").unwrap_or_default();
    let app_secret = query.get("app_secret").unwrap_or_default();
    if !world
        .shops
        .iter()
        .any(|s| s.spec.app_key == app_key && s.spec.app_secret == app_secret)
    {
        return Err(refused(
            106001,
            "Invalid credentials. The app_key or app_secret is invalid.",
        ));
    }
    if query.get("grant_type") != Some(grant_type) {
        return Err(ApiError::invalid(format!(
            "'grant_type' must be '{grant_type}'."
        )));
    }
    let shop = if grant_type == "refresh_token" {
        let token = query.get("refresh_token").unwrap_or_default();
        let shop = world
            .shops
            .iter()
            .position(|s| {
                s.spec.app_key == app_key && !token.is_empty() && s.refresh_token == token
            })
            .ok_or_else(|| refused(36004005, "can not find related auth record"))?;
        if world.shops[shop].refresh_expires_at <= now {
            return Err(refused(36004001, "rt has expired"));
        }
        shop
    } else {
        let code = query.get("auth_code").unwrap_or_default();
        match world.auth_codes.remove(code) {
            Some(shop) if world.shops[shop].spec.app_key == app_key => shop,
            _ => return Err(refused(36004004, "invalid auth code")),
        }
    };
    let shop = &mut world.shops[shop];
    shop.access_token = format!("TTP_sandbox_access_{}", uuid::Uuid::new_v4().simple());
    shop.access_expires_at = now + ACCESS_LIFETIME;
    Ok(json!({
        "access_token": shop.access_token,
        "access_token_expire_in": shop.access_expires_at,
        "refresh_token": shop.refresh_token,
        "refresh_token_expire_in": shop.refresh_expires_at,
        "open_id": format!("open_{}", shop.spec.shop_id),
        "seller_name": shop.spec.shop_name,
        "seller_base_region": shop.spec.region,
        "user_type": 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scenario::{Scenario, Size};

    #[test]
    fn refresh_rotates_the_access_token_and_refuses_strangers() {
        let scenario = Scenario::generate(
            1,
            Size {
                shops: 2,
                orders_per_shop: 1,
            },
            1_700_000_000,
        );
        let mut world = World::seed(&scenario);
        let shop = &scenario.shops[0];
        let query = |refresh: &str, secret: &str| {
            Query(vec![
                ("app_key".into(), shop.app_key.clone()),
                ("app_secret".into(), secret.into()),
                ("refresh_token".into(), refresh.into()),
                ("grant_type".into(), "refresh_token".into()),
            ])
        };
        let now = 1_700_000_100;
        let data = grant(
            &mut world,
            &query(&shop.refresh_token, &shop.app_secret),
            "refresh_token",
            now,
        )
        .unwrap();
        assert_ne!(data["access_token"], shop.access_token.as_str());
        assert_eq!(data["access_token_expire_in"], now + ACCESS_LIFETIME);
        assert_eq!(data["refresh_token_expire_in"], shop.refresh_expires_at);
        let unknown = grant(
            &mut world,
            &query("nope", &shop.app_secret),
            "refresh_token",
            now,
        )
        .unwrap_err();
        assert_eq!(unknown.code, 36004005);
        let other_shops_token = &scenario.shops[1].refresh_token;
        assert_eq!(
            grant(
                &mut world,
                &query(other_shops_token, &shop.app_secret),
                "refresh_token",
                now
            )
            .unwrap_err()
            .code,
            36004005
        );
        assert_eq!(
            grant(
                &mut world,
                &query(&shop.refresh_token, "wrong"),
                "refresh_token",
                now
            )
            .unwrap_err()
            .code,
            106001
        );
        let late = shop.refresh_expires_at + 1;
        assert_eq!(
            grant(
                &mut world,
                &query(&shop.refresh_token, &shop.app_secret),
                "refresh_token",
                late
            )
            .unwrap_err()
            .code,
            36004001
        );
    }
}
