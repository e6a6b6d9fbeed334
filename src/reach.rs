//! Which names of a module other modules of the run take from it: an
//! import a pass finds unused (`import requests` once the http pass has
//! converted every use) is removed only when nothing can reach it, since
//! `from this_module import requests` elsewhere would break.
//!
//! Per module, the names other modules take: `from m import a, b as c`
//! (anywhere in the file, also inside functions; relative too), `m.a` where
//! the importing module binds `m` to the module at its top level, and `*`
//! for `from m import *`.

use crate::analysis::project::{Decl, ProjectIndex, absolute};
use std::collections::BTreeSet;

/// The identifiers of a text, with their byte offsets.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = vec![];
    let mut start = None;
    for (i, c) in line.char_indices().chain(std::iter::once((line.len(), ' '))) {
        let word = c.is_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// For each module of `index` (texts in the same order), the names other
/// modules take from it.
pub fn reached(index: &ProjectIndex, texts: &[&str]) -> Vec<BTreeSet<String>> {
    let n = index.modules.len();
    let mut out: Vec<BTreeSet<String>> = vec![BTreeSet::new(); n];
    for (x, md) in index.modules.iter().enumerate() {
        if md.name.is_empty() {
            continue;
        }
        for (module, _) in &md.star {
            if let Some(&m) = index.by_name.get(module)
                && m != x
            {
                out[m].insert("*".into());
            }
        }
        let text = texts.get(x).copied().unwrap_or("");
        // `alias.name` where `alias` is a module of the run.
        for (local, d) in &md.names {
            let Decl::Alias(a) = d else { continue };
            let Some(&m) = index.by_name.get(a.as_str()) else { continue };
            if m == x {
                continue;
            }
            let pat = format!("{local}.");
            let mut from = 0;
            while let Some(k) = text[from..].find(&pat) {
                let at = from + k;
                from = at + pat.len();
                let boundary = text[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                if !boundary {
                    continue;
                }
                if let Some(&(0, w)) = words(&text[from..]).first() {
                    out[m].insert(w.to_string());
                }
            }
        }
        // `from m import a, b as c`, at any depth.
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let t = line.trim_start();
            let Some(rest) = t.strip_prefix("from") else { continue };
            if !rest.starts_with([' ', '\t', '.']) {
                continue;
            }
            let Some(k) = rest.find(" import") else { continue };
            let spec = rest[..k].trim();
            let level = spec.len() - spec.trim_start_matches('.').len();
            let module = spec.trim_start_matches('.').trim();
            let Some(base) = absolute(&md.name, md.package, level as u32, module) else { continue };
            let Some(&m) = index.by_name.get(&base) else { continue };
            if m == x {
                continue;
            }
            let mut names = rest[k + " import".len()..].to_string();
            if names.contains('(') && !names.contains(')') {
                for more in lines.by_ref() {
                    names.push(' ');
                    names.push_str(more);
                    if more.contains(')') {
                        break;
                    }
                }
            }
            let names = names.split('#').next().unwrap_or("");
            for item in names.split(',') {
                if let Some(&(_, w)) = words(item).first() {
                    out[m].insert(w.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::project::declare;

    #[test]
    fn names_taken_by_other_modules() {
        let texts = [
            "import requests\nimport time\n",
            "from pkg.a import requests\n",
            "def f():\n    from .a import (\n        time as t,\n    )\n",
            "import pkg.a as a\nx = a.json\n",
        ];
        let names = ["pkg.a", "pkg.b", "pkg.c", "pkg.d"];
        let decls =
            texts.iter().zip(names).map(|(t, n)| declare(n, false, &crate::engine::parse(t, n).unwrap())).collect();
        let index = ProjectIndex::new(decls);
        let r = reached(&index, &texts);
        let got: Vec<&str> = r[0].iter().map(|s| s.as_str()).collect();
        assert_eq!(got, ["json", "requests", "time"]);
        assert!(r[1].is_empty());
    }
}
