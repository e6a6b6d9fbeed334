//! Declarative rewrite tables (`transforms/*.toml`), embedded in the binary.
//! Users can load more tables in the same format.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CallRule {
    /// The pass that applies this rule.
    pub pass: String,
    /// Fully qualified sync callable, e.g. `time.sleep`.
    pub sync: String,
    /// Fully qualified async replacement, e.g. `asyncio.sleep`.
    #[serde(rename = "async")]
    pub async_: String,
    /// Module to import for the replacement.
    pub import: String,
    /// Whether the new call is awaited.
    #[serde(rename = "await")]
    pub await_: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    #[serde(default)]
    pub call: Vec<CallRule>,
    #[serde(default)]
    pub http: HttpTable,
    /// Blocking calls run with `asyncio.to_thread` (`transforms/blocking.toml`).
    #[serde(default)]
    pub to_thread: Vec<ToThreadRule>,
    /// Blocking calls no pass rewrites, and calls that make objects with
    /// blocking methods (`transforms/blocking.toml`); `awaitify check`
    /// reports them inside async functions.
    #[serde(default)]
    pub blocking: Vec<BlockingRule>,
    /// Library functions known to return a coroutine (`transforms/asyncio.toml`).
    #[serde(default)]
    pub coroutine: Vec<CoroutineRow>,
    /// Thread pools the `pool` pass turns into tasks (`transforms/asyncio.toml`).
    #[serde(default)]
    pub executor: Vec<CoroutineRow>,
    /// `as_completed` over such a pool's futures (`transforms/asyncio.toml`).
    #[serde(default)]
    pub as_completed: Vec<CoroutineRow>,
    /// How each async runtime spells things (`transforms/runtimes.toml`).
    #[serde(default)]
    pub runtime: Vec<RuntimeRow>,
    /// The sqlite3 -> aiosqlite map (`transforms/sqlite.toml`).
    #[serde(default)]
    pub sqlite: SqliteTable,
    /// The user's own sync -> async map (`[[rule]]`, the `rules` pass).
    #[serde(default)]
    pub rule: Vec<UserRule>,
    /// The runtime the output targets (`--runtime`); chosen on the command
    /// line, not in tables.
    #[serde(skip)]
    pub target: Runtime,
}

/// What a user rule renames (`kind`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A name: fully qualified (`pkg.sync.Backend`, resolved through
    /// imports) or a bare identifier (`handle_request`, every occurrence).
    #[default]
    Name,
    /// A module: only import paths (`import a.b`, `from a.b import x`).
    Module,
    /// String literals equal to `sync`, or starting with `sync.`.
    String,
}

/// A user rule (`[[rule]]` in a table, `[[tool.awaitify.rule]]` in
/// `pyproject.toml`): a sync API and its async twin. The `rules` pass
/// applies them; its documentation (`awaitify explain rules`) has the
/// semantics.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawUserRule")]
pub struct UserRule {
    pub sync: String,
    pub async_: String,
    pub kind: RuleKind,
    /// Calls are awaited.
    pub await_: bool,
    /// A `with` over it becomes `async with`.
    pub async_with: bool,
    /// A `for` over a call of it becomes `async for`.
    pub async_for: bool,
    /// Every def of that name becomes `async def` (bare names only).
    pub async_def: bool,
    /// Module to import for the replacement (default: the parent of `async`).
    pub import: Option<String>,
}

impl UserRule {
    /// A bare identifier (`close`), not a dotted name.
    pub fn bare(&self) -> bool {
        !self.sync.contains('.')
    }
    /// Calls, `with` or `for` over it become async: its sites are seeds.
    pub fn effectful(&self) -> bool {
        self.await_ || self.async_with || self.async_for
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUserRule {
    sync: String,
    #[serde(rename = "async")]
    async_: String,
    #[serde(default)]
    kind: RuleKind,
    #[serde(default, rename = "await")]
    await_: bool,
    #[serde(default)]
    async_with: bool,
    #[serde(default)]
    async_for: bool,
    #[serde(default)]
    async_def: bool,
    #[serde(default)]
    import: Option<String>,
}

fn dotted_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|p| {
            p.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

impl TryFrom<RawUserRule> for UserRule {
    type Error = String;
    fn try_from(r: RawUserRule) -> Result<Self, String> {
        let what = format!("rule `{}` -> `{}`", r.sync, r.async_);
        if r.kind != RuleKind::String {
            for (k, v) in [("sync", &r.sync), ("async", &r.async_)] {
                if !dotted_ok(v) {
                    return Err(format!("{what}: `{k}` must be a Python name or dotted path"));
                }
            }
        } else if r.sync.is_empty() {
            return Err(format!("{what}: `sync` must not be empty"));
        }
        if let Some(i) = &r.import
            && !dotted_ok(i)
        {
            return Err(format!("{what}: `import` must be a module path"));
        }
        let flags = r.await_ || r.async_with || r.async_for || r.async_def;
        match r.kind {
            RuleKind::Module | RuleKind::String if flags || r.import.is_some() => {
                return Err(format!(
                    "{what}: `await`, `async_with`, `async_for`, `async_def` and `import` apply to `kind = \"name\"` rules only"
                ));
            }
            RuleKind::Name if r.sync.contains('.') != r.async_.contains('.') => {
                return Err(format!(
                    "{what}: `sync` and `async` must both be dotted (a qualified name) or both bare identifiers"
                ));
            }
            RuleKind::Name if r.sync.contains('.') && r.async_.starts_with(&format!("{}.", r.sync)) => {
                return Err(format!(
                    "{what}: `async` must not be below `sync` (the rule would apply again to its own output)"
                ));
            }
            RuleKind::Name if r.async_def && r.sync.contains('.') => {
                return Err(format!("{what}: `async_def` needs a bare identifier (the name of the defs)"));
            }
            RuleKind::Name if r.import.is_some() && !r.sync.contains('.') => {
                return Err(format!("{what}: `import` needs a qualified name"));
            }
            _ => {}
        }
        if r.sync == r.async_ && !flags {
            return Err(format!("{what}: renames nothing and makes nothing async"));
        }
        Ok(UserRule {
            sync: r.sync,
            async_: r.async_,
            kind: r.kind,
            await_: r.await_,
            async_with: r.async_with,
            async_for: r.async_for,
            async_def: r.async_def,
            import: r.import,
        })
    }
}

/// A library function whose calls return a coroutine (what
/// `TaskGroup.create_task` needs), e.g. `asyncio.sleep`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CoroutineRow {
    pub name: String,
}

/// The async runtime the output runs on (`--runtime`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    #[default]
    Asyncio,
    Trio,
    Anyio,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Asyncio => "asyncio",
            Runtime::Trio => "trio",
            Runtime::Anyio => "anyio",
        }
    }
}

/// One row of `transforms/runtimes.toml`: how a runtime spells the calls the
/// passes write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeRow {
    pub name: Runtime,
    pub run: String,
    pub run_takes_coroutine: bool,
    pub to_thread: String,
    pub to_thread_keywords: bool,
    pub open_file: String,
    pub open_file_awaited: bool,
    pub file_close: String,
    /// asyncio names (in other tables) and their name in this runtime.
    #[serde(default)]
    pub rename: std::collections::BTreeMap<String, String>,
}

/// A blocking call no pass rewrites (`sync = "sqlite3.connect"`), or a
/// method of objects of a type (`sync = "pathlib.Path.read_text"`, with the
/// type named by `returns` of another row).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BlockingRule {
    /// Fully qualified callable; for a method, `<type>.<method>`.
    pub sync: String,
    /// What it waits for, for messages (`file system`, `HTTP`, `database`...).
    #[serde(default)]
    pub what: String,
    /// False for a call that does not block but makes an object whose
    /// methods may (`pathlib.Path(...)`).
    #[serde(default = "yes")]
    pub blocks: bool,
    /// The type of the call's result, when its methods are listed too.
    #[serde(default)]
    pub returns: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ToThreadRule {
    /// Fully qualified blocking callable, e.g. `subprocess.run`.
    pub sync: String,
}

/// The map of the `sqlite` pass (`transforms/sqlite.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteTable {
    #[serde(default)]
    pub driver: Vec<SqliteDriver>,
    #[serde(default)]
    pub method: Vec<SqliteMethod>,
    #[serde(default)]
    pub attribute: Vec<SqliteAttribute>,
}

/// A connect function (`sqlite3.connect`) and its async twin.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteDriver {
    pub sync: String,
    #[serde(rename = "async")]
    pub async_: String,
    pub import: String,
    /// The runtimes the async driver works on.
    pub runtimes: Vec<Runtime>,
}

/// What a database object is: a connection or a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteObject {
    Connection,
    Cursor,
}

/// A method of a connection or cursor, awaited in the async driver.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteMethod {
    pub on: SqliteObject,
    pub name: String,
    /// What the call returns, when it is a cursor.
    #[serde(default)]
    pub returns: Option<SqliteObject>,
}

/// An attribute that stays as it is on the async object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteAttribute {
    pub on: SqliteObject,
    pub name: String,
    /// It may be assigned too.
    #[serde(default)]
    pub set: bool,
}

impl SqliteTable {
    fn extend(&mut self, o: SqliteTable) {
        self.driver.extend(o.driver);
        self.method.extend(o.method);
        self.attribute.extend(o.attribute);
    }
}

/// The requests -> httpx map (`transforms/http.toml`).
/// Which async HTTP library the `http` pass writes (`--http`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpBackend {
    #[default]
    Httpx,
    Aiohttp,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTable {
    /// Chosen on the command line, not in tables.
    #[serde(skip)]
    pub backend: HttpBackend,
    #[serde(default)]
    pub function: Vec<HttpFunction>,
    #[serde(default)]
    pub session: Vec<HttpSession>,
    #[serde(default)]
    pub method: Vec<HttpMethod>,
    #[serde(default)]
    pub exception: Vec<HttpException>,
    #[serde(default)]
    pub attribute: Vec<HttpAttribute>,
    #[serde(default)]
    pub unsupported: Vec<HttpUnsupported>,
    /// Constructors of HTTP clients and sessions, sync or async (the
    /// `check` rule AWT103: one created per loop iteration).
    #[serde(default)]
    pub client: Vec<HttpClient>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClient {
    pub sync: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFunction {
    pub sync: String,
    pub method: String,
    /// requests' positional parameters of the function, in order (`url`,
    /// `params` for `get`): positional arguments after `url` become these
    /// keywords (httpx and aiohttp take them by keyword only).
    #[serde(default)]
    pub positional: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSession {
    pub sync: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMethod {
    pub name: String,
    /// New name with httpx (`close` -> `aclose`).
    #[serde(default)]
    pub httpx: Option<String>,
    /// New name with aiohttp.
    #[serde(default)]
    pub aiohttp: Option<String>,
    /// Closes the session rather than sending a request.
    #[serde(default)]
    pub closes: bool,
    /// requests' positional parameters of the `Session` method, without
    /// `self` (see `HttpFunction::positional`).
    #[serde(default)]
    pub positional: Vec<String>,
}

impl HttpMethod {
    pub fn to(&self, b: HttpBackend) -> &str {
        match b {
            HttpBackend::Httpx => self.httpx.as_deref(),
            HttpBackend::Aiohttp => self.aiohttp.as_deref(),
        }
        .unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpException {
    pub sync: Vec<String>,
    /// What httpx raises in the same situations: a class or a tuple of
    /// classes; absent: nothing does (`why` says why), and a module that
    /// names the exception keeps its requests code.
    #[serde(default)]
    pub httpx: Option<String>,
    #[serde(default)]
    pub aiohttp: Option<String>,
    #[serde(default)]
    pub why: Option<String>,
}

impl HttpException {
    pub fn to(&self, b: HttpBackend) -> Option<&str> {
        match b {
            HttpBackend::Httpx => self.httpx.as_deref(),
            HttpBackend::Aiohttp => self.aiohttp.as_deref(),
        }
    }
}

/// A response attribute (or, with `call`, a method called without
/// arguments) and what it becomes; `{r}` stands for the response. No
/// template for a backend: the attribute is the same there. With aiohttp,
/// a response attribute missing from the table is not converted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAttribute {
    pub name: String,
    #[serde(default)]
    pub call: bool,
    #[serde(default)]
    pub httpx: Option<String>,
    #[serde(default)]
    pub aiohttp: Option<String>,
}

impl HttpAttribute {
    pub fn template(&self, b: HttpBackend) -> Option<&str> {
        match b {
            HttpBackend::Httpx => self.httpx.as_deref(),
            HttpBackend::Aiohttp => self.aiohttp.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpUnsupported {
    pub name: String,
    pub why: String,
    /// Only with this backend (both when absent).
    #[serde(default)]
    pub backend: Option<HttpBackend>,
}

impl HttpTable {
    fn extend(&mut self, o: HttpTable) {
        self.function.extend(o.function);
        self.session.extend(o.session);
        self.method.extend(o.method);
        self.exception.extend(o.exception);
        self.attribute.extend(o.attribute);
        self.unsupported.extend(o.unsupported);
        self.client.extend(o.client);
    }
}

pub const BUILTIN: &[(&str, &str)] = &[
    ("asyncio.toml", include_str!("../transforms/asyncio.toml")),
    ("http.toml", include_str!("../transforms/http.toml")),
    ("blocking.toml", include_str!("../transforms/blocking.toml")),
    ("runtimes.toml", include_str!("../transforms/runtimes.toml")),
    ("sqlite.toml", include_str!("../transforms/sqlite.toml")),
    ("rules.toml", include_str!("../transforms/rules.toml")),
];

impl Tables {
    pub fn builtin() -> Tables {
        let mut t = Tables::default();
        for (name, text) in BUILTIN {
            let more = Tables::parse(text).unwrap_or_else(|e| panic!("built-in table {name} is invalid: {e}"));
            t.extend(more);
        }
        t
    }

    pub fn extend(&mut self, more: Tables) {
        self.call.extend(more.call);
        self.http.extend(more.http);
        self.to_thread.extend(more.to_thread);
        self.blocking.extend(more.blocking);
        self.runtime.extend(more.runtime);
        self.coroutine.extend(more.coroutine);
        self.executor.extend(more.executor);
        self.as_completed.extend(more.as_completed);
        self.sqlite.extend(more.sqlite);
        self.rule.extend(more.rule);
    }

    /// The row of the target runtime (the last one loaded wins, so user
    /// tables can override a built-in row).
    pub fn rt(&self) -> &RuntimeRow {
        self.runtime
            .iter()
            .rev()
            .find(|r| r.name == self.target)
            .unwrap_or_else(|| panic!("no [[runtime]] row for {}", self.target.name()))
    }

    /// What an asyncio name from a table is called in the target runtime:
    /// `None` if the runtime has no equivalent. Names outside `asyncio` (a
    /// user's own async library) are kept.
    pub fn runtime_name(&self, asyncio_name: &str) -> Option<String> {
        if self.target == Runtime::Asyncio || asyncio_name.split('.').next() != Some("asyncio") {
            return Some(asyncio_name.to_string());
        }
        self.rt().rename.get(asyncio_name).cloned()
    }

    pub fn parse(text: &str) -> Result<Tables, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn calls_for<'a>(&'a self, pass: &'a str) -> impl Iterator<Item = &'a CallRule> + 'a {
        self.call.iter().filter(move |r| r.pass == pass)
    }
}
