//! Relational reads (`fields=author.name`, `fields=comments.*`, `fields=*.*`, `deep`): which
//! fields are many-to-one or one-to-many according to `directus_relations`, and which nested
//! fields a query asks for under each.

use serde_json::Value;
use std::collections::BTreeMap;

use crate::schema::{CollectionOverview, SchemaOverview};

/// How a field of a collection relates to another collection.
#[derive(Debug, Clone, PartialEq)]
pub enum Relation {
    /// The field holds the key of one item of `related`.
    ManyToOne { related: String },
    /// The (alias) field lists the items of `child` whose `fk` points here.
    OneToMany { child: String, fk: String },
}

pub fn relation_of(schema: &SchemaOverview, collection: &str, field: &str) -> Option<Relation> {
    for r in &schema.relations {
        let text = |k: &str| r.get(k).and_then(Value::as_str);
        if text("collection") == Some(collection) && text("field") == Some(field) {
            if let Some(related) = text("related_collection") {
                return Some(Relation::ManyToOne { related: related.to_string() });
            }
        }
        let one_field = r.get("meta").and_then(|m| m.get("one_field")).and_then(Value::as_str);
        if text("related_collection") == Some(collection) && one_field == Some(field) {
            if let (Some(child), Some(fk)) = (text("collection"), text("field")) {
                return Some(Relation::OneToMany { child: child.to_string(), fk: fk.to_string() });
            }
        }
    }
    None
}

/// What a query asks of one relational field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nested {
    pub fields: Vec<String>,
    /// A one-to-many under a plain `*`: an array of the related keys, not objects.
    pub keys_only: bool,
}

/// The nested field lists a query requests per relational field of `collection`:
/// `author.name` → `author: [name]`; `*.*` → every relational field with `[*]`. A relational field
/// named without a dot (`author`) is not expanded. `o2m` alias fields under a plain `*` are listed
/// with `[<child primary key>]`, as Directus returns them as arrays of keys.
pub fn nested(fields: &[String], collection: &CollectionOverview, schema: &SchemaOverview) -> BTreeMap<String, Nested> {
    let mut out: BTreeMap<String, Nested> = BTreeMap::new();
    let wants_all = fields.is_empty() || fields.iter().any(|f| f == "*" || f.starts_with("*."));
    for f in fields {
        let Some((head, rest)) = f.split_once('.') else { continue };
        if head == "*" {
            for name in collection.fields.keys() {
                if relation_of(schema, &collection.collection, name).is_some() {
                    out.entry(name.clone()).or_default().fields.push(rest.to_string());
                }
            }
        } else if relation_of(schema, &collection.collection, head).is_some() {
            out.entry(head.to_string()).or_default().fields.push(rest.to_string());
        }
    }
    if wants_all {
        for (name, field) in &collection.fields {
            if !field.alias || out.contains_key(name) {
                continue;
            }
            if let Some(Relation::OneToMany { child, .. }) = relation_of(schema, &collection.collection, name) {
                if let Some(pk) = schema.collection(&child).map(|c| c.primary.clone()) {
                    out.insert(name.clone(), Nested { fields: vec![pk], keys_only: true });
                }
            }
        }
    }
    out
}

/// The nested query options `deep` gives a relational field (`deep[comments][_limit]=2`).
pub fn deep_for<'a>(deep: Option<&'a serde_json::Map<String, Value>>, field: &str) -> Option<&'a serde_json::Map<String, Value>> {
    deep?.get(field)?.as_object()
}
