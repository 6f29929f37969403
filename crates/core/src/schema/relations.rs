//! Relations as rc.83 stitches them for `/relations` and the schema overview: every foreign key
//! of the database (system tables included) with the row describing it, then the rows that have
//! no foreign key (`directus_users.avatar`, many-to-any, …). Rows are the stored
//! `directus_relations` rows followed by the built-in system relations.
//!
//! Deviation: a built-in row gives way to a stored row for the same field; Directus keeps both
//! and lists the field twice.

use serde_json::{json, Map, Value};

use super::introspect::ForeignKey;
use super::system_data;
use super::types::relation_from_row;

fn text<'a>(row: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

fn same_field(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    text(a, "many_collection") == text(b, "many_collection") && text(a, "many_field") == text(b, "many_field")
}

/// `{collection, field, related_collection, schema, meta}` for every relation.
pub fn stitch(stored: Vec<Map<String, Value>>, foreign_keys: &[ForeignKey]) -> Vec<Value> {
    let mut rows = stored;
    for builtin in system_data::get().relations() {
        if !rows.iter().any(|r| same_field(r, builtin)) {
            rows.push(builtin.clone());
        }
    }
    let mut used = vec![false; rows.len()];
    let mut out = Vec::with_capacity(foreign_keys.len() + rows.len());
    for fk in foreign_keys {
        let found = rows.iter().position(|r| {
            text(r, "many_collection") == Some(fk.table.as_str())
                && text(r, "many_field") == Some(fk.column.as_str())
                && text(r, "one_collection").is_none_or(|one| one == fk.foreign_key_table)
        });
        let meta = match found {
            Some(i) => {
                used[i] = true;
                relation_from_row(rows[i].clone())["meta"].take()
            }
            None => Value::Null,
        };
        out.push(json!({
            "collection": fk.table,
            "field": fk.column,
            "related_collection": fk.foreign_key_table,
            "schema": serde_json::to_value(fk).unwrap_or(Value::Null),
            "meta": meta,
        }));
    }
    out.extend(rows.into_iter().zip(used).filter(|(_, used)| !used).map(|(row, _)| relation_from_row(row)));
    out
}
