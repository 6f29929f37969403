//! `sanitize-query.ts` and the Joi half of `validate-query.ts` (rc.83): raw parameters from the
//! query string (strings, arrays, objects) or a SEARCH body (any JSON) → a [`Query`].

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::filter_values::parse_filter;
use super::{first_row, FilterContext, MetaKind, Query, Sort, DEFAULT_LIMIT};
use crate::ApiError;

pub fn sanitize(params: &Map<String, Value>, ctx: &FilterContext, now: DateTime<Utc>) -> Result<Query, ApiError> {
    // Directus validates the filter's contents first, then reports the first schema error in the
    // order of its Joi schema: fields, sort, filter, limit, offset, page, meta, search, deep.
    let filter = match params.get("filter").filter(|v| truthy(v)) {
        Some(raw) => Some(filter_object(raw)?.map(|f| parse_filter(&f, ctx, now)).transpose()?),
        None => None,
    };
    let fields = fields(params.get("fields"))?;
    let sort = sort(params.get("sort"))?;
    let filter = match filter {
        Some(None) => return Err(ApiError::invalid_query("\"filter\" must be of type object")),
        Some(filter) => filter,
        None => None,
    };
    export(params.get("export"))?;
    let query = Query {
        fields: fields.unwrap_or_else(|| vec!["*".to_string()]),
        filter,
        sort,
        limit: limit(params.get("limit"))?,
        offset: truthy_number(params.get("offset"), "offset")?,
        page: truthy_number(params.get("page"), "page")?,
        meta: meta(params.get("meta"))?,
        search: search(params.get("search")),
        deep: params.get("deep").filter(|v| truthy(v)).map(|d| deep(d, ctx, now)).transpose()?,
    };
    first_row(query.limit.unwrap_or(DEFAULT_LIMIT), query.page, query.offset)?;
    Ok(query)
}

/// `QUERY_LIMIT_MAX` on a client's query, as later Directus releases apply it: `-1` asks for
/// `max` rows, a larger limit is 400 `INVALID_QUERY` naming `max`, and no limit is the default
/// limit or `max`, whichever is smaller. Each `_limit` of `deep` is held to it the same way.
pub fn cap_limit(query: &mut Query, max: i64) -> Result<(), ApiError> {
    query.limit = Some(capped(query.limit.unwrap_or(DEFAULT_LIMIT.min(max)), max)?);
    if let Some(deep) = &mut query.deep {
        cap_deep_limits(deep, max)?;
    }
    Ok(())
}

fn capped(limit: i64, max: i64) -> Result<i64, ApiError> {
    match limit {
        -1 => Ok(max),
        limit if limit > max => Err(ApiError::invalid_query(format!("\"limit\" must be less than or equal to {max}"))),
        limit => Ok(limit),
    }
}

fn cap_deep_limits(level: &mut Map<String, Value>, max: i64) -> Result<(), ApiError> {
    for (key, value) in level.iter_mut() {
        match (key.as_str(), value) {
            ("_limit", value) => {
                if let Some(limit) = value.as_i64() {
                    *value = Value::from(capped(limit, max)?);
                }
            }
            (key, Value::Object(child)) if !key.starts_with('_') => cap_deep_limits(child, max)?,
            _ => {}
        }
    }
    Ok(())
}

/// JavaScript truthiness, which decides whether Directus looks at a parameter at all.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The filter as an object: given as one, or as JSON text (`null` counts as `{}`, as it does in
/// Directus). `None` when it is anything else.
fn filter_object(raw: &Value) -> Result<Option<Value>, ApiError> {
    let value = match raw {
        Value::String(s) => match json_text(s, "filter")? {
            Some(value) => value,
            None => return Ok(None),
        },
        other => other.clone(),
    };
    Ok(match value {
        Value::Object(_) => Some(value),
        Value::Null => Some(Value::Object(Map::new())),
        _ => None,
    })
}

/// How deep JSON in a query parameter may nest (the JSON parser's own limit).
const MAX_JSON_DEPTH: usize = 128;

/// A parameter given as JSON text; `None` when it is not JSON (Directus then validates the text
/// itself, which is not an object). JSON nested past [`MAX_JSON_DEPTH`] is refused naming that,
/// since "must be of type object" would name the wrong problem.
fn json_text(text: &str, name: &str) -> Result<Option<Value>, ApiError> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            Err(ApiError::invalid_query(format!("\"{name}\" is nested more than {MAX_JSON_DEPTH} levels deep")))
        }
        Err(_) => Ok(None),
    }
}

/// CSV or array (whose elements may be CSV), trimmed, empty names dropped; `None` when absent
/// or empty, so the caller picks the default.
fn fields(raw: Option<&Value>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(raw) = raw.filter(|v| truthy(v)) else { return Ok(None) };
    let mut fields = Vec::new();
    for item in csv_items(raw) {
        let Value::String(s) = item else {
            return Err(ApiError::invalid_query(format!("\"fields[{}]\" must be a string", fields.len())));
        };
        fields.extend(s.split(',').map(str::trim).filter(|f| !f.is_empty()).map(String::from));
    }
    if fields.iter().any(|f| f.matches('.').count() > MAX_RELATIONAL_DEPTH) {
        return Err(ApiError::invalid_query("Max relational depth exceeded."));
    }
    Ok((!fields.is_empty()).then_some(fields))
}

/// How many relations one field path may cross (`author.country.name` crosses two): the default
/// of the `MAX_RELATIONAL_DEPTH` later Directus releases added. rc.83 followed any depth, one
/// query per level, so `fields=` 1,000 levels deep on a self-relation kept the server busy.
const MAX_RELATIONAL_DEPTH: usize = 10;

/// The elements of a CSV-or-array parameter; other shapes have none (Directus ignores them).
fn csv_items(raw: &Value) -> Vec<&Value> {
    match raw {
        Value::String(_) => vec![raw],
        Value::Array(items) => items.iter().collect(),
        _ => vec![],
    }
}

fn sort(raw: Option<&Value>) -> Result<Vec<Sort>, ApiError> {
    let Some(raw) = raw.filter(|v| truthy(v)) else { return Ok(vec![]) };
    let mut sort = Vec::new();
    for item in csv_items(raw) {
        let Value::String(s) = item else {
            return Err(ApiError::invalid_query(format!("\"sort[{}]\" must be a string", sort.len())));
        };
        for part in s.split(',').map(str::trim) {
            let (column, descending) = match part.strip_prefix('-') {
                Some(column) => (column.trim(), true),
                None => (part, false),
            };
            if !column.is_empty() {
                sort.push(Sort { column: column.to_string(), descending });
            }
        }
    }
    Ok(sort)
}

/// `limit` is read whenever present (so `limit=` is 0); -1 means unlimited.
fn limit(raw: Option<&Value>) -> Result<Option<i64>, ApiError> {
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(v) => integer(v, "limit", -1).map(Some),
    }
}

/// `offset` and `page` are only read when truthy (so `offset=` is absent).
fn truthy_number(raw: Option<&Value>, name: &str) -> Result<Option<i64>, ApiError> {
    raw.filter(|v| truthy(v)).map(|v| integer(v, name, 0)).transpose()
}

/// JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `Number(x)` then Joi's `number()`; fractions are truncated as knex's `parseInt` does. Values
/// below `min` are rejected (rc.83 sent them to the database, which failed or ignored them).
fn integer(raw: &Value, name: &str, min: i64) -> Result<i64, ApiError> {
    let Some(n) = js_number(raw) else {
        return Err(ApiError::invalid_query(format!("\"{name}\" must be a number")));
    };
    if n.is_infinite() {
        return Err(ApiError::invalid_query(format!("\"{name}\" cannot be infinity")));
    }
    // Joi's `number()` refuses what a double can't count exactly; that also keeps every value
    // (and `limit × page`, checked in `first_row`) clear of 64-bit overflow.
    if n.abs() > MAX_SAFE_INTEGER {
        return Err(ApiError::invalid_query(format!("\"{name}\" must be a safe number")));
    }
    let n = n.trunc() as i64;
    if n < min {
        return Err(ApiError::invalid_query(format!("\"{name}\" must be greater than or equal to {min}")));
    }
    Ok(n)
}

/// JavaScript's `Number(value)`; `None` for NaN.
pub fn js_number(value: &Value) -> Option<f64> {
    match value {
        Value::Null => Some(0.0),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => js_string_number(s),
        Value::Array(_) => js_string_number(&js_string(value)),
        Value::Object(_) => None,
    }
}

/// `String(value)` for what an array converts through.
fn js_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(js_string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".to_string(),
        other => other.to_string(),
    }
}

fn js_string_number(s: &str) -> Option<f64> {
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if s.is_empty() {
        return Some(0.0);
    }
    match s {
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    for (prefix, radix) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] {
        if let Some(digits) = s.strip_prefix(prefix) {
            return u128::from_str_radix(digits, radix).ok().filter(|_| !digits.starts_with('+')).map(|n| n as f64);
        }
    }
    // Rust also accepts `inf` and `NaN`, JavaScript doesn't.
    if !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// `*` = both; CSV, an array or a single value, each of which must be one of the two names.
fn meta(raw: Option<&Value>) -> Result<Vec<MetaKind>, ApiError> {
    let Some(raw) = raw.filter(|v| truthy(v)) else { return Ok(vec![]) };
    let items: Vec<Value> = match raw {
        Value::String(s) if s == "*" => return Ok(vec![MetaKind::TotalCount, MetaKind::FilterCount]),
        Value::String(s) => s.split(',').map(|p| Value::String(p.to_string())).collect(),
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut meta = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let kind = match item.as_str() {
            Some("total_count") => MetaKind::TotalCount,
            Some("filter_count") => MetaKind::FilterCount,
            _ => return Err(ApiError::invalid_query(format!("\"meta[{i}]\" must be one of [total_count, filter_count]"))),
        };
        if !meta.contains(&kind) {
            meta.push(kind);
        }
    }
    Ok(meta)
}

/// `export` must name a format the HTTP layer renders (`services::export`); the rendering
/// itself happens on the response, as Directus's `respond` does it.
fn export(raw: Option<&Value>) -> Result<(), ApiError> {
    match raw.filter(|v| truthy(v)) {
        None => Ok(()),
        Some(v) if v.as_str().and_then(crate::services::export::Format::parse).is_some() => Ok(()),
        Some(_) => Err(ApiError::invalid_query("\"export\" must be one of [json, csv, xml]")),
    }
}

/// Only a non-empty string counts; anything else is ignored, as in Directus.
fn search(raw: Option<&Value>) -> Option<String> {
    raw.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// `deep[rel][_filter]…`: per relational path, the `_`-prefixed query keys, sanitised like the
/// top-level ones into JSON: `_fields` → string array, `_sort` → `[{column, order}]`, `_filter`
/// → parsed filter, `_limit`/`_offset`/`_page` → numbers, `_meta` → names, `_search` → string.
/// Unknown keys are dropped; paths without query keys are left out.
fn deep(raw: &Value, ctx: &FilterContext, now: DateTime<Utc>) -> Result<Map<String, Value>, ApiError> {
    let level = match raw {
        Value::String(s) => json_text(s, "deep")?,
        other => Some(other.clone()),
    };
    match level {
        Some(Value::Object(level)) => Ok(deep_level(&level, "deep", ctx, now)?.unwrap_or_default()),
        _ => Err(ApiError::invalid_query("\"deep\" must be of type object")),
    }
}

fn deep_level(level: &Map<String, Value>, path: &str, ctx: &FilterContext, now: DateTime<Utc>) -> Result<Option<Map<String, Value>>, ApiError> {
    let mut out = Map::new();
    for (key, value) in level {
        if let Some(param) = key.strip_prefix('_') {
            if let Some(v) = deep_param(param, value, ctx, now)? {
                out.insert(key.clone(), v);
            }
            continue;
        }
        let child_path = format!("{path}.{key}");
        let Value::Object(child) = value else {
            return Err(ApiError::invalid_query(format!("\"{child_path}\" must be of type object")));
        };
        if let Some(sub) = deep_level(child, &child_path, ctx, now)? {
            out.insert(key.clone(), Value::Object(sub));
        }
    }
    let number = |key: &str| out.get(key).and_then(Value::as_i64);
    first_row(number("_limit").unwrap_or(DEFAULT_LIMIT), number("_page"), number("_offset"))?;
    Ok((!out.is_empty()).then_some(out))
}

fn deep_param(param: &str, raw: &Value, ctx: &FilterContext, now: DateTime<Utc>) -> Result<Option<Value>, ApiError> {
    let raw = Some(raw);
    Ok(match param {
        "fields" => fields(raw)?.map(|f| json!(f)),
        "sort" => Some(sort(raw)?)
            .filter(|s| !s.is_empty())
            .map(|s| Value::Array(s.into_iter().map(|s| json!({"column": s.column, "order": if s.descending { "desc" } else { "asc" }})).collect())),
        "filter" => match raw.filter(|v| truthy(v)) {
            Some(v) => match filter_object(v)? {
                Some(f) => Some(parse_filter(&f, ctx, now)?),
                None => return Err(ApiError::invalid_query("\"filter\" must be of type object")),
            },
            None => None,
        },
        "limit" => limit(raw)?.map(Value::from),
        "offset" | "page" => truthy_number(raw, param)?.map(Value::from),
        "meta" => Some(meta(raw)?)
            .filter(|m| !m.is_empty())
            .map(|m| Value::Array(m.into_iter().map(|k| json!(if k == MetaKind::TotalCount { "total_count" } else { "filter_count" })).collect())),
        "search" => search(raw).map(Value::String),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::qs;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 6, 1, 0, 0, 0).unwrap()
    }

    fn from_qs(raw: &str) -> Result<Query, ApiError> {
        sanitize(&qs::parse(raw), &FilterContext { user: Some("me".into()), role: None }, now())
    }

    fn from_json(params: Value) -> Result<Query, ApiError> {
        sanitize(params.as_object().unwrap(), &FilterContext::default(), now())
    }

    fn message(raw: &str) -> String {
        let err = from_qs(raw).unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (400, "INVALID_QUERY"), "{raw}");
        err.message
    }

    fn asc(column: &str) -> Sort {
        Sort { column: column.into(), descending: false }
    }

    fn desc(column: &str) -> Sort {
        Sort { column: column.into(), descending: true }
    }

    #[test]
    fn defaults() {
        let q = from_qs("").unwrap();
        assert_eq!(q.fields, ["*"]);
        assert_eq!(q.filter, None);
        assert!(q.sort.is_empty() && q.meta.is_empty());
        assert_eq!((q.limit, q.offset, q.page), (None, None, None));
        assert_eq!((q.search, q.deep), (None, None));
        assert_eq!(from_qs("fields=").unwrap().fields, ["*"]);
        assert_eq!(from_qs("fields=,%20,").unwrap().fields, ["*"]);
        assert_eq!(from_qs("unknown=1&aggregate[count]=*&export=csv").unwrap().fields, ["*"]);
        assert_eq!(from_qs("export=pdf").unwrap_err().message, "\"export\" must be one of [json, csv, xml]");
    }

    #[test]
    fn fields_csv_and_arrays() {
        assert_eq!(from_qs("fields=id,%20title%20,author.name").unwrap().fields, ["id", "title", "author.name"]);
        assert_eq!(from_qs("fields[]=id,title&fields[]=body").unwrap().fields, ["id", "title", "body"]);
        assert_eq!(from_qs("fields=a&fields=b,c").unwrap().fields, ["a", "b", "c"]);
        assert_eq!(from_json(json!({"fields": ["id", "rel.*"]})).unwrap().fields, ["id", "rel.*"]);
        assert_eq!(from_qs("fields[a]=b").unwrap().fields, ["*"]);
        assert_eq!(from_json(json!({"fields": ["id", 3]})).unwrap_err().message, "\"fields[1]\" must be a string");
    }

    #[test]
    fn sort_csv_and_arrays() {
        assert_eq!(from_qs("sort=-date_created,title").unwrap().sort, [desc("date_created"), asc("title")]);
        assert_eq!(from_qs("sort[]=-id&sort[]=name").unwrap().sort, [desc("id"), asc("name")]);
        assert_eq!(from_qs("sort=a,,-").unwrap().sort, [asc("a")]);
        assert_eq!(from_json(json!({"sort": [1]})).unwrap_err().message, "\"sort[0]\" must be a string");
    }

    #[test]
    fn filter_from_brackets_and_json() {
        let q = from_qs("filter[title][_eq]=Hello&filter[published][_eq]=true&filter[owner][_eq]=$CURRENT_USER").unwrap();
        assert_eq!(q.filter, Some(json!({"title": {"_eq": "Hello"}, "published": {"_eq": true}, "owner": {"_eq": "me"}})));
        let q = from_qs("filter=%7B%22id%22%3A%7B%22_in%22%3A%221%2C2%22%7D%7D").unwrap();
        assert_eq!(q.filter, Some(json!({"id": {"_in": ["1", "2"]}})));
        let q = from_qs("filter[date][_gt]=$NOW(-1%20day)").unwrap();
        assert_eq!(q.filter, Some(json!({"date": {"_gt": "2021-05-31T00:00:00.000Z"}})));
        assert_eq!(from_qs("filter=").unwrap().filter, None);
        assert_eq!(from_qs("filter=null").unwrap().filter, Some(json!({})));
    }

    #[test]
    fn filter_errors() {
        assert_eq!(message("filter=not-json"), "\"filter\" must be of type object");
        assert_eq!(message("filter=5"), "\"filter\" must be of type object");
        assert_eq!(message("filter=[1]"), "\"filter\" must be of type object");
        assert_eq!(message("filter[]=x"), "\"filter\" must be of type object");
        assert_eq!(message("filter[title][_eq]="), "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead");
        assert_eq!(message("filter[title][_null]"), "\"_null\" has to be a boolean");
        assert_eq!(message("filter[id][_in][a]=1"), "The filter value for \"_in\" has to be a string, number, or boolean");
    }

    #[test]
    fn filter_errors_come_before_schema_errors() {
        assert_eq!(
            message("limit=abc&filter[title][_eq]="),
            "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead"
        );
        assert_eq!(message("limit=abc&meta=x"), "\"limit\" must be a number");
        assert_eq!(message("meta=x&filter=bad"), "\"filter\" must be of type object");
    }

    #[test]
    fn limit_held_to_query_limit_max() {
        let capped = |raw: &str| {
            let mut q = from_qs(raw)?;
            cap_limit(&mut q, 50).map(|_| q)
        };
        assert_eq!(capped("limit=-1").unwrap().limit, Some(50), "-1 asks for the maximum");
        assert_eq!(capped("limit=20").unwrap().limit, Some(20));
        assert_eq!(capped("limit=50").unwrap().limit, Some(50));
        assert_eq!(capped("").unwrap().limit, Some(50), "the default limit, held to the maximum");
        assert_eq!(capped("limit=51").unwrap_err().message, "\"limit\" must be less than or equal to 50");
        let deep = capped("deep[comments][_limit]=-1&deep[author][articles][_limit]=5").unwrap().deep.unwrap();
        assert_eq!((deep["comments"]["_limit"].clone(), deep["author"]["articles"]["_limit"].clone()), (json!(50), json!(5)));
        assert_eq!(capped("deep[comments][_limit]=1000").unwrap_err().message, "\"limit\" must be less than or equal to 50");
        let mut small = from_qs("").unwrap();
        cap_limit(&mut small, 500).unwrap();
        assert_eq!(small.limit, Some(DEFAULT_LIMIT));
    }

    #[test]
    fn limit_offset_page() {
        let q = from_qs("limit=10&offset=5&page=2").unwrap();
        assert_eq!((q.limit, q.offset, q.page), (Some(10), Some(5), Some(2)));
        assert_eq!(from_qs("limit=-1").unwrap().limit, Some(-1));
        assert_eq!(from_qs("limit=0").unwrap().limit, Some(0));
        assert_eq!(from_qs("limit=").unwrap().limit, Some(0));
        assert_eq!(from_qs("limit=%2012%20").unwrap().limit, Some(12));
        assert_eq!(from_qs("limit=2.9").unwrap().limit, Some(2));
        assert_eq!(from_qs("limit=1e2").unwrap().limit, Some(100));
        assert_eq!(from_qs("limit=0x10").unwrap().limit, Some(16));
        assert_eq!(from_qs("limit[]=7").unwrap().limit, Some(7));
        assert_eq!(from_qs("offset=&page=").unwrap().offset, None);
        assert_eq!(from_qs("offset=0").unwrap().offset, Some(0));
        let q = from_json(json!({"limit": 5, "offset": 0, "page": 3})).unwrap();
        assert_eq!((q.limit, q.offset, q.page), (Some(5), None, Some(3)));
        assert_eq!(from_json(json!({"limit": null})).unwrap().limit, None);
    }

    #[test]
    fn number_errors() {
        assert_eq!(message("limit=abc"), "\"limit\" must be a number");
        assert_eq!(message("limit=1&limit=2"), "\"limit\" must be a number");
        assert_eq!(message("limit[a]=1"), "\"limit\" must be a number");
        assert_eq!(message("limit=inf"), "\"limit\" must be a number");
        assert_eq!(message("limit=NaN"), "\"limit\" must be a number");
        assert_eq!(message("limit=Infinity"), "\"limit\" cannot be infinity");
        assert_eq!(message("limit=-2"), "\"limit\" must be greater than or equal to -1");
        assert_eq!(message("offset=x"), "\"offset\" must be a number");
        assert_eq!(message("offset=-1"), "\"offset\" must be greater than or equal to 0");
        assert_eq!(message("page=two"), "\"page\" must be a number");
    }

    #[test]
    fn fields_cross_at_most_ten_relations() {
        let path = |depth: usize| vec!["parent"; depth].join(".") + ".id";
        assert_eq!(from_qs(&format!("fields={}", path(10))).unwrap().fields, [path(10)]);
        assert_eq!(message(&format!("fields=id,{}", path(11))), "Max relational depth exceeded.");
        assert_eq!(message(&format!("fields={}", path(1000))), "Max relational depth exceeded.");
        assert_eq!(message(&format!("deep[parent][_fields]={}", path(11))), "Max relational depth exceeded.");
    }

    #[test]
    fn json_nested_too_deep_is_named() {
        let deep = |depth: usize| format!("{}{}", "{\"_and\":[".repeat(depth), "]}".repeat(depth));
        assert_eq!(message(&format!("filter={}", deep(200))), "\"filter\" is nested more than 128 levels deep");
        assert_eq!(message(&format!("deep={}", deep(200))), "\"deep\" is nested more than 128 levels deep");
        assert!(from_qs(&format!("filter={}", deep(40))).is_ok());
        assert_eq!(message("filter={nope"), "\"filter\" must be of type object", "text that is not JSON is still what Directus says");
    }

    #[test]
    fn windows_past_64_bits_are_refused() {
        assert_eq!(message("limit=1000000000000000000&page=100"), "\"limit\" must be a safe number");
        assert_eq!(message("offset=1e300"), "\"offset\" must be a safe number");
        assert_eq!(
            message("limit=9007199254740991&page=9007199254740991"),
            "\"page\" 9007199254740991 at \"limit\" 9007199254740991 starts past the last row a database can address"
        );
        assert!(message("page=9007199254740991&limit=2048").contains("\"limit\" 2048"));
        assert_eq!(from_qs("page=9007199254740991").unwrap().page, Some(9007199254740991), "100 rows a page still fit");
        assert!(message("deep[comments][_limit]=9007199254740991&deep[comments][_page]=4096").starts_with("\"page\" 4096"));
        assert_eq!(from_qs("limit=9007199254740991&page=1024").unwrap().page, Some(1024));
        assert_eq!(from_qs("limit=-1&page=9007199254740991").unwrap().limit, Some(-1));
    }

    #[test]
    fn meta_values() {
        assert_eq!(from_qs("meta=*").unwrap().meta, [MetaKind::TotalCount, MetaKind::FilterCount]);
        assert_eq!(from_qs("meta=filter_count").unwrap().meta, [MetaKind::FilterCount]);
        assert_eq!(from_qs("meta=filter_count,total_count").unwrap().meta, [MetaKind::FilterCount, MetaKind::TotalCount]);
        assert_eq!(from_qs("meta[]=total_count&meta[]=total_count").unwrap().meta, [MetaKind::TotalCount]);
        assert_eq!(from_qs("meta=").unwrap().meta, []);
    }

    #[test]
    fn meta_errors() {
        assert_eq!(message("meta=bogus"), "\"meta[0]\" must be one of [total_count, filter_count]");
        assert_eq!(message("meta=total_count,bogus"), "\"meta[1]\" must be one of [total_count, filter_count]");
        assert_eq!(message("meta[]=*"), "\"meta[0]\" must be one of [total_count, filter_count]");
        assert_eq!(message("meta[a]=total_count"), "\"meta[0]\" must be one of [total_count, filter_count]");
        assert_eq!(from_json(json!({"meta": 5})).unwrap_err().message, "\"meta[0]\" must be one of [total_count, filter_count]");
    }

    #[test]
    fn search_strings_only() {
        assert_eq!(from_qs("search=hello%20world").unwrap().search.as_deref(), Some("hello world"));
        assert_eq!(from_qs("search=").unwrap().search, None);
        assert_eq!(from_qs("search[]=a").unwrap().search, None);
    }

    #[test]
    fn deep_queries() {
        let q = from_qs("deep[translations][_filter][lang][_eq]=en&deep[translations][_limit]=1&deep[author][avatar][_sort]=-id&deep[a][_unknown]=1")
            .unwrap();
        assert_eq!(
            Value::Object(q.deep.unwrap()),
            json!({
                "translations": {"_filter": {"lang": {"_eq": "en"}}, "_limit": 1},
                "author": {"avatar": {"_sort": [{"column": "id", "order": "desc"}]}}
            })
        );
    }

    #[test]
    fn deep_as_json_and_errors() {
        let q = from_qs("deep=%7B%22rel%22%3A%7B%22_fields%22%3A%22id%2Cname%22%2C%22_meta%22%3A%22*%22%7D%7D").unwrap();
        assert_eq!(Value::Object(q.deep.unwrap()), json!({"rel": {"_fields": ["id", "name"], "_meta": ["total_count", "filter_count"]}}));
        assert_eq!(from_qs("deep[rel][_search]=x").unwrap().deep.unwrap()["rel"]["_search"], "x");
        assert_eq!(message("deep=not-json"), "\"deep\" must be of type object");
        assert_eq!(message("deep[]=x"), "\"deep\" must be of type object");
        assert_eq!(message("deep[rel]=x"), "\"deep.rel\" must be of type object");
        assert_eq!(message("deep[rel][_limit]=abc"), "\"limit\" must be a number");
        assert_eq!(message("deep[rel][_filter][a][_eq]="), "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead");
    }
}
