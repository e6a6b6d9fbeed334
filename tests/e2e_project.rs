//! End to end, a whole project: `tests/e2e/projects/inventory/before/` is a
//! package (a JSON store, a service class behind a retry decorator from
//! another module, a CLI) with its pytest suite (a `conftest.py` fixture, a
//! `patch.object` of a method, a test that touches nothing async). Its suite
//! passes and its CLI runs; the built binary converts a copy as one run; the
//! converted suite must pass with the same number of tests, and the
//! converted CLI must print the same and leave the same file.
//!
//! Needs the test virtualenv (pytest, pytest-asyncio, aiofiles):
//! `./scripts/test.sh` creates it and sets `AWAITIFY_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> String {
    std::env::var("AWAITIFY_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "__pycache__" || n == ".pytest_cache") {
                continue;
            }
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn pytest(dir: &Path) -> String {
    let out = Command::new(python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(dir)
        .output()
        .expect("cannot run python (set AWAITIFY_PYTHON)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "pytest failed in {}:\n{text}", dir.display());
    text
}

fn cli(dir: &Path, db: &Path) -> String {
    std::fs::write(db, "{}").unwrap();
    let out = Command::new(python())
        .args(["-m", "inventory.cli", db.to_str().unwrap(), "apple", "pear", "apple"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "cli failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn passed(summary: &str) -> usize {
    let line = summary.lines().rev().find(|l| l.contains(" passed")).unwrap_or_else(|| panic!("{summary}"));
    assert!(!line.contains("failed") && !line.contains("error"), "{summary}");
    line.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_project_and_its_pytest_suite_convert_and_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/projects/inventory/before");
    let tmp = tempfile::tempdir().unwrap();
    let (orig, conv): (PathBuf, PathBuf) = (tmp.path().join("orig"), tmp.path().join("conv"));
    for d in [&orig, &conv] {
        std::fs::create_dir_all(d).unwrap();
        copy_tree(&root, d);
    }
    let before = passed(&pytest(&orig));
    assert_eq!(before, 5);
    let want = cli(&orig, &tmp.path().join("a.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_awaitify")).args(["convert", "."]).current_dir(&conv).output().unwrap();
    assert!(out.status.success(), "convert failed: {}", String::from_utf8_lossy(&out.stderr));
    let read = |p: &str| std::fs::read_to_string(conv.join(p)).unwrap();
    // The rewrites that make it work, across modules.
    let service = read("inventory/service.py");
    assert!(
        service.contains("    @retry(3)\n    async def count(self, item):\n        data = await self.store.load()"),
        "{service}"
    );
    assert!(read("inventory/retrying.py").contains("return await func(*args, **kwargs)"));
    let cli_py = read("inventory/cli.py");
    assert!(cli_py.contains("sys.exit(asyncio.run(main(sys.argv)))"), "{cli_py}");
    // A call through a function-local import is awaited (issue 14, item 8).
    assert!(cli_py.contains("return \"apples: \" + str(await Local(path).count(\"apple\"))"), "{cli_py}");
    let conftest = read("tests/conftest.py");
    assert!(conftest.contains("@pytest_asyncio.fixture\nasync def inv(tmp_path):"), "{conftest}");
    let tests = read("tests/test_service.py");
    assert_eq!(tests.matches("@pytest.mark.asyncio\nasync def test_").count(), 4, "{tests}");
    assert!(tests.contains("\ndef test_class_name():"), "{tests}");
    // The converted suite passes, the converted CLI does the same.
    assert_eq!(passed(&pytest(&conv)), before);
    assert_eq!(cli(&conv, &tmp.path().join("b.json")), want);
    assert_eq!(std::fs::read(tmp.path().join("a.json")).unwrap(), std::fs::read(tmp.path().join("b.json")).unwrap());
}

/// Runs an installed command as pip's generated script does: import the
/// entry function, call it with no arguments, exit with what it returns.
fn command(dir: &Path, func: &str, argv: &[&str]) -> (i32, String) {
    let script = format!("import sys\nfrom cmdtool.cli import {func}\nsys.argv = {argv:?}\nsys.exit({func}())\n");
    let out = Command::new(python()).args(["-c", &script]).current_dir(dir).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// `tests/e2e/projects/command/before/`: two commands of `[project.scripts]`
/// (a plain `main(argv=None)` and a click command) whose bodies become
/// async. Each must stay a sync function that runs the async body, so the
/// installed script prints and exits as before (a coroutine returned to
/// `sys.exit` exits 1 and prints nothing useful).
#[test]
fn installed_commands_keep_working_after_conversion() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/projects/command/before");
    let tmp = tempfile::tempdir().unwrap();
    let (orig, conv): (PathBuf, PathBuf) = (tmp.path().join("orig"), tmp.path().join("conv"));
    for d in [&orig, &conv] {
        std::fs::create_dir_all(d).unwrap();
        copy_tree(&root, d);
    }
    let (a, b) = (tmp.path().join("a.txt"), tmp.path().join("b.txt"));
    std::fs::write(&a, "a b\nccc dd\n").unwrap();
    std::fs::write(&b, "1\n2\n3\n4\n5\n").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let runs: [(&str, Vec<&str>); 3] = [
        ("main", vec!["count-lines", a, b]),
        ("words", vec!["count-words", "--min-length", "2", a, b]),
        ("words", vec!["count-words", a, b]),
    ];
    let want: Vec<(i32, String)> = runs.iter().map(|(f, argv)| command(&orig, f, argv)).collect();
    assert_eq!(want.iter().map(|w| w.0).collect::<Vec<_>>(), [3, 0, 4], "{want:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_awaitify")).args(["convert", "."]).current_dir(&conv).output().unwrap();
    assert!(out.status.success(), "convert failed: {}", String::from_utf8_lossy(&out.stderr));
    let cli = std::fs::read_to_string(conv.join("cmdtool/cli.py")).unwrap();
    assert!(cli.contains("def main(argv=None):\n    return asyncio.run(_main(argv))"), "{cli}");
    assert!(cli.contains("def words(paths, min_length):\n    return asyncio.run(_words(paths, min_length))"), "{cli}");
    assert!(std::fs::read_to_string(conv.join("cmdtool/store.py")).unwrap().contains("async def read(path):"));
    let got: Vec<(i32, String)> = runs.iter().map(|(f, argv)| command(&conv, f, argv)).collect();
    assert_eq!(got, want);
}
