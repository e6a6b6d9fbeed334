//! The `colour` pass.

use super::{Pass, PassCx};
use crate::syntax::{await_, call, dotted, fold_ok, synth, to_async_kind};
use rustpython_parser::ast::{self, Expr, Fold, Ranged, Stmt};

crate::pass_doc!(
    "Makes functions that now await `async def`, awaits their calls, and runs the entry point with `asyncio.run`.

## What it does
After the other passes turned blocking calls into awaitables, every function
that contains one becomes `async def`. Every call of such a function in the
module gets `await` (plain calls, `self.m()` / `cls.m()` in its class and
subclasses, `Class.m()`), and the callers become async in turn, to a
fixpoint. In the `if __name__ == \"__main__\":` block, calls of functions that
became async are wrapped in `asyncio.run(...)`.

## Why is this bad
A coroutine that is not awaited never runs; an `await` outside `async def`
is a syntax error. Conversion must be all or nothing along a call chain.

## Example
```python
import time


def wait():
    time.sleep(1)


def main():
    wait()


if __name__ == \"__main__\":
    main()
```

## Use instead
```python
import asyncio
import time


async def wait():
    await asyncio.sleep(1)


async def main():
    await wait()


if __name__ == \"__main__\":
    asyncio.run(main())
```

## Not converted
A chain stays sync, untouched, when it reaches a boundary: special methods
(`__init__`, `__repr__`, ...), `@property` and other unknown decorators,
generators, methods that may override an outside base class, functions used
as values (callbacks, `map(f, ...)`, `key=f`), calls in lambdas, generator
expressions, class bodies, or at module level outside the `__main__` guard.
Each left-over blocking call gets a diagnostic with the chain. Only calls in
the same module are followed for now.

## Fix safety
Safe within the module. Callers in other modules that are not converted in
the same run are not updated.
"
);

pub struct Colour;

impl Pass for Colour {
    fn name(&self) -> &'static str {
        "colour"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        if cx.colour.async_defs.is_empty() {
            return body;
        }
        let mut f = Folder { cx };
        body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect()
    }
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
}

impl Fold<rustpython_parser::text_size::TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let start: u32 = s.range().start().into();
        let s = ast::fold::fold_stmt(self, s)?;
        if matches!(s, Stmt::FunctionDef(_)) && self.cx.colour.async_defs.contains(&start) {
            return Ok(to_async_kind(s));
        }
        Ok(s)
    }

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        let e = ast::fold::fold_expr(self, e)?;
        if !matches!(e, Expr::Call(_)) {
            return Ok(e);
        }
        if self.cx.colour.await_calls.contains(&range) {
            return Ok(await_(e));
        }
        if self.cx.colour.run_calls.contains(&range) {
            self.cx.imports.insert("asyncio".into());
            return Ok(call(dotted("asyncio.run"), vec![e], vec![], synth()));
        }
        Ok(e)
    }
}
