//! The `loop_idioms` pass.

use super::{Diagnostic, Pass, PassCx};
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{call, dotted, expand_stmts, fold_ok, synth};
use crate::transforms::{Runtime, Tables};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Constant, Expr, Fold, Ranged, Stmt};
use std::collections::{HashMap, HashSet};

crate::pass_doc!(
    "Replaces pre-3.7 event-loop idioms: `run_until_complete`, `run_in_executor`, `ensure_future`.

## What it does
* `loop = asyncio.get_event_loop()` (or `new_event_loop()`, with
  `asyncio.set_event_loop(loop)`) followed by `loop.run_until_complete(main())`
  and then `loop.close()` in the same block -> `asyncio.run(main())`, when
  that scope uses `loop` for nothing else; `asyncio.get_event_loop()
  .run_until_complete(main())` likewise. At module level `loop.close()` may
  be missing (the program ends with the loop idle) when no module code after
  the run uses asyncio again.
* `await loop.run_in_executor(None, f, *args)`, with `loop` from
  `asyncio.get_running_loop()` / `get_event_loop()` -> `await
  asyncio.to_thread(f, *args)` (and the `loop = ...` line goes when nothing
  else uses it).
* `asyncio.ensure_future(coro())` inside `async def` -> `asyncio.create_task(coro())`.
* A task created and dropped (`asyncio.create_task(...)` as a statement) gets
  a diagnostic: the event loop keeps only a weak reference to it.

Runs with `--runtime asyncio` only (these are asyncio programs already).

## Why is this bad
`get_event_loop()` outside a running loop is deprecated (3.12 warns, later
versions raise); `asyncio.run` also cancels leftover tasks and closes async
generators and the default executor. `to_thread` and `create_task` say what
they do and work on the running loop.

## Example
```python
import asyncio


async def main():
    await asyncio.sleep(0)


loop = asyncio.get_event_loop()
loop.run_until_complete(main())
loop.close()
```

## Use instead
```python
import asyncio


async def main():
    await asyncio.sleep(0)


asyncio.run(main())
```

## Not converted (with a diagnostic)
`run_until_complete` of something the pass cannot prove is a coroutine
(`asyncio.run` takes coroutines only), a loop used for anything else
(`loop.create_task`, a second `run_until_complete`, no `loop.close()` after
the run in a function, or at module level with module code after the run
that uses asyncio again, a `loop.close()` inside a `finally:`), `run_in_executor` with an executor, or not awaited at once (it
starts at the call, a coroutine only when awaited); `ensure_future` of
something that may be a future.

## Fix safety
Safe for the forms above; `asyncio.run` cancels tasks still pending when
`main()` returns, which the original loop dropped at exit without running
them again. `asyncio.to_thread` also copies the caller's
context variables into the thread, which `run_in_executor` did not.
"
);

pub struct LoopIdioms;

impl Pass for LoopIdioms {
    fn name(&self) -> &'static str {
        "loop_idioms"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn standalone(&self) -> bool {
        true
    }
    fn interested(&self, src: &str, _tables: &Tables) -> bool {
        ["run_until_complete", "run_in_executor", "ensure_future", "create_task"].iter().any(|w| src.contains(w))
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        if cx.tables.target != Runtime::Asyncio {
            return body;
        }
        let mut plan = Plan::default();
        {
            let mut f = Finder { cx: &*cx, plan: &mut plan, module: body.as_ptr() };
            f.block(&body, None, &body);
        }
        cx.diagnostics.append(&mut plan.diagnostics);
        // A loop variable nothing else uses any more goes too.
        for (assign, (_, in_func, converted)) in &plan.loop_vars {
            if *converted > 0 && *in_func == 1 + converted {
                plan.delete.insert(*assign);
            }
        }
        if plan.calls.is_empty() {
            return body;
        }
        cx.imports.insert("asyncio".into());
        let mut f = Rewriter { calls: &mut plan.calls, sites: &mut cx.sites };
        let body: Vec<Stmt> = body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect();
        let delete = plan.delete;
        cx.sites.extend(delete.iter().copied());
        expand_stmts(body, &mut |s| if delete.contains(&s.range()) { vec![] } else { vec![s] })
    }
}

/// A call rewritten in place.
enum NewCall {
    /// `asyncio.run(arg)` in place of `run_until_complete(arg)`.
    Run,
    /// `asyncio.to_thread(f, *args)` in place of `run_in_executor(None, f, *args)`.
    ToThread,
    /// `asyncio.create_task(c)` in place of `ensure_future(c)`.
    CreateTask,
}

#[derive(Default)]
struct Plan {
    calls: HashMap<TextRange, NewCall>,
    /// `loop = asyncio.get_running_loop()` statements whose
    /// `run_in_executor` calls were converted: the name, how often its
    /// function mentions it, and how many calls were converted.
    loop_vars: HashMap<TextRange, (String, usize, usize)>,
    /// Statements removed (the loop's creation, `set_event_loop`, `close`).
    delete: HashSet<TextRange>,
    diagnostics: Vec<Diagnostic>,
}

/// How often each name is mentioned in the module (any scope).
fn name_uses(body: &[Stmt]) -> HashMap<String, usize> {
    struct V(HashMap<String, usize>);
    impl<'a> Visitor<'a> for V {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e {
                *self.0.entry(n.id.to_string()).or_default() += 1;
            }
            walk_expr(self, e);
        }
    }
    let mut v = V(HashMap::new());
    v.visit_body(body);
    v.0
}

/// How often `name` is mentioned in the scope of `body`: nested functions
/// that bind a local of that name (and declare it neither `global` nor
/// `nonlocal`) are another variable and are not counted.
fn scope_uses(body: &[Stmt], name: &str) -> usize {
    struct V<'x>(&'x str, usize);
    impl<'a> Visitor<'a> for V<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if let Stmt::FunctionDef(ast::StmtFunctionDef { body, args, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { body, args, .. }) = s
            {
                let param = args
                    .posonlyargs
                    .iter()
                    .chain(&args.args)
                    .chain(&args.kwonlyargs)
                    .any(|a| a.def.arg.as_str() == self.0)
                    || args.vararg.iter().chain(&args.kwarg).any(|a| a.arg.as_str() == self.0);
                if param || binds_locally(body, self.0) {
                    return;
                }
            }
            walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e
                && n.id.as_str() == self.0
            {
                self.1 += 1;
            }
            walk_expr(self, e);
        }
    }
    let mut v = V(name, 0);
    v.visit_body(body);
    v.1
}

/// A function body that assigns `name` without a `global`/`nonlocal` for it.
fn binds_locally(body: &[Stmt], name: &str) -> bool {
    let declared = body.iter().any(|s| match s {
        Stmt::Global(g) => g.names.iter().any(|n| n.as_str() == name),
        Stmt::Nonlocal(g) => g.names.iter().any(|n| n.as_str() == name),
        _ => false,
    });
    if declared {
        return false;
    }
    struct V<'x>(&'x str, bool);
    impl<'a> Visitor<'a> for V<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if !matches!(s, Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_)) {
                walk_stmt(self, s);
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e
                && n.id.as_str() == self.0
                && matches!(n.ctx, ast::ExprContext::Store)
            {
                self.1 = true;
            }
            walk_expr(self, e);
        }
    }
    let mut v = V(name, false);
    v.visit_body(body);
    v.1
}

const LOOP_MAKERS: &[&str] = &["asyncio.get_event_loop", "asyncio.new_event_loop"];
const RUNNING_LOOP: &[&str] = &["asyncio.get_running_loop", "asyncio.get_event_loop"];

struct Finder<'a, 'b> {
    cx: &'a PassCx<'b>,
    plan: &'a mut Plan,
    /// The module's body (its address: a block is module-level when its
    /// scope is this one).
    module: *const Stmt,
}

impl Finder<'_, '_> {
    fn qual(&self, e: &Expr) -> Option<&str> {
        let Expr::Call(c) = e else { return None };
        self.cx.info.call(c.range)?.qualname.as_deref()
    }

    fn diag(&mut self, r: TextRange, message: String) {
        self.plan.diagnostics.push(Diagnostic { offset: r.start().into(), pass: "loop_idioms", message });
    }

    fn in_async(&self, r: TextRange) -> Option<bool> {
        let site = self.cx.info.call(r)?;
        Some(site.ctx.func.is_some_and(|f| self.cx.colour.is_async(self.cx.info, f)))
    }

    /// Why `e` may not be a coroutine (None when it surely is one).
    fn not_coroutine(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Call(c) => self.cx.not_a_coroutine(c),
            _ => Some("an expression that is not a call".into()),
        }
    }

    /// One statement list; `func` is the enclosing function (for loops that
    /// `run_in_executor` uses).
    /// `scope`: the body of the module, function or class the block is in.
    fn block(&mut self, body: &[Stmt], func: Option<&[Stmt]>, scope: &[Stmt]) {
        for (i, s) in body.iter().enumerate() {
            if let Stmt::Assign(a) = s
                && let [Expr::Name(n)] = a.targets.as_slice()
                && self.qual(&a.value).is_some_and(|q| LOOP_MAKERS.contains(&q))
            {
                let uses = scope_uses(scope, n.id.as_str());
                let module = func.is_none() && std::ptr::eq(scope.as_ptr(), self.module);
                self.loop_run(s.range(), n.id.as_str(), &body[i + 1..], uses, module);
            }
            match s {
                Stmt::FunctionDef(f) => self.block(&f.body, Some(&f.body), &f.body),
                Stmt::AsyncFunctionDef(f) => self.block(&f.body, Some(&f.body), &f.body),
                Stmt::ClassDef(c) => self.block(&c.body, None, &c.body),
                s => {
                    self.exprs(s, func);
                    for b in crate::syntax::blocks(s) {
                        self.block(b, func, scope);
                    }
                }
            }
        }
    }

    /// `loop = get_event_loop()`, then in `rest`: `set_event_loop(loop)`,
    /// one `loop.run_until_complete(x)`, `loop.close()`.
    /// `module`: the block is the module's own code.
    fn loop_run(&mut self, assign: TextRange, loop_: &str, rest: &[Stmt], uses: usize, module: bool) {
        let mut deletes = vec![assign];
        let mut run: Option<&ast::ExprCall> = None;
        let mut seen = 1;
        let mut closed = false;
        for s in rest {
            if let Stmt::Expr(e) = s
                && let Expr::Call(c) = &*e.value
            {
                let is_loop = |x: &Expr| matches!(x, Expr::Name(n) if n.id.as_str() == loop_);
                if self.qual(&e.value) == Some("asyncio.set_event_loop") && c.args.len() == 1 && is_loop(&c.args[0]) {
                    deletes.push(s.range());
                    seen += 1;
                    continue;
                }
                if let Expr::Attribute(a) = &*c.func
                    && is_loop(&a.value)
                    && a.attr.as_str() == "close"
                    && c.args.is_empty()
                    && run.is_some()
                {
                    deletes.push(s.range());
                    closed = true;
                    seen += 1;
                    continue;
                }
            }
            let found = run_calls(s, loop_);
            if let Some(c) = found.first() {
                if run.is_some() || found.len() > 1 {
                    return self.diag(c.range, format!("`{loop_}.run_until_complete` left as it is: the loop runs more than once (each `asyncio.run` would make a new loop)"));
                }
                run = Some(c);
                seen += 1;
            }
        }
        let Some(run) = run else { return };
        // Not closed, at module level: the program ends with the loop
        // unused, as `asyncio.run` leaves it, if no module code after the
        // run touches asyncio again (a later `get_event_loop()` would find
        // the loop `asyncio.run` closed and unset).
        let end = run.range.end();
        let asyncio_after = || {
            self.cx.info.calls.iter().any(|c| {
                c.range.start() >= end
                    && c.ctx.func.is_none()
                    && c.qualname.as_deref().is_some_and(|q| q == "asyncio" || q.starts_with("asyncio."))
            })
        };
        if !closed && (!module || asyncio_after()) {
            return self.diag(
                run.range,
                format!("`{loop_}.run_until_complete` left as it is: `{loop_}` is not closed after the run in this block (it stays usable, `asyncio.run` closes its loop)"),
            );
        }
        if uses != seen {
            return self.diag(
                run.range,
                format!("`{loop_}.run_until_complete` left as it is: the module uses `{loop_}` for more than running it once"),
            );
        }
        if self.in_async(run.range) != Some(false) {
            return;
        }
        let [arg] = run.args.as_slice() else { return };
        if let Some(why) = self.not_coroutine(arg) {
            return self.diag(
                run.range,
                format!("`{loop_}.run_until_complete` left as it is: {why} (`asyncio.run` takes coroutines only)"),
            );
        }
        // Removing a statement must leave no one-line block empty and take
        // no other statement with it: each has its lines to itself.
        if deletes.iter().any(|&d| {
            !self.cx.own_lines(d)
                || self.cx.source[..usize::from(d.start())].trim_end_matches([' ', '\t']).ends_with(':')
        }) {
            return self.diag(run.range, format!("`{loop_}.run_until_complete` left as it is: a statement to remove shares a line with another statement"));
        }
        self.plan.calls.insert(run.range, NewCall::Run);
        self.plan.delete.extend(deletes);
    }

    /// Calls inside one simple statement (or a compound statement's header).
    fn exprs(&mut self, s: &Stmt, func: Option<&[Stmt]>) {
        let mut header = s.clone();
        crate::syntax::take_blocks(&mut header);
        let mut calls = vec![];
        collect_calls(&header, &mut calls);
        let awaited = awaited_calls(&header);
        for c in calls {
            let Expr::Attribute(a) = &*c.func else {
                self.plain_call(&c, s);
                continue;
            };
            match a.attr.as_str() {
                "run_until_complete" if self.qual(&a.value).is_some_and(|q| LOOP_MAKERS.contains(&q)) => {
                    if self.in_async(c.range) != Some(false) || c.args.len() != 1 {
                        continue;
                    }
                    if let Some(why) = self.not_coroutine(&c.args[0]) {
                        self.diag(
                            c.range,
                            format!("`run_until_complete` left as it is: {why} (`asyncio.run` takes coroutines only)"),
                        );
                        continue;
                    }
                    self.plan.calls.insert(c.range, NewCall::Run);
                }
                "run_in_executor" => self.run_in_executor(&c, &a.value, awaited.contains(&c.range), func),
                _ => self.plain_call(&c, s),
            }
        }
    }

    fn plain_call(&mut self, c: &ast::ExprCall, s: &Stmt) {
        let q = self.cx.info.call(c.range).and_then(|x| x.qualname.as_deref());
        match q {
            Some("asyncio.ensure_future") if self.in_async(c.range) == Some(true) => {
                if let [arg] = c.args.as_slice()
                    && c.keywords.is_empty()
                {
                    if let Some(why) = self.not_coroutine(arg) {
                        self.diag(
                            c.range,
                            format!(
                                "`asyncio.ensure_future` left as it is: {why} (`create_task` takes coroutines only)"
                            ),
                        );
                    } else {
                        self.plan.calls.insert(c.range, NewCall::CreateTask);
                    }
                }
                self.dropped(c, s, "asyncio.ensure_future");
            }
            Some("asyncio.create_task") if self.in_async(c.range) == Some(true) => {
                self.dropped(c, s, "asyncio.create_task")
            }
            _ => {}
        }
    }

    fn dropped(&mut self, c: &ast::ExprCall, s: &Stmt, what: &str) {
        if let Stmt::Expr(e) = s
            && e.value.range() == c.range
        {
            self.diag(
                c.range,
                format!("`{what}(...)` creates a task and drops it: the event loop keeps only a weak reference, so it may be garbage-collected before it finishes; keep it (in a `TaskGroup`, or in a set with `task.add_done_callback(tasks.discard)`)"),
            );
        }
    }

    fn run_in_executor(&mut self, c: &ast::ExprCall, recv: &Expr, awaited: bool, func: Option<&[Stmt]>) {
        if self.in_async(c.range) != Some(true) {
            return;
        }
        let running = match recv {
            Expr::Call(_) => self.qual(recv).is_some_and(|q| RUNNING_LOOP.contains(&q)),
            Expr::Name(n) => match func.and_then(|body| self.running_loop_assign(body, n.id.as_str())) {
                Some(assign) => {
                    let in_func = func.map(|b| name_uses(b).get(n.id.as_str()).copied().unwrap_or(0)).unwrap_or(0);
                    self.plan.loop_vars.entry(assign).or_insert((n.id.to_string(), in_func, 0));
                    true
                }
                None => false,
            },
            _ => false,
        };
        if !running {
            return;
        }
        let why = if !matches!(c.args.first(), Some(Expr::Constant(k)) if k.value == Constant::None) {
            Some("it runs in an executor of its own (`asyncio.to_thread` uses the default one)")
        } else if c.args.len() < 2 || !c.keywords.is_empty() {
            Some("unexpected arguments")
        } else if !awaited {
            Some("it is not awaited at once (it starts at the call, a coroutine only when awaited)")
        } else {
            None
        };
        if let Some(why) = why {
            return self.diag(c.range, format!("`run_in_executor` left as it is: {why}"));
        }
        self.plan.calls.insert(c.range, NewCall::ToThread);
        if let Expr::Name(n) = recv
            && let Some(assign) = func.and_then(|b| self.running_loop_assign(b, n.id.as_str()))
            && let Some(v) = self.plan.loop_vars.get_mut(&assign)
        {
            v.2 += 1;
        }
    }

    /// The one statement binding `name` in this function, if it is
    /// `name = asyncio.get_running_loop()` (or `get_event_loop()`).
    fn running_loop_assign(&self, body: &[Stmt], name: &str) -> Option<TextRange> {
        struct V<'x, 'a, 'b>(&'x Finder<'a, 'b>, &'x str, usize, Option<TextRange>);
        impl<'a> Visitor<'a> for V<'_, '_, '_> {
            fn visit_stmt(&mut self, s: &'a Stmt) {
                match s {
                    Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => return,
                    Stmt::Assign(a)
                        if matches!(a.targets.as_slice(), [Expr::Name(n)] if n.id.as_str() == self.1)
                            && self.0.qual(&a.value).is_some_and(|q| RUNNING_LOOP.contains(&q)) =>
                    {
                        self.3 = Some(s.range());
                    }
                    _ => {}
                }
                walk_stmt(self, s);
            }
            fn visit_expr(&mut self, e: &'a Expr) {
                // Any other binding of the name (walrus, for target...).
                if let Expr::Name(n) = e
                    && n.id.as_str() == self.1
                    && !matches!(n.ctx, ast::ExprContext::Load)
                {
                    self.2 += 1;
                }
                walk_expr(self, e);
            }
        }
        let mut v = V(self, name, 0, None);
        v.visit_body(body);
        // visit_expr counted every binding, the Assign's target included.
        if v.2 == 1 { v.3 } else { None }
    }
}

/// `loop_.run_until_complete(...)` calls in a statement.
fn run_calls<'a>(s: &'a Stmt, loop_: &str) -> Vec<&'a ast::ExprCall> {
    struct V<'a, 'x>(&'x str, Vec<&'a ast::ExprCall>);
    impl<'a> Visitor<'a> for V<'a, '_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e
                && let Expr::Attribute(a) = &*c.func
                && a.attr.as_str() == "run_until_complete"
                && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == self.0)
            {
                self.1.push(c);
            }
            walk_expr(self, e);
        }
    }
    let mut v = V(loop_, vec![]);
    v.visit_stmt(s);
    v.1
}

fn collect_calls(s: &Stmt, out: &mut Vec<ast::ExprCall>) {
    struct V<'x>(&'x mut Vec<ast::ExprCall>);
    impl<'a> Visitor<'a> for V<'_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e {
                self.0.push(c.clone());
            }
            walk_expr(self, e);
        }
    }
    V(out).visit_stmt(s);
}

/// Calls that are the direct operand of an `await`.
fn awaited_calls(s: &Stmt) -> HashSet<TextRange> {
    struct V(HashSet<TextRange>);
    impl<'a> Visitor<'a> for V {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Await(a) = e
                && let Expr::Call(c) = &*a.value
            {
                self.0.insert(c.range);
            }
            walk_expr(self, e);
        }
    }
    let mut v = V(HashSet::new());
    v.visit_stmt(s);
    v.0
}

struct Rewriter<'a> {
    calls: &'a mut HashMap<TextRange, NewCall>,
    sites: &'a mut Vec<TextRange>,
}

impl Fold<TextRange> for Rewriter<'_> {
    crate::identity_fold_plumbing!();

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        let e = ast::fold::fold_expr(self, e)?;
        let Expr::Call(c) = e else { return Ok(e) };
        let Some(new) = self.calls.remove(&range) else { return Ok(Expr::Call(c)) };
        self.sites.push(range);
        Ok(match new {
            NewCall::Run => call(dotted("asyncio.run"), c.args, vec![], synth()),
            NewCall::ToThread => {
                call(dotted("asyncio.to_thread"), c.args.into_iter().skip(1).collect(), vec![], synth())
            }
            NewCall::CreateTask => call(dotted("asyncio.create_task"), c.args, vec![], synth()),
        })
    }
}
