//! Measures what Node compatibility costs an isolate: boot time (median of 20 boots), the first
//! use of the Node bundle, and per-call costs. `cargo run --release --example boot_time
//! [-- 'js expression']`: with an expression, evaluates it (awaited) and prints it.
//! `-- --hooks EXTENSIONS_PATH`: loads that folder's hooks into an isolate 4 times (the engine's
//! bytecode cache as `V82JSC_BC_CACHE_DIR` / `V82JSC_NO_BC_CACHE` say) and prints each time.

use rectus_hooks::engine::{build_with, EngineSetup};
use std::collections::HashMap;

use std::time::{Duration, Instant};

fn setup() -> EngineSetup {
    EngineSetup {
        hooks: vec![],
        endpoints: vec![],
        cwd: std::env::current_dir().unwrap().to_string_lossy().into_owned(),
        process_env: HashMap::new(),
        env: serde_json::json!({}),
        max_heap_bytes: 128 << 20,
        host: Default::default(),
        timeout: Duration::from_secs(5),
    }
}

/// Evaluates `expr` in a fresh isolate (with `require` from the working directory), awaits it
/// and returns it as JSON text, and the time taken.
async fn eval(expr: &str) -> (Result<String, String>, Duration) {
    let (mut js, _) = build_with(&setup(), |_| {}).unwrap();
    let code = format!("(async () => {{ const require = __rectus.requireFrom(Deno.core.ops.op_rectus_cwd()); return JSON.stringify(await ({expr})); }})()");
    let start = Instant::now();
    let result = async {
        let promise = js.execute_script("eval", code).map_err(|e| e.to_string())?;
        let resolved = js.resolve(promise);
        let value = js.with_event_loop_promise(resolved, Default::default()).await.map_err(|e| e.to_string())?;
        let js = &mut js;
        rectus_hooks::deno_core::scope!(scope, js);
        let local = rectus_hooks::deno_core::v8::Local::new(scope, value);
        Ok(local.to_rust_string_lossy(scope))
    }
    .await;
    (result, start.elapsed())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        if std::env::args().nth(1).as_deref() == Some("--hooks") {
            let folder = std::path::PathBuf::from(std::env::args().nth(2).expect("--hooks EXTENSIONS_PATH"));
            let hooks = rectus_hooks::loader::discover(&folder).unwrap();
            for run in 1..=4 {
                let start = Instant::now();
                let (js, report) = build_with(&EngineSetup { hooks: hooks.clone(), ..setup() }, |_| {}).unwrap();
                let took = start.elapsed();
                drop(js);
                println!("load {} hooks, run {run}: {took:?} ({} failed{})", hooks.len(), report.failures.len(), report.failures.first().map(|f| format!(", first: {} {}", f.hook, f.error.lines().next().unwrap_or(""))).unwrap_or_default());
            }
            return;
        }
        if let Some(expr) = std::env::args().nth(1) {
            let (result, took) = eval(&expr).await;
            println!("{result:?} in {took:?}");
            return;
        }
        let boots: Vec<Duration> = (0..20)
            .map(|_| {
                let start = Instant::now();
                drop(build_with(&setup(), |_| {}).unwrap());
                start.elapsed()
            })
            .collect();
        println!("isolate boot (no hooks), median of 20: {:?}", median(boots));
        for (what, expr) in [
            ("first require('path')", "require('path') && 1"),
            ("first require('events')", "require('events') && 1"),
            ("first use of Buffer", "Buffer.from('x').length"),
            ("first require('crypto')", "require('crypto').createHash('sha256').update('x').digest('hex').length"),
            ("first require('http') + require('url') + require('stream') (axios's needs)", "require('http') && require('url') && require('stream') && 1"),
            ("knex evaluated (first use of `database`)", "(__rectus.databaseWanted = true, __rectus.warmUp(), 1)"),
            ("all built-ins", "require('module').builtinModules.map((n) => require(n)).length"),
            ("1000 × createHash('sha256') of 1 KiB", "(() => { const c = require('crypto'); const b = Buffer.alloc(1024); const t = Date.now(); for (let i = 0; i < 1000; i++) c.createHash('sha256').update(b).digest('hex'); return Date.now() - t; })()"),
            ("1000 × readFileSync + writeFileSync", "(() => { const fs = require('fs'); const p = '/tmp/rectus-boot-time.txt'; const t = Date.now(); for (let i = 0; i < 1000; i++) { fs.writeFileSync(p, 'x'); fs.readFileSync(p, 'utf8'); } fs.unlinkSync(p); return Date.now() - t; })()"),
        ] {
            let (result, took) = eval(expr).await;
            println!("{what}: {took:?} ({result:?})");
        }
    });
}
