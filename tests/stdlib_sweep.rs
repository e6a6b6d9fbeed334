//! Sweeps the local CPython standard library.
//!
//! 1. `convert` over every file (in process, nothing written): no crash, no
//!    internal error; every changed file parses (rustpython and CPython),
//!    keeps every comment, converts to a fixpoint in one run, and changes no
//!    line outside a rewritten site; every unchanged file is untouched.
//! 2. An emitter stress test: a fold that awaits every call of a plain name
//!    and makes every `def` async, emitted and verified over every file. This
//!    drives the lossless printer through far more code than real passes do.
//! 3. `check` over every file, against `convert` (see the test).

mod common;

use awaitify::engine::{self, Options};
use awaitify::run::{self, Outcome};
use rustpython_parser::ast::{self, Expr, Fold, Stmt};
use std::path::{Path, PathBuf};

/// The Python the tests run with (`AWAITIFY_PYTHON`, else `python3`).
fn python() -> String {
    std::env::var("AWAITIFY_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn stdlib_of(py: &str) -> PathBuf {
    let out = std::process::Command::new(py)
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
        .output()
        .expect("python3 is needed to find the standard library");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn files_of(py: &str) -> Vec<PathBuf> {
    let found = awaitify::files::find(&[stdlib_of(py)], &globset::GlobSet::empty());
    assert!(found.files.len() > 1000, "standard library not found ({} files)", found.files.len());
    found.files
}

fn files() -> Vec<PathBuf> {
    files_of(&python())
}

/// The files under `dir` (or the `files` given) that `py` does not compile,
/// one `path: error` a line.
fn cpython_rejects(py: &str, dir: &Path, files: &[&Path]) -> String {
    let script = "import sys, pathlib\nps = [pathlib.Path(p) for p in sys.argv[2:]] or sorted(pathlib.Path(sys.argv[1]).rglob('*.py'))\nbad = []\nfor p in ps:\n    try:\n        compile(p.read_bytes(), str(p), 'exec')\n    except SyntaxError as e:\n        bad.append(f'{p}: {e}')\nprint('\\n'.join(bad))\n";
    let out = std::process::Command::new(py).args(["-c", script]).arg(dir).args(files).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn stdlib_convert_sweep() {
    convert_sweep(&python());
}

/// The sweep on CPython 3.13's standard library, with 3.13 compiling the
/// output, when a 3.13 is found (pyenv's, `python3.13`, or
/// `AWAITIFY_PYTHON313`); a file that fails to parse must be one 3.13
/// rejects too.
#[test]
fn stdlib_313_convert_sweep() {
    match common::python313() {
        Some(py) => convert_sweep(&py),
        None => eprintln!("no CPython 3.13 found: the 3.13 sweep did not run"),
    }
}

/// `convert` over the standard library of `py`; the checks of item 1 above.
fn convert_sweep(py: &str) {
    let files = files_of(py);
    let opts = Options::default();
    let reports = run::convert_all(&files, &opts, None);
    let tmp = tempfile::tempdir().unwrap();
    let mut problems = vec![];
    let (mut changed, mut unchanged, mut failed) = (0, 0, 0);
    let mut syntax_errors: Vec<(&Path, String)> = vec![];
    for r in &reports {
        let p = r.path.display();
        match &r.outcome {
            Outcome::Failed { error } => {
                failed += 1;
                if error.contains("internal error") {
                    problems.push(format!("{p}: {error}"));
                }
                if error.contains("syntax error") {
                    syntax_errors.push((r.path.as_path(), error.clone()));
                }
            }
            Outcome::Unchanged { result } => {
                unchanged += 1;
                assert!(result.output.is_none());
            }
            Outcome::Changed { decoded, result } => {
                changed += 1;
                let old = &decoded.text;
                let new = result.output.as_ref().unwrap();
                if let Err(e) = engine::parse(new, "x") {
                    problems.push(format!("{p}: output does not parse: {e}"));
                }
                let lost = engine::lost_comments(old, new);
                if !lost.is_empty() {
                    problems.push(format!("{p}: lost comments {lost:?}"));
                }
                // Idempotence, file by file: the first run above had the
                // whole stdlib as its project (the cross-module guard keeps
                // more functions sync), so both runs here are single-file.
                let solo = engine::convert(old, decoded.newline, "x", &opts).map(|c| c.output);
                if let Ok(Some(first)) = &solo {
                    match engine::convert(first, decoded.newline, "x", &opts) {
                        Ok(again) if again.output.is_some() => problems.push(format!("{p}: not idempotent")),
                        Ok(_) => {}
                        Err(e) => problems.push(format!("{p}: second run failed: {e}")),
                    }
                }
                // Every removed line lies within a rewritten site.
                let diff = similar::TextDiff::from_lines(old.as_str(), new.as_str());
                for op in diff.ops() {
                    for change in diff.iter_changes(op) {
                        if change.tag() == similar::ChangeTag::Delete {
                            let line = change.old_index().unwrap() + 1;
                            if !result.lines.iter().any(|&(a, b)| a <= line && line <= b) {
                                problems.push(format!(
                                    "{p}:{line}: line changed outside a rewritten site: {:?}",
                                    change.value()
                                ));
                            }
                        }
                    }
                }
                let dest = tmp.path().join(format!("f{changed}.py"));
                std::fs::write(&dest, new).unwrap();
            }
        }
    }
    let bad = cpython_rejects(py, tmp.path(), &[]);
    if !bad.trim().is_empty() {
        problems.push(format!("CPython rejects converted files:\n{bad}"));
    }
    // No parse error on a file CPython parses.
    if !syntax_errors.is_empty() {
        let paths: Vec<&Path> = syntax_errors.iter().map(|(p, _)| *p).collect();
        let rejected = cpython_rejects(py, tmp.path(), &paths);
        for (p, e) in &syntax_errors {
            if !rejected.lines().any(|l| l.starts_with(&format!("{}: ", p.display()))) {
                problems.push(format!("{}: CPython parses it, we do not: {e}", p.display()));
            }
        }
    }
    eprintln!(
        "stdlib sweep ({py}): {} files, {changed} changed, {unchanged} unchanged, {failed} failed to read or parse",
        reports.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(changed > 0, "the sweep converted nothing: the test would prove nothing");
    // Files that fail are the known unparseable ones (Python 2 test data,
    // other encodings, syntax rustpython does not support); keep it small.
    assert!(failed < 20, "{failed} files failed");
}

/// Awaits every call of a plain name and makes every def async (meaningless
/// code, but a hard test of the emitter).
struct AwaitEverything;

impl Fold<rustpython_parser::text_size::TextRange> for AwaitEverything {
    awaitify::identity_fold_plumbing!();
    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let s = ast::fold::fold_stmt(self, s)?;
        Ok(awaitify::syntax::to_async_kind(s))
    }
    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let e = ast::fold::fold_expr(self, e)?;
        match &e {
            Expr::Call(c) if matches!(&*c.func, Expr::Name(_)) => Ok(awaitify::syntax::await_(e)),
            _ => Ok(e),
        }
    }
}

#[test]
fn stdlib_emitter_stress() {
    let files = files();
    let problems: Vec<String> = run::with_big_stack(move || {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new().stack_size(run::STACK_SIZE).build().unwrap();
        pool.install(|| {
            files
                .par_iter()
                .filter_map(|path| {
                    let bytes = std::fs::read(path).ok()?;
                    let d = awaitify::source::decode(&bytes).ok()?;
                    let body = engine::parse(&d.text, "x").ok()?;
                    let mut f = AwaitEverything;
                    let new: Vec<Stmt> =
                        body.iter().cloned().map(|s| awaitify::syntax::fold_ok(f.fold_stmt(s))).collect();
                    if new == body {
                        return None;
                    }
                    match engine::emit_and_verify(&d.text, d.newline, "x", &body, new) {
                        Err(e) => Some(format!("{}: {e}", path.display())),
                        Ok(out) => {
                            let lost = engine::lost_comments(&d.text, &out);
                            (!lost.is_empty())
                                .then(|| format!("{}: lost comments {:?}", path.display(), &lost[..lost.len().min(3)]))
                        }
                    }
                })
                .collect()
        })
    });
    assert!(problems.is_empty(), "{} files:\n{}", problems.len(), problems[..problems.len().min(40)].join("\n"));
}

/// 3. `check` over every file agrees with `convert`: it fails on exactly
///    the files `convert` cannot read or parse; every finding it says a pass
///    fixes is on a line `convert` rewrites; and in what `convert` wrote,
///    it finds nothing a pass fixes.
#[test]
fn stdlib_check_agrees_with_convert() {
    use awaitify::check::{CheckOptions, check_files, check_sources, module_name};
    use std::collections::{BTreeSet, HashMap};
    let files = files();
    let copts = CheckOptions { tables: awaitify::transforms::Tables::builtin(), ..Default::default() };
    let report = check_files(&files, &copts, None);
    let reports = run::convert_all(&files, &Options::default(), None);
    let failed: BTreeSet<String> = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .map(|r| r.path.to_string_lossy().to_string())
        .collect();
    let errors: BTreeSet<String> = report.errors.iter().map(|e| e.path.clone()).collect();
    assert_eq!(errors, failed, "check and convert fail on different files");
    let mut rewritten: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
    let mut after = vec![];
    for r in &reports {
        if let Outcome::Changed { result, .. } = &r.outcome {
            let display = r.path.to_string_lossy().to_string();
            rewritten.insert(display.clone(), result.lines.clone());
            let out = result.output.clone().unwrap();
            let body = engine::parse(&out, &display).unwrap();
            let pkg = r.path.file_stem().is_some_and(|s| s == "__init__");
            after.push((display, module_name(&r.path), pkg, out, body));
        }
    }
    let mut problems = vec![];
    let fixable: Vec<_> = report.findings.iter().filter(|f| f.fix.is_some()).collect();
    for f in &fixable {
        let hit = rewritten.get(&f.path).is_some_and(|ls| ls.iter().any(|&(a, b)| a <= f.line && f.line <= b));
        if !hit {
            problems.push(format!("convert does not rewrite {}", awaitify::check::format::line(f)));
        }
    }
    let again = check_sources(&after, &copts);
    for f in again.findings.iter().filter(|f| f.fix.is_some()) {
        problems.push(format!("after convert: {}", awaitify::check::format::line(f)));
    }
    eprintln!(
        "check: {} files, {} findings ({} fixable), {} errors; {} files converted, {} findings in them after",
        report.files,
        report.findings.len(),
        fixable.len(),
        report.errors.len(),
        after.len(),
        again.findings.len()
    );
    assert!(!fixable.is_empty(), "the standard library has blocking calls in async functions");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
