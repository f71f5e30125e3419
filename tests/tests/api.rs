//! End-to-end tests of the embedding API.

use gloam::*;

fn fib_module(engine: &Engine) -> Module {
    Module::from_file(
        engine,
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fib.wat"),
    )
    .unwrap()
}

#[test]
fn fib_typed_and_dynamic() -> Result<()> {
    let engine = Engine::default();
    let module = fib_module(&engine);
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
    assert_eq!(fib.call(&mut store, 20)?, 6765);
    let f = instance.get_func(&mut store, "fib").unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(10)], &mut out)?;
    assert_eq!(out[0].unwrap_i32(), 55);
    // Wrong argument types and counts are errors, not panics.
    assert!(f.call(&mut store, &[Val::I64(10)], &mut out).is_err());
    assert!(f.call(&mut store, &[], &mut out).is_err());
    assert!(
        instance
            .get_typed_func::<i64, i32>(&mut store, "fib")
            .is_err()
    );
    Ok(())
}

#[test]
fn host_functions_and_caller() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "add" (func $add (param i32 i32) (result i32)))
            (import "env" "peek" (func $peek (param i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "\2a")
            (func (export "run") (param i32) (result i32)
              (call $add (local.get 0) (call $peek (i32.const 16)))))"#,
    )?;
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "env",
        "add",
        |mut caller: Caller<'_, Vec<i32>>, a: i32, b: i32| {
            caller.data_mut().push(a);
            a + b
        },
    )?;
    linker.func_wrap(
        "env",
        "peek",
        |mut caller: Caller<'_, Vec<i32>>, addr: i32| -> Result<i32> {
            let mem = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .unwrap();
            let mut b = [0u8];
            mem.read(&caller, addr as usize, &mut b)?;
            Ok(b[0] as i32)
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 100)?, 142);
    assert_eq!(store.data(), &vec![100]);
    Ok(())
}

#[test]
fn host_error_and_traps_carry_codes_and_backtraces() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $m
            (import "env" "fail" (func $fail))
            (func $inner (export "div") (param i32) (result i32)
              (i32.div_u (i32.const 1) (local.get 0)))
            (func $outer (export "outer") (param i32) (result i32)
              (call $inner (local.get 0)))
            (func (export "host") (call $fail))
            (func $rec (export "rec") (call $rec)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "fail", || -> Result<()> {
        Err(anyhow::anyhow!("host says no"))
    })?;
    let instance = linker.instantiate(&mut store, &module)?;
    let outer = instance.get_typed_func::<i32, i32>(&mut store, "outer")?;
    let err = outer.call(&mut store, 0).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero)
    );
    let bt = err.downcast_ref::<WasmBacktrace>().expect("backtrace");
    let names: Vec<_> = bt
        .frames()
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["inner", "outer"]);
    // The store is still usable after a trap.
    assert_eq!(outer.call(&mut store, 1)?, 1);

    let host = instance.get_typed_func::<(), ()>(&mut store, "host")?;
    let err = host.call(&mut store, ()).unwrap_err();
    assert!(err.to_string().contains("host says no"), "{err}");

    let rec = instance.get_typed_func::<(), ()>(&mut store, "rec")?;
    let err = rec.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    Ok(())
}

#[test]
fn memory_table_global_api() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(3)))?;
    assert_eq!(memory.size(&store), 1);
    assert_eq!(memory.grow(&mut store, 2)?, 1);
    assert!(memory.grow(&mut store, 1).is_err());
    memory.write(&mut store, 65536 * 3 - 4, &[1, 2, 3, 4])?;
    assert!(
        memory
            .write(&mut store, 65536 * 3 - 3, &[1, 2, 3, 4])
            .is_err()
    );
    let global = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Var),
        Val::I64(7),
    )?;
    let table = Table::new(
        &mut store,
        TableType::new(ValType::FuncRef, 2, None),
        Val::FuncRef(None),
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "m" (memory 1))
            (import "" "g" (global $g (mut i64)))
            (import "" "t" (table 1 funcref))
            (func $f (result i64) (global.get $g))
            (elem (i32.const 1) $f)
            (func (export "last") (result i32) (i32.load (i32.const 196604)))
            (func (export "bump") (global.set $g (i64.add (global.get $g) (i64.const 1)))))"#,
    )?;
    let instance = Instance::new(
        &mut store,
        &module,
        &[memory.into(), global.into(), table.into()],
    )?;
    let last = instance.get_typed_func::<(), i32>(&mut store, "last")?;
    assert_eq!(last.call(&mut store, ())?, i32::from_le_bytes([1, 2, 3, 4]));
    instance
        .get_typed_func::<(), ()>(&mut store, "bump")?
        .call(&mut store, ())?;
    assert_eq!(global.get(&mut store).unwrap_i64(), 8);
    let f = table.get(&mut store, 1).unwrap();
    let f = f.funcref().unwrap().unwrap();
    assert_eq!(f.typed::<(), i64>(&store)?.call(&mut store, ())?, 8);
    assert!(table.get(&mut store, 2).is_none());
    Ok(())
}

#[test]
fn malformed_and_invalid_modules_are_errors() {
    let engine = Engine::default();
    assert!(Module::new(&engine, b"\0asm\x01\0\0\0\x01").is_err());
    assert!(Module::new(&engine, "(module (func (result i32)))").is_err());
    assert!(Module::new(&engine, "not wat").is_err());
}

#[test]
fn unknown_import_is_an_error() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (import "a" "b" (func)))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let linker = Linker::<()>::new(&engine);
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("unknown import"), "{err}");
}
