//! awaitify: turns synchronous Python into correct asyncio Python.
//!
//! The pipeline (see README.md): [`files`] walks the tree, [`source`] reads
//! and decodes, [`engine`] parses, analyses ([`analysis`]), runs the
//! [`passes`] in registry order, adds imports ([`imports`]), emits the text
//! losslessly ([`emit`]) and verifies it; [`run`] does this in parallel and
//! [`output`] writes, diffs or reports.

pub mod analysis;
pub mod check;
pub mod cli;
pub mod config;
pub mod emit;
pub mod engine;
pub mod entry_points;
pub mod files;
pub mod grammar;
pub mod imports;
pub mod limits;
pub mod output;
pub mod passes;
pub mod project;
pub mod pytest_config;
pub mod reach;
pub mod run;
pub mod runtime;
pub mod source;
pub mod syntax;
pub mod transforms;

pub use engine::{Converted, FileError, Options, TargetVersion, convert};
