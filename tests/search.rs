//! `SEARCH` (rc.83): the list read with its query in the JSON body, on `/items/:collection` and
//! the system collections, on every engine.

mod common;

use common::*;
use serde_json::{json, Value};

async fn search_reads_with_the_query_in_the_body(engine: Engine) {
    let db = TestDb::new(engine).await;
    Server::start(&db, None, &[]).await.stop();
    db.execute(&format!("CREATE TABLE notes (id {}, title varchar(50), owner char(36));", db.serial_pk())).await;
    db.execute("INSERT INTO notes (title) VALUES ('alpha'), ('beta'), ('gamma'), ('delta');").await;
    let server = Server::start(&db, None, &[]).await;
    let token = server.admin_token().await;
    let search = |path: &'static str, body: Option<Value>| server.send(&token, "SEARCH", path, body);

    let (status, body) = search("/items/notes?filter[title][_eq]=alpha", Some(json!({ "query": { "filter": { "title": { "_in": ["beta", "gamma"] } }, "fields": ["title"], "sort": ["-title"], "meta": "*" } }))).await;
    assert_eq!(
        (status, body),
        (200, json!({ "data": [{ "title": "gamma" }, { "title": "beta" }], "meta": { "total_count": 4, "filter_count": 2 } })),
        "{engine:?}: the body's query replaces the URL's"
    );
    let (status, body) = search("/items/notes?fields=title", Some(json!({ "keys": [4, 2] }))).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "title": "beta" }, { "title": "delta" }])), "{engine:?}: keys read those items");
    let (status, body) = search("/items/notes?fields=id&filter[id][_gt]=2", None).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "id": 3 }, { "id": 4 }])), "{engine:?}: no body, the URL's query");

    // The caller's variables resolve in the body's filter.
    let me = server.send(&token, "GET", "/users/me?fields=id", None).await.1["data"]["id"].clone();
    db.execute(&format!("UPDATE notes SET owner = '{}' WHERE id = 2;", me.as_str().unwrap())).await;
    let (_, body) = search("/items/notes", Some(json!({ "query": { "filter": { "owner": { "_eq": "$CURRENT_USER" } }, "fields": "title" } }))).await;
    assert_eq!(body["data"], json!([{ "title": "beta" }]), "{engine:?}");

    // System collections.
    let (status, body) = search("/users", Some(json!({ "query": { "fields": ["email"] } }))).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "email": ADMIN_EMAIL }])), "{engine:?}");
    let (status, body) = search("/roles", Some(json!({ "query": { "fields": ["name"], "filter": { "name": { "_eq": "Admin" } } } }))).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "name": "Admin" }])), "{engine:?}");
    let (status, body) = search("/activity", Some(json!({ "query": { "fields": ["action"], "limit": 1, "filter": { "action": { "_eq": "authenticate" } } } }))).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "action": "authenticate" }])), "{engine:?}");
    let (status, body) = search("/collections", Some(json!({ "keys": ["notes"] }))).await;
    assert_eq!((status, body["data"].as_array().map(|a| a.iter().map(|c| c["collection"].clone()).collect::<Vec<_>>())), (200, Some(vec![json!("notes")])), "{engine:?}");

    // Bad bodies, and a method no route knows.
    for (bad, message) in [
        (json!({ "keys": "1" }), "\"keys\" must be an array"),
        (json!({ "keys": [true] }), "\"keys[0]\" must be one of [string, number]"),
        (json!({ "query": "x" }), "\"query\" must be of type object"),
        (json!({ "data": {} }), "\"data\" is not allowed"),
        (json!([1]), "\"value\" must be of type object"),
    ] {
        let (status, body) = search("/items/notes", Some(bad)).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone(), body["errors"][0]["message"].clone()), (400, json!("FAILED_VALIDATION"), json!(message)), "{engine:?}");
        let field = message.split('"').nth(1).filter(|f| *f != "value").map(|f| f.split('[').next().unwrap());
        assert_eq!(body["errors"][0]["extensions"]["field"].as_str(), field, "{engine:?} {body}");
    }
    // rc.83 ignores what it doesn't know in a body's query; Rectus checks it as a query string.
    let (status, body) = search("/items/notes", Some(json!({ "query": { "meta": "bogus" } }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_QUERY")), "{engine:?} {body}");
    let (status, body) = search("/items/nothing", None).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (403, json!("FORBIDDEN")), "{engine:?}");
    let (status, _) = search("/settings", None).await;
    assert_eq!(status, 404, "{engine:?}: not on /settings, as in rc.83");
    let (status, body) = server.send(&token, "PUT", "/items/notes", Some(json!({}))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (404, json!("ROUTE_NOT_FOUND")), "{engine:?}");
    assert!(server.stop().success());
}

on_every_engine!(search_reads_with_the_query_in_the_body);
