//! The `http` pass.

use super::{Diagnostic, Pass, PassCx, Seed};
use crate::analysis::{FuncId, ModuleInfo};
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use crate::syntax::{await_, dotted, fold_ok, is_synth, name, synth, to_async_kind};
use crate::transforms::{HttpBackend, Tables};
use rustpython_ast::text_size::TextRange;
use rustpython_ast::{self as ast, Constant, Expr, Fold, Ranged, Stmt};
use std::collections::{BTreeSet, HashMap, HashSet};

crate::pass_doc!(
    "Turns `requests` into `httpx.AsyncClient` (or `aiohttp.ClientSession`), keeping requests' behaviour.

## What it does
Rewrites HTTP done with `requests` (any import spelling: `import requests`,
`import requests as rq`, `from requests import get, Session`) to httpx:
* a function that calls `requests.get/post/put/patch/delete/head/options/
  request` gets one `httpx.AsyncClient` for its whole body (`async with`),
  and each call becomes `await client.<method>(...)`;
* `requests.Session()` becomes `httpx.AsyncClient(...)`, `with` becomes
  `async with`, its request methods are awaited and `close()` becomes
  `await ....aclose()`; a session kept in a local, a module global or a
  `self.` attribute is followed;
* requests' defaults are kept explicitly: `follow_redirects=True` and
  `timeout=None` on the client, `follow_redirects=False` for `head`;
  `allow_redirects=` becomes `follow_redirects=`;
  the module's clients share one TLS context (`verify=_tls_context()`, a
  helper the pass adds after the imports: `httpx.create_ssl_context()` made
  once), since an httpx client builds its own when it is created (about
  20 ms of CPU each) where requests builds one per TLS connection; the
  client itself stays one per call, as requests opens a session per call
  (a shared one would keep cookies between calls); a `(connect, read)`
  timeout tuple becomes `httpx.Timeout(None, connect=..., read=...)`;
  `data=` with a string or bytes literal becomes `content=`; a `params` dict
  literal drops `None` values as requests does;
* on responses held in variables: `r.ok` -> `not r.is_error`, `r.reason` ->
  `r.reason_phrase`, `r.url` -> `str(r.url)`, and `r.raise_for_status()`
  raises only for 4xx/5xx, as in requests (`if r.is_error:` before it; on
  a request made in place, `requests.get(u).raise_for_status()`, the
  response is bound once: `if (response := ...).is_error:`);
* exceptions: `requests.exceptions.X` / `requests.X` / imported names are
  mapped (`HTTPError` -> `httpx.HTTPStatusError`, `ConnectionError` ->
  `httpx.NetworkError`, `Timeout` -> `httpx.TimeoutException`, ...), in
  `except` clauses, tuples and `isinstance` checks;
* `import httpx` is added once; `requests` imports nothing uses any more are
  removed (the first one becomes `import httpx` where it stood).
* sessions passed to functions are followed into their parameters when every
  call passes one, and out of a factory (a function whose every `return`
  gives the session it creates) into what its calls are bound to;
* the response a caught requests error carries (`e.response`,
  `getattr(e, \"response\", None)`, also in a helper every call passes the
  error to): httpx's `HTTPStatusError` has one, its other errors do not, so
  `e.response` becomes `getattr(e, \"response\", None)`;
* streams: `with requests.get(u, stream=True) as r:` becomes
  `async with client.stream(\"GET\", u) as r:`, and
  `for chunk in r.iter_content(n)` (in the same function) `async for chunk in
  r.aiter_bytes(n)` (no `n`: requests' default, 1);
* a per-request `verify=` (a literal or a module-level name) moves to the
  client when every request made with that client passes the same value.

With `--http aiohttp`: clients are `aiohttp.ClientSession(timeout=
aiohttp.ClientTimeout(total=None))` (aiohttp, like requests, follows
redirects except for HEAD), responses are read with `json.loads(await
r.text())` (aiohttp's `json()` returns None for an empty body where requests
raises), `await r.text()`, `await r.read()`; `status_code` -> `status`;
`timeout=` -> `aiohttp.ClientTimeout` (a number is a connect and a per-read
timeout, as in requests: `sock_connect`/`sock_read`; `(connect, read)` the
same); `verify=False` -> `ssl=False`; `auth=(u, p)` ->
`aiohttp.BasicAuth(u, p)`; `e.response.status_code` on a caught HTTP error ->
`e.status`; exceptions map to `aiohttp.ClientError` and friends
(`ConnectionError` -> `aiohttp.ClientConnectorError`, since aiohttp's read
timeouts are connection errors). A caught error's response becomes the error
itself when it is an `aiohttp.ClientResponseError` (else None): its
`status_code` -> `status`, `reason` -> `message`, `headers`; its body is gone
(not converted). A response must be read while its session is open: a
response returned from the function's own client is read first (`await
r.read()`, as requests reads it at once), after which aiohttp still serves
`text()` / `json()`; one returned from a function-local session, or an
attribute not in the map, keeps the module's requests code as it is. A
function that reads a body (`await r.text()`) becomes async, together with
the requests the response may come from. Streams: `async with
client.get(u) as r` and `r.content.iter_chunked(n)`; `verify=` stays per
request (`ssl=`). A `ClientSession` needs
a running event loop: a session created at module level, or in a function
that may run outside the loop (not async, nor an `__init__` or factory
called only from async functions), is not converted.

Calls that stay requests but end up in an async function (because of those
limits, or another pass) run in `asyncio.to_thread`, with a diagnostic.
The map is `transforms/http.toml`.

## Why is this bad
requests blocks the event loop for the whole round trip.

## Example
```python
import requests


def status(url):
    r = requests.get(url)
    return r.ok
```

## Use instead
```python
import functools
import httpx


@functools.cache
def _tls_context():
    return httpx.create_ssl_context()


async def status(url):
    async with httpx.AsyncClient(follow_redirects=True, timeout=None, verify=_tls_context()) as client:
        r = await client.get(url)
        return not r.is_error
```

## Not converted
A module that uses a requests feature with no faithful rewrite (adapters via
`mount`, hooks, `r.raw`, `cert=`, `proxies=`, `stream=True` outside a `with`
statement, `iter_lines` (bytes lines in requests, str in httpx), a stream read
other than by `iter_content` in a `for`, per-request `verify=` values the
requests of one client disagree on), or passes a session somewhere the pass
cannot follow, keeps all its HTTP code as it is, with a diagnostic per site. Calls in functions that
cannot become async stay as they are (see `colour`); the calls on one
session convert all together or not at all; if a call that cannot convert
would end up in an async function, the module's HTTP code is left as it is.

## Fix safety
Safe for the patterns above. A response passed to code the pass does not
follow keeps requests' attribute names (`.ok`, `.reason`) there: such uses
are reported. Residual differences: the redirect limit is httpx's 20 and
aiohttp's 10 (requests: 30); error messages (`str(e)`) differ; a `params`
mapping that is not a dict literal is passed as it is (requests drops
`None` values); httpx decodes a `text/*` body without charset as UTF-8 where
requests uses ISO-8859-1 (aiohttp: its fallback charset resolver, UTF-8);
streamed chunks: httpx's `aiter_bytes(n)` gives exactly `n` bytes like
requests, aiohttp's `iter_chunked(n)` up to `n`; httpx warns (hidden by
default) that `verify=<str>` is deprecated; with aiohttp a connect timeout is not a
`ConnectionError`; with aiohttp a `timeout=` given as an expression other than
a name, attribute, number or pair is not converted (a total timeout raises a
plain `TimeoutError`).
"
);

pub struct Http;

/// How a name or attribute is bound.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Bind {
    Session(TextRange),
    Response(TextRange),
    /// `getattr(e, "response", None)` / `e.response` of a caught requests
    /// error: the response it carries, if any.
    ErrResponse,
    Other,
}

#[derive(Debug, Default)]
struct Facts {
    /// `requests.get(...)` and friends: call -> method.
    module_calls: HashMap<TextRange, String>,
    /// `requests.Session()`: call -> session group.
    session_new: HashMap<TextRange, String>,
    /// Session creations entered with `with` (awaited when async).
    session_with: HashSet<TextRange>,
    /// Calls of session factories (functions returning the session they
    /// create) -> the group of that session.
    factory_calls: HashMap<TextRange, String>,
    /// `s.get(...)`: call -> (new method name, group).
    session_calls: HashMap<TextRange, (String, String)>,
    /// `r.ok`...: attribute expression -> (template, calls that made `r`).
    attrs: HashMap<TextRange, (String, Vec<TextRange>)>,
    /// `r.raise_for_status()` statements -> calls that made `r`.
    raises: HashMap<TextRange, Vec<TextRange>>,
    /// References to requests exceptions -> replacement.
    exceptions: HashMap<TextRange, String>,
    /// `K(...)` calls of module classes: (class name, function it is in).
    instantiations: Vec<(String, Option<FuncId>)>,
    /// `e.response.status_code` on a caught error -> new expression.
    exc_attrs: HashMap<TextRange, String>,
    /// aiohttp: `return r` statements that hand a response made in this
    /// function (on its own client) to the caller -> the requests it may
    /// come from; the body is read before the client closes.
    read_returns: HashMap<TextRange, Vec<TextRange>>,
    /// Response reads that become `await ...` away from the requests they
    /// read (another function, or where `await` cannot go): seeds of their own.
    read_seeds: HashMap<TextRange, String>,
    /// `with requests.get(..., stream=True) as r`: requests opened as streams.
    streams: HashSet<TextRange>,
    /// `for chunk in r.iter_content(n)` on a stream -> the requests of `r`.
    stream_fors: HashMap<TextRange, Vec<TextRange>>,
    /// httpx: `verify=` of each request (request -> (client scope, value)).
    verify: Vec<(TextRange, String, Expr)>,
    /// httpx: `verify=` every request of a client agrees on: client scope
    /// (`func:<id>` or a session group) -> the value, set on the client.
    client_verify: HashMap<String, Expr>,
    unsupported: Vec<(TextRange, String)>,
    escaped_groups: BTreeSet<String>,
    /// Where a session group escapes first, and how (`passed to f()`...).
    escape_sites: HashMap<String, (TextRange, String)>,
    /// Every name used in the module (to pick a free client name).
    names: HashSet<String>,
    /// Module constants assigned once: name -> is a 2-tuple (else a number).
    constants: HashMap<String, bool>,
    /// Requests with positional arguments after the URL -> requests'
    /// positional parameter names (they become keywords).
    positional: HashMap<TextRange, Vec<String>>,
    /// Groups of `requests.Session`-annotated parameters the pass cannot
    /// follow (not every call passes a session it follows).
    param_groups: BTreeSet<String>,
    /// `s: requests.Session` annotations of followed parameters -> the
    /// session group (they name the client class where it is converted).
    session_annotations: HashMap<TextRange, String>,
}

/// Why an aiohttp response that escapes is not converted.
const ESCAPED_RESPONSE: &str = "the response is used where the pass cannot follow it (an aiohttp response must be read inside the code that holds its session)";

/// What a call passes to one parameter: a session group, response origins,
/// whether it is a caught requests error.
type Flow = (Option<String>, Option<Vec<TextRange>>, bool);

const SESSION_ATTRS: &[&str] = &["headers", "auth", "params", "cookies"];

/// What the pass follows on a streamed response (the body is read by
/// `iter_content` in a `for` only).
const STREAM_ATTRS: &[&str] = &["status_code", "headers", "ok", "reason", "url", "raise_for_status"];

fn is_string_literal(e: &Expr) -> bool {
    matches!(e, Expr::JoinedStr(_))
        || matches!(e, Expr::Constant(c) if matches!(c.value, Constant::Str(_) | Constant::Bytes(_)))
}

struct Collector<'a> {
    info: &'a ModuleInfo,
    tables: &'a Tables,
    /// Current function (None: module level) and class of the method.
    func: Option<FuncId>,
    /// Bindings per (scope, name).
    binds: HashMap<(Option<FuncId>, String), Vec<Bind>>,
    /// `self.x` bindings per (class, attr).
    attr_binds: HashMap<(usize, String), Vec<Bind>>,
    second: bool,
    facts: Facts,
    /// Positional and keyword-only parameter names of each function.
    params: HashMap<FuncId, (Vec<String>, Vec<String>)>,
    /// Per call of a module function: the session group each parameter
    /// receives (None: not a session, or cannot tell).
    flows: Vec<(FuncId, HashMap<String, Flow>)>,
    /// Parameters known to receive a response at every call, with the
    /// requests it may come from.
    response_params: HashMap<(FuncId, String), Vec<TextRange>>,
    /// Marker ranges (`r.history` iterated) -> the origins of their items.
    derived: HashMap<TextRange, Vec<TextRange>>,
    /// Parameters known to receive a session at every call.
    session_params: HashSet<(FuncId, String)>,
    /// Expressions used as the receiver of a response attribute, and
    /// request calls assigned to a variable: uses the pass follows.
    receivers: HashSet<TextRange>,
    /// `except requests.X as e`: (function, name).
    exc_names: HashSet<(FuncId, String)>,
    /// Expressions in a position a response or session escapes through
    /// (an argument, a container item, a yield...) -> how it escapes.
    escape_ctx: HashMap<TextRange, String>,
    /// Expressions whose truth only is used (`if r:`, `not r`): a response
    /// there becomes `r.ok`'s rewrite (requests' `__bool__` is `ok`).
    truth_tests: HashSet<TextRange>,
    /// Expressions that are whole statements (their value is dropped).
    expr_stmts: HashSet<TextRange>,
    /// Functions whose every `return` gives a response, with the requests
    /// it comes from (from the previous round).
    response_funcs: HashMap<FuncId, Vec<TextRange>>,
    /// What this round finds: per function, the origins of its returns
    /// (None: some return is not a response).
    returns: HashMap<FuncId, Option<Vec<TextRange>>>,
    /// Functions whose every `return` gives the session they create (a
    /// factory) -> that session's group (from the previous round).
    session_funcs: HashMap<FuncId, String>,
    /// What this round finds: per function, the group of the session every
    /// return gives (None: some return gives something else).
    session_returns: HashMap<FuncId, Option<String>>,
    /// Request calls -> the session group they use (None: a module call).
    request_group: HashMap<TextRange, Option<String>>,
    /// Parameters annotated as a requests session (`s: requests.Session`).
    /// -> the annotation's range.
    annotated: HashMap<(FuncId, String), TextRange>,
    /// Exception references in a catching position: an `except` clause's
    /// type or the class argument of `isinstance` / `issubclass`.
    catch_refs: HashSet<TextRange>,
    /// Functions (their def's range) that bind a module name a replacement
    /// names (`json`, `asyncio`) as a local: a parameter `json=`.
    local_modules: Vec<(TextRange, Vec<&'static str>)>,
}

/// Module names the replacements of http.toml name besides the client.
const REPLACEMENT_MODULES: [&str; 2] = ["json", "asyncio"];

/// The functions of `body` (at any depth) that bind one of
/// `REPLACEMENT_MODULES` in their own scope.
fn local_modules(body: &[Stmt]) -> Vec<(TextRange, Vec<&'static str>)> {
    struct Finder(Vec<(TextRange, Vec<&'static str>)>);
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if let Stmt::FunctionDef(ast::StmtFunctionDef { args, body, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { args, body, .. }) = s
            {
                let mut b = crate::analysis::scope::collect(body);
                crate::analysis::scope::collect_args(args, &mut b);
                let bound: Vec<&'static str> = REPLACEMENT_MODULES.into_iter().filter(|m| b.binds(m)).collect();
                if !bound.is_empty() {
                    self.0.push((s.range(), bound));
                }
            }
            walk_stmt(self, s);
        }
    }
    let mut f = Finder(vec![]);
    f.visit_body(body);
    f.0
}

impl Collector<'_> {
    /// A module that `template` names but that a function around `at` binds
    /// as a local name (the replacement would name that local).
    fn shadowed_module(&self, template: &str, at: TextRange) -> Option<&'static str> {
        self.local_modules.iter().filter(|(r, _)| r.contains_range(at)).find_map(|(_, ms)| {
            ms.iter().copied().find(|m| {
                template.match_indices(&format!("{m}.")).any(|(i, _)| {
                    i == 0 || !template[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
                })
            })
        })
    }
    fn check_shadowed(&mut self, template: &str, at: TextRange) -> bool {
        let Some(m) = self.shadowed_module(template, at) else { return false };
        self.unsupported(
            at,
            &format!(
                "the replacement names the `{m}` module (`{}`), but `{m}` is a local name of the function here (rename it to convert this code)",
                template.replace("{r}", "r")
            ),
        );
        true
    }
    fn qual(&self, e: &Expr) -> Option<&str> {
        match e {
            Expr::Call(c) => self.info.call(c.range).and_then(|c| c.qualname.as_deref()),
            _ => None,
        }
    }
    /// A call of a function that returns the session it creates.
    fn factory_group(&self, e: &Expr) -> Option<String> {
        let Expr::Call(c) = e else { return None };
        let f = self.info.call(c.range)?.target?;
        self.session_funcs.get(&f).cloned()
    }
    fn is_session_new(&self, e: &Expr) -> bool {
        self.qual(e).is_some_and(|q| self.tables.http.session.iter().any(|s| s.sync == q))
    }
    fn module_method(&self, e: &Expr) -> Option<String> {
        let q = self.qual(e)?;
        self.tables.http.function.iter().find(|f| f.sync == q).map(|f| f.method.clone())
    }
    fn classify(&self, value: &Expr) -> Bind {
        if self.err_response(value).is_some() {
            return Bind::ErrResponse;
        }
        if self.is_session_new(value) || self.factory_group(value).is_some() {
            return Bind::Session(value.range());
        }
        if self.returned_by(value.range()).is_some() {
            return Bind::Response(value.range());
        }
        if self.module_method(value).is_some() {
            return Bind::Response(value.range());
        }
        if let Expr::Call(c) = value
            && let Expr::Attribute(a) = &*c.func
            && self.session_group(&a.value).is_some()
            && self.tables.http.method.iter().any(|m| m.name == a.attr.as_str() && !m.closes)
        {
            return Bind::Response(value.range());
        }
        Bind::Other
    }
    fn self_class(&self) -> Option<(usize, String)> {
        let f = &self.info.funcs[self.func?];
        Some((f.class?, f.self_name.clone()?))
    }
    /// The session group of an expression, if it surely holds a session.
    fn session_group(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Name(n) => {
                let id = n.id.to_string();
                let (scope, binds) = match self.binds.get(&(self.func, id.clone())) {
                    Some(b) => (self.func, b),
                    None => (None, self.binds.get(&(None, id.clone()))?),
                };
                if !binds.is_empty() && binds.iter().all(|b| matches!(b, Bind::Session(_))) {
                    Some(format!("{scope:?}:{id}"))
                } else {
                    None
                }
            }
            Expr::Attribute(a) => {
                let Expr::Name(recv) = &*a.value else { return None };
                let (class, self_name) = self.self_class()?;
                if recv.id.as_str() != self_name {
                    return None;
                }
                let binds = self.attr_binds.get(&(class, a.attr.to_string()))?;
                if binds.iter().all(|b| matches!(b, Bind::Session(_))) {
                    Some(format!("class{class}.{}", a.attr))
                } else {
                    None
                }
            }
            _ => None,
        }
    }
    /// The calls that made the response in `e`, if `e` surely holds one.
    fn response_origins(&self, e: &Expr) -> Option<Vec<TextRange>> {
        if let Expr::Call(c) = e {
            if let Some(o) = self.returned_by(c.range) {
                return Some(o);
            }
            let request = self.module_method(e).is_some()
                || matches!(&*c.func, Expr::Attribute(a) if self.session_group(&a.value).is_some()
                    && self.tables.http.method.iter().any(|m| m.name == a.attr.as_str() && !m.closes));
            return request.then(|| vec![c.range]);
        }
        let Expr::Name(n) = e else { return None };
        let binds = self.binds.get(&(self.func, n.id.to_string()))?;
        let mut out = vec![];
        for b in binds {
            match b {
                Bind::Response(r) => match self.returned_by(*r).or_else(|| self.derived.get(r).cloned()) {
                    Some(o) => out.extend(o.iter().copied()),
                    None => match self.func.and_then(|f| self.response_params.get(&(f, n.id.to_string()))) {
                        Some(o) if self.func.is_some_and(|f| self.info.funcs[f].range == *r) => {
                            out.extend(o.iter().copied())
                        }
                        _ => out.push(*r),
                    },
                },
                _ => return None,
            }
        }
        Some(out)
    }
    /// `r.history` of a followed response: its items are responses too.
    fn history_item(&mut self, iter: &Expr) -> Bind {
        if let Expr::Attribute(a) = iter
            && a.attr.as_str() == "history"
            && let Some(o) = self.response_origins(&a.value)
        {
            self.derived.insert(iter.range(), o);
            return Bind::Response(iter.range());
        }
        Bind::Other
    }
    /// For a call of a function that returns responses: their origins.
    fn returned_by(&self, call: TextRange) -> Option<Vec<TextRange>> {
        let cs = self.info.call(call)?;
        match cs.target {
            Some(f) => self.response_funcs.get(&f).cloned(),
            None if !cs.targets.is_empty() => {
                let mut out = vec![];
                for t in &cs.targets {
                    out.extend(self.response_funcs.get(t)?.iter().copied());
                }
                Some(out)
            }
            None => None,
        }
    }
    /// aiohttp: a returned response must come from a session that outlives
    /// the function (kept on `self` or at module level).
    fn long_lived(&self, origins: &[TextRange]) -> bool {
        origins.iter().all(|r| {
            self.request_group
                .get(r)
                .is_some_and(|g| g.as_ref().is_some_and(|g| g.starts_with("class") || g.starts_with("None:")))
        })
    }
    /// Responses that all come from module-level calls (`requests.get`),
    /// each made on the client of the function it is in: a function returns
    /// such a response only after reading it (see `read_returns`).
    fn module_requests(&self, origins: &[TextRange]) -> bool {
        !origins.is_empty() && origins.iter().all(|r| self.request_group.get(r).is_some_and(|g| g.is_none()))
    }
    fn bind_target(&mut self, target: &Expr, bind: Bind) {
        match target {
            Expr::Name(n) => self.binds.entry((self.func, n.id.to_string())).or_default().push(bind),
            Expr::Attribute(a) => {
                if let (Expr::Name(recv), Some((class, self_name))) = (&*a.value, self.self_class())
                    && recv.id.as_str() == self_name
                {
                    self.attr_binds.entry((class, a.attr.to_string())).or_default().push(bind);
                }
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|x| self.bind_target(x, Bind::Other)),
            Expr::List(t) => t.elts.iter().for_each(|x| self.bind_target(x, Bind::Other)),
            Expr::Starred(s) => self.bind_target(&s.value, Bind::Other),
            _ => {}
        }
    }
    /// An assignment target: only the expressions inside it are uses.
    fn visit_target(&mut self, t: &Expr) {
        match t {
            Expr::Name(n) => {
                self.facts.names.insert(n.id.to_string());
            }
            Expr::Attribute(a)
                if self.session_group(&a.value).is_some() && SESSION_ATTRS.contains(&a.attr.as_str()) =>
            {
                // `session.auth = ...`: httpx clients take it too.
                if self.aiohttp() {
                    self.unsupported(
                        a.range,
                        &format!(
                            "`session.{}` cannot be set on an aiohttp.ClientSession (it is a constructor argument)",
                            a.attr
                        ),
                    );
                }
            }
            Expr::Attribute(a) => self.visit_expr(&a.value),
            Expr::Subscript(s) => {
                self.visit_expr(&s.value);
                self.visit_expr(&s.slice);
            }
            Expr::Tuple(x) => x.elts.iter().for_each(|e| self.visit_target(e)),
            Expr::List(x) => x.elts.iter().for_each(|e| self.visit_target(e)),
            Expr::Starred(x) => self.visit_target(&x.value),
            e => self.visit_expr(e),
        }
    }

    /// The parameter names of `f` as seen by a call through `func`: a
    /// method called on an instance or `self` skips its first parameter.
    fn call_params(&self, f: FuncId, func: &Expr) -> Option<(Vec<String>, Vec<String>)> {
        let (pos, kw) = self.params.get(&f)?.clone();
        let info = &self.info.funcs[f];
        match (func, info.class, &info.self_name) {
            (Expr::Name(_), None, _) => Some((pos, kw)),
            (Expr::Attribute(a), Some(_), Some(_)) if !self.is_class_ref(&a.value) => {
                Some((pos.into_iter().skip(1).collect(), kw))
            }
            _ => None,
        }
    }
    fn is_class_ref(&self, e: &Expr) -> bool {
        // `Class.m(obj, ...)`: the receiver is not bound to self.
        matches!(e, Expr::Name(n) if self.info.class_named(n.id.as_str()).is_some())
    }
    fn record_flow(&mut self, c: &ast::ExprCall) {
        if let Some(cs) = self.info.call(c.range) {
            // Calls through a variable: parameters cannot be matched.
            for t in &cs.targets {
                self.flows.push((*t, HashMap::new()));
            }
        }
        let Some(f) = self.info.call(c.range).and_then(|cs| cs.target) else { return };
        let Some((pos, kw)) = self.call_params(f, &c.func) else {
            // A call the pass cannot map to parameters: nothing flows.
            self.flows.push((f, HashMap::new()));
            return;
        };
        let mut m: HashMap<String, Flow> = HashMap::new();
        let starred =
            c.args.iter().any(|a| matches!(a, Expr::Starred(_))) || c.keywords.iter().any(|k| k.arg.is_none());
        if !starred {
            for (i, a) in c.args.iter().enumerate() {
                if let Some(p) = pos.get(i) {
                    m.insert(p.clone(), (self.session_group(a), self.response_origins(a), self.is_exc(a)));
                }
            }
            for k in &c.keywords {
                if let Some(a) = &k.arg
                    && (pos.iter().any(|p| p == a.as_str()) || kw.iter().any(|p| p == a.as_str()))
                {
                    m.insert(
                        a.to_string(),
                        (self.session_group(&k.value), self.response_origins(&k.value), self.is_exc(&k.value)),
                    );
                }
            }
        }
        self.flows.push((f, m));
    }
    fn passes_sessions(&self, c: &ast::ExprCall) -> bool {
        let target = self.info.call(c.range).and_then(|cs| cs.target);
        (0..c.args.len()).any(|i| self.flows_to_session_param(target, Some(i), None, &c.func))
            || c.keywords
                .iter()
                .any(|k| self.flows_to_session_param(target, None, k.arg.as_ref().map(|a| a.as_str()), &c.func))
    }
    fn flows_to_session_param(&self, f: Option<FuncId>, pos: Option<usize>, kw: Option<&str>, func: &Expr) -> bool {
        let Some(f) = f else { return false };
        let Some((params, _)) = self.call_params(f, func) else { return false };
        let name = match (pos, kw) {
            (Some(i), _) => params.get(i).cloned(),
            (None, Some(k)) => Some(k.to_string()),
            _ => None,
        };
        name.is_some_and(|n| self.session_params.contains(&(f, n)))
    }

    /// An annotation naming a requests session class.
    fn is_session_annotation(&self, t: &Expr) -> bool {
        self.info.refs.get(&t.range()).is_some_and(|q| self.tables.http.session.iter().any(|s| s.sync == *q))
    }
    /// requests' positional parameters of a request call (a module function
    /// or a method of a followed session).
    fn positional_of(&self, c: &ast::ExprCall) -> Option<Vec<String>> {
        if let Some(q) = self.info.call(c.range).and_then(|cs| cs.qualname.as_deref())
            && let Some(f) = self.tables.http.function.iter().find(|f| f.sync == q)
        {
            return Some(f.positional.clone());
        }
        let Expr::Attribute(a) = &*c.func else { return None };
        self.session_group(&a.value)?;
        self.tables.http.method.iter().find(|m| m.name == a.attr.as_str() && !m.closes).map(|m| m.positional.clone())
    }
    /// Positional arguments after the URL become the keywords of requests'
    /// own signature (httpx and aiohttp take them by keyword only): the
    /// call as the rest of the pass sees it, or why it cannot be mapped.
    fn check_positionals(&mut self, c: &ast::ExprCall) -> ast::ExprCall {
        let mut norm = c.clone();
        let Some(names) = self.positional_of(c) else { return norm };
        let keep = names.iter().position(|n| n == "url").map_or(0, |i| i + 1);
        if c.args.iter().any(|a| matches!(a, Expr::Starred(_))) {
            self.unsupported(
                c.range,
                "`*args` in a requests call cannot be matched to requests' parameters (httpx and aiohttp take all but the method and URL by keyword)",
            );
            return norm;
        }
        if c.args.len() > names.len() {
            self.unsupported(c.range, "more positional arguments than requests accepts (a TypeError) is not converted");
            return norm;
        }
        if c.args.len() <= keep {
            return norm;
        }
        let moved = &names[keep..c.args.len()];
        if let Some(k) =
            c.keywords.iter().find(|k| k.arg.as_ref().is_some_and(|a| moved.iter().any(|m| m == a.as_str())))
        {
            self.unsupported(
                k.range,
                "a keyword argument that repeats a positional one (a TypeError) is not converted",
            );
            return norm;
        }
        let extra = norm.args.split_off(keep);
        let mut kws: Vec<ast::Keyword> = extra
            .into_iter()
            .zip(moved)
            .map(|(v, n)| ast::Keyword { range: v.range(), arg: Some(ast::Identifier::new(n)), value: v })
            .collect();
        kws.append(&mut norm.keywords);
        norm.keywords = kws;
        if self.second {
            self.facts.positional.insert(c.range, names);
        }
        norm
    }
    fn unsupported(&mut self, r: TextRange, why: &str) {
        if self.second {
            self.facts.unsupported.push((r, why.to_string()));
        }
    }
    /// A request's result must be held in a variable or used at once as a
    /// response (aiohttp: read while the session is open).
    /// A response attribute (`r.text`) or method call (`r.json()`) that
    /// becomes `template`.
    fn response_attr(&mut self, r: TextRange, template: &str, origins: Vec<TextRange>, attr: &str) {
        // A read where an `await` can go, in the function of every request it
        // reads from, turns async with them; any other read is a seed.
        let func_of = |c: &TextRange| self.info.call(*c).and_then(|cs| cs.ctx.func);
        let ctx = self.info.site_ctx(r);
        let with_requests = ctx.is_some_and(|x| x.awaitable() && origins.iter().all(|o| func_of(o) == x.func));
        if template.contains("await ") && !with_requests {
            self.facts.read_seeds.insert(r, format!("response.{attr}"));
        }
        if self.check_shadowed(template, r) {
            return;
        }
        self.facts.attrs.insert(r, (template.to_string(), origins));
    }
    /// A request call with `stream=True`.
    fn stream_request(&self, e: &Expr) -> bool {
        let Expr::Call(c) = e else { return false };
        let request = self.module_method(e).is_some()
            || matches!(&*c.func, Expr::Attribute(a) if self.session_group(&a.value).is_some()
                && self.tables.http.method.iter().any(|m| m.name == a.attr.as_str() && !m.closes));
        request
            && c.keywords.iter().any(|k| {
                k.arg.as_ref().is_some_and(|a| a.as_str() == "stream")
                    && matches!(&k.value, Expr::Constant(x) if x.value == Constant::Bool(true))
            })
    }
    /// `for x in r.iter_content(...)` on a stream opened in this function:
    /// the requests of `r`, or why it is not converted.
    fn stream_for(&self, iter: &Expr) -> Option<Result<Vec<TextRange>, String>> {
        let Expr::Call(c) = iter else { return None };
        let Expr::Attribute(a) = &*c.func else { return None };
        if a.attr.as_str() != "iter_content" {
            return None;
        }
        let origins = self.response_origins(&a.value)?;
        if !origins.iter().all(|o| self.facts.streams.contains(o)) {
            return None;
        }
        let here = origins.iter().all(|o| self.info.call(*o).is_some_and(|cs| cs.ctx.func == self.func));
        let size = match (&c.args[..], &c.keywords[..]) {
            ([], []) => None,
            ([n], []) => Some(n),
            ([], [k]) if k.arg.as_ref().is_some_and(|a| a.as_str() == "chunk_size") => Some(&k.value),
            _ => return Some(Err("`iter_content` with arguments other than the chunk size is not converted".into())),
        };
        if !here {
            return Some(Err("a stream iterated outside the function that opened it is not converted".into()));
        }
        // `async for` needs the function's own body: not a class body (or
        // a lambda, a generator expression) inside it.
        if !self.info.call(iter.range()).is_some_and(|cs| cs.ctx.awaitable()) {
            return Some(Err(
                "a stream iterated in a class body inside the function is not converted (`async for` cannot go there)"
                    .into(),
            ));
        }
        if self.aiohttp() && size.is_some_and(|n| matches!(n, Expr::Constant(x) if x.value == Constant::None)) {
            return Some(Err("`iter_content(None)` has no aiohttp equivalent the tool writes".into()));
        }
        Some(Ok(origins))
    }
    /// How a response or session given as an argument of `c` (at position
    /// `pos` or as keyword `kw`) escapes: None when the callee's parameter
    /// is one the pass follows (every call passes it a response).
    fn argument_escape(&self, c: &ast::ExprCall, pos: Option<usize>, kw: Option<&str>) -> Option<String> {
        let cs = self.info.call(c.range);
        if let Some(f) = cs.and_then(|cs| cs.target) {
            let fi = &self.info.funcs[f];
            if fi.foreign.is_some() {
                let module = cs
                    .and_then(|cs| cs.qualname.as_deref())
                    .and_then(|q| q.rsplit_once('.'))
                    .map_or("another module".to_string(), |(m, _)| format!("module {m}"));
                return Some(format!("passed to {}() in {module}, which the http pass does not rewrite", fi.name));
            }
            let param = self.call_params(f, &c.func).and_then(|(params, kws)| match (pos, kw) {
                (Some(i), _) => params.get(i).cloned(),
                (None, Some(k)) => params.iter().chain(&kws).find(|p| p.as_str() == k).cloned(),
                _ => None,
            });
            return match param {
                Some(p) if self.response_params.contains_key(&(f, p.clone())) => None,
                Some(p) => Some(format!(
                    "passed to {}() (parameter `{p}`), which the pass does not follow: not every call of it passes a response",
                    fi.name
                )),
                None => Some(format!("passed to {}() where the pass cannot match it to a parameter", fi.name)),
            };
        }
        if let Some(q) = cs.and_then(|cs| cs.qualname.as_deref()) {
            return Some(format!("passed to {}(), outside the project", q.strip_prefix("builtins.").unwrap_or(q)));
        }
        Some(match crate::syntax::dotted_name(&c.func) {
            Some(d) => format!("passed to {d}(), which the pass does not follow"),
            None => "passed to a call the pass does not follow".to_string(),
        })
    }
    /// Records how the responses and sessions in the parts of `e` escape
    /// (see `escape_ctx`), or that an argument goes to a parameter the pass
    /// follows (a receiver).
    fn note_escapes(&mut self, e: &Expr) {
        let mut notes: Vec<(TextRange, String)> = vec![];
        match e {
            Expr::Call(c) => {
                for (i, a) in c.args.iter().enumerate() {
                    match self.argument_escape(c, Some(i), None) {
                        Some(why) => notes.push((a.range(), why)),
                        None => {
                            self.receivers.insert(a.range());
                        }
                    }
                }
                for k in &c.keywords {
                    match self.argument_escape(c, None, k.arg.as_ref().map(|a| a.as_str())) {
                        Some(why) => notes.push((k.value.range(), why)),
                        None => {
                            self.receivers.insert(k.value.range());
                        }
                    }
                }
            }
            Expr::List(x) => notes.extend(x.elts.iter().map(|e| (e.range(), "stored in a list".to_string()))),
            Expr::Tuple(x) => notes.extend(x.elts.iter().map(|e| (e.range(), "stored in a tuple".to_string()))),
            Expr::Set(x) => notes.extend(x.elts.iter().map(|e| (e.range(), "stored in a set".to_string()))),
            Expr::Dict(x) => notes
                .extend(x.keys.iter().flatten().chain(&x.values).map(|e| (e.range(), "stored in a dict".to_string()))),
            Expr::Yield(ast::ExprYield { value: Some(v), .. })
            | Expr::YieldFrom(ast::ExprYieldFrom { value: v, .. }) => {
                notes.push((v.range(), "yielded to the generator's consumer, which the pass does not follow".into()))
            }
            Expr::FormattedValue(x) => notes.push((
                x.value.range(),
                "formatted into a string (requests' and the target's responses print differently)".into(),
            )),
            Expr::UnaryOp(x) if x.op == ast::UnaryOp::Not => self.truth_test(&x.operand),
            Expr::BoolOp(x) => {
                // `r or default` gives `r` itself, not its truth.
                let why = "combined with `and` / `or`, which gives the response itself where the pass cannot follow it";
                notes.extend(x.values.iter().map(|e| (e.range(), why.to_string())))
            }
            Expr::IfExp(x) => self.truth_test(&x.test),
            Expr::Compare(x) => {
                let none = |e: &Expr| matches!(e, Expr::Constant(k) if k.value == Constant::None);
                if let ([op], [right]) = (&x.ops[..], &x.comparators[..])
                    && matches!(op, ast::CmpOp::Is | ast::CmpOp::IsNot)
                    && (none(right) || none(&x.left))
                {
                    self.receivers.insert(x.left.range());
                    self.receivers.insert(right.range());
                } else {
                    let why = "compared (requests' and the target's responses compare differently)";
                    notes.push((x.left.range(), why.into()));
                    notes.extend(x.comparators.iter().map(|e| (e.range(), why.to_string())));
                }
            }
            _ => {}
        }
        for (r, why) in notes {
            self.escape_ctx.entry(r).or_insert(why);
        }
    }
    /// `e` is used for its truth only (an `if` / `while` / `assert` test,
    /// the operand of `not`, and the parts of such a test's `and` / `or`).
    fn truth_test(&mut self, e: &Expr) {
        self.truth_tests.insert(e.range());
        if let Expr::BoolOp(x) = e {
            for v in &x.values {
                self.truth_test(v);
            }
        }
    }
    /// `x = r`, `self.last = r`, `d[k] = r`: how the value escapes (the
    /// pass follows a response only in the variable a request is assigned to).
    fn note_stored(&mut self, targets: &[Expr], value: &Expr) {
        let why = match targets {
            [Expr::Name(n)] if matches!(value, Expr::Name(_)) => {
                format!(
                    "assigned to `{}`, which the pass does not follow (only the variable a request is assigned to)",
                    n.id
                )
            }
            [Expr::Name(_)] => return,
            [Expr::Attribute(a)] => format!(
                "stored in `{}`, which the pass does not follow",
                crate::syntax::dotted_name(&Expr::Attribute(a.clone())).unwrap_or_else(|| a.attr.to_string())
            ),
            [Expr::Subscript(x)] => match crate::syntax::dotted_name(&x.value) {
                Some(d) => format!("stored in an item of `{d}`, which the pass does not follow"),
                None => "stored in an item the pass does not follow".into(),
            },
            _ => "assigned where the pass does not follow it".into(),
        };
        self.escape_ctx.entry(value.range()).or_insert(why);
    }
    /// The other module of the project that imports function `f` (a
    /// module-level function), if any.
    fn exported_to(&self, f: FuncId) -> Option<&str> {
        let fi = &self.info.funcs[f];
        if fi.class.is_some() || !fi.exported {
            return None;
        }
        self.info.imported_by.get(&fi.name).map(String::as_str)
    }
    /// How the response or session in `e` escapes, for a diagnostic.
    fn escape_of(&self, e: &Expr) -> String {
        self.escape_ctx.get(&e.range()).cloned().unwrap_or_else(|| "used where the pass cannot follow it".into())
    }
    fn check_response_use(&mut self, call: TextRange) {
        if self.aiohttp() && !self.receivers.contains(&call) {
            self.unsupported(call, ESCAPED_RESPONSE);
        }
    }
    /// `e.response.<attr>` where `e` holds a caught requests error.
    /// A name holding a caught requests error (an `except ... as e` name,
    /// or a parameter every call passes one to).
    fn is_exc(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.func.is_some_and(|f| self.exc_names.contains(&(f, n.id.to_string()))))
    }
    /// `getattr(e, "response", None)` or `e.response` on a caught requests
    /// error: the error's name.
    fn err_response(&self, e: &Expr) -> Option<String> {
        let exc = match e {
            Expr::Attribute(a) if a.attr.as_str() == "response" => &*a.value,
            Expr::Call(c)
                if self.qual(e) == Some("builtins.getattr")
                    && c.keywords.is_empty()
                    && c.args.len() == 3
                    && matches!(&c.args[1], Expr::Constant(x) if x.value == Constant::Str("response".into()))
                    && matches!(&c.args[2], Expr::Constant(x) if x.value == Constant::None) =>
            {
                &c.args[0]
            }
            _ => return None,
        };
        let Expr::Name(n) = exc else { return None };
        self.is_exc(exc).then(|| n.id.to_string())
    }
    /// A variable that surely holds a caught error's response (or None).
    fn is_err_response_var(&self, e: &Expr) -> bool {
        let Expr::Name(n) = e else { return false };
        self.binds
            .get(&(self.func, n.id.to_string()))
            .is_some_and(|b| !b.is_empty() && b.iter().all(|b| *b == Bind::ErrResponse))
    }
    /// The replacement of `<err response>.<attr>` (`recv` its source text,
    /// `exc` the error's), or why there is none.
    fn err_response_attr(&self, recv: &str, exc: &str, attr: &str) -> Result<Option<String>, String> {
        if self.aiohttp() {
            // aiohttp's ClientResponseError is the response's stand-in: it
            // keeps the status, reason and headers, not the body.
            return match attr {
                "status_code" => Ok(Some(format!("{exc}.status"))),
                "reason" => Ok(Some(format!("{exc}.message"))),
                "headers" => Ok(Some(format!("{exc}.headers"))),
                _ => Err(format!("`.response.{attr}` of an HTTP error has no aiohttp equivalent")),
            };
        }
        let t = self.tables.http.attribute.iter().find(|t| t.name == attr && !t.call);
        Ok(t.and_then(|t| t.template(self.tables.http.backend)).map(|t| t.replace("{r}", recv)))
    }
    fn exc_response(&self, a: &ast::ExprAttribute) -> Option<(String, String)> {
        let Expr::Attribute(inner) = &*a.value else { return None };
        let Expr::Name(n) = &*inner.value else { return None };
        let f = self.func?;
        (inner.attr.as_str() == "response" && self.exc_names.contains(&(f, n.id.to_string())))
            .then(|| (n.id.to_string(), a.attr.to_string()))
    }
    /// `t` is a class an error is matched against (with its tuple items).
    fn catch_position(&mut self, t: &Expr) {
        self.catch_refs.insert(t.range());
        if let Expr::Tuple(x) = t {
            x.elts.iter().for_each(|e| self.catch_position(e));
        }
    }
    fn aiohttp(&self) -> bool {
        self.tables.http.backend == HttpBackend::Aiohttp
    }
    /// The unsupported-feature rule for `name` with the chosen backend.
    fn unsupported_rule(&self, name: &str) -> Option<String> {
        let b = self.tables.http.backend;
        self.tables
            .http
            .unsupported
            .iter()
            .find(|u| u.name == name && u.backend.is_none_or(|x| x == b))
            .map(|u| u.why.clone())
    }
    fn check_keywords(&mut self, c: &ast::ExprCall) {
        for k in &c.keywords {
            let Some(a) = &k.arg else { continue };
            if a.as_str() == "stream" && self.facts.streams.contains(&c.range) {
                continue;
            }
            if a.as_str() == "verify" && !self.aiohttp() {
                // httpx takes `verify=` on the client only: moved there when
                // every request of the client agrees (see `collect`).
                let scope = match &*c.func {
                    Expr::Attribute(x) if self.module_method(&Expr::Call(c.clone())).is_none() => {
                        self.session_group(&x.value)
                    }
                    _ => self.func.map(|f| format!("func:{f}")),
                };
                let global = |n: &str| !self.binds.contains_key(&(self.func, n.to_string()));
                let stable = matches!(&k.value, Expr::Constant(x) if matches!(x.value, Constant::Bool(_) | Constant::Str(_)))
                    || matches!(&k.value, Expr::Name(n) if global(n.id.as_str()));
                match scope {
                    // Module-level calls stay as they are.
                    None if self.func.is_none() => {}
                    Some(scope) if stable => {
                        if self.second {
                            self.facts.verify.push((c.range, scope, k.value.clone()));
                        }
                    }
                    _ => self.unsupported(
                        k.range,
                        "`verify=` must move to the httpx client, and this value cannot (only a literal or a module-level name can)",
                    ),
                }
                continue;
            }
            if let Some(why) = self.unsupported_rule(a.as_str()) {
                self.unsupported(k.range, &why);
            } else if self.aiohttp() {
                let literal_bool = matches!(&k.value, Expr::Constant(x) if matches!(x.value, Constant::Bool(_)));
                let pair = matches!(&k.value, Expr::Tuple(t) if t.elts.len() == 2);
                match a.as_str() {
                    "verify" if !literal_bool => {
                        self.unsupported(k.range, "`verify=` with a CA bundle needs an `ssl.SSLContext` with aiohttp")
                    }
                    "timeout"
                        if !matches!(&k.value, Expr::Name(_) | Expr::Attribute(_) | Expr::Constant(_))
                            && !matches!(&k.value, Expr::Tuple(t) if t.elts.len() == 2) =>
                    {
                        // Split at run time it would be evaluated twice; as a
                        // total timeout it raises a plain TimeoutError, which
                        // none of the Timeout rows of http.toml matches.
                        self.unsupported(
                            k.range,
                            "`timeout=` other than a number, a name, an attribute or a (connect, read) tuple is not converted with aiohttp: it cannot be split into `sock_connect` / `sock_read` without evaluating it twice, and a total timeout raises a plain TimeoutError (requests: ConnectTimeout / ReadTimeout)",
                        )
                    }
                    "auth" if !pair => self.unsupported(
                        k.range,
                        "`auth=` other than a (user, password) tuple has no aiohttp equivalent the tool can write",
                    ),
                    _ => {}
                }
            }
        }
    }
}

impl<'a> Visitor<'a> for Collector<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(ast::StmtFunctionDef { args, body, decorator_list, .. })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef { args, body, decorator_list, .. }) => {
                decorator_list.iter().for_each(|d| self.visit_expr(d));
                self.visit_arguments(args);
                let saved = self.func;
                self.func = self.info.func_at(s.range().start().into());
                if !self.second
                    && let Some(f) = self.func
                {
                    let pos = args.posonlyargs.iter().chain(&args.args).map(|a| a.def.arg.to_string()).collect();
                    let kw = args.kwonlyargs.iter().map(|a| a.def.arg.to_string()).collect();
                    self.params.insert(f, (pos, kw));
                }
                if !self.second {
                    for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                        let p = a.def.arg.to_string();
                        if let (Some(f), Some(t)) = (self.func, a.def.annotation.as_deref())
                            && self.is_session_annotation(t)
                        {
                            self.annotated.insert((f, p.clone()), t.range());
                        }
                        if self.func.is_some_and(|f| {
                            self.session_params.contains(&(f, p.clone()))
                                || self.response_params.contains_key(&(f, p.clone()))
                        }) {
                            continue;
                        }
                        if let (Some(_), Some(t)) = (self.func, a.def.annotation.as_deref())
                            && self.is_session_annotation(t)
                        {
                            // `s: requests.Session`: a session, followed when
                            // every call passes one the pass follows.
                            let b = self.binds.entry((self.func, p)).or_default();
                            if b.is_empty() {
                                b.push(Bind::Session(t.range()));
                            }
                            continue;
                        }
                        self.binds.entry((self.func, p)).or_default().push(Bind::Other);
                    }
                    for a in args.vararg.iter().chain(&args.kwarg) {
                        self.binds.entry((self.func, a.arg.to_string())).or_default().push(Bind::Other);
                    }
                }
                self.visit_body(body);
                self.func = saved;
                if !self.second
                    && let Stmt::FunctionDef(f) = s
                {
                    self.binds.entry((self.func, f.name.to_string())).or_default().push(Bind::Other);
                }
                return;
            }
            Stmt::Assign(a) if !self.second => {
                let b = if a.targets.len() == 1 { self.classify(&a.value) } else { Bind::Other };
                for t in &a.targets {
                    self.bind_target(t, b.clone());
                }
            }
            Stmt::AnnAssign(a) if !self.second => {
                if let Some(v) = &a.value {
                    let b = self.classify(v);
                    self.bind_target(&a.target, b);
                }
            }
            Stmt::AugAssign(a) if !self.second => self.bind_target(&a.target, Bind::Other),
            Stmt::Return(r) if !self.second => {
                if let Some(f) = self.func {
                    let g = r.value.as_ref().and_then(|v| match &**v {
                        // A session this function creates and keeps in a local.
                        Expr::Name(_) => self.session_group(v).filter(|g| g.starts_with(&format!("{:?}:", Some(f)))),
                        _ => None,
                    });
                    let entry = self.session_returns.entry(f).or_insert_with(|| g.clone());
                    if *entry != g {
                        *entry = None;
                    }
                    let o = r.value.as_ref().and_then(|v| self.response_origins(v));
                    let entry = self.returns.entry(f).or_insert_with(|| Some(vec![]));
                    match (entry.as_mut(), o) {
                        (Some(all), Some(o)) => all.extend(o),
                        _ => *entry = None,
                    }
                }
            }
            Stmt::Return(ast::StmtReturn { value: Some(v), .. })
                if self.second
                    && matches!(&**v, Expr::Name(_))
                    && self.func.is_some_and(|f| self.session_funcs.contains_key(&f)) =>
            {
                // A session factory hands its session to its callers, which
                // the pass follows.
                return;
            }
            Stmt::Return(r) if self.second => {
                // A function that returns responses hands them to its callers,
                // which the pass follows in this module only.
                if let (Some(v), Some(f)) = (&r.value, self.func)
                    && self.response_funcs.contains_key(&f)
                    && let Some(m) = self.exported_to(f)
                {
                    let why = format!(
                        "a response is returned from {}(), which module {m} imports: the http pass does not rewrite what that module does with it",
                        self.info.funcs[f].name
                    );
                    self.unsupported(v.range(), &why);
                    self.receivers.insert(v.range());
                } else if let (Some(v), Some(f)) = (&r.value, self.func)
                    && self.response_funcs.contains_key(&f)
                {
                    let o = self.response_origins(v).unwrap_or_default();
                    if !self.aiohttp() || self.long_lived(&o) {
                        self.receivers.insert(v.range());
                    } else if self.module_requests(&o) {
                        // aiohttp: read the body while the function's client is
                        // open (requests reads it at once too); a read response
                        // stays readable after its session closes.
                        self.receivers.insert(v.range());
                        let here = o.iter().any(|c| self.info.call(*c).is_some_and(|cs| cs.ctx.func == Some(f)));
                        if here {
                            self.facts.read_returns.insert(s.range(), o);
                        }
                    } else {
                        let name = &self.info.funcs[f].name;
                        let why = format!("returned from {name}(), and its session closes before the caller reads it");
                        self.escape_ctx.insert(v.range(), why);
                    }
                } else if let (Some(v), Some(f)) = (&r.value, self.func) {
                    let name = &self.info.funcs[f].name;
                    let why = format!(
                        "returned from {name}(), whose callers the pass does not follow (not every `return` of it gives a response)"
                    );
                    self.escape_ctx.entry(v.range()).or_insert(why);
                }
            }
            Stmt::For(f) if self.second && self.stream_for(&f.iter).is_some() => {
                match self.stream_for(&f.iter) {
                    Some(Ok(origins)) => {
                        self.facts.stream_fors.insert(s.range(), origins);
                        if let Expr::Call(c) = &*f.iter {
                            c.args.iter().for_each(|x| self.visit_expr(x));
                            c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
                        }
                    }
                    Some(Err(why)) => self.unsupported(f.iter.range(), &why),
                    None => {}
                }
                self.visit_target(&f.target);
                self.visit_body(&f.body);
                self.visit_body(&f.orelse);
                return;
            }
            Stmt::For(ast::StmtFor { target, iter, .. }) | Stmt::AsyncFor(ast::StmtAsyncFor { target, iter, .. })
                if !self.second =>
            {
                let b = self.history_item(iter);
                self.bind_target(target, b)
            }
            Stmt::With(ast::StmtWith { items, body, .. }) | Stmt::AsyncWith(ast::StmtAsyncWith { items, body, .. })
                if self.second =>
            {
                for it in items {
                    if self.is_session_new(&it.context_expr) || self.factory_group(&it.context_expr).is_some() {
                        self.facts.session_with.insert(it.context_expr.range());
                    }
                    if self.stream_request(&it.context_expr)
                        && items.len() == 1
                        && it.optional_vars.as_deref().is_none_or(|v| matches!(v, Expr::Name(_)))
                    {
                        // `with requests.get(u, stream=True) as r`: a stream.
                        self.facts.streams.insert(it.context_expr.range());
                        self.receivers.insert(it.context_expr.range());
                    } else if self.response_origins(&it.context_expr).is_some() {
                        self.unsupported(
                            it.context_expr.range(),
                            "a response used as a context manager is not converted yet (only a `stream=True` request, alone in its `with`, is)",
                        );
                        self.receivers.insert(it.context_expr.range());
                    }
                    self.visit_expr(&it.context_expr);
                    if let Some(v) = &it.optional_vars {
                        self.visit_target(v);
                    }
                }
                self.visit_body(body);
                return;
            }
            Stmt::With(ast::StmtWith { items, .. }) | Stmt::AsyncWith(ast::StmtAsyncWith { items, .. }) => {
                for it in items {
                    if let Some(v) = &it.optional_vars {
                        if !self.second {
                            let b = self.classify(&it.context_expr);
                            self.bind_target(v, b);
                        } else if self.is_session_new(&it.context_expr) {
                            self.facts.session_with.insert(it.context_expr.range());
                        }
                    } else if self.second && self.is_session_new(&it.context_expr) {
                        self.facts.session_with.insert(it.context_expr.range());
                    }
                }
            }
            Stmt::Assign(a) if self.second => {
                // Binding targets are not uses of what they bind.
                if a.targets.len() == 1 && matches!(a.targets[0], Expr::Name(_)) && !matches!(&*a.value, Expr::Name(_))
                {
                    self.receivers.insert(a.value.range());
                }
                self.note_stored(&a.targets, &a.value);
                self.visit_expr(&a.value);
                a.targets.iter().for_each(|t| self.visit_target(t));
                return;
            }
            Stmt::AnnAssign(a) if self.second => {
                if let Some(v) = &a.value {
                    self.note_stored(std::slice::from_ref(&*a.target), v);
                    self.visit_expr(v);
                }
                self.visit_target(&a.target);
                return;
            }
            Stmt::Expr(e) if self.second => {
                // A request whose response is dropped.
                self.receivers.insert(e.value.range());
                self.expr_stmts.insert(e.value.range());
                if let Expr::Call(c) = &*e.value
                    && c.args.is_empty()
                    && c.keywords.is_empty()
                    && let Expr::Attribute(a) = &*c.func
                    && a.attr.as_str() == "raise_for_status"
                    && !self.aiohttp()
                    && let Some(origins) = self.response_origins(&a.value)
                {
                    self.facts.raises.insert(s.range(), origins);
                }
            }
            Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::ClassDef(_) if !self.second => {
                for n in crate::analysis::scope::collect(std::slice::from_ref(s)).names.keys() {
                    self.binds.entry((self.func, n.clone())).or_default().push(Bind::Other);
                }
            }
            _ => {}
        }
        if self.second
            && let Stmt::If(ast::StmtIf { test, .. })
            | Stmt::While(ast::StmtWhile { test, .. })
            | Stmt::Assert(ast::StmtAssert { test, .. }) = s
        {
            self.truth_test(test);
        }
        if let Stmt::Global(g) = s {
            for n in &g.names {
                self.binds.entry((self.func, n.to_string())).or_default().push(Bind::Other);
            }
        }
        walk_stmt(self, s);
    }

    fn visit_except_handler(&mut self, h: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(hh) = h;
        if let Some(t) = &hh.type_ {
            self.catch_position(t);
        }
        if !self.second
            && let Some(n) = &hh.name
        {
            self.binds.entry((self.func, n.to_string())).or_default().push(Bind::Other);
        }
        if let (Some(n), Some(t), Some(f)) = (&hh.name, &hh.type_, self.func) {
            let types: Vec<&Expr> = match &**t {
                Expr::Tuple(t) => t.elts.iter().collect(),
                e => vec![e],
            };
            let mapped = |e: &Expr| {
                self.info
                    .refs
                    .get(&e.range())
                    .is_some_and(|q| self.tables.http.exception.iter().any(|x| x.sync.iter().any(|s| s == q)))
            };
            if types.iter().any(|e| mapped(e)) {
                self.exc_names.insert((f, n.to_string()));
            }
        }
        crate::syntax::visit::Visitor::visit_except_handler(&mut DefaultHandler(self), h);
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        if !self.second {
            if let Expr::NamedExpr(n) = e {
                self.bind_target(&n.target, Bind::Other);
            }
            if let Expr::ListComp(ast::ExprListComp { generators, .. })
            | Expr::SetComp(ast::ExprSetComp { generators, .. })
            | Expr::GeneratorExp(ast::ExprGeneratorExp { generators, .. })
            | Expr::DictComp(ast::ExprDictComp { generators, .. }) = e
            {
                for g in generators {
                    let b = self.history_item(&g.iter);
                    self.bind_target(&g.target, b);
                }
            }
            if let Expr::Call(c) = e {
                self.record_flow(c);
                if self.module_method(e).is_some() {
                    self.request_group.insert(c.range, None);
                } else if let Expr::Attribute(a) = &*c.func
                    && let Some(g) = self.session_group(&a.value)
                {
                    self.request_group.insert(c.range, Some(g));
                }
            }
            walk_expr(self, e);
            return;
        }
        self.note_escapes(e);
        if let Expr::Call(c) = e
            && matches!(self.qual(e), Some("builtins.isinstance" | "builtins.issubclass"))
            && c.args.len() == 2
        {
            self.catch_position(&c.args[1]);
        }
        // Exceptions: renamed where errors are matched against them.
        if let Some(q) = self.info.refs.get(&e.range())
            && let Some(x) = self.tables.http.exception.iter().find(|x| x.sync.iter().any(|s| s == q))
        {
            let short = q.rsplit('.').next().unwrap_or(q);
            match x.to(self.tables.http.backend) {
                Some(t) if self.catch_refs.contains(&e.range()) => {
                    if !self.check_shadowed(t, e.range()) {
                        self.facts.exceptions.insert(e.range(), t.to_string());
                    }
                }
                Some(_) => self.unsupported(
                    e.range(),
                    &format!(
                        "`{short}` used other than to catch an error (in `except` or `isinstance`) is not converted"
                    ),
                ),
                None => {
                    let why = x
                        .why
                        .as_deref()
                        .unwrap_or("no exception of the target library is raised in the same situations");
                    let lib = if self.aiohttp() { "aiohttp" } else { "httpx" };
                    self.unsupported(e.range(), &format!("`{short}` has no {lib} counterpart: {why}"));
                }
            }
            return;
        }
        if let Expr::Call(c) = e
            && let Expr::Name(k) = &*c.func
            && self.info.class_named(k.id.as_str()).is_some()
        {
            self.facts.instantiations.push((k.id.to_string(), self.func));
        }
        match e {
            _ if self.err_response(e).is_some() => {
                // `getattr(e, "response", None)`: aiohttp's ClientResponseError
                // stands for the response (a ClientResponseError is what
                // carries one: raise_for_status, too many redirects).
                let exc = self.err_response(e).unwrap_or_default();
                if self.aiohttp() {
                    self.facts.exc_attrs.insert(
                        e.range(),
                        format!("{exc} if isinstance({exc}, aiohttp.ClientResponseError) else None"),
                    );
                } else if matches!(e, Expr::Attribute(_)) {
                    // Every requests error has `.response`; of httpx's, only
                    // HTTPStatusError has one.
                    self.facts.exc_attrs.insert(e.range(), format!("getattr({exc}, \"response\", None)"));
                }
                return;
            }
            Expr::Call(c)
                if matches!(&*c.func, Expr::Attribute(a) if self.response_origins(&a.value).is_some_and(|o| o.iter().any(|o| self.facts.streams.contains(o)))
                    && !STREAM_ATTRS.contains(&a.attr.as_str())) =>
            {
                self.unsupported(
                    c.range,
                    "reading a streamed response other than by `iter_content` in a `for` is not converted",
                );
                return;
            }
            Expr::Call(c)
                if matches!(&*c.func, Expr::Attribute(a) if self.response_origins(&a.value).is_some()
                    && self.tables.http.attribute.iter().any(|t| t.call && t.name == a.attr.as_str())) =>
            {
                // `r.json()`: a response method with a template.
                let Expr::Attribute(a) = &*c.func else { unreachable!("matched above") };
                let origins = self.response_origins(&a.value).unwrap_or_default();
                let t = self.tables.http.attribute.iter().find(|t| t.call && t.name == a.attr.as_str());
                if let Some(template) = t.and_then(|t| t.template(self.tables.http.backend)) {
                    if a.attr.as_str() == "close" && self.aiohttp() && !self.expr_stmts.contains(&c.range) {
                        // `await r.read()` gives the body, not None.
                        self.unsupported(c.range, "the value of `r.close()` is used: with aiohttp it becomes `await r.read()`, which gives the body (requests: None)");
                    } else if c.args.is_empty() && c.keywords.is_empty() {
                        let (template, attr) = (template.to_string(), a.attr.to_string());
                        self.response_attr(c.range, &template, origins, &attr);
                    } else {
                        self.unsupported(c.range, &format!("`.{}()` with arguments is not converted", a.attr));
                    }
                }
                self.receivers.insert(a.value.range());
                if !matches!(&*a.value, Expr::Name(_)) {
                    self.visit_expr(&a.value);
                }
                c.args.iter().for_each(|x| self.visit_expr(x));
                c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
                return;
            }
            Expr::Call(c) if self.passes_sessions(c) => {
                // Sessions handed to parameters that hold sessions do not escape.
                self.visit_expr(&c.func);
                let target = self.info.call(c.range).and_then(|cs| cs.target);
                for (i, a) in c.args.iter().enumerate() {
                    if !self.flows_to_session_param(target, Some(i), None, &c.func) {
                        self.visit_expr(a);
                    }
                }
                for k in &c.keywords {
                    if !self.flows_to_session_param(target, None, k.arg.as_ref().map(|a| a.as_str()), &c.func) {
                        self.visit_expr(&k.value);
                    }
                }
                return;
            }
            Expr::Call(c) => {
                if let Some(method) = self.module_method(e) {
                    let norm = self.check_positionals(c);
                    self.check_keywords(&norm);
                    self.check_response_use(c.range);
                    self.facts.module_calls.insert(c.range, method);
                } else if self.is_session_new(e) {
                    self.facts.session_new.insert(c.range, String::new());
                } else if let Some(g) = self.factory_group(e) {
                    self.facts.factory_calls.insert(c.range, g);
                } else if let Expr::Attribute(a) = &*c.func
                    && let Some(g) = self.session_group(&a.value)
                {
                    if let Some(m) = self.tables.http.method.iter().find(|m| m.name == a.attr.as_str()) {
                        let norm = self.check_positionals(c);
                        self.check_keywords(&norm);
                        let to = m.to(self.tables.http.backend).to_string();
                        if !m.closes {
                            self.check_response_use(c.range);
                        }
                        self.facts.session_calls.insert(c.range, (to, g));
                    } else if !SESSION_ATTRS.contains(&a.attr.as_str()) {
                        let why = self
                            .unsupported_rule(a.attr.as_str())
                            .unwrap_or_else(|| format!("`Session.{}` is not mapped to an async client", a.attr));
                        self.unsupported(a.range, &why);
                    }
                    c.args.iter().for_each(|x| self.visit_expr(x));
                    c.keywords.iter().for_each(|k| self.visit_expr(&k.value));
                    if let Expr::Attribute(inner) = &*a.value {
                        self.visit_expr(&inner.value);
                    }
                    return;
                }
            }
            Expr::Attribute(a) if self.exc_response(a).is_some() => {
                // `e.response.status_code` on a caught HTTP error.
                let (exc, attr) = self.exc_response(a).unwrap_or_default();
                match self.err_response_attr(&format!("{exc}.response"), &exc, &attr) {
                    Ok(Some(new)) => {
                        self.facts.exc_attrs.insert(a.range, new);
                    }
                    Ok(None) => {}
                    Err(why) => self.unsupported(a.range, &why),
                }
                return;
            }
            Expr::Attribute(a) if self.is_err_response_var(&a.value) => {
                // `response.status_code` where `response = getattr(e, "response", None)`.
                let Expr::Name(v) = &*a.value else { unreachable!("checked by is_err_response_var") };
                match self.err_response_attr(v.id.as_str(), v.id.as_str(), a.attr.as_str()) {
                    Ok(Some(new)) => {
                        self.facts.exc_attrs.insert(a.range, new);
                    }
                    Ok(None) => {}
                    Err(why) => self.unsupported(a.range, &why),
                }
                return;
            }
            Expr::Compare(c)
                if self.is_err_response_var(&c.left)
                    && matches!(c.ops[..], [ast::CmpOp::Is | ast::CmpOp::IsNot])
                    && matches!(&c.comparators[..], [Expr::Constant(x)] if x.value == Constant::None) =>
            {
                // `response is None`: the same test with aiohttp's stand-in.
                return;
            }
            Expr::Name(n) if self.aiohttp() && self.is_err_response_var(e) => {
                self.facts.names.insert(n.id.to_string());
                self.unsupported(
                    e.range(),
                    "the response of an HTTP error is used other than by `is None` or its status, reason or headers (aiohttp's error has no response object)",
                );
                return;
            }
            Expr::Attribute(a)
                if self
                    .response_origins(&a.value)
                    .is_some_and(|o| o.iter().any(|o| self.facts.streams.contains(o)))
                    && !STREAM_ATTRS.contains(&a.attr.as_str()) =>
            {
                self.unsupported(
                    a.range,
                    &format!("`.{}` of a streamed response is not converted (only its status, headers and `iter_content` in a `for`)", a.attr),
                );
                return;
            }
            Expr::Attribute(a) => {
                if let Some(origins) = self.response_origins(&a.value) {
                    let attr = a.attr.as_str();
                    if let Some(t) = self.tables.http.attribute.iter().find(|t| t.name == attr) {
                        if t.call {
                            if self.aiohttp() {
                                self.unsupported(
                                    a.range,
                                    &format!("`Response.{attr}` used other than as a call is not converted"),
                                );
                            }
                        } else if let Some(template) = t.template(self.tables.http.backend) {
                            let template = template.to_string();
                            self.response_attr(a.range, &template, origins, attr);
                        }
                    } else if let Some(why) = self.unsupported_rule(attr) {
                        self.unsupported(a.range, &why);
                    } else if self.aiohttp() {
                        self.unsupported(a.range, &format!("`Response.{attr}` is not mapped to aiohttp"));
                    }
                    self.receivers.insert(a.value.range());
                    if !matches!(&*a.value, Expr::Name(_)) {
                        self.visit_expr(&a.value);
                    }
                    return;
                }
                if let Some(_g) = self.session_group(&a.value) {
                    if !SESSION_ATTRS.contains(&a.attr.as_str()) {
                        let why = format!("`Session.{}` is not mapped to httpx", a.attr);
                        self.unsupported(a.range, &why);
                    }
                    return;
                }
                if let Some(g) = self.session_group(e) {
                    // `self.session` used other than as a receiver.
                    let what = crate::syntax::dotted_name(e).unwrap_or_else(|| a.attr.to_string());
                    let why = format!("session `{what}` is {}", self.escape_of(e));
                    self.facts.escape_sites.entry(g.clone()).or_insert((e.range(), why));
                    self.facts.escaped_groups.insert(g);
                }
                let aiohttp_only = self.aiohttp() && matches!(a.attr.as_str(), "status_code" | "json" | "history");
                if (aiohttp_only || matches!(a.attr.as_str(), "ok" | "reason" | "raw" | "iter_content" | "iter_lines"))
                    && !matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "self")
                {
                    self.unsupported(
                        a.range,
                        &format!("cannot tell whether `.{}` here is on a requests response; the pass follows responses only in local variables", a.attr),
                    );
                }
            }
            Expr::Name(n) => {
                self.facts.names.insert(n.id.to_string());
                if let Some(g) = self.session_group(e) {
                    let why = format!("session `{}` is {}", n.id, self.escape_of(e));
                    self.facts.escape_sites.entry(g.clone()).or_insert((e.range(), why));
                    self.facts.escaped_groups.insert(g);
                }
                if self.truth_tests.contains(&e.range())
                    && let Some(origins) = self.response_origins(e)
                    && let Some(t) = self.tables.http.attribute.iter().find(|t| t.name == "ok" && !t.call)
                    && let Some(template) = t.template(self.tables.http.backend)
                {
                    // `if r:`: requests' `Response.__bool__` is `ok`.
                    let template = template.to_string();
                    self.response_attr(e.range(), &template, origins, "ok");
                } else if n.ctx == ast::ExprContext::Load
                    && !self.receivers.contains(&e.range())
                    && self.response_origins(e).is_some()
                {
                    let mut why = format!("response `{}` is {}", n.id, self.escape_of(e));
                    if self.aiohttp() {
                        why.push_str(" (an aiohttp response must be read inside the code that holds its session)");
                    }
                    self.unsupported(e.range(), &why);
                }
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

/// Visits an except handler's parts with the collector (default behaviour).
struct DefaultHandler<'c, 'x>(&'c mut Collector<'x>);
impl<'a> Visitor<'a> for DefaultHandler<'_, '_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        self.0.visit_stmt(s)
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        self.0.visit_expr(e)
    }
}

fn collect(body: &[Stmt], info: &ModuleInfo, tables: &Tables) -> Facts {
    let shadowing = local_modules(body);
    let new = |binds, attr_binds, session_params| Collector {
        info,
        tables,
        func: None,
        binds,
        attr_binds,
        second: false,
        facts: Facts::default(),
        params: HashMap::new(),
        flows: vec![],
        session_params,
        receivers: HashSet::new(),
        exc_names: HashSet::new(),
        escape_ctx: HashMap::new(),
        truth_tests: HashSet::new(),
        expr_stmts: HashSet::new(),
        response_funcs: HashMap::new(),
        returns: HashMap::new(),
        session_funcs: HashMap::new(),
        session_returns: HashMap::new(),
        request_group: HashMap::new(),
        annotated: HashMap::new(),
        catch_refs: HashSet::new(),
        local_modules: shadowing.clone(),
        response_params: HashMap::new(),
        derived: HashMap::new(),
    };
    // Round 1 finds sessions; round 2, knowing them, also classifies the
    // results of session calls as responses and follows sessions into the
    // parameters of the functions they are passed to (again, until nothing
    // new is found); the last round collects the sites.
    let mut c = new(HashMap::new(), HashMap::new(), HashSet::new());
    c.visit_body(body);
    let all_sessions = |v: &Vec<Bind>| !v.is_empty() && v.iter().all(|b| matches!(b, Bind::Session(_)));
    let sessions: HashMap<_, _> = c.binds.into_iter().filter(|(_, v)| all_sessions(v)).collect();
    let attr_sessions: HashMap<_, _> = c.attr_binds.into_iter().filter(|(_, v)| all_sessions(v)).collect();
    let mut session_params: HashSet<(FuncId, String)> = HashSet::new();
    let mut unions: Vec<(String, String)> = vec![];
    let mut response_funcs: HashMap<FuncId, Vec<TextRange>> = HashMap::new();
    let mut session_funcs: HashMap<FuncId, String> = HashMap::new();
    let mut response_params: HashMap<(FuncId, String), Vec<TextRange>> = HashMap::new();
    let mut derived: HashMap<TextRange, Vec<TextRange>> = HashMap::new();
    // Parameters every call passes a caught requests error to.
    let mut exc_params: HashSet<(FuncId, String)> = HashSet::new();
    let mut rounds = 0;
    let mut c = loop {
        rounds += 1;
        let mut seeded = sessions.clone();
        for (f, p) in &session_params {
            seeded.insert((Some(*f), p.clone()), vec![Bind::Session(info.funcs[*f].range)]);
        }
        for (f, p) in response_params.keys() {
            // A marker binding: the origins are in `response_params`.
            seeded.insert((Some(*f), p.clone()), vec![Bind::Response(info.funcs[*f].range)]);
        }
        let mut c = new(seeded, attr_sessions.clone(), session_params.clone());
        c.derived = derived.clone();
        c.response_funcs = response_funcs.clone();
        c.session_funcs = session_funcs.clone();
        c.response_params = response_params.clone();
        c.exc_names = exc_params.clone();
        c.visit_body(body);
        let returns: HashMap<FuncId, Vec<TextRange>> = c
            .returns
            .iter()
            .filter_map(|(f, o)| Some((*f, o.clone().filter(|o| !o.is_empty())?)))
            .filter(|(f, _)| info.funcs[*f].boundary.is_none())
            .collect();
        let factories: HashMap<FuncId, String> =
            c.session_returns.iter().filter_map(|(f, g)| Some((*f, g.clone()?))).collect();
        let new_returns = returns != response_funcs || c.derived != derived || factories != session_funcs;
        session_funcs = factories;
        response_funcs = returns;
        derived = c.derived.clone();
        // A parameter holds a session when every call of its function passes
        // one and the function never rebinds it.
        let mut per_func: HashMap<FuncId, Vec<&HashMap<String, Flow>>> = HashMap::new();
        for (f, m) in &c.flows {
            per_func.entry(*f).or_default().push(m);
        }
        let mut found = vec![];
        let mut found_responses = vec![];
        let mut found_excs = vec![];
        // How many calls may run each function (`calls_of(f).count()`),
        // counted in one pass over the calls.
        let mut calls_of: HashMap<FuncId, usize> = HashMap::new();
        for c in &info.calls {
            let mut ts: Vec<FuncId> = c.target.into_iter().chain(c.targets.iter().copied()).collect();
            ts.sort_unstable();
            ts.dedup();
            for t in ts {
                *calls_of.entry(t).or_default() += 1;
            }
        }
        for (f, sites) in &per_func {
            let total = calls_of.get(f).copied().unwrap_or(0);
            if sites.len() != total {
                continue;
            }
            let Some((pos, kw)) = c.params.get(f) else { continue };
            for p in pos.iter().chain(kw) {
                if session_params.contains(&(*f, p.clone()))
                    || response_params.contains_key(&(*f, p.clone()))
                    || exc_params.contains(&(*f, p.clone()))
                {
                    continue;
                }
                let groups: Option<Vec<String>> = sites.iter().map(|m| m.get(p).and_then(|x| x.0.clone())).collect();
                let origins: Option<Vec<Vec<TextRange>>> =
                    sites.iter().map(|m| m.get(p).and_then(|x| x.1.clone())).collect();
                // The parameter itself is its only binding.
                let rebound = c.binds.get(&(Some(*f), p.clone())).is_none_or(|b| b.len() > 1);
                if rebound {
                    continue;
                }
                if sites.iter().all(|m| m.get(p).is_some_and(|x| x.2)) {
                    found_excs.push((*f, p.clone()));
                    continue;
                }
                if let Some(groups) = groups {
                    found.push((*f, p.clone(), groups));
                } else if let Some(origins) = origins
                    && info.funcs[*f].boundary.is_none()
                {
                    found_responses.push((*f, p.clone(), origins.concat()));
                }
            }
        }
        if (found.is_empty() && found_responses.is_empty() && found_excs.is_empty() && !new_returns) || rounds > 16 {
            break c;
        }
        exc_params.extend(found_excs);
        for (f, p, origins) in found_responses {
            response_params.insert((f, p), origins);
        }
        for (f, p, groups) in found {
            let me = format!("{:?}:{p}", Some(f));
            unions.extend(groups.into_iter().map(|g| (me.clone(), g)));
            session_params.insert((f, p));
        }
    };
    c.second = true;
    c.func = None;
    c.visit_body(body);
    let mut f = c.facts;
    // A session parameter the pass cannot follow keeps its calls as they are.
    let mut lost_params: Vec<String> = c
        .annotated
        .keys()
        .filter(|k| !c.session_params.contains(*k))
        .map(|(func, p)| format!("{:?}:{p}", Some(*func)))
        .collect();
    lost_params.sort();
    // A followed one: its annotation names the new client class.
    let followed_annotations: Vec<(TextRange, String)> = c
        .annotated
        .iter()
        .filter(|(k, _)| c.session_params.contains(*k))
        .map(|((func, p), r)| (*r, format!("{:?}:{p}", Some(*func))))
        .collect();

    // Session creations take the group of what they are bound to.
    let mut groups: HashMap<TextRange, String> = HashMap::new();
    for ((scope, n), binds) in &c.binds {
        for b in binds {
            if let Bind::Session(r) = b {
                groups.insert(*r, format!("{scope:?}:{n}"));
            }
        }
    }
    for ((class, n), binds) in &c.attr_binds {
        for b in binds {
            if let Bind::Session(r) = b {
                groups.insert(*r, format!("class{class}.{n}"));
            }
        }
    }
    // A factory's session is the session of what its call is bound to.
    let mut factory_calls: Vec<(&TextRange, &String)> = f.factory_calls.iter().collect();
    factory_calls.sort_by_key(|(r, _)| r.start());
    for (r, g) in factory_calls {
        match groups.get(r) {
            Some(bound) => unions.push((bound.clone(), g.clone())),
            None => {
                f.escaped_groups.insert(g.clone());
            }
        }
    }
    let mut news: Vec<TextRange> = f.session_new.keys().copied().collect();
    news.sort_by_key(|r| (r.start(), r.end()));
    for r in news {
        match groups.get(&r) {
            Some(g) => {
                f.session_new.insert(r, g.clone());
            }
            None => {
                f.unsupported.push((r, "a session the pass cannot follow (not kept in a variable or attribute)".into()))
            }
        }
    }
    // Module constants (for `timeout=TIMEOUT` with aiohttp).
    let module = crate::analysis::scope::collect(body);
    for st in body {
        if let Stmt::Assign(a) = st
            && let [Expr::Name(n)] = &a.targets[..]
            && module.names.get(n.id.as_str()).is_some_and(|v| v.len() == 1)
        {
            let number =
                |e: &Expr| matches!(e, Expr::Constant(c) if matches!(c.value, Constant::Int(_) | Constant::Float(_)));
            match &*a.value {
                Expr::Tuple(t) if t.elts.len() == 2 => {
                    f.constants.insert(n.id.to_string(), true);
                }
                e if number(e) => {
                    f.constants.insert(n.id.to_string(), false);
                }
                _ => {}
            }
        }
    }
    // A session passed to a parameter shares its fate with that parameter:
    // one group for both, escaped if either escapes.
    let canon = canonical_groups(&unions);
    let c = |g: &String| canon.get(g).cloned().unwrap_or_else(|| g.clone());
    for (_, g) in f.session_calls.values_mut() {
        *g = c(g);
    }
    for g in f.session_new.values_mut() {
        *g = c(g);
    }
    for g in f.factory_calls.values_mut() {
        *g = c(g);
    }
    for (r, g) in followed_annotations {
        f.session_annotations.insert(r, c(&g));
    }
    for g in &lost_params {
        f.escaped_groups.insert(c(g));
        f.param_groups.insert(c(g));
    }
    f.escaped_groups = f.escaped_groups.iter().map(c).collect();
    let mut sites: Vec<(String, (TextRange, String))> = std::mem::take(&mut f.escape_sites).into_iter().collect();
    sites.sort_by_key(|(g, (r, _))| (r.start(), g.clone()));
    for (g, site) in sites {
        f.escape_sites.entry(c(&g)).or_insert(site);
    }
    // httpx: `verify=` moves to the client when every request of the client
    // passes the same value (requests' default is True).
    let mut scopes: HashMap<String, Vec<TextRange>> = HashMap::new();
    for r in f.module_calls.keys() {
        if let Some(func) = info.call(*r).and_then(|cs| cs.ctx.func) {
            scopes.entry(format!("func:{func}")).or_default().push(*r);
        }
    }
    for (r, (to, g)) in &f.session_calls {
        if !tables.http.method.iter().any(|m| m.closes && m.to(tables.http.backend) == to) {
            scopes.entry(g.clone()).or_default().push(*r);
        }
    }
    let key = |e: &Expr| format!("{:?}", fold_ok(crate::syntax::EraseRanges.fold_expr(e.clone())));
    let mut verify = std::mem::take(&mut f.verify);
    verify.sort_by_key(|(r, _, _)| r.start());
    for (_, scope, _) in &mut verify {
        *scope = c(scope);
    }
    for (r, scope, v) in &verify {
        let all = scopes.get(scope).map(Vec::as_slice).unwrap_or_default();
        let agree = all.iter().all(|q| verify.iter().any(|(x, s, w)| x == q && s == scope && key(w) == key(v)));
        if agree {
            f.client_verify.insert(scope.clone(), v.clone());
        } else {
            f.unsupported.push((
                *r,
                "`verify=` must move to the httpx client, and the requests made with this client do not all pass the same value".into(),
            ));
        }
    }
    f.verify = verify;
    f
}

/// Union-find over group names: each name -> the smallest name it is joined to.
fn canonical_groups(unions: &[(String, String)]) -> HashMap<String, String> {
    let mut parent: HashMap<String, String> = HashMap::new();
    fn find(p: &mut HashMap<String, String>, x: &str) -> String {
        let mut cur = x.to_string();
        while let Some(n) = p.get(&cur).filter(|n| **n != cur) {
            cur = n.clone();
        }
        cur
    }
    for (a, b) in unions {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent.insert(hi, lo);
        }
    }
    let keys: Vec<String> = unions.iter().flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
    keys.into_iter().map(|k| (k.clone(), find(&mut parent, &k))).collect()
}

impl Pass for Http {
    fn name(&self) -> &'static str {
        "http"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn interested(&self, src: &str, _tables: &Tables) -> bool {
        // Every spelling imports it: `import requests [as x]`, `from requests[.y] import z`.
        src.contains("import requests") || src.contains("from requests")
    }
    fn seeds(&self, body: &[Stmt], info: &ModuleInfo, tables: &Tables, diags: &mut Vec<Diagnostic>) -> Vec<Seed> {
        let f = collect(body, info, tables);
        if !f.unsupported.is_empty() {
            for (r, why) in &f.unsupported {
                diags.push(Diagnostic {
                    offset: r.start().into(),
                    pass: "http",
                    message: format!("{why}; this module's requests code is not converted"),
                });
            }
            return vec![];
        }
        let mut out = vec![];
        // A response read with `await` (aiohttp's `await r.text()`) makes the
        // function that reads it async: the read is a seed too, converted
        // together with the requests its response may come from.
        let call_key = |r: &TextRange| format!("call:{}", u32::from(r.start()));
        let mut unions = vec![];
        let mut awaited: Vec<(TextRange, String, String)> = vec![];
        for (r, (_, origins)) in &f.attrs {
            let Some(what) = f.read_seeds.get(r) else { continue };
            let key = format!("read:{}-{}", u32::from(r.start()), u32::from(r.end()));
            for o in origins {
                unions
                    .push((key.clone(), f.session_calls.get(o).map(|(_, g)| g.clone()).unwrap_or_else(|| call_key(o))));
            }
            awaited.push((*r, key, what.clone()));
        }
        let canon = canonical_groups(&unions);
        let group = |g: String| canon.get(&g).cloned().unwrap_or(g);
        for (r, m) in &f.module_calls {
            let group = canon.get(&call_key(r)).cloned();
            out.push(Seed { call: *r, pass: "http", what: format!("requests.{m}"), group, veto: false });
        }
        for (r, (m, g)) in &f.session_calls {
            let veto = f.escaped_groups.contains(g);
            out.push(Seed {
                call: *r,
                pass: "http",
                what: format!("session.{m}"),
                group: Some(group(g.clone())),
                veto,
            });
        }
        for r in &f.session_with {
            if let Some(g) = f.session_new.get(r).or_else(|| f.factory_calls.get(r)) {
                let veto = f.escaped_groups.contains(g);
                out.push(Seed {
                    call: *r,
                    pass: "http",
                    what: "requests.Session".into(),
                    group: Some(group(g.clone())),
                    veto,
                });
            }
        }
        for (r, key, what) in awaited {
            out.push(Seed { call: r, pass: "http", what, group: Some(group(key)), veto: false });
        }
        out.sort_by_key(|s| (s.call.start(), s.call.end()));
        // A session whose object escapes cannot convert: report and block.
        for g in &f.escaped_groups {
            let first_call =
                f.session_calls.iter().filter(|(_, (_, gg))| gg == g).map(|(r, _)| *r).min_by_key(|r| r.start());
            let first_new = f.session_new.iter().filter(|(_, gg)| *gg == g).map(|(r, _)| *r).min_by_key(|r| r.start());
            if f.param_groups.contains(g) {
                let message = "a `requests.Session` parameter that not every call passes a session the pass follows: its calls are left as they are (in an async function they run in a worker thread)";
                if let Some(r) = first_new.or(first_call) {
                    diags.push(Diagnostic { offset: r.start().into(), pass: "http", message: message.into() });
                }
            } else if let Some((r, why)) = f.escape_sites.get(g) {
                // Reported where it escapes, naming how.
                diags.push(Diagnostic {
                    offset: r.start().into(),
                    pass: "http",
                    message: format!("{why}; the calls on this session are left as they are"),
                });
            } else if let Some(r) = first_new.or(first_call) {
                let message =
                    "this session is passed or stored where the pass cannot follow it; its calls are left as they are";
                diags.push(Diagnostic { offset: r.start().into(), pass: "http", message: message.into() });
            }
        }
        out
    }
    fn run(&self, body: Vec<Stmt>, cx: &mut PassCx) -> Vec<Stmt> {
        let facts = collect(&body, cx.info, cx.tables);
        let ok = |r: &TextRange| cx.colour.seeds_ok.contains(r);
        // Session groups that convert: those with a converted seed, or whose
        // sessions are only created (no await needed) and used by converted calls.
        let live_groups: BTreeSet<String> = facts
            .session_calls
            .iter()
            .filter(|(r, _)| ok(r))
            .map(|(_, (_, g))| g.clone())
            .chain(
                facts
                    .session_with
                    .iter()
                    .filter(|r| ok(r))
                    .filter_map(|r| facts.session_new.get(r).or_else(|| facts.factory_calls.get(r)).cloned()),
            )
            .filter(|g| !facts.escaped_groups.contains(g))
            .collect();
        // aiohttp: a ClientSession needs a running event loop when it is
        // created: in a function that is async now, or in an `__init__` whose
        // class is only instantiated in such functions.
        let mut live_groups = live_groups;
        if cx.tables.http.backend == HttpBackend::Aiohttp {
            let async_now = |f: FuncId| cx.colour.is_async(cx.info, f);
            let mut news: Vec<(&TextRange, &String)> = facts.session_new.iter().collect();
            news.sort_by_key(|(r, _)| r.start());
            for (r, g) in news {
                if !live_groups.contains(g) {
                    continue;
                }
                let f = cx.info.call(*r).and_then(|c| c.ctx.func);
                // Called only where an `await` could go in async functions
                // (a session factory): created while the loop runs.
                let called_async = |f: FuncId| {
                    let mut calls = cx.info.calls_of(f).peekable();
                    calls.peek().is_some() && calls.all(|c| c.ctx.awaitable() && c.ctx.func.is_some_and(async_now))
                };
                let fine = f.is_some_and(|f| {
                    async_now(f)
                        || (facts.factory_calls.values().any(|fg| fg == g) && called_async(f))
                        || (cx.info.funcs[f].name == "__init__"
                            && cx.info.funcs[f].class.is_some_and(|k| {
                                let name = &cx.info.classes[k].name;
                                let mut sites = facts.instantiations.iter().filter(|(n, _)| n == name).peekable();
                                sites.peek().is_some() && sites.all(|(_, at)| at.is_some_and(async_now))
                            }))
                });
                if !fine {
                    live_groups.remove(g);
                    cx.diagnostics.push(Diagnostic {
                        offset: r.start().into(),
                        pass: "http",
                        message: "an aiohttp.ClientSession must be created while the event loop runs, and this session may be created outside it: its calls run in a worker thread instead"
                            .into(),
                    });
                }
            }
        }
        // Exceptions are renamed only when every requests call of the module
        // converts: a handler may catch what a sync call still raises.
        let any_converted = facts.module_calls.keys().any(ok) || !live_groups.is_empty();
        let all_converted = any_converted
            && facts.escaped_groups.is_empty()
            && facts.session_calls.values().all(|(_, g)| live_groups.contains(g))
            && facts.module_calls.keys().all(ok)
            && facts.session_calls.keys().all(ok)
            && facts.session_with.iter().all(ok);
        if any_converted && !all_converted {
            let mut refs: Vec<&TextRange> = facts.exceptions.keys().collect();
            refs.sort_by_key(|r| r.start());
            for r in refs {
                cx.diagnostics.push(Diagnostic {
                    offset: r.start().into(),
                    pass: "http",
                    message: "requests exception left as it is: some requests calls of this module stay sync and still raise it".into(),
                });
            }
        }
        let mut client_funcs: BTreeSet<FuncId> = BTreeSet::new();
        for r in facts.module_calls.keys().filter(|r| ok(r)) {
            if let Some(f) = cx.info.call(*r).and_then(|c| c.ctx.func) {
                client_funcs.insert(f);
            }
        }
        // What the module used before the rewrite (an import unused already is not ours to remove).
        let used_before = crate::imports::used_names(&body);
        let mut folder = Folder {
            cx,
            facts: &facts,
            live_groups,
            all_converted,
            client_funcs,
            func_stack: vec![],
            client_name: HashMap::new(),
            used_heads: None,
            extra_imports: BTreeSet::new(),
            tls: None,
            tls_uses: 0,
        };
        // The first top-level statement that creates a client using the TLS
        // helper: the helper goes after the imports before it.
        let mut first_use = None;
        let body: Vec<Stmt> = body
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let before = folder.tls_uses;
                let s = fold_ok(folder.fold_stmt(s));
                if first_use.is_none() && folder.tls_uses > before {
                    first_use = Some(i);
                }
                s
            })
            .collect();
        let mut body = body;
        if let Some(i) = first_use {
            // After the last import before it, when that import has its
            // lines to itself; else just before the statement.
            let at = body[..i]
                .iter()
                .rposition(|s| matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)))
                .filter(|&k| is_synth(body[k].range()) || folder.cx.own_lines(body[k].range()))
                .map_or(i, |k| k + 1);
            let tls = folder.tls_name();
            body.insert(at, tls_helper(&tls));
            folder.extra_imports.insert("functools".into());
        }
        let extra = std::mem::take(&mut folder.extra_imports);
        let lib = match folder.cx.tables.http.backend {
            HttpBackend::Httpx => "httpx",
            HttpBackend::Aiohttp => "aiohttp",
        };
        let changed = !folder.client_name.is_empty()
            || !folder.live_groups.is_empty()
            || facts.module_calls.keys().any(|r| folder.cx.colour.seeds_ok.contains(r));
        if changed {
            folder.cx.imports.insert(lib.into());
            folder.cx.imports.extend(extra);
        }
        let reached = folder.cx.reached;
        crate::imports::remove_unused(body, "requests", changed.then_some(lib), &used_before, reached)
    }
}

struct Folder<'a, 'b> {
    cx: &'a mut PassCx<'b>,
    facts: &'a Facts,
    live_groups: BTreeSet<String>,
    all_converted: bool,
    client_funcs: BTreeSet<FuncId>,
    func_stack: Vec<Option<FuncId>>,
    client_name: HashMap<FuncId, String>,
    /// The first part of every call's qualified name (computed once, by
    /// `client_for`).
    used_heads: Option<HashSet<String>>,
    /// Modules the replacements name besides the client library.
    extra_imports: BTreeSet<String>,
    /// The TLS helper's name, once chosen, and how many clients use it.
    tls: Option<String>,
    tls_uses: usize,
}

fn keyword(arg: &str, value: Expr) -> ast::Keyword {
    ast::Keyword { range: synth(), arg: Some(ast::Identifier::new(arg)), value }
}

fn constant(v: Constant) -> Expr {
    Expr::Constant(ast::ExprConstant { range: synth(), value: v, kind: None })
}

/// A client with requests' defaults: `httpx.AsyncClient(follow_redirects=True,
/// timeout=None)` or `aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))`
/// (aiohttp follows redirects by default, except for HEAD, as requests does).
///
/// An httpx client with no `verify=` of its own gets the module's one TLS
/// context (`tls`, the name of the helper that makes it): see [`tls_helper`].
fn new_client(b: HttpBackend, verify: Option<&Expr>, tls: &str) -> Expr {
    match b {
        HttpBackend::Httpx => {
            let verify = verify.cloned().unwrap_or_else(|| crate::syntax::call(name(tls), vec![], vec![], synth()));
            crate::syntax::call(
                dotted("httpx.AsyncClient"),
                vec![],
                vec![
                    keyword("follow_redirects", constant(Constant::Bool(true))),
                    keyword("timeout", constant(Constant::None)),
                    keyword("verify", verify),
                ],
                synth(),
            )
        }
        HttpBackend::Aiohttp => crate::syntax::call(
            dotted("aiohttp.ClientSession"),
            vec![],
            vec![keyword("timeout", client_timeout(vec![keyword("total", constant(Constant::None))]))],
            synth(),
        ),
    }
}

fn client_timeout(kws: Vec<ast::Keyword>) -> Expr {
    crate::syntax::call(dotted("aiohttp.ClientTimeout"), vec![], kws, synth())
}

impl Folder<'_, '_> {
    fn current(&self) -> Option<FuncId> {
        self.func_stack.last().copied().flatten()
    }
    fn is_async_here(&self) -> bool {
        self.current().is_some_and(|f| self.cx.colour.is_async(self.cx.info, f))
    }
    /// Whether the request at `r` converts: its seed is allowed and, for a
    /// session call, its session converts.
    fn ok(&self, r: TextRange) -> bool {
        self.cx.colour.seeds_ok.contains(&r)
            && self.facts.session_calls.get(&r).is_none_or(|(_, g)| self.live_groups.contains(g))
    }

    /// requests keyword arguments -> aiohttp ones.
    fn aiohttp_keywords(&mut self, kws: Vec<ast::Keyword>) -> Vec<ast::Keyword> {
        let mut out = vec![];
        for k in kws {
            let Some(arg) = k.arg.as_ref().map(|a| a.to_string()) else {
                out.push(k);
                continue;
            };
            match (arg.as_str(), k.value) {
                ("timeout", Expr::Tuple(t)) if t.elts.len() == 2 => {
                    let mut e = t.elts.into_iter();
                    let (c, r) = (e.next().unwrap_or_else(|| name("None")), e.next().unwrap_or_else(|| name("None")));
                    out.push(keyword(
                        "timeout",
                        client_timeout(vec![keyword("sock_connect", c), keyword("sock_read", r)]),
                    ));
                }
                ("timeout", Expr::Name(n)) if self.facts.constants.get(n.id.as_str()) == Some(&true) => {
                    // `TIMEOUT = (connect, read)` at module level.
                    let part = |i: i32| {
                        Expr::Subscript(ast::ExprSubscript {
                            range: synth(),
                            value: Box::new(name(n.id.as_str())),
                            slice: Box::new(constant(Constant::Int(i.into()))),
                            ctx: ast::ExprContext::Load,
                        })
                    };
                    out.push(keyword(
                        "timeout",
                        client_timeout(vec![keyword("sock_connect", part(0)), keyword("sock_read", part(1))]),
                    ));
                }
                ("timeout", v @ (Expr::Name(_) | Expr::Constant(_)))
                    if match &v {
                        Expr::Name(n) => self.facts.constants.get(n.id.as_str()) == Some(&false),
                        Expr::Constant(c) => !matches!(c.value, Constant::None),
                        _ => false,
                    } =>
                {
                    // requests' number is a connect and a per-read timeout.
                    out.push(keyword(
                        "timeout",
                        client_timeout(vec![keyword("sock_connect", v.clone()), keyword("sock_read", v)]),
                    ));
                }
                ("timeout", v @ (Expr::Name(_) | Expr::Attribute(_))) if !matches!(&v, Expr::Name(n) if self.facts.constants.contains_key(n.id.as_str())) =>
                {
                    // Could be a number or a (connect, read) pair: decide at run time.
                    let part = |i: i32| {
                        Expr::Subscript(ast::ExprSubscript {
                            range: synth(),
                            value: Box::new(v.clone()),
                            slice: Box::new(constant(Constant::Int(i.into()))),
                            ctx: ast::ExprContext::Load,
                        })
                    };
                    let pair = client_timeout(vec![keyword("sock_connect", part(0)), keyword("sock_read", part(1))]);
                    let total =
                        client_timeout(vec![keyword("sock_connect", v.clone()), keyword("sock_read", v.clone())]);
                    let test = crate::syntax::call(name("isinstance"), vec![v, name("tuple")], vec![], synth());
                    let e = Expr::IfExp(ast::ExprIfExp {
                        range: synth(),
                        test: Box::new(test),
                        body: Box::new(pair),
                        orelse: Box::new(total),
                    });
                    out.push(keyword("timeout", e));
                }
                ("timeout", v) => {
                    // `None` (no timeout); the collector refuses other expressions.
                    out.push(keyword("timeout", client_timeout(vec![keyword("total", v)])))
                }
                ("verify", Expr::Constant(c)) if c.value == Constant::Bool(true) => {}
                ("verify", v) => out.push(keyword("ssl", v)),
                ("auth", Expr::Tuple(t)) => {
                    out.push(keyword("auth", crate::syntax::call(dotted("aiohttp.BasicAuth"), t.elts, vec![], synth())))
                }
                ("params", Expr::Dict(d))
                    if d.values.iter().any(|v| !matches!(v, Expr::Constant(c) if c.value != Constant::None))
                        && d.keys.iter().all(|k| k.is_some()) =>
                {
                    out.push(keyword("params", dict_without_none(Expr::Dict(d))));
                }
                (_, v) => out.push(ast::Keyword { value: v, ..k }),
            }
        }
        out
    }

    /// requests keyword arguments -> httpx ones.
    fn keywords(&mut self, method: &str, kws: Vec<ast::Keyword>) -> Vec<ast::Keyword> {
        if self.cx.tables.http.backend == HttpBackend::Aiohttp {
            return self.aiohttp_keywords(kws);
        }
        let mut out = vec![];
        let mut redirects = false;
        for k in kws {
            let Some(arg) = k.arg.as_ref().map(|a| a.to_string()) else {
                out.push(k);
                continue;
            };
            match arg.as_str() {
                "allow_redirects" => {
                    redirects = true;
                    out.push(keyword("follow_redirects", k.value));
                }
                "timeout" => match k.value {
                    Expr::Tuple(t) if t.elts.len() == 2 => {
                        let mut e = t.elts.into_iter();
                        let (c, r) =
                            (e.next().unwrap_or_else(|| name("None")), e.next().unwrap_or_else(|| name("None")));
                        let v = crate::syntax::call(
                            dotted("httpx.Timeout"),
                            vec![constant(Constant::None)],
                            vec![keyword("connect", c), keyword("read", r)],
                            synth(),
                        );
                        out.push(keyword("timeout", v));
                    }
                    v => out.push(ast::Keyword { value: v, ..k }),
                },
                "data" if is_string_literal(&k.value) => out.push(keyword("content", k.value)),
                "params" => match k.value {
                    Expr::Dict(d)
                        if d.values.iter().any(|v| !matches!(v, Expr::Constant(c) if c.value != Constant::None))
                            && d.keys.iter().all(|k| k.is_some()) =>
                    {
                        // requests leaves out parameters whose value is None.
                        let v = dict_without_none(Expr::Dict(d));
                        out.push(keyword("params", v));
                    }
                    v => out.push(ast::Keyword { value: v, ..k }),
                },
                _ => out.push(k),
            }
        }
        if method == "head" && !redirects {
            out.push(keyword("follow_redirects", constant(Constant::Bool(false))));
        }
        out
    }

    /// The client of `scope` (a session group, or `func:<id>` for a
    /// function's own client), with the `verify=` its requests agree on.
    fn new_client(&mut self, scope: &str) -> Expr {
        let verify = self.facts.client_verify.get(scope);
        if verify.is_none() && self.cx.tables.http.backend == HttpBackend::Httpx {
            self.tls_uses += 1;
        }
        let tls = self.tls_name();
        new_client(self.cx.tables.http.backend, verify, &tls)
    }

    /// The name of the module's TLS helper (see [`tls_helper`]): `_tls_context`,
    /// or with a number when the module has that name already.
    fn tls_name(&mut self) -> String {
        if let Some(n) = &self.tls {
            return n.clone();
        }
        let mut n = "_tls_context".to_string();
        let mut i = 1;
        while self.facts.names.contains(&n) {
            i += 1;
            n = format!("_tls_context_{i}");
        }
        self.tls = Some(n.clone());
        n
    }

    fn client_for(&mut self, f: FuncId) -> String {
        if let Some(n) = self.client_name.get(&f) {
            return n.clone();
        }
        let info = self.cx.info;
        let used = self.used_heads.get_or_insert_with(|| {
            info.calls
                .iter()
                .filter_map(|c| c.qualname.as_ref().map(|q| q.split('.').next().unwrap_or("").to_string()))
                .collect()
        });
        let mut n = "client".to_string();
        let mut i = 1;
        // Conservative: any name used anywhere in the module counts.
        while used.contains(&n) || self.facts.names.contains(&n) {
            i += 1;
            n = format!("client_{i}");
        }
        self.client_name.insert(f, n.clone());
        n
    }
}

fn store(id: &str) -> Expr {
    Expr::Name(ast::ExprName { range: synth(), id: ast::Identifier::new(id), ctx: ast::ExprContext::Store })
}

fn dict_without_none(d: Expr) -> Expr {
    // {k: v for k, v in <d>.items() if v is not None}
    let items = crate::syntax::call(
        Expr::Attribute(ast::ExprAttribute {
            range: synth(),
            value: Box::new(d),
            attr: ast::Identifier::new("items"),
            ctx: ast::ExprContext::Load,
        }),
        vec![],
        vec![],
        synth(),
    );
    let target = Expr::Tuple(ast::ExprTuple {
        range: synth(),
        elts: vec![store("k"), store("v")],
        ctx: ast::ExprContext::Store,
    });
    let cond = Expr::Compare(ast::ExprCompare {
        range: synth(),
        left: Box::new(name("v")),
        ops: vec![ast::CmpOp::IsNot],
        comparators: vec![constant(Constant::None)],
    });
    Expr::DictComp(ast::ExprDictComp {
        range: synth(),
        key: Box::new(name("k")),
        value: Box::new(name("v")),
        generators: vec![ast::Comprehension {
            range: Default::default(),
            target,
            iter: items,
            ifs: vec![cond],
            is_async: false,
        }],
    })
}

/// Builds the expression of a template such as `not {r}.is_error`.
fn from_template(template: &str, r: Expr) -> Option<Expr> {
    let src = template.replace("{r}", "__awaitify_r__");
    let e = crate::syntax::parse::parse_expression(&src)?;
    let e = fold_ok(crate::syntax::EraseRanges.fold_expr(e));
    struct Sub(Option<Expr>);
    impl Fold<TextRange> for Sub {
        crate::identity_fold_plumbing!();
        fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
            if let Expr::Name(n) = &e
                && n.id.as_str() == "__awaitify_r__"
            {
                return Ok(self.0.take().unwrap_or(e));
            }
            ast::fold::fold_expr(self, e)
        }
    }
    Some(fold_ok(Sub(Some(r)).fold_expr(e)))
}

impl Fold<TextRange> for Folder<'_, '_> {
    crate::identity_fold_plumbing!();

    fn fold_stmt(&mut self, s: Stmt) -> Result<Stmt, std::convert::Infallible> {
        let range = s.range();
        let is_def = matches!(s, Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_));
        if is_def {
            self.func_stack.push(self.cx.info.func_at(range.start().into()));
        }
        // Which items of a `with` become `async with` items (a session, a
        // stream); the others stay sync context managers.
        let async_items: Vec<bool> = match &s {
            Stmt::With(w) => w
                .items
                .iter()
                .map(|it| {
                    let r = it.context_expr.range();
                    (self.facts.session_with.contains(&r) || self.facts.streams.contains(&r)) && self.ok(r)
                })
                .collect(),
            _ => vec![],
        };
        let enter_async = async_items.iter().any(|&a| a);
        let stream_for = self.facts.stream_fors.get(&range).is_some_and(|o| o.iter().all(|r| self.ok(*r)));
        if stream_for {
            self.cx.sites.push(range);
        }
        let s = ast::fold::fold_stmt(self, s)?;
        if (is_def && self.current().is_some_and(|id| self.client_funcs.contains(&id))) || enter_async {
            self.cx.sites.push(range);
        }
        if !is_def && self.facts.raises.get(&range).is_some_and(|o| o.iter().all(|r| self.ok(*r))) {
            self.cx.sites.push(range);
        }
        let s = match s {
            Stmt::FunctionDef(mut f) if self.current().is_some_and(|id| self.client_funcs.contains(&id)) => {
                let id = self.current().unwrap_or_default();
                let client = self.client_for(id);
                let body = self.read_before_returns(std::mem::take(&mut f.body));
                let new = self.new_client(&format!("func:{id}"));
                f.body = wrap_body(body, &client, new);
                Stmt::FunctionDef(f)
            }
            Stmt::AsyncFunctionDef(mut f) if self.current().is_some_and(|id| self.client_funcs.contains(&id)) => {
                let id = self.current().unwrap_or_default();
                let client = self.client_for(id);
                let body = self.read_before_returns(std::mem::take(&mut f.body));
                let new = self.new_client(&format!("func:{id}"));
                f.body = wrap_body(body, &client, new);
                Stmt::AsyncFunctionDef(f)
            }
            Stmt::With(w) if enter_async && async_items.iter().all(|&a| a) => to_async_kind(Stmt::With(w)),
            Stmt::With(w) if enter_async => split_with(w, &async_items),
            Stmt::For(mut f) if stream_for => {
                // `r.iter_content(n)` -> `r.aiter_bytes(n)` / `r.content.iter_chunked(n)`
                // (requests' default chunk size is 1).
                f.iter = Box::new(self.stream_iter(*f.iter));
                to_async_kind(Stmt::For(f))
            }
            Stmt::Expr(e) if self.facts.raises.get(&range).is_some_and(|o| o.iter().all(|r| self.ok(*r))) => {
                // requests raises for 4xx/5xx only; httpx for every non-2xx.
                let mut e = e;
                let Expr::Call(c) = &mut *e.value else { return Ok(Stmt::Expr(e)) };
                let Expr::Attribute(a) = &mut *c.func else { return Ok(Stmt::Expr(e)) };
                // The response is read twice: a request made in place
                // (`requests.get(u).raise_for_status()`) is made once, its
                // response bound to a name the module does not use.
                let value = match &*a.value {
                    Expr::Name(_) => a.value.clone(),
                    _ => {
                        let name = self.fresh_name("response");
                        let request = std::mem::replace(&mut a.value, Box::new(crate::syntax::name(&name)));
                        Box::new(Expr::NamedExpr(ast::ExprNamedExpr {
                            range: synth(),
                            target: Box::new(ast::Expr::Name(ast::ExprName {
                                range: synth(),
                                id: name.into(),
                                ctx: ast::ExprContext::Store,
                            })),
                            value: request,
                        }))
                    }
                };
                let test = Expr::Attribute(ast::ExprAttribute {
                    range: synth(),
                    value,
                    attr: ast::Identifier::new("is_error"),
                    ctx: ast::ExprContext::Load,
                });
                Stmt::If(ast::StmtIf {
                    range: synth(),
                    test: Box::new(test),
                    body: vec![Stmt::Expr(e)],
                    orelse: vec![],
                })
            }
            s => s,
        };
        if is_def {
            self.func_stack.pop();
        }
        Ok(s)
    }

    fn fold_expr(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        let out = self.fold_expr_inner(e)?;
        if out.range() != range || crate::syntax::is_synth(out.range()) {
            self.cx.sites.push(range);
        }
        Ok(out)
    }
}

impl Folder<'_, '_> {
    /// `r.iter_content(n)` -> `r.aiter_bytes(n)` / `r.content.iter_chunked(n)`
    /// (requests' default chunk size is 1).
    fn stream_iter(&self, e: Expr) -> Expr {
        let Expr::Call(c) = e else { return e };
        let Expr::Attribute(a) = *c.func else { return Expr::Call(c) };
        let size = c
            .args
            .into_iter()
            .chain(c.keywords.into_iter().map(|k| k.value))
            .next()
            .unwrap_or_else(|| constant(Constant::Int(1.into())));
        let attr = |value: Expr, attr: &str| {
            Expr::Attribute(ast::ExprAttribute {
                range: synth(),
                value: Box::new(value),
                attr: ast::Identifier::new(attr),
                ctx: ast::ExprContext::Load,
            })
        };
        let func = match self.cx.tables.http.backend {
            HttpBackend::Httpx => attr(*a.value, "aiter_bytes"),
            HttpBackend::Aiohttp => attr(attr(*a.value, "content"), "iter_chunked"),
        };
        crate::syntax::call(func, vec![size], vec![], synth())
    }

    /// `await <client>.<method>(...)`; a stream (`stream=True` in a `with`)
    /// is entered, not awaited: httpx `<client>.stream("GET", ...)`,
    /// aiohttp `<client>.get(...)`.
    fn request(
        &mut self,
        client: Expr,
        method: &str,
        range: TextRange,
        mut args: Vec<Expr>,
        mut keywords: Vec<ast::Keyword>,
    ) -> Expr {
        let stream = self.facts.streams.contains(&range);
        // `get(url, params)`: requests' positional parameters by name.
        if let Some(names) = self.facts.positional.get(&range) {
            let keep = names.iter().position(|n| n == "url").map_or(0, |i| i + 1);
            if args.len() > keep {
                let extra = args.split_off(keep);
                let mut kws: Vec<ast::Keyword> =
                    extra.into_iter().zip(&names[keep..]).map(|(v, n)| keyword(n, v)).collect();
                kws.append(&mut keywords);
                keywords = kws;
            }
        }
        let mut keywords = self.keywords(method, keywords);
        if self.facts.verify.iter().any(|(r, scope, _)| *r == range && self.facts.client_verify.contains_key(scope)) {
            keywords.retain(|k| k.arg.as_ref().is_none_or(|a| a.as_str() != "verify"));
        }
        let mut method = method.to_string();
        if stream {
            keywords.retain(|k| k.arg.as_ref().is_none_or(|a| a.as_str() != "stream"));
            if self.cx.tables.http.backend == HttpBackend::Httpx {
                if method != "request" {
                    args.insert(0, constant(Constant::Str(method.to_uppercase())));
                }
                method = "stream".into();
            }
        }
        // httpx's get/head/options/delete take no body (nor `**kwargs`):
        // `request("GET", ...)` takes what requests' methods take.
        let body = keywords
            .iter()
            .any(|k| k.arg.as_ref().is_none_or(|a| matches!(a.as_str(), "json" | "data" | "files" | "content")));
        if self.cx.tables.http.backend == HttpBackend::Httpx
            && !stream
            && body
            && matches!(method.as_str(), "get" | "head" | "options" | "delete")
        {
            args.insert(0, constant(Constant::Str(method.to_uppercase())));
            method = "request".into();
        }
        let func = Expr::Attribute(ast::ExprAttribute {
            range: synth(),
            value: Box::new(client),
            attr: ast::Identifier::new(&method),
            ctx: ast::ExprContext::Load,
        });
        let call = Expr::Call(ast::ExprCall { range, func: Box::new(func), args, keywords });
        if stream { call } else { await_(call) }
    }

    /// aiohttp: `return r` of a response made on this function's client ->
    /// `await r.read()` first (`return <request>` goes through a variable),
    /// so the body stays readable once the client is closed.
    fn read_before_returns(&mut self, body: Vec<Stmt>) -> Vec<Stmt> {
        let mut out = vec![];
        for mut s in body {
            match s {
                Stmt::Return(ast::StmtReturn { range, value: Some(v) })
                    if self.facts.read_returns.get(&range).is_some_and(|o| o.iter().all(|c| self.ok(*c))) =>
                {
                    let r = ast::StmtReturn { range, value: None };
                    self.cx.sites.push(r.range);
                    let value = match *v {
                        Expr::Name(n) => Expr::Name(n),
                        other => {
                            let tmp = self.fresh_name("response");
                            out.push(Stmt::Assign(ast::StmtAssign {
                                range: synth(),
                                targets: vec![store(&tmp)],
                                value: Box::new(other),
                                type_comment: None,
                            }));
                            name(&tmp)
                        }
                    };
                    let read = Expr::Attribute(ast::ExprAttribute {
                        range: synth(),
                        value: Box::new(value.clone()),
                        attr: ast::Identifier::new("read"),
                        ctx: ast::ExprContext::Load,
                    });
                    out.push(Stmt::Expr(ast::StmtExpr {
                        range: synth(),
                        value: Box::new(await_(crate::syntax::call(read, vec![], vec![], synth()))),
                    }));
                    out.push(Stmt::Return(ast::StmtReturn { range: r.range, value: Some(Box::new(value)) }));
                }
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => out.push(s),
                _ => {
                    for block in crate::syntax::blocks_mut(&mut s) {
                        let b = std::mem::take(block);
                        *block = self.read_before_returns(b);
                    }
                    out.push(s);
                }
            }
        }
        out
    }

    /// `base`, or `base_2`, `base_3`... : a name the module does not use.
    fn fresh_name(&self, base: &str) -> String {
        let mut n = base.to_string();
        let mut i = 1;
        while self.facts.names.contains(&n) {
            i += 1;
            n = format!("{base}_{i}");
        }
        n
    }

    fn fold_expr_inner(&mut self, e: Expr) -> Result<Expr, std::convert::Infallible> {
        let range = e.range();
        if let Some(g) = self.facts.session_annotations.get(&range)
            && self.live_groups.contains(g)
        {
            return Ok(dotted(match self.cx.tables.http.backend {
                HttpBackend::Httpx => "httpx.AsyncClient",
                HttpBackend::Aiohttp => "aiohttp.ClientSession",
            }));
        }
        // `except (A, B)` where a name becomes a tuple: one flat tuple,
        // each class once.
        if let Expr::Tuple(t) = &e
            && self.all_converted
            && t.elts.iter().any(|x| self.facts.exceptions.get(&x.range()).is_some_and(|n| n.starts_with('(')))
        {
            let Expr::Tuple(t) = e else { unreachable!("matched above") };
            let mut elts = vec![];
            let mut seen = HashSet::new();
            for x in t.elts {
                let mapped = self.facts.exceptions.contains_key(&x.range());
                let parts = match fold_ok(self.fold_expr(x)) {
                    Expr::Tuple(inner) if mapped => inner.elts,
                    other => vec![other],
                };
                for p in parts {
                    if seen.insert(format!("{:?}", fold_ok(crate::syntax::EraseRanges.fold_expr(p.clone())))) {
                        elts.push(p);
                    }
                }
            }
            return Ok(Expr::Tuple(ast::ExprTuple { range: synth(), elts, ctx: t.ctx }));
        }
        if let Some(new) = self.facts.exceptions.get(&range) {
            if self.all_converted {
                // A class or a tuple of classes.
                for n in new.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')) {
                    if let Some((module, _)) = n.split_once('.')
                        && !matches!(module, "httpx" | "aiohttp")
                    {
                        self.extra_imports.insert(module.to_string());
                    }
                }
                return Ok(from_template(new, e).expect("exception targets in http.toml parse"));
            }
            return Ok(e);
        }
        if let Some(new) = self.facts.exc_attrs.get(&range) {
            if self.all_converted {
                return Ok(from_template(new, e).expect("error-response replacements parse"));
            }
            return Ok(e);
        }
        // `not r.ok` -> `r.is_error`, not `not not r.is_error`.
        let negated_ok = |e: &Expr| match e {
            Expr::UnaryOp(u)
                if u.op == ast::UnaryOp::Not && matches!(&*u.operand, Expr::Attribute(_) | Expr::Name(_)) =>
            {
                self.facts.attrs.get(&u.operand.range()).and_then(|(t, o)| {
                    Some(t.strip_prefix("not ")?.to_string()).filter(|_| o.iter().all(|r| self.ok(*r)))
                })
            }
            _ => None,
        };
        if let Some(positive) = negated_ok(&e) {
            let Expr::UnaryOp(u) = e else { unreachable!("checked by negated_ok") };
            let recv = match *u.operand {
                Expr::Attribute(a) => fold_ok(self.fold_expr(*a.value)),
                // `not r` (requests' `__bool__` is `ok`).
                n => n,
            };
            return Ok(from_template(&positive, recv).expect("templates in http.toml parse"));
        }
        if let Some((template, origins)) = self.facts.attrs.get(&range) {
            let awaits = template.contains("await ");
            let seeded = awaits && self.facts.read_seeds.contains_key(&range);
            if origins.iter().all(|r| self.ok(*r)) && (!seeded || self.cx.colour.seeds_ok.contains(&range)) {
                let recv = match e {
                    Expr::Attribute(a) => fold_ok(self.fold_expr(*a.value)),
                    Expr::Call(c) => match *c.func {
                        Expr::Attribute(a) => fold_ok(self.fold_expr(*a.value)),
                        _ => unreachable!("attrs holds attributes and method calls only"),
                    },
                    // A response tested for truth (`if r:`): `r.ok`'s rewrite.
                    n @ Expr::Name(_) => n,
                    _ => unreachable!("attrs holds attributes, method calls and names tested for truth only"),
                };
                for m in ["json", "asyncio"] {
                    if template.contains(&format!("{m}.")) {
                        self.extra_imports.insert(m.into());
                    }
                }
                return Ok(from_template(template, recv).expect("templates in http.toml parse"));
            }
            return ast::fold::fold_expr(self, e);
        }
        let e = ast::fold::fold_expr(self, e)?;
        let Expr::Call(c) = e else { return Ok(e) };
        if let Some(method) = self.facts.module_calls.get(&range)
            && self.ok(range)
            && let Some(f) = self.current()
        {
            let client = self.client_for(f);
            return Ok(self.request(name(&client), method, range, c.args, c.keywords));
        }
        if let Some(g) = self.facts.session_new.get(&range)
            && self.live_groups.contains(g)
        {
            return Ok(self.new_client(g));
        }
        if let Some((to, g)) = self.facts.session_calls.get(&range)
            && self.ok(range)
            && self.live_groups.contains(g)
            && let Expr::Attribute(a) = *c.func
        {
            let func = if a.attr.as_str() == to {
                Expr::Attribute(a)
            } else {
                Expr::Attribute(ast::ExprAttribute { range: synth(), attr: ast::Identifier::new(to), ..a })
            };
            let closes = self.cx.tables.http.method.iter().any(|m| m.closes && m.to(self.cx.tables.http.backend) == to);
            if !closes && let Expr::Attribute(a) = func {
                return Ok(self.request(*a.value, to, range, c.args, c.keywords));
            }
            let keywords = if closes { c.keywords } else { self.keywords(to, c.keywords) };
            return Ok(await_(Expr::Call(ast::ExprCall { range, func: Box::new(func), args: c.args, keywords })));
        }
        // A requests call that stays requests but sits in an async function:
        // run it in a worker thread rather than block the event loop.
        let what = match (self.facts.module_calls.get(&range), self.facts.session_calls.get(&range)) {
            (Some(m), _) => Some(format!("requests.{m}")),
            (None, Some(_)) => match &*c.func {
                Expr::Attribute(a) => Some(format!("session.{}", a.attr)),
                _ => None,
            },
            _ => None,
        };
        if let Some(what) = what
            && self.is_async_here()
            && self.cx.info.call(range).is_some_and(|s| s.ctx.awaitable())
        {
            let cx = &mut *self.cx;
            cx.diagnostics.push(Diagnostic {
                offset: range.start().into(),
                pass: "http",
                message: format!(
                    "`{what}` could not be converted (see the other diagnostics); it runs in a worker thread with `{}`",
                    cx.tables.rt().to_thread
                ),
            });
            return Ok(crate::runtime::to_thread(cx.tables, *c.func, c.args, c.keywords, range, &mut cx.imports));
        }
        Ok(Expr::Call(c))
    }
}

/// `with A as a, B as b: body` is `with A as a: with B as b: body` (the
/// language defines it so): a `with` whose items are partly async context
/// managers (a session, a stream) and partly sync ones (a lock, a file)
/// becomes nested statements, one per run of items of one kind, in their
/// order: `async with` cannot enter a sync context manager, nor `with` an
/// async one.
fn split_with(w: ast::StmtWith, async_items: &[bool]) -> Stmt {
    let mut groups: Vec<(bool, Vec<ast::WithItem>)> = vec![];
    for (it, &a) in w.items.into_iter().zip(async_items) {
        match groups.last_mut() {
            Some((k, items)) if *k == a => items.push(it),
            _ => groups.push((a, vec![it])),
        }
    }
    let mut body = w.body;
    for (i, (a, items)) in groups.into_iter().enumerate().rev() {
        let range = if i == 0 { w.range } else { synth() };
        let with = Stmt::With(ast::StmtWith { range, items, body, type_comment: None });
        body = vec![if a { to_async_kind(with) } else { with }];
    }
    body.pop().expect("a with has items")
}

/// The module's one TLS context for its httpx clients:
///
/// ```python
/// @functools.cache
/// def _tls_context():
///     return httpx.create_ssl_context()
/// ```
///
/// requests' `get()` and friends open a session per call, as the function's
/// own client does after the conversion; but an `httpx.AsyncClient` loads the
/// CA bundle into a new TLS context when it is created (about 20 ms of CPU,
/// for `http://` URLs too), where requests loads it only for a TLS
/// connection. A program that makes many calls paid that per call: with
/// `verify=` the context httpx would build (`httpx.create_ssl_context()`
/// with its defaults: `certifi`, or `SSL_CERT_FILE` / `SSL_CERT_DIR`) is
/// built once, on the first client, and each client costs what requests'
/// session does. The client itself stays per call: one client shared by the
/// whole run would keep cookies between calls that requests keeps apart.
fn tls_helper(name: &str) -> Stmt {
    let src = format!("@functools.cache\ndef {name}():\n    return httpx.create_ssl_context()\n");
    let body = crate::syntax::parse::parse_module(&src, "<tls helper>").expect("the TLS helper parses");
    let s = body.into_iter().next().expect("the TLS helper is one statement");
    fold_ok(crate::syntax::EraseRanges.fold_stmt(s))
}

/// `[docstring] + async with httpx.AsyncClient(...) as <client>: <rest>`.
fn wrap_body(mut body: Vec<Stmt>, client: &str, new: Expr) -> Vec<Stmt> {
    let doc = matches!(body.first(), Some(Stmt::Expr(e)) if matches!(&*e.value, Expr::Constant(c) if matches!(c.value, Constant::Str(_))));
    let rest = if doc { body.split_off(1) } else { std::mem::take(&mut body) };
    if rest.is_empty() {
        return body;
    }
    let item =
        ast::WithItem { range: Default::default(), context_expr: new, optional_vars: Some(Box::new(store(client))) };
    body.push(Stmt::AsyncWith(ast::StmtAsyncWith {
        range: synth(),
        items: vec![item],
        body: rest,
        type_comment: None,
    }));
    body
}
