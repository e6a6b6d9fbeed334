//! Running the engine over many files in parallel. Results are collected
//! in path order, so output never depends on the thread count.

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

pub fn convert_file(path: &Path, opts: &Options) -> Outcome {
    match std::fs::read(path) {
        Ok(bytes) => convert_bytes(&bytes, &path.to_string_lossy(), opts),
        Err(e) => Outcome::Failed { error: format!("cannot read: {e}") },
    }
}

fn pool(threads: Option<usize>) -> rayon::ThreadPool {
    let mut b = rayon::ThreadPoolBuilder::new().stack_size(STACK_SIZE);
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build().expect("cannot start worker threads")
}

/// Converts every file, in parallel; the reports are in the order of `files`.
pub fn convert_all(files: &[PathBuf], opts: &Options, threads: Option<usize>) -> Vec<FileReport> {
    pool(threads).install(|| {
        files
            .par_iter()
            .map(|p| FileReport { path: p.clone(), outcome: convert_file(p, opts) })
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
