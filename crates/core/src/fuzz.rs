//! Property-based fuzzing (proptest, stable toolchain) of what a client controls, through the
//! real code down to a real SQLite database:
//!
//! - `query_strings`: raw query strings → qs parsing → sanitising → the items read (SQL built,
//!   run, relations expanded) and `meta`;
//! - `query_json`: `filter`/`deep`/`fields`/`sort`/`limit`/`page` as JSON (a SEARCH body, a
//!   hook's query), the same way down;
//! - `item_payloads`: JSON bodies for creates and updates, nested relational writes included.
//!
//! The property: nothing panics, and every failure is a client error (4xx), never a 500.
//! `cargo test fuzz` runs `FUZZ_CASES` cases per target (default 256); `scripts/fuzz` runs each
//! target for `FUZZ_SECONDS` and reports the executions (see the README). The driver is
//! `rectus_fuzz::run`, shared with the HTTP-level targets.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};

use crate::auth::Accountability;
use crate::query::{parse_query_string, sanitize, FilterContext};
use crate::services::items::ItemsService;
use crate::services::testing::{self, TestServices};
use crate::services::MutationOptions;
use crate::ApiError;
use rectus_fuzz::run;

/// Cases per target when `FUZZ_CASES` is not set.
const CASES: u32 = 256;

/// A client error is fine; anything else fails the case.
fn client_error(what: &str, result: Result<impl Sized, ApiError>) -> Result<(), TestCaseError> {
    match result {
        Err(e) if e.internal || !(400..500).contains(&e.status) => Err(TestCaseError::fail(format!("{what}: {e}"))),
        _ => Ok(()),
    }
}

/// authors ← articles (m2o `author`, o2m `articles`), comments → articles (o2m `comments`).
async fn database() -> TestServices {
    let t = testing::sqlite().await;
    t.exec("CREATE TABLE authors (id integer PRIMARY KEY AUTOINCREMENT, name varchar(50))").await;
    t.exec(
        "CREATE TABLE articles (id integer PRIMARY KEY AUTOINCREMENT, title varchar(100) NOT NULL, slug varchar(100) UNIQUE, \
         status varchar(20) DEFAULT 'draft', views bigint, rating float, published boolean, created timestamp, author integer REFERENCES authors(id))",
    )
    .await;
    t.exec("CREATE TABLE comments (id integer PRIMARY KEY AUTOINCREMENT, text text, article integer REFERENCES articles(id))").await;
    t.exec("INSERT INTO directus_fields (collection, field, special) VALUES ('authors', 'articles', 'o2m'), ('articles', 'comments', 'o2m')").await;
    t.exec(
        "INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field) VALUES \
         ('articles', 'author', 'authors', 'articles'), ('comments', 'article', 'articles', 'comments')",
    )
    .await;
    t.exec("INSERT INTO authors (name) VALUES ('Ann'), ('Bob')").await;
    t.exec("INSERT INTO articles (title, slug, views, author) VALUES ('One', 'one', 10, 1), ('Two', 'two', 20, 2), ('Three', 'three', NULL, NULL)").await;
    t.exec("INSERT INTO comments (text, article) VALUES ('nice', 1), ('meh', 2)").await;
    t
}

fn admin() -> Option<Accountability> {
    Some(Accountability { admin: true, app: true, ..Default::default() })
}

/// Names a client might use: real fields, relations, operators, query keys, and junk.
const WORDS: &[&str] = &[
    "id", "title", "slug", "status", "views", "rating", "published", "created", "author", "comments", "articles", "name", "text", "article",
    "_eq", "_neq", "_lt", "_lte", "_gt", "_gte", "_in", "_nin", "_null", "_nnull", "_contains", "_ncontains", "_starts_with", "_ends_with",
    "_between", "_nbetween", "_empty", "_nempty", "_and", "_or", "_filter", "_fields", "_sort", "_limit", "_offset", "_page", "_search", "_meta",
    "*", "$NOW", "$NOW(-1 year)", "$CURRENT_USER", "$CURRENT_ROLE", "nope", "", "0", "-1", "__proto__", "constructor", "item:articles",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![3 => proptest::sample::select(WORDS).prop_map(str::to_string), 1 => "[a-z_.*:$-]{0,12}", 1 => any::<String>()]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![Just(0.5), Just(1e300), Just(-1e-300), Just(9007199254740993.0)].prop_map(Value::from),
        word().prop_map(Value::String),
        "[0-9eE.+-]{1,24}".prop_map(Value::String),
        "[a-z0-9, ]{0,20}".prop_map(Value::String),
    ]
}

/// JSON trees whose keys are mostly names the query language knows.
fn tree() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((word(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Query strings: `key[sub][sub]=value` pairs with qs's brackets, escapes and separators.
fn query_string() -> impl Strategy<Value = String> {
    let key = (prop_oneof![Just("filter"), Just("deep"), Just("fields"), Just("sort"), Just("limit"), Just("offset"), Just("page"), Just("meta"), Just("search"), Just("export")], proptest::collection::vec(word(), 0..5))
        .prop_map(|(head, subs)| subs.iter().fold(head.to_string(), |key, sub| format!("{key}[{sub}]")));
    let value = prop_oneof![word(), "[%0-9A-Fa-f\\[\\]{}\",:=&+. -]{0,24}", tree().prop_map(|v| v.to_string())];
    proptest::collection::vec((key, value), 0..8).prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Sanitises `params` and reads `articles` with the result (rows and meta), as a request would.
async fn read(t: &TestServices, params: &Map<String, Value>) -> Result<(), ApiError> {
    let query = sanitize(params, &FilterContext::default())?;
    let schema = t.services.schema.get().await?;
    let articles = ItemsService::new("articles", t.services.clone(), schema, admin());
    articles.read_by_query(&query).await?;
    articles.meta(&query).await?;
    Ok(())
}

#[test]
fn query_strings() {
    let rt = runtime();
    let t = rt.block_on(database());
    run("query_strings", CASES, query_string(), |raw| {
        let params = parse_query_string(&raw);
        client_error(&raw, rt.block_on(read(&t, &params)))
    });
}

#[test]
fn query_json() {
    let rt = runtime();
    let t = rt.block_on(database());
    let params = proptest::collection::vec((prop_oneof![Just("filter"), Just("deep"), Just("fields"), Just("sort"), Just("limit"), Just("page"), Just("offset"), Just("search"), Just("meta")], tree()), 0..5);
    run("query_json", CASES, params, |pairs| {
        let params: Map<String, Value> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        client_error(&Value::Object(params.clone()).to_string(), rt.block_on(read(&t, &params)))
    });
}

/// Payloads for `articles`: mostly its fields, with nested authors and comments.
fn payload() -> impl Strategy<Value = Value> {
    let field = prop_oneof![Just("title"), Just("slug"), Just("status"), Just("views"), Just("rating"), Just("published"), Just("created"), Just("author"), Just("comments"), Just("id"), Just("nope")];
    proptest::collection::vec((field, tree()), 0..6).prop_map(|pairs| {
        let mut item: Map<String, Value> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        // Most creates should get past the required title to reach the rest.
        item.entry("title").or_insert(json!("t"));
        Value::Object(item)
    })
}

#[test]
fn item_payloads() {
    let rt = runtime();
    let t = rt.block_on(database());
    let cases = (payload(), proptest::collection::vec(payload(), 0..3), tree());
    run("item_payloads", CASES, cases, |(one, many, raw)| {
        rt.block_on(async {
            let schema = t.services.schema.get().await.unwrap();
            let articles = ItemsService::new("articles", t.services.clone(), schema, admin());
            client_error(&format!("create {one}"), articles.create_one(one.clone(), MutationOptions::default()).await)?;
            client_error(&format!("create many {many:?}"), articles.create_many(many.clone(), MutationOptions::default()).await)?;
            client_error(&format!("create {raw}"), articles.create_one(raw.clone(), MutationOptions::default()).await)?;
            client_error(&format!("update 1 with {one}"), articles.update_one(json!(1), one, MutationOptions::default()).await)?;
            Ok(())
        })
    });
}
