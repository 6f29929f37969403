//! Column types to Directus field types, defaults as Directus reports them, and relation rows.

use serde_json::{json, Map, Value};

use super::introspect::Column;
use super::FieldOverview;

/// The Directus type of a column: `special` wins (uuid, hash, csv, json, boolean), then the
/// engine type.
pub fn directus_type(db_type: &str, special: &[String], fallback: &str) -> String {
    for s in special {
        match s.as_str() {
            "uuid" => return "uuid".into(),
            "hash" => return "hash".into(),
            "csv" => return "csv".into(),
            "json" => return "json".into(),
            "boolean" => return "boolean".into(),
            _ => {}
        }
    }
    let base = db_type.split('(').next().unwrap_or("").trim();
    let t = match base {
        "integer" | "int" | "int4" | "smallint" | "int2" | "mediumint" | "tinyint" | "serial" => "integer",
        "bigint" | "int8" | "bigserial" => "bigInteger",
        "boolean" | "bool" => "boolean",
        "character varying" | "varchar" | "character" | "char" | "nvarchar" | "nchar" | "enum" | "set" => "string",
        "text" | "mediumtext" | "longtext" | "tinytext" | "clob" => "text",
        "json" | "jsonb" => "json",
        "real" | "float" | "float4" | "float8" | "double" | "double precision" => "float",
        "decimal" | "numeric" => "decimal",
        "date" => "date",
        "datetime" | "timestamp without time zone" => "dateTime",
        "timestamp" | "timestamptz" | "timestamp with time zone" => "timestamp",
        "time" | "time without time zone" | "time with time zone" => "time",
        "uuid" => "uuid",
        "blob" | "bytea" | "binary" | "varbinary" => "binary",
        _ => return fallback.to_string(),
    };
    t.into()
}

/// Default values in the form Directus reports: `AUTO_INCREMENT`, literals unquoted and cast.
fn default_value(column: &Column) -> Value {
    if column.auto_increment {
        return json!("AUTO_INCREMENT");
    }
    let Some(raw) = column.default.as_deref() else { return Value::Null };
    let mut text = raw.trim();
    if let Some(i) = text.find("::") {
        text = &text[..i];
    }
    let text = text.trim_matches('(').trim_matches(')');
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text.eq_ignore_ascii_case("now") || text.eq_ignore_ascii_case("now()") || text.to_ascii_uppercase().starts_with("CURRENT_TIMESTAMP") {
        return json!("CURRENT_TIMESTAMP");
    }
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return Value::String(inner.replace("''", "'"));
    }
    match text {
        "true" => return json!(true),
        "false" => return json!(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return json!(i);
    }
    if let Ok(f) = text.parse::<f64>() {
        return json!(f);
    }
    Value::String(text.to_string())
}

pub fn field_from_column(column: &Column, special: Vec<String>, note: Option<String>) -> FieldOverview {
    let mut default = default_value(column);
    let kind = directus_type(&column.db_type, &special, "unknown");
    // SQLite and MySQL store booleans as integers: report the default as a boolean.
    if kind == "boolean" {
        if let Some(n) = default.as_i64() {
            default = json!(n != 0);
        }
    }
    FieldOverview {
        field: column.name.clone(),
        default_value: default,
        nullable: column.nullable,
        generated: false,
        kind,
        db_type: Some(column.db_type.clone()),
        precision: column.precision,
        scale: column.scale,
        special,
        note,
        alias: false,
    }
}

pub fn alias_field(field: &str, special: Vec<String>, note: Option<String>) -> FieldOverview {
    FieldOverview {
        field: field.to_string(),
        default_value: Value::Null,
        nullable: true,
        generated: false,
        kind: "alias".into(),
        db_type: None,
        precision: None,
        scale: None,
        special,
        note,
        alias: true,
    }
}

/// A `directus_relations` row in the rc.83 `Relation` shape (`schema` is filled by the relations
/// service once foreign keys are introspected).
pub fn relation_from_row(row: Map<String, Value>) -> Value {
    let get = |k: &str| row.get(k).cloned().unwrap_or(Value::Null);
    let mut meta = row.clone();
    meta.insert(
        "one_allowed_collections".into(),
        match row.get("one_allowed_collections") {
            Some(Value::String(s)) if !s.is_empty() => Value::Array(s.split(',').map(|c| json!(c)).collect()),
            _ => Value::Null,
        },
    );
    json!({
        "collection": get("many_collection"),
        "field": get("many_field"),
        "related_collection": get("one_collection"),
        "schema": null,
        "meta": meta,
    })
}
