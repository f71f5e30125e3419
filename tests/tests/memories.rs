//! Multiple memories and 64-bit memories and tables (Wasm 3.0): accesses reach the memory
//! they name, bounds checks on `i64` addresses cannot wrap, and the `i64` results of
//! `memory.grow`/`table.grow` report failure as -1.

use anyhow::Result;
use gloam::*;

fn engines() -> Vec<Engine> {
    [None, Some(0)]
        .into_iter()
        .map(|jit| {
            let mut config = Config::new();
            config.jit_threshold(jit);
            Engine::new(&config).unwrap()
        })
        .collect()
}

fn trap_of(err: &anyhow::Error) -> Option<Trap> {
    err.downcast_ref::<Trap>().copied()
}

const TWO_MEMORIES: &str = r#"(module
  (memory $a (export "a") 1)
  (memory $b (export "b") 1 3)
  (data (memory $b) (i32.const 16) "\2a\00\00\00")
  (func (export "load_a") (param i32) (result i32) (i32.load $a (local.get 0)))
  (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
  (func (export "store_b") (param i32 i32) (i32.store $b offset=4 (local.get 0) (local.get 1)))
  (func (export "load8_b") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
  ;; A load from each memory in one expression: the switch back to memory 0 is exact.
  (func (export "sum") (param i32) (result i32)
    (i32.add (i32.load $a (local.get 0))
             (i32.add (i32.load $b (local.get 0)) (i32.load $a (local.get 0)))))
  (func (export "copy_b_to_a") (param i32 i32 i32)
    (memory.copy $a $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill_b") (param i32 i32 i32)
    (memory.fill $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "size_b") (result i32) (memory.size $b))
  (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
  (func (export "v128_b") (param i32) (result i64)
    (i64x2.extract_lane 0 (v128.load $b (local.get 0))))
  (func (export "lane_b") (param i32) (result i32)
    (i32x4.extract_lane 1 (v128.load32_lane $b 1 (local.get 0) (v128.const i64x2 0 0)))))"#;

#[test]
fn accesses_reach_the_memory_they_name() -> Result<()> {
    for engine in engines() {
        let module = Module::new(&engine, TWO_MEMORIES)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let a = instance.get_memory(&mut store, "a").unwrap();
        let b = instance.get_memory(&mut store, "b").unwrap();
        let load_a = instance.get_typed_func::<i32, i32>(&mut store, "load_a")?;
        let load_b = instance.get_typed_func::<i32, i32>(&mut store, "load_b")?;
        // The data segment went to memory $b only.
        assert_eq!(load_b.call(&mut store, 16)?, 42);
        assert_eq!(load_a.call(&mut store, 16)?, 0);

        let store_b = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store_b")?;
        store_b.call(&mut store, (100, 0x0102_0304))?;
        assert_eq!(&b.data(&store)[104..108], &[4, 3, 2, 1]);
        assert!(a.data(&store).iter().all(|&x| x == 0));

        a.write(&mut store, 200, &7i32.to_le_bytes())?;
        b.write(&mut store, 200, &5i32.to_le_bytes())?;
        let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum")?;
        assert_eq!(sum.call(&mut store, 200)?, 19);

        let lane_b = instance.get_typed_func::<i32, i32>(&mut store, "lane_b")?;
        assert_eq!(lane_b.call(&mut store, 200)?, 5);
        let v128_b = instance.get_typed_func::<i32, i64>(&mut store, "v128_b")?;
        assert_eq!(v128_b.call(&mut store, 200)?, 5);

        let copy = instance.get_typed_func::<(i32, i32, i32), ()>(&mut store, "copy_b_to_a")?;
        copy.call(&mut store, (0, 100, 12))?;
        assert_eq!(&a.data(&store)[4..8], &[4, 3, 2, 1]);
        let fill = instance.get_typed_func::<(i32, i32, i32), ()>(&mut store, "fill_b")?;
        fill.call(&mut store, (1000, 0xab, 3))?;
        assert_eq!(&b.data(&store)[999..1004], &[0, 0xab, 0xab, 0xab, 0]);
        assert_eq!(a.data(&store)[1000], 0);
    }
    Ok(())
}

#[test]
fn size_grow_and_traps_are_per_memory() -> Result<()> {
    for engine in engines() {
        let module = Module::new(&engine, TWO_MEMORIES)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let size_b = instance.get_typed_func::<(), i32>(&mut store, "size_b")?;
        let grow_b = instance.get_typed_func::<i32, i32>(&mut store, "grow_b")?;
        let load_a = instance.get_typed_func::<i32, i32>(&mut store, "load_a")?;
        let load_b = instance.get_typed_func::<i32, i32>(&mut store, "load_b")?;
        let load8_b = instance.get_typed_func::<i32, i32>(&mut store, "load8_b")?;
        assert_eq!(grow_b.call(&mut store, 1)?, 1);
        assert_eq!(size_b.call(&mut store, ())?, 2);
        // Past $b's maximum of 3 pages.
        assert_eq!(grow_b.call(&mut store, 2)?, -1);
        assert_eq!(size_b.call(&mut store, ())?, 2);
        // $b has 2 pages now, $a still 1: the bounds are $b's.
        assert_eq!(load8_b.call(&mut store, 2 * 65536 - 1)?, 0);
        let err = load_b.call(&mut store, 2 * 65536 - 3).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
        let err = load_a.call(&mut store, 65536).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
        // After a trap in an access to $b, memory 0 is $a again.
        instance
            .get_memory(&mut store, "a")
            .unwrap()
            .write(&mut store, 8, &9i32.to_le_bytes())?;
        assert_eq!(load_a.call(&mut store, 8)?, 9);
        assert_eq!(load_a.call(&mut store, 65532)?, 0);
    }
    Ok(())
}

const MEMORY64: &str = r#"(module
  (memory $m (export "m") i64 1 2)
  (data (i64.const 8) "\01\02\03\04")
  (func (export "load") (param i64) (result i32) (i32.load (local.get 0)))
  (func (export "load_big_offset") (param i64) (result i32)
    (i32.load offset=0x100000000 (local.get 0)))
  (func (export "store8") (param i64 i32) (i32.store8 offset=1 (local.get 0) (local.get 1)))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i64 i64) (memory.copy (local.get 0) (local.get 1) (local.get 2))))"#;

#[test]
fn a_64_bit_memory_takes_i64_addresses_that_cannot_wrap() -> Result<()> {
    for engine in engines() {
        let module = Module::new(&engine, MEMORY64)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let m = instance.get_memory(&mut store, "m").unwrap();
        assert!(m.ty(&store).is_64());
        let load = instance.get_typed_func::<i64, i32>(&mut store, "load")?;
        assert_eq!(load.call(&mut store, 8)?, 0x0403_0201);
        assert_eq!(load.call(&mut store, 65532)?, 0);
        // Addresses whose low 32 bits are in bounds, and ones that overflow with the
        // offset, must trap rather than wrap.
        for addr in [65533, 1 << 32, (1 << 32) + 8, -1i64, i64::MIN] {
            let err = load.call(&mut store, addr).unwrap_err();
            assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds), "{addr:#x}");
        }
        let big = instance.get_typed_func::<i64, i32>(&mut store, "load_big_offset")?;
        for addr in [0, 8, -(1i64 << 32)] {
            let err = big.call(&mut store, addr).unwrap_err();
            assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds), "{addr:#x}");
        }
        let store8 = instance.get_typed_func::<(i64, i32), ()>(&mut store, "store8")?;
        store8.call(&mut store, (65534, 0x7f))?;
        assert_eq!(m.data(&store)[65535], 0x7f);
        let err = store8.call(&mut store, (-1, 1)).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));

        let size = instance.get_typed_func::<(), i64>(&mut store, "size")?;
        let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
        assert_eq!(grow.call(&mut store, 1)?, 1);
        assert_eq!(size.call(&mut store, ())?, 2);
        assert_eq!(grow.call(&mut store, 1)?, -1);
        assert_eq!(grow.call(&mut store, 1 << 40)?, -1);
        assert_eq!(load.call(&mut store, 2 * 65536 - 4)?, 0);

        let fill = instance.get_typed_func::<(i64, i32, i64), ()>(&mut store, "fill")?;
        fill.call(&mut store, (100, 0x11, 4))?;
        assert_eq!(load.call(&mut store, 100)?, 0x1111_1111);
        // A length that would wrap the address past 2^64.
        let err = fill.call(&mut store, (100, 0, -1)).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
        let copy = instance.get_typed_func::<(i64, i64, i64), ()>(&mut store, "copy")?;
        copy.call(&mut store, (200, 100, 4))?;
        assert_eq!(load.call(&mut store, 200)?, 0x1111_1111);
        let err = copy.call(&mut store, (1 << 32, 100, 4)).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
    }
    Ok(())
}

#[test]
fn a_64_bit_table_takes_i64_indices() -> Result<()> {
    let wat = r#"(module
      (type $t (func (result i32)))
      (table $t64 (export "t") i64 2 10 funcref)
      (elem (table $t64) (i64.const 1) func $seven)
      (func $seven (result i32) (i32.const 7))
      (func (export "call") (param i64) (result i32) (call_indirect $t64 (type $t) (local.get 0)))
      (func (export "size") (result i64) (table.size $t64))
      (func (export "grow") (param i64) (result i64) (table.grow $t64 (ref.null func) (local.get 0)))
      (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get $t64 (local.get 0)))))"#;
    for engine in engines() {
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let call = instance.get_typed_func::<i64, i32>(&mut store, "call")?;
        assert_eq!(call.call(&mut store, 1)?, 7);
        let err = call.call(&mut store, 0).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::IndirectCallToNull));
        // An index whose low 32 bits name element 1.
        for index in [(1i64 << 32) + 1, -1, 2] {
            let err = call.call(&mut store, index).unwrap_err();
            assert_eq!(trap_of(&err), Some(Trap::TableOutOfBounds), "{index:#x}");
        }
        let is_null = instance.get_typed_func::<i64, i32>(&mut store, "is_null")?;
        assert_eq!(is_null.call(&mut store, 1)?, 0);
        let err = is_null.call(&mut store, (1i64 << 32) + 1).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::TableOutOfBounds));
        let size = instance.get_typed_func::<(), i64>(&mut store, "size")?;
        let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
        assert_eq!(grow.call(&mut store, 3)?, 2);
        assert_eq!(size.call(&mut store, ())?, 5);
        assert_eq!(grow.call(&mut store, 6)?, -1);
        assert_eq!(grow.call(&mut store, 1 << 33)?, -1);
    }
    Ok(())
}

#[test]
fn imports_must_match_the_index_type() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mem32 = Memory::new(&mut store, MemoryType::new(1, None))?;
    let mem64 = Memory::new(&mut store, MemoryType::new64(1, None))?;
    let wants64 = Module::new(&engine, r#"(module (import "" "m" (memory i64 1)))"#)?;
    let wants32 = Module::new(&engine, r#"(module (import "" "m" (memory 1)))"#)?;
    assert!(Instance::new(&mut store, &wants64, &[mem32.into()]).is_err());
    assert!(Instance::new(&mut store, &wants32, &[mem64.into()]).is_err());
    Instance::new(&mut store, &wants64, &[mem64.into()])?;
    Instance::new(&mut store, &wants32, &[mem32.into()])?;
    // A 64-bit memory larger than the 4 GiB gloam supports fails cleanly.
    let huge = Module::new(&engine, r#"(module (memory i64 0x10001))"#)?;
    assert!(Instance::new(&mut store, &huge, &[]).is_err());
    Ok(())
}

#[test]
fn the_switches_turn_the_proposals_off() -> Result<()> {
    let mut config = Config::new();
    config.wasm_multi_memory(false).wasm_memory64(false);
    let engine = Engine::new(&config)?;
    assert!(Module::new(&engine, "(module (memory 1) (memory 1))").is_err());
    assert!(Module::new(&engine, "(module (memory i64 1))").is_err());
    let engine = Engine::default();
    Module::new(&engine, "(module (memory 1) (memory 1))")?;
    Module::new(&engine, "(module (memory i64 1))")?;
    Ok(())
}

#[test]
fn functions_on_other_memories_stay_interpreted_under_the_jit() -> Result<()> {
    let mut config = Config::new();
    config.jit_threshold(Some(0));
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, TWO_MEMORIES)?;
    if Config::jit_available() {
        // Function 0 (`load_a`) uses memory 0 only; function 1 (`load_b`) uses $b.
        let outcomes = module.jit_compile_all()?;
        let result = |i: u32| &outcomes.iter().find(|o| o.func_index == i).unwrap().result;
        assert!(result(0).is_ok(), "{:?}", result(0));
        let why = result(1).as_ref().unwrap_err();
        assert!(why.contains("use_mem"), "{why}");
    }
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let load_b = instance.get_typed_func::<i32, i32>(&mut store, "load_b")?;
    assert_eq!(load_b.call(&mut store, 16)?, 42);
    Ok(())
}
