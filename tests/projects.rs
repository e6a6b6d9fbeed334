//! Multi-file fixture projects: `tests/fixtures/projects/<case>/before/` is
//! converted as one run (`awaitify convert .` in a copy, with the options in
//! `<case>/args` if any, one per line), and the result must equal
//! `<case>/after/` byte for byte. The diff and the diagnostics are
//! snapshotted (`snapshots/projects__<case>.snap`). Each case is also
//! checked for: every output file compiles with CPython, a second run
//! changes nothing, one thread and several give the same bytes.
//!
//! `AWAITIFY_BLESS=1` rewrites the `after/` trees from the tool's output
//! (review them with `git diff` before committing).

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_awaitify")
}

fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![];
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "__pycache__" || n == ".pytest_cache") {
                    continue;
                }
                walk(root, &p, out);
            } else {
                out.push((p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    walk(root, root, &mut out);
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
}

fn run(dir: &Path, args: &[String]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn python() -> Option<String> {
    if let Ok(p) = std::env::var("AWAITIFY_PYTHON") {
        return Some(p);
    }
    Command::new("python3").arg("--version").output().ok().map(|_| "python3".to_string())
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects");
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    out.sort();
    out
}

#[test]
fn projects_convert_as_snapshotted() {
    let bless = std::env::var_os("AWAITIFY_BLESS").is_some();
    let py = python();
    let cases = cases();
    assert!(cases.len() >= 5, "expected fixture projects, found {}", cases.len());
    let mut failures = vec![];
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let extra: Vec<String> = std::fs::read_to_string(case.join("args"))
            .map(|s| s.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("p");
        copy_tree(&case.join("before"), &work);
        let mut args: Vec<String> = vec!["convert".into(), "--diff".into()];
        args.extend(extra.iter().cloned());
        args.push(".".into());
        let (code, diff, err) = run(&work, &args);
        assert!(code == 0 || code == 1, "{name}: convert --diff exited {code}: {err}");
        // One thread gives the same bytes.
        let mut one = args.clone();
        one.insert(1, "--threads=1".into());
        let (_, diff1, err1) = run(&work, &one);
        assert_eq!(diff, diff1, "{name}: output depends on the thread count");
        assert_eq!(err, err1, "{name}: diagnostics depend on the thread count");
        // Write, compare with after/.
        let mut write: Vec<String> = vec!["convert".into()];
        write.extend(extra.iter().cloned());
        write.push(".".into());
        let (code, _, err) = run(&work, &write);
        assert_eq!(code, 0, "{name}: convert exited {code}: {err}");
        let got = tree(&work);
        if bless {
            let after = case.join("after");
            let _ = std::fs::remove_dir_all(&after);
            copy_tree(&work, &after);
        } else {
            let want = tree(&case.join("after"));
            let names = |t: &[(PathBuf, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
            assert_eq!(names(&got), names(&want), "{name}: the converted tree has other files than after/");
            for ((p, g), (_, w)) in got.iter().zip(&want) {
                if g != w {
                    failures.push(format!(
                        "{name}: {} differs from after/:\n{}",
                        p.display(),
                        String::from_utf8_lossy(g)
                    ));
                }
            }
        }
        // Idempotent: a second run changes nothing.
        let mut check: Vec<String> = vec!["convert".into(), "--check".into()];
        check.extend(extra.iter().cloned());
        check.push(".".into());
        let (code, out, err2) = run(&work, &check);
        assert_eq!(code, 0, "{name}: a second run would change files:\n{out}{err2}");
        // Every file compiles with CPython.
        if let Some(py) = &py {
            let out = Command::new(py)
                .args(["-c", "import sys, pathlib\nfor p in sorted(pathlib.Path('.').rglob('*.py')):\n    compile(p.read_bytes(), str(p), 'exec')"])
                .current_dir(&work)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: CPython rejects the output: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let snapshot = format!("----- diff -----\n{diff}\n----- diagnostics -----\n{err}");
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(format!("projects__{name}"), snapshot);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
