//! Differential test of `syntax::parse` against rustpython's own lexer, kept
//! while `rustpython-parser` is a dependency (issue 16): the comments ruff's
//! lexer finds are those rustpython's lexer found, same text, same offsets,
//! on every fixture and every standard-library file that rustpython parses.

use rustpython_parser::ast::Stmt;
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

/// Files whose trees differ, each for one reason where rustpython's tree is
/// wrong and ruff's is CPython's: (path suffix, text of ruff's first
/// differing line, why). Any other difference fails.
const EXPLAINED: &[(&str, &str, &str)] = &[
    ("test/test_grammar.py", "simple: false", SIMPLE),
    ("typinganndata/ann_module.py", "simple: false", SIMPLE),
    ("test/test_genericalias.py", "slice: Tuple(", STARRED_SLICE),
    ("test/test_typing.py", "slice: Tuple(", STARRED_SLICE),
    (
        "test/test_named_expressions.py",
        "range: 10782..10802",
        "`(z := (y := ...))`: the outer walrus ends after its parenthesised value; rustpython ends it inside the parentheses",
    ),
    ("test/test_unicode_identifiers.py", "\"\u{3bc}\",", NFKC),
    ("test/test_traceback.py", "\"width\",", NFKC),
    (
        "test/test_patma.py",
        "subject: Tuple(",
        "`match x,:` matches the tuple `(x,)` (CPython); rustpython drops the trailing comma",
    ),
];
const SIMPLE: &str = "`(x): int` is not simple (CPython: simple=0); rustpython says simple";
const STARRED_SLICE: &str = "`C[*ts]` subscripts with a one-element tuple (CPython); rustpython with the bare Starred";
const NFKC: &str =
    "identifiers are NFKC-normalised (CPython: `µ` is `μ`, `ｗｉｄｔｈ` is `width`); rustpython keeps the spelling";

/// The first line where two debug dumps differ (ruff's, trimmed), and a
/// little context.
fn first_difference(ours: &str, theirs: &str) -> (String, String) {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(12);
    let line = a.get(at).map(|l| l.trim().to_string()).unwrap_or_default();
    let context = format!(
        "ruff, converted:\n{}\nrustpython:\n{}",
        a[from..(at + 3).min(a.len())].join("\n"),
        b[from..(at + 3).min(b.len())].join("\n")
    );
    (line, context)
}

/// The first difference between our tree and rustpython's, as (ruff's
/// first differing line, context), or None when they are equal.
fn tree_difference(ours: &[Stmt], theirs: &[Stmt]) -> Option<(String, String)> {
    (ours != theirs).then(|| first_difference(&format!("{ours:#?}"), &format!("{theirs:#?}")))
}

/// What the tree comparison reads: every fixture, every e2e program and
/// project, and the standard library.
fn tree_roots() -> [PathBuf; 3] {
    let here = env!("CARGO_MANIFEST_DIR");
    [PathBuf::from(format!("{here}/tests/fixtures")), PathBuf::from(format!("{here}/tests/e2e")), stdlib()]
}

/// The tree `syntax::parse` builds (ruff's parser, converted) is the tree
/// rustpython's parser builds, text ranges included, on every fixture, every
/// e2e program and every standard-library file rustpython parses; and ruff
/// parses them all.
#[test]
fn trees_agree_with_rustpython_parser() {
    let found = awaitify::files::find(&tree_roots(), &globset::GlobSet::empty());
    assert!(found.files.len() > 1000, "standard library not found ({} files)", found.files.len());
    let e2e = found.files.iter().filter(|p| p.to_string_lossy().contains("/tests/e2e/programs/")).count();
    assert!(e2e >= 20, "{e2e} e2e programs found");
    let mut compared = 0;
    let mut explained_seen = 0;
    let mut differ = vec![];
    for p in &found.files {
        let Ok(text) = std::fs::read_to_string(p) else { continue };
        let Ok(rustpython_parser::ast::Mod::Module(theirs)) = rustpython_parser::parse(&text, Mode::Module, "<f>")
        else {
            continue;
        };
        compared += 1;
        match awaitify::syntax::parse::parse_module(&text, "<f>") {
            Err(e) => differ.push(format!("{}: ruff does not parse it: {e:?}", p.display())),
            Ok(ours) => {
                let Some((line, context)) = tree_difference(&ours, &theirs.body) else { continue };
                let path = p.display().to_string();
                let explained =
                    EXPLAINED.iter().any(|(suffix, first, _)| path.ends_with(suffix) && line.starts_with(first));
                if explained {
                    explained_seen += 1;
                } else {
                    differ.push(format!("{path}:\n{context}"));
                }
            }
        }
    }
    assert!(compared > 1000, "{compared} files compared");
    assert!(differ.is_empty(), "trees differ in {} files:\n{}", differ.len(), differ.join("\n\n"));
    assert_eq!(explained_seen, EXPLAINED.len(), "an explained difference is gone: update EXPLAINED");
}

/// The comparison sees ranges: the same tree with one name's range moved by
/// one byte is a difference, reported on that range.
#[test]
fn tree_comparison_catches_a_wrong_range() {
    use rustpython_parser::ast::{Expr, Fold};
    use rustpython_parser::text_size::{TextRange, TextSize};
    struct Shift;
    impl Fold<TextRange> for Shift {
        awaitify::identity_fold_plumbing!();
        fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
            match e {
                Expr::Name(mut n) if n.id.as_str() == "b" => {
                    n.range = TextRange::new(n.range.start() + TextSize::from(1), n.range.end() + TextSize::from(1));
                    Ok(Expr::Name(n))
                }
                e => rustpython_parser::ast::fold::fold_expr(self, e),
            }
        }
    }
    let text = "def f(a):\n    return g(a, b)\n";
    let Ok(rustpython_parser::ast::Mod::Module(theirs)) = rustpython_parser::parse(text, Mode::Module, "<f>") else {
        panic!("rustpython does not parse the sample")
    };
    let ours = awaitify::syntax::parse::parse_module(text, "<f>").unwrap();
    assert_eq!(tree_difference(&ours, &theirs.body), None);
    let wrong: Vec<Stmt> = ours.into_iter().map(|s| awaitify::syntax::fold_ok(Shift.fold_stmt(s))).collect();
    let (line, _) = tree_difference(&wrong, &theirs.body).expect("a moved range is a difference");
    assert_eq!(line, "range: 27..28,");
}
