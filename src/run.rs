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

fn pool(threads: Option<usize>) -> rayon::ThreadPool {
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
        let prepared: Vec<Prepared> = files.par_iter().map(|p| prepare(p, opts)).collect();
        let names: std::collections::BTreeSet<String> = prepared
            .iter()
            .flat_map(|p| match p {
                Prepared::Interested { names, .. } => names.clone(),
                _ => vec![],
            })
            .collect();
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
        prepared
            .into_par_iter()
            .zip(files.par_iter())
            .map(|(p, path)| {
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
                FileReport { path: path.clone(), outcome }
            })
            .collect()
    })
}

/// Parses every file and nothing else (the benchmark's baseline).
pub fn parse_all(files: &[PathBuf], threads: Option<usize>) -> Vec<Result<(), String>> {
    pool(threads).install(|| {
        files
            .par_iter()
            .map(|p| {
                let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
                let d = source::decode(&bytes)?;
                engine::parse(&d.text, &p.to_string_lossy()).map(|_| ()).map_err(|e: FileError| e.to_string())
            })
            .collect()
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
