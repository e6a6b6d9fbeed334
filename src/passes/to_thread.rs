//! The `to_thread` pass.

use super::{Pass, PassCx, Seed};
use crate::analysis::ModuleInfo;
use crate::syntax::fold_ok;
use crate::transforms::Tables;
use rustpython_parser::ast::{self, Expr, Fold, Ranged, Stmt};

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
thread would not help. Methods of `pathlib.Path` objects are not recognised
yet. Calls inside lambdas stay as they are. `aiofiles.os` is not used: it
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
        let mut f = Folder { cx };
        body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect()
    }
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
}

impl Folder<'_, '_> {
    /// The function holding the call, if it is (or becomes) async.
    fn async_function(&self, call: &ast::ExprCall) -> Option<&crate::analysis::CallSite> {
        let site = self.cx.info.call(call.range)?;
        site.ctx.func.filter(|&f| self.cx.colour.is_async(self.cx.info, f)).map(|_| site)
    }
}

fn is_blocking(tables: &Tables, q: &str) -> bool {
    tables.to_thread.iter().any(|r| r.sync == q)
}

impl Fold<rustpython_parser::text_size::TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        let e = ast::fold::fold_expr(self, e)?;
        let Expr::Call(call) = e else { return Ok(e) };
        let blocking = self
            .cx
            .info
            .call(range)
            .and_then(|c| c.qualname.as_deref())
            .is_some_and(|q| is_blocking(self.cx.tables, q));
        if !blocking || self.cx.allowed.is_some_and(|a| !a.contains(&range.start().into())) {
            return Ok(Expr::Call(call));
        }
        let site = self.async_function(&call).map(|s| s.ctx.awaitable());
        if site != Some(true) {
            if site == Some(false) {
                let what = self.cx.info.call(range).and_then(|c| c.qualname.clone()).unwrap_or_default();
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
