//! Layouts of the converted text that CPython reads otherwise than our
//! parser does, checked after emitting: the parser (ruff's) accepts them,
//! and the re-parse in `verify` cannot see the difference. When the
//! conversion makes one the input did not have, the file is refused with
//! an error that names the layout: the emitter cannot always tell which of
//! its insertions made it.

/// The first line (1-based) of `out` with a layout CPython reads otherwise,
/// and what it is, when `text` does not have it already.
pub fn cpython_reads_otherwise(text: &str, out: &str) -> Option<(usize, &'static str)> {
    if let Some(line) = backslash_after_block(text, out) {
        return Some((
            line,
            "the conversion would leave a line that is only a backslash at another indentation \
             than the code above it, which Python 3.9 reads as the same block",
        ));
    }
    if let Some(line) = tab_error(out)
        && tab_error(text).is_none()
    {
        return Some((
            line,
            "the conversion would re-indent a line whose indentation mixes tabs and spaces \
             so that CPython reads it at another level (TabError or IndentationError)",
        ));
    }
    None
}

/// The first line (1-based) of `out` that is only a backslash (blanks
/// before it) at another column than the line of code above it, when `out`
/// has more such lines than `text`. CPython 3.9's tokenizer keeps the
/// indentation of the logical line before such a line, where 3.10 and
/// later take the backslash's column: `def f():` ... `\` `def g():` is an
/// IndentationError there, and so is a block whose first line is one. The
/// emitter cannot tell which of its insertions made one, so the file is
/// refused.
pub(crate) fn backslash_after_block(text: &str, out: &str) -> Option<usize> {
    fn lines(src: &str) -> Vec<usize> {
        let mut found = vec![];
        let mut prev_indent: Option<usize> = None;
        for (n, line) in src.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let body = line.trim_start_matches([' ', '\t', '\x0c']);
            // (CPython's column starts again after a form feed.)
            let indent = line[..line.len() - body.len()].rsplit('\x0c').next().map_or(0, str::len);
            if body == "\\" {
                if prev_indent.is_some_and(|p| p != indent) {
                    found.push(n + 1);
                }
            } else if !body.is_empty() && !body.starts_with('#') {
                prev_indent = Some(indent);
            }
        }
        found
    }
    let (before, after) = (lines(text), lines(out));
    (after.len() > before.len()).then(|| after[0])
}

/// The first line (1-based) CPython's tokenizer rejects for its
/// indentation (TabError, or a dedent to no outer level): each logical
/// line's indentation is measured with tabs to multiples of 8 and with
/// tabs as 1 column, and both measures must order the lines alike. A form
/// feed starts the count again. Only text with a tab in an indentation is
/// lexed.
pub(crate) fn tab_error(src: &str) -> Option<usize> {
    let has_tab = src.split('\n').any(|l| l.trim_start_matches([' ', '\x0c']).starts_with('\t'));
    if !has_tab {
        return None;
    }
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    for at in crate::syntax::parse::logical_line_starts(src) {
        // The logical line's first physical line: backslash-only lines
        // above it belong to it.
        let mut line_start = src[..at].rfind('\n').map_or(0, |k| k + 1);
        while line_start > 0 {
            let prev = src[..line_start - 1].rfind('\n').map_or(0, |k| k + 1);
            let l = src[prev..line_start - 1].trim_end_matches('\r');
            if l.trim_start_matches([' ', '\t', '\x0c']) != "\\" {
                break;
            }
            line_start = prev;
        }
        let (mut col, mut alt) = (0, 0);
        for c in src[line_start..].chars() {
            match c {
                ' ' => (col, alt) = (col + 1, alt + 1),
                '\t' => (col, alt) = ((col / 8 + 1) * 8, alt + 1),
                '\x0c' => (col, alt) = (0, 0),
                _ => break,
            }
        }
        let line = src[..line_start].matches('\n').count() + 1;
        let &(top, top_alt) = stack.last()?;
        if col == top {
            if alt != top_alt {
                return Some(line);
            }
        } else if col > top {
            if alt <= top_alt {
                return Some(line);
            }
            stack.push((col, alt));
        } else {
            while stack.len() > 1 && stack.last().is_some_and(|&(c, _)| col < c) {
                stack.pop();
            }
            let &(top, top_alt) = stack.last()?;
            if col != top || alt != top_alt {
                return Some(line);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::tab_error;

    #[test]
    fn tab_error_agrees_with_cpython() {
        // Accepted by CPython 3.11.
        assert_eq!(tab_error("if x:\n\ty = 1\n\tif y:\n\t\tz = 2\n"), None);
        assert_eq!(tab_error("if x:\n        y = 1\nz = 3\n"), None);
        assert_eq!(tab_error("if x:\n\ty = (1,\n  2)\n"), None);
        // TabError: a tab then a line of 8 spaces (same column, other count).
        assert_eq!(tab_error("if x:\n\ty = 1\n        z = 2\n"), Some(3));
        // " \t" + 12 spaces (20 columns) under "\t\t" + 8 spaces (24):
        // IndentationError. Under "\t" + 4 spaces (12): accepted.
        assert_eq!(tab_error("if a:\n\tif b:\n\t\t        for c in d:\n \t            n = 1\n"), Some(4));
        assert_eq!(tab_error("if a:\n\tif b:\n\t    for c in d:\n \t            n = 1\n"), None);
    }
}
