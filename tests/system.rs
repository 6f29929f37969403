//! The system collections' routes: roles, users (hashing, concealing, `/users/me`), settings as
//! a singleton, read-only activity, and their `<scope>.*` events; `/server/*` and the server and
//! authentication services of hooks.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn roles_users_settings_and_activity() {
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = fixture("hooks/recorder");
    Server::start(&db, Some(&ext), &[]).await.stop();
    db.execute(&format!("CREATE TABLE probe (id {}, note varchar(20));", db.serial_pk())).await;
    let server = Server::start(&db, Some(&ext), &[("HOOKS_POOL_SIZE", "1")]).await;
    let token = server.admin_token().await;
    let send = |method: &str, path: &str, body: Option<Value>, token: &str| {
        let mut req = server.client.request(method.parse().unwrap(), server.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move { json(req.send().await.unwrap()).await }
    };

    // Without app access, so no built-in permission lets its users read even themselves.
    let (status, body) = send("POST", "/roles", Some(json!({ "name": "Editor", "icon": "edit", "app_access": false })), &token).await;
    assert_eq!(status, 200, "{body}");
    let role = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(role.len(), 36, "uuid primary key generated");
    let (_, body) = send("GET", "/roles?sort=name", None, &token).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    let (status, body) = send("POST", "/users", Some(json!({ "email": "editor@example.com", "password": "s3cret!", "role": role })), &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["password"], "**********", "password is concealed");
    assert_eq!(db.count("directus_users", "email = 'editor@example.com' AND password LIKE '$argon2id$%'").await, 1, "and hashed");
    let (status, body) = json(server.client.post(server.url("/auth/login")).json(&json!({ "email": "editor@example.com", "password": "s3cret!" })).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let editor = body["data"]["access_token"].as_str().unwrap().to_string();
    let (status, body) = send("GET", "/users/me", None, &editor).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_object().unwrap().keys().collect::<Vec<_>>(), ["id"], "no read permission: only the id");
    let (_, body) = send("GET", "/users/me?fields=email", None, &token).await;
    assert_eq!(body["data"]["email"], ADMIN_EMAIL);
    let (status, _) = send("GET", "/users", None, &editor).await;
    assert_eq!(status, 403);
    let (status, _) = json(server.client.get(server.url("/users/me")).send().await.unwrap()).await;
    assert_eq!(status, 401);
    // Suspending through the API applies at once, even to a token just used (cached).
    let (_, me) = send("GET", "/users/me", None, &editor).await;
    let editor_id = me["data"]["id"].as_str().unwrap().to_string();
    let (status, _) = send("PATCH", &format!("/users/{editor_id}"), Some(json!({ "status": "suspended" })), &token).await;
    assert_eq!(status, 200);
    let (status, _) = send("GET", "/users/me", None, &editor).await;
    assert_eq!(status, 401, "a suspended user's token stops working immediately");

    let (status, body) = send("PATCH", "/settings", Some(json!({ "project_name": "Rectus Test" })), &token).await;
    assert_eq!((status, body["data"]["project_name"].clone()), (200, json!("Rectus Test")));
    let (_, body) = json(server.client.get(server.url("/server/info")).send().await.unwrap()).await;
    assert_eq!(body["data"]["project"]["project_name"], "Rectus Test");

    let (status, body) = send("GET", "/activity?filter[action][_eq]=authenticate", None, &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let (status, body) = send("POST", "/activity", Some(json!({ "action": "x" })), &token).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (405, json!("METHOD_NOT_ALLOWED")));

    let res = server.client.delete(server.url(&format!("/roles/{role}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(db.count("directus_roles", "1 = 1").await, 1);

    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, body) = send("POST", "/items/probe", Some(json!({})), &token).await;
    let events: Vec<String> = body["errors"][0]["extensions"]["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_string()).collect();
    for expected in ["roles.create.before", "roles.create", "users.create.before", "users.create", "users.read", "settings.create.before", "settings.create", "roles.delete.before", "roles.delete"] {
        assert!(events.iter().any(|e| e == expected), "{expected} in {events:?}");
    }
    assert!(server.stop().success());
}

/// Comments are activity rows the caller writes (with `activity.*` events); a revision reverts
/// its item through the target collection's service (with its `update` events); `/utils`.
#[tokio::test]
async fn comments_revert_and_utils() {
    for engine in ENGINES {
        let db = TestDb::new(engine).await;
        let ext = fixture("hooks/recorder");
        Server::start(&db, Some(&ext), &[]).await.stop();
        db.execute(&format!("CREATE TABLE notes (id {pk}, body varchar(50)); CREATE TABLE probe (id {pk}, note varchar(20));", pk = db.serial_pk())).await;
        let server = Server::start(&db, Some(&ext), &[("HOOKS_POOL_SIZE", "1")]).await;
        let token = server.admin_token().await;
        let e = format!("{engine:?}");

        let (status, body) = server.send(&token, "POST", "/activity/comment", Some(json!({ "collection": "notes", "item": 1, "comment": "looks good" }))).await;
        assert_eq!(status, 200, "{e}: {body}");
        let comment = body["data"]["id"].clone();
        assert_eq!((body["data"]["action"].as_str(), body["data"]["comment"].as_str(), body["data"]["item"].as_str()), (Some("comment"), Some("looks good"), Some("1")), "{e}");
        assert!(body["data"]["user"].is_string(), "{e}: the commenter is recorded");
        let (status, body) = server.send(&token, "PATCH", &format!("/activity/comment/{comment}"), Some(json!({ "comment": "even better" }))).await;
        assert_eq!((status, body["data"]["comment"].as_str()), (200, Some("even better")), "{e}");
        let (status, body) = server.send(&token, "POST", "/activity/comment", Some(json!({ "collection": "notes", "comment": "no item" }))).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (400, Some("INVALID_PAYLOAD")), "{e}");

        let (_, created) = server.send(&token, "POST", "/items/notes", Some(json!({ "body": "first" }))).await;
        let id = created["data"]["id"].clone();
        server.send(&token, "PATCH", &format!("/items/notes/{id}"), Some(json!({ "body": "second" }))).await;
        let (_, revisions) = server.send(&token, "GET", "/revisions?filter[collection][_eq]=notes&sort=id", None).await;
        let first = revisions["data"][0]["id"].clone();
        let res = server.client.post(server.url(&format!("/utils/revert/{first}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200, "{e}");
        let (_, note) = server.send(&token, "GET", &format!("/items/notes/{id}"), None).await;
        assert_eq!(note["data"]["body"], "first", "{e}: reverted to the first revision");
        let res = server.client.post(server.url(&format!("/utils/revert/{first}"))).send().await.unwrap();
        assert_eq!(res.status(), 403, "{e}: the public may not read revisions");

        let (status, body) = server.send(&token, "DELETE", &format!("/activity/comment/{comment}"), None).await;
        assert_eq!(status, 200, "{e}: {body}");
        let (status, _) = server.send(&token, "DELETE", &format!("/activity/comment/{first}"), None).await;
        assert_eq!(status, 403, "{e}: only comments can be deleted here");

        let (status, body) = server.send(&token, "GET", "/utils/random/string?length=12", None).await;
        assert_eq!((status, body["data"].as_str().map(str::len)), (200, Some(12)), "{e}");
        let (_, hash) = server.send(&token, "POST", "/utils/hash/generate", Some(json!({ "string": "abc" }))).await;
        let (_, ok) = server.send(&token, "POST", "/utils/hash/verify", Some(json!({ "string": "abc", "hash": hash["data"] }))).await;
        assert_eq!(ok["data"], true, "{e}");

        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let probe = server.client.post(server.url("/items/probe")).bearer_auth(&token).json(&json!({})).send().await.unwrap();
        let (_, recorded) = json(probe).await;
        let events: Vec<String> = recorded["errors"][0]["extensions"]["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r["event"].as_str().map(str::to_string))
            .collect();
        for expected in ["activity.create.before", "activity.create", "activity.update", "activity.delete", "items.update"] {
            assert!(events.iter().any(|ev| ev == expected), "{e}: {expected} in {events:?}");
        }
        assert!(server.stop().success());
    }
}

/// `/server/health` (a report for admins, only the status for others) and `/server/info`, and
/// the same through a hook's `ServerService`; `AuthenticationService` logs in, refreshes and
/// logs out from a hook.
#[tokio::test]
async fn server_health_and_hook_services() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, Some(&fixture("hooks/server-auth")), &[("HOOKS_POOL_SIZE", "1")]).await;
    let admin = server.admin_token().await;

    // A check past its response-time threshold reports `warn` (as Directus does), which a loaded CI
    // machine can reach; `error` is what must never appear here.
    let healthy = |s: &Value| matches!(s.as_str(), Some("ok" | "warn"));
    let res = server.client.get(server.url("/server/health")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"].to_str().unwrap(), "application/health+json; charset=utf-8");
    let (status, public) = json(res).await;
    assert!(status == 200 && healthy(&public["status"]) && public.as_object().unwrap().len() == 1, "{public}");
    let (status, report) = server.send(&admin, "GET", "/server/health", None).await;
    assert!(status == 200 && healthy(&report["status"]), "{report}");
    assert_eq!(report["serviceId"], "test-key", "{report}");
    assert_eq!(report["checks"]["sqlite3:responseTime"][0]["componentType"], "datastore", "{report}");
    assert!(healthy(&report["checks"]["storage:local:responseTime"][0]["status"]), "{report}");
    let (_, info) = server.send(&admin, "GET", "/server/info", None).await;
    assert_eq!(info["data"]["directus"]["version"], "9.0.0-rc.83", "{info}");
    let (_, info) = server.send("", "GET", "/server/info", None).await;
    assert!(info["data"]["project"].is_object() && info["data"].get("directus").is_none(), "{info}");

    let (status, body) = server.send("", "GET", "/svc/health", None).await;
    assert!(status == 200 && healthy(&body["health"]["status"]), "{body}");
    assert!(body["health"]["checks"].is_object() && body["info"]["os"]["totalmem"].as_u64().unwrap() > 0, "{body}");

    let (_, body) = server.send("", "GET", "/svc/payload", None).await;
    assert!(body["written"]["password"].as_str().unwrap().starts_with("$argon2"), "hashed: {body}");
    assert_eq!((body["written"]["extra"].clone(), body["read"]["password"].clone()), (json!(1), json!("**********")), "{body}");

    let (status, body) = server.send("", "POST", "/svc/login", Some(json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))).await;
    assert_eq!(status, 200, "{body}");
    let access = body["renewed"]["accessToken"].as_str().unwrap();
    assert_eq!(server.send(access, "GET", "/users/me", None).await.0, 200);
    assert_eq!(body["tokens"]["id"], body["renewed"]["id"]);
    let (status, body) = server.send("", "POST", "/svc/login", Some(json!({ "email": ADMIN_EMAIL, "password": "wrong" }))).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("INVALID_CREDENTIALS")), "{body}");
    assert_eq!(db.count("directus_sessions", "1 = 1").await, 1, "the refresh replaced the hook's session and the logout ended it; the admin's own is left");
}

/// `POST /utils/sort/:collection` moves an item in the sort order (numbering unsorted rows
/// first); `POST /utils/import/:collection` creates items from a CSV or JSON upload, as the
/// caller, all or nothing; a hook's `ImportService` and `UtilsService` do the same. The
/// OpenAPI document describes the collection.
#[tokio::test]
async fn sort_and_import() {
    let db = TestDb::new(Engine::Sqlite).await;
    Server::start(&db, None, &[]).await.stop();
    db.execute("CREATE TABLE tasks (id integer PRIMARY KEY AUTOINCREMENT, title varchar(50) NOT NULL, sort integer);
        INSERT INTO tasks (title, sort) VALUES ('a', 1), ('b', 2), ('c', 3), ('d', NULL);
        INSERT INTO directus_collections (collection, sort_field) VALUES ('tasks', 'sort');").await;
    let server = Server::start(&db, Some(&fixture("hooks/server-auth")), &[("HOOKS_POOL_SIZE", "1")]).await;
    let admin = server.admin_token().await;
    let order = || async { server.send(&admin, "GET", "/items/tasks?fields=title&sort=sort", None).await.1["data"].as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_string()).collect::<Vec<_>>() };

    let res = server.client.post(server.url("/utils/sort/tasks")).bearer_auth(&admin).json(&json!({ "item": 1, "to": 3 })).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.text().await.unwrap()), (200, String::new()));
    assert_eq!(order().await, ["b", "c", "a", "d"]);
    server.send(&admin, "POST", "/utils/sort/tasks", Some(json!({ "item": 4, "to": 2 }))).await;
    assert_eq!(order().await, ["d", "b", "c", "a"]);
    let (status, body) = server.send(&admin, "POST", "/utils/sort/tasks", Some(json!({ "item": 1 }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{body}");
    let (status, _) = server.send("", "POST", "/utils/sort/tasks", Some(json!({ "item": 1, "to": 2 }))).await;
    assert_eq!(status, 403);

    let upload = |token: &str, name: &str, kind: &str, content: &str| {
        let part = reqwest::multipart::Part::text(content.to_string()).file_name(name.to_string()).mime_str(kind).unwrap();
        let req = server.client.post(server.url("/utils/import/tasks")).bearer_auth(token).multipart(reqwest::multipart::Form::new().part("file", part));
        async move { json(req.send().await.unwrap()).await }
    };
    assert_eq!(upload(&admin, "t.csv", "text/csv", "title,sort\n\"x, y\",10\nz,\n").await, (200, Value::Null));
    assert_eq!(upload(&admin, "t.json", "application/json", r#"[{"title": "j1"}, {"title": "j2", "sort": 12}]"#).await.0, 200);
    let (_, rows) = server.send(&admin, "GET", "/items/tasks?fields=title,sort&filter[id][_gt]=4&sort=id", None).await;
    assert_eq!(rows["data"], json!([{ "title": "x, y", "sort": 10 }, { "title": "z", "sort": null }, { "title": "j1", "sort": null }, { "title": "j2", "sort": 12 }]));
    let (status, body) = upload(&admin, "t.pdf", "application/pdf", "%PDF").await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (415, Some("UNSUPPORTED_MEDIA_TYPE")), "{body}");
    let (status, body) = upload(&admin, "bad.json", "application/json", r#"[{"title": "ok"}, {"title": null}]"#).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("NOT_NULL_VIOLATION")), "a row the database refuses fails the import: {body}");
    let (status, _) = upload("", "t.csv", "text/csv", "title\npublic\n").await;
    assert_eq!(status, 403);
    assert_eq!(db.count("tasks", "1 = 1").await, 8, "nothing of the refused imports was written");

    // The OpenAPI document describes what the caller may read.
    let (status, spec) = server.send(&admin, "GET", "/server/specs/oas", None).await;
    assert_eq!((status, spec["openapi"].as_str()), (200, Some("3.0.1")));
    assert_eq!(spec["components"]["schemas"]["Itemstasks"]["properties"]["sort"]["type"], "integer", "{spec}");
    assert!(spec["paths"]["/items/tasks/{id}"]["patch"].is_object(), "{spec}");
    let (_, public) = server.send("", "GET", "/server/specs/oas", None).await;
    assert_eq!(public["paths"], json!({}), "the public role reads no collection");
    let (_, from_hook) = server.send("", "GET", "/svc/oas", None).await;
    assert_eq!(from_hook["paths"], json!(["/items/tasks", "/items/tasks/{id}"]));

    // The same services from a hook.
    let (status, body) = server.send("", "POST", "/svc/import-and-sort", Some(json!({ "item": 9, "to": 4 }))).await;
    assert_eq!((status, body), (200, json!({ "created": 1 })));
    assert_eq!(order().await[..2], ["from hook".to_string(), "d".to_string()], "moved to the place of d, which moves down");
}
