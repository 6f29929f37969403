//! Activity and revision rows for item writes, written with plain SQL inside the write's
//! transaction (so, as in Directus, they emit no `activity.*` / `revisions.*` events).
//!
//! On PostgreSQL a write and its rows can be one statement ([`joined`]): data-modifying common
//! table expressions, each of which runs once and to completion whether or not anything reads
//! it. The revision takes its activity row's id, and a create's rows take the new key, from the
//! expressions before them inside the statement, so nothing comes back to the server in between,
//! and one statement is atomic without a transaction around it.

use sea_query::{Alias, Asterisk, CommonTableExpression, Expr, ExprTrait, InsertStatement, Query, SimpleExpr, SubQueryStatement, WithClause, WithQuery};
use serde_json::{Map, Value};

use crate::auth::Accountability;
use crate::config::DbClient;
use crate::db::{DbError, Transaction};

pub struct ActivityRecord<'a> {
    pub action: &'a str,
    pub collection: &'a str,
    pub item: Item<'a>,
    pub accountability: &'a Accountability,
    pub comment: Option<&'a str>,
}

/// The item an activity row is about.
#[derive(Clone, Copy)]
pub enum Item<'a> {
    Key(&'a Value),
    /// SQLite only: the row the statement queued right before these inserted, into a table whose
    /// primary key `field` is its rowid. Lets a create go out as one batch, before its key is
    /// known here (see `ItemsService::create_in`); the revision's data gets the key added.
    LastInserted { field: &'a str },
    /// PostgreSQL only: the row the `written` expression of a [`joined`] statement returns, whose
    /// primary key is `field`; the revision's data gets the key added.
    Written { field: &'a str },
}

/// The name of the write's expression in a [`joined`] statement.
const WRITTEN: &str = "written";

/// An activity row and, where the collection keeps them, its revision.
pub struct Record<'a> {
    pub activity: ActivityRecord<'a>,
    pub revision: Option<RevisionRecord<'a>>,
}

/// The activity row the statement before inserted, in SQL (SQLite).
const LAST_ACTIVITY_ITEM: &str = "(SELECT item FROM directus_activity WHERE id = last_insert_rowid())";

/// What a revision row holds besides its activity, collection and item.
pub struct RevisionRecord<'a> {
    pub data: &'a Map<String, Value>,
    pub delta: &'a Map<String, Value>,
}

/// Writes an activity row and, with `revision`, the revision pointing at it. Nothing reads them
/// back, so they are deferred (see `Transaction::defer`); on SQLite the revision finds its
/// activity through `last_insert_rowid()`, the activity insert running right before it.
pub async fn write(tx: &mut Transaction, r: ActivityRecord<'_>, revision: Option<RevisionRecord<'_>>) -> Result<(), DbError> {
    let activity = activity_insert(&r);
    if tx.client() == DbClient::Sqlite {
        tx.defer(&activity).await?;
        if let Some(rev) = revision {
            tx.defer(&revision_insert(Expr::cust("last_insert_rowid()"), &r, &rev)).await?;
        }
        return Ok(());
    }
    if tx.client() == DbClient::Postgres {
        return match revision {
            None => tx.defer(&activity).await,
            Some(rev) => tx.defer(&records_statement(&[Record { activity: r, revision: Some(rev) }])).await,
        };
    }
    match revision {
        None => tx.defer(&activity).await,
        Some(rev) => match tx.insert_returning(activity, "id", None).await?.settle().and_then(|(id, _)| id.as_i64()) {
            Some(id) => tx.defer(&revision_insert(Expr::val(id), &r, &rev)).await,
            None => Ok(()),
        },
    }
}

/// PostgreSQL: `write` (an `INSERT`, `UPDATE` or `DELETE`) and `records` as one statement.
/// With `answer`, `write` must return rows (`RETURNING`), and the statement answers them;
/// without, it answers nothing and `records` must not be empty.
pub fn joined(write: impl Into<SubQueryStatement>, records: &[Record<'_>], answer: bool) -> WithQuery {
    let mut with = WithClause::new();
    with.cte(cte(WRITTEN, write));
    let mut inserts = record_inserts(records);
    let last = if answer { None } else { inserts.pop() };
    for (name, insert) in inserts {
        with.cte(cte(&name, insert));
    }
    match last {
        Some((_, insert)) => with.query(insert),
        None => with.query(Query::select().column(Asterisk).from(Alias::new(WRITTEN)).to_owned()),
    }
}

/// PostgreSQL: `records` (at least two rows in all, so one with its revision or several) as one
/// statement, the last insert answering for the expressions before it.
fn records_statement(records: &[Record<'_>]) -> WithQuery {
    let mut inserts = record_inserts(records);
    let (_, last) = inserts.pop().expect("at least one insert");
    let mut with = WithClause::new();
    for (name, insert) in inserts {
        with.cte(cte(&name, insert));
    }
    with.query(last)
}

/// Records one PostgreSQL statement takes: 13 parameters a record at most, of the 65,535 a
/// statement may have.
const PER_STATEMENT: usize = 1000;

/// `records` split into those a [`joined`] statement takes and the rest, for [`write_rest`].
pub fn split<'r, 'a>(records: &'r [Record<'a>]) -> (&'r [Record<'a>], &'r [Record<'a>]) {
    records.split_at(records.len().min(PER_STATEMENT))
}

/// PostgreSQL: `records` in as few statements as the parameter limit allows (in the write's
/// transaction, after it).
pub async fn write_rest(tx: &mut Transaction, rest: &[Record<'_>]) -> Result<(), DbError> {
    for chunk in rest.chunks(PER_STATEMENT) {
        match chunk {
            [Record { activity, revision: None }] => tx.defer(&activity_insert(activity)).await?,
            _ => tx.defer(&records_statement(chunk)).await?,
        }
    }
    Ok(())
}

fn cte(name: &str, query: impl Into<SubQueryStatement>) -> CommonTableExpression {
    CommonTableExpression::new().table_name(Alias::new(name)).query(query).to_owned()
}

/// The inserts of `records`, named: `activity_{i}` returns its id to `revision_{i}`.
fn record_inserts(records: &[Record<'_>]) -> Vec<(String, InsertStatement)> {
    let mut inserts = Vec::with_capacity(records.len() * 2);
    for (i, record) in records.iter().enumerate() {
        let name = format!("activity_{i}");
        let mut activity = activity_insert(&record.activity);
        if let Some(rev) = &record.revision {
            activity.returning_col(Alias::new("id"));
            let id = Expr::SubQuery(None, Box::new(Query::select().column(Alias::new("id")).from(Alias::new(name.as_str())).to_owned().into()));
            inserts.push((name, activity));
            inserts.push((format!("revision_{i}"), revision_insert(id, &record.activity, rev)));
        } else {
            inserts.push((name, activity));
        }
    }
    inserts
}

/// The key of the row a [`joined`] statement's write returned, as a scalar subquery, as
/// text (`text`) or as it is.
fn written_key(field: &str, text: bool) -> SimpleExpr {
    let column = if text { Expr::col(Alias::new(field)).cast_as(Alias::new("text")) } else { Expr::col(Alias::new(field)) };
    Expr::SubQuery(None, Box::new(Query::select().expr(column).from(Alias::new(WRITTEN)).to_owned().into()))
}

fn key_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn activity_insert(r: &ActivityRecord<'_>) -> InsertStatement {
    let now = chrono::Utc::now().naive_utc();
    let item = match r.item {
        Item::Key(key) => key_text(key).into(),
        Item::LastInserted { .. } => Expr::cust("CAST(last_insert_rowid() AS TEXT)"),
        Item::Written { field } => written_key(field, true),
    };
    Query::insert()
        .into_table(Alias::new("directus_activity"))
        .columns(["action", "user", "timestamp", "ip", "user_agent", "collection", "item", "comment"].map(Alias::new))
        .values_panic([
            r.action.into(),
            r.accountability.user.clone().into(),
            now.into(),
            r.accountability.ip.clone().unwrap_or_default().into(),
            r.accountability.user_agent.clone().into(),
            r.collection.into(),
            item,
            r.comment.map(str::to_string).into(),
        ])
        .to_owned()
}

fn revision_insert(activity: SimpleExpr, r: &ActivityRecord<'_>, rev: &RevisionRecord<'_>) -> InsertStatement {
    let data = Value::Object(rev.data.clone()).to_string();
    let delta = Value::Object(rev.delta.clone()).to_string();
    let (item, data, delta) = match r.item {
        Item::Key(key) => (key_text(key).into(), data.into(), delta.into()),
        Item::LastInserted { field } => {
            // The key goes into the snapshots as the number it is.
            let path = format!("$.\"{field}\"");
            let with_key = |json: String| {
                Expr::cust_with_values(format!("json_set(?, ?, CAST({LAST_ACTIVITY_ITEM} AS INTEGER))"), [json, path.clone()])
            };
            (Expr::cust(LAST_ACTIVITY_ITEM), with_key(data), with_key(delta))
        }
        Item::Written { field } => {
            // The key goes into the snapshots as what it is (a number stays a number), unless
            // the payload named the key itself.
            let with_key = |json: String, snapshot: &Map<String, Value>| {
                if snapshot.contains_key(field) {
                    return Expr::val(json);
                }
                Expr::cust_with_exprs("CAST($1 AS jsonb) || jsonb_build_object(CAST($2 AS text), $3)", [Expr::val(json), Expr::val(field), written_key(field, false)])
            };
            (written_key(field, true), with_key(data, rev.data), with_key(delta, rev.delta))
        }
    };
    Query::insert()
        .into_table(Alias::new("directus_revisions"))
        .columns(["activity", "collection", "item", "data", "delta"].map(Alias::new))
        .values_panic([activity, r.collection.into(), item, data, delta])
        .to_owned()
}
