//! `rectus hooks test [PATH] [--junit FILE]`: runs the declarative test cases that live next to
//! hooks against the real hook runtime and services, prints a report and exits 1 if any case
//! failed.
//!
//! Which files: PATH (default `EXTENSIONS_PATH`) may be one YAML file, or a folder searched
//! recursively for `*.yaml`/`*.yml` (skipping `node_modules` and dot-folders). In an extensions
//! folder (one with `hooks/`) or a hook folder (one with `index.js`) only files inside a `tests`
//! folder count, so a hook's own YAML files are never taken for tests.
//!
//! Which hooks a file loads: its `hooks:` list (folders relative to the file), else the hook
//! folder it lives in. Only those hooks load, each case in its own sandbox (`sandbox.rs`), so
//! module-level state in a hook never leaks from one case into the next.
//!
//! The case format is in `case.rs`; matching rules in `compare.rs`.

mod case;
mod compare;
mod junit;
pub mod log_capture;
mod mock_server;
mod report;
mod run;
mod sandbox;
mod settle;

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use case::TestFile;
use run::{CaseResult, Shared};
use sandbox::Template;

/// The results of one test file.
pub struct SuiteResult {
    pub name: String,
    /// Why the file could not be run at all.
    pub error: Option<String>,
    pub cases: Vec<CaseResult>,
}

pub async fn run(default_path: &Path, path: Option<PathBuf>, junit_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    // Log lines are collected for the cases (`log_capture`), so the runner's own errors would
    // vanish with them: they are printed here.
    match run_files(default_path, path, junit_file).await {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("ERROR {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn run_files(default_path: &Path, path: Option<PathBuf>, junit_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let root = path.unwrap_or_else(|| default_path.to_path_buf());
    let files = test_files(&root).with_context(|| format!("can't read {}", root.display()))?;
    if files.is_empty() {
        println!("No hook tests in {}", root.display());
        return Ok(ExitCode::SUCCESS);
    }
    let template = Template::create().await?;
    let cwd = std::env::current_dir()?;
    let mut suites = vec![];
    for file in files {
        let name = file.strip_prefix(&cwd).unwrap_or(&file).display().to_string();
        report::suite_header(&name);
        let suite = match load(&file) {
            Ok((parsed, hooks)) => {
                let shared = Shared { hooks: &hooks, env: &parsed.env, collections: &parsed.collections };
                let mut cases = vec![];
                for case in &parsed.cases {
                    let result = run::run_case(&template, &shared, case).await;
                    report::case(&result);
                    cases.push(result);
                }
                SuiteResult { name, error: None, cases }
            }
            Err(e) => {
                let error = format!("{e:#}");
                report::broken_file(&error);
                SuiteResult { name, error: Some(error), cases: vec![] }
            }
        };
        suites.push(suite);
    }
    report::summary(&suites);
    if let Some(junit_file) = junit_file {
        junit::write(&junit_file, &suites)?;
    }
    let (_, failed) = report::counts(&suites);
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The parsed file and the hook folders it loads.
fn load(file: &Path) -> anyhow::Result<(TestFile, Vec<PathBuf>)> {
    let text = std::fs::read_to_string(file)?;
    let parsed: TestFile = serde_yaml::from_str(&text).context("not a valid hook test file")?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let hooks = match &parsed.hooks {
        Some(list) => list.paths(dir),
        None => vec![dir
            .ancestors()
            .find(|d| d.join("index.js").is_file())
            .map(Path::to_path_buf)
            .context("the file is not inside a hook folder; say which hooks to load with `hooks:`")?],
    };
    Ok((parsed, hooks))
}

fn test_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let only_in_tests = root.join("hooks").is_dir() || root.join("index.js").is_file();
    let mut found = vec![];
    collect(root, only_in_tests, false, &mut found)?;
    found.sort();
    Ok(found)
}

fn collect(dir: &Path, only_in_tests: bool, in_tests: bool, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if name != "node_modules" && !name.starts_with('.') {
                collect(&path, only_in_tests, in_tests || name == "tests", found)?;
            }
        } else if (name.ends_with(".yaml") || name.ends_with(".yml")) && (in_tests || !only_in_tests) {
            found.push(path);
        }
    }
    Ok(())
}
