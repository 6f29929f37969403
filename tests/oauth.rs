//! SSO over HTTP: the real server against a fake OAuth 2 / OpenID Connect provider, with a hook
//! on `oauth.fake.login.before` that refuses a user and wildcard listeners recording the events.

mod common;
mod oauth_provider;

use common::*;
use oauth_provider::{FakeProvider, CLIENT_ID, CLIENT_SECRET};
use serde_json::{json, Value};

const ROLE: &str = "2a0e8f0c-0000-4000-8000-000000000001";
const PUBLIC_URL: &str = "http://rectus.test";
const APP: &str = "http://app.test/after";
const USER_AGENT: &str = "rectus-oauth-test";

/// A browser without cookie jar or automatic redirects, so every hop can be checked.
struct Browser<'a> {
    server: &'a Server,
    client: reqwest::Client,
}

/// The `name=value` part of a `Set-Cookie` for `name`, and the whole header.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<(String, String)> {
    res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|c| c.starts_with(&format!("{name}="))).map(|c| (c.split(';').next().unwrap().to_string(), c.to_string()))
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

impl Browser<'_> {
    /// `GET /auth/oauth/:provider`: the provider's authorization URL and the state cookie.
    async fn start(&self, provider: &str, redirect: Option<&str>) -> (reqwest::Url, String) {
        let mut url = reqwest::Url::parse(&self.server.url(&format!("/auth/oauth/{provider}"))).unwrap();
        if let Some(r) = redirect {
            url.query_pairs_mut().append_pair("redirect", r);
        }
        let res = self.client.get(url).send().await.unwrap();
        assert_eq!(res.status(), 302, "{}", res.text().await.unwrap());
        let (cookie, _) = set_cookie(&res, "rectus_oauth_state").expect("a state cookie");
        (reqwest::Url::parse(&location(&res)).unwrap(), cookie)
    }

    /// The user at the provider: signs in as `login` (or refuses with `deny`); returns the
    /// callback's path and query, to be sent to the server (its public URL is fictitious).
    async fn at_provider(&self, mut authorize: reqwest::Url, extra: &[(&str, &str)]) -> String {
        authorize.query_pairs_mut().extend_pairs(extra);
        let res = self.client.get(authorize).send().await.unwrap();
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        let back = reqwest::Url::parse(&location(&res)).unwrap();
        assert_eq!(back.origin().ascii_serialization(), PUBLIC_URL);
        format!("{}?{}", back.path(), back.query().unwrap_or_default())
    }

    async fn callback(&self, path_and_query: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.server.url(path_and_query));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    /// The whole login: redirect, provider, callback.
    async fn sign_in(&self, provider: &str, extra: &[(&str, &str)], redirect: Option<&str>) -> reqwest::Response {
        let (authorize, cookie) = self.start(provider, redirect).await;
        let back = self.at_provider(authorize, extra).await;
        self.callback(&back, Some(&cookie)).await
    }
}

fn error_of(body: &Value) -> (Value, Value) {
    (body["errors"][0]["extensions"]["code"].clone(), body["errors"][0]["message"].clone())
}

/// The events the fixture hook recorded since the last probe.
async fn events(server: &Server) -> Vec<Value> {
    let (status, body) = server.send("admin-static", "POST", "/items/oauth_probe", Some(json!({}))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{body}");
    body["errors"][0]["extensions"]["events"].as_array().cloned().unwrap()
}

fn names(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

async fn sso_login_over_http(engine: Engine) {
    let provider = FakeProvider::start().await;
    let db = TestDb::new(engine).await;
    let base = provider.base.clone();
    let (authorize_url, access_url, profile_url) = (format!("{base}/authorize"), format!("{base}/token"), format!("{base}/userinfo"));
    let github_user_url = format!("{base}/user");
    let env = [
        ("HOOKS_POOL_SIZE", "1"),
        ("PUBLIC_URL", PUBLIC_URL),
        ("OAUTH_PROVIDERS", "fake,oidc,github"),
        ("OAUTH_GITHUB_KEY", CLIENT_ID),
        ("OAUTH_GITHUB_SECRET", CLIENT_SECRET),
        ("OAUTH_GITHUB_AUTHORIZE_URL", &authorize_url),
        ("OAUTH_GITHUB_ACCESS_URL", &access_url),
        ("OAUTH_GITHUB_PROFILE_URL", &github_user_url),
        ("OAUTH_FAKE_KEY", CLIENT_ID),
        ("OAUTH_FAKE_SECRET", CLIENT_SECRET),
        ("OAUTH_FAKE_AUTHORIZE_URL", &authorize_url),
        ("OAUTH_FAKE_ACCESS_URL", &access_url),
        ("OAUTH_FAKE_PROFILE_URL", &profile_url),
        ("OAUTH_FAKE_SCOPE", "profile,email"),
        ("OAUTH_FAKE_REDIRECT_ALLOW_LIST", APP),
        ("OAUTH_OIDC_KEY", CLIENT_ID),
        ("OAUTH_OIDC_SECRET", CLIENT_SECRET),
        ("OAUTH_OIDC_ISSUER_URL", &base),
        ("OAUTH_OIDC_ALLOW_PUBLIC_REGISTRATION", "true"),
        ("OAUTH_OIDC_DEFAULT_ROLE_ID", ROLE),
    ];
    let hooks = fixture("hooks/oauth");
    Server::start(&db, Some(&hooks), &env).await.stop();
    db.execute(&format!("CREATE TABLE oauth_probe (id {});", db.serial_pk())).await;
    db.execute("UPDATE directus_users SET token = 'admin-static';").await;
    db.execute(&format!("INSERT INTO directus_roles (id, name, icon, admin_access, app_access, enforce_tfa) VALUES ('{ROLE}', 'SSO', 'login', false, true, false);")).await;
    db.execute(&format!("INSERT INTO directus_permissions (role, collection, action, fields) VALUES ('{ROLE}', 'directus_users', 'read', '*');")).await;
    for (id, email, status) in [("01", "banned@example.com", "active"), ("02", "suspended@example.com", "suspended")] {
        db.execute(&format!("INSERT INTO directus_users (id, email, status) VALUES ('2a0e8f0c-0000-4000-8000-0000000000{id}', '{email}', '{status}');")).await;
    }
    let server = Server::start(&db, Some(&hooks), &env).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).user_agent(USER_AGENT).build().unwrap();
    let browser = Browser { server: &server, client };
    assert!(events(&server).await.is_empty());

    // The list, and providers that don't exist.
    let (status, body) = json(browser.client.get(server.url("/auth/oauth")).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "data": ["fake", "oidc", "github"] })));
    for path in ["/auth/oauth/nope", "/auth/oauth/nope/callback?code=x&state=y"] {
        let (status, body) = json(browser.client.get(server.url(path)).send().await.unwrap()).await;
        assert_eq!((status, error_of(&body).0), (404, json!("ROUTE_NOT_FOUND")), "{path}");
    }

    // The redirect carries state and a PKCE challenge; the state lives in a signed httpOnly cookie.
    let res = browser.client.get(server.url("/auth/oauth/fake")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let (_, cookie) = set_cookie(&res, "rectus_oauth_state").unwrap();
    for attribute in ["HttpOnly", "Path=/auth/oauth", "SameSite=Lax", "Max-Age=600"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let to = reqwest::Url::parse(&location(&res)).unwrap();
    assert_eq!(format!("{}{}", to.origin().ascii_serialization(), to.path()), authorize_url);
    let query: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], format!("{PUBLIC_URL}/auth/oauth/fake/callback"));
    assert_eq!(query["scope"], "profile email");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query["state"].len() >= 16 && query["code_challenge"].len() >= 43, "{query:?}");
    events(&server).await;

    // Success: Rectus tokens that work, and the events in Directus's order and shapes.
    let res = browser.sign_in("fake", &[("login", "Admin@Example.com")], None).await;
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["expires"], 900_000);
    assert_eq!(body["data"]["refresh_token"].as_str().unwrap().len(), 64);
    let access = body["data"]["access_token"].as_str().unwrap().to_string();
    let (status, me) = server.send(&access, "GET", "/users/me", None).await;
    assert_eq!((status, me["data"]["email"].clone()), (200, json!(ADMIN_EMAIL)));
    {
        let recorded = provider.recorded.lock().unwrap();
        let token = recorded.token.last().unwrap();
        assert_eq!(token["client_secret"], CLIENT_SECRET, "credentials in the body, as grant sent them");
        assert!(token["code_verifier"].len() >= 43, "the PKCE verifier: {token:?}");
    }
    let recorded = events(&server).await;
    assert_eq!(names(&recorded), ["oauth.fake.redirect", "oauth.fake.redirect.before", "oauth.fake.login.before", "auth.login.before", "auth.login", "oauth.fake.login"]);
    let before = &recorded[2];
    assert_eq!((before["argc"].clone(), before["payload_is_input"].clone(), before["action"].clone()), (json!(2), json!(true), json!("oauth.login")));
    assert_eq!((before["status"].clone(), before["user"].clone(), before["has_schema"].clone()), (json!("pending"), Value::Null, json!(true)));
    assert_eq!(before["accountability"], json!({ "ip": "127.0.0.1", "userAgent": USER_AGENT, "role": null }));
    assert_eq!(before["input"]["profile"]["email"], "Admin@Example.com");
    assert_eq!(before["input"]["refresh_token"], "provider-refresh-token");
    assert!(before["input"]["access_token"].is_string() && before["input"].get("id_token").is_none());
    assert_eq!(recorded[3]["input"], json!({ "email": "Admin@Example.com" }));
    assert_eq!((recorded[4]["status"].clone(), recorded[5]["status"].clone()), (json!("success"), json!("success")));
    assert_eq!(recorded[5]["argc"], 2);

    // Redirect mode: the refresh token in the cookie, the browser sent where the app asked.
    let res = browser.sign_in("fake", &[("login", ADMIN_EMAIL)], Some("http://app.test/after?from=sso")).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "http://app.test/after?from=sso");
    let (refresh_cookie, _) = set_cookie(&res, "directus_refresh_token").expect("the refresh cookie");
    let res = browser.client.post(server.url("/auth/refresh")).header("cookie", refresh_cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let recorded = events(&server).await;
    assert_eq!(names(&recorded)[..2], ["oauth.fake.redirect", "oauth.fake.redirect.before"]);
    for e in &recorded[..2] {
        assert_eq!((e["argc"].clone(), e["action"].clone(), e["user"].clone()), (json!(1), json!("redirect"), Value::Null));
        assert_eq!(e["payload"], json!({ "provider": "fake", "redirect": "http://app.test/after?from=sso" }));
        assert_eq!((e["accountability"]["role"].clone(), e["accountability"]["userAgent"].clone()), (Value::Null, json!(USER_AGENT)));
    }

    // No open redirect: only the provider's allow list and the server's own origin are targets;
    // anything else is refused before the provider is involved.
    for (provider, hostile) in [("fake", "http://evil.test/after"), ("fake", "//evil.test/after"), ("fake", "/\\evil.test"), ("fake", "http://app.test.evil/after"), ("github", APP)] {
        let mut url = reqwest::Url::parse(&server.url(&format!("/auth/oauth/{provider}"))).unwrap();
        url.query_pairs_mut().append_pair("redirect", hostile);
        let res = browser.client.get(url).send().await.unwrap();
        assert!(set_cookie(&res, "rectus_oauth_state").is_none(), "{hostile}");
        let (status, body) = json(res).await;
        let message = format!("URL \"{hostile}\" can't be used to redirect after login.");
        assert_eq!((status, error_of(&body)), (400, (json!("INVALID_PAYLOAD"), json!(message))), "{provider} {hostile}");
    }
    assert!(events(&server).await.is_empty(), "a refused redirect emits no event");
    for same_origin in [format!("{PUBLIC_URL}/admin/login?continue"), "/admin/login".to_string()] {
        let (authorize, _) = browser.start("github", Some(&same_origin)).await;
        assert!(authorize.as_str().starts_with(&base), "{same_origin} → {authorize}");
    }
    events(&server).await;

    // State: tampered, missing, or another provider's.
    let (authorize, cookie) = browser.start("fake", None).await;
    let back = browser.at_provider(authorize, &[("login", ADMIN_EMAIL)]).await;
    let forged = back.split("state=").next().unwrap().to_string() + "state=forged";
    for (path, cookie) in [(forged.as_str(), Some(cookie.as_str())), (back.as_str(), None)] {
        let (status, body) = json(browser.callback(path, cookie).await).await;
        assert_eq!((status, error_of(&body).0), (400, json!("INVALID_PAYLOAD")), "{path}");
        assert!(error_of(&body).1.as_str().unwrap().contains("start the login again"), "{body}");
    }
    let (_, other_cookie) = browser.start("oidc", None).await;
    let (status, body) = json(browser.callback(&back, Some(&other_cookie)).await).await;
    assert_eq!((status, error_of(&body).0), (400, json!("INVALID_PAYLOAD")), "another login's state: {body}");
    let (status, body) = json(browser.callback(&back, Some(&cookie)).await).await;
    assert_eq!(status, 200, "the right state still works: {body}");
    events(&server).await;

    // The user refuses at the provider.
    let (status, body) = json(browser.sign_in("fake", &[("deny", "1")], None).await).await;
    assert_eq!((status, error_of(&body).0), (401, json!("INVALID_CREDENTIALS")));
    assert_eq!(error_of(&body).1, "fake did not sign you in: The user denied access");
    let recorded = events(&server).await;
    assert_eq!(names(&recorded), ["oauth.fake.redirect", "oauth.fake.redirect.before", "oauth.fake.login.before", "oauth.fake.login"]);
    assert_eq!(recorded[2]["input"]["error"]["error"], "access_denied");
    assert_eq!(recorded[3]["status"], "fail");
    let res = browser.sign_in("fake", &[("deny", "1")], Some(APP)).await;
    assert_eq!((res.status().as_u16(), location(&res)), (302, format!("{APP}?reason=INVALID_USER")));
    assert!(set_cookie(&res, "directus_refresh_token").is_none());

    // Unknown, email-less and suspended users; registration is off for this provider.
    let (status, body) = json(browser.sign_in("fake", &[("login", "nobody@example.com")], None).await).await;
    assert_eq!((status, error_of(&body)), (401, (json!("INVALID_CREDENTIALS"), json!("No user has the email address nobody@example.com."))));
    assert_eq!(db.count("directus_users", "email = 'nobody@example.com'").await, 0);
    let (status, body) = json(browser.sign_in("fake", &[("login", "noemail@example.com")], None).await).await;
    assert_eq!((status, error_of(&body)), (401, (json!("INVALID_CREDENTIALS"), json!("fake did not share an email address (looked for \"email\" in the profile)."))));
    let (status, body) = json(browser.sign_in("fake", &[("login", "suspended@example.com")], None).await).await;
    assert_eq!((status, error_of(&body)), (401, (json!("USER_SUSPENDED"), json!("User suspended."))));
    let res = browser.sign_in("fake", &[("login", "suspended@example.com")], Some(APP)).await;
    assert_eq!(location(&res), format!("{APP}?reason=USER_SUSPENDED"));
    let res = browser.sign_in("fake", &[("login", "nobody@example.com")], Some(APP)).await;
    assert_eq!(location(&res), format!("{APP}?reason=INVALID_USER"));
    events(&server).await;

    // The hook refuses banned@example.com with its own exception; nobody gets a session.
    let sessions = db.count("directus_sessions", "1 = 1").await;
    let (status, body) = json(browser.sign_in("fake", &[("login", "banned@example.com")], None).await).await;
    assert_eq!((status, error_of(&body)), (400, (json!("INVALID_PAYLOAD"), json!("banned@example.com may not sign in"))));
    assert_eq!(body["errors"][0]["extensions"]["provider"], "fake");
    let res = browser.sign_in("fake", &[("login", "banned@example.com")], Some(APP)).await;
    assert_eq!(location(&res), format!("{APP}?reason=INVALID_PAYLOAD"));
    assert_eq!(db.count("directus_sessions", "1 = 1").await, sessions);
    let recorded = events(&server).await;
    assert_eq!(names(&recorded)[2..4], ["oauth.fake.login.before", "oauth.fake.login"], "no auth.login: {:?}", names(&recorded));
    assert_eq!(recorded[3]["status"], "fail");

    // OpenID Connect: discovery, nonce, verified ID token; a first login registers the user.
    let (authorize, _) = browser.start("oidc", None).await;
    let query: std::collections::HashMap<String, String> = authorize.query_pairs().into_owned().collect();
    assert_eq!(format!("{}{}", authorize.origin().ascii_serialization(), authorize.path()), authorize_url);
    assert!(query["scope"].split(' ').any(|s| s == "openid") && query.contains_key("nonce") && query.contains_key("code_challenge"), "{query:?}");
    let (status, body) = json(browser.sign_in("oidc", &[("login", "newcomer@example.com")], None).await).await;
    assert_eq!(status, 200, "{body}");
    let access = body["data"]["access_token"].as_str().unwrap().to_string();
    let (_, me) = server.send(&access, "GET", "/users/me", None).await;
    assert_eq!((me["data"]["email"].clone(), me["data"]["first_name"].clone(), me["data"]["role"].clone()), (json!("newcomer@example.com"), json!("newcomer"), json!(ROLE)));
    assert!(provider.recorded.lock().unwrap().token.last().unwrap().get("client_secret").is_none(), "client_secret_basic for OpenID Connect");
    let recorded = events(&server).await;
    assert_eq!(names(&recorded)[4..], ["oauth.oidc.login.before", "users.create", "auth.login.before", "auth.login", "oauth.oidc.login"]);
    let grant = &recorded[4]["input"];
    assert_eq!((grant["profile"]["email"].clone(), grant["profile"]["aud"].clone()), (json!("newcomer@example.com"), json!(CLIENT_ID)));
    assert_eq!(grant["id_token"].as_str().unwrap().split('.').count(), 3);
    let (status, body) = json(browser.sign_in("oidc", &[("login", "newcomer@example.com")], None).await).await;
    assert_eq!(status, 200, "a second login finds the registered user: {body}");
    assert_eq!(db.count("directus_users", "email = 'newcomer@example.com'").await, 1);

    // GitHub hides private emails from /user; /user/emails has the primary one.
    db.execute("INSERT INTO directus_users (id, email, status) VALUES ('2a0e8f0c-0000-4000-8000-000000000003', 'private@example.com', 'active');").await;
    let (status, body) = json(browser.sign_in("github", &[("login", "private@example.com")], None).await).await;
    assert_eq!(status, 200, "{body}");
    let access = body["data"]["access_token"].as_str().unwrap().to_string();
    let (_, me) = server.send(&access, "GET", "/users/me", None).await;
    assert_eq!(me["data"]["id"], "2a0e8f0c-0000-4000-8000-000000000003");

    // An address the provider has not verified is refused, before anyone is registered.
    let (status, body) = json(browser.sign_in("oidc", &[("login", "unverified@example.com")], None).await).await;
    assert_eq!((status, error_of(&body)), (401, (json!("INVALID_CREDENTIALS"), json!("oidc has not verified the email address unverified@example.com."))));
    assert_eq!(db.count("directus_users", "email = 'unverified@example.com'").await, 0);

    // An ID token issued to another client is refused.
    let (status, body) = json(browser.sign_in("oidc", &[("login", "wrong-audience@example.com")], None).await).await;
    assert_eq!((status, error_of(&body).0), (401, json!("INVALID_CREDENTIALS")));
    assert!(error_of(&body).1.as_str().unwrap().starts_with("oidc's ID token is not valid"), "{body}");
    assert_eq!(db.count("directus_users", "email = 'wrong-audience@example.com'").await, 0);
    assert!(server.stop().success());
}

on_every_engine!(sso_login_over_http);

#[tokio::test]
async fn misconfigured_provider_stops_the_server_naming_the_variable() {
    let db = TestDb::new(Engine::Sqlite).await;
    let env = Server::env(&db, None, &[("OAUTH_PROVIDERS", "acme"), ("OAUTH_ACME_KEY", "id")]);
    let out = run_cli(&db.dir, &env, &["bootstrap"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("OAUTH_ACME_AUTHORIZE_URL"), "{stderr}");
}

#[tokio::test]
async fn without_providers_the_list_is_null() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[]).await;
    let (status, body) = json(server.client.get(server.url("/auth/oauth")).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "data": null })));
    let (status, body) = json(server.client.get(server.url("/auth/oauth/github")).send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (404, json!("Route /auth/oauth/github doesn't exist.")));
    assert!(server.stop().success());
}
