//! Hostile input: deep nesting must give an answer (a conversion or a clear
//! error), never a crash, on a thread with the engine's stack size.

use awaitify::engine::{FileError, Options, convert};
use awaitify::run::with_big_stack;

fn run(src: String) -> Result<Option<String>, FileError> {
    with_big_stack(move || convert(&src, "\n", "deep.py", &Options::default()).map(|c| c.output))
}

/// `src` is refused with an error (not an internal one) that says `why`.
fn assert_refused(src: &str, why: &str) {
    match run(src.to_string()) {
        Err(e) => {
            let e = e.to_string();
            assert!(!e.contains("internal error") && e.contains(why), "{e}");
        }
        Ok(out) => panic!("expected a refusal, got {out:?}"),
    }
}

#[test]
fn deep_binop_chain_converts() {
    let mut src = String::from("import time\n\n\ndef f():\n    time.sleep(1)\n    return 1\n\n\ndef g():\n    return ");
    src.push_str(&vec!["f()"; 900].join(" + "));
    src.push('\n');
    let out = run(src).unwrap().expect("converted");
    assert_eq!(out.matches("await f()").count(), 900);
}

#[test]
fn deeper_than_cpython_is_a_clear_error() {
    let mut src = String::from("import time\n\n\ndef f():\n    time.sleep(1)\n\n\ndef g():\n    return ");
    src.push_str(&vec!["f()"; 5000].join(" + "));
    src.push('\n');
    match run(src) {
        Err(FileError::Syntax { message, .. }) => assert!(message.contains("nested deeper"), "{message}"),
        other => panic!("expected a clear error, got {other:?}"),
    }
}

#[test]
fn deeply_nested_parentheses_do_not_crash() {
    let n = 20_000;
    let src = format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n));
    // Either outcome is fine; returning at all is the point.
    let _ = run(src);
}

#[test]
fn deeply_nested_blocks_convert() {
    let mut src = String::from("import time\n\n\ndef f(x):\n");
    let mut indent = String::from("    ");
    for i in 0..90 {
        src.push_str(&format!("{indent}if x > {i}:\n"));
        indent.push(' ');
    }
    src.push_str(&format!("{indent}time.sleep(0)\n"));
    let out = run(src).unwrap().expect("converted");
    assert!(out.contains("async def f(x):"));
    assert!(out.contains("await asyncio.sleep(0)"));
}

/// `check` on the same hostile input: an answer, never a crash.
#[test]
fn check_survives_deep_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let chain = format!(
        "import time\n\n\nasync def f():\n    time.sleep(1)\n\n\ndef g():\n    return {}\n",
        vec!["f()"; 5000].join(" + ")
    );
    std::fs::write(dir.path().join("chain.py"), chain).unwrap();
    let n = 20_000;
    std::fs::write(dir.path().join("parens.py"), format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n))).unwrap();
    let mut blocks = String::from("import time\n\n\nasync def f(x):\n");
    let mut indent = String::from("    ");
    for i in 0..90 {
        blocks.push_str(&format!("{indent}if x > {i}:\n"));
        indent.push(' ');
    }
    blocks.push_str(&format!("{indent}time.sleep(0)\n"));
    std::fs::write(dir.path().join("blocks.py"), blocks).unwrap();
    let found = awaitify::files::find(&[dir.path().to_path_buf()], &globset::GlobSet::empty());
    let opts = awaitify::check::CheckOptions { tables: awaitify::transforms::Tables::builtin(), ..Default::default() };
    let report = awaitify::check::check_files(&found.files, &opts, None);
    assert_eq!(report.files, 3);
    let at = |name: &str| {
        report.findings.iter().filter(|f| f.path.ends_with(name)).map(|f| (f.line, f.code)).collect::<Vec<_>>()
    };
    assert_eq!(at("chain.py"), vec![(5, "AWT101")]);
    assert_eq!(at("blocks.py"), vec![(95, "AWT101")]);
}

/// A bare-name rule renames the identifier in every syntactic position
/// (tests/fixtures/rules/renames.py): each occurrence outside strings is
/// edited in place, nothing else changes, and no statement is reprinted
/// (a def with a return annotation used to be an internal printer error).
#[test]
fn rename_reaches_every_position() {
    let src = std::fs::read_to_string("tests/fixtures/rules/renames.py").unwrap();
    let tables = std::fs::read_to_string("tests/fixtures/rules/renames.toml").unwrap();
    let mut opts = Options::default();
    opts.tables.extend(awaitify::transforms::Tables::parse(&tables).unwrap());
    let got = convert(&src, "\n", "renames", &opts).unwrap();
    assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
    let out = got.output.expect("renamed");
    // Only `conn` -> `aconn`, byte for byte elsewhere.
    assert_eq!(out.replace("aconn", "conn"), src);
    // Every identifier `conn` renamed: those left are inside strings and comments.
    let words = |t: &str, w: &str| {
        t.match_indices(w)
            .filter(|(i, _)| {
                let before = t[..*i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                let after = t[i + w.len()..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                before && after
            })
            .count()
    };
    let in_strings = ["\"conn\"", " conn\"", "`conn`"].iter().map(|s| src.matches(s).count()).sum::<usize>();
    assert_eq!(words(&out, "conn"), in_strings, "{out}");
    assert_eq!(words(&out, "aconn"), words(&src, "conn") - in_strings);
    let again = convert(&out, "\n", "renames", &opts).unwrap();
    assert!(again.output.is_none(), "second run changed the output");
}

/// CPython's tokenizer refuses more than 200 nested brackets and 100
/// levels of indentation: so does the tool, with CPython's words.
#[test]
fn over_cpython_tokenizer_limits_is_a_syntax_error() {
    let src =
        format!("import time\n\n\ndef f():\n    time.sleep(1)\n    return {}1{}\n", "(".repeat(201), ")".repeat(201));
    match run(src) {
        Err(FileError::Syntax { message, line, .. }) => {
            assert!(message.starts_with("too many nested parentheses"), "{message}");
            assert_eq!(line, 6);
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let mut src = String::from("import time\n\n\ndef f(x):\n");
    for k in 1..100 {
        src.push_str(&format!("{}if x:\n", " ".repeat(k)));
    }
    src.push_str(&format!("{}time.sleep(0)\n", " ".repeat(100)));
    match run(src) {
        Err(FileError::Syntax { message, .. }) => {
            assert!(message.starts_with("too many levels of indentation"), "{message}")
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

/// Fuzz (issue 15, `backslash` + `tabs`): a statement the timeout pass
/// rewrites into a block, on the continuation of a tab-indented line that
/// holds only a backslash. CPython measures that line's tab as eight columns
/// in both its measures (`\t\t` below it is a TabError) while the parser
/// counts a tab: no new line can be indented for both, so the file is
/// refused with an error naming the layout (main wrote a TabError).
#[test]
fn tab_indented_backslash_line_before_a_rewritten_block_is_refused() {
    let src = "import asyncio\n\n\nasync def returned(reader, cfg):\n\t\\\n    return await asyncio.wait_for(reader.read(100), cfg.timeout)\n";
    assert_refused(src, "backslash");
    // Indented by spaces, the same layout converts.
    let src = src.replace("\t\\", "    \\");
    let out = run(src).unwrap().expect("converted");
    assert!(
        out.contains("    \\\n    async with asyncio.timeout(cfg.timeout):\n        return await reader.read(100)\n"),
        "{out}"
    );
}

/// Fuzz (issue 15, seed 7, `backslash`): a new def inserted where it ends
/// just above a line that is only a backslash, continued by the next def.
/// CPython 3.9 does not dedent at such a line (IndentationError), so the
/// file is refused with an error naming the layout; with the backslash
/// line gone, the same file converts.
#[test]
fn new_block_before_a_backslash_only_line_is_refused() {
    let src = "import requests\n\n\n\\\ndef fetch(url):\n    return requests.get(url).status_code\n";
    assert_refused(src, "only a backslash");
    let out = run(src.replace("\\\n", "")).unwrap().expect("converted");
    assert!(out.contains("def _tls_context():"), "{out}");
    // Seed 6: the `__main__` block's first statements become one
    // `asyncio.run`, so its first line would be the backslash line.
    let src = "import asyncio\n\n\nasync def main():\n    return 0\n\n\nif __name__ == \"__main__\":\n    loop = asyncio.new_event_loop()\n    \\\n    code = loop.run_until_complete(main())\n    loop.close()\n    raise SystemExit(code)\n";
    assert_refused(src, "only a backslash");
}

/// Fuzz (issue 15, seed 6, `tabs` + `indent`): a tab-indented body the new
/// `async with` of an HTTP client re-indents, with a line indented by a
/// space and a tab (` \t` then spaces) that does not start with the
/// block's own indentation. Kept as it was under a deeper header, CPython
/// reads it at no outer level (main wrote that output), so the file is
/// refused with an error naming the layout.
#[test]
fn mixed_tab_line_a_reindent_would_misplace_is_refused() {
    let src = "import requests\n\n\ndef count(u):\n\tn = 0\n\tfor b in [1]:\n\t        for c in b:\n \t            n += requests.get(u).status_code\n\treturn n\n";
    assert_refused(src, "mixes tabs and spaces");
    // Indented by tabs alone, the same body converts.
    let out =
        run(src.replace(" \t            ", "\t\t\t").replace("\t        for", "\t\tfor")).unwrap().expect("converted");
    assert!(out.contains("\t\t\t\tn += (await client.get(u)).status_code\n"), "{out}");
}
