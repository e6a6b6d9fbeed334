//! The command line, driven as a user drives it: the built binary, real files
//! in a temporary directory, exit codes, stdout and stderr.
//!
//! Expected texts are compared byte for byte (no trimming, no dedent), except
//! the position of the inserted `import asyncio`, which is the import pass's
//! business and is not pinned here.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const SIMPLE: &str = "import time

def f():
    time.sleep(1)

def main():
    f()

if __name__ == \"__main__\":
    main()
";

/// `SIMPLE` converted, without the `import asyncio` line.
const SIMPLE_CONVERTED_REST: &str = "import time

async def f():
    await asyncio.sleep(1)

async def main():
    await f()

if __name__ == \"__main__\":
    asyncio.run(main())
";

const NOTHING_TO_DO: &str = "import sys


def main():
    # no blocking call here
    print(sys.argv)


if __name__ == \"__main__\":
    main()
";

const INIT_BOUNDARY: &str = "import time


def warm_up():
    time.sleep(0.1)


class Cache:
    def __init__(self):
        warm_up()


def main():
    Cache()


if __name__ == \"__main__\":
    main()
";

const SYNTAX_ERROR: &str = "def broken(:\n    pass\n";

fn awaitify() -> Command {
    Command::new(env!("CARGO_BIN_EXE_awaitify"))
}

/// Runs awaitify with `args` in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    awaitify().args(args).current_dir(dir).output().expect("cannot run awaitify")
}

/// Runs awaitify with `args`, feeding `stdin`.
fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = awaitify()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run awaitify");
    child.stdin.take().expect("stdin is piped").write_all(stdin).expect("cannot write stdin");
    child.wait_with_output().expect("cannot wait for awaitify")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("awaitify was killed by a signal")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts `text` is `SIMPLE` converted: one `import asyncio` line somewhere,
/// and exactly `SIMPLE_CONVERTED_REST` once it is removed.
fn assert_simple_converted(text: &str) {
    assert_eq!(text.matches("import asyncio\n").count(), 1, "one `import asyncio` expected in:\n{text}");
    let rest = text.replacen("import asyncio\n", "", 1);
    assert_eq!(rest, SIMPLE_CONVERTED_REST, "converted text:\n{text}");
}

/// Writes `dir/name` (creating parent directories) and returns its path.
fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().expect("a file has a parent")).expect("cannot create a test directory");
    fs::write(&p, text).expect("cannot write a test file");
    p
}

#[test]
fn convert_file_rewrites_it_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "simple.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "simple.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_simple_converted(&fs::read_to_string(&file).unwrap());
    assert!(out.stdout.is_empty(), "in-place conversion prints nothing on stdout: {}", stdout(&out));
}

#[test]
fn second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "simple.py", SIMPLE);
    assert_eq!(code(&run_in(dir.path(), &["convert", "simple.py"])), 0);
    let once = fs::read(&file).unwrap();
    let out = run_in(dir.path(), &["convert", "--check", "simple.py"]);
    assert_eq!(code(&out), 0, "converted output should be stable; stderr: {}", stderr(&out));
    assert_eq!(fs::read(&file).unwrap(), once);
}

#[test]
fn diff_prints_a_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "simple.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "--diff", "simple.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let diff = stdout(&out);
    assert!(diff.starts_with("--- a/simple.py\n+++ b/simple.py\n@@ "), "diff:\n{diff}");
    assert!(diff.contains("\n+import asyncio\n"), "diff:\n{diff}");
    assert!(diff.contains("\n-def f():\n"), "diff:\n{diff}");
    assert!(diff.contains("\n+async def f():\n"), "diff:\n{diff}");
    assert!(diff.contains("\n-    time.sleep(1)\n"), "diff:\n{diff}");
    assert!(diff.contains("\n+    await asyncio.sleep(1)\n"), "diff:\n{diff}");
    assert!(diff.contains("\n+    asyncio.run(main())\n"), "diff:\n{diff}");
    assert_eq!(fs::read_to_string(&file).unwrap(), SIMPLE, "--diff must not write");
}

/// Runs `git` in `dir`, failing the test if it fails.
fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run git (is it installed?)");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// What `diff_then_apply` did.
struct Applied {
    /// A git repository where the diff was applied with `git apply`.
    patched: tempfile::TempDir,
    /// The same files, converted in place by `awaitify convert .`.
    converted: tempfile::TempDir,
    /// The diff printed by `awaitify convert --diff .`.
    diff: String,
    /// The result of `git apply`.
    apply: Output,
}

/// Writes `files` into two directories; in the first (a git repository)
/// applies the output of `awaitify convert --diff .` with `git apply`, in
/// the second runs `awaitify convert .`.
fn diff_then_apply(files: &[(&str, &[u8])]) -> Applied {
    let patched = tempfile::tempdir().unwrap();
    let converted = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        write(patched.path(), name, bytes);
        write(converted.path(), name, bytes);
    }
    let init = git(patched.path(), &["init", "-q"], None);
    assert!(init.status.success(), "git init: {}", String::from_utf8_lossy(&init.stderr));

    let out = run_in(patched.path(), &["convert", "--diff", "."]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    for (name, bytes) in files {
        assert_eq!(&fs::read(patched.path().join(name)).unwrap(), bytes, "--diff wrote {name}");
    }
    let apply = git(patched.path(), &["apply", "-"], Some(&out.stdout));

    let conv = run_in(converted.path(), &["convert", "."]);
    assert_eq!(code(&conv), 0, "stderr: {}", stderr(&conv));
    Applied { patched, converted, diff: stdout(&out), apply }
}

#[test]
fn diff_applies_with_git_apply_and_matches_convert() {
    let crlf = SIMPLE.replace('\n', "\r\n");
    let files: &[(&str, &[u8])] = &[
        ("simple.py", SIMPLE.as_bytes()),
        ("untouched.py", NOTHING_TO_DO.as_bytes()),
        ("crlf.py", crlf.as_bytes()),
        ("examples/poller.py", include_bytes!("../examples/poller.py")),
        ("examples/rate_limiter.py", include_bytes!("../examples/rate_limiter.py")),
        ("examples/countdown.py", include_bytes!("../examples/countdown.py")),
    ];
    let r = diff_then_apply(files);
    assert!(
        r.apply.status.success(),
        "git apply failed: {}\ndiff:\n{}",
        String::from_utf8_lossy(&r.apply.stderr),
        r.diff
    );
    for (name, _) in files {
        assert_eq!(
            fs::read(r.patched.path().join(name)).unwrap(),
            fs::read(r.converted.path().join(name)).unwrap(),
            "{name}: `git apply` of the diff differs from `convert`"
        );
    }
    assert_simple_converted(&fs::read_to_string(r.converted.path().join("simple.py")).unwrap());
    assert_eq!(fs::read_to_string(r.converted.path().join("untouched.py")).unwrap(), NOTHING_TO_DO);
}

#[test]
fn diff_of_a_file_with_a_bom() {
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(SIMPLE.as_bytes());
    let r = diff_then_apply(&[("bom.py", &bom)]);
    // The diff is of the bytes as written: the BOM is on the first line of
    // both sides, so it matches the file on disk.
    assert!(r.diff.contains('\u{feff}'), "diff:\n{}", r.diff);
    assert!(
        r.apply.status.success(),
        "git apply failed: {}\ndiff:\n{}",
        String::from_utf8_lossy(&r.apply.stderr),
        r.diff
    );
    let patched = fs::read(r.patched.path().join("bom.py")).unwrap();
    assert_eq!(patched, fs::read(r.converted.path().join("bom.py")).unwrap(), "`git apply` differs from `convert`");
    let rest = patched.strip_prefix(b"\xef\xbb\xbf").expect("the BOM was dropped");
    let text = std::str::from_utf8(rest).unwrap();
    assert!(!text.contains('\u{feff}'), "a second BOM in:\n{text:?}");
    assert_simple_converted(text);
}

#[test]
fn diff_headers_of_absolute_and_dot_slash_paths() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "x.py", SIMPLE);
    let abs = file.to_str().expect("the temporary path is UTF-8");
    assert!(abs.starts_with('/'), "not absolute: {abs}");
    let rel = abs.trim_start_matches('/');

    let out = run_in(dir.path(), &["convert", "--diff", abs]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let diff = stdout(&out);
    assert!(diff.starts_with(&format!("--- a/{rel}\n+++ b/{rel}\n@@ ")), "diff:\n{diff}");
    // `-p1` from the root names the file again.
    let apply = git(Path::new("/"), &["apply", "-"], Some(&out.stdout));
    assert!(apply.status.success(), "git apply failed: {}\ndiff:\n{diff}", String::from_utf8_lossy(&apply.stderr));
    assert_simple_converted(&fs::read_to_string(&file).unwrap());

    write(dir.path(), "x.py", SIMPLE);
    for arg in ["./x.py", "././x.py", ".//x.py"] {
        let out = run_in(dir.path(), &["convert", "--diff", arg]);
        assert_eq!(code(&out), 0, "{arg}: stderr: {}", stderr(&out));
        let diff = stdout(&out);
        assert!(diff.starts_with("--- a/x.py\n+++ b/x.py\n@@ "), "{arg}: diff:\n{diff}");
    }
}

#[test]
fn check_exits_1_when_a_file_would_change_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "simple.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "--check", "simple.py"]);
    assert_eq!(code(&out), 1, "stderr: {}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), SIMPLE, "--check must not write");
}

#[test]
fn check_exits_0_when_nothing_would_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "plain.py", NOTHING_TO_DO);
    let out = run_in(dir.path(), &["convert", "--check", "plain.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), NOTHING_TO_DO);
}

#[test]
fn stdin_is_converted_to_stdout() {
    let out = run_with_stdin(&["convert", "-", "--stdin-filename", "x.py"], SIMPLE.as_bytes());
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_simple_converted(&stdout(&out));
}

#[test]
fn stdin_with_nothing_to_convert_passes_through() {
    let out = run_with_stdin(&["convert", "-", "--stdin-filename", "x.py"], NOTHING_TO_DO.as_bytes());
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), NOTHING_TO_DO);
}

#[test]
fn stdin_syntax_error_is_reported_under_the_stdin_filename() {
    let out = run_with_stdin(&["convert", "-", "--stdin-filename", "x.py"], SYNTAX_ERROR.as_bytes());
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.starts_with("x.py:1:") && l.contains(": error: ")), "stderr: {err}");
}

/// True if `line` is `{path}:{line}:{col}: error: ...` with numeric positions.
fn is_positioned_error(line: &str, path: &str) -> bool {
    let Some(rest) = line.strip_prefix(path).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(l), Some(c), Some(msg)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    numeric(l) && numeric(c) && msg.starts_with(" error: ")
}

#[test]
fn syntax_error_exits_2_and_other_files_are_still_converted() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.py", SYNTAX_ERROR);
    let good = write(dir.path(), "good.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "."]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| is_positioned_error(l, "./bad.py")),
        "no `./bad.py:line:col: error: ...` line in:\n{err}"
    );
    assert!(err.lines().any(|l| l.starts_with("./bad.py:1:")), "the error is on line 1:\n{err}");
    assert_eq!(fs::read_to_string(&bad).unwrap(), SYNTAX_ERROR);
    assert_simple_converted(&fs::read_to_string(&good).unwrap());
}

/// Python 3.13 syntax that `rustpython_ast` cannot hold (a PEP 696 type
/// parameter default): an error that says so, at the construct, and the file
/// left as it was (never a wrong tree).
#[test]
fn syntax_the_tree_cannot_hold_is_an_unsupported_syntax_error() {
    let text = "import time\n\n\ndef first[T = int](xs: list[T]) -> T:\n    time.sleep(1)\n    return xs[0]\n";
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "defaults.py", text);
    let out = run_in(dir.path(), &["convert", "defaults.py"]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "defaults.py:4:11: error: syntax error: unsupported syntax: a type parameter default (PEP 696) (awaitify cannot represent it yet)\n0 files converted, 0 unchanged, 1 failed\n"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn non_utf8_file_exits_2_and_is_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    // Latin-1 `é` in a comment, next to a sleep that would otherwise convert.
    let mut bytes = b"# caf\xe9\n".to_vec();
    bytes.extend_from_slice(SIMPLE.as_bytes());
    let file = write(dir.path(), "latin1.py", &bytes);
    let out = run_in(dir.path(), &["convert", "latin1.py"]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.starts_with("latin1.py:") && l.contains("error: ")), "stderr: {err}");
    assert_eq!(fs::read(&file).unwrap(), bytes);
}

#[test]
fn crlf_file_stays_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "crlf.py", SIMPLE.replace('\n', "\r\n"));
    let out = run_in(dir.path(), &["convert", "crlf.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "a bare LF in:\n{text:?}");
    assert_simple_converted(&text.replace("\r\n", "\n"));
}

#[test]
fn bom_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(SIMPLE.as_bytes());
    let file = write(dir.path(), "bom.py", &bytes);
    let out = run_in(dir.path(), &["convert", "bom.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let after = fs::read(&file).unwrap();
    let rest = after.strip_prefix(b"\xef\xbb\xbf").expect("the BOM was dropped");
    let text = std::str::from_utf8(rest).unwrap();
    assert!(!text.contains('\u{feff}'), "a second BOM in:\n{text:?}");
    assert_simple_converted(text);
}

#[cfg(unix)]
#[test]
fn permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "script.py", SIMPLE);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_in(dir.path(), &["convert", "script.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_simple_converted(&fs::read_to_string(&file).unwrap());
    let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755, "mode is {mode:o}");
}

#[test]
fn passes_lists_sleep_and_colour() {
    let out = awaitify().arg("passes").output().unwrap();
    assert_eq!(code(&out), 0);
    let names: Vec<String> =
        stdout(&out).lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
    assert!(names.iter().any(|n| n == "sleep"), "passes: {names:?}");
    assert!(names.iter().any(|n| n == "colour"), "passes: {names:?}");
}

#[test]
fn explain_sleep_prints_its_documentation() {
    let out = awaitify().args(["explain", "sleep"]).output().unwrap();
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("## What it does"), "stdout: {}", stdout(&out));
}

#[test]
fn explain_unknown_pass_exits_2() {
    let out = awaitify().args(["explain", "no-such-pass"]).output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no-such-pass"), "stderr: {}", stderr(&out));
}

#[test]
fn json_output_is_valid_and_describes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.py", SYNTAX_ERROR);
    write(dir.path(), "boundary.py", INIT_BOUNDARY);
    write(dir.path(), "good.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "--check", "--output-format", "json", "."]);
    assert_eq!(code(&out), 2, "a file failed; stderr: {}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(&out)));
    let files = doc["files"].as_array().expect("`files` is an array");
    assert_eq!(files.len(), 3, "{doc:#}");
    for f in files {
        assert!(f["path"].is_string(), "{f:#}");
        assert!(f["diagnostics"].is_array(), "{f:#}");
        assert!(f["edits"].is_u64(), "{f:#}");
        let outcome = f["outcome"].as_str().expect("`outcome` is a string");
        assert!(["changed", "unchanged", "failed"].contains(&outcome), "{f:#}");
        assert_eq!(f["error"].is_string(), outcome == "failed", "{f:#}");
    }
    let by_name = |n: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(n)))
            .unwrap_or_else(|| panic!("no entry for {n} in {doc:#}"))
    };
    assert_eq!(by_name("bad.py")["outcome"], "failed");
    assert_eq!(by_name("good.py")["outcome"], "changed");
    assert!(by_name("good.py")["edits"].as_u64().unwrap() > 0);
    let boundary = by_name("boundary.py");
    assert_eq!(boundary["outcome"], "unchanged");
    let diags = boundary["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty(), "{boundary:#}");
    for d in diags {
        assert!(d["line"].is_u64() && d["col"].is_u64() && d["pass"].is_string(), "{d:#}");
        assert!(d["message"].as_str().is_some_and(|m| m.contains("__init__")), "{d:#}");
    }
    assert!(doc["summary"].is_object(), "{doc:#}");
    // --check wrote nothing.
    assert_eq!(fs::read_to_string(dir.path().join("good.py")).unwrap(), SIMPLE);
}

#[test]
fn function_called_from_init_stays_sync_with_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "boundary.py", INIT_BOUNDARY);
    let out = run_in(dir.path(), &["convert", "boundary.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), INIT_BOUNDARY);
    let err = stderr(&out);
    // `time.sleep` is at 5:5; the diagnostic names the `__init__` boundary.
    assert!(
        err.lines().any(|l| l.starts_with("boundary.py:5:5: [sleep] ") && l.contains("__init__")),
        "stderr:\n{err}"
    );
}

#[test]
fn summary_line_counts_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", SIMPLE);
    write(dir.path(), "b.py", SIMPLE);
    write(dir.path(), "c.py", NOTHING_TO_DO);
    write(dir.path(), "d.py", SYNTAX_ERROR);
    let out = run_in(dir.path(), &["convert", "."]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert_eq!(err.lines().last(), Some("2 files converted, 1 unchanged, 1 failed"), "stderr:\n{err}");
}

#[test]
fn check_and_diff_say_would_be_converted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", SIMPLE);
    write(dir.path(), "c.py", NOTHING_TO_DO);
    for flag in ["--check", "--diff"] {
        let out = run_in(dir.path(), &["convert", flag, "-v", "."]);
        let err = stderr(&out);
        assert!(err.lines().any(|l| l.starts_with("./a.py: would be converted (")), "{flag}: stderr:\n{err}");
        assert!(!err.contains(": converted"), "{flag}: stderr:\n{err}");
        assert!(err.lines().any(|l| l == "./c.py: unchanged"), "{flag}: stderr:\n{err}");
        assert_eq!(
            err.lines().last(),
            Some("1 file would be converted, 1 unchanged, 0 failed"),
            "{flag}: stderr:\n{err}"
        );
        assert!(!stdout(&out).contains("would be converted"), "{flag}: stdout: {}", stdout(&out));
        assert_eq!(fs::read_to_string(dir.path().join("a.py")).unwrap(), SIMPLE, "{flag} wrote a.py");
    }
    let out = run_in(dir.path(), &["convert", "-v", "."]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.starts_with("./a.py: converted (")), "stderr:\n{err}");
    assert_eq!(err.lines().last(), Some("1 file converted, 1 unchanged, 0 failed"), "stderr:\n{err}");
}

#[test]
fn stdin_prints_no_summary_on_stdout() {
    for flags in [&[][..], &["--check"][..], &["--diff"][..]] {
        let mut args = vec!["convert", "-v", "-", "--stdin-filename", "x.py"];
        args.extend_from_slice(flags);
        let out = run_with_stdin(&args, SIMPLE.as_bytes());
        let text = stdout(&out);
        assert!(!text.contains(" files ") && !text.contains("unchanged"), "{flags:?}: stdout:\n{text}");
        match flags {
            [] => assert_simple_converted(&text),
            ["--check"] => assert_eq!(text, "", "--check prints nothing on stdout"),
            _ => assert!(text.starts_with("--- a/x.py\n+++ b/x.py\n@@ "), "{flags:?}: stdout:\n{text}"),
        }
    }
}

#[test]
fn quiet_suppresses_the_summary_and_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", SIMPLE);
    write(dir.path(), "boundary.py", INIT_BOUNDARY);
    let out = run_in(dir.path(), &["convert", "-q", "."]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "");
}

#[test]
fn unknown_pass_in_select_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "--select", "no-such-pass", "a.py"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no-such-pass"), "stderr: {}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), SIMPLE);
}

#[test]
fn bundled_examples_convert_as_documented() {
    // The README's quick start runs `convert --diff examples/`: every example
    // parses, the ones with boundaries or no sleeps stay as they are.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = run_in(root, &["convert", "--diff", "examples/"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let diff = stdout(&out);
    for changed in ["examples/countdown.py", "examples/fan_out.py", "examples/poller.py", "examples/rate_limiter.py"] {
        assert!(diff.contains(&format!("+++ b/{changed}\n")), "{changed} not in diff:\n{diff}");
    }
    for same in ["examples/boundaries.py", "examples/no_sleep.py"] {
        assert!(!diff.contains(same), "{same} in diff:\n{diff}");
    }
    let err = stderr(&out);
    assert!(err.contains("examples/boundaries.py:") && err.contains("__init__"), "stderr:\n{err}");
    assert!(err.contains("used as a value"), "stderr:\n{err}");
}

#[test]
fn functions_used_by_another_module_of_the_run_convert_together() {
    let dir = tempfile::tempdir().unwrap();
    let client = "import time\n\n\ndef fetch():\n    time.sleep(0.1)\n\n\ndef local():\n    time.sleep(0.1)\n\n\ndef main():\n    local()\n";
    let cli = "from client import fetch\nimport client as c\n\n\ndef run():\n    fetch()\n    c.main()\n";
    // A module that calls `local` at its top level: `local` (and `main`,
    // which calls it) cannot become async.
    let boot = "import client\n\nclient.local()\n";
    write(dir.path(), "client.py", client);
    write(dir.path(), "cli.py", cli);
    write(dir.path(), "boot.py", boot);
    let out = run_in(dir.path(), &["convert", "."]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let client_after = fs::read_to_string(dir.path().join("client.py")).unwrap();
    assert!(client_after.contains("\nasync def fetch():\n    await asyncio.sleep(0.1)\n"), "{client_after}");
    assert!(client_after.contains("\ndef local():\n    time.sleep(0.1)\n"), "{client_after}");
    assert!(client_after.contains("\ndef main():\n    local()\n"), "{client_after}");
    // The diagnostic shows the chain across files.
    assert!(stderr(&out).contains("`local` is called at module level (./boot.py:3:1)"), "{}", stderr(&out));
    let cli_after = fs::read_to_string(dir.path().join("cli.py")).unwrap();
    assert_eq!(
        cli_after,
        "from client import fetch\nimport client as c\n\n\nasync def run():\n    await fetch()\n    c.main()\n"
    );
    assert_eq!(fs::read_to_string(dir.path().join("boot.py")).unwrap(), boot);
}

#[test]
fn runtime_trio_writes_trio_calls() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "--runtime", "trio", "a.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("    await trio.sleep(1)\n"), "{text}");
    assert!(text.contains("    trio.run(main)\n"), "{text}");
    assert!(text.contains("import trio\n") && !text.contains("asyncio"), "{text}");
}

#[test]
fn aiohttp_on_trio_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "--runtime", "trio", "--http", "aiohttp", "a.py"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("aiohttp needs an asyncio event loop"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), SIMPLE);
}

#[test]
fn a_table_row_with_no_equivalent_in_the_runtime_is_left_with_a_diagnostic() {
    // A user row whose replacement is an asyncio function trio has no
    // counterpart for: under trio the call stays blocking, and says why.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rows.toml",
        "[[call]]\npass = \"sleep\"\nsync = \"gevent.sleep\"\nasync = \"asyncio.sleep_forever\"\nimport = \"asyncio\"\nawait = true\n",
    );
    let src = "import gevent\n\n\ndef f():\n    gevent.sleep(1)\n";
    let file = write(dir.path(), "a.py", src);
    let out = run_in(dir.path(), &["convert", "--runtime", "trio", "--tables", "rows.toml", "a.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), src);
    assert!(
        stderr(&out).contains("a.py:5:5: [sleep] `gevent.sleep` left blocking: its replacement `asyncio.sleep_forever` has no equivalent in trio"),
        "{}",
        stderr(&out)
    );
    // With asyncio the same row applies.
    let out = run_in(dir.path(), &["convert", "--tables", "rows.toml", "a.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(fs::read_to_string(&file).unwrap().contains("await asyncio.sleep_forever(1)"));
}

#[test]
fn check_fix_writes_the_chosen_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.py", "import time\n\n\nasync def f():\n    time.sleep(1)\n");
    let out = run_in(dir.path(), &["check", "--fix", "--runtime", "trio", "a.py"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("    await trio.sleep(1)\n") && !text.contains("asyncio"), "{text}");
}

// ---- Configuration and user rules ----

const LOCKED: &str = "import threading


class Counter:
    def __init__(self):
        self._lock = threading.Lock()
        self.n = 0

    def add(self):
        with self._lock:
            self.n += 1


def main():
    Counter().add()
";

const LOCKED_CONVERTED: &str = "import asyncio
import threading


class Counter:
    def __init__(self):
        self._lock = asyncio.Lock()
        self.n = 0

    async def add(self):
        async with self._lock:
            self.n += 1


async def main():
    await Counter().add()
";

const LOCK_RULE: &str = "[[tool.awaitify.rule]]
sync = \"threading.Lock\"
async = \"asyncio.Lock\"
async_with = true
";

#[test]
fn pyproject_rules_are_found_walking_up_from_the_first_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "proj/pyproject.toml", format!("[project]\nname = \"p\"\n\n{LOCK_RULE}"));
    let file = write(dir.path(), "proj/src/app/counter.py", LOCKED);
    // From elsewhere, with the file's path: the file's directories are searched.
    let out = run_in(dir.path(), &["convert", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), LOCKED_CONVERTED);
    // A pyproject.toml without [tool.awaitify] nearer to the file is skipped.
    write(dir.path(), "proj/src/pyproject.toml", "[project]\nname = \"inner\"\n");
    let again = write(dir.path(), "proj/src/app/again.py", LOCKED);
    let out = run_in(&dir.path().join("proj/src"), &["convert", "app/again.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&again).unwrap(), LOCKED_CONVERTED);
}

#[test]
fn stdin_finds_the_pyproject_of_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pyproject.toml", LOCK_RULE);
    let mut child = awaitify()
        .args(["convert", "-"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(LOCKED.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), LOCKED_CONVERTED);
}

#[test]
fn config_file_replaces_the_pyproject() {
    let dir = tempfile::tempdir().unwrap();
    // The pyproject would skip the sleep pass; --config is read instead.
    write(dir.path(), "pyproject.toml", "[tool.awaitify]\nignore = [\"sleep\"]\n");
    write(dir.path(), "ci/awaitify.toml", "target-version = \"py39\"\n");
    let f = write(dir.path(), "a.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "a.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&f).unwrap(), SIMPLE, "the pyproject's `ignore` applies");
    let out = run_in(dir.path(), &["convert", "--config", "ci/awaitify.toml", "a.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_simple_converted(&fs::read_to_string(&f).unwrap());
}

#[test]
fn command_line_flags_win_over_the_config() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pyproject.toml", "[tool.awaitify]\nruntime = \"trio\"\nselect = [\"to_thread\"]\n");
    write(dir.path(), "a.py", SIMPLE);
    // The config alone: only `to_thread`, which has nothing to do here.
    let out = run_in(dir.path(), &["convert", "--diff", "a.py"]);
    assert_eq!((code(&out), stdout(&out)), (0, String::new()), "{}", stderr(&out));
    // `--select` replaces the config's list; the config's runtime stays.
    let out = run_in(dir.path(), &["convert", "--diff", "--select", "sleep,colour", "a.py"]);
    assert!(stdout(&out).contains("+    await trio.sleep(1)\n"), "{}", stdout(&out));
    // `--runtime` replaces the config's runtime.
    let out = run_in(dir.path(), &["convert", "--diff", "--select", "sleep,colour", "--runtime", "asyncio", "a.py"]);
    assert!(stdout(&out).contains("+    await asyncio.sleep(1)\n"), "{}", stdout(&out));
}

#[test]
fn unknown_config_key_is_an_error_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"p\"\n\n[tool.awaitify]\nruntime = \"trio\"\n  taget-version = \"py39\"\n",
    );
    let f = write(dir.path(), "a.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "a.py"]);
    assert_eq!(code(&out), 2);
    let path = std::path::absolute(dir.path().join("pyproject.toml")).unwrap();
    assert_eq!(
        stderr(&out),
        format!(
            "{}:6:3: error: unknown field `taget-version`, expected one of `select`, `ignore`, `target-version`, `http`, `runtime`, `exclude`, `tables`, `rule`\n",
            path.display()
        )
    );
    assert_eq!(fs::read_to_string(&f).unwrap(), SIMPLE, "nothing is written");
    // `check` reads the same file, and fails the same way.
    let out = run_in(dir.path(), &["check", "a.py"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("pyproject.toml:6:3: error: unknown field `taget-version`"), "{}", stderr(&out));
    // An unknown field of a rule, in a --config file.
    write(dir.path(), "c.toml", "[[rule]]\nsync = \"a.b\"\nasync = \"c.d\"\nawiat = true\n");
    let out = run_in(dir.path(), &["convert", "--config", "c.toml", "a.py"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).starts_with(
            "c.toml:4:1: error: unknown field `awiat`, expected one of `sync`, `async`, `kind`, `await`, "
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wrong_config_types_are_errors_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", SIMPLE);
    let cases: &[(&str, &str)] = &[
        ("target-version = 311\n", "c.toml:1:18: error: "),
        ("exclude = \"build\"\n", "c.toml:1:11: error: invalid type: string \"build\", expected a sequence\n"),
        (
            "[[rule]]\nsync = \"a.b\"\nasync = \"c.d\"\nawait = \"yes\"\n",
            "c.toml:4:9: error: invalid type: string \"yes\", expected a boolean\n",
        ),
        (
            "[[rule]]\nsync = \"a.b\"\nasync = \"c.d\"\nkind = \"class\"\n",
            "c.toml:4:8: error: unknown variant `class`, expected one of `name`, `module`, `string`\n",
        ),
        (
            "[[rule]]\nsync = \"a.b\"\nasync = \"c\"\n",
            "c.toml:1:1: error: rule `a.b` -> `c`: `sync` and `async` must both be dotted (a qualified name) or both bare identifiers\n",
        ),
    ];
    for (text, want) in cases {
        write(dir.path(), "c.toml", text);
        let out = run_in(dir.path(), &["convert", "--config", "c.toml", "a.py"]);
        assert_eq!(code(&out), 2, "{text}");
        assert!(stderr(&out).starts_with(want), "{text}: {}", stderr(&out));
    }
}

#[test]
fn team_backend_rule_renames_and_awaits() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "awaitify.toml",
        "[[rule]]\nsync = \"teamlib.sync.SyncBackend\"\nasync = \"teamlib.aio.AsyncBackend\"\n\n\
         [[rule]]\nsync = \"fetch\"\nasync = \"fetch\"\nawait = true\n",
    );
    let f = write(
        dir.path(),
        "app.py",
        "from teamlib.sync import SyncBackend\n\n\ndef get(key):\n    b = SyncBackend()\n    return b.fetch(key)\n\n\ndef main():\n    print(get(1))\n",
    );
    let out = run_in(dir.path(), &["convert", "--config", "awaitify.toml", "app.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(&f).unwrap(),
        "from teamlib.aio import AsyncBackend\n\n\nasync def get(key):\n    b = AsyncBackend()\n    return await b.fetch(key)\n\n\nasync def main():\n    print(await get(1))\n"
    );
    let out = run_in(dir.path(), &["convert", "--config", "awaitify.toml", "--check", "app.py"]);
    assert_eq!(code(&out), 0, "a second run changes nothing: {}", stderr(&out));
}

#[test]
fn dunder_rules_make_a_context_manager_async() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rules.toml",
        "[[rule]]\nsync = \"__enter__\"\nasync = \"__aenter__\"\nasync_def = true\n\n\
         [[rule]]\nsync = \"__exit__\"\nasync = \"__aexit__\"\nasync_def = true\n\n\
         [[rule]]\nsync = \"Session\"\nasync = \"Session\"\nasync_with = true\n",
    );
    let f = write(
        dir.path(),
        "s.py",
        "class Session:\n    def __enter__(self):\n        return self\n\n    def __exit__(self, *exc):\n        return None\n\n\ndef work():\n    with Session() as s:\n        return s\n",
    );
    let out = run_in(dir.path(), &["convert", "--tables", "rules.toml", "s.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(&f).unwrap(),
        "class Session:\n    async def __aenter__(self):\n        return self\n\n    async def __aexit__(self, *exc):\n        return None\n\n\nasync def work():\n    async with Session() as s:\n        return s\n"
    );
}

#[test]
fn lock_rule_from_the_pyproject_and_a_rule_that_cannot_apply() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pyproject.toml", LOCK_RULE);
    let f = write(dir.path(), "c.py", LOCKED);
    let bad = LOCKED.replace("        with self._lock:\n", "        self._lock.acquire()\n        if True:\n");
    let g = write(dir.path(), "d.py", &bad);
    let out = run_in(dir.path(), &["convert", "c.py", "d.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&f).unwrap(), LOCKED_CONVERTED);
    assert_eq!(fs::read_to_string(&g).unwrap(), bad, "a lock used other than by `with` stays");
    assert!(
        stderr(&out).contains(
            "d.py:10:9: [rules] rule `threading.Lock` -> `asyncio.Lock` not applied in this module: `self._lock` is used other than by `with`"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn module_and_string_rules_with_relative_tables_and_excludes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rules/team.toml",
        "[[rule]]\nkind = \"module\"\nsync = \"teamlib.sync\"\nasync = \"teamlib.aio\"\n\n\
         [[rule]]\nkind = \"string\"\nsync = \"teamlib.sync\"\nasync = \"teamlib.aio\"\n",
    );
    // `tables` and `exclude` are relative to the pyproject's directory.
    write(dir.path(), "pyproject.toml", "[tool.awaitify]\ntables = [\"rules/team.toml\"]\nexclude = [\"legacy\"]\n");
    let src = "import teamlib.sync\nfrom teamlib.sync.db import connect\n\n\ndef test(mocker):\n    mocker.patch(\"teamlib.sync.db.connect\")\n    return teamlib.sync.VERSION, connect\n";
    let f = write(dir.path(), "app/m.py", src);
    let old = write(dir.path(), "legacy/m.py", src);
    let out = run_in(&dir.path().join("app"), &["convert", "."]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(&f).unwrap(),
        "import teamlib.aio\nfrom teamlib.aio.db import connect\n\n\ndef test(mocker):\n    mocker.patch(\"teamlib.aio.db.connect\")\n    return teamlib.aio.VERSION, connect\n"
    );
    // From `app/`, walking `..`: the glob is anchored at the pyproject's directory.
    let out = run_in(&dir.path().join("app"), &["convert", "-v", ".."]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("../app/m.py: unchanged"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&old).unwrap(), src, "excluded");
    let out = run_in(dir.path(), &["convert", "."]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&old).unwrap(), src, "excluded");
}

#[test]
fn explain_rules_prints_the_pass_doc() {
    let out = awaitify().args(["explain", "rules"]).output().unwrap();
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("# rules\n\nApplies the user's own rules"), "{}", stdout(&out));
    assert!(stdout(&out).contains("`async_def` (bare names)"));
}

#[test]
fn json_paths_are_named_as_the_diff_names_them() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pkg/good.py", SIMPLE);
    let json = run_in(dir.path(), &["convert", "--check", "--output-format", "json", "./pkg"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("stdout is JSON");
    assert_eq!(doc["files"][0]["path"], "pkg/good.py", "{doc:#}");
    let diff = run_in(dir.path(), &["convert", "--diff", "./pkg"]);
    assert!(stdout(&diff).starts_with("--- a/pkg/good.py\n+++ b/pkg/good.py\n"), "{}", stdout(&diff));
}

#[test]
fn convert_on_a_directory_without_python_files_says_so() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("empty")).unwrap();
    let out = run_in(dir.path(), &["convert", "empty"]);
    assert_eq!((code(&out), stderr(&out)), (0, "nothing to convert: no Python files under empty\n".to_string()));
    let check = run_in(dir.path(), &["check", "empty"]);
    assert_eq!((code(&check), stderr(&check)), (0, "nothing to check: no Python files under empty\n".to_string()));
}

#[test]
fn one_file_is_one_file_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.py", SIMPLE);
    let out = run_in(dir.path(), &["convert", "--check", "good.py"]);
    assert_eq!(stderr(&out), "1 file would be converted, 0 unchanged, 0 failed\n");
}

#[test]
fn passes_lists_names_and_summaries_in_two_aligned_columns() {
    let out = run_in(Path::new("."), &["passes"]);
    let text = stdout(&out);
    let starts: Vec<usize> = text
        .lines()
        .map(|l| {
            let name = l.split(' ').next().unwrap();
            name.len() + l[name.len()..].len() - l[name.len()..].trim_start().len()
        })
        .collect();
    assert!(starts.len() > 5, "{text}");
    assert!(starts.iter().all(|&s| s == starts[0]), "summaries start at {starts:?}:\n{text}");
}

#[test]
fn every_convert_option_has_help_text() {
    let out = run_in(Path::new("."), &["convert", "--help"]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        if t.starts_with("--") || (t.starts_with('-') && t.chars().nth(2) == Some(',')) {
            let next = lines.get(i + 1).map_or("", |n| n.trim());
            let has_text = t.split("  ").filter(|s| !s.trim().is_empty()).count() > 1
                || (!next.is_empty() && !next.starts_with('-') && !next.starts_with('['));
            assert!(has_text, "no help text for `{t}` in:\n{text}");
        }
    }
}
