//! Parallel compilation: a large module's bodies are validated, translated and
//! JIT-assembled on several threads. The results (and the error a bad module reports)
//! must not depend on it.

use anyhow::Result;
use gloam::*;
use std::fmt::Write;

/// A module with `n` functions of a few hundred bytes each (well over the size at which
/// compilation goes parallel), each computing something different, and an export `all`
/// summing every function's result for an argument. The functions in `bad` are invalid.
fn big_module(n: usize, bad: &[usize]) -> String {
    let mut wat = String::from("(module\n");
    for i in 0..n {
        let _ = write!(
            wat,
            "(func $f{i} (param i64) (result i64) (local i64 i32)
               (local.set 2 (i32.const {iters}))
               (loop $l
                 (local.set 1 (i64.add (local.get 1)
                   (i64.xor (i64.mul (local.get 0) (i64.const {mul}))
                            (i64.shr_u (local.get 0) (i64.const {shift})))))
                 (local.set 0 (i64.add (local.get 0) (i64.const {add})))
                 (if (i64.eqz (i64.and (local.get 1) (i64.const 1)))
                   (then (local.set 1 (i64.rotl (local.get 1) (i64.const {rot}))))
                   (else (local.set 1 (i64.sub (local.get 1) (i64.const {sub})))))
                 (br_if $l (local.tee 2 (i32.sub (local.get 2) (i32.const 1)))))
               (i64.add (local.get 1) {tail}))\n",
            iters = 3 + i % 5,
            mul = 2 * i + 1,
            shift = i % 13,
            add = i * 7 + 3,
            rot = i % 63,
            sub = i * 11,
            tail = if bad.contains(&i) {
                "(i32.const 1)".to_string()
            } else {
                format!("(i64.const {i})")
            },
        );
    }
    wat.push_str("(func (export \"all\") (param i64) (result i64)\n  (i64.const 0)\n");
    for i in 0..n {
        let _ = writeln!(wat, "  (call $f{i} (local.get 0)) i64.add");
    }
    wat.push_str("))");
    wat
}

fn engine(parallel: bool, jit: Option<u32>, eager: bool) -> Engine {
    let mut config = Config::new();
    config
        .parallel_compilation(parallel)
        .jit_threshold(jit)
        .eager_translation(eager);
    Engine::new(&config).unwrap()
}

fn run_all(engine: &Engine, jit: Option<u32>, wasm: &[u8]) -> Result<Vec<i64>> {
    let module = Module::new(engine, wasm)?;
    if jit.is_some() && Config::jit_available() {
        for o in module.jit_compile_all()? {
            assert!(
                o.result.is_ok(),
                "function {}: {:?}",
                o.func_index,
                o.result
            );
        }
    }
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let all = instance.get_typed_func::<i64, i64>(&mut store, "all")?;
    [0, 1, -5, 1 << 40]
        .into_iter()
        .map(|x| all.call(&mut store, x))
        .collect()
}

#[test]
fn parallel_and_serial_compilation_agree() -> Result<()> {
    let wasm = wat::parse_str(big_module(4000, &[]))?;
    assert!(wasm.len() > 256 * 1024, "{} bytes", wasm.len());
    let expected = run_all(&engine(false, None, false), None, &wasm)?;
    for (parallel, jit, eager) in [
        (true, None, false),
        (true, None, true),
        (true, Some(0), false),
        (false, Some(0), false),
    ] {
        let got = run_all(&engine(parallel, jit, eager), jit, &wasm)?;
        assert_eq!(
            got, expected,
            "parallel {parallel}, jit {jit:?}, eager {eager}"
        );
    }
    Ok(())
}

#[test]
fn a_bad_function_in_a_large_module_reports_the_same_error() -> Result<()> {
    // Two invalid functions far apart: the first one's error is reported, as serially.
    let wat = big_module(4000, &[700, 2500]);
    // The text parser does not validate: the bad bodies reach the binary.
    let wasm = wat::parse_str(&wat)?;
    let serial = Module::new(&engine(false, None, false), &wasm).unwrap_err();
    for eager in [false, true] {
        let parallel = Module::new(&engine(true, None, eager), &wasm).unwrap_err();
        assert_eq!(format!("{parallel:#}"), format!("{serial:#}"));
    }
    assert!(
        format!("{serial:#}").contains("type mismatch"),
        "{serial:#}"
    );
    Ok(())
}

#[test]
fn eager_translation_reports_validation_errors_before_translation_errors() -> Result<()> {
    // Function 0 is valid but needs more frame cells than the translator allows (a
    // translation error); function 1 is invalid. Serial eager compilation decodes each
    // body once for both, and must still report the validation error, as lazy
    // translation (which never reaches the translator) does.
    let locals = "v128 ".repeat(40_000);
    let too_big = format!("(func (local {locals}))");
    let invalid = "(func (result i32) i32.add)";
    let both = wat::parse_str(format!("(module {too_big} {invalid})"))?;
    let lazy = Module::new(&engine(false, None, false), &both).unwrap_err();
    let eager = Module::new(&engine(false, None, true), &both).unwrap_err();
    assert_eq!(format!("{eager:#}"), format!("{lazy:#}"));
    assert!(format!("{lazy:#}").contains("type mismatch"), "{lazy:#}");
    // Alone, the translation error is eager compilation's error.
    let alone = wat::parse_str(format!("(module {too_big})"))?;
    Module::new(&engine(false, None, false), &alone)?;
    let eager = Module::new(&engine(false, None, true), &alone).unwrap_err();
    assert!(
        format!("{eager:#}").contains("too many locals"),
        "{eager:#}"
    );
    Ok(())
}
