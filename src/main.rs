//! The `rectus` binary: reads the Directus configuration and runs a command.

mod commands;
mod logging;

use clap::{Parser, Subcommand};
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
    /// Inspect the hooks of EXTENSIONS_PATH.
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
}

#[derive(Subcommand)]
enum HooksCommand {
    /// Print every hook with its events, cron schedules (next tick) and load failures.
    List,
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
    logging::init(&config.log_level, &config.log_style);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("can't start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Bootstrap => commands::bootstrap::run(config).await,
            Command::Start => commands::start::run(config).await,
            Command::Hooks { command: HooksCommand::List } => commands::hooks::list(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
