//! Filter value parsing (`parse-filter.ts`: `"true"` → true, `$NOW(-1 year)`, `$CURRENT_USER`, …)
//! and validation (`validateFilter` in `validate-query.ts`), both as of rc.83.

use chrono::{DateTime, Duration, Months, SecondsFormat, Utc};
use serde_json::Value;

use super::FilterContext;
use crate::ApiError;

/// Operators whose value is a list (a CSV string is split).
const LIST_OPERATORS: [&str; 4] = ["_in", "_nin", "_between", "_nbetween"];
/// Operators whose value is a boolean (`false` inverts them).
const BOOLEAN_OPERATORS: [&str; 4] = ["_null", "_nnull", "_empty", "_nempty"];
/// Operators comparing with one value.
const VALUE_OPERATORS: [&str; 12] =
    ["_eq", "_neq", "_lt", "_lte", "_gt", "_gte", "_contains", "_ncontains", "_starts_with", "_nstarts_with", "_ends_with", "_nends_with"];

pub fn is_operator(key: &str) -> bool {
    LIST_OPERATORS.contains(&key) || BOOLEAN_OPERATORS.contains(&key) || VALUE_OPERATORS.contains(&key)
}

/// Parses every value of a filter object, then validates it.
pub fn parse_filter(filter: &Value, ctx: &FilterContext, now: DateTime<Utc>) -> Result<Value, ApiError> {
    let parsed = parse_value("", filter, ctx, now)?;
    validate(&parsed)?;
    Ok(parsed)
}

fn parse_value(key: &str, value: &Value, ctx: &FilterContext, now: DateTime<Utc>) -> Result<Value, ApiError> {
    if LIST_OPERATORS.contains(&key) {
        // Split first, then parse each element, so `_in=true,null` and `_in=$CURRENT_USER` work too.
        let items: Vec<Value> = match value {
            Value::String(s) => s.split(',').map(|part| Value::String(part.to_string())).collect(),
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        return parse_items(&items, ctx, now);
    }
    match value {
        Value::Object(map) => {
            Ok(Value::Object(map.iter().map(|(k, v)| Ok((k.clone(), parse_value(k, v, ctx, now)?))).collect::<Result<_, ApiError>>()?))
        }
        Value::Array(items) => parse_items(items, ctx, now),
        Value::String(s) => parse_string(s, ctx, now),
        other => Ok(other.clone()),
    }
}

fn parse_items(items: &[Value], ctx: &FilterContext, now: DateTime<Utc>) -> Result<Value, ApiError> {
    Ok(Value::Array(items.iter().enumerate().map(|(i, v)| parse_value(&i.to_string(), v, ctx, now)).collect::<Result<_, _>>()?))
}

fn parse_string(s: &str, ctx: &FilterContext, now: DateTime<Utc>) -> Result<Value, ApiError> {
    Ok(match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" | "NULL" => Value::Null,
        "$CURRENT_USER" => ctx.user.clone().map(Value::String).unwrap_or(Value::Null),
        "$CURRENT_ROLE" => ctx.role.clone().map(Value::String).unwrap_or(Value::Null),
        s if s.starts_with("$NOW") => {
            let date = match parenthesised(s) {
                Some(adjustment) => {
                    adjust_date(now, adjustment).ok_or_else(|| ApiError::invalid_query(format!("\"{s}\" isn't a valid date adjustment.")))?
                }
                None => now,
            };
            Value::String(date.to_rfc3339_opts(SecondsFormat::Millis, true))
        }
        s => Value::String(s.to_string()),
    })
}

/// The first non-empty `(...)` group, like the regex `\(([^)]+)\)`.
fn parenthesised(s: &str) -> Option<&str> {
    for (i, _) in s.match_indices('(') {
        let rest = &s[i + 1..];
        match rest.find(')') {
            Some(0) => continue,
            Some(end) => return Some(&rest[..end]),
            None => return None,
        }
    }
    None
}

/// `adjust-date.ts`: `[+|-]<amount>[ ]<unit>` with the units of Vercel's `ms` (default days);
/// amounts are truncated to integers as date-fns does. `None` when the text doesn't match.
fn adjust_date(date: DateTime<Utc>, adjustment: &str) -> Option<DateTime<Utc>> {
    let (subtract, rest) = match adjustment.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, adjustment.strip_prefix('+').unwrap_or(adjustment)),
    };
    let number_len = leading_number_len(rest)?;
    let amount = rest[..number_len].parse::<f64>().ok()?.trunc();
    let amount = if subtract { -amount } else { amount };
    if !amount.is_finite() || amount.abs() > i64::MAX as f64 {
        return None;
    }
    let amount = amount as i64;
    let unit = rest[number_len..].trim_start_matches(' ').to_ascii_lowercase();
    let months = |n: i64| -> Option<DateTime<Utc>> {
        let m = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
        if n < 0 {
            date.checked_sub_months(m)
        } else {
            date.checked_add_months(m)
        }
    };
    let duration = |d: Option<Duration>| d.and_then(|d| date.checked_add_signed(d));
    match unit.as_str() {
        "years" | "year" | "yrs" | "yr" | "y" => months(amount.checked_mul(12)?),
        "months" | "month" | "mth" | "mo" => months(amount),
        "weeks" | "week" | "w" => duration(amount.checked_mul(7).and_then(Duration::try_days)),
        "" | "days" | "day" | "d" => duration(Duration::try_days(amount)),
        "hours" | "hour" | "hrs" | "hr" | "h" => duration(Duration::try_hours(amount)),
        "minutes" | "minute" | "mins" | "min" | "m" => duration(Duration::try_minutes(amount)),
        "seconds" | "second" | "secs" | "sec" | "s" => duration(Duration::try_seconds(amount)),
        "milliseconds" | "millisecond" | "msecs" | "msec" | "ms" => duration(Duration::try_milliseconds(amount)),
        _ => None,
    }
}

/// Length of the leading `-?(\d+)?\.?\d+` (the number must end with a digit).
fn leading_number_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits_from = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let start = usize::from(b.first() == Some(&b'-'));
    let int_end = digits_from(start);
    if int_end < b.len() && b[int_end] == b'.' {
        let frac_end = digits_from(int_end + 1);
        if frac_end > int_end + 1 {
            return Some(frac_end);
        }
    }
    (int_end > start).then_some(int_end)
}

/// The members of an `_and` / `_or`: an array of filter objects (qs turns an array with an index
/// above 20 into an object keyed by index, so an object's values count as the list too).
pub fn logical_items<'a>(key: &str, value: &'a Value) -> Result<Vec<&'a Value>, ApiError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => map.values().collect(),
        _ => vec![value],
    };
    if items.iter().all(|item| item.is_object()) {
        Ok(items)
    } else {
        Err(ApiError::invalid_query(format!("\"{key}\" has to be an array of filters")))
    }
}

fn validate(filter: &Value) -> Result<(), ApiError> {
    let Value::Object(map) = filter else { return Ok(()) };
    for (key, nested) in map {
        let key = key.as_str();
        match key {
            "_and" | "_or" => {
                for item in logical_items(key, nested)? {
                    validate(item)?;
                }
            }
            _ if LIST_OPERATORS.contains(&key) => validate_list(nested, key)?,
            _ if BOOLEAN_OPERATORS.contains(&key) => {
                if !nested.is_boolean() {
                    return Err(ApiError::invalid_query(format!("\"{key}\" has to be a boolean")));
                }
            }
            _ if VALUE_OPERATORS.contains(&key) => validate_primitive(nested, key)?,
            // A field (or an operator the compiler will reject, validated like Directus's default case).
            _ => match nested {
                Value::Object(_) => validate(nested)?,
                // `{field: [a, b]}` compares with any of the values.
                Value::Array(items) => {
                    for item in items {
                        validate_primitive(item, "_eq")?;
                    }
                }
                other => validate_primitive(other, if key.starts_with('_') { key } else { "_eq" })?,
            },
        }
    }
    Ok(())
}

fn not_primitive(key: &str) -> ApiError {
    ApiError::invalid_query(format!("The filter value for \"{key}\" has to be a string, number, or boolean"))
}

fn validate_primitive(value: &Value, key: &str) -> Result<(), ApiError> {
    match value {
        Value::String(s) if s.is_empty() => {
            Err(ApiError::invalid_query(format!("You can't filter for an empty string in \"{key}\". Use \"_empty\" or \"_nempty\" instead")))
        }
        Value::Null | Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
        _ => Err(not_primitive(key)),
    }
}

fn validate_list(value: &Value, key: &str) -> Result<(), ApiError> {
    match value {
        Value::Array(items) if !items.is_empty() => match items.iter().any(|v| v.is_object() || v.is_array()) {
            true => Err(not_primitive(key)),
            false => Ok(()),
        },
        _ => Err(ApiError::invalid_query(format!("\"{key}\" has to be an array of values"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 3, 31, 12, 30, 15).unwrap()
    }

    fn ctx() -> FilterContext {
        FilterContext { user: Some("u-1".into()), role: Some("r-1".into()) }
    }

    fn parse(filter: Value) -> Result<Value, ApiError> {
        parse_filter(&filter, &ctx(), now())
    }

    fn message(filter: Value) -> String {
        let err = parse(filter).unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (400, "INVALID_QUERY"));
        err.message
    }

    #[test]
    fn booleans_and_nulls() {
        assert_eq!(
            parse(json!({"a": {"_eq": "true"}, "b": "false", "c": {"_eq": "null"}, "d": {"_neq": "NULL"}, "e": {"_eq": "Null"}})).unwrap(),
            json!({"a": {"_eq": true}, "b": false, "c": {"_eq": null}, "d": {"_neq": null}, "e": {"_eq": "Null"}})
        );
        assert_eq!(
            parse(json!({"a": {"_null": "true"}, "b": {"_nempty": "false"}})).unwrap(),
            json!({"a": {"_null": true}, "b": {"_nempty": false}})
        );
    }

    #[test]
    fn lists_are_split_and_wrapped() {
        assert_eq!(
            parse(json!({"a": {"_in": "1,2,3"}, "b": {"_nin": "x"}, "c": {"_between": 5}, "d": {"_nbetween": ["1", "true"]}})).unwrap(),
            json!({"a": {"_in": ["1", "2", "3"]}, "b": {"_nin": ["x"]}, "c": {"_between": [5]}, "d": {"_nbetween": ["1", true]}})
        );
        assert_eq!(parse(json!({"a": {"_in": "true,null,$CURRENT_USER"}})).unwrap(), json!({"a": {"_in": [true, null, "u-1"]}}));
    }

    #[test]
    fn variables() {
        assert_eq!(
            parse(json!({"_and": [{"owner": {"_eq": "$CURRENT_USER"}}, {"role": "$CURRENT_ROLE"}]})).unwrap(),
            json!({"_and": [{"owner": {"_eq": "u-1"}}, {"role": "r-1"}]})
        );
        let anonymous = parse_filter(&json!({"owner": {"_eq": "$CURRENT_USER"}, "role": "$CURRENT_ROLE"}), &FilterContext::default(), now()).unwrap();
        assert_eq!(anonymous, json!({"owner": {"_eq": null}, "role": null}));
    }

    #[test]
    fn now_and_adjustments() {
        let f = parse(json!({
            "a": {"_lt": "$NOW"},
            "b": {"_gt": "$NOW(-1 year)"},
            "c": {"_gt": "$NOW(+2 days)"},
            "d": {"_gt": "$NOW(3h)"},
            "e": {"_gt": "$NOW()"},
            "f": {"_gt": "$NOW(1 month)"},
            "g": {"_gt": "$NOW(-90 Minutes)"},
            "h": {"_gt": "$NOW(1.9)"},
            "i": {"_gt": "$NOW(-.5 weeks)"},
            "j": {"_gt": "$NOW(1500 ms)"}
        }))
        .unwrap();
        assert_eq!(f["a"]["_lt"], "2021-03-31T12:30:15.000Z");
        assert_eq!(f["b"]["_gt"], "2020-03-31T12:30:15.000Z");
        assert_eq!(f["c"]["_gt"], "2021-04-02T12:30:15.000Z");
        assert_eq!(f["d"]["_gt"], "2021-03-31T15:30:15.000Z");
        assert_eq!(f["e"]["_gt"], "2021-03-31T12:30:15.000Z");
        // Month arithmetic clamps to the end of the shorter month, like date-fns.
        assert_eq!(f["f"]["_gt"], "2021-04-30T12:30:15.000Z");
        assert_eq!(f["g"]["_gt"], "2021-03-31T11:00:15.000Z");
        assert_eq!(f["h"]["_gt"], "2021-04-01T12:30:15.000Z");
        assert_eq!(f["i"]["_gt"], "2021-03-31T12:30:15.000Z");
        assert_eq!(f["j"]["_gt"], "2021-03-31T12:30:16.500Z");
    }

    #[test]
    fn invalid_adjustments_are_rejected() {
        assert_eq!(message(json!({"a": {"_gt": "$NOW(soon)"}})), "\"$NOW(soon)\" isn't a valid date adjustment.");
        assert!(adjust_date(now(), "1.").is_none());
        assert!(adjust_date(now(), "1 fortnight").is_none());
        assert!(adjust_date(now(), "99999999999999 years").is_none());
        assert_eq!(adjust_date(now(), "--1 day"), adjust_date(now(), "1 day"));
    }

    #[test]
    fn empty_strings_are_rejected_for_value_operators() {
        assert_eq!(message(json!({"title": {"_eq": ""}})), "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead");
        assert_eq!(message(json!({"title": ""})), "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead");
        assert_eq!(
            message(json!({"_or": [{"title": {"_contains": ""}}]})),
            "You can't filter for an empty string in \"_contains\". Use \"_empty\" or \"_nempty\" instead"
        );
        assert_eq!(message(json!({"title": ["a", ""]})), "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead");
    }

    #[test]
    fn value_operators_need_primitives() {
        assert_eq!(message(json!({"title": {"_gt": {"x": 1}}})), "The filter value for \"_gt\" has to be a string, number, or boolean");
        assert_eq!(message(json!({"title": {"_eq": [1, 2]}})), "The filter value for \"_eq\" has to be a string, number, or boolean");
        assert!(parse(json!({"title": {"_eq": null}, "n": {"_gte": 1.5}, "b": {"_neq": false}})).is_ok());
    }

    #[test]
    fn list_operators_need_non_empty_lists() {
        assert_eq!(message(json!({"id": {"_in": []}})), "\"_in\" has to be an array of values");
        assert_eq!(message(json!({"id": {"_between": {"a": 1}}})), "The filter value for \"_between\" has to be a string, number, or boolean");
        assert_eq!(message(json!({"id": {"_nin": [[1]]}})), "The filter value for \"_nin\" has to be a string, number, or boolean");
        assert_eq!(parse(json!({"id": {"_in": ""}})).unwrap(), json!({"id": {"_in": [""]}}));
    }

    #[test]
    fn boolean_operators_need_booleans() {
        assert_eq!(message(json!({"title": {"_null": ""}})), "\"_null\" has to be a boolean");
        assert_eq!(message(json!({"title": {"_nnull": "yes"}})), "\"_nnull\" has to be a boolean");
        assert_eq!(message(json!({"title": {"_empty": 1}})), "\"_empty\" has to be a boolean");
        assert_eq!(message(json!({"title": {"_nempty": null}})), "\"_nempty\" has to be a boolean");
    }

    #[test]
    fn logical_operators_need_filter_lists() {
        assert_eq!(message(json!({"_and": "x"})), "\"_and\" has to be an array of filters");
        assert_eq!(message(json!({"_or": [1]})), "\"_or\" has to be an array of filters");
        assert_eq!(parse(json!({"_or": {"0": {"a": "1"}, "21": {"b": "true"}}})).unwrap(), json!({"_or": {"0": {"a": "1"}, "21": {"b": true}}}));
    }

    #[test]
    fn nested_relational_values_are_parsed_and_validated() {
        assert_eq!(parse(json!({"author": {"active": {"_eq": "true"}}})).unwrap(), json!({"author": {"active": {"_eq": true}}}));
        assert_eq!(
            message(json!({"author": {"name": {"_eq": ""}}})),
            "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead"
        );
    }
}
