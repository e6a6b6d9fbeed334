//! Async colouring within a module: which functions become `async def`,
//! which call sites get `await`, which entry-point calls get `asyncio.run`.
//!
//! Start from the functions that contain a seed (a call a pass will turn into
//! an awaitable), close upwards over their callers, then remove, to a
//! fixpoint, every function that cannot be async: a boundary (special method,
//! unknown decorator, generator, override of an outside base), one used as a
//! value or through an unresolved attribute, one called where no `await` can
//! go (lambda, generator expression, class body, module level outside the
//! `__main__` guard) or from a function that stays sync. A removed function
//! keeps its seeds sync, and each such seed gets a diagnostic with the chain.
//! A function `forced` by a user rule (`FuncInfo::forced`) counts as seeded
//! and is never removed.

use super::{FuncId, ModuleInfo};
use rustpython_ast::text_size::TextRange;
use std::collections::{BTreeMap, BTreeSet, HashSet};

#[derive(Debug, Default)]
pub struct Colouring {
    /// Start offsets of defs that become `async def`.
    pub async_defs: HashSet<u32>,
    /// Call sites that get `await`.
    pub await_calls: HashSet<TextRange>,
    /// Entry-point call sites that get wrapped in `asyncio.run(...)`.
    pub run_calls: HashSet<TextRange>,
    /// Seeds that may be converted (their function is or becomes async).
    pub seeds_ok: HashSet<TextRange>,
    /// Seeds left sync, with the reason.
    pub seeds_blocked: Vec<(TextRange, String)>,
    /// Where an async generator is iterated: `for` statements that become
    /// `async for`, comprehension iterables whose generator becomes async,
    /// `yield from` statements that become `async for ...: yield ...`.
    pub async_iter: HashSet<crate::analysis::IterSite>,
    /// Functions that would have become async but cannot, with the chain
    /// that tells why (for the functions other modules asked for).
    pub removed: Vec<(FuncId, String)>,
    /// The `__main__` block becomes one async function run by one
    /// `asyncio.run(main())` (see [`one_loop`]): its top-level code is
    /// async code, its entry-point calls are awaited, and the seeds the
    /// passes convert there (`time.sleep`, `open`) are decided with the
    /// rest, so a second run has nothing left to do.
    pub entry: bool,
}

#[derive(Clone, Debug)]
enum Why {
    Boundary(String),
    CalledFrom { caller: FuncId, site: TextRange },
    Site(String, TextRange),
}

/// Who calls whom, indexed once per colouring: the fixpoint asks these
/// questions of every function in every round, and a scan of all the
/// module's calls each time made big modules quadratic.
struct Index {
    /// Per function: the calls that may run it (`ModuleInfo::calls_of`), in order.
    calls_of: Vec<Vec<usize>>,
    /// Per function: the calls through a variable that may hold it.
    via_var: Vec<Vec<usize>>,
    /// Per function: the calls made in it (`ctx.func`), in order.
    made_in: Vec<Vec<usize>>,
    /// Per function: the override groups that hold it, in order.
    groups_of: Vec<Vec<usize>>,
    /// Per function: its first reference as a value.
    value_ref: Vec<Option<usize>>,
}

impl Index {
    fn new(m: &ModuleInfo) -> Index {
        let n = m.funcs.len();
        let mut ix = Index {
            calls_of: vec![vec![]; n],
            via_var: vec![vec![]; n],
            made_in: vec![vec![]; n],
            groups_of: vec![vec![]; n],
            value_ref: vec![None; n],
        };
        fn push(v: &mut [Vec<usize>], f: FuncId, i: usize) {
            if let Some(list) = v.get_mut(f)
                && list.last() != Some(&i)
            {
                list.push(i);
            }
        }
        for (i, c) in m.calls.iter().enumerate() {
            if let Some(t) = c.target {
                push(&mut ix.calls_of, t, i);
            }
            for &t in &c.targets {
                push(&mut ix.calls_of, t, i);
                push(&mut ix.via_var, t, i);
            }
            if let Some(f) = c.ctx.func {
                push(&mut ix.made_in, f, i);
            }
        }
        for (g, members) in m.groups.iter().enumerate() {
            for &f in members {
                push(&mut ix.groups_of, f, g);
            }
        }
        for (i, v) in m.value_refs.iter().enumerate() {
            if let Some(slot) = ix.value_ref.get_mut(v.func)
                && slot.is_none()
            {
                *slot = Some(i);
            }
        }
        ix
    }
    fn calls_of<'m>(&'m self, m: &'m ModuleInfo, f: FuncId) -> impl Iterator<Item = &'m super::CallSite> + 'm {
        self.calls_of[f].iter().map(move |&i| &m.calls[i])
    }
    fn via_var<'m>(&'m self, m: &'m ModuleInfo, f: FuncId) -> impl Iterator<Item = &'m super::CallSite> + 'm {
        self.via_var[f].iter().map(move |&i| &m.calls[i])
    }
    fn made_in<'m>(&'m self, m: &'m ModuleInfo, f: FuncId) -> impl Iterator<Item = &'m super::CallSite> + 'm {
        self.made_in[f].iter().map(move |&i| &m.calls[i])
    }
    /// Same as `ModuleInfo::group_mates`.
    fn mates<'m>(&'m self, m: &'m ModuleInfo, f: FuncId) -> impl Iterator<Item = FuncId> + 'm {
        self.groups_of[f].iter().flat_map(move |&g| m.groups[g].iter().copied()).filter(move |&g| g != f)
    }
}

impl Colouring {
    /// Whether function `f` is async after the conversion (it was, or it
    /// becomes so).
    pub fn is_async(&self, m: &ModuleInfo, f: FuncId) -> bool {
        m.funcs[f].is_async || self.async_defs.contains(&m.funcs[f].range.start().into())
    }

    /// Whether code at `ctx` runs in async code after the conversion, where
    /// an `await` can go: an async function's body, or the top level of a
    /// `__main__` block that becomes the entry point.
    pub fn async_at(&self, m: &ModuleInfo, ctx: &super::Ctx) -> bool {
        match ctx.func {
            Some(f) => ctx.awaitable() && self.is_async(m, f),
            None => self.entry && ctx.main_guard_call(),
        }
    }
}

/// Whether the `__main__` block must run in one event loop, given the
/// entry-point calls (`run_calls`) that run coroutines: more than one of
/// them is in the block, or one is inside a loop there (each
/// `asyncio.run` would start and close a loop of its own, and objects
/// bound to the first, such as an HTTP client's connections, fail in the
/// next). A block that cannot be one async function
/// (`ModuleInfo::main_guard_fixed`) has no entry-point calls then.
pub fn one_loop<'r>(m: &ModuleInfo, run_calls: impl IntoIterator<Item = &'r TextRange>) -> bool {
    let Some(guard) = m.main_guard else { return false };
    let runs: Vec<&TextRange> = run_calls.into_iter().filter(|r| guard.contains_range(**r)).collect();
    runs.len() > 1 || runs.iter().any(|r| m.guard_loops.iter().any(|l| l.contains_range(**r)))
}

/// `wanted`: functions that should become async though they hold no seed
/// (another module's class that overrides them became async, see
/// `crate::project`); they are removed like any other when they cannot.
pub fn colour(
    m: &ModuleInfo,
    seeds: &[TextRange],
    wanted: &[FuncId],
    line_col: &dyn Fn(TextRange) -> String,
) -> Colouring {
    let mut out = Colouring::default();
    // Seeds per function; seeds outside an awaitable context stay sync.
    let mut seeded: BTreeMap<FuncId, Vec<TextRange>> = BTreeMap::new();
    for &f in wanted {
        seeded.entry(f).or_default();
    }
    for &s in seeds {
        let Some(ctx) = m.site_ctx(s) else { continue };
        match ctx.func {
            Some(f) if ctx.awaitable() => seeded.entry(f).or_default().push(s),
            Some(_) => out.seeds_blocked.push((
                s,
                "it is inside a lambda, a generator expression or a class body, where `await` cannot go".into(),
            )),
            None => {}
        }
    }
    let already = |f: FuncId| m.funcs[f].is_async || m.funcs[f].became_async;
    let forced = m.funcs.iter().enumerate().filter(|(_, f)| f.forced).map(|(i, _)| i);
    let ix = Index::new(m);
    let mut a = closure_in(m, &ix, seeded.keys().copied().chain(forced));
    let mut why: BTreeMap<FuncId, Why> = BTreeMap::new();
    // Rounds: each removes, all at once, the functions of `a` that cannot
    // or need not be async given `a` as the round found it. A function
    // whose facts did not change (none of the functions it looks at left
    // `a`) gets the same answer as in the last round, so only the
    // dependents of the last round's removals are looked at again.
    let mut todo: BTreeSet<FuncId> = a.clone();
    loop {
        let mut removed = vec![];
        for &f in &todo {
            if !a.contains(&f) {
                continue;
            }
            let info = &m.funcs[f];
            if info.forced {
                continue;
            }
            let mut reason: Option<Why> = info.boundary.clone().map(Why::Boundary);
            // An entry point keeps a sync shell under its name: used as a
            // value or called from sync code, it is that shell. A call from
            // async code would start an event loop inside a running one,
            // and a module decorator that wraps it would wrap the shell.
            if reason.is_none() && info.entry.is_some() {
                let from_async =
                    ix.calls_of(m, f).find(|c| c.ctx.func.is_some_and(|g| already(g) || a.contains(&g)) || c.wraps);
                let from_async = from_async.or_else(|| ix.via_var(m, f).next());
                if let Some(c) = from_async {
                    reason = Some(Why::Site(
                        match c.ctx.func {
                            _ if !c.targets.is_empty() && !c.wraps => format!(
                                "`{}` is an installed command's entry point and is called through a variable",
                                info.name
                            ),
                            Some(g) if !c.wraps => format!(
                                "`{}` is an installed command's entry point and is also called from `{}`, which is async",
                                info.name, m.funcs[g].name
                            ),
                            _ => format!(
                                "`{}` is an installed command's entry point and is wrapped by a decorator of this module",
                                info.name
                            ),
                        },
                        c.range,
                    ));
                }
            }
            let shell = info.entry.is_some();
            if reason.is_none()
                && !shell
                && let Some(v) = ix.value_ref[f].map(|i| &m.value_refs[i])
            {
                reason = Some(Why::Site(v.what.clone(), v.range));
            }
            if reason.is_none()
                && info.class.is_some()
                && let Some(&r) = m.loose_attrs.get(&info.name).and_then(|v| v.first())
            {
                reason = Some(Why::Site(
                    format!("`.{}` is used where the tool cannot tell which object it is", info.name),
                    r,
                ));
            }
            // Called through a loop variable with other functions: all of them
            // become async together, or none does.
            if reason.is_none() {
                for c in ix.via_var(m, f) {
                    if let Some(&o) = c.targets.iter().find(|&&o| !(already(o) || a.contains(&o))) {
                        reason = Some(Why::Site(
                            format!(
                                "`{}` is called through a variable that may also hold `{}`, which stays sync",
                                info.name, m.funcs[o].name
                            ),
                            c.range,
                        ));
                        break;
                    }
                }
            }
            // Methods that override one another: all async, or none.
            if reason.is_none()
                && let Some(o) =
                    ix.mates(m, f).find(|&o| m.funcs[o].foreign.is_none() && !(already(o) || a.contains(&o)))
            {
                reason = Some(Why::Site(
                    format!(
                        "`{}` overrides, or is overridden by, `{}`, which stays sync",
                        qualified(m, f),
                        qualified(m, o)
                    ),
                    m.funcs[o].range,
                ));
            }
            // A generator becomes an async generator: only loops may use it.
            if reason.is_none()
                && info.generator
                && let Some(c) = ix.calls_of(m, f).find(|c| c.iter.is_none())
            {
                reason = Some(Why::Site(
                    format!("`{}` is a generator whose result is used other than by a `for` loop", info.name),
                    c.range,
                ));
            }
            // A wrapper is async exactly when every function it wraps is.
            if reason.is_none() {
                for c in ix.made_in(m, f).filter(|c| c.wraps) {
                    if let Some(&o) = c.targets.iter().find(|&&o| !(already(o) || a.contains(&o))) {
                        reason = Some(Why::Site(
                            format!("`{}` wraps `{}`, which stays sync", info.name, m.funcs[o].name),
                            c.range,
                        ));
                        break;
                    }
                }
            }
            if reason.is_none() && !shell {
                for c in ix.calls_of(m, f) {
                    if c.ctx.main_guard_call() {
                        continue;
                    }
                    match c.ctx.func {
                        Some(g) if c.ctx.awaitable() => {
                            if !(already(g) || a.contains(&g)) {
                                reason = Some(Why::CalledFrom { caller: g, site: c.range });
                                break;
                            }
                        }
                        Some(_) => {
                            reason = Some(Why::Site(
                                format!(
                                    "`{}` is called inside a lambda, generator expression or class body",
                                    info.name
                                ),
                                c.range,
                            ));
                            break;
                        }
                        None => {
                            let what = match &m.main_guard_fixed {
                                Some(why) if m.main_guard.is_some_and(|g| g.contains_range(c.range)) => format!(
                                    "`{}` is called in the `__main__` block, which cannot run in one event loop: {why}",
                                    info.name
                                ),
                                _ => format!("`{}` is called at module level", info.name),
                            };
                            reason = Some(Why::Site(what, c.range));
                            break;
                        }
                    }
                }
            }
            // Still needed? It must hold a seed or await a function in `a`.
            let needed = seeded.contains_key(&f)
                || ix.mates(m, f).any(|o| a.contains(&o))
                || ix.made_in(m, f).any(|c| {
                    let awaited = |t: &FuncId| a.contains(t) && m.funcs[*t].entry.is_none();
                    c.ctx.awaitable()
                        && (c.target.as_ref().is_some_and(awaited)
                            || (!c.targets.is_empty() && c.targets.iter().any(awaited)))
                });
            if let Some(r) = reason {
                why.insert(f, r);
                removed.push(f);
            } else if !needed {
                removed.push(f);
            }
        }
        if removed.is_empty() {
            break;
        }
        for f in &removed {
            a.remove(f);
        }
        // What looks at a removed function: its override mates, the
        // functions that call it (their `needed`), the functions it calls
        // (their callers), and the functions that share a variable with it
        // or are wrapped with it.
        todo.clear();
        for &r in &removed {
            todo.extend(ix.mates(m, r));
            for c in ix.calls_of(m, r) {
                todo.extend(c.ctx.func);
            }
            for c in ix.made_in(m, r) {
                todo.extend(c.target);
                todo.extend(c.targets.iter().copied());
            }
            for c in ix.via_var(m, r) {
                todo.extend(c.targets.iter().copied());
                todo.extend(c.ctx.func);
            }
        }
    }
    let is_async = |f: FuncId| already(f) || a.contains(&f);
    for &f in &a {
        out.async_defs.insert(m.funcs[f].range.start().into());
    }
    for c in m.calls.iter().filter(|c| !c.pooled) {
        let hit = match c.target {
            // An entry point's calls run its sync shell.
            Some(t) if m.funcs[t].entry.is_some() => false,
            Some(t) => a.contains(&t),
            None => {
                !c.targets.is_empty()
                    && c.targets.iter().all(|t| a.contains(t) || already(*t))
                    && c.targets.iter().any(|t| a.contains(t))
            }
        };
        if !hit {
            continue;
        }
        if let Some(site @ crate::analysis::IterSite::With(_)) = c.iter {
            if c.ctx.func.is_some_and(is_async) && c.ctx.awaitable() {
                out.async_iter.insert(site);
            }
            continue;
        }
        let generator = c.target.is_some_and(|t| m.funcs[t].generator);
        if generator {
            if let Some(site) = c.iter {
                out.async_iter.insert(site);
            }
        } else if c.ctx.main_guard_call() {
            out.run_calls.insert(c.range);
        } else if c.ctx.func.is_some_and(is_async) && c.ctx.awaitable() {
            out.await_calls.insert(c.range);
        }
    }
    out.entry = one_loop(m, &out.run_calls);
    for (f, sites) in &seeded {
        for &s in sites {
            if is_async(*f) {
                out.seeds_ok.insert(s);
            } else {
                out.seeds_blocked.push((s, chain(m, *f, &why, line_col)));
            }
        }
    }
    out.seeds_blocked.sort_by_key(|(r, _)| r.start());
    for &f in why.keys() {
        out.removed.push((f, chain(m, f, &why, line_col)));
    }
    out
}

/// The functions that would have to become async for these to: the seeded
/// functions and, transitively, their callers (boundaries not yet applied).
pub fn closure(m: &ModuleInfo, seeded: impl Iterator<Item = FuncId>) -> BTreeSet<FuncId> {
    closure_in(m, &Index::new(m), seeded)
}

fn closure_in(m: &ModuleInfo, ix: &Index, seeded: impl Iterator<Item = FuncId>) -> BTreeSet<FuncId> {
    let mut a: BTreeSet<FuncId> = seeded.filter(|&f| !m.funcs[f].is_async).collect();
    let mut work: Vec<FuncId> = a.iter().copied().collect();
    while let Some(f) = work.pop() {
        for g in ix.mates(m, f) {
            if m.funcs[g].foreign.is_none() && !m.funcs[g].is_async && a.insert(g) {
                work.push(g);
            }
        }
        // An entry point's callers call its sync shell.
        if m.funcs[f].entry.is_some() {
            continue;
        }
        for c in ix.calls_of(m, f) {
            if let Some(g) = c.ctx.func
                && !m.funcs[g].is_async
                && a.insert(g)
            {
                work.push(g);
            }
        }
    }
    a
}

/// `Class.method`, or the function's name.
fn qualified(m: &ModuleInfo, f: FuncId) -> String {
    match m.funcs[f].class {
        Some(c) => format!("{}.{}", m.classes[c].name, m.funcs[f].name),
        None => m.funcs[f].name.clone(),
    }
}

fn chain(m: &ModuleInfo, f: FuncId, why: &BTreeMap<FuncId, Why>, line_col: &dyn Fn(TextRange) -> String) -> String {
    let mut parts = vec![];
    let mut cur = f;
    let mut seen = HashSet::new();
    while seen.insert(cur) {
        let name = &m.funcs[cur].name;
        match why.get(&cur) {
            Some(Why::Boundary(b)) => {
                parts.push(b.clone());
                break;
            }
            Some(Why::Site(w, r)) => {
                parts.push(format!("{w} ({})", line_col(*r)));
                break;
            }
            Some(Why::CalledFrom { caller, site }) => {
                parts.push(format!("`{name}` is called by `{}` ({})", m.funcs[*caller].name, line_col(*site)));
                cur = *caller;
            }
            None => {
                parts.push(format!("`{name}` stays sync"));
                break;
            }
        }
    }
    format!("`{}` cannot become async: {}", m.funcs[f].name, parts.join(" -> "))
}
