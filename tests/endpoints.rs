//! Endpoint extensions (`extensions/endpoints/<name>/index.js`, mounted at `/custom/<name>` with
//! Express's router), `express.Router()` in hooks, hot reload of an endpoint, the CLI on them, and
//! the admin app's extension bundles — over HTTP against the real server.

mod common;

use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The fixture's extensions folder, with the npm package its endpoint requires installed.
fn extensions() -> PathBuf {
    let dir = fixture("extensions-endpoints");
    npm_ci(&dir, &[]);
    dir.join("extensions")
}

/// Params, query, a JSON body, an npm package, a service call as the caller, a knex query,
/// middleware, thrown and rejected errors, `next(err)` to error middleware, Express's routing
/// rules; a broken endpoint beside them; a hook's `express.Router()` after them.
async fn endpoints_answer(engine: Engine) {
    let db = TestDb::new(engine).await;
    let ext = extensions();
    let extra = [("HOOKS_POOL_SIZE", "1")];
    Server::start(&db, Some(&ext), &extra).await.stop();
    db.execute(&format!("CREATE TABLE articles (id {}, title varchar(50));", db.serial_pk())).await;
    db.execute("INSERT INTO articles (title) VALUES ('one');").await;
    db.execute("INSERT INTO articles (title) VALUES ('two');").await;
    let server = Server::start(&db, Some(&ext), &extra).await;
    let token = server.admin_token().await;
    let get = |path: &str| server.client.get(server.url(path));
    let code = |body: &serde_json::Value| body["errors"][0]["extensions"]["code"].clone();

    let res = get("/custom/greet/hello/ada?x=1").send().await.unwrap();
    assert_eq!(res.headers()["x-endpoint"], "greet", "router.use middleware ran");
    let (status, body) = json(res).await;
    let expected = json!({
        "hello": "ada",
        "query": { "x": "1" },
        "baseUrl": "/custom/greet",
        "path": "/hello/ada",
        "originalUrl": "/custom/greet/hello/ada?x=1",
        "user": null,
        "admin": false,
        "collections": true,
    });
    assert_eq!((status, body), (200, expected));
    let (_, body) = json(get("/custom/greet/hello/ada/").bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!((body["admin"].clone(), body["user"].is_string()), (json!(true), true), "req.accountability is the caller's: {body}");

    let res = get("/custom/greet/request?fields=id,title&sort=-id&limit=1&filter[title][_eq]=one&meta=*").header("cookie", "a=1; b=x%20y").send().await.unwrap();
    let (status, body) = json(res).await;
    let sanitized = json!({ "fields": ["id", "title"], "sort": ["-id"], "filter": { "title": { "_eq": "one" } }, "limit": 1, "meta": ["total_count", "filter_count"] });
    assert_eq!((status, body), (200, json!({ "sanitizedQuery": sanitized, "cookies": { "a": "1", "b": "x y" } })));
    let (_, body) = json(get("/custom/greet/request").send().await.unwrap()).await;
    assert_eq!(body["sanitizedQuery"], json!({ "fields": ["*"] }));
    let (status, body) = json(get("/custom/greet/request?limit=lots").send().await.unwrap()).await;
    assert_eq!((status, code(&body)), (400, json!("INVALID_QUERY")), "the query is sanitised before the endpoint, as on Directus");

    let res = get("/custom/greet").send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(res.text().await.unwrap(), "greet root");
    let (_, body) = json(get("/custom/greet/files/7").send().await.unwrap()).await;
    assert_eq!(body, json!({ "id": "7" }));
    let (_, body) = json(get("/custom/greet/files/7/small").send().await.unwrap()).await;
    assert_eq!(body, json!({ "id": "7", "size": "small" }));
    let (_, body) = json(get("/custom/greet/v12").send().await.unwrap()).await;
    assert_eq!(body, json!({ "version": 12 }), "a RegExp path with its capture in req.params");

    let res = server.client.post(server.url("/custom/greet/slug")).json(&json!({ "title": "Hello Rectus World" })).send().await.unwrap();
    let (status, body) = json(res).await;
    assert_eq!((status, body), (201, json!({ "slug": "hello-rectus-world", "body": { "title": "Hello Rectus World" } })));

    let (status, body) = json(get("/custom/greet/articles").send().await.unwrap()).await;
    assert_eq!((status, code(&body)), (403, json!("FORBIDDEN")), "the public caller can't read articles: {body}");
    let (status, body) = json(get("/custom/greet/articles").bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "data": [{ "id": 1, "title": "one" }, { "id": 2, "title": "two" }] })));
    let (_, body) = json(get("/custom/greet/count").send().await.unwrap()).await;
    assert_eq!(body, json!({ "count": 2 }));

    let (status, body) = json(get("/custom/greet/throw").send().await.unwrap()).await;
    assert_eq!((status, body), (400, json!({ "errors": [{ "message": "greet refuses this", "extensions": { "code": "INVALID_PAYLOAD" } }] })));
    let (status, body) = json(get("/custom/greet/reject").send().await.unwrap()).await;
    assert_eq!((status, code(&body)), (500, json!("INTERNAL_SERVER_ERROR")), "{body}");
    let (status, body) = json(get("/custom/greet/handled").send().await.unwrap()).await;
    assert_eq!((status, body), (409, json!({ "handled": "to the error handler" })));
    let (status, body) = json(get("/custom/greet/hello/ada").header("x-refuse", "1").send().await.unwrap()).await;
    assert_eq!((status, code(&body)), (403, json!("FORBIDDEN")), "middleware passed an error to next()");

    assert_eq!(get("/custom/greet/thing").send().await.unwrap().text().await.unwrap(), "got thing");
    assert_eq!(server.client.put(server.url("/custom/greet/thing")).send().await.unwrap().text().await.unwrap(), "put thing");
    let (_, body) = json(server.client.patch(server.url("/custom/greet/any")).send().await.unwrap()).await;
    assert_eq!(body, json!({ "method": "PATCH" }));
    assert_eq!(get("/custom/greet/skip").send().await.unwrap().text().await.unwrap(), "second route", "next('route')");
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirects.get(server.url("/custom/greet/go")).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (301, "/custom/greet/hello/redirected"));
    assert_eq!(res.text().await.unwrap(), "Moved Permanently. Redirecting to /custom/greet/hello/redirected", "as Express answers");

    let (status, body) = json(get("/custom/default-export").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "from": "default export" })));
    let (status, body) = json(get("/custom/from-hook/bird").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "word": "bird", "baseUrl": "/custom/from-hook" })), "a hook's express.Router()");

    for missing in ["/custom/greet/nope", "/custom/broken", "/custom/nothing"] {
        let (status, body) = json(get(missing).send().await.unwrap()).await;
        assert_eq!((status, code(&body)), (404, json!("ROUTE_NOT_FOUND")), "{missing}");
    }
    let (status, _) = json(server.client.delete(server.url("/custom/greet/thing")).send().await.unwrap()).await;
    assert_eq!(status, 404, "a route without the method passes the request on");
    assert!(server.log_text().contains(r#"Couldn't register endpoint \"broken\": SyntaxError"#), "{}", server.log_text());
    assert!(server.stop().success());
}

on_every_engine!(endpoints_answer);

fn write_endpoint(ext: &Path, body: &str) {
    std::fs::create_dir_all(ext.join("endpoints/stamp")).unwrap();
    std::fs::write(ext.join("endpoints/stamp/index.js"), body).unwrap();
}

fn stamping(version: &str) -> String {
    format!("module.exports = (router) => {{ router.get('/', (req, res) => res.send('{version}')); }};\n")
}

#[tokio::test]
async fn an_edited_endpoint_reloads() {
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = db.dir.join("extensions");
    write_endpoint(&ext, &stamping("v1"));
    let server = Server::start(&db, Some(&ext), &[("EXTENSIONS_AUTO_RELOAD", "true"), ("HOOKS_POOL_SIZE", "1")]).await;
    let stamp = || async { server.client.get(server.url("/custom/stamp")).send().await.unwrap().text().await.unwrap() };
    assert_eq!(stamp().await, "v1");

    write_endpoint(&ext, &stamping("v2"));
    let deadline = Instant::now() + Duration::from_secs(15);
    while stamp().await != "v2" {
        assert!(Instant::now() < deadline, "the edit was not picked up: {}", server.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    write_endpoint(&ext, "module.exports = (router) => { router.get('/', (req, res) => res.send(; };\n");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !server.log_text().contains(r#"endpoint \"stamp\" doesn't load"#) {
        assert!(Instant::now() < deadline, "the broken edit was not reported: {}", server.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stamp().await, "v2", "the previous generation keeps serving");
    assert!(server.stop().success());
}

/// An endpoint that loops forever answers 503 like a hook would, and the rebuilt isolate serves
/// the next request (endpoints run in the hooks' isolates, under the same watchdog and heap limit).
#[tokio::test]
async fn a_runaway_endpoint_is_stopped() {
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = db.dir.join("extensions");
    let body = "module.exports = (router) => {\n  router.get('/spin', () => { for (;;) {} });\n  router.get('/ok', (req, res) => res.send('ok'));\n};\n";
    std::fs::create_dir_all(ext.join("endpoints/runaway")).unwrap();
    std::fs::write(ext.join("endpoints/runaway/index.js"), body).unwrap();
    let server = Server::start(&db, Some(&ext), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "1000")]).await;
    let get = |path: &str| server.client.get(server.url(path)).send();
    // Twice: the rebuilt isolate is watched like the first.
    for attempt in 1..=2 {
        let (status, body) = json(get("/custom/runaway/spin").await.unwrap()).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (503, json!("SERVICE_UNAVAILABLE")), "spin #{attempt}: {body}\n{}", server.log_text());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let res = get("/custom/runaway/ok").await.unwrap();
            if res.status() == 200 {
                assert_eq!(res.text().await.unwrap(), "ok");
                break;
            }
            assert!(Instant::now() < deadline, "the isolate was not rebuilt after spin #{attempt}: {}", server.log_text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(server.stop().success());
}

#[test]
fn the_cli_lists_and_checks_endpoints() {
    let ext = extensions();
    let out = run_cli(&ext, &[("EXTENSIONS_PATH".into(), ext.to_string_lossy().into_owned())], &["extensions", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "hook-router\n  event  routes.custom.init.after",
        "greet  (endpoint)\n  mount  /custom/greet\n  route  GET /custom/greet\n  route  GET /custom/greet/hello/:name",
        "  route  PUT /custom/greet/thing",
        "  route  ALL /custom/greet/any",
        "broken  (endpoint)\n  FAILED SyntaxError",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }

    let out = run_cli(&ext, &[], &["hooks", "check", ext.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for line in ["greet (endpoint)", "✓ mounted at /custom/greet", "✓ route POST /custom/greet/slug", "✗ error: failed to register: SyntaxError", "hooks check: 1 hook, 3 endpoints, 1 error, 0 warnings"] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    let out = run_cli(&ext, &[], &["hooks", "check", ext.join("endpoints/greet").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "one endpoint folder checks on its own: {text}");
    assert!(text.contains("hooks check: 0 hooks, 1 endpoint, 0 errors, 0 warnings"), "{text}");
}

/// The app's extension modules: the list, the type's module importing each extension, and the
/// extension's own file with `vue` pointing at the app's build.
#[tokio::test]
async fn app_extensions_are_served_from_their_folders() {
    let db = TestDb::new(Engine::Sqlite).await;
    let dist = db.dir.join("node_modules/@directus/app/dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<html><head></head><body></body></html>").unwrap();
    std::fs::write(dist.join("vue.f212be23.js"), "export const x = 1;").unwrap();
    let server = Server::start(&db, Some(&extensions()), &[]).await;
    let get = |path: &str| server.client.get(server.url(path));

    let (status, body) = json(get("/extensions/interfaces").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "data": ["rectus-stars"] })));
    let (_, body) = json(get("/extensions/displays").send().await.unwrap()).await;
    assert_eq!(body, json!({ "data": [] }));
    let (status, _) = json(get("/extensions/hooks").send().await.unwrap()).await;
    assert_eq!(status, 404);

    let res = get("/extensions/interfaces/index.js").send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/javascript; charset=UTF-8");
    assert_eq!(res.text().await.unwrap(), "import e0 from './rectus-stars/index.js';\nexport default [e0];");
    assert_eq!(get("/extensions/layouts/index.js").send().await.unwrap().text().await.unwrap(), "export default [];");

    let res = get("/extensions/interfaces/rectus-stars/index.js").send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/javascript; charset=UTF-8");
    let source = res.text().await.unwrap();
    assert!(source.starts_with("import{defineComponent as e,openBlock as t,createBlock as n,toDisplayString as o}from\"/admin/vue.f212be23.js\";"), "{source}");
    assert!(source.contains("id:\"rectus-stars\""), "{source}");
    let (status, _) = json(get("/extensions/interfaces/rectus-stars/%2e%2e/%2e%2e/endpoints/greet/index.js").send().await.unwrap()).await;
    assert_eq!(status, 404, "nothing outside the extension's folder");
    assert!(server.stop().success());
}
