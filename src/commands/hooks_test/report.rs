//! The console report: one line per case (✓ or ✗), under a failing case what went wrong with
//! a unified diff of expected against actual JSON and the lines the hooks logged, and a summary.

use super::run::CaseResult;
use super::SuiteResult;

pub fn suite_header(name: &str) {
    println!("{name}");
}

pub fn case(result: &CaseResult) {
    let ms = result.duration.as_millis();
    if result.failures.is_empty() {
        println!("  ✓ {} ({ms} ms)", result.name);
        return;
    }
    println!("  ✗ {} ({ms} ms)", result.name);
    for failure in &result.failures {
        println!("      {}", failure.what);
        if let Some(diff) = &failure.diff {
            for line in diff.lines() {
                println!("        {line}");
            }
        }
    }
    if !result.logs.is_empty() {
        println!("      logs:");
        for line in &result.logs {
            println!("        {line}");
        }
    }
}

/// A file that could not be run at all (unreadable, invalid YAML, no hooks to load).
pub fn broken_file(error: &str) {
    println!("  ✗ {error}");
}

pub fn summary(suites: &[SuiteResult]) {
    let (passed, failed) = counts(suites);
    println!();
    println!("hooks test: {passed} passed, {failed} failed");
}

/// Passed and failed cases; a file that could not be run counts as one failed case.
pub fn counts(suites: &[SuiteResult]) -> (usize, usize) {
    let cases = suites.iter().flat_map(|s| &s.cases);
    let passed = cases.clone().filter(|c| c.failures.is_empty()).count();
    let failed = cases.filter(|c| !c.failures.is_empty()).count() + suites.iter().filter(|s| s.error.is_some()).count();
    (passed, failed)
}
