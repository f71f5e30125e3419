//! `cargo bench -p gloam-benches --bench quick`: the `gloam-bench` harness (same code,
//! same options; see `gloam-bench --help`), at `n_quick` unless `--full` is given or
//! `GLOAM_BENCH_FULL=1` is set.
//!
//! Examples:
//! - `cargo bench -p gloam-benches --bench quick`
//! - `cargo bench -p gloam-benches --bench quick -- --engines all --workloads fib,loop`
//! - `GLOAM_BENCH_FULL=1 cargo bench -p gloam-benches --bench quick -- --large`
//!
//! Bare words select workloads (`-- fib loop`), as before. Exits with status 1 when any
//! cell is an error (the table is printed first).

use gloam_benches::alloc::CountingAlloc;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() -> ExitCode {
    // cargo passes `--bench` to harness = false targets.
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let full = match std::env::var("GLOAM_BENCH_FULL").as_deref() {
        Ok("1") => true,
        Ok("0") | Ok("") | Err(_) => false,
        Ok(other) => {
            eprintln!("GLOAM_BENCH_FULL must be 0 or 1, not {other:?}");
            return ExitCode::from(2);
        }
    };
    if !full && !args.iter().any(|a| a == "--full") {
        args.insert(0, "--quick".to_string());
    }
    // Bare words (not flags, not flag values) name workloads.
    let mut words = Vec::new();
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let takes_value = matches!(
            a.as_str(),
            "--engines"
                | "--workloads"
                | "--runs"
                | "--baseline"
                | "--large-size"
                | "--large-module"
        );
        if a.starts_with('-') {
            rest.push(a);
            if takes_value && let Some(v) = it.next() {
                rest.push(v);
            }
        } else {
            words.push(a);
        }
    }
    if !words.is_empty() {
        rest.push("--workloads".to_string());
        rest.push(words.join(","));
    }
    gloam_benches::cli::main_with(&rest)
}
