//! A field of the operation → the Directus query the services run, as rc.83's `getQuery` turns
//! it: the selection set becomes `fields` (`author.name`, `blocks.item:headings.title` for the
//! inline fragments of a many-to-any union), the arguments of nested relational fields become
//! `deep` (`comments(limit: 2)` → `deep.comments._limit`), the field's own arguments the query's
//! `filter`, `sort`, `limit`, `offset`, `page` and `search`. Fragments are followed, aliases name
//! the same data (the services answer a field once, whatever its aliases ask).
//!
//! The walk follows the schema overview's relations so it knows, under a many-to-any field, the
//! field naming each item's collection; that field is read too, to pick the union's member.

use async_graphql::dynamic::ResolverContext;
use async_graphql::parser::types::{Field, FragmentDefinition, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Value as GqlValue, Variables};
use rectus_core::query::{FilterContext, Query};
use rectus_core::schema::SchemaOverview;
use rectus_core::services::relations::{relation_of, Relation};
use rectus_core::ApiError;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The arguments that are query parameters (`sanitizeQuery` ignores the others: `data`, `id`s).
const QUERY_ARGUMENTS: &[&str] = &["filter", "sort", "limit", "offset", "page", "search"];

/// What a resolver needs of the operation to read its own field.
pub struct Operation<'a> {
    schema: &'a SchemaOverview,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    definition: &'a OperationDefinition,
}

impl<'a> Operation<'a> {
    pub fn of(ctx: &'a ResolverContext<'a>, schema: &'a SchemaOverview) -> Operation<'a> {
        Operation { schema, fragments: &ctx.ctx.query_env.fragments, variables: &ctx.ctx.query_env.variables, definition: &ctx.ctx.query_env.operation.node }
    }

    /// A variable's value, or its declared default (as async-graphql resolves them).
    fn variable(&self, name: &Name) -> GqlValue {
        if let Some(v) = self.variables.get(name) {
            return v.clone();
        }
        self.definition
            .variable_definitions
            .iter()
            .find(|d| &d.node.name.node == name)
            .and_then(|d| d.node.default_value())
            .cloned()
            .unwrap_or(GqlValue::Null)
    }

    /// The field's arguments as JSON, variables substituted.
    pub fn arguments(&self, field: &Field) -> Map<String, Value> {
        field
            .arguments
            .iter()
            .map(|(name, value)| {
                let value = value.node.clone().into_const_with(|v| Ok::<_, std::convert::Infallible>(self.variable(&v))).unwrap_or(GqlValue::Null);
                (name.node.to_string(), value.into_json().unwrap_or(Value::Null))
            })
            .collect()
    }

    /// The Directus query of `field` on `collection`: its query arguments, `fields` and `deep`
    /// from its selection, and `extra` parameters (a `_by_id` filter) over them.
    pub fn query(&self, field: &Field, collection: &str, caller: &FilterContext, extra: Map<String, Value>) -> Result<Query, ApiError> {
        let mut params: Map<String, Value> = self.arguments(field).into_iter().filter(|(k, _)| QUERY_ARGUMENTS.contains(&k.as_str())).collect();
        let mut walk = Walk { operation: self, fields: vec![], deep: Map::new() };
        walk.selection(&field.selection_set.node, collection, None);
        params.insert("fields".into(), Value::Array(walk.fields.into_iter().map(Value::String).collect()));
        if !walk.deep.is_empty() {
            params.insert("deep".into(), Value::Object(walk.deep));
        }
        params.extend(extra);
        rectus_core::query::sanitize(&params, caller)
    }

    /// Whether `field` selects anything but `__typename` (rc.83 reads a mutation's items back
    /// only then).
    pub fn selects_fields(&self, field: &Field) -> bool {
        let mut walk = Walk { operation: self, fields: vec![], deep: Map::new() };
        walk.selection(&field.selection_set.node, "", None);
        !walk.fields.is_empty()
    }
}

struct Walk<'o, 'a> {
    operation: &'o Operation<'a>,
    fields: Vec<String>,
    deep: Map<String, Value>,
}

fn join(parent: Option<&str>, name: &str) -> String {
    match parent {
        Some(p) => format!("{p}.{name}"),
        None => name.to_string(),
    }
}

impl Walk<'_, '_> {
    fn push(&mut self, path: String) {
        if !self.fields.contains(&path) {
            self.fields.push(path);
        }
    }

    fn selection(&mut self, set: &SelectionSet, collection: &str, parent: Option<&str>) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => self.field(&field.node, collection, parent),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.operation.fragments.get(&spread.node.fragment_name.node) {
                        self.selection(&fragment.node.selection_set.node, collection, parent);
                    }
                }
                Selection::InlineFragment(inline) => self.selection(&inline.node.selection_set.node, collection, parent),
            }
        }
    }

    fn field(&mut self, field: &Field, collection: &str, parent: Option<&str>) {
        let name = field.name.node.as_str();
        if name.starts_with("__") {
            return;
        }
        let path = join(parent, name);
        let nested = &field.selection_set.node;
        match relation_of(self.operation.schema, collection, name).filter(|_| !nested.items.is_empty()) {
            Some(Relation::ManyToOne { related }) => self.selection(nested, &related, Some(&path)),
            Some(Relation::OneToMany { child, .. }) => self.selection(nested, &child, Some(&path)),
            Some(Relation::ManyToAny { collection_field, .. }) => {
                self.push(join(parent, &collection_field));
                self.union(nested, &path);
            }
            None => self.push(path.clone()),
        }
        if !field.arguments.is_empty() {
            self.deep_arguments(field, &path);
        }
    }

    /// The members of a many-to-any union: `path:collection.field` for each inline fragment
    /// (or fragment) on a collection.
    fn union(&mut self, set: &SelectionSet, path: &str) {
        for item in &set.items {
            let (type_condition, selection) = match &item.node {
                Selection::InlineFragment(inline) => (inline.node.type_condition.as_ref().map(|t| t.node.on.node.to_string()), &inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => match self.operation.fragments.get(&spread.node.fragment_name.node) {
                    Some(fragment) => (Some(fragment.node.type_condition.node.on.node.to_string()), &fragment.node.selection_set.node),
                    None => continue,
                },
                Selection::Field(_) => continue,
            };
            if let Some(collection) = type_condition.filter(|t| !t.starts_with("__")) {
                let scoped = format!("{path}:{collection}");
                self.selection(selection, &collection, Some(&scoped));
            }
        }
    }

    /// A nested field's arguments as `deep` at its path (`_filter`, `_limit`, ...).
    fn deep_arguments(&mut self, field: &Field, path: &str) {
        let arguments = self.operation.arguments(field);
        let options: Map<String, Value> = arguments.into_iter().filter(|(k, v)| QUERY_ARGUMENTS.contains(&k.as_str()) && !v.is_null()).map(|(k, v)| (format!("_{k}"), v)).collect();
        if options.is_empty() {
            return;
        }
        let mut node = &mut self.deep;
        for segment in path.split('.') {
            node = node.entry(segment.to_string()).or_insert_with(|| Value::Object(Map::new())).as_object_mut().expect("deep nodes are objects");
        }
        node.extend(options);
    }
}
