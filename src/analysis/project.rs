//! The project: every module of one run, by its dotted name, with what each
//! declares at module level (functions, classes and their methods, the names
//! it imports). The analysis of a module resolves the names it imports from
//! other modules of the project through this index, so a call of
//! `client.fetch` in `cli.py` is a call of the function `fetch` of
//! `client.py` (see [`Env`] and `ModuleInfo::funcs`' foreign entries).

use crate::syntax::dotted_name;
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A function of the project: its module and the start of its `def`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlobalFn {
    pub module: usize,
    pub start: u32,
}

/// The dotted name a file is imported by, from its package layout: the
/// directories above it that hold an `__init__.py` make the package path
/// (`src/` layouts work the same: `src` itself has none). `__init__.py` is
/// its package. Also whether the file is a package (`__init__.py`), which
/// relative imports need.
pub fn module_name(path: &Path) -> (String, bool) {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut parts = vec![];
    let package = stem == "__init__";
    if !package {
        parts.push(stem);
    }
    let mut dir = abs.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        if !d.join("__init__.py").is_file() {
            break;
        }
        match d.file_name() {
            Some(n) => parts.push(n.to_string_lossy().to_string()),
            None => break,
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    parts.reverse();
    (parts.join("."), package)
}

/// The absolute module an import names, from the importing module:
/// `from ..a import b` in `pkg.sub.mod` is `pkg.a`.
pub fn absolute(module: &str, package: bool, level: u32, name: &str) -> Option<String> {
    if level == 0 {
        return Some(name.to_string());
    }
    let mut parts: Vec<&str> = module.split('.').filter(|p| !p.is_empty()).collect();
    // A module's own package is its name without the last part.
    let up = if package { level - 1 } else { level } as usize;
    if up > parts.len() {
        return None;
    }
    parts.truncate(parts.len() - up);
    if !name.is_empty() {
        parts.push(name);
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

#[derive(Debug, Clone)]
pub struct FuncDecl {
    pub name: String,
    pub start: u32,
    pub is_async: bool,
    pub generator: bool,
    pub staticmethod: bool,
    pub classmethod: bool,
    pub params: Vec<String>,
    pub kwonly: Vec<String>,
    /// Decorators: the dotted name, and whether it is called (`@retry(3)`).
    pub decorators: Vec<(String, bool)>,
    /// A wrapping decorator (see `analysis::wrapping_kind`): whether it is
    /// a factory (`@retry(3)`) or used bare (`@retry`).
    pub wrapping: Option<bool>,
    /// A pytest fixture: the class of the object it returns or yields, as
    /// written in its module (`return Inventory(p)`, `x = K(...); yield x`,
    /// `-> K`), if one class is sure.
    pub fixture: Option<Option<String>>,
}

/// The class a fixture's body surely returns (or yields), as written.
fn fixture_class(body: &[Stmt], returns: Option<&Expr>) -> Option<String> {
    use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
    if let Some(t) = returns {
        let t = strip_optional(t);
        if matches!(t, Expr::Name(_) | Expr::Attribute(_)) {
            return dotted_name(t);
        }
    }
    // Locals bound once, to a call.
    struct R<'b> {
        out: Vec<&'b Expr>,
        bound: HashMap<String, Vec<Option<String>>>,
    }
    impl<'a> Visitor<'a> for R<'a> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Return(r) => {
                    if let Some(v) = &r.value {
                        self.out.push(v);
                    }
                }
                Stmt::Assign(a) => {
                    for t in &a.targets {
                        if let Expr::Name(n) = t {
                            let class = match &*a.value {
                                Expr::Call(c) => dotted_name(&c.func),
                                _ => None,
                            };
                            self.bound.entry(n.id.to_string()).or_default().push(class);
                        }
                    }
                    walk_stmt(self, s);
                }
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Yield(y) => {
                    if let Some(v) = &y.value {
                        self.out.push(v);
                    }
                }
                Expr::Lambda(_) | Expr::GeneratorExp(_) => {}
                _ => walk_expr(self, e),
            }
        }
    }
    let mut r = R { out: vec![], bound: HashMap::new() };
    r.visit_body(body);
    let R { out, bound } = r;
    let mut class: Option<String> = None;
    for v in out {
        let k = match v {
            Expr::Call(c) => dotted_name(&c.func)?,
            Expr::Name(n) => match bound.get(n.id.as_str()).map(Vec::as_slice) {
                Some([Some(k)]) => k.clone(),
                _ => return None,
            },
            _ => return None,
        };
        if class.as_ref().is_some_and(|c| *c != k) {
            return None;
        }
        class = Some(k);
    }
    class
}

#[derive(Debug, Clone)]
pub struct ClassDecl {
    pub name: String,
    pub start: u32,
    /// Bases as written (dotted).
    pub bases: Vec<String>,
    pub methods: Vec<FuncDecl>,
}

#[derive(Debug, Clone)]
pub enum Decl {
    Func(FuncDecl),
    Class(usize),
    /// `import a.b as x` / `from a import b as x`: the absolute name.
    Alias(String),
}

/// What one module declares at module level.
#[derive(Debug, Clone, Default)]
pub struct ModDecl {
    pub name: String,
    pub package: bool,
    /// Names bound once at module level, by a def, a class or an import.
    pub names: BTreeMap<String, Decl>,
    pub classes: Vec<ClassDecl>,
    /// `from m import *`: the absolute module and where.
    pub star: Vec<(String, u32)>,
    /// Every module (or module member) an import statement names, at any
    /// depth, absolute and dotted in full (`import pkg.cli` -> `pkg.cli`;
    /// `def g(): from .a import f` -> `pkg.a.f`): the edges of the import
    /// graph.
    pub imports: Vec<String>,
}

/// See [`ModDecl::imports`].
fn all_imports(name: &str, package: bool, body: &[Stmt]) -> Vec<String> {
    use crate::syntax::visit::{Visitor, walk_stmt};
    struct I<'n> {
        name: &'n str,
        package: bool,
        out: Vec<String>,
    }
    impl<'a> Visitor<'a> for I<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::Import(i) => self.out.extend(i.names.iter().map(|a| a.name.to_string())),
                Stmt::ImportFrom(i) => {
                    let level = i.level.map(|l| l.to_u32()).unwrap_or(0);
                    let module = i.module.as_ref().map(|x| x.to_string()).unwrap_or_default();
                    if let Some(base) = absolute(self.name, self.package, level, &module) {
                        for a in &i.names {
                            if a.name.as_str() != "*" {
                                self.out.push(format!("{base}.{}", a.name));
                            }
                        }
                        self.out.push(base);
                    }
                }
                _ => walk_stmt(self, s),
            }
        }
    }
    let mut v = I { name, package, out: vec![] };
    v.visit_body(body);
    v.out.sort();
    v.out.dedup();
    v.out
}

fn func_decl(s: &Stmt) -> Option<FuncDecl> {
    let (name, args, decos, body, is_async) = match s {
        Stmt::FunctionDef(f) => (&f.name, &f.args, &f.decorator_list, &f.body, false),
        Stmt::AsyncFunctionDef(f) => (&f.name, &f.args, &f.decorator_list, &f.body, true),
        _ => return None,
    };
    let deco = |n: &str| decos.iter().any(|d| dotted_name(d).is_some_and(|x| x == n));
    let returns = match s {
        Stmt::FunctionDef(f) => f.returns.as_deref(),
        Stmt::AsyncFunctionDef(f) => f.returns.as_deref(),
        _ => None,
    };
    let is_fixture = decos.iter().any(|d| {
        let f = match d {
            Expr::Call(c) => &*c.func,
            e => e,
        };
        dotted_name(f).is_some_and(|n| n == "fixture" || n.ends_with(".fixture"))
    });
    let fixture = is_fixture.then(|| fixture_class(body, returns));
    let decorators = decos
        .iter()
        .map(|d| match d {
            Expr::Call(c) => (dotted_name(&c.func).unwrap_or_default(), true),
            e => (dotted_name(e).unwrap_or_default(), false),
        })
        .collect();
    let wrapping = match s {
        Stmt::FunctionDef(f) => super::wrapping_kind(f),
        _ => None,
    };
    Some(FuncDecl {
        decorators,
        wrapping,
        fixture,
        name: name.to_string(),
        start: s.range().start().into(),
        is_async,
        generator: super::is_generator(body),
        staticmethod: deco("staticmethod"),
        classmethod: deco("classmethod"),
        params: args.posonlyargs.iter().chain(&args.args).map(|a| a.def.arg.to_string()).collect(),
        kwonly: args.kwonlyargs.iter().map(|a| a.def.arg.to_string()).collect(),
    })
}

/// The module-level declarations of a parsed module.
pub fn declare(name: &str, package: bool, body: &[Stmt]) -> ModDecl {
    let mut m =
        ModDecl { name: name.to_string(), package, imports: all_imports(name, package, body), ..Default::default() };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut found: Vec<(String, Decl)> = vec![];
    fn walk(m: &mut ModDecl, body: &[Stmt], found: &mut Vec<(String, Decl)>) {
        for s in body {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) => {
                    let f = func_decl(s).expect("a def");
                    found.push((f.name.clone(), Decl::Func(f)));
                }
                Stmt::ClassDef(c) => {
                    let methods = c.body.iter().filter_map(func_decl).collect();
                    m.classes.push(ClassDecl {
                        name: c.name.to_string(),
                        start: s.range().start().into(),
                        bases: c.bases.iter().map(|b| dotted_name(b).unwrap_or_else(|| "<expr>".into())).collect(),
                        methods,
                    });
                    found.push((c.name.to_string(), Decl::Class(m.classes.len() - 1)));
                }
                Stmt::Import(i) => {
                    for a in &i.names {
                        match &a.asname {
                            Some(n) => found.push((n.to_string(), Decl::Alias(a.name.to_string()))),
                            None => {
                                let first = a.name.split('.').next().unwrap_or_default().to_string();
                                found.push((first.clone(), Decl::Alias(first)));
                            }
                        }
                    }
                }
                Stmt::ImportFrom(i) => {
                    let level = i.level.map(|l| l.to_u32()).unwrap_or(0);
                    let module = i.module.as_ref().map(|x| x.to_string()).unwrap_or_default();
                    let Some(base) = absolute(&m.name, m.package, level, &module) else { continue };
                    for a in &i.names {
                        if a.name.as_str() == "*" {
                            m.star.push((base.clone(), s.range().start().into()));
                            continue;
                        }
                        let local = a.asname.as_ref().unwrap_or(&a.name).to_string();
                        found.push((local, Decl::Alias(format!("{base}.{}", a.name))));
                    }
                }
                Stmt::If(_) | Stmt::Try(_) | Stmt::TryStar(_) => {
                    for b in crate::syntax::blocks(s) {
                        walk(m, b, found);
                    }
                }
                // Any other binding of a name makes it ambiguous.
                _ => {
                    for n in super::scope::collect(std::slice::from_ref(s)).names.into_keys() {
                        found.push((n, Decl::Alias(String::new())));
                    }
                }
            }
        }
    }
    walk(&mut m, body, &mut found);
    for (n, _) in &found {
        *seen.entry(n.clone()).or_default() += 1;
    }
    for (n, d) in found {
        if seen[&n] == 1 && !matches!(&d, Decl::Alias(a) if a.is_empty()) {
            m.names.insert(n, d);
        }
    }
    m
}

/// What a qualified name means in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Module(usize),
    Func(usize, u32),
    /// A module-level class: (module, index in `ModDecl::classes`).
    Class(usize, usize),
}

/// Every module of the run.
#[derive(Debug, Default)]
pub struct ProjectIndex {
    pub modules: Vec<ModDecl>,
    pub by_name: HashMap<String, usize>,
    funcs: HashMap<GlobalFn, FuncDecl>,
    /// Wrapping decorators -> the functions of any module they decorate
    /// (with no other decorator but `staticmethod`, `classmethod`).
    pub decorated: BTreeMap<GlobalFn, Vec<GlobalFn>>,
    /// pytest fixtures by name: their module and the project class of what
    /// they return (None: not known).
    pub fixtures: HashMap<String, Vec<Fixture>>,
}

/// A fixture's module, and the project class (module, class) of its value.
pub type Fixture = (usize, Option<(usize, usize)>);

impl ProjectIndex {
    pub fn new(modules: Vec<ModDecl>) -> ProjectIndex {
        let mut by_name = HashMap::new();
        for (i, m) in modules.iter().enumerate() {
            // Two files with one module name (scripts in separate folders):
            // neither is reachable by that name.
            if by_name.insert(m.name.clone(), i).is_some() {
                by_name.insert(m.name.clone(), usize::MAX);
            }
        }
        by_name.retain(|_, v| *v != usize::MAX);
        let mut funcs = HashMap::new();
        for (i, m) in modules.iter().enumerate() {
            let own = m.names.values().filter_map(|d| match d {
                Decl::Func(f) => Some(f),
                _ => None,
            });
            for f in own.chain(m.classes.iter().flat_map(|c| &c.methods)) {
                funcs.insert(GlobalFn { module: i, start: f.start }, f.clone());
            }
        }
        let mut index = ProjectIndex { modules, by_name, funcs, decorated: BTreeMap::new(), fixtures: HashMap::new() };
        let mut decorated: BTreeMap<GlobalFn, Vec<GlobalFn>> = BTreeMap::new();
        for (m, md) in index.modules.iter().enumerate() {
            let own = md.names.values().filter_map(|d| match d {
                Decl::Func(f) => Some(f),
                _ => None,
            });
            for f in own.chain(md.classes.iter().flat_map(|c| &c.methods)) {
                let mut wrappers = vec![];
                let mut others = false;
                for (name, called) in &f.decorators {
                    match index.resolve_func(m, name) {
                        Some(g) if index.funcs.get(&g).and_then(|d| d.wrapping) == Some(*called) => wrappers.push(g),
                        _ if super::SAFE_DECORATORS.contains(&name.as_str()) => {}
                        _ => others = true,
                    }
                }
                if let [w] = wrappers[..]
                    && !others
                {
                    decorated.entry(w).or_default().push(GlobalFn { module: m, start: f.start });
                }
            }
        }
        index.decorated = decorated;
        let mut fixtures: HashMap<String, Vec<Fixture>> = HashMap::new();
        for (m, md) in index.modules.iter().enumerate() {
            for (n, d) in &md.names {
                if let Decl::Func(f) = d
                    && let Some(class) = &f.fixture
                {
                    let resolved = class.as_deref().and_then(|k| index.base_class(m, k));
                    fixtures.entry(n.clone()).or_default().push((m, resolved));
                }
            }
        }
        index.fixtures = fixtures;
        index
    }

    /// The project function a (dotted) name of module `m` names.
    /// The first other module that imports `name` of module `m`, or the
    /// module itself (`import m`, `import pkg` of its package, `from m
    /// import *`): code there may call it.
    pub fn importer_of(&self, m: usize, name: &str) -> Option<&str> {
        let own = self.modules.get(m)?.name.as_str();
        let func = format!("{own}.{name}");
        let reaches = |a: &str| a == func || a == own || own.strip_prefix(a).is_some_and(|r| r.starts_with('.'));
        self.modules.iter().enumerate().filter(|(i, _)| *i != m).find_map(|(_, md)| {
            let by_alias = md.names.values().any(|d| matches!(d, Decl::Alias(a) if reaches(a)));
            let by_star = md.star.iter().any(|(s, _)| s == own);
            (by_alias || by_star).then_some(md.name.as_str())
        })
    }
    pub fn resolve_func(&self, m: usize, written: &str) -> Option<GlobalFn> {
        let md = &self.modules[m];
        let (first, rest) = match written.split_once('.') {
            Some((f, r)) => (f, Some(r)),
            None => (written, None),
        };
        let item = match (md.names.get(first)?, rest) {
            (Decl::Func(f), None) => return Some(GlobalFn { module: m, start: f.start }),
            (Decl::Alias(a), None) => self.lookup(a)?,
            (Decl::Alias(a), Some(r)) => self.lookup(&format!("{a}.{r}"))?,
            _ => return None,
        };
        match item {
            Item::Func(fm, start) => Some(GlobalFn { module: fm, start }),
            _ => None,
        }
    }

    /// The project class a test parameter named like a fixture holds: the
    /// fixtures of that name that module `m` can see (its own, and those of
    /// the `conftest` modules of its package and the packages above) must
    /// all return instances of one class.
    pub fn fixture_class(&self, m: usize, name: &str) -> Option<(usize, usize)> {
        let mine = &self.modules[m].name;
        let package = |n: &str| n.rsplit_once('.').map_or(String::new(), |(p, _)| p.to_string());
        let here = package(mine);
        let visible: Vec<&Fixture> = self
            .fixtures
            .get(name)?
            .iter()
            .filter(|(fm, _)| {
                let theirs = &self.modules[*fm].name;
                *fm == m
                    || (theirs.rsplit('.').next() == Some("conftest") && {
                        let p = package(theirs);
                        p.is_empty() || here == p || here.starts_with(&format!("{p}."))
                    })
            })
            .collect();
        let first = visible.first()?.1?;
        visible.iter().all(|(_, c)| *c == Some(first)).then_some(first)
    }

    /// Whether a function is decorated by a wrapping decorator of the
    /// project (its decorator does not make it a boundary).
    pub fn wrapped(&self, g: GlobalFn) -> bool {
        self.decorated.values().any(|v| v.contains(&g))
    }

    /// What `qual` (absolute, dotted) names, following re-exports.
    pub fn lookup(&self, qual: &str) -> Option<Item> {
        self.lookup_depth(qual, 0)
    }

    fn lookup_depth(&self, qual: &str, depth: usize) -> Option<Item> {
        if depth > 16 {
            return None;
        }
        if let Some(&m) = self.by_name.get(qual) {
            return Some(Item::Module(m));
        }
        let (head, last) = qual.rsplit_once('.')?;
        match self.lookup_depth(head, depth + 1)? {
            Item::Module(m) => self.member(m, last, depth),
            Item::Class(..) | Item::Func(..) => None,
        }
    }

    /// A name of module `m`: its def, class, a re-exported import, or a
    /// submodule.
    pub fn member(&self, m: usize, name: &str, depth: usize) -> Option<Item> {
        let md = &self.modules[m];
        match md.names.get(name) {
            Some(Decl::Func(f)) => Some(Item::Func(m, f.start)),
            Some(Decl::Class(c)) => Some(Item::Class(m, *c)),
            Some(Decl::Alias(a)) => self.lookup_depth(a, depth + 1),
            None => self.by_name.get(&format!("{}.{name}", md.name)).map(|&s| Item::Module(s)),
        }
    }

    pub fn func(&self, g: GlobalFn) -> Option<&FuncDecl> {
        self.funcs.get(&g)
    }

    /// The project class a base (as written in module `m`) names.
    pub fn base_class(&self, m: usize, written: &str) -> Option<(usize, usize)> {
        let md = &self.modules[m];
        let (first, rest) = match written.split_once('.') {
            Some((f, r)) => (f, Some(r)),
            None => (written, None),
        };
        let item = match (md.names.get(first)?, rest) {
            (Decl::Class(c), None) => Item::Class(m, *c),
            (Decl::Alias(a), None) => self.lookup(a)?,
            (Decl::Alias(a), Some(r)) => self.lookup(&format!("{a}.{r}"))?,
            _ => return None,
        };
        match item {
            Item::Class(cm, c) => Some((cm, c)),
            _ => None,
        }
    }

    /// A class's methods with those it inherits from project bases (nearest
    /// first), and the first base outside the project, if any.
    pub fn methods(&self, m: usize, c: usize) -> (Vec<(usize, FuncDecl)>, Option<String>) {
        let mut out: Vec<(usize, FuncDecl)> = vec![];
        let mut external = None;
        let mut stack = vec![(m, c, 0usize)];
        let mut seen = vec![];
        while let Some((m, c, depth)) = stack.pop() {
            if seen.contains(&(m, c)) || depth > 16 {
                continue;
            }
            seen.push((m, c));
            let cd = &self.modules[m].classes[c];
            for f in &cd.methods {
                if !out.iter().any(|(_, g)| g.name == f.name) {
                    out.push((m, f.clone()));
                }
            }
            for b in cd.bases.iter().rev() {
                if super::SAFE_BASES.contains(&b.as_str()) {
                    continue;
                }
                match self.base_class(m, b) {
                    Some((bm, bc)) => stack.push((bm, bc, depth + 1)),
                    None => {
                        external.get_or_insert_with(|| b.clone());
                    }
                }
            }
        }
        (out, external)
    }

    /// Names a module's `from x import *` pulls from project modules.
    pub fn star_names(&self, m: usize) -> Vec<(String, u32, String)> {
        let mut out = vec![];
        for (module, at) in &self.modules[m].star {
            if let Some(&s) = self.by_name.get(module) {
                for n in self.modules[s].names.keys() {
                    if !n.starts_with('_') {
                        out.push((n.clone(), *at, module.clone()));
                    }
                }
            }
        }
        out
    }
}

/// One module's view of the project, for its analysis.
#[derive(Clone, Copy)]
pub struct Env<'p> {
    pub index: &'p ProjectIndex,
    pub module: usize,
}

/// `K | None`, `None | K`, `Optional[K]` -> `K`.
pub fn strip_optional(t: &Expr) -> &Expr {
    let none = |e: &Expr| matches!(e, Expr::Constant(c) if matches!(c.value, ast::Constant::None));
    match t {
        Expr::BinOp(b) if matches!(b.op, ast::Operator::BitOr) && none(&b.right) => strip_optional(&b.left),
        Expr::BinOp(b) if matches!(b.op, ast::Operator::BitOr) && none(&b.left) => strip_optional(&b.right),
        Expr::Subscript(s) if dotted_name(&s.value).is_some_and(|n| n == "Optional" || n == "typing.Optional") => {
            strip_optional(&s.slice)
        }
        e => e,
    }
}

/// `self.x = K(...)` in a class's methods: attributes surely holding an
/// instance of one class (named as written), assigned nowhere else; or
/// declared `self.x: K = ...` (the annotation wins over the assignments,
/// which may hold subclasses).
pub fn instance_attrs(class: &ast::StmtClassDef) -> HashMap<String, String> {
    use crate::syntax::visit::{Visitor, walk_stmt};
    struct A {
        found: HashMap<String, Vec<Option<String>>>,
        declared: HashMap<String, Vec<Option<String>>>,
        /// The annotated parameters of the method being walked.
        params: Vec<HashMap<String, String>>,
    }
    impl<'a> Visitor<'a> for A {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            let args = match s {
                Stmt::FunctionDef(f) => Some(&f.args),
                Stmt::AsyncFunctionDef(f) => Some(&f.args),
                _ => None,
            };
            if let Some(args) = args {
                let annotated = args
                    .posonlyargs
                    .iter()
                    .chain(&args.args)
                    .chain(&args.kwonlyargs)
                    .filter_map(|a| {
                        let t = strip_optional(a.def.annotation.as_deref()?);
                        matches!(t, Expr::Name(_) | Expr::Attribute(_))
                            .then(|| dotted_name(t))
                            .flatten()
                            .map(|c| (a.def.arg.to_string(), c))
                    })
                    .collect();
                self.params.push(annotated);
                walk_stmt(self, s);
                self.params.pop();
                return;
            }
            if let Stmt::AnnAssign(a) = s
                && let Expr::Attribute(at) = &*a.target
                && matches!(&*at.value, Expr::Name(n) if n.id.as_str() == "self")
            {
                let t = strip_optional(&a.annotation);
                let class = match t {
                    Expr::Name(_) | Expr::Attribute(_) => dotted_name(t),
                    _ => None,
                };
                self.declared.entry(at.attr.to_string()).or_default().push(class);
            }
            let mut targets: Vec<(&Expr, Option<&Expr>)> = vec![];
            match s {
                Stmt::Assign(a) => targets.extend(a.targets.iter().map(|t| (t, Some(&*a.value)))),
                Stmt::AnnAssign(a) => targets.push((&a.target, a.value.as_deref())),
                Stmt::AugAssign(a) => targets.push((&a.target, None)),
                _ => {}
            }
            for (t, v) in targets {
                if let Expr::Attribute(at) = t
                    && matches!(&*at.value, Expr::Name(n) if n.id.as_str() == "self")
                {
                    let class = match v {
                        Some(Expr::Call(c)) => dotted_name(&c.func),
                        // `self.conn = conn` with `conn: Connection`.
                        Some(Expr::Name(n)) => self.params.last().and_then(|p| p.get(n.id.as_str()).cloned()),
                        _ => None,
                    };
                    self.found.entry(at.attr.to_string()).or_default().push(class);
                }
            }
            walk_stmt(self, s);
        }
    }
    let mut a = A { found: HashMap::new(), declared: HashMap::new(), params: vec![] };
    a.visit_body(&class.body);
    let agree = |v: &Vec<Option<String>>| {
        let first = v.first().cloned().flatten()?;
        v.iter().all(|x| x.as_deref() == Some(first.as_str())).then_some(first)
    };
    let mut out: HashMap<String, String> = HashMap::new();
    for (k, v) in &a.found {
        if a.declared.contains_key(k) {
            continue;
        }
        if let Some(c) = agree(v) {
            out.insert(k.clone(), c);
        }
    }
    for (k, v) in &a.declared {
        if let Some(c) = agree(v) {
            out.insert(k.clone(), c);
        }
    }
    out
}
