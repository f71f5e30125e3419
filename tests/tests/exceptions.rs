//! Exception handling (Wasm 3.0): tags, `throw`, `throw_ref`, `try_table` and `exnref`,
//! in every tier, through host frames in both directions, with GC stress, and at the API
//! (uncaught exceptions, throwing from the host).

use anyhow::Result;
use gloam::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Interpreter, JIT for every function (where available), and GC stress.
fn engines() -> Vec<(&'static str, Engine)> {
    let mut out = vec![("interp", Engine::default())];
    if Config::jit_available() {
        let mut c = Config::new();
        c.jit_threshold(Some(0));
        out.push(("jit", Engine::new(&c).unwrap()));
    }
    let mut c = Config::new();
    c.gc_stress(true);
    out.push(("gc-stress", Engine::new(&c).unwrap()));
    out
}

const CATCHES: &str = r#"(module
  (tag $e (export "e") (param i32))
  (tag $other (param i32))
  (func $throw (param i32) (throw $e (local.get 0)))
  (func $throw_other (param i32) (throw $other (local.get 0)))
  (tag $e2 (param i32 i32))
  (func $throw2 (param i32 i32)
    (throw $e2 (local.get 0) (i32.add (local.get 1) (i32.const 0))))
  ;; catch: the payload is the label's value
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $throw (local.get 0)))
      (i32.const -1)))
  ;; catch_ref: payload and exnref
  (func (export "catch_ref") (param i32) (result i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h) (call $throw (local.get 0)))
      (return (i32.const -1)))
    (drop))
  ;; catch_all: no values
  (func (export "catch_all") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h) (call $throw (local.get 0)))
      (return (i32.const -1)))
    (i32.const 100))
  ;; catch_all_ref: the exnref alone
  (func (export "catch_all_ref") (param i32) (result i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $throw (local.get 0)))
      (return (i32.const -1)))
    (ref.is_null) (i32.add (i32.const 200)))
  ;; clauses are tried in order, and a clause for another tag does not match
  (func (export "ordered") (param i32) (result i32)
    (block $all
      (block $e (result i32)
        (block $o (result i32)
          (try_table (catch $other $o) (catch $e $e) (catch_all $all)
            (if (i32.eqz (local.get 0))
              (then (call $throw_other (i32.const 7)))
              (else (call $throw (i32.const 8)))))
          (return (i32.const -1)))
        (return (i32.add (i32.const 1000))))
      (return (i32.add (i32.const 2000))))
    (i32.const -2))
  ;; a catch of the function's own label returns
  (func (export "to_return") (param i32) (result i32)
    (try_table (catch $e 0) (call $throw (local.get 0)))
    (i32.const -1))
  ;; a catch into a loop label runs the loop again with the payload as its parameter
  (func (export "loop") (result i32) (local $n i32)
    (i32.const 0)
    (loop $l (param i32) (result i32)
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (param i32) (result i32) (i32.lt_u (local.get $n) (i32.const 5))
        (then (try_table (param i32) (result i32) (catch $e $l)
                (call $throw (i32.add (i32.const 10)))
                (unreachable))))
    ))
  ;; the instruction at a catch's landing reads the label's value from its cell, not from
  ;; a register the fall-through path left it in (the threaded dispatcher's accumulator)
  ;; (The thrower leaves the first payload value in that register, the label reads the
  ;; second.)
  (func (export "landing") (param i32) (result i32)
    (block $h (result i32 i32)
      (try_table (catch $e2 $h)
        (if (local.get 0) (then (call $throw2 (i32.const 5) (i32.const 99)))))
      (i32.add (local.get 0) (i32.const 1))
      (i32.add (local.get 0) (i32.const 1000)))
    (i32.mul (i32.const 3))
    (i32.add))
  ;; an uncaught tag goes through try_tables that do not match it
  (func (export "unmatched") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $other $h) (call $throw (local.get 0)))
      (i32.const -1)))
)"#;

#[test]
fn each_catch_kind_delivers_its_values() -> Result<()> {
    for (mode, engine) in engines() {
        let module = Module::new(&engine, CATCHES)?;
        let mut store = Store::new(&engine, ());
        let i = Instance::new(&mut store, &module, &[])?;
        let call = |store: &mut Store<()>, name: &str, x: i32| -> Result<i32> {
            i.get_typed_func::<i32, i32>(&mut *store, name)?
                .call(store, x)
        };
        assert_eq!(call(&mut store, "catch", 42)?, 42, "{mode}");
        assert_eq!(call(&mut store, "catch_ref", 43)?, 43, "{mode}");
        assert_eq!(call(&mut store, "catch_all", 44)?, 100, "{mode}");
        assert_eq!(call(&mut store, "catch_all_ref", 45)?, 200, "{mode}");
        assert_eq!(
            call(&mut store, "ordered", 0)?,
            1007,
            "{mode}: $other goes to $o"
        );
        assert_eq!(
            call(&mut store, "ordered", 1)?,
            2008,
            "{mode}: $e goes to $e"
        );
        assert_eq!(call(&mut store, "to_return", 46)?, 46, "{mode}");
        assert_eq!(call(&mut store, "landing", 0)?, 3001, "{mode}");
        assert_eq!(call(&mut store, "landing", 1)?, 5 + 3 * 99, "{mode}");
        let lp = i.get_typed_func::<(), i32>(&mut store, "loop")?;
        assert_eq!(lp.call(&mut store, ())?, 40, "{mode}");
        let err = call(&mut store, "unmatched", 5).unwrap_err();
        assert!(err.is::<ThrownException>(), "{mode}: {err:?}");
        assert!(store.take_pending_exception().is_some(), "{mode}");
    }
    Ok(())
}

const PAYLOADS: &str = r#"(module
  (tag $t (export "t") (param i32 i64 f32 f64 v128 externref))
  (func $throw (param i32 i64 f32 f64 v128 externref)
    (throw $t (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
              (local.get 5)))
  (func (export "roundtrip") (param i32 i64 f32 f64 v128 externref)
                             (result i32 i64 f32 f64 v128 externref)
    (block $h (result i32 i64 f32 f64 v128 externref)
      (try_table (catch $t $h)
        (call $throw (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                     (local.get 4) (local.get 5)))
      (unreachable)))
  ;; rethrow: catch_ref, then throw_ref to an outer handler, which sees the same payload
  (func (export "rethrow") (param i32 i64 f32 f64 v128 externref)
                           (result i32 i64 f32 f64 v128 externref)
    (block $outer (result i32 i64 f32 f64 v128 externref)
      (try_table (catch $t $outer)
        (block $inner (result exnref)
          (try_table (catch_all_ref $inner)
            (call $throw (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                         (local.get 4) (local.get 5)))
          (unreachable))
        (throw_ref))
      (unreachable)))
  (func (export "throw_null") (throw_ref (ref.null exn)))
)"#;

#[test]
fn payloads_of_every_type_and_rethrow() -> Result<()> {
    for (mode, engine) in engines() {
        let module = Module::new(&engine, PAYLOADS)?;
        let mut store = Store::new(&engine, ());
        let i = Instance::new(&mut store, &module, &[])?;
        let r = ExternRef::new(&mut store, 1234u32)?;
        let args = [
            Val::I32(-7),
            Val::I64(1 << 40),
            Val::F32(1.5f32.to_bits()),
            Val::F64((-2.25f64).to_bits()),
            Val::V128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128.into()),
            Val::ExternRef(Some(r)),
        ];
        for name in ["roundtrip", "rethrow"] {
            let f = i.get_func(&mut store, name).unwrap();
            let mut out = vec![Val::I32(0); 6];
            out[1] = Val::I64(0);
            f.call(&mut store, &args, &mut out)?;
            assert_eq!(out[0].unwrap_i32(), -7, "{mode} {name}");
            assert_eq!(out[1].unwrap_i64(), 1 << 40, "{mode} {name}");
            assert_eq!(out[2].unwrap_f32(), 1.5, "{mode} {name}");
            assert_eq!(out[3].unwrap_f64(), -2.25, "{mode} {name}");
            assert_eq!(
                out[4].unwrap_v128().as_u128(),
                0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10,
                "{mode} {name}"
            );
            let back = out[5].externref().flatten().expect("non-null externref");
            assert_eq!(back.data(&store)?.downcast_ref::<u32>(), Some(&1234));
        }
        let err = i
            .get_typed_func::<(), ()>(&mut store, "throw_null")?
            .call(&mut store, ())
            .unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::NullReference),
            "{mode}"
        );
    }
    Ok(())
}

const UNWIND: &str = r#"(module
  (tag $e (param i32))
  (global $calls (mut i32) (i32.const 0))
  ;; recurses n deep, then throws n's original value
  (func $deep (param i32 i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eqz (local.get 0)) (then (throw $e (local.get 1))))
    (call $deep (i32.sub (local.get 0) (i32.const 1)) (local.get 1)))
  ;; locals set before the call must be intact in the handler; the frame continues
  (func (export "run") (param $n i32) (result i32)
    (local $a i32) (local $b i64) (local $c f64)
    (local.set $a (i32.const 11))
    (local.set $b (i64.const 22))
    (local.set $c (f64.const 33))
    (block $h (result i32)
      (try_table (catch $e $h) (call $deep (local.get $n) (local.get $n)))
      (i32.const -1))
    ;; payload + locals, and one more call after the unwind
    (i32.add (local.get $a))
    (i32.add (i32.wrap_i64 (local.get $b)))
    (i32.add (i32.trunc_f64_s (local.get $c)))
    (call $deep (i32.const 0) (i32.const 0))
    (unreachable))
  (func (export "run2") (param $n i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (drop (call 1 (local.get $n))))
      (i32.const -1)))
  (func (export "calls") (result i32) (global.get $calls))
)"#;

#[test]
fn a_caller_catches_after_callee_frames_are_unwound() -> Result<()> {
    for (mode, engine) in engines() {
        let module = Module::new(&engine, UNWIND)?;
        let mut store = Store::new(&engine, ());
        let i = Instance::new(&mut store, &module, &[])?;
        let run2 = i.get_typed_func::<i32, i32>(&mut store, "run2")?;
        // `run` throws again after catching (from its own call, outside the try_table):
        // that one leaves uncaught; `run2` catches it.
        for n in [0, 1, 50, 500] {
            assert_eq!(run2.call(&mut store, n)?, 0, "{mode} {n}");
        }
        let run = i.get_typed_func::<i32, i32>(&mut store, "run")?;
        let err = run.call(&mut store, 300).unwrap_err();
        assert!(err.is::<ThrownException>(), "{mode}");
        let exn = store.take_pending_exception().expect("pending");
        assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 0, "{mode}");
        // Repeated deep throws: the frame stack and value stack come back each time (a
        // leak would hit the depth limit).
        for _ in 0..200 {
            assert_eq!(run2.call(&mut store, 900)?, 0, "{mode}");
        }
    }
    // The locals: `run`'s catch computes payload + 11 + 22 + 33 before its next call.
    let engine = Engine::default();
    let returning = UNWIND.replace(
        "(call $deep (i32.const 0) (i32.const 0))\n    (unreachable))",
        "(return))",
    );
    assert_ne!(returning, UNWIND);
    let module = Module::new(&engine, returning)?;
    let mut store = Store::new(&engine, ());
    let i = Instance::new(&mut store, &module, &[])?;
    let run = i.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 100)?, 100 + 66);
    Ok(())
}

const HOST: &str = r#"(module
  (import "host" "tag" (tag $h (param i32)))
  (import "host" "callback" (func $callback (param i32) (result i32)))
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) (result i32) (throw $e (local.get 0)))
  ;; wasm -> host -> wasm (throws) -> back through the host -> caught here
  (func (export "outer") (param i32) (result i32)
    (block $c (result i32)
      (try_table (catch $e $c) (return (call $callback (local.get 0))))
      (unreachable))
    (i32.add (i32.const 1000)))
  ;; the host throws its own tag
  (func (export "catch_host") (param i32) (result i32)
    (block $c (result i32)
      (try_table (catch $h $c) (return (call $callback (local.get 0))))
      (unreachable))
    (i32.add (i32.const 2000)))
)"#;

#[test]
fn exceptions_cross_host_frames_in_both_directions() -> Result<()> {
    for (mode, engine) in engines() {
        let module = Module::new(&engine, HOST)?;
        let mut store = Store::new(&engine, 0u32);
        let host_tag = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I32], [])))?;
        let mut linker = Linker::new(&engine);
        linker.define(&store, "host", "tag", host_tag)?;
        linker.func_wrap(
            "host",
            "callback",
            move |mut caller: Caller<'_, u32>, x: i32| -> Result<i32> {
                if x < 0 {
                    // The host throws: a new exception of the imported tag.
                    let exn = ExnRef::new(&mut caller, &host_tag, &[Val::I32(-x)])?;
                    return caller.throw(exn);
                }
                let f = caller
                    .get_export("throw")
                    .and_then(Extern::into_func)
                    .expect("export");
                let mut out = [Val::I32(0)];
                let err = f.call(&mut caller, &[Val::I32(x)], &mut out).unwrap_err();
                // The host sees the exception as an error, not a trap.
                assert!(err.is::<ThrownException>());
                assert!(err.downcast_ref::<Trap>().is_none());
                assert!(caller.has_pending_exception());
                *caller.data_mut() += 1;
                // Returning it rethrows it into the wasm that called us.
                Err(err)
            },
        )?;
        let i = linker.instantiate(&mut store, &module)?;
        let outer = i.get_typed_func::<i32, i32>(&mut store, "outer")?;
        assert_eq!(outer.call(&mut store, 5)?, 1005, "{mode}");
        assert_eq!(*store.data(), 1);
        let catch_host = i.get_typed_func::<i32, i32>(&mut store, "catch_host")?;
        assert_eq!(catch_host.call(&mut store, -9)?, 2009, "{mode}");
        // Host-thrown tag is not wasm's $e: `outer` does not catch it.
        let err = outer.call(&mut store, -3).unwrap_err();
        assert!(err.is::<ThrownException>(), "{mode}");
        let exn = store.take_pending_exception().expect("pending");
        assert_eq!(exn.tag(&store)?, host_tag);
        assert_eq!(exn.fields(&mut store)?.len(), 1);
        assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 3);
        assert!(!store.has_pending_exception());
    }
    Ok(())
}

#[test]
fn an_uncaught_exception_is_a_clear_error_not_a_trap() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, HOST)?;
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new(&engine);
    let t = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I32], [])))?;
    linker.define(&store, "host", "tag", t)?;
    linker.func_wrap("host", "callback", |x: i32| x)?;
    let i = linker.instantiate(&mut store, &module)?;
    let f = i.get_typed_func::<i32, i32>(&mut store, "throw")?;
    let err = f.call(&mut store, 77).unwrap_err();
    assert!(err.is::<ThrownException>());
    assert!(err.downcast_ref::<Trap>().is_none());
    assert!(err.to_string().contains("uncaught wasm exception"), "{err}");
    let exn = store
        .take_pending_exception()
        .expect("the exception waits in the store");
    let e = i.get_tag(&mut store, "e").expect("exported tag");
    assert_eq!(exn.tag(&store)?, e);
    assert_ne!(exn.tag(&store)?, t);
    assert_eq!(e.ty(&store).ty().params(), &[ValType::I32]);
    assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 77);
    // The store throws one into wasm from outside a host function too (the call returns
    // it as the error to hand on).
    let exn2 = ExnRef::new(&mut store, &e, &[Val::I32(1)])?;
    assert!(store.throw::<()>(exn2).unwrap_err().is::<ThrownException>());
    assert!(store.has_pending_exception());
    // Bad payloads are errors.
    assert!(ExnRef::new(&mut store, &e, &[]).is_err());
    assert!(ExnRef::new(&mut store, &e, &[Val::I64(1)]).is_err());
    Ok(())
}

#[test]
fn tags_link_across_instances_by_identity() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let a = Module::new(
        &engine,
        r#"(module (tag (export "t") (param i32))
             (func (export "throw") (param i32) (throw 0 (local.get 0))))"#,
    )?;
    let a1 = Instance::new(&mut store, &a, &[])?;
    let a2 = Instance::new(&mut store, &a, &[])?;
    let b = Module::new(
        &engine,
        r#"(module (import "a" "t" (tag $t (param i32)))
             (import "a" "throw" (func $throw (param i32)))
             (func (export "run") (param i32) (result i32)
               (block $h (result i32)
                 (try_table (catch $t $h) (call $throw (local.get 0)))
                 (i32.const -1))))"#,
    )?;
    let t1 = a1.get_tag(&mut store, "t").unwrap();
    let throw1 = a1.get_func(&mut store, "throw").unwrap();
    let throw2 = a2.get_func(&mut store, "throw").unwrap();
    // Same tag: caught.
    let b1 = Instance::new(&mut store, &b, &[t1.into(), throw1.into()])?;
    let run = b1.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 9)?, 9);
    // Another instance's tag of the same type: not caught.
    let b2 = Instance::new(&mut store, &b, &[t1.into(), throw2.into()])?;
    let run = b2.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert!(run.call(&mut store, 9).unwrap_err().is::<ThrownException>());
    // A tag of another type does not link.
    let other = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I64], [])))?;
    assert!(Instance::new(&mut store, &b, &[other.into(), throw1.into()]).is_err());
    Ok(())
}

struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

const HOLD: &str = r#"(module
  (tag $t (param externref i32))
  (global $held (mut exnref) (ref.null exn))
  (table $tab 2 exnref)
  (func $throw (param externref) (throw $t (local.get 0) (i32.const 5)))
  ;; catches an exception carrying the externref and keeps only the exnref
  (func (export "hold") (param externref)
    (global.set $held
      (block $h (result exnref)
        (try_table (catch_all_ref $h) (call $throw (local.get 0)))
        (unreachable)))
    (table.set $tab (i32.const 1) (global.get $held)))
  ;; reads the externref back out of the held exception
  (func (export "unpack") (result externref)
    (block $h (result externref i32)
      (try_table (catch $t $h) (throw_ref (global.get $held)))
      (unreachable))
    (drop))
  (func (export "drop_global") (global.set $held (ref.null exn)))
  (func (export "drop_table") (table.set $tab (i32.const 1) (ref.null exn)))
  ;; many short-lived exceptions in a loop, with collections at every call in stress mode
  (func (export "churn") (param externref i32) (result i32) (local $sum i32)
    (loop $l
      (block $h (result externref i32)
        (try_table (catch $t $h) (call $throw (local.get 0)))
        (unreachable))
      (local.set $sum (i32.add (local.get $sum)))
      (drop)
      (br_if $l (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))))
    (local.get $sum))
)"#;

#[test]
fn exnref_payloads_stay_alive_while_referenced_under_gc_stress() -> Result<()> {
    for (mode, engine) in engines() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let module = Module::new(&engine, HOLD)?;
        let mut store = Store::new(&engine, ());
        let i = Instance::new(&mut store, &module, &[])?;
        let hold = i.get_typed_func::<Option<Rooted<ExternRef>>, ()>(&mut store, "hold")?;
        let unpack = i.get_typed_func::<(), Option<Rooted<ExternRef>>>(&mut store, "unpack")?;
        {
            let mut scope = RootScope::new(&mut store);
            let r = ExternRef::new(&mut scope, Tracked(dropped.clone()))?;
            hold.call(&mut scope, Some(r))?;
        }
        // Only the exception (in a global and a table) holds the externref now.
        for _ in 0..3 {
            store.gc();
        }
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            0,
            "{mode}: freed while held"
        );
        {
            let mut scope = RootScope::new(&mut store);
            let back = unpack.call(&mut scope, ())?.expect("non-null");
            assert!(
                back.data(&scope)?.downcast_ref::<Tracked>().is_some(),
                "{mode}"
            );
        }
        i.get_typed_func::<(), ()>(&mut store, "drop_global")?
            .call(&mut store, ())?;
        store.gc();
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            0,
            "{mode}: the table still holds it"
        );
        i.get_typed_func::<(), ()>(&mut store, "drop_table")?
            .call(&mut store, ())?;
        store.gc();
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "{mode}: dropped once unreachable"
        );

        let churn =
            i.get_typed_func::<(Option<Rooted<ExternRef>>, i32), i32>(&mut store, "churn")?;
        let r = ExternRef::new(&mut store, 7u32)?;
        assert_eq!(churn.call(&mut store, (Some(r), 1000))?, 5000, "{mode}");
        store.gc();
        // Only `r` (rooted here) is left: the exceptions were garbage.
        assert_eq!(store.gc_live_objects(), 1, "{mode}");
    }
    Ok(())
}

#[test]
fn a_full_heap_collects_to_make_room_for_an_exception() -> Result<()> {
    let mut config = Config::new();
    config.gc_heap_limit(4);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, HOLD)?;
    let mut store = Store::new(&engine, ());
    let i = Instance::new(&mut store, &module, &[])?;
    let churn = i.get_typed_func::<(Option<Rooted<ExternRef>>, i32), i32>(&mut store, "churn")?;
    let r = ExternRef::new(&mut store, 7u32)?;
    assert_eq!(churn.call(&mut store, (Some(r), 100))?, 500);
    Ok(())
}

const MIXED: &str = r#"(module
  (tag $e (param i32))
  (func $thrower (param i32) (result i32)
    (if (i32.gt_s (local.get 0) (i32.const 3)) (then (throw $e (local.get 0))))
    (local.get 0))
  ;; no exception instructions: compiled natively, calls the interpreted thrower
  (func $native (param i32) (result i32) (local $x i32)
    (local.set $x (i32.mul (local.get 0) (i32.const 2)))
    (i32.add (call $thrower (local.get $x)) (i32.const 1)))
  (func (export "run") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (return (call $native (local.get 0))))
      (unreachable))
    (i32.add (i32.const 100)))
)"#;

#[test]
fn jit_frames_unwind_to_an_interpreted_handler() -> Result<()> {
    if !Config::jit_available() {
        return Ok(());
    }
    let mut config = Config::new();
    config.jit_threshold(Some(0));
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, MIXED)?;
    let outcomes = module.jit_compile_all()?;
    let why = |f: u32| {
        outcomes
            .iter()
            .find(|o| o.func_index == f)
            .unwrap()
            .result
            .clone()
    };
    assert!(why(0).unwrap_err().contains("throw"), "{:?}", why(0));
    assert!(why(1).is_ok(), "{:?}", why(1));
    assert!(why(2).unwrap_err().contains("try_table"), "{:?}", why(2));
    let mut store = Store::new(&engine, ());
    let i = Instance::new(&mut store, &module, &[])?;
    let run = i.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 1)?, 3);
    assert_eq!(run.call(&mut store, 5)?, 110);
    for n in 0..50 {
        let want = if n * 2 > 3 { n * 2 + 100 } else { n * 2 + 1 };
        assert_eq!(run.call(&mut store, n)?, want);
    }
    Ok(())
}

#[test]
fn the_feature_switch_rejects_exception_instructions() -> Result<()> {
    let mut config = Config::new();
    config.wasm_exceptions(false);
    let engine = Engine::new(&config)?;
    assert!(Module::new(&engine, CATCHES).is_err());
    assert!(Module::new(&Engine::default(), CATCHES).is_ok());
    Ok(())
}

#[test]
fn an_exnref_in_a_local_keeps_its_payload_alive_across_collections() -> Result<()> {
    const WAT: &str = r#"(module
      (import "host" "make" (func $make (result externref)))
      (tag $t (param externref))
      (func $noop)
      (func (export "run") (result externref) (local $x exnref)
        (local.set $x
          (block $h (result exnref)
            (try_table (catch_all_ref $h) (throw $t (call $make)))
            (unreachable)))
        ;; only $x holds the exception (and through it the externref) now
        (call $noop)
        (call $noop)
        (block $h2 (result externref)
          (try_table (catch $t $h2) (throw_ref (local.get $x)))
          (unreachable))))"#;
    for (mode, engine) in engines() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let module = Module::new(&engine, WAT)?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let d = dropped.clone();
        linker.func_wrap("host", "make", move |mut caller: Caller<'_, ()>| {
            Ok(Some(ExternRef::new(&mut caller, Tracked(d.clone()))?))
        })?;
        let i = linker.instantiate(&mut store, &module)?;
        let run = i.get_typed_func::<(), Option<Rooted<ExternRef>>>(&mut store, "run")?;
        let back = run.call(&mut store, ())?.expect("non-null");
        assert_eq!(dropped.load(Ordering::SeqCst), 0, "{mode}");
        assert!(
            back.data(&store)?.downcast_ref::<Tracked>().is_some(),
            "{mode}"
        );
    }
    Ok(())
}

#[test]
fn host_exceptions_unwind_native_frames_and_skip_tail_callers() -> Result<()> {
    const WAT: &str = r#"(module
      (import "host" "throw" (func $host (param i32) (result i32)))
      (import "host" "tag" (tag $h (param i32)))
      ;; no exception instructions: native in JIT mode; the host call throws
      (func $native (param i32) (result i32)
        (i32.add (call $host (i32.mul (local.get 0) (i32.const 3))) (i32.const 1)))
      ;; its try_table is gone once it tail-calls: the exception goes to its caller
      (func $tail (param i32) (result i32)
        (block $mine
          (try_table (catch_all $mine) (return_call $host (local.get 0))))
        (i32.const -1))
      (func (export "via_native") (param i32) (result i32)
        (block $c (result i32)
          (try_table (catch $h $c) (return (call $native (local.get 0))))
          (unreachable))
        (i32.add (i32.const 100)))
      (func (export "via_tail") (param i32) (result i32)
        (block $c (result i32)
          (try_table (catch $h $c) (return (call $tail (local.get 0))))
          (unreachable))
        (i32.add (i32.const 200))))"#;
    for (mode, engine) in engines() {
        let module = Module::new(&engine, WAT)?;
        let mut store = Store::new(&engine, ());
        let tag = Tag::new(&mut store, &TagType::new(FuncType::new([ValType::I32], [])))?;
        let mut linker = Linker::new(&engine);
        linker.define(&store, "host", "tag", tag)?;
        linker.func_wrap(
            "host",
            "throw",
            move |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
                if x % 2 == 0 {
                    return Ok(x);
                }
                let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(x)])?;
                caller.throw(exn)
            },
        )?;
        let i = linker.instantiate(&mut store, &module)?;
        let via_native = i.get_typed_func::<i32, i32>(&mut store, "via_native")?;
        assert_eq!(via_native.call(&mut store, 2)?, 7, "{mode}");
        assert_eq!(via_native.call(&mut store, 3)?, 109, "{mode}");
        let via_tail = i.get_typed_func::<i32, i32>(&mut store, "via_tail")?;
        assert_eq!(via_tail.call(&mut store, 4)?, 4, "{mode}");
        assert_eq!(via_tail.call(&mut store, 5)?, 205, "{mode}");
    }
    Ok(())
}

#[test]
fn gc_why_follows_an_exception_payload() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, HOLD)?;
    let mut store = Store::new(&engine, ());
    let i = Instance::new(&mut store, &module, &[])?;
    let hold = i.get_typed_func::<Option<Rooted<ExternRef>>, ()>(&mut store, "hold")?;
    let raw = {
        let mut scope = RootScope::new(&mut store);
        let r = ExternRef::new(&mut scope, 1u32)?;
        hold.call(&mut scope, Some(r))?;
        // SAFETY: used right away, with no collection in between.
        unsafe { r.to_raw(&mut scope)? }
    };
    let why = store.gc_why(raw);
    let exn = match why.as_slice() {
        [RootKind::Edge { from }] => from.as_raw(),
        other => panic!("expected one edge, got {other:?}"),
    };
    let roots = store.gc_why(exn);
    assert!(
        roots.iter().any(|k| matches!(k, RootKind::Global { .. })),
        "{roots:?}"
    );
    assert!(
        roots.iter().any(|k| matches!(k, RootKind::Table { .. })),
        "{roots:?}"
    );
    Ok(())
}

// ---- real programs (tests/programs: built by build.sh, checked in) ----------------------

mod programs {
    use super::engines;
    use gloam::wasi::{I32Exit, MemoryInputPipe, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
    use gloam::*;
    use std::path::PathBuf;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("programs")
    }

    struct State {
        wasi: WasiCtx,
    }

    /// Runs WASI command `wasm` with `args` and `stdin`; exit status, stdout, stderr.
    fn run(
        engine: &Engine,
        wasm: &str,
        args: &[&str],
        stdin: &str,
    ) -> Result<(i32, String, String)> {
        let module = Module::from_file(engine, dir().join("wasm").join(wasm))?;
        let (out, err) = (
            MemoryOutputPipe::new(1 << 20),
            MemoryOutputPipe::new(1 << 16),
        );
        let wasi = WasiCtxBuilder::new()
            .args(args)
            .stdin(MemoryInputPipe::new(stdin))
            .stdout(out.clone())
            .stderr(err.clone())
            .build();
        let mut linker = Linker::new(engine);
        linker.add_wasi(|s: &mut State| &mut s.wasi)?;
        let mut store = Store::new(engine, State { wasi });
        let instance = linker.instantiate(&mut store, &module)?;
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        let status = match start.call(&mut store, ()) {
            Ok(()) => 0,
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(e),
            },
        };
        let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
        Ok((status, text(&out), text(&err)))
    }

    fn expected(name: &str) -> Result<String> {
        Ok(std::fs::read_to_string(dir().join("expected").join(name))?)
    }

    /// C++ try/catch/throw/rethrow with destructors, as clang's -fwasm-exceptions emits
    /// them (try_table, catch_ref/catch_all_ref, throw, throw_ref); the output is the
    /// native build's.
    #[test]
    fn cpp_exceptions_program() -> Result<()> {
        let want = expected("cpp_exceptions.txt")?;
        for (mode, engine) in engines() {
            let (status, out, err) = run(&engine, "cpp_exceptions.wasm", &["exceptions"], "")?;
            assert_eq!((status, err.as_str()), (0, ""), "{mode}");
            assert_eq!(out, want, "{mode}");
        }
        Ok(())
    }

    /// Lua 5.4 compiled as C++: `error`, `pcall`, `xpcall`, errors in coroutines are C++
    /// exceptions; an error nothing catches ends the program with status 1.
    #[test]
    fn lua_errors_program() -> Result<()> {
        let script = std::fs::read_to_string(dir().join("lua/errors.lua"))?;
        let want = expected("lua_errors.txt")?;
        for (mode, engine) in engines() {
            let (status, out, err) = run(&engine, "lua.wasm", &["lua", "errors.lua"], &script)?;
            assert_eq!(out, want, "{mode}");
            assert_eq!(err, "lua: errors.lua:19: uncaught at the end\n", "{mode}");
            assert_eq!(status, 1, "{mode}");
        }
        Ok(())
    }
}
