//! New code from a Python template: `template("{pool} = asyncio.Semaphore({n})", ...)`.
//!
//! A template is parsed once per use, its ranges erased (the emitter prints
//! every node of it as new), and each placeholder replaced: `{name}` as an
//! expression by the expression given for it (cloned per occurrence, so an
//! original subtree keeps its range and its original text), and a line that
//! is only `{name}` by the statements given for it. Templates are constants
//! of the passes: one that does not parse is a bug, reported as `None`.

use super::fold_ok;
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr, Fold, Stmt};
use std::collections::HashMap;

/// What a placeholder stands for.
pub enum Hole {
    Expr(Expr),
    Stmts(Vec<Stmt>),
}

const PREFIX: &str = "__awaitify_hole_";

/// The statements of `src` with its `{name}` placeholders filled.
pub fn template(src: &str, holes: Vec<(&str, Hole)>) -> Option<Vec<Stmt>> {
    let mut text = src.to_string();
    for (k, _) in &holes {
        text = text.replace(&format!("{{{k}}}"), &format!("{PREFIX}{k}"));
    }
    let body = super::parse::parse_module(&text, "<template>").ok()?;
    let mut fill = Fill { holes: holes.into_iter().map(|(k, h)| (format!("{PREFIX}{k}"), h)).collect() };
    let body = super::erase_ranges(body);
    Some(fill.stmts(body))
}

/// One expression from a template (`"{tasks}.values()"`).
pub fn template_expr(src: &str, holes: Vec<(&str, Hole)>) -> Option<Expr> {
    match template(src, holes)?.pop()? {
        Stmt::Expr(e) => Some(*e.value),
        _ => None,
    }
}

struct Fill {
    holes: HashMap<String, Hole>,
}

impl Fill {
    fn stmts(&mut self, body: Vec<Stmt>) -> Vec<Stmt> {
        let mut out = vec![];
        for s in body {
            if let Stmt::Expr(e) = &s
                && let Expr::Name(n) = &*e.value
                && let Some(Hole::Stmts(v)) = self.holes.get(n.id.as_str())
            {
                out.extend(v.iter().cloned());
                continue;
            }
            let mut s = s;
            for b in super::blocks_mut(&mut s) {
                let inner = std::mem::take(b);
                *b = self.stmts(inner);
            }
            out.push(fold_ok(self.fold_stmt(s)));
        }
        out
    }
}

impl Fold<TextRange> for Fill {
    crate::identity_fold_plumbing!();

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        if let Expr::Name(n) = &e
            && let Some(Hole::Expr(x)) = self.holes.get(n.id.as_str())
        {
            let mut x = x.clone();
            // A hole in a store position (`{t} = ...`) takes the store context.
            if let (Expr::Name(new), ast::ExprContext::Store) = (&mut x, &n.ctx) {
                new.ctx = ast::ExprContext::Store;
            }
            return Ok(x);
        }
        ast::fold::fold_expr(self, e)
    }
}
