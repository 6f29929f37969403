//! Routes and middleware hooks register on Directus's `app`, the order of the app events, and
//! `request.not_found` with its raw `(req, res)` — over HTTP against the real server.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn hook_routes_middleware_and_not_found() {
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = fixture("hooks/app");
    let server = Server::start(&db, Some(&ext), &[("HOOKS_POOL_SIZE", "1")]).await;
    let token = server.admin_token().await;
    let get = |path: &str| server.client.get(server.url(path));

    let (status, body) = json(get("/hello/ada?x=1").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "hello": "ada", "query": { "x": "1" }, "admin": false })));
    let (_, body) = json(get("/hello/ada").bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(body["admin"], true, "req.accountability is the caller's");
    let (status, body) = json(get("/hello/ada").header("x-block", "yes").send().await.unwrap()).await;
    assert_eq!((status, body), (418, json!({ "blocked": true })), "app.use middleware runs first and may answer");

    let (status, body) = json(get("/items/secret").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "data": "from a hook" })), "routes.init.before comes before Rectus's routers");
    let (status, _) = json(get("/items/other").send().await.unwrap()).await;
    assert_eq!(status, 403, "other collections still reach Rectus");

    let (status, body) = json(server.client.post(server.url("/echo")).json(&json!({ "a": [1, 2] })).send().await.unwrap()).await;
    assert_eq!((status, body), (201, json!({ "a": [1, 2] })));
    let res = server.client.post(server.url("/echo")).header("content-type", "application/json").body("{oops").send().await.unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_PAYLOAD");

    let res = get("/custom/order").send().await.unwrap();
    assert_eq!(res.headers()["x-hook"], "app-routes");
    let port = server.url("").rsplit(':').next().unwrap().trim_end_matches('/').parse::<u16>().unwrap();
    let (status, body) = json(res).await;
    let order = json!([
        "init.before",
        "middlewares.init.before",
        "middlewares.init.after",
        "routes.init.before",
        "routes.custom.init.before",
        "routes.custom.init.after",
        "routes.init.after"
    ]);
    assert_eq!((status, body), (200, json!({ "order": order, "startedOn": port })), "app events in Directus's order; server.start.before gets the server");
    let res = get("/custom/mounted/deep/path?q=1").send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "/custom/mounted|/deep/path?q=1|/custom/mounted/deep/path?q=1");

    let (status, body) = json(get("/custom/fail").send().await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0], json!({ "message": "a hook route refused", "extensions": { "code": "INVALID_PAYLOAD" } }));

    for unreachable in ["/custom/next", "/after", "/nothing"] {
        let (status, body) = json(get(unreachable).send().await.unwrap()).await;
        assert_eq!(status, 404, "{unreachable}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "ROUTE_NOT_FOUND", "{unreachable}");
    }

    let res = server.client.get(server.url("/legacy")).send().await.unwrap();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert_eq!(res.status(), 200, "followed the hook's redirect");
    let res = no_redirects.get(server.url("/legacy")).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (301, "/custom/order"));
    let res = get("/claimed").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Cannot GET /claimed"), "a claimed request gets Express's final 404");
    assert!(server.stop().success());
}
