//! `awaitify check`:
//! * every `tests/fixtures/check/<rule>.py` and every project under
//!   `tests/fixtures/check_projects/<case>/` is checked; the lines and codes
//!   found must be exactly the `# AWT...` markers of the fixture (a line
//!   marked `# OK` must have no finding; a rule fixture is checked with the
//!   codes it marks selected), and the text report is
//!   snapshotted in `snapshots/` (`check__<case>.snap`);
//! * each rule's documentation has the sections of a pass, and its example
//!   is itself a test: the Example gets a finding of the rule, the Use
//!   instead does not;
//! * check and convert agree: every blocking call that `convert` rewrites
//!   in the e2e programs and the convert fixtures is reported by `check`,
//!   with that pass, on the same program with every `def` made `async def`
//!   by hand; and `check` finds nothing that a pass fixes in `convert`'s
//!   output;
//! * the command line: formats, exit codes, suppressions, `--fix`.

mod common;

use awaitify::check::{self, CheckOptions, Report, check_sources, module_name};
use awaitify::engine::{Options, parse};
use awaitify::source::decode;
use rustpython_parser::ast::Stmt;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

type Source = (String, String, bool, String, Vec<Stmt>);

fn source(path: &Path, display: &str, name: &str) -> Source {
    let d = decode(&std::fs::read(path).unwrap()).unwrap();
    let body = parse(&d.text, display).unwrap_or_else(|e| panic!("{display}: {e}"));
    let pkg = path.file_stem().is_some_and(|s| s == "__init__");
    (display.to_string(), name.to_string(), pkg, d.text, body)
}

/// (display path, line, code) of every `# AWT...` marker; and the `# OK` lines.
/// (path, line, code) expected; (path, line) that must stay silent.
type Markers = (BTreeSet<(String, usize, String)>, BTreeSet<(String, usize)>);

fn markers(sources: &[Source]) -> Markers {
    let mut want = BTreeSet::new();
    let mut ok = BTreeSet::new();
    for (display, _, _, text, _) in sources {
        for (i, line) in text.lines().enumerate() {
            let Some(at) = line.find("# ") else { continue };
            let mut comment = line[at..].to_string();
            // `# awaitify: ignore[CODE] ...`: the codes in brackets are not
            // markers; a suppressed line with no marker after it is OK.
            if let Some(k) = comment.find("awaitify: ignore") {
                let rest = &comment[k + "awaitify: ignore".len()..];
                let rest = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
                    Some((_, after)) => after.to_string(),
                    None => rest.to_string(),
                };
                if !rest.contains("AWT") {
                    ok.insert((display.clone(), i + 1));
                }
                comment = rest;
            }
            if comment.starts_with("# OK") {
                ok.insert((display.clone(), i + 1));
            }
            for word in comment.split_whitespace() {
                if word.len() == 6 && word.starts_with("AWT") && word[3..].chars().all(|c| c.is_ascii_digit()) {
                    want.insert((display.clone(), i + 1, word.to_string()));
                }
            }
        }
    }
    (want, ok)
}

fn text_report(report: &Report, sources: &[Source]) -> String {
    let texts: HashMap<String, String> = sources.iter().map(|s| (s.0.clone(), s.3.clone())).collect();
    check::format::text(report, &texts, false)
}

/// Checks the marker contract; returns the failures.
fn compare(case: &str, sources: &[Source], report: &Report) -> Vec<String> {
    let (want, ok) = markers(sources);
    assert!(!want.is_empty(), "{case}: a fixture without markers tests nothing");
    let got: BTreeSet<(String, usize, String)> =
        report.findings.iter().map(|f| (f.path.clone(), f.line, f.code.to_string())).collect();
    let mut failures = vec![];
    for w in want.difference(&got) {
        failures.push(format!("{case}: expected {} at {}:{}, not reported", w.2, w.0, w.1));
    }
    for g in got.difference(&want) {
        let f = report.findings.iter().find(|f| f.path == g.0 && f.line == g.1 && f.code == g.2).unwrap();
        failures.push(format!("{case}: unexpected {}", check::format::line(f)));
    }
    for (p, l) in &ok {
        if got.iter().any(|(gp, gl, _)| gp == p && gl == l) {
            failures.push(format!("{case}: line {p}:{l} is marked OK but has a finding"));
        }
    }
    failures
}

fn snapshot(name: &str, text: String) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn rule_fixtures_match_their_markers() {
    let dir = root().join("tests/fixtures/check");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    cases.sort();
    let names: BTreeSet<String> = cases.iter().map(|p| p.file_stem().unwrap().to_string_lossy().to_string()).collect();
    // One fixture per rule, named after the rule's file in src/check/rules/.
    for n in &names {
        assert!(root().join(format!("src/check/rules/{n}.rs")).exists(), "fixture {n}.py names no rule file");
    }
    assert_eq!(names.len(), check::rules::registry().len(), "one fixture per rule: {names:?}");
    let opts = CheckOptions { tables: awaitify::transforms::Tables::builtin(), ..Default::default() };
    let mut failures = vec![];
    let mut codes_seen = BTreeSet::new();
    for path in &cases {
        let case = path.file_stem().unwrap().to_string_lossy().to_string();
        let src = vec![source(path, &format!("check/{case}.py"), &case)];
        // A fixture tests the rules it marks (an `async def` full of
        // blocking calls is also AWT401, say, which its own fixture covers).
        let opts = CheckOptions { select: markers(&src).0.into_iter().map(|m| m.2).collect(), ..opts.clone() };
        let report = check_sources(&src, &opts);
        let again = check_sources(&src, &opts);
        assert_eq!(report.findings, again.findings, "{case}: not deterministic");
        codes_seen.extend(report.findings.iter().map(|f| f.code));
        failures.extend(compare(&case, &src, &report));
        snapshot(&format!("check__{case}"), text_report(&report, &src));
    }
    for r in check::rules::registry() {
        assert!(codes_seen.contains(r.code()), "no fixture exercises {}", r.code());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cross_module_projects_match_their_markers() {
    let dir = root().join("tests/fixtures/check_projects");
    let opts = CheckOptions { tables: awaitify::transforms::Tables::builtin(), ..Default::default() };
    let mut failures = vec![];
    let mut n = 0;
    for case in std::fs::read_dir(&dir).unwrap() {
        let case = case.unwrap().path();
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let found = awaitify::files::find(std::slice::from_ref(&case), &globset::GlobSet::empty());
        let src: Vec<Source> = found
            .files
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&case).unwrap().to_string_lossy().to_string();
                source(p, &format!("{name}/{rel}"), &module_name(p))
            })
            .collect();
        assert!(src.len() > 1, "{name}: a project has several modules");
        let report = check_sources(&src, &opts);
        failures.extend(compare(&name, &src, &report));
        snapshot(&format!("check_project__{name}"), text_report(&report, &src));
        n += 1;
    }
    assert!(n > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn module_names_follow_the_package_layout() {
    let app = root().join("tests/fixtures/check_projects/app");
    assert_eq!(module_name(&app.join("main.py")), "main");
    assert_eq!(module_name(&app.join("pkg/client.py")), "pkg.client");
    assert_eq!(module_name(&app.join("pkg/__init__.py")), "pkg");
}

/// The Example / Use instead sections of every rule's documentation are
/// themselves a test, like a pass's.
#[test]
fn rule_docs_have_the_sections_and_their_examples_hold() {
    fn block_after<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
        let at = doc.find(heading)?;
        let rest = &doc[at..];
        let start = rest.find("```python\n")? + "```python\n".len();
        let end = rest[start..].find("```")?;
        Some(&rest[start..start + end])
    }
    let opts = CheckOptions { tables: awaitify::transforms::Tables::builtin(), ..Default::default() };
    let mut codes = BTreeSet::new();
    for r in check::rules::registry() {
        let code = r.code();
        assert!(codes.insert(code), "{code} is registered twice");
        assert!(
            code.len() == 6 && code.starts_with("AWT") && code[3..].chars().all(|c| c.is_ascii_digit()),
            "{code}: codes are AWT and three digits"
        );
        let doc = r.doc();
        for section in ["## What it does", "## Why is this bad", "## Example", "## Use instead", "## Fix"] {
            assert!(doc.contains(section), "{code}: doc lacks `{section}`");
        }
        for (heading, expect) in [("## Example", true), ("## Use instead", false)] {
            let text = block_after(doc, heading).unwrap_or_else(|| panic!("{code}: no code block after {heading}"));
            let body = parse(text, "doc").unwrap_or_else(|e| panic!("{code}: {heading} does not parse: {e}"));
            let report = check_sources(&[("doc.py".into(), "doc".into(), false, text.to_string(), body)], &opts);
            let hit = report.findings.iter().any(|f| f.code == code);
            assert_eq!(hit, expect, "{code}: {heading} block: findings {:?}", report.findings);
        }
    }
    let listed: Vec<&str> = check::rules::registry().iter().map(|r| r.code()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "the registry is in code order");
}

// ---------------------------------------------------------------------------
// check and convert agree

/// (line, pass) of every call `convert` would rewrite in a function:
/// the seeds of the passes, and the calls of the `to_thread` table.
fn rewritten_calls(text: &str, body: &[Stmt], opts: &Options) -> BTreeSet<(usize, &'static str)> {
    let info = awaitify::analysis::analyse(body);
    let index = awaitify::source::LineIndex::new(text);
    let mut out = BTreeSet::new();
    let mut sink = vec![];
    let awaitable = |r| info.call(r).is_some_and(|c| c.ctx.awaitable());
    for p in awaitify::passes::registry().iter().filter(|p| p.interested(text, &opts.tables)) {
        for s in p.seeds(body, &info, &opts.tables, &mut sink) {
            // aiohttp awaits reads of a response body (`response.json`): in
            // requests the body was read with the request, so these are no
            // blocking calls of the original.
            if s.what.starts_with("response.") {
                continue;
            }
            if awaitable(s.call) {
                out.insert((index.line_col(s.call.start()).0, s.pass));
            }
        }
    }
    for c in &info.calls {
        if c.ctx.awaitable() && c.qualname.as_ref().is_some_and(|q| opts.tables.to_thread.iter().any(|r| &r.sync == q))
        {
            out.insert((index.line_col(c.range.start()).0, "to_thread"));
        }
    }
    out
}

fn check_text(display: &str, text: &str) -> Report {
    let body = parse(text, display).unwrap_or_else(|e| panic!("{display}: {e}\n{text}"));
    let opts = CheckOptions { tables: awaitify::transforms::Tables::builtin(), ..Default::default() };
    check_sources(&[(display.into(), "m".into(), false, text.to_string(), body)], &opts)
}

#[test]
fn check_reports_what_convert_rewrites_and_nothing_after() {
    let mut programs = vec![];
    for dir in [
        "tests/e2e/programs",
        "tests/fixtures/sleep",
        "tests/fixtures/http",
        "tests/fixtures/files",
        "tests/fixtures/sqlite",
        "tests/fixtures/to_thread",
    ] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "py") {
                programs.push(p);
            }
        }
    }
    programs.sort();
    let mut aiohttp = Options::default();
    aiohttp.tables.http.backend = awaitify::transforms::HttpBackend::Aiohttp;
    let backends = [("httpx", Options::default()), ("aiohttp", aiohttp)];
    let mut failures = vec![];
    let (mut expected, mut after_total) = (0, 0);
    for path in &programs {
        let display = path.strip_prefix(root()).unwrap().to_string_lossy().to_string();
        let d = decode(&std::fs::read(path).unwrap()).unwrap();
        let body = parse(&d.text, &display).unwrap();
        // Before: the program made async by hand, blocking calls left in.
        let by_hand = common::async_by_hand(&d.text, &body);
        let before = check_text(&display, &by_hand);
        for (backend, opts) in &backends {
            for (line, pass) in rewritten_calls(&d.text, &body, opts) {
                expected += 1;
                let found = before.findings.iter().any(|f| f.code == "AWT101" && f.line == line && f.fix == Some(pass));
                if !found {
                    failures.push(format!(
                        "{display}:{line}: `convert --http {backend}` rewrites a call (pass `{pass}`) that `check` does not report with that pass on the async-by-hand version"
                    ));
                }
            }
            // After: convert's output has nothing a pass would fix.
            let converted = awaitify::engine::convert(&d.text, d.newline, &display, opts).unwrap();
            let out = converted.output.unwrap_or_else(|| d.text.clone());
            let after = check_text(&display, &out);
            for f in after.findings.iter().filter(|f| f.fix.is_some()) {
                after_total += 1;
                failures.push(format!("after `convert --http {backend}`: {}", check::format::line(f)));
            }
        }
    }
    eprintln!(
        "{} programs, {expected} rewritten calls (counted once per --http backend) reported on the async-by-hand versions, {after_total} fixable findings after convert",
        programs.len()
    );
    assert!(expected > 50, "too few rewritten calls to compare ({expected})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// the command line

fn awaitify(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_awaitify")).args(args).current_dir(cwd).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

const BLOCKING: &str =
    "import asyncio\nimport time\n\n\nasync def poll():\n    await asyncio.sleep(0)\n    time.sleep(1)\n";

#[test]
fn cli_exit_codes_and_nothing_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = awaitify(&["check", "."], dir.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert_eq!(err, "nothing to check: no Python files under .\n");

    std::fs::write(dir.path().join("clean.py"), "import asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)\n")
        .unwrap();
    let (code, out, err) = awaitify(&["check", "."], dir.path());
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", "no findings in 1 file\n"));

    std::fs::write(dir.path().join("a.py"), BLOCKING).unwrap();
    let (code, out, err) = awaitify(&["check", "a.py"], dir.path());
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "a.py:7:5: AWT101 blocking call `time.sleep` in async function `poll`; `convert` rewrites it (pass `sleep`)\n  |\n7 |     time.sleep(1)\n  |     ^\n"
    );
    assert_eq!(err, "1 finding in 1 of 1 file (1 fixable with `--fix`)\n");

    std::fs::write(dir.path().join("bad.py"), "def f(:\n").unwrap();
    let (code, _, err) = awaitify(&["check", "bad.py", "a.py"], dir.path());
    assert_eq!(code, 2, "an unparsable file is an error: {err}");
    assert!(err.starts_with("bad.py:1:"), "{err}");
    assert!(err.ends_with("1 finding in 1 of 2 files (1 fixable with `--fix`), 1 error\n"), "{err}");

    let (code, _, err) = awaitify(&["check", "--select", "XYZ1", "a.py"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("no rule code starts with `XYZ1`"), "{err}");
}

#[test]
fn cli_select_ignore_and_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), BLOCKING).unwrap();
    let (code, _, _) = awaitify(&["check", "--ignore", "AWT101", "a.py"], dir.path());
    assert_eq!(code, 0);
    let (code, _, _) = awaitify(&["check", "--select", "AWT2", "a.py"], dir.path());
    assert_eq!(code, 0);
    let (code, _, _) = awaitify(&["check", "--select", "AWT1", "a.py"], dir.path());
    assert_eq!(code, 1);
    let (code, _, _) = awaitify(&["check", "--per-file-ignores", "a.py:AWT101", "a.py"], dir.path());
    assert_eq!(code, 0);
    let (code, _, _) = awaitify(&["check", "--per-file-ignores", "b*.py:AWT101", "a.py"], dir.path());
    assert_eq!(code, 1);
    std::fs::write(dir.path().join("a.py"), BLOCKING.replace("sleep(1)", "sleep(1)  # awaitify: ignore[AWT101]"))
        .unwrap();
    let (code, _, _) = awaitify(&["check", "a.py"], dir.path());
    assert_eq!(code, 0);
    std::fs::write(dir.path().join("a.py"), BLOCKING.replace("sleep(1)", "sleep(1)  # awaitify: ignore[AWT201]"))
        .unwrap();
    let (code, _, _) = awaitify(&["check", "a.py"], dir.path());
    assert_eq!(code, 1, "another code's suppression does not hide it");
}

#[test]
fn cli_formats() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), BLOCKING).unwrap();
    let (code, out, _) = awaitify(&["check", "--output-format", "json", "a.py"], dir.path());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["findings"],
        serde_json::json!([{
            "path": "a.py", "line": 7, "col": 5, "code": "AWT101", "fix": "sleep",
            "message": "blocking call `time.sleep` in async function `poll`; `convert` rewrites it (pass `sleep`)",
        }])
    );
    assert_eq!(v["summary"], serde_json::json!({"files": 1, "findings": 1, "errors": 0}));

    let (_, out, _) = awaitify(&["check", "--output-format", "sarif", "a.py"], dir.path());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "awaitify");
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "AWT101");
    assert_eq!(run["results"][0]["ruleId"], "AWT101");
    assert_eq!(run["results"][0]["ruleIndex"], 0);
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"],
        serde_json::json!({"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 7, "startColumn": 5}})
    );

    // Walked from `.`, the path is `./a.py`; annotations name it `a.py`.
    let (_, out, _) = awaitify(&["check", "--output-format", "github", "."], dir.path());
    assert_eq!(
        out,
        "::warning file=a.py,line=7,col=5,title=AWT101::AWT101 blocking call `time.sleep` in async function `poll`; `convert` rewrites it (pass `sleep`)\n"
    );
}

#[test]
fn cli_fix_runs_the_named_passes_then_checks_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), BLOCKING).unwrap();
    let untouched = "import time\n\n\ndef sync_only():\n    time.sleep(1)\n";
    std::fs::write(dir.path().join("b.py"), untouched).unwrap();
    let (code, out, err) = awaitify(&["check", "--fix", "."], dir.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("fixed 1 file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        "import asyncio\nimport time\n\n\nasync def poll():\n    await asyncio.sleep(0)\n    await asyncio.sleep(1)\n"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("b.py")).unwrap(), untouched, "no finding, not touched");
}

/// `--fix` rewrites what was found, not everything `convert` would: a
/// blocking call in a sync function (not a finding) and a suppressed one stay.
#[test]
fn cli_fix_is_restricted_to_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let src = "import asyncio\nimport os\nimport subprocess\nimport time\n\n\ndef sync_only():\n    time.sleep(1)\n\n\nasync def poll():\n    await asyncio.sleep(0)\n    time.sleep(1)\n    subprocess.run([\"true\"])\n    os.remove(\"x\")  # awaitify: ignore[AWT101]\n    time.sleep(2)  # awaitify: ignore\n";
    std::fs::write(dir.path().join("a.py"), src).unwrap();
    let (code, _, err) = awaitify(&["check", "--fix", "a.py"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        "import asyncio\nimport os\nimport subprocess\nimport time\n\n\ndef sync_only():\n    time.sleep(1)\n\n\nasync def poll():\n    await asyncio.sleep(0)\n    await asyncio.sleep(1)\n    await asyncio.to_thread(subprocess.run, [\"true\"])\n    os.remove(\"x\")  # awaitify: ignore[AWT101]\n    time.sleep(2)  # awaitify: ignore\n"
    );
}

/// A module whose only work is a blocking call in a function already
/// async: `check` says `to_thread` fixes it, and `--fix` does.
#[test]
fn cli_fix_to_thread_alone() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        "import asyncio\nimport os\n\n\nasync def clean(path):\n    await asyncio.sleep(0)\n    os.remove(path)\n";
    std::fs::write(dir.path().join("a.py"), src).unwrap();
    let (code, out, _) = awaitify(&["check", "--output-format", "github", "a.py"], dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "::warning file=a.py,line=7,col=5,title=AWT101::AWT101 blocking call `os.remove` in async function `clean`; `convert` rewrites it (pass `to_thread`)\n"
    );
    let (code, _, err) = awaitify(&["check", "--fix", "a.py"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        src.replace("os.remove(path)", "await asyncio.to_thread(os.remove, path)")
    );
}

#[test]
fn cli_rules_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = awaitify(&["rules"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), check::rules::registry().len());
    assert!(out.starts_with("AWT101  blocking-call-in-async-function"), "{out}");
    let (code, out, _) = awaitify(&["explain", "AWT201"], dir.path());
    assert_eq!(code, 0);
    assert!(out.starts_with("# AWT201 (unawaited-coroutine)\n\n"), "{out}");
    let (code, out, _) = awaitify(&["explain", "sleep"], dir.path());
    assert_eq!(code, 0);
    assert!(out.starts_with("# sleep\n"), "{out}");
    let (code, _, err) = awaitify(&["explain", "AWT999"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("no pass or rule named `AWT999`"), "{err}");
}

// ---------------------------------------------------------------------------
// nothing left blocking silently

/// Every call of a module: its (line, col) -> (the names of the defs and
/// classes around it, outermost first, joined by `.`; the call's source text).
fn calls_by_position(text: &str, body: &[Stmt]) -> HashMap<(usize, usize), (String, String)> {
    use awaitify::syntax::visit::{Visitor, walk_expr, walk_stmt};
    use rustpython_parser::ast::Expr;
    struct C<'t> {
        text: &'t str,
        index: awaitify::source::LineIndex<'t>,
        scope: Vec<String>,
        out: HashMap<(usize, usize), (String, String)>,
    }
    impl<'a> Visitor<'a> for C<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            let name = match s {
                Stmt::FunctionDef(f) => Some(f.name.to_string()),
                Stmt::AsyncFunctionDef(f) => Some(f.name.to_string()),
                Stmt::ClassDef(c) => Some(c.name.to_string()),
                _ => None,
            };
            match name {
                Some(n) => {
                    self.scope.push(n);
                    walk_stmt(self, s);
                    self.scope.pop();
                }
                None => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e {
                let r = c.range;
                let at = self.index.line_col(r.start());
                let call = self.text[usize::from(r.start())..usize::from(r.end())].to_string();
                self.out.entry(at).or_insert((self.scope.join("."), call));
            }
            walk_expr(self, e);
        }
    }
    let mut c = C { text, index: awaitify::source::LineIndex::new(text), scope: vec![], out: HashMap::new() };
    c.visit_body(body);
    c.out
}

/// After `convert`, `check` reports no blocking call in async code that
/// `convert` did not report as left blocking. Over every e2e program with
/// each variant of tests/e2e.rs and every convert fixture run of
/// tests/fixtures.rs: each AWT101 finding on the output must match a
/// diagnostic of `convert` whose message says `left blocking`, at the same
/// call. `convert` reports positions in its input, `check` in the output;
/// a call is matched by the defs and classes around it (their names) and
/// its source text, which a call left as it was keeps in both.
#[test]
fn check_after_convert_finds_only_what_convert_reported_left_blocking() {
    let mut runs: Vec<(PathBuf, String, Options)> = vec![];
    let mut programs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/e2e/programs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    programs.sort();
    for p in programs {
        for (v, o) in common::variant_options() {
            runs.push((p.clone(), format!("e2e [{v}]"), o));
        }
    }
    runs.extend(common::fixture_runs());
    let mut failures = vec![];
    let (mut findings, mut matched) = (0, 0);
    for (path, variant, opts) in &runs {
        let display = path.strip_prefix(root()).unwrap().to_string_lossy().to_string();
        let d = decode(&std::fs::read(path).unwrap()).unwrap();
        let converted = awaitify::engine::convert(&d.text, d.newline, &display, opts).unwrap();
        let Some(out) = converted.output else { continue };
        let body_in = parse(&d.text, &display).unwrap();
        let body_out = parse(&out, &display).unwrap();
        let calls_in = calls_by_position(&d.text, &body_in);
        let calls_out = calls_by_position(&out, &body_out);
        let mut left: Vec<(String, String)> = converted
            .diagnostics
            .iter()
            .filter(|x| x.message.contains("left blocking"))
            .filter_map(|x| calls_in.get(&(x.line, x.col)).cloned())
            .collect();
        let report = check_text(&display, &out);
        for f in report.findings.iter().filter(|f| f.code == "AWT101") {
            findings += 1;
            let at = calls_out.get(&(f.line, f.col));
            match at.and_then(|c| left.iter().position(|l| l == c)) {
                Some(i) => {
                    left.remove(i);
                    matched += 1;
                }
                None => failures.push(format!("{variant}: {}", check::format::line(f))),
            }
        }
    }
    eprintln!(
        "{} converted runs: {findings} AWT101 findings on the outputs, {matched} reported left blocking",
        runs.len()
    );
    assert!(
        failures.is_empty(),
        "blocking calls in async code after `convert` that it did not report as left blocking:\n{}",
        failures.join("\n")
    );
}
