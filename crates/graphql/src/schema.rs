//! The GraphQL schema of one caller, built as rc.83's `GraphQLService.getSchema` builds it from
//! the schema overview reduced to the caller's permissions:
//!
//! - an object type per collection the caller may read, named as the collection, with the
//!   fields it may read (`ID` for the primary key, non-null where the column is, relational
//!   fields as the related type, a list of it, or the `<collection>_<field>_union` of a
//!   many-to-any), and a `<collection>_filter` input for the `filter` arguments;
//! - root queries `<collection>` (filter, sort, limit, offset, page, search) and
//!   `<collection>_by_id(id:)` for the scope's collections (singletons: the object, no
//!   arguments); relational fields take the same arguments, applied as `deep`;
//! - mutations `create_<c>_item(s)`, `update_<c>_item(s)` (`update_<c>` for singletons) and
//!   `delete_<c>_item(s)` where the caller may create, update or delete, their `data` typed by
//!   `create_<c>_input` / `update_<c>_input` of the fields it may write (relational fields as the
//!   related collection's input, so nested payloads work as over REST). They answer the
//!   collection's type when the caller may read it, else `Boolean`.
//!
//! Only types reachable from the root fields are registered. Collections and fields whose names
//! are not GraphQL names are left out. Deviation: the `_aggregated` queries and the `<field>_func`
//! date functions of later releases are not served (rc.83 has neither).

use async_graphql::dynamic::{Field, InputObject, InputValue, Object, Scalar, SchemaBuilder, TypeRef, Union};
use rectus_core::schema::{CollectionOverview, FieldOverview, SchemaOverview};
use rectus_core::services::permissions::FieldAccess;
use rectus_core::services::relations::{relation_of, Relation};
use std::collections::{BTreeSet, HashMap};

use crate::caller::{Scope, READ_ONLY, SYSTEM_DENY_LIST};
use crate::resolve::{self, Mutation};
use crate::types::{self, Leaf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// What a relational field leads to, for an action.
enum Target {
    One(String),
    Many(String),
    Any { members: Vec<String>, collection_field: String },
}

/// The schema overview reduced to one caller's permissions.
pub struct Plan<'a> {
    pub overview: &'a SchemaOverview,
    /// `None`: admin, everything allowed.
    pub access: Option<&'a HashMap<String, FieldAccess>>,
    pub scope: Scope,
}

/// The root objects and the types a schema is being assembled from.
pub struct Parts {
    pub query: Object,
    pub mutation: Object,
    pub builder: SchemaBuilder,
    pub has_query_fields: bool,
    pub has_mutations: bool,
}

impl<'a> Plan<'a> {
    fn collection(&self, name: &str) -> Option<&'a CollectionOverview> {
        self.overview.collection(name).filter(|_| types::valid_name(name) && !SYSTEM_DENY_LIST.contains(&name))
    }

    /// The fields of `collection` the caller may use for `action`; `None` when it may not.
    pub fn fields(&self, action: Action, collection: &str) -> Option<Vec<&'a FieldOverview>> {
        let overview = self.collection(collection)?;
        let allowed = match self.access {
            None => None,
            Some(access) => access.get(action.as_str())?.get(collection)?.as_ref(),
        };
        let fields: Vec<&FieldOverview> = overview
            .fields
            .values()
            .filter(|f| types::valid_name(&f.field) && allowed.is_none_or(|list| list.iter().any(|a| a == &f.field)))
            .collect();
        (!fields.is_empty()).then_some(fields)
    }

    /// Whether the caller may read `table` even when it has no generic type (collections, fields
    /// and relations have their own shapes).
    pub fn readable_system_table(&self, table: &str) -> bool {
        self.overview.collection(table).is_some() && self.access.is_none_or(|access| access.get("read").is_some_and(|r| r.contains_key(table)))
    }

    pub fn allows(&self, action: Action, collection: &str) -> bool {
        self.fields(action, collection).is_some()
    }

    fn target(&self, action: Action, collection: &str, field: &str) -> Option<Target> {
        match relation_of(self.overview, collection, field)? {
            Relation::ManyToOne { related } => self.allows(action, &related).then_some(Target::One(related)),
            Relation::OneToMany { child, .. } => self.allows(action, &child).then_some(Target::Many(child)),
            // There are no input unions: many-to-any fields are only relational when read.
            Relation::ManyToAny { allowed, collection_field } if action == Action::Read => {
                let members: Vec<String> = allowed.into_iter().filter(|c| self.allows(action, c)).collect();
                (!members.is_empty()).then_some(Target::Any { members, collection_field })
            }
            Relation::ManyToAny { .. } => None,
        }
    }

    /// `roots` and every collection their relational fields lead to, for `action`.
    fn closure(&self, action: Action, roots: impl IntoIterator<Item = String>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: Vec<String> = roots.into_iter().collect();
        while let Some(collection) = queue.pop() {
            if !seen.insert(collection.clone()) {
                continue;
            }
            for field in self.fields(action, &collection).unwrap_or_default() {
                match self.target(action, &collection, &field.field) {
                    Some(Target::One(c) | Target::Many(c)) => queue.push(c),
                    Some(Target::Any { members, .. }) => queue.extend(members),
                    None => {}
                }
            }
        }
        seen
    }

    fn in_scope(&self, action: Action) -> Vec<String> {
        self.overview.collections.keys().filter(|c| self.scope.serves(c) && self.allows(action, c)).cloned().collect()
    }

    /// The collection types, filters, root queries and mutations of the caller.
    pub fn assemble(&self, query_name: &str, mutation_name: &str) -> Parts {
        let writable = |action: Action| -> Vec<String> { self.in_scope(action).into_iter().filter(|c| !READ_ONLY.contains(&c.as_str())).collect() };
        let creatable: Vec<String> = writable(Action::Create).into_iter().filter(|c| !self.overview.collections[c].singleton).collect();
        let updatable = writable(Action::Update);
        let deletable: Vec<String> = writable(Action::Delete).into_iter().filter(|c| !self.overview.collections[c].singleton).collect();
        let has_mutations = !(creatable.is_empty() && updatable.is_empty() && deletable.is_empty());
        let mut builder = async_graphql::dynamic::Schema::build(query_name, has_mutations.then_some(mutation_name), None)
            .register(Scalar::new(types::DATE).description("ISO8601 Date values").validator(|v| matches!(v, async_graphql::Value::String(_))))
            .register(
                Scalar::new(types::JSON)
                    .description("The `JSON` scalar type represents JSON values as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf).")
                    .specified_by_url("http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf"),
            );
        for operators in filter_operators() {
            builder = builder.register(operators);
        }
        let mut query = Object::new(query_name);
        let mut mutation = Object::new(mutation_name);

        let readable_roots = self.in_scope(Action::Read);
        for collection in self.closure(Action::Read, readable_roots.iter().cloned()) {
            let (object, unions) = self.read_type(&collection);
            builder = builder.register(object).register(self.filter_type(&collection));
            for union in unions {
                builder = builder.register(union);
            }
        }
        for collection in &readable_roots {
            let overview = self.overview.collections.get(collection).expect("in scope");
            let name = self.scope.root_name(collection);
            if overview.singleton {
                query = query.field(Field::new(name, TypeRef::named(collection.as_str()), resolve::list(collection.clone(), true)));
                continue;
            }
            query = query.field(query_arguments(Field::new(name, TypeRef::named_list(collection.as_str()), resolve::list(collection.clone(), false)), collection));
            query = query.field(Field::new(format!("{name}_by_id"), TypeRef::named(collection.as_str()), resolve::by_id(collection.clone())).argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))));
        }
        let has_query_fields = !readable_roots.is_empty();

        for (action, roots) in [(Action::Create, &creatable), (Action::Update, &updatable)] {
            for collection in self.closure(action, roots.iter().cloned()) {
                builder = builder.register(self.input_type(action, &collection));
            }
        }
        for collection in &creatable {
            let name = self.scope.root_name(collection);
            let readable = self.allows(Action::Read, collection);
            let input = format!("create_{collection}_input");
            let many = Field::new(format!("create_{name}_items"), output(collection, readable, true), resolve::mutation(collection.clone(), Mutation::CreateMany, readable))
                .argument(InputValue::new("data", TypeRef::List(Box::new(TypeRef::named_nn(input.as_str())))));
            mutation = mutation.field(if readable { query_arguments(many, collection) } else { many });
            mutation = mutation.field(Field::new(format!("create_{name}_item"), output(collection, readable, false), resolve::mutation(collection.clone(), Mutation::CreateOne, readable)).argument(InputValue::new("data", TypeRef::named_nn(input.as_str()))));
        }
        for collection in &updatable {
            let name = self.scope.root_name(collection);
            let readable = self.allows(Action::Read, collection);
            let input = format!("update_{collection}_input");
            if self.overview.collections[collection].singleton {
                mutation = mutation.field(Field::new(format!("update_{name}"), output(collection, readable, false), resolve::mutation(collection.clone(), Mutation::UpdateSingleton, readable)).argument(InputValue::new("data", TypeRef::named_nn(input.as_str()))));
                continue;
            }
            let many = Field::new(format!("update_{name}_items"), output(collection, readable, true), resolve::mutation(collection.clone(), Mutation::UpdateMany, readable));
            let many = if readable { query_arguments(many, collection) } else { many };
            mutation = mutation.field(many.argument(InputValue::new("ids", ids_type())).argument(InputValue::new("data", TypeRef::named_nn(input.as_str()))));
            mutation = mutation.field(
                Field::new(format!("update_{name}_item"), output(collection, readable, false), resolve::mutation(collection.clone(), Mutation::UpdateOne, readable))
                    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
                    .argument(InputValue::new("data", TypeRef::named_nn(input.as_str()))),
            );
        }
        if !deletable.is_empty() {
            builder = builder
                .register(Object::new("delete_many").field(Field::new("ids", ids_type(), resolve::deleted_keys("ids"))))
                .register(Object::new("delete_one").field(Field::new("id", TypeRef::named_nn(TypeRef::ID), resolve::deleted_keys("id"))));
        }
        for collection in &deletable {
            let name = self.scope.root_name(collection);
            mutation = mutation.field(Field::new(format!("delete_{name}_items"), TypeRef::named("delete_many"), resolve::mutation(collection.clone(), Mutation::DeleteMany, false)).argument(InputValue::new("ids", ids_type())));
            mutation = mutation.field(Field::new(format!("delete_{name}_item"), TypeRef::named("delete_one"), resolve::mutation(collection.clone(), Mutation::DeleteOne, false)).argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))));
        }
        Parts { query, mutation, builder, has_query_fields, has_mutations }
    }

    /// The object type of a collection as the caller reads it, and the unions of its
    /// many-to-any fields.
    fn read_type(&self, collection: &str) -> (Object, Vec<Union>) {
        let overview = &self.overview.collections[collection];
        let mut object = Object::new(collection);
        if let Some(note) = &overview.note {
            object = object.description(note.as_str());
        }
        let mut unions = vec![];
        for field in self.fields(Action::Read, collection).unwrap_or_default() {
            let name = field.field.clone();
            let gql = match self.target(Action::Read, collection, &name) {
                Some(Target::One(related)) => query_arguments(Field::new(&name, TypeRef::named(related.as_str()), resolve::related_one(name.clone())), &related),
                Some(Target::Many(child)) => query_arguments(Field::new(&name, TypeRef::named_list(child.as_str()), resolve::related_many(name.clone())), &child),
                Some(Target::Any { members, collection_field }) => {
                    let union_name = format!("{collection}_{name}_union");
                    let mut union = Union::new(union_name.as_str());
                    for member in &members {
                        union = union.possible_type(member.as_str());
                    }
                    unions.push(union);
                    Field::new(&name, TypeRef::named(union_name.as_str()), resolve::related_any(name.clone(), collection_field, members))
                }
                None => {
                    let (leaf, non_null) = scalar_of(overview, field, Action::Read);
                    Field::new(&name, leaf.type_ref(non_null), resolve::scalar(name.clone(), leaf))
                }
            };
            object = object.field(match &field.note {
                Some(note) => gql.description(note.as_str()),
                None => gql,
            });
        }
        (object, unions)
    }

    /// `<collection>_filter`: an operator input per readable field, the related collection's
    /// filter for relational fields, `_and` and `_or`.
    fn filter_type(&self, collection: &str) -> InputObject {
        let name = format!("{collection}_filter");
        let mut input = InputObject::new(name.as_str());
        for field in self.fields(Action::Read, collection).unwrap_or_default() {
            let ty = match self.target(Action::Read, collection, &field.field) {
                Some(Target::One(related)) => format!("{related}_filter"),
                Some(Target::Many(child)) => format!("{child}_filter"),
                Some(Target::Any { .. }) => continue,
                None => Leaf::of(&field.kind).filter_operators().to_string(),
            };
            input = input.field(InputValue::new(field.field.as_str(), TypeRef::named(ty)));
        }
        input.field(InputValue::new("_and", TypeRef::named_list(name.as_str()))).field(InputValue::new("_or", TypeRef::named_list(name.as_str())))
    }

    /// `create_<collection>_input` / `update_<collection>_input`: the fields the caller may
    /// write, relational ones as the related collection's input.
    fn input_type(&self, action: Action, collection: &str) -> InputObject {
        let overview = &self.overview.collections[collection];
        let mut input = InputObject::new(format!("{}_{collection}_input", action.as_str()));
        for field in self.fields(action, collection).unwrap_or_default() {
            let ty = match self.target(action, collection, &field.field) {
                Some(Target::One(related)) => TypeRef::named(format!("{}_{related}_input", action.as_str())),
                Some(Target::Many(child)) => TypeRef::named_list(format!("{}_{child}_input", action.as_str())),
                Some(Target::Any { .. }) => continue,
                None => {
                    let (leaf, non_null) = scalar_of(overview, field, action);
                    leaf.type_ref(non_null)
                }
            };
            input = input.field(InputValue::new(field.field.as_str(), ty));
        }
        input
    }
}

/// The scalar of a field and whether it is non-null: the primary key is a nullable `ID`;
/// other columns are non-null where the database says so, except in update inputs (a partial
/// payload leaves them out).
fn scalar_of(collection: &CollectionOverview, field: &FieldOverview, action: Action) -> (Leaf, bool) {
    if field.field == collection.primary {
        return (Leaf::Id, false);
    }
    (Leaf::of(&field.kind), !field.nullable && action != Action::Update)
}

fn output(collection: &str, readable: bool, many: bool) -> TypeRef {
    match (readable, many) {
        (true, true) => TypeRef::named_list(collection),
        (true, false) => TypeRef::named(collection),
        (false, _) => TypeRef::named(TypeRef::BOOLEAN),
    }
}

/// `[ID]!`
fn ids_type() -> TypeRef {
    TypeRef::NonNull(Box::new(TypeRef::named_list(TypeRef::ID)))
}

/// The arguments of a list: `filter` (the collection's filter), `sort`, `limit`, `offset`,
/// `page`, `search`.
fn query_arguments(field: Field, collection: &str) -> Field {
    field
        .argument(InputValue::new("filter", TypeRef::named(format!("{collection}_filter"))))
        .argument(InputValue::new("sort", TypeRef::named_list(TypeRef::STRING)))
        .argument(InputValue::new("limit", TypeRef::named(TypeRef::INT)))
        .argument(InputValue::new("offset", TypeRef::named(TypeRef::INT)))
        .argument(InputValue::new("page", TypeRef::named(TypeRef::INT)))
        .argument(InputValue::new("search", TypeRef::named(TypeRef::STRING)))
}

/// The operator inputs of the filters, as rc.83 names them.
fn filter_operators() -> Vec<InputObject> {
    let ops = |name: &str, fields: &[(&str, TypeRef)]| fields.iter().fold(InputObject::new(name), |o, (f, t)| o.field(InputValue::new(*f, t.clone())));
    let string = || TypeRef::named(TypeRef::STRING);
    let float = || TypeRef::named(TypeRef::FLOAT);
    let boolean = || TypeRef::named(TypeRef::BOOLEAN);
    vec![
        ops(
            "string_filter_operators",
            &[
                ("_eq", string()),
                ("_neq", string()),
                ("_contains", string()),
                ("_ncontains", string()),
                ("_starts_with", string()),
                ("_nstarts_with", string()),
                ("_ends_with", string()),
                ("_nends_with", string()),
                ("_in", TypeRef::named_list(TypeRef::STRING)),
                ("_nin", TypeRef::named_list(TypeRef::STRING)),
                ("_null", boolean()),
                ("_nnull", boolean()),
                ("_empty", boolean()),
                ("_nempty", boolean()),
            ],
        ),
        ops("boolean_filter_operators", &[("_eq", boolean()), ("_neq", boolean()), ("_null", boolean()), ("_nnull", boolean())]),
        ops(
            "date_filter_operators",
            &[("_eq", string()), ("_neq", string()), ("_gt", string()), ("_gte", string()), ("_lt", string()), ("_lte", string()), ("_null", boolean()), ("_nnull", boolean())],
        ),
        ops(
            "number_filter_operators",
            &[
                ("_eq", float()),
                ("_neq", float()),
                ("_in", TypeRef::named_list(TypeRef::FLOAT)),
                ("_nin", TypeRef::named_list(TypeRef::FLOAT)),
                ("_gt", float()),
                ("_gte", float()),
                ("_lt", float()),
                ("_lte", float()),
                ("_null", boolean()),
                ("_nnull", boolean()),
            ],
        ),
    ]
}
