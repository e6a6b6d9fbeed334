//! Cross-module facts for one run: which names of a module other modules
//! use. Until project-wide colouring exists, a function or method that
//! another module of the run reaches stays sync (its callers there would be
//! left with un-awaited coroutines).

use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use rustpython_parser::ast::{Expr, Ranged, Stmt};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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
    if stem == "__init__"
        && let Some(parent) = path.parent().and_then(|p| p.file_name())
    {
        return parent.to_string_lossy().to_string();
    }
    stem
}

/// What a module imports and which attribute names it uses: enough to tell
/// later, once the candidate names are known, whether it reaches them.
#[derive(Debug, Default, Clone)]
pub struct ImportSummary {
    /// Every module name component it imports (and every from-imported
    /// name, which may be a submodule).
    pub stems: BTreeSet<String>,
    /// `from <..stem> import name`: (stem, name, offset); name may be `*`.
    pub direct: Vec<(String, String, u32)>,
    /// Attribute names used, with the first offset.
    pub attrs: HashMap<String, u32>,
}

pub fn summarize(body: &[Stmt]) -> ImportSummary {
    struct C {
        s: ImportSummary,
    }
    impl<'a> Visitor<'a> for C {
        fn visit_stmt(&mut self, st: &'a Stmt) {
            match st {
                Stmt::Import(i) => {
                    for a in &i.names {
                        for part in a.name.split('.') {
                            self.s.stems.insert(part.to_string());
                        }
                    }
                }
                Stmt::ImportFrom(i) => {
                    let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                    let last = module.rsplit('.').next().unwrap_or("").to_string();
                    for part in module.split('.') {
                        self.s.stems.insert(part.to_string());
                    }
                    for a in &i.names {
                        let n = a.name.to_string();
                        self.s.stems.insert(n.clone());
                        self.s.direct.push((last.clone(), n, st.range().start().into()));
                    }
                }
                _ => {}
            }
            walk_stmt(self, st);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Attribute(a) = e
                && !self.s.attrs.contains_key(a.attr.as_str())
            {
                self.s.attrs.insert(a.attr.to_string(), a.range.start().into());
            }
            walk_expr(self, e);
        }
    }
    let mut c = C { s: ImportSummary::default() };
    c.visit_body(body);
    if c.s.stems.is_empty() {
        // Reaches no other module: nothing to keep.
        return ImportSummary::default();
    }
    c.s
}

/// The references a module (summarised) makes to the candidate names of the
/// other modules (`names`: module stem -> its candidates), keyed by stem.
pub fn refs_from(
    sum: &ImportSummary,
    text: &str,
    display: &str,
    own_stem: &str,
    names: &HashMap<String, BTreeSet<String>>,
) -> ExternalRefs {
    let mut out = ExternalRefs::default();
    let index = std::cell::OnceCell::new();
    let loc = |off: u32| {
        let (l, col) = index.get_or_init(|| crate::source::LineIndex::new(text)).line_col(off.into());
        format!("{display}:{l}:{col}")
    };
    for (stem, n, off) in &sum.direct {
        if stem == own_stem {
            continue;
        }
        let Some(theirs) = names.get(stem) else { continue };
        if n == "*" {
            for name in theirs {
                out.refs.entry((stem.clone(), name.clone())).or_insert_with(|| loc(*off));
            }
        } else if theirs.contains(n) {
            out.refs.entry((stem.clone(), n.clone())).or_insert_with(|| loc(*off));
        }
    }
    for stem in sum.stems.iter().filter(|s| *s != own_stem) {
        for name in names.get(stem).into_iter().flatten() {
            if let Some(&off) = sum.attrs.get(name) {
                out.refs.entry((stem.clone(), name.clone())).or_insert_with(|| loc(off));
            }
        }
    }
    out
}
