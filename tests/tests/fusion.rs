//! Fused instructions keep the exact semantics of the sequences they replace: an address
//! `i32.add` of a constant folded into the load or store that uses it wraps like the add
//! did, and traps where the unfused pair traps.

use anyhow::Result;
use gloam::{Engine, Instance, Module, Store, Trap};

const WAT: &str = r#"(module
  (memory 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
  (func (export "load") (param i32) (result i32)
    (i32.load (i32.add (local.get 0) (i32.const 8))))
  (func (export "load8_s") (param i32) (result i64)
    (i64.load8_s (i32.add (local.get 0) (i32.const -1))))
  (func (export "store") (param i32 i32) (result i32)
    (i32.store16 (i32.add (local.get 0) (i32.const 4)) (local.get 1))
    (i32.load (i32.const 4)))
  ;; The value is computed (and the address local rewritten) after the add: the add
  ;; must still see the old local.
  (func (export "store_tee") (param i32) (result i32)
    (i32.store (i32.add (local.get 0) (i32.const 4))
               (local.tee 0 (i32.const 0x55667788)))
    (i32.load (i32.const 4))))"#;

fn setup() -> Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

#[test]
fn address_adds_are_fused_into_loads_and_stores() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let core = module.core();
    let text = |f: u32| -> Result<String> {
        let code = core.code(f).map_err(|e| anyhow::anyhow!(e))?;
        Ok(code
            .code
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n"))
    };
    assert!(text(0)?.contains("i32.load_add"), "{}", text(0)?);
    assert!(!text(0)?.contains("i32.add_imm"), "{}", text(0)?);
    assert!(text(1)?.contains("i64.load8_s_add"), "{}", text(1)?);
    assert!(text(2)?.contains("i32.store16_add"), "{}", text(2)?);
    // Not fused: the add is not the instruction right before the store.
    assert!(text(3)?.contains("i32.add_imm"), "{}", text(3)?);
    Ok(())
}

#[test]
fn fused_accesses_wrap_like_the_add() -> Result<()> {
    let (mut store, instance) = setup()?;
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
    assert_eq!(load.call(&mut store, 0)?, 0x0c0b0a09);
    // 0xfffffffc + 8 wraps to 4 in the add; the unfused pair reads memory[4..8].
    assert_eq!(load.call(&mut store, -4)?, 0x08070605);
    let load8 = instance.get_typed_func::<i32, i64>(&mut store, "load8_s")?;
    assert_eq!(load8.call(&mut store, 16)?, 0x10);
    // 0 + (-1) wraps to 0xffffffff: out of bounds.
    let err = load8.call(&mut store, 0).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    // In bounds only if the 4 bytes fit: 65530 + 8 = 65538 > 65536 - 4.
    let err = load.call(&mut store, 65526).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    assert_eq!(load.call(&mut store, 65524)?, 0);
    Ok(())
}

#[test]
fn fused_stores_write_where_the_add_points() -> Result<()> {
    let (mut store, instance) = setup()?;
    let st = instance.get_typed_func::<(i32, i32), i32>(&mut store, "store")?;
    // -4 + 4 wraps to 0: bytes 0..2 change, memory[4..8] is unchanged.
    assert_eq!(st.call(&mut store, (-4, 0x7777))?, 0x08070605);
    assert_eq!(st.call(&mut store, (0, 0x1234))?, 0x08071234);
    let err = st.call(&mut store, (65531, 1)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let tee = instance.get_typed_func::<i32, i32>(&mut store, "store_tee")?;
    assert_eq!(tee.call(&mut store, 0)?, 0x55667788);
    Ok(())
}

/// Values flowing into loop headers and block ends: the threaded dispatcher passes the
/// previous instruction's result in a register only along straight-line code, never into
/// an instruction that a branch also reaches.
#[test]
fn accumulator_is_not_used_across_joins() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (func (export "sum") (param i32) (result i32) (local i32)
            (local.set 1 (i32.mul (local.get 0) (i32.const 1000)))
            (loop $l
              (local.set 1 (i32.add (local.get 1) (local.get 0)))
              (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
              (br_if $l (local.get 0)))
            (local.get 1))
          (func (export "pick") (param i32 i32) (result i32)
            (i32.add
              (if (result i32) (local.get 0)
                (then (i32.mul (local.get 1) (i32.const 3)))
                (else (i32.sub (local.get 1) (i32.const 7))))
              (i32.const 100))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum")?;
    assert_eq!(sum.call(&mut store, 10)?, 10_000 + 55);
    let pick = instance.get_typed_func::<(i32, i32), i32>(&mut store, "pick")?;
    assert_eq!(pick.call(&mut store, (1, 5))?, 115);
    assert_eq!(pick.call(&mut store, (0, 5))?, 98);
    Ok(())
}

/// The variants that take an instruction's *second* operand from the previous result:
/// non-commutative integer and float operations, a compare-and-branch and a store whose
/// right-hand side (or stored value) was computed just before. A wrong operand order
/// shows in every result.
#[test]
fn accumulator_feeds_second_operands() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (memory 1)
          (func (export "isub") (param i32 i32) (result i32)
            (i32.sub (local.get 0) (i32.mul (local.get 1) (i32.const 3))))
          (func (export "ishr") (param i32 i32) (result i32)
            (i32.shr_u (local.get 0) (i32.add (local.get 1) (i32.const 1))))
          (func (export "idiv") (param i64 i64) (result i64)
            (i64.div_s (local.get 0) (i64.add (local.get 1) (i64.const 1))))
          (func (export "fsub") (param f64 f64) (result f64)
            (f64.sub (local.get 0) (f64.mul (local.get 1) (f64.const 2))))
          (func (export "fdiv") (param f32 f32) (result f32)
            (f32.div (local.get 0) (f32.add (local.get 1) (f32.const 1))))
          (func (export "below") (param i32 i32) (result i32)
            (block $yes
              (br_if $yes (i32.lt_s (local.get 0) (i32.add (local.get 1) (i32.const 1))))
              (return (i32.const 0)))
            (i32.const 1))
          (func (export "store") (param i32 i32) (result i32)
            (i32.store (local.get 0) (i32.sub (local.get 1) (i32.const 5)))
            (i32.load (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let isub = instance.get_typed_func::<(i32, i32), i32>(&mut store, "isub")?;
    assert_eq!(isub.call(&mut store, (100, 7))?, 79);
    let ishr = instance.get_typed_func::<(i32, i32), i32>(&mut store, "ishr")?;
    assert_eq!(ishr.call(&mut store, (1024, 2))?, 128);
    let idiv = instance.get_typed_func::<(i64, i64), i64>(&mut store, "idiv")?;
    assert_eq!(idiv.call(&mut store, (-100, 4))?, -20);
    let err = idiv.call(&mut store, (1, -1)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero)
    );
    let fsub = instance.get_typed_func::<(f64, f64), f64>(&mut store, "fsub")?;
    assert_eq!(fsub.call(&mut store, (10.0, 1.5))?, 7.0);
    let fdiv = instance.get_typed_func::<(f32, f32), f32>(&mut store, "fdiv")?;
    assert_eq!(fdiv.call(&mut store, (9.0, 2.0))?, 3.0);
    let below = instance.get_typed_func::<(i32, i32), i32>(&mut store, "below")?;
    assert_eq!(below.call(&mut store, (3, 3))?, 1);
    assert_eq!(below.call(&mut store, (4, 3))?, 0);
    let st = instance.get_typed_func::<(i32, i32), i32>(&mut store, "store")?;
    assert_eq!(st.call(&mut store, (64, 47))?, 42);
    Ok(())
}

/// An `i32.add`/`i32.add_imm` whose result the next compare-and-branch tests runs fused
/// with it in the threaded dispatcher: both halves must keep their semantics (the add
/// wraps and its result is stored; the branch is taken exactly when the compare holds).
#[test]
fn add_then_branch_runs_both_halves() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          ;; Counts up by `step` from `from` until the (wrapping) counter is no longer
          ;; below `limit` (unsigned); returns iterations * 1000 + final counter % 1000.
          (func (export "count") (param $from i32) (param $step i32) (param $limit i32)
                                 (result i32) (local $n i32)
            (loop $l
              (local.set $n (i32.add (local.get $n) (i32.const 1)))
              (br_if $l (i32.lt_u
                (local.tee $from (i32.add (local.get $from) (local.get $step)))
                (local.get $limit))))
            (i32.add (i32.mul (local.get $n) (i32.const 1000))
                     (i32.rem_u (local.get $from) (i32.const 1000))))
          ;; Steps down by 3 until the counter is 0 or less (signed, immediate compare).
          (func (export "down") (param $x i32) (result i32) (local $n i32)
            (loop $l
              (local.set $n (i32.add (local.get $n) (i32.const 1)))
              (br_if $l (i32.gt_s
                (local.tee $x (i32.add (local.get $x) (i32.const -3)))
                (i32.const 0))))
            (i32.add (i32.mul (local.get $n) (i32.const 100)) (local.get $x))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let count = instance.get_typed_func::<(i32, i32, i32), i32>(&mut store, "count")?;
    assert_eq!(count.call(&mut store, (0, 7, 50))?, 8 * 1000 + 56);
    assert_eq!(count.call(&mut store, (100, 1, 50))?, 1000 + 101);
    // The counter wraps past 2^32 to 2: below the limit, so the loop goes on once more.
    assert_eq!(count.call(&mut store, (-3, 5, 10))?, 3 * 1000 + 12);
    let down = instance.get_typed_func::<i32, i32>(&mut store, "down")?;
    assert_eq!(down.call(&mut store, 10)?, 4 * 100 - 2);
    assert_eq!(down.call(&mut store, 1)?, 100 - 2);
    Ok(())
}

/// An `i32.add`, `i32.add_imm` or `i32.shl_imm` computing a load's address runs fused
/// with the load in the threaded dispatcher: the address wraps like the instruction
/// that computed it, the offset is added without wrapping, and out-of-bounds accesses
/// trap.
#[test]
fn address_computations_fused_into_loads() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (memory 1)
          (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
          (func (export "scaled") (param i32) (result i32) (local i32)
            (local.set 1 (i32.load offset=4 (i32.shl (local.get 0) (i32.const 2))))
            (local.get 1))
          (func (export "indexed") (param i32 i32) (result i32) (local i32)
            (local.set 2 (i32.load8_u (i32.add (local.get 0) (local.get 1))))
            (local.get 2))
          (func (export "stepped") (param i32) (result i64) (local i32)
            (local.set 1 (i32.add (local.get 0) (i32.const 4)))
            (i64.load (local.get 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let scaled = instance.get_typed_func::<i32, i32>(&mut store, "scaled")?;
    assert_eq!(scaled.call(&mut store, 0)?, 2);
    assert_eq!(scaled.call(&mut store, 2)?, 4);
    // 0x4000_0000 << 2 wraps to 0: reads address 4.
    assert_eq!(scaled.call(&mut store, 0x4000_0000)?, 2);
    let err = scaled.call(&mut store, 16384).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let indexed = instance.get_typed_func::<(i32, i32), i32>(&mut store, "indexed")?;
    assert_eq!(indexed.call(&mut store, (4, 4))?, 3);
    assert_eq!(indexed.call(&mut store, (-4, 12))?, 3);
    let err = indexed.call(&mut store, (65535, 1)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let stepped = instance.get_typed_func::<i32, i64>(&mut store, "stepped")?;
    assert_eq!(stepped.call(&mut store, 0)?, 0x0000_0003_0000_0002);
    let err = stepped.call(&mut store, 65528).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    Ok(())
}
