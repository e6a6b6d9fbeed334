//! A borrowing visitor over the rustpython AST.
//!
//! rustpython-ast's own `Visitor` consumes nodes by value, which would force a
//! clone of every module we analyse; this one walks by reference. Children are
//! visited in source order where the grammar fixes it (decorators before the
//! signature, the test of an `if` before its body...).

use rustpython_ast::*;

pub trait Visitor<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        walk_stmt(self, stmt);
    }
    fn visit_expr(&mut self, expr: &'a Expr) {
        walk_expr(self, expr);
    }
    fn visit_body(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.visit_stmt(s);
        }
    }
    fn visit_arguments(&mut self, args: &'a Arguments) {
        walk_arguments(self, args);
    }
    fn visit_comprehension(&mut self, comp: &'a Comprehension) {
        self.visit_expr(&comp.iter);
        self.visit_expr(&comp.target);
        for e in &comp.ifs {
            self.visit_expr(e);
        }
    }
    fn visit_except_handler(&mut self, h: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(h) = h;
        if let Some(t) = &h.type_ {
            self.visit_expr(t);
        }
        self.visit_body(&h.body);
    }
    fn visit_pattern(&mut self, p: &'a Pattern) {
        walk_pattern(self, p);
    }
}

pub fn walk_arguments<'a, V: Visitor<'a> + ?Sized>(v: &mut V, a: &'a Arguments) {
    for arg in a.posonlyargs.iter().chain(&a.args).chain(&a.kwonlyargs) {
        if let Some(ann) = &arg.def.annotation {
            v.visit_expr(ann);
        }
        if let Some(d) = &arg.default {
            v.visit_expr(d);
        }
    }
    for arg in a.vararg.iter().chain(&a.kwarg) {
        if let Some(ann) = &arg.annotation {
            v.visit_expr(ann);
        }
    }
}

pub fn walk_pattern<'a, V: Visitor<'a> + ?Sized>(v: &mut V, p: &'a Pattern) {
    match p {
        Pattern::MatchValue(p) => v.visit_expr(&p.value),
        Pattern::MatchSingleton(_) | Pattern::MatchStar(_) => {}
        Pattern::MatchSequence(p) => p.patterns.iter().for_each(|p| v.visit_pattern(p)),
        Pattern::MatchMapping(p) => {
            p.keys.iter().for_each(|k| v.visit_expr(k));
            p.patterns.iter().for_each(|p| v.visit_pattern(p));
        }
        Pattern::MatchClass(p) => {
            v.visit_expr(&p.cls);
            p.patterns.iter().for_each(|p| v.visit_pattern(p));
            p.kwd_patterns.iter().for_each(|p| v.visit_pattern(p));
        }
        Pattern::MatchAs(p) => {
            if let Some(p) = &p.pattern {
                v.visit_pattern(p)
            }
        }
        Pattern::MatchOr(p) => p.patterns.iter().for_each(|p| v.visit_pattern(p)),
    }
}

pub fn walk_stmt<'a, V: Visitor<'a> + ?Sized>(v: &mut V, stmt: &'a Stmt) {
    match stmt {
        Stmt::FunctionDef(StmtFunctionDef { args, body, decorator_list, returns, .. })
        | Stmt::AsyncFunctionDef(StmtAsyncFunctionDef { args, body, decorator_list, returns, .. }) => {
            decorator_list.iter().for_each(|d| v.visit_expr(d));
            v.visit_arguments(args);
            if let Some(r) = returns {
                v.visit_expr(r);
            }
            v.visit_body(body);
        }
        Stmt::ClassDef(c) => {
            c.decorator_list.iter().for_each(|d| v.visit_expr(d));
            c.bases.iter().for_each(|b| v.visit_expr(b));
            c.keywords.iter().for_each(|k| v.visit_expr(&k.value));
            v.visit_body(&c.body);
        }
        Stmt::Return(s) => {
            if let Some(e) = &s.value {
                v.visit_expr(e)
            }
        }
        Stmt::Delete(s) => s.targets.iter().for_each(|t| v.visit_expr(t)),
        Stmt::Assign(s) => {
            v.visit_expr(&s.value);
            s.targets.iter().for_each(|t| v.visit_expr(t));
        }
        Stmt::TypeAlias(s) => {
            v.visit_expr(&s.name);
            v.visit_expr(&s.value);
        }
        Stmt::AugAssign(s) => {
            v.visit_expr(&s.value);
            v.visit_expr(&s.target);
        }
        Stmt::AnnAssign(s) => {
            v.visit_expr(&s.annotation);
            if let Some(e) = &s.value {
                v.visit_expr(e);
            }
            v.visit_expr(&s.target);
        }
        Stmt::For(StmtFor { target, iter, body, orelse, .. })
        | Stmt::AsyncFor(StmtAsyncFor { target, iter, body, orelse, .. }) => {
            v.visit_expr(iter);
            v.visit_expr(target);
            v.visit_body(body);
            v.visit_body(orelse);
        }
        Stmt::While(s) => {
            v.visit_expr(&s.test);
            v.visit_body(&s.body);
            v.visit_body(&s.orelse);
        }
        Stmt::If(s) => {
            v.visit_expr(&s.test);
            v.visit_body(&s.body);
            v.visit_body(&s.orelse);
        }
        Stmt::With(StmtWith { items, body, .. }) | Stmt::AsyncWith(StmtAsyncWith { items, body, .. }) => {
            for item in items {
                v.visit_expr(&item.context_expr);
                if let Some(o) = &item.optional_vars {
                    v.visit_expr(o);
                }
            }
            v.visit_body(body);
        }
        Stmt::Match(s) => {
            v.visit_expr(&s.subject);
            for case in &s.cases {
                v.visit_pattern(&case.pattern);
                if let Some(g) = &case.guard {
                    v.visit_expr(g);
                }
                v.visit_body(&case.body);
            }
        }
        Stmt::Raise(s) => {
            if let Some(e) = &s.exc {
                v.visit_expr(e);
            }
            if let Some(e) = &s.cause {
                v.visit_expr(e);
            }
        }
        Stmt::Try(StmtTry { body, handlers, orelse, finalbody, .. })
        | Stmt::TryStar(StmtTryStar { body, handlers, orelse, finalbody, .. }) => {
            v.visit_body(body);
            handlers.iter().for_each(|h| v.visit_except_handler(h));
            v.visit_body(orelse);
            v.visit_body(finalbody);
        }
        Stmt::Assert(s) => {
            v.visit_expr(&s.test);
            if let Some(m) = &s.msg {
                v.visit_expr(m);
            }
        }
        Stmt::Expr(s) => v.visit_expr(&s.value),
        Stmt::Import(_)
        | Stmt::ImportFrom(_)
        | Stmt::Global(_)
        | Stmt::Nonlocal(_)
        | Stmt::Pass(_)
        | Stmt::Break(_)
        | Stmt::Continue(_) => {}
    }
}

pub fn walk_expr<'a, V: Visitor<'a> + ?Sized>(v: &mut V, expr: &'a Expr) {
    match expr {
        Expr::BoolOp(e) => e.values.iter().for_each(|x| v.visit_expr(x)),
        Expr::NamedExpr(e) => {
            v.visit_expr(&e.value);
            v.visit_expr(&e.target);
        }
        Expr::BinOp(e) => {
            v.visit_expr(&e.left);
            v.visit_expr(&e.right);
        }
        Expr::UnaryOp(e) => v.visit_expr(&e.operand),
        Expr::Lambda(e) => {
            v.visit_arguments(&e.args);
            v.visit_expr(&e.body);
        }
        Expr::IfExp(e) => {
            v.visit_expr(&e.body);
            v.visit_expr(&e.test);
            v.visit_expr(&e.orelse);
        }
        Expr::Dict(e) => {
            for (k, val) in e.keys.iter().zip(&e.values) {
                if let Some(k) = k {
                    v.visit_expr(k);
                }
                v.visit_expr(val);
            }
        }
        Expr::Set(e) => e.elts.iter().for_each(|x| v.visit_expr(x)),
        Expr::ListComp(ExprListComp { elt, generators, .. })
        | Expr::SetComp(ExprSetComp { elt, generators, .. })
        | Expr::GeneratorExp(ExprGeneratorExp { elt, generators, .. }) => {
            generators.iter().for_each(|g| v.visit_comprehension(g));
            v.visit_expr(elt);
        }
        Expr::DictComp(e) => {
            e.generators.iter().for_each(|g| v.visit_comprehension(g));
            v.visit_expr(&e.key);
            v.visit_expr(&e.value);
        }
        Expr::Await(e) => v.visit_expr(&e.value),
        Expr::Yield(e) => {
            if let Some(x) = &e.value {
                v.visit_expr(x)
            }
        }
        Expr::YieldFrom(e) => v.visit_expr(&e.value),
        Expr::Compare(e) => {
            v.visit_expr(&e.left);
            e.comparators.iter().for_each(|x| v.visit_expr(x));
        }
        Expr::Call(e) => {
            v.visit_expr(&e.func);
            e.args.iter().for_each(|x| v.visit_expr(x));
            e.keywords.iter().for_each(|k| v.visit_expr(&k.value));
        }
        Expr::FormattedValue(e) => {
            v.visit_expr(&e.value);
            if let Some(s) = &e.format_spec {
                v.visit_expr(s);
            }
        }
        Expr::JoinedStr(e) => e.values.iter().for_each(|x| v.visit_expr(x)),
        Expr::Constant(_) | Expr::Name(_) => {}
        Expr::Attribute(e) => v.visit_expr(&e.value),
        Expr::Subscript(e) => {
            v.visit_expr(&e.value);
            v.visit_expr(&e.slice);
        }
        Expr::Starred(e) => v.visit_expr(&e.value),
        Expr::List(e) => e.elts.iter().for_each(|x| v.visit_expr(x)),
        Expr::Tuple(e) => e.elts.iter().for_each(|x| v.visit_expr(x)),
        Expr::Slice(e) => {
            for x in [&e.lower, &e.upper, &e.step].into_iter().flatten() {
                v.visit_expr(x);
            }
        }
    }
}
