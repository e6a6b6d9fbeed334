//! Running the engine over many files in parallel. Results are collected
//! in path order, so output never depends on the thread count.

use crate::analysis::project::{ImportSummary, summarize};
use crate::engine::{self, Converted, FileError, Options};
use crate::source;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Stack size for worker threads: deeply nested input recurses deeply.
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

#[derive(Debug)]
pub enum Outcome {
    Changed { decoded: source::Decoded, result: Converted },
    Unchanged { result: Converted },
    Failed { error: String },
}

#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    pub outcome: Outcome,
}

pub fn convert_bytes(bytes: &[u8], display: &str, opts: &Options) -> Outcome {
    let decoded = match source::decode(bytes) {
        Ok(d) => d,
        Err(e) => return Outcome::Failed { error: e },
    };
    match engine::convert(&decoded.text, decoded.newline, display, opts) {
        Ok(result) if result.output.is_some() => Outcome::Changed { decoded, result },
        Ok(result) => Outcome::Unchanged { result },
        Err(e) => Outcome::Failed { error: e.to_string() },
    }
}

pub fn pool(threads: Option<usize>) -> rayon::ThreadPool {
    let mut b = rayon::ThreadPoolBuilder::new().stack_size(STACK_SIZE);
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build().expect("cannot start worker threads")
}

enum Prepared {
    /// Parsed, and a pass may have work in it.
    Interested {
        decoded: source::Decoded,
        body: Vec<rustpython_parser::ast::Stmt>,
        summary: ImportSummary,
        /// Functions that would turn async, for the cross-module guard.
        names: Vec<String>,
        /// The module's analysis, reused by its conversion.
        info: Option<Box<crate::analysis::ModuleInfo>>,
    },
    /// Parsed, nothing to do here; what it imports is kept.
    Plain {
        decoded: source::Decoded,
        summary: ImportSummary,
    },
    Failed {
        error: String,
    },
}

fn prepare(path: &Path, opts: &Options) -> Prepared {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Prepared::Failed { error: format!("cannot read: {e}") },
    };
    let decoded = match source::decode(&bytes) {
        Ok(d) => d,
        Err(e) => return Prepared::Failed { error: e },
    };
    match engine::parse(&decoded.text, &path.to_string_lossy()) {
        Err(e) => Prepared::Failed { error: e.to_string() },
        Ok(body) => {
            let summary = summarize(&body);
            if engine::interested(&decoded.text, opts) {
                // Analysed here too: one pass over the files before the
                // project-wide step, not two.
                let (names, info) = engine::candidates(&decoded.text, &body, opts);
                let info = info.map(Box::new);
                Prepared::Interested { decoded, body, summary, names, info }
            } else {
                Prepared::Plain { decoded, summary }
            }
        }
    }
}

/// Converts every file, in parallel; the reports are in the order of `files`.
///
/// Every file is parsed once, and what it imports is summarised then. Files a
/// pass is interested in name the functions that would turn async; those
/// that another file of the run reaches stay sync (see
/// [`crate::analysis::project`]).
pub fn convert_all(files: &[PathBuf], opts: &Options, threads: Option<usize>) -> Vec<FileReport> {
    use crate::analysis::project::{ExternalRefs, module_stem, refs_from};
    pool(threads).install(|| {
        let t0 = std::time::Instant::now();
        let timing = std::env::var_os("AWAITIFY_TIMING").is_some();
        let order = largest_first(files);
        let prepared: Vec<Prepared> =
            in_path_order(order.par_iter().with_max_len(1).map(|&i| (i, prepare(&files[i], opts))).collect());
        // Candidate names per module stem (what other modules must not reach).
        let mut names: std::collections::HashMap<String, std::collections::BTreeSet<String>> = Default::default();
        for (p, path) in prepared.iter().zip(files) {
            if let Prepared::Interested { names: n, .. } = p
                && !n.is_empty()
            {
                names.entry(module_stem(path)).or_default().extend(n.iter().cloned());
            }
        }
        if timing {
            eprintln!("timing: prepare {:?}", t0.elapsed());
        }
        let mut external = ExternalRefs::default();
        if !names.is_empty() && files.len() > 1 {
            let parts: Vec<ExternalRefs> = prepared
                .par_iter()
                .zip(files.par_iter())
                .filter_map(|(p, path)| match p {
                    Prepared::Interested { decoded, summary, .. } | Prepared::Plain { decoded, summary } => {
                        Some(refs_from(summary, &decoded.text, &path.to_string_lossy(), &module_stem(path), &names))
                    }
                    Prepared::Failed { .. } => None,
                })
                .collect();
            for p in parts {
                external.merge(p);
            }
        }
        if timing {
            eprintln!("timing: refs {:?}", t0.elapsed());
        }
        let mut slots: Vec<Option<Prepared>> = prepared.into_iter().map(Some).collect();
        let work: Vec<(usize, Prepared)> = order.iter().filter_map(|&i| Some((i, slots[i].take()?))).collect();
        let reports = work
            .into_par_iter()
            .with_max_len(1)
            .map(|(i, p)| {
                let path = &files[i];
                let outcome = match p {
                    Prepared::Failed { error } => Outcome::Failed { error },
                    Prepared::Plain { .. } => Outcome::Unchanged {
                        result: Converted { output: None, diagnostics: vec![], edits: 0, lines: vec![] },
                    },
                    Prepared::Interested { decoded, body, info, .. } => {
                        let stem = module_stem(path);
                        let project = engine::Project { stem: &stem, external: &external };
                        let display = path.to_string_lossy();
                        match engine::convert_body(
                            &decoded.text,
                            decoded.newline,
                            &display,
                            body,
                            opts,
                            Some(&project),
                            info.map(|b| *b),
                        ) {
                            Ok(result) if result.output.is_some() => Outcome::Changed { decoded, result },
                            Ok(result) => Outcome::Unchanged { result },
                            Err(e) => Outcome::Failed { error: e.to_string() },
                        }
                    }
                };
                (i, FileReport { path: path.clone(), outcome })
            })
            .collect();
        if timing {
            eprintln!("timing: convert {:?}", t0.elapsed());
        }
        in_path_order(reports)
    })
}

/// File indices, largest file first: the big files start early, so the
/// threads finish together (results are put back in path order).
fn largest_first(files: &[PathBuf]) -> Vec<usize> {
    let mut order: Vec<(u64, usize)> =
        files.iter().enumerate().map(|(i, p)| (std::fs::metadata(p).map(|m| m.len()).unwrap_or(0), i)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, i)| i).collect()
}

fn in_path_order<T>(mut items: Vec<(usize, T)>) -> Vec<T> {
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, t)| t).collect()
}

/// Parses every file and nothing else (the benchmark's baseline).
pub fn parse_all(files: &[PathBuf], threads: Option<usize>) -> Vec<Result<(), String>> {
    pool(threads).install(|| {
        // Scheduled as `convert_all` is, so the benchmark compares work.
        let order = largest_first(files);
        in_path_order(
            order
                .par_iter()
                .with_max_len(1)
                .map(|&i| {
                    let p = &files[i];
                    let r = (|| {
                        let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
                        let d = source::decode(&bytes)?;
                        engine::parse(&d.text, &p.to_string_lossy()).map(|_| ()).map_err(|e: FileError| e.to_string())
                    })();
                    (i, r)
                })
                .collect(),
        )
    })
}

/// Runs `f` on a thread with a large stack (for single inputs like stdin).
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(f)
        .expect("cannot start a thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}
