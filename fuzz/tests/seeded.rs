//! The deterministic slice of the differential fuzzer that `cargo test` runs: a fixed
//! range of seeds, each a wasm-smith module run in gloam's interpreter, in its JIT (where
//! the target has one) and in wasmi.

/// Seeds of cases that once diverged (see `tests/tests/fuzz_regressions.rs` for the
/// minimized modules); they must keep agreeing.
const FOUND: &[u64] = &[7671, 9756, 17783];

#[test]
fn seeded_cases_agree_with_wasmi() {
    // Unoptimized wasm-smith and wasmi need more than a test thread's 2 MiB of stack on
    // some seeds; give the run the main thread's usual 8 MiB.
    let totals = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            let mut totals = gloam_fuzz::Totals::default();
            for seed in (0..5000).chain(FOUND.iter().copied()) {
                totals.add(gloam_fuzz::run_case(seed));
            }
            totals
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(
        totals.divergences.is_empty(),
        "{} divergences:\n{}",
        totals.divergences.len(),
        totals.divergences.join("\n")
    );
    // The slice must exercise something: most seeds make modules, and calls happen.
    assert!(totals.cases - totals.skipped > 2000, "{totals:?}");
    assert!(totals.calls > 1000, "{totals:?}");
    assert!(totals.traps > 100, "{totals:?}");
    // Where the JIT is compared, it must have compiled a fair share of the functions (it
    // leaves SIMD ones, many of wasm-smith's, to the interpreter: about 40% compile).
    if gloam_fuzz::jit_compared() {
        assert!(totals.jit_compiled * 4 > totals.jit_funcs, "{totals:?}");
    }
}
