//! Unit tests: the workload files, the parser, and cross-engine agreement.

use crate::engines::{Gloam, GloamMode, Wasmi};
use crate::measure::{median, run_once};
use crate::workload::*;
use std::time::Duration;

fn workload(name: &str) -> Workload {
    load_workloads()
        .unwrap()
        .into_iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("no workload `{name}`"))
}

#[test]
fn parses_all_fifteen_workloads_and_the_local_ones() {
    let workloads = load_workloads().unwrap();
    assert_eq!(workloads.len(), 17);
    let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "fib",
            "sieve",
            "nbody",
            "matmul",
            "hash",
            "sort",
            "vm",
            "memops",
            "call",
            "call_indirect",
            "br_table",
            "loop",
            "memory",
            "select_and_locals",
            "externref",
            "simd",
            "simd_scalar"
        ]
    );
    let fib = &workloads[0];
    assert_eq!(
        fib,
        &Workload {
            name: "fib".into(),
            file: "wasm/fib.wasm".into(),
            export: "run".into(),
            params: vec![Param::I32],
            n: 40,
            checksum: 102334155,
            n_quick: 32,
            checksum_quick: 2178309,
            group: Group::CKernel,
        }
    );
    let sieve = &workloads[1];
    assert_eq!(sieve.checksum, -4270341053809766775);
    assert_eq!(sieve.checksum_quick, 6910870608841601597);
    let externref = &workloads[14];
    assert_eq!(externref.params, [Param::ExternRef, Param::I32]);
    assert_eq!(externref.signature().unwrap(), Signature::ExternRefI32);
    assert_eq!(externref.checksum, -1520510907129821758);
    assert_eq!(externref.checksum_quick, 5189298621044565170);
    assert_eq!(
        workloads
            .iter()
            .filter(|w| w.group == Group::CKernel)
            .count(),
        8,
        "8 shared C kernels"
    );
    for w in &workloads {
        assert!(w.path().is_file(), "{} is missing", w.path().display());
        assert!(w.n_quick < w.n, "{}", w.name);
    }
}

#[test]
fn parser_handles_the_format_and_rejects_the_rest() {
    let text = r#"
# comment
[[workload]]
name = "a#b"   # trailing comment
file = "wat/x.wat"
export = "run"
params = [ "externref" , "i32", ]
n = 1_000
checksum = -9223372036854775808
n_quick = +10
checksum_quick = 9223372036854775807
stresses = "ignored"
"#;
    let w = parse_workloads(text, false).unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].name, "a#b");
    assert_eq!(w[0].n, 1000);
    assert_eq!(w[0].n_quick, 10);
    assert_eq!(w[0].checksum, i64::MIN);
    assert_eq!(w[0].checksum_quick, i64::MAX);
    assert_eq!(w[0].group, Group::WatMicro);

    for bad in [
        "name = \"x\"",                             // outside a table
        "[other]",                                  // other table
        "[[workload]]\nname = 1.5",                 // float
        "[[workload]]\nname = \"x",                 // unterminated string
        "[[workload]]\nparams = [\"i32\"",          // unterminated array
        "[[workload]]\nname = \"x\"\nname = \"y\"", // duplicate key
        "[[workload]]\nname = \"x\"",               // missing keys
    ] {
        assert!(parse_workloads(bad, false).is_err(), "accepted {bad:?}");
    }
    let n_too_big = text.replace("n = 1_000", "n = 3000000000");
    assert!(parse_workloads(&n_too_big, false).is_err());
}

#[test]
fn median_of_odd_and_even_counts() {
    let d = Duration::from_millis;
    assert_eq!(median(&[d(5), d(1), d(3)]), d(3));
    assert_eq!(
        median(&[d(4), d(1), d(2), d(3)]),
        Duration::from_micros(2500)
    );
    assert_eq!(median(&[]), Duration::ZERO);
}

/// Runs `f` on a thread with a 64 MiB stack.
///
/// wasmi 2 dispatches with tail calls between instruction handlers. In this
/// workspace's test profile (dependencies at opt-level 2, debug assertions on) they
/// are not turned into jumps, so wasmi's native stack grows with every instruction a
/// call executes: `fib` at n = 20 overflows even an 8 MiB main thread. The bench
/// profile (release settings) is not affected. The tests keep n small and give the
/// engines room anyway.
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

/// Runs `name` with each n through both engines and requires equal results.
fn engines_agree(name: &str, sizes: &[i32]) -> Vec<i64> {
    let w = workload(name);
    with_big_stack(|| {
        sizes
            .iter()
            .map(|&n| {
                let got_gloam = run_once(
                    &Gloam {
                        mode: GloamMode::Interp,
                        parallel: false,
                    },
                    &w,
                    n,
                )
                .unwrap();
                let got_wasmi = run_once(&Wasmi { eager: false }, &w, n).unwrap();
                assert_eq!(got_gloam, got_wasmi, "{name} with n = {n}: gloam vs wasmi");
                got_gloam
            })
            .collect()
    })
}

#[test]
fn loop_agrees_between_engines() {
    let results = engines_agree("loop", &[0, 1, 7, 500, 2000]);
    // Different sizes give different checksums, so the comparison is not vacuous.
    assert_ne!(results[3], results[4]);
}

#[test]
fn fib_agrees_between_engines() {
    let results = engines_agree("fib", &[0, 1, 2, 10, 15]);
    // The workload returns fib(n), so these are known.
    assert_eq!(results, [0, 1, 1, 55, 610]);
}

#[test]
fn externref_agrees_between_engines() {
    let results = engines_agree("externref", &[0, 1, 9, 100]);
    assert_ne!(results[2], results[3]);
}
