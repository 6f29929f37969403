//! `ServerService` (spec §4.4, §7.4): `serverInfo()` behind `/server/info` and `health()` behind
//! `/server/health`, for the routes and for hooks.
//!
//! Decisions:
//! - Admins' info names the Directus version Rectus is compatible with, and reports the
//!   runtime under `node` the way hooks see it (`process.version`), plus the real OS facts.
//! - Health checks the database (a round trip, 150 ms warns) and every storage location (write,
//!   read and delete a probe file, 750 ms warns), as Directus does; mail, cache and rate limiter
//!   checks are left out. Only admins see the checks; everyone sees `status`.

use sea_query::{Alias, Query};
use serde_json::{json, Map, Value};
use std::time::Instant;

use super::Services;
use crate::auth::Accountability;
use crate::storage::ByteStream;
use crate::ApiError;

/// `{project: {...}}`, plus `directus`, `node` and `os` for admins.
pub async fn info(services: &Services, caller: Option<&Accountability>) -> Result<Value, ApiError> {
    let columns = ["project_name", "project_logo", "project_color", "public_foreground", "public_background", "public_note", "custom_css"];
    let query = Query::select().columns(columns.map(Alias::new)).from(Alias::new("directus_settings")).limit(1).to_owned();
    let project = match services.db.run(&query).await?.rows.into_iter().next() {
        Some(row) => Value::Object(row),
        None => json!({
            "project_name": "Directus",
            "project_logo": null,
            "project_color": "#00C897",
            "public_foreground": null,
            "public_background": null,
            "public_note": null,
            "custom_css": null
        }),
    };
    let mut data = Map::new();
    data.insert("project".into(), project);
    if caller.is_some_and(|a| a.admin) {
        data.insert("directus".into(), json!({ "version": crate::DIRECTUS_COMPAT_VERSION }));
        data.insert("node".into(), json!({ "version": "v16.0.0", "uptime": process_uptime_seconds() }));
        data.insert("os".into(), json!({ "type": std::env::consts::OS, "version": os_release(), "uptime": system_uptime_seconds(), "totalmem": total_memory_bytes() }));
    }
    Ok(Value::Object(data))
}

fn process_uptime_seconds() -> u64 {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    STARTED.get_or_init(Instant::now).elapsed().as_secs()
}

fn os_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}

fn system_uptime_seconds() -> u64 {
    std::fs::read_to_string("/proc/uptime").ok().and_then(|s| s.split('.').next()?.parse().ok()).unwrap_or(0)
}

fn total_memory_bytes() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// One check result in the health+json format.
fn check(kind: &str, started: Instant, threshold_ms: u128, error: Option<String>) -> Value {
    let elapsed = started.elapsed().as_millis();
    let status = if error.is_some() { "error" } else if elapsed > threshold_ms { "warn" } else { "ok" };
    let mut out = json!({ "status": status, "componentType": kind, "observedValue": elapsed as u64, "observedUnit": "ms", "threshold": threshold_ms as u64 });
    if let Some(e) = error {
        out["output"] = json!(e);
    }
    out
}

/// The health report: `status` `ok`, `warn` or `error`; `releaseId`, `serviceId` (`KEY`) and the
/// `checks` for admins.
pub async fn health(services: &Services, caller: Option<&Accountability>, service_id: &str) -> Value {
    let mut checks = Map::new();
    let started = Instant::now();
    let db_error = services.db.query("SELECT 1", &[]).await.err().map(|e| e.message());
    checks.insert(format!("{}:responseTime", services.db.client().directus_name()), json!([check("datastore", started, 150, db_error)]));
    for (name, driver) in services.storage.locations() {
        let started = Instant::now();
        let probe = format!("health-{}", uuid::Uuid::new_v4().simple());
        let result = async {
            let body: ByteStream<'_> = Box::pin(futures_util::stream::once(async { Ok(bytes::Bytes::from_static(b"check")) }));
            driver.put(&probe, body).await?;
            driver.stat(&probe).await?.ok_or_else(|| std::io::Error::other("the probe file vanished"))?;
            driver.delete(&probe).await
        }
        .await;
        checks.insert(format!("storage:{name}:responseTime"), json!([check("objectstore", started, 750, result.err().map(|e| e.to_string()))]));
    }
    let statuses: Vec<&str> = checks.values().flat_map(|c| c.as_array().into_iter().flatten()).filter_map(|c| c["status"].as_str()).collect();
    let status = if statuses.contains(&"error") { "error" } else if statuses.contains(&"warn") { "warn" } else { "ok" };
    if !caller.is_some_and(|a| a.admin) {
        return json!({ "status": status });
    }
    json!({ "status": status, "releaseId": crate::DIRECTUS_COMPAT_VERSION, "serviceId": service_id, "checks": checks })
}
