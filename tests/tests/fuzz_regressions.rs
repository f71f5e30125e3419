//! Minimized modules of divergences the differential fuzzer (`gloam-fuzz`) found.

use gloam::*;

/// A `br` to the function's label (a return) with more values on the stack than the
/// results: the translator copied the results down to the label homes, then returned
/// from the stale homes (found by seeds 7671, 9756 and 17783).
#[test]
fn branch_to_function_label_with_values_below() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (func (export "two") (result externref f32)
            i64.const 127 ref.null extern f32.const 1.5 br 0)
          (func (export "vec") (result v128)
            i32.const 7 v128.const i32x4 1 2 3 4 br 0)
          (func (export "cond") (param i32) (result i32 i64)
            i32.const 1 i32.const 2 i64.const 3 local.get 0 br_if 0
            drop drop drop i32.const 9 i64.const 10)
          (func (export "table") (param i32) (result i32 i64)
            i64.const 5 i32.const 6 i64.const 7 local.get 0 br_table 0 0
            drop drop))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let two = instance.get_typed_func::<(), (Option<Rooted<ExternRef>>, f32)>(&mut store, "two")?;
    let (r, f) = two.call(&mut store, ())?;
    assert!(r.is_none());
    assert_eq!(f, 1.5);
    let vec = instance.get_func(&mut store, "vec").unwrap();
    let mut out = [Val::I32(0)];
    vec.call(&mut store, &[], &mut out)?;
    let expected: u128 = 1 | 2 << 32 | 3 << 64 | 4 << 96;
    assert_eq!(out[0].unwrap_v128().as_u128(), expected);
    let cond = instance.get_typed_func::<i32, (i32, i64)>(&mut store, "cond")?;
    assert_eq!(cond.call(&mut store, 1)?, (2, 3));
    assert_eq!(cond.call(&mut store, 0)?, (9, 10));
    let table = instance.get_typed_func::<i32, (i32, i64)>(&mut store, "table")?;
    assert_eq!(table.call(&mut store, 0)?, (6, 7));
    assert_eq!(table.call(&mut store, 5)?, (6, 7));
    Ok(())
}

/// Seeds 109200 and 111900 diverged because wasmi 2.0 (the oracle) is wrong: it loses the
/// sign of a `-0.0` passed as an `if`'s block parameter, and returns zero for a `v128`
/// carried by a `br_table` out of nested blocks. gloam's answers were checked by hand;
/// these pin them down.
#[test]
fn oracle_bugs_gloam_gets_right() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (func (export "if_param") (param f64) (result i64)
            local.get 0
            i32.const 0
            if (param f64) (result f64)
            else
            end
            i64.reinterpret_f64)
          (func (export "br_table_v128") (param i32) (result v128)
            (block (result v128)
              (block
                (block (result externref)
                  v128.const i32x4 0x1726bf28 0x756a68da 0x816605c7 0x2b23ebe5
                  f32x4.abs
                  f64x2.convert_low_i32x4_u
                  local.get 0
                  br_table 2 3 3)
                drop)
              v128.const i32x4 0 0 0 0)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let if_param = instance.get_typed_func::<f64, i64>(&mut store, "if_param")?;
    assert_eq!(
        if_param.call(&mut store, -0.0)? as u64,
        0x8000_0000_0000_0000
    );
    let f = instance.get_func(&mut store, "br_table_v128").unwrap();
    let want = (388415272f64.to_bits() as u128) | (1969907930f64.to_bits() as u128) << 64;
    for arg in [0, 1, 9] {
        let mut out = [Val::I32(0)];
        f.call(&mut store, &[Val::I32(arg)], &mut out)?;
        assert_eq!(out[0].unwrap_v128().as_u128(), want, "index {arg}");
    }
    Ok(())
}

/// `i32.wrap_i64` of a value the JIT held in `rax` (or in a pinned register) kept the
/// upper half, and a load through the wrapped address wrapped around to a small one
/// instead of trapping (seed 40325635, and two others: an `i32.trunc_f64_s` and a division
/// fed a wrapped value). Every mode must agree.
#[test]
fn wrapped_i64_is_zero_extended_in_every_tier() -> Result<()> {
    let wat = r#"(module
      (memory 1)
      (func (export "load") (result f64)
        i64.const -16385 i64.extend8_s i32.wrap_i64 f64.load offset=32377)
      (func (export "wrap") (param i64) (result i64)
        local.get 0 i32.wrap_i64 i64.extend_i32_u)
      (func (export "loop") (param i64 i32) (result i64)
        (local i64 i32)
        (loop $l
          ;; In a loop, so the cells are pinned to registers.
          (local.set 3 (i32.wrap_i64 (local.get 0)))
          (local.set 2 (i64.add (local.get 2) (i64.extend_i32_u (local.get 3))))
          (local.set 2 (i64.add (local.get 2)
            (i64.extend_i32_u (i32.div_u (i32.wrap_i64 (local.get 0)) (i32.const 3)))))
          (br_if $l (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))))
        (local.get 2)))"#;
    for threshold in [None, Some(0), Some(2)] {
        let mut config = Config::new();
        config.jit_threshold(threshold);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let load = instance.get_typed_func::<(), f64>(&mut store, "load")?;
        let err = load.call(&mut store, ()).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "{threshold:?}"
        );
        let wrap = instance.get_typed_func::<i64, i64>(&mut store, "wrap")?;
        assert_eq!(wrap.call(&mut store, -1)?, 0xffff_ffff, "{threshold:?}");
        let lp = instance.get_typed_func::<(i64, i32), i64>(&mut store, "loop")?;
        let x: i64 = -2; // low half 0xffff_fffe
        let per = 0xffff_fffe + 0xffff_fffe / 3;
        for _ in 0..3 {
            assert_eq!(lp.call(&mut store, (x, 10))?, 10 * per, "{threshold:?}");
        }
    }
    Ok(())
}
