//! `/collections`, `/fields` and `/relations` over HTTP on every engine: real DDL, the metadata
//! rows, relational reads through the created relations, errors, and the events a hook sees.

mod common;

use common::*;
use serde_json::{json, Value};

struct App {
    db: TestDb,
    server: Server,
    token: String,
}

impl App {
    async fn start(engine: Engine) -> App {
        let db = TestDb::new(engine).await;
        let server = Server::start(&db, Some(&fixture("hooks/recorder")), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "2000")]).await;
        let token = server.admin_token().await;
        let app = App { db, server, token };
        // The recorder answers with its recording on a create in `probe`.
        let probe = json!({ "collection": "probe", "schema": {}, "meta": {} });
        let (status, body) = app.send("POST", "/collections", Some(probe)).await;
        assert_eq!(status, 200, "{body}");
        app.events().await;
        app
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.server.client.request(method.parse().unwrap(), self.server.url(path)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        json(req.send().await.unwrap()).await
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.send(method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {body}");
        body["data"].clone()
    }

    async fn error(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String, String) {
        let (status, body) = self.send(method, path, body).await;
        let error = &body["errors"][0];
        (status, error["extensions"]["code"].as_str().unwrap_or_default().to_string(), error["message"].as_str().unwrap_or_default().to_string())
    }

    /// `/relations` without the system collections' own.
    async fn user_relations(&self) -> Vec<Value> {
        let all = self.ok("GET", "/relations", None).await;
        all.as_array().unwrap().iter().filter(|r| !r["collection"].as_str().unwrap().starts_with("directus_")).cloned().collect()
    }

    /// The events the recorder saw since the last call (after-events settle first).
    async fn events(&self) -> Vec<Value> {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (status, body) = self.send("POST", "/items/probe", Some(json!({}))).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{body}");
        body["errors"][0]["extensions"]["events"].as_array().cloned().unwrap()
    }
}

fn names(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

fn by_field(fields: &Value) -> std::collections::BTreeMap<String, Value> {
    fields.as_array().unwrap().iter().map(|f| (f["field"].as_str().unwrap().to_string(), f.clone())).collect()
}

async fn ddl_round_trip(engine: Engine) {
    let mut app = App::start(engine).await;

    // A collection with an auto-increment key and a meta: table, rows, events.
    let authors = json!({
        "collection": "authors",
        "meta": { "icon": "person", "note": "people" },
        "schema": {},
        "fields": [
            { "field": "id", "type": "integer", "schema": { "is_primary_key": true, "has_auto_increment": true }, "meta": { "hidden": true } },
            { "field": "name", "type": "string", "schema": { "max_length": 100 }, "meta": { "interface": "input" } },
            { "field": "slug", "type": "string", "schema": { "is_unique": true } },
        ],
    });
    let created = app.ok("POST", "/collections", Some(authors.clone())).await;
    assert_eq!((created["collection"].clone(), created["meta"]["icon"].clone()), (json!("authors"), json!("person")), "{engine:?} {created}");
    let events = app.events().await;
    assert_eq!(names(&events), ["collections.create.before", "collections.create", "fields.create.before", "fields.create", "fields.create.before", "fields.create"], "{engine:?}");
    assert_eq!(events[0]["input"], json!({ "icon": "person", "note": "people", "collection": "authors" }), "the meta row");
    assert_eq!(events[0]["item"], Value::Null);
    assert_eq!(events[1]["item"], json!("authors"), "the collection name");
    assert_eq!(events[2]["input"], json!({ "hidden": true, "collection": "authors", "field": "id" }));
    assert!(events[3]["item"].is_number(), "{engine:?}: the directus_fields id, {}", events[3]["item"]);
    assert_eq!(app.db.count("directus_fields", "collection = 'authors'").await, 2);
    let slug = app.ok("GET", "/fields/authors/slug", None).await;
    assert_eq!((slug["schema"]["is_unique"].clone(), slug["meta"].clone()), (json!(true), Value::Null), "{engine:?} {slug}");
    assert_eq!(app.ok("GET", "/fields/authors/name", None).await["schema"]["is_unique"], json!(false), "{engine:?}");
    app.ok("POST", "/items/authors", Some(json!({ "name": "x", "slug": "same" }))).await;
    let (status, code, _) = app.error("POST", "/items/authors", Some(json!({ "name": "y", "slug": "same" }))).await;
    assert_eq!((status, code.as_str()), (400, "RECORD_NOT_UNIQUE"), "{engine:?}");
    app.ok("DELETE", "/items/authors/1", None).await;
    app.events().await;

    // Every type, on a uuid key. As in rc.83 (and as its admin app sends it), no `schema` key
    // still makes a table, and `meta: null` still stores a meta row of defaults.
    let articles = json!({
        "collection": "articles",
        "meta": null,
        "fields": [
            { "field": "id", "type": "uuid", "schema": { "is_primary_key": true }, "meta": { "special": ["uuid"] } },
            { "field": "title", "type": "string", "schema": { "is_nullable": false, "default_value": "untitled" } },
            { "field": "body", "type": "text" },
            { "field": "views", "type": "integer", "schema": { "default_value": 0 } },
            { "field": "big", "type": "bigInteger" },
            { "field": "rating", "type": "float" },
            { "field": "price", "type": "decimal", "schema": { "numeric_precision": 10, "numeric_scale": 2 } },
            { "field": "published", "type": "boolean", "schema": { "default_value": false } },
            { "field": "day", "type": "date" },
            { "field": "at", "type": "dateTime" },
            { "field": "clock", "type": "time" },
            { "field": "stamp", "type": "timestamp" },
            { "field": "data", "type": "json", "meta": { "special": ["json"] } },
            { "field": "tags", "type": "csv", "meta": { "special": ["csv"] } },
            { "field": "secret", "type": "hash", "meta": { "special": ["hash", "conceal"] } },
            { "field": "divider", "type": "alias", "meta": { "special": ["alias", "no-data"], "interface": "presentation-divider" } },
        ],
    });
    let created = app.ok("POST", "/collections", Some(articles)).await;
    assert_eq!((created["meta"]["collection"].clone(), created["meta"]["accountability"].clone()), (json!("articles"), json!("all")), "{engine:?}");
    let fields = by_field(&app.ok("GET", "/fields/articles", None).await);
    for (field, kind) in [
        ("id", "uuid"), ("title", "string"), ("body", "text"), ("views", "integer"), ("big", "bigInteger"), ("rating", "float"), ("price", "decimal"),
        ("published", "boolean"), ("day", "date"), ("at", "dateTime"), ("clock", "time"), ("stamp", "timestamp"), ("data", "json"), ("tags", "csv"), ("secret", "hash"),
        ("divider", "alias"),
    ] {
        assert_eq!(fields[field]["type"], json!(kind), "{engine:?} {field}: {}", fields[field]);
    }
    assert_eq!(fields["title"]["schema"]["is_nullable"], json!(false), "{engine:?}");
    assert_eq!(fields["title"]["schema"]["default_value"], json!("untitled"), "{engine:?}");
    assert_eq!(fields["id"]["schema"]["is_primary_key"], json!(true), "{engine:?}");
    assert_eq!(fields["divider"]["schema"], Value::Null);
    assert_eq!(fields["data"]["meta"]["special"], json!(["json"]));
    assert_eq!(fields["body"]["meta"], Value::Null, "no meta row");
    app.events().await;

    // The new collection serves items at once (the schema cache was invalidated).
    let item = app
        .ok("POST", "/items/articles", Some(json!({ "body": "b", "data": { "a": 1 }, "tags": ["x", "y"], "published": true, "price": 9.5, "day": "2021-05-01" })))
        .await;
    let id = item["id"].as_str().expect("a generated uuid").to_string();
    assert_eq!((item["title"].clone(), item["views"].clone(), item["published"].clone()), (json!("untitled"), json!(0), json!(true)), "{engine:?} {item}");
    assert_eq!((item["data"].clone(), item["tags"].clone(), item["day"].clone()), (json!({ "a": 1 }), json!(["x", "y"]), json!("2021-05-01")), "{engine:?}");
    let events = app.events().await;
    assert_eq!(events[0]["event"], "items.create.before");
    assert_eq!(events[0]["schema_has_collection"], true, "{engine:?}: hooks' schema knows the new collection");

    // Add a field, then alter its type, nullability, default and meta.
    let added = app.ok("POST", "/fields/articles", Some(json!({ "field": "subtitle", "type": "string", "schema": { "max_length": 50 }, "meta": { "note": "sub" } }))).await;
    assert_eq!((added["type"].clone(), added["schema"]["max_length"].clone(), added["meta"]["note"].clone()), (json!("string"), json!(50), json!("sub")), "{engine:?} {added}");
    let events = app.events().await;
    assert_eq!(names(&events), ["fields.create.before", "fields.create"], "{engine:?}");
    assert_eq!(events[0]["input"], json!({ "note": "sub", "collection": "articles", "field": "subtitle" }));
    let field_id = events[1]["item"].clone();
    assert!(field_id.is_number());
    app.ok("PATCH", &format!("/items/articles/{id}"), Some(json!({ "subtitle": "s1" }))).await;
    app.events().await;
    let altered = app
        .ok("PATCH", "/fields/articles/subtitle", Some(json!({ "type": "text", "schema": { "is_nullable": false, "default_value": "none" }, "meta": { "note": "changed" } })))
        .await;
    assert_eq!((altered["type"].clone(), altered["schema"]["is_nullable"].clone()), (json!("text"), json!(false)), "{engine:?} {altered}");
    assert_eq!((altered["schema"]["default_value"].clone(), altered["meta"]["note"].clone()), (json!("none"), json!("changed")), "{engine:?} {altered}");
    let events = app.events().await;
    assert_eq!(names(&events), ["fields.update.before", "fields.read", "fields.update"], "{engine:?}");
    assert_eq!(events[0]["item"], json!([field_id]));
    let read = app.ok("GET", &format!("/items/articles/{id}?fields=subtitle,title"), None).await;
    assert_eq!(read, json!({ "subtitle": "s1", "title": "untitled" }), "{engine:?}: rows survive the alter");
    let second = app.ok("POST", "/items/articles", Some(json!({ "title": "Second" }))).await;
    assert_eq!(second["subtitle"], json!("none"), "{engine:?}: the new default");
    let (status, code, _) = app.error("PATCH", &format!("/items/articles/{id}"), Some(json!({ "subtitle": null }))).await;
    assert_eq!((status, code.as_str()), (400, "NOT_NULL_VIOLATION"), "{engine:?}");
    app.events().await;

    // An m2o articles.author → authors with its o2m authors.articles.
    app.ok("POST", "/fields/articles", Some(json!({ "field": "author", "type": "integer", "meta": { "special": ["m2o"] } }))).await;
    app.ok("POST", "/fields/authors", Some(json!({ "field": "articles", "type": "alias", "meta": { "special": ["o2m"] } }))).await;
    app.events().await;
    let relation = json!({ "collection": "articles", "field": "author", "related_collection": "authors", "schema": { "on_delete": "SET NULL" }, "meta": { "one_field": "articles" } });
    let created = app.ok("POST", "/relations", Some(relation)).await;
    assert_eq!((created["collection"].clone(), created["field"].clone(), created["related_collection"].clone()), (json!("articles"), json!("author"), json!("authors")));
    assert_eq!(created["schema"]["on_delete"], json!("SET NULL"), "{engine:?} {created}");
    assert_eq!(created["schema"]["foreign_key_table"], json!("authors"));
    assert_eq!(created["meta"]["one_field"], json!("articles"));
    let events = app.events().await;
    assert_eq!(names(&events), ["relations.create.before", "relations.create"], "{engine:?}");
    assert_eq!(events[0]["accountability"], Value::Null, "relations are written without accountability");
    assert_eq!(app.ok("GET", "/relations/articles", None).await.as_array().unwrap().len(), 1);

    let ann = app.ok("POST", "/items/authors", Some(json!({ "name": "Ann" }))).await["id"].clone();
    let bob = app.ok("POST", "/items/authors", Some(json!({ "name": "Bob" }))).await["id"].clone();
    app.ok("PATCH", &format!("/items/articles/{id}"), Some(json!({ "author": ann }))).await;
    app.ok("PATCH", &format!("/items/articles/{}", second["id"].as_str().unwrap()), Some(json!({ "author": bob }))).await;
    let all = app.ok("GET", &format!("/items/articles/{id}?fields=*.*"), None).await;
    assert_eq!(all["author"]["name"], json!("Ann"), "{engine:?} {all}");
    assert_eq!(all["author"]["articles"], json!([id]), "{engine:?} {all}");
    let listed = app.ok("GET", "/items/authors?fields=name,articles.title&deep[articles][_sort]=title", None).await;
    assert_eq!(listed, json!([{ "name": "Ann", "articles": [{ "title": "untitled" }] }, { "name": "Bob", "articles": [{ "title": "Second" }] }]), "{engine:?}");
    let (status, code, _) = app.error("PATCH", &format!("/items/articles/{id}"), Some(json!({ "author": 999 }))).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_FOREIGN_KEY"), "{engine:?}: the foreign key exists");
    app.ok("DELETE", &format!("/items/authors/{bob}"), None).await;
    let orphan = app.ok("GET", &format!("/items/articles/{}?fields=author", second["id"].as_str().unwrap()), None).await;
    assert_eq!(orphan["author"], Value::Null, "{engine:?}: ON DELETE SET NULL");
    app.events().await;

    // Deleting the m2o takes the relation and the o2m with it; no relations.delete.
    app.ok("DELETE", "/fields/articles/author", None).await;
    let events = app.events().await;
    assert_eq!(names(&events), ["fields.delete.before", "fields.delete.before", "fields.delete", "fields.delete"], "{engine:?}");
    assert_eq!((events[0]["collection"].clone(), events[0]["item"].clone(), events[0]["payload"].clone()), (json!("articles"), json!("author"), Value::Null));
    assert_eq!((events[1]["collection"].clone(), events[1]["item"].clone()), (json!("authors"), json!("articles")));
    assert_eq!(events[0]["argc"], 1);
    assert_eq!(app.user_relations().await, Vec::<Value>::new(), "{engine:?}");
    assert!(!by_field(&app.ok("GET", "/fields/authors", None).await).contains_key("articles"));
    let read = app.ok("GET", &format!("/items/articles/{id}"), None).await;
    assert!(read.get("author").is_none() && read["subtitle"] == "s1", "{engine:?} {read}");

    // Deleting a field with a column.
    app.ok("DELETE", "/fields/articles/subtitle", None).await;
    assert!(app.ok("GET", &format!("/items/articles/{id}"), None).await.get("subtitle").is_none());
    app.events().await;

    // Deleting the collections: meta events, table and metadata gone.
    app.ok("DELETE", "/collections/articles", None).await;
    let events = app.events().await;
    assert_eq!(names(&events), ["collections.delete.before", "collections.delete"], "{engine:?}");
    app.ok("DELETE", "/collections/authors", None).await;
    let events = app.events().await;
    assert_eq!(names(&events), ["collections.delete.before", "collections.delete"], "{engine:?}");
    assert_eq!(events[0]["item"], json!(["authors"]));
    assert_eq!(app.error("GET", "/items/authors", None).await.0, 403);
    assert_eq!(app.ok("GET", "/collections/authors", None).await, Value::Null);
    assert_eq!(app.db.count("directus_fields", "collection IN ('authors', 'articles')").await, 0);
    let names: Vec<Value> = app.ok("GET", "/collections", None).await.as_array().unwrap().iter().map(|c| c["collection"].clone()).collect();
    assert!(!names.contains(&json!("authors")) && !names.contains(&json!("articles")) && names.contains(&json!("probe")), "{engine:?} {names:?}");
    assert!(app.server.stop_ref().success());
}

on_every_engine!(ddl_round_trip);

/// A many-to-many through a junction created over the API reads through `/items`, and deleting
/// a collection other collections point at removes their fields.
async fn many_to_many(engine: Engine) {
    let mut app = App::start(engine).await;
    app.ok("POST", "/collections", Some(json!({ "collection": "posts", "schema": {}, "meta": {}, "fields": [
        { "field": "id", "type": "integer", "schema": { "is_primary_key": true, "has_auto_increment": true } },
        { "field": "name", "type": "string" },
        { "field": "tags", "type": "alias", "meta": { "special": ["m2m"] } },
    ] }))).await;
    app.ok("POST", "/collections", Some(json!({ "collection": "tags", "schema": {}, "meta": {}, "fields": [
        { "field": "id", "type": "integer", "schema": { "is_primary_key": true, "has_auto_increment": true } },
        { "field": "name", "type": "string" },
    ] }))).await;
    app.ok("POST", "/collections", Some(json!({ "collection": "posts_tags", "schema": {}, "fields": [
        { "field": "id", "type": "integer", "schema": { "is_primary_key": true, "has_auto_increment": true } },
        { "field": "posts_id", "type": "integer" },
        { "field": "tags_id", "type": "integer" },
    ] }))).await;
    let relations = [
        json!({ "collection": "posts_tags", "field": "posts_id", "related_collection": "posts", "schema": { "on_delete": "CASCADE" }, "meta": { "one_field": "tags", "junction_field": "tags_id" } }),
        json!({ "collection": "posts_tags", "field": "tags_id", "related_collection": "tags", "schema": { "on_delete": "CASCADE" }, "meta": { "junction_field": "posts_id" } }),
    ];
    for relation in relations {
        app.ok("POST", "/relations", Some(relation)).await;
    }
    let post = app.ok("POST", "/items/posts", Some(json!({ "name": "p" }))).await["id"].clone();
    for tag in ["a", "b"] {
        let tag = app.ok("POST", "/items/tags", Some(json!({ "name": tag }))).await["id"].clone();
        app.ok("POST", "/items/posts_tags", Some(json!({ "posts_id": post, "tags_id": tag }))).await;
    }
    let read = app.ok("GET", "/items/posts?fields=name,tags.tags_id.name", None).await;
    assert_eq!(read, json!([{ "name": "p", "tags": [{ "tags_id": { "name": "a" } }, { "tags_id": { "name": "b" } }] }]), "{engine:?}");
    assert_eq!(app.user_relations().await.len(), 2);
    app.events().await;

    // `tags` goes: its meta row, then the junction's m2o to it, then the table.
    app.ok("DELETE", "/collections/tags", None).await;
    let events = app.events().await;
    assert_eq!(names(&events), ["collections.delete.before", "collections.delete", "fields.delete.before", "fields.delete"], "{engine:?}");
    assert_eq!((events[2]["collection"].clone(), events[2]["item"].clone()), (json!("posts_tags"), json!("tags_id")));
    let junction = app.ok("GET", "/items/posts_tags", None).await;
    assert!(junction[0].get("tags_id").is_none() && junction[0]["posts_id"] == post, "{engine:?} {junction}");
    assert_eq!(app.user_relations().await.len(), 1, "{engine:?}");
    // ON DELETE CASCADE on the remaining relation.
    app.ok("DELETE", &format!("/items/posts/{post}"), None).await;
    assert_eq!(app.ok("GET", "/items/posts_tags", None).await, json!([]), "{engine:?}");
    assert!(app.server.stop_ref().success());
}

on_every_engine!(many_to_many);

async fn errors_and_access(engine: Engine) {
    let mut app = App::start(engine).await;
    let (status, code, message) = app.error("POST", "/collections", Some(json!({ "collection": "probe", "schema": {} }))).await;
    assert_eq!((status, code.as_str(), message.as_str()), (400, "INVALID_PAYLOAD", "Collection \"probe\" already exists"));
    let (status, code, message) = app.error("POST", "/collections", Some(json!({ "schema": {} }))).await;
    assert_eq!((status, code.as_str(), message.as_str()), (400, "INVALID_PAYLOAD", "\"collection\" is required"));
    let (status, code, _) = app.error("POST", "/collections", Some(json!({ "collection": "directus_x" }))).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_PAYLOAD"));
    let (status, code, _) = app.error("POST", "/collections", Some(json!({ "collection": "bad", "schema": {}, "fields": [{ "field": "id", "type": "nope" }] }))).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_PAYLOAD"));
    assert_eq!(app.error("PATCH", "/collections/missing", Some(json!({ "meta": {} }))).await.0, 403);
    assert_eq!(app.error("PATCH", "/collections/probe", Some(json!({}))).await.1, "INVALID_PAYLOAD");
    assert_eq!(app.error("DELETE", "/collections/missing", None).await.0, 403);
    assert_eq!(app.error("GET", "/fields/missing", None).await.0, 403);
    assert_eq!(app.error("GET", "/fields/probe/missing", None).await.0, 403);
    assert_eq!(app.error("DELETE", "/fields/probe/missing", None).await.0, 403);
    let (status, _, message) = app.error("POST", "/fields/probe", Some(json!({ "field": "id", "type": "integer" }))).await;
    assert_eq!((status, message.as_str()), (400, "Field \"id\" already exists in collection \"probe\""));
    let (status, _, message) = app.error("POST", "/relations", Some(json!({ "collection": "probe", "field": "nope", "related_collection": "probe" }))).await;
    assert_eq!((status, message.as_str()), (400, "Field \"nope\" doesn't exist in collection \"probe\""));
    assert_eq!(app.error("GET", "/relations/probe/id", None).await.0, 403);

    // A type change converts the stored values.
    app.ok("POST", "/fields/probe", Some(json!({ "field": "num", "type": "string" }))).await;
    app.db.execute("INSERT INTO probe (num) VALUES ('42');").await;
    let altered = app.ok("PATCH", "/fields/probe/num", Some(json!({ "type": "integer", "schema": {} }))).await;
    assert_eq!(altered["type"], json!("integer"), "{engine:?} {altered}");
    assert_eq!(app.ok("GET", "/items/probe?fields=num", None).await, json!([{ "num": 42 }]), "{engine:?}");

    // PATCH meta: collections.update with the name in an array.
    app.events().await;
    let updated = app.ok("PATCH", "/collections/probe", Some(json!({ "meta": { "note": "n" } }))).await;
    assert_eq!(updated["meta"]["note"], json!("n"));
    let events = app.events().await;
    assert_eq!(events[0]["event"], "collections.update.before", "{engine:?}");
    assert_eq!(events[0]["item"], json!(["probe"]));

    // Without a token: writes are forbidden, reads show nothing the public role can't read.
    let anonymous = |method: &str, path: &str, body: Option<Value>| {
        let mut req = app.server.client.request(method.parse().unwrap(), app.server.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move { json(req.send().await.unwrap()).await }
    };
    let (status, body) = anonymous("POST", "/collections", Some(json!({ "collection": "x", "schema": {} }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (403, json!("FORBIDDEN")));
    assert_eq!(anonymous("POST", "/fields/probe", Some(json!({ "field": "x", "type": "string" }))).await.0, 403);
    assert_eq!(anonymous("DELETE", "/collections/probe", None).await.0, 403);
    assert_eq!(anonymous("POST", "/relations", Some(json!({ "collection": "probe", "field": "id" }))).await.0, 403);
    assert_eq!(anonymous("GET", "/collections", None).await.1["data"], json!([]));
    app.ok("POST", "/permissions", Some(json!({ "role": null, "collection": "probe", "action": "read", "fields": ["id"] }))).await;
    let (status, body) = anonymous("GET", "/collections", None).await;
    assert_eq!((status, body["data"].as_array().map(Vec::len)), (200, Some(1)), "{engine:?} {body}");
    assert!(app.server.stop_ref().success());
}

on_every_engine!(errors_and_access);
