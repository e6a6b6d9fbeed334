//! AWT201: a coroutine of the project called and dropped.

use crate::check::{Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use rustpython_ast::{Expr, Ranged, Stmt};

crate::rule_doc!(
    "A call of an async function of the project whose coroutine is never awaited.

## What it does
Reports a call, as a statement of its own, of a coroutine function defined
in any module of the run: in the same module (by name, `self.m()` /
`cls.m()`, `Class.m()`, an instance `x = Class(); x.m()`), or imported from
another one (`from .client import fetch`, `from pkg.client import fetch`,
`import pkg.client as c; c.fetch()`, `pkg.client.Client.m`). The modules'
names come from the package layout (directories with `__init__.py`), so
all the files of a project should be checked in one run. A result that is
awaited, stored, returned or passed on (to `asyncio.gather`,
`create_task`...) is not reported. Async generators are not coroutines and
are left alone.

## Why is this bad
Calling a coroutine function only makes a coroutine object: the body never
runs. Python warns `coroutine '...' was never awaited`, at run time, and
only if the object is collected. Linters that see one file at a time
cannot tell that a function imported from another module is async.

## Example
```python
async def save(record):
    ...


async def main():
    save({\"id\": 1})
```

## Use instead
```python
async def save(record):
    ...


async def main():
    await save({\"id\": 1})
```

## Fix
By hand: add `await` (in an `async def`), or schedule it and keep the task.
`convert` awaits the calls of the functions it makes async itself, not of
functions that were async already.

## Ruff
Ruff's ASYNC105 (an async trio function called without `await`) reports
this hazard: `# noqa: ASYNC105` on a line also suppresses AWT201 there.
See `awaitify explain AWT101` for the other ASYNC codes.
"
);

pub struct UnawaitedCoroutine;

impl Rule for UnawaitedCoroutine {
    fn code(&self) -> &'static str {
        "AWT201"
    }
    fn name(&self) -> &'static str {
        "unawaited-coroutine"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        struct V<'m, 'a, 'o>(&'m Module<'a>, &'o mut Vec<Hit>);
        impl<'a> ScopedVisitor<'a> for V<'_, '_, '_> {
            fn stmt(&mut self, s: &'a Stmt, _scope: &Scope<'a>) {
                let Stmt::Expr(x) = s else { return };
                let Expr::Call(c) = &*x.value else { return };
                let Some((name, at)) = self.0.coroutine_callee(c) else { return };
                self.1.push(Hit {
                    offset: x.value.range().start(),
                    message: format!(
                        "coroutine `{name}` (defined at {at}) is called but never awaited: its body never runs"
                    ),
                    fix: None,
                });
            }
        }
        walk_scoped(m.body, &mut V(m, out));
    }
}
