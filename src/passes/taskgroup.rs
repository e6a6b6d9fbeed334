//! The `taskgroup` pass.

use super::{Diagnostic, Pass, PassCx};
use crate::engine::TargetVersion;
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{call, dotted, expand_stmts, fresh_name, name, names_in, synth};
use crate::transforms::{Runtime, Tables};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Constant, Expr, Ranged, Stmt};
use std::collections::{HashMap, HashSet};

crate::pass_doc!(
    "Turns `await asyncio.gather(...)` into an `asyncio.TaskGroup` (Python 3.11+).

## What it does
Inside `async def`, rewrites `await asyncio.gather(a(), b())` used as a
statement, as the value of an assignment (also tuple unpacking) or of a
`return` into an `async with asyncio.TaskGroup() as tg:` block that creates
one task per coroutine, and keeps the results in their order:

* `await gather(a(), b())` -> `tg.create_task(a())`, `tg.create_task(b())`;
* `x = await gather(...)` / `return await gather(...)` -> the tasks in a
  list, then `x = [t.result() for t in tasks]` / `return [...]`;
* `gather(*[f(u) for u in urls])` (or a generator expression) -> a list
  comprehension of `tg.create_task(f(u))` (a `for` loop when the result is
  dropped).

`except E` handlers of a `try` around the call become `except* E`: a task
group raises an `ExceptionGroup` (an `except*` clause also handles the
plain exceptions the rest of the `try` body raises). Only runs with
`--target-version py311` or later (the default) and `--runtime asyncio`.

## Why is this bad
`gather` lets the other awaitables run on when one fails, detached from
any scope that waits for them; a task group is structured: when the block
ends, every task has finished, and a failure cancels its siblings.

## Example
```python
import asyncio


async def both():
    a, b = await asyncio.gather(fetch(1), fetch(2))
    return a + b


async def fetch(n):
    await asyncio.sleep(n)
    return n
```

## Use instead
```python
import asyncio


async def both():
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(fetch(1)), tg.create_task(fetch(2))]
    a, b = [t.result() for t in tasks]
    return a + b


async def fetch(n):
    await asyncio.sleep(n)
    return n
```

## Not converted (with a diagnostic)
* `return_exceptions=True`: a task group has no such mode (reported unless
  the result is dropped: waiting for every task, each outcome kept in its
  task, has nothing to convert);
* an argument the pass cannot prove is a coroutine (a future, a task, a
  variable, a call of a function that is not `async def` in this module
  nor listed as `[[coroutine]]` in `transforms/asyncio.toml`): `create_task`
  accepts coroutines only;
* a `try` around the call whose handlers cannot become `except*`: a bare
  `except:`, a handler with `return`, `break` or `continue`, or one that uses
  the exception it binds (it would get an `ExceptionGroup`);
* `gather` inside `contextlib.suppress(...)`, whose exit would not see the
  plain exception;
* `gather` used inside a larger expression (as a value).

## Fix safety
Unsafe where exceptions leave the function: on failure the other tasks are
cancelled (`gather` let them finish) and the caller receives an
`ExceptionGroup` instead of the task's own exception, so a caller's
`except E` no longer matches. Handlers inside the function are converted
(above). Results keep their order in every form.
"
);

pub struct TaskGroup;

impl Pass for TaskGroup {
    fn name(&self) -> &'static str {
        "taskgroup"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn standalone(&self) -> bool {
        true
    }
    fn interested(&self, src: &str, _tables: &Tables) -> bool {
        src.contains("gather")
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        if cx.target < TargetVersion::Py311 || cx.tables.target != Runtime::Asyncio {
            return body;
        }
        let mut plan = Plan::default();
        {
            let mut f = Finder { cx: &*cx, plan: &mut plan, trys: vec![], func: None };
            f.body(&body);
        }
        cx.diagnostics.append(&mut plan.diagnostics);
        if plan.rewrites.is_empty() {
            return body;
        }
        cx.imports.insert("asyncio".into());
        let mut rewrites = plan.rewrites;
        let stars = plan.stars;
        let sites = &mut cx.sites;
        expand_stmts(body, &mut |s| {
            let r = s.range();
            if let Some(rw) = rewrites.remove(&r) {
                sites.push(r);
                return rw.apply(s);
            }
            match s {
                Stmt::Try(t) if stars.contains(&t.range) => {
                    sites.push(TextRange::empty(t.range.start()));
                    vec![Stmt::TryStar(ast::StmtTryStar {
                        range: t.range,
                        body: t.body,
                        handlers: t.handlers,
                        orelse: t.orelse,
                        finalbody: t.finalbody,
                    })]
                }
                s => vec![s],
            }
        })
    }
}

#[derive(Default)]
struct Plan {
    /// Statements to rewrite, by range.
    rewrites: HashMap<TextRange, Rewrite>,
    /// `try` statements whose handlers become `except*`.
    stars: HashSet<TextRange>,
    diagnostics: Vec<Diagnostic>,
}

/// What a converted statement does with the results.
#[derive(Clone, Copy)]
enum Form {
    Drop,
    Assign,
    Return,
}

struct Rewrite {
    form: Form,
    tg: String,
    tasks: String,
    /// Names a `for` loop may bind in this function (comprehension
    /// variables of a dropped result): only those not used elsewhere.
    taken: HashSet<String>,
}

impl Rewrite {
    fn apply(self, s: Stmt) -> Vec<Stmt> {
        let (gather, targets) = match s {
            Stmt::Expr(e) => (unwrap_await(*e.value), None),
            Stmt::Assign(a) => (unwrap_await(*a.value), Some(a.targets)),
            Stmt::Return(r) => (unwrap_await(*r.value.expect("planned returns have a value")), None),
            _ => unreachable!("only planned statements are rewritten"),
        };
        let Expr::Call(gather) = gather else { unreachable!("planned statements await a gather call") };
        let tg = self.tg.as_str();
        let create = |e: Expr| call(attr(name(tg), "create_task"), vec![e], vec![], synth());
        let mut body = vec![];
        let mut items = vec![];
        for a in gather.args {
            match a {
                Expr::Starred(st) => {
                    let (elt, generators) = match *st.value {
                        Expr::ListComp(c) => (*c.elt, c.generators),
                        Expr::GeneratorExp(c) => (*c.elt, c.generators),
                        _ => unreachable!("planned starred arguments are comprehensions"),
                    };
                    items.push(Item::Comp(create(elt), generators));
                }
                a => items.push(Item::One(create(a))),
            }
        }
        let mut after = vec![];
        match self.form {
            Form::Drop => {
                for item in items {
                    match item {
                        Item::One(e) => body.push(expr_stmt(e)),
                        Item::Comp(e, gens) => body.push(loop_or_comp(e, gens, &self.taken)),
                    }
                }
            }
            Form::Assign | Form::Return => {
                let list = match items.len() {
                    1 if matches!(items[0], Item::Comp(..)) => match items.pop() {
                        Some(Item::Comp(e, gens)) => list_comp(e, gens),
                        _ => unreachable!(),
                    },
                    _ => Expr::List(ast::ExprList {
                        range: synth(),
                        elts: items
                            .into_iter()
                            .map(|i| match i {
                                Item::One(e) => e,
                                Item::Comp(e, gens) => Expr::Starred(ast::ExprStarred {
                                    range: synth(),
                                    value: Box::new(list_comp(e, gens)),
                                    ctx: ast::ExprContext::Load,
                                }),
                            })
                            .collect(),
                        ctx: ast::ExprContext::Load,
                    }),
                };
                body.push(Stmt::Assign(ast::StmtAssign {
                    range: synth(),
                    targets: vec![store(&self.tasks)],
                    value: Box::new(list),
                    type_comment: None,
                }));
                // [t.result() for t in tasks]
                let results = list_comp(
                    call(attr(name("t"), "result"), vec![], vec![], synth()),
                    vec![ast::Comprehension {
                        range: Default::default(),
                        target: store("t"),
                        iter: name(&self.tasks),
                        ifs: vec![],
                        is_async: false,
                    }],
                );
                after.push(match (self.form, targets) {
                    (Form::Assign, Some(targets)) => Stmt::Assign(ast::StmtAssign {
                        range: synth(),
                        targets,
                        value: Box::new(results),
                        type_comment: None,
                    }),
                    _ => Stmt::Return(ast::StmtReturn { range: synth(), value: Some(Box::new(results)) }),
                });
            }
        }
        let with = Stmt::AsyncWith(ast::StmtAsyncWith {
            range: synth(),
            items: vec![ast::WithItem {
                range: Default::default(),
                context_expr: call(dotted("asyncio.TaskGroup"), vec![], vec![], synth()),
                optional_vars: Some(Box::new(store(tg))),
            }],
            body,
            type_comment: None,
        });
        let mut out = vec![with];
        out.extend(after);
        out
    }
}

enum Item {
    One(Expr),
    Comp(Expr, Vec<ast::Comprehension>),
}

fn unwrap_await(e: Expr) -> Expr {
    match e {
        Expr::Await(a) => *a.value,
        e => e,
    }
}

fn attr(value: Expr, attr: &str) -> Expr {
    Expr::Attribute(ast::ExprAttribute {
        range: synth(),
        value: Box::new(value),
        attr: ast::Identifier::new(attr),
        ctx: ast::ExprContext::Load,
    })
}

fn store(id: &str) -> Expr {
    Expr::Name(ast::ExprName { range: synth(), id: ast::Identifier::new(id), ctx: ast::ExprContext::Store })
}

fn expr_stmt(e: Expr) -> Stmt {
    Stmt::Expr(ast::StmtExpr { range: synth(), value: Box::new(e) })
}

fn list_comp(elt: Expr, generators: Vec<ast::Comprehension>) -> Expr {
    Expr::ListComp(ast::ExprListComp { range: synth(), elt: Box::new(elt), generators })
}

/// `for u in urls: tg.create_task(f(u))` for one plain generator whose
/// variables are free in the function; else the comprehension as a
/// statement (comprehension variables do not leak; loop variables would).
fn loop_or_comp(e: Expr, gens: Vec<ast::Comprehension>, taken: &HashSet<String>) -> Stmt {
    if let [g] = gens.as_slice()
        && !g.is_async
        && target_names(&g.target).is_some_and(|ns| ns.iter().all(|n| !taken.contains(n)))
    {
        let g = gens.into_iter().next().expect("one generator");
        let mut body = vec![expr_stmt(e)];
        for cond in g.ifs.into_iter().rev() {
            body = vec![Stmt::If(ast::StmtIf { range: synth(), test: Box::new(cond), body, orelse: vec![] })];
        }
        return Stmt::For(ast::StmtFor {
            range: synth(),
            target: Box::new(g.target),
            iter: Box::new(g.iter),
            body,
            orelse: vec![],
            type_comment: None,
        });
    }
    expr_stmt(list_comp(e, gens))
}

/// The names a plain target binds (`x`, `a, b`), None for other targets.
fn target_names(t: &Expr) -> Option<Vec<String>> {
    match t {
        Expr::Name(n) => Some(vec![n.id.to_string()]),
        Expr::Tuple(tu) => {
            let mut v = vec![];
            for e in &tu.elts {
                v.extend(target_names(e)?);
            }
            Some(v)
        }
        _ => None,
    }
}

/// An enclosing `try` (the statement sits in its body).
struct EnclosingTry<'a> {
    stmt: &'a Stmt,
}

struct Finder<'a, 'b> {
    cx: &'a PassCx<'b>,
    plan: &'a mut Plan,
    trys: Vec<EnclosingTry<'a>>,
    /// The innermost function definition.
    func: Option<&'a Stmt>,
}

impl<'a> Finder<'a, '_> {
    fn body(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(ast::StmtFunctionDef { body, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { body, .. }) => {
                let trys = std::mem::take(&mut self.trys);
                let func = self.func.replace(s);
                self.body(body);
                self.func = func;
                self.trys = trys;
            }
            Stmt::ClassDef(c) => {
                let trys = std::mem::take(&mut self.trys);
                let func = self.func.take();
                self.body(&c.body);
                self.func = func;
                self.trys = trys;
            }
            Stmt::Try(_) | Stmt::TryStar(_) => {
                // The handlers cover the body only (blocks: body, handlers,
                // else, finally).
                let blocks = crate::syntax::blocks(s);
                self.trys.push(EnclosingTry { stmt: s });
                self.body(blocks[0]);
                self.trys.pop();
                for b in &blocks[1..] {
                    self.body(b);
                }
            }
            Stmt::With(w) if w.items.iter().any(|i| self.suppresses(&i.context_expr)) => {
                self.suppressed(&w.body);
            }
            Stmt::AsyncWith(w) if w.items.iter().any(|i| self.suppresses(&i.context_expr)) => {
                self.suppressed(&w.body);
            }
            s => {
                if let Some((form, gather)) = self.candidate(s) {
                    self.plan_one(s, form, gather);
                } else {
                    self.stray_gathers(s);
                }
                for b in crate::syntax::blocks(s) {
                    self.body(b);
                }
            }
        }
    }

    fn is_gather(&self, c: &ast::ExprCall) -> bool {
        self.cx.info.call(c.range).and_then(|s| s.qualname.as_deref()) == Some("asyncio.gather")
    }

    fn suppresses(&self, e: &Expr) -> bool {
        let Expr::Call(c) = e else { return false };
        self.cx.info.call(c.range).and_then(|s| s.qualname.as_deref()) == Some("contextlib.suppress")
    }

    /// Gathers under `contextlib.suppress(...)` stay as they are.
    fn suppressed(&mut self, body: &'a [Stmt]) {
        struct Gathers<'x, 'a, 'b>(&'x Finder<'a, 'b>, Vec<TextRange>);
        impl<'a> Visitor<'a> for Gathers<'_, '_, '_> {
            fn visit_expr(&mut self, e: &'a Expr) {
                if let Expr::Call(c) = e
                    && self.0.is_gather(c)
                {
                    self.1.push(c.range);
                }
                walk_expr(self, e);
            }
        }
        let mut g = Gathers(self, vec![]);
        g.visit_body(body);
        let found = g.1;
        for r in found {
            self.diag(
                r,
                "`asyncio.gather` left as it is: inside `contextlib.suppress(...)`, which would not see the plain exception a task group wraps in an `ExceptionGroup`",
            );
        }
    }

    fn diag(&mut self, r: TextRange, message: &str) {
        self.plan.diagnostics.push(Diagnostic { offset: r.start().into(), pass: "taskgroup", message: message.into() });
    }

    /// `await gather(...)` as the whole statement, assigned, or returned.
    fn candidate(&self, s: &'a Stmt) -> Option<(Form, &'a ast::ExprCall)> {
        let (form, value) = match s {
            Stmt::Expr(e) => (Form::Drop, &*e.value),
            Stmt::Assign(a) => (Form::Assign, &*a.value),
            Stmt::Return(ast::StmtReturn { value: Some(v), .. }) => (Form::Return, &**v),
            _ => return None,
        };
        let Expr::Await(aw) = value else { return None };
        let Expr::Call(c) = &*aw.value else { return None };
        self.is_gather(c).then_some((form, c))
    }

    /// Reports gathers inside larger expressions of a simple statement.
    fn stray_gathers(&mut self, s: &'a Stmt) {
        if !crate::syntax::blocks(s).is_empty() {
            // Compound statements: only their own expressions (headers).
            let mut header = s.clone();
            crate::syntax::take_blocks(&mut header);
            let mut found = vec![];
            collect_gathers(self, &header, &mut found);
            for r in found {
                self.diag(r, "`asyncio.gather` used as a value is left as it is (only `await asyncio.gather(...)` as a statement, an assignment or a `return` becomes a task group)");
            }
            return;
        }
        let mut found = vec![];
        collect_gathers(self, s, &mut found);
        for r in found {
            self.diag(r, "`asyncio.gather` used as a value is left as it is (only `await asyncio.gather(...)` as a statement, an assignment or a `return` becomes a task group)");
        }
    }

    fn plan_one(&mut self, s: &'a Stmt, form: Form, gather: &'a ast::ExprCall) {
        let r = gather.range;
        let Some(func) = self.func else { return };
        let in_async =
            self.cx.info.call(r).and_then(|c| c.ctx.func).is_some_and(|f| self.cx.colour.is_async(self.cx.info, f));
        if !in_async {
            return;
        }
        for k in &gather.keywords {
            let arg = k.arg.as_ref().map(|a| a.as_str());
            let false_const = matches!(&k.value, Expr::Constant(c) if c.value == Constant::Bool(false));
            if arg == Some("return_exceptions") && false_const {
                continue;
            }
            // `await gather(*tasks, return_exceptions=True)` as a statement
            // waits for every task and leaves each outcome in its task (what
            // the `pool` pass writes): nothing to convert, nothing to report.
            let true_const = matches!(&k.value, Expr::Constant(c) if c.value == Constant::Bool(true));
            if arg == Some("return_exceptions") && true_const && matches!(form, Form::Drop) {
                return;
            }
            let what = arg.map(|a| format!("`{a}=`")).unwrap_or_else(|| "`**kwargs`".into());
            return self
                .diag(r, &format!("`asyncio.gather` with {what} left as it is: a task group has no such option"));
        }
        if gather.args.is_empty() {
            return;
        }
        for a in &gather.args {
            if let Some(why) = self.not_a_coroutine(a) {
                return self.diag(
                    r,
                    &format!("`asyncio.gather` left as it is: {why}; `TaskGroup.create_task` takes coroutines only"),
                );
            }
        }
        let mut stars = vec![];
        for t in &self.trys {
            match t.stmt {
                Stmt::TryStar(_) => {}
                // `try: ... finally:` has no handler to change.
                Stmt::Try(tr) if tr.handlers.is_empty() => {}
                Stmt::Try(tr) => {
                    if let Some(why) = handlers_block_star(&tr.handlers) {
                        return self.diag(
                            r,
                            &format!("`asyncio.gather` left as it is: the `try` around it cannot use `except*`: {why}"),
                        );
                    }
                    stars.push(tr.range);
                }
                _ => unreachable!("only try statements are enclosing trys"),
            }
        }
        let taken = names_in(func);
        // A loop variable may reuse a name only this statement mentions.
        let outside = names_outside(func, s.range());
        let tg = fresh_name("tg", &taken);
        let tasks = fresh_name("tasks", &taken);
        self.plan.stars.extend(stars);
        self.plan.rewrites.insert(s.range(), Rewrite { form, tg, tasks, taken: outside });
    }

    /// Why `a` may not be a coroutine (None when it surely is one).
    fn not_a_coroutine(&self, a: &Expr) -> Option<String> {
        match a {
            Expr::Starred(st) => match &*st.value {
                Expr::ListComp(ast::ExprListComp { elt, generators, .. })
                | Expr::GeneratorExp(ast::ExprGeneratorExp { elt, generators, .. }) => {
                    if generators.iter().any(|g| g.is_async) {
                        return Some("an async comprehension of coroutines".into());
                    }
                    self.not_a_coroutine(elt)
                }
                _ => Some("a starred argument that is not a comprehension (it may hold futures or tasks)".into()),
            },
            Expr::Call(c) => self.cx.not_a_coroutine(c),
            _ => Some("an argument that is not a call (it may be a future or a task)".into()),
        }
    }
}

/// Names mentioned in `func` outside the statement at `skip` (plus the
/// function's own name and parameters).
fn names_outside(func: &Stmt, skip: TextRange) -> HashSet<String> {
    let mut shell = func.clone();
    let mut out = HashSet::new();
    for b in crate::syntax::blocks_mut(&mut shell) {
        for st in b.drain(..) {
            if st.range() == skip {
                continue;
            }
            let mut st = st;
            let nested = crate::syntax::blocks_mut(&mut st).into_iter().map(std::mem::take).collect::<Vec<_>>();
            out.extend(names_in(&st));
            for body in nested {
                let wrapper = Stmt::If(ast::StmtIf { range: synth(), test: Box::new(name("_")), body, orelse: vec![] });
                out.extend(names_outside(&wrapper, skip));
            }
        }
    }
    out.extend(names_in(&shell));
    out
}

fn collect_gathers(f: &Finder, s: &Stmt, out: &mut Vec<TextRange>) {
    struct V<'x, 'a, 'b>(&'x Finder<'a, 'b>, &'x mut Vec<TextRange>);
    impl<'a> Visitor<'a> for V<'_, '_, '_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e
                && self.0.is_gather(c)
            {
                self.1.push(c.range);
            }
            walk_expr(self, e);
        }
        fn visit_stmt(&mut self, s: &'a Stmt) {
            // Nested definitions are visited on their own.
            if !matches!(s, Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_)) {
                walk_stmt(self, s);
            }
        }
    }
    V(f, out).visit_stmt(s);
}

/// Why these handlers cannot become `except*` handlers, if they cannot.
fn handlers_block_star(handlers: &[ast::ExceptHandler]) -> Option<String> {
    for h in handlers {
        let ast::ExceptHandler::ExceptHandler(h) = h;
        let Some(t) = &h.type_ else {
            return Some("a bare `except:`".into());
        };
        // `except* ExceptionGroup` is an error.
        if names_in(&Stmt::Expr(ast::StmtExpr { range: synth(), value: t.clone() }))
            .iter()
            .any(|n| n.ends_with("ExceptionGroup"))
        {
            return Some("a handler catches an exception group itself".into());
        }
        if let Some(kw) = jumps_out(&h.body, false) {
            return Some(format!("a handler contains `{kw}`"));
        }
        if let Some(n) = &h.name
            && h.body.iter().any(|s| names_in(s).contains(n.as_str()))
        {
            return Some(format!("a handler uses `{n}`, which would be an `ExceptionGroup`"));
        }
        if let Some(why) = reads_current_exception(&h.body) {
            return Some(why);
        }
    }
    None
}

/// A handler that re-raises or looks at the exception being handled (a
/// bare `raise`, `logging.exception`, `traceback.print_exc()`,
/// `sys.exc_info()`): under `except*` that is an `ExceptionGroup`.
fn reads_current_exception(body: &[Stmt]) -> Option<String> {
    struct V(Option<String>);
    impl<'a> Visitor<'a> for V {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => return,
                Stmt::Raise(r) if r.exc.is_none() => {
                    self.0.get_or_insert(
                        "a handler re-raises with a bare `raise` (it would raise an `ExceptionGroup`)".into(),
                    );
                }
                _ => {}
            }
            walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e
                && let Some(f) = crate::syntax::dotted_name(&c.func)
            {
                let last = f.rsplit('.').next().unwrap_or(&f);
                if last == "exception" || f.starts_with("traceback.") || f == "sys.exc_info" || f == "sys.exception" {
                    self.0.get_or_insert(format!("a handler calls `{f}(...)`, which would see an `ExceptionGroup`"));
                }
            }
            walk_expr(self, e);
        }
    }
    let mut v = V(None);
    v.visit_body(body);
    v.0
}

/// `return` anywhere (outside nested definitions), or `break`/`continue`
/// outside a loop of the handler itself.
fn jumps_out(body: &[Stmt], in_loop: bool) -> Option<&'static str> {
    for s in body {
        match s {
            Stmt::Return(_) => return Some("return"),
            Stmt::Break(_) if !in_loop => return Some("break"),
            Stmt::Continue(_) if !in_loop => return Some("continue"),
            Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::For(ast::StmtFor { body, orelse, .. })
            | Stmt::AsyncFor(ast::StmtAsyncFor { body, orelse, .. })
            | Stmt::While(ast::StmtWhile { body, orelse, .. }) => {
                if let Some(k) = jumps_out(body, true).or_else(|| jumps_out(orelse, in_loop)) {
                    return Some(k);
                }
            }
            s => {
                for b in crate::syntax::blocks(s) {
                    if let Some(k) = jumps_out(b, in_loop) {
                        return Some(k);
                    }
                }
            }
        }
    }
    None
}
