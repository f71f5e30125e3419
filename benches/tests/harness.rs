//! The harness end to end at tiny sizes (debug build, a few seconds): checksums pass on
//! gloam and wasmi, a wrong checksum is an ERROR cell that fails the run, the heap column
//! is filled in, the command line resolves engines as documented, and the large-module
//! generator makes a valid, deterministic module that every engine compiles and runs.

use gloam_benches::alloc::CountingAlloc;
use gloam_benches::cli::{LargeSource, Options, parse_args, resolve_engines};
use gloam_benches::engines::{Gloam, GloamMode, Runtime, Wasmi};
use gloam_benches::large::{self, FirstCall, expected_run, measure_throughput};
use gloam_benches::report::{LargeReport, Report};
use gloam_benches::{Group, Size, Stage, Workload, bench_workload_with, load_workloads};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn workload(name: &str) -> Workload {
    load_workloads()
        .unwrap()
        .into_iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("no workload `{name}`"))
}

/// Runs `f` on a thread with a 64 MiB stack: wasmi 2 dispatches with tail calls between
/// handlers, which the test profile (debug assertions on) does not turn into jumps, so its
/// native stack grows with every instruction a call executes.
fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(s, f)
            .expect("spawning a test thread")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

fn gloam_and_wasmi() -> Vec<Box<dyn Runtime>> {
    vec![
        Box::new(Gloam {
            mode: GloamMode::Interp,
            parallel: false,
        }),
        Box::new(Wasmi { eager: false }),
    ]
}

fn report(rows: Vec<gloam_benches::Row>) -> Report {
    Report {
        size: Size::Quick,
        runs: 2,
        engines: vec!["gloam-interp", "wasmi"],
        baseline: 1,
        unavailable: vec![("gloam-jit", "no JIT in this build".to_string())],
        rows,
        large: None,
    }
}

#[test]
fn checksums_pass_and_a_wrong_one_is_an_error() {
    with_big_stack(|| {
        let engines = gloam_and_wasmi();
        // Known answers: fib returns fib(n); for the WAT micros, the plain-Python
        // reference models of shared/bench/wat_models.py give br_table(300) and
        // externref(300).
        let fib = workload("fib");
        let good = vec![
            bench_workload_with(&engines, &fib, 15, 610, 2),
            bench_workload_with(
                &engines,
                &workload("br_table"),
                300,
                -5769354573383777709,
                2,
            ),
            bench_workload_with(
                &engines,
                &workload("externref"),
                300,
                -5334957874953726770,
                2,
            ),
        ];
        for row in &good {
            for r in &row.results {
                let m = r
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{}: {e}", row.workload.name));
                assert_eq!(m.runs.len(), 2);
                // The counting allocator is installed here: the cell's heap peak covers
                // at least the module itself.
                let heap = m.peak_heap.expect("counting allocator installed");
                assert!(heap >= 1024, "{}: peak heap {heap}", row.workload.name);
            }
        }
        let ok = report(good.clone());
        assert!(ok.all_ok());
        assert!(ok.ratio(&ok.rows[0], 0).is_some());
        assert_eq!(ok.ratio(&ok.rows[0], 1), Some(1.0));
        let (mean, counted, total) = ok.geomean(Group::CKernel, 0);
        assert!(mean.is_some_and(|m| m > 0.0));
        assert_eq!((counted, total), (1, 1));
        assert_eq!(ok.geomean(Group::WatMicro, 1), (Some(1.0), 2, 2));
        let text = ok.render();
        assert!(text.contains("geomean C kernels (1)"), "{text}");
        assert!(text.contains("geomean WAT micros (2)"), "{text}");
        assert!(text.contains("gloam-jit: unavailable: no JIT in this build"));
        assert!(!text.contains("ERROR"), "{text}");

        // fib(15) is 610, not 611: every engine must report a checksum error.
        let bad = bench_workload_with(&engines, &fib, 15, 611, 2);
        for r in &bad.results {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.stage, Stage::Checksum);
            assert_eq!(e.message, "n = 15: expected 611, got 610");
        }
        let mut rows = good;
        rows.push(bad);
        let failed = report(rows);
        assert!(!failed.all_ok());
        let text = failed.render();
        assert!(text.contains("ERROR checksum"), "{text}");
        assert!(
            text.contains("fib / gloam-interp: checksum: n = 15: expected 611, got 610"),
            "{text}"
        );
        let json = failed.to_json().to_string();
        assert!(json.contains(r#""ok":false"#), "{json}");
        assert!(json.contains(r#""stage":"checksum""#), "{json}");
        assert!(json.ends_with(r#""ok":false}"#), "{json}");
    });
}

#[test]
fn traps_and_load_or_bind_failures_are_errors_not_timings() {
    let engines = gloam_and_wasmi();
    // A module whose `run` traps on the first call.
    let dir = std::env::temp_dir().join(format!("gloam-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trap = dir.join("trap.wat");
    std::fs::write(
        &trap,
        "(module (func (export \"run\") (param i32) (result i64) unreachable))",
    )
    .unwrap();
    let mut trapping = workload("loop");
    trapping.file = trap.to_string_lossy().into_owned();
    let row = bench_workload_with(&engines, &trapping, 1, 0, 1);
    for r in &row.results {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.stage, Stage::Call, "{e}");
        assert!(e.message.contains("unreachable"), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();

    let mut missing = workload("loop");
    missing.file = "wat/no-such-file.wat".to_string();
    let row = bench_workload_with(&engines, &missing, 1, 0, 1);
    for r in &row.results {
        assert_eq!(r.as_ref().unwrap_err().stage, Stage::Load);
    }
    // loop.wat's `run` takes no externref.
    let mut wrong_sig = workload("loop");
    wrong_sig.params = vec![gloam_benches::Param::ExternRef, gloam_benches::Param::I32];
    let row = bench_workload_with(&engines, &wrong_sig, 1, 0, 1);
    for r in &row.results {
        assert_eq!(r.as_ref().unwrap_err().stage, Stage::Bind);
    }
    let text = report(vec![row]).render();
    assert!(text.contains("ERROR bind"), "{text}");
}

#[test]
fn command_line_options_and_engine_resolution() {
    let args = |s: &str| -> Vec<String> { s.split_whitespace().map(String::from).collect() };
    let d = parse_args(&[]).unwrap();
    assert_eq!(d, Options::default());
    assert_eq!(d.engines, ["gloam-interp", "wasmi"]);
    assert_eq!(
        (d.runs, d.size, d.baseline.as_str()),
        (3, Size::Full, "wasmi")
    );

    let o = parse_args(&args(
        "--engines gloam-interp,gloam-jit --workloads fib,loop --runs=5 --quick --json \
         --baseline wasmi-eager --large-size 0.5",
    ))
    .unwrap();
    assert_eq!(
        o.workloads.as_deref(),
        Some(&["fib".into(), "loop".into()][..])
    );
    assert_eq!((o.runs, o.size, o.json), (5, Size::Quick, true));
    assert_eq!(
        o.large,
        Some(LargeSource::Generated {
            code_bytes: 500_000
        })
    );
    let (runtimes, baseline, unavailable) = resolve_engines(&o).unwrap();
    let names: Vec<&str> = runtimes.iter().map(|r| r.name()).collect();
    // The baseline is added when missing; the JIT is an engine where a backend exists,
    // else listed as unavailable.
    if gloam::Config::jit_available() {
        assert_eq!(names, ["gloam-interp", "gloam-jit", "wasmi-eager"]);
        assert_eq!(baseline, 2);
        assert!(unavailable.is_empty());
    } else {
        assert_eq!(names, ["gloam-interp", "wasmi-eager"]);
        assert_eq!(baseline, 1);
        assert_eq!(unavailable.len(), 1);
        assert_eq!(unavailable[0].0, "gloam-jit");
    }

    let all = parse_args(&args("--engines all")).unwrap();
    let (runtimes, _, unavailable) = resolve_engines(&all).unwrap();
    assert!(runtimes.iter().any(|r| r.name() == "gloam-interp-eager"));
    assert_eq!(
        runtimes.iter().any(|r| r.name() == "gloam-tiered"),
        gloam::Config::jit_available()
    );
    assert_eq!(
        unavailable.iter().any(|(n, _)| *n == "gloam-tiered"),
        !gloam::Config::jit_available()
    );
    #[cfg(not(feature = "peers-wasmtime"))]
    assert!(
        unavailable
            .iter()
            .any(|(n, r)| *n == "wasmtime-winch" && r.contains("peers-wasmtime"))
    );

    for bad in [
        "--runs 0",
        "--runs",
        "--engines nope",
        "--frobnicate",
        "--large-size -1",
        "--baseline nope",
    ] {
        let parsed = parse_args(&args(bad));
        let resolved = parsed.as_ref().ok().map(resolve_engines);
        assert!(
            parsed.is_err() || resolved.is_some_and(|r| r.is_err()),
            "accepted {bad:?}"
        );
    }
    // An unavailable engine cannot be the baseline.
    if !gloam::Config::jit_available() {
        let o = parse_args(&args("--baseline gloam-jit")).unwrap();
        assert!(resolve_engines(&o).is_err());
    }
    let none = parse_args(&args("--workloads none")).unwrap();
    assert!(
        gloam_benches::cli::select_workloads(&none)
            .unwrap()
            .is_empty()
    );
    let unknown = parse_args(&args("--workloads fib,nope")).unwrap();
    assert!(gloam_benches::cli::select_workloads(&unknown).is_err());
}

#[test]
fn large_module_is_deterministic_and_runs_on_every_engine() {
    let a = large::generate(150_000);
    let b = large::generate(150_000);
    assert!(a.bytes == b.bytes, "generation is not deterministic");
    assert!(a.code_bytes >= 150_000 && a.functions > 64);
    assert_eq!(expected_run(4), 14);
    assert_eq!(expected_run(large::RUN_N), 332_833_500);
    with_big_stack(|| {
        let engines: Vec<Box<dyn Runtime>> = vec![
            Box::new(Gloam {
                mode: GloamMode::Interp,
                parallel: false,
            }),
            Box::new(Gloam {
                mode: GloamMode::InterpEager,
                parallel: false,
            }),
            Box::new(Wasmi { eager: false }),
            Box::new(Wasmi { eager: true }),
        ];
        let mut results = Vec::new();
        for rt in &engines {
            let expected = Some(expected_run(large::RUN_N));
            let t = measure_throughput(rt.as_ref(), &a.bytes, 2, FirstCall::Run { expected })
                .unwrap_or_else(|e| panic!("{}: {e}", rt.name()));
            assert_eq!(t.compiles.len(), 2);
            assert_eq!(t.first_call.map(|(_, r)| r), Some(332_833_500));
            assert!(t.mb_per_s(a.bytes.len()) > 0.0);
            assert!(t.peak_heap.is_some());
            results.push(Ok(t));
        }
        // A wrong expected answer is a checksum error.
        let wrong = FirstCall::Run { expected: Some(1) };
        let e = measure_throughput(
            &Gloam {
                mode: GloamMode::Interp,
                parallel: false,
            },
            &a.bytes,
            1,
            wrong,
        )
        .unwrap_err();
        assert_eq!(e.stage, Stage::Checksum);
        // Compile only: no call, still a throughput figure.
        let t = measure_throughput(&Wasmi { eager: true }, &a.bytes, 1, FirstCall::Skip).unwrap();
        assert!(t.first_call.is_none() && t.compiles.len() == 1);
        assert!(large::callable(&a.bytes));
        let with_import = wat::parse_str(
            r#"(module (import "env" "f" (func)) (func (export "run") (param i32) (result i64) i64.const 0))"#,
        )
        .unwrap();
        assert!(!large::callable(&with_import));
        assert!(!large::callable(b"not wasm"));

        let r = Report {
            size: Size::Quick,
            runs: 2,
            engines: vec!["gloam-interp", "gloam-interp-eager", "wasmi", "wasmi-eager"],
            baseline: 2,
            unavailable: Vec::new(),
            rows: Vec::new(),
            large: Some(LargeReport {
                source: "generated".into(),
                module_bytes: a.bytes.len(),
                code_bytes: Some(a.code_bytes),
                functions: Some(a.functions),
                callable: true,
                run_n: large::RUN_N,
                expected: Some(expected_run(large::RUN_N)),
                runs: 2,
                results,
            }),
        };
        assert!(r.all_ok());
        let text = r.render();
        assert!(
            text.contains("MB/s") && text.contains("wasmi-eager"),
            "{text}"
        );
    });
}

#[test]
fn jit_and_tiered_engines_match_the_checksums() {
    if !gloam::Config::jit_available() {
        return; // no JIT backend for this target: the engines resolve as unavailable
    }
    with_big_stack(|| {
        let engines: Vec<Box<dyn Runtime>> = vec![
            Box::new(Gloam {
                mode: GloamMode::Jit,
                parallel: false,
            }),
            Box::new(Gloam {
                mode: GloamMode::Tiered,
                parallel: false,
            }),
        ];
        // fib(15) = 610; sieve and sort at their quick sizes with the shared checksums.
        let mut rows = vec![bench_workload_with(&engines, &workload("fib"), 15, 610, 1)];
        for name in ["sieve", "sort"] {
            let w = workload(name);
            let (n, sum) = (w.n_for(Size::Quick), w.checksum_for(Size::Quick));
            rows.push(bench_workload_with(&engines, &w, n, sum, 1));
        }
        for row in &rows {
            for r in &row.results {
                assert!(
                    r.is_ok(),
                    "{}: {}",
                    row.workload.name,
                    r.as_ref().unwrap_err()
                );
            }
        }
    });
}
