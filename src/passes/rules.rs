//! The `rules` pass: the user's own sync -> async map (`[[rule]]` rows).

use super::{Diagnostic, Pass, PassCx, Seed};
use crate::analysis::{Ctx, FuncId, ModuleInfo};
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{await_, dotted, dotted_name, fold_ok, synth, to_async_kind};
use crate::transforms::{RuleKind, Tables, UserRule};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr, Fold, Ranged, Stmt};
use std::collections::{HashMap, HashSet};

crate::pass_doc!(
    "Applies the user's own rules: a sync API renamed to its async twin, awaited, entered with `async with`, iterated with `async for`.

## What it does
Each `[[rule]]` row (in `pyproject.toml` as `[[tool.awaitify.rule]]`, in a
`--config` file, or in a `--tables` file) names a sync API (`sync`) and
its async twin (`async`). By `kind`:

- `kind = \"name\"` (the default) with a dotted `sync`
  (`pkg.sync.SyncBackend`): every reference that resolves through the
  module's imports to that name is renamed. `from pkg.sync import
  SyncBackend` becomes `from pkg.aio import AsyncBackend` and the uses follow
  (when the `from` import holds other names, or the new name is taken, the
  import stays and the uses become `pkg.aio.AsyncBackend`, with `import
  pkg.aio`, or the module named by `import`); `pkg.sync.SyncBackend` after
  `import pkg.sync` becomes `pkg.aio.AsyncBackend`. An asyncio name
  (`asyncio.Lock`) follows `--runtime` through the runtime's rename table.
- `kind = \"name\"` with a bare identifier (`handle_request`): every def,
  class, parameter, keyword argument, attribute, name, imported name,
  `global`/`nonlocal` name, `except ... as` name and `match` capture (and
  class-pattern attribute) spelled exactly so is renamed in place, as
  unasync does, but on the syntax tree: never inside strings or comments,
  never part of a longer name.
- `kind = \"module\"`: import paths only: `import a.b` (and `a.b.x` after
  it), `from a.b import x`, `from a.b.c import x`, `from a import b`
  (which keeps the local name: `from c import d as b`).
- `kind = \"string\"`: string literals equal to `sync`, or starting with
  `sync.` (`mock.patch(\"pkg.sync.Backend.get\")`), are rewritten.

Flags of a `name` rule:

- `await`: a call of it becomes `await <async>(...)`.
- `async_with`: a `with` over a call of it becomes `async with`; so does a
  `with` over a local variable assigned once from such a call, or over a
  `self.` attribute assigned once in the module from such a call (`self._lock
  = threading.Lock()`, then `with self._lock:`). A variable of the module
  or of a class body, or one a nested function uses, is not followed.
- `async_for`: `for x in it(...)` becomes `async for`.
- `async_def` (bare names): every def of that name becomes `async def
  <async>`: `__enter__` -> `__aenter__`, `__exit__` -> `__aexit__`,
  `__next__` -> `__anext__`, `close` -> `aclose`. (`__iter__` ->
  `__aiter__` is a plain rename: `__aiter__` is not a coroutine.)

Awaited calls, `async with` and `async for` are seeds of the colouring: the
function that holds them becomes `async def`, its callers await it, and so
on up the call graph. A def forced by `async_def` becomes async whatever its
boundaries (a special method, a decorator): the user said so.

## Why is this bad
A team's own blocking APIs (`SyncBackend`, a `threading.Lock`, a sync
context manager) block the event loop as much as `time.sleep`; no built-in
table knows them.

## Example
```toml
[[rule]]
sync = \"threading.Lock\"
async = \"asyncio.Lock\"
async_with = true
```

```python
import threading


class Counter:
    def __init__(self):
        self._lock = threading.Lock()
        self.n = 0

    def add(self):
        with self._lock:
            self.n += 1
```

## Use instead
```python
import asyncio
import threading


class Counter:
    def __init__(self):
        self._lock = asyncio.Lock()
        self.n = 0

    async def add(self):
        async with self._lock:
            self.n += 1
```

## Not converted
A rule with `await`, `async_with` or `async_for` converts all of its sites
in a module, or none: if one of them cannot become async (a special method,
a lambda, module level...), or the name is used other than called
(passed as a value, kept in a list, called outside `with` for an
`async_with` rule), the module keeps that rule's code as it is, with a
diagnostic. A `with` of several items is not converted. Bare-name rules
match every occurrence of the identifier, on any object: a rule for `close`
renames `f.close()` on a file too. A rename with no `await` is applied
everywhere. With `async_def`, the defs are converted in any case; a call of
one that cannot be awaited is reported. `raise StopIteration` in a
`__next__` that becomes `__anext__` is not changed to `StopAsyncIteration`.
A rewritten string literal is printed in double quotes.

## Fix safety
Unsafe in the sense that the rules are the user's claims: the tool trusts
that `async` is the async twin of `sync`. Everything it derives from them
(awaits, async defs up the call graph) is checked like any other seed.
"
);

pub struct Rules;

impl Pass for Rules {
    fn name(&self) -> &'static str {
        "rules"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn interested(&self, src: &str, tables: &Tables) -> bool {
        tables.rule.iter().any(|r| {
            let key = if r.kind == RuleKind::String { &r.sync } else { r.sync.rsplit('.').next().unwrap_or(&r.sync) };
            src.contains(key)
        })
    }
    fn standalone(&self) -> bool {
        true
    }
    fn prepare(&self, body: &[Stmt], info: &mut ModuleInfo, tables: &Tables, _path: &str) {
        for r in tables.rule.iter().filter(|r| r.async_def) {
            for f in info.funcs.iter_mut().filter(|f| f.name == r.sync) {
                f.forced = true;
                f.boundary = None;
            }
        }
        // `__iter__` renamed `__aiter__`: the user says iteration of these
        // objects is asynchronous, and a generator `__aiter__` may then
        // become an async generator (what `__aiter__` must be when it
        // yields). Loops over such objects that the analysis can tell become
        // `async for` only through the colouring's own iteration sites.
        for r in
            tables.rule.iter().filter(|r| r.kind == RuleKind::Name && r.sync == "__iter__" && r.async_ == "__aiter__")
        {
            for f in info.funcs.iter_mut().filter(|f| f.name == r.sync && f.generator && f.foreign.is_none()) {
                if f.boundary.as_deref().is_some_and(|b| b.contains("special method")) {
                    f.boundary = None;
                }
            }
        }
        let scan = Scan::new(body, info, tables);
        for (range, ctx) in scan.name_ctx {
            info.attr_ctx.insert(range, ctx);
        }
    }
    fn seeds(&self, body: &[Stmt], info: &ModuleInfo, tables: &Tables, d: &mut Vec<Diagnostic>) -> Vec<Seed> {
        let scan = Scan::new(body, info, tables);
        let mut out = vec![];
        for (i, (rule, rs)) in tables.rule.iter().zip(&scan.per_rule).enumerate() {
            if let Some((at, why)) = &rs.veto {
                d.push(Diagnostic {
                    offset: at.start().into(),
                    pass: "rules",
                    message: format!("rule `{}` -> `{}` not applied in this module: {why}", rule.sync, rule.async_),
                });
                continue;
            }
            for s in &rs.sites {
                out.push(Seed {
                    call: s.seed,
                    pass: "rules",
                    what: rule.sync.clone(),
                    // All of a rule's sites convert together (a renamed
                    // `asyncio.Lock` must not stay in a sync `with`), except
                    // for forced defs, which are async whatever happens.
                    group: (!rule.async_def).then(|| format!("rules:{i}")),
                    veto: false,
                });
            }
        }
        out
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        if cx.tables.rule.is_empty() {
            return body;
        }
        let scan = Scan::new(&body, cx.info, cx.tables);
        let mut active = vec![];
        let (mut awaits, mut withs, mut fors) = (HashSet::new(), HashSet::new(), HashSet::new());
        let mut keep = HashSet::new();
        for (rule, rs) in cx.tables.rule.iter().zip(&scan.per_rule) {
            let ok = |s: &Site| cx.colour.seeds_ok.contains(&s.seed);
            let on = rs.veto.is_none() && (rule.async_def || rs.sites.iter().all(ok));
            let target = match rule.kind {
                RuleKind::Name if !rule.bare() => cx.tables.runtime_name(&rule.async_),
                _ => Some(rule.async_.clone()),
            };
            let Some(target) = target else {
                cx.diagnostics.push(Diagnostic {
                    offset: 0,
                    pass: "rules",
                    message: format!(
                        "rule `{}` -> `{}` not applied: `{}` has no equivalent in {} (add one under [runtime.rename] in a table)",
                        rule.sync,
                        rule.async_,
                        rule.async_,
                        cx.tables.target.name()
                    ),
                });
                active.push(None);
                continue;
            };
            if !on {
                active.push(None);
                continue;
            }
            // A forced rule's site that cannot be async stays as it was.
            keep.extend(rs.sites.iter().filter(|s| !ok(s)).map(|s| s.func));
            for s in rs.sites.iter().filter(|s| ok(s)) {
                match s.how {
                    How::Await => {
                        awaits.insert(s.seed);
                    }
                    How::With(w) => {
                        withs.insert(w);
                    }
                    How::For(f) => {
                        fors.insert(f);
                    }
                }
            }
            active.push(Some(target));
        }
        // Calls of forced defs that nothing awaits.
        for (f, info) in cx.info.funcs.iter().enumerate() {
            if !info.forced || info.is_async {
                continue;
            }
            for c in cx.info.calls_of(f) {
                let r = c.range;
                // `with obj:` entering it: `async with` by the colouring or a rule.
                if let Some(site @ crate::analysis::IterSite::With(w)) = c.iter
                    && (cx.colour.async_iter.contains(&site) || withs.contains(&w))
                {
                    continue;
                }
                let awaited = [&cx.colour.await_calls, &cx.colour.run_calls, &awaits, &scan.awaited];
                if !awaited.iter().any(|set| set.contains(&r)) {
                    cx.diagnostics.push(Diagnostic {
                        offset: r.start().into(),
                        pass: "rules",
                        message: format!(
                            "`{}` becomes async (rule `async_def`), but this call of it cannot be awaited",
                            info.name
                        ),
                    });
                }
            }
        }
        for (i, rule) in cx.tables.rule.iter().enumerate() {
            if let (Some(_), Some((at, why))) = (&active[i], &scan.per_rule[i].module_veto) {
                cx.diagnostics.push(Diagnostic {
                    offset: at.start().into(),
                    pass: "rules",
                    message: format!("rule `{}` -> `{}` not applied in this module: {why}", rule.sync, rule.async_),
                });
                active[i] = None;
            }
        }
        if active.iter().all(Option::is_none) {
            return body;
        }
        let modes: Vec<Mode> = cx
            .tables
            .rule
            .iter()
            .zip(&active)
            .zip(&scan.per_rule)
            .map(|((r, t), rs)| match t {
                Some(t) if r.kind == RuleKind::Name && !r.bare() => {
                    let new_local = t.rsplit('.').next().unwrap_or(t);
                    let old_local = r.sync.rsplit('.').next().unwrap_or(&r.sync);
                    if rs.from_split || (rs.unaliased_from && new_local != old_local && scan.idents.contains(new_local))
                    {
                        Mode::Qualified
                    } else {
                        Mode::Rename
                    }
                }
                _ => Mode::Rename,
            })
            .collect();
        let mut f = Folder {
            cx,
            active,
            modes,
            awaits,
            withs,
            fors,
            awaited: scan.awaited,
            quals: scan.quals,
            keep,
            fstring: 0,
        };
        body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Await,
    /// The `with` statement that becomes `async with`.
    With(TextRange),
    /// The `for` statement that becomes `async for`.
    For(TextRange),
}

#[derive(Clone, Copy, Debug)]
struct Site {
    /// The seed: a call, or the variable or attribute a `with` enters.
    seed: TextRange,
    /// The reference to the rule's name (the called expression), or the seed.
    func: TextRange,
    how: How,
}

#[derive(Default, Debug)]
struct RuleScan {
    sites: Vec<Site>,
    /// Why the rule's sites cannot convert in this module.
    veto: Option<(TextRange, String)>,
    /// Why a module rename would break the module.
    module_veto: Option<(TextRange, String)>,
    /// A `from M import N` of this rule shares its statement with other
    /// names of another module.
    from_split: bool,
    /// Some `from M import N` has no `as`: the local name changes.
    unaliased_from: bool,
}

impl RuleScan {
    fn veto(&mut self, at: TextRange, why: String) {
        if self.veto.is_none() {
            self.veto = Some((at, why));
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Import statements are rewritten and the uses follow the new name.
    Rename,
    /// Import statements stay; the uses become the qualified async name.
    Qualified,
}

/// What the module holds for each rule (computed the same way by
/// `prepare`, `seeds` and `run`).
struct Scan {
    per_rule: Vec<RuleScan>,
    /// Variables a `with` enters, with their context (seeds that are
    /// neither calls nor attributes).
    name_ctx: Vec<(TextRange, Ctx)>,
    /// Calls directly under `await`.
    awaited: HashSet<TextRange>,
    /// Every identifier the module binds or uses.
    idents: HashSet<String>,
    /// Qualified names of Name/Attribute expressions, called ones too.
    quals: HashMap<TextRange, String>,
}

/// Facts about expressions' parents, gathered before classifying.
#[derive(Default)]
struct Parents {
    /// func expression -> its call.
    call_of: HashMap<TextRange, TextRange>,
    awaited: HashSet<TextRange>,
    /// context expression -> (with statement, number of items).
    with_item: HashMap<TextRange, (TextRange, usize)>,
    /// iterable -> for statement.
    for_iter: HashMap<TextRange, TextRange>,
    /// value -> assigned variable (`x = v`) or attribute name (`self.x = v`).
    assigned: HashMap<TextRange, Target>,
    /// Values assigned at module level or in a class body.
    assigned_outside: HashSet<TextRange>,
    annotations: Vec<TextRange>,
    /// Second arguments of isinstance / issubclass.
    type_args: HashSet<TextRange>,
    /// Stores per (function, name), stores per attribute name.
    name_stores: HashMap<(Option<FuncId>, String), usize>,
    attr_stores: HashMap<String, usize>,
    idents: HashSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Target {
    Local(Option<FuncId>, String),
    /// `self.attr` in a method (any class: a subclass shares it).
    SelfAttr(String),
}

/// A walk that knows the enclosing function and class.
struct Frames<'i> {
    info: &'i ModuleInfo,
    /// (function, class of a method) and class-body markers.
    stack: Vec<Frame>,
}

#[derive(Clone, Copy)]
enum Frame {
    Func(Option<FuncId>),
    Class,
}

impl Frames<'_> {
    fn func(&self) -> Option<FuncId> {
        self.stack.iter().rev().find_map(|f| match f {
            Frame::Func(id) => *id,
            Frame::Class => None,
        })
    }
    fn ctx(&self) -> Ctx {
        Ctx { func: self.func(), in_class_body: matches!(self.stack.last(), Some(Frame::Class)), ..Ctx::default() }
    }
    /// `self` of the current method and its class.
    fn self_of(&self) -> Option<(String, usize)> {
        let f = &self.info.funcs[self.func()?];
        Some((f.self_name.clone()?, f.class?))
    }
    fn enter(&mut self, s: &Stmt) -> bool {
        match s {
            Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) => {
                self.stack.push(Frame::Func(self.info.func_at(s.range().start().into())));
                true
            }
            Stmt::ClassDef(_) => {
                self.stack.push(Frame::Class);
                true
            }
            _ => false,
        }
    }
}

struct Collect<'i> {
    fr: Frames<'i>,
    p: Parents,
}

impl<'a> Visitor<'a> for Collect<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::With(w) => {
                for item in &w.items {
                    self.p.with_item.insert(item.context_expr.range(), (s.range(), w.items.len()));
                }
            }
            Stmt::For(f) => {
                self.p.for_iter.insert(f.iter.range(), s.range());
            }
            // Only variables of a function and `self.` attributes are
            // followed: a module or class variable may be used from anywhere.
            Stmt::Assign(a) if self.fr.func().is_none() || self.fr.ctx().in_class_body => {
                self.p.assigned_outside.insert(a.value.range());
            }
            Stmt::Assign(a) => {
                if let [t] = &a.targets[..] {
                    let target = match t {
                        Expr::Name(n) => Some(Target::Local(self.fr.func(), n.id.to_string())),
                        Expr::Attribute(at) => match (&*at.value, self.fr.self_of()) {
                            (Expr::Name(n), Some((me, _))) if n.id.as_str() == me => {
                                Some(Target::SelfAttr(at.attr.to_string()))
                            }
                            _ => None,
                        },
                        _ => None,
                    };
                    if let Some(t) = target {
                        self.p.assigned.insert(a.value.range(), t);
                    }
                }
            }
            Stmt::AnnAssign(a) => self.p.annotations.push(a.annotation.range()),
            Stmt::FunctionDef(ast::StmtFunctionDef { name, args, returns, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { name, args, returns, .. }) => {
                self.p.idents.insert(name.to_string());
                for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                    self.p.idents.insert(a.def.arg.to_string());
                    if let Some(x) = &a.def.annotation {
                        self.p.annotations.push(x.range());
                    }
                }
                for a in args.vararg.iter().chain(&args.kwarg) {
                    self.p.idents.insert(a.arg.to_string());
                    if let Some(x) = &a.annotation {
                        self.p.annotations.push(x.range());
                    }
                }
                if let Some(r) = returns {
                    self.p.annotations.push(r.range());
                }
            }
            Stmt::ClassDef(c) => {
                self.p.idents.insert(c.name.to_string());
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let local =
                        a.asname.as_ref().map_or_else(|| a.name.split('.').next().unwrap_or(""), |n| n.as_str());
                    self.p.idents.insert(local.to_string());
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    self.p.idents.insert(a.asname.as_ref().unwrap_or(&a.name).to_string());
                }
            }
            _ => {}
        }
        let pushed = self.fr.enter(s);
        walk_stmt(self, s);
        if pushed {
            self.fr.stack.pop();
        }
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) => {
                self.p.call_of.insert(c.func.range(), e.range());
                if matches!(&*c.func, Expr::Name(n) if matches!(n.id.as_str(), "isinstance" | "issubclass"))
                    && let Some(t) = c.args.get(1)
                {
                    self.p.type_args.insert(t.range());
                }
            }
            Expr::Await(a) if matches!(&*a.value, Expr::Call(_)) => {
                self.p.awaited.insert(a.value.range());
            }
            Expr::Name(n) => {
                self.p.idents.insert(n.id.to_string());
                if !matches!(n.ctx, ast::ExprContext::Load) {
                    *self.p.name_stores.entry((self.fr.func(), n.id.to_string())).or_default() += 1;
                }
            }
            Expr::Attribute(a) if !matches!(a.ctx, ast::ExprContext::Load) => {
                *self.p.attr_stores.entry(a.attr.to_string()).or_default() += 1;
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

/// Classifies every reference to a rule's name.
struct Classify<'i, 't> {
    fr: Frames<'i>,
    p: &'t Parents,
    rules: &'t [UserRule],
    out: Vec<RuleScan>,
    name_ctx: Vec<(TextRange, Ctx)>,
    /// Variables and attributes bound to a call of an `async_with` rule.
    bound: std::collections::BTreeMap<Target, usize>,
    /// Per module rule: heads (`a` of `a.b.x`) of dotted uses it renames.
    module_heads: Vec<HashSet<TextRange>>,
    /// Per module rule: loads of the first component of its path.
    module_loads: Vec<Vec<TextRange>>,
}

impl Classify<'_, '_> {
    fn in_annotation(&self, r: TextRange) -> bool {
        self.p.annotations.iter().any(|a| a.contains_range(r))
    }

    fn matches(&self, rule: &UserRule, e: &Expr) -> bool {
        if rule.kind != RuleKind::Name {
            return false;
        }
        if rule.bare() {
            match e {
                Expr::Name(n) => n.id.as_str() == rule.sync,
                Expr::Attribute(a) => a.attr.as_str() == rule.sync,
                _ => false,
            }
        } else {
            qual(self.fr.info, self.p, e.range()).is_some_and(|q| q == rule.sync)
        }
    }

    /// A reference to rule `i`'s name at `e`.
    fn reference(&mut self, i: usize, e: &Expr) {
        let rule = &self.rules[i];
        if !rule.effectful() {
            return;
        }
        let r = e.range();
        let ctx = self.fr.ctx();
        let Some(&call) = self.p.call_of.get(&r) else {
            if !(self.in_annotation(r) || self.p.type_args.contains(&r) || rule.async_def) {
                self.out[i].veto(r, format!("`{}` is used other than called", rule.sync));
            }
            return;
        };
        if self.p.awaited.contains(&call) {
            return;
        }
        let how = if let (true, Some(&(w, n))) = (rule.async_with, self.p.with_item.get(&call)) {
            if n > 1 {
                self.out[i].veto(call, "a `with` of several items is not converted".into());
                return;
            }
            How::With(w)
        } else if let (true, Some(&f)) = (rule.async_for, self.p.for_iter.get(&call)) {
            How::For(f)
        } else if rule.await_ {
            How::Await
        } else if let (true, Some(t)) = (rule.async_with, self.p.assigned.get(&call)) {
            self.bound.insert(t.clone(), i);
            return;
        } else {
            let why = if self.p.assigned_outside.contains(&call) {
                format!("`{}(...)` is kept at module level or in a class body, where any code may use it", rule.sync)
            } else {
                format!("`{}(...)` is used other than in a `with` or `for`", rule.sync)
            };
            if !rule.async_def {
                self.out[i].veto(call, why);
            }
            return;
        };
        self.site(i, call, r, how, ctx);
    }

    fn site(&mut self, i: usize, seed: TextRange, func: TextRange, how: How, ctx: Ctx) {
        if ctx.func.is_none() && !self.rules[i].async_def {
            self.out[i].veto(seed, "it is used at module level, where `await` cannot go".into());
            return;
        }
        self.out[i].sites.push(Site { seed, func, how });
    }

    /// A use of a variable or attribute bound to an `async_with` rule's call.
    fn bound_use(&mut self, e: &Expr) {
        let t = match e {
            Expr::Name(n) if matches!(n.ctx, ast::ExprContext::Load) => {
                let t = Target::Local(self.fr.func(), n.id.to_string());
                // The variable of another function (a closure): not followed.
                if !self.bound.contains_key(&t) {
                    let other = self.bound.iter().find(|(b, _)| matches!(b, Target::Local(_, x) if x == n.id.as_str()));
                    if let Some((_, &i)) = other {
                        self.out[i].veto(e.range(), format!("`{}` is used in a nested function", n.id));
                    }
                    return;
                }
                t
            }
            Expr::Attribute(a) if matches!(a.ctx, ast::ExprContext::Load) => {
                match (&*a.value, self.fr.self_of()) {
                    (Expr::Name(n), Some((me, _))) if n.id.as_str() == me => Target::SelfAttr(a.attr.to_string()),
                    _ => {
                        // `other.attr`: if some rule binds `self.attr`, this is
                        // a use the pass cannot follow.
                        for (t, &i) in &self.bound {
                            if matches!(t, Target::SelfAttr(x) if x == a.attr.as_str()) {
                                self.out[i].veto(e.range(), format!("`.{}` is used on another object", a.attr));
                                return;
                            }
                        }
                        return;
                    }
                }
            }
            _ => return,
        };
        let Some(&i) = self.bound.get(&t) else { return };
        let stores = match &t {
            Target::Local(f, n) => self.p.name_stores.get(&(*f, n.clone())).copied().unwrap_or(0),
            Target::SelfAttr(a) => self.p.attr_stores.get(a).copied().unwrap_or(0),
        };
        let what = dotted_name(e).unwrap_or_default();
        if stores != 1 {
            self.out[i].veto(e.range(), format!("`{what}` is assigned more than once"));
            return;
        }
        match self.p.with_item.get(&e.range()) {
            Some(&(_, n)) if n > 1 => self.out[i].veto(e.range(), "a `with` of several items is not converted".into()),
            Some(&(w, _)) => {
                let ctx = self.fr.ctx();
                if matches!(e, Expr::Name(_)) {
                    self.name_ctx.push((e.range(), ctx));
                }
                self.site(i, e.range(), e.range(), How::With(w), ctx);
            }
            None => self.out[i].veto(e.range(), format!("`{what}` is used other than by `with`")),
        }
    }
}

impl<'a> Visitor<'a> for Classify<'_, '_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        let pushed = self.fr.enter(s);
        walk_stmt(self, s);
        if pushed {
            self.fr.stack.pop();
        }
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        if matches!(e, Expr::Name(_) | Expr::Attribute(_)) {
            for i in 0..self.rules.len() {
                if self.matches(&self.rules[i], e) {
                    self.reference(i, e);
                }
                let rule = &self.rules[i];
                if rule.kind == RuleKind::Module {
                    let head = rule.sync.split('.').next().unwrap_or_default();
                    if let Expr::Name(n) = e
                        && n.id.as_str() == head
                        && self.fr.info.refs.get(&e.range()).is_some_and(|q| q == head)
                    {
                        self.module_loads[i].push(e.range());
                    }
                    if dotted_name(e).is_some_and(|d| d == rule.sync)
                        && qual(self.fr.info, self.p, e.range()).is_some_and(|q| q == rule.sync)
                    {
                        let mut h = e;
                        while let Expr::Attribute(a) = h {
                            h = &a.value;
                        }
                        self.module_heads[i].insert(h.range());
                    }
                }
            }
            self.bound_use(e);
        }
        walk_expr(self, e);
    }
}

impl Scan {
    fn new(body: &[Stmt], info: &ModuleInfo, tables: &Tables) -> Scan {
        let rules = &tables.rule[..];
        let mut c = Collect { fr: Frames { info, stack: vec![] }, p: Parents::default() };
        c.visit_body(body);
        let p = c.p;
        let mut k = Classify {
            fr: Frames { info, stack: vec![] },
            p: &p,
            rules,
            out: rules.iter().map(|_| RuleScan::default()).collect(),
            name_ctx: vec![],
            bound: Default::default(),
            module_heads: rules.iter().map(|_| HashSet::new()).collect(),
            module_loads: rules.iter().map(|_| vec![]).collect(),
        };
        // Twice: the first walk finds the variables bound to rule calls
        // (an assignment may follow its use in the text, in another method).
        k.visit_body(body);
        let bound = std::mem::take(&mut k.bound);
        k.out = rules.iter().map(|_| RuleScan::default()).collect();
        k.name_ctx.clear();
        k.module_heads = rules.iter().map(|_| HashSet::new()).collect();
        k.module_loads = rules.iter().map(|_| vec![]).collect();
        k.bound = bound;
        k.visit_body(body);
        let mut per_rule = std::mem::take(&mut k.out);
        // An awaited bare name defined here as a sync def: the calls would
        // await a plain function.
        for (i, rule) in rules.iter().enumerate() {
            if rule.kind == RuleKind::Name
                && rule.bare()
                && rule.await_
                && !rule.async_def
                && let Some(f) = info.funcs.iter().find(|f| f.foreign.is_none() && f.name == rule.sync && !f.is_async)
            {
                per_rule[i].veto(
                    f.range,
                    format!(
                        "`{}` is defined in this module as a sync def (add `async_def = true` to the rule)",
                        rule.sync
                    ),
                );
            }
        }
        // Import statements.
        let imports = imports(body);
        for (i, rule) in rules.iter().enumerate() {
            match rule.kind {
                RuleKind::Name if !rule.bare() => {
                    let (m, n) = rule.sync.rsplit_once('.').unwrap_or(("", &rule.sync));
                    let m2 = rule.async_.rsplit_once('.').map_or("", |x| x.0);
                    for imp in &imports {
                        if let Stmt::ImportFrom(f) = imp
                            && f.level.is_none_or(|l| l.to_u32() == 0)
                            && f.module.as_deref() == Some(m)
                        {
                            for a in f.names.iter().filter(|a| a.name.as_str() == n) {
                                per_rule[i].unaliased_from |= a.asname.is_none();
                                per_rule[i].from_split |= f.names.len() > 1 && m != m2;
                            }
                        }
                    }
                }
                RuleKind::Module => {
                    // `import a.b` renamed to `import c.d` no longer binds `a`:
                    // every other use of `a` needs another import of it.
                    let head = rule.sync.split('.').next().unwrap_or_default();
                    let new_head = rule.async_.split('.').next().unwrap_or_default();
                    let renamed = |a: &ast::Alias| {
                        a.asname.is_none()
                            && (a.name.as_str() == rule.sync || a.name.starts_with(&format!("{}.", rule.sync)))
                    };
                    let binds_head = |a: &ast::Alias| {
                        a.asname.as_ref().map_or_else(|| a.name.split('.').next() == Some(head), |x| x.as_str() == head)
                    };
                    let mut renames_head = false;
                    let mut other_binder = false;
                    for imp in &imports {
                        match imp {
                            Stmt::Import(s) => {
                                for a in &s.names {
                                    renames_head |= renamed(a);
                                    other_binder |= binds_head(a) && !renamed(a);
                                }
                            }
                            Stmt::ImportFrom(f) => {
                                other_binder |=
                                    f.names.iter().any(|a| a.asname.as_ref().unwrap_or(&a.name).as_str() == head)
                            }
                            _ => {}
                        }
                    }
                    if head != new_head
                        && renames_head
                        && !other_binder
                        && let Some(&at) = k.module_loads[i].iter().find(|r| !k.module_heads[i].contains(r))
                    {
                        per_rule[i].module_veto =
                            Some((at, format!("`{head}` is used here and `import {}` is its only import", rule.sync)));
                    }
                }
                _ => {}
            }
        }
        let quals = p
            .call_of
            .keys()
            .filter_map(|&r| Some((r, qual(info, &p, r)?.to_string())))
            .chain(info.refs.iter().map(|(r, q)| (*r, q.clone())))
            .collect();
        Scan { per_rule, name_ctx: k.name_ctx, awaited: p.awaited.clone(), idents: p.idents.clone(), quals }
    }
}

/// The qualified name of a Name/Attribute expression through the module's
/// imports (the analysis keeps those of called expressions on the call).
fn qual<'i>(info: &'i ModuleInfo, p: &Parents, r: TextRange) -> Option<&'i str> {
    if let Some(q) = info.refs.get(&r) {
        return Some(q);
    }
    info.call(*p.call_of.get(&r)?)?.qualname.as_deref().filter(|q| !q.starts_with("builtins."))
}

/// Every import statement, at any depth.
fn imports(body: &[Stmt]) -> Vec<&Stmt> {
    struct I<'a>(Vec<&'a Stmt>);
    impl<'a> Visitor<'a> for I<'a> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)) {
                self.0.push(s);
            }
            walk_stmt(self, s);
        }
    }
    let mut i = I(vec![]);
    i.visit_body(body);
    i.0
}

/// `prefix` replaced by `new` in `path` when `path` is `prefix` or below it,
/// and not already `new` or below it (`pkg.db` -> `pkg.db.aio` must not
/// apply again to its own output).
fn reprefix(path: &str, prefix: &str, new: &str) -> Option<String> {
    if below(path, new) && below(new, prefix) {
        return None;
    }
    if path == prefix {
        Some(new.to_string())
    } else {
        path.strip_prefix(prefix).filter(|rest| rest.starts_with('.')).map(|rest| format!("{new}{rest}"))
    }
}

/// `path` is `base` or a dotted path below it.
fn below(path: &str, base: &str) -> bool {
    path.strip_prefix(base).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

fn ident(s: &str) -> ast::Identifier {
    ast::Identifier::new(s)
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
    /// Per rule: its async name, if it applies in this module.
    active: Vec<Option<String>>,
    modes: Vec<Mode>,
    awaits: HashSet<TextRange>,
    withs: HashSet<TextRange>,
    fors: HashSet<TextRange>,
    awaited: HashSet<TextRange>,
    quals: HashMap<TextRange, String>,
    /// References left as they were (sites of forced rules that stay sync).
    keep: HashSet<TextRange>,
    /// Depth inside f-strings (their parts are not string literals).
    fstring: usize,
}

impl Folder<'_, '_> {
    fn rules(&self) -> impl Iterator<Item = (&UserRule, &str, Mode)> {
        self.cx
            .tables
            .rule
            .iter()
            .zip(&self.active)
            .zip(&self.modes)
            .filter_map(|((r, t), m)| t.as_deref().map(|t| (r, t, *m)))
    }

    fn bare_rename(&self, id: &str) -> Option<String> {
        self.rules()
            .find(|(r, _, _)| r.kind == RuleKind::Name && r.bare() && r.sync == id)
            .map(|(_, t, _)| t.to_string())
    }

    /// Renames an optional bound name (`except E as n`, `case x`, `**rest`)
    /// by a bare-name rule.
    fn rename_opt(&self, slot: &mut Option<ast::Identifier>) {
        if let Some(new) = slot.as_ref().and_then(|n| self.bare_rename(n.as_str())) {
            *slot = Some(ident(&new));
        }
    }

    fn import_of(rule: &UserRule, target: &str) -> String {
        rule.import.clone().unwrap_or_else(|| target.rsplit_once('.').map_or(target, |x| x.0).to_string())
    }

    /// A reference resolved to a qualified rule's name (or below a module
    /// rule's path) and what it becomes.
    fn qualified(&mut self, e: &Expr) -> Option<Expr> {
        let q = self.quals.get(&e.range())?.clone();
        let mut import = None;
        let mut out = None;
        for (rule, target, mode) in self.rules() {
            match rule.kind {
                RuleKind::Name if !rule.bare() && q == rule.sync => {
                    let (m, n) = rule.sync.rsplit_once('.')?;
                    let (m2, n2) = target.rsplit_once('.')?;
                    out = Some(match e {
                        // `mod.N` after `import mod`: same module, new attribute;
                        // else the qualified name.
                        Expr::Attribute(a) if m == m2 && self.quals.get(&a.value.range()).is_some_and(|v| v == m) => {
                            Expr::Attribute(ast::ExprAttribute { attr: ident(n2), ..a.clone() })
                        }
                        // A `from` import: the local name changes unless aliased.
                        Expr::Name(x) if mode == Mode::Rename => {
                            if x.id.as_str() != n || n == n2 {
                                return None;
                            }
                            Expr::Name(ast::ExprName { id: ident(n2), ..x.clone() })
                        }
                        _ => {
                            import = Some(Self::import_of(rule, target));
                            dotted(target)
                        }
                    });
                    break;
                }
                // Only the `a.b` of `import a.b` written out: the renamed
                // import binds the new path.
                RuleKind::Module if dotted_name(e).is_some_and(|d| d == q) && q == rule.sync => {
                    out = Some(dotted(target));
                    break;
                }
                _ => {}
            }
        }
        if let Some(m) = import {
            self.cx.imports.insert(m);
        }
        out
    }

    fn import_stmt(&mut self, s: Stmt) -> Stmt {
        match s {
            Stmt::Import(mut i) => {
                let mut changed = false;
                for a in &mut i.names {
                    for (rule, target, _) in self.rules() {
                        if rule.kind == RuleKind::Module
                            && let Some(new) = reprefix(a.name.as_str(), &rule.sync, target)
                        {
                            a.name = ident(&new);
                            changed = true;
                            break;
                        }
                    }
                }
                if changed {
                    i.range = synth();
                }
                Stmt::Import(i)
            }
            Stmt::ImportFrom(mut f) => {
                // A relative import: only bare names are renamed (dotted
                // names and modules are matched as absolute paths).
                let relative = f.level.is_some_and(|l| l.to_u32() > 0);
                let module = f.module.as_deref().unwrap_or_default().to_string();
                let mut new_module = None;
                let mut changed = false;
                let rules: Vec<(UserRule, String, Mode)> =
                    self.rules().map(|(r, t, m)| (r.clone(), t.to_string(), m)).collect();
                let single = f.names.len() == 1;
                for (rule, target, mode) in &rules {
                    match rule.kind {
                        RuleKind::Module if !relative => {
                            if let Some(new) = reprefix(&module, &rule.sync, target) {
                                new_module = Some(new);
                                break;
                            }
                            // `from a import b` where `a.b` is the module.
                            let (Some((pa, pb)), Some((ta, tb))) =
                                (rule.sync.rsplit_once('.'), target.rsplit_once('.'))
                            else {
                                continue;
                            };
                            if pa == module && (single || pa == ta) {
                                for a in f.names.iter_mut().filter(|a| a.name.as_str() == pb) {
                                    if a.asname.is_none() && tb != pb {
                                        a.asname = Some(ident(pb));
                                    }
                                    a.name = ident(tb);
                                    changed = true;
                                }
                                if changed && pa != ta {
                                    new_module = Some(ta.to_string());
                                }
                            }
                        }
                        RuleKind::Name if !rule.bare() && *mode == Mode::Rename && !relative => {
                            let (Some((m, n)), Some((m2, n2))) = (rule.sync.rsplit_once('.'), target.rsplit_once('.'))
                            else {
                                continue;
                            };
                            if m == module && f.names.iter().any(|a| a.name.as_str() == n) {
                                for a in f.names.iter_mut().filter(|a| a.name.as_str() == n) {
                                    a.name = ident(n2);
                                }
                                changed = true;
                                if m != m2 {
                                    new_module = Some(m2.to_string());
                                }
                            }
                        }
                        RuleKind::Name if rule.bare() => {
                            for a in &mut f.names {
                                if a.name.as_str() == rule.sync {
                                    a.name = ident(target);
                                    changed = true;
                                }
                                if a.asname.as_ref().is_some_and(|x| x.as_str() == rule.sync) {
                                    a.asname = Some(ident(target));
                                    changed = true;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(m) = new_module {
                    f.module = Some(ident(&m));
                    changed = true;
                }
                if changed {
                    f.range = synth();
                }
                Stmt::ImportFrom(f)
            }
            s => s,
        }
    }
}

/// `raise StopIteration` / `raise StopIteration(...)` -> `StopAsyncIteration`
/// in a body (not in nested defs or classes).
fn stop_async_iteration(body: &mut [Stmt]) {
    for s in body.iter_mut() {
        match s {
            Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::Raise(r) => {
                let target = match r.exc.as_deref_mut() {
                    Some(Expr::Call(c)) => Some(&mut *c.func),
                    Some(e) => Some(e),
                    None => None,
                };
                if let Some(e) = target
                    && matches!(e, Expr::Name(n) if n.id.as_str() == "StopIteration")
                {
                    *e = crate::syntax::name("StopAsyncIteration");
                }
            }
            other => {
                for b in crate::syntax::blocks_mut(other) {
                    stop_async_iteration(b);
                }
            }
        }
    }
}

impl Fold<TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let range = s.range();
        if matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)) {
            return Ok(self.import_stmt(s));
        }
        let mut s = ast::fold::fold_stmt(self, s)?;
        match &mut s {
            Stmt::FunctionDef(ast::StmtFunctionDef { name, body, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { name, body, .. })
            | Stmt::ClassDef(ast::StmtClassDef { name, body, .. }) => {
                if let Some(new) = self.bare_rename(name.as_str()) {
                    // `__next__` ends with StopIteration, `__anext__` with
                    // StopAsyncIteration (a StopIteration raised in a
                    // coroutine becomes a RuntimeError).
                    if new == "__anext__" && name.as_str() == "__next__" {
                        stop_async_iteration(body);
                    }
                    *name = ident(&new);
                }
            }
            Stmt::Global(ast::StmtGlobal { names, .. }) | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                for n in names.iter_mut() {
                    if let Some(new) = self.bare_rename(n.as_str()) {
                        *n = ident(&new);
                    }
                }
            }
            _ => {}
        }
        if (matches!(s, Stmt::With(_)) && self.withs.contains(&range))
            || (matches!(s, Stmt::For(_)) && self.fors.contains(&range))
        {
            self.cx.sites.push(TextRange::empty(range.start()));
            return Ok(to_async_kind(s));
        }
        Ok(s)
    }

    fn fold_arg(&mut self, a: ast::Arg) -> Result<ast::Arg, std::convert::Infallible> {
        let mut a = ast::fold::fold_arg(self, a)?;
        if let Some(new) = self.bare_rename(a.arg.as_str()) {
            a.arg = ident(&new);
        }
        Ok(a)
    }

    fn fold_keyword(&mut self, k: ast::Keyword) -> Result<ast::Keyword, std::convert::Infallible> {
        let mut k = ast::fold::fold_keyword(self, k)?;
        self.rename_opt(&mut k.arg);
        Ok(k)
    }

    fn fold_excepthandler_except_handler(
        &mut self,
        h: ast::ExceptHandlerExceptHandler,
    ) -> Result<ast::ExceptHandlerExceptHandler, std::convert::Infallible> {
        let mut h = ast::fold::fold_excepthandler_except_handler(self, h)?;
        self.rename_opt(&mut h.name);
        Ok(h)
    }

    // `match` captures bind names like assignments do; a class pattern's
    // `attr=` names an attribute, renamed as `obj.attr` is.
    fn fold_pattern_match_as(
        &mut self,
        p: ast::PatternMatchAs,
    ) -> Result<ast::PatternMatchAs, std::convert::Infallible> {
        let mut p = ast::fold::fold_pattern_match_as(self, p)?;
        self.rename_opt(&mut p.name);
        Ok(p)
    }

    fn fold_pattern_match_star(
        &mut self,
        mut p: ast::PatternMatchStar,
    ) -> Result<ast::PatternMatchStar, std::convert::Infallible> {
        self.rename_opt(&mut p.name);
        Ok(p)
    }

    fn fold_pattern_match_mapping(
        &mut self,
        p: ast::PatternMatchMapping,
    ) -> Result<ast::PatternMatchMapping, std::convert::Infallible> {
        let mut p = ast::fold::fold_pattern_match_mapping(self, p)?;
        self.rename_opt(&mut p.rest);
        Ok(p)
    }

    fn fold_pattern_match_class(
        &mut self,
        p: ast::PatternMatchClass,
    ) -> Result<ast::PatternMatchClass, std::convert::Infallible> {
        let mut p = ast::fold::fold_pattern_match_class(self, p)?;
        for a in p.kwd_attrs.iter_mut() {
            if let Some(new) = self.bare_rename(a.as_str()) {
                *a = ident(&new);
            }
        }
        Ok(p)
    }

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        if self.keep.contains(&range) {
            return Ok(e);
        }
        // `a.b.aio.x` after a module rule `a.b` -> `a.b.aio` ran: done.
        if let (Expr::Attribute(_), Some(d)) = (&e, dotted_name(&e))
            && self.rules().any(|(r, t, _)| r.kind == RuleKind::Module && below(t, &r.sync) && below(&d, t))
        {
            return Ok(e);
        }
        if let Some(new) = self.qualified(&e) {
            self.cx.sites.push(range);
            return Ok(new);
        }
        let is_fstring = matches!(e, Expr::JoinedStr(_));
        self.fstring += usize::from(is_fstring);
        let e = ast::fold::fold_expr(self, e);
        self.fstring -= usize::from(is_fstring);
        let mut e = e?;
        match &mut e {
            Expr::Name(n) => {
                if let Some(new) = self.bare_rename(n.id.as_str()) {
                    n.id = ident(&new);
                    self.cx.sites.push(range);
                }
            }
            Expr::Attribute(a) => {
                if let Some(new) = self.bare_rename(a.attr.as_str()) {
                    a.attr = ident(&new);
                    self.cx.sites.push(range);
                }
            }
            Expr::Constant(c) if self.fstring == 0 => {
                let new = match &c.value {
                    ast::Constant::Str(s) => self
                        .rules()
                        .filter(|(r, _, _)| r.kind == RuleKind::String)
                        .find_map(|(r, t, _)| reprefix(s, &r.sync, t)),
                    _ => None,
                };
                if let Some(new) = new {
                    c.value = ast::Constant::Str(new);
                    c.range = synth();
                    self.cx.sites.push(range);
                }
            }
            _ => {}
        }
        if matches!(e, Expr::Call(_))
            && self.awaits.contains(&range)
            && !self.awaited.contains(&range)
            && !self.cx.colour.await_calls.contains(&range)
        {
            return Ok(await_(e));
        }
        Ok(e)
    }
}
