//! A short seeded run of the mutation fuzz (`scripts/fuzz.py`): a fixed
//! seed and number of inputs, so the inputs are the same on every run; no
//! panic, hang, internal error on valid input, non-compiling or
//! non-idempotent output, or lost comment is allowed.

#[test]
fn seeded_fuzz_run_finds_nothing() {
    let root = env!("CARGO_MANIFEST_DIR");
    let python = std::env::var("AWAITIFY_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(python)
        .arg(format!("{root}/scripts/fuzz.py"))
        .args(["--seed", "1", "--inputs", "300", "--jobs", "2", "--binary", env!("CARGO_BIN_EXE_awaitify"), "--out"])
        .arg(out.path())
        .output()
        .expect("python3 runs the fuzz script");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "fuzz found failures:\n{stdout}\n{stderr}");
    assert!(stdout.contains("inputs=300 ") && stdout.contains("failures=0"), "{stdout}\n{stderr}");
}
