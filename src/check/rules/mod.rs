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
