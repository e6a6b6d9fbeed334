//! The one step that adds the imports passes asked for: `import X` once per
//! module, after the docstring and `__future__` imports, at the end of the
//! leading block of imports.

use crate::syntax::synth;
use rustpython_parser::ast::{self, Expr, Stmt};
use std::collections::BTreeSet;

/// Adds `import m` for each requested module not already imported plainly at
/// module level. Returns an error message if the name is bound otherwise.
pub fn add_imports(mut body: Vec<Stmt>, wanted: &BTreeSet<String>) -> Result<Vec<Stmt>, String> {
    let bindings = crate::analysis::scope::collect(&body);
    let mut new = vec![];
    for m in wanted {
        let top = m.split('.').next().unwrap_or(m);
        // `import a` is enough for `a`; `a.b` needs `import a.b` itself
        // (another `import a.x` binds `a` the same way).
        let imported = |m: &str| {
            body.iter().any(
                |s| matches!(s, Stmt::Import(i) if i.names.iter().any(|a| a.asname.is_none() && a.name.as_str() == m)),
            )
        };
        match bindings.unique(top) {
            Some(crate::analysis::scope::Binding::Import(q)) if q == top && (m == top || imported(m)) => continue,
            Some(crate::analysis::scope::Binding::Import(q)) if q == top => {}
            Some(_) => {
                return Err(format!(
                    "`{top}` is already bound in this module to something else; cannot add `import {m}`"
                ));
            }
            None => {}
        }
        new.push(Stmt::Import(ast::StmtImport {
            range: synth(),
            names: vec![ast::Alias { range: synth(), name: ast::Identifier::new(m.as_str()), asname: None }],
        }));
    }
    if new.is_empty() {
        return Ok(body);
    }
    let mut i = 0;
    if let Some(Stmt::Expr(e)) = body.first()
        && matches!(&*e.value, Expr::Constant(c) if matches!(c.value, ast::Constant::Str(_)))
    {
        i = 1;
    }
    while let Some(Stmt::ImportFrom(f)) = body.get(i) {
        if f.module.as_deref() == Some("__future__") {
            i += 1;
        } else {
            break;
        }
    }
    let block_start = i;
    while matches!(body.get(i), Some(Stmt::Import(_) | Stmt::ImportFrom(_))) {
        i += 1;
    }
    let block = block_start..i;
    // Insert each in sorted position among the block's plain `import x`
    // lines, as isort would; after the last of them, or at the block's start.
    for s in new.into_iter().rev() {
        let Stmt::Import(imp) = &s else { continue };
        let key = imp.names[0].name.to_lowercase();
        let plain: Vec<usize> = block.clone().filter(|&k| matches!(body[k], Stmt::Import(_))).collect();
        let at = plain
            .iter()
            .copied()
            .find(|&k| match &body[k] {
                Stmt::Import(i) => i.names[0].name.to_lowercase() > key,
                _ => false,
            })
            .or_else(|| plain.last().map(|&k| k + 1))
            .unwrap_or(block.start);
        body.insert(at, s);
    }
    Ok(body)
}

/// Removes module-level imports of `module` (and its submodules) whose names
/// nothing in the module uses any more. With `replacement`, the first import
/// removed whole becomes `import <replacement>` in its place (so `import
/// requests` turns into `import httpx` where it stood), unless the module
/// already imports it.
pub fn remove_unused(body: Vec<Stmt>, module: &str, replacement: Option<&str>) -> Vec<Stmt> {
    let mut replacement = replacement.filter(|r| {
        !matches!(crate::analysis::scope::collect(&body).unique(r), Some(crate::analysis::scope::Binding::Import(q)) if q == r)
    });
    let mut replace = |out: &mut Vec<Stmt>| {
        if let Some(r) = replacement.take() {
            out.push(Stmt::Import(ast::StmtImport {
                range: synth(),
                names: vec![ast::Alias { range: synth(), name: ast::Identifier::new(r), asname: None }],
            }));
        }
    };
    use crate::syntax::visit::{Visitor, walk_expr};
    struct Names(std::collections::HashSet<String>);
    impl<'a> Visitor<'a> for Names {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e {
                self.0.insert(n.id.to_string());
            }
            walk_expr(self, e);
        }
    }
    let mut names = Names(Default::default());
    for s in &body {
        if !matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)) {
            names.visit_stmt(s);
        }
        // Names the module exports (`__all__ = ["get", ...]`) stay imported.
        let (targets, value): (Vec<&Expr>, Option<&Expr>) = match s {
            Stmt::Assign(a) => (a.targets.iter().collect(), Some(&*a.value)),
            Stmt::AugAssign(a) => (vec![&*a.target], Some(&*a.value)),
            Stmt::AnnAssign(a) => (vec![&*a.target], a.value.as_deref()),
            _ => (vec![], None),
        };
        if targets.iter().any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == "__all__"))
            && let Some(Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. })) = value
        {
            for e in elts {
                if let Expr::Constant(c) = e
                    && let ast::Constant::Str(n) = &c.value
                {
                    names.0.insert(n.clone());
                }
            }
        }
    }
    let ours = |m: &str| m == module || m.starts_with(&format!("{module}."));
    let mut out = Vec::with_capacity(body.len());
    for s in body {
        match s {
            Stmt::Import(i) if i.names.iter().any(|a| ours(a.name.as_str())) => {
                let keep: Vec<ast::Alias> = i
                    .names
                    .iter()
                    .filter(|a| {
                        let local = a
                            .asname
                            .as_ref()
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| a.name.split('.').next().unwrap_or("").to_string());
                        !ours(a.name.as_str()) || names.0.contains(&local)
                    })
                    .cloned()
                    .collect();
                if keep.len() == i.names.len() {
                    out.push(Stmt::Import(i));
                } else if !keep.is_empty() {
                    // In its place (the original range: reprinted there).
                    out.push(Stmt::Import(ast::StmtImport { names: keep, ..i }));
                } else {
                    replace(&mut out);
                }
            }
            Stmt::ImportFrom(i)
                if i.level.is_none_or(|l| l.to_u32() == 0) && i.module.as_ref().is_some_and(|m| ours(m.as_str())) =>
            {
                let keep: Vec<ast::Alias> = i
                    .names
                    .iter()
                    .filter(|a| {
                        a.name.as_str() == "*" || names.0.contains(a.asname.as_ref().unwrap_or(&a.name).as_str())
                    })
                    .cloned()
                    .collect();
                if keep.len() == i.names.len() {
                    out.push(Stmt::ImportFrom(i));
                } else if !keep.is_empty() {
                    out.push(Stmt::ImportFrom(ast::StmtImportFrom { names: keep, ..i }));
                } else {
                    replace(&mut out);
                }
            }
            s => out.push(s),
        }
    }
    out
}
