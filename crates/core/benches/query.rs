//! The query language's hot path: a query string → sanitised query → compiled condition → SQL
//! text, for the bench scenario's 3-condition filter and for a filter through a relation.

use criterion::{criterion_group, criterion_main, Criterion};
use rectus_core::config::DbClient;
use rectus_core::query::{compile_filter, parse_query_string, sanitize, FilterContext};
use rectus_core::schema::{CollectionOverview, FieldOverview, SchemaOverview};
use sea_query::{Alias, Asterisk, PostgresQueryBuilder, Query as SqlQuery};
use serde_json::json;

fn collection(name: &str, fields: &[(&str, &str)]) -> (String, CollectionOverview) {
    let overview = CollectionOverview {
        collection: name.to_string(),
        primary: "id".into(),
        singleton: false,
        sort_field: None,
        note: None,
        accountability: None,
        fields: fields.iter().map(|(name, kind)| (name.to_string(), FieldOverview::of_type(name, kind))).collect(),
    };
    (name.to_string(), overview)
}

fn schema() -> SchemaOverview {
    SchemaOverview {
        collections: [
            collection("events", &[("id", "integer"), ("status", "string"), ("views", "integer"), ("title", "string"), ("author", "integer")]),
            collection("authors", &[("id", "integer"), ("name", "string")]),
        ]
        .into_iter()
        .collect(),
        relations: vec![json!({
            "collection": "events", "field": "author", "related_collection": "authors", "schema": null,
            "meta": { "many_collection": "events", "many_field": "author", "one_collection": "authors", "one_field": null },
        })],
        permissions: vec![],
        relation_index: Default::default(),
    }
}

fn to_sql(raw: &str, schema: &SchemaOverview) -> String {
    let query = sanitize(&parse_query_string(raw), &FilterContext::default()).unwrap();
    let events = schema.collection("events").unwrap();
    let condition = compile_filter(query.filter.as_ref().unwrap(), events, schema, DbClient::Postgres).unwrap();
    SqlQuery::select().column(Asterisk).from(Alias::new("events")).cond_where(condition).limit(10).to_owned().build(PostgresQueryBuilder).0
}

fn compile(c: &mut Criterion) {
    let schema = schema();
    let three = "filter[status][_eq]=published&filter[views][_gt]=500&filter[title][_contains]=7&limit=10";
    let related = "filter[_or][0][author][name][_starts_with]=A&filter[_or][1][views][_between]=1,5";
    c.bench_function("query string → SQL, 3 conditions", |b| b.iter(|| to_sql(three, &schema)));
    c.bench_function("query string → SQL, _or through an m2o", |b| b.iter(|| to_sql(related, &schema)));
}

criterion_group!(benches, compile);
criterion_main!(benches);
