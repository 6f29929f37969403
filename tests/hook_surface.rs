//! The rest of rc.83's service surface from a real hook (`fixtures/hooks/surface`), on every
//! engine: two-factor helpers of `UsersService` and `AuthenticationService`, `getAllowedFields`,
//! `RevisionsService.revert`, `FilesService.uploadOne` from a Buffer and a Readable,
//! `FieldsService.addColumnToTable`, `PayloadService`'s nested writes and dates, `ItemsService`'s
//! deprecated names; and the events of permissions, presets, folders, webhooks and relations.

mod common;

use common::*;
use serde_json::{json, Value};

struct App {
    server: Server,
    token: String,
    engine: Engine,
}

async fn app(engine: Engine) -> (TestDb, App) {
    let db = TestDb::new(engine).await;
    let ext = fixture("hooks/surface");
    let env = [("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "5000")];
    Server::start(&db, Some(&ext), &env).await.stop();
    let pk = db.serial_pk();
    let (fk, date_time) = match engine {
        Engine::MySql => ("int unsigned", "datetime"),
        Engine::Postgres => ("integer", "timestamp"),
        Engine::Sqlite => ("integer", "datetime"),
    };
    db.execute(&format!(
        "CREATE TABLE authors (id {pk}, name varchar(50));
         CREATE TABLE articles (id {pk}, title varchar(50), author {fk} REFERENCES authors (id), editor {fk}, block varchar(255), block_collection varchar(64), published_on date, moment {date_time});
         CREATE TABLE comments (id {pk}, body varchar(50), article {fk} REFERENCES articles (id));"
    ))
    .await;
    db.execute(
        "INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field, one_collection_field, one_allowed_collections) VALUES
         ('articles', 'author', 'authors', NULL, NULL, NULL),
         ('comments', 'article', 'articles', 'comments', NULL, NULL),
         ('articles', 'block', NULL, NULL, 'block_collection', 'authors');
         INSERT INTO directus_fields (collection, field, special, interface) VALUES ('articles', 'comments', 'o2m', 'one-to-many');",
    )
    .await;
    let server = Server::start(&db, Some(&ext), &env).await;
    let token = server.admin_token().await;
    (db, App { server, token, engine })
}

impl App {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.server.send(&self.token, method, path, body).await;
        assert_eq!(status, 200, "{:?} {method} {path}: {body}", self.engine);
        body
    }

    /// What `POST /surface/<what>` answered.
    async fn surface(&self, what: &str, body: Value) -> Value {
        self.send("POST", &format!("/surface/{what}"), Some(body)).await
    }

    async fn events(&self) -> Vec<Value> {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        self.send("GET", "/surface/events", None).await.as_array().cloned().unwrap()
    }
}

async fn service_methods_from_a_hook(engine: Engine) {
    let (_db, app) = app(engine).await;

    let user = app.send("POST", "/users", Some(json!({ "email": "two@example.com", "password": "factor", "status": "active" }))).await["data"]["id"].clone();
    let tfa = app.surface("tfa", json!({ "user": user, "email": "two@example.com", "password": "factor" })).await;
    let auth_url = tfa["auth_url"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        tfa,
        json!({
            "secret_matches_url": true, "right": true, "wrong": false, "not_enabled": "INVALID_PAYLOAD", "stored": true,
            "without_otp": "INVALID_OTP", "logged_in": true, "again": "TFA Secret is already set for this user", "secret_after": null,
            "new_secret": true, "auth_url": auth_url, "password_ok": true, "password_wrong": "INVALID_CREDENTIALS",
        }),
        "{engine:?}"
    );
    assert!(auth_url.starts_with("otpauth://totp/Directus:two%40example%2Ecom?secret=ABCDEFGH"), "{engine:?} {auth_url}");

    let role = app.send("POST", "/roles", Some(json!({ "name": "Reader" }))).await["data"]["id"].clone();
    for (collection, action, fields) in [("articles", "read", Some("id,title")), ("articles", "read", Some("title,author")), ("authors", "read", Some("*")), ("comments", "read", None), ("articles", "create", Some("title"))] {
        app.send("POST", "/permissions", Some(json!({ "role": role, "collection": collection, "action": action, "fields": fields }))).await;
    }
    assert_eq!(
        app.surface("permissions", json!({ "role": role })).await,
        json!({
            "all": { "articles": ["id", "title", "author"], "authors": ["*"] },
            "articles": { "articles": ["id", "title", "author"] },
            "create": { "articles": ["title"] },
            "admin": {},
        }),
        "{engine:?}"
    );

    assert_eq!(app.surface("revert", json!({})).await, json!({ "title": "Original", "forbidden": "FORBIDDEN" }), "{engine:?}");

    let upload = app.surface("upload", json!({})).await;
    assert_eq!(upload["replaced"], upload["buffer"], "{engine:?} {upload}");
    assert_eq!(upload["broken"], true, "{engine:?}: a stream that fails fails the upload");
    let rows = upload["rows"].as_array().unwrap();
    let size = |key: &Value| rows.iter().find(|r| r["id"] == *key).map(|r| r["filesize"].to_string());
    assert_eq!((size(&upload["buffer"]), size(&upload["stream"])), (Some("8".into()), Some("13".into())), "{engine:?} {upload}");
    assert_eq!(upload["uploads"], json!([upload["buffer"], upload["stream"], upload["buffer"]]), "{engine:?}: files.upload fired for each upload");
    for (key, bytes) in [(&upload["buffer"], "replaced"), (&upload["stream"], "from a stream")] {
        let res = app.server.client.get(app.server.url(&format!("/assets/{}", key.as_str().unwrap()))).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(res.text().await.unwrap(), bytes, "{engine:?}");
    }
    let (_, files) = app.server.send(&app.token, "GET", "/files?fields=filename_download&sort=filename_download", None).await;
    assert_eq!(files["data"], json!([{ "filename_download": "buffer.txt" }, { "filename_download": "stream.txt" }]), "{engine:?}: the broken upload left no row");

    assert_eq!(app.surface("fields", json!({})).await, json!({ "rating": 3, "code": "r1", "duplicate_refused": true }), "{engine:?}");

    let payload = app.surface("payload", json!({})).await;
    assert_eq!(
        payload,
        json!({
            "m2o_author_is_key": true, "m2o_title": "With author", "a2o_block_is_key": true, "comments": 2, "rolled_back": 0,
            "dates": [
                { "published_on": "2021-03-04", "moment": "2021-03-04T05:06:07", "title": "x", "stamp": "2021-03-04 05:06:07" },
                { "published_on": null },
            ],
            "written": [{ "moment": "2021-03-04T03:06:07.000Z" }],
        }),
        "{engine:?}"
    );

    let deprecated = app.surface("deprecated", json!({})).await;
    assert_eq!(
        deprecated,
        json!({
            "one_is_key": true, "many": 2, "read": "one", "read_many": ["two", "three"], "updated": true,
            "updated_many": deprecated["updated_many"], "missing": "Primary key is missing in update payload.", "upserted": true,
            "upserted_new": 1, "left": ["one!!"], "user_duplicate": "RECORD_NOT_UNIQUE", "named": "Old", "user_gone": "FORBIDDEN",
        }),
        "{engine:?}"
    );
    assert_eq!(deprecated["updated_many"].as_array().map(Vec::len), Some(2), "{engine:?}");
    assert!(app.server.stop().success());
}

on_every_engine!(service_methods_from_a_hook);

/// `(event, input or payload)` of each recorded event, keys left out.
fn sequence(events: &[Value]) -> Vec<(String, Value)> {
    events.iter().map(|e| (e["event"].as_str().unwrap().to_string(), if e["event"].as_str().unwrap().ends_with(".before") { e["input"].clone() } else { e["payload"].clone() })).collect()
}

async fn system_collection_events(engine: Engine) {
    let (_db, app) = app(engine).await;
    app.events().await;
    for (path, body, patch) in [
        ("/permissions", json!({ "role": null, "collection": "articles", "action": "read", "fields": "*" }), json!({ "fields": "id" })),
        ("/presets", json!({ "collection": "articles", "layout": "tabular" }), json!({ "layout": "cards" })),
        ("/folders", json!({ "name": "Pictures" }), json!({ "name": "Photos" })),
        ("/webhooks", json!({ "name": "Hook", "method": "POST", "url": "http://127.0.0.1:9/", "status": "inactive", "actions": ["create"], "collections": ["articles"] }), json!({ "name": "Renamed" })),
    ] {
        let scope = &path[1..];
        let key = app.send("POST", path, Some(body.clone())).await["data"]["id"].clone();
        let item_path = format!("{path}/{}", key.as_str().map(str::to_string).unwrap_or(key.to_string()));
        app.send("PATCH", &item_path, Some(patch.clone())).await;
        let (status, answer) = app.server.send(&app.token, "DELETE", &item_path, None).await;
        assert_eq!(status, 200, "{engine:?} {item_path}: {answer}");
        let events = app.events().await;
        // The after-event's payload is the body with the new key, as in rc.83.
        let mut created = body.clone();
        created["id"] = key.clone();
        assert_eq!(
            sequence(&events),
            vec![
                (format!("{scope}.create.before"), body.clone()),
                (format!("{scope}.create"), created.clone()),
                (format!("{scope}.update.before"), patch.clone()),
                (format!("{scope}.update"), patch.clone()),
                (format!("{scope}.delete.before"), Value::Null),
                (format!("{scope}.delete"), Value::Null),
            ],
            "{engine:?} {events:?}"
        );
        assert!(events.iter().all(|e| e["collection"] == format!("directus_{scope}")), "{engine:?} {events:?}");
        // Keys from the URL are strings, as in rc.83.
        let url_keys = json!([item_path.rsplit('/').next().unwrap()]);
        let items: Vec<&Value> = events.iter().map(|e| &e["item"]).collect();
        assert_eq!(items, [&Value::Null, &key, &url_keys, &url_keys, &url_keys, &url_keys], "{engine:?} {scope}");
    }

    // Relations: create and update fire, delete doesn't (rc.83's service deletes with plain SQL).
    let relation = json!({ "collection": "articles", "field": "editor", "related_collection": "authors" });
    app.send("POST", "/relations", Some(relation.clone())).await;
    let update = json!({ "meta": { "one_deselect_action": "delete" } });
    app.send("PATCH", "/relations/articles/editor", Some(update.clone())).await;
    app.send("DELETE", "/relations/articles/editor", None).await;
    let events = app.events().await;
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["relations.create.before", "relations.create", "relations.update.before", "relations.update"], "{engine:?} {events:?}");
    // As rc.83, the events are those of the `directus_relations` row the service writes.
    let row = json!({ "many_collection": "articles", "many_field": "editor", "one_collection": "authors" });
    assert_eq!((&events[0]["input"], &events[2]["input"]), (&row, &update["meta"]), "{engine:?} {events:?}");
    assert!(events.iter().all(|e| e["collection"] == "directus_relations"), "{engine:?} {events:?}");
    assert!(app.server.stop().success());
}

on_every_engine!(system_collection_events);
