//! Module analysis: functions, classes, call sites and what each call
//! resolves to. The async colouring ([`colour`]) runs on these facts.

pub mod colour;
pub mod project;
pub mod scope;

use crate::syntax::dotted_name;
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};
use scope::{Binding, Bindings};
use std::collections::{HashMap, HashSet};

pub type FuncId = usize;
pub type ClassId = usize;

#[derive(Debug)]
pub struct FuncInfo {
    pub name: String,
    /// Range of the def statement (from `def`/`async`).
    pub range: TextRange,
    pub class: Option<ClassId>,
    pub is_async: bool,
    /// Why this function can never become async, if it cannot.
    pub boundary: Option<String>,
    /// staticmethod: no self parameter.
    pub self_name: Option<String>,
    /// Defined at module level or directly in a module-level class, so other
    /// modules can reach it.
    pub exported: bool,
    /// Positional parameter names (with `self`), then keyword-only ones.
    pub params: Vec<String>,
    pub kwonly: Vec<String>,
    /// A class method whose every `return` is `cls(...)`: a factory.
    pub factory: bool,
    /// Contains `yield`: becomes an async generator, not a coroutine.
    pub generator: bool,
    /// A function of another module of the project, called or referenced
    /// here (its range is a placeholder past the end of the text; it has no
    /// body here and never becomes `async def` here).
    pub foreign: Option<project::GlobalFn>,
    /// A foreign function that becomes async in its own module (set by
    /// each round of the project's colouring).
    pub became_async: bool,
    /// Must become async whatever its boundaries: a user rule says so
    /// (`async_def`, set by the `rules` pass in `Pass::prepare`). The
    /// colouring treats it as seeded and never removes it; its callers
    /// follow the normal rules.
    pub forced: bool,
    /// An installed command's entry point (`[project.scripts]`,
    /// `console_scripts`), with where it is declared: code the tool does not
    /// convert calls it synchronously, so when its body becomes async it
    /// becomes a sync shell that runs an async twin (see the `colour`
    /// pass); its callers do not become async because of it. Set by
    /// `engine::plan` from `Options::entry_points`.
    pub entry: Option<String>,
}

#[derive(Debug)]
pub struct ClassInfo {
    pub name: String,
    pub range: TextRange,
    /// Base class names (dotted) as written.
    pub bases: Vec<String>,
    pub methods: HashMap<String, FuncId>,
    /// A class of another module of the project (its methods include the
    /// ones it inherits; its bases are not listed): the first base it has
    /// outside the project, if any.
    pub foreign: Option<Option<String>>,
    /// `self.x = K(...)` in its methods, and nowhere else: attribute ->
    /// the class name as written.
    pub attrs: HashMap<String, String>,
}

/// Where a call (or reference) appears.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ctx {
    /// Innermost enclosing function, if any.
    pub func: Option<FuncId>,
    pub in_lambda: bool,
    pub in_genexp: bool,
    pub in_class_body: bool,
    pub in_main_guard: bool,
}

impl Ctx {
    /// True when an `await` could be placed here (given an async `func`).
    pub fn awaitable(&self) -> bool {
        self.func.is_some() && !self.in_lambda && !self.in_genexp && !self.in_class_body
    }
    pub fn main_guard_call(&self) -> bool {
        self.func.is_none() && self.in_main_guard && !self.in_lambda && !self.in_genexp && !self.in_class_body
    }
}

#[derive(Debug)]
pub struct CallSite {
    pub range: TextRange,
    /// Fully qualified name through imports (`time.sleep`), or
    /// `builtins.open` for an unshadowed builtin.
    pub qualname: Option<String>,
    /// The module function or method it calls.
    pub target: Option<FuncId>,
    pub ctx: Ctx,
    /// `for name, f in [("a", fa), ("b", fb)]: f(...)`: the functions a
    /// loop variable may hold (target is None then).
    pub targets: Vec<FuncId>,
    /// The call of the wrapped function inside a decorator's wrapper: the
    /// wrapper is async exactly when the functions it wraps are.
    pub wraps: bool,
    /// The call is what a loop iterates (a generator's only allowed use).
    pub iter: Option<IterSite>,
    /// The module class (by start offset) each argument surely is an
    /// instance of, for calls of module functions.
    pub args: CallArgs,
    /// Not a call: a function handed to a thread pool the `pool` pass turns
    /// into tasks (it runs the function, so it counts as a call; the pass,
    /// not the colouring, writes the `await`).
    pub pooled: bool,
}

/// Where a call's result is iterated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IterSite {
    /// `for x in f(...)`: the for statement.
    For(TextRange),
    /// `[... for x in f(...)]` (list, set or dict comprehension): the call.
    Comp(TextRange),
    /// `yield from f(...)` as a statement: the statement.
    YieldFrom(TextRange),
    /// `with obj:` over an object of a project class whose `__enter__`
    /// becomes async (a user rule): the with statement, `async with` then.
    With(TextRange),
}

#[derive(Clone, Debug, Default)]
pub struct CallArgs {
    pub pos: Vec<Option<u32>>,
    pub kw: Vec<(String, Option<u32>)>,
    /// `*args` or `**kwargs` at the call: parameters cannot be matched.
    pub starred: bool,
    /// Called as `x.m(...)` (not through a class name).
    pub bound: bool,
}

impl ModuleInfo {
    /// Every call that may run `f`: direct calls and calls through a loop
    /// variable that holds one of several functions.
    pub fn calls_of(&self, f: FuncId) -> impl Iterator<Item = &CallSite> {
        self.calls.iter().filter(move |c| c.target == Some(f) || c.targets.contains(&f))
    }
}

/// A reference to a function that is not a resolved call.
#[derive(Debug)]
pub struct ValueRef {
    pub func: FuncId,
    pub range: TextRange,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct ModuleInfo {
    pub funcs: Vec<FuncInfo>,
    pub classes: Vec<ClassInfo>,
    pub calls: Vec<CallSite>,
    pub call_index: HashMap<TextRange, usize>,
    pub value_refs: Vec<ValueRef>,
    /// Attribute names used other than as resolved method calls.
    pub loose_attrs: HashMap<String, Vec<TextRange>>,
    /// Qualified names (through imports) of Name/Attribute expressions.
    pub refs: HashMap<TextRange, String>,
    pub main_guard: Option<TextRange>,
    /// Loops (`for`, `while`, comprehensions) in the `__main__` block: a
    /// call inside one may run more than once.
    pub guard_loops: Vec<TextRange>,
    /// Why the `__main__` block cannot become one async function (see
    /// `passes::colour`), when its calls would need one event loop: they
    /// then count as module-level calls.
    pub main_guard_fixed: Option<String>,
    /// Where each attribute expression (other than a called one) appears:
    /// a pass may seed one it turns into an awaitable (`r.text` ->
    /// `await r.text()`).
    pub attr_ctx: HashMap<TextRange, Ctx>,
    /// Def start offset -> function.
    pub func_starts: HashMap<u32, FuncId>,
    /// Methods of one name in classes of one hierarchy (this module's own
    /// methods, with the methods of other modules' bases they override): a
    /// call through `self` may run any of them, so they become async all
    /// together or not at all.
    pub groups: Vec<Vec<FuncId>>,
    /// Functions of other modules this module has through `from m import
    /// *`: the module and where the import is.
    pub star_imported: HashMap<FuncId, (String, u32)>,
    /// The first class of each name, and each class by the start of its
    /// range (kept by [`ModuleInfo::push_class`]).
    pub class_names: HashMap<String, ClassId>,
    pub class_starts: HashMap<u32, ClassId>,
    /// Per module-level function (by name): the first other module of the
    /// project that imports it (or the whole module), which may call it.
    pub imported_by: HashMap<String, String>,
}

impl ModuleInfo {
    /// The other members of `f`'s override group.
    pub fn group_mates(&self, f: FuncId) -> impl Iterator<Item = FuncId> + '_ {
        self.groups.iter().filter(move |g| g.contains(&f)).flat_map(|g| g.iter().copied()).filter(move |&g| g != f)
    }
}

impl ModuleInfo {
    /// Adds a class and indexes it by name and start.
    pub fn push_class(&mut self, c: ClassInfo) -> ClassId {
        let id = self.classes.len();
        self.class_names.entry(c.name.clone()).or_insert(id);
        self.class_starts.entry(c.range.start().into()).or_insert(id);
        self.classes.push(c);
        id
    }
    /// The first class of that name (what a base class name refers to here).
    pub fn class_named(&self, name: &str) -> Option<ClassId> {
        self.class_names.get(name).copied()
    }
    pub fn call(&self, r: TextRange) -> Option<&CallSite> {
        self.call_index.get(&r).map(|&i| &self.calls[i])
    }
    /// Where a seed appears: a call, or an attribute a pass awaits.
    pub fn site_ctx(&self, r: TextRange) -> Option<Ctx> {
        self.call(r).map(|c| c.ctx).or_else(|| self.attr_ctx.get(&r).copied())
    }
    pub fn func_at(&self, start: u32) -> Option<FuncId> {
        self.func_starts.get(&start).copied()
    }
}

pub(crate) const SAFE_DECORATORS: &[&str] = &["staticmethod", "classmethod", "functools.wraps", "wraps"];
pub(crate) const SAFE_BASES: &[&str] = &["object", "ABC", "abc.ABC"];

pub fn analyse(body: &[Stmt]) -> ModuleInfo {
    refine(body, analyse_with(body, &HashMap::new(), None))
}

/// The analysis without typed parameters (cheaper; enough to tell whether a
/// module has anything to convert at all).
pub fn analyse_fast(body: &[Stmt]) -> ModuleInfo {
    analyse_with(body, &HashMap::new(), None)
}

/// The analysis of a module of a project: names imported from other
/// modules of the project resolve to their functions and classes.
pub fn analyse_in(body: &[Stmt], env: project::Env) -> ModuleInfo {
    refine_in(body, analyse_with(body, &HashMap::new(), Some(env)), Some(env))
}

/// `analyse_fast`, in a project when `env` is given.
pub fn analyse_fast_in(body: &[Stmt], env: Option<project::Env>) -> ModuleInfo {
    analyse_with(body, &HashMap::new(), env)
}

/// Completes an `analyse_fast` result with typed parameters.
pub fn refine(body: &[Stmt], first: ModuleInfo) -> ModuleInfo {
    refine_in(body, first, None)
}

/// `refine`, in a project when `env` is given.
pub fn refine_in(body: &[Stmt], first: ModuleInfo, env: Option<project::Env>) -> ModuleInfo {
    // Parameters that receive an instance of one module class at every call
    // are typed, and the analysis runs again with them (`def report(client)`
    // called as `report(WeatherClient(...))` resolves `client.current()`).
    let mut param_types: HashMap<(u32, String), String> = HashMap::new();
    let mut info = first;
    for _ in 0..4 {
        let found = infer_param_types(&info);
        if found.iter().all(|(k, v)| param_types.get(k) == Some(v)) {
            return info;
        }
        param_types.extend(found);
        info = analyse_with(body, &param_types, env);
    }
    info
}

fn analyse_with(body: &[Stmt], param_types: &HashMap<(u32, String), String>, env: Option<project::Env>) -> ModuleInfo {
    let mut a = Analyser {
        env,
        foreign_names: HashMap::new(),
        foreign_attrs: HashMap::new(),
        foreign_fns: HashMap::new(),
        foreign_count: 0,
        fixture_types: HashMap::new(),
        data_attrs: HashSet::new(),
        info: ModuleInfo::default(),
        scopes: vec![Frame { kind: FrameKind::Module, b: scope::collect(body) }],
        ctx: Ctx::default(),
        class_of_func: vec![],
        pending_classes: vec![],
        param_types,
        fn_vars: vec![],
        literals: vec![],
        excused: HashSet::new(),
        wrappers: HashMap::new(),
        iter_site: None,
        attr_names: HashSet::new(),
        local_modules: HashMap::new(),
        module_stmts: body.iter().map(|s| s.range()).collect(),
    };
    a.declare(body, None, true);
    a.declare_foreign(body);
    a.wrapping_decorators(body);
    a.visit_body(body);
    a.finish();
    let excused = std::mem::take(&mut a.excused);
    a.info.value_refs.retain(|v| !excused.contains(&v.range));
    if let Some(env) = a.env {
        for f in a.info.funcs.iter().filter(|f| f.exported && f.class.is_none() && f.foreign.is_none()) {
            if let Some(m) = env.index.importer_of(env.module, &f.name) {
                a.info.imported_by.insert(f.name.clone(), m.to_string());
            }
        }
    }
    a.info
}

/// Loads and stores of each name in a body (nested scopes included).
fn name_counts(body: &[Stmt]) -> HashMap<String, (usize, usize)> {
    struct C(HashMap<String, (usize, usize)>);
    impl<'a> Visitor<'a> for C {
        fn visit_expr(&mut self, e: &'a Expr) {
            // `len(x)` reads only the size: not a use that could leak items.
            if let Expr::Call(c) = e
                && matches!(&*c.func, Expr::Name(f) if f.id.as_str() == "len")
                && c.args.len() == 1
                && matches!(c.args[0], Expr::Name(_))
            {
                return;
            }
            if let Expr::Name(n) = e {
                let c = self.0.entry(n.id.to_string()).or_default();
                if matches!(n.ctx, ast::ExprContext::Load) {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                }
            }
            walk_expr(self, e);
        }
    }
    let mut c = C(HashMap::new());
    c.visit_body(body);
    c.0
}

/// Parameters that every call of their function (all calls resolved, none
/// with `*args`/`**kwargs`, the function never used as a value) passes an
/// instance of the same module class.
fn infer_param_types(info: &ModuleInfo) -> HashMap<(u32, String), String> {
    let mut out = HashMap::new();
    // Per function, in one pass each: used as a value, its direct calls (in
    // order), called through a variable.
    let n = info.funcs.len();
    let mut as_value = vec![false; n];
    for v in &info.value_refs {
        if let Some(x) = as_value.get_mut(v.func) {
            *x = true;
        }
    }
    let mut direct: Vec<Vec<&CallSite>> = vec![vec![]; n];
    let mut via_var = vec![false; n];
    for c in &info.calls {
        if let Some(list) = c.target.and_then(|t| direct.get_mut(t)) {
            list.push(c);
        }
        for &t in &c.targets {
            if let Some(x) = via_var.get_mut(t) {
                *x = true;
            }
        }
    }
    for (id, f) in info.funcs.iter().enumerate() {
        if f.foreign.is_some() || as_value[id] {
            continue;
        }
        let sites = &direct[id];
        if sites.is_empty() || sites.iter().any(|c| c.args.starred) || via_var[id] {
            continue;
        }
        let skip = match (f.class, &f.self_name) {
            (None, _) => 0,
            (Some(_), Some(_)) if sites.iter().all(|c| c.args.bound) => 1,
            (Some(_), None) => 0,
            _ => continue,
        };
        let positional = &f.params[skip.min(f.params.len())..];
        for p in positional.iter().chain(&f.kwonly) {
            let mut class: Option<u32> = None;
            let mut all = true;
            for c in sites {
                let given = positional
                    .iter()
                    .position(|q| q == p)
                    .and_then(|i| c.args.pos.get(i).copied())
                    .or_else(|| c.args.kw.iter().find(|(k, _)| k == p).map(|(_, v)| *v));
                match given.flatten() {
                    Some(k) if class.is_none_or(|x| x == k) => class = Some(k),
                    _ => {
                        all = false;
                        break;
                    }
                }
            }
            if all
                && let Some(k) = class
                && let Some(&c) = info.class_starts.get(&k)
            {
                out.insert((u32::from(f.range.start()), p.clone()), info.classes[c].name.clone());
            }
        }
    }
    out
}

enum FrameKind {
    Module,
    Func(FuncId),
    Class,
    Other,
}

struct Frame {
    kind: FrameKind,
    b: Bindings,
}

struct Analyser<'p> {
    param_types: &'p HashMap<(u32, String), String>,
    env: Option<project::Env<'p>>,
    /// Module-level names imported from other modules of the project:
    /// what they resolve to (a `Def` or `Class` of a foreign entry).
    foreign_names: HashMap<String, Binding>,
    /// `m.name` where `m` is a project module imported as `m`.
    foreign_attrs: HashMap<(String, String), Binding>,
    foreign_fns: HashMap<project::GlobalFn, FuncId>,
    foreign_count: u32,
    /// pytest fixtures this module can see whose value is an instance of a
    /// project class: test parameters of that name hold one.
    fixture_types: HashMap<String, ClassId>,
    /// Attribute reads that surely read data, not a method.
    data_attrs: HashSet<TextRange>,
    /// Loop variables that hold one of several module functions.
    fn_vars: Vec<(String, Vec<FuncId>)>,
    /// Per function frame: names bound once to a list/tuple literal and
    /// loaded once (the literal a `for` may iterate).
    literals: Vec<HashMap<String, Expr>>,
    /// Function references inside iterated literals: not escapes.
    excused: HashSet<TextRange>,
    /// Wrappers of wrapping decorators: def start -> (the decorator's
    /// function parameter, the functions it decorates).
    wrappers: HashMap<u32, (String, Vec<FuncId>)>,
    /// The next call to visit is iterated this way.
    iter_site: Option<(TextRange, IterSite)>,
    /// Every attribute name the module uses.
    attr_names: HashSet<String>,
    /// Local names that functions' own imports bind to project modules
    /// (`def h(): import pkg.a`), with the module's name.
    local_modules: HashMap<String, String>,
    /// The module's own statements: only one of them can be the `__main__`
    /// guard (one nested in a module-level `with`/`for` is plain module
    /// code, as the colour pass only turns a top-level guard into `main`).
    module_stmts: HashSet<TextRange>,
    info: ModuleInfo,
    scopes: Vec<Frame>,
    ctx: Ctx,
    class_of_func: Vec<Option<ClassId>>,
    pending_classes: Vec<ClassId>,
}

fn decorator_name(d: &Expr) -> String {
    match d {
        Expr::Call(c) => dotted_name(&c.func).unwrap_or_else(|| "<expr>".into()),
        e => dotted_name(e).unwrap_or_else(|| "<expr>".into()),
    }
}

/// A module decorator that wraps the function it decorates:
/// `def deco(func): @wraps(func) def wrapper(*a, **k): ... func(*a, **k) ...; return wrapper`
/// or the factory form `def deco(opts): def decorator(func): ...; return decorator`.
struct Wrapping {
    /// The decorator's name at module level.
    name: String,
    /// Used as `@name(...)` (factory) rather than `@name`.
    factory: bool,
    /// The `return` names that hand the wrapper (and decorator) out.
    returns: Vec<TextRange>,
    wrapper_start: u32,
    param: String,
    /// Where the decorator's def starts.
    def_start: u32,
}

/// Whether a def is a wrapping decorator, and then whether a factory
/// (`def retry(n): def decorator(func): ...`).
pub(crate) fn wrapping_kind(d: &ast::StmtFunctionDef) -> Option<bool> {
    if let (Some(Stmt::Return(r)), rest) = (d.body.last(), &d.body[..d.body.len().saturating_sub(1)])
        && let Some(Expr::Name(ret)) = r.value.as_deref()
        && let Some(Stmt::FunctionDef(inner)) =
            rest.iter().find(|s| matches!(s, Stmt::FunctionDef(f) if f.name.as_str() == ret.id.as_str()))
        && wrapper_of(inner).is_some()
    {
        return Some(true);
    }
    wrapper_of(d).map(|_| false)
}

/// `def d(func): def w(...): ... return w` -> (w, func, the `return w` name).
fn wrapper_of(def: &ast::StmtFunctionDef) -> Option<(&Stmt, String, TextRange)> {
    let all: Vec<&ast::ArgWithDefault> = def.args.posonlyargs.iter().chain(&def.args.args).collect();
    let [p] = &all[..] else { return None };
    if def.args.vararg.is_some() || def.args.kwarg.is_some() || !def.args.kwonlyargs.is_empty() {
        return None;
    }
    let param = p.def.arg.to_string();
    let (Some(Stmt::Return(r)), rest) = (def.body.last(), &def.body[..def.body.len().saturating_sub(1)]) else {
        return None;
    };
    let Some(Expr::Name(ret)) = r.value.as_deref() else { return None };
    let w = rest.iter().find(|s| matches!(s, Stmt::FunctionDef(f) if f.name.as_str() == ret.id.as_str()))?;
    Some((w, param, ret.range))
}

impl Analyser<'_> {
    /// Finds the module's wrapping decorators and lifts the decorator
    /// boundary of the functions they decorate: the wrapper calls the
    /// function through its parameter, so colouring treats that call as a
    /// call of every decorated function (all async together, or none).
    fn wrapping_decorators(&mut self, body: &[Stmt]) {
        let mut found: Vec<Wrapping> = vec![];
        for st in body {
            let Stmt::FunctionDef(d) = st else { continue };
            // Factory first: the returned inner function is itself a wrapping
            // decorator (`def retry(tries=3): def decorator(func): ...`).
            if let (Some(Stmt::Return(r)), rest) = (d.body.last(), &d.body[..d.body.len().saturating_sub(1)])
                && let Some(Expr::Name(ret)) = r.value.as_deref()
                && let Some(Stmt::FunctionDef(inner)) =
                    rest.iter().find(|s| matches!(s, Stmt::FunctionDef(f) if f.name.as_str() == ret.id.as_str()))
                && let Some((w, param, ret2)) = wrapper_of(inner)
            {
                found.push(Wrapping {
                    name: d.name.to_string(),
                    factory: true,
                    returns: vec![ret.range, ret2],
                    wrapper_start: w.range().start().into(),
                    param,
                    def_start: st.range().start().into(),
                });
                continue;
            }
            if let Some((w, param, ret)) = wrapper_of(d) {
                found.push(Wrapping {
                    name: d.name.to_string(),
                    factory: false,
                    returns: vec![ret],
                    wrapper_start: w.range().start().into(),
                    param,
                    def_start: st.range().start().into(),
                });
            }
        }
        for w in found {
            // The decorator name must mean that def everywhere (bound once).
            if self.scopes[0].b.names.get(&w.name).is_none_or(|b| b.len() != 1) {
                continue;
            }
            let mut decorated = vec![];
            for st in body {
                let (decos, start) = match st {
                    Stmt::FunctionDef(f) => (&f.decorator_list, st.range().start()),
                    Stmt::AsyncFunctionDef(f) => (&f.decorator_list, st.range().start()),
                    _ => continue,
                };
                let uses = decos.iter().any(|d| match (d, w.factory) {
                    (Expr::Call(c), true) => matches!(&*c.func, Expr::Name(n) if n.id.as_str() == w.name),
                    (Expr::Name(n), false) => n.id.as_str() == w.name,
                    _ => false,
                });
                let others_safe = decos.iter().all(|d| {
                    let n = decorator_name(d);
                    n == w.name || SAFE_DECORATORS.contains(&n.as_str())
                });
                if uses
                    && others_safe
                    && let Some(f) = self.info.func_at(start.into())
                {
                    decorated.push(f);
                }
            }
            // Functions of other modules it decorates.
            if let Some(env) = self.env {
                let me = project::GlobalFn { module: env.module, start: w.def_start };
                for g in env.index.decorated.get(&me).cloned().unwrap_or_default() {
                    if g.module != env.module
                        && let Some(f) = self.foreign_fn(env, g, None)
                    {
                        decorated.push(f);
                    }
                }
            }
            if decorated.is_empty() {
                continue;
            }
            for &f in &decorated {
                if self.info.funcs[f].boundary.as_deref().is_some_and(|b| b.contains("is decorated with")) {
                    self.info.funcs[f].boundary = None;
                }
            }
            self.excused.extend(w.returns);
            self.wrappers.insert(w.wrapper_start, (w.param, decorated));
        }
    }

    /// Registers the defs and classes of a body (recursively), in source order.
    fn declare(&mut self, body: &[Stmt], class: Option<ClassId>, top: bool) {
        for s in body {
            match s {
                Stmt::FunctionDef(ast::StmtFunctionDef { name, decorator_list, args, body: fbody, .. })
                | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef {
                    name, decorator_list, args, body: fbody, ..
                }) => {
                    let is_async = matches!(s, Stmt::AsyncFunctionDef(_));
                    let decos: Vec<String> = decorator_list.iter().map(decorator_name).collect();
                    let mut boundary = None;
                    let n = name.as_str();
                    if n.starts_with("__") && n.ends_with("__") && n.len() > 4 {
                        boundary = Some(format!("`{n}` is a special method that Python calls synchronously"));
                    } else if let Some(d) = decos.iter().find(|d| !SAFE_DECORATORS.contains(&d.as_str())) {
                        boundary = Some(format!("`{n}` is decorated with `@{d}`, which may call it synchronously"));
                    } else if is_test_hook(n) {
                        boundary = Some(format!(
                            "`{n}` is called synchronously by the test framework (tests are converted by a later pass)"
                        ));
                    } else if is_generator(fbody) && !simple_generator(fbody) {
                        boundary = Some(format!(
                            "`{n}` is a generator that returns a value or uses `yield from` as an expression, which an async generator cannot"
                        ));
                    }
                    let is_static = decos.iter().any(|d| d == "staticmethod");
                    let first = args.posonlyargs.iter().chain(&args.args).next().map(|a| a.def.arg.to_string());
                    let self_name = if class.is_some() && !is_static { first } else { None };
                    let id = self.info.funcs.len();
                    self.info.func_starts.insert(s.range().start().into(), id);
                    self.info.funcs.push(FuncInfo {
                        name: n.to_string(),
                        range: s.range(),
                        class,
                        is_async,
                        boundary,
                        self_name,
                        exported: top,
                        params: args.posonlyargs.iter().chain(&args.args).map(|a| a.def.arg.to_string()).collect(),
                        kwonly: args.kwonlyargs.iter().map(|a| a.def.arg.to_string()).collect(),
                        generator: is_generator(fbody),
                        forced: false,
                        entry: None,
                        factory: decos.iter().any(|d| d == "classmethod")
                            && args
                                .posonlyargs
                                .iter()
                                .chain(&args.args)
                                .next()
                                .is_some_and(|a| returns_only_calls_of(fbody, a.def.arg.as_str())),
                        foreign: None,
                        became_async: false,
                    });
                    self.class_of_func.push(class);
                    if let Some(c) = class {
                        self.info.classes[c].methods.insert(n.to_string(), id);
                    }
                    self.declare(fbody, None, false);
                }
                Stmt::ClassDef(c) => {
                    let id = self.info.push_class(ClassInfo {
                        name: c.name.to_string(),
                        range: s.range(),
                        bases: c.bases.iter().map(|b| dotted_name(b).unwrap_or_else(|| "<expr>".into())).collect(),
                        methods: HashMap::new(),
                        foreign: None,
                        attrs: project::instance_attrs(c),
                    });
                    self.pending_classes.push(id);
                    self.declare(&c.body, Some(id), top);
                }
                other => {
                    for b in crate::syntax::blocks(other) {
                        self.declare(b, class, top);
                    }
                }
            }
        }
    }

    /// A placeholder range for a foreign entry: past the end of any text.
    fn foreign_range(&mut self) -> TextRange {
        self.foreign_count += 1;
        TextRange::empty((u32::MAX - self.foreign_count).into())
    }

    fn foreign_fn(&mut self, env: project::Env, g: project::GlobalFn, class: Option<ClassId>) -> Option<FuncId> {
        if let Some(&f) = self.foreign_fns.get(&g) {
            return Some(f);
        }
        let d = env.index.func(g)?.clone();
        let range = self.foreign_range();
        let id = self.info.funcs.len();
        self.info.func_starts.insert(range.start().into(), id);
        self.info.funcs.push(FuncInfo {
            name: d.name.clone(),
            range,
            class,
            is_async: d.is_async,
            boundary: None,
            self_name: if class.is_some() && !d.staticmethod { d.params.first().cloned() } else { None },
            exported: false,
            params: d.params.clone(),
            kwonly: d.kwonly.clone(),
            factory: false,
            generator: d.generator,
            foreign: Some(g),
            became_async: false,
            forced: false,
            entry: None,
        });
        self.class_of_func.push(class);
        self.foreign_fns.insert(g, id);
        Some(id)
    }

    fn foreign_class(&mut self, env: project::Env, m: usize, c: usize, name: &str) -> ClassId {
        let (methods, external) = env.index.methods(m, c);
        let range = self.foreign_range();
        let id = self.info.push_class(ClassInfo {
            name: name.to_string(),
            range,
            bases: vec![],
            methods: HashMap::new(),
            foreign: Some(external),
            attrs: HashMap::new(),
        });
        for (fm, d) in methods {
            if let Some(f) = self.foreign_fn(env, project::GlobalFn { module: fm, start: d.start }, Some(id)) {
                self.info.classes[id].methods.insert(d.name.clone(), f);
            }
        }
        id
    }

    /// Entries for what the module imports from other modules of the
    /// project (after its own defs and classes, so those keep their ids).
    fn declare_foreign(&mut self, body: &[Stmt]) {
        use project::Item;
        let Some(env) = self.env else { return };
        for f in self.info.funcs.iter_mut() {
            if f.boundary.as_deref().is_some_and(|b| b.contains("is decorated with"))
                && env.index.wrapped(project::GlobalFn { module: env.module, start: f.range.start().into() })
            {
                f.boundary = None;
            }
        }
        let md = &env.index.modules[env.module];
        let mut names: Vec<(String, Item)> = vec![];
        for (n, d) in &md.names {
            if let project::Decl::Alias(a) = d
                && let Some(item) = env.index.lookup(a)
            {
                names.push((n.clone(), item));
            }
        }
        let mut starred: HashMap<String, (String, u32)> = HashMap::new();
        for (n, at, module) in env.index.star_names(env.module) {
            if !md.names.contains_key(&n)
                && !self.scopes[0].b.names.contains_key(&n)
                && let Some(item) = env.index.lookup(&format!("{module}.{n}"))
            {
                starred.insert(n.clone(), (module, at));
                names.push((n, item));
            }
        }
        // Module aliases, and their submodules (`import pkg.client`), to a
        // few levels.
        let mut modules: Vec<(String, usize, usize)> = vec![];
        for (n, item) in names {
            let b = match item {
                Item::Func(m, start) => match self.foreign_fn(env, project::GlobalFn { module: m, start }, None) {
                    Some(f) => {
                        if let Some(st) = starred.get(&n) {
                            self.info.star_imported.insert(f, st.clone());
                        }
                        Binding::Def(self.info.funcs[f].range.start().into())
                    }
                    None => continue,
                },
                Item::Class(m, c) => {
                    let id = self.foreign_class(env, m, c, &n);
                    Binding::Class(self.info.classes[id].range.start().into())
                }
                Item::Module(m) => {
                    modules.push((n.clone(), m, 0));
                    Binding::Import(env.index.modules[m].name.clone())
                }
            };
            self.foreign_names.insert(n, b);
        }
        // Fixtures, in a test module.
        let last = md.name.rsplit('.').next().unwrap_or("");
        let tests = last.starts_with("test") || last.ends_with("_test") || last == "conftest";
        let mut fixtures: Vec<&String> = if tests { env.index.fixtures.keys().collect() } else { vec![] };
        fixtures.sort();
        for n in fixtures {
            let Some((cm, c)) = env.index.fixture_class(env.module, n) else { continue };
            let id = if cm == env.module {
                let start = env.index.modules[cm].classes[c].start;
                match self.class_by_start(start) {
                    Some(id) => id,
                    None => continue,
                }
            } else {
                self.foreign_class(env, cm, c, &format!("<fixture {n}>"))
            };
            self.fixture_types.insert(n.clone(), id);
        }
        self.attr_names = attribute_names(body);
        self.module_members(env, modules);
    }

    /// The members of project modules reachable as `prefix.name` (and the
    /// submodules below them, to a few levels): `foreign_attrs` entries.
    fn module_members(&mut self, env: project::Env, mut modules: Vec<(String, usize, usize)>) {
        use project::Item;
        let mut seen = HashSet::new();
        let attr_names = std::mem::take(&mut self.attr_names);
        while let Some((prefix, m, depth)) = modules.pop() {
            if depth > 3 || !seen.insert((prefix.clone(), m)) {
                continue;
            }
            let members: Vec<String> =
                env.index.modules[m].names.keys().filter(|n| attr_names.contains(n.as_str())).cloned().collect();
            let subs: Vec<(String, usize)> = env
                .index
                .by_name
                .iter()
                .filter_map(|(k, &v)| {
                    let rest = k.strip_prefix(&env.index.modules[m].name)?.strip_prefix('.')?;
                    (!rest.contains('.')).then(|| (rest.to_string(), v))
                })
                .collect();
            for n in members {
                let b = match env.index.member(m, &n, 0) {
                    Some(Item::Func(fm, start)) => {
                        match self.foreign_fn(env, project::GlobalFn { module: fm, start }, None) {
                            Some(f) => Binding::Def(self.info.funcs[f].range.start().into()),
                            None => continue,
                        }
                    }
                    Some(Item::Class(cm, c)) => {
                        let id = self.foreign_class(env, cm, c, &format!("{prefix}.{n}"));
                        Binding::Class(self.info.classes[id].range.start().into())
                    }
                    _ => continue,
                };
                self.foreign_attrs.insert((prefix.clone(), n), b);
            }
            let mut subs = subs;
            subs.sort();
            for (n, s) in subs {
                modules.push((format!("{prefix}.{n}"), s, depth + 1));
            }
        }
        self.attr_names = attr_names;
    }

    /// The bindings of a function's own imports of project modules and of
    /// their functions and classes (`def g(): from .a import f`): they bind
    /// local names as module-level imports bind global ones.
    fn local_import_bindings(&mut self, body: &[Stmt], b: &mut Bindings, params: &[String]) {
        use project::Item;
        let Some(env) = self.env else { return };
        let md = &env.index.modules[env.module];
        let mut found = scope::local_imports(body, &md.name, md.package).into_iter().collect::<Vec<_>>();
        found.sort();
        for (local, target) in found {
            if params.contains(&local) || b.names.get(&local).is_none_or(|v| v.len() != 1) {
                continue;
            }
            let binding = match env.index.lookup(&target) {
                Some(Item::Func(m, start)) if m == env.module => Binding::Def(start),
                Some(Item::Func(m, start)) => {
                    match self.foreign_fn(env, project::GlobalFn { module: m, start }, None) {
                        Some(f) => Binding::Def(self.info.funcs[f].range.start().into()),
                        None => continue,
                    }
                }
                Some(Item::Class(m, c)) if m == env.module => Binding::Class(env.index.modules[m].classes[c].start),
                Some(Item::Class(m, c)) => {
                    let id = self.foreign_class(env, m, c, &local);
                    Binding::Class(self.info.classes[id].range.start().into())
                }
                Some(Item::Module(m)) => {
                    let name = env.index.modules[m].name.clone();
                    // One meaning per prefix in the module: a module-level
                    // name or another local import that binds it otherwise
                    // keeps its own entries.
                    let clash = self.foreign_names.get(&local).is_some_and(|x| *x != Binding::Import(name.clone()))
                        || self.local_modules.get(&local).is_some_and(|x| *x != name);
                    if !clash && !self.local_modules.contains_key(&local) && !self.foreign_names.contains_key(&local) {
                        self.local_modules.insert(local.clone(), name.clone());
                        self.module_members(env, vec![(local.clone(), m, 0)]);
                    }
                    Binding::Import(name)
                }
                None => continue,
            };
            b.names.insert(local, vec![binding]);
        }
    }

    /// The absolute name a module-level import of a project function or
    /// class binds (`from .client import fetch` -> `pkg.client.fetch`), when
    /// `name` resolves to it here.
    fn foreign_import(&self, name: &str, resolved: &Binding) -> Option<String> {
        if self.foreign_names.get(name) != Some(resolved) {
            return None;
        }
        let env = self.env?;
        match env.index.modules[env.module].names.get(name)? {
            project::Decl::Alias(a) => Some(a.clone()),
            _ => None,
        }
    }

    /// What `recv.attr` is when `recv` is a project module (as a dotted
    /// name through the module's imports).
    fn foreign_attr(&self, recv: &Expr, attr: &str) -> Option<Binding> {
        let d = dotted_name(recv)?;
        let first = d.split('.').next()?;
        let Some(Binding::Import(q)) = self.resolve(first) else { return None };
        let global = self.foreign_names.get(first).is_some_and(|b| *b == Binding::Import(q.clone()));
        if !global && self.local_modules.get(first) != Some(&q) {
            return None;
        }
        self.foreign_attrs.get(&(d, attr.to_string())).cloned()
    }

    fn finish(&mut self) {
        // Methods of classes with bases outside the module may override
        // methods the base class calls synchronously; methods defined in
        // several classes cannot be told apart at `obj.m()` call sites.
        // Override groups: a method with the same-named methods of the
        // classes it inherits from (through bases named in this module).
        let mut parent: Vec<FuncId> = (0..self.info.funcs.len()).collect();
        fn find(p: &mut [FuncId], x: FuncId) -> FuncId {
            let mut r = x;
            while p[r] != r {
                r = p[r];
            }
            p[x] = r;
            r
        }
        for (ci, c) in self.info.classes.iter().enumerate() {
            if c.foreign.is_some() {
                continue;
            }
            for (m, &f) in &c.methods {
                for b in &c.bases {
                    let Some(bc) = self.info.class_named(b) else { continue };
                    if bc == ci {
                        continue;
                    }
                    if let Some(g) = self.method_in_class(bc, m, 0) {
                        let (ra, rb) = (find(&mut parent, f), find(&mut parent, g));
                        if ra != rb {
                            parent[ra.max(rb)] = ra.min(rb);
                        }
                    }
                }
            }
        }
        let mut groups: HashMap<FuncId, Vec<FuncId>> = HashMap::new();
        for f in 0..self.info.funcs.len() {
            let r = find(&mut parent, f);
            groups.entry(r).or_default().push(f);
        }
        let mut groups: Vec<Vec<FuncId>> = groups.into_values().filter(|g| g.len() > 1).collect();
        groups.sort();
        self.info.groups = groups;
        let mut updates = vec![];
        for (ci, c) in self.info.classes.iter().enumerate() {
            if c.foreign.is_some() {
                continue;
            }
            let external = self.external_base(ci, 0);
            for (m, &f) in &c.methods {
                if self.info.funcs[f].boundary.is_some() {
                    continue;
                }
                if let Some(b) = &external {
                    updates.push((
                        f,
                        format!(
                            "`{}.{m}` may override a method of base class `{b}`, which would call it synchronously",
                            c.name
                        ),
                    ));
                }
            }
        }
        updates.sort();
        for (f, why) in updates {
            self.info.funcs[f].boundary = Some(why);
        }
    }

    /// A base class outside the module, found through in-module bases.
    fn external_base(&self, c: ClassId, depth: usize) -> Option<String> {
        if depth > 16 {
            return Some("<deep hierarchy>".into());
        }
        if let Some(external) = &self.info.classes[c].foreign {
            return external.clone();
        }
        for b in &self.info.classes[c].bases {
            if SAFE_BASES.contains(&b.as_str()) {
                continue;
            }
            match self.info.class_named(b) {
                Some(bc) => {
                    if let Some(x) = self.external_base(bc, depth + 1) {
                        return Some(x);
                    }
                }
                None => return Some(b.clone()),
            }
        }
        None
    }

    fn resolve(&self, name: &str) -> Option<Binding> {
        let innermost = self.scopes.len() - 1;
        for (i, f) in self.scopes.iter().enumerate().rev() {
            // Class scopes are only visible from their own body.
            if matches!(f.kind, FrameKind::Class) && i != innermost {
                continue;
            }
            if matches!(f.kind, FrameKind::Module) {
                if let Some(b) = self.foreign_names.get(name) {
                    return Some(b.clone());
                }
                return f.b.unique(name).cloned().or(Some(Binding::Import(format!("builtins.{name}"))));
            }
            if f.b.globals.iter().any(|g| g == name) {
                if let Some(b) = self.foreign_names.get(name) {
                    return Some(b.clone());
                }
                return self.scopes[0].b.unique(name).cloned();
            }
            if let Some(b) = f.b.unique(name) {
                return Some(b.clone());
            }
        }
        None
    }

    fn qualname(&self, e: &Expr) -> Option<String> {
        let d = dotted_name(e)?;
        let (first, rest) = match d.split_once('.') {
            Some((f, r)) => (f, Some(r)),
            None => (d.as_str(), None),
        };
        let q = match self.resolve(first)? {
            Binding::Import(q) => q,
            b => self.foreign_import(first, &b)?,
        };
        Some(match rest {
            Some(r) => format!("{q}.{r}"),
            None => q,
        })
    }

    fn current_func(&self) -> Option<FuncId> {
        self.scopes.iter().rev().find_map(|f| match f.kind {
            FrameKind::Func(id) => Some(id),
            _ => None,
        })
    }

    fn method_in_class(&self, class: ClassId, m: &str, depth: usize) -> Option<FuncId> {
        if depth > 16 {
            return None;
        }
        let c = &self.info.classes[class];
        if let Some(&f) = c.methods.get(m) {
            return Some(f);
        }
        for b in &c.bases {
            if let Some(bc) = self.info.class_named(b)
                && let Some(f) = self.method_in_class(bc, m, depth + 1)
            {
                return Some(f);
            }
        }
        None
    }

    fn class_by_start(&self, start: u32) -> Option<ClassId> {
        self.info.class_starts.get(&start).copied()
    }

    /// The class an expression names: a class of the module, or of another
    /// module of the project (`Client`, `client.Client`).
    fn class_named(&self, e: &Expr) -> Option<ClassId> {
        let b = match e {
            Expr::Name(n) => self.resolve(n.id.as_str())?,
            Expr::Attribute(a) => self.foreign_attr(&a.value, a.attr.as_str())?,
            _ => return None,
        };
        match b {
            Binding::Class(start) => self.class_by_start(start),
            _ => None,
        }
    }

    /// The project class an annotation names (`K`, `m.K`, `K | None`,
    /// `Optional[K]`), as written.
    fn annotation_class(&self, t: &Expr) -> Option<String> {
        let t = project::strip_optional(t);
        self.class_named(t)?;
        dotted_name(t)
    }

    /// The class an expression surely holds an instance of: `self`, a
    /// name bound to `K(...)` or annotated `K`, `self.x` typed in the class.
    fn receiver_class(&self, e: &Expr) -> Option<ClassId> {
        match e {
            Expr::Name(n) => self.self_class(n.id.as_str()).or_else(|| match self.resolve(n.id.as_str())? {
                Binding::Instance(k) => self.instance_of(&k),
                _ => None,
            }),
            Expr::Attribute(_) => self.attr_class(e),
            _ => None,
        }
    }

    /// The class of `self` in the current method, unless `self` is rebound.
    fn self_class(&self, recv: &str) -> Option<ClassId> {
        let fid = self.current_func()?;
        let f = &self.info.funcs[fid];
        match (f.class, &f.self_name) {
            (Some(c), Some(sn)) if sn == recv && !self.rebinds_self(recv) => Some(c),
            _ => None,
        }
    }

    /// The class of `self.x` when the class assigns `self.x = K(...)` only.
    fn attr_class(&self, e: &Expr) -> Option<ClassId> {
        let Expr::Attribute(a) = e else { return None };
        let Expr::Name(recv) = &*a.value else { return None };
        let c = self.self_class(recv.id.as_str())?;
        let written = self.info.classes[c].attrs.get(a.attr.as_str())?;
        match written.rsplit_once('.') {
            None => match self.resolve(written)? {
                Binding::Class(start) => self.class_by_start(start),
                _ => None,
            },
            Some((recv, attr)) => match self.foreign_attrs.get(&(recv.to_string(), attr.to_string()))? {
                Binding::Class(start) if self.foreign_names.contains_key(recv.split('.').next()?) => {
                    self.class_by_start(*start)
                }
                _ => None,
            },
        }
    }

    /// What a call's func expression targets among the module's functions.
    fn call_target(&self, func: &Expr) -> Option<FuncId> {
        match func {
            Expr::Name(n) => match self.resolve(n.id.as_str())? {
                Binding::Def(start) => self.info.func_at(start),
                _ => None,
            },
            Expr::Attribute(a) => {
                let m = a.attr.as_str();
                // `self.client.get()`: the attribute holds one class's instances.
                if let Some(c) = self.attr_class(&a.value) {
                    return self.method_in_class(c, m, 0);
                }
                // `super().m()` in a method: a base class's method.
                if let Expr::Call(c) = &*a.value
                    && c.args.is_empty()
                    && c.keywords.is_empty()
                    && matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "super"
                        && matches!(self.resolve("super"), Some(Binding::Import(q)) if q == "builtins.super"))
                    && let Some(fid) = self.current_func()
                    && let Some(class) = self.info.funcs[fid].class
                {
                    let bases = self.info.classes[class].bases.clone();
                    return bases.iter().find_map(|b| {
                        let bc = self.info.class_named(b)?;
                        self.method_in_class(bc, m, 0)
                    });
                }
                // `module.f()` for a project module.
                if let Some(Binding::Def(start)) = self.foreign_attr(&a.value, m) {
                    return self.info.func_at(start);
                }
                // `module.K(...).m()`, `module.K.m()`
                if let Some(c) = match &*a.value {
                    Expr::Call(c) => self.class_named(&c.func),
                    Expr::Attribute(_) => self.class_named(&a.value),
                    _ => None,
                } {
                    return self.method_in_class(c, m, 0);
                }
                match &*a.value {
                    Expr::Name(recv) => {
                        // self.m() / cls.m() inside a method
                        if let Some(fid) = self.current_func() {
                            let f = &self.info.funcs[fid];
                            if let (Some(c), Some(sn)) = (f.class, &f.self_name)
                                && sn == recv.id.as_str()
                                && !self.rebinds_self(recv.id.as_str())
                            {
                                return self.method_in_class(c, m, 0);
                            }
                        }
                        match self.resolve(recv.id.as_str())? {
                            Binding::Class(start) => self.method_in_class(self.class_by_start(start)?, m, 0),
                            // x = K(...); x.m(): the instance's method.
                            Binding::Instance(k) => {
                                let class = self.instance_of(&k)?;
                                self.method_in_class(class, m, 0)
                            }
                            _ => None,
                        }
                    }
                    Expr::Call(c) => {
                        // K(...).m()
                        if let Expr::Name(k) = &*c.func
                            && let Some(Binding::Class(start)) = self.resolve(k.id.as_str())
                        {
                            return self.method_in_class(self.class_by_start(start)?, m, 0);
                        }
                        None
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The module class an argument surely is an instance of.
    fn instance_class(&self, e: &Expr) -> Option<u32> {
        let Expr::Name(n) = e else { return None };
        if let Some(fid) = self.current_func() {
            let f = &self.info.funcs[fid];
            if let (Some(c), Some(sn)) = (f.class, &f.self_name)
                && sn == n.id.as_str()
                && !self.rebinds_self(sn)
            {
                return Some(u32::from(self.info.classes[c].range.start()));
            }
        }
        match self.resolve(n.id.as_str())? {
            Binding::Instance(k) => Some(u32::from(self.info.classes[self.instance_of(&k)?].range.start())),
            _ => None,
        }
    }

    /// The class an `Instance` binding is an instance of: `K` or a factory
    /// `K.create`.
    fn instance_of(&self, k: &str) -> Option<ClassId> {
        // A fixture's object: the class by id.
        if let Some(id) = k.strip_prefix('@') {
            return id.parse().ok();
        }
        let (class, factory) = match k.split_once('.') {
            Some((c, f)) => (c, Some(f)),
            None => (k, None),
        };
        let c = match self.resolve(class)? {
            Binding::Class(start) => self.class_by_start(start)?,
            // `x = module.K(...)`
            Binding::Import(_) => {
                let Some(Binding::Class(start)) = self.foreign_attrs.get(&(class.to_string(), factory?.to_string()))
                else {
                    return None;
                };
                return self.class_by_start(*start);
            }
            _ => return None,
        };
        match factory {
            None => Some(c),
            Some(f) => {
                let m = *self.info.classes[c].methods.get(f)?;
                self.info.funcs[m].factory.then_some(c)
            }
        }
    }

    fn call_args(&self, c: &ast::ExprCall) -> CallArgs {
        let bound = match &*c.func {
            Expr::Attribute(a) => {
                !matches!(&*a.value, Expr::Name(n) if matches!(self.resolve(n.id.as_str()), Some(Binding::Class(_))))
            }
            _ => false,
        };
        CallArgs {
            pos: c.args.iter().map(|a| self.instance_class(a)).collect(),
            kw: c
                .keywords
                .iter()
                .filter_map(|k| Some((k.arg.as_ref()?.to_string(), self.instance_class(&k.value))))
                .collect(),
            starred: c.args.iter().any(|a| matches!(a, Expr::Starred(_))) || c.keywords.iter().any(|k| k.arg.is_none()),
            bound,
        }
    }

    /// Inside a decorator's wrapper: the name of the wrapped function.
    fn wrapper_param(&self) -> Option<&str> {
        let f = self.current_func()?;
        self.wrappers.get(&u32::from(self.info.funcs[f].range.start())).map(|(p, _)| p.as_str())
    }

    fn fn_var(&self, name: &str) -> Option<Vec<FuncId>> {
        self.fn_vars.iter().rev().find(|(n, _)| n == name).map(|(_, f)| f.clone())
    }

    /// `for a, f in <literal>`: the loop variables that surely hold module
    /// functions, each with the functions it may hold. The literal is the
    /// iterated expression itself, or a local bound once to it and used
    /// only there.
    fn function_loop_vars(&mut self, f: &ast::StmtFor) -> Vec<(String, Vec<FuncId>)> {
        let lit = match &*f.iter {
            e @ (Expr::List(_) | Expr::Tuple(_)) => Some(e.clone()),
            Expr::Name(n) => self.literals.last().and_then(|l| l.get(n.id.as_str()).cloned()),
            _ => None,
        };
        let Some(lit) = lit else { return vec![] };
        let elts = match &lit {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            _ => return vec![],
        };
        if elts.is_empty() {
            return vec![];
        }
        // (variable, position in each element; None: the whole element)
        let slots: Vec<(String, Option<usize>)> = match &*f.target {
            Expr::Name(n) => vec![(n.id.to_string(), None)],
            Expr::Tuple(t) => t
                .elts
                .iter()
                .enumerate()
                .filter_map(|(i, x)| match x {
                    Expr::Name(n) => Some((n.id.to_string(), Some(i))),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        };
        let mut out = vec![];
        for (var, pos) in slots {
            let mut funcs = vec![];
            let mut refs = vec![];
            let all = elts.iter().all(|el| {
                let item = match (pos, el) {
                    (None, e) => Some(e),
                    (Some(i), Expr::Tuple(t)) => t.elts.get(i),
                    _ => None,
                };
                match item {
                    Some(Expr::Name(n)) => match self.resolve(n.id.as_str()) {
                        Some(Binding::Def(start)) => match self.info.func_at(start) {
                            Some(fid) => {
                                if !funcs.contains(&fid) {
                                    funcs.push(fid);
                                }
                                refs.push(n.range);
                                true
                            }
                            None => false,
                        },
                        _ => false,
                    },
                    _ => false,
                }
            });
            if all {
                self.excused.extend(refs);
                out.push((var, funcs));
            }
        }
        out
    }

    fn rebinds_self(&self, name: &str) -> bool {
        // The parameter itself is the only allowed binding.
        match self.scopes.last() {
            Some(f) => f.b.names.get(name).is_some_and(|v| v.len() > 1),
            None => false,
        }
    }
}

/// Every attribute name a body uses.
fn attribute_names(body: &[Stmt]) -> HashSet<String> {
    struct A(HashSet<String>);
    impl<'a> Visitor<'a> for A {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Attribute(a) = e {
                self.0.insert(a.attr.to_string());
            }
            walk_expr(self, e);
        }
    }
    let mut a = A(HashSet::new());
    a.visit_body(body);
    a.0
}

/// Names a test runner (pytest, unittest) calls by itself.
fn is_test_hook(n: &str) -> bool {
    n.starts_with("test")
        || matches!(
            n,
            "setUp"
                | "tearDown"
                | "setUpClass"
                | "tearDownClass"
                | "setUpModule"
                | "tearDownModule"
                | "setup_method"
                | "teardown_method"
                | "setup_function"
                | "teardown_function"
                | "setup_module"
                | "teardown_module"
                | "setup_class"
                | "teardown_class"
                | "asyncSetUp"
                | "asyncTearDown"
        )
}

/// Whether every `return` in a body (not in nested defs) is `name(...)`,
/// and there is at least one.
fn returns_only_calls_of(body: &[Stmt], name: &str) -> bool {
    struct R<'n> {
        name: &'n str,
        seen: bool,
        all: bool,
    }
    impl<'a> Visitor<'a> for R<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Return(r) => {
                    self.seen = true;
                    let ok = matches!(r.value.as_deref(), Some(Expr::Call(c)) if matches!(&*c.func, Expr::Name(n) if n.id.as_str() == self.name));
                    self.all &= ok;
                }
                _ => walk_stmt(self, s),
            }
        }
    }
    let mut r = R { name, seen: false, all: true };
    r.visit_body(body);
    r.seen && r.all
}

/// A generator an async generator can replace: no `return <value>`, and
/// `yield from` only as a statement.
pub fn simple_generator(body: &[Stmt]) -> bool {
    struct S(bool);
    impl<'a> Visitor<'a> for S {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Return(r) if r.value.is_some() => self.0 = false,
                Stmt::Expr(x) if matches!(&*x.value, Expr::YieldFrom(_)) => {
                    if let Expr::YieldFrom(y) = &*x.value {
                        self.visit_expr(&y.value);
                    }
                }
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::YieldFrom(_) => self.0 = false,
                Expr::Lambda(_) | Expr::GeneratorExp(_) => {}
                _ => walk_expr(self, e),
            }
        }
    }
    let mut v = S(true);
    v.visit_body(body);
    v.0
}

pub(crate) fn is_generator(body: &[Stmt]) -> bool {
    struct Y(bool);
    impl<'a> Visitor<'a> for Y {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Yield(_) | Expr::YieldFrom(_) => self.0 = true,
                Expr::Lambda(_) | Expr::GeneratorExp(_) => {}
                _ => walk_expr(self, e),
            }
        }
    }
    let mut y = Y(false);
    y.visit_body(body);
    y.0
}

/// The loops of a `__main__` block (outside nested defs and classes): a
/// `for` or `while` statement, a comprehension.
pub fn guard_loops(body: &[Stmt]) -> Vec<TextRange> {
    struct L(Vec<TextRange>);
    impl<'a> Visitor<'a> for L {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::For(_) | Stmt::While(_) | Stmt::AsyncFor(_) => {
                    self.0.push(s.range());
                    walk_stmt(self, s)
                }
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Lambda(_) => {}
                Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::GeneratorExp(_) => {
                    self.0.push(e.range());
                    walk_expr(self, e)
                }
                _ => walk_expr(self, e),
            }
        }
    }
    let mut l = L(vec![]);
    l.visit_body(body);
    l.0
}

/// Why the body of a `__main__` block would mean something else inside a
/// function (with `global` declarations for the names it binds): `from m
/// import *` (not allowed in a function), an annotated name (cannot be
/// declared `global`), a `global` statement, or a call that reads or
/// writes the current namespace (`locals()`, `vars()`, `dir()`, `exec`,
/// `eval`), or a call that starts an event loop (`asyncio.run`,
/// `loop.run_until_complete`: not allowed while one runs). None: it can
/// move.
pub fn guard_fixed(body: &[Stmt]) -> Option<String> {
    struct F(Option<String>);
    impl<'a> Visitor<'a> for F {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if self.0.is_some() {
                return;
            }
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::ImportFrom(i) if i.names.iter().any(|a| a.name.as_str() == "*") => {
                    self.0 = Some("it has a `from ... import *`, which a function cannot hold".into());
                }
                Stmt::AnnAssign(a) if matches!(&*a.target, Expr::Name(_)) => {
                    self.0 = Some("it annotates a name, which a function cannot declare `global`".into());
                }
                Stmt::Global(_) | Stmt::Nonlocal(_) => {
                    self.0 = Some("it has a `global` statement".into());
                }
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if self.0.is_some() {
                return;
            }
            if let Expr::Call(c) = e
                && let Some(d) = dotted_name(&c.func)
                && (matches!(d.as_str(), "asyncio.run" | "trio.run" | "anyio.run")
                    || d.ends_with(".run_until_complete")
                    || d.ends_with(".run_forever"))
            {
                self.0 = Some(format!("it starts an event loop itself (`{d}(...)`), which cannot run inside one"));
                return;
            }
            if let Expr::Call(c) = e
                && let Expr::Name(n) = &*c.func
                && (matches!(n.id.as_str(), "exec" | "eval")
                    || (matches!(n.id.as_str(), "locals" | "vars" | "dir") && c.args.is_empty()))
            {
                self.0 = Some(format!("it calls `{}()`, which reads the module's namespace there", n.id));
                return;
            }
            if !matches!(e, Expr::Lambda(_)) {
                walk_expr(self, e);
            }
        }
    }
    let mut f = F(None);
    f.visit_body(body);
    f.0
}

/// The `__main__` block cannot become one async function (`why`): when
/// its calls of the module's functions might need one event loop (more
/// than one, or one in a loop), they count as calls at module level from
/// now on, so the functions they call stay sync, with `why` in their
/// diagnostic. True if it did so.
pub fn fix_guard(info: &mut ModuleInfo, why: String) -> bool {
    let Some(guard) = info.main_guard else { return false };
    let calls: Vec<usize> = (0..info.calls.len())
        .filter(|&k| {
            let c = &info.calls[k];
            guard.contains_range(c.range) && c.ctx.main_guard_call() && (c.target.is_some() || !c.targets.is_empty())
        })
        .collect();
    let looped = calls.iter().any(|&k| info.guard_loops.iter().any(|l| l.contains_range(info.calls[k].range)));
    if calls.len() < 2 && !looped {
        return false;
    }
    for k in calls {
        info.calls[k].ctx.in_main_guard = false;
    }
    info.main_guard_fixed = Some(why);
    true
}

fn is_main_guard(s: &Stmt) -> bool {
    let Stmt::If(i) = s else { return false };
    let Expr::Compare(c) = &*i.test else { return false };
    if c.ops.len() != 1 || c.ops[0] != ast::CmpOp::Eq {
        return false;
    }
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main =
        |e: &Expr| matches!(e, Expr::Constant(k) if matches!(&k.value, ast::Constant::Str(s) if s == "__main__"));
    (is_name(&c.left) && is_main(&c.comparators[0])) || (is_main(&c.left) && is_name(&c.comparators[0]))
}

impl<'a> Visitor<'a> for Analyser<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(ast::StmtFunctionDef { decorator_list, args, returns, body, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { decorator_list, args, returns, body, .. }) => {
                decorator_list.iter().for_each(|d| self.visit_expr(d));
                self.visit_arguments(args);
                if let Some(r) = returns {
                    self.visit_expr(r);
                }
                let id = self.info.func_at(s.range().start().into()).unwrap_or(0);
                let mut b = scope::collect(body);
                let rebound: Vec<String> =
                    self.info.funcs[id].params.iter().filter(|p| b.names.contains_key(*p)).cloned().collect();
                scope::collect_args(args, &mut b);
                let params: Vec<String> = args
                    .posonlyargs
                    .iter()
                    .chain(&args.args)
                    .chain(&args.kwonlyargs)
                    .map(|a| a.def.arg.to_string())
                    .chain(args.vararg.iter().chain(&args.kwarg).map(|a| a.arg.to_string()))
                    .collect();
                self.local_import_bindings(body, &mut b, &params);
                let start = u32::from(s.range().start());
                for p in self.info.funcs[id].params.clone().iter().chain(&self.info.funcs[id].kwonly.clone()) {
                    if let Some(k) = self.param_types.get(&(start, p.clone()))
                        && !rebound.contains(p)
                    {
                        b.names.insert(p.clone(), vec![Binding::Instance(k.clone())]);
                    }
                }
                // A test or fixture parameter named like a fixture whose
                // value is a project object.
                let named = |d: &Expr| {
                    let f = match d {
                        Expr::Call(c) => &*c.func,
                        e => e,
                    };
                    dotted_name(f).is_some_and(|n| n == "fixture" || n.ends_with(".fixture"))
                };
                let fname = self.info.funcs[id].name.clone();
                if !self.fixture_types.is_empty() && (fname.starts_with("test") || decorator_list.iter().any(named)) {
                    for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                        let p = a.def.arg.to_string();
                        if a.def.annotation.is_none()
                            && !rebound.contains(&p)
                            && let Some(&c) = self.fixture_types.get(&p)
                        {
                            b.names.insert(p, vec![Binding::Instance(format!("@{c}"))]);
                        }
                    }
                }
                // `def f(client: Client)`: an annotated parameter holds an
                // instance of that project class (or of a subclass, whose
                // overriding methods are async together with it).
                for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                    let p = a.def.arg.to_string();
                    if rebound.contains(&p) || b.names.get(&p).is_some_and(|v| matches!(v[..], [Binding::Instance(_)]))
                    {
                        continue;
                    }
                    if let Some(k) = a.def.annotation.as_deref().and_then(|t| self.annotation_class(t)) {
                        b.names.insert(p, vec![Binding::Instance(k)]);
                    }
                }
                self.scopes.push(Frame { kind: FrameKind::Func(id), b });
                let counts = name_counts(body);
                let mut lits = HashMap::new();
                for st in body {
                    if let Stmt::Assign(a) = st
                        && let [Expr::Name(n)] = &a.targets[..]
                        && matches!(&*a.value, Expr::List(_) | Expr::Tuple(_))
                        && counts.get(n.id.as_str()) == Some(&(1, 1))
                    {
                        lits.insert(n.id.to_string(), (*a.value).clone());
                    }
                }
                self.literals.push(lits);
                let saved = self.ctx;
                let saved_vars = std::mem::take(&mut self.fn_vars);
                if let Some((param, decorated)) = self.wrappers.get(&u32::from(s.range().start())) {
                    // The wrapper calls the decorated functions through `param`.
                    self.fn_vars.push((param.clone(), decorated.clone()));
                }
                self.ctx = Ctx { func: Some(id), ..Ctx::default() };
                self.visit_body(body);
                self.ctx = saved;
                self.fn_vars = saved_vars;
                self.literals.pop();
                self.scopes.pop();
            }
            Stmt::ClassDef(c) => {
                c.decorator_list.iter().for_each(|d| self.visit_expr(d));
                c.bases.iter().for_each(|d| self.visit_expr(d));
                c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
                self.scopes.push(Frame { kind: FrameKind::Class, b: scope::collect(&c.body) });
                let saved = self.ctx;
                self.ctx.in_class_body = true;
                self.visit_body(&c.body);
                self.ctx = saved;
                self.scopes.pop();
            }
            // (A guard nested in the guard is plain code of the outer one,
            // and so is one in a module-level `with`, `for` or `try`.)
            Stmt::If(i) if self.module_stmts.contains(&s.range()) && !self.ctx.in_main_guard && is_main_guard(s) => {
                self.info.main_guard = Some(s.range());
                self.info.guard_loops = guard_loops(&i.body);
                self.visit_expr(&i.test);
                let saved = self.ctx;
                self.ctx.in_main_guard = true;
                self.visit_body(&i.body);
                self.ctx = saved;
                // Calls that may need one event loop for the whole block,
                // in a block that cannot be one async function: they stay
                // sync, as calls at module level do.
                if let Some(why) = guard_fixed(&i.body) {
                    fix_guard(&mut self.info, why);
                }
                self.visit_body(&i.orelse);
            }
            Stmt::With(w) if self.current_func().is_some() && w.items.len() == 1 => {
                let e = &w.items[0].context_expr;
                let class = match e {
                    Expr::Call(c) => self.class_named(&c.func),
                    e => self.receiver_class(e),
                };
                if let Some(c) = class
                    && let Some(enter) = self.method_in_class(c, "__enter__", 0)
                {
                    self.info.call_index.insert(s.range(), self.info.calls.len());
                    self.info.calls.push(CallSite {
                        range: s.range(),
                        qualname: None,
                        target: Some(enter),
                        ctx: self.ctx,
                        targets: vec![],
                        wraps: false,
                        iter: Some(IterSite::With(s.range())),
                        args: CallArgs::default(),
                        pooled: false,
                    });
                }
                walk_stmt(self, s)
            }
            Stmt::For(f) if self.current_func().is_some() => {
                let vars = self.function_loop_vars(f);
                if matches!(&*f.iter, Expr::Call(_)) {
                    self.iter_site = Some((f.iter.range(), IterSite::For(s.range())));
                } else if let Some(c) = self.receiver_class(&f.iter)
                    && let Some(it) = self.method_in_class(c, "__iter__", 0)
                    && !self.info.call_index.contains_key(&f.iter.range())
                {
                    // `for x in obj` with `obj` of a project class: a call of
                    // its `__iter__` (an async generator once it awaits,
                    // then iterated with `async for`).
                    self.info.call_index.insert(f.iter.range(), self.info.calls.len());
                    self.info.calls.push(CallSite {
                        range: f.iter.range(),
                        qualname: None,
                        target: Some(it),
                        ctx: self.ctx,
                        targets: vec![],
                        wraps: false,
                        iter: Some(IterSite::For(s.range())),
                        args: CallArgs::default(),
                        pooled: false,
                    });
                }
                self.visit_expr(&f.iter);
                self.visit_expr(&f.target);
                let n = vars.len();
                self.fn_vars.extend(vars);
                self.visit_body(&f.body);
                self.fn_vars.truncate(self.fn_vars.len() - n);
                self.visit_body(&f.orelse);
            }
            Stmt::Expr(x) if matches!(&*x.value, Expr::YieldFrom(y) if matches!(&*y.value, Expr::Call(_))) => {
                if let Expr::YieldFrom(y) = &*x.value {
                    self.iter_site = Some((y.value.range(), IterSite::YieldFrom(s.range())));
                }
                walk_stmt(self, s)
            }
            _ => walk_stmt(self, s),
        }
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) => {
                let qualname = self.qualname(&c.func);
                let target = self.call_target(&c.func);
                let targets = match &*c.func {
                    Expr::Name(n) => self.fn_var(n.id.as_str()).unwrap_or_default(),
                    _ => vec![],
                };
                let idx = self.info.calls.len();
                self.info.call_index.insert(e.range(), idx);
                let args = if target.is_some() { self.call_args(c) } else { CallArgs::default() };
                let iter = match self.iter_site {
                    Some((r, site)) if r == e.range() => Some(site),
                    _ => None,
                };
                let wraps = !targets.is_empty()
                    && matches!(&*c.func, Expr::Name(n) if self.wrapper_param().is_some_and(|p| p == n.id.as_str()));
                self.info.calls.push(CallSite {
                    range: e.range(),
                    qualname,
                    target,
                    ctx: self.ctx,
                    args,
                    targets: targets.clone(),
                    wraps,
                    iter,
                    pooled: false,
                });
                // The func expression: a resolved target is not a loose reference.
                match &*c.func {
                    Expr::Name(_) if target.is_some() || !targets.is_empty() => {}
                    Expr::Attribute(a) if target.is_some() => self.visit_expr(&a.value),
                    Expr::Attribute(a) => {
                        // `module.f()` (an import) cannot be a method here.
                        if self.qualname(&c.func).is_none() {
                            self.info.loose_attrs.entry(a.attr.to_string()).or_default().push(a.range);
                        }
                        self.visit_expr(&a.value);
                    }
                    f => self.visit_expr(f),
                }
                c.args.iter().for_each(|x| self.visit_expr(x));
                c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
            }
            Expr::Name(n) => {
                match self.resolve(n.id.as_str()) {
                    Some(Binding::Import(q)) if !q.starts_with("builtins.") => {
                        self.info.refs.insert(e.range(), q);
                    }
                    Some(b) => {
                        if let Some(q) = self.foreign_import(n.id.as_str(), &b) {
                            self.info.refs.insert(e.range(), q);
                        }
                    }
                    None => {}
                }
                if let Some(Binding::Def(start)) = self.resolve(n.id.as_str())
                    && let Some(f) = self.info.func_at(start)
                {
                    self.info.value_refs.push(ValueRef {
                        func: f,
                        range: e.range(),
                        what: format!("`{}` is used as a value", n.id),
                    });
                }
                // A loop variable holding functions, used other than called.
                if matches!(n.ctx, ast::ExprContext::Load)
                    && let Some(fs) = self.fn_var(n.id.as_str())
                {
                    for f in fs {
                        self.info.value_refs.push(ValueRef {
                            func: f,
                            range: e.range(),
                            what: format!("`{}` is passed on through `{}`", self.info.funcs[f].name, n.id),
                        });
                    }
                }
            }
            Expr::Attribute(a) => {
                self.info.attr_ctx.insert(e.range(), self.ctx);
                if let Some(Binding::Def(start)) = self.foreign_attr(&a.value, a.attr.as_str())
                    && let Some(f) = self.info.func_at(start)
                {
                    self.info.value_refs.push(ValueRef {
                        func: f,
                        range: e.range(),
                        what: format!("`{}` is used as a value", dotted_name(e).unwrap_or_default()),
                    });
                }
                // A store (`self.request = request`) reads no method, nor
                // does a read of a data attribute of an object whose class is
                // known and has no method of that name.
                let data_attr = self.data_attrs.contains(&e.range())
                    || self
                        .receiver_class(&a.value)
                        .is_some_and(|c| self.method_in_class(c, a.attr.as_str(), 0).is_none());
                // `x.request.url`: whatever `x.request` is, it is no method
                // (a bound method has no such attribute).
                if let Expr::Attribute(inner) = &*a.value
                    && !a.attr.as_str().starts_with("__")
                {
                    self.data_attrs.insert(inner.range);
                }
                if matches!(a.ctx, ast::ExprContext::Load) && !data_attr && self.qualname(e).is_none() {
                    self.info.loose_attrs.entry(a.attr.to_string()).or_default().push(a.range);
                }
                if let Some(q) = self.qualname(e)
                    && !q.starts_with("builtins.")
                {
                    self.info.refs.insert(e.range(), q);
                }
                // `func.__name__` on a variable holding functions reads it, no escape.
                let reads_fn_var = matches!(&*a.value, Expr::Name(n) if self.fn_var(n.id.as_str()).is_some());
                if !reads_fn_var {
                    self.visit_expr(&a.value);
                }
            }
            Expr::Lambda(l) => {
                self.visit_arguments(&l.args);
                let mut b = Bindings::default();
                scope::collect_args(&l.args, &mut b);
                self.scopes.push(Frame { kind: FrameKind::Other, b });
                let saved = self.ctx;
                self.ctx.in_lambda = true;
                self.visit_expr(&l.body);
                self.ctx = saved;
                self.scopes.pop();
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::GeneratorExp(_) => {
                let gens = match e {
                    Expr::ListComp(c) => &c.generators,
                    Expr::SetComp(c) => &c.generators,
                    Expr::DictComp(c) => &c.generators,
                    Expr::GeneratorExp(c) => &c.generators,
                    _ => unreachable!(),
                };
                let mut b = Bindings::default();
                fn targets(e: &Expr, b: &mut Bindings) {
                    match e {
                        Expr::Name(n) => b.add(n.id.as_str(), Binding::Other),
                        Expr::Tuple(t) => t.elts.iter().for_each(|x| targets(x, b)),
                        Expr::List(t) => t.elts.iter().for_each(|x| targets(x, b)),
                        Expr::Starred(s) => targets(&s.value, b),
                        _ => {}
                    }
                }
                gens.iter().for_each(|g| targets(&g.target, &mut b));
                // The first iterable is evaluated in the enclosing scope.
                let comp = !matches!(e, Expr::GeneratorExp(_));
                if let Some(g) = gens.first() {
                    if comp && matches!(g.iter, Expr::Call(_)) {
                        self.iter_site = Some((g.iter.range(), IterSite::Comp(g.iter.range())));
                    }
                    self.visit_expr(&g.iter);
                }
                self.scopes.push(Frame { kind: FrameKind::Other, b });
                let saved = self.ctx;
                if matches!(e, Expr::GeneratorExp(_)) {
                    self.ctx.in_genexp = true;
                }
                for (i, g) in gens.iter().enumerate() {
                    if i > 0 {
                        if comp && matches!(g.iter, Expr::Call(_)) {
                            self.iter_site = Some((g.iter.range(), IterSite::Comp(g.iter.range())));
                        }
                        self.visit_expr(&g.iter);
                    }
                    self.visit_expr(&g.target);
                    g.ifs.iter().for_each(|x| self.visit_expr(x));
                }
                match e {
                    Expr::ListComp(c) => self.visit_expr(&c.elt),
                    Expr::SetComp(c) => self.visit_expr(&c.elt),
                    Expr::GeneratorExp(c) => self.visit_expr(&c.elt),
                    Expr::DictComp(c) => {
                        self.visit_expr(&c.key);
                        self.visit_expr(&c.value);
                    }
                    _ => {}
                }
                self.ctx = saved;
                self.scopes.pop();
            }
            _ => walk_expr(self, e),
        }
    }
}
