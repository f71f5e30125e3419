//! Wasm memory and v128 lanes are little-endian on every host. On a big-endian host
//! (s390x, powerpc64 in `.ci/cross`) these fail if memory or lanes were read in host
//! order: each checks bytes written one way and read back another.

use gloam::*;

#[test]
fn memory_and_lanes_are_little_endian() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "mem") 1)
            (func (export "store32") (i32.store (i32.const 0) (i32.const 0x11223344)))
            (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "store64") (i64.store (i32.const 0) (i64.const 0x0102030405060708)))
            (func (export "load16") (result i32) (i32.load16_u (i32.const 1)))
            (func (export "f32bits") (result i32)
              (f32.store (i32.const 16) (f32.const 1.0))
              (i32.load (i32.const 16)))
            (func (export "lane") (param i32) (result i32)
              ;; i32x4 lanes of the bytes 0..16 just written by store32/store64
              (v128.store (i32.const 32) (i32x4.splat (i32.const 0x0a0b0c0d)))
              (i32.add
                (i8x16.extract_lane_u 0 (v128.load (i32.const 32)))
                (i32.shl (i16x8.extract_lane_u 7 (v128.load (i32.const 32))) (i32.const 8)))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let byte = instance.get_typed_func::<i32, i32>(&mut store, "byte")?;
    instance
        .get_typed_func::<(), ()>(&mut store, "store32")?
        .call(&mut store, ())?;
    let bytes: Vec<i32> = (0..4).map(|i| byte.call(&mut store, i).unwrap()).collect();
    assert_eq!(
        bytes,
        [0x44, 0x33, 0x22, 0x11],
        "i32.store writes the low byte first"
    );
    let mem = instance.get_memory(&mut store, "mem").unwrap();
    assert_eq!(
        &mem.data(&store)[..4],
        &[0x44, 0x33, 0x22, 0x11],
        "the host sees the same bytes"
    );

    instance
        .get_typed_func::<(), ()>(&mut store, "store64")?
        .call(&mut store, ())?;
    assert_eq!(&mem.data(&store)[..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
    let load16 = instance.get_typed_func::<(), i32>(&mut store, "load16")?;
    assert_eq!(
        load16.call(&mut store, ())?,
        0x0607,
        "i32.load16_u reads bytes 1..3 low first"
    );
    let f32bits = instance.get_typed_func::<(), i32>(&mut store, "f32bits")?;
    assert_eq!(f32bits.call(&mut store, ())?, 0x3f80_0000);
    assert_eq!(&mem.data(&store)[16..20], &[0, 0, 0x80, 0x3f]);

    // Lane 0 of i8x16 is byte 0 (0x0d); lane 7 of i16x8 is bytes 14..16 (0x0a0b).
    let lane = instance.get_typed_func::<i32, i32>(&mut store, "lane")?;
    assert_eq!(lane.call(&mut store, 0)?, 0x0d + (0x0a0b << 8));
    assert_eq!(&mem.data(&store)[32..36], &[0x0d, 0x0c, 0x0b, 0x0a]);

    // The host writes, wasm reads.
    mem.write(&mut store, 100, &[0x78, 0x56, 0x34, 0x12])?;
    let module2 = Module::new(
        &engine,
        r#"(module (import "" "m" (memory 1))
            (func (export "get") (result i32) (i32.load (i32.const 100))))"#,
    )?;
    let inst2 = Instance::new(&mut store, &module2, &[mem.into()])?;
    let get = inst2.get_typed_func::<(), i32>(&mut store, "get")?;
    assert_eq!(get.call(&mut store, ())?, 0x1234_5678);
    Ok(())
}
