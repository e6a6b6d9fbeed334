//! The `colour` pass.

use super::{Pass, PassCx};
use crate::analysis::IterSite;
use crate::syntax::{await_, fold_ok, synth, to_async_kind};
use rustpython_ast::{self as ast, Expr, Fold, Ranged, Stmt};
use std::collections::{HashMap, HashSet};

crate::pass_doc!(
    "Makes functions that now await `async def`, awaits their calls, and runs the entry point with `asyncio.run`.

## What it does
After the other passes turned blocking calls into awaitables, every function
that contains one becomes `async def`. Every call of such a function in the
module gets `await` (plain calls, `self.m()` / `cls.m()` in its class and
subclasses, `Class.m()`), and the callers become async in turn, to a
fixpoint. In the `if __name__ == \"__main__\":` block, calls of functions that
became async are wrapped in `asyncio.run(...)`.

A generator that now awaits becomes an async generator: its loops become
`async for` (and list, set or dict comprehensions over it async
comprehensions), `yield from` it becomes `async for item in ...: yield
item`, and a `yield from` of anything else inside an async generator becomes
a plain loop (`yield from` is not allowed there). Functions called through
a loop variable (`for name, f in [(\"a\", fa), ...]: f()`) and the wrappers
of module decorators (`@retry(...)`) become async together with every
function they may call, or not at all.

An installed command's entry point (`[project.scripts]`, `console_scripts`)
whose body becomes async keeps a sync shell under its name, signature and
decorators: `def main(argv=None): return asyncio.run(_main(argv))`, with the
body in `async def _main(argv=None)`. pip's script, and every sync caller,
gets the return value as before; an async caller makes it stay sync.

With `--runtime trio` or `anyio` the entry point is `trio.run(main, *args)` /
`anyio.run(main, *args)` (keyword arguments through `functools.partial`).

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
generators used other than by a loop (`list(gen())`, `next(...)`) or that
return a value, methods that may override an outside base class, functions used
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
        let col = &cx.colour;
        if col.async_defs.is_empty()
            && col.await_calls.is_empty()
            && col.run_calls.is_empty()
            && col.async_iter.is_empty()
        {
            return body;
        }
        // A free name for the loop that replaces `yield from` in async generators.
        let mut names = crate::analysis::scope::collect(&body).names.into_keys().collect::<HashSet<String>>();
        struct Names<'n>(&'n mut HashSet<String>);
        impl<'a> crate::syntax::visit::Visitor<'a> for Names<'_> {
            fn visit_expr(&mut self, e: &'a Expr) {
                if let Expr::Name(n) = e {
                    self.0.insert(n.id.to_string());
                }
                crate::syntax::visit::walk_expr(self, e);
            }
        }
        crate::syntax::visit::Visitor::visit_body(&mut Names(&mut names), &body);
        let item =
            (1..).map(|i| if i == 1 { "item".to_string() } else { format!("item_{i}") }).find(|n| !names.contains(n));
        // Installed commands' entry points that became async: their twins.
        let mut twins: HashMap<u32, String> = HashMap::new();
        for s in &body {
            let start = u32::from(s.range().start());
            if let Stmt::FunctionDef(d) = s
                && col.async_defs.contains(&start)
                && cx.info.func_at(start).is_some_and(|f| cx.info.funcs[f].entry.is_some())
            {
                let twin = twin_name(d.name.as_str(), &names);
                names.insert(twin.clone());
                twins.insert(start, twin);
            }
        }
        let entry = one_loop(&body, cx, &names);
        let mut f = Folder { cx, funcs: vec![], item: item.unwrap_or_default(), in_entry: false };
        body.into_iter()
            .flat_map(|s| {
                let twin = twins.get(&u32::from(s.range().start())).cloned();
                match &entry {
                    Some(name) if Some(s.range()) == f.cx.info.main_guard => vec![f.entry_point(s, name)],
                    _ => {
                        let s = fold_ok(f.fold_stmt(s));
                        match twin {
                            Some(twin) => entry_shell(s, &twin, f.cx),
                            None => vec![s],
                        }
                    }
                }
            })
            .collect()
    }
}

/// The name of the async function the `__main__` block becomes, when it
/// must run in one event loop (`Colouring::entry`): `main` when nothing in
/// the module uses that name (and no `from m import *` may bring it), else
/// `_main`, `_awaitify_main`, `_awaitify_main_2`, ... None: the block keeps
/// its one `asyncio.run(...)`, if any.
fn one_loop(body: &[Stmt], cx: &PassCx, names: &HashSet<String>) -> Option<String> {
    if !cx.colour.entry {
        return None;
    }
    let star = body.iter().any(|s| matches!(s, Stmt::ImportFrom(i) if i.names.iter().any(|a| a.name.as_str() == "*")));
    let fixed = ["main", "_main", "_awaitify_main"].into_iter().map(String::from);
    fixed
        .chain((2..).map(|i| format!("_awaitify_main_{i}")))
        .filter(|n| !(star && n == "main"))
        .find(|n| !names.contains(n))
}

/// The async twin's name for entry point `name`: `_name`, else
/// `_name_async`, `_awaitify_name`, `_awaitify_name_2`, ... (a name the
/// module does not use).
fn twin_name(name: &str, names: &HashSet<String>) -> String {
    [format!("_{name}"), format!("_{name}_async"), format!("_awaitify_{name}")]
        .into_iter()
        .chain((2..).map(|i| format!("_awaitify_{name}_{i}")))
        .find(|n| !names.contains(n))
        .unwrap_or_default()
}

/// An installed command's entry point whose body became async
/// (`FuncInfo::entry`): `@decorators def main(a, *r, k=1): body` ->
/// `@decorators def main(a, *r, k=1): return asyncio.run(_main(a, *r, k=k))`
/// and `async def _main(a, *r, k=1): body`. The shell keeps the name, the
/// signature and the decorators (a `click` or `typer` command reads them),
/// so the installed command and every sync caller get the return value as
/// before; the twin keeps the body.
fn entry_shell(s: Stmt, twin: &str, cx: &mut PassCx) -> Vec<Stmt> {
    let Stmt::AsyncFunctionDef(mut d) = s else { return vec![s] };
    let a = &d.args;
    let mut args: Vec<Expr> =
        a.posonlyargs.iter().chain(&a.args).map(|p| crate::syntax::name(p.def.arg.as_str())).collect();
    if let Some(v) = &a.vararg {
        args.push(Expr::Starred(ast::ExprStarred {
            range: synth(),
            value: Box::new(crate::syntax::name(v.arg.as_str())),
            ctx: ast::ExprContext::Load,
        }));
    }
    let mut keywords: Vec<ast::Keyword> = a
        .kwonlyargs
        .iter()
        .map(|p| ast::Keyword {
            range: synth(),
            arg: Some(p.def.arg.clone()),
            value: crate::syntax::name(p.def.arg.as_str()),
        })
        .collect();
    if let Some(k) = &a.kwarg {
        keywords.push(ast::Keyword { range: synth(), arg: None, value: crate::syntax::name(k.arg.as_str()) });
    }
    let call = crate::syntax::call(crate::syntax::name(twin), args, keywords, synth());
    let run = crate::runtime::run_entry(cx.tables, call, &mut cx.imports);
    let shell = Stmt::FunctionDef(ast::StmtFunctionDef {
        range: synth(),
        name: d.name.clone(),
        args: d.args.clone(),
        body: vec![Stmt::Return(ast::StmtReturn { range: synth(), value: Some(Box::new(run)) })],
        decorator_list: std::mem::take(&mut d.decorator_list),
        returns: d.returns.clone(),
        type_comment: None,
        type_params: d.type_params.clone(),
    });
    cx.sites.push(d.range);
    d.name = ast::Identifier::new(twin);
    vec![Stmt::AsyncFunctionDef(d), shell]
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
    /// The enclosing defs (start offsets).
    funcs: Vec<u32>,
    item: String,
    /// Inside a `__main__` block that becomes one async function: its
    /// entry-point calls are awaited.
    in_entry: bool,
}

impl Folder<'_, '_> {
    /// `if __name__ == "__main__": <body>` ->
    /// `if __name__ == "__main__": async def main(): global <names it binds>; <body>` +
    /// `asyncio.run(main())`: one event loop for the whole block. The
    /// function is defined inside the block, so importing the module binds
    /// no new name. The one place that builds the entry point.
    fn entry_point(&mut self, s: Stmt, name: &str) -> Stmt {
        let Stmt::If(mut i) = s else { return s };
        let bound = crate::analysis::scope::collect(&i.body);
        let mut globals: Vec<ast::Identifier> =
            bound.names.into_keys().filter(|n| n != name).map(ast::Identifier::new).collect();
        globals.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        self.in_entry = true;
        let mut body: Vec<Stmt> = std::mem::take(&mut i.body).into_iter().map(|s| fold_ok(self.fold_stmt(s))).collect();
        self.in_entry = false;
        i.orelse = i.orelse.into_iter().map(|s| fold_ok(self.fold_stmt(s))).collect();
        if !globals.is_empty() {
            body.insert(0, Stmt::Global(ast::StmtGlobal { range: synth(), names: globals }));
        }
        let def = Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef {
            range: synth(),
            name: ast::Identifier::new(name),
            args: Box::new(ast::Arguments {
                range: Default::default(),
                posonlyargs: vec![],
                args: vec![],
                vararg: None,
                kwonlyargs: vec![],
                kwarg: None,
            }),
            body,
            decorator_list: vec![],
            returns: None,
            type_comment: None,
            type_params: vec![],
        });
        let call = crate::syntax::call(crate::syntax::name(name), vec![], vec![], synth());
        let run = crate::runtime::run_entry(self.cx.tables, call, &mut self.cx.imports);
        self.cx.sites.push(i.range);
        i.body = vec![def, Stmt::Expr(ast::StmtExpr { range: synth(), value: Box::new(run) })];
        Stmt::If(i)
    }
}

impl Folder<'_, '_> {
    /// Inside a generator that becomes an async generator.
    fn in_async_generator(&self) -> bool {
        self.funcs.last().is_some_and(|&start| {
            self.cx.colour.async_defs.contains(&start)
                && self.cx.info.func_at(start).is_some_and(|f| self.cx.info.funcs[f].generator)
        })
    }
}

impl Fold<rustpython_ast::text_size::TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let range = s.range();
        let start: u32 = range.start().into();
        let def = matches!(s, Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_));
        if def {
            self.funcs.push(start);
        }
        let s = ast::fold::fold_stmt(self, s);
        if def {
            self.funcs.pop();
        }
        let s = s?;
        if matches!(s, Stmt::FunctionDef(_)) && self.cx.colour.async_defs.contains(&start) {
            return Ok(to_async_kind(s));
        }
        if matches!(s, Stmt::With(_)) && self.cx.colour.async_iter.contains(&IterSite::With(range)) {
            self.cx.sites.push(rustpython_ast::text_size::TextRange::empty(range.start()));
            return Ok(to_async_kind(s));
        }
        if matches!(s, Stmt::For(_)) && self.cx.colour.async_iter.contains(&IterSite::For(range)) {
            self.cx.sites.push(rustpython_ast::text_size::TextRange::empty(range.start()));
            return Ok(to_async_kind(s));
        }
        // `yield from x` cannot stay in an async generator: a loop yields each
        // item (`async for` when x is an async generator itself).
        if self.in_async_generator()
            && let Stmt::Expr(x) = &s
            && let Expr::YieldFrom(y) = &*x.value
        {
            let iter = (*y.value).clone();
            let target = Expr::Name(ast::ExprName {
                range: synth(),
                id: ast::Identifier::new(self.item.as_str()),
                ctx: ast::ExprContext::Store,
            });
            let yield_ =
                Expr::Yield(ast::ExprYield { range: synth(), value: Some(Box::new(crate::syntax::name(&self.item))) });
            let body = vec![Stmt::Expr(ast::StmtExpr { range: synth(), value: Box::new(yield_) })];
            let f = Stmt::For(ast::StmtFor {
                range: synth(),
                target: Box::new(target),
                iter: Box::new(iter),
                body,
                orelse: vec![],
                type_comment: None,
            });
            self.cx.sites.push(range);
            return Ok(if self.cx.colour.async_iter.contains(&IterSite::YieldFrom(range)) {
                to_async_kind(f)
            } else {
                f
            });
        }
        Ok(s)
    }

    fn fold_comprehension(&mut self, c: ast::Comprehension) -> Result<ast::Comprehension, std::convert::Infallible> {
        let site = IterSite::Comp(c.iter.range());
        let mut c = ast::fold::fold_comprehension(self, c)?;
        if self.cx.colour.async_iter.contains(&site) {
            c.is_async = true;
        }
        Ok(c)
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
            if self.in_entry && self.funcs.is_empty() {
                return Ok(await_(e));
            }
            let cx = &mut *self.cx;
            return Ok(crate::runtime::run_entry(cx.tables, e, &mut cx.imports));
        }
        Ok(e)
    }
}
