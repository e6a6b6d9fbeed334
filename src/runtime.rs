//! The calls whose spelling depends on the target runtime (`--runtime`,
//! `transforms/runtimes.toml`): running a blocking function in a thread,
//! running the entry point, opening a file. Every pass builds them here, so
//! a runtime is one table row, not a branch in each pass.

use crate::syntax::{await_, call, dotted, synth};
use crate::transforms::Tables;
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr};
use std::collections::BTreeSet;

/// The module a dotted name needs imported (`trio.to_thread.run_sync` -> `trio`).
pub fn module_of(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_string()
}

fn partial(func: Expr, args: Vec<Expr>, keywords: Vec<ast::Keyword>, imports: &mut BTreeSet<String>) -> Expr {
    imports.insert("functools".into());
    let mut all = vec![func];
    all.extend(args);
    call(dotted("functools.partial"), all, keywords, synth())
}

/// `await asyncio.to_thread(func, *args, **kw)`, or
/// `await trio.to_thread.run_sync(functools.partial(func, **kw), *args)`
/// where the runtime's function takes no keyword arguments.
pub fn to_thread(
    tables: &Tables,
    func: Expr,
    args: Vec<Expr>,
    keywords: Vec<ast::Keyword>,
    range: TextRange,
    imports: &mut BTreeSet<String>,
) -> Expr {
    let rt = tables.rt();
    imports.insert(module_of(&rt.to_thread));
    let (func, keywords) = if keywords.is_empty() || rt.to_thread_keywords {
        (func, keywords)
    } else {
        (partial(func, vec![], keywords, imports), vec![])
    };
    let mut all = vec![func];
    all.extend(args);
    await_(call(dotted(&rt.to_thread), all, keywords, range))
}

/// The entry point: `asyncio.run(main())`, `trio.run(main, *args)`, or
/// `trio.run(functools.partial(main, *args, **kw))`.
pub fn run_entry(tables: &Tables, entry: Expr, imports: &mut BTreeSet<String>) -> Expr {
    let rt = tables.rt();
    imports.insert(module_of(&rt.run));
    if rt.run_takes_coroutine {
        return call(dotted(&rt.run), vec![entry], vec![], synth());
    }
    let Expr::Call(c) = entry else {
        unreachable!("entry points are calls");
    };
    let args = if c.keywords.is_empty() {
        let mut all = vec![*c.func];
        all.extend(c.args);
        all
    } else {
        vec![partial(*c.func, c.args, c.keywords, imports)]
    };
    call(dotted(&rt.run), args, vec![], synth())
}

/// The opener of `with open(...)` turned async: `aiofiles.open(...)` or
/// `await trio.open_file(...)`, with the call's arguments.
pub fn open_file(tables: &Tables, open: ast::ExprCall, imports: &mut BTreeSet<String>) -> Expr {
    let rt = tables.rt();
    imports.insert(module_of(&rt.open_file));
    let c = Expr::Call(ast::ExprCall { func: Box::new(dotted(&rt.open_file)), ..open });
    if rt.open_file_awaited { await_(c) } else { c }
}
