//! Nothing lost: what `convert` writes, and where, when files change during
//! the run, are links, read-only, owned by another user or hard-linked, when
//! the run is interrupted, and when lines end in a bare `\r`. The built
//! binary on real files in temporary directories (these tests run as root
//! in CI: the tool must check modes itself, the OS would let root write).
//!
//! Races are made deterministic in their verdict: the tool reads every file
//! before it writes any, and writes in path order, so once the first file
//! has been rewritten every file has been read. The test then stops the
//! process (SIGSTOP), checks that the last file is not written yet (if it
//! is, the test fails: it never passes without having edited a file in the
//! middle of the run), edits it and lets the process go on (SIGCONT).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SIMPLE: &str = "import time

def f():
    time.sleep(0)
    print(\"slept\")

def main():
    f()

if __name__ == \"__main__\":
    main()
";

fn awaitify() -> Command {
    Command::new(env!("CARGO_BIN_EXE_awaitify"))
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    awaitify().args(args).current_dir(dir).output().expect("cannot run awaitify")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| panic!("awaitify was killed by a signal: {:?}", out.status))
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    p
}

/// `SIMPLE` as `convert` writes it on its own (a second directory).
fn converted(text: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.py", text);
    let out = run_in(dir.path(), &["convert", "x.py"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let new = fs::read(p).unwrap();
    assert_ne!(new, text.as_bytes(), "nothing converted");
    new
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap();
    assert!(ok.success(), "kill {sig} failed");
}

/// A directory of `n` copies of `SIMPLE`, `f000.py`... in path order.
fn many(n: usize) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let files = (0..n).map(|i| write(dir.path(), &format!("f{i:03}.py"), SIMPLE)).collect();
    (dir, files)
}

/// Starts `awaitify ARGS` in `dir` and stops it (SIGSTOP) as soon as
/// `first` has been rewritten: every file has been read by then. Files are
/// written as they are converted; with `--threads 1` (and files of one
/// size) that is in path order, so those after `first` are not written yet.
// The caller waits for the child it is given.
#[allow(clippy::zombie_processes)]
fn start_and_stop_after_first_write(dir: &Path, first: &Path, args: &[&str]) -> Child {
    let mut child = awaitify()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run awaitify");
    let start = Instant::now();
    loop {
        if fs::read(first).is_ok_and(|b| b != SIMPLE.as_bytes()) {
            signal(&child, "-STOP");
            return child;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} was never written", first.display());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The temporary files left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

// ---------------------------------------------------------------------------
// 1. Edits made during a run

#[test]
fn a_file_edited_or_replaced_during_the_run_is_not_written() {
    let (dir, files) = many(300);
    let want = converted(SIMPLE);
    let mut child = start_and_stop_after_first_write(dir.path(), &files[0], &["convert", "--threads", "1", "."]);
    let (edited, replaced) = (&files[299], &files[298]);
    let late = fs::read(edited).unwrap() != SIMPLE.as_bytes() || fs::read(replaced).unwrap() != SIMPLE.as_bytes();
    if late {
        signal(&child, "-CONT");
        let _ = child.wait();
        panic!("the run had written the last files before the test could edit them: make the run longer");
    }
    // An editor saving in place, and `git checkout` (a new file renamed over it).
    let user = format!("{SIMPLE}# the user's edit\n");
    fs::write(edited, &user).unwrap();
    let fresh = write(dir.path(), "fresh.tmp.new", "print('replaced')\n");
    fs::rename(&fresh, replaced).unwrap();
    signal(&child, "-CONT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    for f in [edited, replaced] {
        let name = f.file_name().unwrap().to_string_lossy();
        let line = format!("./{name}: error: changed on disk during the run; not written\n");
        assert!(err.contains(&line), "no `{line}` in:\n{err}");
    }
    assert!(err.ends_with("298 files converted, 0 unchanged, 2 failed\n"), "stderr:\n{err}");
    assert_eq!(fs::read_to_string(edited).unwrap(), user, "the user's edit was overwritten");
    assert_eq!(fs::read_to_string(replaced).unwrap(), "print('replaced')\n", "the replacement was overwritten");
    for f in &files[..298] {
        assert_eq!(fs::read(f).unwrap(), want, "{}", f.display());
    }
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// 2. Symbolic links

#[test]
fn a_link_to_a_file_outside_the_paths_given_is_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let outside = write(dir.path(), "shared/lib.py", SIMPLE);
    write(dir.path(), "tree/app.py", SIMPLE);
    std::os::unix::fs::symlink("../shared/lib.py", dir.path().join("tree/lib.py")).unwrap();
    let out = run_in(dir.path(), &["convert", "tree"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(fs::read_to_string(&outside).unwrap(), SIMPLE, "the file outside the tree was rewritten");
    let real = fs::canonicalize(&outside).unwrap();
    let line = format!(
        "tree/lib.py: skipped: symbolic link to {}, which is not one of the files converted (outside the paths given, or excluded); name the link itself to convert that file\n",
        real.display()
    );
    let err = stderr(&out);
    assert!(err.contains(&line), "no `{line}` in:\n{err}");
    assert!(err.ends_with("1 file converted, 0 unchanged, 0 failed, 1 skipped\n"), "stderr:\n{err}");
    assert!(fs::symlink_metadata(dir.path().join("tree/lib.py")).unwrap().file_type().is_symlink());
}

#[test]
fn a_link_named_on_the_command_line_converts_the_file_it_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let outside = write(dir.path(), "shared/lib.py", SIMPLE);
    std::os::unix::fs::symlink("shared/lib.py", dir.path().join("tree_lib.py")).unwrap();
    let out = run_in(dir.path(), &["convert", "tree_lib.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(fs::read(&outside).unwrap(), converted(SIMPLE));
    let link = fs::symlink_metadata(dir.path().join("tree_lib.py")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced by a regular file");
}

#[test]
fn a_link_to_a_file_of_the_tree_is_converted_once_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = write(dir.path(), "pkg/impl.py", SIMPLE);
    std::os::unix::fs::symlink("impl.py", dir.path().join("pkg/alias.py")).unwrap();
    // The diff has the file once (`git apply` would refuse the link's hunk).
    let diff = run_in(dir.path(), &["convert", "--diff", "."]);
    assert_eq!(code(&diff), 0, "stderr: {}", stderr(&diff));
    let text = stdout(&diff);
    assert_eq!(text.matches("\n+++ b/").count() + usize::from(text.starts_with("+++")), 1, "diff:\n{text}");
    assert!(text.starts_with("--- a/pkg/impl.py\n"), "diff:\n{text}");
    let out = run_in(dir.path(), &["convert", "-v", "."]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("./pkg/alias.py: skipped: another name of ./pkg/impl.py, converted under that name\n"),
        "stderr:\n{err}"
    );
    assert!(err.ends_with("1 file converted, 0 unchanged, 0 failed, 1 skipped\n"), "stderr:\n{err}");
    assert_eq!(fs::read(&target).unwrap(), converted(SIMPLE));
    assert!(fs::symlink_metadata(dir.path().join("pkg/alias.py")).unwrap().file_type().is_symlink());
}

// ---------------------------------------------------------------------------
// 3. Permissions, owner, hard links

/// A read-only file is written as ruff and black write it (the acceptance
/// suite converts copies of read-only files), and keeps its mode.
#[test]
fn a_read_only_file_is_converted_and_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let ro = write(dir.path(), "ro.py", SIMPLE);
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).unwrap();
    let out = run_in(dir.path(), &["convert", "."]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(fs::read(&ro).unwrap(), converted(SIMPLE));
    assert_eq!(fs::metadata(&ro).unwrap().mode() & 0o7777, 0o444);
}

#[test]
fn a_file_the_user_may_not_write_is_not_written() {
    use std::os::unix::process::CommandExt;
    // The user owns the directory (may replace any file in it) and both
    // files, but one file's mode denies them writing: ruff and black would
    // fail to open it for writing, so it is kept, with an error.
    let dir = tempfile::tempdir().unwrap();
    let ro = write(dir.path(), "ro.py", SIMPLE);
    let rw = write(dir.path(), "rw.py", SIMPLE);
    for p in [dir.path(), &ro, &rw] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).unwrap();
    let out = awaitify()
        .args(["convert", "."])
        .current_dir(dir.path())
        .uid(65534)
        .gid(65534)
        .output()
        .expect("cannot run awaitify as another user");
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let line = "./ro.py: error: not writable by this user (permission denied); not written\n";
    assert!(err.contains(line), "no `{line}` in:\n{err}");
    assert_eq!(fs::read_to_string(&ro).unwrap(), SIMPLE);
    assert_eq!(fs::metadata(&ro).unwrap().mode() & 0o7777, 0o444);
    assert_eq!(fs::read(&rw).unwrap(), converted(SIMPLE));
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

#[test]
fn the_owner_and_group_of_a_file_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = write(dir.path(), "theirs.py", SIMPLE);
    std::os::unix::fs::chown(&theirs, Some(12345), Some(12346)).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o640)).unwrap();
    let out = run_in(dir.path(), &["convert", "theirs.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(fs::read(&theirs).unwrap(), converted(SIMPLE));
    let m = fs::metadata(&theirs).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (12345, 12346, 0o640));
}

#[test]
fn a_file_whose_owner_cannot_be_kept_is_not_written() {
    use std::os::unix::process::CommandExt;
    // A user that may replace the file (the directory is writable to all)
    // but cannot give the new file its owner.
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let theirs = write(dir.path(), "theirs.py", SIMPLE);
    std::os::unix::fs::chown(&theirs, Some(12345), Some(12345)).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o666)).unwrap();
    let out = awaitify()
        .args(["convert", "theirs.py"])
        .current_dir(dir.path())
        .uid(65534)
        .gid(65534)
        .output()
        .expect("cannot run awaitify as another user");
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let line = "theirs.py: error: owned by uid 12345 gid 12345: cannot give the new file that owner (Operation not permitted (os error 1)); not written\n";
    assert!(err.contains(line), "no `{line}` in:\n{err}");
    assert_eq!(fs::read_to_string(&theirs).unwrap(), SIMPLE);
    assert_eq!(fs::metadata(&theirs).unwrap().uid(), 12345);
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

#[test]
fn a_hard_linked_file_is_not_written_and_its_names_stay_linked() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "tree/a.py", SIMPLE);
    let other = dir.path().join("backup.py");
    fs::hard_link(&a, &other).unwrap();
    let out = run_in(dir.path(), &["convert", "tree"]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let line = "tree/a.py: error: has 2 hard links; not written (replacing it would leave the other names with the old text, writing it in place is not atomic; copy it to a file of its own to convert it)\n";
    assert!(err.contains(line), "no `{line}` in:\n{err}");
    assert_eq!(fs::read_to_string(&a).unwrap(), SIMPLE);
    assert_eq!(fs::metadata(&a).unwrap().ino(), fs::metadata(&other).unwrap().ino(), "the link was split");
}

// ---------------------------------------------------------------------------
// 4. Interrupted runs

fn interrupted_run_leaves_no_temporary(sig: &str, want: i32) {
    let (dir, files) = many(300);
    let done = converted(SIMPLE);
    let child = start_and_stop_after_first_write(dir.path(), &files[0], &["convert", "."]);
    signal(&child, sig);
    signal(&child, "-CONT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(want), "{sig}: {:?}, stderr: {}", out.status, stderr(&out));
    assert_eq!(temporaries(dir.path()), Vec::<String>::new(), "{sig} left temporaries");
    let mut written = 0;
    for f in &files {
        let now = fs::read(f).unwrap();
        assert!(now == SIMPLE.as_bytes() || now == done, "{} is half-written: {:?}", f.display(), now);
        written += usize::from(now == done);
    }
    assert!((1..300).contains(&written), "{written} files written");
}

#[test]
fn sigint_removes_the_temporary_file_and_exits_130() {
    interrupted_run_leaves_no_temporary("-INT", 130);
}

#[test]
fn sigterm_removes_the_temporary_file_and_exits_143() {
    interrupted_run_leaves_no_temporary("-TERM", 143);
}

/// The process id of a process that has exited.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

#[test]
fn a_later_run_removes_the_temporaries_of_a_run_that_died() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "pkg/a.py", SIMPLE);
    let pid = dead_pid();
    let stale = write(dir.path(), &format!("pkg/.a.py.awaitify-{pid}-Ab3dE9.tmp"), "half");
    // Another run, still going (this test's own process), and a file
    // that is only named alike.
    let live = write(dir.path(), &format!("pkg/.b.py.awaitify-{}-Xy12Zz.tmp", std::process::id()), "live");
    let other = write(dir.path(), "pkg/.notes.awaitify.tmp", "mine");
    let out = run_in(dir.path(), &["convert", "pkg"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let line = format!(
        "pkg/.a.py.awaitify-{pid}-Ab3dE9.tmp: note: removed a temporary file left by an interrupted run (process {pid})\n"
    );
    assert!(err.contains(&line), "no `{line}` in:\n{err}");
    assert!(!stale.exists(), "the stale temporary is still there");
    assert!(live.exists() && other.exists(), "a file that is not stale was removed");
    assert_eq!(fs::read(&a).unwrap(), converted(SIMPLE));
}

#[test]
fn after_sigkill_no_py_file_is_half_written_and_the_next_run_cleans_up() {
    let (dir, files) = many(300);
    let done = converted(SIMPLE);
    let child = start_and_stop_after_first_write(dir.path(), &files[0], &["convert", "."]);
    signal(&child, "-KILL");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), None, "not killed");
    for f in &files {
        let now = fs::read(f).unwrap();
        assert!(now == SIMPLE.as_bytes() || now == done, "{} is half-written", f.display());
    }
    let again = run_in(dir.path(), &["convert", "."]);
    assert_eq!(code(&again), 0, "stderr: {}", stderr(&again));
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    for f in &files {
        assert_eq!(fs::read(f).unwrap(), done, "{}", f.display());
    }
}

// ---------------------------------------------------------------------------
// 8. Lines ending in a bare `\r`

fn cr(text: &str) -> String {
    text.replace('\n', "\r")
}

/// The python that runs the programs (the test virtualenv's, else python3).
fn python() -> PathBuf {
    std::env::var_os("AWAITIFY_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

fn run_python(file: &Path) -> Output {
    Command::new(python()).arg(file).output().expect("cannot run python")
}

#[test]
fn a_cr_file_stays_cr_and_runs_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "mac.py", cr(SIMPLE));
    let before = run_python(&file);
    assert!(before.status.success(), "{}", String::from_utf8_lossy(&before.stderr));
    let out = run_in(dir.path(), &["convert", "mac.py"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let after = fs::read_to_string(&file).unwrap();
    assert!(!after.contains('\n'), "a `\\n` in:\n{after:?}");
    let lf = String::from_utf8(converted(SIMPLE)).unwrap();
    assert_eq!(after, cr(&lf), "not the LF file's conversion with `\\r` endings");
    let ran = run_python(&file);
    assert_eq!((ran.status.code(), &ran.stdout), (before.status.code(), &before.stdout));
    assert_eq!(stdout(&ran), "slept\n");
    let again = run_in(dir.path(), &["convert", "mac.py"]);
    assert!(stderr(&again).ends_with("0 files converted, 1 unchanged, 0 failed\n"), "{}", stderr(&again));
}

#[test]
fn the_diff_of_a_cr_file_applies_with_git_apply() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "mac.py", cr(SIMPLE));
    write(dir.path(), "unix.py", SIMPLE);
    let git = |args: &[&str], input: Option<&[u8]>| {
        use std::io::Write;
        let mut c = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run git");
        c.stdin.take().unwrap().write_all(input.unwrap_or_default()).unwrap();
        c.wait_with_output().unwrap()
    };
    assert!(git(&["init", "-q"], None).status.success());
    let diff = run_in(dir.path(), &["convert", "--diff", "."]);
    assert_eq!(code(&diff), 0, "stderr: {}", stderr(&diff));
    let apply = git(&["apply", "-"], Some(&diff.stdout));
    assert!(
        apply.status.success(),
        "git apply: {}\ndiff:\n{:?}",
        String::from_utf8_lossy(&apply.stderr),
        stdout(&diff)
    );
    let lf = String::from_utf8(converted(SIMPLE)).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), cr(&lf));
    assert_eq!(fs::read_to_string(dir.path().join("unix.py")).unwrap(), lf);
}

#[test]
fn positions_in_a_cr_file_count_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "mac.py", "import time\rdef f(:\r    pass\r");
    let out = run_in(dir.path(), &["convert", "mac.py"]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    assert!(stderr(&out).starts_with("mac.py:2:7: error: syntax error: "), "stderr: {}", stderr(&out));
    assert_eq!(fs::read(&file).unwrap(), b"import time\rdef f(:\r    pass\r");
    // A diagnostic of a pass, on line 9 of a CR file.
    let boundary =
        "import time\r\rdef warm():\r    time.sleep(1)\r\rclass C:\r    def __init__(self):\r        warm()\r\rC()\r";
    write(dir.path(), "b.py", boundary);
    let out = run_in(dir.path(), &["convert", "b.py"]);
    let err = stderr(&out);
    assert!(err.starts_with("b.py:4:5: [sleep] `time.sleep` left blocking: "), "stderr: {err}");
    assert!(err.contains("(8:9)"), "stderr: {err}");
}

#[test]
fn a_bare_cr_mixed_with_lf_is_refused_and_the_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let text = "import time\n\ndef f():\r    time.sleep(0)\n";
    let file = write(dir.path(), "mixed.py", text);
    let out = run_in(dir.path(), &["convert", "mixed.py"]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    let line = "mixed.py:3:9: error: mixed line endings: a bare `\\r` ends this line, `\\n` ends others; only files with one kind of line ending (`\\n`, `\\r\\n` or `\\r`) are converted\n";
    assert!(stderr(&out).starts_with(line), "stderr: {}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
}

// ---------------------------------------------------------------------------
// Big files: one big file does not hold back writing the others

/// About 600 KB of functions that call each other down to `time.sleep`:
/// a long chain that the colouring turns async from end to end, so its
/// conversion takes a good part of a second.
fn big_chain() -> String {
    let mut s = String::from("import time\n");
    for i in 0..12_000 {
        let next = if i == 0 { "0".to_string() } else { format!("f{}()", i - 1) };
        s.push_str(&format!("\n\ndef f{i}():\n    time.sleep(0)\n    return {next}\n"));
    }
    s
}

#[test]
fn a_small_file_is_written_while_a_big_one_is_still_being_converted() {
    let dir = tempfile::tempdir().unwrap();
    let big_text = big_chain();
    // First in path order: written first if files were written in order.
    let big = write(dir.path(), "a_big.py", &big_text);
    let small = write(dir.path(), "b_small.py", SIMPLE);
    let mut child = awaitify()
        .args(["convert", "--threads", "2", "."])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run awaitify");
    let start = Instant::now();
    let big_then = loop {
        if fs::read(&small).is_ok_and(|b| b != SIMPLE.as_bytes()) {
            break fs::read(&big).unwrap();
        }
        if start.elapsed() > Duration::from_secs(120) || child.try_wait().unwrap().is_some() {
            break fs::read(&big).unwrap();
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(fs::read(&small).unwrap(), converted(SIMPLE));
    assert_ne!(fs::read(&big).unwrap(), big_text.as_bytes(), "the big file was not converted");
    assert_eq!(big_then, big_text.as_bytes(), "the small file was written only after the big one");
}
