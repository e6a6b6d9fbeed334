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
    /// The files to read, in path order.
    pub files: Vec<PathBuf>,
    /// Paths that could not be walked, with the reason.
    pub errors: Vec<(PathBuf, String)>,
    /// Files of `files` that are another name of an earlier one (a symbolic
    /// link to it, or the same file through a directory named twice): read
    /// with the others, written and diffed only under the name they map to.
    pub aliases: std::collections::BTreeMap<PathBuf, PathBuf>,
    /// Symbolic links found while walking that point to a file that is not
    /// one of `files` (outside the paths given, or excluded): not read,
    /// not converted. With the file they point to.
    pub skipped: Vec<(PathBuf, PathBuf)>,
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
    let (aliases, skipped) = links(paths, &mut files);
    Found { files, errors, aliases, skipped }
}

/// Sorts out the files that are the same file under two names. A file's
/// own name wins over a symbolic link to it, then the first name in path
/// order; the others become aliases. A symbolic link found while walking
/// (not named on the command line) whose file is none of `files` is taken
/// out of `files`: writing through it would change a file outside the
/// paths given. A link named on the command line is followed.
fn links(
    paths: &[PathBuf],
    files: &mut Vec<PathBuf>,
) -> (std::collections::BTreeMap<PathBuf, PathBuf>, Vec<(PathBuf, PathBuf)>) {
    use std::collections::BTreeMap;
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    let named = |p: &Path| paths.iter().any(|r| r == p);
    let real: Vec<Option<PathBuf>> = files.iter().map(|p| std::fs::canonicalize(p).ok()).collect();
    // The name each file is written under: own names first, then links
    // named on the command line, each group in path order.
    let mut owner: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for rank in 0..2 {
        for (p, r) in files.iter().zip(&real) {
            let Some(r) = r else { continue };
            let link = is_link(p);
            if (rank == 0 && !link) || (rank == 1 && link && named(p)) {
                owner.entry(r.clone()).or_insert_with(|| p.clone());
            }
        }
    }
    let mut aliases = BTreeMap::new();
    let mut skipped = vec![];
    let mut keep = vec![];
    for (p, r) in std::mem::take(files).into_iter().zip(real) {
        match r.as_ref().and_then(|r| owner.get(r)) {
            Some(o) if *o != p => {
                aliases.insert(p.clone(), o.clone());
                keep.push(p);
            }
            Some(_) => keep.push(p),
            None => match r {
                Some(r) if is_link(&p) => skipped.push((p, r)),
                _ => keep.push(p),
            },
        }
    }
    *files = keep;
    (aliases, skipped)
}
