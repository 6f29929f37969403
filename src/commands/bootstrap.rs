//! `rectus bootstrap`.

use rectus_core::config::Config;
use rectus_core::db::bootstrap::{bootstrap, BootstrapOutcome};

pub async fn run(config: Config) -> anyhow::Result<()> {
    let db = super::connect(&config).await?;
    match bootstrap(&db, &config.env).await? {
        BootstrapOutcome::Installed { admin_email, generated_password } => {
            tracing::info!("Installed the system tables");
            match generated_password {
                Some(p) => tracing::info!("Created admin user {admin_email} with password {p}"),
                None => tracing::info!("Created admin user {admin_email}"),
            }
        }
        BootstrapOutcome::AlreadyInstalled => {
            tracing::info!("Database already has the system tables; nothing to do");
        }
    }
    db.close().await;
    Ok(())
}
