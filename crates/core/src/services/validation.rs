//! A permission's `validation` filter checked against a payload (Directus builds a Joi schema
//! from it). A failing field answers 400 `FAILED_VALIDATION` with `extensions.field` and `type`
//! named after the operator, like `FailedValidationException`. Fields absent from an update's
//! payload are not checked; on create they count as `null`.

use serde_json::{json, Map, Value};

use crate::{ApiError, ErrorCode};

fn failed(field: &str, op: &str, message: String, extra: Option<(&str, Value)>) -> ApiError {
    let mut extensions = Map::new();
    extensions.insert("field".into(), json!(field));
    extensions.insert("type".into(), json!(op.trim_start_matches('_')));
    if let Some((k, v)) = extra {
        extensions.insert(k.into(), v);
    }
    ApiError::new(ErrorCode::FailedValidation, message).with_extensions(extensions)
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.parse().ok())
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::String(s) => s.split(',').map(|p| json!(p)).collect(),
        other => vec![other.clone()],
    }
}

fn same(a: &Value, b: &Value) -> bool {
    a == b || (!a.is_null() && !b.is_null() && text(a) == text(b))
}

fn check(field: &str, value: &Value, op: &str, rule: &Value) -> Result<(), ApiError> {
    let ok = match op {
        "_eq" => same(value, rule),
        "_neq" => !same(value, rule),
        "_in" => list(rule).iter().any(|r| same(value, r)),
        "_nin" => !list(rule).iter().any(|r| same(value, r)),
        "_null" => value.is_null() == rule.as_bool().unwrap_or(true),
        "_nnull" => !value.is_null() == rule.as_bool().unwrap_or(true),
        "_empty" => (value.is_null() || value == "") == rule.as_bool().unwrap_or(true),
        "_nempty" => !(value.is_null() || value == "") == rule.as_bool().unwrap_or(true),
        "_contains" => text(value).contains(&text(rule)),
        "_ncontains" => !text(value).contains(&text(rule)),
        "_starts_with" => text(value).starts_with(&text(rule)),
        "_nstarts_with" => !text(value).starts_with(&text(rule)),
        "_ends_with" => text(value).ends_with(&text(rule)),
        "_nends_with" => !text(value).ends_with(&text(rule)),
        "_gt" | "_gte" | "_lt" | "_lte" => match (number(value), number(rule)) {
            (Some(v), Some(r)) => match op {
                "_gt" => v > r,
                "_gte" => v >= r,
                "_lt" => v < r,
                _ => v <= r,
            },
            _ => false,
        },
        "_between" | "_nbetween" => {
            let bounds = list(rule);
            let inside = match (number(value), bounds.first().and_then(number), bounds.get(1).and_then(number)) {
                (Some(v), Some(lo), Some(hi)) => v >= lo && v <= hi,
                _ => false,
            };
            inside == (op == "_between")
        }
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let message = format!("\"{field}\" must satisfy {op} {}", text(rule));
    Err(failed(field, op, message, Some(("valid", rule.clone()))))
}

/// Checks `payload` against `filter`; `creating` makes absent fields count as `null`.
pub fn validate(filter: &Value, payload: &Map<String, Value>, creating: bool) -> Result<(), ApiError> {
    let Some(rules) = filter.as_object() else { return Ok(()) };
    for (key, rule) in rules {
        match key.as_str() {
            "_and" => {
                for r in rule.as_array().into_iter().flatten() {
                    validate(r, payload, creating)?;
                }
            }
            "_or" => {
                let alternatives: Vec<&Value> = rule.as_array().into_iter().flatten().collect();
                let mut first_error = None;
                if !alternatives.is_empty() && !alternatives.iter().any(|r| match validate(r, payload, creating) {
                    Ok(()) => true,
                    Err(e) => {
                        first_error.get_or_insert(e);
                        false
                    }
                }) {
                    return Err(first_error.unwrap_or_else(|| ApiError::new(ErrorCode::FailedValidation, "Validation failed.")));
                }
            }
            field => {
                let value = match payload.get(field) {
                    Some(v) => v.clone(),
                    None if creating => Value::Null,
                    None => continue,
                };
                match rule.as_object() {
                    Some(ops) if ops.keys().all(|k| k.starts_with('_')) => {
                        for (op, r) in ops {
                            check(field, &value, op, r)?;
                        }
                    }
                    _ => check(field, &value, "_eq", rule)?,
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn operators_and_logic() {
        let f = json!({ "status": { "_in": ["draft", "review"] }, "views": { "_lte": 10 }, "_or": [{ "title": { "_starts_with": "A" } }, { "title": { "_nnull": false } }] });
        assert!(validate(&f, &payload(json!({ "status": "draft", "views": 3, "title": "Alpha" })), true).is_ok());
        let e = validate(&f, &payload(json!({ "status": "published", "views": 3, "title": "Alpha" })), true).unwrap_err();
        assert_eq!((e.code.as_str(), e.extensions["field"].clone(), e.extensions["type"].clone()), ("FAILED_VALIDATION", json!("status"), json!("in")));
        assert!(validate(&f, &payload(json!({ "status": "draft", "views": 11, "title": "Alpha" })), true).is_err());
        assert!(validate(&f, &payload(json!({ "status": "draft", "views": 1, "title": "Beta" })), true).is_err());
        assert!(validate(&f, &payload(json!({ "views": 1 })), false).is_ok(), "absent fields are not checked on update");
        assert!(validate(&f, &payload(json!({ "views": 1 })), true).is_err(), "but count as null on create");
    }
}
