//! What the admin app needs from the server, over HTTP: `/admin` served from an installed
//! `@directus/app` (found like Node finds it), the `/` redirect, routes with a trailing slash,
//! `PATCH /users/me/track/page`, the app-extension bundles, and the `CORS_*` variables with
//! preflights. The app itself in a browser is `tests/browser.rs`.

mod common;

use common::*;
use serde_json::json;
use std::path::Path;

/// A stand-in `@directus/app` build in `<root>/node_modules`: an `index.html` like the real
/// one's head, a hashed chunk and an unhashed file.
fn fake_app(root: &Path) {
    let dist = root.join("node_modules/@directus/app/dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("index.html"), "<!DOCTYPE html>\n<html lang=\"en\">\n\t<head>\n\t\t<meta charset=\"utf-8\" />\n\t\t<link rel=\"manifest\" href=\"manifest.webmanifest\" />\n\t</head>\n\t<body><div id=\"app\"></div></body>\n</html>\n").unwrap();
    std::fs::write(dist.join("assets/vendor.0c19dc20.js"), "export const v = 1;\n").unwrap();
    std::fs::write(dist.join("assets/index.98a59435.css"), "body{}\n").unwrap();
    std::fs::write(dist.join("manifest.webmanifest"), "{}").unwrap();
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn serves_the_app_from_node_modules_above_the_working_directory() {
    let db = TestDb::new(Engine::Sqlite).await;
    // Rectus runs in db.dir; the package sits in its parent's parent, as Node would find it.
    let root = std::env::temp_dir().join(format!("rectus-admin-{}", uuid::Uuid::new_v4().simple()));
    fake_app(&root);
    let cwd = root.join("project/data");
    std::fs::create_dir_all(&cwd).unwrap();
    let env = Server::env(&db, None, &[("PUBLIC_URL", "https://cms.example.com/api/")]);
    assert!(run_cli(&cwd, &env, &["bootstrap"]).status.success());
    let server = Server::spawn(&cwd, &env).await;
    let client = no_redirects();

    for path in ["/admin", "/admin/", "/admin/content/articles/1", "/admin/login?redirect=x"] {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8", "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        // Other sites can't frame the app, and it runs only what this origin serves.
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("frame-ancestors 'self'") && csp.contains("script-src 'self' https://cms.example.com 'unsafe-eval'") && csp.contains("object-src 'none'"), "{csp}");
        assert_eq!((res.headers()["x-frame-options"].to_str().unwrap(), res.headers()["x-content-type-options"].to_str().unwrap()), ("SAMEORIGIN", "nosniff"));
        let html = res.text().await.unwrap();
        assert!(html.contains("<base href=\"https://cms.example.com/api/admin/\">\n\t\t<meta charset=\"utf-8\" />"), "{path}: {html}");
        assert!(html.contains("<div id=\"app\"></div>"), "{path}");
    }

    let res = client.get(server.url("/admin/assets/vendor.0c19dc20.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert_eq!(res.headers()["x-frame-options"], "SAMEORIGIN", "the build's files carry the headers too");
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable", "hashed chunks never change");
    let modified = res.headers()["last-modified"].clone();
    assert_eq!(res.text().await.unwrap(), "export const v = 1;\n");
    let res = client.get(server.url("/admin/assets/vendor.0c19dc20.js")).header("if-modified-since", modified).send().await.unwrap();
    assert_eq!(res.status(), 304, "conditional requests revalidate");
    let res = client.get(server.url("/admin/assets/index.98a59435.css")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/css");
    let res = client.get(server.url("/admin/manifest.webmanifest")).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["cache-control"].to_str().unwrap()), (200, "public, max-age=0"));
    let res = client.get(server.url("/admin/assets/missing.12345678.js")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8", "unknown paths are the app's own routes");
    let res = client.get(server.url("/admin/..%2f..%2fproject/data/data.db")).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("<div id=\"app\">"), "no way out of the build folder");

    let res = client.get(server.url("/")).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (302, "./admin"));
    // A stale token never keeps the app from loading; the API still refuses it.
    let res = client.get(server.url("/admin?access_token=stale")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (status, _) = json(client.get(server.url("/server/info?access_token=stale")).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(!server.log_text().contains("admin app is not installed"));
    assert!(server.stop().success());
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn without_the_app_admin_is_404_and_the_log_says_how_to_install_it() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[("ROOT_REDIRECT", "/admin/login")]).await;
    let (status, body) = json(server.client.get(server.url("/admin")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["extensions"]["code"], "ROUTE_NOT_FOUND");
    let hint: Vec<String> = server.log_text().lines().filter(|l| l.contains("admin app is not installed")).map(str::to_string).collect();
    assert_eq!(hint.len(), 1, "{}", server.log_text());
    assert!(hint[0].contains("npm install @directus/app@9.0.0-rc.83"), "{}", hint[0]);
    let res = no_redirects().get(server.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/login", "ROOT_REDIRECT is followed with or without the app");
    assert!(server.stop().success());

    // SERVE_APP=false: no app even when installed, no hint; ROOT_REDIRECT=false: `/` is a 404.
    let db = TestDb::new(Engine::Sqlite).await;
    fake_app(&db.dir);
    let server = Server::start(&db, None, &[("SERVE_APP", "false"), ("ROOT_REDIRECT", "false")]).await;
    assert_eq!(server.client.get(server.url("/admin")).send().await.unwrap().status(), 404);
    assert_eq!(no_redirects().get(server.url("/")).send().await.unwrap().status(), 404);
    assert!(!server.log_text().contains("admin app is not installed"));
    assert!(server.stop().success());
}

#[tokio::test]
async fn what_the_app_calls_besides_items() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[]).await;
    let token = server.admin_token().await;

    // Express's non-strict routing: one trailing slash matches the same route.
    let (status, body) = json(server.client.get(server.url("/auth/oauth/")).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "data": null })), "no providers, as rc.83 answers");
    let (status, body) = server.send(&token, "GET", "/users/me/?fields=email", None).await;
    assert_eq!((status, body), (200, json!({ "data": { "email": ADMIN_EMAIL } })));
    let (status, body) = json(server.client.get(server.url("/nothing/here/")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["message"], "Route /nothing/here/ doesn't exist.", "the 404 names the path as sent");

    // The app's last page, on every navigation.
    let (status, body) = server.send(&token, "PATCH", "/users/me/track/page", Some(json!({ "last_page": "/collections/articles" }))).await;
    assert_eq!((status, body), (200, serde_json::Value::Null));
    assert_eq!(db.count("directus_users", "last_page = '/collections/articles'").await, 1);
    assert_eq!(db.count("directus_activity", "collection = 'directus_users' AND action = 'update'").await, 0, "written as the system: no activity, as in Directus");
    let (status, body) = server.send(&token, "PATCH", "/users/me/track/page", Some(json!({ "other": 1 }))).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0], json!({ "message": "\"last_page\" key is required.", "extensions": { "code": "INVALID_PAYLOAD" } }));
    let (status, body) = json(server.client.patch(server.url("/users/me/track/page")).json(&json!({ "last_page": "/x" })).send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (401, Some("INVALID_CREDENTIALS")));

    // App extensions: none, as Directus answers when none are installed.
    for kind in ["interfaces", "displays", "layouts", "modules", "interface"] {
        let res = server.client.get(server.url(&format!("/extensions/{kind}/index.js"))).send().await.unwrap();
        assert_eq!(res.status(), 200, "{kind}");
        assert_eq!(res.headers()["content-type"], "application/javascript; charset=UTF-8");
        assert_eq!(res.text().await.unwrap(), "export default [];");
        let (status, body) = server.send(&token, "GET", &format!("/extensions/{kind}"), None).await;
        assert_eq!((status, body), (200, json!({ "data": [] })), "{kind}");
    }
    let (status, body) = json(server.client.get(server.url("/extensions/hooks/index.js")).send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["message"].as_str()), (404, Some("Route /hooks/index.js doesn't exist.")));
    assert!(server.stop().success());
}

/// One preflight and one simple request from `origin`; the headers that matter, by name.
async fn cors_headers(server: &Server, origin: &str) -> (u16, Vec<(String, String)>, Vec<(String, String)>) {
    let pick = |headers: &reqwest::header::HeaderMap| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("access-control-") || name.as_str() == "vary")
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        out.sort();
        out
    };
    let preflight = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/items/articles"))
        .header("origin", origin)
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "content-type,x-custom")
        .send()
        .await
        .unwrap();
    let status = preflight.status().as_u16();
    let preflight = pick(preflight.headers());
    let simple = server.client.get(server.url("/server/ping")).header("origin", origin).send().await.unwrap();
    (status, preflight, pick(simple.headers()))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    out.sort();
    out
}

#[tokio::test]
async fn cors_defaults_reflect_the_origin_with_credentials() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[]).await;
    let (status, preflight, simple) = cors_headers(&server, "http://app.example").await;
    assert_eq!(status, 204);
    assert_eq!(
        preflight,
        pairs(&[
            ("access-control-allow-origin", "http://app.example"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "GET,POST,PATCH,DELETE"),
            ("access-control-allow-headers", "content-type,authorization"),
            ("access-control-max-age", "18000"),
            ("vary", "origin"),
        ])
    );
    assert_eq!(
        simple,
        pairs(&[
            ("access-control-allow-origin", "http://app.example"),
            ("access-control-allow-credentials", "true"),
            ("access-control-expose-headers", "content-range"),
            ("vary", "origin"),
        ])
    );
    // Errors carry the headers too, or the browser would hide them from the app.
    let res = server.client.get(server.url("/items/nothing")).header("origin", "http://app.example").send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["access-control-allow-origin"].to_str().unwrap()), (403, "http://app.example"));
    assert!(server.stop().success());
}

#[tokio::test]
async fn cors_variables() {
    // A list: listed origins are reflected, others get no allow-origin.
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(
        &db,
        None,
        &[
            ("CORS_ORIGIN", "array:http://a.example,http://b.example"),
            ("CORS_METHODS", "GET,PUT"),
            ("CORS_ALLOWED_HEADERS", "array:X-Custom,Content-Type"),
            ("CORS_EXPOSED_HEADERS", "Content-Range,X-Total"),
            ("CORS_CREDENTIALS", "false"),
            ("CORS_MAX_AGE", "60"),
        ],
    )
    .await;
    let (_, preflight, simple) = cors_headers(&server, "http://b.example").await;
    assert_eq!(
        preflight,
        pairs(&[
            ("access-control-allow-origin", "http://b.example"),
            ("access-control-allow-methods", "GET,PUT"),
            ("access-control-allow-headers", "x-custom,content-type"),
            ("access-control-max-age", "60"),
            ("vary", "origin"),
        ])
    );
    assert_eq!(simple, pairs(&[("access-control-allow-origin", "http://b.example"), ("access-control-expose-headers", "content-range,x-total"), ("vary", "origin")]));
    let (_, preflight, simple) = cors_headers(&server, "http://evil.example").await;
    assert!(!preflight.iter().any(|(n, _)| n == "access-control-allow-origin"), "{preflight:?}");
    assert!(!simple.iter().any(|(n, _)| n == "access-control-allow-origin"), "{simple:?}");
    assert!(server.stop().success());

    // A string is the one allowed origin; `*` any origin (no credentials with it); headers
    // left empty mirror the preflight's; no max age.
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[("CORS_ORIGIN", "https://cms.example"), ("CORS_ALLOWED_HEADERS", ""), ("CORS_MAX_AGE", "0")]).await;
    let (_, preflight, _) = cors_headers(&server, "http://other.example").await;
    assert_eq!(
        preflight,
        pairs(&[
            ("access-control-allow-origin", "https://cms.example"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "GET,POST,PATCH,DELETE"),
            ("access-control-allow-headers", "content-type,x-custom"),
            ("vary", "origin, access-control-request-headers"),
        ])
    );
    assert!(server.stop().success());
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[("CORS_ORIGIN", "*")]).await;
    let (_, _, simple) = cors_headers(&server, "http://x.example").await;
    assert_eq!(simple, pairs(&[("access-control-allow-origin", "*"), ("access-control-expose-headers", "content-range")]));
    assert!(server.log_text().contains("CORS_CREDENTIALS=true can't be combined"));
    assert!(server.stop().success());

    // CORS_ENABLED=false: no headers, and a preflight is not answered by CORS.
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[("CORS_ENABLED", "false")]).await;
    let res = server.client.get(server.url("/server/ping")).header("origin", "http://a.example").send().await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let res = server.client.request(reqwest::Method::OPTIONS, server.url("/server/ping")).header("origin", "http://a.example").header("access-control-request-method", "GET").send().await.unwrap();
    assert_ne!(res.status(), 204);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert!(server.stop().success());
}
