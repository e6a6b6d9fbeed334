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
use rustpython_parser::text_size::TextRange;
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
}

#[derive(Clone, Debug)]
enum Why {
    Boundary(String),
    CalledFrom { caller: FuncId, site: TextRange },
    Site(String, TextRange),
}

impl Colouring {
    /// Whether function `f` is async after the conversion (it was, or it
    /// becomes so).
    pub fn is_async(&self, m: &ModuleInfo, f: FuncId) -> bool {
        m.funcs[f].is_async || self.async_defs.contains(&m.funcs[f].range.start().into())
    }
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
    let mut a = closure(m, seeded.keys().copied().chain(forced));
    let mut why: BTreeMap<FuncId, Why> = BTreeMap::new();
    loop {
        let mut removed = vec![];
        for &f in &a {
            let info = &m.funcs[f];
            if info.forced {
                continue;
            }
            let mut reason: Option<Why> = info.boundary.clone().map(Why::Boundary);
            if reason.is_none()
                && let Some(v) = m.value_refs.iter().find(|v| v.func == f)
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
                for c in m.calls.iter().filter(|c| c.targets.contains(&f)) {
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
                    m.group_mates(f).find(|&o| m.funcs[o].foreign.is_none() && !(already(o) || a.contains(&o)))
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
                && let Some(c) = m.calls_of(f).find(|c| c.iter.is_none())
            {
                reason = Some(Why::Site(
                    format!("`{}` is a generator whose result is used other than by a `for` loop", info.name),
                    c.range,
                ));
            }
            // A wrapper is async exactly when every function it wraps is.
            if reason.is_none() {
                for c in m.calls.iter().filter(|c| c.wraps && c.ctx.func == Some(f)) {
                    if let Some(&o) = c.targets.iter().find(|&&o| !(already(o) || a.contains(&o))) {
                        reason = Some(Why::Site(
                            format!("`{}` wraps `{}`, which stays sync", info.name, m.funcs[o].name),
                            c.range,
                        ));
                        break;
                    }
                }
            }
            if reason.is_none() {
                for c in m.calls_of(f) {
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
                            reason = Some(Why::Site(format!("`{}` is called at module level", info.name), c.range));
                            break;
                        }
                    }
                }
            }
            // Still needed? It must hold a seed or await a function in `a`.
            let needed = seeded.contains_key(&f)
                || m.group_mates(f).any(|o| a.contains(&o))
                || m.calls.iter().any(|c| {
                    c.ctx.func == Some(f)
                        && c.ctx.awaitable()
                        && (c.target.is_some_and(|t| a.contains(&t))
                            || (!c.targets.is_empty() && c.targets.iter().any(|t| a.contains(t))))
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
        for f in removed {
            a.remove(&f);
        }
    }
    let is_async = |f: FuncId| already(f) || a.contains(&f);
    for &f in &a {
        out.async_defs.insert(m.funcs[f].range.start().into());
    }
    for c in m.calls.iter().filter(|c| !c.pooled) {
        let hit = match c.target {
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
    let mut a: BTreeSet<FuncId> = seeded.filter(|&f| !m.funcs[f].is_async).collect();
    let mut work: Vec<FuncId> = a.iter().copied().collect();
    while let Some(f) = work.pop() {
        for g in m.group_mates(f) {
            if m.funcs[g].foreign.is_none() && !m.funcs[g].is_async && a.insert(g) {
                work.push(g);
            }
        }
        for c in m.calls_of(f) {
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
