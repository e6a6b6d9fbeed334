//! Differential test of `syntax::parse` against rustpython's own lexer, kept
//! while `rustpython-parser` is a dependency (issue 16): the comments ruff's
//! lexer finds are those rustpython's lexer found, same text, same offsets,
//! on every fixture and every standard-library file that rustpython parses.

use rustpython_parser::{Mode, Tok, lexer};
use std::path::PathBuf;

fn rustpython_comments(text: &str) -> Vec<(u32, String)> {
    lexer::lex(text, Mode::Module)
        .filter_map(|t| match t {
            Ok((Tok::Comment(c), r)) => Some((u32::from(r.start()), c)),
            _ => None,
        })
        .collect()
}

fn stdlib() -> PathBuf {
    let py = std::env::var("AWAITIFY_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(py)
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
        .output()
        .expect("python3 is needed to find the standard library");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn comments_agree_with_rustpython_lexer() {
    let roots = [PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")), stdlib()];
    let found = awaitify::files::find(&roots, &globset::GlobSet::empty());
    assert!(found.files.len() > 1000, "standard library not found ({} files)", found.files.len());
    let mut compared = 0;
    let mut differ = vec![];
    for p in &found.files {
        let Ok(text) = std::fs::read_to_string(p) else { continue };
        if rustpython_parser::parse(&text, Mode::Module, "<f>").is_err() {
            continue;
        }
        compared += 1;
        let ours: Vec<(u32, String)> =
            awaitify::syntax::parse::comments(&text).into_iter().map(|(at, c)| (u32::from(at), c)).collect();
        if ours != rustpython_comments(&text) {
            differ.push(p.display().to_string());
        }
    }
    assert!(compared > 1000, "{compared} files compared");
    assert!(differ.is_empty(), "comments differ in {} files: {:?}", differ.len(), differ);
}
