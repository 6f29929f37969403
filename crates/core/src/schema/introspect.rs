//! Tables and columns of the connected database, per engine.

use serde_json::Value;
use std::collections::BTreeMap;

use crate::config::DbClient;
use crate::db::{Database, DbError};

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The engine's type name, lower case (`integer`, `character varying`, `varchar(255)`, ...).
    pub db_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub primary: bool,
    pub auto_increment: bool,
    pub max_length: Option<i64>,
    pub precision: Option<i64>,
    pub scale: Option<i64>,
}

fn text(row: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn int(row: &serde_json::Map<String, Value>, key: &str) -> Option<i64> {
    match row.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Every base table with its columns in ordinal order.
pub async fn tables(db: &Database) -> Result<BTreeMap<String, Vec<Column>>, DbError> {
    match db.client() {
        DbClient::Sqlite => sqlite(db).await,
        DbClient::Postgres => postgres(db).await,
        DbClient::MySql => mysql(db).await,
    }
}

async fn sqlite(db: &Database) -> Result<BTreeMap<String, Vec<Column>>, DbError> {
    let mut out = BTreeMap::new();
    let sql = "SELECT m.name AS table_name, p.name, p.type, p.\"notnull\" AS not_null, p.dflt_value, p.pk, \
               (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) AS pk_count, m.sql AS create_sql \
               FROM sqlite_master m JOIN pragma_table_info(m.name) p \
               WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid";
    for row in db.query(sql, &[]).await?.rows {
        let table = text(&row, "table_name").unwrap_or_default();
        let db_type = text(&row, "type").unwrap_or_default().to_lowercase();
        let primary = int(&row, "pk").unwrap_or(0) > 0;
        // An INTEGER PRIMARY KEY is the rowid: SQLite assigns it when omitted.
        let auto_increment = primary && int(&row, "pk_count") == Some(1) && db_type == "integer";
        out.entry(table).or_insert_with(Vec::new).push(Column {
            name: text(&row, "name").unwrap_or_default(),
            nullable: int(&row, "not_null").unwrap_or(0) == 0 && !primary,
            default: text(&row, "dflt_value"),
            primary,
            auto_increment,
            max_length: parse_length(&db_type),
            precision: None,
            scale: None,
            db_type,
        });
    }
    Ok(out)
}

fn parse_length(db_type: &str) -> Option<i64> {
    let start = db_type.find('(')?;
    db_type[start + 1..].trim_end_matches(')').split(',').next()?.trim().parse().ok()
}

async fn postgres(db: &Database) -> Result<BTreeMap<String, Vec<Column>>, DbError> {
    let pks = db
        .query(
            "SELECT kcu.table_name::text AS table_name, kcu.column_name::text AS column_name \
             FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema \
             WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()",
            &[],
        )
        .await?
        .rows;
    let is_pk = |t: &str, c: &str| pks.iter().any(|r| text(r, "table_name").as_deref() == Some(t) && text(r, "column_name").as_deref() == Some(c));
    let rows = db
        .query(
            "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, c.data_type::text AS data_type, \
             c.is_nullable::text AS is_nullable, c.column_default::text AS column_default, \
             c.character_maximum_length::int4 AS max_length, c.numeric_precision::int4 AS numeric_precision, \
             c.numeric_scale::int4 AS numeric_scale, c.is_identity::text AS is_identity \
             FROM information_schema.columns c JOIN information_schema.tables t \
             ON t.table_name = c.table_name AND t.table_schema = c.table_schema \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
             ORDER BY c.table_name, c.ordinal_position",
            &[],
        )
        .await?
        .rows;
    let mut out = BTreeMap::new();
    for row in rows {
        let table = text(&row, "table_name").unwrap_or_default();
        let name = text(&row, "column_name").unwrap_or_default();
        let auto_increment = text(&row, "column_default").is_some_and(|d| d.starts_with("nextval(")) || text(&row, "is_identity").as_deref() == Some("YES");
        let db_type = text(&row, "data_type").unwrap_or_default().to_lowercase();
        let primary = is_pk(&table, &name);
        out.entry(table).or_insert_with(Vec::new).push(information_schema_column(&row, db_type, primary, auto_increment));
    }
    Ok(out)
}

async fn mysql(db: &Database) -> Result<BTreeMap<String, Vec<Column>>, DbError> {
    let rows = db
        .query(
            "SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type, \
             c.COLUMN_TYPE AS column_type, c.IS_NULLABLE AS is_nullable, c.COLUMN_DEFAULT AS column_default, \
             c.CHARACTER_MAXIMUM_LENGTH AS max_length, c.NUMERIC_PRECISION AS numeric_precision, \
             c.NUMERIC_SCALE AS numeric_scale, c.COLUMN_KEY AS column_key, c.EXTRA AS extra \
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
             ON t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_SCHEMA = c.TABLE_SCHEMA \
             WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
             ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
            &[],
        )
        .await?
        .rows;
    let mut out = BTreeMap::new();
    for row in rows {
        let table = text(&row, "table_name").unwrap_or_default();
        let column_type = text(&row, "column_type").unwrap_or_default().to_lowercase();
        let data_type = text(&row, "data_type").unwrap_or_default().to_lowercase();
        // tinyint(1) is how MySQL spells boolean.
        let db_type = if column_type == "tinyint(1)" { "boolean".to_string() } else { data_type };
        let primary = text(&row, "column_key").as_deref() == Some("PRI");
        let auto_increment = text(&row, "extra").unwrap_or_default().contains("auto_increment");
        out.entry(table).or_insert_with(Vec::new).push(information_schema_column(&row, db_type, primary, auto_increment));
    }
    Ok(out)
}

/// A column from an `information_schema.columns` row (PostgreSQL and MySQL name them alike).
fn information_schema_column(row: &serde_json::Map<String, Value>, db_type: String, primary: bool, auto_increment: bool) -> Column {
    let numeric = matches!(db_type.as_str(), "numeric" | "decimal");
    Column {
        name: text(row, "column_name").unwrap_or_default(),
        nullable: text(row, "is_nullable").as_deref() == Some("YES"),
        default: text(row, "column_default"),
        primary,
        auto_increment,
        max_length: int(row, "max_length"),
        precision: if numeric { int(row, "numeric_precision") } else { None },
        scale: if numeric { int(row, "numeric_scale") } else { None },
        db_type,
    }
}
