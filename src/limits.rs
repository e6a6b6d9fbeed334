//! CPython's tokenizer limits, which the parser we use does not have: more
//! than 200 nested brackets (`MAXLEVEL`) is "too many nested parentheses",
//! 100 levels of indentation (`MAXINDENT`) is "too many levels of
//! indentation". A file over either limit does not compile with CPython
//! (3.9 to 3.13 alike), so it is an error here too, not an input to convert.
//!
//! One pass over the bytes, skipping strings and comments as the tokenizer
//! does (an f-string is one string token up to Python 3.11, which is the
//! grammar the parser reads).

/// Deepest bracket nesting CPython accepts.
pub const MAX_BRACKETS: usize = 200;
/// Levels of indentation CPython accepts (its stack holds 100 entries,
/// the first being column 0).
pub const MAX_INDENT_LEVELS: usize = 99;

/// The first place where `text` goes over a limit: byte offset and message.
pub fn check(text: &str) -> Result<(), (usize, String)> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    // Indentation columns of the open blocks (0 is the module level).
    let mut stack: Vec<usize> = vec![0];
    let mut line_start = true;
    let mut i = 0;
    while i < b.len() {
        if line_start {
            line_start = false;
            let mut col = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b' ' => col += 1,
                    b'\t' => col = (col / 8 + 1) * 8,
                    0x0c => col = 0,
                    _ => break,
                }
                j += 1;
            }
            let blank = j >= b.len() || matches!(b[j], b'\n' | b'\r' | b'#');
            if !blank {
                if col > *stack.last().unwrap_or(&0) {
                    stack.push(col);
                    if stack.len() - 1 > MAX_INDENT_LEVELS {
                        return Err((
                            j,
                            format!("too many levels of indentation (CPython allows {MAX_INDENT_LEVELS})"),
                        ));
                    }
                } else {
                    while stack.len() > 1 && col < *stack.last().unwrap_or(&0) {
                        stack.pop();
                    }
                }
            }
            i = j;
            continue;
        }
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'\\' => {
                // A continuation line is not a new logical line; any other
                // backslash outside a string is the parser's business.
                i += 1;
                if b.get(i) == Some(&b'\r') && b.get(i + 1) == Some(&b'\n') {
                    i += 2;
                } else if i < b.len() {
                    i += 1;
                }
                continue;
            }
            b'\n' | b'\r' => {
                if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                i += 1;
                if depth == 0 {
                    line_start = true;
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BRACKETS {
                    return Err((i, format!("too many nested parentheses (CPython allows {MAX_BRACKETS} levels)")));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            q @ (b'\'' | b'"') => {
                let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        c if c == q && (!triple || (b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q))) => {
                            i += if triple { 3 } else { 1 };
                            break;
                        }
                        // An unterminated one-line string: the parser says so.
                        b'\n' | b'\r' if !triple => break,
                        _ => i += 1,
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_ifs(n: usize) -> String {
        let mut s = String::new();
        for k in 0..n {
            s.push_str(&format!("{}if x:\n", " ".repeat(k)));
        }
        s.push_str(&format!("{}pass\n", " ".repeat(n)));
        s
    }

    #[test]
    fn brackets_up_to_200_levels() {
        assert!(check(&format!("x = {}1{}\n", "(".repeat(200), ")".repeat(200))).is_ok());
        let e = check(&format!("x = {}1{}\n", "[".repeat(201), "]".repeat(201))).unwrap_err();
        assert_eq!(e.0, 4 + 200);
        assert!(e.1.starts_with("too many nested parentheses"), "{}", e.1);
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let many = "(".repeat(300);
        let src = format!("x = '{many}'\ny = \"\"\"\n{many}\n\"\"\"  # {many}\nz = r'\\'{many}'\n");
        assert!(check(&src).is_ok());
    }

    #[test]
    fn indentation_up_to_99_levels() {
        assert!(check(&nested_ifs(99)).is_ok());
        let e = check(&nested_ifs(100)).unwrap_err();
        assert!(e.1.starts_with("too many levels of indentation"), "{}", e.1);
        // Lines inside brackets, blank lines and comments are no levels.
        let mut s = String::from("x = (\n");
        for k in 0..150 {
            s.push_str(&format!("{}1,\n\n{}# c\n", " ".repeat(k), " ".repeat(k + 1)));
        }
        s.push_str(")\n");
        assert!(check(&s).is_ok());
    }
}
