//! The one place that parses Python text and lexes its comments.
//!
//! Every parse of the project goes through here (files in `engine`, templates
//! in `syntax::template` and the passes, comments for the lost-comment check and
//! `# awaitify: ignore` suppressions), so that the parser behind it can change
//! in one module (issue 16). Comments already come from ruff's lexer
//! (`ruff_python_parser`, pinned `=0.0.10`); the tree still comes from
//! rustpython's parser, whose `rustpython_ast` types every pass uses today.

use rustpython_ast::text_size::TextSize;
use rustpython_ast::{Expr, Mod, Stmt};

/// A syntax error: its byte offset and message.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub offset: TextSize,
    pub message: String,
}

/// The statements of a module.
pub fn parse_module(text: &str, path: &str) -> Result<Vec<Stmt>, SyntaxError> {
    match rustpython_parser::parse(text, rustpython_parser::Mode::Module, path) {
        Ok(Mod::Module(m)) => Ok(m.body),
        Ok(_) => Ok(vec![]),
        Err(e) => Err(SyntaxError { offset: e.offset, message: e.error.to_string() }),
    }
}

/// One expression (templates of the passes).
pub fn parse_expression(text: &str) -> Option<Expr> {
    match rustpython_parser::parse(text, rustpython_parser::Mode::Expression, "<template>").ok()? {
        Mod::Expression(m) => Some(*m.body),
        _ => None,
    }
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
