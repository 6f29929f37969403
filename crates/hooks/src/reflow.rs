//! Line breaks between the statements of minified code, before QuickJS compiles it.
//!
//! The engine facade (v8x 149.4.0-rc.4) patched QuickJS's parser to give every identifier a
//! V8-style column, found by scanning back to the start of its line: parsing is quadratic in the
//! length of a line. Bundles ship whole programs on one line (`mailgun.js`'s 1 MB bundle has lines
//! of up to 710 KB); that one file took 0.7–1.1 s of every start, bytecode cache or not (its top
//! level is sloppy, so it is compiled as a script, which the engine always parses).
//!
//! A file with a line longer than [`LONG_LINE`] is parsed here (oxc, as a CommonJS function body)
//! and gets a line break after each statement that ends a line already past [`BREAK_AFTER`] bytes.
//! A break between two statements of a statement list never changes what the code means (no
//! automatic semicolon depends on it; it is never inside a literal, a template or a comment), so
//! only what shows where a line is changes: line and column numbers in stack traces of such
//! files, and `Function.prototype.toString()` of their functions. A file oxc can't parse is
//! compiled as it is, so QuickJS reports its syntax errors as before.

use oxc_allocator::{Allocator, Vec as AstVec};
use oxc_ast::ast::Statement;
use oxc_ast_visit::{walk, Visit};
use oxc_parser::{ParseOptions, Parser};
use oxc_span::{GetSpan, SourceType};

/// Files whose lines are all shorter than this are compiled as they are.
const LONG_LINE: usize = 2000;
/// Where a statement ends on a line longer than this, the line is broken.
const BREAK_AFTER: usize = 500;

/// `body` with line breaks added between statements, when it has long lines and parses.
pub fn reflow(body: &str) -> Option<String> {
    if !body.split('\n').any(|line| line.len() > LONG_LINE) {
        return None;
    }
    let allocator = Allocator::default();
    let options = ParseOptions { allow_return_outside_function: true, ..ParseOptions::default() };
    let parsed = Parser::new(&allocator, body, SourceType::cjs()).with_options(options).parse();
    if parsed.panicked || !parsed.diagnostics.is_empty() {
        return None;
    }
    let mut ends = StatementEnds(Vec::new());
    ends.visit_program(&parsed.program);
    let mut ends = ends.0;
    ends.sort_unstable();
    ends.dedup();

    let mut out = String::with_capacity(body.len() + ends.len());
    let mut copied = 0;
    let mut line = 0;
    for end in ends {
        let end = end as usize;
        let piece = &body[copied..end];
        line = match piece.rfind('\n') {
            Some(i) => piece.len() - i - 1,
            None => line + piece.len(),
        };
        out.push_str(piece);
        copied = end;
        if line > BREAK_AFTER && !body[end..].starts_with(['\n', '\r']) {
            out.push('\n');
            line = 0;
        }
    }
    out.push_str(&body[copied..]);
    Some(out)
}

/// Where each statement of every statement list ends (byte offsets).
struct StatementEnds(Vec<u32>);

impl<'a> Visit<'a> for StatementEnds {
    fn visit_statements(&mut self, statements: &AstVec<'a, Statement<'a>>) {
        self.0.extend(statements.iter().map(|s| s.span().end));
        walk::walk_statements(self, statements);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minified(statements: usize) -> String {
        let mut body = String::from("var t = `a;b\n${1 + 2};`, s = 'x;y', r = /;\\/;/g;");
        for i in 0..statements {
            body.push_str(&format!("function f{i}(a){{if(a)return a+{i};else{{a={i};return a}}}}exports.v{i}=f{i}({i});"));
        }
        body.push_str("return exports;");
        body
    }

    #[test]
    fn short_lines_are_left_alone() {
        assert_eq!(reflow("module.exports = 1;\nreturn 2;"), None);
    }

    #[test]
    fn long_lines_break_between_statements_only() {
        let body = minified(400);
        let out = reflow(&body).expect("a 20 KB line is reflowed");
        assert!(out.lines().count() > 20, "{} lines", out.lines().count());
        assert!(out.lines().all(|l| l.len() <= BREAK_AFTER + 200), "a line stayed long");
        // Only line breaks were added, and none inside the template, string or regex.
        assert_eq!(out.replace('\n', ""), body.replace('\n', ""));
        assert!(out.starts_with("var t = `a;b\n${1 + 2};`, s = 'x;y', r = /;\\/;/g;"));
        let allocator = Allocator::default();
        let options = ParseOptions { allow_return_outside_function: true, ..ParseOptions::default() };
        let parsed = Parser::new(&allocator, &out, SourceType::cjs()).with_options(options).parse();
        assert!(parsed.diagnostics.is_empty() && !parsed.panicked);
    }

    #[test]
    fn sloppy_code_and_top_level_return_parse_and_broken_code_is_left_to_the_engine() {
        let sloppy = format!("with (Math) {{ x = max(1, 2); }} {} return 010;", "y = 1;".repeat(500));
        assert!(reflow(&sloppy).is_some());
        let broken = format!("{} function (", "y = 1;".repeat(500));
        assert_eq!(reflow(&broken), None);
    }
}
