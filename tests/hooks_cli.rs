//! `rectus hooks test` and `rectus hooks check` as CI runs them: the real binary on the
//! repository's example hooks (whose cases must pass) and on fixtures built to fail.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hooks(args: &[&str]) -> (Option<i32>, String) {
    let out: Output = run_cli(&repo(), &[], &[&["hooks"], args].concat());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code(), format!("{stdout}{stderr}"))
}

#[test]
fn the_example_hooks_pass_their_own_tests() {
    let (code, out) = hooks(&["test", "extensions"]);
    assert_eq!(code, Some(0), "{out}");
    for line in ["extensions/hooks/slug/tests/slug.yaml", "✓ fills the slug from the title", "✓ a blank title is a 400 and nothing is written", "✓ logs a create with the user"] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert!(out.contains("hooks test: 11 passed, 0 failed"), "{out}");
}

#[test]
fn cases_reach_services_knex_cron_and_the_outbound_mock() {
    let (code, out) = hooks(&["test", "fixtures/hooks-test/passing"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("hooks test: 5 passed, 0 failed"), "{out}");
}

#[test]
fn failing_cases_are_reported_with_diffs_and_as_junit_xml() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let (code, out) = hooks(&["test", "fixtures/hooks-test/failing", "--junit", junit.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    for expected in [
        // A wrong expectation: the payload diff shows expected against actual.
        "✗ wrong slug",
        "payload differs",
        "-  \"slug\": \"hello_world\"",
        "+  \"slug\": \"hello-world\"",
        "rows of articles differ",
        "✓ passes",
        // Exceptions that don't match.
        "wrong exception: expected class ForbiddenException (code FORBIDDEN), got code INVALID_PAYLOAD",
        "expected the hooks to throw INVALID_PAYLOAD, but nothing was thrown",
        "the hooks threw INVALID_PAYLOAD (400): \"title\" must not be empty",
        // Sent mail that differs: the address diff, and a text that isn't in the message.
        "message 1 differs",
        "-    \"boss@example.com\"",
        "+    \"sales@example.com\"",
        "message 1: its text doesn't contain \"ordered for 301\"",
        "hooks test: 1 passed, 6 failed",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
    let report = quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&junit).unwrap()).expect("valid JUnit XML");
    assert_eq!((report.tests, report.failures, report.errors), (7, 6, 0));
    let suite = report.test_suites.iter().find(|s| s.name.as_str().ends_with("wrong-expectation.yaml")).unwrap();
    let wrong = suite.test_cases.iter().find(|c| c.name.as_str() == "wrong slug").unwrap();
    match &wrong.status {
        quick_junit::TestCaseStatus::NonSuccess { message, description, .. } => {
            assert_eq!(message.as_ref().map(|m| m.as_str()), Some("payload differs"));
            assert!(description.as_ref().is_some_and(|d| d.as_str().contains("+  \"slug\": \"hello-world\"")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_file_that_cannot_run_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orphan.yaml");
    std::fs::write(&file, "cases:\n  - name: x\n    event: init\n").unwrap();
    let (code, out) = hooks(&["test", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not inside a hook folder") && out.contains("0 passed, 1 failed"), "{out}");
    std::fs::write(&file, "cases:\n  - name: x\n    event: init\n    expect: { payloads: {} }\n").unwrap();
    let (code, out) = hooks(&["test", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("unknown field `payloads`"), "{out}");
}

#[test]
fn check_passes_the_example_hooks() {
    let (code, out) = hooks(&["check", "extensions"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("✓ event items.create.before") && out.contains("hooks check: 3 hooks, 0 errors, 0 warnings"), "{out}");
}

#[test]
fn check_reports_each_kind_of_problem() {
    let (code, out) = hooks(&["check", "fixtures/hooks-test/check"]);
    assert_eq!(code, Some(1), "{out}");
    for expected in [
        "⚠ warning: event \"items.craete\" is never emitted (did you mean \"items.create\"?)",
        "✓ event items.create.before",
        "✓ cron(*/15 * * * *)  next ",
        "✗ error: cron(bogus) is not a valid cron expression",
        "✗ error: requires \"axios\" (index.js), which does not resolve",
        "✗ error: requires Node built-in \"vm\" (index.js), which Rectus does not provide",
        "✗ error: failed to register: Error: MISSING_SETTING is not set",
        "hooks check: 2 hooks, 4 errors, 1 warning",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
    // What Rectus provides itself is not reported.
    assert!(!out.contains("\"path\"") && !out.contains("directus/dist/logger"), "{out}");
}

#[test]
fn warnings_fail_the_check_only_when_denied() {
    let hook = Path::new("fixtures/hooks-test/warning-only");
    let (code, out) = hooks(&["check", hook.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("event \"items.read.before\" is never emitted"), "{out}");
    let (code, out) = hooks(&["check", hook.to_str().unwrap(), "--deny-warnings"]);
    assert_eq!(code, Some(1), "{out}");
}

#[test]
fn a_missing_path_is_an_error_on_stderr() {
    let (code, out) = hooks(&["test", "no/such/folder"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ERROR can't read no/such/folder"), "{out}");
}
