//! HTTP-level fuzzing against the real server: query strings, JSON bodies and multipart uploads
//! that a client controls. Every answer is the Directus envelope (`data` or `errors`, or no body
//! for a success that has none), and every error is a client error: never a 500, never a dropped connection. `FUZZ_CASES` (default 64
//! per target) or `FUZZ_SECONDS` (`scripts/fuzz`) sets how long each target runs.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rectus_fuzz::run;
use serde_json::Value;

struct Target {
    rt: tokio::runtime::Runtime,
    server: Server,
    token: String,
    _db: TestDb,
}

fn target() -> Target {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (db, server, token) = rt.block_on(async {
        let db = TestDb::new(Engine::Sqlite).await;
        Server::start(&db, None, &[]).await.stop();
        db.execute("CREATE TABLE authors (id integer PRIMARY KEY AUTOINCREMENT, name varchar(50));").await;
        db.execute("CREATE TABLE articles (id integer PRIMARY KEY AUTOINCREMENT, title varchar(100) NOT NULL, views integer, author integer REFERENCES authors(id));").await;
        db.execute("INSERT INTO directus_relations (many_collection, many_field, one_collection, one_field) VALUES ('articles', 'author', 'authors', 'articles');").await;
        db.execute("INSERT INTO directus_fields (collection, field, special) VALUES ('authors', 'articles', 'o2m');").await;
        db.execute("INSERT INTO authors (name) VALUES ('Ann'); INSERT INTO articles (title, views, author) VALUES ('One', 1, 1), ('Two', 2, NULL);").await;
        let server = Server::start(&db, None, &[]).await;
        let token = server.admin_token().await;
        (db, server, token)
    });
    Target { rt, server, token, _db: db }
}

impl Target {
    /// Sends the request; the answer must be an envelope with a status below 500.
    fn check(&self, what: &str, req: reqwest::RequestBuilder) -> Result<(), TestCaseError> {
        let (status, body) = self.rt.block_on(async {
            match req.bearer_auth(&self.token).send().await {
                Ok(res) => Ok(json(res).await),
                Err(e) => Err(TestCaseError::fail(format!("{what}: no answer: {e}"))),
            }
        })?;
        // A success may have no body (a delete answers 204, or 200 for no keys, as Directus).
        let envelope = body.get("data").is_some() || body["errors"][0]["extensions"]["code"].is_string() || (status < 300 && body.is_null());
        if status >= 500 || !envelope {
            return Err(TestCaseError::fail(format!("{what}: {status} {body}")));
        }
        Ok(())
    }
}

const WORDS: &[&str] = &[
    "id", "title", "views", "author", "articles", "name", "_eq", "_in", "_null", "_contains", "_between", "_and", "_or", "_limit", "_filter", "*", "$NOW", "-1",
    "1e999", "9007199254740993", "", "[", "]", "{", "}", "\"", "%", "%ZZ", "%00", "..", "__proto__",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![3 => proptest::sample::select(WORDS).prop_map(str::to_string), 1 => "[a-z_.*:$\\[\\]{}\",=&%-]{0,12}", 1 => any::<String>()]
}

fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool), any::<i64>().prop_map(Value::from), word().prop_map(Value::String)];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((word(), inner), 0..5).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

#[test]
fn query_strings_over_http() {
    let t = target();
    let key = (prop_oneof![Just("filter"), Just("deep"), Just("fields"), Just("sort"), Just("limit"), Just("offset"), Just("page"), Just("meta"), Just("search")], proptest::collection::vec(word(), 0..4))
        .prop_map(|(head, subs)| subs.iter().fold(head.to_string(), |key, sub| format!("{key}[{sub}]")));
    let pairs = proptest::collection::vec((key, prop_oneof![word(), json_tree().prop_map(|v| v.to_string())]), 0..6);
    let paths = prop_oneof![Just("/items/articles"), Just("/items/authors"), Just("/items/articles/1"), Just("/users"), Just("/files")];
    run("query_strings_over_http", 64, (paths, pairs), |(path, pairs)| {
        let mut url = reqwest::Url::parse(&t.server.url(path)).unwrap();
        for (k, v) in &pairs {
            url.query_pairs_mut().append_pair(k, v);
        }
        t.check(url.as_str(), t.server.client.get(url.clone()))
    });
}

#[test]
fn json_bodies_over_http() {
    let t = target();
    let body = prop_oneof![
        json_tree(),
        proptest::collection::vec((prop_oneof![Just("title"), Just("views"), Just("author"), Just("id"), Just("nope")], json_tree()), 0..5).prop_map(|p| Value::Object(p.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
    ];
    let request = prop_oneof![Just(("POST", "/items/articles")), Just(("PATCH", "/items/articles/1")), Just(("PATCH", "/items/articles")), Just(("POST", "/items/authors")), Just(("DELETE", "/items/articles"))];
    run("json_bodies_over_http", 64, (request, body), |((method, path), body)| {
        let req = t.server.client.request(method.parse().unwrap(), t.server.url(path)).json(&body);
        t.check(&format!("{method} {path} {body}"), req)
    });
}

/// A multipart body as a client could shape it, well-formed or not.
fn multipart() -> impl Strategy<Value = (String, Vec<u8>)> {
    let name = prop_oneof![Just("file".to_string()), Just("title".to_string()), Just("storage".to_string()), Just("folder".to_string()), word()];
    let filename = prop_oneof![Just(None), Just(Some("../../x.txt".to_string())), Just(Some("a\"b.png".to_string())), word().prop_map(Some)];
    let content_type = prop_oneof![Just("text/plain".to_string()), Just("image/png".to_string()), Just("".to_string()), word()];
    let part = (name, filename, content_type, proptest::collection::vec(any::<u8>(), 0..64));
    let boundary = "fuzzboundary";
    let well_formed = proptest::collection::vec(part, 0..4).prop_map(move |parts| {
        let mut body = Vec::new();
        for (name, filename, content_type, bytes) in parts {
            let filename = filename.map(|f| format!("; filename=\"{f}\"")).unwrap_or_default();
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\nContent-Type: {content_type}\r\n\r\n").as_bytes());
            body.extend(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        (boundary.to_string(), body)
    });
    let garbage = (word(), proptest::collection::vec(any::<u8>(), 0..256)).prop_map(|(b, bytes)| (b, bytes));
    prop_oneof![3 => well_formed, 1 => garbage]
}

#[test]
fn multipart_uploads_over_http() {
    let t = target();
    run("multipart_uploads_over_http", 64, multipart(), |(boundary, body)| {
        let Ok(content_type) = reqwest::header::HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}")) else {
            return Ok(()); // not a header a client can send
        };
        let req = t.server.client.post(t.server.url("/files")).header("content-type", content_type).body(body.clone());
        t.check(&format!("boundary {boundary:?}, body {:?}", String::from_utf8_lossy(&body)), req)
    });
}
