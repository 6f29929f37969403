//! `ImportService` (spec §4.4, `POST /utils/import/:collection`): a JSON or CSV file becomes
//! items, created through `ItemsService` as the caller — so permissions apply and every row
//! fires the create events — all in one transaction: one bad row imports nothing.
//!
//! JSON is an array of objects (or one object). CSV has a header row; an empty cell is `null`
//! and a cell that parses as JSON (numbers, booleans, arrays, objects) is that value, else text,
//! as Directus's importer did. Other types are 415 `UNSUPPORTED_MEDIA_TYPE`.

use serde_json::{Map, Value};

use super::items::ItemsService;
use super::{MutationOptions, Services};
use crate::auth::Accountability;
use crate::{ApiError, ErrorCode};

/// The rows of an import file.
pub fn parse(mimetype: &str, bytes: &[u8]) -> Result<Vec<Value>, ApiError> {
    let essence = mimetype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => match serde_json::from_slice::<Value>(bytes).map_err(|e| ApiError::invalid_payload(format!("The file isn't valid JSON: {e}")))? {
            Value::Array(items) if items.iter().all(Value::is_object) => Ok(items),
            item @ Value::Object(_) => Ok(vec![item]),
            _ => Err(ApiError::invalid_payload("The JSON file must hold an object or an array of objects.")),
        },
        "text/csv" => csv_rows(bytes),
        other => Err(ApiError::new(ErrorCode::UnsupportedMediaType, format!("Can't import files of type \"{other}\"."))),
    }
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Value>, ApiError> {
    let invalid = |e: csv::Error| ApiError::invalid_payload(format!("The file isn't valid CSV: {e}"));
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(invalid)?.clone();
    let mut rows = vec![];
    for record in reader.records() {
        let record = record.map_err(invalid)?;
        let row: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(name, cell)| {
                let value = if cell.is_empty() { Value::Null } else { serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.to_string())) };
                (name.to_string(), value)
            })
            .collect();
        rows.push(Value::Object(row));
    }
    Ok(rows)
}

/// Imports `bytes` of type `mimetype` into `collection` as `caller`; the number of items created.
pub async fn import(services: &Services, caller: Option<Accountability>, collection: &str, mimetype: &str, bytes: &[u8]) -> Result<usize, ApiError> {
    let schema = services.schema.get().await?;
    import_into(&ItemsService::new(collection, services.clone(), schema, caller), mimetype, bytes).await
}

/// [`import`] through `items`, an `ItemsService` on the collection as the caller (a hook's: at
/// its depth, in its transaction, which then decides whether the rows stay).
pub async fn import_into(items: &ItemsService, mimetype: &str, bytes: &[u8]) -> Result<usize, ApiError> {
    let rows = parse(mimetype, bytes)?;
    Ok(items.create_many(rows, MutationOptions::default()).await?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_cells_are_json_values_or_text() {
        let rows = parse("text/csv; charset=utf-8", b"title,views,tags,note\n\"Hello, you\",3,\"[\"\"a\"\"]\",\nplain,true,{},x\n").unwrap();
        assert_eq!(rows, vec![json!({ "title": "Hello, you", "views": 3, "tags": ["a"], "note": null }), json!({ "title": "plain", "views": true, "tags": {}, "note": "x" })]);
    }

    #[test]
    fn json_is_one_object_or_a_list_of_them() {
        assert_eq!(parse("application/json", br#"{"a":1}"#).unwrap().len(), 1);
        assert_eq!(parse("application/json", br#"[{"a":1},{"a":2}]"#).unwrap().len(), 2);
        assert_eq!(parse("application/json", b"[1]").unwrap_err().code.as_str(), "INVALID_PAYLOAD");
        assert_eq!(parse("application/pdf", b"").unwrap_err().status, 415);
    }
}
