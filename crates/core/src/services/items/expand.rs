//! Relational reads: the fields of a read that a query asks into (`author.name`, `comments.*`,
//! `*.*`) replaced by the related items. Each relation costs one read of the related collection
//! for all rows at once, through a sibling service so the related collection's permissions (and
//! `read` events) apply; the related items are then grouped by the key that links them to their
//! row in a map, so matching them up is linear in rows plus related items.
//!
//! A relation kind (`services::relations::Relation`) adds an arm to [`ItemsService::expand`]:
//! how to collect the keys to read by, and how to put the related items back.

use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

use super::access::key_text;
use super::ItemsService;
use crate::query::select::requested;
use crate::query::{Query, Sort};
use crate::services::permissions;
use crate::services::relations::{self, Relation};
use crate::ApiError;

/// Related items grouped by the key that links them to the rows being expanded, each group in
/// the order the related read returned them.
#[derive(Debug, Default)]
pub(super) struct Grouped(HashMap<String, Vec<Value>>);

impl Grouped {
    fn new(items: Vec<(String, Value)>) -> Grouped {
        let mut groups: HashMap<String, Vec<Value>> = HashMap::new();
        for (key, item) in items {
            groups.entry(key).or_default().push(item);
        }
        Grouped(groups)
    }

    fn first(&self, key: &str) -> Option<&Value> {
        self.0.get(key).and_then(|items| items.first())
    }

    fn all(&self, key: &str) -> &[Value] {
        self.0.get(key).map(Vec::as_slice).unwrap_or_default()
    }
}

impl ItemsService {
    /// Replaces relational fields the query asks into with the related items.
    pub(super) fn expand<'a>(&'a self, rows: &'a mut [Map<String, Value>], query: &'a Query) -> futures_util::future::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let collection = self.overview()?;
            for (field, nested) in relations::nested(&query.fields, collection, &self.schema) {
                let deep = relations::deep_for(query.deep.as_ref(), &field);
                let relation = relations::relation_of(&self.schema, &self.collection, &field);
                if !permissions::reads_related(&self.services.db, self.accountability.as_ref(), relation.as_ref()).await? {
                    // The key stays where the field is also asked for as it is (`*`, `author`).
                    if !query.fields.is_empty() && !query.fields.iter().any(|f| f == "*" || *f == field) {
                        rows.iter_mut().for_each(|row| drop(row.remove(&field)));
                    }
                    continue;
                }
                match relation {
                    Some(Relation::ManyToOne { related }) => {
                        let keys = distinct(rows.iter().filter_map(|r| r.get(&field)).filter(|v| !v.is_null()));
                        if keys.is_empty() {
                            continue;
                        }
                        let pk = self.schema.collection(&related).ok_or_else(ApiError::forbidden)?.primary.clone();
                        let found = self.related(&related, &nested.fields, &pk, keys, deep).await?;
                        for row in rows.iter_mut() {
                            if let Some(value) = row.get_mut(&field).filter(|v| !v.is_null()) {
                                *value = found.first(&key_text(value)).map(|item| strip(item, &pk, &nested.fields)).unwrap_or(Value::Null);
                            }
                        }
                    }
                    Some(Relation::OneToMany { child, fk }) => {
                        let keys = distinct(rows.iter().filter_map(|r| r.get(&collection.primary)));
                        let found = if keys.is_empty() { Grouped::default() } else { self.related(&child, &nested.fields, &fk, keys, deep).await? };
                        let child_pk = self.schema.collection(&child).map(|c| c.primary.clone()).unwrap_or_default();
                        let limit = deep.and_then(|d| d.get("_limit")).and_then(Value::as_i64).filter(|l| *l >= 0).map(|l| l as usize);
                        for row in rows.iter_mut() {
                            let key = row.get(&collection.primary).map(key_text).unwrap_or_default();
                            let items = found
                                .all(&key)
                                .iter()
                                .take(limit.unwrap_or(usize::MAX))
                                .map(|item| if nested.keys_only { item.get(&child_pk).cloned().unwrap_or(Value::Null) } else { strip(item, &fk, &nested.fields) })
                                .collect();
                            row.insert(field.clone(), Value::Array(items));
                        }
                    }
                    None => {}
                }
            }
            Ok(())
        })
    }

    /// Items of `collection` whose `by` is one of `keys`, with `fields` (and `by`), grouped by
    /// `by`'s value. `deep` adds its `_filter` and `_sort`.
    async fn related(&self, collection: &str, fields: &[String], by: &str, keys: Vec<Value>, deep: Option<&Map<String, Value>>) -> Result<Grouped, ApiError> {
        let mut fields = fields.to_vec();
        fields.push(by.to_string());
        let mut filter = json!({ by: { "_in": keys } });
        if let Some(extra) = deep.and_then(|d| d.get("_filter")).filter(|f| f.as_object().is_some_and(|o| !o.is_empty())) {
            filter = json!({ "_and": [filter, extra] });
        }
        let sort = deep
            .and_then(|d| d.get("_sort"))
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(|o| Some(Sort { column: o.get("column")?.as_str()?.to_string(), descending: o.get("order").and_then(Value::as_str) == Some("desc") })).collect())
            .unwrap_or_default();
        let nested_deep = deep.map(|d| d.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect());
        let service = self.sibling(collection);
        let expands_by = fields.iter().any(|f| f.strip_prefix(by).is_some_and(|rest| rest.starts_with('.')));
        if !expands_by {
            let query = Query { fields, filter: Some(filter), sort, limit: Some(-1), deep: nested_deep, ..Default::default() };
            let rows = service.read_by_query(&query).await?;
            return Ok(Grouped::new(rows.into_iter().map(|row| (row.get(by).map(key_text).unwrap_or_default(), row)).collect()));
        }
        // `by` itself is expanded into an object: match rows to parents by their own key instead.
        let pk = self.schema.collection(collection).ok_or_else(ApiError::forbidden)?.primary.clone();
        let plain = Query { fields: vec![pk.clone(), by.to_string()], filter: Some(filter.clone()), limit: Some(-1), ..Default::default() };
        let parent_of: HashMap<String, String> = service
            .read_by_query(&plain)
            .await?
            .iter()
            .map(|r| (r.get(&pk).map(key_text).unwrap_or_default(), r.get(by).map(key_text).unwrap_or_default()))
            .collect();
        let wanted_pk = requested(&fields, &pk);
        fields.push(pk.clone());
        let query = Query { fields, filter: Some(filter), sort, limit: Some(-1), deep: nested_deep, ..Default::default() };
        let rows = service.read_by_query(&query).await?;
        Ok(Grouped::new(
            rows.into_iter()
                .map(|mut row| {
                    let parent = row.get(&pk).map(key_text).and_then(|k| parent_of.get(&k).cloned()).unwrap_or_default();
                    if !wanted_pk {
                        if let Some(o) = row.as_object_mut() {
                            o.remove(&pk);
                        }
                    }
                    (parent, row)
                })
                .collect(),
        ))
    }
}

fn distinct<'a>(values: impl Iterator<Item = &'a Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(key_text(v))).cloned().collect()
}

/// A related item without the key column that was only read to match it to its parent.
fn strip(item: &Value, key: &str, fields: &[String]) -> Value {
    let mut item = item.clone();
    if !requested(fields, key) {
        if let Some(o) = item.as_object_mut() {
            o.remove(key);
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_the_read_order_and_match_keys_of_any_json_type() {
        let found = Grouped::new(vec![("1".into(), json!({"id": 10})), ("2".into(), json!({"id": 11})), ("1".into(), json!({"id": 12}))]);
        assert_eq!(found.all(&key_text(&json!(1))), &[json!({"id": 10}), json!({"id": 12})]);
        assert_eq!(found.first(&key_text(&json!("2"))), Some(&json!({"id": 11})));
        assert!(found.all("3").is_empty());
        assert_eq!(distinct([json!(1), json!("1"), json!(2)].iter()), vec![json!(1), json!(2)]);
    }
}
