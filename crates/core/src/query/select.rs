//! The SELECT of an items read: the columns a query asks for that the reader may see, the
//! query's filter and search AND-ed with the reader's row filter, sort, limit and offset.
//! Relational fields are read by the items service afterwards (`services::items::expand`).

use sea_query::{Alias, Asterisk, Cond, Condition, Expr, ExprTrait, Order, Query as SqlQuery, SelectStatement};
use serde_json::Value;

use super::{compile_filter, compile_search, first_row, Query, DEFAULT_LIMIT};
use crate::config::DbClient;
use crate::db::bind::sql_value;
use crate::schema::{CollectionOverview, SchemaOverview};
use crate::ApiError;

/// What the reader may see: the row filter of their permission and the fields they may read.
/// The default (an admin, or a service without accountability) sees everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Access<'a> {
    pub filter: Option<&'a Value>,
    /// `None` = every field.
    pub fields: Option<&'a [String]>,
}

impl Access<'_> {
    pub fn allows(&self, field: &str) -> bool {
        self.fields.is_none_or(|f| f.iter().any(|a| a == "*" || a == field))
    }
}

/// Builds the statements that read one collection.
pub struct Select<'a> {
    pub collection: &'a CollectionOverview,
    pub schema: &'a SchemaOverview,
    pub client: DbClient,
    pub access: Access<'a>,
}

impl Select<'_> {
    /// The SELECT for `query` with `extra` (e.g. a primary key condition) and the reader's row
    /// filter AND-ed in, selecting only the fields the reader may see. The primary key is always
    /// selected: relational reads group by it, and the items service drops it if not asked for.
    pub fn statement(&self, query: &Query, extra: Option<Condition>) -> Result<SelectStatement, ApiError> {
        let collection = self.collection;
        let t = table(&collection.collection);
        let mut select = SqlQuery::select();
        select.from(t.clone());
        for field in collection.column_fields() {
            let wanted = field.field == collection.primary || requested(&query.fields, &field.field);
            if wanted && self.access.allows(&field.field) {
                select.column((t.clone(), Alias::new(field.field.as_str())));
            }
        }
        select.cond_where(self.condition(query, self.with_row_filter(extra)?, true)?);
        if query.sort.is_empty() {
            let default = collection.sort_field.clone().filter(|s| collection.field(s).is_some()).unwrap_or_else(|| collection.primary.clone());
            select.order_by((t.clone(), Alias::new(default.as_str())), Order::Asc);
        }
        for sort in &query.sort {
            if !self.access.allows(&sort.column) {
                return Err(ApiError::forbidden());
            }
            if collection.field(&sort.column).is_none_or(|f| f.alias) {
                return Err(ApiError::invalid_query(format!("Field \"{}\" doesn't exist in collection \"{}\".", sort.column, collection.collection)));
            }
            select.order_by((t.clone(), Alias::new(sort.column.as_str())), if sort.descending { Order::Desc } else { Order::Asc });
        }
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if limit >= 0 {
            select.limit(limit as u64);
        }
        let offset = first_row(limit, query.page, query.offset)?;
        if offset > 0 {
            if limit < 0 && self.client != DbClient::Postgres {
                // SQLite and MySQL need a LIMIT before OFFSET.
                select.limit(i64::MAX as u64);
            }
            select.offset(offset as u64);
        }
        Ok(select)
    }

    /// `SELECT count(*) AS count` of the rows matching `cond`.
    pub fn count(&self, cond: Condition) -> SelectStatement {
        SqlQuery::select().expr_as(Expr::col(Asterisk).count(), Alias::new("count")).from(table(&self.collection.collection)).cond_where(cond).to_owned()
    }

    /// `extra` AND the reader's row filter.
    pub fn with_row_filter(&self, extra: Option<Condition>) -> Result<Option<Condition>, ApiError> {
        Ok(match self.access.filter {
            Some(filter) => Some(Cond::all().add_option(extra).add(compile_filter(filter, self.collection, self.schema, self.client)?)),
            None => extra,
        })
    }

    /// The query's filter and search (with `with_filter`) AND-ed to `extra`. A reader limited
    /// to some fields may neither filter on nor search in the others: that would reveal their
    /// values.
    pub fn condition(&self, query: &Query, extra: Option<Condition>, with_filter: bool) -> Result<Condition, ApiError> {
        let collection = self.collection;
        let mut cond = Cond::all();
        if let Some(extra) = extra {
            cond = cond.add(extra);
        }
        if !with_filter {
            return Ok(cond);
        }
        if let Some(filter) = &query.filter {
            if filter_fields(filter).iter().any(|f| !self.access.allows(f)) {
                return Err(ApiError::forbidden());
            }
            cond = cond.add(compile_filter(filter, collection, self.schema, self.client)?);
        }
        if let Some(term) = query.search.as_deref().filter(|s| !s.is_empty()) {
            match self.access.fields {
                Some(_) => {
                    let mut visible = collection.clone();
                    visible.fields.retain(|name, _| self.access.allows(name));
                    cond = cond.add(compile_search(term, &visible));
                }
                None => cond = cond.add(compile_search(term, collection)),
            }
        }
        Ok(cond)
    }
}

fn table(name: &str) -> Alias {
    Alias::new(name)
}

/// `<primary key> IN (keys)`.
pub fn key_condition(collection: &CollectionOverview, keys: &[Value]) -> Condition {
    let column = Expr::col((table(&collection.collection), Alias::new(collection.primary.as_str())));
    Cond::all().add(column.is_in(keys.iter().map(sql_value)))
}

/// Whether `field` is among the requested `fields` (`*`, `*.x`, itself, `field.x`, or a
/// many-to-any's `field:collection.x`); no fields requested means all.
pub fn requested(fields: &[String], field: &str) -> bool {
    let names = |f: &String| f.split_once('.').is_some_and(|(head, _)| head == field || head.split_once(':').is_some_and(|(name, _)| name == field));
    fields.is_empty() || fields.iter().any(|f| f == "*" || f.starts_with("*.") || f == field || names(f))
}

/// The fields of this collection a filter refers to (through `_and`/`_or`, not into relations).
fn filter_fields(filter: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match filter {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "_and" || key == "_or" {
                    if let Value::Array(items) = value {
                        items.iter().for_each(|i| out.extend(filter_fields(i)));
                    }
                } else if !key.starts_with('_') {
                    // A many-to-any's collection scope (`item:headings`) names the field `item`.
                    out.push(key.split(':').next().unwrap_or(key).to_string());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| out.extend(filter_fields(i))),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::tests::schema;
    use crate::query::Sort;
    use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
    use serde_json::json;

    fn sql(access: Access<'_>, query: &Query, client: DbClient) -> Result<String, ApiError> {
        let schema = schema();
        let select = Select { collection: schema.collection("comments").unwrap(), schema: &schema, client, access };
        let statement = select.statement(query, None)?;
        Ok(match client {
            DbClient::Postgres => statement.to_string(PostgresQueryBuilder),
            _ => statement.to_string(SqliteQueryBuilder),
        })
    }

    fn fields(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selects_the_requested_columns_and_always_the_key() {
        let query = Query { fields: fields(&["text", "article.title"]), ..Default::default() };
        assert_eq!(
            sql(Access::default(), &query, DbClient::Sqlite).unwrap(),
            r#"SELECT "comments"."id", "comments"."article", "comments"."text" FROM "comments" WHERE TRUE ORDER BY "comments"."id" ASC LIMIT 100"#
        );
    }

    #[test]
    fn the_reader_sees_only_allowed_fields_and_rows() {
        let allowed = fields(&["id", "text"]);
        let filter = json!({ "approved": { "_eq": true } });
        let access = Access { filter: Some(&filter), fields: Some(&allowed) };
        assert_eq!(
            sql(access, &Query::default(), DbClient::Sqlite).unwrap(),
            r#"SELECT "comments"."id", "comments"."text" FROM "comments" WHERE "comments"."approved" = TRUE ORDER BY "comments"."id" ASC LIMIT 100"#
        );
        let by_hidden = Query { filter: Some(json!({ "approved": { "_eq": false } })), ..Default::default() };
        assert_eq!(sql(access, &by_hidden, DbClient::Sqlite).unwrap_err(), ApiError::forbidden());
        let sorted_by_hidden = Query { sort: vec![Sort { column: "approved".into(), descending: false }], ..Default::default() };
        assert_eq!(sql(access, &sorted_by_hidden, DbClient::Sqlite).unwrap_err(), ApiError::forbidden());
    }

    #[test]
    fn sort_limit_and_pages() {
        let query = Query { fields: fields(&["id"]), sort: vec![Sort { column: "text".into(), descending: true }], limit: Some(10), page: Some(3), ..Default::default() };
        assert_eq!(
            sql(Access::default(), &query, DbClient::Postgres).unwrap(),
            r#"SELECT "comments"."id" FROM "comments" WHERE TRUE ORDER BY "comments"."text" DESC LIMIT 10 OFFSET 20"#
        );
        // Without a limit, SQLite and MySQL need one before the offset; PostgreSQL doesn't.
        let unlimited = Query { fields: fields(&["id"]), limit: Some(-1), offset: Some(5), ..Default::default() };
        assert!(sql(Access::default(), &unlimited, DbClient::Sqlite).unwrap().ends_with(&format!("LIMIT {} OFFSET 5", i64::MAX)));
        assert!(sql(Access::default(), &unlimited, DbClient::Postgres).unwrap().ends_with(r#"ASC OFFSET 5"#));
        let unknown = Query { sort: vec![Sort { column: "nope".into(), descending: false }], ..Default::default() };
        assert_eq!(sql(Access::default(), &unknown, DbClient::Sqlite).unwrap_err().message, "Field \"nope\" doesn't exist in collection \"comments\".");
    }

    #[test]
    fn requested_fields() {
        assert!(requested(&[], "title"));
        assert!(requested(&fields(&["*"]), "title"));
        assert!(requested(&fields(&["author.name"]), "author"));
        assert!(!requested(&fields(&["author.name"]), "title"));
        assert!(!requested(&fields(&["authority"]), "author"));
        assert!(requested(&fields(&["item:headings.title"]), "item"));
        assert!(!requested(&fields(&["item:headings"]), "item"));
    }

    #[test]
    fn fields_a_filter_names() {
        assert_eq!(filter_fields(&json!({"item:headings": {"title": "x"}, "_and": [{"id": 1}]})), fields(&["item", "id"]));
    }
}
