//! `?search=` (`applySearch` in `apply-query.ts`, rc.83): any text field containing the term
//! (case-insensitive), any numeric field equal to it, any uuid field equal to it.

use sea_query::{Alias, BinOper, Condition, Expr, ExprTrait, Func};
use serde_json::Value;

use super::filter::nothing;
use super::sanitize::js_number;
use crate::schema::CollectionOverview;

pub fn compile(term: &str, collection: &CollectionOverview) -> Condition {
    let table = Alias::new(collection.collection.as_str());
    let number = js_number(&Value::String(term.to_string())).filter(|n| n.is_finite() && !term.trim().is_empty());
    let uuid = is_uuid(term).then(|| term.to_ascii_lowercase());
    let mut any = nothing();
    for field in collection.fields.values().filter(|f| !f.alias) {
        let column = || Expr::col((table.clone(), Alias::new(field.field.as_str())));
        any = match field.kind.as_str() {
            // LOWER() on both sides works the same on SQLite, PostgreSQL and MySQL.
            "string" | "text" => any.add(Func::lower(column()).binary(BinOper::Like, Func::lower(Expr::val(format!("%{term}%"))))),
            // An integer column can't equal a fraction (PostgreSQL would truncate the parameter).
            "integer" | "bigInteger" => match number.filter(|n| n.fract() == 0.0 && n.abs() < i64::MAX as f64) {
                Some(n) => any.add(column().eq(n as i64)),
                None => any,
            },
            "float" | "decimal" => match number {
                Some(n) => any.add(column().eq(n)),
                None => any,
            },
            "uuid" => match &uuid {
                Some(u) => any.add(column().eq(u.as_str())),
                None => any,
            },
            _ => any,
        };
    }
    any
}

/// A hyphenated uuid of any version (Directus's uuid-validate wanted versions 1–5).
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::tests::schema;
    use sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder, Value as V};

    fn where_clause(term: &str, collection: &str) -> (String, String, Vec<V>) {
        let schema = schema();
        let select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(collection))
            .cond_where(compile(term, schema.collection(collection).unwrap()))
            .to_owned();
        let prefix = format!(r#"SELECT "id" FROM "{collection}" WHERE "#);
        let lite = select.to_string(SqliteQueryBuilder);
        let (pg, values) = select.build(PostgresQueryBuilder);
        (lite.strip_prefix(&prefix).unwrap().to_string(), pg.strip_prefix(&prefix).unwrap().to_string(), values.0)
    }

    #[test]
    fn text_only() {
        let (lite, pg, values) = where_clause("Hello", "countries");
        assert_eq!(lite, r#"LOWER("countries"."name") LIKE LOWER('%Hello%')"#);
        assert_eq!(pg, r#"LOWER("countries"."name") LIKE LOWER($1)"#);
        assert_eq!(values, vec![V::from("%Hello%")]);
    }

    #[test]
    fn numbers_match_numeric_fields() {
        let (lite, pg, values) = where_clause("42", "comments");
        assert_eq!(lite, r#""comments"."id" = 42 OR "comments"."article" = 42 OR LOWER("comments"."text") LIKE LOWER('%42%')"#);
        assert_eq!(pg, r#""comments"."id" = $1 OR "comments"."article" = $2 OR LOWER("comments"."text") LIKE LOWER($3)"#);
        assert_eq!(values, vec![V::from(42i64), V::from(42i64), V::from("%42%")]);
    }

    #[test]
    fn fractions_only_match_float_and_decimal_fields() {
        let (_, pg, values) = where_clause("4.5", "articles");
        assert_eq!(
            pg,
            r#"LOWER("articles"."title") LIKE LOWER($1) OR LOWER("articles"."body") LIKE LOWER($2) OR LOWER("articles"."status") LIKE LOWER($3) OR "articles"."rating" = $4 OR "articles"."price" = $5"#
        );
        assert_eq!(values[3], V::from(4.5f64));
    }

    #[test]
    fn uuids_match_uuid_fields() {
        let (_, pg, values) = where_clause("A1B2C3D4-0000-4000-8000-000000000001", "articles");
        assert_eq!(
            pg,
            r#"LOWER("articles"."title") LIKE LOWER($1) OR LOWER("articles"."body") LIKE LOWER($2) OR LOWER("articles"."status") LIKE LOWER($3) OR "articles"."token" = $4"#
        );
        assert_eq!(values[3], V::from("a1b2c3d4-0000-4000-8000-000000000001"));
        assert!(is_uuid("017f22e2-79b0-7cc3-98c4-dc0c0c07398f"));
        assert!(!is_uuid("a1b2c3d4000040008000000000000001") && !is_uuid("a1b2c3d4-0000-4000-8000-00000000000g"));
    }

    #[test]
    fn nothing_searchable_matches_nothing() {
        let schema = schema();
        let ids_only = CollectionOverview {
            fields: schema.collection("comments").unwrap().fields.clone().into_iter().filter(|(k, _)| k == "id").collect(),
            ..schema.collection("comments").unwrap().clone()
        };
        let select = Query::select().column(Alias::new("id")).from(Alias::new("comments")).cond_where(compile("abc", &ids_only)).to_owned();
        assert_eq!(select.to_string(SqliteQueryBuilder), r#"SELECT "id" FROM "comments" WHERE FALSE"#);
        let (_, pg, values) = where_clause("Infinity", "countries");
        assert_eq!((pg.as_str(), values.len()), (r#"LOWER("countries"."name") LIKE LOWER($1)"#, 1));
    }
}
