//! The `pool` pass.

use super::{Diagnostic, Pass, PassCx};
use crate::analysis::{CallSite, Ctx, FuncId, ModuleInfo};
use crate::syntax::template::{Hole, template, template_expr};
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{dotted, expand_stmts, fresh_name, name, names_in};
use crate::transforms::{Runtime, Tables};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};
use std::collections::{HashMap, HashSet};

crate::pass_doc!(
    "Turns a `ThreadPoolExecutor` fan-out into asyncio tasks bounded by a semaphore.

## What it does
In a function that is or becomes `async def`, a block
`with ThreadPoolExecutor(max_workers=n) as pool:` (from
`[[executor]]` rows of `transforms/asyncio.toml`) becomes:

* `pool = asyncio.Semaphore(n)` (the pool's own default when `n` is not
  given), and a local `async def run_in_pool(fn, *args, **kwargs)` that holds
  the semaphore while it awaits `fn`: the pool's concurrency bound is kept;
* `pool.submit(f, *args, **kwargs)` -> `asyncio.create_task(run_in_pool(f,
  *args, **kwargs))` when `f` is (or becomes) an `async def` of the module,
  else `run_in_pool(asyncio.to_thread, f, ...)`: the call still runs in a
  worker thread, as it did in the pool;
* `pool.map(f, xs, ...)` -> the tasks of `f(x)` in a list, and in place of
  the map, a generator of their results in order (`list(pool.map(...))` ->
  `list(t.result() for t in tasks)`, `for r in pool.map(...)` -> `for r in
  (t.result() for t in tasks)`);
* after the statements that create tasks, `await asyncio.gather(*tasks,
  return_exceptions=True)` waits for all of them, as the pool's `with` exit
  did; `as_completed(futures)` -> `futures`: every task has finished, and
  they are taken in the order they were created.

The tasks are futures like the pool's: `t.result()` returns the value or
raises the task's own exception, where the original `future.result()` did,
and one failing task does not stop the others. So `try: data =
future.result() except E:` keeps working unchanged, and `pool.map` raises
the first failure in input order where the loop reaches it. (This is why the
tasks are not in a `TaskGroup`: there a failing task cancels the others, and
its error arrives as an `ExceptionGroup` at the end of the block, not where
the program reads that future.)

The function passed to the pool becomes async by the colouring (and its
callers), as if the pool called it: the pass makes these references call
sites of the call graph.

## Why is this bad
A thread pool in async code blocks the event loop at the `with` exit while
the threads work, and its functions cannot await anything.

## Example
```python
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests


def fetch(u):
    return requests.get(u).status_code


def fetch_all(urls):
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {pool.submit(fetch, u): u for u in urls}
        return {futures[f]: f.result() for f in as_completed(futures)}
```

## Use instead
```python
import asyncio
import functools
import httpx


@functools.cache
def _tls_context():
    return httpx.create_ssl_context()


async def fetch(u):
    async with httpx.AsyncClient(follow_redirects=True, timeout=None, verify=_tls_context()) as client:
        return (await client.get(u)).status_code


async def fetch_all(urls):
    pool = asyncio.Semaphore(4)
    async def run_in_pool(fn, *args, **kwargs):
        async with pool:
            return await fn(*args, **kwargs)
    futures = {asyncio.create_task(run_in_pool(fetch, u)): u for u in urls}
    await asyncio.gather(*futures, return_exceptions=True)
    return {futures[f]: f.result() for f in futures}
```

## Not converted (the pool stays; a diagnostic when it ends up in async code)
* any other use of the pool (`pool.shutdown()`, passing it on), a `with`
  with other items or without `as`, arguments other than `max_workers`;
* `submit` whose future is not bound to a name by an assignment, a
  comprehension or a list (what `gather` must wait for), or `map` other than
  as a statement's whole value (also `return`), a `for` loop's iterable, the
  first iterable of a comprehension that is a statement's value, or the only
  argument of `list`, `tuple`, `set`, `sorted`, `sum`, `min`, `max`, `any`,
  `all`;
* futures used in ways asyncio tasks differ from the pool's futures:
  `result(timeout)`, `exception(timeout)`, `running()`,
  `add_done_callback(...)`, `concurrent.futures.wait(...)`, a `timeout=` of
  `as_completed`, futures passed to other functions or kept after the block;
* `--runtime trio` / `anyio`, which have no task objects to stand for the
  futures.

## Fix safety
Safe, with two differences of scheduling: every task runs before the block
goes on (the pool let the block consume results while others ran, and
cancelled the tasks not yet started when a `map` consumer stopped early),
and `as_completed` yields in creation order, one of the orders the pool
could have produced. `max_workers=0` made the pool raise `ValueError`; the
semaphore would wait forever.
"
);

pub struct Pool;

const CONSUMERS: &[&str] = &["list", "tuple", "set", "sorted", "sum", "min", "max", "any", "all"];
/// Future methods asyncio tasks have with the same meaning (without arguments).
const TASK_METHODS: &[&str] = &["result", "exception", "done", "cancelled", "cancel"];
/// Future methods and attributes whose asyncio counterparts differ.
const FORBIDDEN: &[&str] =
    &["running", "add_done_callback", "set_result", "set_exception", "set_running_or_notify_cancel"];

impl Pass for Pool {
    fn name(&self) -> &'static str {
        "pool"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn standalone(&self) -> bool {
        true
    }
    fn interested(&self, src: &str, tables: &Tables) -> bool {
        tables.executor.iter().any(|r| src.contains(r.name.rsplit('.').next().unwrap_or(&r.name)))
    }
    fn prepare(&self, body: &[Stmt], info: &mut ModuleInfo, tables: &Tables, _path: &str) {
        let found = find(body, info, tables);
        if tables.target != Runtime::Asyncio {
            // Say why the pool's functions stay sync.
            for (_, b) in &found.blocks {
                for v in info.value_refs.iter_mut().filter(|v| b.refs.iter().any(|(r, _)| *r == v.range)) {
                    v.what = format!(
                        "`{}` runs in a thread pool, which becomes tasks only with `--runtime asyncio`",
                        info.funcs[v.func].name
                    );
                }
            }
            return;
        }
        for (_, b) in &found.blocks {
            for &(r, f) in &b.refs {
                info.value_refs.retain(|v| v.range != r);
                let idx = info.calls.len();
                info.call_index.insert(r, idx);
                info.calls.push(CallSite {
                    range: r,
                    qualname: None,
                    target: Some(f),
                    ctx: b.ctx,
                    targets: vec![],
                    wraps: false,
                    iter: None,
                    args: Default::default(),
                    pooled: true,
                });
            }
        }
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        let found = find(&body, cx.info, cx.tables);
        let async_fn = |f: FuncId| cx.colour.is_async(cx.info, f);
        for (r, why, f) in &found.refused {
            if async_fn(*f) {
                cx.diagnostics.push(Diagnostic {
                    offset: r.start().into(),
                    pass: "pool",
                    message: format!("thread pool left as it is (it blocks the event loop): {why}"),
                });
            }
        }
        if cx.tables.target != Runtime::Asyncio {
            for (_, b) in found.blocks.iter().filter(|(_, b)| async_fn(b.func)) {
                cx.diagnostics.push(Diagnostic {
                    offset: b.header.start().into(),
                    pass: "pool",
                    message: format!(
                        "thread pool left as it is (it blocks the event loop): --runtime {} has no task objects to stand for its futures",
                        cx.tables.target.name()
                    ),
                });
            }
            return body;
        }
        let mut blocks: HashMap<TextRange, Block> =
            found.blocks.into_iter().filter(|(_, b)| async_fn(b.func)).collect();
        if blocks.is_empty() {
            return body;
        }
        let is_async: HashSet<TextRange> =
            blocks.values().flat_map(|b| b.refs.iter().filter(|(_, f)| async_fn(*f)).map(|(r, _)| *r)).collect();
        cx.imports.insert("asyncio".into());
        let used_before = crate::imports::used_names(&body);
        let mut done = vec![];
        let out = expand_stmts(body, &mut |s| {
            let Some(b) = blocks.remove(&s.range()) else { return vec![s] };
            let Stmt::With(w) = s else { return vec![s] };
            match rewrite(w.clone(), &b, &is_async) {
                Some(v) => {
                    done.push((w.range, b.limit.is_none()));
                    v
                }
                None => vec![Stmt::With(w)],
            }
        });
        let converted = !done.is_empty();
        for (r, default_size) in done {
            cx.sites.push(r);
            if default_size {
                cx.imports.insert("os".into());
            }
        }
        // `from concurrent.futures import ThreadPoolExecutor` that nothing
        // uses any more goes (names still used stay).
        if converted {
            crate::imports::remove_unused(out, "concurrent.futures", None, &used_before, cx.reached)
        } else {
            out
        }
    }
}

/// A block the pass converts.
struct Block {
    /// The `with` header (for diagnostics).
    header: TextRange,
    func: FuncId,
    ctx: Ctx,
    pool: String,
    limit: Option<Expr>,
    /// References to module functions handed to the pool.
    refs: Vec<(TextRange, FuncId)>,
    /// Fresh names: the runner, and one task list per `map`.
    runner: String,
    tasks: Vec<String>,
    /// The comprehension variable of `map`'s task lists.
    var: String,
    /// Names for the tasks of dropped `submit`s.
    dropped: Vec<String>,
    /// `as_completed(...)` calls to unwrap.
    as_completed: HashSet<TextRange>,
}

#[derive(Default)]
struct Found {
    blocks: Vec<(TextRange, Block)>,
    refused: Vec<(TextRange, String, FuncId)>,
}

fn find(body: &[Stmt], info: &ModuleInfo, tables: &Tables) -> Found {
    let mut f = Finder { info, tables, found: Found::default(), funcs: vec![] };
    f.visit_body(body);
    f.found
}

struct Finder<'a> {
    info: &'a ModuleInfo,
    tables: &'a Tables,
    found: Found,
    /// Enclosing functions: id and def statement.
    funcs: Vec<(Option<FuncId>, &'a Stmt)>,
}

impl<'a> Visitor<'a> for Finder<'a> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) => {
                self.funcs.push((self.info.func_at(s.range().start().into()), s));
                walk_stmt(self, s);
                self.funcs.pop();
                return;
            }
            Stmt::ClassDef(_) => {
                // Methods are functions of their own; a class body is not.
                let saved = std::mem::take(&mut self.funcs);
                walk_stmt(self, s);
                self.funcs = saved;
                return;
            }
            Stmt::With(w) => {
                if let Some((Some(func), def)) = self.funcs.last().copied() {
                    match self.check(w, func, def) {
                        Ok(Some(b)) => {
                            self.found.blocks.push((w.range, b));
                        }
                        Ok(None) => {}
                        Err((r, why)) => self.found.refused.push((r, why, func)),
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, s);
    }
}

type Refusal = (TextRange, String);

fn refuse<T>(r: TextRange, why: impl Into<String>) -> Result<T, Refusal> {
    Err((r, why.into()))
}

/// How a statement of the block creates tasks.
enum Create {
    /// `t = pool.submit(...)`, `ts = [pool.submit(...) for ...]`, ...: the
    /// name bound, and whether it holds one task (else a collection).
    Bound(String, bool),
    /// `pool.submit(...)` whose future is dropped.
    Dropped,
    /// `pool.map(...)` somewhere in the statement.
    Map,
}

impl Finder<'_> {
    fn qualname(&self, c: &ast::ExprCall) -> Option<&str> {
        self.info.call(c.range).and_then(|s| s.qualname.as_deref())
    }

    fn is_pool_call<'e>(&self, e: &'e Expr, pool: &str, method: &str) -> Option<&'e ast::ExprCall> {
        let Expr::Call(c) = e else { return None };
        let Expr::Attribute(a) = &*c.func else { return None };
        matches!(&*a.value, Expr::Name(n) if n.id.as_str() == pool).then_some(())?;
        (a.attr.as_str() == method).then_some(c)
    }

    /// `pool.map(f, xs)` alone or as the only argument of a consumer.
    fn map_form<'e>(&self, e: &'e Expr, pool: &str) -> Option<&'e ast::ExprCall> {
        if let Some(c) = self.is_pool_call(e, pool, "map") {
            return Some(c);
        }
        if let Some(first) = first_iter(e) {
            return self.is_pool_call(first, pool, "map");
        }
        let Expr::Call(c) = e else { return None };
        let q = self.qualname(c)?;
        let consumer = q.strip_prefix("builtins.").is_some_and(|n| CONSUMERS.contains(&n));
        if consumer && c.args.len() == 1 && c.keywords.is_empty() {
            return self.is_pool_call(&c.args[0], pool, "map");
        }
        None
    }

    fn check_map(&self, c: &ast::ExprCall) -> Result<(), Refusal> {
        if c.args.len() < 2 || !c.keywords.is_empty() || c.args.iter().any(|a| matches!(a, Expr::Starred(_))) {
            return refuse(c.range, "`map` with keywords (`timeout=`, `chunksize=`) or `*args`");
        }
        Ok(())
    }

    fn check_submit(&self, c: &ast::ExprCall) -> Result<(), Refusal> {
        if c.args.is_empty() || matches!(c.args[0], Expr::Starred(_)) {
            return refuse(c.range, "`submit` without a function to call");
        }
        Ok(())
    }

    /// Every `submit`/`map` of a statement, in creation positions.
    fn creations(&self, s: &Stmt, pool: &str) -> Result<Option<(Create, Vec<TextRange>)>, Refusal> {
        let one = |c: &ast::ExprCall| -> Result<Vec<TextRange>, Refusal> {
            self.check_submit(c)?;
            Ok(vec![c.range])
        };
        let map = |c: &ast::ExprCall| -> Result<Option<(Create, Vec<TextRange>)>, Refusal> {
            self.check_map(c)?;
            Ok(Some((Create::Map, vec![c.range])))
        };
        match s {
            Stmt::Assign(a) => {
                if let Some(c) = self.map_form(&a.value, pool) {
                    return map(c);
                }
                let [Expr::Name(t)] = a.targets.as_slice() else { return Ok(None) };
                let t = t.id.to_string();
                if let Some(c) = self.is_pool_call(&a.value, pool, "submit") {
                    return Ok(Some((Create::Bound(t, true), one(c)?)));
                }
                let elts: Vec<&Expr> = match &*a.value {
                    Expr::ListComp(c) => vec![&c.elt],
                    Expr::SetComp(c) => vec![&c.elt],
                    Expr::DictComp(c) => vec![&c.key, &c.value],
                    Expr::List(l) => l.elts.iter().collect(),
                    Expr::Tuple(l) => l.elts.iter().collect(),
                    _ => return Ok(None),
                };
                let mut ranges = vec![];
                for e in elts {
                    if let Some(c) = self.is_pool_call(e, pool, "submit") {
                        ranges.extend(one(c)?);
                    }
                }
                if ranges.is_empty() {
                    return Ok(None);
                }
                if let Expr::DictComp(c) = &*a.value
                    && self.is_pool_call(&c.key, pool, "submit").is_some()
                    && self.is_pool_call(&c.value, pool, "submit").is_some()
                {
                    return refuse(a.range, "futures as both keys and values of a dict");
                }
                let mixed = match &*a.value {
                    Expr::List(l) => l.elts.iter().any(|e| self.is_pool_call(e, pool, "submit").is_none()),
                    Expr::Tuple(l) => l.elts.iter().any(|e| self.is_pool_call(e, pool, "submit").is_none()),
                    _ => false,
                };
                if mixed {
                    return refuse(a.range, "a list of futures mixed with other values");
                }
                Ok(Some((Create::Bound(t, false), ranges)))
            }
            Stmt::Expr(e) => {
                if let Some(c) = self.is_pool_call(&e.value, pool, "submit") {
                    return Ok(Some((Create::Dropped, one(c)?)));
                }
                match self.map_form(&e.value, pool) {
                    Some(c) => map(c),
                    None => Ok(None),
                }
            }
            Stmt::For(f) => match self.map_form(&f.iter, pool) {
                Some(c) => map(c),
                None => Ok(None),
            },
            Stmt::Return(ast::StmtReturn { value: Some(v), .. }) => match self.map_form(v, pool) {
                Some(c) => map(c),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    fn check(&self, w: &ast::StmtWith, func: FuncId, def: &Stmt) -> Result<Option<Block>, Refusal> {
        let [item] = w.items.as_slice() else { return Ok(None) };
        let Expr::Call(exec) = &item.context_expr else { return Ok(None) };
        let Some(q) = self.qualname(exec) else { return Ok(None) };
        if !self.tables.executor.iter().any(|r| r.name == q) {
            return Ok(None);
        }
        let Some(site) = self.info.call(exec.range) else { return Ok(None) };
        let ctx = site.ctx;
        if !ctx.awaitable() {
            return Ok(None);
        }
        let Some(Expr::Name(pool)) = item.optional_vars.as_deref() else {
            return refuse(exec.range, "the pool is not bound with `as`");
        };
        let pool = pool.id.to_string();
        let limit = match (exec.args.as_slice(), exec.keywords.as_slice()) {
            ([], []) => None,
            ([n], []) => Some(n.clone()),
            ([], [k]) if k.arg.as_deref() == Some("max_workers") => Some(k.value.clone()),
            _ => return refuse(exec.range, "arguments other than `max_workers`"),
        };
        if let Some(Expr::Constant(c)) = &limit
            && !matches!(c.value, ast::Constant::Int(ref i) if i.to_string().parse::<u64>().is_ok_and(|n| n > 0))
            && !matches!(c.value, ast::Constant::None)
        {
            return refuse(exec.range, "`max_workers` is not a positive number");
        }
        let limit = limit.filter(|l| !matches!(l, Expr::Constant(c) if matches!(c.value, ast::Constant::None)));
        // Statement by statement: creations, then any other use of the pool.
        let mut created: Vec<(String, bool)> = vec![];
        let mut maps = 0;
        let mut dropped = 0;
        let mut creation_calls: HashSet<TextRange> = HashSet::new();
        for s in &w.body {
            if let Some((kind, calls)) = self.creations(s, &pool)? {
                match kind {
                    Create::Bound(t, single) => {
                        if created.iter().any(|(n, _)| *n == t) || t == pool {
                            return refuse(s.range(), format!("`{t}` is bound to futures twice"));
                        }
                        created.push((t, single));
                    }
                    Create::Map => maps += 1,
                    Create::Dropped => dropped += 1,
                }
                creation_calls.extend(calls);
            }
        }
        if creation_calls.is_empty() {
            return refuse(exec.range, "no `submit` or `map` the pass can follow");
        }
        let mut scan = Scan {
            finder: self,
            pool: &pool,
            creation_calls: &creation_calls,
            created: &created,
            allowed: HashSet::new(),
            problem: None,
            refs: vec![],
            as_completed: HashSet::new(),
        };
        for s in &w.body {
            scan.visit_stmt(s);
        }
        if let Some(p) = scan.problem {
            return Err(p);
        }
        let mut inside =
            Uses { names: &created, pool: &pool, allowed: scan.allowed.clone(), block: None, problem: None };
        inside.visit_body(&w.body);
        if let Some(p) = inside.problem {
            return Err(p);
        }
        // After the block (in the same function): finished tasks, used as
        // the pool's finished futures were; the pool itself is gone.
        let mut after =
            Uses { names: &created, pool: &pool, allowed: HashSet::new(), block: Some(w.range), problem: None };
        after.visit_body(match def {
            Stmt::FunctionDef(d) => &d.body,
            Stmt::AsyncFunctionDef(d) => &d.body,
            _ => return Ok(None),
        });
        if let Some(p) = after.problem {
            return Err(p);
        }
        let refs = std::mem::take(&mut scan.refs);
        for &(r, f) in &refs {
            let fi = &self.info.funcs[f];
            if fi.is_async || fi.generator {
                return refuse(r, format!("`{}` is already async or a generator", fi.name));
            }
        }
        let mut taken = names_in(def);
        let runner = fresh_name("run_in_pool", &taken);
        taken.insert(runner.clone());
        let mut tasks = vec![];
        for _ in 0..maps {
            let t = fresh_name("tasks", &taken);
            taken.insert(t.clone());
            tasks.push(t);
        }
        let var = fresh_name("x", &taken);
        taken.insert(var.clone());
        let mut dropped_names = vec![];
        for _ in 0..dropped {
            let t = fresh_name("task", &taken);
            taken.insert(t.clone());
            dropped_names.push(t);
        }
        let as_completed = scan.as_completed;
        Ok(Some(Block {
            header: exec.range,
            func,
            ctx,
            pool,
            limit,
            refs,
            runner,
            tasks,
            var,
            dropped: dropped_names,
            as_completed,
        }))
    }
}

/// Finds other uses of the pool, `as_completed` and the module functions
/// handed to the pool (future APIs that differ are `Uses`'s business).
struct Scan<'a, 'f> {
    finder: &'f Finder<'a>,
    pool: &'f str,
    creation_calls: &'f HashSet<TextRange>,
    created: &'f [(String, bool)],
    /// Loads of the futures' names that are fine (by range).
    allowed: HashSet<TextRange>,
    problem: Option<Refusal>,
    refs: Vec<(TextRange, FuncId)>,
    as_completed: HashSet<TextRange>,
}

impl Scan<'_, '_> {
    fn fail(&mut self, r: TextRange, why: impl Into<String>) {
        if self.problem.is_none() {
            self.problem = Some((r, why.into()));
        }
    }
    fn collection(&self, e: &Expr) -> Option<TextRange> {
        collection(e, self.created)
    }
    /// An iterable: `futures`, `futures.values()` or `as_completed(...)` of those.
    fn iterable(&mut self, e: &Expr) {
        if let Some(r) = self.collection(e) {
            self.allowed.insert(r);
        }
        if let Expr::Call(c) = e
            && self.is_as_completed(c)
        {
            match (c.args.as_slice(), c.keywords.is_empty()) {
                ([arg], true) if self.collection(arg).is_some() => {
                    if let Some(r) = self.collection(arg) {
                        self.allowed.insert(r);
                    }
                    self.allowed.insert(c.range);
                    self.as_completed.insert(c.range);
                }
                _ => self
                    .fail(c.range, "`as_completed` with a `timeout=` or over something else than the block's futures"),
            }
        }
    }
    fn is_as_completed(&self, c: &ast::ExprCall) -> bool {
        self.finder.qualname(c).is_some_and(|q| self.finder.tables.as_completed.iter().any(|r| r.name == q))
    }
}

impl<'a> Visitor<'a> for Scan<'_, '_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        if let Stmt::For(f) = s {
            self.iterable(&f.iter);
        }
        walk_stmt(self, s);
    }
    fn visit_comprehension(&mut self, comp: &'a ast::Comprehension) {
        self.iterable(&comp.iter);
        self.visit_expr(&comp.iter);
        self.visit_expr(&comp.target);
        for e in &comp.ifs {
            self.visit_expr(e);
        }
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) if self.creation_calls.contains(&c.range) => {
                // `pool.submit(f, ...)` / `pool.map(f, ...)`: the function and arguments.
                let f = &c.args[0];
                if let Expr::Name(n) = f
                    && let Some(v) = self.finder.info.value_refs.iter().find(|v| v.range == n.range)
                {
                    self.refs.push((n.range, v.func));
                } else if let Expr::Name(n) = f
                    && let Some(s) = self.finder.info.call(n.range)
                    && let Some(t) = s.target.filter(|_| s.pooled)
                {
                    // Prepared already (the pass's second look).
                    self.refs.push((n.range, t));
                } else {
                    self.visit_expr(f);
                }
                c.args[1..].iter().for_each(|a| self.visit_expr(a));
                c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
                return;
            }
            Expr::Name(n) if n.id.as_str() == self.pool => {
                self.fail(n.range, format!("`{}` is used other than by `submit` or `map`", self.pool));
            }
            Expr::Call(c) => {
                if self.is_as_completed(c) {
                    if !self.allowed.contains(&c.range) {
                        self.fail(c.range, "`as_completed` other than as a loop's iterable");
                    }
                } else if self.finder.qualname(c).is_some_and(|q| q.starts_with("concurrent.futures.")) {
                    self.fail(c.range, "another `concurrent.futures` call in the block");
                }
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

/// Loads of the futures' names: only iteration (over the name or its
/// `.values()` / `.keys()`, or `as_completed(...)` of those, see
/// `Scan::allowed`), `futures[...]`, `len(futures)`, `.values()`,
/// `.keys()`, `.items()`, and the task methods of a single future. Inside
/// the block (`block: None`), or after it in the function (`block:
/// Some(range)`, skipped, where the pool itself must not appear). Future
/// methods that differ on asyncio tasks are refused in both.
struct Uses<'f> {
    names: &'f [(String, bool)],
    pool: &'f str,
    allowed: HashSet<TextRange>,
    block: Option<TextRange>,
    problem: Option<Refusal>,
}

impl Uses<'_> {
    fn fail(&mut self, r: TextRange, why: String) {
        if self.problem.is_none() {
            self.problem = Some((r, why));
        }
    }
    fn iterable(&mut self, e: &Expr) {
        if let Some(r) = collection(e, self.names) {
            self.allowed.insert(r);
        }
    }
}

impl<'a> Visitor<'a> for Uses<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        if let Some(block) = self.block {
            if s.range() == block {
                return;
            }
            // Another pool block that binds the same name: its own business.
            if let Stmt::With(w) = s
                && w.items
                    .iter()
                    .any(|i| matches!(i.optional_vars.as_deref(), Some(Expr::Name(n)) if n.id.as_str() == self.pool))
            {
                return;
            }
        }
        if let Stmt::For(f) = s {
            self.iterable(&f.iter);
        }
        walk_stmt(self, s);
    }
    fn visit_comprehension(&mut self, comp: &'a ast::Comprehension) {
        self.iterable(&comp.iter);
        self.visit_expr(&comp.iter);
        self.visit_expr(&comp.target);
        for e in &comp.ifs {
            self.visit_expr(e);
        }
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        let single = |n: &Expr| match n {
            Expr::Name(n) => self.names.iter().find(|(c, _)| c == n.id.as_str()).map(|(_, s)| *s),
            _ => None,
        };
        match e {
            Expr::Subscript(s) if single(&s.value) == Some(false) => {
                self.visit_expr(&s.slice);
                return;
            }
            Expr::Call(c) => {
                if let Expr::Attribute(a) = &*c.func
                    && let Some(one) = single(&a.value)
                {
                    let ok = if one {
                        TASK_METHODS.contains(&a.attr.as_str())
                    } else {
                        matches!(a.attr.as_str(), "values" | "keys" | "items")
                    };
                    if ok && c.args.is_empty() && c.keywords.is_empty() {
                        return;
                    }
                }
                if matches!(&*c.func, Expr::Name(f) if f.id.as_str() == "len")
                    && c.args.len() == 1
                    && single(&c.args[0]) == Some(false)
                {
                    return;
                }
                if let Expr::Attribute(a) = &*c.func
                    && matches!(a.attr.as_str(), "result" | "exception")
                    && !(c.args.is_empty() && c.keywords.is_empty())
                {
                    self.fail(c.range, format!("`{}(...)` with a timeout", a.attr));
                }
            }
            Expr::Attribute(a) if FORBIDDEN.contains(&a.attr.as_str()) => {
                self.fail(a.range, format!("`.{}` of a future differs on asyncio tasks", a.attr));
            }
            Expr::Name(n) if matches!(n.ctx, ast::ExprContext::Load) => {
                if self.block.is_some() && n.id.as_str() == self.pool {
                    self.fail(n.range, format!("`{}` is also used outside the `with` block", n.id));
                } else if single(e).is_some() && !self.allowed.contains(&n.range) {
                    let why = format!("the futures in `{}` are used where asyncio tasks may differ", n.id);
                    self.fail(n.range, why);
                }
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

/// The block's statements in their new form, or None if a template failed.
fn rewrite(w: ast::StmtWith, b: &Block, is_async: &HashSet<TextRange>) -> Option<Vec<Stmt>> {
    let pool = b.pool.as_str();
    let runner = b.runner.as_str();
    let limit = b.limit.clone().map_or_else(|| template_expr("min(32, (os.cpu_count() or 1) + 4)", vec![]), Some)?;
    let mut out = template(
        "{pool} = asyncio.Semaphore({limit})\n\
         async def {runner}(fn, *args, **kwargs):\n    async with {pool}:\n        return await fn(*args, **kwargs)\n",
        vec![("pool", Hole::Expr(name(pool))), ("limit", Hole::Expr(limit)), ("runner", Hole::Expr(name(runner)))],
    )?;
    // `def {runner}` cannot be a placeholder name: rename it.
    if let Some(Stmt::AsyncFunctionDef(d)) = out.get_mut(1) {
        d.name = ast::Identifier::new(runner);
    }
    let mut tasks = b.tasks.iter();
    let mut waiting: Vec<Expr> = vec![];
    let mut rw =
        Rewriter { b, is_async, pre: vec![], tasks: &mut tasks, dropped: b.dropped.iter(), waiting: &mut waiting };
    for s in w.body {
        let before = rw.waiting.len();
        let s = rw.statement(s)?;
        if !rw.pre.is_empty() {
            // `map`: its task list, then (its results are read) the wait.
            out.append(&mut rw.pre);
            flush(&mut out, rw.waiting)?;
        } else if rw.waiting.len() == before {
            // Creates nothing: the tasks created so far must be done.
            flush(&mut out, rw.waiting)?;
        }
        out.extend(s);
    }
    flush(&mut out, rw.waiting)?;
    Some(out)
}

/// `await asyncio.gather(*tasks, return_exceptions=True)` for the tasks
/// created since the last one.
fn flush(out: &mut Vec<Stmt>, waiting: &mut Vec<Expr>) -> Option<()> {
    if waiting.is_empty() {
        return Some(());
    }
    let args = std::mem::take(waiting);
    let mut stmt = template("await asyncio.gather(return_exceptions=True)", vec![])?;
    if let Some(Stmt::Expr(e)) = stmt.first_mut()
        && let Expr::Await(a) = &mut *e.value
        && let Expr::Call(c) = &mut *a.value
    {
        c.args = args;
    }
    out.append(&mut stmt);
    Some(())
}

struct Rewriter<'b, 'i> {
    b: &'b Block,
    is_async: &'b HashSet<TextRange>,
    /// Statements to put before the current one (map's task lists).
    pre: Vec<Stmt>,
    tasks: &'i mut std::slice::Iter<'b, String>,
    dropped: std::slice::Iter<'b, String>,
    waiting: &'i mut Vec<Expr>,
}

impl Rewriter<'_, '_> {
    /// One statement of the block; None for a dropped `submit`'s stand-in.
    fn statement(&mut self, s: Stmt) -> Option<Option<Stmt>> {
        let s = match s {
            Stmt::Expr(e) if is_call_of(&e.value, self.b.pool.as_str(), "submit") => {
                // The future was dropped: keep the task to wait for it.
                let task = self.submit(*e.value)?;
                let t = self.dropped.next()?.clone();
                self.waiting.push(name(&t));
                let mut s = template("{t} = {task}", vec![("t", Hole::Expr(name(&t))), ("task", Hole::Expr(task))])?;
                return s.pop().map(Some);
            }
            Stmt::Expr(e) if is_call_of(&e.value, self.b.pool.as_str(), "map") => {
                // The map's iterator was dropped: only the tasks remain.
                self.map(*e.value)?;
                return Some(None);
            }
            s if !creates(&s, self.b.pool.as_str()) => self.consumer(s),
            Stmt::Assign(mut a) => {
                let bound = match a.targets.as_slice() {
                    [Expr::Name(n)] => Some(n.id.to_string()),
                    _ => None,
                };
                let value = std::mem::replace(&mut *a.value, name("_"));
                let (value, star) = self.value(value)?;
                *a.value = value;
                if let (Some(t), Some(star)) = (bound, star) {
                    self.waiting.push(match star {
                        Star::One => name(&t),
                        Star::Many => starred(name(&t)),
                        Star::Values => starred(template_expr("{t}.values()", vec![("t", Hole::Expr(name(&t)))])?),
                    });
                }
                Stmt::Assign(a)
            }
            Stmt::Expr(mut e) => {
                let v = std::mem::replace(&mut *e.value, name("_"));
                *e.value = self.value(v)?.0;
                Stmt::Expr(e)
            }
            Stmt::Return(mut r) => {
                let v = r.value.take()?;
                r.value = Some(Box::new(self.value(*v)?.0));
                Stmt::Return(r)
            }
            Stmt::For(mut f) => {
                let v = std::mem::replace(&mut *f.iter, name("_"));
                *f.iter = self.value(v)?.0;
                f.body = self.consumers(f.body);
                f.orelse = self.consumers(f.orelse);
                Stmt::For(f)
            }
            s => self.consumer(s),
        };
        Some(Some(s))
    }

    fn consumers(&self, body: Vec<Stmt>) -> Vec<Stmt> {
        body.into_iter().map(|s| self.consumer(s)).collect()
    }

    /// `as_completed(futures)` -> `futures` (everywhere in a statement that
    /// creates nothing).
    fn consumer(&self, s: Stmt) -> Stmt {
        struct AsCompleted<'r>(&'r HashSet<TextRange>);
        impl ast::Fold<TextRange> for AsCompleted<'_> {
            crate::identity_fold_plumbing!();
            fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
                match e {
                    Expr::Call(mut c) if self.0.contains(&c.range) => Ok(c.args.remove(0)),
                    e => ast::fold::fold_expr(self, e),
                }
            }
        }
        crate::syntax::fold_ok(ast::Fold::fold_stmt(&mut AsCompleted(&self.b.as_completed), s))
    }

    /// The value of an assignment or expression statement, or a loop's iterable.
    fn value(&mut self, v: Expr) -> Option<(Expr, Option<Star>)> {
        if is_call_of(&v, self.b.pool.as_str(), "submit") {
            return Some((self.submit(v)?, Some(Star::One)));
        }
        if is_call_of(&v, self.b.pool.as_str(), "map") {
            return Some((self.map(v)?, None));
        }
        match v {
            Expr::Call(mut c) if c.args.len() == 1 && is_call_of(&c.args[0], self.b.pool.as_str(), "map") => {
                // A new call, so that the generator needs no parentheses of its own.
                let m = c.args.remove(0);
                let results = self.map(m)?;
                Some((crate::syntax::call(*c.func, vec![results], vec![], crate::syntax::synth()), None))
            }
            mut v if first_iter(&v).is_some_and(|it| is_call_of(it, self.b.pool.as_str(), "map")) => {
                // `[... for x in pool.map(...)]`: the first iterable is evaluated first.
                let generators = match &mut v {
                    Expr::ListComp(c) => &mut c.generators,
                    Expr::SetComp(c) => &mut c.generators,
                    Expr::DictComp(c) => &mut c.generators,
                    Expr::GeneratorExp(c) => &mut c.generators,
                    _ => return None,
                };
                let it = std::mem::replace(&mut generators[0].iter, name("_"));
                generators[0].iter = self.map(it)?;
                Some((v, None))
            }
            Expr::ListComp(mut c) if is_call_of(&c.elt, self.b.pool.as_str(), "submit") => {
                *c.elt = self.submit(std::mem::replace(&mut *c.elt, name("_")))?;
                Some((Expr::ListComp(c), Some(Star::Many)))
            }
            Expr::SetComp(mut c) if is_call_of(&c.elt, self.b.pool.as_str(), "submit") => {
                *c.elt = self.submit(std::mem::replace(&mut *c.elt, name("_")))?;
                Some((Expr::SetComp(c), Some(Star::Many)))
            }
            Expr::DictComp(mut c) => {
                let star = if is_call_of(&c.key, self.b.pool.as_str(), "submit") {
                    *c.key = self.submit(std::mem::replace(&mut *c.key, name("_")))?;
                    Star::Many
                } else if is_call_of(&c.value, self.b.pool.as_str(), "submit") {
                    *c.value = self.submit(std::mem::replace(&mut *c.value, name("_")))?;
                    Star::Values
                } else {
                    return Some((Expr::DictComp(c), None));
                };
                Some((Expr::DictComp(c), Some(star)))
            }
            Expr::List(mut l)
                if !l.elts.is_empty() && l.elts.iter().all(|e| is_call_of(e, self.b.pool.as_str(), "submit")) =>
            {
                l.elts = l.elts.into_iter().map(|e| self.submit(e)).collect::<Option<_>>()?;
                Some((Expr::List(l), Some(Star::Many)))
            }
            Expr::Tuple(mut l)
                if !l.elts.is_empty() && l.elts.iter().all(|e| is_call_of(e, self.b.pool.as_str(), "submit")) =>
            {
                l.elts = l.elts.into_iter().map(|e| self.submit(e)).collect::<Option<_>>()?;
                Some((Expr::Tuple(l), Some(Star::Many)))
            }
            v => Some((v, None)),
        }
    }

    /// The runner's call for `f(*args, **kwargs)`: awaited directly when `f`
    /// is async, else through a worker thread.
    fn runner_call(&self, f: Expr, mut args: Vec<Expr>, keywords: Vec<ast::Keyword>) -> Expr {
        let direct = matches!(&f, Expr::Name(n) if self.is_async.contains(&n.range));
        let mut all = if direct { vec![f] } else { vec![dotted("asyncio.to_thread"), f] };
        all.append(&mut args);
        crate::syntax::call(name(&self.b.runner), all, keywords, crate::syntax::synth())
    }

    /// `pool.submit(f, *a, **k)` -> `asyncio.create_task(run_in_pool(f, *a, **k))`.
    fn submit(&mut self, e: Expr) -> Option<Expr> {
        let Expr::Call(mut c) = e else { return None };
        let f = c.args.remove(0);
        let inner = self.runner_call(f, c.args, c.keywords);
        template_expr("asyncio.create_task({c})", vec![("c", Hole::Expr(inner))])
    }

    /// `pool.map(f, xs, ys)`: the task list goes before the statement, and
    /// the map becomes a generator of the results in order.
    fn map(&mut self, e: Expr) -> Option<Expr> {
        let Expr::Call(mut c) = e else { return None };
        let tasks = self.tasks.next()?.clone();
        let f = c.args.remove(0);
        let (iter, call) = if c.args.len() == 1 {
            let it = c.args.remove(0);
            (it, self.runner_call(f, vec![name(&self.b.var)], vec![]))
        } else {
            let zip = crate::syntax::call(name("zip"), c.args, vec![], crate::syntax::synth());
            (zip, self.runner_call(f, vec![starred(name(&self.b.var))], vec![]))
        };
        let mut pre = template(
            "{tasks} = [asyncio.create_task({call}) for {x} in {iter}]",
            vec![
                ("tasks", Hole::Expr(name(&tasks))),
                ("call", Hole::Expr(call)),
                ("x", Hole::Expr(name(&self.b.var))),
                ("iter", Hole::Expr(iter)),
            ],
        )?;
        self.pre.append(&mut pre);
        self.waiting.push(starred(name(&tasks)));
        template_expr("(t.result() for t in {tasks})", vec![("tasks", Hole::Expr(name(&tasks)))])
    }
}

enum Star {
    One,
    Many,
    Values,
}

fn is_call_of(e: &Expr, pool: &str, method: &str) -> bool {
    matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Attribute(a)
        if a.attr.as_str() == method && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == pool)))
}

fn starred(e: Expr) -> Expr {
    Expr::Starred(ast::ExprStarred { range: crate::syntax::synth(), value: Box::new(e), ctx: ast::ExprContext::Load })
}

/// Whether a statement of the block creates tasks (see `Finder::creations`).
fn creates(s: &Stmt, pool: &str) -> bool {
    let map_like = |e: &Expr| {
        is_call_of(e, pool, "map")
            || matches!(e, Expr::Call(c) if c.args.len() == 1 && is_call_of(&c.args[0], pool, "map"))
            || first_iter(e).is_some_and(|it| is_call_of(it, pool, "map"))
    };
    let submits = |e: &Expr| match e {
        Expr::ListComp(c) => is_call_of(&c.elt, pool, "submit"),
        Expr::SetComp(c) => is_call_of(&c.elt, pool, "submit"),
        Expr::DictComp(c) => is_call_of(&c.key, pool, "submit") || is_call_of(&c.value, pool, "submit"),
        Expr::List(l) => l.elts.iter().any(|e| is_call_of(e, pool, "submit")),
        Expr::Tuple(l) => l.elts.iter().any(|e| is_call_of(e, pool, "submit")),
        e => is_call_of(e, pool, "submit"),
    };
    match s {
        Stmt::Assign(a) => map_like(&a.value) || submits(&a.value),
        Stmt::Expr(e) => map_like(&e.value) || is_call_of(&e.value, pool, "submit"),
        Stmt::For(f) => map_like(&f.iter),
        Stmt::Return(ast::StmtReturn { value: Some(v), .. }) => map_like(v),
        _ => false,
    }
}

/// The first iterable of a comprehension (evaluated where it stands).
fn first_iter(e: &Expr) -> Option<&Expr> {
    crate::syntax::comprehension_generators(e)?.first().filter(|g| !g.is_async).map(|g| &g.iter)
}

/// The name in `futures`, `futures.values()` or `futures.keys()`, when
/// `futures` is one of the block's collections of futures.
fn collection(e: &Expr, created: &[(String, bool)]) -> Option<TextRange> {
    let is = |n: &ast::ExprName| created.iter().any(|(c, single)| !single && c == n.id.as_str());
    match e {
        Expr::Name(n) if is(n) => Some(n.range),
        Expr::Call(c) if c.args.is_empty() && c.keywords.is_empty() => match &*c.func {
            Expr::Attribute(a) if matches!(a.attr.as_str(), "values" | "keys") => match &*a.value {
                Expr::Name(n) if is(n) => Some(n.range),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}
