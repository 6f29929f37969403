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
    /// Under a UNIQUE constraint of its own (or the primary key).
    pub unique: bool,
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
               (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) AS pk_count, m.sql AS create_sql, \
               (SELECT count(*) FROM pragma_index_list(m.name) il WHERE il.\"unique\" = 1 \
                AND (SELECT count(*) FROM pragma_index_info(il.name)) = 1 \
                AND (SELECT ii.name FROM pragma_index_info(il.name) ii) = p.name) AS unique_indexes \
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
            unique: primary || int(&row, "unique_indexes").unwrap_or(0) > 0,
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
    let rows = information_schema_columns(
        db,
        "c.table_name::text AS table_name, c.column_name::text AS column_name, c.data_type::text AS data_type, \
         c.is_nullable::text AS is_nullable, c.column_default::text AS column_default, \
         c.character_maximum_length::int4 AS max_length, c.numeric_precision::int4 AS numeric_precision, \
         c.numeric_scale::int4 AS numeric_scale, c.is_identity::text AS is_identity, \
         EXISTS (SELECT 1 FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu \
           ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema \
           WHERE tc.constraint_type = 'UNIQUE' AND tc.table_schema = c.table_schema AND kcu.table_name = c.table_name \
           AND kcu.column_name = c.column_name) AS is_unique",
        "current_schema()",
    )
    .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let table = text(&row, "table_name").unwrap_or_default();
        let name = text(&row, "column_name").unwrap_or_default();
        let auto_increment = text(&row, "column_default").is_some_and(|d| d.starts_with("nextval(")) || text(&row, "is_identity").as_deref() == Some("YES");
        let db_type = text(&row, "data_type").unwrap_or_default().to_lowercase();
        let primary = is_pk(&table, &name);
        let unique = primary || row.get("is_unique") == Some(&Value::Bool(true));
        out.entry(table).or_insert_with(Vec::new).push(information_schema_column(&row, db_type, primary, unique, auto_increment));
    }
    Ok(out)
}

async fn mysql(db: &Database) -> Result<BTreeMap<String, Vec<Column>>, DbError> {
    let rows = information_schema_columns(
        db,
        "c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type, \
         c.COLUMN_TYPE AS column_type, c.IS_NULLABLE AS is_nullable, c.COLUMN_DEFAULT AS column_default, \
         c.CHARACTER_MAXIMUM_LENGTH AS max_length, c.NUMERIC_PRECISION AS numeric_precision, \
         c.NUMERIC_SCALE AS numeric_scale, c.COLUMN_KEY AS column_key, c.EXTRA AS extra",
        "DATABASE()",
    )
    .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let table = text(&row, "table_name").unwrap_or_default();
        let column_type = text(&row, "column_type").unwrap_or_default().to_lowercase();
        let data_type = text(&row, "data_type").unwrap_or_default().to_lowercase();
        // tinyint(1) is how MySQL spells boolean.
        let db_type = if column_type == "tinyint(1)" { "boolean".to_string() } else { data_type };
        let primary = text(&row, "column_key").as_deref() == Some("PRI");
        let unique = primary || text(&row, "column_key").as_deref() == Some("UNI");
        let auto_increment = text(&row, "extra").unwrap_or_default().contains("auto_increment");
        out.entry(table).or_insert_with(Vec::new).push(information_schema_column(&row, db_type, primary, unique, auto_increment));
    }
    Ok(out)
}

/// The `information_schema.columns` rows (as `c`) of the current schema's base tables, in ordinal
/// order. PostgreSQL and MySQL differ only in what they `select` and in how they name the current
/// `schema`.
async fn information_schema_columns(db: &Database, select: &str, schema: &str) -> Result<Vec<serde_json::Map<String, Value>>, DbError> {
    let sql = format!(
        "SELECT {select} FROM information_schema.columns c JOIN information_schema.tables t \
         ON t.table_name = c.table_name AND t.table_schema = c.table_schema \
         WHERE c.table_schema = {schema} AND t.table_type = 'BASE TABLE' \
         ORDER BY c.table_name, c.ordinal_position"
    );
    Ok(db.query(&sql, &[]).await?.rows)
}

/// A column from an `information_schema.columns` row (PostgreSQL and MySQL name them alike).
fn information_schema_column(row: &serde_json::Map<String, Value>, db_type: String, primary: bool, unique: bool, auto_increment: bool) -> Column {
    let numeric = matches!(db_type.as_str(), "numeric" | "decimal");
    Column {
        name: text(row, "column_name").unwrap_or_default(),
        nullable: text(row, "is_nullable").as_deref() == Some("YES"),
        default: text(row, "column_default"),
        primary,
        unique,
        auto_increment,
        max_length: int(row, "max_length"),
        precision: if numeric { int(row, "numeric_precision") } else { None },
        scale: if numeric { int(row, "numeric_scale") } else { None },
        db_type,
    }
}

/// A single-column foreign key constraint, in the shape of Directus's `relation.schema`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ForeignKey {
    pub table: String,
    pub column: String,
    pub foreign_key_table: String,
    pub foreign_key_column: String,
    /// `None` on SQLite, whose constraints are unnamed.
    pub constraint_name: Option<String>,
    pub on_update: String,
    pub on_delete: String,
}

/// Every foreign key of the current database/schema.
pub async fn foreign_keys(db: &Database) -> Result<Vec<ForeignKey>, DbError> {
    let sql = match db.client() {
        DbClient::Sqlite => {
            "SELECT m.name AS table_name, f.\"from\" AS column_name, f.\"table\" AS foreign_key_table, \
             f.\"to\" AS foreign_key_column, NULL AS constraint_name, f.on_update, f.on_delete \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY m.name, f.id"
        }
        DbClient::Postgres => {
            "SELECT cl.relname::text AS table_name, a.attname::text AS column_name, fcl.relname::text AS foreign_key_table, \
             fa.attname::text AS foreign_key_column, c.conname::text AS constraint_name, \
             CASE c.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_update, \
             CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_delete \
             FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace \
             JOIN pg_class fcl ON fcl.oid = c.confrelid \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] \
             WHERE c.contype = 'f' AND n.nspname = current_schema() ORDER BY cl.relname, c.conname"
        }
        DbClient::MySql => {
            "SELECT k.TABLE_NAME AS table_name, k.COLUMN_NAME AS column_name, k.REFERENCED_TABLE_NAME AS foreign_key_table, \
             k.REFERENCED_COLUMN_NAME AS foreign_key_column, k.CONSTRAINT_NAME AS constraint_name, \
             r.UPDATE_RULE AS on_update, r.DELETE_RULE AS on_delete \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
             ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME"
        }
    };
    let rows = db.query(sql, &[]).await?.rows;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let foreign_key_table = text(row, "foreign_key_table").unwrap_or_default();
        // SQLite leaves `to` empty for `REFERENCES t` without a column: the referenced primary key.
        let foreign_key_column = match text(row, "foreign_key_column") {
            Some(c) => c,
            None => primary_key_of(db, &foreign_key_table).await?.unwrap_or_default(),
        };
        out.push(ForeignKey {
            table: text(row, "table_name").unwrap_or_default(),
            column: text(row, "column_name").unwrap_or_default(),
            foreign_key_table,
            foreign_key_column,
            constraint_name: text(row, "constraint_name"),
            on_update: text(row, "on_update").unwrap_or_else(|| "NO ACTION".into()).to_uppercase(),
            on_delete: text(row, "on_delete").unwrap_or_else(|| "NO ACTION".into()).to_uppercase(),
        });
    }
    Ok(out)
}

async fn primary_key_of(db: &Database, table: &str) -> Result<Option<String>, DbError> {
    let rows = db.query("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", &[Value::String(table.to_string())]).await?.rows;
    Ok(rows.first().and_then(|r| text(r, "name")))
}
