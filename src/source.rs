//! Reading source files: bytes to text, keeping what must be written back
//! (BOM, line ending), and positions for messages.

use rustpython_parser::text_size::TextSize;

#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text without the BOM, line endings as in the file.
    pub text: String,
    pub bom: bool,
    /// `"\r\n"` if the file uses CRLF line endings, else `"\n"`.
    pub newline: &'static str,
}

impl Decoded {
    pub fn to_bytes(&self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + 3);
        if self.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        out.extend_from_slice(text.as_bytes());
        out
    }
}

/// Decodes a Python source file. Only UTF-8 is read; a PEP 263 declaration
/// of another encoding is accepted when the file is pure ASCII.
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
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    Ok(Decoded { text, bom, newline })
}

fn declared_encoding(body: &[u8]) -> Option<String> {
    for line in body.split(|&b| b == b'\n').take(2) {
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

fn line_col_bytes(b: &[u8], at: usize) -> (usize, usize) {
    let before = &b[..at.min(b.len())];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let ls = before.iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
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
