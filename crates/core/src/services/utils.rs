//! `UtilsService.sort` (spec §4.4, `POST /utils/sort/:collection`): moves `item` to the place of
//! `to` in the collection's `sort_field` order and shifts the rows in between, as Directus does.
//! Rows without a sort value are numbered after the highest one first. The writes are raw (no
//! item events, as in Directus) and share one transaction.
//!
//! Permission: admins, or a role whose `update` permission on the collection covers the sort
//! field; the item and target must exist (403 otherwise, where Directus crashed with a 500).

use sea_query::{Alias, Expr, ExprTrait, Func, Query};
use serde_json::Value;

use super::permissions;
use super::Services;
use crate::auth::Accountability;
use crate::db::bind::sql_value;
use crate::db::SharedTransaction;
use crate::ApiError;

pub async fn sort(services: &Services, caller: Option<&Accountability>, collection: &str, item: &Value, to: &Value) -> Result<(), ApiError> {
    let schema = services.schema.get().await?;
    let overview = schema.collection(collection).ok_or_else(ApiError::forbidden)?;
    let sort_field = overview.sort_field.clone().ok_or_else(|| ApiError::invalid_payload(format!("Collection \"{collection}\" doesn't have a sort field.")))?;
    if let Some(permission) = permissions::for_action(services, caller, collection, "update").await? {
        if !permission.allows_field(&sort_field) {
            return Err(ApiError::forbidden());
        }
    }
    let tx = services.db.begin_shared().await?;
    match reorder(&tx, collection, &overview.primary, &sort_field, item, to).await {
        Ok(()) => {
            tx.commit().await?;
            services.responses.after_write().await;
            Ok(())
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn reorder(tx: &SharedTransaction, collection: &str, primary: &str, sort_field: &str, item: &Value, to: &Value) -> Result<(), ApiError> {
    let (table, pk, sort) = (Alias::new(collection), Alias::new(primary), Alias::new(sort_field));
    let mut db = tx.lock().await?;
    let highest = Query::select().expr_as(Func::max(Expr::col(sort.clone())), Alias::new("highest")).from(table.clone()).to_owned();
    let mut next = db.run(&highest).await?.rows.first().and_then(|r| number(r.get("highest"))).unwrap_or(0);
    let unsorted = Query::select().column(pk.clone()).from(table.clone()).and_where(Expr::col(sort.clone()).is_null()).order_by(pk.clone(), sea_query::Order::Asc).to_owned();
    for row in db.run(&unsorted).await?.rows {
        next += 1;
        let key = row.get(primary).cloned().unwrap_or(Value::Null);
        let update = Query::update().table(table.clone()).value(sort.clone(), next).and_where(Expr::col(pk.clone()).eq(sql_value(&key))).to_owned();
        db.run(&update).await?;
    }
    let mut value_of = async |key: &Value| -> Result<i64, ApiError> {
        let select = Query::select().column(sort.clone()).from(table.clone()).and_where(Expr::col(pk.clone()).eq(sql_value(key))).to_owned();
        db.run(&select).await?.rows.first().and_then(|r| number(r.get(sort_field))).ok_or_else(ApiError::forbidden)
    };
    let target = value_of(to).await?;
    let source = value_of(item).await?;
    let moved = Query::update().table(table.clone()).value(sort.clone(), target).and_where(Expr::col(pk.clone()).eq(sql_value(item))).to_owned();
    db.run(&moved).await?;
    let not_item = Expr::col(pk.clone()).ne(sql_value(item));
    let shift = if source < target {
        Query::update()
            .table(table.clone())
            .value(sort.clone(), Expr::col(sort.clone()).sub(1))
            .and_where(Expr::col(sort.clone()).gt(source))
            .and_where(Expr::col(sort.clone()).lte(target))
            .and_where(not_item)
            .to_owned()
    } else {
        Query::update()
            .table(table.clone())
            .value(sort.clone(), Expr::col(sort.clone()).add(1))
            .and_where(Expr::col(sort.clone()).gte(target))
            .and_where(Expr::col(sort.clone()).lte(source))
            .and_where(not_item)
            .to_owned()
    };
    db.run(&shift).await?;
    Ok(())
}

/// A sort value as the drivers hand it over (numbers, or text for PostgreSQL's bigint sums).
fn number(v: Option<&Value>) -> Option<i64> {
    v.and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)).or_else(|| v.as_str()?.parse().ok()))
}
