//! `gloam-fuzz [--seconds N] [--seed S] [--cases N]`: runs differential cases (gloam's
//! interpreter against its JIT and against wasmi, with wasmtime as the tie-breaker under
//! the `wasmtime-oracle` feature) from seed S upwards until the time or case budget is
//! spent. Prints every divergence (`DIVERGENCE seed N: ...`) and every wasmi bug found
//! (`ORACLE seed N: ...`), then a summary line. Exits non-zero on a divergence.
//! `gloam-fuzz --dump S` writes case S's module to `case-S.wasm`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let mut seconds = 10u64;
    let mut seed = 0u64;
    let mut max_cases = u64::MAX;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (a.as_str(), value) {
            ("--seconds", Some(v)) => seconds = v,
            ("--seed", Some(v)) => seed = v,
            ("--cases", Some(v)) => max_cases = v,
            ("--dump", Some(v)) => {
                // Writes case v's module to case-v.wasm, to reproduce a divergence.
                let Some(wasm) = gloam_fuzz::module_for(v) else {
                    eprintln!("seed {v} makes no module");
                    return ExitCode::FAILURE;
                };
                let path = format!("case-{v}.wasm");
                if let Err(e) = std::fs::write(&path, wasm) {
                    eprintln!("{path}: {e}");
                    return ExitCode::FAILURE;
                }
                println!("wrote {path}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("usage: gloam-fuzz [--seconds N] [--seed S] [--cases N] | --dump S");
                return ExitCode::from(2);
            }
        }
    }
    // A panic inside a case is caught and reported as a divergence; keep stderr quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let budget = Duration::from_secs(seconds);
    let mut totals = gloam_fuzz::Totals::default();
    let mut last_report = Instant::now();
    let mut s = seed;
    while start.elapsed() < budget && totals.cases < max_cases {
        let r = gloam_fuzz::run_case(s);
        match &r {
            Err(e) => println!("DIVERGENCE {e}"),
            Ok(stats) => {
                if let Some(bug) = &stats.oracle_bug {
                    println!("ORACLE seed {s}: {bug}");
                }
            }
        }
        totals.add(r);
        s = s.wrapping_add(1);
        if last_report.elapsed() > Duration::from_secs(60) {
            last_report = Instant::now();
            println!(
                "[{:>5}s] {} cases, {} calls, {} divergences, {} oracle bugs",
                start.elapsed().as_secs(),
                totals.cases,
                totals.calls,
                totals.divergences.len(),
                totals.oracle_bugs
            );
        }
    }
    let jit = if gloam_fuzz::jit_compared() {
        format!(
            "JIT compared ({} of {} functions compiled)",
            totals.jit_compiled, totals.jit_funcs
        )
    } else {
        "JIT not compared (no backend for this target)".to_string()
    };
    let tie_breaker = if gloam_fuzz::wasmtime_compared() {
        "wasmi bugs confirmed by wasmtime or ORACLE_BUGS"
    } else {
        "wasmi bugs from ORACLE_BUGS; no wasmtime tie-breaker"
    };
    println!(
        "seeds {seed}..{s}: {} cases in {:.1}s ({} skipped, {} inconclusive: stack exhaustion), {} calls ({} trapped), {} divergences, {} oracle bugs ({tie_breaker}), {jit}",
        totals.cases,
        start.elapsed().as_secs_f64(),
        totals.skipped,
        totals.inconclusive,
        totals.calls,
        totals.traps,
        totals.divergences.len(),
        totals.oracle_bugs,
    );
    if totals.divergences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
