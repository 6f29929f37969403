//! Database failures, and what they mean: the engines' own codes (SQLite extended result codes,
//! PostgreSQL SQLSTATEs, MySQL/MariaDB error numbers) sorted into the few kinds Directus turns
//! into exceptions (spec §3.2), with the table and column when the engine names them.

use sqlx::error::{DatabaseError, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlx(#[from] sqlx::Error),
    /// A parameter that can't be encoded as the type PostgreSQL expects for it; worded as
    /// PostgreSQL words its own `invalid input syntax` errors.
    #[error("{0}")]
    InvalidValue(String),
    /// An integer parameter outside the range of its PostgreSQL column's type.
    #[error("{0}")]
    OutOfRange(String),
    /// A SQLite table rebuild left rows pointing at rows that don't exist.
    #[error("FOREIGN KEY constraint failed")]
    ForeignKeyCheck,
    /// A call that only one engine supports, made on another.
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("The transaction has already been committed or rolled back.")]
    Ended,
}

/// What kind of failure a [`DbError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    Unique,
    NotNull,
    ForeignKey,
    /// A string longer than its column allows.
    TooLong,
    /// A number outside its column's range.
    OutOfRange,
    /// A value the column's type can't take (`'abc'` for an integer, a malformed date or uuid).
    InvalidValue,
    Other,
}

/// A classified failure: its kind and, where the engine tells, where it happened and the value
/// that was refused (a duplicate, a foreign key that doesn't exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub kind: DbErrorKind,
    pub table: Option<String>,
    pub column: Option<String>,
    pub invalid: Option<String>,
}

impl Classified {
    fn of(kind: DbErrorKind) -> Classified {
        Classified { kind, table: None, column: None, invalid: None }
    }
}

impl DbError {
    /// The driver's own message, as a hook or an admin would see it.
    pub fn message(&self) -> String {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.message().to_string(),
            other => other.to_string(),
        }
    }

    pub fn classify(&self) -> Classified {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => classify_database(e.as_ref()),
            DbError::InvalidValue(_) => Classified::of(DbErrorKind::InvalidValue),
            DbError::OutOfRange(_) => Classified::of(DbErrorKind::OutOfRange),
            DbError::ForeignKeyCheck => Classified::of(DbErrorKind::ForeignKey),
            _ => Classified::of(DbErrorKind::Other),
        }
    }
}

fn classify_database(e: &dyn DatabaseError) -> Classified {
    if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return classify_postgres(pg);
    }
    if let Some(my) = e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return classify_mysql(my.number(), my.message());
    }
    // SQLite: sqlx reads the constraint kinds from the extended result code; the message names
    // `table.column` ("UNIQUE constraint failed: articles.slug").
    let kind = match e.kind() {
        ErrorKind::UniqueViolation => DbErrorKind::Unique,
        ErrorKind::NotNullViolation => DbErrorKind::NotNull,
        ErrorKind::ForeignKeyViolation => DbErrorKind::ForeignKey,
        // SQLITE_MISMATCH: a value an INTEGER PRIMARY KEY can't hold (`0.5`, `"a"`).
        _ if e.code().as_deref() == Some("20") => DbErrorKind::InvalidValue,
        _ => DbErrorKind::Other,
    };
    let (table, column) = match e.message().rsplit_once(": ").and_then(|(_, at)| at.split_once('.')) {
        Some((table, column)) if kind != DbErrorKind::ForeignKey && !column.contains(", ") => (Some(table.to_string()), Some(column.to_string())),
        _ => (None, None),
    };
    Classified { kind, table, column, invalid: None }
}

fn classify_postgres(e: &sqlx::postgres::PgDatabaseError) -> Classified {
    let kind = match e.code() {
        "23505" => DbErrorKind::Unique,
        "23502" => DbErrorKind::NotNull,
        "23503" => DbErrorKind::ForeignKey,
        "22001" => DbErrorKind::TooLong,
        "22003" => DbErrorKind::OutOfRange,
        // invalid_text_representation, invalid_datetime_format
        "22P02" | "22007" => DbErrorKind::InvalidValue,
        _ => DbErrorKind::Other,
    };
    // A unique or foreign key violation names its columns and the value only in the detail:
    // `Key (slug)=(x) already exists.`, `Key (author)=(9) is not present in table "authors".`
    let keyed = matches!(kind, DbErrorKind::Unique | DbErrorKind::ForeignKey);
    let detail = e.detail().filter(|_| keyed).and_then(|d| d.strip_prefix("Key (")?.split_once(")=("));
    let from_detail = detail.and_then(|(columns, _)| (!columns.contains(", ")).then(|| columns.trim_matches('"').to_string()));
    let invalid = detail.and_then(|(_, rest)| rest.rsplit_once(") ")).map(|(value, _)| value.to_string());
    let column = e.column().map(str::to_string).or(from_detail);
    Classified { kind, table: e.table().map(str::to_string), column, invalid }
}

/// MySQL and MariaDB tell the column only in the message (`Column 'title' cannot be null`,
/// `Data too long for column 'title' at row 1`); a duplicate names the key, whose name is the
/// column's for keys knex made (`articles_slug_unique`).
fn classify_mysql(number: u16, message: &str) -> Classified {
    let kind = match number {
        // ER_DUP_KEY, ER_DUP_ENTRY, ER_DUP_UNIQUE, ER_DUP_ENTRY_WITH_KEY_NAME
        1022 | 1062 | 1169 | 1586 => DbErrorKind::Unique,
        // ER_BAD_NULL_ERROR, ER_WARN_NULL_TO_NOTNULL
        1048 | 1263 => DbErrorKind::NotNull,
        // ER_NO_REFERENCED_ROW(_2), ER_ROW_IS_REFERENCED(_2)
        1216 | 1217 | 1451 | 1452 => DbErrorKind::ForeignKey,
        // ER_DATA_TOO_LONG
        1406 => DbErrorKind::TooLong,
        // ER_WARN_DATA_OUT_OF_RANGE
        1264 => DbErrorKind::OutOfRange,
        // ER_TRUNCATED_WRONG_VALUE, ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, ER_WRONG_VALUE_FOR_TYPE, ER_WRONG_VALUE
        1292 | 1366 | 1411 | 1525 => DbErrorKind::InvalidValue,
        _ => DbErrorKind::Other,
    };
    let quoted = |after: &str| message.split_once(after).and_then(|(_, rest)| rest.strip_prefix('\'')?.split_once('\'')).map(|(name, _)| name.to_string());
    let mut invalid = None;
    let (table, column) = match kind {
        DbErrorKind::NotNull => (None, quoted("Column ")),
        DbErrorKind::TooLong | DbErrorKind::OutOfRange | DbErrorKind::InvalidValue => (None, quoted("column ")),
        // "… a foreign key constraint fails (`db`.`articles`, CONSTRAINT `…` FOREIGN KEY (`author`) REFERENCES …"
        DbErrorKind::ForeignKey => {
            let ticked: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
            (ticked.get(1).map(|t| t.to_string()), ticked.get(3).map(|c| c.to_string()))
        }
        DbErrorKind::Unique => {
            invalid = quoted("Duplicate entry ");
            // MySQL 8 writes the key as `table.key`, MariaDB and MySQL 5.7 the bare key.
            let key = quoted("for key ").unwrap_or_default();
            let (table, key) = match key.split_once('.') {
                Some((table, key)) => (Some(table.to_string()), key.to_string()),
                None => (None, key),
            };
            let column = key.strip_suffix("_unique").and_then(|k| match &table {
                Some(t) => k.strip_prefix(t.as_str())?.strip_prefix('_').map(str::to_string),
                None => k.split_once('_').map(|(_, column)| column.to_string()),
            });
            (table, column)
        }
        _ => (None, None),
    };
    Classified { kind, table, column, invalid }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_errors_by_number() {
        let c = classify_mysql(1062, "Duplicate entry 'a' for key 'articles_slug_unique'");
        assert_eq!((c.kind, c.table, c.column.as_deref(), c.invalid.as_deref()), (DbErrorKind::Unique, None, Some("slug"), Some("a")));
        let c = classify_mysql(1062, "Duplicate entry 'a' for key 'articles.articles_slug_unique'");
        assert_eq!((c.table.as_deref(), c.column.as_deref()), (Some("articles"), Some("slug")));
        assert_eq!(classify_mysql(1062, "Duplicate entry '1' for key 'PRIMARY'").column, None);
        let c = classify_mysql(1048, "Column 'title' cannot be null");
        assert_eq!((c.kind, c.column.as_deref()), (DbErrorKind::NotNull, Some("title")));
        let c = classify_mysql(1406, "Data too long for column 'title' at row 1");
        assert_eq!((c.kind, c.column.as_deref()), (DbErrorKind::TooLong, Some("title")));
        let c = classify_mysql(
            1452,
            "Cannot add or update a child row: a foreign key constraint fails (`db`.`articles`, CONSTRAINT `articles_author_foreign` FOREIGN KEY (`author`) REFERENCES `authors` (`id`))",
        );
        assert_eq!((c.kind, c.table.as_deref(), c.column.as_deref()), (DbErrorKind::ForeignKey, Some("articles"), Some("author")));
        assert_eq!(classify_mysql(1452, "Cannot add or update a child row: a foreign key constraint fails").column, None);
        assert_eq!(classify_mysql(1366, "Incorrect integer value: 'x' for column `t`.`n` at row 1").kind, DbErrorKind::InvalidValue);
        assert_eq!(classify_mysql(1064, "You have an error in your SQL syntax").kind, DbErrorKind::Other);
    }

    /// SQLite's and PostgreSQL's classification is exercised on real databases (the SQLite
    /// tests of `services::items`, `tests/items.rs` on every engine).
    #[test]
    fn errors_of_our_own() {
        assert_eq!(DbError::InvalidValue("invalid input syntax for type integer: \"x\"".into()).classify().kind, DbErrorKind::InvalidValue);
        assert_eq!(DbError::ForeignKeyCheck.classify().kind, DbErrorKind::ForeignKey);
        assert_eq!(DbError::Ended.classify().kind, DbErrorKind::Other);
    }
}
