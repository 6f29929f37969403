//! Liquid email templates: `<name>.liquid` from the custom folder first, then the built-ins.
//!
//! Two LiquidJS behaviours Directus templates rely on are added to the `liquid` crate here:
//! - `{% layout "base" %}` with `{% block name %}…{% endblock %}`: expanded textually before
//!   parsing (the child's blocks replace the layout's blocks of the same name, the layout's block
//!   content is the default), so templates written for Directus render unchanged.
//! - An unknown top-level variable renders as nothing instead of failing the whole mail.
//!   Indexing a missing key of an existing object is still an error naming the key.
//!
//! `{% include %}` / `{% render %}` of other template files are not supported.

use std::collections::HashMap;
use std::path::PathBuf;

use liquid::model::{DisplayCow, KStringCow, State, Value as LiquidValue};
use liquid::{Object, ObjectView, ValueView};
use serde_json::{Map, Value};

use crate::ApiError;

const BUILT_IN: &[(&str, &str)] = &[
    ("base", include_str!("templates/base.liquid")),
    ("password-reset", include_str!("templates/password-reset.liquid")),
    ("user-invitation", include_str!("templates/user-invitation.liquid")),
];

/// Layouts nest at most this deep, so a layout naming itself fails instead of looping.
const MAX_LAYOUT_DEPTH: usize = 8;

pub(super) struct Templates {
    custom_dir: PathBuf,
    parser: liquid::Parser,
}

impl Templates {
    pub fn new(custom_dir: PathBuf) -> Templates {
        let parser = liquid::ParserBuilder::with_stdlib().build().expect("the standard library parser builds");
        Templates { custom_dir, parser }
    }

    fn source(&self, name: &str) -> Result<String, ApiError> {
        // A name is one file of the folder, never a path out of it.
        if !name.is_empty() && !name.contains(['/', '\\']) && name != ".." {
            if let Ok(text) = std::fs::read_to_string(self.custom_dir.join(format!("{name}.liquid"))) {
                return Ok(text);
            }
        }
        BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| text.to_string())
            .ok_or_else(|| ApiError::invalid_payload(format!("Template \"{name}\" doesn't exist.")))
    }

    /// The template's source with its layout chain applied.
    fn expand(&self, name: &str, depth: usize) -> Result<String, ApiError> {
        let source = self.source(name)?;
        let Some(layout) = layout_of(&source) else { return Ok(source) };
        if depth >= MAX_LAYOUT_DEPTH {
            return Err(ApiError::invalid_payload(format!("Template \"{name}\": layouts nest too deep")));
        }
        let parent = self.expand(&layout, depth + 1)?;
        Ok(fill(&parent, &blocks(&source)))
    }

    pub fn render(&self, name: &str, data: &Map<String, Value>) -> Result<String, ApiError> {
        let failed = |e: liquid::Error| ApiError::invalid_payload(format!("Template \"{name}\": {e}"));
        let template = self.parser.parse(&self.expand(name, 0)?).map_err(failed)?;
        let globals = Globals(liquid::to_object(data).map_err(failed)?);
        template.render(&globals).map_err(failed)
    }
}

/// One `{% … %}` tag: its byte range, first word and the rest.
struct Tag<'a> {
    start: usize,
    end: usize,
    word: &'a str,
    arg: &'a str,
}

fn tags(source: &str) -> Vec<Tag<'_>> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(open) = source[at..].find("{%").map(|i| at + i) {
        let Some(close) = source[open..].find("%}").map(|i| open + i + 2) else { break };
        let inner = source[open + 2..close - 2].trim_matches('-').trim();
        let (word, arg) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        found.push(Tag { start: open, end: close, word, arg: arg.trim() });
        at = close;
    }
    found
}

fn unquote(arg: &str) -> String {
    let first = arg.split_whitespace().next().unwrap_or_default();
    first.trim_matches(|c| c == '"' || c == '\'').to_string()
}

fn layout_of(source: &str) -> Option<String> {
    tags(source).into_iter().find(|t| t.word == "layout").map(|t| unquote(t.arg))
}

/// A top-level block: name, content range, whole tag-to-tag range.
struct Block {
    name: String,
    inner: (usize, usize),
    outer: (usize, usize),
}

fn top_blocks(source: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut depth = 0;
    let mut open: Option<(String, usize, usize)> = None;
    for tag in tags(source) {
        match tag.word {
            "block" => {
                if depth == 0 {
                    open = Some((unquote(tag.arg), tag.start, tag.end));
                }
                depth += 1;
            }
            "endblock" if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    if let Some((name, start, inner_start)) = open.take() {
                        found.push(Block { name, inner: (inner_start, tag.start), outer: (start, tag.end) });
                    }
                }
            }
            _ => {}
        }
    }
    found
}

fn blocks(source: &str) -> HashMap<String, String> {
    top_blocks(source).into_iter().map(|b| (b.name, source[b.inner.0..b.inner.1].to_string())).collect()
}

/// The layout with each block replaced by the child's version or its own default content.
fn fill(layout: &str, child: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(layout.len());
    let mut at = 0;
    for block in top_blocks(layout) {
        out.push_str(&layout[at..block.outer.0]);
        match child.get(&block.name) {
            Some(content) => out.push_str(content),
            None => out.push_str(&fill(&layout[block.inner.0..block.inner.1], child)),
        }
        at = block.outer.1;
    }
    out.push_str(&layout[at..]);
    out
}

/// Template globals where a name nobody defined is `nil`, as in LiquidJS.
#[derive(Debug)]
struct Globals(Object);

static NIL: LiquidValue = LiquidValue::Nil;

impl ValueView for Globals {
    fn as_debug(&self) -> &dyn std::fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        self.0.render()
    }
    fn source(&self) -> DisplayCow<'_> {
        self.0.source()
    }
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
    fn query_state(&self, state: State) -> bool {
        self.0.query_state(state)
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        self.0.to_kstr()
    }
    fn to_value(&self) -> LiquidValue {
        self.0.to_value()
    }
    fn as_object(&self) -> Option<&dyn ObjectView> {
        Some(self)
    }
}

impl ObjectView for Globals {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        self.0.size()
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        ObjectView::keys(&self.0)
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        ObjectView::values(&self.0)
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        ObjectView::iter(&self.0)
    }
    fn contains_key(&self, _index: &str) -> bool {
        true
    }
    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        Some(ObjectView::get(&self.0, index).unwrap_or(&NIL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn templates_with(files: &[(&str, &str)]) -> (Templates, PathBuf) {
        let dir = std::env::temp_dir().join(format!("rectus-templates-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(format!("{name}.liquid")), text).unwrap();
        }
        (Templates::new(dir.clone()), dir)
    }

    #[test]
    fn custom_first_then_built_in_with_layout() {
        let (t, dir) = templates_with(&[("hello", "Hi {{ name }}{{ missing }}!")]);
        assert_eq!(t.render("hello", &data(json!({ "name": "Ann" }))).unwrap(), "Hi Ann!");
        let html = t
            .render("password-reset", &data(json!({ "url": "https://x.io/reset?token=abc", "email": "a@x.io", "projectName": "Acme", "projectColor": "#123456", "projectLogo": "https://x.io/logo.png" })))
            .unwrap();
        assert!(html.contains("https://x.io/reset?token=abc") && html.contains("Acme") && html.contains("#123456"), "{html}");
        assert!(!html.contains("{%"), "{html}");
        let err = t.render("nope", &Map::new()).unwrap_err();
        assert_eq!((err.code.as_str(), err.message.as_str()), ("INVALID_PAYLOAD", "Template \"nope\" doesn't exist."));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn layouts_fill_blocks_and_keep_defaults() {
        let (t, dir) = templates_with(&[
            ("frame", "<h1>{% block title %}Default{% endblock %}</h1>{%- block body -%}{% block inner %}x{% endblock %}{%- endblock -%}"),
            ("page", "{% layout 'frame' %}{% block body %}Body {{ n }}{% endblock %}"),
            ("loop", "{% layout \"loop\" %}"),
        ]);
        assert_eq!(t.render("page", &data(json!({ "n": 1 }))).unwrap(), "<h1>Default</h1>Body 1");
        assert!(t.render("loop", &Map::new()).unwrap_err().message.contains("too deep"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
