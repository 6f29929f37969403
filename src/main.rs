//! The `rectus` binary: reads the Directus configuration and runs a command.

mod allocator;
#[cfg(target_os = "linux")]
mod c_malloc;
#[cfg(target_os = "linux")]
mod code_pages;
mod commands;
mod logging;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;


#[derive(Parser)]
#[command(name = "rectus", version, about = "A Directus v9 compatible API core that runs Directus JS hooks unmodified")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the system tables and the first admin user (ADMIN_EMAIL / ADMIN_PASSWORD); idempotent.
    Bootstrap,
    /// Serve the API.
    Start,
    /// Inspect the hooks and endpoints of EXTENSIONS_PATH (also `rectus extensions …`).
    #[command(visible_alias = "extensions")]
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
}

#[derive(Subcommand)]
enum HooksCommand {
    /// Print every hook with its events and cron schedules (next tick), every endpoint with its
    /// routes, and load failures.
    List,
    /// Run the YAML test cases of the hooks (`<hook>/tests/*.yaml`); exits 1 if any fails.
    Test {
        /// A test file, a hook folder, an extensions folder or any folder of test files
        /// [default: EXTENSIONS_PATH].
        path: Option<PathBuf>,
        /// Also write the results as JUnit XML to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Load every hook and endpoint and report problems (events nothing fires, bad cron
    /// expressions, missing packages, unsupported Node built-ins); exits 1 on errors.
    Check {
        /// An extensions folder or one hook folder [default: EXTENSIONS_PATH].
        path: Option<PathBuf>,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("ERROR can't read the working directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = match rectus_core::config::Config::from_process(&cwd) {
        Ok(c) => c,
        Err(e) => {
            logging::init("info", "pretty");
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // The hook commands report what the hooks log themselves; other log lines would only
    // interleave with their reports.
    match &cli.command {
        Command::Hooks { command: HooksCommand::Test { .. } } => commands::hooks_test::log_capture::install(),
        Command::Hooks { command: HooksCommand::Check { .. } } => logging::init("error", &config.log_style),
        _ => logging::init(&config.log_level, &config.log_style),
    }
    // Before any thread starts: the engine reads its cache settings from the environment.
    rectus_hooks::code_cache::configure(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("can't start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Bootstrap => commands::bootstrap::run(config).await.map(|()| ExitCode::SUCCESS),
            Command::Start => commands::start::run(config).await.map(|()| ExitCode::SUCCESS),
            Command::Hooks { command: HooksCommand::List } => commands::hooks::list(config).await.map(|()| ExitCode::SUCCESS),
            Command::Hooks { command: HooksCommand::Test { path, junit } } => commands::hooks_test::run(&config.extensions_path, path, junit).await,
            Command::Hooks { command: HooksCommand::Check { path, deny_warnings } } => {
                commands::hooks_check::run(&config, path, deny_warnings).await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
