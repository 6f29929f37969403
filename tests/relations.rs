//! Relational reads over `directus_relations`: many-to-one and one-to-many expansion with
//! `fields`, `*.*`, `deep`, and relational filters, on every engine.

mod common;

use common::*;
use serde_json::{json, Value};

async fn relational_reads(engine: Engine) {
    let db = TestDb::new(engine).await;
    Server::start(&db, None, &[]).await.stop();
    let pk = db.serial_pk();
    let fk = if engine == Engine::MySql { "int unsigned" } else { "integer" };
    db.execute(&format!("CREATE TABLE authors (id {pk}, name varchar(50));")).await;
    db.execute(&format!("CREATE TABLE articles (id {pk}, title varchar(50), author {fk} REFERENCES authors (id));")).await;
    db.execute(&format!("CREATE TABLE comments (id {pk}, article {fk} REFERENCES articles (id), body varchar(50));")).await;
    db.execute("INSERT INTO authors (name) VALUES ('Ann'), ('Bob');").await;
    db.execute("INSERT INTO articles (title, author) VALUES ('A1', 1), ('A2', 2), ('A3', NULL);").await;
    db.execute("INSERT INTO comments (article, body) VALUES (1, 'c1'), (1, 'c2'), (2, 'c3');").await;
    db.execute(
        "INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field, one_deselect_action) VALUES \
         ('articles', 'author', 'authors', NULL, 'nullify'), ('comments', 'article', 'articles', 'comments', 'nullify');",
    )
    .await;
    db.execute("INSERT INTO directus_fields (collection, field, special, readonly, hidden) VALUES ('articles', 'comments', 'o2m', false, false);").await;
    let server = Server::start(&db, None, &[]).await;
    let token = server.admin_token().await;
    let get = |q: &str| {
        let req = server.client.get(server.url(&format!("/items/articles?{q}"))).bearer_auth(&token);
        async move {
            let (status, body) = json(req.send().await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            body["data"].clone()
        }
    };

    assert_eq!(
        get("fields=title,author.name").await,
        json!([{ "title": "A1", "author": { "name": "Ann" } }, { "title": "A2", "author": { "name": "Bob" } }, { "title": "A3", "author": null }]),
        "{engine:?} m2o"
    );
    assert_eq!(get("fields=author.*&limit=1").await, json!([{ "author": { "id": 1, "name": "Ann" } }]), "{engine:?}");
    assert_eq!(
        get("fields=title,comments.body&limit=2").await,
        json!([{ "title": "A1", "comments": [{ "body": "c1" }, { "body": "c2" }] }, { "title": "A2", "comments": [{ "body": "c3" }] }]),
        "{engine:?} o2m"
    );
    assert_eq!(get("limit=1").await, json!([{ "id": 1, "title": "A1", "author": 1, "comments": [1, 2] }]), "{engine:?} * lists o2m keys");
    let all: Value = get("fields=*.*&limit=1").await;
    assert_eq!(all[0]["author"], json!({ "id": 1, "name": "Ann" }), "{engine:?}");
    assert_eq!(all[0]["comments"], json!([{ "id": 1, "article": 1, "body": "c1" }, { "id": 2, "article": 1, "body": "c2" }]));
    assert_eq!(
        get("fields=id,comments.body&deep[comments][_sort]=-id&deep[comments][_limit]=1&limit=1").await,
        json!([{ "id": 1, "comments": [{ "body": "c2" }] }]),
        "{engine:?} deep"
    );
    assert_eq!(
        get("fields=comments.article.author.name&filter[id][_eq]=2").await,
        json!([{ "comments": [{ "article": { "author": { "name": "Bob" } } }] }]),
        "{engine:?} nested three levels"
    );
    assert_eq!(get("fields=title&filter[author][name][_eq]=Ann").await, json!([{ "title": "A1" }]), "{engine:?} m2o filter");
    assert_eq!(get("fields=title&filter[comments][body][_eq]=c3").await, json!([{ "title": "A2" }]), "{engine:?} o2m filter");
    assert!(server.stop().success());
}

on_every_engine!(relational_reads);
