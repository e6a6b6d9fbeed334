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
    /// The runtime the output targets (`--runtime`); chosen on the command
    /// line, not in tables.
    #[serde(skip)]
    pub target: Runtime,
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
    pub httpx: String,
    pub aiohttp: String,
}

impl HttpException {
    pub fn to(&self, b: HttpBackend) -> &str {
        match b {
            HttpBackend::Httpx => &self.httpx,
            HttpBackend::Aiohttp => &self.aiohttp,
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
