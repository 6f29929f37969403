//! `sharp`, `argon2` and `child_process` in real hooks (issue 24), through the server: the
//! fixture project `fixtures/native-modules` installs sharp 0.28, argon2 0.28 and blurhash with
//! `npm ci --ignore-scripts`, so sharp and argon2 are there without their native addons, as in a
//! Directus project whose addons can't load in the engine: Rectus's built-in ones take over.
//! What they produce is compared with `reference.json`, made by the real packages under Node
//! (`make-reference.js`): sizes, channels, formats, pixels, error messages, blurhashes and
//! byte-identical argon2 hashes. child_process runs real `sh` processes.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;

fn project() -> PathBuf {
    fixture("native-modules")
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(project().join("reference.json")).unwrap()).unwrap()
}

/// Installs the fixture's packages with `--ignore-scripts`: no install script runs, so the
/// native addons stay unbuilt.
fn install() {
    npm_ci(&project(), &["--ignore-scripts"]);
}

/// The server on SQLite with the fixture hooks, and `directus_files.blurhash` for the upload hook.
async fn server(db: &TestDb) -> Server {
    install();
    let extensions = project().join("extensions");
    let env: &[(&str, &str)] = &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "60s")];
    Server::start(db, Some(&extensions), env).await.stop();
    db.execute("ALTER TABLE directus_files ADD COLUMN blurhash varchar(64);").await;
    let env = Server::env(db, Some(&extensions), env);
    Server::spawn(&db.dir, &env).await
}

async fn post(server: &Server, path: &str, body: Value) -> Value {
    let (status, body) = json(server.client.post(server.url(path)).json(&body).send().await.unwrap()).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test]
async fn an_upload_gets_the_blurhash_sharp_and_blurhash_compute_under_node() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = server(&db).await;
    let token = server.admin_token().await;
    let bytes = std::fs::read(project().join("images/quadrants.png")).unwrap();
    let part = reqwest::multipart::Part::bytes(bytes).file_name("quadrants.png").mime_str("image/png").unwrap();
    let res = server.client.post(server.url("/files")).bearer_auth(&token).multipart(reqwest::multipart::Form::new().part("file", part)).send().await.unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_string();
    // The hook runs after the upload's answer (files.upload is an after-event).
    let mut stored = Value::Null;
    for _ in 0..200 {
        let (_, row) = server.send(&token, "GET", &format!("/files/{id}?fields=blurhash"), None).await;
        stored = row["data"]["blurhash"].clone();
        if !stored.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stored, reference()["sharp"]["blurhash"]["quadrants.png"], "{}", server.log_text());
}

#[tokio::test]
async fn sharp_matches_what_it_does_under_node() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = server(&db).await;
    let report = post(&server, "/native/sharp", json!({})).await;
    let expected = &reference()["sharp"];

    assert_eq!((report["installed"].clone(), report["builtin"].clone()), (json!(true), json!(true)), "the installed sharp can't load; the built-in one answers");
    for (name, info) in expected["pipelines"].as_object().unwrap() {
        let ours = &report["pipelines"][name];
        for key in ["format", "width", "height", "channels", "depth", "premultiplied"] {
            assert_eq!(ours[key], info[key], "{name}: {key} in {ours}");
        }
        assert!(ours["size"].as_u64().unwrap() > 0, "{name}");
    }
    // Encoders differ, pixels agree within rounding (JPEG within its loss).
    for (name, pixel) in expected["pixels"].as_object().unwrap() {
        let ours: Vec<i64> = report["pixels"][name].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        let theirs: Vec<i64> = pixel.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert!(ours.iter().zip(&theirs).all(|(a, b)| (a - b).abs() <= 3), "{name}: {ours:?} vs {theirs:?}");
    }
    for (name, message) in expected["errors"].as_object().unwrap() {
        assert_eq!(report["errors"][name], *message, "{name}");
    }
    for (kind, metadata) in expected["metadata"].as_object().unwrap() {
        for key in ["format", "width", "height", "space", "channels", "depth", "hasAlpha", "hasProfile", "orientation"] {
            assert_eq!(report["metadata"][kind][key], metadata[key], "metadata of {kind}: {key}");
        }
    }
    assert_eq!(report["toFile"]["written"]["format"], "webp");
    assert_eq!(report["toFile"]["reread"], json!({ "format": "webp", "width": 10, "height": 8 }));
    assert_eq!((report["callback"]["err"].clone(), report["callback"]["isBuffer"].clone()), (Value::Null, json!(true)));
    assert_eq!(report["callback"]["info"]["width"], 8);
    assert_eq!(report["plain"], json!({ "isBuffer": true, "png": "PNG" }));
    assert_eq!(report["streamed"], 16, "a read stream piped through sharp()");
}

#[tokio::test]
async fn argon2_hashes_are_the_ones_node_argon2_makes_and_verifies() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = server(&db).await;
    let expected = &reference()["argon2"];
    let report = post(&server, "/native/argon2", json!({ "salt": expected["salt"], "hashes": expected["hashes"], "random": expected["random"] })).await;

    assert_eq!((report["installed"].clone(), report["builtin"].clone()), (json!(true), json!(true)));
    let cases = expected["hashes"].as_array().unwrap();
    for (case, ours) in cases.iter().zip(report["same"].as_array().unwrap()) {
        assert_eq!(ours["ours"], case["encoded"], "same salt and options, same PHC string: {case}");
        assert_eq!((ours["verifiesTheirs"].clone(), ours["rejectsWrong"].clone()), (json!(true), json!(true)), "{case}");
    }
    assert_eq!(report["raw"], expected["raw"]["hex"]);
    assert_eq!(report["verifiesRandom"], true, "a hash node-argon2 made with a random salt");
    assert_eq!(report["freshVerifies"], true);
    assert!(report["fresh"].as_str().unwrap().starts_with("$argon2id$v=19$m=4096,t=3,p=1$"), "{report}");
    assert_eq!(report["needsRehash"], json!([false, true]));
    assert_eq!(report["errors"]["shortSalt"]["error"], "Salt is too short");
    assert_eq!(report["errors"]["timeCost"], json!({ "error": "Invalid timeCost, must be between 2 and 4294967295.", "code": "ERR_ASSERTION" }));
    assert_eq!(report["errors"]["notPhc"]["error"], "pchstr must contain a $ as first char");
    assert_eq!(report["errors"]["otherScheme"], false);
    assert_eq!(report["constants"], json!([0, 1, 2, 4096]));

    // Rectus's own password check (the argon2 crate, as Directus's logins use node-argon2)
    // accepts the hash the hook made.
    let fresh = report["fresh"].as_str().unwrap();
    db.execute(&format!("INSERT INTO directus_users (id, email, password, status) VALUES ('5b0a6c1e-0000-4000-8000-000000000024', 'hooked@example.com', '{fresh}', 'active');")).await;
    let (status, body) = json(server.client.post(server.url("/auth/login")).json(&json!({ "email": "hooked@example.com", "password": "made by rectus" })).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn child_process_runs_real_processes_as_node_does() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = server(&db).await;
    let r = post(&server, "/native/child", json!({})).await;

    assert_eq!(r["spawnWithInput"], json!({ "stdout": "from the hook\n", "stderr": "err\n", "events": ["spawn", ["exit", 3, null], ["close", 3, null]], "pid": "number", "killed": false }));
    assert_eq!(
        r["missing"]["events"],
        json!([["error", "ENOENT", "spawn rectus-no-such-command ENOENT", "spawn rectus-no-such-command", "rectus-no-such-command", ["a"], -2], ["close", -2, null]])
    );
    assert_eq!(r["missing"]["pid"], "undefined");
    assert_eq!(r["shellEnvCwd"]["stdout"], "hello\n/tmp\n");
    assert_eq!((r["ignored"]["stdout"].clone(), r["ignored"]["events"][1].clone()), (json!(""), json!(["exit", 0, null])));
    assert_eq!(
        r["exec"],
        json!({ "error": { "message": "Command failed: echo out; echo err >&2; exit 2\nerr\n", "code": 2, "killed": false, "signal": null, "cmd": "echo out; echo err >&2; exit 2" }, "stdout": "out\n", "stderr": "err\n" })
    );
    assert_eq!(r["execOk"]["stdout"], "/bin/sh");
    assert_eq!(r["timedOut"]["error"], json!({ "message": "Command failed: sleep 5\n", "code": null, "killed": true, "signal": "SIGTERM", "cmd": "sleep 5" }));
    assert_eq!(r["timeoutWithin"], true, "the timeout ended the command, not its own end");
    assert_eq!(r["maxBuffer"]["error"]["code"], "ERR_CHILD_PROCESS_STDIO_MAXBUFFER");
    assert_eq!(r["maxBuffer"]["stdout"].as_str().unwrap().len(), 1000);
    assert_eq!(r["promisified"], json!({ "stdout": "hi\n", "stderr": "" }));
    assert_eq!(r["promisifiedError"], json!({ "code": 4, "stdout": "out\n", "stderr": "", "message": "Command failed: echo out; exit 4\n" }));
    assert_eq!(r["killed"], json!({ "code": null, "signal": "SIGTERM", "killed": true }));
    assert_eq!((r["execSync"].clone(), r["execSyncEncoding"].clone()), (json!("SHOUT"), json!("hi\n")));
    assert_eq!(r["execSyncError"], json!({ "message": "Command failed: echo partial; echo bad >&2; exit 5\nbad\n", "status": 5, "signal": null, "stdout": "partial\n", "stderr": "bad\n" }));
    assert_eq!(r["spawnSync"], json!({ "status": 1, "signal": null, "stdout": "in", "stderr": "e\n", "pid": "number" }));
    assert_eq!(
        r["spawnSyncMissing"],
        json!({ "error": { "code": "ENOENT", "message": "spawnSync rectus-no-such-command ENOENT", "syscall": "spawnSync rectus-no-such-command" }, "status": null, "output": null, "pid": 0 })
    );
    assert_eq!(r["syncTimeout"], json!({ "error": "ETIMEDOUT", "message": "spawnSync sleep ETIMEDOUT", "signal": "SIGTERM", "status": null, "within": true }));
    assert_eq!(r["execFileSync"], "arg\n");
}
