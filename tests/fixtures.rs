//! Every fixture under `tests/fixtures/<pass>/*.py` is converted with the
//! default pipeline; its output, diff and diagnostics are snapshotted in
//! `snapshots/`, and each fixture is checked for: the output re-parses (also
//! with CPython when a python3 is available), a second run changes nothing,
//! two runs give the same bytes, and an unchanged file is byte-identical.
//! Fixtures under `tests/fixtures/http/` run with both `--http` backends,
//! those under `tests/fixtures/http_aiohttp/` with `--http aiohttp` only, and
//! those under `tests/fixtures/{runtime,pool,pytest}/` with each `--runtime` (asyncio,
//! trio, anyio), those under `tests/fixtures/sqlite_trio/` with `--runtime trio`,
//! those under `tests/fixtures/pytest_auto/` with `pytest_auto` (the project's
//! pytest plugin runs async tests without marks);
//! those under `tests/fixtures/target_py39/` with `--target-version py39` only,
//! those under `tests/fixtures/py313/` (3.12 and 3.13 syntax) compiled by a
//! CPython 3.13 when one is found,
//! those under `tests/fixtures/{taskgroup,timeout}/` also with
//! `--target-version py39` (snapshots `<dir>_py39__<case>`). A fixture with
//! a `<case>.toml` beside it runs with that file as extra tables (`--tables`),
//! as the user rules of `tests/fixtures/rules/` do.

mod common;

use awaitify::engine::{Options, convert};
use awaitify::output::unified_diff;
use awaitify::source::decode;

fn python() -> Option<String> {
    if let Ok(p) = std::env::var("AWAITIFY_PYTHON") {
        return Some(p);
    }
    std::process::Command::new("python3").arg("--version").output().ok().map(|_| "python3".to_string())
}

fn cpython_compiles(py: &str, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = std::process::Command::new(py)
        .args(["-c", "import sys; compile(sys.stdin.buffer.read(), 'fixture', 'exec')"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).to_string()) }
}

#[test]
fn fixtures_convert_as_snapshotted() {
    let py = python();
    let py313 = common::python313();
    if py313.is_none() {
        eprintln!("no CPython 3.13 found: the py313 fixtures are not compiled by CPython");
    }
    let mut failures = vec![];
    let runs = common::fixture_runs();
    for (path, pass, opts) in &runs {
        let case = path.file_stem().unwrap().to_string_lossy().to_string();
        let name = format!("{pass}__{case}");
        let bytes = std::fs::read(path).unwrap();
        let d = decode(&bytes).unwrap();
        let first = convert(&d.text, d.newline, &case, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let second = convert(&d.text, d.newline, &case, opts).unwrap();
        assert_eq!(first.output, second.output, "{name}: not deterministic");
        assert_eq!(first.diagnostics, second.diagnostics, "{name}: diagnostics not deterministic");
        let out = first.output.clone().unwrap_or_else(|| d.text.clone());
        if first.output.is_none() {
            assert_eq!(d.to_bytes(&out), bytes, "{name}: unchanged file must round-trip byte for byte");
        }
        // Re-parses, and means something to CPython too.
        awaitify::engine::parse(&out, &case).unwrap_or_else(|e| panic!("{name}: output does not parse: {e}"));
        let py = if pass == "py313" { &py313 } else { &py };
        if let Some(py) = py
            && let Err(e) = cpython_compiles(py, &out)
        {
            failures.push(format!("{name}: CPython rejects the output: {e}"));
        }
        // Idempotent.
        let again = convert(&out, d.newline, &case, opts).unwrap();
        assert!(again.output.is_none(), "{name}: second run changed the output:\n{}", again.output.unwrap());
        // Line endings kept.
        if d.newline == "\r\n" {
            assert!(!out.replace("\r\n", "").contains('\n'), "{name}: a bare LF was written into a CRLF file");
        }
        let diags: Vec<String> =
            first.diagnostics.iter().map(|x| format!("{}:{}: [{}] {}", x.line, x.col, x.pass, x.message)).collect();
        let snapshot = format!(
            "----- output -----\n{}\n----- diff -----\n{}\n----- diagnostics -----\n{}\n",
            out,
            unified_diff(&format!("{pass}/{case}.py"), &d.text, &out),
            diags.join("\n")
        );
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(name, snapshot);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The Example / Use instead sections of every pass's documentation are
/// themselves a test.
#[test]
fn pass_doc_examples_hold() {
    fn block_after<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
        let at = doc.find(heading)?;
        let rest = &doc[at..];
        let start = rest.find("```python\n")? + "```python\n".len();
        let end = rest[start..].find("```")?;
        Some(&rest[start..start + end])
    }
    for p in awaitify::passes::registry() {
        let doc = p.doc();
        for section in ["## What it does", "## Why is this bad", "## Example", "## Use instead", "## Fix safety"] {
            assert!(doc.contains(section), "pass {}: doc lacks `{section}`", p.name());
        }
        let before = block_after(doc, "## Example").unwrap();
        let after = block_after(doc, "## Use instead").unwrap();
        // A ```toml block in the Example section: the rules it runs with.
        let mut opts = Options::default();
        let example = &doc[doc.find("## Example").unwrap()..doc.find("## Use instead").unwrap()];
        if let Some(start) = example.find("```toml\n") {
            let text = &example[start + "```toml\n".len()..];
            let text = &text[..text.find("```").unwrap()];
            opts.tables.extend(awaitify::transforms::Tables::parse(text).unwrap());
        }
        let got = convert(before, "\n", "doc", &opts).unwrap();
        assert_eq!(got.output.as_deref(), Some(after), "pass {}: doc example", p.name());
    }
}
