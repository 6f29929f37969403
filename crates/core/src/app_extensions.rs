//! The admin app's extensions (interfaces, displays, layouts, modules): built browser bundles in
//! `<EXTENSIONS_PATH>/<type>s/<name>/index.js` that the app loads from the API on start.
//!
//! Directus rc.83 lists each type at `GET /extensions/<type>s` and serves one ES module per type at
//! `/extensions/<type>s/index.js`, made by rollup from an entry that imports every extension's
//! `index.js` and default-exports them as an array; the packages the app shares with extensions
//! (`vue`, `@directus/extension-sdk`) stay external, aliased to the app's own build files.
//!
//! Rectus doesn't run a bundler. The module it serves per type is that entry itself, importing
//! each extension by a URL relative to it (`./<name>/index.js`), and it serves the files of each
//! extension folder with the shared packages' import specifiers rewritten to the app's build
//! files — what rollup's alias would have done. The browser then loads the same code rollup would
//! have concatenated. Decisions: the rewrite only touches `from "<dep>"`, `import "<dep>"` and
//! `import("<dep>")` with a quoted shared package name, which is all bundlers emit; extensions from
//! npm packages (`directus:extension` in `package.json`) are not read, only the local folders.

use std::path::{Component, Path, PathBuf};

use regex::Regex;

/// The app extension types, singular as Directus names them.
pub const TYPES: &[&str] = &["interface", "display", "layout", "module"];

/// The packages rc.83's app shares with its extensions (`SHARED_DEPS`).
pub const SHARED_DEPS: &[&str] = &["@directus/extension-sdk", "vue"];

/// What a folder name can't hold as it is in a URL path segment of the entry module.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'/').add(b'?').add(b'<').add(b'>').add(b'`').add(b'\'').add(b'\\');

/// The singular type of a `/extensions/<type>` path segment (plural, as the app asks, or
/// singular, as Directus also accepts), or `None` for what isn't an app extension type.
pub fn app_type(segment: &str) -> Option<&'static str> {
    let singular = segment.strip_suffix('s').unwrap_or(segment);
    TYPES.iter().copied().find(|t| *t == singular)
}

fn type_dir(extensions_path: &Path, kind: &str) -> PathBuf {
    extensions_path.join(format!("{kind}s"))
}

/// The extensions of one type: every folder of `<EXTENSIONS_PATH>/<type>s`, byte-wise sorted as
/// Node's `readdir` lists them. A missing folder holds none.
pub fn list(extensions_path: &Path, kind: &str) -> std::io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(type_dir(extensions_path, kind)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

/// The module the app imports for one type: each extension's `index.js`, default-exported as an
/// array in listing order (`export default [];` when there are none, as Directus sends).
pub fn entry(extensions_path: &Path, kind: &str) -> std::io::Result<String> {
    let names = list(extensions_path, kind)?;
    let mut source = String::new();
    for (i, name) in names.iter().enumerate() {
        let url: String = percent_encoding::utf8_percent_encode(name, SEGMENT).collect();
        source.push_str(&format!("import e{i} from './{url}/index.js';\n"));
    }
    let exports: Vec<String> = (0..names.len()).map(|i| format!("e{i}")).collect();
    source.push_str(&format!("export default [{}];", exports.join(",")));
    Ok(source)
}

/// A file inside one extension's folder, or `None` when the path leaves it or isn't a file.
pub fn file(extensions_path: &Path, kind: &str, name: &str, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path);
    let inside = |p: &Path| p.components().all(|c| matches!(c, Component::Normal(_)));
    if !inside(Path::new(name)) || !inside(relative) || Path::new(name).components().count() != 1 {
        return None;
    }
    let root = std::fs::canonicalize(type_dir(extensions_path, kind).join(name)).ok()?;
    let full = std::fs::canonicalize(root.join(relative)).ok()?;
    (full.starts_with(&root) && full.is_file()).then_some(full)
}

/// Points the shared packages' import specifiers of an extension's module at the app's build
/// files (`mapping`: package name → URL).
pub fn link_shared_deps(source: &str, mapping: &[(String, String)]) -> String {
    if mapping.is_empty() {
        return source.to_string();
    }
    let names: Vec<String> = mapping.iter().map(|(name, _)| regex::escape(name)).collect();
    // `from"vue"`, `import"vue"`, `import("vue")`: a keyword, then the quoted package name.
    let pattern = format!(r#"(\b(?:from|import)\s*\(?\s*)(["'])({})(["'])"#, names.join("|"));
    let re = Regex::new(&pattern).expect("the shared dependency pattern is valid");
    re.replace_all(source, |c: &regex::Captures| {
        if c[2] != c[4] {
            return c[0].to_string();
        }
        let url = mapping.iter().find(|(name, _)| name == &c[3]).map(|(_, url)| url.as_str()).unwrap_or(&c[3]);
        format!("{}{}{url}{}", &c[1], &c[2], &c[2])
    })
    .into_owned()
}

/// Where the app's build has each shared package: a file of `app_dist` whose name up to its first
/// dot is the package name with `/` as `_` (`vue.f212be23.js`), as rc.83 looks them up, at
/// `<path of PUBLIC_URL>/admin/<file>`. rc.83 writes the whole `PUBLIC_URL` there; the path alone
/// (as later releases write it) also works when the app is reached under another host name.
/// Packages the build lacks are left out.
pub fn shared_deps_mapping(app_dist: &Path, public_url: &str) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(app_dist) else { return vec![] };
    let files: Vec<String> = entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    let path = match public_url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => public_url,
    };
    let admin = format!("{}/admin", path.trim_end_matches('/'));
    SHARED_DEPS
        .iter()
        .filter_map(|dep| {
            let stem = dep.replace('/', "_");
            let file = files.iter().filter(|f| f.split('.').next() == Some(stem.as_str())).min()?;
            Some((dep.to_string(), format!("{admin}/{file}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_imports_point_at_the_app() {
        let mapping = vec![("vue".to_string(), "/admin/vue.f212be23.js".to_string()), ("@directus/extension-sdk".to_string(), "/admin/sdk.js".to_string())];
        let source = r#"import{defineComponent as e,openBlock as t}from"vue";import {x} from '@directus/extension-sdk';export{a}from "vue";import("vue");const s="vue";import v from "vuex";"#;
        let linked = link_shared_deps(source, &mapping);
        assert_eq!(
            linked,
            r#"import{defineComponent as e,openBlock as t}from"/admin/vue.f212be23.js";import {x} from '/admin/sdk.js';export{a}from "/admin/vue.f212be23.js";import("/admin/vue.f212be23.js");const s="vue";import v from "vuex";"#
        );
    }

    #[test]
    fn shared_deps_are_found_in_the_app_build() {
        let dist = std::env::temp_dir().join(format!("rectus-app-dist-{}", std::process::id()));
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("vue.f212be23.js"), "").unwrap();
        std::fs::write(dist.join("@directus_extension-sdk.41dab387.js"), "").unwrap();
        std::fs::write(dist.join("index.3d271aa1.js"), "").unwrap();
        let expected = vec![
            ("@directus/extension-sdk".to_string(), "/cms/admin/@directus_extension-sdk.41dab387.js".to_string()),
            ("vue".to_string(), "/cms/admin/vue.f212be23.js".to_string()),
        ];
        assert_eq!(shared_deps_mapping(&dist, "https://example.com/cms/"), expected);
        assert_eq!(shared_deps_mapping(&dist, "/cms"), expected);
        assert_eq!(shared_deps_mapping(&dist, "http://localhost:8055")[1].1, "/admin/vue.f212be23.js");
        std::fs::remove_dir_all(&dist).unwrap();
    }

    #[test]
    fn types_and_paths() {
        assert_eq!(app_type("interfaces"), Some("interface"));
        assert_eq!(app_type("module"), Some("module"));
        assert_eq!(app_type("hooks"), None);
        let dir = std::env::temp_dir().join(format!("rectus-app-ext-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("interfaces/b-one")).unwrap();
        std::fs::create_dir_all(dir.join("interfaces/a two")).unwrap();
        std::fs::write(dir.join("interfaces/b-one/index.js"), "export default {};").unwrap();
        std::fs::write(dir.join("interfaces/stray.js"), "").unwrap();
        assert_eq!(list(&dir, "interface").unwrap(), vec!["a two", "b-one"]);
        assert_eq!(entry(&dir, "interface").unwrap(), "import e0 from './a%20two/index.js';\nimport e1 from './b-one/index.js';\nexport default [e0,e1];");
        assert_eq!(entry(&dir, "layout").unwrap(), "export default [];");
        assert!(file(&dir, "interface", "b-one", "index.js").is_some());
        assert!(file(&dir, "interface", "b-one", "../stray.js").is_none());
        assert!(file(&dir, "interface", "..", "interfaces/stray.js").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
