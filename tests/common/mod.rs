//! Helpers shared by test crates.

use rustpython_parser::ast::{Ranged, Stmt};

/// The program with every `def` made `async def`, blocking calls left in
/// (only the `def` keyword changes, so every line stays where it was).
pub fn async_by_hand(text: &str, body: &[Stmt]) -> String {
    use awaitify::syntax::visit::{Visitor, walk_stmt};
    struct D(Vec<usize>);
    impl<'a> Visitor<'a> for D {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if let Stmt::FunctionDef(_) = s {
                self.0.push(s.range().start().into());
            }
            walk_stmt(self, s);
        }
    }
    let mut d = D(vec![]);
    d.visit_body(body);
    d.0.sort();
    let mut out = text.to_string();
    for at in d.0.into_iter().rev() {
        assert!(out[at..].starts_with("def"), "a def starts at its keyword");
        out.insert_str(at, "async ");
    }
    out
}
