//! The `sqlite` pass.

use super::{Diagnostic, Pass, PassCx, Seed};
use crate::analysis::{FuncId, ModuleInfo};
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{await_, dotted, fold_ok, name, synth, to_async_kind};
use crate::transforms::{SqliteDriver, SqliteObject, Tables};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr, Fold, Ranged, Stmt};
use std::collections::{HashMap, HashSet};

crate::pass_doc!(
    "Turns `sqlite3` connections into `aiosqlite` ones, awaiting every database call.

## What it does
In functions that can become async, a connection the pass can see closed on
every path becomes an `aiosqlite` connection:
* `conn = sqlite3.connect(p)` directly followed by `try: ... finally:
  conn.close()` -> `conn = await aiosqlite.connect(p)` (and `await
  conn.close()`);
* `conn = sqlite3.connect(p)` followed later in the same block by
  `conn.close()`, the connection not used after it: the statements between
  go into `try: ... finally: await conn.close()` (on an exception or an
  early `return`, the original's connection was closed by the garbage
  collector; an aiosqlite connection's thread would keep the process alive);
* `with closing(sqlite3.connect(p)) as conn:` -> `async with
  aiosqlite.connect(p) as conn:`;
* `with sqlite3.connect(p) as conn:` (a transaction, and the connection is
  not used after the block) -> `async with aiosqlite.connect(p) as conn:`
  around the transaction below;
* a function that makes a connection and returns it (`def open_db(): conn =
  sqlite3.connect(p); ...; return conn`), when each of its calls is bound as
  above: the statements between the connect and the `return` are wrapped in
  `try: ... except BaseException: await conn.close(); raise`, so a failure
  there still closes it.
Then, on those connections, on parameters that receive one at every call,
and on their cursors (`cur = conn.cursor()`, `cur = conn.execute(...)`):
* `execute/executemany/executescript/cursor/commit/rollback/close(...)` and
  the cursor's `execute/.../fetchone/fetchmany/fetchall/close(...)` are
  awaited, also chained: `conn.execute(q).fetchone()` -> `await (await
  conn.execute(q)).fetchone()`;
* `for row in cur:` / `for row in conn.execute(q):` -> `async for row in
  cur:` / `async for row in await conn.execute(q):` (list, set and dict
  comprehensions likewise);
* `row_factory` (`sqlite3.Row` stays: aiosqlite takes it), `text_factory`,
  `isolation_level` (read only), `total_changes`, `in_transaction`, `lastrowid`,
  `rowcount`, `description`, `arraysize` stay as they are;
* `with conn:`, sqlite3's transaction (commit on success, roll back on an
  exception or a failed commit; the connection stays open), becomes
  `try: ...; await conn.commit() except BaseException: await
  conn.rollback(); raise`.
The functions become `async def` and their callers are converted by
`colour`. `import aiosqlite` is added; `import sqlite3` stays (for
`sqlite3.Row` and the exceptions, which aiosqlite raises unchanged). The map
is `transforms/sqlite.toml`.

## Why is this bad
Every query blocks the event loop while SQLite reads or writes the disk.

## Example
```python
import sqlite3


def count(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(\"SELECT COUNT(*) FROM t\").fetchone()[0]
    finally:
        conn.close()
```

## Use instead
```python
import aiosqlite
import sqlite3


async def count(path):
    conn = await aiosqlite.connect(path)
    try:
        return (await (await conn.execute(\"SELECT COUNT(*) FROM t\")).fetchone())[0]
    finally:
        await conn.close()
```

## Not converted
The sqlite code of a module converts all together or not at all, so one
connection is never half converted. It stays as it is, with a diagnostic
wherever it ends up in an async function, when any connection:
* may stay open: a connection made at module level or kept on `self` (an
  `aiosqlite` connection runs a worker thread that keeps the process alive
  until it is closed), or one not closed on every path (no `try: ...
  finally: conn.close()` right after the connect);
* is used where the pass cannot follow it: handed to a function some other
  call of which passes something else, returned (other than by a function
  that only makes it), kept in a container, a cursor passed on, a method
  with no async twin (`backup`, `iterdump`, `create_function`...);
* is used in a `with conn:` block left by `return`, `break` or `continue`
  (the commit would be skipped), or after it is closed;
or when `--runtime trio` is chosen: aiosqlite needs an asyncio event loop
(anyio runs on one by default).

## Fix safety
Safe for the patterns above: aiosqlite runs the same sqlite3 calls, with the
same arguments, in its worker thread, returns the same rows (`row_factory`
included) and raises the same `sqlite3` exceptions. A connection is closed
where the original closed it, or, for `with sqlite3.connect(...)` and a
failing connection factory, where the original dropped it (a dropped
sqlite3 connection rolls back too). A `with conn:` block whose commit fails
is rolled back, as Python 3.11 and later do (older versions leave the
transaction open).
"
);

pub struct Sqlite;

const CLOSING: &str = "contextlib.closing";

#[derive(Debug, Default)]
struct Facts {
    /// Calls that become awaited -> what they are (for messages).
    awaits: HashMap<TextRange, String>,
    /// Connect calls -> awaited (`conn = await aiosqlite.connect(...)`) or
    /// entered by `async with` (false).
    connects: HashMap<TextRange, bool>,
    /// For statements over a cursor: `async for`.
    fors: HashSet<TextRange>,
    /// Comprehension iterables over a cursor: async comprehensions.
    comps: HashSet<TextRange>,
    /// `with conn:` -> the connection's name (a transaction).
    transactions: HashMap<TextRange, String>,
    /// `with closing(sqlite3.connect(...)) as conn:`.
    closings: HashSet<TextRange>,
    /// `with sqlite3.connect(...) as conn:` -> conn.
    connect_withs: HashMap<TextRange, String>,
    /// `conn = sqlite3.connect(...)` later followed, in the same block, by
    /// `conn.close()`: the connect statement -> the close statement. The
    /// statements between them go into `try: ... finally: await
    /// conn.close()`.
    close_later: HashMap<TextRange, TextRange>,
    /// Connection factories: def start -> (index of the connect statement
    /// in the body, the connection's name).
    factories: HashMap<u32, (usize, String)>,
    /// Why the module's sqlite code stays as it is.
    refused: Vec<(TextRange, String)>,
    /// Where connections the pass leaves are kept (`DB`, `self.conn`): their
    /// calls in async functions get a diagnostic.
    holders: Vec<(String, TextRange)>,
}

impl Facts {
    fn refuse(&mut self, r: TextRange, why: impl Into<String>) {
        self.refused.push((r, why.into()));
    }
}

/// A function of the module, with what the pass needs of it.
struct Func<'a> {
    id: FuncId,
    range: TextRange,
    args: &'a ast::Arguments,
    body: &'a [Stmt],
}

/// Every def of the module (nested ones too) with its body.
fn defs<'a>(body: &'a [Stmt], info: &ModuleInfo) -> Vec<Func<'a>> {
    struct D<'a, 'i> {
        info: &'i ModuleInfo,
        out: Vec<Func<'a>>,
    }
    impl<'a> Visitor<'a> for D<'a, '_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            let parts = match s {
                Stmt::FunctionDef(f) => Some((&*f.args, &f.body[..])),
                Stmt::AsyncFunctionDef(f) => Some((&*f.args, &f.body[..])),
                _ => None,
            };
            if let Some((args, body)) = parts
                && let Some(id) = self.info.func_at(s.range().start().into())
            {
                self.out.push(Func { id, range: s.range(), args, body });
            }
            walk_stmt(self, s);
        }
    }
    let mut d = D { info, out: vec![] };
    d.visit_body(body);
    d.out
}

/// How many times each name is bound in a function body (nested scopes
/// excluded; comprehension targets counted, to be safe). `global` and
/// `nonlocal` names count as bound many times.
fn stores(body: &[Stmt]) -> HashMap<String, usize> {
    #[derive(Default)]
    struct S(HashMap<String, usize>);
    impl S {
        fn add(&mut self, n: &str, k: usize) {
            *self.0.entry(n.to_string()).or_default() += k;
        }
    }
    impl<'a> Visitor<'a> for S {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(f) => return self.add(f.name.as_str(), 1),
                Stmt::AsyncFunctionDef(f) => return self.add(f.name.as_str(), 1),
                Stmt::ClassDef(c) => return self.add(c.name.as_str(), 1),
                Stmt::Import(ast::StmtImport { names, .. }) | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                    for a in names {
                        let local = a.asname.as_ref().unwrap_or(&a.name);
                        self.add(local.split('.').next().unwrap_or(""), 1);
                    }
                }
                Stmt::Global(ast::StmtGlobal { names, .. }) | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                    names.iter().for_each(|n| self.add(n.as_str(), 1000));
                }
                _ => {}
            }
            walk_stmt(self, s);
        }
        fn visit_except_handler(&mut self, h: &'a ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(hh) = h;
            if let Some(n) = &hh.name {
                self.add(n.as_str(), 1);
            }
            if let Some(t) = &hh.type_ {
                self.visit_expr(t);
            }
            self.visit_body(&hh.body);
        }
        fn visit_pattern(&mut self, p: &'a ast::Pattern) {
            let bound = match p {
                ast::Pattern::MatchAs(a) => a.name.as_ref(),
                ast::Pattern::MatchStar(a) => a.name.as_ref(),
                ast::Pattern::MatchMapping(m) => m.rest.as_ref(),
                _ => None,
            };
            if let Some(n) = bound {
                self.add(n.as_str(), 1);
            }
            crate::syntax::visit::walk_pattern(self, p);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Lambda(_) => {}
                Expr::Name(n) if !matches!(n.ctx, ast::ExprContext::Load) => self.add(n.id.as_str(), 1),
                _ => walk_expr(self, e),
            }
        }
    }
    let mut s = S::default();
    s.visit_body(body);
    s.0
}

/// Whether a `with` body can be left other than by falling off its end or
/// by an exception (`return`, or `break` / `continue` of an outer loop).
fn jumps_out(body: &[Stmt]) -> bool {
    struct J {
        loops: usize,
        hit: bool,
    }
    impl<'a> Visitor<'a> for J {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Return(_) => self.hit = true,
                Stmt::Break(_) | Stmt::Continue(_) if self.loops == 0 => self.hit = true,
                Stmt::For(_) | Stmt::AsyncFor(_) | Stmt::While(_) => {
                    // The loop's own `else` belongs to the outer level.
                    let (body, orelse) = match s {
                        Stmt::For(f) => (&f.body, &f.orelse),
                        Stmt::AsyncFor(f) => (&f.body, &f.orelse),
                        Stmt::While(w) => (&w.body, &w.orelse),
                        _ => unreachable!("matched above"),
                    };
                    self.loops += 1;
                    self.visit_body(body);
                    self.loops -= 1;
                    self.visit_body(orelse);
                }
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, _e: &'a Expr) {}
    }
    let mut j = J { loops: 0, hit: false };
    j.visit_body(body);
    j.hit
}

/// Every statement list of a function body, nested blocks included (nested
/// defs and classes excluded).
fn blocks_of<'a>(body: &'a [Stmt], out: &mut Vec<&'a [Stmt]>) {
    out.push(body);
    for s in body {
        if matches!(s, Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_)) {
            continue;
        }
        for b in crate::syntax::blocks(s) {
            blocks_of(b, out);
        }
    }
}

/// How a connection name is bound in its function.
#[derive(Clone, Debug)]
struct Binding {
    /// Loads of the name must lie in one of these ranges (None: anywhere,
    /// a parameter or a factory's own connection).
    within: Option<TextRange>,
}

/// A call of a module function: the function, the call, and what it passes
/// to each parameter (None: the pass cannot tell).
type Flow<'a> = (FuncId, TextRange, Option<HashMap<String, &'a Expr>>);

struct Analysis<'a> {
    info: &'a ModuleInfo,
    tables: &'a Tables,
    facts: Facts,
    /// Every call expression of the module, by range.
    calls: HashMap<TextRange, &'a ast::ExprCall>,
}

impl<'a> Analysis<'a> {
    fn qual(&self, e: &Expr) -> Option<&'a str> {
        match e {
            Expr::Call(c) => self.info.call(c.range).and_then(|c| c.qualname.as_deref()),
            _ => None,
        }
    }
    fn is_connect(&self, e: &Expr) -> bool {
        self.qual(e).is_some_and(|q| self.tables.sqlite.driver.iter().any(|d| d.sync == q))
    }
    /// A call of a connection factory of this module.
    fn factory_call(&self, e: &Expr, factories: &HashMap<FuncId, (usize, String)>) -> bool {
        let Expr::Call(c) = e else { return false };
        self.info.call(c.range).and_then(|s| s.target).is_some_and(|f| factories.contains_key(&f))
    }

    /// The positional parameters of `f` as seen by a call through `func`.
    fn call_params(&self, f: FuncId, func: &Expr) -> Option<Vec<String>> {
        let info = &self.info.funcs[f];
        match (func, info.class, &info.self_name) {
            (Expr::Name(_), None, _) => Some(info.params.clone()),
            (Expr::Attribute(a), Some(_), Some(_)) if !matches!(&*a.value, Expr::Name(n) if self.info.class_named(n.id.as_str()).is_some()) => {
                Some(info.params.iter().skip(1).cloned().collect())
            }
            _ => None,
        }
    }

    /// What each call of a module function passes to each parameter:
    /// (function, call, parameter -> argument expression).
    fn flows(&self) -> Vec<Flow<'a>> {
        let mut out = vec![];
        for cs in &self.info.calls {
            for t in &cs.targets {
                out.push((*t, cs.range, None));
            }
            let Some(f) = cs.target else { continue };
            let Some(c) = self.calls.get(&cs.range) else { continue };
            let starred =
                c.args.iter().any(|a| matches!(a, Expr::Starred(_))) || c.keywords.iter().any(|k| k.arg.is_none());
            let Some(pos) = self.call_params(f, &c.func).filter(|_| !starred) else {
                out.push((f, cs.range, None));
                continue;
            };
            let mut m = HashMap::new();
            for (i, a) in c.args.iter().enumerate() {
                if let Some(p) = pos.get(i) {
                    m.insert(p.clone(), a);
                }
            }
            let kwonly = &self.info.funcs[f].kwonly;
            for k in &c.keywords {
                if let Some(a) = &k.arg
                    && (pos.iter().any(|p| p == a.as_str()) || kwonly.iter().any(|p| p == a.as_str()))
                {
                    m.insert(a.to_string(), &k.value);
                }
            }
            out.push((f, cs.range, Some(m)));
        }
        out
    }
}

/// Everything the pass rewrites in a module, or why it rewrites nothing.
fn collect(body: &[Stmt], info: &ModuleInfo, tables: &Tables) -> Facts {
    /// Every call, and the single target each assigned value is bound to.
    struct Calls<'a>(HashMap<TextRange, &'a ast::ExprCall>, HashMap<TextRange, &'a Expr>);
    impl<'a> Visitor<'a> for Calls<'a> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if let Stmt::Assign(x) = s
                && let [t] = &x.targets[..]
            {
                self.1.insert(x.value.range(), t);
            }
            walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e {
                self.0.insert(c.range, c);
            }
            walk_expr(self, e);
        }
    }
    let mut calls = Calls(HashMap::new(), HashMap::new());
    calls.visit_body(body);
    let targets = calls.1;
    let mut a = Analysis { info, tables, facts: Facts::default(), calls: calls.0 };
    let connect_calls: Vec<TextRange> = info
        .calls
        .iter()
        .filter(|c| c.qualname.as_deref().is_some_and(|q| tables.sqlite.driver.iter().any(|d| d.sync == q)))
        .map(|c| c.range)
        .collect();
    if connect_calls.is_empty() {
        return a.facts;
    }
    let funcs = defs(body, info);
    let store_counts: HashMap<FuncId, HashMap<String, usize>> = funcs.iter().map(|f| (f.id, stores(f.body))).collect();
    let params_of = |f: &Func| -> HashSet<String> {
        let a = f.args;
        a.posonlyargs
            .iter()
            .chain(&a.args)
            .chain(&a.kwonlyargs)
            .map(|x| x.def.arg.to_string())
            .chain(a.vararg.iter().chain(&a.kwarg).map(|x| x.arg.to_string()))
            .collect()
    };

    // Connection factories: `conn = sqlite3.connect(...)` at the top of the
    // body, every return `return conn`, the last statement one of them.
    let mut factories: HashMap<FuncId, (usize, String)> = HashMap::new();
    for f in &funcs {
        if info.funcs[f.id].generator || info.value_refs.iter().any(|v| v.func == f.id) {
            continue;
        }
        let found = f.body.iter().enumerate().find_map(|(i, s)| match s {
            Stmt::Assign(x) if a.is_connect(&x.value) => match &x.targets[..] {
                [Expr::Name(n)] => Some((i, n.id.to_string())),
                _ => None,
            },
            _ => None,
        });
        let Some((i, n)) = found else { continue };
        if store_counts[&f.id].get(&n) != Some(&1) || params_of(f).contains(&n) {
            continue;
        }
        let returns_it = |s: &Stmt| matches!(s, Stmt::Return(r) if matches!(r.value.as_deref(), Some(Expr::Name(v)) if v.id.as_str() == n));
        if !f.body.last().is_some_and(returns_it) {
            continue;
        }
        struct R<'n>(&'n str, bool);
        impl<'b> Visitor<'b> for R<'_> {
            fn visit_stmt(&mut self, s: &'b Stmt) {
                match s {
                    Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                    Stmt::Return(r) => {
                        self.1 &= matches!(r.value.as_deref(), Some(Expr::Name(v)) if v.id.as_str() == self.0)
                    }
                    _ => walk_stmt(self, s),
                }
            }
        }
        let mut r = R(&n, true);
        r.visit_body(f.body);
        if r.1 {
            factories.insert(f.id, (i, n));
        }
    }

    // How each connection name is bound, per function.
    let mut bound: HashMap<FuncId, HashMap<String, Vec<Binding>>> = HashMap::new();
    let mut consumed: HashSet<TextRange> = HashSet::new();
    for f in &funcs {
        let mut names: HashMap<String, Vec<Binding>> = HashMap::new();
        if let Some((i, n)) = factories.get(&f.id) {
            if let Stmt::Assign(x) = &f.body[*i] {
                consumed.insert(x.value.range());
                a.facts.connects.insert(x.value.range(), true);
            }
            names.entry(n.clone()).or_default().push(Binding { within: None });
        }
        let mut blocks = vec![];
        blocks_of(f.body, &mut blocks);
        for block in blocks {
            for (j, s) in block.iter().enumerate() {
                match s {
                    Stmt::Assign(x)
                        if (a.is_connect(&x.value) || a.factory_call(&x.value, &factories))
                            && !consumed.contains(&x.value.range()) =>
                    {
                        let [Expr::Name(n)] = &x.targets[..] else { continue };
                        let n = n.id.to_string();
                        let closed_next = match block.get(j + 1) {
                            Some(Stmt::Try(t)) => {
                                t.finalbody.first().is_some_and(|c| crate::syntax::is_close_of(c, &n))
                            }
                            _ => false,
                        };
                        if !closed_next {
                            // `conn = connect(...); ...; conn.close()` in one
                            // block (not a factory's own body): the original
                            // left the connection to the garbage collector on
                            // an exception or a jump; `finally` closes it there.
                            let later = block[j + 1..].iter().find(|c| crate::syntax::is_close_of(c, &n));
                            let factory_body = factories.contains_key(&f.id) && std::ptr::eq(block, f.body);
                            let Some(close) = later.filter(|_| !factory_body) else { continue };
                            consumed.insert(x.value.range());
                            if a.is_connect(&x.value) {
                                a.facts.connects.insert(x.value.range(), true);
                            }
                            a.facts.close_later.insert(s.range(), close.range());
                            names
                                .entry(n)
                                .or_default()
                                .push(Binding { within: Some(TextRange::new(s.range().start(), close.range().end())) });
                            continue;
                        }
                        let Some(Stmt::Try(t)) = block.get(j + 1) else { continue };
                        consumed.insert(x.value.range());
                        if a.is_connect(&x.value) {
                            a.facts.connects.insert(x.value.range(), true);
                        }
                        names
                            .entry(n)
                            .or_default()
                            .push(Binding { within: Some(TextRange::new(s.range().start(), t.range.end())) });
                    }
                    Stmt::With(w) if w.items.len() == 1 => {
                        let it = &w.items[0];
                        let Some(Expr::Name(n)) = it.optional_vars.as_deref() else { continue };
                        let n = n.id.to_string();
                        let e = &it.context_expr;
                        if a.qual(e) == Some(CLOSING)
                            && let Expr::Call(c) = e
                            && c.args.len() == 1
                            && c.keywords.is_empty()
                            && a.is_connect(&c.args[0])
                        {
                            consumed.insert(c.args[0].range());
                            a.facts.connects.insert(c.args[0].range(), false);
                            a.facts.closings.insert(w.range);
                        } else if a.is_connect(e) {
                            if jumps_out(&w.body) {
                                a.facts.refuse(
                                    w.range,
                                    "`with sqlite3.connect(...)` is a transaction, and this block may be left by `return`, `break` or `continue`, which the rewritten commit would miss",
                                );
                                continue;
                            }
                            consumed.insert(e.range());
                            a.facts.connects.insert(e.range(), false);
                            a.facts.connect_withs.insert(w.range, n.clone());
                        } else {
                            continue;
                        }
                        names.entry(n).or_default().push(Binding { within: Some(w.range) });
                    }
                    _ => {}
                }
            }
        }
        // Every binding of such a name must be one of these.
        let counts = &store_counts[&f.id];
        for (n, bs) in &names {
            if counts.get(n).copied().unwrap_or(0) != bs.len() || params_of(f).contains(n) {
                a.facts.refuse(
                    f.range,
                    format!(
                        "`{n}` holds a database connection and is also bound to something else in `{}`",
                        info.funcs[f.id].name
                    ),
                );
            }
        }
        bound.insert(f.id, names);
    }
    for &c in &connect_calls {
        if consumed.contains(&c) {
            continue;
        }
        let held = targets.get(&c).and_then(|t| crate::syntax::dotted_name(t));
        let module_level = info.call(c).and_then(|s| s.ctx.func).is_none();
        let why = match held {
            Some(h) if h.contains('.') => {
                a.facts.holders.push((h, c));
                "a connection kept on an object is not converted: nothing shows that it is closed, and an aiosqlite connection left open keeps the process alive"
            }
            Some(h) if module_level => {
                a.facts.holders.push((h, c));
                "a connection made at module level is not converted: an aiosqlite connection must be opened and closed inside the event loop"
            }
            _ if module_level => {
                "a connection made at module level is not converted: an aiosqlite connection must be opened and closed inside the event loop"
            }
            _ => {
                "the connection is not closed on every path (the pass converts `conn = sqlite3.connect(...)` followed in its block by `conn.close()` or directly by `try: ... finally: conn.close()`, `with closing(sqlite3.connect(...)) as conn` and `with sqlite3.connect(...) as conn`); an aiosqlite connection left open keeps the process alive"
            }
        };
        a.facts.refuse(c, why);
    }
    for cs in &info.calls {
        if cs.target.is_some_and(|t| factories.contains_key(&t)) && !consumed.contains(&cs.range) {
            a.facts.refuse(
                cs.range,
                "the connection this function returns is not closed on every path here (bind it, then `try: ... finally: conn.close()`)",
            );
        }
    }
    if !a.facts.refused.is_empty() {
        return a.facts;
    }

    // Parameters that receive a connection at every call, to a fixpoint.
    let flows = a.flows();
    let mut conn_params: HashSet<(FuncId, String)> = HashSet::new();
    let conns_of =
        |f: FuncId, params: &HashSet<(FuncId, String)>, bound: &HashMap<FuncId, HashMap<String, Vec<Binding>>>| {
            let mut s: HashSet<String> = bound.get(&f).map(|m| m.keys().cloned().collect()).unwrap_or_default();
            s.extend(params.iter().filter(|(g, _)| *g == f).map(|(_, p)| p.clone()));
            s
        };
    let func_of = |r: TextRange| info.call(r).and_then(|c| c.ctx.func);
    loop {
        let mut found: HashSet<(FuncId, String)> = HashSet::new();
        for f in &funcs {
            if info.value_refs.iter().any(|v| v.func == f.id) || factories.contains_key(&f.id) {
                continue;
            }
            let mine: Vec<_> = flows.iter().filter(|(g, _, _)| *g == f.id).collect();
            if mine.is_empty() {
                continue;
            }
            for p in info.funcs[f.id].params.iter().chain(&info.funcs[f.id].kwonly) {
                if store_counts[&f.id].get(p).copied().unwrap_or(0) != 0 {
                    continue;
                }
                let all = mine.iter().all(|(_, call, m)| {
                    let Some(m) = m else { return false };
                    let Some(Expr::Name(n)) = m.get(p) else { return false };
                    func_of(*call).is_some_and(|g| conns_of(g, &conn_params, &bound).contains(n.id.as_str()))
                });
                if all {
                    found.insert((f.id, p.clone()));
                }
            }
        }
        if found.is_subset(&conn_params) {
            break;
        }
        conn_params.extend(found);
    }
    // Connection names passed to parameters that are connection parameters.
    let mut flows_ok: HashSet<TextRange> = HashSet::new();
    for (f, call, m) in &flows {
        let (Some(m), Some(g)) = (m, func_of(*call)) else { continue };
        let conns = conns_of(g, &conn_params, &bound);
        for (p, arg) in m {
            if let Expr::Name(n) = arg
                && conns.contains(n.id.as_str())
                && conn_params.contains(&(*f, p.clone()))
            {
                flows_ok.insert(arg.range());
            }
        }
    }

    // Every use of every connection and cursor, per function.
    let mut seeded_funcs: HashSet<FuncId> = HashSet::new();
    let mut transaction_funcs: Vec<(FuncId, TextRange)> = vec![];
    for f in &funcs {
        let conns = conns_of(f.id, &conn_params, &bound);
        if conns.is_empty() {
            continue;
        }
        let counts = &store_counts[&f.id];
        // Cursors: names every binding of which is a call that gives a cursor.
        let mut cursors: HashSet<String> = HashSet::new();
        loop {
            let mut made: HashMap<String, usize> = HashMap::new();
            struct A<'x>(Vec<(&'x str, &'x Expr)>);
            impl<'x> Visitor<'x> for A<'x> {
                fn visit_stmt(&mut self, s: &'x Stmt) {
                    match s {
                        Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => return,
                        Stmt::Assign(x) => {
                            if let [Expr::Name(n)] = &x.targets[..] {
                                self.0.push((n.id.as_str(), &x.value));
                            }
                        }
                        _ => {}
                    }
                    walk_stmt(self, s);
                }
                fn visit_expr(&mut self, _e: &'x Expr) {}
            }
            let mut assigns = A(vec![]);
            assigns.visit_body(f.body);
            let k = Kinds { tables, conns: &conns, cursors: &cursors };
            for (n, v) in assigns.0 {
                if !conns.contains(n) && k.kind(v) == Some(SqliteObject::Cursor) {
                    *made.entry(n.to_string()).or_default() += 1;
                }
            }
            let next: HashSet<String> =
                made.into_iter().filter(|(n, c)| counts.get(n) == Some(c)).map(|(n, _)| n).collect();
            if next == cursors {
                break;
            }
            cursors = next;
        }
        let within: HashMap<String, Vec<TextRange>> = bound
            .get(&f.id)
            .map(|m| {
                m.iter()
                    .filter(|(_, bs)| bs.iter().all(|b| b.within.is_some()))
                    .map(|(n, bs)| (n.clone(), bs.iter().filter_map(|b| b.within).collect()))
                    .collect()
            })
            .unwrap_or_default();
        let factory_conn = factories.get(&f.id).map(|(_, n)| n.clone());
        let mut tracked = conns.clone();
        tracked.extend(cursors.iter().cloned());
        let mut c = Classify {
            kinds: Kinds { tables, conns: &conns, cursors: &cursors },
            tracked: &tracked,
            within: &within,
            flows_ok: &flows_ok,
            factory_conn,
            facts: &mut a.facts,
            ok: HashSet::new(),
            produced: vec![],
            positioned: HashSet::new(),
            transactions: vec![],
        };
        c.visit_body(f.body);
        for r in std::mem::take(&mut c.produced) {
            if !c.positioned.contains(&r) {
                c.facts.refuse(r, "the cursor this call returns is used where the pass cannot follow it");
            }
        }
        transaction_funcs.extend(c.transactions.iter().map(|r| (f.id, *r)));
    }
    for r in a.facts.awaits.keys().chain(a.facts.connects.keys()) {
        if let Some(g) = func_of(*r) {
            seeded_funcs.insert(g);
        }
    }
    for (f, r) in transaction_funcs {
        if !seeded_funcs.contains(&f) {
            a.facts.refuse(
                r,
                "a `with conn:` transaction in a function that makes no other database call is not converted",
            );
        }
    }
    // The statements of a factory between the connect and the return close
    // the connection if they fail.
    for (f, (i, n)) in factories {
        a.facts.factories.insert(info.funcs[f].range.start().into(), (i, n));
    }
    a.facts
}

/// What an expression holds: a connection, a cursor, or neither.
struct Kinds<'k> {
    tables: &'k Tables,
    conns: &'k HashSet<String>,
    cursors: &'k HashSet<String>,
}

impl Kinds<'_> {
    fn kind(&self, e: &Expr) -> Option<SqliteObject> {
        match e {
            Expr::Name(n) if self.conns.contains(n.id.as_str()) => Some(SqliteObject::Connection),
            Expr::Name(n) if self.cursors.contains(n.id.as_str()) => Some(SqliteObject::Cursor),
            Expr::Call(c) => self.method(c).and_then(|m| m.returns),
            _ => None,
        }
    }
    fn method(&self, c: &ast::ExprCall) -> Option<&crate::transforms::SqliteMethod> {
        let Expr::Attribute(a) = &*c.func else { return None };
        let on = self.kind(&a.value)?;
        self.tables.sqlite.method.iter().find(|m| m.on == on && m.name == a.attr.as_str())
    }
}

/// Classifies every use of the connections and cursors of one function.
struct Classify<'k, 'f> {
    kinds: Kinds<'k>,
    tracked: &'k HashSet<String>,
    /// Connection names whose loads must lie in these ranges.
    within: &'k HashMap<String, Vec<TextRange>>,
    flows_ok: &'k HashSet<TextRange>,
    factory_conn: Option<String>,
    facts: &'f mut Facts,
    /// Name loads accounted for.
    ok: HashSet<TextRange>,
    /// Calls that give a cursor, and those in a place the pass follows.
    produced: Vec<TextRange>,
    positioned: HashSet<TextRange>,
    transactions: Vec<TextRange>,
}

impl Classify<'_, '_> {
    fn accept(&mut self, e: &Expr) {
        let Expr::Name(n) = e else { return };
        if let Some(rs) = self.within.get(n.id.as_str())
            && !rs.iter().any(|r| r.contains_range(n.range))
        {
            self.facts.refuse(
                n.range,
                format!("`{}` is used outside the statements that open and close the connection", n.id),
            );
        }
        self.ok.insert(n.range);
    }
    /// A cursor-giving expression in a place the pass follows: the call is
    /// positioned, a name accepted.
    fn position(&mut self, e: &Expr) {
        match e {
            Expr::Call(c) => {
                self.positioned.insert(c.range);
            }
            Expr::Name(_) => self.accept(e),
            _ => {}
        }
    }
    fn what(&self, c: &ast::ExprCall) -> String {
        crate::syntax::dotted_name(&c.func).unwrap_or_else(|| match &*c.func {
            Expr::Attribute(a) => format!("....{}", a.attr),
            _ => "call".into(),
        })
    }
}

impl<'a> Visitor<'a> for Classify<'_, '_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {
                if crate::syntax::mentions_stmt(s, self.tracked) {
                    self.facts
                        .refuse(s.range(), "a database connection or cursor is used in a nested function or class");
                }
                return;
            }
            Stmt::With(w)
                if w.items.len() == 1
                    && w.items[0].optional_vars.is_none()
                    && self.kinds.kind(&w.items[0].context_expr) == Some(SqliteObject::Connection)
                    && matches!(w.items[0].context_expr, Expr::Name(_)) =>
            {
                let Expr::Name(n) = &w.items[0].context_expr else { return };
                if jumps_out(&w.body) {
                    self.facts.refuse(
                        w.range,
                        "this `with conn:` transaction may be left by `return`, `break` or `continue`, which the rewritten commit would miss",
                    );
                } else {
                    self.facts.transactions.insert(w.range, n.id.to_string());
                    self.transactions.push(w.range);
                }
                self.accept(&w.items[0].context_expr);
                self.visit_body(&w.body);
                return;
            }
            Stmt::With(w) if w.items.iter().any(|it| self.kinds.kind(&it.context_expr).is_some()) => {
                self.facts
                    .refuse(w.range, "a connection or cursor is used in a `with` statement the pass does not convert");
            }
            Stmt::For(f) if self.kinds.kind(&f.iter) == Some(SqliteObject::Cursor) => {
                self.facts.fors.insert(s.range());
                self.position(&f.iter);
                self.visit_expr(&f.iter);
                self.visit_expr(&f.target);
                self.visit_body(&f.body);
                self.visit_body(&f.orelse);
                return;
            }
            Stmt::Assign(x) if x.targets.len() == 1 => match &x.targets[0] {
                Expr::Name(n)
                    if self.kinds.cursors.contains(n.id.as_str())
                        && self.kinds.kind(&x.value) == Some(SqliteObject::Cursor) =>
                {
                    self.position(&x.value);
                }
                Expr::Attribute(t) if self.kinds.kind(&t.value).is_some() && matches!(&*t.value, Expr::Name(_)) => {
                    let on = self.kinds.kind(&t.value);
                    let settable = self
                        .kinds
                        .tables
                        .sqlite
                        .attribute
                        .iter()
                        .any(|r| Some(r.on) == on && r.name == t.attr.as_str() && r.set);
                    if settable {
                        self.accept(&t.value);
                    } else {
                        self.facts.refuse(
                            t.range,
                            format!("`.{}` is set on a database object, which the pass does not follow", t.attr),
                        );
                    }
                    self.visit_expr(&x.value);
                    return;
                }
                _ => {}
            },
            Stmt::Expr(x) if self.kinds.kind(&x.value).is_some() && matches!(&*x.value, Expr::Call(_)) => {
                self.position(&x.value);
            }
            Stmt::Return(r) => {
                if let (Some(Expr::Name(v)), Some(n)) = (r.value.as_deref(), &self.factory_conn)
                    && v.id.as_str() == n
                {
                    self.ok.insert(v.range);
                    return;
                }
            }
            _ => {}
        }
        walk_stmt(self, s);
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) => {
                if let Expr::Attribute(a) = &*c.func
                    && self.kinds.kind(&a.value).is_some()
                {
                    match self.kinds.method(c) {
                        Some(m) => {
                            let what = self.what(c);
                            self.facts.awaits.insert(c.range, what);
                            if m.returns.is_some() {
                                self.produced.push(c.range);
                            }
                            self.position(&a.value);
                            if matches!(&*a.value, Expr::Call(_)) {
                                self.visit_expr(&a.value);
                            }
                        }
                        None => {
                            self.facts.refuse(
                                c.range,
                                format!(
                                    "`.{}()` of a database connection or cursor has no async twin the pass knows",
                                    a.attr
                                ),
                            );
                            self.visit_expr(&a.value);
                        }
                    }
                    c.args.iter().for_each(|x| self.visit_expr(x));
                    c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
                    return;
                }
                for arg in c.args.iter().chain(c.keywords.iter().map(|k| &k.value)) {
                    if self.flows_ok.contains(&arg.range()) {
                        self.accept(arg);
                    }
                }
            }
            Expr::Attribute(a) if self.kinds.kind(&a.value).is_some() => {
                let on = self.kinds.kind(&a.value);
                let known =
                    self.kinds.tables.sqlite.attribute.iter().any(|r| Some(r.on) == on && r.name == a.attr.as_str());
                if known && matches!(a.ctx, ast::ExprContext::Load) {
                    self.position(&a.value);
                } else {
                    self.facts
                        .refuse(a.range, format!("`.{}` of a database connection or cursor is not converted", a.attr));
                }
                if matches!(&*a.value, Expr::Call(_)) {
                    self.visit_expr(&a.value);
                }
                return;
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) => {
                let gens = crate::syntax::comprehension_generators(e).unwrap_or_default();
                for g in gens {
                    if self.kinds.kind(&g.iter) == Some(SqliteObject::Cursor) {
                        self.facts.comps.insert(g.iter.range());
                        self.position(&g.iter);
                    }
                }
            }
            Expr::Lambda(_) | Expr::GeneratorExp(_) if crate::syntax::mentions(e, self.tracked) => {
                self.facts.refuse(
                    e.range(),
                    "a database connection or cursor is used in a lambda or generator expression, where `await` cannot go",
                );
                return;
            }
            Expr::Name(n)
                if self.tracked.contains(n.id.as_str())
                    && matches!(n.ctx, ast::ExprContext::Load)
                    && !self.ok.contains(&n.range) =>
            {
                self.facts.refuse(n.range, format!("`{}` is used where the pass cannot follow it", n.id));
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

fn driver(tables: &Tables) -> Option<&SqliteDriver> {
    tables.sqlite.driver.iter().find(|d| d.runtimes.contains(&tables.target))
}

impl Pass for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn interested(&self, src: &str, tables: &Tables) -> bool {
        tables.sqlite.driver.iter().any(|d| src.contains(d.sync.split('.').next().unwrap_or(&d.sync)))
    }
    fn seeds(&self, body: &[Stmt], info: &ModuleInfo, tables: &Tables, diags: &mut Vec<Diagnostic>) -> Vec<Seed> {
        if driver(tables).is_none() {
            return vec![];
        }
        let facts = collect(body, info, tables);
        if !facts.refused.is_empty() {
            // Every refusal says why, whether or not anything else of the
            // module becomes async (a refusal nobody hears of is a silent one).
            let mut refused = facts.refused.clone();
            refused.sort_by_key(|(r, w)| (r.start(), w.clone()));
            refused.dedup();
            for (r, why) in refused {
                let message = format!("the module's sqlite3 code is left blocking: {why}");
                diags.push(Diagnostic { offset: r.start().into(), pass: "sqlite", message });
            }
            return vec![];
        }
        let seed = |call: TextRange, what: String| Seed {
            call,
            pass: "sqlite",
            what,
            group: Some("sqlite".into()),
            veto: false,
        };
        let mut out: Vec<Seed> = facts.awaits.iter().map(|(r, w)| seed(*r, w.clone())).collect();
        let connect = |r: &TextRange| info.call(*r).and_then(|c| c.qualname.clone()).unwrap_or_default();
        out.extend(facts.connects.keys().map(|r| seed(*r, connect(r))));
        out.sort_by_key(|s| s.call.start());
        out
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        let facts = collect(&body, cx.info, cx.tables);
        if facts.connects.is_empty() && facts.refused.is_empty() {
            return body;
        }
        let live_sites: Vec<TextRange> = facts.awaits.keys().chain(facts.connects.keys()).copied().collect();
        let is_connect = |q: &str| cx.tables.sqlite.driver.iter().any(|d| d.sync == q);
        let connects = cx
            .info
            .calls
            .iter()
            .filter_map(|c| c.qualname.as_ref().filter(|q| is_connect(q)).map(|q| (c.range, q.clone())));
        // Calls on connections kept in a global or on an object.
        let connection_methods: HashSet<&str> = cx
            .tables
            .sqlite
            .method
            .iter()
            .filter(|m| m.on == SqliteObject::Connection)
            .map(|m| m.name.as_str())
            .collect();
        // A site of a kept connection -> the connect call that made it.
        let held = |e: &Expr| -> Option<(String, TextRange)> {
            let Expr::Call(c) = e else { return None };
            let Expr::Attribute(a) = &*c.func else { return None };
            let h = crate::syntax::dotted_name(&a.value)?;
            let same = |k: &String| {
                *k == h || (k.contains('.') && h.contains('.') && k.rsplit('.').next() == h.rsplit('.').next())
            };
            let (_, made) = facts.holders.iter().find(|(k, _)| same(k))?;
            connection_methods.contains(a.attr.as_str()).then(|| (format!("{h}.{}", a.attr), *made))
        };
        struct Held<'h>(
            &'h dyn Fn(&Expr) -> Option<(String, TextRange)>,
            Vec<(TextRange, String)>,
            HashMap<TextRange, TextRange>,
        );
        impl<'a> Visitor<'a> for Held<'_> {
            fn visit_expr(&mut self, e: &'a Expr) {
                if let Some((w, made)) = (self.0)(e) {
                    self.1.push((e.range(), w));
                    self.2.insert(e.range(), made);
                }
                walk_expr(self, e);
            }
        }
        let mut h = Held(&held, vec![], HashMap::new());
        if !facts.holders.is_empty() {
            h.visit_body(&body);
        }
        let mut sites: Vec<(TextRange, String)> =
            facts.awaits.iter().map(|(r, w)| (*r, w.clone())).chain(connects).chain(h.1).collect();
        let made_at = h.2;
        sites.sort_by_key(|(r, _)| (r.start(), r.end()));
        sites.dedup();
        let live = driver(cx.tables).is_some()
            && facts.refused.is_empty()
            && live_sites.iter().all(|r| cx.colour.seeds_ok.contains(r));
        if !live {
            let first = facts.refused.iter().min_by_key(|(r, _)| r.start());
            if driver(cx.tables).is_some() && first.is_none() {
                // Blocked by the colouring: the engine says why.
                return body;
            }
            // Why a site stays: the runtime, the reason about the connection
            // it uses, its own, or the first one of the module.
            let why = |site: TextRange| -> String {
                if driver(cx.tables).is_none() {
                    return format!(
                        "the async sqlite driver needs an asyncio event loop, and the runtime is {}",
                        cx.tables.target.name()
                    );
                }
                let at = made_at.get(&site).copied().unwrap_or(site);
                let (r, why) = facts.refused.iter().find(|(r, _)| *r == at).or(first).expect("refused");
                let (l, c) = crate::source::line_col(cx.source, r.start());
                format!("{why} ({l}:{c})")
            };
            for (r, what) in &sites {
                // A refusal's own place was reported with it (`seeds`).
                if facts.refused.iter().any(|(at, _)| at.start() == r.start()) {
                    continue;
                }
                if let Some(f) = cx.info.call(*r).and_then(|s| s.ctx.func)
                    && cx.colour.is_async(cx.info, f)
                {
                    let message = format!("`{what}` left blocking in an async function: {}", why(*r));
                    cx.diagnostics.push(Diagnostic { offset: r.start().into(), pass: "sqlite", message });
                }
            }
            return body;
        }
        let Some(driver) = driver(cx.tables) else { return body };
        let mut f = Folder { cx, facts: &facts, driver };
        body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect()
    }
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
    facts: &'a Facts,
    driver: &'a SqliteDriver,
}

fn method_stmt(recv: &str, m: &str) -> Stmt {
    let func = Expr::Attribute(ast::ExprAttribute {
        range: synth(),
        value: Box::new(name(recv)),
        attr: ast::Identifier::new(m),
        ctx: ast::ExprContext::Load,
    });
    let call = crate::syntax::call(func, vec![], vec![], synth());
    Stmt::Expr(ast::StmtExpr { range: synth(), value: Box::new(await_(call)) })
}

fn raise() -> Stmt {
    Stmt::Raise(ast::StmtRaise { range: synth(), exc: None, cause: None })
}

/// `try: <body> except BaseException: <handler>; raise`.
fn try_except(body: Vec<Stmt>, mut handler: Vec<Stmt>) -> Stmt {
    handler.push(raise());
    Stmt::Try(ast::StmtTry {
        range: synth(),
        body,
        handlers: vec![ast::ExceptHandler::ExceptHandler(ast::ExceptHandlerExceptHandler {
            range: synth(),
            type_: Some(Box::new(name("BaseException"))),
            name: None,
            body: handler,
        })],
        orelse: vec![],
        finalbody: vec![],
    })
}

/// sqlite3's `with conn:`: commit when the block succeeds; roll back when
/// it raises, or when the commit does (as `Connection.__exit__` does).
fn transaction(mut body: Vec<Stmt>, conn: &str) -> Stmt {
    body.push(method_stmt(conn, "commit"));
    try_except(body, vec![method_stmt(conn, "rollback")])
}

impl Folder<'_, '_> {
    /// `conn = ...connect(...); <middle>; conn.close(); <rest>` ->
    /// `conn = ...; try: <middle> finally: conn.close(); <rest>`
    /// (`Facts::close_later`; the statements are folded already).
    fn close_in_finally(&mut self, block: &mut Vec<Stmt>) {
        let mut j = 0;
        while j < block.len() {
            let Some(&close) = self.facts.close_later.get(&block[j].range()) else {
                j += 1;
                continue;
            };
            let Some(k) = block[j + 1..].iter().position(|s| s.range() == close).map(|k| k + j + 1) else {
                j += 1;
                continue;
            };
            let close_stmt = block.remove(k);
            let middle: Vec<Stmt> = block.drain(j + 1..k).collect();
            let body = if middle.is_empty() { vec![Stmt::Pass(ast::StmtPass { range: synth() })] } else { middle };
            let t = Stmt::Try(ast::StmtTry {
                range: synth(),
                body,
                handlers: vec![],
                orelse: vec![],
                finalbody: vec![close_stmt],
            });
            block.insert(j + 1, t);
            self.cx.sites.push(close);
            j += 2;
        }
    }
}

impl Fold<TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let range = s.range();
        let mut s = ast::fold::fold_stmt(self, s)?;
        let facts = self.facts;
        if !facts.close_later.is_empty()
            && !matches!(s, Stmt::FunctionDef(_) if facts.factories.contains_key(&u32::from(range.start())))
        {
            for block in crate::syntax::blocks_mut(&mut s) {
                self.close_in_finally(block);
            }
        }
        let s = match s {
            Stmt::With(w) if facts.transactions.contains_key(&range) => {
                self.cx.sites.push(range);
                transaction(w.body, &facts.transactions[&range])
            }
            Stmt::With(mut w) if facts.closings.contains(&range) => {
                self.cx.sites.push(TextRange::empty(range.start()));
                let it = &mut w.items[0];
                if let Expr::Call(c) = std::mem::replace(&mut it.context_expr, name("_")) {
                    it.context_expr = c.args.into_iter().next().unwrap_or_else(|| name("_"));
                }
                to_async_kind(Stmt::With(w))
            }
            Stmt::With(mut w) if facts.connect_withs.contains_key(&range) => {
                self.cx.sites.push(TextRange::empty(range.start()));
                let body = std::mem::take(&mut w.body);
                w.body = vec![transaction(body, &facts.connect_withs[&range])];
                to_async_kind(Stmt::With(w))
            }
            Stmt::For(_) if facts.fors.contains(&range) => {
                self.cx.sites.push(TextRange::empty(range.start()));
                to_async_kind(s)
            }
            Stmt::FunctionDef(mut f) if facts.factories.contains_key(&u32::from(range.start())) => {
                let (i, n) = &facts.factories[&u32::from(range.start())];
                // conn = connect(...); <middle>; return conn
                if f.body.len() > i + 2 {
                    let last = f.body.pop().expect("a factory ends with its return");
                    let middle: Vec<Stmt> = f.body.drain(i + 1..).collect();
                    f.body.push(try_except(middle, vec![method_stmt(n, "close")]));
                    f.body.push(last);
                    self.cx.sites.push(range);
                }
                Stmt::FunctionDef(f)
            }
            s => s,
        };
        Ok(s)
    }

    fn fold_comprehension(&mut self, c: ast::Comprehension) -> Result<ast::Comprehension, std::convert::Infallible> {
        let comp = self.facts.comps.contains(&c.iter.range());
        let mut c = ast::fold::fold_comprehension(self, c)?;
        if comp {
            c.is_async = true;
            self.cx.sites.push(c.iter.range());
        }
        Ok(c)
    }

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        let e = ast::fold::fold_expr(self, e)?;
        let Expr::Call(c) = e else { return Ok(e) };
        if let Some(&awaited) = self.facts.connects.get(&range) {
            self.cx.imports.insert(self.driver.import.clone());
            let call = Expr::Call(ast::ExprCall { func: Box::new(dotted(&self.driver.async_)), ..c });
            return Ok(if awaited { await_(call) } else { call });
        }
        if self.facts.awaits.contains_key(&range) {
            return Ok(await_(Expr::Call(c)));
        }
        Ok(Expr::Call(c))
    }
}
