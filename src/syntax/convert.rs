//! ruff's syntax tree (`ruff_python_ast` =0.0.10) converted into the
//! `rustpython_ast` 0.4 types every pass uses today (issue 16, step 1).
//!
//! The file is parsed by `ruff_python_parser` and the tree converted here, so
//! that Python 3.12 / 3.13 syntax parses (PEP 701 f-strings, PEP 695 type
//! parameters, `type` aliases) while the passes keep their types. The
//! conversion gives the tree rustpython's parser gives, text ranges (byte
//! offsets) included: `tests/parse_diff.rs` compares both on every fixture and
//! the standard library. Where rustpython's shapes are odd, this copies them:
//!
//! - an `elif` is an `If` in `orelse`, from its `elif` to the end of the whole
//!   statement;
//! - implicitly concatenated strings are one `Constant`; an f-string is one
//!   `JoinedStr` whose adjacent literal pieces are merged into one `Constant`
//!   spanning the whole string, and whose `FormattedValue`s (and format specs)
//!   span the string part (token) they are in;
//! - `f"{x=}"` is the literal `x=`, the text after `=`, then `x` with `!r`;
//! - a tuple written bare in a replacement field (`f"{a, b}"`) spans from the
//!   `{` to one past the end of its text (rustpython parses `(a, b)` there).
//!
//! What the `rustpython_ast` types cannot hold is refused as a syntax error
//! saying so ("unsupported syntax"), never turned into a wrong tree: type
//! parameter defaults (PEP 696), and syntax newer than Python 3.13, which the
//! parser already reports for a 3.13 target.

use super::parse::SyntaxError;
use ruff_python_ast as r;
use ruff_text_size::Ranged;
use rustpython_ast as p;
use rustpython_ast::text_size::{TextRange, TextSize};

type Res<T> = Result<T, SyntaxError>;

pub(crate) struct Converter<'a> {
    pub(crate) src: &'a str,
}

fn rg(r: ruff_text_size::TextRange) -> TextRange {
    TextRange::new(TextSize::from(r.start().to_u32()), TextSize::from(r.end().to_u32()))
}

fn unsupported(at: ruff_text_size::TextRange, what: &str) -> SyntaxError {
    SyntaxError {
        offset: TextSize::from(at.start().to_u32()),
        message: format!("unsupported syntax: {what} (awaitify cannot represent it yet)"),
    }
}

fn ident(i: &r::Identifier) -> p::Identifier {
    p::Identifier::new(i.id.as_str())
}

fn ctx(c: r::ExprContext) -> p::ExprContext {
    match c {
        r::ExprContext::Load | r::ExprContext::Invalid => p::ExprContext::Load,
        r::ExprContext::Store => p::ExprContext::Store,
        r::ExprContext::Del => p::ExprContext::Del,
    }
}

fn boolop(o: r::BoolOp) -> p::BoolOp {
    match o {
        r::BoolOp::And => p::BoolOp::And,
        r::BoolOp::Or => p::BoolOp::Or,
    }
}

fn operator(o: r::Operator) -> p::Operator {
    use p::Operator as P;
    use r::Operator as R;
    match o {
        R::Add => P::Add,
        R::Sub => P::Sub,
        R::Mult => P::Mult,
        R::MatMult => P::MatMult,
        R::Div => P::Div,
        R::Mod => P::Mod,
        R::Pow => P::Pow,
        R::LShift => P::LShift,
        R::RShift => P::RShift,
        R::BitOr => P::BitOr,
        R::BitXor => P::BitXor,
        R::BitAnd => P::BitAnd,
        R::FloorDiv => P::FloorDiv,
    }
}

fn unaryop(o: r::UnaryOp) -> p::UnaryOp {
    match o {
        r::UnaryOp::Invert => p::UnaryOp::Invert,
        r::UnaryOp::Not => p::UnaryOp::Not,
        r::UnaryOp::UAdd => p::UnaryOp::UAdd,
        r::UnaryOp::USub => p::UnaryOp::USub,
    }
}

fn cmpop(o: r::CmpOp) -> p::CmpOp {
    use p::CmpOp as P;
    use r::CmpOp as R;
    match o {
        R::Eq => P::Eq,
        R::NotEq => P::NotEq,
        R::Lt => P::Lt,
        R::LtE => P::LtE,
        R::Gt => P::Gt,
        R::GtE => P::GtE,
        R::Is => P::Is,
        R::IsNot => P::IsNot,
        R::In => P::In,
        R::NotIn => P::NotIn,
    }
}

fn conversion(c: r::ConversionFlag) -> p::ConversionFlag {
    match c {
        r::ConversionFlag::None => p::ConversionFlag::None,
        r::ConversionFlag::Str => p::ConversionFlag::Str,
        r::ConversionFlag::Ascii => p::ConversionFlag::Ascii,
        r::ConversionFlag::Repr => p::ConversionFlag::Repr,
    }
}

fn constant(value: p::Constant, kind: Option<String>, range: TextRange) -> p::Expr {
    p::Expr::Constant(p::ExprConstant { range, value, kind })
}

fn str_const(s: String, kind: Option<String>, range: TextRange) -> p::Expr {
    constant(p::Constant::Str(s), kind, range)
}

impl Converter<'_> {
    pub(crate) fn suite(&self, body: &[r::Stmt]) -> Res<Vec<p::Stmt>> {
        body.iter().map(|s| self.stmt(s)).collect()
    }

    fn exprs(&self, es: &[r::Expr]) -> Res<Vec<p::Expr>> {
        es.iter().map(|e| self.expr(e)).collect()
    }

    fn bexpr(&self, e: &r::Expr) -> Res<Box<p::Expr>> {
        Ok(Box::new(self.expr(e)?))
    }

    fn oexpr(&self, e: &Option<Box<r::Expr>>) -> Res<Option<Box<p::Expr>>> {
        e.as_deref().map(|e| self.bexpr(e)).transpose()
    }

    fn decorators(&self, ds: &[r::Decorator]) -> Res<Vec<p::Expr>> {
        ds.iter().map(|d| self.expr(&d.expression)).collect()
    }

    fn type_params(&self, tp: &Option<Box<r::TypeParams>>) -> Res<Vec<p::TypeParam>> {
        let Some(tp) = tp else { return Ok(vec![]) };
        tp.type_params
            .iter()
            .map(|t| {
                let default = match t {
                    r::TypeParam::TypeVar(x) => &x.default,
                    r::TypeParam::TypeVarTuple(x) => &x.default,
                    r::TypeParam::ParamSpec(x) => &x.default,
                };
                if default.is_some() {
                    return Err(unsupported(t.range(), "a type parameter default (PEP 696)"));
                }
                Ok(match t {
                    r::TypeParam::TypeVar(x) => p::TypeParam::TypeVar(p::TypeParamTypeVar {
                        range: rg(x.range),
                        name: ident(&x.name),
                        bound: self.oexpr(&x.bound)?,
                    }),
                    r::TypeParam::TypeVarTuple(x) => p::TypeParam::TypeVarTuple(p::TypeParamTypeVarTuple {
                        range: rg(x.range),
                        name: ident(&x.name),
                    }),
                    r::TypeParam::ParamSpec(x) => {
                        p::TypeParam::ParamSpec(p::TypeParamParamSpec { range: rg(x.range), name: ident(&x.name) })
                    }
                })
            })
            .collect()
    }

    fn arg(&self, a: &r::Parameter) -> Res<p::Arg> {
        Ok(p::Arg {
            range: rg(a.range),
            arg: ident(&a.name),
            annotation: self.oexpr(&a.annotation)?,
            type_comment: None,
        })
    }

    /// `*args` / `**kwargs`: rustpython's range starts at the name.
    fn star_arg(&self, a: &r::Parameter) -> Res<Box<p::Arg>> {
        let mut arg = self.arg(a)?;
        arg.range = TextRange::new(rg(a.name.range).start(), arg.range.end());
        Ok(Box::new(arg))
    }

    /// Where the keyword `kw` ends just before `at` (spaces, tabs, form
    /// feeds and backslash continuations between): rustpython starts a
    /// decorated def or class at its keyword, ruff at the first `@`.
    fn keyword_before(&self, at: ruff_text_size::TextSize, kw: &str) -> Option<TextSize> {
        let mut head = &self.src[..at.to_usize()];
        loop {
            let trimmed = head.trim_end_matches([' ', '\t', '\x0c']);
            let trimmed = trimmed
                .strip_suffix("\\\n")
                .or_else(|| trimmed.strip_suffix("\\\r\n"))
                .or_else(|| trimmed.strip_suffix("\\\r"))
                .unwrap_or(trimmed);
            if trimmed.len() == head.len() {
                break;
            }
            head = trimmed;
        }
        let start = head.strip_suffix(kw)?.len();
        TextSize::try_from(start).ok()
    }

    /// The range of a def or class from its keyword (`async`, `def`, `class`).
    fn def_range(&self, range: TextRange, name: &r::Identifier, kws: &[&str]) -> TextRange {
        let mut at = name.range.start();
        for kw in kws.iter().rev() {
            match self.keyword_before(at, kw) {
                Some(start) => at = ruff_text_size::TextSize::from(start.to_u32()),
                None => return range,
            }
        }
        TextRange::new(TextSize::from(at.to_u32()), range.end())
    }

    fn arg_with_default(&self, a: &r::ParameterWithDefault) -> Res<p::ArgWithDefault> {
        Ok(p::ArgWithDefault {
            range: rg(a.range).into(),
            def: self.arg(&a.parameter)?,
            default: self.oexpr(&a.default)?,
        })
    }

    fn arguments(&self, ps: &r::Parameters) -> Res<p::Arguments> {
        let many = |xs: &[r::ParameterWithDefault]| -> Res<Vec<p::ArgWithDefault>> {
            xs.iter().map(|a| self.arg_with_default(a)).collect()
        };
        Ok(p::Arguments {
            range: rg(ps.range).into(),
            posonlyargs: many(&ps.posonlyargs)?,
            args: many(&ps.args)?,
            vararg: ps.vararg.as_deref().map(|a| self.star_arg(a)).transpose()?,
            kwonlyargs: many(&ps.kwonlyargs)?,
            kwarg: ps.kwarg.as_deref().map(|a| self.star_arg(a)).transpose()?,
        })
    }

    fn keyword(&self, k: &r::Keyword) -> Res<p::Keyword> {
        Ok(p::Keyword { range: rg(k.range), arg: k.arg.as_ref().map(ident), value: self.expr(&k.value)? })
    }

    fn alias(&self, a: &r::Alias) -> p::Alias {
        p::Alias { range: rg(a.range), name: ident(&a.name), asname: a.asname.as_ref().map(ident) }
    }

    fn with_item(&self, w: &r::WithItem) -> Res<p::WithItem> {
        Ok(p::WithItem {
            range: rg(w.range).into(),
            context_expr: self.expr(&w.context_expr)?,
            optional_vars: self.oexpr(&w.optional_vars)?,
        })
    }

    fn handler(&self, h: &r::ExceptHandler) -> Res<p::ExceptHandler> {
        let r::ExceptHandler::ExceptHandler(h) = h;
        Ok(p::ExceptHandler::ExceptHandler(p::ExceptHandlerExceptHandler {
            range: rg(h.range),
            type_: self.oexpr(&h.type_)?,
            name: h.name.as_ref().map(ident),
            body: self.suite(&h.body)?,
        }))
    }

    fn comprehensions(&self, gs: &[r::Comprehension]) -> Res<Vec<p::Comprehension>> {
        gs.iter()
            .map(|g| {
                Ok(p::Comprehension {
                    range: rg(g.range).into(),
                    target: self.expr(&g.target)?,
                    iter: self.expr(&g.iter)?,
                    ifs: self.exprs(&g.ifs)?,
                    is_async: g.is_async,
                })
            })
            .collect()
    }

    fn stmt(&self, s: &r::Stmt) -> Res<p::Stmt> {
        use r::Stmt as S;
        let range = rg(s.range());
        Ok(match s {
            S::FunctionDef(f) => {
                let kws: &[&str] = if f.is_async { &["async", "def"] } else { &["def"] };
                let range = self.def_range(range, &f.name, kws);
                let name = ident(&f.name);
                let args = Box::new(self.arguments(&f.parameters)?);
                let body = self.suite(&f.body)?;
                let decorator_list = self.decorators(&f.decorator_list)?;
                let returns = self.oexpr(&f.returns)?;
                let type_params = self.type_params(&f.type_params)?;
                if f.is_async {
                    p::Stmt::AsyncFunctionDef(p::StmtAsyncFunctionDef {
                        range,
                        name,
                        args,
                        body,
                        decorator_list,
                        returns,
                        type_comment: None,
                        type_params,
                    })
                } else {
                    p::Stmt::FunctionDef(p::StmtFunctionDef {
                        range,
                        name,
                        args,
                        body,
                        decorator_list,
                        returns,
                        type_comment: None,
                        type_params,
                    })
                }
            }
            S::ClassDef(c) => {
                let (bases, keywords) = match &c.arguments {
                    Some(a) => (self.exprs(&a.args)?, a.keywords.iter().map(|k| self.keyword(k)).collect::<Res<_>>()?),
                    None => (vec![], vec![]),
                };
                p::Stmt::ClassDef(p::StmtClassDef {
                    range: self.def_range(range, &c.name, &["class"]),
                    name: ident(&c.name),
                    bases,
                    keywords,
                    body: self.suite(&c.body)?,
                    decorator_list: self.decorators(&c.decorator_list)?,
                    type_params: self.type_params(&c.type_params)?,
                })
            }
            S::Return(x) => p::Stmt::Return(p::StmtReturn { range, value: self.oexpr(&x.value)? }),
            S::Delete(x) => p::Stmt::Delete(p::StmtDelete { range, targets: self.exprs(&x.targets)? }),
            S::TypeAlias(x) => p::Stmt::TypeAlias(p::StmtTypeAlias {
                range,
                name: self.bexpr(&x.name)?,
                type_params: self.type_params(&x.type_params)?,
                value: self.bexpr(&x.value)?,
            }),
            S::Assign(x) => p::Stmt::Assign(p::StmtAssign {
                range,
                targets: self.exprs(&x.targets)?,
                value: self.bexpr(&x.value)?,
                type_comment: None,
            }),
            S::AugAssign(x) => p::Stmt::AugAssign(p::StmtAugAssign {
                range,
                target: self.bexpr(&x.target)?,
                op: operator(x.op),
                value: self.bexpr(&x.value)?,
            }),
            S::AnnAssign(x) => p::Stmt::AnnAssign(p::StmtAnnAssign {
                range,
                target: self.bexpr(&x.target)?,
                annotation: self.bexpr(&x.annotation)?,
                value: self.oexpr(&x.value)?,
                simple: x.simple,
            }),
            S::For(x) => {
                let target = self.bexpr(&x.target)?;
                let iter = self.bexpr(&x.iter)?;
                let body = self.suite(&x.body)?;
                let orelse = self.suite(&x.orelse)?;
                if x.is_async {
                    p::Stmt::AsyncFor(p::StmtAsyncFor { range, target, iter, body, orelse, type_comment: None })
                } else {
                    p::Stmt::For(p::StmtFor { range, target, iter, body, orelse, type_comment: None })
                }
            }
            S::While(x) => p::Stmt::While(p::StmtWhile {
                range,
                test: self.bexpr(&x.test)?,
                body: self.suite(&x.body)?,
                orelse: self.suite(&x.orelse)?,
            }),
            S::If(x) => {
                // rustpython: each `elif` is an `If` in the previous orelse,
                // from its keyword to the end of the whole statement.
                let end = range.end();
                let mut orelse = vec![];
                for clause in x.elif_else_clauses.iter().rev() {
                    let body = self.suite(&clause.body)?;
                    match &clause.test {
                        None => orelse = body,
                        Some(test) => {
                            orelse = vec![p::Stmt::If(p::StmtIf {
                                range: TextRange::new(rg(clause.range).start(), end),
                                test: self.bexpr(test)?,
                                body,
                                orelse,
                            })]
                        }
                    }
                }
                p::Stmt::If(p::StmtIf { range, test: self.bexpr(&x.test)?, body: self.suite(&x.body)?, orelse })
            }
            S::With(x) => {
                let items = x.items.iter().map(|w| self.with_item(w)).collect::<Res<_>>()?;
                let body = self.suite(&x.body)?;
                if x.is_async {
                    p::Stmt::AsyncWith(p::StmtAsyncWith { range, items, body, type_comment: None })
                } else {
                    p::Stmt::With(p::StmtWith { range, items, body, type_comment: None })
                }
            }
            S::Match(x) => p::Stmt::Match(p::StmtMatch {
                range,
                subject: self.bexpr(&x.subject)?,
                cases: x
                    .cases
                    .iter()
                    .map(|c| {
                        Ok(p::MatchCase {
                            range: rg(c.range).into(),
                            pattern: self.pattern(&c.pattern)?,
                            guard: self.oexpr(&c.guard)?,
                            body: self.suite(&c.body)?,
                        })
                    })
                    .collect::<Res<_>>()?,
            }),
            S::Raise(x) => {
                p::Stmt::Raise(p::StmtRaise { range, exc: self.oexpr(&x.exc)?, cause: self.oexpr(&x.cause)? })
            }
            S::Try(x) => {
                let body = self.suite(&x.body)?;
                let handlers = x.handlers.iter().map(|h| self.handler(h)).collect::<Res<_>>()?;
                let orelse = self.suite(&x.orelse)?;
                let finalbody = self.suite(&x.finalbody)?;
                if x.is_star {
                    p::Stmt::TryStar(p::StmtTryStar { range, body, handlers, orelse, finalbody })
                } else {
                    p::Stmt::Try(p::StmtTry { range, body, handlers, orelse, finalbody })
                }
            }
            S::Assert(x) => {
                p::Stmt::Assert(p::StmtAssert { range, test: self.bexpr(&x.test)?, msg: self.oexpr(&x.msg)? })
            }
            S::Import(x) => {
                if x.is_lazy {
                    return Err(unsupported(x.range, "a lazy import (PEP 810)"));
                }
                p::Stmt::Import(p::StmtImport { range, names: x.names.iter().map(|a| self.alias(a)).collect() })
            }
            S::ImportFrom(x) => {
                if x.is_lazy {
                    return Err(unsupported(x.range, "a lazy import (PEP 810)"));
                }
                p::Stmt::ImportFrom(p::StmtImportFrom {
                    range,
                    module: x.module.as_ref().map(ident),
                    names: x.names.iter().map(|a| self.alias(a)).collect(),
                    level: Some(p::Int::new(x.level)),
                })
            }
            S::Global(x) => p::Stmt::Global(p::StmtGlobal { range, names: x.names.iter().map(ident).collect() }),
            S::Nonlocal(x) => p::Stmt::Nonlocal(p::StmtNonlocal { range, names: x.names.iter().map(ident).collect() }),
            S::Expr(x) => p::Stmt::Expr(p::StmtExpr { range, value: self.bexpr(&x.value)? }),
            S::Pass(_) => p::Stmt::Pass(p::StmtPass { range }),
            S::Break(_) => p::Stmt::Break(p::StmtBreak { range }),
            S::Continue(_) => p::Stmt::Continue(p::StmtContinue { range }),
            S::IpyEscapeCommand(x) => return Err(unsupported(x.range, "an IPython escape command")),
        })
    }

    fn singleton(s: r::Singleton) -> p::Constant {
        match s {
            r::Singleton::None => p::Constant::None,
            r::Singleton::True => p::Constant::Bool(true),
            r::Singleton::False => p::Constant::Bool(false),
        }
    }

    fn pattern(&self, pat: &r::Pattern) -> Res<p::Pattern> {
        use r::Pattern as P;
        let range = rg(pat.range());
        let many = |ps: &[r::Pattern]| -> Res<Vec<p::Pattern>> { ps.iter().map(|x| self.pattern(x)).collect() };
        Ok(match pat {
            P::MatchValue(x) => p::Pattern::MatchValue(p::PatternMatchValue { range, value: self.bexpr(&x.value)? }),
            P::MatchSingleton(x) => {
                p::Pattern::MatchSingleton(p::PatternMatchSingleton { range, value: Self::singleton(x.value) })
            }
            P::MatchSequence(x) => {
                p::Pattern::MatchSequence(p::PatternMatchSequence { range, patterns: many(&x.patterns)? })
            }
            P::MatchMapping(x) => p::Pattern::MatchMapping(p::PatternMatchMapping {
                range,
                keys: self.exprs(&x.keys)?,
                patterns: many(&x.patterns)?,
                rest: x.rest.as_ref().map(ident),
            }),
            P::MatchClass(x) => p::Pattern::MatchClass(p::PatternMatchClass {
                range,
                cls: self.bexpr(&x.cls)?,
                patterns: many(&x.arguments.patterns)?,
                kwd_attrs: x.arguments.keywords.iter().map(|k| ident(&k.attr)).collect(),
                kwd_patterns: x.arguments.keywords.iter().map(|k| self.pattern(&k.pattern)).collect::<Res<_>>()?,
            }),
            P::MatchStar(x) => p::Pattern::MatchStar(p::PatternMatchStar { range, name: x.name.as_ref().map(ident) }),
            P::MatchAs(x) => p::Pattern::MatchAs(p::PatternMatchAs {
                range,
                pattern: x.pattern.as_deref().map(|q| self.pattern(q).map(Box::new)).transpose()?,
                name: x.name.as_ref().map(ident),
            }),
            P::MatchOr(x) => p::Pattern::MatchOr(p::PatternMatchOr { range, patterns: many(&x.patterns)? }),
        })
    }

    /// An int literal's value, read from its text (`0x_ff`, `1_000`, ...).
    fn int(&self, range: ruff_text_size::TextRange) -> p::bigint::BigInt {
        let text: String =
            self.src[range.start().to_usize()..range.end().to_usize()].chars().filter(|&c| c != '_').collect();
        let lower = text.to_ascii_lowercase();
        let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
            (d, 16)
        } else if let Some(d) = lower.strip_prefix("0o") {
            (d, 8)
        } else if let Some(d) = lower.strip_prefix("0b") {
            (d, 2)
        } else {
            (lower.as_str(), 10)
        };
        p::bigint::BigInt::parse_bytes(digits.as_bytes(), radix).unwrap_or_default()
    }

    pub(crate) fn expr(&self, e: &r::Expr) -> Res<p::Expr> {
        use r::Expr as E;
        let range = rg(e.range());
        Ok(match e {
            E::BoolOp(x) => p::Expr::BoolOp(p::ExprBoolOp { range, op: boolop(x.op), values: self.exprs(&x.values)? }),
            E::Named(x) => p::Expr::NamedExpr(p::ExprNamedExpr {
                range,
                target: self.bexpr(&x.target)?,
                value: self.bexpr(&x.value)?,
            }),
            E::BinOp(x) => p::Expr::BinOp(p::ExprBinOp {
                range,
                left: self.bexpr(&x.left)?,
                op: operator(x.op),
                right: self.bexpr(&x.right)?,
            }),
            E::UnaryOp(x) => {
                p::Expr::UnaryOp(p::ExprUnaryOp { range, op: unaryop(x.op), operand: self.bexpr(&x.operand)? })
            }
            E::Lambda(x) => {
                let args = match &x.parameters {
                    Some(ps) => self.arguments(ps)?,
                    None => p::Arguments {
                        range: TextRange::empty(range.start()).into(),
                        posonlyargs: vec![],
                        args: vec![],
                        vararg: None,
                        kwonlyargs: vec![],
                        kwarg: None,
                    },
                };
                p::Expr::Lambda(p::ExprLambda { range, args: Box::new(args), body: self.bexpr(&x.body)? })
            }
            E::If(x) => p::Expr::IfExp(p::ExprIfExp {
                range,
                test: self.bexpr(&x.test)?,
                body: self.bexpr(&x.body)?,
                orelse: self.bexpr(&x.orelse)?,
            }),
            E::Dict(x) => p::Expr::Dict(p::ExprDict {
                range,
                keys: x.items.iter().map(|i| i.key.as_ref().map(|k| self.expr(k)).transpose()).collect::<Res<_>>()?,
                values: x.items.iter().map(|i| self.expr(&i.value)).collect::<Res<_>>()?,
            }),
            E::Set(x) => p::Expr::Set(p::ExprSet { range, elts: self.exprs(&x.elts)? }),
            E::ListComp(x) => p::Expr::ListComp(p::ExprListComp {
                range,
                elt: self.bexpr(&x.elt)?,
                generators: self.comprehensions(&x.generators)?,
            }),
            E::SetComp(x) => p::Expr::SetComp(p::ExprSetComp {
                range,
                elt: self.bexpr(&x.elt)?,
                generators: self.comprehensions(&x.generators)?,
            }),
            E::DictComp(x) => {
                let Some(key) = &x.key else {
                    return Err(unsupported(x.range, "dictionary unpacking in a comprehension"));
                };
                p::Expr::DictComp(p::ExprDictComp {
                    range,
                    key: self.bexpr(key)?,
                    value: self.bexpr(&x.value)?,
                    generators: self.comprehensions(&x.generators)?,
                })
            }
            E::Generator(x) => p::Expr::GeneratorExp(p::ExprGeneratorExp {
                range,
                elt: self.bexpr(&x.elt)?,
                generators: self.comprehensions(&x.generators)?,
            }),
            E::Await(x) => p::Expr::Await(p::ExprAwait { range, value: self.bexpr(&x.value)? }),
            E::Yield(x) => p::Expr::Yield(p::ExprYield { range, value: self.oexpr(&x.value)? }),
            E::YieldFrom(x) => p::Expr::YieldFrom(p::ExprYieldFrom { range, value: self.bexpr(&x.value)? }),
            E::Compare(x) => p::Expr::Compare(p::ExprCompare {
                range,
                left: self.bexpr(&x.left)?,
                ops: x.ops.iter().map(|o| cmpop(*o)).collect(),
                comparators: self.exprs(&x.comparators)?,
            }),
            E::Call(x) => p::Expr::Call(p::ExprCall {
                range,
                func: self.bexpr(&x.func)?,
                args: self.exprs(&x.arguments.args)?,
                keywords: x.arguments.keywords.iter().map(|k| self.keyword(k)).collect::<Res<_>>()?,
            }),
            E::FString(x) => self.fstring(x)?,
            E::TString(x) => return Err(unsupported(x.range, "a template string (PEP 750)")),
            E::StringLiteral(x) => {
                let kind = x.value.is_unicode().then(|| "u".to_string());
                str_const(x.value.to_str().to_string(), kind, range)
            }
            E::BytesLiteral(x) => constant(p::Constant::Bytes(x.value.bytes().collect()), None, range),
            E::NumberLiteral(x) => {
                let value = match &x.value {
                    r::Number::Int(_) => p::Constant::Int(self.int(x.range)),
                    r::Number::Float(f) => p::Constant::Float(*f),
                    r::Number::Complex { real, imag } => p::Constant::Complex { real: *real, imag: *imag },
                };
                constant(value, None, range)
            }
            E::BooleanLiteral(x) => constant(p::Constant::Bool(x.value), None, range),
            E::NoneLiteral(_) => constant(p::Constant::None, None, range),
            E::EllipsisLiteral(_) => constant(p::Constant::Ellipsis, None, range),
            E::Attribute(x) => p::Expr::Attribute(p::ExprAttribute {
                range,
                value: self.bexpr(&x.value)?,
                attr: ident(&x.attr),
                ctx: ctx(x.ctx),
            }),
            E::Subscript(x) => p::Expr::Subscript(p::ExprSubscript {
                range,
                value: self.bexpr(&x.value)?,
                slice: self.bexpr(&x.slice)?,
                ctx: ctx(x.ctx),
            }),
            E::Starred(x) => p::Expr::Starred(p::ExprStarred { range, value: self.bexpr(&x.value)?, ctx: ctx(x.ctx) }),
            E::Name(x) => p::Expr::Name(p::ExprName { range, id: p::Identifier::new(x.id.as_str()), ctx: ctx(x.ctx) }),
            E::List(x) => p::Expr::List(p::ExprList { range, elts: self.exprs(&x.elts)?, ctx: ctx(x.ctx) }),
            E::Tuple(x) => p::Expr::Tuple(p::ExprTuple { range, elts: self.exprs(&x.elts)?, ctx: ctx(x.ctx) }),
            E::Slice(x) => p::Expr::Slice(p::ExprSlice {
                range,
                lower: self.oexpr(&x.lower)?,
                upper: self.oexpr(&x.upper)?,
                step: self.oexpr(&x.step)?,
            }),
            E::IpyEscapeCommand(x) => return Err(unsupported(x.range, "an IPython escape command")),
        })
    }

    /// An f-string (possibly concatenated with plain strings), in
    /// rustpython's shape (see the module doc).
    fn fstring(&self, x: &r::ExprFString) -> Res<p::Expr> {
        let range = rg(x.range);
        let parts = x.value.as_slice();
        let kind = match parts.first() {
            Some(r::FStringPart::Literal(l)) if l.flags.prefix().is_unicode() => Some("u".to_string()),
            _ => None,
        };
        let mut values = vec![];
        // The literal pieces since the last replacement field (a piece may
        // be empty: `"" f"{x}"` gives an empty constant).
        let mut current: Option<String> = None;
        for part in parts {
            match part {
                r::FStringPart::Literal(l) => current.get_or_insert_default().push_str(&l.value),
                r::FStringPart::FString(f) => {
                    let token = rg(f.range);
                    for element in f.elements.iter() {
                        match element {
                            r::InterpolatedStringElement::Literal(l) => {
                                current.get_or_insert_default().push_str(&l.value)
                            }
                            r::InterpolatedStringElement::Interpolation(i) => {
                                let (debug, value) = self.interpolation(i, token)?;
                                if let Some((text, trailing)) = debug {
                                    let c = current.get_or_insert_default();
                                    c.push_str(&text);
                                    c.push_str(&trailing);
                                }
                                if let Some(c) = current.take() {
                                    values.push(str_const(c, kind.clone(), range));
                                }
                                values.push(value);
                            }
                        }
                    }
                }
            }
        }
        if let Some(c) = current.take() {
            values.push(str_const(c, kind, range));
        }
        Ok(p::Expr::JoinedStr(p::ExprJoinedStr { range, values }))
    }

    /// A replacement field: its debug text (`x=` and what follows the `=`)
    /// if self-documenting, and its `FormattedValue`, spanning `token`.
    #[allow(clippy::type_complexity)]
    fn interpolation(&self, i: &r::InterpolatedElement, token: TextRange) -> Res<(Option<(String, String)>, p::Expr)> {
        let mut value = self.expr(&i.expression)?;
        if let (r::Expr::Tuple(t), p::Expr::Tuple(pt)) = (&*i.expression, &mut value)
            && !t.parenthesized
        {
            // rustpython parses the field's text in parentheses, from the `{`.
            let text = &self.src[t.range.end().to_usize()..];
            let stop = text.find(['!', ':', '=', '}']).unwrap_or(0);
            let end = t.range.end().to_u32() + stop as u32 + 1;
            pt.range = TextRange::new(TextSize::from(i.range.start().to_u32()), TextSize::from(end));
        }
        let format_spec = match &i.format_spec {
            None => None,
            Some(spec) => {
                let mut values = vec![];
                for element in spec.elements.iter() {
                    match element {
                        r::InterpolatedStringElement::Literal(l) => {
                            values.push(str_const(l.value.to_string(), None, token))
                        }
                        r::InterpolatedStringElement::Interpolation(inner) => {
                            let (debug, v) = self.interpolation(inner, token)?;
                            if let Some((text, trailing)) = debug {
                                values.push(str_const(text, None, token));
                                values.push(str_const(trailing, None, token));
                            }
                            values.push(v);
                        }
                    }
                }
                Some(Box::new(p::Expr::JoinedStr(p::ExprJoinedStr { range: token, values })))
            }
        };
        let mut conversion = conversion(i.conversion);
        let debug = i.debug_text.as_ref().map(|d| {
            let full = format!("{}{}{}", d.leading(), d.expression(), d.trailing());
            let eq = full.rfind('=').unwrap_or(full.len());
            let (before, after) = full.split_at(eq);
            (format!("{before}="), after.get(1..).unwrap_or("").to_string())
        });
        if debug.is_some() && conversion == p::ConversionFlag::None && format_spec.is_none() {
            conversion = p::ConversionFlag::Repr;
        }
        Ok((
            debug,
            p::Expr::FormattedValue(p::ExprFormattedValue {
                range: token,
                value: Box::new(value),
                conversion,
                format_spec,
            }),
        ))
    }
}
