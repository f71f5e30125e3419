//! `gloam-compile [MB|FILE.wasm] [RUNS] [MODE]`: compiles the generated large module
//! (`large.rs`, `MB` megabytes of code, default 1), or the module in `FILE.wasm` (a real
//! program, e.g. a CPython-for-WASI build), `RUNS` times (default 3) in fresh engines and
//! prints the best compile time and throughput (module bytes per second). `MODE` is `jit` (the default: eager translation
//! plus `jit_compile_all`, the `gloam-jit` engine, one thread), `jit-par` (the same with
//! `Config::parallel_compilation`, the `gloam-jit-par` engine), `interp-eager` or
//! `interp-eager-par`.
//!
//! Meant for instruction counts: every compile goes through [`compile_once`], so
//! `valgrind --tool=callgrind --toggle-collect='*compile_once*' gloam-compile 1 1` counts
//! exactly the compiles (module bytes to ready-to-call code) and nothing of the generator.

use gloam_benches::engines::{Compiled, Engine, Runtime};
use gloam_benches::{Gloam, GloamMode, large};
use std::process::ExitCode;
use std::time::Instant;

/// One compile of `wasm` in `engine`; kept out of line so a profiler can select it.
#[inline(never)]
fn compile_once(engine: &dyn Engine, wasm: &[u8]) -> anyhow::Result<Box<dyn Compiled>> {
    engine.compile(wasm)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let (mode, parallel) = match args.get(2).map(String::as_str) {
        None | Some("jit") => (GloamMode::Jit, false),
        Some("jit-par") => (GloamMode::Jit, true),
        Some("interp-eager") => (GloamMode::InterpEager, false),
        Some("interp-eager-par") => (GloamMode::InterpEager, true),
        Some(other) => {
            eprintln!(
                "gloam-compile: unknown mode `{other}` (jit, jit-par, interp-eager, interp-eager-par)"
            );
            return ExitCode::FAILURE;
        }
    };
    let (bytes, functions) = match args.first() {
        Some(path) if path.ends_with(".wasm") => match std::fs::read(path) {
            Ok(bytes) => match function_count(&bytes) {
                Ok(n) => (bytes, n),
                Err(e) => {
                    eprintln!("gloam-compile: {path}: {e}");
                    return ExitCode::FAILURE;
                }
            },
            Err(e) => {
                eprintln!("gloam-compile: {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
        arg => {
            let mb: f64 = arg.and_then(|s| s.parse().ok()).unwrap_or(1.0);
            let module = large::generate((mb * 1e6) as usize);
            (module.bytes, module.functions)
        }
    };
    let runtime = Gloam { mode, parallel };
    let mut best = f64::MAX;
    for _ in 0..runs.max(1) {
        let engine = match runtime.engine() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("gloam-compile: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        let start = Instant::now();
        let compiled = match compile_once(&*engine, &bytes) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("gloam-compile: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        // Ready to call: freeing the module again is not part of the compile.
        best = best.min(start.elapsed().as_secs_f64());
        drop(compiled);
    }
    println!(
        "{}: {} bytes ({} functions), best of {runs}: {:.2} ms, {:.2} MB/s",
        runtime.name(),
        bytes.len(),
        functions,
        best * 1e3,
        bytes.len() as f64 / best / 1e6
    );
    ExitCode::SUCCESS
}

/// How many functions `wasm` defines (the entries of its code section).
fn function_count(wasm: &[u8]) -> Result<usize, wasmparser::BinaryReaderError> {
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionStart { count, .. } = payload? {
            n = count as usize;
        }
    }
    Ok(n)
}
