//! The grammar of older targets, checked on the converted tree. Before
//! Python 3.11 an asynchronous list, set or dict comprehension (one with
//! `async for` or an `await` in its own scope) nested in a comprehension or
//! generator expression that is not itself asynchronous is a SyntaxError
//! ("asynchronous comprehension outside of an asynchronous function",
//! checked with CPython 3.9.18 and 3.10.13; 3.11 accepts it, bpo-33346).
//! The engine leaves such a file as it was, with a diagnostic.

use crate::syntax::visit::{Visitor, walk_expr};
use rustpython_ast::text_size::TextSize;
use rustpython_ast::{Comprehension, Expr, Ranged, Stmt};

fn parts(e: &Expr) -> Option<(&[Comprehension], Vec<&Expr>, bool)> {
    match e {
        Expr::ListComp(c) => Some((&c.generators, vec![&*c.elt], true)),
        Expr::SetComp(c) => Some((&c.generators, vec![&*c.elt], true)),
        Expr::DictComp(c) => Some((&c.generators, vec![&*c.key, &*c.value], true)),
        Expr::GeneratorExp(c) => Some((&c.generators, vec![&*c.elt], false)),
        _ => None,
    }
}

/// The expressions of a comprehension's own scope (not its first iterable).
fn own<'a>(gens: &'a [Comprehension], rest: Vec<&'a Expr>) -> Vec<&'a Expr> {
    let mut out = rest;
    for (i, g) in gens.iter().enumerate() {
        if i > 0 {
            out.push(&g.iter);
        }
        out.push(&g.target);
        out.extend(&g.ifs);
    }
    out
}

/// An `await` in this scope (nested scopes only through their first iterable).
struct Awaits(bool);
impl<'a> Visitor<'a> for Awaits {
    fn visit_expr(&mut self, e: &'a Expr) {
        if self.0 {
            return;
        }
        match e {
            Expr::Await(_) => self.0 = true,
            Expr::Lambda(_) => {}
            _ => match parts(e) {
                Some((gens, _, _)) => {
                    if let Some(g) = gens.first() {
                        self.visit_expr(&g.iter);
                    }
                }
                None => walk_expr(self, e),
            },
        }
    }
}

fn is_async(gens: &[Comprehension], rest: Vec<&Expr>) -> bool {
    if gens.iter().any(|g| g.is_async) {
        return true;
    }
    let mut a = Awaits(false);
    for x in own(gens, rest) {
        a.visit_expr(x);
    }
    a.0
}

struct Check {
    /// Whether the enclosing comprehension is asynchronous (None: not in one).
    parent: Option<bool>,
    hit: Option<TextSize>,
}

impl<'a> Visitor<'a> for Check {
    fn visit_expr(&mut self, e: &'a Expr) {
        if self.hit.is_some() {
            return;
        }
        if let Expr::Lambda(l) = e {
            let saved = self.parent.take();
            self.visit_expr(&l.body);
            self.parent = saved;
            return;
        }
        let Some((gens, rest, comp)) = parts(e) else { return walk_expr(self, e) };
        if let Some(g) = gens.first() {
            self.visit_expr(&g.iter);
        }
        let mine = is_async(gens, rest.clone());
        if comp && mine && self.parent == Some(false) {
            self.hit = Some(e.range().start());
            return;
        }
        let saved = self.parent.replace(mine);
        for x in own(gens, rest) {
            self.visit_expr(x);
        }
        self.parent = saved;
    }
}

/// Where the tree needs Python 3.11's grammar for comprehensions, if it does.
pub fn nested_async_comprehension(body: &[Stmt]) -> Option<TextSize> {
    let mut c = Check { parent: None, hit: None };
    c.visit_body(body);
    c.hit
}
