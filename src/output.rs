//! Writing results: atomic in-place writes, unified diffs, JSON reports.

use crate::source::Decoded;
use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` atomically (temp file in the same directory,
/// then rename), keeping the file's permissions. Symbolic links are followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let real = std::fs::canonicalize(path)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let perms = std::fs::metadata(&real)?.permissions();
    let mut tmp = tempfile::Builder::new().prefix(".awaitify-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.as_file().set_permissions(perms)?;
    tmp.persist(&real).map_err(|e| e.error)?;
    Ok(())
}

/// The diff of a file from its bytes on disk to the bytes that
/// `write_atomic` would write. A BOM is part of the first line of both sides,
/// so the diff's context matches the file and `git apply` / `patch -p1`
/// accept it.
pub fn file_diff(display: &str, decoded: &Decoded, new: &str) -> String {
    let bom = if decoded.bom { "\u{feff}" } else { "" };
    unified_diff(display, &format!("{bom}{}", decoded.text), &format!("{bom}{new}"))
}

/// The path as it appears after `a/` and `b/` in diff headers: relative, with
/// no leading `./` or `/` (an absolute `/tmp/x.py` gives `a/tmp/x.py`, which
/// `git apply` or `patch -p1` run from `/` resolve to the file).
fn diff_name(display: &str) -> &str {
    let mut name = display;
    loop {
        let next = name.strip_prefix("./").unwrap_or(name).trim_start_matches('/');
        if next == name {
            return name;
        }
        name = next;
    }
}

/// A unified diff with `a/` and `b/` prefixes, as `git apply` expects.
pub fn unified_diff(display: &str, old: &str, new: &str) -> String {
    let name = diff_name(display);
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    out.push_str(&format!("--- a/{name}\n+++ b/{name}\n"));
    for hunk in diff.unified_diff().context_radius(3).missing_newline_hint(true).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}
