//! The `files` pass.

use super::{Diagnostic, Pass, PassCx, Seed};
use crate::analysis::ModuleInfo;
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{await_, dotted, fold_ok, synth, to_async_kind};
use crate::transforms::Tables;
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Expr, Fold, Ranged, Stmt};
use std::collections::{HashMap, HashSet};

crate::pass_doc!(
    "Turns `with open(...) as f` into `async with aiofiles.open(...) as f`.

## What it does
In functions that can become async, a `with` statement whose items are all
`open(...)` calls bound to names (`with open(a) as f, open(b) as g:`)
becomes `async with aiofiles.open(...) as f`, with the same arguments, when
every use of each file in the block is one the pass can rewrite:
* `f.read/readline/readlines/write/writelines/seek/tell/flush/truncate/
  close(...)` -> `await f.<method>(...)`;
* `for line in f:` -> `async for line in f:`, and a list, set or dict
  comprehension over `f` becomes an async comprehension;
* `json.load(f)` -> `json.loads(await f.read())`, `json.dump(obj, f, **kw)`
  -> `await f.write(json.dumps(obj, **kw))`;
* `f.name`, `f.mode`, `f.closed` stay as they are.

Files opened without `with` are converted when they are surely closed:
* `f = open(...)` directly followed by `try: ... finally: f.close()` (the
  name used nowhere else in the function) -> `f = await
  aiofiles.open(...)`, its uses as above, `await f.close()`;
* a one-liner, one read or write in an assignment, a `return` or an
  expression statement (`data = open(p).read()`, `open(p, \"w\").write(s)`,
  `cfg = json.load(open(p))`) -> `async with aiofiles.open(p) as f:` around
  the statement, which reads `await f.read()` (CPython closes such a file
  at the end of the statement too); the file gets a name free in the module.
The function becomes `async def` and its callers are converted by `colour`.

With `--runtime trio` or `anyio` the opener is `await trio.open_file(...)` /
`await anyio.open_file(...)` and `f.close()` is `await f.aclose()`.

## Why is this bad
File reads and writes block the event loop while the disk works.

## Example
```python
def load(path):
    with open(path, encoding=\"utf-8\") as f:
        return f.read()
```

## Use instead
```python
import aiofiles


async def load(path):
    async with aiofiles.open(path, encoding=\"utf-8\") as f:
        return await f.read()
```

## Not converted
A file handed to anything else (`csv.reader(f)`, `print(..., file=f)`,
`pickle.load(f)`, `enumerate(f)`, a generator expression, a nested
function, any unknown call) keeps its whole `with` block sync: a file object
is never half converted. An unmanaged file not closed in a `finally` (an
exception would leave it open), a one-liner whose open runs only under a
condition (`x if c else open(p).read()`, `and`/`or`, a comprehension, a
lambda) or after another call of the statement (`(t(), open(p).read())`:
the `async with` would open it first), and two files in one statement are
left as they are. If such a file ends up in an async function, a
diagnostic says so.

## Fix safety
Safe for the uses above: aiofiles runs the same file operations in a
worker thread, with the same arguments, encoding and newline handling.
"
);

pub struct Files;

const AWAITED: &[&str] =
    &["read", "readline", "readlines", "write", "writelines", "seek", "tell", "flush", "truncate", "close"];
const PLAIN: &[&str] = &["name", "mode", "closed"];

/// How one use of a file is rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    /// `f.read()` (the call).
    Await,
    /// `for x in f` (the for statement).
    For,
    /// A comprehension generator over `f` (its iter expression).
    Comp,
    /// `json.load(f)` (the call).
    JsonLoad,
    /// `json.dump(obj, f, ...)` (the call).
    JsonDump,
}

#[derive(Debug, Default)]
struct Facts {
    /// Convertible with statements -> their open calls.
    withs: HashMap<TextRange, Vec<TextRange>>,
    /// Rewrites at use sites (by range of the node named in `Use`).
    uses: HashMap<TextRange, Use>,
    /// Open calls left as they are, with the reason.
    left: Vec<(TextRange, String)>,
    /// `f = open(...)` directly followed by `try: ... finally: f.close()`:
    /// the try statement -> the open call (awaited in place).
    unmanaged: HashMap<TextRange, TextRange>,
    /// One-liners (`data = open(p).read()`): the statement -> the open call
    /// and the name of the file in the `async with` around the statement.
    oneliners: HashMap<TextRange, (TextRange, String)>,
}

impl Facts {
    /// The open calls of a convertible block (a `with`, an unmanaged file's
    /// `try`, a one-liner's statement), by the block's range.
    fn blocks(&self) -> Vec<(TextRange, Vec<TextRange>)> {
        let mut out: Vec<(TextRange, Vec<TextRange>)> = self.withs.iter().map(|(w, c)| (*w, c.clone())).collect();
        out.extend(self.unmanaged.iter().map(|(t, c)| (*t, vec![*c])));
        out.extend(self.oneliners.iter().map(|(st, (c, _))| (*st, vec![*c])));
        out.sort_by_key(|(r, _)| (r.start(), r.end()));
        out
    }
}

fn is_open(info: &ModuleInfo, e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if info.call(c.range).and_then(|c| c.qualname.as_deref()).is_some_and(|q| q == "builtins.open" || q == "io.open"))
}

fn qual<'a>(info: &'a ModuleInfo, e: &Expr) -> Option<&'a str> {
    match e {
        Expr::Call(c) => info.call(c.range).and_then(|c| c.qualname.as_deref()),
        _ => None,
    }
}

/// Finds the uses of the file names in a with body and classifies them.
struct Uses<'a> {
    info: &'a ModuleInfo,
    names: HashSet<String>,
    uses: HashMap<TextRange, Use>,
    bad: Option<(TextRange, String)>,
    /// Name expressions accounted for by a classified use.
    ok_names: HashSet<TextRange>,
}

impl Uses<'_> {
    fn file(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.names.contains(n.id.as_str()))
    }
    fn fail(&mut self, r: TextRange, why: String) {
        if self.bad.is_none() {
            self.bad = Some((r, why));
        }
    }
}

impl<'a> Visitor<'a> for Uses<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {
                // A nested scope that mentions the file would hold it past the block.
                if crate::syntax::mentions_stmt(s, &self.names) {
                    self.fail(s.range(), "the file is used in a nested function or class".into());
                }
                return;
            }
            Stmt::For(f) if crate::syntax::mentions(&f.target, &self.names) => {
                self.fail(f.target.range(), "the file's name is rebound in the block".into());
            }
            Stmt::For(f) if self.file(&f.iter) => {
                self.uses.insert(s.range(), Use::For);
                self.ok_names.insert(f.iter.range());
            }
            Stmt::Assign(a) => {
                for t in &a.targets {
                    if self.file(t) {
                        self.fail(t.range(), "the file's name is rebound in the block".into());
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, s);
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) => {
                // The top level of a `__main__` block is async code when the
                // block becomes the entry point (its `open` is converted then
                // only; see `engine::GUARD_PASSES`).
                if !self.info.call(c.range).is_some_and(|s| s.ctx.awaitable() || s.ctx.main_guard_call()) {
                    return walk_expr(self, e);
                }
                if let Expr::Attribute(a) = &*c.func
                    && self.file(&a.value)
                {
                    if AWAITED.contains(&a.attr.as_str()) {
                        self.uses.insert(c.range, Use::Await);
                        self.ok_names.insert(a.value.range());
                    }
                } else if qual(self.info, e) == Some("json.load")
                    && c.args.len() == 1
                    && c.keywords.is_empty()
                    && self.file(&c.args[0])
                {
                    self.uses.insert(c.range, Use::JsonLoad);
                    self.ok_names.insert(c.args[0].range());
                } else if qual(self.info, e) == Some("json.dump")
                    && c.args.len() == 2
                    && c.keywords.iter().all(|k| k.arg.is_some())
                    && self.file(&c.args[1])
                    && !self.file(&c.args[0])
                {
                    self.uses.insert(c.range, Use::JsonDump);
                    self.ok_names.insert(c.args[1].range());
                }
            }
            // Plain attributes stay; methods only as calls (above).
            Expr::Attribute(a) if self.file(&a.value) && PLAIN.contains(&a.attr.as_str()) => {
                self.ok_names.insert(a.value.range());
            }
            Expr::Lambda(_) | Expr::GeneratorExp(_) if crate::syntax::mentions(e, &self.names) => {
                self.fail(
                    e.range(),
                    "the file is used in a lambda or generator expression, where `await` cannot go".into(),
                );
                return;
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) => {
                let gens = crate::syntax::comprehension_generators(e).unwrap_or_default();
                for g in gens {
                    if self.file(&g.iter) {
                        self.uses.insert(g.iter.range(), Use::Comp);
                        self.ok_names.insert(g.iter.range());
                    }
                }
            }
            Expr::Name(n) if self.names.contains(n.id.as_str()) && !self.ok_names.contains(&e.range()) => {
                self.fail(e.range(), format!("`{}` is handed to code that needs a sync file", n.id));
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

/// Whether `e` contains the expression at `r`. A node an earlier pass
/// wrote (`await asyncio.sleep(...)`) has no range: look inside.
fn holds(e: &Expr, r: TextRange) -> bool {
    if !crate::syntax::is_synth(e.range()) {
        return e.range().contains_range(r);
    }
    struct Find(TextRange, bool);
    impl<'a> Visitor<'a> for Find {
        fn visit_expr(&mut self, e: &'a Expr) {
            if self.1 {
                return;
            }
            if crate::syntax::is_synth(e.range()) {
                walk_expr(self, e);
            } else if e.range().contains_range(self.0) {
                self.1 = true;
            }
        }
    }
    let mut f = Find(r, false);
    walk_expr(&mut f, e);
    f.1
}

/// Where a one-liner's file is used: the call that reads or writes it
/// (`open(p).read()`, `json.load(open(p))`), if the open is evaluated
/// whenever the statement runs (not under a condition, in a lambda or a
/// comprehension). Ok(None): `open` is not in `e`.
fn oneliner_use(info: &ModuleInfo, e: &Expr, open: TextRange) -> Result<Option<(TextRange, Use)>, String> {
    if !holds(e, open) {
        return Ok(None);
    }
    if let Expr::Call(c) = e {
        if let Expr::Attribute(a) = &*c.func
            && a.value.range() == open
        {
            return if AWAITED.contains(&a.attr.as_str()) {
                Ok(Some((c.range, Use::Await)))
            } else {
                Err(format!("`open(...).{}` is not converted", a.attr))
            };
        }
        if qual(info, e) == Some("json.load") && c.args.len() == 1 && c.keywords.is_empty() && c.args[0].range() == open
        {
            return Ok(Some((c.range, Use::JsonLoad)));
        }
    }
    if e.range() == open {
        return Err("the file is used other than by one read or write on it".into());
    }
    // The children always evaluated when `e` is.
    let children: Vec<&Expr> = match e {
        Expr::Call(c) => std::iter::once(&*c.func).chain(&c.args).chain(c.keywords.iter().map(|k| &k.value)).collect(),
        Expr::Attribute(a) => vec![&a.value],
        Expr::Subscript(x) => vec![&x.value, &x.slice],
        Expr::BinOp(b) => vec![&b.left, &b.right],
        Expr::UnaryOp(u) => vec![&u.operand],
        Expr::Tuple(t) => t.elts.iter().collect(),
        Expr::List(t) => t.elts.iter().collect(),
        Expr::Set(t) => t.elts.iter().collect(),
        Expr::Dict(d) => d.keys.iter().flatten().chain(&d.values).collect(),
        Expr::JoinedStr(j) => j.values.iter().collect(),
        Expr::FormattedValue(f) => vec![&f.value],
        Expr::Starred(x) => vec![&x.value],
        Expr::Await(x) => vec![&x.value],
        Expr::Compare(c) => vec![&c.left],
        Expr::BoolOp(b) => b.values.iter().take(1).collect(),
        _ => vec![],
    };
    for c in children {
        if holds(c, open) {
            return oneliner_use(info, c, open);
        }
    }
    Err("the file is opened under a condition or in a nested scope (a lambda, a comprehension)".into())
}

fn collect(body: &[Stmt], info: &ModuleInfo) -> Facts {
    struct Finder<'a> {
        info: &'a ModuleInfo,
        facts: Facts,
        /// The bodies of the enclosing functions.
        funcs: Vec<&'a [Stmt]>,
        /// Open calls with a verdict (converted or left with a reason).
        handled: HashSet<TextRange>,
        /// Every name of the module (a one-liner's file needs a free one).
        names: HashSet<String>,
    }
    impl<'a> Finder<'a> {
        fn left(&mut self, r: TextRange, why: impl Into<String>) {
            self.handled.insert(r);
            self.facts.left.push((r, why.into()));
        }
        /// `f = open(...)` followed by `try: ... finally: f.close()`.
        fn unmanaged(&mut self, assign: &'a Stmt, next: Option<&'a Stmt>) {
            let Stmt::Assign(a) = assign else { return };
            let call = a.value.range();
            let [Expr::Name(n)] = &a.targets[..] else {
                return self.left(
                    call,
                    "a file opened other than by `with open(...) as f` or `f = open(...)` is not converted",
                );
            };
            let Some(Stmt::Try(t)) = next.filter(
                |t| matches!(t, Stmt::Try(t) if t.finalbody.first().is_some_and(|c| crate::syntax::is_close_of(c, n.id.as_str()))),
            ) else {
                return self.left(
                    call,
                    "`f = open(...)` is converted only when `try: ... finally: f.close()` follows at once (otherwise an exception could leave the file open)",
                );
            };
            let names: HashSet<String> = [n.id.to_string()].into();
            let mut u = Uses {
                info: self.info,
                names: names.clone(),
                uses: HashMap::new(),
                bad: None,
                ok_names: HashSet::new(),
            };
            u.visit_stmt(next.expect("matched above"));
            // The name must not be used anywhere else in the function.
            struct Outside<'n> {
                name: &'n str,
                span: TextRange,
                hit: bool,
            }
            impl<'b> Visitor<'b> for Outside<'_> {
                fn visit_stmt(&mut self, s: &'b Stmt) {
                    if let Stmt::Global(ast::StmtGlobal { names, .. }) | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) =
                        s
                        && names.iter().any(|x| x.as_str() == self.name)
                    {
                        self.hit = true;
                    }
                    walk_stmt(self, s);
                }
                fn visit_expr(&mut self, e: &'b Expr) {
                    if let Expr::Name(x) = e
                        && x.id.as_str() == self.name
                        && !self.span.contains_range(x.range)
                    {
                        self.hit = true;
                    }
                    walk_expr(self, e);
                }
            }
            let mut o = Outside {
                name: n.id.as_str(),
                span: TextRange::new(assign.range().start(), t.range.end()),
                hit: false,
            };
            if let Some(f) = self.funcs.last() {
                o.visit_body(f);
            }
            match u.bad {
                Some((_, why)) => self.left(call, why),
                None if o.hit => {
                    self.left(call, format!("`{}` is used outside the statements that open and close the file", n.id))
                }
                None => {
                    self.handled.insert(call);
                    self.facts.uses.extend(u.uses);
                    self.facts.unmanaged.insert(t.range, call);
                }
            }
        }
        /// `x = open(p).read()`, `return json.load(open(p))`, `open(p, "w").write(s)`.
        fn oneliner(&mut self, s: &'a Stmt, value: &'a Expr) {
            // The opens, and whether a call finished before the first one
            // started (by evaluation order, not offsets: the call may be a
            // new node of an earlier pass, `await asyncio.sleep(...)`,
            // which has no place in the source; a second run sees it as
            // an ordinary call and must decide the same).
            struct Opens<'i> {
                info: &'i ModuleInfo,
                opens: Vec<TextRange>,
                finished: usize,
                call_before: bool,
            }
            impl<'b> Visitor<'b> for Opens<'_> {
                fn visit_expr(&mut self, e: &'b Expr) {
                    let Expr::Call(c) = e else { return walk_expr(self, e) };
                    if is_open(self.info, e) {
                        if self.opens.is_empty() {
                            self.call_before = self.finished > 0;
                        }
                        self.opens.push(c.range);
                    }
                    walk_expr(self, e);
                    self.finished += 1;
                }
            }
            let mut o = Opens { info: self.info, opens: vec![], finished: 0, call_before: false };
            o.visit_expr(value);
            let call_before = o.call_before;
            let opens = o.opens;
            if opens.len() > 1 {
                for c in opens {
                    self.left(c, "several files opened in one statement are not converted");
                }
                return;
            }
            let Some(&open) = opens.first() else { return };
            if self.handled.contains(&open) {
                return;
            }
            if call_before {
                return self
                    .left(open, "a call before `open` in the same statement would run after the file is opened");
            }
            match oneliner_use(self.info, value, open) {
                Ok(Some((site, use_))) => {
                    self.handled.insert(open);
                    let name = crate::syntax::fresh_name("f", &self.names);
                    self.facts.uses.insert(site, use_);
                    self.facts.oneliners.insert(s.range(), (open, name));
                }
                Ok(None) => {}
                Err(why) => self.left(open, why),
            }
        }
    }
    impl<'a> Visitor<'a> for Finder<'a> {
        fn visit_body(&mut self, body: &'a [Stmt]) {
            for (j, s) in body.iter().enumerate() {
                if let Stmt::Assign(a) = s
                    && is_open(self.info, &a.value)
                    && !self.funcs.is_empty()
                {
                    self.unmanaged(s, body.get(j + 1));
                }
            }
            for s in body {
                self.visit_stmt(s);
            }
        }
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(ast::StmtFunctionDef { body, .. })
                | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { body, .. }) => {
                    self.funcs.push(body);
                    walk_stmt(self, s);
                    self.funcs.pop();
                    return;
                }
                // Also at the top level of the `__main__` block, which may
                // become the program's one async function (the rewrite is
                // made only if it does: `async_at`).
                Stmt::Assign(ast::StmtAssign { value, .. }) | Stmt::Expr(ast::StmtExpr { value, .. })
                    if !self.funcs.is_empty() || self.info.main_guard.is_some_and(|g| g.contains_range(s.range())) =>
                {
                    self.oneliner(s, value)
                }
                Stmt::Return(ast::StmtReturn { value: Some(value), .. }) if !self.funcs.is_empty() => {
                    self.oneliner(s, value)
                }
                _ => {}
            }
            if let Stmt::With(w) = s {
                let opens: Vec<&ast::WithItem> =
                    w.items.iter().filter(|it| is_open(self.info, &it.context_expr)).collect();
                if !opens.is_empty() {
                    let calls: Vec<TextRange> = opens.iter().map(|it| it.context_expr.range()).collect();
                    let all_named = opens.len() == w.items.len()
                        && w.items.iter().all(|it| matches!(it.optional_vars.as_deref(), Some(Expr::Name(_))));
                    let why = if !all_named {
                        Some((
                            w.range,
                            "only `with open(...) as name` items (and nothing else in the same `with`) are converted"
                                .to_string(),
                        ))
                    } else {
                        let names = w
                            .items
                            .iter()
                            .filter_map(|it| match it.optional_vars.as_deref() {
                                Some(Expr::Name(n)) => Some(n.id.to_string()),
                                _ => None,
                            })
                            .collect();
                        let mut u =
                            Uses { info: self.info, names, uses: HashMap::new(), bad: None, ok_names: HashSet::new() };
                        // Arguments of later items may use earlier files.
                        w.items.iter().for_each(|it| u.visit_expr(&it.context_expr));
                        u.visit_body(&w.body);
                        match u.bad {
                            Some(b) => Some(b),
                            None => {
                                self.facts.uses.extend(u.uses);
                                None
                            }
                        }
                    };
                    match why {
                        None => {
                            self.handled.extend(calls.iter().copied());
                            self.facts.withs.insert(w.range, calls);
                        }
                        Some((_, why)) => {
                            for c in calls {
                                self.left(c, why.clone());
                            }
                        }
                    }
                }
            }
            walk_stmt(self, s);
        }
    }
    let mut names = HashSet::new();
    for s in body {
        names.extend(crate::syntax::names_in(s));
    }
    let mut f = Finder { info, facts: Facts::default(), funcs: vec![], handled: HashSet::new(), names };
    f.visit_body(body);
    // Opens with no verdict yet.
    for c in &info.calls {
        if c.qualname.as_deref().is_some_and(|q| q == "builtins.open" || q == "io.open")
            && !f.handled.contains(&c.range)
        {
            f.facts.left.push((
                c.range,
                "a file opened other than by `with open(...) as f`, `f = open(...)` with `try: ... finally: f.close()`, or one read or write in a statement (`open(p).read()`) is not converted".into(),
            ));
        }
    }
    f.facts
}

impl Pass for Files {
    fn name(&self) -> &'static str {
        "files"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn interested(&self, src: &str, _tables: &Tables) -> bool {
        // Every form converted calls `open(` (a cheap text test; a spelling
        // it misses is left as it is).
        src.contains("open(")
    }
    fn seeds(&self, body: &[Stmt], info: &ModuleInfo, _tables: &Tables, _diags: &mut Vec<Diagnostic>) -> Vec<Seed> {
        let facts = collect(body, info);
        let mut out = vec![];
        for (w, calls) in facts.blocks() {
            for c in calls {
                out.push(Seed {
                    call: c,
                    pass: "files",
                    what: "open".into(),
                    group: Some(format!("with{w:?}")),
                    veto: false,
                });
            }
        }
        out.sort_by_key(|s| s.call.start());
        out
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        let facts = collect(&body, cx.info);
        // Opens left sync in functions that are async now: say so.
        let mut left = facts.left.clone();
        left.sort_by_key(|(r, _)| r.start());
        for (r, why) in &left {
            if let Some(site) = cx.info.call(*r)
                && (site.ctx.func.is_some_and(|f| cx.colour.is_async(cx.info, f))
                    || cx.colour.async_at(cx.info, &site.ctx))
            {
                cx.diagnostics.push(Diagnostic {
                    offset: r.start().into(),
                    pass: "files",
                    message: format!("`open` left blocking in an async function: {why}"),
                });
            }
        }
        let live: HashSet<TextRange> = facts
            .blocks()
            .into_iter()
            .filter(|(_, calls)| calls.iter().all(|c| cx.colour.seeds_ok.contains(c)))
            .map(|(w, _)| w)
            .collect();
        if live.is_empty() {
            return body;
        }
        let mut f = Folder { cx, facts: &facts, live: &live, depth: 0, in_live: 0, opener: None };
        body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect()
    }
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
    facts: &'a Facts,
    live: &'a HashSet<TextRange>,
    depth: usize,
    /// Inside a converted with block (uses apply only there).
    in_live: usize,
    /// The opener of the one-liner being rewritten (its `open(...)` became
    /// the file's name).
    opener: Option<Expr>,
}

impl Fold<TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let range = s.range();
        let live = self.live.contains(&range);
        let for_use = self.in_live > 0 && self.facts.uses.get(&range) == Some(&Use::For);
        if live {
            self.in_live += 1;
        }
        self.depth += 1;
        let s = ast::fold::fold_stmt(self, s)?;
        self.depth -= 1;
        if live {
            self.in_live -= 1;
        }
        if (live && matches!(s, Stmt::With(_))) || for_use {
            self.cx.sites.push(TextRange::empty(range.start()));
        }
        let s = match s {
            Stmt::With(mut w) if live => {
                self.cx.sites.extend(w.items.iter().map(|it| it.context_expr.range()));
                for it in &mut w.items {
                    let open = std::mem::replace(&mut it.context_expr, crate::syntax::name("_"));
                    it.context_expr = match open {
                        Expr::Call(c) => crate::runtime::open_file(self.cx.tables, c, &mut self.cx.imports),
                        e => e,
                    };
                }
                to_async_kind(Stmt::With(w))
            }
            s if live && self.facts.oneliners.contains_key(&range) => {
                // `async with <opener> as f: <the statement, reading f>`.
                let (_, name) = &self.facts.oneliners[&range];
                self.cx.sites.push(range);
                let opener = self.opener.take().unwrap_or_else(|| crate::syntax::name("_"));
                let target = Expr::Name(ast::ExprName {
                    range: synth(),
                    id: ast::Identifier::new(name.as_str()),
                    ctx: ast::ExprContext::Store,
                });
                Stmt::AsyncWith(ast::StmtAsyncWith {
                    range: synth(),
                    items: vec![ast::WithItem {
                        range: Default::default(),
                        context_expr: opener,
                        optional_vars: Some(Box::new(target)),
                    }],
                    body: vec![s],
                    type_comment: None,
                })
            }
            s if for_use => to_async_kind(s),
            s => s,
        };
        Ok(s)
    }

    fn fold_comprehension(&mut self, c: ast::Comprehension) -> Result<ast::Comprehension, std::convert::Infallible> {
        let comp = self.in_live > 0 && self.facts.uses.get(&c.iter.range()) == Some(&Use::Comp);
        let mut c = ast::fold::fold_comprehension(self, c)?;
        if comp {
            c.is_async = true;
            self.cx.sites.push(c.iter.range());
        }
        Ok(c)
    }

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        let use_ = if self.in_live > 0 { self.facts.uses.get(&range).copied() } else { None };
        let e = ast::fold::fold_expr(self, e)?;
        let Expr::Call(c) = e else { return Ok(e) };
        // An unmanaged file: `f = await aiofiles.open(...)`.
        if self.facts.unmanaged.iter().any(|(t, &o)| o == range && self.live.contains(t)) {
            self.cx.sites.push(range);
            let opener = crate::runtime::open_file(self.cx.tables, c, &mut self.cx.imports);
            return Ok(if matches!(opener, Expr::Await(_)) { opener } else { await_(opener) });
        }
        if self.in_live > 0 {
            // A one-liner's file: its name in the `async with` around the statement.
            if let Some((_, name)) = self.facts.oneliners.values().find(|(o, _)| *o == range) {
                self.cx.sites.push(range);
                self.opener = Some(crate::runtime::open_file(self.cx.tables, c, &mut self.cx.imports));
                return Ok(crate::syntax::name(name));
            }
        }
        if use_.is_some() {
            self.cx.sites.push(range);
        }
        Ok(match use_ {
            Some(Use::Await) => await_(self.file_method(c)),
            Some(Use::JsonLoad) => {
                // json.load(f) -> json.loads(await f.read())
                let file = c.args.into_iter().next().unwrap_or_else(|| crate::syntax::name("f"));
                let read = await_(method(file, "read", vec![], vec![]));
                let func = match *c.func {
                    Expr::Attribute(a) => {
                        Expr::Attribute(ast::ExprAttribute { range: synth(), attr: ast::Identifier::new("loads"), ..a })
                    }
                    _ => dotted("json.loads"),
                };
                if !matches!(func, Expr::Attribute(_)) {
                    self.cx.imports.insert("json".into());
                }
                crate::syntax::call(func, vec![read], vec![], range)
            }
            Some(Use::JsonDump) => {
                // json.dump(obj, f, **kw) -> await f.write(json.dumps(obj, **kw))
                let mut args = c.args.into_iter();
                let obj = args.next().unwrap_or_else(|| crate::syntax::name("None"));
                let file = args.next().unwrap_or_else(|| crate::syntax::name("f"));
                let func = match *c.func {
                    Expr::Attribute(a) => {
                        Expr::Attribute(ast::ExprAttribute { range: synth(), attr: ast::Identifier::new("dumps"), ..a })
                    }
                    _ => {
                        self.cx.imports.insert("json".into());
                        dotted("json.dumps")
                    }
                };
                let dumps = crate::syntax::call(func, vec![obj], c.keywords, synth());
                await_(method(file, "write", vec![dumps], vec![]))
            }
            _ => Expr::Call(c),
        })
    }
}

impl Folder<'_, '_> {
    /// A file method call, renamed where the runtime's file object differs
    /// (`f.close()` is `f.aclose()` in trio and anyio).
    fn file_method(&self, mut c: ast::ExprCall) -> Expr {
        let close = &self.cx.tables.rt().file_close;
        if let Expr::Attribute(a) = &mut *c.func
            && a.attr.as_str() == "close"
            && close != "close"
        {
            a.attr = ast::Identifier::new(close.as_str());
            a.range = synth();
        }
        Expr::Call(c)
    }
}

fn method(recv: Expr, name: &str, args: Vec<Expr>, keywords: Vec<ast::Keyword>) -> Expr {
    let func = Expr::Attribute(ast::ExprAttribute {
        range: synth(),
        value: Box::new(recv),
        attr: ast::Identifier::new(name),
        ctx: ast::ExprContext::Load,
    });
    crate::syntax::call(func, args, keywords, synth())
}
