//! Typed function references (Wasm 3.0): `call_ref`, `return_call_ref`,
//! `ref.as_non_null`, `br_on_null`/`br_on_non_null`, non-nullable locals and tables,
//! recursion groups and type equivalence across modules, and the API's typed-reference
//! checks. Every test runs in the interpreter and with every function JIT-compiled.

use anyhow::Result;
use gloam::*;

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

fn trap_of(e: &anyhow::Error) -> Option<Trap> {
    e.downcast_ref::<Trap>().copied()
}

const CALLS: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (import "host" "triple" (func $triple (type $t)))
  (elem declare func $double $triple)
  (func $double (type $t) (i32.mul (local.get 0) (i32.const 2)))
  (func $apply (export "apply") (param $f (ref $t)) (param i32) (result i32)
    (call_ref $t (local.get 1) (local.get $f)))
  (func (export "by_index") (param i32 i32) (result i32)
    ;; 0: double, 1: triple (a host function), else: null.
    (local $f (ref null $t))
    (if (i32.eqz (local.get 0))
      (then (local.set $f (ref.func $double)))
      (else (if (i32.eq (local.get 0) (i32.const 1))
        (then (local.set $f (ref.func $triple))))))
    (call_ref $t (local.get 1) (local.get $f)))
  (func (export "tail") (param i32 i32) (result i32)
    (return_call_ref $t (local.get 1)
      (select (result (ref null $t)) (ref.func $double) (ref.null $t) (local.get 0))))
  (func (export "as_non_null") (param funcref) (result funcref)
    (ref.as_non_null (local.get 0)))
  (func (export "get_double") (result (ref $t)) (ref.func $double)))"#;

fn calls_instance(engine: &Engine, store: &mut Store<()>) -> Result<Instance> {
    let module = Module::new(engine, CALLS)?;
    let triple = Func::wrap(&mut *store, |x: i32| x * 3);
    Instance::new(&mut *store, &module, &[triple.into()])
}

#[test]
fn call_ref_calls_wasm_and_host_functions() -> Result<()> {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let instance = calls_instance(&engine, &mut store)?;
        let by_index = instance.get_typed_func::<(i32, i32), i32>(&mut store, "by_index")?;
        assert_eq!(by_index.call(&mut store, (0, 21))?, 42);
        assert_eq!(by_index.call(&mut store, (1, 14))?, 42);
        let tail = instance.get_typed_func::<(i32, i32), i32>(&mut store, "tail")?;
        assert_eq!(tail.call(&mut store, (1, 21))?, 42);
        // A reference handed in through the API: the exported wasm function, and a host
        // function of the right type.
        let apply = instance.get_func(&mut store, "apply").unwrap();
        let get_double = instance.get_func(&mut store, "get_double").unwrap();
        let mut out = [Val::I32(0)];
        get_double.call(&mut store, &[], &mut out)?;
        let double = out[0].clone();
        assert!(matches!(double, Val::FuncRef(Some(_))));
        apply.call(&mut store, &[double, Val::I32(5)], &mut out)?;
        assert_eq!(out[0].unwrap_i32(), 10);
        let ty = match apply.ty(&store).params()[0] {
            ValType::Ref(r) => r,
            other => panic!("parameter type {other}"),
        };
        assert!(!ty.nullable);
        let HeapType::ConcreteFunc(_) = ty.heap_type else {
            panic!("heap type {:?}", ty.heap_type)
        };
        let square = Func::wrap(&mut store, |x: i32| x * x);
        assert_eq!(
            ty.heap_type,
            engine.concrete_func(&FuncType::new([ValType::I32], [ValType::I32]))
        );
        apply.call(&mut store, &[square.into(), Val::I32(7)], &mut out)?;
        assert_eq!(out[0].unwrap_i32(), 49);
    }
    Ok(())
}

#[test]
fn null_references_trap() -> Result<()> {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let instance = calls_instance(&engine, &mut store)?;
        let by_index = instance.get_typed_func::<(i32, i32), i32>(&mut store, "by_index")?;
        let e = by_index.call(&mut store, (2, 1)).unwrap_err();
        assert_eq!(trap_of(&e), Some(Trap::NullReference), "{e:?}");
        let tail = instance.get_typed_func::<(i32, i32), i32>(&mut store, "tail")?;
        let e = tail.call(&mut store, (0, 1)).unwrap_err();
        assert_eq!(trap_of(&e), Some(Trap::NullReference), "{e:?}");
        let as_non_null = instance.get_func(&mut store, "as_non_null").unwrap();
        let mut out = [Val::FuncRef(None)];
        let e = as_non_null
            .call(&mut store, &[Val::FuncRef(None)], &mut out)
            .unwrap_err();
        assert_eq!(trap_of(&e), Some(Trap::NullReference), "{e:?}");
        let f = Func::wrap(&mut store, || {});
        as_non_null.call(&mut store, &[f.into()], &mut out)?;
        assert_eq!(out[0].funcref(), Some(Some(&f)));
    }
    Ok(())
}

#[test]
fn br_on_null_and_br_on_non_null_branch_on_nullness() -> Result<()> {
    let wat = r#"(module
      (type $t (func (result i32)))
      (elem declare func $seven)
      (func $seven (type $t) (i32.const 7))
      (func $pick (param i32) (result (ref null $t))
        (select (result (ref null $t)) (ref.func $seven) (ref.null $t) (local.get 0)))
      ;; -1 when null, else the function's result.
      (func (export "on_null") (param i32) (result i32)
        (block $null
          (return (call_ref $t (br_on_null $null (call $pick (local.get 0))))))
        (i32.const -1))
      ;; The same with br_on_non_null, carrying a value beside the reference.
      (func (export "on_non_null") (param i32) (result i32)
        (local.get 0)
        (block $some (param i32) (result i32 (ref $t))
          (call $pick (local.get 0))
          (br_on_non_null $some)
          ;; Null: the i32 is left.
          (i32.const 1)
          (i32.add)
          (return))
        (call_ref $t)
        (i32.add)))"#;
    for engine in engines() {
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let on_null = instance.get_typed_func::<i32, i32>(&mut store, "on_null")?;
        assert_eq!(on_null.call(&mut store, 1)?, 7);
        assert_eq!(on_null.call(&mut store, 0)?, -1);
        let on_non_null = instance.get_typed_func::<i32, i32>(&mut store, "on_non_null")?;
        assert_eq!(on_non_null.call(&mut store, 5)?, 12);
        assert_eq!(on_non_null.call(&mut store, 0)?, 1);
    }
    Ok(())
}

#[test]
fn non_nullable_locals_must_be_set_before_use() -> Result<()> {
    let wat = r#"(module
      (type $t (func (result i32)))
      (elem declare func $one $two)
      (func $one (type $t) (i32.const 1))
      (func $two (type $t) (i32.const 2))
      (func (export "run") (param i32) (result i32)
        (local $f (ref $t)) (local $g (ref func))
        (local.set $f (ref.func $one))
        (if (local.get 0) (then (local.set $f (ref.func $two))))
        (local.set $g (local.get $f))
        (call_ref $t (local.get $f))))"#;
    for engine in engines() {
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, 0)?, 1);
        assert_eq!(run.call(&mut store, 1)?, 2);
        // Read before any write: invalid.
        let e = Module::new(
            &engine,
            r#"(module (type $t (func))
                 (func (local $f (ref $t)) (call_ref $t (local.get $f))))"#,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("uninitialized local"), "{e:#}");
    }
    Ok(())
}

const EVEN_ODD_REF: &str = r#"(module
  (rec (type $u (struct)))
  (type $t (func (param i64 (ref null $u)) (result i32)))
  (elem declare func $even $odd)
  (global $even (ref $t) (ref.func $even))
  (global $odd (ref $t) (ref.func $odd))
  (func $even (export "even") (type $t)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_ref $t (i64.sub (local.get 0) (i64.const 1)) (local.get 1)
                                (global.get $odd)))))
  (func $odd (type $t)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_ref $t (i64.sub (local.get 0) (i64.const 1)) (local.get 1)
                                (global.get $even))))))"#;

#[test]
fn a_million_deep_mutual_return_call_ref_recursion_runs_in_constant_depth() -> Result<()> {
    for engine in engines() {
        let module = Module::new(&engine, EVEN_ODD_REF)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let even = instance.get_func(&mut store, "even").unwrap();
        let mut out = [Val::I32(-1)];
        for (n, want) in [(1_000_000, 1), (1_000_001, 0)] {
            even.call(&mut store, &[Val::I64(n), Val::FuncRef(None)], &mut out)?;
            assert_eq!(out[0].unwrap_i32(), want);
        }
        // The struct reference parameter can be null only: anything else is refused.
        let f = Func::wrap(&mut store, || {});
        assert!(
            even.call(&mut store, &[Val::I64(0), f.into()], &mut out)
                .is_err()
        );
    }
    Ok(())
}

#[test]
fn typed_tables_take_initializers() -> Result<()> {
    let wat = r#"(module
      (type $t (func (result i32)))
      (func $five (type $t) (i32.const 5))
      (func $six (type $t) (i32.const 6))
      (table $tab (export "tab") 4 8 (ref $t) (ref.func $five))
      (elem (table $tab) (i32.const 2) (ref $t) (ref.func $six))
      (func (export "sum") (result i32)
        (i32.add
          (i32.add (call_indirect $tab (type $t) (i32.const 0))
                   (call_indirect $tab (type $t) (i32.const 1)))
          (i32.add (call_ref $t (table.get $tab (i32.const 2)))
                   (call_ref $t (table.get $tab (i32.const 3))))))
      (func (export "grow") (result i32)
        (table.grow $tab (ref.func $six) (i32.const 1))))"#;
    for engine in engines() {
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let sum = instance.get_typed_func::<(), i32>(&mut store, "sum")?;
        assert_eq!(sum.call(&mut store, ())?, 5 + 5 + 6 + 5);
        let grow = instance.get_typed_func::<(), i32>(&mut store, "grow")?;
        assert_eq!(grow.call(&mut store, ())?, 4);
        let tab = instance.get_table(&mut store, "tab").unwrap();
        let ty = tab.ty(&store);
        assert!(matches!(ty.element(), ValType::Ref(r) if !r.nullable));
        assert_eq!(tab.size(&store), 5);
        assert!(matches!(
            tab.get(&mut store, 4),
            Some(Val::FuncRef(Some(_)))
        ));
        // The API keeps null and functions of other types out.
        assert!(tab.set(&mut store, 0, Val::FuncRef(None)).is_err());
        let wrong = Func::wrap(&mut store, |x: i32| x);
        assert!(tab.set(&mut store, 0, wrong.into()).is_err());
        assert!(tab.grow(&mut store, 1, Val::FuncRef(None)).is_err());
        let right = Func::wrap(&mut store, || 40);
        tab.set(&mut store, 0, right.into())?;
        assert_eq!(sum.call(&mut store, ())?, 40 + 5 + 6 + 5);
        // A table without initializer cannot have a non-nullable element type.
        assert!(Module::new(&engine, "(module (type $t (func)) (table 1 (ref $t)))").is_err());
    }
    Ok(())
}

#[test]
fn equivalent_rec_groups_match_across_modules() -> Result<()> {
    // `$f` is the first type of a two-type group in both modules: the same type. The
    // second module's `$g` is alone in its group: another type, although both are
    // `(func (result i32))`.
    let lib = r#"(module
      (rec (type $f (func (result i32))) (type $s (func (param (ref $f)))))
      (type $g (func (result i32)))
      (func $a (export "a") (type $f) (i32.const 11))
      (func $b (export "b") (type $g) (i32.const 12))
      (table (export "tab") funcref (elem $a $b)))"#;
    let app = r#"(module
      (rec (type $f (func (result i32))) (type $s (func (param (ref $f)))))
      (import "lib" "tab" (table 2 funcref))
      (func (export "call_f") (param i32) (result i32)
        (call_indirect (type $f) (local.get 0))))"#;
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let lib = Module::new(&engine, lib)?;
        let lib = linker.instantiate(&mut store, &lib)?;
        linker.instance(&mut store, "lib", lib)?;
        let app = linker.instantiate(&mut store, &Module::new(&engine, app)?)?;
        let call_f = app.get_typed_func::<i32, i32>(&mut store, "call_f")?;
        assert_eq!(call_f.call(&mut store, 0)?, 11);
        let e = call_f.call(&mut store, 1).unwrap_err();
        assert_eq!(trap_of(&e), Some(Trap::BadSignature), "{e:?}");
        // Import matching uses the same equivalence.
        let import_a = r#"(module
          (rec (type $f (func (result i32))) (type $s (func (param (ref $f)))))
          (import "lib" "a" (func (type $f))))"#;
        linker.instantiate(&mut store, &Module::new(&engine, import_a)?)?;
        let import_a_alone = r#"(module
          (rec (type $f (func (result i32))))
          (import "lib" "a" (func (type $f))))"#;
        let e = linker
            .instantiate(&mut store, &Module::new(&engine, import_a_alone)?)
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("incompatible import type"),
            "{e:#}"
        );
        let import_b = r#"(module (import "lib" "b" (func (result i32))))"#;
        linker.instantiate(&mut store, &Module::new(&engine, import_b)?)?;
    }
    Ok(())
}

#[test]
fn api_checks_typed_reference_arguments_and_results() -> Result<()> {
    let wat = r#"(module
      (type $t (func (param i32) (result i32)))
      (import "host" "make" (func $make (param i32) (result (ref $t))))
      (func (export "run") (param i32) (result i32)
        (call_ref $t (i32.const 4) (call $make (local.get 0)))))"#;
    for engine in engines() {
        let module = Module::new(&engine, wat)?;
        // The import's type, as the module reports it, describes `(ref $t)`.
        let ExternType::Func(make_ty) = module.imports().next().unwrap().ty() else {
            panic!("import kind")
        };
        let t = FuncType::new([ValType::I32], [ValType::I32]);
        assert_eq!(
            make_ty.results(),
            [ValType::Ref(RefType::new(false, engine.concrete_func(&t)))]
        );
        let mut store = Store::new(&engine, ());
        let neg = Func::wrap(&mut store, |x: i32| -x);
        let mut linker = Linker::new(&engine);
        // Returns `neg` for 1, a function of another type for 2, and null otherwise.
        let other = Func::wrap(&mut store, || {});
        linker.func_new("host", "make", make_ty, move |_, args, results| {
            results[0] = match args[0].unwrap_i32() {
                1 => neg.into(),
                2 => other.into(),
                _ => Val::FuncRef(None),
            };
            Ok(())
        })?;
        let instance = linker.instantiate(&mut store, &module)?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, 1)?, -4);
        for bad in [0, 2] {
            let e = run.call(&mut store, bad).unwrap_err();
            assert!(trap_of(&e).is_none(), "{e:?}");
            assert!(format!("{e:#}").contains("expected (ref"), "{e:#}");
        }
        // Globals and tables of non-nullable types refuse null.
        let non_null = ValType::Ref(RefType::new(false, HeapType::Func));
        let g = GlobalType::new(non_null, Mutability::Var);
        assert!(Global::new(&mut store, g, Val::FuncRef(None)).is_err());
        let global = Global::new(&mut store, g, neg.into())?;
        assert!(global.set(&mut store, Val::FuncRef(None)).is_err());
        assert!(
            Table::new(
                &mut store,
                TableType::new(non_null, 1, None),
                Val::FuncRef(None)
            )
            .is_err()
        );
        // A typed view must fit: `(ref $t)` cannot take an `Option<Func>`.
        let apply = Module::new(
            &engine,
            r#"(module (type $t (func))
                 (func (export "apply") (param (ref $t)) (call_ref $t (local.get 0))))"#,
        )?;
        let apply = Instance::new(&mut store, &apply, &[])?;
        assert!(
            apply
                .get_typed_func::<Option<Func>, ()>(&mut store, "apply")
                .is_err()
        );
    }
    Ok(())
}

#[test]
fn gc_constructs_are_refused_at_compile_time() {
    let engine = Engine::default();
    for wat in [
        "(module (type $s (struct)) (func (drop (struct.new $s))))",
        "(module (func (param anyref)))",
        "(module (func (drop (ref.i31 (i32.const 1)))))",
        "(module (global eqref (ref.null eq)))",
        "(module (type $s (sub (struct))) (type $t (sub $s (struct))))",
        "(module (func (result i32) (ref.test funcref (ref.null func))))",
    ] {
        let e = Module::new(&engine, wat).unwrap_err();
        assert!(format!("{e:#}").contains("not supported"), "{wat}: {e:#}");
    }
    // Struct types may appear in recursion groups (and only null references to them).
    Module::new(
        &engine,
        "(module (rec (type (func)) (type (struct (field i32)))))",
    )
    .unwrap();
}

#[test]
fn the_feature_switch_turns_typed_references_off() {
    let mut config = Config::new();
    config.wasm_function_references(false);
    let engine = Engine::new(&config).unwrap();
    for wat in [
        "(module (type $t (func)) (func (param (ref null $t))))",
        "(module (type $t (func)) (func (param funcref) (call_ref $t (local.get 0))))",
        "(module (rec (type (func)) (type (func))))",
    ] {
        assert!(Module::new(&engine, wat).is_err(), "{wat}");
    }
    Module::new(&engine, "(module (func (param funcref)))").unwrap();
}

#[test]
fn the_jit_compiles_call_ref_and_leaves_return_call_ref_interpreted() -> Result<()> {
    if !Config::jit_available() {
        return Ok(());
    }
    let mut config = Config::new();
    config.jit_threshold(Some(0));
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, CALLS)?;
    let outcomes = module.jit_compile_all()?;
    let by_name = |name: &str| {
        let export = module.core().exports.iter().find(|e| e.name == name);
        let index = export.expect("export").index;
        let outcome = outcomes.iter().find(|o| o.func_index == index);
        outcome.expect("outcome").result.clone()
    };
    assert!(by_name("by_index").is_ok(), "{:?}", by_name("by_index"));
    assert!(
        by_name("as_non_null").is_ok(),
        "{:?}",
        by_name("as_non_null")
    );
    assert_eq!(
        by_name("tail"),
        Err("unsupported: return_call_ref".to_string())
    );
    Ok(())
}

#[test]
fn non_null_externref_locals_are_gc_roots() -> Result<()> {
    let wat = r#"(module
      (import "host" "make" (func $make (result externref)))
      (import "host" "read" (func $read (param externref) (result i32)))
      (func (export "run") (result i32) (local $r (ref extern))
        ;; Only this local holds the object while the calls below collect.
        (local.set $r (ref.as_non_null (call $make)))
        (drop (call $make))
        (call $read (local.get $r))))"#;
    for jit in [None, Some(0)] {
        let mut config = Config::new();
        config.gc_stress(true).jit_threshold(jit);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, wat)?;
        // `make` returns 42, then 43 (which may reuse a freed object's slot).
        let mut store = Store::new(&engine, 41u32);
        let mut linker = Linker::new(&engine);
        linker.func_wrap("host", "make", |mut caller: Caller<'_, u32>| {
            *caller.data_mut() += 1;
            let n = *caller.data();
            Ok(Some(ExternRef::new(&mut caller, n)?))
        })?;
        linker.func_wrap(
            "host",
            "read",
            |caller: Caller<'_, u32>, r: Option<Rooted<ExternRef>>| -> Result<i32> {
                let r = r.expect("non-null");
                Ok(*r.data(&caller)?.downcast_ref::<u32>().expect("u32") as i32)
            },
        )?;
        let instance = linker.instantiate(&mut store, &module)?;
        let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, ())?, 42);
    }
    Ok(())
}
