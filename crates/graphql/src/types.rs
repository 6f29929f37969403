//! Directus field types → GraphQL types (rc.83's `getGraphQLType`), and values read from the
//! services → the GraphQL values of those types, converted as graphql-js serialises them
//! (an integer key of an `ID` field answers as a string, a `bigInteger` as a string, ...).

use async_graphql::dynamic::TypeRef;
use async_graphql::{Number, Value as GqlValue};
use serde_json::Value;

/// The scalar names Directus adds to the built-in ones.
pub const DATE: &str = "Date";
pub const JSON: &str = "JSON";
pub const VOID: &str = "Void";

/// The GraphQL type of a non-relational field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    Id,
    Int,
    Float,
    Boolean,
    String,
    Date,
    Json,
    /// `csv` fields: a list of strings.
    StringList,
}

impl Leaf {
    /// The type of a field of Directus type `kind`.
    pub fn of(kind: &str) -> Leaf {
        match kind {
            "boolean" => Leaf::Boolean,
            "integer" => Leaf::Int,
            "decimal" | "float" => Leaf::Float,
            "csv" => Leaf::StringList,
            "json" => Leaf::Json,
            "timestamp" | "dateTime" | "date" => Leaf::Date,
            // bigInteger too: a JavaScript number can't hold every 64-bit integer.
            _ => Leaf::String,
        }
    }

    pub fn type_ref(self, non_null: bool) -> TypeRef {
        let name = match self {
            Leaf::Id => TypeRef::ID,
            Leaf::Int => TypeRef::INT,
            Leaf::Float => TypeRef::FLOAT,
            Leaf::Boolean => TypeRef::BOOLEAN,
            Leaf::String => TypeRef::STRING,
            Leaf::Date => DATE,
            Leaf::Json => JSON,
            Leaf::StringList => return if non_null { TypeRef::named_list_nn(TypeRef::STRING) } else { TypeRef::named_list(TypeRef::STRING) },
        };
        if non_null {
            TypeRef::named_nn(name)
        } else {
            TypeRef::named(name)
        }
    }

    /// The operators a `<collection>_filter` offers on a field of this type.
    pub fn filter_operators(self) -> &'static str {
        match self {
            Leaf::Boolean => "boolean_filter_operators",
            Leaf::Int | Leaf::Float => "number_filter_operators",
            Leaf::Date => "date_filter_operators",
            _ => "string_filter_operators",
        }
    }

    /// `value` as this type answers it; `Null` where graphql-js would fail to serialise it.
    pub fn convert(self, value: &Value) -> GqlValue {
        match (self, value) {
            (_, Value::Null) => GqlValue::Null,
            (Leaf::Json, v) => GqlValue::from_json(v.clone()).unwrap_or(GqlValue::Null),
            (Leaf::StringList, Value::Array(items)) => GqlValue::List(items.iter().map(|i| Leaf::String.convert(i)).collect()),
            (Leaf::StringList, Value::String(s)) => GqlValue::List(s.split(',').map(|p| GqlValue::String(p.to_string())).collect()),
            (Leaf::Int, v) => integer(v).map(|n| GqlValue::Number(n.into())).unwrap_or(GqlValue::Null),
            (Leaf::Float, Value::Number(n)) => GqlValue::Number(n.clone()),
            (Leaf::Float, Value::String(s)) => s.trim().parse::<f64>().ok().and_then(Number::from_f64).map(GqlValue::Number).unwrap_or(GqlValue::Null),
            (Leaf::Float, Value::Bool(b)) => GqlValue::Number((*b as i64).into()),
            (Leaf::Boolean, Value::Bool(b)) => GqlValue::Boolean(*b),
            (Leaf::Boolean, Value::Number(n)) => GqlValue::Boolean(n.as_f64().is_some_and(|f| f != 0.0)),
            (Leaf::Boolean, _) => GqlValue::Null,
            (_, Value::String(s)) => GqlValue::String(s.clone()),
            (_, Value::Number(n)) => GqlValue::String(n.to_string()),
            (_, Value::Bool(b)) => GqlValue::String(b.to_string()),
            // An object or list in a string field (graphql-js would fail): its JSON text.
            (_, v) => GqlValue::String(v.to_string()),
        }
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

/// A name GraphQL accepts (`/^[_a-zA-Z][_a-zA-Z0-9]*$/`); collections and fields with other
/// names are left out of the schema.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic()) && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_convert_as_graphql_js_serialises_them() {
        assert_eq!(Leaf::Id.convert(&json!(7)), GqlValue::String("7".into()));
        assert_eq!(Leaf::String.convert(&json!(9007199254740993_i64)), GqlValue::String("9007199254740993".into()));
        assert_eq!(Leaf::Int.convert(&json!("12")), GqlValue::Number(12.into()));
        assert_eq!(Leaf::Boolean.convert(&json!(1)), GqlValue::Boolean(true));
        assert_eq!(Leaf::StringList.convert(&json!(["a", "b"])), GqlValue::List(vec![GqlValue::String("a".into()), GqlValue::String("b".into())]));
        assert_eq!(Leaf::Json.convert(&json!({ "a": [1] })).into_json().unwrap(), json!({ "a": [1] }));
        assert_eq!(Leaf::Int.convert(&json!("x")), GqlValue::Null);
    }

    #[test]
    fn names_follow_the_graphql_grammar() {
        assert!(valid_name("articles_2") && valid_name("_x"));
        assert!(!valid_name("2things") && !valid_name("with-dash") && !valid_name(""));
    }
}
