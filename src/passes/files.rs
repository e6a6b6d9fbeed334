//! The `files` pass.

use super::{Diagnostic, Pass, PassCx, Seed};
use crate::analysis::ModuleInfo;
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{await_, dotted, fold_ok, synth, to_async_kind};
use crate::transforms::Tables;
use rustpython_parser::ast::{self, Expr, Fold, Ranged, Stmt};
use rustpython_parser::text_size::TextRange;
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
is never half converted. Unmanaged files (`f = open(p)` ... `f.close()`)
and one-liners (`open(p).read()`) are left as they are. If such a block
ends up in an async function, a diagnostic says so.

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
                let mut m = Mentions(&self.names, false);
                m.visit_stmt(s);
                if m.1 {
                    self.fail(s.range(), "the file is used in a nested function or class".into());
                }
                return;
            }
            Stmt::For(f) if mentions(&f.target, &self.names) => {
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
                if !self.info.call(c.range).is_some_and(|s| s.ctx.awaitable()) {
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
            Expr::Lambda(_) | Expr::GeneratorExp(_) if mentions(e, &self.names) => {
                self.fail(
                    e.range(),
                    "the file is used in a lambda or generator expression, where `await` cannot go".into(),
                );
                return;
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) => {
                let gens = match e {
                    Expr::ListComp(c) => &c.generators,
                    Expr::SetComp(c) => &c.generators,
                    Expr::DictComp(c) => &c.generators,
                    _ => unreachable!("matched above"),
                };
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

/// Finds whether any of the names occurs (in an expression or statement).
struct Mentions<'n>(&'n HashSet<String>, bool);
impl<'b> Visitor<'b> for Mentions<'_> {
    fn visit_expr(&mut self, e: &'b Expr) {
        if let Expr::Name(n) = e
            && self.0.contains(n.id.as_str())
        {
            self.1 = true;
        }
        walk_expr(self, e);
    }
}

fn mentions(e: &Expr, names: &HashSet<String>) -> bool {
    let mut m = Mentions(names, false);
    m.visit_expr(e);
    m.1
}

fn collect(body: &[Stmt], info: &ModuleInfo) -> Facts {
    struct Finder<'a> {
        info: &'a ModuleInfo,
        facts: Facts,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
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
                            self.facts.withs.insert(w.range, calls);
                        }
                        Some((_, why)) => {
                            for c in calls {
                                self.facts.left.push((c, why.clone()));
                            }
                        }
                    }
                }
            } else if let Stmt::Expr(_) | Stmt::Assign(_) | Stmt::Return(_) = s {
                // Unmanaged opens are found by the expression visitor below.
            }
            walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            walk_expr(self, e);
        }
    }
    let mut f = Finder { info, facts: Facts::default() };
    f.visit_body(body);
    // Opens that are not the items of a convertible `with`.
    let managed: HashSet<TextRange> =
        f.facts.withs.values().flatten().copied().chain(f.facts.left.iter().map(|(r, _)| *r)).collect();
    for c in &info.calls {
        if c.qualname.as_deref().is_some_and(|q| q == "builtins.open" || q == "io.open") && !managed.contains(&c.range)
        {
            f.facts.left.push((c.range, "a file opened outside `with open(...) as f` is not converted yet".into()));
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
        // Only `with open(...)` blocks are converted (a cheap text test; a
        // spelling it misses is left as it is).
        src.contains("with open(") || src.contains("with io.open(")
    }
    fn seeds(&self, body: &[Stmt], info: &ModuleInfo, _tables: &Tables, _diags: &mut Vec<Diagnostic>) -> Vec<Seed> {
        let facts = collect(body, info);
        let mut out = vec![];
        for (w, calls) in &facts.withs {
            for c in calls {
                out.push(Seed {
                    call: *c,
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
                && let Some(f) = site.ctx.func
                && cx.colour.is_async(cx.info, f)
            {
                cx.diagnostics.push(Diagnostic {
                    offset: r.start().into(),
                    pass: "files",
                    message: format!("`open` left blocking in an async function: {why}"),
                });
            }
        }
        let live: HashSet<TextRange> = facts
            .withs
            .iter()
            .filter(|(_, calls)| calls.iter().all(|c| cx.colour.seeds_ok.contains(c)))
            .map(|(w, _)| *w)
            .collect();
        if live.is_empty() {
            return body;
        }
        let mut f = Folder { cx, facts: &facts, live: &live, depth: 0, in_live: 0 };
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
}

impl Fold<TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let range = s.range();
        let live = matches!(s, Stmt::With(_)) && self.live.contains(&range);
        let for_use = self.in_live > 0 && self.facts.uses.get(&range) == Some(&Use::For);
        if live {
            self.in_live += 1;
        }
        self.depth += 1;
        let s = ast::fold::fold_stmt(self, s)?;
        self.depth -= 1;
        if live || for_use {
            self.cx.sites.push(TextRange::empty(range.start()));
        }
        let s = match s {
            Stmt::With(mut w) if live => {
                self.cx.sites.extend(w.items.iter().map(|it| it.context_expr.range()));
                self.in_live -= 1;
                for it in &mut w.items {
                    let open = std::mem::replace(&mut it.context_expr, crate::syntax::name("_"));
                    it.context_expr = match open {
                        Expr::Call(c) => crate::runtime::open_file(self.cx.tables, c, &mut self.cx.imports),
                        e => e,
                    };
                }
                to_async_kind(Stmt::With(w))
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
