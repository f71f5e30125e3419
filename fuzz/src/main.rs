//! `gloam-fuzz [--seconds N] [--seed S] [--cases N]`: runs differential cases (gloam
//! against wasmi) from seed S upwards until the time or case budget is spent, and prints
//! the case count and every divergence with its seed. Exits non-zero on a divergence.
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
        if let Err(e) = &r {
            println!("DIVERGENCE {e}");
        }
        totals.add(s, r);
        s = s.wrapping_add(1);
        if last_report.elapsed() > Duration::from_secs(60) {
            last_report = Instant::now();
            println!(
                "[{:>5}s] {} cases, {} calls, {} divergences",
                start.elapsed().as_secs(),
                totals.cases,
                totals.calls,
                totals.divergences.len()
            );
        }
    }
    println!(
        "seeds {seed}..{s}: {} cases in {:.1}s ({} skipped, {} inconclusive: stack exhaustion), {} calls ({} trapped in both), {} divergences",
        totals.cases,
        start.elapsed().as_secs_f64(),
        totals.skipped,
        totals.inconclusive,
        totals.calls,
        totals.traps,
        totals.divergences.len()
    );
    if totals.oracle_bugs > 0 {
        println!(
            "({} of the printed divergences are known wasmi bugs, see ORACLE_BUGS)",
            totals.oracle_bugs
        );
    }
    if totals.divergences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
