//! Helpers shared by test crates.

use rustpython_parser::ast::{Ranged, Stmt};

#[allow(dead_code)]
/// The program with every `def` made `async def`, blocking calls left in
/// (only the `def` keyword changes, so every line stays where it was).
pub fn async_by_hand(text: &str, body: &[Stmt]) -> String {
    use awaitify::syntax::visit::{Visitor, walk_stmt};
    struct D(Vec<usize>);
    impl<'a> Visitor<'a> for D {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if let Stmt::FunctionDef(_) = s {
                self.0.push(s.range().start().into());
            }
            walk_stmt(self, s);
        }
    }
    let mut d = D(vec![]);
    d.visit_body(body);
    d.0.sort();
    let mut out = text.to_string();
    for at in d.0.into_iter().rev() {
        assert!(out[at..].starts_with("def"), "a def starts at its keyword");
        out.insert_str(at, "async ");
    }
    out
}

/// The options of the four variants the e2e programs run with: httpx and
/// aiohttp on asyncio, httpx on trio and on anyio.
#[allow(dead_code)]
pub fn variant_options() -> [(&'static str, awaitify::engine::Options); 4] {
    use awaitify::engine::Options;
    use awaitify::transforms::{HttpBackend, Runtime};
    let mut aiohttp = Options::default();
    aiohttp.tables.http.backend = HttpBackend::Aiohttp;
    let mut trio = Options::default();
    trio.tables.target = Runtime::Trio;
    let mut anyio = Options::default();
    anyio.tables.target = Runtime::Anyio;
    [("httpx", Options::default()), ("aiohttp", aiohttp), ("trio", trio), ("anyio", anyio)]
}

/// Every convert fixture run of `tests/fixtures.rs`: (fixture, snapshot
/// directory name, options with the fixture's `<case>.toml` tables).
#[allow(dead_code)]
pub fn fixture_runs() -> Vec<(std::path::PathBuf, String, awaitify::engine::Options)> {
    use awaitify::engine::Options;
    use awaitify::transforms::Tables;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths = vec![];
    for pass in std::fs::read_dir(&root).unwrap() {
        let pass = pass.unwrap().path();
        // `check/` and `check_projects/` hold the fixtures of `awaitify check` (tests/check.rs).
        let dir = pass.file_name().unwrap().to_string_lossy().to_string();
        if !pass.is_dir() || dir == "projects" || dir.starts_with("check") {
            continue;
        }
        for f in std::fs::read_dir(&pass).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "py") {
                paths.push(f);
            }
        }
    }
    paths.sort();
    assert!(paths.len() >= 10, "expected fixtures, found {}", paths.len());
    let [(_, default), (_, aiohttp), (_, trio), (_, anyio)] = variant_options();
    let py39 = Options { target: awaitify::TargetVersion::Py39, ..Options::default() };
    let pytest_auto = Options { pytest_auto: true, ..Options::default() };
    let mut runs = vec![];
    for path in paths {
        let dir = path.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
        let variants: Vec<(String, &Options)> = match dir.as_str() {
            // Every `http/` case also runs with `--http aiohttp`.
            "http" => vec![(dir.clone(), &default), ("http_aiohttp".into(), &aiohttp)],
            "http_aiohttp" => vec![(dir, &aiohttp)],
            // aiosqlite needs asyncio: with trio the sqlite code stays.
            "sqlite_trio" => vec![(dir, &trio)],
            // Rewrites for Python 3.11+: also with py39, where nothing changes.
            "taskgroup" | "timeout" => vec![(dir.clone(), &default), (format!("{dir}_py39"), &py39)],
            "pytest_auto" => vec![(dir, &pytest_auto)],
            // The grammar of Python 3.9 (`--target-version py39`).
            "target_py39" => vec![(dir, &py39)],
            "runtime" | "pool" | "pytest" => {
                vec![(dir.clone(), &default), (format!("{dir}_trio"), &trio), (format!("{dir}_anyio"), &anyio)]
            }
            _ => vec![(dir, &default)],
        };
        for (name, opts) in variants {
            let mut opts = opts.clone();
            if let Ok(text) = std::fs::read_to_string(path.with_extension("toml")) {
                opts.tables.extend(Tables::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
            }
            runs.push((path.clone(), name, opts));
        }
    }
    runs
}

#[allow(dead_code)]
/// A CPython 3.13 for the fixtures under `tests/fixtures/py313/` (3.12 and
/// 3.13 syntax, which the Python of the other fixtures may not read):
/// `AWAITIFY_PYTHON313`, else pyenv's 3.13, else `python3.13` on the PATH.
pub fn python313() -> Option<String> {
    if let Ok(p) = std::env::var("AWAITIFY_PYTHON313") {
        return Some(p);
    }
    let home = std::env::var("PYENV_ROOT")
        .ok()
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/.pyenv")))
        .unwrap_or_else(|| "/root/.pyenv".into());
    let mut pyenv: Vec<std::path::PathBuf> = std::fs::read_dir(format!("{home}/versions"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("3.13."))
        .map(|e| e.path().join("bin/python"))
        .filter(|p| p.exists())
        .collect();
    pyenv.sort();
    if let Some(p) = pyenv.pop() {
        return Some(p.display().to_string());
    }
    let found = std::process::Command::new("python3.13").arg("--version").output().is_ok_and(|o| o.status.success());
    found.then(|| "python3.13".to_string())
}
