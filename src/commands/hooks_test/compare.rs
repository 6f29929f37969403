//! Comparing expected JSON with what a case produced.
//!
//! By default an expectation is a *subset*: every key an expected object names must be in the
//! actual object with a matching value, keys it doesn't name are ignored; arrays must have the
//! same length and match element by element. With `exact: true` objects must also have no other
//! keys. Numbers compare by value (`1` equals `1.0`), since YAML and the database disagree on
//! which numbers are integers.
//!
//! A mismatch is shown as a unified diff of the expected JSON against the actual JSON cut down
//! to what the expectation talks about (all of it with `exact`), so the diff shows only the
//! differences that matter.

use serde_json::{Map, Value};
use similar::TextDiff;

/// The actual value shaped like `expected`: keys `expected` doesn't name are dropped (unless
/// `exact`), numbers equal by value take the expected spelling.
fn project(actual: &Value, expected: &Value, exact: bool) -> Value {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let mut out = Map::new();
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    out.insert(k.clone(), project(av, ev, exact));
                }
            }
            if exact {
                for (k, av) in a {
                    if !e.contains_key(k) {
                        out.insert(k.clone(), av.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (Value::Array(a), Value::Array(e)) => {
            Value::Array(a.iter().enumerate().map(|(i, av)| e.get(i).map(|ev| project(av, ev, exact)).unwrap_or_else(|| av.clone())).collect())
        }
        (Value::Number(a), Value::Number(e)) if a.as_f64() == e.as_f64() => expected.clone(),
        _ => actual.clone(),
    }
}

/// `None` when `actual` matches `expected`, else the diff to show.
pub fn mismatch(expected: &Value, actual: &Value, exact: bool) -> Option<String> {
    let shown = project(actual, expected, exact);
    (shown != *expected).then(|| diff(expected, &shown))
}

pub fn diff(expected: &Value, actual: &Value) -> String {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    let (e, a) = (pretty(expected), pretty(actual));
    TextDiff::from_lines(&e, &a).unified_diff().context_radius(3).header("expected", "actual").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_ignores_keys_the_expectation_does_not_name() {
        assert_eq!(mismatch(&json!({"slug": "a"}), &json!({"slug": "a", "title": "A"}), false), None);
        assert!(mismatch(&json!({"slug": "a"}), &json!({"slug": "a", "title": "A"}), true).is_some());
    }

    #[test]
    fn arrays_must_have_the_same_length() {
        assert!(mismatch(&json!([{"a": 1}]), &json!([{"a": 1}, {"a": 2}]), false).is_some());
        assert_eq!(mismatch(&json!([{"a": 1}]), &json!([{"a": 1.0, "b": 2}]), false), None);
    }

    #[test]
    fn a_missing_key_is_a_mismatch_even_when_null_is_expected() {
        let shown = mismatch(&json!({"slug": null}), &json!({}), false).unwrap();
        assert!(shown.contains("-  \"slug\": null"), "{shown}");
    }

    #[test]
    fn the_diff_shows_only_what_differs() {
        let shown = mismatch(&json!({"slug": "hello"}), &json!({"slug": "hi", "other": 1}), false).unwrap();
        assert!(shown.contains("-  \"slug\": \"hello\"") && shown.contains("+  \"slug\": \"hi\""), "{shown}");
        assert!(!shown.contains("other"), "{shown}");
    }
}
