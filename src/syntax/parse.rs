//! The one place that parses Python text and lexes its comments.
//!
//! Every parse of the project goes through here (files in `engine`, templates
//! in `syntax::template` and the passes, comments for the lost-comment check and
//! `# awaitify: ignore` suppressions), so that the parser behind it can change
//! in one module (issue 16). Comments already come from ruff's lexer
//! (`ruff_python_parser`, pinned `=0.0.10`); the tree still comes from
//! rustpython's parser, whose `rustpython_ast` types every pass uses today.

use rustpython_ast::text_size::TextSize;
use rustpython_ast::{Expr, Stmt};

/// A syntax error: its byte offset and message.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub offset: TextSize,
    pub message: String,
}

/// The statements of a module: parsed by ruff's parser for a Python 3.13
/// target and converted into `rustpython_ast` (see `syntax::convert`).
pub fn parse_module(text: &str, _path: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let options = ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module)
        .with_target_version(ruff_python_ast::PythonVersion::PY313);
    let parsed = ruff_python_parser::parse_unchecked(text, options);
    if let Some(e) = parsed.errors().first() {
        return Err(SyntaxError { offset: TextSize::from(e.location.start().to_u32()), message: e.error.to_string() });
    }
    if let Some(e) = parsed.unsupported_syntax_errors().first() {
        return Err(SyntaxError {
            offset: TextSize::from(ruff_text_size::Ranged::start(e).to_u32()),
            message: format!("unsupported syntax: {e}"),
        });
    }
    let ruff_python_ast::Mod::Module(m) = parsed.syntax() else { return Ok(vec![]) };
    super::convert::Converter { src: text }.suite(&m.body)
}

/// One expression (templates of the passes).
pub fn parse_expression(text: &str) -> Option<Expr> {
    let parsed = ruff_python_parser::parse_expression(text).ok()?;
    super::convert::Converter { src: text }.expr(&parsed.syntax().body).ok()
}

/// Every comment of `text` (`#` included) with its start offset, in order.
/// Text that does not parse still gives the comments its lexer found.
pub fn comments(text: &str) -> Vec<(TextSize, String)> {
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;
    let parsed = ruff_python_parser::parse_unchecked_source(text, ruff_python_ast::PySourceType::Python);
    parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == TokenKind::Comment)
        .filter_map(|t| {
            let r = t.range();
            let c = text.get(r.start().to_usize()..r.end().to_usize())?;
            Some((TextSize::from(r.start().to_u32()), c.to_string()))
        })
        .collect()
}

/// The name tokens of `text` (with their text) and its `as` keywords (None),
/// in order. Text that does not parse still gives what the lexer found.
pub fn names_and_as(text: &str) -> Vec<(rustpython_ast::text_size::TextRange, Option<String>)> {
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;
    let parsed = ruff_python_parser::parse_unchecked_source(text, ruff_python_ast::PySourceType::Python);
    parsed
        .tokens()
        .iter()
        .filter_map(|t| {
            let r = t.range();
            let range = rustpython_ast::text_size::TextRange::new(r.start().to_u32().into(), r.end().to_u32().into());
            match t.kind() {
                TokenKind::Name => Some((range, Some(text.get(r.start().to_usize()..r.end().to_usize())?.to_string()))),
                TokenKind::As => Some((range, None)),
                _ => None,
            }
        })
        .collect()
}

/// The offset of the first token of every logical line of `text`, in
/// order (not of blank or comment-only lines). Text that does not parse
/// still gives what the lexer found.
pub fn logical_line_starts(text: &str) -> Vec<usize> {
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;
    let parsed = ruff_python_parser::parse_unchecked_source(text, ruff_python_ast::PySourceType::Python);
    let mut out = vec![];
    let mut at_start = true;
    for t in parsed.tokens().iter() {
        match t.kind() {
            TokenKind::Newline => at_start = true,
            TokenKind::Comment
            | TokenKind::NonLogicalNewline
            | TokenKind::Indent
            | TokenKind::Dedent
            | TokenKind::EndOfFile => {}
            _ if at_start => {
                out.push(t.range().start().to_usize());
                at_start = false;
            }
            _ => {}
        }
    }
    out
}
