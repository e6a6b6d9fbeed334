//! The rules of `awaitify check` and their one registry, in code order.
//! Codes are grouped by hazard:
//!
//! | codes | group |
//! |---|---|
//! | AWT1xx | the event loop is blocked (blocking calls, nested loops, clients per iteration) |
//! | AWT2xx | coroutines and tasks that never run or are lost |
//! | AWT3xx | cancellation |
//! | AWT4xx | needless async |
//!
//! A code, once given, keeps its meaning; a removed rule's code is not reused.

pub mod blocking_call;
pub mod client_in_loop;
pub mod coroutine_in_bool;
pub mod dropped_task;
pub mod needless_async;
pub mod run_in_async;
pub mod swallowed_cancel;
pub mod unawaited_coroutine;

use super::Rule;
use crate::syntax::visit::{Visitor, walk_expr, walk_stmt};
use rustpython_ast::{self as ast, Expr, Stmt};

/// The body may suspend, outside nested scopes: an `await`, `async for`,
/// `async with` or async comprehension (with `yields`, a `yield` too: an
/// async generator needs its `async def`).
pub(crate) fn suspends(body: &[Stmt], yields: bool) -> bool {
    struct A {
        yields: bool,
        found: bool,
    }
    impl<'a> Visitor<'a> for A {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            match s {
                Stmt::FunctionDef(_) | Stmt::AsyncFunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::AsyncFor(_) | Stmt::AsyncWith(_) => self.found = true,
                _ => walk_stmt(self, s),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Lambda(_) => {}
                Expr::Await(_) => self.found = true,
                Expr::Yield(_) | Expr::YieldFrom(_) if self.yields => self.found = true,
                Expr::ListComp(ast::ExprListComp { generators, .. })
                | Expr::SetComp(ast::ExprSetComp { generators, .. })
                | Expr::DictComp(ast::ExprDictComp { generators, .. })
                | Expr::GeneratorExp(ast::ExprGeneratorExp { generators, .. })
                    if generators.iter().any(|g| g.is_async) =>
                {
                    self.found = true
                }
                _ => walk_expr(self, e),
            }
        }
    }
    let mut a = A { yields, found: false };
    a.visit_body(body);
    a.found
}

/// Every rule, in code order.
pub fn registry() -> &'static [&'static dyn Rule] {
    &[
        &blocking_call::BlockingCall,
        &run_in_async::RunInAsync,
        &client_in_loop::ClientInLoop,
        &unawaited_coroutine::UnawaitedCoroutine,
        &coroutine_in_bool::CoroutineInBool,
        &dropped_task::DroppedTask,
        &swallowed_cancel::SwallowedCancel,
        &needless_async::NeedlessAsync,
    ]
}

/// The rule with this code (case-insensitive).
pub fn by_code(code: &str) -> Option<&'static dyn Rule> {
    registry().iter().copied().find(|r| r.code().eq_ignore_ascii_case(code))
}
