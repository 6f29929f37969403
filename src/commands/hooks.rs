//! `rectus hooks list` (or `rectus extensions list`): loads every hook and endpoint of
//! `EXTENSIONS_PATH` the way `start` does and prints what each registered — events, cron
//! schedules with their next tick, an endpoint's routes — and what failed.

use rectus_core::config::Config;
use rectus_hooks::{cron, HookRuntime};
use std::collections::BTreeMap;

pub async fn list(config: Config) -> anyhow::Result<()> {
    let found = rectus_hooks::loader::discover(&config.extensions_path)?;
    let endpoints = rectus_hooks::loader::discover_endpoints(&config.extensions_path)?;
    if found.is_empty() && endpoints.is_empty() {
        println!("No hooks in {0}/hooks and no endpoints in {0}/endpoints", config.extensions_path.display());
        return Ok(());
    }
    let mut single = config.clone();
    single.hooks.pool_size = 1;
    let runtime = tokio::task::spawn_blocking(move || HookRuntime::start(&single)).await?.map_err(|e| anyhow::anyhow!(e))?;
    let report = runtime.report();
    let mut lines: BTreeMap<&str, Vec<String>> = found.iter().map(|h| (h.name.as_str(), vec![])).collect();
    for l in &report.registered {
        lines.entry(l.hook.as_str()).or_default().push(format!("  event  {}", l.event));
    }
    for c in &report.crons {
        let next = cron::expression(&c.key)
            .ok_or_else(|| "empty expression".to_string())
            .and_then(cron::parse)
            .map(|parsed| match cron::next_after(&parsed, &chrono::Local::now()) {
                Some(t) => format!("next {}", t.format("%Y-%m-%d %H:%M:%S %Z")),
                None => "never fires".to_string(),
            })
            .unwrap_or_else(|e| format!("INVALID: {e}"));
        lines.entry(c.hook.as_str()).or_default().push(format!("  cron   {}  ({next})", c.key));
    }
    for f in &report.failures {
        lines.entry(f.hook.as_str()).or_default().push(format!("  FAILED {}", f.error.lines().next().unwrap_or_default()));
    }
    for (hook, entries) in lines {
        println!("{hook}");
        if entries.is_empty() {
            println!("  (registers nothing)");
        }
        for e in entries {
            println!("{e}");
        }
    }
    let mut lines: BTreeMap<&str, Vec<String>> = endpoints.iter().map(|h| (h.name.as_str(), vec![])).collect();
    for e in &report.endpoints {
        let entries = lines.entry(e.name.as_str()).or_default();
        entries.push(format!("  mount  {}", e.route));
        entries.extend(e.routes.iter().map(|r| format!("  route  {r}")));
    }
    for f in &report.endpoint_failures {
        lines.entry(f.hook.as_str()).or_default().push(format!("  FAILED {}", f.error.lines().next().unwrap_or_default()));
    }
    for (endpoint, entries) in lines {
        println!("{endpoint}  (endpoint)");
        for e in entries {
            println!("{e}");
        }
    }
    Ok(())
}
