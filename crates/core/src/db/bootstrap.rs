//! `rectus bootstrap`: install the system tables and the first admin, or report that the
//! database is already installed and change nothing (like `directus bootstrap`).

use sea_query::{Alias, Query};
use super::system_tables::{tables, INSTALLED_MARKER};
use super::{Database, DbError};
use crate::auth::password;
use crate::config::Env;

#[derive(Debug, PartialEq, Eq)]
pub enum BootstrapOutcome {
    Installed { admin_email: String, generated_password: Option<String> },
    AlreadyInstalled,
}

/// The migrations of Directus rc.83 (`database/migrations`), recorded as done: the tables
/// Rectus creates are the ones they leave behind, so Directus pointed at a database Rectus made
/// (`directus database migrate:latest`, `directus start`) finds nothing to migrate and takes it
/// as its own — a team can always go back.
pub const RC83_MIGRATIONS: &[(&str, &str)] = &[
    ("20201028A", "Remove Collection Foreign Keys"),
    ("20201029A", "Remove System Relations"),
    ("20201029B", "Remove System Collections"),
    ("20201029C", "Remove System Fields"),
    ("20201105A", "Add Cascade System Relations"),
    ("20201105B", "Change Webhook URL Type"),
    ("20210225A", "Add Relations Sort Field"),
    ("20210304A", "Remove Locked Fields"),
    ("20210312A", "Webhooks Collections Text"),
    ("20210331A", "Add Refresh Interval"),
    ("20210415A", "Make Filesize Nullable"),
    ("20210416A", "Add Collections Accountability"),
    ("20210422A", "Remove Files Interface"),
    ("20210506A", "Rename Interfaces"),
    ("20210510A", "Restructure Relations"),
    ("20210518A", "Add Foreign Key Constraints"),
    ("20210519A", "Add System Fk Triggers"),
    ("20210521A", "Add Collections Icon Color"),
    ("20210608A", "Add Deep Clone Config"),
    ("20210626A", "Change Filesize Bigint"),
];

pub async fn is_installed(db: &Database) -> Result<bool, DbError> {
    Ok(db.table_names().await?.iter().any(|t| t == INSTALLED_MARKER))
}

/// Creates every system table, records rc.83's migrations as done, and adds the Admin role and
/// the admin user, in one transaction
/// (where the engine has transactional DDL; MySQL commits DDL implicitly).
pub async fn bootstrap(db: &Database, env: &Env) -> Result<BootstrapOutcome, DbError> {
    if is_installed(db).await? {
        return Ok(BootstrapOutcome::AlreadyInstalled);
    }
    let mut tx = db.begin().await?;
    for table in tables() {
        let sql = db.build_schema(&table.create_statement(db.client()));
        tx.query(&sql, &[]).await?;
    }

    for (version, name) in RC83_MIGRATIONS {
        let done = Query::insert()
            .into_table(Alias::new("directus_migrations"))
            .columns([Alias::new("version"), Alias::new("name")])
            .values_panic([(*version).into(), (*name).into()])
            .to_owned();
        tx.run(&done).await?;
    }

    let role_id = uuid::Uuid::new_v4().to_string();
    let insert_role = Query::insert()
        .into_table(Alias::new("directus_roles"))
        .columns([Alias::new("id"), Alias::new("name"), Alias::new("icon"), Alias::new("admin_access"), Alias::new("app_access")])
        .values_panic([role_id.clone().into(), "Admin".into(), "supervised_user_circle".into(), true.into(), true.into()])
        .to_owned();
    tx.run(&insert_role).await?;

    let admin_email = env.string("ADMIN_EMAIL").filter(|s| !s.is_empty()).unwrap_or_else(|| "admin@example.com".into());
    let (admin_password, generated_password) = match env.string("ADMIN_PASSWORD").filter(|s| !s.is_empty()) {
        Some(p) => (p, None),
        None => {
            let p = random_password();
            (p.clone(), Some(p))
        }
    };
    let insert_user = Query::insert()
        .into_table(Alias::new("directus_users"))
        .columns([Alias::new("id"), Alias::new("email"), Alias::new("password"), Alias::new("role"), Alias::new("status")])
        .values_panic([
            uuid::Uuid::new_v4().to_string().into(),
            admin_email.clone().into(),
            password::hash(&admin_password).into(),
            role_id.into(),
            "active".into(),
        ])
        .to_owned();
    tx.run(&insert_user).await?;

    if let Some(name) = env.string("PROJECT_NAME").filter(|s| !s.is_empty()) {
        let insert_settings = Query::insert()
            .into_table(Alias::new("directus_settings"))
            .columns([Alias::new("project_name")])
            .values_panic([name.into()])
            .to_owned();
        tx.run(&insert_settings).await?;
    }
    tx.commit().await?;
    Ok(BootstrapOutcome::Installed { admin_email, generated_password })
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut rng = rand::thread_rng();
    (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}
