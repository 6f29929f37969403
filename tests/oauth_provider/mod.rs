//! A fake OAuth 2 / OpenID Connect provider for the SSO tests, served in the test process:
//! discovery, JWKS, authorize, token and userinfo endpoints, strict the way real providers are
//! (single-use codes, PKCE S256, client credentials, redirect URI). ID tokens are RS256-signed with
//! the test key `fixtures/oauth/id-token-key.pem` (`fixtures/oauth/jwks.json` is its public half).
//!
//! Who signs in is chosen by the test: it adds `login=<email>` to the authorization URL Rectus
//! built (`deny=1` makes the user refuse). Emails starting with `noemail` get a profile without an
//! email, `private` ones a GitHub-style `/user` without email (`/user/emails` has it), `unverified` ones one with `email_verified: false`; `wrong-audience` ones get an ID token
//! for another client.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "rectus-client";
pub const CLIENT_SECRET: &str = "rectus-secret";

struct Grant {
    email: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    openid: bool,
}

#[derive(Default)]
pub struct Recorded {
    /// The form of every token request.
    pub token: Vec<HashMap<String, String>>,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, String>,
}

#[derive(Clone)]
struct Shared {
    base: String,
    recorded: Arc<Mutex<Recorded>>,
}

pub struct FakeProvider {
    pub base: String,
    pub recorded: Arc<Mutex<Recorded>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeProvider {
    pub async fn start() -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared { base: base.clone(), recorded: Arc::default() };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/user", get(github_user))
            .route("/user/emails", get(github_emails))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeProvider { base, recorded: shared.recorded, task }
    }
}

fn profile(email: &str) -> Value {
    let local = email.split('@').next().unwrap_or_default();
    let mut profile = json!({ "sub": format!("sub-{local}"), "name": format!("{local} Example"), "given_name": local, "family_name": "Example", "login": local });
    if !email.starts_with("noemail") {
        profile["email"] = json!(email);
        profile["email_verified"] = json!(!email.starts_with("unverified"));
    }
    profile
}

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let b = &s.base;
    Json(json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/authorize"),
        "token_endpoint": format!("{b}/token"),
        "userinfo_endpoint": format!("{b}/userinfo"),
        "jwks_uri": format!("{b}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks() -> Json<Value> {
    let text = std::fs::read_to_string(super::common::fixture("oauth/jwks.json")).unwrap();
    Json(serde_json::from_str(&text).unwrap())
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse(uri).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
    let state = q.get("state").cloned().unwrap_or_default();
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) || q.get("response_type").map(String::as_str) != Some("code") {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    if q.contains_key("deny") {
        return Redirect::to(&with_query(&redirect_uri, &[("error", "access_denied"), ("error_description", "The user denied access"), ("state", &state)])).into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let grant = Grant {
        email: q.get("login").cloned().unwrap_or_default(),
        redirect_uri: redirect_uri.clone(),
        code_challenge: q.get("code_challenge").cloned(),
        nonce: q.get("nonce").cloned(),
        openid: q.get("scope").is_some_and(|s| s.split(' ').any(|s| s == "openid")),
    };
    s.recorded.lock().unwrap().codes.insert(code.clone(), grant);
    Redirect::to(&with_query(&redirect_uri, &[("code", &code), ("state", &state)])).into_response()
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

async fn token(State(s): State<Shared>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    s.recorded.lock().unwrap().token.push(form.clone());
    let basic = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic ")).and_then(|b| STANDARD.decode(b).ok());
    let (id, secret) = match basic {
        Some(pair) => {
            let pair = String::from_utf8(pair).unwrap();
            let (id, secret) = pair.split_once(':').unwrap_or_default();
            (id.to_string(), secret.to_string())
        }
        None => (form.get("client_id").cloned().unwrap_or_default(), form.get("client_secret").cloned().unwrap_or_default()),
    };
    if id != CLIENT_ID || secret != CLIENT_SECRET {
        return oauth_error("invalid_client");
    }
    let Some(grant) = form.get("code").and_then(|c| s.recorded.lock().unwrap().codes.remove(c)) else {
        return oauth_error("invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return oauth_error("invalid_grant");
    }
    if let Some(challenge) = &grant.code_challenge {
        use sha2::Digest;
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        if URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())) != *challenge {
            return oauth_error("invalid_grant");
        }
    }
    let access_token = uuid::Uuid::new_v4().simple().to_string();
    s.recorded.lock().unwrap().access_tokens.insert(access_token.clone(), grant.email.clone());
    let mut body = json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "provider-refresh-token" });
    if grant.openid {
        let now = chrono::Utc::now().timestamp();
        let audience = if grant.email.starts_with("wrong-audience") { "another-client" } else { CLIENT_ID };
        let mut claims = profile(&grant.email);
        claims["iss"] = json!(s.base);
        claims["aud"] = json!(audience);
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + 300);
        claims["nonce"] = json!(grant.nonce);
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(super::common::fixture("oauth/id-token-key.pem")).unwrap()).unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("rectus-test".into());
        body["id_token"] = json!(jsonwebtoken::encode(&header, &claims, &key).unwrap());
    }
    Json(body).into_response()
}

/// The email of the user an access token was issued to.
fn token_owner(s: &Shared, headers: &HeaderMap) -> Option<String> {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))?;
    s.recorded.lock().unwrap().access_tokens.get(token).cloned()
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_token" }))).into_response()
}

async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    match token_owner(&s, &headers) {
        Some(email) => Json(profile(&email)).into_response(),
        None => unauthorized(),
    }
}

/// GitHub's `/user`: `email` is null when the user keeps it private.
async fn github_user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let Some(email) = token_owner(&s, &headers) else { return unauthorized() };
    let mut user = profile(&email);
    if email.starts_with("private") {
        user["email"] = Value::Null;
    }
    Json(user).into_response()
}

async fn github_emails(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let Some(email) = token_owner(&s, &headers) else { return unauthorized() };
    Json(json!([
        { "email": "old@example.com", "primary": false, "verified": true },
        { "email": email, "primary": true, "verified": true },
    ]))
    .into_response()
}
