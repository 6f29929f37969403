//! Access tokens as Directus issues and checks them (spec §5.2): HS256 JWTs signed with `SECRET`
//! carrying `{id}` with issuer `directus`, or static tokens stored in `directus_users.token`.

use jsonwebtoken::{decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_query::{Alias, Expr, ExprTrait, JoinType, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Accountability;
use crate::cluster::{ClearedMap, Member};
use crate::db::Database;
use crate::{ApiError, ErrorCode};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    id: String,
    iat: i64,
    exp: i64,
    iss: String,
}

pub fn sign_access_token(secret: &str, user_id: &str, ttl_ms: u64) -> Result<String, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims { id: user_id.to_string(), iat: now, exp: now + (ttl_ms / 1000) as i64, iss: "directus".into() };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|e| ApiError::internal(format!("can't sign a token: {e}")))
}

fn looks_like_jwt(token: &str) -> bool {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some()
        })
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, message)
}

/// The role's `ip_access` allow list refuses `ip` (Directus's `check-ip` middleware): an empty
/// list allows everyone.
fn check_ip(allowed: &[String], ip: Option<&str>) -> Result<(), ApiError> {
    if allowed.is_empty() || ip.is_some_and(|ip| allowed.iter().any(|a| a == ip)) {
        return Ok(());
    }
    Err(ApiError::new(ErrorCode::InvalidIp, "Invalid IP address."))
}

/// Resolves a bearer token to the accountability of an active user, whose role must allow
/// the request's IP.
pub async fn authenticate(db: &Database, secret: &str, token: &str, ip: Option<String>, user_agent: Option<String>) -> Result<Accountability, ApiError> {
    let (accountability, ip_access) = resolve(db, secret, token, ip, user_agent).await?;
    check_ip(&ip_access, accountability.ip.as_deref())?;
    Ok(accountability)
}

/// The token's accountability and its role's IP allow list.
async fn resolve(db: &Database, secret: &str, token: &str, ip: Option<String>, user_agent: Option<String>) -> Result<(Accountability, Vec<String>), ApiError> {
    let (u, r) = (Alias::new("u"), Alias::new("r"));
    let mut query = Query::select();
    query
        .columns([(u.clone(), Alias::new("id")), (u.clone(), Alias::new("role"))])
        .columns([(r.clone(), Alias::new("admin_access")), (r.clone(), Alias::new("app_access")), (r.clone(), Alias::new("ip_access"))])
        .from_as(Alias::new("directus_users"), u.clone())
        .join_as(
            JoinType::LeftJoin,
            Alias::new("directus_roles"),
            r.clone(),
            Expr::col((r.clone(), Alias::new("id"))).equals((u.clone(), Alias::new("role"))),
        )
        .and_where(Expr::col((u.clone(), Alias::new("status"))).eq("active"))
        .limit(1);
    if looks_like_jwt(token) {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["directus"]);
        validation.leeway = 0;
        let claims = decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => invalid("Token expired."),
            _ => invalid("Token invalid."),
        })?;
        query.and_where(Expr::col((u, Alias::new("id"))).eq(claims.claims.id));
    } else {
        query.and_where(Expr::col((u, Alias::new("token"))).eq(token));
    }
    let row = db.run(&query).await?.rows.into_iter().next().ok_or_else(|| invalid("Invalid user credentials."))?;
    let truthy = |v: Option<&Value>| matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_i64) == Some(1);
    let ip_access = row.get("ip_access").and_then(Value::as_str).unwrap_or("").split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect();
    let accountability = Accountability {
        user: row.get("id").and_then(Value::as_str).map(str::to_string),
        role: row.get("role").and_then(Value::as_str).map(str::to_string),
        admin: truthy(row.get("admin_access")),
        app: truthy(row.get("app_access")),
        ip,
        user_agent,
    };
    Ok((accountability, ip_access))
}

/// A cached token: who it is, where its role may connect from, and until when it's trusted.
struct Resolved {
    accountability: Accountability,
    ip_access: Vec<String>,
    until: std::time::Instant,
}

/// Recently resolved tokens, so a burst of requests with one token costs one user lookup.
/// Entries live `ttl` (and never past a JWT's expiry); any write to users or roles through the
/// services clears it, so suspensions and role changes made through Rectus apply at once —
/// changes made to the database behind Rectus's back apply within `ttl`.
#[derive(Clone)]
pub struct TokenCache {
    ttl: std::time::Duration,
    entries: ClearedMap<String, Resolved>,
}

/// The token cache's name on the cluster bus.
const TOPIC: &str = "tokens";

impl TokenCache {
    pub fn new(ttl: std::time::Duration) -> Self {
        TokenCache { ttl, entries: ClearedMap::new(TOPIC) }
    }

    /// Forgets every resolved token here and on the other instances.
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// This cache on the cluster bus: cleared here when users or roles changed elsewhere.
    pub fn cluster_member(&self) -> Member {
        self.entries.cluster_member()
    }

    /// [`authenticate`], answered from the cache while fresh (the IP is checked every time).
    pub async fn authenticate(&self, db: &Database, secret: &str, token: &str, ip: Option<String>, user_agent: Option<String>) -> Result<Accountability, ApiError> {
        let now = std::time::Instant::now();
        let cached = self.entries.lock().get(token).filter(|r| r.until > now).map(|r| (r.accountability.clone(), r.ip_access.clone()));
        if let Some((acc, ip_access)) = cached {
            check_ip(&ip_access, ip.as_deref())?;
            return Ok(Accountability { ip, user_agent, ..acc });
        }
        let (acc, ip_access) = resolve(db, secret, token, ip, user_agent).await?;
        check_ip(&ip_access, acc.ip.as_deref())?;
        let mut until = now + self.ttl;
        if let Some(exp) = jwt_expiry(token) {
            let left = Ord::max(exp - chrono::Utc::now().timestamp(), 0) as u64;
            until = until.min(now + std::time::Duration::from_secs(left));
        }
        let mut entries = self.entries.lock();
        if entries.len() > 10_000 {
            entries.retain(|_, r| r.until > now);
        }
        entries.insert(token.to_string(), Resolved { accountability: acc.clone(), ip_access, until });
        Ok(acc)
    }
}

/// The `exp` claim of a JWT (already verified by `authenticate`).
fn jwt_expiry(token: &str) -> Option<i64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?.get("exp")?.as_i64()
}

/// Signs the claims of a mail link's token (HS256 with `SECRET`).
pub(crate) fn sign_link_token<C: serde::Serialize>(secret: &str, claims: &C) -> Result<String, ApiError> {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).map_err(|e| ApiError::internal(format!("can't sign a token: {e}")))
}

/// The claims of a token Rectus signed with `SECRET` for a mail link (password reset, invite):
/// HS256, `exp` required, no leeway. A bad token is 401 "Token invalid." / "Token expired.", the
/// rc.83 exception Directus's own JWT errors became.
pub(crate) fn decode_link_token<C: serde::de::DeserializeOwned>(secret: &str, token: &str) -> Result<C, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.required_spec_claims = ["exp"].into_iter().map(String::from).collect();
    decode::<C>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).map(|t| t.claims).map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => ApiError::new(ErrorCode::InvalidCredentials, "Token expired."),
        _ => ApiError::new(ErrorCode::InvalidCredentials, "Token invalid."),
    })
}
