//! AWT102: `asyncio.run()` or `loop.run_until_complete()` inside an `async def`.

use crate::check::{Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use rustpython_ast::{Expr, Ranged};

crate::rule_doc!(
    "`asyncio.run()` or `loop.run_until_complete()` inside an `async def`.

## What it does
Reports calls of `asyncio.run` (any import spelling) and of a
`run_until_complete` method made in the body of a coroutine function.

## Why is this bad
A coroutine already runs in an event loop. `asyncio.run` refuses to start
a second one (`RuntimeError: asyncio.run() cannot be called from a running
event loop`), and `run_until_complete` on the running loop raises too; on
another loop it blocks this one until the other finishes.

## Example
```python
import asyncio


async def fetch():
    return 1


async def main():
    return asyncio.run(fetch())
```

## Use instead
```python
import asyncio


async def fetch():
    return 1


async def main():
    return await fetch()
```

## Fix
By hand: `await` the coroutine (or schedule it with `asyncio.create_task`).
No `convert` pass rewrites this.
"
);

pub struct RunInAsync;

impl Rule for RunInAsync {
    fn code(&self) -> &'static str {
        "AWT102"
    }
    fn name(&self) -> &'static str {
        "event-loop-run-in-async-function"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        struct V<'m, 'a, 'o>(&'m Module<'a>, &'o mut Vec<Hit>);
        impl<'a> ScopedVisitor<'a> for V<'_, '_, '_> {
            fn expr(&mut self, e: &'a Expr, scope: &Scope<'a>) {
                let Expr::Call(c) = e else { return };
                let Some(def) = scope.async_def() else { return };
                let what = if self.0.call_qualname(c).as_deref() == Some("asyncio.run") {
                    "asyncio.run()"
                } else if matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "run_until_complete") {
                    "run_until_complete()"
                } else {
                    return;
                };
                self.1.push(Hit {
                    offset: e.range().start(),
                    message: format!(
                        "`{what}` inside async function `{}`: an event loop is already running; await the coroutine instead",
                        def.name
                    ),
                    fix: None,
                });
            }
        }
        walk_scoped(m.body, &mut V(m, out));
    }
}
