//! The project-wide colouring: every module of a run is coloured with the
//! facts of the others, to a fixpoint.
//!
//! A module's colouring ([`crate::engine::colour_round`]) takes from the
//! [`State`] which functions of other modules become async (their calls here
//! are seeds: awaited where the caller can be async), which of its own
//! functions other modules cannot await (they stay sync, with the chain as
//! the reason) and which of its methods must become async because a method
//! they override, or that overrides them, does (override groups: a call
//! through the base class may run either, so all are async or none is). It
//! gives back the functions that are async after the conversion, the calls
//! of other modules' functions it cannot await, and the functions it had to
//! keep sync.
//!
//! The fixpoint: with the blocked set fixed, rounds start from nothing async
//! and grow to the least fixpoint; when a round finds new blocked
//! functions, they are added and the rounds start over. Blocked functions
//! only ever grow, so this ends; a round limit guards against passes whose
//! vetoes make a round shrink what the next one grows, and then every
//! function another module calls stays sync.

use crate::analysis::project::{GlobalFn, ProjectIndex};
use crate::engine::{Planned, ProjectView, Round, colour_round};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct State {
    /// Functions that are async after the conversion.
    pub async_fns: BTreeSet<GlobalFn>,
    /// Functions that must stay sync, and why.
    pub blocked: BTreeMap<GlobalFn, String>,
    /// Functions that must become async though they hold no seed.
    pub wanted: BTreeSet<GlobalFn>,
    /// Attribute names used where the object is unknown: the modules that
    /// use each (in module order), with the first place (`path:line:col`).
    pub loose_by_name: HashMap<String, Vec<(usize, String)>>,
    /// Per module: its part of the import graph (modules linked by imports,
    /// either way). An object of one module's class can only reach modules
    /// of its part.
    pub component: Vec<usize>,
    /// Installed commands' entry points (`FuncInfo::entry`): their
    /// callers call a sync shell, so one that is async in another module
    /// would start an event loop inside a running one.
    pub entry_fns: BTreeSet<GlobalFn>,
}

impl State {
    /// Where a module other than `module`, of its part of the import graph,
    /// uses `.name` on an unknown object.
    pub fn loose_elsewhere(&self, module: usize, name: &str) -> Option<&str> {
        let part = self.component.get(module).copied();
        self.loose_by_name
            .get(name)?
            .iter()
            .find(|(i, _)| *i != module && self.component.get(*i).copied() == part)
            .map(|(_, at)| at.as_str())
    }
}

/// The parts of the import graph: `importers[m]` are the modules that
/// import something of `m`.
pub fn components(importers: &[BTreeSet<usize>]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..importers.len()).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        p[x] = r;
        r
    }
    for (m, by) in importers.iter().enumerate() {
        for &x in by {
            let (a, b) = (find(&mut parent, m), find(&mut parent, x));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    (0..importers.len()).map(|m| find(&mut parent, m)).collect()
}

/// A module taking part in the project's colouring.
pub struct Member<'a> {
    pub module: usize,
    pub text: &'a str,
    pub path: String,
    pub planned: Planned,
    /// The last round's inputs (the parts of the state this module reads)
    /// and result: a round with the same inputs is not coloured again.
    pub cache: Option<(Inputs, Round)>,
}

/// The parts of the state a module's round depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    foreign_async: Vec<GlobalFn>,
    blocked: Vec<(GlobalFn, String)>,
    wanted: Vec<GlobalFn>,
}

fn inputs(m: &Member, st: &State) -> Inputs {
    let info = &m.planned.info;
    let mut foreign_async = vec![];
    let mut blocked = vec![];
    let mut wanted = vec![];
    for f in &info.funcs {
        match f.foreign {
            Some(g) if st.async_fns.contains(&g) => foreign_async.push(g),
            Some(_) => {}
            None if f.exported => {
                let g = GlobalFn { module: m.module, start: f.range.start().into() };
                if let Some(why) = st.blocked.get(&g) {
                    blocked.push((g, why.clone()));
                }
                if st.wanted.contains(&g) {
                    wanted.push(g);
                }
            }
            None => {}
        }
    }
    foreign_async.sort();
    foreign_async.dedup();
    Inputs { foreign_async, blocked, wanted }
}

/// Methods that override one another across the project: each group
/// becomes async as a whole or not at all.
pub fn override_groups(index: &ProjectIndex) -> HashMap<GlobalFn, usize> {
    let mut parent: Vec<usize> = vec![];
    let mut id: HashMap<GlobalFn, usize> = HashMap::new();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        p[x] = r;
        r
    }
    let mut key = |g: GlobalFn, parent: &mut Vec<usize>| -> usize {
        *id.entry(g).or_insert_with(|| {
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    for (m, md) in index.modules.iter().enumerate() {
        for cd in &md.classes {
            for f in &cd.methods {
                let mine = GlobalFn { module: m, start: f.start };
                for b in &cd.bases {
                    let Some((bm, bc)) = index.base_class(m, b) else { continue };
                    let (inherited, _) = index.methods(bm, bc);
                    if let Some((im, d)) = inherited.iter().find(|(_, d)| d.name == f.name) {
                        let other = GlobalFn { module: *im, start: d.start };
                        let (a, b) = (key(mine, &mut parent), key(other, &mut parent));
                        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                        if ra != rb {
                            parent[ra.max(rb)] = ra.min(rb);
                        }
                    }
                }
            }
        }
    }
    let keys: Vec<(GlobalFn, usize)> = id.iter().map(|(g, &i)| (*g, i)).collect();
    keys.into_iter().map(|(g, i)| (g, find(&mut parent, i))).collect()
}

static NO_NAMES: BTreeSet<String> = BTreeSet::new();

/// Qualified names (`pkg.mod.f`, `pkg.mod.Class.m`) of project functions.
pub fn qualnames(index: &ProjectIndex, fns: &BTreeSet<GlobalFn>) -> BTreeSet<String> {
    use crate::analysis::project::Decl;
    let mut out = BTreeSet::new();
    for g in fns {
        let md = &index.modules[g.module];
        for (n, d) in &md.names {
            if matches!(d, Decl::Func(f) if f.start == g.start) {
                out.insert(format!("{}.{n}", md.name));
            }
        }
        for c in &md.classes {
            if let Some(f) = c.methods.iter().find(|f| f.start == g.start) {
                out.insert(format!("{}.{}.{}", md.name, c.name, f.name));
            }
        }
    }
    out
}

fn round(members: &mut [Member], st: &State, index: &ProjectIndex) -> Vec<Round> {
    members
        .par_iter_mut()
        .with_max_len(1)
        .map(|m| {
            let key = inputs(m, st);
            if let Some((k, r)) = &m.cache
                && *k == key
            {
                return r.clone();
            }
            let view = ProjectView {
                module: m.module,
                name: &index.modules[m.module].name,
                state: st,
                async_names: &NO_NAMES,
            };
            let r = colour_round(m.text, &m.path, &mut m.planned, &view);
            m.cache = Some((key, r.clone()));
            r
        })
        .collect()
}

/// Colours the project to a fixpoint; the returned state is what every
/// module converts with.
pub fn colour_project(
    members: &mut [Member],
    index: &ProjectIndex,
    groups: &HashMap<GlobalFn, usize>,
    component: &[usize],
) -> State {
    let mut by_group: BTreeMap<usize, Vec<GlobalFn>> = BTreeMap::new();
    for (g, k) in groups {
        by_group.entry(*k).or_default().push(*g);
    }
    let mut st = State { component: component.to_vec(), ..State::default() };
    for m in members.iter() {
        let info = &m.planned.info;
        for f in info.funcs.iter().filter(|f| f.entry.is_some() && f.foreign.is_none()) {
            st.entry_fns.insert(GlobalFn { module: m.module, start: f.range.start().into() });
        }
        let lines = crate::source::LineIndex::new(m.text);
        for (name, ranges) in &info.loose_attrs {
            if let Some(r) = ranges.iter().min_by_key(|r| r.start()) {
                let (l, c) = lines.line_col(r.start());
                st.loose_by_name.entry(name.clone()).or_default().push((m.module, format!("{}:{l}:{c}", m.path)));
            }
        }
    }
    for uses in st.loose_by_name.values_mut() {
        uses.sort();
    }
    let mut gave_up = false;
    for _outer in 0..64 {
        st.async_fns.clear();
        st.wanted.clear();
        let mut last = vec![];
        let mut settled = false;
        for _inner in 0..32 {
            let rounds = round(members, &st, index);
            let async_fns: BTreeSet<GlobalFn> = rounds.iter().flat_map(|r| r.async_fns.iter().copied()).collect();
            let mut wanted = BTreeSet::new();
            for members in by_group.values() {
                if members.iter().any(|g| async_fns.contains(g)) {
                    wanted.extend(members.iter().copied());
                }
            }
            last = rounds;
            if std::env::var_os("AWAITIFY_DEBUG_PROJECT").is_some() {
                eprintln!("project round: async {async_fns:?} wanted {wanted:?} blocked {:?}", st.blocked);
            }
            if async_fns == st.async_fns && wanted == st.wanted {
                settled = true;
                break;
            }
            st.async_fns = async_fns;
            st.wanted = wanted;
        }
        let mut blocked = st.blocked.clone();
        if !settled {
            // Give up on cross-module conversion: everything another module
            // reaches stays sync.
            gave_up = true;
            for g in &st.async_fns {
                blocked.entry(*g).or_insert_with(|| {
                    "the project's colouring did not settle; functions other modules call stay sync".to_string()
                });
            }
        }
        for r in &last {
            for (g, why) in &r.foreign_blocks {
                blocked.entry(*g).or_insert_with(|| why.clone());
            }
            for (g, why) in &r.removed {
                let Some(k) = groups.get(g) else { continue };
                for other in &by_group[k] {
                    if other != g {
                        blocked.entry(*other).or_insert_with(|| {
                            format!("it overrides, or is overridden by, a method that cannot become async: {why}")
                        });
                    }
                }
            }
        }
        if blocked == st.blocked {
            return st;
        }
        st.blocked = blocked;
        if gave_up && _outer > 62 {
            break;
        }
    }
    st
}
