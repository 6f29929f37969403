//! Field values on their way into and out of the database, by field type and `special`
//! (spec §4.5): generated uuids, timestamps and user stamps, hashes, JSON/CSV encoding on write;
//! booleans, JSON, CSV, timestamps and concealed values on read.

use serde_json::{Map, Value};

use crate::auth::{password, Accountability};
use crate::db::bind::parse_datetime;
use crate::schema::{CollectionOverview, FieldOverview};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
}

/// Keeps only real columns of the collection and encodes each value for storage.
pub fn for_write(collection: &CollectionOverview, payload: &Map<String, Value>, action: Action, accountability: Option<&Accountability>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in payload {
        let Some(field) = collection.field(key) else { continue };
        if field.alias {
            continue;
        }
        out.insert(key.clone(), encode(field, value.clone()));
    }
    // UTC without a zone suffix: MySQL/MariaDB reject `Z` in datetime values, and every engine's
    // reader takes a zone-less stamp as UTC (`parse_datetime`).
    let now = || Value::String(chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.3f").to_string());
    let user = || accountability.and_then(|a| a.user.clone()).map(Value::String).unwrap_or(Value::Null);
    let role = || accountability.and_then(|a| a.role.clone()).map(Value::String).unwrap_or(Value::Null);
    for field in collection.fields.values().filter(|f| !f.alias) {
        let name = &field.field;
        for special in &field.special {
            let stamp = match (special.as_str(), action) {
                ("uuid", Action::Create) if out.get(name).is_none_or(|v| v.is_null() || v == "") => {
                    Some(Value::String(uuid::Uuid::new_v4().to_string()))
                }
                ("date-created", Action::Create) | ("date-updated", Action::Update) => Some(now()),
                ("user-created", Action::Create) | ("user-updated", Action::Update) if accountability.is_some() => Some(user()),
                ("role-created", Action::Create) | ("role-updated", Action::Update) if accountability.is_some() => Some(role()),
                _ => None,
            };
            if let Some(v) = stamp {
                out.insert(name.clone(), v);
            }
        }
    }
    out
}

fn encode(field: &FieldOverview, value: Value) -> Value {
    if value.is_null() {
        return value;
    }
    if field.has_special("hash") {
        if let Value::String(s) = &value {
            if !s.is_empty() && !s.starts_with("$argon2") {
                return Value::String(password::hash(s));
            }
        }
    }
    match field.kind.as_str() {
        "json" => match value {
            Value::String(s) => Value::String(s),
            other => Value::String(other.to_string()),
        },
        "csv" => match value {
            Value::Array(items) => Value::String(
                items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect::<Vec<_>>().join(","),
            ),
            other => other,
        },
        "boolean" => match value {
            Value::String(s) => Value::Bool(matches!(s.as_str(), "true" | "1")),
            Value::Number(n) => Value::Bool(n.as_f64() != Some(0.0)),
            other => other,
        },
        _ => value,
    }
}

/// Decodes a stored row for output.
pub fn for_read(collection: &CollectionOverview, row: &mut Map<String, Value>) {
    for (key, value) in row.iter_mut() {
        let Some(field) = collection.field(key) else { continue };
        if value.is_null() {
            continue;
        }
        if field.has_special("conceal") {
            *value = Value::String("**********".into());
            continue;
        }
        match field.kind.as_str() {
            "boolean" => {
                if let Some(n) = value.as_i64() {
                    *value = Value::Bool(n != 0);
                } else if let Some(s) = value.as_str() {
                    *value = Value::Bool(matches!(s, "true" | "1"));
                }
            }
            "json" => {
                if let Some(s) = value.as_str() {
                    if let Ok(parsed) = serde_json::from_str(s) {
                        *value = parsed;
                    }
                }
            }
            "csv" => {
                if let Some(s) = value.as_str() {
                    *value = if s.is_empty() { Value::Array(vec![]) } else { Value::Array(s.split(',').map(|p| Value::String(p.to_string())).collect()) };
                }
            }
            "timestamp" | "dateTime" => {
                if let Some(read) = read_date(&field.kind, value) {
                    *value = read;
                }
            }
            _ => {}
        }
    }
}

/// A stored `timestamp` (ISO with zone) or `dateTime` (ISO without) as the API answers it.
fn read_date(kind: &str, value: &Value) -> Option<Value> {
    let d = parse_datetime(value)?;
    Some(Value::String(match kind {
        "timestamp" => d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "dateTime" => d.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
        "date" => d.naive_utc().format("%Y-%m-%d").to_string(),
        _ => return None,
    }))
}

/// `PayloadService.processDates(payloads, action)` of rc.83, for one item: the values of the
/// date fields (`date`, `dateTime`, `timestamp`) formatted for reading (`read`), or parsed
/// as they would be written, where Directus makes JavaScript Dates (they reach the hook as
/// what a Date becomes in JSON, an ISO stamp in UTC). `0000-00-00` is null; other values the
/// field can't read stay as they are.
pub fn process_dates(collection: &CollectionOverview, item: &mut Map<String, Value>, read: bool) {
    for field in collection.fields.values().filter(|f| matches!(f.kind.as_str(), "date" | "dateTime" | "timestamp")) {
        let Some(value) = item.get_mut(&field.field) else { continue };
        if value == "0000-00-00" {
            *value = Value::Null;
            continue;
        }
        let processed = if read { read_date(&field.kind, value) } else { parse_datetime(value).map(|d| Value::String(d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))) };
        if let Some(processed) = processed {
            *value = processed;
        }
    }
}
