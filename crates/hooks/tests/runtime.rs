//! The hook runtime against the JS fixture hooks in `fixtures/hooks/`, through the real engine.

use rectus_core::config::{Config, Env};
use rectus_core::events::{EventArgs, EventBus};
use rectus_hooks::HookRuntime;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/hooks").join(name)
}

fn runtime(scenario: &str, extra: &[(&str, &str)]) -> Arc<HookRuntime> {
    let path = fixture(scenario);
    let path = path.to_string_lossy().into_owned();
    let mut pairs = vec![("EXTENSIONS_PATH", path.as_str()), ("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "1500"), ("PORT", "8055")];
    pairs.extend_from_slice(extra);
    let config = Config::from_env(Env::from_pairs(pairs), &std::env::temp_dir()).unwrap();
    HookRuntime::start(&config).expect("runtime starts")
}

fn ctx(pairs: Value) -> Map<String, Value> {
    pairs.as_object().cloned().unwrap()
}

async fn before(rt: &HookRuntime, event: &str, input: Value) -> Result<Value, rectus_core::ApiError> {
    rt.emit_before(event, EventArgs::with_input(input, ctx(json!({ "event": event, "collection": "articles", "item": null }))))
        .await
        .map(|v| v.unwrap())
}

async fn probe(rt: &HookRuntime) -> Vec<Value> {
    let dumped = before(rt, "test.dump.before", json!({})).await.unwrap();
    dumped["probe"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_failures_are_skipped_and_the_rest_work() {
    let rt = runtime("loading", &[]);
    let failed: Vec<&str> = rt.report().failures.iter().map(|f| f.hook.as_str()).collect();
    assert_eq!(failed, ["b-syntax-error", "c-missing-require", "d-register-throws", "f-non-function-value"]);
    let missing = &rt.report().failures[1].error;
    assert!(missing.contains("this-package-does-not-exist"), "{missing}");
    // f registered its first key before failing on the second (EventEmitter2 semantics).
    let hooks: Vec<(&str, &str)> = rt.report().registered.iter().map(|l| (l.hook.as_str(), l.event.as_str())).collect();
    assert!(hooks.contains(&("f-non-function-value", "items.create.before")));
    assert!(!hooks.iter().any(|(h, _)| *h == "e-async-register"), "async register registers nothing");

    let out = before(&rt, "items.create.before", json!({ "title": "t" })).await.unwrap();
    assert_eq!(out["title"], "t");
    assert_eq!(out["a_ok"], true);
    assert_eq!(out["has_exceptions"], true);
    assert_eq!(out["port_type"], "string", "env.PORT is a string as in Directus");
    assert_eq!(out["f_first"], true);
    assert_eq!(out["esm"], "from-esm");
    assert_eq!(out["ts_default"], true);
    assert_eq!(out["relative"], "lib+json");
    assert_eq!(out["dirname_ok"], true);
    // The hook whose top-level promises rejected still works, and so does the runtime.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let again = before(&rt, "items.create.before", json!({})).await.unwrap();
    assert_eq!(again["j_alive"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_results_merge_with_first_registered_winning() {
    let rt = runtime("dispatch", &[]);
    let out = before(&rt, "items.create.before", json!({ "title": "x" })).await.unwrap();
    assert_eq!(out["conflict"], "a");
    assert_eq!(out["from_a"], "a");
    assert_eq!(out["from_b"], "b");
    assert_eq!(out["nested"], json!({ "x": 1 }));
    assert_eq!(out["title"], "x");
    assert_eq!(out["same_object"], true, "ctx.payload === input");
    assert_eq!(out["collection"], "articles");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falsy_results_keep_the_mutated_input() {
    let rt = runtime("dispatch", &[]);
    let out = before(&rt, "items.update.before", json!({ "title": "y" })).await.unwrap();
    assert_eq!(out, json!({ "title": "y", "mutated": true }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions_cancel_with_their_status_and_code() {
    let rt = runtime("dispatch", &[]);
    let err = rt
        .emit_before("items.delete.before", EventArgs::context(ctx(json!({ "event": "items.delete.before", "item": ["forbidden"] }))))
        .await
        .unwrap_err();
    assert_eq!((err.status, err.code.as_str(), err.message.as_str()), (400, "INVALID_PAYLOAD", "rejected by hook"));
    assert_eq!(err.extensions.get("reason"), Some(&json!("x")));
    assert!(!err.internal);

    let err = before(&rt, "items.create.before", json!({ "plain_error": true })).await.unwrap_err();
    assert_eq!((err.status, err.internal, err.message.as_str()), (500, true, "plain error from hook"));
    let err = before(&rt, "items.create.before", json!({ "throw_string": true })).await.unwrap_err();
    assert_eq!((err.status, err.internal, err.message.as_str()), (500, true, "a string"));
    let err = before(&rt, "items.create.before", json!({ "forbidden": true })).await.unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (403, "FORBIDDEN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_hooks_wildcards_and_this_event() {
    let rt = runtime("dispatch", &[]);
    before(&rt, "test.reset.before", json!({})).await.unwrap();
    rt.emit_after("items.create", EventArgs::context(ctx(json!({ "event": "items.create", "item": 1 }))));
    rt.emit_after("items.update", EventArgs::context(ctx(json!({ "event": "items.update", "item": ["1"] }))));
    rt.emit_after("items.delete", EventArgs::context(ctx(json!({ "event": "items.delete", "item": ["1"] }))));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = probe(&rt).await;
    let listeners_for = |event: &str| -> Vec<String> {
        seen.iter().filter(|e| e["event"] == event).map(|e| e["listener"].as_str().unwrap().to_string()).collect()
    };
    // A synchronous throw in the first (literal) listener stops the loop, as in EventEmitter2.
    assert!(listeners_for("items.create").is_empty());
    // An async failure does not: every listener was started.
    assert_eq!(listeners_for("items.update"), ["items.*", "**"]);
    assert_eq!(listeners_for("items.delete"), ["items.*", "**"], "literal/star before globstar");
    assert_eq!(listeners_for("test.reset.before"), ["**"], "items.* never sees 3-segment events");
    assert!(seen.iter().filter(|e| e["listener"] == "**").all(|e| e["argc"] == 1 || e["event"].as_str().unwrap().ends_with(".before")));
    // The after-hook errors were logged and swallowed; the runtime keeps dispatching.
    let out = before(&rt, "items.create.before", json!({})).await.unwrap();
    assert_eq!(out["from_a"], "a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_dispatch_returns_the_input_untouched() {
    let rt = runtime("loading", &[]);
    assert!(!rt.has_listeners("nothing.listens.here.at.all"));
    let out = rt
        .emit_before("nothing.listens.here.at.all", EventArgs::with_input(json!({ "a": 1 }), Map::new()))
        .await
        .unwrap();
    assert_eq!(out, Some(json!({ "a": 1 })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_handlers_are_terminated_and_the_isolate_recovers() {
    let rt = runtime("runaway", &[("HOOKS_TIMEOUT", "500"), ("HOOKS_MAX_HEAP", "64mb")]);
    for case in ["loop", "async_loop", "heap", "hang"] {
        let started = Instant::now();
        let err = before(&rt, "items.create.before", json!({ case: true })).await.unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (503, "SERVICE_UNAVAILABLE"), "{case}: {err:?}");
        assert!(started.elapsed() < Duration::from_secs(30), "{case} took {:?}", started.elapsed());
        // The replacement isolate boots in the background; on a loaded machine (a debug build, CI
        // sharing two cores) that alone can take several seconds.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut ok = None;
        while Instant::now() < deadline {
            match before(&rt, "items.create.before", json!({ "after": case })).await {
                Ok(v) => {
                    ok = Some(v);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        assert_eq!(ok.expect("the same hook serves again")["ok"], true, "{case}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_dispatches_interleave_on_one_isolate() {
    let rt = runtime("dispatch", &[]);
    let calls: Vec<_> = (0..5)
        .map(|i| {
            let rt = rt.clone();
            tokio::spawn(async move { before(&rt, "test.barrier.before", json!({ "n": 5, "i": i })).await })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        let out = call.await.unwrap().expect("released only if all five wait together");
        assert_eq!((out["released"].clone(), out["i"].clone()), (json!(true), json!(i)));
    }
}
