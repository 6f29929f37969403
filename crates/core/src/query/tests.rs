//! The schema fixture the query tests share, and end-to-end checks on real databases: query
//! string → sanitised query → compiled condition → the rows each engine returns.

use futures_util::FutureExt;
use sea_query::{Alias, Condition, Order, Query as SqlQuery};
use serde_json::{json, Value};

use super::{compile_filter, compile_search, parse_query_string, sanitize, FilterContext};
use crate::config::{DbClient, DbConfig};
use crate::db::Database;
use crate::schema::{CollectionOverview, FieldOverview, SchemaOverview};

fn collection(name: &str, fields: &[(&str, &str)]) -> (String, CollectionOverview) {
    let fields: crate::schema::Fields = fields.iter().map(|(f, kind)| (f.to_string(), FieldOverview::of_type(f, kind))).collect();
    let overview = CollectionOverview {
        collection: name.to_string(),
        primary: "id".to_string(),
        singleton: false,
        sort_field: None,
        note: None,
        accountability: None,
        fields,
    };
    (name.to_string(), overview)
}

fn relation(many: &str, field: &str, one: Option<&str>, one_field: Option<&str>) -> Value {
    json!({
        "collection": many,
        "field": field,
        "related_collection": one,
        "schema": null,
        "meta": {"many_collection": many, "many_field": field, "one_collection": one, "one_field": one_field},
    })
}

/// articles → authors → countries (m2o), articles ← comments (o2m `comments`), authors ←
/// articles (o2m `articles`), articles.parent → articles (m2o, o2m `children`), and an
/// many-to-any `attachments.item` into articles or authors.
pub fn schema() -> SchemaOverview {
    let collections = [
        collection(
            "articles",
            &[
                ("id", "integer"),
                ("title", "string"),
                ("body", "text"),
                ("status", "string"),
                ("rating", "float"),
                ("price", "decimal"),
                ("views", "integer"),
                ("big", "bigInteger"),
                ("published", "boolean"),
                ("date_created", "timestamp"),
                ("author", "integer"),
                ("token", "uuid"),
                ("parent", "integer"),
                ("meta", "json"),
                ("comments", "alias"),
                ("children", "alias"),
            ],
        ),
        collection("authors", &[("id", "integer"), ("name", "string"), ("country", "integer"), ("articles", "alias")]),
        collection("countries", &[("id", "integer"), ("name", "string")]),
        collection("comments", &[("id", "integer"), ("article", "integer"), ("text", "text"), ("approved", "boolean")]),
        collection("attachments", &[("id", "integer"), ("item", "string"), ("collection", "string")]),
    ];
    SchemaOverview {
        collections: collections.into_iter().collect(),
        relations: vec![
            relation("articles", "author", Some("authors"), Some("articles")),
            relation("authors", "country", Some("countries"), None),
            relation("comments", "article", Some("articles"), Some("comments")),
            relation("articles", "parent", Some("articles"), Some("children")),
            json!({
                "collection": "attachments", "field": "item", "related_collection": null, "schema": null,
                "meta": {"many_collection": "attachments", "many_field": "item", "one_collection_field": "collection", "one_allowed_collections": ["articles", "authors"]},
            }),
        ],
        permissions: vec![],
        relation_index: Default::default(),
    }
}

const TABLES: &str = "
CREATE TABLE countries (id integer PRIMARY KEY, name varchar(50));
CREATE TABLE authors (id integer PRIMARY KEY, name varchar(50), country integer);
CREATE TABLE articles (
    id integer PRIMARY KEY, title varchar(100), body text, status varchar(20), rating {float},
    price decimal(10, 2), views integer, big bigint, published boolean, date_created {timestamp},
    author integer, token {uuid}, parent integer, meta text
);
CREATE TABLE comments (id integer PRIMARY KEY, article integer, text text, approved boolean);
INSERT INTO countries VALUES (1, 'NL'), (2, 'FR');
INSERT INTO authors VALUES (1, 'Ann', 1), (2, 'Bob', 2), (3, 'Cid', NULL);
INSERT INTO articles VALUES
    (1, 'Hello World', 'First post', 'published', 4.5, 10.5, 100, 9000000000, TRUE, '2021-01-01 12:00:00', 1, 'a1b2c3d4-0000-4000-8000-000000000001', NULL, NULL),
    (2, 'Second', '', 'draft', 3, 20, 5, 1, FALSE, '2021-06-01 12:00:00', 2, 'a1b2c3d4-0000-4000-8000-000000000002', 1, NULL),
    (3, 'third thing', NULL, 'published', NULL, NULL, 0, NULL, TRUE, '2022-01-01 12:00:00', NULL, NULL, 1, NULL),
    (4, '100% Rust', 'Rust', 'archived', 5, 42, 42, 42, FALSE, '2020-01-01 12:00:00', 3, NULL, 2, NULL);
INSERT INTO comments VALUES (1, 1, 'nice', TRUE), (2, 1, 'meh', FALSE), (3, 2, 'great', TRUE);
";

/// The query string of a request on `articles` → the ids of the rows it selects.
async fn ids(db: &Database, schema: &SchemaOverview, raw: &str) -> Vec<i64> {
    let ctx = FilterContext { user: Some("2".into()), role: None };
    let query = sanitize(&parse_query_string(raw), &ctx).unwrap_or_else(|e| panic!("{raw}: {e}"));
    let articles = schema.collection("articles").unwrap();
    let mut cond = Condition::all();
    if let Some(filter) = &query.filter {
        cond = cond.add(compile_filter(filter, articles, schema, db.client()).unwrap_or_else(|e| panic!("{raw}: {e}")));
    }
    if let Some(term) = &query.search {
        cond = cond.add(compile_search(term, articles));
    }
    let select = SqlQuery::select()
        .column((Alias::new("articles"), Alias::new("id")))
        .from(Alias::new("articles"))
        .cond_where(cond)
        .order_by((Alias::new("articles"), Alias::new("id")), Order::Asc)
        .to_owned();
    let rows = db.run(&select).await.unwrap_or_else(|e| panic!("{raw}: {}", e.message())).rows;
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// Each query string with the ids it must select; the data avoids case differences between
/// engines (LIKE is case-sensitive on PostgreSQL only).
const CHECKS: &[(&str, &[i64])] = &[
    ("", &[1, 2, 3, 4]),
    ("filter[title][_eq]=Second", &[2]),
    ("filter[title]=Second", &[2]),
    ("filter[title]=Second&filter[title]=third%20thing", &[2, 3]),
    ("filter[status][_neq]=published", &[2, 4]),
    ("filter[views][_lt]=5", &[3]),
    ("filter[views][_lte]=5", &[2, 3]),
    ("filter[views][_gt]=42", &[1]),
    ("filter[views][_gte]=42", &[1, 4]),
    ("filter[views][_gte]=5&filter[views][_lte]=42", &[2, 4]),
    ("filter[id][_in]=1,3", &[1, 3]),
    ("filter[id][_in][]=4", &[4]),
    ("filter[id][_nin]=1,3", &[2, 4]),
    ("filter[rating][_null]=true", &[3]),
    ("filter[rating][_null]=false", &[1, 2, 4]),
    ("filter[author][_nnull]=true", &[1, 2, 4]),
    ("filter[author][_nnull]=false", &[3]),
    ("filter[body][_empty]=true", &[2, 3]),
    ("filter[body][_nempty]=true", &[1, 4]),
    ("filter[body][_empty]=false", &[1, 4]),
    ("filter[rating][_empty]=true", &[3]),
    ("filter[title][_contains]=ir", &[3]),
    ("filter[title][_ncontains]=o", &[3, 4]),
    ("filter[title][_starts_with]=100%25", &[4]),
    ("filter[title][_nstarts_with]=S", &[1, 3, 4]),
    ("filter[title][_ends_with]=ing", &[3]),
    ("filter[title][_nends_with]=d", &[3, 4]),
    ("filter[views][_between]=5,42", &[2, 4]),
    ("filter[views][_nbetween]=5,42", &[1, 3]),
    ("filter[views][_between]=5", &[1, 2, 3, 4]),
    ("filter[published][_eq]=true", &[1, 3]),
    ("filter[published]=false", &[2, 4]),
    ("filter[author][_eq]=$CURRENT_USER", &[2]),
    ("filter[author]=null", &[3]),
    ("filter[token][_eq]=a1b2c3d4-0000-4000-8000-000000000002", &[2]),
    ("filter[date_created][_gt]=2021-03-01", &[2, 3]),
    ("filter[date_created][_lt]=$NOW", &[1, 2, 3, 4]),
    ("filter[date_created][_gt]=$NOW(%2B1%20year)", &[]),
    ("filter[price][_gte]=20.5", &[4]),
    ("filter[big][_gt]=8000000000", &[1]),
    ("filter[_or][0][status][_eq]=draft&filter[_or][1][views][_gt]=50", &[1, 2]),
    ("filter[_or][0][status][_eq]=draft&filter[_or][1][id][_in]=3,4&filter[views][_gt]=1", &[2, 4]),
    ("filter[_and][0][_or][0][id][_eq]=1&filter[_and][0][_or][1][id][_eq]=4&filter[_and][1][published]=false", &[4]),
    ("filter=%7B%22_or%22%3A%5B%7B%22status%22%3A%22draft%22%7D%2C%7B%7D%5D%7D", &[1, 2, 3, 4]),
    ("filter[author][name][_eq]=Ann", &[1]),
    ("filter[author][name][_in]=Bob,Cid", &[2, 4]),
    ("filter[author][country][name][_eq]=FR", &[2]),
    ("filter[author][_nnull]=true&filter[author][name][_neq]=Ann", &[2, 4]),
    ("filter[comments][approved][_eq]=true", &[1, 2]),
    ("filter[comments][text][_eq]=meh", &[1]),
    ("filter[comments][_or][0][text][_eq]=great&filter[comments][_or][1][text][_eq]=meh", &[1, 2]),
    ("filter[parent][title][_eq]=Hello%20World", &[2, 3]),
    ("filter[children][title][_starts_with]=100", &[2]),
    ("filter[children][parent][author][name][_eq]=Ann", &[1]),
    ("filter=%7B%22_or%22%3A%5B%7B%22id%22%3A1%7D%2C%7B%22id%22%3A%7B%22_gt%22%3A3%7D%7D%5D%7D", &[1, 4]),
    ("search=hello", &[1]),
    ("search=RUST", &[4]),
    ("search=42", &[4]),
    ("search=4.5", &[1]),
    ("search=A1B2C3D4-0000-4000-8000-000000000001", &[1]),
    ("search=zzz", &[]),
    ("search=e&filter[status]=published", &[1, 3]),
];

async fn run_checks(db: Database, tables: String) {
    let schema = schema();
    for statement in tables.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        db.query(statement, &[]).await.unwrap_or_else(|e| panic!("{statement}: {}", e.message()));
    }
    let mut failures = Vec::new();
    for (raw, expected) in CHECKS {
        let got = ids(&db, &schema, raw).await;
        if got != *expected {
            failures.push(format!("{raw}: expected {expected:?}, got {got:?}"));
        }
    }
    db.close().await;
    assert!(failures.is_empty(), "{:?}:\n{}", db.client(), failures.join("\n"));
}

fn ddl(float: &str, timestamp: &str, uuid: &str) -> String {
    TABLES.replace("{float}", float).replace("{timestamp}", timestamp).replace("{uuid}", uuid)
}

async fn connect(client: DbClient, url: &str) -> Database {
    Database::connect(&DbConfig { client, url: url.to_string(), pool_max: 1, pool_min: 0 }).await.unwrap_or_else(|e| panic!("{url}: {}", e.message()))
}

#[tokio::test]
async fn end_to_end_sqlite() {
    let db = connect(DbClient::Sqlite, "sqlite::memory:").await;
    run_checks(db, ddl("real", "datetime", "char(36)")).await;
}

/// In a schema of its own on the PostgreSQL the test suite uses (127.0.0.1:5432).
#[tokio::test]
async fn end_to_end_postgres() {
    const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
    let name = format!("query_{}", uuid::Uuid::new_v4().simple());
    let admin = connect(DbClient::Postgres, ADMIN).await;
    admin.query(&format!("CREATE SCHEMA \"{name}\""), &[]).await.unwrap();
    let db = connect(DbClient::Postgres, &format!("{ADMIN}?options=-c%20search_path%3D{name}")).await;
    let outcome = std::panic::AssertUnwindSafe(run_checks(db, ddl("double precision", "timestamptz", "uuid"))).catch_unwind().await;
    admin.query(&format!("DROP SCHEMA \"{name}\" CASCADE"), &[]).await.unwrap();
    admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// In a database of its own on the MariaDB the test suite uses (127.0.0.1:3306).
#[tokio::test]
async fn end_to_end_mysql() {
    const ADMIN: &str = "mysql://root@127.0.0.1:3306/test";
    let name = format!("query_{}", uuid::Uuid::new_v4().simple());
    let admin = connect(DbClient::MySql, ADMIN).await;
    admin.query(&format!("CREATE DATABASE `{name}`"), &[]).await.unwrap();
    let db = connect(DbClient::MySql, &format!("mysql://root@127.0.0.1:3306/{name}")).await;
    let outcome = std::panic::AssertUnwindSafe(run_checks(db, ddl("double", "datetime", "char(36)"))).catch_unwind().await;
    admin.query(&format!("DROP DATABASE `{name}`"), &[]).await.unwrap();
    admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
