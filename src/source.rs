//! Reading source files: bytes to text, keeping what must be written back
//! (BOM, line ending), and positions for messages.

use rustpython_ast::text_size::TextSize;

#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text without the BOM, line endings as in the file (but see
    /// `cr`).
    pub text: String,
    pub bom: bool,
    /// The line ending of `text`: `"\r\n"` if the file uses CRLF line
    /// endings, else `"\n"`.
    pub newline: &'static str,
    /// The file's line endings are a bare `\r` (old Mac files, no `\n` in
    /// the file): `text` has each of them as `\n` (byte offsets are the
    /// same, as Python reads such a file), and they are turned back into
    /// `\r` on the way out ([`Decoded::disk_text`]).
    pub cr: bool,
}

impl Decoded {
    /// The bytes to write for `text` (converted from `self.text`): the BOM
    /// and the file's own line endings put back.
    pub fn to_bytes(&self, text: &str) -> Vec<u8> {
        let text = self.disk_text(text);
        let mut out = Vec::with_capacity(text.len() + 3);
        if self.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// `text` with the file's line endings (`\n` back to `\r` in a CR file;
    /// nothing else changes), without the BOM.
    pub fn disk_text<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if self.cr { text.replace('\n', "\r").into() } else { text.into() }
    }
}

/// Decodes a Python source file. Only UTF-8 is read; a PEP 263 declaration
/// of another encoding is accepted when the file is pure ASCII. Line
/// endings: `\n`, `\r\n` (also mixed with `\n`) or a bare `\r` (see
/// [`Decoded::cr`]); a bare `\r` mixed with `\n` is an error.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let (bom, body) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    if let Some(enc) = declared_encoding(body) {
        let e = enc.to_ascii_lowercase().replace('_', "-");
        let utf8 = matches!(e.as_str(), "utf-8" | "utf8" | "ascii" | "us-ascii") || e.starts_with("utf-8-");
        if !utf8 && !body.is_ascii() {
            return Err(format!("encoding `{enc}` is declared; only UTF-8 files are converted"));
        }
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let (line, col) = line_col_bytes(body, e.valid_up_to());
            return Err(format!("{line}:{col}: invalid UTF-8"));
        }
    };
    // A bare `\r` ends a line for Python. A file whose lines all end so is
    // read as if they ended in `\n` (one byte for one byte) and written back
    // with `\r`; one that mixes a bare `\r` with `\n` is refused: which
    // ending an edit should get, and where its lines start, are not clear.
    if let Some(at) = bare_cr(body) {
        if body.contains(&b'\n') {
            let (line, col) = line_col_bytes(body, at);
            return Err(format!(
                "{line}:{col}: mixed line endings: a bare `\\r` ends this line, `\\n` ends others; only files with one kind of line ending (`\\n`, `\\r\\n` or `\\r`) are converted"
            ));
        }
        return Ok(Decoded { text: text.replace('\r', "\n"), bom, newline: "\n", cr: true });
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    Ok(Decoded { text, bom, newline, cr: false })
}

/// The offset of the first `\r` not followed by `\n`.
fn bare_cr(b: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == b'\r') {
        let at = from + i;
        if b.get(at + 1) != Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn declared_encoding(body: &[u8]) -> Option<String> {
    // The first two lines (of a CR file: split at `\r`).
    let end = if body.contains(&b'\n') { b'\n' } else { b'\r' };
    for line in body.split(|&b| b == end).take(2) {
        let line = String::from_utf8_lossy(line);
        let t = line.trim_start();
        if !t.starts_with('#') {
            continue;
        }
        if let Some(i) = t.find("coding") {
            let rest = &t[i + 6..];
            if let Some(rest) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) {
                let enc: String =
                    rest.trim_start().chars().take_while(|c| c.is_alphanumeric() || "-_.".contains(*c)).collect();
                if !enc.is_empty() {
                    return Some(enc);
                }
            }
        }
    }
    None
}

/// Line and column of a byte offset in the file's bytes: a line ends at
/// `\n`, `\r\n` or a bare `\r`.
fn line_col_bytes(b: &[u8], at: usize) -> (usize, usize) {
    let before = &b[..at.min(b.len())];
    let ends = |i: usize, c: u8| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n'));
    let line = before.iter().enumerate().filter(|&(i, &c)| ends(i, c)).count() + 1;
    let ls = before.iter().enumerate().rposition(|(i, &c)| ends(i, c)).map(|i| i + 1).unwrap_or(0);
    (line, String::from_utf8_lossy(&before[ls..]).chars().count() + 1)
}

/// 1-based line and column (in characters) of a byte offset.
/// Line starts of a text, for many `line_col` lookups in one file.
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }
    /// Same as [`line_col`], in O(log lines + line length).
    pub fn line_col(&self, offset: TextSize) -> (usize, usize) {
        let at = usize::from(offset).min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= at);
        let ls = self.starts[line - 1];
        (line, self.text[ls..at].chars().count() + 1)
    }
}

pub fn line_col(text: &str, offset: TextSize) -> (usize, usize) {
    let at = usize::from(offset).min(text.len());
    let before = &text[..at];
    let line = before.bytes().filter(|&c| c == b'\n').count() + 1;
    let ls = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[ls..].chars().count() + 1)
}

/// Which file was read, and as it was then: compared again just before the
/// file is replaced (see [`crate::output::Writer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

impl Stamp {
    pub fn of(m: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp { dev: m.dev(), ino: m.ino(), len: m.len(), mtime: (m.mtime(), m.mtime_nsec()) }
    }
}

/// Reads a file, with the [`Stamp`] of the file read (taken from the open
/// file before reading: a change while it is read changes the stamp).
pub fn read_stamped(path: &std::path::Path) -> std::io::Result<(Vec<u8>, Stamp)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let stamp = Stamp::of(&f.metadata()?);
    let mut bytes = Vec::with_capacity(stamp.len as usize);
    f.read_to_end(&mut bytes)?;
    Ok((bytes, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cr_file_is_read_with_lf_and_written_back_with_cr() {
        let d = decode(b"\xef\xbb\xbfx = 1\r\ry = 2\r").unwrap();
        assert_eq!((d.text.as_str(), d.newline, d.cr, d.bom), ("x = 1\n\ny = 2\n", "\n", true, true));
        assert_eq!(d.to_bytes("x = 1\ny = 3\n"), b"\xef\xbb\xbfx = 1\ry = 3\r");
        assert_eq!(line_col(&d.text, TextSize::from(7)), (3, 1));
    }

    #[test]
    fn crlf_and_lf_files_are_as_before() {
        let d = decode(b"x = 1\r\ny = 2\n").unwrap();
        assert_eq!((d.text.as_str(), d.newline, d.cr), ("x = 1\r\ny = 2\n", "\r\n", false));
        assert_eq!(d.to_bytes(&d.text), b"x = 1\r\ny = 2\n");
    }

    #[test]
    fn a_bare_cr_with_lf_is_an_error_at_its_line() {
        let e = decode(b"x = 1\ny = 2\rz = 3\n").unwrap_err();
        assert!(e.starts_with("2:6: mixed line endings"), "{e}");
    }

    #[test]
    fn the_coding_line_of_a_cr_file_is_one_of_its_first_two_lines() {
        assert!(decode("#!/usr/bin/env python\r# no\rs = '\u{e9}'  # coding: latin-1\r".as_bytes()).is_ok());
        assert!(decode("# coding: latin-1\rs = '\u{e9}'\r".as_bytes()).is_err());
    }
}
