//! End to end: a sync module with its pytest tests in one file
//! (`test_shop.py`: blocking helpers, fixtures, a generator fixture, a
//! parametrized test, a test class, a `patch(..., Mock(...))` and a test that
//! stays sync) passes under pytest; the built binary converts a copy, and the
//! converted file must be async where expected and pass too, with the same
//! number of tests:
//! * `--runtime asyncio`, pytest-asyncio strict mode: `@pytest.mark.asyncio`,
//!   `@pytest_asyncio.fixture`, `AsyncMock`;
//! * the same with `asyncio_mode = "auto"` in a `pyproject.toml` beside it: no
//!   markers, `@pytest.fixture` kept;
//! * `--runtime anyio`: `@pytest.mark.anyio` (anyio's plugin runs each async
//!   test on asyncio and on trio).
//!
//! Needs the test virtualenv (pytest, pytest-asyncio, anyio, trio):
//! `./scripts/test.sh` creates it and sets `AWAITIFY_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;

const PROGRAM: &str = r#"import time
from unittest.mock import Mock, patch

import pytest

PRICES = {"apple": 3, "pear": 5}


def lookup(name):
    time.sleep(0.01)
    return PRICES[name]


def total(names):
    s = 0
    for n in names:
        s += lookup(n)
    return s


@pytest.fixture
def basket():
    time.sleep(0.01)
    return ["apple", "pear"]


@pytest.fixture
def stock():
    items = {"apple": lookup("apple")}
    yield items
    items.clear()


def test_lookup():
    assert lookup("apple") == 3


@pytest.mark.parametrize("name,price", [("apple", 3), ("pear", 5)])
def test_param(name, price):
    assert lookup(name) == price


def test_total(basket):
    assert total(basket) == 8


def test_stock(stock):
    assert stock["apple"] == 3


def test_patched():
    with patch("test_shop.lookup", Mock(return_value=10)):
        assert total(["apple", "pear"]) == 20


class TestShop:
    def test_in_class(self):
        assert total(["pear"]) == 5


def test_sync():
    assert PRICES["pear"] == 5
"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test virtualenv's python (never a system python: it needs pytest and
/// its plugins).
fn python() -> PathBuf {
    const HOW: &str = "run ./scripts/test.sh (it creates target/test-venv with tests/requirements.txt \
                       and sets AWAITIFY_PYTHON)";
    let py = std::env::var_os("AWAITIFY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/test-venv/bin/python"));
    assert!(py.exists(), "{} does not exist: {HOW}", py.display());
    py
}

/// Runs pytest on `test_shop.py` in `dir`; returns its output, asserting it exits 0.
fn pytest(dir: &Path, extra: &[&str]) -> String {
    let out = Command::new(python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::RuntimeWarning"])
        .args(extra)
        .arg("test_shop.py")
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "pytest failed in {}:\n{text}", dir.display());
    text
}

/// The `N passed` of pytest's summary line (nothing failed, skipped or errored).
fn passed(output: &str) -> usize {
    let line = output.lines().rev().find(|l| l.contains(" passed")).unwrap_or_else(|| panic!("no summary:\n{output}"));
    assert!(
        !["failed", "error", "skipped", "xfail", "warning"].iter().any(|w| line.contains(w)),
        "unexpected summary `{line}`:\n{output}"
    );
    line.trim().split(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("summary `{line}`"))
}

/// Converts `test_shop.py` in a fresh directory (with `files` beside it) and
/// returns the directory and the converted text.
fn convert(args: &[&str], files: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test_shop.py");
    std::fs::write(&path, PROGRAM).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let conv = Command::new(env!("CARGO_BIN_EXE_awaitify")).arg("convert").args(args).arg(&path).output().unwrap();
    assert!(conv.status.success(), "convert failed: {}", String::from_utf8_lossy(&conv.stderr));
    let text = std::fs::read_to_string(&path).unwrap();
    (dir, text)
}

fn assert_contains(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "the converted file lacks `{n}`:\n{text}");
    }
}

/// The tests that call code that becomes async.
const ASYNC_TESTS: [&str; 5] = [
    "async def test_lookup():",
    "async def test_param(name, price):",
    "async def test_total(basket):",
    "async def test_patched():",
    "    async def test_in_class(self):",
];

#[test]
fn the_original_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test_shop.py"), PROGRAM).unwrap();
    assert_eq!(passed(&pytest(dir.path(), &[])), 8);
}

#[test]
fn strict_mode_conversion_passes() {
    let (dir, text) = convert(&[], &[]);
    assert_contains(&text, &ASYNC_TESTS);
    assert_contains(
        &text,
        &[
            "@pytest_asyncio.fixture\nasync def basket():",
            "@pytest_asyncio.fixture\nasync def stock():",
            "@pytest.mark.asyncio\n@pytest.mark.parametrize",
            "    @pytest.mark.asyncio\n    async def test_in_class(self):",
            "patch(\"test_shop.lookup\", AsyncMock(return_value=10))",
            "from unittest.mock import AsyncMock\n",
            // pytest-asyncio runs async fixtures for sync tests too.
            "\ndef test_stock(stock):",
            "\ndef test_sync():",
        ],
    );
    assert_eq!(text.matches("@pytest.mark.asyncio\n").count(), 5, "{text}");
    assert_eq!(passed(&pytest(dir.path(), &["-p", "no:anyio"])), 8);
}

#[test]
fn auto_mode_conversion_passes() {
    let config = "[tool.pytest.ini_options]\nasyncio_mode = \"auto\"\n";
    let (dir, text) = convert(&[], &[("pyproject.toml", config)]);
    assert_contains(&text, &ASYNC_TESTS);
    assert_contains(&text, &["@pytest.fixture\nasync def basket():", "@pytest.fixture\nasync def stock():"]);
    assert!(!text.contains("pytest.mark.asyncio") && !text.contains("pytest_asyncio"), "{text}");
    assert_eq!(passed(&pytest(dir.path(), &["-p", "no:anyio"])), 8);
}

#[test]
fn anyio_conversion_passes() {
    let (dir, text) = convert(&["--runtime", "anyio"], &[]);
    assert_contains(&text, &ASYNC_TESTS);
    // anyio runs async fixtures only for async tests: `test_stock` is one.
    assert_contains(
        &text,
        &[
            "@pytest.fixture\nasync def basket():",
            "await anyio.sleep(0.01)",
            "async def test_stock(stock):",
            "\ndef test_sync():",
        ],
    );
    assert_eq!(text.matches("@pytest.mark.anyio\n").count(), 6, "{text}");
    // anyio's plugin runs every async test on asyncio and on trio: 7 twice,
    // plus the sync test.
    assert_eq!(passed(&pytest(dir.path(), &["-p", "no:asyncio"])), 15);
}
