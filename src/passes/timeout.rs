//! The `timeout` pass.

use super::{Diagnostic, Pass, PassCx};
use crate::engine::TargetVersion;
use crate::syntax::{await_, call, dotted, expand_stmts, fresh_name, name, names_in, synth};
use crate::transforms::{Runtime, Tables};
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};
use std::collections::HashSet;

crate::pass_doc!(
    "Turns `await asyncio.wait_for(aw, t)` into `async with asyncio.timeout(t):` (Python 3.11+).

## What it does
Inside `async def`, rewrites `await asyncio.wait_for(aw, t)` (also
`timeout=t`) used as a statement, as the value of an assignment or of a
`return` into the same statement awaiting `aw` directly, inside
`async with asyncio.timeout(t):`. Only runs with `--target-version py311`
or later (the default) and `--runtime asyncio`.

## Why is this bad
`wait_for` wraps the awaitable in a new task; `asyncio.timeout` is the
structured form: it cancels the awaiting code itself when the deadline
passes, and nests with other timeouts.

## Example
```python
import asyncio


async def poll(reader):
    line = await asyncio.wait_for(reader.readline(), timeout=5)
    return line
```

## Use instead
```python
import asyncio


async def poll(reader):
    async with asyncio.timeout(5):
        line = await reader.readline()
    return line
```

## Not converted (with a diagnostic)
A timeout that is not a constant, a name or an attribute: `wait_for`
evaluates the awaitable first and the timeout second, `asyncio.timeout(t)`
the other way round, so only timeouts whose evaluation has no effect are
moved.

`wait_for` inside a larger expression (`print(await wait_for(c(), 5))`)
is converted through a temporary (`async with asyncio.timeout(5): result =
await c()`, then `print(result)`) when that keeps the order of evaluation:
the call is evaluated whenever the statement runs (not under `and`/`or`, a
conditional expression, a lambda or a comprehension) and what the statement
evaluates before it is only constants, parameters and builtins. Otherwise
(`obj.send(await wait_for(...))`) it is left as it is.

A constant deadline of zero or less: on Python 3.11 `wait_for` then cancels
the awaitable before it starts, `asyncio.timeout` lets it run to its first
suspension.

## Fix safety
Safe: both raise `TimeoutError` (`asyncio.TimeoutError` is the same class
since Python 3.11) when the deadline passes, both cancel the awaitable, and
`None` means no deadline in both. One residual difference on Python 3.11
only (3.12 implements `wait_for` with `asyncio.timeout`): a deadline held in
a variable that is zero or less (see above).
"
);

pub struct Timeout;

impl Pass for Timeout {
    fn name(&self) -> &'static str {
        "timeout"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn standalone(&self) -> bool {
        true
    }
    fn interested(&self, src: &str, _tables: &Tables) -> bool {
        src.contains("wait_for")
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        if cx.target < TargetVersion::Py311 || cx.tables.target != Runtime::Asyncio {
            return body;
        }
        let mut changed = false;
        let before = cx.diagnostics.len();
        let mut taken: HashSet<String> = body.iter().flat_map(names_in).collect();
        let out = expand_stmts(body, &mut |s| match rewrite(s, cx) {
            Ok(new) => {
                changed = true;
                vec![new]
            }
            Err(s) => match nested(s, cx, &mut taken) {
                Ok(new) => {
                    changed = true;
                    new
                }
                Err(s) => vec![s],
            },
        });
        if changed {
            cx.imports.insert("asyncio".into());
        }
        // The others in async code: inside larger expressions.
        let seen: Vec<u32> = cx.diagnostics[before..].iter().map(|d| d.offset).collect();
        let info = cx.info;
        for c in &info.calls {
            let offset: u32 = c.range.start().into();
            if c.qualname.as_deref() == Some("asyncio.wait_for")
                && cx.colour.async_at(info, &c.ctx)
                && !cx.sites.iter().any(|s| s.contains_range(c.range))
                && !seen.contains(&offset)
            {
                cx.diagnostics.push(Diagnostic {
                    offset,
                    pass: "timeout",
                    message: "`asyncio.wait_for` left as it is: only `await asyncio.wait_for(...)` as a statement, an assignment or a `return` becomes `asyncio.timeout`".into(),
                });
            }
        }
        out
    }
}

/// The awaited `wait_for` call of a statement, if the statement is one of
/// the converted forms.
fn awaited_call(s: &Stmt) -> Option<&ast::ExprCall> {
    let value = match s {
        Stmt::Expr(e) => &*e.value,
        Stmt::Assign(a) => &*a.value,
        Stmt::AugAssign(a) => &*a.value,
        Stmt::Return(ast::StmtReturn { value: Some(v), .. }) => &**v,
        _ => return None,
    };
    let Expr::Await(aw) = value else { return None };
    let Expr::Call(c) = &*aw.value else { return None };
    Some(c)
}

/// The statement rewritten, or given back unchanged.
#[allow(clippy::result_large_err)]
fn rewrite(s: Stmt, cx: &mut PassCx) -> Result<Stmt, Stmt> {
    let Some(c) = awaited_call(&s) else { return Err(s) };
    let Some(site) = cx.info.call(c.range) else { return Err(s) };
    if site.qualname.as_deref() != Some("asyncio.wait_for") {
        return Err(s);
    }
    // In async code: an async function, or the `__main__` block that
    // becomes the entry point (else a second run would convert it there).
    if !cx.colour.async_at(cx.info, &site.ctx) {
        return Err(s);
    }
    let r = c.range;
    let diag = |cx: &mut PassCx, why: &str| {
        cx.diagnostics.push(Diagnostic {
            offset: r.start().into(),
            pass: "timeout",
            message: format!("`asyncio.wait_for` left as it is: {why}"),
        });
    };
    // (aw, timeout) positionally or by keyword.
    let mut aw = c.args.first();
    let mut t = c.args.get(1);
    for k in &c.keywords {
        match k.arg.as_ref().map(|a| a.as_str()) {
            Some("fut") if aw.is_none() => aw = Some(&k.value),
            Some("timeout") if t.is_none() => t = Some(&k.value),
            _ => {
                diag(cx, "unexpected arguments");
                return Err(s);
            }
        }
    }
    let (Some(_), Some(t)) = (aw, t) else {
        diag(cx, "unexpected arguments");
        return Err(s);
    };
    if c.args.len() > 2 || c.args.iter().any(|a| matches!(a, Expr::Starred(_))) {
        diag(cx, "unexpected arguments");
        return Err(s);
    }
    if !matches!(t, Expr::Constant(_) | Expr::Name(_) | Expr::Attribute(_)) {
        diag(cx, "the timeout would be evaluated before the awaitable (it is not a constant, a name or an attribute)");
        return Err(s);
    }
    if let Expr::Constant(k) = t
        && match &k.value {
            ast::Constant::Int(i) => i.to_string().starts_with('-') || i.to_string() == "0",
            ast::Constant::Float(f) => *f <= 0.0,
            _ => false,
        }
    {
        diag(
            cx,
            "a deadline of zero or less: `wait_for` then cancels the awaitable before it starts, `asyncio.timeout` lets it run to its first suspension (on Python 3.11)",
        );
        return Err(s);
    }
    let range = s.range();
    let (aw, t) = {
        let Some(Expr::Call(c)) = value_of(s.clone()) else { unreachable!("checked above") };
        let mut args = c.args.into_iter();
        let mut aw = args.next();
        let mut t = args.next();
        for k in c.keywords {
            match k.arg.as_ref().map(|a| a.as_str()) {
                Some("fut") => aw = Some(k.value),
                _ => t = Some(k.value),
            }
        }
        (aw.expect("checked"), t.expect("checked"))
    };
    let inner = with_value(s, await_(aw));
    cx.sites.push(range);
    Ok(Stmt::AsyncWith(ast::StmtAsyncWith {
        range: synth(),
        items: vec![ast::WithItem {
            range: Default::default(),
            context_expr: call(dotted("asyncio.timeout"), vec![t], vec![], synth()),
            optional_vars: None,
        }],
        body: vec![inner],
        type_comment: None,
    }))
}

/// `print(await asyncio.wait_for(c(), t))`: the awaited call goes first,
/// into a temporary under `asyncio.timeout`, and the statement uses it:
///
/// ```python
/// async with asyncio.timeout(t):
///     result = await c()
/// print(result)
/// ```
///
/// Only when that evaluates the same things in the same order: the call
/// is evaluated whenever the statement runs (not under `and`/`or`, a
/// conditional expression, a lambda or a comprehension, not in a later
/// link of a comparison chain), and everything the statement evaluates
/// before it is a constant, a parameter of the function or a builtin, whose
/// loads cannot observe the call nor be observed by it.
#[allow(clippy::result_large_err)]
fn nested(s: Stmt, cx: &mut PassCx, taken: &mut HashSet<String>) -> Result<Vec<Stmt>, Stmt> {
    let value = match &s {
        Stmt::Expr(e) => &*e.value,
        Stmt::Assign(a) => &*a.value,
        Stmt::Return(ast::StmtReturn { value: Some(v), .. }) => &**v,
        _ => return Err(s),
    };
    // The one awaited `wait_for` call of the statement.
    struct Find<'i> {
        info: &'i crate::analysis::ModuleInfo,
        hits: Vec<ast::ExprAwait>,
    }
    impl<'a> crate::syntax::visit::Visitor<'a> for Find<'_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Await(aw) = e
                && let Expr::Call(c) = &*aw.value
                && self.info.call(c.range).is_some_and(|site| site.qualname.as_deref() == Some("asyncio.wait_for"))
            {
                self.hits.push(aw.clone());
            }
            crate::syntax::visit::walk_expr(self, e);
        }
    }
    let mut find = Find { info: cx.info, hits: vec![] };
    crate::syntax::visit::Visitor::visit_expr(&mut find, value);
    let [target] = find.hits.as_slice() else { return Err(s) };
    let Expr::Call(c) = &*target.value else { return Err(s) };
    let Some(site) = cx.info.call(c.range) else { return Err(s) };
    if !cx.colour.async_at(cx.info, &site.ctx) {
        return Err(s);
    }
    // (The entry block has no parameters.)
    let params: HashSet<&str> =
        site.ctx.func.map(|f| cx.info.funcs[f].params.iter().map(String::as_str).collect()).unwrap_or_default();
    let tr = target.range;
    // The statement's whole value: the usual rewrite's case.
    if is_synth(tr) || value.range() == tr {
        return Err(s);
    }
    // The statement with the awaited call as an assignment of its own: the
    // usual rewrite then checks the call's arguments.
    let tmp = fresh_name("result", taken);
    let mut stmt = s.clone();
    let slot = match &mut stmt {
        Stmt::Expr(e) => &mut *e.value,
        Stmt::Assign(a) => &mut *a.value,
        Stmt::Return(ast::StmtReturn { value: Some(v), .. }) => &mut **v,
        _ => return Err(s),
    };
    if let Err(why) = replace_unconditional(slot, tr, &tmp, &params) {
        cx.diagnostics.push(Diagnostic {
            offset: c.range.start().into(),
            pass: "timeout",
            message: format!("`asyncio.wait_for` left as it is: {why}"),
        });
        return Err(s);
    }
    let assign = Stmt::Assign(ast::StmtAssign {
        range: synth(),
        targets: vec![Expr::Name(ast::ExprName {
            range: synth(),
            id: ast::Identifier::new(tmp.as_str()),
            ctx: ast::ExprContext::Store,
        })],
        value: Box::new(Expr::Await(target.clone())),
        type_comment: None,
    });
    match rewrite(assign, cx) {
        Ok(timed) => {
            taken.insert(tmp);
            cx.sites.push(s.range());
            Ok(vec![timed, stmt])
        }
        Err(_) => Err(s),
    }
}

fn is_synth(r: rustpython_ast::text_size::TextRange) -> bool {
    crate::syntax::is_synth(r)
}

/// Builtins whose loads have no effect the awaited call could see.
const PURE_BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bool",
    "bytes",
    "dict",
    "float",
    "format",
    "frozenset",
    "int",
    "isinstance",
    "len",
    "list",
    "max",
    "min",
    "print",
    "repr",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
];

fn pure(e: &Expr, params: &HashSet<&str>) -> bool {
    match e {
        Expr::Constant(_) => true,
        Expr::Name(n) => params.contains(n.id.as_str()) || PURE_BUILTINS.contains(&n.id.as_str()),
        _ => false,
    }
}

/// Replaces the expression at `target` inside `e` by the name `tmp`, if it
/// is evaluated unconditionally and only pure expressions come before it.
fn replace_unconditional(
    e: &mut Expr,
    target: rustpython_ast::text_size::TextRange,
    tmp: &str,
    params: &HashSet<&str>,
) -> Result<(), &'static str> {
    if e.range() == target && matches!(e, Expr::Await(_)) {
        *e = name(tmp);
        return Ok(());
    }
    const COND: &str = "inside a larger expression that may not evaluate it (`and`/`or`, a conditional, a lambda, a comprehension, a later comparison)";
    const BEFORE: &str = "inside a larger expression that evaluates something before it (other than a constant, a parameter or a builtin)";
    let kids: Vec<&mut Expr> = match e {
        Expr::Call(c) => {
            let mut v = vec![&mut *c.func];
            v.extend(c.args.iter_mut());
            v.extend(c.keywords.iter_mut().map(|k| &mut k.value));
            v
        }
        Expr::BinOp(b) => vec![&mut *b.left, &mut *b.right],
        Expr::UnaryOp(u) => vec![&mut *u.operand],
        Expr::Compare(c) => {
            let mut v = vec![&mut *c.left];
            v.extend(c.comparators.iter_mut().take(1));
            v
        }
        Expr::Tuple(t) => t.elts.iter_mut().collect(),
        Expr::List(l) => l.elts.iter_mut().collect(),
        Expr::Set(st) => st.elts.iter_mut().collect(),
        Expr::Subscript(sb) => vec![&mut *sb.value, &mut *sb.slice],
        Expr::Attribute(a) => vec![&mut *a.value],
        Expr::Starred(st) => vec![&mut *st.value],
        Expr::FormattedValue(f) => vec![&mut *f.value],
        Expr::JoinedStr(j) => j.values.iter_mut().collect(),
        _ => return Err(COND),
    };
    let mut seen_pure = true;
    for k in kids {
        let r = k.range();
        // (f-string parts share the string's range: the first that holds
        // the target by range may not, and is refused below.)
        if !is_synth(r) && r.contains_range(target) && !matches!(k, Expr::Constant(_)) {
            if !seen_pure {
                return Err(BEFORE);
            }
            return replace_unconditional(k, target, tmp, params);
        }
        seen_pure &= pure(k, params);
    }
    Err(COND)
}

/// The awaited expression of a converted statement.
fn value_of(s: Stmt) -> Option<Expr> {
    let v = match s {
        Stmt::Expr(e) => *e.value,
        Stmt::Assign(a) => *a.value,
        Stmt::AugAssign(a) => *a.value,
        Stmt::Return(r) => *r.value?,
        _ => return None,
    };
    match v {
        Expr::Await(a) => Some(*a.value),
        _ => None,
    }
}

fn with_value(s: Stmt, v: Expr) -> Stmt {
    let v = Box::new(v);
    match s {
        Stmt::Expr(e) => Stmt::Expr(ast::StmtExpr { value: v, ..e }),
        Stmt::Assign(a) => Stmt::Assign(ast::StmtAssign { value: v, ..a }),
        Stmt::AugAssign(a) => Stmt::AugAssign(ast::StmtAugAssign { value: v, ..a }),
        Stmt::Return(r) => Stmt::Return(ast::StmtReturn { value: Some(v), ..r }),
        s => s,
    }
}
