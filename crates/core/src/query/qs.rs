//! The query-string parser Directus installs on Express: `qs.parse(str, { depth: 10 })` (qs 6.10),
//! reproduced step by step (split into flat pairs, bracket keys into chains, deep merge, compact)
//! so that odd inputs come out the way Directus sees them.

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};
use std::collections::HashMap;

const DEPTH: usize = 10;
/// Bracketed indexes above this become object keys instead of array slots.
const ARRAY_LIMIT: usize = 20;
/// Parameters past this many are dropped.
const PARAMETER_LIMIT: usize = 1000;

/// qs's intermediate values: arrays may have holes until the final compaction, and merging a
/// plain value into an object adds it as a key set to `true`.
#[derive(Debug, Clone)]
enum Node {
    Str(String),
    True,
    Arr(Vec<Option<Node>>),
    Obj(Vec<(String, Node)>),
}

pub fn parse(raw: &str) -> Map<String, Value> {
    let mut flat: Vec<(String, Node)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for part in raw.split('&').take(PARAMETER_LIMIT) {
        // `a[b]=c=d` splits at the `]=`, anything else at the first `=`.
        let pos = match part.find("]=") {
            Some(i) => Some(i + 1),
            None => part.find('='),
        };
        let (key, value) = match pos {
            Some(p) => (decode(&part[..p]), decode(&part[p + 1..])),
            None => (decode(part), String::new()),
        };
        match seen.get(&key) {
            Some(&i) => combine(&mut flat[i].1, value),
            None => {
                seen.insert(key.clone(), flat.len());
                flat.push((key, Node::Str(value)));
            }
        }
    }

    let mut root = Node::Obj(Vec::new());
    for (key, value) in flat {
        if let Some(parsed) = parse_key(&key, value) {
            root = merge(root, parsed);
        }
    }
    match into_json(root) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `+` is a space; a malformed escape or invalid UTF-8 leaves the text undecoded, as
/// `decodeURIComponent` throwing does in qs.
fn decode(text: &str) -> String {
    let text = text.replace('+', " ");
    let bytes = text.as_bytes();
    let well_formed = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'%')
        .all(|(i, _)| bytes.len() > i + 2 && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit());
    if !well_formed {
        return text;
    }
    match percent_decode_str(&text).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => text,
    }
}

/// A repeated flat key collects its values in an array.
fn combine(existing: &mut Node, value: String) {
    match existing {
        Node::Arr(items) => items.push(Some(Node::Str(value))),
        other => {
            let first = std::mem::replace(other, Node::True);
            *other = Node::Arr(vec![Some(first), Some(Node::Str(value))]);
        }
    }
}

/// The next `[...]` group (no brackets inside) at or after `from`, as a byte range.
fn find_segment(key: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = key.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] != b'[' {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < bytes.len() && bytes[j] != b'[' && bytes[j] != b']' {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b']' {
            return Some((i, j + 1));
        }
        i = j;
    }
    None
}

/// `a[b][c]` → the chain `a`, `[b]`, `[c]` (text between groups is skipped, as qs's regex
/// does); groups beyond the depth limit stay together as one literal key.
fn parse_key(key: &str, value: Node) -> Option<Node> {
    if key.is_empty() {
        return None;
    }
    let mut chain: Vec<String> = Vec::new();
    let parent = match find_segment(key, 0) {
        Some((start, _)) => &key[..start],
        None => key,
    };
    if !parent.is_empty() {
        chain.push(parent.to_string());
    }
    let mut from = 0;
    let mut segment = find_segment(key, from);
    let mut depth = 0;
    while let Some((start, end)) = segment {
        if depth == DEPTH {
            break;
        }
        depth += 1;
        chain.push(key[start..end].to_string());
        from = end;
        segment = find_segment(key, from);
    }
    if let Some((start, _)) = segment {
        chain.push(format!("[{}]", &key[start..]));
    }
    Some(build_chain(&chain, value))
}

fn build_chain(chain: &[String], value: Node) -> Node {
    let mut leaf = value;
    for root in chain.iter().rev() {
        leaf = if root == "[]" {
            match leaf {
                Node::Arr(items) => Node::Arr(items),
                other => Node::Arr(vec![Some(other)]),
            }
        } else {
            let bracketed = root.len() >= 2 && root.starts_with('[') && root.ends_with(']');
            let clean = if bracketed { &root[1..root.len() - 1] } else { root.as_str() };
            match array_index(clean) {
                Some(index) if bracketed && index <= ARRAY_LIMIT => {
                    let mut items = vec![None; index + 1];
                    items[index] = Some(leaf);
                    Node::Arr(items)
                }
                _ => Node::Obj(vec![(clean.to_string(), leaf)]),
            }
        };
    }
    leaf
}

/// A canonical non-negative decimal integer (`0`, `7`, not `07` or `-1`).
fn array_index(text: &str) -> Option<usize> {
    let canonical = text == "0" || (text.starts_with(|c: char| ('1'..='9').contains(&c)) && text.bytes().all(|b| b.is_ascii_digit()));
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

fn is_object(node: &Node) -> bool {
    matches!(node, Node::Arr(_) | Node::Obj(_))
}

fn upsert(entries: &mut Vec<(String, Node)>, key: String, value: Node) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}

fn indexed_entries(items: Vec<Option<Node>>) -> Vec<(String, Node)> {
    items.into_iter().enumerate().filter_map(|(i, item)| item.map(|n| (i.to_string(), n))).collect()
}

/// qs's `utils.merge`.
fn merge(target: Node, source: Node) -> Node {
    match (target, source) {
        // An empty string is falsy: merging it changes nothing.
        (target, Node::Str(s)) if s.is_empty() => target,
        (Node::Arr(mut items), source @ (Node::Str(_) | Node::True)) => {
            items.push(Some(source));
            Node::Arr(items)
        }
        (Node::Obj(mut entries), source @ (Node::Str(_) | Node::True)) => {
            let key = match source {
                Node::Str(s) => s,
                _ => "true".to_string(),
            };
            upsert(&mut entries, key, Node::True);
            Node::Obj(entries)
        }
        (target @ (Node::Str(_) | Node::True), Node::Arr(items)) => {
            let mut all = vec![Some(target)];
            all.extend(items);
            Node::Arr(all)
        }
        (target @ (Node::Str(_) | Node::True), source) => Node::Arr(vec![Some(target), Some(source)]),
        (Node::Arr(mut target), Node::Arr(source)) => {
            for (i, item) in source.into_iter().enumerate() {
                let Some(item) = item else { continue };
                match target.get_mut(i) {
                    Some(slot @ Some(_)) => {
                        let existing = slot.take().expect("slot checked above");
                        if is_object(&existing) && is_object(&item) {
                            *slot = Some(merge(existing, item));
                        } else {
                            *slot = Some(existing);
                            target.push(Some(item));
                        }
                    }
                    _ => {
                        if target.len() <= i {
                            target.resize(i + 1, None);
                        }
                        target[i] = Some(item);
                    }
                }
            }
            Node::Arr(target)
        }
        (Node::Arr(target), Node::Obj(source)) => merge_entries(indexed_entries(target), source),
        (Node::Obj(target), Node::Arr(source)) => merge_entries(target, indexed_entries(source)),
        (Node::Obj(target), Node::Obj(source)) => merge_entries(target, source),
    }
}

fn merge_entries(mut target: Vec<(String, Node)>, source: Vec<(String, Node)>) -> Node {
    for (key, value) in source {
        match target.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => {
                let existing = std::mem::replace(&mut entry.1, Node::True);
                entry.1 = merge(existing, value);
            }
            None => target.push((key, value)),
        }
    }
    Node::Obj(target)
}

/// Drops array holes (qs's `compact`) and orders object keys as JavaScript enumerates them:
/// integer-like keys ascending first, then the others in insertion order.
fn into_json(node: Node) -> Value {
    match node {
        Node::Str(s) => Value::String(s),
        Node::True => Value::Bool(true),
        Node::Arr(items) => Value::Array(items.into_iter().flatten().map(into_json).collect()),
        Node::Obj(entries) => {
            let (mut indexes, others): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(k, _)| js_array_index(k).is_some());
            indexes.sort_by_key(|(k, _)| js_array_index(k));
            indexes.into_iter().chain(others).map(|(k, v)| (k, into_json(v))).collect::<Map<_, _>>().into()
        }
    }
}

fn js_array_index(key: &str) -> Option<u32> {
    let canonical = key == "0" || (key.starts_with(|c: char| ('1'..='9').contains(&c)) && key.bytes().all(|b| b.is_ascii_digit()));
    key.parse::<u32>().ok().filter(|&n| canonical && n < u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::{json, Value};

    fn qs(raw: &str) -> Value {
        Value::Object(parse(raw))
    }

    #[test]
    fn flat_pairs_and_decoding() {
        assert_eq!(qs(""), json!({}));
        assert_eq!(qs("a=1&b=two"), json!({"a": "1", "b": "two"}));
        assert_eq!(qs("q=hello+world&x=%C3%A9t%C3%A9%2C%26"), json!({"q": "hello world", "x": "été,&"}));
        assert_eq!(qs("flag&empty="), json!({"flag": "", "empty": ""}));
        assert_eq!(qs("a=1=2"), json!({"a": "1=2"}));
        assert_eq!(qs("filter%5Btitle%5D%5B_eq%5D=x"), json!({"filter": {"title": {"_eq": "x"}}}));
    }

    #[test]
    fn malformed_escapes_are_kept_verbatim() {
        assert_eq!(qs("a=100%&b=%zz+x&c=%E9"), json!({"a": "100%", "b": "%zz x", "c": "%E9"}));
    }

    #[test]
    fn empty_keys_are_dropped() {
        assert_eq!(qs("&&=x&a=1&"), json!({"a": "1"}));
    }

    #[test]
    fn repeated_keys_become_arrays() {
        assert_eq!(qs("a=1&a=2&a=3"), json!({"a": ["1", "2", "3"]}));
        assert_eq!(qs("a[]=1&a[]=2"), json!({"a": ["1", "2"]}));
        assert_eq!(qs("a[]=1"), json!({"a": ["1"]}));
        assert_eq!(qs("a=1&a[]=2"), json!({"a": ["1", "2"]}));
    }

    #[test]
    fn nested_objects() {
        assert_eq!(
            qs("filter[title][_eq]=x&filter[id][_in]=1,2&fields=a,b&sort[]=-id"),
            json!({"filter": {"title": {"_eq": "x"}, "id": {"_in": "1,2"}}, "fields": "a,b", "sort": ["-id"]})
        );
        assert_eq!(qs("a[b][c][d]=1&a[b][e]=2"), json!({"a": {"b": {"c": {"d": "1"}, "e": "2"}}}));
        assert_eq!(qs("[b]=1"), json!({"b": "1"}));
    }

    #[test]
    fn indexed_arrays() {
        assert_eq!(qs("a[0]=x&a[1]=y"), json!({"a": ["x", "y"]}));
        assert_eq!(qs("a[1]=y&a[0]=x"), json!({"a": ["x", "y"]}));
        assert_eq!(qs("a[3]=x"), json!({"a": ["x"]}));
        assert_eq!(
            qs("filter[_or][0][title][_eq]=a&filter[_or][1][id][_eq]=2"),
            json!({"filter": {"_or": [{"title": {"_eq": "a"}}, {"id": {"_eq": "2"}}]}})
        );
        assert_eq!(qs("a[0][b]=1&a[0][c]=2"), json!({"a": [{"b": "1", "c": "2"}]}));
        assert_eq!(qs("a[0]=x&a[0]=y"), json!({"a": [["x", "y"]]}));
        assert_eq!(qs("a[0][b]=1&a[0]=z"), json!({"a": [{"b": "1"}, "z"]}));
        assert_eq!(qs("a[]=1&a[]=2&a[0]=3"), json!({"a": ["1", "2", "3"]}));
    }

    #[test]
    fn indexes_past_the_array_limit_are_object_keys() {
        assert_eq!(qs("a[21]=x"), json!({"a": {"21": "x"}}));
        assert_eq!(qs("a[0]=x&a[21]=y"), json!({"a": {"0": "x", "21": "y"}}));
        assert_eq!(qs("a[01]=x&a[-1]=y"), json!({"a": {"01": "x", "-1": "y"}}));
    }

    #[test]
    fn object_keys_enumerate_like_javascript() {
        let parsed = parse("a[b]=1&a[21]=2&a[3x]=3");
        let keys: Vec<&String> = parsed["a"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["21", "b", "3x"]);
    }

    #[test]
    fn mixing_scalars_and_objects() {
        assert_eq!(qs("a[b]=1&a=c"), json!({"a": {"b": "1", "c": true}}));
        assert_eq!(qs("a=c&a[b]=1"), json!({"a": ["c", {"b": "1"}]}));
        assert_eq!(qs("a[]=x&a[b]=1"), json!({"a": {"0": "x", "b": "1"}}));
    }

    #[test]
    fn depth_is_limited_to_ten() {
        let key: String = (1..=12).map(|i| format!("[k{i}]")).collect();
        let parsed = qs(&format!("a{key}=v"));
        let mut node = &parsed["a"];
        for i in 1..=10 {
            node = &node[format!("k{i}")];
        }
        assert_eq!(node, &json!({"[k11][k12]": "v"}));
    }

    #[test]
    fn unbalanced_brackets() {
        assert_eq!(qs("a[b=1"), json!({"a[b": "1"}));
        assert_eq!(qs("a[b[c]]=1"), json!({"a[b": {"c": "1"}}));
        assert_eq!(qs("a[b]x[c]=1"), json!({"a": {"b": {"c": "1"}}}));
    }

    #[test]
    fn at_most_a_thousand_parameters() {
        let raw: Vec<String> = (0..1005).map(|i| format!("p{i}=1")).collect();
        let parsed = parse(&raw.join("&"));
        assert_eq!(parsed.len(), 1000);
        assert!(parsed.contains_key("p999") && !parsed.contains_key("p1000"));
    }
}
