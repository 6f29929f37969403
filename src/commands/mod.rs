pub mod bootstrap;
pub mod hooks;
pub mod hook_links;
pub mod hooks_check;
pub mod hooks_test;
pub mod start;

use anyhow::Context;
use rectus_core::config::Config;
use rectus_core::db::Database;

/// Connects to the configured database with a message that names the engine.
pub async fn connect(config: &Config) -> anyhow::Result<Database> {
    Database::connect(&config.db)
        .await
        .with_context(|| format!("can't connect to the database (DB_CLIENT={})", config.db.client.directus_name()))
}
