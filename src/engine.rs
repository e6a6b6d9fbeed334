//! One file through the pipeline: parse, analyse, colour, passes, imports,
//! emit, verify. Pure: text in, text and diagnostics out.

use crate::analysis::{self, colour};
use crate::emit::Emitter;
use crate::passes::{self, Diagnostic, Pass, PassCx};
use crate::source::line_col;
use crate::syntax::erase_ranges;
use crate::transforms::Tables;
use rustpython_ast::Stmt;
use rustpython_ast::text_size::{TextRange, TextSize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetVersion {
    Py39,
    Py310,
    Py311,
    Py312,
    Py313,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Passes to run (registry order is kept whatever the order here).
    pub passes: Vec<&'static str>,
    pub target: TargetVersion,
    pub tables: Tables,
    /// `check --fix`: per file (its path as displayed), the only call sites
    /// (line, column) that may be rewritten. A seed outside it still
    /// converts when a seed of its group (one session object, one `with`)
    /// is inside, since a group converts whole or not at all. None: all.
    pub only: Option<std::sync::Arc<Sites>>,
    /// The project's pytest configuration runs async tests without marks
    /// (pytest-asyncio's `asyncio_mode = "auto"`, or the trio / anyio
    /// equivalent): the `pytest` pass adds no marker and keeps
    /// `@pytest.fixture`. The CLI fills it (`crate::pytest_config`).
    pub pytest_auto: bool,
    /// The project's installed commands (`crate::entry_points`): the
    /// dotted name of each entry function (`pkg.cli.main`) -> where it is
    /// declared (`pyproject.toml [project.scripts] fetch`). The CLI fills it.
    pub entry_points: std::sync::Arc<BTreeMap<String, String>>,
}

/// Call sites per file: path as displayed -> (line, column) of each call.
pub type Sites = HashMap<String, BTreeSet<(usize, usize)>>;

impl Default for Options {
    fn default() -> Self {
        Options {
            passes: passes::registry().iter().map(|p| p.name()).collect(),
            target: TargetVersion::Py311,
            tables: Tables::builtin(),
            only: None,
            pytest_auto: false,
            entry_points: Default::default(),
        }
    }
}

/// A diagnostic with its position resolved.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    pub line: usize,
    pub col: usize,
    pub pass: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Converted {
    /// The new text, if it differs from the input.
    pub output: Option<String>,
    pub diagnostics: Vec<Located>,
    /// Number of rewritten sites (awaits, defs, calls...).
    pub edits: usize,
    /// First and last line (1-based) of every rewritten site.
    pub lines: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FileError {
    #[error("{line}:{col}: syntax error: {message}")]
    Syntax { line: usize, col: usize, message: String },
    #[error("{line}:{col}: internal error: {message}; the file was left unchanged (please report it)")]
    Internal { line: usize, col: usize, message: String },
    #[error("{line}:{col}: error: {message}; the file was left unchanged")]
    Refused { line: usize, col: usize, message: String },
}

pub fn parse(text: &str, path: &str) -> Result<Vec<Stmt>, FileError> {
    // What CPython's tokenizer rejects and the parser would accept.
    if let Err((at, message)) = crate::limits::check(text) {
        let (line, col) = line_col(text, TextSize::try_from(at).unwrap_or_default());
        return Err(FileError::Syntax { line, col, message });
    }
    crate::syntax::parse::parse_module(text, path).map_err(|e| {
        let (line, col) = line_col(text, e.offset);
        FileError::Syntax { line, col, message: e.message }
    })
}

fn internal(text: &str, offset: TextSize, message: impl Into<String>) -> FileError {
    let (line, col) = line_col(text, offset);
    FileError::Internal { line, col, message: message.into() }
}

fn enabled(opts: &Options) -> Vec<&'static dyn Pass> {
    passes::registry().iter().copied().filter(|p| opts.passes.contains(&p.name())).collect()
}

/// Whether any enabled pass may have work in this text (a cheap test).
pub fn interested(text: &str, opts: &Options) -> bool {
    enabled(opts).iter().any(|p| p.interested(text, &opts.tables))
}

/// Names of the exported functions and methods that would turn async if no
/// boundary stopped them: what other modules must not reach.
///
/// The analysis comes back too, and whether it is complete (refined) or
/// only the cheap one (no seed: nothing needed more).
pub fn candidates(
    text: &str,
    body: &[Stmt],
    opts: &Options,
    env: Option<analysis::project::Env>,
) -> (Vec<String>, Option<(analysis::ModuleInfo, bool)>) {
    if too_deep(body).is_some() {
        return (vec![], None);
    }
    let seeds_of = |info: &analysis::ModuleInfo| -> Vec<passes::Seed> {
        let mut sink = vec![];
        enabled(opts)
            .iter()
            .filter(|p| p.interested(text, &opts.tables))
            .flat_map(|p| p.seeds(body, info, &opts.tables, &mut sink))
            .collect()
    };
    // Most modules that pass the text test have no seed at all: the cheap
    // analysis tells; the full one runs only where there is work.
    let info = analysis::analyse_fast_in(body, env);
    if seeds_of(&info).is_empty() {
        return (vec![], Some((info, false)));
    }
    let info = analysis::refine_in(body, info, env);
    let seeds = seeds_of(&info);
    let funcs = seeds.iter().filter_map(|s| info.site_ctx(s.call).and_then(|c| c.func));
    let names = colour::closure(&info, funcs)
        .into_iter()
        .filter(|&f| info.funcs[f].exported)
        .map(|f| info.funcs[f].name.clone())
        .collect();
    (names, Some((info, true)))
}

/// A module's place in a project run: the project facts of the current
/// round of the cross-module colouring (see [`crate::project`]).
pub struct ProjectView<'a> {
    pub module: usize,
    /// The module's dotted name.
    pub name: &'a str,
    pub state: &'a crate::project::State,
    /// Every function of the project that is async after the conversion,
    /// by qualified name (`pkg.mod.f`, `pkg.mod.Class.m`).
    pub async_names: &'a BTreeSet<String>,
}

static NOTHING_REACHED: BTreeSet<String> = BTreeSet::new();

/// Converts one module's text on its own.
pub fn convert(text: &str, newline: &str, path: &str, opts: &Options) -> Result<Converted, FileError> {
    let body = parse(text, path)?;
    convert_body(text, newline, path, body, opts, None, None, &NOTHING_REACHED)
}

/// A module analysed, with its seeds: what each round of the project's
/// colouring starts from.
pub struct Planned {
    pub info: analysis::ModuleInfo,
    seeds: Vec<passes::Seed>,
    diags: Vec<Diagnostic>,
    allowed: Option<BTreeSet<u32>>,
    standalone: bool,
    /// The boundaries the module's own analysis found (each round starts
    /// from them).
    boundaries: Vec<Option<String>>,
}

/// Analyses a module and collects its seeds. None: nothing to do in it
/// (no pass is interested and the project asks nothing of it).
pub fn plan(
    text: &str,
    path: &str,
    body: &[Stmt],
    opts: &Options,
    in_project: bool,
    analysed: Option<analysis::ModuleInfo>,
) -> Result<Option<Planned>, FileError> {
    let enabled = enabled(opts);
    let interested: Vec<&&dyn Pass> = enabled
        .iter()
        .filter(|p| p.interested(text, &opts.tables) || (in_project && p.interested_in_project(text, &opts.tables)))
        .collect();
    if interested.is_empty() && !in_project {
        return Ok(None);
    }
    if let Some(at) = too_deep(body) {
        return Err(FileError::Syntax {
            line: line_col(text, at).0,
            col: line_col(text, at).1,
            message: format!("expressions nested deeper than {MAX_DEPTH} levels (CPython cannot compile this either)"),
        });
    }
    // The analysis the project phase made of this very body, if any.
    let mut info = analysed.unwrap_or_else(|| analysis::analyse(body));
    mark_entry_points(&mut info, path, opts);
    for p in &interested {
        p.prepare(body, &mut info, &opts.tables, path);
    }
    let mut seeds = vec![];
    let mut diags: Vec<Diagnostic> = vec![];
    // Only passes whose text test passes look for seeds (the others find
    // none by construction; the test keeps their analyses off most files).
    for p in &interested {
        seeds.extend(p.seeds(body, &info, &opts.tables, &mut diags));
    }
    // A `__main__` block that may become the program's one async function
    // holds its seeds as async code. The passes that rewrite a call where
    // it stands (`sleep`, `files`) convert them there; the others build on
    // the function around the call (a client per function, a connection's
    // closing), so the block stays as it is and the functions it calls
    // stay sync, as for calls at module level.
    if let Some(s) = seeds
        .iter()
        .find(|s| !GUARD_PASSES.contains(&s.pass) && info.site_ctx(s.call).is_some_and(|c| c.main_guard_call()))
    {
        let (l, c) = crate::source::LineIndex::new(text).line_col(s.call.start());
        analysis::fix_guard(
            &mut info,
            format!(
                "it makes a blocking call (`{}` at {l}:{c}) that the `{}` pass converts only inside a function",
                s.what, s.pass
            ),
        );
    }
    // `check --fix`: only the call sites it found (offsets of their calls).
    let allowed: Option<BTreeSet<u32>> = opts.only.as_ref().map(|only| {
        let sites = only.get(path);
        let index = crate::source::LineIndex::new(text);
        info.calls
            .iter()
            .map(|c| c.range.start())
            .filter(|&at| sites.is_some_and(|s| s.contains(&index.line_col(at))))
            .map(u32::from)
            .collect()
    });
    if let Some(allowed) = &allowed {
        let groups: BTreeSet<String> =
            seeds.iter().filter(|s| allowed.contains(&s.call.start().into())).filter_map(|s| s.group.clone()).collect();
        seeds.retain(|s| {
            allowed.contains(&s.call.start().into()) || s.group.as_ref().is_some_and(|g| groups.contains(g))
        });
    }
    // Passes that rewrite code that is async already run without seeds.
    let standalone = interested.iter().any(|p| p.standalone());
    // A seed call's own method attribute (`self.session.get`) is known to
    // the pass that made it: it is not a loose reference to a method here.
    let seed_ends: HashMap<TextSize, Vec<TextSize>> = seeds.iter().fold(HashMap::new(), |mut m, s| {
        m.entry(s.call.start()).or_default().push(s.call.end());
        m
    });
    for v in info.loose_attrs.values_mut() {
        v.retain(|r| !seed_ends.get(&r.start()).is_some_and(|ends| ends.iter().any(|&e| r.end() < e)));
    }
    info.loose_attrs.retain(|_, v| !v.is_empty());
    let boundaries = info.funcs.iter().map(|f| f.boundary.clone()).collect();
    Ok(Some(Planned { info, seeds, diags, allowed, standalone, boundaries }))
}

/// Marks the module's functions that are installed commands' entry points
/// (`FuncInfo::entry`): module-level plain functions only (a generator or a
/// method named as an entry point converts as any other function would).
/// A decorator on one goes to its sync shell, so it is no boundary.
fn mark_entry_points(info: &mut analysis::ModuleInfo, path: &str, opts: &Options) {
    if opts.entry_points.is_empty() {
        return;
    }
    let module = analysis::project::module_name(std::path::Path::new(path)).0;
    for f in info.funcs.iter_mut() {
        if f.class.is_some() || f.foreign.is_some() || !f.exported || f.generator || f.is_async {
            continue;
        }
        if let Some(at) = opts.entry_points.get(&format!("{module}.{}", f.name)) {
            f.entry = Some(at.clone());
            if f.boundary.as_deref().is_some_and(|b| b.contains("is decorated with")) {
                f.boundary = None;
            }
        }
    }
}

/// The passes whose seeds convert at the top level of a `__main__` block
/// that becomes the entry point (see [`plan`]).
const GUARD_PASSES: &[&str] = &["sleep", "files"];

/// What a module's colouring tells the project (one round).
#[derive(Debug, Default, Clone)]
pub struct Round {
    /// Its functions that become async.
    pub async_fns: Vec<GlobalFn>,
    /// Functions of other modules it cannot await where it calls them.
    pub foreign_blocks: Vec<(GlobalFn, String)>,
    /// Its functions that would have become async but cannot, and why.
    pub removed: Vec<(GlobalFn, String)>,
}

struct Coloured {
    col: colour::Colouring,
    diags: Vec<Diagnostic>,
    round: Round,
}

use crate::analysis::project::GlobalFn;

/// Colours a planned module, given the project's facts of this round.
fn colour_planned(text: &str, path: &str, pl: &mut Planned, project: Option<&ProjectView>) -> Coloured {
    let info = &mut pl.info;
    for (f, b) in info.funcs.iter_mut().zip(&pl.boundaries) {
        f.boundary = b.clone();
    }
    let index = crate::source::LineIndex::new(text);
    let lc = |r: TextRange| {
        let (l, c) = index.line_col(r.start());
        format!("{l}:{c}")
    };
    let at = |r: TextRange| {
        let (l, c) = index.line_col(r.start());
        format!("{path}:{l}:{c}")
    };
    let mut seeds = pl.seeds.clone();
    let mut wanted = vec![];
    let mut round = Round::default();
    // Calls of other modules' functions that become async: seeds here.
    let mut foreign_seeds: HashMap<TextRange, GlobalFn> = HashMap::new();
    let mut run_calls = vec![];
    let mut iter_seeds: HashMap<TextRange, analysis::IterSite> = HashMap::new();
    // Calls through a variable (a decorator's wrapped function, a loop
    // variable) that may run other modules' coroutines: the call, those
    // functions, and whether it is a wrapper's call.
    let mut call_var_seeds: HashMap<TextRange, (Vec<GlobalFn>, bool)> = HashMap::new();
    if let Some(pr) = project {
        let st = pr.state;
        for f in info.funcs.iter_mut() {
            f.became_async = f.foreign.is_some_and(|g| !f.is_async && st.async_fns.contains(&g));
        }
        // (Also a call through a loop variable that may hold them.)
        for c in info.calls.iter().filter(|c| !c.targets.is_empty()) {
            let foreign: Vec<GlobalFn> = c
                .targets
                .iter()
                .filter(|&&t| info.funcs[t].became_async)
                .filter_map(|&t| info.funcs[t].foreign)
                .collect();
            // Through a loop variable, every function it may hold must be
            // a coroutine function once converted.
            let odd = (!c.wraps)
                .then(|| {
                    c.targets.iter().find(|&&t| {
                        let f = &info.funcs[t];
                        f.foreign.is_none() || !(f.became_async || f.is_async) || f.generator
                    })
                })
                .flatten();
            if !foreign.is_empty()
                && let Some(&o) = odd
            {
                for &g in &foreign {
                    round.foreign_blocks.push((
                        g,
                        format!(
                            "`{}` is called through a variable that may also hold `{}`, which does not become async ({})",
                            info_name(info, g),
                            info.funcs[o].name,
                            at(c.range)
                        ),
                    ));
                }
                continue;
            }
            if !foreign.is_empty() && c.ctx.awaitable() {
                call_var_seeds.insert(c.range, (foreign, c.wraps));
                seeds.push(passes::Seed {
                    call: c.range,
                    pass: "colour",
                    what: if c.wraps { "the wrapped function".into() } else { "the function variable".into() },
                    group: None,
                    veto: false,
                });
            }
        }
        for (id, f) in info.funcs.iter_mut().enumerate() {
            if f.foreign.is_some() || !f.exported {
                continue;
            }
            let g = GlobalFn { module: pr.module, start: f.range.start().into() };
            if f.boundary.is_none() {
                if let Some(why) = st.blocked.get(&g) {
                    f.boundary = Some(why.clone());
                } else if f.class.is_some()
                    && let Some(w) = st.loose_elsewhere(pr.module, &f.name)
                {
                    f.boundary =
                        Some(format!("`.{}` is used at {w}, where the tool cannot tell which object it is", f.name));
                }
            }
            if st.wanted.contains(&g) && !f.is_async {
                wanted.push(id);
            }
        }
        for c in &info.calls {
            let Some(t) = c.target else { continue };
            let f = &info.funcs[t];
            let Some(g) = f.foreign else { continue };
            if f.is_async || !st.async_fns.contains(&g) {
                continue;
            }
            if f.generator || matches!(c.iter, Some(analysis::IterSite::With(_))) {
                match c.iter {
                    Some(site) if c.ctx.func.is_some() && c.ctx.awaitable() => {
                        iter_seeds.insert(c.range, site);
                    }
                    _ => {
                        round.foreign_blocks.push((
                            g,
                            format!(
                                "`{}` is a generator whose result is used other than by a `for` loop ({})",
                                f.name,
                                at(c.range)
                            ),
                        ));
                        continue;
                    }
                }
            } else if c.ctx.main_guard_call() {
                run_calls.push(c.range);
                continue;
            } else if c.ctx.func.is_none() {
                round.foreign_blocks.push((g, format!("`{}` is called at module level ({})", f.name, at(c.range))));
                continue;
            }
            foreign_seeds.insert(c.range, g);
            seeds.push(passes::Seed { call: c.range, pass: "colour", what: f.name.clone(), group: None, veto: false });
        }
        for v in &info.value_refs {
            if let Some(g) = info.funcs[v.func].foreign
                && !info.funcs[v.func].is_async
                && st.async_fns.contains(&g)
            {
                round.foreign_blocks.push((g, format!("{} ({})", v.what, at(v.range))));
            }
        }
    }
    let mut diags = vec![];
    // Colour; a group with a blocked member is dropped whole, then again.
    let mut dropped: BTreeSet<String> = BTreeSet::new();
    // Why each blocked seed is blocked, over every round.
    let mut blocked: Vec<(TextRange, String)> = vec![];
    // Passes that convert nothing here: a call they cannot convert would
    // end up in an async function (see `Seed::veto`).
    let mut vetoed: BTreeMap<&'static str, TextRange> = BTreeMap::new();
    // The first seed of each call, and the calls of `blocked`.
    let mut seed_at: HashMap<TextRange, usize> = HashMap::new();
    for (i, s) in seeds.iter().enumerate() {
        seed_at.entry(s.call).or_insert(i);
    }
    let mut blocked_at: HashSet<TextRange> = HashSet::new();
    let mut col = loop {
        let active: Vec<TextRange> = seeds
            .iter()
            .filter(|s| !s.veto && !vetoed.contains_key(s.pass))
            .filter(|s| s.group.as_ref().is_none_or(|g| !dropped.contains(g)))
            .map(|s| s.call)
            .collect();
        let mut col = colour::colour(info, &active, &wanted, &lc);
        col.run_calls.extend(run_calls.iter().copied());
        col.entry = colour::one_loop(info, &col.run_calls);
        let mut more = false;
        for s in seeds.iter().filter(|s| s.veto) {
            let async_here = info.site_ctx(s.call).is_some_and(|c| col.async_at(info, &c));
            if !vetoed.contains_key(s.pass) && async_here {
                vetoed.insert(s.pass, s.call);
                more = true;
            }
        }
        for (r, why) in &col.seeds_blocked {
            if blocked_at.insert(*r) {
                blocked.push((*r, why.clone()));
            }
            if let Some(g) = seed_at.get(r).and_then(|&i| seeds[i].group.clone()) {
                more |= dropped.insert(g);
            }
        }
        if !more {
            break col;
        }
    };
    blocked.sort_by_key(|(r, _)| r.start());
    for (r, why) in &blocked {
        if let Some((gs, wraps)) = call_var_seeds.get(r) {
            for &g in gs {
                let how =
                    if *wraps { "is decorated with a wrapper that calls it" } else { "is called through a variable" };
                round.foreign_blocks.push((g, format!("`{}` {how} at {}, where {why}", info_name(info, g), at(*r))));
            }
            continue;
        }
        if let Some(&g) = foreign_seeds.get(r) {
            round.foreign_blocks.push((g, format!("`{}` is called at {}, where {why}", info_name(info, g), at(*r))));
            continue;
        }
        if let Some(s) = seed_at.get(r).map(|&i| &seeds[i]) {
            diags.push(Diagnostic {
                offset: r.start().into(),
                pass: s.pass,
                message: format!("`{}` left blocking: {why}", s.what),
            });
        }
    }
    for (pass, at) in &vetoed {
        let (l, c) = index.line_col(at.start());
        for s in seeds.iter().filter(|s| s.pass == *pass && !s.veto) {
            diags.push(Diagnostic {
                offset: s.call.start().into(),
                pass: s.pass,
                message: format!(
                    "`{}` left blocking: the call at {l}:{c}, which cannot be converted, would end up in an async function beside converted code",
                    s.what
                ),
            });
        }
    }
    for s in &seeds {
        if s.veto || vetoed.contains_key(s.pass) {
            continue;
        }
        if s.group.as_ref().is_some_and(|g| dropped.contains(g)) && !blocked_at.contains(&s.call) {
            diags.push(Diagnostic {
                offset: s.call.start().into(),
                pass: s.pass,
                message: format!(
                    "`{}` left blocking: another use of the same object cannot become async, and they convert all together or not at all",
                    s.what
                ),
            });
        }
    }
    // Calls of other modules' coroutines are awaited where allowed; a name
    // that came through `from m import *` is reported (a reader of this
    // module cannot see where the coroutine comes from).
    let mut starred: BTreeSet<(u32, String, String)> = BTreeSet::new();
    for (r, g) in foreign_seeds.iter() {
        if col.seeds_ok.contains(r)
            && let Some((f, (module, at))) =
                info.star_imported.iter().find(|(f, _)| info.funcs[**f].foreign == Some(*g))
        {
            starred.insert((*at, info.funcs[*f].name.clone(), module.clone()));
        }
    }
    for (at, name, module) in starred {
        diags.push(Diagnostic {
            offset: at,
            pass: "colour",
            message: format!(
                "`{name}` comes from `from {module} import *` and becomes async: its calls here are awaited"
            ),
        });
    }
    for (r, _) in foreign_seeds.iter() {
        if col.seeds_ok.remove(r) {
            match iter_seeds.get(r) {
                Some(site) => {
                    col.async_iter.insert(*site);
                }
                None => {
                    col.await_calls.insert(*r);
                }
            }
        }
    }
    for r in call_var_seeds.keys() {
        if col.seeds_ok.remove(r) {
            col.await_calls.insert(*r);
        }
    }
    // The seeds at the top level of a `__main__` block that becomes the
    // entry point convert with the rest (see `plan`).
    if col.entry {
        for s in &seeds {
            if GUARD_PASSES.contains(&s.pass)
                && !s.veto
                && !vetoed.contains_key(s.pass)
                && s.group.as_ref().is_none_or(|g| !dropped.contains(g))
                && info.site_ctx(s.call).is_some_and(|c| c.main_guard_call())
            {
                col.seeds_ok.insert(s.call);
            }
        }
    }
    if let Some(pr) = project {
        // Another module's entry point called from code that is async here:
        // it must stay sync (its shell would start a second event loop).
        for c in &info.calls {
            if let Some(t) = c.target
                && let Some(g) = info.funcs[t].foreign
                && pr.state.entry_fns.contains(&g)
                && let Some(caller) = c.ctx.func
                && col.is_async(info, caller)
            {
                round.foreign_blocks.push((
                    g,
                    format!(
                        "`{}` is an installed command's entry point and is also called from `{}`, which is async ({})",
                        info.funcs[t].name,
                        info.funcs[caller].name,
                        at(c.range)
                    ),
                ));
            }
        }
        for (id, f) in info.funcs.iter().enumerate() {
            if f.foreign.is_none() && f.exported && !f.is_async && f.entry.is_none() && col.is_async(info, id) {
                round.async_fns.push(GlobalFn { module: pr.module, start: f.range.start().into() });
            }
        }
        for (f, why) in &col.removed {
            if info.funcs[*f].foreign.is_none() && info.funcs[*f].exported {
                round
                    .removed
                    .push((GlobalFn { module: pr.module, start: info.funcs[*f].range.start().into() }, why.clone()));
            }
        }
    }
    Coloured { col, diags, round }
}

fn info_name(info: &analysis::ModuleInfo, g: GlobalFn) -> String {
    info.funcs.iter().find(|f| f.foreign == Some(g)).map(|f| f.name.clone()).unwrap_or_default()
}

/// One round of the project's colouring for a planned module.
pub fn colour_round(text: &str, path: &str, pl: &mut Planned, project: &ProjectView) -> Round {
    colour_planned(text, path, pl, Some(project)).round
}

/// Converts one parsed module. `reached`: the names other modules of the
/// run take from it ([`crate::reach`]).
#[allow(clippy::too_many_arguments)]
pub fn convert_body(
    text: &str,
    newline: &str,
    path: &str,
    body: Vec<Stmt>,
    opts: &Options,
    project: Option<&ProjectView>,
    analysed: Option<analysis::ModuleInfo>,
    reached: &BTreeSet<String>,
) -> Result<Converted, FileError> {
    match plan(text, path, &body, opts, project.is_some(), analysed)? {
        None => Ok(Converted { output: None, diagnostics: vec![], edits: 0, lines: vec![] }),
        Some(pl) => convert_planned(text, newline, path, body, opts, project, pl, reached),
    }
}

/// Converts a planned module with the project's final facts.
#[allow(clippy::too_many_arguments)]
pub fn convert_planned(
    text: &str,
    newline: &str,
    path: &str,
    body: Vec<Stmt>,
    opts: &Options,
    project: Option<&ProjectView>,
    mut pl: Planned,
    reached: &BTreeSet<String>,
) -> Result<Converted, FileError> {
    let enabled = enabled(opts);
    let unchanged = |diagnostics| Ok(Converted { output: None, diagnostics, edits: 0, lines: vec![] });
    let mut diags = std::mem::take(&mut pl.diags);
    let standalone = pl.standalone;
    let calls_project = project.is_some_and(|pr| {
        pl.info.funcs.iter().any(|f| f.foreign.is_some_and(|g| !f.is_async && pr.state.async_fns.contains(&g)))
            || pl.info.funcs.iter().any(|f| {
                f.exported && f.foreign.is_none() && {
                    let g = GlobalFn { module: pr.module, start: f.range.start().into() };
                    pr.state.wanted.contains(&g)
                }
            })
    });
    if pl.seeds.is_empty() && !standalone && !calls_project {
        return unchanged(locate(text, diags));
    }
    let Coloured { col, diags: mut more, .. } = colour_planned(text, path, &mut pl, project);
    diags.append(&mut more);
    let info = &pl.info;
    let index = crate::source::LineIndex::new(text);
    let edits = col.seeds_ok.len() + col.async_defs.len() + col.await_calls.len() + col.run_calls.len();
    if edits == 0 && !standalone {
        return unchanged(locate(text, diags));
    }
    let module = match project {
        Some(pr) => pr.name.to_string(),
        None => analysis::project::module_name(std::path::Path::new(path)).0,
    };
    let mut async_names = async_qualnames(info, &col, &module);
    if let Some(pr) = project {
        async_names.extend(pr.async_names.iter().cloned());
    }
    let mut cx = PassCx {
        info,
        colour: &col,
        tables: &opts.tables,
        source: text,
        target: opts.target,
        imports: BTreeSet::new(),
        diagnostics: vec![],
        sites: vec![],
        allowed: pl.allowed.as_ref(),
        module: &module,
        async_qualnames: &async_names,
        pytest_auto: opts.pytest_auto,
        reached,
    };
    let mut new_body = body.clone();
    for p in &enabled {
        new_body = p.run(new_body, &mut cx);
    }
    diags.append(&mut cx.diagnostics);
    let new_body = match crate::imports::add_imports(new_body, &cx.imports) {
        Ok(b) => b,
        Err((offset, msg)) => {
            diags.push(Diagnostic { offset, pass: "imports", message: format!("{msg}; file left unchanged") });
            return unchanged(locate(text, diags));
        }
    };
    if new_body == body {
        return unchanged(locate(text, diags));
    }
    if opts.target < TargetVersion::Py311
        && let Some(at) = crate::grammar::nested_async_comprehension(&new_body)
    {
        diags.push(Diagnostic {
            offset: at.into(),
            pass: "grammar",
            message: "the conversion would put an `await` or `async for` in a comprehension nested in another, which Python before 3.11 rejects (see --target-version); file left unchanged".into(),
        });
        return unchanged(locate(text, diags));
    }
    let out = emit_and_verify(text, newline, path, &body, new_body)?;
    for lost in lost_comments(text, &out) {
        diags.push(Diagnostic {
            offset: lost.0,
            pass: "emit",
            message: format!("comment `{}` was lost in a rewritten statement", lost.1),
        });
    }
    let mut sites: Vec<TextRange> =
        col.seeds_ok.iter().chain(&col.await_calls).chain(&col.run_calls).chain(&cx.sites).copied().collect();
    sites.extend(col.async_defs.iter().map(|&s| TextRange::empty(s.into())));
    let mut lines: Vec<(usize, usize)> =
        sites.iter().map(|r| (index.line_col(r.start()).0, index.line_col(r.end()).0)).collect();
    lines.sort();
    lines.dedup();
    let edits = if edits == 0 { cx.sites.len() } else { edits };
    Ok(Converted { output: if out == text { None } else { Some(out) }, diagnostics: locate(text, diags), edits, lines })
}

/// The coroutine functions of the module after the conversion (async, not
/// generators), qualified by `module`: `module.f`, `module.Class.m`. The
/// project-wide colouring will add other modules' functions.
pub fn async_qualnames(info: &analysis::ModuleInfo, col: &colour::Colouring, module: &str) -> BTreeSet<String> {
    info.funcs
        .iter()
        .enumerate()
        .filter(|(f, fi)| fi.exported && !fi.generator && fi.entry.is_none() && col.is_async(info, *f))
        .map(|(_, fi)| match fi.class {
            Some(c) => format!("{module}.{}.{}", info.classes[c].name, fi.name),
            None => format!("{module}.{}", fi.name),
        })
        .collect()
}

/// Emits `new_body` over the original text losslessly and checks that the
/// result parses back to `new_body`. Public so tests can drive the emitter
/// with any tree.
pub fn emit_and_verify(
    text: &str,
    newline: &str,
    path: &str,
    body: &[Stmt],
    new_body: Vec<Stmt>,
) -> Result<String, FileError> {
    let mut em = Emitter::new(text, newline, body);
    let out = em.emit_module(body, &new_body).map_err(|e| {
        if e.refused {
            let (line, col) = line_col(text, e.offset);
            FileError::Refused { line, col, message: e.message }
        } else {
            internal(text, e.offset, e.message)
        }
    })?;
    if let Some((line, message)) = crate::emit::layout::cpython_reads_otherwise(text, &out) {
        return Err(FileError::Refused { line, col: 1, message: message.into() });
    }
    verify(text, &out, new_body, path)?;
    Ok(out)
}

/// The last line of defence: the emitted text must parse to the intended tree.
fn verify(text: &str, out: &str, intended: Vec<Stmt>, path: &str) -> Result<(), FileError> {
    let reparsed = match parse(out, path) {
        Ok(b) => b,
        Err(FileError::Syntax { line, col, message }) => {
            if let Some(dir) = std::env::var_os("AWAITIFY_DEBUG_EMIT") {
                let _ = std::fs::write(std::path::Path::new(&dir).join("emitted.py"), out);
            }
            return Err(FileError::Internal {
                line,
                col,
                message: format!("the converted text does not parse ({message})"),
            });
        }
        Err(e) => return Err(e),
    };
    let (reparsed, intended) = (erase_ranges(reparsed), erase_ranges(intended));
    if reparsed != intended {
        if let Some(dir) = std::env::var_os("AWAITIFY_DEBUG_EMIT") {
            let dir = std::path::Path::new(&dir);
            let _ = std::fs::write(dir.join("emitted.py"), out);
            let _ = std::fs::write(dir.join("reparsed.txt"), format!("{reparsed:#?}"));
            let _ = std::fs::write(dir.join("intended.txt"), format!("{intended:#?}"));
        }
        return Err(internal(text, TextSize::default(), "the converted text does not mean what the passes intended"));
    }
    Ok(())
}

/// Deeper nesting than CPython compiles is refused (the emitter's cost
/// grows with depth squared).
pub const MAX_DEPTH: usize = 1000;

fn too_deep(body: &[Stmt]) -> Option<TextSize> {
    use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
    use rustpython_ast::{Expr, Ranged};
    struct D {
        depth: usize,
        hit: Option<TextSize>,
    }
    impl<'a> Visitor<'a> for D {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if self.hit.is_none() {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    self.hit = Some(s.range().start());
                } else {
                    walk_stmt(self, s);
                }
                self.depth -= 1;
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if self.hit.is_none() {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    self.hit = Some(e.range().start());
                } else {
                    walk_expr(self, e);
                }
                self.depth -= 1;
            }
        }
    }
    let mut d = D { depth: 0, hit: None };
    d.visit_body(body);
    d.hit
}

fn comments(text: &str) -> Vec<(u32, String)> {
    crate::syntax::parse::comments(text).into_iter().map(|(at, c)| (u32::from(at), c)).collect()
}

/// Comments of `before` that are missing from `after` (as a multiset).
pub fn lost_comments(before: &str, after: &str) -> Vec<(u32, String)> {
    let mut remaining: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (_, c) in comments(after) {
        *remaining.entry(c).or_default() += 1;
    }
    let mut lost = vec![];
    for (at, c) in comments(before) {
        match remaining.get_mut(&c) {
            Some(n) if *n > 0 => *n -= 1,
            _ => lost.push((at, c)),
        }
    }
    lost
}

fn locate(text: &str, mut diags: Vec<Diagnostic>) -> Vec<Located> {
    diags.sort();
    diags.dedup();
    // One diagnostic per call left blocking: a pass's own reason replaces
    // the `to_thread` pass's scan (`passes::to_thread::SCANNED`).
    let scanned = |d: &Diagnostic| d.pass == "to_thread" && d.message.ends_with(crate::passes::to_thread::SCANNED);
    let said: std::collections::HashSet<u32> =
        diags.iter().filter(|d| !scanned(d) && d.message.contains("left blocking")).map(|d| d.offset).collect();
    diags.retain(|d| !(scanned(d) && said.contains(&d.offset)));
    if diags.is_empty() {
        return vec![];
    }
    let index = crate::source::LineIndex::new(text);
    diags
        .into_iter()
        .map(|d| {
            let (line, col) = index.line_col(TextSize::from(d.offset));
            Located { line, col, pass: d.pass.to_string(), message: d.message }
        })
        .collect()
}
