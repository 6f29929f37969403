//! GraphQL (`/graphql`, `/graphql/system`, `/server/specs/graphql`) driven by a real client:
//! graphql-request (and graphql-js for introspection) from npm, in `fixtures/graphql`, against
//! the running server, on every engine. Mutations go through the same services as REST, so the
//! fixture hook sees the same events; the hook itself runs GraphQL through `GraphQLService`.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

fn client_dir() -> std::path::PathBuf {
    fixture("graphql")
}

/// Runs `operations` with graphql-request (see `fixtures/graphql/client.mjs`); one outcome each.
fn client(server: &Server, token: Option<&str>, operations: Value) -> Vec<Value> {
    npm_ci(&client_dir(), &["--ignore-scripts"]);
    let input = json!({ "url": server.base, "token": token, "operations": operations });
    let out = Command::new("node").arg(client_dir().join("client.mjs")).arg(input.to_string()).output().expect("node runs");
    assert!(out.status.success(), "client failed: {}", String::from_utf8_lossy(&out.stderr));
    let outcomes: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    for o in &outcomes {
        assert!(o.get("failure").is_none(), "client failure: {}", o["failure"]);
    }
    outcomes
}

/// One query or mutation over POST.
fn op(query: &str) -> Value {
    json!({ "query": query })
}

/// Authors, articles (many-to-one author, one-to-many comments, `authors.articles`), comments, the
/// hook's `event_log` and `gql_probe`.
async fn server(engine: Engine) -> (TestDb, Server) {
    let db = TestDb::new(engine).await;
    let ext = client_dir().join("extensions");
    let extra = [("HOOKS_POOL_SIZE", "1")];
    Server::start(&db, Some(&ext), &extra).await.stop();
    let pk = db.serial_pk();
    let fk = if engine == Engine::MySql { "int unsigned" } else { "integer" };
    db.execute(&format!("CREATE TABLE authors (id {pk}, name varchar(50) NOT NULL);")).await;
    db.execute(&format!("CREATE TABLE articles (id {pk}, title varchar(50), rating integer, published boolean, author {fk} REFERENCES authors (id));")).await;
    db.execute(&format!("CREATE TABLE comments (id {pk}, article {fk} REFERENCES articles (id), body varchar(50));")).await;
    db.execute(&format!("CREATE TABLE event_log (id {pk}, event varchar(20), collection varchar(50), item text);")).await;
    db.execute(&format!("CREATE TABLE gql_probe (id {pk}, note varchar(50), result text, invalid varchar(100), sdl_has_me boolean, date_scalar varchar(20));")).await;
    db.execute("INSERT INTO authors (name) VALUES ('Ann'), ('Bob');").await;
    db.execute("INSERT INTO articles (title, rating, published, author) VALUES ('A1', 3, true, 1), ('A2', 5, false, 2), ('A3', 1, true, NULL);").await;
    db.execute("INSERT INTO comments (article, body) VALUES (1, 'c1'), (1, 'c2'), (2, 'c3');").await;
    db.execute(
        "INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field, one_deselect_action) VALUES \
         ('articles', 'author', 'authors', 'articles', 'nullify'), ('comments', 'article', 'articles', 'comments', 'nullify');",
    )
    .await;
    db.execute("INSERT INTO directus_fields (collection, field, special, readonly, hidden) VALUES ('articles', 'comments', 'o2m', false, false), ('authors', 'articles', 'o2m', false, false), ('articles', 'published', 'boolean', false, false);").await;
    let server = Server::start(&db, Some(&ext), &extra).await;
    (db, server)
}

async fn queries_mutations_and_errors(engine: Engine) {
    let (db, server) = server(engine).await;
    let token = server.admin_token().await;
    let out = client(
        &server,
        Some(&token),
        json!([
            op(r#"{ articles(sort: ["id"], filter: { rating: { _gte: 3 } }) { id title rating published author { name } comments(sort: ["-id"], limit: 1) { body } } }"#),
            op(r#"{ articles_by_id(id: 2) { title author { name articles { title } } } none: articles_by_id(id: 99) { id } }"#),
            op(r#"{ articles(filter: { author: { name: { _eq: "Bob" } } }) { title } }"#),
            { "query": "query Find($term: String, $limit: Int = 1) { articles(search: $term, limit: $limit, sort: \"-id\") { title } }", "variables": { "term": "A" } },
            { "query": "{ comments(filter: { article: { title: { _eq: \"A1\" } } }, sort: [\"id\"]) { body article { __typename title } } }", "method": "GET" },
            op("{ articles(page: 2, limit: 2, sort: [\"id\"]) { title } ...on Query { authors(sort: [\"name\"]) { name } } }"),
        ]),
    );
    assert_eq!(
        out[0]["data"]["articles"],
        json!([
            { "id": "1", "title": "A1", "rating": 3, "published": true, "author": { "name": "Ann" }, "comments": [{ "body": "c2" }] },
            { "id": "2", "title": "A2", "rating": 5, "published": false, "author": { "name": "Bob" }, "comments": [{ "body": "c3" }] },
        ]),
        "{engine:?} {}",
        out[0]
    );
    assert_eq!(out[1]["data"], json!({ "articles_by_id": { "title": "A2", "author": { "name": "Bob", "articles": [{ "title": "A2" }] } }, "none": null }), "{engine:?}");
    assert_eq!(out[2]["data"]["articles"], json!([{ "title": "A2" }]), "{engine:?} relational filter");
    assert_eq!(out[3]["data"]["articles"], json!([{ "title": "A3" }]), "{engine:?} variables and their defaults");
    assert_eq!(out[4]["data"]["comments"], json!([{ "body": "c1", "article": { "__typename": "articles", "title": "A1" } }, { "body": "c2", "article": { "__typename": "articles", "title": "A1" } }]), "{engine:?} GET");
    assert_eq!(out[5]["data"], json!({ "articles": [{ "title": "A3" }], "authors": [{ "name": "Ann" }, { "name": "Bob" }] }), "{engine:?}");

    // Mutations: the same services, hooks, nested writes and activity as REST.
    let out = client(
        &server,
        Some(&token),
        json!([
            op(r#"mutation { create_articles_item(data: { title: "New", rating: 2, author: { name: "Cid" } }) { id title author { name } } }"#),
            op(r#"mutation { create_articles_items(data: [{ title: "B1" }, { title: "B2" }]) { title } }"#),
            op(r#"mutation { update_articles_items(ids: [1, 2], data: { rating: 4 }) { id rating } }"#),
            op(r#"mutation { update_articles_item(id: 3, data: { title: "A3b" }) { id title } }"#),
            op(r#"mutation { delete_articles_item(id: 3) { id } }"#),
            op(r#"mutation { delete_comments_items(ids: [2, 3]) { ids } }"#),
        ]),
    );
    let created = &out[0]["data"]["create_articles_item"];
    assert_eq!((created["title"].clone(), created["author"].clone()), (json!("New (hooked)"), json!({ "name": "Cid" })), "{engine:?} {}", out[0]);
    assert_eq!(out[1]["data"]["create_articles_items"], json!([{ "title": "B1 (hooked)" }, { "title": "B2 (hooked)" }]), "{engine:?}");
    assert_eq!(out[2]["data"]["update_articles_items"], json!([{ "id": "1", "rating": 4 }, { "id": "2", "rating": 4 }]), "{engine:?}");
    assert_eq!(out[3]["data"]["update_articles_item"], json!({ "id": "3", "title": "A3b" }), "{engine:?} {}", out[3]);
    assert_eq!(out[4]["data"]["delete_articles_item"], json!({ "id": "3" }), "{engine:?}");
    assert_eq!(out[5]["data"]["delete_comments_items"], json!({ "ids": ["2", "3"] }), "{engine:?}");
    assert_eq!(db.count("articles", "rating = 4").await, 2, "{engine:?}");
    assert_eq!(db.count("comments", "1 = 1").await, 1, "{engine:?}");
    assert_eq!(db.count_reaching("event_log", "event = 'create' AND collection = 'articles'", 3).await, 3, "{engine:?}: items.create per created article");
    assert_eq!(db.count_reaching("event_log", "event = 'create' AND collection = 'authors'", 1).await, 1, "{engine:?}: the nested author fired its own event");
    assert_eq!(db.count_reaching("event_log", "event = 'update'", 2).await, 2, "{engine:?}");
    assert_eq!(db.count_reaching("event_log", "event = 'delete'", 1).await, 1, "{engine:?}");
    assert_eq!(db.count("directus_activity", "collection = 'articles' AND action = 'create'").await, 3, "{engine:?}: activity as over REST");
    assert_eq!(db.count("directus_activity", "collection = 'articles' AND action = 'update'").await, 3, "{engine:?}");
    assert!(db.count("directus_revisions", "collection = 'articles'").await >= 6, "{engine:?}: revisions of the creates and updates");

    // Errors as Directus answers them.
    let deep = format!("{{ articles {{ {} id {} }} }}", "author { articles { ".repeat(12), "} } ".repeat(12));
    let out = client(
        &server,
        Some(&token),
        json!([
            op("{ articles { nope } }"),
            op("{ articles { "),
            op(r#"mutation { update_articles_item(id: 999, data: { title: "x" }) { id } }"#),
            op(r#"mutation { create_authors_item(data: { name: null }) { id } }"#),
            op(&deep),
        ]),
    );
    assert_eq!((out[0]["status"].clone(), out[0]["errors"][0]["extensions"]["code"].clone()), (json!(400), json!("GRAPHQL_VALIDATION_EXCEPTION")), "{engine:?} {}", out[0]);
    assert_eq!(out[0]["errors"][0]["message"], "GraphQL validation error.");
    assert!(out[0]["errors"][0]["extensions"]["graphqlErrors"][0]["message"].as_str().unwrap().contains("nope"), "{}", out[0]);
    assert_eq!((out[1]["status"].clone(), out[1]["errors"][0]["extensions"]["code"].clone()), (json!(400), json!("INVALID_PAYLOAD")), "{engine:?} {}", out[1]);
    assert_eq!(out[1]["errors"][0]["message"], "GraphQL schema validation error.");
    assert_eq!(out[1]["errors"][0]["extensions"]["graphqlErrors"][0]["message"], "Syntax Error: expected selection.", "{}", out[1]);
    assert_eq!(out[2]["status"], 200, "{engine:?} {}", out[2]);
    assert_eq!(out[2]["errors"][0]["extensions"]["code"], "FORBIDDEN", "{engine:?} {}", out[2]);
    assert_eq!(out[2]["errors"][0]["path"], json!(["update_articles_item"]));
    assert_eq!(out[2]["data"], json!({ "update_articles_item": null }));
    assert_eq!(out[3]["status"], 400, "{engine:?}: a null for a non-null input is invalid: {}", out[3]);
    assert_eq!((out[4]["status"].clone(), out[4]["errors"][0]["extensions"]["code"].clone()), (json!(400), json!("GRAPHQL_VALIDATION_EXCEPTION")), "{engine:?}: too deep {}", out[4]);
    // graphql-request posts mutations whatever its method: a GET one by hand.
    let url = server.url("/graphql?query=mutation%20%7B%20delete_comments_item(id%3A%201)%20%7B%20id%20%7D%20%7D");
    let (status, body) = json(server.client.get(url).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (405, json!("METHOD_NOT_ALLOWED")), "{engine:?} {body}");
    assert_eq!(body["errors"][0]["message"], "Can only perform a mutation from a POST request.");
    assert_eq!(db.count("comments", "id = 1").await, 1, "{engine:?}: a GET mutation changes nothing");

    // Introspection builds a schema graphql-js accepts.
    let out = client(&server, Some(&token), json!([{ "introspect": true }]));
    let types: Vec<String> = serde_json::from_value(out[0]["types"].clone()).unwrap();
    for t in ["articles", "authors", "comments", "articles_filter", "create_articles_input", "update_articles_input", "delete_one", "number_filter_operators"] {
        assert!(types.contains(&t.to_string()), "{engine:?}: no {t} in {types:?}");
    }
    assert!(!types.iter().any(|t| t.starts_with("directus_roles")), "{engine:?}: only reachable types ({types:?})");
    let sdl = out[0]["sdl"].as_str().unwrap();
    assert!(sdl.contains("articles(filter: articles_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String): [articles]"), "{sdl}");
    assert!(sdl.contains("articles_by_id(id: ID!): articles"), "{sdl}");
    assert!(sdl.contains("create_authors_item(data: create_authors_input!): authors"), "{sdl}");
    assert!(sdl.contains("name: String!"), "{sdl}");
    assert!(server.stop().success());
}

on_every_engine!(queries_mutations_and_errors);

/// The schema is cut to the caller's permissions (and follows them when they change); the
/// system scope, the SDL routes, and `GraphQLService` / `SpecificationService.graphql` from a hook.
async fn schema_per_caller_system_and_hooks(engine: Engine) {
    let (_db, server) = server(engine).await;
    let admin = server.admin_token().await;
    let ok = |(status, body): (u16, Value)| {
        assert_eq!(status, 200, "{body}");
        body["data"].clone()
    };
    let role = ok(server.send(&admin, "POST", "/roles", Some(json!({ "name": "Reader" }))).await)["id"].clone();
    ok(server.send(&admin, "POST", "/permissions", Some(json!({ "role": role, "collection": "articles", "action": "read", "fields": "id,title,author" }))).await);
    ok(server.send(&admin, "POST", "/users", Some(json!({ "email": "reader@example.com", "password": "secret", "role": role }))).await);
    let (_, login) = json(server.client.post(server.url("/auth/login")).json(&json!({ "email": "reader@example.com", "password": "secret" })).send().await.unwrap()).await;
    let reader = login["data"]["access_token"].as_str().unwrap().to_string();

    let out = client(
        &server,
        Some(&reader),
        json!([{ "introspect": true }, op(r#"{ articles(sort: ["id"], limit: 2) { id title author } }"#), op("{ authors { name } }"), { "path": "/graphql/system", "query": "{ server_ping }" }]),
    );
    assert_eq!(out[0]["query"], json!(["articles", "articles_by_id"]), "{engine:?} {}", out[0]);
    assert_eq!(out[0]["mutation"], json!([]), "{engine:?}: no write permission, no mutation");
    let sdl = out[0]["sdl"].as_str().unwrap();
    assert!(sdl.contains("type articles {\n  id: ID\n  title: String\n  author: Int\n}"), "{engine:?}: only the permitted fields; the author a plain key\n{sdl}");
    assert!(!sdl.contains("type authors"), "{sdl}");
    assert_eq!(out[1]["data"]["articles"], json!([{ "id": "1", "title": "A1", "author": 1 }, { "id": "2", "title": "A2", "author": 2 }]), "{engine:?}");
    assert_eq!((out[2]["status"].clone(), out[2]["errors"][0]["extensions"]["code"].clone()), (json!(400), json!("GRAPHQL_VALIDATION_EXCEPTION")), "{engine:?}");
    assert_eq!(out[3]["data"], json!({ "server_ping": "pong" }), "{engine:?}");

    // Without a token: nothing to read.
    let out = client(&server, None, json!([{ "introspect": true }, op("{ _empty }")]));
    assert_eq!(out[0]["query"], json!(["_empty"]), "{engine:?}");
    assert_eq!(out[1]["data"], json!({ "_empty": null }));

    // A permission added applies to the next request.
    ok(server.send(&admin, "POST", "/permissions", Some(json!({ "role": role, "collection": "authors", "action": "read", "fields": "*" }))).await);
    let out = client(&server, Some(&reader), json!([op(r#"{ articles(sort: ["id"], limit: 1) { title author { name } } }"#)]));
    assert_eq!(out[0]["data"]["articles"], json!([{ "title": "A1", "author": { "name": "Ann" } }]), "{engine:?} {}", out[0]);

    // The system scope.
    let out = client(
        &server,
        Some(&admin),
        json!([
            { "path": "/graphql/system", "query": r#"{ users_me { email role { name } } server_ping server_info { project_name } roles(filter: { name: { _eq: "Reader" } }) { name users { email } } }"# },
            { "path": "/graphql/system", "query": r#"mutation { update_roles_item(id: "ROLE", data: { description: "reads" }) { description } }"#.replace("ROLE", role.as_str().unwrap()) },
            { "path": "/graphql/system", "introspect": true },
        ]),
    );
    let data = &out[0]["data"];
    assert_eq!(data["users_me"]["email"], ADMIN_EMAIL, "{engine:?} {}", out[0]);
    assert_eq!(data["users_me"]["role"]["name"], "Admin", "{engine:?}");
    assert_eq!(data["server_ping"], "pong");
    assert_eq!(data["server_info"]["project_name"], "Directus");
    assert_eq!(data["roles"], json!([{ "name": "Reader", "users": [{ "email": "reader@example.com" }] }]), "{engine:?}");
    assert_eq!(out[1]["data"]["update_roles_item"], json!({ "description": "reads" }), "{engine:?} {}", out[1]);
    let query: Vec<String> = serde_json::from_value(out[2]["query"].clone()).unwrap();
    for field in ["users", "users_by_id", "roles", "files", "folders", "permissions", "presets", "settings", "activity", "revisions", "webhooks", "users_me", "server_info", "server_specs_graphql"] {
        assert!(query.contains(&field.to_string()), "{engine:?}: no {field} in {query:?}");
    }
    assert!(!query.iter().any(|f| f == "articles"), "{engine:?}: user collections are not in the system scope");
    let mutations: Vec<String> = serde_json::from_value(out[2]["mutation"].clone()).unwrap();
    assert!(!mutations.iter().any(|m| m.contains("activity") || m.contains("revisions")), "{engine:?}: read-only collections {mutations:?}");

    // The SDL routes.
    let res = server.client.get(server.url("/server/specs/graphql")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"Directus_") && disposition.ends_with(".graphql\""), "{disposition}");
    let text = res.text().await.unwrap();
    assert!(text.contains("type articles {") && !text.contains("users_me"), "{engine:?}");
    let system = server.client.get(server.url("/server/specs/graphql/system")).bearer_auth(&admin).send().await.unwrap().text().await.unwrap();
    assert!(system.contains("users_me: directus_users"), "{engine:?}");
    let (status, body) = json(server.client.get(server.url("/server/specs/graphql/nope")).bearer_auth(&admin).send().await.unwrap()).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (404, json!("ROUTE_NOT_FOUND")));

    // GraphQL from a hook.
    let probe = ok(server.send(&admin, "POST", "/items/gql_probe", Some(json!({ "note": "x" }))).await);
    let result: Value = serde_json::from_str(probe["result"].as_str().unwrap()).unwrap();
    assert_eq!(result, json!({ "data": { "articles": [{ "title": "A1", "author": { "name": "Ann" } }, { "title": "A2", "author": { "name": "Bob" } }] } }), "{engine:?}");
    assert_eq!(probe["invalid"], "GraphQLValidationException GRAPHQL_VALIDATION_EXCEPTION", "{engine:?}");
    assert_eq!(probe["sdl_has_me"], true, "{engine:?}");
    assert_eq!(probe["date_scalar"], "Date");
    assert!(server.stop().success());
}

on_every_engine!(schema_per_caller_system_and_hooks);

/// Many-to-any fields are unions: inline fragments pick the fields of each member collection.
async fn many_to_any_unions(engine: Engine) {
    let db = TestDb::new(engine).await;
    Server::start(&db, None, &[]).await.stop();
    let pk = db.serial_pk();
    let fk = if engine == Engine::MySql { "int unsigned" } else { "integer" };
    db.execute(&format!(
        "CREATE TABLE pages (id {pk}, title varchar(50));
         CREATE TABLE headings (id {pk}, title varchar(50));
         CREATE TABLE texts (id {pk}, body varchar(50));
         CREATE TABLE pages_blocks (id {pk}, pages_id {fk} REFERENCES pages (id), item varchar(255), collection varchar(64));"
    ))
    .await;
    db.execute(
        "INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field, one_collection_field, one_allowed_collections, junction_field, one_deselect_action) VALUES
         ('pages_blocks', 'pages_id', 'pages', 'blocks', NULL, NULL, 'item', 'delete'),
         ('pages_blocks', 'item', NULL, NULL, 'collection', 'headings,texts', 'pages_id', 'nullify');
         INSERT INTO directus_fields (collection, field, special, interface) VALUES ('pages', 'blocks', 'm2a', 'many-to-any');
         INSERT INTO pages (title) VALUES ('P');
         INSERT INTO headings (title) VALUES ('H1');
         INSERT INTO texts (body) VALUES ('T1');
         INSERT INTO pages_blocks (pages_id, item, collection) VALUES (1, '1', 'headings'), (1, '1', 'texts');",
    )
    .await;
    let server = Server::start(&db, None, &[]).await;
    let token = server.admin_token().await;
    let out = client(
        &server,
        Some(&token),
        json!([op("{ pages { title blocks(sort: [\"id\"]) { item { __typename ... on headings { title } ...Text } } } } fragment Text on texts { body }"), { "introspect": true }]),
    );
    assert_eq!(
        out[0]["data"]["pages"],
        json!([{ "title": "P", "blocks": [{ "item": { "__typename": "headings", "title": "H1" } }, { "item": { "__typename": "texts", "body": "T1" } }] }]),
        "{engine:?} {}",
        out[0]
    );
    assert!(out[0]["errors"].is_null(), "{}", out[0]);
    assert!(out[1]["sdl"].as_str().unwrap().contains("union pages_blocks_item_union = headings | texts"), "{engine:?}");
    assert!(server.stop().success());
}

on_every_engine!(many_to_any_unions);
