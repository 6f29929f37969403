//! Filters → sea-query conditions (`applyFilter` in `apply-query.ts`, rc.83). Every column is
//! qualified with its table and every value is a bound parameter. Relational filters become
//! `IN (subquery)` conditions, so nothing joins and no row is duplicated.
//!
//! A many-to-any field is filtered through one of its collections, named as its scope
//! (`{"item:headings": {"title": {"_eq": "x"}}}`): the key column holds text, so the related
//! keys are compared as text (Directus compared them as they are, which PostgreSQL refuses).

use sea_query::{Alias, Condition, Expr, ExprTrait, Query as SqlQuery};
use serde_json::{Map, Value};

use super::filter_values::{is_operator, logical_items};
use crate::config::DbClient;
use crate::db::bind::sql_value;
use crate::schema::{CollectionOverview, FieldOverview, SchemaOverview};
use crate::ApiError;

pub fn compile(filter: &Value, collection: &CollectionOverview, schema: &SchemaOverview, client: DbClient) -> Result<Condition, ApiError> {
    let Value::Object(filter) = filter else {
        return Err(ApiError::invalid_query("\"filter\" must be of type object"));
    };
    Ok(Compiler { schema, client }.object(filter, collection)?.unwrap_or_else(Condition::all))
}

/// A condition nothing satisfies (sea-query renders an empty `any` as `FALSE`).
pub fn nothing() -> Condition {
    Condition::any()
}

/// How a key of a filter relates to another collection.
enum Relation<'a> {
    /// `key` is this collection's foreign key to `related`.
    ManyToOne { related: &'a str },
    /// `key` is an alias listing the rows of `many` whose `many_field` points here.
    OneToMany { many: &'a str, many_field: &'a str },
    /// `key` holds the key of an item of the collection `collection_field` names.
    ManyToAny { allowed: Vec<&'a str>, collection_field: &'a str },
}

struct Compiler<'a> {
    schema: &'a SchemaOverview,
    client: DbClient,
}

impl<'a> Compiler<'a> {
    /// The conjunction of the filter's keys; `None` when it constrains nothing.
    fn object(&self, filter: &Map<String, Value>, collection: &CollectionOverview) -> Result<Option<Condition>, ApiError> {
        let mut parts = Vec::new();
        for (key, value) in filter {
            let part = match key.as_str() {
                "_and" => {
                    let items = self.members(key, value, collection)?;
                    all(items.into_iter().flatten().collect())
                }
                "_or" => {
                    let items = self.members(key, value, collection)?;
                    // A member that matches everything (such as `{}`) makes the whole `_or` match
                    // everything; an empty `_or` constrains nothing, as in Directus.
                    match items.into_iter().collect::<Option<Vec<_>>>() {
                        Some(items) if !items.is_empty() => Some(balanced(items, Condition::any)),
                        _ => None,
                    }
                }
                _ => self.field(key, value, collection)?,
            };
            parts.extend(part);
        }
        Ok(all(parts))
    }

    fn members(&self, key: &str, value: &Value, collection: &CollectionOverview) -> Result<Vec<Option<Condition>>, ApiError> {
        logical_items(key, value)?.into_iter().map(|item| self.object(item.as_object().expect("logical_items returns objects"), collection)).collect()
    }

    /// `{key: value}`: operators on the column `key`, and nested filters through its relation
    /// (`key` may carry a many-to-any's collection scope, `item:headings`).
    fn field(&self, key: &str, value: &Value, collection: &CollectionOverview) -> Result<Option<Condition>, ApiError> {
        let (name, scope) = match key.split_once(':') {
            Some((name, scope)) => (name, Some(scope)),
            None => (key, None),
        };
        let relation = self.relation(&collection.collection, name);
        let scoped = matches!(relation, Some(Relation::ManyToAny { .. }));
        if scope.is_some() && !scoped {
            return Err(unknown_field(key, collection));
        }
        let target = match (&relation, scope) {
            (Some(Relation::ManyToAny { .. }), Some(scope)) => self.schema.collection(scope),
            (Some(Relation::ManyToAny { .. }), None) => None,
            (Some(Relation::ManyToOne { related }), _) => self.schema.collection(related),
            (Some(Relation::OneToMany { many, .. }), _) => self.schema.collection(many),
            (None, _) => None,
        };
        let mut operators = Vec::new();
        let mut nested = Map::new();
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if is_operator(k) {
                        operators.push((k.as_str(), v));
                    } else if relation.is_some() && (!k.starts_with('_') || k == "_and" || k == "_or" || target.is_some_and(|t| t.field(k).is_some())) {
                        nested.insert(k.clone(), v.clone());
                    } else if k.starts_with('_') {
                        return Err(ApiError::invalid_query(format!("Unknown filter operator \"{k}\".")));
                    } else {
                        return Err(match collection.field(key) {
                            Some(_) => ApiError::invalid_query(format!("\"{}.{key}\" is not a relational field", collection.collection)),
                            None => unknown_field(key, collection),
                        });
                    }
                }
            }
            // A bare value means `_eq` (an array: any of its values).
            other => operators.push(("_eq", other)),
        }

        let mut parts = Vec::new();
        if !operators.is_empty() {
            if scope.is_some() {
                return Err(unknown_field(key, collection));
            }
            let field = column_field(key, collection)?;
            let column = || Expr::col((Alias::new(collection.collection.as_str()), Alias::new(key)));
            for (op, v) in operators {
                parts.extend(operator(column, field, op, v)?);
            }
        }
        if let Some(relation) = relation.filter(|_| !nested.is_empty()) {
            parts.push(self.relational(name, scope, relation, &nested, collection)?);
        }
        Ok(all(parts))
    }

    fn relational(
        &self,
        key: &str,
        scope: Option<&str>,
        relation: Relation<'a>,
        nested: &Map<String, Value>,
        collection: &CollectionOverview,
    ) -> Result<Condition, ApiError> {
        let mut extra = None;
        let (outer_column, inner, inner_column) = match relation {
            Relation::ManyToOne { related } => {
                column_field(key, collection)?;
                let related = self.collection(related)?;
                (key, related, related.primary.as_str())
            }
            Relation::OneToMany { many, many_field } => (collection.primary.as_str(), self.collection(many)?, many_field),
            Relation::ManyToAny { allowed, collection_field } => {
                let Some(scope) = scope else {
                    return Err(ApiError::invalid_query("You have to provide a collection scope when filtering on a many-to-any item"));
                };
                if !allowed.contains(&scope) {
                    return Err(ApiError::invalid_query(format!("\"{}.{key}\" can't be linked to collection \"{scope}\"", collection.collection)));
                }
                column_field(key, collection)?;
                let link = Expr::col((Alias::new(collection.collection.as_str()), Alias::new(collection_field))).eq(scope);
                extra = Some(link);
                let related = self.collection(scope)?;
                (key, related, related.primary.as_str())
            }
        };
        let mut select = SqlQuery::select();
        let mut inner_expr = Expr::col((Alias::new(inner.collection.as_str()), Alias::new(inner_column)));
        let mut outer = Expr::col((Alias::new(collection.collection.as_str()), Alias::new(outer_column)));
        if extra.is_some() {
            // The many-to-any's key column holds text: compare both sides as text of one
            // collation (MySQL's casts take the connection's, which may not be the column's).
            inner_expr = inner_expr.cast_as(Alias::new(self.text_type()));
            outer = outer.cast_as(Alias::new(self.text_type()));
        }
        select.expr(inner_expr).from(Alias::new(inner.collection.as_str()));
        // Without conditions of its own, the subquery means "has a related row".
        if let Some(cond) = self.object(nested, inner)? {
            select.cond_where(cond);
        }
        let condition: Condition = outer.in_subquery(select.to_owned()).into();
        Ok(match extra {
            Some(link) => Condition::all().add(link).add(condition),
            None => condition,
        })
    }

    /// The engine's name of a text type to cast keys to.
    fn text_type(&self) -> &'static str {
        match self.client {
            DbClient::MySql => "char",
            _ => "text",
        }
    }

    /// The relation `key` of `collection` takes part in, as Directus finds it: the first whose
    /// many side is `collection.key`, or whose one side lists its rows as `key`; a many side with
    /// a collection field and allowed collections is a many-to-any.
    fn relation(&self, collection: &str, key: &str) -> Option<Relation<'a>> {
        self.schema.relations_of(collection, key).find_map(|r| {
            let text = |v: &'a Value| v.as_str();
            let (many, field, one) = (text(&r["collection"]), text(&r["field"]), text(&r["related_collection"]));
            if many == Some(collection) && field == Some(key) {
                let allowed: Vec<&str> = r["meta"]["one_allowed_collections"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                if let (Some(collection_field), false) = (text(&r["meta"]["one_collection_field"]), allowed.is_empty()) {
                    return Some(Relation::ManyToAny { allowed, collection_field });
                }
                return one.map(|related| Relation::ManyToOne { related });
            }
            if one == Some(collection) && text(&r["meta"]["one_field"]) == Some(key) {
                return Some(Relation::OneToMany { many: many?, many_field: field? });
            }
            None
        })
    }

    fn collection(&self, name: &str) -> Result<&'a CollectionOverview, ApiError> {
        self.schema.collection(name).ok_or_else(|| ApiError::internal(format!("A relation points to the unknown collection \"{name}\".")))
    }
}

fn all(parts: Vec<Condition>) -> Option<Condition> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(balanced(parts, Condition::all)),
    }
}

/// How many conditions one parenthesised group joins.
const GROUP: usize = 64;

/// `parts` joined by `junction` (`OR` for `Condition::any`, `AND` for `all`) as a tree of groups
/// of at most [`GROUP`]: `a OR b OR c …` is parsed as a left-deep chain, and SQLite refuses a
/// chain deeper than 1,000, so 10,000 branches become `(… 64 …) OR (… 64 …) OR …`, a few
/// groups deep. The rows matched are the same.
fn balanced(mut parts: Vec<Condition>, junction: fn() -> Condition) -> Condition {
    while parts.len() > GROUP {
        let mut groups = Vec::with_capacity(parts.len().div_ceil(GROUP));
        let mut rest = parts.into_iter().peekable();
        while rest.peek().is_some() {
            let group = rest.by_ref().take(GROUP).fold(junction(), Condition::add);
            // sea-query writes a condition nested in one of its kind without parentheses (the
            // chain stays flat); a one-element tuple is a parenthesised expression in SQL.
            groups.push(Condition::all().add(Expr::tuple([Expr::from(group)])));
        }
        parts = groups;
    }
    parts.into_iter().fold(junction(), Condition::add)
}

fn unknown_field(key: &str, collection: &CollectionOverview) -> ApiError {
    ApiError::invalid_query(format!("Field \"{key}\" doesn't exist in collection \"{}\".", collection.collection))
}

/// The field behind a column (alias fields have none).
fn column_field<'c>(key: &str, collection: &'c CollectionOverview) -> Result<&'c FieldOverview, ApiError> {
    match collection.field(key) {
        None => Err(unknown_field(key, collection)),
        Some(f) if f.alias => Err(ApiError::invalid_query(format!(
            "Field \"{key}\" of collection \"{}\" is an alias and can't be compared with a value.",
            collection.collection
        ))),
        Some(f) => Ok(f),
    }
}

/// One operator on one column; `None` for the no-ops Directus allows (`_between` with other
/// than two values, `_neq` with an empty list).
fn operator(column: impl Fn() -> Expr, field: &FieldOverview, op: &str, value: &Value) -> Result<Option<Condition>, ApiError> {
    let expr = match op {
        "_eq" => match value {
            Value::Null => column().is_null(),
            Value::Array(items) if items.is_empty() => return Ok(Some(nothing())),
            Value::Array(items) => column().is_in(items.iter().map(sql_value)),
            v => column().eq(sql_value(v)),
        },
        "_neq" => match value {
            Value::Null => column().is_not_null(),
            Value::Array(items) if items.is_empty() => return Ok(None),
            Value::Array(items) => column().is_not_in(items.iter().map(sql_value)),
            v => column().ne(sql_value(v)),
        },
        "_lt" => column().lt(sql_value(value)),
        "_lte" => column().lte(sql_value(value)),
        "_gt" => column().gt(sql_value(value)),
        "_gte" => column().gte(sql_value(value)),
        "_in" => column().is_in(list(value).iter().map(sql_value)),
        "_nin" => column().is_not_in(list(value).iter().map(sql_value)),
        "_between" | "_nbetween" => match list(value).as_slice() {
            [a, b] if op == "_between" => column().between(sql_value(a), sql_value(b)),
            [a, b] => column().not_between(sql_value(a), sql_value(b)),
            _ => return Ok(None),
        },
        // Only `false` inverts, as in Directus.
        "_null" | "_nnull" => {
            if (op == "_null") == (*value != Value::Bool(false)) {
                column().is_null()
            } else {
                column().is_not_null()
            }
        }
        "_empty" | "_nempty" => return Ok(Some(empty(column, field, (op == "_empty") == (*value != Value::Bool(false))))),
        "_contains" => column().like(format!("%{}%", like_text(value))),
        "_ncontains" => column().not_like(format!("%{}%", like_text(value))),
        "_starts_with" => column().like(format!("{}%", like_text(value))),
        "_nstarts_with" => column().not_like(format!("{}%", like_text(value))),
        "_ends_with" => column().like(format!("%{}", like_text(value))),
        "_nends_with" => column().not_like(format!("%{}", like_text(value))),
        _ => return Err(ApiError::invalid_query(format!("Unknown filter operator \"{op}\"."))),
    };
    Ok(Some(expr.into()))
}

/// `_empty`: NULL or, for text columns, `''`; `_nempty` is its negation. Other column types are
/// only compared with NULL, since PostgreSQL rejects `''` as a number, uuid or date.
fn empty(column: impl Fn() -> Expr, field: &FieldOverview, is_empty: bool) -> Condition {
    let textual = matches!(field.kind.as_str(), "string" | "text" | "csv" | "hash");
    match (is_empty, textual) {
        (true, true) => Condition::any().add(column().is_null()).add(column().eq("")),
        (true, false) => column().is_null().into(),
        (false, true) => Condition::all().add(column().is_not_null()).add(column().ne("")),
        (false, false) => column().is_not_null().into(),
    }
}

/// A list operator's values; a sanitised filter always has an array, other filters may still
/// hold the CSV text.
fn list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::String(s) => s.split(',').map(|p| Value::String(p.to_string())).collect(),
        other => vec![other.clone()],
    }
}

/// The value as JavaScript interpolates it into a LIKE pattern (`%` and `_` stay wildcards).
fn like_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::tests::schema;
    use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder, Value as V};
    use serde_json::json;

    fn select(filter: &Value, collection: &str) -> sea_query::SelectStatement {
        let schema = schema();
        let cond = compile(filter, schema.collection(collection).unwrap(), &schema, DbClient::Sqlite).unwrap_or_else(|e| panic!("{filter}: {e}"));
        SqlQuery::select().column(Alias::new("id")).from(Alias::new(collection)).cond_where(cond).to_owned()
    }

    /// The WHERE clause for SQLite with the values inlined.
    fn sqlite(filter: Value) -> String {
        let sql = select(&filter, "articles").to_string(SqliteQueryBuilder);
        sql.strip_prefix(r#"SELECT "id" FROM "articles" WHERE "#).unwrap_or(&sql).to_string()
    }

    /// The WHERE clause for PostgreSQL with its placeholders, and the bound values.
    fn pg(filter: Value) -> (String, Vec<V>) {
        let (sql, values) = select(&filter, "articles").build(PostgresQueryBuilder);
        (sql.strip_prefix(r#"SELECT "id" FROM "articles" WHERE "#).unwrap_or(&sql).to_string(), values.0)
    }

    fn error(filter: Value) -> ApiError {
        let schema = schema();
        compile(&filter, schema.collection("articles").unwrap(), &schema, DbClient::Sqlite).unwrap_err()
    }

    fn s(text: &str) -> V {
        text.into()
    }

    fn i(n: i64) -> V {
        n.into()
    }

    /// (filter, SQLite WHERE clause, PostgreSQL WHERE clause, PostgreSQL values)
    fn check(cases: Vec<(Value, &str, &str, Vec<V>)>) {
        for (filter, lite, postgres, values) in cases {
            assert_eq!(sqlite(filter.clone()), lite, "SQLite {filter}");
            assert_eq!(pg(filter.clone()), (postgres.to_string(), values), "PostgreSQL {filter}");
        }
    }

    #[test]
    fn equality() {
        check(vec![
            (json!({"title": {"_eq": "x"}}), r#""articles"."title" = 'x'"#, r#""articles"."title" = $1"#, vec![s("x")]),
            (json!({"title": "x"}), r#""articles"."title" = 'x'"#, r#""articles"."title" = $1"#, vec![s("x")]),
            (json!({"views": {"_eq": 5}}), r#""articles"."views" = 5"#, r#""articles"."views" = $1"#, vec![i(5)]),
            (json!({"published": {"_eq": true}}), r#""articles"."published" = TRUE"#, r#""articles"."published" = $1"#, vec![true.into()]),
            (json!({"rating": 2.5}), r#""articles"."rating" = 2.5"#, r#""articles"."rating" = $1"#, vec![2.5f64.into()]),
            (json!({"author": {"_eq": null}}), r#""articles"."author" IS NULL"#, r#""articles"."author" IS NULL"#, vec![]),
            (json!({"author": null}), r#""articles"."author" IS NULL"#, r#""articles"."author" IS NULL"#, vec![]),
            (json!({"title": ["a", "b"]}), r#""articles"."title" IN ('a', 'b')"#, r#""articles"."title" IN ($1, $2)"#, vec![s("a"), s("b")]),
            (json!({"title": []}), "FALSE", "FALSE", vec![]),
            (json!({"title": {"_neq": "x"}}), r#""articles"."title" <> 'x'"#, r#""articles"."title" <> $1"#, vec![s("x")]),
            (json!({"author": {"_neq": null}}), r#""articles"."author" IS NOT NULL"#, r#""articles"."author" IS NOT NULL"#, vec![]),
        ]);
    }

    #[test]
    fn comparisons() {
        check(vec![
            (json!({"views": {"_lt": 5}}), r#""articles"."views" < 5"#, r#""articles"."views" < $1"#, vec![i(5)]),
            (json!({"views": {"_lte": "5"}}), r#""articles"."views" <= '5'"#, r#""articles"."views" <= $1"#, vec![s("5")]),
            (json!({"views": {"_gt": 5}}), r#""articles"."views" > 5"#, r#""articles"."views" > $1"#, vec![i(5)]),
            (
                json!({"date_created": {"_gte": "2021-01-01T00:00:00.000Z"}}),
                r#""articles"."date_created" >= '2021-01-01T00:00:00.000Z'"#,
                r#""articles"."date_created" >= $1"#,
                vec![s("2021-01-01T00:00:00.000Z")],
            ),
            (
                json!({"views": {"_gte": 1, "_lte": 9}}),
                r#""articles"."views" >= 1 AND "articles"."views" <= 9"#,
                r#""articles"."views" >= $1 AND "articles"."views" <= $2"#,
                vec![i(1), i(9)],
            ),
        ]);
    }

    #[test]
    fn lists() {
        check(vec![
            (json!({"id": {"_in": [1, "2"]}}), r#""articles"."id" IN (1, '2')"#, r#""articles"."id" IN ($1, $2)"#, vec![i(1), s("2")]),
            (json!({"id": {"_in": "3,4"}}), r#""articles"."id" IN ('3', '4')"#, r#""articles"."id" IN ($1, $2)"#, vec![s("3"), s("4")]),
            (json!({"id": {"_nin": [1]}}), r#""articles"."id" NOT IN (1)"#, r#""articles"."id" NOT IN ($1)"#, vec![i(1)]),
            (
                json!({"views": {"_between": [1, 9]}}),
                r#""articles"."views" BETWEEN 1 AND 9"#,
                r#""articles"."views" BETWEEN $1 AND $2"#,
                vec![i(1), i(9)],
            ),
            (
                json!({"title": {"_nbetween": ["a", "m"]}}),
                r#""articles"."title" NOT BETWEEN 'a' AND 'm'"#,
                r#""articles"."title" NOT BETWEEN $1 AND $2"#,
                vec![s("a"), s("m")],
            ),
            // Directus ignores `_between` without exactly two values.
            (json!({"views": {"_between": [1]}}), "TRUE", "TRUE", vec![]),
            (json!({"views": {"_nbetween": [1, 2, 3]}, "id": 1}), r#""articles"."id" = 1"#, r#""articles"."id" = $1"#, vec![i(1)]),
        ]);
    }

    #[test]
    fn null_and_empty() {
        check(vec![
            (json!({"author": {"_null": true}}), r#""articles"."author" IS NULL"#, r#""articles"."author" IS NULL"#, vec![]),
            (json!({"author": {"_null": false}}), r#""articles"."author" IS NOT NULL"#, r#""articles"."author" IS NOT NULL"#, vec![]),
            (json!({"author": {"_nnull": true}}), r#""articles"."author" IS NOT NULL"#, r#""articles"."author" IS NOT NULL"#, vec![]),
            (json!({"author": {"_nnull": false}}), r#""articles"."author" IS NULL"#, r#""articles"."author" IS NULL"#, vec![]),
            (
                json!({"title": {"_empty": true}}),
                r#""articles"."title" IS NULL OR "articles"."title" = ''"#,
                r#""articles"."title" IS NULL OR "articles"."title" = $1"#,
                vec![s("")],
            ),
            (
                json!({"title": {"_empty": false}}),
                r#""articles"."title" IS NOT NULL AND "articles"."title" <> ''"#,
                r#""articles"."title" IS NOT NULL AND "articles"."title" <> $1"#,
                vec![s("")],
            ),
            (
                json!({"body": {"_nempty": true}}),
                r#""articles"."body" IS NOT NULL AND "articles"."body" <> ''"#,
                r#""articles"."body" IS NOT NULL AND "articles"."body" <> $1"#,
                vec![s("")],
            ),
            (
                json!({"body": {"_nempty": false}}),
                r#""articles"."body" IS NULL OR "articles"."body" = ''"#,
                r#""articles"."body" IS NULL OR "articles"."body" = $1"#,
                vec![s("")],
            ),
            // Non-text columns are only compared with NULL.
            (json!({"views": {"_empty": true}}), r#""articles"."views" IS NULL"#, r#""articles"."views" IS NULL"#, vec![]),
            (json!({"token": {"_nempty": true}}), r#""articles"."token" IS NOT NULL"#, r#""articles"."token" IS NOT NULL"#, vec![]),
            (
                json!({"title": {"_empty": true}, "id": 1}),
                r#"("articles"."title" IS NULL OR "articles"."title" = '') AND "articles"."id" = 1"#,
                r#"("articles"."title" IS NULL OR "articles"."title" = $1) AND "articles"."id" = $2"#,
                vec![s(""), i(1)],
            ),
        ]);
    }

    #[test]
    fn patterns() {
        check(vec![
            (json!({"title": {"_contains": "ab"}}), r#""articles"."title" LIKE '%ab%'"#, r#""articles"."title" LIKE $1"#, vec![s("%ab%")]),
            (json!({"title": {"_ncontains": "ab"}}), r#""articles"."title" NOT LIKE '%ab%'"#, r#""articles"."title" NOT LIKE $1"#, vec![s("%ab%")]),
            (json!({"title": {"_starts_with": "ab"}}), r#""articles"."title" LIKE 'ab%'"#, r#""articles"."title" LIKE $1"#, vec![s("ab%")]),
            (json!({"title": {"_nstarts_with": "ab"}}), r#""articles"."title" NOT LIKE 'ab%'"#, r#""articles"."title" NOT LIKE $1"#, vec![s("ab%")]),
            (json!({"title": {"_ends_with": "ab"}}), r#""articles"."title" LIKE '%ab'"#, r#""articles"."title" LIKE $1"#, vec![s("%ab")]),
            (json!({"title": {"_nends_with": "ab"}}), r#""articles"."title" NOT LIKE '%ab'"#, r#""articles"."title" NOT LIKE $1"#, vec![s("%ab")]),
            (json!({"title": {"_contains": 5}}), r#""articles"."title" LIKE '%5%'"#, r#""articles"."title" LIKE $1"#, vec![s("%5%")]),
            // User input is a bound value even when it looks like SQL.
            (
                json!({"title": {"_contains": "'; DROP TABLE articles; --"}}),
                r#""articles"."title" LIKE '%''; DROP TABLE articles; --%'"#,
                r#""articles"."title" LIKE $1"#,
                vec![s("%'; DROP TABLE articles; --%")],
            ),
        ]);
    }

    #[test]
    fn logical_groups() {
        check(vec![
            (
                json!({"_or": [{"title": "a"}, {"_and": [{"views": 1}, {"status": {"_neq": "x"}}]}]}),
                r#""articles"."title" = 'a' OR ("articles"."views" = 1 AND "articles"."status" <> 'x')"#,
                r#""articles"."title" = $1 OR ("articles"."views" = $2 AND "articles"."status" <> $3)"#,
                vec![s("a"), i(1), s("x")],
            ),
            (
                json!({"_and": [{"_or": [{"id": 1}, {"id": 2}]}, {"_or": [{"views": 3}, {"title": "t", "status": "s"}]}]}),
                r#"("articles"."id" = 1 OR "articles"."id" = 2) AND ("articles"."views" = 3 OR ("articles"."title" = 't' AND "articles"."status" = 's'))"#,
                r#"("articles"."id" = $1 OR "articles"."id" = $2) AND ("articles"."views" = $3 OR ("articles"."title" = $4 AND "articles"."status" = $5))"#,
                vec![i(1), i(2), i(3), s("t"), s("s")],
            ),
            (
                json!({"views": 1, "_or": [{"id": 1}, {"id": 2}]}),
                r#""articles"."views" = 1 AND ("articles"."id" = 1 OR "articles"."id" = 2)"#,
                r#""articles"."views" = $1 AND ("articles"."id" = $2 OR "articles"."id" = $3)"#,
                vec![i(1), i(1), i(2)],
            ),
            // qs turns `_or` with an index above 20 into an object keyed by index.
            (
                json!({"_or": {"0": {"id": 1}, "21": {"id": 2}}}),
                r#""articles"."id" = 1 OR "articles"."id" = 2"#,
                r#""articles"."id" = $1 OR "articles"."id" = $2"#,
                vec![i(1), i(2)],
            ),
        ]);
    }

    #[test]
    fn ten_thousand_branches_nest_in_groups() {
        let branches: Vec<Value> = (0..10_000).map(|n| json!({ "id": n })).collect();
        let sql = sqlite(json!({ "_or": branches }));
        assert!(sql.starts_with(r#"(("articles"."id" = 0 OR "articles"."id" = 1 OR"#), "{}", &sql[..80]);
        assert_eq!(sql.matches("\"articles\".\"id\" = ").count(), 10_000);
        // 10,000 → 157 groups of 64 → 3 → 1: each OR chain is at most 64 long.
        let longest_chain = sql.split(['(', ')']).map(|run| run.matches(" OR ").count()).max().unwrap();
        assert!(longest_chain < 64, "{longest_chain}");
        let few: Vec<Value> = (0..3).map(|n| json!({ "id": n })).collect();
        assert_eq!(sqlite(json!({ "_or": few })), r#""articles"."id" = 0 OR "articles"."id" = 1 OR "articles"."id" = 2"#);
    }

    #[test]
    fn groups_that_match_everything() {
        check(vec![
            (json!({}), "TRUE", "TRUE", vec![]),
            (json!({"_or": [{"title": "a"}, {}]}), "TRUE", "TRUE", vec![]),
            (json!({"_or": [{}, {"title": "a"}], "id": 1}), r#""articles"."id" = 1"#, r#""articles"."id" = $1"#, vec![i(1)]),
            (json!({"_or": [], "_and": [], "id": 1}), r#""articles"."id" = 1"#, r#""articles"."id" = $1"#, vec![i(1)]),
            (json!({"_and": [{}, {"id": 1}]}), r#""articles"."id" = 1"#, r#""articles"."id" = $1"#, vec![i(1)]),
        ]);
    }

    #[test]
    fn many_to_one() {
        check(vec![
            (
                json!({"author": {"name": {"_eq": "Ann"}}}),
                r#""articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."name" = 'Ann')"#,
                r#""articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."name" = $1)"#,
                vec![s("Ann")],
            ),
            (
                json!({"author": {"country": {"name": "NL"}}}),
                r#""articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."country" IN (SELECT "countries"."id" FROM "countries" WHERE "countries"."name" = 'NL'))"#,
                r#""articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."country" IN (SELECT "countries"."id" FROM "countries" WHERE "countries"."name" = $1))"#,
                vec![s("NL")],
            ),
            (
                json!({"author": {"_nnull": true, "_or": [{"name": "A"}, {"country": {"_null": true}}]}}),
                r#""articles"."author" IS NOT NULL AND "articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."name" = 'A' OR "authors"."country" IS NULL)"#,
                r#""articles"."author" IS NOT NULL AND "articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."name" = $1 OR "authors"."country" IS NULL)"#,
                vec![s("A")],
            ),
            // The same table inside the subquery shadows the outer one.
            (
                json!({"parent": {"title": {"_eq": "p"}}}),
                r#""articles"."parent" IN (SELECT "articles"."id" FROM "articles" WHERE "articles"."title" = 'p')"#,
                r#""articles"."parent" IN (SELECT "articles"."id" FROM "articles" WHERE "articles"."title" = $1)"#,
                vec![s("p")],
            ),
            (json!({"author": {"_eq": 3}}), r#""articles"."author" = 3"#, r#""articles"."author" = $1"#, vec![i(3)]),
            (
                json!({"author": {"name": {}}}),
                r#""articles"."author" IN (SELECT "authors"."id" FROM "authors")"#,
                r#""articles"."author" IN (SELECT "authors"."id" FROM "authors")"#,
                vec![],
            ),
        ]);
    }

    #[test]
    fn one_to_many() {
        check(vec![
            (
                json!({"comments": {"approved": {"_eq": true}}}),
                r#""articles"."id" IN (SELECT "comments"."article" FROM "comments" WHERE "comments"."approved" = TRUE)"#,
                r#""articles"."id" IN (SELECT "comments"."article" FROM "comments" WHERE "comments"."approved" = $1)"#,
                vec![true.into()],
            ),
            (
                json!({"children": {"author": {"name": {"_starts_with": "A"}}}}),
                r#""articles"."id" IN (SELECT "articles"."parent" FROM "articles" WHERE "articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."name" LIKE 'A%'))"#,
                r#""articles"."id" IN (SELECT "articles"."parent" FROM "articles" WHERE "articles"."author" IN (SELECT "authors"."id" FROM "authors" WHERE "authors"."name" LIKE $1))"#,
                vec![s("A%")],
            ),
            (
                json!({"_or": [{"comments": {"text": {"_contains": "x"}}}, {"title": "t"}]}),
                r#""articles"."id" IN (SELECT "comments"."article" FROM "comments" WHERE "comments"."text" LIKE '%x%') OR "articles"."title" = 't'"#,
                r#""articles"."id" IN (SELECT "comments"."article" FROM "comments" WHERE "comments"."text" LIKE $1) OR "articles"."title" = $2"#,
                vec![s("%x%"), s("t")],
            ),
        ]);
        let schema = schema();
        let sql = select(&json!({"articles": {"title": "t"}}), "authors").build(PostgresQueryBuilder).0;
        assert_eq!(
            sql,
            r#"SELECT "id" FROM "authors" WHERE "authors"."id" IN (SELECT "articles"."author" FROM "articles" WHERE "articles"."title" = $1)"#
        );
        assert!(schema.collection("authors").unwrap().field("articles").unwrap().alias);
    }

    #[test]
    fn unknown_fields() {
        assert_eq!(error(json!({"nope": 1})).message, "Field \"nope\" doesn't exist in collection \"articles\".");
        assert_eq!(error(json!({"_or": [{"nope": {"_eq": 1}}]})).message, "Field \"nope\" doesn't exist in collection \"articles\".");
        assert_eq!(error(json!({"nope": {"x": {"_eq": 1}}})).message, "Field \"nope\" doesn't exist in collection \"articles\".");
        assert_eq!(error(json!({"author": {"nope": {"_eq": 1}}})).message, "Field \"nope\" doesn't exist in collection \"authors\".");
        assert_eq!(error(json!({"comments": {"nope": 1}})).message, "Field \"nope\" doesn't exist in collection \"comments\".");
        assert_eq!(error(json!({"_eq": 1})).message, "Field \"_eq\" doesn't exist in collection \"articles\".");
        let e = error(json!({"title": {"sub": {"_eq": 1}}}));
        assert_eq!((e.status, e.code.as_str(), e.message.as_str()), (400, "INVALID_QUERY", "\"articles.title\" is not a relational field"));
        assert_eq!(
            error(json!({"comments": {"_null": true}})).message,
            "Field \"comments\" of collection \"articles\" is an alias and can't be compared with a value."
        );
    }

    #[test]
    fn unknown_operators() {
        let e = error(json!({"title": {"_like": "x"}}));
        assert_eq!((e.status, e.code.as_str(), e.message.as_str()), (400, "INVALID_QUERY", "Unknown filter operator \"_like\"."));
        assert_eq!(error(json!({"author": {"_regex": "x"}})).message, "Unknown filter operator \"_regex\".");
        assert_eq!(error(json!({"_and": [{"views": {"_gt": 1, "_intersects": 2}}]})).message, "Unknown filter operator \"_intersects\".");
        assert_eq!(error(json!({"title": {"_or": [{"_eq": 1}]}})).message, "Unknown filter operator \"_or\".");
    }

    #[test]
    fn malformed_filters() {
        let schema = schema();
        let articles = schema.collection("articles").unwrap();
        assert_eq!(compile(&json!([1]), articles, &schema, DbClient::Sqlite).unwrap_err().message, "\"filter\" must be of type object");
        assert_eq!(error(json!({"_and": "x"})).message, "\"_and\" has to be an array of filters");
        assert_eq!(error(json!({"_or": [1]})).message, "\"_or\" has to be an array of filters");
    }

    #[test]
    fn many_to_any_through_a_collection_scope() {
        let schema = schema();
        let attachments = schema.collection("attachments").unwrap();
        let where_clause = |filter: Value, client: DbClient| {
            let cond = compile(&filter, attachments, &schema, client).unwrap();
            let select = SqlQuery::select().column(Alias::new("id")).from(Alias::new("attachments")).cond_where(cond).to_owned();
            let sql = match client {
                DbClient::MySql => select.to_string(sea_query::MysqlQueryBuilder),
                _ => select.to_string(PostgresQueryBuilder),
            };
            sql.split_once(" WHERE ").unwrap().1.to_string()
        };
        assert_eq!(
            where_clause(json!({"item:authors": {"name": {"_eq": "Ann"}}}), DbClient::Postgres),
            r#""attachments"."collection" = 'authors' AND CAST("attachments"."item" AS text) IN (SELECT CAST("authors"."id" AS text) FROM "authors" WHERE "authors"."name" = 'Ann')"#
        );
        assert_eq!(
            where_clause(json!({"item:articles": {"author": {"name": "Bob"}}}), DbClient::MySql),
            "`attachments`.`collection` = 'articles' AND CAST(`attachments`.`item` AS char) IN (SELECT CAST(`articles`.`id` AS char) FROM `articles` WHERE `articles`.`author` IN (SELECT `authors`.`id` FROM `authors` WHERE `authors`.`name` = 'Bob'))"
        );
        // Operators on the key column itself need no scope.
        assert_eq!(where_clause(json!({"item": {"_eq": "1"}}), DbClient::Postgres), r#""attachments"."item" = '1'"#);
        let error = |filter: Value| compile(&filter, attachments, &schema, DbClient::Sqlite).unwrap_err();
        let e = error(json!({"item": {"id": 1}}));
        assert_eq!((e.status, e.message.as_str()), (400, "You have to provide a collection scope when filtering on a many-to-any item"));
        assert_eq!(error(json!({"item:comments": {"id": 1}})).message, "\"attachments.item\" can't be linked to collection \"comments\"");
        assert_eq!(error(json!({"item:authors": {"nope": 1}})).message, "Field \"nope\" doesn't exist in collection \"authors\".");
        assert_eq!(error(json!({"collection:authors": {"id": 1}})).message, "Field \"collection:authors\" doesn't exist in collection \"attachments\".");
    }

    #[test]
    fn relation_to_a_missing_collection_is_an_internal_error() {
        let mut schema = schema();
        schema.collections.remove("authors");
        let e = compile(&json!({"author": {"name": "x"}}), schema.collection("articles").unwrap(), &schema, DbClient::Sqlite).unwrap_err();
        assert_eq!((e.status, e.internal), (500, true));
    }
}
