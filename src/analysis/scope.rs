//! Name bindings per scope, enough to resolve a name at a call site to an
//! import, a function or a class of the module, conservatively: a name bound
//! in more than one way resolves to `Other`.

use crate::syntax::visit::{Visitor, walk_expr};
use rustpython_ast::{self as ast, Expr, Stmt};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// `import a.b as x` -> "a.b"; `from a import b as x` -> "a.b".
    Import(String),
    /// A def in this scope (key: start offset of the def statement).
    Def(u32),
    /// A class in this scope (key: start offset of the class statement).
    Class(u32),
    /// `x = K(...)`: an instance of whatever `K` names (resolved at use);
    /// `x = K.create(...)`: "K.create", an instance if `create` is a
    /// class method of K that returns `cls(...)`.
    Instance(String),
    Other,
}

#[derive(Default, Debug)]
pub struct Bindings {
    pub names: HashMap<String, Vec<Binding>>,
    pub globals: Vec<String>,
}

impl Bindings {
    pub fn add(&mut self, name: &str, b: Binding) {
        let v = self.names.entry(name.to_string()).or_default();
        if !v.contains(&b) {
            v.push(b);
        }
    }
    /// The single binding of `name`, if it has exactly one kind.
    pub fn unique(&self, name: &str) -> Option<&Binding> {
        match self.names.get(name) {
            Some(v) if v.len() == 1 => Some(&v[0]),
            Some(_) => Some(&Binding::Other),
            None => None,
        }
    }
    pub fn binds(&self, name: &str) -> bool {
        self.names.contains_key(name) && !self.globals.iter().any(|g| g == name)
    }
}

/// Collects the bindings of one scope body (not descending into nested
/// function, class, lambda or comprehension scopes).
pub fn collect(body: &[Stmt]) -> Bindings {
    let mut c = Collector { b: Bindings::default() };
    c.visit_body(body);
    c.b
}

pub fn collect_args(args: &ast::Arguments, b: &mut Bindings) {
    for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
        b.add(a.def.arg.as_str(), Binding::Other);
    }
    for a in args.vararg.iter().chain(&args.kwarg) {
        b.add(a.arg.as_str(), Binding::Other);
    }
}

struct Collector {
    b: Bindings,
}

impl Collector {
    fn target(&mut self, e: &Expr) {
        match e {
            Expr::Name(n) => self.b.add(n.id.as_str(), Binding::Other),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.target(e)),
            Expr::List(t) => t.elts.iter().for_each(|e| self.target(e)),
            Expr::Starred(s) => self.target(&s.value),
            _ => {}
        }
    }
}

impl<'a> Visitor<'a> for Collector {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        use rustpython_ast::Ranged;
        match s {
            Stmt::FunctionDef(ast::StmtFunctionDef { name, decorator_list, args, returns, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { name, decorator_list, args, returns, .. }) => {
                self.b.add(name.as_str(), Binding::Def(s.range().start().into()));
                decorator_list.iter().for_each(|d| self.visit_expr(d));
                self.visit_arguments(args);
                if let Some(r) = returns {
                    self.visit_expr(r);
                }
                return;
            }
            Stmt::ClassDef(c) => {
                self.b.add(c.name.as_str(), Binding::Class(s.range().start().into()));
                c.decorator_list.iter().for_each(|d| self.visit_expr(d));
                c.bases.iter().for_each(|d| self.visit_expr(d));
                return;
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    match &a.asname {
                        Some(n) => self.b.add(n.as_str(), Binding::Import(a.name.to_string())),
                        None => {
                            let first = a.name.split('.').next().unwrap_or_default();
                            self.b.add(first, Binding::Import(first.to_string()));
                        }
                    }
                }
                return;
            }
            Stmt::ImportFrom(i) => {
                let level = i.level.map(|l| l.to_u32()).unwrap_or(0);
                let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                for a in &i.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name);
                    if level == 0 {
                        self.b.add(local.as_str(), Binding::Import(format!("{module}.{}", a.name)));
                    } else {
                        self.b.add(local.as_str(), Binding::Other);
                    }
                }
                return;
            }
            Stmt::Global(g) => {
                self.b.globals.extend(g.names.iter().map(|n| n.to_string()));
            }
            Stmt::Nonlocal(g) => {
                // Treat as bound here: resolution of these names is not attempted.
                g.names.iter().for_each(|n| self.b.add(n.as_str(), Binding::Other));
            }
            Stmt::Assign(a) => match (&a.targets[..], &*a.value) {
                ([Expr::Name(n)], Expr::Call(c)) if matches!(&*c.func, Expr::Name(_)) => {
                    let Expr::Name(k) = &*c.func else { unreachable!() };
                    self.b.add(n.id.as_str(), Binding::Instance(k.id.to_string()));
                }
                // x = K.create(...): an instance if `create` is a factory of K
                // (checked where it is used).
                ([Expr::Name(n)], Expr::Call(c)) if matches!(&*c.func, Expr::Attribute(a) if matches!(&*a.value, Expr::Name(_))) =>
                {
                    let Expr::Attribute(a) = &*c.func else { unreachable!() };
                    let Expr::Name(k) = &*a.value else { unreachable!() };
                    self.b.add(n.id.as_str(), Binding::Instance(format!("{}.{}", k.id, a.attr)));
                }
                _ => a.targets.iter().for_each(|t| self.target(t)),
            },
            Stmt::AugAssign(a) => self.target(&a.target),
            Stmt::AnnAssign(a) if a.value.is_some() => self.target(&a.target),
            Stmt::For(ast::StmtFor { target, .. }) | Stmt::AsyncFor(ast::StmtAsyncFor { target, .. }) => {
                self.target(target)
            }
            Stmt::With(ast::StmtWith { items, .. }) | Stmt::AsyncWith(ast::StmtAsyncWith { items, .. }) => {
                for it in items {
                    if let Some(v) = &it.optional_vars {
                        self.target(v);
                    }
                }
            }
            Stmt::Delete(d) => d.targets.iter().for_each(|t| self.target(t)),
            _ => {}
        }
        crate::syntax::visit::walk_stmt(self, s);
    }
    fn visit_except_handler(&mut self, h: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(hh) = h;
        if let Some(n) = &hh.name {
            self.b.add(n.as_str(), Binding::Other);
        }
        if let Some(t) = &hh.type_ {
            self.visit_expr(t);
        }
        self.visit_body(&hh.body);
    }
    fn visit_pattern(&mut self, p: &'a ast::Pattern) {
        match p {
            ast::Pattern::MatchAs(a) => {
                if let Some(n) = &a.name {
                    self.b.add(n.as_str(), Binding::Other);
                }
            }
            ast::Pattern::MatchStar(a) => {
                if let Some(n) = &a.name {
                    self.b.add(n.as_str(), Binding::Other);
                }
            }
            ast::Pattern::MatchMapping(m) => {
                if let Some(n) = &m.rest {
                    self.b.add(n.as_str(), Binding::Other);
                }
            }
            _ => {}
        }
        crate::syntax::visit::walk_pattern(self, p);
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Lambda(l) => {
                // Defaults are evaluated here; the body is its own scope.
                self.visit_arguments(&l.args);
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::GeneratorExp(_) => {
                // Own scope, except walrus targets (not resolved: mark them).
                struct W<'b>(&'b mut Bindings);
                impl<'a> Visitor<'a> for W<'_> {
                    fn visit_expr(&mut self, e: &'a Expr) {
                        if let Expr::NamedExpr(n) = e
                            && let Expr::Name(t) = &*n.target
                        {
                            self.0.add(t.id.as_str(), Binding::Other);
                        }
                        walk_expr(self, e);
                    }
                }
                walk_expr(&mut W(&mut self.b), e);
            }
            Expr::NamedExpr(n) => {
                self.target(&n.target);
                walk_expr(self, e);
            }
            _ => walk_expr(self, e),
        }
    }
}

/// The imports of one function body (not those of nested scopes) whose
/// local name nothing else binds in the function: local name -> the
/// absolute name it binds (`from .a import f` in `pkg.b` -> `pkg.a.f`,
/// `import pkg.a` -> `pkg`, `import pkg.a as m` -> `pkg.a`). A name bound
/// twice, or also assigned, deleted, declared `global` / `nonlocal` or
/// bound by a nested def anywhere in the function, is left out: it may
/// not hold what the import bound. `module` / `package`: the importing
/// module's dotted name and whether it is a package's `__init__`.
pub fn local_imports(body: &[Stmt], module: &str, package: bool) -> HashMap<String, String> {
    struct B {
        counts: HashMap<String, usize>,
        imports: Vec<(String, String)>,
        depth: usize,
        module: String,
        package: bool,
    }
    impl B {
        fn bind(&mut self, n: &str) {
            *self.counts.entry(n.to_string()).or_default() += 1;
        }
    }
    impl<'a> Visitor<'a> for B {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(ast::StmtFunctionDef { name, .. })
                | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { name, .. }) => {
                    self.bind(name.as_str());
                    self.depth += 1;
                    crate::syntax::visit::walk_stmt(self, s);
                    self.depth -= 1;
                    return;
                }
                Stmt::ClassDef(c) => {
                    self.bind(c.name.as_str());
                    self.depth += 1;
                    crate::syntax::visit::walk_stmt(self, s);
                    self.depth -= 1;
                    return;
                }
                Stmt::Import(i) => {
                    for a in &i.names {
                        let (local, target) = match &a.asname {
                            Some(n) => (n.to_string(), a.name.to_string()),
                            None => {
                                let first = a.name.split('.').next().unwrap_or_default().to_string();
                                (first.clone(), first)
                            }
                        };
                        self.bind(&local);
                        if self.depth == 0 {
                            self.imports.push((local, target));
                        }
                    }
                }
                Stmt::ImportFrom(i) => {
                    let level = i.level.map(|l| l.to_u32()).unwrap_or(0);
                    let m = i.module.as_ref().map(|x| x.to_string()).unwrap_or_default();
                    let base = super::project::absolute(&self.module, self.package, level, &m);
                    for a in &i.names {
                        let local = a.asname.as_ref().unwrap_or(&a.name).to_string();
                        self.bind(&local);
                        if self.depth == 0
                            && a.name.as_str() != "*"
                            && let Some(b) = &base
                        {
                            self.imports.push((local, format!("{b}.{}", a.name)));
                        }
                    }
                }
                Stmt::Global(g) => g.names.iter().for_each(|n| self.bind(n.as_str())),
                Stmt::Nonlocal(g) => g.names.iter().for_each(|n| self.bind(n.as_str())),
                _ => {}
            }
            crate::syntax::visit::walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e
                && !matches!(n.ctx, ast::ExprContext::Load)
            {
                self.bind(n.id.as_str());
            }
            walk_expr(self, e);
        }
        fn visit_except_handler(&mut self, h: &'a ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(hh) = h;
            if let Some(n) = &hh.name {
                self.bind(n.as_str());
            }
            if let Some(t) = &hh.type_ {
                self.visit_expr(t);
            }
            self.visit_body(&hh.body);
        }
        fn visit_pattern(&mut self, p: &'a ast::Pattern) {
            let n = match p {
                ast::Pattern::MatchAs(a) => a.name.as_ref(),
                ast::Pattern::MatchStar(a) => a.name.as_ref(),
                ast::Pattern::MatchMapping(m) => m.rest.as_ref(),
                _ => None,
            };
            if let Some(n) = n {
                self.bind(n.as_str());
            }
            crate::syntax::visit::walk_pattern(self, p);
        }
    }
    let mut b = B { counts: HashMap::new(), imports: vec![], depth: 0, module: module.to_string(), package };
    b.visit_body(body);
    let B { counts, imports, .. } = b;
    imports.into_iter().filter(|(l, _)| counts.get(l) == Some(&1)).collect()
}
