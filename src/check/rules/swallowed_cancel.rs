//! AWT301: a swallowed cancellation.

use crate::check::{Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use crate::syntax::dotted_name;
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use rustpython_ast::{self as ast, Expr, Stmt};

crate::rule_doc!(
    "A swallowed cancellation: `except:` / `except BaseException:` / `except CancelledError:` that does not re-raise.

## What it does
Inside an `async def`, reports an `except` clause that catches
`asyncio.CancelledError`: a bare `except:` or `except BaseException:` (also
in a tuple) whose body neither raises nor returns, and an `except
asyncio.CancelledError:` (any spelling) whose body does not raise. A
handler that uses the exception it names (`except BaseException as e:
future.set_exception(e)`) hands it on and is not reported. A cancellation
re-raised later, after the handler (a flag set, then `raise` after a
loop), is not seen: suppress that line with `# awaitify: ignore[AWT301]`.
A `try` whose body awaits nothing (no `await`, `async for`, `async with`)
cannot be cancelled and is not reported.

## Why is this bad
`asyncio` cancels a task by raising `CancelledError` at its current
`await`. A handler that swallows it makes the task carry on as if nothing
happened: `task.cancel()`, `asyncio.timeout()`, `TaskGroup` and shutdown
stop working, and the program hangs or leaks work.

## Example
```python
import asyncio


async def worker(queue):
    while True:
        try:
            item = await queue.get()
        except BaseException:
            continue
```

## Use instead
```python
import asyncio


async def worker(queue):
    while True:
        try:
            item = await queue.get()
        except Exception:
            continue
```

## Fix
By hand: catch `Exception` (which `CancelledError` is not), or re-raise
(`raise`) after cleaning up. No `convert` pass rewrites this.
"
);

pub struct SwallowedCancel;

/// What a handler's type catches, as far as cancellation goes.
#[derive(PartialEq)]
enum Catches {
    Everything,
    Cancelled,
    Other,
}

fn catches(m: &Module, t: Option<&Expr>) -> Catches {
    let Some(t) = t else { return Catches::Everything };
    if let Expr::Tuple(tt) = t {
        let all: Vec<Catches> = tt.elts.iter().map(|e| catches(m, Some(e))).collect();
        if all.contains(&Catches::Everything) {
            return Catches::Everything;
        }
        return if all.contains(&Catches::Cancelled) { Catches::Cancelled } else { Catches::Other };
    }
    let q = m.qualname(t).or_else(|| dotted_name(t)).unwrap_or_default();
    match q.as_str() {
        "BaseException" | "builtins.BaseException" => Catches::Everything,
        "asyncio.CancelledError" | "asyncio.exceptions.CancelledError" | "concurrent.futures.CancelledError" => {
            Catches::Cancelled
        }
        _ => Catches::Other,
    }
}

/// (raises, returns) anywhere in a handler body, outside nested scopes.
fn exits(body: &[Stmt]) -> (bool, bool) {
    struct E(bool, bool);
    impl<'a> Visitor<'a> for E {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Raise(_) => self.0 = true,
                Stmt::Return(_) => self.1 = true,
                _ => walk_stmt(self, s),
            }
        }
    }
    let mut e = E(false, false);
    e.visit_body(body);
    (e.0, e.1)
}

/// The body reads `name` (outside nested scopes).
fn uses_name(body: &[Stmt], name: &str) -> bool {
    struct U<'n>(&'n str, bool);
    impl<'a> Visitor<'a> for U<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e
                && n.id.as_str() == self.0
                && matches!(n.ctx, ast::ExprContext::Load)
            {
                self.1 = true;
            }
            walk_expr(self, e);
        }
    }
    let mut u = U(name, false);
    u.visit_body(body);
    u.1
}

impl Rule for SwallowedCancel {
    fn code(&self) -> &'static str {
        "AWT301"
    }
    fn name(&self) -> &'static str {
        "swallowed-cancellation"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        struct V<'m, 'a, 'o>(&'m Module<'a>, &'o mut Vec<Hit>);
        impl<'a> ScopedVisitor<'a> for V<'_, '_, '_> {
            fn stmt(&mut self, s: &'a Stmt, scope: &Scope<'a>) {
                let (body, handlers) = match s {
                    Stmt::Try(t) => (&t.body, &t.handlers),
                    Stmt::TryStar(t) => (&t.body, &t.handlers),
                    _ => return,
                };
                // Cancellation arrives at an `await`: a body with none
                // cannot be cancelled, whatever its handlers catch.
                if !super::suspends(body, false) {
                    return;
                }
                let Some(def) = scope.async_def() else { return };
                for h in handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    let (raises, returns) = exits(&h.body);
                    if let Some(n) = &h.name
                        && uses_name(&h.body, n.as_str())
                    {
                        continue;
                    }
                    let what = match catches(self.0, h.type_.as_deref()) {
                        Catches::Everything if !raises && !returns => match &h.type_ {
                            None => "bare `except:`",
                            Some(_) => "`except BaseException`",
                        },
                        Catches::Cancelled if !raises => "`except CancelledError`",
                        _ => continue,
                    };
                    self.1.push(Hit {
                        offset: h.range.start(),
                        message: format!(
                            "{what} in async function `{}` swallows the task's cancellation: re-raise it, or catch `Exception`",
                            def.name
                        ),
                        fix: None,
                    });
                }
            }
        }
        walk_scoped(m.body, &mut V(m, out));
    }
}
