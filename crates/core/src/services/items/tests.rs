//! `ItemsService` on a real SQLite database, room by room: the order of events, permissions,
//! relational expansion, writes and their activity rows, and how write failures read.

use serde_json::{json, Value};

use super::ItemsService;
use crate::auth::Accountability;
use crate::query::{Query, Sort};
use crate::services::testing::{self, TestServices};
use crate::services::MutationOptions;
use crate::{ApiError, ErrorCode};

/// authors ← articles (m2o `author`, o2m `articles`), with a unique slug and a required title.
async fn setup() -> TestServices {
    let t = testing::sqlite().await;
    t.exec("CREATE TABLE authors (id integer PRIMARY KEY AUTOINCREMENT, name varchar(50))").await;
    t.exec(
        "CREATE TABLE articles (id integer PRIMARY KEY AUTOINCREMENT, title varchar(100) NOT NULL, slug varchar(100) UNIQUE, \
         status varchar(20) DEFAULT 'draft', views bigint, author integer REFERENCES authors(id))",
    )
    .await;
    t.exec("INSERT INTO directus_fields (collection, field, special) VALUES ('authors', 'articles', 'o2m')").await;
    t.exec("INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field) VALUES ('articles', 'author', 'authors', 'articles')").await;
    t.exec("INSERT INTO authors (name) VALUES ('Ann'), ('Bob'), ('Cid')").await;
    t.exec(
        "INSERT INTO articles (title, slug, status, views, author) VALUES \
         ('One', 'one', 'published', 10, 1), ('Two', 'two', 'draft', 20, 1), ('Three', 'three', 'published', 30, 2), ('Four', 'four', 'draft', 40, NULL)",
    )
    .await;
    t
}

async fn service(t: &TestServices, collection: &str, accountability: Option<Accountability>) -> ItemsService {
    let schema = t.services.schema.get().await.unwrap();
    ItemsService::new(collection, t.services.clone(), schema, accountability)
}

fn admin() -> Accountability {
    Accountability { user: None, role: None, admin: true, app: true, ip: None, user_agent: None }
}

fn fields(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn count(t: &TestServices, sql: &str) -> i64 {
    t.services.db.query(sql, &[]).await.unwrap().rows[0]["n"].as_i64().unwrap()
}

#[tokio::test]
async fn a_create_emits_before_in_its_transaction_then_after_with_the_key() {
    let t = setup().await;
    let articles = service(&t, "articles", Some(admin())).await;
    t.events.reply("items.create.before", Ok(json!({ "title": "Replaced", "slug": "replaced" })));
    let key = articles.create_one(json!({ "title": "Given" }), MutationOptions::default()).await.unwrap();
    assert_eq!(key, json!(5));
    let emitted = t.events.take();
    let names: Vec<&str> = emitted.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["items.create.before", "items.create"]);
    assert_eq!(emitted[0].input, Some(json!({ "title": "Given" })));
    assert!(emitted[0].in_transaction, "create.before gets the create's transaction as `database`");
    assert!(!emitted[1].in_transaction, "the after-event gets the pool");
    assert_eq!(emitted[1].context.as_ref().unwrap()["payload"], json!({ "title": "Given", "id": 5 }), "the after-event's payload is the input, with the key");
    let stored = articles.read_one(&key, &Query { fields: fields(&["title", "slug"]), ..Default::default() }).await.unwrap();
    assert_eq!(stored, json!({ "title": "Replaced", "slug": "replaced" }), "the before-hook's payload is what was written");
    // The create went out as one batch with its activity and revision; both point at the item.
    assert_eq!(count(&t, "SELECT count(*) AS n FROM directus_activity WHERE action = 'create' AND item = '5'").await, 1);
    let revision = t.services.db.query("SELECT data FROM directus_revisions WHERE item = '5'", &[]).await.unwrap().rows;
    assert_eq!(serde_json::from_str::<Value>(revision[0]["data"].as_str().unwrap()).unwrap()["id"], json!(5));
}

#[tokio::test]
async fn a_before_hook_that_throws_cancels_the_write() {
    let t = setup().await;
    let articles = service(&t, "articles", Some(admin())).await;
    t.events.reply("items.delete.before", Err(ApiError::invalid_payload("no")));
    let error = articles.delete_one(json!(1), MutationOptions::default()).await.unwrap_err();
    assert_eq!(error.message, "no");
    assert_eq!(t.events.names(), ["items.delete.before"]);
    assert_eq!(count(&t, "SELECT count(*) AS n FROM articles").await, 4);
    assert_eq!(count(&t, "SELECT count(*) AS n FROM directus_activity").await, 0);
}

#[tokio::test]
async fn an_update_reads_its_snapshot_for_the_revisions_and_emits_in_order() {
    let t = setup().await;
    let articles = service(&t, "articles", Some(admin())).await;
    articles.update_many(vec![json!(1), json!(2)], json!({ "status": "archived" }), MutationOptions::default()).await.unwrap();
    assert_eq!(t.events.names(), ["items.update.before", "items.read", "items.update"]);
    let revisions = t.services.db.query("SELECT item, data, delta FROM directus_revisions ORDER BY item", &[]).await.unwrap().rows;
    assert_eq!(revisions.len(), 2);
    for (revision, key) in revisions.iter().zip(["1", "2"]) {
        assert_eq!(revision["item"], json!(key));
        let data: Value = serde_json::from_str(revision["data"].as_str().unwrap()).unwrap();
        assert_eq!((data["id"].to_string(), data["status"].clone()), (key.to_string(), json!("archived")), "the row as it is after the update");
        assert_eq!(revision["delta"], json!(r#"{"status":"archived"}"#));
    }
}

#[tokio::test]
async fn events_can_be_left_out() {
    let t = setup().await;
    let articles = service(&t, "articles", None).await;
    let quiet = MutationOptions { emit_events: false };
    let key = articles.create_one(json!({ "title": "Quiet" }), quiet).await.unwrap();
    articles.update_one(key.clone(), json!({ "title": "Still quiet" }), quiet).await.unwrap();
    articles.delete_one(key, quiet).await.unwrap();
    assert!(t.events.names().is_empty());
    assert_eq!(count(&t, "SELECT count(*) AS n FROM directus_activity").await, 0, "no accountability, no activity");
}

/// A role that may read published articles' titles and statuses, create with a preset status,
/// and update only published articles.
async fn editor(t: &TestServices) -> Accountability {
    t.exec("INSERT INTO directus_roles (id, name, admin_access, app_access) VALUES ('editor', 'Editor', false, true)").await;
    t.exec(
        r#"INSERT INTO directus_permissions (role, collection, action, permissions, fields, presets) VALUES
           ('editor', 'articles', 'read', '{"status":{"_eq":"published"}}', 'id,title,status,author', NULL),
           ('editor', 'articles', 'create', '{}', 'title,slug,status', '{"status":"review"}'),
           ('editor', 'articles', 'update', '{"status":{"_eq":"published"}}', 'title', NULL),
           ('editor', 'authors', 'read', '{}', 'id,name,articles', NULL)"#,
    )
    .await;
    Accountability { user: None, role: Some("editor".into()), admin: false, app: true, ip: None, user_agent: None }
}

#[tokio::test]
async fn permissions_limit_rows_fields_and_payloads() {
    let t = setup().await;
    let articles = service(&t, "articles", Some(editor(&t).await)).await;
    let read = articles.read_by_query(&Query::default()).await.unwrap();
    assert_eq!(read, vec![json!({ "id": 1, "title": "One", "status": "published", "author": 1 }), json!({ "id": 3, "title": "Three", "status": "published", "author": 2 })]);
    let by_hidden = Query { filter: Some(json!({ "views": { "_gt": 1 } })), ..Default::default() };
    assert_eq!(articles.read_by_query(&by_hidden).await.unwrap_err(), ApiError::forbidden(), "filtering on a hidden field would reveal it");
    assert_eq!(articles.read_one(&json!(2), &Query::default()).await.unwrap_err(), ApiError::forbidden(), "a row outside the filter");

    let key = articles.create_one(json!({ "title": "Mine", "slug": "mine" }), MutationOptions::default()).await.unwrap();
    let status = t.services.db.query(&format!("SELECT status FROM articles WHERE id = {key}"), &[]).await.unwrap().rows;
    assert_eq!(status[0]["status"], json!("review"), "the preset under the payload");
    assert_eq!(articles.create_one(json!({ "title": "x", "views": 1 }), MutationOptions::default()).await.unwrap_err(), ApiError::forbidden());

    articles.update_one(json!(1), json!({ "title": "One!" }), MutationOptions::default()).await.unwrap();
    assert_eq!(articles.update_one(json!(2), json!({ "title": "Two!" }), MutationOptions::default()).await.unwrap_err(), ApiError::forbidden());
    assert_eq!(articles.update_one(json!(1), json!({ "status": "draft" }), MutationOptions::default()).await.unwrap_err(), ApiError::forbidden());

    let meta = articles.meta(&Query { meta: vec![crate::query::MetaKind::TotalCount], ..Default::default() }).await.unwrap();
    assert_eq!(meta, Some(json!({ "total_count": 2 })), "counts only the rows the role may read");
}

#[tokio::test]
async fn relational_fields_expand_from_one_read_per_relation() {
    let t = setup().await;
    let articles = service(&t, "articles", None).await;
    let query = Query { fields: fields(&["title", "author.name"]), sort: vec![Sort { column: "id".into(), descending: false }], ..Default::default() };
    let read = articles.read_by_query(&query).await.unwrap();
    assert_eq!(
        read,
        vec![
            json!({ "title": "One", "author": { "name": "Ann" } }),
            json!({ "title": "Two", "author": { "name": "Ann" } }),
            json!({ "title": "Three", "author": { "name": "Bob" } }),
            json!({ "title": "Four", "author": null }),
        ]
    );

    let authors = service(&t, "authors", None).await;
    let deep = json!({ "articles": { "_sort": [{ "column": "views", "order": "desc" }], "_limit": 1 } });
    let query = Query { fields: fields(&["name", "articles.title"]), deep: deep.as_object().cloned(), ..Default::default() };
    let read = authors.read_by_query(&query).await.unwrap();
    assert_eq!(read, vec![json!({ "name": "Ann", "articles": [{ "title": "Two" }] }), json!({ "name": "Bob", "articles": [{ "title": "Three" }] }), json!({ "name": "Cid", "articles": [] })]);

    let keys_only = authors.read_by_query(&Query { fields: fields(&["*"]), ..Default::default() }).await.unwrap();
    assert_eq!(keys_only[0], json!({ "id": 1, "name": "Ann", "articles": [1, 2] }), "a one-to-many under `*` lists the related keys");

    // The related key expanded in turn: children are matched to their parent by their own key.
    let nested = Query { fields: fields(&["name", "articles.author.name", "articles.title"]), ..Default::default() };
    let read = authors.read_by_query(&nested).await.unwrap();
    assert_eq!(read[1], json!({ "name": "Bob", "articles": [{ "title": "Three", "author": { "name": "Bob" } }] }));
}

#[tokio::test]
async fn related_items_are_read_with_their_own_permissions() {
    let t = setup().await;
    let editor = editor(&t).await;
    let authors = service(&t, "authors", Some(editor)).await;
    let read = authors.read_by_query(&Query { fields: fields(&["name", "articles.title"]), ..Default::default() }).await.unwrap();
    assert_eq!(read[0], json!({ "name": "Ann", "articles": [{ "title": "One" }] }), "Ann's draft is not the editor's to read");
}

#[tokio::test]
async fn write_failures_read_as_directus_exceptions() {
    let t = setup().await;
    let articles = service(&t, "articles", Some(admin())).await;
    let opts = MutationOptions::default();
    let code = |e: ApiError| (e.status, e.code, e.message, Value::Object(e.extensions));
    assert_eq!(
        code(articles.create_one(json!({ "title": "x", "slug": "one" }), opts).await.unwrap_err()),
        (400, ErrorCode::RecordNotUnique, "Field \"slug\" has to be unique.".into(), json!({ "collection": "articles", "field": "slug" }))
    );
    assert_eq!(
        code(articles.create_one(json!({ "slug": "no-title" }), opts).await.unwrap_err()),
        (400, ErrorCode::NotNullViolation, "Value for field \"title\" can't be null.".into(), json!({ "collection": "articles", "field": "title" }))
    );
    // SQLite doesn't say which foreign key failed.
    assert_eq!(
        code(articles.create_one(json!({ "title": "x", "author": 99 }), opts).await.unwrap_err()),
        (400, ErrorCode::InvalidForeignKey, "Invalid foreign key.".into(), json!({ "collection": "articles", "field": null }))
    );
    assert_eq!(code(articles.update_one(json!(2), json!({ "slug": "one" }), opts).await.unwrap_err()).1, ErrorCode::RecordNotUnique);
    // Nothing of the failed creates stayed behind, not even their queued activity rows.
    assert_eq!(count(&t, "SELECT count(*) AS n FROM articles").await, 4);
    assert_eq!(count(&t, "SELECT count(*) AS n FROM directus_activity").await, 0);
}

#[tokio::test]
async fn sqlite_failures_are_classified_with_their_column() {
    use crate::db::DbErrorKind;
    let t = setup().await;
    let failure = |sql: &'static str| {
        let db = t.services.db.clone();
        async move { db.query(sql, &[]).await.unwrap_err().classify() }
    };
    let unique = failure("INSERT INTO articles (title, slug) VALUES ('x', 'one')").await;
    assert_eq!((unique.kind, unique.table.as_deref(), unique.column.as_deref()), (DbErrorKind::Unique, Some("articles"), Some("slug")));
    let not_null = failure("INSERT INTO articles (slug) VALUES ('x')").await;
    assert_eq!((not_null.kind, not_null.column.as_deref()), (DbErrorKind::NotNull, Some("title")));
    assert_eq!(failure("INSERT INTO articles (title, author) VALUES ('x', 99)").await.kind, DbErrorKind::ForeignKey);
    assert_eq!(failure("SELECT nope FROM articles").await.kind, DbErrorKind::Other);
}

/// Integers above `i64::MAX` take one path into SQL, for writes and filters alike (see
/// `db::bind`): on SQLite they become REALs, and a filter with the same number finds the row.
#[tokio::test]
async fn integers_beyond_i64_are_written_and_found_alike() {
    let t = setup().await;
    let articles = service(&t, "articles", None).await;
    let big: Value = serde_json::from_str("18446744073709551615").unwrap();
    let key = articles.create_one(json!({ "title": "Big", "views": big }), MutationOptions::default()).await.unwrap();
    let found = articles.read_by_query(&Query { fields: fields(&["id", "views"]), filter: Some(json!({ "views": { "_eq": big } })), ..Default::default() }).await.unwrap();
    assert_eq!(found, vec![json!({ "id": key, "views": 18446744073709551615.0 })]);
}

#[tokio::test]
async fn deleting_a_role_deletes_its_permissions_and_suspends_its_users_through_their_services() {
    let t = setup().await;
    editor(&t).await;
    t.exec("INSERT INTO directus_users (id, email, role, status) VALUES ('u1', 'e@example.com', 'editor', 'active')").await;
    let roles = service(&t, "directus_roles", Some(admin())).await;
    roles.delete_one(json!("editor"), MutationOptions::default()).await.unwrap();
    let names = t.events.names();
    for event in ["permissions.delete.before", "permissions.delete", "users.update.before", "users.update", "roles.delete.before", "roles.delete"] {
        assert!(names.iter().any(|n| n == event), "{event} in {names:?}");
    }
    assert_eq!(count(&t, "SELECT count(*) AS n FROM directus_permissions").await, 0);
    let user = t.services.db.query("SELECT role, status FROM directus_users WHERE id = 'u1'", &[]).await.unwrap().rows;
    assert_eq!((user[0]["role"].clone(), user[0]["status"].clone()), (Value::Null, json!("suspended")));

    let admin_role = t.admin_role().await;
    let last = roles.delete_one(json!(admin_role), MutationOptions::default()).await.unwrap_err();
    assert_eq!((last.status, last.message.as_str()), (422, "You can't delete the last admin role."));
}

#[tokio::test]
async fn a_sibling_in_a_write_s_transaction_commits_or_rolls_back_with_it() {
    let t = setup().await;
    let articles = service(&t, "articles", None).await;
    let tx = t.services.db.begin_shared().await.unwrap();
    let authors = articles.sibling_in("authors", Some(tx.clone()));
    let key = authors.create_one(json!({ "name": "Dee" }), MutationOptions::default()).await.unwrap();
    let inside = authors.read_one(&key, &Query::default()).await.unwrap();
    assert_eq!(inside["name"], json!("Dee"), "the sibling reads its own write");
    tx.rollback().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) AS n FROM authors").await, 3, "the sibling never committed the transaction it was given");
}

/// A many-to-one given an object creates (or updates) the related item before the row; a
/// one-to-many given an array creates, links and unlinks after it; everything in one transaction.
#[tokio::test]
async fn nested_writes_save_related_items_through_their_services() {
    let t = setup().await;
    let articles = service(&t, "articles", Some(admin())).await;
    let key = articles.create_one(json!({ "title": "Nested", "author": { "name": "Dee" } }), MutationOptions::default()).await.unwrap();
    assert_eq!(t.events.names(), ["items.create.before", "items.create.before", "items.create", "items.create"]);
    let author = articles.read_one(&key, &Query { fields: fields(&["author.name"]), ..Default::default() }).await.unwrap();
    assert_eq!(author, json!({ "author": { "name": "Dee" } }));
    t.events.take();

    // An object with an existing key updates that item; a key alone only links it.
    articles.update_one(key.clone(), json!({ "author": { "id": 4, "name": "Dee B" } }), MutationOptions::default()).await.unwrap();
    assert_eq!(t.events.names(), ["items.update.before", "items.update.before", "items.read", "items.update", "items.read", "items.update"]);
    articles.update_one(key.clone(), json!({ "author": { "id": 1 } }), MutationOptions::default()).await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) AS n FROM authors WHERE name = 'Dee B'").await, 1);
    assert_eq!(count(&t, &format!("SELECT count(*) AS n FROM articles WHERE id = {key} AND author = 1")).await, 1);

    // Ann's articles become 3 (kept, updated) and a new one; 1 and 2 are unlinked.
    let authors = service(&t, "authors", Some(admin())).await;
    t.events.take();
    authors.update_one(json!(1), json!({ "articles": [3, { "id": key, "title": "Renamed" }, { "title": "New" }] }), MutationOptions::default()).await.unwrap();
    let emitted = t.events.take();
    let names: Vec<&str> = emitted.iter().map(|e| e.event.as_str()).filter(|e| *e != "items.read").collect();
    assert_eq!(
        names,
        ["items.update.before", "items.update.before", "items.update", "items.update.before", "items.update", "items.create.before", "items.create", "items.update.before", "items.update", "items.update"]
    );
    assert_eq!(emitted.iter().find(|e| e.input == Some(json!({ "author": null }))).unwrap().context.as_ref().unwrap()["item"], json!([1, 2]));
    let read = authors.read_one(&json!(1), &Query { fields: fields(&["articles.title"]), ..Default::default() }).await.unwrap();
    assert_eq!(read, json!({ "articles": [{ "title": "Three" }, { "title": "Renamed" }, { "title": "New" }] }));
    assert_eq!(count(&t, "SELECT count(*) AS n FROM articles WHERE author IS NULL").await, 3, "One and Two unlinked, Four never linked");

    // The object form changes only the items it names.
    authors.update_one(json!(1), json!({ "articles": { "create": [{ "title": "Added" }], "delete": [3] } }), MutationOptions::default()).await.unwrap();
    let read = authors.read_one(&json!(1), &Query { fields: fields(&["articles"]), ..Default::default() }).await.unwrap();
    assert_eq!(read, json!({ "articles": [key, 6, 7] }), "`fields=<o2m>` answers the related keys");
}

#[tokio::test]
async fn a_nested_write_failing_half_way_leaves_nothing() {
    let t = setup().await;
    let authors = service(&t, "authors", Some(admin())).await;
    let before = count(&t, "SELECT count(*) AS n FROM articles").await;
    // The second article violates the unique slug after the first was created.
    let error = authors.create_one(json!({ "name": "Eve", "articles": [{ "title": "A", "slug": "fresh" }, { "title": "B", "slug": "one" }] }), MutationOptions::default()).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::RecordNotUnique);
    assert_eq!(count(&t, "SELECT count(*) AS n FROM authors WHERE name = 'Eve'").await, 0);
    assert_eq!(count(&t, "SELECT count(*) AS n FROM articles").await, before);
    assert_eq!(count(&t, "SELECT count(*) AS n FROM directus_activity").await, 0);
    // A key that names no item is forbidden, and rolls back what came before it.
    let articles = service(&t, "articles", Some(admin())).await;
    let error = authors.update_one(json!(2), json!({ "name": "Bob!", "articles": [1, 99] }), MutationOptions::default()).await.unwrap_err();
    assert_eq!(error, ApiError::forbidden());
    assert_eq!(articles.read_one(&json!(1), &Query { fields: fields(&["author"]), ..Default::default() }).await.unwrap(), json!({ "author": 1 }));
    assert_eq!(count(&t, "SELECT count(*) AS n FROM authors WHERE name = 'Bob!'").await, 0);
}

/// Nested items are written as the caller: the related collection's permissions (and presets)
/// apply to them as to a write of their own.
#[tokio::test]
async fn nested_items_are_written_with_the_related_collection_s_permissions() {
    let t = setup().await;
    t.exec("INSERT INTO directus_roles (id, name, admin_access, app_access) VALUES ('writer', 'Writer', false, true)").await;
    t.exec(
        r#"INSERT INTO directus_permissions (role, collection, action, permissions, fields, presets) VALUES
           ('writer', 'articles', 'create', '{}', '*', NULL),
           ('writer', 'authors', 'read', '{}', '*', NULL)"#,
    )
    .await;
    let writer = Accountability { user: None, role: Some("writer".into()), admin: false, app: true, ip: None, user_agent: None };
    let articles = service(&t, "articles", Some(writer)).await;
    let nested = json!({ "title": "By writer", "author": { "name": "New" } });
    assert_eq!(articles.create_one(nested.clone(), MutationOptions::default()).await.unwrap_err(), ApiError::forbidden(), "no create permission on authors");
    assert_eq!(count(&t, "SELECT count(*) AS n FROM articles").await, 4);
    articles.create_one(json!({ "title": "Linked", "author": { "id": 2 } }), MutationOptions::default()).await.expect("an existing key only links");

    // Granted through the services, which forget the role's cached permission rows.
    let grant = json!({ "role": "writer", "collection": "authors", "action": "create", "permissions": {}, "fields": ["name"], "presets": { "name": "Preset" } });
    service(&t, "directus_permissions", None).await.create_one(grant, MutationOptions::default()).await.unwrap();
    let key = articles.create_one(json!({ "title": "With author", "author": {} }), MutationOptions::default()).await.unwrap();
    let author = t.services.db.query(&format!("SELECT authors.name AS name FROM articles JOIN authors ON authors.id = articles.author WHERE articles.id = {key}"), &[]).await.unwrap().rows;
    assert_eq!(author[0]["name"], json!("Preset"), "the related collection's preset");
}
