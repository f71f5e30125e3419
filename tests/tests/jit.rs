//! The JIT tier against the interpreter: the same modules give the same results, traps,
//! backtraces and memory, and the JIT really compiles what it claims to.
//!
//! Where the build has no JIT (not x86-64 or aarch64, or without the `jit` feature), the tests that
//! need native code, and the slow bench-kernel comparison, return early.

use gloam::{Config, Engine, Instance, Linker, Module, Store, Trap, Val, WasmBacktrace};
use std::path::{Path, PathBuf};

fn engine(threshold: Option<u32>) -> Engine {
    let mut config = Config::new();
    config.jit_threshold(threshold);
    Engine::new(&config).unwrap()
}

/// The three modes every test compares: interpreter, JIT before first call, tiered.
const MODES: [Option<u32>; 3] = [None, Some(0), Some(2)];

const INT_MODULE: &str = r#"
(module
  (memory (export "mem") 1)
  (global $g (mut i64) (i64.const 7))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "mix") (param i64 i64) (result i64)
    (local i64)
    (local.set 2 (i64.mul (local.get 0) (i64.const 0x9e3779b97f4a7c15)))
    (local.set 2 (i64.xor (local.get 2) (i64.rotl (local.get 1) (i64.const 13))))
    (local.set 2 (i64.add (local.get 2) (i64.shr_s (local.get 2) (i64.const 7))))
    (global.set $g (i64.add (global.get $g) (local.get 2)))
    (i64.add (local.get 2)
      (i64.add (i64.clz (local.get 0))
        (i64.add (i64.ctz (local.get 1))
          (i64.extend_i32_s (i32.wrap_i64 (local.get 1)))))))
  (func (export "div") (param i32 i32) (result i32)
    (i32.add (i32.div_s (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1))))
  (func (export "switch") (param i32) (result i32)
    (block (block (block (block
      (br_table 0 1 2 3 (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 20)))
      (return (i32.const 30)))
    (i32.const 40))
  (func (export "fill") (param i32 i32) (result i32)
    (local i32 i32)
    (loop $l
      (i32.store8 offset=3 (local.get 2) (i32.add (local.get 1) (local.get 2)))
      (local.set 3 (i32.add (local.get 3) (i32.load16_s offset=2 (local.get 2))))
      (br_if $l (i32.lt_u (local.tee 2 (i32.add (local.get 2) (i32.const 1))) (local.get 0))))
    (i32.add (local.get 3) (select (i32.const 1) (i32.const 2) (local.get 1))))
  (func (export "global") (result i64) (global.get $g))
  (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func $middle (param i32) (result i32) (call $inner (local.get 0)))
  (func (export "outer") (param i32) (result i32) (call $middle (local.get 0)))
  (func $rec (export "rec") (param i32) (result i32)
    (i32.add (i32.const 1) (call $rec (local.get 0))))
  (func (export "oob") (param i32) (result i32) (i32.load (local.get 0))))
"#;

/// Runs `calls` on a fresh instance of `wat` and returns the printed results (or trap
/// message with the backtrace's function indices and pcs), and memory `mem` afterwards.
/// `v` with the sign of a NaN cleared. Wasm leaves the sign of a NaN result free (and,
/// when two operands are NaN, which payload propagates), so the tiers may differ there:
/// LLVM treats `fadd`/`fmul` as commutative and the x86 result is the first operand's
/// NaN. The payload bits are still compared.
fn nan_sign_cleared(v: &Val) -> Val {
    match *v {
        Val::F32(b) if f32::from_bits(b).is_nan() => Val::F32(b & 0x7fff_ffff),
        Val::F64(b) if f64::from_bits(b).is_nan() => Val::F64(b & 0x7fff_ffff_ffff_ffff),
        ref other => other.clone(),
    }
}

fn run_all(threshold: Option<u32>, wat: &str, calls: &[(&str, Vec<Val>)]) -> Vec<String> {
    let engine = engine(threshold);
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mut out = Vec::new();
    for (name, args) in calls {
        let f = instance.get_func(&mut store, name).unwrap();
        let ty = f.ty(&store);
        let mut results = vec![Val::I32(0); ty.results().len()];
        match f.call(&mut store, args, &mut results) {
            Ok(()) => {
                let results: Vec<Val> = results.iter().map(nan_sign_cleared).collect();
                out.push(format!("{name}: {results:?}"))
            }
            Err(e) => {
                let frames: Vec<_> = e
                    .downcast_ref::<WasmBacktrace>()
                    .map(|bt| bt.frames().iter().map(|f| (f.func_index, f.pc)).collect())
                    .unwrap_or_default();
                out.push(format!(
                    "{name}: {:?} at {frames:?}",
                    e.downcast_ref::<Trap>()
                ));
            }
        }
    }
    if let Some(mem) = instance.get_memory(&mut store, "mem") {
        let data = mem.data(&store);
        out.push(format!("memory hash {:x}", fnv(data)));
    }
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[test]
fn jit_compiles_integer_code() {
    if !Config::jit_available() {
        return;
    }
    let engine = engine(Some(0));
    let module = Module::new(&engine, INT_MODULE).unwrap();
    let outcomes = module.jit_compile_all().unwrap();
    assert_eq!(outcomes.len(), 11);
    for o in &outcomes {
        assert!(
            matches!(o.result, Ok(n) if n > 0),
            "function {} not compiled: {:?}",
            o.func_index,
            o.result
        );
    }
    // Without a threshold the engine has no JIT.
    let interp = Module::new(&engine_interp(), INT_MODULE).unwrap();
    assert!(interp.jit_compile_all().is_err());
}

fn engine_interp() -> Engine {
    engine(None)
}

#[test]
fn unsupported_ops_fall_back_with_a_reason() {
    if !Config::jit_available() {
        return;
    }
    let engine = engine(Some(0));
    let wat = r#"(module (func (export "f") (param i32) (result i32)
        (i32x4.extract_lane 1 (i32x4.splat (local.get 0)))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let outcomes = module.jit_compile_all().unwrap();
    assert_eq!(
        outcomes[0].result,
        Err("unsupported: i32x4.splat".to_string()),
        "{outcomes:?}"
    );
    // And the function still runs (interpreted).
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    assert_eq!(f.call(&mut store, 16).unwrap(), 16);
}

const FLOAT_MODULE: &str = r#"
(module
  (func (export "f32") (param f32 f32) (result f32)
    (f32.add (f32.mul (local.get 0) (local.get 1))
      (f32.add (f32.min (local.get 0) (local.get 1))
        (f32.add (f32.max (local.get 0) (local.get 1))
          (f32.add (f32.nearest (local.get 0))
            (f32.add (f32.copysign (f32.sqrt (local.get 1)) (local.get 0))
              (f32.demote_f64 (f64.promote_f32 (f32.div (local.get 0) (local.get 1))))))))))
  (func (export "f64") (param f64 f64) (result f64)
    (f64.sub (f64.div (local.get 0) (local.get 1))
      (f64.add (f64.floor (local.get 0))
        (f64.add (f64.convert_i64_u (i64.trunc_sat_f64_u (local.get 1)))
          (f64.add (f64.convert_i32_u (i32.trunc_sat_f64_s (local.get 0)))
            (f64.abs (f64.neg (local.get 1))))))))
  (func (export "cmp") (param f64 f64) (result i32)
    (i32.or (i32.shl (f64.lt (local.get 0) (local.get 1)) (i32.const 0))
      (i32.or (i32.shl (f64.le (local.get 0) (local.get 1)) (i32.const 1))
        (i32.or (i32.shl (f64.gt (local.get 0) (local.get 1)) (i32.const 2))
          (i32.or (i32.shl (f64.ge (local.get 0) (local.get 1)) (i32.const 3))
            (i32.or (i32.shl (f64.eq (local.get 0) (local.get 1)) (i32.const 4))
              (i32.shl (f64.ne (local.get 0) (local.get 1)) (i32.const 5))))))))
  (func (export "trunc") (param f64) (result i64)
    (i64.add (i64.extend_i32_s (i32.trunc_f64_s (local.get 0)))
      (i64.trunc_f64_u (f64.abs (local.get 0)))))
  (func (export "conv") (param i64) (result f32)
    (f32.add (f32.convert_i64_u (local.get 0)) (f32.convert_i64_s (local.get 0)))))
"#;

#[test]
fn floats_agree_with_the_interpreter() {
    if Config::jit_available() {
        let module = Module::new(&engine(Some(0)), FLOAT_MODULE).unwrap();
        let outcomes = module.jit_compile_all().unwrap();
        assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
    }
    let specials = [
        0.0,
        -0.0,
        1.5,
        -2.5,
        3.0e9,
        -3.0e9,
        1.0e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::MIN_POSITIVE,
    ];
    let mut calls: Vec<(&str, Vec<Val>)> = Vec::new();
    for &x in &specials {
        calls.push(("trunc", vec![Val::F64(x.to_bits())]));
        for &y in &specials {
            calls.push(("f64", vec![Val::F64(x.to_bits()), Val::F64(y.to_bits())]));
            calls.push(("cmp", vec![Val::F64(x.to_bits()), Val::F64(y.to_bits())]));
            let (a, b) = ((x as f32).to_bits(), (y as f32).to_bits());
            calls.push(("f32", vec![Val::F32(a), Val::F32(b)]));
        }
    }
    for v in [0i64, 1, -1, i64::MAX, i64::MIN, 1 << 53 | 1, -(1 << 60) - 7] {
        calls.push(("conv", vec![Val::I64(v)]));
    }
    let reference = run_all(None, FLOAT_MODULE, &calls);
    assert!(
        reference
            .iter()
            .any(|r| r.contains("BadConversionToInteger")),
        "{reference:?}"
    );
    for mode in &MODES[1..] {
        let got = run_all(*mode, FLOAT_MODULE, &calls);
        for (i, (g, r)) in got.iter().zip(&reference).enumerate() {
            assert_eq!(g, r, "mode {mode:?}, call {i}: {:?}", calls[i]);
        }
    }
}

/// Calls of `INT_MODULE` with results, traps and backtraces worth comparing.
fn int_calls() -> Vec<(&'static str, Vec<Val>)> {
    vec![
        ("fib", vec![Val::I32(20)]),
        ("mix", vec![Val::I64(-5), Val::I64(0x1234_5678_9abc)]),
        ("mix", vec![Val::I64(1 << 40), Val::I64(-1)]),
        ("div", vec![Val::I32(-7), Val::I32(2)]),
        ("div", vec![Val::I32(i32::MIN), Val::I32(-1)]),
        ("div", vec![Val::I32(1), Val::I32(0)]),
        ("switch", vec![Val::I32(0)]),
        ("switch", vec![Val::I32(2)]),
        ("switch", vec![Val::I32(-1)]),
        ("fill", vec![Val::I32(300), Val::I32(5)]),
        ("fill", vec![Val::I32(10), Val::I32(0)]),
        ("global", vec![]),
        ("outer", vec![Val::I32(3)]),
        ("outer", vec![Val::I32(0)]),
        ("outer", vec![Val::I32(0)]),
        ("outer", vec![Val::I32(0)]),
        ("rec", vec![Val::I32(0)]),
        ("oob", vec![Val::I32(65533)]),
        ("oob", vec![Val::I32(65532)]),
        ("fib", vec![Val::I32(15)]),
    ]
}

#[test]
fn same_results_traps_and_backtraces_in_every_mode() {
    let calls = int_calls();
    let reference = run_all(None, INT_MODULE, &calls);
    // The reference itself must show the behaviour we compare.
    assert!(reference[0].contains("6765"), "{reference:?}");
    assert!(reference[4].contains("IntegerOverflow"), "{reference:?}");
    assert!(
        reference[13].contains("IntegerDivisionByZero"),
        "{reference:?}"
    );
    assert!(reference[16].contains("StackOverflow"), "{reference:?}");
    assert!(reference[17].contains("MemoryOutOfBounds"), "{reference:?}");
    for mode in &MODES[1..] {
        assert_eq!(
            run_all(*mode, INT_MODULE, &calls),
            reference,
            "mode {mode:?}"
        );
    }
}

#[test]
fn host_calls_and_reentry_from_native_code() {
    let wat = r#"(module
        (import "env" "twice" (func $twice (param i32) (result i32)))
        (func $sq (export "sq") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
        (func (export "f") (param i32) (result i32)
          (i32.add (call $twice (local.get 0)) (i32.const 1))))"#;
    for mode in MODES {
        let engine = engine(mode);
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        // The host function calls back into wasm (`sq`) through the caller's instance.
        linker
            .func_wrap(
                "env",
                "twice",
                |mut caller: gloam::Caller<'_, ()>, x: i32| -> anyhow::Result<i32> {
                    let sq = caller.get_export("sq").unwrap().into_func().unwrap();
                    let sq = sq.typed::<i32, i32>(&caller)?;
                    Ok(2 * sq.call(&mut caller, x)?)
                },
            )
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, "f")
            .unwrap();
        for x in 0..5 {
            assert_eq!(
                f.call(&mut store, x).unwrap(),
                2 * x * x + 1,
                "mode {mode:?}"
            );
        }
    }
}

/// The shared bench's C kernels with their quick sizes: the checksum from
/// `workloads.toml`, and the same memory afterwards, in every mode.
#[test]
fn bench_kernels_agree_across_tiers() {
    check_bench_kernels(false);
}

/// As [`bench_kernels_agree_across_tiers`] with fuel and epoch checks compiled in: also the
/// same fuel consumed in every mode, and every kernel native in JIT mode.
#[test]
fn bench_kernels_with_fuel_and_epochs_agree_across_tiers() {
    check_bench_kernels(true);
}

fn check_bench_kernels(limits: bool) {
    // Without a JIT all three runs would be interpreted (and slow under qemu).
    if !Config::jit_available() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench");
    let toml = std::fs::read_to_string(dir.join("workloads.toml")).unwrap();
    let mut checked = 0;
    for table in toml.split("[[workload]]").skip(1) {
        let field = |k: &str| {
            table.lines().find_map(|l| {
                let (key, v) = l.split_once('=')?;
                (key.trim() == k).then(|| v.trim().trim_matches('"').to_string())
            })
        };
        let (Some(file), Some(params), Some(n), Some(sum)) = (
            field("file"),
            field("params"),
            field("n_quick"),
            field("checksum_quick"),
        ) else {
            continue;
        };
        if !file.ends_with(".wasm") || params != "[\"i32\"]" {
            continue;
        }
        let n: i32 = n.parse().unwrap();
        let sum: i64 = sum.parse().unwrap();
        let path: PathBuf = dir.join(&file);
        let mut seen = Vec::new();
        for mode in MODES {
            let mut config = Config::new();
            config
                .jit_threshold(mode)
                .consume_fuel(limits)
                .epoch_interruption(limits);
            let engine = Engine::new(&config).unwrap();
            let module = Module::from_file(&engine, &path).unwrap();
            if limits && mode == Some(0) {
                assert_all_native(&module);
            }
            let mut store = Store::new(&engine, ());
            let full = 1 << 62;
            if limits {
                store.set_fuel(full).unwrap();
                store.set_epoch_deadline(1_000_000);
            }
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let run = instance
                .get_typed_func::<i32, i64>(&mut store, "run")
                .unwrap();
            let got = run.call(&mut store, n).unwrap();
            assert_eq!(got, sum, "{file} in mode {mode:?}");
            let mem = instance.get_memory(&mut store, "memory").unwrap();
            let used = if limits {
                full - store.get_fuel().unwrap()
            } else {
                0
            };
            seen.push((fnv(mem.data(&store)), used));
        }
        assert!(
            seen.iter().all(|h| *h == seen[0]),
            "{file}: memory or fuel differs (hash, fuel used per mode): {seen:?}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} kernels found");
}

#[test]
fn batch_compiled_functions_share_memory_and_run() {
    if !Config::jit_available() {
        return;
    }
    // `jit_compile_all` links a module's functions into shared executable memory: every
    // function must run at its own place, also when one in the middle of the batch cannot
    // be compiled (it takes no space) and when functions call each other.
    let mut wat = String::from("(module\n");
    for i in 0..40 {
        wat += &format!(
            "(func (export \"f{i}\") (param i32) (result i32)
               (i32.add (i32.mul (local.get 0) (i32.const {m})) (i32.const {i})))\n",
            m = i + 2
        );
        if i == 20 {
            wat += "(func (export \"simd\") (param i32) (result i32)
               (i32x4.extract_lane 1 (i32x4.splat (local.get 0))))\n";
        }
    }
    wat += "(func (export \"chain\") (param i32) (result i32)
               (call 0 (call 39 (call 21 (local.get 0)))))\n)";
    let engine = engine(Some(0));
    let module = Module::new(&engine, &wat).unwrap();
    let outcomes = module.jit_compile_all().unwrap();
    assert_eq!(outcomes.len(), 42);
    for (i, o) in outcomes.iter().enumerate() {
        if i == 21 {
            assert_eq!(o.result, Err("unsupported: i32x4.splat".to_string()));
        } else {
            assert!(matches!(o.result, Ok(n) if n > 0), "{i}: {:?}", o.result);
        }
    }
    // A second call compiles nothing new and reports the same.
    assert_eq!(module.jit_compile_all().unwrap(), outcomes);
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for i in 0..40 {
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, &format!("f{i}"))
            .unwrap();
        assert_eq!(f.call(&mut store, 7).unwrap(), 7 * (i + 2) + i, "f{i}");
    }
    let simd = instance
        .get_typed_func::<i32, i32>(&mut store, "simd")
        .unwrap();
    assert_eq!(simd.call(&mut store, 5).unwrap(), 5);
    let chain = instance
        .get_typed_func::<i32, i32>(&mut store, "chain")
        .unwrap();
    // f21 is the SIMD function (index 21): 3 -> 3; f38 (index 39): 3 * 40 + 38; f0: * 2.
    assert_eq!(chain.call(&mut store, 3).unwrap(), (3 * 40 + 38) * 2);
}

/// Compiles every function of `module` now and fails unless all of them are native.
fn assert_all_native(module: &Module) {
    for o in module.jit_compile_all().unwrap() {
        assert!(
            matches!(o.result, Ok(n) if n > 0),
            "function {} not compiled: {:?}",
            o.func_index,
            o.result
        );
    }
}

/// Loops and calls for the fuel and epoch comparison, with host calls that change the
/// store's fuel (`refuel`) and epoch deadline (`deadline`) while native code is suspended
/// in a step exit: native code must see the new values at its next check.
const LIMITS_MODULE: &str = r#"
(module
  (import "env" "refuel" (func $refuel (param i64)))
  (import "env" "deadline" (func $deadline (param i64)))
  (func $leaf (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  ;; Refuels to `fuel` at iteration 5 of `n`.
  (func (export "refuel_mid") (param $n i32) (param $fuel i64) (result i32) (local $i i32)
    (loop $l
      (if (i32.eq (local.get $i) (i32.const 5)) (then (call $refuel (local.get $fuel))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  ;; Sets the deadline `ticks` ahead at iteration 3 of `n`.
  (func (export "deadline_mid") (param $n i32) (param $ticks i64) (result i32) (local $i i32)
    (loop $l
      (if (i32.eq (local.get $i) (i32.const 3)) (then (call $deadline (local.get $ticks))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  ;; Nested loops, a wasm call in the inner one, blocks that branch and blocks that do not.
  (func (export "nested") (param $n i32) (result i32) (local $acc i32) (local $j i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $acc (i32.add (local.get $acc) (call $leaf (local.get $j))))
        (block $skip
          (br_if $skip (i32.and (local.get $j) (i32.const 1)))
          (local.set $acc (i32.xor (local.get $acc) (i32.const 0x55))))
        (br_if $inner
          (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 7))))
      (br_if $outer
        (i32.gt_s (local.tee $n (i32.sub (local.get $n) (i32.const 1))) (i32.const 0))))
    (local.get $acc)))
"#;

/// What happens at the epoch deadline in [`run_limited`].
#[derive(Copy, Clone, Debug)]
enum AtDeadline {
    /// The deadline is far; reaching it (through `deadline_mid`) traps.
    Trap,
    /// The deadline is far; reaching it (through `deadline_mid`) runs a callback that
    /// counts the stop and moves the deadline far again, and the call goes on.
    Extend,
    /// The deadline is the current epoch and a callback counts the stops and extends it
    /// by 0 ticks: every epoch check runs it.
    CountEveryCheck,
}

/// Runs `calls` on `wat` with fuel and epochs on, each with `fuel` fuel, and returns per
/// call the result (or trap and backtrace), the fuel left and the epoch callbacks run so
/// far. In JIT mode every function must compile natively.
fn run_limited(
    threshold: Option<u32>,
    wat: &str,
    calls: &[(&str, Vec<Val>)],
    fuel: u64,
    at_deadline: AtDeadline,
) -> Vec<String> {
    let mut config = Config::new();
    config
        .jit_threshold(threshold)
        .consume_fuel(true)
        .epoch_interruption(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    if threshold == Some(0) && Config::jit_available() {
        assert_all_native(&module);
    }
    let mut store = Store::new(&engine, 0u64);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "env",
            "refuel",
            |mut caller: gloam::Caller<'_, u64>, fuel: i64| caller.set_fuel(fuel as u64),
        )
        .unwrap();
    linker
        .func_wrap(
            "env",
            "deadline",
            |mut caller: gloam::Caller<'_, u64>, ticks: i64| {
                caller.set_epoch_deadline(ticks as u64)
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let mut out = Vec::new();
    for (name, args) in calls {
        match at_deadline {
            AtDeadline::Trap => store.set_epoch_deadline(1_000_000),
            AtDeadline::Extend => {
                store.set_epoch_deadline(1_000_000);
                store.epoch_deadline_callback(|mut ctx| {
                    *ctx.data_mut() += 1;
                    Ok(gloam::UpdateDeadline::Continue(1_000_000))
                });
            }
            AtDeadline::CountEveryCheck => {
                store.set_epoch_deadline(0);
                store.epoch_deadline_callback(|mut ctx| {
                    *ctx.data_mut() += 1;
                    Ok(gloam::UpdateDeadline::Continue(0))
                });
            }
        }
        store.set_fuel(fuel).unwrap();
        let f = instance.get_func(&mut store, name).unwrap();
        let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
        let outcome = match f.call(&mut store, args, &mut results) {
            Ok(()) => format!("{results:?}"),
            Err(e) => {
                // The innermost frames, and how many (a stack overflow has thousands).
                let frames: Vec<_> = e
                    .downcast_ref::<WasmBacktrace>()
                    .map(|bt| bt.frames().iter().map(|f| (f.func_index, f.pc)).collect())
                    .unwrap_or_default();
                let top = &frames[..frames.len().min(20)];
                format!(
                    "{:?} at {top:?} ({} frames)",
                    e.downcast_ref::<Trap>(),
                    frames.len()
                )
            }
        };
        out.push(format!(
            "{name}{args:?}: {outcome}, fuel left {}, epoch stops {}",
            store.get_fuel().unwrap(),
            store.data()
        ));
    }
    out
}

/// `run_limited` lines with each backtrace frame's pc left out: `(func, pc)` -> `(func)`.
fn without_pcs(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let mut out = String::new();
            let mut skipping = false;
            for c in l.chars() {
                match c {
                    ',' if out.ends_with(|d: char| d.is_ascii_digit())
                        && out.rfind('(') > out.rfind(')') =>
                    {
                        skipping = true
                    }
                    ')' => {
                        skipping = false;
                        out.push(c);
                    }
                    _ if !skipping => out.push(c),
                    _ => {}
                }
            }
            out
        })
        .collect()
}

/// Fuel and epoch checks in native code against the interpreter: the same results, traps
/// (out of fuel at the same instruction, with the same backtrace), fuel left after every
/// call, and epoch stops, in every mode; with the deadline far away, and with a deadline
/// callback at every check (each one a step exit of native code).
#[test]
fn fuel_and_epochs_agree_across_tiers() {
    let int_calls = int_calls();
    let limits_calls: Vec<(&str, Vec<Val>)> = vec![
        ("refuel_mid", vec![Val::I32(20), Val::I64(1000)]),
        ("refuel_mid", vec![Val::I32(20), Val::I64(30)]),
        ("refuel_mid", vec![Val::I32(4), Val::I64(0)]),
        ("deadline_mid", vec![Val::I32(10), Val::I64(0)]),
        ("deadline_mid", vec![Val::I32(10), Val::I64(5)]),
        ("nested", vec![Val::I32(5)]),
        ("nested", vec![Val::I32(1)]),
        ("nested", vec![Val::I32(40)]),
    ];
    // (A native check that resumed at the wrong place after a callback could loop
    // forever with `CountEveryCheck`; `Extend` comes first to catch it as a failure.)
    let cases = [
        (LIMITS_MODULE, &limits_calls, AtDeadline::Trap),
        (LIMITS_MODULE, &limits_calls, AtDeadline::Extend),
        (INT_MODULE, &int_calls, AtDeadline::Trap),
        (LIMITS_MODULE, &limits_calls, AtDeadline::CountEveryCheck),
        (INT_MODULE, &int_calls, AtDeadline::CountEveryCheck),
    ];
    for (wat, calls, at_deadline) in cases {
        // Plenty of fuel, and budgets that run out in the middle of calls.
        for fuel in [1_000_000, 700, 60, 9] {
            let reference = run_limited(None, wat, calls, fuel, at_deadline);
            // Tiering adds `loop_header` rows (loop on-stack replacement), which shift
            // bytecode pcs: tiered mode is compared with an interpreter that has them
            // (a threshold never reached), and that one with the plain interpreter up to
            // pcs.
            let with_headers = run_limited(Some(u32::MAX), wat, calls, fuel, at_deadline);
            assert_eq!(without_pcs(&with_headers), without_pcs(&reference));
            for mode in &MODES[1..] {
                let expected = if matches!(mode, Some(t) if *t > 0) {
                    &with_headers
                } else {
                    &reference
                };
                assert_eq!(
                    &run_limited(*mode, wat, calls, fuel, at_deadline),
                    expected,
                    "mode {mode:?}, fuel {fuel}, {at_deadline:?}"
                );
            }
        }
    }
    // The comparisons cover what they claim: fuel running out, the deadline trap, and
    // callbacks.
    let r = run_limited(None, INT_MODULE, &int_calls, 700, AtDeadline::Trap);
    assert!(r.iter().any(|l| l.contains("OutOfFuel")), "{r:?}");
    let r = run_limited(
        None,
        LIMITS_MODULE,
        &limits_calls,
        1_000_000,
        AtDeadline::Trap,
    );
    assert!(r.iter().any(|l| l.contains("Interrupt")), "{r:?}");
    let r = run_limited(
        None,
        LIMITS_MODULE,
        &limits_calls,
        1_000_000,
        AtDeadline::Extend,
    );
    assert!(r.last().unwrap().ends_with("epoch stops 1"), "{r:?}");
    let r = run_limited(
        None,
        LIMITS_MODULE,
        &limits_calls,
        60,
        AtDeadline::CountEveryCheck,
    );
    assert!(r.iter().any(|l| l.contains("OutOfFuel")), "{r:?}");
    assert!(!r.last().unwrap().ends_with("epoch stops 0"), "{r:?}");
}

/// `Module::jit_listing` (what `gloam disas --jit --func` prints): the machine code with
/// the start of every instruction's code, in order, then the out-of-line paths.
#[test]
fn listing_maps_each_instruction_to_its_machine_code() {
    if !Config::jit_available() {
        return;
    }
    let engine = engine(Some(0));
    let module = Module::new(&engine, INT_MODULE).unwrap();
    // `fill`: a loop with loads and stores (function 4; the module imports nothing).
    let listing = module.jit_listing(4).unwrap();
    let core = module.core();
    let code = &core.code(4).unwrap().code;
    let pcs: Vec<u32> = listing.marks.iter().map(|m| m.0).collect();
    let want: Vec<u32> = (0..code.len() as u32).chain([u32::MAX]).collect();
    assert_eq!(pcs, want);
    let offsets: Vec<usize> = listing.marks.iter().map(|m| m.1).collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
    assert!(*offsets.last().unwrap() < listing.code.len());
    // The entry stub comes first, then the direct entry, then the body.
    let direct = listing.direct.expect("a direct entry");
    assert!(0 < direct && direct <= offsets[0]);
    // An imported function or one out of range has no listing.
    assert!(module.jit_listing(99).is_err());
}
