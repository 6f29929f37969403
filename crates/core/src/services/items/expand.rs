//! Relational reads: the fields of a read that a query asks into (`author.name`, `comments.*`,
//! `blocks.item:headings.*`, `*.*`) replaced by the related items. Each relation (each related
//! collection of a many-to-any) costs one read of the related collection for all rows at once,
//! through a sibling service so the related collection's permissions apply; the related items
//! are then grouped by the key that links them to their row in a map, so matching them up is
//! linear in rows plus related items.
//!
//! `deep` gives each relation a query of its own (rc.83's `getDeepQuery`): `_filter`, `_search`
//! and `_sort` shape the related read; `_limit` (default 100, `-1` for all), `_offset` and
//! `_page` apply per parent item to one-to-many lists, so `deep[comments][_limit]=2` answers the
//! first two comments of every article (rc.83 applied `_offset` to the batch of all parents at
//! once and ignored `_page`); `_fields` adds nested fields to those the `fields` parameter names
//! under the relation (`fields=comments&deep[comments][_fields]=body` answers objects instead of
//! keys). `_meta` is accepted and has no effect: a nested list has nowhere to carry counts in a
//! REST answer, and Directus ignores it as well.
//!
//! A relation kind (`services::relations::Relation`) adds an arm to [`ItemsService::expand`]:
//! how to collect the keys to read by, and how to put the related items back.

use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

use super::access::key_text;
use super::ItemsService;
use crate::query::select::requested;
use crate::query::{first_row, Query, Sort, DEFAULT_LIMIT};
use crate::services::permissions;
use crate::services::relations::{self, Nested, Relation};
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

/// The part of a deep query that shapes the read of a related collection.
#[derive(Debug, Default)]
struct DeepQuery<'a> {
    filter: Option<&'a Value>,
    search: Option<String>,
    sort: Vec<Sort>,
    /// Deep queries of the related collection's own relational fields.
    nested: Option<Map<String, Value>>,
}

impl<'a> DeepQuery<'a> {
    fn of(deep: Option<&'a Map<String, Value>>) -> DeepQuery<'a> {
        let Some(deep) = deep else { return DeepQuery::default() };
        let sort = deep
            .get("_sort")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(|o| Some(Sort { column: o.get("column")?.as_str()?.to_string(), descending: o.get("order").and_then(Value::as_str) == Some("desc") })).collect())
            .unwrap_or_default();
        DeepQuery {
            filter: deep.get("_filter").filter(|f| f.as_object().is_some_and(|o| !o.is_empty())),
            search: deep.get("_search").and_then(Value::as_str).map(str::to_string),
            sort,
            nested: Some(deep.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect()).filter(|m: &Map<String, Value>| !m.is_empty()),
        }
    }
}

/// Which of a parent's related items a one-to-many answers: `_offset`/`_page` and `_limit`.
fn window(deep: Option<&Map<String, Value>>) -> (usize, usize) {
    let number = |key: &str| deep.and_then(|d| d.get(key)).and_then(Value::as_i64);
    let limit = number("_limit").unwrap_or(DEFAULT_LIMIT);
    // Sanitising refused a window that overflows; past every row is empty all the same.
    let offset = first_row(limit, number("_page"), number("_offset")).unwrap_or(i64::MAX);
    (offset as usize, if limit < 0 { usize::MAX } else { limit as usize })
}

/// The nested fields to read under a relation: what `fields` names there plus deep's `_fields`;
/// a one-to-many asked for as keys answers objects once `_fields` names some.
fn nested_fields(nested: &Nested, deep: Option<&Map<String, Value>>) -> (Vec<String>, bool) {
    let extra: Vec<String> = deep.and_then(|d| d.get("_fields")).and_then(Value::as_array).map(|f| f.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default();
    match (nested.keys_only, extra.is_empty()) {
        (true, false) => (extra, false),
        (keys_only, _) => (nested.fields.iter().cloned().chain(extra).collect(), keys_only),
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
                if !permissions::reads_related(&self.services, self.accountability.as_ref(), relation.as_ref()).await? {
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
                        let (fields, _) = nested_fields(&nested, deep);
                        let found = self.related(&related, &fields, &pk, keys, DeepQuery::of(deep)).await?;
                        for row in rows.iter_mut() {
                            if let Some(value) = row.get_mut(&field).filter(|v| !v.is_null()) {
                                *value = found.first(&key_text(value)).map(|item| strip(item, &pk, &fields)).unwrap_or(Value::Null);
                            }
                        }
                    }
                    Some(Relation::OneToMany { child, fk, sort_field, .. }) => {
                        let keys = distinct(rows.iter().filter_map(|r| r.get(&collection.primary)));
                        let child_pk = self.schema.collection(&child).map(|c| c.primary.clone()).unwrap_or_default();
                        let (fields, keys_only) = nested_fields(&nested, deep);
                        let mut deep_query = DeepQuery::of(deep);
                        if deep_query.sort.is_empty() {
                            // rc.83 orders a one-to-many by the relation's sort field, else the key.
                            deep_query.sort = vec![Sort { column: sort_field.unwrap_or_else(|| child_pk.clone()), descending: false }];
                        }
                        let found = if keys.is_empty() { Grouped::default() } else { self.related(&child, &fields, &fk, keys, deep_query).await? };
                        let (offset, limit) = window(deep);
                        for row in rows.iter_mut() {
                            let key = row.get(&collection.primary).map(key_text).unwrap_or_default();
                            let items = found
                                .all(&key)
                                .iter()
                                .skip(offset)
                                .take(limit)
                                .map(|item| if keys_only { item.get(&child_pk).cloned().unwrap_or(Value::Null) } else { strip(item, &fk, &fields) })
                                .collect();
                            row.insert(field.clone(), Value::Array(items));
                        }
                    }
                    Some(Relation::ManyToAny { allowed, collection_field }) => {
                        let mut found: HashMap<&str, (String, Vec<String>, Grouped)> = HashMap::new();
                        for related in &allowed {
                            let in_collection = |r: &&Map<String, Value>| r.get(&collection_field).and_then(Value::as_str) == Some(related.as_str());
                            let keys = distinct(rows.iter().filter(in_collection).filter_map(|r| r.get(&field)).filter(|v| !v.is_null()));
                            let Some(pk) = self.schema.collection(related).map(|c| c.primary.clone()) else { continue };
                            if keys.is_empty() || !self.reads(related).await? {
                                continue;
                            }
                            let deep = relations::deep_for(query.deep.as_ref(), &format!("{field}:{related}")).or(deep);
                            let (fields, _) = nested_fields(&Nested { fields: nested.for_collection(related), ..Default::default() }, deep);
                            let items = self.related(related, &fields, &pk, keys, DeepQuery::of(deep)).await?;
                            found.insert(related, (pk, fields, items));
                        }
                        for row in rows.iter_mut() {
                            let related = row.get(&collection_field).and_then(Value::as_str).map(str::to_string).unwrap_or_default();
                            if let Some(value) = row.get_mut(&field).filter(|v| !v.is_null()) {
                                *value = match found.get(related.as_str()) {
                                    Some((pk, fields, items)) => items.first(&key_text(value)).map(|item| strip(item, pk, fields)).unwrap_or(Value::Null),
                                    None => Value::Null,
                                };
                            }
                        }
                    }
                    None => {}
                }
            }
            Ok(())
        })
    }

    /// Whether the caller may read `collection` at all (rc.83 leaves a many-to-any's other
    /// collections out of its read).
    async fn reads(&self, collection: &str) -> Result<bool, ApiError> {
        match permissions::for_action(&self.services, self.accountability.as_ref(), collection, "read").await {
            Ok(_) => Ok(true),
            Err(e) if e.status == 403 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Items of `collection` whose `by` is one of `keys`, with `fields` (and `by`), grouped by
    /// `by`'s value and shaped by `deep`.
    async fn related(&self, collection: &str, fields: &[String], by: &str, keys: Vec<Value>, deep: DeepQuery<'_>) -> Result<Grouped, ApiError> {
        let mut fields = fields.to_vec();
        fields.push(by.to_string());
        let mut filter = json!({ by: { "_in": keys } });
        if let Some(extra) = deep.filter {
            filter = json!({ "_and": [filter, extra] });
        }
        let DeepQuery { search, sort, nested: nested_deep, .. } = deep;
        let service = self.sibling(collection);
        let expands_by = fields.iter().any(|f| f.strip_prefix(by).is_some_and(|rest| rest.starts_with('.')));
        if !expands_by {
            let query = Query { fields, filter: Some(filter), sort, search, limit: Some(-1), deep: nested_deep, ..Default::default() };
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
        let query = Query { fields, filter: Some(filter), sort, search, limit: Some(-1), deep: nested_deep, ..Default::default() };
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

    #[test]
    fn windows_per_parent() {
        let deep = |v: Value| v.as_object().cloned();
        assert_eq!(window(None), (0, 100));
        assert_eq!(window(deep(json!({"_limit": -1})).as_ref()), (0, usize::MAX));
        assert_eq!(window(deep(json!({"_limit": 2, "_offset": 1})).as_ref()), (1, 2));
        assert_eq!(window(deep(json!({"_limit": 2, "_page": 3, "_offset": 1})).as_ref()), (4, 2));
        assert_eq!(window(deep(json!({"_page": 2})).as_ref()), (100, 100));
    }

    #[test]
    fn deep_fields_add_to_the_nested_ones() {
        let deep = json!({"_fields": ["body"]});
        let keys = Nested { fields: vec!["id".into()], keys_only: true, ..Default::default() };
        assert_eq!(nested_fields(&keys, deep.as_object()), (vec!["body".to_string()], false));
        assert_eq!(nested_fields(&keys, None), (vec!["id".to_string()], true));
        let named = Nested { fields: vec!["title".into()], ..Default::default() };
        assert_eq!(nested_fields(&named, deep.as_object()), (vec!["title".to_string(), "body".to_string()], false));
    }
}
