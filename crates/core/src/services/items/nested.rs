//! Nested relational writes (spec §4.4, rc.83's `PayloadService.processM2O` / `processA2O` /
//! `processO2M`): a create or update whose payload holds related items saves them through the
//! related collection's service, as the same caller and in the same transaction, so their
//! permissions, validation, special fields, activity, revisions and events apply and a failure
//! anywhere rolls the whole request back.
//!
//! - Before the row is written, a many-to-one field given an object saves it: an object whose key
//!   names an existing item updates that item (when it has more than the key), any other object
//!   creates one; the field then holds the key. Many-to-any fields do the same in the collection
//!   the payload's collection field names, which must be one of the relation's allowed ones.
//! - After the row is written, a one-to-many alias (a many-to-many's is one to its junction)
//!   given an array saves each entry with its foreign key set to the row: a key links that
//!   existing item, an object with an existing key updates it, any other object creates one;
//!   the items that pointed here and are no longer listed are unlinked (foreign key set to null)
//!   or, when the relation's `one_deselect_action` is `delete`, deleted. Given an object
//!   `{create, update, delete}`, the alias changes just those items.
//!
//! Deviations: the one-to-many part works from the payload after `*.before` hooks (rc.83 used the
//! payload as sent, so a hook that returned a new object could not change its relational
//! fields); `update` entries of the object form are found by the related collection's key field
//! (rc.83 used the parent's key field name).

use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::ItemsService;
use crate::db::SharedTransaction;
use crate::query::select::key_condition;
use crate::query::Query;
use crate::services::relations::{self, Deselect, Relation};
use crate::services::MutationOptions;
use crate::ApiError;

/// JavaScript truthiness, which decides whether rc.83 looks at a one-to-many value at all.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn is_key(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_))
}

/// The `{create, update, delete}` form of a one-to-many, checked as rc.83's Joi schema does.
fn check_alterations(alterations: &Map<String, Value>) -> Result<(), ApiError> {
    let invalid = |detail: String| ApiError::invalid_payload(format!("Invalid one-to-many update structure: {detail}"));
    for (name, value) in alterations {
        if !matches!(name.as_str(), "create" | "update" | "delete") {
            return Err(invalid(format!("\"{name}\" is not allowed")));
        }
        let Value::Array(items) = value else { return Err(invalid(format!("\"{name}\" must be an array"))) };
        for (i, item) in items.iter().enumerate() {
            match name.as_str() {
                "delete" if !is_key(item) => return Err(invalid(format!("\"delete[{i}]\" must be one of [string, number]"))),
                "create" | "update" if !item.is_object() => return Err(invalid(format!("\"{name}[{i}]\" must be of type object"))),
                _ => {}
            }
        }
    }
    Ok(())
}

impl ItemsService {
    /// The many-to-one and many-to-any fields of `data` given as objects, saved in `tx`, each
    /// replaced by the key of the item it saved (rc.83: all many-to-ones first, then the
    /// many-to-anys, in the order of the schema's relations). (Boxed: saving an item may save
    /// the items it holds.)
    pub fn save_related_one<'a>(&'a self, tx: &'a SharedTransaction, data: Value) -> BoxFuture<'a, Result<Value, ApiError>> {
        Box::pin(self.save_related_one_now(tx, data, &[false, true]))
    }

    /// `PayloadService.processM2O(data)` of rc.83: [`save_related_one`](Self::save_related_one)
    /// for the many-to-one fields only, in this service's transaction or one of its own.
    pub async fn process_many_to_one(&self, data: Value) -> Result<Value, ApiError> {
        self.process_related_one(data, &[false]).await
    }

    /// `PayloadService.processA2O(data)`: the same for the many-to-any fields only.
    pub async fn process_many_to_any(&self, data: Value) -> Result<Value, ApiError> {
        self.process_related_one(data, &[true]).await
    }

    async fn process_related_one(&self, data: Value, passes: &[bool]) -> Result<Value, ApiError> {
        let (tx, owned) = self.write_transaction().await?;
        let result = self.save_related_one_now(&tx, data, passes).await;
        self.finish(tx, owned, result).await
    }

    /// `PayloadService.processO2M(data, parent)`: [`save_related_many`](Self::save_related_many)
    /// in this service's transaction or one of its own.
    pub async fn process_one_to_many(&self, data: &Value, parent: &Value) -> Result<(), ApiError> {
        let (tx, owned) = self.write_transaction().await?;
        let result = self.save_related_many_now(&tx, data, parent).await;
        self.finish(tx, owned, result).await
    }

    /// `passes`: `false` saves the many-to-ones, `true` the many-to-anys.
    async fn save_related_one_now(&self, tx: &SharedTransaction, data: Value, passes: &[bool]) -> Result<Value, ApiError> {
        let Value::Object(mut data) = data else { return Ok(data) };
        for &any in passes {
            for relation in self.schema.relations.iter().filter(|r| r["collection"] == self.collection.as_str()) {
                let Some(field) = relation["field"].as_str() else { continue };
                let Some(Value::Object(record)) = data.get(field) else { continue };
                let related = match relations::kind_of(relation, &self.collection, field) {
                    Some(Relation::ManyToOne { related }) if !any => related,
                    Some(Relation::ManyToAny { allowed, collection_field }) if any => {
                        let related = data.get(&collection_field).and_then(Value::as_str).filter(|c| !c.is_empty()).ok_or_else(|| {
                            ApiError::invalid_payload(format!(
                                "Can't update nested record \"{0}.{field}\" without field \"{0}.{collection_field}\" being set",
                                self.collection
                            ))
                        })?;
                        if !allowed.iter().any(|a| a == related) {
                            return Err(ApiError::invalid_payload(format!("\"{}.{field}\" can't be linked to collection \"{related}\"", self.collection)));
                        }
                        related.to_string()
                    }
                    _ => continue,
                };
                let record = record.clone();
                let key = self.save_related(tx, &related, record).await?;
                data.insert(field.to_string(), key);
            }
        }
        Ok(Value::Object(data))
    }

    /// Whether `data` holds one-to-many values [`save_related_many`](Self::save_related_many)
    /// would save.
    pub(super) fn has_related_many(&self, data: &Value) -> bool {
        self.one_to_many_fields(data).next().is_some()
    }

    fn one_to_many_fields<'a>(&'a self, data: &'a Value) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.schema.relations.iter().filter(|r| r["related_collection"] == self.collection.as_str()).filter_map(move |r| {
            let field = r["meta"]["one_field"].as_str()?;
            data.get(field).filter(|v| truthy(v)).map(|v| (field, v))
        })
    }

    /// The one-to-many aliases of `data` saved in `tx` for the item `parent`: their entries
    /// created, updated and linked, the items no longer listed unlinked or deleted. (Boxed like
    /// [`save_related_one`](Self::save_related_one).)
    pub fn save_related_many<'a>(&'a self, tx: &'a SharedTransaction, data: &'a Value, parent: &'a Value) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(self.save_related_many_now(tx, data, parent))
    }

    async fn save_related_many_now(&self, tx: &SharedTransaction, data: &Value, parent: &Value) -> Result<(), ApiError> {
        for (field, value) in self.one_to_many_fields(data) {
            let Some(Relation::OneToMany { child, fk, deselect, .. }) = relations::relation_of(&self.schema, &self.collection, field) else { continue };
            let child_pk = self.schema.collection(&child).ok_or_else(ApiError::forbidden)?.primary.clone();
            let service = self.sibling_in(&child, Some(tx.clone()));
            let linked = |item: &Map<String, Value>| {
                let mut record = item.clone();
                record.insert(fk.clone(), parent.clone());
                record
            };
            match value {
                Value::Array(items) => {
                    let mut records = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            key if is_key(key) => {
                                if !self.exists(tx, &child, key).await? {
                                    return Err(ApiError::forbidden());
                                }
                                records.push(linked(&Map::from_iter([(child_pk.clone(), key.clone())])));
                            }
                            Value::Object(o) => records.push(linked(o)),
                            _ => return Err(ApiError::invalid_payload(format!("\"{}.{field}\" must be an array of keys or objects", self.collection))),
                        }
                    }
                    let mut saved = Vec::with_capacity(records.len());
                    for record in records {
                        saved.push(self.upsert_related(tx, &child, &child_pk, record).await?);
                    }
                    let mut filter = json!({ &fk: { "_eq": parent } });
                    if !saved.is_empty() {
                        filter = json!({ "_and": [filter, { &child_pk: { "_nin": saved } }] });
                    }
                    self.deselect(tx, &child, &fk, deselect, filter).await?;
                }
                Value::Object(alterations) => {
                    check_alterations(alterations)?;
                    let list = |name: &str| alterations.get(name).and_then(Value::as_array).cloned().unwrap_or_default();
                    for item in list("create") {
                        service.create_one(Value::Object(linked(item.as_object().unwrap_or(&Map::new()))), MutationOptions::default()).await?;
                    }
                    for item in list("update") {
                        let record = linked(item.as_object().unwrap_or(&Map::new()));
                        let key = record.get(&child_pk).cloned().ok_or_else(|| ApiError::invalid_payload(format!("Primary key \"{child_pk}\" is missing in a nested update of \"{field}\".")))?;
                        service.update_one(key, Value::Object(record), MutationOptions::default()).await?;
                    }
                    let deleted = list("delete");
                    if !deleted.is_empty() {
                        let filter = json!({ "_and": [{ &fk: { "_eq": parent } }, { &child_pk: { "_in": deleted } }] });
                        self.deselect(tx, &child, &fk, deselect, filter).await?;
                    }
                }
                _ => return Err(ApiError::invalid_payload(format!("\"{}.{field}\" must be an array of keys or objects", self.collection))),
            }
        }
        Ok(())
    }

    /// Saves one related item in `tx`: updates it when its key names an existing item (and it
    /// holds more than the key), creates it otherwise. Answers its key.
    async fn save_related(&self, tx: &SharedTransaction, collection: &str, record: Map<String, Value>) -> Result<Value, ApiError> {
        let pk = self.schema.collection(collection).ok_or_else(ApiError::forbidden)?.primary.clone();
        let service = self.sibling_in(collection, Some(tx.clone()));
        match record.get(&pk).cloned() {
            Some(key) if self.exists(tx, collection, &key).await? => {
                if record.keys().any(|k| *k != pk) {
                    service.update_one(key.clone(), Value::Object(record), MutationOptions::default()).await?;
                }
                Ok(key)
            }
            _ => service.create_one(Value::Object(record), MutationOptions::default()).await,
        }
    }

    /// rc.83's `upsertOne`: an existing key updates with the whole record, anything else creates.
    async fn upsert_related(&self, tx: &SharedTransaction, collection: &str, pk: &str, record: Map<String, Value>) -> Result<Value, ApiError> {
        let service = self.sibling_in(collection, Some(tx.clone()));
        match record.get(pk).filter(|k| truthy(k)).cloned() {
            Some(key) if self.exists(tx, collection, &key).await? => service.update_one(key, Value::Object(record), MutationOptions::default()).await,
            _ => service.create_one(Value::Object(record), MutationOptions::default()).await,
        }
    }

    /// Unlinks (or deletes) the items of `collection` that `filter` finds. They are found
    /// without the caller's read permission, as rc.83 does; the update or delete is the caller's.
    async fn deselect(&self, tx: &SharedTransaction, collection: &str, fk: &str, action: Deselect, filter: Value) -> Result<(), ApiError> {
        let finder = ItemsService::new(collection, self.services.clone(), self.schema.clone(), None).at_depth(self.depth).in_transaction(Some(tx.clone()));
        let keys = finder.keys_by_query(&Query { filter: Some(filter), limit: Some(-1), ..Default::default() }).await?;
        if keys.is_empty() {
            return Ok(());
        }
        let service = self.sibling_in(collection, Some(tx.clone()));
        match action {
            Deselect::Delete => service.delete_many(keys, MutationOptions::default()).await.map(drop),
            Deselect::Nullify => service.update_many(keys, json!({ fk: null }), MutationOptions::default()).await.map(drop),
        }
    }

    /// Whether `key` names an item of `collection`, as `tx` sees it.
    async fn exists(&self, tx: &SharedTransaction, collection: &str, key: &Value) -> Result<bool, ApiError> {
        let Some(overview) = self.schema.collection(collection) else { return Ok(false) };
        if !is_key(key) {
            return Ok(false);
        }
        let select = sea_query::Query::select()
            .column(sea_query::Alias::new(overview.primary.as_str()))
            .from(sea_query::Alias::new(collection))
            .cond_where(key_condition(overview, std::slice::from_ref(key)))
            .limit(1)
            .to_owned();
        Ok(!tx.run(&select).await.map_err(|e| ApiError::from_write(e, collection))?.rows.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_form_is_checked() {
        let check = |v: Value| check_alterations(v.as_object().unwrap()).map_err(|e| e.message);
        assert_eq!(check(json!({"create": [{"a": 1}], "update": [], "delete": [1, "2"]})), Ok(()));
        assert_eq!(check(json!({"create": {}})), Err("Invalid one-to-many update structure: \"create\" must be an array".into()));
        assert_eq!(check(json!({"update": [1]})), Err("Invalid one-to-many update structure: \"update[0]\" must be of type object".into()));
        assert_eq!(check(json!({"delete": [{}]})), Err("Invalid one-to-many update structure: \"delete[0]\" must be one of [string, number]".into()));
        assert_eq!(check(json!({"other": []})), Err("Invalid one-to-many update structure: \"other\" is not allowed".into()));
    }
}
