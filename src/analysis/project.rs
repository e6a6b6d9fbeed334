//! Cross-module facts for one run: which names of a module other modules
//! use. Until project-wide colouring exists, a function or method that
//! another module of the run reaches stays sync (its callers there would be
//! left with un-awaited coroutines).

use crate::syntax::visit::{walk_expr, walk_stmt, Visitor};
use rustpython_parser::ast::{Expr, Ranged, Stmt};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

/// `(module stem, name)` -> where another module uses it (`path:line:col`).
#[derive(Debug, Default, Clone)]
pub struct ExternalRefs {
    pub refs: BTreeMap<(String, String), String>,
}

impl ExternalRefs {
    pub fn get(&self, stem: &str, name: &str) -> Option<&String> {
        self.refs.get(&(stem.to_string(), name.to_string()))
    }
    pub fn merge(&mut self, other: ExternalRefs) {
        for (k, v) in other.refs {
            self.refs.entry(k).or_insert(v);
        }
    }
}

/// The name other modules import a file by: its stem, or its package's
/// name for `__init__.py`.
pub fn module_stem(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    if stem == "__init__" {
        if let Some(parent) = path.parent().and_then(|p| p.file_name()) {
            return parent.to_string_lossy().to_string();
        }
    }
    stem
}

/// The references `body` (of file `display`) makes to any of `names` in
/// other modules, keyed by the module stems it imports.
pub fn collect_refs(body: &[Stmt], text: &str, display: &str, names: &HashSet<String>) -> ExternalRefs {
    struct C<'n> {
        names: &'n HashSet<String>,
        stems: BTreeSet<String>,
        direct: Vec<(String, String, u32)>,
        attrs: BTreeMap<String, u32>,
    }
    impl<'a> Visitor<'a> for C<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::Import(i) => {
                    for a in &i.names {
                        for part in a.name.split('.') {
                            self.stems.insert(part.to_string());
                        }
                    }
                }
                Stmt::ImportFrom(i) => {
                    let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                    let last = module.rsplit('.').next().unwrap_or("").to_string();
                    for part in module.split('.') {
                        self.stems.insert(part.to_string());
                    }
                    for a in &i.names {
                        let n = a.name.to_string();
                        self.stems.insert(n.clone());
                        if n == "*" || self.names.contains(&n) {
                            self.direct.push((last.clone(), n, s.range().start().into()));
                        }
                    }
                }
                _ => {}
            }
            walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Attribute(a) = e {
                if self.names.contains(a.attr.as_str()) {
                    self.attrs.entry(a.attr.to_string()).or_insert(a.range.start().into());
                }
            }
            walk_expr(self, e);
        }
    }
    let mut c = C { names, stems: BTreeSet::new(), direct: vec![], attrs: BTreeMap::new() };
    c.visit_body(body);
    let mut out = ExternalRefs::default();
    let loc = |off: u32| {
        let (l, col) = crate::source::line_col(text, off.into());
        format!("{display}:{l}:{col}")
    };
    for (stem, n, off) in c.direct {
        if n == "*" {
            for name in names {
                out.refs.entry((stem.clone(), name.clone())).or_insert_with(|| loc(off));
            }
        } else {
            out.refs.entry((stem, n)).or_insert_with(|| loc(off));
        }
    }
    for (attr, off) in c.attrs {
        for stem in &c.stems {
            out.refs.entry((stem.clone(), attr.clone())).or_insert_with(|| loc(off));
        }
    }
    out
}
