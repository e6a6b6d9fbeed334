//! Lossless emit: turns the tree the passes produced back into text, copying
//! the original bytes of everything that did not change.
//!
//! The new tree is compared with the old one node by node, using ranges as
//! identity (see [`crate::syntax`]):
//! * a node equal to the old node at its range is copied verbatim;
//! * a node whose *shell* (see [`shell`]) equals the old one is spliced: its
//!   original text is kept and only the changed children are re-emitted;
//! * `def`/`for`/`with` turned async get `async ` inserted before the keyword;
//! * statement blocks are aligned by range: inserted statements are printed at
//!   the block's indentation with the file's line ending;
//! * anything else is printed by [`printer`], with the original text of every
//!   unchanged child substituted back and parenthesised where precedence (or
//!   a line break outside brackets) requires it.
//!
//! The result is always re-parsed and compared with the intended tree by the
//! engine (`verify`), so an emitter bug costs a diagnostic, never a file.

mod idents;
pub mod layout;
mod printer;
pub mod shell;

use crate::syntax::{Prec, blocks, expr_prec, is_synth, split_kind, stmt_start, take_blocks};
use rustpython_ast::text_size::{TextRange, TextSize};
use rustpython_ast::{self as ast, Expr, Ranged, Stmt};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitError {
    pub offset: TextSize,
    pub message: String,
    /// A layout the emitter knows it cannot place (not a bug): the file is
    /// refused with this message, not reported as an internal error.
    pub refused: bool,
}

type R<T> = Result<T, EmitError>;

fn err<T>(offset: TextSize, message: impl Into<String>) -> R<T> {
    Err(EmitError { offset, message: message.into(), refused: false })
}

fn refuse<T>(offset: TextSize, message: impl Into<String>) -> R<T> {
    Err(EmitError { offset, message: message.into(), refused: true })
}

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// A self-documenting f-string field whose expression changes (see
/// [`Emitter::debug_field`]): `{` at `open - 1`, the expression at
/// `start..end`, the text after the `=` and its spaces at `after`.
struct DebugField {
    open: usize,
    start: usize,
    end: usize,
    after: usize,
    /// The text from after the `{` to after the `=`, braces doubled.
    literal: String,
    /// No conversion and no format spec: the `=` meant `!r`.
    repr: bool,
}

impl DebugField {
    /// `{expr=}` as `expr={new!r}`: one edit from the `{` to after the `=`,
    /// keeping the spaces and parentheses around the expression.
    fn edit(self, src: &str, new: String) -> Edit {
        let eq = src[..self.after].rfind('=').unwrap_or(self.end);
        let text = format!(
            "{}{{{}{new}{}{}",
            self.literal,
            &src[self.open..self.start],
            &src[self.end..eq],
            if self.repr { "!r" } else { "" }
        );
        Edit { start: self.open - 1, end: self.after, text }
    }
}

pub struct Emitter<'a> {
    src: &'a str,
    nl: &'a str,
    indent_unit: String,
    old_exprs: HashMap<(TextRange, std::mem::Discriminant<Expr>), &'a Expr>,
    /// Statement range -> (block id, index in block).
    stmt_pos: HashMap<TextRange, (usize, usize)>,
    old_blocks: Vec<&'a [Stmt]>,
    /// Ranges of string literals that span lines (never re-indented).
    multiline_strings: Vec<TextRange>,
    /// The file's name tokens, lexed when a rename needs them.
    tokens: Option<idents::Tokens>,
    /// Blocks whose edits are being made (innermost last): their comment
    /// lines stay in place when their statements are deleted.
    editing: Vec<usize>,
    /// The ends of the old spans being reprinted (innermost last): text past
    /// such an end stays in the file.
    reprint_ends: Vec<usize>,
}

impl<'a> Emitter<'a> {
    pub fn new(src: &'a str, nl: &'a str, old: &'a [Stmt]) -> Self {
        let mut em = Emitter {
            src,
            nl,
            indent_unit: detect_indent_unit(src, old),
            old_exprs: HashMap::new(),
            stmt_pos: HashMap::new(),
            old_blocks: vec![],
            multiline_strings: vec![],
            tokens: None,
            reprint_ends: vec![],
            editing: vec![],
        };
        em.index_block(old);
        em.multiline_strings.sort_by_key(|r| r.start());
        em
    }

    fn index_block(&mut self, block: &'a [Stmt]) {
        let id = self.old_blocks.len();
        self.old_blocks.push(block);
        for (i, s) in block.iter().enumerate() {
            self.stmt_pos.insert(s.range(), (id, i));
            let mut ix = ExprIndexer { em: self };
            crate::syntax::visit::Visitor::visit_stmt(&mut ix, s);
        }
    }

    fn tokens(&mut self) -> &idents::Tokens {
        let src = self.src;
        self.tokens.get_or_insert_with(|| idents::Tokens::new(src))
    }

    fn text(&self, r: TextRange) -> &'a str {
        &self.src[r]
    }

    /// Emits a whole module: the original text with the edits applied.
    pub fn emit_module(&mut self, old: &'a [Stmt], new: &[Stmt]) -> R<String> {
        let mut edits = vec![];
        if old.is_empty() {
            if new.is_empty() {
                return Ok(self.src.to_string());
            }
            let mut out = String::new();
            for s in new {
                out.push_str(&self.print_stmt(s, "")?);
                out.push_str(self.nl);
            }
            out.push_str(self.src);
            return Ok(out);
        }
        self.block_edits(old, new, &mut edits)?;
        apply(self.src, 0, self.src.len(), edits)
    }

    /// Edits that turn the old block into the new one.
    fn block_edits(&mut self, old: &'a [Stmt], new: &[Stmt], out: &mut Vec<Edit>) -> R<()> {
        let id = self.stmt_pos.get(&old[0].range()).map_or(usize::MAX, |p| p.0);
        self.editing.push(id);
        let r = self.block_edits_in(old, new, out);
        self.editing.pop();
        r
    }

    /// The blank and comment lines right above statement `i` of block `b`,
    /// without the block's indentation ("" for a blank line).
    fn lead_lines(&self, b: usize, i: usize) -> R<Vec<String>> {
        let s = &self.old_blocks[b][i];
        let start = usize::from(stmt_start(s, self.src));
        let old_indent = self.indent_of(stmt_start(s, self.src))?;
        let line_start = |at: usize| self.src[..at].rfind('\n').map_or(0, |k| k + 1);
        let mut lead_start = line_start(start);
        while lead_start > 0 {
            let prev = line_start(lead_start - 1);
            let t = self.src[prev..lead_start].trim();
            // (A line that is only a backslash continues onto the next: it
            // is blank to CPython, and what lies above it comes along.)
            if !(t.is_empty() || t.starts_with('#') || t == "\\") {
                break;
            }
            lead_start = prev;
        }
        Ok(self.src[lead_start..line_start(start)]
            .lines()
            .map(|l| {
                let l = l.trim_end_matches('\r');
                if l.trim().is_empty() {
                    String::new()
                } else {
                    l.strip_prefix(old_indent.as_str()).unwrap_or(l.trim_start()).to_string()
                }
            })
            .collect())
    }

    fn block_edits_in(&mut self, old: &'a [Stmt], new: &[Stmt], out: &mut Vec<Edit>) -> R<()> {
        let first = &old[0];
        let indent = self.indent_of(stmt_start(first, self.src))?;
        // A one-line block (`if c: a()`, `else: a(); b()`) whose statements
        // are replaced, inserted or removed: lay it out again, one statement
        // per line (nothing but `;` and blanks lies between its statements).
        // Statements sharing a line in a normal block are left to the
        // passes, which do not move them.
        let one_line = indent.contains('\0');
        let structural = new.len() != old.len() || new.iter().zip(old).any(|(n, o)| n.range() != o.range());
        if one_line && structural {
            return self.reflow_block(old, new, out);
        }
        // `old` may be a run inside a larger block: positions from `wraps`
        // are in the whole block, `base` makes them relative to `old`.
        let (block_id, base) = self.stmt_pos.get(&first.range()).copied().unwrap_or((usize::MAX, 0));
        // Align the new statements with the old ones by range.
        let mut pos_of_old: HashMap<TextRange, usize> = HashMap::new();
        for (i, s) in old.iter().enumerate() {
            pos_of_old.insert(s.range(), i);
        }
        // Edits of this block go to `mine` first: insertions before the first
        // statement must precede any edit at the same offset (`async `).
        let outer = out;
        let mut mine: Vec<Edit> = vec![];
        let out = &mut mine;
        let mut kept = vec![false; old.len()];
        let mut last: Option<usize> = None;
        // Pending insertions: (anchor = index of old statement before, texts)
        let mut pending: Vec<&Stmt> = vec![];
        // Insertions: (previous kept statement, next kept statement, statements).
        let mut groups: Vec<(Option<usize>, Option<usize>, Vec<&Stmt>)> = vec![];
        let mut next_new = 0;
        while next_new < new.len() {
            let s = &new[next_new];
            next_new += 1;
            if let Some((i, j)) = self.wraps(s, block_id)
                && i >= base
                && j <= base + old.len()
            {
                let (i, j) = (i - base, j - base);
                // A new compound statement around the run old[i..j]: it
                // replaces exactly that span (comments between included).
                if last.is_some_and(|l| i <= l) {
                    return err(old[i].range().start(), "a pass reordered statements");
                }
                if !pending.is_empty() {
                    groups.push((last, Some(i), std::mem::take(&mut pending)));
                }
                let start = usize::from(stmt_start(&old[i], self.src));
                // The comment on the run's last line goes with it (the
                // wrapped run's copy carries it): a new `finally` or
                // `except` printed after the run must not end up before it.
                // Not when an enclosing reprint ends right there: the comment
                // is past its span and stays in the text.
                let end = usize::from(old[j - 1].range().end());
                let end = self.comment_end_in_reprint(end);
                self.reprint_ends.push(end);
                let text = self.print_stmt_fresh(s, &indent);
                self.reprint_ends.pop();
                let (start, end, text) = self.own_lines(old, i, j, start, end, text?, &indent);
                out.push(Edit { start, end, text });
                kept[i..j].iter_mut().for_each(|k| *k = true);
                last = Some(j - 1);
                continue;
            }
            if is_synth(s.range()) {
                pending.push(s);
                continue;
            }
            let Some(&i) = pos_of_old.get(&s.range()) else {
                // Statements of a compound statement's block in its place
                // (`with pool:` unwrapped): the run up to its last one
                // replaces the compound statement.
                let Some(k) = old.iter().position(|o| child_of(o, s.range())) else {
                    return err(s.range().start(), "a pass moved a statement out of its block");
                };
                if last.is_some_and(|l| k <= l) {
                    return err(s.range().start(), "a pass reordered statements");
                }
                let mut end = next_new;
                for (n, t) in new.iter().enumerate().skip(next_new) {
                    if child_of(&old[k], t.range()) {
                        end = n + 1;
                    } else if !is_synth(t.range()) {
                        break;
                    }
                }
                // New statements just before it take its place too.
                let mut run: Vec<&Stmt> = std::mem::take(&mut pending);
                run.extend(&new[next_new - 1..end]);
                next_new = end;
                self.reprint_ends.push(old[k].range().end().into());
                let text = self.unwrapped(&run, &indent);
                self.reprint_ends.pop();
                let mut text = text?;
                // A comment on the `with` header's line goes to the first line.
                if let Stmt::With(w) = &old[k]
                    && let (Some(item), Some(first)) = (w.items.last(), w.body.first())
                {
                    let after = item.optional_vars.as_ref().map_or(item.context_expr.range(), |v| v.range()).end();
                    let gap = &self.src[usize::from(after)..usize::from(stmt_start(first, self.src))];
                    if let Some(c) = gap.find('#').map(|at| gap[at..].lines().next().unwrap_or("").trim_end()) {
                        let line_end = text.find(['\r', '\n']).unwrap_or(text.len());
                        text.insert_str(line_end, &format!("  {c}"));
                    }
                }
                let start = usize::from(stmt_start(&old[k], self.src));
                out.push(Edit { start, end: old[k].range().end().into(), text });
                kept[k] = true;
                last = Some(k);
                continue;
            };
            if last.is_some_and(|l| i <= l) {
                return err(s.range().start(), "a pass reordered statements");
            }
            if !pending.is_empty() {
                groups.push((last, Some(i), std::mem::take(&mut pending)));
            }
            kept[i] = true;
            last = Some(i);
            self.stmt_edits(&old[i], s, out)?;
        }
        if !pending.is_empty() {
            groups.push((last, None, pending));
        }
        if new.is_empty() {
            return err(first.range().start(), "a pass emptied a block");
        }
        // A group that lands where statements were deleted takes the place
        // of the first of them (`import requests` -> `import httpx`), so the
        // surrounding layout stays as it was.
        // (the deleted statement it replaces, the last deleted one of the run, statements)
        let mut replaced: Vec<(usize, usize, Vec<&Stmt>)> = vec![];
        groups.retain_mut(|(prev, next, stmts)| {
            let lo = prev.map_or(0, |p| p + 1);
            let hi = next.unwrap_or(old.len());
            // As many new statements as deleted ones there (each rewritten
            // in its place): one each, so what lies between them (a
            // comment after each) stays between them. New imports stay
            // together (they replace imports, not each its own).
            let imports = stmts.iter().any(|s| matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)));
            if hi - lo == stmts.len() && stmts.len() > 1 && !imports && (lo..hi).all(|k| !kept[k]) {
                for (n, s) in std::mem::take(stmts).into_iter().enumerate() {
                    replaced.push((lo + n, lo + n, vec![s]));
                }
                return false;
            }
            match (lo..hi).find(|&k| !kept[k]) {
                Some(k) => {
                    let last = (k..hi).rev().find(|&d| !kept[d]).unwrap_or(k);
                    replaced.push((k, last, std::mem::take(stmts)));
                    false
                }
                None => true,
            }
        });
        for (k, last_deleted, stmts) in replaced {
            kept[k] = true;
            let start = usize::from(stmt_start(&old[k], self.src));
            let end = usize::from(old[k].range().end());
            let mut text = String::new();
            self.reprint_ends.push(end);
            for (n, s) in stmts.iter().enumerate() {
                if n > 0 {
                    // PEP 8's blank lines between a new def and what it follows.
                    for _ in 0..blank_around(s, &indent).max(blank_around(stmts[n - 1], &indent)) {
                        text.push_str(self.nl);
                    }
                    text.push_str(self.nl);
                    text.push_str(&indent);
                }
                match self.print_stmt(s, &indent) {
                    Ok(t) => text.push_str(&t),
                    Err(e) => {
                        self.reprint_ends.pop();
                        return Err(e);
                    }
                }
            }
            self.reprint_ends.pop();
            // Counting the blank lines after the run of deleted statements
            // (theirs go with them).
            if stmts.len() > 1
                && let Some(last) = stmts.last()
            {
                self.blank_after(last, old[last_deleted].range().end().into(), &indent, &mut text);
            }
            let (start, end, text) = self.own_lines(old, k, k + 1, start, end, text, &indent);
            out.push(Edit { start, end, text });
        }
        for (i, s) in old.iter().enumerate() {
            if kept[i] {
                continue;
            }
            // A statement that shares its line with others (`import a;
            // import b`): it goes with the `;` between it and a kept
            // neighbour; a line none of whose statements is kept goes whole.
            let (mut a, mut b) = (i, i + 1);
            while a > 0 && self.joined(&old[a - 1], &old[a]) {
                a -= 1;
            }
            while b < old.len() && self.joined(&old[b - 1], &old[b]) {
                b += 1;
            }
            if b - a == 1 {
                self.delete_stmt(s, out)?;
                continue;
            }
            match (a..b).find(|&k| kept[k]) {
                None if i == a => {
                    self.delete_span(s, usize::from(old[b - 1].range().end()), out)?;
                }
                None => {}
                Some(f) if f < i => {
                    let start = usize::from(old[i - 1].range().end());
                    out.push(Edit { start, end: s.range().end().into(), text: String::new() });
                }
                Some(_) => {
                    let start = usize::from(stmt_start(s, self.src));
                    out.push(Edit { start, end: stmt_start(&old[i + 1], self.src).into(), text: String::new() });
                }
            }
        }
        for (prev, next, stmts) in groups {
            let mut text = String::new();
            // New imports after an import go on the next line, not after the
            // blank lines and comments that lead to the next statement.
            let is_import = |s: &Stmt| matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_));
            // So do new defs after the imports (a helper a pass adds): not
            // between the next statement and the comment above it.
            let after_import = prev.is_some_and(|a| is_import(&old[a]))
                && next.is_none_or(|n| !is_import(&old[n]))
                && stmts.iter().all(|s| {
                    matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_))
                        || (indent.is_empty() && blank_around(s, &indent) > 0)
                });
            match (prev, next) {
                (Some(a), _) if next.is_none() || after_import => {
                    let at = self.insertion_point_after(&old[a], old.get(a + 1))?;
                    for s in &stmts {
                        for _ in 0..blank_around(s, &indent) {
                            text.push_str(self.nl);
                        }
                        text.push_str(self.nl);
                        text.push_str(&indent);
                        text.push_str(&self.print_stmt(s, &indent)?);
                    }
                    if next.is_some()
                        && let Some(last) = stmts.last()
                    {
                        self.blank_after(last, at, &indent, &mut text);
                    }
                    out.push(Edit { start: at, end: at, text });
                }
                (prev, Some(n)) if prev == Some(n.wrapping_sub(1)) && self.joined(&old[n - 1], &old[n]) => {
                    // Between two statements of one line (`a = 0; b = f()`):
                    // the `;` becomes a line break, the new statements stand
                    // on lines of their own.
                    let start = usize::from(old[n - 1].range().end());
                    let end = usize::from(stmt_start(&old[n], self.src));
                    for s in &stmts {
                        text.push_str(self.nl);
                        text.push_str(&indent);
                        text.push_str(&self.print_stmt(s, &indent)?);
                    }
                    text.push_str(self.nl);
                    text.push_str(&indent);
                    outer.push(Edit { start, end, text });
                }
                (_, next) => {
                    // Before the next kept statement, at its indentation.
                    let before = &old[next.unwrap_or(0)];
                    let at = usize::from(stmt_start(before, self.src));
                    for s in &stmts {
                        text.push_str(&self.print_stmt(s, &indent)?);
                        text.push_str(self.nl);
                        // PEP 8's blank lines after a new def or class.
                        for _ in 0..blank_around(s, &indent) {
                            text.push_str(self.nl);
                        }
                        text.push_str(&indent);
                    }
                    // New imports before the module's first code: separate
                    // them as PEP 8 asks (two blank lines before a def/class).
                    let imports = stmts.iter().all(|s| matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)));
                    if imports && indent.is_empty() {
                        let blank = match before {
                            Stmt::Import(_) | Stmt::ImportFrom(_) => 0,
                            Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => 2,
                            _ => 1,
                        };
                        for _ in 0..blank {
                            text.insert_str(text.len() - indent.len(), self.nl);
                        }
                    }
                    outer.push(Edit { start: at, end: at, text });
                }
            }
        }
        outer.append(&mut mine);
        Ok(())
    }

    /// Replaces a one-line block (`if c: a(); b()`) with the new
    /// statements, one per line, one indent unit deeper than the header's
    /// line: original statements keep their text (with their own edits).
    fn reflow_block(&mut self, old: &'a [Stmt], new: &[Stmt], out: &mut Vec<Edit>) -> R<()> {
        let first_start = usize::from(stmt_start(&old[0], self.src));
        let end = usize::from(old[old.len() - 1].range().end());
        // From the header's `:` (blanks before the statement dropped).
        let line_start = self.src[..first_start].rfind('\n').map_or(0, |i| i + 1);
        let header_indent: String = self.src[line_start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
        let start = self.src[..first_start].trim_end_matches([' ', '\t']).len();
        let ind = format!("{header_indent}{}", self.unit_under(&header_indent));
        let mut text = String::new();
        self.reprint_ends.push(end);
        let r = (|| {
            for s in new {
                text.push_str(self.nl);
                text.push_str(&ind);
                let t = if is_synth(s.range()) { self.print_stmt_fresh(s, &ind)? } else { self.stmt_text(s)? };
                text.push_str(&t);
            }
            Ok(())
        })();
        self.reprint_ends.pop();
        r?;
        out.push(Edit { start, end, text });
        Ok(())
    }

    /// Several lines in place of `old[i..j]` when the run shares its line
    /// with the statement before (`a = f(); g()`) or after: the `;` becomes a
    /// line break, so the new lines stand on their own. Unchanged otherwise.
    #[allow(clippy::too_many_arguments)]
    fn own_lines(
        &self,
        old: &[Stmt],
        i: usize,
        j: usize,
        mut start: usize,
        mut end: usize,
        mut text: String,
        indent: &str,
    ) -> (usize, usize, String) {
        if !text.contains('\n') || indent.contains('\0') {
            return (start, end, text);
        }
        let same_line = |a: usize, b: usize| !self.src[a..b].contains('\n');
        if i > 0 && same_line(usize::from(old[i - 1].range().end()), start) {
            start = usize::from(old[i - 1].range().end());
            text = format!("{}{indent}{text}", self.nl);
        }
        if let Some(next) = old.get(j)
            && same_line(end, usize::from(stmt_start(next, self.src)))
        {
            end = usize::from(stmt_start(next, self.src));
            text = format!("{text}{}{indent}", self.nl);
        }
        (start, end, text)
    }

    /// The run `old_blocks[b][i..j]` a statement stands for: its own place
    /// for an original statement; for a new compound statement, the run its
    /// first block covers (recursively). None for a plain insertion.
    fn span_of(&self, s: &Stmt) -> Option<(usize, usize, usize)> {
        if !is_synth(s.range()) {
            let &(b, i) = self.stmt_pos.get(&s.range())?;
            return Some((b, i, i + 1));
        }
        self.run_span(blocks(s).first()?)
    }

    /// The original run a list of statements covers, if it does, in order.
    /// New statements between two of the run's (`await r.read()` before a
    /// `return r`, a new `async with` block in place of a deleted
    /// statement) do not break it: they are inserted there, and the old
    /// statements skipped are deleted; nor do new ones before the run (a
    /// `global` declaration): they are inserted before its first statement.
    fn run_span(&self, body: &[Stmt]) -> Option<(usize, usize, usize)> {
        let lead = body.iter().take_while(|s| all_new(s)).count();
        let body = &body[lead..];
        let (b, i, mut j) = self.span_of(body.first()?)?;
        let mut gap = false;
        for s in &body[1..] {
            if all_new(s) {
                gap = true;
                continue;
            }
            let (b2, i2, j2) = self.span_of(s)?;
            if b2 != b || i2 < j {
                return None;
            }
            j = j2;
            gap = false;
        }
        (!gap).then_some((b, i, j))
    }

    /// If `s` is a new compound statement wrapping a run of this block.
    /// The text of statements that take a compound statement's place: runs
    /// of its own statements that stay consecutive keep the original text
    /// between them (comments, blank lines), re-indented; new ones are printed.
    fn unwrapped(&mut self, run: &[&Stmt], indent: &str) -> R<String> {
        // Lines of the result ("" for a blank line), the first without indent.
        let mut lines: Vec<String> = vec![];
        let mut n = 0;
        while n < run.len() {
            let s = run[n];
            let Some(&(b, i)) = (!is_synth(s.range())).then(|| self.stmt_pos.get(&s.range())).flatten() else {
                lines.push(self.print_stmt(s, indent)?);
                n += 1;
                continue;
            };
            // The longest run of old statements i, i+1, ... of block b.
            let mut m = n + 1;
            while m < run.len()
                && !is_synth(run[m].range())
                && self.stmt_pos.get(&run[m].range()) == Some(&(b, i + (m - n)))
            {
                m += 1;
            }
            let first_old = &self.old_blocks[b][i];
            let last_old = &self.old_blocks[b][i + (m - n) - 1];
            let start = usize::from(stmt_start(first_old, self.src));
            let end = usize::from(last_old.range().end());
            // The comment on the run's last line goes with it, but when the
            // compound statement ends there: that comment lies past the
            // replaced span and stays in the text.
            let end = self.comment_end_in_reprint(end);
            let old_indent = self.indent_of(stmt_start(first_old, self.src))?;
            // The blank and comment lines right above it go with it.
            lines.extend(self.lead_lines(b, i)?);
            let mut edits = vec![];
            for (k, &new) in run[n..m].iter().enumerate() {
                let old = &self.old_blocks[b][i + k];
                self.stmt_edits(old, new, &mut edits)?;
            }
            lines.push(self.apply_reindented(start, end, edits, &old_indent, indent)?);
            n = m;
        }
        let mut out = String::new();
        for l in lines.iter().skip_while(|l| l.is_empty()) {
            if !out.is_empty() {
                out.push_str(self.nl);
                if !l.is_empty() {
                    out.push_str(indent);
                }
            }
            out.push_str(l);
        }
        Ok(out)
    }

    fn wraps(&self, s: &Stmt, block: usize) -> Option<(usize, usize)> {
        if !is_synth(s.range()) {
            return None;
        }
        let (b, i, j) = self.span_of(s)?;
        (b == block).then_some((i, j))
    }

    /// A new def inserted just before offset `at` (the end of a line) with
    /// code after it: PEP 8's blank lines after it, counting those the
    /// source has there already.
    fn blank_after(&self, new: &Stmt, at: usize, indent: &str, text: &mut String) {
        let want = blank_around(new, indent);
        let rest = &self.src[at..];
        let rest = rest.split_once('\n').map_or("", |(_, r)| r);
        // Nothing but blank lines after it: no code to keep apart.
        if let Some(have) = rest.split('\n').position(|l| !l.trim().is_empty()) {
            for _ in have..want {
                text.push_str(self.nl);
            }
        }
    }

    fn insertion_point_after(&self, s: &Stmt, next: Option<&Stmt>) -> R<usize> {
        let end = usize::from(s.range().end());
        let rest = &self.src[end..];
        let line_end = rest.find('\n').map(|i| end + i).unwrap_or(self.src.len());
        if let Some(n) = next
            && usize::from(stmt_start(n, self.src)) < line_end
        {
            return err(n.range().start(), "cannot insert a statement between two statements on one line");
        }
        let at = if line_end > 0 && self.src.as_bytes().get(line_end.wrapping_sub(1)) == Some(&b'\r') {
            line_end - 1
        } else {
            line_end
        };
        Ok(at)
    }

    /// True when `b` follows `a` on the same logical line (`a; b`, a
    /// backslash continuation between them allowed).
    fn joined(&self, a: &Stmt, b: &Stmt) -> bool {
        let gap = &self.src[usize::from(a.range().end())..usize::from(stmt_start(b, self.src))];
        let gap = gap.replace("\\\r\n", "").replace("\\\n", "").replace("\\\r", "");
        !gap.contains(['\n', '\r']) && gap.contains(';')
    }

    fn delete_stmt(&self, s: &Stmt, out: &mut Vec<Edit>) -> R<()> {
        self.delete_span(s, usize::from(s.range().end()), out)
    }

    /// Deletes the lines from statement `s` to `end` (the end of the last
    /// statement on its line); an error if other code shares them.
    fn delete_span(&self, s: &Stmt, end: usize, out: &mut Vec<Edit>) -> R<()> {
        let start = usize::from(stmt_start(s, self.src));
        let line_start = self.src[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        if !self.src[line_start..start].trim().is_empty() {
            return err(s.range().start(), "cannot delete a statement that shares its line");
        }
        let line_after = |at: usize| self.src[at..].find('\n').map(|i| at + i + 1).unwrap_or(self.src.len());
        let mut line_end = line_after(end);
        let tail = &self.src[end..line_end];
        // A `;` may end the line's last statement.
        let mut tail_trim = tail.trim().strip_prefix(';').unwrap_or(tail.trim()).trim();
        // A backslash continues the logical line onto blank lines only
        // (`import x; \` above an empty line): they go with it.
        while tail_trim == "\\" && line_end < self.src.len() {
            let next = line_after(line_end);
            tail_trim = self.src[line_end..next].trim();
            line_end = next;
            if !(tail_trim.is_empty() || tail_trim == "\\") {
                return err(s.range().start(), "cannot delete a statement that shares its line");
            }
        }
        if !(tail_trim.is_empty() || tail_trim.starts_with('#')) {
            return err(s.range().start(), "cannot delete a statement that shares its line");
        }
        // Between two blank lines (a statement alone in its paragraph): one
        // of them goes too, so the paragraphs around keep their spacing.
        let blank = |l: &str| l.trim().is_empty();
        let prev_start = self.src[..line_start.saturating_sub(1)].rfind('\n').map_or(0, |i| i + 1);
        let next_end = self.src[line_end..].find('\n').map_or(self.src.len(), |i| line_end + i + 1);
        let start = if line_start > 0
            && blank(&self.src[prev_start..line_start])
            && line_end < self.src.len()
            && blank(&self.src[line_end..next_end])
        {
            prev_start
        } else {
            line_start
        };
        out.push(Edit { start, end: line_end, text: String::new() });
        Ok(())
    }

    /// `comment_end(end)`, but `end` when the enclosing reprint ends there:
    /// a comment right past the reprinted span stays in the text.
    pub(super) fn comment_end_in_reprint(&self, end: usize) -> usize {
        if self.reprint_ends.last() == Some(&end) { end } else { self.comment_end(end) }
    }

    /// `end` (a statement's end) moved past the comment that follows it on
    /// its line, if one does (blanks between); `end` otherwise.
    pub(super) fn comment_end(&self, end: usize) -> usize {
        let rest = &self.src[end..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_start().starts_with('#') { end + line.len() } else { end }
    }

    /// Whitespace before `at` on its line; an error if code precedes it.
    fn indent_of(&self, at: TextSize) -> R<String> {
        let mut at = usize::from(at);
        let mut line_start = self.src[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let mut continued = false;
        // A line continued by a backslash on a line of its own before it
        // (`    \` then `yield x`): the statement's indentation is that
        // line's (CPython counts the logical line's first column).
        while self.src[line_start..at].chars().all(|c| c == ' ' || c == '\t' || c == '\x0c') {
            let head = self.src[..line_start].strip_suffix('\n').map(|h| h.strip_suffix('\r').unwrap_or(h));
            let Some(slash) = head.and_then(|h| h.strip_suffix('\\')) else { break };
            let prev_start = slash.rfind('\n').map_or(0, |i| i + 1);
            if !slash[prev_start..].chars().all(|c| c == ' ' || c == '\t' || c == '\x0c') {
                break;
            }
            at = slash.len();
            line_start = prev_start;
            continued = true;
        }
        let prefix = &self.src[line_start..at];
        if prefix.chars().all(|c| c == ' ' || c == '\t' || c == '\x0c') {
            // A form feed resets the column (CPython's tokenizer): the
            // indentation is what follows the last one.
            let indent = prefix.rsplit('\x0c').next().unwrap_or("");
            if continued && indent.contains('\t') {
                // Before a backslash CPython counts a tab as eight columns in
                // both of its measures (tabs of 8 and of 1), the parser as a
                // tab: no indentation of a new line is the same for both
                // (`\t\t` after `\t\\` is a TabError for CPython).
                return refuse(
                    TextSize::try_from(at).unwrap_or_default(),
                    "cannot rewrite a statement whose line is continued from a tab-indented line holding only a \
                     backslash (CPython measures that indentation unlike tabs elsewhere); remove the backslash line",
                );
            }
            Ok(indent.to_string())
        } else {
            Ok(String::from("\u{0}"))
        }
    }

    /// Edits turning old statement `old` into `new` (same range).
    fn stmt_edits(&mut self, old: &'a Stmt, new: &Stmt, out: &mut Vec<Edit>) -> R<()> {
        if old == new {
            return Ok(());
        }
        // `try`/`except` turned `try`/`except*`: a `*` after each `except`.
        if let (Stmt::Try(o), Stmt::TryStar(n)) = (old, new) {
            for h in &o.handlers {
                let at = usize::from(h.range().start()) + "except".len();
                if !self.src[..at].ends_with("except") {
                    return err(h.range().start(), "an except clause that does not start with `except`");
                }
                out.push(Edit { start: at, end: at, text: "*".into() });
            }
            let n = n.clone();
            let as_try = Stmt::Try(ast::StmtTry {
                range: n.range,
                body: n.body,
                handlers: n.handlers,
                orelse: n.orelse,
                finalbody: n.finalbody,
            });
            return self.stmt_edits(old, &as_try, out);
        }
        // A def or class renamed (a user rule): the name is edited in place,
        // the rest compared as usual.
        if let (Some(on), Some(nn)) = (def_name(old), def_name(new))
            && on != nn
            && split_kind(old).0 == split_kind(new).0
        {
            let at = self.def_name_offset(old, on)?;
            out.push(Edit { start: at, end: at + on.len(), text: nn.to_string() });
            let mut renamed = new.clone();
            set_def_name(&mut renamed, on);
            return self.stmt_edits(old, &renamed, out);
        }
        // Every decorator taken off a def (an entry point's async twin; its
        // decorators went to the sync shell): the lines from the first
        // decorator to `def` go, unless a comment is among them.
        if let Some(restored) = removed_decorators(old, new) {
            let start = usize::from(stmt_start(old, self.src));
            let def = usize::from(old.range().start());
            // Comments inside a decorator's brackets move with it; the gaps
            // between decorators hold only `@`, blanks and comments.
            let mut gaps = vec![];
            let mut at = start;
            if let Some(d) = old_decorators(old) {
                for e in d {
                    gaps.push(&self.src[at..usize::from(e.range().start())]);
                    at = e.range().end().into();
                }
            }
            gaps.push(&self.src[at..def]);
            if gaps.iter().any(|g| g.contains('#')) {
                return err(old.range().start(), "cannot move decorators with comments among them");
            }
            out.push(Edit { start, end: def, text: String::new() });
            return self.stmt_edits(old, &restored, out);
        }
        // New decorators on top of a def's own (`@pytest.mark.asyncio`): a
        // line each before the first decorator, then the rest as usual.
        if let Some((added, rest)) = added_decorators(old, new)
            && let start = stmt_start(old, self.src)
            && let indent = self.indent_of(start)?
            && !indent.contains('\u{0}')
        {
            let mut text = String::new();
            for d in &added {
                text.push('@');
                text.push_str(&self.emit_expr(d, Prec::Test, false)?);
                text.push_str(self.nl);
                text.push_str(&indent);
            }
            out.push(Edit { start: start.into(), end: start.into(), text });
            return self.stmt_edits(old, &rest, out);
        }
        let (old_kind, old_async) = split_kind(old);
        let (new_kind, new_async) = split_kind(new);
        if old_kind == new_kind && (old_async == new_async || (!old_async && new_async)) {
            // Compare headers with blocks taken out and children erased.
            let mut oh = old.clone();
            let ob = take_blocks(&mut oh);
            let mut nh = new.clone();
            let nb = take_blocks(&mut nh);
            let oh = crate::syntax::to_sync_kind(oh);
            let nh = crate::syntax::to_sync_kind(nh);
            let (oshell, okids) = shell::split_stmt_header(oh);
            let (mut nshell, nkids) = shell::split_stmt_header(nh);
            // Identifiers of the statement's own renamed (a user rule:
            // parameters, `except ... as`, `global`, `match` captures):
            // edited where they are spelled.
            let mut renames = vec![];
            if oshell != nshell
                && let src = self.src
                && let Some(r) = idents::stmt_renames(src, self.tokens(), &oshell, &nshell)
                && r.restored == oshell
            {
                nshell = r.restored;
                renames = r.edits;
            }
            if oshell == nshell && okids.len() == nkids.len() && ob.len() == nb.len() {
                for (start, end, text) in renames {
                    out.push(Edit { start, end, text });
                }
                if new_async && !old_async {
                    let at = usize::from(old.range().start());
                    out.push(Edit { start: at, end: at, text: "async ".into() });
                }
                for (o, n) in okids.iter().zip(&nkids) {
                    if o != n {
                        let text = self.splice_child(o, n, Prec::Test)?;
                        out.push(Edit { start: o.range().start().into(), end: o.range().end().into(), text });
                    }
                }
                let old_blocks = blocks(old);
                for (i, nbody) in nb.iter().enumerate() {
                    let obody = old_blocks[i];
                    if obody == nbody.as_slice() {
                        continue;
                    }
                    if obody.is_empty() {
                        return err(old.range().start(), "a pass added a block the printer cannot place");
                    }
                    self.block_edits(obody, nbody, out)?;
                }
                return Ok(());
            }
        }
        // Reprint the statement. A simple statement that shares its line
        // (`x = 1; from m import a, b`) prints on one line: no indentation
        // is needed.
        let start = stmt_start(old, self.src);
        let mut indent = self.indent_of(start)?;
        if indent.contains('\0') && blocks(new).is_empty() {
            indent.clear();
        }
        self.reprint_ends.push(old.range().end().into());
        let text = self.print_stmt_fresh(new, &indent);
        self.reprint_ends.pop();
        out.push(Edit { start: start.into(), end: old.range().end().into(), text: text? });
        Ok(())
    }

    /// Where the name of a def or class statement starts: after `def` /
    /// `async def` / `class` at the statement's range (decorators come before).
    fn def_name_offset(&self, s: &Stmt, name: &str) -> R<usize> {
        let start = usize::from(s.range().start());
        let rest = &self.src[start..];
        let mut at = 0;
        for kw in ["async", "def", "class"] {
            let t = &rest[at..];
            if t.starts_with(kw) && t[kw.len()..].starts_with(|c: char| c.is_whitespace() || c == '\\') {
                at += kw.len();
                at += rest[at..].len() - rest[at..].trim_start_matches(|c: char| c.is_whitespace() || c == '\\').len();
            }
        }
        if rest[at..].starts_with(name) {
            Ok(start + at)
        } else {
            err(s.range().start(), "cannot find the name of a renamed def")
        }
    }

    /// Text of an original statement (with its own edits), from its first
    /// decorator to its end.
    fn stmt_text(&mut self, new: &Stmt) -> R<String> {
        let r = new.range();
        let Some(&(b, i)) = self.stmt_pos.get(&r) else {
            return err(r.start(), "statement has a range but no original");
        };
        let old = &self.old_blocks[b][i];
        let start = usize::from(stmt_start(old, self.src));
        let mut edits = vec![];
        self.stmt_edits(old, new, &mut edits)?;
        apply(self.src, start, r.end().into(), edits)
    }

    /// Emits an expression for a slot that needs precedence `slot`.
    /// `bracketed`: the slot is inside brackets the printer wrote.
    pub fn emit_expr(&mut self, e: &Expr, slot: Prec, bracketed: bool) -> R<String> {
        let text = self.expr_text(e)?;
        let wrap = expr_prec(e) < slot
            || (!bracketed && !is_synth(e.range()) && newline_outside_brackets(&text))
            || (slot == Prec::Atom && is_int_literal(e));
        if wrap && !matches!(e, Expr::Starred(_) | Expr::Slice(_)) { Ok(format!("({text})")) } else { Ok(text) }
    }

    /// Emits `new` in place of the original child `old`. The slot held `old`
    /// (with any parentheses around it, which stay), so `new` needs
    /// parentheses only if it binds looser than both `old` and the slot.
    fn splice_child(&mut self, old: &Expr, new: &Expr, slot: Prec) -> R<String> {
        let slot = slot.min(expr_prec(old));
        // The original position keeps its brackets (if any): newlines inside
        // the old text were legal there, and reprinted text has none outside
        // its own brackets.
        self.emit_expr(new, slot, true)
    }

    fn expr_text(&mut self, e: &Expr) -> R<String> {
        let r = e.range();
        if is_synth(r) {
            return self.print_expr(e);
        }
        let Some(old) = self.old_exprs.get(&(r, std::mem::discriminant(e))).copied() else {
            return self.print_expr(e);
        };
        if old == e {
            return Ok(self.text(r).to_string());
        }
        let (oshell, okids) = shell::split_expr(old);
        let (mut nshell, nkids) = shell::split_expr(e);
        // Identifiers of the expression's own renamed (an attribute, a
        // keyword argument, a lambda's parameters): edited in place.
        let mut renames = vec![];
        if oshell != nshell
            && let src = self.src
            && let Some(r) = idents::expr_renames(src, self.tokens(), old, e)
            && let (restored, _) = shell::split_expr(&r.restored)
            && restored == oshell
        {
            nshell = restored;
            renames = r.edits;
        }
        if oshell == nshell && okids.len() == nkids.len() {
            let slots = shell::child_slots(e);
            if slots.len() == nkids.len() {
                let mut edits: Vec<Edit> =
                    renames.into_iter().map(|(start, end, text)| Edit { start, end, text }).collect();
                for ((o, n), slot) in okids.iter().zip(&nkids).zip(slots) {
                    if o != n {
                        let text = self.splice_child(o, n, slot)?;
                        let (start, end) = (o.range().start().into(), o.range().end().into());
                        match matches!(e, Expr::JoinedStr(_)).then(|| self.debug_field(start, end)).flatten() {
                            Some(field) => edits.push(field?.edit(self.src, text)),
                            None => edits.push(Edit { start, end, text }),
                        }
                    }
                }
                return apply(self.src, r.start().into(), r.end().into(), edits);
            }
        }
        self.print_expr(e)
    }

    /// The self-documenting replacement field (`{expr=}`, PEP 498's `=`)
    /// whose expression spans `start..end` of the source, if it is one. Its
    /// tree is the tree of `expr={expr!r}` (the text up to the `=` is a
    /// literal), so a changed expression is written that way: the printed
    /// text stays the original's. Text that cannot be a plain literal there
    /// (quotes, backslashes, newlines) is refused.
    fn debug_field(&self, start: usize, end: usize) -> Option<R<DebugField>> {
        let src = self.src.as_bytes();
        let mut open = start;
        while open > 0 && matches!(src[open - 1], b' ' | b'\t' | b'(') {
            open -= 1;
        }
        if open == 0 || src[open - 1] != b'{' {
            return None;
        }
        let mut eq = end;
        while eq < src.len() && matches!(src[eq], b' ' | b'\t' | b')') {
            eq += 1;
        }
        if src.get(eq) != Some(&b'=') || src.get(eq + 1) == Some(&b'=') {
            return None;
        }
        let mut after = eq + 1;
        while after < src.len() && matches!(src[after], b' ' | b'\t') {
            after += 1;
        }
        let debug = &self.src[open..after];
        if debug.contains(['\'', '"', '\\', '\n', '\r']) {
            return Some(err(
                TextSize::try_from(start).unwrap_or_default(),
                "cannot rewrite the expression of a self-documenting f-string field (`{expr=}`) whose text holds quotes, backslashes or newlines",
            ));
        }
        let repr = src.get(after) == Some(&b'}');
        Some(Ok(DebugField { open, start, end, after, literal: debug.replace('{', "{{").replace('}', "}}"), repr }))
    }

    /// Re-indents original text that started at `old_indent` to `new_indent`.
    fn reindent(&self, text: &str, start: usize, old_indent: &str, new_indent: &str) -> String {
        if old_indent == new_indent {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + 64);
        self.reindent_piece(&mut out, text, Some(start), old_indent, new_indent);
        out
    }

    /// `src[start..end]` with `edits` applied, re-indented from
    /// `old_indent` to `new_indent`. The original text between the edits
    /// is judged by its own offsets (a line inside a multi-line string
    /// keeps its text even after an edit above it changed the length);
    /// the lines of an edit's text are re-indented when they start with
    /// `old_indent`.
    fn apply_reindented(
        &self,
        start: usize,
        end: usize,
        mut edits: Vec<Edit>,
        old_indent: &str,
        new_indent: &str,
    ) -> R<String> {
        if old_indent == new_indent {
            return apply(self.src, start, end, edits);
        }
        edits.sort_by_key(|e| (e.start, e.end));
        let mut out = String::with_capacity(end - start + 64);
        let mut pos = start;
        for e in edits {
            if e.start < pos || e.end > end {
                return err(TextSize::try_from(e.start).unwrap_or_default(), "overlapping edits");
            }
            self.reindent_piece(&mut out, &self.src[pos..e.start], Some(pos), old_indent, new_indent);
            self.reindent_piece(&mut out, &e.text, None, old_indent, new_indent);
            pos = e.end;
        }
        self.reindent_piece(&mut out, &self.src[pos..end], Some(pos), old_indent, new_indent);
        Ok(out)
    }

    /// Appends `piece` to `out`, re-indenting each of its lines that starts
    /// a line of `out` (not the first line of `out`). `at`: the piece's
    /// offset in the original text, if it is original text (lines inside a
    /// multi-line string are then kept as they are).
    fn reindent_piece(&self, out: &mut String, piece: &str, at: Option<usize>, old_indent: &str, new_indent: &str) {
        let mut offset = at.unwrap_or(0);
        // An edit's text may hold a multi-line string copied from the
        // original (`await conn.executescript("""...""")`): its lines are
        // found by scanning the text itself.
        let in_string = if at.is_none() { lines_in_strings(piece) } else { vec![] };
        for line in piece.split_inclusive('\n') {
            let line_start = out.ends_with('\n');
            let inside = match at {
                Some(_) => self.in_multiline_string(offset),
                None => in_string.binary_search(&offset).is_ok(),
            };
            if line_start && !inside {
                // Form feeds in the indentation are kept; the column counts
                // from the last one (as CPython's tokenizer counts it).
                let ws = line.len() - line.trim_start_matches([' ', '\t', '\x0c']).len();
                let ff = line[..ws].rfind('\x0c').map_or(0, |k| k + 1);
                if let Some(rest) = line[ff..].strip_prefix(old_indent) {
                    out.push_str(&line[..ff]);
                    out.push_str(new_indent);
                    out.push_str(rest);
                    offset += line.len();
                    continue;
                }
            }
            out.push_str(line);
            offset += line.len();
        }
    }

    /// The indentation one level below a line indented `indent`: the
    /// file's unit, but a tab under a tab and spaces under spaces (Python
    /// refuses a tab after spaces in one line's indentation, and the lines
    /// below a tab-indented header are tab-indented in their turn).
    pub(super) fn unit_under(&self, indent: &str) -> &str {
        match indent.chars().last() {
            Some('\t') => "\t",
            Some(' ') if self.indent_unit.contains('\t') => "    ",
            _ => &self.indent_unit,
        }
    }

    fn in_multiline_string(&self, offset: usize) -> bool {
        let o = TextSize::try_from(offset).unwrap_or_default();
        let idx = self.multiline_strings.partition_point(|r| r.start() < o);
        self.multiline_strings[..idx].iter().rev().take(64).any(|r| r.start() < o && o < r.end())
    }
}

/// The offsets of the lines of `text` (a fragment of Python: whole
/// expressions or statements) that start inside a string literal. A plain
/// scan of quotes, escapes and comments; the emitter's verification catches
/// a fragment it misjudges.
fn lines_in_strings(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = vec![];
    let (mut i, mut quote): (usize, Option<&[u8]>) = (0, None);
    while i < b.len() {
        match quote {
            None => match b[i] {
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                q @ (b'"' | b'\'') => {
                    let triple = b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q;
                    let lit: &[u8] = match (q, triple) {
                        (b'"', true) => b"\"\"\"",
                        (b'"', false) => b"\"",
                        (_, true) => b"'''",
                        _ => b"'",
                    };
                    quote = Some(lit);
                    i += lit.len();
                    continue;
                }
                _ => {}
            },
            Some(lit) => {
                if b[i] == b'\\' {
                    if b.get(i + 1) == Some(&b'\n') {
                        out.push(i + 2);
                    }
                    i += 2;
                    continue;
                }
                if b[i..].starts_with(lit) {
                    quote = None;
                    i += lit.len();
                    continue;
                }
                if b[i] == b'\n' {
                    if lit.len() == 1 {
                        // A single-quoted string cannot span lines: the
                        // scan lost its way; it stops claiming lines.
                        quote = None;
                    } else {
                        out.push(i + 1);
                    }
                }
            }
        }
        i += 1;
    }
    out
}

struct ExprIndexer<'e, 'a> {
    em: &'e mut Emitter<'a>,
}

impl<'a> crate::syntax::visit::Visitor<'a> for ExprIndexer<'_, 'a> {
    fn visit_expr(&mut self, e: &'a Expr) {
        let r = e.range();
        match e {
            Expr::Constant(_) | Expr::JoinedStr(_) if self.em.src[r].contains('\n') => {
                self.em.multiline_strings.push(r);
            }
            _ => {}
        }
        // f-string parts share the string's range: the outermost node wins.
        self.em.old_exprs.entry((r, std::mem::discriminant(e))).or_insert(e);
        crate::syntax::visit::walk_expr(self, e);
    }
    fn visit_body(&mut self, body: &'a [Stmt]) {
        self.em.index_block(body);
    }
}

/// Blank lines around a new def or class: PEP 8's two at the top level,
/// one in a block; none around other statements.
fn blank_around(new: &Stmt, indent: &str) -> usize {
    let def = |s: &Stmt| matches!(s, Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_));
    match (def(new), indent.is_empty()) {
        (false, _) => 0,
        (true, true) => 2,
        (true, false) => 1,
    }
}

fn old_decorators(s: &Stmt) -> Option<&[Expr]> {
    match s {
        Stmt::FunctionDef(f) => Some(&f.decorator_list),
        Stmt::AsyncFunctionDef(f) => Some(&f.decorator_list),
        _ => None,
    }
}

/// A def whose decorators a pass took off, all of them: the def with them
/// put back (to compare the rest as usual).
fn removed_decorators(old: &Stmt, new: &Stmt) -> Option<Stmt> {
    let od = match old {
        Stmt::FunctionDef(f) => &f.decorator_list,
        Stmt::AsyncFunctionDef(f) => &f.decorator_list,
        _ => return None,
    };
    let mut restored = new.clone();
    let nd = match &mut restored {
        Stmt::FunctionDef(f) => &mut f.decorator_list,
        Stmt::AsyncFunctionDef(f) => &mut f.decorator_list,
        _ => return None,
    };
    if od.is_empty() || !nd.is_empty() {
        return None;
    }
    *nd = od.clone();
    Some(restored)
}

/// The synthetic decorators a pass put on top of a def's decorators (and
/// the def without them), if that is all that differs in the list.
fn added_decorators(old: &Stmt, new: &Stmt) -> Option<(Vec<Expr>, Stmt)> {
    let decos = |s: &Stmt| -> Option<Vec<Expr>> {
        match s {
            Stmt::FunctionDef(f) => Some(f.decorator_list.clone()),
            Stmt::AsyncFunctionDef(f) => Some(f.decorator_list.clone()),
            _ => None,
        }
    };
    let (od, nd) = (decos(old)?, decos(new)?);
    let k = nd.len().checked_sub(od.len()).filter(|&k| k > 0)?;
    if !nd[..k].iter().all(|d| is_synth(d.range())) || nd[k..].iter().any(|d| is_synth(d.range())) {
        return None;
    }
    let mut rest = new.clone();
    match &mut rest {
        Stmt::FunctionDef(f) => f.decorator_list.drain(..k),
        Stmt::AsyncFunctionDef(f) => f.decorator_list.drain(..k),
        _ => return None,
    };
    Some((nd[..k].to_vec(), rest))
}

fn apply(src: &str, start: usize, end: usize, mut edits: Vec<Edit>) -> R<String> {
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(end - start + 64);
    let mut pos = start;
    for e in edits {
        if e.start < pos || e.end > end {
            return err(TextSize::try_from(e.start).unwrap_or_default(), "overlapping edits");
        }
        out.push_str(&src[pos..e.start]);
        out.push_str(&e.text);
        pos = e.end;
    }
    out.push_str(&src[pos..end]);
    Ok(out)
}

fn is_int_literal(e: &Expr) -> bool {
    matches!(e, Expr::Constant(c) if matches!(c.value, rustpython_ast::Constant::Int(_)))
}

/// True if `text` (an expression) has a line break outside any bracket or
/// string and not escaped by a backslash: such text needs parentheses when
/// moved to a place that is not inside brackets.
pub fn newline_outside_brackets(text: &str) -> bool {
    if !text.contains('\n') {
        return false;
    }
    let b = text.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\\' => {
                i += 2;
                continue;
            }
            b'\n' if depth <= 0 => return true,
            b'\'' | b'"' => {
                let triple = i + 2 < b.len() && b[i + 1] == c && b[i + 2] == c;
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple {
                        if i + 2 < b.len() && b[i] == c && b[i + 1] == c && b[i + 2] == c {
                            i += 3;
                            break;
                        }
                    } else if b[i] == c || b[i] == b'\n' {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn detect_indent_unit(src: &str, body: &[Stmt]) -> String {
    for s in body {
        if let Some(b) = blocks(s).into_iter().find(|b| !b.is_empty()) {
            let st = usize::from(stmt_start(&b[0], src));
            let ls = src[..st].rfind('\n').map(|i| i + 1).unwrap_or(0);
            let p = &src[ls..st];
            if !p.is_empty() && p.chars().all(|c| c == ' ' || c == '\t') {
                return p.to_string();
            }
        }
    }
    "    ".to_string()
}

/// Whether `r` is a statement of one of `o`'s blocks.
/// A new statement with no original statement in it (at any depth).
fn all_new(s: &Stmt) -> bool {
    is_synth(s.range()) && blocks(s).iter().all(|b| b.iter().all(all_new))
}

fn child_of(o: &Stmt, r: TextRange) -> bool {
    blocks(o).iter().any(|b| b.iter().any(|c| c.range() == r))
}

fn def_name(s: &Stmt) -> Option<&str> {
    match s {
        Stmt::FunctionDef(f) => Some(f.name.as_str()),
        Stmt::AsyncFunctionDef(f) => Some(f.name.as_str()),
        Stmt::ClassDef(c) => Some(c.name.as_str()),
        _ => None,
    }
}

fn set_def_name(s: &mut Stmt, name: &str) {
    let id = ast::Identifier::new(name);
    match s {
        Stmt::FunctionDef(f) => f.name = id,
        Stmt::AsyncFunctionDef(f) => f.name = id,
        Stmt::ClassDef(c) => c.name = id,
        _ => {}
    }
}
