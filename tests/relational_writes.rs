//! Nested relational writes and many-to-any over HTTP on every engine, with the events of the
//! nested items recorded by a real JS hook. The requests and the event sequences they assert are
//! the ones Directus rc.83 answered and emitted for the same schema (see the oracle notes in
//! `services/items/nested.rs`).

mod common;

use common::*;
use serde_json::{json, Value};

struct App {
    db: TestDb,
    server: Server,
    token: String,
}

/// authors ← articles (m2o `author`); articles ← comments (o2m `comments`, deselected items
/// nullified); articles ↔ tags through articles_tags (m2m `tags`, deselected links deleted);
/// articles → headings | texts through articles_blocks (m2a `blocks`, deselected links deleted).
async fn app(engine: Engine) -> App {
    let db = TestDb::new(engine).await;
    let env = [("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "2000")];
    Server::start(&db, Some(&fixture("hooks/recorder")), &env).await.stop();
    let pk = db.serial_pk();
    let fk = if engine == Engine::MySql { "int unsigned" } else { "integer" };
    db.execute(&format!(
        "CREATE TABLE authors (id {pk}, name varchar(50));
         CREATE TABLE articles (id {pk}, title varchar(50), author {fk} REFERENCES authors (id));
         CREATE TABLE comments (id {pk}, body varchar(50), article {fk} REFERENCES articles (id));
         CREATE TABLE tags (id {pk}, name varchar(50) UNIQUE);
         CREATE TABLE articles_tags (id {pk}, articles_id {fk} REFERENCES articles (id), tags_id {fk} REFERENCES tags (id));
         CREATE TABLE headings (id {pk}, title varchar(50));
         CREATE TABLE texts (id {pk}, body varchar(50));
         CREATE TABLE articles_blocks (id {pk}, articles_id {fk} REFERENCES articles (id), item varchar(255), collection varchar(64));
         CREATE TABLE probe (id {pk}, note varchar(20));"
    ))
    .await;
    db.execute(
        "INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field, one_collection_field, one_allowed_collections, junction_field, one_deselect_action) VALUES
         ('articles', 'author', 'authors', NULL, NULL, NULL, NULL, 'nullify'),
         ('comments', 'article', 'articles', 'comments', NULL, NULL, NULL, 'nullify'),
         ('articles_tags', 'articles_id', 'articles', 'tags', NULL, NULL, 'tags_id', 'delete'),
         ('articles_tags', 'tags_id', 'tags', NULL, NULL, NULL, 'articles_id', 'nullify'),
         ('articles_blocks', 'articles_id', 'articles', 'blocks', NULL, NULL, 'item', 'delete'),
         ('articles_blocks', 'item', NULL, NULL, 'collection', 'headings,texts', 'articles_id', 'nullify');
         INSERT INTO directus_fields (collection, field, special, interface) VALUES
         ('articles', 'comments', 'o2m', 'one-to-many'), ('articles', 'tags', 'm2m', 'many-to-many'), ('articles', 'blocks', 'm2a', 'many-to-any');",
    )
    .await;
    let server = Server::start(&db, Some(&fixture("hooks/recorder")), &env).await;
    let token = server.admin_token().await;
    App { db, server, token }
}

impl App {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.server.send(&self.token, method, path, body).await
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.send(method, path, body).await;
        assert_eq!(status, 200, "{:?} {method} {path}: {body}", self.db.engine);
        body["data"].clone()
    }

    /// The events the recorder hook saw since the last call, each with the event's collection.
    async fn events(&self) -> Vec<Value> {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (status, body) = self.send("POST", "/items/probe", Some(json!({}))).await;
        assert_eq!(status, 400);
        body["errors"][0]["extensions"]["events"].as_array().cloned().unwrap()
    }

    /// `event collection` of each recorded event.
    async fn sequence(&self) -> Vec<String> {
        names(&self.events().await)
    }
}

fn names(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| format!("{} {}", e["event"].as_str().unwrap(), e["collection"].as_str().unwrap_or(""))).collect()
}

/// `sequence` is `head`, the events of each relation in `relations` one relation after the other
/// (in the order of the schema's relations: their foreign keys as the engine lists them, as in
/// rc.83), then `tail`.
fn assert_relations_in_turn(sequence: &[String], head: &[&str], relations: &[&[&str]; 2], tail: &[&str], engine: Engine) {
    let orders = [[relations[0], relations[1]].concat(), [relations[1], relations[0]].concat()];
    let matches = orders.iter().any(|nested| {
        let expected: Vec<&str> = head.iter().chain(nested.iter()).chain(tail.iter()).copied().collect();
        sequence.iter().map(String::as_str).eq(expected)
    });
    assert!(matches, "{engine:?}: {sequence:#?}");
}

async fn nested_writes(engine: Engine) {
    let app = app(engine).await;
    app.events().await;

    // Create: a many-to-one object and one-to-many objects, saved through their services.
    let created = app
        .ok("POST", "/items/articles?fields=*,author.*,comments.*", Some(json!({ "title": "A1", "author": { "name": "Ann" }, "comments": [{ "body": "c1" }, { "body": "c2" }] })))
        .await;
    assert_eq!(
        created,
        json!({
            "id": 1, "title": "A1", "author": { "id": 1, "name": "Ann" },
            "comments": [{ "id": 1, "body": "c1", "article": 1 }, { "id": 2, "body": "c2", "article": 1 }],
            "tags": [], "blocks": []
        }),
        "{engine:?}"
    );
    let events = app.events().await;
    assert_eq!(
        names(&events),
        [
            "items.create.before articles",
            "items.create.before authors",
            "items.create authors",
            "items.create.before comments",
            "items.create comments",
            "items.create.before comments",
            "items.create comments",
            "items.create articles",
            "items.read articles",
        ],
        "{engine:?}: the order rc.83 emits them in"
    );
    assert_eq!(events[3]["input"], json!({ "body": "c1", "article": 1 }), "{engine:?}: the child gets the new key");
    assert_eq!(events[2]["payload"], json!({ "name": "Ann", "id": 1 }));
    assert_eq!(events[7]["payload"]["author"], json!({ "name": "Ann" }), "the parent's after-event keeps the payload as sent");
    assert_eq!(app.db.count("directus_activity", "action = 'create'").await, 4, "{engine:?}: activity for every item");

    // Update: the many-to-one's existing item updated; comment 2 linked by key, 3 updated and
    // linked, a new one created, and comment 1, no longer listed, unlinked.
    app.ok("POST", "/items/comments", Some(json!({ "body": "c3" }))).await;
    app.events().await;
    let updated = app
        .ok(
            "PATCH",
            "/items/articles/1?fields=id,author.*,comments.*",
            Some(json!({ "author": { "id": 1, "name": "Ann B" }, "comments": [2, { "id": 3, "body": "c3x" }, { "body": "c4" }] })),
        )
        .await;
    assert_eq!(
        updated,
        json!({
            "id": 1, "author": { "id": 1, "name": "Ann B" },
            "comments": [{ "id": 2, "body": "c2", "article": 1 }, { "id": 3, "body": "c3x", "article": 1 }, { "id": 4, "body": "c4", "article": 1 }]
        }),
        "{engine:?}"
    );
    let events = app.events().await;
    assert_eq!(
        names(&events),
        [
            "items.update.before articles",
            "items.update.before authors",
            "items.read authors",
            "items.update authors",
            "items.update.before comments",
            "items.read comments",
            "items.update comments",
            "items.update.before comments",
            "items.read comments",
            "items.update comments",
            "items.create.before comments",
            "items.create comments",
            "items.update.before comments",
            "items.read comments",
            "items.update comments",
            "items.read articles",
            "items.update articles",
            "items.read articles",
        ],
        "{engine:?}: the order rc.83 emits them in"
    );
    assert_eq!((events[4]["item"].clone(), events[4]["input"].clone()), (json!([2]), json!({ "id": 2, "article": "1" })), "{engine:?}: linked with the key as the URL gave it");
    assert_eq!((events[12]["item"].clone(), events[12]["input"].clone()), (json!([1]), json!({ "article": null })), "{engine:?}: the deselected comment");
    assert_eq!(app.db.count("comments", "article IS NULL").await, 1, "{engine:?}");
    assert_eq!(app.ok("GET", "/items/articles/1?fields=comments", None).await, json!({ "comments": [2, 3, 4] }), "{engine:?}: fields=<o2m> lists keys");

    // Many-to-many and many-to-any: junction rows created with their related items.
    app.ok("POST", "/items/tags", Some(json!({ "name": "old" }))).await;
    app.events().await;
    let created = app
        .ok(
            "POST",
            "/items/articles?fields=id,tags.tags_id.name,blocks.collection,blocks.item:headings.title,blocks.item:texts.body",
            Some(json!({
                "title": "A2",
                "tags": [{ "tags_id": { "name": "t1" } }, { "tags_id": 1 }],
                "blocks": [{ "collection": "headings", "item": { "title": "H1" } }, { "collection": "texts", "item": { "body": "T1" } }]
            })),
        )
        .await;
    assert_eq!(
        created,
        json!({
            "id": 2,
            "tags": [{ "tags_id": { "name": "t1" } }, { "tags_id": { "name": "old" } }],
            "blocks": [{ "collection": "headings", "item": { "title": "H1" } }, { "collection": "texts", "item": { "body": "T1" } }]
        }),
        "{engine:?}"
    );
    let tags = ["items.create.before articles_tags", "items.create.before tags", "items.create tags", "items.create articles_tags", "items.create.before articles_tags", "items.create articles_tags"];
    let blocks = [
        "items.create.before articles_blocks",
        "items.create.before headings",
        "items.create headings",
        "items.create articles_blocks",
        "items.create.before articles_blocks",
        "items.create.before texts",
        "items.create texts",
        "items.create articles_blocks",
    ];
    assert_relations_in_turn(&app.sequence().await, &["items.create.before articles"], &[&tags, &blocks], &["items.create articles", "items.read articles"], engine);
    assert_eq!(app.ok("GET", "/items/articles_blocks?fields=item,collection", None).await, json!([{ "item": "1", "collection": "headings" }, { "item": "1", "collection": "texts" }]));

    // A many-to-any item is updated only in the collection its row names.
    let (status, body) = app.send("PATCH", "/items/articles/2", Some(json!({ "blocks": [{ "id": 1, "item": { "id": 1, "title": "x" } }] }))).await;
    assert_eq!(
        (status, body["errors"][0]["message"].clone()),
        (400, json!("Can't update nested record \"articles_blocks.item\" without field \"articles_blocks.collection\" being set")),
        "{engine:?}"
    );
    let (status, body) = app.send("PATCH", "/items/articles/2", Some(json!({ "blocks": [{ "collection": "authors", "item": { "name": "x" } }] }))).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (400, json!("\"articles_blocks.item\" can't be linked to collection \"authors\"")));
    assert_eq!(app.db.count("articles_tags", "1 = 1").await, 2, "{engine:?}: the failed requests changed nothing");
    app.events().await;

    // Relink and unlink: tag link 2 kept, link 1 deleted (`delete` deselect); heading 1 edited
    // through its link, text block 2 deleted.
    let updated = app
        .ok(
            "PATCH",
            "/items/articles/2?fields=tags.tags_id.name,blocks.item.*",
            Some(json!({ "tags": [{ "id": 2 }], "blocks": [{ "id": 1, "collection": "headings", "item": { "id": 1, "title": "H1 edited" } }] })),
        )
        .await;
    assert_eq!(updated, json!({ "tags": [{ "tags_id": { "name": "old" } }], "blocks": [{ "item": { "id": 1, "title": "H1 edited" } }] }), "{engine:?}");
    let tags = ["items.update.before articles_tags", "items.read articles_tags", "items.update articles_tags", "items.delete.before articles_tags", "items.delete articles_tags"];
    let blocks = [
        "items.update.before articles_blocks",
        "items.update.before headings",
        "items.read headings",
        "items.update headings",
        "items.read articles_blocks",
        "items.update articles_blocks",
        "items.delete.before articles_blocks",
        "items.delete articles_blocks",
    ];
    let tail = ["items.read articles", "items.update articles", "items.read articles"];
    assert_relations_in_turn(&app.sequence().await, &["items.update.before articles"], &[&tags, &blocks], &tail, engine);
    assert_eq!((app.db.count("articles_tags", "1 = 1").await, app.db.count("tags", "1 = 1").await), (1, 2), "{engine:?}: the link went, the tag stays");
    assert_eq!((app.db.count("articles_blocks", "1 = 1").await, app.db.count("texts", "1 = 1").await), (1, 1), "{engine:?}");

    // The object form of a one-to-many changes only what it names.
    app.ok("PATCH", "/items/articles/1", Some(json!({ "comments": { "create": [{ "body": "c5" }], "update": [{ "id": 2, "body": "c2x" }], "delete": [4] } }))).await;
    assert_eq!(app.ok("GET", "/items/articles/1?fields=comments.body", None).await, json!({ "comments": [{ "body": "c2x" }, { "body": "c3x" }, { "body": "c5" }] }), "{engine:?}");
    let (status, body) = app.send("PATCH", "/items/articles/1", Some(json!({ "comments": { "remove": [1] } }))).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (400, json!("Invalid one-to-many update structure: \"remove\" is not allowed")));
    assert!(app.server.stop().success());
}

async fn failures_leave_nothing(engine: Engine) {
    let app = app(engine).await;
    app.ok("POST", "/items/tags", Some(json!({ "name": "taken" }))).await;
    let counts = || async {
        let mut n = Vec::new();
        for table in ["authors", "articles", "comments", "tags", "articles_tags", "headings", "articles_blocks", "directus_activity", "directus_revisions"] {
            n.push(app.db.count(table, "1 = 1").await);
        }
        n
    };
    let before = counts().await;
    // A key that names no comment: 403 after the author was created.
    let (status, _) = app.send("POST", "/items/articles", Some(json!({ "title": "A", "author": { "name": "Zed" }, "comments": [{ "body": "ok" }, 999] }))).await;
    assert_eq!(status, 403, "{engine:?}");
    // A nested hook refusing its item, after a junction row and a heading were written.
    let (status, body) = app
        .send(
            "POST",
            "/items/articles",
            Some(json!({ "title": "B", "blocks": [{ "collection": "headings", "item": { "title": "H" } }], "tags": [{ "tags_id": { "name": "t" } }], "comments": [{ "body": "x", "article": 1 }] })),
        )
        .await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let (status, body) = app.send("PATCH", &format!("/items/articles/{}", body["data"]["id"]), Some(json!({ "author": { "name": "Yan" }, "tags": [{ "tags_id": { "title": "reject", "name": "n" } }] }))).await;
    assert_eq!(status, 400, "{engine:?} {body}");
    let mid = counts().await;
    // A database error deep down: a unique tag name, after the parent and a first tag.
    let (status, body) = app.send("POST", "/items/articles", Some(json!({ "title": "C", "tags": [{ "tags_id": { "name": "fresh" } }, { "tags_id": { "name": "taken" } }] }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("RECORD_NOT_UNIQUE")), "{engine:?} {body}");
    assert_eq!(counts().await, mid, "{engine:?}: nothing of the failed request stayed");
    assert_eq!((mid[0], mid[1]), (before[0], before[1] + 1), "{engine:?}: no author Zed or Yan, only article B");
    assert!(app.server.stop().success());
}

async fn many_to_any_and_deep_reads(engine: Engine) {
    let app = app(engine).await;
    app.ok(
        "POST",
        "/items/articles",
        Some(json!({
            "title": "A1",
            "comments": [{ "body": "alpha" }, { "body": "beta" }, { "body": "gamma" }, { "body": "delta" }],
            "blocks": [{ "collection": "headings", "item": { "title": "H1" } }, { "collection": "texts", "item": { "body": "T1" } }, { "collection": "headings", "item": { "title": "H2" } }]
        })),
    )
    .await;
    app.ok("POST", "/items/articles", Some(json!({ "title": "A2", "comments": [{ "body": "epsilon" }], "blocks": [{ "collection": "texts", "item": { "body": "T2" } }] }))).await;
    let get = |path: &'static str| app.ok("GET", path, None);

    // Many-to-any: per-collection fields, all fields of unscoped collections, `*.*`.
    assert_eq!(
        get("/items/articles/1?fields=blocks.collection,blocks.item:headings.title").await,
        json!({ "blocks": [
            { "collection": "headings", "item": { "title": "H1" } },
            { "collection": "texts", "item": { "id": 1, "body": "T1" } },
            { "collection": "headings", "item": { "title": "H2" } }
        ] }),
        "{engine:?}"
    );
    assert_eq!(get("/items/articles_blocks/2?fields=item.*").await, json!({ "item": { "id": 1, "body": "T1" } }), "{engine:?}");
    assert_eq!(get("/items/articles_blocks/2?fields=*.*").await["item"], json!({ "id": 1, "body": "T1" }), "{engine:?}");
    assert_eq!(get("/items/articles_blocks/2").await["item"], json!("1"), "{engine:?}: `*` answers the stored key");
    assert_eq!(
        get("/items/articles/1?fields=blocks.item:headings.title&deep[blocks][item:headings][_filter][title][_eq]=H2").await,
        json!({ "blocks": [{ "item": null }, { "item": { "id": 1, "body": "T1" } }, { "item": { "title": "H2" } }] }),
        "{engine:?}: deep per collection scope"
    );
    // Filters through a collection scope; sorts on the junction's own columns.
    assert_eq!(get("/items/articles?fields=title&filter[blocks][item:headings][title][_eq]=H2").await, json!([{ "title": "A1" }]), "{engine:?}");
    assert_eq!(get("/items/articles?fields=title&filter[blocks][item:texts][body][_starts_with]=T").await, json!([{ "title": "A1" }, { "title": "A2" }]), "{engine:?}");
    assert_eq!(get("/items/articles_blocks?fields=id&filter[item:texts][body][_eq]=T2").await, json!([{ "id": 4 }]), "{engine:?}");
    assert_eq!(get("/items/articles_blocks?fields=id&sort=collection,-id").await, json!([{ "id": 3 }, { "id": 1 }, { "id": 4 }, { "id": 2 }]), "{engine:?}");
    let (status, body) = app.send("GET", "/items/articles_blocks?filter[item][title][_eq]=H1", None).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (400, json!("You have to provide a collection scope when filtering on a many-to-any item")));

    // deep on a one-to-many: limit, offset and page per parent, search, fields, filter, sort.
    let app = &app;
    let comments = |deep: &str| {
        let path = format!("/items/articles?fields=title,comments.body&sort=id&{deep}");
        async move { app.ok("GET", &path, None).await }
    };
    assert_eq!(
        comments("deep[comments][_limit]=2&deep[comments][_offset]=1").await,
        json!([{ "title": "A1", "comments": [{ "body": "beta" }, { "body": "gamma" }] }, { "title": "A2", "comments": [] }]),
        "{engine:?}: _offset per parent"
    );
    assert_eq!(
        comments("deep[comments][_limit]=3&deep[comments][_page]=2").await,
        json!([{ "title": "A1", "comments": [{ "body": "delta" }] }, { "title": "A2", "comments": [] }]),
        "{engine:?}: _page"
    );
    assert_eq!(
        comments("deep[comments][_search]=ta").await,
        json!([{ "title": "A1", "comments": [{ "body": "beta" }, { "body": "delta" }] }, { "title": "A2", "comments": [] }]),
        "{engine:?}: _search"
    );
    assert_eq!(
        comments("deep[comments][_filter][body][_in]=gamma,epsilon&deep[comments][_sort]=-id").await,
        json!([{ "title": "A1", "comments": [{ "body": "gamma" }] }, { "title": "A2", "comments": [{ "body": "epsilon" }] }]),
        "{engine:?}: _filter"
    );
    assert_eq!(
        comments("deep[comments][_sort]=-body&deep[comments][_limit]=1&deep[comments][_meta]=total_count").await,
        json!([{ "title": "A1", "comments": [{ "body": "gamma" }] }, { "title": "A2", "comments": [{ "body": "epsilon" }] }]),
        "{engine:?}: _meta is accepted"
    );
    assert_eq!(
        get("/items/articles/2?fields=comments&deep[comments][_fields]=id,body").await,
        json!({ "comments": [{ "id": 5, "body": "epsilon" }] }),
        "{engine:?}: _fields turns keys into items"
    );
}

/// System collections take nested writes through their built-in relations, as on rc.83
/// (`directus_users.role` ↔ `directus_roles.users`).
async fn system_collections(engine: Engine) {
    let app = app(engine).await;
    let role = app
        .ok("POST", "/roles?fields=id,name,users.email,users.status&deep[users][_sort]=email", Some(json!({ "name": "Writers", "users": [{ "email": "w1@example.com", "password": "x" }, { "email": "w2@example.com" }] })))
        .await;
    assert_eq!(role["users"], json!([{ "email": "w1@example.com", "status": "active" }, { "email": "w2@example.com", "status": "active" }]), "{engine:?}");
    let id = role["id"].as_str().unwrap().to_string();
    let users = app.ok("GET", "/users?filter[email][_starts_with]=w&fields=id,email&sort=email", None).await;
    let first = users[0]["id"].clone();
    let kept = app.ok("PATCH", &format!("/roles/{id}?fields=users.email"), Some(json!({ "users": [first] }))).await;
    assert_eq!(kept, json!({ "users": [{ "email": "w1@example.com" }] }), "{engine:?}");
    let users = app.ok("GET", "/users?filter[email][_starts_with]=w&fields=email,role,status&sort=email", None).await;
    assert_eq!(users, json!([{ "email": "w1@example.com", "role": id, "status": "active" }, { "email": "w2@example.com", "role": null, "status": "active" }]), "{engine:?}");
    let moved = app.ok("PATCH", &format!("/users/{}?fields=role.name", first.as_str().unwrap()), Some(json!({ "role": { "name": "Editors" } }))).await;
    assert_eq!(moved, json!({ "role": { "name": "Editors" } }), "{engine:?}");
    assert_eq!(app.ok("GET", &format!("/roles/{id}?fields=users"), None).await, json!({ "users": [] }), "{engine:?}");
}

#[tokio::test]
async fn system_collections_on_sqlite() {
    system_collections(Engine::Sqlite).await;
}

#[tokio::test]
async fn system_collections_on_postgres() {
    system_collections(Engine::Postgres).await;
}

#[tokio::test]
async fn system_collections_on_mysql() {
    system_collections(Engine::MySql).await;
}

#[tokio::test]
async fn nested_writes_on_sqlite() {
    nested_writes(Engine::Sqlite).await;
}

#[tokio::test]
async fn nested_writes_on_postgres() {
    nested_writes(Engine::Postgres).await;
}

#[tokio::test]
async fn nested_writes_on_mysql() {
    nested_writes(Engine::MySql).await;
}

#[tokio::test]
async fn failures_leave_nothing_on_sqlite() {
    failures_leave_nothing(Engine::Sqlite).await;
}

#[tokio::test]
async fn failures_leave_nothing_on_postgres() {
    failures_leave_nothing(Engine::Postgres).await;
}

#[tokio::test]
async fn failures_leave_nothing_on_mysql() {
    failures_leave_nothing(Engine::MySql).await;
}

#[tokio::test]
async fn many_to_any_and_deep_reads_on_sqlite() {
    many_to_any_and_deep_reads(Engine::Sqlite).await;
}

#[tokio::test]
async fn many_to_any_and_deep_reads_on_postgres() {
    many_to_any_and_deep_reads(Engine::Postgres).await;
}

#[tokio::test]
async fn many_to_any_and_deep_reads_on_mysql() {
    many_to_any_and_deep_reads(Engine::MySql).await;
}
