//! The command line of `gloam-bench` (also `gloam bench`, and `cargo bench` through the
//! `quick` target).

use crate::engines::{DEFAULT_ENGINES, ENGINE_NAMES, Resolved, Runtime, resolve};
use crate::large::{self, FirstCall, LargeModule};
use crate::measure::bench_workload;
use crate::report::{LargeReport, Report};
use crate::workload::{Size, Workload, load_workloads};
use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;
use std::process::ExitCode;

pub const USAGE: &str = "\
usage: gloam-bench [OPTIONS]      (also: gloam bench [OPTIONS])

Runs the benchmark workloads (shared/bench/workloads.toml and benches/workloads/) on each
engine, checks every result against the workload's checksum, and prints median run times,
ratios to a baseline engine with geomean rows per workload group, and per-engine details
(compile, instantiate and first-call times, spread, peak heap).

options:
  --engines LIST       comma-separated engines, or `all` (default: gloam-interp,wasmi):
                       gloam-interp, gloam-interp-eager, gloam-jit, gloam-tiered, wasmi,
                       wasmi-eager, wasmtime-cranelift, wasmtime-winch; gloam compiles
                       on one thread, like the wasmtime peers here, except
                       gloam-interp-eager-par and gloam-jit-par (one thread per core)
  --workloads LIST     comma-separated workload names, or `none` (default: all)
  --runs N             timed calls per cell after one warm-up call (default 3)
  --quick              use each workload's n_quick and checksum_quick
  --full               use each workload's full n and checksum (the default)
  --baseline ENGINE    the engine the ratio table divides by (default wasmi; added to the
                       engines if missing)
  --json               print one JSON object instead of the tables
  --large              also measure compile throughput (MB/s) and time to first call on a
                       large generated module
  --large-size MB      code size of the generated module in MB (default 8)
  --large-module FILE  measure this module instead (.wasm or .wat); time to first call
                       needs an import-free module exporting run(i32) -> i64, otherwise
                       compile only; implies --large
  --list               list the engines (with availability) and workloads, then exit
  -h, --help           this text

Exit status: 0 when every cell passed, 1 when any cell is an ERROR (trap, wrong checksum,
compile or instantiate failure, panic), 2 for a usage error.
";

/// Where the large module comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum LargeSource {
    /// Generated with at least this many bytes of function bodies.
    Generated {
        code_bytes: usize,
    },
    File(PathBuf),
}

/// Parsed command-line options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub engines: Vec<String>,
    /// `None`: all workloads.
    pub workloads: Option<Vec<String>>,
    pub runs: usize,
    pub size: Size,
    pub baseline: String,
    pub json: bool,
    pub large: Option<LargeSource>,
    pub list: bool,
    pub help: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            engines: DEFAULT_ENGINES.iter().map(|s| s.to_string()).collect(),
            workloads: None,
            runs: 3,
            size: Size::Full,
            baseline: "wasmi".to_string(),
            json: false,
            large: None,
            list: false,
            help: false,
        }
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses the arguments (without the program name).
pub fn parse_args(args: &[String]) -> Result<Options> {
    let mut opts = Options::default();
    let mut large_size = None;
    let mut want_large = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| anyhow!("{flag} needs a value"))
        };
        match flag {
            "--engines" => {
                let v = value()?;
                opts.engines = if v.trim() == "all" {
                    ENGINE_NAMES.iter().map(|s| s.to_string()).collect()
                } else {
                    list(&v)
                };
                if opts.engines.is_empty() {
                    bail!("--engines needs at least one engine");
                }
            }
            "--workloads" => {
                let v = value()?;
                opts.workloads = Some(if v.trim() == "none" {
                    Vec::new()
                } else {
                    list(&v)
                });
            }
            "--runs" => {
                let v = value()?;
                opts.runs = match v.trim().parse::<usize>() {
                    Ok(n) if n >= 1 => n,
                    _ => bail!("--runs needs a positive integer, not `{v}`"),
                };
            }
            "--quick" => opts.size = Size::Quick,
            "--full" => opts.size = Size::Full,
            "--baseline" => opts.baseline = value()?.trim().to_string(),
            "--json" => opts.json = true,
            "--large" => want_large = true,
            "--large-size" => {
                let v = value()?;
                let mb: f64 = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|mb: &f64| *mb > 0.0 && *mb <= 256.0)
                    .ok_or_else(|| {
                        anyhow!("--large-size needs a size in MB (0 to 256), not `{v}`")
                    })?;
                large_size = Some((mb * 1e6) as usize);
                want_large = true;
            }
            "--large-module" => {
                opts.large = Some(LargeSource::File(PathBuf::from(value()?)));
            }
            "--list" => opts.list = true,
            "-h" | "--help" => opts.help = true,
            other => bail!("unknown argument `{other}`"),
        }
    }
    if opts.large.is_none() && want_large {
        opts.large = Some(LargeSource::Generated {
            code_bytes: large_size.unwrap_or(8_000_000),
        });
    } else if large_size.is_some() && matches!(opts.large, Some(LargeSource::File(_))) {
        bail!("--large-size and --large-module exclude each other");
    }
    Ok(opts)
}

/// The engines to run, in order (the baseline added last if it was not asked for), the
/// baseline's index among them, and the unavailable ones with their reasons.
#[allow(clippy::type_complexity)]
pub fn resolve_engines(
    opts: &Options,
) -> Result<(Vec<Box<dyn Runtime>>, usize, Vec<(&'static str, String)>)> {
    let mut names: Vec<&str> = Vec::new();
    for name in &opts.engines {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    if !names.contains(&opts.baseline.as_str()) {
        names.push(&opts.baseline);
    }
    let mut runtimes: Vec<Box<dyn Runtime>> = Vec::new();
    let mut unavailable = Vec::new();
    for name in names {
        match resolve(name)? {
            Resolved::Available(rt) => runtimes.push(rt),
            Resolved::Unavailable { name, reason } => unavailable.push((name, reason)),
        }
    }
    let baseline = runtimes
        .iter()
        .position(|rt| rt.name() == opts.baseline)
        .ok_or_else(|| {
            let reason = unavailable
                .iter()
                .find(|(n, _)| *n == opts.baseline)
                .map_or("", |(_, r)| r.as_str());
            anyhow!(
                "the baseline engine `{}` is unavailable: {reason}",
                opts.baseline
            )
        })?;
    Ok((runtimes, baseline, unavailable))
}

/// The workloads selected by `opts`, in file order.
pub fn select_workloads(opts: &Options) -> Result<Vec<Workload>> {
    let mut all = load_workloads()?;
    if let Some(only) = &opts.workloads {
        if let Some(unknown) = only.iter().find(|o| !all.iter().any(|w| &w.name == *o)) {
            let known: Vec<&str> = all.iter().map(|w| w.name.as_str()).collect();
            bail!(
                "no workload named `{unknown}` (known: {}, or `none`)",
                known.join(", ")
            );
        }
        all.retain(|w| only.contains(&w.name));
    }
    Ok(all)
}

/// Runs what `opts` asks for, printing progress to standard error, and returns the report.
pub fn run(opts: &Options) -> Result<Report> {
    let (runtimes, baseline, unavailable) = resolve_engines(opts)?;
    let workloads = select_workloads(opts)?;
    let engines: Vec<&'static str> = runtimes.iter().map(|rt| rt.name()).collect();
    if !workloads.is_empty() {
        eprintln!(
            "gloam-bench: {} workloads at {}, engines {}, warm-up + {} timed runs each",
            workloads.len(),
            opts.size.label(),
            engines.join(", "),
            opts.runs
        );
    }
    let mut rows = Vec::new();
    for workload in &workloads {
        let row = bench_workload(&runtimes, workload, opts.size, opts.runs);
        let status: Vec<String> = engines
            .iter()
            .zip(&row.results)
            .map(|(name, r)| match r {
                Ok(m) => format!("{name} {:.2} ms", m.median().as_secs_f64() * 1e3),
                Err(e) => format!("{name} ERROR {}", e.stage.label()),
            })
            .collect();
        eprintln!("  {:<18} {}", workload.name, status.join(", "));
        rows.push(row);
    }
    let large = match &opts.large {
        None => None,
        Some(source) => Some(run_large(source, &runtimes, opts.runs)?),
    };
    Ok(Report {
        size: opts.size,
        runs: opts.runs,
        engines,
        baseline,
        unavailable,
        rows,
        large,
    })
}

fn run_large(
    source: &LargeSource,
    runtimes: &[Box<dyn Runtime>],
    runs: usize,
) -> Result<LargeReport> {
    let (bytes, describe, code_bytes, functions, first_call) = match source {
        LargeSource::Generated { code_bytes } => {
            let LargeModule {
                bytes,
                code_bytes,
                functions,
            } = large::generate(*code_bytes);
            (
                bytes,
                "generated (large.rs, deterministic)".to_string(),
                Some(code_bytes),
                Some(functions),
                FirstCall::Run {
                    expected: Some(large::expected_run(large::RUN_N)),
                },
            )
        }
        LargeSource::File(path) => {
            let bytes = if path.extension().is_some_and(|e| e == "wat") {
                wat::parse_file(path)?
            } else {
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
            };
            let first_call = if large::callable(&bytes) {
                FirstCall::Run { expected: None }
            } else {
                FirstCall::Skip
            };
            (bytes, path.display().to_string(), None, None, first_call)
        }
    };
    eprintln!(
        "gloam-bench: large module ({} bytes): compile x{runs}{} per engine",
        bytes.len(),
        match first_call {
            FirstCall::Run { .. } => " + time to first call",
            FirstCall::Skip => " (no imports-free `run(i32) -> i64`: compile only)",
        }
    );
    let mut results = Vec::new();
    for rt in runtimes {
        let r = large::measure_throughput(rt.as_ref(), &bytes, runs, first_call);
        match &r {
            Ok(t) => eprintln!(
                "  {:<18} compile {:.1} ms{}",
                rt.name(),
                t.compile().as_secs_f64() * 1e3,
                t.first_call.map_or(String::new(), |(d, _)| format!(
                    ", first call {:.1} ms",
                    d.as_secs_f64() * 1e3
                ))
            ),
            Err(e) => eprintln!("  {:<18} ERROR {}", rt.name(), e.stage.label()),
        }
        results.push(r);
    }
    // Without a known answer, every engine must at least agree with the first that ran.
    if first_call == (FirstCall::Run { expected: None }) {
        let reference = results
            .iter()
            .find_map(|r| r.as_ref().ok().and_then(|t| t.first_call));
        if let Some((_, reference)) = reference {
            for r in &mut results {
                if let Ok(t) = r
                    && let Some((_, got)) = t.first_call
                    && got != reference
                {
                    *r = Err(crate::measure::BenchError::new(
                        crate::measure::Stage::Checksum,
                        format!(
                            "run({}) = {got}, but the first engine returned {reference}",
                            large::RUN_N
                        ),
                    ));
                }
            }
        }
    }
    let expected = match first_call {
        FirstCall::Run { expected } => expected,
        FirstCall::Skip => None,
    };
    Ok(LargeReport {
        source: describe,
        module_bytes: bytes.len(),
        code_bytes,
        functions,
        callable: first_call != FirstCall::Skip,
        run_n: large::RUN_N,
        expected,
        runs,
        results,
    })
}

/// The `--list` text.
pub fn listing() -> Result<String> {
    use std::fmt::Write as _;
    let mut out = String::from("engines:\n");
    for name in ENGINE_NAMES {
        match resolve(name)? {
            Resolved::Available(_) => writeln!(out, "  {name}")?,
            Resolved::Unavailable { reason, .. } => {
                writeln!(out, "  {name} (unavailable: {reason})")?
            }
        }
    }
    out.push_str("workloads:\n");
    for w in load_workloads()? {
        writeln!(
            out,
            "  {:<18} {:<28} n = {}, n_quick = {}",
            w.name,
            w.group.label(),
            w.n,
            w.n_quick
        )?;
    }
    Ok(out)
}

/// Parses `args` (without the program name), runs, prints, and returns the exit status.
pub fn main_with(args: &[String]) -> ExitCode {
    let opts = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("gloam-bench: {e:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if opts.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if opts.list {
        return match listing() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("gloam-bench: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&opts) {
        Ok(report) => {
            if opts.json {
                println!("{}", report.to_json());
            } else {
                println!();
                print!("{}", report.render());
            }
            if report.all_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("gloam-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}
