//! Finding the Python files to convert under the given paths.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

/// Directories never walked into (explicitly named files are still read).
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "__pypackages__",
    "node_modules",
    "build",
    "dist",
    "_build",
    "buck-out",
    "site-packages",
];

pub struct Found {
    pub files: Vec<PathBuf>,
    /// Paths that could not be walked, with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

pub fn excludes(globs: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g).map_err(|e| format!("--exclude {g}: {e}"))?);
        // `dir` also matches everything below it.
        b.add(Glob::new(&format!("{}/**", g.trim_end_matches('/'))).map_err(|e| format!("--exclude {g}: {e}"))?);
    }
    b.build().map_err(|e| e.to_string())
}

fn excluded(p: &Path, ex: &GlobSet) -> bool {
    let s = p.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    ex.is_match(s)
        || p.file_name().is_some_and(|n| ex.is_match(n))
        || (p.is_relative() && ex.is_match(lexical_absolute(p)))
}

/// The absolute path with `.` and `..` resolved by name (no symlinks
/// followed): what an exclude glob anchored at a config file matches.
pub fn lexical_absolute(p: &Path) -> PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

pub fn find(paths: &[PathBuf], ex: &GlobSet) -> Found {
    let mut files = vec![];
    let mut errors = vec![];
    for root in paths {
        match std::fs::metadata(root) {
            Ok(m) if m.is_file() => {
                files.push(root.clone());
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                errors.push((root.clone(), e.to_string()));
                continue;
            }
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .ignore(false)
            .parents(true)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(|e| {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                !(is_dir
                    && e.depth() > 0
                    && (SKIPPED_DIRS.iter().any(|d| e.file_name() == *d) || e.path().join("pyvenv.cfg").exists()))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let p = e.path();
                    let is_file = e.file_type().is_some_and(|t| t.is_file() || t.is_symlink());
                    if is_file && p.extension().is_some_and(|x| x == "py") && !excluded(p, ex) {
                        if e.file_type().is_some_and(|t| t.is_symlink()) && !p.is_file() {
                            errors.push((p.to_path_buf(), "broken symbolic link".into()));
                            continue;
                        }
                        files.push(p.to_path_buf());
                    }
                }
                Err(err) => {
                    let path = match &err {
                        ignore::Error::WithPath { path, .. } => path.clone(),
                        _ => root.clone(),
                    };
                    errors.push((path, err.to_string()));
                }
            }
        }
    }
    files.sort();
    files.dedup();
    Found { files, errors }
}
