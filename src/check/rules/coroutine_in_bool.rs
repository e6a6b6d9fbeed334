//! AWT202: a coroutine used as a truth value.

use crate::check::{Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};

crate::rule_doc!(
    "A coroutine used as a truth value (`if fetch():`).

## What it does
Reports a call of a coroutine function of the project (resolved as for
AWT201, across modules) used where Python takes its truth value: the test
of `if`, `while`, `assert` and a conditional expression, the operand of
`not`, an operand of `and` / `or`, the condition of a comprehension.

## Why is this bad
A coroutine object is always true: the test never sees the function's
result, the function never runs, and Python warns that it was never
awaited.

## Example
```python
async def is_ready():
    return False


async def main():
    if is_ready():
        print(\"ready\")
```

## Use instead
```python
async def is_ready():
    return False


async def main():
    if await is_ready():
        print(\"ready\")
```

## Fix
By hand: `await` the call. No `convert` pass rewrites this.
"
);

pub struct CoroutineInBool;

impl Rule for CoroutineInBool {
    fn code(&self) -> &'static str {
        "AWT202"
    }
    fn name(&self) -> &'static str {
        "coroutine-in-boolean-context"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        struct V<'m, 'a, 'o>(&'m Module<'a>, &'o mut Vec<Hit>);
        impl V<'_, '_, '_> {
            fn test(&mut self, e: &Expr) {
                let Expr::Call(c) = e else { return };
                let Some((name, _)) = self.0.coroutine_callee(c) else { return };
                self.1.push(Hit {
                    offset: e.range().start(),
                    message: format!(
                        "coroutine `{name}` used as a truth value: a coroutine object is always true; await it"
                    ),
                    fix: None,
                });
            }
        }
        impl<'a> ScopedVisitor<'a> for V<'_, '_, '_> {
            fn stmt(&mut self, s: &'a Stmt, _scope: &Scope<'a>) {
                match s {
                    Stmt::If(i) => self.test(&i.test),
                    Stmt::While(w) => self.test(&w.test),
                    Stmt::Assert(a) => self.test(&a.test),
                    _ => {}
                }
            }
            fn expr(&mut self, e: &'a Expr, _scope: &Scope<'a>) {
                match e {
                    Expr::IfExp(i) => self.test(&i.test),
                    Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => self.test(&u.operand),
                    Expr::BoolOp(b) => b.values.iter().for_each(|v| self.test(v)),
                    Expr::ListComp(ast::ExprListComp { generators, .. })
                    | Expr::SetComp(ast::ExprSetComp { generators, .. })
                    | Expr::DictComp(ast::ExprDictComp { generators, .. })
                    | Expr::GeneratorExp(ast::ExprGeneratorExp { generators, .. }) => {
                        generators.iter().flat_map(|g| &g.ifs).for_each(|x| self.test(x))
                    }
                    _ => {}
                }
            }
        }
        walk_scoped(m.body, &mut V(m, out));
    }
}
