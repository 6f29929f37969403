//! `--junit FILE`: the same results as JUnit XML, one `<testsuite>` per test file and one
//! `<testcase>` per case; a failing case has a `<failure>` whose text holds every failure and
//! diff, and the hooks' logs go to its `<system-out>`.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::Path;

use super::SuiteResult;

pub fn write(path: &Path, suites: &[SuiteResult]) -> anyhow::Result<()> {
    std::fs::write(path, render(suites)?).map_err(|e| anyhow::anyhow!("can't write {}: {e}", path.display()))
}

fn render(suites: &[SuiteResult]) -> anyhow::Result<String> {
    let mut report = Report::new("rectus hooks test");
    for suite in suites {
        let mut junit_suite = TestSuite::new(suite.name.as_str());
        if let Some(error) = &suite.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(error.as_str());
            junit_suite.add_test_case(TestCase::new("(file)", status));
        }
        for case in &suite.cases {
            let status = if case.failures.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(case.failures[0].what.as_str());
                let text: Vec<String> = case.failures.iter().map(|f| match &f.diff {
                    Some(diff) => format!("{}\n{diff}", f.what),
                    None => f.what.clone(),
                }).collect();
                status.set_description(text.join("\n"));
                status
            };
            let mut test_case = TestCase::new(case.name.as_str(), status);
            test_case.set_classname(suite.name.as_str()).set_time(case.duration);
            if !case.logs.is_empty() {
                test_case.set_system_out(case.logs.join("\n"));
            }
            junit_suite.add_test_case(test_case);
        }
        report.add_test_suite(junit_suite);
    }
    Ok(report.to_string()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::hooks_test::run::{CaseResult, Failure};
    use std::time::Duration;

    #[test]
    fn failures_carry_their_diff_and_logs() {
        let suites = vec![SuiteResult {
            name: "slug.yaml".into(),
            error: None,
            cases: vec![
                CaseResult { name: "ok".into(), failures: vec![], logs: vec![], duration: Duration::from_millis(5) },
                CaseResult {
                    name: "bad <case>".into(),
                    failures: vec![Failure { what: "payload differs".into(), diff: Some("-a\n+b".into()) }],
                    logs: vec!["info hello".into()],
                    duration: Duration::from_millis(7),
                },
            ],
        }];
        let xml = render(&suites).unwrap();
        assert!(xml.contains(r#"tests="2""#) && xml.contains(r#"failures="1""#), "{xml}");
        assert!(xml.contains("bad &lt;case&gt;") && xml.contains("payload differs\n-a\n+b") && xml.contains("<system-out>info hello</system-out>"), "{xml}");
    }
}
