//! Tail calls (`return_call`, `return_call_indirect`): the callee replaces the caller's
//! frame, so tail recursion runs in constant call depth and stack space, across host
//! functions and instances too.

use anyhow::Result;
use gloam::*;

const EVEN_ODD: &str = r#"(module
  (type $t (func (param i64) (result i32)))
  (table funcref (elem $even_i $odd_i))
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))
  ;; The same through the table: element 0 is even, 1 is odd.
  (func $even_i (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_indirect (type $t)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 1)))))
  (func $odd_i (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_indirect (type $t)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  (func (export "even_indirect") (param i64) (result i32)
    (return_call_indirect (type $t) (local.get 0) (i32.const 0)))
  ;; A frame with more locals than its caller: the frame grows in place.
  (func $sum (export "sum") (param i64 i64) (result i64) (local i64 i64 i64 i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call $sum (i64.sub (local.get 0) (i64.const 1))
                              (i64.add (local.get 1) (local.get 0)))))))"#;

fn engines() -> Vec<Engine> {
    let mut out = Vec::new();
    for jit in [None, Some(0)] {
        let mut config = Config::new();
        // A small depth limit: tail calls must not count against it.
        config.max_call_depth(50).jit_threshold(jit);
        out.push(Engine::new(&config).unwrap());
    }
    out
}

#[test]
fn a_million_deep_mutual_tail_recursion_runs_in_constant_depth() -> Result<()> {
    for engine in engines() {
        let module = Module::new(&engine, EVEN_ODD)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let even = instance.get_typed_func::<i64, i32>(&mut store, "even")?;
        assert_eq!(even.call(&mut store, 1_000_000)?, 1);
        assert_eq!(even.call(&mut store, 1_000_001)?, 0);
        let indirect = instance.get_typed_func::<i64, i32>(&mut store, "even_indirect")?;
        assert_eq!(indirect.call(&mut store, 1_000_000)?, 1);
        assert_eq!(indirect.call(&mut store, 999_999)?, 0);
        let sum = instance.get_typed_func::<(i64, i64), i64>(&mut store, "sum")?;
        assert_eq!(sum.call(&mut store, (1_000_000, 0))?, 500_000_500_000);
    }
    Ok(())
}

#[test]
fn tail_calls_reach_host_functions_and_other_instances() -> Result<()> {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        // Instance `lib`: reads its own memory.
        let lib = Module::new(
            &engine,
            r#"(module
                 (memory (export "mem") 1)
                 (data (i32.const 8) "\2a")
                 (func (export "peek") (param i32) (result i32)
                   (i32.load8_u (local.get 0))))"#,
        )?;
        let lib = Instance::new(&mut store, &lib, &[])?;
        let peek = lib.get_func(&mut store, "peek").unwrap();
        let double = Func::wrap(&mut store, |x: i32| x * 2);
        let app = Module::new(
            &engine,
            r#"(module
                 (import "lib" "peek" (func $peek (param i32) (result i32)))
                 (import "host" "double" (func $double (param i32) (result i32)))
                 (memory 1)
                 (data (i32.const 8) "\07")
                 (func (export "peek_lib") (param i32) (result i32)
                   (return_call $peek (local.get 0)))
                 (func (export "peek_own") (param i32) (result i32)
                   (i32.load8_u (local.get 0)))
                 (func (export "double") (param i32) (result i32)
                   (return_call $double (i32.add (local.get 0) (i32.const 1))))
                 (func (export "nested") (param i32) (result i32)
                   ;; A tail call in a callee: the result comes back to this frame.
                   (i32.add (call $tail_peek (local.get 0)) (i32.load8_u (local.get 0))))
                 (func $tail_peek (param i32) (result i32)
                   (return_call $peek (local.get 0))))"#,
        )?;
        let app = Instance::new(&mut store, &app, &[peek.into(), double.into()])?;
        let peek_lib = app.get_typed_func::<i32, i32>(&mut store, "peek_lib")?;
        assert_eq!(peek_lib.call(&mut store, 8)?, 42);
        let peek_own = app.get_typed_func::<i32, i32>(&mut store, "peek_own")?;
        assert_eq!(peek_own.call(&mut store, 8)?, 7);
        let double = app.get_typed_func::<i32, i32>(&mut store, "double")?;
        assert_eq!(double.call(&mut store, 20)?, 42);
        // The other instance's memory, then this one's again after the return.
        let nested = app.get_typed_func::<i32, i32>(&mut store, "nested")?;
        assert_eq!(nested.call(&mut store, 8)?, 42 + 7);
    }
    Ok(())
}

#[test]
fn a_trap_after_tail_calls_shows_the_callee_in_place_of_the_caller() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (func $outer (export "outer") (result i32) (i32.add (call $middle) (i32.const 1)))
             (func $middle (result i32) (return_call $inner))
             (func $inner (result i32) unreachable))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let outer = instance.get_typed_func::<(), i32>(&mut store, "outer")?;
    let err = outer.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    let frames: Vec<u32> = err
        .downcast_ref::<WasmBacktrace>()
        .unwrap()
        .frames()
        .iter()
        .map(|f| f.func_index)
        .collect();
    assert_eq!(frames, [2, 0]);
    Ok(())
}

#[test]
fn tail_calls_can_be_turned_off() {
    let mut config = Config::new();
    config.wasm_tail_call(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, EVEN_ODD).unwrap_err();
    assert!(format!("{err:#}").contains("tail"), "{err:#}");
}

#[test]
fn extended_constant_expressions() -> Result<()> {
    let wat = r#"(module
      (global $base (import "env" "base") i32)
      (global (export "g") i32 (i32.add (global.get $base) (i32.mul (i32.const 3) (i32.const 4))))
      (memory 1)
      (data (i32.add (global.get $base) (i32.const 2)) "\05")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let base = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(100),
    )?;
    let instance = Instance::new(&mut store, &module, &[base.into()])?;
    let g = instance.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store).unwrap_i32(), 112);
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
    assert_eq!(load.call(&mut store, 102)?, 5);
    let mut config = Config::new();
    config.wasm_extended_const(false);
    assert!(Module::new(&Engine::new(&config)?, wat).is_err());
    Ok(())
}

/// After a tail call, the cells a caller's stack map named as call arguments belong to
/// another function and may hold anything: the collector must take them from the
/// callee's map only. Here an `i64` equal to the raw index of an unreachable object
/// lands where the caller's map had an `externref` argument; the object must be freed.
#[test]
fn a_tail_call_does_not_leave_stale_roots_in_the_callers_map() -> Result<()> {
    use std::sync::{Arc, Mutex};
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    store.set_gc_observer(move |e| seen.lock().unwrap().push(e.clone()));
    let gc = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| caller.gc());
    let module = Module::new(
        &engine,
        r#"(module
             (import "" "gc" (func $gc))
             (func (export "a") (param $r externref) (param $k i64)
               (call $b (local.get $r) (local.get $k)))
             (func $b (param externref i64)
               (return_call $c (local.get 1)))
             (func $c (param i64)
               (call $gc)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[gc.into()])?;
    let a = instance.get_func(&mut store, "a").unwrap();
    // An object nothing refers to once its scope ends.
    {
        let mut scope = RootScope::new(&mut store);
        ExternRef::new(&mut scope, 1u32)?;
    }
    let doomed = events
        .lock()
        .unwrap()
        .iter()
        .find_map(|e| match e {
            GcEvent::Alloc { object, .. } => Some(object.as_raw()),
            _ => None,
        })
        .unwrap();
    let mut scope = RootScope::new(&mut store);
    let kept = ExternRef::new(&mut scope, 2u32)?;
    a.call(
        &mut scope,
        &[Val::ExternRef(Some(kept)), Val::I64(doomed as i64)],
        &mut [],
    )?;
    let freed = events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, GcEvent::Free { object } if object.as_raw() == doomed));
    assert!(
        freed,
        "the unreachable object was kept alive by a stale frame root"
    );
    Ok(())
}
