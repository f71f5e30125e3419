//! Loop on-stack replacement: with tiering on, a hot loop in a function called once
//! continues in native code from its header, in the same frame, and computes what the
//! interpreter computes (results, traps and their backtraces, fuel).

use anyhow::Result;
use gloam::*;

const LOOPS: &str = r#"(module
  (memory 1)
  (func $count (export "count") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 3)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 1))
  ;; Nested loops, a loop with a parameter and a result, a call and memory in the body.
  (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func (export "nested") (param i32) (result i64) (local i32 i32 i64)
    (loop $outer
      (local.set 2 (i32.const 0))
      (loop $inner
        (i32.store (i32.and (i32.mul (local.get 2) (i32.const 4)) (i32.const 0xfff))
                   (call $sq (i32.add (local.get 1) (local.get 2))))
        (local.set 3 (i64.add (local.get 3)
          (i64.extend_i32_u (i32.load (i32.and (i32.mul (local.get 2) (i32.const 4)) (i32.const 0xfff))))))
        (br_if $inner (i32.lt_u (local.tee 2 (i32.add (local.get 2) (i32.const 1))) (i32.const 50))))
      (br_if $outer (i32.lt_u (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (local.get 0))))
    (local.get 3))
  (func (export "with_param") (param i32) (result i32)
    (i32.const 0)
    (loop $l (param i32) (result i32)
      (i32.add (local.get 0))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
  ;; Traps after `n` iterations (division by zero), two frames deep.
  (func $inner_trap (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.div_u (i32.const 100) (i32.sub (local.get 0) (i32.const 1))))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 1))
  (func (export "trap") (param i32) (result i32) (call $inner_trap (local.get 0))))"#;

fn engine(threshold: Option<u32>, fuel: bool) -> Engine {
    let mut config = Config::new();
    config.jit_threshold(threshold).consume_fuel(fuel);
    Engine::new(&config).unwrap()
}

fn status(module: &Module, func: u32) -> std::result::Result<usize, String> {
    module
        .jit_status()
        .into_iter()
        .find(|o| o.func_index == func)
        .unwrap()
        .result
}

#[test]
fn a_hot_loop_in_a_function_called_once_moves_to_native_code() -> Result<()> {
    if !Config::jit_available() {
        return Ok(());
    }
    let engine = engine(Some(100), false);
    let module = Module::new(&engine, LOOPS)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    // Fewer iterations than the threshold: stays interpreted.
    assert_eq!(count.call(&mut store, 50)?, 150);
    assert_eq!(status(&module, 0), Err("not compiled".to_string()));
    // One call, many iterations: compiled during the call, which finishes natively.
    assert_eq!(count.call(&mut store, 1_000_000)?, 3_000_000);
    assert!(status(&module, 0).is_ok(), "{:?}", status(&module, 0));
    Ok(())
}

#[test]
fn osr_computes_what_the_interpreter_computes() -> Result<()> {
    let mut results = Vec::new();
    for threshold in [None, Some(3), Some(0)] {
        let engine = engine(threshold, true);
        let module = Module::new(&engine, LOOPS)?;
        let mut store = Store::new(&engine, ());
        store.set_fuel(u64::MAX / 2)?;
        let instance = Instance::new(&mut store, &module, &[])?;
        let nested = instance.get_typed_func::<i32, i64>(&mut store, "nested")?;
        let with_param = instance.get_typed_func::<i32, i32>(&mut store, "with_param")?;
        let trap = instance.get_typed_func::<i32, i32>(&mut store, "trap")?;
        let n = nested.call(&mut store, 40)?;
        let p = with_param.call(&mut store, 1000)?;
        let err = trap.call(&mut store, 10).unwrap_err();
        let frames: Vec<u32> = err
            .downcast_ref::<WasmBacktrace>()
            .unwrap()
            .frames()
            .iter()
            .map(|f| f.func_index)
            .collect();
        let fuel_left = store.get_fuel()?;
        if threshold == Some(3) && Config::jit_available() {
            // Each export ran once: only on-stack replacement compiled them.
            for f in [2, 3, 4] {
                assert!(
                    status(&module, f).is_ok(),
                    "function {f}: {:?}",
                    status(&module, f)
                );
            }
        }
        results.push((n, p, err.downcast_ref::<Trap>().copied(), frames, fuel_left));
    }
    assert_eq!(results[0].2, Some(Trap::IntegerDivisionByZero));
    assert_eq!(results[0].3, vec![4, 5]);
    assert_eq!(results[0].1, 500_500);
    assert_eq!(results[1], results[0]);
    assert_eq!(results[2], results[0]);
    Ok(())
}
