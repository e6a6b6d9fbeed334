//! AWT103: an HTTP client or session created inside a loop.

use crate::check::{Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use rustpython_ast::{Expr, Ranged};

crate::rule_doc!(
    "An HTTP client or session created inside a loop.

## What it does
Reports a call that makes an HTTP client or session (`requests.Session`,
`httpx.Client`, `httpx.AsyncClient`, `aiohttp.ClientSession`,
`urllib3.PoolManager`: the `[[http.session]]` and `[[http.client]]` rows of
`transforms/http.toml`) in the body of a `for` or `while` loop, in any
function or at module level.

## Why is this bad
A client holds a connection pool. One per iteration opens a new connection
(and TLS handshake) for every request, never reuses one, and with async
clients easily leaks unclosed sessions (`Unclosed client session`).

## Example
```python
import httpx


async def fetch_all(urls):
    out = []
    for url in urls:
        async with httpx.AsyncClient() as client:
            out.append(await client.get(url))
    return out
```

## Use instead
```python
import httpx


async def fetch_all(urls):
    out = []
    async with httpx.AsyncClient() as client:
        for url in urls:
            out.append(await client.get(url))
    return out
```

## Fix
By hand: create the client once, before the loop. The `http` pass of
`convert` never writes a client per iteration (it reuses one per scope), but
it does not move a client the code already makes in a loop.
"
);

pub struct ClientInLoop;

impl Rule for ClientInLoop {
    fn code(&self) -> &'static str {
        "AWT103"
    }
    fn name(&self) -> &'static str {
        "http-client-in-loop"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        struct V<'m, 'a, 'o>(&'m Module<'a>, &'o mut Vec<Hit>);
        impl<'a> ScopedVisitor<'a> for V<'_, '_, '_> {
            fn expr(&mut self, e: &'a Expr, scope: &Scope<'a>) {
                let Expr::Call(c) = e else { return };
                if scope.loops == 0 || scope.in_lambda {
                    return;
                }
                let Some(q) = self.0.call_qualname(c) else { return };
                let http = &self.0.tables.http;
                if !http.session.iter().any(|s| s.sync == q) && !http.client.iter().any(|s| s.sync == q) {
                    return;
                }
                self.1.push(Hit {
                    offset: e.range().start(),
                    message: format!("HTTP client `{q}` created inside a loop: create it once, before the loop"),
                    fix: None,
                });
            }
        }
        walk_scoped(m.body, &mut V(m, out));
    }
}
