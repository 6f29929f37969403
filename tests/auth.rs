//! Authentication (login, refresh rotation, logout, cookie mode, static and expired tokens, the
//! auth events) and role permissions over HTTP.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    json(server.client.post(server.url(path)).json(&body).send().await.unwrap()).await
}

#[tokio::test]
async fn login_refresh_logout_and_tokens() {
    let db = TestDb::new(Engine::Postgres).await;
    let server = Server::start(&db, Some(&fixture("hooks/recorder")), &[("HOOKS_POOL_SIZE", "1"), ("ACCESS_TOKEN_TTL", "1s")]).await;
    server.stop();
    db.execute(&format!("CREATE TABLE probe (id {}, note varchar(20));", db.serial_pk())).await;
    let server = Server::start(&db, Some(&fixture("hooks/recorder")), &[("HOOKS_POOL_SIZE", "1"), ("ACCESS_TOKEN_TTL", "1s")]).await;

    let (status, body) = post(&server, "/auth/login", json!({ "email": "ADMIN@example.com", "password": "wrong" })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (401, json!("INVALID_CREDENTIALS")));
    assert_eq!(body["errors"][0]["message"], "Invalid user credentials.");
    let (status, _) = post(&server, "/auth/login", json!({ "email": "nobody@example.com", "password": "x" })).await;
    assert_eq!(status, 401);

    // Email matching is case-insensitive; a listener on auth.login.before does not break login.
    let (status, body) = post(&server, "/auth/login", json!({ "email": "Admin@Example.com", "password": ADMIN_PASSWORD })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["expires"], 1000);
    let access = body["data"]["access_token"].as_str().unwrap().to_string();
    let refresh = body["data"]["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(refresh.len(), 64);
    assert_eq!(db.count("directus_sessions", &format!("token = '{refresh}'")).await, 1);
    assert_eq!(db.count("directus_activity", "action = 'authenticate'").await, 1);

    // The token works, then expires.
    let res = server.client.get(server.url("/items/probe")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = json(server.client.get(server.url("/items/probe")).bearer_auth(&access).send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (401, json!("Token expired.")));
    let forged = format!("{}x", &access[..access.len() - 1]);
    let (status, body) = json(server.client.get(server.url("/items/probe")).bearer_auth(&forged).send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (401, json!("Token invalid.")));

    // Refresh rotates the refresh token; the old one stops working; logout ends the session.
    let (status, body) = post(&server, "/auth/refresh", json!({ "refresh_token": refresh })).await;
    assert_eq!(status, 200, "{body}");
    let rotated = body["data"]["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rotated, refresh);
    let (status, _) = post(&server, "/auth/refresh", json!({ "refresh_token": refresh })).await;
    assert_eq!(status, 401);
    let res = server.client.post(server.url("/auth/logout")).json(&json!({ "refresh_token": rotated })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(db.count("directus_sessions", "1 = 1").await, 0);
    let (status, body) = post(&server, "/auth/refresh", json!({})).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")));

    // Cookie mode: the refresh token lives in an httpOnly cookie only.
    let res = server.client.post(server.url("/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "mode": "cookie" })).send().await.unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("directus_refresh_token=") && cookie.contains("HttpOnly"), "{cookie}");
    let body: Value = res.json().await.unwrap();
    assert!(body["data"].get("refresh_token").is_none());
    let pair = cookie.split(';').next().unwrap().to_string();
    let res = server.client.post(server.url("/auth/refresh")).header("cookie", pair).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // Static tokens, by header and by query parameter; suspended users are refused.
    db.execute("UPDATE directus_users SET token = 'static-admin-token';").await;
    let res = server.client.get(server.url("/items/probe")).bearer_auth("static-admin-token").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = server.client.get(server.url("/items/probe?access_token=static-admin-token")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (status, body) = json(server.client.get(server.url("/items/probe")).bearer_auth("nope").send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (401, json!("INVALID_CREDENTIALS")));

    // The auth events, in order, with their statuses.
    let (_, body) = json(server.client.post(server.url("/items/probe")).bearer_auth("static-admin-token").json(&json!({})).send().await.unwrap()).await;
    let events = body["errors"][0]["extensions"]["events"].as_array().cloned().unwrap();
    let auth: Vec<(String, Value)> = events
        .iter()
        .filter(|e| e["event"].as_str().unwrap().starts_with("auth.") || e["event"].as_str().unwrap().starts_with("activity.create"))
        .map(|e| (e["event"].as_str().unwrap().to_string(), e["status"].clone()))
        .collect();
    let names: Vec<&str> = auth.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..4], ["auth.login.before", "auth.login", "auth.login.before", "auth.login"], "two failed logins first: {names:?}");
    assert_eq!(&names[4..8], ["auth.login.before", "activity.create.before", "activity.create", "auth.login"]);
    db.execute("UPDATE directus_users SET status = 'suspended';").await;
    let (status, body) = post(&server, "/auth/login", json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (401, json!("USER_SUSPENDED")));
    assert!(server.stop().success());
}

/// A role that may read published articles' id and title only, create drafts, and nothing else;
/// the public role may read nothing.
async fn permissions(engine: Engine) {
    let db = TestDb::new(engine).await;
    Server::start(&db, None, &[]).await.stop();
    db.execute(&format!("CREATE TABLE articles (id {}, title varchar(255), status varchar(20), secret varchar(50));", db.serial_pk())).await;
    db.execute("INSERT INTO articles (title, status, secret) VALUES ('one', 'published', 's1'), ('two', 'draft', 's2'), ('three', 'published', 's3');").await;
    let role = "1f0e8f0c-0000-4000-8000-000000000001";
    db.execute(&format!("INSERT INTO directus_roles (id, name, icon, admin_access, app_access, enforce_tfa) VALUES ('{role}', 'Editor', 'edit', false, false, false);")).await;
    db.execute(&format!("INSERT INTO directus_users (id, email, status, role, token) VALUES ('1f0e8f0c-0000-4000-8000-000000000002', 'editor@example.com', 'active', '{role}', 'editor-token');")).await;
    db.execute(&format!(
        "INSERT INTO directus_permissions (role, collection, action, permissions, fields) VALUES ('{role}', 'articles', 'read', '{{\"status\":{{\"_eq\":\"published\"}}}}', 'id,title');"
    ))
    .await;
    db.execute(&format!(
        "INSERT INTO directus_permissions (role, collection, action, presets, validation, fields) VALUES ('{role}', 'articles', 'create', '{{\"status\":\"draft\"}}', '{{\"title\":{{\"_starts_with\":\"f\"}}}}', 'title,status');"
    ))
    .await;
    let server = Server::start(&db, None, &[]).await;
    let get = |path: String| {
        let req = server.client.get(server.url(&path)).bearer_auth("editor-token");
        async move { json(req.send().await.unwrap()).await }
    };

    let (status, body) = get("/items/articles?meta=*".into()).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    assert_eq!(body["data"], json!([{ "id": 1, "title": "one" }, { "id": 3, "title": "three" }]), "{engine:?}: rows and fields limited");
    assert_eq!(body["meta"], json!({ "total_count": 2, "filter_count": 2 }), "{engine:?}: counts limited too");
    let (_, body) = get("/items/articles?fields=*,secret".into()).await;
    assert!(body["data"].as_array().unwrap().iter().all(|r| r.get("secret").is_none()), "{engine:?}: fields=* never leaks");
    for leak in ["/items/articles?filter[secret][_eq]=s1", "/items/articles?filter[_or][0][secret][_starts_with]=s", "/items/articles?sort=secret", "/items/articles/2"] {
        let (status, _) = get(leak.into()).await;
        assert_eq!(status, 403, "{engine:?} {leak}");
    }
    let (_, body) = get("/items/articles?search=s1".into()).await;
    assert_eq!(body["data"], json!([]), "{engine:?}: search skips forbidden fields");

    let send = |method: &str, path: &str, body: Value| {
        let req = server.client.request(method.parse().unwrap(), server.url(path)).bearer_auth("editor-token").json(&body);
        async move { json(req.send().await.unwrap()).await }
    };
    let (status, _) = send("POST", "/items/articles", json!({ "title": "four" })).await;
    assert_eq!(status, 200, "{engine:?}: create allowed (read-back forbidden for a draft: empty 200)");
    assert_eq!(db.count("articles", "title = 'four' AND status = 'draft'").await, 1, "{engine:?}: preset applied");
    let (status, _) = send("POST", "/items/articles", json!({ "title": "five", "secret": "x" })).await;
    assert_eq!(status, 403, "{engine:?}: forbidden field on create");
    let (status, body) = send("POST", "/items/articles", json!({ "title": "zzz" })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone(), body["errors"][0]["extensions"]["field"].clone()), (400, json!("FAILED_VALIDATION"), json!("title")), "{engine:?}: validation");
    let (status, _) = send("PATCH", "/items/articles/1", json!({ "title": "changed" })).await;
    assert_eq!(status, 403, "{engine:?}: no update permission");
    let (status, _) = send("PATCH", "/items/articles", json!({ "keys": [1, 3], "data": { "title": "changed" } })).await;
    assert_eq!(status, 403, "{engine:?}: batch update");
    let (status, _) = send("DELETE", "/items/articles", json!([1])).await;
    assert_eq!(status, 403, "{engine:?}: no delete permission");
    assert_eq!(db.count("articles", "title = 'changed'").await, 0);
    assert_eq!(db.count("articles", "1 = 1").await, 4);

    let (status, _) = json(server.client.get(server.url("/items/articles")).send().await.unwrap()).await;
    assert_eq!(status, 403, "{engine:?}: public role");
    // Granted through the API, which forgets the cached permission rows at once.
    let admin = server.admin_token().await;
    let (status, _) = server.send(&admin, "POST", "/permissions", Some(json!({ "role": null, "collection": "articles", "action": "read", "fields": ["title"] }))).await;
    assert_eq!(status, 200);
    let (status, body) = json(server.client.get(server.url("/items/articles?limit=1")).send().await.unwrap()).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "title": "one" }])), "{engine:?}: public read permission");
    assert!(server.stop().success());
}

on_every_engine!(permissions);

#[tokio::test]
async fn rate_limiter_stops_brute_force() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[("RATE_LIMITER_ENABLED", "true"), ("RATE_LIMITER_POINTS", "3"), ("RATE_LIMITER_DURATION", "30")]).await;
    for _ in 0..3 {
        let (status, _) = post(&server, "/auth/login", json!({ "email": ADMIN_EMAIL, "password": "guess" })).await;
        assert_eq!(status, 401);
    }
    let res = server.client.post(server.url("/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).send().await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let (_, body) = json(res).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "REQUESTS_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["limit"], 3);
    assert!(server.stop().success());
}

/// A role's `ip_access` list refuses requests from other addresses with 401 `INVALID_IP`, also
/// for a token already resolved (and cached) from an allowed address.
#[tokio::test]
async fn roles_restrict_client_ips() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[]).await;
    let admin = server.admin_token().await;
    let role = server.send(&admin, "POST", "/roles", Some(json!({ "name": "Office", "ip_access": ["10.9.9.9"] }))).await.1["data"]["id"].as_str().unwrap().to_string();
    let (status, _) = server.send(&admin, "POST", "/users", Some(json!({ "email": "office@example.com", "password": "0ffice!", "role": role }))).await;
    assert_eq!(status, 200);
    let (_, login) = post(&server, "/auth/login", json!({ "email": "office@example.com", "password": "0ffice!" })).await;
    let token = login["data"]["access_token"].as_str().unwrap().to_string();
    let me = |from: Option<&str>| {
        let mut req = server.client.get(server.url("/users/me")).bearer_auth(&token);
        if let Some(ip) = from {
            req = req.header("x-forwarded-for", ip);
        }
        async move { json(req.send().await.unwrap()).await }
    };

    let (status, body) = me(Some("10.9.9.9")).await;
    assert!(status == 200 && body["data"]["id"].is_string(), "{status} {body}");
    let (status, body) = me(None).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str(), body["errors"][0]["message"].as_str()), (401, Some("INVALID_IP"), Some("Invalid IP address.")), "{body}");

    let (status, _) = server.send(&admin, "PATCH", &format!("/roles/{role}"), Some(json!({ "ip_access": ["10.9.9.9", "127.0.0.1"] }))).await;
    assert_eq!(status, 200);
    assert_eq!(me(None).await.0, 200, "the role change applies at once");
    assert_eq!(me(Some("10.1.1.1")).await.0, 401);
    assert_eq!(server.send(&admin, "GET", "/users/me", None).await.0, 200, "roles without a list allow every address");
}

/// The current TOTP code of a base32 secret, as an authenticator app shows it.
fn otp(secret: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new().with_secret(secret).build_noncompliant().generate_current().to_string()
}

/// Two-factor setup through `/users/me/tfa/*`, then logins that need the code, then disabling it.
#[tokio::test]
async fn two_factor_logins() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[]).await;
    let admin = server.admin_token().await;
    let code_of = |body: &Value| body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_string();

    let (status, body) = server.send(&admin, "POST", "/users/me/tfa/generate", Some(json!({ "password": "wrong" }))).await;
    assert_eq!((status, code_of(&body)), (401, "INVALID_CREDENTIALS".into()));
    let (status, body) = server.send(&admin, "POST", "/users/me/tfa/generate", Some(json!({ "password": ADMIN_PASSWORD }))).await;
    assert_eq!(status, 200, "{body}");
    let secret = body["data"]["secret"].as_str().unwrap().to_string();
    assert!(body["data"]["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/Directus:admin%40example%2Ecom?secret="), "{body}");

    let (status, body) = server.send(&admin, "POST", "/users/me/tfa/enable", Some(json!({ "secret": secret, "otp": "000000" }))).await;
    assert_eq!((status, code_of(&body)), (400, "INVALID_PAYLOAD".into()));
    let (status, body) = server.send(&admin, "POST", "/users/me/tfa/enable", Some(json!({ "secret": secret, "otp": otp(&secret) }))).await;
    assert_eq!((status, body), (200, Value::Null));

    let login = |extra: Value| {
        let mut body = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        post(&server, "/auth/login", body)
    };
    let (status, body) = login(json!({})).await;
    assert_eq!((status, code_of(&body), body["errors"][0]["message"].as_str()), (401, "INVALID_OTP".into(), Some("\"otp\" is required")));
    let (status, body) = login(json!({ "otp": "123456" })).await;
    assert_eq!((status, code_of(&body)), (401, "INVALID_OTP".into()));
    let (status, body) = login(json!({ "otp": otp(&secret) })).await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["data"]["access_token"].as_str().unwrap().to_string();

    let (status, body) = server.send(&fresh, "POST", "/users/me/tfa/generate", Some(json!({ "password": ADMIN_PASSWORD }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str(), body["errors"][0]["message"].as_str()), (400, Some("INVALID_PAYLOAD"), Some("TFA Secret is already set for this user")));
    let (status, body) = server.send(&fresh, "POST", "/users/me/tfa/disable", Some(json!({ "otp": "000000" }))).await;
    assert_eq!((status, code_of(&body)), (401, "INVALID_OTP".into()));
    let (status, body) = server.send(&fresh, "PATCH", "/users/me", Some(json!({ "tfa_secret": null }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str(), body["errors"][0]["message"].as_str()), (400, Some("INVALID_PAYLOAD"), Some("You can't change the \"tfa_secret\" value manually.")));
    let (status, _) = server.send(&fresh, "POST", "/users/me/tfa/disable", Some(json!({ "otp": otp(&secret) }))).await;
    assert_eq!(status, 200);
    assert_eq!(login(json!({})).await.0, 200, "no code needed once disabled");
}

/// The rest of the permission matrix: update and delete limited by a `$CURRENT_USER` filter
/// (single and batch), reads through a relation the role can't read, and system collections
/// closed to a role without permissions on them.
async fn permission_matrix(engine: Engine) {
    let db = TestDb::new(engine).await;
    Server::start(&db, None, &[]).await.stop();
    let pk = db.serial_pk();
    db.execute(&format!("CREATE TABLE authors (id {pk}, name varchar(50)); CREATE TABLE posts (id {pk}, title varchar(50), owner char(36), author integer);")).await;
    let (role, me, other) = ("2f0e8f0c-0000-4000-8000-000000000001", "2f0e8f0c-0000-4000-8000-000000000002", "2f0e8f0c-0000-4000-8000-000000000003");
    db.execute(&format!(
        "INSERT INTO directus_roles (id, name, icon, admin_access, app_access, enforce_tfa) VALUES ('{role}', 'Writer', 'edit', false, false, false);
         INSERT INTO directus_users (id, email, status, role, token) VALUES ('{me}', 'me@example.com', 'active', '{role}', 'me-token'), ('{other}', 'other@example.com', 'active', '{role}', 'other-token');
         INSERT INTO authors (name) VALUES ('Ann');
         INSERT INTO posts (title, owner, author) VALUES ('mine', '{me}', 1), ('theirs', '{other}', 1), ('mine too', '{me}', NULL);
         INSERT INTO directus_relations (many_collection, many_field, one_collection) VALUES ('posts', 'author', 'authors');"
    ))
    .await;
    for (action, filter) in [("read", "{}"), ("update", "{\"owner\":{\"_eq\":\"$CURRENT_USER\"}}"), ("delete", "{\"owner\":{\"_eq\":\"$CURRENT_USER\"}}")] {
        db.execute(&format!("INSERT INTO directus_permissions (role, collection, action, permissions, fields) VALUES ('{role}', 'posts', '{action}', '{filter}', '*');")).await;
    }
    let server = Server::start(&db, None, &[]).await;

    let (status, _) = server.send("me-token", "PATCH", "/items/posts/1", Some(json!({ "title": "edited" }))).await;
    assert_eq!(status, 200, "{engine:?}: own post");
    let (status, _) = server.send("me-token", "PATCH", "/items/posts/2", Some(json!({ "title": "edited" }))).await;
    assert_eq!(status, 403, "{engine:?}: someone else's post");
    let (status, _) = server.send("me-token", "PATCH", "/items/posts", Some(json!({ "keys": [1, 2], "data": { "title": "batch" } }))).await;
    assert_eq!(status, 403, "{engine:?}: a batch with one forbidden key changes nothing");
    assert_eq!(db.count("posts", "title = 'batch'").await, 0, "{engine:?}");
    let (status, _) = server.send("me-token", "PATCH", "/items/posts", Some(json!({ "keys": [1, 3], "data": { "title": "batch" } }))).await;
    assert_eq!(status, 200, "{engine:?}: a batch of own posts");
    let (status, _) = server.send("me-token", "DELETE", "/items/posts/2", None).await;
    assert_eq!(status, 403, "{engine:?}");
    let (status, _) = server.send("me-token", "DELETE", "/items/posts/3", None).await;
    assert_eq!(status, 200, "{engine:?}");
    assert_eq!(db.count("posts", "1 = 1").await, 2, "{engine:?}");

    // As rc.83: a relation into a collection the role can't read is left out, not refused.
    let (status, body) = server.send("me-token", "GET", "/items/posts?fields=title,author.name&sort=id", None).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "title": "batch" }, { "title": "theirs" }])), "{engine:?}: no read permission on authors");
    let (status, body) = server.send("me-token", "GET", "/items/posts?fields=title,author&sort=id", None).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "title": "batch", "author": 1 }, { "title": "theirs", "author": 1 }])), "{engine:?}: the key itself is a field of posts");

    for path in ["/users", "/roles", "/permissions", "/settings", "/activity", "/webhooks"] {
        let (status, _) = server.send("me-token", "GET", path, None).await;
        assert!(status == 403 || (path == "/settings" && status == 200), "{engine:?}: {path} answered {status}");
        let (status, _) = server.send("me-token", "POST", path, Some(json!({}))).await;
        let refused = if matches!(path, "/settings" | "/activity") { [404, 405] } else { [403, 403] };
        assert!(refused.contains(&status), "{engine:?}: POST {path} answered {status}");
    }
    assert!(server.stop().success());
}

on_every_engine!(permission_matrix);

/// `auth.refresh(.before)` and `auth.logout(.before)` from the routes and from a hook's
/// `AuthenticationService`: arguments, statuses, users, and before-hooks that refuse.
async fn refresh_and_logout_events(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start(&db, Some(&fixture("hooks/auth-events")), &[("HOOKS_POOL_SIZE", "1")]).await;
    let as_agent = |path: &str, agent: &str, body: Value| {
        let req = server.client.post(server.url(path)).header("user-agent", agent).json(&body);
        async move { json(req.send().await.unwrap()).await }
    };
    let login = || async {
        let (_, body) = as_agent("/auth/login", "tester", json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })).await;
        body["data"]["refresh_token"].as_str().unwrap().to_string()
    };
    let sessions = |token: String| {
        let db = &db;
        async move { db.count("directus_sessions", &format!("token = '{token}'")).await }
    };
    let first = login().await;

    let (status, body) = as_agent("/auth/refresh", "refuse-refresh", json!({ "refresh_token": first })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (403, json!("FORBIDDEN")), "{engine:?} {body}");
    assert_eq!(sessions(first.clone()).await, 1, "{engine:?}: a refused refresh keeps the session");
    let (status, body) = as_agent("/auth/refresh", "tester", json!({ "refresh_token": first })).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let second = body["data"]["refresh_token"].as_str().unwrap().to_string();
    let (status, _) = as_agent("/auth/refresh", "tester", json!({ "refresh_token": first })).await;
    assert_eq!(status, 401, "{engine:?}");

    let (status, body) = as_agent("/auth/logout", "refuse-logout", json!({ "refresh_token": second })).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (400, json!("logout refused by hook")), "{engine:?} {body}");
    assert_eq!(body["errors"][0]["extensions"], json!({ "code": "INVALID_PAYLOAD", "reason": "test" }), "{engine:?}");
    assert_eq!(sessions(second.clone()).await, 1, "{engine:?}: a refused logout keeps the session");
    let (status, _) = as_agent("/auth/logout", "tester", json!({ "refresh_token": second })).await;
    assert_eq!((status, sessions(second.clone()).await), (200, 0), "{engine:?}");
    let (status, _) = as_agent("/auth/logout", "tester", json!({ "refresh_token": second })).await;
    assert_eq!(status, 200, "{engine:?}: an unknown token still logs out");

    // An expired session fails with its user known.
    let expired = login().await;
    db.execute(&format!("UPDATE directus_sessions SET expires = '2020-01-01 00:00:00' WHERE token = '{expired}';")).await;
    let (status, _) = as_agent("/auth/refresh", "tester", json!({ "refresh_token": expired })).await;
    assert_eq!((status, sessions(expired.clone()).await), (401, 0), "{engine:?}");

    // The same events from a hook's AuthenticationService (no ip or user agent there).
    let third = login().await;
    let (status, body) = as_agent("/auth-events/service", "tester", json!({ "refresh_token": third })).await;
    assert_eq!((status, body), (200, json!({ "renewed": true })), "{engine:?}");

    let expected = 16;
    let mut events = Vec::new();
    for _ in 0..100 {
        let (_, body) = json(server.client.get(server.url("/auth-events/recorded")).send().await.unwrap()).await;
        events = body.as_array().cloned().unwrap();
        if events.len() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let admin = db_admin_id(&server).await;
    let seen: Vec<(String, String, String, Value)> = events
        .iter()
        .map(|e| (e["event"].as_str().unwrap().to_string(), e["status"].as_str().unwrap().to_string(), e["input"]["userAgent"].as_str().unwrap_or("-").to_string(), e["user"].clone()))
        .collect();
    let row = |event: &str, status: &str, agent: &str, user: Value| (event.to_string(), status.to_string(), agent.to_string(), user);
    let a = || json!(admin);
    assert_eq!(
        seen,
        vec![
            row("auth.refresh.before", "pending", "refuse-refresh", a()),
            row("auth.refresh.before", "pending", "tester", a()),
            row("auth.refresh", "success", "tester", a()),
            row("auth.refresh.before", "pending", "tester", Value::Null),
            row("auth.refresh", "fail", "tester", Value::Null),
            row("auth.logout.before", "pending", "refuse-logout", a()),
            row("auth.logout.before", "pending", "tester", a()),
            row("auth.logout", "success", "tester", a()),
            row("auth.logout.before", "pending", "tester", Value::Null),
            row("auth.logout", "fail", "tester", Value::Null),
            row("auth.refresh.before", "pending", "tester", a()),
            row("auth.refresh", "fail", "tester", a()),
            row("auth.refresh.before", "pending", "-", a()),
            row("auth.refresh", "success", "-", a()),
            row("auth.logout.before", "pending", "-", a()),
            row("auth.logout", "success", "-", a()),
        ],
        "{engine:?}"
    );
    for e in &events {
        let token = e["input"]["refresh_token"].as_str().unwrap();
        assert_eq!((e["argc"].clone(), e["payload_is_input"].clone(), e["has_schema"].clone(), e["has_database"].clone()), (json!(2), json!(true), json!(true), json!(true)), "{engine:?} {e}");
        let action = e["event"].as_str().unwrap().split('.').nth(1).unwrap();
        assert_eq!(e["action"], action, "{engine:?} {e}");
        let from_route = e["input"]["userAgent"].is_string();
        let (ip, agent) = if from_route { (json!("127.0.0.1"), e["input"]["userAgent"].clone()) } else { (Value::Null, Value::Null) };
        assert_eq!(e["input"], json!({ "refresh_token": token, "ip": ip, "userAgent": agent }), "{engine:?} {e}");
        assert_eq!(e["accountability"], json!({ "ip": ip, "userAgent": agent, "role": null }), "{engine:?} {e}");
    }
    assert!(server.stop().success());
}

async fn db_admin_id(server: &Server) -> String {
    let token = server.admin_token().await;
    let (_, me) = server.send(&token, "GET", "/users/me?fields=id", None).await;
    me["data"]["id"].as_str().unwrap().to_string()
}

on_every_engine!(refresh_and_logout_events);
