//! `cron(<expr>)` hooks (spec §1.8) in node-cron syntax: 5 fields or 6 with leading seconds,
//! month and weekday names, ranges, steps, lists, weekday 0 and 7 both Sunday, and every field
//! must match (node-cron ANDs day-of-month and day-of-week). Scheduled in the server's local
//! time zone (`TZ`), missed ticks are not caught up, and a tick is skipped while the previous run
//! of the same job is still going.
//!
//! With several instances each tick also needs the job's lease for that tick
//! ([`CronLeases`], `SYNCHRONIZATION_STORE`), so one instance in the cluster runs it. A job is
//! named by its hook, its key and its place among that hook's listeners of the same key, which
//! is the same on every instance loading the same files.

use chrono::{DateTime, Local, TimeZone, Timelike};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use std::sync::atomic::{AtomicBool, Ordering};
use rectus_core::cluster::memory::Unshared;
use rectus_core::cluster::CronLeases;
use std::sync::Arc;
use std::time::Duration;

use crate::HookRuntime;

/// A lease outlives its tick by at least this, so an instance whose clock or scheduler lags
/// this much behind the winner's still sees it taken.
const MIN_LEASE: Duration = Duration::from_secs(10);

/// How long the lease of a tick lasts: a period of the job, at least [`MIN_LEASE`] and at most an
/// hour (a job that runs yearly needs no year-long key).
fn lease_ttl(cron: &Cron, tick: &DateTime<Local>) -> Duration {
    let period = next_after(cron, tick).and_then(|after| (after - *tick).to_std().ok()).unwrap_or(MIN_LEASE);
    period.clamp(MIN_LEASE, Duration::from_secs(3600))
}

/// The expression of a `cron(...)` key: the text between the first `(` and the next `)`.
pub fn expression(key: &str) -> Option<&str> {
    let start = key.find('(')? + 1;
    let end = start + key[start..].find(')')?;
    Some(key[start..end].trim()).filter(|e| !e.is_empty())
}

/// Month and weekday names (full or three letters, any case) to numbers, as node-cron does
/// before validating.
fn names_to_numbers(expr: &str) -> String {
    const MONTHS: [&str; 12] = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
    const DAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    let lower = expr.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let number = MONTHS
            .iter()
            .position(|m| word == m || word == &m[..3])
            .map(|i| i + 1)
            .or_else(|| DAYS.iter().position(|d| word == d || word == &d[..3]));
        match number {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in lower.chars() {
        if c.is_ascii_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

pub fn parse(expr: &str) -> Result<Cron, String> {
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) {
        return Err(format!("expected 5 or 6 fields, got {fields}"));
    }
    let expr = names_to_numbers(expr);
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .dom_and_dow(true)
        .build()
        .parse(&expr)
        .map_err(|e| e.to_string())
}

/// The first tick strictly after `after`, on a whole second as node-cron fires (croner keeps
/// the fraction of `after`; instances sharing leases must agree on the exact tick).
pub fn next_after<Tz: TimeZone>(cron: &Cron, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
    let whole = after.clone().with_nanosecond(0)?;
    cron.find_next_occurrence(&whole, false).ok()
}

/// Schedules every cron listener of `runtime`; invalid expressions are logged and skipped.
pub fn schedule(runtime: &Arc<HookRuntime>) {
    let leases: Arc<dyn CronLeases> = runtime.host().map(|h| h.leases.clone()).unwrap_or_else(|| Arc::new(Unshared));
    let crons = runtime.report().crons.clone();
    for (index, listener) in crons.iter().cloned().enumerate() {
        let twins = crons[..index].iter().filter(|c| c.hook == listener.hook && c.key == listener.key).count();
        let job = format!("{}:{}#{twins}", listener.hook, listener.key);
        let leases = leases.clone();
        let parsed = expression(&listener.key).ok_or_else(|| "empty expression".to_string()).and_then(parse);
        let cron = match parsed {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("Couldn't register cron hook \"{}\". Provided cron is invalid: {} ({e})", listener.hook, listener.key);
                continue;
            }
        };
        let weak = Arc::downgrade(runtime);
        let running = Arc::new(AtomicBool::new(false));
        tokio::spawn(async move {
            let mut from = Local::now();
            while let Some(next) = next_after(&cron, &from) {
                let wait = (next - Local::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                from = next;
                let Some(runtime) = weak.upgrade() else { return };
                if running.swap(true, Ordering::SeqCst) {
                    tracing::warn!("cron hook \"{}\" ({}) is still running; skipping the tick at {next}", listener.hook, listener.key);
                    continue;
                }
                let (running, leases, job) = (running.clone(), leases.clone(), job.clone());
                let (hook, key, id) = (listener.hook.clone(), listener.key.clone(), listener.id);
                let ttl = lease_ttl(&cron, &next);
                tokio::spawn(async move {
                    if !leases.acquire(&job, next.with_timezone(&chrono::Utc), ttl).await {
                        running.store(false, Ordering::SeqCst);
                        return;
                    }
                    if let Err(e) = runtime.run_cron(id, &key, next.with_timezone(&chrono::Utc)).await {
                        tracing::warn!("cron hook \"{hook}\" ({key}) failed: {}", e.message);
                    }
                    running.store(false, Ordering::SeqCst);
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn next(expr: &str, from: &str) -> String {
        let cron = parse(expr).unwrap();
        let from: DateTime<Utc> = from.parse().unwrap();
        next_after(&cron, &from).unwrap().to_rfc3339()
    }

    /// node-cron expressions against their next fire times (from Wed 2021-06-30 10:07:30 UTC).
    #[test]
    fn node_cron_expressions() {
        let from = "2021-06-30T10:07:30Z";
        let table = [
            ("* * * * *", "2021-06-30T10:08:00+00:00"),
            ("*/15 * * * *", "2021-06-30T10:15:00+00:00"),
            ("15 14 1 * *", "2021-07-01T14:15:00+00:00"),
            ("5 4 * * sun", "2021-07-04T04:05:00+00:00"),
            ("5 4 * * 0", "2021-07-04T04:05:00+00:00"),
            ("5 4 * * 7", "2021-07-04T04:05:00+00:00"),
            ("0 9 * * mon-fri", "2021-07-01T09:00:00+00:00"),
            ("0 0 1 jan *", "2022-01-01T00:00:00+00:00"),
            ("0 12 * * monday,friday", "2021-07-02T12:00:00+00:00"),
            ("0 0 1-7 * 1", "2021-07-05T00:00:00+00:00"),
            ("*/10 * * * * *", "2021-06-30T10:07:40+00:00"),
            ("0 30 10 * * *", "2021-06-30T10:30:00+00:00"),
            ("0 8-18/2 * * *", "2021-06-30T12:00:00+00:00"),
        ];
        for (expr, expected) in table {
            assert_eq!(next(expr, from), expected, "{expr}");
        }
    }

    #[test]
    fn ticks_fall_on_whole_seconds() {
        assert_eq!(next("* * * * * *", "2021-06-30T10:07:30.161Z"), "2021-06-30T10:07:31+00:00");
    }

    #[test]
    fn invalid_expressions_are_rejected() {
        for bad in ["bogus", "* * * *", "61 * * * *", "* * * * * * *", "* 25 * * *", "* * * * funday"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_expression() {
        assert_eq!(expression("cron(*/15 * * * *)"), Some("*/15 * * * *"));
        assert_eq!(expression("cron()"), None);
        assert_eq!(expression("cron(bogus"), None);
    }
}
