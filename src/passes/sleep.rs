//! The `sleep` pass.

use super::{Pass, PassCx, Seed};
use crate::analysis::ModuleInfo;
use crate::syntax::{await_, dotted, fold_ok};
use crate::transforms::Tables;
use rustpython_ast::{self as ast, Expr, Fold, Stmt};

crate::pass_doc!(
    "Turns blocking sleeps into `await asyncio.sleep(...)`.

## What it does
Rewrites calls of `time.sleep` (through any import spelling: `import time`,
`import time as t`, `from time import sleep`, `from time import sleep as nap`)
into `await asyncio.sleep(...)`, inside functions that can become async. The
function then becomes `async def` and its callers are converted by `colour`.
The rows come from `transforms/asyncio.toml` (`pass = \"sleep\"`).

With `--runtime trio` or `anyio` the call is `await trio.sleep(...)` /
`await anyio.sleep(...)` (the runtime's `[runtime.rename]` row).

## Why is this bad
`time.sleep` blocks the event loop: no other task runs while it sleeps.

## Example
```python
import time


def poll():
    time.sleep(0.5)
```

## Use instead
```python
import asyncio
import time


async def poll():
    await asyncio.sleep(0.5)
```

## Not converted
A sleep in a function that cannot become async (called from `__init__`, a
lambda, module level, or used as a callback) stays as it is, with a
diagnostic that shows the chain. Sleeps at module level are left alone.

## Fix safety
Safe: `asyncio.sleep(x)` waits as long as `time.sleep(x)`; other tasks may
run meanwhile, which is the point of the conversion.
"
);

pub struct Sleep;

impl Pass for Sleep {
    fn name(&self) -> &'static str {
        "sleep"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn interested(&self, src: &str, tables: &Tables) -> bool {
        tables.calls_for("sleep").any(|r| src.contains(r.sync.rsplit('.').next().unwrap_or(&r.sync)))
    }
    fn seeds(&self, _body: &[Stmt], info: &ModuleInfo, tables: &Tables, d: &mut Vec<super::Diagnostic>) -> Vec<Seed> {
        let mut out = vec![];
        for c in &info.calls {
            let Some(q) = &c.qualname else { continue };
            let Some(rule) = tables.calls_for("sleep").find(|r| &r.sync == q && r.await_) else { continue };
            if tables.runtime_name(&rule.async_).is_none() {
                d.push(super::Diagnostic {
                    offset: c.range.start().into(),
                    pass: "sleep",
                    message: format!(
                        "`{}` left blocking: its replacement `{}` has no equivalent in {} (add one under [runtime.rename] in a table)",
                        rule.sync,
                        rule.async_,
                        tables.target.name()
                    ),
                });
                continue;
            }
            out.push(Seed { call: c.range, pass: "sleep", what: rule.sync.clone(), group: None, veto: false });
        }
        out
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        let mut f = Folder { cx };
        body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect()
    }
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
}

impl Fold<rustpython_ast::text_size::TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let e = ast::fold::fold_expr(self, e)?;
        let Expr::Call(call) = e else { return Ok(e) };
        if !self.cx.colour.seeds_ok.contains(&call.range) {
            return Ok(Expr::Call(call));
        }
        let Some(q) = self.cx.info.call(call.range).and_then(|c| c.qualname.clone()) else {
            return Ok(Expr::Call(call));
        };
        let Some(rule) = self.cx.tables.calls_for("sleep").find(|r| r.sync == q) else {
            return Ok(Expr::Call(call));
        };
        let Some(target) = self.cx.tables.runtime_name(&rule.async_) else {
            return Ok(Expr::Call(call));
        };
        self.cx.imports.insert(if target == rule.async_ {
            rule.import.clone()
        } else {
            crate::runtime::module_of(&target)
        });
        let new_call = Expr::Call(ast::ExprCall { func: Box::new(dotted(&target)), ..call });
        Ok(if rule.await_ { await_(new_call) } else { new_call })
    }
}
