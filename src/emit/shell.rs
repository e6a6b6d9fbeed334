//! Splitting a node into its *shell* (the node with every direct child
//! expression replaced by a placeholder) and its children. Two nodes with
//! equal shells differ only in their children, so the original text of the
//! shell can be kept and only the changed children re-emitted.

use crate::syntax::{Prec, op_prec, synth};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr, Fold, Stmt};
use std::convert::Infallible;

struct Eraser {
    depth: usize,
    in_fstring: bool,
    children: Vec<Expr>,
}

fn placeholder() -> Expr {
    Expr::Name(ast::ExprName { range: synth(), id: ast::Identifier::new("_"), ctx: ast::ExprContext::Load })
}

impl Fold<TextRange> for Eraser {
    crate::identity_fold_plumbing!();

    fn fold_expr(&mut self, node: Expr) -> Result<Expr, Infallible> {
        if self.depth == 0 {
            self.depth += 1;
            self.in_fstring = matches!(node, Expr::JoinedStr(_));
            let r = ast::fold::fold_expr(self, node);
            self.depth -= 1;
            return r;
        }
        // Inside an f-string the parts share the string's range: descend to
        // the real expressions in the replacement fields.
        if self.in_fstring && matches!(node, Expr::JoinedStr(_) | Expr::FormattedValue(_) | Expr::Constant(_)) {
            return ast::fold::fold_expr(self, node);
        }
        self.children.push(node);
        Ok(placeholder())
    }
}

/// Shell and direct children of an expression, children in fold order.
pub fn split_expr(e: &Expr) -> (Expr, Vec<Expr>) {
    let mut er = Eraser { depth: 0, in_fstring: false, children: vec![] };
    let shell = crate::syntax::fold_ok(er.fold_expr(e.clone()));
    (strip_range_expr(shell), er.children)
}

/// Header shell and children of a statement whose blocks were taken out.
pub fn split_stmt_header(s: Stmt) -> (Stmt, Vec<Expr>) {
    let mut er = Eraser { depth: 1, in_fstring: false, children: vec![] };
    let shell = crate::syntax::fold_ok(ast::fold::fold_stmt(&mut er, s));
    (shell, er.children)
}

fn strip_range_expr(mut e: Expr) -> Expr {
    // The root's own range is compared separately by the caller.
    use rustpython_ast::Ranged;
    let _ = e.range();
    set_expr_range(&mut e, synth());
    e
}

pub fn set_expr_range(e: &mut Expr, r: TextRange) {
    match e {
        Expr::BoolOp(x) => x.range = r,
        Expr::NamedExpr(x) => x.range = r,
        Expr::BinOp(x) => x.range = r,
        Expr::UnaryOp(x) => x.range = r,
        Expr::Lambda(x) => x.range = r,
        Expr::IfExp(x) => x.range = r,
        Expr::Dict(x) => x.range = r,
        Expr::Set(x) => x.range = r,
        Expr::ListComp(x) => x.range = r,
        Expr::SetComp(x) => x.range = r,
        Expr::DictComp(x) => x.range = r,
        Expr::GeneratorExp(x) => x.range = r,
        Expr::Await(x) => x.range = r,
        Expr::Yield(x) => x.range = r,
        Expr::YieldFrom(x) => x.range = r,
        Expr::Compare(x) => x.range = r,
        Expr::Call(x) => x.range = r,
        Expr::FormattedValue(x) => x.range = r,
        Expr::JoinedStr(x) => x.range = r,
        Expr::Constant(x) => x.range = r,
        Expr::Attribute(x) => x.range = r,
        Expr::Subscript(x) => x.range = r,
        Expr::Starred(x) => x.range = r,
        Expr::Name(x) => x.range = r,
        Expr::List(x) => x.range = r,
        Expr::Tuple(x) => x.range = r,
        Expr::Slice(x) => x.range = r,
    }
}

/// The precedence each direct child slot of `e` requires, in the same order
/// as [`split_expr`] lists the children.
pub fn child_slots(e: &Expr) -> Vec<Prec> {
    fn comps(gens: &[ast::Comprehension], out: &mut Vec<Prec>) {
        for g in gens {
            out.push(Prec::Tuple);
            out.push(Prec::Or);
            out.extend(g.ifs.iter().map(|_| Prec::Or));
        }
    }
    fn args(a: &ast::Arguments, out: &mut Vec<Prec>) {
        for arg in a.posonlyargs.iter().chain(&a.args) {
            if arg.def.annotation.is_some() {
                out.push(Prec::Test);
            }
            if arg.default.is_some() {
                out.push(Prec::Test);
            }
        }
        if let Some(v) = &a.vararg
            && v.annotation.is_some()
        {
            out.push(Prec::Test);
        }
        for arg in &a.kwonlyargs {
            if arg.def.annotation.is_some() {
                out.push(Prec::Test);
            }
            if arg.default.is_some() {
                out.push(Prec::Test);
            }
        }
        if let Some(v) = &a.kwarg
            && v.annotation.is_some()
        {
            out.push(Prec::Test);
        }
    }
    fn fstring(values: &[Expr], out: &mut Vec<Prec>) {
        for v in values {
            if let Expr::FormattedValue(f) = v {
                out.push(Prec::Test);
                if let Some(Expr::JoinedStr(j)) = f.format_spec.as_deref() {
                    fstring(&j.values, out);
                }
            }
        }
    }
    let mut out = vec![];
    match e {
        Expr::BoolOp(b) => {
            let p = if b.op == ast::BoolOp::Or { Prec::And } else { Prec::Not };
            out.extend(b.values.iter().map(|_| p));
        }
        Expr::NamedExpr(_) => out.extend([Prec::Atom, Prec::Test]),
        Expr::BinOp(b) => {
            if b.op == ast::Operator::Pow {
                out.extend([Prec::Await, Prec::Factor]);
            } else {
                let p = op_prec(b.op);
                out.extend([p, p.next()]);
            }
        }
        Expr::UnaryOp(u) => out.push(if u.op == ast::UnaryOp::Not { Prec::Not } else { Prec::Factor }),
        Expr::Lambda(l) => {
            args(&l.args, &mut out);
            out.push(Prec::Test);
        }
        Expr::IfExp(_) => out.extend([Prec::Or, Prec::Or, Prec::Test]),
        Expr::Dict(d) => {
            out.extend(d.keys.iter().flatten().map(|_| Prec::Test));
            out.extend(d.keys.iter().map(|k| if k.is_some() { Prec::Test } else { Prec::BOr }));
        }
        Expr::Set(s) => out.extend(s.elts.iter().map(|_| Prec::Test)),
        Expr::ListComp(c) => {
            out.push(Prec::Test);
            comps(&c.generators, &mut out);
        }
        Expr::SetComp(c) => {
            out.push(Prec::Test);
            comps(&c.generators, &mut out);
        }
        Expr::GeneratorExp(c) => {
            out.push(Prec::Test);
            comps(&c.generators, &mut out);
        }
        Expr::DictComp(c) => {
            out.extend([Prec::Test, Prec::Test]);
            comps(&c.generators, &mut out);
        }
        Expr::Await(_) => out.push(Prec::Atom),
        Expr::Yield(y) => out.extend(y.value.iter().map(|_| Prec::Tuple)),
        Expr::YieldFrom(_) => out.push(Prec::Test),
        Expr::Compare(c) => {
            out.push(Prec::BOr);
            out.extend(c.comparators.iter().map(|_| Prec::BOr));
        }
        Expr::Call(c) => {
            out.push(Prec::Atom);
            out.extend(c.args.iter().map(|_| Prec::Test));
            out.extend(c.keywords.iter().map(|_| Prec::Test));
        }
        Expr::JoinedStr(j) => fstring(&j.values, &mut out),
        Expr::FormattedValue(f) => {
            out.push(Prec::Test);
            if f.format_spec.is_some() {
                out.push(Prec::Atom);
            }
        }
        Expr::Constant(_) | Expr::Name(_) => {}
        Expr::Attribute(_) => out.push(Prec::Atom),
        Expr::Subscript(_) => out.extend([Prec::Atom, Prec::Tuple]),
        Expr::Starred(_) => out.push(Prec::BOr),
        Expr::List(l) => out.extend(l.elts.iter().map(|_| Prec::Test)),
        Expr::Tuple(t) => out.extend(t.elts.iter().map(|_| Prec::Test)),
        Expr::Slice(s) => out.extend([&s.lower, &s.upper, &s.step].iter().filter(|x| x.is_some()).map(|_| Prec::Test)),
    }
    out
}
