//! Syntax helpers shared by the analysis, the passes and the emitter:
//! building new nodes, naming dotted paths, precedence, and the range
//! conventions of the engine.
//!
//! **Range convention.** A node parsed from the file keeps its original range.
//! A node a pass creates has an *empty* range (`synth()`); the emitter prints
//! such nodes and copies the original text of every node that still has a
//! range. A pass that changes a node's own fields (not just its children) must
//! give it an empty range too.

mod convert;
pub mod parse;
pub mod template;
pub mod visit;

use rustpython_ast::text_size::{TextRange, TextSize};
use rustpython_ast::{self as ast, Expr, ExprContext, Fold, Stmt};
use std::convert::Infallible;

/// The range given to nodes created by a pass.
pub fn synth() -> TextRange {
    TextRange::default()
}

pub fn is_synth(r: TextRange) -> bool {
    r.is_empty()
}

/// Implements the plumbing of `Fold<TextRange>` for a folder that keeps ranges.
#[macro_export]
macro_rules! identity_fold_plumbing {
    () => {
        type TargetU = rustpython_ast::text_size::TextRange;
        type Error = std::convert::Infallible;
        type UserContext = ();
        fn will_map_user(&mut self, _user: &rustpython_ast::text_size::TextRange) {}
        fn map_user(
            &mut self,
            user: rustpython_ast::text_size::TextRange,
            _context: (),
        ) -> Result<rustpython_ast::text_size::TextRange, std::convert::Infallible> {
            Ok(user)
        }
    };
}

pub fn name(id: &str) -> Expr {
    Expr::Name(ast::ExprName { range: synth(), id: ast::Identifier::new(id), ctx: ExprContext::Load })
}

/// `a.b.c` as nested Attribute nodes, all synthetic.
pub fn dotted(path: &str) -> Expr {
    let mut parts = path.split('.');
    let mut e = name(parts.next().unwrap_or_default());
    for p in parts {
        e = Expr::Attribute(ast::ExprAttribute {
            range: synth(),
            value: Box::new(e),
            attr: ast::Identifier::new(p),
            ctx: ExprContext::Load,
        });
    }
    e
}

pub fn call(func: Expr, args: Vec<Expr>, keywords: Vec<ast::Keyword>, range: TextRange) -> Expr {
    Expr::Call(ast::ExprCall { range, func: Box::new(func), args, keywords })
}

pub fn await_(value: Expr) -> Expr {
    Expr::Await(ast::ExprAwait { range: synth(), value: Box::new(value) })
}

/// `a.b.c` for a Name/Attribute chain, else None.
pub fn dotted_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => {
            let mut s = dotted_name(&a.value)?;
            s.push('.');
            s.push_str(a.attr.as_str());
            Some(s)
        }
        _ => None,
    }
}

/// Operator precedence, as in CPython's `ast._Precedence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prec {
    NamedExpr,
    Tuple,
    Yield,
    Test,
    Or,
    And,
    Not,
    Cmp,
    BOr,
    BXor,
    BAnd,
    Shift,
    Arith,
    Term,
    Factor,
    Power,
    Await,
    Atom,
}

impl Prec {
    pub fn next(self) -> Prec {
        use Prec::*;
        match self {
            NamedExpr => Tuple,
            Tuple => Yield,
            Yield => Test,
            Test => Or,
            Or => And,
            And => Not,
            Not => Cmp,
            Cmp => BOr,
            BOr => BXor,
            BXor => BAnd,
            BAnd => Shift,
            Shift => Arith,
            Arith => Term,
            Term => Factor,
            Factor => Power,
            Power => Await,
            Await | Atom => Atom,
        }
    }
}

pub fn op_prec(op: ast::Operator) -> Prec {
    use ast::Operator::*;
    match op {
        Add | Sub => Prec::Arith,
        Mult | MatMult | Div | Mod | FloorDiv => Prec::Term,
        Pow => Prec::Power,
        LShift | RShift => Prec::Shift,
        BitOr => Prec::BOr,
        BitXor => Prec::BXor,
        BitAnd => Prec::BAnd,
    }
}

/// The precedence of an expression as written without surrounding parentheses.
pub fn expr_prec(e: &Expr) -> Prec {
    match e {
        Expr::NamedExpr(_) => Prec::NamedExpr,
        // A new tuple is printed in parentheses (see `emit::printer`).
        Expr::Tuple(t) if is_synth(t.range) && !t.elts.is_empty() => Prec::Atom,
        Expr::Tuple(_) => Prec::Tuple,
        Expr::Yield(_) | Expr::YieldFrom(_) => Prec::Yield,
        Expr::Lambda(_) | Expr::IfExp(_) => Prec::Test,
        Expr::BoolOp(b) => match b.op {
            ast::BoolOp::Or => Prec::Or,
            ast::BoolOp::And => Prec::And,
        },
        Expr::UnaryOp(u) => match u.op {
            ast::UnaryOp::Not => Prec::Not,
            _ => Prec::Factor,
        },
        Expr::Compare(_) => Prec::Cmp,
        Expr::BinOp(b) => op_prec(b.op),
        Expr::Await(_) => Prec::Await,
        // Starred and Slice can never be parenthesised; callers never put them
        // in a slot that would ask for it.
        _ => Prec::Atom,
    }
}

/// Statement bodies (blocks) of a compound statement, in source order.
pub fn blocks(s: &Stmt) -> Vec<&[Stmt]> {
    match s {
        Stmt::FunctionDef(f) => vec![&f.body],
        Stmt::AsyncFunctionDef(f) => vec![&f.body],
        Stmt::ClassDef(c) => vec![&c.body],
        Stmt::For(f) => vec![&f.body, &f.orelse],
        Stmt::AsyncFor(f) => vec![&f.body, &f.orelse],
        Stmt::While(w) => vec![&w.body, &w.orelse],
        Stmt::If(i) => vec![&i.body, &i.orelse],
        Stmt::With(w) => vec![&w.body],
        Stmt::AsyncWith(w) => vec![&w.body],
        Stmt::Match(m) => m.cases.iter().map(|c| c.body.as_slice()).collect(),
        Stmt::Try(ast::StmtTry { body, handlers, orelse, finalbody, .. })
        | Stmt::TryStar(ast::StmtTryStar { body, handlers, orelse, finalbody, .. }) => {
            let mut v: Vec<&[Stmt]> = vec![body];
            for h in handlers {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                v.push(&h.body);
            }
            v.push(orelse);
            v.push(finalbody);
            v
        }
        _ => vec![],
    }
}

/// Moves the blocks out of a compound statement (same order as [`blocks`]).
pub fn take_blocks(s: &mut Stmt) -> Vec<Vec<Stmt>> {
    let t = std::mem::take;
    match s {
        Stmt::FunctionDef(f) => vec![t(&mut f.body)],
        Stmt::AsyncFunctionDef(f) => vec![t(&mut f.body)],
        Stmt::ClassDef(c) => vec![t(&mut c.body)],
        Stmt::For(f) => vec![t(&mut f.body), t(&mut f.orelse)],
        Stmt::AsyncFor(f) => vec![t(&mut f.body), t(&mut f.orelse)],
        Stmt::While(w) => vec![t(&mut w.body), t(&mut w.orelse)],
        Stmt::If(i) => vec![t(&mut i.body), t(&mut i.orelse)],
        Stmt::With(w) => vec![t(&mut w.body)],
        Stmt::AsyncWith(w) => vec![t(&mut w.body)],
        Stmt::Match(m) => m.cases.iter_mut().map(|c| t(&mut c.body)).collect(),
        Stmt::Try(ast::StmtTry { body, handlers, orelse, finalbody, .. })
        | Stmt::TryStar(ast::StmtTryStar { body, handlers, orelse, finalbody, .. }) => {
            let mut v = vec![t(body)];
            for h in handlers.iter_mut() {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                v.push(t(&mut h.body));
            }
            v.push(t(orelse));
            v.push(t(finalbody));
            v
        }
        _ => vec![],
    }
}

/// Mutable access to the blocks of a compound statement (same order as
/// [`blocks`]).
pub fn blocks_mut(s: &mut Stmt) -> Vec<&mut Vec<Stmt>> {
    match s {
        Stmt::FunctionDef(f) => vec![&mut f.body],
        Stmt::AsyncFunctionDef(f) => vec![&mut f.body],
        Stmt::ClassDef(c) => vec![&mut c.body],
        Stmt::For(f) => vec![&mut f.body, &mut f.orelse],
        Stmt::AsyncFor(f) => vec![&mut f.body, &mut f.orelse],
        Stmt::While(w) => vec![&mut w.body, &mut w.orelse],
        Stmt::If(i) => vec![&mut i.body, &mut i.orelse],
        Stmt::With(w) => vec![&mut w.body],
        Stmt::AsyncWith(w) => vec![&mut w.body],
        Stmt::Match(m) => m.cases.iter_mut().map(|c| &mut c.body).collect(),
        Stmt::Try(ast::StmtTry { body, handlers, orelse, finalbody, .. })
        | Stmt::TryStar(ast::StmtTryStar { body, handlers, orelse, finalbody, .. }) => {
            let mut v = vec![body];
            for h in handlers.iter_mut() {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                v.push(&mut h.body);
            }
            v.push(orelse);
            v.push(finalbody);
            v
        }
        _ => vec![],
    }
}

/// Rewrites every statement list, innermost first: `f` maps each statement
/// (its blocks already rewritten) to the statements that replace it.
pub fn expand_stmts(body: Vec<Stmt>, f: &mut dyn FnMut(Stmt) -> Vec<Stmt>) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(body.len());
    for mut s in body {
        for b in blocks_mut(&mut s) {
            let taken = std::mem::take(b);
            *b = expand_stmts(taken, f);
        }
        out.extend(f(s));
    }
    out
}

/// Every name a subtree mentions (loads, stores, parameters, imports,
/// attributes' bases): what a new local must not be called.
pub fn names_in(s: &Stmt) -> std::collections::HashSet<String> {
    use visit::{Visitor, walk_expr, walk_stmt};
    struct Names(std::collections::HashSet<String>);
    impl<'a> Visitor<'a> for Names {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e {
                self.0.insert(n.id.to_string());
            }
            walk_expr(self, e);
        }
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(ast::StmtFunctionDef { name, args, .. })
                | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { name, args, .. }) => {
                    self.0.insert(name.to_string());
                    for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                        self.0.insert(a.def.arg.to_string());
                    }
                    for a in args.vararg.iter().chain(&args.kwarg) {
                        self.0.insert(a.arg.to_string());
                    }
                }
                Stmt::ClassDef(c) => {
                    self.0.insert(c.name.to_string());
                }
                Stmt::Import(ast::StmtImport { names, .. }) | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                    for a in names {
                        let local = a.asname.as_ref().unwrap_or(&a.name);
                        self.0.insert(local.split('.').next().unwrap_or("").to_string());
                    }
                }
                Stmt::Global(ast::StmtGlobal { names, .. }) | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                    self.0.extend(names.iter().map(|n| n.to_string()));
                }
                Stmt::Try(ast::StmtTry { handlers, .. }) | Stmt::TryStar(ast::StmtTryStar { handlers, .. }) => {
                    for h in handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = h;
                        if let Some(n) = &h.name {
                            self.0.insert(n.to_string());
                        }
                    }
                }
                _ => {}
            }
            walk_stmt(self, s);
        }
    }
    let mut v = Names(Default::default());
    v.visit_stmt(s);
    v.0
}

/// `base`, or `base_1`, `base_2`, ... : the first not in `taken`.
pub fn fresh_name(base: &str, taken: &std::collections::HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (1..).map(|i| format!("{base}_{i}")).find(|n| !taken.contains(n)).expect("some name is free")
}

/// Start of a statement including its decorators (the `@` of the first one).
pub fn stmt_start(s: &Stmt, src: &str) -> TextSize {
    use rustpython_ast::Ranged;
    let decorators = match s {
        Stmt::FunctionDef(f) => &f.decorator_list,
        Stmt::AsyncFunctionDef(f) => &f.decorator_list,
        Stmt::ClassDef(c) => &c.decorator_list,
        _ => return s.range().start(),
    };
    let Some(first) = decorators.first() else { return s.range().start() };
    let bytes = src.as_bytes();
    let mut i = usize::from(first.range().start());
    while i > 0 {
        i -= 1;
        if bytes[i] == b'@' {
            return TextSize::try_from(i).unwrap_or_default();
        }
    }
    s.range().start()
}

/// Erases every range, for comparing an intended tree with a re-parsed one.
pub struct EraseRanges;

impl Fold<TextRange> for EraseRanges {
    type TargetU = TextRange;
    type Error = Infallible;
    type UserContext = ();
    fn will_map_user(&mut self, _user: &TextRange) {}
    fn map_user(&mut self, _user: TextRange, _c: ()) -> Result<TextRange, Infallible> {
        Ok(TextRange::default())
    }
}

pub fn erase_ranges(body: Vec<Stmt>) -> Vec<Stmt> {
    let mut f = EraseRanges;
    body.into_iter()
        .map(|s| match f.fold_stmt(s) {
            Ok(s) => s,
            Err(e) => match e {},
        })
        .collect()
}

pub fn fold_ok<T>(r: Result<T, Infallible>) -> T {
    match r {
        Ok(t) => t,
        Err(e) => match e {},
    }
}

/// Statement kind ignoring the async flag, and the flag.
pub fn split_kind(s: &Stmt) -> (u8, bool) {
    match s {
        Stmt::FunctionDef(_) => (0, false),
        Stmt::AsyncFunctionDef(_) => (0, true),
        Stmt::For(_) => (1, false),
        Stmt::AsyncFor(_) => (1, true),
        Stmt::With(_) => (2, false),
        Stmt::AsyncWith(_) => (2, true),
        Stmt::ClassDef(_) => (3, false),
        Stmt::Return(_) => (4, false),
        Stmt::Delete(_) => (5, false),
        Stmt::Assign(_) => (6, false),
        Stmt::TypeAlias(_) => (7, false),
        Stmt::AugAssign(_) => (8, false),
        Stmt::AnnAssign(_) => (9, false),
        Stmt::While(_) => (10, false),
        Stmt::If(_) => (11, false),
        Stmt::Match(_) => (12, false),
        Stmt::Raise(_) => (13, false),
        Stmt::Try(_) => (14, false),
        Stmt::TryStar(_) => (15, false),
        Stmt::Assert(_) => (16, false),
        Stmt::Import(_) => (17, false),
        Stmt::ImportFrom(_) => (18, false),
        Stmt::Global(_) => (19, false),
        Stmt::Nonlocal(_) => (20, false),
        Stmt::Expr(_) => (21, false),
        Stmt::Pass(_) => (22, false),
        Stmt::Break(_) => (23, false),
        Stmt::Continue(_) => (24, false),
    }
}

/// The sync twin of an async def/for/with (other statements unchanged).
pub fn to_sync_kind(s: Stmt) -> Stmt {
    match s {
        Stmt::AsyncFunctionDef(f) => Stmt::FunctionDef(ast::StmtFunctionDef {
            range: f.range,
            name: f.name,
            args: f.args,
            body: f.body,
            decorator_list: f.decorator_list,
            returns: f.returns,
            type_comment: f.type_comment,
            type_params: f.type_params,
        }),
        Stmt::AsyncFor(f) => Stmt::For(ast::StmtFor {
            range: f.range,
            target: f.target,
            iter: f.iter,
            body: f.body,
            orelse: f.orelse,
            type_comment: f.type_comment,
        }),
        Stmt::AsyncWith(w) => {
            Stmt::With(ast::StmtWith { range: w.range, items: w.items, body: w.body, type_comment: w.type_comment })
        }
        s => s,
    }
}

/// The async twin of a def/for/with (other statements unchanged).
pub fn to_async_kind(s: Stmt) -> Stmt {
    match s {
        Stmt::FunctionDef(f) => Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef {
            range: f.range,
            name: f.name,
            args: f.args,
            body: f.body,
            decorator_list: f.decorator_list,
            returns: f.returns,
            type_comment: f.type_comment,
            type_params: f.type_params,
        }),
        Stmt::For(f) => Stmt::AsyncFor(ast::StmtAsyncFor {
            range: f.range,
            target: f.target,
            iter: f.iter,
            body: f.body,
            orelse: f.orelse,
            type_comment: f.type_comment,
        }),
        Stmt::With(w) => Stmt::AsyncWith(ast::StmtAsyncWith {
            range: w.range,
            items: w.items,
            body: w.body,
            type_comment: w.type_comment,
        }),
        s => s,
    }
}

/// Whether any of the names occurs in a subtree.
struct Mentions<'n>(&'n std::collections::HashSet<String>, bool);
impl<'b> visit::Visitor<'b> for Mentions<'_> {
    fn visit_expr(&mut self, e: &'b Expr) {
        if let Expr::Name(n) = e
            && self.0.contains(n.id.as_str())
        {
            self.1 = true;
        }
        visit::walk_expr(self, e);
    }
}

/// Whether any of the names occurs in an expression.
pub fn mentions(e: &Expr, names: &std::collections::HashSet<String>) -> bool {
    let mut m = Mentions(names, false);
    visit::Visitor::visit_expr(&mut m, e);
    m.1
}

/// Whether any of the names occurs in a statement.
pub fn mentions_stmt(s: &Stmt, names: &std::collections::HashSet<String>) -> bool {
    let mut m = Mentions(names, false);
    visit::Visitor::visit_stmt(&mut m, s);
    m.1
}

/// `name.close()` as a statement.
pub fn is_close_of(s: &Stmt, n: &str) -> bool {
    let Stmt::Expr(x) = s else { return false };
    let Expr::Call(c) = &*x.value else { return false };
    let Expr::Attribute(a) = &*c.func else { return false };
    c.args.is_empty()
        && c.keywords.is_empty()
        && a.attr.as_str() == "close"
        && matches!(&*a.value, Expr::Name(v) if v.id.as_str() == n)
}

/// The generators of a list, set or dict comprehension or a generator
/// expression.
pub fn comprehension_generators(e: &Expr) -> Option<&[ast::Comprehension]> {
    match e {
        Expr::ListComp(c) => Some(&c.generators),
        Expr::SetComp(c) => Some(&c.generators),
        Expr::DictComp(c) => Some(&c.generators),
        Expr::GeneratorExp(c) => Some(&c.generators),
        _ => None,
    }
}
