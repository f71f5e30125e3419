//! `cargo bench -p gloam-benches`: every workload through gloam and wasmi, then a table.
//!
//! Environment:
//! - `GLOAM_BENCH_FULL=1`: use each workload's full `n` (default: `n_quick`);
//! - `GLOAM_BENCH_RUNS=R`: timed calls per engine and workload after one warm-up (default 3).
//!
//! Arguments that do not start with `-` select workloads by name, e.g.
//! `cargo bench -p gloam-benches -- fib loop`.
//!
//! Exits with status 1 when any engine failed or returned a wrong checksum on any
//! workload (the table is printed first).

use gloam_benches::{Size, bench_workload, load_workloads, print_table, runtimes};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns whether every measurement succeeded.
fn run() -> anyhow::Result<bool> {
    let size = match std::env::var("GLOAM_BENCH_FULL").as_deref() {
        Ok("1") => Size::Full,
        Ok("0") | Ok("") | Err(_) => Size::Quick,
        Ok(other) => anyhow::bail!("GLOAM_BENCH_FULL must be 0 or 1, not {other:?}"),
    };
    let runs = match std::env::var("GLOAM_BENCH_RUNS") {
        Ok(s) => match s.trim().parse::<usize>() {
            Ok(r) if r >= 1 => r,
            _ => anyhow::bail!("GLOAM_BENCH_RUNS must be a positive integer, not {s:?}"),
        },
        Err(_) => 3,
    };
    // cargo passes `--bench` to harness = false targets; other flags are ignored too.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();

    let mut workloads = load_workloads()?;
    if !only.is_empty() {
        if let Some(unknown) = only
            .iter()
            .find(|o| !workloads.iter().any(|w| &w.name == *o))
        {
            anyhow::bail!("no workload named {unknown:?}");
        }
        workloads.retain(|w| only.contains(&w.name));
    }

    let runtimes = runtimes();
    let names: Vec<&str> = runtimes.iter().map(|rt| rt.name()).collect();
    eprintln!(
        "gloam-benches: {} workloads at {}, {} engines, warm-up + {runs} timed runs each",
        workloads.len(),
        match size {
            Size::Quick => "n_quick",
            Size::Full => "full n",
        },
        names.join(" and "),
    );
    let mut rows = Vec::new();
    for workload in &workloads {
        let row = bench_workload(&runtimes, workload, size, runs);
        let status: Vec<String> = names
            .iter()
            .zip(&row.results)
            .map(|(name, r)| match r {
                Ok(m) => format!("{name} {:.2} ms", m.median().as_secs_f64() * 1e3),
                Err(e) => format!("{name} ERR {}", e.stage.label()),
            })
            .collect();
        eprintln!("  {:<18} {}", workload.name, status.join(", "));
        rows.push(row);
    }
    println!();
    print_table(&names, &rows);
    Ok(rows.iter().all(|r| r.results.iter().all(Result::is_ok)))
}
