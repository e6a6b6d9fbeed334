//! Prints nodes created by passes. Children that keep an original range are
//! emitted through [`Emitter::emit_expr`], so their original text is reused.
//! Everything is printed here, new f-strings too (see [`Emitter::fstring`]).

use super::{Emitter, R, err};
use crate::syntax::{Prec, is_synth, op_prec};
use rustpython_ast::{self as ast, Constant, Expr, Ranged, Stmt};

impl Emitter<'_> {
    fn child(&mut self, e: &Expr, slot: Prec) -> R<String> {
        self.emit_expr(e, slot, false)
    }
    fn bchild(&mut self, e: &Expr, slot: Prec) -> R<String> {
        self.emit_expr(e, slot, true)
    }
    fn list(&mut self, es: &[Expr]) -> R<String> {
        let mut parts = vec![];
        for e in es {
            parts.push(self.bchild(e, Prec::Test)?);
        }
        Ok(parts.join(", "))
    }

    pub(super) fn print_expr(&mut self, e: &Expr) -> R<String> {
        Ok(match e {
            Expr::BoolOp(b) => {
                let (kw, p) = match b.op {
                    ast::BoolOp::Or => (" or ", Prec::And),
                    ast::BoolOp::And => (" and ", Prec::Not),
                };
                let mut parts = vec![];
                for v in &b.values {
                    parts.push(self.child(v, p)?);
                }
                parts.join(kw)
            }
            Expr::NamedExpr(n) => {
                format!("{} := {}", self.child(&n.target, Prec::Atom)?, self.child(&n.value, Prec::Test)?)
            }
            Expr::BinOp(b) => {
                let p = op_prec(b.op);
                let (lp, rp) = if b.op == ast::Operator::Pow { (Prec::Await, Prec::Factor) } else { (p, p.next()) };
                format!("{} {} {}", self.child(&b.left, lp)?, binop(b.op), self.child(&b.right, rp)?)
            }
            Expr::UnaryOp(u) => match u.op {
                ast::UnaryOp::Not => format!("not {}", self.child(&u.operand, Prec::Not)?),
                ast::UnaryOp::Invert => format!("~{}", self.child(&u.operand, Prec::Factor)?),
                ast::UnaryOp::UAdd => format!("+{}", self.child(&u.operand, Prec::Factor)?),
                ast::UnaryOp::USub => format!("-{}", self.child(&u.operand, Prec::Factor)?),
            },
            Expr::Lambda(l) => {
                let a = self.print_arguments(&l.args)?;
                let body = self.child(&l.body, Prec::Test)?;
                if a.is_empty() { format!("lambda: {body}") } else { format!("lambda {a}: {body}") }
            }
            Expr::IfExp(i) => format!(
                "{} if {} else {}",
                self.child(&i.body, Prec::Or)?,
                self.child(&i.test, Prec::Or)?,
                self.child(&i.orelse, Prec::Test)?
            ),
            Expr::Dict(d) => {
                let mut parts = vec![];
                for (k, v) in d.keys.iter().zip(&d.values) {
                    match k {
                        Some(k) => {
                            parts.push(format!("{}: {}", self.bchild(k, Prec::Test)?, self.bchild(v, Prec::Test)?))
                        }
                        None => parts.push(format!("**{}", self.bchild(v, Prec::BOr)?)),
                    }
                }
                format!("{{{}}}", parts.join(", "))
            }
            Expr::Set(s) => format!("{{{}}}", self.list(&s.elts)?),
            Expr::ListComp(c) => format!("[{}{}]", self.bchild(&c.elt, Prec::Test)?, self.comps(&c.generators)?),
            Expr::SetComp(c) => format!("{{{}{}}}", self.bchild(&c.elt, Prec::Test)?, self.comps(&c.generators)?),
            Expr::GeneratorExp(c) => format!("({}{})", self.bchild(&c.elt, Prec::Test)?, self.comps(&c.generators)?),
            Expr::DictComp(c) => format!(
                "{{{}: {}{}}}",
                self.bchild(&c.key, Prec::Test)?,
                self.bchild(&c.value, Prec::Test)?,
                self.comps(&c.generators)?
            ),
            Expr::Await(a) => format!("await {}", self.child(&a.value, Prec::Atom)?),
            Expr::Yield(y) => match &y.value {
                Some(v) => format!("yield {}", self.child(v, Prec::Tuple)?),
                None => "yield".to_string(),
            },
            Expr::YieldFrom(y) => format!("yield from {}", self.child(&y.value, Prec::Test)?),
            Expr::Compare(c) => {
                let mut s = self.child(&c.left, Prec::BOr)?;
                for (op, v) in c.ops.iter().zip(&c.comparators) {
                    s.push(' ');
                    s.push_str(cmpop(*op));
                    s.push(' ');
                    s.push_str(&self.child(v, Prec::BOr)?);
                }
                s
            }
            Expr::Call(c) => {
                let func = self.child(&c.func, Prec::Atom)?;
                // Arguments in source order when they have ranges, else positional first.
                let mut parts: Vec<(u32, usize, String)> = vec![];
                for (i, a) in c.args.iter().enumerate() {
                    let key = if is_synth(a.range()) { u32::MAX } else { a.range().start().into() };
                    parts.push((key, i, self.bchild(a, Prec::Test)?));
                }
                for (i, k) in c.keywords.iter().enumerate() {
                    let v = self.bchild(&k.value, Prec::Test)?;
                    let key = if is_synth(k.range) { u32::MAX } else { k.range.start().into() };
                    let text = match &k.arg {
                        Some(a) => format!("{a}={v}"),
                        None => format!("**{v}"),
                    };
                    parts.push((key, c.args.len() + i, text));
                }
                // Keep relative order stable: sort by source position only
                // among originals, synthetic ones stay after positionals.
                if parts.iter().all(|p| p.0 != u32::MAX) {
                    parts.sort_by_key(|p| (p.0, p.1));
                }
                let args: Vec<String> = parts.into_iter().map(|p| p.2).collect();
                // `f(x for x in xs)`: a new sole generator argument needs no
                // parentheses of its own.
                if let ([Expr::GeneratorExp(g)], [], [one]) =
                    (c.args.as_slice(), c.keywords.as_slice(), args.as_slice())
                    && is_synth(g.range)
                    && let Some(inner) = one.strip_prefix('(').and_then(|t| t.strip_suffix(')'))
                {
                    return Ok(format!("{func}({inner})"));
                }
                format!("{func}({})", args.join(", "))
            }
            Expr::JoinedStr(j) => self.fstring(&j.values, j.range)?,
            Expr::FormattedValue(f) => self.fstring(std::slice::from_ref(e), f.range)?,
            Expr::Constant(c) => constant(&c.value),
            Expr::Attribute(a) => format!("{}.{}", self.child(&a.value, Prec::Atom)?, a.attr),
            Expr::Subscript(s) => format!("{}[{}]", self.child(&s.value, Prec::Atom)?, self.subscript(&s.slice)?),
            Expr::Starred(s) => format!("*{}", self.child(&s.value, Prec::BOr)?),
            Expr::Name(n) => n.id.to_string(),
            Expr::List(l) => format!("[{}]", self.list(&l.elts)?),
            Expr::Tuple(t) => match t.elts.len() {
                1 => format!("({},)", self.bchild(&t.elts[0], Prec::Test)?),
                _ => format!("({})", self.list(&t.elts)?),
            },
            Expr::Slice(s) => {
                let mut out = String::new();
                if let Some(l) = &s.lower {
                    out.push_str(&self.bchild(l, Prec::Test)?);
                }
                out.push(':');
                if let Some(u) = &s.upper {
                    out.push_str(&self.bchild(u, Prec::Test)?);
                }
                if let Some(st) = &s.step {
                    out.push(':');
                    out.push_str(&self.bchild(st, Prec::Test)?);
                }
                out
            }
        })
    }

    fn subscript(&mut self, e: &Expr) -> R<String> {
        match e {
            Expr::Tuple(t) if is_synth(t.range) && !t.elts.is_empty() => {
                let s = self.list(&t.elts)?;
                Ok(if t.elts.len() == 1 { format!("{s},") } else { s })
            }
            _ => self.bchild(e, Prec::Tuple),
        }
    }

    fn comps(&mut self, gens: &[ast::Comprehension]) -> R<String> {
        let mut s = String::new();
        for g in gens {
            s.push_str(if g.is_async { " async for " } else { " for " });
            s.push_str(&self.bchild(&g.target, Prec::Tuple)?);
            s.push_str(" in ");
            s.push_str(&self.bchild(&g.iter, Prec::Or)?);
            for i in &g.ifs {
                s.push_str(" if ");
                s.push_str(&self.bchild(i, Prec::Or)?);
            }
        }
        Ok(s)
    }

    fn print_arguments(&mut self, a: &ast::Arguments) -> R<String> {
        let mut parts = vec![];
        let arg = |em: &mut Self, d: &ast::ArgWithDefault| -> R<String> {
            let mut s = d.def.arg.to_string();
            if let Some(ann) = &d.def.annotation {
                s.push_str(": ");
                s.push_str(&em.bchild(ann, Prec::Test)?);
            }
            if let Some(df) = &d.default {
                s.push_str(if d.def.annotation.is_some() { " = " } else { "=" });
                s.push_str(&em.bchild(df, Prec::Test)?);
            }
            Ok(s)
        };
        for d in &a.posonlyargs {
            parts.push(arg(self, d)?);
        }
        if !a.posonlyargs.is_empty() {
            parts.push("/".into());
        }
        for d in &a.args {
            parts.push(arg(self, d)?);
        }
        let star = |em: &mut Self, p: &ast::Arg, stars: &str| -> R<String> {
            Ok(match &p.annotation {
                Some(ann) => format!("{stars}{}: {}", p.arg, em.bchild(ann, Prec::Test)?),
                None => format!("{stars}{}", p.arg),
            })
        };
        if let Some(v) = &a.vararg {
            parts.push(star(self, v, "*")?);
        } else if !a.kwonlyargs.is_empty() {
            parts.push("*".into());
        }
        for d in &a.kwonlyargs {
            parts.push(arg(self, d)?);
        }
        if let Some(k) = &a.kwarg {
            parts.push(star(self, k, "**")?);
        }
        Ok(parts.join(", "))
    }

    /// Prints a statement at `indent` (the first line carries no indent).
    pub(super) fn print_stmt(&mut self, s: &Stmt, indent: &str) -> R<String> {
        if !is_synth(s.range()) {
            let text = self.stmt_text(s)?;
            let start = usize::from(crate::syntax::stmt_start(s, self.src));
            let old_indent = self.indent_of(crate::syntax::stmt_start(s, self.src))?;
            return Ok(self.reindent(&text, start, &old_indent, indent));
        }
        self.print_stmt_fresh(s, indent)
    }

    /// Prints a statement from its fields, whatever its range.
    pub(super) fn print_stmt_fresh(&mut self, s: &Stmt, indent: &str) -> R<String> {
        if indent.contains('\0') {
            return err(s.range().start(), "cannot insert a statement into a one-line block");
        }
        let t = Prec::Test;
        Ok(match s {
            Stmt::Expr(e) => self.child(&e.value, Prec::Yield)?,
            Stmt::Assign(a) => {
                let mut out = String::new();
                for tg in &a.targets {
                    out.push_str(&self.child(tg, Prec::Tuple)?);
                    out.push_str(" = ");
                }
                out.push_str(&self.child(&a.value, Prec::Yield)?);
                out
            }
            Stmt::AugAssign(a) => {
                format!(
                    "{} {}= {}",
                    self.child(&a.target, Prec::Atom)?,
                    binop(a.op),
                    self.child(&a.value, Prec::Yield)?
                )
            }
            Stmt::AnnAssign(a) => {
                let mut out = format!("{}: {}", self.child(&a.target, Prec::Atom)?, self.child(&a.annotation, t)?);
                if let Some(v) = &a.value {
                    out.push_str(" = ");
                    out.push_str(&self.child(v, Prec::Yield)?);
                }
                out
            }
            Stmt::Return(r) => match &r.value {
                Some(v) => format!("return {}", self.child(v, Prec::Tuple)?),
                None => "return".into(),
            },
            Stmt::Delete(d) => {
                let mut parts = vec![];
                for tg in &d.targets {
                    parts.push(self.child(tg, t)?);
                }
                format!("del {}", parts.join(", "))
            }
            Stmt::Pass(_) => "pass".into(),
            Stmt::Break(_) => "break".into(),
            Stmt::Continue(_) => "continue".into(),
            Stmt::Raise(r) => {
                let mut out = "raise".to_string();
                if let Some(e) = &r.exc {
                    out.push(' ');
                    out.push_str(&self.child(e, t)?);
                }
                if let Some(c) = &r.cause {
                    out.push_str(" from ");
                    out.push_str(&self.child(c, t)?);
                }
                out
            }
            Stmt::Assert(a) => {
                let mut out = format!("assert {}", self.child(&a.test, t)?);
                if let Some(m) = &a.msg {
                    out.push_str(", ");
                    out.push_str(&self.child(m, t)?);
                }
                out
            }
            Stmt::Import(i) => format!("import {}", aliases(&i.names)),
            Stmt::ImportFrom(i) => {
                let dots = ".".repeat(i.level.map(|l| l.to_u32() as usize).unwrap_or(0));
                let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                format!("from {dots}{module} import {}", aliases(&i.names))
            }
            Stmt::Global(g) => format!("global {}", g.names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")),
            Stmt::Nonlocal(g) => {
                format!("nonlocal {}", g.names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", "))
            }
            Stmt::If(i) => {
                let mut out = format!("if {}:", self.child(&i.test, t)?);
                out.push_str(&self.body(&i.body, indent)?);
                if !i.orelse.is_empty() {
                    out.push_str(self.nl);
                    out.push_str(indent);
                    out.push_str("else:");
                    out.push_str(&self.body(&i.orelse, indent)?);
                }
                out
            }
            Stmt::FunctionDef(ast::StmtFunctionDef {
                name, args, body, decorator_list, returns, type_params, ..
            })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef {
                name,
                args,
                body,
                decorator_list,
                returns,
                type_params,
                ..
            }) if type_params.is_empty() => {
                // New defs: the `pool` pass's runner, an entry point's
                // shell (its decorators, parameters and annotations are the
                // original's nodes, printed from their text).
                let mut out = String::new();
                for d in decorator_list {
                    out.push('@');
                    out.push_str(&self.child(d, Prec::Test)?);
                    out.push_str(self.nl);
                    out.push_str(indent);
                }
                let kw = if matches!(s, Stmt::AsyncFunctionDef(_)) { "async def" } else { "def" };
                out.push_str(&format!("{kw} {name}({})", self.print_arguments(args)?));
                if let Some(r) = returns {
                    out.push_str(" -> ");
                    out.push_str(&self.child(r, Prec::Test)?);
                }
                out.push(':');
                out.push_str(&self.body(body, indent)?);
                out
            }
            Stmt::While(w) => {
                let mut out = format!("while {}:", self.child(&w.test, t)?);
                out.push_str(&self.body(&w.body, indent)?);
                out.push_str(&self.orelse(&w.orelse, indent)?);
                out
            }
            Stmt::For(ast::StmtFor { target, iter, body, orelse, .. })
            | Stmt::AsyncFor(ast::StmtAsyncFor { target, iter, body, orelse, .. }) => {
                let kw = if matches!(s, Stmt::AsyncFor(_)) { "async for" } else { "for" };
                let mut out =
                    format!("{kw} {} in {}:", self.child(target, Prec::Tuple)?, self.child(iter, Prec::Tuple)?);
                out.push_str(&self.body(body, indent)?);
                out.push_str(&self.orelse(orelse, indent)?);
                out
            }
            Stmt::With(ast::StmtWith { items, body, .. }) | Stmt::AsyncWith(ast::StmtAsyncWith { items, body, .. }) => {
                let kw = if matches!(s, Stmt::AsyncWith(_)) { "async with" } else { "with" };
                let mut parts = vec![];
                for it in items {
                    let mut p = self.child(&it.context_expr, t)?;
                    if let Some(v) = &it.optional_vars {
                        p.push_str(" as ");
                        p.push_str(&self.child(v, Prec::Atom)?);
                    }
                    parts.push(p);
                }
                let mut out = format!("{kw} {}:", parts.join(", "));
                out.push_str(&self.body(body, indent)?);
                out
            }
            Stmt::Try(tr) => {
                let mut out = "try:".to_string();
                out.push_str(&self.body(&tr.body, indent)?);
                for h in &tr.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    out.push_str(self.nl);
                    out.push_str(indent);
                    out.push_str("except");
                    if let Some(ty) = &h.type_ {
                        out.push(' ');
                        out.push_str(&self.child(ty, t)?);
                        if let Some(n) = &h.name {
                            out.push_str(" as ");
                            out.push_str(n.as_str());
                        }
                    }
                    out.push(':');
                    out.push_str(&self.body(&h.body, indent)?);
                }
                out.push_str(&self.orelse(&tr.orelse, indent)?);
                if !tr.finalbody.is_empty() {
                    out.push_str(self.nl);
                    out.push_str(indent);
                    out.push_str("finally:");
                    out.push_str(&self.body(&tr.finalbody, indent)?);
                }
                out
            }
            other => return err(other.range().start(), "the printer cannot print this new statement"),
        })
    }

    fn orelse(&mut self, orelse: &[Stmt], indent: &str) -> R<String> {
        if orelse.is_empty() {
            return Ok(String::new());
        }
        let mut out = format!("{}{indent}else:", self.nl);
        out.push_str(&self.body(orelse, indent)?);
        Ok(out)
    }

    /// A block under a new compound statement. When it stands for a run of
    /// original statements (possibly inside further new statements), that
    /// span of the file is copied with everything in it (comments, blank
    /// lines), the run's own edits applied, and re-indented; otherwise each
    /// statement is printed on its own line.
    fn body(&mut self, body: &[Stmt], indent: &str) -> R<String> {
        let inner = format!("{indent}{}", self.unit_under(indent));
        if let Some((b, i, j)) = self.run_span(body) {
            let old_run: &[Stmt] = &self.old_blocks[b][i..j];
            let start = usize::from(crate::syntax::stmt_start(&old_run[0], self.src));
            let mut end = usize::from(old_run[old_run.len() - 1].range().end());
            // The comment on the run's last line goes with the run when the
            // edit being printed removes it: inside the span being reprinted,
            // or on lines deleted because the run moved here from outside it.
            // A comment right past the reprinted span stays in the text.
            if self.reprint_ends.last().is_some_and(|&e| end != e) {
                end = self.comment_end(end);
            }
            let mut edits = vec![];
            self.block_edits(old_run, body, &mut edits)?;
            let old_indent = self.indent_of(crate::syntax::stmt_start(&old_run[0], self.src))?;
            let text = self.apply_reindented(start, end, edits, &old_indent, &inner)?;
            return Ok(format!("{}{inner}{}", self.nl, text));
        }
        let mut out = String::new();
        // The last original statement printed, if no new block followed it.
        let mut prev_old: Option<(usize, usize)> = None;
        for s in body {
            let pos = if is_synth(s.range()) { None } else { self.stmt_pos.get(&s.range()).copied() };
            // An original statement after its predecessor in the same old
            // block (new simple statements between allowed): the comment and
            // blank lines between them come along, unless that block is
            // being edited (they stay where they are then).
            if let (Some((b, i)), Some((pb, pi))) = (pos, prev_old)
                && b == pb
                && i == pi + 1
                && !self.editing.contains(&b)
            {
                for l in self.lead_lines(b, i)? {
                    out.push_str(self.nl);
                    if !l.is_empty() {
                        out.push_str(&inner);
                        out.push_str(&l);
                    }
                }
            }
            if pos.is_some() {
                prev_old = pos;
            } else if !crate::syntax::blocks(s).is_empty() {
                prev_old = None;
            }
            out.push_str(self.nl);
            out.push_str(&inner);
            out.push_str(&self.print_stmt(s, &inner)?);
            // An original statement's same-line comment comes along, unless
            // it lies right past the reprinted span (it stays in the text).
            if pos.is_some() {
                let end = usize::from(s.range().end());
                out.push_str(&self.src[end..self.comment_end_in_reprint(end)]);
            }
        }
        Ok(out)
    }
}

/// A piece of a new f-string: literal text (unescaped) or a replacement
/// field as written between its braces.
enum Piece {
    Lit(String),
    Field(String),
}

impl Emitter<'_> {
    /// `f"..."` for a new f-string. Written for every Python the tool
    /// targets (before 3.12 a replacement field may hold no backslash, no
    /// line break and not the string's own quote): a field that needs one of
    /// them is an error, never output 3.11 rejects.
    fn fstring(&mut self, values: &[Expr], at: rustpython_ast::text_size::TextRange) -> R<String> {
        let mut pieces = vec![];
        self.fstring_pieces(values, &mut pieces)?;
        let fields = || pieces.iter().filter_map(|p| if let Piece::Field(f) = p { Some(f.as_str()) } else { None });
        if fields().any(|f| f.contains(['\\', '\n', '\r'])) {
            return err(at.start(), "cannot print a new f-string whose field needs a backslash or a line break");
        }
        let q = match (fields().any(|f| f.contains('"')), fields().any(|f| f.contains('\''))) {
            (false, _) => '"',
            (true, false) => '\'',
            (true, true) => return err(at.start(), "cannot print a new f-string whose fields use both quotes"),
        };
        let mut out = format!("f{q}");
        for p in &pieces {
            match p {
                Piece::Lit(t) => out.push_str(&fstring_literal(t, q)),
                Piece::Field(f) => out.push_str(f),
            }
        }
        out.push(q);
        Ok(out)
    }

    fn fstring_pieces(&mut self, values: &[Expr], out: &mut Vec<Piece>) -> R<()> {
        for v in values {
            match v {
                Expr::Constant(ast::ExprConstant { value: Constant::Str(t), .. }) => out.push(Piece::Lit(t.clone())),
                Expr::FormattedValue(f) => {
                    // A lambda, a walrus, a conditional or a yield in
                    // parentheses (their `:` or `=` would end the field).
                    let mut field = self.bchild(&f.value, Prec::Or)?;
                    // `{ {1: 2}}`: `{{` would be a literal brace.
                    if field.starts_with('{') {
                        field.insert(0, ' ');
                    }
                    let mut text = format!("{{{field}");
                    if let Some(c) = f.conversion.to_byte() {
                        text.push('!');
                        text.push(c as char);
                    }
                    if let Some(spec) = &f.format_spec {
                        text.push(':');
                        let mut inner = vec![];
                        match &**spec {
                            Expr::JoinedStr(j) => self.fstring_pieces(&j.values, &mut inner)?,
                            other => self.fstring_pieces(std::slice::from_ref(other), &mut inner)?,
                        }
                        for p in inner {
                            match p {
                                // The spec's own text: quotes and backslashes
                                // are checked with the fields.
                                Piece::Lit(t) => text.push_str(&t.replace('{', "{{").replace('}', "}}")),
                                Piece::Field(f) => text.push_str(&f),
                            }
                        }
                    }
                    text.push('}');
                    out.push(Piece::Field(text));
                }
                Expr::JoinedStr(j) => self.fstring_pieces(&j.values, out)?,
                other => return err(other.range().start(), "cannot print this part of a new f-string"),
            }
        }
        Ok(())
    }
}

/// The literal text of an f-string, escaped for quote `q` (braces doubled).
fn fstring_literal(t: &str, q: char) -> String {
    let quoted = quote_str_with(t, q);
    let inner = &quoted[1..quoted.len() - 1];
    inner.replace('{', "{{").replace('}', "}}")
}

fn aliases(names: &[ast::Alias]) -> String {
    names
        .iter()
        .map(|a| match &a.asname {
            Some(n) => format!("{} as {n}", a.name),
            None => a.name.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn binop(op: ast::Operator) -> &'static str {
    use ast::Operator::*;
    match op {
        Add => "+",
        Sub => "-",
        Mult => "*",
        MatMult => "@",
        Div => "/",
        Mod => "%",
        Pow => "**",
        LShift => "<<",
        RShift => ">>",
        BitOr => "|",
        BitXor => "^",
        BitAnd => "&",
        FloorDiv => "//",
    }
}

fn cmpop(op: ast::CmpOp) -> &'static str {
    use ast::CmpOp::*;
    match op {
        Eq => "==",
        NotEq => "!=",
        Lt => "<",
        LtE => "<=",
        Gt => ">",
        GtE => ">=",
        Is => "is",
        IsNot => "is not",
        In => "in",
        NotIn => "not in",
    }
}

/// A Python literal for a constant built by a pass.
pub fn constant(c: &Constant) -> String {
    match c {
        Constant::None => "None".into(),
        Constant::Bool(true) => "True".into(),
        Constant::Bool(false) => "False".into(),
        Constant::Str(s) => quote_str(s),
        Constant::Bytes(b) => {
            let mut out = String::from("b\"");
            for &ch in b {
                match ch {
                    b'"' => out.push_str("\\\""),
                    b'\\' => out.push_str("\\\\"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    0x20..=0x7e => out.push(ch as char),
                    _ => out.push_str(&format!("\\x{ch:02x}")),
                }
            }
            out.push('"');
            out
        }
        Constant::Int(i) => i.to_string(),
        Constant::Float(f) => float(*f),
        Constant::Complex { real, imag } => {
            if *real == 0.0 {
                format!("{}j", float(*imag))
            } else {
                format!("({} + {}j)", float(*real), float(*imag))
            }
        }
        Constant::Ellipsis => "...".into(),
        Constant::Tuple(items) => {
            let parts: Vec<String> = items.iter().map(constant).collect();
            if parts.len() == 1 { format!("({},)", parts[0]) } else { format!("({})", parts.join(", ")) }
        }
    }
}

fn float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "1e309".into() } else { "-1e309".into() };
    }
    if f.is_nan() {
        return "float(\"nan\")".into();
    }
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) { s } else { format!("{s}.0") }
}

pub fn quote_str(s: &str) -> String {
    let q = if s.contains('"') && !s.contains('\'') { '\'' } else { '"' };
    quote_str_with(s, q)
}

/// `s` as a string literal in quotes `q`.
fn quote_str_with(s: &str, q: char) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustpython_ast::Fold;

    /// Prints `src`'s expression as a new node (all ranges erased).
    fn print_new(src: &str) -> R<String> {
        let e = crate::syntax::parse::parse_expression(src).expect("the case parses");
        let e = crate::syntax::fold_ok(crate::syntax::EraseRanges.fold_expr(e));
        Emitter::new("", "\n", &[]).emit_expr(&e, Prec::Test, false)
    }

    #[test]
    fn new_fstrings_print_for_every_target() {
        let cases = [
            (r#"f"a{x!r:>{w}} {{b}} \"q\"""#, r#"f"a{x!r:>{w}} {{b}} \"q\"""#),
            // A new string constant is written in double quotes: the f-string
            // takes the other ones.
            (r#"f"{d['k']}""#, r#"f'{d["k"]}'"#),
            (r#"f'{d["k"]}'"#, r#"f'{d["k"]}'"#),
            (r#"f"{a if b else c}""#, r#"f"{(a if b else c)}""#),
            (r#"f"{ {1: 2}[1]}""#, r#"f"{ {1: 2}[1]}""#),
            (r#"f"{x:{'>' if a else '<'}10}""#, r#"f'{x:{(">" if a else "<")}10}'"#),
            (r#"f"{x=}""#, r#"f"x={x!r}""#),
            (r#"f"tab\t{n:,} and a brace }}""#, r#"f"tab\t{n:,} and a brace }}""#),
        ];
        for (src, want) in cases {
            let got = print_new(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
            assert_eq!(got, want, "{src}");
            // The same tree again.
            let erase = |t: &str| {
                let e = crate::syntax::parse::parse_expression(t).expect("the output parses");
                format!("{:?}", crate::syntax::fold_ok(crate::syntax::EraseRanges.fold_expr(e)))
            };
            assert_eq!(erase(&got), erase(src), "{src} -> {got}");
        }
    }

    #[test]
    fn a_new_fstring_3_11_cannot_read_is_an_error() {
        // A backslash in a field (here the new constant's `\n`): 3.12 only.
        for src in [r#"f"{'\n'.join(xs)}""#, r#"f"{'it\'s' + x}""#] {
            assert!(print_new(src).is_err(), "{src}");
        }
    }
}
