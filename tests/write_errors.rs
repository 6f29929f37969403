//! A write the database refuses answers Directus's exception naming the collection and field
//! (spec §3.2), on every engine, over HTTP: unique, not-null, foreign key, too long and out of
//! range values, on a top-level and on a nested item.

mod common;

use common::*;
use serde_json::{json, Value};

async fn app(engine: Engine) -> (TestDb, Server, String) {
    let db = TestDb::new(engine).await;
    let pk = db.serial_pk();
    let server = Server::start(&db, None, &[]).await;
    server.stop();
    // Key and constraint names as knex makes them, which is how MySQL's messages name the field.
    let author_ref = match engine {
        Engine::MySql => "int unsigned",
        _ => "integer",
    };
    db.execute(&format!(
        "CREATE TABLE authors (id {pk}, name varchar(50) NOT NULL);
         CREATE TABLE articles (id {pk}, title varchar(10) NOT NULL, slug varchar(50), score smallint, author {author_ref},
           CONSTRAINT articles_slug_unique UNIQUE (slug),
           CONSTRAINT articles_author_foreign FOREIGN KEY (author) REFERENCES authors (id));
         INSERT INTO authors (name) VALUES ('Ann');
         INSERT INTO articles (title, slug) VALUES ('First', 'first');"
    ))
    .await;
    db.execute("INSERT INTO directus_relations (many_collection, many_field, one_collection) VALUES ('articles', 'author', 'authors');").await;
    let server = Server::start(&db, None, &[]).await;
    let token = server.admin_token().await;
    (db, server, token)
}

/// `(status, message, extensions)` of the first error.
fn error(status: u16, body: &Value) -> (u16, String, Value) {
    let e = &body["errors"][0];
    (status, e["message"].as_str().unwrap_or_default().to_string(), e["extensions"].clone())
}

async fn database_errors_name_collection_and_field(engine: Engine) {
    let (_db, server, token) = app(engine).await;
    let post = |body: Value| {
        let (server, token) = (&server, &token);
        async move {
            let (status, body) = server.send(token, "POST", "/items/articles", Some(body)).await;
            error(status, &body)
        }
    };

    let unique_invalid = match engine {
        Engine::Sqlite => json!({ "code": "RECORD_NOT_UNIQUE", "collection": "articles", "field": "slug" }),
        _ => json!({ "code": "RECORD_NOT_UNIQUE", "collection": "articles", "field": "slug", "invalid": "first" }),
    };
    assert_eq!(post(json!({ "title": "Dup", "slug": "first" })).await, (400, "Field \"slug\" has to be unique.".into(), unique_invalid), "{engine:?}");

    assert_eq!(
        post(json!({ "title": null })).await,
        (400, "Value for field \"title\" can't be null.".into(), json!({ "code": "NOT_NULL_VIOLATION", "collection": "articles", "field": "title" })),
        "{engine:?}"
    );

    let foreign_key = match engine {
        // SQLite doesn't say which key failed.
        Engine::Sqlite => ("Invalid foreign key.", json!({ "code": "INVALID_FOREIGN_KEY", "collection": "articles", "field": null })),
        Engine::Postgres => ("Invalid foreign key in field \"author\".", json!({ "code": "INVALID_FOREIGN_KEY", "collection": "articles", "field": "author", "invalid": "99" })),
        Engine::MySql => ("Invalid foreign key in field \"author\".", json!({ "code": "INVALID_FOREIGN_KEY", "collection": "articles", "field": "author" })),
    };
    assert_eq!(post(json!({ "title": "Orphan", "author": 99 })).await, (400, foreign_key.0.into(), foreign_key.1), "{engine:?}");

    // SQLite keeps any length and any integer; PostgreSQL's messages name no column.
    if engine != Engine::Sqlite {
        let field = (engine == Engine::MySql).then_some("title");
        let message = field.map_or("Value is too long.".to_string(), |f| format!("Value for field \"{f}\" is too long."));
        assert_eq!(
            post(json!({ "title": "far too long a title" })).await,
            (400, message, json!({ "code": "VALUE_TOO_LONG", "collection": "articles", "field": field })),
            "{engine:?}"
        );
        let field = (engine == Engine::MySql).then_some("score");
        let message = field.map_or("Numeric value is out of range.".to_string(), |f| format!("Numeric value in field \"{f}\" is out of range."));
        assert_eq!(
            post(json!({ "title": "Big", "score": 100000 })).await,
            (400, message, json!({ "code": "VALUE_OUT_OF_RANGE", "collection": "articles", "field": field })),
            "{engine:?}"
        );
    }

    // An update names them the same way, and a nested item names its own collection.
    let (status, body) = server.send(&token, "PATCH", "/items/articles/1", Some(json!({ "title": null }))).await;
    assert_eq!(error(status, &body).2["field"], "title", "{engine:?} {body}");
    let (status, body) = server.send(&token, "POST", "/items/articles", Some(json!({ "title": "Nested", "author": { "name": null } }))).await;
    assert_eq!(
        error(status, &body),
        (400, "Value for field \"name\" can't be null.".into(), json!({ "code": "NOT_NULL_VIOLATION", "collection": "authors", "field": "name" })),
        "{engine:?}"
    );
    for collection in ["articles", "authors"] {
        let (_, body) = server.send(&token, "GET", &format!("/items/{collection}?fields=id"), None).await;
        assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{engine:?}: nothing refused was written to {collection}");
    }
    assert!(server.stop().success());
}

on_every_engine!(database_errors_name_collection_and_field);
