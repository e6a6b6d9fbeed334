//! Review mode (`awaitify check`): finds asyncio hazards without changing
//! anything. Each rule is one file in [`rules`], listed once in its registry;
//! a rule's doc comment is what `awaitify explain CODE` prints.
//!
//! Check reuses the engine's knowledge rather than copying it: the module
//! analysis ([`crate::analysis`]) for imports, scopes and call targets, the
//! passes' own seeds for what `convert` would rewrite, and the tables of
//! `transforms/` for every other blocking call. So `check` reports a
//! blocking call exactly when the tables say it blocks, and names the pass
//! that rewrites it exactly when that pass would.

pub mod format;
pub mod rules;

use crate::analysis::{self, ModuleInfo};
use crate::passes::{self, Seed};
use crate::source::LineIndex;
use crate::syntax::dotted_name;
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::transforms::Tables;
use rayon::prelude::*;
use rustpython_ast::text_size::TextSize;
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Declares a rule's documentation: a rustdoc comment and the text that
/// `awaitify explain CODE` prints, from one literal.
#[macro_export]
macro_rules! rule_doc {
    ($text:literal) => {
        #[doc = $text]
        pub const DOC: &str = $text;
    };
}

/// What a rule found in one module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub offset: TextSize,
    pub message: String,
    /// The `convert` pass that rewrites this, if one does.
    pub fix: Option<&'static str>,
}

/// A reported finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Finding {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub code: &'static str,
    pub message: String,
    /// The `convert` pass that fixes it (`awaitify convert --select PASS`).
    pub fix: Option<&'static str>,
}

pub trait Rule: Sync {
    /// The stable code, `AWT` and three digits.
    fn code(&self) -> &'static str;
    /// A short kebab-case name.
    fn name(&self) -> &'static str;
    fn doc(&self) -> &'static str;
    /// One-line summary (the first line of the doc).
    fn summary(&self) -> &'static str {
        self.doc().lines().find(|l| !l.trim().is_empty()).unwrap_or("")
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>);
}

/// One module of the run, with everything a rule may ask.
pub struct Module<'a> {
    pub path: &'a str,
    /// Dotted module name from the package layout (`pkg.client`).
    pub name: &'a str,
    pub text: &'a str,
    pub body: &'a [Stmt],
    pub info: &'a ModuleInfo,
    pub tables: &'a Tables,
    pub project: &'a Project,
    /// What the passes of `convert` would turn into awaitables here.
    pub seeds: &'a [Seed],
    /// Module-level names bound by relative imports, to absolute names.
    pub relative: &'a HashMap<String, String>,
    pub index: &'a LineIndex<'a>,
    /// Names bound to an instance of a class of another module
    /// (`c = Client()`), per scope (the def's start; None: module level),
    /// to the class's qualified name. A name bound otherwise too has none.
    pub instances: HashMap<(Option<TextSize>, String), Option<String>>,
    /// Names each function binds (the def's start, the name): they shadow
    /// the module's relative imports.
    pub locals: HashSet<(TextSize, String)>,
    /// The names a function's own imports bind (the def's start, the
    /// name), to absolute names (`def g(): from .a import f` -> `pkg.a.f`):
    /// resolved like module-level imports (`analysis::scope::local_imports`).
    pub local_imports: HashMap<(TextSize, String), String>,
}

/// Facts about every module of the run.
#[derive(Debug, Default)]
pub struct Project {
    /// Coroutine functions (`async def`, not generators) reachable from
    /// other modules: `pkg.mod.f` and `pkg.mod.Class.m`, with where they are.
    pub coroutines: HashMap<String, String>,
    /// Module-level classes: `pkg.mod.Class`.
    pub classes: BTreeSet<String>,
}

impl Module<'_> {
    /// The fully qualified name a Name/Attribute chain refers to through
    /// imports, absolute or relative.
    pub fn qualname(&self, e: &Expr) -> Option<String> {
        if let Some(q) = self.info.refs.get(&e.range()) {
            return Some(q.clone());
        }
        let d = dotted_name(e)?;
        let (first, rest) = match d.split_once('.') {
            Some((f, r)) => (f, Some(r)),
            None => (d.as_str(), None),
        };
        // The innermost function around `e` that binds the name decides: its
        // own import of it, or a binding that shadows the module's import.
        let at = e.range().start();
        let binder = self
            .info
            .funcs
            .iter()
            .filter(|f| f.range.contains(at) && self.locals.contains(&(f.range.start(), first.to_string())))
            .max_by_key(|f| f.range.start());
        let base = match binder {
            Some(f) => self.local_imports.get(&(f.range.start(), first.to_string()))?,
            None => self.relative.get(first)?,
        };
        Some(match rest {
            Some(r) => format!("{base}.{r}"),
            None => base.clone(),
        })
    }

    /// The qualified name a call calls (`time.sleep`, `builtins.open`).
    pub fn call_qualname(&self, c: &ast::ExprCall) -> Option<String> {
        match self.info.call(c.range).and_then(|s| s.qualname.clone()) {
            Some(q) => Some(q),
            None => self.qualname(&c.func),
        }
    }

    /// If the call surely calls a coroutine function of the project: its
    /// name and where it is defined.
    pub fn coroutine_callee(&self, c: &ast::ExprCall) -> Option<(String, String)> {
        if let Some(site) = self.info.call(c.range)
            && let Some(t) = site.target
        {
            let f = &self.info.funcs[t];
            if f.is_async && !f.generator {
                let (l, col) = self.index.line_col(f.range.start());
                return Some((f.name.clone(), format!("{}:{l}:{col}", self.path)));
            }
            return None;
        }
        let q = match self.call_qualname(c) {
            Some(q) => q,
            None => {
                // `c = Client(); c.get()` with `Client` from another module.
                let Expr::Attribute(a) = &*c.func else { return None };
                let Expr::Name(n) = &*a.value else { return None };
                let scope = self.info.call(c.range)?.ctx.func.map(|f| self.info.funcs[f].range.start());
                let class = match self.instances.get(&(scope, n.id.to_string())) {
                    Some(k) => k.clone(),
                    None if scope.is_some() => self.instances.get(&(None, n.id.to_string())).cloned().flatten(),
                    None => None,
                }?;
                format!("{class}.{}", a.attr)
            }
        };
        let at = self.project.coroutines.get(&q)?;
        Some((q, at.clone()))
    }

    /// See [`Module::locals`].
    fn find_locals(&self) -> HashSet<(TextSize, String)> {
        struct C(HashSet<(TextSize, String)>);
        impl<'a> ScopedVisitor<'a> for C {
            fn stmt(&mut self, s: &'a Stmt, _scope: &Scope<'a>) {
                let (args, body) = match s {
                    Stmt::FunctionDef(f) => (&f.args, &f.body),
                    Stmt::AsyncFunctionDef(f) => (&f.args, &f.body),
                    _ => return,
                };
                let mut b = analysis::scope::collect(body);
                analysis::scope::collect_args(args, &mut b);
                for n in b.names.keys().filter(|n| !b.globals.contains(n)) {
                    self.0.insert((s.range().start(), n.clone()));
                }
            }
        }
        let mut c = C(HashSet::new());
        walk_scoped(self.body, &mut c);
        c.0
    }

    /// See [`Module::local_imports`].
    fn find_local_imports(&self, is_package: bool) -> HashMap<(TextSize, String), String> {
        struct C<'n>(HashMap<(TextSize, String), String>, &'n str, bool);
        impl<'a> ScopedVisitor<'a> for C<'_> {
            fn stmt(&mut self, s: &'a Stmt, _scope: &Scope<'a>) {
                let body = match s {
                    Stmt::FunctionDef(f) => &f.body,
                    Stmt::AsyncFunctionDef(f) => &f.body,
                    _ => return,
                };
                for (local, target) in analysis::scope::local_imports(body, self.1, self.2) {
                    self.0.insert((s.range().start(), local), target);
                }
            }
        }
        let mut c = C(HashMap::new(), self.name, is_package);
        walk_scoped(self.body, &mut c);
        c.0
    }

    /// See [`Module::instances`].
    fn find_instances(&self) -> HashMap<(Option<TextSize>, String), Option<String>> {
        struct C<'m, 'a> {
            m: &'m Module<'a>,
            out: HashMap<(Option<TextSize>, String), Option<String>>,
        }
        impl<'a> ScopedVisitor<'a> for C<'_, '_> {
            fn stmt(&mut self, s: &'a Stmt, scope: &Scope<'a>) {
                let at = scope.defs.last().map(|d| d.start);
                let mut bind = |t: &Expr, class: Option<String>| {
                    if let Expr::Name(n) = t {
                        let e = self.out.entry((at, n.id.to_string())).or_insert(class.clone());
                        if *e != class {
                            *e = None;
                        }
                    }
                };
                match s {
                    Stmt::Assign(a) => {
                        let class = match &*a.value {
                            Expr::Call(c) => self.m.qualname(&c.func).filter(|q| self.m.project.classes.contains(q)),
                            _ => None,
                        };
                        for t in &a.targets {
                            bind(t, if a.targets.len() == 1 { class.clone() } else { None });
                        }
                    }
                    Stmt::AugAssign(a) => bind(&a.target, None),
                    Stmt::AnnAssign(a) => bind(&a.target, None),
                    Stmt::For(f) => bind(&f.target, None),
                    Stmt::AsyncFor(f) => bind(&f.target, None),
                    Stmt::With(w) => {
                        w.items.iter().filter_map(|i| i.optional_vars.as_deref()).for_each(|t| bind(t, None))
                    }
                    _ => {}
                }
            }
        }
        let mut c = C { m: self, out: HashMap::new() };
        walk_scoped(self.body, &mut c);
        c.out
    }
}

/// An enclosing function, for [`walk_scoped`].
#[derive(Clone, Copy, Debug)]
pub struct Def<'a> {
    pub name: &'a str,
    pub is_async: bool,
    pub start: TextSize,
    /// Defined directly in a class body.
    pub method: bool,
}

/// Where a node is.
#[derive(Clone, Debug, Default)]
pub struct Scope<'a> {
    /// Enclosing functions, innermost last.
    pub defs: Vec<Def<'a>>,
    /// Loops around the node inside the innermost function (or module).
    pub loops: usize,
    pub in_lambda: bool,
    pub in_class_body: bool,
}

impl<'a> Scope<'a> {
    /// The innermost function, if it is an `async def` and the node runs in
    /// it (not in a lambda or class body defined there).
    pub fn async_def(&self) -> Option<&Def<'a>> {
        self.defs.last().filter(|d| d.is_async && !self.in_lambda && !self.in_class_body)
    }
}

/// Callbacks for [`walk_scoped`]: every statement and expression, with its
/// scope, in source order.
pub trait ScopedVisitor<'a> {
    fn stmt(&mut self, _s: &'a Stmt, _scope: &Scope<'a>) {}
    fn expr(&mut self, _e: &'a Expr, _scope: &Scope<'a>) {}
}

pub fn walk_scoped<'a>(body: &'a [Stmt], v: &mut dyn ScopedVisitor<'a>) {
    struct W<'a, 'v> {
        v: &'v mut dyn ScopedVisitor<'a>,
        scope: Scope<'a>,
    }
    impl<'a> Visitor<'a> for W<'a, '_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            self.v.stmt(s, &self.scope);
            match s {
                Stmt::FunctionDef(ast::StmtFunctionDef { name, decorator_list, args, returns, body, .. })
                | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef {
                    name, decorator_list, args, returns, body, ..
                }) => {
                    decorator_list.iter().for_each(|d| self.visit_expr(d));
                    self.visit_arguments(args);
                    if let Some(r) = returns {
                        self.visit_expr(r);
                    }
                    let saved = self.scope.clone();
                    self.scope.defs.push(Def {
                        name: name.as_str(),
                        is_async: matches!(s, Stmt::AsyncFunctionDef(_)),
                        start: s.range().start(),
                        method: saved.in_class_body,
                    });
                    self.scope.loops = 0;
                    self.scope.in_lambda = false;
                    self.scope.in_class_body = false;
                    self.visit_body(body);
                    self.scope = saved;
                }
                Stmt::ClassDef(c) => {
                    c.decorator_list.iter().for_each(|d| self.visit_expr(d));
                    c.bases.iter().for_each(|d| self.visit_expr(d));
                    c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
                    let saved = self.scope.clone();
                    self.scope.in_class_body = true;
                    self.scope.loops = 0;
                    self.visit_body(&c.body);
                    self.scope = saved;
                }
                Stmt::For(ast::StmtFor { target, iter, body, orelse, .. })
                | Stmt::AsyncFor(ast::StmtAsyncFor { target, iter, body, orelse, .. }) => {
                    self.visit_expr(iter);
                    self.visit_expr(target);
                    self.scope.loops += 1;
                    self.visit_body(body);
                    self.scope.loops -= 1;
                    self.visit_body(orelse);
                }
                Stmt::While(w) => {
                    self.scope.loops += 1;
                    self.visit_expr(&w.test);
                    self.visit_body(&w.body);
                    self.scope.loops -= 1;
                    self.visit_body(&w.orelse);
                }
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            self.v.expr(e, &self.scope);
            if let Expr::Lambda(l) = e {
                self.visit_arguments(&l.args);
                let saved = self.scope.in_lambda;
                self.scope.in_lambda = true;
                self.visit_expr(&l.body);
                self.scope.in_lambda = saved;
            } else {
                walk_expr(self, e);
            }
        }
    }
    W { v, scope: Scope::default() }.visit_body(body);
}

/// The dotted module name of a file from the package layout: the parent
/// directories that hold an `__init__.py` are its packages.
pub fn module_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let mut parts = if stem == "__init__" { vec![] } else { vec![stem] };
    let mut dir = path.parent();
    while let Some(d) = dir {
        let Some(n) = d.file_name() else { break };
        if !d.join("__init__.py").is_file() {
            break;
        }
        parts.insert(0, n.to_string_lossy().to_string());
        dir = d.parent();
    }
    parts.join(".")
}

/// Module-level `from .x import y` (and `from . import x`) bindings, as
/// absolute names.
fn relative_imports(body: &[Stmt], module: &str, is_package: bool) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut package: Vec<&str> = module.split('.').filter(|p| !p.is_empty()).collect();
    if !is_package {
        package.pop();
    }
    for s in body {
        let Stmt::ImportFrom(i) = s else { continue };
        let level = i.level.map(|l| l.to_u32()).unwrap_or(0) as usize;
        if level == 0 || level - 1 > package.len() {
            continue;
        }
        let mut base: Vec<String> = package[..package.len() - (level - 1)].iter().map(|s| s.to_string()).collect();
        if let Some(m) = &i.module {
            base.push(m.to_string());
        }
        for a in &i.names {
            if a.name.as_str() == "*" {
                continue;
            }
            let local = a.asname.as_ref().unwrap_or(&a.name).to_string();
            let mut full = base.clone();
            full.push(a.name.to_string());
            out.insert(local, full.join("."));
        }
    }
    out
}

/// Ruff's flake8-async rules and the AWT rule that reports the same hazard:
/// `# noqa: <ruff code>` on a line suppresses that AWT rule there too.
/// ASYNC100, 109, 110, 115 and 116 report hazards no AWT rule reports.
pub const RUFF_EQUIVALENTS: &[(&str, &str)] = &[
    ("ASYNC105", "AWT201"),
    ("ASYNC210", "AWT101"),
    ("ASYNC212", "AWT101"),
    ("ASYNC220", "AWT101"),
    ("ASYNC221", "AWT101"),
    ("ASYNC222", "AWT101"),
    ("ASYNC230", "AWT101"),
    ("ASYNC251", "AWT101"),
];

/// Suppressions of one file: line -> codes (empty: every code).
fn suppressions(text: &str) -> HashMap<usize, Vec<String>> {
    let mut out: HashMap<usize, Vec<String>> = HashMap::new();
    if !text.contains("awaitify:") && !text.contains("noqa") {
        return out;
    }
    let index = LineIndex::new(text);
    for (start, c) in crate::syntax::parse::comments(text) {
        // Ruff's `# noqa: ASYNC210, ...`: the AWT rule reporting the same
        // hazard (RUFF_EQUIVALENTS) is quiet on that line too.
        if let Some(at) = c.find("noqa:") {
            let line = index.line_col(start).0;
            for code in c[at + "noqa:".len()..].split([',', ' ']).map(str::trim).filter(|x| !x.is_empty()) {
                if let Some((_, awt)) = RUFF_EQUIVALENTS.iter().find(|(ruff, _)| *ruff == code) {
                    out.entry(line).or_default().push(awt.to_string());
                }
            }
        }
        let Some(at) = c.find("awaitify:") else { continue };
        let rest = c[at + "awaitify:".len()..].trim_start();
        let Some(rest) = rest.strip_prefix("ignore") else { continue };
        let line = index.line_col(start).0;
        let codes: Vec<String> = match rest.strip_prefix('[').and_then(|x| x.split_once(']')) {
            Some((list, _)) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            None => vec![],
        };
        let entry = out.entry(line).or_default();
        if codes.is_empty() {
            entry.clear();
            entry.push("*".into());
        } else {
            entry.extend(codes);
        }
    }
    out
}

#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub tables: Tables,
    /// Only these codes (empty: all).
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    /// (glob, codes): codes ignored in files whose path matches.
    pub per_file_ignores: Vec<(globset::GlobMatcher, Vec<String>)>,
}

impl CheckOptions {
    fn enabled(&self, code: &str) -> bool {
        let sel = |list: &[String]| list.iter().any(|c| code.starts_with(c.as_str()));
        (self.select.is_empty() || sel(&self.select)) && !sel(&self.ignore)
    }
}

/// A file that could not be checked.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckError {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub files: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<CheckError>,
}

struct Parsed {
    display: String,
    name: String,
    is_package: bool,
    text: String,
    body: Vec<Stmt>,
}

/// Checks files, as one project (cross-module facts come from all of them).
pub fn check_files(files: &[PathBuf], opts: &CheckOptions, threads: Option<usize>) -> Report {
    crate::run::pool(threads).install(|| {
        let parsed: Vec<Result<Parsed, CheckError>> = files
            .par_iter()
            .with_max_len(1)
            .map(|p| {
                let display = p.to_string_lossy().to_string();
                let err = |message: String| CheckError { path: display.clone(), message };
                let bytes = std::fs::read(p).map_err(|e| err(format!("cannot read: {e}")))?;
                let d = crate::source::decode(&bytes).map_err(err)?;
                let body = crate::engine::parse(&d.text, &display).map_err(|e| err(e.to_string()))?;
                Ok(Parsed {
                    name: module_name(p),
                    is_package: p.file_stem().is_some_and(|s| s == "__init__"),
                    display,
                    text: d.text,
                    body,
                })
            })
            .collect();
        let mut sources = vec![];
        let mut errors = vec![];
        for p in parsed {
            match p {
                Ok(p) => sources.push((p.display, p.name, p.is_package, p.text, p.body)),
                Err(e) => errors.push(e),
            }
        }
        let mut report = check_sources(&sources, opts);
        report.errors.extend(errors);
        report.errors.sort_by(|a, b| a.path.cmp(&b.path));
        report.files = files.len();
        report
    })
}

/// Checks parsed modules: (display path, module name, is a package's
/// `__init__`, text, body).
pub fn check_sources(modules: &[(String, String, bool, String, Vec<Stmt>)], opts: &CheckOptions) -> Report {
    // The analysis and seeds as `convert` makes them (engine::candidates):
    // the cheap analysis, completed with typed parameters where a pass has
    // seeds, so both see the same calls.
    let seeds_of = |text: &str, body: &[Stmt], info: &ModuleInfo| -> Vec<Seed> {
        let mut sink = vec![];
        passes::registry()
            .iter()
            .filter(|p| p.interested(text, &opts.tables))
            .flat_map(|p| p.seeds(body, info, &opts.tables, &mut sink))
            .collect()
    };
    let analysed: Vec<(ModuleInfo, Vec<Seed>)> = modules
        .par_iter()
        .map(|(_, _, _, text, body)| {
            let info = analysis::analyse_fast(body);
            let seeds = seeds_of(text, body, &info);
            if seeds.is_empty() {
                return (info, seeds);
            }
            let info = analysis::refine(body, info);
            let seeds = seeds_of(text, body, &info);
            (info, seeds)
        })
        .collect();
    let (infos, seeds): (Vec<ModuleInfo>, Vec<Vec<Seed>>) = analysed.into_iter().unzip();
    let mut project = Project::default();
    for ((display, name, _, text, _), info) in modules.iter().zip(&infos) {
        let index = LineIndex::new(text);
        for f in info.funcs.iter().filter(|f| f.exported && f.is_async && !f.generator) {
            let q = match f.class {
                Some(c) => format!("{name}.{}.{}", info.classes[c].name, f.name),
                None => format!("{name}.{}", f.name),
            };
            let (l, c) = index.line_col(f.range.start());
            project.coroutines.entry(q).or_insert_with(|| format!("{display}:{l}:{c}"));
        }
        for c in &info.classes {
            if info.funcs.iter().any(|f| f.class.is_some_and(|k| info.classes[k].name == c.name) && f.exported) {
                project.classes.insert(format!("{name}.{}", c.name));
            }
        }
    }
    let per_module: Vec<Vec<Finding>> = modules
        .par_iter()
        .zip(infos.par_iter().zip(seeds.par_iter()))
        .map(|((display, name, is_package, text, body), (info, seeds))| {
            let relative = relative_imports(body, name, *is_package);
            let index = LineIndex::new(text);
            let mut m = Module {
                instances: HashMap::new(),
                locals: HashSet::new(),
                local_imports: HashMap::new(),
                index: &index,
                path: display,
                name,
                text,
                body,
                info,
                tables: &opts.tables,
                project: &project,
                seeds,
                relative: &relative,
            };
            m.locals = m.find_locals();
            m.local_imports = m.find_local_imports(*is_package);
            m.instances = m.find_instances();
            check_module(&m, opts)
        })
        .collect();
    Report { files: modules.len(), findings: per_module.into_iter().flatten().collect(), errors: vec![] }
}

/// Runs every enabled rule on one module, minus what is suppressed.
pub fn check_module(m: &Module, opts: &CheckOptions) -> Vec<Finding> {
    let file_ignored: BTreeSet<&str> = opts
        .per_file_ignores
        .iter()
        .filter(|(g, _)| g.is_match(m.path) || g.is_match(m.path.strip_prefix("./").unwrap_or(m.path)))
        .flat_map(|(_, codes)| codes.iter().map(|c| c.as_str()))
        .collect();
    let quiet = suppressions(m.text);
    let index = m.index;
    let mut out: BTreeMap<(usize, usize, &str), Finding> = BTreeMap::new();
    for rule in rules::registry() {
        let code = rule.code();
        if !opts.enabled(code) || file_ignored.iter().any(|c| code.starts_with(c)) {
            continue;
        }
        let mut hits = vec![];
        rule.check(m, &mut hits);
        for h in hits {
            let (line, col) = index.line_col(h.offset);
            if quiet.get(&line).is_some_and(|codes| codes.iter().any(|c| c == "*" || code.starts_with(c.as_str()))) {
                continue;
            }
            out.entry((line, col, code)).or_insert(Finding {
                path: m.path.to_string(),
                line,
                col,
                code,
                message: h.message,
                fix: h.fix,
            });
        }
    }
    out.into_values().collect()
}
