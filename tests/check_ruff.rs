//! `awaitify check` against `ruff check --select ASYNC`, on the programs of
//! the end-to-end tests (`tests/e2e/programs/`):
//!
//! * made async by hand (every `def` becomes `async def`, the blocking calls
//!   stay; the convert fixtures too), every blocking call ruff reports (its `ASYNC2xx` rules: HTTP,
//!   subprocess, `open`, `time.sleep`, paths...) must be reported by `check`
//!   as AWT101 on the same line. ruff's other ASYNC rules are about other
//!   things (ASYNC109: a `timeout` parameter) and are not compared. The
//!   missing awaits `check` finds (AWT201), which ruff has no rule for, are
//!   counted;
//! * converted by `awaitify convert` (with each `--http` backend), `check`
//!   reports nothing that a pass of `convert` fixes.
//!
//! Needs the test virtualenv with ruff (`tests/requirements.txt`):
//! `./scripts/test.sh` creates it and sets `AWAITIFY_PYTHON`. Without it the
//! test fails, it does not skip.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    const HOW: &str = "run ./scripts/test.sh (it creates target/test-venv with tests/requirements.txt, ruff \
                       included, and sets AWAITIFY_PYTHON)";
    let py = match std::env::var_os("AWAITIFY_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => root().join("target/test-venv/bin/python"),
    };
    assert!(py.exists(), "no python with ruff: {} does not exist: {HOW}", py.display());
    let out = Command::new(&py).args(["-m", "ruff", "--version"]).output().unwrap();
    assert!(out.status.success(), "{} has no ruff: {HOW}\n{}", py.display(), String::from_utf8_lossy(&out.stderr));
    py
}

fn programs() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("tests/e2e/programs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

/// `awaitify check --output-format json` on a directory: its findings.
fn check(dir: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_awaitify"))
        .args(["check", "--output-format", "json", "-q"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "awaitify check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"].as_array().unwrap().clone()
}

fn file_name(p: &str) -> String {
    Path::new(p).file_name().unwrap().to_string_lossy().to_string()
}

/// The convert fixtures whose passes rewrite blocking calls.
fn convert_fixtures() -> Vec<PathBuf> {
    let mut out = vec![];
    for dir in ["sleep", "http", "http_aiohttp", "files", "to_thread", "colour"] {
        for e in std::fs::read_dir(root().join("tests/fixtures").join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "py") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Writes the files made async by hand (named `<dir>__<file>`), runs ruff
/// and check on them; returns (ruff's blocking findings, those check
/// misses, check's AWT101 count, check's AWT201 count).
fn compare_with_ruff(py: &Path, files: &[PathBuf]) -> (usize, Vec<String>, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    for p in files {
        let text = std::fs::read_to_string(p).unwrap();
        let body = awaitify::engine::parse(&text, "p").unwrap();
        let parent = p.parent().unwrap().file_name().unwrap().to_string_lossy();
        let name = format!("{parent}__{}", p.file_name().unwrap().to_string_lossy());
        std::fs::write(dir.path().join(name), common::async_by_hand(&text, &body)).unwrap();
    }
    let out = Command::new(py)
        .args(["-m", "ruff", "check", "--isolated", "--select", "ASYNC", "--output-format", "json", "--exit-zero"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "ruff failed: {}", String::from_utf8_lossy(&out.stderr));
    let ruff: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let blocking: Vec<(String, u64, String)> = ruff
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("ASYNC2"))
        .map(|f| {
            (
                file_name(f["filename"].as_str().unwrap()),
                f["location"]["row"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let findings = check(dir.path());
    let ours: BTreeSet<(String, u64)> = findings
        .iter()
        .filter(|f| f["code"] == "AWT101")
        .map(|f| (file_name(f["path"].as_str().unwrap()), f["line"].as_u64().unwrap()))
        .collect();
    let missed: Vec<String> = blocking
        .iter()
        .filter(|(f, l, _)| !ours.contains(&(f.clone(), *l)))
        .map(|(f, l, c)| format!("{f}:{l}: ruff {c}"))
        .collect();
    let awaits = findings.iter().filter(|f| f["code"] == "AWT201").count();
    (blocking.len(), missed, ours.len(), awaits)
}

#[test]
fn check_covers_ruff_async_on_async_by_hand_programs() {
    let py = python();
    for (what, files) in [("e2e programs", programs()), ("convert fixtures", convert_fixtures())] {
        let (blocking, missed, ours, awaits) = compare_with_ruff(&py, &files);
        eprintln!(
            "{what} ({} files) made async by hand: ruff ASYNC2xx blocking calls {blocking}, covered by AWT101 {}; AWT101 findings {ours}; missing awaits (AWT201) {awaits}",
            files.len(),
            blocking - missed.len(),
        );
        assert!(blocking > 0, "{what}: ruff found no blocking call: the comparison tests nothing");
        assert!(missed.is_empty(), "{what}: check misses blocking calls ruff reports:\n{}", missed.join("\n"));
        assert!(awaits > 0, "{what}: the async-by-hand programs drop coroutines; check found none");
    }
}

#[test]
fn check_finds_nothing_convert_fixes_in_converted_programs() {
    for backend in ["httpx", "aiohttp"] {
        let dir = tempfile::tempdir().unwrap();
        for p in programs() {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_awaitify"))
            .args(["convert", "-q", "--http", backend])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "convert failed: {}", String::from_utf8_lossy(&out.stderr));
        let findings = check(dir.path());
        let fixable: Vec<String> = findings
            .iter()
            .filter(|f| !f["fix"].is_null())
            .map(|f| format!("{}:{}: {} {}", f["path"], f["line"], f["code"], f["message"]))
            .collect();
        eprintln!("--http {backend}: {} findings after convert, {} fixable", findings.len(), fixable.len());
        assert!(
            fixable.is_empty(),
            "--http {backend}: check finds what convert should have fixed:\n{}",
            fixable.join("\n")
        );
    }
}

/// The missing awaits across modules (`tests/fixtures/check_projects/`):
/// `check` reports them; ruff's ASYNC rules report nothing on those lines.
#[test]
fn cross_module_missing_awaits_ruff_cannot_see() {
    let py = python();
    let dir = root().join("tests/fixtures/check_projects");
    let findings = check(&dir);
    let awaits: BTreeSet<(String, u64)> = findings
        .iter()
        .filter(|f| f["code"] == "AWT201" || f["code"] == "AWT202")
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap()))
        .collect();
    let out = Command::new(&py)
        .args(["-m", "ruff", "check", "--isolated", "--select", "ASYNC", "--output-format", "json", "--exit-zero"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "ruff failed: {}", String::from_utf8_lossy(&out.stderr));
    let ruff: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let seen: Vec<String> = ruff
        .iter()
        .filter(|f| {
            let file = f["filename"].as_str().unwrap();
            let row = f["location"]["row"].as_u64().unwrap();
            awaits.iter().any(|(p, l)| file.ends_with(p.trim_start_matches(dir.to_str().unwrap())) && *l == row)
        })
        .map(|f| f.to_string())
        .collect();
    eprintln!(
        "cross-module project: {} missing awaits / coroutines as truth values found by check, {} of them seen by ruff ASYNC ({} ruff findings in all)",
        awaits.len(),
        seen.len(),
        ruff.len()
    );
    assert!(awaits.len() >= 10, "check finds the project's missing awaits: {awaits:?}");
    assert!(seen.is_empty(), "{seen:?}");
}
