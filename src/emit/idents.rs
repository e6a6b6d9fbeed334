//! Identifiers a node holds itself (not in a child expression): parameter
//! names, keyword argument names, `except ... as` names, `global` /
//! `nonlocal` names, `match` captures, attribute names. A node renamed by a
//! pass (a user rule) differs from the original only in some of them: each
//! is edited in place, where the original text spells it, so the rest of
//! the statement (a return annotation, decorators, comments, layout) stays
//! as written and nothing has to be reprinted.

use rustpython_ast::text_size::{TextRange, TextSize};
use rustpython_ast::{self as ast, Expr, Fold, Ranged, Stmt};

/// Where the original text spells an identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    /// It starts at this offset (a parameter, a keyword argument, a name).
    At(TextSize),
    /// The last name token so spelled in this range (`p as x`, `*x`,
    /// `**x`, `obj.x`, `C(x=p)` up to `p`).
    Last(TextRange),
    /// The first name token so spelled right after `as` (`except E as x`).
    AfterAs(TextRange),
    /// The k-th name token of the range (`global a, b`).
    Nth(TextRange, usize),
}

/// The tokens of a file that matter here: names and `as`.
pub struct Tokens {
    toks: Vec<(TextRange, Option<String>)>,
}

impl Tokens {
    pub fn new(src: &str) -> Tokens {
        let toks = crate::syntax::parse::names_and_as(src);
        Tokens { toks }
    }

    fn within(&self, r: TextRange) -> &[(TextRange, Option<String>)] {
        let lo = self.toks.partition_point(|(t, _)| t.start() < r.start());
        let hi = self.toks.partition_point(|(t, _)| t.end() <= r.end());
        if lo >= hi { &[] } else { &self.toks[lo..hi] }
    }

    fn find(&self, src: &str, name: &str, loc: Loc) -> Option<TextRange> {
        let is = |t: &Option<String>| t.as_deref() == Some(name);
        match loc {
            Loc::At(at) => {
                let len = TextSize::try_from(name.len()).ok()?;
                let r = TextRange::at(at, len);
                (src.get(usize::from(r.start())..usize::from(r.end())) == Some(name)
                    && !src[usize::from(r.end())..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
                .then_some(r)
            }
            Loc::Last(r) => self.within(r).iter().rev().find(|(_, t)| is(t)).map(|(r, _)| *r),
            Loc::AfterAs(r) => {
                let toks = self.within(r);
                toks.windows(2).find(|w| w[0].1.is_none() && is(&w[1].1)).map(|w| w[1].0)
            }
            Loc::Nth(r, k) => {
                let (r, t) = self.within(r).iter().filter(|(_, t)| t.is_some()).nth(k)?;
                is(t).then_some(*r)
            }
        }
    }
}

/// Collects (mode `set == None`) or sets the identifiers of one node, in a
/// fixed order; child expressions are not entered.
struct Idents {
    found: Vec<(String, Loc)>,
    set: Option<Vec<String>>,
    next: usize,
    depth: usize,
}

impl Idents {
    fn visit(&mut self, id: &mut ast::Identifier, loc: Loc) {
        match &self.set {
            None => self.found.push((id.to_string(), loc)),
            Some(names) => {
                if let Some(n) = names.get(self.next) {
                    *id = ast::Identifier::new(n.as_str());
                }
            }
        }
        self.next += 1;
    }
}

impl Fold<TextRange> for Idents {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, mut s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        if let Stmt::Global(ast::StmtGlobal { names, range }) | Stmt::Nonlocal(ast::StmtNonlocal { names, range }) =
            &mut s
        {
            let r = *range;
            for (k, n) in names.iter_mut().enumerate() {
                self.visit(n, Loc::Nth(r, k));
            }
            return Ok(s);
        }
        ast::fold::fold_stmt(self, s)
    }

    fn fold_expr(&mut self, mut e: Expr) -> Result<Expr, std::convert::Infallible> {
        if self.depth > 0 {
            return Ok(e);
        }
        self.depth += 1;
        match &mut e {
            Expr::Name(n) => {
                let at = n.range.start();
                self.visit(&mut n.id, Loc::At(at));
            }
            Expr::Attribute(a) => {
                let r = a.range;
                self.visit(&mut a.attr, Loc::Last(r));
            }
            _ => {}
        }
        let e = ast::fold::fold_expr(self, e);
        self.depth -= 1;
        e
    }

    fn fold_arg(&mut self, mut a: ast::Arg) -> Result<ast::Arg, std::convert::Infallible> {
        let at = a.range.start();
        self.visit(&mut a.arg, Loc::At(at));
        ast::fold::fold_arg(self, a)
    }

    fn fold_keyword(&mut self, mut k: ast::Keyword) -> Result<ast::Keyword, std::convert::Infallible> {
        let at = k.range.start();
        if let Some(a) = &mut k.arg {
            self.visit(a, Loc::At(at));
        }
        ast::fold::fold_keyword(self, k)
    }

    fn fold_excepthandler_except_handler(
        &mut self,
        mut h: ast::ExceptHandlerExceptHandler,
    ) -> Result<ast::ExceptHandlerExceptHandler, std::convert::Infallible> {
        // The header only: from `except` to the body's first statement.
        let end = h.body.first().map_or(h.range.end(), |s| s.range().start());
        let r = TextRange::new(h.range.start(), end.max(h.range.start()));
        if let Some(n) = &mut h.name {
            self.visit(n, Loc::AfterAs(r));
        }
        ast::fold::fold_excepthandler_except_handler(self, h)
    }

    fn fold_pattern_match_as(
        &mut self,
        p: ast::PatternMatchAs,
    ) -> Result<ast::PatternMatchAs, std::convert::Infallible> {
        let mut p = ast::fold::fold_pattern_match_as(self, p)?;
        let loc = if p.pattern.is_some() { Loc::Last(p.range) } else { Loc::At(p.range.start()) };
        if let Some(n) = &mut p.name {
            self.visit(n, loc);
        }
        Ok(p)
    }

    fn fold_pattern_match_star(
        &mut self,
        mut p: ast::PatternMatchStar,
    ) -> Result<ast::PatternMatchStar, std::convert::Infallible> {
        let r = p.range;
        if let Some(n) = &mut p.name {
            self.visit(n, Loc::Last(r));
        }
        Ok(p)
    }

    fn fold_pattern_match_mapping(
        &mut self,
        p: ast::PatternMatchMapping,
    ) -> Result<ast::PatternMatchMapping, std::convert::Infallible> {
        let mut p = ast::fold::fold_pattern_match_mapping(self, p)?;
        // `**rest` is the mapping's last item.
        let r = p.range;
        if let Some(n) = &mut p.rest {
            self.visit(n, Loc::Last(r));
        }
        Ok(p)
    }

    fn fold_pattern_match_class(
        &mut self,
        p: ast::PatternMatchClass,
    ) -> Result<ast::PatternMatchClass, std::convert::Infallible> {
        let mut p = ast::fold::fold_pattern_match_class(self, p)?;
        // `attr=` comes between the item before and its own pattern.
        let mut prev = p.patterns.last().map_or(p.range.start(), |q| q.range().end());
        let ends: Vec<(TextSize, TextSize)> =
            p.kwd_patterns.iter().map(|q| (q.range().start(), q.range().end())).collect();
        for (n, (start, end)) in p.kwd_attrs.iter_mut().zip(ends) {
            self.visit(n, Loc::Last(TextRange::new(prev, start.max(prev))));
            prev = end;
        }
        Ok(p)
    }
}

/// Bytes `start..end` of the original text become `text`.
pub type NameEdit = (usize, usize, String);

/// A rename within one node: the edits (start, end, new name) that spell
/// the new identifiers in the original text, and the new node with its old
/// identifiers back (to compare with the old node for everything else).
pub struct Renamed<T> {
    pub edits: Vec<NameEdit>,
    pub restored: T,
}

fn collect(f: impl FnOnce(&mut Idents)) -> Vec<(String, Loc)> {
    let mut ix = Idents { found: vec![], set: None, next: 0, depth: 0 };
    f(&mut ix);
    ix.found
}

fn renames(
    src: &str,
    tokens: &Tokens,
    old: &[(String, Loc)],
    new: &[(String, Loc)],
) -> Option<(Vec<NameEdit>, Vec<String>)> {
    if old.len() != new.len() || old.iter().zip(new).all(|(o, n)| o.0 == n.0) {
        return None;
    }
    let mut edits = vec![];
    for ((on, loc), (nn, _)) in old.iter().zip(new) {
        if on != nn {
            let r = tokens.find(src, on, *loc)?;
            edits.push((usize::from(r.start()), usize::from(r.end()), nn.clone()));
        }
    }
    Some((edits, old.iter().map(|(n, _)| n.clone()).collect()))
}

/// `new` is `old` with identifiers of its own renamed (statement shells,
/// blocks taken out, children erased).
pub fn stmt_renames(src: &str, tokens: &Tokens, old: &Stmt, new: &Stmt) -> Option<Renamed<Stmt>> {
    let o = collect(|ix| {
        let _ = ix.fold_stmt(old.clone());
    });
    let n = collect(|ix| {
        let _ = ix.fold_stmt(new.clone());
    });
    let (edits, names) = renames(src, tokens, &o, &n)?;
    let mut ix = Idents { found: vec![], set: Some(names), next: 0, depth: 0 };
    let restored = crate::syntax::fold_ok(ix.fold_stmt(new.clone()));
    Some(Renamed { edits, restored })
}

/// `new` is the expression `old` with identifiers of its own renamed.
pub fn expr_renames(src: &str, tokens: &Tokens, old: &Expr, new: &Expr) -> Option<Renamed<Expr>> {
    let o = collect(|ix| {
        let _ = ix.fold_expr(old.clone());
    });
    let n = collect(|ix| {
        let _ = ix.fold_expr(new.clone());
    });
    let (edits, names) = renames(src, tokens, &o, &n)?;
    let mut ix = Idents { found: vec![], set: Some(names), next: 0, depth: 0 };
    let restored = crate::syntax::fold_ok(ix.fold_expr(new.clone()));
    Some(Renamed { edits, restored })
}
