//! Relational fields (`fields=author.name`, `fields=comments.*`, `fields=blocks.item:headings.*`,
//! `fields=*.*`, `deep`, nested writes): which fields are many-to-one, one-to-many or many-to-any
//! according to the schema's relations, and which nested fields a query asks for under each.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::schema::{CollectionOverview, SchemaOverview};

/// How a field of a collection relates to another collection.
#[derive(Debug, Clone, PartialEq)]
pub enum Relation {
    /// The field holds the key of one item of `related`.
    ManyToOne { related: String },
    /// The (alias) field lists the items of `child` whose `fk` points here.
    OneToMany { child: String, fk: String, deselect: Deselect, sort_field: Option<String> },
    /// The field holds the key of one item of the collection named by the row's
    /// `collection_field`, one of `allowed`.
    ManyToAny { allowed: Vec<String>, collection_field: String },
}

/// What a nested write does to the items of a one-to-many that its list no longer holds
/// (`one_deselect_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deselect {
    /// Their foreign key is set to null.
    Nullify,
    /// They are deleted.
    Delete,
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// `one_allowed_collections` as a list: an array in the schema, a CSV in a raw row.
fn allowed_collections(meta: &Value) -> Vec<String> {
    match meta.get("one_allowed_collections") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => s.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
        _ => vec![],
    }
}

/// The kind of `relation` (a schema relation) as seen from `collection.field`, as rc.83's
/// `getRelationType` tells it: many-to-any when the many side has a collection field and allowed
/// collections, else many-to-one; one-to-many from the one side's `one_field`.
pub fn kind_of(relation: &Value, collection: &str, field: &str) -> Option<Relation> {
    let meta = relation.get("meta").unwrap_or(&Value::Null);
    if text(relation, "collection") == Some(collection) && text(relation, "field") == Some(field) {
        let allowed = allowed_collections(meta);
        if let (Some(collection_field), false) = (text(meta, "one_collection_field"), allowed.is_empty()) {
            return Some(Relation::ManyToAny { allowed, collection_field: collection_field.to_string() });
        }
        return text(relation, "related_collection").map(|related| Relation::ManyToOne { related: related.to_string() });
    }
    if text(relation, "related_collection") == Some(collection) && text(meta, "one_field") == Some(field) {
        let deselect = if text(meta, "one_deselect_action") == Some("delete") { Deselect::Delete } else { Deselect::Nullify };
        let sort_field = text(meta, "sort_field").filter(|s| !s.is_empty()).map(str::to_string);
        return Some(Relation::OneToMany { child: text(relation, "collection")?.to_string(), fk: text(relation, "field")?.to_string(), deselect, sort_field });
    }
    None
}

/// The relation `collection.field` takes part in: the first schema relation whose many side is
/// that field or whose one side lists its items as it (rc.83 looks them up the same way).
pub fn relation_of(schema: &SchemaOverview, collection: &str, field: &str) -> Option<Relation> {
    schema.relations_of(collection, field).find_map(|r| kind_of(r, collection, field))
}

/// What a query asks of one relational field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nested {
    /// The nested paths under the field (`author.name` → `name`).
    pub fields: Vec<String>,
    /// Many-to-any: nested paths per related collection (`item:headings.title` → `headings: [title]`).
    pub scoped: BTreeMap<String, Vec<String>>,
    /// A one-to-many named without nested fields (`comments`, or under a plain `*`): an array of
    /// the related keys, not objects.
    pub keys_only: bool,
}

impl Nested {
    /// The fields to read of `collection` under a many-to-any: its scoped paths, else the
    /// unscoped ones, else all (rc.83 reads every field of a collection the query doesn't scope).
    pub fn for_collection(&self, collection: &str) -> Vec<String> {
        match self.scoped.get(collection) {
            Some(scoped) => scoped.clone(),
            None if !self.fields.is_empty() => self.fields.clone(),
            None => vec!["*".to_string()],
        }
    }
}

/// The nested field lists a query requests per relational field of `collection`:
/// `author.name` → `author: [name]`; `blocks.item:headings.title` on the junction →
/// `item: {headings: [title]}`; `*.*` → every relational field with `[*]`. A many-to-one or
/// many-to-any field named without a dot (`author`) is not expanded; a one-to-many named so,
/// or under a plain `*`, is listed as `keys_only`, since Directus answers it as an array of keys.
pub fn nested(fields: &[String], collection: &CollectionOverview, schema: &SchemaOverview) -> BTreeMap<String, Nested> {
    let mut out: BTreeMap<String, Nested> = BTreeMap::new();
    let is_relational = |name: &str| relation_of(schema, &collection.collection, name).is_some();
    for f in fields {
        let Some((head, rest)) = f.split_once('.') else { continue };
        if head == "*" {
            for name in collection.fields.keys().filter(|name| is_relational(name)) {
                out.entry(name.clone()).or_default().fields.push(rest.to_string());
            }
            continue;
        }
        match head.split_once(':') {
            Some((name, scope)) if matches!(relation_of(schema, &collection.collection, name), Some(Relation::ManyToAny { .. })) => {
                out.entry(name.to_string()).or_default().scoped.entry(scope.to_string()).or_default().push(rest.to_string());
            }
            Some(_) => {}
            None if is_relational(head) => out.entry(head.to_string()).or_default().fields.push(rest.to_string()),
            None => {}
        }
    }
    let wants_all = fields.is_empty() || fields.iter().any(|f| f == "*");
    for (name, field) in &collection.fields {
        let named = wants_all || fields.iter().any(|f| f == name);
        if !named || !field.alias || out.contains_key(name) {
            continue;
        }
        if let Some(Relation::OneToMany { child, .. }) = relation_of(schema, &collection.collection, name) {
            if let Some(pk) = schema.collection(&child).map(|c| c.primary.clone()) {
                out.insert(name.clone(), Nested { fields: vec![pk], keys_only: true, ..Default::default() });
            }
        }
    }
    out
}

/// The nested query options `deep` gives a relational field (`deep[comments][_limit]=2`), or a
/// many-to-any field's collection (`deep[item:headings][_filter]…`).
pub fn deep_for<'a>(deep: Option<&'a Map<String, Value>>, field: &str) -> Option<&'a Map<String, Value>> {
    deep?.get(field)?.as_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FieldOverview;
    use serde_json::json;

    fn schema() -> SchemaOverview {
        let collection = |name: &str, fields: &[(&str, &str)]| {
            let fields = fields.iter().map(|(f, kind)| (f.to_string(), FieldOverview::of_type(f, kind))).collect();
            let c = CollectionOverview { collection: name.into(), primary: "id".into(), singleton: false, sort_field: None, note: None, accountability: None, fields };
            (name.to_string(), c)
        };
        SchemaOverview {
            collections: [
                collection("pages", &[("id", "integer"), ("title", "string"), ("author", "integer"), ("blocks", "alias"), ("notes", "alias")]),
                collection("pages_blocks", &[("id", "integer"), ("pages_id", "integer"), ("item", "string"), ("collection", "string")]),
                collection("notes", &[("id", "integer"), ("page", "integer")]),
                collection("authors", &[("id", "integer")]),
                collection("headings", &[("id", "integer"), ("title", "string")]),
            ]
            .into_iter()
            .collect(),
            relations: vec![
                json!({"collection": "pages", "field": "author", "related_collection": "authors", "meta": null}),
                json!({"collection": "pages_blocks", "field": "pages_id", "related_collection": "pages", "meta": {"one_field": "blocks", "junction_field": "item", "one_deselect_action": "delete"}}),
                json!({"collection": "pages_blocks", "field": "item", "related_collection": null, "meta": {"one_collection_field": "collection", "one_allowed_collections": ["headings", "texts"]}}),
                json!({"collection": "notes", "field": "page", "related_collection": "pages", "meta": {"one_field": "notes", "sort_field": "sort", "one_deselect_action": "nullify"}}),
            ],
            permissions: vec![],
            relation_index: Default::default(),
        }
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kinds_of_relations() {
        let schema = schema();
        assert_eq!(relation_of(&schema, "pages", "author"), Some(Relation::ManyToOne { related: "authors".into() }));
        assert_eq!(
            relation_of(&schema, "pages", "blocks"),
            Some(Relation::OneToMany { child: "pages_blocks".into(), fk: "pages_id".into(), deselect: Deselect::Delete, sort_field: None })
        );
        assert_eq!(
            relation_of(&schema, "pages", "notes"),
            Some(Relation::OneToMany { child: "notes".into(), fk: "page".into(), deselect: Deselect::Nullify, sort_field: Some("sort".into()) })
        );
        assert_eq!(
            relation_of(&schema, "pages_blocks", "item"),
            Some(Relation::ManyToAny { allowed: list(&["headings", "texts"]), collection_field: "collection".into() })
        );
        assert_eq!(relation_of(&schema, "pages", "title"), None);
    }

    #[test]
    fn nested_fields() {
        let schema = schema();
        let pages = schema.collection("pages").unwrap();
        let found = nested(&list(&["title", "author.id", "notes"]), pages, &schema);
        assert_eq!(found["author"].fields, list(&["id"]));
        assert_eq!((found["notes"].fields.clone(), found["notes"].keys_only), (list(&["id"]), true));
        assert!(!found.contains_key("blocks"));
        let all = nested(&list(&["*"]), pages, &schema);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["blocks", "notes"]);
        let junction = schema.collection("pages_blocks").unwrap();
        let m2a = nested(&list(&["item:headings.title", "item:headings.id", "id"]), junction, &schema);
        assert_eq!(m2a["item"].scoped["headings"], list(&["title", "id"]));
        assert_eq!(m2a["item"].for_collection("headings"), list(&["title", "id"]));
        assert_eq!(m2a["item"].for_collection("texts"), list(&["*"]));
        let unscoped = nested(&list(&["item.id"]), junction, &schema);
        assert_eq!(unscoped["item"].for_collection("texts"), list(&["id"]));
        let stars = nested(&list(&["*.*"]), junction, &schema);
        assert_eq!(stars.keys().collect::<Vec<_>>(), ["item", "pages_id"]);
    }
}
