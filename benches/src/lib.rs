//! Benchmark harness: gloam against wasmi (and, with the `peers-wasmtime` feature,
//! wasmtime) on the shared workloads, plus compile throughput on a large module.
//!
//! The workloads live in `shared/bench/` beside the repository (`workloads.toml`) and in
//! `benches/workloads/`. Each is one export `run(n) -> i64` (or `run(externref, n) -> i64`)
//! whose result is a checksum, so every timed call is also checked: a trap or a wrong
//! answer is an error cell, never a timing.
//!
//! For each engine and workload the harness measures (see [`measure::measure`]):
//! - compile: `Module::new` on the binary in a fresh engine made beforehand (WAT files
//!   are converted to binary outside the timing, so every engine gets the same bytes);
//! - instantiate: a fresh store plus `Instance::new`;
//! - first call: the warm-up call (lazy engines translate what it reaches);
//! - run: the median of N further calls;
//! - peak heap: the allocator high-water mark over all of that, when the binary installs
//!   [`alloc::CountingAlloc`].
//!
//! Modules: [`workload`] (and its [`toml`] subset), [`engines`], [`measure`], [`large`]
//! (the large-module throughput figures), [`report`] (tables and [`json`]), [`cli`].

pub mod alloc;
pub mod cli;
pub mod engines;
pub mod json;
pub mod large;
pub mod measure;
pub mod report;
pub mod toml;
pub mod workload;

pub use engines::{Gloam, GloamMode, Runtime, Wasmi};
pub use measure::{
    BenchError, Measurement, Row, Stage, bench_workload, bench_workload_with, measure, median,
    run_once,
};
pub use report::Report;
pub use workload::{Group, Param, Signature, Size, Workload, load_workloads, parse_workloads};

#[cfg(test)]
mod tests;
