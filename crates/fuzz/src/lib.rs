//! The driver of the fuzz targets (proptest, stable toolchain): the core's, which run through the
//! services to SQLite (`crates/core/src/fuzz.rs`), and the HTTP-level ones against the running
//! server (`tests/fuzz_http.rs`). `cargo test` runs `FUZZ_CASES` cases per target; `scripts/fuzz`
//! sets `FUZZ_SECONDS` and reports the executions each target ran (see the README).

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Runs `check` on values of `strategy`: `FUZZ_CASES` cases (default `default_cases`), or, with
/// `FUZZ_SECONDS`, batches of eight times `default_cases` until that time has passed (a slower
/// target looks at the clock more often). A failure is shrunk and reported with its input; the
/// count is printed.
pub fn run<S: Strategy>(name: &str, default_cases: u32, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let seconds: Option<u64> = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok());
    let cases: u32 = std::env::var("FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default_cases);
    let started = Instant::now();
    let executions = AtomicU64::new(0);
    loop {
        let config = Config { cases: if seconds.is_some() { default_cases * 8 } else { cases }, failure_persistence: None, ..Config::default() };
        let result = TestRunner::new(config).run(&strategy, |value| {
            executions.fetch_add(1, Ordering::Relaxed);
            check(value)
        });
        if let Err(e) = result {
            panic!("fuzz {name}: {e}");
        }
        if seconds.is_none_or(|s| started.elapsed().as_secs() >= s) {
            break;
        }
    }
    println!("fuzz {name}: {} executions in {:.1} s, no failure", executions.load(Ordering::Relaxed), started.elapsed().as_secs_f64());
}
