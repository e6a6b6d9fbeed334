//! AWT101: a blocking call inside an `async def`.

use crate::check::{Def, Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use crate::syntax::dotted_name;
use rustpython_ast::text_size::{TextRange, TextSize};
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};
use std::collections::HashMap;

crate::rule_doc!(
    "A blocking call inside an `async def`.

## What it does
Reports calls that block the thread inside a coroutine function: `time.sleep`,
HTTP with `requests`, `urllib` or a sync `httpx` client, `open` and the
methods of a file opened with it, `os` / `os.path` / `shutil` /
`pathlib.Path` file system calls, `subprocess`, `sqlite3`, `input()` and
sockets. What counts as blocking is read from the same tables as `convert`
uses (`transforms/*.toml`: `[[call]]`, `[[http.*]]`, `[[to_thread]]`, plus
the check-only `[[blocking]]` rows), and a call is said to be fixed by a
pass exactly when that pass of `convert` would rewrite it, so the two never
disagree. Calls inside a lambda are not reported (they may run elsewhere).

## Why is this bad
While the call waits for the network, the disk or a child process, the
event loop runs nothing else: every other task stalls, timeouts fire late.

## Example
```python
import time


async def poll():
    time.sleep(1)
```

## Use instead
```python
import asyncio


async def poll():
    await asyncio.sleep(1)
```

## Fix
The message names the `convert` pass that rewrites the call (`sleep`,
`http`, `files`, `sqlite`, `to_thread`) when there is one; `awaitify check
--fix` runs it. Others (a query on a `sqlite3` connection kept at module
level, a `pathlib.Path` method, an `open()` whose file goes to `csv`) need a
hand-written change, often `await asyncio.to_thread(...)`.

## Ruff
Ruff's flake8-async rules ASYNC210 and ASYNC212 (blocking HTTP calls),
ASYNC220, ASYNC221 and ASYNC222 (subprocesses), ASYNC230 (`open`) and
ASYNC251 (`time.sleep`) report this hazard: a `# noqa: ASYNC2xx` comment
for one of them also suppresses AWT101 on that line. (ASYNC105 is AWT201;
ASYNC100, ASYNC109, ASYNC110, ASYNC115 and ASYNC116 report hazards no AWT
rule reports, and suppress nothing here.)
"
);

pub struct BlockingCall;

impl Rule for BlockingCall {
    fn code(&self) -> &'static str {
        "AWT101"
    }
    fn name(&self) -> &'static str {
        "blocking-call-in-async-function"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        let types = Types::collect(m);
        let mut v = V { m, types, out, is_async: None, entry: None, left: vec![] };
        walk_scoped(m.body, &mut v);
    }
}

/// A blocking call `convert` leaves in a function that is async after the
/// conversion: where it starts (in the input), what is called, and why no
/// pass converts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Left {
    pub offset: TextSize,
    pub what: String,
    pub why: String,
}

/// The blocking calls this rule would report in `body` (a module's tree as
/// the passes left it, before the colouring), if every def whose start
/// `is_async` accepts were an `async def`: the calls a pass of `convert`
/// left as they were (a call and its callee still have their input range)
/// in functions that end up async. Used by `convert` (the `to_thread` pass)
/// to report them as left blocking, so that `check` on its output finds
/// nothing `convert` did not report.
pub fn left_in_async(
    body: &[Stmt],
    info: &crate::analysis::ModuleInfo,
    tables: &crate::transforms::Tables,
    source: &str,
    is_async: &dyn Fn(TextSize) -> bool,
    entry: Option<TextRange>,
) -> Vec<Left> {
    let index = crate::source::LineIndex::new(source);
    let project = crate::check::Project::default();
    let relative = HashMap::new();
    let m = Module {
        path: "",
        name: "",
        text: source,
        body,
        info,
        tables,
        project: &project,
        seeds: &[],
        relative: &relative,
        index: &index,
        instances: HashMap::new(),
        locals: Default::default(),
        local_imports: Default::default(),
    };
    let types = Types::collect(&m);
    let mut hits = vec![];
    let mut v = V { m: &m, types, out: &mut hits, is_async: Some(is_async), entry, left: vec![] };
    walk_scoped(body, &mut v);
    v.left
}

/// Types of names bound to calls the tables know (`p = Path(...)`), per
/// scope (the def's start; None: module level). A name bound to two types
/// has none.
struct Types {
    names: HashMap<(Option<TextSize>, String), Option<Typed>>,
}

/// A type, and the call that made the object (`open(...)` for a file).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Typed {
    ty: String,
    from: TextRange,
}

impl Types {
    fn collect(m: &Module) -> Types {
        struct C<'m, 'a> {
            m: &'m Module<'a>,
            t: Types,
        }
        impl<'a> ScopedVisitor<'a> for C<'_, '_> {
            fn stmt(&mut self, s: &'a Stmt, scope: &Scope<'a>) {
                let at = scope.defs.last().map(|d| d.start);
                let bind = |n: &Expr, value: &Expr, t: &mut Types| {
                    if let Expr::Name(n) = n {
                        let ty = t.type_of(self.m, value, at);
                        let key = (at, n.id.to_string());
                        match t.names.get(&key) {
                            Some(old) if old.as_ref().map(|o| &o.ty) != ty.as_ref().map(|t| &t.ty) => {
                                t.names.insert(key, None);
                            }
                            Some(_) => {}
                            None => {
                                t.names.insert(key, ty);
                            }
                        }
                    }
                };
                match s {
                    Stmt::Assign(a) if a.targets.len() == 1 => bind(&a.targets[0], &a.value, &mut self.t),
                    Stmt::AnnAssign(a) if a.value.is_some() => {
                        bind(&a.target, a.value.as_deref().unwrap(), &mut self.t)
                    }
                    Stmt::With(w) => {
                        for it in &w.items {
                            if let Some(v) = &it.optional_vars {
                                bind(v, &it.context_expr, &mut self.t);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut c = C { m, t: Types { names: HashMap::new() } };
        walk_scoped(m.body, &mut c);
        c.t
    }

    fn lookup(&self, at: Option<TextSize>, name: &str) -> Option<Typed> {
        if let Some(t) = self.names.get(&(at, name.to_string())) {
            return t.clone();
        }
        self.names.get(&(None, name.to_string())).cloned().flatten()
    }

    /// The type of an expression, as far as the tables tell.
    fn type_of(&self, m: &Module, e: &Expr, at: Option<TextSize>) -> Option<Typed> {
        match e {
            Expr::Name(n) => self.lookup(at, n.id.as_str()),
            // `path / "x"` is a path again.
            Expr::BinOp(b) if b.op == ast::Operator::Div => {
                self.type_of(m, &b.left, at).filter(|t| t.ty == "pathlib.Path")
            }
            Expr::Call(c) => {
                let q = match &*c.func {
                    Expr::Attribute(a) => match self.type_of(m, &a.value, at) {
                        Some(t) => Some(format!("{}.{}", t.ty, a.attr)),
                        None => m.call_qualname(c),
                    },
                    _ => m.call_qualname(c),
                }?;
                let ty = if m.tables.http.session.iter().any(|s| s.sync == q) {
                    "requests.Session".to_string()
                } else {
                    m.tables.blocking.iter().find(|r| r.sync == q).and_then(|r| r.returns.clone())?
                };
                Some(Typed { ty, from: c.range })
            }
            _ => None,
        }
    }
}

struct V<'m, 'a, 'o> {
    m: &'m Module<'a>,
    types: Types,
    out: &'o mut Vec<Hit>,
    /// For [`left_in_async`]: which defs count as async (by their start),
    /// and what it found.
    is_async: Option<&'o dyn Fn(TextSize) -> bool>,
    /// For [`left_in_async`]: the `__main__` block that becomes an async
    /// function (its top level counts as async code).
    entry: Option<TextRange>,
    left: Vec<Left>,
}

impl<'a> ScopedVisitor<'a> for V<'_, 'a, '_> {
    fn expr(&mut self, e: &'a Expr, scope: &Scope<'a>) {
        let Expr::Call(c) = e else { return };
        // A call a pass made (or whose callee it replaced) is no call of
        // the input: `await asyncio.to_thread(os.remove, p)` keeps the
        // range of `os.remove(p)`.
        if c.range.is_empty() || c.func.range().is_empty() {
            return;
        }
        let def = match self.is_async {
            None => scope.async_def(),
            Some(is_async) => {
                scope.defs.last().filter(|d| !scope.in_lambda && !scope.in_class_body && is_async(d.start))
            }
        };
        let main = self
            .entry
            .filter(|g| {
                def.is_none()
                    && scope.defs.is_empty()
                    && !scope.in_lambda
                    && !scope.in_class_body
                    && g.contains_range(c.range)
            })
            .map(|g| Def { name: "main", is_async: true, start: g.start(), method: false });
        let Some(def) = def.or(main.as_ref()) else { return };
        let Some((what, kind, fix)) = self.blocking(c, def.start) else { return };
        if self.is_async.is_some() {
            // What a pass converts is not left (`to_thread` converts its
            // rows in awaitable places after this scan).
            if fix.is_none() {
                let why = match self.object_from(c, def.start) {
                    Some(at) => {
                        let (l, col) = self.m.index.line_col(at);
                        format!("the object it is called on comes from the call at {l}:{col}, which stays sync")
                    }
                    None => format!("no pass converts this {kind}call"),
                };
                self.left.push(Left { offset: c.range.start(), what, why });
            }
            return;
        }
        let fix_text = match fix {
            Some(p) => format!("; `convert` rewrites it (pass `{p}`)"),
            None => String::new(),
        };
        let message = if self.m.tables.http.session.iter().any(|s| s.sync == what) {
            format!("sync HTTP session `{what}` in async function `{}`: its requests block{fix_text}", def.name)
        } else {
            format!("blocking {kind}call `{what}` in async function `{}`{fix_text}", def.name)
        };
        self.out.push(Hit { offset: c.range.start(), message, fix });
    }
}

impl V<'_, '_, '_> {
    /// For a method call on an object whose type the tables know: where
    /// the call that made the object starts.
    fn object_from(&self, c: &ast::ExprCall, def: TextSize) -> Option<TextSize> {
        let Expr::Attribute(a) = &*c.func else { return None };
        Some(self.types.type_of(self.m, &a.value, Some(def))?.from.start())
    }

    /// (what is called, what it waits for, the pass that rewrites it).
    fn blocking(&self, c: &ast::ExprCall, def: TextSize) -> Option<(String, String, Option<&'static str>)> {
        let m = self.m;
        let t = m.tables;
        let q = m.call_qualname(c);
        let shown = || q.clone().or_else(|| dotted_name(&c.func)).unwrap_or_else(|| "call".into());
        let kind = |k: &str| if k.is_empty() { String::new() } else { format!("{k} ") };
        // What a pass of `convert` turns into an awaitable.
        if let Some(seed) = m.seeds.iter().find(|s| s.call == c.range) {
            let k = match seed.pass {
                "http" => "HTTP",
                "files" => "file",
                "sqlite" => "database",
                _ => "",
            };
            return Some((shown(), kind(k), Some(seed.pass)));
        }
        if let Some(q) = &q {
            if t.to_thread.iter().any(|r| &r.sync == q) {
                let awaitable = m.info.call(c.range).is_some_and(|s| s.ctx.awaitable());
                return Some((q.clone(), String::new(), awaitable.then_some("to_thread")));
            }
            if t.call.iter().any(|r| &r.sync == q && r.await_) {
                return Some((q.clone(), String::new(), None));
            }
            if t.http.function.iter().any(|r| &r.sync == q) {
                return Some((q.clone(), kind("HTTP"), None));
            }
            if let Some(r) = t.blocking.iter().find(|r| &r.sync == q && r.blocks) {
                return Some((q.clone(), kind(&r.what), None));
            }
        }
        // A method of an object whose type the tables know.
        let Expr::Attribute(a) = &*c.func else { return None };
        let typed = self.types.type_of(m, &a.value, Some(def))?;
        let method = format!("{}.{}", typed.ty, a.attr);
        // The pass that rewrites the object's making rewrites its methods
        // too (`f.read()` in `with open(...) as f`).
        let fix = m.seeds.iter().find(|s| s.call == typed.from).map(|s| s.pass);
        let shown = dotted_name(&c.func).unwrap_or_else(|| method.clone());
        if typed.ty == "requests.Session" && t.http.method.iter().any(|r| r.name == a.attr.as_str() && !r.closes) {
            return Some((shown, kind("HTTP"), fix));
        }
        let r = t.blocking.iter().find(|r| r.sync == method && r.blocks)?;
        Some((shown, kind(&r.what), fix))
    }
}
