//! Which listeners an event reaches, and in what order: EventEmitter2 with `wildcard: true` and
//! delimiter `.` (spec §1.5). `*` is exactly one segment, `**` zero or more; the order is a
//! depth-first walk of the pattern tree, at each level the literal branch, then `*`, then `**`,
//! and registration order within one pattern.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Listener {
    pub id: u32,
    pub hook: String,
    pub event: String,
}

#[derive(Default)]
struct Node {
    listeners: Vec<u32>,
    children: Vec<(String, Node)>,
}

impl Node {
    fn child(&self, segment: &str) -> Option<&Node> {
        self.children.iter().find(|(s, _)| s == segment).map(|(_, n)| n)
    }

    fn child_mut(&mut self, segment: &str) -> &mut Node {
        let pos = match self.children.iter().position(|(s, _)| s == segment) {
            Some(p) => p,
            None => {
                self.children.push((segment.to_string(), Node::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[pos].1
    }
}

/// The listeners of one hook generation, with a cache of resolved event names.
pub struct Registry {
    tree: Node,
    cache: RwLock<HashMap<String, Arc<[u32]>>>,
}

impl Registry {
    pub fn new(listeners: Vec<Listener>) -> Registry {
        let mut tree = Node::default();
        for l in &listeners {
            let mut node = &mut tree;
            for segment in l.event.split('.') {
                node = node.child_mut(segment);
            }
            node.listeners.push(l.id);
        }
        Registry { tree, cache: RwLock::new(HashMap::new()) }
    }

    /// Listener ids for `event`, in call order. Empty when nothing listens.
    pub fn matching(&self, event: &str) -> Arc<[u32]> {
        if let Some(hit) = self.cache.read().unwrap().get(event) {
            return hit.clone();
        }
        let segments: Vec<&str> = event.split('.').collect();
        let mut out = Vec::new();
        collect(&self.tree, &segments, &mut out);
        let mut seen = std::collections::HashSet::new();
        out.retain(|id| seen.insert(*id));
        let ids: Arc<[u32]> = out.into();
        let mut cache = self.cache.write().unwrap();
        if cache.len() < 10_000 {
            cache.insert(event.to_string(), ids.clone());
        }
        ids
    }

}

fn collect(node: &Node, rest: &[&str], out: &mut Vec<u32>) {
    match rest.split_first() {
        None => {
            out.extend(&node.listeners);
            // `**` also matches zero trailing segments.
            if let Some(globstar) = node.child("**") {
                collect(globstar, rest, out);
            }
        }
        Some((first, tail)) => {
            if *first != "*" && *first != "**" {
                if let Some(literal) = node.child(first) {
                    collect(literal, tail, out);
                }
            }
            if let Some(star) = node.child("*") {
                collect(star, tail, out);
            }
            if let Some(globstar) = node.child("**") {
                for skip in 0..=rest.len() {
                    collect(globstar, &rest[skip..], out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(patterns: &[&str]) -> Registry {
        Registry::new(
            patterns
                .iter()
                .enumerate()
                .map(|(i, p)| Listener { id: i as u32, hook: "h".into(), event: p.to_string() })
                .collect(),
        )
    }

    /// The wildcard matrix of spec §1.5, row by row.
    #[test]
    fn wildcard_matrix() {
        let patterns = ["*", "**", "items.*", "items.**", "*.create", "*.create.before", "items.*.before", "**.before", "*.*", "*.*.*"];
        let r = registry(&patterns);
        let rows: &[(&str, &[&str])] = &[
            ("items.create", &["**", "items.*", "items.**", "*.create", "*.*"]),
            ("items.create.before", &["**", "items.**", "*.create.before", "items.*.before", "**.before", "*.*.*"]),
            ("items.read", &["**", "items.*", "items.**", "*.*"]),
            ("users.create", &["**", "*.create", "*.*"]),
            ("users.create.before", &["**", "*.create.before", "**.before", "*.*.*"]),
            ("auth.login", &["**", "*.*"]),
            ("auth.login.before", &["**", "**.before", "*.*.*"]),
            ("init", &["*", "**"]),
            ("init.before", &["**", "**.before", "*.*"]),
            ("routes.init.before", &["**", "**.before", "*.*.*"]),
            ("routes.custom.init.after", &["**"]),
            ("server.start", &["**", "*.*"]),
            ("error", &["*", "**"]),
            ("response", &["*", "**"]),
            ("request.not_found", &["**", "*.*"]),
            ("oauth.github.login", &["**", "*.*.*"]),
            ("files.upload", &["**", "*.*"]),
        ];
        for (event, expected) in rows {
            let mut got: Vec<&str> = r.matching(event).iter().map(|id| patterns[*id as usize]).collect();
            got.sort();
            let mut want = expected.to_vec();
            want.sort();
            assert_eq!(got, want, "event {event}");
        }
    }

    #[test]
    fn call_order_literal_then_star_then_globstar() {
        let r = registry(&["items.create.before", "items.create.before", "*.create.before", "items.*.before", "**"]);
        assert_eq!(&*r.matching("items.create.before"), &[0, 1, 3, 2, 4]);
    }

    #[test]
    fn more_wildcards() {
        let r = registry(&["oauth.*.login", "routes.init.*", "routes.**"]);
        assert_eq!(&*r.matching("oauth.github.login"), &[0]);
        assert_eq!(&*r.matching("routes.init.before"), &[1, 2]);
        assert_eq!(&*r.matching("routes.custom.init.after"), &[2]);
        assert!(r.matching("items.create").is_empty());
    }
}
