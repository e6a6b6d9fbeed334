//! AWT401: an `async def` that never awaits.

use crate::check::{Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use crate::syntax::dotted_name;
use crate::syntax::visit::{Visitor, walk_expr};
use rustpython_ast::{self as ast, Constant, Expr, Ranged, Stmt};

crate::rule_doc!(
    "An `async def` that never awaits, iterates or enters anything async.

## What it does
Reports a coroutine function whose own body (not counting nested functions)
has no `await`, `async for`, `async with` or async comprehension. Left
alone: async generators, special methods (`__aenter__`...), decorated
functions (frameworks register them and may require a coroutine), methods
of classes with a base class (they may override or implement a protocol),
functions used as values (an API may require a coroutine function: any
name or attribute of that name not called at once, `app.add_handler(self.cb)`,
`monkeypatch.setattr(obj, \"m\", fake)`), stubs
(a body of `pass`, `...`, a docstring or `raise`), and functions with a
blocking call that `convert` turns into an `await` (AWT101 reports it, and
the fix is to await it, not to drop the `async`).

## Why is this bad
Every caller must `await` it, and every call pays for a coroutine object,
for nothing; it often means a forgotten `await` inside (a call of another
coroutine whose result is dropped) or a blocking call that should have been
awaited.

## Example
```python
async def total(prices):
    return sum(prices)
```

## Use instead
```python
def total(prices):
    return sum(prices)
```

## Fix
By hand: make it a plain `def` and drop the `await` at its calls, or await
what it should have awaited. No `convert` pass rewrites this.
"
);

pub struct NeedlessAsync;

/// Names and attribute names the module uses as values, not called at once
/// (`app.add_handler(self.cb)`, `monkeypatch.setattr(obj, "m", fake)`,
/// `router.add_route("/", handler)`): a function of that name may be handed
/// to code that requires a coroutine function.
fn used_as_values(body: &[Stmt]) -> std::collections::HashSet<String> {
    #[derive(Default)]
    struct U {
        loads: std::collections::HashMap<String, usize>,
        called: std::collections::HashMap<String, usize>,
    }
    impl<'a> Visitor<'a> for U {
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Name(n) if matches!(n.ctx, ast::ExprContext::Load) => {
                    *self.loads.entry(n.id.to_string()).or_default() += 1;
                }
                Expr::Attribute(a) if matches!(a.ctx, ast::ExprContext::Load) => {
                    *self.loads.entry(a.attr.to_string()).or_default() += 1;
                }
                Expr::Call(c) => match &*c.func {
                    Expr::Name(n) => *self.called.entry(n.id.to_string()).or_default() += 1,
                    Expr::Attribute(a) => *self.called.entry(a.attr.to_string()).or_default() += 1,
                    _ => {}
                },
                _ => {}
            }
            walk_expr(self, e);
        }
    }
    let mut u = U::default();
    u.visit_body(body);
    u.loads.into_iter().filter(|(n, k)| *k > u.called.get(n).copied().unwrap_or(0)).map(|(n, _)| n).collect()
}

fn is_stub(body: &[Stmt]) -> bool {
    body.iter().all(|s| match s {
        Stmt::Pass(_) | Stmt::Raise(_) => true,
        Stmt::Expr(x) => {
            matches!(&*x.value, Expr::Constant(c) if matches!(c.value, Constant::Str(_) | Constant::Ellipsis))
        }
        _ => false,
    })
}

impl Rule for NeedlessAsync {
    fn code(&self) -> &'static str {
        "AWT401"
    }
    fn name(&self) -> &'static str {
        "async-without-await"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        struct V<'m, 'a, 'o>(&'m Module<'a>, &'o mut Vec<Hit>, std::collections::HashSet<String>);
        impl<'a> ScopedVisitor<'a> for V<'_, '_, '_> {
            fn stmt(&mut self, s: &'a Stmt, _scope: &Scope<'a>) {
                let Stmt::AsyncFunctionDef(f) = s else { return };
                let n = f.name.as_str();
                if (n.starts_with("__") && n.ends_with("__"))
                    || self.2.contains(n)
                    || f.decorator_list
                        .iter()
                        .any(|d| !matches!(dotted_name(d).as_deref(), Some("staticmethod" | "classmethod")))
                    || is_stub(&f.body)
                    || super::suspends(&f.body, true)
                {
                    return;
                }
                let info = self.0.info;
                if let Some(id) = info.func_at(s.range().start().into()) {
                    // A blocking call that `convert` turns into an `await`
                    // (AWT101 reports it): await it, do not drop the `async`.
                    let here = |r| info.call(r).is_some_and(|c| c.ctx.func == Some(id) && c.ctx.awaitable());
                    let tables = self.0.tables;
                    if self.0.seeds.iter().any(|sd| here(sd.call))
                        || info.calls.iter().any(|c| {
                            here(c.range)
                                && c.qualname.as_ref().is_some_and(|q| tables.to_thread.iter().any(|r| &r.sync == q))
                        })
                    {
                        return;
                    }
                    if info.funcs[id].class.is_some_and(|c| !info.classes[c].bases.iter().all(|b| b == "object")) {
                        return;
                    }
                    if info.value_refs.iter().any(|v| v.func == id) {
                        return;
                    }
                }
                self.1.push(Hit {
                    offset: s.range().start(),
                    message: format!(
                        "async function `{n}` never awaits, iterates or enters anything async: make it a plain `def`, or await what it should"
                    ),
                    fix: None,
                });
            }
        }
        walk_scoped(m.body, &mut V(m, out, used_as_values(m.body)));
    }
}
