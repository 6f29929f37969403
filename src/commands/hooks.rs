//! `rectus hooks list`: loads every hook of `EXTENSIONS_PATH` the way `start` does and prints
//! what each registered — events, cron schedules with their next tick — and what failed.

use rectus_core::config::Config;
use rectus_hooks::{cron, HookRuntime};
use std::collections::BTreeMap;

pub async fn list(config: Config) -> anyhow::Result<()> {
    let found = rectus_hooks::loader::discover(&config.extensions_path)?;
    if found.is_empty() {
        println!("No hooks in {}/hooks", config.extensions_path.display());
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
    Ok(())
}
