//! The built-in rows of Directus rc.83's system collections, which Directus keeps in data files
//! rather than in `directus_collections`, `directus_fields` and `directus_relations`: the meta
//! of every system collection and field (icons, notes, interfaces, options, `special`), the
//! system relations (`directus_users.role → directus_roles`, `avatar → directus_files`, …) and
//! the minimal permissions every role with `app_access` gets on system collections.
//!
//! The rows live in `system_data/*.json`, written by `scripts/system-data.js` from the YAML files
//! of the `directus@9.0.0-rc.83` npm package with Directus's defaults already applied, so each
//! row is exactly what Directus serves (`meta` of `/collections`, `/fields`, `/relations`, rows
//! of `/permissions`). JSON rather than Rust tables: the field rows carry nested interface
//! options that are data, not code, and regenerating them is one command. They are parsed once,
//! on first use.
//!
//! How they merge with stored rows (as rc.83 does):
//! - `/collections`, `/fields`, `/relations`: a stored row for the same collection (field,
//!   relation) is served instead of the built-in one.
//! - The schema overview (`getSchema()`, the query engine): the stored collection row wins; for
//!   fields the built-in row is applied after the stored one, so its `special` wins.
//! - Permissions: see `services::permissions`.

use serde_json::{Map, Value};
use std::sync::LazyLock;

pub struct SystemData {
    collections: Vec<Map<String, Value>>,
    fields: Vec<Map<String, Value>>,
    relations: Vec<Map<String, Value>>,
    app_access_permissions: Vec<Map<String, Value>>,
}

fn rows(json: &str) -> Vec<Map<String, Value>> {
    let file: Value = serde_json::from_str(json).expect("the embedded system data is valid JSON");
    file["rows"].as_array().into_iter().flatten().filter_map(|r| r.as_object().cloned()).collect()
}

static DATA: LazyLock<SystemData> = LazyLock::new(|| SystemData {
    collections: rows(include_str!("system_data/collections.json")),
    fields: rows(include_str!("system_data/fields.json")),
    relations: rows(include_str!("system_data/relations.json")),
    app_access_permissions: rows(include_str!("system_data/app_access_permissions.json")),
});

pub fn get() -> &'static SystemData {
    &DATA
}

fn text<'a>(row: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

impl SystemData {
    /// The built-in meta of a system collection.
    pub fn collection(&self, collection: &str) -> Option<&Map<String, Value>> {
        self.collections.iter().find(|r| text(r, "collection") == Some(collection))
    }

    pub fn collections(&self) -> &[Map<String, Value>] {
        &self.collections
    }

    /// Every built-in field meta row, by collection and then in Directus's `sort` order.
    pub fn fields(&self) -> &[Map<String, Value>] {
        &self.fields
    }

    pub fn field(&self, collection: &str, field: &str) -> Option<&Map<String, Value>> {
        self.fields.iter().find(|r| text(r, "collection") == Some(collection) && text(r, "field") == Some(field))
    }

    /// The built-in `directus_relations` rows (without `id`).
    pub fn relations(&self) -> &[Map<String, Value>] {
        &self.relations
    }

    /// The permissions of roles with `app_access`, with `role: null` (the caller's role is
    /// filled in where they are used).
    pub fn app_access_permissions(&self) -> &[Map<String, Value>] {
        &self.app_access_permissions
    }
}

/// A meta row's `special` as a list: stored rows hold a comma-separated string, built-in rows a
/// string or a list.
pub fn special_list(row: &Map<String, Value>) -> Vec<String> {
    match row.get("special") {
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_rows_are_complete() {
        let data = get();
        assert_eq!(data.collections().len(), 15);
        assert!(data.collections().iter().all(|c| c["system"] == true));
        assert_eq!(data.collection("directus_users").unwrap()["archive_field"], "status");
        assert_eq!(data.collection("directus_presets").unwrap()["accountability"], Value::Null);
        let role = data.field("directus_users", "role").unwrap();
        assert_eq!((role["interface"].as_str(), special_list(role)), (Some("select-dropdown-m2o"), vec!["m2o".to_string()]));
        assert_eq!(special_list(data.field("directus_users", "preferences_divider").unwrap()), vec!["alias", "no-data"]);
        let users_role = data.relations().iter().find(|r| r["many_collection"] == "directus_users" && r["many_field"] == "role").unwrap();
        assert_eq!((users_role["one_collection"].as_str(), users_role["one_field"].as_str()), (Some("directus_roles"), Some("users")));
        let own_user = data.app_access_permissions().iter().find(|p| p["collection"] == "directus_users").unwrap();
        assert_eq!(own_user["permissions"], serde_json::json!({ "id": { "_eq": "$CURRENT_USER" } }));
        assert!(own_user["fields"].as_array().unwrap().iter().any(|f| f == "avatar"));
    }
}
