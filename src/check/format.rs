//! Output formats of `awaitify check`: text (with the source line and a
//! caret, coloured on a terminal), JSON, SARIF 2.1.0 and GitHub workflow
//! annotations.

use super::{Finding, Report, rules};
use std::collections::HashMap;
use std::fmt::Write;

/// `path:line:col: CODE message`, then the source line and a caret.
pub fn text(report: &Report, sources: &HashMap<String, String>, colour: bool) -> String {
    let paint = |code: &str, s: &str| if colour { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(out, "{}:{}:{}: {} {}", paint("1", &f.path), f.line, f.col, paint("1;31", f.code), f.message);
        if let Some(line) = sources.get(&f.path).and_then(|t| t.lines().nth(f.line - 1)) {
            let line = line.trim_end_matches('\r');
            let gutter = f.line.to_string();
            let pad = " ".repeat(gutter.len());
            // Tabs stay tabs under the caret, so it lines up.
            let lead: String =
                line.chars().take(f.col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{} | {line}", paint("34", &gutter));
            let _ = writeln!(out, "{pad} | {lead}{}", paint("1;31", "^"));
        }
    }
    out
}

pub fn json(report: &Report) -> String {
    let doc = serde_json::json!({
        "findings": report.findings,
        "errors": report.errors,
        "summary": {"files": report.files, "findings": report.findings.len(), "errors": report.errors.len()},
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// A minimal SARIF 2.1.0 log: one run, the rules that fired, one result per
/// finding (level `warning`), errors as tool execution notifications.
pub fn sarif(report: &Report) -> String {
    let mut codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .filter_map(|c| rules::by_code(c))
        .map(|r| {
            serde_json::json!({
                "id": r.code(),
                "name": r.name(),
                "shortDescription": {"text": r.summary()},
                "fullDescription": {"text": r.doc()},
                "help": {"text": r.doc()},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.code,
                "ruleIndex": codes.iter().position(|c| *c == f.code),
                "level": "warning",
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.path)},
                        "region": {"startLine": f.line, "startColumn": f.col},
                    }
                }],
            })
        })
        .collect();
    let notifications: Vec<serde_json::Value> = report
        .errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "level": "error",
                "message": {"text": e.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&e.path)}}}],
            })
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "awaitify",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// A relative path as a URI reference (`/` separators, no leading `./`).
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    p.strip_prefix("./").unwrap_or(&p).to_string()
}

/// GitHub Actions workflow commands: `::warning file=..,line=..,col=..,title=CODE::CODE message`.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "::warning file={},line={},col={},title={}::{} {}",
            escape_property(&uri(&f.path)),
            f.line,
            f.col,
            f.code,
            f.code,
            escape_data(&f.message)
        );
    }
    for e in &report.errors {
        let _ = writeln!(out, "::error file={}::{}", escape_property(&uri(&e.path)), escape_data(&e.message));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The finding as one line, `path:line:col: CODE message`.
pub fn line(f: &Finding) -> String {
    format!("{}:{}:{}: {} {}", f.path, f.line, f.col, f.code, f.message)
}
