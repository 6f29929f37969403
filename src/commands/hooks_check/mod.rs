//! `rectus hooks check [PATH]`.

use rectus_core::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

pub async fn run(_config: &Config, _path: Option<PathBuf>, _deny_warnings: bool) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
