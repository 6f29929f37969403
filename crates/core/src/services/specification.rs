//! `SpecificationService.oas.generate()` behind `GET /server/specs/oas` (spec §4.4, §7.4): an
//! OpenAPI 3.0 document of the items routes, built from the schema as the caller sees it.
//!
//! Decisions: only user collections the caller may read are described (admins: all); each gets
//! `GET`/`POST /items/<c>` and `GET`/`PATCH`/`DELETE /items/<c>/{id}` and a component schema of its
//! readable fields, typed from the Directus field types (`integer`, `number`, `boolean`, `string`
//! with `date-time`/`date`/`uuid` formats, `object` for JSON, `array` for CSV). The system routes
//! are not described.

use serde_json::{json, Map, Value};

use super::permissions;
use super::Services;
use crate::auth::Accountability;
use crate::schema::FieldOverview;
use crate::{ApiError, ErrorCode};

fn field_schema(field: &FieldOverview) -> Value {
    let mut schema = match field.kind.as_str() {
        "integer" | "bigInteger" => json!({ "type": "integer" }),
        "float" | "decimal" => json!({ "type": "number" }),
        "boolean" => json!({ "type": "boolean" }),
        "json" => json!({ "type": "object" }),
        "csv" => json!({ "type": "array", "items": { "type": "string" } }),
        "timestamp" | "dateTime" => json!({ "type": "string", "format": "date-time" }),
        "date" => json!({ "type": "string", "format": "date" }),
        "uuid" => json!({ "type": "string", "format": "uuid" }),
        _ => json!({ "type": "string" }),
    };
    schema["nullable"] = json!(field.nullable);
    if let Some(note) = &field.note {
        schema["description"] = json!(note);
    }
    schema
}

fn operation(tag: &str, summary: String, reference: &str, many: bool, body: bool) -> Value {
    let data = if many { json!({ "type": "array", "items": { "$ref": reference } }) } else { json!({ "$ref": reference }) };
    let mut op = json!({
        "tags": [tag],
        "summary": summary,
        "responses": {
            "200": { "description": "Successful request", "content": { "application/json": { "schema": { "type": "object", "properties": { "data": data } } } } },
            "401": { "$ref": "#/components/responses/UnauthorizedError" },
        },
    });
    if body {
        op["requestBody"] = json!({ "content": { "application/json": { "schema": { "$ref": reference } } } });
    }
    op
}

pub async fn oas(services: &Services, caller: Option<&Accountability>, public_url: &str) -> Result<Value, ApiError> {
    let schema = services.schema.get().await?;
    let (mut paths, mut schemas, mut tags) = (Map::new(), Map::new(), vec![]);
    for (name, collection) in schema.collections.iter().filter(|(n, _)| !n.starts_with("directus_")) {
        let permission = match permissions::for_action(services, caller, name, "read").await {
            Ok(p) => p,
            Err(e) if e.code == ErrorCode::Forbidden => continue,
            Err(e) => return Err(e),
        };
        let properties: Map<String, Value> = collection
            .fields
            .values()
            .filter(|f| !f.alias && permission.as_ref().is_none_or(|p| p.allows_field(&f.field)))
            .map(|f| (f.field.clone(), field_schema(f)))
            .collect();
        let tag = format!("Items{}", name);
        let reference = format!("#/components/schemas/{tag}");
        schemas.insert(tag.clone(), json!({ "type": "object", "properties": properties }));
        tags.push(json!({ "name": tag, "x-collection": name }));
        let id = json!([{ "name": "id", "in": "path", "required": true, "schema": { "oneOf": [{ "type": "integer" }, { "type": "string" }] } }]);
        paths.insert(
            format!("/items/{name}"),
            json!({
                "get": operation(&tag, format!("List the {name} items"), &reference, true, false),
                "post": operation(&tag, format!("Create {name} items"), &reference, false, true),
            }),
        );
        paths.insert(
            format!("/items/{name}/{{id}}"),
            json!({
                "parameters": id,
                "get": operation(&tag, format!("Retrieve a {name} item"), &reference, false, false),
                "patch": operation(&tag, format!("Update a {name} item"), &reference, false, true),
                "delete": { "tags": [tag], "summary": format!("Delete a {name} item"), "responses": { "200": { "description": "Successful request" } } },
            }),
        );
    }
    Ok(json!({
        "openapi": "3.0.1",
        "info": { "title": "Dynamic API Specification", "description": "This is a dynamically generated API specification for all endpoints existing on the current project.", "version": crate::DIRECTUS_COMPAT_VERSION },
        "servers": [{ "url": public_url, "description": "Your current Directus instance." }],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "Auth": { "type": "http", "scheme": "bearer" } },
            "responses": { "UnauthorizedError": { "description": "Error: Unauthorized request" } },
        },
        "security": [{ "Auth": [] }],
    }))
}
