//! Built-in metadata of the system collections, which Directus keeps in code, not in the
//! database (spec §8.3): singletons, accountability, and the `special` flags of system fields.

#[derive(Clone, Copy)]
pub struct SystemCollection {
    pub singleton: bool,
    pub accountability: Option<&'static str>,
}

pub fn collection(table: &str) -> Option<SystemCollection> {
    if !table.starts_with("directus_") {
        return None;
    }
    Some(match table {
        "directus_settings" => SystemCollection { singleton: true, accountability: Some("all") },
        "directus_activity" | "directus_revisions" | "directus_sessions" | "directus_migrations" => {
            SystemCollection { singleton: false, accountability: None }
        }
        _ => SystemCollection { singleton: false, accountability: Some("all") },
    })
}

pub fn field_special(table: &str, field: &str) -> &'static [&'static str] {
    match (table, field) {
        ("directus_users" | "directus_roles" | "directus_files" | "directus_folders", "id") => &["uuid"],
        ("directus_users", "password") => &["hash", "conceal"],
        ("directus_users", "token") => &["conceal"],
        ("directus_users", "tfa_secret") => &["conceal"],
        ("directus_users", "tags") => &["json"],
        ("directus_files", "tags") => &["json"],
        ("directus_files", "metadata") => &["json"],
        ("directus_files", "uploaded_by") => &["user-created"],
        ("directus_files", "uploaded_on") => &["date-created"],
        ("directus_files", "modified_by") => &["user-updated"],
        ("directus_files", "modified_on") => &["date-updated"],
        ("directus_roles", "ip_access") => &["csv"],
        ("directus_roles", "module_list" | "collection_list") => &["json"],
        ("directus_permissions", "permissions" | "validation" | "presets") => &["json"],
        ("directus_permissions", "fields") => &["csv"],
        ("directus_presets", "filters" | "layout_query" | "layout_options") => &["json"],
        ("directus_collections", "translations" | "item_duplication_fields") => &["json"],
        ("directus_fields", "options" | "display_options" | "translations") => &["json"],
        ("directus_fields", "special") => &["csv"],
        ("directus_settings", "storage_asset_presets") => &["json"],
        ("directus_revisions", "data" | "delta") => &["json"],
        ("directus_webhooks", "actions" | "collections") => &["csv"],
        ("directus_collections" | "directus_fields" | "directus_roles", "hidden" | "singleton" | "readonly" | "admin_access" | "app_access" | "enforce_tfa" | "archive_app_filter") => &["boolean"],
        ("directus_webhooks", "data") => &["boolean"],
        _ => &[],
    }
}
