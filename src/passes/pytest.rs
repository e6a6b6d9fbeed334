//! The `pytest` pass.

use super::{Diagnostic, Pass, PassCx};
use crate::analysis::scope::Binding;
use crate::analysis::{CallSite, ClassId, Ctx, FuncId, IterSite, ModuleInfo};
use crate::syntax::{dotted, dotted_name, fold_ok, synth};
use crate::transforms::{Runtime, Tables};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Constant, Expr, Fold, Ranged, Stmt};

crate::pass_doc!(
    "Makes pytest tests and fixtures that now call async code async, with the runtime's marker, and mocks of now-async functions `AsyncMock`.

## What it does
In a pytest module (one that imports `pytest` or `pytest_asyncio`, or whose
file is named `test_*.py`, `*_test.py` or `conftest.py`), the test functions
(module-level `test*` functions, and `test*` methods of module-level `Test*`
classes without bases or `__init__`) and the fixtures (`@pytest.fixture`,
`@pytest.fixture(...)`, `@pytest_asyncio.fixture`) are not boundaries: pytest
calls them, nobody else, so each becomes `async def` exactly when it calls
code that becomes async. Tests may carry `@pytest.mark.*` marks and
`unittest.mock.patch` decorators (which handle async tests); other
decorators keep them sync.

A test that became async gets `@pytest.mark.asyncio` (pytest-asyncio;
`@pytest.mark.trio` with `--runtime trio` for pytest-trio,
`@pytest.mark.anyio` with `--runtime anyio` for anyio's plugin), unless it
has that mark already (on the test, its class, or a `pytestmark` of the
class or module), or the project's pytest configuration runs async tests
without marks: `asyncio_mode = \"auto\"` (pytest-asyncio), `trio_mode = true`
(pytest-trio) or `anyio_mode = \"auto\"` (anyio), in the nearest
`pytest.ini`, `.pytest.ini`, `pyproject.toml` (`[tool.pytest.ini_options]` or
`[tool.pytest]`), `tox.ini` (`[pytest]`) or `setup.cfg` (`[tool:pytest]`) above
the converted paths (the CLI looks; `Options::pytest_auto`).

A fixture that became async (a generator fixture becomes an async generator
fixture) is `@pytest_asyncio.fixture` with the same arguments under
pytest-asyncio's strict mode (`import pytest_asyncio` is added). In auto
mode, and with trio or anyio, it stays `@pytest.fixture`: those plugins run
async fixtures declared that way, but only for async tests, so with trio
and anyio a test that requests a fixture of the module that becomes async
becomes async (and marked) too, and a fixture requested by a test that
cannot become async stays sync. (pytest-asyncio runs async fixtures for
sync tests as well.)

`unittest.mock.patch(\"m.f\", Mock(...))`, `patch(\"m.f\", new=MagicMock(...))`,
`patch.object(C, \"f\", Mock())`, `new_callable=MagicMock` and the same calls
on pytest-mock's `mocker` become `AsyncMock` when the patched function is
a coroutine function after the conversion: `patch` without a replacement
needs no change, since it picks `AsyncMock` by itself for an `async def`
target (Python 3.8+). Which functions are async comes from the engine
(`PassCx::async_qualnames`: for now this module's own functions, qualified
by the module's file stem).

## Why is this bad
pytest calls a plain `def` test and never awaits what it returns: a test that
calls a coroutine function without the plugin's mark only builds a coroutine
and passes without running it (pytest warns, or fails, depending on the
version). A `Mock` standing in for a coroutine function returns a plain
value, and `await mock()` raises `TypeError`.

## Example
```python
import time

import pytest


def fetch():
    time.sleep(0.1)
    return 42


@pytest.fixture
def answer():
    return fetch()


def test_fetch(answer):
    assert fetch() == answer
```

## Use instead
```python
import asyncio
import pytest_asyncio
import time

import pytest


async def fetch():
    await asyncio.sleep(0.1)
    return 42


@pytest_asyncio.fixture
async def answer():
    return await fetch()


@pytest.mark.asyncio
async def test_fetch(answer):
    assert await fetch() == answer
```

## Not converted
Methods of `unittest.TestCase` subclasses stay sync (unittest calls them
synchronously; `IsolatedAsyncioTestCase` is not written), with a diagnostic
for a blocking call that would have to become async. Fixtures in
`conftest.py` that become async do not mark the tests of other modules that
use them; a module-scoped async fixture gets a diagnostic (pytest-asyncio
runs it in an event loop of its own scope). Only patch targets of this
module are known to be async for now.

## Fix safety
Safe: the marker and `pytest_asyncio.fixture` run the same test and fixture
on an event loop. It needs pytest-asyncio (or pytest-trio, or anyio) in the
test environment.
"
);

pub struct Pytest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Test,
    Fixture,
}

/// A test or fixture of a pytest module.
struct Found {
    func: FuncId,
    role: Role,
    /// The def's start offset.
    start: u32,
    /// The name tests request a fixture by (`name=` or the function's).
    request_name: String,
    /// The `Test*` class it is a method of.
    class: Option<ClassId>,
}

const PATCHES: &[&str] = &["unittest.mock.patch", "mock.patch"];
const PATCH_OBJECTS: &[&str] = &["unittest.mock.patch.object", "mock.patch.object"];
const PATCH_DECORATORS: &[&str] = &[
    "unittest.mock.patch",
    "unittest.mock.patch.object",
    "unittest.mock.patch.multiple",
    "mock.patch",
    "mock.patch.object",
    "mock.patch.multiple",
];
const FIXTURES: &[&str] = &["pytest.fixture", "pytest_asyncio.fixture"];

/// What a decorator (or its factory call) names, through imports.
fn deco_qualname(d: &Expr, info: &ModuleInfo) -> Option<String> {
    let e = match d {
        Expr::Call(c) => &*c.func,
        e => e,
    };
    info.refs.get(&e.range()).cloned().or_else(|| dotted_name(e))
}

fn test_decorator(d: &Expr, info: &ModuleInfo) -> bool {
    deco_qualname(d, info).is_some_and(|q| q.starts_with("pytest.mark.") || PATCH_DECORATORS.contains(&q.as_str()))
}

/// The fixture decorator of a def, if it is a fixture and nothing else.
fn fixture_decorator<'e>(decos: &'e [Expr], info: &ModuleInfo) -> Option<&'e Expr> {
    match decos {
        [d] if deco_qualname(d, info).is_some_and(|q| FIXTURES.contains(&q.as_str())) => Some(d),
        _ => None,
    }
}

fn str_const(e: &Expr) -> Option<&str> {
    match e {
        Expr::Constant(c) => match &c.value {
            Constant::Str(s) => Some(s.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn keyword<'k>(keywords: &'k [ast::Keyword], name: &str) -> Option<&'k ast::Keyword> {
    keywords.iter().find(|k| k.arg.as_deref() == Some(name))
}

/// Whether pytest collects this file as a test module (or conftest), or it
/// uses pytest at all.
pub fn is_pytest_module(body: &[Stmt], path: &str) -> bool {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = file.strip_suffix(".py").unwrap_or(file);
    if stem.starts_with("test_") || stem.ends_with("_test") || stem == "conftest" {
        return true;
    }
    let pytest = |m: &str| m == "pytest" || m == "pytest_asyncio" || m.starts_with("pytest.");
    body.iter().any(|s| match s {
        Stmt::Import(i) => i.names.iter().any(|a| pytest(a.name.as_str())),
        Stmt::ImportFrom(f) => f.level.is_none_or(|l| l.to_u32() == 0) && f.module.as_deref().is_some_and(pytest),
        _ => false,
    })
}

/// A class pytest collects tests from: `Test*`, no bases, no `__init__`.
fn test_class(c: &ast::StmtClassDef) -> bool {
    c.name.starts_with("Test")
        && c.bases.iter().all(|b| dotted_name(b).as_deref() == Some("object"))
        && c.keywords.is_empty()
        && !c.body.iter().any(|s| matches!(s, Stmt::FunctionDef(f) if f.name.as_str() == "__init__"))
}

/// A unittest test case: a base named `...TestCase`.
fn unittest_class(c: &ast::StmtClassDef) -> bool {
    c.bases.iter().any(|b| dotted_name(b).is_some_and(|n| n.ends_with("TestCase")))
}

/// The tests and fixtures of a module's top level and `Test*` classes.
fn find(body: &[Stmt], info: &ModuleInfo) -> Vec<Found> {
    let mut out = vec![];
    let def = |s: &Stmt, class: Option<ClassId>, out: &mut Vec<Found>| {
        let (name, decos, start) = match s {
            Stmt::FunctionDef(f) => (f.name.as_str(), &f.decorator_list, s.range().start()),
            Stmt::AsyncFunctionDef(f) => (f.name.as_str(), &f.decorator_list, s.range().start()),
            _ => return,
        };
        let Some(func) = info.func_at(start.into()) else { return };
        if let Some(d) = fixture_decorator(decos, info) {
            let request_name = match d {
                Expr::Call(c) => keyword(&c.keywords, "name").and_then(|k| str_const(&k.value)),
                _ => None,
            };
            out.push(Found {
                func,
                role: Role::Fixture,
                start: start.into(),
                request_name: request_name.unwrap_or(name).to_string(),
                class,
            });
        } else if name.starts_with("test") && decos.iter().all(|d| test_decorator(d, info)) {
            out.push(Found { func, role: Role::Test, start: start.into(), request_name: name.to_string(), class });
        }
    };
    for s in body {
        match s {
            Stmt::ClassDef(c) if test_class(c) => {
                let Some(class) = info.classes.iter().position(|k| k.range == s.range()) else { continue };
                for m in &c.body {
                    def(m, Some(class), &mut out);
                }
            }
            s => def(s, None, &mut out),
        }
    }
    out
}

/// Why a boundary the analysis gave a test or fixture does not hold here.
fn liftable(boundary: &str) -> bool {
    boundary.contains("is decorated with") || boundary.contains("by the test framework")
}

impl Pass for Pytest {
    fn name(&self) -> &'static str {
        "pytest"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    /// The pass has no seeds of its own: it matters only where another pass
    /// finds work (so plain test files are not analysed for it).
    fn interested(&self, src: &str, tables: &Tables) -> bool {
        (src.contains("test") || src.contains("fixture") || src.contains("Mock"))
            && super::registry().iter().any(|p| p.name() != "pytest" && p.interested(src, tables))
    }
    fn interested_in_project(&self, src: &str, _tables: &Tables) -> bool {
        src.contains("test") || src.contains("fixture") || src.contains("Mock")
    }
    fn prepare(&self, body: &[Stmt], info: &mut ModuleInfo, tables: &Tables, path: &str) {
        // unittest calls its test methods synchronously: say so.
        for s in body {
            let Stmt::ClassDef(c) = s else { continue };
            if !unittest_class(c) {
                continue;
            }
            let Some(class) = info.classes.iter().position(|k| k.range == s.range()) else { continue };
            for f in info.funcs.iter_mut().filter(|f| f.class == Some(class)) {
                if f.boundary.as_deref().is_some_and(|b| b.contains("by the test framework")) {
                    f.boundary = Some(format!(
                        "`{}` is a test method of `unittest.TestCase` subclass `{}`, which calls it synchronously (unittest tests are not converted to `IsolatedAsyncioTestCase`)",
                        f.name, c.name
                    ));
                }
            }
        }
        let found = find(body, info);
        if !is_pytest_module(body, path) {
            for x in found.iter().filter(|x| x.role == Role::Test) {
                let f = &mut info.funcs[x.func];
                if f.boundary.as_deref().is_some_and(|b| b.contains("by the test framework")) {
                    f.boundary = Some(format!(
                        "`{}` is named like a test, but this is not a pytest module (it does not import pytest, and its file is not named `test_*.py`, `*_test.py` or `conftest.py`)",
                        f.name
                    ));
                }
            }
            return;
        }
        for x in &found {
            let f = &mut info.funcs[x.func];
            if f.boundary.as_deref().is_some_and(liftable) {
                f.boundary = None;
            }
        }
        // A generator fixture that cannot be an async generator stays sync.
        for (s, x) in found.iter().filter_map(|x| Some((stmt_at(body, x.start)?, x))) {
            if let Stmt::FunctionDef(d) = s
                && info.funcs[x.func].generator
                && !crate::analysis::simple_generator(&d.body)
            {
                info.funcs[x.func].boundary = Some(format!(
                    "`{}` is a generator that returns a value or uses `yield from` as an expression, which an async generator cannot",
                    d.name
                ));
            }
        }
        if tables.target == Runtime::Asyncio {
            return;
        }
        // trio and anyio run async fixtures only for async tests: a test that
        // requests one is async with it (it "calls" the fixture; no await is
        // written), and a fixture whose test cannot be async stays sync.
        for t in found.iter().filter(|t| t.role == Role::Test && info.funcs[t.func].boundary.is_none()) {
            let params: Vec<&ast::Arg> = match stmt_at(body, t.start) {
                Some(Stmt::FunctionDef(d)) => d.args.posonlyargs.iter().chain(&d.args.args).map(|a| &a.def).collect(),
                _ => continue,
            };
            for p in params {
                // The fixture of the test's class first, then of the module.
                let fx = found
                    .iter()
                    .filter(|x| x.role == Role::Fixture && x.request_name == p.arg.as_str())
                    .filter(|x| x.class.is_none() || x.class == t.class)
                    .max_by_key(|x| x.class.is_some());
                let Some(fx) = fx else { continue };
                let idx = info.calls.len();
                info.call_index.insert(p.range, idx);
                info.calls.push(CallSite {
                    range: p.range,
                    qualname: None,
                    target: Some(fx.func),
                    ctx: Ctx { func: Some(t.func), ..Ctx::default() },
                    targets: vec![],
                    wraps: false,
                    // An async generator fixture is driven by the plugin.
                    iter: info.funcs[fx.func].generator.then_some(IterSite::For(p.range)),
                    args: Default::default(),
                    // Not a call the colouring awaits.
                    pooled: true,
                });
            }
        }
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        let found = find(&body, cx.info);
        let module_scope = crate::analysis::scope::collect(&body);
        let bound_import = |q: &str| -> Option<String> {
            let mut names: Vec<&String> = module_scope
                .names
                .iter()
                .filter(|(_, b)| b.len() == 1 && b[0] == Binding::Import(q.to_string()))
                .map(|(n, _)| n)
                .collect();
            names.sort();
            names.first().map(|n| n.to_string())
        };
        let mark = match cx.tables.target {
            Runtime::Asyncio => "asyncio",
            Runtime::Trio => "trio",
            Runtime::Anyio => "anyio",
        };
        let pytest = bound_import("pytest");
        let has_mark = |e: &Expr, info: &ModuleInfo| -> bool {
            let mut hit = false;
            let want = format!("pytest.mark.{mark}");
            let mut check = |x: &Expr| {
                if deco_qualname(x, info).is_some_and(|q| q == want) {
                    hit = true;
                }
            };
            match e {
                Expr::List(l) => l.elts.iter().for_each(&mut check),
                Expr::Tuple(t) => t.elts.iter().for_each(&mut check),
                x => check(x),
            }
            hit
        };
        let pytestmark = |stmts: &[Stmt], info: &ModuleInfo| -> bool {
            stmts.iter().any(|s| match s {
                Stmt::Assign(a) => {
                    a.targets.iter().any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == "pytestmark"))
                        && has_mark(&a.value, info)
                }
                _ => false,
            })
        };
        let module_marked = pytestmark(&body, cx.info);
        let mut class_marked: Vec<ClassId> = vec![];
        for s in &body {
            if let Stmt::ClassDef(c) = s
                && (pytestmark(&c.body, cx.info) || c.decorator_list.iter().any(|d| has_mark(d, cx.info)))
                && let Some(k) = cx.info.classes.iter().position(|k| k.range == s.range())
            {
                class_marked.push(k);
            }
        }
        let newly_async = |x: &Found, cx: &PassCx| {
            cx.info.funcs[x.func].boundary.is_none()
                && !cx.info.funcs[x.func].is_async
                && cx.colour.async_defs.contains(&x.start)
        };
        let mut edits: Vec<(u32, Edit)> = vec![];
        for x in &found {
            if !newly_async(x, cx) {
                continue;
            }
            match x.role {
                Role::Test => {
                    let own = match stmt_at(&body, x.start) {
                        Some(Stmt::FunctionDef(d)) => d.decorator_list.iter().any(|d| has_mark(d, cx.info)),
                        _ => true,
                    };
                    if own || cx.pytest_auto || module_marked || x.class.is_some_and(|k| class_marked.contains(&k)) {
                        continue;
                    }
                    edits.push((x.start, Edit::Mark));
                }
                Role::Fixture => {
                    let Some(s) = stmt_at(&body, x.start) else { continue };
                    let Stmt::FunctionDef(d) = s else { continue };
                    if let Some(Expr::Call(c)) = d.decorator_list.first()
                        && let Some(scope) = keyword(&c.keywords, "scope").map(|k| &k.value)
                        && str_const(scope) != Some("function")
                        && cx.tables.target == Runtime::Asyncio
                    {
                        cx.diagnostics.push(Diagnostic {
                            offset: c.range.start().into(),
                            pass: "pytest",
                            message: format!(
                                "fixture `{}` becomes async with a scope other than `function`: pytest-asyncio runs it in an event loop of that scope, so tests that use what it makes may need `loop_scope=` on their `asyncio` mark",
                                d.name
                            ),
                        });
                    }
                    let plain = d
                        .decorator_list
                        .first()
                        .and_then(|dd| deco_qualname(dd, cx.info))
                        .is_some_and(|q| q == "pytest.fixture");
                    if cx.tables.target == Runtime::Asyncio && !cx.pytest_auto && plain {
                        edits.push((x.start, Edit::AsyncioFixture));
                    }
                }
            }
        }
        let mut from_imports = vec![];
        for (i, s) in body.iter().enumerate() {
            if let Stmt::ImportFrom(imp) = s
                && imp.level.is_none_or(|l| l.to_u32() == 0)
                && let Some(m) = &imp.module
            {
                for a in &imp.names {
                    let bound = a.asname.as_ref().unwrap_or(&a.name);
                    from_imports.push((i, m.to_string(), bound.to_string()));
                }
            }
        }
        let mut f = Folder { cx, edits, pytest, mark, mock_imports: vec![], module_scope: &module_scope, from_imports };
        let mut out: Vec<Stmt> = body.into_iter().map(|s| fold_ok(f.fold_stmt(s))).collect();
        // `from unittest.mock import AsyncMock` above the import of the Mock it replaces.
        let mut mock_imports = std::mem::take(&mut f.mock_imports);
        mock_imports.sort();
        mock_imports.dedup();
        for (at, module) in mock_imports.into_iter().rev() {
            let import = Stmt::ImportFrom(ast::StmtImportFrom {
                range: synth(),
                module: Some(ast::Identifier::new(module.as_str())),
                names: vec![ast::Alias { range: synth(), name: ast::Identifier::new("AsyncMock"), asname: None }],
                level: Some(ast::Int::new(0)),
            });
            out.insert(at, import);
        }
        out
    }
}

fn stmt_at(body: &[Stmt], start: u32) -> Option<&Stmt> {
    for s in body {
        if u32::from(s.range().start()) == start {
            return Some(s);
        }
        if let Stmt::ClassDef(c) = s
            && let Some(m) = c.body.iter().find(|m| u32::from(m.range().start()) == start)
        {
            return Some(m);
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// Add the runtime's mark on top of the decorators.
    Mark,
    /// `@pytest.fixture` -> `@pytest_asyncio.fixture`.
    AsyncioFixture,
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
    edits: Vec<(u32, Edit)>,
    /// The name `pytest` is imported as, if any.
    pytest: Option<String>,
    mark: &'static str,
    /// Module-level statement index of a `from M import Mock` and M, for each
    /// `AsyncMock` import to add.
    mock_imports: Vec<(usize, String)>,
    module_scope: &'a crate::analysis::scope::Bindings,
    /// Module-level `from M import x [as y]`: (statement index, M, bound name).
    from_imports: Vec<(usize, String, String)>,
}

impl Folder<'_, '_> {
    fn decorate(&mut self, start: u32, decos: &mut Vec<Expr>) {
        for (_, e) in self.edits.iter().filter(|(s, _)| *s == start) {
            match e {
                Edit::Mark => {
                    let pytest = match &self.pytest {
                        Some(p) => p.clone(),
                        None => {
                            self.cx.imports.insert("pytest".into());
                            "pytest".into()
                        }
                    };
                    decos.insert(0, dotted(&format!("{pytest}.mark.{}", self.mark)));
                }
                Edit::AsyncioFixture => {
                    self.cx.imports.insert("pytest_asyncio".into());
                    if let Some(d) = decos.first_mut() {
                        let new = dotted("pytest_asyncio.fixture");
                        match d {
                            Expr::Call(c) => *c.func = new,
                            d => *d = new,
                        }
                    }
                }
            }
            self.cx.sites.push(TextRange::empty(start.into()));
        }
    }

    /// The fully qualified name a `patch`/`patch.object` call replaces.
    fn patch_target(&self, c: &ast::ExprCall) -> Option<(String, usize)> {
        let q = self.cx.info.call(c.range).and_then(|s| s.qualname.clone()).or_else(|| dotted_name(&c.func))?;
        // pytest-mock's fixture has the same methods.
        let q = match dotted_name(&c.func).as_deref() {
            Some("mocker.patch") => "unittest.mock.patch".to_string(),
            Some("mocker.patch.object") => "unittest.mock.patch.object".to_string(),
            _ => q,
        };
        if PATCHES.contains(&q.as_str()) {
            return Some((str_const(c.args.first()?)?.to_string(), 1));
        }
        if PATCH_OBJECTS.contains(&q.as_str()) {
            let obj = c.args.first()?;
            let attr = str_const(c.args.get(1)?)?;
            let base = match self.cx.info.refs.get(&obj.range()) {
                Some(q) => q.clone(),
                None => {
                    let Expr::Name(n) = obj else { return None };
                    match self.module_scope.unique(n.id.as_str()) {
                        Some(Binding::Class(_) | Binding::Def(_)) => format!("{}.{}", self.cx.module, n.id),
                        _ => return None,
                    }
                }
            };
            return Some((format!("{base}.{attr}"), 2));
        }
        None
    }

    /// `Mock`/`MagicMock` (a call or a class) -> `AsyncMock` in the same spelling.
    fn async_mock(&mut self, e: &Expr) -> Option<Expr> {
        let (func, call) = match e {
            Expr::Call(c) => (&*c.func, Some(c)),
            e => (e, None),
        };
        let q = self.cx.info.refs.get(&func.range()).cloned().or_else(|| dotted_name(func))?;
        let module = match q.as_str() {
            "unittest.mock.Mock" | "unittest.mock.MagicMock" => "unittest.mock",
            "mock.Mock" | "mock.MagicMock" => "mock",
            "mocker.Mock" | "mocker.MagicMock" => "mocker",
            _ => return None,
        };
        let new_func = match func {
            Expr::Attribute(a) => Expr::Attribute(ast::ExprAttribute {
                range: synth(),
                attr: ast::Identifier::new("AsyncMock"),
                ..a.clone()
            }),
            Expr::Name(_) => {
                match self.module_scope.unique("AsyncMock") {
                    Some(Binding::Import(b)) if *b == format!("{module}.AsyncMock") => {}
                    Some(_) => return None,
                    None => {
                        // Next to the module-level import of this Mock.
                        let Expr::Name(n) = func else { return None };
                        let at = self.import_of(n.id.as_str(), &q)?;
                        self.mock_imports.push((at, module.to_string()));
                    }
                }
                crate::syntax::name("AsyncMock")
            }
            _ => return None,
        };
        Some(match call {
            Some(c) => Expr::Call(ast::ExprCall { range: c.range, func: Box::new(new_func), ..c.clone() }),
            None => new_func,
        })
    }

    /// The index of the module-level `from ... import` that binds `name` to `q`.
    fn import_of(&self, name: &str, q: &str) -> Option<usize> {
        let (module, _) = q.rsplit_once('.')?;
        self.from_imports.iter().find(|(_, m, n)| m == module && n == name).map(|(i, _, _)| *i)
    }

    fn rewrite_patch(&mut self, mut c: ast::ExprCall) -> ast::ExprCall {
        let Some((target, pos)) = self.patch_target(&c) else { return c };
        if !self.cx.async_qualnames.contains(&target) {
            return c;
        }
        let range = c.range;
        let mut changed = false;
        let mut other: Option<TextRange> = None;
        if let Some(new) = c.args.get(pos).cloned().or_else(|| keyword(&c.keywords, "new").map(|k| k.value.clone())) {
            match self.async_mock(&new) {
                Some(replaced) => {
                    if let Some(a) = c.args.get_mut(pos) {
                        *a = replaced;
                    } else if let Some(k) = c.keywords.iter_mut().find(|k| k.arg.as_deref() == Some("new")) {
                        k.value = replaced;
                    }
                    changed = true;
                }
                None => {
                    let q =
                        self.cx.info.refs.get(&new_func(&new).range()).cloned().or_else(|| dotted_name(new_func(&new)));
                    if !q.is_some_and(|q| q.ends_with("AsyncMock")) {
                        other = Some(new.range());
                    }
                }
            }
        }
        if let Some(k) = c.keywords.iter().position(|k| k.arg.as_deref() == Some("new_callable")) {
            let v = c.keywords[k].value.clone();
            if let Some(replaced) = self.async_mock(&v) {
                c.keywords[k].value = replaced;
                changed = true;
            }
        }
        if changed {
            self.cx.sites.push(range);
        }
        if let Some(r) = other {
            self.cx.diagnostics.push(Diagnostic {
                offset: r.start().into(),
                pass: "pytest",
                message: format!(
                    "`{target}` becomes async: what is patched in for it must return an awaitable when called (an `AsyncMock` or an `async def`)"
                ),
            });
        }
        c
    }
}

fn new_func(e: &Expr) -> &Expr {
    match e {
        Expr::Call(c) => &c.func,
        e => e,
    }
}

impl Fold<TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let start: u32 = s.range().start().into();
        let mut s = ast::fold::fold_stmt(self, s)?;
        match &mut s {
            Stmt::FunctionDef(f) => self.decorate(start, &mut f.decorator_list),
            Stmt::AsyncFunctionDef(f) => self.decorate(start, &mut f.decorator_list),
            _ => {}
        }
        Ok(s)
    }

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let e = ast::fold::fold_expr(self, e)?;
        Ok(match e {
            Expr::Call(c) => Expr::Call(self.rewrite_patch(c)),
            e => e,
        })
    }
}
