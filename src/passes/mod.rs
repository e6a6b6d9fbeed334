//! The passes and their one ordered registry. The pipeline order is the
//! registry order; adding a pass touches its own file, this list and its
//! fixtures.

pub mod colour;
pub mod files;
pub mod http;
pub mod loop_idioms;
pub mod pool;
pub mod pytest;
pub mod rules;
pub mod sleep;
pub mod sqlite;
pub mod taskgroup;
pub mod timeout;
pub mod to_thread;

use crate::analysis::ModuleInfo;
use crate::analysis::colour::Colouring;
use crate::transforms::Tables;
use rustpython_ast::Stmt;
use rustpython_ast::text_size::TextRange;
use std::collections::BTreeSet;

/// Declares a pass's documentation: a rustdoc comment and the text that
/// `awaitify explain` prints, from one literal.
#[macro_export]
macro_rules! pass_doc {
    ($text:literal) => {
        #[doc = $text]
        pub const DOC: &str = $text;
    };
}

/// A call site a pass will turn into an awaitable, if colouring allows.
#[derive(Clone, Debug)]
pub struct Seed {
    /// The call, or an attribute the pass turns into an awaited call
    /// (`r.text` -> `await r.text()`, see `ModuleInfo::site_ctx`).
    pub call: TextRange,
    pub pass: &'static str,
    /// What is being converted, for diagnostics (`time.sleep`).
    pub what: String,
    /// Seeds of one group convert all together or not at all (the calls on
    /// one session object, say).
    pub group: Option<String>,
    /// A call the pass can never convert: if the function holding it ends up
    /// async, the pass converts nothing in the module (no module that uses
    /// httpx may still call requests in an async function).
    pub veto: bool,
}

/// A finding attached to a file position.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub offset: u32,
    pub pass: &'static str,
    pub message: String,
}

pub struct PassCx<'a> {
    pub info: &'a ModuleInfo,
    pub colour: &'a Colouring,
    pub tables: &'a Tables,
    /// The module's source text (for layout questions: is a statement
    /// alone on its lines?).
    pub source: &'a str,
    /// The oldest Python the output must run on (`--target-version`).
    pub target: crate::engine::TargetVersion,
    pub imports: BTreeSet<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// Source ranges a pass rewrote beyond the colouring's own sites (for
    /// reports and the locality check of the tests).
    pub sites: Vec<TextRange>,
    /// `check --fix`: the start offsets of the only calls a pass that finds
    /// its own sites (`to_thread`) may rewrite; None: any.
    pub allowed: Option<&'a BTreeSet<u32>>,
    /// The module's name as the engine knows it (for now its file stem).
    pub module: &'a str,
    /// Fully qualified names (`module.func`, `module.Class.method`) of the
    /// coroutine functions (async, not generators) after the conversion:
    /// for now the functions of this module (see `engine::async_qualnames`).
    pub async_qualnames: &'a BTreeSet<String>,
    /// The project's pytest plugin runs async tests without marks
    /// (`Options::pytest_auto`).
    pub pytest_auto: bool,
    /// The names of this module other modules of the run take from it
    /// (`from this import name`, `this.name`; `*` for a star import), see
    /// [`crate::reach`]: an import they name is never removed.
    pub reached: &'a BTreeSet<String>,
}

impl PassCx<'_> {
    /// Whether the statement at `r` shares no line with another statement
    /// (`x = 1; y()`): nothing but indentation, or a one-line block's
    /// header (`if c:`), before it, nothing but a comment after it. Only
    /// such a statement can be removed (the emitter lays out statements that
    /// replace or wrap one on lines of their own).
    pub fn own_lines(&self, r: TextRange) -> bool {
        let (start, end) = (usize::from(r.start()), usize::from(r.end()));
        let (Some(before), Some(after)) = (self.source.get(..start), self.source.get(end..)) else {
            return false;
        };
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let head = before[line_start..].trim();
        let tail = after.split('\n').next().unwrap_or("").trim();
        (head.is_empty() || head.ends_with(':')) && (tail.is_empty() || tail.starts_with('#'))
    }
}

impl PassCx<'_> {
    /// Why a call may not return a coroutine (None when it surely does): a
    /// call of an `async def` of this module (not a generator, no unknown
    /// decorator) or of a `[[coroutine]]` row of the tables.
    pub fn not_a_coroutine(&self, c: &rustpython_ast::ExprCall) -> Option<String> {
        let site = self.info.call(c.range);
        if let Some(q) = site.and_then(|s| s.qualname.as_deref())
            && self.tables.coroutine.iter().any(|r| r.name == q)
        {
            return None;
        }
        if let Some(f) = site.and_then(|s| s.target) {
            let info = &self.info.funcs[f];
            if self.colour.is_async(self.info, f) && !info.generator && info.boundary.is_none() {
                return None;
            }
        }
        let what = crate::syntax::dotted_name(&c.func).unwrap_or_else(|| "this call".into());
        Some(format!("`{what}(...)` is not known to return a coroutine"))
    }
}

pub trait Pass: Sync {
    fn name(&self) -> &'static str;
    fn doc(&self) -> &'static str;
    /// One-line summary (first line of the doc).
    fn summary(&self) -> &'static str {
        self.doc().lines().find(|l| !l.trim().is_empty()).unwrap_or("")
    }
    /// A cheap text test: can this source contain anything for the pass?
    fn interested(&self, _src: &str, _tables: &Tables) -> bool {
        false
    }
    /// The text test for a module of a project run, where other modules'
    /// functions may turn this module's code async with no seed of its own
    /// (the `pytest` pass: a test module that calls them).
    fn interested_in_project(&self, _src: &str, _tables: &Tables) -> bool {
        false
    }
    /// Adds to the module's facts before seeds and colouring (the `pool`
    /// pass makes the functions a thread pool runs call sites; `pytest`
    /// lifts the boundary of tests and fixtures in test modules, which it
    /// tells by `path`, the file's path as displayed).
    fn prepare(&self, _body: &[Stmt], _info: &mut ModuleInfo, _tables: &Tables, _path: &str) {}
    /// Call sites this pass turns into awaitables (seeds of the colouring).
    fn seeds(&self, _body: &[Stmt], _info: &ModuleInfo, _tables: &Tables, _diags: &mut Vec<Diagnostic>) -> Vec<Seed> {
        vec![]
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt>;
    /// Rewrites code that is async already, so it runs even where no seed
    /// makes anything async (`taskgroup`, `loop_idioms`).
    fn standalone(&self) -> bool {
        false
    }
}

/// Every pass, in pipeline order.
pub fn registry() -> &'static [&'static dyn Pass] {
    &[
        &rules::Rules,
        &sleep::Sleep,
        &http::Http,
        &files::Files,
        &sqlite::Sqlite,
        &to_thread::ToThread,
        &pool::Pool,
        &loop_idioms::LoopIdioms,
        &taskgroup::TaskGroup,
        &timeout::Timeout,
        // Before `colour`: it finds tests, fixtures and patch calls by their
        // original defs and ranges, before calls are wrapped in `await`.
        &pytest::Pytest,
        &colour::Colour,
    ]
}

pub fn by_name(name: &str) -> Option<&'static dyn Pass> {
    registry().iter().copied().find(|p| p.name() == name)
}
