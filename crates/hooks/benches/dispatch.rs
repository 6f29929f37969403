//! Hook dispatch cost: an event nobody listens to, one before-hook with a small payload
//! (Rust → JS → Rust), ten listeners on wildcard patterns, and the JSON ↔ JS conversion of
//! 1 KB and 100 KB payloads through the one before-hook.

use criterion::{criterion_group, criterion_main, Criterion};
use rectus_core::config::{Config, Env};
use rectus_core::events::{EventArgs, EventBus};
use rectus_hooks::HookRuntime;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

fn runtime(scenario: &str) -> std::sync::Arc<HookRuntime> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bench").join(scenario);
    let path = path.to_string_lossy().into_owned();
    let env = Env::from_pairs([("EXTENSIONS_PATH", path.as_str()), ("HOOKS_POOL_SIZE", "1")]);
    HookRuntime::start(&Config::from_env(env, &std::env::temp_dir()).unwrap()).unwrap()
}

fn ctx() -> Map<String, Value> {
    json!({ "event": "items.create.before", "collection": "articles", "item": null, "action": "create" }).as_object().cloned().unwrap()
}

fn dispatch(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let one = runtime("one-before-hook");
    let ten = runtime("ten-wildcard-hooks");

    c.bench_function("empty dispatch (no listener matches)", |b| {
        b.to_async(&rt).iter(|| async { one.emit_before("items.update.before", EventArgs::with_input(json!({ "title": "x" }), Map::new())).await.unwrap() })
    });
    c.bench_function("one before-hook, small payload", |b| {
        b.to_async(&rt).iter(|| async { one.emit_before("items.create.before", EventArgs::with_input(json!({ "title": "Hello", "body": "World" }), ctx())).await.unwrap() })
    });
    for kb in [1, 100] {
        let payload = json!({ "title": "Hello", "body": "x".repeat(kb * 1024 - 40), "tags": ["a", "b"] });
        c.bench_function(&format!("one before-hook, {kb} KB payload"), |b| {
            b.to_async(&rt).iter(|| async { one.emit_before("items.create.before", EventArgs::with_input(payload.clone(), ctx())).await.unwrap() })
        });
    }
    c.bench_function("ten wildcard before-hooks", |b| {
        b.to_async(&rt).iter(|| async { ten.emit_before("items.create.before", EventArgs::with_input(json!({ "title": "Hello", "body": "World" }), ctx())).await.unwrap() })
    });
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
