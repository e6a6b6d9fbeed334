//! Running the engine over many files in parallel. Results are collected
//! in path order, so output never depends on the thread count.

use crate::analysis::project::{ModDecl, ProjectIndex, declare, module_name};
use crate::engine::{self, Converted, FileError, Options};
use crate::source;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
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
    /// The file as it was read (`None` for standard input, or when it
    /// could not be read): it is written only if it is still so.
    pub stamp: Option<source::Stamp>,
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
        body: Vec<rustpython_ast::Stmt>,
        decl: ModDecl,
        /// Functions that would turn async (exported ones).
        names: Vec<String>,
        /// The module's analysis, reused by its conversion, and whether it
        /// is refined (see `engine::candidates`).
        info: Option<(Box<crate::analysis::ModuleInfo>, bool)>,
    },
    /// Parsed, nothing to do here on its own.
    Plain {
        decoded: source::Decoded,
        body: Vec<rustpython_ast::Stmt>,
        decl: ModDecl,
    },
    Failed {
        error: String,
    },
}

fn prepare(path: &Path, opts: &Options, project: bool) -> (Prepared, Option<source::Stamp>) {
    match source::read_stamped(path) {
        Ok((bytes, stamp)) => (prepare_bytes(path, &bytes, opts, project), Some(stamp)),
        Err(e) => (Prepared::Failed { error: format!("cannot read: {e}") }, None),
    }
}

fn prepare_bytes(path: &Path, bytes: &[u8], opts: &Options, project: bool) -> Prepared {
    let decoded = match source::decode(bytes) {
        Ok(d) => d,
        Err(e) => return Prepared::Failed { error: e },
    };
    match engine::parse(&decoded.text, &path.to_string_lossy()) {
        Err(e) => Prepared::Failed { error: e.to_string() },
        Ok(body) => {
            let decl = if project {
                let (name, package) = module_name(path);
                declare(&name, package, &body)
            } else {
                ModDecl::default()
            };
            if engine::interested(&decoded.text, opts) {
                // Analysed once the project's index exists (`convert_all`).
                Prepared::Interested { decoded, body, decl, names: vec![], info: None }
            } else {
                Prepared::Plain { decoded, body, decl }
            }
        }
    }
}

/// For each module, the modules that import something of it.
fn importers(index: &ProjectIndex) -> Vec<BTreeSet<usize>> {
    use crate::analysis::project::{Decl, Item};
    let n = index.modules.len();
    let mut importers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (i, md) in index.modules.iter().enumerate() {
        let mut targets = BTreeSet::new();
        let aliases = md.names.values().filter_map(|d| match d {
            Decl::Alias(a) => Some(a),
            _ => None,
        });
        for a in aliases.chain(&md.imports) {
            {
                // Every module on the way: `import pkg.client` reaches both.
                let mut q = a.as_str();
                loop {
                    if let Some(Item::Module(m) | Item::Func(m, _) | Item::Class(m, _)) = index.lookup(q) {
                        targets.insert(m);
                    }
                    match q.rsplit_once('.') {
                        Some((h, _)) => q = h,
                        None => break,
                    }
                }
            }
        }
        for (module, _) in &md.star {
            if let Some(&m) = index.by_name.get(module) {
                targets.insert(m);
            }
        }
        for t in targets {
            if t != i {
                importers[t].insert(i);
            }
        }
    }
    importers
}

/// Converts every file, in parallel; the reports are in the order of `files`.
///
/// Every file is parsed once. With more than one file, the files make one
/// project: the modules that take part in cross-module calls are analysed
/// with the others' declarations and coloured together to a fixpoint (see
/// [`crate::project`]); the others convert on their own.
pub fn convert_all(files: &[PathBuf], opts: &Options, threads: Option<usize>) -> Vec<FileReport> {
    convert_all_each(files, opts, threads, |_| ()).into_iter().map(|(r, ())| r).collect()
}

/// [`convert_all`], calling `each` on every report as soon as its file is
/// converted, on the thread that converted it, in no particular order; the
/// reports come back in the order of `files`, each with what `each` made of
/// it. The command writes files from `each`, so a small file is written
/// while a big one is still being converted. (Every file is analysed before
/// the first is converted: the project is coloured as a whole.)
pub fn convert_all_each<R: Send>(
    files: &[PathBuf],
    opts: &Options,
    threads: Option<usize>,
    each: impl Fn(&FileReport) -> R + Sync,
) -> Vec<(FileReport, R)> {
    pool(threads).install(|| {
        let t0 = std::time::Instant::now();
        let timing = std::env::var_os("AWAITIFY_TIMING").is_some();
        let project = files.len() > 1;
        let order = largest_first(files);
        let (mut prepared, stamps): (Vec<Prepared>, Vec<Option<source::Stamp>>) =
            in_path_order(order.par_iter().with_max_len(1).map(|&i| (i, prepare(&files[i], opts, project))).collect())
                .into_iter()
                .unzip();
        if timing {
            eprintln!("timing: prepare {:?}", t0.elapsed());
        }
        // Modules by index in `files` (failed files have an empty entry,
        // which nothing can reach).
        let decls: Vec<ModDecl> = prepared
            .iter()
            .map(|p| match p {
                Prepared::Interested { decl, .. } | Prepared::Plain { decl, .. } => decl.clone(),
                Prepared::Failed { .. } => ModDecl { name: String::new(), ..ModDecl::default() },
            })
            .collect();
        let index = ProjectIndex::new(decls);
        // The modules a pass may have work in are analysed, with the
        // project's declarations: what would turn async in them.
        prepared.par_iter_mut().enumerate().with_max_len(1).for_each(|(i, p)| {
            if let Prepared::Interested { decoded, body, names, info, .. } = p {
                let env = project.then_some(crate::analysis::project::Env { index: &index, module: i });
                let (n, analysed) = engine::candidates(&decoded.text, body, opts, env);
                *names = n;
                *info = analysed.map(|(a, refined)| (Box::new(a), refined));
            }
        });
        if timing {
            eprintln!("timing: candidates {:?}", t0.elapsed());
        }
        // The analyses made while preparing, reused where nothing changes them.
        let mut cached: Vec<Option<(Box<crate::analysis::ModuleInfo>, bool)>> = prepared
            .iter_mut()
            .map(|p| match p {
                Prepared::Interested { info, .. } => info.take(),
                _ => None,
            })
            .collect();
        let texts: Vec<&str> = prepared
            .iter()
            .map(|p| match p {
                Prepared::Interested { decoded, .. } | Prepared::Plain { decoded, .. } => decoded.text.as_str(),
                Prepared::Failed { .. } => "",
            })
            .collect();
        // The project's colouring starts from the modules with functions
        // that may turn async, and takes in, wave after wave, the modules
        // that import a module with functions that do (and mention their
        // names), and the modules of methods that must follow an override.
        let mut pending: Vec<usize> = if project {
            prepared
                .iter()
                .enumerate()
                .filter(|&(i, p)| match p {
                    Prepared::Interested { names, .. } => {
                        // A decorator that wraps functions of other modules
                        // converts only with them.
                        !names.is_empty()
                            || index.decorated.iter().any(|(d, fs)| d.module == i && fs.iter().any(|f| f.module != i))
                    }
                    _ => false,
                })
                .map(|(i, _)| i)
                .collect()
        } else {
            vec![]
        };
        let importers = if project { importers(&index) } else { vec![] };
        let groups = crate::project::override_groups(&index);
        let component = crate::project::components(&importers);
        let mut involved: BTreeSet<usize> = pending.iter().copied().collect();
        let mut members: Vec<crate::project::Member> = vec![];
        let mut failed_plans: BTreeMap<usize, String> = BTreeMap::new();
        let mut state = crate::project::State::default();
        while !pending.is_empty() {
            type Cached = Option<(Box<crate::analysis::ModuleInfo>, bool)>;
            let wave: Vec<(usize, Cached)> = pending.iter().map(|&i| (i, cached[i].take())).collect();
            let planned: Vec<(usize, Result<engine::Planned, String>)> = wave
                .into_par_iter()
                .with_max_len(1)
                .filter_map(|(i, info)| {
                    let (decoded, body) = match &prepared[i] {
                        Prepared::Interested { decoded, body, .. } | Prepared::Plain { decoded, body, .. } => {
                            (decoded, body)
                        }
                        Prepared::Failed { .. } => return None,
                    };
                    let env = crate::analysis::project::Env { index: &index, module: i };
                    let info = match info {
                        Some((info, true)) => *info,
                        Some((info, false)) => crate::analysis::refine_in(body, *info, Some(env)),
                        None => crate::analysis::analyse_in(body, env),
                    };
                    let display = files[i].to_string_lossy().to_string();
                    let planned = engine::plan(&decoded.text, &display, body, opts, true, Some(info))
                        .map_err(|e| e.to_string())
                        .map(|p| p.expect("a project module is always planned"));
                    Some((i, planned))
                })
                .collect();
            for (i, p) in planned {
                match p {
                    Ok(planned) => members.push(crate::project::Member {
                        module: i,
                        text: texts[i],
                        path: files[i].to_string_lossy().to_string(),
                        planned,
                        cache: None,
                    }),
                    Err(e) => {
                        failed_plans.insert(i, e);
                    }
                }
            }
            if timing {
                eprintln!("timing: wave of {} planned {:?}", pending.len(), t0.elapsed());
            }
            state = crate::project::colour_project(&mut members, &index, &groups, &component);
            if timing {
                eprintln!("timing: coloured {:?}", t0.elapsed());
            }
            // The next wave.
            let mut next: BTreeSet<usize> = BTreeSet::new();
            let mut names: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
            for g in &state.async_fns {
                if let Some(f) = index.func(*g) {
                    names.entry(g.module).or_default().push(f.name.as_str());
                }
            }
            for (m, ns) in &names {
                for &x in &importers[*m] {
                    if !involved.contains(&x)
                        && ns.iter().any(|n| {
                            // Special methods run from syntax: `with`, `for`.
                            let word = match *n {
                                "__enter__" | "__exit__" => "with",
                                "__iter__" | "__next__" => "for",
                                n => n,
                            };
                            texts[x].contains(word)
                        })
                    {
                        next.insert(x);
                    }
                }
            }
            for g in state.wanted.iter() {
                if !involved.contains(&g.module) {
                    next.insert(g.module);
                }
            }
            // The modules of the decorators that wrap functions turned async.
            for (d, fs) in &index.decorated {
                if !involved.contains(&d.module) && fs.iter().any(|f| state.async_fns.contains(f)) {
                    next.insert(d.module);
                }
            }
            involved.extend(next.iter().copied());
            pending = next.into_iter().collect();
        }
        if timing {
            eprintln!("timing: project ({} modules) {:?}", members.len(), t0.elapsed());
        }
        let mut plans: BTreeMap<usize, Result<engine::Planned, String>> =
            members.into_iter().map(|m| (m.module, Ok(m.planned))).collect();
        plans.extend(failed_plans.into_iter().map(|(i, e)| (i, Err(e))));
        let async_names = crate::project::qualnames(&index, &state.async_fns);
        // What other modules take from each module (imports they name stay).
        let reached = if project { crate::reach::reached(&index, &texts) } else { vec![] };
        let no_names = BTreeSet::new();
        let cached_now = std::sync::Mutex::new(cached);
        let mut slots: Vec<Option<Prepared>> = prepared.into_iter().map(Some).collect();
        type Work = (usize, Prepared, Option<Result<engine::Planned, String>>);
        let work: Vec<Work> = order.iter().filter_map(|&i| Some((i, slots[i].take()?, plans.remove(&i)))).collect();
        let reports = work
            .into_par_iter()
            .with_max_len(1)
            .map(|(i, p, planned)| {
                let path = &files[i];
                let display = path.to_string_lossy();
                let outcome = match (p, planned) {
                    (Prepared::Failed { error }, _) => Outcome::Failed { error },
                    (_, Some(Err(error))) => Outcome::Failed { error },
                    (
                        Prepared::Interested { decoded, body, .. } | Prepared::Plain { decoded, body, .. },
                        Some(Ok(pl)),
                    ) => {
                        let view = engine::ProjectView {
                            module: i,
                            name: &index.modules[i].name,
                            state: &state,
                            async_names: &async_names,
                        };
                        let r = engine::convert_planned(
                            &decoded.text,
                            decoded.newline,
                            &display,
                            body,
                            opts,
                            Some(&view),
                            pl,
                            reached.get(i).unwrap_or(&no_names),
                        );
                        finish(decoded, r)
                    }
                    (Prepared::Plain { .. }, None) => Outcome::Unchanged {
                        result: Converted { output: None, diagnostics: vec![], edits: 0, lines: vec![] },
                    },
                    (Prepared::Interested { decoded, body, .. }, None) => {
                        let info = cached_now.lock().expect("no panic holds it")[i].take();
                        let r = engine::convert_body(
                            &decoded.text,
                            decoded.newline,
                            &display,
                            body,
                            opts,
                            None,
                            info.map(|(b, _)| *b),
                            reached.get(i).unwrap_or(&no_names),
                        );
                        finish(decoded, r)
                    }
                };
                let report = FileReport { path: path.clone(), outcome, stamp: stamps[i] };
                let made = each(&report);
                (i, (report, made))
            })
            .collect();
        if timing {
            eprintln!("timing: convert {:?}", t0.elapsed());
        }
        in_path_order(reports)
    })
}

fn finish(decoded: source::Decoded, r: Result<Converted, FileError>) -> Outcome {
    match r {
        Ok(result) if result.output.is_some() => Outcome::Changed { decoded, result },
        Ok(result) => Outcome::Unchanged { result },
        Err(e) => Outcome::Failed { error: e.to_string() },
    }
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
