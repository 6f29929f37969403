//! The DDL behind the schema services, built with sea-query for each engine.
//!
//! Directus field types map to the column types knex gives them (`string` → `varchar(255)`,
//! `uuid` → `uuid` on PostgreSQL and `char(36)` elsewhere, `json` → `text` on SQLite, integer
//! auto-increment keys → `serial` / `int unsigned auto_increment` / `integer autoincrement`).
//! Deviations, so that a type reads back as itself: `timestamp` is `timestamp` on SQLite (knex
//! wrote `datetime`, which reads back as `dateTime`) and `float` has no precision on MySQL.
//!
//! SQLite cannot alter a column, drop a column that a constraint uses, or add or drop a foreign
//! key. As knex does, such changes rebuild the table: create a copy with the new definition,
//! copy the rows, drop the original, rename the copy and recreate its indexes — on a connection
//! with foreign keys off (see [`Database::sqlite_without_foreign_keys`]), in its own transaction.

use sea_query::{Alias, ColumnDef, Expr, ForeignKey as SqlForeignKey, ForeignKeyAction, Func, Index, Query, Table, TableCreateStatement};
use serde_json::{Map, Value};

use crate::config::DbClient;
use crate::db::{Database, DbError, Transaction};
use crate::schema::introspect::{self, ForeignKey};
use crate::ApiError;

/// Field types that have no column (o2m, m2m, ... and presentation fields).
pub fn is_alias(kind: &str) -> bool {
    matches!(kind, "alias" | "o2m" | "m2m" | "m2a" | "files" | "translations")
}

/// A column as a field's `type` and `schema` describe it.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    pub name: String,
    pub kind: String,
    pub max_length: Option<u32>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    pub nullable: Option<bool>,
    /// `None`: not given; `Some(Null)`: no default.
    pub default: Option<Value>,
    pub primary: bool,
    pub auto_increment: bool,
    pub unique: bool,
}

impl ColumnSpec {
    pub fn new(name: &str, kind: &str, schema: Option<&Map<String, Value>>) -> Result<ColumnSpec, ApiError> {
        let empty = Map::new();
        let schema = schema.unwrap_or(&empty);
        let number = |key: &str| -> Result<Option<u32>, ApiError> {
            match schema.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| ApiError::invalid_payload(format!("\"schema.{key}\" must be a number"))),
            }
        };
        let flag = |key: &str| schema.get(key).and_then(Value::as_bool);
        Ok(ColumnSpec {
            name: name.to_string(),
            kind: kind.to_string(),
            max_length: number("max_length")?,
            precision: number("numeric_precision")?,
            scale: number("numeric_scale")?,
            nullable: flag("is_nullable"),
            default: schema.get("default_value").cloned(),
            primary: flag("is_primary_key").unwrap_or(false),
            auto_increment: flag("has_auto_increment").unwrap_or(false),
            unique: flag("is_unique").unwrap_or(false),
        })
    }

    /// The engine's column type. Only numbers are formatted into it, never caller text.
    pub fn type_sql(&self, client: DbClient) -> Result<String, ApiError> {
        use DbClient::*;
        let serial = self.auto_increment && self.primary;
        let t = match (self.kind.as_str(), client) {
            ("string" | "csv", _) => format!("varchar({})", self.max_length.unwrap_or(255)),
            ("hash", _) => "varchar(255)".into(),
            ("text", _) => "text".into(),
            ("integer", Postgres) if serial => "serial".into(),
            ("integer", MySql) if serial => "int unsigned".into(),
            ("integer", MySql) => "int".into(),
            ("integer", _) => "integer".into(),
            ("bigInteger", Postgres) if serial => "bigserial".into(),
            ("bigInteger", MySql) if serial => "bigint unsigned".into(),
            ("bigInteger", Sqlite) if serial => "integer".into(),
            ("bigInteger", _) => "bigint".into(),
            ("float", Postgres) => "real".into(),
            ("float", _) => "float".into(),
            ("decimal", _) => format!("decimal({}, {})", self.precision.unwrap_or(10), self.scale.unwrap_or(5)),
            ("boolean", MySql) => "tinyint(1)".into(),
            ("boolean", _) => "boolean".into(),
            ("date", _) => "date".into(),
            ("dateTime", Postgres) => "timestamp".into(),
            ("dateTime", _) => "datetime".into(),
            ("time", _) => "time".into(),
            ("timestamp", Postgres) => "timestamptz".into(),
            ("timestamp", _) => "timestamp".into(),
            ("json", Sqlite) => "text".into(),
            ("json", _) => "json".into(),
            ("uuid", Postgres) => "uuid".into(),
            ("uuid", _) => "char(36)".into(),
            (other, _) => return Err(ApiError::invalid_payload(format!("Type \"{other}\" isn't supported."))),
        };
        Ok(t)
    }

    /// The default as a SQL expression (`None` when the column has none).
    fn default_expr(&self) -> Option<Expr> {
        match self.default.as_ref()? {
            Value::Null => None,
            Value::String(s) if matches!(self.kind.as_str(), "timestamp" | "dateTime" | "date" | "time") && (s.eq_ignore_ascii_case("now()") || s.eq_ignore_ascii_case("current_timestamp")) => {
                Some(Expr::current_timestamp())
            }
            Value::String(s) => Some(Expr::val(s.clone())),
            Value::Bool(b) => Some(Expr::val(*b)),
            Value::Number(n) => Some(match n.as_i64() {
                Some(i) => Expr::val(i),
                None => Expr::val(n.as_f64().unwrap_or_default()),
            }),
            other => Some(Expr::val(other.to_string())),
        }
    }

    /// The full column definition for CREATE TABLE / ADD COLUMN.
    fn column_def(&self, client: DbClient) -> Result<ColumnDef, ApiError> {
        let mut def = ColumnDef::new(Alias::new(self.name.as_str()));
        def.custom(Alias::new(self.type_sql(client)?));
        if self.primary {
            def.not_null().primary_key();
            // SQLite: only `integer primary key` is the rowid; MySQL needs the keyword. `serial` implies it.
            if self.auto_increment && client != DbClient::Postgres {
                def.auto_increment();
            }
        } else if self.nullable == Some(false) {
            def.not_null();
        } else {
            def.null();
        }
        if let Some(d) = self.default_expr() {
            def.default(d);
        }
        if self.unique && !self.primary {
            def.unique_key();
        }
        Ok(def)
    }
}

async fn run_schema(tx: &mut Transaction, db: &Database, stmt: &impl sea_query::SchemaStatementBuilder) -> Result<(), DbError> {
    tx.query(&db.build_schema(stmt), &[]).await.map(|_| ())
}

pub async fn create_table(tx: &mut Transaction, db: &Database, table: &str, columns: &[ColumnSpec]) -> Result<(), ApiError> {
    let mut create = Table::create();
    create.table(Alias::new(table));
    for column in columns {
        create.col(column.column_def(db.client())?);
    }
    run_schema(tx, db, &create).await.map_err(ddl_error)
}

pub async fn drop_table(tx: &mut Transaction, db: &Database, table: &str) -> Result<(), ApiError> {
    run_schema(tx, db, &Table::drop().table(Alias::new(table)).to_owned()).await.map_err(ddl_error)
}

pub async fn add_column(tx: &mut Transaction, db: &Database, table: &str, column: &ColumnSpec) -> Result<(), ApiError> {
    let alter = Table::alter().table(Alias::new(table)).add_column(column.column_def(db.client())?).to_owned();
    run_schema(tx, db, &alter).await.map_err(ddl_error)
}

/// Changes a column's type, nullability and/or default; what `column` leaves `None` stays as it is.
pub async fn alter_column(db: &Database, table: &str, column: &ColumnSpec, type_changed: bool) -> Result<(), ApiError> {
    let type_sql = column.type_sql(db.client())?;
    match db.client() {
        DbClient::Sqlite => {
            let mut model = SqliteTable::read(db, table).await?;
            let existing = model.columns.iter_mut().find(|c| c.name == column.name).ok_or_else(ApiError::forbidden)?;
            if type_changed {
                existing.type_sql = type_sql;
            }
            if let Some(nullable) = column.nullable {
                existing.not_null = !nullable;
            }
            if column.default.is_some() {
                existing.default = column.default_expr();
            }
            model.rebuild(db, table).await
        }
        DbClient::Postgres => {
            let t = Alias::new(table);
            let c = || ColumnDef::new(Alias::new(column.name.as_str()));
            let mut tx = db.begin().await?;
            if type_changed {
                let using = Func::cast_as(Expr::col(Alias::new(column.name.as_str())), Alias::new(type_sql.as_str()));
                run_schema(&mut tx, db, &Table::alter().table(t.clone()).modify_column(c().custom(Alias::new(type_sql.as_str())).using(using)).to_owned()).await.map_err(ddl_error)?;
            }
            if let Some(nullable) = column.nullable {
                let mut def = c();
                if nullable { def.null() } else { def.not_null() };
                run_schema(&mut tx, db, &Table::alter().table(t.clone()).modify_column(def).to_owned()).await.map_err(ddl_error)?;
            }
            if column.default.is_some() {
                let default = column.default_expr().unwrap_or_else(|| Expr::cust("NULL"));
                run_schema(&mut tx, db, &Table::alter().table(t.clone()).modify_column(c().default(default)).to_owned()).await.map_err(ddl_error)?;
            }
            tx.commit().await?;
            Ok(())
        }
        DbClient::MySql => {
            // MODIFY restates the whole column: fill in what the change leaves out from the table.
            let rows = db
                .query(
                    "SELECT COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable, COLUMN_DEFAULT AS column_default FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                    &[Value::String(table.into()), Value::String(column.name.clone())],
                )
                .await?
                .rows;
            let current = rows.first().ok_or_else(ApiError::forbidden)?;
            let text = |k: &str| current.get(k).and_then(Value::as_str).map(str::to_string);
            let mut def = ColumnDef::new(Alias::new(column.name.as_str()));
            def.custom(Alias::new(if type_changed { type_sql } else { text("column_type").unwrap_or(type_sql) }));
            if column.nullable.unwrap_or(text("is_nullable").as_deref() == Some("YES")) { def.null() } else { def.not_null() };
            let default = if column.default.is_some() { column.default_expr() } else { text("column_default").and_then(|d| mysql_default(&d)) };
            if let Some(d) = default {
                def.default(d);
            }
            let alter = Table::alter().table(Alias::new(table)).modify_column(def).to_owned();
            db.query(&db.build_schema(&alter), &[]).await.map_err(ddl_error)?;
            Ok(())
        }
    }
}

/// A default as `information_schema` reports it, back to an expression. MariaDB quotes literals
/// and spells `NULL`; MySQL gives them bare.
fn mysql_default(raw: &str) -> Option<Expr> {
    if raw.eq_ignore_ascii_case("null") {
        return None;
    }
    if raw.starts_with('\'') || raw.parse::<f64>().is_ok() || raw.contains('(') || raw.eq_ignore_ascii_case("current_timestamp") {
        return Some(Expr::cust(raw.to_string()));
    }
    Some(Expr::val(raw.to_string()))
}

/// Drops a column together with the foreign keys on it.
pub async fn drop_column(db: &Database, table: &str, column: &str) -> Result<(), ApiError> {
    match db.client() {
        DbClient::Sqlite => {
            let mut model = SqliteTable::read(db, table).await?;
            model.columns.retain(|c| c.name != column);
            model.foreign_keys.retain(|f| f.column != column);
            model.unique.retain(|u| u != column);
            model.indexes.retain(|(columns, _)| !columns.iter().any(|c| c == column));
            model.rebuild(db, table).await
        }
        _ => {
            drop_foreign_key(db, table, column).await?;
            let alter = Table::alter().table(Alias::new(table)).drop_column(Alias::new(column)).to_owned();
            db.query(&db.build_schema(&alter), &[]).await.map_err(ddl_error)?;
            Ok(())
        }
    }
}

/// A foreign key to create for an m2o relation.
pub struct NewForeignKey<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub related: &'a str,
    pub related_column: &'a str,
    pub on_delete: Option<&'a str>,
}

/// The constraint name knex would give (`<table>_<column>_foreign`).
fn constraint_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_foreign")
}

pub async fn add_foreign_key(db: &Database, fk: &NewForeignKey<'_>) -> Result<(), ApiError> {
    let on_delete = fk.on_delete.map(action).transpose()?;
    match db.client() {
        DbClient::Sqlite => {
            let mut model = SqliteTable::read(db, fk.table).await?;
            model.foreign_keys.retain(|f| f.column != fk.column);
            model.foreign_keys.push(ForeignKey {
                table: fk.table.into(),
                column: fk.column.into(),
                foreign_key_table: fk.related.into(),
                foreign_key_column: fk.related_column.into(),
                constraint_name: None,
                on_update: "NO ACTION".into(),
                on_delete: fk.on_delete.unwrap_or("NO ACTION").to_uppercase(),
            });
            model.rebuild(db, fk.table).await
        }
        client => {
            if client == DbClient::MySql {
                match_mysql_key_type(db, fk).await?;
            }
            let mut key = SqlForeignKey::create();
            key.name(constraint_name(fk.table, fk.column))
                .from(Alias::new(fk.table), Alias::new(fk.column))
                .to(Alias::new(fk.related), Alias::new(fk.related_column));
            if let Some(a) = on_delete {
                key.on_delete(a);
            }
            db.query(&db.build_schema(&key), &[]).await.map_err(ddl_error)?;
            Ok(())
        }
    }
}

/// MySQL only accepts a foreign key whose column has exactly the referenced column's type; an
/// `int` field pointing at an `int unsigned` key is changed to `int unsigned` (as Directus does).
async fn match_mysql_key_type(db: &Database, fk: &NewForeignKey<'_>) -> Result<(), ApiError> {
    let sql = "SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable FROM information_schema.COLUMNS \
               WHERE TABLE_SCHEMA = DATABASE() AND ((TABLE_NAME = ? AND COLUMN_NAME = ?) OR (TABLE_NAME = ? AND COLUMN_NAME = ?))";
    let params = [fk.table, fk.column, fk.related, fk.related_column].map(|s| Value::String(s.to_string()));
    let rows = db.query(sql, &params).await?.rows;
    let find = |t: &str, c: &str| rows.iter().find(|r| r.get("t").and_then(Value::as_str) == Some(t) && r.get("c").and_then(Value::as_str) == Some(c));
    let (Some(own), Some(target)) = (find(fk.table, fk.column), find(fk.related, fk.related_column)) else { return Ok(()) };
    let own_type = own.get("column_type").and_then(Value::as_str).unwrap_or_default();
    let target_type = target.get("column_type").and_then(Value::as_str).unwrap_or_default();
    if own_type == target_type {
        return Ok(());
    }
    let mut def = ColumnDef::new(Alias::new(fk.column));
    def.custom(Alias::new(target_type));
    if own.get("is_nullable").and_then(Value::as_str) == Some("YES") { def.null() } else { def.not_null() };
    let alter = Table::alter().table(Alias::new(fk.table)).modify_column(def).to_owned();
    db.query(&db.build_schema(&alter), &[]).await.map_err(ddl_error)?;
    Ok(())
}

/// Drops the foreign keys on `table.column`, if any.
pub async fn drop_foreign_key(db: &Database, table: &str, column: &str) -> Result<(), ApiError> {
    let keys: Vec<ForeignKey> = introspect::foreign_keys(db).await?.into_iter().filter(|f| f.table == table && f.column == column).collect();
    if keys.is_empty() {
        return Ok(());
    }
    if db.client() == DbClient::Sqlite {
        let mut model = SqliteTable::read(db, table).await?;
        model.foreign_keys.retain(|f| f.column != column);
        return model.rebuild(db, table).await;
    }
    for key in keys {
        let Some(name) = key.constraint_name else { continue };
        let drop = SqlForeignKey::drop().name(name).table(Alias::new(table)).to_owned();
        db.query(&db.build_schema(&drop), &[]).await.map_err(ddl_error)?;
    }
    Ok(())
}

fn action(name: &str) -> Result<ForeignKeyAction, ApiError> {
    Ok(match name.to_uppercase().as_str() {
        "CASCADE" => ForeignKeyAction::Cascade,
        "SET NULL" => ForeignKeyAction::SetNull,
        "SET DEFAULT" => ForeignKeyAction::SetDefault,
        "RESTRICT" => ForeignKeyAction::Restrict,
        "NO ACTION" => ForeignKeyAction::NoAction,
        other => return Err(ApiError::invalid_payload(format!("\"on_delete\" must be one of CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION, not \"{other}\""))),
    })
}

/// A failed DDL statement: the engine's message, as a bad request (the usual cause is the input).
fn ddl_error(e: DbError) -> ApiError {
    ApiError::invalid_payload(e.message())
}

/// A SQLite table as its rebuild needs it.
struct SqliteTable {
    columns: Vec<SqliteColumn>,
    primary: Vec<String>,
    autoincrement: bool,
    foreign_keys: Vec<ForeignKey>,
    /// Single-column UNIQUE constraints.
    unique: Vec<String>,
    /// `CREATE INDEX` statements (as SQLite stored them) with their columns.
    indexes: Vec<(Vec<String>, String)>,
}

struct SqliteColumn {
    name: String,
    type_sql: String,
    not_null: bool,
    default: Option<Expr>,
}

impl SqliteTable {
    async fn read(db: &Database, table: &str) -> Result<SqliteTable, ApiError> {
        let param = [Value::String(table.to_string())];
        let text = |r: &Map<String, Value>, k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        let rows = db.query("SELECT name, type, \"notnull\" AS not_null, dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", &param).await?.rows;
        if rows.is_empty() {
            return Err(ApiError::forbidden());
        }
        let mut primary: Vec<(i64, String)> = vec![];
        let mut columns = vec![];
        for r in &rows {
            let name = text(r, "name").unwrap_or_default();
            let pk = r.get("pk").and_then(Value::as_i64).unwrap_or(0);
            if pk > 0 {
                primary.push((pk, name.clone()));
            }
            columns.push(SqliteColumn {
                name,
                type_sql: text(r, "type").unwrap_or_default(),
                not_null: r.get("not_null").and_then(Value::as_i64) == Some(1),
                // The default exactly as SQLite stored it: engine text, not caller input.
                default: text(r, "dflt_value").map(Expr::cust),
            });
        }
        primary.sort();
        let create_sql = db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", &param).await?.rows;
        let autoincrement = create_sql.first().and_then(|r| text(r, "sql")).is_some_and(|s| s.to_uppercase().contains("AUTOINCREMENT"));
        let foreign_keys = introspect::foreign_keys(db).await?.into_iter().filter(|f| f.table == table).collect();
        let unique_rows = db
            .query("SELECT il.name AS index_name, ii.name AS column_name FROM pragma_index_list(?) il JOIN pragma_index_info(il.name) ii WHERE il.origin = 'u'", &param)
            .await?
            .rows;
        let unique = unique_rows
            .iter()
            .filter(|r| unique_rows.iter().filter(|o| o.get("index_name") == r.get("index_name")).count() == 1)
            .filter_map(|r| text(r, "column_name"))
            .collect();
        let index_rows = db
            .query("SELECT m.name AS index_name, m.sql, ii.name AS column_name FROM sqlite_master m JOIN pragma_index_info(m.name) ii WHERE m.type = 'index' AND m.tbl_name = ? AND m.sql IS NOT NULL", &param)
            .await?
            .rows;
        let mut indexes: Vec<(String, Vec<String>, String)> = vec![];
        for r in &index_rows {
            let name = text(r, "index_name").unwrap_or_default();
            let column = text(r, "column_name").unwrap_or_default();
            match indexes.iter_mut().find(|(n, _, _)| *n == name) {
                Some((_, cols, _)) => cols.push(column),
                None => indexes.push((name, vec![column], text(r, "sql").unwrap_or_default())),
            }
        }
        Ok(SqliteTable {
            columns,
            primary: primary.into_iter().map(|(_, n)| n).collect(),
            autoincrement,
            foreign_keys,
            unique,
            indexes: indexes.into_iter().map(|(_, cols, sql)| (cols, sql)).collect(),
        })
    }

    fn create_statement(&self, name: &str) -> Result<TableCreateStatement, ApiError> {
        let mut create = Table::create();
        create.table(Alias::new(name));
        let single_pk = (self.primary.len() == 1).then(|| self.primary[0].clone());
        for column in &self.columns {
            let mut def = ColumnDef::new(Alias::new(column.name.as_str()));
            if !column.type_sql.is_empty() {
                def.custom(Alias::new(column.type_sql.as_str()));
            }
            if column.not_null {
                def.not_null();
            }
            if let Some(d) = &column.default {
                def.default(d.clone());
            }
            if single_pk.as_deref() == Some(column.name.as_str()) {
                def.primary_key();
                if self.autoincrement {
                    def.auto_increment();
                }
            }
            if self.unique.contains(&column.name) {
                def.unique_key();
            }
            create.col(def);
        }
        if self.primary.len() > 1 {
            let mut pk = Index::create();
            for c in &self.primary {
                pk.col(Alias::new(c.as_str()));
            }
            create.primary_key(&mut pk);
        }
        for fk in &self.foreign_keys {
            let mut key = SqlForeignKey::create();
            key.from(Alias::new(name), Alias::new(fk.column.as_str()))
                .to(Alias::new(fk.foreign_key_table.as_str()), Alias::new(fk.foreign_key_column.as_str()))
                .on_delete(action(&fk.on_delete)?)
                .on_update(action(&fk.on_update)?);
            create.foreign_key(&mut key);
        }
        Ok(create)
    }

    /// Replaces `table` with a table of this definition, keeping the rows of the columns that remain.
    async fn rebuild(&self, db: &Database, table: &str) -> Result<(), ApiError> {
        let temp = format!("_rectus_rebuild_{table}");
        let columns: Vec<Alias> = self.columns.iter().map(|c| Alias::new(c.name.as_str())).collect();
        let copy = Query::insert()
            .into_table(Alias::new(temp.as_str()))
            .columns(columns.clone())
            .select_from(Query::select().columns(columns).from(Alias::new(table)).to_owned())
            .map_err(|e| ApiError::internal(e.to_string()))?
            .to_owned();
        let (copy_sql, _) = db.build(&copy);
        let mut statements = vec![db.build_schema(&self.create_statement(&temp)?), copy_sql];
        statements.push(db.build_schema(&Table::drop().table(Alias::new(table)).to_owned()));
        statements.push(db.build_schema(&Table::rename().table(Alias::new(temp.as_str()), Alias::new(table)).to_owned()));
        statements.extend(self.indexes.iter().map(|(_, sql)| sql.clone()));
        db.sqlite_without_foreign_keys(&statements).await.map_err(ddl_error)
    }
}
