//! `rectus hooks check [PATH] [--deny-warnings]` (or `rectus extensions check`): loads every
//! hook and endpoint the way `start` does and reports, per extension, what it registered and
//! what is wrong with it, for people and for CI.
//!
//! Errors (exit 1): a hook or endpoint that fails to register; an invalid cron expression; a required
//! package that resolves neither to something Rectus provides nor through `node_modules`; a
//! Node built-in Rectus doesn't provide. Warnings (exit 0 unless `--deny-warnings`): an event
//! no emit point fires (`known_events.rs`), a hook that registers nothing.
//!
//! What Rectus provides is asked of the hook runtime itself rather than listed here: a probe
//! hook, loaded in a runtime of its own, tries to `require` each bare specifier the hooks use
//! and registers one event per success. So the answer can't drift from the loader.

mod known_events;
mod requires;

use anyhow::anyhow;
use rectus_core::config::Config;
use rectus_hooks::loader::HookEntry;
use rectus_hooks::{cron, HookRuntime};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use requires::Required;

#[derive(Default)]
struct HookReport {
    lines: Vec<String>,
    errors: usize,
    warnings: usize,
}

impl HookReport {
    fn info(&mut self, line: String) {
        self.lines.push(format!("  ✓ {line}"));
    }

    fn warning(&mut self, line: String) {
        self.warnings += 1;
        self.lines.push(format!("  ⚠ warning: {line}"));
    }

    fn error(&mut self, line: String) {
        self.errors += 1;
        self.lines.push(format!("  ✗ error: {line}"));
    }
}

pub async fn run(config: &Config, path: Option<PathBuf>, deny_warnings: bool) -> anyhow::Result<ExitCode> {
    let path = path.unwrap_or_else(|| config.extensions_path.clone());
    // A single hook (or endpoint, inside an `endpoints` folder) is checked through a temporary
    // extensions folder holding only it.
    let linked = tempfile::tempdir()?;
    let extensions = if path.join("index.js").is_file() {
        let in_endpoints = std::fs::canonicalize(&path)?.parent().and_then(Path::file_name).is_some_and(|n| n == "endpoints");
        crate::commands::hook_links::link_as(linked.path(), if in_endpoints { "endpoints" } else { "hooks" }, &[path.clone()])?;
        linked.path().to_path_buf()
    } else {
        path.clone()
    };
    let found = rectus_hooks::loader::discover(&extensions)?;
    let endpoints = rectus_hooks::loader::discover_endpoints(&extensions)?;
    if found.is_empty() && endpoints.is_empty() {
        println!("No hooks or endpoints in {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = start(config, &extensions).await?;
    // Reports are keyed by label: the hook's name, or the endpoint's with " (endpoint)".
    let entries: Vec<(String, &HookEntry)> =
        found.iter().map(|h| (h.name.clone(), h)).chain(endpoints.iter().map(|e| (endpoint_label(&e.name), e))).collect();
    let required: Vec<(String, Vec<Required>)> = entries.iter().map(|(label, h)| (label.clone(), requires::scan(Path::new(&h.path)))).collect();
    let bare: BTreeSet<String> = required.iter().flat_map(|(_, r)| r.iter().map(|r| r.specifier.clone())).collect();
    let provided = provided_by_rectus(config, &bare).await?;

    let mut reports: BTreeMap<String, HookReport> = entries.iter().map(|(label, _)| (label.clone(), HookReport::default())).collect();
    let load = runtime.report();
    for listener in &load.registered {
        let report = reports.entry(listener.hook.clone()).or_default();
        if known_events::can_fire(&listener.event) {
            report.info(format!("event {}", listener.event));
        } else {
            let hint = known_events::suggestion(&listener.event).map(|s| format!(" (did you mean \"{s}\"?)")).unwrap_or_default();
            report.warning(format!("event \"{}\" is never emitted{hint}", listener.event));
        }
    }
    for listener in &load.crons {
        let report = reports.entry(listener.hook.clone()).or_default();
        match cron::expression(&listener.key).ok_or_else(|| "empty expression".to_string()).and_then(cron::parse) {
            Ok(parsed) => match cron::next_after(&parsed, &chrono::Local::now()) {
                Some(next) => report.info(format!("{}  next {}", listener.key, next.format("%Y-%m-%d %H:%M:%S %Z"))),
                None => report.warning(format!("{} never fires", listener.key)),
            },
            Err(e) => report.error(format!("{} is not a valid cron expression: {e}", listener.key)),
        }
    }
    for endpoint in &load.endpoints {
        let report = reports.entry(endpoint_label(&endpoint.name)).or_default();
        report.info(format!("mounted at {}", endpoint.route));
        for route in &endpoint.routes {
            report.info(format!("route {route}"));
        }
    }
    for (label, list) in &required {
        let entry = entries.iter().find(|(l, _)| l == label).map(|(_, h)| hook_dir(h)).unwrap_or_default();
        let report = reports.entry(label.clone()).or_default();
        for r in list {
            let file = r.file.strip_prefix(&entry).unwrap_or(&r.file).display().to_string();
            if provided.contains(&r.specifier) || requires::resolves_from(&r.file, &r.specifier) {
                continue;
            }
            if requires::is_node_builtin(&r.specifier) {
                report.error(format!("requires Node built-in \"{}\" ({file}), which Rectus does not provide", r.specifier));
            } else {
                report.error(format!("requires \"{}\" ({file}), which does not resolve: install it in the hook's node_modules", r.specifier));
            }
        }
    }
    for failure in &load.failures {
        let first = failure.error.lines().next().unwrap_or_default();
        reports.entry(failure.hook.clone()).or_default().error(format!("failed to register: {first}"));
    }
    for failure in &load.endpoint_failures {
        let first = failure.error.lines().next().unwrap_or_default();
        reports.entry(endpoint_label(&failure.hook)).or_default().error(format!("failed to register: {first}"));
    }
    let registered_nothing: Vec<&str> = found.iter().map(|h| h.name.as_str()).filter(|h| {
        !load.registered.iter().any(|l| l.hook == *h) && !load.crons.iter().any(|c| c.hook == *h) && !load.failures.iter().any(|f| f.hook == *h)
    }).collect();
    for hook in registered_nothing {
        reports.entry(hook.to_string()).or_default().warning("registers no events (an async register function registers nothing)".into());
    }

    let (mut errors, mut warnings) = (0, 0);
    for (label, hook) in &entries {
        let report = &reports[label];
        let dir = hook_dir(hook);
        println!("{label}  ({})", dir.strip_prefix(&config.cwd).unwrap_or(&dir).display());
        for line in &report.lines {
            println!("{line}");
        }
        errors += report.errors;
        warnings += report.warnings;
    }
    println!();
    let endpoints = if endpoints.is_empty() { String::new() } else { format!("{}, ", count(endpoints.len(), "endpoint")) };
    println!("hooks check: {}, {endpoints}{}, {}", count(found.len(), "hook"), count(errors, "error"), count(warnings, "warning"));
    Ok(if errors > 0 || (deny_warnings && warnings > 0) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn endpoint_label(name: &str) -> String {
    format!("{name} (endpoint)")
}

fn hook_dir(hook: &HookEntry) -> PathBuf {
    Path::new(&hook.path).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A runtime of one isolate over `extensions`, with the process's configuration otherwise.
async fn start(config: &Config, extensions: &Path) -> anyhow::Result<Arc<HookRuntime>> {
    let mut single = config.clone();
    single.hooks.pool_size = 1;
    single.extensions_path = extensions.to_path_buf();
    tokio::task::spawn_blocking(move || HookRuntime::start(&single)).await?.map_err(|e| anyhow!("can't start the hook runtime: {e}"))
}

/// The specifiers among `bare` that Rectus's loader provides itself (built-ins, Directus's
/// logger), found by a probe hook in a folder with no `node_modules` around it.
async fn provided_by_rectus(config: &Config, bare: &BTreeSet<String>) -> anyhow::Result<BTreeSet<String>> {
    if bare.is_empty() {
        return Ok(BTreeSet::new());
    }
    let dir = tempfile::tempdir()?;
    let probe = dir.path().join("hooks").join("probe");
    std::fs::create_dir_all(&probe)?;
    let names = serde_json::to_string(bare)?;
    std::fs::write(
        probe.join("index.js"),
        format!(
            "module.exports = function () {{\n  const provided = {{}};\n  for (const name of {names}) {{\n    try {{ require(name); provided['provided.' + name] = () => {{}}; }} catch (e) {{}}\n  }}\n  return provided;\n}};\n"
        ),
    )?;
    let runtime = start(config, dir.path()).await?;
    Ok(runtime.report().registered.iter().filter_map(|l| l.event.strip_prefix("provided.").map(String::from)).collect())
}
