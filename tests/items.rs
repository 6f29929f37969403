//! `/items` over HTTP on every engine: the envelope, the query language, error cases, activity
//! and revisions, and the exact event sequence recorded by a real JS hook.

mod common;

use common::*;
use serde_json::{json, Value};

struct App {
    db: TestDb,
    server: Server,
    token: String,
}

async fn app(engine: Engine) -> App {
    let db = TestDb::new(engine).await;
    let pk = db.serial_pk();
    let (json_type, bool_type) = match engine {
        Engine::Sqlite => ("text", "boolean"),
        Engine::Postgres => ("json", "boolean"),
        Engine::MySql => ("json", "tinyint(1)"),
    };
    // Boot once so the system tables exist, then add the user collections.
    let server = Server::start(&db, Some(&fixture("hooks/recorder")), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "1000")]).await;
    server.stop();
    db.execute(&format!(
        "CREATE TABLE articles (id {pk}, title varchar(255), status varchar(20) DEFAULT 'draft', body text, views integer DEFAULT 0, published {bool_type} DEFAULT false, tags {json_type});"
    ))
    .await;
    db.execute(&format!("CREATE TABLE probe (id {pk}, note varchar(20));")).await;
    db.execute("INSERT INTO directus_fields (collection, field, special, readonly, hidden) VALUES ('articles', 'tags', 'json', false, false);").await;
    let server = Server::start(&db, Some(&fixture("hooks/recorder")), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "1000")]).await;
    let token = server.admin_token().await;
    App { db, server, token }
}

impl App {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.server.client.request(method.parse().unwrap(), self.server.url(path)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        json(req.send().await.unwrap()).await
    }

    /// The events the recorder hook saw since the last call (after-events settle first).
    async fn events(&self) -> Vec<Value> {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let (status, body) = self.send("POST", "/items/probe", Some(json!({}))).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{body}");
        body["errors"][0]["extensions"]["events"].as_array().cloned().unwrap()
    }
}

fn names(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

async fn crud_and_events(engine: Engine) {
    let app = app(engine).await;
    app.events().await;

    // Create: envelope, defaults, json special.
    let (status, body) = app.send("POST", "/items/articles", Some(json!({ "title": "Hello", "tags": ["a", "b"] }))).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let data = &body["data"];
    assert_eq!((data["id"].clone(), data["title"].clone(), data["status"].clone()), (json!(1), json!("Hello"), json!("draft")), "{engine:?}");
    assert_eq!(data["tags"], json!(["a", "b"]), "{engine:?}");
    assert_eq!(data["published"], json!(false), "{engine:?}");

    let events = app.events().await;
    assert_eq!(names(&events), ["items.create.before", "items.create", "items.read"], "{engine:?}");
    let (before, after, read) = (&events[0], &events[1], &events[2]);
    assert_eq!(before["argc"], 2);
    assert_eq!(before["input"]["title"], "Hello");
    assert_eq!(before["payload_is_input"], true);
    assert_eq!(before["item"], Value::Null);
    assert_eq!(before["action"], "create");
    assert_eq!(before["collection"], "articles");
    assert_eq!(before["accountability"]["admin"], true);
    assert_eq!(before["schema_has_collection"], true, "ctx.schema is the SchemaOverview");
    assert_eq!(after["argc"], 1);
    assert_eq!(after["item"], json!(1));
    assert_eq!(after["payload"]["title"], "Hello");
    assert_eq!(read["item"], json!(1));
    assert_eq!(read["payload"][0]["title"], "Hello");

    // A before-hook's replacement is stored; the after-event still carries the original payload.
    let (_, body) = app.send("POST", "/items/articles", Some(json!({ "title": "rewrite" }))).await;
    assert_eq!(body["data"]["title"], "rewritten");
    let events = app.events().await;
    assert_eq!(events[1]["payload"]["title"], "rewrite");

    // A Directus exception from a hook: its status/code/extensions, and nothing written.
    let before_count = app.db.count("articles", "1 = 1").await;
    let (status, body) = app.send("POST", "/items/articles", Some(json!([{ "title": "fine" }, { "title": "reject" }]))).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({ "errors": [{ "message": "rejected by hook", "extensions": { "code": "INVALID_PAYLOAD", "reason": "x" } }] }));
    assert_eq!(app.db.count("articles", "1 = 1").await, before_count, "{engine:?}: the whole request rolled back");

    // A plain Error: 500, message visible to the admin.
    let (status, body) = app.send("POST", "/items/articles", Some(json!({ "title": "crash" }))).await;
    assert_eq!(status, 500);
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    assert_eq!(body["errors"][0]["message"], "hook crashed");

    // A hook that never returns: 503, and the next request is served.
    let (status, body) = app.send("POST", "/items/articles", Some(json!({ "title": "loop" }))).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE");
    let mut served = false;
    for _ in 0..40 {
        let (status, _) = app.send("POST", "/items/articles", Some(json!({ "title": "after the loop" }))).await;
        if status == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(served, "{engine:?}: served again after a runaway hook");
    app.events().await;

    // Update: before (keys as strings) → snapshot read → after → read-back.
    let (status, body) = app.send("PATCH", "/items/articles/1", Some(json!({ "title": "Hello again" }))).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["title"], "Hello again");
    let events = app.events().await;
    assert_eq!(names(&events), ["items.update.before", "items.read", "items.update", "items.read"], "{engine:?}");
    assert_eq!(events[0]["item"], json!(["1"]));
    assert_eq!(events[2]["payload"], json!({ "title": "Hello again" }));

    // A before-hook returning a new object replaces the patch.
    let (_, body) = app.send("PATCH", "/items/articles/1", Some(json!({ "title": "replace" }))).await;
    assert_eq!((body["data"]["title"].clone(), body["data"]["body"].clone()), (json!("Hello again"), json!("replaced")));
    app.events().await;

    // Delete: 200 with an empty body; before/after with the keys.
    let res = app.server.client.delete(app.server.url("/items/articles/1")).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "");
    let events = app.events().await;
    assert_eq!(names(&events), ["items.delete.before", "items.delete"]);
    assert_eq!(events[0]["argc"], 1);
    assert_eq!(events[0]["item"], json!(["1"]));
    assert_eq!(events[1]["payload"], Value::Null);

    // Missing item, unknown collection, system collection: 403.
    for path in ["/items/articles/1", "/items/nope", "/items/directus_users"] {
        let (status, body) = app.send("GET", path, None).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (403, json!("FORBIDDEN")), "{path}");
    }
    // No token: the public role has no permissions.
    let (status, _) = json(app.server.client.get(app.server.url("/items/articles")).send().await.unwrap()).await;
    assert_eq!(status, 403, "{engine:?}: public role");

    // Malformed JSON.
    let res = app
        .server
        .client
        .post(app.server.url("/items/articles"))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")));

    // Activity and revisions were written with the writes.
    assert!(app.db.count("directus_activity", "collection = 'articles' AND action = 'create'").await >= 3, "{engine:?}");
    assert!(app.db.count("directus_activity", "collection = 'articles' AND action = 'delete'").await == 1, "{engine:?}");
    assert!(app.db.count("directus_revisions", "collection = 'articles'").await >= 4, "{engine:?}");
    assert!(app.server.stop().success());
}

on_every_engine!(crud_and_events);

/// A hook that leaks is stopped at `HOOKS_MAX_HEAP`: the create that finds the heap full answers
/// 503 in the envelope, the isolate is replaced (what the hook kept starts over) and later
/// creates succeed, whether it keeps what it sees in module state or on the global object; the
/// server's memory stays within about one heap of where it was.
#[tokio::test]
async fn a_leaking_hook_is_stopped_at_hooks_max_heap() {
    let db = TestDb::new(Engine::Sqlite).await;
    Server::start(&db, None, &[]).await.stop();
    for table in ["leaky", "leaky_global"] {
        db.execute(&format!("CREATE TABLE {table} (id {}, n integer);", db.serial_pk())).await;
    }
    let server = Server::start(&db, Some(&fixture("hooks/leak")), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_MAX_HEAP", "64mb")]).await;
    let token = server.admin_token().await;
    // 2 MB kept per create: 300 creates would keep 600 MB without the limit.
    let leak = |collection: &'static str| {
        let (server, token, db) = (&server, &token, &db);
        async move {
            let started_rss = memory_mb(server.pid(), "VmRSS");
            let (mut stopped, mut created, mut peak_rss, mut restarted) = (0, 0, 0, false);
            for _ in 0..300 {
                let (status, body) = server.send(token, "POST", &format!("/items/{collection}"), Some(json!({}))).await;
                match status {
                    200 => {
                        created += 1;
                        restarted |= stopped > 0 && body["data"]["n"] == 1;
                    }
                    503 => {
                        assert_eq!(body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE", "{body}");
                        stopped += 1;
                    }
                    _ => panic!("{collection}: {status} {body}\n{}", server.log_text()),
                }
                peak_rss = peak_rss.max(memory_mb(server.pid(), "VmRSS"));
            }
            assert!(stopped > 0, "{collection}: the heap limit never stopped the hook (peak RSS {peak_rss} MB)");
            assert!(restarted, "{collection}: a replaced isolate starts over");
            assert!(created > 200, "{collection}: only {created} of 300 creates succeeded ({stopped} stopped)");
            assert_eq!(db.count(collection, "1 = 1").await, created);
            println!("{collection}: {stopped} of 300 creates stopped, server RSS {started_rss} MB before, {peak_rss} MB at most");
            (started_rss, peak_rss)
        }
    };
    for collection in ["leaky", "leaky_global"] {
        let (before, peak) = leak(collection).await;
        // A correctness bound, not a timing goal: one heap and some room.
        assert!(peak.saturating_sub(before) < 64 + 200, "{collection}: RSS {before} → {peak} MB");
    }
    assert!(server.stop().success());
}

/// An isolate stopped again and again comes back every time, and what each stopped engine had
/// allocated is given back. (The QuickJS facade numbers the native functions of every engine
/// built on a thread in one 16-bit table: the 172nd engine on one thread could not start, and
/// the jobs sent to it waited for ever. Each engine left 2–6 MB allocated when it was dropped.)
#[tokio::test]
async fn an_isolate_stopped_hundreds_of_times_comes_back_and_gives_its_memory_back() {
    let db = TestDb::new(Engine::Sqlite).await;
    Server::start(&db, None, &[]).await.stop();
    db.execute(&format!("CREATE TABLE runs (id {}, ok integer);", db.serial_pk())).await;
    let server = Server::start(&db, Some(&fixture("hooks/runaway")), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_MAX_HEAP", "8mb")]).await;
    let token = server.admin_token().await;
    let send = |body: Value| {
        let (server, token) = (&server, &token);
        async move {
            let sent = server.send(token, "POST", "/items/runs", Some(body));
            tokio::time::timeout(std::time::Duration::from_secs(60), sent).await.unwrap_or_else(|_| panic!("no answer in 60 s\n{}", server.log_text()))
        }
    };
    let mut rss_after_warm_up = 0;
    for round in 0..240 {
        let (status, body) = send(json!({ "heap": true })).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (503, json!("SERVICE_UNAVAILABLE")), "stop {round}: {body}");
        if round == 40 {
            rss_after_warm_up = memory_mb(server.pid(), "VmRSS");
        }
    }
    let (status, body) = send(json!({})).await;
    assert_eq!((status, body["data"]["ok"].clone()), (200, json!(1)), "{body}");
    let rss = memory_mb(server.pid(), "VmRSS");
    println!("server RSS {rss_after_warm_up} MB after 40 stops, {rss} MB after 240");
    // A correctness bound, not a timing goal: 200 engines leaving 2 MB each would be 400 MB.
    assert!(rss.saturating_sub(rss_after_warm_up) < 100, "RSS {rss_after_warm_up} → {rss} MB over 200 stops");
    assert!(server.stop().success());
}

/// Activity and revision rows point at each other and at the item, and they commit or roll back
/// with it: a revision that can't be written fails the create and leaves nothing behind (on
/// SQLite they travel with the commit, see `db/sqlite.rs`).
async fn activity_and_revisions(engine: Engine) {
    let app = app(engine).await;
    let (status, created) = app.send("POST", "/items/articles", Some(json!({ "title": "Tracked" }))).await;
    assert_eq!(status, 200, "{engine:?}: {created}");
    let id = created["data"]["id"].clone();
    let (_, patched) = app.send("PATCH", &format!("/items/articles/{id}"), Some(json!({ "views": 7 }))).await;
    assert_eq!(patched["data"]["views"], json!(7), "{engine:?}");

    let (_, activity) = app.send("GET", &format!("/activity?filter[collection][_eq]=articles&filter[item][_eq]={id}&sort=id&fields=id,action,item"), None).await;
    let activity = activity["data"].as_array().cloned().unwrap();
    assert_eq!(activity.iter().map(|a| a["action"].clone()).collect::<Vec<_>>(), vec![json!("create"), json!("update")], "{engine:?}");
    let (_, revisions) = app.send("GET", &format!("/revisions?filter[collection][_eq]=articles&filter[item][_eq]={id}&sort=id&fields=activity,item,data,delta"), None).await;
    let revisions = revisions["data"].as_array().cloned().unwrap();
    assert_eq!(revisions.len(), 2, "{engine:?}: {revisions:?}");
    for (revision, activity) in revisions.iter().zip(&activity) {
        assert_eq!(revision["activity"], activity["id"], "{engine:?}: a revision points at its own activity");
        assert_eq!(revision["item"].as_str(), Some(id.to_string().as_str()), "{engine:?}");
    }
    assert_eq!((revisions[0]["data"]["title"].clone(), revisions[0]["data"]["id"].clone()), (json!("Tracked"), id.clone()), "{engine:?}");
    assert_eq!(revisions[1]["delta"], json!({ "views": 7 }), "{engine:?}");
    assert_eq!(revisions[1]["data"]["views"], json!(7), "{engine:?}");

    // `revisions.read` fires as in rc.83: from a read by key and from a revert (readOne), not
    // from lists.
    let (_, ids) = app.send("GET", &format!("/revisions?filter[collection][_eq]=articles&filter[item][_eq]={id}&sort=id&fields=id"), None).await;
    let first = ids["data"][0]["id"].clone();
    app.events().await;
    let (status, one) = app.send("GET", &format!("/revisions/{first}"), None).await;
    assert_eq!((status, one["data"]["id"].clone()), (200, first.clone()), "{engine:?}");
    let (status, _) = app.send("POST", &format!("/utils/revert/{first}"), None).await;
    assert_eq!(status, 200, "{engine:?}");
    let events = app.events().await;
    let reads: Vec<&Value> = events.iter().filter(|e| e["event"] == "revisions.read").collect();
    assert_eq!(reads.len(), 2, "{engine:?}: {:?}", names(&events));
    for read in reads {
        assert_eq!((read["argc"].clone(), read["action"].clone(), read["collection"].clone()), (json!(1), json!("read"), json!("directus_revisions")), "{engine:?}");
        assert_eq!(read["item"], json!(first.to_string()), "{engine:?}: the key as the URL gave it");
        assert_eq!(read["payload"].as_array().map(|rows| rows.iter().map(|r| r["id"].clone()).collect::<Vec<_>>()), Some(vec![first.clone()]), "{engine:?}");
        assert_eq!(read["accountability"]["admin"], json!(true), "{engine:?}");
    }
    let after_revert: Vec<String> = names(&events).into_iter().skip_while(|n| n != "revisions.read").skip(1).skip_while(|n| n != "revisions.read").collect();
    assert_eq!(after_revert.get(1).map(String::as_str), Some("items.update.before"), "{engine:?}: the revert updates the item after reading the revision");

    let refuse = match engine {
        Engine::Sqlite => "CREATE TRIGGER refuse BEFORE INSERT ON directus_revisions BEGIN SELECT RAISE(ABORT, 'revisions refused'); END;".to_string(),
        Engine::Postgres => "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'revisions refused'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse BEFORE INSERT ON directus_revisions FOR EACH ROW EXECUTE FUNCTION refuse();"
            .to_string(),
        Engine::MySql => "CREATE TRIGGER refuse BEFORE INSERT ON directus_revisions FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'revisions refused';".to_string(),
    };
    app.db.execute(&refuse).await;
    let (articles, activities) = (app.db.count("articles", "1 = 1").await, app.db.count("directus_activity", "1 = 1").await);
    for _ in 0..3 {
        let (status, body) = app.send("POST", "/items/articles", Some(json!({ "title": "Refused" }))).await;
        assert_eq!(status, 500, "{engine:?}: {body}");
    }
    assert_eq!(app.db.count("articles", "1 = 1").await, articles, "{engine:?}: the item was rolled back");
    assert_eq!(app.db.count("directus_activity", "1 = 1").await, activities, "{engine:?}: its activity too");
    // The failed transactions left no connection behind holding a lock or an open transaction.
    app.db.execute(if engine == Engine::Postgres { "DROP TRIGGER refuse ON directus_revisions;" } else { "DROP TRIGGER refuse;" }).await;
    for title in ["After 1", "After 2", "After 3"] {
        let (status, body) = app.send("POST", "/items/articles", Some(json!({ "title": title }))).await;
        assert_eq!(status, 200, "{engine:?}: {body}");
    }
    assert_eq!(app.db.count("articles", "1 = 1").await, articles + 3, "{engine:?}");
    assert!(app.server.stop().success());
}

on_every_engine!(activity_and_revisions);

async fn query_language(engine: Engine) {
    let app = app(engine).await;
    let rows: Vec<Value> = (1..=12)
        .map(|i| json!({ "title": format!("Article {i:02}"), "views": i * 10, "status": if i % 3 == 0 { "published" } else { "draft" }, "body": if i == 5 { Value::Null } else { json!(format!("body {i}")) } }))
        .collect();
    let (status, _) = app.send("POST", "/items/articles", Some(Value::Array(rows))).await;
    assert_eq!(status, 200);

    let ids = |body: &Value| -> Vec<i64> { body["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect() };
    let cases: Vec<(&str, Vec<i64>)> = vec![
        ("filter[views][_gt]=100", vec![11, 12]),
        ("filter[views][_gte]=110&filter[views][_lt]=120", vec![11]),
        ("filter[status][_eq]=published", vec![3, 6, 9, 12]),
        ("filter[status][_neq]=draft&sort=-id", vec![12, 9, 6, 3]),
        ("filter[id][_in]=2,4,6", vec![2, 4, 6]),
        ("filter[id][_nin]=1,2,3,4,5,6,7,8,9,10", vec![11, 12]),
        ("filter[body][_null]=true", vec![5]),
        ("filter[title][_contains]=1&filter[id][_lte]=10", vec![1, 10]),
        ("filter[title][_starts_with]=Article%200&limit=2", vec![1, 2]),
        ("filter[title][_ends_with]=2", vec![2, 12]),
        ("filter[views][_between]=30,50", vec![3, 4, 5]),
        ("filter={\"_or\":[{\"id\":{\"_eq\":1}},{\"_and\":[{\"views\":{\"_gte\":120}},{\"status\":{\"_eq\":\"published\"}}]}]}", vec![1, 12]),
        ("sort=-views&limit=3", vec![12, 11, 10]),
        ("limit=2&page=3", vec![5, 6]),
        ("limit=2&offset=10", vec![11, 12]),
        ("search=article%2007", vec![7]),
    ];
    for (query, expected) in cases {
        let (status, body) = app.send("GET", &format!("/items/articles?{query}"), None).await;
        assert_eq!(status, 200, "{engine:?} {query}: {body}");
        assert_eq!(ids(&body), expected, "{engine:?} {query}");
    }

    let (_, body) = app.send("GET", "/items/articles?fields=id,title&limit=1", None).await;
    assert_eq!(body["data"], json!([{ "id": 1, "title": "Article 01" }]));
    let (_, body) = app.send("GET", "/items/articles?limit=-1", None).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 12);
    let (_, body) = app.send("GET", "/items/articles?meta=*&filter[status][_eq]=published&limit=1", None).await;
    assert_eq!(body["meta"], json!({ "total_count": 12, "filter_count": 4 }), "{engine:?}");
    assert!(body.get("meta").is_some());
    let (_, body) = app.send("GET", "/items/articles?limit=1", None).await;
    assert!(body.get("meta").is_none(), "meta only when asked");

    for bad in ["meta=bogus", "filter=not-json", "limit=abc", "filter[nope][_eq]=1", "filter[title][_bogus]=1", "filter[title][_eq]=", "sort=nope"] {
        let (status, body) = app.send("GET", &format!("/items/articles?{bad}"), None).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_QUERY")), "{engine:?} {bad}: {body}");
    }

    // Batch update by keys and by query, batch delete.
    let (status, body) = app.send("PATCH", "/items/articles", Some(json!({ "keys": [1, 2], "data": { "status": "archived" } }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let (_, body) = app.send("PATCH", "/items/articles", Some(json!({ "query": { "filter": { "status": { "_eq": "archived" } } }, "data": { "views": 0 } }))).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let (status, _) = app.send("PATCH", "/items/articles", Some(json!({ "data": { "views": 0 } }))).await;
    assert_eq!(status, 400);
    let (status, _) = app.send("DELETE", "/items/articles", Some(json!([1, 2]))).await;
    assert_eq!(status, 200);
    assert_eq!(app.db.count("articles", "1 = 1").await, 10);
    assert!(app.server.stop().success());
}

on_every_engine!(query_language);

/// A singleton: `GET` answers the object (field defaults while empty), the first `PATCH`
/// creates the row (create events), later ones update it; item routes with a key are 404.
async fn singleton(engine: Engine) {
    let mut app = app(engine).await;
    app.server.stop_ref();
    app.db.execute(&format!("CREATE TABLE home (id {}, headline varchar(100) DEFAULT 'Welcome', visits integer DEFAULT 0);", app.db.serial_pk())).await;
    app.db.execute("INSERT INTO directus_collections (collection, singleton, hidden, archive_app_filter) VALUES ('home', true, false, true);").await;
    let server = Server::start(&app.db, Some(&fixture("hooks/recorder")), &[("HOOKS_POOL_SIZE", "1")]).await;
    let app = App { token: server.admin_token().await, server, db: app.db };
    let (status, body) = app.send("GET", "/items/home", None).await;
    assert_eq!((status, body["data"].clone()), (200, json!({ "id": null, "headline": "Welcome", "visits": 0 })), "{engine:?}");
    app.events().await;
    let (status, body) = app.send("PATCH", "/items/home", Some(json!({ "headline": "Hello" }))).await;
    assert_eq!((status, body["data"]["headline"].clone(), body["data"]["id"].clone()), (200, json!("Hello"), json!(1)), "{engine:?}");
    assert_eq!(names(&app.events().await)[..2], ["items.create.before", "items.create"]);
    let (_, body) = app.send("PATCH", "/items/home", Some(json!({ "visits": 5 }))).await;
    assert_eq!(body["data"], json!({ "id": 1, "headline": "Hello", "visits": 5 }));
    assert_eq!(names(&app.events().await)[0], "items.update.before");
    assert_eq!(app.db.count("home", "1 = 1").await, 1);
    let (status, _) = app.send("GET", "/items/home/1", None).await;
    assert_eq!(status, 404);
    assert!(app.server.stop().success());
}

on_every_engine!(singleton);

/// `?export=json|csv|xml`: the read's `data` as a named attachment; other formats are a 400.
#[tokio::test]
async fn exports_are_attachments() {
    let app = app(Engine::Sqlite).await;
    for title in ["First", "Second, \"quoted\""] {
        let (status, _) = app.send("POST", "/items/articles", Some(json!({ "title": title, "tags": ["a"] }))).await;
        assert_eq!(status, 200);
    }
    let download = |format: &str| {
        let req = app.server.client.get(app.server.url(&format!("/items/articles?fields=id,title,tags&export={format}"))).bearer_auth(&app.token);
        async move {
            let res = req.send().await.unwrap();
            let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            let (disposition, kind) = (header("content-disposition"), header("content-type"));
            (res.status().as_u16(), disposition, kind, res.text().await.unwrap())
        }
    };

    let (status, disposition, kind, body) = download("csv").await;
    assert_eq!(status, 200);
    assert!(disposition.starts_with("attachment; filename=\"articles ") && disposition.ends_with(".csv\""), "{disposition}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert_eq!(body, "\"id\",\"title\",\"tags\"\n1,\"First\",\"[\"\"a\"\"]\"\n2,\"Second, \"\"quoted\"\"\",\"[\"\"a\"\"]\"\n", "columns in the order of the JSON answer");

    let (_, disposition, _, body) = download("json").await;
    assert!(disposition.ends_with(".json\""), "{disposition}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!([{ "id": 1, "title": "First", "tags": ["a"] }, { "id": 2, "title": "Second, \"quoted\"", "tags": ["a"] }]));
    assert!(body.contains("\n\t{"), "tab-indented: {body}");

    let (_, disposition, kind, body) = download("xml").await;
    assert!(disposition.ends_with(".xml\"") && kind.starts_with("text/xml"), "{disposition} {kind}");
    assert!(body.contains("<data>\n        <id>2</id>\n        <title>Second, &quot;quoted&quot;</title>\n        <tags>a</tags>"), "{body}");

    let (status, disposition, _, body) = download("pdf").await;
    assert_eq!((status, disposition), (400, String::new()));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["errors"][0]["extensions"]["code"], "INVALID_QUERY", "{body}");
    assert!(body.contains("\\\"export\\\" must be one of [json, csv, xml]"), "{body}");
}

/// On PostgreSQL a create, an update and a delete each write their item, one activity row and
/// (create, update) one revision with the data Directus records, a write the database refuses
/// leaves none of them, and the round trips are few: a create or a delete is one statement with
/// no `BEGIN`/`COMMIT`; an update reads its snapshot through its `RETURNING` and writes its rows
/// in one more statement, in a transaction. Counted by a proxy in front of PostgreSQL, with one
/// pooled connection so that every statement is already prepared on it after the first writes.
/// (Several threads: the proxy relays while the harness blocks on `rectus bootstrap`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writes_in_few_round_trips() {
    let db = TestDb::new(Engine::Postgres).await;
    let proxy = pg_proxy::PgProxy::start().await;
    let port = proxy.port.to_string();
    let env = [("DB_PORT", port.as_str()), ("DB_POOL__MIN", "1"), ("DB_POOL__MAX", "1")];
    Server::start(&db, None, &env).await.stop();
    db.execute("CREATE TABLE notes (id serial PRIMARY KEY, title varchar(50) UNIQUE, views integer DEFAULT 0); CREATE TABLE pins (id serial PRIMARY KEY, note integer REFERENCES notes (id));")
        .await;
    let server = Server::start(&db, None, &env).await;
    let app = App { db, token: server.admin_token().await, server };

    // Each kind of write once first: its statements get prepared on the connection.
    for title in ["warm 1", "warm 2"] {
        let (status, body) = app.send("POST", "/items/notes", Some(json!({ "title": title }))).await;
        assert_eq!(status, 200, "{body}");
        let id = body["data"]["id"].clone();
        let (status, body) = app.send("PATCH", &format!("/items/notes/{id}"), Some(json!({ "views": 1 }))).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app.send("DELETE", &format!("/items/notes/{id}"), None).await;
        assert!(status < 300, "{status} {body}");
    }
    let rows = |table: &'static str, condition: String| {
        let db = &app.db;
        async move { db.count(table, &condition).await }
    };

    let before = proxy.round_trips();
    let (status, created) = app.send("POST", "/items/notes", Some(json!({ "title": "Counted" }))).await;
    let create_trips = proxy.round_trips() - before;
    assert_eq!(status, 200, "{created}");
    let id = created["data"]["id"].clone();
    assert_eq!(created["data"], json!({ "id": id, "title": "Counted", "views": 0 }));
    let (_, activity) = app.send("GET", &format!("/activity?filter[collection][_eq]=notes&filter[item][_eq]={id}&fields=id,action,user,item"), None).await;
    let (_, me) = app.send("GET", "/users/me?fields=id", None).await;
    assert_eq!(activity["data"].as_array().map(Vec::len), Some(1), "{activity}");
    let create_activity = &activity["data"][0];
    assert_eq!((create_activity["action"].clone(), create_activity["user"].clone(), create_activity["item"].clone()), (json!("create"), me["data"]["id"].clone(), json!(id.to_string())));
    let (_, revisions) = app.send("GET", &format!("/revisions?filter[collection][_eq]=notes&filter[item][_eq]={id}&fields=activity,data,delta"), None).await;
    assert_eq!(revisions["data"].as_array().map(Vec::len), Some(1), "{revisions}");
    assert_eq!(revisions["data"][0], json!({ "activity": create_activity["id"], "data": { "title": "Counted", "id": id }, "delta": { "title": "Counted", "id": id } }));

    let before = proxy.round_trips();
    let (status, patched) = app.send("PATCH", &format!("/items/notes/{id}"), Some(json!({ "views": 7 }))).await;
    let update_trips = proxy.round_trips() - before;
    assert_eq!(status, 200, "{patched}");
    let (_, activity) = app.send("GET", &format!("/activity?filter[collection][_eq]=notes&filter[item][_eq]={id}&filter[action][_eq]=update&fields=id"), None).await;
    assert_eq!(activity["data"].as_array().map(Vec::len), Some(1), "{activity}");
    let (_, revisions) = app.send("GET", &format!("/revisions?filter[collection][_eq]=notes&filter[item][_eq]={id}&sort=id&fields=activity,data,delta"), None).await;
    assert_eq!(revisions["data"].as_array().map(Vec::len), Some(2), "{revisions}");
    assert_eq!(revisions["data"][1], json!({ "activity": activity["data"][0]["id"], "data": { "id": id, "title": "Counted", "views": 7 }, "delta": { "views": 7 } }));

    let before = proxy.round_trips();
    let (status, _) = app.send("DELETE", &format!("/items/notes/{id}"), None).await;
    let delete_trips = proxy.round_trips() - before;
    assert!(status < 300, "{status}");
    assert_eq!(rows("notes", format!("id = {id}")).await, 0);
    assert_eq!(rows("directus_activity", format!("collection = 'notes' AND item = '{id}' AND action = 'delete'")).await, 1);
    assert_eq!(rows("directus_revisions", format!("collection = 'notes' AND item = '{id}'")).await, 2, "a delete writes no revision");

    // The request's own reads are in the counts: the create answers the row its statement
    // returned; the update reads the item back for its answer.
    assert_eq!((create_trips, update_trips, delete_trips), (1, 5, 1), "round trips of a create, an update and a delete (pings: {})", proxy.pings());

    // Refused writes leave nothing behind: not the item, not its activity or revision.
    let (status, kept) = app.send("POST", "/items/notes", Some(json!({ "title": "Kept" }))).await;
    assert_eq!(status, 200, "{kept}");
    let kept = kept["data"]["id"].clone();
    app.db.execute(&format!("INSERT INTO pins (note) VALUES ({kept});")).await;
    let (notes, activities, revisions) = (rows("notes", "1 = 1".into()).await, rows("directus_activity", "1 = 1".into()).await, rows("directus_revisions", "1 = 1".into()).await);
    let (status, body) = app.send("POST", "/items/notes", Some(json!({ "title": "Kept" }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("RECORD_NOT_UNIQUE")), "{body}");
    let (status, body) = app.send("POST", "/items/notes", Some(json!([{ "title": "New" }, { "title": "Kept" }]))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("RECORD_NOT_UNIQUE")), "{body}");
    let (status, body) = app.send("PATCH", &format!("/items/notes/{kept}"), Some(json!({ "title": "warm 1", "views": 3 }))).await;
    assert_eq!(status, 200, "{body}");
    let (_, other) = app.send("POST", "/items/notes", Some(json!({ "title": "Other" }))).await;
    let (notes, activities, revisions) = (notes + 1, activities + 2, revisions + 2);
    let (status, body) = app.send("PATCH", &format!("/items/notes/{}", other["data"]["id"]), Some(json!({ "title": "warm 1" }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("RECORD_NOT_UNIQUE")), "{body}");
    let (status, body) = app.send("DELETE", &format!("/items/notes/{kept}"), None).await;
    assert!(status >= 400, "{status}: the pin still points at it: {body}");
    assert_eq!(rows("notes", "1 = 1".into()).await, notes);
    assert_eq!(rows("directus_activity", "1 = 1".into()).await, activities);
    assert_eq!(rows("directus_revisions", "1 = 1".into()).await, revisions);
    assert_eq!(rows("notes", format!("id = {kept} AND title = 'warm 1' AND views = 3")).await, 1, "the update before stands");
    assert!(app.server.stop().success());
}

/// Concurrent creates of a non-admin caller on a small pool all succeed: a transaction takes its
/// connection with its first statement (SQLite, PostgreSQL and MySQL alike), so one waiting for hooks and for the role's permissions
/// (read from the database the first time) holds none. When `BEGIN` took one up front, more
/// concurrent creates than pooled connections each held one while waiting for another to read
/// the permissions, until the pool's timeout failed them.
async fn concurrent_non_admin_creates_on_a_small_pool(engine: Engine) {
    let db = TestDb::new(engine).await;
    let env = [("DB_POOL__MIN", "1"), ("DB_POOL__MAX", "2")];
    Server::start(&db, None, &env).await.stop();
    let role = "5b5c1a9e-0000-4000-8000-000000000001";
    let key = match engine {
        Engine::Sqlite => "integer PRIMARY KEY AUTOINCREMENT",
        Engine::Postgres => "serial PRIMARY KEY",
        Engine::MySql => "integer PRIMARY KEY AUTO_INCREMENT",
    };
    db.execute(&format!(
        "CREATE TABLE notes (id {key}, title varchar(50));
         INSERT INTO directus_roles (id, name, admin_access, app_access) VALUES ('{role}', 'Editor', false, false);
         INSERT INTO directus_users (id, email, role, token, status) VALUES ('5b5c1a9e-0000-4000-8000-000000000002', 'editor@example.com', '{role}', 'editor-token', 'active');
         INSERT INTO directus_permissions (role, collection, action, permissions, fields) VALUES ('{role}', 'notes', 'read', '{{}}', '*'), ('{role}', 'notes', 'create', '{{}}', '*');"
    ))
    .await;
    let server = Server::start(&db, None, &env).await;
    let creates = (0..8).map(|i| {
        let req = server.client.post(server.url("/items/notes")).bearer_auth("editor-token").json(&json!({ "title": format!("note {i}") }));
        async move { json(req.send().await.unwrap()).await }
    });
    for (status, body) in futures_util::future::join_all(creates).await {
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(db.count("notes", "1 = 1").await, 8);
    assert!(server.stop().success());
}

on_every_engine!(concurrent_non_admin_creates_on_a_small_pool);
