//! `?export=json|csv|xml` (spec §7.2): the `data` of a read rendered as a download, as
//! Directus's `ExportService.transform` does it.
//!
//! Decisions where Directus's libraries leave room:
//! - JSON is indented with tabs.
//! - CSV (json2csv with flatten in Directus): nested objects become `parent.child` columns,
//!   arrays stay JSON text, `null` is an empty cell; the header is every column in order of first
//!   appearance; text (and booleans) are quoted, numbers are not.
//! - XML (js2xmlparser in Directus): a `<data>` root; a list becomes one `<data>` element per
//!   item, an object one element per key, an array inside an item repeats its key's element.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value};

use crate::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xml,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xml => "xml",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

pub fn render(data: &Value, format: Format) -> Result<String, ApiError> {
    match format {
        Format::Json => json(data),
        Format::Csv => csv(data),
        Format::Xml => xml(data),
    }
}

fn json(data: &Value) -> Result<String, ApiError> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"\t"));
    serde::Serialize::serialize(data, &mut serializer).map_err(|e| ApiError::internal(e.to_string()))?;
    String::from_utf8(out).map_err(|e| ApiError::internal(e.to_string()))
}

fn rows(data: &Value) -> Vec<&Value> {
    match data {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() || prefix.is_empty() => {
            for (key, inner) in map {
                let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&name, inner, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn csv(data: &Value) -> Result<String, ApiError> {
    let flat: Vec<Vec<(String, Value)>> = rows(data)
        .into_iter()
        .map(|row| {
            let mut cells = vec![];
            flatten("", row, &mut cells);
            cells
        })
        .collect();
    let mut columns: Vec<String> = vec![];
    for cells in &flat {
        for (name, _) in cells {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    let failed = |e: csv::Error| ApiError::internal(format!("can't write CSV: {e}"));
    let mut writer = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::NonNumeric).from_writer(vec![]);
    writer.write_record(&columns).map_err(failed)?;
    for cells in &flat {
        let record = columns.iter().map(|column| match cells.iter().find(|(name, _)| name == column).map(|(_, v)| v) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        writer.write_record(record).map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|e| ApiError::internal(format!("can't write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(e.to_string()))
}

fn xml(data: &Value) -> Result<String, ApiError> {
    let failed = |e: std::io::Error| ApiError::internal(format!("can't write XML: {e}"));
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 4);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).map_err(failed)?;
    match data {
        Value::Array(items) => {
            writer.write_event(Event::Start(BytesStart::new("data"))).map_err(failed)?;
            for item in items {
                element(&mut writer, "data", item).map_err(failed)?;
            }
            writer.write_event(Event::End(BytesEnd::new("data"))).map_err(failed)?;
        }
        other => element(&mut writer, "data", other).map_err(failed)?,
    }
    String::from_utf8(writer.into_inner()).map_err(|e| ApiError::internal(e.to_string()))
}

fn element(writer: &mut quick_xml::Writer<Vec<u8>>, name: &str, value: &Value) -> std::io::Result<()> {
    match value {
        Value::Array(items) => items.iter().try_for_each(|item| element(writer, name, item)),
        Value::Object(map) => {
            writer.write_event(Event::Start(BytesStart::new(name)))?;
            children(writer, map)?;
            writer.write_event(Event::End(BytesEnd::new(name)))
        }
        Value::Null => writer.write_event(Event::Empty(BytesStart::new(name))),
        Value::String(s) => text(writer, name, s),
        other => text(writer, name, &other.to_string()),
    }
}

fn children(writer: &mut quick_xml::Writer<Vec<u8>>, map: &Map<String, Value>) -> std::io::Result<()> {
    map.iter().try_for_each(|(key, value)| element(writer, key, value))
}

fn text(writer: &mut quick_xml::Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(name)))?;
    writer.write_event(Event::Text(BytesText::new(text)))?;
    writer.write_event(Event::End(BytesEnd::new(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_flattens_objects_and_quotes_text() {
        let data = json!([{ "id": 1, "title": "A, \"b\"", "author": { "name": "Ada" }, "tags": ["x"] }, { "id": 2, "title": null, "extra": true }]);
        assert_eq!(
            render(&data, Format::Csv).unwrap(),
            "\"id\",\"title\",\"author.name\",\"tags\",\"extra\"\n1,\"A, \"\"b\"\"\",\"Ada\",\"[\"\"x\"\"]\",\"\"\n2,\"\",\"\",\"\",\"true\"\n"
        );
    }

    #[test]
    fn xml_repeats_list_elements_and_escapes_text() {
        let data = json!([{ "id": 1, "title": "a < b", "tags": ["x", "y"], "note": null }]);
        let xml = render(&data, Format::Xml).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{xml}");
        for part in ["<data>\n    <data>\n        <id>1</id>", "<title>a &lt; b</title>", "<tags>x</tags>\n        <tags>y</tags>", "<note/>"] {
            assert!(xml.contains(part), "{part} in {xml}");
        }
    }

    #[test]
    fn json_is_indented_with_tabs() {
        assert_eq!(render(&json!([{ "id": 1 }]), Format::Json).unwrap(), "[\n\t{\n\t\t\"id\": 1\n\t}\n]");
    }
}
