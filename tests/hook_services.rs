//! Hooks calling `services.ItemsService`, `UsersService` and `getSchema()` over the real server:
//! the same Rust services as HTTP, exceptions a hook can catch, and a recursion limit.

mod common;

use common::*;
use serde_json::json;

async fn services_from_hooks(engine: Engine) {
    let db = TestDb::new(engine).await;
    let pk = db.serial_pk();
    let ext = fixture("hooks/services");
    let extra = [("HOOKS_POOL_SIZE", "1"), ("HOOKS_MAX_DEPTH", "4")];
    Server::start(&db, Some(&ext), &extra).await.stop();
    for table in ["articles (id PK, title varchar(255))", "audit (id PK, article integer, note varchar(50))", "chain (id PK, note varchar(50))", "batch (id PK, note varchar(50))", "importer (id PK, note varchar(50))", "imported (id PK, note varchar(50))", "import_chain (id PK, note varchar(50))", "catcher (id PK, note varchar(50), has_schema boolean, caught_forbidden boolean, caught_unique boolean, found integer, admin_email varchar(128), caller_admin boolean, caller_count integer)"] {
        db.execute(&format!("CREATE TABLE {};", table.replace("PK", pk))).await;
    }
    let server = Server::start(&db, Some(&ext), &extra).await;
    let token = server.admin_token().await;
    let post = |path: &'static str, body: serde_json::Value| {
        let req = server.client.post(server.url(path)).bearer_auth(&token).json(&body);
        async move { json(req.send().await.unwrap()).await }
    };

    let (status, body) = post("/items/articles", json!({ "title": "first" })).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let mut audited = 0;
    for _ in 0..50 {
        audited = db.count("audit", "article = 1 AND note = 'created'").await;
        if audited == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(audited, 1, "{engine:?}: the after-hook's ItemsService.createOne wrote the audit row");

    let (status, body) = post("/items/catcher", json!({ "note": "x" })).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let d = &body["data"];
    assert_eq!(d["has_schema"], true, "{engine:?}");
    assert_eq!(d["caught_forbidden"], true, "{engine:?}");
    assert_eq!(d["caught_unique"], true, "{engine:?}");
    assert_eq!(d["found"], 1, "{engine:?}");
    assert_eq!(d["admin_email"], ADMIN_EMAIL, "{engine:?}");
    assert_eq!(d["caller_admin"], true);
    assert_eq!(d["caller_count"], 1);
    assert_eq!(db.count("articles", "title = 'first (seen)'").await, 1, "{engine:?}: updateByQuery");

    // Each item's before-hook writes on the pool while the items before it wait in the request's
    // transaction: on SQLite that transaction takes the one-writer slot only when it commits.
    let (status, body) = post("/items/batch", json!([{ "note": "a" }, { "note": "b" }, { "note": "c" }])).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    assert_eq!(db.count("batch", "1 = 1").await, 3, "{engine:?}");
    assert_eq!(db.count("audit", "note LIKE 'before %'").await, 3, "{engine:?}");

    // ImportService runs in the hook's transaction and at its depth.
    let (status, body) = post("/items/importer", json!({ "note": "ok" })).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    assert_eq!(db.count("imported", "note LIKE 'ok %'").await, 2, "{engine:?}");
    let (status, body) = post("/items/importer", json!({ "note": "fail" })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{engine:?} {body}");
    assert_eq!(db.count("imported", "note LIKE 'fail %'").await, 0, "{engine:?}: the import rolled back with the request");
    let (status, body) = post("/items/import_chain", json!({ "note": "top" })).await;
    assert_eq!(status, 503, "{engine:?} {body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("HOOKS_MAX_DEPTH"), "{body}");
    assert_eq!(db.count("import_chain", "1 = 1").await, 0, "{engine:?}");

    let (status, body) = post("/items/chain", json!({ "note": "top" })).await;
    assert_eq!(status, 503, "{engine:?} {body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("HOOKS_MAX_DEPTH"), "{body}");
    assert_eq!(db.count("chain", "1 = 1").await, 0, "{engine:?}: every level rolled back");
    let (status, _) = post("/items/articles", json!({ "title": "still serving" })).await;
    assert_eq!(status, 200);
    assert!(server.stop().success());
}

on_every_engine!(services_from_hooks);

/// `CollectionsService`, `FieldsService`, `RelationsService` and `MetaService` from a hook: real
/// DDL through the same Rust services as `/collections` and `/fields`.
#[tokio::test]
async fn schema_services_from_hooks() {
    for engine in ENGINES {
        let db = TestDb::new(engine).await;
        let ext = fixture("hooks/schema-services");
        let server = Server::start(&db, Some(&ext), &[("HOOKS_POOL_SIZE", "1")]).await;
        let (status, body) = json(server.client.post(server.url("/schema-hook")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(
            body,
            json!({ "name": "gadgets", "note": "grams", "total": 2, "heavy": 1, "forbidden": true, "icon": "box", "relations": [] }),
            "{engine:?}"
        );
        assert_eq!(db.count("gadgets", "weight = 3").await, 1, "{engine:?}: the column exists with its default");
        let token = server.admin_token().await;
        let (status, body) = json(server.client.get(server.url("/items/gadgets?sort=id")).bearer_auth(&token).send().await.unwrap()).await;
        assert_eq!(status, 200, "{engine:?}");
        assert_eq!(body["data"][1]["weight"], 9, "{engine:?}: the API sees the hook's collection");
        assert!(server.stop().success());
    }
}
