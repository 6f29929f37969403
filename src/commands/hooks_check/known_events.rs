//! Every event an emit point of Rectus fires (spec §2, rc.83 to rc.100, less what Rectus never
//! emits: `cli.init.*`, `database.error`, `auth.jwt.before`), and whether a listener's pattern
//! can match any of them under EventEmitter2's rules (§1.5: `*` is one segment, `**` any
//! number). A pattern that matches none is almost always a typo such as `items.craete`, or a
//! hook that would never run here.

/// `<provider>` stands for any one segment (the OAuth provider's name).
const ANY: &str = "<provider>";

/// Scopes of the CRUD events: `items` for user collections, and the system collections that
/// are written through services (§2.3, §2.4; sessions and migrations never are).
const SCOPES: [&str; 14] = [
    "items", "activity", "collections", "fields", "files", "folders", "permissions", "presets", "relations", "revisions", "roles", "settings",
    "users", "webhooks",
];

/// Events outside the CRUD scopes (§2.1, §2.2, §2.5, `files.upload` from §2.4), and
/// `auth.refresh` / `auth.logout`, which Rectus emits where Directus only announced them.
const OTHERS: [&str; 26] = [
    "init.before",
    "middlewares.init.before",
    "middlewares.init.after",
    "routes.init.before",
    "routes.init.after",
    "routes.custom.init.before",
    "routes.custom.init.after",
    "init",
    "server.start.before",
    "server.start",
    "server.stop.before",
    "server.stop",
    "response",
    "request.not_found",
    "error",
    "auth.login.before",
    "auth.login",
    "auth.refresh.before",
    "auth.refresh",
    "auth.logout.before",
    "auth.logout",
    "oauth.<provider>.redirect",
    "oauth.<provider>.redirect.before",
    "oauth.<provider>.login.before",
    "oauth.<provider>.login",
    "files.upload",
];

pub fn all() -> Vec<String> {
    let mut events: Vec<String> = OTHERS.iter().map(|e| e.to_string()).collect();
    for scope in SCOPES {
        for action in ["create", "update", "delete"] {
            events.push(format!("{scope}.{action}.before"));
            events.push(format!("{scope}.{action}"));
        }
        events.push(format!("{scope}.read"));
    }
    events
}

/// Whether some event Directus emits matches the listener `pattern`.
pub fn can_fire(pattern: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    all().iter().any(|event| matches(&p, &event.split('.').collect::<Vec<_>>()))
}

fn matches(pattern: &[&str], event: &[&str]) -> bool {
    match (pattern.first(), event.first()) {
        (None, None) => true,
        (Some(&"**"), _) => matches(&pattern[1..], event) || (!event.is_empty() && matches(pattern, &event[1..])),
        (Some(p), Some(e)) if *p == "*" || *e == ANY || p == e => matches(&pattern[1..], &event[1..]),
        _ => false,
    }
}

/// The known event closest to an unknown literal name, when it is only a small typo away.
pub fn suggestion(pattern: &str) -> Option<String> {
    let provider = pattern.split('.').nth(1).unwrap_or(ANY);
    all()
        .into_iter()
        .map(|e| e.replace(ANY, provider))
        .map(|e| (edit_distance(pattern, &e), e))
        .filter(|(d, _)| *d > 0 && *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            current.push((previous[j] + usize::from(ca != *cb)).min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_that_match_an_emit_point() {
        for ok in ["items.create", "items.*", "**", "*.create.before", "**.before", "init", "*", "oauth.github.login", "oauth.*.redirect.before", "users.update.before", "files.upload", "routes.**", "auth.logout", "auth.refresh.before", "revisions.read"] {
            assert!(can_fire(ok), "{ok}");
        }
    }

    #[test]
    fn patterns_nothing_fires() {
        // `items.read.before` is in the docs' tables but never emitted (§2.7).
        for bad in ["items.craete", "item.create", "items.create.after", "items.read.before", "auth.register", "sessions.create", "files.upload.before", "*.*.*.*.*"] {
            assert!(!can_fire(bad), "{bad}");
        }
        // Directus emits these; Rectus has no CLI hooks, no database error events and no JWT hook.
        for bad in ["cli.init.before", "cli.*.after", "database.error", "auth.jwt.before"] {
            assert!(!can_fire(bad), "{bad}");
        }
    }

    #[test]
    fn suggests_the_event_a_typo_meant() {
        assert_eq!(suggestion("items.craete").as_deref(), Some("items.create"));
        assert_eq!(suggestion("item.create.before").as_deref(), Some("items.create.before"));
        assert_eq!(suggestion("oauth.github.lgin").as_deref(), Some("oauth.github.login"));
        assert_eq!(suggestion("something.else.entirely"), None);
    }
}
