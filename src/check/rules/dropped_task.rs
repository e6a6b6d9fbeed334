//! AWT203: a task created and dropped.

use crate::check::{Hit, Module, Rule, Scope, ScopedVisitor, walk_scoped};
use rustpython_ast::{Expr, Ranged, Stmt};
use std::collections::HashSet;

crate::rule_doc!(
    "A task created and dropped (`asyncio.create_task(...)` as a statement).

## What it does
Reports `asyncio.create_task(...)` and `asyncio.ensure_future(...)` (any
import spelling), and `create_task(...)` on an event loop
(`asyncio.get_running_loop()`, `get_event_loop()`, `new_event_loop()`, or a
name bound to one), used as a statement: the task object is not kept.
`TaskGroup.create_task` is not reported: the group keeps its tasks.

## Why is this bad
The event loop keeps only a weak reference to a task. A task nobody holds
can be garbage-collected before it finishes, silently; its exception is
never retrieved, and nothing can wait for it or cancel it.

## Example
```python
import asyncio


async def work():
    pass


async def main():
    asyncio.create_task(work())
```

## Use instead
```python
import asyncio


async def work():
    pass


async def main():
    task = asyncio.create_task(work())
    await task
```

## Fix
By hand: keep the task (a variable, a set of background tasks with
`add_done_callback(tasks.discard)`) or use an `asyncio.TaskGroup`. No
`convert` pass rewrites this.
"
);

pub struct DroppedTask;

const SPAWN: &[&str] = &["asyncio.create_task", "asyncio.ensure_future"];
const LOOPS: &[&str] = &["asyncio.get_running_loop", "asyncio.get_event_loop", "asyncio.new_event_loop"];

impl Rule for DroppedTask {
    fn code(&self) -> &'static str {
        "AWT203"
    }
    fn name(&self) -> &'static str {
        "dropped-task"
    }
    fn doc(&self) -> &'static str {
        DOC
    }
    fn check(&self, m: &Module, out: &mut Vec<Hit>) {
        struct V<'m, 'a, 'o> {
            m: &'m Module<'a>,
            out: &'o mut Vec<Hit>,
            /// Names bound (anywhere in the module) to an event loop only.
            loops: HashSet<String>,
            other: HashSet<String>,
        }
        impl V<'_, '_, '_> {
            fn is_loop(&self, e: &Expr) -> bool {
                match e {
                    Expr::Call(c) => self.m.call_qualname(c).is_some_and(|q| LOOPS.contains(&q.as_str())),
                    Expr::Name(n) => self.loops.contains(n.id.as_str()) && !self.other.contains(n.id.as_str()),
                    _ => false,
                }
            }
        }
        impl<'a> ScopedVisitor<'a> for V<'_, '_, '_> {
            fn stmt(&mut self, s: &'a Stmt, _scope: &Scope<'a>) {
                if let Stmt::Assign(a) = s {
                    for t in &a.targets {
                        if let Expr::Name(n) = t {
                            if self.is_loop(&a.value) {
                                self.loops.insert(n.id.to_string());
                            } else {
                                self.other.insert(n.id.to_string());
                            }
                        }
                    }
                }
                let Stmt::Expr(x) = s else { return };
                let Expr::Call(c) = &*x.value else { return };
                let what = match self.m.call_qualname(c) {
                    Some(q) if SPAWN.contains(&q.as_str()) => q,
                    _ => match &*c.func {
                        Expr::Attribute(a) if a.attr.as_str() == "create_task" && self.is_loop(&a.value) => {
                            "loop.create_task".to_string()
                        }
                        _ => return,
                    },
                };
                self.out.push(Hit {
                    offset: x.value.range().start(),
                    message: format!(
                        "task from `{what}()` is dropped: the event loop keeps only a weak reference, so it may be garbage-collected before it finishes; keep a reference or use a TaskGroup"
                    ),
                    fix: None,
                });
            }
        }
        // Bindings first, so a name bound after its use is known.
        let mut v = V { m, out, loops: HashSet::new(), other: HashSet::new() };
        let mut sink = vec![];
        let mut pre = V { m, out: &mut sink, loops: HashSet::new(), other: HashSet::new() };
        walk_scoped(m.body, &mut pre);
        v.loops = pre.loops;
        v.other = pre.other;
        walk_scoped(m.body, &mut v);
    }
}
