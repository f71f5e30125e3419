//! Direct calls between native functions (`gloam_interp::native`): a call from native code
//! to a native function of the same instance pushes the frame record itself and stays on
//! the host stack. These tests run in every mode and compare with the interpreter where
//! the frames those calls push matter: deep recursion past the host stack budget, garbage
//! collection with references held only by natively entered frames, memory growth in a
//! callee, and traps below several direct calls.

use anyhow::Result;
use gloam::{
    Caller, Config, Engine, ExternRef, Linker, Module, Rooted, Store, Trap, WasmBacktrace,
};

/// Interpreter, JIT before the first call, tiered.
const MODES: [Option<u32>; 3] = [None, Some(0), Some(2)];

fn engine(threshold: Option<u32>, max_depth: usize) -> Engine {
    let mut config = Config::new();
    config.jit_threshold(threshold).max_call_depth(max_depth);
    Engine::new(&config).unwrap()
}

/// Recursion of 50,000 frames: far past the host stack budget of nested native calls, so
/// calls fall back to the executor now and then and native code restarts on a fresh host
/// stack; results and the depth limit are the interpreter's.
#[test]
fn deep_recursion_and_the_depth_limit() -> Result<()> {
    let wat = r#"(module
      (func $sum (export "sum") (param i32) (result i64)
        (if (result i64) (i32.eqz (local.get 0))
          (then (i64.const 0))
          (else (i64.add (i64.extend_i32_u (local.get 0))
                         (call $sum (i32.sub (local.get 0) (i32.const 1))))))))"#;
    for mode in MODES {
        let engine = engine(mode, 60_000);
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
        let sum = instance.get_typed_func::<i32, i64>(&mut store, "sum")?;
        for _ in 0..3 {
            assert_eq!(sum.call(&mut store, 50_000)?, 1_250_025_000, "{mode:?}");
        }
        let err = sum.call(&mut store, 70_000).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::StackOverflow),
            "{mode:?}"
        );
        // The store is usable after the overflow, at full depth again.
        assert_eq!(sum.call(&mut store, 50_000)?, 1_250_025_000, "{mode:?}");
    }
    Ok(())
}

/// A collection during a host call three direct calls deep: the references that only
/// the callers' frames hold (their records were pushed by native code) survive it.
#[test]
fn collection_below_direct_calls_keeps_callers_references() -> Result<()> {
    let wat = r#"(module
      (import "env" "make" (func $make (param i32) (result externref)))
      (import "env" "read" (func $read (param externref) (result i32)))
      (import "env" "gc" (func $gc))
      (func $leaf (param i32) (result i32)
        (call $gc)
        (i32.add (local.get 0) (i32.const 1)))
      (func $mid (param externref i32) (result externref)
        (local externref)
        (local.set 2 (call $make (i32.mul (local.get 1) (i32.const 100))))
        ;; Three direct call sites: the JIT shares one frame-push routine between them.
        (drop (call $leaf (local.get 1)))
        (drop (call $leaf (local.get 1)))
        (drop (call $leaf (local.get 1)))
        ;; Both references (the parameter, the local) must have survived.
        (if (i32.ne (call $read (local.get 2)) (i32.mul (local.get 1) (i32.const 100)))
          (then (unreachable)))
        (local.get 0))
      (func (export "top") (param i32) (result i32)
        (local externref i32)
        (local.set 1 (call $make (local.get 0)))
        (loop $l
          (local.set 1 (call $mid (local.get 1) (local.get 2)))
          (br_if $l (i32.lt_u (local.tee 2 (i32.add (local.get 2) (i32.const 1)))
                              (i32.const 5))))
        (call $read (local.get 1))))"#;
    for mode in MODES {
        let engine = engine(mode, 1000);
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker.func_wrap(
            "env",
            "make",
            |mut caller: Caller<'_, ()>, v: i32| -> Result<Option<Rooted<ExternRef>>> {
                Ok(Some(ExternRef::new(&mut caller, v)?))
            },
        )?;
        linker.func_wrap(
            "env",
            "read",
            |caller: Caller<'_, ()>, r: Option<Rooted<ExternRef>>| -> i32 {
                // -1: the reference was collected (or is null).
                r.and_then(|r| r.data(&caller).ok()?.downcast_ref::<i32>().copied())
                    .unwrap_or(-1)
            },
        )?;
        linker.func_wrap("env", "gc", |mut caller: Caller<'_, ()>| caller.gc())?;
        let instance = linker.instantiate(&mut store, &module)?;
        let top = instance.get_typed_func::<i32, i32>(&mut store, "top")?;
        for v in [7, 8] {
            assert_eq!(top.call(&mut store, v)?, v, "{mode:?}");
        }
    }
    Ok(())
}

/// A callee grows memory (a step exit in the middle of direct calls); its callers then
/// access the new pages with the new bounds.
#[test]
fn memory_growth_in_a_callee_is_seen_by_native_callers() -> Result<()> {
    let wat = r#"(module
      (memory 1)
      (func $grow (param i32) (result i32)
        (drop (memory.grow (i32.const 1)))
        (i32.store (local.get 0) (i32.const 77))
        (memory.size))
      (func $mid (param i32) (result i32)
        (i32.add (call $grow (local.get 0)) (i32.load (local.get 0))))
      (func (export "top") (result i32)
        (local i32 i32)
        (loop $l
          ;; The last word of the page grown just now.
          (local.set 1 (i32.add (local.get 1)
            (call $mid (i32.sub (i32.mul (i32.add (local.get 0) (i32.const 2))
                                         (i32.const 65536))
                                (i32.const 4)))))
          (br_if $l (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1)))
                              (i32.const 4))))
        (i32.add (local.get 1)
          (i32.load (i32.const 327676)))))"#;
    let mut results = Vec::new();
    for mode in MODES {
        let engine = engine(mode, 1000);
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
        let top = instance.get_typed_func::<(), i32>(&mut store, "top")?;
        results.push(top.call(&mut store, ())?);
    }
    // Sizes 2..=5 plus 4 × 77, then the word written in page 5.
    assert_eq!(results, [2 + 3 + 4 + 5 + 4 * 77 + 77; 3]);
    Ok(())
}

/// A trap three direct calls deep, after the same callers have run other calls to the
/// end: the same trap and backtrace in every mode (pcs too, except in tiered mode, whose
/// bytecode has extra loop-header rows). The caller's pc says which of its call sites
/// trapped.
#[test]
fn traps_below_direct_calls_have_the_interpreters_backtrace() -> Result<()> {
    let wat = r#"(module
      (memory 1)
      (func $load (param i32) (result i32) (i32.load (local.get 0)))
      ;; Three direct call sites (one shared frame-push routine in the JIT); the third traps.
      (func $thrice (param i32) (result i32)
        (i32.add
          (i32.add (call $load (local.get 0)) (call $load (i32.add (local.get 0) (i32.const 4))))
          (call $load (i32.add (local.get 0) (i32.const 8)))))
      (func (export "run") (param i32) (result i32)
        (local i32)
        (loop $l
          (local.set 1 (i32.add (local.get 1) (call $thrice (local.get 0))))
          (local.set 0 (i32.add (local.get 0) (i32.const 16380)))
          (br $l))
        (unreachable)))"#;
    let mut outcomes = Vec::new();
    for mode in MODES {
        let engine = engine(mode, 1000);
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        let err = run.call(&mut store, 8).unwrap_err();
        let frames: Vec<(u32, u32)> = err
            .downcast_ref::<WasmBacktrace>()
            .expect("a backtrace")
            .frames()
            .iter()
            .map(|f| (f.func_index, f.pc))
            .collect();
        outcomes.push((mode, err.downcast_ref::<Trap>().copied(), frames));
    }
    let (_, trap, frames) = &outcomes[0];
    assert_eq!(*trap, Some(Trap::MemoryOutOfBounds));
    // `load` (the third one, at 65528 + 8), `thrice`, `run`.
    let funcs: Vec<u32> = frames.iter().map(|f| f.0).collect();
    assert_eq!(funcs, [0, 1, 2]);
    for (mode, t, f) in &outcomes[1..] {
        assert_eq!(t, trap, "{mode:?}");
        if *mode == Some(0) {
            assert_eq!(f, frames, "{mode:?}");
        } else {
            let fs: Vec<u32> = f.iter().map(|f| f.0).collect();
            assert_eq!(fs, funcs, "{mode:?}");
        }
    }
    Ok(())
}

/// The outermost function (entered from the host: no frame record below its own calls)
/// with more than two direct call sites, which share one call routine in the JIT: calls
/// to native callees (one that calls a float helper), to a callee that stays interpreted
/// (SIMD) and to one that traps, with values live in the caller across every call.
#[test]
fn shared_call_routine_in_the_outermost_frame() -> Result<()> {
    let wat = r#"(module
      (func $sq (param i64) (result i64) (i64.mul (local.get 0) (local.get 0)))
      (func $near (param f64) (result f64) (f64.nearest (local.get 0)))
      (func $simd (param i32) (result i32) (i32x4.extract_lane 1 (i32x4.splat (local.get 0))))
      (func $div (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "run") (param $n i32) (param $d i32) (result i64)
        (local $acc i64) (local $i i32) (local $f f64)
        (loop $l
          (local.set $acc (i64.add (local.get $acc)
            (call $sq (i64.extend_i32_u (local.get $i)))))
          (local.set $f (f64.add (local.get $f)
            (call $near (f64.div (f64.convert_i32_u (local.get $i)) (f64.const 3)))))
          (local.set $acc (i64.add (local.get $acc)
            (i64.extend_i32_s (call $simd (local.get $i)))))
          (local.set $acc (i64.add (local.get $acc)
            (i64.extend_i32_s (call $div (local.get $i) (local.get $d)))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                              (local.get $n))))
        (i64.add (local.get $acc) (i64.trunc_f64_s (local.get $f)))))"#;
    let expected = |n: i64, d: i64| {
        let (mut acc, mut f) = (0i64, 0f64);
        for i in 0..n {
            acc += i * i + i + i / d;
            f += (i as f64 / 3.0).round_ties_even();
        }
        acc + f as i64
    };
    for mode in MODES {
        let engine = engine(mode, 1000);
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
        let run = instance.get_typed_func::<(i32, i32), i64>(&mut store, "run")?;
        for _ in 0..3 {
            assert_eq!(
                run.call(&mut store, (100, 3))?,
                expected(100, 3),
                "{mode:?}"
            );
            assert_eq!(run.call(&mut store, (7, -2))?, expected(7, -2), "{mode:?}");
        }
        let err = run.call(&mut store, (5, 0)).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::IntegerDivisionByZero),
            "{mode:?}"
        );
        let funcs: Vec<u32> = err
            .downcast_ref::<WasmBacktrace>()
            .expect("a backtrace")
            .frames()
            .iter()
            .map(|f| f.func_index)
            .collect();
        assert_eq!(funcs, [3, 4], "{mode:?}");
    }
    Ok(())
}
