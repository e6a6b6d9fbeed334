//! The `to_thread` pass.

use super::{Pass, PassCx, Seed};
use crate::analysis::ModuleInfo;
use crate::syntax::fold_ok;
use crate::transforms::Tables;
use rustpython_ast::text_size::TextSize;
use rustpython_ast::{self as ast, Expr, Fold, Ranged, Stmt};
use std::collections::HashMap;

crate::pass_doc!(
    "Runs blocking calls with no async twin in a thread: `await asyncio.to_thread(f, ...)`.

## What it does
Inside functions that are async, or become async in this run because of
another pass, rewrites calls of known blocking functions (`subprocess.run`,
`shutil.copytree`, `os.listdir`, `os.remove`, `os.makedirs`,
`os.path.exists`, `input`, `socket.create_connection`, ...) into
`await asyncio.to_thread(func, *args, **kwargs)`, with the arguments as they
were. Every import spelling is recognised (`from os.path import exists`).
This pass never makes a function async by itself: a sync function with only
such calls stays as it is (in an `async def` they are converted even when
nothing else in the module is). The table is `transforms/blocking.toml`.

With `--runtime trio` or `anyio` the call is
`await trio.to_thread.run_sync(func, *args)` (`anyio.` likewise); keyword
arguments go through `functools.partial(func, **kwargs)`.

## Why is this bad
These calls block the event loop until the disk, the child process or the
user answers.

## Example
```python
import os
import time


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.1)
```

## Use instead
```python
import asyncio
import os
import time


async def wait_for(path):
    while not await asyncio.to_thread(os.path.exists, path):
        await asyncio.sleep(0.1)
```

## Not converted
Calls that return an object that blocks later (`os.walk`, `os.scandir`,
`urllib.request.urlopen`) are not in the table: running only the call in a
thread would not help, and `os.walk` is lazy (a loop that prunes `dirs`
while it walks would see other directories if the walk ran first, in a
thread, into a list).

Every blocking call that no pass converts and that is in a function which
is (or becomes) async gets a diagnostic, `` `os.walk` left blocking in an
async function: ... ``: the calls of the check-only `[[blocking]]` rows,
and the methods of an object another pass left sync (`f.read()` on an
`open()` the `files` pass refused, `conn.execute(...)` on a `sqlite3`
connection the `sqlite` pass did not follow). They are found by the same
code as `awaitify check`'s AWT101, run on the tree the passes made, so
`check` on the output reports no blocking call `convert` did not report
(where another pass already says why a call is left, that diagnostic
stands alone). Methods of `pathlib.Path` objects (`read_text`,
`write_text`, `mkdir`, `exists`, ...) are converted when the receiver is
surely a path: `Path(...)`, a name bound once to one in its function or at
module level, or one built from those with `/`, `.parent` or
`.with_suffix(...)`; a parameter is never assumed to be a path. Calls inside lambdas stay as they are. `aiofiles.os` is not used: it
runs the same functions in the default executor, and `asyncio.to_thread`
needs no extra dependency.

## Fix safety
Safe: the function runs with the same arguments and its result or exception
comes back unchanged; it runs in a worker thread, so it must not rely on
thread-local state of the caller (none of the listed functions do).
"
);

pub struct ToThread;

impl Pass for ToThread {
    fn name(&self) -> &'static str {
        "to_thread"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn interested(&self, src: &str, tables: &Tables) -> bool {
        // Seeds only in functions already async (below); every import
        // spelling names the function's last segment somewhere.
        src.contains("async def")
            && tables.to_thread.iter().any(|r| src.contains(r.sync.rsplit('.').next().unwrap_or(&r.sync)))
    }
    /// Blocking calls in functions that are already async: their module
    /// converts even when no other pass has work in it. (Calls in sync
    /// functions are no seeds: this pass never makes a function async.)
    fn seeds(&self, _body: &[Stmt], info: &ModuleInfo, tables: &Tables, _d: &mut Vec<super::Diagnostic>) -> Vec<Seed> {
        info.calls
            .iter()
            .filter(|c| c.ctx.awaitable() && c.ctx.func.is_some_and(|f| info.funcs[f].is_async))
            .filter_map(|c| {
                let q = c.qualname.as_ref().filter(|q| is_blocking(tables, q))?;
                Some(Seed { call: c.range, pass: "to_thread", what: q.clone(), group: None, veto: false })
            })
            .collect()
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        if cx.tables.to_thread.is_empty() {
            return body;
        }
        let module_paths = path_names(&body, true);
        let mut f = Folder { cx, paths: vec![module_paths] };
        let body: Vec<Stmt> = body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect();
        // The blocking calls no pass converted, in functions that are (or
        // become) async: say so (`check` reports them on the output). Not
        // under `check --fix`, which checks again and reports them itself.
        if cx.allowed.is_none() {
            let (info, colour) = (cx.info, cx.colour);
            let is_async = |start: TextSize| info.func_at(start.into()).is_some_and(|f| colour.is_async(info, f));
            let entry = info.main_guard.filter(|_| colour.entry);
            for l in
                crate::check::rules::blocking_call::left_in_async(&body, info, cx.tables, cx.source, &is_async, entry)
            {
                cx.diagnostics.push(super::Diagnostic {
                    offset: l.offset.into(),
                    pass: "to_thread",
                    message: format!("`{}` left blocking in an async function: {}{SCANNED}", l.what, l.why),
                });
            }
        }
        body
    }
}

/// Ends the message of a blocking call found by the scan of [`ToThread`]'s
/// `run`: one another pass reported at the same place says more, and
/// replaces it (`engine::locate`).
pub const SCANNED: &str = " (`awaitify check` reports it as AWT101)";

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
    /// Per scope (module first, then each enclosing function): the names
    /// bound there, with the value when bound exactly once by `name = value`.
    paths: Vec<HashMap<String, Option<Expr>>>,
}

const PATH_TYPES: &[&str] = &["pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"];
const PATH_BUILDERS: &[&str] = &["with_suffix", "with_name", "with_stem", "joinpath", "absolute", "expanduser"];

/// The names a scope binds (nested scopes excluded; at module level, a name
/// some function declares `global` counts as bound twice), each with its
/// value when bound exactly once by a plain `name = value`.
fn path_names(body: &[Stmt], module: bool) -> HashMap<String, Option<Expr>> {
    use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
    #[derive(Default)]
    struct V {
        stores: HashMap<String, usize>,
        assigns: HashMap<String, Expr>,
        globals: Vec<String>,
        nested: usize,
    }
    impl<'a> Visitor<'a> for V {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            let def = match s {
                Stmt::FunctionDef(f) => Some(f.name.to_string()),
                Stmt::AsyncFunctionDef(f) => Some(f.name.to_string()),
                Stmt::ClassDef(c) => Some(c.name.to_string()),
                _ => None,
            };
            if let Some(name) = def {
                if self.nested == 0 {
                    *self.stores.entry(name).or_default() += 1;
                }
                self.nested += 1;
                walk_stmt(self, s);
                self.nested -= 1;
                return;
            }
            match s {
                Stmt::Global(g) => self.globals.extend(g.names.iter().map(|n| n.to_string())),
                Stmt::Import(ast::StmtImport { names, .. }) | Stmt::ImportFrom(ast::StmtImportFrom { names, .. })
                    if self.nested == 0 =>
                {
                    for a in names {
                        let local = a.asname.as_ref().unwrap_or(&a.name);
                        *self.stores.entry(local.split('.').next().unwrap_or("").to_string()).or_default() += 1;
                    }
                }
                Stmt::Assign(a) if self.nested == 0 => {
                    if let [Expr::Name(n)] = a.targets.as_slice() {
                        self.assigns.insert(n.id.to_string(), (*a.value).clone());
                    }
                }
                _ => {}
            }
            walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if self.nested == 0
                && let Expr::Name(n) = e
                && !matches!(n.ctx, ast::ExprContext::Load)
            {
                *self.stores.entry(n.id.to_string()).or_default() += 1;
            }
            walk_expr(self, e);
        }
    }
    let mut v = V::default();
    v.visit_body(body);
    let mut out: HashMap<String, Option<Expr>> = v.stores.keys().map(|k| (k.clone(), None)).collect();
    for (n, value) in v.assigns {
        if v.stores.get(&n) == Some(&1) && !(module && v.globals.contains(&n)) {
            out.insert(n, Some(value));
        }
    }
    out
}

impl Folder<'_, '_> {
    /// Whether `e` surely evaluates to a `pathlib.Path`.
    fn is_path(&self, e: &Expr, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        match e {
            Expr::Call(c) => {
                if self
                    .cx
                    .info
                    .call(c.range)
                    .and_then(|s| s.qualname.as_deref())
                    .is_some_and(|q| PATH_TYPES.contains(&q))
                {
                    return true;
                }
                matches!(&*c.func, Expr::Attribute(a) if PATH_BUILDERS.contains(&a.attr.as_str()) && self.is_path(&a.value, depth + 1))
            }
            Expr::BinOp(b) => b.op == ast::Operator::Div && self.is_path(&b.left, depth + 1),
            Expr::Attribute(a) => a.attr.as_str() == "parent" && self.is_path(&a.value, depth + 1),
            Expr::Name(n) => {
                for scope in self.paths.iter().rev() {
                    if let Some(v) = scope.get(n.id.as_str()) {
                        return v.as_ref().is_some_and(|v| self.is_path(v, depth + 1));
                    }
                }
                false
            }
            _ => false,
        }
    }

    /// `pathlib.Path.<m>` for a method call on a path.
    fn path_method(&self, call: &ast::ExprCall) -> Option<String> {
        let Expr::Attribute(a) = &*call.func else { return None };
        self.is_path(&a.value, 0).then(|| format!("pathlib.Path.{}", a.attr))
    }
}

impl Folder<'_, '_> {
    /// The function holding the call, if it is (or becomes) async.
    fn async_function(&self, call: &ast::ExprCall) -> Option<&crate::analysis::CallSite> {
        let site = self.cx.info.call(call.range)?;
        let entry = site.ctx.func.is_none() && self.cx.colour.async_at(self.cx.info, &site.ctx);
        (entry || site.ctx.func.is_some_and(|f| self.cx.colour.is_async(self.cx.info, f))).then_some(site)
    }
}

fn is_blocking(tables: &Tables, q: &str) -> bool {
    tables.to_thread.iter().any(|r| r.sync == q)
}

impl Fold<rustpython_ast::text_size::TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let scope = match &s {
            Stmt::FunctionDef(f) => Some(path_names(&f.body, false)),
            Stmt::AsyncFunctionDef(f) => Some(path_names(&f.body, false)),
            _ => None,
        };
        let Some(mut scope) = scope else { return ast::fold::fold_stmt(self, s) };
        // Parameters are bound by the call: not known to be paths.
        if let Stmt::FunctionDef(ast::StmtFunctionDef { args, .. })
        | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { args, .. }) = &s
        {
            for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                scope.insert(a.def.arg.to_string(), None);
            }
            for a in args.vararg.iter().chain(&args.kwarg) {
                scope.insert(a.arg.to_string(), None);
            }
        }
        self.paths.push(scope);
        let s = ast::fold::fold_stmt(self, s);
        self.paths.pop();
        s
    }

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        let e = ast::fold::fold_expr(self, e)?;
        let Expr::Call(call) = e else { return Ok(e) };
        let what = self.cx.info.call(range).and_then(|c| c.qualname.clone()).or_else(|| self.path_method(&call));
        let blocking = what.as_deref().is_some_and(|q| is_blocking(self.cx.tables, q));
        if !blocking || self.cx.allowed.is_some_and(|a| !a.contains(&range.start().into())) {
            return Ok(Expr::Call(call));
        }
        let site = self.async_function(&call).map(|s| s.ctx.awaitable());
        if site != Some(true) {
            if site == Some(false) {
                let what = what.unwrap_or_default();
                self.cx.diagnostics.push(super::Diagnostic {
                    offset: range.start().into(),
                    pass: "to_thread",
                    message: format!(
                        "`{what}` left blocking in an async function: it is inside a lambda or generator expression, where `await` cannot go"
                    ),
                });
            }
            return Ok(Expr::Call(call));
        }
        self.cx.sites.push(range);
        let cx = &mut *self.cx;
        Ok(crate::runtime::to_thread(cx.tables, *call.func, call.args, call.keywords, range, &mut cx.imports))
    }
}
