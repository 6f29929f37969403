//! Comments taken out of npm code before QuickJS compiles it (issue 28).
//!
//! QuickJS keeps the source text of every function for `Function.prototype.toString()`, each
//! nested function its own copy, and the engine facade keeps two more copies of every module's
//! text for the isolate's life. Comments were 31% of the 10.4 MB of files the real hook set
//! (`bench/real-hooks`) loads, and the text of its functions summed to 23.9 MB: every isolate held
//! megabytes of JSDoc nobody reads at run time, and every start scanned them again.
//!
//! A comment's line breaks stay, and the width of a block comment's last line (or of the whole
//! comment when it has no break) stays as spaces, so every token keeps its line and column: stack
//! traces read as Node's do. What changes is the text `toString()` gives for a function that had
//! comments in it (blank space where they were), which no library we know of reads for them.
//! A file oxc can't parse is compiled as it is, so QuickJS reports its syntax errors as before.

use oxc_allocator::Allocator;
use oxc_ast::ast::CommentKind;
use oxc_parser::{ParseOptions, Parser};
use oxc_span::SourceType;

/// `source` without its comments, `None` when it has none or doesn't parse as a CommonJS body.
pub fn without_comments(source: &str) -> Option<String> {
    if !source.contains("//") && !source.contains("/*") {
        return None;
    }
    let allocator = Allocator::default();
    let options = ParseOptions { allow_return_outside_function: true, ..ParseOptions::default() };
    let parsed = Parser::new(&allocator, source, SourceType::cjs()).with_options(options).parse();
    if parsed.panicked || !parsed.diagnostics.is_empty() || parsed.program.comments.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len());
    let mut copied = 0;
    for comment in &parsed.program.comments {
        let (start, end) = (comment.span.start as usize, comment.span.end as usize);
        out.push_str(&source[copied..start]);
        let text = &source[start..end];
        if comment.kind != CommentKind::Line {
            // Nothing follows a line comment on its line; after a block comment code may.
            let mut last_line = 0;
            for (i, c) in text.char_indices() {
                if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                    out.push(c);
                    last_line = i + c.len_utf8();
                }
            }
            // Columns count UTF-16 units, as V8's do.
            out.extend(std::iter::repeat_n(' ', text[last_line..].encode_utf16().count()));
        }
        copied = end;
    }
    out.push_str(&source[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::without_comments;

    #[test]
    fn keeps_every_token_on_its_line_and_column() {
        let source = "'use strict';\n/**\n * Adds.\n */ function add(a, b) { // sum\n  return a /* left */ + b;\n}\n";
        let out = without_comments(source).unwrap();
        assert_eq!(out, "'use strict';\n\n\n    function add(a, b) { \n  return a            + b;\n}\n");
        for (before, after) in source.lines().zip(out.lines()) {
            for token in ["function", "return", "+ b", "}"] {
                if let Some(at) = before.find(token) {
                    assert_eq!(after.find(token), Some(at), "{token:?} moved in {before:?}");
                }
            }
        }
    }

    #[test]
    fn leaves_look_alikes_in_strings_templates_and_regexes() {
        let source = "const a = '// no', b = `/* no */ ${1 /* yes */}`, c = /\\/\\/*/g; // yes\n";
        assert_eq!(
            without_comments(source).unwrap(),
            "const a = '// no', b = `/* no */ ${1          }`, c = /\\/\\/*/g; \n"
        );
    }

    #[test]
    fn keeps_line_terminators_of_every_kind() {
        let out = without_comments("a;/*\r\n\u{2028}x*/b").unwrap();
        assert_eq!(out, "a;\r\n\u{2028}   b");
    }

    #[test]
    fn leaves_code_without_comments_or_that_does_not_parse() {
        assert_eq!(without_comments("let a = 1;"), None);
        assert_eq!(without_comments("let a = 'http://x';"), None);
        assert_eq!(without_comments("let = = 1; // broken"), None);
    }
}
