//! End-to-end behaviour of the conversion: real sync programs
//! (`tests/e2e/programs/*.py`: HTTP, files, sqlite) talk to a local HTTP server
//! (`tests/e2e/server.py`, on 127.0.0.1, started here) before and after
//! conversion, with each variant: the HTTP backends (`--http httpx`, `--http
//! aiohttp`) on asyncio, and httpx on the other runtimes (`--runtime trio`,
//! `--runtime anyio`).
//!
//! For every program and backend: the original runs in a fresh temporary
//! directory; a copy is converted by the built binary; the converted copy must
//! be async (`async def`, and no `requests` call left inside an `async def`);
//! it then runs in another fresh directory. Standard output, exit code and the
//! files each run left behind must be identical, byte for byte. All mismatches
//! are reported at once.
//!
//! Every converted program is also checked with `ruff check --select ASYNC`:
//! a blocking call left inside an `async def` must be one the tool reported.
//!
//! Two tables record what is known, and are checked both ways (an entry that
//! no longer holds fails the test, so it must be removed):
//! * `LEFT_SYNC`: programs the tool leaves sync with a backend, and why;
//! * `KNOWN_DIFFERENCES`: conversion bugs: the converted program behaves
//!   differently; the exact mismatch is pinned, so a program that starts to
//!   pass, or to fail differently, fails the test.
//!
//! Needs the test virtualenv (requests, httpx, aiohttp, aiofiles, aiosqlite, trio, anyio): `./scripts/test.sh`
//! creates it and sets `AWAITIFY_PYTHON`.

use similar::{ChangeTag, TextDiff};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The variants every program is converted with: a name and the options.
const VARIANTS: [(&str, &[&str]); 4] = [
    ("httpx", &["--http", "httpx"]),
    ("aiohttp", &["--http", "aiohttp"]),
    ("trio", &["--runtime", "trio"]),
    ("anyio", &["--runtime", "anyio"]),
];

/// The longest a single program run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Programs run in parallel, this many at a time.
const WORKERS: usize = 3;

/// A program the tool leaves sync (no `async def` in its output) with a backend.
struct LeftSync {
    program: &'static str,
    backend: &'static str,
    reason: &'static str,
}

const THREAD_POOL_TRIO: &str = "thread pools become tasks only with `--runtime asyncio` (trio and anyio have no task \
                                objects for the futures): the functions they run stay sync, and so does the program";

const LEFT_SYNC: &[LeftSync] = &[
    LeftSync { program: "thread_pool", backend: "trio", reason: THREAD_POOL_TRIO },
    LeftSync { program: "thread_pool", backend: "anyio", reason: THREAD_POOL_TRIO },
    LeftSync {
        program: "session_sync",
        backend: "aiohttp",
        reason: "`session.auth = (...)` cannot be set on an aiohttp.ClientSession (it is a constructor argument): \
                 the module's requests code is not converted",
    },
    LeftSync {
        program: "redirects",
        backend: "aiohttp",
        reason: "`r.is_redirect` has no aiohttp mapping (22:27): the module's HTTP code stays sync",
    },
];

/// A conversion bug: the converted program's behaviour differs. `mismatch` is
/// the exact mismatch summary the test computes (see `compare`), with the
/// server's address written `$BASE_URL` / `$DEAD_URL`.
struct KnownDifference {
    program: &'static str,
    backend: &'static str,
    bug: &'static str,
    mismatch: &'static [&'static str],
}

const HTTPX_TEXT_DECODING: &str = "`r.text` of a `text/plain` body with no charset (/notes): requests decodes it as \
    ISO-8859-1 (its default for text/*), httpx as UTF-8 (`default_encoding`), so the converted program prints other text";
const HTTPX_TEXT_MISMATCH: &[&str] =
    &["stdout -   body: ['crÃ¨me brÃ»lÃ©e: 4 portions']", "stdout +   body: ['crème brûlée: 4 portions']"];

const KNOWN_DIFFERENCES: &[KnownDifference] = &[
    KnownDifference { program: "responses", backend: "httpx", bug: HTTPX_TEXT_DECODING, mismatch: HTTPX_TEXT_MISMATCH },
    KnownDifference { program: "responses", backend: "trio", bug: HTTPX_TEXT_DECODING, mismatch: HTTPX_TEXT_MISMATCH },
    KnownDifference { program: "responses", backend: "anyio", bug: HTTPX_TEXT_DECODING, mismatch: HTTPX_TEXT_MISMATCH },
    KnownDifference {
        program: "responses",
        backend: "aiohttp",
        bug: "`r.text` of a `text/plain` body with no charset (/notes): requests decodes it as ISO-8859-1 (its \
              default for text/*), aiohttp as UTF-8 (its fallback charset resolver), so the converted program \
              prints other text",
        mismatch: HTTPX_TEXT_MISMATCH,
    },
];

/// Text a converted program must contain with a variant: programs that are
/// async already (so `async def` proves nothing) show their rewrites here,
/// and so do programs that other calls would make async anyway (the sqlite
/// and file programs: `time.sleep` alone makes them async).
const EXPECTED_TEXT: &[(&str, &str, &[&str])] = &[
    (
        "calls_apart",
        "httpx",
        &[
            "async with httpx.AsyncClient(follow_redirects=True, timeout=None, verify=_tls_context()) as client:",
            "@functools.cache\ndef _tls_context():\n    return httpx.create_ssl_context()",
        ],
    ),
    (
        "thread_pool",
        "httpx",
        &[
            "pool = asyncio.Semaphore(3)",
            "futures = {asyncio.create_task(run_in_pool(item, i)): i for i in ids}",
            "await asyncio.gather(*futures, return_exceptions=True)",
            "return list(t.result() for t in tasks)",
            "names = [data[\"name\"] for data in (t.result() for t in tasks)]",
        ],
    ),
    (
        "asyncio_idioms",
        "httpx",
        &[
            "async with asyncio.TaskGroup() as tg:",
            "except* ValueError:",
            "async with asyncio.timeout(0.05):",
            "await asyncio.to_thread(digest, b\"first\")",
            "asyncio.create_task(square(9))",
            "code = asyncio.run(main())",
        ],
    ),
    (
        "asyncio_leftovers",
        "httpx",
        &[
            "async with asyncio.timeout(2):\n        result = await square(4)\n    print(\"square\", result)",
            "total = limit + result_1",
            "async with asyncio.timeout(limit):",
            "return [result_3, len(\"ab\")][0] - 4",
            "code = asyncio.run(main(0.05))",
        ],
    ),
    (
        "sqlite_ledger",
        "httpx",
        &[
            "conn = await aiosqlite.connect(path)",
            "        await conn.close()\n        raise",
            "            await conn.commit()\n        except BaseException:\n            await conn.rollback()",
            "async for row in cur:",
            "async with aiosqlite.connect(path) as conn:",
            "await (await conn.execute(\"SELECT SUM(balance) FROM accounts\")).fetchone()",
        ],
    ),
    ("sqlite_ledger", "anyio", &["conn = await aiosqlite.connect(path)", "anyio.run(main)"]),
    ("sync_to_db", "aiohttp", &["conn = await aiosqlite.connect(\"inventory.db\")", "await conn.close()"]),
    (
        "file_forms",
        "httpx",
        &[
            "out = await aiofiles.open(path, \"w\", encoding=\"utf-8\")",
            "await f.close()",
            "config = json.loads(await f_1.read())",
            "async with aiofiles.open(path, \"a\", encoding=\"utf-8\") as f_1:",
        ],
    ),
    ("file_forms", "trio", &["f = await trio.open_file(path, encoding=\"utf-8\")", "await f.aclose()"]),
];

// ---------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test virtualenv's python: `AWAITIFY_PYTHON`, else
/// `target/test-venv/bin/python`. Never falls back to a system python: the
/// programs need requests, httpx, aiohttp, aiofiles, trio and anyio.
fn python() -> PathBuf {
    const HOW: &str = "run ./scripts/test.sh (it creates target/test-venv with tests/requirements.txt \
                       and sets AWAITIFY_PYTHON)";
    let py = match std::env::var_os("AWAITIFY_PYTHON") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(p.exists(), "AWAITIFY_PYTHON={} does not exist: {HOW}", p.display());
            p
        }
        None => {
            let p = root().join("target/test-venv/bin/python");
            assert!(
                p.exists(),
                "the e2e tests need a python with requests, httpx, aiohttp, aiofiles, trio and anyio: AWAITIFY_PYTHON is not set and {} \
                 does not exist: {HOW}",
                p.display()
            );
            p
        }
    };
    let out = Command::new(&py)
        .args(["-c", "import requests, httpx, aiohttp, aiofiles, trio, anyio"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}: {HOW}", py.display()));
    assert!(
        out.status.success(),
        "{} lacks the e2e test packages: {HOW}\n{}",
        py.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    py
}

/// The local HTTP server; killed when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(py: &Path) -> Server {
        let mut child = Command::new(py)
            .arg(root().join("tests/e2e/server.py"))
            .stdin(Stdio::piped()) // the server stops when its stdin closes
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/e2e/server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("tests/e2e/server.py did not print its port (got {line:?})")
        });
        Server { child, base_url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A URL on 127.0.0.1 where nothing listens.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
    timed_out: bool,
    files: BTreeMap<String, Vec<u8>>,
}

struct Env<'a> {
    py: &'a Path,
    base_url: &'a str,
    dead_url: &'a str,
}

/// Runs `script` with the current directory a fresh, empty temporary
/// directory, and collects what it printed and the files it left there.
fn run(env: &Env, script: &Path) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let out_path = logs.path().join("stdout");
    let err_path = logs.path().join("stderr");
    let mut cmd = Command::new(env.py);
    cmd.arg(script)
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .env("BASE_URL", env.base_url)
        .env("DEAD_URL", env.dead_url)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONIOENCODING", "utf-8")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > RUN_TIMEOUT {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut files = BTreeMap::new();
    collect_files(cwd.path(), cwd.path(), &mut files);
    Run {
        stdout: String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned(),
        code: if timed_out { None } else { status.code() },
        timed_out,
        files,
    }
}

fn collect_files(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
        if p.is_dir() {
            out.insert(format!("{rel}/"), vec![]);
            collect_files(base, &p, out);
        } else {
            let mut bytes = vec![];
            std::fs::File::open(&p).unwrap().read_to_end(&mut bytes).unwrap();
            out.insert(rel, bytes);
        }
    }
}

/// The last line of a Python traceback in `stderr`, if there is one.
fn exception(stderr: &str) -> Option<&str> {
    if !stderr.contains("Traceback (most recent call last)") {
        return None;
    }
    stderr.lines().rev().find(|l| !l.trim().is_empty() && !l.starts_with(' '))
}

/// The differences between two runs, one per line; empty if they agree.
fn compare(env: &Env, before: &Run, after: &Run) -> Vec<String> {
    let norm = |s: &str| s.replace(env.base_url, "$BASE_URL").replace(env.dead_url, "$DEAD_URL");
    let mut out = vec![];
    if after.timed_out {
        out.push(format!("timed out after {}s", RUN_TIMEOUT.as_secs()));
    } else if before.code != after.code {
        out.push(format!("exit code: {:?} -> {:?}", before.code, after.code));
    }
    if before.stdout != after.stdout {
        for change in TextDiff::from_lines(&before.stdout, &after.stdout).iter_all_changes() {
            let sign = match change.tag() {
                ChangeTag::Equal => continue,
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            let line = change.value().strip_suffix('\n').unwrap_or(change.value());
            out.push(format!("stdout {sign} {}", norm(line)));
        }
    }
    for (name, bytes) in &before.files {
        match after.files.get(name) {
            None => out.push(format!("file {name}: left by the original only")),
            Some(other) if other != bytes => {
                out.push(format!("file {name}: differs ({} bytes -> {} bytes)", bytes.len(), other.len()));
                if let (Ok(a), Ok(b)) = (std::str::from_utf8(bytes), std::str::from_utf8(other)) {
                    let diff = TextDiff::from_lines(a, b);
                    for change in diff.iter_all_changes().filter(|c| c.tag() != ChangeTag::Equal).take(10) {
                        let sign = if change.tag() == ChangeTag::Delete { '-' } else { '+' };
                        out.push(format!("  {sign} {}", norm(change.value().trim_end_matches('\n'))));
                    }
                }
            }
            Some(_) => {}
        }
    }
    for name in after.files.keys().filter(|n| !before.files.contains_key(*n)) {
        out.push(format!("file {name}: left by the converted program only"));
    }
    if let Some(e) = exception(&after.stderr)
        && exception(&before.stderr) != Some(e)
    {
        out.push(format!("converted raised: {}", norm(e)));
    }
    out
}

/// Names under which `requests` (or something from it) is imported.
fn requests_names(text: &str) -> Vec<String> {
    let mut names = vec!["requests".to_string()];
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',').map(str::trim) {
                if let Some(alias) = part.strip_prefix("requests as ") {
                    names.push(alias.trim().to_string());
                }
            }
        } else if let Some(rest) = line.strip_prefix("from requests")
            && let Some((_, imported)) = rest.split_once(" import ")
        {
            for part in imported.trim_matches(|c| c == '(' || c == ')' || c == ' ').split(',') {
                let part = part.trim();
                let name = part.rsplit_once(" as ").map_or(part, |(_, a)| a).trim();
                if !name.is_empty() {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

/// `name` used as `name.` or `name(` in `line`.
fn mentions(line: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(name).any(|(at, _)| {
        // `asyncio.to_thread(requests.get, ...)` runs it in a worker thread:
        // that is the tool's documented fallback, not a blocking call.
        let before_ok = line[..at].chars().next_back().is_none_or(|c| !is_ident(c) && c != '.')
            && !line[..at].ends_with("to_thread(");
        let after = line[at + name.len()..].chars().next();
        before_ok && matches!(after, Some('.') | Some('('))
    })
}

/// Lines inside an `async def` that still use `requests` (a textual check:
/// the body of an `async def` is the lines indented deeper than it).
fn requests_left_in_async(text: &str) -> Vec<String> {
    let names = requests_names(text);
    let mut found = vec![];
    let mut async_indent: Option<usize> = None;
    for (no, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if async_indent.is_some_and(|a| indent <= a) {
            async_indent = None;
        }
        if async_indent.is_none() {
            if trimmed.starts_with("async def ") {
                async_indent = Some(indent);
            }
            continue;
        }
        if names.iter().any(|n| mentions(trimmed, n)) {
            found.push(format!("{}: {}", no + 1, line));
        }
    }
    found
}

fn programs() -> Vec<PathBuf> {
    let dir = root().join("tests/e2e/programs");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    out.sort();
    assert!(out.len() >= 6, "expected at least 6 programs in {}, found {}", dir.display(), out.len());
    out
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Checks one program with one backend against the original's run; returns
/// the failures.
fn check_backend(env: &Env, program: &Path, original: &Run, (backend, args): (&str, &[&str])) -> Vec<String> {
    let name = stem(program);
    let tag = format!("{name} [{backend}]");
    let mut failures = vec![];
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(program.file_name().unwrap());
    std::fs::copy(program, &copy).unwrap();
    let conv = Command::new(env!("CARGO_BIN_EXE_awaitify")).arg("convert").args(args).arg(&copy).output().unwrap();
    let diagnostics = String::from_utf8_lossy(&conv.stderr).replace(&format!("{}/", dir.path().to_string_lossy()), "");
    if !conv.status.success() {
        return vec![format!("{tag}: `awaitify convert {}` failed ({}):\n{diagnostics}", args.join(" "), conv.status)];
    }
    let text = std::fs::read_to_string(&copy).unwrap();
    for (_, _, needles) in EXPECTED_TEXT.iter().filter(|(p, v, _)| *p == name && *v == backend) {
        for n in needles.iter().filter(|n| !text.contains(**n)) {
            failures.push(format!("{tag}: the converted program lacks `{n}`"));
        }
    }
    let is_async = text.contains("async def");
    let left_sync = LEFT_SYNC.iter().find(|l| l.program == name && l.backend == backend);
    match (is_async, left_sync) {
        (false, None) => failures.push(format!(
            "{tag}: the tool left the program sync (no `async def`); fix the tool or list it in LEFT_SYNC with the \
             reason. Diagnostics:\n{diagnostics}"
        )),
        (true, Some(l)) => {
            failures.push(format!("{tag}: listed in LEFT_SYNC ({}) but now converted: remove the entry", l.reason))
        }
        _ => {}
    }
    if is_async {
        failures.extend(blocking_left(env, &name, backend, program, &copy, &diagnostics));
        let left = requests_left_in_async(&text);
        if !left.is_empty() {
            failures.push(format!("{tag}: `requests` still used inside `async def`:\n  {}", left.join("\n  ")));
        }
    }
    let after = run(env, &copy);
    let mismatch = compare(env, original, &after);
    let known = KNOWN_DIFFERENCES.iter().find(|k| k.program == name && k.backend == backend);
    let report = |m: &[String]| {
        let mut s = m.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
        let tail: Vec<&str> = after.stderr.lines().rev().take(8).collect();
        if !tail.is_empty() {
            s.push_str("\n    -- converted stderr (tail):\n");
            s.push_str(&tail.iter().rev().map(|l| format!("    | {l}")).collect::<Vec<_>>().join("\n"));
        }
        s
    };
    match known {
        None if !mismatch.is_empty() => {
            failures.push(format!("{tag}: behaviour differs after conversion:\n{}", report(&mismatch)))
        }
        Some(k) if mismatch.is_empty() => failures
            .push(format!("{tag}: listed in KNOWN_DIFFERENCES ({}) but now behaves the same: remove the entry", k.bug)),
        Some(k) if mismatch != k.mismatch => failures.push(format!(
            "{tag}: listed in KNOWN_DIFFERENCES but fails differently.\n  expected:\n{}\n  got:\n{}",
            k.mismatch.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"),
            report(&mismatch)
        )),
        _ => {}
    }
    failures
}

/// ruff's ASYNC rules that find a blocking call inside an `async def`.
const RUFF_BLOCKING: &[&str] =
    &["ASYNC210", "ASYNC212", "ASYNC220", "ASYNC221", "ASYNC222", "ASYNC230", "ASYNC240", "ASYNC250", "ASYNC251"];

/// Blocking calls ruff finds in converted programs that the tool neither
/// converts nor reports yet: (program, variant, `CODE: source line`, why).
/// Checked both ways, like the tables above.
const BLOCKING_UNREPORTED: &[(&str, &str, &str, &str)] = &[];

/// `ruff check --select ASYNC` over the converted program: every blocking
/// call it finds must be one `convert` reported (a diagnostic on a line with
/// the same text in the original), or be listed in `BLOCKING_UNREPORTED`.
fn blocking_left(env: &Env, name: &str, variant: &str, original: &Path, converted: &Path, diags: &str) -> Vec<String> {
    let tag = format!("{name} [{variant}]");
    let out = Command::new(env.py)
        .args(["-m", "ruff", "check", "--select", "ASYNC", "--no-cache", "--output-format", "json", "--exit-zero"])
        .arg(converted)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ruff failed (is it in tests/requirements.txt?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ruff's JSON report");
    let original_text = std::fs::read_to_string(original).unwrap();
    let original_lines: Vec<&str> = original_text.lines().collect();
    let converted_text = std::fs::read_to_string(converted).unwrap();
    let converted_lines: Vec<&str> = converted_text.lines().collect();
    let file = converted.file_name().unwrap().to_string_lossy().to_string();
    // The original source lines `convert` reported on.
    let reported: Vec<&str> = diags
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{file}:")))
        .filter_map(|l| l.split(':').next()?.parse::<usize>().ok())
        .filter_map(|n| original_lines.get(n - 1).map(|t| t.trim()))
        .collect();
    let mut unreported = vec![];
    for f in findings.as_array().unwrap() {
        let code = f["code"].as_str().unwrap_or("");
        if !RUFF_BLOCKING.contains(&code) {
            continue;
        }
        let row = f["location"]["row"].as_u64().unwrap() as usize;
        let line = converted_lines.get(row - 1).map(|t| t.trim()).unwrap_or("");
        if !reported.contains(&line) {
            unreported.push(format!("{code}: {line}"));
        }
    }
    let pinned: Vec<String> = BLOCKING_UNREPORTED
        .iter()
        .filter(|(p, v, _, _)| *p == name && *v == variant)
        .map(|(_, _, f, _)| f.to_string())
        .collect();
    if unreported == pinned {
        return vec![];
    }
    vec![format!(
        "{tag}: ruff ASYNC finds blocking calls in async code that convert neither converted nor reported:\n  found:    {unreported:?}\n  expected: {pinned:?} (BLOCKING_UNREPORTED)"
    )]
}

#[test]
fn programs_behave_the_same_after_conversion() {
    let started = Instant::now();
    let py = python();
    let server = Server::start(&py);
    let dead = dead_url();
    let env = Env { py: &py, base_url: &server.base_url, dead_url: &dead };
    let programs = programs();

    // The tables name existing programs and backends.
    let names: Vec<String> = programs.iter().map(|p| stem(p)).collect();
    let entries = LEFT_SYNC
        .iter()
        .map(|l| (l.program, l.backend))
        .chain(KNOWN_DIFFERENCES.iter().map(|k| (k.program, k.backend)));
    for (program, backend) in entries {
        assert!(names.iter().any(|n| n == program), "table entry for a program that does not exist: {program}");
        assert!(VARIANTS.iter().any(|v| v.0 == backend), "table entry for an unknown variant: {backend}");
    }

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(vec![]);
    let timings = Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(program) = programs.get(i) else { break };
                    let t = Instant::now();
                    let name = stem(program);
                    let original = run(&env, program);
                    let mut found = vec![];
                    if original.timed_out || exception(&original.stderr).is_some() {
                        found.push(format!(
                            "{name}: the original program does not run cleanly (timed out: {}):\n{}",
                            original.timed_out, original.stderr
                        ));
                    } else {
                        for variant in VARIANTS {
                            found.extend(check_backend(&env, program, &original, variant));
                        }
                    }
                    timings.lock().unwrap().push(format!("{name} {:.1}s", t.elapsed().as_secs_f64()));
                    failures.lock().unwrap().extend(found);
                }
            });
        }
    });
    let mut timings = timings.into_inner().unwrap();
    timings.sort();
    eprintln!(
        "e2e: {} programs x {} variants in {:.1}s ({})",
        programs.len(),
        VARIANTS.len(),
        started.elapsed().as_secs_f64(),
        timings.join(", ")
    );
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} e2e failure(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn requests_check_sees_requests_in_async_code() {
    let text = "import requests as rq\nfrom requests import get\n\nasync def f():\n    x = 1\n    rq.get('u')\n    \
                return get('v')\n\ndef g():\n    return rq.get('w')\n";
    let found = requests_left_in_async(text);
    assert_eq!(found, vec!["6:     rq.get('u')", "7:     return get('v')"]);
    assert!(requests_left_in_async("import httpx\n\nasync def f():\n    s = 'requests'\n").is_empty());
}
