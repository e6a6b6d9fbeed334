//! The project's installed commands: the functions that `pip install`
//! wraps in a console or GUI script. Code the tool does not convert (the
//! generated script) calls each one synchronously, so an entry function
//! whose body becomes async keeps a sync shell (see the `colour` pass).
//!
//! Read from the project directory of each path: the nearest directory above
//! it with a `pyproject.toml`, `setup.cfg` or `setup.py`, all three read:
//! - `pyproject.toml`: `[project.scripts]`, `[project.gui-scripts]`, and
//!   Poetry's `[tool.poetry.scripts]` (`name = "pkg.cli:main"`, or a table
//!   with `reference` and `type = "console"`);
//! - `setup.cfg`: `console_scripts` and `gui_scripts` of
//!   `[options.entry_points]`;
//! - `setup.py`: the `entry_points=` argument of a call (`setup(...)`), a
//!   dict literal whose `console_scripts` / `gui_scripts` value is a list or
//!   tuple of strings or one string of lines, or an ini string
//!   (`"[console_scripts]\nfetch = pkg.cli:main"`).
//!
//! An entry is `name = module:function [extras]`; only a module-level
//! function (`module:attr` without a dot in `attr`) is kept. A file that
//! does not read (bad TOML, a `setup.py` that does not parse) adds nothing.

use rustpython_ast::{self as ast, Expr};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Entry functions by dotted name (`pkg.cli.main`) -> where they are
/// declared (`pyproject.toml [project.scripts] fetch`), for the project
/// directories of `paths`.
pub fn find(paths: &[PathBuf]) -> BTreeMap<String, String> {
    let mut roots: Vec<PathBuf> = paths.iter().filter_map(|p| root(p)).collect();
    roots.sort();
    roots.dedup();
    let mut out = BTreeMap::new();
    for r in roots {
        for (k, v) in read(&r) {
            out.entry(k).or_insert(v);
        }
    }
    out
}

const FILES: [&str; 3] = ["pyproject.toml", "setup.cfg", "setup.py"];

fn root(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let start = if abs.is_dir() { abs.as_path() } else { abs.parent()? };
    start.ancestors().find(|d| FILES.iter().any(|f| d.join(f).is_file())).map(Path::to_path_buf)
}

/// The entry functions declared in directory `dir`'s packaging files.
pub fn read(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut add = |spec: &str, at: String| {
        if let Some(f) = function(spec) {
            out.entry(f).or_insert(at);
        }
    };
    if let Ok(text) = std::fs::read_to_string(dir.join("pyproject.toml")) {
        for (name, spec, table) in pyproject(&text) {
            add(&spec, format!("pyproject.toml [{table}] {name}"));
        }
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("setup.cfg")) {
        for (name, spec, group) in setup_cfg(&text) {
            add(&spec, format!("setup.cfg [options.entry_points] {group}: {name}"));
        }
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("setup.py")) {
        for (name, spec, group) in setup_py(&text) {
            add(&spec, format!("setup.py entry_points {group}: {name}"));
        }
    }
    out
}

/// `module:function [extras]` -> `module.function`; None for an object
/// reference that is not a module-level function (`module:Class.method`,
/// a bare module).
fn function(spec: &str) -> Option<String> {
    let spec = spec.split('[').next()?.trim();
    let (module, attr) = spec.split_once(':')?;
    let (module, attr) = (module.trim(), attr.trim());
    let ident = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    (module.split('.').all(ident) && ident(attr)).then(|| format!("{module}.{attr}"))
}

/// (script name, object reference, table) of a `pyproject.toml`.
fn pyproject(text: &str) -> Vec<(String, String, String)> {
    let Ok(doc) = text.parse::<toml::Table>() else { return vec![] };
    let mut out = vec![];
    let project = doc.get("project");
    for key in ["scripts", "gui-scripts"] {
        if let Some(t) = project.and_then(|p| p.get(key)).and_then(|t| t.as_table()) {
            for (name, v) in t {
                if let Some(spec) = v.as_str() {
                    out.push((name.clone(), spec.to_string(), format!("project.{key}")));
                }
            }
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry")).and_then(|p| p.get("scripts"));
    if let Some(t) = poetry.and_then(|t| t.as_table()) {
        for (name, v) in t {
            let spec = match v {
                toml::Value::String(s) => Some(s.as_str()),
                toml::Value::Table(t) if t.get("type").and_then(|x| x.as_str()).is_none_or(|x| x == "console") => {
                    t.get("reference").and_then(|r| r.as_str())
                }
                _ => None,
            };
            if let Some(spec) = spec {
                out.push((name.clone(), spec.to_string(), "tool.poetry.scripts".into()));
            }
        }
    }
    out
}

/// (script name, object reference, group) of the `name = spec` lines of
/// the `console_scripts` / `gui_scripts` groups in ini text whose groups are
/// either keys with indented continuation lines (`setup.cfg`) or sections
/// (`[console_scripts]`, a `setup.py` string).
fn ini_groups(lines: &[String], sections: bool) -> Vec<(String, String, String)> {
    let mut out = vec![];
    let mut group: Option<String> = None;
    for line in lines {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if sections {
            if t.starts_with('[') && t.ends_with(']') {
                group = Some(t[1..t.len() - 1].trim().to_string());
                continue;
            }
        } else if !line.starts_with([' ', '\t']) {
            // `console_scripts =` starts a group; its value may start on
            // the same line.
            let Some((k, v)) = t.split_once(['=', ':']) else {
                group = None;
                continue;
            };
            group = Some(k.trim().to_string());
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            if let Some(g) = &group
                && let Some((name, spec)) = v.split_once('=')
                && matches!(g.as_str(), "console_scripts" | "gui_scripts")
            {
                out.push((name.trim().to_string(), spec.trim().to_string(), g.clone()));
            }
            continue;
        }
        if let Some(g) = &group
            && matches!(g.as_str(), "console_scripts" | "gui_scripts")
            && let Some((name, spec)) = t.split_once('=')
        {
            out.push((name.trim().to_string(), spec.trim().to_string(), g.clone()));
        }
    }
    out
}

fn setup_cfg(text: &str) -> Vec<(String, String, String)> {
    match crate::pytest_config::ini_section(text, "options.entry_points") {
        Some(lines) => ini_groups(&lines, false),
        None => vec![],
    }
}

fn setup_py(text: &str) -> Vec<(String, String, String)> {
    let Ok(body) = crate::engine::parse(text, "setup.py") else { return vec![] };
    struct V(Vec<(String, String, String)>);
    impl<'a> crate::syntax::visit::Visitor<'a> for V {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e {
                for k in c.keywords.iter().filter(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "entry_points")) {
                    self.0.extend(entry_points_value(&k.value));
                }
            }
            crate::syntax::visit::walk_expr(self, e);
        }
    }
    let mut v = V(vec![]);
    crate::syntax::visit::Visitor::visit_body(&mut v, &body);
    v.0
}

fn string(e: &Expr) -> Option<&str> {
    match e {
        Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(s), .. }) => Some(s.as_str()),
        _ => None,
    }
}

/// The groups of a `setup(entry_points=...)` value.
fn entry_points_value(e: &Expr) -> Vec<(String, String, String)> {
    if let Some(s) = string(e) {
        let lines: Vec<String> = s.lines().map(String::from).collect();
        return ini_groups(&lines, true);
    }
    let Expr::Dict(d) = e else { return vec![] };
    let mut out = vec![];
    for (k, v) in d.keys.iter().zip(&d.values) {
        let Some(group) = k.as_ref().and_then(string) else { continue };
        if !matches!(group, "console_scripts" | "gui_scripts") {
            continue;
        }
        let items: Vec<&str> = match v {
            Expr::List(l) => l.elts.iter().filter_map(string).collect(),
            Expr::Tuple(t) => t.elts.iter().filter_map(string).collect(),
            _ => string(v).map(|s| s.lines().collect()).unwrap_or_default(),
        };
        for item in items {
            if let Some((name, spec)) = item.split_once('=') {
                out.push((name.trim().to_string(), spec.trim().to_string(), group.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_references() {
        assert_eq!(function("pkg.cli:main").as_deref(), Some("pkg.cli.main"));
        assert_eq!(function(" pkg.cli : main [color]").as_deref(), Some("pkg.cli.main"));
        assert_eq!(function("pkg.cli:App.run"), None);
        assert_eq!(function("pkg.cli"), None);
        assert_eq!(function("1pkg:main"), None);
    }

    #[test]
    fn pyproject_tables() {
        let text = "[project.scripts]\nfetch = \"pkg.cli:main\"\n[project.gui-scripts]\nwin = \"pkg.gui:run\"\n\
                    [tool.poetry.scripts]\npo = \"pkg.po:go\"\npt = { reference = \"pkg.pt:go\", type = \"console\" }\n\
                    pf = { reference = \"x.sh\", type = \"file\" }\n";
        let got: Vec<String> = pyproject(text).into_iter().map(|(n, s, t)| format!("{t} {n}={s}")).collect();
        assert_eq!(
            got,
            [
                "project.scripts fetch=pkg.cli:main",
                "project.gui-scripts win=pkg.gui:run",
                "tool.poetry.scripts po=pkg.po:go",
                "tool.poetry.scripts pt=pkg.pt:go"
            ]
        );
    }

    #[test]
    fn setup_cfg_groups() {
        let text = "[metadata]\nname = x\n[options.entry_points]\nconsole_scripts =\n    fetch = pkg.cli:main\n  \
                    # a comment\n    other=pkg.other:run [extra]\ngui_scripts = win = pkg.gui:run\n\
                    pytest11 =\n    plug = pkg.plugin\n[options]\npackages = find:\n";
        let got: Vec<String> = setup_cfg(text).into_iter().map(|(n, s, g)| format!("{g} {n}={s}")).collect();
        assert_eq!(
            got,
            [
                "console_scripts fetch=pkg.cli:main",
                "console_scripts other=pkg.other:run [extra]",
                "gui_scripts win=pkg.gui:run"
            ]
        );
    }

    #[test]
    fn setup_py_forms() {
        let text = "from setuptools import setup\nsetup(name='x', entry_points={'console_scripts': ['fetch = pkg.cli:main', \
                    'b=pkg.b:go'], 'gui_scripts': ('w = pkg.w:run',), 'pytest11': ['p = pkg.p']})\n\
                    setup(entry_points='''\n[console_scripts]\nini = pkg.ini:main\n''')\n";
        let got: Vec<String> = setup_py(text).into_iter().map(|(n, s, g)| format!("{g} {n}={s}")).collect();
        assert_eq!(
            got,
            [
                "console_scripts fetch=pkg.cli:main",
                "console_scripts b=pkg.b:go",
                "gui_scripts w=pkg.w:run",
                "console_scripts ini=pkg.ini:main"
            ]
        );
    }
}
